//! The audit log: one JSON line per mutation attempt, appended and synced to disk before
//! `append` returns, so a record survives `kill -9`. The file is created with mode 0600.
//! Records never contain the token (calls are written as `POST /v25.0/{id}/{edge}`).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::graph::client::MutationResponse;
use crate::graph::error::{ErrorKind, GraphError};

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
    pub http_status: Option<u16>,
    pub graph_code: Option<i64>,
    pub fbtrace_id: Option<String>,
    /// `ok` | `failed` | `refused` | `unknown`.
    pub outcome: String,
    pub verified_state: Option<String>,
    pub message: Option<String>,
}

impl AuditRecord {
    /// A record stamped now, by the current operator, with outcome `unknown` until
    /// [`set_result`](Self::set_result) says otherwise.
    pub fn new(action: &str, target: &str, target_name: Option<&str>, call: &str) -> AuditRecord {
        AuditRecord {
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            operator: operator(),
            action: action.to_string(),
            target: target.to_string(),
            target_name: target_name.map(str::to_string),
            call: call.to_string(),
            http_status: None,
            graph_code: None,
            fbtrace_id: None,
            outcome: "unknown".to_string(),
            verified_state: None,
            message: None,
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
}

/// `$USER` (or `$LOGNAME`, `$USERNAME`), else `unknown`.
pub fn operator() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .map(|v| crate::graph::error::sanitize(&v))
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// An append-only JSON-lines file, safe to share between tasks.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: Mutex<File>,
}

impl AuditLog {
    /// Open (creating it and its parent directories) for appending, mode 0600.
    pub fn open(path: &Path) -> io::Result<AuditLog> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let mut opts = OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(path)?;
        #[cfg(unix)]
        {
            // An existing file keeps its mode on open; tighten it if others could read it.
            use std::os::unix::fs::PermissionsExt;
            let mode = file.metadata()?.permissions().mode();
            if mode & 0o077 != 0 {
                file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
            }
        }
        Ok(AuditLog {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    /// Append one record as one JSON line; written, flushed and synced before returning.
    pub fn append(&self, rec: &AuditRecord) -> io::Result<()> {
        let mut line = serde_json::to_vec(rec).map_err(io::Error::other)?;
        line.push(b'\n');
        let mut f = self
            .file
            .lock()
            .map_err(|_| io::Error::other("the audit log lock was poisoned"))?;
        f.write_all(&line)?;
        f.flush()?;
        f.sync_data()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
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
        let mut r = AuditRecord::new("accept", "1", None, "POST /v25.0/1/accept");
        assert_eq!(r.outcome, "unknown");
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
}
