//! The terminal and the process, with the real binary in a pseudo-terminal: restored after
//! quit, Ctrl-C, SIGTERM, SIGHUP and a panic; gone within a second when the terminal closes;
//! idle without spinning; keys answered while a request hangs; nothing hostile or secret
//! reaches the terminal; an audit line survives `kill -9`; a lost answer is shown as
//! "outcome unknown — re-reading", then the truth.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::console::Console;
use graph_sim::{self as sim, Fault, FaultAction, SimHandle, SimOptions, World};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn start_sim(rt: &tokio::runtime::Runtime, faults: Vec<Fault>) -> SimHandle {
    rt.block_on(sim::start(
        World::demo(),
        SimOptions {
            faults,
            ..SimOptions::default()
        },
    ))
    .unwrap()
}

const ESC: &str = "\u{1b}";

#[test]
fn the_terminal_is_restored_after_quit_ctrl_c_sigterm_sighup_and_a_panic() {
    let rt = rt();
    let sim = start_sim(&rt, vec![]);
    enum Way {
        Key(&'static str),
        Signal(&'static str),
        Panic,
    }
    for (name, way) in [
        ("q", Way::Key("q")),
        ("Ctrl-C", Way::Key("\u{3}")),
        ("SIGTERM", Way::Signal("TERM")),
        ("SIGHUP", Way::Signal("HUP")),
        ("SIGINT", Way::Signal("INT")),
        ("panic", Way::Panic),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let env: &[(&str, &str)] = match way {
            Way::Panic => &[("PARTNERDECK_TEST_PANIC", "1")],
            _ => &[],
        };
        let mut c = Console::start_env(&sim, dir.path(), &[], env);
        let status = match way {
            Way::Key(k) => {
                c.wait_for("refreshed");
                // While it runs the terminal is raw: the check below can tell.
                let raw = c.stty();
                assert!(raw.split_whitespace().any(|f| f == "-icanon"), "{raw}");
                c.send(k);
                c.wait_exit_within(Duration::from_secs(2))
            }
            Way::Signal(s) => {
                c.wait_for("refreshed");
                c.signal(s);
                c.wait_exit_within(Duration::from_secs(2))
            }
            Way::Panic => c.wait_exit_within(Duration::from_secs(5)),
        };
        // Let the reader thread take in the last bytes.
        std::thread::sleep(Duration::from_millis(200));
        c.assert_restored();
        match way {
            Way::Panic => {
                assert!(!status.success(), "{name}: a panic must not exit 0");
                let screen = c.contents();
                assert!(
                    screen.contains("deliberate panic after the first draw"),
                    "{name}: the panic message is not on the restored screen:\n{screen}"
                );
            }
            _ => assert!(status.success(), "{name}: exit {status:?}"),
        }
        assert!(
            !String::from_utf8_lossy(&c.raw_bytes()).contains(&sim.token()),
            "{name}: the token reached the terminal"
        );
    }
}

/// CPU seconds (user + system) the process has used, from /proc.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which is in parentheses).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// `partnerdeck` in an 80x24 pty with nobody reading its output: a reader thread would hold a
/// copy of the terminal open, and these tests close it. The output is small; the pty buffer
/// holds it.
fn spawn_without_reader(
    sim: &SimHandle,
    dir: &Path,
) -> (
    Box<dyn portable_pty::Child + Send + Sync>,
    Box<dyn portable_pty::MasterPty + Send>,
) {
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
    cmd.arg(dir.join("audit.jsonl"));
    cmd.arg("--log-file");
    cmd.arg(dir.join("partnerdeck.log"));
    cmd.env_clear();
    cmd.env("PARTNERDECK_TOKEN", sim.token());
    cmd.env("TERM", "xterm-256color");
    cmd.env("HOME", dir);
    let child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    (child, pty.master)
}

#[test]
fn idle_without_spinning_and_gone_within_a_second_when_the_terminal_closes() {
    let rt = rt();
    let sim = start_sim(&rt, vec![]);
    let dir = tempfile::tempdir().unwrap();
    let (mut child, master) = spawn_without_reader(&sim, dir.path());
    let pid = child.process_id().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "it should be running");
    // Idle: the age tick redraws once a second; that must cost next to nothing.
    let before = cpu_secs(pid);
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_secs(pid) - before;
    assert!(used < 0.3, "idle for 2 s used {used:.2} s of CPU");
    // The SSH session drops: the terminal's master side goes away.
    drop(master);
    let closed = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        // The program exits at once (typically well under 100 ms); the bound leaves room for
        // a loaded 2-core CI machine without letting a hang or a spin pass.
        assert!(
            closed.elapsed() < Duration::from_secs(2),
            "still running 2 s after its terminal closed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn gone_when_the_terminal_closes_while_a_call_hangs_after_a_pane_switch() {
    // The pane switch once asked the terminal for the cursor position; with the terminal gone
    // the answer never came and the process spun. Now nothing waits on the terminal.
    let rt = rt();
    let sim = start_sim(
        &rt,
        vec![
            Fault::new(FaultAction::StallBody { ms: 600_000 }).get("*/whatsapp_business_solutions"),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let (mut child, master) = spawn_without_reader(&sim, dir.path());
    let mut keys = master.take_writer().unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    for k in ["?", "\u{1b}", "2", "1", "2"] {
        keys.write_all(k.as_bytes()).unwrap();
        keys.flush().unwrap();
        std::thread::sleep(Duration::from_millis(150));
    }
    drop(keys);
    drop(master);
    let closed = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if closed.elapsed() > Duration::from_secs(2) {
            let _ = child.kill();
            panic!("still running 2 s after its terminal closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn keys_are_answered_while_a_request_is_stalled() {
    let rt = rt();
    // Every list call sends half its body and then hangs.
    let sim = start_sim(
        &rt,
        vec![
            Fault::new(FaultAction::StallBody { ms: 600_000 }).get("*/whatsapp_business_solutions"),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let mut c = Console::start(&sim, dir.path(), &[]);
    c.wait_for("Loading solutions");
    c.wait_for("refreshing");
    let t = Instant::now();
    c.send("?");
    // The call is stalled for 10 minutes; keys are answered in well under a second (the
    // bounds leave room for a loaded CI machine).
    c.wait_for_within("refresh now", Duration::from_secs(3));
    let help = t.elapsed();
    c.send("\u{1b}");
    c.wait_gone("refresh now", Duration::from_secs(3));
    let t = Instant::now();
    c.send("2");
    c.wait_gone("Loading solutions", Duration::from_secs(3));
    let pane = t.elapsed();
    assert!(help < Duration::from_secs(2), "help took {help:?}");
    assert!(pane < Duration::from_secs(2), "pane switch took {pane:?}");
    // Quitting does not wait for the stalled call.
    let t = Instant::now();
    c.send("q");
    let status = c.wait_exit_within(Duration::from_secs(3));
    assert!(status.success());
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "quit took {:?}",
        t.elapsed()
    );
    std::thread::sleep(Duration::from_millis(100));
    c.assert_restored();
}

#[test]
fn hostile_names_never_reach_the_terminal_as_commands() {
    let rt = rt();
    let sim = start_sim(
        &rt,
        vec![Fault::new(FaultAction::HostileNames).method("GET")],
    );
    let dir = tempfile::tempdir().unwrap();
    let mut c = Console::start(&sim, dir.path(), &[]);
    c.wait_for("refreshed");
    // The All lane, then the detail of the first rows (partner app names too).
    c.keys("llll");
    c.wait_for("All 31");
    c.keys("\r");
    c.keys("j");
    c.keys("j");
    std::thread::sleep(Duration::from_millis(500));
    let screen = c.contents();
    // Shown, inert: the escape is a visible replacement character, not obeyed.
    assert!(
        screen.contains("Evil\u{241B}[2J\u{241B}[31mRed"),
        "{screen}"
    );
    let raw = String::from_utf8_lossy(&c.raw_bytes()).into_owned();
    for payload in [
        "\u{1b}[2J\u{1b}[31mRed",
        "\u{1b}]0;pwned",
        "pwned\u{7}",
        "\u{9b}31m",
        "\u{202E}",
        "\u{202C}",
    ] {
        assert!(!raw.contains(payload), "{payload:?} reached the terminal");
    }
    // The escapes the terminal did get are the program's own: every ESC starts a CSI
    // sequence (cursor moves, colours, modes), never an OSC (title) or anything else.
    for (i, _) in raw.match_indices(ESC) {
        let next = raw[i + 1..].chars().next();
        assert!(
            matches!(next, Some('[') | Some('7') | Some('8')),
            "unexpected escape {:?}",
            &raw[i..(i + 8).min(raw.len())]
        );
    }
    // Out of the detail first (q there closes it), then quit.
    c.keys(ESC);
    c.keys("q");
    c.wait_exit();
}

#[test]
fn a_lost_answer_shows_outcome_unknown_then_the_real_outcome() {
    let rt = rt();
    let id = sim::DEMO_PENDING_SOLUTION_ID;
    let sim = start_sim(
        &rt,
        vec![
            Fault::new(FaultAction::CommitThenDrop).post("*/accept"),
            // The re-read after the lost answer is slow, so "re-reading" stays on screen.
            Fault::new(FaultAction::Delay { ms: 1500 }).get(id).after(1),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let mut c = Console::start(&sim, dir.path(), &[]);
    c.wait_for("refreshed");
    c.keys("/");
    c.keys(id);
    c.keys("\r");
    c.wait_for(id);
    c.keys("a");
    c.wait_for(&format!("POST /v25.0/{id}/accept"));
    c.keys("y");
    c.wait_for("Outcome unknown — the answer was lost; re-reading");
    c.keys("y");
    let done = c.wait_for("Outcome was unknown");
    assert!(done.contains("re-read shows it"), "{done}");
    assert!(done.contains("(not sent again)"), "{done}");
    let posts = sim.requests().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 1, "the accept was sent more than once");
    assert_eq!(sim.solution_status(id).unwrap().0, "ACTIVE");
    c.keys("\r");
    c.keys("q");
    assert!(c.wait_exit().success());
}

#[test]
fn an_audit_line_survives_kill_9_right_after_the_action_is_reported() {
    let rt = rt();
    let sim = start_sim(&rt, vec![]);
    let dir = tempfile::tempdir().unwrap();
    let id = sim::DEMO_PENDING_SOLUTION_ID;
    let mut c = Console::start(&sim, dir.path(), &[]);
    c.wait_for("refreshed");
    c.keys("/");
    c.keys(id);
    c.keys("\r");
    c.wait_for(id);
    c.keys("a");
    c.wait_for("cannot be undone");
    c.send("y");
    c.wait_for("verified, now active");
    // The moment the console says it is done: no clean exit, no flush, nothing.
    c.signal("KILL");
    let status = c.wait_exit();
    assert!(!status.success());
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(audit.ends_with('\n'), "the line is incomplete: {audit:?}");
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "intent and outcome: {audit}");
    assert_eq!(lines[0]["phase"], "intent");
    assert_eq!(lines[1]["phase"], "outcome");
    assert_eq!(lines[1]["action"], "accept");
    assert_eq!(lines[1]["target"], id);
    assert_eq!(lines[1]["outcome"], "ok");
    assert_eq!(lines[1]["verified_state"], "active");
}

/// Do `key` (and confirm) on solution `id` in the All lane; wait for the outcome (a message)
/// and clear the filter.
fn act(c: &mut Console, id: &str, key: &str, outcome: &str) {
    c.keys("/");
    c.keys(id);
    c.keys("\r");
    c.wait_for(id);
    c.keys(key);
    c.wait_for(&format!("POST /v25.0/{id}/"));
    c.keys("y");
    c.wait_for(outcome);
    c.keys("\u{1b}");
}

fn snapshot(sim: &SimHandle, home: &Path) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_partnerdeck"))
        .args(["snapshot", "--json", "--graph-url"])
        .arg(sim.base_url())
        .args(["--app-id", &sim.app_id()])
        .env_clear()
        .env("PARTNERDECK_TOKEN", sim.token())
        .env("PARTNERDECK_LOG", "debug")
        .env("HOME", home)
        .output()
        .unwrap();
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_token_appears_nowhere_after_a_full_session() {
    let rt = rt();
    let sim = start_sim(&rt, vec![]);
    let token = sim.token();
    let dir = tempfile::tempdir().unwrap();
    let env = [("PARTNERDECK_LOG", "debug")];
    let mut c = Console::start_env(&sim, dir.path(), &[], &env);
    c.wait_for("refreshed");
    c.keys("\u{12}"); // Ctrl-r
    c.keys("llll");
    c.wait_for("All 31");
    // Every action.
    act(
        &mut c,
        sim::DEMO_PENDING_SOLUTION_ID,
        "a",
        "verified, now active",
    );
    act(&mut c, "1970225308678317", "r", "verified, now rejected");
    act(
        &mut c,
        sim::DEMO_ACTIVE_OWNED_SOLUTION_ID,
        "d",
        "verified, now pending",
    );
    act(
        &mut c,
        sim::DEMO_PENDING_DEACTIVATION_SOLUTION_ID,
        "a",
        "verified, now deactivated",
    );
    // A 190 whose message echoes the token, as Meta does for a malformed one.
    sim.set_faults(vec![Fault::new(FaultAction::Error {
        status: 401,
        code: 190,
        subcode: Some(467),
        error_type: Some("OAuthException".into()),
        message: "Malformed access token {token}".into(),
        is_transient: None,
    })]);
    c.keys("\u{12}");
    c.wait_for("renew it");
    c.keys("q");
    assert!(c.wait_exit().success());
    let mut places: Vec<(String, String)> = vec![
        ("screen".into(), c.contents()),
        (
            "terminal output".into(),
            String::from_utf8_lossy(&c.raw_bytes()).into_owned(),
        ),
    ];
    // The panic path.
    let panic_dir = tempfile::tempdir().unwrap();
    let mut p = Console::start_env(
        &sim,
        panic_dir.path(),
        &[],
        &[
            ("PARTNERDECK_TEST_PANIC", "1"),
            ("PARTNERDECK_LOG", "debug"),
        ],
    );
    p.wait_exit();
    std::thread::sleep(Duration::from_millis(200));
    places.push((
        "panic output".into(),
        String::from_utf8_lossy(&p.raw_bytes()).into_owned(),
    ));
    // The snapshot, with and without the echoing error.
    places.push(("snapshot (190)".into(), snapshot(&sim, dir.path())));
    sim.clear_faults();
    let ok = snapshot(&sim, dir.path());
    assert!(ok.contains("\"solutions\""), "{ok}");
    places.push(("snapshot".into(), ok));
    for (name, file) in [
        ("log file", dir.path().join("partnerdeck.log")),
        ("audit log", dir.path().join("audit.jsonl")),
        ("panic log file", panic_dir.path().join("partnerdeck.log")),
    ] {
        places.push((
            name.into(),
            std::fs::read_to_string(file).unwrap_or_default(),
        ));
    }
    let urls: String = sim
        .requests()
        .iter()
        .map(|r| format!("{}?{}\n", r.path, r.query))
        .collect();
    places.push(("request URLs".into(), urls));
    // The session did what it should, so the checks mean something.
    let audit = &places.iter().find(|(n, _)| n == "audit log").unwrap().1;
    assert_eq!(
        audit.lines().count(),
        8,
        "intent and outcome of 4 actions: {audit}"
    );
    let log = &places.iter().find(|(n, _)| n == "log file").unwrap().1;
    assert!(log.contains("graph error") && log.contains("190"), "{log}");
    for (name, text) in &places {
        assert!(!text.contains(&token), "the token is in the {name}");
    }
}

#[test]
fn complex_scripts_leave_no_ghost_cells_when_rows_change() {
    let rt = rt();
    let sim = start_sim(&rt, vec![]);
    let dir = tempfile::tempdir().unwrap();
    let mut c = Console::start(&sim, dir.path(), &[]);
    c.wait_for("refreshed");
    let devanagari = |s: &str| s.chars().any(|ch| ('\u{0900}'..='\u{097F}').contains(&ch));
    let full = c.wait_for("संवाद");
    assert!(devanagari(&full));
    // Hide every row, then switch lanes back and forth: each time rows are redrawn over
    // Devanagari names, no mark of them may stay behind.
    c.keys("/");
    c.keys("zzz");
    c.keys("\r");
    c.wait_for("No pending solution matches");
    std::thread::sleep(Duration::from_millis(200));
    let empty = c.contents();
    assert!(!devanagari(&empty), "ghost cells:\n{empty}");
    c.keys("\u{1b}");
    c.wait_for("संवाद");
    for _ in 0..5 {
        c.keys("l");
    }
    c.keys("h");
    std::thread::sleep(Duration::from_millis(200));
    let lanes = c.contents();
    let other_rows: Vec<&str> = lanes
        .lines()
        .filter(|l| l.starts_with('│') && !l.contains("संवाद") && !l.contains("हिन्दी"))
        .collect();
    for row in other_rows {
        assert!(!devanagari(row), "ghost cells in {row:?}\n{lanes}");
    }
    c.keys("q");
    c.wait_exit();
}

/// The terminal goes away while Meta has not answered an accept: the console writes the
/// attempt's outcome as "interrupted" before it exits (bounded wait), and the next start
/// finds it, says so, re-reads the solution and records what it found.
#[test]
fn a_hangup_mid_action_is_recorded_and_the_next_start_rereads_it() {
    let rt = rt();
    let id = sim::DEMO_PENDING_SOLUTION_ID;
    let sim = start_sim(
        &rt,
        vec![
            Fault::new(FaultAction::Delay { ms: 15_000 })
                .method("POST")
                .path(&format!("{id}/accept")),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let mut c = Console::start(&sim, dir.path(), &[]);
    c.wait_for("refreshed");
    c.keys("/");
    c.keys(id);
    c.keys("\r");
    c.wait_for(id);
    c.keys("a");
    c.wait_for("cannot be undone");
    c.send("y");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&audit_path)
        .unwrap_or_default()
        .contains("\"phase\":\"intent\"")
    {
        assert!(Instant::now() < deadline, "no intent was written");
        std::thread::sleep(Duration::from_millis(20));
    }
    c.signal("HUP");
    // Gone within the quit grace and a little: it does not wait for Meta's answer.
    c.wait_exit_within(Duration::from_secs(8));
    let audit = std::fs::read_to_string(&audit_path).unwrap();
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{audit}");
    assert_eq!(lines[0]["phase"], "intent");
    assert_eq!(lines[1]["phase"], "outcome");
    assert_eq!(lines[1]["outcome"], "interrupted");
    assert_eq!(lines[1]["attempt"], lines[0]["attempt"]);

    // The next start: said on screen, re-read, recorded.
    sim.set_faults(vec![]);
    let mut c = Console::start(&sim, dir.path(), &[]);
    c.wait_for("Re-read after the last session");
    c.keys("q");
    c.wait_exit();
    let records = partnerdeck::audit::read_records(&audit_path).unwrap();
    assert_eq!(records.len(), 3, "{records:?}");
    assert_eq!(records[2].phase, "recovery");
    assert_eq!(records[2].attempt, records[0].attempt);
    assert!(records[2].verified_state.is_some(), "{:?}", records[2]);
    assert!(partnerdeck::audit::unresolved(&records).is_empty());
}
