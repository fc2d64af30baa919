//! Issue 9: hostile answers from "Meta" (the simulator's fault vocabulary) are bounded, never
//! a panic, never a leak: throttles are not retried into the block, waits are clamped, the
//! token and the PIN are scrubbed at the client boundary whatever shape they come back in,
//! answers are capped in size, and one bad row spoils only itself.

use std::time::{Duration, Instant};

use graph_sim::faults::{EchoInto, Fault, FaultAction};
use graph_sim::{self as sim, SimHandle, SimOptions, World};
use partnerdeck::config::Token;
use partnerdeck::graph::client::{ClientConfig, GraphClient};
use partnerdeck::graph::error::{ErrorKind, MAX_WAIT};
use partnerdeck::graph::model::SolutionAction;
use partnerdeck::graph::waba_model::Pin;
use partnerdeck::graph::{credit, solutions, wabas};
use partnerdeck::snapshot;
use serde_json::Value;

async fn start() -> (SimHandle, GraphClient) {
    start_with(|c| c).await
}

async fn start_with(f: impl FnOnce(ClientConfig) -> ClientConfig) -> (SimHandle, GraphClient) {
    let h = sim::start(World::demo(), SimOptions::default())
        .await
        .unwrap();
    let cfg = f(ClientConfig::new(h.base_url(), Token::new(h.token())));
    let c = GraphClient::new(cfg).unwrap();
    (h, c)
}

fn calls_to(h: &SimHandle, needle: &str) -> usize {
    h.requests()
        .iter()
        .filter(|r| r.path.contains(needle))
        .count()
}

/// No piece of the token of 12 characters or more anywhere in `text`.
fn assert_clean(text: &str, secret: &str) {
    for w in secret.as_bytes().windows(12) {
        let w = std::str::from_utf8(w).unwrap();
        if let Some(i) = text.find(w) {
            let around = text.get(i.saturating_sub(200)..i + 12).unwrap_or(text);
            panic!("{w:?} of the secret in …{around}");
        }
    }
}

// ---------------------------------------------------------------- throttling

#[tokio::test]
async fn a_throttle_at_the_limit_is_not_retried_inside_the_round() {
    // Code 4 with HTTP 403 and X-App-Usage call_count 100: calls made now extend the block.
    let (h, c) = start().await;
    h.set_faults(vec![
        Fault::new(FaultAction::Throttle {
            code: 4,
            status: Some(403),
            regain_minutes: None,
            retry_after_secs: None,
        })
        .get("*/whatsapp_business_solutions"),
    ]);
    let e = solutions::list_solutions(&c, &h.app_id())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert_eq!(e.usage_pct, Some(100));
    // One call per role, no retry (it was 4 per role).
    assert_eq!(calls_to(&h, "whatsapp_business_solutions"), 2);
}

#[tokio::test]
async fn a_throttle_with_a_regain_time_is_not_retried_even_below_the_limit() {
    let (h, c) = start().await;
    h.set_faults(vec![
        Fault::new(FaultAction::Throttle {
            code: 80007,
            status: None,
            regain_minutes: Some(3),
            retry_after_secs: None,
        })
        .get("*/extendedcredits"),
    ]);
    let e = credit::list_credit_lines(&c, sim::DEMO_BUSINESS_ID)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert_eq!(e.retry_after, Some(Duration::from_secs(180)));
    assert_eq!(calls_to(&h, "extendedcredits"), 1);
}

#[tokio::test]
async fn a_huge_retry_after_is_clamped_to_a_day_and_said_in_words() {
    let (h, c) = start().await;
    h.set_faults(vec![
        Fault::new(FaultAction::Throttle {
            code: 4,
            status: Some(429),
            regain_minutes: None,
            retry_after_secs: Some(10u64.pow(13)),
        })
        .get("*/extendedcredits"),
    ]);
    let e = credit::list_credit_lines(&c, sim::DEMO_BUSINESS_ID)
        .await
        .unwrap_err();
    assert_eq!(e.retry_after, Some(MAX_WAIT));
    assert_eq!(
        e.sentence(),
        "Meta is throttling this app (code 4): calls resume in about 24 h."
    );
    // What the pollers do with it: a hold of at most a day, a deadline that does not overflow.
    let hold = partnerdeck::pacing::next_round(
        Duration::from_secs(30),
        Some(100),
        &partnerdeck::pacing::Outcome::of_error(&e),
    );
    assert_eq!(hold, partnerdeck::pacing::NextRound::Hold(MAX_WAIT));
    let now = chrono::Utc::now();
    let until = partnerdeck::pacing::deadline(now, Duration::from_secs(10u64.pow(13)));
    assert_eq!(until, now + chrono::Duration::hours(24));
}

// ---------------------------------------------------------------- the token and the PIN

#[tokio::test]
async fn a_token_echoed_as_unicode_escapes_never_reaches_a_name_or_the_snapshot() {
    let (h, c) = start().await;
    h.set_faults(vec![
        Fault::new(FaultAction::EchoToken {
            into: EchoInto::Name,
            escaped: true,
            pad: 0,
        })
        .get("*/whatsapp_business_solutions"),
    ]);
    let list = solutions::list_solutions(&c, &h.app_id()).await.unwrap();
    assert!(!list.is_empty());
    assert!(list.iter().all(|s| s.node.name == "Leak <redacted>"));
    let snap = snapshot::collect(&c, &h.app_id(), None, None, None).await;
    assert_clean(&snap.to_json(), &h.token());
    assert_clean(&snap.to_text(), &h.token());
}

#[tokio::test]
async fn a_token_in_an_error_message_is_scrubbed_before_the_message_is_cut() {
    let (h, c) = start().await;
    // 187 characters before the token: a message cut at 200 would keep 13 of it.
    h.set_faults(vec![
        Fault::new(FaultAction::EchoToken {
            into: EchoInto::Message,
            escaped: true,
            pad: 180,
        })
        .get("*/extendedcredits"),
    ]);
    let e = credit::list_credit_lines(&c, sim::DEMO_BUSINESS_ID)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert!(e.message.contains("<redacted>"), "{}", e.message);
    for text in [e.sentence(), format!("{e:?}")] {
        assert_clean(&text, &h.token());
    }
}

#[tokio::test]
async fn a_token_sent_as_the_trace_id_is_dropped() {
    let (h, c) = start().await;
    h.set_faults(vec![
        Fault::new(FaultAction::EchoToken {
            into: EchoInto::FbtraceId,
            escaped: true,
            pad: 0,
        })
        .get("*/extendedcredits")
        .times(1),
        Fault::new(FaultAction::EchoToken {
            into: EchoInto::Header,
            escaped: false,
            pad: 0,
        })
        .post("*/accept"),
    ]);
    let e = credit::list_credit_lines(&c, sim::DEMO_BUSINESS_ID)
        .await
        .unwrap_err();
    // Not the token, not `<redacted>`: a plain trace id (the header's) or none.
    assert!(
        e.fbtrace_id
            .as_deref()
            .is_none_or(|t| partnerdeck::graph::error::trace_id(t).is_some()),
        "{:?}",
        e.fbtrace_id
    );
    assert_clean(&format!("{e:?} {}", e.sentence()), &h.token());
    // The x-fb-trace-id header of a mutation's answer.
    let resp = solutions::perform(&c, sim::DEMO_PENDING_SOLUTION_ID, SolutionAction::Accept)
        .await
        .unwrap();
    assert_eq!(resp.fbtrace_id, None);
    assert_clean(&format!("{resp:?}"), &h.token());
}

#[tokio::test]
async fn a_next_link_with_access_token_is_followed_without_it() {
    let (h, c) = start().await;
    h.set_faults(vec![
        Fault::new(FaultAction::EchoToken {
            into: EchoInto::Next,
            escaped: false,
            pad: 0,
        })
        .get("*/whatsapp_business_solutions"),
    ]);
    let path = format!("{}/whatsapp_business_solutions", h.app_id());
    let items: Vec<Value> = c
        .get_all(&path, &[("role", "PARTNER"), ("limit", "3")])
        .await
        .unwrap();
    assert!(items.len() > 3, "{}", items.len());
    let follow_ups: Vec<_> = h
        .requests()
        .into_iter()
        .filter(|r| r.query.contains("after="))
        .collect();
    assert!(!follow_ups.is_empty());
    for r in follow_ups {
        assert!(!r.query.contains("access_token"), "{}", r.query);
    }
}

#[tokio::test]
async fn a_pin_echoed_in_a_register_refusal_is_scrubbed() {
    let (h, c) = start().await;
    h.set_faults(vec![
        Fault::new(FaultAction::EchoToken {
            into: EchoInto::Body,
            escaped: false,
            pad: 0,
        })
        .post("*/register"),
    ]);
    let pin = Pin::parse(sim::DEMO_PHONE_PIN).unwrap();
    let e = wabas::register_phone(&c, sim::DEMO_PIN_PHONE_ID, &pin)
        .await
        .unwrap_err();
    assert!(e.message.contains("request body"), "{}", e.message);
    for text in [e.sentence(), format!("{e:?}"), e.message.clone()] {
        assert!(!text.contains(sim::DEMO_PHONE_PIN), "{text}");
    }
}

// ---------------------------------------------------------------- size

#[tokio::test]
async fn an_endless_answer_is_cut_at_the_limit_quickly() {
    let (h, c) = start_with(|cfg| ClientConfig {
        max_answer_bytes: 1024 * 1024,
        max_get_retries: 0,
        ..cfg
    })
    .await;
    h.set_faults(vec![
        Fault::new(FaultAction::Oversize {
            bytes: None,
            announce: false,
        })
        .get("*/extendedcredits"),
    ]);
    let started = Instant::now();
    let e = credit::list_credit_lines(&c, sim::DEMO_BUSINESS_ID)
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(e.kind, ErrorKind::Transport);
    assert_eq!(
        e.sentence(),
        "Meta's answer was larger than the limit of 1 MB (max_answer_bytes), so it was not read."
    );
    // An announced size over the limit is refused before reading; one under it is read.
    h.set_faults(vec![
        Fault::new(FaultAction::Oversize {
            bytes: Some(3 * 1024 * 1024),
            announce: true,
        })
        .get("*/extendedcredits"),
    ]);
    let e = credit::list_credit_lines(&c, sim::DEMO_BUSINESS_ID)
        .await
        .unwrap_err();
    assert!(e.sentence().contains("1 MB"), "{}", e.sentence());
    // Not retried, even where reads are: it would be as large again.
    let (h2, c2) = start_with(|cfg| ClientConfig {
        max_answer_bytes: 1024 * 1024,
        max_get_retries: 3,
        ..cfg
    })
    .await;
    h2.set_faults(vec![
        Fault::new(FaultAction::Oversize {
            bytes: None,
            announce: false,
        })
        .get("*/extendedcredits"),
    ]);
    assert!(
        credit::list_credit_lines(&c2, sim::DEMO_BUSINESS_ID)
            .await
            .is_err()
    );
    assert_eq!(calls_to(&h2, "extendedcredits"), 1);
    h.set_faults(vec![
        Fault::new(FaultAction::Oversize {
            bytes: Some(512 * 1024),
            announce: false,
        })
        .get("*/extendedcredits"),
    ]);
    assert!(
        credit::list_credit_lines(&c, sim::DEMO_BUSINESS_ID)
            .await
            .unwrap()
            .is_empty()
    );
}

// ---------------------------------------------------------------- shape

#[tokio::test]
async fn a_number_for_a_solution_name_spoils_only_that_row() {
    let (h, c) = start().await;
    let all = solutions::list_solutions(&c, &h.app_id()).await.unwrap();
    h.set_faults(vec![
        Fault::new(FaultAction::PatchRow {
            index: 0,
            row: serde_json::json!({"name": 42}),
        })
        .get("*/whatsapp_business_solutions")
        .query("role=OWNER"),
    ]);
    let list = solutions::list_solutions(&c, &h.app_id()).await.unwrap();
    assert_eq!(list.len(), all.len());
    let bad: Vec<_> = list.iter().filter(|s| s.node.malformed.is_some()).collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].id(), all[0].id());
    let m = bad[0].node.malformed.as_ref().unwrap();
    assert!(m.raw.contains("42"), "{m:?}");
    // The snapshot keeps it, says so, and does not ask for its detail.
    let snap = snapshot::collect(&c, &h.app_id(), None, None, None).await;
    assert_eq!(snap.solutions.len(), all.len());
    assert!(
        snap.errors
            .iter()
            .any(|e| e.scope == "solutions" && e.message.starts_with("1 solution row(s)")),
        "{:?}",
        snap.errors
    );
}

#[tokio::test]
async fn a_waba_id_that_is_not_plain_spoils_only_that_wabas_checklist() {
    for bad_id in ["1045/../0000000101", "1045/subscribed_apps"] {
        let (h, c) = start().await;
        h.set_faults(vec![
            Fault::new(FaultAction::PatchRow {
                index: 0,
                row: serde_json::json!({ "id": bad_id }),
            })
            .get("*/client_whatsapp_business_accounts")
            .times(1),
        ]);
        let book = wabas::refresh(&c, sim::DEMO_BUSINESS_ID, None)
            .await
            .unwrap();
        assert_eq!(book.wabas.len(), sim::DEMO_WABA_COUNT);
        let failed: Vec<&str> = book
            .extras_failed
            .iter()
            .map(|(id, _)| id.as_str())
            .collect();
        assert!(failed.iter().all(|id| *id == bad_id), "{failed:?}");
        let marked: Vec<_> = book
            .wabas
            .iter()
            .filter(|w| w.node.malformed.is_some())
            .collect();
        assert_eq!(marked.len(), 1);
        assert_eq!(marked[0].id(), bad_id);
        assert!(marked[0].subscribed_apps.is_none());
        let read = book
            .wabas
            .iter()
            .filter(|w| w.subscribed_apps.is_some() && w.solutions.is_some())
            .count();
        assert_eq!(read, sim::DEMO_WABA_COUNT - 1, "{bad_id}");
    }
}

#[tokio::test]
async fn a_bad_allocation_row_spoils_only_itself() {
    let (h, c) = start().await;
    let before = credit::refresh(&c, Some(sim::DEMO_BUSINESS_ID), None)
        .await
        .unwrap();
    h.set_faults(vec![
        Fault::new(FaultAction::PatchRow {
            index: 1,
            row: serde_json::json!("not an allocation"),
        })
        .get("*/owning_credit_allocation_configs")
        .times(1),
    ]);
    let after = credit::refresh(&c, Some(sim::DEMO_BUSINESS_ID), None)
        .await
        .unwrap();
    let count = |v: &[partnerdeck::graph::credit_model::CreditLineData]| {
        v.iter().map(|l| l.allocations.len()).sum::<usize>()
    };
    assert_eq!(count(&after), count(&before));
    let bad: Vec<_> = after
        .iter()
        .flat_map(|l| &l.allocations)
        .filter(|a| a.malformed.is_some())
        .collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].id, "?");
    assert_eq!(
        bad[0].malformed.as_ref().unwrap().raw,
        "\"not an allocation\""
    );
}

#[tokio::test]
async fn a_batch_operation_with_a_path_that_is_not_plain_fails_alone() {
    use partnerdeck::graph::BatchGet;
    let (h, c) = start().await;
    let reqs = [
        BatchGet::new(
            format!("{}/subscribed_apps", sim::DEMO_WABA_COMPLETE_ID),
            &[],
        ),
        BatchGet::new("1045/../1/subscribed_apps", &[]),
        BatchGet::new(format!("{}/subscribed_apps", sim::DEMO_WABA_PIN_ID), &[]),
    ];
    let out = c.batch_get(&reqs).await.unwrap();
    assert_eq!(out.len(), 3);
    assert!(out[0].is_ok() && out[2].is_ok(), "{out:?}");
    assert_eq!(out[1].as_ref().unwrap_err().kind, ErrorKind::InvalidRequest);
    assert_eq!(calls_to(&h, ""), 1, "one batch request");
}

#[test]
fn a_token_sent_as_the_trace_id_never_reaches_the_log() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let h = rt
        .block_on(sim::start(World::demo(), SimOptions::default()))
        .unwrap();
    h.set_faults(vec![
        Fault::new(FaultAction::EchoToken {
            into: EchoInto::FbtraceId,
            escaped: true,
            pad: 0,
        })
        .get("*/whatsapp_business_solutions"),
    ]);
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("partnerdeck.log");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_partnerdeck"))
        .args(["snapshot", "--json", "--graph-url", &h.base_url()])
        .args(["--app-id", &h.app_id()])
        .arg("--log-file")
        .arg(&log)
        .env_clear()
        .env("PARTNERDECK_TOKEN", h.token())
        .env("PARTNERDECK_LOG", "debug")
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("graph error"), "{log}");
    assert_clean(&log, &h.token());
    assert_clean(&String::from_utf8_lossy(&out.stdout), &h.token());
}

#[tokio::test]
async fn the_credit_rounds_scrub_an_echoed_token_from_rows_read_as_text_and_ask_without_one() {
    let (h, c) = start().await;
    h.set_faults(vec![
        Fault::new(FaultAction::EchoToken {
            into: EchoInto::Name,
            escaped: true,
            pad: 0,
        })
        .get("*/owning_credit_allocation_configs"),
        Fault::new(FaultAction::EchoToken {
            into: EchoInto::Next,
            escaped: false,
            pad: 0,
        })
        .get("*/owning_credit_allocation_configs"),
    ]);
    let mut memory = credit::CreditMemory::default();
    for _ in 0..2 {
        let read = credit::refresh_round(&c, Some(&h.business_id()), None, &mut memory, true)
            .await
            .unwrap();
        assert_clean(&format!("{read:?}"), &h.token());
        if let credit::CreditRead::Read(lines) = read {
            assert!(lines.iter().all(|l| !l.allocations.is_empty()));
            assert_clean(&serde_json::to_string(&lines).unwrap(), &h.token());
        }
    }
    let asked: Vec<_> = h
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/owning_credit_allocation_configs"))
        .collect();
    assert!(
        asked.iter().any(|r| r.query.contains("after=")),
        "{asked:?}"
    );
    for r in asked {
        assert!(!r.query.contains("access_token"), "{}", r.query);
    }
}
