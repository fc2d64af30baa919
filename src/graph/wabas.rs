//! Client WABA calls (reference §3): the book in rounds, one WABA re-read, and the two
//! onboarding actions (subscribe our app, register a phone number).
//!
//! A round costs: the pages of `client_whatsapp_business_accounts` (100 WABAs a page, phone
//! numbers expanded in the same call), one request per further page of a WABA's numbers, and
//! one Graph batch per 25 WABAs whose edges are read (`subscribed_apps` and `solutions`, two
//! operations each, 50 to a batch). Edges are read only for WABAs that are new, whose list
//! fields changed, whose edges are unknown, that a webhook named, or whose turn in the
//! rolling re-check it is ([`BookMemory`]): a round of an unchanged book of N WABAs costs
//! N/100 list pages and a few batches. Batches run beside the list, at most
//! `read_concurrency` at once. Nor is an unchanged WABA decoded: pages are read as text, and
//! a row whose text has the fingerprint its WABA was decoded from is that WABA (the same
//! `Arc`); only the other rows are decoded ([`RoundResult::decoded`]). Nor, mostly, is its
//! page sent again: a page is asked for with its `ETag`, and `304 Not Modified` is the
//! remembered page's WABAs as they are (see [`paging::PageMemo`](super::paging::PageMemo);
//! inferred, not documented, for list edges). The list is read by a task of its own a couple
//! of pages ahead, so the next page is on its way while this one is taken in.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::client::{BatchGet, GraphClient, ListPage, ListReader, MAX_BATCH, MutationResponse};
use super::error::{ErrorKind, GraphError};
use super::model::SolutionNode;
use super::paging::{Fingerprint, MemoRow, PageMemo, QuickMap, QuickSet, RowAt, id_key};
use super::solutions::{check_id, check_success};
use super::waba_model::{
    Compact, Pin, SubscribedApp, Waba, WabaNode, share_solutions, share_subscribed,
};

/// The phone-number fields of the issue, asked for inside the WABA call.
pub const PHONE_FIELDS: &str = "id,display_phone_number,verified_name,quality_rating,status,code_verification_status,name_status,platform_type,throughput,health_status";

/// Every WABA field the pane and the snapshot show, with up to 100 numbers expanded
/// (`phone_numbers.limit(100){PHONE_FIELDS}`): the expansion's default of 25 would cost a
/// further request for every larger WABA, every round.
pub const WABA_FIELDS: &str = "id,name,currency,timezone_id,message_template_namespace,account_review_status,business_verification_status,ownership_type,primary_funding_id,owner_business_info,country,creation_time,status,health_status,is_shared_with_partners,whatsapp_business_manager_messaging_limit,phone_numbers.limit(100){id,display_phone_number,verified_name,quality_rating,status,code_verification_status,name_status,platform_type,throughput,health_status}";

/// The solution fields read on `GET /{waba-id}/solutions`.
pub const SOLUTION_FIELDS: &str = "id,name,status,status_for_pending_request,owner_app";

/// Page size of the WABA list (the edge's maximum, §1.6).
pub const LIST_LIMIT: &str = "100";

/// WABAs whose edges go in one batch: two operations each.
pub const WABAS_PER_BATCH: usize = MAX_BATCH / 2;

/// The default of `read_concurrency`: independent reads in flight at once.
pub const DEFAULT_READ_CONCURRENCY: usize = 4;

/// Completed WABAs handed on together while a round runs: the first list page goes out at
/// once, later ones in groups this large, so a book of 100,000 is a couple of hundred
/// messages, not a thousand.
const PAGE_GROUP: usize = 500;

/// Completed WABAs wait at most about this long before they are handed on.
const UPDATE_EVERY: Duration = Duration::from_millis(250);

/// With no WABA to hand on, the count of rows read goes out at most this often: each update
/// wakes the console for a frame, and a steady round of 100,000 unchanged WABAs has 1,000
/// pages.
const COUNT_EVERY: Duration = Duration::from_secs(1);

/// The whole book of client WABAs, as one refresh read it.
#[derive(Debug, Clone, Default)]
pub struct WabaBook {
    pub wabas: Vec<Waba>,
    /// Per-WABA edges that could not be read, by WABA id (their `subscribed_apps` or
    /// `solutions` is then `None`). The list itself was read in full.
    pub extras_failed: Vec<(String, GraphError)>,
}

/// How a round reads.
#[derive(Debug, Clone)]
pub struct RoundOptions {
    /// Batches (and further pages of phone numbers) in flight at once; at least 1.
    pub read_concurrency: usize,
    /// Unchanged WABAs whose edges are read again this round: the rolling re-check (see
    /// [`recheck_per_round`]).
    pub recheck: usize,
}

impl Default for RoundOptions {
    fn default() -> RoundOptions {
        RoundOptions {
            read_concurrency: DEFAULT_READ_CONCURRENCY,
            recheck: 0,
        }
    }
}

/// How many unchanged WABAs a round re-checks so that a book of `book` WABAs polled every
/// `interval` is re-checked whole once per `period` (at least one while the book is not
/// empty).
pub fn recheck_per_round(
    book: usize,
    interval: std::time::Duration,
    period: std::time::Duration,
) -> usize {
    if book == 0 {
        return 0;
    }
    let rounds = (period.as_secs_f64() / interval.as_secs_f64().max(0.001)).max(1.0);
    ((book as f64 / rounds).ceil() as usize).clamp(1, book)
}

/// What other reads learned about WABAs for the poller's next round: an action's re-read
/// (the WABA with its edges, and the order number of the read), and ids a webhook named
/// (their edges are read again). Cheap to clone; shared by the poller and the action tasks.
#[derive(Debug, Clone, Default)]
pub struct WabaInbox(Arc<Mutex<Inbox>>);

/// The most hints an inbox holds: with no poller draining it (no business id), it stays
/// small; past it, the rolling re-check still gets to every WABA.
const INBOX_CAP: usize = 10_000;

#[derive(Debug, Default)]
struct Inbox {
    reread: Vec<(Waba, u64)>,
    stale: HashSet<String>,
}

impl WabaInbox {
    /// A WABA read whole (node and edges) by a read numbered `read` (a `ReadStamp`).
    pub fn reread(&self, waba: Waba, read: u64) {
        if let Ok(mut i) = self.0.lock()
            && i.reread.len() < INBOX_CAP
        {
            i.reread.push((waba, read));
        }
    }

    /// These WABAs changed (a webhook said so): read their edges in the next round.
    pub fn stale(&self, ids: impl IntoIterator<Item = String>) {
        if let Ok(mut i) = self.0.lock() {
            for id in ids {
                if i.stale.len() >= INBOX_CAP {
                    break;
                }
                i.stale.insert(id);
            }
        }
    }

    fn take(&self) -> Inbox {
        self.0
            .lock()
            .map(|mut i| std::mem::take(&mut *i))
            .unwrap_or_default()
    }
}

/// What earlier rounds learned, kept by the poller between rounds: each WABA as last read
/// with its edges, shared (`Arc`) with the console's rows, and the fingerprint of the list
/// row it was decoded from, so an unchanged WABA costs no call, no copy and no decoding.
#[derive(Debug, Default)]
pub struct BookMemory {
    /// By the key of the WABA's id ([`id_key`]: the key the list is de-duplicated by, so
    /// two ids of one list never share one); the id itself is the WABA's.
    known: QuickMap<u64, Known>,
    /// Counts rounds: a WABA the current round listed has it as `listed`.
    rounds: u64,
    /// The keys of the ids in the order of the last complete list: the rolling re-check
    /// walks it.
    order: Vec<u64>,
    cursor: usize,
    /// How many WABAs the last complete list had.
    last_total: Option<usize>,
    /// Ids whose edges the next round reads (a webhook named them).
    stale: HashSet<String>,
    /// The pages of the last list, by position, that can be asked for with their tag.
    pages: Vec<Option<PageMemo>>,
}

#[derive(Debug, Clone)]
struct Known {
    waba: Arc<Waba>,
    /// The order number of the read that established it.
    read: u64,
    /// The fingerprint of the list row's text it was decoded from (`paging::fingerprint`):
    /// the same text again decodes to the same WABA. `None` when it came from elsewhere (a
    /// re-read) or its numbers needed further pages (the row's text does not hold them all).
    row: Option<Fingerprint>,
    /// The last round that listed it ([`BookMemory::rounds`]).
    listed: u64,
}

impl BookMemory {
    /// How many WABAs the last complete list had (`None` before one completed).
    pub fn last_total(&self) -> Option<usize> {
        self.last_total
    }

    /// Take in what the inbox holds: a re-read replaces what is known unless a later read
    /// established that; named ids are read again.
    fn absorb(&mut self, inbox: &WabaInbox) -> Vec<Arc<Waba>> {
        let Inbox { reread, stale } = inbox.take();
        self.stale.extend(stale);
        let mut learned = vec![];
        for (waba, read) in reread {
            if waba.node.malformed.is_some() || !super::model::is_plain_id(waba.id()) {
                continue;
            }
            let id = id_key(waba.id());
            if self.known.get(&id).is_some_and(|k| k.read > read) {
                continue;
            }
            let waba = Arc::new(waba);
            learned.push(waba.clone());
            let listed = self.known.get(&id).map_or(0, |k| k.listed);
            self.known.insert(
                id,
                Known {
                    waba,
                    read,
                    row: None,
                    listed,
                },
            );
        }
        learned
    }

    /// The remembered pages (taken: the round remembers its own) each with the WABAs read
    /// from it, for those whose every row is still the WABA read from that row's text (a
    /// re-read replaced none); `None` for the others. Edges due are read all the same.
    #[allow(clippy::type_complexity)]
    fn reusable_pages(&mut self) -> (Vec<Option<PageMemo>>, Vec<Option<Vec<Arc<Waba>>>>) {
        let pages = std::mem::take(&mut self.pages);
        let mut wabas = Vec::with_capacity(pages.len());
        let memos = pages
            .into_iter()
            .map(|memo| {
                let known: Option<Vec<Arc<Waba>>> = memo.as_ref().and_then(|m| {
                    m.rows
                        .iter()
                        .map(|row| {
                            self.known
                                .get(&row.key)
                                .filter(|k| k.row == Some(row.text))
                                .map(|k| k.waba.clone())
                        })
                        .collect()
                });
                let memo = memo.filter(|_| known.is_some());
                wabas.push(known);
                memo
            })
            .collect();
        (memos, wabas)
    }

    /// The keys of the next `n` ids of the rolling re-check.
    fn recheck_slice(&mut self, n: usize) -> QuickSet<u64> {
        let len = self.order.len();
        if len == 0 || n == 0 {
            return QuickSet::default();
        }
        let n = n.min(len);
        let start = self.cursor % len;
        self.cursor = (start + n) % len;
        (0..n).map(|k| self.order[(start + k) % len]).collect()
    }
}

/// Progress of a round, handed on while it runs: the WABAs completed since the last update
/// (new or changed; an unchanged WABA is not sent again), how many rows of the list have been
/// read, and how many the last complete list had.
#[derive(Debug, Clone)]
pub struct PageUpdate {
    pub wabas: Vec<Arc<Waba>>,
    pub listed: usize,
    pub expected: Option<usize>,
}

/// The end of a round whose list was read in full.
#[derive(Debug, Clone)]
pub struct RoundResult {
    /// Every listed WABA in Meta's order, with its edges (read now or kept from before).
    pub wabas: Vec<Arc<Waba>>,
    /// Edges that could not be read this round, by WABA id (the WABA keeps what an earlier
    /// round knew of them, or `None`).
    pub extras_failed: Vec<(String, GraphError)>,
    /// WABAs whose edges were read this round.
    pub extras_read: usize,
    /// HTTP requests the round sent, retries included.
    pub requests: u64,
    /// List rows decoded this round: the new and changed ones, those with further pages of
    /// numbers, odd rows, those a re-read replaced. The others were recognised by their text
    /// (or their page was not modified) and are the very `Arc` of the round before, or that
    /// WABA with its edges read again when they were due.
    pub decoded: usize,
    /// Throttled or a dead token while reading edges: the remaining edges were not asked for.
    pub halted: Option<GraphError>,
}

/// One refresh: every client WABA of `business_id` (only those also shared with
/// `partner_business_id`, when given) with all their phone numbers, then the subscribed apps
/// and onboarding solutions of each, in batches. A full read with nothing remembered: the
/// console's poller uses [`refresh_round`] instead.
pub async fn refresh(
    client: &GraphClient,
    business_id: &str,
    partner_business_id: Option<&str>,
) -> Result<WabaBook, GraphError> {
    let mut memory = BookMemory::default();
    let round = refresh_round(
        client,
        business_id,
        partner_business_id,
        &mut memory,
        &WabaInbox::default(),
        0,
        &RoundOptions::default(),
        |_| {},
    )
    .await?;
    drop(memory);
    Ok(WabaBook {
        wabas: round
            .wabas
            .into_iter()
            .map(|w| Arc::try_unwrap(w).unwrap_or_else(|w| (*w).clone()))
            .collect(),
        extras_failed: round.extras_failed,
    })
}

/// A call's path and query.
type Call = (String, Vec<(&'static str, String)>);

/// The list call of `business_id`'s client WABAs: its path and query.
fn list_call(business_id: &str, partner_business_id: Option<&str>) -> Result<Call, GraphError> {
    check_id("business id", business_id)?;
    let mut query = vec![
        ("fields", WABA_FIELDS.to_string()),
        ("limit", LIST_LIMIT.to_string()),
    ];
    if let Some(p) = partner_business_id {
        check_id("partner business id", p)?;
        let f = json!([{"field": "partners", "operator": "ALL", "value": [p]}]).to_string();
        query.push(("filtering", f));
    }
    Ok((
        format!("{business_id}/client_whatsapp_business_accounts"),
        query,
    ))
}

/// One round (see the module's words): the list page by page, each page's rows typed at once;
/// edges for the WABAs that need them in batches beside the list; `on_page` told as WABAs
/// complete. `read` numbers this round's reads (a `ReadStamp`): what `inbox` brings from a
/// later read wins. When the list fails part way, what completed stays in `memory` and no WABA
/// is forgotten; only a complete list forgets the WABAs it no longer has.
#[allow(clippy::too_many_arguments)]
pub async fn refresh_round<F: FnMut(PageUpdate)>(
    client: &GraphClient,
    business_id: &str,
    partner_business_id: Option<&str>,
    memory: &mut BookMemory,
    inbox: &WabaInbox,
    read: u64,
    opts: &RoundOptions,
    mut on_page: F,
) -> Result<RoundResult, GraphError> {
    let tally = Arc::new(AtomicU64::new(0));
    let client = client.counting(tally.clone());
    let concurrency = opts.read_concurrency.max(1);
    let (path, query) = list_call(business_id, partner_business_id)?;
    let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let reader = client.list_reader(&path, &query)?;

    memory.absorb(inbox);
    memory.rounds += 1;
    let recheck = memory.recheck_slice(opts.recheck);
    let stale = std::mem::take(&mut memory.stale);
    // Pages remembered whole whose rows are all still the WABAs read from them: asked for
    // with their tag, and a 304 is those WABAs as they are (those due get their edges read).
    let (memos, mut reusable) = memory.reusable_pages();
    // The list is read by a task of its own, a few pages ahead: the next page is asked for
    // while this one is taken in, and waiting for a batch never holds the list up.
    let (pages_tx, mut pages_rx) = tokio::sync::mpsc::channel(LIST_AHEAD);
    let reader = reader
        .remembering(memos)
        .expecting(memory.last_total.unwrap_or(0));
    let reading = AbortOnDrop(tokio::spawn(read_list(reader, pages_tx)));
    let mut round = Round {
        client: client.clone(),
        tally,
        read,
        concurrency,
        slots: Vec::with_capacity(memory.last_total.unwrap_or(0)),
        queue: vec![],
        waiting: VecDeque::new(),
        batches: JoinSet::new(),
        fresh: vec![],
        failed: vec![],
        extras_read: 0,
        decoded: 0,
        halted: None,
    };
    let expected = memory.last_total;
    let mut memos_now: Vec<Option<PageMemo>> = Vec::with_capacity(reusable.len());
    let mut last_update: Option<Instant> = None;
    let mut last_count: Option<Instant> = None;
    loop {
        let next = tokio::select! {
            biased;
            page = pages_rx.recv() => Next::Page(page),
            Some(done) = round.batches.join_next(), if !round.batches.is_empty() => Next::Batch(done),
        };
        let page = match next {
            Next::Batch(done) => {
                if let Ok(done) = done {
                    round.complete(done, memory);
                }
                round.pump(memory);
                continue;
            }
            Next::Page(None) => break,
            Next::Page(Some(page)) => page?,
        };
        let position = memos_now.len();
        let memo = match page {
            ListPage::Same { memo, fresh } => {
                // Not modified: the WABAs remembered for it, as they are.
                let wabas = reusable
                    .get_mut(position)
                    .and_then(Option::take)
                    .ok_or_else(|| {
                        GraphError::new(
                            ErrorKind::Transport,
                            "A page Meta said was not modified was not remembered",
                        )
                    })?;
                for ((row, waba), fresh) in memo.rows.iter().zip(wabas).zip(&fresh) {
                    if !*fresh {
                        continue;
                    }
                    if edges_due(row.key, &waba, &recheck, &stale) {
                        round.take_due(row.key, &waba, row.text, memory);
                    } else {
                        round.slots.push((Some(row.key), Some(waba)));
                    }
                }
                fresh.iter().all(|f| *f).then_some(memo)
            }
            ListPage::Text {
                text,
                rows,
                whole,
                request,
                etag,
                next,
                after,
            } => {
                let first_slot = round.slots.len();
                let prints = round
                    .take_text(&text, &rows, memory, &recheck, &stale)
                    .await?;
                // Remembered when Meta tagged it and every row is a WABA read from its text
                // alone (not a malformed row, not one with further pages of numbers).
                let ids = &round.slots[first_slot..];
                match etag {
                    Some(etag) if whole && prints.iter().all(Option::is_some) => ids
                        .iter()
                        .zip(&prints)
                        .map(|((key, _), print)| {
                            Some(MemoRow {
                                key: (*key)?,
                                text: (*print)?,
                            })
                        })
                        .collect::<Option<Box<[_]>>>()
                        .map(|rows| PageMemo {
                            request,
                            etag: etag.into(),
                            rows,
                            next: next.map(Into::into),
                            after: after.map(Into::into),
                        }),
                    _ => None,
                }
            }
        };
        memos_now.push(memo);
        round.collect_finished(memory);
        // The first rows as soon as they are complete, then in groups; the count now and then.
        let pages = memos_now.len();
        let rows_due = !round.fresh.is_empty()
            && (last_update.is_none()
                || round.fresh.len() >= PAGE_GROUP
                || last_update.is_some_and(|t| t.elapsed() >= UPDATE_EVERY));
        let count_due = last_count.is_none_or(|t| t.elapsed() >= COUNT_EVERY);
        if rows_due || pages == 1 || count_due {
            if !round.fresh.is_empty() {
                last_update = Some(Instant::now());
            }
            last_count = Some(Instant::now());
            on_page(PageUpdate {
                wabas: std::mem::take(&mut round.fresh),
                listed: round.slots.len(),
                expected,
            });
        }
    }
    drop(reading);
    // Re-reads and webhooks that came in while the list was read: a named WABA has its
    // edges read now, a re-read replaces what this round kept from before.
    let learned = memory.absorb(inbox);
    let late = std::mem::take(&mut memory.stale);
    round.take_late(memory, learned, &late);
    round.flush(memory).await;
    if !round.fresh.is_empty() {
        on_page(PageUpdate {
            wabas: std::mem::take(&mut round.fresh),
            listed: round.slots.len(),
            expected,
        });
    }
    memory.pages = memos_now;
    round.finish(memory)
}

/// List pages read ahead of the round that takes them in.
const LIST_AHEAD: usize = 2;

/// What the round takes in next.
enum Next {
    Page(Option<Result<ListPage, GraphError>>),
    Batch(Result<EdgesRead, tokio::task::JoinError>),
}

/// Read the list page after page into `pages` until it ends, fails, or nobody listens.
async fn read_list(
    mut reader: ListReader,
    pages: tokio::sync::mpsc::Sender<Result<ListPage, GraphError>>,
) {
    loop {
        let page = reader.next_list_page().await;
        let last = !matches!(page, Ok(Some(_)));
        let Some(page) = page.transpose() else {
            return;
        };
        if pages.send(page).await.is_err() || last {
            return;
        }
    }
}

/// A task stopped when its handle goes (a round that fails or ends stops its list reader).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Whether a remembered WABA (its id's key `key`) has its edges read this round:
/// re-checked, named by a webhook, or not known.
fn edges_due(key: u64, waba: &Waba, recheck: &QuickSet<u64>, stale: &HashSet<String>) -> bool {
    waba.subscribed_apps.is_none()
        || waba.solutions.is_none()
        || recheck.contains(&key)
        || (!stale.is_empty() && stale.contains(waba.id()))
}

/// A listed row as [`BookMemory::recognise`] found it.
enum ListedRow {
    /// The same text as the row this WABA was decoded from, and nothing due: taken as is.
    Known(u64, Arc<Waba>, Fingerprint),
    /// The same text, its edges due (re-check, webhook, unknown): the WABA as it is, its
    /// edges to read.
    Due(u64, Arc<Waba>, Fingerprint),
    /// To decode: the row as JSON, and the fingerprint of its text.
    New(Value, Fingerprint),
}

/// A listed row, ready for the round.
enum Taken {
    Known(u64, Arc<Waba>, Fingerprint),
    Due(u64, Arc<Waba>, Fingerprint),
    /// Decoded, with the fingerprint of its text when that text held the whole WABA.
    Decoded(Box<WabaNode>, Option<Fingerprint>),
}

impl ListedRow {
    async fn take(self, client: &GraphClient) -> Result<Taken, GraphError> {
        match self {
            ListedRow::Known(id, waba, print) => Ok(Taken::Known(id, waba, print)),
            ListedRow::Due(id, waba, print) => Ok(Taken::Due(id, waba, print)),
            ListedRow::New(item, fingerprint) => {
                let (node, paged) = waba_node(client, item).await?;
                Ok(Taken::Decoded(
                    Box::new(node),
                    (!paged).then_some(fingerprint),
                ))
            }
        }
    }
}

impl BookMemory {
    /// A listed row whose text is the one this WABA was last decoded from, with its edges
    /// known and none due this round, is that WABA: no decoding, no copy.
    fn recognise(
        &self,
        client: &GraphClient,
        text: &str,
        id: Option<&str>,
        recheck: &QuickSet<u64>,
        stale: &HashSet<String>,
    ) -> Result<ListedRow, GraphError> {
        let fingerprint = super::paging::fingerprint(text);
        let known = id
            .map(id_key)
            .and_then(|key| Some((key, self.known.get(&key)?)))
            .filter(|(_, k)| k.row == Some(fingerprint));
        if let Some((key, k)) = known {
            let waba = k.waba.clone();
            // The same text: the same WABA, whose edges may be due all the same.
            return Ok(if edges_due(key, &waba, recheck, stale) {
                ListedRow::Due(key, waba, fingerprint)
            } else {
                ListedRow::Known(key, waba, fingerprint)
            });
        }
        Ok(ListedRow::New(client.row_value(text)?, fingerprint))
    }
}

/// The state of one round.
struct Round {
    client: GraphClient,
    tally: Arc<AtomicU64>,
    read: u64,
    concurrency: usize,
    /// Per listed row, in Meta's order: its id (when plain) and the WABA once complete.
    slots: Vec<Slot>,
    /// Listed WABAs waiting for their edges.
    queue: Vec<Queued>,
    /// Batches waiting for a place among the `concurrency` in flight.
    waiting: VecDeque<Vec<Queued>>,
    batches: JoinSet<EdgesRead>,
    /// Completed since the last `on_page`.
    fresh: Vec<Arc<Waba>>,
    failed: Vec<(String, GraphError)>,
    extras_read: usize,
    decoded: usize,
    halted: Option<GraphError>,
}

/// A listed row: the key of its id (when plain) and the WABA once complete.
type Slot = (Option<u64>, Option<Arc<Waba>>);

/// A listed WABA waiting for its edges: its slot, node, and its row's fingerprint.
type Queued = (usize, WabaNode, Option<Fingerprint>);

/// One batch's WABAs with what was read of their edges.
type EdgesRead = (Vec<Queued>, HashMap<String, Extras>);

impl Round {
    /// A page read as text: each row recognised or decoded and put in its slot. The
    /// fingerprint of each row's text when the row's WABA is read from it alone.
    async fn take_text(
        &mut self,
        text: &str,
        rows: &[RowAt],
        memory: &mut BookMemory,
        recheck: &QuickSet<u64>,
        stale: &HashSet<String>,
    ) -> Result<Vec<Option<Fingerprint>>, GraphError> {
        let client = self.client.clone();
        let listed: Vec<ListedRow> = rows
            .iter()
            .map(|row| memory.recognise(&client, row.text(text), row.id(text), recheck, stale))
            .collect::<Result<_, _>>()?;
        let taken: Vec<Taken> = if !listed.iter().any(|r| matches!(r, ListedRow::New(..))) {
            // The steady page: nothing to decode or read, so no futures either.
            listed
                .into_iter()
                .filter_map(|r| match r {
                    ListedRow::Known(id, waba, print) => Some(Taken::Known(id, waba, print)),
                    ListedRow::Due(id, waba, print) => Some(Taken::Due(id, waba, print)),
                    ListedRow::New(..) => None,
                })
                .collect()
        } else {
            futures::stream::iter(listed)
                .map(|row| row.take(&client))
                .buffered(self.concurrency)
                .try_collect()
                .await?
        };
        let mut prints = Vec::with_capacity(taken.len());
        for row in taken {
            match row {
                Taken::Known(id, waba, print) => {
                    self.slots.push((Some(id), Some(waba)));
                    prints.push(Some(print));
                }
                Taken::Due(id, waba, print) => {
                    self.take_due(id, &waba, print, memory);
                    prints.push(Some(print));
                }
                Taken::Decoded(node, print) => {
                    self.decoded += 1;
                    self.take_node(*node, print, memory, recheck, stale);
                    prints.push(print);
                }
            }
        }
        Ok(prints)
    }

    /// A remembered WABA whose edges are due: queued for them as it is (not decoded again).
    fn take_due(&mut self, id: u64, waba: &Waba, print: Fingerprint, memory: &mut BookMemory) {
        let slot = self.slots.len();
        self.slots.push((Some(id), None));
        self.queue.push((slot, waba.node.clone(), Some(print)));
        if self.queue.len() >= WABAS_PER_BATCH {
            self.dispatch(memory);
        }
    }

    /// A listed row: kept as known when nothing says its edges changed, else queued for them.
    fn take_node(
        &mut self,
        node: WabaNode,
        fingerprint: Option<Fingerprint>,
        memory: &mut BookMemory,
        recheck: &QuickSet<u64>,
        stale: &HashSet<String>,
    ) {
        let slot = self.slots.len();
        if let Err(e) = check_id("WABA id", &node.id) {
            // Never part of a path: its edges are unknown, the others' are read.
            self.failed.push((node.id.to_string(), e.clone()));
            self.failed.push((node.id.to_string(), e));
            let waba = Arc::new(Waba {
                node,
                subscribed_apps: None,
                solutions: None,
            });
            self.fresh.push(waba.clone());
            self.slots.push((None, Some(waba)));
            return;
        }
        let id = id_key(&node.id);
        let due = recheck.contains(&id) || stale.contains(node.id.as_str());
        let unchanged = memory.known.get_mut(&id).filter(|k| {
            k.waba.node == node
                && k.waba.subscribed_apps.is_some()
                && k.waba.solutions.is_some()
                && !due
        });
        if let Some(k) = unchanged {
            // Read differently (or first since a re-read), the same WABA: its text is
            // remembered for the next round.
            k.row = fingerprint;
            self.slots.push((Some(id), Some(k.waba.clone())));
            return;
        }
        self.slots.push((Some(id), None));
        self.queue.push((slot, node, fingerprint));
        if self.queue.len() >= WABAS_PER_BATCH {
            self.dispatch(memory);
        }
    }

    /// The queued WABAs' edges become one batch, sent when a place is free.
    fn dispatch(&mut self, memory: &mut BookMemory) {
        if !self.queue.is_empty() {
            self.waiting.push_back(std::mem::take(&mut self.queue));
        }
        self.pump(memory);
    }

    /// Send waiting batches while fewer than `concurrency` are in flight.
    fn pump(&mut self, memory: &mut BookMemory) {
        while self.batches.len() < self.concurrency
            && let Some(queued) = self.waiting.pop_front()
        {
            if let Some(e) = &self.halted {
                // Throttled or a dead token: more calls would only extend the block.
                let out = queued
                    .iter()
                    .map(|(_, n, _)| (n.id.to_string(), (Err(e.clone()), Err(e.clone()))))
                    .collect();
                self.complete((queued, out), memory);
                continue;
            }
            let client = self.client.clone();
            self.batches.spawn(async move {
                let ids: Vec<String> = queued.iter().map(|(_, n, _)| n.id.to_string()).collect();
                let out = read_extras(&client, &ids).await;
                (queued, out)
            });
        }
    }

    /// Take in the batches that have finished, without waiting, and send waiting ones.
    fn collect_finished(&mut self, memory: &mut BookMemory) {
        while let Some(Ok(done)) = self.batches.try_join_next() {
            self.complete(done, memory);
        }
        self.pump(memory);
    }

    /// WABAs with their edges read: what failed keeps what was known before.
    fn complete(&mut self, (nodes, mut out): EdgesRead, memory: &mut BookMemory) {
        for (slot, node, row) in nodes {
            let (subscribed, solutions) = out
                .remove(node.id.as_str())
                .unwrap_or_else(|| (Err(missing()), Err(missing())));
            let Some(id) = self.slots[slot].0 else {
                continue;
            };
            let known = memory.known.get(&id);
            if let Some(k) = known.filter(|k| k.read > self.read) {
                // A later read (an action's re-read) established it meanwhile.
                self.slots[slot].1 = Some(k.waba.clone());
                continue;
            }
            let before = known.map(|k| k.waba.clone());
            let mut halt = |e: &GraphError| {
                if matches!(e.kind, ErrorKind::Throttled | ErrorKind::AuthExpired)
                    && self.halted.is_none()
                {
                    self.halted = Some(e.clone());
                }
            };
            let subscribed_apps = match subscribed {
                Ok(v) => Some(share_subscribed(v)),
                Err(e) => {
                    halt(&e);
                    self.failed.push((node.id.to_string(), e));
                    before.as_ref().and_then(|b| b.subscribed_apps.clone())
                }
            };
            let solutions = match solutions {
                Ok(v) => Some(share_solutions(v)),
                Err(e) => {
                    halt(&e);
                    self.failed.push((node.id.to_string(), e));
                    before.as_ref().and_then(|b| b.solutions.clone())
                }
            };
            self.extras_read += 1;
            let waba = Waba {
                node,
                subscribed_apps,
                solutions,
            };
            let waba = match before {
                // Re-checked and the same: the rows built from it stay as they are.
                Some(b) if *b == waba => b,
                _ => {
                    let w = Arc::new(waba);
                    self.fresh.push(w.clone());
                    w
                }
            };
            memory.known.insert(
                id,
                Known {
                    waba: waba.clone(),
                    read: self.read,
                    row,
                    listed: memory.rounds,
                },
            );
            self.slots[slot].1 = Some(waba);
        }
    }

    /// After the list: re-reads replace the WABAs they name, named WABAs get their edges read.
    fn take_late(
        &mut self,
        memory: &mut BookMemory,
        learned: Vec<Arc<Waba>>,
        stale: &HashSet<String>,
    ) {
        if learned.is_empty() && stale.is_empty() {
            return;
        }
        let learned: QuickMap<u64, &Arc<Waba>> =
            learned.iter().map(|w| (id_key(w.id()), w)).collect();
        let queued: HashSet<usize> = self.queue.iter().map(|(s, _, _)| *s).collect();
        for slot in 0..self.slots.len() {
            let Some(id) = self.slots[slot].0 else {
                continue;
            };
            if let Some(w) = learned.get(&id)
                && self.slots[slot].1.is_some()
            {
                self.slots[slot].1 = Some((*w).clone());
            }
            if let Some(w) = self.slots[slot].1.clone()
                && !queued.contains(&slot)
                && stale.contains(w.id())
            {
                let row = memory.known.get(&id).and_then(|k| k.row);
                self.queue.push((slot, w.node.clone(), row));
                if self.queue.len() >= WABAS_PER_BATCH {
                    self.dispatch(memory);
                }
            }
        }
    }

    /// Send what is queued and wait for every batch.
    async fn flush(&mut self, memory: &mut BookMemory) {
        self.dispatch(memory);
        loop {
            match self.batches.join_next().await {
                Some(Ok(done)) => self.complete(done, memory),
                Some(Err(_)) => {}
                None if self.waiting.is_empty() => break,
                None => {}
            }
            self.pump(memory);
        }
    }

    /// The list completed: forget the WABAs it no longer has, and say what the round read.
    fn finish(self, memory: &mut BookMemory) -> Result<RoundResult, GraphError> {
        // The ids in list order are kept for the rolling re-check (the old list's vector is
        // reused), the WABAs go to the console: shared, never copied.
        let mut order = std::mem::take(&mut memory.order);
        order.clear();
        order.reserve(self.slots.len());
        let mut wabas = Vec::with_capacity(self.slots.len());
        let round = memory.rounds;
        // Every slot with a plain id and a WABA has its id in the memory, and the list's ids
        // are distinct (the walk drops repeats): as many slots as known WABAs means every
        // known WABA was listed. Then nothing is forgotten, and one pass over the memory
        // marks them instead of a look-up per WABA.
        let all_listed = self.slots.len() == memory.known.len()
            && self
                .slots
                .iter()
                .all(|(id, waba)| id.is_some() && waba.is_some());
        if all_listed {
            memory.known.values_mut().for_each(|k| k.listed = round);
        }
        for (id, waba) in self.slots {
            let waba = waba.unwrap_or_else(|| {
                // Only a batch task that panicked leaves a slot empty.
                Arc::new(Waba::default())
            });
            if let Some(id) = id {
                if !all_listed && let Some(k) = memory.known.get_mut(&id) {
                    k.listed = round;
                }
                order.push(id);
            }
            wabas.push(waba);
        }
        if !all_listed {
            memory.known.retain(|_, k| k.listed == round);
        }
        memory.last_total = Some(wabas.len());
        memory.order = order;
        memory.cursor %= memory.order.len().max(1);
        Ok(RoundResult {
            wabas,
            extras_failed: self.failed,
            extras_read: self.extras_read,
            requests: self.tally.load(Ordering::Relaxed),
            decoded: self.decoded,
            halted: self.halted,
        })
    }
}

fn missing() -> GraphError {
    GraphError::new(ErrorKind::Transport, "The answer for this WABA was missing")
}

/// `GET /{business-id}/client_whatsapp_business_accounts` with [`WABA_FIELDS`], every page,
/// and every further page of each WABA's expanded phone numbers.
pub async fn list_client_wabas(
    client: &GraphClient,
    business_id: &str,
    partner_business_id: Option<&str>,
) -> Result<Vec<WabaNode>, GraphError> {
    let (path, query) = list_call(business_id, partner_business_id)?;
    let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut reader = client.list_reader(&path, &query)?;
    let mut nodes = vec![];
    while let Some(items) = reader.next_page().await? {
        for item in items {
            nodes.push(waba_node(client, item).await?.0);
        }
    }
    Ok(nodes)
}

/// Read a WABA item: follow its phone numbers' `paging.next`, then type it; and whether
/// there were further pages of numbers. A row that does not read as a WABA, or whose id is
/// not a plain Graph id, is kept with a `malformed` mark (see [`Row`](super::model::Row));
/// the rest of the book stands.
async fn waba_node(client: &GraphClient, mut item: Value) -> Result<(WabaNode, bool), GraphError> {
    let mut paged = false;
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
        paged = true;
    }
    let mut node: WabaNode = super::model::decode_row(&item);
    node.compact();
    Ok((node, paged))
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
fn items_of<T: serde::de::DeserializeOwned + Compact>(
    v: Value,
    what: &str,
) -> Result<Vec<T>, GraphError> {
    let page = super::paging::parse_page(v)?;
    typed(page.items, what)
}

/// The items of an edge answer, reading further pages if it has them.
async fn items_of_paged<T: serde::de::DeserializeOwned + Compact>(
    client: &GraphClient,
    v: Value,
    what: &str,
) -> Result<Vec<T>, GraphError> {
    typed(client.follow_pages(v, what).await?, what)
}

fn typed<T: serde::de::DeserializeOwned + Compact>(
    items: Vec<Value>,
    what: &str,
) -> Result<Vec<T>, GraphError> {
    let mut list = items
        .into_iter()
        .map(|v| {
            serde_json::from_value(v).map_err(|e| {
                GraphError::new(
                    ErrorKind::Transport,
                    format!("Meta's answer did not have the expected shape: {what}: {e}"),
                )
            })
        })
        .collect::<Result<Vec<T>, GraphError>>()?;
    list.compact();
    Ok(list)
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
    let (node, _) = waba_node(client, node).await?;
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
        subscribed_apps: subscribed.ok().map(share_subscribed),
        solutions: solutions.ok().map(share_solutions),
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
        assert!(WABA_FIELDS.ends_with(&format!("phone_numbers.limit(100){{{PHONE_FIELDS}}}")));
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
    fn the_recheck_covers_the_book_once_per_period() {
        use std::time::Duration;
        let (every, six_h) = (Duration::from_secs(30), Duration::from_secs(6 * 3600));
        // 720 rounds in six hours: 100,000 WABAs is 139 a round (six batches).
        assert_eq!(recheck_per_round(100_000, every, six_h), 139);
        assert!(recheck_per_round(100_000, every, six_h) * 720 >= 100_000);
        assert_eq!(recheck_per_round(10, every, six_h), 1, "at least one");
        assert_eq!(recheck_per_round(0, every, six_h), 0);
        assert_eq!(
            recheck_per_round(10, every, every),
            10,
            "the whole book, no more"
        );
    }

    #[test]
    fn the_rolling_recheck_walks_the_last_list_and_wraps() {
        let mut m = BookMemory {
            order: [1, 2, 3, 4, 5].to_vec(),
            ..BookMemory::default()
        };
        let ids = |s: QuickSet<u64>| {
            let mut v: Vec<String> = s.iter().map(|x| x.to_string()).collect();
            v.sort();
            v
        };
        assert_eq!(ids(m.recheck_slice(2)), ["1", "2"]);
        assert_eq!(ids(m.recheck_slice(2)), ["3", "4"]);
        assert_eq!(ids(m.recheck_slice(2)), ["1", "5"]);
        assert_eq!(ids(m.recheck_slice(9)).len(), 5);
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
