//! The WABAs pane as a state machine: lanes, sort, filter, checklist, and the keys of its two
//! actions (one effect per confirmation, nothing in read-only mode, the PIN never kept).

use crate::common::*;
use crossterm::event::KeyCode;
use partnerdeck::app::ReadStamp;
use partnerdeck::app::model::{Overlay, Pane};
use partnerdeck::app::msg::{
    ActionOutcome, ActionResult, Effect, Failure, FailureKind, Msg, Reread, Scope, Target, WabaList,
};
use partnerdeck::app::wabas::{Change, SortKey, WabaLane};
use partnerdeck::graph::waba_model::Pin;

fn visible_ids(m: &partnerdeck::app::Model) -> Vec<String> {
    m.wabas
        .visible()
        .iter()
        .map(|r| r.id().to_string())
        .collect()
}

fn select(m: &mut partnerdeck::app::Model, id: &str) {
    feed(m, [key('g')]);
    for _ in 0..20 {
        if m.wabas.selected_id().as_deref() == Some(id) {
            return;
        }
        feed(m, [key('j')]);
    }
    panic!("{id} is not in the lane");
}

#[test]
fn lanes_count_and_the_checklist_is_derived() {
    let m = wabas_model();
    let p = &m.wabas;
    assert_eq!(m.pane, Pane::Wabas);
    assert_eq!(p.lane, WabaLane::Attention);
    assert_eq!(p.lane_count(WabaLane::All), 6);
    assert_eq!(p.lane_count(WabaLane::Blocked), 1);
    // All but Lumen Bakery (complete and healthy).
    assert_eq!(p.lane_count(WabaLane::Attention), 5);
    let o = |id: &str| p.row(id).unwrap().onboarding;
    assert_eq!(o("101").steps(), [Some(true), Some(true), Some(true)]);
    assert_eq!(o("202").steps(), [Some(false), Some(true), Some(false)]);
    assert_eq!(o("404").steps(), [Some(true), Some(false), Some(true)]);
    assert_eq!(o("505").steps(), [Some(true), Some(false), Some(false)]);
    assert_eq!(
        o("707").webhooks_subscribed,
        None,
        "edges not read: unknown"
    );
}

#[test]
fn o_cycles_the_sort_and_keeps_the_selection() {
    let mut m = wabas_model();
    feed(&mut m, [key('l'), key('l')]); // All
    assert_eq!(m.wabas.lane, WabaLane::All);
    assert_eq!(visible_ids(&m)[0], "303", "blocked first by health");
    select(&mut m, "404");
    feed(&mut m, [key('o')]);
    assert_eq!(m.wabas.sort, SortKey::Age);
    assert_eq!(visible_ids(&m), ["505", "202", "404", "707", "101", "303"]);
    assert_eq!(m.wabas.selected_id().as_deref(), Some("404"));
    assert!(m.notice.as_deref().unwrap().contains("onboarding age"));
    feed(&mut m, [key('o')]);
    assert_eq!(m.wabas.sort, SortKey::Name);
    assert_eq!(visible_ids(&m), ["303", "202", "404", "101", "707", "505"]);
}

#[test]
fn filter_is_typed_and_cleared_on_the_wabas_pane() {
    let mut m = wabas_model();
    feed(&mut m, [key('h')]); // All
    assert_eq!(m.wabas.lane, WabaLane::All);
    feed(&mut m, [key('/'), key('+'), key('4'), key('4')]);
    assert!(m.wabas.filter_editing);
    assert_eq!(m.pane, Pane::Wabas, "digits are text while typing");
    assert_eq!(visible_ids(&m), ["404"]);
    feed(&mut m, [code(KeyCode::Enter), code(KeyCode::Esc)]);
    assert_eq!(visible_ids(&m).len(), 6);
}

#[test]
fn s_opens_a_confirm_naming_the_waba_and_y_sends_once() {
    let mut m = wabas_model();
    select(&mut m, "202");
    let effects = feed(&mut m, [key('s')]);
    assert!(effects.is_empty(), "nothing is sent before y");
    match &m.overlay {
        Some(Overlay::Confirm(c)) => {
            assert_eq!(
                c.target,
                Target::SubscribeApp {
                    waba_id: "202".into(),
                    waba_name: "Harborview Dental".into()
                }
            );
            assert_eq!(c.call, "POST /v25.0/202/subscribed_apps");
            assert!(c.pin.is_none());
        }
        other => panic!("expected a confirm, got {other:?}"),
    }
    let effects = feed(&mut m, [key('y'), key('y'), key('y')]);
    assert_eq!(
        effects,
        vec![Effect::Perform {
            target: Target::SubscribeApp {
                waba_id: "202".into(),
                waba_name: "Harborview Dental".into()
            },
            pin: None
        }]
    );
    assert!(m.in_flight.is_some());
    // While it is in flight, nothing else is started.
    feed(&mut m, [code(KeyCode::Esc)]);
    select(&mut m, "202");
    assert!(feed(&mut m, [key('s')]).is_empty());
    assert!(m.notice.as_deref().unwrap().contains("still being sent"));
    assert!(feed(&mut m, [key('y')]).is_empty());
}

#[test]
fn s_on_a_subscribed_waba_says_so() {
    let mut m = wabas_model();
    select(&mut m, "303");
    assert!(feed(&mut m, [key('s')]).is_empty());
    assert!(m.overlay.is_none());
    assert!(m.notice.as_deref().unwrap().contains("already"));
    assert!(feed(&mut m, [key('y')]).is_empty());
}

#[test]
fn r_asks_for_the_pin_masked_and_sends_it_once() {
    let mut m = wabas_model();
    select(&mut m, "202");
    // Outside the detail, R says how to get there.
    assert!(feed(&mut m, [key('R')]).is_empty());
    assert!(m.notice.as_deref().unwrap().contains("Enter"));
    feed(&mut m, [code(KeyCode::Enter), key('R')]);
    assert!(
        matches!(&m.overlay, Some(Overlay::Confirm(c)) if c.pin.is_some()
        && c.call == "POST /v25.0/2021/register")
    );
    // Digits go into the PIN, not to the pane switcher; letters are ignored.
    let effects = feed(&mut m, [key('1'), key('3'), key('x'), key('5')]);
    assert!(effects.is_empty());
    assert_eq!(m.pane, Pane::Wabas);
    // Too short: Enter does not send.
    assert!(feed(&mut m, [code(KeyCode::Enter)]).is_empty());
    assert!(m.notice.as_deref().unwrap().contains("6-digit"));
    // The PIN never shows in a debug print of the model.
    let debug = format!("{m:?}");
    assert!(!debug.contains("135"), "{debug}");
    feed(
        &mut m,
        [
            code(KeyCode::Backspace),
            key('5'),
            key('7'),
            key('9'),
            key('0'),
            key('1'),
        ],
    );
    let effects = feed(
        &mut m,
        [code(KeyCode::Enter), code(KeyCode::Enter), key('y')],
    );
    assert_eq!(
        effects,
        vec![Effect::Perform {
            target: Target::RegisterPhone {
                waba_id: "202".into(),
                waba_name: "Harborview Dental".into(),
                phone_id: "2021".into(),
                phone: "+1 415 555 0142".into(),
            },
            pin: Pin::parse("135790"),
        }]
    );
    // Sent: the dialog no longer holds the PIN.
    match &m.overlay {
        Some(Overlay::Confirm(c)) => assert!(c.sending && c.pin.is_none()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn r_cancelled_with_esc_sends_nothing_and_forgets_the_pin() {
    let mut m = wabas_model();
    select(&mut m, "202");
    feed(&mut m, [code(KeyCode::Enter), key('R'), key('1'), key('2')]);
    let effects = feed(&mut m, [code(KeyCode::Esc), key('y')]);
    assert!(effects.is_empty());
    assert!(m.overlay.is_none());
    assert!(m.in_flight.is_none());
    // Reopened, the field is empty.
    feed(&mut m, [key('R')]);
    match &m.overlay {
        Some(Overlay::Confirm(c)) => assert_eq!(c.pin.as_ref().unwrap().input.value(), ""),
        other => panic!("{other:?}"),
    }
}

#[test]
fn r_on_a_connected_number_or_a_waba_without_numbers_does_nothing() {
    let mut m = wabas_model();
    select(&mut m, "303");
    feed(&mut m, [code(KeyCode::Enter)]);
    assert_eq!(m.wabas.selected_phone().unwrap().id, "3031");
    assert!(feed(&mut m, [key('R')]).is_empty());
    assert!(m.notice.as_deref().unwrap().contains("already registered"));
    // j picks the next number, which can be registered.
    feed(&mut m, [key('j'), key('R')]);
    assert_eq!(m.wabas.selected_phone().unwrap().id, "3032");
    assert!(matches!(&m.overlay, Some(Overlay::Confirm(_))));

    let mut m = wabas_model();
    select(&mut m, "505");
    feed(&mut m, [code(KeyCode::Enter), key('R')]);
    assert!(m.overlay.is_none());
    assert!(m.notice.as_deref().unwrap().contains("no phone number"));
}

#[test]
fn read_only_refuses_s_and_r_before_any_dialog() {
    let mut m = wabas_model();
    m.read_only = true;
    select(&mut m, "202");
    let mut effects = feed(&mut m, [key('s')]);
    assert!(m.notice.as_deref().unwrap().contains("Read-only"));
    effects.extend(feed(&mut m, [key('y'), code(KeyCode::Enter), key('R')]));
    assert!(m.notice.as_deref().unwrap().contains("Read-only"));
    effects.extend(feed(
        &mut m,
        [
            key('1'),
            key('2'),
            key('3'),
            key('4'),
            key('5'),
            key('6'),
            code(KeyCode::Enter),
            key('y'),
        ],
    ));
    assert!(effects.is_empty(), "{effects:?}");
    assert!(m.overlay.is_none());
}

#[test]
fn the_reread_after_an_action_turns_the_checklist_and_keeps_the_detail_open() {
    let mut m = wabas_model();
    select(&mut m, "202");
    feed(&mut m, [code(KeyCode::Enter), key('s'), key('y')]);
    let mut after = wabas().into_iter().find(|w| w.id() == "202").unwrap();
    after.subscribed_apps = subscribed(&[OUR_APP]).map(Into::into);
    after.node.update(|f| {
        f.phone_numbers
            .update(|p| p[0].status = Some("CONNECTED".into()))
    });
    let target = Target::SubscribeApp {
        waba_id: "202".into(),
        waba_name: "Harborview Dental".into(),
    };
    feed(
        &mut m,
        [Msg::ActionFinished(ActionOutcome {
            sent: ReadStamp::issue(),
            reread: ReadStamp::issue(),
            target,
            result: ActionResult::Verified {
                reread: Reread::Waba(Box::new(after)),
            },
            audit: Ok("/tmp/audit.jsonl".into()),
        })],
    );
    assert!(m.in_flight.is_none());
    let row = m.wabas.row("202").unwrap();
    assert!(row.onboarding.complete());
    assert_eq!(m.wabas.open_row().map(|r| r.id()), Some("202"));
    assert!(
        m.notice
            .as_deref()
            .unwrap()
            .contains("verified, now subscribed")
    );
    assert!(
        !visible_ids(&m).contains(&"202".to_string()),
        "no longer needs attention"
    );
}

#[test]
fn a_failed_refresh_keeps_the_wabas_and_says_why() {
    let mut m = wabas_model();
    let failure = Failure::new(
        FailureKind::Throttled,
        "Meta is throttling this app (code 4).",
        Some(4),
    );
    feed(
        &mut m,
        [
            Msg::RefreshStarted {
                scope: Scope::Wabas,
                at: at(0),
            },
            Msg::WabasLoaded {
                started: ReadStamp::issue(),
                at: at(60),
                result: Err(failure.clone()),
            },
        ],
    );
    assert_eq!(m.wabas.rows.len(), 6);
    assert_eq!(m.refresh.wabas.last_error, Some((at(60), failure)));
    assert_eq!(
        m.refresh.solutions.last_error, None,
        "scopes fail on their own"
    );
}

#[test]
fn a_new_waba_and_a_worse_health_are_marked_until_selected() {
    let mut m = wabas_model();
    let mut next = wabas();
    next[0]
        .node
        .update(|f| f.health_status.as_mut().unwrap().can_send_message = Some("LIMITED".into()));
    let mut new = next[1].clone();
    new.node.id = "909".into();
    new.node.update(|f| f.name = "Brand New Co".into());
    next.push(new);
    feed(
        &mut m,
        [Msg::WabasLoaded {
            started: ReadStamp::issue(),
            at: at(30),
            result: Ok(WabaList::of(next)),
        }],
    );
    assert_eq!(m.wabas.changes.get("909"), Some(&Change::New));
    assert!(matches!(
        m.wabas.changes.get("101"),
        Some(Change::HealthWorse { .. })
    ));
    assert_eq!(m.wabas.changes.len(), 2);
    select(&mut m, "909");
    assert!(!m.wabas.changes.contains_key("909"));
}

/// `c` copies the selected WABA's id; in its detail, the selected number's id.
#[test]
fn c_copies_the_selected_waba_or_number_id() {
    let mut m = wabas_model();
    let id = m.wabas.selected_id().unwrap();
    let effects = feed(&mut m, [key('c')]);
    assert_eq!(effects, vec![Effect::Copy { text: id.clone() }]);
    assert!(
        m.notice
            .as_deref()
            .unwrap()
            .contains(&format!("WABA id {id}"))
    );
    feed(&mut m, [code(KeyCode::Enter)]);
    let effects = feed(&mut m, [key('c')]);
    match (m.wabas.selected_phone(), effects.as_slice()) {
        (Some(p), [Effect::Copy { text }]) => assert_eq!(text, &p.id),
        (None, [Effect::Copy { text }]) => assert_eq!(text, &id),
        other => panic!("{other:?}"),
    }
}

/// `R` on a number whose status makes registering impossible says why and sends nothing:
/// no PIN attempt is spent.
#[test]
fn r_on_a_banned_number_says_why_and_sends_nothing() {
    let mut m = wabas_model();
    let mut wabas = wabas();
    let w = wabas.iter_mut().find(|w| w.id() == "303").unwrap();
    w.node.update(|f| {
        f.phone_numbers.update(|phones| {
            for p in phones {
                p.status = Some("BANNED".into());
            }
        })
    });
    feed(
        &mut m,
        [Msg::WabasLoaded {
            started: ReadStamp::issue(),
            at: at(9),
            result: Ok(WabaList::of(wabas)),
        }],
    );
    select(&mut m, "303");
    let mut effects = feed(&mut m, [code(KeyCode::Enter), key('R')]);
    assert!(m.overlay.is_none(), "no PIN dialog");
    assert!(
        m.notice.as_deref().unwrap().contains("BANNED"),
        "{:?}",
        m.notice
    );
    effects.extend(feed(&mut m, [key('y')]));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Perform { .. })));
}

/// `O` reverses the order the WABAs are in, keeping the selection; `o` starts the next sort
/// unreversed.
#[test]
fn shift_o_reverses_the_wabas_order() {
    let mut m = wabas_model();
    feed(&mut m, [key('l'), key('l'), key('o'), key('o')]); // All, by name
    assert_eq!(visible_ids(&m), ["303", "202", "404", "101", "707", "505"]);
    select(&mut m, "404");
    feed(&mut m, [key('O')]);
    assert!(m.wabas.reverse);
    assert_eq!(visible_ids(&m), ["505", "707", "101", "404", "202", "303"]);
    assert_eq!(m.wabas.selected_id().as_deref(), Some("404"));
    assert!(m.notice.as_deref().unwrap().ends_with("name, reversed."));
    feed(&mut m, [key('o')]);
    assert_eq!(m.wabas.sort, SortKey::Tier);
    assert!(!m.wabas.reverse);
}

/// A drop in the messaging limit tier between two lists is an attention reason.
#[test]
fn a_messaging_limit_drop_between_two_lists_is_flagged() {
    let mut m = wabas_model();
    let list = |tier: &str| {
        let wabas = wabas()
            .into_iter()
            .map(|mut w| {
                w.node
                    .update(|f| f.whatsapp_business_manager_messaging_limit = Some(tier.into()));
                w
            })
            .collect();
        Msg::WabasLoaded {
            started: ReadStamp::issue(),
            at: at(1),
            result: Ok(WabaList::of(wabas)),
        }
    };
    feed(&mut m, [list("TIER_10K")]);
    // Lumen Bakery (101) is complete and healthy: not in the attention lane ...
    assert!(!m.wabas.row("101").unwrap().needs_attention());
    assert_eq!(m.wabas.lane_count(WabaLane::Attention), 5);
    feed(&mut m, [list("TIER_2K")]);
    // ... until its limit drops.
    let r = m.wabas.row("101").unwrap();
    assert_eq!(r.tier_dropped_from.as_deref(), Some("TIER_10K"));
    assert!(
        r.attention_reasons()
            .contains(&"messaging limit dropped from TIER_10K to TIER_2K".to_string())
    );
    assert_eq!(m.wabas.lane_count(WabaLane::Attention), 6);
    // The tier sort puts the lowest first.
    feed(&mut m, [key('l'), key('l'), key('o'), key('o'), key('o')]);
    assert_eq!(m.wabas.sort, SortKey::Tier);
}
