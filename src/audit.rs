//! The audit log: JSON lines, written ahead. Every mutation attempt appends an *intent*
//! record (synced to disk) before its request leaves, then an *outcome* record with the same
//! attempt id. An attempt whose outcome never came (a crash, `kill -9`) or was only
//! "interrupted" is found at the next start by [`unresolved`] and closed by a *recovery*
//! record after its object is re-read. The file is created with mode 0600; an existing path
//! that is not a regular file is refused. Records never contain the token or a PIN (calls are
//! written as `POST /v25.0/{id}/{edge}`). Each record starts on a fresh line, even after a
//! partial write.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::graph::client::MutationResponse;
use crate::graph::error::{ErrorKind, GraphError};

/// Which part of an attempt a record is.
pub const PHASE_INTENT: &str = "intent";
pub const PHASE_OUTCOME: &str = "outcome";
pub const PHASE_RECOVERY: &str = "recovery";
/// The outcome written when the console stopped before the answer came.
pub const OUTCOME_INTERRUPTED: &str = "interrupted";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditRecord {
    /// RFC 3339.
    pub time: String,
    /// `$USER`, or `unknown`.
    pub operator: String,
    /// e.g. `accept`.
    pub action: String,
    /// Solution id etc.
    pub target: String,
    pub target_name: Option<String>,
    /// e.g. `POST /v25.0/123/accept`; never the token.
    pub call: String,
    /// Ties the intent, outcome and recovery records of one attempt together.
    #[serde(default)]
    pub attempt: String,
    /// `intent` | `outcome` | `recovery`.
    #[serde(default = "default_phase")]
    pub phase: String,
    pub http_status: Option<u16>,
    pub graph_code: Option<i64>,
    pub fbtrace_id: Option<String>,
    /// Intent: `pending`. Outcome: `ok` | `failed` | `refused` | `unknown` | `interrupted`.
    /// Recovery: `recovered` | `unknown`.
    pub outcome: String,
    pub verified_state: Option<String>,
    pub message: Option<String>,
}

fn default_phase() -> String {
    PHASE_OUTCOME.to_string()
}

/// A new attempt id: unique within this machine (time, process, counter).
pub fn new_attempt_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{nanos:x}-{:x}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

impl AuditRecord {
    /// An intent record stamped now, by the current operator, for a new attempt.
    pub fn new(action: &str, target: &str, target_name: Option<&str>, call: &str) -> AuditRecord {
        AuditRecord {
            time: now(),
            operator: operator(),
            action: action.to_string(),
            target: target.to_string(),
            target_name: target_name.map(str::to_string),
            call: call.to_string(),
            attempt: new_attempt_id(),
            phase: PHASE_INTENT.to_string(),
            http_status: None,
            graph_code: None,
            fbtrace_id: None,
            outcome: "pending".to_string(),
            verified_state: None,
            message: None,
        }
    }

    /// The outcome record of this attempt, stamped now, with outcome `unknown` until
    /// [`set_result`](Self::set_result) says otherwise.
    pub fn outcome_of(intent: &AuditRecord) -> AuditRecord {
        AuditRecord {
            time: now(),
            phase: PHASE_OUTCOME.to_string(),
            outcome: "unknown".to_string(),
            ..intent.clone()
        }
    }

    /// The record written when the console stops before the attempt's answer came.
    pub fn interrupted(intent: &AuditRecord) -> AuditRecord {
        AuditRecord {
            outcome: OUTCOME_INTERRUPTED.to_string(),
            message: Some(
                "interrupted — outcome unknown: the console stopped before the answer came"
                    .to_string(),
            ),
            ..AuditRecord::outcome_of(intent)
        }
    }

    /// The record closing an unresolved attempt after its object was re-read at start-up.
    pub fn recovery(intent: &AuditRecord, state: Option<String>, message: String) -> AuditRecord {
        AuditRecord {
            time: now(),
            operator: operator(),
            phase: PHASE_RECOVERY.to_string(),
            outcome: if state.is_some() {
                "recovered"
            } else {
                "unknown"
            }
            .to_string(),
            verified_state: state,
            message: Some(message),
            ..intent.clone()
        }
    }

    /// Fill status, code, trace id, outcome and message from the call's result.
    /// `ReadOnly` → `refused`; `OutcomeUnknown` → `unknown`; other errors → `failed`.
    pub fn set_result(&mut self, result: Result<&MutationResponse, &GraphError>) {
        match result {
            Ok(r) => {
                self.http_status = Some(r.http_status);
                self.fbtrace_id = r.fbtrace_id.clone();
                self.outcome = "ok".into();
            }
            Err(e) => {
                self.http_status = e.http_status;
                self.graph_code = e.code;
                self.fbtrace_id = e.fbtrace_id.clone();
                self.outcome = match e.kind {
                    ErrorKind::ReadOnly => "refused",
                    ErrorKind::OutcomeUnknown => "unknown",
                    _ => "failed",
                }
                .into();
                self.message = Some(e.sentence());
            }
        }
    }

    pub fn is_intent(&self) -> bool {
        self.phase == PHASE_INTENT
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `$USER` (or `$LOGNAME`, `$USERNAME`), else the login name of the process's user, else
/// `unknown`.
pub fn operator() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .chain(login_name())
        .map(|v| crate::graph::error::sanitize(&v))
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// The user name of the effective user id, from the password database.
#[cfg(unix)]
fn login_name() -> Option<String> {
    // SAFETY: getpwuid returns a pointer into static storage or null; the name is copied out
    // at once, before any other call could reuse that storage.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if pw.is_null() || (*pw).pw_name.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr((*pw).pw_name)
            .to_str()
            .ok()
            .map(str::to_string)
    }
}

#[cfg(not(unix))]
fn login_name() -> Option<String> {
    None
}

/// An append-only JSON-lines file, safe to share between threads. Appends block (they sync
/// to disk): call them from a blocking thread, not an async worker.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: Mutex<Tail>,
}

#[derive(Debug)]
struct Tail {
    file: File,
    /// The file ends with a newline (or is empty): the next record can start right away.
    clean: bool,
}

impl AuditLog {
    /// Open (creating it and its parent directories) for appending, mode 0600. An existing
    /// path that is not a regular file (a directory, a FIFO, a device, a symbolic link) is
    /// refused, never changed.
    pub fn open(path: &Path) -> io::Result<AuditLog> {
        match std::fs::symlink_metadata(path) {
            Ok(m) if !m.file_type().is_file() => {
                return Err(io::Error::other(format!(
                    "the audit log {} is not a regular file; name a file with --audit-log",
                    path.display()
                )));
            }
            _ => {}
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let mut opts = OpenOptions::new();
        opts.create(true).append(true).read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut file = opts.open(path)?;
        #[cfg(unix)]
        {
            // An existing file keeps its mode on open; tighten it if others could read it.
            use std::os::unix::fs::PermissionsExt;
            let mode = file.metadata()?.permissions().mode();
            if mode & 0o077 != 0 {
                file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
            }
        }
        let clean = ends_with_newline(&mut file)?;
        Ok(AuditLog {
            path: path.to_path_buf(),
            file: Mutex::new(Tail { file, clean }),
        })
    }

    /// Append one record as one JSON line, starting on a fresh line; written, flushed and
    /// synced before returning.
    pub fn append(&self, rec: &AuditRecord) -> io::Result<()> {
        let mut line = serde_json::to_vec(rec).map_err(io::Error::other)?;
        line.push(b'\n');
        let mut tail = self
            .file
            .lock()
            .map_err(|_| io::Error::other("the audit log lock was poisoned"))?;
        if !tail.clean {
            line.insert(0, b'\n');
        }
        // A failed write may have left half a line: the next record starts a new one.
        tail.clean = false;
        tail.file.write_all(&line)?;
        tail.file.flush()?;
        tail.file.sync_data()?;
        tail.clean = true;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn ends_with_newline(file: &mut File) -> io::Result<bool> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// Every record of the file that reads as one (odd lines are skipped).
pub fn read_records(path: &Path) -> io::Result<Vec<AuditRecord>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str::<AuditRecord>(l).ok())
        .collect())
}

/// The BSP registration records (`bsp_register`, every phase) as `domain::partner` derives
/// the registration state from them (records whose time does not parse are skipped).
pub fn registration_records(
    records: &[AuditRecord],
) -> Vec<crate::domain::partner::RegistrationRecord> {
    records
        .iter()
        .filter(|r| r.action == crate::domain::partner::BSP_REGISTER_ACTION)
        .filter_map(|r| {
            crate::domain::partner::RegistrationRecord::from_audit_fields(
                &r.action,
                &r.target,
                &r.outcome,
                &r.time,
                &r.operator,
                r.message.as_deref(),
                &r.call,
            )
        })
        .collect()
}

/// The intents whose attempt has no outcome, or only an `interrupted` one, and no recovery
/// record: what happened to them is not known. In file order.
pub fn unresolved(records: &[AuditRecord]) -> Vec<AuditRecord> {
    let mut open: Vec<AuditRecord> = vec![];
    let mut closed: HashMap<&str, bool> = HashMap::new();
    for r in records.iter().filter(|r| !r.attempt.is_empty()) {
        match r.phase.as_str() {
            PHASE_INTENT => open.push(r.clone()),
            PHASE_RECOVERY => {
                closed.insert(&r.attempt, true);
            }
            _ => {
                let done = r.outcome != OUTCOME_INTERRUPTED;
                let e = closed.entry(&r.attempt).or_insert(false);
                *e = *e || done;
            }
        }
    }
    open.retain(|i| !closed.get(i.attempt.as_str()).copied().unwrap_or(false));
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(action: &str, outcome: &str) -> AuditRecord {
        AuditRecord {
            time: "2026-05-01T10:00:00.000Z".into(),
            operator: "alice".into(),
            action: action.into(),
            target: "19702253086782".into(),
            target_name: Some("Acme MPS".into()),
            call: format!("POST /v25.0/19702253086782/{action}"),
            attempt: format!("att-{action}"),
            phase: PHASE_OUTCOME.into(),
            http_status: Some(200),
            graph_code: None,
            fbtrace_id: Some("AbC".into()),
            outcome: outcome.into(),
            verified_state: Some("active".into()),
            message: None,
        }
    }

    #[test]
    fn appends_json_lines_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        assert_eq!(log.path(), path);
        let a = rec("accept", "ok");
        let b = rec("reject", "failed");
        log.append(&a).unwrap();
        log.append(&b).unwrap();
        drop(log);
        // Reopening appends rather than truncating.
        let log = AuditLog::open(&path).unwrap();
        let c = rec("send_deactivation_request", "unknown");
        log.append(&c).unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        let back: Vec<AuditRecord> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(back, vec![a, b, c]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn loose_existing_file_is_tightened() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        AuditLog::open(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn concurrent_appends_do_not_interleave() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = std::sync::Arc::new(AuditLog::open(&path).unwrap());
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        log.append(&rec(&format!("a{i}"), "ok")).unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 40);
        for l in text.lines() {
            serde_json::from_str::<AuditRecord>(l).unwrap();
        }
    }

    #[test]
    fn set_result_maps_outcomes() {
        let intent = AuditRecord::new("accept", "1", None, "POST /v25.0/1/accept");
        assert_eq!(
            (intent.phase.as_str(), intent.outcome.as_str()),
            ("intent", "pending")
        );
        let mut r = AuditRecord::outcome_of(&intent);
        assert_eq!(r.outcome, "unknown");
        assert_eq!(r.attempt, intent.attempt);
        assert!(chrono::DateTime::parse_from_rfc3339(&r.time).is_ok());
        r.set_result(Err(&GraphError::read_only()));
        assert_eq!(r.outcome, "refused");
        assert_eq!(
            r.message.as_deref(),
            Some("Not sent: partnerdeck is in read-only mode.")
        );
        let ok = MutationResponse {
            http_status: 200,
            body: serde_json::json!({"success":true}),
            fbtrace_id: Some("F".into()),
        };
        let mut r = AuditRecord::new("accept", "1", Some("n"), "POST /v25.0/1/accept");
        r.set_result(Ok(&ok));
        assert_eq!((r.outcome.as_str(), r.http_status), ("ok", Some(200)));
        let mut r = AuditRecord::new("accept", "1", None, "c");
        r.set_result(Err(&GraphError::new(ErrorKind::OutcomeUnknown, "lost")));
        assert_eq!(r.outcome, "unknown");
        let mut r = AuditRecord::new("accept", "1", None, "c");
        r.set_result(Err(
            &GraphError::new(ErrorKind::Permission, "no").with_status(403)
        ));
        assert_eq!(r.outcome, "failed");
    }

    #[test]
    fn a_record_after_a_partial_line_starts_on_a_fresh_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        // A disk-full half line left by an earlier process.
        std::fs::write(&path, "{\"time\":\"2026-05-01T10:00").unwrap();
        let log = AuditLog::open(&path).unwrap();
        let a = rec("accept", "ok");
        log.append(&a).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(serde_json::from_str::<AuditRecord>(lines[1]).unwrap(), a);
        assert_eq!(read_records(&path).unwrap(), vec![a]);
    }

    #[cfg(unix)]
    #[test]
    fn a_path_that_is_not_a_regular_file_is_refused_and_left_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a-directory");
        std::fs::create_dir(&sub).unwrap();
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o755)).unwrap();
        let e = AuditLog::open(&sub).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let mode = std::fs::metadata(&sub).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o755, "never chmod-ed");
        let target = dir.path().join("real.jsonl");
        std::fs::write(&target, "").unwrap();
        let link = dir.path().join("link.jsonl");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(AuditLog::open(&link).is_err());
    }

    #[test]
    fn unresolved_finds_intents_without_a_closing_record() {
        let i1 = AuditRecord::new("accept", "1", Some("One"), "POST /v25.0/1/accept");
        let i2 = AuditRecord::new("reject", "2", Some("Two"), "POST /v25.0/2/reject");
        let i3 = AuditRecord::new("accept", "3", Some("Three"), "POST /v25.0/3/accept");
        let i4 = AuditRecord::new("accept", "4", Some("Four"), "POST /v25.0/4/accept");
        let mut o1 = AuditRecord::outcome_of(&i1);
        o1.outcome = "ok".into();
        let o3 = AuditRecord::interrupted(&i3);
        let o4 = AuditRecord::interrupted(&i4);
        let r4 = AuditRecord::recovery(&i4, Some("active".into()), "re-read".into());
        let all = vec![
            i1.clone(),
            i2.clone(),
            o1,
            i3.clone(),
            o3,
            i4.clone(),
            o4,
            r4,
        ];
        let open: Vec<String> = unresolved(&all).into_iter().map(|r| r.target).collect();
        assert_eq!(open, ["2", "3"], "no outcome, or only interrupted");
        // Records from before attempt ids existed are never reported.
        let mut old = rec("accept", "ok");
        old.attempt.clear();
        assert!(unresolved(&[old]).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn the_operator_falls_back_to_the_login_name() {
        // Whatever the environment says, the password database knows this process's user.
        let name = login_name().expect("a user name for this uid");
        assert!(!name.is_empty());
        assert_ne!(operator(), "unknown");
    }
}
