//! What kind of partner we are, and the rules that follow from it (issue 10).
//!
//! - [`PartnerKind`]: a Solution Partner owns credit lines and funds its customers; a Tech
//!   Provider owns none (reference §4) and onboards customers through a Multi-Partner Solution
//!   with a Solution Partner, often a BSP such as Plivo or Telnyx, whose credit funds them.
//!   The `auto` setting decides from whether our business owns a credit line
//!   ([`decide_partner_kind`], fed by `graph::credit::owns_credit_lines`).
//! - The checklist's credit step per kind ([`credit_step`]), and the WABAs with no funding at
//!   all with the solution (so the Solution Partner) that onboarded each ([`unfunded_wabas`]).
//! - The BSP registration state of a WABA, derived from audit records ([`registration_of`]):
//!   neither BSP documents a way to read a registration back, so the console keeps what it did.
//! - The Tech Provider onboarding limit ([`onboarding_window`]) and the cross-check of a
//!   solution's `owner_app` against the list it came from ([`role_disagreement`]).
//!
//! Pure functions; no IO.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Serialize, Serializer};

use crate::bsp::Bsp;
use crate::domain::onboarding::credit_shared;
use crate::domain::solution::{Solution, SolutionState};
use crate::graph::model::{AppRef, Role, SolutionNode};
use crate::graph::waba_model::Waba;

/// Which kind of Meta partner our business is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerKind {
    /// Owns credit lines and shares them with its customers (reference §4).
    SolutionPartner,
    /// Owns no credit line; its customers are funded by a Solution Partner's credit.
    TechProvider,
}

impl PartnerKind {
    /// `solution_partner` / `tech_provider` (the snapshot's spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            PartnerKind::SolutionPartner => "solution_partner",
            PartnerKind::TechProvider => "tech_provider",
        }
    }

    /// "Solution Partner" / "Tech Provider", for people.
    pub fn label(self) -> &'static str {
        match self {
            PartnerKind::SolutionPartner => "Solution Partner",
            PartnerKind::TechProvider => "Tech Provider",
        }
    }
}

impl fmt::Display for PartnerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `partner_kind` setting: a kind, or `auto` (decide from our credit lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerKindSetting {
    #[default]
    Auto,
    SolutionPartner,
    TechProvider,
}

impl PartnerKindSetting {
    pub fn as_str(self) -> &'static str {
        match self {
            PartnerKindSetting::Auto => "auto",
            PartnerKindSetting::SolutionPartner => "solution_partner",
            PartnerKindSetting::TechProvider => "tech_provider",
        }
    }
}

impl FromStr for PartnerKindSetting {
    type Err = String;

    /// `solution_partner`, `tech_provider` or `auto`, any case, `-` for `_`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "auto" => Ok(PartnerKindSetting::Auto),
            "solution_partner" => Ok(PartnerKindSetting::SolutionPartner),
            "tech_provider" => Ok(PartnerKindSetting::TechProvider),
            other => Err(format!(
                "expected solution_partner, tech_provider or auto, got {other:?}"
            )),
        }
    }
}

/// The partner kind from the setting and (for `auto`) whether our business owns at least one
/// credit line (`GET /{business-id}/extendedcredits` non-empty). `None` when the setting is
/// `auto` and that is not known (the call failed or there is no business id).
pub fn decide_partner_kind(
    setting: PartnerKindSetting,
    owns_credit_lines: Option<bool>,
) -> Option<PartnerKind> {
    match setting {
        PartnerKindSetting::SolutionPartner => Some(PartnerKind::SolutionPartner),
        PartnerKindSetting::TechProvider => Some(PartnerKind::TechProvider),
        PartnerKindSetting::Auto => owns_credit_lines.map(|owns| {
            if owns {
                PartnerKind::SolutionPartner
            } else {
                PartnerKind::TechProvider
            }
        }),
    }
}

/// The onboarding checklist's credit step. For a Solution Partner: a credit line is attached
/// and (once our allocations are known) it is one of ours (`onboarding::credit_shared`). For a
/// Tech Provider: the WABA is funded at all (it has a `primary_funding_id`: the Solution
/// Partner's credit is attached); `our_credentials` is not consulted, we own none.
pub fn credit_step(
    kind: PartnerKind,
    primary_funding_id: Option<&str>,
    our_credentials: Option<&crate::domain::funding::Credentials>,
) -> Option<bool> {
    match kind {
        PartnerKind::SolutionPartner => credit_shared(primary_funding_id, our_credentials),
        PartnerKind::TechProvider => credit_shared(primary_funding_id, None),
    }
}

/// The label of the credit step for the kind (checklist column header, detail line).
pub fn credit_step_label(kind: PartnerKind) -> &'static str {
    match kind {
        PartnerKind::SolutionPartner => "credit shared",
        PartnerKind::TechProvider => "funded",
    }
}

/// A solution that onboarded a WABA, as the Credit pane's Tech Provider view names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnboardedThrough {
    pub solution_id: String,
    pub solution_name: String,
    pub state: SolutionState,
    /// The Solution Partner: the app on the other side of the solution from ours, when known
    /// (the owner app when it is not ours; else the partner app from our solution list).
    pub solution_partner: Option<AppRef>,
}

/// A WABA with no funding at all (no `primary_funding_id`): nobody's credit is attached, so
/// it cannot send paid messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnfundedWaba {
    pub waba_id: String,
    pub waba_name: String,
    /// The customer's business portfolio (name, else id), when known.
    pub owner: Option<String>,
    /// The solutions that onboarded it; `None` when they could not be read.
    pub onboarded_through: Option<Vec<OnboardedThrough>>,
}

impl UnfundedWaba {
    /// One line for the pane: who should attach credit.
    pub fn sentence(&self) -> String {
        let who = match self.onboarded_through.as_deref() {
            None => "the solutions that onboarded it could not be read".to_string(),
            Some([]) => "no solution onboarded it".to_string(),
            Some(list) => list
                .iter()
                .map(|o| {
                    let sp = o
                        .solution_partner
                        .as_ref()
                        .map(|a| a.name.clone().unwrap_or_else(|| a.id.clone()))
                        .unwrap_or_else(|| "an unknown Solution Partner".into());
                    format!(
                        "onboarded through {} ({}, {}) with {sp}",
                        o.solution_name,
                        o.solution_id,
                        o.state.label()
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        };
        format!(
            "WABA {} ({}) has no funding at all: {who}.",
            self.waba_name, self.waba_id
        )
    }
}

/// The WABAs with no funding at all, in book order, each with the solution(s) that onboarded
/// it and so the Solution Partner whose credit should be attached. `solutions` (our solution
/// list, may be empty) resolves the partner app when the onboarding solution is ours.
pub fn unfunded_wabas<'a>(
    wabas: impl IntoIterator<Item = &'a Waba>,
    solutions: &[Solution],
    our_app_id: &str,
) -> Vec<UnfundedWaba> {
    wabas
        .into_iter()
        .filter(|w| w.node.funding_id().is_none())
        .map(|w| UnfundedWaba {
            waba_id: w.id().to_string(),
            waba_name: w.name().to_string(),
            owner: w.owner_name().map(str::to_string),
            onboarded_through: w.solutions.as_ref().map(|list| {
                list.iter()
                    .map(|s| onboarded_through(s, solutions, our_app_id))
                    .collect()
            }),
        })
        .collect()
}

fn onboarded_through(
    s: &SolutionNode,
    solutions: &[Solution],
    our_app_id: &str,
) -> OnboardedThrough {
    let known = solutions.iter().find(|k| k.id() == s.id);
    let owner = s
        .owner_app
        .as_ref()
        .or_else(|| known.and_then(|k| k.node.owner_app.as_ref()));
    let solution_partner = match owner {
        Some(o) if o.id != our_app_id && !o.id.is_empty() => Some(o.clone()),
        _ => known.and_then(|k| k.counterpart_app(our_app_id)).cloned(),
    };
    let name = if s.name.is_empty() {
        known.map(|k| k.name().to_string()).unwrap_or_default()
    } else {
        s.name.clone()
    };
    OnboardedThrough {
        solution_id: s.id.clone(),
        solution_name: name,
        state: SolutionState::derive(&s.status, s.status_for_pending_request.as_deref()),
        solution_partner,
    }
}

// ---------------------------------------------------------------------------------------------
// BSP registration state

/// The action name of a BSP registration in the audit log.
pub const BSP_REGISTER_ACTION: &str = "bsp_register";

/// What the console knows of a WABA's registration with our BSP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationState {
    /// The BSP said so (including Plivo's "already registered").
    Registered,
    /// The last attempt was refused; `reason` is the plain sentence.
    Failed { reason: String },
    /// Nothing known, or the last answer was lost.
    Unknown,
    /// We are a Solution Partner: there is no BSP to register with.
    NotApplicable,
}

impl RegistrationState {
    /// `registered` / `failed` / `unknown` / `not_applicable` (the snapshot's spelling).
    pub fn as_str(&self) -> &'static str {
        match self {
            RegistrationState::Registered => "registered",
            RegistrationState::Failed { .. } => "failed",
            RegistrationState::Unknown => "unknown",
            RegistrationState::NotApplicable => "not_applicable",
        }
    }
}

impl Serialize for RegistrationState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A WABA's BSP registration as the snapshot prints it:
/// `{"bsp": "plivo"|"telnyx"|null, "state": "...", "at": RFC 3339|null}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BspRegistration {
    pub bsp: Option<Bsp>,
    pub state: RegistrationState,
    #[serde(serialize_with = "rfc3339_opt")]
    pub at: Option<DateTime<Utc>>,
    /// Who made the attempt the state comes from (not in the snapshot JSON).
    #[serde(skip)]
    pub operator: Option<String>,
}

fn rfc3339_opt<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(t) => s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Secs, true)),
        None => s.serialize_none(),
    }
}

impl BspRegistration {
    pub fn not_applicable() -> BspRegistration {
        BspRegistration {
            bsp: None,
            state: RegistrationState::NotApplicable,
            at: None,
            operator: None,
        }
    }

    pub fn unknown(bsp: Option<Bsp>) -> BspRegistration {
        BspRegistration {
            bsp,
            state: RegistrationState::Unknown,
            at: None,
            operator: None,
        }
    }

    /// Before the audit records are read: `not_applicable` for a Solution Partner, `unknown`
    /// (with our configured BSP) for a Tech Provider or when the kind is not known.
    pub fn initial(kind: Option<PartnerKind>, bsp: Option<Bsp>) -> BspRegistration {
        match kind {
            Some(PartnerKind::SolutionPartner) => BspRegistration::not_applicable(),
            _ => BspRegistration::unknown(bsp),
        }
    }
}

/// One audit record, as simple as [`registration_of`] needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationRecord {
    /// Only [`BSP_REGISTER_ACTION`] records count.
    pub action: String,
    /// The WABA id.
    pub target: String,
    /// `ok` | `failed` | `unknown` | `refused` (nothing sent; ignored) | `intent` / `pending`
    /// (written before sending; counts as unknown until a later record says more).
    pub outcome: String,
    pub at: DateTime<Utc>,
    pub operator: Option<String>,
    /// The plain sentence of the result (the reason of a failure).
    pub message: Option<String>,
    pub bsp: Option<Bsp>,
}

impl RegistrationRecord {
    /// From the fields of an `audit::AuditRecord` (`time` RFC 3339; the BSP is read from the
    /// described call, see `bsp::BspClient::describe_call`). `None` when the time does not parse.
    pub fn from_audit_fields(
        action: &str,
        target: &str,
        outcome: &str,
        time: &str,
        operator: &str,
        message: Option<&str>,
        call: &str,
    ) -> Option<RegistrationRecord> {
        let at = DateTime::parse_from_rfc3339(time).ok()?.with_timezone(&Utc);
        Some(RegistrationRecord {
            action: action.to_string(),
            target: target.to_string(),
            outcome: outcome.to_string(),
            at,
            operator: Some(operator.to_string()).filter(|o| !o.is_empty()),
            message: message.map(str::to_string),
            bsp: Bsp::of_call(call),
        })
    }
}

/// The registration state of `waba_id` from the audit records (any order, any action):
/// not applicable for a Solution Partner; else the latest `ok` record if there is one (a
/// later failure or lost answer does not undo a registration); else the latest record that
/// says anything (`failed` → failed with its message, `unknown`/`intent` → unknown); with no
/// record, unknown with `default_bsp`. Refusals (nothing was sent) are ignored.
pub fn registration_of(
    kind: Option<PartnerKind>,
    waba_id: &str,
    records: &[RegistrationRecord],
    default_bsp: Option<Bsp>,
) -> BspRegistration {
    if kind == Some(PartnerKind::SolutionPartner) {
        return BspRegistration::not_applicable();
    }
    let relevant = records.iter().filter(|r| {
        r.action == BSP_REGISTER_ACTION && r.target == waba_id && r.outcome != "refused"
    });
    let mut latest_ok: Option<&RegistrationRecord> = None;
    let mut latest: Option<&RegistrationRecord> = None;
    for r in relevant {
        if r.outcome == "ok" && latest_ok.is_none_or(|l| r.at >= l.at) {
            latest_ok = Some(r);
        }
        if latest.is_none_or(|l| r.at >= l.at) {
            latest = Some(r);
        }
    }
    let Some(r) = latest_ok.or(latest) else {
        return BspRegistration::unknown(default_bsp);
    };
    let state = match r.outcome.as_str() {
        "ok" => RegistrationState::Registered,
        "failed" => RegistrationState::Failed {
            reason: r
                .message
                .clone()
                .unwrap_or_else(|| "the BSP refused the registration".into()),
        },
        _ => RegistrationState::Unknown,
    };
    BspRegistration {
        bsp: r.bsp.or(default_bsp),
        state,
        at: Some(r.at),
        operator: r.operator.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// Onboarding limit

/// Tech Providers "can onboard up to 200 total new customers in a rolling one week period"
/// (reference §2.5).
pub const ONBOARDING_LIMIT: usize = 200;
/// The rolling window of [`ONBOARDING_LIMIT`].
pub const ONBOARDING_WINDOW_DAYS: i64 = 7;

/// How much of the rolling week's onboarding allowance is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnboardingWindow {
    /// WABAs onboarded (created) in the last seven days, up to `now`.
    pub count: usize,
    pub limit: usize,
    /// When the oldest onboarding in the window leaves it (a slot frees up), if any.
    pub next_slot_at: Option<DateTime<Utc>>,
}

impl OnboardingWindow {
    pub fn remaining(&self) -> usize {
        self.limit.saturating_sub(self.count)
    }

    pub fn at_limit(&self) -> bool {
        self.count >= self.limit
    }

    pub fn sentence(&self) -> String {
        if self.at_limit() {
            let when = self
                .next_slot_at
                .map(|t| {
                    format!(
                        "; the next slot frees up at {}",
                        t.to_rfc3339_opts(SecondsFormat::Secs, true)
                    )
                })
                .unwrap_or_default();
            format!(
                "{} of {} new customers onboarded in the last 7 days: the Tech Provider limit is reached{when}.",
                self.count, self.limit
            )
        } else {
            format!(
                "{} of {} new customers onboarded in the last 7 days ({} left).",
                self.count,
                self.limit,
                self.remaining()
            )
        }
    }
}

/// Count the onboardings (WABA `creation_time`, Unix seconds; `None` = not known, not counted)
/// in the rolling week ending at `now`: `now - 7 days < t <= now`.
pub fn onboarding_window(
    onboarded_at: impl IntoIterator<Item = Option<i64>>,
    now: DateTime<Utc>,
) -> OnboardingWindow {
    let start = now - Duration::days(ONBOARDING_WINDOW_DAYS);
    let mut count = 0;
    let mut oldest: Option<DateTime<Utc>> = None;
    for t in onboarded_at.into_iter().flatten() {
        let Some(t) = Utc.timestamp_opt(t, 0).single() else {
            continue;
        };
        if t > start && t <= now {
            count += 1;
            oldest = Some(oldest.map_or(t, |o| o.min(t)));
        }
    }
    OnboardingWindow {
        count,
        limit: ONBOARDING_LIMIT,
        next_slot_at: oldest.map(|o| o + Duration::days(ONBOARDING_WINDOW_DAYS)),
    }
}

// ---------------------------------------------------------------------------------------------
// Role cross-check

/// Compare a solution's `owner_app.id` with our app id against the role of the list it came
/// from: `Owner` means the owner app must be ours, `Partner` that it must not be. Returns the
/// disagreement as a sentence; `None` when they agree or it cannot be told (role unknown, no
/// `owner_app` read).
pub fn role_disagreement(
    solution_id: &str,
    role: Role,
    owner_app_id: Option<&str>,
    our_app_id: &str,
) -> Option<String> {
    let owner = owner_app_id.map(str::trim).filter(|o| !o.is_empty())?;
    let ours = owner == our_app_id;
    match role {
        Role::Owner if !ours => Some(format!(
            "Solution {solution_id} is listed as ours (role OWNER) but its owner app is {owner}, not our app {our_app_id}."
        )),
        Role::Partner if ours => Some(format!(
            "Solution {solution_id} is listed as one we were invited to (role PARTNER) but its owner app is our app {our_app_id}."
        )),
        _ => None,
    }
}

/// [`role_disagreement`] for a solution as the console holds it.
pub fn solution_role_disagreement(s: &Solution, our_app_id: &str) -> Option<String> {
    role_disagreement(
        s.id(),
        s.role,
        s.node.owner_app.as_ref().map(|a| a.id.as_str()),
        our_app_id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setting_parses() {
        assert_eq!("auto".parse(), Ok(PartnerKindSetting::Auto));
        assert_eq!(
            "Tech-Provider".parse(),
            Ok(PartnerKindSetting::TechProvider)
        );
        assert_eq!(
            "solution_partner".parse(),
            Ok(PartnerKindSetting::SolutionPartner)
        );
        assert!("bsp".parse::<PartnerKindSetting>().is_err());
    }

    #[test]
    fn registration_state_serialises_as_a_word() {
        let r = BspRegistration {
            bsp: Some(Bsp::Plivo),
            state: RegistrationState::Failed { reason: "x".into() },
            at: Utc.timestamp_opt(1_700_000_000, 0).single(),
            operator: Some("ana".into()),
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"bsp": "plivo", "state": "failed", "at": "2023-11-14T22:13:20Z"})
        );
        assert_eq!(
            serde_json::to_value(BspRegistration::not_applicable()).unwrap(),
            serde_json::json!({"bsp": null, "state": "not_applicable", "at": null})
        );
    }
}
