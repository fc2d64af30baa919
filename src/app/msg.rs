//! Messages into the state machine, and effects out of it.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::domain::solution::Solution;
use crate::graph::credit_model::{CreditLine, CreditLineData};
use crate::graph::model::SolutionNode;
use crate::graph::waba_model::{Pin, Waba};
use crate::store::StoredEvent;
use crate::webhooks::EventKind;

pub use super::action::{
    ActionOutcome, ActionResult, AllocationState, CreditReread, FundingState, ObservedState,
    PhoneState, Reread, Target,
};

/// When a read (or a send) started, in the order they started: a result never overwrites
/// what a read that started later already established. Issued by the effects that start
/// reads; the state machine only compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ReadStamp(pub u64);

impl ReadStamp {
    /// The next stamp: later than every stamp issued before it in this process.
    pub fn issue() -> ReadStamp {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ReadStamp(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// Everything that can happen to the console.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// The terminal's size in cells, and how many rows a pane's list gets at that size (the
    /// screen's layout says, `ui::list_rows`; the state machine does not guess).
    Resize {
        width: u16,
        height: u16,
        list_rows: u16,
    },
    /// A background refresh of one scope has started a round of calls, at `at`.
    RefreshStarted {
        scope: Scope,
        at: DateTime<Utc>,
    },
    /// The request of the action in flight is leaving now (its intent is on disk).
    ActionSending {
        id: String,
        at: DateTime<Utc>,
    },
    /// A refresh of the solutions list finished.
    SolutionsLoaded {
        at: DateTime<Utc>,
        /// When the read started.
        started: ReadStamp,
        result: Result<Vec<Solution>, Failure>,
    },
    /// A refresh of the client WABAs finished.
    WabasLoaded {
        at: DateTime<Utc>,
        /// When the read started.
        started: ReadStamp,
        result: Result<WabaList, Failure>,
    },
    /// WABAs a round completed while its list is still being read (new or changed ones), and
    /// how far the list is: shown at once; the round's `WabasLoaded` completes it.
    WabasPage {
        /// When the round started.
        started: ReadStamp,
        page: WabaPage,
    },
    /// What the last WABA round cost and what the rounds plan to cost an hour.
    WabaRoundCost(WabaRoundCost),
    /// A refresh of our credit lines and their allocations finished.
    CreditLinesLoaded {
        at: DateTime<Utc>,
        /// When the read started.
        started: ReadStamp,
        result: Result<Vec<CreditLineData>, Failure>,
    },
    /// A refresh of our credit lines found the same lines, and Meta said none of their
    /// allocations was modified since the last refresh: the lines as read now, their
    /// allocations as held.
    CreditAllocationsUnchanged {
        at: DateTime<Utc>,
        /// When the read started.
        started: ReadStamp,
        lines: Vec<CreditLine>,
    },
    /// The detail of one solution (permissions, apps) arrived.
    DetailLoaded {
        id: String,
        /// When the read started.
        started: ReadStamp,
        result: Result<SolutionNode, Failure>,
    },
    /// A mutation went through send → re-read → audit; this is what came of it.
    ActionFinished(ActionOutcome),
    /// The answer to a mutation was lost (timeout, reset): it is being re-read to learn what
    /// happened. Never re-sent.
    ActionAnswerLost {
        id: String,
    },
    /// Meta throttled this scope: its poller makes no call before `until`.
    ScopeHeld {
        scope: Scope,
        until: DateTime<Utc>,
    },
    /// The latest rate-limit usage Meta reported.
    UsageReported(UsageReport),
    /// The partner kind in force was decided at start (`auto`: from whether our business owns
    /// a credit line); `Err` says why it could not be told.
    PartnerKindDecided(Result<crate::domain::partner::PartnerKind, String>),
    /// The BSP registration records of the audit log, read at start and again after each
    /// registration.
    RegistrationsLoaded(Vec<crate::domain::partner::RegistrationRecord>),
    /// Something the console wants to tell the user (e.g. what start-up recovery found).
    Notice(String),
    /// The event history read at start (oldest first), the store's last-seen marker (what
    /// arrived after it came while the console was closed), and where webhooks come from.
    EventsHistory {
        events: Vec<StoredEvent>,
        last_seen: i64,
        feed: Option<String>,
    },
    /// Events stored for the first time (webhooks, or what the console recorded).
    EventsArrived(Vec<StoredEvent>),
    /// The terminal went away, or a signal asked us to stop.
    Shutdown,
}

/// What a refresh is about. Each scope is polled by its own task and fails on its own: a
/// throttled WABAs call leaves the Solutions pane fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Solutions,
    Wabas,
    CreditLines,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Solutions, Scope::Wabas, Scope::CreditLines];

    /// The console's scope an event's scope names.
    pub fn of_event(s: crate::webhooks::Scope) -> Scope {
        match s {
            crate::webhooks::Scope::Solutions => Scope::Solutions,
            crate::webhooks::Scope::Wabas => Scope::Wabas,
            crate::webhooks::Scope::CreditLines => Scope::CreditLines,
        }
    }

    /// The same scope in the event model's words.
    pub fn to_event(self) -> crate::webhooks::Scope {
        match self {
            Scope::Solutions => crate::webhooks::Scope::Solutions,
            Scope::Wabas => crate::webhooks::Scope::Wabas,
            Scope::CreditLines => crate::webhooks::Scope::CreditLines,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Scope::Solutions => "solutions",
            Scope::Wabas => "wabas",
            Scope::CreditLines => "credit_lines",
        }
    }
}

/// Rate-limit usage from Meta's headers (reference §1.5), in percent of the limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageReport {
    /// The highest of `X-App-Usage` call count, CPU time and total time.
    pub app_pct: Option<u32>,
    /// The highest percentage in `X-Business-Use-Case-Usage`.
    pub buc_pct: Option<u32>,
}

impl UsageReport {
    pub fn highest(&self) -> Option<u32> {
        self.app_pct.max(self.buc_pct)
    }
}

/// Work the runtime does on the model's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Refresh everything now (also done on the poll interval).
    Refresh,
    /// Refresh these scopes now (a webhook said something changed there).
    RefreshScopes(Vec<Scope>),
    /// Store an event the console made (observed, action, notice); it comes back as
    /// `EventsArrived`. The effect stamps its time.
    RecordEvent(LocalEvent),
    /// Read one solution's detail.
    FetchDetail {
        id: String,
    },
    /// Send one mutation, then verify and record it. Emitted once per confirmation. `pin` is
    /// the typed PIN of a register, moved here from the dialog and dropped after sending.
    Perform {
        target: Target,
        pin: Option<Pin>,
    },
    /// Put `text` on the clipboard of the terminal (OSC 52: works over SSH and in tmux).
    Copy {
        text: String,
    },
    Quit,
}

/// An event the state machine wants recorded: everything but the time and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalEvent {
    pub kind: EventKind,
    pub object_id: Option<String>,
    pub scopes: Vec<Scope>,
    pub summary: String,
    pub raw: serde_json::Value,
}

/// The client WABAs one refresh read: every listed WABA, shared with the poller's memory of
/// the book (an unchanged WABA is the same `Arc` round after round, never a copy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WabaList {
    pub wabas: Vec<Arc<Waba>>,
    /// How many WABAs' subscribed apps or solutions could not be read, and the first reason:
    /// their checklist shows "unknown" for what depends on it.
    pub extras_failed: Option<(usize, Failure)>,
}

impl WabaList {
    /// A list of these WABAs with every edge read.
    pub fn of(wabas: Vec<Waba>) -> WabaList {
        WabaList {
            wabas: wabas.into_iter().map(Arc::new).collect(),
            extras_failed: None,
        }
    }
}

/// Part of a round of the WABAs, while its list is read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WabaPage {
    /// WABAs completed since the last page (new, changed, or re-checked and different).
    pub wabas: Vec<Arc<Waba>>,
    /// Rows of the list read so far.
    pub listed: usize,
    /// How many the last complete list had (`None` on the first read).
    pub expected: Option<usize>,
}

/// The cost of the WABA rounds in calls, for the pane's line next to Meta's usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WabaRoundCost {
    /// HTTP requests of the last round, retries included.
    pub last_round: u64,
    /// What a steady round of this book costs, times rounds an hour (list pages plus the
    /// rolling re-check's batches).
    pub planned_per_hour: u64,
    /// The highest usage Meta reported when the round ended, in percent.
    pub usage_pct: Option<u32>,
}

/// Why a call failed, in the words the screen needs. Built from the Graph client's error
/// by the runtime, so the state machine does not depend on the HTTP layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    /// One plain sentence, naming Meta's code when there is one.
    pub sentence: String,
    pub code: Option<i64>,
    /// Meta's trace id of the failed call, for support (`c` copies it).
    pub fbtrace_id: Option<String>,
}

/// The client's classification of errors is plain data, so the state machine uses it as is.
pub type FailureKind = crate::graph::error::ErrorKind;

impl Failure {
    pub fn new(kind: FailureKind, sentence: impl Into<String>, code: Option<i64>) -> Failure {
        Failure {
            kind,
            sentence: sentence.into(),
            code,
            fbtrace_id: None,
        }
    }
}
