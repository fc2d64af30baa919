//! `update(model, msg) -> effects`: the console's behaviour, as a plain function.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind};
use tui_input::backend::crossterm::EventHandler;

use crate::app::keymap::{Command, command_for};
use crate::app::model::{Confirm, InFlight, Model, Overlay, Pane};
use crate::app::msg::{ActionOutcome, ActionResult, Effect, FailureKind, Msg};
use crate::app::solutions::Detail;
use crate::graph::model::{Role, Solution, SolutionAction, SolutionState};

/// What Ctrl-r says until the refresh it asked for has an answer.
const REFRESH_NOTICES: [&str; 3] = [
    "Refreshing…",
    "Meta is throttling these calls: they stay on hold until the time Meta gave, then refresh by themselves.",
    "Trying once more with the same token…",
];

/// Rows taken by everything but the table body (tabs, lanes, header, borders, status bar).
const CHROME_ROWS: u16 = 8;

pub fn update(model: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => on_key(model, key),
        Msg::Resize { height, .. } => {
            model.page_rows = height.saturating_sub(CHROME_ROWS).max(1) as usize;
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
        Msg::ActionAnswerLost { id } => {
            if let Some(f) = model.in_flight.as_mut().filter(|f| f.id == id) {
                f.answer_lost = true;
                model.notice = Some(format!(
                    "Outcome unknown — re-reading '{}' to see what happened (it is not sent again).",
                    f.name
                ));
            }
            vec![]
        }
        Msg::SolutionsLoaded { at, result } => {
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
                    model.solutions.set_items(items);
                }
                // Keep the last good data; the status bar marks it stale with the reason.
                Err(failure) => refresh.last_error = Some((at, failure)),
            }
            vec![]
        }
        Msg::DetailLoaded { id, result } => {
            match result {
                Ok(node) => model.solutions.apply_node(node),
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
    if model.solutions.filter_editing {
        return on_filter_key(model, key);
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
        _ if model.pane != Pane::Solutions => vec![],
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
        Command::Accept => start_action(model, 'a'),
        Command::Reject => start_action(model, 'r'),
        Command::Deactivate => start_action(model, 'd'),
        Command::Confirm => vec![],
    }
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

fn on_filter_key(model: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let pane = &mut model.solutions;
    let keep = pane.selected_id();
    match key.code {
        KeyCode::Enter => pane.filter_editing = false,
        KeyCode::Esc => {
            pane.filter_editing = false;
            pane.filter.reset();
        }
        _ => {
            pane.filter.handle_event(&Event::Key(key));
        }
    }
    pane.select_id(keep.as_deref());
    vec![]
}

/// Why a key does nothing on this solution, in words.
fn why_not(key: char, s: &Solution) -> String {
    let what = match key {
        'a' => "Accept",
        'r' => "Reject",
        _ => "Deactivation",
    };
    let rule = match key {
        'a' | 'r' => "is for pending requests and pending deactivations sent to us",
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

fn start_action(model: &mut Model, key: char) -> Vec<Effect> {
    let Some(s) = model.solutions.selected_solution().cloned() else {
        return vec![];
    };
    let Some(action) = SolutionAction::for_key(key, s.state, s.role) else {
        model.notice = Some(why_not(key, &s));
        return vec![];
    };
    if model.read_only {
        model.notice = Some(format!(
            "Read-only mode: {} is not sent (started with --read-only or PARTNERDECK_READ_ONLY).",
            action.edge()
        ));
        return vec![];
    }
    if let Some(f) = &model.in_flight {
        model.notice = Some(format!(
            "Wait: '{}' is still being sent and verified.",
            f.name
        ));
        return vec![];
    }
    model.overlay = Some(Overlay::Confirm(Confirm {
        id: s.id().to_string(),
        name: s.name().to_string(),
        action,
        call: model.call_text(s.id(), action),
        sending: false,
    }));
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
            Command::Confirm => {
                confirm.sending = true;
                model.in_flight = Some(InFlight {
                    id: confirm.id.clone(),
                    name: confirm.name.clone(),
                    action: confirm.action,
                    answer_lost: false,
                });
                let effect = Effect::Perform {
                    id: confirm.id.clone(),
                    name: confirm.name.clone(),
                    action: confirm.action,
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
                        confirm.name
                    ));
                }
                vec![]
            }
            _ => vec![],
        },
    }
}

fn on_action_finished(model: &mut Model, outcome: ActionOutcome) -> Vec<Effect> {
    if model.in_flight.as_ref().is_some_and(|f| f.id == outcome.id) {
        model.in_flight = None;
    }
    match &outcome.result {
        ActionResult::Verified { node } | ActionResult::Unexpected { node, .. } => {
            model.solutions.apply_node(node.clone())
        }
        ActionResult::OutcomeUnknown {
            node: Some(node), ..
        }
        | ActionResult::Failed {
            node: Some(node), ..
        } => model.solutions.apply_node(node.clone()),
        _ => {}
    }
    model.notice = Some(outcome_summary(&outcome));
    model.overlay = Some(Overlay::Outcome(Box::new(outcome)));
    vec![]
}

/// One line saying what came of an action, for the notice line.
pub fn outcome_summary(o: &ActionOutcome) -> String {
    let state = |n: &crate::graph::model::SolutionNode| {
        SolutionState::derive(&n.status, n.status_for_pending_request.as_deref())
            .label()
            .replace('_', " ")
    };
    match &o.result {
        ActionResult::Verified { node } => format!(
            "Done: {} '{}' — verified, now {}.",
            o.action.edge(),
            o.name,
            state(node)
        ),
        ActionResult::Unexpected { node, .. } => format!(
            "Meta accepted {} for '{}' but it now reads as {}.",
            o.action.edge(),
            o.name,
            state(node)
        ),
        ActionResult::Unverified { failure } => format!(
            "Meta accepted {} for '{}'; the re-read failed: {}",
            o.action.edge(),
            o.name,
            failure.sentence
        ),
        ActionResult::Failed { failure, .. } if failure.kind == FailureKind::ReadOnly => {
            failure.sentence.clone()
        }
        ActionResult::Failed { failure, .. } => format!(
            "{} '{}' failed: {}",
            o.action.edge(),
            o.name,
            failure.sentence
        ),
        ActionResult::OutcomeUnknown { node, .. } => match node {
            Some(n) => format!(
                "Outcome unknown — the answer to {} for '{}' was lost (not sent again); re-read shows it {}.",
                o.action.edge(),
                o.name,
                state(n)
            ),
            None => format!(
                "Outcome unknown for {} on '{}': the answer was lost and the re-read failed. Press Ctrl-r later.",
                o.action.edge(),
                o.name
            ),
        },
    }
}
