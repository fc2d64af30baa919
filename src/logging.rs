//! Diagnostics go to a file, never to the screen (the screen belongs to the console).
//!
//! The file is private (mode 0600, in a directory created 0700) and rotated by size: when it
//! would grow past [`MAX_LOG_BYTES`] it becomes `NAME.1` (the older ones `NAME.2` …), and at
//! most [`KEPT_LOGS`] old files are kept, so the log never grows without bound.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// The log is rotated when it would grow past this size: 10 MB.
pub const MAX_LOG_BYTES: u64 = 10 * 1024 * 1024;
/// How many rotated logs are kept besides the current one.
pub const KEPT_LOGS: usize = 5;

/// Lines waiting for the log writer thread.
const LOG_QUEUE_LINES: usize = 4096;

/// Start writing logs to `path` (created with its directory). The filter comes from
/// `PARTNERDECK_LOG` (e.g. `debug`), default `info`. Keep the guard alive until exit.
pub fn init(path: &Path) -> io::Result<WorkerGuard> {
    let file = RotatingFile::open(path, MAX_LOG_BYTES, KEPT_LOGS)?;
    // The default queue holds 128,000 lines, allocated up front (4 MB); the console logs a few
    // lines a minute, and a full queue is counted as lost lines, not a wait.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .lossy(true)
        .finish(file);
    let filter =
        EnvFilter::try_from_env("PARTNERDECK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
    Ok(guard)
}

/// Create `dir` and its missing parents with mode 0700 (directories that already exist are
/// left as they are).
pub fn private_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Open (or create) `path` for appending, private to the user: mode 0600, also when it
/// already existed with a wider mode.
pub fn private_append(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let file = o.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata()?.permissions().mode() & 0o777;
        if mode != 0o600 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(file)
}

/// A log file that rotates itself by size (see the module docs).
pub struct RotatingFile {
    path: PathBuf,
    file: File,
    written: u64,
    max_bytes: u64,
    keep: usize,
}

impl RotatingFile {
    /// Open `path` for appending (mode 0600, its directory created 0700), rotating when it
    /// would grow past `max_bytes`, keeping `keep` old files.
    pub fn open(path: &Path, max_bytes: u64, keep: usize) -> io::Result<RotatingFile> {
        if let Some(dir) = path.parent() {
            private_dir(dir)?;
        }
        let file = private_append(path)?;
        let written = file.metadata()?.len();
        Ok(RotatingFile {
            path: path.to_path_buf(),
            file,
            written,
            max_bytes: max_bytes.max(1),
            keep,
        })
    }

    /// `NAME.n`.
    fn old(&self, n: usize) -> PathBuf {
        let mut s = self.path.clone().into_os_string();
        s.push(format!(".{n}"));
        PathBuf::from(s)
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        if self.keep == 0 {
            let _ = std::fs::remove_file(&self.path);
        } else {
            let _ = std::fs::remove_file(self.old(self.keep));
            for n in (1..self.keep).rev() {
                let from = self.old(n);
                if from.exists() {
                    std::fs::rename(&from, self.old(n + 1))?;
                }
            }
            std::fs::rename(&self.path, self.old(1))?;
        }
        self.file = private_append(&self.path)?;
        self.written = 0;
        Ok(())
    }
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written > 0 && self.written.saturating_add(buf.len() as u64) > self.max_bytes {
            self.rotate()?;
        }
        let n = self.file.write(buf)?;
        self.written = self.written.saturating_add(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn rotates_by_size_keeps_a_few_and_stays_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/deep/partnerdeck.log");
        let mut f = RotatingFile::open(&path, 1000, 3).unwrap();
        let line = [b'x'; 99];
        for _ in 0..60 {
            f.write_all(&line).unwrap();
            f.write_all(b"\n").unwrap();
        }
        f.flush().unwrap();
        let name = |n: usize| dir.path().join(format!("logs/deep/partnerdeck.log.{n}"));
        for p in [path.clone(), name(1), name(2), name(3)] {
            let len = std::fs::metadata(&p).unwrap().len();
            assert!(len <= 1000, "{} is {len} bytes", p.display());
            #[cfg(unix)]
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
        assert!(!name(4).exists());
        #[cfg(unix)]
        {
            assert_eq!(mode(&dir.path().join("logs")), 0o700);
            assert_eq!(mode(&dir.path().join("logs/deep")), 0o700);
        }
    }

    #[cfg(unix)]
    #[test]
    fn an_existing_wide_log_is_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("partnerdeck.log");
        std::fs::write(&path, "old\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let _f = RotatingFile::open(&path, MAX_LOG_BYTES, KEPT_LOGS).unwrap();
        assert_eq!(mode(&path), 0o600);
    }
}
