//! The real binary in a pseudo-terminal against the simulator over loopback: a person's
//! keys in, the screen (parsed by a terminal emulator) out.

use crate::common::console::Console;
use graph_sim::{self as sim, SimOptions, World};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn accept_a_pending_request_with_keys_then_check_simulator_and_audit() {
    let rt = rt();
    let sim = rt
        .block_on(sim::start(World::demo(), SimOptions::default()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let id = sim::DEMO_PENDING_SOLUTION_ID;
    assert_eq!(
        sim.solution_status(id).unwrap().0,
        "INITIATED",
        "the demo world starts with this request pending"
    );

    let mut console = Console::start(&sim, dir.path(), &[]);
    console.wait_for("Pending");
    console.wait_for("refreshed");
    // Narrow to the one request by its id, then accept it.
    console.keys("/");
    console.keys(id);
    console.keys("\r");
    console.wait_for(id);
    console.keys("a");
    let dialog = console.wait_for(&format!("POST /v25.0/{id}/accept"));
    assert!(dialog.contains("cannot be undone"), "{dialog}");
    console.keys("y");
    console.keys("y"); // a second press must not send again
    // A success is a message in the words of the key, not a dialog to close.
    let done = console.wait_for("verified, now active");
    assert!(done.contains("Accepted '"), "{done}");
    assert!(!done.contains("Audit log:"), "{done}");

    let (status, pending) = sim.solution_status(id).unwrap();
    assert_eq!((status.as_str(), pending.as_str()), ("ACTIVE", "NONE"));
    let accepts = sim
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with(&format!("{id}/accept")))
        .count();
    assert_eq!(accepts, 1, "accept must be sent exactly once");

    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Written ahead: the intent, then the outcome of the same attempt.
    assert_eq!(lines.len(), 2, "{audit}");
    assert_eq!(lines[0]["phase"], "intent");
    assert_eq!(lines[0]["attempt"], lines[1]["attempt"]);
    let line = &lines[1];
    assert_eq!(line["action"], "accept");
    assert_eq!(line["target"], id);
    assert_eq!(line["operator"], "e2e-operator");
    assert_eq!(line["outcome"], "ok");
    assert_eq!(line["http_status"], 200);
    assert_eq!(line["verified_state"], "active");
    assert!(line["fbtrace_id"].is_string());
    assert!(
        !audit.contains(&sim.token()),
        "the token leaked into the audit log"
    );

    console.keys("q");
    assert!(console.wait_exit().success());
    let log = std::fs::read_to_string(dir.path().join("partnerdeck.log")).unwrap_or_default();
    assert!(!log.contains(&sim.token()), "the token leaked into the log");
}

#[test]
fn read_only_console_sends_no_mutation() {
    let rt = rt();
    let sim = rt
        .block_on(sim::start(World::demo(), SimOptions::default()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut console = Console::start(&sim, dir.path(), &["--read-only"]);
    console.wait_for("READ-ONLY");
    console.wait_for("refreshed");
    // Every action key in every lane, each followed by a confirm.
    for _ in 0..5 {
        for k in ["a", "y", "r", "y", "d", "y", "j"] {
            console.keys(k);
        }
        console.keys("l");
    }
    // The first pending request waits on us: accept is refused, and says why.
    console.keys("1");
    console.keys("g");
    console.keys("a");
    console.wait_for("Read-only mode: accept is not sent");
    console.keys("q");
    assert!(console.wait_exit().success());
    let mutations: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .collect();
    assert!(mutations.is_empty(), "{mutations:?}");
}

#[test]
fn subscribe_a_waba_and_register_its_number_with_keys() {
    let rt = rt();
    let sim = rt
        .block_on(sim::start(World::demo(), SimOptions::default()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let business = sim.business_id();
    let mut console = Console::start(&sim, dir.path(), &["--business-id", &business]);
    console.wait_for("refreshed");
    console.keys("2");
    console.wait_for("Needs attention");

    // Subscribe our app to a WABA that is not subscribed yet.
    let waba = sim::DEMO_WABA_TO_ONBOARD_ID;
    console.keys("/");
    console.keys(waba);
    console.keys("\r");
    console.wait_for(waba);
    console.keys("s");
    console.wait_for(&format!("POST /v25.0/{waba}/subscribed_apps"));
    console.keys("y");
    console.wait_for("Webhooks subscribed");

    // Register the number of another WABA with its PIN, typed into the masked field.
    let pin_waba = sim::DEMO_WABA_PIN_ID;
    console.keys("\u{1b}"); // clear the filter
    console.keys("/");
    console.keys(pin_waba);
    console.keys("\r");
    console.wait_for(pin_waba);
    console.keys("\r");
    console.wait_for("R register");
    console.keys("R");
    console.wait_for(&format!("POST /v25.0/{}/register", sim::DEMO_PIN_PHONE_ID));
    console.keys(sim::DEMO_PHONE_PIN);
    let masked = console.contents();
    assert!(
        !masked.contains(sim::DEMO_PHONE_PIN),
        "the PIN is on screen:\n{masked}"
    );
    console.keys("\r");
    console.wait_for("CONNECTED");

    // Graph batch requests (`POST /v25.0/`) are reads; the mutations are the rest.
    let posts: Vec<String> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && !r.path.ends_with("/v25.0/"))
        .map(|r| r.path)
        .collect();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(posts[0].ends_with(&format!("{waba}/subscribed_apps")));
    assert!(posts[1].ends_with(&format!("{}/register", sim::DEMO_PIN_PHONE_ID)));

    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let outcomes: Vec<&str> = audit
        .lines()
        .filter(|l| l.contains("\"phase\":\"outcome\""))
        .collect();
    assert_eq!(outcomes.len(), 2, "{audit}");
    assert_eq!(audit.lines().count(), 4, "an intent before each: {audit}");
    assert!(
        outcomes.iter().all(|l| l.contains("\"outcome\":\"ok\"")),
        "{audit}"
    );
    assert!(
        !audit.contains(sim::DEMO_PHONE_PIN),
        "the PIN is in the audit log"
    );
    let log = std::fs::read_to_string(dir.path().join("partnerdeck.log")).unwrap_or_default();
    assert!(!log.contains(sim::DEMO_PHONE_PIN), "the PIN is in the log");

    console.keys("\u{1b}");
    // The WABA detail is still open: Esc closes it (q would too), then q quits.
    console.keys("\u{1b}");
    console.keys("q");
    assert!(console.wait_exit().success());
}

/// `c` copies the selected id with OSC 52 (the bytes go to the terminal) and says what it
/// copied.
#[test]
fn c_copies_the_selected_id_with_osc_52() {
    use base64::Engine;
    let rt = rt();
    let sim = rt
        .block_on(sim::start(World::demo(), SimOptions::default()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let id = sim::DEMO_PENDING_SOLUTION_ID;
    let mut console = Console::start(&sim, dir.path(), &[]);
    console.wait_for("refreshed");
    console.keys("/");
    console.keys(id);
    console.keys("\r");
    console.wait_for(id);
    console.keys("c");
    console.wait_for(&format!("Copied solution id {id}"));
    let raw = String::from_utf8_lossy(&console.raw_bytes()).into_owned();
    let encoded = base64::engine::general_purpose::STANDARD.encode(id);
    assert!(
        raw.contains(&format!("\u{1b}]52;c;{encoded}")),
        "no OSC 52 with the id in the output"
    );
    console.keys("q");
    assert!(console.wait_exit().success());
}
