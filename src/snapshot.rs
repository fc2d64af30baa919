//! `partnerdeck snapshot [--json | --plain]`: one refresh of everything, printed for a script
//! or a person. Exit 0 when every call worked, 1 when any failed (the errors on standard
//! error; in the JSON also under `errors`).
//!
//! [`run`] streams: the solutions and our credit lines are read first (the WABAs' checklist
//! needs our credentials), while the client WABAs are read page by page (`read`) into a
//! short queue; each WABA is printed as it comes and only a few words of it are kept for the
//! end (`book`), where the allocations are verified against every WABA. [`collect`] holds the
//! whole snapshot in memory instead (for tests and small books), with the same content.

use serde::Serialize;

use crate::bsp::settings::PartnerSettings;
use crate::domain::funding::{NotFunded, Verification};
use crate::domain::onboarding::Onboarding;
use crate::domain::partner::{BspRegistration, PartnerKind, RegistrationRecord};
use crate::domain::solution::Solution;
use crate::graph::client::GraphClient;
use crate::graph::credit_model::{AllocationConfig, CreditLine};
use crate::graph::error::GraphError;
use crate::graph::waba_model::Waba;
use crate::graph::wabas;

mod book;
pub mod json;
mod read;
pub mod text;

pub use json::inert_json;

/// WABA pages read ahead of the writer.
const PAGES_QUEUED: usize = 2;

/// The snapshot JSON of design.md.
#[derive(Debug, Serialize)]
pub struct Snapshot {
    pub fetched_at: String,
    pub solutions: Vec<Solution>,
    pub wabas: Vec<SnapshotWaba>,
    pub credit_lines: Vec<SnapshotCreditLine>,
    /// `solution_partner` or `tech_provider`; `null` when the setting is `auto` and our
    /// credit lines could not be read.
    pub partner_kind: Option<PartnerKind>,
    pub errors: Vec<SnapshotError>,
    /// The WABAs without credit of ours (the text form's last section; not in the JSON).
    #[serde(skip)]
    pub not_funded: NotFundedList,
}

/// A credit line as the snapshot prints it: Graph fields verbatim, with its allocations.
#[derive(Debug, Serialize)]
pub struct SnapshotCreditLine {
    #[serde(flatten)]
    pub line: CreditLine,
    pub allocations: Vec<SnapshotAllocation>,
}

/// An allocation config, Graph fields verbatim, plus our `waba_ids` (the WABAs of its
/// receiving business, or funded by its credential) and `verified` (its credential equals
/// their `primary_funding_id`: true, false when one differs, null when unknown or revoked).
#[derive(Debug, Serialize)]
pub struct SnapshotAllocation {
    #[serde(flatten)]
    pub allocation: AllocationConfig,
    pub waba_ids: Vec<String>,
    pub verified: Option<bool>,
    /// The console's word for it (`verified`, `mismatched`, `unknown`, `revoked`).
    #[serde(skip)]
    pub verification: Verification,
}

/// A WABA as the snapshot prints it: Graph fields verbatim (with `phone_numbers`,
/// `subscribed_apps` and `solutions` when read), plus our `onboarding` checklist.
#[derive(Debug, Serialize)]
pub struct SnapshotWaba {
    #[serde(flatten)]
    pub waba: Waba,
    pub onboarding: Onboarding,
    /// What the console knows of the WABA's registration with our BSP (Tech Providers).
    pub bsp_registration: BspRegistration,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct SnapshotError {
    pub scope: String,
    pub code: Option<i64>,
    pub message: String,
    /// The list stopped part-way: the rows before it are in the snapshot (not in the JSON;
    /// the message says it).
    #[serde(skip)]
    pub cut_short: bool,
}

impl SnapshotError {
    fn from_graph(scope: &str, e: &GraphError) -> SnapshotError {
        SnapshotError {
            scope: scope.into(),
            code: e.code,
            message: e.sentence(),
            cut_short: false,
        }
    }

    fn local(scope: &str, message: &str) -> SnapshotError {
        SnapshotError {
            scope: scope.into(),
            code: None,
            message: message.into(),
            cut_short: false,
        }
    }
}

/// The WABAs not funded by a live allocation of ours (as a Tech Provider: not funded at
/// all), in list order; or why that could not be known.
#[derive(Debug, Clone, PartialEq)]
pub enum NotFundedList {
    Read(Vec<NotFundedRow>),
    NotRead(String),
}

impl Default for NotFundedList {
    fn default() -> NotFundedList {
        NotFundedList::Read(vec![])
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NotFundedRow {
    pub waba_id: String,
    pub name: String,
    pub currency: Option<String>,
    pub reason: NotFunded,
}

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub app_id: String,
    /// Our business: its client WABAs and (without `credit_line_id`) its credit lines.
    pub business_id: Option<String>,
    /// Only the client WABAs shared with this partner too.
    pub partner_business_id: Option<String>,
    pub credit_line_id: Option<String>,
    pub partner: PartnerSettings,
    /// The BSP registrations this console made (from the audit log).
    pub registrations: Vec<RegistrationRecord>,
}

/// How [`run`] prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Tab-separated sections ([`text`]).
    Text,
    /// The JSON document of design.md.
    Json,
}

/// Read everything: the solutions (list, then each one's detail a few at a time) and, beside
/// them, the client WABAs of `business_id` and our credit lines (the one named by
/// `credit_line_id`, else every one of `business_id`) with their allocations. Without a
/// business id the WABAs (and, without a credit line id, the credit lines) are errors of their
/// scope; the rest is still read. Once both are read, the WABAs' checklist compares their
/// funding with our allocations, and each allocation is verified against the WABAs.
pub async fn collect(
    client: &GraphClient,
    app_id: &str,
    business_id: Option<&str>,
    partner_business_id: Option<&str>,
    credit_line_id: Option<&str>,
) -> Snapshot {
    collect_with(
        client,
        app_id,
        business_id,
        partner_business_id,
        credit_line_id,
        &PartnerSettings::default(),
    )
    .await
}

/// [`collect`] with the partner-kind and BSP settings: the kind comes from the setting, or
/// (`auto`) from whether the credit lines read are non-empty. As a Tech Provider the
/// checklist's credit step means "funded at all" (`domain::partner::credit_step`). The
/// whole book is read at once (`graph::wabas::refresh`) and held.
pub async fn collect_with(
    client: &GraphClient,
    app_id: &str,
    business_id: Option<&str>,
    partner_business_id: Option<&str>,
    credit_line_id: Option<&str>,
    partner: &PartnerSettings,
) -> Snapshot {
    let ((fetched_at, solutions, errors), book, credit) = tokio::join!(
        read::solutions(client, app_id),
        async {
            match business_id {
                Some(b) => Ok(wabas::refresh(client, b, partner_business_id).await),
                None => Err(read::no_business_id()),
            }
        },
        read::credit_lines(client, business_id, credit_line_id)
    );
    let head = book::Head::new(
        fetched_at,
        solutions,
        errors,
        credit,
        app_id,
        partner,
        vec![],
    );
    let pages = book.map(|r| {
        let page = match r {
            Ok(book) => book::WabaPage::Rows {
                wabas: book.wabas,
                extras_failed: book.extras_failed,
            },
            Err(e) => book::WabaPage::Failed(SnapshotError::from_graph("wabas", &e)),
        };
        std::iter::once(page)
    });
    let mut feed = book::Feed::new(head, pages);
    let wabas: Vec<SnapshotWaba> = feed.by_ref().collect();
    let mut snapshot = feed.finish();
    snapshot.wabas = wabas;
    snapshot
}

/// What [`run`] printed.
#[derive(Debug)]
pub struct Outcome {
    pub errors: Vec<SnapshotError>,
}

/// Read and print the snapshot to `out` as it is read (see the module's doc), in `format`.
/// The errors are returned, not printed. An error writing `out` (a closed pipe too) stops the
/// reading and is returned.
pub async fn run<W: std::io::Write + Send + 'static>(
    client: &GraphClient,
    request: Request,
    format: Format,
    out: W,
) -> std::io::Result<Outcome> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(PAGES_QUEUED);
    let pages = match &request.business_id {
        Some(b) => {
            tokio::spawn(read::waba_pages(
                client.clone(),
                b.clone(),
                request.partner_business_id.clone(),
                tx,
            ));
            // The writer is a blocking thread: it waits for each page there.
            Ok(std::iter::from_fn(move || rx.blocking_recv()))
        }
        None => Err(read::no_business_id()),
    };
    let ((fetched_at, solutions, errors), credit) = tokio::join!(
        read::solutions(client, &request.app_id),
        read::credit_lines(
            client,
            request.business_id.as_deref(),
            request.credit_line_id.as_deref()
        )
    );
    let head = book::Head::new(
        fetched_at,
        solutions,
        errors,
        credit,
        &request.app_id,
        &request.partner,
        request.registrations,
    );
    // Reading the credit lines parsed every page into JSON trees, now dropped: give those
    // pages back before the long part, or the peak keeps them.
    release_freed_memory();
    let feed = book::Feed::new(head, pages);
    let written = tokio::task::spawn_blocking(move || write(feed, format, out))
        .await
        .map_err(|e| std::io::Error::other(format!("the snapshot writer stopped: {e}")))?;
    let snapshot = written?;
    Ok(Outcome {
        errors: snapshot.errors,
    })
}

/// Return the allocator's free pages to the system (glibc keeps them otherwise).
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory that is free; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Print the feed to `out`: JSON as it comes; text once the WABAs are in (its header counts
/// them), holding one line per WABA.
fn write<P, W>(mut feed: book::Feed<P>, format: Format, out: W) -> std::io::Result<Snapshot>
where
    P: Iterator<Item = book::WabaPage>,
    W: std::io::Write,
{
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
    match format {
        Format::Json => {
            let (out, snapshot) = json::write_streamed(out, feed)?;
            out.into_inner().map_err(|e| e.into_error())?;
            Ok(snapshot)
        }
        Format::Text => {
            let lines: Vec<String> = feed.by_ref().map(|w| text::waba_line(&w)).collect();
            let snapshot = feed.finish();
            text::write(&mut out, &snapshot, &lines)?;
            out.into_inner().map_err(|e| e.into_error())?.flush()?;
            Ok(snapshot)
        }
    }
}

impl Snapshot {
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// The JSON form. Characters that can change what a terminal shows (DEL, C1 controls,
    /// bidi overrides and isolates, line and paragraph separators) are written as `\u`
    /// escapes, so `cat` of the output is inert; the data decodes to exactly what Meta sent.
    pub fn to_json(&self) -> String {
        json::to_json(self)
    }

    /// The text form ([`text`]).
    pub fn to_text(&self) -> String {
        let lines: Vec<String> = self.wabas.iter().map(text::waba_line).collect();
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = text::write(&mut out, self, &lines);
        String::from_utf8(out).unwrap_or_default()
    }

    /// The errors, one line each, for standard error (the text form's stdout is the data).
    pub fn errors_text(&self) -> String {
        text::errors(&self.errors)
    }
}
