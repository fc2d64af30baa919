//! The simulator's signed pushes, received by the real listener over loopback and stored.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use graph_sim::{self as sim, SimOptions, WebhookOptions, World};
use partnerdeck::store::{AsyncStore, Query, StoredEvent};
use partnerdeck::webhooks::{AppSecret, Intake, IntakeConfig, ListenerConfig, Scope};
use tokio::sync::mpsc;

const SECRET: &str = "sim-push-test-secret";

async fn intake(
    dir: &std::path::Path,
) -> (Intake, mpsc::UnboundedReceiver<StoredEvent>, AsyncStore) {
    let store = AsyncStore::open(dir.join("events.sqlite3")).await.unwrap();
    let cfg = IntakeConfig {
        listen: Some(ListenerConfig::new(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            AppSecret::new(SECRET),
        )),
        ..IntakeConfig::default()
    };
    let (i, rx) = Intake::start(cfg, store.clone()).await.unwrap();
    (i, rx, store)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<StoredEvent>) -> StoredEvent {
    tokio::time::timeout(Duration::from_secs(15), rx.recv())
        .await
        .expect("a stored event within 15 s")
        .expect("channel open")
}

async fn sim_with(url: String, secret: &str, trickle: Option<Duration>) -> sim::SimHandle {
    sim::start(
        World::demo(),
        SimOptions {
            webhooks: Some(WebhookOptions {
                trickle,
                ..WebhookOptions::new(url, secret)
            }),
            ..SimOptions::default()
        },
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_pushes_signed_deliveries_that_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (intake, mut rx, store) = intake(dir.path()).await;
    let url = format!("http://{}/webhook", intake.listen_addr().unwrap());
    let h = sim_with(url, SECRET, None).await;
    let http = reqwest::Client::new();

    // Accepting a solution request pushes partner_solutions SOLUTION_UPDATED / ACTIVE.
    let r = http
        .post(format!(
            "{}/v25.0/{}/accept",
            h.base_url(),
            sim::DEMO_PENDING_SOLUTION_ID
        ))
        .bearer_auth(h.token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let e = next(&mut rx).await.event;
    assert_eq!(e.field.as_deref(), Some("partner_solutions"));
    assert_eq!(e.object_id.as_deref(), Some(sim::DEMO_PENDING_SOLUTION_ID));
    assert_eq!(
        e.summary,
        format!(
            "Solution {} now ACTIVE (accepted)",
            sim::DEMO_PENDING_SOLUTION_ID
        )
    );
    assert_eq!(e.scopes, vec![Scope::Solutions]);

    // A refused action pushes nothing; the next push is the onboarding.
    let r = http
        .post(format!(
            "{}/v25.0/{}/accept",
            h.base_url(),
            sim::DEMO_PENDING_SOLUTION_ID
        ))
        .bearer_auth(h.token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    let r: serde_json::Value = http
        .post(format!(
            "{}/__sim/onboard_waba?name=Tern%20Labs",
            h.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let waba = r["waba_id"].as_str().unwrap().to_string();
    assert!(h.world().waba(&waba).is_some(), "added to the world");
    let e = next(&mut rx).await.event;
    assert_eq!(e.event.as_deref(), Some("PARTNER_ADDED"));
    assert_eq!(e.object_id.as_deref(), Some(waba.as_str()));
    assert!(e.scopes.contains(&Scope::Wabas));

    let r = http
        .post(format!(
            "{}/__sim/restrict_waba?waba_id={}",
            h.base_url(),
            sim::DEMO_WABA_COMPLETE_ID
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let e = next(&mut rx).await.event;
    assert_eq!(e.event.as_deref(), Some("ACCOUNT_RESTRICTION"));
    assert_eq!(e.object_id.as_deref(), Some(sim::DEMO_WABA_COMPLETE_ID));
    assert!(
        e.summary
            .contains("RESTRICTED_BIZ_INITIATED_MESSAGING until"),
        "{}",
        e.summary
    );
    assert_eq!(
        h.world()
            .waba(sim::DEMO_WABA_COMPLETE_ID)
            .unwrap()
            .health
            .can_send_message,
        "LIMITED"
    );
    let r = http
        .post(format!("{}/__sim/restrict_waba?waba_id=404", h.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    let stored = store.query(Query::default()).await.unwrap();
    assert_eq!(stored.len(), 3);
    let stats = h.webhook_stats().unwrap();
    assert_eq!(stats.delivered.load(Ordering::Relaxed), 3);
    intake.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_signed_with_another_secret_are_refused_and_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (intake, mut rx, store) = intake(dir.path()).await;
    let url = format!("http://{}/", intake.listen_addr().unwrap());
    let h = sim_with(url, "not-the-app-secret", None).await;
    let r = reqwest::Client::new()
        .post(format!("{}/__sim/onboard_waba", h.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let stats = h.webhook_stats().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while stats.failed.load(Ordering::Relaxed) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "push never gave up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let listener = intake.listener_stats().unwrap();
    assert_eq!(
        listener.bad_signature.load(Ordering::Relaxed),
        3,
        "three tries"
    );
    assert!(rx.try_recv().is_err());
    assert!(store.query(Query::default()).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_trickle_sends_plausible_events() {
    let dir = tempfile::tempdir().unwrap();
    let (intake, mut rx, _store) = intake(dir.path()).await;
    let url = format!("http://{}/webhook", intake.listen_addr().unwrap());
    // Switched on after start, as `--demo` does once the listener's port is known.
    let h = sim::start(World::demo(), SimOptions::default())
        .await
        .unwrap();
    assert!(h.webhook_stats().is_none());
    let opts = WebhookOptions {
        trickle: Some(Duration::from_millis(30)),
        ..WebhookOptions::new(url, SECRET)
    };
    assert!(
        !format!("{opts:?}").contains(SECRET),
        "Debug hides the secret"
    );
    h.set_webhooks(Some(opts));
    for _ in 0..3 {
        let e = next(&mut rx).await.event;
        assert!(
            matches!(
                e.field.as_deref(),
                Some("account_update" | "account_review_update" | "phone_number_quality_update")
            ),
            "{e:?}"
        );
        assert!(!e.summary.contains("?"), "{}", e.summary);
    }
    h.set_webhooks(None);
    assert!(h.webhook_stats().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_intake_stores_each_change_once() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let store = AsyncStore::open(dir.path().join("events.sqlite3"))
        .await
        .unwrap();
    let file = dir.path().join("deliveries.jsonl");
    let cfg = IntakeConfig {
        file: Some(file.clone()),
        file_poll: Some(Duration::from_millis(20)),
        ..IntakeConfig::default()
    };
    let (intake, mut rx) = Intake::start(cfg, store.clone()).await.unwrap();
    let line = |id: &str| {
        format!(
            "{}\n",
            serde_json::json!({"object":"whatsapp_business_account","entry":[{"id":"7","time":1744823932,
                "changes":[{"field":"account_update","value":{"event":"ACCOUNT_DELETED"}}]}],"x":id})
        )
    };
    let append = |text: &str| {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&file)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    };
    append(&line("first"));
    let e = next(&mut rx).await;
    assert_eq!(e.event.summary, "WABA 7 deleted");
    // The same change delivered again (another envelope around it), then a new one.
    append(&line("retry"));
    append(
        "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"8\",\"time\":1744823932,\"changes\":[{\"field\":\"account_update\",\"value\":{\"event\":\"ACCOUNT_RECONNECTED\"}}]}]}\n",
    );
    let e = next(&mut rx).await;
    assert_eq!(
        e.event.summary, "WABA 8 reconnected",
        "the retry was not forwarded"
    );
    assert_eq!(store.query(Query::default()).await.unwrap().len(), 2);
    intake.shutdown().await;
}

#[test]
fn sim_webhook_flags() {
    use clap::Parser;
    use partnerdeck::cli::{Cli, Command};
    let c = Cli::try_parse_from([
        "pd",
        "sim",
        "--webhook-url",
        "http://127.0.0.1:9/webhook",
        "--webhook-trickle",
        "45",
    ])
    .unwrap();
    match c.command {
        Some(Command::Sim(s)) => {
            assert_eq!(s.webhook_url.as_deref(), Some("http://127.0.0.1:9/webhook"));
            assert_eq!(s.webhook_trickle, Some(45));
        }
        other => panic!("{other:?}"),
    }
    assert!(Cli::try_parse_from(["pd", "sim", "--webhook-trickle", "45"]).is_err());
    assert!(
        Cli::try_parse_from(["pd", "--app-secret", "x"]).is_err(),
        "never a flag"
    );
}
