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
    snapshot_with(
        base_url,
        app_id,
        token,
        home,
        &["--business-id", sim::DEMO_BUSINESS_ID],
    )
}

fn snapshot_with(
    base_url: &str,
    app_id: &str,
    token: &str,
    home: &std::path::Path,
    extra: &[&str],
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
        .args(extra)
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
    assert_eq!(
        json["wabas"].as_array().unwrap().len(),
        sim::DEMO_WABA_COUNT
    );
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
    // The WABAs fail on their own, with their own scope.
    assert!(
        errors
            .iter()
            .any(|e| e["scope"] == "wabas" && e["code"] == 190)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn snapshot_json_lists_wabas_with_numbers_and_the_onboarding_checklist() {
    let h = sim::start(World::demo(), SimOptions::default())
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let (code, json, raw) = snapshot(&h.base_url(), &h.app_id(), &h.token(), home.path());
    assert_eq!(code, 0, "{raw}");
    let wabas = json["wabas"].as_array().unwrap();
    let find = |id: &str| wabas.iter().find(|w| w["id"] == id).unwrap().clone();

    let done = find(sim::DEMO_WABA_COMPLETE_ID);
    assert_eq!(done["name"], "Lumen Bakery");
    assert_eq!(done["currency"], "EUR", "Graph field names verbatim");
    assert_eq!(done["owner_business_info"]["name"], "Lumen Bakery Ltd.");
    assert_eq!(done["health_status"]["can_send_message"], "AVAILABLE");
    assert_eq!(done["phone_numbers"][0]["status"], "CONNECTED");
    assert_eq!(done["phone_numbers"][0]["quality_rating"], "GREEN");
    assert_eq!(done["country"], "NL", "fields we do not model are kept");
    assert_eq!(
        done["onboarding"],
        serde_json::json!({"webhooks_subscribed": true, "credit_shared": true, "phones_registered": true})
    );

    let todo = find(sim::DEMO_WABA_TO_ONBOARD_ID);
    assert_eq!(
        todo["onboarding"],
        serde_json::json!({"webhooks_subscribed": false, "credit_shared": true, "phones_registered": false})
    );
    let none = find(sim::DEMO_WABA_NO_PHONE_ID);
    assert_eq!(none["phone_numbers"], Value::Array(vec![]));
    assert_eq!(none["onboarding"]["phones_registered"], false);
    assert_eq!(none["onboarding"]["credit_shared"], false);
    let odd = find(sim::DEMO_WABA_UNKNOWN_ENUMS_ID);
    assert_eq!(odd["health_status"]["can_send_message"], "DEGRADED_SERVICE");
    assert_eq!(odd["account_review_status"], "IN_APPEAL");
    let big = find(sim::DEMO_WABA_MANY_PHONES_ID);
    assert!(big["phone_numbers"].as_array().unwrap().len() > 25);
    assert!(!raw.contains(&h.token()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn snapshot_without_a_business_id_reports_wabas_and_still_lists_solutions() {
    let h = sim::start(World::demo(), SimOptions::default())
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let (code, json, raw) = snapshot_with(&h.base_url(), &h.app_id(), &h.token(), home.path(), &[]);
    assert_eq!(code, 1, "{raw}");
    assert_eq!(json["solutions"].as_array().unwrap().len(), 31);
    assert_eq!(json["wabas"], Value::Array(vec![]));
    let errors = json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{raw}");
    assert_eq!(errors[0]["scope"], "wabas");
    assert_eq!(errors[0]["code"], Value::Null);
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("--business-id")
    );
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
