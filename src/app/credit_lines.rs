//! The Credit lines pane's state: our credit lines with their allocation configs, joined with
//! the WABAs the WABAs pane holds (which customers each line funds, whether Meta's check holds,
//! which WABAs have no credit of ours), the filter, the selection and the open detail.
//!
//! The join (`domain::funding::FundingJoin`) is kept up to date by `update` as WABAs and
//! lines arrive, by what changed; the view (rows, counts, filter matches) is derived from it
//! when the data or the query changes and kept until then, so a key or a frame costs no join.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use tui_input::Input;

use crate::app::msg::ReadStamp;
use crate::app::wabas::WabasPane;
use crate::domain::funding::{
    CheckSummary, FundingJoin, NotFunded, Unfunded, UnfundedOrder, Verification, our_credentials,
};
use crate::graph::credit_model::{AllocationConfig, CreditLine, CreditLineData};
use crate::graph::waba_model::Waba;

use crate::app::keymap::{Command, key_label};
use crate::app::model::{Confirm, Model, ShareChoice};
use crate::app::msg::{Effect, Target};
use crate::app::pipeline::confirm;
use crate::graph::credit_model::{WABA_CURRENCIES, default_currency};

/// `hay.to_lowercase().contains(needle)` for a lowercase `needle`, without the copy when `hay`
/// is ASCII (a filter keystroke reads every WABA an allocation covers).
fn contains_lowercase(hay: &str, needle: &str) -> bool {
    if !hay.is_ascii() {
        return hay.to_lowercase().contains(needle);
    }
    let needle = needle.as_bytes();
    needle.is_empty()
        || hay
            .as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Counts of one credit line's allocations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineCounts {
    pub allocations: usize,
    pub verified: usize,
    pub mismatched: usize,
    pub unknown: usize,
    pub revoked: usize,
}

impl LineCounts {
    fn add(&mut self, v: Verification) {
        self.allocations += 1;
        match v {
            Verification::Verified => self.verified += 1,
            Verification::Mismatched => self.mismatched += 1,
            Verification::Unknown => self.unknown += 1,
            Verification::Revoked => self.revoked += 1,
        }
    }

    pub fn plus(self, o: LineCounts) -> LineCounts {
        LineCounts {
            allocations: self.allocations + o.allocations,
            verified: self.verified + o.verified,
            mismatched: self.mismatched + o.mismatched,
            unknown: self.unknown + o.unknown,
            revoked: self.revoked + o.revoked,
        }
    }
}

/// The lanes across the top of the pane, each with its own columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CreditLane {
    /// Each credit line's summary followed by its allocations.
    #[default]
    Allocations,
    /// The WABAs without credit of ours.
    NotFunded,
}

impl CreditLane {
    pub const ALL: [CreditLane; 2] = [CreditLane::Allocations, CreditLane::NotFunded];

    pub fn title(self) -> &'static str {
        match self {
            CreditLane::Allocations => "Allocations",
            CreditLane::NotFunded => "Not funded",
        }
    }

    pub fn next(self) -> CreditLane {
        match self {
            CreditLane::Allocations => CreditLane::NotFunded,
            CreditLane::NotFunded => CreditLane::Allocations,
        }
    }
}

/// The order of the rows in a lane; `o` cycles, `O` reverses. Credit lines stay sections of
/// the Allocations lane: the order is within each line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CreditSort {
    /// Allocations: mismatched, unknown, verified, revoked; not funded: what a share can fix
    /// first. Then by name.
    #[default]
    Problems,
    /// Customer business (allocations) or WABA name (not funded).
    Name,
    /// Allocations: most WABAs first; not funded: by customer business.
    Group,
}

impl CreditSort {
    pub fn next(self) -> CreditSort {
        match self {
            CreditSort::Problems => CreditSort::Name,
            CreditSort::Name => CreditSort::Group,
            CreditSort::Group => CreditSort::Problems,
        }
    }

    pub fn label(self, lane: CreditLane) -> &'static str {
        match (lane, self) {
            (CreditLane::Allocations, CreditSort::Problems) => "problems first",
            (CreditLane::Allocations, CreditSort::Name) => "customer",
            (CreditLane::Allocations, CreditSort::Group) => "most WABAs",
            (CreditLane::NotFunded, CreditSort::Problems) => "fixable first",
            (CreditLane::NotFunded, CreditSort::Name) => "name",
            (CreditLane::NotFunded, CreditSort::Group) => "customer",
        }
    }
}

/// One row of the lane shown, top to bottom: in Allocations, each credit line's summary
/// followed by its allocations; in Not funded, the WABAs without credit of ours. 24 bytes:
/// the Not funded lane holds one per WABA of the book at worst; a row holds the WABA the book
/// shares and why in a few bytes ([`CreditLinesPane::not_funded_reason`] spells it out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreditRow {
    Line {
        line: u32,
    },
    Allocation {
        line: u32,
        alloc: u32,
        check: CheckSummary,
    },
    NotFunded {
        waba: Arc<Waba>,
        reason: Unfunded,
    },
}

/// What a row is, stable across refreshes: the selection follows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RowKey {
    Line(String),
    Allocation(String),
    NotFunded(String),
}

/// The pane as it is drawn: rows, and counts per line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreditView {
    pub rows: Vec<CreditRow>,
    /// Per line, in `lines` order, over all its allocations (not only those the filter shows).
    pub counts: Vec<LineCounts>,
    /// How many WABAs have no credit of ours (before the filter); `None` until the WABAs
    /// are read.
    pub not_funded: Option<usize>,
    /// How many rows of each lane the filter lets through: allocations, not-funded WABAs.
    pub matching: [usize; 2],
}

impl CreditView {
    pub fn total(&self) -> LineCounts {
        self.counts
            .iter()
            .fold(LineCounts::default(), |a, b| a.plus(*b))
    }
}

#[derive(Debug, Clone, Default)]
pub struct CreditLinesPane {
    /// Every credit line with its allocations, from the last good refresh (and re-reads).
    pub lines: Vec<CreditLineData>,
    /// Whether any refresh has succeeded yet.
    pub loaded: bool,
    /// No business id and no credit line id are set: nothing is polled; the pane names them.
    pub not_configured: bool,
    pub filter: Input,
    pub filter_editing: bool,
    pub lane: CreditLane,
    pub sort: CreditSort,
    /// `O`: the chosen order, reversed.
    pub reverse: bool,
    /// The selected row, and its index as a fallback when that row is gone.
    pub key: Option<RowKey>,
    pub selected: usize,
    /// The first visible row (see `app::list::follow`).
    pub offset: usize,
    /// The detail of the selected row is shown instead of the list.
    pub detail_open: bool,
    /// When the lines shown were read.
    pub list_read: ReadStamp,
    /// Allocations established by a read that started after the lines' (an action's
    /// re-read): a refresh does not overwrite them.
    pub newer: HashMap<String, ReadStamp>,
    /// Bumped on every change to `lines`.
    version: u64,
    /// Our allocations joined with the WABAs, kept up to date by `update`.
    join: FundingJoin,
    /// The `version` of the lines and the WABAs pane's version the join is up to date with.
    join_lines: Option<u64>,
    join_wabas: Option<u64>,
    /// The last view and what it was derived from.
    derived: std::cell::RefCell<Option<(ViewKey, std::sync::Arc<CreditView>)>>,
}

/// What the view depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ViewKey {
    lines: u64,
    wabas: u64,
    wabas_loaded: bool,
    needle: String,
    lane: CreditLane,
    sort: CreditSort,
    reverse: bool,
}

impl CreditLinesPane {
    /// The rows and counts, read from the funding join; derived again only when the lines,
    /// the WABAs or the query changed. The join itself is kept up to date by `update`
    /// ([`sync`](Self::sync), [`wabas_arrived`](Self::wabas_arrived)), so this is a walk over
    /// what the lane shows, never a join or a sort of the book.
    pub fn view(&self, wabas: &WabasPane) -> std::sync::Arc<CreditView> {
        let key = ViewKey {
            lines: self.version,
            wabas: wabas.version(),
            wabas_loaded: wabas.loaded,
            needle: self.filter.value().trim().to_lowercase(),
            lane: self.lane,
            sort: self.sort,
            reverse: self.reverse,
        };
        let mut d = self.derived.borrow_mut();
        if let Some((k, v)) = d.as_ref()
            && *k == key
        {
            return v.clone();
        }
        let view = std::sync::Arc::new(self.derive_view(wabas.loaded, &self.join_for(wabas)));
        *d = Some((key, view.clone()));
        view
    }

    /// Whether the join is up to date with the lines and these WABAs (after `update` it
    /// always is).
    pub fn join_current(&self, wabas: &WabasPane) -> bool {
        self.join_lines == Some(self.version) && self.join_wabas == Some(wabas.version())
    }

    /// The join as of the lines and these WABAs: the one kept, or (only when something
    /// changed them without telling this pane, as a plain-function test may) one built now.
    fn join_for(&self, wabas: &WabasPane) -> Cow<'_, FundingJoin> {
        if self.join_current(wabas) {
            Cow::Borrowed(&self.join)
        } else {
            let mut join = FundingJoin::new(&self.lines);
            join.sync_all(&self.lines, wabas.rows.iter().map(|r| &r.waba));
            Cow::Owned(join)
        }
    }

    /// Bring the funding join up to date with the lines and the WABAs: built again when the
    /// lines changed (they are few), else brought to the WABAs' whole list (a look-up per
    /// WABA: after a whole list, a re-read, new rules). Nothing when neither changed.
    pub fn sync(&mut self, wabas: &WabasPane) {
        if self.join_lines != Some(self.version) {
            self.join = FundingJoin::new(&self.lines);
            self.join_lines = Some(self.version);
            self.join_wabas = None;
        }
        if self.join_wabas != Some(wabas.version()) {
            self.join
                .sync_all(&self.lines, wabas.rows.iter().map(|r| &r.waba));
            self.join_wabas = Some(wabas.version());
        }
    }

    /// Before a page of WABAs is applied: what to tell the join afterwards (`None`: the join
    /// is behind anyway and the next [`sync`](Self::sync) takes the whole list).
    pub fn wabas_arriving(
        &self,
        wabas: &WabasPane,
        arriving: &[std::sync::Arc<Waba>],
    ) -> Option<Vec<std::sync::Arc<Waba>>> {
        self.join_current(wabas).then(|| arriving.to_vec())
    }

    /// After the page is applied: only its WABAs changed, so only they are taken into the
    /// join (each as the row now holds it: a later read's row stays), whatever the size of
    /// the book.
    pub fn wabas_arrived(&mut self, wabas: &WabasPane, arrived: Option<Vec<std::sync::Arc<Waba>>>) {
        let Some(arrived) = arrived else {
            return self.sync(wabas);
        };
        for w in &arrived {
            if let Some(row) = wabas.row(w.id()) {
                self.join.put(&self.lines, &row.waba);
            }
        }
        self.join_wabas = Some(wabas.version());
    }

    /// The join's index of an allocation.
    fn flat_index(&self, line: u32, alloc: u32) -> usize {
        self.lines[..(line as usize).min(self.lines.len())]
            .iter()
            .map(|l| l.allocations.len())
            .sum::<usize>()
            + alloc as usize
    }

    /// Why a WABA of the Not funded lane has no credit of ours, spelled out.
    pub fn not_funded_reason(&self, reason: Unfunded, waba: &Waba) -> NotFunded {
        FundingJoin::reason(&self.lines, reason, waba)
    }

    /// The WABAs an allocation covers (at most `limit`), in the order they arrived.
    pub fn covered(
        &self,
        wabas: &WabasPane,
        line: u32,
        alloc: u32,
        limit: usize,
    ) -> Vec<std::sync::Arc<Waba>> {
        if !wabas.loaded {
            return vec![];
        }
        let at = self.flat_index(line, alloc);
        self.join_for(wabas)
            .covered(at)
            .take(limit)
            .cloned()
            .collect()
    }

    fn derive_view(&self, wabas_read: bool, join: &FundingJoin) -> CreditView {
        let needle = self.filter.value().trim().to_lowercase();
        let matches =
            |hay: &[&str]| needle.is_empty() || hay.iter().any(|h| contains_lowercase(h, &needle));
        let mut view = CreditView::default();
        let mut first = 0;
        for (li, data) in self.lines.iter().enumerate() {
            let mut counts = LineCounts::default();
            let mut allocs: Vec<(usize, CheckSummary)> = (0..data.allocations.len())
                .map(|ai| (ai, join.check(first + ai, wabas_read)))
                .collect();
            for (_, c) in &allocs {
                counts.add(c.verification);
            }
            view.counts.push(counts);
            let sort = self.sort;
            allocs.sort_by_cached_key(|(ai, c)| {
                let a = &data.allocations[*ai];
                let first = match sort {
                    CreditSort::Problems => c.verification as usize,
                    CreditSort::Name => 0,
                    CreditSort::Group => usize::MAX - c.wabas as usize,
                };
                (first, a.business_name().to_lowercase(), a.id.clone())
            });
            if self.reverse {
                allocs.reverse();
            }
            let lane_shown = self.lane == CreditLane::Allocations;
            if lane_shown {
                view.rows.push(CreditRow::Line { line: li as u32 });
            }
            for (ai, check) in allocs {
                let a = &data.allocations[ai];
                // The allocation's own fields, then its WABAs until one matches.
                let shown = matches(&[
                    a.id.as_str(),
                    a.business_name(),
                    a.business_id().unwrap_or(""),
                    a.credential_id().unwrap_or(""),
                    a.request_status.as_deref().unwrap_or(""),
                    check.verification.label(),
                ]) || (wabas_read
                    && join
                        .covered(first + ai)
                        .any(|w| matches(&[w.id(), w.name()])));
                if shown {
                    view.matching[0] += 1;
                    if lane_shown {
                        view.rows.push(CreditRow::Allocation {
                            line: li as u32,
                            alloc: ai as u32,
                            check,
                        });
                    }
                }
            }
            first += data.allocations.len();
        }
        if wabas_read {
            view.not_funded = Some(join.unfunded_len());
            let lane_shown = self.lane == CreditLane::NotFunded;
            if needle.is_empty() && !lane_shown {
                // Only the count is shown: no walk.
                view.matching[1] = join.unfunded_len();
                view.rows.shrink_to_fit();
                return view;
            }
            let order = match self.sort {
                CreditSort::Problems => UnfundedOrder::Fixable,
                CreditSort::Name => UnfundedOrder::Name,
                CreditSort::Group => UnfundedOrder::Owner,
            };
            if lane_shown && needle.is_empty() {
                view.rows.reserve_exact(join.unfunded_len());
            }
            let missing = join.unfunded(order);
            let missing: Box<dyn Iterator<Item = _>> = if self.reverse {
                Box::new(missing.rev())
            } else {
                Box::new(missing)
            };
            for (w, u) in missing {
                // The reason in words only when the WABA's own fields did not match.
                let shown = needle.is_empty()
                    || matches(&[w.id(), w.name(), w.owner_name().unwrap_or("")])
                    || matches(&[&self.not_funded_reason(u, w).label()]);
                if shown {
                    view.matching[1] += 1;
                    if lane_shown {
                        view.rows.push(CreditRow::NotFunded {
                            waba: w.clone(),
                            reason: u,
                        });
                    }
                }
            }
        }
        // Kept until the next change: no room beyond its rows (a lane of 100,000).
        view.rows.shrink_to_fit();
        view
    }

    /// Whether `row` is the one `key` names, without building its key.
    fn row_has_key(&self, row: &CreditRow, key: &RowKey) -> bool {
        match (row, key) {
            (CreditRow::Line { line }, RowKey::Line(id)) => self
                .lines
                .get(*line as usize)
                .is_some_and(|l| &l.line.id == id),
            (CreditRow::Allocation { line, alloc, .. }, RowKey::Allocation(id)) => {
                self.allocation(*line, *alloc).is_some_and(|a| a.id == id)
            }
            (CreditRow::NotFunded { waba, .. }, RowKey::NotFunded(id)) => waba.id() == id,
            _ => false,
        }
    }

    /// The key of a row.
    pub fn key_of(&self, row: &CreditRow) -> RowKey {
        match row {
            CreditRow::Line { line } => RowKey::Line(
                self.lines
                    .get(*line as usize)
                    .map(|l| l.line.id.clone())
                    .unwrap_or_default(),
            ),
            CreditRow::Allocation { line, alloc, .. } => RowKey::Allocation(
                self.allocation(*line, *alloc)
                    .map(|a| a.id.to_string())
                    .unwrap_or_default(),
            ),
            CreditRow::NotFunded { waba, .. } => RowKey::NotFunded(waba.id().to_string()),
        }
    }

    pub fn allocation(&self, line: u32, alloc: u32) -> Option<&AllocationConfig> {
        self.lines
            .get(line as usize)?
            .allocations
            .get(alloc as usize)
    }

    /// Where the selection is in `view`: its row if still there, else the last index, kept in
    /// range.
    pub fn position(&self, view: &CreditView) -> usize {
        // Most keys leave the selected row where it was: no scan.
        if let (Some(key), Some(row)) = (&self.key, view.rows.get(self.selected))
            && self.row_has_key(row, key)
        {
            return self.selected;
        }
        if let Some(key) = &self.key
            && let Some(pos) = view.rows.iter().position(|r| &self.key_of(r) == key)
        {
            return pos;
        }
        self.selected.min(view.rows.len().saturating_sub(1))
    }

    /// The selected row.
    pub fn selected_row(&self, view: &CreditView) -> Option<CreditRow> {
        view.rows.get(self.position(view)).cloned()
    }

    fn select(&mut self, view: &CreditView, pos: usize) {
        self.selected = pos.min(view.rows.len().saturating_sub(1));
        self.key = view.rows.get(self.selected).map(|r| self.key_of(r));
    }

    /// Move the selection by `delta` rows.
    pub fn move_by(&mut self, view: &CreditView, delta: isize) {
        let n = view.rows.len() as isize;
        let pos = (self.position(view) as isize + delta).clamp(0, (n - 1).max(0));
        self.select(view, pos as usize);
    }

    pub fn move_to(&mut self, view: &CreditView, pos: usize) {
        self.select(view, pos);
    }

    /// Show the other lane (`h`/`l`), from its first row.
    pub fn switch_lane(&mut self, wabas: &WabasPane) {
        self.lane = self.lane.next();
        self.detail_open = false;
        self.key = None;
        self.selected = 0;
        self.offset = 0;
        let view = self.view(wabas);
        self.select(&view, 0);
    }

    /// Select the row `key` names, in the lane that holds it; `false` when it is not shown
    /// (filtered out, or gone).
    pub fn select_key(&mut self, wabas: &WabasPane, key: &RowKey) -> bool {
        self.lane = match key {
            RowKey::NotFunded(_) => CreditLane::NotFunded,
            _ => CreditLane::Allocations,
        };
        let view = self.view(wabas);
        match view.rows.iter().position(|r| &self.key_of(r) == key) {
            Some(pos) => {
                self.select(&view, pos);
                true
            }
            None => false,
        }
    }

    /// Next sort (`o`), or the same order reversed (`O`); the selection stays on its row.
    pub fn resort(&mut self, reverse: bool) {
        if reverse {
            self.reverse = !self.reverse;
        } else {
            self.sort = self.sort.next();
            self.reverse = false;
        }
    }

    /// How many rows a lane holds (before the filter), `None` until it is known.
    pub fn lane_count(&self, view: &CreditView, lane: CreditLane) -> Option<usize> {
        match lane {
            CreditLane::Allocations => self.loaded.then(|| view.total().allocations),
            CreditLane::NotFunded => view.not_funded,
        }
    }

    /// Replace the lines after a refresh that started at `started`. An allocation a later
    /// read established keeps that read's version.
    pub fn set_lines(&mut self, mut lines: Vec<CreditLineData>, started: ReadStamp) {
        if started < self.list_read {
            return;
        }
        for line in &mut lines {
            let Some(held) = self.lines.iter().find(|l| l.line.id == line.line.id) else {
                continue;
            };
            for a in &held.allocations {
                if self.newer.get(a.id.as_str()).is_some_and(|n| *n > started) {
                    match line.allocations.iter_mut().find(|x| x.id == a.id) {
                        Some(x) => *x = a.clone(),
                        None => line.allocations.push(a.clone()),
                    }
                }
            }
        }
        self.newer.retain(|_, n| *n > started);
        self.list_read = started;
        // The same lines again (most refreshes): the join stands, nothing is derived again.
        if lines != self.lines {
            self.lines = lines;
            self.version += 1;
        }
        self.loaded = true;
    }

    /// Counts changes to the lines and allocations held (what the join is derived from).
    pub fn lines_version(&self) -> u64 {
        self.version
    }

    /// Take in lines read by a read that started at `started` and found every allocation
    /// page as the last read had it: each line held is replaced by the line as read now and
    /// keeps its allocations (those re-read after an action included); a line no longer read
    /// goes. The join is derived again only when a line changed.
    pub fn set_lines_keeping_allocations(&mut self, lines: Vec<CreditLine>, started: ReadStamp) {
        if started < self.list_read {
            return;
        }
        let changed = lines.len() != self.lines.len()
            || self
                .lines
                .iter()
                .zip(&lines)
                .any(|(held, line)| held.line != *line);
        if changed {
            let mut held: HashMap<String, Vec<AllocationConfig>> = std::mem::take(&mut self.lines)
                .into_iter()
                .map(|l| (l.line.id, l.allocations))
                .collect();
            self.lines = lines
                .into_iter()
                .map(|line| CreditLineData {
                    allocations: held.remove(&line.id).unwrap_or_default(),
                    line,
                })
                .collect();
            self.version += 1;
        }
        self.newer.retain(|_, n| *n > started);
        self.list_read = started;
        self.loaded = true;
    }

    /// As of which read the allocation is shown; `None` when it is not held.
    pub fn as_of(&self, allocation_id: &str) -> Option<ReadStamp> {
        self.lines
            .iter()
            .flat_map(|l| &l.allocations)
            .find(|a| a.id == allocation_id)?;
        Some(
            self.newer
                .get(allocation_id)
                .copied()
                .unwrap_or(self.list_read)
                .max(self.list_read),
        )
    }

    /// The receiving credentials of our live allocations, for the WABAs checklist; `None`
    /// until the credit lines are read.
    pub fn credentials(&self) -> Option<crate::domain::funding::Credentials> {
        self.loaded.then(|| our_credentials(&self.lines))
    }

    /// Take in allocations re-read after an action by a read that started at `started`: each
    /// replaces the one with its id in the line, or is added to it, unless a later read
    /// established it.
    pub fn apply_allocations(
        &mut self,
        credit_line_id: &str,
        allocations: Vec<AllocationConfig>,
        started: ReadStamp,
    ) {
        let allocations: Vec<AllocationConfig> = allocations
            .into_iter()
            .filter(|a| self.as_of(&a.id).is_none_or(|shown| shown <= started))
            .collect();
        for a in &allocations {
            self.newer.insert(a.id.to_string(), started);
        }
        self.version += 1;
        let Some(line) = self.lines.iter_mut().find(|l| l.line.id == credit_line_id) else {
            return;
        };
        for a in allocations {
            match line.allocations.iter_mut().find(|x| x.id == a.id) {
                Some(x) => *x = a,
                None => line.allocations.push(a),
            }
        }
    }
}

// ---------------------------------------------------------------- keys

/// Keys on the Credit lines pane: move through the lines, allocations and not-funded WABAs
/// (`h`/`l` jump between sections), `Enter` for the detail of the row, `S` share, `X` revoke.
pub(crate) fn on_key(model: &mut Model, cmd: Command) -> Vec<Effect> {
    let view = model.credit.view(&model.wabas);
    let page = model.page_rows as isize;
    let pane = &mut model.credit;
    match cmd {
        Command::Close => {
            if pane.detail_open {
                pane.detail_open = false;
            } else if !pane.filter.value().is_empty() {
                pane.filter.reset();
            }
        }
        Command::Down => pane.move_by(&view, 1),
        Command::Up => pane.move_by(&view, -1),
        Command::PageDown => pane.move_by(&view, page),
        Command::PageUp => pane.move_by(&view, -page),
        Command::Top => pane.move_to(&view, 0),
        Command::Bottom => pane.move_to(&view, usize::MAX),
        Command::NextLane | Command::PrevLane => pane.switch_lane(&model.wabas),
        Command::Sort | Command::SortReverse => {
            pane.resort(cmd == Command::SortReverse);
            model.notice = Some(format!(
                "{} sorted by {}{}.",
                pane.lane.title(),
                pane.sort.label(pane.lane),
                if pane.reverse { ", reversed" } else { "" }
            ));
        }
        Command::Filter => {
            pane.detail_open = false;
            pane.filter_editing = true;
        }
        Command::Open if !view.rows.is_empty() => {
            pane.move_by(&view, 0);
            pane.detail_open = true;
        }
        Command::Share => return start_share(model),
        Command::Revoke => return start_revoke(model),
        _ => {}
    }
    vec![]
}

/// `S` on a WABA of the not-funded list: share a credit line with it, after a confirm that
/// lets the user pick the line and the currency.
fn start_share(model: &mut Model) -> Vec<Effect> {
    let view = model.credit.view(&model.wabas);
    let Some(CreditRow::NotFunded { waba, reason }) = model.credit.selected_row(&view) else {
        model.notice = Some(format!(
            "Select a WABA in the Not funded lane ({} goes there), then press {} to share a credit line with it.",
            key_label(Command::NextLane),
            key_label(Command::Share)
        ));
        return vec![];
    };
    let reason = model.credit.not_funded_reason(reason, &waba);
    let waba_id = waba.id().to_string();
    let Some(row) = model.wabas.row(&waba_id) else {
        return vec![];
    };
    let waba_name = row.waba.name().to_string();
    if !reason.shareable() {
        model.notice = Some(format!(
            "'{waba_name}' has a funding source attached ({}): Meta does not let it be changed.",
            reason.label()
        ));
        return vec![];
    }
    let lines: Vec<(String, String)> = model
        .credit
        .lines
        .iter()
        .filter(|l| l.line.extra.get("is_access_revoked") != Some(&serde_json::Value::Bool(true)))
        .map(|l| (l.line.id.clone(), l.line.name().to_string()))
        .collect();
    if lines.is_empty() {
        model.notice = Some("There is no credit line of ours to share.".into());
        return vec![];
    }
    // A business that already has an allocation keeps its line (the share reuses it).
    let line = match &reason {
        NotFunded::NotAttached { allocation_id } => model
            .credit
            .lines
            .iter()
            .find(|l| l.allocations.iter().any(|a| a.id == *allocation_id))
            .and_then(|l| lines.iter().position(|(id, _)| *id == l.line.id))
            .unwrap_or(0),
        _ => 0,
    };
    let waba_currency = row.waba.node.currency().map(|c| c.to_string());
    let currency = WABA_CURRENCIES
        .iter()
        .position(|c| *c == default_currency(waba_currency.as_deref()))
        .unwrap_or(0);
    let owner = row.waba.node.owner_business_info();
    let choice = ShareChoice {
        lines,
        line,
        currency,
        waba_currency,
    };
    let target = share_target(
        &choice,
        &waba_id,
        &waba_name,
        owner.as_ref().map(|o| o.id.to_string()),
        owner
            .as_ref()
            .map(|o| o.name.as_ref().unwrap_or(&o.id).to_string())
            .unwrap_or_else(|| "its owner business".into()),
    );
    confirm(
        model,
        "whatsapp_credit_sharing_and_attach",
        target,
        None,
        Some(choice),
    );
    vec![]
}

fn share_target(
    choice: &ShareChoice,
    waba_id: &str,
    waba_name: &str,
    business_id: Option<String>,
    business_name: String,
) -> Target {
    let (line_id, line_name) = choice.lines.get(choice.line).cloned().unwrap_or_default();
    Target::ShareCredit {
        credit_line_id: line_id,
        credit_line_name: line_name,
        waba_id: waba_id.to_string(),
        waba_name: waba_name.to_string(),
        business_id,
        business_name,
        currency: WABA_CURRENCIES
            .get(choice.currency)
            .copied()
            .unwrap_or("USD")
            .to_string(),
    }
}

/// A key that changes the share dialog's choice: `←`/`→` the currency, `↑`/`↓` the line.
pub(crate) fn change_share_choice(model: &Model, confirm: &mut Confirm, cmd: Command) -> bool {
    let Some(choice) = &mut confirm.share else {
        return false;
    };
    let step = |i: usize, n: usize, forward: bool| {
        if n == 0 {
            0
        } else if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }
    };
    match cmd {
        Command::NextLane | Command::PrevLane => {
            choice.currency = step(
                choice.currency,
                WABA_CURRENCIES.len(),
                cmd == Command::NextLane,
            );
        }
        Command::Down | Command::Up => {
            choice.line = step(choice.line, choice.lines.len(), cmd == Command::Down);
        }
        _ => return false,
    }
    let Target::ShareCredit {
        waba_id,
        waba_name,
        business_id,
        business_name,
        ..
    } = &confirm.target
    else {
        return false;
    };
    let target = share_target(
        choice,
        waba_id,
        waba_name,
        business_id.clone(),
        business_name.clone(),
    );
    confirm.call = model.call_text(&target);
    confirm.target = target;
    true
}

/// `X` on an allocation: revoke it, after a confirm that says it covers every WABA of that
/// customer business.
fn start_revoke(model: &mut Model) -> Vec<Effect> {
    let view = model.credit.view(&model.wabas);
    let Some(CreditRow::Allocation { line, alloc, .. }) = model.credit.selected_row(&view) else {
        model.notice = Some(format!(
            "Select an allocation (a customer business under a credit line, in the Allocations lane), then press {} to revoke it.",
            key_label(Command::Revoke)
        ));
        return vec![];
    };
    let Some(data) = model.credit.lines.get(line as usize) else {
        return vec![];
    };
    let Some(a) = data.allocations.get(alloc as usize) else {
        return vec![];
    };
    if a.is_revoked() {
        model.notice = Some(format!(
            "The allocation to '{}' is already revoked (request_status {}).",
            a.business_name(),
            a.request_status.as_deref().unwrap_or("DELETED")
        ));
        return vec![];
    }
    let waba_ids = model
        .credit
        .covered(&model.wabas, line, alloc, usize::MAX)
        .iter()
        .map(|w| w.id().to_string())
        .collect();
    let target = Target::RevokeAllocation {
        allocation_id: a.id.to_string(),
        credit_line_id: data.line.id.clone(),
        credit_line_name: data.line.name().to_string(),
        business_id: a.business_id().map(str::to_string),
        business_name: a.business_name().to_string(),
        waba_ids,
    };
    confirm(model, "the revoke (DELETE)", target, None, None);
    vec![]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::msg::WabaList;
    use crate::domain::onboarding::OnboardingRules;
    use crate::graph::credit_model::CreditLine;
    use crate::graph::waba_model::{BusinessRef, Waba, WabaFields, WabaNode};
    use serde_json::json;

    fn alloc(id: &str, business: &str, credential: &str, status: &str) -> AllocationConfig {
        serde_json::from_value(json!({
            "id": id,
            "receiving_business": {"id": business, "name": format!("Biz {business}")},
            "receiving_credential": {"id": credential},
            "request_status": status,
        }))
        .unwrap()
    }

    fn waba(id: &str, owner: &str, funding: Option<&str>) -> Waba {
        Waba {
            node: WabaNode::new(WabaFields {
                id: id.into(),
                name: format!("W{id}").into(),
                primary_funding_id: funding.map(Into::into),
                owner_business_info: Some(BusinessRef {
                    id: owner.into(),
                    name: None,
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn setup() -> (CreditLinesPane, WabasPane) {
        let mut wabas = WabasPane::new(OnboardingRules::new("1"));
        wabas.set_items(
            WabaList::of(vec![
                waba("1", "b1", Some("c1")),
                waba("2", "b2", Some("x")),
                waba("3", "b3", None),
            ]),
            ReadStamp::issue(),
        );
        let mut pane = CreditLinesPane::default();
        pane.set_lines(
            vec![CreditLineData {
                line: CreditLine {
                    id: "L".into(),
                    ..Default::default()
                },
                allocations: vec![
                    alloc("a1", "b1", "c1", "ACTIVE"),
                    alloc("a2", "b2", "c2", "ACTIVE"),
                    alloc("a4", "b4", "c4", "DELETED"),
                ],
            }],
            ReadStamp::issue(),
        );
        (pane, wabas)
    }

    #[test]
    fn rows_put_problems_first_and_count_each_kind() {
        let (pane, wabas) = setup();
        let v = pane.view(&wabas);
        let keys: Vec<RowKey> = v.rows.iter().map(|r| pane.key_of(r)).collect();
        assert_eq!(
            keys,
            [
                RowKey::Line("L".into()),
                RowKey::Allocation("a2".into()),
                RowKey::Allocation("a1".into()),
                RowKey::Allocation("a4".into()),
            ]
        );
        assert_eq!(
            v.counts[0],
            LineCounts {
                allocations: 3,
                verified: 1,
                mismatched: 1,
                unknown: 0,
                revoked: 1
            }
        );
        assert_eq!(v.not_funded, Some(2));
        assert_eq!(v.matching, [3, 2]);
    }

    #[test]
    fn the_not_funded_lane_has_its_own_rows_and_every_lane_sorts() {
        let (mut pane, wabas) = setup();
        let keys = |pane: &CreditLinesPane| -> Vec<RowKey> {
            let v = pane.view(&wabas);
            v.rows.iter().map(|r| pane.key_of(r)).collect()
        };
        pane.switch_lane(&wabas);
        assert_eq!(pane.lane, CreditLane::NotFunded);
        // What a share can fix first.
        assert_eq!(
            keys(&pane),
            [RowKey::NotFunded("3".into()), RowKey::NotFunded("2".into())]
        );
        assert_eq!(pane.key, Some(RowKey::NotFunded("3".into())));
        pane.resort(false);
        assert_eq!(pane.sort, CreditSort::Name);
        assert_eq!(
            keys(&pane),
            [RowKey::NotFunded("2".into()), RowKey::NotFunded("3".into())]
        );
        pane.resort(true);
        assert_eq!(
            keys(&pane),
            [RowKey::NotFunded("3".into()), RowKey::NotFunded("2".into())]
        );
        pane.switch_lane(&wabas);
        assert_eq!(pane.lane, CreditLane::Allocations);
        // By customer name (reversed still): the line stays the section's head.
        assert_eq!(
            keys(&pane),
            [
                RowKey::Line("L".into()),
                RowKey::Allocation("a4".into()),
                RowKey::Allocation("a2".into()),
                RowKey::Allocation("a1".into()),
            ]
        );
    }

    #[test]
    fn without_wabas_every_live_allocation_is_unknown_and_no_list() {
        let (pane, _) = setup();
        let v = pane.view(&WabasPane::default());
        assert_eq!(v.counts[0].unknown, 2);
        assert_eq!(v.counts[0].revoked, 1);
        assert_eq!(v.not_funded, None);
        assert_eq!(v.matching[1], 0);
    }

    #[test]
    fn the_selection_follows_its_row_and_the_filter_narrows() {
        let (mut pane, wabas) = setup();
        let v = pane.view(&wabas);
        pane.move_by(&v, 2);
        assert_eq!(pane.key, Some(RowKey::Allocation("a1".into())));
        // a2 revoked: it moves to the end of the line; the selection stays on a1.
        pane.apply_allocations(
            "L",
            vec![alloc("a2", "b2", "c2", "DELETED")],
            ReadStamp::issue(),
        );
        let v = pane.view(&wabas);
        assert_eq!(v.rows[pane.position(&v)], v.rows[1]);
        assert_eq!(pane.key_of(&v.rows[1]), RowKey::Allocation("a1".into()));
        pane.filter = Input::new("b4".into());
        let v = pane.view(&wabas);
        assert_eq!(v.rows.len(), 2, "line, a4: {:?}", v.rows);
        assert_eq!(v.matching, [1, 0]);
        // a1 is hidden: the selection stays at its index, now a4.
        assert_eq!(pane.position(&v), 1);
    }

    #[test]
    fn a_row_is_small_the_not_funded_lane_holds_one_per_waba() {
        assert!(std::mem::size_of::<CreditRow>() <= 24);
    }

    #[test]
    fn contains_lowercase_agrees_with_to_lowercase() {
        for hay in ["Lumen Bakery", "LUMEN", "", "Ωmega Ltd", "İstanbul", "a-b"] {
            for needle in [
                "lumen", "bakery", "", "ωmega", "i̇st", "ltd", "a-b", "x", "é",
            ] {
                assert_eq!(
                    contains_lowercase(hay, needle),
                    hay.to_lowercase().contains(needle),
                    "{hay:?} {needle:?}"
                );
            }
        }
    }

    #[test]
    fn credentials_are_known_once_the_lines_are_read() {
        let pane = CreditLinesPane::default();
        assert_eq!(pane.credentials(), None);
        let (pane, _) = setup();
        assert_eq!(pane.credentials(), Some(["c1".into(), "c2".into()].into()));
    }
}
