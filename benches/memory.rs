//! What the console's WABA model weighs: `cargo bench --bench memory`. A counting global
//! allocator measures the bytes live after one round against the simulator (the poller's
//! memory of the book, the WABAs shared with the pane) and after the pane took the list (its
//! rows, search text, lanes, index), per WABA, with the pane's own count of its parts, at 100 and 10,000 WABAs; 100,000 is the
//! 10,000-WABA book copied ten times with new ids (quick), or read for real from the
//! simulator with `PARTNERDECK_BENCH_100K=1`. Also the peak while the round ran, the process's
//! RSS, and at 100,000 what the rest of a whole `Model` (the other panes, drawn once each)
//! holds per WABA.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use graph_sim::{self as sim, SimOptions, World};
use partnerdeck::app::msg::{ReadStamp, WabaList};
use partnerdeck::app::wabas::{PaneMemory, WabasPane};
use partnerdeck::app::{Model, Msg, update};
use partnerdeck::config::Token;
use partnerdeck::domain::funding::FundingJoin;
use partnerdeck::domain::onboarding::OnboardingRules;
use partnerdeck::graph::client::{ClientConfig, GraphClient};
use partnerdeck::graph::credit_model::CreditLineData;
use partnerdeck::graph::waba_model::Waba;
use partnerdeck::graph::wabas::{self, BookMemory, RoundOptions, WabaInbox};

/// Counts the bytes allocated and not yet freed, and the most there were.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is passed to the system allocator unchanged; only counters move.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// The process's resident set, from `/proc/self/statm` (Linux), in MB.
fn rss_mb() -> Option<f64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096.0 / 1_048_576.0)
}

fn per(bytes: usize, n: usize) -> f64 {
    bytes as f64 / n as f64
}

/// A runtime, the simulator serving the demo world with `n` WABAs, and a client of it.
fn simulator_world(n: usize) -> (tokio::runtime::Runtime, sim::SimHandle, GraphClient) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let hand_written = World::demo_with_generated_wabas(0).wabas.len();
    let world = World::demo_with_generated_wabas(n.saturating_sub(hand_written));
    let sim = rt
        .block_on(sim::start(world, SimOptions::default()))
        .expect("simulator starts");
    let client = GraphClient::new(ClientConfig::new(sim.base_url(), Token::new(sim.token())))
        .expect("client");
    (rt, sim, client)
}

/// One round against the simulator: the book, the poller's memory, and the bytes each costs.
fn read_book(n: usize) -> (Vec<Arc<Waba>>, BookMemory, usize, usize) {
    let (rt, sim, client) = simulator_world(n);
    let mut memory = BookMemory::default();
    let before = live();
    PEAK.store(before, Ordering::Relaxed);
    let round = rt
        .block_on(wabas::refresh_round(
            &client,
            &sim.business_id(),
            None,
            &mut memory,
            &WabaInbox::default(),
            ReadStamp::issue().0,
            &RoundOptions::default(),
            |_| {},
        ))
        .expect("round");
    let kept = live().saturating_sub(before);
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    drop(client);
    drop(sim);
    drop(rt);
    (round.wabas, memory, kept, peak)
}

/// The pane's bytes for this list, besides the WABAs themselves.
fn pane_bytes(book: Vec<Arc<Waba>>) -> (WabasPane, usize) {
    let before = live();
    let mut pane = WabasPane::new(OnboardingRules::new(sim::DEMO_APP_ID));
    pane.set_items(
        WabaList {
            wabas: book,
            extras_failed: None,
        },
        ReadStamp::issue(),
    );
    // What the first frame derives: the sorted order and the visible rows.
    let _ = pane.visible_len();
    let bytes = live().saturating_sub(before);
    (pane, bytes)
}

fn report(n: usize, book_bytes: usize, pane: usize, parts: PaneMemory, peak: Option<usize>) {
    let total = book_bytes + pane;
    println!(
        "  N = {n:>7}: {:>7.0} bytes/WABA ({:.0} the WABAs and the poller's memory, {:.0} the pane's rows, search text, lanes and index) = {:.1} MB{}",
        per(total, n),
        per(book_bytes, n),
        per(pane, n),
        total as f64 / 1_048_576.0,
        peak.map_or(String::new(), |p| format!(
            "; peak while the round ran {:.1} MB",
            p as f64 / 1_048_576.0
        )),
    );
    // The pane's own count of what it holds; the allocator's figure above also has what it
    // does not name (e.g. the Sym of an undocumented health).
    println!(
        "             the pane per WABA: rows {:.0}, search text {:.0}, ids and numbers {:.0}, index {:.0}, derived (lanes, creation times, order, visible) {:.0} = {:.0}",
        per(parts.rows, n),
        per(parts.search, n),
        per(parts.numbers, n),
        per(parts.index, n),
        per(parts.derived, n),
        per(parts.total(), n),
    );
}

/// An empty console model on a 120x40 screen.
fn model_at_120x40() -> Model {
    let mut model = Model::new(sim::DEMO_APP_ID, "v25.0");
    update(
        &mut model,
        Msg::Resize {
            width: 120,
            height: 40,
            list_rows: partnerdeck::ui::list_rows(40),
        },
    );
    model
}

/// What the rest of the console's model holds per WABA: a whole `Model` takes the list, then
/// each pane is drawn once (what drawing it derives stays cached), and the bytes each step
/// added are reported, less the WABAs pane's own (counted above).
fn model_bytes(book: &[Arc<Waba>]) {
    let n = book.len();
    let at = Utc.timestamp_opt(1_795_000_000, 0).unwrap();
    // The screen's buffers are the terminal's, not the model's: made before the measure.
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40))
        .expect("a test terminal");
    let theme = partnerdeck::ui::Theme::monochrome();
    let before = live();
    // The list's own vector is made and freed inside the measure.
    let list = WabaList {
        wabas: book.to_vec(),
        extras_failed: None,
    };
    let mut model = model_at_120x40();
    let _ = update(
        &mut model,
        Msg::WabasLoaded {
            at,
            started: ReadStamp::issue(),
            result: Ok(list),
        },
    );
    // No credit line: every WABA is "not funded", the most rows that lane can hold.
    update(
        &mut model,
        Msg::CreditLinesLoaded {
            at,
            started: ReadStamp::issue(),
            result: Ok(vec![]),
        },
    );
    let mut steps = vec![];
    let mut last = live();
    for (pane, key) in [
        ("WABAs", '2'),
        ("Solutions", '1'),
        ("Credit lines", '3'),
        ("its not-funded lane", 'l'),
        ("Events", '4'),
    ] {
        update(
            &mut model,
            Msg::Key(KeyEvent::new(KeyCode::Char(key), KeyModifiers::NONE)),
        );
        terminal
            .draw(|f| partnerdeck::ui::draw(f, &model, at, &theme))
            .expect("draw");
        let now = live();
        steps.push(format!(
            "{pane} {:.1}",
            (now as f64 - last as f64) / n as f64
        ));
        last = now;
    }
    let total = live() as f64 - before as f64;
    let pane = model.wabas.memory().total() as f64;
    println!(
        "             the rest of the model per WABA at N = {n}: {:.1} bytes (drawing each pane added: {})",
        (total - pane) / n as f64,
        steps.join(", ")
    );
    drop(model);
}

/// What the WABAs themselves take, per WABA: the shared value (`Arc<Waba>`) and the packed
/// fields' bytes (not counting the allocator's own overhead).
fn waba_parts(book: &[Arc<Waba>]) {
    let n = book.len();
    let (mut packed, mut phones, mut health) = (0, 0, 0);
    for w in book {
        packed += w.node.packed_len();
        let (p, h) = w.node.packed_lists_len();
        phones += p;
        health += h;
    }
    let shared = 2 * size_of::<usize>() + size_of::<Waba>();
    println!(
        "             the WABA itself per WABA: {shared} its shared value (Arc<Waba>), {:.0} its packed fields (phone numbers {:.0}, health status {:.0}, the rest {:.0})",
        per(packed, n),
        per(phones, n),
        per(health, n),
        per(packed - phones - health, n),
    );
}

fn main() {
    let big = std::env::var_os("PARTNERDECK_BENCH_100K").is_some();
    println!("The console's WABA model (counting allocator):");
    let mut ten_k = None;
    for n in [100, 10_000] {
        let (book, memory, kept, peak) = read_book(n);
        let (pane, bytes) = pane_bytes(book.clone());
        report(book.len(), kept, bytes, pane.memory(), Some(peak));
        waba_parts(&book);
        drop((pane, memory));
        if n == 10_000 {
            ten_k = Some((book, per(kept, n)));
        }
    }
    if big {
        let (book, memory, kept, peak) = read_book(100_000);
        let (pane, bytes) = pane_bytes(book.clone());
        report(book.len(), kept, bytes, pane.memory(), Some(peak));
        drop((pane, memory));
        model_bytes(&book);
    } else if let Some((book, kept_per_waba)) = ten_k {
        // Ten copies of the 10,000-WABA book with new ids, every string its own allocation:
        // the pane is measured at 100,000; the WABAs and the poller's memory are the 10,000
        // book's bytes per WABA times 100,000.
        let mut copies = Vec::with_capacity(book.len() * 10);
        for k in 0..10 {
            for w in &book {
                let mut c = (**w).clone();
                c.node.id = format!("{k}{}", c.node.id).into();
                copies.push(Arc::new(c));
            }
        }
        drop(book);
        let n = copies.len();
        let (pane, bytes) = pane_bytes(copies.clone());
        report(
            n,
            (kept_per_waba * n as f64) as usize,
            bytes,
            pane.memory(),
            None,
        );
        drop(pane);
        model_bytes(&copies);
    }
    credit_lines_part(big);
    if let Some(rss) = rss_mb() {
        println!("  this process's RSS at the end: {rss:.0} MB (the simulators' worlds included)");
    }
    println!("  target: console RSS ≤ 128 MB at 100,000 WABAs");
}

// ---------------------------------------------------------------- Credit lines

/// Our credit lines with every allocation, read from the simulator's world of `n` WABAs (the
/// world `read_book` reads), and the bytes they hold.
fn read_lines(n: usize) -> (Vec<CreditLineData>, usize) {
    let (rt, sim, client) = simulator_world(n);
    let before = live();
    let lines = rt
        .block_on(partnerdeck::graph::credit::refresh(
            &client,
            Some(&sim.business_id()),
            None,
        ))
        .expect("credit lines");
    let bytes = live().saturating_sub(before);
    drop(client);
    drop(sim);
    drop(rt);
    (lines, bytes)
}

/// The bytes each lane's view adds to a model that holds `book` and `lines` (the join is
/// built when they arrive): the Allocations lane drawn, then the Not funded lane in its
/// place.
fn credit_lane_bytes(book: &[Arc<Waba>], lines: Vec<CreditLineData>) -> [usize; 2] {
    let at = Utc.timestamp_opt(1_795_000_000, 0).unwrap();
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40))
        .expect("a test terminal");
    let theme = partnerdeck::ui::Theme::monochrome();
    let mut model = model_at_120x40();
    for msg in [
        Msg::WabasLoaded {
            at,
            started: ReadStamp::issue(),
            result: Ok(WabaList {
                wabas: book.to_vec(),
                extras_failed: None,
            }),
        },
        Msg::CreditLinesLoaded {
            at,
            started: ReadStamp::issue(),
            result: Ok(lines),
        },
    ] {
        let _ = update(&mut model, msg);
    }
    // The view of one lane replaces the other's: each is measured as the lane it replaced
    // plus what changed.
    let mut lanes = [0usize; 2];
    let mut shown = 0isize;
    for (i, key) in [(0, '3'), (1, 'l')] {
        let before = live() as isize;
        update(
            &mut model,
            Msg::Key(KeyEvent::new(KeyCode::Char(key), KeyModifiers::NONE)),
        );
        terminal
            .draw(|f| partnerdeck::ui::draw(f, &model, at, &theme))
            .expect("draw");
        shown += live() as isize - before;
        lanes[i] = shown.max(0) as usize;
    }
    lanes
}

/// What Credit lines holds for a book: the allocation rows as read, the join by part and each
/// lane's view, with the simulator's lines (most WABAs funded) and with none (every WABA in
/// the Not funded lane, the most that lane holds).
fn credit_report(book: &[Arc<Waba>], lines: &[CreditLineData], rows_bytes: usize) {
    let n = book.len();
    let allocations: usize = lines.iter().map(|l| l.allocations.len()).sum();
    println!(
        "  N = {n:>7}: allocation rows {allocations} = {:.1} MB ({:.0} bytes each, {:.0} per WABA)",
        rows_bytes as f64 / 1_048_576.0,
        per(rows_bytes, allocations.max(1)),
        per(rows_bytes, n),
    );
    for (which, lines) in [("our lines", lines), ("no line", &[][..])] {
        let before = live();
        let mut join = FundingJoin::new(lines);
        join.sync_all(lines, book);
        let bytes = live().saturating_sub(before);
        let parts = join.memory();
        drop(join);
        let [allocations_lane, not_funded_lane] = credit_lane_bytes(book, lines.to_vec());
        println!(
            "             with {which}: join {:.0} bytes/WABA (allocations {:.0}, their index {:.0}, slots {:.0}, WABA index {:.0}, not-funded lanes {:.0}); views: Allocations {:.0}, Not funded {:.0}; join + Not funded lane = {:.0} bytes/WABA",
            per(bytes, n),
            per(parts.allocations, n),
            per(parts.allocation_index, n),
            per(parts.slots, n),
            per(parts.waba_index, n),
            per(parts.lanes, n),
            per(allocations_lane, n),
            per(not_funded_lane, n),
            per(bytes + not_funded_lane, n),
        );
    }
}

/// Ten copies of a book and its lines with new ids (WABAs, owner businesses, funding
/// sources, allocations, credentials): the 100,000 world without reading it over HTTP.
fn ten_copies(
    book: &[Arc<Waba>],
    lines: &[CreditLineData],
) -> (Vec<Arc<Waba>>, Vec<CreditLineData>) {
    let mut wabas = Vec::with_capacity(book.len() * 10);
    let mut copied = lines.to_vec();
    for l in &mut copied {
        l.allocations.clear();
    }
    for k in 0..10 {
        for w in book {
            let mut c = (**w).clone();
            c.node.update(|n| {
                n.id = format!("{k}{}", n.id).into();
                if let Some(o) = &mut n.owner_business_info {
                    o.id = format!("{k}{}", o.id).into();
                }
                if let Some(f) = &mut n.primary_funding_id {
                    *f = format!("{k}{f}").into();
                }
            });
            wabas.push(Arc::new(c));
        }
        for (l, copy) in lines.iter().zip(&mut copied) {
            for a in &l.allocations {
                let mut a = a.clone();
                a.id = format!("{k}{}", a.id).into();
                if let Some(b) = &mut a.receiving_business {
                    b.id = format!("{k}{}", b.id).into();
                }
                if let Some(c) = &mut a.receiving_credential {
                    c.id = format!("{k}{}", c.id).into();
                }
                copy.allocations.push(a);
            }
        }
    }
    (wabas, copied)
}

/// The Credit lines part of the report, at 100, 10,000 and 100,000 WABAs.
fn credit_lines_part(big: bool) {
    println!("Credit lines (counting allocator):");
    let mut ten_k = None;
    for n in [100, 10_000] {
        let (book, memory, _, _) = read_book(n);
        drop(memory);
        let (lines, rows_bytes) = read_lines(n);
        credit_report(&book, &lines, rows_bytes);
        if n == 10_000 {
            ten_k = Some((book, lines, rows_bytes));
        }
    }
    if big {
        let (book, memory, _, _) = read_book(100_000);
        drop(memory);
        let (lines, rows_bytes) = read_lines(100_000);
        credit_report(&book, &lines, rows_bytes);
    } else if let Some((book, lines, rows_bytes)) = ten_k {
        let (book, lines) = ten_copies(&book, &lines);
        // The copies' rows cost what the read ones did, ten times.
        credit_report(&book, &lines, rows_bytes * 10);
    }
}
