//! What a BSP's answer means: every documented answer of §6 as a typed [`Outcome`] with a
//! plain sentence, and what it says about the registration ([`Outcome::state`]).
//!
//! | BSP | HTTP | answer | outcome | state |
//! |---|---|---|---|---|
//! | Plivo | 200 | `message` | `Registered` | registered |
//! | Plivo | 400 | `This WABA is already registered with Plivo.` | `AlreadyRegistered` | registered (most likely by an earlier attempt) |
//! | Plivo | 400 | `{field} is required.` | `MissingField` | failed |
//! | Plivo | 400 | `waba_id is not a valid WhatsApp Business Account ID.` | `InvalidWabaId` | failed |
//! | Plivo | 400 | `This phone number is already registered under another WABA.` | `PhoneOnAnotherWaba` | failed |
//! | Plivo | 400 | `Multi-Partner Solution is not active for your app. ...` | `SolutionNotActive` | failed |
//! | Plivo | 401 | bad or missing credentials | `Unauthorized` | failed |
//! | Plivo | 403 | not authorized for the Embedded Signup API | `Forbidden` | failed |
//! | Plivo | 500 | internal error | `ServerError` | failed (try again later) |
//! | Telnyx | 200 | `data.status = registered` | `Registered` | registered |
//! | Telnyx | 401 | invalid, expired or revoked key | `Unauthorized` | failed |
//! | either | other | anything else | `Unexpected` | 2xx and 5xx: unknown; other 4xx: failed |

use serde_json::Value;

use super::Bsp;
use crate::domain::partner::RegistrationState;

/// The most of an answer's text kept (after scrubbing) for the audit log and the dialog.
pub const MAX_ANSWER_TEXT: usize = 1000;

/// What a documented (or not) answer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The BSP took the WABA.
    Registered,
    /// Plivo: "This WABA is already registered with Plivo." — registered, most likely by an
    /// earlier attempt whose answer was lost.
    AlreadyRegistered,
    /// Plivo: `waba_id` / `business_id` / `phone_number_id` is required.
    MissingField(String),
    /// Plivo: `waba_id` is not a valid WhatsApp Business Account ID.
    InvalidWabaId,
    /// Plivo: the number is already registered under another WABA.
    PhoneOnAnotherWaba,
    /// Plivo: the Multi-Partner Solution is not active for our app.
    SolutionNotActive,
    /// Bad, missing, expired or revoked credentials (401).
    Unauthorized,
    /// Plivo 403: our account lacks Tech Provider permissions or WhatsApp is not enabled.
    Forbidden,
    /// Plivo 500: an internal error; try again after a while.
    ServerError,
    /// Anything not documented: the HTTP status and the BSP's own text, if any.
    Unexpected { status: u16, text: Option<String> },
}

impl Outcome {
    /// What the answer says about the registration.
    pub fn state(&self, sentence: &str) -> RegistrationState {
        match self {
            Outcome::Registered | Outcome::AlreadyRegistered => RegistrationState::Registered,
            Outcome::Unexpected { status, .. } if !(400..500).contains(status) => {
                RegistrationState::Unknown
            }
            _ => RegistrationState::Failed {
                reason: sentence.to_string(),
            },
        }
    }

    /// The audit outcome word: `ok` when registered, `unknown` when the answer does not say,
    /// else `failed`.
    pub fn audit_outcome(&self) -> &'static str {
        match self.state("") {
            RegistrationState::Registered => "ok",
            RegistrationState::Unknown => "unknown",
            _ => "failed",
        }
    }

    /// The plain sentence for the dialog, the audit log and the notice.
    pub fn sentence(&self, bsp: Bsp) -> String {
        let name = bsp.name();
        match self {
            Outcome::Registered => format!("{name} registered the WABA and its phone number."),
            Outcome::AlreadyRegistered => format!(
                "{name} says this WABA is already registered with it — most likely by an earlier attempt; it counts as registered."
            ),
            Outcome::MissingField(f) => {
                format!("{name} refused the registration: {f} is required but was not taken.")
            }
            Outcome::InvalidWabaId => format!(
                "{name} refused the registration: it does not take the WABA id as a valid WhatsApp Business Account ID."
            ),
            Outcome::PhoneOnAnotherWaba => format!(
                "{name} refused the registration: this phone number is already registered under another WABA."
            ),
            Outcome::SolutionNotActive => format!(
                "{name} refused the registration: the Multi-Partner Solution is not active for our app; check the solution's state, or contact {name} support."
            ),
            Outcome::Unauthorized => format!(
                "{name} refused our credentials (401): they are missing, invalid, expired or revoked; check the {} settings.",
                match bsp {
                    Bsp::Plivo => "PARTNERDECK_PLIVO_AUTH_ID / PARTNERDECK_PLIVO_AUTH_TOKEN",
                    Bsp::Telnyx => "PARTNERDECK_TELNYX_API_KEY",
                }
            ),
            Outcome::Forbidden => format!(
                "{name} refused (403): our account is not authorized for the Embedded Signup API (no Tech Provider permission, or WhatsApp is not enabled); contact {name}."
            ),
            Outcome::ServerError => format!(
                "{name} had an internal error (500) and did not register the WABA; try again in a few minutes."
            ),
            Outcome::Unexpected { status, text } => {
                let said = text
                    .as_deref()
                    .map(|t| format!(": {t}"))
                    .unwrap_or_default();
                let meaning = if (200..300).contains(status) {
                    " that does not say whether the WABA was registered"
                } else if (400..500).contains(status) {
                    " refusing the registration"
                } else {
                    " that does not say whether the WABA was registered"
                };
                format!("{name} answered HTTP {status}{meaning}{said}")
            }
        }
    }
}

/// A BSP answer that arrived: the outcome and everything worth keeping, already scrubbed of
/// the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BspAnswer {
    pub bsp: Bsp,
    pub http_status: u16,
    pub outcome: Outcome,
    /// The plain sentence of the outcome.
    pub sentence: String,
    /// Plivo's `api_id` (its request id, for support), when given.
    pub api_id: Option<String>,
    /// The answer's text, scrubbed, at most [`MAX_ANSWER_TEXT`] characters.
    pub text: String,
}

impl BspAnswer {
    pub fn state(&self) -> RegistrationState {
        self.outcome.state(&self.sentence)
    }

    pub fn registered(&self) -> bool {
        self.state() == RegistrationState::Registered
    }
}

/// Read one answer: `status` and the (already scrubbed) `text`.
pub fn interpret(bsp: Bsp, status: u16, text: &str) -> BspAnswer {
    let json: Option<Value> = serde_json::from_str(text).ok();
    let outcome = match bsp {
        Bsp::Plivo => plivo_outcome(status, json.as_ref()),
        Bsp::Telnyx => telnyx_outcome(status, json.as_ref()),
    };
    let api_id = json
        .as_ref()
        .and_then(|j| j.get("api_id"))
        .and_then(Value::as_str)
        .map(|s| clip(s, 80));
    BspAnswer {
        bsp,
        http_status: status,
        sentence: outcome.sentence(bsp),
        outcome,
        api_id,
        text: clip(text, MAX_ANSWER_TEXT),
    }
}

fn plivo_outcome(status: u16, json: Option<&Value>) -> Outcome {
    let error = json
        .and_then(|j| j.get("error"))
        .and_then(Value::as_str)
        .map(str::trim);
    let unexpected = || Outcome::Unexpected {
        status,
        text: error
            .or_else(|| json.and_then(|j| j.get("message")).and_then(Value::as_str))
            .map(|t| clip(t, 300)),
    };
    match status {
        200..=299 if json.is_some_and(Value::is_object) && error.is_none() => Outcome::Registered,
        400 => {
            let Some(e) = error else {
                return unexpected();
            };
            let lower = e.to_ascii_lowercase();
            if lower.contains("already registered with plivo") {
                Outcome::AlreadyRegistered
            } else if lower.contains("already registered under another waba") {
                Outcome::PhoneOnAnotherWaba
            } else if lower.contains("not a valid whatsapp business account id") {
                Outcome::InvalidWabaId
            } else if lower.contains("multi-partner solution is not active") {
                Outcome::SolutionNotActive
            } else if let Some(field) = lower
                .strip_suffix(" is required.")
                .or(lower.strip_suffix(" is required"))
                && matches!(field, "waba_id" | "business_id" | "phone_number_id")
            {
                Outcome::MissingField(field.to_string())
            } else {
                unexpected()
            }
        }
        401 => Outcome::Unauthorized,
        403 => Outcome::Forbidden,
        500 => Outcome::ServerError,
        _ => unexpected(),
    }
}

fn telnyx_outcome(status: u16, json: Option<&Value>) -> Outcome {
    let data_status = json
        .and_then(|j| j.pointer("/data/status"))
        .and_then(Value::as_str);
    match status {
        200..=299 if data_status.is_some_and(|s| s.eq_ignore_ascii_case("registered")) => {
            Outcome::Registered
        }
        401 => Outcome::Unauthorized,
        _ => {
            // Telnyx's general error shape: {"errors":[{"code","title","detail"}]}.
            let first = json.and_then(|j| j.pointer("/errors/0"));
            let text = first
                .and_then(|e| e.get("detail").or_else(|| e.get("title")))
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| data_status.map(|s| format!("status {s}")));
            Outcome::Unexpected {
                status,
                text: text.map(|t| clip(&t, 300)),
            }
        }
    }
}

/// At most `max` characters, control characters replaced, `…` when cut.
pub(crate) fn clip(s: &str, max: usize) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() <= max {
        clean
    } else {
        let mut out: String = clean.chars().take(max).collect();
        out.push('…');
        out
    }
}
