//! What a key and a frame cost as the book grows: `cargo bench --bench console`.
//!
//! For books of 100, 10,000 and 100,000 WABAs (built in-process, no HTTP), `update` plus a draw
//! into a 120x40 `TestBackend` for: a navigation key (`j`), a filter keystroke (typing one more
//! letter, one more digit, a first digit), a pane switch (WABAs → Credit lines → WABAs), the
//! first switch to Credit lines after a page changed a WABA, and the idle tick (a draw with nothing changed); and the credit join's
//! part of a page of 500 WABAs arriving. The target is a cost per key independent of the book: compare each benchmark's
//! 100,000 figure with its 100 figure (the README quotes the ratios).

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::sync::Arc;

use partnerdeck::app::msg::{WabaList, WabaPage};
use partnerdeck::app::{Model, Msg, ReadStamp, update};
use partnerdeck::domain::funding::FundingJoin;
use partnerdeck::graph::credit_model::CreditLineData;
use partnerdeck::graph::waba_model::Waba;
use partnerdeck::ui::{Theme, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;

const SIZES: [usize; 3] = [100, 10_000, 100_000];
const OUR_APP: &str = "1002003004005006";

fn main() {
    divan::main();
}

/// A book of `n` WABAs with the variety of a real one: every tenth blocked or limited, one in
/// seven not subscribed, one in five not funded, one to three numbers each.
fn book(n: usize) -> Vec<Waba> {
    (0..n).map(book_waba).collect()
}

/// The `i`-th WABA of [`book`].
fn book_waba(i: usize) -> Waba {
    let health = match i % 10 {
        0 => "BLOCKED",
        1 => "LIMITED",
        _ => "AVAILABLE",
    };
    let phones: Vec<_> = (0..1 + i % 3)
        .map(|p| {
            json!({
                "id": format!("32{i:08}{p}"),
                "display_phone_number": format!("+1 555 {i:07}"),
                "verified_name": format!("Customer {i}"),
                "quality_rating": if i.is_multiple_of(17) { "RED" } else { "GREEN" },
                "status": if i.is_multiple_of(4) { "PENDING" } else { "CONNECTED" },
            })
        })
        .collect();
    let node = json!({
        "id": format!("31{i:010}"),
        "name": format!("Customer {i} Messaging"),
        "currency": "USD",
        "creation_time": 1_700_000_000 + i as i64,
        "health_status": {"can_send_message": health},
        "owner_business_info": {"id": format!("33{i:010}"), "name": format!("Business {i}")},
        "primary_funding_id": if i.is_multiple_of(5) { None } else { Some(format!("77{:04}", i % 40)) },
        "phone_numbers": {"data": phones},
    });
    let subscribed = if i.is_multiple_of(7) {
        json!([])
    } else {
        json!([{"whatsapp_business_api_data": {"id": OUR_APP}}])
    };
    let mut w: Waba = Waba {
        node: serde_json::from_value(node).expect("a WABA node"),
        ..Default::default()
    };
    w.subscribed_apps = serde_json::from_value(subscribed).ok();
    w.solutions = Some(vec![].into());
    w
}

/// Two credit lines whose allocations fund most of the book.
fn lines(n: usize) -> Vec<CreditLineData> {
    let allocations: Vec<_> = (0..40)
        .map(|c| {
            json!({
                "id": format!("58{c:04}"),
                "receiving_business": {"id": format!("33{c:010}"), "name": format!("Business {c}")},
                "receiving_credential": {"id": format!("77{c:04}")},
                "request_status": "ACTIVE",
            })
        })
        .collect();
    let _ = n;
    vec![
        serde_json::from_value(json!({
            "id": "7700", "legal_entity_name": "Northwind", "allocations": allocations,
        }))
        .map(|line| CreditLineData {
            line,
            allocations: serde_json::from_value(json!(allocations)).expect("allocations"),
        })
        .expect("a credit line"),
    ]
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

struct Console {
    model: Model,
    terminal: Terminal<TestBackend>,
    theme: Theme,
}

impl Console {
    fn new(n: usize) -> Console {
        let mut model = Model::new(OUR_APP, "v25.0");
        let at = Utc.timestamp_opt(1_795_000_000, 0).unwrap();
        update(
            &mut model,
            Msg::Resize {
                width: 120,
                height: 40,
                list_rows: partnerdeck::ui::list_rows(40),
            },
        );
        update(
            &mut model,
            Msg::WabasLoaded {
                at,
                started: ReadStamp::issue(),
                result: Ok(WabaList::of(book(n))),
            },
        );
        update(
            &mut model,
            Msg::CreditLinesLoaded {
                at,
                started: ReadStamp::issue(),
                result: Ok(lines(n)),
            },
        );
        update(&mut model, key('2'));
        update(&mut model, key('l'));
        update(&mut model, key('l')); // the All lane
        let mut c = Console {
            model,
            terminal: Terminal::new(TestBackend::new(120, 40)).unwrap(),
            theme: Theme::monochrome(),
        };
        c.draw();
        c
    }

    fn draw(&mut self) {
        let (model, theme) = (&self.model, &self.theme);
        let now = Utc.timestamp_opt(1_795_000_060, 0).unwrap();
        self.terminal
            .draw(|f| draw(f, model, now, theme))
            .expect("draw");
    }

    fn press(&mut self, msg: Msg) {
        update(&mut self.model, msg);
        self.draw();
    }
}

#[divan::bench(args = SIZES, sample_count = 30, sample_size = 5)]
fn navigation_key(bencher: divan::Bencher, n: usize) {
    let mut c = Console::new(n);
    bencher.bench_local(|| c.press(key('j')));
}

/// Each sample is two keystrokes in a filter opened by `keys`: one more `letter` (a narrowing
/// of the last result), then Backspace (the WABAs pane takes the earlier result back; Credit
/// lines scans again), each with its draw.
fn letter_and_backspace(bencher: divan::Bencher, n: usize, keys: &[char], letter: char) {
    let mut c = Console::new(n);
    for k in keys {
        c.press(key(*k));
    }
    bencher.with_inputs(|| ()).bench_local_values(|()| {
        c.press(key(letter));
        c.press(Msg::Key(KeyEvent::new(
            KeyCode::Backspace,
            KeyModifiers::NONE,
        )));
    });
}

#[divan::bench(args = SIZES, sample_count = 30, sample_size = 1)]
fn filter_keystroke(bencher: divan::Bencher, n: usize) {
    letter_and_backspace(bencher, n, &['/', 'c'], 'u');
}

/// The same for a number: a filter of digits also looks in the ids and phone numbers the pane
/// keeps four bits a character beside each row's search text (here `55`: every row has it).
#[divan::bench(args = SIZES, sample_count = 30, sample_size = 1)]
fn filter_digits_keystroke(bencher: divan::Bencher, n: usize) {
    letter_and_backspace(bencher, n, &['/', '5'], '5');
}

/// The first digit of a filter (then Backspace): one scan of the whole book for a needle of
/// one character, found in most rows.
#[divan::bench(args = SIZES, sample_count = 30, sample_size = 1)]
fn filter_first_digit_keystroke(bencher: divan::Bencher, n: usize) {
    letter_and_backspace(bencher, n, &['/'], '3');
}

#[divan::bench(args = SIZES, sample_count = 30, sample_size = 1)]
fn pane_switch(bencher: divan::Bencher, n: usize) {
    let mut c = Console::new(n);
    bencher.bench_local(|| {
        c.press(key('3'));
        c.press(key('2'));
    });
}

#[divan::bench(args = SIZES, sample_count = 30, sample_size = 5)]
fn idle_tick(bencher: divan::Bencher, n: usize) {
    let mut c = Console::new(n);
    bencher.bench_local(|| c.draw());
}

/// The first switch to Credit lines after the WABAs changed: each sample, untimed, goes back
/// to the WABAs pane and takes in a page that changes one WABA's funding; then, timed, `3`
/// and its draw (the credit view is derived again from the join `update` kept).
#[divan::bench(args = SIZES, sample_count = 30, sample_size = 1)]
fn pane_switch_after_page(bencher: divan::Bencher, n: usize) {
    let console = std::cell::RefCell::new(Console::new(n));
    let mut flip = 0usize;
    bencher
        .with_inputs(|| {
            let mut c = console.borrow_mut();
            c.press(key('2'));
            flip += 1;
            let mut w = book_waba(flip % n);
            w.node
                .update(|f| f.primary_funding_id = flip.is_multiple_of(2).then(|| "770001".into()));
            c.press(Msg::WabasPage {
                started: ReadStamp::issue(),
                page: WabaPage {
                    wabas: vec![Arc::new(w)],
                    listed: 0,
                    expected: None,
                },
            });
        })
        .bench_local_values(|()| console.borrow_mut().press(key('3')));
}

/// One page of 500 changed WABAs arriving at a book of `n` (plus those 500), the credit join
/// brought up to date: the join's part of a `WabasPage`, alone. Each sample's page is the
/// other version of the same 500 (funded by our credential, then not funded at all), so every
/// WABA of it is a real change.
#[divan::bench(args = SIZES, sample_count = 30, sample_size = 1)]
fn credit_join_page_of_500(bencher: divan::Bencher, n: usize) {
    let lines = lines(n);
    let page = |funded: bool| -> Vec<Arc<Waba>> {
        (0..500)
            .map(|k| {
                let mut w = book_waba(k);
                w.node.id = format!("39{k:010}").into();
                w.node.update(|f| {
                    f.primary_funding_id = funded.then(|| format!("77{:04}", k % 40).into())
                });
                Arc::new(w)
            })
            .collect()
    };
    let versions = [page(true), page(false)];
    let mut join = FundingJoin::new(&lines);
    let wabas: Vec<Arc<Waba>> = book(n).into_iter().map(Arc::new).collect();
    join.sync_all(&lines, wabas.iter().chain(&versions[0]));
    let mut turn = 0;
    bencher.bench_local(|| {
        turn += 1;
        for w in &versions[turn % 2] {
            join.put(&lines, w);
        }
    });
}

/// A filter keystroke on the Credit lines pane (one more letter, then Backspace, each with
/// its draw): the filter reads every allocation's WABAs and every not-funded WABA.
#[divan::bench(args = SIZES, sample_count = 30, sample_size = 1)]
fn credit_filter_keystroke(bencher: divan::Bencher, n: usize) {
    letter_and_backspace(bencher, n, &['3', '/', 'c'], 'u');
}

/// The join brought to a whole list (a round's `WabasLoaded`) in which nothing changed: a
/// look-up per WABA.
#[divan::bench(args = SIZES, sample_count = 20, sample_size = 1)]
fn credit_join_whole_list(bencher: divan::Bencher, n: usize) {
    let wabas: Vec<Arc<Waba>> = book(n).into_iter().map(Arc::new).collect();
    let lines = lines(n);
    let mut join = FundingJoin::new(&lines);
    join.sync_all(&lines, &wabas);
    bencher.bench_local(|| join.sync_all(&lines, &wabas));
}

/// The join built again for new credit lines (they are few; the WABAs are all re-read).
#[divan::bench(args = SIZES, sample_count = 10, sample_size = 1)]
fn credit_join_rebuild(bencher: divan::Bencher, n: usize) {
    let wabas: Vec<Arc<Waba>> = book(n).into_iter().map(Arc::new).collect();
    let lines = lines(n);
    bencher.bench_local(|| {
        let mut join = FundingJoin::new(&lines);
        join.sync_all(&lines, &wabas);
        join
    });
}

/// A steady round's complete list arriving (`WabasLoaded` with the very WABAs shown, as a
/// round of unchanged pages hands on) and the frame after it: the WABAs pane only moves its
/// read stamps, the credit join looks each WABA up.
#[divan::bench(args = SIZES, sample_count = 20, sample_size = 1)]
fn steady_round_arrives(bencher: divan::Bencher, n: usize) {
    let mut c = Console::new(n);
    let wabas: Vec<Arc<Waba>> = book(n).into_iter().map(Arc::new).collect();
    let at = Utc.timestamp_opt(1_795_000_030, 0).unwrap();
    let arrive = |wabas: &[Arc<Waba>]| Msg::WabasLoaded {
        at,
        started: ReadStamp::issue(),
        result: Ok(WabaList {
            wabas: wabas.to_vec(),
            extras_failed: None,
        }),
    };
    c.press(arrive(&wabas));
    bencher.bench_local(|| c.press(arrive(&wabas)));
}
