//! Multi-Partner Solution calls (reference §2.1): list, detail, and the five actions.

use std::collections::HashSet;

use serde_json::Value;

use super::client::{GraphClient, MutationResponse};
use super::error::{ErrorKind, GraphError};
use super::model::{ListedSolution, Role, SolutionAction, SolutionNode};

pub const LIST_FIELDS: &str = "id,name,status,status_for_pending_request";
pub const DETAIL_FIELDS: &str = "name,status,status_for_pending_request,owner_app,owner_permissions,partners{partner_app,partner_permissions,status}";
/// Page size for the list calls (the edge's maximum, §1.6).
pub const LIST_LIMIT: &str = "100";

/// Refuse an id that is not a plain Graph id segment before anything is sent.
pub(crate) fn check_id(what: &str, id: &str) -> Result<(), GraphError> {
    if super::model::is_plain_id(id) {
        Ok(())
    } else {
        Err(GraphError::new(
            ErrorKind::InvalidRequest,
            format!("Not sent: {id:?} is not a valid {what}"),
        ))
    }
}

/// The solutions of our app: `GET /{app-id}/whatsapp_business_solutions` with `role=OWNER`
/// and `role=PARTNER`, concurrently, every page. A solution in both lists is ours (Owner).
/// Order: the owner list, then the partner list, each in Meta's order.
pub async fn list_solutions(
    client: &GraphClient,
    app_id: &str,
) -> Result<Vec<ListedSolution>, GraphError> {
    check_id("app id", app_id)?;
    let path = format!("{app_id}/whatsapp_business_solutions");
    let list = |role: &'static str| {
        let path = path.clone();
        async move {
            client
                .get_rows::<SolutionNode>(
                    &path,
                    &[
                        ("role", role),
                        ("fields", LIST_FIELDS),
                        ("limit", LIST_LIMIT),
                    ],
                )
                .await
        }
    };
    let (owned, partnered) = tokio::join!(list("OWNER"), list("PARTNER"));
    let (owned, partnered) = (owned?, partnered?);
    Ok(merge_roles(owned, partnered))
}

/// Tag and merge the two lists: owner first; a partner-list entry already owned is dropped.
pub fn merge_roles(owned: Vec<SolutionNode>, partnered: Vec<SolutionNode>) -> Vec<ListedSolution> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(owned.len() + partnered.len());
    for (nodes, role) in [(owned, Role::Owner), (partnered, Role::Partner)] {
        for node in nodes {
            // A malformed row has no trustworthy id to merge by: it is kept as it came.
            if node.malformed.is_some() || seen.insert(node.id.clone()) {
                out.push(ListedSolution { node, role });
            }
        }
    }
    out
}

/// One solution with its detail fields: `GET /{solution-id}?fields=DETAIL_FIELDS`.
pub async fn solution_detail(
    client: &GraphClient,
    solution_id: &str,
) -> Result<SolutionNode, GraphError> {
    check_id("solution id", solution_id)?;
    let mut body = client
        .get(solution_id, &[("fields", DETAIL_FIELDS)])
        .await?;
    let Some(obj) = body.as_object_mut() else {
        return Err(GraphError::new(
            ErrorKind::Transport,
            "Meta's answer did not have the expected shape: the solution is not an object",
        ));
    };
    // `id` is not among the requested fields; Graph adds it, but do not depend on that.
    if !obj.get("id").is_some_and(|v| v.is_string()) {
        let id = match obj.get("id") {
            Some(Value::Number(n)) => n.to_string(),
            _ => solution_id.to_string(),
        };
        obj.insert("id".into(), Value::String(id));
    }
    let node: SolutionNode = serde_json::from_value(body).map_err(|e| {
        GraphError::new(
            ErrorKind::Transport,
            format!("Meta's answer did not have the expected shape: solution {solution_id}: {e}"),
        )
    })?;
    Ok(node)
}

/// Perform an action: `POST /{solution-id}/{action.edge()}` with no body, sent once.
///
/// Success is `{"success": true}`, a bare `true`, or (per Meta's OpenAPI for the deactivation
/// edges) the solution node itself. `{"success": false}` is an `InvalidRequest` error; any
/// other 2xx answer is `OutcomeUnknown`, so the caller re-reads.
pub async fn perform(
    client: &GraphClient,
    solution_id: &str,
    action: SolutionAction,
) -> Result<MutationResponse, GraphError> {
    check_id("solution id", solution_id)?;
    let path = format!("{solution_id}/{}", action.edge());
    let resp = client.post(&path, &[], None).await?;
    check_success(&resp, solution_id)?;
    Ok(resp)
}

/// Does a 2xx mutation answer say the change was made?
pub fn check_success(resp: &MutationResponse, object_id: &str) -> Result<(), GraphError> {
    let b = &resp.body;
    let id_matches = |k: &str| {
        b.get(k).is_some_and(|v| match v {
            Value::String(s) => s == object_id,
            Value::Number(n) => n.to_string() == object_id,
            _ => false,
        })
    };
    let ok = match b.get("success") {
        Some(Value::Bool(true)) => true,
        Some(Value::Bool(false)) => {
            return Err(GraphError::new(
                ErrorKind::InvalidRequest,
                format!(
                    "Meta answered HTTP {} with success: false, so the change was not made",
                    resp.http_status
                ),
            )
            .with_status(resp.http_status)
            .with_fbtrace(resp.fbtrace_id.clone()));
        }
        Some(_) => false,
        None => *b == Value::Bool(true) || id_matches("id") || id_matches("solution_id"),
    };
    if ok {
        Ok(())
    } else {
        Err(GraphError::new(
            ErrorKind::OutcomeUnknown,
            format!(
                "Meta answered HTTP {} without success: true, so the outcome is unknown: re-read before sending it again",
                resp.http_status
            ),
        )
        .with_status(resp.http_status)
        .with_fbtrace(resp.fbtrace_id.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(id: &str, status: &str) -> SolutionNode {
        SolutionNode {
            id: id.into(),
            name: format!("s{id}"),
            status: status.into(),
            ..SolutionNode::default()
        }
    }

    #[test]
    fn merge_prefers_owner_and_keeps_order() {
        let merged = merge_roles(
            vec![node("3", "ACTIVE"), node("1", "DRAFT")],
            vec![
                node("2", "INITIATED"),
                node("1", "DRAFT"),
                node("4", "ACTIVE"),
            ],
        );
        let got: Vec<_> = merged.iter().map(|s| (s.id(), s.role)).collect();
        assert_eq!(
            got,
            vec![
                ("3", Role::Owner),
                ("1", Role::Owner),
                ("2", Role::Partner),
                ("4", Role::Partner)
            ]
        );
    }

    fn resp(body: Value) -> MutationResponse {
        MutationResponse {
            http_status: 200,
            body,
            fbtrace_id: Some("T".into()),
        }
    }

    #[test]
    fn success_shapes() {
        assert!(check_success(&resp(json!({"success":true})), "5").is_ok());
        assert!(check_success(&resp(json!({"success":true,"message":"x"})), "5").is_ok());
        assert!(check_success(&resp(json!(true)), "5").is_ok());
        assert!(check_success(&resp(json!({"id":"5","status":"DEACTIVATED"})), "5").is_ok());
        assert!(check_success(&resp(json!({"solution_id":5})), "5").is_ok());
        let e = check_success(&resp(json!({"success":false})), "5").unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidRequest);
        assert_eq!(e.fbtrace_id.as_deref(), Some("T"));
        for b in [
            json!({}),
            json!({"id":"6"}),
            json!({"success":"yes"}),
            json!(null),
        ] {
            let e = check_success(&resp(b.clone()), "5").unwrap_err();
            assert_eq!(e.kind, ErrorKind::OutcomeUnknown, "{b}");
            assert!(e.sentence().contains("outcome is unknown"));
        }
    }

    #[test]
    fn ids_are_checked() {
        assert!(check_id("solution id", "19702253086782").is_ok());
        for bad in ["", "1/accept", "1?x=y", "../1", "1 2", "1\n"] {
            assert!(check_id("solution id", bad).is_err(), "{bad:?}");
        }
    }
}
