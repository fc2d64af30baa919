//! Share and revoke from key to audit line against the simulator: the state machine's effect
//! is carried out by the action pipeline (intent → send once → re-read → outcome), and the outcome fed back.
//! The share whose answer is lost is re-read, never sent twice, and reported as it really went.

use crate::common::{feed, key};
use graph_sim::{self as sim, SimHandle, SimOptions, World};
use partnerdeck::app::ReadStamp;
use partnerdeck::app::credit_lines::RowKey;
use partnerdeck::app::msg::{ActionResult, Msg, Target, WabaList};
use partnerdeck::app::update::outcome_summary;
use partnerdeck::app::{Effect, Model};
use partnerdeck::audit::AuditRecord;
use partnerdeck::config::Token;
use partnerdeck::domain::funding::Verification;
use partnerdeck::effects::{Services, perform, poll};
use partnerdeck::graph::client::{ClientConfig, GraphClient};
use partnerdeck::graph::credit;
use partnerdeck::graph::error::ErrorKind;

struct Setup {
    sim: SimHandle,
    services: Services,
    _dir: tempfile::TempDir,
    audit_path: std::path::PathBuf,
}

async fn setup(read_only: bool) -> Setup {
    let sim = sim::start(World::demo(), SimOptions::default())
        .await
        .unwrap();
    let mut cfg = ClientConfig::new(sim.base_url(), Token::new(sim.token()));
    cfg.read_only = read_only;
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let services = crate::common::sim_services(&sim, GraphClient::new(cfg).unwrap(), &audit_path);
    Setup {
        sim,
        services,
        _dir: dir,
        audit_path,
    }
}

/// The console's model with one real refresh of WABAs and credit lines from the simulator.
async fn console(s: &Setup) -> Model {
    let mut m = Model::new(s.sim.app_id(), "v25.0");
    m.read_only = s.services.client.read_only();
    let book = partnerdeck::graph::wabas::refresh(&s.services.client, &s.sim.business_id(), None)
        .await
        .unwrap();
    let lines = credit::refresh(&s.services.client, Some(&s.sim.business_id()), None)
        .await
        .unwrap();
    feed(
        &mut m,
        [
            Msg::WabasLoaded {
                started: ReadStamp::issue(),
                at: crate::common::at(0),
                result: Ok(WabaList::of(book.wabas)),
            },
            Msg::CreditLinesLoaded {
                started: ReadStamp::issue(),
                at: crate::common::at(0),
                result: Ok(lines),
            },
            key('3'),
        ],
    );
    m
}

fn select(m: &mut Model, key: RowKey) {
    assert!(m.credit.select_key(&m.wabas, &key), "no row {key:?}");
}

fn the_effect(effects: Vec<Effect>) -> Target {
    let mut performs = effects.into_iter().filter_map(|e| match e {
        Effect::Perform { target, .. } => Some(target),
        _ => None,
    });
    let t = performs.next().expect("one Perform");
    assert!(performs.next().is_none(), "exactly one Perform");
    t
}

/// The outcome records, each checked to follow the intent of its attempt (written ahead).
fn audit_lines(s: &Setup) -> Vec<AuditRecord> {
    let all: Vec<AuditRecord> = std::fs::read_to_string(&s.audit_path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let outcomes: Vec<AuditRecord> = all
        .iter()
        .filter(|r| r.phase == "outcome")
        .cloned()
        .collect();
    for o in &outcomes {
        if o.outcome == "refused" {
            continue;
        }
        let i = all.iter().position(|r| r.attempt == o.attempt).unwrap();
        assert_eq!(all[i].phase, "intent", "no intent before {o:?}");
    }
    outcomes
}

fn share_posts(s: &Setup) -> usize {
    s.sim
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.contains("whatsapp_credit"))
        .count()
}

#[tokio::test]
async fn share_from_the_not_funded_list_is_sent_once_verified_and_audited() {
    let s = setup(false).await;
    let mut m = console(&s).await;
    select(&mut m, RowKey::NotFunded(sim::DEMO_WABA_LIMITED_ID.into()));
    let target = the_effect(feed(&mut m, [key('S'), key('y'), key('y')]));
    let outcome = perform::perform_alone(s.services.clone(), target, None).await;
    assert!(
        matches!(outcome.result, ActionResult::Verified { .. }),
        "{:?}",
        outcome.result
    );
    feed(&mut m, [Msg::ActionFinished(outcome.clone())]);
    assert_eq!(share_posts(&s), 1);
    // The WABA is funded by a new allocation, verified, and its checklist says so.
    let row = m.wabas.row(sim::DEMO_WABA_LIMITED_ID).unwrap();
    assert_eq!(row.onboarding.credit_shared, Some(true));
    assert_eq!(row.waba.node.currency().as_deref(), Some("GBP"));
    m.credit.lane = partnerdeck::app::credit_lines::CreditLane::Allocations;
    let view = m.credit.view(&m.wabas);
    let verified = view.rows.iter().any(|r| match r {
        partnerdeck::app::credit_lines::CreditRow::Allocation { line, alloc, check } => {
            m.credit
                .covered(&m.wabas, *line, *alloc, usize::MAX)
                .iter()
                .any(|w| w.id() == sim::DEMO_WABA_LIMITED_ID)
                && check.verification == Verification::Verified
        }
        _ => false,
    });
    assert!(verified);
    let audit = audit_lines(&s);
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "share_credit_line");
    assert_eq!(audit[0].outcome, "ok");
    assert_eq!(audit[0].verified_state.as_deref(), Some("verified"));
    assert!(
        audit[0]
            .call
            .contains("whatsapp_credit_sharing_and_attach?waba_id=")
    );
    assert!(audit[0].fbtrace_id.is_some());
}

#[tokio::test]
async fn a_share_whose_answer_is_lost_is_never_sent_twice_and_reports_what_happened() {
    let s = setup(false).await;
    let mut m = console(&s).await;
    s.sim.lose_next_share_answer();
    select(&mut m, RowKey::NotFunded(sim::DEMO_WABA_NO_PHONE_ID.into()));
    let target = the_effect(feed(&mut m, [key('S'), key('y')]));
    let outcome = perform::perform_alone(s.services.clone(), target, None).await;
    // The client saw a broken connection: outcome unknown; the re-read shows the share went
    // through, and nothing was sent again.
    match &outcome.result {
        ActionResult::OutcomeUnknown { reread, failure } => {
            assert_eq!(failure.kind, ErrorKind::OutcomeUnknown);
            let r = reread.as_ref().expect("re-read");
            assert_eq!(r.state(&outcome.target, ""), "verified");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(share_posts(&s), 1, "{:?}", s.sim.requests());
    let s_text = outcome_summary(&outcome, "");
    assert!(s_text.starts_with("Outcome unknown"), "{s_text}");
    assert!(s_text.contains("did go through"), "{s_text}");
    feed(&mut m, [Msg::ActionFinished(outcome)]);
    assert_eq!(
        m.wabas
            .row(sim::DEMO_WABA_NO_PHONE_ID)
            .unwrap()
            .onboarding
            .credit_shared,
        Some(true)
    );
    // It left the not-funded list, so S cannot be pressed on it again.
    let view = m.credit.view(&m.wabas);
    assert!(
        !view
            .rows
            .iter()
            .any(|r| m.credit.key_of(r) == RowKey::NotFunded(sim::DEMO_WABA_NO_PHONE_ID.into()))
    );
    let audit = audit_lines(&s);
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].outcome, "unknown");
    assert_eq!(audit[0].verified_state.as_deref(), Some("verified"));
}

#[tokio::test]
async fn revoke_is_sent_once_and_the_reread_shows_deleted() {
    let s = setup(false).await;
    let mut m = console(&s).await;
    select(
        &mut m,
        RowKey::Allocation(sim::DEMO_ALLOCATION_VERIFIED_ID.into()),
    );
    let target = the_effect(feed(&mut m, [key('X'), key('y'), key('y')]));
    let outcome = perform::perform_alone(s.services.clone(), target, None).await;
    assert!(
        matches!(outcome.result, ActionResult::Verified { .. }),
        "{:?}",
        outcome.result
    );
    feed(&mut m, [Msg::ActionFinished(outcome)]);
    let deletes = s
        .sim
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .count();
    assert_eq!(deletes, 1);
    let world = s.sim.world();
    assert_eq!(
        world
            .allocation(sim::DEMO_ALLOCATION_VERIFIED_ID)
            .unwrap()
            .request_status,
        "DELETED"
    );
    // The pane shows it revoked, and the WABA it funded (re-read too) not funded any more.
    let complete = m.wabas.row(sim::DEMO_WABA_COMPLETE_ID).unwrap();
    assert_eq!(complete.onboarding.credit_shared, Some(false));
    assert_eq!(complete.waba.node.primary_funding_id(), None);
    let audit = audit_lines(&s);
    assert_eq!(audit[0].action, "revoke_credit_allocation");
    assert_eq!(
        audit[0].call,
        format!("DELETE /v25.0/{}", sim::DEMO_ALLOCATION_VERIFIED_ID)
    );
    assert_eq!(audit[0].verified_state.as_deref(), Some("DELETED"));
}

#[tokio::test]
async fn a_refused_share_is_reported_with_metas_words_and_nothing_changes() {
    let s = setup(false).await;
    let before = s.sim.world();
    let target = Target::ShareCredit {
        credit_line_id: sim::DEMO_CREDIT_LINE_ID.into(),
        credit_line_name: "Northwind Messaging Ltd.".into(),
        waba_id: sim::DEMO_WABA_COMPLETE_ID.into(),
        waba_name: "Lumen Bakery".into(),
        business_id: None,
        business_name: "Lumen Bakery Ltd.".into(),
        currency: "EUR".into(),
    };
    let outcome = perform::perform_alone(s.services.clone(), target, None).await;
    match &outcome.result {
        ActionResult::Failed { failure, reread } => {
            assert_eq!(failure.code, Some(100));
            assert!(
                failure.sentence.contains("cannot be changed"),
                "{}",
                failure.sentence
            );
            assert!(reread.is_some(), "re-read to show it as it is");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.sim.world(), before);
    assert_eq!(audit_lines(&s)[0].outcome, "failed");
}

#[tokio::test]
async fn read_only_refuses_below_the_ui_and_nothing_reaches_the_simulator() {
    let s = setup(true).await;
    let target = Target::RevokeAllocation {
        allocation_id: sim::DEMO_ALLOCATION_VERIFIED_ID.into(),
        credit_line_id: sim::DEMO_CREDIT_LINE_ID.into(),
        credit_line_name: "Northwind Messaging Ltd.".into(),
        business_id: None,
        business_name: "Lumen Bakery Ltd.".into(),
        waba_ids: vec![],
    };
    let before = s.sim.requests().len();
    let outcome = perform::perform_alone(s.services.clone(), target, None).await;
    match &outcome.result {
        ActionResult::Failed { failure, reread } => {
            assert_eq!(failure.kind, ErrorKind::ReadOnly);
            assert!(reread.is_none());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.sim.requests().len(), before);
    assert_eq!(audit_lines(&s)[0].outcome, "refused");
}

#[tokio::test]
async fn the_poller_reports_credit_lines_and_stays_off_without_ids() {
    let s = setup(false).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (_wake_tx, wake_rx) = tokio::sync::watch::channel(0u64);
    let task = tokio::spawn(poll::poll_credit_lines(s.services.clone(), wake_rx, tx));
    let mut got = None;
    while let Some(msg) = rx.recv().await {
        if let Msg::CreditLinesLoaded { result, .. } = msg {
            got = Some(result);
            break;
        }
    }
    task.abort();
    let lines = got.unwrap().unwrap();
    assert_eq!(lines.len(), 2);

    let mut off = s.services.clone();
    off.business_id = None;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (_wake_tx, wake_rx) = tokio::sync::watch::channel(0u64);
    poll::poll_credit_lines(off, wake_rx, tx).await;
    assert!(rx.recv().await.is_none(), "returns at once, sends nothing");
}
