//! The whole state of the console.

use chrono::{DateTime, Utc};

use std::fmt;

use tui_input::Input;

use crate::app::credit_lines::CreditLinesPane;
use crate::app::events::EventsPane;
use std::collections::HashMap;

use crate::app::msg::{
    ActionOutcome, ActionResult, Failure, FailureKind, ReadStamp, Scope, Target, UsageReport,
};
use crate::app::solutions::SolutionsPane;
use crate::app::wabas::WabasPane;
use crate::bsp::Bsp;
use crate::domain::onboarding::OnboardingRules;
use crate::domain::partner::{
    BspRegistration, PartnerKind, PartnerKindSetting, RegistrationRecord, registration_of,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    #[default]
    Solutions,
    Wabas,
    CreditLines,
    Events,
}

impl Pane {
    pub const ALL: [Pane; 4] = [
        Pane::Solutions,
        Pane::Wabas,
        Pane::CreditLines,
        Pane::Events,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Solutions => "Solutions",
            Pane::Wabas => "WABAs",
            Pane::CreditLines => "Credit lines",
            Pane::Events => "Events",
        }
    }

    pub fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    pub fn next(self) -> Pane {
        crate::app::list::cycle(&Pane::ALL, self, 1)
    }

    pub fn prev(self) -> Pane {
        crate::app::list::cycle(&Pane::ALL, self, -1)
    }

    /// The data this pane shows; `None` for the Events pane (it is fed, not polled).
    pub fn scope(self) -> Option<Scope> {
        match self {
            Pane::Solutions => Some(Scope::Solutions),
            Pane::Wabas => Some(Scope::Wabas),
            Pane::CreditLines => Some(Scope::CreditLines),
            Pane::Events => None,
        }
    }
}

/// A confirm dialog for one action on one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub target: Target,
    /// The exact call, as shown to the user, e.g. `POST /v25.0/123/accept`.
    pub call: String,
    /// Set once `y` was pressed: the call is on its way and cannot be sent again.
    pub sending: bool,
    /// A register's PIN, while it is typed; emptied when it is sent or the dialog closes.
    pub pin: Option<PinField>,
    /// A share's choices (credit line, currency), changed with keys in the dialog.
    pub share: Option<ShareChoice>,
}

/// What the share dialog lets the user pick: which of our credit lines, in which of Meta's
/// currencies (`WABA_CURRENCIES`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareChoice {
    /// `(id, name)` of each credit line that can be shared.
    pub lines: Vec<(String, String)>,
    pub line: usize,
    /// Index into `WABA_CURRENCIES`.
    pub currency: usize,
    /// The WABA's own currency, as Meta sent it.
    pub waba_currency: Option<String>,
}

/// The masked PIN field of the register dialog. Its `Debug` never shows the digits.
#[derive(Clone, Default)]
pub struct PinField {
    pub input: Input,
}

impl PartialEq for PinField {
    fn eq(&self, other: &Self) -> bool {
        self.input.value() == other.input.value()
    }
}

impl Eq for PinField {}

impl fmt::Debug for PinField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PinField({} digits)", self.input.value().chars().count())
    }
}

/// What sits on top of the pane, taking the keys. There is one at a time, so the size of the
/// confirm variant does not matter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Overlay {
    Help,
    Confirm(Confirm),
    Outcome(Box<ActionOutcome>),
}

/// Freshness of the data, for the status bar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshStatus {
    pub in_flight: bool,
    /// When the round in flight started (for the elapsed time on screen).
    pub since: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    /// The last failure, kept until the next success.
    pub last_error: Option<(DateTime<Utc>, Failure)>,
    /// Meta throttled this scope: no call is made before this time (cleared when the next
    /// round starts).
    pub held_until: Option<DateTime<Utc>>,
}

/// Freshness of every scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Freshness {
    pub solutions: RefreshStatus,
    pub wabas: RefreshStatus,
    pub credit_lines: RefreshStatus,
}

impl Freshness {
    pub fn of(&self, scope: Scope) -> &RefreshStatus {
        match scope {
            Scope::Solutions => &self.solutions,
            Scope::Wabas => &self.wabas,
            Scope::CreditLines => &self.credit_lines,
        }
    }

    pub fn of_mut(&mut self, scope: Scope) -> &mut RefreshStatus {
        match scope {
            Scope::Solutions => &mut self.solutions,
            Scope::Wabas => &mut self.wabas,
            Scope::CreditLines => &mut self.credit_lines,
        }
    }

    /// The token failure, if any scope's last refresh said the token is expired or revoked:
    /// polling has stopped everywhere.
    pub fn auth_failure(&self) -> Option<&Failure> {
        [&self.solutions, &self.wabas, &self.credit_lines]
            .into_iter()
            .filter_map(|r| r.last_error.as_ref())
            .map(|(_, f)| f)
            .find(|f| f.kind == FailureKind::AuthExpired)
    }
}

/// The last action sent on an object, until a read newer than it shows the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acted {
    /// Issued just before the request left.
    pub sent: ReadStamp,
    /// The answer was lost and the re-read failed: whether it happened is not known.
    pub answer_lost: bool,
    pub action: &'static str,
    pub name: String,
}

/// The one mutation that may be in flight at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlight {
    pub target: Target,
    /// The answer was lost; the target is being re-read to see what happened.
    pub answer_lost: bool,
    /// When the request left (for the elapsed time on screen).
    pub since: Option<DateTime<Utc>>,
}

impl InFlight {
    pub fn new(target: Target) -> InFlight {
        InFlight {
            target,
            answer_lost: false,
            since: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Model {
    pub pane: Pane,
    pub solutions: SolutionsPane,
    pub wabas: WabasPane,
    pub credit: CreditLinesPane,
    pub events: EventsPane,
    pub overlay: Option<Overlay>,
    pub refresh: Freshness,
    pub in_flight: Option<InFlight>,
    /// A one-line message for the user, replaced by the next one (e.g. why a key did nothing).
    pub notice: Option<String>,
    pub read_only: bool,
    pub demo: bool,
    pub our_app_id: String,
    pub api_version: String,
    /// Rows a pane's list shows at the terminal's size (from the screen's layout); PgUp/PgDn
    /// move by this much and the viewport follows the selection with it.
    pub page_rows: usize,
    /// Set by a first `q` while a mutation is in flight; a second `q` quits anyway.
    pub quit_armed: bool,
    pub quitting: bool,
    /// The latest rate-limit usage Meta reported, for the status bar.
    pub usage: Option<UsageReport>,
    /// The last action on each object (by id), for the objects it changed.
    pub acted: HashMap<String, Acted>,
    /// The partner kind setting (`auto` until decided at start).
    pub partner_kind_setting: PartnerKindSetting,
    /// The partner kind in force: from the setting, or (`auto`) decided at start from whether
    /// our business owns a credit line. `None` while not known.
    pub partner_kind: Option<PartnerKind>,
    /// The BSP we register customers' numbers with (`bsp` setting), if any.
    pub bsp: Option<Bsp>,
    /// The BSP's registration call as the confirm dialog shows it (credentials redacted);
    /// `None` when no BSP client could be built from the settings (the reason is `bsp_missing`).
    pub bsp_call: Option<String>,
    /// Why there is no BSP client, as a sentence (settings missing), for a `B` refusal.
    pub bsp_missing: Option<String>,
    /// The BSP registration records of the audit log (read at start, re-read after each
    /// registration): the BSP step is derived from them.
    pub bsp_records: Vec<RegistrationRecord>,
    /// The key map in force (the defaults with the config file's `[keys]`).
    pub keymap: std::sync::Arc<crate::app::keymap::Keymap>,
}

impl Model {
    pub fn new(our_app_id: impl Into<String>, api_version: impl Into<String>) -> Model {
        let our_app_id = our_app_id.into();
        Model {
            pane: Pane::default(),
            solutions: SolutionsPane::default(),
            wabas: WabasPane::new(OnboardingRules::new(our_app_id.clone())),
            credit: CreditLinesPane::default(),
            events: EventsPane::default(),
            overlay: None,
            refresh: Freshness::default(),
            in_flight: None,
            notice: None,
            read_only: false,
            demo: false,
            our_app_id,
            api_version: api_version.into(),
            page_rows: 10,
            quit_armed: false,
            quitting: false,
            usage: None,
            acted: HashMap::new(),
            partner_kind_setting: PartnerKindSetting::Auto,
            partner_kind: None,
            bsp: None,
            bsp_call: None,
            bsp_missing: None,
            bsp_records: vec![],
            keymap: crate::app::keymap::default_keymap(),
        }
    }

    /// What `c` copies on the focused pane: the selected row's id, or in an open WABA detail
    /// the selected number's id; with what it is, in words.
    pub fn selected_object_id(&self) -> Option<(&'static str, String)> {
        match self.pane {
            Pane::Solutions => self.solutions.selected_id().map(|id| ("solution id", id)),
            Pane::Wabas => match self.wabas.open_row() {
                Some(_) => self
                    .wabas
                    .selected_phone()
                    .map(|p| ("phone number id", p.id.to_string()))
                    .or_else(|| self.wabas.open.clone().map(|id| ("WABA id", id))),
                None => self.wabas.selected_id().map(|id| ("WABA id", id)),
            },
            Pane::CreditLines => {
                let view = self.credit.view(&self.wabas);
                Some(
                    match self.credit.key_of(&self.credit.selected_row(&view)?) {
                        crate::app::credit_lines::RowKey::Line(id) => ("credit line id", id),
                        crate::app::credit_lines::RowKey::Allocation(id) => {
                            ("allocation config id", id)
                        }
                        crate::app::credit_lines::RowKey::NotFunded(id) => ("WABA id", id),
                    },
                )
            }
            Pane::Events => self.events.selected_object().map(|id| ("object id", id)),
        }
    }

    /// Whether the focused pane shows the detail of a row instead of its list.
    pub fn detail_open(&self) -> bool {
        match self.pane {
            Pane::Solutions => self.solutions.detail_open,
            Pane::Wabas => self.wabas.open.is_some(),
            Pane::CreditLines => self.credit.detail_open,
            Pane::Events => self.events.detail_open,
        }
    }

    /// Set the partner kind in force: the WABAs' checklist is derived again for it.
    pub fn set_partner_kind(&mut self, kind: Option<PartnerKind>) {
        self.partner_kind = kind;
        self.wabas.set_partner_kind(kind);
    }

    /// Whether we are a Tech Provider (known).
    pub fn tech_provider(&self) -> bool {
        self.partner_kind == Some(PartnerKind::TechProvider)
    }

    /// The BSP registration of a WABA, from the audit records.
    pub fn registration(&self, waba_id: &str) -> BspRegistration {
        registration_of(self.partner_kind, waba_id, &self.bsp_records, self.bsp)
    }

    /// Keep the focused pane's viewport around its selection.
    pub fn follow_viewport(&mut self) {
        use crate::app::list::follow;
        let rows = self.page_rows;
        match self.pane {
            Pane::Solutions => {
                let len = self.solutions.visible().len();
                let p = &mut self.solutions;
                p.offset = follow(p.offset, p.selected, len, rows);
            }
            Pane::Wabas => {
                let len = self.wabas.visible_len();
                let p = &mut self.wabas;
                p.offset = follow(p.offset, p.selected, len, rows);
            }
            Pane::CreditLines => {
                let view = self.credit.view(&self.wabas);
                let pos = self.credit.position(&view);
                let p = &mut self.credit;
                p.offset = follow(p.offset, pos, view.rows.len(), rows);
            }
            Pane::Events => {
                let len = self.events.visible().len();
                let p = &mut self.events;
                p.offset = follow(p.offset, p.selected, len, rows);
            }
        }
    }

    /// As of which read an object (solution, WABA or allocation, by id) is shown.
    pub fn as_of(&self, id: &str) -> Option<ReadStamp> {
        self.solutions
            .as_of(id)
            .or_else(|| self.wabas.as_of(id))
            .or_else(|| self.credit.as_of(id))
    }

    /// Remember what an action may have changed: until a read that started after it was
    /// sent shows those objects, no second action on them is offered.
    pub fn record_action(&mut self, outcome: &ActionOutcome) {
        let sent_something = match &outcome.result {
            ActionResult::NotSent { .. } => false,
            ActionResult::Failed { failure, .. } => failure.kind != FailureKind::ReadOnly,
            _ => true,
        };
        if !sent_something {
            return;
        }
        let answer_lost = matches!(
            outcome.result,
            ActionResult::OutcomeUnknown { reread: None, .. }
        );
        for id in outcome.target.objects() {
            self.acted.insert(
                id.to_string(),
                Acted {
                    sent: outcome.sent,
                    answer_lost,
                    action: outcome.target.action_label(),
                    name: outcome.target.name(),
                },
            );
        }
    }

    /// Why `target` may not be acted on yet: one of its objects is shown as it was before the
    /// last action on it (the re-read failed and no later read has come).
    pub fn unconfirmed_action(&self, target: &Target) -> Option<String> {
        use crate::app::keymap::{Command, key_label};
        target.objects().into_iter().find_map(|id| {
            let a = self.acted.get(id)?;
            if self.as_of(id).is_none_or(|shown| shown >= a.sent) {
                return None;
            }
            Some(if a.answer_lost {
                format!(
                    "The last {} for '{}' lost its answer and could not be re-read: wait for the next refresh ({}) to show what happened before acting on it again.",
                    a.action.replace('_', " "),
                    a.name,
                    key_label(Command::Refresh)
                )
            } else {
                format!(
                    "'{}' is shown as it was before the last {} on it: wait for the next refresh ({}) before acting on it again.",
                    a.name,
                    a.action.replace('_', " "),
                    key_label(Command::Refresh)
                )
            })
        })
    }

    /// The exact Graph call an action sends, as the confirm dialog and the audit log show it.
    pub fn call_text(&self, target: &Target) -> String {
        if let Target::BspRegister { .. } = target {
            return self
                .bsp_call
                .clone()
                .unwrap_or_else(|| "POST (no BSP client configured)".into());
        }
        format!(
            "{} /{}/{}",
            target.method(),
            self.api_version,
            target.call_path()
        )
    }

    /// The freshness of what the current pane shows (the Events pane is not polled: it is
    /// always "idle").
    pub fn pane_refresh(&self) -> &RefreshStatus {
        static IDLE: RefreshStatus = RefreshStatus {
            in_flight: false,
            since: None,
            last_success: None,
            last_error: None,
            held_until: None,
        };
        match self.pane.scope() {
            Some(scope) => self.refresh.of(scope),
            None => &IDLE,
        }
    }

    /// Whether a scope's data needs a look: the last refresh failed (the data shown is stale,
    /// or there is none) or Meta holds it.
    pub fn scope_marked(&self, scope: Scope) -> bool {
        let r = self.refresh.of(scope);
        r.last_error.is_some() || r.held_until.is_some()
    }
}
