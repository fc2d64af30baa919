//! The IO the console does, as tokio tasks that report back with messages: the background
//! poller, detail reads, and mutations (send once → re-read → audit).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::app::msg::{
    ActionOutcome, ActionResult, CreditReread, Failure, FailureKind, Msg, Reread, Scope, Target,
    WabaList,
};
use crate::audit::{AuditLog, AuditRecord};
use crate::domain::solution::Solution;
use crate::graph::client::GraphClient;
use crate::graph::credit;
use crate::graph::error::{ErrorKind, GraphError};
use crate::graph::solutions;
use crate::graph::waba_model::Pin;
use crate::graph::wabas::{self, WabaBook};
use crate::pacing::{self, NextRound, Outcome};

/// How many detail reads run at once after a refresh.
const DETAIL_CONCURRENCY: usize = 4;

impl From<&GraphError> for Failure {
    fn from(e: &GraphError) -> Failure {
        Failure::new(e.kind, e.sentence(), e.code)
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
}

/// Ctrl-r: every poller watches this counter and refreshes when it moves.
pub type Wake = tokio::sync::watch::Receiver<u64>;

/// Wait for the next round: the poll interval, or a wake. After an expired token only a wake
/// will do: retrying on a timer cannot help. `false` when the console is gone.
async fn next_round(wake: &mut Wake, every: Duration, timer: bool) -> bool {
    if timer {
        tokio::select! {
            _ = tokio::time::sleep(every) => true,
            changed = wake.changed() => changed.is_ok(),
        }
    } else {
        wake.changed().await.is_ok()
    }
}

/// Between two rounds of a poller: wait as [`pacing::next_round`] says for this outcome and
/// the usage Meta reports (slower near the limit; held, wakes ignored, while Meta throttles
/// the scope; Ctrl-r only after an expired token, also when another scope saw it). Tells the
/// model about a hold. `false` when the console is gone. Every poller should end its round
/// with this.
pub async fn pace(
    services: &Services,
    wake: &mut Wake,
    scope: Scope,
    outcome: &Outcome,
    tx: &mpsc::UnboundedSender<Msg>,
) -> bool {
    let client = &services.client;
    let usage = pacing::highest_pct(&client.usage());
    // The latch (a 190 seen by any scope) stops timer rounds everywhere; a plain failure
    // since then (network) says nothing about the token, so that scope keeps its timer.
    let latch_applies = *outcome != Outcome::Failed;
    let plan = if client.auth_failed() && latch_applies {
        NextRound::WakeOnly
    } else {
        pacing::next_round(services.poll_interval, usage, outcome)
    };
    match plan {
        NextRound::Hold(d) => {
            let until = pacing::deadline(Utc::now(), d);
            tracing::info!(
                scope = scope.label(),
                hold_secs = d.as_secs(),
                "throttled: no calls until Meta allows them"
            );
            if tx.send(Msg::ScopeHeld { scope, until }).is_err() {
                return false;
            }
            tokio::time::sleep(d).await;
            !tx.is_closed()
        }
        NextRound::WakeOnly => next_round(wake, services.poll_interval, false).await,
        NextRound::After(d) => {
            if !next_round(wake, d, true).await {
                return false;
            }
            // The token may have failed in another scope meanwhile: then only a wake counts.
            if latch_applies && client.auth_failed() && !wake.has_changed().unwrap_or(false) {
                return next_round(wake, d, false).await;
            }
            true
        }
    }
}

/// The background refresh of the solutions: every `poll_interval`, and at once when woken.
pub async fn poll_solutions(services: Services, mut wake: Wake, tx: mpsc::UnboundedSender<Msg>) {
    // Details already read, keyed by id, with the status they were read at: a detail is read
    // again only when the solution's status changes, so a steady book costs two calls a round.
    let mut read_at: HashMap<String, (String, Option<String>)> = HashMap::new();
    loop {
        wake.borrow_and_update();
        if tx
            .send(Msg::RefreshStarted {
                scope: Scope::Solutions,
            })
            .is_err()
        {
            return;
        }
        let result = solutions::list_solutions(&services.client, &services.app_id)
            .await
            .map(|list| list.into_iter().map(Solution::from).collect::<Vec<_>>());
        let mut outcome = Outcome::of(&result);
        let stale: Vec<Solution> = match &result {
            Ok(list) => list
                .iter()
                .filter(|s| {
                    read_at.get(s.id())
                        != Some(&(
                            s.node.status.clone(),
                            s.node.status_for_pending_request.clone(),
                        ))
                })
                .cloned()
                .collect(),
            Err(_) => vec![],
        };
        let msg = Msg::SolutionsLoaded {
            at: Utc::now(),
            result: result.map_err(|e| Failure::from(&e)),
        };
        if tx.send(msg).is_err() {
            return;
        }
        let mut reads = futures::stream::iter(stale)
            .map(|s| {
                let client = services.client.clone();
                async move {
                    let r = solutions::solution_detail(&client, s.id()).await;
                    (s, r)
                }
            })
            .buffer_unordered(DETAIL_CONCURRENCY);
        while let Some((s, r)) = reads.next().await {
            // Throttled or a dead token: the remaining reads would hit the same wall.
            let stop = match &r {
                Err(e) => {
                    let o = Outcome::of_error(e);
                    let stop = o.stops_round();
                    if stop {
                        outcome = o;
                    }
                    stop
                }
                Ok(_) => false,
            };
            if r.is_ok() {
                read_at.insert(
                    s.id().to_string(),
                    (
                        s.node.status.clone(),
                        s.node.status_for_pending_request.clone(),
                    ),
                );
            }
            let msg = Msg::DetailLoaded {
                id: s.id().to_string(),
                result: r.map_err(|e| Failure::from(&e)),
            };
            if tx.send(msg).is_err() {
                return;
            }
            if stop {
                break;
            }
        }
        drop(reads);
        if !pace(&services, &mut wake, Scope::Solutions, &outcome, &tx).await {
            return;
        }
    }
}

/// Read one solution's detail and report it.
pub async fn fetch_detail(services: Services, id: String, tx: mpsc::UnboundedSender<Msg>) {
    let result = solutions::solution_detail(&services.client, &id)
        .await
        .map_err(|e| Failure::from(&e));
    let _ = tx.send(Msg::DetailLoaded { id, result });
}

/// The background refresh of the client WABAs: every `poll_interval`, and at once when woken.
/// Does nothing without a business id (the pane says which setting to give).
pub async fn poll_wabas(services: Services, mut wake: Wake, tx: mpsc::UnboundedSender<Msg>) {
    let Some(business_id) = services.business_id.clone() else {
        return;
    };
    loop {
        wake.borrow_and_update();
        if tx
            .send(Msg::RefreshStarted {
                scope: Scope::Wabas,
            })
            .is_err()
        {
            return;
        }
        let result = wabas::refresh(
            &services.client,
            &business_id,
            services.partner_business_id.as_deref(),
        )
        .await;
        let outcome = Outcome::of(&result);
        let msg = Msg::WabasLoaded {
            at: Utc::now(),
            result: result.map(waba_list).map_err(|e| Failure::from(&e)),
        };
        if tx.send(msg).is_err() {
            return;
        }
        if !pace(&services, &mut wake, Scope::Wabas, &outcome, &tx).await {
            return;
        }
    }
}

/// The background refresh of our credit lines and their allocations: every `poll_interval`,
/// and at once when woken. Does nothing without a business id or a credit line id (the pane
/// says which setting to give).
pub async fn poll_credit_lines(services: Services, mut wake: Wake, tx: mpsc::UnboundedSender<Msg>) {
    if services.business_id.is_none() && services.credit_line_id.is_none() {
        return;
    }
    loop {
        wake.borrow_and_update();
        if tx
            .send(Msg::RefreshStarted {
                scope: Scope::CreditLines,
            })
            .is_err()
        {
            return;
        }
        let result = credit::refresh(
            &services.client,
            services.business_id.as_deref(),
            services.credit_line_id.as_deref(),
        )
        .await;
        let outcome = Outcome::of(&result);
        let msg = Msg::CreditLinesLoaded {
            at: Utc::now(),
            result: result.map_err(|e| Failure::from(&e)),
        };
        if tx.send(msg).is_err() {
            return;
        }
        if !pace(&services, &mut wake, Scope::CreditLines, &outcome, &tx).await {
            return;
        }
    }
}

/// At most this many WABAs of a customer business are re-read after a revoke.
const REVOKE_REREAD_WABAS: usize = 10;

/// Re-read what a credit action changed: for a share, the line's allocations for the
/// customer business and the WABA (its `primary_funding_id`); for a revoke, the allocation and
/// (best effort) the WABAs of that business.
async fn reread_credit(client: &GraphClient, target: &Target) -> Result<Reread, GraphError> {
    let reread = match target {
        Target::ShareCredit {
            credit_line_id,
            waba_id,
            business_id,
            ..
        } => {
            let (allocations, waba) = tokio::join!(
                credit::list_allocations(client, credit_line_id, business_id.as_deref()),
                wabas::read_waba(client, waba_id)
            );
            CreditReread {
                credit_line_id: credit_line_id.clone(),
                allocations: allocations?,
                wabas: vec![waba?],
            }
        }
        Target::RevokeAllocation {
            allocation_id,
            credit_line_id,
            waba_ids,
            ..
        } => {
            let allocation = credit::read_allocation(client, allocation_id).await?;
            let mut read = vec![];
            for id in waba_ids.iter().take(REVOKE_REREAD_WABAS) {
                if let Ok(w) = wabas::read_waba(client, id).await {
                    read.push(w);
                }
            }
            CreditReread {
                credit_line_id: credit_line_id.clone(),
                allocations: vec![allocation],
                wabas: read,
            }
        }
        _ => {
            return Err(GraphError::new(
                ErrorKind::InvalidRequest,
                "not a credit action",
            ));
        }
    };
    Ok(Reread::Credit(Box::new(reread)))
}

/// A refresh's book as the state machine takes it.
pub fn waba_list(book: WabaBook) -> WabaList {
    let failed_wabas: std::collections::HashSet<&str> = book
        .extras_failed
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    let extras_failed = book
        .extras_failed
        .first()
        .map(|(_, e)| (failed_wabas.len(), Failure::from(e)));
    WabaList {
        wabas: book.wabas,
        extras_failed,
    }
}

/// How a failed call reads to the user: a register refusal in WhatsApp's own terms.
fn failure_of(target: &Target, e: &GraphError) -> Failure {
    let mut f = Failure::from(e);
    if let Target::RegisterPhone { .. } = target
        && let Some(sentence) = wabas::register_sentence(e)
    {
        f.sentence = sentence;
    }
    f
}

/// Read the target's object again, to see what the action did.
async fn reread(client: &GraphClient, target: &Target) -> Result<Reread, GraphError> {
    match target {
        Target::Solution { id, .. } => solutions::solution_detail(client, id)
            .await
            .map(|node| Reread::Solution(Box::new(node))),
        Target::SubscribeApp { waba_id, .. } | Target::RegisterPhone { waba_id, .. } => {
            wabas::read_waba(client, waba_id)
                .await
                .map(|w| Reread::Waba(Box::new(w)))
        }
        Target::ShareCredit { .. } | Target::RevokeAllocation { .. } => {
            reread_credit(client, target).await
        }
    }
}

/// Send one action exactly once, re-read its object to see what happened, append the audit
/// line (flushed to disk) and only then report the outcome. A register's PIN is used for the
/// request body and dropped right after; it is in no log and no audit line.
pub async fn perform(services: Services, target: Target, pin: Option<Pin>) -> ActionOutcome {
    perform_reporting(services, target, pin, None).await
}

/// [`perform`], telling the console with [`Msg::ActionAnswerLost`] as soon as the answer is
/// known to be lost, so it can say "outcome unknown — re-reading" while the re-read runs.
pub async fn perform_reporting(
    services: Services,
    target: Target,
    pin: Option<Pin>,
    progress: Option<mpsc::UnboundedSender<Msg>>,
) -> ActionOutcome {
    let client = &services.client;
    let call = client.describe_call(target.method(), &target.call_path());
    let name = target.name();
    let mut record = AuditRecord::new(
        target.action_label(),
        target.object_id(),
        Some(&name),
        &call,
    );
    let sent = match &target {
        Target::Solution { id, action, .. } => solutions::perform(client, id, *action).await,
        Target::SubscribeApp { waba_id, .. } => wabas::subscribe_app(client, waba_id).await,
        Target::RegisterPhone { phone_id, .. } => match &pin {
            Some(pin) => wabas::register_phone(client, phone_id, pin).await,
            None => Err(GraphError::new(
                ErrorKind::InvalidRequest,
                "Not sent: no PIN was given.",
            )),
        },
        // Sent once: a share is not idempotent, and a lost answer is re-read below, never
        // sent again.
        Target::ShareCredit {
            credit_line_id,
            waba_id,
            currency,
            ..
        } => credit::share_and_attach(client, credit_line_id, waba_id, currency)
            .await
            .map(|a| a.response),
        Target::RevokeAllocation { allocation_id, .. } => {
            credit::revoke(client, allocation_id).await
        }
    };
    drop(pin);
    record.set_result(sent.as_ref());
    if let Err(e) = &sent {
        record.message = Some(failure_of(&target, e).sentence);
    }
    if let (Err(e), Some(tx)) = (&sent, &progress)
        && e.kind == ErrorKind::OutcomeUnknown
    {
        let _ = tx.send(Msg::ActionAnswerLost {
            id: target.object_id().to_string(),
        });
    }

    // A refusal before sending (read-only) changed nothing; anything else is re-read, even a
    // failure, so the screen shows the object as it really is now.
    let refused_locally = matches!(&sent, Err(e) if e.kind == ErrorKind::ReadOnly);
    let reread: Option<Result<Reread, GraphError>> = if refused_locally {
        None
    } else {
        Some(reread(client, &target).await)
    };
    if let Some(Ok(r)) = &reread {
        record.verified_state = Some(r.state(&target, &services.app_id));
    }

    let result = match (sent, reread) {
        (Ok(_), Some(Ok(r))) => {
            let state = r.state(&target, &services.app_id);
            let expected = target.expected_state();
            if state == expected {
                ActionResult::Verified { reread: r }
            } else {
                record.message = Some(format!("re-read shows {state} instead of {expected}"));
                ActionResult::Unexpected { reread: r, state }
            }
        }
        (Ok(_), Some(Err(e))) => ActionResult::Unverified {
            failure: Failure::from(&e),
        },
        (Ok(_), None) => ActionResult::Unverified {
            failure: Failure::new(FailureKind::Transport, "It was not re-read.", None),
        },
        (Err(e), reread) if e.kind == ErrorKind::OutcomeUnknown => ActionResult::OutcomeUnknown {
            reread: reread.and_then(Result::ok),
            failure: failure_of(&target, &e),
        },
        (Err(e), reread) => ActionResult::Failed {
            failure: failure_of(&target, &e),
            reread: reread.and_then(Result::ok),
        },
    };

    let audit = services
        .audit
        .append(&record)
        .map(|()| services.audit.path().display().to_string())
        .map_err(|e| e.to_string());
    ActionOutcome {
        target,
        result,
        audit,
    }
}
