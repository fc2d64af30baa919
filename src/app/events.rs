//! The Events pane's state: one timeline of what Meta pushed (webhooks), what the console
//! noticed between two reads (observed), what it did (actions) and what it said (notices),
//! newest first, narrowed by a kind lane and a filter; `Enter` opens the full record.
//!
//! Events come in as messages (`EventsHistory` at start, `EventsArrived` after); the model
//! never makes them itself: an observed change, an action's outcome or a notice becomes an
//! `Effect::RecordEvent`, which the effects store and send back.

use tui_input::Input;

use crate::app::keymap::Command;
use crate::app::model::Model;
use crate::app::msg::Effect;
use crate::store::StoredEvent;
use crate::webhooks::EventKind;

/// At most this many events are kept in memory (the oldest go first); the store keeps more.
pub const MAX_EVENTS: usize = 2000;

/// The kind lanes across the top of the pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lane {
    #[default]
    All,
    Webhooks,
    Observed,
    Actions,
    Notices,
}

impl Lane {
    pub const ALL: [Lane; 5] = [
        Lane::All,
        Lane::Webhooks,
        Lane::Observed,
        Lane::Actions,
        Lane::Notices,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Lane::All => "All",
            Lane::Webhooks => "Webhooks",
            Lane::Observed => "Observed",
            Lane::Actions => "Actions",
            Lane::Notices => "Notices",
        }
    }

    pub fn contains(self, kind: EventKind) -> bool {
        match self {
            Lane::All => true,
            Lane::Webhooks => kind == EventKind::Webhook,
            Lane::Observed => kind == EventKind::Observed,
            Lane::Actions => kind == EventKind::Action,
            Lane::Notices => kind == EventKind::Notice,
        }
    }

    pub fn next(self) -> Lane {
        crate::app::list::cycle(&Lane::ALL, self, 1)
    }

    pub fn prev(self) -> Lane {
        crate::app::list::cycle(&Lane::ALL, self, -1)
    }
}

/// The order of the rows; `o` cycles, `O` reverses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventSort {
    /// Newest first.
    #[default]
    Time,
    /// By kind, newest first within a kind.
    Kind,
    /// By the object's id (what happened to one WABA or solution, together), newest first.
    Object,
}

impl EventSort {
    pub fn next(self) -> EventSort {
        match self {
            EventSort::Time => EventSort::Kind,
            EventSort::Kind => EventSort::Object,
            EventSort::Object => EventSort::Time,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EventSort::Time => "time (newest first)",
            EventSort::Kind => "kind",
            EventSort::Object => "object",
        }
    }
}

/// What the visible rows depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ViewKey {
    version: u64,
    lane: Lane,
    sort: EventSort,
    reverse: bool,
    needle: String,
}

/// Whether an event of this kind counts as news for the tab mark: what came from outside or
/// changed by itself, not what the console did or said on screen.
pub fn is_news(kind: EventKind) -> bool {
    matches!(kind, EventKind::Webhook | EventKind::Observed)
}

#[derive(Debug, Clone, Default)]
pub struct EventsPane {
    /// Oldest first, in arrival order; shown newest first.
    pub items: Vec<StoredEvent>,
    /// Whether the history has been read.
    pub loaded: bool,
    pub lane: Lane,
    pub filter: Input,
    pub filter_editing: bool,
    /// Index into `visible()`.
    pub selected: usize,
    /// The first visible row (see `app::list::follow`).
    pub offset: usize,
    /// Whether the full record of the selected event is open.
    pub detail_open: bool,
    /// Events stored after this sequence number have not been seen.
    pub seen_seq: i64,
    /// What `seen_seq` was when the pane was last opened: rows after it are marked new.
    pub new_since: i64,
    /// Where webhooks come from, in words (`None`: no feed configured).
    pub feed: Option<String>,
    pub sort: EventSort,
    /// `O`: the chosen order, reversed.
    pub reverse: bool,
    /// Bumped whenever `items` changes.
    version: u64,
    /// The visible rows (indices into `items`) and what they were derived from: derived
    /// when the events, lane, sort or filter change, never per frame.
    derived: std::cell::RefCell<Option<(ViewKey, std::sync::Arc<Vec<usize>>)>>,
}

impl EventsPane {
    fn matches_filter(&self, e: &StoredEvent, needle: &str) -> bool {
        if needle.is_empty() {
            return true;
        }
        let ev = &e.event;
        [
            Some(ev.summary.as_str()),
            Some(ev.kind.as_str()),
            ev.object_id.as_deref(),
            ev.field.as_deref(),
            ev.event.as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(|s| s.to_lowercase().contains(needle))
    }

    /// The rows shown: the current lane, narrowed by the filter, in the chosen order (newest
    /// first unless sorted otherwise).
    pub fn visible(&self) -> Vec<&StoredEvent> {
        self.visible_indices()
            .iter()
            .map(|&i| &self.items[i])
            .collect()
    }

    fn visible_indices(&self) -> std::sync::Arc<Vec<usize>> {
        let key = ViewKey {
            version: self.version,
            lane: self.lane,
            sort: self.sort,
            reverse: self.reverse,
            needle: self.filter.value().trim().to_lowercase(),
        };
        if let Some((k, v)) = self.derived.borrow().as_ref()
            && *k == key
        {
            return v.clone();
        }
        // Newest first: `items` is in arrival order.
        let mut rows: Vec<usize> = (0..self.items.len())
            .rev()
            .filter(|&i| {
                let e = &self.items[i];
                self.lane.contains(e.event.kind) && self.matches_filter(e, &key.needle)
            })
            .collect();
        let items = &self.items;
        match self.sort {
            EventSort::Time => {}
            // Stable: newest first stays within a kind or an object.
            EventSort::Kind => rows.sort_by_key(|&i| items[i].event.kind.as_str()),
            // Events about no object last.
            EventSort::Object => rows.sort_by_key(|&i| {
                let id = items[i]
                    .event
                    .object_id
                    .as_deref()
                    .filter(|id| !id.is_empty());
                (id.is_none(), id)
            }),
        }
        if self.reverse {
            rows.reverse();
        }
        let rows = std::sync::Arc::new(rows);
        *self.derived.borrow_mut() = Some((key, rows.clone()));
        rows
    }

    /// Next sort (`o`), or the same order reversed (`O`), keeping the selected event.
    pub fn resort(&mut self, reverse: bool) {
        let keep = self.selected_id();
        if reverse {
            self.reverse = !self.reverse;
        } else {
            self.sort = self.sort.next();
            self.reverse = false;
        }
        self.select_id(keep.as_deref());
    }

    pub fn lane_count(&self, lane: Lane) -> usize {
        self.items
            .iter()
            .filter(|e| lane.contains(e.event.kind))
            .count()
    }

    pub fn selected_event(&self) -> Option<&StoredEvent> {
        self.visible().get(self.selected).copied()
    }

    pub fn selected_id(&self) -> Option<String> {
        self.selected_event().map(|e| e.event.id.clone())
    }

    /// The object the selected event is about (a WABA, solution or number id), for `c`.
    pub fn selected_object(&self) -> Option<String> {
        self.selected_event()
            .and_then(|e| e.event.object_id.clone())
            .filter(|id| !id.is_empty())
    }

    /// Select the row with this id if it is visible; otherwise keep the index in range.
    pub fn select_id(&mut self, id: Option<&str>) {
        let visible = self.visible();
        if let Some(id) = id
            && let Some(pos) = visible.iter().position(|e| e.event.id == id)
        {
            self.selected = pos;
            return;
        }
        let n = visible.len();
        self.selected = if n == 0 { 0 } else { self.selected.min(n - 1) };
    }

    pub fn move_by(&mut self, delta: isize) {
        let n = self.visible().len();
        if n == 0 {
            self.selected = 0;
            return;
        }
        let target = self.selected as isize + delta;
        self.selected = target.clamp(0, n as isize - 1) as usize;
    }

    /// News (webhooks, observed changes) not seen yet.
    pub fn unseen(&self) -> usize {
        self.items
            .iter()
            .filter(|e| e.seq > self.seen_seq && is_news(e.event.kind))
            .count()
    }

    /// The pane is opened: what was unseen stays marked as new on its rows, and counts as
    /// seen.
    pub fn open(&mut self) {
        self.new_since = self.seen_seq;
        self.mark_seen();
    }

    /// Whether a row is marked new (news that arrived since the pane was last opened).
    pub fn is_new(&self, e: &StoredEvent) -> bool {
        e.seq > self.new_since && is_news(e.event.kind)
    }

    /// Everything held counts as seen.
    pub fn mark_seen(&mut self) {
        if let Some(max) = self.items.iter().map(|e| e.seq).max() {
            self.seen_seq = self.seen_seq.max(max);
        }
    }

    /// Take in events (history or new arrivals), keeping the selected one selected. An event
    /// already held (same id) is not added twice.
    pub fn add(&mut self, events: Vec<StoredEvent>) {
        let keep = self.selected_id();
        for e in events {
            if self.items.iter().rev().any(|h| h.event.id == e.event.id) {
                continue;
            }
            self.items.push(e);
        }
        self.version += 1;
        if self.items.len() > MAX_EVENTS {
            let extra = self.items.len() - MAX_EVENTS;
            self.items.drain(..extra);
        }
        self.select_id(keep.as_deref());
    }
}

// ---------------------------------------------------------------- keys

pub(crate) fn on_key(model: &mut Model, cmd: Command) -> Vec<Effect> {
    let pane = &mut model.events;
    match cmd {
        Command::Close => {
            if pane.detail_open {
                pane.detail_open = false;
            } else if !pane.filter.value().is_empty() {
                let keep = pane.selected_id();
                pane.filter.reset();
                pane.select_id(keep.as_deref());
            }
        }
        Command::Down => pane.move_by(1),
        Command::Up => pane.move_by(-1),
        Command::PageDown => pane.move_by(model.page_rows as isize),
        Command::PageUp => pane.move_by(-(model.page_rows as isize)),
        Command::Top => pane.selected = 0,
        Command::Bottom => pane.selected = pane.visible().len().saturating_sub(1),
        Command::NextLane | Command::PrevLane => {
            pane.lane = if cmd == Command::NextLane {
                pane.lane.next()
            } else {
                pane.lane.prev()
            };
            pane.selected = 0;
        }
        Command::Filter => pane.filter_editing = true,
        Command::Sort | Command::SortReverse => {
            pane.resort(cmd == Command::SortReverse);
            model.notice = Some(format!(
                "Events sorted by {}{}.",
                pane.sort.label(),
                if pane.reverse { ", reversed" } else { "" }
            ));
        }
        Command::Open if pane.selected_event().is_some() => pane.detail_open = true,
        _ => {}
    }
    vec![]
}
