//! The IO the console does, as tokio tasks that report back with messages: the background
//! poller, detail reads, and mutations (send once → re-read → audit).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::app::msg::{ActionOutcome, ActionResult, Failure, FailureKind, Msg, Scope};
use crate::audit::{AuditLog, AuditRecord};
use crate::graph::client::GraphClient;
use crate::graph::error::{ErrorKind, GraphError};
use crate::graph::model::{Role, Solution, SolutionAction, SolutionNode, SolutionState};
use crate::graph::solutions;

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
        let result = solutions::list_solutions(&services.client, &services.app_id).await;
        let auth_expired = matches!(&result, Err(e) if e.kind == ErrorKind::AuthExpired);
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
                    let r = solutions::solution_detail(&client, s.id(), s.role).await;
                    (s, r)
                }
            })
            .buffer_unordered(DETAIL_CONCURRENCY);
        while let Some((s, r)) = reads.next().await {
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
                result: r.map(|d| d.node).map_err(|e| Failure::from(&e)),
            };
            if tx.send(msg).is_err() {
                return;
            }
        }
        if !next_round(&mut wake, services.poll_interval, !auth_expired).await {
            return;
        }
    }
}

/// Read one solution's detail and report it.
pub async fn fetch_detail(services: Services, id: String, tx: mpsc::UnboundedSender<Msg>) {
    let result = solutions::solution_detail(&services.client, &id, Role::Unknown)
        .await
        .map(|s| s.node)
        .map_err(|e| Failure::from(&e));
    let _ = tx.send(Msg::DetailLoaded { id, result });
}

/// Send one action exactly once, re-read the solution to see what happened, append the
/// audit line (flushed to disk) and only then report the outcome.
pub async fn perform(
    services: Services,
    id: String,
    name: String,
    action: SolutionAction,
) -> ActionOutcome {
    let client = &services.client;
    let call = client.describe_call("POST", &format!("{id}/{}", action.edge()));
    let mut record = AuditRecord::new(action.edge(), &id, Some(&name), &call);
    let sent = solutions::perform(client, &id, action).await;
    record.set_result(sent.as_ref());

    // A refusal before sending (read-only) changed nothing; anything else is re-read, even a
    // failure, so the screen shows the solution as it really is now.
    let refused_locally = matches!(&sent, Err(e) if e.kind == ErrorKind::ReadOnly);
    let reread: Option<Result<SolutionNode, GraphError>> = if refused_locally {
        None
    } else {
        Some(
            solutions::solution_detail(client, &id, Role::Unknown)
                .await
                .map(|s| s.node),
        )
    };
    let reread_state = |n: &SolutionNode| {
        SolutionState::derive(&n.status, n.status_for_pending_request.as_deref())
    };
    if let Some(Ok(node)) = &reread {
        record.verified_state = Some(reread_state(node).label().to_string());
    }

    let result = match (sent, reread) {
        (Ok(_), Some(Ok(node))) => {
            let state = reread_state(&node);
            if state == action.expected_state() {
                ActionResult::Verified { node }
            } else {
                record.message = Some(format!(
                    "re-read shows {} instead of {}",
                    state.label(),
                    action.expected_state().label()
                ));
                ActionResult::Unexpected { node, state }
            }
        }
        (Ok(_), Some(Err(e))) => ActionResult::Unverified {
            failure: Failure::from(&e),
        },
        (Ok(_), None) => ActionResult::Unverified {
            failure: Failure::new(
                FailureKind::Transport,
                "The solution was not re-read.",
                None,
            ),
        },
        (Err(e), reread) if e.kind == ErrorKind::OutcomeUnknown => ActionResult::OutcomeUnknown {
            node: reread.and_then(Result::ok),
            failure: Failure::from(&e),
        },
        (Err(e), reread) => ActionResult::Failed {
            failure: Failure::from(&e),
            node: reread.and_then(Result::ok),
        },
    };

    let audit = services
        .audit
        .append(&record)
        .map(|()| services.audit.path().display().to_string())
        .map_err(|e| e.to_string());
    ActionOutcome {
        id,
        name,
        action,
        result,
        audit,
    }
}
