//! Actions as typed values: what is done to which object, the exact call, and the state it
//! must reach; the object as re-read afterwards, and the typed state it shows. "Verified"
//! means the observed state equals the expected one, compared as values, never as text.

use crate::bsp::{Bsp, Registration};
use crate::domain::partner::{BSP_REGISTER_ACTION, RegistrationState};
use crate::domain::solution::{Solution, SolutionState};
use crate::graph::credit_model::AllocationConfig;
use crate::graph::model::{SolutionAction, SolutionNode};
use crate::graph::waba_model::Waba;

use super::msg::{Failure, ReadStamp};

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
    /// `POST` to our BSP's registration API (Plivo's EmbeddedSignup, Telnyx's tech_provider):
    /// register one number of a customer's WABA with the BSP. Not a Graph call; neither BSP
    /// can be read back, so its own answer is the "re-read" ([`Reread::Bsp`]).
    BspRegister {
        bsp: Bsp,
        waba_name: String,
        /// The number as people read it.
        phone: String,
        /// What is sent (WABA, owner business, number; checked by `bsp::prepare`).
        registration: Registration,
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
            Target::BspRegister { registration, .. } => &registration.waba_id,
        }
    }

    /// The edge of `POST /{object-id}/{edge}`; empty for a call on the node itself.
    pub fn edge(&self) -> &'static str {
        match self {
            Target::Solution { action, .. } => action.edge(),
            Target::SubscribeApp { .. } => "subscribed_apps",
            Target::RegisterPhone { .. } => "register",
            Target::ShareCredit { .. } => "whatsapp_credit_sharing_and_attach",
            Target::RevokeAllocation { .. } | Target::BspRegister { .. } => "",
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
            Target::BspRegister { .. } => BSP_REGISTER_ACTION,
        }
    }

    /// What a verified success says, in the words of the key that started it (not Graph's
    /// edge names): "Accepted", "Deactivation rejected", "Webhooks subscribed".
    pub fn done_words(&self) -> String {
        match self {
            Target::Solution { action, .. } => match action {
                SolutionAction::Accept => "Accepted",
                SolutionAction::Reject => "Rejected",
                SolutionAction::SendDeactivation => "Deactivation requested",
                SolutionAction::AcceptDeactivation => "Deactivation accepted",
                SolutionAction::RejectDeactivation => "Deactivation rejected",
            }
            .to_string(),
            Target::SubscribeApp { .. } => "Webhooks subscribed".into(),
            Target::RegisterPhone { .. } => "Registered".into(),
            Target::ShareCredit { .. } => "Credit line shared".into(),
            Target::RevokeAllocation { .. } => "Allocation revoked".into(),
            Target::BspRegister { bsp, .. } => format!("Registered with {}", bsp.name()),
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
            Target::BspRegister {
                phone, waba_name, ..
            } => format!("{phone} of {waba_name}"),
        }
    }

    /// The state a successful call must leave the object in.
    pub fn expected(&self) -> ObservedState {
        match self {
            Target::Solution { action, .. } => {
                ObservedState::Solution(crate::domain::solution::expected_state(*action))
            }
            Target::SubscribeApp { .. } => ObservedState::Subscribed(Some(true)),
            Target::RegisterPhone { .. } => ObservedState::Phone(PhoneState::Connected),
            Target::ShareCredit { .. } => ObservedState::Funding(FundingState::Verified),
            Target::RevokeAllocation { .. } => ObservedState::Allocation(AllocationState::Revoked),
            Target::BspRegister { .. } => ObservedState::Bsp(RegistrationState::Registered),
        }
    }

    /// The objects whose shown state this action changes: a second action on any of them
    /// waits until a read newer than this one's send has arrived.
    pub fn objects(&self) -> Vec<&str> {
        match self {
            Target::Solution { id, .. } => vec![id],
            Target::SubscribeApp { waba_id, .. } | Target::RegisterPhone { waba_id, .. } => {
                vec![waba_id]
            }
            Target::ShareCredit { waba_id, .. } => vec![waba_id],
            Target::RevokeAllocation {
                allocation_id,
                waba_ids,
                ..
            } => {
                let mut v: Vec<&str> = vec![allocation_id];
                v.extend(waba_ids.iter().map(String::as_str));
                v
            }
            // Nothing Meta shows changes: the WABA as read stays as true as it was.
            Target::BspRegister { .. } => vec![],
        }
    }
}

/// What a re-read shows about an action's object, as a value to compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObservedState {
    Solution(SolutionState),
    /// Whether our app is in the WABA's `subscribed_apps`; `None`: the list was not read.
    Subscribed(Option<bool>),
    Phone(PhoneState),
    Funding(FundingState),
    Allocation(AllocationState),
    /// What the BSP answered about the registration.
    Bsp(RegistrationState),
}

/// A phone number's `status`, as far as registering goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneState {
    Connected,
    /// Any other status, as Meta sent it.
    Other(String),
    NoStatus,
    /// The number is no longer listed on the WABA.
    Gone,
}

/// Whether a WABA is funded by a live allocation of the shared line (§4.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FundingState {
    Verified,
    NotFunded,
    /// Funded by the credential of this allocation, which is revoked.
    RevokedAllocation(String),
    /// Funded by a source that is not one of the line's allocations.
    OtherSource(String),
    /// The WABA could not be re-read.
    Unread,
}

/// An allocation config's `request_status`, as far as revoking goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllocationState {
    Revoked,
    /// Not revoked: the status as Meta sent it.
    Live(String),
    NoStatus,
    /// No longer listed.
    Gone,
}

impl ObservedState {
    /// In the words the screen and the audit log use.
    pub fn label(&self) -> String {
        match self {
            ObservedState::Solution(s) => s.label().to_string(),
            ObservedState::Subscribed(Some(true)) => "subscribed".into(),
            ObservedState::Subscribed(Some(false)) => "not subscribed".into(),
            ObservedState::Subscribed(None) => "unknown (subscribed apps not read)".into(),
            ObservedState::Phone(PhoneState::Connected) => "CONNECTED".into(),
            ObservedState::Phone(PhoneState::Other(s)) => s.clone(),
            ObservedState::Phone(PhoneState::NoStatus) => "no status".into(),
            ObservedState::Phone(PhoneState::Gone) => "no longer listed".into(),
            ObservedState::Funding(FundingState::Verified) => "verified".into(),
            ObservedState::Funding(FundingState::NotFunded) => "not funded".into(),
            ObservedState::Funding(FundingState::RevokedAllocation(id)) => {
                format!("funded by revoked allocation {id}")
            }
            ObservedState::Funding(FundingState::OtherSource(f)) => {
                format!("funded by another source ({f})")
            }
            ObservedState::Funding(FundingState::Unread) => {
                "unknown (the WABA could not be re-read)".into()
            }
            ObservedState::Allocation(AllocationState::Revoked) => {
                crate::graph::credit_model::REVOKED_STATUS.into()
            }
            ObservedState::Allocation(AllocationState::Live(s)) => s.clone(),
            ObservedState::Allocation(AllocationState::NoStatus) => "no status".into(),
            ObservedState::Allocation(AllocationState::Gone) => "no longer listed".into(),
            ObservedState::Bsp(RegistrationState::Failed { reason }) => {
                format!("not registered ({reason})")
            }
            ObservedState::Bsp(s) => s.as_str().replace('_', " "),
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
    /// A share holds when the WABA's `primary_funding_id` is the receiving credential of a
    /// live allocation of the line (§4.6); a revoke when the allocation is `DELETED`.
    pub fn observed(&self, target: &Target) -> Option<ObservedState> {
        match target {
            Target::RevokeAllocation { allocation_id, .. } => Some(ObservedState::Allocation(
                match self.allocations.iter().find(|a| a.id == allocation_id) {
                    None => AllocationState::Gone,
                    Some(a) if a.is_revoked() => AllocationState::Revoked,
                    Some(a) => match &a.request_status {
                        Some(s) => AllocationState::Live(s.to_string()),
                        None => AllocationState::NoStatus,
                    },
                },
            )),
            Target::ShareCredit { waba_id, .. } => Some(ObservedState::Funding(
                match self.wabas.iter().find(|w| w.id() == waba_id) {
                    None => FundingState::Unread,
                    Some(w) => match w.node.funding_id() {
                        None => FundingState::NotFunded,
                        Some(f) => match self
                            .allocations
                            .iter()
                            .find(|a| a.credential_id() == Some(f))
                        {
                            Some(a) if a.is_revoked() => {
                                FundingState::RevokedAllocation(a.id.to_string())
                            }
                            Some(_) => FundingState::Verified,
                            None => FundingState::OtherSource(f.to_string()),
                        },
                    },
                },
            )),
            _ => None,
        }
    }
}

/// The object as re-read after an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reread {
    Solution(Box<SolutionNode>),
    Waba(Box<Waba>),
    Credit(Box<CreditReread>),
    /// A BSP's answer to a registration (neither BSP documents a way to read one back): the
    /// state it says, and its sentence.
    Bsp {
        bsp: Bsp,
        state: RegistrationState,
        sentence: String,
    },
}

impl Reread {
    /// What the re-read says about the target, typed: a solution's state, whether our app is
    /// subscribed, a number's status, a WABA's funding, an allocation's status.
    pub fn observed(&self, target: &Target, our_app_id: &str) -> ObservedState {
        match (self, target) {
            (Reread::Solution(n), _) => ObservedState::Solution(SolutionState::derive(
                &n.status,
                n.status_for_pending_request.as_deref(),
            )),
            (Reread::Bsp { state, .. }, _) => ObservedState::Bsp(state.clone()),
            (Reread::Credit(c), _) => c
                .observed(target)
                .unwrap_or(ObservedState::Funding(FundingState::Unread)),
            (Reread::Waba(w), Target::RegisterPhone { phone_id, .. }) => {
                ObservedState::Phone(match w.phone(phone_id) {
                    None => PhoneState::Gone,
                    Some(p) => match p.status.as_deref() {
                        None => PhoneState::NoStatus,
                        Some("CONNECTED") => PhoneState::Connected,
                        Some(other) => PhoneState::Other(other.to_string()),
                    },
                })
            }
            (Reread::Waba(w), _) => {
                ObservedState::Subscribed(crate::domain::onboarding::webhooks_subscribed(
                    w.subscribed_apps.as_deref().map(Vec::as_slice),
                    our_app_id,
                ))
            }
        }
    }

    /// [`observed`](Self::observed) in words.
    pub fn state(&self, target: &Target, our_app_id: &str) -> String {
        self.observed(target, our_app_id).label()
    }

    /// The re-read's solution as the panes hold it (our side unknown to a detail read).
    pub fn solution(&self) -> Option<Solution> {
        match self {
            Reread::Solution(n) => Some(Solution::new(
                (**n).clone(),
                crate::graph::model::Role::Unknown,
            )),
            _ => None,
        }
    }
}

/// The result of a confirmed action, after re-reading its object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionOutcome {
    pub target: Target,
    pub result: ActionResult,
    /// Issued just before the request left: reads started earlier know less than this.
    pub sent: ReadStamp,
    /// Issued when the re-read started: what it shows is established as of then.
    pub reread: ReadStamp,
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
    /// Nothing was sent: the intent could not be recorded first (the reason says why).
    NotSent { reason: String },
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
            ActionResult::Unverified { .. } | ActionResult::NotSent { .. } => None,
        }
    }
}
