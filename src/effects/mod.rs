//! The IO the console does, in one place used by the runtime and by the tests: an
//! [`Executor`] carries out the state machine's effects as tokio tasks whose results come back
//! as messages (background pollers, detail reads, the action pipeline, start-up recovery, the
//! usage Meta reports). Audit writes run on blocking threads.

pub mod feed;
pub mod perform;
pub mod poll;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::app::msg::{Effect, Failure, Msg, Scope, UsageReport};
use crate::audit::AuditLog;
use crate::graph::client::{GraphClient, Usage};
use crate::graph::error::GraphError;

impl From<&GraphError> for Failure {
    fn from(e: &GraphError) -> Failure {
        let mut f = Failure::new(e.kind, e.sentence(), e.code);
        f.fbtrace_id = e.fbtrace_id.clone();
        f
    }
}

/// What the tasks need: the client, who we are, and where mutations are recorded.
#[derive(Clone)]
pub struct Services {
    pub client: GraphClient,
    pub app_id: String,
    /// Our business portfolio, whose client WABAs are listed; `None` = the WABAs pane is off.
    pub business_id: Option<String>,
    /// Only client WABAs also shared with this partner business, when set.
    pub partner_business_id: Option<String>,
    /// The one credit line to show; `None` = every credit line of `business_id`.
    pub credit_line_id: Option<String>,
    pub audit: Arc<AuditLog>,
    pub poll_interval: Duration,
    /// The event store and the webhook intake (the Events pane).
    pub feed: feed::EventFeed,
    /// The partner kind setting: `auto` is decided at start from our credit lines.
    pub partner_kind: crate::domain::partner::PartnerKindSetting,
    /// Our BSP's client (a Tech Provider registers its customers' numbers with it), built
    /// once from the settings; `None` when no BSP is configured.
    pub bsp: Option<crate::bsp::BspClient>,
    /// How the WABA rounds read, and what other reads tell them.
    pub wabas: WabaReads,
}

/// How the WABA poller reads (settings `read_concurrency`, `extras_recheck_period`), and the
/// inbox through which actions' re-reads and webhooks reach its memory of the book.
#[derive(Debug, Clone)]
pub struct WabaReads {
    pub read_concurrency: usize,
    /// The whole book's edges are read again once over this period, a slice a round.
    pub recheck_period: Duration,
    pub inbox: crate::graph::wabas::WabaInbox,
}

impl Default for WabaReads {
    fn default() -> WabaReads {
        WabaReads {
            read_concurrency: crate::graph::wabas::DEFAULT_READ_CONCURRENCY,
            recheck_period: crate::config::DEFAULT_EXTRAS_RECHECK_PERIOD,
            inbox: Default::default(),
        }
    }
}

/// Ctrl-r: every poller watches this counter and refreshes when it moves.
pub type Wake = tokio::sync::watch::Receiver<u64>;

/// How often the usage Meta reported is looked at, to tell the model when it changed.
const USAGE_EVERY: Duration = Duration::from_secs(1);

/// Carries out effects. One per console (and one per test harness).
pub struct Executor {
    services: Services,
    tx: mpsc::UnboundedSender<Msg>,
    /// One counter per scope (`Scope::ALL` order): Ctrl-r bumps them all, a webhook the ones
    /// it concerns; a bump during a refresh queues exactly one more round.
    wake: [watch::Sender<u64>; 3],
    background: Vec<tokio::task::JoinHandle<()>>,
    actions: JoinSet<()>,
    pending: perform::Pending,
}

impl Executor {
    pub fn new(services: Services, tx: mpsc::UnboundedSender<Msg>) -> Executor {
        Executor {
            services,
            tx,
            wake: std::array::from_fn(|_| watch::channel(0u64).0),
            background: vec![],
            actions: JoinSet::new(),
            pending: Default::default(),
        }
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Start the background work: a poller per scope, the usage watch, and the re-read of
    /// attempts an earlier session left without an outcome.
    pub fn start(&mut self) {
        let s = &self.services;
        let wake = |scope: Scope| self.wake[scope_index(scope)].subscribe();
        self.background.extend([
            tokio::spawn(poll::poll_solutions(
                s.clone(),
                wake(Scope::Solutions),
                self.tx.clone(),
            )),
            tokio::spawn(poll::poll_wabas(
                s.clone(),
                wake(Scope::Wabas),
                self.tx.clone(),
            )),
            tokio::spawn(poll::poll_credit_lines(
                s.clone(),
                wake(Scope::CreditLines),
                self.tx.clone(),
            )),
            tokio::spawn(watch_usage(s.client.clone(), self.tx.clone())),
            tokio::spawn(recover(s.clone(), self.tx.clone())),
            tokio::spawn(feed::run(
                s.feed.clone(),
                webhook_hints(s.wabas.inbox.clone(), self.tx.clone()),
            )),
            tokio::spawn(decide_partner_kind(s.clone(), self.tx.clone())),
            tokio::spawn(load_registrations(s.clone(), self.tx.clone())),
        ]);
    }

    /// Start only the solutions poller (tests that look at one scope).
    pub fn start_solutions_only(&mut self) {
        let rx = self.wake[scope_index(Scope::Solutions)].subscribe();
        self.background.push(tokio::spawn(poll::poll_solutions(
            self.services.clone(),
            rx,
            self.tx.clone(),
        )));
    }

    /// Carry out one effect. `true` when it asks the console to quit.
    pub fn run(&mut self, effect: Effect) -> bool {
        match effect {
            Effect::Refresh => {
                for w in &self.wake {
                    w.send_modify(|n| *n += 1);
                }
            }
            Effect::RefreshScopes(scopes) => {
                for scope in scopes {
                    self.wake[scope_index(scope)].send_modify(|n| *n += 1);
                }
            }
            Effect::RecordEvent(local) => {
                tokio::spawn(feed::record(
                    self.services.feed.store.clone(),
                    local,
                    self.tx.clone(),
                ));
            }
            Effect::FetchDetail { id } => {
                tokio::spawn(poll::fetch_detail(
                    self.services.clone(),
                    id,
                    self.tx.clone(),
                ));
            }
            Effect::Perform { target, pin } => {
                // Never the PIN: only what is done to which object.
                tracing::info!(object = %target.object_id(), action = target.action_label(), "sending");
                let (s, tx, pending) =
                    (self.services.clone(), self.tx.clone(), self.pending.clone());
                self.actions.spawn(async move {
                    let bsp = matches!(target, crate::app::msg::Target::BspRegister { .. });
                    let outcome =
                        perform::perform(s.clone(), target, pin, pending, Some(tx.clone())).await;
                    tell_waba_poller(&s.wabas.inbox, &outcome);
                    if bsp {
                        // The registration state is derived from the audit records: read
                        // them again now that this attempt's outcome is written.
                        load_registrations(s, tx.clone()).await;
                    }
                    let _ = tx.send(Msg::ActionFinished(outcome));
                });
            }
            // The terminal is the runtime's: it writes the clipboard escape itself.
            Effect::Copy { .. } => {}
            Effect::Quit => return true,
        }
        false
    }

    /// Stop: pollers at once; actions in flight get up to `grace` to finish their re-read and
    /// outcome record, then each one still waiting is recorded as "interrupted — outcome
    /// unknown". Returns how many were interrupted.
    pub async fn shutdown(mut self, grace: Duration) -> usize {
        for task in &self.background {
            task.abort();
        }
        let _ = tokio::time::timeout(grace, async {
            while self.actions.join_next().await.is_some() {}
        })
        .await;
        self.actions.abort_all();
        // What the console showed this session counts as seen next time.
        if let Some(store) = self.services.feed.store.clone() {
            let _ = tokio::time::timeout(grace, store.mark_all_seen()).await;
        }
        let audit = self.services.audit.clone();
        let pending = self.pending.clone();
        tokio::task::spawn_blocking(move || perform::interrupt_pending(&audit, &pending))
            .await
            .unwrap_or(0)
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        for task in &self.background {
            task.abort();
        }
    }
}

/// An action's re-read of WABAs goes to the WABA poller's memory too, so its next round
/// neither reads them again nor brings back what they were before.
fn tell_waba_poller(
    inbox: &crate::graph::wabas::WabaInbox,
    outcome: &crate::app::msg::ActionOutcome,
) {
    use crate::app::msg::Reread;
    match outcome.result.reread() {
        Some(Reread::Waba(w)) => inbox.reread((**w).clone(), outcome.reread.0),
        Some(Reread::Credit(c)) => {
            for w in &c.wabas {
                inbox.reread(w.clone(), outcome.reread.0);
            }
        }
        _ => {}
    }
}

/// The feed's messages pass here on their way to the console: the WABAs a webhook names have
/// their edges read in the next round (the webhook also wakes the poller, via the model).
fn webhook_hints(
    inbox: crate::graph::wabas::WabaInbox,
    tx: mpsc::UnboundedSender<Msg>,
) -> mpsc::UnboundedSender<Msg> {
    let (hint_tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            if let Msg::EventsArrived(events) = &msg {
                inbox.stale(
                    events
                        .iter()
                        .filter(|e| e.event.kind == crate::webhooks::EventKind::Webhook)
                        .filter(|e| e.event.scopes.contains(&crate::webhooks::Scope::Wabas))
                        .filter_map(|e| e.event.object_id.clone()),
                );
            }
            if tx.send(msg).is_err() {
                return;
            }
        }
    });
    hint_tx
}

fn scope_index(scope: Scope) -> usize {
    Scope::ALL.iter().position(|s| *s == scope).unwrap_or(0)
}

/// The usage the status bar shows, from what the client last saw.
pub fn usage_report(u: &Usage) -> UsageReport {
    UsageReport {
        app_pct: [u.app_call_pct, u.app_cpu_pct, u.app_time_pct]
            .into_iter()
            .flatten()
            .max(),
        buc_pct: u.buc_max_pct,
    }
}

/// Tell the model when the usage Meta reports changes.
async fn watch_usage(client: GraphClient, tx: mpsc::UnboundedSender<Msg>) {
    let mut last = UsageReport::default();
    let mut every = tokio::time::interval(USAGE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let now = usage_report(&client.usage());
        if now != last {
            last = now;
            if tx.send(Msg::UsageReported(now)).is_err() {
                return;
            }
        }
    }
}

/// The partner kind in force: the setting, or (`auto`) whether our business owns a credit
/// line (`GET /{business-id}/extendedcredits`).
async fn decide_partner_kind(services: Services, tx: mpsc::UnboundedSender<Msg>) {
    use crate::domain::partner::decide_partner_kind as decide;
    let owns = match (services.partner_kind, services.business_id.as_deref()) {
        (crate::domain::partner::PartnerKindSetting::Auto, Some(business)) => {
            match crate::graph::credit::owns_credit_lines(&services.client, business).await {
                Ok(owns) => Some(owns),
                Err(e) => {
                    let _ = tx.send(Msg::PartnerKindDecided(Err(format!(
                        "our credit lines could not be read: {}",
                        e.sentence()
                    ))));
                    return;
                }
            }
        }
        _ => None,
    };
    let result = decide(services.partner_kind, owns)
        .ok_or_else(|| "no business id is set to look for our credit lines".to_string());
    let _ = tx.send(Msg::PartnerKindDecided(result));
}

/// Read the BSP registration records of the audit log (on a blocking thread).
async fn load_registrations(services: Services, tx: mpsc::UnboundedSender<Msg>) {
    let path = services.audit.path().to_path_buf();
    let records = tokio::task::spawn_blocking(move || {
        crate::audit::read_records(&path).map(|r| crate::audit::registration_records(&r))
    })
    .await
    .ok()
    .and_then(Result::ok)
    .unwrap_or_default();
    let _ = tx.send(Msg::RegistrationsLoaded(records));
}

/// Re-read what an earlier session left unresolved, saying so before and after.
async fn recover(services: Services, tx: mpsc::UnboundedSender<Msg>) {
    let path = services.audit.path().to_path_buf();
    let open = tokio::task::spawn_blocking(move || {
        crate::audit::read_records(&path).map(|r| crate::audit::unresolved(&r))
    })
    .await
    .ok()
    .and_then(Result::ok)
    .unwrap_or_default();
    let Some(first) = open.first() else {
        return;
    };
    let at = |t: &str| t.get(11..16).unwrap_or(t).to_string();
    let name = first.target_name.clone().unwrap_or(first.target.clone());
    let n = open.len();
    let _ = tx.send(Msg::Notice(format!(
        "The last session left {n} action{} with an unknown outcome: {} '{name}' at {} — re-reading.",
        if n == 1 { "" } else { "s" },
        first.action.replace('_', " "),
        at(&first.time),
    )));
    let found = perform::recover(&services).await;
    if let Some(f) = found.first() {
        let more = match found.len() {
            1 => String::new(),
            k => format!(" ({} more in the audit log)", k - 1),
        };
        let _ = tx.send(Msg::Notice(format!(
            "Re-read after the last session: {} '{}' at {} — {}{more}.",
            f.action,
            f.name,
            at(&f.time),
            f.finding
        )));
    }
}
