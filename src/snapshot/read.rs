//! The snapshot's reads: the solutions (list, then each detail a few at a time), our credit
//! lines, and the client WABAs page by page — each page with its per-WABA edges — handed on
//! as it is read, so that a 100,000-WABA book is never held whole.
//!
//! The page loop follows the list's `after` cursor with `GraphClient::get` (retries and
//! error handling as for any GET); `graph::wabas` reads the whole book at once, which is what
//! the console wants and the snapshot must not do. When that module offers pages, this loop
//! can use them.

use std::collections::HashSet;

use chrono::Utc;
use futures::{Stream, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::domain::solution::Solution;
use crate::graph::client::GraphClient;
use crate::graph::credit;
use crate::graph::credit_model::CreditLineData;
use crate::graph::error::{ErrorKind, GraphError};
use crate::graph::paging::{self, MAX_FRUITLESS_PAGES, MAX_PAGES};
use crate::graph::solutions::{self, check_id};
use crate::graph::waba_model::{Waba, WabaNode, share_subscribed};
use crate::graph::wabas::{LIST_LIMIT, WABA_FIELDS, read_extras};

use super::SnapshotError;
use super::book::WabaPage;

const DETAIL_CONCURRENCY: usize = 8;

/// Pages whose per-WABA edges are read at the same time (each is 4 batch requests); the
/// list itself is read one page after another, ahead of them.
pub const PAGES_IN_FLIGHT: usize = 4;

/// The solutions with their details, and the errors met; with the time the snapshot started.
pub async fn solutions(
    client: &GraphClient,
    app_id: &str,
) -> (String, Vec<Solution>, Vec<SnapshotError>) {
    let fetched_at = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut errors = vec![];
    let listed = match solutions::list_solutions(client, app_id).await {
        Ok(list) => list,
        Err(e) => {
            errors.push(SnapshotError::from_graph("solutions", &e));
            vec![]
        }
    };
    errors.extend(super::book::malformed_rows(
        "solutions",
        "solution row(s)",
        listed.iter().map(|s| (s.id(), s.node.malformed.as_deref())),
    ));
    let detailed: Vec<(Solution, Option<Result<Solution, GraphError>>)> =
        futures::stream::iter(listed)
            .map(|s| async move {
                // A malformed row has no id to ask about: it is printed as listed.
                if s.node.malformed.is_some() {
                    return (Solution::from(s), None);
                }
                let d = solutions::solution_detail(client, s.id()).await;
                let role = s.role;
                (
                    Solution::from(s),
                    Some(d.map(|node| Solution::new(node, role))),
                )
            })
            .buffered(DETAIL_CONCURRENCY)
            .collect()
            .await;
    let solutions = detailed
        .into_iter()
        .map(|(listed, detail)| match detail {
            None => listed,
            Some(Ok(d)) => d,
            Some(Err(e)) => {
                errors.push(SnapshotError::from_graph("solutions", &e));
                listed
            }
        })
        .collect();
    (fetched_at, solutions, errors)
}

/// Our credit lines: the one named, else every one of the business.
pub async fn credit_lines(
    client: &GraphClient,
    business_id: Option<&str>,
    credit_line_id: Option<&str>,
) -> Result<Vec<CreditLineData>, SnapshotError> {
    if business_id.is_none() && credit_line_id.is_none() {
        return Err(SnapshotError::local(
            "credit_lines",
            "No business id: give --business-id, PARTNERDECK_BUSINESS_ID or business_id in the config file (or --credit-line-id) to list the credit lines.",
        ));
    }
    credit::refresh(client, business_id, credit_line_id)
        .await
        .map_err(|e| SnapshotError::from_graph("credit_lines", &e))
}

/// The WABAs' error when there is no business id to list them with.
pub fn no_business_id() -> SnapshotError {
    SnapshotError::local(
        "wabas",
        "No business id: give --business-id, PARTNERDECK_BUSINESS_ID or business_id in the config file to list the client WABAs.",
    )
}

/// Read the client WABAs of `business_id` page by page into `pages` (each page with its
/// subscribed apps and solutions), until the list ends, fails (its error is the last
/// message), or the receiver is gone.
pub async fn waba_pages(
    client: GraphClient,
    business_id: String,
    partner_business_id: Option<String>,
    pages: mpsc::Sender<WabaPage>,
) {
    let client = &client;
    let read = list_pages(client, &business_id, partner_business_id.as_deref())
        .map(|page| async move {
            match page {
                Ok(nodes) => with_extras(client, nodes).await,
                Err(e) => WabaPage::Failed(e),
            }
        })
        .buffered(PAGES_IN_FLIGHT);
    let mut read = std::pin::pin!(read);
    while let Some(page) = read.next().await {
        let last = matches!(page, WabaPage::Failed(_));
        if pages.send(page).await.is_err() || last {
            break;
        }
    }
}

/// A page of nodes with their edges, read in Graph batches (`graph::wabas::read_extras`).
async fn with_extras(client: &GraphClient, nodes: Vec<WabaNode>) -> WabaPage {
    let ids: Vec<String> = nodes.iter().map(|n| n.id.to_string()).collect();
    let mut extras = read_extras(client, &ids).await;
    let mut extras_failed = vec![];
    let wabas = nodes
        .into_iter()
        .map(|node| {
            let (subscribed, solutions) = extras.remove(node.id.as_str()).unwrap_or_else(|| {
                let missing =
                    GraphError::new(ErrorKind::Transport, "The answer for this WABA was missing");
                (Err(missing.clone()), Err(missing))
            });
            Waba {
                subscribed_apps: keep(
                    subscribed.map(share_subscribed),
                    &node.id,
                    &mut extras_failed,
                ),
                solutions: keep(solutions, &node.id, &mut extras_failed)
                    .map(crate::graph::waba_model::share_solutions),
                node,
            }
        })
        .collect();
    WabaPage::Rows {
        wabas,
        extras_failed,
    }
}

fn keep<T>(
    r: Result<T, GraphError>,
    id: &str,
    failed: &mut Vec<(String, GraphError)>,
) -> Option<T> {
    r.map_err(|e| failed.push((id.to_string(), e))).ok()
}

/// Where the page loop is.
struct Cursor {
    after: Option<String>,
    done: bool,
    pages: usize,
    /// Pages in a row that brought nothing new.
    fruitless: usize,
    /// Ids already read (a row repeated on a later page is read once) and cursors already
    /// followed (one seen again would go round in circles).
    ids: SeenIds,
    afters: HashSet<String>,
}

/// The ids of a list, as numbers when they are (Graph ids are: 8 bytes each instead of a
/// string), as strings otherwise. At 100,000 WABAs this is most of what the reader keeps.
#[derive(Debug, Default)]
struct SeenIds {
    numbers: HashSet<u64>,
    others: HashSet<String>,
}

impl SeenIds {
    /// Whether `id` is new (and now seen).
    fn insert(&mut self, id: String) -> bool {
        // Only the canonical spelling as a number: "007" and "7" are different ids.
        match id.parse::<u64>() {
            Ok(n) if n.to_string() == id => self.numbers.insert(n),
            _ => self.others.insert(id),
        }
    }

    fn len(&self) -> usize {
        self.numbers.len() + self.others.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `GET /{business-id}/client_whatsapp_business_accounts` with the WABA fields, one page at a
/// time, each row typed (and its further phone-number pages read). The first error ends it.
fn list_pages<'a>(
    client: &'a GraphClient,
    business_id: &'a str,
    partner_business_id: Option<&'a str>,
) -> impl Stream<Item = Result<Vec<WabaNode>, SnapshotError>> + 'a {
    let start = Cursor {
        after: None,
        done: false,
        pages: 0,
        fruitless: 0,
        ids: SeenIds::default(),
        afters: HashSet::new(),
    };
    futures::stream::unfold(start, move |mut cursor| async move {
        if cursor.done {
            return None;
        }
        let page = next_page(client, business_id, partner_business_id, &mut cursor).await;
        if page.is_err() {
            cursor.done = true;
        }
        Some((page.map_err(|e| cut_short(&e, &cursor)), cursor))
    })
}

fn cut_short(e: &GraphError, cursor: &Cursor) -> SnapshotError {
    let mut error = SnapshotError::from_graph("wabas", e);
    if cursor.ids.is_empty() {
        return error;
    }
    error.cut_short = true;
    error.message = format!(
        "The list of client WABAs stopped after {} WABA(s) on {} page(s), so it is incomplete: {}",
        cursor.ids.len(),
        cursor.pages,
        error.message
    );
    error
}

async fn next_page(
    client: &GraphClient,
    business_id: &str,
    partner_business_id: Option<&str>,
    cursor: &mut Cursor,
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
    if let Some(a) = &cursor.after {
        query.push(("after", a));
    }
    let page = paging::parse_page(client.get(&path, &query).await?)?;
    cursor.pages += 1;
    let mut items = page.items;
    items.retain(|item| match item.get("id").and_then(id_string) {
        Some(id) => cursor.ids.insert(id),
        None => true,
    });
    cursor.fruitless = if items.is_empty() {
        cursor.fruitless + 1
    } else {
        0
    };
    // Meta's rule: no `next`, no more pages.
    match (page.next, page.after) {
        (None, _) => cursor.done = true,
        (Some(next), None) => {
            // A next page without a cursor: the client follows the link to the end (the
            // rest is held at once, which only such an answer costs).
            let rest = client
                .follow_pages(
                    json!({"data": [], "paging": {"next": next}}),
                    "client WABAs",
                )
                .await?;
            items.extend(rest.into_iter().filter(
                |item| match item.get("id").and_then(id_string) {
                    Some(id) => cursor.ids.insert(id),
                    None => true,
                },
            ));
            cursor.done = true;
        }
        (Some(_), Some(after)) => {
            if !cursor.afters.insert(after.clone()) {
                // The cursor did not advance: what was read is all there is.
                tracing::warn!(
                    pages = cursor.pages,
                    "client WABA list cursor did not advance; stopping with the WABAs read"
                );
                cursor.done = true;
            } else if cursor.fruitless >= MAX_FRUITLESS_PAGES {
                return Err(GraphError::new(
                    ErrorKind::Transport,
                    format!(
                        "Stopped reading a list after {} pages in a row brought nothing new: Meta kept sending more",
                        cursor.fruitless
                    ),
                ));
            } else if cursor.pages >= MAX_PAGES {
                return Err(GraphError::new(
                    ErrorKind::Transport,
                    format!(
                        "Stopped reading a list after {MAX_PAGES} pages: Meta kept sending more"
                    ),
                ));
            }
            cursor.after = Some(after);
        }
    }
    let mut nodes = Vec::with_capacity(items.len());
    for item in items {
        nodes.push(waba_node(client, item).await?);
    }
    Ok(nodes)
}

/// A WABA row: its further phone-number pages read, then typed; a row that does not read as
/// a WABA, or whose id is not plain, is kept with a `malformed` mark (as `graph::wabas` does).
async fn waba_node(client: &GraphClient, mut item: Value) -> Result<WabaNode, GraphError> {
    let plain = item
        .get("id")
        .and_then(Value::as_str)
        .is_some_and(crate::graph::model::is_plain_id);
    if plain
        && let Some(phones) = item.get_mut("phone_numbers")
        && phones.pointer("/paging/next").is_some_and(Value::is_string)
    {
        let first = phones.take();
        *phones = Value::Array(client.follow_pages(first, "phone_numbers").await?);
    }
    Ok(crate::graph::model::decode_row(&item))
}

fn id_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_ids_tell_numbers_and_other_spellings_apart() {
        let mut seen = SeenIds::default();
        assert!(seen.insert("1045000000000101".into()));
        assert!(!seen.insert("1045000000000101".into()));
        assert!(seen.insert("007".into()));
        assert!(seen.insert("7".into()));
        assert!(!seen.insert("007".into()));
        assert!(seen.insert("abc".into()));
        assert!(seen.insert("99999999999999999999999".into()));
        assert_eq!(seen.len(), 5);
    }
}
