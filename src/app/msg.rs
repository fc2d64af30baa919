//! Messages into the state machine, and effects out of it.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use crate::domain::solution::{Solution, SolutionState};
use crate::graph::credit_model::{AllocationConfig, CreditLineData};
use crate::graph::model::{SolutionAction, SolutionNode};
use crate::graph::waba_model::{Pin, Waba};

/// Everything that can happen to the console.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// The terminal's size in cells.
    Resize {
        width: u16,
        height: u16,
    },
    /// A background refresh of one scope has started a round of calls.
    RefreshStarted {
        scope: Scope,
    },
    /// A refresh of the solutions list finished.
    SolutionsLoaded {
        at: DateTime<Utc>,
        result: Result<Vec<Solution>, Failure>,
    },
    /// A refresh of the client WABAs finished.
    WabasLoaded {
        at: DateTime<Utc>,
        result: Result<WabaList, Failure>,
    },
    /// A refresh of our credit lines and their allocations finished.
    CreditLinesLoaded {
        at: DateTime<Utc>,
        result: Result<Vec<CreditLineData>, Failure>,
    },
    /// The detail of one solution (permissions, apps) arrived.
    DetailLoaded {
        id: String,
        result: Result<SolutionNode, Failure>,
    },
    /// A mutation went through send → re-read → audit; this is what came of it.
    ActionFinished(ActionOutcome),
    /// The answer to a mutation was lost (timeout, reset): it is being re-read to learn what
    /// happened. Never re-sent.
    ActionAnswerLost {
        id: String,
    },
    /// Meta throttled this scope: its poller makes no call before `until`.
    ScopeHeld {
        scope: Scope,
        until: DateTime<Utc>,
    },
    /// The latest rate-limit usage Meta reported.
    UsageReported(UsageReport),
    /// The terminal went away, or a signal asked us to stop.
    Shutdown,
}

/// What a refresh is about. Each scope is polled by its own task and fails on its own: a
/// throttled WABAs call leaves the Solutions pane fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Solutions,
    Wabas,
    CreditLines,
}

impl Scope {
    pub fn label(self) -> &'static str {
        match self {
            Scope::Solutions => "solutions",
            Scope::Wabas => "wabas",
            Scope::CreditLines => "credit_lines",
        }
    }
}

/// Rate-limit usage from Meta's headers (reference §1.5), in percent of the limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageReport {
    /// The highest of `X-App-Usage` call count, CPU time and total time.
    pub app_pct: Option<u32>,
    /// The highest percentage in `X-Business-Use-Case-Usage`.
    pub buc_pct: Option<u32>,
}

impl UsageReport {
    pub fn highest(&self) -> Option<u32> {
        self.app_pct.max(self.buc_pct)
    }
}

/// Work the runtime does on the model's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Refresh everything now (also done on the poll interval).
    Refresh,
    /// Read one solution's detail.
    FetchDetail {
        id: String,
    },
    /// Send one mutation, then verify and record it. Emitted once per confirmation. `pin` is
    /// the typed PIN of a register, moved here from the dialog and dropped after sending.
    Perform {
        target: Target,
        pin: Option<Pin>,
    },
    Quit,
}

/// The client WABAs one refresh read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WabaList {
    pub wabas: Vec<Waba>,
    /// How many WABAs' subscribed apps or solutions could not be read, and the first reason:
    /// their checklist shows "unknown" for what depends on it.
    pub extras_failed: Option<(usize, Failure)>,
}

/// What a confirmed action changes: one Graph call on one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `POST /{solution-id}/{action}`.
    Solution {
        id: String,
        name: String,
        action: SolutionAction,
    },
    /// `POST /{waba-id}/subscribed_apps`: our app gets the WABA's webhooks.
    SubscribeApp { waba_id: String, waba_name: String },
    /// `POST /{phone-number-id}/register` with a PIN.
    RegisterPhone {
        waba_id: String,
        waba_name: String,
        phone_id: String,
        /// The number as people read it.
        phone: String,
    },
    /// `POST /{credit-line-id}/whatsapp_credit_sharing_and_attach?waba_id=…&waba_currency=…`:
    /// share a credit line with the WABA's owner business and attach it to the WABA.
    ShareCredit {
        credit_line_id: String,
        credit_line_name: String,
        waba_id: String,
        waba_name: String,
        /// The customer business (the WABA's owner), when known.
        business_id: Option<String>,
        business_name: String,
        /// One of Meta's `waba_currency` values.
        currency: String,
    },
    /// `DELETE /{allocation-config-id}`: stop sharing a credit line with a customer business.
    RevokeAllocation {
        allocation_id: String,
        credit_line_id: String,
        credit_line_name: String,
        business_id: Option<String>,
        business_name: String,
        /// The WABAs of that business we know of: the revoke covers them all; they are re-read.
        waba_ids: Vec<String>,
    },
}

impl Target {
    /// The node the call is made on.
    pub fn object_id(&self) -> &str {
        match self {
            Target::Solution { id, .. } => id,
            Target::SubscribeApp { waba_id, .. } => waba_id,
            Target::RegisterPhone { phone_id, .. } => phone_id,
            Target::ShareCredit { credit_line_id, .. } => credit_line_id,
            Target::RevokeAllocation { allocation_id, .. } => allocation_id,
        }
    }

    /// The edge of `POST /{object-id}/{edge}`; empty for a call on the node itself.
    pub fn edge(&self) -> &'static str {
        match self {
            Target::Solution { action, .. } => action.edge(),
            Target::SubscribeApp { .. } => "subscribed_apps",
            Target::RegisterPhone { .. } => "register",
            Target::ShareCredit { .. } => "whatsapp_credit_sharing_and_attach",
            Target::RevokeAllocation { .. } => "",
        }
    }

    /// The HTTP method of the call.
    pub fn method(&self) -> &'static str {
        match self {
            Target::RevokeAllocation { .. } => "DELETE",
            _ => "POST",
        }
    }

    /// The call's path after the version, with its query when the parameters go there:
    /// `{object-id}/{edge}`, `{credit-line-id}/whatsapp_credit_sharing_and_attach?waba_id=…`,
    /// `{allocation-config-id}`.
    pub fn call_path(&self) -> String {
        match self {
            Target::ShareCredit {
                credit_line_id,
                waba_id,
                currency,
                ..
            } => crate::graph::credit::share_and_attach_path(credit_line_id, waba_id, currency),
            Target::RevokeAllocation { allocation_id, .. } => allocation_id.clone(),
            _ => format!("{}/{}", self.object_id(), self.edge()),
        }
    }

    /// The action in a word or two, for notices and the audit log.
    pub fn action_label(&self) -> &'static str {
        match self {
            Target::Solution { action, .. } => action.edge(),
            Target::SubscribeApp { .. } => "subscribe_app",
            Target::RegisterPhone { .. } => "register",
            Target::ShareCredit { .. } => "share_credit_line",
            Target::RevokeAllocation { .. } => "revoke_credit_allocation",
        }
    }

    /// What it is done to, as people name it.
    pub fn name(&self) -> String {
        match self {
            Target::Solution { name, .. } => name.clone(),
            Target::SubscribeApp { waba_name, .. } => waba_name.clone(),
            Target::RegisterPhone {
                phone, waba_name, ..
            } => format!("{phone} of {waba_name}"),
            Target::ShareCredit { waba_name, .. } => waba_name.clone(),
            Target::RevokeAllocation { business_name, .. } => business_name.clone(),
        }
    }

    /// The state a successful call leaves the object in, as [`Reread::state`] words it.
    pub fn expected_state(&self) -> String {
        match self {
            Target::Solution { action, .. } => crate::domain::solution::expected_state(*action)
                .label()
                .to_string(),
            Target::SubscribeApp { .. } => "subscribed".into(),
            Target::RegisterPhone { .. } => "CONNECTED".into(),
            Target::ShareCredit { .. } => "verified".into(),
            Target::RevokeAllocation { .. } => crate::graph::credit_model::REVOKED_STATUS.into(),
        }
    }
}

/// A credit action's objects as re-read: the line's allocations for the customer business (a
/// share) or the one allocation (a revoke), and the WABAs concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditReread {
    pub credit_line_id: String,
    pub allocations: Vec<AllocationConfig>,
    pub wabas: Vec<Waba>,
}

impl CreditReread {
    /// What the re-read says: a share is "verified" when the WABA's `primary_funding_id` is
    /// the receiving credential of a live allocation of the line (§4.6); a revoke shows the
    /// allocation's `request_status`.
    pub fn state(&self, target: &Target) -> String {
        match target {
            Target::RevokeAllocation { allocation_id, .. } => self
                .allocations
                .iter()
                .find(|a| &a.id == allocation_id)
                .map(|a| {
                    a.request_status
                        .clone()
                        .unwrap_or_else(|| "no status".into())
                })
                .unwrap_or_else(|| "no longer listed".into()),
            Target::ShareCredit { waba_id, .. } => {
                let Some(w) = self.wabas.iter().find(|w| w.id() == waba_id) else {
                    return "unknown (the WABA could not be re-read)".into();
                };
                let Some(f) = w.node.funding_id() else {
                    return "not funded".into();
                };
                match self
                    .allocations
                    .iter()
                    .find(|a| a.credential_id() == Some(f))
                {
                    Some(a) if a.is_revoked() => format!("funded by revoked allocation {}", a.id),
                    Some(_) => "verified".into(),
                    None => format!("funded by another source ({f})"),
                }
            }
            _ => "unknown".into(),
        }
    }
}

/// The object as re-read after an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reread {
    Solution(Box<SolutionNode>),
    Waba(Box<Waba>),
    Credit(Box<CreditReread>),
}

impl Reread {
    /// What the re-read says about the target: a solution's state, whether our app is
    /// subscribed, a number's status.
    pub fn state(&self, target: &Target, our_app_id: &str) -> String {
        match (self, target) {
            (Reread::Solution(n), _) => {
                SolutionState::derive(&n.status, n.status_for_pending_request.as_deref())
                    .label()
                    .to_string()
            }
            (Reread::Credit(c), _) => c.state(target),
            (Reread::Waba(w), Target::RegisterPhone { phone_id, .. }) => w
                .phone(phone_id)
                .map(|p| p.status.clone().unwrap_or_else(|| "no status".into()))
                .unwrap_or_else(|| "no longer listed".into()),
            (Reread::Waba(w), _) => {
                match crate::domain::onboarding::webhooks_subscribed(
                    w.subscribed_apps.as_deref(),
                    our_app_id,
                ) {
                    Some(true) => "subscribed".into(),
                    Some(false) => "not subscribed".into(),
                    None => "unknown (subscribed apps not read)".into(),
                }
            }
        }
    }
}

/// Why a call failed, in the words the screen needs. Built from the Graph client's error
/// by the runtime, so the state machine does not depend on the HTTP layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    /// One plain sentence, naming Meta's code when there is one.
    pub sentence: String,
    pub code: Option<i64>,
}

/// The client's classification of errors is plain data, so the state machine uses it as is.
pub type FailureKind = crate::graph::error::ErrorKind;

impl Failure {
    pub fn new(kind: FailureKind, sentence: impl Into<String>, code: Option<i64>) -> Failure {
        Failure {
            kind,
            sentence: sentence.into(),
            code,
        }
    }
}

/// The result of a confirmed action, after re-reading its object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionOutcome {
    pub target: Target,
    pub result: ActionResult,
    /// Where the attempt was recorded, or why it could not be.
    pub audit: Result<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionResult {
    /// Meta accepted the call and a re-read shows the expected state.
    Verified { reread: Reread },
    /// Meta accepted the call but the re-read shows another state (worded by
    /// [`Reread::state`]).
    Unexpected { reread: Reread, state: String },
    /// Meta accepted the call; the re-read failed, so the new state is not confirmed.
    Unverified { failure: Failure },
    /// Meta refused the call, or it could not be sent. `reread` is the object as it really is
    /// now, if it could be read (someone else may have acted first).
    Failed {
        failure: Failure,
        reread: Option<Reread>,
    },
    /// The response was lost: the re-read says what actually happened (if it could).
    OutcomeUnknown {
        reread: Option<Reread>,
        failure: Failure,
    },
}

impl ActionResult {
    /// The re-read, whatever came of the call.
    pub fn reread(&self) -> Option<&Reread> {
        match self {
            ActionResult::Verified { reread } | ActionResult::Unexpected { reread, .. } => {
                Some(reread)
            }
            ActionResult::Failed { reread, .. } | ActionResult::OutcomeUnknown { reread, .. } => {
                reread.as_ref()
            }
            ActionResult::Unverified { .. } => None,
        }
    }
}
