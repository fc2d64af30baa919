//! The Credit lines pane's state machine: verification of each allocation against the WABAs,
//! the not-funded list, the WABAs checklist using our credentials, and the keys: S (share, with
//! the line and currency picked in the dialog) and X (revoke), each one effect per confirm,
//! refused in read-only; the re-read after an action; no second share after a lost answer.

use crate::common::*;
use crossterm::event::KeyCode;
use partnerdeck::app::ReadStamp;
use partnerdeck::app::credit_lines::{CreditLane, CreditRow, RowKey};
use partnerdeck::app::msg::{
    ActionOutcome, ActionResult, CreditReread, Failure, FailureKind, Msg, Reread, Scope, Target,
    WabaList,
};
use partnerdeck::app::update::outcome_summary;
use partnerdeck::app::{Effect, Model, Overlay};
use partnerdeck::domain::funding::{NotFunded, Verification};
use partnerdeck::graph::credit_model::CreditLine;

fn select(m: &mut Model, key: RowKey) {
    assert!(m.credit.select_key(&m.wabas, &key), "no row {key:?}");
}

fn verification_of(m: &Model, allocation: &str) -> Verification {
    let mut credit = m.credit.clone();
    credit.lane = CreditLane::Allocations;
    let view = credit.view(&m.wabas);
    view.rows
        .iter()
        .find_map(|r| match r {
            CreditRow::Allocation { line, alloc, check }
                if credit.allocation(*line, *alloc).unwrap().id == allocation =>
            {
                Some(check.verification)
            }
            _ => None,
        })
        .unwrap()
}

fn confirm_of(m: &Model) -> &partnerdeck::app::model::Confirm {
    match &m.overlay {
        Some(Overlay::Confirm(c)) => c,
        other => panic!("expected a confirm dialog, got {other:?}"),
    }
}

fn performs(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::Perform { .. }))
        .count()
}

#[test]
fn each_allocation_is_verified_mismatched_unknown_or_revoked() {
    let m = credit_model();
    assert_eq!(verification_of(&m, "58101"), Verification::Verified);
    assert_eq!(verification_of(&m, "58202"), Verification::Verified);
    assert_eq!(verification_of(&m, "58303"), Verification::Mismatched);
    assert_eq!(verification_of(&m, "58808"), Verification::Unknown);
    assert_eq!(verification_of(&m, "58404"), Verification::Revoked);
    let view = m.credit.view(&m.wabas);
    let t = view.total();
    assert_eq!(
        (
            t.allocations,
            t.verified,
            t.mismatched,
            t.unknown,
            t.revoked
        ),
        (5, 2, 1, 1, 1)
    );
    // Problems first under each line.
    let keys: Vec<RowKey> = view.rows.iter().map(|r| m.credit.key_of(r)).collect();
    assert_eq!(keys[0], RowKey::Line("1972385232742146".into()));
    assert_eq!(keys[1], RowKey::Allocation("58303".into()));
    assert_eq!(keys[4], RowKey::Allocation("58404".into()));
}

#[test]
fn not_funded_lists_the_wabas_without_our_credit_and_the_checklist_agrees() {
    let mut m = credit_model();
    m.credit.lane = CreditLane::NotFunded;
    let view = m.credit.view(&m.wabas);
    let missing: Vec<(&str, NotFunded)> = view
        .rows
        .iter()
        .filter_map(|r| match r {
            CreditRow::NotFunded { waba, reason } => {
                Some((waba.id(), m.credit.not_funded_reason(*reason, waba)))
            }
            _ => None,
        })
        .collect();
    let ids: Vec<&str> = missing.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, ["404", "505", "303", "707"], "shareable first");
    assert_eq!(missing[0].1, NotFunded::NoFunding);
    assert!(matches!(missing[2].1, NotFunded::Mismatched { .. }));
    assert!(matches!(missing[3].1, NotFunded::OtherFunding { .. }));
    // The WABAs checklist now compares with our credentials: exactly the same WABAs.
    for row in &m.wabas.rows {
        let ours = !ids.contains(&row.id());
        assert_eq!(row.onboarding.credit_shared, Some(ours), "{}", row.id());
    }
}

#[test]
fn before_the_credit_lines_are_read_any_funding_counts_and_no_list_without_wabas() {
    let mut m = loaded_model();
    feed(
        &mut m,
        [Msg::WabasLoaded {
            started: ReadStamp::issue(),
            at: at(0),
            result: Ok(WabaList::of(credit_wabas())),
        }],
    );
    let cobalt = m.wabas.row("303").unwrap();
    assert_eq!(cobalt.onboarding.credit_shared, Some(true));
    // Credit lines without WABAs: every live allocation is unknown, no not-funded list.
    let mut m = loaded_model();
    feed(
        &mut m,
        [Msg::CreditLinesLoaded {
            started: ReadStamp::issue(),
            at: at(0),
            result: Ok(credit_lines()),
        }],
    );
    assert_eq!(verification_of(&m, "58101"), Verification::Unknown);
    assert_eq!(verification_of(&m, "58404"), Verification::Revoked);
    assert_eq!(m.credit.view(&m.wabas).not_funded, None);
}

#[test]
fn a_failed_refresh_keeps_the_lines_and_says_why() {
    let mut m = credit_model();
    feed(
        &mut m,
        [
            Msg::RefreshStarted {
                scope: Scope::CreditLines,
                at: at(0),
            },
            Msg::CreditLinesLoaded {
                started: ReadStamp::issue(),
                at: at(30),
                result: Err(Failure::new(
                    FailureKind::Permission,
                    "The token lacks a permission (code 200).",
                    Some(200),
                )),
            },
        ],
    );
    assert_eq!(m.credit.lines.len(), 2);
    let r = &m.refresh.credit_lines;
    assert!(!r.in_flight && r.last_success.is_some() && r.last_error.is_some());
    assert!(
        m.refresh.wabas.last_error.is_none(),
        "scopes fail on their own"
    );
}

#[test]
fn s_opens_a_share_dialog_with_the_wabas_currency_and_y_sends_once() {
    let mut m = credit_model();
    select(&mut m, RowKey::NotFunded("404".into()));
    let effects = feed(&mut m, [key('S')]);
    assert!(effects.is_empty());
    let c = confirm_of(&m);
    match &c.target {
        Target::ShareCredit {
            credit_line_id,
            waba_id,
            waba_name,
            business_id,
            business_name,
            currency,
            ..
        } => {
            assert_eq!(credit_line_id, "1972385232742146");
            assert_eq!(
                (waba_id.as_str(), waba_name.as_str()),
                ("404", "Juniper Travel")
            );
            assert_eq!(business_id.as_deref(), Some("9404"));
            assert_eq!(business_name, "Juniper Travel GmbH");
            assert_eq!(currency, "EUR", "the WABA's own currency");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        c.call,
        "POST /v25.0/1972385232742146/whatsapp_credit_sharing_and_attach?waba_id=404&waba_currency=EUR"
    );
    // → picks the next of Meta's currencies, ↓ the other line; the call follows.
    feed(&mut m, [code(KeyCode::Right), code(KeyCode::Down)]);
    let c = confirm_of(&m);
    assert_eq!(
        c.call,
        "POST /v25.0/1972385232742287/whatsapp_credit_sharing_and_attach?waba_id=404&waba_currency=GBP"
    );
    feed(&mut m, [code(KeyCode::Left), code(KeyCode::Left)]);
    assert!(confirm_of(&m).call.ends_with("waba_currency=AUD"));
    feed(&mut m, [code(KeyCode::Left)]);
    assert!(confirm_of(&m).call.ends_with("waba_currency=USD"), "wraps");

    let effects = feed(&mut m, [key('y'), key('y'), code(KeyCode::Right), key('y')]);
    assert_eq!(performs(&effects), 1, "{effects:?}");
    match &effects[0] {
        Effect::Perform {
            target: Target::ShareCredit { currency, .. },
            pin: None,
        } => assert_eq!(currency, "USD", "no change once sending"),
        other => panic!("{other:?}"),
    }
    assert!(confirm_of(&m).sending);
    assert!(matches!(
        m.in_flight.as_ref().map(|f| &f.target),
        Some(Target::ShareCredit { .. })
    ));
}

#[test]
fn s_on_a_waba_whose_business_has_an_allocation_proposes_that_line() {
    let mut m = loaded_model();
    let mut wabas = credit_wabas();
    // A second WABA of Harborview's business, not attached yet.
    let mut more = wabas[1].clone();
    more.node.id = "222".into();
    more.node.update(|f| f.name = "Harborview Kids".into());
    more.node.update(|f| {
        f.primary_funding_id = None;
        f.currency = Some("BRL".into());
    });
    wabas.push(more);
    feed(
        &mut m,
        [
            Msg::WabasLoaded {
                started: ReadStamp::issue(),
                at: at(0),
                result: Ok(WabaList::of(wabas)),
            },
            Msg::CreditLinesLoaded {
                started: ReadStamp::issue(),
                at: at(0),
                result: Ok(credit_lines()),
            },
            key('3'),
        ],
    );
    select(&mut m, RowKey::NotFunded("222".into()));
    feed(&mut m, [key('S')]);
    match &confirm_of(&m).target {
        Target::ShareCredit {
            credit_line_id,
            currency,
            ..
        } => {
            assert_eq!(credit_line_id, "1972385232742287", "the business's line");
            assert_eq!(currency, "USD", "BRL is not one of Meta's: USD proposed");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn s_elsewhere_or_on_an_attached_funding_source_says_why_and_opens_nothing() {
    let mut m = credit_model();
    select(&mut m, RowKey::Allocation("58101".into()));
    feed(&mut m, [key('S')]);
    assert!(m.overlay.is_none());
    assert!(m.notice.as_deref().unwrap().contains("Not funded"));
    for id in ["303", "707"] {
        select(&mut m, RowKey::NotFunded(id.into()));
        let effects = feed(&mut m, [key('S')]);
        assert!(effects.is_empty() && m.overlay.is_none(), "{id}");
        assert!(
            m.notice.as_deref().unwrap().contains("cannot")
                || m.notice.as_deref().unwrap().contains("not let"),
            "{:?}",
            m.notice
        );
    }
}

#[test]
fn x_revokes_an_allocation_naming_every_waba_of_the_business_once() {
    let mut m = credit_model();
    select(&mut m, RowKey::Allocation("58101".into()));
    feed(&mut m, [key('X')]);
    let c = confirm_of(&m);
    assert_eq!(c.call, "DELETE /v25.0/58101");
    match &c.target {
        Target::RevokeAllocation {
            credit_line_id,
            business_id,
            business_name,
            waba_ids,
            ..
        } => {
            assert_eq!(credit_line_id, "1972385232742146");
            assert_eq!(business_id.as_deref(), Some("9101"));
            assert_eq!(business_name, "Lumen Bakery Ltd.");
            assert_eq!(waba_ids, &["101".to_string()]);
        }
        other => panic!("{other:?}"),
    }
    // n cancels; X again and y sends exactly once.
    feed(&mut m, [key('n')]);
    assert!(m.overlay.is_none());
    let effects = feed(&mut m, [key('X'), key('y'), key('y'), key('y')]);
    assert_eq!(performs(&effects), 1);
    // A revoked allocation cannot be revoked again.
    let mut m = credit_model();
    select(&mut m, RowKey::Allocation("58404".into()));
    feed(&mut m, [key('X')]);
    assert!(m.overlay.is_none());
    assert!(m.notice.as_deref().unwrap().contains("already revoked"));
    select(&mut m, RowKey::NotFunded("404".into()));
    feed(&mut m, [key('X')]);
    assert!(m.overlay.is_none());
}

#[test]
fn read_only_refuses_s_and_x_before_any_dialog() {
    let mut m = credit_model();
    m.read_only = true;
    select(&mut m, RowKey::NotFunded("404".into()));
    let mut effects = feed(&mut m, [key('S')]);
    assert!(m.overlay.is_none());
    assert!(m.notice.as_deref().unwrap().contains("Read-only"));
    effects.extend(feed(&mut m, [key('y')]));
    select(&mut m, RowKey::Allocation("58101".into()));
    effects.extend(feed(&mut m, [key('X'), key('y')]));
    assert!(m.overlay.is_none());
    assert_eq!(performs(&effects), 0);
}

fn share_target(m: &mut Model) -> Target {
    select(m, RowKey::NotFunded("404".into()));
    feed(m, [key('S')]);
    confirm_of(m).target.clone()
}

fn funded_404(credential: &str) -> partnerdeck::graph::waba_model::Waba {
    let mut w = credit_wabas()
        .into_iter()
        .find(|w| w.id() == "404")
        .unwrap();
    w.node
        .update(|f| f.primary_funding_id = Some(credential.into()));
    w
}

#[test]
fn a_verified_share_updates_the_line_the_waba_and_the_checklist() {
    let mut m = credit_model();
    let target = share_target(&mut m);
    feed(&mut m, [key('y')]);
    let reread = Reread::Credit(Box::new(CreditReread {
        credit_line_id: "1972385232742146".into(),
        allocations: vec![allocation(
            "58999",
            "9404",
            "Juniper Travel GmbH",
            "546",
            "ACTIVE",
        )],
        wabas: vec![funded_404("546")],
    }));
    assert_eq!(reread.state(&target, OUR_APP), "verified");
    let outcome = ActionOutcome {
        sent: ReadStamp::issue(),
        reread: ReadStamp::issue(),
        target,
        result: ActionResult::Verified { reread },
        audit: Ok("/tmp/audit.jsonl".into()),
    };
    feed(&mut m, [Msg::ActionFinished(outcome.clone())]);
    assert!(m.in_flight.is_none());
    assert_eq!(verification_of(&m, "58999"), Verification::Verified);
    assert_eq!(
        m.wabas.row("404").unwrap().onboarding.credit_shared,
        Some(true)
    );
    assert_eq!(m.credit.view(&m.wabas).not_funded, Some(3));
    assert!(m.overlay.is_none(), "a success is a message, not a dialog");
    let s = outcome_summary(&outcome, OUR_APP);
    assert!(
        s.starts_with(
            "Credit line shared: shared 'Northwind Messaging Ltd.' with 'Juniper Travel' (EUR) — verified"
        ),
        "{s}"
    );
    assert_eq!(m.notice.as_deref(), Some(s.as_str()));
}

#[test]
fn a_lost_answer_is_reported_as_what_the_reread_shows() {
    let mut m = credit_model();
    let target = share_target(&mut m);
    let lost = Failure::new(
        FailureKind::OutcomeUnknown,
        "The connection failed, so the outcome is unknown",
        None,
    );
    let reread = Reread::Credit(Box::new(CreditReread {
        credit_line_id: "1972385232742146".into(),
        allocations: vec![allocation(
            "58999",
            "9404",
            "Juniper Travel GmbH",
            "546",
            "ACTIVE",
        )],
        wabas: vec![funded_404("546")],
    }));
    let outcome = ActionOutcome {
        sent: ReadStamp::issue(),
        reread: ReadStamp::issue(),
        target: target.clone(),
        result: ActionResult::OutcomeUnknown {
            reread: Some(reread),
            failure: lost.clone(),
        },
        audit: Ok("a".into()),
    };
    let s = outcome_summary(&outcome, OUR_APP);
    assert!(s.starts_with("Outcome unknown:"), "{s}");
    assert!(
        s.contains("re-read, not re-sent") && s.contains("did go through"),
        "{s}"
    );
    // The re-read shows it did not happen.
    let not_done = ActionOutcome {
        sent: ReadStamp::issue(),
        reread: ReadStamp::issue(),
        target: target.clone(),
        result: ActionResult::OutcomeUnknown {
            reread: Some(Reread::Credit(Box::new(CreditReread {
                credit_line_id: "1972385232742146".into(),
                allocations: vec![],
                wabas: credit_wabas()
                    .into_iter()
                    .filter(|w| w.id() == "404")
                    .collect(),
            }))),
            failure: lost.clone(),
        },
        audit: Ok("a".into()),
    };
    assert!(outcome_summary(&not_done, OUR_APP).contains("did not happen"));
}

#[test]
fn no_second_share_after_a_lost_answer_until_a_later_waba_refresh() {
    let mut m = credit_model();
    let target = share_target(&mut m);
    // A WABA refresh that is already running when the share is sent.
    let running = ReadStamp::issue();
    feed(&mut m, [key('y')]);
    let outcome = ActionOutcome {
        sent: ReadStamp::issue(),
        reread: ReadStamp::issue(),
        target,
        result: ActionResult::OutcomeUnknown {
            reread: None,
            failure: Failure::new(FailureKind::OutcomeUnknown, "lost", None),
        },
        audit: Ok("a".into()),
    };
    feed(
        &mut m,
        [Msg::ActionFinished(outcome.clone()), code(KeyCode::Esc)],
    );
    assert!(outcome_summary(&outcome, OUR_APP).contains("not sent again"));
    select(&mut m, RowKey::NotFunded("404".into()));
    let mut effects = feed(&mut m, [key('S')]);
    assert!(m.overlay.is_none());
    assert!(m.notice.as_deref().unwrap().contains("lost its answer"));
    effects.extend(feed(&mut m, [key('y')]));
    assert_eq!(performs(&effects), 0);
    // A refresh already running when the answer was lost does not count…
    let loaded = |started: ReadStamp| Msg::WabasLoaded {
        started,
        at: at(60),
        result: Ok(WabaList::of(credit_wabas())),
    };
    feed(&mut m, [loaded(running)]);
    feed(&mut m, [key('S')]);
    assert!(m.overlay.is_none());
    // …one that started after it does.
    feed(
        &mut m,
        [
            Msg::RefreshStarted {
                scope: Scope::Wabas,
                at: at(0),
            },
            loaded(ReadStamp::issue()),
            key('S'),
        ],
    );
    assert!(matches!(m.overlay, Some(Overlay::Confirm(_))));
}

#[test]
fn a_verified_revoke_marks_the_allocation_revoked() {
    let mut m = credit_model();
    select(&mut m, RowKey::Allocation("58101".into()));
    feed(&mut m, [key('X'), key('y')]);
    let target = confirm_of(&m).target.clone();
    let mut lumen = credit_wabas()
        .into_iter()
        .find(|w| w.id() == "101")
        .unwrap();
    lumen.node.update(|f| f.primary_funding_id = None);
    let reread = Reread::Credit(Box::new(CreditReread {
        credit_line_id: "1972385232742146".into(),
        allocations: vec![allocation(
            "58101",
            "9101",
            "Lumen Bakery Ltd.",
            "515",
            "DELETED",
        )],
        wabas: vec![lumen],
    }));
    assert_eq!(reread.state(&target, OUR_APP), "DELETED");
    let outcome = ActionOutcome {
        sent: ReadStamp::issue(),
        reread: ReadStamp::issue(),
        target,
        result: ActionResult::Verified { reread },
        audit: Ok("a".into()),
    };
    feed(&mut m, [Msg::ActionFinished(outcome.clone())]);
    assert_eq!(verification_of(&m, "58101"), Verification::Revoked);
    assert_eq!(
        m.wabas.row("101").unwrap().onboarding.credit_shared,
        Some(false)
    );
    let s = outcome_summary(&outcome, OUR_APP);
    assert!(
        s.contains("revoked the allocation to 'Lumen Bakery Ltd.'") && s.contains("DELETED"),
        "{s}"
    );
    // The selection stayed on it, now among the revoked.
    let view = m.credit.view(&m.wabas);
    assert_eq!(
        m.credit.key_of(&m.credit.selected_row(&view).unwrap()),
        RowKey::Allocation("58101".into())
    );
}

#[test]
fn keys_move_switch_lanes_filter_and_open_the_detail() {
    let mut m = credit_model();
    assert_eq!(
        m.credit
            .key_of(&m.credit.selected_row(&m.credit.view(&m.wabas)).unwrap()),
        RowKey::Line("1972385232742146".into())
    );
    // l: the Not funded lane, its own rows only.
    feed(&mut m, [key('l')]);
    assert_eq!(m.credit.lane, CreditLane::NotFunded);
    assert_eq!(m.credit.key, Some(RowKey::NotFunded("404".into())));
    let view = m.credit.view(&m.wabas);
    assert!(
        view.rows
            .iter()
            .all(|r| matches!(r, CreditRow::NotFunded { .. })),
        "{:?}",
        view.rows
    );
    feed(&mut m, [code(KeyCode::Enter)]);
    assert!(m.credit.detail_open);
    // h: back to the allocations, from the top, detail closed.
    feed(&mut m, [key('h')]);
    assert!(!m.credit.detail_open);
    assert_eq!(m.credit.lane, CreditLane::Allocations);
    assert_eq!(m.credit.key, Some(RowKey::Line("1972385232742146".into())));
    feed(
        &mut m,
        [key('/'), key('c'), key('o'), key('b'), code(KeyCode::Enter)],
    );
    let view = m.credit.view(&m.wabas);
    let keys: Vec<RowKey> = view.rows.iter().map(|r| m.credit.key_of(r)).collect();
    assert!(keys.contains(&RowKey::Allocation("58303".into())));
    assert!(!keys.contains(&RowKey::Allocation("58101".into())));
    assert_eq!(
        view.matching[1], 1,
        "the WABA 303 matches in the other lane"
    );
    feed(&mut m, [code(KeyCode::Esc)]);
    assert!(m.credit.filter.value().is_empty());
}

#[test]
fn help_on_the_credit_pane_lists_share_and_revoke() {
    let lines = partnerdeck::app::keymap::help_lines(partnerdeck::app::Pane::CreditLines);
    assert!(lines.iter().any(|(k, _)| k == "S"));
    assert!(lines.iter().any(|(k, _)| k == "X"));
}

/// `o` cycles the sort of the lane shown, `O` reverses it; credit lines stay the sections of
/// the Allocations lane.
#[test]
fn o_and_shift_o_sort_each_credit_lane() {
    use partnerdeck::app::credit_lines::CreditSort;
    let mut m = credit_model();
    let keys = |m: &Model| -> Vec<RowKey> {
        let view = m.credit.view(&m.wabas);
        view.rows.iter().map(|r| m.credit.key_of(r)).collect()
    };
    let before = keys(&m);
    feed(&mut m, [key('o')]);
    assert_eq!(m.credit.sort, CreditSort::Name);
    assert!(m.notice.as_deref().unwrap().contains("sorted by customer"));
    let by_name = keys(&m);
    assert_ne!(before, by_name);
    assert!(matches!(by_name[0], RowKey::Line(_)), "{by_name:?}");
    feed(&mut m, [key('O')]);
    let reversed = keys(&m);
    assert!(
        matches!(reversed[0], RowKey::Line(_)),
        "a line heads its section"
    );
    assert_ne!(reversed, by_name);
    // The Not funded lane sorts too, by its own columns.
    feed(&mut m, [key('l')]);
    let first = keys(&m);
    feed(&mut m, [key('O')]);
    let mut back = keys(&m);
    back.reverse();
    assert_eq!(first, back);
    assert!(
        m.notice
            .as_deref()
            .unwrap()
            .starts_with("Not funded sorted by")
    );
}

#[test]
fn allocations_not_modified_keep_the_held_ones_and_the_join_and_take_the_lines_as_read() {
    let mut m = credit_model();
    let version = m.credit.lines_version();
    let held = m.credit.lines.clone();
    let lines = |name: &str| -> Vec<CreditLine> {
        let mut lines: Vec<CreditLine> = held.iter().map(|l| l.line.clone()).collect();
        lines[1].legal_entity_name = Some(name.into());
        lines
    };
    // The same lines, allocations not modified: nothing derived again.
    feed(
        &mut m,
        [
            Msg::RefreshStarted {
                scope: Scope::CreditLines,
                at: at(30),
            },
            Msg::CreditAllocationsUnchanged {
                started: ReadStamp::issue(),
                at: at(31),
                lines: held.iter().map(|l| l.line.clone()).collect(),
            },
        ],
    );
    assert_eq!(m.credit.lines, held);
    assert_eq!(m.credit.lines_version(), version);
    let r = &m.refresh.credit_lines;
    assert!(!r.in_flight && r.last_success == Some(at(31)));
    // A line renamed: the lines as read, each with the allocations held for it.
    feed(
        &mut m,
        [Msg::CreditAllocationsUnchanged {
            started: ReadStamp::issue(),
            at: at(60),
            lines: lines("Northwind India"),
        }],
    );
    assert_ne!(m.credit.lines_version(), version);
    assert_eq!(m.credit.lines[1].line.name(), "Northwind India");
    for (now, before) in m.credit.lines.iter().zip(&held) {
        assert_eq!(now.allocations, before.allocations);
    }
    assert_eq!(verification_of(&m, "58101"), Verification::Verified);
    // A line no longer read goes; an older read changes nothing.
    let only_first = vec![held[0].line.clone()];
    let older = ReadStamp::issue();
    feed(
        &mut m,
        [Msg::CreditAllocationsUnchanged {
            started: ReadStamp::issue(),
            at: at(90),
            lines: only_first,
        }],
    );
    assert_eq!(m.credit.lines.len(), 1);
    assert_eq!(m.credit.lines[0].allocations, held[0].allocations);
    feed(
        &mut m,
        [Msg::CreditAllocationsUnchanged {
            started: older,
            at: at(91),
            lines: vec![],
        }],
    );
    assert_eq!(m.credit.lines.len(), 1);
}
