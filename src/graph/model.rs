//! Typed models of the Graph API objects partnerdeck reads, and the states we derive from them.
//!
//! Meta's enums are open: any value we do not know is kept as the raw string and shown,
//! so every enum-like field here is a `String`, and derived states have an `Unknown` arm.

use serde::{Deserialize, Serialize};

/// Which side of a Multi-Partner Solution our app is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Our app created the solution (listed with `role=OWNER`).
    Owner,
    /// Our app was invited to the solution (listed with `role=PARTNER`).
    Partner,
    #[default]
    Unknown,
}

impl Role {
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Partner => "partner",
            Role::Unknown => "unknown",
        }
    }
}

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

/// An app as Meta embeds it in solution payloads (`owner_app`, `partner_app`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AppRef {
    #[serde(default)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// One entry of a solution's `partners` edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PartnerEntry {
    #[serde(default)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_app: Option<AppRef>,
    #[serde(default)]
    pub partner_permissions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// A solution node as the list and detail calls return it. Detail-only fields are `None`
/// until the detail has been fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SolutionNode {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub status_for_pending_request: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_app: Option<AppRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_permissions: Option<Vec<String>>,
    /// The `partners{...}` expansion, flattened from its `{data, paging}` envelope.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::graph::model::edge_data_opt"
    )]
    pub partners: Option<Vec<PartnerEntry>>,
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

/// What a user can do to a solution. Each maps to one Graph call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SolutionAction {
    Accept,
    Reject,
    SendDeactivation,
    AcceptDeactivation,
    RejectDeactivation,
}

impl SolutionAction {
    /// The edge of `POST /{solution-id}/{edge}`.
    pub fn edge(self) -> &'static str {
        match self {
            SolutionAction::Accept => "accept",
            SolutionAction::Reject => "reject",
            SolutionAction::SendDeactivation => "send_deactivation_request",
            SolutionAction::AcceptDeactivation => "accept_deactivation_request",
            SolutionAction::RejectDeactivation => "reject_deactivation_request",
        }
    }

    pub fn verb(self) -> &'static str {
        match self {
            SolutionAction::Accept => "Accept",
            SolutionAction::Reject => "Reject",
            SolutionAction::SendDeactivation => "Request deactivation of",
            SolutionAction::AcceptDeactivation => "Accept deactivation of",
            SolutionAction::RejectDeactivation => "Reject deactivation of",
        }
    }

    /// The state a successful call should leave the solution in (reference §2.5).
    pub fn expected_state(self) -> SolutionState {
        match self {
            SolutionAction::Accept => SolutionState::Active,
            SolutionAction::Reject => SolutionState::Rejected,
            SolutionAction::SendDeactivation => SolutionState::PendingDeactivation,
            SolutionAction::AcceptDeactivation => SolutionState::Deactivated,
            SolutionAction::RejectDeactivation => SolutionState::Active,
        }
    }

    /// Which action a key means for a solution in `state` when we hold `role`, if any.
    /// Accept/reject belong to the side that received the request; deactivation is sent by
    /// the owner (reference §2.5 and §8 rows 1 and 3).
    pub fn for_key(key: char, state: SolutionState, role: Role) -> Option<SolutionAction> {
        use SolutionState as S;
        match (key, state, role) {
            ('a', S::Pending, Role::Partner) => Some(SolutionAction::Accept),
            ('r', S::Pending, Role::Partner) => Some(SolutionAction::Reject),
            ('a', S::PendingDeactivation, Role::Partner) => {
                Some(SolutionAction::AcceptDeactivation)
            }
            ('r', S::PendingDeactivation, Role::Partner) => {
                Some(SolutionAction::RejectDeactivation)
            }
            ('d', S::Active, Role::Owner) => Some(SolutionAction::SendDeactivation),
            _ => None,
        }
    }
}

/// Deserialize an optional Graph edge (`{"data":[...],"paging":{...}}`) into its items.
/// A bare array is accepted too.
pub fn edge_data_opt<'de, D, T>(de: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Edge<T> {
        Wrapped {
            #[serde(default = "Vec::new")]
            data: Vec<T>,
        },
        Bare(Vec<T>),
    }
    let edge: Option<Edge<T>> = Option::deserialize(de)?;
    Ok(edge.map(|e| match e {
        Edge::Wrapped { data } => data,
        Edge::Bare(v) => v,
    }))
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
        assert_eq!(A::for_key('a', S::Pending, Role::Partner), Some(A::Accept));
        assert_eq!(A::for_key('a', S::Pending, Role::Owner), None);
        assert_eq!(A::for_key('a', S::Active, Role::Partner), None);
        assert_eq!(
            A::for_key('d', S::Active, Role::Owner),
            Some(A::SendDeactivation)
        );
        assert_eq!(A::for_key('d', S::Active, Role::Partner), None);
        assert_eq!(
            A::for_key('r', S::PendingDeactivation, Role::Partner),
            Some(A::RejectDeactivation)
        );
        assert_eq!(A::for_key('a', S::Unknown, Role::Partner), None);
    }

    #[test]
    fn partners_expansion_is_flattened() {
        let node: SolutionNode = serde_json::from_str(
            r#"{"id":"1","name":"x","status":"ACTIVE","partners":{"data":[{"id":"p","partner_app":{"id":"9","name":"Other"},"partner_permissions":["MESSAGING"],"status":"ACCEPTED"}],"paging":{"cursors":{}}}}"#,
        )
        .unwrap();
        let partners = node.partners.unwrap();
        assert_eq!(partners[0].partner_permissions, vec!["MESSAGING"]);
        assert_eq!(
            partners[0].partner_app.as_ref().unwrap().name.as_deref(),
            Some("Other")
        );
    }
}
