//! The Events pane (issue 11, the UI part): its state machine, what the model asks to record,
//! webhooks as refresh hints, tab marks, snapshots, and the feed against the simulator.

use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use crossterm::event::KeyCode;
use graph_sim::{self as sim, SimOptions, World};
use partnerdeck::app::events::Lane;
use partnerdeck::app::msg::{Effect, Failure, FailureKind, LocalEvent, Msg, Scope, WabaList};
use partnerdeck::app::{Model, Pane, ReadStamp};
use partnerdeck::domain::solution::Solution;
use partnerdeck::effects::feed::{self, EventFeed};
use partnerdeck::graph::model::Role;
use partnerdeck::store::{AsyncStore, Query, StoredEvent};
use partnerdeck::ui::{Theme, draw};
use partnerdeck::webhooks::{
    AppSecret, Event, EventKind, IntakeConfig, ListenerConfig, Scope as EventScope,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

fn screen(m: &Model, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| draw(f, m, at(42), &Theme::monochrome()))
        .unwrap();
    terminal.backend().to_string()
}

fn ev(
    seq: i64,
    kind: EventKind,
    object: &str,
    scopes: Vec<EventScope>,
    summary: &str,
) -> StoredEvent {
    let raw = serde_json::json!({ "object": object, "summary": summary, "note": "\u{1b}[31mred" });
    let mut e = Event::local(kind, Some(object), scopes, summary, &raw);
    e.id = format!("ev{seq}");
    e.time = at(seq * 60);
    e.received_at = at(seq * 60 + 1);
    if kind == EventKind::Webhook && seq == 2 {
        e.field = Some("account_update".into());
        e.event = Some("PARTNER_ADDED".into());
    } else if kind == EventKind::Webhook {
        e.field = Some("partner_solutions".into());
        e.event = Some("SOLUTION_UPDATED".into());
    }
    StoredEvent { seq, event: e }
}

fn history() -> Vec<StoredEvent> {
    vec![
        ev(
            1,
            EventKind::Notice,
            "-",
            vec![],
            "Re-read after the last session: nothing left.",
        ),
        ev(
            2,
            EventKind::Webhook,
            "410000000001",
            vec![EventScope::Wabas],
            "WABA 410000000001 onboarded (PARTNER_ADDED)",
        ),
        ev(
            3,
            EventKind::Action,
            "7001",
            vec![],
            "Done: accept 'Kōbe Retail Connect' — verified, now active.",
        ),
        ev(
            4,
            EventKind::Observed,
            "7002",
            vec![EventScope::Solutions],
            "Solution 'Lagos Care' (7002) is now active (was pending).",
        ),
        ev(
            5,
            EventKind::Webhook,
            "7003",
            vec![EventScope::Solutions],
            "Solution 7003 updated (SOLUTION_UPDATED)",
        ),
    ]
}

/// A model with the history loaded: seen up to 2, so 4 and 5 are news.
fn with_history() -> Model {
    let mut m = loaded_model();
    feed(
        &mut m,
        [Msg::EventsHistory {
            events: history(),
            last_seen: 2,
            feed: Some("webhooks on 127.0.0.1:8766".into()),
        }],
    );
    m
}

fn ids(m: &Model) -> Vec<String> {
    m.events
        .visible()
        .iter()
        .map(|e| e.event.id.clone())
        .collect()
}

#[test]
fn history_is_newest_first_and_the_unseen_are_counted_and_said() {
    let m = with_history();
    assert_eq!(
        m.events.unseen(),
        2,
        "a webhook and an observed change after the mark"
    );
    let notice = m.notice.clone().unwrap();
    assert!(notice.contains("2 events arrived since"), "{notice}");
    assert_eq!(ids(&m), ["ev5", "ev4", "ev3", "ev2", "ev1"]);
    let s = screen(&m, 80, 24);
    assert!(s.contains("4 Events •2"), "{s}");
}

#[test]
fn key_4_opens_the_pane_and_marks_it_seen() {
    let mut m = with_history();
    feed(&mut m, [key('4')]);
    assert_eq!(m.pane, Pane::Events);
    assert_eq!(m.events.unseen(), 0);
    // The rows that were news stay marked while the pane is open.
    let marked: Vec<&str> = m
        .events
        .visible()
        .into_iter()
        .filter(|e| m.events.is_new(e))
        .map(|e| e.event.id.as_str())
        .collect();
    assert_eq!(marked, ["ev5", "ev4"]);
    // Tab order: Credit lines → Events → Solutions.
    feed(&mut m, [code(KeyCode::Tab)]);
    assert_eq!(m.pane, Pane::Solutions);
    feed(&mut m, [code(KeyCode::BackTab)]);
    assert_eq!(m.pane, Pane::Events);
}

#[test]
fn lanes_filter_and_detail() {
    let mut m = with_history();
    feed(&mut m, [key('4'), key('l')]);
    assert_eq!(m.events.lane, Lane::Webhooks);
    assert_eq!(ids(&m), ["ev5", "ev2"]);
    feed(&mut m, [key('l')]);
    assert_eq!(ids(&m), ["ev4"]);
    feed(&mut m, [key('l'), key('l')]);
    assert_eq!(m.events.lane, Lane::Notices);
    assert_eq!(ids(&m), ["ev1"]);
    feed(&mut m, [key('h'), key('h'), key('h'), key('h')]);
    assert_eq!(m.events.lane, Lane::All);

    // The filter narrows by summary, kind, object, field and event name.
    feed(&mut m, [key('/'), key('l'), key('a'), key('g')]);
    assert!(m.events.filter_editing);
    assert_eq!(ids(&m), ["ev4"], "typing does not switch lanes");
    feed(&mut m, [code(KeyCode::Enter)]);
    assert!(!m.events.filter_editing);
    feed(&mut m, [code(KeyCode::Esc)]);
    assert_eq!(ids(&m).len(), 5, "Esc clears the filter");
    feed(
        &mut m,
        [
            key('/'),
            key('A'),
            key('D'),
            key('D'),
            key('E'),
            key('D'),
            code(KeyCode::Enter),
        ],
    );
    assert_eq!(ids(&m), ["ev2"], "the webhook's event name matches");
    feed(&mut m, [code(KeyCode::Esc)]);

    // Enter opens the full record of the selected row; moving follows it; Esc closes.
    feed(&mut m, [key('g'), key('j'), code(KeyCode::Enter)]);
    assert!(m.events.detail_open);
    assert_eq!(m.events.selected_id().as_deref(), Some("ev4"));
    feed(&mut m, [key('j')]);
    assert_eq!(m.events.selected_id().as_deref(), Some("ev3"));
    feed(&mut m, [code(KeyCode::Esc)]);
    assert!(!m.events.detail_open);
}

#[test]
fn new_events_keep_the_selection_on_its_row() {
    let mut m = with_history();
    feed(&mut m, [key('4'), key('j'), key('j')]);
    assert_eq!(m.events.selected_id().as_deref(), Some("ev3"));
    feed(
        &mut m,
        [Msg::EventsArrived(vec![ev(
            6,
            EventKind::Notice,
            "x",
            vec![],
            "later",
        )])],
    );
    assert_eq!(ids(&m)[0], "ev6");
    assert_eq!(m.events.selected_id().as_deref(), Some("ev3"));
    // The same event twice (e.g. history and arrival) is held once.
    feed(
        &mut m,
        [Msg::EventsArrived(vec![ev(
            6,
            EventKind::Notice,
            "x",
            vec![],
            "later",
        )])],
    );
    assert_eq!(ids(&m).len(), 6);
}

#[test]
fn a_webhook_asks_for_a_refresh_of_its_scopes() {
    let mut m = with_history();
    let fx = feed(
        &mut m,
        [Msg::EventsArrived(vec![
            ev(
                6,
                EventKind::Webhook,
                "41",
                vec![EventScope::Wabas],
                "onboarded",
            ),
            ev(
                7,
                EventKind::Webhook,
                "41",
                vec![EventScope::Wabas, EventScope::CreditLines],
                "x",
            ),
        ])],
    );
    assert_eq!(
        fx,
        vec![Effect::RefreshScopes(vec![
            Scope::Wabas,
            Scope::CreditLines
        ])]
    );
    // What the console recorded itself is no hint: no refresh loop.
    let fx = feed(
        &mut m,
        [Msg::EventsArrived(vec![ev(
            8,
            EventKind::Observed,
            "41",
            vec![EventScope::Wabas],
            "x",
        )])],
    );
    assert!(fx.is_empty(), "{fx:?}");
    // The history read at start is not a hint either.
    let mut fresh = loaded_model();
    let fx = feed(
        &mut fresh,
        [Msg::EventsHistory {
            events: history(),
            last_seen: 0,
            feed: None,
        }],
    );
    assert!(fx.is_empty(), "{fx:?}");
}

fn recorded(fx: &[Effect]) -> Vec<&LocalEvent> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::RecordEvent(l) => Some(l),
            _ => None,
        })
        .collect()
}

#[test]
fn notices_and_observed_solution_changes_are_recorded_not_made() {
    let mut m = loaded_model();
    let fx = feed(&mut m, [Msg::Notice("Something to know".into())]);
    let r = recorded(&fx);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].kind, EventKind::Notice);
    assert_eq!(r[0].summary, "Something to know");
    assert!(m.events.items.is_empty(), "update makes no event itself");

    // 7001 is accepted (active now) and 7100 appears.
    let mut items = solutions();
    items[0] = Solution::new(
        node("7001", "Kōbe Retail Connect", "ACTIVE", "NONE"),
        Role::Partner,
    );
    items.push(Solution::new(
        node("7100", "Fresh One", "INITIATED", "PENDING_ACTIVATION"),
        Role::Partner,
    ));
    let fx = feed(
        &mut m,
        [Msg::SolutionsLoaded {
            at: at(60),
            started: ReadStamp::issue(),
            result: Ok(items.clone()),
        }],
    );
    let r = recorded(&fx);
    assert_eq!(r.len(), 2, "{r:?}");
    assert!(
        r.iter()
            .all(|e| e.kind == EventKind::Observed && e.scopes == vec![Scope::Solutions])
    );
    assert!(
        r[0].summary.contains("7001") && r[0].summary.contains("was"),
        "{}",
        r[0].summary
    );
    assert!(
        r[1].summary.starts_with("New solution 'Fresh One' (7100)"),
        "{}",
        r[1].summary
    );
    // The same list again: nothing changed.
    let fx = feed(
        &mut m,
        [Msg::SolutionsLoaded {
            at: at(120),
            started: ReadStamp::issue(),
            result: Ok(items),
        }],
    );
    assert!(recorded(&fx).is_empty());
}

#[test]
fn a_new_waba_is_observed_after_the_first_refresh() {
    let mut m = loaded_model();
    let first = WabaList::of(wabas());
    let fx = feed(
        &mut m,
        [Msg::WabasLoaded {
            at: at(0),
            started: ReadStamp::issue(),
            result: Ok(first.clone()),
        }],
    );
    assert!(
        recorded(&fx).is_empty(),
        "the first refresh is the baseline"
    );
    let mut next = first;
    let mut added = (*next.wabas[0]).clone();
    added.node.id = "499999999999999".into();
    added.node.update(|f| f.name = "Tern Labs".into());
    next.wabas.push(std::sync::Arc::new(added));
    let fx = feed(
        &mut m,
        [Msg::WabasLoaded {
            at: at(60),
            started: ReadStamp::issue(),
            result: Ok(next),
        }],
    );
    let r = recorded(&fx);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].kind, EventKind::Observed);
    assert_eq!(r[0].object_id.as_deref(), Some("499999999999999"));
    assert!(
        r[0].summary.contains("New client WABA 'Tern Labs'"),
        "{}",
        r[0].summary
    );
}

#[test]
fn tab_marks_show_a_held_or_failed_scope_from_another_pane() {
    let mut m = loaded_model();
    feed(
        &mut m,
        [
            key('2'),
            Msg::ScopeHeld {
                scope: Scope::Solutions,
                until: at(600),
            },
            Msg::CreditLinesLoaded {
                at: at(5),
                started: ReadStamp::issue(),
                result: Err(Failure::new(
                    FailureKind::Transient,
                    "Meta did not answer.",
                    None,
                )),
            },
        ],
    );
    let s = screen(&m, 80, 24);
    let tabs = s.lines().next().unwrap();
    assert!(tabs.contains("1 Solutions !"), "{tabs}");
    assert!(tabs.contains("2 WABAs "), "{tabs}");
    assert!(!tabs.contains("2 WABAs !"), "{tabs}");
    assert!(tabs.contains("3 Credit lines !"), "{tabs}");
    assert!(tabs.contains("4 Events"), "{tabs}");
    assert!(!tabs.contains("•"), "nothing unseen: {tabs}");
}

#[test]
fn help_lists_the_events_key() {
    let lines = partnerdeck::app::keymap::help_lines(Pane::Events);
    assert!(lines.iter().any(|(k, h)| k == "4" && *h == "Events pane"));
}

#[test]
fn events_pane_80x24() {
    let mut m = with_history();
    feed(&mut m, [key('4')]);
    insta::assert_snapshot!(screen(&m, 80, 24));
}

#[test]
fn events_detail_shows_the_raw_payload_inert_80x24() {
    let mut m = with_history();
    feed(&mut m, [key('4'), key('G'), key('k'), code(KeyCode::Enter)]);
    let s = screen(&m, 80, 24);
    assert!(s.contains("Raw payload"), "{s}");
    assert!(s.contains("PARTNER_ADDED"), "{s}");
    assert!(!s.contains('\u{1b}'), "no escape reaches the screen");
    insta::assert_snapshot!(s);
}

#[test]
fn empty_events_pane_says_webhooks_are_off_80x24() {
    let mut m = loaded_model();
    feed(
        &mut m,
        [
            Msg::EventsHistory {
                events: vec![],
                last_seen: 0,
                feed: None,
            },
            key('4'),
        ],
    );
    insta::assert_snapshot!(screen(&m, 80, 24));
}

async fn next_arrival(rx: &mut mpsc::UnboundedReceiver<Msg>) -> Vec<StoredEvent> {
    loop {
        match tokio::time::timeout(Duration::from_secs(20), rx.recv()).await {
            Ok(Some(Msg::EventsArrived(e))) => return e,
            Ok(Some(_)) => continue,
            other => panic!("no events arrived: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_events_are_stored_and_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = AsyncStore::open(dir.path().join("events.sqlite3"))
        .await
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    feed::record(
        Some(store.clone()),
        LocalEvent {
            kind: EventKind::Action,
            object_id: Some("7001".into()),
            scopes: vec![Scope::Solutions],
            summary: "Done: accept".into(),
            raw: serde_json::json!({ "action": "accept" }),
        },
        tx,
    )
    .await;
    let got = next_arrival(&mut rx).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].event.kind, EventKind::Action);
    assert_eq!(got[0].event.scopes, vec![EventScope::Solutions]);
    let stored = store.query(Query::default()).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].seq, &stored[0].event.id),
        (got[0].seq, &got[0].event.id)
    );
}

/// The feed against the simulator: history and the unseen mark at start, then a WABA
/// onboarded in the simulator arrives as a signed webhook and comes out as a message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_onboarded_waba_arrives_through_the_feed() {
    let dir = tempfile::tempdir().unwrap();
    let store = AsyncStore::open(dir.path().join("events.sqlite3"))
        .await
        .unwrap();
    store
        .insert(vec![Event::local(
            EventKind::Notice,
            None,
            vec![],
            "before",
            &serde_json::json!({}),
        )])
        .await
        .unwrap();
    let handle = Arc::new(
        sim::start(World::demo(), SimOptions::default())
            .await
            .unwrap(),
    );
    let hook_sim = handle.clone();
    let cfg = IntakeConfig {
        listen: Some(ListenerConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            AppSecret::new(sim::DEMO_APP_SECRET),
        )),
        ..IntakeConfig::default()
    };
    let f = EventFeed {
        store: Some(store.clone()),
        intake: Some(cfg),
        on_listen: Some(Arc::new(move |addr| {
            hook_sim.set_webhooks(Some(sim::WebhookOptions::new(
                format!("http://{addr}/webhook"),
                sim::DEMO_APP_SECRET,
            )))
        })),
        store_error: None,
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(feed::run(f, tx));
    let (events, last_seen, described) =
        match tokio::time::timeout(Duration::from_secs(20), rx.recv()).await {
            Ok(Some(Msg::EventsHistory {
                events,
                last_seen,
                feed,
            })) => (events, last_seen, feed),
            other => panic!("{other:?}"),
        };
    assert_eq!(events.len(), 1);
    assert_eq!(last_seen, 0);
    assert!(described.unwrap().starts_with("webhooks on 127.0.0.1:"));

    let r: serde_json::Value = reqwest::Client::new()
        .post(format!(
            "{}/__sim/onboard_waba?name=Tern%20Labs",
            handle.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let waba = r["waba_id"].as_str().unwrap().to_string();
    let got = next_arrival(&mut rx).await;
    let e = &got[0].event;
    assert_eq!(e.kind, EventKind::Webhook);
    assert_eq!(e.object_id.as_deref(), Some(waba.as_str()));

    // Into the model: it shows, and the WABAs are refreshed.
    let mut m = loaded_model();
    let fx = feed(&mut m, [Msg::EventsArrived(got)]);
    assert!(
        matches!(&fx[..], [Effect::RefreshScopes(s)] if s.contains(&Scope::Wabas)),
        "{fx:?}"
    );
    feed(&mut m, [key('4')]);
    let s = screen(&m, 80, 24);
    assert!(s.contains(&waba), "{s}");
    task.abort();
}

#[test]
fn an_action_outcome_is_recorded_as_an_action_event() {
    use partnerdeck::app::msg::{ActionOutcome, ActionResult, Reread, Target};
    use partnerdeck::graph::model::SolutionAction;
    let mut m = loaded_model();
    feed(&mut m, [key('a'), key('y')]);
    let fx = feed(
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
                reread: Reread::Solution(Box::new(node(
                    "7001",
                    "Kōbe Retail Connect",
                    "ACTIVE",
                    "NONE",
                ))),
            },
            audit: Ok("/tmp/audit.jsonl".into()),
        })],
    );
    let r = recorded(&fx);
    assert_eq!(r.len(), 1, "{fx:?}");
    assert_eq!(r[0].kind, EventKind::Action);
    assert_eq!(r[0].object_id.as_deref(), Some("7001"));
    assert!(r[0].summary.contains("verified"), "{}", r[0].summary);
    assert!(
        r[0].raw["call"]
            .as_str()
            .unwrap()
            .starts_with("POST /v25.0/7001")
    );
}
