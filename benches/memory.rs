//! What the console's WABA model weighs: `cargo bench --bench memory`. A counting global
//! allocator measures the bytes live after one round against the simulator (the poller's
//! memory of the book, the WABAs shared with the pane) and after the pane took the list (its
//! rows, search text, lanes, index), per WABA, with the pane's own count of its parts, at 100 and 10,000 WABAs; 100,000 is the
//! 10,000-WABA book copied ten times with new ids (quick), or read for real from the
//! simulator with `PARTNERDECK_BENCH_100K=1`. Also the peak while the round ran, and the process's RSS.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use graph_sim::{self as sim, SimOptions, World};
use partnerdeck::app::msg::{ReadStamp, WabaList};
use partnerdeck::app::wabas::{PaneMemory, WabasPane};
use partnerdeck::config::Token;
use partnerdeck::domain::onboarding::OnboardingRules;
use partnerdeck::graph::client::{ClientConfig, GraphClient};
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

/// One round against the simulator: the book, the poller's memory, and the bytes each costs.
fn read_book(n: usize) -> (Vec<Arc<Waba>>, BookMemory, usize, usize) {
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
        "             the pane per WABA: rows {:.0}, search text {:.0}, index {:.0}, derived (lanes, creation times, order, visible) {:.0} = {:.0}",
        per(parts.rows, n),
        per(parts.search, n),
        per(parts.index, n),
        per(parts.derived, n),
        per(parts.total(), n),
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
    } else if let Some((book, kept_per_waba)) = ten_k {
        // Ten copies of the 10,000-WABA book with new ids, every string its own allocation:
        // the pane is measured at 100,000; the WABAs and the poller's memory are the 10,000
        // book's bytes per WABA times 100,000.
        let mut copies = Vec::with_capacity(book.len() * 10);
        for k in 0..10 {
            for w in &book {
                let mut c = (**w).clone();
                c.node.id = format!("{k}{}", c.node.id);
                copies.push(Arc::new(c));
            }
        }
        drop(book);
        let n = copies.len();
        let (pane, bytes) = pane_bytes(copies);
        report(
            n,
            (kept_per_waba * n as f64) as usize,
            bytes,
            pane.memory(),
            None,
        );
        drop(pane);
    }
    if let Some(rss) = rss_mb() {
        println!("  this process's RSS at the end: {rss:.0} MB (the simulators' worlds included)");
    }
    println!("  target: console RSS ≤ 128 MB at 100,000 WABAs");
}
