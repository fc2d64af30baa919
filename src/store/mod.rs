//! The event history: a SQLite database (file mode 0600) in the data directory.
//!
//! [`EventStore`] is synchronous; call it from a blocking thread. [`AsyncStore`] wraps it for
//! async code: every call runs on tokio's blocking pool, never on the async workers.
//!
//! - insert dedupes on the event id (a redelivered webhook is stored once);
//! - query by time (`since`, on the event time), kind and limit, oldest first (newest last);
//! - retention by age and by count ([`Retention`]);
//! - a `last_seen` marker: what arrived since the console was last open.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::webhooks::{Event, EventKind, Scope};

/// Default retention: 30 days.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);
/// Default retention: 100,000 events.
pub const DEFAULT_MAX_COUNT: u64 = 100_000;
/// Default retention: 256 MiB of summaries and payloads.
pub const DEFAULT_MAX_BYTES: u64 = 256 << 20;
/// The database file name in the data directory.
pub const DEFAULT_FILE_NAME: &str = "events.sqlite3";

/// How much history is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Events whose time is older than this are deleted.
    pub max_age: Duration,
    /// At most this many events are kept (the oldest arrivals go first).
    pub max_count: u64,
    /// At most this many bytes of summaries and raw payloads (the oldest arrivals go first).
    pub max_bytes: u64,
}

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            max_age: DEFAULT_MAX_AGE,
            max_count: DEFAULT_MAX_COUNT,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("event store {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error("event store {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("event store task failed: {0}")]
    Join(String),
}

/// An event as stored, with its arrival sequence number (increasing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: i64,
    pub event: Event,
}

/// What to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Only events whose time is at or after this.
    pub since: Option<DateTime<Utc>>,
    /// Only events that arrived after this sequence number (for following).
    pub after_seq: Option<i64>,
    pub kind: Option<EventKind>,
    /// The most recent `limit` matches (still returned oldest first).
    pub limit: Option<usize>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    time_ms     INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    field       TEXT,
    event       TEXT,
    object_id   TEXT,
    scopes      TEXT NOT NULL DEFAULT '',
    summary     TEXT NOT NULL,
    raw         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_time ON events(time_ms);
CREATE INDEX IF NOT EXISTS events_kind ON events(kind, seq);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

const LAST_SEEN: &str = "last_seen_seq";

/// The event database.
pub struct EventStore {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for EventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStore")
            .field("path", &self.path)
            .finish()
    }
}

impl EventStore {
    /// Open (or create, mode 0600, with its directory) the database at `path`.
    pub fn open(path: &Path) -> Result<EventStore, StoreError> {
        let io = |source| StoreError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        // Create the file ourselves so it is 0600 from the start (SQLite gives its -wal and
        // -shm files the database file's mode).
        let mut opts = std::fs::OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        opts.open(path).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                    .map_err(io)?;
            }
        }
        let sql = |source| StoreError::Sqlite {
            path: path.display().to_string(),
            source,
        };
        let conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(sql)?;
        // WAL: `partnerdeck events --follow` reads while the console writes.
        let _mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(sql)?;
        conn.execute_batch("PRAGMA synchronous=NORMAL;")
            .map_err(sql)?;
        conn.execute_batch(SCHEMA).map_err(sql)?;
        Ok(EventStore {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// Insert events not stored yet (by id); returns the newly stored ones, in order.
    pub fn insert(&mut self, events: &[Event]) -> Result<Vec<StoredEvent>, StoreError> {
        let tx = self.conn.transaction().map_err(|e| StoreError::Sqlite {
            path: self.path.display().to_string(),
            source: e,
        })?;
        let mut stored = Vec::new();
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO events
                     (id, time_ms, received_ms, kind, field, event, object_id, scopes, summary, raw)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(|e| StoreError::Sqlite {
                    path: self.path.display().to_string(),
                    source: e,
                })?;
            for e in events {
                let scopes: Vec<&str> = e.scopes.iter().map(|s| s.as_str()).collect();
                let n = stmt
                    .execute(params![
                        e.id,
                        e.time.timestamp_millis(),
                        e.received_at.timestamp_millis(),
                        e.kind.as_str(),
                        e.field,
                        e.event,
                        e.object_id,
                        scopes.join(","),
                        e.summary,
                        e.raw,
                    ])
                    .map_err(|source| StoreError::Sqlite {
                        path: self.path.display().to_string(),
                        source,
                    })?;
                if n == 1 {
                    stored.push(StoredEvent {
                        seq: tx.last_insert_rowid(),
                        event: e.clone(),
                    });
                }
            }
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(stored)
    }

    /// Events matching `q`, oldest arrival first.
    pub fn query(&self, q: &Query) -> Result<Vec<StoredEvent>, StoreError> {
        let mut sql = String::from(
            "SELECT seq, id, time_ms, received_ms, kind, field, event, object_id, scopes, summary, raw
             FROM events WHERE 1=1",
        );
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(since) = q.since {
            sql.push_str(" AND time_ms >= ?");
            args.push(since.timestamp_millis().into());
        }
        if let Some(after) = q.after_seq {
            sql.push_str(" AND seq > ?");
            args.push(after.into());
        }
        if let Some(kind) = q.kind {
            sql.push_str(" AND kind = ?");
            args.push(kind.as_str().to_string().into());
        }
        sql.push_str(" ORDER BY seq DESC");
        if let Some(limit) = q.limit {
            sql.push_str(" LIMIT ?");
            args.push((limit.min(i64::MAX as usize) as i64).into());
        }
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), row_to_event)
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r.map_err(|e| self.err(e))?);
        }
        out.reverse();
        Ok(out)
    }

    /// The highest sequence number stored (0 when empty).
    pub fn last_seq(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    pub fn count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// Delete what the retention does not keep; returns how many events went.
    pub fn prune(&mut self, retention: &Retention) -> Result<usize, StoreError> {
        self.prune_at(retention, Utc::now())
    }

    /// [`prune`](Self::prune) as if it were `now`.
    pub fn prune_at(
        &mut self,
        retention: &Retention,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let age_ms = i64::try_from(retention.max_age.as_millis()).unwrap_or(i64::MAX);
        let cutoff = now.timestamp_millis().saturating_sub(age_ms);
        let mut n = self
            .conn
            .execute("DELETE FROM events WHERE time_ms < ?1", params![cutoff])
            .map_err(|e| self.err(e))?;
        let keep = i64::try_from(retention.max_count).unwrap_or(i64::MAX);
        n += self
            .conn
            .execute(
                "DELETE FROM events WHERE seq <= (SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?1)",
                params![keep],
            )
            .map_err(|e| self.err(e))?;
        let bytes = i64::try_from(retention.max_bytes).unwrap_or(i64::MAX);
        n += self
            .conn
            .execute(
                "DELETE FROM events WHERE seq <= (
                     SELECT seq FROM (
                         SELECT seq, SUM(length(CAST(raw AS BLOB)) + length(CAST(summary AS BLOB)))
                                OVER (ORDER BY seq DESC) AS total
                         FROM events)
                     WHERE total > ?1 ORDER BY seq DESC LIMIT 1)",
                params![bytes],
            )
            .map_err(|e| self.err(e))?;
        Ok(n)
    }

    /// The `last_seen` marker (a sequence number; 0 if never set).
    pub fn last_seen(&self) -> Result<i64, StoreError> {
        let v: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = ?1",
                params![LAST_SEEN],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(v.and_then(|s| s.parse().ok()).unwrap_or(0))
    }

    /// Set the `last_seen` marker to `seq`.
    pub fn set_last_seen(&mut self, seq: i64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO meta(key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![LAST_SEEN, seq.to_string()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Mark everything stored so far as seen; returns the marker.
    pub fn mark_all_seen(&mut self) -> Result<i64, StoreError> {
        let seq = self.last_seq()?;
        self.set_last_seen(seq)?;
        Ok(seq)
    }

    /// What arrived since the marker (at most `limit`, the most recent ones), oldest first.
    pub fn unseen(&self, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        let after = self.last_seen()?;
        self.query(&Query {
            after_seq: Some(after),
            limit: Some(limit),
            ..Query::default()
        })
    }
}

fn ms_to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

fn row_to_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
    let kind: String = r.get(4)?;
    let scopes: String = r.get(8)?;
    Ok(StoredEvent {
        seq: r.get(0)?,
        event: Event {
            id: r.get(1)?,
            time: ms_to_time(r.get(2)?),
            received_at: ms_to_time(r.get(3)?),
            // An unknown kind (a newer version wrote it) reads as a notice.
            kind: kind.parse().unwrap_or(EventKind::Notice),
            field: r.get(5)?,
            event: r.get(6)?,
            object_id: r.get(7)?,
            scopes: scopes.split(',').filter_map(Scope::parse).collect(),
            summary: r.get(9)?,
            raw: r.get(10)?,
        },
    })
}

/// A cheap, cloneable handle for async code: each call runs on the blocking pool.
#[derive(Clone, Debug)]
pub struct AsyncStore {
    inner: Arc<Mutex<EventStore>>,
}

impl AsyncStore {
    /// Open on the blocking pool.
    pub async fn open(path: PathBuf) -> Result<AsyncStore, StoreError> {
        let store = tokio::task::spawn_blocking(move || EventStore::open(&path))
            .await
            .map_err(|e| StoreError::Join(e.to_string()))??;
        Ok(AsyncStore::from_store(store))
    }

    pub fn from_store(store: EventStore) -> AsyncStore {
        AsyncStore {
            inner: Arc::new(Mutex::new(store)),
        }
    }

    /// Run `f` with the store on the blocking pool.
    pub async fn with<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut EventStore) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = inner.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Join(e.to_string()))?
    }

    pub async fn insert(&self, events: Vec<Event>) -> Result<Vec<StoredEvent>, StoreError> {
        self.with(move |s| s.insert(&events)).await
    }

    pub async fn query(&self, q: Query) -> Result<Vec<StoredEvent>, StoreError> {
        self.with(move |s| s.query(&q)).await
    }

    pub async fn prune(&self, retention: Retention) -> Result<usize, StoreError> {
        self.with(move |s| s.prune(&retention)).await
    }

    pub async fn unseen(&self, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        self.with(move |s| s.unseen(limit)).await
    }

    pub async fn mark_all_seen(&self) -> Result<i64, StoreError> {
        self.with(|s| s.mark_all_seen()).await
    }
}
