//! Graph API error envelopes (reference §1.3, §1.4, §2.6).
//!
//! Every refusal the simulator sends is a [`GraphError`] rendered as Meta's envelope:
//! `{"error":{"message","type","code","error_subcode"?,"is_transient"?,"fbtrace_id"}}`.

use rand::Rng;
use serde_json::{Map, Value, json};

/// `type` of OAuth/permission errors.
pub const OAUTH: &str = "OAuthException";
/// `type` of errors about the object or method itself.
pub const METHOD: &str = "GraphMethodException";

/// Subcode Meta sends when an app is not allowed to act on a Multi-Partner Solution.
pub const SUBCODE_NOT_AUTHORIZED_SOLUTION: i64 = 1_349_174;

/// One Graph error, before it is given a trace id and rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    /// HTTP status of the response.
    pub status: u16,
    /// `error.type`.
    pub kind: &'static str,
    /// `error.code`.
    pub code: i64,
    /// `error.error_subcode`, when Meta sends one.
    pub subcode: Option<i64>,
    /// `error.message`.
    pub message: String,
    /// `error.is_transient`, when Meta sends it.
    pub is_transient: Option<bool>,
    /// `error.error_data.details`, which WhatsApp endpoints add.
    pub details: Option<String>,
}

impl GraphError {
    pub fn new(status: u16, kind: &'static str, code: i64, message: impl Into<String>) -> Self {
        GraphError {
            status,
            kind,
            code,
            subcode: None,
            message: message.into(),
            is_transient: None,
            details: None,
        }
    }

    /// A WhatsApp endpoint's refusal: Meta's code with `error_data.details`.
    pub fn whatsapp(status: u16, code: i64, message: &str, details: &str) -> Self {
        let mut e = GraphError::new(status, OAUTH, code, message);
        e.details = Some(details.to_string());
        e
    }

    /// A batch with more operations than Meta allows: 400 / 100.
    pub fn batch_too_large(max: usize) -> Self {
        GraphError::invalid_param(format!(
            "(#100) Too many requests in batch message. Maximum batch size is {max}"
        ))
    }

    pub fn with_subcode(mut self, subcode: i64) -> Self {
        self.subcode = Some(subcode);
        self
    }

    pub fn transient(mut self, transient: bool) -> Self {
        self.is_transient = Some(transient);
        self
    }

    /// No token at all: Meta answers 400 / code 2500.
    pub fn missing_token() -> Self {
        GraphError::new(
            400,
            OAUTH,
            2500,
            "An active access token must be used to query information about the current user.",
        )
    }

    /// A token we do not know: 401 / code 190.
    pub fn invalid_token() -> Self {
        GraphError::new(
            401,
            OAUTH,
            190,
            "Invalid OAuth access token - Cannot parse access token",
        )
    }

    /// An id that is not a node we know, or a method a node does not support: 400 / 100 / 33.
    pub fn unsupported_request(method: &str, id: &str) -> Self {
        GraphError::new(
            400,
            METHOD,
            100,
            format!(
                "Unsupported {} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
                method.to_ascii_lowercase()
            ),
        )
        .with_subcode(33)
    }

    /// A method an existing edge does not support (e.g. GET on `/accept`): 400 / 100.
    pub fn unsupported_method_on_edge(method: &str) -> Self {
        GraphError::new(
            400,
            METHOD,
            100,
            format!(
                "Unsupported {} request. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
                method.to_ascii_lowercase()
            ),
        )
    }

    /// An edge the node does not have: 400 / 100.
    pub fn unknown_path(rest: &str) -> Self {
        GraphError::new(400, OAUTH, 100, format!("Unknown path components: /{rest}"))
    }

    /// A bad parameter value: 400 / 100.
    pub fn invalid_param(message: impl Into<String>) -> Self {
        GraphError::new(400, OAUTH, 100, message)
    }

    /// A generic permission refusal: 403 / 200.
    pub fn permission(message: impl Into<String>) -> Self {
        GraphError::new(403, OAUTH, 200, message)
    }

    /// The app may not read or act on this solution, or not from this side: 403 / 200 / 1349174.
    pub fn not_authorized_solution(detail: &str) -> Self {
        let mut message =
            "(#200) Your app is not authorized to manage this Multi-Partner Solution".to_string();
        if !detail.is_empty() {
            message.push_str(": ");
            message.push_str(detail);
        }
        GraphError::new(403, OAUTH, 200, message).with_subcode(SUBCODE_NOT_AUTHORIZED_SOLUTION)
    }

    /// POST on a solution id that does not exist: 404 / 803.
    pub fn solution_not_found() -> Self {
        GraphError::new(404, METHOD, 803, "Multi-Partner Solution not found")
    }

    /// An action the solution's current state does not allow: 400 / 100.
    pub fn wrong_state(message: impl Into<String>) -> Self {
        GraphError::new(400, METHOD, 100, message)
    }

    /// The `{"error":{...}}` body, carrying `fbtrace_id`.
    pub fn envelope(&self, fbtrace_id: &str) -> Value {
        let mut e = Map::new();
        e.insert("message".into(), json!(self.message));
        e.insert("type".into(), json!(self.kind));
        e.insert("code".into(), json!(self.code));
        if let Some(sub) = self.subcode {
            e.insert("error_subcode".into(), json!(sub));
        }
        if let Some(t) = self.is_transient {
            e.insert("is_transient".into(), json!(t));
        }
        if let Some(d) = &self.details {
            e.insert(
                "error_data".into(),
                json!({ "messaging_product": "whatsapp", "details": d }),
            );
        }
        e.insert("fbtrace_id".into(), json!(fbtrace_id));
        json!({ "error": Value::Object(e) })
    }
}

/// A fresh, random-looking trace id in the shape Meta uses (e.g. `AXsgnV2Cm3ZMGF3dF_cfYIn`).
pub fn new_trace_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    let mut rng = rand::rng();
    let mut id = String::with_capacity(23);
    id.push('A');
    for _ in 0..22 {
        // Keep the alphanumeric look: `_`/`-` only rarely.
        let i = rng.random_range(0..ALPHABET.len());
        id.push(ALPHABET[i] as char);
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_meta_shape() {
        let e = GraphError::not_authorized_solution("").envelope("Aabc");
        assert_eq!(e["error"]["code"], 200);
        assert_eq!(e["error"]["error_subcode"], 1349174);
        assert_eq!(e["error"]["type"], "OAuthException");
        assert_eq!(e["error"]["fbtrace_id"], "Aabc");
        assert!(e["error"].get("is_transient").is_none());
        let keys: Vec<&String> = e["error"].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["message", "type", "code", "error_subcode", "fbtrace_id"]
        );
    }

    #[test]
    fn trace_ids_look_random() {
        let a = new_trace_id();
        let b = new_trace_id();
        assert_eq!(a.len(), 23);
        assert_ne!(a, b);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        );
    }
}
