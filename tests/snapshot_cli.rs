//! `partnerdeck snapshot --json` against the simulator: the real binary, the real contract.

use std::process::Command;

use partnerdeck::sim::{self, SimOptions, World};
use serde_json::Value;

fn snapshot(
    base_url: &str,
    app_id: &str,
    token: &str,
    home: &std::path::Path,
) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_partnerdeck"))
        .args([
            "snapshot",
            "--json",
            "--graph-url",
            base_url,
            "--app-id",
            app_id,
        ])
        .env_clear()
        .env("PARTNERDECK_TOKEN", token)
        .env("HOME", home)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), json, stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn snapshot_json_lists_every_solution_with_state_and_role() {
    let h = sim::start(World::demo(), SimOptions::default())
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let (code, json, raw) = snapshot(&h.base_url(), &h.app_id(), &h.token(), home.path());
    assert_eq!(code, 0, "{raw}");
    assert!(json["fetched_at"].as_str().unwrap().contains('T'));
    assert_eq!(json["errors"], Value::Array(vec![]));
    assert_eq!(json["wabas"], Value::Array(vec![]));
    let sols = json["solutions"].as_array().unwrap();
    assert_eq!(sols.len(), 31);
    let find = |id: &str| sols.iter().find(|s| s["id"] == id).unwrap().clone();
    let cases = [
        (sim::DEMO_PENDING_SOLUTION_ID, "pending", "partner"),
        (sim::DEMO_PENDING_OWNED_SOLUTION_ID, "pending", "owner"),
        (sim::DEMO_ACTIVE_OWNED_SOLUTION_ID, "active", "owner"),
        (sim::DEMO_ACTIVE_PARTNER_SOLUTION_ID, "active", "partner"),
        (
            sim::DEMO_PENDING_DEACTIVATION_SOLUTION_ID,
            "pending_deactivation",
            "partner",
        ),
        (
            sim::DEMO_SENT_DEACTIVATION_SOLUTION_ID,
            "pending_deactivation",
            "owner",
        ),
        (sim::DEMO_DRAFT_SOLUTION_ID, "draft", "owner"),
        (sim::DEMO_UNKNOWN_STATUS_SOLUTION_ID, "unknown", "partner"),
    ];
    for (id, state, role) in cases {
        let s = find(id);
        assert_eq!(
            (s["state"].as_str(), s["role"].as_str()),
            (Some(state), Some(role)),
            "{s}"
        );
    }
    // Graph field names verbatim, raw values kept, detail fields filled.
    let odd = find(sim::DEMO_UNKNOWN_STATUS_SOLUTION_ID);
    assert_eq!(odd["status"], "SUSPENDED");
    let pending = find(sim::DEMO_PENDING_SOLUTION_ID);
    assert_eq!(pending["status_for_pending_request"], "PENDING_ACTIVATION");
    assert!(pending["owner_permissions"].is_array());
    assert!(pending["partners"][0]["partner_permissions"].is_array());
    assert!(!raw.contains(&h.token()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn snapshot_exits_1_and_lists_the_error_when_a_call_fails() {
    let h = sim::start(World::demo(), SimOptions::default())
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let bad = "EAAexpired-token-for-the-test";
    let (code, json, raw) = snapshot(&h.base_url(), &h.app_id(), bad, home.path());
    assert_eq!(code, 1, "{raw}");
    let errors = json["errors"].as_array().unwrap();
    assert_eq!(errors[0]["scope"], "solutions");
    assert_eq!(errors[0]["code"], 190);
    assert!(!raw.contains(bad));
}

#[test]
fn missing_settings_are_one_sentence_naming_the_setting() {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_partnerdeck"))
        .args(["snapshot"])
        .env_clear()
        .env("HOME", home.path())
        .env("PARTNERDECK_TOKEN", "EAAx")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("No app id"), "{err}");
    assert!(err.contains("PARTNERDECK_APP_ID"), "{err}");
    assert_eq!(
        err.trim().lines().count(),
        1,
        "one sentence, no backtrace: {err}"
    );
}
