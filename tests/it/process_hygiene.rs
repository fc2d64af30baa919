//! Issue 9, the terminal and the process: Ctrl-Z / SIGTSTP and `fg` give a working console
//! back; no terminal (or TERM=dumb) is one sentence and exit 2; a closed pipe is quiet;
//! anything a user caused is a sentence, not a backtrace; no core dumps; the data directory
//! is private.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::console::Console;
use graph_sim::{self as sim, SimHandle, SimOptions, World};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn start_sim(rt: &tokio::runtime::Runtime) -> SimHandle {
    rt.block_on(sim::start(World::demo(), SimOptions::default()))
        .unwrap()
}

/// The process state letter from /proc (`T` = stopped).
fn state(pid: u32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    rest.trim_start().chars().next().unwrap_or('?')
}

fn wait_state(pid: u32, want: char) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while state(pid) != want {
        assert!(
            Instant::now() < deadline,
            "state {} instead of {want}",
            state(pid)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn is_raw(c: &Console) -> bool {
    let stty = c.stty();
    let flags: Vec<&str> = stty.split_whitespace().collect();
    flags.contains(&"-icanon") && flags.contains(&"-echo")
}

fn wait_raw(c: &Console) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !is_raw(c) {
        assert!(Instant::now() < deadline, "not back in raw mode");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Wait until the last alternate-screen switch in the output is the one that leaves it.
fn wait_left_alternate_screen(c: &Console) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let raw = String::from_utf8_lossy(&c.raw_bytes()).into_owned();
        let (enter, leave) = (raw.rfind("\u{1b}[?1049h"), raw.rfind("\u{1b}[?1049l"));
        if leave.is_some() && leave > enter {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the alternate screen was not left"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The screen parser is fed right after the raw copy.
    std::thread::sleep(Duration::from_millis(100));
}

#[test]
fn ctrl_z_and_sigtstp_then_fg_give_back_a_working_console() {
    let rt = rt();
    let sim = start_sim(&rt);
    let dir = tempfile::tempdir().unwrap();
    let mut c = Console::start(&sim, dir.path(), &[]);
    c.wait_for("refreshed");
    for how in ["ctrl-z", "SIGTSTP"] {
        wait_raw(&c);
        match how {
            "ctrl-z" => c.send("\u{1a}"),
            _ => c.signal("TSTP"),
        }
        wait_state(c.pid(), 'T');
        // Stopped: the terminal is the shell's again, as it was (once the reader has seen
        // what was written before the stop).
        wait_left_alternate_screen(&c);
        c.assert_restored();
        // `fg`.
        c.signal("CONT");
        wait_raw(&c);
        // Redrawn in full on the alternate screen (the main screen never showed it).
        let screen = c.wait_for("refreshed");
        assert!(
            screen.contains("Solutions"),
            "{how}: not redrawn:\n{screen}"
        );
        // Keys work again.
        c.keys("2");
        c.wait_for("No business id is set");
        c.keys("1");
    }
    c.keys("q");
    assert!(c.wait_exit().success());
    wait_left_alternate_screen(&c);
    c.assert_restored();
}

#[test]
fn no_core_dumps_while_the_token_is_in_memory() {
    let rt = rt();
    let sim = start_sim(&rt);
    let dir = tempfile::tempdir().unwrap();
    let mut c = Console::start(&sim, dir.path(), &[]);
    c.wait_for("refreshed");
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", c.pid())).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    let f: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(&f[4..6], ["0", "0"], "{core}");
    c.keys("q");
    c.wait_exit();
}

#[test]
fn without_a_terminal_the_console_says_so_in_one_sentence() {
    let rt = rt();
    let sim = start_sim(&rt);
    let dir = tempfile::tempdir().unwrap();
    // Standard output into a file (a pipe here).
    let out = Command::new(env!("CARGO_BIN_EXE_partnerdeck"))
        .args(["--graph-url", &sim.base_url(), "--app-id", &sim.app_id()])
        .env_clear()
        .env("PARTNERDECK_TOKEN", sim.token())
        .env("TERM", "xterm-256color")
        .env("HOME", dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "{} bytes on stdout",
        out.stdout.len()
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not a terminal"), "{err}");
    // TERM=dumb in a real terminal.
    let mut c = Console::start_env(&sim, dir.path(), &[], &[("TERM", "dumb")]);
    let status = c.wait_exit();
    assert_eq!(status.exit_code(), 2);
    std::thread::sleep(Duration::from_millis(100));
    let screen = c.contents();
    assert!(screen.contains("TERM=dumb"), "{screen}");
    assert!(screen.trim().lines().count() <= 3, "{screen}");
}

#[test]
fn sim_into_a_closed_pipe_stops_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_partnerdeck"))
        .args(["sim", "--addr", "127.0.0.1:0"])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -1`: read one line, then close the pipe.
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.contains("simulator listening"), "{first}");
    drop(out);
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let done = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&done.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        !err.contains("Backtrace") && !err.contains("Location"),
        "{err}"
    );
    assert_ne!(done.status.code(), Some(101), "{err}");
}

#[test]
fn a_bad_audit_path_is_one_sentence_not_a_backtrace() {
    let rt = rt();
    let sim = start_sim(&rt);
    let dir = tempfile::tempdir().unwrap();
    // The audit log's path is a directory.
    std::fs::create_dir(dir.path().join("audit.jsonl")).unwrap();
    let mut c = Console::start(&sim, dir.path(), &[]);
    assert_eq!(c.wait_exit().exit_code(), 2);
    std::thread::sleep(Duration::from_millis(100));
    let text = String::from_utf8_lossy(&c.raw_bytes()).into_owned();
    assert!(
        text.contains("partnerdeck: Cannot open the audit log"),
        "{text}"
    );
    for report in ["Location:", "Backtrace", "BACKTRACE", "━━━"] {
        assert!(!text.contains(report), "{report} in {text}");
    }
}

#[cfg(unix)]
#[test]
fn the_data_directory_is_private_and_the_log_is_0600() {
    use std::os::unix::fs::PermissionsExt;
    let rt = rt();
    let sim = start_sim(&rt);
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_partnerdeck"))
        .args([
            "snapshot",
            "--graph-url",
            &sim.base_url(),
            "--app-id",
            &sim.app_id(),
        ])
        .env_clear()
        .env("PARTNERDECK_TOKEN", sim.token())
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(!out.stdout.is_empty());
    let data = home.path().join(".local/share/partnerdeck");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("partnerdeck.log")), 0o600);
}

#[test]
fn a_poll_interval_beyond_a_day_is_one_sentence() {
    let home = tempfile::tempdir().unwrap();
    for bad in ["0", "86401", "10000000000000"] {
        // The poll interval is the console's flag: before the subcommand (after it,
        // `snapshot` refuses it as a flag it does not read); settings are checked at start.
        let out = Command::new(env!("CARGO_BIN_EXE_partnerdeck"))
            .args(["--poll-interval", bad])
            .args([
                "snapshot",
                "--graph-url",
                "http://127.0.0.1:9",
                "--app-id",
                "1",
            ])
            .env_clear()
            .env("PARTNERDECK_TOKEN", "EAAx")
            .env("HOME", home.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("at least 1 second and at most 24 hours"),
            "{err}"
        );
    }
}
