//! The webhook listener over real HTTP on loopback (signature, handshake, size cap), the
//! decoder on Meta's documented examples and on every event of the reference's §5.2 table,
//! and the file follower (truncation, rotation).

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use partnerdeck::webhooks::follow::Follower;
use partnerdeck::webhooks::{
    AppSecret, Event, EventKind, FileFollower, Listener, ListenerConfig, Scope, VerifyToken,
    decode, sign,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

const SECRET: &str = "test-app-secret-4f1c";

fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/fixtures/webhooks")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

async fn listener(verify: Option<&str>) -> (Listener, mpsc::UnboundedReceiver<Event>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let cfg = ListenerConfig {
        verify_token: verify.map(VerifyToken::new),
        body_limit: 64 * 1024,
        ..ListenerConfig::new(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            AppSecret::new(SECRET),
        )
    };
    (Listener::start(cfg, tx).await.unwrap(), rx)
}

async fn post(url: &str, body: &[u8], sig: Option<&str>) -> u16 {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(s) = sig {
        req = req.header("X-Hub-Signature-256", s);
    }
    req.send().await.unwrap().status().as_u16()
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Event>) -> Event {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an event within 10 s")
        .expect("channel open")
}

fn solution_body(id: &str, status: &str) -> Vec<u8> {
    json!({"object":"whatsapp_business_account","entry":[{"id":"1","time":1739321024,"changes":[
        {"field":"partner_solutions","value":{"event":"SOLUTION_UPDATED","solution_id":id,"solution_status":status}}]}]})
    .to_string()
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn only_correctly_signed_deliveries_are_accepted() {
    let (l, mut rx) = listener(None).await;
    let url = l.url();
    let body = solution_body("42", "ACTIVE");
    let good = sign(&AppSecret::new(SECRET), &body);
    let wrong_secret = sign(&AppSecret::new("another-secret"), &body);
    let mut altered = body.clone();
    altered.extend_from_slice(b" ");
    let bad_hex = format!("sha256={}", "0".repeat(64));
    let sha1 = good.replace("sha256=", "sha1=");
    for (what, b, sig) in [
        ("missing", &body, None),
        ("invalid", &body, Some(bad_hex.as_str())),
        ("not hex", &body, Some("sha256=zz")),
        ("sha1", &body, Some(sha1.as_str())),
        ("wrong secret", &body, Some(wrong_secret.as_str())),
        ("body altered", &altered, Some(good.as_str())),
    ] {
        assert_eq!(post(&url, b, sig).await, 401, "{what}");
    }
    // Refused deliveries never become events: the first event is the good one, sent last.
    assert_eq!(post(&url, &body, Some(&good)).await, 200);
    let root = format!("http://{}/", l.local_addr());
    assert_eq!(post(&root, &body, Some(&good)).await, 200, "at / too");
    let e = next(&mut rx).await;
    assert_eq!(e.object_id.as_deref(), Some("42"));
    assert_eq!(e.kind, EventKind::Webhook);
    assert_eq!(e.scopes, vec![Scope::Solutions]);
    let again = next(&mut rx).await;
    assert_eq!(again.id, e.id, "a redelivery has the same id");
    assert!(rx.try_recv().is_err());
    let stats = l.stats();
    assert_eq!(
        stats
            .bad_signature
            .load(std::sync::atomic::Ordering::Relaxed),
        6
    );
    assert_eq!(stats.accepted.load(std::sync::atomic::Ordering::Relaxed), 2);
    // Other paths are not the endpoint.
    let other = format!("http://{}/other", l.local_addr());
    assert_eq!(post(&other, &body, Some(&good)).await, 404);
    l.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn oversized_bodies_are_refused() {
    let (l, mut rx) = listener(None).await;
    let big = vec![b' '; 64 * 1024 + 1];
    let sig = sign(&AppSecret::new(SECRET), &big);
    assert_eq!(post(&l.url(), &big, Some(&sig)).await, 413);
    assert!(rx.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn handshake_answers_the_challenge_only_with_the_verify_token() {
    let (l, _rx) = listener(Some("my-verify-token")).await;
    let client = reqwest::Client::new();
    let get = |path: &str, q: &str| {
        let url = format!("http://{}{path}?{q}", l.local_addr());
        let client = client.clone();
        async move {
            let r = client.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    for path in ["/", "/webhook"] {
        let ok = get(
            path,
            "hub.mode=subscribe&hub.verify_token=my-verify-token&hub.challenge=1158201444",
        )
        .await;
        assert_eq!(ok, (200, "1158201444".to_string()), "{path}");
        let wrong = get(
            path,
            "hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444",
        )
        .await;
        assert_eq!(wrong.0, 403, "{path}");
        assert!(!wrong.1.contains("1158201444"));
        let no_mode = get(path, "hub.verify_token=my-verify-token&hub.challenge=1").await;
        assert_eq!(no_mode.0, 403);
    }
    // Without a configured verify token, every handshake is refused.
    let (l2, _rx2) = listener(None).await;
    let url = format!(
        "http://{}/webhook?hub.mode=subscribe&hub.verify_token=&hub.challenge=5",
        l2.local_addr()
    );
    assert_eq!(client.get(url).send().await.unwrap().status().as_u16(), 403);
}

fn one(body: &[u8]) -> Event {
    let evs = decode(body);
    assert_eq!(evs.len(), 1, "{evs:?}");
    let e = evs.into_iter().next().unwrap();
    assert!(!e.summary.is_empty());
    assert!(!e.summary.contains('\n'));
    assert!(serde_json::from_slice::<Value>(e.raw.as_bytes()).is_ok());
    e
}

#[test]
fn documented_examples_decode() {
    let e = one(&fixture("partner_added.json"));
    assert_eq!(e.field.as_deref(), Some("account_update"));
    assert_eq!(e.event.as_deref(), Some("PARTNER_ADDED"));
    assert_eq!(
        e.object_id.as_deref(),
        Some("980198427658004"),
        "waba_info first"
    );
    assert_eq!(e.time.timestamp(), 1744823932);
    assert!(e.scopes.contains(&Scope::Wabas) && e.scopes.contains(&Scope::Solutions));
    assert_eq!(
        e.summary,
        "WABA 980198427658004 shared with us (customer business 2329417887457253), via solution 1715120619246906; partners 2949482758682047, 520744086200222"
    );

    let e = one(&fixture("partner_removed.json"));
    assert_eq!(e.event.as_deref(), Some("PARTNER_REMOVED"));
    assert_eq!(e.object_id.as_deref(), Some("980198427658004"));
    assert_eq!(
        e.summary,
        "WABA 980198427658004 no longer shared with us (customer business 2329417887457253) (reason PRIMARY_INACTIVITY, initiated by SYSTEM)"
    );

    let e = one(&fixture("account_deleted.json"));
    assert_eq!(e.event.as_deref(), Some("ACCOUNT_DELETED"));
    assert_eq!(
        e.object_id.as_deref(),
        Some("<WABA_ID>"),
        "falls back to entry id"
    );
    assert_eq!(e.summary, "WABA <WABA_ID> deleted");
    assert_eq!(e.time.timestamp(), 1743451903);

    // The documented partner_solutions example names both events in one string: an unknown
    // event, kept with its raw value.
    let e = one(&fixture("partner_solutions.json"));
    assert_eq!(e.field.as_deref(), Some("partner_solutions"));
    assert_eq!(
        e.event.as_deref(),
        Some("SOLUTION_CREATED|SOLUTION_UPDATED")
    );
    assert_eq!(e.object_id.as_deref(), Some("774485461512159"));
    assert_eq!(e.scopes, vec![Scope::Solutions]);
    assert!(
        e.summary.contains("SOLUTION_CREATED|SOLUTION_UPDATED"),
        "{}",
        e.summary
    );
    assert!(e.summary.contains("INITIATED"), "{}", e.summary);

    // And the two real events it stands for.
    let text = String::from_utf8(fixture("partner_solutions.json")).unwrap();
    let created = text.replace("SOLUTION_CREATED|SOLUTION_UPDATED", "SOLUTION_CREATED");
    let e = one(created.as_bytes());
    assert_eq!(
        e.summary,
        "Solution 774485461512159 created: INITIATED (request sent, waiting for acceptance)"
    );
    let updated = text
        .replace("SOLUTION_CREATED|SOLUTION_UPDATED", "SOLUTION_UPDATED")
        .replace("INITIATED", "PENDING_DEACTIVATION");
    let e = one(updated.as_bytes());
    assert_eq!(
        e.summary,
        "Solution 774485461512159 now PENDING_DEACTIVATION (deactivation requested)"
    );
}

fn change(entry_id: &str, field: &str, value: Value) -> Vec<u8> {
    json!({"object":"whatsapp_business_account","entry":[{"id":entry_id,"time":1746000000,
        "changes":[{"field":field,"value":value}]}]})
    .to_string()
    .into_bytes()
}

#[test]
fn every_account_update_event_of_the_table_decodes() {
    let waba_info = json!({"waba_id":"111","owner_business_id":"222","partner_app_id":"333","ad_account_linked":"act_444"});
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"event":"PARTNER_APP_INSTALLED","waba_info":waba_info}),
            "App 333 installed on WABA 111 (customer business 222)",
        ),
        (
            json!({"event":"PARTNER_APP_UNINSTALLED","waba_info":waba_info}),
            "App 333 uninstalled from WABA 111 (customer business 222)",
        ),
        (
            json!({"event":"ACCOUNT_RESTRICTION","restriction_info":[
                {"restriction_type":"RESTRICTED_BIZ_INITIATED_MESSAGING","expiration":1746403200},
                {"restriction_type":"RESTRICTED_ADD_PHONE_NUMBER_ACTION","expiration":1746403200,"remediation":"appeal"}]}),
            "WABA 999 restricted: RESTRICTED_BIZ_INITIATED_MESSAGING until 2025-05-05 00:00 UTC; RESTRICTED_ADD_PHONE_NUMBER_ACTION until 2025-05-05 00:00 UTC (appeal)",
        ),
        (
            json!({"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"SCAM"}}),
            "WABA 999 policy violation: SCAM",
        ),
        (
            json!({"event":"DISABLED_UPDATE","ban_info":{"waba_ban_state":"SCHEDULE_FOR_DISABLE","waba_ban_date":"April 17, 2025"}}),
            "WABA 999 scheduled to be disabled on April 17, 2025 [SCHEDULE_FOR_DISABLE]",
        ),
        (
            json!({"event":"DISABLED_UPDATE","ban_info":{"waba_ban_state":"REINSTATE"}}),
            "WABA 999 reinstated [REINSTATE]",
        ),
        (
            json!({"event":"AD_ACCOUNT_LINKED","waba_info":waba_info}),
            "WABA 111 linked to ad account act_444",
        ),
        (
            json!({"event":"AUTH_INTL_PRICE_ELIGIBILITY_UPDATE","auth_international_rate_eligibility":{
                "start_time":1746403200,"exception_countries":[{"country_code":"IN","start_time":1746403200},{"country_code":"ID"}]}}),
            "WABA 999 eligible for authentication-international rates from 2025-05-05 (exceptions: IN, ID)",
        ),
        (
            json!({"event":"BUSINESS_PRIMARY_LOCATION_COUNTRY_UPDATE","country":"BR"}),
            "WABA 999 primary business location set to BR",
        ),
        (
            json!({"event":"MM_LITE_TERMS_SIGNED","waba_info":{"waba_id":"111","owner_business_id":"222"}}),
            "WABA 111: Marketing Messages API terms signed (customer business 222)",
        ),
        (
            json!({"event":"PARTNER_CLIENT_CERTIFICATION_STATUS_UPDATE","partner_client_certification_info":{
                "client_business_id":"555","status":"FAILED","rejection_reasons":["LEGAL NAME NOT FOUND IN DOCUMENTS","WEBSITE_NOT_MATCHING"]}}),
            "Business verification of client 555: FAILED (reasons: LEGAL NAME NOT FOUND IN DOCUMENTS, WEBSITE_NOT_MATCHING)",
        ),
        (
            json!({"event":"VOLUME_BASED_PRICING_TIER_UPDATE","volume_tier_info":{"tier_update_time":1746403200,
                "pricing_category":"UTILITY","tier":"250001:2000000","effective_month":"2025-06","region":"India"}}),
            "WABA 999 pricing tier 250001:2000000 for UTILITY in India from 2025-06",
        ),
        (
            json!({"event":"ACCOUNT_OFFBOARDED"}),
            "WABA 999 offboarded (device change or re-registration)",
        ),
        (
            json!({"event":"ACCOUNT_RECONNECTED"}),
            "WABA 999 reconnected",
        ),
    ];
    for (value, summary) in cases {
        let name = value["event"].as_str().unwrap().to_string();
        let e = one(&change("999", "account_update", value));
        assert_eq!(e.event.as_deref(), Some(name.as_str()));
        assert_eq!(e.summary, summary, "{name}");
        assert!(e.scopes.contains(&Scope::Wabas), "{name}");
        assert!(e.object_id.is_some(), "{name}");
    }
}

#[test]
fn quality_and_review_updates_decode() {
    let e = one(&change(
        "999",
        "phone_number_quality_update",
        json!({"display_phone_number":"15550001111","event":"DOWNGRADE","current_limit":"TIER_250","old_limit":"TIER_1K"}),
    ));
    assert_eq!(
        e.summary,
        "Number 15550001111 messaging limit lowered: limit TIER_1K → TIER_250 (WABA 999)"
    );
    assert_eq!(e.scopes, vec![Scope::Wabas]);
    let e = one(&change(
        "999",
        "account_review_update",
        json!({"decision":"REJECTED"}),
    ));
    assert_eq!(e.summary, "WABA 999 account review: REJECTED");
    assert_eq!(e.object_id.as_deref(), Some("999"));
}

#[test]
fn unknown_events_and_fields_are_kept_raw() {
    let e = one(&change(
        "999",
        "account_update",
        json!({"event":"SOMETHING_NEW","detail":{"x":1}}),
    ));
    assert_eq!(e.event.as_deref(), Some("SOMETHING_NEW"));
    assert!(e.summary.contains("SOMETHING_NEW"), "{}", e.summary);
    assert!(e.summary.contains("\"x\":1"), "{}", e.summary);
    let e = one(&change(
        "999",
        "message_template_status_update",
        json!({"event":"APPROVED","message_template_id":7}),
    ));
    assert_eq!(e.field.as_deref(), Some("message_template_status_update"));
    assert!(e.scopes.is_empty());
    assert!(e.summary.contains("message_template_status_update"));
    assert!(e.raw.contains("message_template_id"));
    // Terminal escapes from outside never reach a summary.
    let e = one(&change(
        "9\u{1b}[2J",
        "account_update",
        json!({"event":"BUSINESS_PRIMARY_LOCATION_COUNTRY_UPDATE","country":"B\nR\u{7}"}),
    ));
    assert!(!e.summary.chars().any(char::is_control), "{:?}", e.summary);
    // Several entries and changes: one event each.
    let body = json!({"object":"whatsapp_business_account","entry":[
        {"id":"1","time":1,"changes":[{"field":"account_review_update","value":{"decision":"APPROVED"}},
                                       {"field":"account_review_update","value":{"decision":"PENDING"}}]},
        {"id":"2","time":2,"changes":[{"field":"account_update","value":{"event":"ACCOUNT_DELETED"}}]}]});
    let evs = decode(body.to_string().as_bytes());
    assert_eq!(evs.len(), 3);
    let ids: std::collections::HashSet<_> = evs.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids.len(), 3);
}

#[test]
fn secrets_never_print() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "").unwrap();
    let args = partnerdeck::cli::GlobalArgs {
        config: Some(cfg),
        webhook_listen: Some("0".into()),
        ..Default::default()
    };
    let env = |k: &str| match k {
        "PARTNERDECK_APP_SECRET" => Some("s3cr3t-app-secret".to_string()),
        "PARTNERDECK_WEBHOOK_VERIFY_TOKEN" => Some("v3rify-t0ken".to_string()),
        _ => None,
    };
    let s = partnerdeck::config::load(&args, &env).unwrap();
    assert_eq!(s.app_secret.as_ref().unwrap().expose(), "s3cr3t-app-secret");
    let intake = partnerdeck::webhooks::IntakeConfig::from_settings(&s).unwrap();
    for text in [format!("{s:?}"), format!("{intake:?}")] {
        assert!(!text.contains("s3cr3t-app-secret"), "{text}");
        assert!(!text.contains("v3rify-t0ken"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }
    // A listener without an app secret is refused, naming how to give one.
    let env = |_: &str| None;
    let s = partnerdeck::config::load(&args, &env).unwrap();
    let e = partnerdeck::webhooks::IntakeConfig::from_settings(&s)
        .unwrap_err()
        .to_string();
    assert!(e.contains("PARTNERDECK_APP_SECRET"), "{e}");
}

#[cfg(unix)]
#[test]
fn app_secret_file_must_be_private_and_secret_keys_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("app_secret");
    std::fs::write(&secret, "from-file-secret\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "app_secret_file = \"app_secret\"\n").unwrap();
    let args = partnerdeck::cli::GlobalArgs {
        config: Some(cfg.clone()),
        ..Default::default()
    };
    let e = partnerdeck::config::load(&args, &|_| None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("chmod 600"), "{e}");
    assert!(!e.contains("from-file-secret"));
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let s = partnerdeck::config::load(&args, &|_| None).unwrap();
    assert_eq!(s.app_secret.unwrap().expose(), "from-file-secret");
    std::fs::write(&cfg, "app_secret = \"inline\"\n").unwrap();
    let e = partnerdeck::config::load(&args, &|_| None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("app_secret_file"), "{e}");
    assert!(!e.contains("inline"), "{e}");
}

fn line(status: &str, id: &str) -> String {
    let mut s = String::from_utf8(solution_body(id, status)).unwrap();
    s.push('\n');
    s
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn objects(evs: &[Event]) -> Vec<String> {
    evs.iter()
        .map(|e| e.object_id.clone().unwrap_or_default())
        .collect()
}

#[test]
fn follower_reads_lines_survives_truncation_and_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deliveries.jsonl");
    let mut f = Follower::new(path.clone());
    assert!(f.poll().is_empty(), "no file yet is fine");
    append(&path, &line("ACTIVE", "1"));
    append(&path, &line("ACTIVE", "2"));
    assert_eq!(objects(&f.poll()), ["1", "2"]);
    assert!(f.poll().is_empty(), "nothing new");
    // A line written in two parts is decoded once complete.
    let l3 = line("ACTIVE", "3");
    let (a, b) = l3.split_at(20);
    append(&path, a);
    assert!(f.poll().is_empty());
    append(&path, b);
    assert_eq!(objects(&f.poll()), ["3"]);
    // Blank lines and junk: junk is kept as an unrecognised event.
    append(&path, "\n   \nnot json\n");
    let evs = f.poll();
    assert_eq!(evs.len(), 1);
    assert!(evs[0].summary.starts_with("Unrecognised webhook delivery"));
    // Truncated in place: read again from the start.
    std::fs::write(&path, line("REJECTED", "4")).unwrap();
    assert_eq!(objects(&f.poll()), ["4"]);
    // Rotated: the old file's last lines, then the new file's.
    append(&path, &line("ACTIVE", "5"));
    std::fs::rename(&path, dir.path().join("deliveries.jsonl.1")).unwrap();
    append(&path, &line("ACTIVE", "6"));
    assert_eq!(objects(&f.poll()), ["5", "6"]);
    // Removed: nothing, then a new file is picked up.
    std::fs::remove_file(&path).unwrap();
    assert!(f.poll().is_empty());
    append(&path, &line("ACTIVE", "7"));
    assert_eq!(objects(&f.poll()), ["7"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn follower_thread_sends_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.jsonl");
    append(&path, &line("ACTIVE", "10"));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let f = FileFollower::start(path.clone(), Duration::from_millis(20), tx);
    assert_eq!(next(&mut rx).await.object_id.as_deref(), Some("10"));
    std::fs::rename(&path, dir.path().join("d.jsonl.1")).unwrap();
    append(&path, &line("ACTIVE", "11"));
    assert_eq!(next(&mut rx).await.object_id.as_deref(), Some("11"));
    tokio::task::spawn_blocking(move || f.stop()).await.unwrap();
}

fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop_oneof![
            Just("account_update".to_string()),
            Just("partner_solutions".to_string()),
            Just("PARTNER_REMOVED".to_string()),
            Just("ACCOUNT_RESTRICTION".to_string()),
            ".{0,12}"
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop_oneof![
            Just("object".to_string()),
            Just("entry".to_string()),
            Just("id".to_string()),
            Just("time".to_string()),
            Just("changes".to_string()),
            Just("field".to_string()),
            Just("value".to_string()),
            Just("event".to_string()),
            Just("waba_info".to_string()),
            Just("restriction_info".to_string()),
            Just("expiration".to_string()),
            "[a-z_]{1,8}"
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(keys, inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Whatever arrives, the decoder neither panics nor drops it, and every event is storable.
    #[test]
    fn decoder_never_panics_and_keeps_everything(v in any_json(), junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
        for body in [v.to_string().into_bytes(), junk] {
            let evs = decode(&body);
            proptest::prop_assert!(!evs.is_empty());
            for e in evs {
                proptest::prop_assert!(!e.summary.is_empty());
                proptest::prop_assert!(!e.summary.chars().any(char::is_control));
                proptest::prop_assert!(serde_json::from_str::<Value>(&e.raw).is_ok());
                proptest::prop_assert_eq!(e.id.len(), 32);
            }
        }
    }
}
