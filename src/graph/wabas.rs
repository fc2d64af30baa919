//! Client WABA calls (reference §3): the whole book in a few requests, one WABA re-read, and
//! the two onboarding actions (subscribe our app, register a phone number).
//!
//! A refresh costs: the pages of `client_whatsapp_business_accounts` (100 WABAs a page, phone
//! numbers expanded in the same call), one request per further page of a WABA's numbers, and
//! one Graph batch per 25 WABAs for the edges that cannot be expanded (`subscribed_apps` and
//! `solutions`, two operations each, 50 to a batch).

use std::collections::HashMap;

use serde_json::{Value, json};

use super::client::{BatchGet, GraphClient, MutationResponse};
use super::error::{ErrorKind, GraphError};
use super::model::SolutionNode;
use super::solutions::{check_id, check_success};
use super::waba_model::{Pin, SubscribedApp, Waba, WabaNode};

/// The phone-number fields of the issue, asked for inside the WABA call.
pub const PHONE_FIELDS: &str = "id,display_phone_number,verified_name,quality_rating,status,code_verification_status,name_status,platform_type,throughput,health_status";

/// Every WABA field the pane and the snapshot show, with the numbers expanded
/// (`phone_numbers{PHONE_FIELDS}`).
pub const WABA_FIELDS: &str = "id,name,currency,timezone_id,message_template_namespace,account_review_status,business_verification_status,ownership_type,primary_funding_id,owner_business_info,country,creation_time,status,health_status,is_shared_with_partners,whatsapp_business_manager_messaging_limit,phone_numbers{id,display_phone_number,verified_name,quality_rating,status,code_verification_status,name_status,platform_type,throughput,health_status}";

/// The solution fields read on `GET /{waba-id}/solutions`.
pub const SOLUTION_FIELDS: &str = "id,name,status,status_for_pending_request,owner_app";

/// Page size of the WABA list (the edge's maximum, §1.6).
pub const LIST_LIMIT: &str = "100";

/// The whole book of client WABAs, as one refresh read it.
#[derive(Debug, Clone, Default)]
pub struct WabaBook {
    pub wabas: Vec<Waba>,
    /// Per-WABA edges that could not be read, by WABA id (their `subscribed_apps` or
    /// `solutions` is then `None`). The list itself was read in full.
    pub extras_failed: Vec<(String, GraphError)>,
}

/// One refresh: every client WABA of `business_id` (only those also shared with
/// `partner_business_id`, when given) with all their phone numbers, then the subscribed apps
/// and onboarding solutions of each, in batches.
pub async fn refresh(
    client: &GraphClient,
    business_id: &str,
    partner_business_id: Option<&str>,
) -> Result<WabaBook, GraphError> {
    let nodes = list_client_wabas(client, business_id, partner_business_id).await?;
    let ids: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
    let mut extras = read_extras(client, &ids).await;
    let mut extras_failed = vec![];
    let wabas = nodes
        .into_iter()
        .map(|node| {
            let (subscribed, solutions) = extras
                .remove(&node.id)
                .unwrap_or_else(|| (Err(missing()), Err(missing())));
            Waba {
                subscribed_apps: keep(subscribed, &node.id, &mut extras_failed),
                solutions: keep(solutions, &node.id, &mut extras_failed),
                node,
            }
        })
        .collect();
    Ok(WabaBook {
        wabas,
        extras_failed,
    })
}

fn missing() -> GraphError {
    GraphError::new(ErrorKind::Transport, "The answer for this WABA was missing")
}

fn keep<T>(
    r: Result<T, GraphError>,
    id: &str,
    failed: &mut Vec<(String, GraphError)>,
) -> Option<T> {
    r.map_err(|e| failed.push((id.to_string(), e))).ok()
}

/// `GET /{business-id}/client_whatsapp_business_accounts` with [`WABA_FIELDS`], every page,
/// and every further page of each WABA's expanded phone numbers.
pub async fn list_client_wabas(
    client: &GraphClient,
    business_id: &str,
    partner_business_id: Option<&str>,
) -> Result<Vec<WabaNode>, GraphError> {
    check_id("business id", business_id)?;
    let filtering = match partner_business_id {
        Some(p) => {
            check_id("partner business id", p)?;
            Some(json!([{"field": "partners", "operator": "ALL", "value": [p]}]).to_string())
        }
        None => None,
    };
    let path = format!("{business_id}/client_whatsapp_business_accounts");
    let mut query = vec![("fields", WABA_FIELDS), ("limit", LIST_LIMIT)];
    if let Some(f) = &filtering {
        query.push(("filtering", f));
    }
    let items: Vec<Value> = client.get_all(&path, &query).await?;
    let mut nodes = Vec::with_capacity(items.len());
    for item in items {
        nodes.push(waba_node(client, item).await?);
    }
    Ok(nodes)
}

/// Read a WABA item: follow its phone numbers' `paging.next`, then type it. A row that does
/// not read as a WABA, or whose id is not a plain Graph id, is kept with a `malformed` mark
/// (see [`Row`](super::model::Row)); the rest of the book stands.
async fn waba_node(client: &GraphClient, mut item: Value) -> Result<WabaNode, GraphError> {
    let plain = item
        .get("id")
        .and_then(Value::as_str)
        .is_some_and(super::model::is_plain_id);
    if plain
        && let Some(phones) = item.get_mut("phone_numbers")
        && phones.pointer("/paging/next").is_some_and(Value::is_string)
    {
        let first = phones.take();
        *phones = Value::Array(client.follow_pages(first, "phone_numbers").await?);
    }
    Ok(super::model::decode_row(&item))
}

type Extras = (
    Result<Vec<SubscribedApp>, GraphError>,
    Result<Vec<SolutionNode>, GraphError>,
);

fn extras_requests(id: &str) -> [BatchGet; 2] {
    [
        BatchGet::new(format!("{id}/subscribed_apps"), &[]),
        BatchGet::new(
            format!("{id}/solutions"),
            &[("fields", SOLUTION_FIELDS), ("limit", LIST_LIMIT)],
        ),
    ]
}

/// `subscribed_apps` and `solutions` of each WABA, two operations per WABA in Graph batches.
/// A failed batch fails the edges of the WABAs in it, not the refresh.
pub async fn read_extras(client: &GraphClient, ids: &[String]) -> HashMap<String, Extras> {
    let mut out = HashMap::with_capacity(ids.len());
    // An id that is not a plain Graph id never becomes part of a path: that WABA's edges
    // are unknown, the others' are read.
    let (ids, bad): (Vec<&String>, Vec<&String>) =
        ids.iter().partition(|id| check_id("WABA id", id).is_ok());
    for id in bad {
        let e = check_id("WABA id", id).unwrap_err();
        out.insert(id.clone(), (Err(e.clone()), Err(e)));
    }
    let requests: Vec<BatchGet> = ids.iter().flat_map(|id| extras_requests(id)).collect();
    let answers = match client.batch_get(&requests).await {
        Ok(a) => a,
        Err(e) => {
            for id in ids {
                out.insert((*id).clone(), (Err(e.clone()), Err(e.clone())));
            }
            return out;
        }
    };
    let mut answers = answers.into_iter();
    for id in ids {
        let (Some(subscribed), Some(solutions)) = (answers.next(), answers.next()) else {
            break;
        };
        let subscribed = subscribed.and_then(|v| items_of(v, "subscribed_apps"));
        let solutions = match solutions {
            Ok(v) => items_of_paged(client, v, "solutions").await,
            Err(e) => Err(e),
        };
        out.insert((*id).clone(), (subscribed, solutions));
    }
    out
}

/// The items of a one-page edge answer.
fn items_of<T: serde::de::DeserializeOwned>(v: Value, what: &str) -> Result<Vec<T>, GraphError> {
    let page = super::paging::parse_page(v)?;
    typed(page.items, what)
}

/// The items of an edge answer, reading further pages if it has them.
async fn items_of_paged<T: serde::de::DeserializeOwned>(
    client: &GraphClient,
    v: Value,
    what: &str,
) -> Result<Vec<T>, GraphError> {
    typed(client.follow_pages(v, what).await?, what)
}

fn typed<T: serde::de::DeserializeOwned>(
    items: Vec<Value>,
    what: &str,
) -> Result<Vec<T>, GraphError> {
    items
        .into_iter()
        .map(|v| {
            serde_json::from_value(v).map_err(|e| {
                GraphError::new(
                    ErrorKind::Transport,
                    format!("Meta's answer did not have the expected shape: {what}: {e}"),
                )
            })
        })
        .collect()
}

/// One WABA with its edges, in one batch request (the node, `subscribed_apps`, `solutions`):
/// how an action is verified.
pub async fn read_waba(client: &GraphClient, waba_id: &str) -> Result<Waba, GraphError> {
    check_id("WABA id", waba_id)?;
    let [subscribed, solutions] = extras_requests(waba_id);
    let requests = [
        BatchGet::new(waba_id, &[("fields", WABA_FIELDS)]),
        subscribed,
        solutions,
    ];
    let mut answers = client.batch_get(&requests).await?.into_iter();
    let node = answers.next().unwrap_or_else(|| Err(missing()))?;
    let node = waba_node(client, node).await?;
    let subscribed = answers
        .next()
        .unwrap_or_else(|| Err(missing()))
        .and_then(|v| items_of(v, "subscribed_apps"));
    let solutions = match answers.next().unwrap_or_else(|| Err(missing())) {
        Ok(v) => items_of_paged(client, v, "solutions").await,
        Err(e) => Err(e),
    };
    Ok(Waba {
        node,
        subscribed_apps: subscribed.ok(),
        solutions: solutions.ok(),
    })
}

/// Subscribe our app to the WABA's webhooks: `POST /{waba-id}/subscribed_apps`, sent once.
pub async fn subscribe_app(
    client: &GraphClient,
    waba_id: &str,
) -> Result<MutationResponse, GraphError> {
    check_id("WABA id", waba_id)?;
    let resp = client
        .post(&format!("{waba_id}/subscribed_apps"), &[], None)
        .await?;
    check_success(&resp, waba_id)?;
    Ok(resp)
}

/// Register a number for Cloud API: `POST /{phone-number-id}/register` with the JSON body
/// `{"messaging_product":"whatsapp","pin":"NNNNNN"}`, sent once. The PIN goes in the body only
/// (never a URL), and nothing here logs it.
pub async fn register_phone(
    client: &GraphClient,
    phone_id: &str,
    pin: &Pin,
) -> Result<MutationResponse, GraphError> {
    check_id("phone number id", phone_id)?;
    let body = json!({ "messaging_product": "whatsapp", "pin": pin.expose() });
    // Should Meta echo the request body, the PIN is scrubbed from the answer like the token.
    let resp = client
        .post_with_secret(
            &format!("{phone_id}/register"),
            &[],
            Some(body),
            pin.expose(),
        )
        .await?;
    check_success(&resp, phone_id)?;
    Ok(resp)
}

/// Meta's register refusals (reference §3.6) as plain sentences, with the code and trace id.
/// `None` for codes without WhatsApp-specific wording (the client's sentence fits them).
pub fn register_sentence(e: &GraphError) -> Option<String> {
    let text = match e.code? {
        133005 => {
            "The PIN does not match the number's two-step verification PIN: ask the customer for it, or have them reset it in WhatsApp Manager"
        }
        133006 => {
            "The number must be verified again (with the code Meta sends by SMS or voice) before it can be registered"
        }
        133009 => "The PIN was tried again too quickly: wait a little before the next attempt",
        133010 => {
            "The number is not registered on the WhatsApp Business Platform yet: finish adding and verifying it first"
        }
        133015 => "The number was deleted recently: wait a few minutes before registering it again",
        133016 => {
            "Too many register or deregister attempts for this number: Meta blocks further attempts for a while"
        }
        131031 => {
            "The business account is locked, so its numbers cannot be registered until Meta unlocks it"
        }
        131009 => "Meta says a parameter is not valid: the PIN must be exactly 6 digits",
        _ => return None,
    };
    let trace = e
        .fbtrace_id
        .as_deref()
        .map(|t| format!(" (fbtrace_id {t})"))
        .unwrap_or_default();
    Some(format!(
        "{text} (code {}){trace}.",
        e.code.unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waba_fields_expand_the_phone_fields() {
        assert!(WABA_FIELDS.ends_with(&format!("phone_numbers{{{PHONE_FIELDS}}}")));
        for f in [
            "primary_funding_id",
            "health_status",
            "owner_business_info",
            "creation_time",
        ] {
            assert!(WABA_FIELDS.split(',').any(|x| x == f), "{f}");
        }
    }

    #[test]
    fn register_codes_read_as_sentences() {
        let mut e = GraphError::new(ErrorKind::InvalidRequest, "x");
        e.code = Some(133005);
        e.fbtrace_id = Some("Atrace".into());
        let s = register_sentence(&e).unwrap();
        assert!(s.starts_with("The PIN does not match"), "{s}");
        assert!(s.ends_with("(code 133005) (fbtrace_id Atrace)."), "{s}");
        e.code = Some(100);
        assert_eq!(register_sentence(&e), None);
        for code in [133006, 133009, 133010, 133015, 133016, 131031, 131009] {
            e.code = Some(code);
            assert!(register_sentence(&e).unwrap().contains(&code.to_string()));
        }
    }
}
