//! Multi-Partner Solutions as the console reasons about them: the state derived from Meta's
//! two status fields (reference §2.4), our side, and which action Meta allows where (§2.5).

use serde::{Deserialize, Serialize};

use crate::graph::model::{AppRef, ListedSolution, Role, SolutionAction, SolutionNode};

/// The lane a solution sits in, derived from `status` *and* `status_for_pending_request`
/// (reference §2.4: the dashboard's states are combinations of the two fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum SolutionState {
    Pending,
    Active,
    PendingDeactivation,
    Draft,
    Rejected,
    Deactivated,
    Unknown,
}

impl SolutionState {
    pub const ALL: [SolutionState; 7] = [
        SolutionState::Pending,
        SolutionState::Active,
        SolutionState::PendingDeactivation,
        SolutionState::Draft,
        SolutionState::Rejected,
        SolutionState::Deactivated,
        SolutionState::Unknown,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SolutionState::Pending => "pending",
            SolutionState::Active => "active",
            SolutionState::PendingDeactivation => "pending_deactivation",
            SolutionState::Draft => "draft",
            SolutionState::Rejected => "rejected",
            SolutionState::Deactivated => "deactivated",
            SolutionState::Unknown => "unknown",
        }
    }

    /// Derive the state from the two raw fields. Combinations Meta does not document map to
    /// `Unknown` rather than being guessed, so no action is offered on them.
    pub fn derive(status: &str, pending: Option<&str>) -> SolutionState {
        let pending = pending.unwrap_or("NONE");
        match (status, pending) {
            // A bare PENDING_DEACTIVATION status is seen in webhooks and older payloads.
            ("PENDING_DEACTIVATION", "NONE" | "PENDING_DEACTIVATION") => {
                SolutionState::PendingDeactivation
            }
            ("ACTIVE", "PENDING_DEACTIVATION") => SolutionState::PendingDeactivation,
            ("ACTIVE", "NONE") => SolutionState::Active,
            // `PENDING` is the older guide's name for INITIATED.
            ("INITIATED" | "PENDING", "PENDING_ACTIVATION" | "NONE") => SolutionState::Pending,
            ("DRAFT", "NONE") => SolutionState::Draft,
            ("REJECTED", "NONE") => SolutionState::Rejected,
            ("DEACTIVATED", "NONE") => SolutionState::Deactivated,
            _ => SolutionState::Unknown,
        }
    }
}

/// A solution with what we derive from it: its lane and our side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Solution {
    #[serde(flatten)]
    pub node: SolutionNode,
    pub state: SolutionState,
    pub role: Role,
}

impl Solution {
    pub fn new(node: SolutionNode, role: Role) -> Solution {
        let state = SolutionState::derive(&node.status, node.status_for_pending_request.as_deref());
        Solution { node, state, role }
    }

    pub fn id(&self) -> &str {
        &self.node.id
    }

    pub fn name(&self) -> &str {
        &self.node.name
    }

    /// Someone asked us to accept or reject: a request or a deactivation sent to our app.
    pub fn waits_on_us(&self) -> bool {
        self.role == Role::Partner
            && matches!(
                self.state,
                SolutionState::Pending | SolutionState::PendingDeactivation
            )
    }

    /// The app on the other side of the solution from ours, if the detail says.
    pub fn counterpart_app(&self, our_app_id: &str) -> Option<&AppRef> {
        match self.role {
            Role::Partner => self.node.owner_app.as_ref(),
            _ => self
                .node
                .partners
                .as_ref()?
                .iter()
                .filter_map(|p| p.partner_app.as_ref())
                .find(|a| a.id != our_app_id),
        }
    }
}

impl From<ListedSolution> for Solution {
    fn from(l: ListedSolution) -> Solution {
        Solution::new(l.node, l.role)
    }
}

/// What a key asks to do to a solution, before the state says which call that is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SolutionIntent {
    /// Accept a request, or a deactivation request, sent to us.
    Accept,
    /// Reject a request, or a deactivation request, sent to us.
    Reject,
    /// Ask the partner to deactivate a solution we own.
    Deactivate,
}

/// The state a successful call should leave the solution in (reference §2.5).
pub fn expected_state(action: SolutionAction) -> SolutionState {
    match action {
        SolutionAction::Accept => SolutionState::Active,
        SolutionAction::Reject => SolutionState::Rejected,
        SolutionAction::SendDeactivation => SolutionState::PendingDeactivation,
        SolutionAction::AcceptDeactivation => SolutionState::Deactivated,
        SolutionAction::RejectDeactivation => SolutionState::Active,
    }
}

/// Which call an intent means for a solution in `state` when we hold `role`, if Meta allows
/// one. Accept/reject belong to the side that received the request; deactivation is sent by
/// the owner (reference §2.5 and §8 rows 1 and 3).
pub fn action_for(
    intent: SolutionIntent,
    state: SolutionState,
    role: Role,
) -> Option<SolutionAction> {
    use SolutionIntent as I;
    use SolutionState as S;
    match (intent, state, role) {
        (I::Accept, S::Pending, Role::Partner) => Some(SolutionAction::Accept),
        (I::Reject, S::Pending, Role::Partner) => Some(SolutionAction::Reject),
        (I::Accept, S::PendingDeactivation, Role::Partner) => {
            Some(SolutionAction::AcceptDeactivation)
        }
        (I::Reject, S::PendingDeactivation, Role::Partner) => {
            Some(SolutionAction::RejectDeactivation)
        }
        (I::Deactivate, S::Active, Role::Owner) => Some(SolutionAction::SendDeactivation),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SolutionState as S;

    #[test]
    fn state_table_follows_reference_2_4() {
        let table = [
            ("DRAFT", Some("NONE"), S::Draft),
            ("INITIATED", Some("PENDING_ACTIVATION"), S::Pending),
            ("INITIATED", None, S::Pending),
            ("PENDING", None, S::Pending),
            ("ACTIVE", Some("NONE"), S::Active),
            ("ACTIVE", None, S::Active),
            (
                "ACTIVE",
                Some("PENDING_DEACTIVATION"),
                S::PendingDeactivation,
            ),
            ("PENDING_DEACTIVATION", None, S::PendingDeactivation),
            ("REJECTED", Some("NONE"), S::Rejected),
            ("DEACTIVATED", Some("NONE"), S::Deactivated),
            ("ACTIVE", Some("PENDING_ACTIVATION"), S::Unknown),
            ("DEACTIVATED", Some("PENDING_DEACTIVATION"), S::Unknown),
            ("SUSPENDED", None, S::Unknown),
            ("", None, S::Unknown),
            ("ACTIVE", Some("SOMETHING_NEW"), S::Unknown),
        ];
        for (status, pending, want) in table {
            assert_eq!(S::derive(status, pending), want, "{status} + {pending:?}");
        }
    }

    #[test]
    fn actions_only_where_they_make_sense() {
        use SolutionAction as A;
        assert_eq!(
            action_for(SolutionIntent::Accept, S::Pending, Role::Partner),
            Some(A::Accept)
        );
        assert_eq!(
            action_for(SolutionIntent::Accept, S::Pending, Role::Owner),
            None
        );
        assert_eq!(
            action_for(SolutionIntent::Accept, S::Active, Role::Partner),
            None
        );
        assert_eq!(
            action_for(SolutionIntent::Deactivate, S::Active, Role::Owner),
            Some(A::SendDeactivation)
        );
        assert_eq!(
            action_for(SolutionIntent::Deactivate, S::Active, Role::Partner),
            None
        );
        assert_eq!(
            action_for(
                SolutionIntent::Reject,
                S::PendingDeactivation,
                Role::Partner
            ),
            Some(A::RejectDeactivation)
        );
        assert_eq!(
            action_for(SolutionIntent::Accept, S::Unknown, Role::Partner),
            None
        );
    }
}
