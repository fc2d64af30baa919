//! The real binary in a pseudo-terminal, with a vt100 parser as its screen: a person's keys in,
//! the screen out. Also keeps every byte the program wrote, to check nothing hostile (or
//! secret) ever reached the terminal.

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use graph_sim::SimHandle;
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

pub const ROWS: u16 = 30;
pub const COLS: u16 = 100;

pub struct Console {
    pub screen: Arc<Mutex<vt100::Parser>>,
    /// Every byte the program wrote to its terminal.
    pub raw: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    pub child: Box<dyn Child + Send + Sync>,
    pub master: Box<dyn MasterPty + Send>,
}

impl Console {
    /// `partnerdeck` against `sim`, logs and audit in `dir`, with extra flags.
    pub fn start(sim: &SimHandle, dir: &Path, extra: &[&str]) -> Console {
        Console::start_env(sim, dir, extra, &[])
    }

    /// Like [`start`](Self::start), with extra environment variables.
    pub fn start_env(sim: &SimHandle, dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Console {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_partnerdeck"));
        cmd.args(["--graph-url", &sim.base_url(), "--app-id", &sim.app_id()]);
        cmd.args(["--poll-interval", "300"]);
        cmd.arg("--audit-log");
        cmd.arg(dir.join("audit.jsonl"));
        cmd.arg("--log-file");
        cmd.arg(dir.join("partnerdeck.log"));
        cmd.args(extra);
        cmd.env_clear();
        cmd.env("PARTNERDECK_TOKEN", sim.token());
        cmd.env("TERM", "xterm-256color");
        cmd.env("NO_COLOR", "1");
        cmd.env("USER", "e2e-operator");
        cmd.env("HOME", dir);
        cmd.env("XDG_CONFIG_HOME", dir.join("config"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).expect("spawn partnerdeck");
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            NonZeroU16::new(ROWS).unwrap(),
            NonZeroU16::new(COLS).unwrap(),
            0,
        )));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (sink, raw_sink) = (screen.clone(), raw.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                raw_sink.lock().unwrap().extend_from_slice(&buf[..n]);
                sink.lock().unwrap().process(&buf[..n]);
            }
        });
        Console {
            screen,
            raw,
            writer,
            child,
            master: pty.master,
        }
    }

    pub fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    pub fn raw_bytes(&self) -> Vec<u8> {
        self.raw.lock().unwrap().clone()
    }

    /// Wait (at most 15 s) for `text` on the screen; returns the screen.
    pub fn wait_for(&self, text: &str) -> String {
        self.wait_for_within(text, Duration::from_secs(15))
    }

    pub fn wait_for_within(&self, text: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let s = self.contents();
            if s.contains(text) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "'{text}' did not appear within {limit:?}; the screen was:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait (at most `limit`) until `text` is no longer on the screen.
    pub fn wait_gone(&self, text: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.contents().contains(text) {
            assert!(
                Instant::now() < deadline,
                "'{text}' was still there after {limit:?}:\n{}",
                self.contents()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Type `keys`, then give the program a moment.
    pub fn keys(&mut self, keys: &str) {
        self.send(keys);
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Type `keys` without waiting.
    pub fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    pub fn pid(&self) -> u32 {
        self.child.process_id().unwrap()
    }

    pub fn signal(&self, sig: &str) {
        let ok = std::process::Command::new("kill")
            .args([&format!("-{sig}"), &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig} failed");
    }

    pub fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        self.wait_exit_within(Duration::from_secs(10))
    }

    pub fn wait_exit_within(&mut self, limit: Duration) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "partnerdeck did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The terminal's line settings (`stty -a`), read from the pty itself.
    pub fn stty(&self) -> String {
        let tty = self.master.tty_name().expect("the pty has a name");
        let out = std::process::Command::new("stty")
            .arg("-a")
            .arg("-F")
            .arg(&tty)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Assert the program left the terminal as it found it: the alternate screen left, raw
    /// mode ended (canonical input and echo back on), the cursor visible.
    pub fn assert_restored(&self) {
        let parser = self.screen.lock().unwrap();
        assert!(
            !parser.screen().alternate_screen(),
            "still on the alternate screen"
        );
        assert!(!parser.screen().hide_cursor(), "the cursor is still hidden");
        drop(parser);
        let stty = self.stty();
        let flags: Vec<&str> = stty.split_whitespace().collect();
        for want in ["icanon", "echo", "isig"] {
            assert!(
                flags.contains(&want),
                "{want} is off: raw mode was not ended\n{stty}"
            );
        }
    }
}

/// A failed test must not leave its console running: kill it (a no-op once it has exited).
impl Drop for Console {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
    }
}
