//! Wire types of the Graph API solution objects partnerdeck reads (the states derived from
//! them are in `crate::domain::solution`).
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

/// A solution as a list call returned it, with the list it came from (`role=OWNER` or
/// `role=PARTNER`): our side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedSolution {
    pub node: SolutionNode,
    pub role: Role,
}

impl ListedSolution {
    pub fn id(&self) -> &str {
        &self.node.id
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
