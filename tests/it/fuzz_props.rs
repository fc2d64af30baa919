//! Property tests (proptest): whatever Meta sends, no decoder panics; whatever keys and
//! network results arrive in whatever order, `app::update` never panics and keeps its
//! invariants.
//!
//! `cargo test` runs a bounded number of cases (a few seconds in all). To fuzz longer:
//! `PROPTEST_CASES=100000 cargo test --test fuzz_props` (add `--release` on a machine with
//! cores to spare). A failing case is shrunk and its seed saved under
//! `tests/fuzz_props.proptest-regressions`, so it is replayed first next time.

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use partnerdeck::app::ReadStamp;
use partnerdeck::app::msg::{
    ActionOutcome, ActionResult, Failure, FailureKind, Reread, Scope, Target, UsageReport,
};
use partnerdeck::app::{Effect, Model, Msg, Overlay, update};
use partnerdeck::domain::solution::{Solution, SolutionState};
use partnerdeck::graph::client::{parse_app_usage, parse_buc_usage};
use partnerdeck::graph::error::{GraphError, MAX_MESSAGE_CHARS, sanitize};
use partnerdeck::graph::model::{Role, SolutionAction, SolutionNode};
use partnerdeck::graph::paging::{Pager, Step, check_next_url, parse_page};
use partnerdeck::text::inert;
use partnerdeck::ui::{Theme, draw};
use proptest::prelude::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::{Map, Value};

/// The case count: `PROPTEST_CASES` if set, else `default` (kept small for `cargo test`).
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------- arbitrary JSON

/// Keys Meta's answers use, so generated objects often look almost right.
const KEYS: &[&str] = &[
    "error",
    "code",
    "error_subcode",
    "message",
    "type",
    "is_transient",
    "fbtrace_id",
    "error_user_title",
    "error_user_msg",
    "error_data",
    "details",
    "data",
    "paging",
    "cursors",
    "after",
    "before",
    "next",
    "previous",
    "id",
    "name",
    "status",
    "status_for_pending_request",
    "owner_app",
    "owner_permissions",
    "partners",
    "partner_app",
    "partner_permissions",
    "link",
    "success",
    "call_count",
    "total_cputime",
    "total_time",
    "estimated_time_to_regain_access",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9_ ]{0,12}",
        1 => any::<String>(),
        1 => Just("\u{1b}[2J\u{1b}]0;x\u{7}\u{202e}\u{9b}".to_string()),
        1 => Just("http://127.0.0.1:9/v25.0/1/x?after=QQ".to_string()),
        1 => Just("1970225308678201".to_string()),
        1 => prop::sample::select(vec!["ACTIVE", "INITIATED", "PENDING_ACTIVATION", "PENDING_DEACTIVATION", "NONE", "DRAFT", "REJECTED", "DEACTIVATED"]).prop_map(str::to_string),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        (0i64..1000).prop_map(Value::from),
        text().prop_map(Value::String),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![3 => prop::sample::select(KEYS).prop_map(str::to_string), 1 => text()],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn clean(s: &str) -> bool {
    !s.chars().any(|c| {
        c.is_control()
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
    })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn error_envelopes_never_panic_and_read_cleanly(v in json(), status in prop::option::of(100u16..600), trace in prop::option::of(text())) {
        let wrapped = serde_json::json!({ "error": v.clone() });
        for body in [&v, &wrapped] {
            if let Some(e) = GraphError::from_envelope(body, status, trace.as_deref()) {
                let s = e.sentence();
                prop_assert!(clean(&s), "{s:?}");
                prop_assert!(e.message.chars().count() <= MAX_MESSAGE_CHARS + 1);
                let _ = e.is_retryable();
                let _ = format!("{e:?}");
            }
        }
        let _ = GraphError::from_status(status.unwrap_or(500)).sentence();
    }

    #[test]
    fn pages_never_panic_and_stay_deduplicated(pages in prop::collection::vec(json(), 1..6)) {
        let mut pager = Pager::with_max_pages(5);
        for body in pages {
            match parse_page(body) {
                Ok(page) => match pager.push(page) {
                    Ok(Step::Next(next)) => {
                        let base = url::Url::parse("http://127.0.0.1:9").unwrap();
                        let _ = check_next_url(&base, &next);
                    }
                    Ok(_) | Err(_) => break,
                },
                Err(e) => { let _ = e.sentence(); break }
            }
        }
        let items = pager.into_items();
        // Items with a string or number id are de-duplicated by it (others are kept).
        let ids: Vec<String> = items
            .iter()
            .filter_map(|i| match i.get("id") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            })
            .collect();
        let unique: std::collections::HashSet<_> = ids.iter().collect();
        prop_assert_eq!(unique.len(), ids.len());
    }

    #[test]
    fn solution_nodes_never_panic_and_draw(v in json(), role in prop::sample::select(vec![Role::Owner, Role::Partner, Role::Unknown])) {
        let items = match &v {
            Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        };
        let mut solutions = vec![];
        for item in items {
            if let Ok(node) = serde_json::from_value::<SolutionNode>(item) {
                let _ = SolutionState::derive(&node.status, node.status_for_pending_request.as_deref());
                let s = Solution::new(node, role);
                let _ = s.waits_on_us();
                let _ = serde_json::to_string(&s).unwrap();
                solutions.push(s);
            }
        }
        let mut m = Model::new("1", "v25.0");
        update(&mut m, Msg::SolutionsLoaded { at: Utc.timestamp_opt(0, 0).unwrap(), started: ReadStamp::issue(), result: Ok(solutions) });
        update(&mut m, Msg::Key(KeyEvent::new(KeyCode::Char('l'), KeyModifiers::NONE)));
        let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
        t.draw(|f| draw(f, &m, Utc.timestamp_opt(60, 0).unwrap(), &Theme::monochrome())).unwrap();
        let screen = t.backend().to_string();
        prop_assert!(!screen.contains(char::from(0x1b)), "an escape reached the screen");
    }

    #[test]
    fn usage_headers_never_panic(s in any::<String>(), v in json()) {
        let _ = parse_app_usage(&s);
        let _ = parse_buc_usage(&s);
        let text = v.to_string();
        let _ = parse_app_usage(&text);
        let _ = parse_buc_usage(&text);
        let wrapped = serde_json::json!({ "1": [v] }).to_string();
        let (pct, regain) = parse_buc_usage(&wrapped);
        let _ = (pct, regain);
    }

    #[test]
    fn shown_text_is_always_inert(s in any::<String>()) {
        let sane = sanitize(&s);
        prop_assert!(clean(&sane));
        prop_assert!(sane.chars().count() <= MAX_MESSAGE_CHARS + 1);
        prop_assert!(clean(&inert(&s)));
        prop_assert_eq!(inert(&s).chars().count(), s.chars().count());
    }

    #[test]
    fn fault_lists_never_panic_the_simulator_parser(s in any::<String>(), v in json()) {
        let _ = graph_sim::faults::parse_json(&s);
        let _ = graph_sim::faults::parse_json(&v.to_string());
        let _ = graph_sim::faults::parse_toml(&s);
    }
}

// ---------------------------------------------------------------- the state machine

fn keys() -> impl Strategy<Value = KeyEvent> {
    let none = KeyModifiers::NONE;
    prop_oneof![
        8 => prop::sample::select(vec!['a', 'r', 'd', 'y', 'n', 'j', 'k', 'g', 'G', 'h', 'l', '/', '?', 'q', '1', '2', '3', 'x', ' ', 's', 'R', 'S', 'X', 'o', 'c'])
            .prop_map(move |c| KeyEvent::new(KeyCode::Char(c), none)),
        // Digits: pane jumps, and the PIN of a register dialog.
        2 => prop::sample::select(vec!['0', '1', '4', '5', '6', '9'])
            .prop_map(move |c| KeyEvent::new(KeyCode::Char(c), none)),
        3 => prop::sample::select(vec![
            KeyCode::Enter, KeyCode::Esc, KeyCode::Tab, KeyCode::BackTab, KeyCode::Up,
            KeyCode::Down, KeyCode::Left, KeyCode::Right, KeyCode::PageUp, KeyCode::PageDown,
            KeyCode::Home, KeyCode::End, KeyCode::Backspace,
        ])
        .prop_map(move |c| KeyEvent::new(c, none)),
        1 => prop::sample::select(vec!['r', 'c', 'a'])
            .prop_map(|c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
        1 => any::<char>().prop_map(move |c| KeyEvent::new(KeyCode::Char(c), none)),
    ]
}

fn failure() -> impl Strategy<Value = Failure> {
    prop::sample::select(vec![
        FailureKind::Throttled,
        FailureKind::AuthExpired,
        FailureKind::Transport,
        FailureKind::OutcomeUnknown,
        FailureKind::ReadOnly,
        FailureKind::Permission,
    ])
    .prop_map(|k| Failure::new(k, "Something \u{1b}[2J failed.", Some(4)))
}

fn node_for(id: String) -> impl Strategy<Value = SolutionNode> {
    prop::sample::select(vec![
        ("ACTIVE", "NONE"),
        ("INITIATED", "PENDING_ACTIVATION"),
        ("ACTIVE", "PENDING_DEACTIVATION"),
        ("DEACTIVATED", "NONE"),
        ("WEIRD", "X"),
    ])
    .prop_map(move |(s, p)| crate::common::node(&id, "Re-read", s, p))
}

/// Ids of the fixture book, plus one unknown id.
fn some_id() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "7001", "7002", "7003", "7004", "7005", "7006", "7007", "7008", "7009", "9999",
    ])
    .prop_map(str::to_string)
}

fn msg() -> impl Strategy<Value = Msg> {
    let at = Utc.timestamp_opt(1_795_000_000, 0).unwrap();
    let action = prop::sample::select(vec![
        SolutionAction::Accept,
        SolutionAction::Reject,
        SolutionAction::SendDeactivation,
        SolutionAction::AcceptDeactivation,
        SolutionAction::RejectDeactivation,
    ]);
    prop_oneof![
        20 => keys().prop_map(Msg::Key),
        2 => (0u16..300, 0u16..100).prop_map(|(width, height)| Msg::Resize { width, height, list_rows: partnerdeck::ui::list_rows(height) }),
        2 => (prop::collection::vec(0usize..9, 0..9), prop::option::of(failure())).prop_map(move |(pick, err)| {
            let book = crate::common::solutions();
            let result = match err {
                Some(f) => Err(f),
                None => Ok(pick.into_iter().map(|i| book[i].clone()).collect()),
            };
            Msg::SolutionsLoaded { at, started: ReadStamp::issue(), result }
        }),
        2 => some_id().prop_flat_map(|id| (node_for(id.clone()), prop::option::of(failure()), Just(id)))
            .prop_map(|(node, err, id)| Msg::DetailLoaded { id, started: ReadStamp::issue(), result: err.map_or(Ok(node), Err) }),
        2 => (some_id().prop_flat_map(|id| (node_for(id.clone()), Just(id))), action, 0u8..4, failure())
            .prop_map(|((node, id), action, how, failure)| {
                let reread = Reread::Solution(Box::new(node));
                let result = match how {
                    0 => ActionResult::Verified { reread },
                    1 => ActionResult::OutcomeUnknown { reread: Some(reread), failure },
                    2 => ActionResult::Failed { failure, reread: None },
                    _ => ActionResult::Unverified { failure },
                };
                let target = Target::Solution { id, name: "x".into(), action };
                Msg::ActionFinished(ActionOutcome { target, result, sent: ReadStamp::issue(), reread: ReadStamp::issue(), audit: Ok("/a".into()) })
            }),
        1 => some_id().prop_map(|id| Msg::ActionAnswerLost { id }),
        // WABA and credit-line refreshes, whole or partial, or failed.
        2 => (prop::collection::vec(0usize..8, 0..8), prop::option::of(failure())).prop_map(move |(pick, err)| {
            let mut book = crate::common::wabas();
            book.extend(crate::common::credit_wabas());
            let result = match err {
                Some(f) => Err(f),
                None => Ok(partnerdeck::app::msg::WabaList::of(pick.into_iter().filter_map(|i| book.get(i).cloned()).collect())),
            };
            Msg::WabasLoaded { at, started: ReadStamp::issue(), result }
        }),
        1 => prop::option::of(failure()).prop_map(move |err| Msg::CreditLinesLoaded {
            at,
            started: ReadStamp::issue(),
            result: err.map_or_else(|| Ok(crate::common::credit_lines()), Err),
        }),
        // A read whose allocation pages were not modified: some of the lines, as read.
        1 => prop::collection::vec(0usize..2, 0..3).prop_map(move |pick| {
            let lines = crate::common::credit_lines();
            let lines = pick.into_iter().map(|i| lines[i].line.clone()).collect();
            Msg::CreditAllocationsUnchanged { at, started: ReadStamp::issue(), lines }
        }),
        1 => Just(Msg::ScopeHeld { scope: Scope::Solutions, until: at }),
        1 => Just(Msg::RefreshStarted { scope: Scope::Solutions, at: Utc.timestamp_opt(0, 0).unwrap() }),
        1 => (prop::option::of(0u32..200), prop::option::of(0u32..200))
            .prop_map(|(app_pct, buc_pct)| Msg::UsageReported(UsageReport { app_pct, buc_pct })),
    ]
}

fn check_invariants(m: &Model) -> Result<(), TestCaseError> {
    let wabas = m.wabas.visible_len();
    prop_assert!(
        wabas == 0 || m.wabas.selected < wabas,
        "WABA selection out of range"
    );
    let view = m.credit.view(&m.wabas);
    prop_assert!(view.rows.is_empty() || m.credit.position(&view) < view.rows.len());
    let visible = m.solutions.visible().len();
    if visible == 0 {
        prop_assert_eq!(m.solutions.selected, 0);
    } else {
        prop_assert!(
            m.solutions.selected < visible,
            "selected {} of {}",
            m.solutions.selected,
            visible
        );
    }
    if let Some(Overlay::Confirm(c)) = &m.overlay {
        prop_assert!(!m.read_only, "a confirm dialog in read-only mode");
        if c.sending {
            prop_assert_eq!(m.in_flight.as_ref().map(|f| &f.target), Some(&c.target));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_key_and_message_sequence_keeps_the_invariants(
        msgs in prop::collection::vec(msg(), 0..80),
        read_only in any::<bool>(),
    ) {
        // All three panes loaded, starting on the Credit lines pane.
        let mut m = crate::common::credit_model();
        m.read_only = read_only;
        for msg in msgs {
            // What the model looked like before: was a confirm dialog open, unsent?
            let open_confirm = match &m.overlay {
                Some(Overlay::Confirm(c)) if !c.sending => Some(c.target.clone()),
                _ => None,
            };
            let busy = m.in_flight.is_some();
            // `y` confirms; in the register dialog Enter does too (with a full PIN).
            let is_y = matches!(&msg, Msg::Key(k) if (k.code == KeyCode::Char('y') || k.code == KeyCode::Enter) && k.modifiers == KeyModifiers::NONE);
            let effects = update(&mut m, msg);
            let performs: Vec<&Effect> = effects.iter().filter(|e| matches!(e, Effect::Perform { .. })).collect();
            prop_assert!(performs.len() <= 1, "{performs:?}");
            if let Some(Effect::Perform { target, pin }) = performs.first() {
                // The PIN never shows in what is printed of an effect.
                let shown = format!("{:?}", pin);
                prop_assert!(!shown.chars().any(|c| c.is_ascii_digit()), "the PIN shows: {}", shown);
                prop_assert!(!read_only, "a mutation in read-only mode");
                prop_assert!(is_y, "Perform without a `y`");
                prop_assert_eq!(open_confirm.as_ref(), Some(target), "Perform without an open confirm for it");
                prop_assert!(!busy, "a second mutation while one was in flight");
            }
            check_invariants(&m)?;
            if m.quitting {
                break;
            }
        }
        // Whatever happened, the screen draws.
        for (w, h) in [(80, 24), (20, 5)] {
            let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
            t.draw(|f| draw(f, &m, Utc.timestamp_opt(1_795_000_100, 0).unwrap(), &Theme::monochrome())).unwrap();
        }
    }
}
