//! Every pane at 80x24 and 120x36 (ratatui TestBackend + insta): the list position on the
//! border, the key hints for the selected row on the bottom line, the selected row marked;
//! and names first: what gives way on a narrow screen, and what stays readable.

use crate::common::*;
use crossterm::event::KeyCode;
use partnerdeck::app::Model;
use partnerdeck::app::ReadStamp;
use partnerdeck::app::msg::{Msg, WabaList};
use partnerdeck::domain::solution::Solution;
use partnerdeck::graph::model::Role;
use partnerdeck::graph::waba_model::Waba;
use partnerdeck::ui::{Theme, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn screen(m: &Model, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| draw(f, m, at(42), &Theme::monochrome()))
        .unwrap();
    terminal.backend().to_string()
}

/// The line of the screen that holds `needle`.
fn line_with<'a>(s: &'a str, needle: &str) -> &'a str {
    s.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not on screen:\n{s}"))
}

fn with_tier(mut w: Waba, tier: &str) -> Waba {
    w.node
        .update(|f| f.whatsapp_business_manager_messaging_limit = Some(tier.into()));
    w
}

/// The WABAs of the common book with messaging limits; `drop` lowers Cobalt's on a second
/// list.
fn tiered_wabas(drop: bool) -> Vec<Waba> {
    wabas()
        .into_iter()
        .map(|w| {
            let tier = match w.id() {
                "101" => "TIER_100K",
                "303" => "TIER_250",
                "404" if drop => "TIER_2K",
                "404" => "TIER_10K",
                "505" => "UNTIERED",
                _ => "TIER_UNLIMITED",
            };
            with_tier(w, tier)
        })
        .collect()
}

fn tiered_model() -> Model {
    let mut m = wabas_model();
    for drop in [false, true] {
        feed(
            &mut m,
            [Msg::WabasLoaded {
                started: ReadStamp::issue(),
                at: at(1),
                result: Ok(WabaList::of(tiered_wabas(drop))),
            }],
        );
    }
    m
}

// ---------------------------------------------------------------- Solutions

#[test]
fn solutions_pane_80x24() {
    let mut m = loaded_model();
    feed(&mut m, [key('j')]);
    let s = screen(&m, 80, 24);
    // Position, the selected row, and the keys that apply to it (a request sent to us).
    assert!(s.contains(" 2/3 "), "{s}");
    assert!(line_with(&s, "›").contains("Atlas Support Desk"), "{s}");
    let hints = line_with(&s, "a accept");
    assert!(
        hints.contains("r reject") && hints.contains("Enter detail"),
        "{s}"
    );
    assert!(s.contains("! waits on us"), "{s}");
    // One state in the lane: no State column; its width went to the name.
    assert!(!line_with(&s, "Name").contains("State"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn solutions_pane_120x36() {
    let mut m = loaded_model();
    feed(&mut m, [key('h'), key('G')]); // All lane, last row
    let s = screen(&m, 120, 36);
    assert!(s.contains(" 9/9 "), "{s}");
    assert!(line_with(&s, "›").contains("Mystery"), "{s}");
    assert!(line_with(&s, "Name").contains("State"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn a_lane_whose_rows_share_a_role_drops_the_role_column() {
    let mut m = loaded_model();
    feed(&mut m, [key('l'), key('l')]); // Pending deactivation: one row, as partner
    let s = screen(&m, 80, 24);
    assert!(s.contains("all as partner"), "{s}");
    assert!(!line_with(&s, "Name").contains("Role"), "{s}");
    // Its keys say what they do to a deactivation request.
    assert!(s.contains("a accept deact."), "{s}");
}

#[test]
fn the_raw_state_is_readable_in_the_other_lane_at_80_columns() {
    let mut m = loaded_model();
    feed(&mut m, [key('h'), key('h')]); // Other
    let s = screen(&m, 80, 24);
    assert!(line_with(&s, "Mystery").contains("? SUSPENDED/NONE"), "{s}");
}

#[test]
fn at_40_columns_the_name_is_the_last_column_to_go() {
    let mut m = loaded_model();
    feed(&mut m, [key('h')]); // All
    let s = screen(&m, 40, 24);
    assert!(s.contains("Kōbe Retail Connect"), "{s}");
    assert!(s.contains("Atlas Support Desk"), "{s}");
    let header = line_with(&s, "Name");
    assert!(
        !header.contains("Partner app") && !header.contains("ID"),
        "{s}"
    );
}

#[test]
fn names_with_a_long_shared_prefix_stay_distinguishable() {
    let mut m = loaded_model();
    let mut items = solutions();
    let long = |id: &str, tail: &str| {
        Solution::new(
            node(
                id,
                &format!("Kestrel Commerce × Northwind Messaging — Order {tail}"),
                "INITIATED",
                "PENDING_ACTIVATION",
            ),
            Role::Partner,
        )
    };
    items.push(long("7010", "Updates"));
    items.push(long("7011", "Confirmations"));
    feed(
        &mut m,
        [Msg::SolutionsLoaded {
            started: ReadStamp::issue(),
            at: at(1),
            result: Ok(items),
        }],
    );
    let s = screen(&m, 80, 24);
    // Cut in the middle: both keep their different ends.
    let a = line_with(&s, "7010");
    let b = line_with(&s, "7011");
    assert!(
        a.contains("Kestrel") && a.contains("…") && a.contains("Updates"),
        "{s}"
    );
    assert!(b.contains("Kestrel") && b.contains("Confirmations"), "{s}");
}

// ---------------------------------------------------------------- WABAs

#[test]
fn wabas_pane_80x24() {
    let mut m = tiered_model();
    feed(&mut m, [key('j')]);
    let s = screen(&m, 80, 24);
    assert!(s.contains(" 2/5 "), "{s}");
    assert!(line_with(&s, "›").contains('!'), "{s}");
    assert!(s.contains("Enter detail") && s.contains("o sort"), "{s}");
    assert!(s.contains("! attention ✓ yes ✗ no ? unknown"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn the_lane_line_fits_80_columns_with_the_round_cost() {
    use partnerdeck::app::msg::WabaRoundCost;
    let mut m = tiered_model();
    feed(
        &mut m,
        [Msg::WabaRoundCost(WabaRoundCost {
            last_round: 1_006,
            planned_per_hour: 120_720,
            usage_pct: Some(12),
        })],
    );
    let wide = screen(&m, 140, 36);
    let lanes = line_with(&wide, "Needs attention");
    assert!(lanes.contains("o sort: health"), "{wide}");
    assert!(
        lanes.contains("≈120,720 calls/h planned · Meta reports 12% used"),
        "{wide}"
    );
    // At 80 columns nothing is cut mid-word: the cost line takes its short form, the sort
    // hint stays.
    let narrow = screen(&m, 80, 24);
    let lanes = line_with(&narrow, "Needs attention");
    assert!(lanes.contains("o sort: health"), "{narrow}");
    assert!(
        lanes
            .trim_end_matches('"')
            .trim_end()
            .ends_with("≈120,720 calls/h"),
        "{narrow}"
    );
    // Narrower still, the sort hint goes before the lanes are cut.
    let tight = screen(&m, 50, 24);
    let lanes = line_with(&tight, "Needs attention");
    assert!(!lanes.contains("sort"), "{tight}");
    assert!(lanes.contains("All 6"), "{tight}");
}

#[test]
fn wabas_pane_120x36_shows_the_messaging_limit() {
    let mut m = tiered_model();
    feed(&mut m, [key('l'), key('l'), key('j'), key('j')]); // All, third row
    let s = screen(&m, 120, 36);
    assert!(line_with(&s, "Name").contains("Limit"), "{s}");
    assert!(line_with(&s, "Juniper Travel").contains(" 2K "), "{s}");
    assert!(line_with(&s, "Lumen Bakery").contains(" 100K "), "{s}");
    assert!(s.contains(" 3/6 "), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn the_waba_detail_always_shows_the_messaging_limit_and_its_drop() {
    let mut m = tiered_model();
    feed(&mut m, [key('l'), key('l')]);
    let pos = m
        .wabas
        .visible()
        .iter()
        .position(|r| r.id() == "404")
        .unwrap();
    feed(&mut m, [key('g')]);
    feed(&mut m, (0..pos).map(|_| key('j')));
    feed(&mut m, [code(KeyCode::Enter)]);
    let s = screen(&m, 80, 24);
    let limit = line_with(&s, "Messaging limit");
    assert!(
        limit.contains("TIER_2K") && limit.contains("dropped from TIER_10K"),
        "{s}"
    );
    assert!(
        line_with(&s, "Needs attention:").contains("messaging limit dropped from"),
        "{s}"
    );
}

// ---------------------------------------------------------------- Credit lines

#[test]
fn credit_allocations_lane_80x24() {
    let mut m = credit_model();
    feed(&mut m, [key('j')]);
    let s = screen(&m, 80, 24);
    assert!(
        s.contains("Allocations") && s.contains("Not funded 4"),
        "{s}"
    );
    assert!(s.contains("X revoke") && s.contains("l not funded"), "{s}");
    assert!(line_with(&s, "›").contains("mismatched"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn credit_not_funded_lane_has_its_own_columns_80x24() {
    let mut m = credit_model();
    feed(&mut m, [key('l'), key('j')]);
    let s = screen(&m, 80, 24);
    let header = line_with(&s, "Why not funded");
    assert!(
        header.contains("WABA") && !header.contains("Credential"),
        "{s}"
    );
    assert!(s.contains(" 2/4 "), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn credit_panes_120x36() {
    let mut m = credit_model();
    // Meta gives what is left on the first line.
    let mut lines = credit_lines();
    lines[0].line.extra.insert(
        "credit_available".into(),
        serde_json::json!({"amount": "182,450.00", "currency": "USD"}),
    );
    feed(
        &mut m,
        [Msg::CreditLinesLoaded {
            started: ReadStamp::issue(),
            at: at(2),
            result: Ok(lines),
        }],
    );
    feed(&mut m, [key('j'), key('j')]);
    let allocations = screen(&m, 120, 36);
    assert!(
        allocations.contains("182,450.00 USD available"),
        "{allocations}"
    );
    assert!(
        allocations.contains("✓ verified ✗ mismatched ? unknown – revoked"),
        "the legend where there is room:\n{allocations}"
    );
    feed(&mut m, [key('l')]);
    let not_funded = screen(&m, 120, 36);
    assert!(line_with(&not_funded, "Why not funded").contains("Customer business"));
    insta::assert_snapshot!(format!("{allocations}\n{not_funded}"));
}

// ---------------------------------------------------------------- Events

#[test]
fn events_pane_80x24_and_120x36() {
    use partnerdeck::store::StoredEvent;
    use partnerdeck::webhooks::{Event, EventKind};
    let event = |seq: i64, kind: EventKind, object: &str, summary: &str| {
        let mut e = Event::local(kind, Some(object), vec![], summary, &serde_json::json!({}));
        e.id = format!("ev{seq}");
        e.time = at(seq * 60);
        e.received_at = at(seq * 60 + 1);
        StoredEvent { seq, event: e }
    };
    let mut m = loaded_model();
    feed(
        &mut m,
        [Msg::EventsHistory {
            events: vec![
                event(1, EventKind::Notice, "", "Refreshing…"),
                event(
                    2,
                    EventKind::Action,
                    "7001",
                    "Accepted 'Kōbe Retail Connect' — verified, now active.",
                ),
                event(
                    3,
                    EventKind::Observed,
                    "7002",
                    "Solution 'Atlas Support Desk' (7002) is now active (was pending).",
                ),
            ],
            last_seen: 1,
            feed: None,
        }],
    );
    feed(&mut m, [key('4'), key('j')]);
    let narrow = screen(&m, 80, 24);
    assert!(narrow.contains(" 2/3 "), "{narrow}");
    assert!(line_with(&narrow, "›").contains("Accepted"), "{narrow}");
    assert!(narrow.contains("Enter full record") && narrow.contains("c copy id"));
    let wide = screen(&m, 120, 36);
    assert!(wide.contains("• new since you last looked"), "{wide}");
    insta::assert_snapshot!(format!("{narrow}\n{wide}"));
}
