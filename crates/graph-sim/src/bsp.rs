//! Plivo's and Telnyx's registration APIs (reference §6), served by the same simulator on the
//! same port as the Graph API: point `--plivo-url` / `--telnyx-url` at the simulator's base URL.
//! Their requests go through the same fault layer and are recorded in `/__sim/requests` like
//! the Graph calls, so tests can count POSTs and cut answers.
//!
//! # Plivo — `POST /v1/Account/{auth_id}/WhatsApp/EmbeddedSignup/` (trailing slash optional)
//!
//! HTTP Basic `auth_id:auth_token`; the path's Auth ID must be the Basic user. JSON body
//! `waba_id`, `business_id`, `phone_number_id`, optional `client_ref`. Answers (checked in this
//! order), each `{"api_id": "<uuid>", "error": "<text>"}` with the documented text:
//!
//! | HTTP | when |
//! |---|---|
//! | 401 | no/other Basic credentials, or the path's Auth ID is not the Basic user |
//! | 403 | the account is not enabled for Embedded Signup ([`DEMO_PLIVO_FORBIDDEN_AUTH_ID`](crate::DEMO_PLIVO_FORBIDDEN_AUTH_ID)) |
//! | 500 | [`SimHandle::fail_next_bsp_requests`](crate::SimHandle::fail_next_bsp_requests) was called |
//! | 400 | `waba_id is required.`, `business_id is required.`, `phone_number_id is required.` (missing or empty, in that order) |
//! | 400 | `waba_id is not a valid WhatsApp Business Account ID.` (not digits, or no such WABA) |
//! | 400 | `This WABA is already registered with Plivo.` (a second registration) |
//! | 400 | `This phone number is already registered under another WABA.` (the number belongs to, or was registered with, another WABA) |
//! | 400 | `Multi-Partner Solution is not active for your app. Contact Plivo support.` (no solution that onboarded the WABA is ACTIVE) |
//! | 400 | undocumented texts: unknown number, `client_ref` over 64 characters, `business_id` not the WABA's owner |
//! | 200 | `{"api_id","message":"Embedded signup completed successfully.","waba_id","phone_number_id","business_id"}` |
//!
//! # Telnyx — `POST /v2/whatsapp/business_accounts/tech_provider`
//!
//! `Authorization: Bearer <key>`; JSON body `waba_id`, `phone_number_id`, `app_id`, optional
//! `customer_id`. 401 on a bad key; 200 `{"data":{"waba_id","phone_number_id","status":
//! "registered","customer_id"}}`, also on a second registration (Telnyx documents nothing
//! else). The rest is undocumented and answered in Telnyx's general error shape
//! `{"errors":[{"code","title","detail"}]}`: 422 for a missing field, an `app_id` that is not
//! the world's app, an unknown WABA or number, or no active onboarding solution; 500 after
//! `fail_next_bsp_requests`.
//!
//! A successful registration has the documented side effects: the BSP's credit is attached
//! (`primary_funding_id`, if the WABA had none) and the number is `CONNECTED`.
//!
//! Faults (`/__sim/faults`) apply to these paths too (globs such as `v1/Account/*` or
//! `v2/whatsapp/*`); a fault that answers for the server answers in Graph's error shape, which
//! a BSP client sees as an undocumented answer. In `/__sim/requests` a Plivo path is recorded
//! with the Auth ID redacted.
//!
//! With [`BspWorld::echo_credentials`] every answer also echoes the credentials it received
//! (as a careless server might), so tests can check they go nowhere.

use axum::http::{HeaderMap, Method, header};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::world::World;

/// A Plivo (sub-)account the simulator accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlivoAccount {
    pub auth_id: String,
    pub auth_token: String,
    /// Tech Provider permissions and WhatsApp enabled; `false` answers 403.
    #[serde(default = "yes")]
    pub embedded_signup: bool,
}

fn yes() -> bool {
    true
}

/// One registration a BSP has taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BspRegistered {
    /// `plivo` or `telnyx`.
    pub bsp: String,
    pub waba_id: String,
    pub phone_number_id: String,
    #[serde(default)]
    pub business_id: String,
    /// `client_ref` / `customer_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// The BSPs' side of the world.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BspWorld {
    #[serde(default)]
    pub plivo_accounts: Vec<PlivoAccount>,
    /// Telnyx API keys that are valid.
    #[serde(default)]
    pub telnyx_api_keys: Vec<String>,
    /// The credit line id each BSP attaches (`primary_funding_id`) on a registration.
    #[serde(default)]
    pub plivo_funding_id: String,
    #[serde(default)]
    pub telnyx_funding_id: String,
    /// Registrations taken so far (in order).
    #[serde(default)]
    pub registrations: Vec<BspRegistered>,
    /// Echo the received credentials in every answer (a test of the client's scrubbing).
    #[serde(default)]
    pub echo_credentials: bool,
    /// The next this-many BSP requests answer 500 (after authentication).
    #[serde(default)]
    pub fail_next: u32,
}

impl Default for BspWorld {
    /// The demo BSP accounts ([`crate::DEMO_PLIVO_AUTH_ID`], [`crate::DEMO_TELNYX_API_KEY`], ...)
    /// with no registration: every world accepts the demo credentials.
    fn default() -> BspWorld {
        BspWorld {
            plivo_accounts: vec![
                PlivoAccount {
                    auth_id: crate::DEMO_PLIVO_AUTH_ID.into(),
                    auth_token: crate::DEMO_PLIVO_AUTH_TOKEN.into(),
                    embedded_signup: true,
                },
                PlivoAccount {
                    auth_id: crate::DEMO_PLIVO_FORBIDDEN_AUTH_ID.into(),
                    auth_token: crate::DEMO_PLIVO_FORBIDDEN_AUTH_TOKEN.into(),
                    embedded_signup: false,
                },
            ],
            telnyx_api_keys: vec![crate::DEMO_TELNYX_API_KEY.into()],
            plivo_funding_id: crate::DEMO_PLIVO_FUNDING_ID.into(),
            telnyx_funding_id: crate::DEMO_TELNYX_FUNDING_ID.into(),
            registrations: vec![],
            echo_credentials: false,
            fail_next: 0,
        }
    }
}

/// Is this a BSP path (not a Graph one)?
pub(crate) fn is_bsp_path(path: &str) -> bool {
    plivo_auth_id(path).is_some() || is_telnyx_path(path)
}

fn plivo_auth_id(path: &str) -> Option<String> {
    let segs: Vec<&str> = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .collect();
    match segs.as_slice() {
        ["v1", "Account", id, "WhatsApp", "EmbeddedSignup"] => Some(percent_decode(id)),
        _ => None,
    }
}

/// The path as recorded: a Plivo Auth ID replaced by `[redacted]`.
pub(crate) fn redact_path(path: &str) -> String {
    match plivo_auth_id(path) {
        Some(_) => "/v1/Account/[redacted]/WhatsApp/EmbeddedSignup/".to_string(),
        None => path.to_string(),
    }
}

fn is_telnyx_path(path: &str) -> bool {
    path.trim_end_matches('/') == "/v2/whatsapp/business_accounts/tech_provider"
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Answer one BSP request: `(status, body)`.
pub(crate) fn handle(
    world: &mut World,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> (u16, Value) {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let (status, mut answer) = if let Some(id) = plivo_auth_id(path) {
        if method != Method::POST {
            (405, plivo_error("Method not allowed."))
        } else {
            plivo(world, &id, &authorization, body)
        }
    } else if method != Method::POST {
        (
            405,
            telnyx_error("10405", "Method not allowed", "Use POST."),
        )
    } else {
        telnyx(world, &authorization, body)
    };
    if world.bsp.echo_credentials
        && let Some(o) = answer.as_object_mut()
    {
        let decoded = authorization
            .strip_prefix("Basic ")
            .and_then(|b| {
                base64::engine::general_purpose::STANDARD
                    .decode(b.trim())
                    .ok()
            })
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        o.insert(
            "echo".into(),
            json!({"authorization": authorization, "decoded": decoded, "path": path}),
        );
        if let Some(e) = o
            .get_mut("error")
            .and_then(|e| e.as_str().map(str::to_string))
        {
            o.insert(
                "error".into(),
                json!(format!(
                    "{e} (received {authorization} for {path}, {decoded:?})"
                )),
            );
        }
    }
    (status, answer)
}

fn new_api_id() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let hex: String = (0..32)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn plivo_error(text: &str) -> Value {
    json!({"api_id": new_api_id(), "error": text})
}

fn telnyx_error(code: &str, title: &str, detail: &str) -> Value {
    json!({"errors": [{"code": code, "title": title, "detail": detail}]})
}

fn body_fields(body: &[u8]) -> Map<String, Value> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn field(m: &Map<String, Value>, name: &str) -> Option<String> {
    match m.get(name)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a solution that onboarded the WABA is ACTIVE (pending deactivation included).
fn onboarded_through_active_solution(world: &World, waba_id: &str) -> bool {
    world.waba(waba_id).is_some_and(|w| {
        w.solution_ids
            .iter()
            .filter_map(|s| world.solution(s))
            .any(|s| s.status == "ACTIVE")
    })
}

/// Where the number is: `Some(waba id)` of the WABA holding it.
fn waba_of_phone(world: &World, phone_id: &str) -> Option<String> {
    super::wabas::find_phone(world, phone_id).map(|(wi, _)| world.wabas[wi].id.clone())
}

fn registered_elsewhere(world: &World, phone_id: &str, waba_id: &str) -> bool {
    world
        .bsp
        .registrations
        .iter()
        .any(|r| r.phone_number_id == phone_id && r.waba_id != waba_id)
}

/// The documented side effects of a registration: the BSP's credit is attached and the number
/// is connected.
fn take_effect(world: &mut World, waba_id: &str, phone_id: &str, funding: &str) {
    if let Some(w) = world.waba_mut(waba_id) {
        if w.primary_funding_id.is_empty() {
            w.primary_funding_id = funding.to_string();
        }
        if let Some(p) = w.phone_numbers.iter_mut().find(|p| p.id == phone_id) {
            p.status = "CONNECTED".into();
        }
    }
}

fn plivo(world: &mut World, path_id: &str, authorization: &str, body: &[u8]) -> (u16, Value) {
    let creds = authorization
        .strip_prefix("Basic ")
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        });
    let account = creds.and_then(|(id, token)| {
        world
            .bsp
            .plivo_accounts
            .iter()
            .find(|a| a.auth_id == id && a.auth_token == token && a.auth_id == path_id)
            .cloned()
    });
    let Some(account) = account else {
        return (
            401,
            plivo_error("Authentication credentials were not provided or are invalid."),
        );
    };
    if !account.embedded_signup {
        return (
            403,
            plivo_error("Your account is not authorized for the Embedded Signup API."),
        );
    }
    if world.bsp.fail_next > 0 {
        world.bsp.fail_next -= 1;
        return (
            500,
            plivo_error("An internal error occurred. Please try again later."),
        );
    }
    let m = body_fields(body);
    let bad = |t: &str| (400, plivo_error(t));
    let Some(waba_id) = field(&m, "waba_id") else {
        return bad("waba_id is required.");
    };
    let Some(business_id) = field(&m, "business_id") else {
        return bad("business_id is required.");
    };
    let Some(phone_id) = field(&m, "phone_number_id") else {
        return bad("phone_number_id is required.");
    };
    if !digits(&waba_id) || world.waba(&waba_id).is_none() {
        return bad("waba_id is not a valid WhatsApp Business Account ID.");
    }
    let client_ref = field(&m, "client_ref");
    if client_ref.as_ref().is_some_and(|r| r.chars().count() > 64) {
        return bad("client_ref must be at most 64 characters.");
    }
    if world
        .bsp
        .registrations
        .iter()
        .any(|r| r.bsp == "plivo" && r.waba_id == waba_id)
    {
        return bad("This WABA is already registered with Plivo.");
    }
    match waba_of_phone(world, &phone_id) {
        None => return bad("phone_number_id is not a valid phone number ID."),
        Some(w) if w != waba_id => {
            return bad("This phone number is already registered under another WABA.");
        }
        Some(_) if registered_elsewhere(world, &phone_id, &waba_id) => {
            return bad("This phone number is already registered under another WABA.");
        }
        Some(_) => {}
    }
    if world
        .waba(&waba_id)
        .is_some_and(|w| w.owner_business_id != business_id)
    {
        return bad("business_id does not own this WhatsApp Business Account.");
    }
    if !onboarded_through_active_solution(world, &waba_id) {
        return bad("Multi-Partner Solution is not active for your app. Contact Plivo support.");
    }
    world.bsp.registrations.push(BspRegistered {
        bsp: "plivo".into(),
        waba_id: waba_id.clone(),
        phone_number_id: phone_id.clone(),
        business_id: business_id.clone(),
        reference: client_ref,
    });
    let funding = world.bsp.plivo_funding_id.clone();
    take_effect(world, &waba_id, &phone_id, &funding);
    (
        200,
        json!({
            "api_id": new_api_id(),
            "message": "Embedded signup completed successfully.",
            "waba_id": waba_id,
            "phone_number_id": phone_id,
            "business_id": business_id,
        }),
    )
}

fn telnyx(world: &mut World, authorization: &str, body: &[u8]) -> (u16, Value) {
    let key = authorization
        .strip_prefix("Bearer ")
        .map(str::trim)
        .unwrap_or("");
    if key.is_empty() || !world.bsp.telnyx_api_keys.iter().any(|k| k == key) {
        return (
            401,
            telnyx_error(
                "10009",
                "Authentication failed",
                "The API key provided is invalid, expired or revoked.",
            ),
        );
    }
    if world.bsp.fail_next > 0 {
        world.bsp.fail_next -= 1;
        return (
            500,
            telnyx_error("10007", "Unexpected error", "An unexpected error occurred."),
        );
    }
    let m = body_fields(body);
    let invalid = |detail: &str| (422, telnyx_error("10015", "Invalid value", detail));
    let Some(waba_id) = field(&m, "waba_id") else {
        return invalid("waba_id is required.");
    };
    let Some(phone_id) = field(&m, "phone_number_id") else {
        return invalid("phone_number_id is required.");
    };
    let Some(app_id) = field(&m, "app_id") else {
        return invalid("app_id is required.");
    };
    let customer_id = field(&m, "customer_id");
    if app_id != world.our_app_id {
        return invalid("app_id is not the Meta app linked to this Telnyx account.");
    }
    if world.waba(&waba_id).is_none() {
        return invalid("waba_id was not found.");
    }
    if waba_of_phone(world, &phone_id).as_deref() != Some(waba_id.as_str())
        || registered_elsewhere(world, &phone_id, &waba_id)
    {
        return invalid("phone_number_id does not belong to this WhatsApp Business Account.");
    }
    if !onboarded_through_active_solution(world, &waba_id) {
        return invalid(
            "The WhatsApp Business Account is not shared with Telnyx through an active Multi-Partner Solution.",
        );
    }
    if !world
        .bsp
        .registrations
        .iter()
        .any(|r| r.bsp == "telnyx" && r.waba_id == waba_id)
    {
        let business_id = world
            .waba(&waba_id)
            .map(|w| w.owner_business_id.clone())
            .unwrap_or_default();
        world.bsp.registrations.push(BspRegistered {
            bsp: "telnyx".into(),
            waba_id: waba_id.clone(),
            phone_number_id: phone_id.clone(),
            business_id,
            reference: customer_id.clone(),
        });
        let funding = world.bsp.telnyx_funding_id.clone();
        take_effect(world, &waba_id, &phone_id, &funding);
    }
    (
        200,
        json!({"data": {
            "waba_id": waba_id,
            "phone_number_id": phone_id,
            "status": "registered",
            "customer_id": customer_id,
        }}),
    )
}

impl World {
    /// A Tech Provider's world (issue 10), built at call time so its onboarding dates are
    /// recent: our app "Bramble Commerce" ([`crate::DEMO_TP_APP_ID`], business
    /// [`crate::DEMO_TP_BUSINESS_ID`], token [`crate::DEMO_TP_TOKEN`]) owns **no** credit line.
    /// Its customers were onboarded through Multi-Partner Solutions with a BSP as Solution
    /// Partner:
    ///
    /// | constant | onboarded through | funding | BSP |
    /// |---|---|---|---|
    /// | [`crate::DEMO_TP_WABA_REGISTERED_ID`] | Plivo solution (ACTIVE, we own it) | Plivo's credit | already registered with Plivo |
    /// | [`crate::DEMO_TP_WABA_UNFUNDED_ID`] | Plivo solution (ACTIVE) | none | registering attaches Plivo's credit |
    /// | [`crate::DEMO_TP_WABA_INACTIVE_ID`] | deactivated solution with Plivo | none | Plivo: "Multi-Partner Solution is not active" |
    /// | [`crate::DEMO_TP_WABA_TELNYX_ID`] | Telnyx solution (ACTIVE, Telnyx owns it) | Telnyx's credit | not registered |
    /// | [`crate::DEMO_TP_WABA_TELNYX_UNFUNDED_ID`] | Telnyx solution (ACTIVE) | none | not registered |
    ///
    /// Every WABA has one number (`DEMO_TP_PHONE_*`). The first was created 30 days ago, the
    /// others in the last three days. The demo BSP credentials work (see [`BspWorld`]).
    pub fn demo_tech_provider() -> World {
        use crate::*;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(1_764_000_000);
        let day = 86_400;
        let customers = [
            ("3600000000000001", "Hollow Oak Tea"),
            ("3600000000000002", "Saffron Lane Books"),
            ("3600000000000003", "Kiln & Co."),
            ("3600000000000004", "Tidewater Bikes"),
            ("3600000000000005", "Mesa Verde Florals"),
        ];
        let mut businesses = vec![
            json!({"id": DEMO_TP_BUSINESS_ID, "name": "Bramble Commerce Inc."}),
            json!({"id": DEMO_PLIVO_BUSINESS_ID, "name": "Plivo Inc."}),
            json!({"id": DEMO_TELNYX_BUSINESS_ID, "name": "Telnyx LLC"}),
        ];
        businesses.extend(
            customers
                .iter()
                .map(|(id, name)| json!({"id": id, "name": name})),
        );
        let waba = |id: &str,
                    phone: &str,
                    n: usize,
                    solution: &str,
                    funding: &str,
                    status: &str,
                    age_days: i64| {
            let (owner, name) = customers[n];
            json!({
                "id": id,
                "name": name,
                "owner_business_id": owner,
                "shared_with": [DEMO_TP_BUSINESS_ID],
                "currency": "USD",
                "timezone_id": "1",
                "account_review_status": "APPROVED",
                "business_verification_status": "verified",
                "primary_funding_id": funding,
                "creation_time": now - age_days * day,
                "subscribed_app_ids": [DEMO_TP_APP_ID],
                "solution_ids": [solution],
                "phone_numbers": [{
                    "id": phone,
                    "display_phone_number": format!("+1 415-555-01{n:02}"),
                    "verified_name": name,
                    "quality_rating": "GREEN",
                    "status": status,
                    "code_verification_status": "VERIFIED",
                    "name_status": "APPROVED",
                    "platform_type": "CLOUD_API",
                    "throughput_level": "STANDARD"
                }]
            })
        };
        let mps = [
            "MANAGE",
            "DEVELOP",
            "MANAGE_TEMPLATES",
            "MANAGE_PHONE",
            "VIEW_COST",
        ];
        let world = json!({
            "our_app_id": DEMO_TP_APP_ID,
            "our_business_id": DEMO_TP_BUSINESS_ID,
            "businesses": businesses,
            "apps": [
                {"id": DEMO_TP_APP_ID, "name": "Bramble Commerce", "business_id": DEMO_TP_BUSINESS_ID},
                {"id": DEMO_PLIVO_APP_ID, "name": "Plivo WhatsApp", "business_id": DEMO_PLIVO_BUSINESS_ID},
                {"id": DEMO_TELNYX_APP_ID, "name": "Telnyx Messaging", "business_id": DEMO_TELNYX_BUSINESS_ID}
            ],
            "tokens": [{
                "token": DEMO_TP_TOKEN, "app_id": DEMO_TP_APP_ID,
                "user_id": "3700000000000001", "user_name": "Bramble system user",
                "roles": ["ADMIN"]
            }],
            "solutions": [
                {"id": DEMO_TP_PLIVO_SOLUTION_ID, "name": "Bramble × Plivo", "status": "ACTIVE",
                 "status_for_pending_request": "NONE", "owner_app_id": DEMO_TP_APP_ID,
                 "owner_permissions": mps,
                 "partners": [{"id": "2410000000000001", "partner_app_id": DEMO_PLIVO_APP_ID,
                               "partner_permissions": ["MESSAGING", "MANAGE_BILLING"], "status": "ACCEPTED"}]},
                {"id": DEMO_TP_TELNYX_SOLUTION_ID, "name": "Telnyx × Bramble", "status": "ACTIVE",
                 "status_for_pending_request": "NONE", "owner_app_id": DEMO_TELNYX_APP_ID,
                 "owner_permissions": ["MESSAGING", "MANAGE_BILLING"],
                 "partners": [{"id": "2410000000000002", "partner_app_id": DEMO_TP_APP_ID,
                               "partner_permissions": mps, "status": "ACCEPTED"}]},
                {"id": DEMO_TP_DEACTIVATED_SOLUTION_ID, "name": "Bramble × Plivo (2024)", "status": "DEACTIVATED",
                 "status_for_pending_request": "NONE", "owner_app_id": DEMO_TP_APP_ID,
                 "owner_permissions": mps,
                 "partners": [{"id": "2410000000000003", "partner_app_id": DEMO_PLIVO_APP_ID,
                               "partner_permissions": ["MESSAGING", "MANAGE_BILLING"], "status": "DEACTIVATED"}]}
            ],
            "wabas": [
                waba(DEMO_TP_WABA_REGISTERED_ID, DEMO_TP_PHONE_REGISTERED_ID, 0, DEMO_TP_PLIVO_SOLUTION_ID, DEMO_PLIVO_FUNDING_ID, "CONNECTED", 30),
                waba(DEMO_TP_WABA_UNFUNDED_ID, DEMO_TP_PHONE_UNFUNDED_ID, 1, DEMO_TP_PLIVO_SOLUTION_ID, "", "PENDING", 3),
                waba(DEMO_TP_WABA_INACTIVE_ID, DEMO_TP_PHONE_INACTIVE_ID, 2, DEMO_TP_DEACTIVATED_SOLUTION_ID, "", "PENDING", 2),
                waba(DEMO_TP_WABA_TELNYX_ID, DEMO_TP_PHONE_TELNYX_ID, 3, DEMO_TP_TELNYX_SOLUTION_ID, DEMO_TELNYX_FUNDING_ID, "PENDING", 1),
                waba(DEMO_TP_WABA_TELNYX_UNFUNDED_ID, DEMO_TP_PHONE_TELNYX_UNFUNDED_ID, 4, DEMO_TP_TELNYX_SOLUTION_ID, "", "PENDING", 1)
            ],
        });
        let mut world = World::from_json(&world.to_string())
            .unwrap_or_else(|e| panic!("the Tech Provider demo world is invalid: {e}"));
        world.bsp.registrations.push(BspRegistered {
            bsp: "plivo".into(),
            waba_id: DEMO_TP_WABA_REGISTERED_ID.into(),
            phone_number_id: DEMO_TP_PHONE_REGISTERED_ID.into(),
            business_id: customers[0].0.into(),
            reference: None,
        });
        world
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::*;

    fn basic(id: &str, token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let v = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{token}"));
        h.insert(header::AUTHORIZATION, format!("Basic {v}").parse().unwrap());
        h
    }

    fn plivo_path(id: &str) -> String {
        format!("/v1/Account/{id}/WhatsApp/EmbeddedSignup/")
    }

    #[test]
    fn tech_provider_world_is_what_the_docs_say() {
        let w = World::demo_tech_provider();
        w.validate().unwrap();
        assert_eq!(w.our_token(), Some(DEMO_TP_TOKEN));
        assert!(
            w.credit_lines.is_empty(),
            "a Tech Provider owns no credit line"
        );
        let funding = |id: &str| w.waba(id).unwrap().primary_funding_id.clone();
        assert_eq!(funding(DEMO_TP_WABA_REGISTERED_ID), DEMO_PLIVO_FUNDING_ID);
        assert_eq!(funding(DEMO_TP_WABA_TELNYX_ID), DEMO_TELNYX_FUNDING_ID);
        for id in [
            DEMO_TP_WABA_UNFUNDED_ID,
            DEMO_TP_WABA_INACTIVE_ID,
            DEMO_TP_WABA_TELNYX_UNFUNDED_ID,
        ] {
            assert!(funding(id).is_empty(), "{id}");
        }
        assert!(!onboarded_through_active_solution(
            &w,
            DEMO_TP_WABA_INACTIVE_ID
        ));
        assert!(onboarded_through_active_solution(
            &w,
            DEMO_TP_WABA_UNFUNDED_ID
        ));
        assert_eq!(w.bsp.registrations.len(), 1);
    }

    #[test]
    fn plivo_answers_in_the_documented_order() {
        let mut w = World::demo_tech_provider();
        let p = plivo_path(DEMO_PLIVO_AUTH_ID);
        let ok = basic(DEMO_PLIVO_AUTH_ID, DEMO_PLIVO_AUTH_TOKEN);
        let post = |w: &mut World, h: &HeaderMap, body: Value| {
            handle(w, &Method::POST, &p, h, body.to_string().as_bytes())
        };
        // Wrong token, or a path id that is not the Basic user.
        let (s, b) = post(&mut w, &basic(DEMO_PLIVO_AUTH_ID, "x"), json!({}));
        assert_eq!(s, 401);
        assert_eq!(
            b["error"],
            "Authentication credentials were not provided or are invalid."
        );
        let other = handle(
            &mut w,
            &Method::POST,
            &plivo_path(DEMO_PLIVO_FORBIDDEN_AUTH_ID),
            &ok,
            b"{}",
        );
        assert_eq!(other.0, 401);
        let (s, _) = handle(
            &mut w,
            &Method::POST,
            &plivo_path(DEMO_PLIVO_FORBIDDEN_AUTH_ID),
            &basic(
                DEMO_PLIVO_FORBIDDEN_AUTH_ID,
                DEMO_PLIVO_FORBIDDEN_AUTH_TOKEN,
            ),
            b"{}",
        );
        assert_eq!(s, 403);
        let (s, b) = post(&mut w, &ok, json!({}));
        assert_eq!(
            (s, b["error"].as_str()),
            (400, Some("waba_id is required."))
        );
        let (_, b) = post(&mut w, &ok, json!({"waba_id": "1"}));
        assert_eq!(b["error"], "business_id is required.");
        let (_, b) = post(&mut w, &ok, json!({"waba_id": "1", "business_id": "2"}));
        assert_eq!(b["error"], "phone_number_id is required.");
        let (_, b) = post(
            &mut w,
            &ok,
            json!({"waba_id": "abc", "business_id": "2", "phone_number_id": "3"}),
        );
        assert_eq!(
            b["error"],
            "waba_id is not a valid WhatsApp Business Account ID."
        );
        let owner = |w: &World, id: &str| w.waba(id).unwrap().owner_business_id.clone();
        let body = |w: &World, waba: &str, phone: &str| json!({"waba_id": waba, "business_id": owner(w, waba), "phone_number_id": phone});
        let b1 = body(&w, DEMO_TP_WABA_INACTIVE_ID, DEMO_TP_PHONE_INACTIVE_ID);
        let (_, b) = post(&mut w, &ok, b1);
        assert_eq!(
            b["error"],
            "Multi-Partner Solution is not active for your app. Contact Plivo support."
        );
        let b2 = body(&w, DEMO_TP_WABA_UNFUNDED_ID, DEMO_TP_PHONE_TELNYX_ID);
        let (_, b) = post(&mut w, &ok, b2);
        assert_eq!(
            b["error"],
            "This phone number is already registered under another WABA."
        );
        let b3 = body(&w, DEMO_TP_WABA_UNFUNDED_ID, DEMO_TP_PHONE_UNFUNDED_ID);
        let (s, b) = post(&mut w, &ok, b3.clone());
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["message"], "Embedded signup completed successfully.");
        let (s, b) = post(&mut w, &ok, b3);
        assert_eq!(
            (s, b["error"].as_str()),
            (400, Some("This WABA is already registered with Plivo."))
        );
        w.bsp.fail_next = 1;
        let (s, _) = post(&mut w, &ok, json!({}));
        assert_eq!(s, 500);
        assert_eq!(handle(&mut w, &Method::GET, &p, &ok, b"").0, 405);
    }

    #[test]
    fn telnyx_takes_a_bearer_key() {
        let mut w = World::demo_tech_provider();
        let path = "/v2/whatsapp/business_accounts/tech_provider";
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer nope".parse().unwrap());
        assert_eq!(handle(&mut w, &Method::POST, path, &h, b"{}").0, 401);
        h.insert(
            header::AUTHORIZATION,
            format!("Bearer {DEMO_TELNYX_API_KEY}").parse().unwrap(),
        );
        let body = json!({"waba_id": DEMO_TP_WABA_TELNYX_ID, "phone_number_id": DEMO_TP_PHONE_TELNYX_ID,
                          "app_id": DEMO_TP_APP_ID, "customer_id": "c-1"});
        let (s, b) = handle(&mut w, &Method::POST, path, &h, body.to_string().as_bytes());
        assert_eq!(s, 200);
        assert_eq!(b["data"]["status"], "registered");
        assert_eq!(b["data"]["customer_id"], "c-1");
        let (s, b) = handle(&mut w, &Method::POST, path, &h, b"{}");
        assert_eq!(s, 422);
        assert!(b["errors"][0]["detail"].is_string());
        assert!(is_bsp_path(path) && is_bsp_path(&plivo_path("MA1")));
        assert!(!is_bsp_path("/v25.0/123/accept"));
    }
}
