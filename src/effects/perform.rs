//! The one action pipeline: intent (written and synced to the audit log on a blocking
//! thread) → send once → re-read → compare typed states → outcome record → result. Nothing is
//! sent when the intent cannot be written. A lost answer is re-read, never re-sent.
//! At start-up, [`recover`] re-reads the objects of attempts an earlier session left without
//! an outcome and records what it found.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::app::msg::{
    ActionOutcome, ActionResult, CreditReread, Failure, FailureKind, Msg, ObservedState, ReadStamp,
    Reread, Target,
};
use crate::audit::{AuditLog, AuditRecord};
use crate::graph::client::GraphClient;
use crate::graph::credit;
use crate::graph::error::{ErrorKind, GraphError};
use crate::graph::solutions;
use crate::graph::waba_model::Pin;
use crate::graph::wabas;

use super::Services;

/// Intents written whose outcome is not yet: on a shutdown that cannot wait for them, each
/// gets an "interrupted — outcome unknown" record.
pub type Pending = Arc<Mutex<HashMap<String, AuditRecord>>>;

/// Append a record on a blocking thread (it syncs to disk); the error as a sentence.
pub async fn append(audit: &Arc<AuditLog>, rec: AuditRecord) -> Result<(), String> {
    let log = audit.clone();
    tokio::task::spawn_blocking(move || log.append(&rec))
        .await
        .map_err(|e| format!("the audit writer stopped: {e}"))?
        .map_err(|e| format!("writing {}: {e}", audit.path().display()))
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
            // The WABAs are read side by side with the allocation, not one after another.
            let (allocation, read) = tokio::join!(
                credit::read_allocation(client, allocation_id),
                futures::future::join_all(
                    waba_ids
                        .iter()
                        .take(REVOKE_REREAD_WABAS)
                        .map(|id| wabas::read_waba(client, id))
                )
            );
            let allocation = allocation?;
            let read: Vec<_> = read.into_iter().filter_map(Result::ok).collect();
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
        Target::BspRegister { .. } => Err(not_graph()),
    }
}

/// Carry out one confirmed action through the pipeline and return what came of it. `progress`
/// hears [`Msg::ActionAnswerLost`] as soon as the answer is known to be lost, so the screen can
/// say "outcome unknown — re-reading" while the re-read runs. A register's PIN is used for the
/// request body and dropped right after; it is in no log and no audit record.
pub async fn perform(
    services: Services,
    target: Target,
    pin: Option<Pin>,
    pending: Pending,
    progress: Option<mpsc::UnboundedSender<Msg>>,
) -> ActionOutcome {
    if let Target::BspRegister { .. } = &target {
        return perform_bsp(services, target, pending).await;
    }
    let client = &services.client;
    let call = client.describe_call(target.method(), &target.call_path());
    let name = target.name();
    let intent = AuditRecord::new(
        target.action_label(),
        target.object_id(),
        Some(&name),
        &call,
    );
    let audit_path = services.audit.path().display().to_string();

    // Read-only refuses before anything, and needs no intent: nothing can be sent.
    if !client.read_only() {
        if let Err(reason) = append(&services.audit, intent.clone()).await {
            return ActionOutcome {
                target,
                result: ActionResult::NotSent {
                    reason: format!("the audit log could not record it first ({reason})."),
                },
                sent: ReadStamp::issue(),
                reread: ReadStamp::issue(),
                audit: Err(reason),
            };
        }
        if let Ok(mut p) = pending.lock() {
            p.insert(intent.attempt.clone(), intent.clone());
        }
    }

    let sent_at = ReadStamp::issue();
    if let Some(tx) = &progress {
        let _ = tx.send(Msg::ActionSending {
            id: target.object_id().to_string(),
            at: chrono::Utc::now(),
        });
    }
    let sent = send(client, &target, pin.as_ref()).await;
    drop(pin);
    let mut record = AuditRecord::outcome_of(&intent);
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
    let reread_at = ReadStamp::issue();
    let reread: Option<Result<Reread, GraphError>> = if refused_locally {
        None
    } else {
        Some(reread(client, &target).await)
    };
    let expected = target.expected();
    let observed = match &reread {
        Some(Ok(r)) => Some(r.observed(&target, &services.app_id)),
        _ => None,
    };
    if let Some(o) = &observed {
        record.verified_state = Some(o.label());
    }

    let result = match (sent, reread) {
        (Ok(_), Some(Ok(r))) => match observed {
            Some(o) if o == expected => ActionResult::Verified { reread: r },
            o => {
                let state = o.map(|o| o.label()).unwrap_or_default();
                record.message = Some(format!(
                    "re-read shows {state} instead of {}",
                    expected.label()
                ));
                ActionResult::Unexpected { reread: r, state }
            }
        },
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

    let audit = append(&services.audit, record).await.map(|()| audit_path);
    if let Ok(mut p) = pending.lock() {
        p.remove(&intent.attempt);
    }
    ActionOutcome {
        target,
        result,
        sent: sent_at,
        reread: reread_at,
        audit,
    }
}

fn not_graph() -> GraphError {
    GraphError::new(
        ErrorKind::InvalidRequest,
        "a BSP registration is not a Graph call",
    )
}

/// A BSP registration through the same pipeline: intent written and synced first → one POST
/// to the BSP (never retried) → its answer is the "re-read" (neither BSP can be read back)
/// → expected `Registered` vs what it said → outcome record (`bsp_register`) → result. The
/// audit records name the call with the credentials redacted (`describe_call`).
async fn perform_bsp(services: Services, target: Target, pending: Pending) -> ActionOutcome {
    let Target::BspRegister {
        bsp, registration, ..
    } = &target
    else {
        unreachable!("perform_bsp is only called with a BSP registration")
    };
    let (bsp, registration) = (*bsp, registration.clone());
    let not_sent = |target: Target, reason: String, audit: Result<String, String>| ActionOutcome {
        target,
        result: ActionResult::NotSent { reason },
        sent: ReadStamp::issue(),
        reread: ReadStamp::issue(),
        audit,
    };
    let Some(client) = services.bsp.clone().filter(|c| c.bsp() == bsp) else {
        return not_sent(
            target,
            format!(
                "no {} client is configured (set PARTNERDECK_BSP and its credentials).",
                bsp.name()
            ),
            Err("nothing was sent".into()),
        );
    };
    // Read-only refuses before anything, and needs no intent: nothing can be sent.
    if client.read_only() || services.client.read_only() {
        return ActionOutcome {
            target,
            result: ActionResult::Failed {
                failure: Failure::new(
                    FailureKind::ReadOnly,
                    format!(
                        "Read-only mode: the {} registration is not sent.",
                        bsp.name()
                    ),
                    None,
                ),
                reread: None,
            },
            sent: ReadStamp::issue(),
            reread: ReadStamp::issue(),
            audit: Err("read-only: nothing was sent".into()),
        };
    }
    let call = client.describe_call();
    let name = target.name();
    let intent = AuditRecord::new(
        target.action_label(),
        target.object_id(),
        Some(&name),
        &call,
    );
    let audit_path = services.audit.path().display().to_string();
    if let Err(reason) = append(&services.audit, intent.clone()).await {
        return not_sent(
            target,
            format!("the audit log could not record it first ({reason})."),
            Err(reason),
        );
    }
    if let Ok(mut p) = pending.lock() {
        p.insert(intent.attempt.clone(), intent.clone());
    }

    let sent_at = ReadStamp::issue();
    let answer = client.register(&registration).await;
    let reread_at = ReadStamp::issue();
    let (status, outcome_word, sentence, state) = crate::bsp::summarize(&answer);
    let mut record = AuditRecord::outcome_of(&intent);
    record.http_status = status;
    record.outcome = outcome_word.to_string();
    record.message = Some(sentence.clone());
    if let Some(st) = &state {
        record.verified_state = Some(ObservedState::Bsp(st.clone()).label());
    }
    let reread = state.clone().map(|state| Reread::Bsp {
        bsp,
        state,
        sentence: sentence.clone(),
    });
    let expected = target.expected();
    let result = match (&answer, reread) {
        (Ok(_), Some(r)) if r.observed(&target, &services.app_id) == expected => {
            ActionResult::Verified { reread: r }
        }
        (Ok(_), r) => ActionResult::Failed {
            failure: Failure::new(FailureKind::InvalidRequest, sentence.clone(), None),
            reread: r,
        },
        (Err(crate::bsp::BspError::OutcomeUnknown(_)), r) => ActionResult::OutcomeUnknown {
            reread: r.filter(|r| {
                !matches!(
                    r,
                    Reread::Bsp {
                        state: crate::domain::partner::RegistrationState::Unknown,
                        ..
                    }
                )
            }),
            failure: Failure::new(FailureKind::OutcomeUnknown, sentence.clone(), None),
        },
        (Err(crate::bsp::BspError::ReadOnly), _) => ActionResult::Failed {
            failure: Failure::new(FailureKind::ReadOnly, sentence.clone(), None),
            reread: None,
        },
        (Err(_), _) => ActionResult::NotSent {
            reason: sentence.clone(),
        },
    };
    let audit = append(&services.audit, record).await.map(|()| audit_path);
    if let Ok(mut p) = pending.lock() {
        p.remove(&intent.attempt);
    }
    ActionOutcome {
        target,
        result,
        sent: sent_at,
        reread: reread_at,
        audit,
    }
}

/// [`perform`] on its own: no other attempt in flight, nobody to tell about a lost answer.
pub async fn perform_alone(services: Services, target: Target, pin: Option<Pin>) -> ActionOutcome {
    perform(services, target, pin, Pending::default(), None).await
}

/// The one request of an action.
async fn send(
    client: &GraphClient,
    target: &Target,
    pin: Option<&Pin>,
) -> Result<crate::graph::client::MutationResponse, GraphError> {
    match target {
        Target::Solution { id, action, .. } => solutions::perform(client, id, *action).await,
        Target::SubscribeApp { waba_id, .. } => wabas::subscribe_app(client, waba_id).await,
        Target::RegisterPhone { phone_id, .. } => match pin {
            Some(pin) => wabas::register_phone(client, phone_id, pin).await,
            None => Err(GraphError::new(
                ErrorKind::InvalidRequest,
                "Not sent: no PIN was given.",
            )),
        },
        // Sent once: a share is not idempotent, and a lost answer is re-read, never sent
        // again.
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
        Target::BspRegister { .. } => Err(not_graph()),
    }
}

/// Write "interrupted — outcome unknown" for every attempt still waiting for its answer
/// (the console is stopping and cannot wait longer). Synchronous: called on the way out.
pub fn interrupt_pending(audit: &AuditLog, pending: &Pending) -> usize {
    let open: Vec<AuditRecord> = match pending.lock() {
        Ok(mut p) => p.drain().map(|(_, r)| r).collect(),
        Err(_) => return 0,
    };
    for intent in &open {
        if let Err(e) = audit.append(&AuditRecord::interrupted(intent)) {
            tracing::error!("could not record an interrupted action: {e}");
        }
    }
    open.len()
}

/// What start-up found of attempts an earlier session left unresolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    pub action: String,
    pub name: String,
    pub time: String,
    /// What the re-read shows, or why it could not be read.
    pub finding: String,
}

/// Read the object of an unresolved intent again, by what its record names.
async fn reread_record(client: &GraphClient, r: &AuditRecord) -> Result<String, GraphError> {
    match r.action.as_str() {
        "accept"
        | "reject"
        | "send_deactivation_request"
        | "accept_deactivation_request"
        | "reject_deactivation_request" => {
            let node = solutions::solution_detail(client, &r.target).await?;
            Ok(crate::domain::solution::SolutionState::derive(
                &node.status,
                node.status_for_pending_request.as_deref(),
            )
            .label()
            .to_string())
        }
        "subscribe_app" => {
            let w = wabas::read_waba(client, &r.target).await?;
            Ok(match w.subscribed_apps.as_ref().map(|a| !a.is_empty()) {
                Some(true) => "apps subscribed".into(),
                Some(false) => "no app subscribed".into(),
                None => "subscribed apps not read".into(),
            })
        }
        "revoke_credit_allocation" => {
            let a = credit::read_allocation(client, &r.target).await?;
            Ok(a.request_status
                .map_or_else(|| "no status".into(), |s| s.to_string()))
        }
        _ => Err(GraphError::new(
            ErrorKind::InvalidRequest,
            "this action's object cannot be re-read by its record alone; check it on screen",
        )),
    }
}

/// Find the attempts an earlier session left without an outcome, re-read their objects and
/// record what was found (a `recovery` record each). Audit IO runs on a blocking thread.
pub async fn recover(services: &Services) -> Vec<Recovered> {
    let path = services.audit.path().to_path_buf();
    let records = tokio::task::spawn_blocking(move || crate::audit::read_records(&path))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let open = crate::audit::unresolved(&records);
    let mut found = vec![];
    for intent in open {
        let read = reread_record(&services.client, &intent).await;
        let (state, finding) = match read {
            Ok(state) => (Some(state.clone()), format!("it now reads {state}")),
            Err(e) => (None, format!("it could not be re-read: {}", e.sentence())),
        };
        let rec = AuditRecord::recovery(
            &intent,
            state,
            format!("re-read at start-up after an unknown outcome: {finding}"),
        );
        if let Err(e) = append(&services.audit, rec).await {
            tracing::error!("could not record a recovery: {e}");
        }
        found.push(Recovered {
            action: intent.action.replace('_', " "),
            name: intent.target_name.clone().unwrap_or(intent.target.clone()),
            time: intent.time.clone(),
            finding,
        });
    }
    found
}
