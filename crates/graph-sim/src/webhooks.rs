//! Webhook pushes (reference §5): when its state changes, the simulator POSTs signed
//! deliveries (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body keyed with the app
//! secret>`) to a callback URL, the way Meta calls a partner's endpoint.
//!
//! | change | delivery |
//! |---|---|
//! | a solution action succeeds (accept, reject, send/accept/reject deactivation) | `partner_solutions` `SOLUTION_UPDATED` with the new `solution_status` |
//! | `POST /__sim/onboard_waba[?name=&waba_id=&owner_business_id=&solution_id=]` adds a client WABA | `account_update` `PARTNER_ADDED` |
//! | `POST /__sim/restrict_waba?waba_id=…[&restriction_type=…&days=N]` limits a WABA | `account_update` `ACCOUNT_RESTRICTION` |
//! | the live trickle (off by default) | now and then a plausible `phone_number_quality_update`, `account_review_update` or `PARTNER_ADDED` |
//!
//! Credit shares and phone registrations change the world too, but §5 documents no webhook for
//! them, so none is sent (the console re-reads after its own mutations anyway).
//!
//! Changes are queued in the world while it is locked (so batch operations push too) and sent
//! after the request by a task of their own: a slow or absent receiver never slows the Graph
//! API down. A failed POST is retried twice (1 s, then 2 s later), then dropped and counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use hmac::{Hmac, Mac};
use rand::Rng;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc;

use super::routes::Shared;
use super::wabas::{EntityHealth, Phone, Waba};
use super::world::{Business, World};

/// The app secret the simulator signs with when none is given. Not a secret: simulator data.
pub const DEMO_APP_SECRET: &str = "sim-demo-app-secret-not-a-real-secret";

/// Where and how the simulator pushes webhooks. `Debug` does not print the secret.
#[derive(Clone)]
pub struct WebhookOptions {
    /// e.g. `http://127.0.0.1:8766/webhook`.
    pub callback_url: String,
    /// Keys the signature.
    pub app_secret: String,
    /// A random plausible event this often (the demo's "live trickle"); `None` = off.
    pub trickle: Option<Duration>,
}

impl std::fmt::Debug for WebhookOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookOptions")
            .field("callback_url", &self.callback_url)
            .field("app_secret", &"<redacted>")
            .field("trickle", &self.trickle)
            .finish()
    }
}

impl WebhookOptions {
    pub fn new(callback_url: impl Into<String>, app_secret: impl Into<String>) -> WebhookOptions {
        WebhookOptions {
            callback_url: callback_url.into(),
            app_secret: app_secret.into(),
            trickle: None,
        }
    }
}

/// Counts of pushes, for tests and the banner.
#[derive(Debug, Default)]
pub struct PushStats {
    pub queued: AtomicU64,
    pub delivered: AtomicU64,
    pub failed: AtomicU64,
}

/// The sending side: a channel into the pusher task.
pub(crate) struct Pusher {
    tx: mpsc::UnboundedSender<Value>,
    pub(crate) stats: Arc<PushStats>,
    /// Cleared when this pusher is replaced or dropped: its trickle stops.
    alive: Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for Pusher {
    fn drop(&mut self) {
        self.alive.store(false, Ordering::Relaxed);
    }
}

/// Install a pusher (replacing any) and start its trickle if asked.
pub(crate) fn enable(shared: &Arc<Shared>, opts: WebhookOptions) {
    let every = opts.trickle;
    let pusher = Pusher::start(opts);
    let alive = pusher.alive.clone();
    *shared.webhooks() = Some(pusher);
    if let Some(every) = every.filter(|d| !d.is_zero()) {
        tokio::spawn(trickle_loop(Arc::downgrade(shared), every, alive));
    }
}

impl Pusher {
    /// Start the pusher task (and the trickle, if asked) on the current runtime.
    pub(crate) fn start(opts: WebhookOptions) -> Pusher {
        let (tx, rx) = mpsc::unbounded_channel();
        let stats = Arc::new(PushStats::default());
        tokio::spawn(push_loop(rx, opts.clone(), stats.clone()));
        Pusher {
            tx,
            stats,
            alive: Arc::new(std::sync::atomic::AtomicBool::new(true)),
        }
    }

    pub(crate) fn send(&self, deliveries: Vec<Value>) {
        for d in deliveries {
            self.stats.queued.fetch_add(1, Ordering::Relaxed);
            let _ = self.tx.send(d);
        }
    }
}

/// `sha256=<hex>` of `body` keyed with `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(71);
    hex.push_str("sha256=");
    for b in bytes {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

async fn push_loop(
    mut rx: mpsc::UnboundedReceiver<Value>,
    opts: WebhookOptions,
    stats: Arc<PushStats>,
) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "webhook pusher: no HTTP client");
            return;
        }
    };
    while let Some(delivery) = rx.recv().await {
        let body = delivery.to_string().into_bytes();
        let sig = signature(&opts.app_secret, &body);
        let mut ok = false;
        for attempt in 0..3u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
            }
            let sent = client
                .post(&opts.callback_url)
                .header("content-type", "application/json")
                .header("x-hub-signature-256", &sig)
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {
                    ok = true;
                    break;
                }
                Ok(r) => tracing::debug!(status = %r.status(), "webhook push refused"),
                Err(e) => tracing::debug!(error = %e, "webhook push failed"),
            }
        }
        let counter = if ok { &stats.delivered } else { &stats.failed };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// One delivery with one change, in Meta's envelope (§5.1).
pub fn envelope(entry_id: &str, field: &str, value: Value) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": entry_id,
            "time": now_secs(),
            "changes": [{ "field": field, "value": value }],
        }],
    })
}

/// Queue a delivery in the world (sent after the request, if webhooks are configured).
pub(crate) fn queue(world: &mut World, delivery: Value) {
    world.webhook_outbox.push(delivery);
}

/// After a request: send what it queued (or drop it when nobody is configured).
pub(crate) fn flush(shared: &Shared, world: &mut World) {
    if world.webhook_outbox.is_empty() {
        return;
    }
    let out = std::mem::take(&mut world.webhook_outbox);
    if let Some(p) = shared.webhooks().as_ref() {
        p.send(out);
    }
}

/// A solution action succeeded: `partner_solutions` `SOLUTION_UPDATED` (§5.3).
pub(crate) fn solution_changed(world: &mut World, solution_id: &str) {
    let Some(s) = world.solution(solution_id) else {
        return;
    };
    let status = if s.status == "ACTIVE" && s.status_for_pending_request == "PENDING_DEACTIVATION" {
        "PENDING_DEACTIVATION".to_string()
    } else {
        s.status.clone()
    };
    let d = envelope(
        &world.our_business_id.clone(),
        "partner_solutions",
        json!({
            "event": "SOLUTION_UPDATED",
            "solution_id": solution_id,
            "solution_status": status,
        }),
    );
    queue(world, d);
}

fn json_response(status: StatusCode, body: Value) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    r
}

fn error(status: StatusCode, message: String) -> Response {
    json_response(status, json!({ "error": { "message": message } }))
}

/// `/__sim/onboard_waba` and `/__sim/restrict_waba`.
pub(crate) fn control(shared: &Shared, method: &Method, path: &str, query: &str) -> Response {
    if *method != Method::POST {
        return error(StatusCode::METHOD_NOT_ALLOWED, format!("{path} takes POST"));
    }
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let param = |k: &str| {
        params
            .iter()
            .find(|(n, v)| n == k && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    let result = {
        let mut world = shared.world();
        let r = match path {
            "/__sim/onboard_waba" => onboard_waba(
                &mut world,
                param("name"),
                param("waba_id"),
                param("owner_business_id"),
                param("solution_id"),
            ),
            _ => match param("waba_id") {
                Some(id) => restrict_waba(
                    &mut world,
                    &id,
                    param("restriction_type"),
                    param("days").and_then(|d| d.parse().ok()),
                ),
                None => Err((
                    StatusCode::BAD_REQUEST,
                    "restrict_waba needs ?waba_id=".to_string(),
                )),
            },
        };
        flush(shared, &mut world);
        r
    };
    match result {
        Ok(v) => json_response(StatusCode::OK, v),
        Err((status, msg)) => error(status, msg),
    }
}

const NEW_WABA_NAMES: [&str; 8] = [
    "Harbour Lights Ferries",
    "Quince & Co. Florists",
    "Tōkai Bicycle Works",
    "Al-Noor Pharmacy",
    "Vila Nova Padaria",
    "Северный Ветер Travel",
    "Marigold Dental Care",
    "Blue Fjord Outfitters",
];

/// Add a client WABA shared with us (a customer finished Embedded Signup), with one number
/// waiting to be registered, not yet subscribed, not funded; queue `PARTNER_ADDED`.
pub(crate) fn onboard_waba(
    world: &mut World,
    name: Option<String>,
    waba_id: Option<String>,
    owner_business_id: Option<String>,
    solution_id: Option<String>,
) -> Result<Value, (StatusCode, String)> {
    let n = world.wabas.len() as u64;
    let mut k = n;
    let fresh = |prefix: &str, k: u64| format!("{prefix}{:014}", 1_000_000 + k);
    let id = match waba_id {
        Some(id) => id,
        None => loop {
            let id = fresh("47", k);
            if world.waba(&id).is_none() {
                break id;
            }
            k += 1;
        },
    };
    if world.waba(&id).is_some() {
        return Err((StatusCode::CONFLICT, format!("WABA {id} already exists")));
    }
    if let Some(sid) = &solution_id
        && world.solution(sid).is_none()
    {
        return Err((StatusCode::BAD_REQUEST, format!("no solution {sid}")));
    }
    let suffix = &id[id.len().saturating_sub(6)..];
    let owner = owner_business_id.unwrap_or_else(|| format!("48{:014}", 1_000_000 + k));
    let name = name.unwrap_or_else(|| NEW_WABA_NAMES[(k as usize) % NEW_WABA_NAMES.len()].into());
    if world.business(&owner).is_none() {
        world.push_business(Business {
            id: owner.clone(),
            name: name.clone(),
        });
    }
    let phone_id = format!("49{}", &id[2.min(id.len())..]);
    let waba = Waba {
        id: id.clone(),
        name: name.clone(),
        owner_business_id: owner.clone(),
        shared_with: vec![world.our_business_id.clone()],
        currency: "USD".into(),
        timezone_id: "1".into(),
        message_template_namespace: format!("sim_{suffix}"),
        account_review_status: "PENDING".into(),
        business_verification_status: "not_verified".into(),
        primary_funding_id: String::new(),
        creation_time: now_secs(),
        health: EntityHealth::default(),
        phone_numbers: vec![Phone {
            id: phone_id,
            display_phone_number: format!("+1 555-01{}", &suffix[suffix.len().saturating_sub(2)..]),
            verified_name: name.clone(),
            quality_rating: "UNKNOWN".into(),
            status: "PENDING".into(),
            code_verification_status: "VERIFIED".into(),
            name_status: "APPROVED".into(),
            platform_type: "NOT_APPLICABLE".into(),
            throughput_level: "STANDARD".into(),
            health: EntityHealth::default(),
            pin: None,
            failed_register_attempts: 0,
        }],
        subscribed_app_ids: vec![],
        solution_ids: solution_id.iter().cloned().collect(),
        extra: Default::default(),
    };
    world.push_waba(waba);
    let mut info = json!({ "waba_id": id, "owner_business_id": owner });
    if let Some(s) = &solution_id {
        info["solution_id"] = json!(s);
        info["solution_partner_business_ids"] = json!([world.our_business_id]);
    }
    let d = envelope(
        &world.our_business_id.clone(),
        "account_update",
        json!({ "event": "PARTNER_ADDED", "waba_info": info }),
    );
    queue(world, d);
    Ok(json!({ "waba_id": id, "owner_business_id": owner, "name": name }))
}

/// Restrict a WABA (its health becomes LIMITED) and queue `ACCOUNT_RESTRICTION`.
pub(crate) fn restrict_waba(
    world: &mut World,
    waba_id: &str,
    restriction_type: Option<String>,
    days: Option<i64>,
) -> Result<Value, (StatusCode, String)> {
    let t = restriction_type.unwrap_or_else(|| "RESTRICTED_BIZ_INITIATED_MESSAGING".into());
    let expiration = now_secs() + days.unwrap_or(7).clamp(0, 3650) * 86_400;
    let Some(w) = world.waba_mut(waba_id) else {
        return Err((StatusCode::NOT_FOUND, format!("no WABA {waba_id}")));
    };
    w.health.can_send_message = "LIMITED".into();
    let note = format!("{t} until {expiration}");
    if !w.health.additional_info.contains(&note) {
        w.health.additional_info.push(note);
    }
    let d = envelope(
        waba_id,
        "account_update",
        json!({
            "event": "ACCOUNT_RESTRICTION",
            "restriction_info": [{ "restriction_type": t, "expiration": expiration }],
        }),
    );
    queue(world, d);
    Ok(json!({ "waba_id": waba_id, "restriction_type": t, "expiration": expiration }))
}

/// One random plausible event for the trickle (state changed to match).
pub(crate) fn trickle_once(world: &mut World) {
    let mut rng = rand::rng();
    let pick = rng.random_range(0..10u32);
    if pick == 0 || world.wabas.is_empty() {
        let _ = onboard_waba(world, None, None, None, None);
        return;
    }
    if pick <= 3 {
        let i = rng.random_range(0..world.wabas.len());
        let w = &mut world.wabas[i];
        if w.account_review_status == "PENDING" || w.account_review_status.is_empty() {
            w.account_review_status = "APPROVED".into();
        }
        let (id, decision) = (w.id.clone(), w.account_review_status.clone());
        let d = envelope(
            &id,
            "account_review_update",
            json!({ "decision": decision }),
        );
        queue(world, d);
        return;
    }
    // A random WABA with a number: most have one, so a few draws find one without
    // listing them all; a world where none has one gets nothing.
    let n = world.wabas.len();
    let Some(i) = (0..64)
        .map(|_| rng.random_range(0..n))
        .find(|&i| !world.wabas[i].phone_numbers.is_empty())
        .or_else(|| world.wabas.iter().position(|w| !w.phone_numbers.is_empty()))
    else {
        return;
    };
    let j = rng.random_range(0..world.wabas[i].phone_numbers.len());
    let (event, quality, old, cur) = match rng.random_range(0..3u32) {
        0 => ("FLAGGED", "YELLOW", None, "TIER_1K"),
        1 => ("UNFLAGGED", "GREEN", None, "TIER_1K"),
        _ => ("UPGRADE", "GREEN", Some("TIER_1K"), "TIER_10K"),
    };
    let w = &mut world.wabas[i];
    let p = &mut w.phone_numbers[j];
    p.quality_rating = quality.into();
    let mut value = json!({
        "display_phone_number": p.display_phone_number.chars().filter(char::is_ascii_digit).collect::<String>(),
        "event": event,
        "current_limit": cur,
    });
    if let Some(o) = old {
        value["old_limit"] = json!(o);
    }
    let id = w.id.clone();
    let d = envelope(&id, "phone_number_quality_update", value);
    queue(world, d);
}

/// The trickle task: every `every`, one random event.
pub(crate) async fn trickle_loop(
    shared: std::sync::Weak<Shared>,
    every: Duration,
    alive: Arc<std::sync::atomic::AtomicBool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await; // the first tick is immediate
    loop {
        tick.tick().await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if !alive.load(Ordering::Relaxed) {
            return;
        }
        let mut world = shared.world();
        trickle_once(&mut world);
        flush(&shared, &mut world);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_rfc4231() {
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn onboard_and_restrict_change_the_world_and_queue() {
        let mut w = World::demo();
        let before = w.wabas.len();
        let sid = crate::DEMO_ACTIVE_OWNED_SOLUTION_ID;
        assert!(onboard_waba(&mut w, None, None, None, Some("77".into())).is_err());
        let v = onboard_waba(&mut w, None, None, None, Some(sid.into())).unwrap();
        let id = v["waba_id"].as_str().unwrap().to_string();
        assert_eq!(w.wabas.len(), before + 1);
        w.validate().unwrap();
        assert_eq!(w.webhook_outbox.len(), 1);
        let change = &w.webhook_outbox[0]["entry"][0]["changes"][0];
        assert_eq!(change["field"], "account_update");
        assert_eq!(change["value"]["event"], "PARTNER_ADDED");
        assert_eq!(change["value"]["waba_info"]["waba_id"], id.as_str());
        assert_eq!(change["value"]["waba_info"]["solution_id"], sid);
        assert!(onboard_waba(&mut w, None, Some(id.clone()), None, None).is_err());

        restrict_waba(&mut w, &id, None, Some(1)).unwrap();
        assert_eq!(w.waba(&id).unwrap().health.can_send_message, "LIMITED");
        let change = &w.webhook_outbox[1]["entry"][0]["changes"][0];
        assert_eq!(change["value"]["event"], "ACCOUNT_RESTRICTION");
        assert!(restrict_waba(&mut w, "nope", None, None).is_err());
        for _ in 0..50 {
            trickle_once(&mut w);
        }
        w.validate().unwrap();
        assert!(w.webhook_outbox.len() >= 52);
    }
}
