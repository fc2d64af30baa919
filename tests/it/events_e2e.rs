//! `--demo` in a pseudo-terminal: the built-in simulator pushes a signed webhook to the
//! console's listener, and the event shows in the Events pane.

use std::time::{Duration, Instant};

use crate::common::console::Console;
use graph_sim::{self as sim, SimOptions, World};

#[test]
fn demo_onboarded_waba_shows_in_the_events_pane() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // Only for the harness's flags: --demo points the console at its own simulator.
    let unused = rt
        .block_on(sim::start(World::demo(), SimOptions::default()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut console = Console::start_env(
        &unused,
        dir.path(),
        &["--demo"],
        &[("PARTNERDECK_DEMO_TRICKLE", "0")],
    );
    console.wait_for("Pending");
    console.keys("4");
    console.wait_for("webhooks on 127.0.0.1:");

    // The in-process simulator's address, from the log.
    let log = dir.path().join("partnerdeck.log");
    let deadline = Instant::now() + Duration::from_secs(20);
    let base = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(rest) = text.split("graph_url=").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .unwrap()
                .trim_matches('"')
                .to_string();
        }
        assert!(Instant::now() < deadline, "no graph_url in the log: {text}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let r: serde_json::Value = rt
        .block_on(async {
            reqwest::Client::new()
                .post(format!("{base}/__sim/onboard_waba?name=Tern%20Labs"))
                .send()
                .await
                .unwrap()
                .json()
                .await
        })
        .unwrap();
    let waba = r["waba_id"].as_str().unwrap().to_string();
    let screen = console.wait_for(&waba);
    assert!(screen.contains("webhook"), "{screen}");
    assert!(
        dir.path().join("demo-events.sqlite3").exists(),
        "a demo event DB next to the audit log"
    );
    console.keys("q");
    console.wait_exit();
}
