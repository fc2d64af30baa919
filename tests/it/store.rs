//! The event history: dedupe, query, retention, the last-seen marker, file mode, restart
//! persistence.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use partnerdeck::store::{EventStore, Query, Retention};
use partnerdeck::webhooks::{Event, EventKind, Scope, decode_at};
use serde_json::json;

fn webhook(id: &str, time: i64) -> Event {
    let body = json!({"object":"whatsapp_business_account","entry":[{"id":"1","time":time,"changes":[
        {"field":"partner_solutions","value":{"event":"SOLUTION_UPDATED","solution_id":id,"solution_status":"ACTIVE"}}]}]});
    decode_at(
        body.to_string().as_bytes(),
        Utc.timestamp_opt(time + 1, 0).unwrap(),
    )
    .remove(0)
}

#[test]
fn redelivered_events_are_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = EventStore::open(&dir.path().join("e.sqlite3")).unwrap();
    let now = Utc::now().timestamp();
    let a = webhook("1", now);
    let new = s.insert(&[a.clone(), a.clone()]).unwrap();
    assert_eq!(new.len(), 1);
    // Meta retries the same body later: decoded again (another received_at), same id.
    let again = decode_at(a.raw.as_bytes(), Utc::now() + chrono::Duration::seconds(60));
    assert_eq!(again[0].id, a.id);
    assert!(s.insert(&again).unwrap().is_empty());
    assert_eq!(s.count().unwrap(), 1);
    let all = s.query(&Query::default()).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].event, a, "stored and read back unchanged");
}

#[test]
fn query_by_time_kind_and_limit_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = EventStore::open(&dir.path().join("e.sqlite3")).unwrap();
    let now = Utc::now().timestamp();
    let old = webhook("old", now - 3 * 3600);
    let recent = webhook("recent", now - 60);
    let note = Event::local(
        EventKind::Action,
        Some("123"),
        vec![Scope::Solutions],
        "Accepted solution 123",
        &json!({"call":"POST /v25.0/123/accept"}),
    );
    s.insert(&[old.clone(), recent.clone(), note.clone()])
        .unwrap();
    let ids = |q: Query| -> Vec<String> {
        s.query(&q)
            .unwrap()
            .into_iter()
            .map(|e| e.event.id)
            .collect()
    };
    assert_eq!(
        ids(Query::default()),
        [old.id.clone(), recent.id.clone(), note.id.clone()]
    );
    assert_eq!(
        ids(Query {
            since: Some(Utc::now() - chrono::Duration::hours(1)),
            ..Query::default()
        }),
        [recent.id.clone(), note.id.clone()]
    );
    assert_eq!(
        ids(Query {
            kind: Some(EventKind::Action),
            ..Query::default()
        }),
        std::slice::from_ref(&note.id)
    );
    assert_eq!(
        ids(Query {
            limit: Some(2),
            ..Query::default()
        }),
        [recent.id.clone(), note.id.clone()],
        "the most recent, still oldest first"
    );
}

#[test]
fn retention_by_age_and_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = EventStore::open(&dir.path().join("e.sqlite3")).unwrap();
    let now = Utc::now().timestamp();
    let mut evs = vec![webhook("ancient", now - 40 * 86_400)];
    for i in 0..10 {
        evs.push(webhook(&format!("n{i}"), now - 100 + i));
    }
    s.insert(&evs).unwrap();
    assert_eq!(s.count().unwrap(), 11);
    let gone = s.prune(&Retention::default()).unwrap();
    assert_eq!(gone, 1, "older than 30 days");
    let gone = s
        .prune(&Retention {
            max_age: Duration::from_secs(86_400),
            max_count: 4,
            ..Retention::default()
        })
        .unwrap();
    assert_eq!(gone, 6);
    let left: Vec<String> = s
        .query(&Query::default())
        .unwrap()
        .into_iter()
        .filter_map(|e| e.event.object_id)
        .collect();
    assert_eq!(left, ["n6", "n7", "n8", "n9"], "the newest arrivals stay");
    // By size: keep what fits in the newest two events' bytes.
    let two: u64 = s
        .query(&Query::default())
        .unwrap()
        .iter()
        .rev()
        .take(2)
        .map(|e| (e.event.raw.len() + e.event.summary.len()) as u64)
        .sum();
    let gone = s
        .prune(&Retention {
            max_bytes: two,
            ..Retention::default()
        })
        .unwrap();
    assert_eq!(gone, 2);
    assert_eq!(s.count().unwrap(), 2);
    let gone = s
        .prune(&Retention {
            max_bytes: two - 1,
            ..Retention::default()
        })
        .unwrap();
    assert_eq!(gone, 1);
}

#[test]
fn history_and_last_seen_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/dir/e.sqlite3");
    let now = Utc::now().timestamp();
    {
        let mut s = EventStore::open(&path).unwrap();
        s.insert(&[webhook("a", now - 10), webhook("b", now - 5)])
            .unwrap();
        assert_eq!(s.unseen(100).unwrap().len(), 2, "nothing seen yet");
        s.mark_all_seen().unwrap();
        s.insert(&[webhook("c", now)]).unwrap();
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }
    let mut s = EventStore::open(&path).unwrap();
    assert_eq!(s.count().unwrap(), 3);
    let unseen: Vec<String> = s
        .unseen(100)
        .unwrap()
        .into_iter()
        .filter_map(|e| e.event.object_id)
        .collect();
    assert_eq!(
        unseen,
        ["c"],
        "what arrived since the console was last open"
    );
    s.mark_all_seen().unwrap();
    assert!(s.unseen(100).unwrap().is_empty());
    // Still deduping after the restart.
    assert!(s.insert(&[webhook("a", now - 10)]).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn async_store_runs_off_the_workers() {
    let dir = tempfile::tempdir().unwrap();
    let s = partnerdeck::store::AsyncStore::open(dir.path().join("e.sqlite3"))
        .await
        .unwrap();
    let e = webhook("x", Utc::now().timestamp());
    assert_eq!(s.insert(vec![e.clone()]).await.unwrap().len(), 1);
    assert!(s.insert(vec![e]).await.unwrap().is_empty());
    assert_eq!(s.query(Query::default()).await.unwrap().len(), 1);
    assert_eq!(s.unseen(10).await.unwrap().len(), 1);
    s.mark_all_seen().await.unwrap();
    assert!(s.unseen(10).await.unwrap().is_empty());
}

#[test]
fn retention_and_database_settings() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        "event_db = \"hist/events.db\"\nevent_retention_days = 7\nevent_retention_count = 500\n",
    )
    .unwrap();
    let args = partnerdeck::cli::GlobalArgs {
        config: Some(cfg),
        ..Default::default()
    };
    let s = partnerdeck::config::load(&args, &|_| None).unwrap();
    assert_eq!(s.event_db, dir.path().join("hist/events.db"));
    assert_eq!(s.event_retention.max_age, Duration::from_secs(7 * 86_400));
    assert_eq!(s.event_retention.max_count, 500);
    assert_eq!(
        s.event_retention.max_bytes,
        partnerdeck::store::DEFAULT_MAX_BYTES
    );
    let env = |k: &str| match k {
        "PARTNERDECK_EVENT_RETENTION_COUNT" => Some("9".to_string()),
        "PARTNERDECK_EVENT_RETENTION_MB" => Some("1".to_string()),
        "PARTNERDECK_EVENT_DB" => Some("/tmp/x.db".to_string()),
        _ => None,
    };
    let s = partnerdeck::config::load(&args, &env).unwrap();
    assert_eq!(s.event_retention.max_count, 9, "env over file");
    assert_eq!(s.event_retention.max_bytes, 1 << 20);
    assert_eq!(s.event_db, std::path::PathBuf::from("/tmp/x.db"));
    let bad = |k: &str| (k == "PARTNERDECK_EVENT_RETENTION_DAYS").then(|| "a week".to_string());
    let e = partnerdeck::config::load(&args, &bad)
        .unwrap_err()
        .to_string();
    assert!(e.contains("PARTNERDECK_EVENT_RETENTION_DAYS"), "{e}");
    let d = partnerdeck::config::Settings::default();
    assert!(d.event_db.ends_with("events.sqlite3"));
    assert_eq!(d.event_retention, Retention::default());
}
