//! `partnerdeck events`: the real binary with a temporary HOME (so its data directory, event
//! database and log are temporary too). `--follow --webhook-listen` runs a headless receiver;
//! the simulator pushes to it; the feed prints; the app secret never reaches the log.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use graph_sim::{self as sim, SimOptions, WebhookOptions, World};
use partnerdeck::store::EventStore;
use partnerdeck::webhooks::{AppSecret, Event, EventKind, Scope, sign};
use serde_json::{Value, json};

const SECRET: &str = "events-cli-app-secret-93b2";

fn data_dir(home: &Path) -> PathBuf {
    home.join(".local/share/partnerdeck")
}

fn events(home: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_partnerdeck"))
        .arg("events")
        .args(args)
        .env_clear()
        .env("HOME", home)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Lines of a child's pipe, read on a thread, so the test can wait with a deadline.
fn lines(r: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(r).lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_line(rx: &mpsc::Receiver<String>, what: &str) -> String {
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("no line within 20 s: {what}"))
}

#[test]
fn events_prints_the_stored_feed_as_text_and_json_lines() {
    let home = tempfile::tempdir().unwrap();
    let db = data_dir(home.path()).join("events.sqlite3");
    {
        let mut s = EventStore::open(&db).unwrap();
        let body = json!({"object":"whatsapp_business_account","entry":[{"id":"1","time":chrono::Utc::now().timestamp() - 7200,
            "changes":[{"field":"partner_solutions","value":{"event":"SOLUTION_UPDATED","solution_id":"5150","solution_status":"REJECTED"}}]}]});
        let mut evs = partnerdeck::webhooks::decode(body.to_string().as_bytes());
        evs.push(Event::local(
            EventKind::Notice,
            None,
            vec![],
            "Console started",
            &json!({}),
        ));
        s.insert(&evs).unwrap();
    }
    let (code, out, err) = events(home.path(), &["--json"]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert_eq!(rows[0]["kind"], "webhook");
    assert_eq!(rows[0]["field"], "partner_solutions");
    assert_eq!(rows[0]["object_id"], "5150");
    assert_eq!(rows[0]["scopes"], json!(["solutions"]));
    assert_eq!(rows[0]["summary"], "Solution 5150 now REJECTED (rejected)");
    assert!(
        rows[0]["raw"]
            .as_str()
            .unwrap()
            .contains("SOLUTION_UPDATED")
    );
    assert!(rows[0]["time"].as_str().unwrap().contains('T'));
    assert_eq!(rows[1]["kind"], "notice", "newest last");

    let (_, out, _) = events(home.path(), &["--json", "--kind", "notice"]);
    assert_eq!(out.lines().count(), 1, "{out}");
    let (_, out, _) = events(home.path(), &["--json", "--since", "1h"]);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("Console started"));
    let (code, out, _) = events(home.path(), &[]);
    assert_eq!(code, 0);
    assert!(
        out.lines()
            .next()
            .unwrap()
            .contains("webhook   Solution 5150 now REJECTED"),
        "{out}"
    );
    let (code, _, err) = events(home.path(), &["--kind", "bogus"]);
    assert_eq!(code, 2);
    assert!(err.contains("--kind"), "{err}");
    let (code, _, err) = events(home.path(), &["--since", "soon"]);
    assert_eq!(code, 2);
    assert!(err.contains("--since"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_with_a_listener_receives_stores_and_prints_sim_pushes() {
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_partnerdeck"))
        .args([
            "events",
            "--follow",
            "--json",
            "--webhook-listen",
            "127.0.0.1:0",
        ])
        .env_clear()
        .env("HOME", home.path())
        .env("PARTNERDECK_APP_SECRET", SECRET)
        .env("PARTNERDECK_LOG", "debug")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = lines(child.stdout.take().unwrap());
    let err = lines(child.stderr.take().unwrap());
    let child = Kill(child);
    let banner = wait_line(&err, "listening banner");
    let url = banner
        .strip_prefix("Listening for webhooks on ")
        .unwrap_or_else(|| panic!("{banner}"))
        .to_string();

    // A delivery with a bad signature is refused and never printed.
    let http = reqwest::Client::new();
    let bogus = br#"{"object":"whatsapp_business_account","entry":[]}"#;
    let r = http
        .post(&url)
        .header("x-hub-signature-256", sign(&AppSecret::new("wrong"), bogus))
        .body(bogus.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    let h = sim::start(
        World::demo(),
        SimOptions {
            webhooks: Some(WebhookOptions::new(url.clone(), SECRET)),
            ..SimOptions::default()
        },
    )
    .await
    .unwrap();
    let r = http
        .post(format!(
            "{}/v25.0/{}/send_deactivation_request",
            h.base_url(),
            sim::DEMO_ACTIVE_OWNED_SOLUTION_ID
        ))
        .bearer_auth(h.token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    let line = tokio::task::spawn_blocking(move || (wait_line(&out, "pushed event"), out))
        .await
        .unwrap();
    let (first, _out) = line;
    let e: Event = serde_json::from_str(&first).unwrap();
    assert_eq!(e.kind, EventKind::Webhook);
    assert_eq!(
        e.object_id.as_deref(),
        Some(sim::DEMO_ACTIVE_OWNED_SOLUTION_ID)
    );
    assert_eq!(e.scopes, vec![Scope::Solutions]);
    assert!(e.summary.contains("PENDING_DEACTIVATION"), "{}", e.summary);
    drop(child);

    // Stored: a later `partnerdeck events` shows it.
    let (code, text, _) = events(home.path(), &[]);
    assert_eq!(code, 0);
    assert!(
        text.contains("PENDING_DEACTIVATION (deactivation requested)"),
        "{text}"
    );

    // The log names the refused delivery but never the secret.
    let log =
        std::fs::read_to_string(data_dir(home.path()).join("partnerdeck.log")).unwrap_or_default();
    assert!(log.contains("webhook delivery refused"), "{log}");
    assert!(!log.contains(SECRET));
    let mut all = String::new();
    for f in std::fs::read_dir(data_dir(home.path())).unwrap() {
        let p = f.unwrap().path();
        all.push_str(&String::from_utf8_lossy(
            &std::fs::read(&p).unwrap_or_default(),
        ));
    }
    assert!(
        !all.contains(SECRET),
        "the secret is in a file of the data dir"
    );
}
