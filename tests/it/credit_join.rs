//! The credit join kept up to date by `update` (pages, whole lists, re-reads, removals, new
//! credit lines) against the same view derived from scratch with `domain::funding`'s whole-book
//! functions, for random small books.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use partnerdeck::app::credit_lines::{CreditLane, CreditRow, CreditSort};
use partnerdeck::app::msg::{WabaList, WabaPage};
use partnerdeck::app::{Model, Msg, ReadStamp, update};
use partnerdeck::domain::funding::{
    FundingIndex, NotFunded, Verification, WabaFunding, check_allocation, not_funded,
};
use partnerdeck::graph::credit_model::{AllocationConfig, CreditLine, CreditLineData};
use partnerdeck::graph::waba_model::{BusinessRef, Waba, WabaFields, WabaNode};
use proptest::prelude::*;
use serde_json::json;

/// A WABA of the small book: ids 0..12, owners b0..b4 (or none), funding c0..c4, x (not
/// ours), blank or none, names that tie in lowercase or share their first 16 bytes.
fn waba(id: u8, owner: Option<u8>, funding: Option<u8>, name: u8) -> Waba {
    Waba {
        node: WabaNode::new(WabaFields {
            id: format!("w{id}").into(),
            name: [
                "acme",
                "Acme",
                "zeta",
                "Beta",
                "beta",
                "Customer Messaging Ltd B",
                "customer messaging ltd a",
                "Ωmega",
            ][name as usize % 8]
                .into(),
            primary_funding_id: funding.map(|f| {
                match f {
                    5 => "x".to_string(),
                    6 => " ".to_string(),
                    f => format!("c{f}"),
                }
                .into()
            }),
            owner_business_info: owner.map(|o| BusinessRef {
                id: format!("b{o}").into(),
                // Long enough that the order needs more than the first 16 bytes.
                name: (o % 2 == 0).then(|| format!("Business Partners {}", 4 - o).into()),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn alloc(i: usize, business: u8, credential: Option<u8>, revoked: bool) -> AllocationConfig {
    serde_json::from_value(json!({
        "id": format!("a{i}"),
        "receiving_business": {"id": format!("b{business}"), "name": format!("Biz {business}")},
        "receiving_credential": credential.map(|c| json!({"id": format!("c{c}")})),
        "request_status": if revoked { "DELETED" } else { "ACTIVE" },
    }))
    .expect("an allocation")
}

#[derive(Debug, Clone)]
enum Step {
    /// A page of a round: these WABAs arrive (new or changed).
    Page(Vec<Waba>),
    /// A whole list: exactly these WABAs (the others go).
    List(Vec<Waba>),
    /// An action's re-read of one WABA.
    Reread(Box<Waba>),
    /// Our credit lines read again.
    Lines(Vec<CreditLineData>),
}

fn a_waba() -> impl Strategy<Value = Waba> {
    (
        0u8..12,
        proptest::option::of(0u8..5),
        proptest::option::of(0u8..7),
        0u8..8,
    )
        .prop_map(|(id, owner, funding, name)| waba(id, owner, funding, name))
}

fn some_lines() -> impl Strategy<Value = Vec<CreditLineData>> {
    proptest::collection::vec(
        proptest::collection::vec(
            (
                0u8..6,
                proptest::option::of(0u8..5),
                proptest::bool::weighted(0.3),
            ),
            0..5,
        ),
        1..3,
    )
    .prop_map(|lines| {
        let mut n = 0;
        lines
            .into_iter()
            .enumerate()
            .map(|(li, allocs)| CreditLineData {
                line: CreditLine {
                    id: format!("L{li}"),
                    ..Default::default()
                },
                allocations: allocs
                    .into_iter()
                    .map(|(b, c, revoked)| {
                        n += 1;
                        alloc(n, b, c, revoked)
                    })
                    .collect(),
            })
            .collect()
    })
}

fn a_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => proptest::collection::vec(a_waba(), 0..6).prop_map(Step::Page),
        2 => proptest::collection::vec(a_waba(), 0..10).prop_map(Step::List),
        2 => a_waba().prop_map(|w| Step::Reread(Box::new(w))),
        1 => some_lines().prop_map(Step::Lines),
    ]
}

fn apply(m: &mut Model, step: Step) {
    let at = Utc.timestamp_opt(1_795_000_000, 0).unwrap();
    let started = ReadStamp::issue();
    match step {
        Step::Page(wabas) => {
            let page = WabaPage {
                wabas: wabas.into_iter().map(Arc::new).collect(),
                listed: 0,
                expected: None,
            };
            update(m, Msg::WabasPage { started, page });
        }
        Step::List(wabas) => {
            // One row per id, as Meta lists them.
            let mut seen = std::collections::HashSet::new();
            let wabas = wabas
                .into_iter()
                .filter(|w| seen.insert(w.node.id.clone()))
                .collect();
            update(
                m,
                Msg::WabasLoaded {
                    at,
                    started,
                    result: Ok(WabaList::of(wabas)),
                },
            );
        }
        Step::Reread(waba) => {
            // What `pipeline` does with an action's re-read, then the end of `update`.
            m.wabas.apply_waba(*waba, started);
            m.credit.sync(&m.wabas);
        }
        Step::Lines(lines) => {
            update(
                m,
                Msg::CreditLinesLoaded {
                    at,
                    started,
                    result: Ok(lines),
                },
            );
        }
    }
}

/// One row of a view, in words both derivations can give.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expected {
    Line(usize),
    Allocation {
        id: String,
        verification: Verification,
        /// Sorted: the join lists them in the order they arrived.
        wabas: Vec<String>,
    },
    NotFunded(String, NotFunded),
}

/// The view's rows and numbers derived from scratch over the whole book, as the pane derived
/// them before the join was kept up to date.
fn from_scratch(
    m: &Model,
    lane: CreditLane,
    sort: CreditSort,
    reverse: bool,
) -> (Vec<Expected>, Vec<[usize; 4]>, Option<usize>) {
    let wabas = &m.wabas;
    let index = wabas.loaded.then(|| {
        FundingIndex::new(
            wabas
                .rows
                .iter()
                .map(|r| WabaFunding::of(&r.waba))
                .collect(),
        )
    });
    let mut rows = vec![];
    let mut counts = vec![];
    for (li, data) in m.credit.lines.iter().enumerate() {
        let mut checks: Vec<(usize, _)> = data
            .allocations
            .iter()
            .enumerate()
            .map(|(ai, a)| (ai, check_allocation(a, index.as_ref())))
            .collect();
        let mut c = [0; 4];
        for (_, check) in &checks {
            c[check.verification as usize] += 1;
        }
        counts.push(c);
        checks.sort_by_cached_key(|(ai, check)| {
            let a = &data.allocations[*ai];
            let first = match sort {
                CreditSort::Problems => check.verification as usize,
                CreditSort::Name => 0,
                CreditSort::Group => usize::MAX - check.waba_ids.len(),
            };
            (first, a.business_name().to_lowercase(), a.id.clone())
        });
        if reverse {
            checks.reverse();
        }
        if lane == CreditLane::Allocations {
            rows.push(Expected::Line(li));
            for (ai, check) in checks {
                let mut ids = check.waba_ids.clone();
                ids.sort();
                rows.push(Expected::Allocation {
                    id: data.allocations[ai].id.to_string(),
                    verification: check.verification,
                    wabas: ids,
                });
            }
        }
    }
    let Some(index) = index else {
        return (rows, counts, None);
    };
    let mut missing = not_funded(&index, &m.credit.lines);
    let count = missing.len();
    let name = |i: usize| {
        wabas
            .row(index.wabas[i].id)
            .map_or(String::new(), |r| r.waba.name().to_lowercase())
    };
    let owner = |i: usize| {
        wabas
            .row(index.wabas[i].id)
            .and_then(|r| r.waba.owner_name())
            .unwrap_or("")
            .to_lowercase()
    };
    missing.sort_by_cached_key(|(i, reason)| {
        let id = index.wabas[*i].id;
        match sort {
            CreditSort::Problems => (!reason.shareable(), String::new(), name(*i), id),
            CreditSort::Name => (false, String::new(), name(*i), id),
            CreditSort::Group => (false, owner(*i), name(*i), id),
        }
    });
    if reverse {
        missing.reverse();
    }
    if lane == CreditLane::NotFunded {
        rows.extend(
            missing
                .into_iter()
                .map(|(i, r)| Expected::NotFunded(index.wabas[i].id.to_string(), r)),
        );
    }
    (rows, counts, Some(count))
}

/// The same, read from the pane's view (the join `update` kept).
fn from_view(
    m: &Model,
    lane: CreditLane,
    sort: CreditSort,
    reverse: bool,
) -> (Vec<Expected>, Vec<[usize; 4]>, Option<usize>) {
    let mut pane = m.credit.clone();
    (pane.lane, pane.sort, pane.reverse) = (lane, sort, reverse);
    let view = pane.view(&m.wabas);
    let rows = view
        .rows
        .iter()
        .map(|r| match r {
            CreditRow::Line { line } => Expected::Line(*line as usize),
            CreditRow::Allocation { line, alloc, check } => {
                let mut ids: Vec<String> = pane
                    .covered(&m.wabas, *line, *alloc, usize::MAX)
                    .iter()
                    .map(|w| w.id().to_string())
                    .collect();
                ids.sort();
                assert_eq!(ids.len(), check.wabas as usize);
                Expected::Allocation {
                    id: pane.allocation(*line, *alloc).unwrap().id.to_string(),
                    verification: check.verification,
                    wabas: ids,
                }
            }
            CreditRow::NotFunded { waba, reason } => {
                Expected::NotFunded(waba.id().to_string(), pane.not_funded_reason(*reason, waba))
            }
        })
        .collect();
    let counts = view
        .counts
        .iter()
        .map(|c| [c.mismatched, c.unknown, c.verified, c.revoked])
        .collect();
    (rows, counts, view.not_funded)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_join_kept_up_to_date_equals_one_derived_from_scratch(
        first_lines in some_lines(),
        steps in proptest::collection::vec(a_step(), 1..14),
    ) {
        let mut m = Model::new("1", "v25.0");
        apply(&mut m, Step::Lines(first_lines));
        for step in steps {
            apply(&mut m, step);
            // The join followed the messages: the view reads it, it does not build one.
            prop_assert!(m.credit.join_current(&m.wabas));
            for lane in CreditLane::ALL {
                for sort in [CreditSort::Problems, CreditSort::Name, CreditSort::Group] {
                    for reverse in [false, true] {
                        prop_assert_eq!(
                            from_view(&m, lane, sort, reverse),
                            from_scratch(&m, lane, sort, reverse),
                            "{:?} {:?} reversed {}", lane, sort, reverse
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn a_page_changes_only_its_wabas_in_the_join() {
    let mut m = Model::new("1", "v25.0");
    apply(
        &mut m,
        Step::Lines(vec![CreditLineData {
            line: CreditLine {
                id: "L".into(),
                ..Default::default()
            },
            allocations: vec![alloc(1, 1, Some(1), false)],
        }]),
    );
    apply(
        &mut m,
        Step::List(vec![
            waba(1, Some(1), Some(1), 0),
            waba(2, Some(2), None, 1),
        ]),
    );
    let not_funded = |m: &Model| {
        let mut pane = m.credit.clone();
        pane.lane = CreditLane::NotFunded;
        pane.view(&m.wabas).not_funded
    };
    assert_eq!(not_funded(&m), Some(1));
    // WABA 2 is attached to our credential; WABA 1 moves to another funding source.
    apply(
        &mut m,
        Step::Page(vec![
            waba(2, Some(2), Some(1), 1),
            waba(1, Some(1), Some(5), 0),
        ]),
    );
    assert!(m.credit.join_current(&m.wabas));
    assert_eq!(not_funded(&m), Some(1));
    assert_eq!(
        from_view(&m, CreditLane::NotFunded, CreditSort::Problems, false).0,
        [Expected::NotFunded(
            "w1".into(),
            NotFunded::Mismatched {
                allocation_id: "a1".into(),
                funding: "x".into()
            }
        )]
    );
    let (rows, _, _) = from_view(&m, CreditLane::Allocations, CreditSort::Problems, false);
    assert_eq!(
        rows[1],
        Expected::Allocation {
            id: "a1".into(),
            verification: Verification::Mismatched,
            wabas: vec!["w1".into(), "w2".into()],
        }
    );
}
