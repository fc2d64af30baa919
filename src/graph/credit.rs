//! Credit-line calls (reference §4): our credit lines and their allocation configs, the share
//! (current and alternate method), and the revoke. Every mutation is sent once; a share is not
//! idempotent, so a lost answer (`ErrorKind::OutcomeUnknown`) must be followed by a re-read,
//! never by a second share.
//!
//! These calls need a system-user token with the Finance Editor (or Admin) role on our
//! business (§4.1); without it Meta answers a permission error (code 200 or 10), which the
//! client classifies as `ErrorKind::Permission`.

use serde_json::Value;

use super::client::{GraphClient, MutationResponse, PageTag};
use super::credit_model::{AllocationConfig, CreditLine, CreditLineData, WABA_CURRENCIES};
use super::error::{ErrorKind, GraphError};
use super::solutions::{check_id, check_success};

/// The credit-line fields read (ExtendedCredit, §4.4).
pub const CREDIT_LINE_FIELDS: &str =
    "id,legal_entity_name,owner_business_name,credit_type,is_access_revoked,credit_available";

/// The allocation-config fields read (§4.5): what verification and the pane need.
pub const ALLOCATION_FIELDS: &str =
    "id,receiving_business{id,name},receiving_credential{id},request_status";

/// Page size asked for on the credit edges (§8 row 11: at most 100).
pub const LIST_LIMIT: &str = "100";

/// One refresh: the credit line named by `credit_line_id`, or every credit line of
/// `business_id`, each with all its allocation configs. Needs one of the two.
pub async fn refresh(
    client: &GraphClient,
    business_id: Option<&str>,
    credit_line_id: Option<&str>,
) -> Result<Vec<CreditLineData>, GraphError> {
    let lines = read_lines(client, business_id, credit_line_id).await?;
    Ok(read_allocations(client, lines).await?.0)
}

/// The tags of each line's allocation pages, by line id: `None` for a line whose allocations
/// are not read, empty when a page came without a tag.
type LineTags = Vec<(String, Option<Vec<PageTag>>)>;

/// Every line with all its allocations, read whole, and the tags of their pages.
async fn read_allocations(
    client: &GraphClient,
    lines: Vec<CreditLine>,
) -> Result<(Vec<CreditLineData>, LineTags), GraphError> {
    let mut out = Vec::with_capacity(lines.len());
    let mut tags_of = Vec::with_capacity(lines.len());
    for line in lines {
        // A malformed row (or one whose id is not a plain id) has no allocations to read.
        let (allocations, tags) = if line.malformed.is_some() {
            (vec![], None)
        } else {
            let (allocations, tags) = client
                .get_rows_tagged(
                    &format!("{}/owning_credit_allocation_configs", line.id),
                    &[("fields", ALLOCATION_FIELDS), ("limit", LIST_LIMIT)],
                )
                .await?;
            (allocations, Some(tags.unwrap_or_default()))
        };
        tags_of.push((line.id.clone(), tags));
        out.push(CreditLineData { line, allocations });
    }
    Ok((out, tags_of))
}

/// What the last complete read of our credit lines learned, kept by the poller between
/// reads: the lines, and each line's allocation pages with Meta's tags.
#[derive(Debug, Default)]
pub struct CreditMemory {
    /// The ids of the lines read last, in order, each with its allocation pages' tags
    /// (`None` for a line whose allocations are not read).
    lines: LineTags,
    /// Rounds since the allocation pages were last asked about.
    rounds_since_asked: usize,
}

/// About how many allocation pages a round asks about, on average: a long list is asked
/// about once every `pages / ALLOCATION_PAGES_A_ROUND` rounds (see
/// [`CreditMemory::allocations_due`]).
pub const ALLOCATION_PAGES_A_ROUND: usize = 100;

impl CreditMemory {
    /// Whether the next round asks about the allocation pages: every round while they are
    /// at most [`ALLOCATION_PAGES_A_ROUND`]; a longer list (66,000 allocations are 660
    /// pages) once every `pages / ALLOCATION_PAGES_A_ROUND` rounds, so the credit reads cost
    /// about as much a round whatever the book. Our own shares and revokes are re-read by
    /// the action, and a refresh asked for (Ctrl-r, after an action) asks at once.
    pub fn allocations_due(&self) -> bool {
        let pages: usize = self
            .lines
            .iter()
            .filter_map(|(_, tags)| tags.as_ref())
            .map(Vec::len)
            .sum();
        self.rounds_since_asked + 1 >= pages.div_ceil(ALLOCATION_PAGES_A_ROUND).max(1)
    }
}

/// What a read of our credit lines found.
#[derive(Debug, Clone, PartialEq)]
pub enum CreditRead {
    /// The lines with every allocation.
    Read(Vec<CreditLineData>),
    /// The same lines as the last read, each of whose allocations Meta said were not
    /// modified: the lines as read now, their allocations as the last read had them.
    AllocationsUnchanged(Vec<CreditLine>),
}

/// [`refresh`], asking for each allocation page with the tag of the last read first: when
/// the lines are the same and Meta answers `304 Not Modified` for every page, nothing is
/// decoded ([`CreditRead::AllocationsUnchanged`]). At the first page that changed, every
/// line's allocations are read again whole. With `ask_allocations` false (see
/// [`CreditMemory::allocations_due`]) and the same lines, only the lines are read.
pub async fn refresh_round(
    client: &GraphClient,
    business_id: Option<&str>,
    credit_line_id: Option<&str>,
    memory: &mut CreditMemory,
    ask_allocations: bool,
) -> Result<CreditRead, GraphError> {
    let lines = read_lines(client, business_id, credit_line_id).await?;
    let remembered = std::mem::take(&mut memory.lines);
    let same_lines = remembered.len() == lines.len()
        && remembered
            .iter()
            .zip(&lines)
            .all(|((id, tags), line)| *id == line.id && tags.is_some() == line.malformed.is_none());
    if same_lines && !lines.is_empty() {
        let unchanged = !ask_allocations || every_page_unchanged(client, &remembered).await?;
        if unchanged {
            memory.lines = remembered;
            memory.rounds_since_asked = if ask_allocations {
                0
            } else {
                memory.rounds_since_asked + 1
            };
            return Ok(CreditRead::AllocationsUnchanged(lines));
        }
    }
    let (out, learned) = read_allocations(client, lines).await?;
    // Only a read where every page was tagged can be asked about next time: untagged pages
    // cannot be, so the next read reads whole.
    if learned
        .iter()
        .all(|(_, tags)| tags.as_ref().is_none_or(|t| !t.is_empty()))
    {
        memory.lines = learned;
        memory.rounds_since_asked = 0;
    }
    Ok(CreditRead::Read(out))
}

/// Whether Meta says no allocation page of these lines was modified (the first that was
/// ends the asking).
async fn every_page_unchanged(client: &GraphClient, lines: &LineTags) -> Result<bool, GraphError> {
    for tags in lines.iter().filter_map(|(_, tags)| tags.as_deref()) {
        if !client.list_unchanged(tags).await? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The credit line named by `credit_line_id`, or every credit line of `business_id`.
async fn read_lines(
    client: &GraphClient,
    business_id: Option<&str>,
    credit_line_id: Option<&str>,
) -> Result<Vec<CreditLine>, GraphError> {
    match (credit_line_id, business_id) {
        (Some(id), _) => Ok(vec![read_credit_line(client, id).await?]),
        (None, Some(b)) => list_credit_lines(client, b).await,
        (None, None) => Err(GraphError::new(
            ErrorKind::InvalidRequest,
            "Not sent: no business id and no credit line id to read credit lines of",
        )),
    }
}

/// `GET /{business-id}/extendedcredits` with [`CREDIT_LINE_FIELDS`], every page.
pub async fn list_credit_lines(
    client: &GraphClient,
    business_id: &str,
) -> Result<Vec<CreditLine>, GraphError> {
    check_id("business id", business_id)?;
    client
        .get_rows(
            &format!("{business_id}/extendedcredits"),
            &[("fields", CREDIT_LINE_FIELDS), ("limit", LIST_LIMIT)],
        )
        .await
}

/// Does `business_id` own at least one credit line? One cheap read,
/// `GET /{business-id}/extendedcredits?fields=id&limit=1`: what the `auto` partner kind is
/// decided from (a Solution Partner owns credit lines, a Tech Provider none; reference §4).
pub async fn owns_credit_lines(
    client: &GraphClient,
    business_id: &str,
) -> Result<bool, GraphError> {
    check_id("business id", business_id)?;
    let v = client
        .get(
            &format!("{business_id}/extendedcredits"),
            &[("fields", "id"), ("limit", "1")],
        )
        .await?;
    match v.get("data") {
        Some(Value::Array(items)) => Ok(!items.is_empty()),
        _ => Err(GraphError::new(
            ErrorKind::Transport,
            "Meta's answer did not have the expected shape: a list of credit lines",
        )),
    }
}

/// `GET /{credit-line-id}` with [`CREDIT_LINE_FIELDS`].
pub async fn read_credit_line(client: &GraphClient, id: &str) -> Result<CreditLine, GraphError> {
    check_id("credit line id", id)?;
    let v = client.get(id, &[("fields", CREDIT_LINE_FIELDS)]).await?;
    typed(v, "a credit line")
}

/// `GET /{credit-line-id}/owning_credit_allocation_configs` with [`ALLOCATION_FIELDS`], every
/// page, optionally only those of one customer business. A bare object instead of a list (as
/// Meta's revoke guide shows, §8 row 15) is read as one allocation.
pub async fn list_allocations(
    client: &GraphClient,
    credit_line_id: &str,
    receiving_business_id: Option<&str>,
) -> Result<Vec<AllocationConfig>, GraphError> {
    check_id("credit line id", credit_line_id)?;
    let mut query = vec![("fields", ALLOCATION_FIELDS), ("limit", LIST_LIMIT)];
    if let Some(b) = receiving_business_id {
        check_id("business id", b)?;
        query.push(("receiving_business_id", b));
    }
    client
        .get_rows(
            &format!("{credit_line_id}/owning_credit_allocation_configs"),
            &query,
        )
        .await
}

/// `GET /{allocation-config-id}` with [`ALLOCATION_FIELDS`]: how a revoke is verified.
pub async fn read_allocation(
    client: &GraphClient,
    id: &str,
) -> Result<AllocationConfig, GraphError> {
    check_id("allocation config id", id)?;
    let v = client.get(id, &[("fields", ALLOCATION_FIELDS)]).await?;
    typed(v, "an allocation config")
}

fn typed<T: serde::de::DeserializeOwned>(v: Value, what: &str) -> Result<T, GraphError> {
    serde_json::from_value(v).map_err(|e| {
        GraphError::new(
            ErrorKind::Transport,
            format!("Meta's answer did not have the expected shape: {what}: {e}"),
        )
    })
}

/// Refuse a currency Meta does not take, before anything is sent.
pub fn check_currency(currency: &str) -> Result<(), GraphError> {
    if WABA_CURRENCIES.contains(&currency) {
        Ok(())
    } else {
        Err(GraphError::new(
            ErrorKind::InvalidRequest,
            format!(
                "Not sent: {currency:?} is not a currency Meta accepts for a WABA ({})",
                WABA_CURRENCIES.join(", ")
            ),
        ))
    }
}

/// The path and query of a share-and-attach, as sent and as shown in a confirm dialog.
pub fn share_and_attach_path(credit_line_id: &str, waba_id: &str, currency: &str) -> String {
    format!(
        "{credit_line_id}/whatsapp_credit_sharing_and_attach?waba_id={waba_id}&waba_currency={currency}"
    )
}

/// What a share answered: the allocation config it made (or reused).
#[derive(Debug, Clone)]
pub struct ShareAnswer {
    pub allocation_config_id: Option<String>,
    pub response: MutationResponse,
}

fn id_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A share's answer must name an allocation (or say success); `success: false` or an
/// unexpected shape is not taken for a share.
fn share_answer(resp: MutationResponse, object_id: &str) -> Result<ShareAnswer, GraphError> {
    let allocation = id_of(resp.body.get("allocation_config_id"));
    if allocation.is_none() || resp.body.get("success") == Some(&Value::Bool(false)) {
        check_success(&resp, object_id)?;
    }
    Ok(ShareAnswer {
        allocation_config_id: allocation,
        response: resp,
    })
}

/// Share a credit line with the WABA's owner business and attach it to the WABA, in one call
/// (the current method, §4.6): `POST /{credit-line-id}/whatsapp_credit_sharing_and_attach
/// ?waba_id=…&waba_currency=…`, sent once. Not idempotent: on `OutcomeUnknown`, re-read.
pub async fn share_and_attach(
    client: &GraphClient,
    credit_line_id: &str,
    waba_id: &str,
    currency: &str,
) -> Result<ShareAnswer, GraphError> {
    attach_with(
        client,
        "whatsapp_credit_sharing_and_attach",
        credit_line_id,
        waba_id,
        currency,
    )
    .await
}

/// `POST /{credit-line-id}/{edge}?waba_id=…&waba_currency=…`, sent once: the two calls that
/// attach a line to a WABA differ only in their edge.
async fn attach_with(
    client: &GraphClient,
    edge: &str,
    credit_line_id: &str,
    waba_id: &str,
    currency: &str,
) -> Result<ShareAnswer, GraphError> {
    check_id("credit line id", credit_line_id)?;
    check_id("WABA id", waba_id)?;
    check_currency(currency)?;
    let resp = client
        .post(
            &format!("{credit_line_id}/{edge}"),
            &[("waba_id", waba_id), ("waba_currency", currency)],
            None,
        )
        .await?;
    share_answer(resp, credit_line_id)
}

/// The alternate method's first step (§4.6): `POST /{credit-line-id}/whatsapp_credit_sharing
/// ?receiving_business_id=…`, with our system token. Sent once.
pub async fn share(
    client: &GraphClient,
    credit_line_id: &str,
    receiving_business_id: &str,
) -> Result<ShareAnswer, GraphError> {
    check_id("credit line id", credit_line_id)?;
    check_id("business id", receiving_business_id)?;
    let resp = client
        .post(
            &format!("{credit_line_id}/whatsapp_credit_sharing"),
            &[("receiving_business_id", receiving_business_id)],
            None,
        )
        .await?;
    share_answer(resp, credit_line_id)
}

/// The alternate method's attach step (§4.6): `POST /{credit-line-id}/whatsapp_credit_attach
/// ?waba_id=…&waba_currency=…`, which Meta wants made with the customer's business token (the
/// client given). Sent once.
pub async fn attach(
    client: &GraphClient,
    credit_line_id: &str,
    waba_id: &str,
    currency: &str,
) -> Result<ShareAnswer, GraphError> {
    attach_with(
        client,
        "whatsapp_credit_attach",
        credit_line_id,
        waba_id,
        currency,
    )
    .await
}

/// Revoke an allocation: `DELETE /{allocation-config-id}`, sent once. It stops the sharing
/// for every WABA of that customer business (§4.6).
pub async fn revoke(
    client: &GraphClient,
    allocation_id: &str,
) -> Result<MutationResponse, GraphError> {
    check_id("allocation config id", allocation_id)?;
    let resp = client.delete(allocation_id, &[]).await?;
    check_success(&resp, allocation_id)?;
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_checked_before_sending() {
        assert!(check_currency("EUR").is_ok());
        let e = check_currency("BRL").unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidRequest);
        assert!(e.message.contains("AUD, EUR, GBP, IDR, INR, USD"), "{e:?}");
    }

    #[test]
    fn share_answers_are_read() {
        let resp = |body: Value| MutationResponse {
            http_status: 200,
            body,
            fbtrace_id: None,
        };
        let a = share_answer(
            resp(serde_json::json!({"allocation_config_id": 58, "waba_id": "1"})),
            "c",
        )
        .unwrap();
        assert_eq!(a.allocation_config_id.as_deref(), Some("58"));
        let a = share_answer(resp(serde_json::json!({"success": true})), "c").unwrap();
        assert_eq!(a.allocation_config_id, None);
        assert!(share_answer(resp(serde_json::json!({"success": false})), "c").is_err());
        assert!(
            share_answer(
                resp(serde_json::json!({"success": false, "allocation_config_id": "5"})),
                "c"
            )
            .is_err()
        );
        assert!(share_answer(resp(serde_json::json!({"weird": 1})), "c").is_err());
    }

    #[test]
    fn a_bare_allocation_object_reads_as_a_list_of_one() {
        // Meta's revoke guide shows the edge answering `{id, receiving_business}` (§8 row 15).
        let page = super::super::paging::parse_page(serde_json::json!({
            "id": "58", "receiving_business": {"id": "33", "name": "Acme"}
        }))
        .unwrap();
        assert_eq!(page.items.len(), 1);
        assert!(page.next.is_none());
        let a: AllocationConfig = typed(page.items[0].clone(), "an allocation").unwrap();
        assert_eq!((a.id.as_str(), a.business_id()), ("58", Some("33")));
        assert_eq!(a.credential_id(), None);
    }

    #[test]
    fn fields_ask_for_what_verification_needs() {
        assert!(ALLOCATION_FIELDS.contains("receiving_credential{id}"));
        assert!(ALLOCATION_FIELDS.contains("request_status"));
        assert_eq!(
            share_and_attach_path("1", "2", "EUR"),
            "1/whatsapp_credit_sharing_and_attach?waba_id=2&waba_currency=EUR"
        );
    }
}
