//! The BSP registration APIs a Tech Provider calls after a customer's Embedded Signup
//! (reference §6): Plivo's `POST /v1/Account/{auth_id}/WhatsApp/EmbeddedSignup/` and Telnyx's
//! `POST /v2/whatsapp/business_accounts/tech_provider`.
//!
//! - [`prepare`]: the registration of one number of a WABA as read, with every pre-check
//!   ([`precheck`]: the refusals made before anything is sent, a plain sentence each).
//! - [`BspClient::describe_call`]: the exact call for the confirm dialog and the audit log,
//!   the Plivo Auth ID redacted.
//! - [`BspClient::register`]: one POST, never retried; every documented answer becomes an
//!   [`Outcome`] with a sentence ([`answer`]); a lost answer is [`BspError::OutcomeUnknown`].
//! - [`summarize`]: status, audit outcome word, sentence and registration state of a result.
//! - Build a client from the settings: `BspClient::new(settings.require_bsp()?)`
//!   (`config::Settings::require_bsp`; `settings::PartnerSettings::demo` for `--demo`).
//! - Credentials ([`BspCredentials`]) never appear in a URL shown, a log line, an error
//!   sentence or `Debug` output; answers are scrubbed of them before anything else reads them.
//!
//! Like `graph`, nothing here knows about the app, the screen or the settings.

pub mod answer;
pub mod client;
pub mod secret;
pub mod settings;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use answer::{BspAnswer, Outcome};
pub use client::{BspClient, BspConfig, BspError};
pub use secret::{BspCredentials, BspSecret};

use crate::domain::partner::RegistrationState;
use crate::domain::solution::SolutionState;
use crate::graph::model::SolutionNode;
use crate::graph::waba_model::Waba;

/// Plivo's API base URL.
pub const DEFAULT_PLIVO_URL: &str = "https://api.plivo.com";
/// Telnyx's API base URL.
pub const DEFAULT_TELNYX_URL: &str = "https://api.telnyx.com";
/// Plivo's limit on `client_ref` (§6.1).
pub const MAX_CLIENT_REF: usize = 64;

/// A Business Solution Provider a Tech Provider registers its customers' WABAs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bsp {
    Plivo,
    Telnyx,
}

impl Bsp {
    /// `plivo` / `telnyx`.
    pub fn as_str(self) -> &'static str {
        match self {
            Bsp::Plivo => "plivo",
            Bsp::Telnyx => "telnyx",
        }
    }

    /// `Plivo` / `Telnyx`, for sentences.
    pub fn name(self) -> &'static str {
        match self {
            Bsp::Plivo => "Plivo",
            Bsp::Telnyx => "Telnyx",
        }
    }

    pub fn default_url(self) -> &'static str {
        match self {
            Bsp::Plivo => DEFAULT_PLIVO_URL,
            Bsp::Telnyx => DEFAULT_TELNYX_URL,
        }
    }

    /// Which BSP a described call (see [`BspClient::describe_call`]) went to, from its path.
    pub fn of_call(call: &str) -> Option<Bsp> {
        if call.contains("/WhatsApp/EmbeddedSignup") {
            Some(Bsp::Plivo)
        } else if call.contains("/v2/whatsapp/business_accounts/tech_provider") {
            Some(Bsp::Telnyx)
        } else {
            None
        }
    }
}

impl fmt::Display for Bsp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Bsp {
    type Err = String;

    fn from_str(s: &str) -> Result<Bsp, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "plivo" => Ok(Bsp::Plivo),
            "telnyx" => Ok(Bsp::Telnyx),
            other => Err(format!("expected plivo or telnyx, got {other:?}")),
        }
    }
}

/// What is registered: one WABA's phone number.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Registration {
    pub waba_id: String,
    /// The WABA's owner business portfolio (Plivo's `business_id`; Telnyx does not take it).
    pub business_id: String,
    pub phone_number_id: String,
    /// Our own reference for the customer: Plivo's `client_ref` (at most 64 characters),
    /// Telnyx's `customer_id`. Optional.
    pub reference: Option<String>,
}

impl Registration {
    /// The registration of `phone_number_id` of `waba`, with the owner business from its
    /// `owner_business_info` (empty when not read; [`precheck`] then refuses for Plivo).
    pub fn of_waba(waba: &Waba, phone_number_id: &str, reference: Option<&str>) -> Registration {
        Registration {
            waba_id: waba.id().to_string(),
            business_id: waba
                .node
                .owner_business_id()
                .unwrap_or_default()
                .to_string(),
            phone_number_id: phone_number_id.to_string(),
            reference: reference.map(str::to_string).filter(|r| !r.is_empty()),
        }
    }
}

/// Why a registration was refused before anything was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrecheckRefusal {
    #[error("Not sent: the WABA id {0:?} is not a string of digits.")]
    WabaIdNotDigits(String),
    #[error("Not sent: the phone number id {0:?} is not a string of digits.")]
    PhoneIdNotDigits(String),
    #[error(
        "Not sent: the owner business of the WABA is not known (Plivo needs its business_id); refresh the WABA and try again."
    )]
    BusinessIdMissing,
    #[error("Not sent: the business id {0:?} is not a string of digits.")]
    BusinessIdNotDigits(String),
    #[error("Not sent: the client reference is {0} characters long; Plivo takes at most 64.")]
    ReferenceTooLong(usize),
    #[error(
        "Not sent: the solutions that onboarded this WABA could not be read, so it is not known whether one is active; refresh and try again."
    )]
    SolutionsUnknown,
    #[error(
        "Not sent: no Multi-Partner Solution onboarded this WABA, so {bsp} cannot take it (it needs the WABA shared through an active solution)."
    )]
    NoSolution { bsp: &'static str },
    #[error(
        "Not sent: the solution that onboarded this WABA, {name} ({id}), is {state}, not active; {bsp} refuses WABAs of a solution that is not active."
    )]
    SolutionNotActive {
        bsp: &'static str,
        id: String,
        name: String,
        state: &'static str,
    },
    #[error(
        "Not sent: our Meta app id is not set (Telnyx needs it as app_id): set --app-id or PARTNERDECK_APP_ID."
    )]
    AppIdMissing,
    #[error(
        "Not sent: the phone number {phone} is not a number of WABA {waba}; refresh and try again."
    )]
    PhoneNotOfWaba { phone: String, waba: String },
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The registration of one number of `waba`, checked: the number must be one of the WABA's,
/// then every [`precheck`] (with the WABA's `solutions` edge). What the `B` key builds before
/// the confirm dialog; `reference` is Plivo's `client_ref` / Telnyx's `customer_id`.
pub fn prepare(
    bsp: Bsp,
    waba: &Waba,
    phone_number_id: &str,
    reference: Option<&str>,
) -> Result<Registration, PrecheckRefusal> {
    let req = Registration::of_waba(waba, phone_number_id, reference);
    check_request(bsp, &req)?;
    if waba.phone(phone_number_id).is_none() {
        return Err(PrecheckRefusal::PhoneNotOfWaba {
            phone: phone_number_id.to_string(),
            waba: waba.id().to_string(),
        });
    }
    precheck(bsp, &req, waba.solutions.as_deref().map(Vec::as_slice))?;
    Ok(req)
}

/// What a registration call's result says, for the audit record and the notice: the HTTP
/// status (when an answer arrived), the audit outcome word (`ok` | `failed` | `unknown` |
/// `refused`), the plain sentence, and the registration state (`None`: nothing was sent, the
/// state stays as it was).
pub fn summarize(
    result: &Result<BspAnswer, BspError>,
) -> (Option<u16>, &'static str, String, Option<RegistrationState>) {
    match result {
        Ok(a) => (
            Some(a.http_status),
            a.outcome.audit_outcome(),
            a.sentence.clone(),
            Some(a.state()),
        ),
        Err(e) => (None, e.audit_outcome(), e.sentence(), e.state()),
    }
}

/// The checks on the request alone (ids are digits, the reference fits, Plivo has the owner
/// business). [`BspClient::register`] runs these again, so nothing malformed is ever sent.
pub fn check_request(bsp: Bsp, req: &Registration) -> Result<(), PrecheckRefusal> {
    if !digits(&req.waba_id) {
        return Err(PrecheckRefusal::WabaIdNotDigits(req.waba_id.clone()));
    }
    if !digits(&req.phone_number_id) {
        return Err(PrecheckRefusal::PhoneIdNotDigits(
            req.phone_number_id.clone(),
        ));
    }
    if bsp == Bsp::Plivo {
        if req.business_id.trim().is_empty() {
            return Err(PrecheckRefusal::BusinessIdMissing);
        }
        if !digits(&req.business_id) {
            return Err(PrecheckRefusal::BusinessIdNotDigits(
                req.business_id.clone(),
            ));
        }
    }
    if let Some(r) = &req.reference {
        let n = r.chars().count();
        if bsp == Bsp::Plivo && n > MAX_CLIENT_REF {
            return Err(PrecheckRefusal::ReferenceTooLong(n));
        }
    }
    Ok(())
}

/// Every check made before a registration is sent: [`check_request`], then the solution that
/// onboarded the WABA (`onboarded_by`: the WABA's `solutions` edge, `None` when it could not
/// be read) must be ACTIVE — Plivo answers "Multi-Partner Solution is not active" otherwise.
/// With several onboarding solutions, one active is enough.
pub fn precheck<S: std::borrow::Borrow<SolutionNode>>(
    bsp: Bsp,
    req: &Registration,
    onboarded_by: Option<&[S]>,
) -> Result<(), PrecheckRefusal> {
    check_request(bsp, req)?;
    let solutions = onboarded_by.ok_or(PrecheckRefusal::SolutionsUnknown)?;
    let states: Vec<(&SolutionNode, SolutionState)> = solutions
        .iter()
        .map(|s| {
            let s: &SolutionNode = s.borrow();
            (
                s,
                SolutionState::derive(&s.status, s.status_for_pending_request.as_deref()),
            )
        })
        .collect();
    // Pending deactivation is still usable for onboarding (reference §2.5).
    if states.iter().any(|(_, st)| {
        matches!(
            st,
            SolutionState::Active | SolutionState::PendingDeactivation
        )
    }) {
        return Ok(());
    }
    match states.first() {
        None => Err(PrecheckRefusal::NoSolution { bsp: bsp.name() }),
        Some((s, st)) => Err(PrecheckRefusal::SolutionNotActive {
            bsp: bsp.name(),
            id: s.id.clone(),
            name: s.name.clone(),
            state: st.label(),
        }),
    }
}
