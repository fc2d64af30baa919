//! The Graph API simulator: a real HTTP server on loopback that imitates the parts of Meta's
//! Graph API partnerdeck uses, seeded from a world file. It serves `partnerdeck --demo`,
//! `partnerdeck sim`, and the tests.
//!
//! What it does, the way Meta does it (reference `graph-api.md`):
//! - paths `/{version}/{node}` and `/{version}/{node}/{edge}` (any `vNN.N`, or none);
//! - auth by `Authorization: Bearer` or an `access_token` query/form parameter;
//! - field selection with nested braces and `.limit(n)` (§1.8), cursor paging (§1.6);
//! - Multi-Partner Solutions: list, read, partners edge, and the five actions with the
//!   state machine of §2.5;
//! - client WABAs (§3): `GET /{business-id}/client_whatsapp_business_accounts` with the
//!   `partners` filter and `phone_numbers{...}` expansion (nested paging with `next` past the
//!   nested limit), `GET /{waba-id}`, its `phone_numbers`, `subscribed_apps` (GET, POST) and
//!   `solutions` edges, `GET /{phone-number-id}` and `POST /{phone-number-id}/register` with the
//!   refusals of §3.6 (see [`wabas::register`]);
//! - Graph batch requests (§1.7): `POST /` with `batch=[...]`, at most [`MAX_BATCH`]
//!   operations, answered as `[{code, headers, body: "<json>"}]`;
//! - Meta's error envelope on every refusal, an `x-fb-trace-id` header on every response.
//!
//! `GET /__sim/requests` returns the recorded requests as JSON (for debugging);
//! `/__sim/faults` switches fault injection on and off at run time (see [`faults`]).
//! With [`SimOptions::webhooks`] (or [`SimHandle::set_webhooks`]) it pushes signed webhook
//! deliveries when its state changes; `POST /__sim/onboard_waba` and
//! `POST /__sim/restrict_waba?waba_id=…` make such changes on demand (see [`webhooks`]).
//! Nothing is printed per request; requests are traced at `debug` level only.
//!
//! # Big worlds
//!
//! A request costs the same in a world of 100 WABAs as in one of 250,000: nodes are found
//! through id indexes (see `index`: id → position, kept up to date by the sim's own changes,
//! rebuilt by [`World::reindex`] and [`start`] after a world is edited by hand), a list page
//! places its cursor by a binary search over the list's positions and renders only its own
//! rows, and generating a world (WABAs, owner businesses, their credit allocations) is
//! linear. [`World::demo_with_generated_wabas`] and `partnerdeck sim --wabas N` build such a
//! world; `cargo bench -p graph-sim` measures start-up and page cost.
//!
//! # Refusals of solution actions
//!
//! | situation | HTTP | code | subcode | type |
//! |---|---|---|---|---|
//! | unknown solution id | 404 | 803 | – | GraphMethodException |
//! | app not in the solution (or a draft it cannot see) | 403 | 200 | 1349174 | OAuthException |
//! | wrong side (owner accepts/rejects/answers a deactivation; partner sends one) | 403 | 200 | 1349174 | OAuthException |
//! | wrong state (any action) | 400 | 100 | – | GraphMethodException |
//!
//! A refused action leaves the world unchanged.
//!
//! # The demo world (`assets/demo-world.json`)
//!
//! Our app is "Northwind Messaging" ([`DEMO_APP_ID`], business [`DEMO_BUSINESS_ID`]), token
//! [`DEMO_TOKEN`]. Thirteen partner apps (Latin, Japanese, Arabic, Cyrillic, Devanagari, Chinese,
//! Greek names; two of 75 and 80 characters). 33 solutions: 31 visible to us (16 where we are
//! the invited partner, 15 we own) in every state, plus one between two other apps and one
//! draft another app has not sent us yet (both invisible to us). Fixed ids tests may rely on:
//!
//! | constant | state | our side |
//! |---|---|---|
//! | [`DEMO_PENDING_SOLUTION_ID`] | INITIATED / PENDING_ACTIVATION (we can accept or reject) | partner (owner: Kestrel) |
//! | [`DEMO_PENDING_OWNED_SOLUTION_ID`] | INITIATED / PENDING_ACTIVATION (waiting on Kestrel) | owner |
//! | [`DEMO_ACTIVE_OWNED_SOLUTION_ID`] | ACTIVE / NONE (we can send a deactivation request) | owner (partner: Kestrel) |
//! | [`DEMO_ACTIVE_PARTNER_SOLUTION_ID`] | ACTIVE / NONE | partner (owner: Kestrel) |
//! | [`DEMO_PENDING_DEACTIVATION_SOLUTION_ID`] | ACTIVE / PENDING_DEACTIVATION, requested by the owner (we can accept or reject) | partner |
//! | [`DEMO_SENT_DEACTIVATION_SOLUTION_ID`] | ACTIVE / PENDING_DEACTIVATION, requested by us | owner |
//! | [`DEMO_DRAFT_SOLUTION_ID`] | DRAFT / NONE | owner |
//! | [`DEMO_REJECTED_SOLUTION_ID`] | REJECTED / NONE | partner |
//! | [`DEMO_DEACTIVATED_SOLUTION_ID`] | DEACTIVATED / NONE | partner |
//! | [`DEMO_UNKNOWN_STATUS_SOLUTION_ID`] | `SUSPENDED` / NONE (undocumented status) | partner |
//! | [`DEMO_UNKNOWN_PENDING_SOLUTION_ID`] | ACTIVE / `PENDING_REACTIVATION` (undocumented) | partner |
//! | [`DEMO_FOREIGN_SOLUTION_ID`] | ACTIVE, between Kestrel and another app | none (we get 403) |
//!
//! ## WABAs
//!
//! Seven hand-written client WABAs with fixed ids, then 300 generated from a seed
//! (`waba_generator`: ids `31…`, numbers `32…`, owner businesses `33…`): about one in ten
//! without a phone number, some blocked or limited, some not subscribed to our app, some without
//! a funding source, a third also shared with Kestrel's business; every hundredth (the first
//! included, [`DEMO_WABA_MANY_PHONES_ID`]) has more than 25 numbers.
//!
//! | constant | what it is |
//! |---|---|
//! | [`DEMO_WABA_COMPLETE_ID`] | healthy, subscribed, funded, its one number CONNECTED: onboarding complete |
//! | [`DEMO_WABA_TO_ONBOARD_ID`] | funded but not subscribed; its number [`DEMO_PENDING_PHONE_ID`] is PENDING (verified, no PIN set: any 6-digit PIN registers it); shared with Kestrel too |
//! | [`DEMO_WABA_BLOCKED_ID`] | BLOCKED (WABA error 141010 with a possible solution); a RED number and a DISCONNECTED one; register answers 131031 |
//! | [`DEMO_WABA_LIMITED_ID`] | LIMITED with `additional_info`, review PENDING, no funding source |
//! | [`DEMO_WABA_NO_PHONE_ID`] | no phone number yet, no funding source |
//! | [`DEMO_WABA_PIN_ID`] | its number [`DEMO_PIN_PHONE_ID`] has two-step PIN [`DEMO_PHONE_PIN`]: another PIN answers 133005, the fourth failure 133016 |
//! | [`DEMO_WABA_UNKNOWN_ENUMS_ID`] | undocumented values: health `DEGRADED_SERVICE`, review `IN_APPEAL`, quality `AMBER`, status `PENDING_DELETION`, ... |
//!
//! ## Credit lines
//!
//! Two extended credit lines of our business, [`DEMO_CREDIT_LINE_ID`] ("Northwind Messaging
//! Ltd.", USD) and [`DEMO_CREDIT_LINE_2_ID`] ("Northwind Messaging India Pvt. Ltd.", INR), with
//! six hand-written allocation configs and one per customer business of the generated WABAs
//! (most live, some revoked; now and then a WABA left unattached or funded by a credential that
//! is not ours). Rules, error codes and the revoke semantics: [`credit`].
//!
//! | constant | what it is |
//! |---|---|
//! | [`DEMO_ALLOCATION_VERIFIED_ID`] | line 1 → Lumen Bakery's business; [`DEMO_WABA_COMPLETE_ID`] is funded by its credential: verified |
//! | [`DEMO_ALLOCATION_MISMATCHED_ID`] | line 2 → Cobalt Motors' business; [`DEMO_WABA_BLOCKED_ID`]'s `primary_funding_id` is another credential: mismatched |
//! | [`DEMO_ALLOCATION_REVOKED_ID`] | line 2 → Nimbus Telecom's business, `DELETED`; [`DEMO_WABA_UNKNOWN_ENUMS_ID`] is not funded |
//! | [`DEMO_ALLOCATION_NO_WABA_ID`] | line 1 → Old Quay Cafés, a business with no WABA shared with us: unknown |
//!
//! [`DEMO_WABA_LIMITED_ID`] (GBP) and [`DEMO_WABA_NO_PHONE_ID`] (INR) are not funded: a share
//! attaches them.
//!
//! [`DEMO_PARTNER_TOKEN`] acts as the Kestrel app ([`DEMO_PARTNER_APP_ID`]), so tests can play
//! the other side; [`DEMO_VIEWER_TOKEN`] is a second token of our app without the
//! `FINANCE_EDITOR` role.

pub mod bsp;
pub mod credit;
mod errors;
pub mod faults;
mod fields;
mod index;
mod paging;
mod routes;
pub mod wabas;
pub mod webhooks;
mod world;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use bsp::{BspRegistered, BspWorld, PlivoAccount};
pub use errors::GraphError;
pub use faults::{Fault, FaultAction, FaultStatus};
pub use fields::{FieldError, FieldSel, parse_fields};
pub use routes::MAX_BATCH;
pub use wabas::{EntityHealth, HealthErrorItem, Phone, Waba, WabaGenerator};
pub use webhooks::{DEMO_APP_SECRET, PushStats, WebhookOptions};
pub use world::{App, Business, Partner, Solution, Token, World};

/// The token the demo world accepts for our app. Not a secret: it only opens the simulator.
pub const DEMO_TOKEN: &str = "EAAsim-demo-northwind-ZBZCZDZD-not-a-real-token";
/// A second token of our app, with role `EMPLOYEE` only (no `FINANCE_EDITOR`).
pub const DEMO_VIEWER_TOKEN: &str = "EAAsim-demo-northwind-viewer-not-a-real-token";
/// A token of the partner app Kestrel Commerce Cloud, to act as the other side.
pub const DEMO_PARTNER_TOKEN: &str = "EAAsim-demo-kestrel-ZBZCZDZD-not-a-real-token";
/// Our app, "Northwind Messaging".
pub const DEMO_APP_ID: &str = "1287436509812345";
/// Our business portfolio.
pub const DEMO_BUSINESS_ID: &str = "3349871265409821";
/// The partner app Kestrel Commerce Cloud.
pub const DEMO_PARTNER_APP_ID: &str = "874512093365871";

pub const DEMO_PENDING_SOLUTION_ID: &str = "1970225308678201";
pub const DEMO_PENDING_OWNED_SOLUTION_ID: &str = "2044318896520107";
pub const DEMO_ACTIVE_OWNED_SOLUTION_ID: &str = "2133409987611025";
pub const DEMO_ACTIVE_PARTNER_SOLUTION_ID: &str = "1760226774570348";
pub const DEMO_PENDING_DEACTIVATION_SOLUTION_ID: &str = "1815530942067113";
pub const DEMO_SENT_DEACTIVATION_SOLUTION_ID: &str = "2222501078702214";
pub const DEMO_DRAFT_SOLUTION_ID: &str = "2311592169793407";
pub const DEMO_REJECTED_SOLUTION_ID: &str = "1688204519733406";
pub const DEMO_DEACTIVATED_SOLUTION_ID: &str = "1688204519733512";
pub const DEMO_UNKNOWN_STATUS_SOLUTION_ID: &str = "1902277365140018";
pub const DEMO_UNKNOWN_PENDING_SOLUTION_ID: &str = "1902277365140124";
pub const DEMO_FOREIGN_SOLUTION_ID: &str = "2667956524158023";

/// Kestrel's business portfolio: a partner some client WABAs are also shared with.
pub const DEMO_PARTNER_BUSINESS_ID: &str = "1102938475610293";
/// Every client WABA of our business in the demo world (7 hand-written + 300 generated).
pub const DEMO_WABA_COUNT: usize = 307;
pub const DEMO_WABA_COMPLETE_ID: &str = "1045000000000101";
pub const DEMO_WABA_TO_ONBOARD_ID: &str = "1045000000000202";
pub const DEMO_PENDING_PHONE_ID: &str = "1046000000000201";
pub const DEMO_WABA_BLOCKED_ID: &str = "1045000000000303";
pub const DEMO_WABA_LIMITED_ID: &str = "1045000000000404";
pub const DEMO_WABA_NO_PHONE_ID: &str = "1045000000000505";
pub const DEMO_WABA_PIN_ID: &str = "1045000000000606";
pub const DEMO_PIN_PHONE_ID: &str = "1046000000000601";
/// The two-step verification PIN of [`DEMO_PIN_PHONE_ID`]. Not a secret: simulator data.
pub const DEMO_PHONE_PIN: &str = "246810";
pub const DEMO_WABA_UNKNOWN_ENUMS_ID: &str = "1045000000000707";
/// Our first credit line (USD).
pub const DEMO_CREDIT_LINE_ID: &str = "1972385232742146";
/// Our second credit line (INR).
pub const DEMO_CREDIT_LINE_2_ID: &str = "1972385232742287";
pub const DEMO_ALLOCATION_VERIFIED_ID: &str = "5800000000000101";
/// The receiving credential of [`DEMO_ALLOCATION_VERIFIED_ID`].
pub const DEMO_CREDENTIAL_VERIFIED_ID: &str = "5700000000000101";
pub const DEMO_ALLOCATION_MISMATCHED_ID: &str = "5800000000000303";
pub const DEMO_ALLOCATION_REVOKED_ID: &str = "5800000000000707";
pub const DEMO_ALLOCATION_NO_WABA_ID: &str = "5800000000000808";
/// The first generated WABA: more phone numbers than one nested page holds.
pub const DEMO_WABA_MANY_PHONES_ID: &str = "3100000000000000";

// Plivo and Telnyx (issue 10; see [`bsp`]). Not secrets: they only open the simulator.

/// The Plivo Auth ID every world accepts (with [`DEMO_PLIVO_AUTH_TOKEN`]).
pub const DEMO_PLIVO_AUTH_ID: &str = "MAZDEMOSIMULATORPLV1";
pub const DEMO_PLIVO_AUTH_TOKEN: &str = "sim-plivo-auth-token-not-a-real-secret";
/// A Plivo account without Tech Provider permission: every registration answers 403.
pub const DEMO_PLIVO_FORBIDDEN_AUTH_ID: &str = "MAZDEMOSIMULATORNOES";
pub const DEMO_PLIVO_FORBIDDEN_AUTH_TOKEN: &str = "sim-plivo-forbidden-token-not-a-real-secret";
/// The Telnyx API key every world accepts.
pub const DEMO_TELNYX_API_KEY: &str = "KEYsim-telnyx-demo-not-a-real-key";
/// The credit line ids Plivo and Telnyx attach to the WABAs they register.
pub const DEMO_PLIVO_FUNDING_ID: &str = "5900000000000001";
pub const DEMO_TELNYX_FUNDING_ID: &str = "5900000000000002";

// The Tech Provider demo world ([`World::demo_tech_provider`]).

/// Our app as a Tech Provider, "Bramble Commerce".
pub const DEMO_TP_APP_ID: &str = "1509870012345678";
/// Our business as a Tech Provider: it owns no credit line.
pub const DEMO_TP_BUSINESS_ID: &str = "3400000000000001";
pub const DEMO_TP_TOKEN: &str = "EAAsim-demo-bramble-tech-provider-not-a-real-token";
/// Plivo's app and business, Solution Partner of [`DEMO_TP_PLIVO_SOLUTION_ID`].
pub const DEMO_PLIVO_APP_ID: &str = "1600000000000001";
pub const DEMO_PLIVO_BUSINESS_ID: &str = "3500000000000001";
/// Telnyx's app and business, owner of [`DEMO_TP_TELNYX_SOLUTION_ID`].
pub const DEMO_TELNYX_APP_ID: &str = "1600000000000002";
pub const DEMO_TELNYX_BUSINESS_ID: &str = "3500000000000002";
/// ACTIVE, owned by us, Plivo the partner.
pub const DEMO_TP_PLIVO_SOLUTION_ID: &str = "2400000000000001";
/// ACTIVE, owned by Telnyx, we the partner.
pub const DEMO_TP_TELNYX_SOLUTION_ID: &str = "2400000000000002";
/// DEACTIVATED, owned by us, Plivo the partner.
pub const DEMO_TP_DEACTIVATED_SOLUTION_ID: &str = "2400000000000003";
pub const DEMO_TP_WABA_REGISTERED_ID: &str = "4500000000000001";
pub const DEMO_TP_PHONE_REGISTERED_ID: &str = "4600000000000001";
pub const DEMO_TP_WABA_UNFUNDED_ID: &str = "4500000000000002";
pub const DEMO_TP_PHONE_UNFUNDED_ID: &str = "4600000000000002";
pub const DEMO_TP_WABA_INACTIVE_ID: &str = "4500000000000003";
pub const DEMO_TP_PHONE_INACTIVE_ID: &str = "4600000000000003";
pub const DEMO_TP_WABA_TELNYX_ID: &str = "4500000000000004";
pub const DEMO_TP_PHONE_TELNYX_ID: &str = "4600000000000004";
pub const DEMO_TP_WABA_TELNYX_UNFUNDED_ID: &str = "4500000000000005";
pub const DEMO_TP_PHONE_TELNYX_UNFUNDED_ID: &str = "4600000000000005";

/// Why the simulator could not load a world or start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot read world file {}: {source}", path.display())]
    ReadWorld {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("world file {} is not valid JSON for a world: {source}", path.display())]
    ParseWorld {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("world file {path} is inconsistent: {reason}")]
    InvalidWorld { path: String, reason: String },
    #[error(
        "refusing to listen on {0}: the Graph API simulator only binds a loopback address (127.0.0.1 or ::1)"
    )]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("fault file {path} is not valid: {reason}")]
    InvalidFaults { path: String, reason: String },
    #[error("simulator I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// How to run the simulator.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Where to listen; must be loopback. Port 0 picks a free port.
    pub addr: SocketAddr,
    /// Delay before answering each Graph request (not the `/__sim` endpoints).
    pub latency: Duration,
    /// Faults switched on from the start (see [`faults`]).
    pub faults: Vec<Fault>,
    /// Push signed webhooks on state changes (see [`webhooks`]); `None` = off.
    pub webhooks: Option<WebhookOptions>,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            latency: Duration::ZERO,
            faults: Vec::new(),
            webhooks: None,
        }
    }
}

/// One request the simulator received. `query` is the raw query string, with the value of
/// any `access_token` parameter replaced by `[redacted]`. `status` is 0 when a fault cut the
/// connection instead of answering; `fault` is the id of the fault applied, if any.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<u64>,
}

/// A running simulator. Dropping it stops the server too.
pub struct SimHandle {
    shared: Arc<routes::Shared>,
    addr: SocketAddr,
    token: String,
    app_id: String,
    business_id: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SimHandle {
    /// `http://127.0.0.1:PORT` (no version, no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The token of our app that the world accepts.
    pub fn token(&self) -> String {
        self.token.clone()
    }

    pub fn app_id(&self) -> String {
        self.app_id.clone()
    }

    pub fn business_id(&self) -> String {
        self.business_id.clone()
    }

    /// Every Graph request received so far, in order (not the `/__sim` endpoints). Only the
    /// most recent 100 000 are kept.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.log().clone()
    }

    /// `(status, status_for_pending_request)` of a solution in the live state.
    pub fn solution_status(&self, id: &str) -> Option<(String, String)> {
        let world = self.shared.world();
        world
            .solution(id)
            .map(|s| (s.status.clone(), s.status_for_pending_request.clone()))
    }

    /// Test hook: the next credit-share POST (`whatsapp_credit_sharing_and_attach`,
    /// `whatsapp_credit_sharing` or `whatsapp_credit_attach`) is committed to the world and
    /// then its connection is cut before the answer is sent, so the client cannot tell what
    /// happened. A one-shot `commit_then_drop` fault.
    pub fn lose_next_share_answer(&self) {
        self.add_fault(
            Fault::new(FaultAction::CommitThenDrop)
                .post("*/whatsapp_credit_*")
                .times(1),
        );
    }

    /// The registrations Plivo and Telnyx have taken so far (see [`bsp`]).
    pub fn bsp_registrations(&self) -> Vec<BspRegistered> {
        self.shared.world().bsp.registrations.clone()
    }

    /// Test hook: echo the received BSP credentials in every BSP answer (or stop).
    pub fn set_bsp_echo_credentials(&self, on: bool) {
        self.shared.world().bsp.echo_credentials = on;
    }

    /// Test hook: the next `n` authenticated BSP requests answer HTTP 500.
    pub fn fail_next_bsp_requests(&self, n: u32) {
        self.shared.world().bsp.fail_next = n;
    }

    /// A copy of the live world.
    pub fn world(&self) -> World {
        self.shared.world().clone()
    }

    /// Whether successful GETs carry an `ETag` and honour `If-None-Match` (on by default);
    /// off, the simulator is a server that never sends one.
    pub fn set_etags(&self, on: bool) {
        self.shared
            .etags
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Replace the active faults (an empty list switches fault injection off).
    pub fn set_faults(&self, faults: Vec<Fault>) {
        self.shared.faults.replace(faults);
    }

    /// Add one fault after the active ones; returns its id.
    pub fn add_fault(&self, fault: Fault) -> u64 {
        self.shared.faults.add(vec![fault])[0]
    }

    /// Webhook pushes queued, delivered and failed so far (`None` when webhooks are off).
    pub fn webhook_stats(&self) -> Option<Arc<PushStats>> {
        self.shared.webhooks().as_ref().map(|p| p.stats.clone())
    }

    /// Start (or redirect, or with `None` stop) webhook pushes on a running simulator, e.g.
    /// once the receiver's port is known. Must be called inside a tokio runtime.
    pub fn set_webhooks(&self, opts: Option<WebhookOptions>) {
        match opts {
            Some(w) => webhooks::enable(&self.shared, w),
            None => *self.shared.webhooks() = None,
        }
    }

    /// Switch every fault off.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// The active faults with how often each matched and fired.
    pub fn faults(&self) -> Vec<FaultStatus> {
        self.shared.faults.list()
    }

    /// Stop accepting connections and wait (at most two seconds) for in-flight requests.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(2), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Start the simulator on the current tokio runtime. Refuses a non-loopback address.
pub async fn start(mut world: World, opts: SimOptions) -> Result<SimHandle, SimError> {
    if !opts.addr.ip().is_loopback() {
        return Err(SimError::NotLoopback(opts.addr));
    }
    if !world.index_is_fresh() {
        world.reindex();
    }
    world.validate().map_err(|reason| SimError::InvalidWorld {
        path: "<world>".into(),
        reason,
    })?;
    let opts_faults =
        faults::checked(opts.faults.clone()).map_err(|reason| SimError::InvalidFaults {
            path: "<options>".into(),
            reason,
        })?;
    let listener = tokio::net::TcpListener::bind(opts.addr)
        .await
        .map_err(|source| SimError::Bind {
            addr: opts.addr,
            source,
        })?;
    let addr = listener.local_addr()?;
    let token = world.our_token().unwrap_or_default().to_string();
    let app_id = world.our_app_id().to_string();
    let business_id = world.our_business_id().to_string();
    let shared = Arc::new(routes::Shared {
        world: Mutex::new(world),
        log: Mutex::new(Vec::new()),
        latency: opts.latency,
        addr,
        faults: faults::Faults::new(opts_faults),
        webhooks: Mutex::new(None),
        etags: std::sync::atomic::AtomicBool::new(true),
    });
    if let Some(w) = opts.webhooks.clone() {
        webhooks::enable(&shared, w);
    }
    let app = routes::router(shared.clone()).into_make_service_with_connect_info::<faults::Conn>();
    let listener = faults::SimListener(listener);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await;
        if let Err(e) = served {
            tracing::warn!(error = %e, "graph simulator stopped with an error");
        }
    });
    tracing::debug!(%addr, "graph simulator started");
    Ok(SimHandle {
        shared,
        addr,
        token,
        app_id,
        business_id,
        stop: Some(stop_tx),
        task: Some(task),
    })
}

/// For `partnerdeck sim`: start, print how to connect, serve until Ctrl-C, SIGTERM or SIGHUP.
pub async fn run_standalone(world: World, opts: SimOptions) -> Result<(), SimError> {
    use std::io::Write;
    let handle = start(world, opts).await?;
    // A closed stdout (`partnerdeck sim | head -1`) is not a reason to stop serving or to
    // panic: what could not be printed is dropped.
    let _ = writeln!(std::io::stdout(), "{}", connect_banner(&handle));
    let _ = std::io::stdout().flush();
    wait_for_stop_signal().await?;
    handle.shutdown().await;
    let _ = writeln!(std::io::stdout(), "Graph API simulator stopped.");
    Ok(())
}

fn connect_banner(h: &SimHandle) -> String {
    let url = h.base_url();
    format!(
        "Graph API simulator listening on {url} (use --graph-url {url})\n\
         \x20 token:       {token}\n\
         \x20 app id:      {app}\n\
         \x20 business id: {biz}\n\
         \n\
         Paste into another shell to point partnerdeck at it:\n\
         export PARTNERDECK_GRAPH_URL={url}\n\
         export PARTNERDECK_TOKEN={token}\n\
         export PARTNERDECK_APP_ID={app}\n\
         export PARTNERDECK_BUSINESS_ID={biz}\n\
         {bsp}\
         \n\
         Faults: GET/POST/PUT/DELETE {url}/__sim/faults (active: {n}).\n\
         Press Ctrl-C to stop.",
        n = h.faults().len(),
        token = h.token(),
        app = h.app_id(),
        biz = h.business_id(),
        bsp = bsp_banner(h),
    )
}

/// The Plivo and Telnyx lines of the banner (same URL; the world's first credentials).
fn bsp_banner(h: &SimHandle) -> String {
    let url = h.base_url();
    let world = h.shared.world();
    let mut out = format!(
        "# Plivo and Telnyx (Tech Providers) are served here too:\nexport PARTNERDECK_PLIVO_URL={url}\nexport PARTNERDECK_TELNYX_URL={url}\n"
    );
    if let Some(a) = world.bsp.plivo_accounts.iter().find(|a| a.embedded_signup) {
        out.push_str(&format!(
            "export PARTNERDECK_PLIVO_AUTH_ID={} PARTNERDECK_PLIVO_AUTH_TOKEN={}\n",
            a.auth_id, a.auth_token
        ));
    }
    if let Some(k) = world.bsp.telnyx_api_keys.first() {
        out.push_str(&format!("export PARTNERDECK_TELNYX_API_KEY={k}\n"));
    }
    out
}

#[cfg(unix)]
async fn wait_for_stop_signal() -> Result<(), SimError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
        _ = hup.recv() => {}
    }
    Ok(())
}

#[cfg(not(unix))]
async fn wait_for_stop_signal() -> Result<(), SimError> {
    tokio::signal::ctrl_c().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn demo_world_parses_and_is_consistent() {
        let w = World::demo();
        w.validate().unwrap();
        assert_eq!(w.our_app_id(), DEMO_APP_ID);
        assert_eq!(w.our_business_id(), DEMO_BUSINESS_ID);
        assert_eq!(w.our_token(), Some(DEMO_TOKEN));
        let tokens: Vec<&str> = w.tokens.iter().map(|t| t.token.as_str()).collect();
        assert!(tokens.contains(&DEMO_VIEWER_TOKEN));
        assert!(tokens.contains(&DEMO_PARTNER_TOKEN));
        assert!(w.app(DEMO_PARTNER_APP_ID).is_some());
    }

    #[test]
    fn demo_wabas_are_where_the_docs_say() {
        let w = World::demo();
        assert_eq!(w.wabas.len(), DEMO_WABA_COUNT);
        assert!(w.waba_generator.is_none(), "generated once, on load");
        let waba = |id: &str| w.waba(id).unwrap_or_else(|| panic!("{id} missing"));
        assert!(waba(DEMO_WABA_MANY_PHONES_ID).phone_numbers.len() > 25);
        assert!(waba(DEMO_WABA_NO_PHONE_ID).phone_numbers.is_empty());
        assert_eq!(
            waba(DEMO_WABA_BLOCKED_ID).health.can_send_message,
            "BLOCKED"
        );
        assert!(waba(DEMO_WABA_TO_ONBOARD_ID).subscribed_app_ids.is_empty());
        assert_eq!(
            waba(DEMO_WABA_PIN_ID).phone_numbers[0].pin.as_deref(),
            Some(DEMO_PHONE_PIN)
        );
        assert_eq!(
            waba(DEMO_WABA_TO_ONBOARD_ID).phone_numbers[0].id,
            DEMO_PENDING_PHONE_ID
        );
        assert!(
            waba(DEMO_WABA_TO_ONBOARD_ID)
                .shared_with
                .iter()
                .any(|b| b == DEMO_PARTNER_BUSINESS_ID)
        );
    }

    #[test]
    fn demo_credit_constants_are_what_the_docs_say() {
        let w = World::demo();
        let alloc = |id: &str| w.allocation(id).unwrap_or_else(|| panic!("{id} missing"));
        let funding = |id: &str| w.waba(id).unwrap().primary_funding_id.clone();
        assert_eq!(w.credit_lines.len(), 2);
        let ok = alloc(DEMO_ALLOCATION_VERIFIED_ID);
        assert_eq!(ok.credit_line_id, DEMO_CREDIT_LINE_ID);
        assert_eq!(ok.receiving_credential_id, DEMO_CREDENTIAL_VERIFIED_ID);
        assert_eq!(funding(DEMO_WABA_COMPLETE_ID), DEMO_CREDENTIAL_VERIFIED_ID);
        let bad = alloc(DEMO_ALLOCATION_MISMATCHED_ID);
        assert_eq!(bad.credit_line_id, DEMO_CREDIT_LINE_2_ID);
        let f = funding(DEMO_WABA_BLOCKED_ID);
        assert!(!f.is_empty() && f != bad.receiving_credential_id);
        assert!(alloc(DEMO_ALLOCATION_REVOKED_ID).is_deleted());
        assert!(funding(DEMO_WABA_UNKNOWN_ENUMS_ID).is_empty());
        let none = alloc(DEMO_ALLOCATION_NO_WABA_ID);
        assert!(
            w.wabas
                .iter()
                .all(|x| x.owner_business_id != none.receiving_business_id)
        );
        for id in [DEMO_WABA_LIMITED_ID, DEMO_WABA_NO_PHONE_ID] {
            assert!(funding(id).is_empty(), "{id}");
        }
    }

    #[test]
    fn demo_ids_are_unique() {
        let w = World::demo();
        let mut ids = Vec::new();
        ids.extend(w.apps.iter().map(|a| a.id.clone()));
        ids.extend(w.businesses.iter().map(|b| b.id.clone()));
        for s in &w.solutions {
            ids.push(s.id.clone());
            ids.extend(s.partners.iter().map(|p| p.id.clone()));
        }
        let set: HashSet<&String> = ids.iter().collect();
        assert_eq!(set.len(), ids.len());
    }

    #[test]
    fn demo_constants_point_at_the_documented_states() {
        use world::Side;
        let w = World::demo();
        let check = |id: &str, status: &str, pending: &str, side: Option<Side>| {
            let s = w.solution(id).unwrap_or_else(|| panic!("{id} missing"));
            assert_eq!(
                (s.status.as_str(), s.status_for_pending_request.as_str()),
                (status, pending),
                "{id}"
            );
            assert_eq!(s.side_of(DEMO_APP_ID), side, "{id}");
        };
        let (o, p) = (Some(Side::Owner), Some(Side::Partner));
        check(
            DEMO_PENDING_SOLUTION_ID,
            "INITIATED",
            "PENDING_ACTIVATION",
            p,
        );
        check(
            DEMO_PENDING_OWNED_SOLUTION_ID,
            "INITIATED",
            "PENDING_ACTIVATION",
            o,
        );
        check(DEMO_ACTIVE_OWNED_SOLUTION_ID, "ACTIVE", "NONE", o);
        check(DEMO_ACTIVE_PARTNER_SOLUTION_ID, "ACTIVE", "NONE", p);
        check(
            DEMO_PENDING_DEACTIVATION_SOLUTION_ID,
            "ACTIVE",
            "PENDING_DEACTIVATION",
            p,
        );
        check(
            DEMO_SENT_DEACTIVATION_SOLUTION_ID,
            "ACTIVE",
            "PENDING_DEACTIVATION",
            o,
        );
        check(DEMO_DRAFT_SOLUTION_ID, "DRAFT", "NONE", o);
        check(DEMO_REJECTED_SOLUTION_ID, "REJECTED", "NONE", p);
        check(DEMO_DEACTIVATED_SOLUTION_ID, "DEACTIVATED", "NONE", p);
        check(DEMO_UNKNOWN_STATUS_SOLUTION_ID, "SUSPENDED", "NONE", p);
        check(
            DEMO_UNKNOWN_PENDING_SOLUTION_ID,
            "ACTIVE",
            "PENDING_REACTIVATION",
            p,
        );
        check(DEMO_FOREIGN_SOLUTION_ID, "ACTIVE", "NONE", None);
        // Kestrel is the counterpart where the docs say so.
        for id in [DEMO_PENDING_SOLUTION_ID, DEMO_ACTIVE_PARTNER_SOLUTION_ID] {
            assert_eq!(w.solution(id).unwrap().owner_app_id, DEMO_PARTNER_APP_ID);
        }
        for id in [
            DEMO_PENDING_OWNED_SOLUTION_ID,
            DEMO_ACTIVE_OWNED_SOLUTION_ID,
        ] {
            assert_eq!(
                w.solution(id).unwrap().partners[0].partner_app_id,
                DEMO_PARTNER_APP_ID
            );
        }
    }

    #[test]
    fn demo_world_covers_every_state_in_both_roles() {
        use world::Side;
        // The sim's own reading of the (status, status_for_pending_request) pairs of §2.5:
        // it must not borrow the product's derivation it is there to test.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        enum S {
            Pending,
            Active,
            PendingDeactivation,
            Draft,
            Rejected,
            Deactivated,
            Unknown,
        }
        fn derive(status: &str, pending: &str) -> S {
            match (status, pending) {
                ("INITIATED", "PENDING_ACTIVATION") => S::Pending,
                ("ACTIVE", "NONE") => S::Active,
                ("ACTIVE", "PENDING_DEACTIVATION") => S::PendingDeactivation,
                ("DRAFT", _) => S::Draft,
                ("REJECTED", _) => S::Rejected,
                ("DEACTIVATED", _) => S::Deactivated,
                _ => S::Unknown,
            }
        }
        let w = World::demo();
        let mut seen: HashSet<(S, bool)> = HashSet::new();
        let (mut ours, mut theirs) = (0, 0);
        for s in &w.solutions {
            let Some(side) = s.side_of(DEMO_APP_ID) else {
                continue;
            };
            let state = derive(&s.status, &s.status_for_pending_request);
            seen.insert((state, side == Side::Owner));
            if side == Side::Owner {
                ours += 1;
            } else {
                theirs += 1;
            }
        }
        for state in [
            S::Pending,
            S::Active,
            S::PendingDeactivation,
            S::Rejected,
            S::Deactivated,
            S::Unknown,
        ] {
            assert!(seen.contains(&(state, true)), "owner {state:?}");
            assert!(seen.contains(&(state, false)), "partner {state:?}");
        }
        assert!(seen.contains(&(S::Draft, true)));
        assert!(
            ours + theirs > 25,
            "the full list must need two pages of 25"
        );
        // Non-Latin and long names are present.
        assert!(w.apps.iter().any(|a| a.name.chars().count() > 60));
        for probe in ['さ', 'ب', 'С', 'स', 'Μ'] {
            assert!(
                w.apps.iter().any(|a| a.name.contains(probe)),
                "no app name with {probe}"
            );
        }
    }

    #[test]
    fn from_file_names_the_file_on_bad_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken-world.json");
        std::fs::write(&path, "{ \"our_app_id\": ").unwrap();
        let err = World::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("broken-world.json"), "{err}");
        let missing = dir.path().join("nope.json");
        let err = World::from_file(&missing).unwrap_err().to_string();
        assert!(err.contains("nope.json"), "{err}");
        let inconsistent = dir.path().join("inconsistent.json");
        std::fs::write(
            &inconsistent,
            r#"{"our_app_id":"1","our_business_id":"2","apps":[{"id":"1","name":"x"}],"tokens":[]}"#,
        )
        .unwrap();
        let err = World::from_file(&inconsistent).unwrap_err().to_string();
        assert!(
            err.contains("inconsistent.json") && err.contains("token"),
            "{err}"
        );
        let ok = dir.path().join("ok.json");
        std::fs::write(&ok, serde_json::to_string(&World::demo()).unwrap()).unwrap();
        assert_eq!(World::from_file(&ok).unwrap(), World::demo());
    }

    #[test]
    fn transitions_follow_the_state_machine() {
        use world::{Action, apply};
        let mut w = World::demo();
        let kestrel = DEMO_PARTNER_APP_ID;
        let status = |w: &World, id: &str| {
            let s = w.solution(id).unwrap();
            (
                s.status.clone(),
                s.status_for_pending_request.clone(),
                s.partners[0].status.clone(),
            )
        };
        // Owner cannot accept its own request; the partner can, once.
        let before = status(&w, DEMO_PENDING_OWNED_SOLUTION_ID);
        let e = apply(
            &mut w,
            DEMO_PENDING_OWNED_SOLUTION_ID,
            DEMO_APP_ID,
            Action::Accept,
        )
        .unwrap_err();
        assert_eq!((e.status, e.code, e.subcode), (403, 200, Some(1349174)));
        assert_eq!(status(&w, DEMO_PENDING_OWNED_SOLUTION_ID), before);
        apply(
            &mut w,
            DEMO_PENDING_OWNED_SOLUTION_ID,
            kestrel,
            Action::Accept,
        )
        .unwrap();
        assert_eq!(
            status(&w, DEMO_PENDING_OWNED_SOLUTION_ID),
            ("ACTIVE".into(), "NONE".into(), "ACCEPTED".into())
        );
        let e = apply(
            &mut w,
            DEMO_PENDING_OWNED_SOLUTION_ID,
            kestrel,
            Action::Reject,
        )
        .unwrap_err();
        assert_eq!((e.status, e.code), (400, 100));
        assert!(
            e.message.contains("already been processed"),
            "{}",
            e.message
        );
        // Deactivation round trip.
        let id = DEMO_ACTIVE_OWNED_SOLUTION_ID;
        let e = apply(&mut w, id, kestrel, Action::SendDeactivation).unwrap_err();
        assert_eq!(e.code, 200);
        let e = apply(&mut w, id, kestrel, Action::AcceptDeactivation).unwrap_err();
        assert_eq!(
            e.message,
            "No pending deactivation request found for this solution"
        );
        apply(&mut w, id, DEMO_APP_ID, Action::SendDeactivation).unwrap();
        assert_eq!(status(&w, id).1, "PENDING_DEACTIVATION");
        let e = apply(&mut w, id, DEMO_APP_ID, Action::SendDeactivation).unwrap_err();
        assert_eq!((e.status, e.code), (400, 100));
        let e = apply(&mut w, id, DEMO_APP_ID, Action::RejectDeactivation).unwrap_err();
        assert_eq!(e.code, 200);
        apply(&mut w, id, kestrel, Action::RejectDeactivation).unwrap();
        assert_eq!(
            status(&w, id),
            ("ACTIVE".into(), "NONE".into(), "ACCEPTED".into())
        );
        let e = apply(&mut w, id, kestrel, Action::RejectDeactivation).unwrap_err();
        assert_eq!(
            e.message,
            "Solution must have pending deactivation request to reject"
        );
        apply(&mut w, id, DEMO_APP_ID, Action::SendDeactivation).unwrap();
        apply(&mut w, id, kestrel, Action::AcceptDeactivation).unwrap();
        assert_eq!(
            status(&w, id),
            ("DEACTIVATED".into(), "NONE".into(), "DEACTIVATED".into())
        );
        // Unknown, foreign, draft-as-partner.
        let e = apply(&mut w, "404", DEMO_APP_ID, Action::Accept).unwrap_err();
        assert_eq!((e.status, e.code), (404, 803));
        let e = apply(
            &mut w,
            DEMO_FOREIGN_SOLUTION_ID,
            DEMO_APP_ID,
            Action::Accept,
        )
        .unwrap_err();
        assert_eq!(e.subcode, Some(1349174));
        // Undocumented states refuse every action with code 100.
        for a in Action::ALL {
            for id in [
                DEMO_UNKNOWN_STATUS_SOLUTION_ID,
                DEMO_UNKNOWN_PENDING_SOLUTION_ID,
            ] {
                let owner = w.solution(id).unwrap().owner_app_id.clone();
                let actor = if a == Action::SendDeactivation {
                    owner.as_str()
                } else {
                    DEMO_APP_ID
                };
                let e = apply(&mut w, id, actor, a).unwrap_err();
                assert_eq!((e.status, e.code), (400, 100), "{a:?} on {id}");
            }
        }
    }

    #[tokio::test]
    async fn banner_says_how_to_connect() {
        let h = start(World::demo(), SimOptions::default()).await.unwrap();
        let banner = connect_banner(&h);
        let url = h.base_url();
        assert!(banner.starts_with(&format!(
            "Graph API simulator listening on {url} (use --graph-url {url})"
        )));
        for line in [
            format!("export PARTNERDECK_GRAPH_URL={url}"),
            format!("export PARTNERDECK_TOKEN={DEMO_TOKEN}"),
            format!("export PARTNERDECK_APP_ID={DEMO_APP_ID}"),
            format!("export PARTNERDECK_BUSINESS_ID={DEMO_BUSINESS_ID}"),
        ] {
            assert!(
                banner.lines().any(|l| l == line),
                "missing {line:?} in\n{banner}"
            );
        }
        h.shutdown().await;
    }

    /// A list page asked for again with its `ETag` is `304 Not Modified` with no body; a
    /// changed page has a new tag; a confused cache's 304 comes from a fault.
    #[tokio::test]
    async fn a_list_page_asked_for_again_with_its_etag_is_not_modified() {
        let h = start(World::demo(), SimOptions::default()).await.unwrap();
        let http = reqwest::Client::new();
        let url = format!(
            "{}/v25.0/{DEMO_BUSINESS_ID}/client_whatsapp_business_accounts?fields=id,name,health_status&limit=100",
            h.base_url()
        );
        let get = |tag: Option<String>| {
            let mut req = http.get(&url).bearer_auth(DEMO_TOKEN);
            if let Some(t) = tag {
                req = req.header("if-none-match", t);
            }
            req.send()
        };
        let first = get(None).await.unwrap();
        assert_eq!(first.status().as_u16(), 200);
        let tag = first.headers()["etag"].to_str().unwrap().to_string();
        assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");
        let body = first.text().await.unwrap();
        assert!(body.contains("\"data\""));

        let again = get(Some(tag.clone())).await.unwrap();
        assert_eq!(again.status().as_u16(), 304);
        assert_eq!(again.headers()["etag"].to_str().unwrap(), tag);
        assert!(again.bytes().await.unwrap().is_empty(), "no body");
        let other = get(Some("\"something-else\"".into())).await.unwrap();
        assert_eq!(other.status().as_u16(), 200, "another tag: the page");
        assert_eq!(h.requests().last().unwrap().status, 200);

        // A WABA on the page changes: the page has another tag and is sent whole.
        let page: serde_json::Value = serde_json::from_str(&body).unwrap();
        let waba = page["data"][0]["id"].as_str().unwrap().to_string();
        let restricted = http
            .post(format!(
                "{}/__sim/restrict_waba?waba_id={waba}",
                h.base_url()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(restricted.status().as_u16(), 200);
        let changed = get(Some(tag.clone())).await.unwrap();
        assert_eq!(changed.status().as_u16(), 200);
        assert_ne!(changed.headers()["etag"].to_str().unwrap(), tag);
        assert_ne!(changed.text().await.unwrap(), body);

        // The 304s are recorded as such.
        let statuses: Vec<u16> = h.requests().iter().map(|r| r.status).collect();
        assert_eq!(statuses, [200, 304, 200, 200]);

        // A fault answers 304 whatever was asked, and nothing else.
        h.set_faults(vec![Fault::new(FaultAction::NotModified).times(1)]);
        let faulted = get(None).await.unwrap();
        assert_eq!(faulted.status().as_u16(), 304);
        assert!(faulted.bytes().await.unwrap().is_empty());
        assert_eq!(get(None).await.unwrap().status().as_u16(), 200);

        // Switched off: a server that sends no tag and ignores one.
        h.set_etags(false);
        let plain = get(Some(tag)).await.unwrap();
        assert_eq!(plain.status().as_u16(), 200);
        assert!(plain.headers().get("etag").is_none());
        h.shutdown().await;
    }

    #[test]
    fn start_refuses_non_loopback() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let opts = SimOptions {
            addr: "0.0.0.0:0".parse().unwrap(),
            ..SimOptions::default()
        };
        let err = rt.block_on(start(World::demo(), opts)).err().unwrap();
        assert!(matches!(err, SimError::NotLoopback(_)));
        assert!(err.to_string().contains("loopback"));
    }
}
