//! The HTTP side of a BSP registration: one POST with JSON, timeouts, a cap on the answer's
//! size, no redirects and no retries (the registration is not idempotent, so a lost answer is
//! [`BspError::OutcomeUnknown`], never re-sent by itself).

use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use serde_json::{Map, Value, json};
use url::Url;

use super::answer::{BspAnswer, clip, interpret};
use super::secret::{BspCredentials, redacted_auth_id};
use super::{Bsp, PrecheckRefusal, Registration, check_request};
use crate::domain::partner::RegistrationState;

/// Largest answer read (bytes); the documented answers are a few hundred bytes.
pub const DEFAULT_MAX_ANSWER_BYTES: usize = 64 * 1024;

/// How to reach one BSP.
#[derive(Debug, Clone)]
pub struct BspConfig {
    /// `https://api.plivo.com` or `https://api.telnyx.com` (plain http only to loopback).
    pub base_url: String,
    /// Which BSP follows from the credentials.
    pub credentials: BspCredentials,
    /// Our Meta app id: Telnyx's `app_id`.
    pub app_id: Option<String>,
    /// Nothing can be sent (the console's `--read-only`).
    pub read_only: bool,
    pub connect_timeout: Duration,
    /// For the whole exchange, answer included.
    pub request_timeout: Duration,
    pub max_answer_bytes: usize,
}

impl BspConfig {
    /// Default timeouts (connect 5 s, whole exchange 30 s) and answer cap, not read-only.
    pub fn new(
        base_url: impl Into<String>,
        credentials: BspCredentials,
        app_id: Option<String>,
    ) -> BspConfig {
        BspConfig {
            base_url: base_url.into(),
            credentials,
            app_id,
            read_only: false,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
        }
    }

    pub fn bsp(&self) -> Bsp {
        self.credentials.bsp()
    }
}

/// A registration that produced no BSP answer. Every sentence is scrubbed of the credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BspError {
    /// Refused before sending: nothing was sent.
    #[error("{0}")]
    Refused(#[from] PrecheckRefusal),
    /// The console is read-only: nothing was sent.
    #[error("Not sent: partnerdeck is in read-only mode.")]
    ReadOnly,
    /// The client could not be set up, or the connection could not be made: nothing was sent.
    #[error("{0}")]
    NotSent(String),
    /// The request was (or may have been) sent but its answer was lost: the BSP may have
    /// registered the WABA. Not re-sent; a second attempt is safe with Plivo (it answers
    /// "already registered"), but is the user's decision.
    #[error("{0}")]
    OutcomeUnknown(String),
}

impl BspError {
    /// What the error says about the registration: `None` when nothing was sent (the state
    /// stays as it was), `Unknown` when the answer was lost.
    pub fn state(&self) -> Option<RegistrationState> {
        match self {
            BspError::OutcomeUnknown(_) => Some(RegistrationState::Unknown),
            _ => None,
        }
    }

    /// The audit outcome word: `refused` when nothing was sent, `unknown` when the answer was
    /// lost.
    pub fn audit_outcome(&self) -> &'static str {
        match self {
            BspError::OutcomeUnknown(_) => "unknown",
            _ => "refused",
        }
    }

    pub fn sentence(&self) -> String {
        self.to_string()
    }
}

/// A client of one BSP. Cheap to clone.
#[derive(Clone)]
pub struct BspClient {
    http: reqwest::Client,
    cfg: BspConfig,
    base: Url,
    url: Url,
    forms: std::sync::Arc<Vec<String>>,
}

impl std::fmt::Debug for BspClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BspClient")
            .field("bsp", &self.bsp())
            .field("call", &self.describe_call())
            .field("read_only", &self.cfg.read_only)
            .finish()
    }
}

impl BspClient {
    pub fn new(cfg: BspConfig) -> Result<BspClient, BspError> {
        let forms = cfg.credentials.forms();
        let scrub = |s: &str| super::secret::scrub_forms(s, &forms);
        let base = Url::parse(cfg.base_url.trim().trim_end_matches('/'))
            .ok()
            .filter(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host().is_some()
                    && u.username().is_empty()
                    && u.password().is_none()
                    && u.query().is_none()
            })
            .ok_or_else(|| {
                BspError::NotSent(format!(
                    "Not sent: the {} URL {:?} is not an http(s) URL without credentials or query.",
                    cfg.bsp().name(),
                    scrub(&cfg.base_url)
                ))
            })?;
        if base.scheme() == "http" && !is_loopback(&base) {
            return Err(BspError::NotSent(format!(
                "Not sent: the {} URL uses plain http to a host that is not loopback, so the credentials would travel unencrypted; use https.",
                cfg.bsp().name()
            )));
        }
        let url = endpoint(&base, &cfg.credentials).ok_or_else(|| {
            BspError::NotSent(format!(
                "Not sent: cannot build the {} URL.",
                cfg.bsp().name()
            ))
        })?;
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .connect_timeout(cfg.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .user_agent(crate::graph::client::USER_AGENT)
            .default_headers(headers)
            .build()
            .map_err(|e| {
                BspError::NotSent(format!(
                    "Not sent: could not set up the HTTP client: {}",
                    scrub(&e.without_url().to_string())
                ))
            })?;
        Ok(BspClient {
            http,
            base,
            url,
            forms: std::sync::Arc::new(forms),
            cfg,
        })
    }

    pub fn bsp(&self) -> Bsp {
        self.cfg.bsp()
    }

    pub fn read_only(&self) -> bool {
        self.cfg.read_only
    }

    /// The exact call, credentials redacted, for the confirm dialog and the audit log, e.g.
    /// `POST https://api.plivo.com/v1/Account/MA…redacted/WhatsApp/EmbeddedSignup/`.
    pub fn describe_call(&self) -> String {
        let base = self.base.as_str().trim_end_matches('/');
        let shown = match &self.cfg.credentials {
            BspCredentials::Plivo { auth_id, .. } => format!(
                "{base}/v1/Account/{}/WhatsApp/EmbeddedSignup/",
                redacted_auth_id(auth_id.expose())
            ),
            BspCredentials::Telnyx { .. } => self.url.to_string(),
        };
        format!("POST {}", self.scrub(&shown))
    }

    /// The JSON body that [`register`](Self::register) sends for `req` (no credentials in it).
    pub fn body(&self, req: &Registration) -> Value {
        let mut m = Map::new();
        m.insert("waba_id".into(), json!(req.waba_id));
        match self.bsp() {
            Bsp::Plivo => {
                m.insert("business_id".into(), json!(req.business_id));
                m.insert("phone_number_id".into(), json!(req.phone_number_id));
                if let Some(r) = &req.reference {
                    m.insert("client_ref".into(), json!(r));
                }
            }
            Bsp::Telnyx => {
                m.insert("phone_number_id".into(), json!(req.phone_number_id));
                m.insert(
                    "app_id".into(),
                    json!(self.cfg.app_id.clone().unwrap_or_default()),
                );
                if let Some(r) = &req.reference {
                    m.insert("customer_id".into(), json!(r));
                }
            }
        }
        Value::Object(m)
    }

    fn scrub(&self, s: &str) -> String {
        super::secret::scrub_forms(s, &self.forms)
    }

    /// Register one WABA's phone number: the request checks again (nothing malformed is
    /// sent), then exactly one POST. `Ok` for any answer that arrived (documented or not; see
    /// [`BspAnswer::outcome`]); `Err` when nothing was sent or the answer was lost.
    pub async fn register(&self, req: &Registration) -> Result<BspAnswer, BspError> {
        let bsp = self.bsp();
        check_request(bsp, req)?;
        if bsp == Bsp::Telnyx
            && self
                .cfg
                .app_id
                .as_deref()
                .is_none_or(|a| a.trim().is_empty())
        {
            return Err(PrecheckRefusal::AppIdMissing.into());
        }
        if self.cfg.read_only {
            return Err(BspError::ReadOnly);
        }
        let body = self.body(req);
        let mut rb = self
            .http
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
        rb = match &self.cfg.credentials {
            BspCredentials::Plivo {
                auth_id,
                auth_token,
            } => rb.basic_auth(auth_id.expose(), Some(auth_token.expose())),
            BspCredentials::Telnyx { api_key } => rb.bearer_auth(api_key.expose()),
        };
        let max = self.cfg.max_answer_bytes;
        let exchange = async {
            let mut resp = rb.send().await?;
            let status = resp.status().as_u16();
            let mut bytes: Vec<u8> = Vec::new();
            let mut too_big = false;
            while let Some(chunk) = resp.chunk().await? {
                if bytes.len() + chunk.len() > max {
                    let room = max - bytes.len();
                    bytes.extend_from_slice(&chunk[..room]);
                    too_big = true;
                    break;
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok::<_, reqwest::Error>((status, bytes, too_big))
        };
        let call = self.describe_call();
        let result = tokio::time::timeout(self.cfg.request_timeout, exchange).await;
        let name = bsp.name();
        let (status, bytes, too_big) = match result {
            Err(_) => {
                tracing::warn!(bsp = bsp.as_str(), %call, "BSP registration timed out");
                return Err(BspError::OutcomeUnknown(format!(
                    "{name} did not answer within {}: the registration may or may not have been made. It was not re-sent; check with {name}, or try again (Plivo answers \"already registered\" if it was).",
                    fmt_duration(self.cfg.request_timeout)
                )));
            }
            Ok(Err(e)) => {
                let cause = self.scrub(&root_cause(&e));
                tracing::warn!(bsp = bsp.as_str(), %call, error = %cause, "BSP registration failed");
                if e.is_connect() || e.is_builder() {
                    return Err(BspError::NotSent(format!(
                        "Could not reach {name}, nothing was sent: {cause}."
                    )));
                }
                return Err(BspError::OutcomeUnknown(format!(
                    "The connection to {name} failed after the registration was sent ({cause}): it may or may not have been made. It was not re-sent; check with {name}, or try again (Plivo answers \"already registered\" if it was)."
                )));
            }
            Ok(Ok(parts)) => parts,
        };
        // Scrub before anything reads the text, before any truncation.
        let text = self.scrub(&String::from_utf8_lossy(&bytes));
        tracing::info!(bsp = bsp.as_str(), %call, status, bytes = bytes.len(), "BSP registration answered");
        if too_big {
            let mut a = interpret(bsp, status, "");
            a.text = clip(&text, super::answer::MAX_ANSWER_TEXT);
            a.outcome = super::Outcome::Unexpected {
                status,
                text: Some(format!("an answer larger than {max} bytes")),
            };
            a.sentence = a.outcome.sentence(bsp);
            return Ok(a);
        }
        Ok(interpret(bsp, status, &text))
    }
}

fn endpoint(base: &Url, creds: &BspCredentials) -> Option<Url> {
    let mut u = base.clone();
    {
        let mut segs = u.path_segments_mut().ok()?;
        segs.pop_if_empty();
        match creds {
            BspCredentials::Plivo { auth_id, .. } => {
                segs.extend([
                    "v1",
                    "Account",
                    auth_id.expose(),
                    "WhatsApp",
                    "EmbeddedSignup",
                    "",
                ]);
            }
            BspCredentials::Telnyx { .. } => {
                segs.extend(["v2", "whatsapp", "business_accounts", "tech_provider"]);
            }
        }
    }
    Some(u)
}

fn fmt_duration(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", d.as_secs())
    }
}

fn is_loopback(u: &Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        None => false,
    }
}

/// The innermost cause of a reqwest error, without the URL (it holds the Plivo Auth ID).
fn root_cause(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut msg = String::new();
    let mut cur: Option<&dyn std::error::Error> = e.source();
    while let Some(c) = cur {
        msg = c.to_string();
        cur = c.source();
    }
    if msg.is_empty() {
        if e.is_timeout() {
            "timed out".into()
        } else {
            "connection error".into()
        }
    } else {
        msg
    }
}
