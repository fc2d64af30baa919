//! The state machine's side of the one action pipeline: whether an action may be offered now,
//! its confirm dialog, and taking in its outcome (the re-read applied as the newest read, the
//! objects it changed remembered, the result in words). The IO side is `effects::perform`.

use crate::app::model::{Confirm, Model, Overlay, PinField, ShareChoice};
use crate::app::msg::{
    ActionOutcome, ActionResult, Effect, FailureKind, FundingState, ObservedState, Reread, Target,
};

/// Whether a mutation may be started now; if not, the notice says why.
pub(crate) fn may_send(model: &mut Model, what: &str) -> bool {
    if model.read_only {
        model.notice = Some(format!(
            "Read-only mode: {what} is not sent (started with --read-only or PARTNERDECK_READ_ONLY)."
        ));
        return false;
    }
    if let Some(f) = &model.in_flight {
        model.notice = Some(format!(
            "Wait: '{}' is still being sent and verified.",
            f.target.name()
        ));
        return false;
    }
    true
}

/// Open the confirm dialog for `target` (`what` names the call in a refusal), unless no
/// mutation may be sent now, or the screen still shows one of its objects as it was before the
/// last action on it (then a second action waits for a fresh read). `true` when it opened.
pub(crate) fn confirm(
    model: &mut Model,
    what: &str,
    target: Target,
    pin: Option<PinField>,
    share: Option<ShareChoice>,
) -> bool {
    if !may_send(model, what) {
        return false;
    }
    if let Some(why) = model.unconfirmed_action(&target) {
        model.notice = Some(why);
        return false;
    }
    model.overlay = Some(Overlay::Confirm(Confirm {
        call: model.call_text(&target),
        target,
        sending: false,
        pin,
        share,
    }));
    true
}

pub(crate) fn on_action_finished(model: &mut Model, outcome: ActionOutcome) -> Vec<Effect> {
    if model.in_flight.as_ref().map(|f| &f.target) == Some(&outcome.target) {
        model.in_flight = None;
    }
    let stamp = outcome.reread;
    match outcome.result.reread() {
        Some(Reread::Solution(node)) => model.solutions.apply_node((**node).clone(), stamp),
        Some(Reread::Waba(waba)) => model.wabas.apply_waba((**waba).clone(), stamp),
        Some(Reread::Credit(c)) => {
            model
                .credit
                .apply_allocations(&c.credit_line_id, c.allocations.clone(), stamp);
            for w in &c.wabas {
                model.wabas.apply_waba(w.clone(), stamp);
            }
            model.wabas.set_credentials(model.credit.credentials());
        }
        Some(Reread::Bsp { .. }) | None => {}
    }
    model.record_action(&outcome);
    model.notice = Some(outcome_summary(&outcome, &model.our_app_id));
    // A verified success is a message (it stays in the Events history, recorded by
    // `update`); anything else keeps its dialog, which must be read and closed.
    if !matches!(outcome.result, ActionResult::Verified { .. }) {
        model.overlay = Some(Overlay::Outcome(Box::new(outcome)));
    } else if matches!(&model.overlay, Some(Overlay::Confirm(c)) if c.sending) {
        // The dialog that was sending it has its answer.
        model.overlay = None;
    }
    vec![]
}

/// What came of a share or a revoke, in its own words.
fn credit_summary(o: &ActionOutcome) -> Option<String> {
    let state = |r: &Reread| r.state(&o.target, "");
    let (done, what) = match &o.target {
        Target::ShareCredit {
            credit_line_name,
            waba_name,
            currency,
            ..
        } => (
            format!("shared '{credit_line_name}' with '{waba_name}' ({currency})"),
            format!("the share with '{waba_name}'"),
        ),
        Target::RevokeAllocation { business_name, .. } => (
            format!("revoked the allocation to '{business_name}'"),
            format!("the revoke for '{business_name}'"),
        ),
        _ => return None,
    };
    Some(match &o.result {
        ActionResult::NotSent { reason } => format!("Not sent: {reason}"),
        ActionResult::Verified { reread } => match &o.target {
            Target::ShareCredit { .. } => format!(
                "{}: {done} — verified: the WABA's primary_funding_id is the allocation's receiving credential.",
                o.target.done_words()
            ),
            _ => format!(
                "{}: {done} — verified, request_status {}.",
                o.target.done_words(),
                state(reread)
            ),
        },
        ActionResult::Unexpected { reread, .. } => format!(
            "Meta accepted {what}, but the re-read shows {}.",
            state(reread)
        ),
        ActionResult::Unverified { failure } => format!(
            "Meta accepted {what}; the re-read failed: {}",
            failure.sentence
        ),
        ActionResult::Failed { failure, .. } if failure.kind == FailureKind::ReadOnly => {
            format!("Not sent: {}", failure.sentence)
        }
        ActionResult::Failed { failure, .. } => {
            format!("{} failed: {}", capitalized(&what), failure.sentence)
        }
        ActionResult::OutcomeUnknown { reread, .. } => {
            let happened = |r: &Reread| match r.observed(&o.target, "") {
                ObservedState::Funding(FundingState::Verified) => {
                    "it did go through and is verified".to_string()
                }
                ObservedState::Funding(FundingState::NotFunded) => {
                    "it did not happen: the WABA is still not funded (S shares again)".to_string()
                }
                other => format!("it now reads {}", other.label()),
            };
            match reread {
                Some(r) => format!(
                    "Outcome unknown: the answer to {what} was lost, so it was re-read, not re-sent: {}.",
                    happened(r)
                ),
                None => format!(
                    "Outcome unknown: the answer to {what} was lost and the re-read failed. It is not sent again; the next refresh (Ctrl-r) will show what happened."
                ),
            }
        }
    })
}

/// What came of a BSP registration: the BSP's own sentence.
fn bsp_summary(o: &ActionOutcome) -> Option<String> {
    let Target::BspRegister { bsp, .. } = &o.target else {
        return None;
    };
    let name = o.target.name();
    let bsp = bsp.name();
    Some(match &o.result {
        ActionResult::NotSent { reason } => {
            if reason.starts_with("Not sent") {
                reason.clone()
            } else {
                format!("Not sent: {reason}")
            }
        }
        ActionResult::Verified { reread } => match reread {
            Reread::Bsp { sentence, .. } => {
                format!(
                    "{}: {bsp} registered {name}. {sentence}",
                    o.target.done_words()
                )
            }
            _ => format!("{}: {bsp} registered {name}.", o.target.done_words()),
        },
        ActionResult::Failed { failure, .. } if failure.kind == FailureKind::ReadOnly => {
            failure.sentence.clone()
        }
        ActionResult::Failed { failure, .. } | ActionResult::Unverified { failure } => {
            format!("{bsp} did not register {name}: {}", failure.sentence)
        }
        ActionResult::Unexpected { state, .. } => {
            format!("{bsp} answered for {name}, but the registration reads {state}.")
        }
        ActionResult::OutcomeUnknown { failure, .. } => format!(
            "Outcome unknown: the answer from {bsp} for {name} was lost (not sent again): {}",
            failure.sentence
        ),
    })
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// One line saying what came of an action, for the notice line.
pub fn outcome_summary(o: &ActionOutcome, our_app_id: &str) -> String {
    if let Some(s) = credit_summary(o) {
        return s;
    }
    if let Some(s) = bsp_summary(o) {
        return s;
    }
    let what = o.target.action_label();
    let name = o.target.name();
    let state = |r: &Reread| r.state(&o.target, our_app_id).replace('_', " ");
    match &o.result {
        ActionResult::NotSent { reason } => format!("Not sent: {reason}"),
        ActionResult::Verified { reread } => format!(
            "{} '{name}' — verified, now {}.",
            o.target.done_words(),
            state(reread)
        ),
        ActionResult::Unexpected { reread, .. } => format!(
            "Meta accepted {what} for '{name}' but it now reads as {}.",
            state(reread)
        ),
        ActionResult::Unverified { failure } => format!(
            "Meta accepted {what} for '{name}'; the re-read failed: {}",
            failure.sentence
        ),
        ActionResult::Failed { failure, .. } if failure.kind == FailureKind::ReadOnly => {
            failure.sentence.clone()
        }
        ActionResult::Failed { failure, .. } => {
            format!("{what} '{name}' failed: {}", failure.sentence)
        }
        ActionResult::OutcomeUnknown { reread, .. } => match reread {
            Some(r) => format!(
                "Outcome unknown — the answer to {what} for '{name}' was lost (not sent again); re-read shows it {}.",
                state(r)
            ),
            None => format!(
                "Outcome unknown for {what} on '{name}': the answer was lost and the re-read failed. Press Ctrl-r later."
            ),
        },
    }
}
