//! `update(model, msg) -> effects`: the console's behaviour, as a plain function.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_input::backend::crossterm::EventHandler;
use tui_input::{Input, InputRequest};

use crate::app::credit_lines::CreditRow;
use crate::app::keymap::{Command, command_for};
use crate::app::model::{Confirm, InFlight, Model, Overlay, Pane, PinField, ShareChoice};
use crate::app::msg::{
    ActionOutcome, ActionResult, Effect, FailureKind, FundingState, Msg, ObservedState, Reread,
    Target,
};
use crate::app::solutions::Detail;
use crate::domain::funding::NotFunded;
use crate::domain::solution::{Solution, SolutionIntent, action_for};
use crate::graph::credit_model::{WABA_CURRENCIES, default_currency};
use crate::graph::model::Role;
use crate::graph::waba_model::Pin;

/// What Ctrl-r says until the refresh it asked for has an answer.
const REFRESH_NOTICES: [&str; 3] = [
    "Refreshing…",
    "Meta is throttling these calls: they stay on hold until the time Meta gave, then refresh by themselves.",
    "Trying once more with the same token…",
];

pub fn update(model: &mut Model, msg: Msg) -> Vec<Effect> {
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
        Msg::RefreshStarted { scope } => {
            let r = model.refresh.of_mut(scope);
            r.in_flight = true;
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
        Msg::Notice(text) => {
            model.notice = Some(text);
            vec![]
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
                    model.solutions.set_items(items, started);
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
                    model.wabas.set_items(list, started);
                }
                Err(failure) => refresh.last_error = Some((at, failure)),
            }
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
                    model.credit.set_lines(lines, started);
                    // The WABAs checklist now compares with our allocations' credentials.
                    model.wabas.set_credentials(model.credit.credentials());
                }
                Err(failure) => refresh.last_error = Some((at, failure)),
            }
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
        Msg::ActionFinished(outcome) => on_action_finished(model, outcome),
        Msg::Shutdown => quit(model),
    }
}

fn quit(model: &mut Model) -> Vec<Effect> {
    model.quitting = true;
    vec![Effect::Quit]
}

fn on_key(model: &mut Model, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return vec![];
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
    if model.credit.filter_editing {
        // The selection follows its row by key, so it survives the narrowing.
        let pane = &mut model.credit;
        edit_filter(&mut pane.filter, &mut pane.filter_editing, key);
        return vec![];
    }
    let Some(cmd) = command_for(&key) else {
        return vec![];
    };
    if cmd != Command::Quit {
        model.quit_armed = false;
    }
    if let Some(overlay) = model.overlay.clone() {
        return on_overlay_key(model, overlay, cmd);
    }
    model.notice = None;
    match cmd {
        Command::Quit => {
            if model.in_flight.is_some() && !model.quit_armed {
                model.quit_armed = true;
                model.notice = Some(
                    "An action is still being sent and verified: press q again to quit anyway."
                        .into(),
                );
                return vec![];
            }
            quit(model)
        }
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
        _ => match model.pane {
            Pane::Solutions => on_solutions_key(model, cmd),
            Pane::Wabas => on_wabas_key(model, cmd),
            Pane::CreditLines => on_credit_key(model, cmd),
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

fn on_solutions_key(model: &mut Model, cmd: Command) -> Vec<Effect> {
    match cmd {
        Command::Close => {
            let pane = &mut model.solutions;
            if pane.detail_open {
                pane.detail_open = false;
            } else if !pane.filter.value().is_empty() {
                let keep = pane.selected_id();
                pane.filter.reset();
                pane.select_id(keep.as_deref());
            }
            vec![]
        }
        Command::Down => move_selection(model, 1),
        Command::Up => move_selection(model, -1),
        Command::PageDown => move_selection(model, model.page_rows as isize),
        Command::PageUp => move_selection(model, -(model.page_rows as isize)),
        Command::Top => {
            model.solutions.selected = 0;
            follow_detail(model)
        }
        Command::Bottom => {
            model.solutions.move_to_end();
            follow_detail(model)
        }
        Command::NextLane | Command::PrevLane => {
            let pane = &mut model.solutions;
            pane.lane = if cmd == Command::NextLane {
                pane.lane.next()
            } else {
                pane.lane.prev()
            };
            pane.selected = 0;
            follow_detail(model)
        }
        Command::Filter => {
            model.solutions.filter_editing = true;
            vec![]
        }
        Command::Open => {
            if model.solutions.selected_solution().is_none() {
                return vec![];
            }
            model.solutions.detail_open = true;
            follow_detail(model)
        }
        Command::Accept => start_action(model, SolutionIntent::Accept),
        Command::Reject => start_action(model, SolutionIntent::Reject),
        Command::Deactivate => start_action(model, SolutionIntent::Deactivate),
        _ => vec![],
    }
}

/// Keys on the WABAs pane. With the detail open, `j`/`k` pick a phone number (for `R`) and
/// `PgUp`/`PgDn` scroll the detail; otherwise they move through the table.
fn on_wabas_key(model: &mut Model, cmd: Command) -> Vec<Effect> {
    let page = model.page_rows as isize;
    let pane = &mut model.wabas;
    let detail = pane.open.is_some();
    match cmd {
        Command::Close => {
            if detail {
                pane.close_detail();
            } else if !pane.filter.value().is_empty() {
                let keep = pane.selected_id();
                pane.filter.reset();
                pane.select_id(keep.as_deref());
            }
        }
        Command::Down if detail => pane.move_phone(1),
        Command::Up if detail => pane.move_phone(-1),
        Command::PageDown if detail => pane.scroll_detail(page),
        Command::PageUp if detail => pane.scroll_detail(-page),
        Command::Top if detail => {
            pane.phone_selected = 0;
            pane.detail_scroll = 0;
        }
        Command::Bottom if detail => pane.move_phone(isize::MAX / 2),
        Command::Down => pane.move_by(1),
        Command::Up => pane.move_by(-1),
        Command::PageDown => pane.move_by(page),
        Command::PageUp => pane.move_by(-page),
        Command::Top => pane.move_to(0),
        Command::Bottom => pane.move_to(usize::MAX),
        Command::NextLane | Command::PrevLane if !detail => {
            pane.lane = if cmd == Command::NextLane {
                pane.lane.next()
            } else {
                pane.lane.prev()
            };
            pane.move_to(0);
        }
        Command::Filter => {
            pane.close_detail();
            pane.filter_editing = true;
        }
        Command::Open if !detail => pane.open_selected(),
        Command::Sort => {
            pane.cycle_sort();
            model.notice = Some(format!("WABAs sorted by {}.", pane.sort.label()));
        }
        Command::Subscribe => return start_subscribe(model),
        Command::Register => return start_register(model),
        _ => {}
    }
    vec![]
}

/// Keys on the Credit lines pane: move through the lines, allocations and not-funded WABAs
/// (`h`/`l` jump between sections), `Enter` for the detail of the row, `S` share, `X` revoke.
fn on_credit_key(model: &mut Model, cmd: Command) -> Vec<Effect> {
    let view = model.credit.view(&model.wabas);
    let page = model.page_rows as isize;
    let pane = &mut model.credit;
    match cmd {
        Command::Close => {
            if pane.detail_open {
                pane.detail_open = false;
            } else if !pane.filter.value().is_empty() {
                pane.filter.reset();
            }
        }
        Command::Down => pane.move_by(&view, 1),
        Command::Up => pane.move_by(&view, -1),
        Command::PageDown => pane.move_by(&view, page),
        Command::PageUp => pane.move_by(&view, -page),
        Command::Top => pane.move_to(&view, 0),
        Command::Bottom => pane.move_to(&view, usize::MAX),
        Command::NextLane => pane.jump_section(&view, true),
        Command::PrevLane => pane.jump_section(&view, false),
        Command::Filter => {
            pane.detail_open = false;
            pane.filter_editing = true;
        }
        Command::Open if !view.rows.is_empty() => {
            pane.move_by(&view, 0);
            pane.detail_open = true;
        }
        Command::Share => return start_share(model),
        Command::Revoke => return start_revoke(model),
        _ => {}
    }
    vec![]
}

/// `S` on a WABA of the not-funded list: share a credit line with it, after a confirm that
/// lets the user pick the line and the currency.
fn start_share(model: &mut Model) -> Vec<Effect> {
    let view = model.credit.view(&model.wabas);
    let Some(CreditRow::NotFunded { waba_id, reason }) = model.credit.selected_row(&view) else {
        model.notice = Some(
            "Select a WABA in the 'Not funded' list (l jumps there), then press S to share a credit line with it."
                .into(),
        );
        return vec![];
    };
    let Some(row) = model.wabas.row(&waba_id) else {
        return vec![];
    };
    let waba_name = row.waba.name().to_string();
    if !reason.shareable() {
        model.notice = Some(format!(
            "'{waba_name}' has a funding source attached ({}): Meta does not let it be changed.",
            reason.label()
        ));
        return vec![];
    }
    let lines: Vec<(String, String)> = model
        .credit
        .lines
        .iter()
        .filter(|l| l.line.extra.get("is_access_revoked") != Some(&serde_json::Value::Bool(true)))
        .map(|l| (l.line.id.clone(), l.line.name().to_string()))
        .collect();
    if lines.is_empty() {
        model.notice = Some("There is no credit line of ours to share.".into());
        return vec![];
    }
    // A business that already has an allocation keeps its line (the share reuses it).
    let line = match &reason {
        NotFunded::NotAttached { allocation_id } => model
            .credit
            .lines
            .iter()
            .find(|l| l.allocations.iter().any(|a| &a.id == allocation_id))
            .and_then(|l| lines.iter().position(|(id, _)| *id == l.line.id))
            .unwrap_or(0),
        _ => 0,
    };
    let waba_currency = row.waba.node.currency.clone();
    let currency = WABA_CURRENCIES
        .iter()
        .position(|c| *c == default_currency(waba_currency.as_deref()))
        .unwrap_or(0);
    let owner = row.waba.node.owner_business_info.clone();
    let choice = ShareChoice {
        lines,
        line,
        currency,
        waba_currency,
    };
    let target = share_target(
        &choice,
        &waba_id,
        &waba_name,
        owner.as_ref().map(|o| o.id.clone()),
        owner
            .as_ref()
            .map(|o| o.name.clone().unwrap_or_else(|| o.id.clone()))
            .unwrap_or_else(|| "its owner business".into()),
    );
    confirm(
        model,
        "whatsapp_credit_sharing_and_attach",
        target,
        None,
        Some(choice),
    );
    vec![]
}

fn share_target(
    choice: &ShareChoice,
    waba_id: &str,
    waba_name: &str,
    business_id: Option<String>,
    business_name: String,
) -> Target {
    let (line_id, line_name) = choice.lines.get(choice.line).cloned().unwrap_or_default();
    Target::ShareCredit {
        credit_line_id: line_id,
        credit_line_name: line_name,
        waba_id: waba_id.to_string(),
        waba_name: waba_name.to_string(),
        business_id,
        business_name,
        currency: WABA_CURRENCIES
            .get(choice.currency)
            .copied()
            .unwrap_or("USD")
            .to_string(),
    }
}

/// A key that changes the share dialog's choice: `←`/`→` the currency, `↑`/`↓` the line.
fn change_share_choice(model: &Model, confirm: &mut Confirm, cmd: Command) -> bool {
    let Some(choice) = &mut confirm.share else {
        return false;
    };
    let step = |i: usize, n: usize, forward: bool| {
        if n == 0 {
            0
        } else if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }
    };
    match cmd {
        Command::NextLane | Command::PrevLane => {
            choice.currency = step(
                choice.currency,
                WABA_CURRENCIES.len(),
                cmd == Command::NextLane,
            );
        }
        Command::Down | Command::Up => {
            choice.line = step(choice.line, choice.lines.len(), cmd == Command::Down);
        }
        _ => return false,
    }
    let Target::ShareCredit {
        waba_id,
        waba_name,
        business_id,
        business_name,
        ..
    } = &confirm.target
    else {
        return false;
    };
    let target = share_target(
        choice,
        waba_id,
        waba_name,
        business_id.clone(),
        business_name.clone(),
    );
    confirm.call = model.call_text(&target);
    confirm.target = target;
    true
}

/// `X` on an allocation: revoke it, after a confirm that says it covers every WABA of that
/// customer business.
fn start_revoke(model: &mut Model) -> Vec<Effect> {
    let view = model.credit.view(&model.wabas);
    let Some(CreditRow::Allocation { line, alloc, check }) = model.credit.selected_row(&view)
    else {
        model.notice = Some(
            "Select an allocation (a customer business under a credit line), then press X to revoke it."
                .into(),
        );
        return vec![];
    };
    let Some(data) = model.credit.lines.get(line) else {
        return vec![];
    };
    let Some(a) = data.allocations.get(alloc) else {
        return vec![];
    };
    if a.is_revoked() {
        model.notice = Some(format!(
            "The allocation to '{}' is already revoked (request_status {}).",
            a.business_name(),
            a.request_status.as_deref().unwrap_or("DELETED")
        ));
        return vec![];
    }
    let target = Target::RevokeAllocation {
        allocation_id: a.id.clone(),
        credit_line_id: data.line.id.clone(),
        credit_line_name: data.line.name().to_string(),
        business_id: a.business_id().map(str::to_string),
        business_name: a.business_name().to_string(),
        waba_ids: check.waba_ids,
    };
    confirm(model, "the revoke (DELETE)", target, None, None);
    vec![]
}

/// Whether a mutation may be started now; if not, the notice says why.
fn may_send(model: &mut Model, what: &str) -> bool {
    if model.read_only {
        model.notice = Some(format!(
            "Read-only mode: {what} is not sent (started with --read-only or PARTNERDECK_READ_ONLY)."
        ));
        return false;
    }
    if let Some(f) = &model.in_flight {
        model.notice = Some(format!(
            "Wait: '{}' is still being sent and verified.",
            f.target.name()
        ));
        return false;
    }
    true
}

/// Open the confirm dialog for `target` (`what` names the call in a refusal), unless no
/// mutation may be sent now, or the screen still shows one of its objects as it was before the
/// last action on it (then a second action waits for a fresh read). `true` when it opened.
fn confirm(
    model: &mut Model,
    what: &str,
    target: Target,
    pin: Option<PinField>,
    share: Option<ShareChoice>,
) -> bool {
    if !may_send(model, what) {
        return false;
    }
    if let Some(why) = model.unconfirmed_action(&target) {
        model.notice = Some(why);
        return false;
    }
    model.overlay = Some(Overlay::Confirm(Confirm {
        call: model.call_text(&target),
        target,
        sending: false,
        pin,
        share,
    }));
    true
}

/// `s`: subscribe our app to the selected WABA's webhooks, after a confirm.
fn start_subscribe(model: &mut Model) -> Vec<Effect> {
    let Some(row) = model.wabas.current_row() else {
        return vec![];
    };
    let target = Target::SubscribeApp {
        waba_id: row.id().to_string(),
        waba_name: row.waba.name().to_string(),
    };
    if row.onboarding.webhooks_subscribed == Some(true) {
        model.notice = Some(format!(
            "'{}' already sends its webhooks to our app: nothing to subscribe.",
            row.waba.name()
        ));
        return vec![];
    }
    confirm(model, "subscribed_apps", target, None, None);
    vec![]
}

/// `R` in the WABA detail: register the selected phone number, with a PIN typed in the dialog.
fn start_register(model: &mut Model) -> Vec<Effect> {
    let pane = &model.wabas;
    let Some(row) = pane.open_row() else {
        model.notice = Some(
            "Open the WABA with Enter and pick its number with j/k, then press R to register it."
                .into(),
        );
        return vec![];
    };
    let Some(phone) = pane.selected_phone() else {
        model.notice = Some(format!(
            "'{}' has no phone number to register yet.",
            row.waba.name()
        ));
        return vec![];
    };
    if phone.is_connected() {
        model.notice = Some(format!(
            "{} is already registered (CONNECTED): nothing to do.",
            phone.label()
        ));
        return vec![];
    }
    let target = Target::RegisterPhone {
        waba_id: row.id().to_string(),
        waba_name: row.waba.name().to_string(),
        phone_id: phone.id.clone(),
        phone: phone.label().to_string(),
    };
    confirm(model, "register", target, Some(PinField::default()), None);
    vec![]
}

/// A key in the register dialog: digits (at most six) and Backspace edit the PIN; Enter or
/// `y` sends it once it has six digits; Esc, `n` or Ctrl-c cancel. The PIN moves into the
/// effect and leaves the model.
fn on_pin_key(model: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let Some(Overlay::Confirm(c)) = &mut model.overlay else {
        return vec![];
    };
    let Some(field) = &mut c.pin else {
        return vec![];
    };
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc | KeyCode::Char('n') => model.overlay = None,
        KeyCode::Char('c') if ctrl => model.overlay = None,
        KeyCode::Backspace => {
            field.input.handle(InputRequest::DeletePrevChar);
        }
        KeyCode::Char(d) if d.is_ascii_digit() && !ctrl && field.input.value().len() < Pin::LEN => {
            field.input.handle(InputRequest::InsertChar(d));
        }
        KeyCode::Enter | KeyCode::Char('y') => match Pin::parse(field.input.value()) {
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

fn switch_pane(model: &mut Model, pane: Pane) -> Vec<Effect> {
    model.pane = pane;
    vec![]
}

fn move_selection(model: &mut Model, delta: isize) -> Vec<Effect> {
    model.solutions.move_by(delta);
    follow_detail(model)
}

/// With the detail open, it shows the selected row: fetch it when the selection lands on a
/// solution whose detail we have not read (or failed to read).
fn follow_detail(model: &mut Model) -> Vec<Effect> {
    let pane = &mut model.solutions;
    if !pane.detail_open {
        return vec![];
    }
    let Some(id) = pane.selected_id() else {
        return vec![];
    };
    fetch_detail(model, &id)
}

fn fetch_detail(model: &mut Model, id: &str) -> Vec<Effect> {
    match model.solutions.details.get(id) {
        Some(Detail::Loading) | Some(Detail::Loaded(_)) => vec![],
        _ => {
            model
                .solutions
                .details
                .insert(id.to_string(), Detail::Loading);
            vec![Effect::FetchDetail { id: id.to_string() }]
        }
    }
}

/// Why a key does nothing on this solution, in words.
fn why_not(intent: SolutionIntent, s: &Solution) -> String {
    let what = match intent {
        SolutionIntent::Accept => "Accept",
        SolutionIntent::Reject => "Reject",
        SolutionIntent::Deactivate => "Deactivation",
    };
    let rule = match intent {
        SolutionIntent::Accept | SolutionIntent::Reject => {
            "is for pending requests and pending deactivations sent to us"
        }
        _ => "can be requested only for active solutions we own",
    };
    let side = match s.role {
        Role::Owner => "we own it",
        Role::Partner => "we are the invited partner",
        Role::Unknown => "our side is unknown",
    };
    format!(
        "{what} {rule}; '{}' is {} and {side}.",
        s.name(),
        s.state.label().replace('_', " ")
    )
}

fn start_action(model: &mut Model, intent: SolutionIntent) -> Vec<Effect> {
    let Some(s) = model.solutions.selected_solution().cloned() else {
        return vec![];
    };
    let Some(action) = action_for(intent, s.state, s.role) else {
        model.notice = Some(why_not(intent, &s));
        return vec![];
    };
    let what = action.edge();
    let target = Target::Solution {
        id: s.id().to_string(),
        name: s.name().to_string(),
        action,
    };
    if !confirm(model, what, target, None, None) {
        return vec![];
    }
    // The dialog shows both sides' permissions: read them if we have not.
    fetch_detail(model, s.id())
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
        Overlay::Outcome(_) => {
            if matches!(cmd, Command::Close | Command::Open | Command::Quit) {
                model.overlay = None;
            }
            vec![]
        }
        Overlay::Confirm(mut confirm) => match cmd {
            // Sent once: further presses while it is on its way do nothing.
            Command::Confirm if confirm.sending => vec![],
            _ if !confirm.sending && change_share_choice(model, &mut confirm, cmd) => {
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

fn on_action_finished(model: &mut Model, outcome: ActionOutcome) -> Vec<Effect> {
    if model.in_flight.as_ref().map(|f| &f.target) == Some(&outcome.target) {
        model.in_flight = None;
    }
    let stamp = outcome.reread;
    match outcome.result.reread() {
        Some(Reread::Solution(node)) => model.solutions.apply_node((**node).clone(), stamp),
        Some(Reread::Waba(waba)) => model.wabas.apply_waba((**waba).clone(), stamp),
        Some(Reread::Credit(c)) => {
            model
                .credit
                .apply_allocations(&c.credit_line_id, c.allocations.clone(), stamp);
            for w in &c.wabas {
                model.wabas.apply_waba(w.clone(), stamp);
            }
            model.wabas.set_credentials(model.credit.credentials());
        }
        None => {}
    }
    model.record_action(&outcome);
    model.notice = Some(outcome_summary(&outcome, &model.our_app_id));
    model.overlay = Some(Overlay::Outcome(Box::new(outcome)));
    vec![]
}

/// What came of a share or a revoke, in its own words.
fn credit_summary(o: &ActionOutcome) -> Option<String> {
    let state = |r: &Reread| r.state(&o.target, "");
    let (done, what) = match &o.target {
        Target::ShareCredit {
            credit_line_name,
            waba_name,
            currency,
            ..
        } => (
            format!("shared '{credit_line_name}' with '{waba_name}' ({currency})"),
            format!("the share with '{waba_name}'"),
        ),
        Target::RevokeAllocation { business_name, .. } => (
            format!("revoked the allocation to '{business_name}'"),
            format!("the revoke for '{business_name}'"),
        ),
        _ => return None,
    };
    Some(match &o.result {
        ActionResult::NotSent { reason } => format!("Not sent: {reason}"),
        ActionResult::Verified { reread } => match &o.target {
            Target::ShareCredit { .. } => format!(
                "Done: {done} — verified: the WABA's primary_funding_id is the allocation's receiving credential."
            ),
            _ => format!("Done: {done} — verified, request_status {}.", state(reread)),
        },
        ActionResult::Unexpected { reread, .. } => format!(
            "Meta accepted {what}, but the re-read shows {}.",
            state(reread)
        ),
        ActionResult::Unverified { failure } => format!(
            "Meta accepted {what}; the re-read failed: {}",
            failure.sentence
        ),
        ActionResult::Failed { failure, .. } if failure.kind == FailureKind::ReadOnly => {
            format!("Not sent: {}", failure.sentence)
        }
        ActionResult::Failed { failure, .. } => {
            format!("{} failed: {}", capitalized(&what), failure.sentence)
        }
        ActionResult::OutcomeUnknown { reread, .. } => {
            let happened = |r: &Reread| match r.observed(&o.target, "") {
                ObservedState::Funding(FundingState::Verified) => {
                    "it did go through and is verified".to_string()
                }
                ObservedState::Funding(FundingState::NotFunded) => {
                    "it did not happen: the WABA is still not funded (S shares again)".to_string()
                }
                other => format!("it now reads {}", other.label()),
            };
            match reread {
                Some(r) => format!(
                    "Outcome unknown: the answer to {what} was lost, so it was re-read, not re-sent: {}.",
                    happened(r)
                ),
                None => format!(
                    "Outcome unknown: the answer to {what} was lost and the re-read failed. It is not sent again; the next refresh (Ctrl-r) will show what happened."
                ),
            }
        }
    })
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// One line saying what came of an action, for the notice line.
pub fn outcome_summary(o: &ActionOutcome, our_app_id: &str) -> String {
    if let Some(s) = credit_summary(o) {
        return s;
    }
    let what = o.target.action_label();
    let name = o.target.name();
    let state = |r: &Reread| r.state(&o.target, our_app_id).replace('_', " ");
    match &o.result {
        ActionResult::NotSent { reason } => format!("Not sent: {reason}"),
        ActionResult::Verified { reread } => {
            format!("Done: {what} '{name}' — verified, now {}.", state(reread))
        }
        ActionResult::Unexpected { reread, .. } => format!(
            "Meta accepted {what} for '{name}' but it now reads as {}.",
            state(reread)
        ),
        ActionResult::Unverified { failure } => format!(
            "Meta accepted {what} for '{name}'; the re-read failed: {}",
            failure.sentence
        ),
        ActionResult::Failed { failure, .. } if failure.kind == FailureKind::ReadOnly => {
            failure.sentence.clone()
        }
        ActionResult::Failed { failure, .. } => {
            format!("{what} '{name}' failed: {}", failure.sentence)
        }
        ActionResult::OutcomeUnknown { reread, .. } => match reread {
            Some(r) => format!(
                "Outcome unknown — the answer to {what} for '{name}' was lost (not sent again); re-read shows it {}.",
                state(r)
            ),
            None => format!(
                "Outcome unknown for {what} on '{name}': the answer was lost and the re-read failed. Press Ctrl-r later."
            ),
        },
    }
}
