//! Wire types of the Graph API solution objects partnerdeck reads (the states derived from
//! them are in `crate::domain::solution`).
//!
//! Meta's enums are open: any value we do not know is kept as the raw string and shown,
//! so every enum-like field here is a `String`, and derived states have an `Unknown` arm.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    /// Set when this row of a list could not be read as a solution: the rest of the list
    /// stands, this row keeps its best-effort id and Meta's raw text.
    #[serde(skip)]
    pub malformed: Option<Box<Malformed>>,
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

/// Why one row of a list could not be read as expected, and what Meta sent for it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Malformed {
    /// One plain sentence (sanitized), e.g. `invalid type: integer, expected a string`.
    pub reason: String,
    /// The row's JSON text as Meta sent it (already scrubbed of secrets), at most
    /// [`MAX_RAW_ROW_BYTES`] bytes (cut on a character boundary, with `…`).
    pub raw: String,
}

impl Malformed {
    /// How a list shows the row: that it could not be read, and Meta's text of it.
    pub fn label(&self) -> String {
        format!("⚠ unreadable row: {}", self.raw)
    }
}

/// The longest raw row text kept in a [`Malformed`].
pub const MAX_RAW_ROW_BYTES: usize = 2048;

/// A wire type that is one row of a Graph list. Lists are decoded row by row: a row that
/// does not read as `Self` becomes `Self::default()` with its best-effort id and a
/// [`Malformed`] mark, and a row whose id is not a plain Graph id is kept but marked, so it
/// never becomes part of a request path.
pub trait Row: DeserializeOwned + Default {
    fn row_id(&self) -> &str;
    fn set_row_id(&mut self, id: String);
    fn malformed(&self) -> Option<&Malformed>;
    fn set_malformed(&mut self, m: Malformed);
}

/// Whether `id` can be put in a request path: 1 to 64 of `[A-Za-z0-9_-]`.
pub fn is_plain_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Decode one row of a list (see [`Row`]); never fails.
pub fn decode_row<T: Row>(v: &Value) -> T {
    let mut row = match T::deserialize(v) {
        Ok(t) => t,
        Err(e) => {
            let mut t = T::default();
            t.set_row_id(best_effort_id(v));
            t.set_malformed(Malformed {
                reason: crate::graph::error::sanitize(&format!("this row could not be read: {e}")),
                raw: raw_text(v),
            });
            return t;
        }
    };
    if !is_plain_id(row.row_id()) && row.malformed().is_none() {
        row.set_malformed(Malformed {
            reason: crate::graph::error::sanitize(&format!(
                "its id {:?} is not a plain Graph id, so nothing is read or sent for it",
                row.row_id()
            )),
            raw: raw_text(v),
        });
    }
    row
}

/// Decode every row of a list, row by row.
pub fn decode_rows<T: Row>(items: &[Value]) -> Vec<T> {
    items.iter().map(decode_row).collect()
}

/// The row's `id` as a string when it is a string or a number, else `?`.
fn best_effort_id(v: &Value) -> String {
    match v.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "?".to_string(),
    }
}

/// The row's JSON text, capped at [`MAX_RAW_ROW_BYTES`].
fn raw_text(v: &Value) -> String {
    let mut s = v.to_string();
    if s.len() > MAX_RAW_ROW_BYTES {
        let mut cut = MAX_RAW_ROW_BYTES;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

impl Row for SolutionNode {
    fn row_id(&self) -> &str {
        &self.id
    }
    fn set_row_id(&mut self, id: String) {
        self.id = id;
    }
    fn malformed(&self) -> Option<&Malformed> {
        self.malformed.as_deref()
    }
    fn set_malformed(&mut self, m: Malformed) {
        self.malformed = Some(Box::new(m));
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
        assert!(node.malformed.is_none());
        assert_eq!(partners[0].partner_permissions, vec!["MESSAGING"]);
        assert_eq!(
            partners[0].partner_app.as_ref().unwrap().name.as_deref(),
            Some("Other")
        );
    }

    #[test]
    fn rows_are_decoded_one_by_one() {
        let rows = vec![
            serde_json::json!({"id":"1","name":"ok","status":"ACTIVE"}),
            serde_json::json!({"id":"2","name":42,"status":"ACTIVE"}),
            serde_json::json!("not an object"),
            serde_json::json!({"id":"3/../4","name":"x","status":"ACTIVE"}),
        ];
        let got: Vec<SolutionNode> = decode_rows(&rows);
        assert_eq!(got.len(), 4);
        assert!(got[0].malformed.is_none());
        assert_eq!(got[0].name, "ok");
        let m = got[1].malformed.as_ref().unwrap();
        assert_eq!(got[1].id, "2");
        assert!(m.raw.contains("42"), "{m:?}");
        assert!(m.reason.contains("could not be read"), "{m:?}");
        assert_eq!(got[2].id, "?");
        assert!(got[2].malformed.is_some());
        assert_eq!(got[3].id, "3/../4");
        assert!(got[3].malformed.as_ref().unwrap().reason.contains("plain"));
        let long = serde_json::json!({"id": 5, "name": 1, "pad": "é".repeat(3000)});
        let n: SolutionNode = decode_row(&long);
        assert!(n.malformed.unwrap().raw.len() <= MAX_RAW_ROW_BYTES + 3);
    }
}
