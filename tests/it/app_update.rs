//! The state machine as plain functions: key → action → effect, no terminal, no network.

use crate::common::*;
use crossterm::event::KeyCode;
use partnerdeck::app::ReadStamp;
use partnerdeck::app::model::{Confirm, Overlay, Pane};
use partnerdeck::app::msg::{
    ActionOutcome, ActionResult, Effect, Failure, FailureKind, Msg, Reread, Scope, Target,
};
use partnerdeck::app::solutions::{Detail, Lane};
use partnerdeck::domain::solution::SolutionState;
use partnerdeck::graph::model::SolutionAction;

#[test]
fn a_on_a_pending_request_opens_a_confirm_naming_it() {
    let mut m = loaded_model();
    assert_eq!(m.solutions.lane, Lane::Pending);
    let effects = feed(&mut m, [key('a')]);
    match &m.overlay {
        Some(Overlay::Confirm(Confirm {
            target: Target::Solution { id, name, action },
            call,
            sending,
            pin: None,
            share: None,
        })) => {
            assert_eq!(id, "7001");
            assert_eq!(name, "Kōbe Retail Connect");
            assert_eq!(*action, SolutionAction::Accept);
            assert_eq!(call, "POST /v25.0/7001/accept");
            assert!(!sending);
        }
        other => panic!("expected a confirm dialog, got {other:?}"),
    }
    // Nothing is sent yet: only the detail is read, for the dialog's permissions.
    assert_eq!(effects, vec![Effect::FetchDetail { id: "7001".into() }]);
    assert!(effects.iter().all(|e| !matches!(e, Effect::Perform { .. })));
}

#[test]
fn y_emits_exactly_one_accept_effect_however_often_it_is_pressed() {
    let mut m = loaded_model();
    feed(&mut m, [key('a')]);
    let effects = feed(&mut m, [key('y'), key('y'), key('y')]);
    let performs: Vec<_> = effects
        .iter()
        .filter(|e| matches!(e, Effect::Perform { .. }))
        .collect();
    assert_eq!(
        performs,
        vec![&Effect::Perform {
            target: Target::Solution {
                id: "7001".into(),
                name: "Kōbe Retail Connect".into(),
                action: SolutionAction::Accept,
            },
            pin: None,
        }]
    );
    assert!(m.in_flight.is_some());
    // Hiding the dialog and asking again while in flight sends nothing either.
    let effects = feed(&mut m, [code(KeyCode::Esc), key('a')]);
    assert!(m.notice.as_deref().unwrap().contains("still being sent"));
    let more = feed(&mut m, [key('y')]);
    assert!(
        effects.is_empty() && more.is_empty(),
        "{effects:?} {more:?}"
    );
}

#[test]
fn n_and_esc_cancel_without_effects() {
    for cancel in [key('n'), code(KeyCode::Esc)] {
        let mut m = loaded_model();
        feed(&mut m, [key('a')]);
        let effects = feed(&mut m, [cancel, key('y')]);
        assert!(effects.is_empty());
        assert!(m.overlay.is_none());
        assert!(m.in_flight.is_none());
    }
}

#[test]
fn a_on_an_active_solution_does_nothing_but_say_why() {
    let mut m = loaded_model();
    feed(&mut m, [key('l')]); // Active lane
    assert_eq!(m.solutions.lane, Lane::Active);
    let effects = feed(&mut m, [key('a')]);
    assert!(m.notice.as_deref().unwrap().contains("is active"));
    let more = feed(&mut m, [key('y')]);
    assert!(effects.is_empty() && more.is_empty());
    assert!(m.overlay.is_none());
}

#[test]
fn a_on_a_request_we_sent_does_nothing() {
    let mut m = loaded_model();
    feed(&mut m, [key('j'), key('j')]); // 7003: pending, we own it
    assert_eq!(m.solutions.selected_id().as_deref(), Some("7003"));
    assert!(feed(&mut m, [key('a'), key('r'), key('y')]).is_empty());
    assert!(m.overlay.is_none());
}

#[test]
fn d_only_on_active_solutions_we_own() {
    let mut m = loaded_model();
    feed(&mut m, [key('l')]);
    // 7004 is ours and active.
    assert_eq!(m.solutions.selected_id().as_deref(), Some("7004"));
    let effects = feed(&mut m, [key('d'), key('y')]);
    assert!(effects.contains(&Effect::Perform {
        target: Target::Solution {
            id: "7004".into(),
            name: "Meridian Alerts".into(),
            action: SolutionAction::SendDeactivation,
        },
        pin: None,
    }));
    // 7005 is active but not ours.
    let mut m = loaded_model();
    feed(&mut m, [key('l'), key('j')]);
    assert_eq!(m.solutions.selected_id().as_deref(), Some("7005"));
    assert!(feed(&mut m, [key('d'), key('y')]).is_empty());
}

#[test]
fn a_and_r_on_a_pending_deactivation_sent_to_us() {
    let mut m = loaded_model();
    feed(&mut m, [key('l'), key('l')]);
    assert_eq!(m.solutions.lane, Lane::PendingDeactivation);
    feed(&mut m, [key('r')]);
    assert!(matches!(
        &m.overlay,
        Some(Overlay::Confirm(c)) if matches!(c.target, Target::Solution { action: SolutionAction::RejectDeactivation, .. })
            && c.call == "POST /v25.0/7006/reject_deactivation_request"
    ));
}

#[test]
fn confirm_without_a_loaded_detail_fetches_it_for_the_dialog() {
    let mut m = loaded_model();
    feed(&mut m, [key('j')]); // 7002 has no detail yet
    let effects = feed(&mut m, [key('a')]);
    assert_eq!(effects, vec![Effect::FetchDetail { id: "7002".into() }]);
    assert_eq!(m.solutions.details.get("7002"), Some(&Detail::Loading));
}

#[test]
fn read_only_refuses_every_action_key_and_says_why() {
    let mut m = loaded_model();
    m.read_only = true;
    let mut effects = vec![];
    for lane_moves in 0..5 {
        let mut msgs = vec![];
        msgs.extend((0..lane_moves).map(|_| key('l')));
        let mut mm = m.clone();
        effects.extend(feed(&mut mm, msgs));
        effects.extend(feed(
            &mut mm,
            [key('a'), key('y'), key('r'), key('y'), key('d'), key('y')],
        ));
        assert!(mm.overlay.is_none());
    }
    assert!(effects.iter().all(|e| !matches!(e, Effect::Perform { .. })));
    let mut mm = m.clone();
    feed(&mut mm, [key('a')]);
    assert!(mm.notice.unwrap().contains("Read-only"));
}

#[test]
fn enter_opens_the_detail_and_follows_the_selection() {
    let mut m = loaded_model();
    // Permissions are read fresh on open, even when the list carried some.
    let effects = feed(&mut m, [code(KeyCode::Enter)]);
    assert!(m.solutions.detail_open);
    assert_eq!(effects, vec![Effect::FetchDetail { id: "7001".into() }]);
    let effects = feed(&mut m, [key('j')]);
    assert_eq!(effects, vec![Effect::FetchDetail { id: "7002".into() }]);
    // Moving back and forth does not fetch again while loading.
    assert!(feed(&mut m, [key('k'), key('j')]).is_empty());
    feed(&mut m, [code(KeyCode::Esc)]);
    assert!(!m.solutions.detail_open);
}

#[test]
fn filter_narrows_rows_and_esc_clears_it() {
    let mut m = loaded_model();
    feed(&mut m, [key('h')]); // All lane
    assert_eq!(m.solutions.lane, Lane::All);
    feed(&mut m, [key('/'), key('h'), key('a'), key('r')]);
    assert!(m.solutions.filter_editing);
    // While typing, letters are text: 'a' did not open a dialog, 'h' did not switch lane.
    assert!(m.overlay.is_none());
    assert_eq!(m.solutions.lane, Lane::All);
    let ids: Vec<_> = m
        .solutions
        .visible()
        .iter()
        .map(|s| s.id().to_string())
        .collect();
    assert_eq!(ids, vec!["7006"]); // Old Harbour Bots
    feed(&mut m, [code(KeyCode::Enter)]);
    assert!(!m.solutions.filter_editing);
    assert_eq!(m.solutions.filter.value(), "har");
    feed(&mut m, [code(KeyCode::Esc)]);
    assert_eq!(m.solutions.filter.value(), "");
    assert_eq!(m.solutions.visible().len(), 9);
}

#[test]
fn unknown_states_are_kept_and_shown_under_other() {
    let m = loaded_model();
    let other: Vec<_> = m
        .solutions
        .items
        .iter()
        .filter(|s| Lane::Other.contains(s.state))
        .map(|s| s.id().to_string())
        .collect();
    assert!(other.contains(&"7009".to_string()));
    assert_eq!(
        m.solutions.solution("7009").unwrap().state,
        SolutionState::Unknown
    );
}

#[test]
fn navigation_stays_in_range() {
    let mut m = loaded_model();
    feed(&mut m, [key('G')]);
    assert_eq!(m.solutions.selected, 2);
    feed(&mut m, [code(KeyCode::PageDown), key('j')]);
    assert_eq!(m.solutions.selected, 2);
    feed(&mut m, [code(KeyCode::PageUp)]);
    assert_eq!(m.solutions.selected, 0);
    feed(&mut m, [key('g'), key('k')]);
    assert_eq!(m.solutions.selected, 0);
}

#[test]
fn panes_switch_with_tab_and_numbers() {
    let mut m = loaded_model();
    feed(&mut m, [code(KeyCode::Tab)]);
    assert_eq!(m.pane, Pane::Wabas);
    // Back past the first pane wraps to the last ones: Events, then Credit lines.
    feed(
        &mut m,
        [
            code(KeyCode::BackTab),
            code(KeyCode::BackTab),
            code(KeyCode::BackTab),
        ],
    );
    assert_eq!(m.pane, Pane::CreditLines);
    feed(&mut m, [key('1')]);
    assert_eq!(m.pane, Pane::Solutions);
    // Solution keys do nothing on another pane.
    feed(&mut m, [key('2')]);
    assert!(feed(&mut m, [key('a'), key('y')]).is_empty());
}

#[test]
fn refresh_failure_keeps_the_data_and_records_the_reason() {
    let mut m = loaded_model();
    let failure = Failure::new(
        FailureKind::Transport,
        "The request timed out after 20 s.",
        None,
    );
    feed(
        &mut m,
        [
            Msg::RefreshStarted {
                scope: Scope::Solutions,
                at: at(0),
            },
            Msg::SolutionsLoaded {
                started: ReadStamp::issue(),
                at: at(60),
                result: Err(failure.clone()),
            },
        ],
    );
    assert_eq!(m.solutions.items.len(), 9);
    assert_eq!(m.refresh.solutions.last_success, Some(at(0)));
    assert_eq!(m.refresh.solutions.last_error, Some((at(60), failure)));
    assert!(!m.refresh.solutions.in_flight);
    feed(
        &mut m,
        [Msg::SolutionsLoaded {
            started: ReadStamp::issue(),
            at: at(90),
            result: Ok(solutions()),
        }],
    );
    assert!(m.refresh.solutions.last_error.is_none());
}

#[test]
fn the_verified_result_moves_the_solution_and_says_so_without_a_dialog() {
    let mut m = loaded_model();
    feed(&mut m, [key('a'), key('y')]);
    let mut reread = node("7001", "Kōbe Retail Connect", "ACTIVE", "NONE");
    reread.owner_permissions = Some(vec!["MESSAGING".into()]);
    let effects = feed(
        &mut m,
        [Msg::ActionFinished(ActionOutcome {
            sent: ReadStamp::issue(),
            reread: ReadStamp::issue(),
            target: Target::Solution {
                id: "7001".into(),
                name: "Kōbe Retail Connect".into(),
                action: SolutionAction::Accept,
            },
            result: ActionResult::Verified {
                reread: Reread::Solution(Box::new(reread)),
            },
            audit: Ok("/tmp/audit.jsonl".into()),
        })],
    );
    assert!(m.in_flight.is_none());
    assert_eq!(
        m.solutions.solution("7001").unwrap().state,
        SolutionState::Active
    );
    // A success is a message in the words of the key, not a dialog to close ...
    assert!(m.overlay.is_none(), "{:?}", m.overlay);
    assert_eq!(
        m.notice.as_deref(),
        Some("Accepted 'Kōbe Retail Connect' — verified, now active.")
    );
    // ... and it stays in the Events history.
    let recorded: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::RecordEvent(ev) => Some(ev),
            _ => None,
        })
        .collect();
    assert_eq!(recorded.len(), 1, "{effects:?}");
    assert_eq!(recorded[0].summary, m.notice.clone().unwrap());
    assert_eq!(recorded[0].object_id.as_deref(), Some("7001"));
    // The next key works on the pane at once.
    feed(&mut m, [key('j')]);
    assert!(m.overlay.is_none());
}

#[test]
fn a_failed_action_keeps_its_dialog() {
    let mut m = loaded_model();
    feed(&mut m, [key('a'), key('y')]);
    feed(
        &mut m,
        [Msg::ActionFinished(ActionOutcome {
            sent: ReadStamp::issue(),
            reread: ReadStamp::issue(),
            target: Target::Solution {
                id: "7001".into(),
                name: "Kōbe Retail Connect".into(),
                action: SolutionAction::RejectDeactivation,
            },
            result: ActionResult::Failed {
                failure: Failure::new(
                    FailureKind::Permission,
                    "Meta refused: permission missing.",
                    Some(200),
                ),
                reread: None,
            },
            audit: Ok("/tmp/audit.jsonl".into()),
        })],
    );
    assert!(matches!(&m.overlay, Some(Overlay::Outcome(_))));
    let done = Target::Solution {
        id: "1".into(),
        name: "x".into(),
        action: SolutionAction::RejectDeactivation,
    };
    assert_eq!(done.done_words(), "Deactivation rejected");
    let subscribed = Target::SubscribeApp {
        waba_id: "1".into(),
        waba_name: "x".into(),
    };
    assert_eq!(subscribed.done_words(), "Webhooks subscribed");
}

#[test]
fn quit_while_an_action_is_in_flight_asks_twice() {
    let mut m = loaded_model();
    feed(&mut m, [key('a'), key('y'), code(KeyCode::Esc)]);
    assert!(feed(&mut m, [key('q')]).is_empty());
    assert_eq!(feed(&mut m, [key('q')]), vec![Effect::Quit]);
    let mut m = loaded_model();
    assert_eq!(feed(&mut m, [key('q')]), vec![Effect::Quit]);
}

#[test]
fn ctrl_r_asks_for_a_refresh_and_help_opens() {
    let mut m = loaded_model();
    assert_eq!(feed(&mut m, [ctrl('r')]), vec![Effect::Refresh]);
    feed(&mut m, [key('?')]);
    assert_eq!(m.overlay, Some(Overlay::Help));
    // q closes help rather than quitting.
    assert!(feed(&mut m, [key('q')]).is_empty());
    assert!(m.overlay.is_none());
}

/// `q` in a detail closes it (like Esc); from the list it quits.
#[test]
fn q_in_a_detail_closes_it_and_quits_from_the_list() {
    let mut m = loaded_model();
    let effects = feed(&mut m, [code(KeyCode::Enter)]);
    assert!(m.solutions.detail_open);
    let _ = effects;
    let effects = feed(&mut m, [key('q')]);
    assert!(!m.solutions.detail_open, "q closed the detail");
    assert!(!effects.contains(&Effect::Quit) && !m.quitting);
    let effects = feed(&mut m, [key('q')]);
    assert!(effects.contains(&Effect::Quit));
}

/// A key that belongs to another pane says so instead of doing nothing.
#[test]
fn a_key_of_another_pane_says_where_it_works() {
    let mut m = loaded_model();
    let effects = feed(&mut m, [key('s')]);
    assert!(effects.is_empty());
    let notice = m.notice.clone().unwrap();
    assert!(
        notice.contains("s works in the WABAs pane (press 2"),
        "{notice}"
    );
    feed(&mut m, [key('3'), key('a')]);
    let notice = m.notice.clone().unwrap();
    assert!(
        notice.contains("a works in the Solutions pane (press 1"),
        "{notice}"
    );
}

/// `o` cycles the sort of the Solutions pane, `O` reverses it; the selection stays on its
/// solution, and the order is derived once, not per frame.
#[test]
fn o_and_shift_o_sort_the_solutions_pane() {
    use partnerdeck::app::solutions::SolutionSort;
    let mut m = loaded_model();
    feed(&mut m, [key('h')]); // All
    let ids = |m: &partnerdeck::app::Model| -> Vec<String> {
        m.solutions
            .visible()
            .iter()
            .map(|s| s.id().to_string())
            .collect()
    };
    // By state: requests waiting on us first within pending.
    assert_eq!(ids(&m)[..3], ["7001", "7002", "7003"]);
    feed(&mut m, [key('j')]); // 7002
    feed(&mut m, [key('o')]);
    assert_eq!(m.solutions.sort, SolutionSort::Name);
    assert_eq!(
        ids(&m),
        [
            "7002", "7007", "7008", "7001", "7004", "7009", "7003", "7006", "7005"
        ]
    );
    assert_eq!(m.solutions.selected_id().as_deref(), Some("7002"));
    assert_eq!(m.notice.as_deref(), Some("Solutions sorted by name."));
    feed(&mut m, [key('O')]);
    assert!(m.solutions.reverse);
    assert_eq!(ids(&m)[0], "7005");
    assert_eq!(m.solutions.selected_id().as_deref(), Some("7002"));
    assert_eq!(
        m.notice.as_deref(),
        Some("Solutions sorted by name, reversed.")
    );
    // By role: ours first; a new sort starts unreversed.
    feed(&mut m, [key('o')]);
    assert_eq!(m.solutions.sort, SolutionSort::Role);
    assert!(!m.solutions.reverse);
    assert_eq!(ids(&m)[..3], ["7003", "7004", "7007"]);
    feed(&mut m, [key('o')]);
    assert_eq!(m.solutions.sort, SolutionSort::State);
}

/// Our side comes from the list's role; when the detail's owner app disagrees, the console
/// says so and offers no action.
#[test]
fn a_role_that_disagrees_with_the_owner_app_offers_no_action() {
    let mut m = loaded_model();
    // 7002 is listed as a request sent to us (role PARTNER), but its owner app is ours.
    let mut n = node(
        "7002",
        "Atlas Support Desk",
        "INITIATED",
        "PENDING_ACTIVATION",
    );
    n.owner_app = Some(partnerdeck::graph::model::AppRef {
        id: OUR_APP.into(),
        name: Some("Northwind Messaging".into()),
        link: None,
    });
    feed(
        &mut m,
        [Msg::DetailLoaded {
            id: "7002".into(),
            started: ReadStamp::issue(),
            result: Ok(n),
        }],
    );
    let pos = m
        .solutions
        .visible()
        .iter()
        .position(|s| s.id() == "7002")
        .unwrap();
    m.solutions.selected = pos;
    let mut effects = feed(&mut m, [key('a')]);
    assert!(!matches!(m.overlay, Some(Overlay::Confirm(_))), "no dialog");
    let notice = m.notice.clone().unwrap();
    assert!(
        notice.contains("owner app is our app") && notice.contains("No action"),
        "{notice}"
    );
    effects.extend(feed(&mut m, [key('y')]));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Perform { .. })));
}

/// The Events pane sorts too: `o` by kind, then by object; `O` reverses; the selected event
/// stays selected.
#[test]
fn o_and_shift_o_sort_the_events_pane() {
    use partnerdeck::app::events::EventSort;
    use partnerdeck::store::StoredEvent;
    use partnerdeck::webhooks::{Event, EventKind};
    let event = |seq: i64, kind: EventKind, object: &str| {
        let mut e = Event::local(kind, Some(object), vec![], "x", &serde_json::json!({}));
        e.id = format!("ev{seq}");
        e.time = at(seq);
        StoredEvent { seq, event: e }
    };
    let mut m = loaded_model();
    feed(
        &mut m,
        [
            Msg::EventsHistory {
                events: vec![
                    event(1, EventKind::Webhook, "b"),
                    event(2, EventKind::Action, "a"),
                    event(3, EventKind::Webhook, "a"),
                    event(4, EventKind::Notice, ""),
                ],
                last_seen: 4,
                feed: None,
            },
            key('4'),
        ],
    );
    let ids = |m: &partnerdeck::app::Model| -> Vec<String> {
        m.events
            .visible()
            .iter()
            .map(|e| e.event.id.clone())
            .collect()
    };
    assert_eq!(ids(&m), ["ev4", "ev3", "ev2", "ev1"], "newest first");
    feed(&mut m, [key('j')]); // ev3
    feed(&mut m, [key('o')]);
    assert_eq!(m.events.sort, EventSort::Kind);
    assert_eq!(
        ids(&m),
        ["ev2", "ev4", "ev3", "ev1"],
        "action, notice, webhook"
    );
    assert_eq!(m.events.selected_id().as_deref(), Some("ev3"));
    feed(&mut m, [key('o')]);
    assert_eq!(
        ids(&m),
        ["ev3", "ev2", "ev1", "ev4"],
        "by object, none last"
    );
    feed(&mut m, [key('O')]);
    assert_eq!(ids(&m), ["ev4", "ev1", "ev2", "ev3"]);
    assert_eq!(m.events.selected_id().as_deref(), Some("ev3"));
    assert_eq!(
        m.notice.as_deref(),
        Some("Events sorted by object, reversed.")
    );
}
