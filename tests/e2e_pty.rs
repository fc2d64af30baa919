//! The real binary in a pseudo-terminal against the simulator over loopback: a person's
//! keys in, the screen (parsed by a terminal emulator) out.

mod common;

use std::time::{Duration, Instant};

use common::console::Console;
use partnerdeck::sim::{self, SimOptions, World};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

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
    let done = console.wait_for("verified, now active");
    assert!(done.contains("Audit log:"), "{done}");

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
    assert_eq!(lines.len(), 1, "{audit}");
    let line = &lines[0];
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

    console.keys("\r");
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
fn sigterm_and_a_closed_terminal_end_the_process() {
    let rt = rt();
    let sim = rt
        .block_on(sim::start(World::demo(), SimOptions::default()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    let mut console = Console::start(&sim, dir.path(), &[]);
    console.wait_for("refreshed");
    let pid = console.child.process_id().unwrap();
    // SAFETY-free: kill(1) is the plain way to send a signal from a test.
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    console.wait_exit();
    // The terminal was restored: the alternate screen was left.
    assert!(!console.screen.lock().unwrap().screen().alternate_screen());
}

#[test]
fn a_closed_terminal_ends_the_process() {
    let rt = rt();
    let sim = rt
        .block_on(sim::start(World::demo(), SimOptions::default()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // No reader thread here: it would hold a copy of the terminal open.
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 80,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_partnerdeck"));
    cmd.args(["--graph-url", &sim.base_url(), "--app-id", &sim.app_id()]);
    cmd.arg("--audit-log");
    cmd.arg(dir.path().join("audit.jsonl"));
    cmd.arg("--log-file");
    cmd.arg(dir.path().join("partnerdeck.log"));
    cmd.env_clear();
    cmd.env("PARTNERDECK_TOKEN", sim.token());
    cmd.env("TERM", "xterm-256color");
    cmd.env("HOME", dir.path());
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "it should be running");
    // The SSH session drops: the terminal's master side goes away.
    drop(pty.master);
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still running after its terminal closed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
