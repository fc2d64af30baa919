//! The background pollers (one per scope) and detail reads, each read stamped with when it
//! started, and the pacing between rounds.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::app::msg::{Failure, Msg, ReadStamp, Scope, WabaList, WabaPage, WabaRoundCost};
use crate::domain::solution::Solution;
use crate::graph::credit;
use crate::graph::solutions;
use crate::graph::wabas::{
    self, BookMemory, PageUpdate, RoundOptions, RoundResult, WABAS_PER_BATCH, recheck_per_round,
};
use crate::pacing::{self, NextRound, Outcome};

use super::{Services, Wake};

/// How many detail reads run at once after a refresh.
const DETAIL_CONCURRENCY: usize = 4;

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
                at: Utc::now(),
            })
            .is_err()
        {
            return;
        }
        let started = ReadStamp::issue();
        let result = solutions::list_solutions(&services.client, &services.app_id)
            .await
            .map(|list| list.into_iter().map(Solution::from).collect::<Vec<_>>());
        let mut outcome = Outcome::of(&result);
        let stale: Vec<Solution> = match &result {
            Ok(list) => list
                .iter()
                // A row that could not be read has no usable id to read a detail by.
                .filter(|s| s.node.malformed.is_none())
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
            started,
            result: result.map_err(|e| Failure::from(&e)),
        };
        if tx.send(msg).is_err() {
            return;
        }
        let mut reads = futures::stream::iter(stale)
            .map(|s| {
                let client = services.client.clone();
                async move {
                    let started = ReadStamp::issue();
                    let r = solutions::solution_detail(&client, s.id()).await;
                    (s, started, r)
                }
            })
            .buffer_unordered(DETAIL_CONCURRENCY);
        while let Some((s, started, r)) = reads.next().await {
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
                started,
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
    let started = ReadStamp::issue();
    let result = solutions::solution_detail(&services.client, &id)
        .await
        .map_err(|e| Failure::from(&e));
    let _ = tx.send(Msg::DetailLoaded {
        id,
        started,
        result,
    });
}

/// The background refresh of the client WABAs: every `poll_interval`, and at once when woken.
/// Does nothing without a business id (the pane says which setting to give). Each round reads
/// the whole list but only the edges that may have changed (see `graph::wabas`), hands on
/// WABAs as they complete (`WabasPage`), and ends with the whole list (`WabasLoaded`).
pub async fn poll_wabas(services: Services, mut wake: Wake, tx: mpsc::UnboundedSender<Msg>) {
    let Some(business_id) = services.business_id.clone() else {
        return;
    };
    let mut memory = BookMemory::default();
    loop {
        wake.borrow_and_update();
        if tx
            .send(Msg::RefreshStarted {
                scope: Scope::Wabas,
                at: Utc::now(),
            })
            .is_err()
        {
            return;
        }
        let started = ReadStamp::issue();
        let opts = RoundOptions {
            read_concurrency: services.wabas.read_concurrency,
            recheck: recheck_per_round(
                memory.last_total().unwrap_or(0),
                services.poll_interval,
                services.wabas.recheck_period,
            ),
        };
        let pages = tx.clone();
        let result = wabas::refresh_round(
            &services.client,
            &business_id,
            services.partner_business_id.as_deref(),
            &mut memory,
            &services.wabas.inbox,
            started.0,
            &opts,
            |page: PageUpdate| {
                let _ = pages.send(Msg::WabasPage {
                    started,
                    page: WabaPage {
                        wabas: page.wabas,
                        listed: page.listed,
                        expected: page.expected,
                    },
                });
            },
        )
        .await;
        // The round's pages and batches are gone: their memory goes back, not into RSS.
        tokio::task::spawn_blocking(crate::memory::return_free_pages);
        let outcome = match &result {
            Ok(round) => match &round.halted {
                Some(e) => Outcome::of_error(e),
                None => Outcome::of(&result),
            },
            Err(_) => Outcome::of(&result),
        };
        if let Ok(round) = &result {
            let cost = WabaRoundCost {
                last_round: round.requests,
                planned_per_hour: planned_per_hour(
                    round.wabas.len(),
                    services.poll_interval,
                    services.wabas.recheck_period,
                ),
                usage_pct: pacing::highest_pct(&services.client.usage()),
            };
            tracing::debug!(
                wabas = round.wabas.len(),
                requests = round.requests,
                extras_read = round.extras_read,
                decoded = round.decoded,
                "WABA round"
            );
            if tx.send(Msg::WabaRoundCost(cost)).is_err() {
                return;
            }
        }
        let msg = Msg::WabasLoaded {
            at: Utc::now(),
            started,
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

/// What the WABA rounds of a steady book of `book` WABAs cost an hour: its list pages and the
/// rolling re-check's batches each round. Webhooks, actions and changed WABAs add to it.
pub fn planned_per_hour(book: usize, interval: Duration, recheck_period: Duration) -> u64 {
    let pages = book.div_ceil(100).max(1);
    let batches = recheck_per_round(book, interval, recheck_period).div_ceil(WABAS_PER_BATCH);
    let rounds_per_hour = 3600.0 / interval.as_secs_f64().max(1.0);
    ((pages + batches) as f64 * rounds_per_hour).round() as u64
}

/// The background refresh of our credit lines and their allocations: every `poll_interval`,
/// and at once when woken. Does nothing without a business id or a credit line id (the pane
/// says which setting to give).
pub async fn poll_credit_lines(services: Services, mut wake: Wake, tx: mpsc::UnboundedSender<Msg>) {
    if services.business_id.is_none() && services.credit_line_id.is_none() {
        return;
    }
    // The last complete read's pages and tags: a round whose pages Meta did not modify
    // decodes nothing.
    let mut memory = credit::CreditMemory::default();
    loop {
        // A refresh asked for (Ctrl-r, after an action) asks about every allocation page.
        let ask_allocations = wake.has_changed().unwrap_or(false) || memory.allocations_due();
        wake.borrow_and_update();
        if tx
            .send(Msg::RefreshStarted {
                scope: Scope::CreditLines,
                at: Utc::now(),
            })
            .is_err()
        {
            return;
        }
        let started = ReadStamp::issue();
        let result = credit::refresh_round(
            &services.client,
            services.business_id.as_deref(),
            services.credit_line_id.as_deref(),
            &mut memory,
            ask_allocations,
        )
        .await;
        let outcome = Outcome::of(&result);
        let msg = match result {
            Ok(credit::CreditRead::AllocationsUnchanged(lines)) => {
                Msg::CreditAllocationsUnchanged {
                    at: Utc::now(),
                    started,
                    lines,
                }
            }
            Ok(credit::CreditRead::Read(lines)) => Msg::CreditLinesLoaded {
                at: Utc::now(),
                started,
                result: Ok(lines),
            },
            Err(e) => Msg::CreditLinesLoaded {
                at: Utc::now(),
                started,
                result: Err(Failure::from(&e)),
            },
        };
        if tx.send(msg).is_err() {
            return;
        }
        if !pace(&services, &mut wake, Scope::CreditLines, &outcome, &tx).await {
            return;
        }
    }
}

/// A round's book as the state machine takes it.
pub fn waba_list(round: RoundResult) -> WabaList {
    let failed_wabas: std::collections::HashSet<&str> = round
        .extras_failed
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    let extras_failed = round
        .extras_failed
        .first()
        .map(|(_, e)| (failed_wabas.len(), Failure::from(e)));
    WabaList {
        wabas: round.wabas,
        extras_failed,
    }
}
