//! Follow a JSON-lines file of webhook deliveries written by another receiver (one delivery
//! body per line), on a thread of its own, polling. Lines are decoded as they are completed;
//! a truncated file is read again from its start, a rotated one (another file at the path, by
//! inode) is read to its end and then the new file from its start. Every event goes to the
//! channel; the store's dedupe makes re-reading harmless.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc;

use super::decode::decode;
use super::event::Event;

/// How often the file is looked at.
pub const DEFAULT_POLL: Duration = Duration::from_millis(500);
/// A line longer than this is skipped (logged), so a runaway writer cannot exhaust memory.
pub const MAX_LINE: usize = 1 << 20;

/// A running follower. Dropping it stops the thread (within one poll period).
pub struct FileFollower {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FileFollower {
    /// Start following `path` from its beginning (the file need not exist yet).
    pub fn start(path: PathBuf, poll: Duration, tx: mpsc::UnboundedSender<Event>) -> FileFollower {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("webhook-file".into())
            .spawn(move || {
                let mut f = Follower::new(path);
                while !flag.load(Ordering::Relaxed) {
                    for e in f.poll() {
                        if tx.send(e).is_err() {
                            return;
                        }
                    }
                    std::thread::sleep(poll);
                }
            })
            .ok();
        FileFollower { stop, thread }
    }

    /// Stop and wait for the thread.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for FileFollower {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The follower's state; [`poll`](Follower::poll) reads what is new. Public for tests and for
/// callers that want to drive it themselves.
pub struct Follower {
    path: PathBuf,
    file: Option<File>,
    id: Option<FileId>,
    pos: u64,
    partial: Vec<u8>,
    skipping: bool,
    missing_logged: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

fn file_id(meta: &std::fs::Metadata) -> Option<FileId> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

impl Follower {
    pub fn new(path: PathBuf) -> Follower {
        Follower {
            path,
            file: None,
            id: None,
            pos: 0,
            partial: Vec::new(),
            skipping: false,
            missing_logged: false,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read whatever is new; returns the decoded events of the complete lines.
    pub fn poll(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        let current = std::fs::metadata(&self.path).ok();
        if self.file.is_some() {
            let rotated = match (&current, self.id) {
                (Some(m), Some(id)) => file_id(m) != Some(id),
                (None, _) => true,
                _ => false,
            };
            if rotated {
                // Finish the old file, then switch.
                self.read_new(&mut out);
                self.flush_partial(&mut out);
                tracing::info!(path = %self.path.display(), "webhook file rotated");
                self.file = None;
                self.id = None;
            }
        }
        if self.file.is_none() {
            match File::open(&self.path) {
                Ok(f) => {
                    self.id = f.metadata().ok().as_ref().and_then(file_id);
                    self.file = Some(f);
                    self.pos = 0;
                    self.partial.clear();
                    self.skipping = false;
                    self.missing_logged = false;
                }
                Err(e) => {
                    if !self.missing_logged {
                        tracing::info!(path = %self.path.display(), error = %e, "webhook file not readable yet");
                        self.missing_logged = true;
                    }
                    return out;
                }
            }
        }
        // Truncated in place: start again.
        let len = self
            .file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map(|m| m.len());
        if let Some(len) = len
            && len < self.pos
        {
            tracing::info!(path = %self.path.display(), "webhook file truncated; reading from its start");
            self.pos = 0;
            self.partial.clear();
            self.skipping = false;
        }
        self.read_new(&mut out);
        out
    }

    fn read_new(&mut self, out: &mut Vec<Event>) {
        let Some(f) = self.file.as_mut() else {
            return;
        };
        if f.seek(SeekFrom::Start(self.pos)).is_err() {
            return;
        }
        let mut buf = [0u8; 64 * 1024];
        loop {
            let n = match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the webhook file");
                    break;
                }
            };
            self.pos += n as u64;
            let mut chunk = &buf[..n];
            while let Some(nl) = chunk.iter().position(|&b| b == b'\n') {
                let (line, rest) = chunk.split_at(nl);
                if self.skipping {
                    self.skipping = false;
                } else {
                    self.partial.extend_from_slice(line);
                    let line = std::mem::take(&mut self.partial);
                    Self::decode_line(&line, out);
                }
                chunk = &rest[1..];
            }
            if !self.skipping {
                self.partial.extend_from_slice(chunk);
                if self.partial.len() > MAX_LINE {
                    tracing::warn!(limit = MAX_LINE, "webhook file line too long; skipped");
                    self.partial.clear();
                    self.skipping = true;
                }
            }
        }
    }

    /// A last line without its newline, when the file is left behind.
    fn flush_partial(&mut self, out: &mut Vec<Event>) {
        let line = std::mem::take(&mut self.partial);
        if !self.skipping {
            Self::decode_line(&line, out);
        }
        self.skipping = false;
    }

    fn decode_line(line: &[u8], out: &mut Vec<Event>) {
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            return;
        }
        out.extend(decode(trimmed));
    }
}
