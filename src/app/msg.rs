//! Messages into the state machine, and effects out of it.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use crate::graph::model::{Solution, SolutionAction, SolutionNode, SolutionState};

/// Everything that can happen to the console.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// The terminal's size in cells.
    Resize {
        width: u16,
        height: u16,
    },
    /// A background refresh of one scope has started a round of calls.
    RefreshStarted {
        scope: Scope,
    },
    /// A refresh of the solutions list finished.
    SolutionsLoaded {
        at: DateTime<Utc>,
        result: Result<Vec<Solution>, Failure>,
    },
    /// The detail of one solution (permissions, apps) arrived.
    DetailLoaded {
        id: String,
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
    /// Read one solution's detail.
    FetchDetail {
        id: String,
    },
    /// Send one mutation, then verify and record it. Emitted once per confirmation.
    Perform {
        id: String,
        name: String,
        action: SolutionAction,
    },
    Quit,
}

/// Why a call failed, in the words the screen needs. Built from the Graph client's error
/// by the runtime, so the state machine does not depend on the HTTP layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    /// One plain sentence, naming Meta's code when there is one.
    pub sentence: String,
    pub code: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    Throttled,
    AuthExpired,
    Permission,
    Transient,
    InvalidRequest,
    NotFound,
    Transport,
    ReadOnly,
    OutcomeUnknown,
}

impl Failure {
    pub fn new(kind: FailureKind, sentence: impl Into<String>, code: Option<i64>) -> Failure {
        Failure {
            kind,
            sentence: sentence.into(),
            code,
        }
    }
}

/// The result of a confirmed action, after re-reading the solution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionOutcome {
    pub id: String,
    pub name: String,
    pub action: SolutionAction,
    pub result: ActionResult,
    /// Where the attempt was recorded, or why it could not be.
    pub audit: Result<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionResult {
    /// Meta accepted the call and a re-read shows the expected state.
    Verified { node: SolutionNode },
    /// Meta accepted the call but the re-read shows another state.
    Unexpected {
        node: SolutionNode,
        state: SolutionState,
    },
    /// Meta accepted the call; the re-read failed, so the new state is not confirmed.
    Unverified { failure: Failure },
    /// Meta refused the call, or it could not be sent. `node` is the re-read, if any: the
    /// solution as it really is now (someone else may have acted first).
    Failed {
        failure: Failure,
        node: Option<SolutionNode>,
    },
    /// The response was lost: the re-read says what actually happened (if it could).
    OutcomeUnknown {
        node: Option<SolutionNode>,
        failure: Failure,
    },
}
