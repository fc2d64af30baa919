//! `update(model, msg) -> effects`: the console's behaviour, as a plain function. It routes:
//! a key goes to the open overlay (help, confirm, outcome), else to the text being typed (PIN,
//! filter), else to the global keys (panes, refresh, help, quit), else to the focused pane's
//! own `on_key`; loaded data goes to its pane; an action's outcome to `pipeline`.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_input::backend::crossterm::EventHandler;
use tui_input::{Input, InputRequest};

use crate::app::keymap::{self, Command};
use crate::app::model::{InFlight, Model, Overlay, Pane};
use crate::app::msg::{ActionOutcome, ActionResult, Effect, LocalEvent, Msg, ReadStamp, Scope};
use crate::app::solutions::Detail;
use crate::app::wabas::Change;
use crate::app::{credit_lines, events, pipeline, solutions, wabas};
use crate::domain::solution::SolutionState;
use crate::graph::credit_model::CreditLineData;
use crate::graph::waba_model::Pin;
use crate::webhooks::EventKind;
use std::collections::HashMap;

/// What Ctrl-r says until the refresh it asked for has an answer.
const REFRESH_NOTICES: [&str; 3] = [
    "Refreshing…",
    "Meta is throttling these calls: they stay on hold until the time Meta gave, then refresh by themselves.",
    "Trying once more with the same token…",
];

pub fn update(model: &mut Model, msg: Msg) -> Vec<Effect> {
    // The model's key map is the active one while it runs, so `keymap::key_label` in any
    // notice names the key the user actually has.
    let keys = model.keymap.clone();
    let effects = keymap::with_active(&keys, || route(model, msg));
    // The credit join follows what changed the WABAs or our lines (a page has told it
    // already, WABA by WABA): the draw and the keys only read it.
    model.credit.sync(&model.wabas);
    effects
}

fn route(model: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => {
            let effects = on_key(model, key);
            model.follow_viewport();
            effects
        }
        Msg::Resize { list_rows, .. } => {
            model.page_rows = list_rows.max(1) as usize;
            model.follow_viewport();
            vec![]
        }
        Msg::RefreshStarted { scope, at } => {
            let r = model.refresh.of_mut(scope);
            r.in_flight = true;
            r.since = Some(at);
            r.held_until = None;
            vec![]
        }
        Msg::ScopeHeld { scope, until } => {
            model.refresh.of_mut(scope).held_until = Some(until);
            vec![]
        }
        Msg::UsageReported(u) => {
            model.usage = Some(u);
            vec![]
        }
        Msg::PartnerKindDecided(result) => {
            match result {
                Ok(kind) => model.set_partner_kind(Some(kind)),
                Err(why) => {
                    model.notice = Some(format!(
                        "The partner kind could not be told ({why}); checking as a Solution Partner. Set --partner-kind to choose."
                    ))
                }
            }
            vec![]
        }
        Msg::RegistrationsLoaded(records) => {
            model.bsp_records = records;
            vec![]
        }
        Msg::Notice(text) => {
            let effect = Effect::RecordEvent(LocalEvent {
                kind: EventKind::Notice,
                object_id: None,
                scopes: vec![],
                summary: text.clone(),
                raw: serde_json::json!({ "notice": text }),
            });
            model.notice = Some(text);
            vec![effect]
        }
        Msg::EventsHistory {
            events,
            last_seen,
            feed,
        } => {
            let pane = &mut model.events;
            pane.loaded = true;
            pane.feed = feed;
            pane.seen_seq = pane.seen_seq.max(last_seen);
            pane.new_since = pane.seen_seq;
            pane.add(events);
            let unseen = pane.unseen();
            if model.pane == Pane::Events {
                model.events.mark_seen();
            }
            if unseen > 0 && model.notice.is_none() {
                model.notice = Some(format!(
                    "{unseen} event{} arrived since the console was last open: see 4 Events.",
                    if unseen == 1 { "" } else { "s" }
                ));
            }
            vec![]
        }
        Msg::ActionSending { id, at } => {
            if let Some(f) = model
                .in_flight
                .as_mut()
                .filter(|f| f.target.object_id() == id)
            {
                f.since = Some(at);
            }
            vec![]
        }
        Msg::EventsArrived(events) => {
            // Webhooks are hints: refresh what they concern; polling stays the truth.
            let mut scopes: Vec<Scope> = vec![];
            for e in events.iter().filter(|e| e.event.kind == EventKind::Webhook) {
                for s in &e.event.scopes {
                    let s = Scope::of_event(*s);
                    if !scopes.contains(&s) {
                        scopes.push(s);
                    }
                }
            }
            model.events.add(events);
            if model.pane == Pane::Events {
                model.events.mark_seen();
            }
            model.follow_viewport();
            if scopes.is_empty() {
                vec![]
            } else {
                vec![Effect::RefreshScopes(scopes)]
            }
        }
        Msg::ActionAnswerLost { id } => {
            if let Some(f) = model
                .in_flight
                .as_mut()
                .filter(|f| f.target.object_id() == id)
            {
                f.answer_lost = true;
                model.notice = Some(format!(
                    "Outcome unknown — re-reading '{}' to see what happened (it is not sent again).",
                    f.target.name()
                ));
            }
            vec![]
        }
        Msg::SolutionsLoaded {
            at,
            started,
            result,
        } => {
            // Ctrl-r's "Refreshing…" has had its answer: let the result (or its reason) show.
            if model
                .notice
                .as_deref()
                .is_some_and(|n| REFRESH_NOTICES.contains(&n))
            {
                model.notice = None;
            }
            let refresh = &mut model.refresh.solutions;
            refresh.in_flight = false;
            match result {
                Ok(items) => {
                    refresh.last_success = Some(at);
                    refresh.last_error = None;
                    let before: Option<HashMap<String, SolutionState>> =
                        model.solutions.loaded.then(|| {
                            model
                                .solutions
                                .items
                                .iter()
                                .map(|s| (s.id().to_string(), s.state))
                                .collect()
                        });
                    model.solutions.set_items(items, started);
                    if let Some(before) = before {
                        return observed_solutions(model, &before);
                    }
                }
                // Keep the last good data; the status bar marks it stale with the reason.
                Err(failure) => refresh.last_error = Some((at, failure)),
            }
            vec![]
        }
        Msg::WabasLoaded {
            at,
            started,
            result,
        } => {
            let refresh = &mut model.refresh.wabas;
            refresh.in_flight = false;
            match result {
                Ok(list) => {
                    refresh.last_success = Some(at);
                    refresh.last_error = None;
                    let before = model.wabas.changes.clone();
                    model.wabas.set_items(list, started);
                    return observed_wabas(model, &before);
                }
                Err(failure) => {
                    refresh.last_error = Some((at, failure));
                    // The round's list stopped part way: what its pages brought stays.
                    if model.wabas.loading.is_some_and(|l| l.started <= started) {
                        model.wabas.loading = None;
                    }
                }
            }
            vec![]
        }
        Msg::WabasPage { started, page } => {
            let before = model.wabas.changes.clone();
            let arriving = model.credit.wabas_arriving(&model.wabas, &page.wabas);
            model.wabas.apply_page(page, started);
            model.credit.wabas_arrived(&model.wabas, arriving);
            if model.wabas.changes == before {
                return vec![];
            }
            observed_wabas(model, &before)
        }
        Msg::WabaRoundCost(cost) => {
            model.wabas.cost = Some(cost);
            vec![]
        }
        Msg::CreditLinesLoaded {
            at,
            started,
            result,
        } => {
            let refresh = &mut model.refresh.credit_lines;
            refresh.in_flight = false;
            match result {
                Ok(lines) => {
                    refresh.last_success = Some(at);
                    refresh.last_error = None;
                    credit_lines_read(model, lines, started);
                }
                Err(failure) => refresh.last_error = Some((at, failure)),
            }
            vec![]
        }
        Msg::CreditAllocationsUnchanged { at, started, lines } => {
            let refresh = &mut model.refresh.credit_lines;
            refresh.in_flight = false;
            refresh.last_success = Some(at);
            refresh.last_error = None;
            let before = model.credit.lines_version();
            model.credit.set_lines_keeping_allocations(lines, started);
            credit_lines_changed(model, before);
            vec![]
        }
        Msg::DetailLoaded {
            id,
            started,
            result,
        } => {
            match result {
                Ok(node) => model.solutions.apply_node(node, started),
                Err(failure) => {
                    model.solutions.details.insert(id, Detail::Failed(failure));
                }
            }
            vec![]
        }
        Msg::ActionFinished(outcome) => {
            let record = action_event(model, &outcome);
            let mut effects = pipeline::on_action_finished(model, outcome);
            effects.push(record);
            effects
        }
        Msg::Shutdown => quit(model),
    }
}

/// What an action came to, as an event.
fn action_event(model: &Model, o: &ActionOutcome) -> Effect {
    let summary = pipeline::outcome_summary(o, &model.our_app_id);
    Effect::RecordEvent(LocalEvent {
        kind: EventKind::Action,
        object_id: Some(o.target.object_id().to_string()),
        scopes: vec![],
        raw: serde_json::json!({
            "action": o.target.action_label(),
            "object_id": o.target.object_id(),
            "name": o.target.name(),
            "call": model.call_text(&o.target),
            "outcome": summary,
        }),
        summary,
    })
}

/// Solutions that changed state, or appeared, since the list before.
fn observed_solutions(model: &Model, before: &HashMap<String, SolutionState>) -> Vec<Effect> {
    model
        .solutions
        .items
        .iter()
        .filter_map(|s| {
            let (summary, was) = match before.get(s.id()) {
                Some(was) if *was == s.state => return None,
                Some(was) => (
                    format!(
                        "Solution '{}' ({}) is now {} (was {}).",
                        s.name(),
                        s.id(),
                        s.state.label(),
                        was.label()
                    ),
                    Some(was.label()),
                ),
                None => (
                    format!(
                        "New solution '{}' ({}), {}.",
                        s.name(),
                        s.id(),
                        s.state.label()
                    ),
                    None,
                ),
            };
            Some(Effect::RecordEvent(LocalEvent {
                kind: EventKind::Observed,
                object_id: Some(s.id().to_string()),
                scopes: vec![Scope::Solutions],
                summary,
                raw: serde_json::json!({
                    "solution_id": s.id(),
                    "name": s.name(),
                    "state": s.state.label(),
                    "was": was,
                    "status": s.node.status,
                    "status_for_pending_request": s.node.status_for_pending_request,
                }),
            }))
        })
        .collect()
}

/// WABAs the pane newly marks (new since the first refresh, health worse).
fn observed_wabas(model: &Model, before: &HashMap<String, Change>) -> Vec<Effect> {
    let mut marks: Vec<(&String, &Change)> = model
        .wabas
        .changes
        .iter()
        .filter(|(id, c)| before.get(*id) != Some(*c))
        .collect();
    marks.sort_by(|a, b| a.0.cmp(b.0));
    marks
        .into_iter()
        .filter_map(|(id, change)| {
            let row = model.wabas.row(id)?;
            let name = row.waba.name();
            let (summary, raw) = match change {
                Change::New => (
                    format!("New client WABA '{name}' ({id})."),
                    serde_json::json!({ "waba_id": id, "name": name, "change": "new",
                        "health": row.health.label() }),
                ),
                Change::HealthWorse { was } => (
                    format!(
                        "WABA '{name}' ({id}) health is now {} (was {}).",
                        row.health.label(),
                        was.label()
                    ),
                    serde_json::json!({ "waba_id": id, "name": name, "change": "health_worse",
                        "health": row.health.label(), "was": was.label() }),
                ),
            };
            Some(Effect::RecordEvent(LocalEvent {
                kind: EventKind::Observed,
                object_id: Some(id.clone()),
                scopes: vec![Scope::Wabas],
                summary,
                raw,
            }))
        })
        .collect()
}

/// A quit key: quits, unless an action is on its way and this is the first press.
fn ask_to_quit(model: &mut Model, key: &KeyEvent) -> Vec<Effect> {
    if model.in_flight.is_some() && !model.quit_armed {
        model.quit_armed = true;
        model.notice = Some(format!(
            "An action is still being sent and verified: press {} again to quit anyway.",
            key_name(key)
        ));
        return vec![];
    }
    quit(model)
}

fn quit(model: &mut Model) -> Vec<Effect> {
    model.quitting = true;
    vec![Effect::Quit]
}

fn on_key(model: &mut Model, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return vec![];
    }
    // Ctrl-c quits from anywhere, a dialog or a field being typed included; no `[keys]`
    // table can take it away.
    if keymap::is_hard_quit(&key) {
        return ask_to_quit(model, &key);
    }
    // The PIN field takes every key while it is open: digits would otherwise switch panes.
    if matches!(&model.overlay, Some(Overlay::Confirm(c)) if c.pin.is_some() && !c.sending) {
        return on_pin_key(model, key);
    }
    if model.solutions.filter_editing {
        let pane = &mut model.solutions;
        let keep = pane.selected_id();
        edit_filter(&mut pane.filter, &mut pane.filter_editing, key);
        pane.select_id(keep.as_deref());
        return vec![];
    }
    if model.wabas.filter_editing {
        let pane = &mut model.wabas;
        let keep = pane.selected_id();
        edit_filter(&mut pane.filter, &mut pane.filter_editing, key);
        pane.select_id(keep.as_deref());
        return vec![];
    }
    if model.events.filter_editing {
        let pane = &mut model.events;
        let keep = pane.selected_id();
        edit_filter(&mut pane.filter, &mut pane.filter_editing, key);
        pane.select_id(keep.as_deref());
        return vec![];
    }
    if model.credit.filter_editing {
        // The selection follows its row by key, so it survives the narrowing.
        let pane = &mut model.credit;
        edit_filter(&mut pane.filter, &mut pane.filter_editing, key);
        return vec![];
    }
    let Some(mut cmd) = model.keymap.command_for(&key) else {
        return vec![];
    };
    // `q` in a detail view closes the detail, as Esc does; from a list it quits. (Ctrl-c
    // always quits, above.)
    if cmd == Command::Quit && model.overlay.is_none() && model.detail_open() {
        cmd = Command::Close;
    }
    if cmd != Command::Quit {
        model.quit_armed = false;
    }
    if let Some(overlay) = model.overlay.clone() {
        return on_overlay_key(model, overlay, cmd);
    }
    // A `y` with nothing to confirm is often the second press of a confirm whose result
    // just came in as a message: it keeps that message on screen.
    if cmd != Command::Confirm {
        model.notice = None;
    }
    match cmd {
        Command::Quit => ask_to_quit(model, &key),
        Command::Copy => copy_selected_id(model),
        Command::Help => {
            model.overlay = Some(Overlay::Help);
            vec![]
        }
        Command::Refresh => {
            // Wakes every poller; a throttled one keeps holding (it makes no call early).
            let notice = if model.pane_refresh().held_until.is_some() {
                REFRESH_NOTICES[1]
            } else if model.refresh.auth_failure().is_some() {
                REFRESH_NOTICES[2]
            } else {
                REFRESH_NOTICES[0]
            };
            model.notice = Some(notice.into());
            vec![Effect::Refresh]
        }
        Command::NextPane => switch_pane(model, model.pane.next()),
        Command::PrevPane => switch_pane(model, model.pane.prev()),
        Command::Solutions => switch_pane(model, Pane::Solutions),
        Command::Wabas => switch_pane(model, Pane::Wabas),
        Command::CreditLines => switch_pane(model, Pane::CreditLines),
        Command::Events => switch_pane(model, Pane::Events),
        // A key of another pane says where it works, instead of doing nothing.
        _ if cmd.pane().is_some_and(|p| p != model.pane) => {
            let other = cmd.pane().map_or("", Pane::title);
            model.notice = Some(format!(
                "{} works in the {other} pane (press {} to go there): {}.",
                key_name(&key),
                other_pane_key(cmd),
                cmd.help()
            ));
            vec![]
        }
        _ => match model.pane {
            Pane::Solutions => solutions::on_key(model, cmd),
            Pane::Wabas => wabas::on_key(model, cmd),
            Pane::CreditLines => credit_lines::on_key(model, cmd),
            Pane::Events => events::on_key(model, cmd),
        },
    }
}

/// A key while a filter is being typed: Enter keeps it, Esc clears it, the rest edits it.
fn edit_filter(input: &mut Input, editing: &mut bool, key: KeyEvent) {
    match key.code {
        KeyCode::Enter => *editing = false,
        KeyCode::Esc => {
            *editing = false;
            input.reset();
        }
        _ => {
            input.handle_event(&Event::Key(key));
        }
    }
}

/// A key in the register dialog: digits (at most six) and Backspace edit the PIN; Enter or
/// `y` (the confirm keys) send it once it has six digits; Esc or `n` (the close keys) cancel,
/// Ctrl-c quits. The PIN moves into the effect and leaves the model.
fn on_pin_key(model: &mut Model, key: KeyEvent) -> Vec<Effect> {
    // Enter and Esc always send and cancel; so do the confirm and close keys of the map
    // (which cannot be digits or Backspace: those are typed).
    let cancel = key.code == KeyCode::Esc || model.keymap.is_key_of(&key, Command::Close);
    let send = key.code == KeyCode::Enter || model.keymap.is_key_of(&key, Command::Confirm);
    let Some(Overlay::Confirm(c)) = &mut model.overlay else {
        return vec![];
    };
    let Some(field) = &mut c.pin else {
        return vec![];
    };
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        _ if cancel => model.overlay = None,
        KeyCode::Backspace => {
            field.input.handle(InputRequest::DeletePrevChar);
        }
        KeyCode::Char(d) if d.is_ascii_digit() && !ctrl && field.input.value().len() < Pin::LEN => {
            field.input.handle(InputRequest::InsertChar(d));
        }
        _ if send => match Pin::parse(field.input.value()) {
            Some(pin) => {
                c.pin = None;
                c.sending = true;
                model.in_flight = Some(InFlight::new(c.target.clone()));
                return vec![Effect::Perform {
                    target: c.target.clone(),
                    pin: Some(pin),
                }];
            }
            None => {
                model.notice = Some("Type the number's 6-digit PIN, then Enter.".into());
            }
        },
        _ => {}
    }
    vec![]
}

/// The key as the help writes it.
fn key_name(key: &KeyEvent) -> String {
    crate::app::keymap::key_name(key.code, key.modifiers - KeyModifiers::SHIFT)
}

/// The key that jumps to the pane a command belongs to.
fn other_pane_key(cmd: Command) -> String {
    let jump = match cmd.pane() {
        Some(Pane::Solutions) | None => Command::Solutions,
        Some(Pane::Wabas) => Command::Wabas,
        Some(Pane::CreditLines) => Command::CreditLines,
        Some(Pane::Events) => Command::Events,
    };
    keymap::key_label(jump)
}

/// `c`: the id of what is selected (a number in an open WABA detail), to the clipboard.
fn copy_selected_id(model: &mut Model) -> Vec<Effect> {
    let Some((what, id)) = model.selected_object_id() else {
        model.notice = Some("Nothing is selected to copy.".into());
        return vec![];
    };
    model.notice = Some(format!(
        "Copied {what} {id} to the clipboard (OSC 52; the terminal must allow it)."
    ));
    vec![Effect::Copy { text: id }]
}

/// `c` in a result dialog: Meta's trace id of the call, for support.
fn copy_trace_id(model: &mut Model, o: &ActionOutcome) -> Vec<Effect> {
    let trace = match &o.result {
        ActionResult::Failed { failure, .. }
        | ActionResult::Unverified { failure }
        | ActionResult::OutcomeUnknown { failure, .. } => failure.fbtrace_id.clone(),
        _ => None,
    };
    match trace {
        Some(t) => {
            model.notice = Some(format!(
                "Copied fbtrace_id {t} to the clipboard (OSC 52; the terminal must allow it)."
            ));
            vec![Effect::Copy { text: t }]
        }
        None => {
            model.notice = Some(
                "Meta gave no fbtrace_id for this call (the audit log has what it gave).".into(),
            );
            vec![]
        }
    }
}

fn switch_pane(model: &mut Model, pane: Pane) -> Vec<Effect> {
    model.pane = pane;
    if pane == Pane::Events {
        model.events.open();
    }
    vec![]
}

fn on_overlay_key(model: &mut Model, overlay: Overlay, cmd: Command) -> Vec<Effect> {
    match overlay {
        Overlay::Help => {
            if matches!(
                cmd,
                Command::Close | Command::Help | Command::Quit | Command::Open
            ) {
                model.overlay = None;
            }
            vec![]
        }
        // Not `y`: a second `y` pressed while sending must not close the result unseen.
        Overlay::Outcome(o) => {
            if cmd == Command::Copy {
                return copy_trace_id(model, &o);
            }
            if matches!(cmd, Command::Close | Command::Open | Command::Quit) {
                model.overlay = None;
            }
            vec![]
        }
        Overlay::Confirm(mut confirm) => match cmd {
            // Sent once: further presses while it is on its way do nothing.
            Command::Confirm if confirm.sending => vec![],
            _ if !confirm.sending
                && credit_lines::change_share_choice(model, &mut confirm, cmd) =>
            {
                model.overlay = Some(Overlay::Confirm(confirm));
                vec![]
            }
            Command::Confirm => {
                confirm.sending = true;
                model.in_flight = Some(InFlight::new(confirm.target.clone()));
                let effect = Effect::Perform {
                    target: confirm.target.clone(),
                    pin: None,
                };
                model.overlay = Some(Overlay::Confirm(confirm));
                vec![effect]
            }
            // Cancel before sending; after sending, Esc only hides the dialog: the result
            // still comes back as its own dialog.
            Command::Close | Command::Quit => {
                model.overlay = None;
                if confirm.sending {
                    model.notice = Some(format!(
                        "'{}' is still being sent; the result will show when it is verified.",
                        confirm.target.name()
                    ));
                }
                vec![]
            }
            _ => vec![],
        },
    }
}

pub use crate::app::pipeline::outcome_summary;

/// Our credit lines as a refresh read them: the WABAs checklist compares with our
/// allocations' credentials when they changed.
fn credit_lines_read(model: &mut Model, lines: Vec<CreditLineData>, started: ReadStamp) {
    let before = model.credit.lines_version();
    model.credit.set_lines(lines, started);
    credit_lines_changed(model, before);
}

/// The WABAs checklist compares with our allocations' credentials: taken again when the
/// lines changed since `before` (or the checklist has none yet).
fn credit_lines_changed(model: &mut Model, before: u64) {
    if model.credit.lines_version() != before || !model.wabas.knows_credentials() {
        model.wabas.set_credentials(model.credit.credentials());
    }
}
