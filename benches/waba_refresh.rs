//! What WABA rounds cost in HTTP requests, against the simulator over loopback:
//! `cargo bench --bench waba_refresh`. For books of 100 and 10,000 WABAs (and 100,000 with
//! `PARTNERDECK_BENCH_100K=1`: a minute more, mostly the 20 ms-latency first read) it prints the requests of a first read and of a steady round
//! (nothing changed, the rolling re-check of a 30 s poll over 6 h) next to the target
//! N/100 + 10, then the first read's wall time with 20 ms of latency per request against the
//! 40 s target (at 100,000 WABAs; at 1,000, scaled, without the variable). Then divan times
//! a steady round of 500 WABAs.
//!
//! It also prints the CPU of a steady round on the client side (the rounds run on a
//! current-thread runtime of the main thread, the simulator on its own threads, so the main
//! thread's CPU clock is the client's) and what the round allocates there (a counting
//! allocator that counts the main thread only): the mean of five steady rounds (three at
//! 100,000).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use graph_sim::{self as sim, SimHandle, SimOptions, World};
use partnerdeck::app::msg::ReadStamp;
use partnerdeck::config::Token;
use partnerdeck::graph::client::{ClientConfig, GraphClient};
use partnerdeck::graph::wabas::{
    self, BookMemory, DEFAULT_READ_CONCURRENCY, RoundOptions, RoundResult, WabaInbox,
    recheck_per_round,
};

const POLL: Duration = Duration::from_secs(30);
const RECHECK_PERIOD: Duration = Duration::from_secs(6 * 3600);
const LATENCY: Duration = Duration::from_millis(20);

/// Counts allocations (and their bytes) made by threads that asked to be counted.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

fn count(bytes: usize) {
    if COUNTED.try_with(Cell::get).unwrap_or(false) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        ALLOC_BYTES.fetch_add(bytes as u64, Ordering::Relaxed);
    }
}

// SAFETY: every call is passed to the system allocator unchanged; only counters move.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The CPU time this thread has used.
fn thread_cpu() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to fill.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "the thread's CPU clock");
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// What a round cost the client: CPU, allocations and bytes allocated.
#[derive(Debug, Clone, Copy, Default)]
struct ClientCost {
    cpu: Duration,
    allocs: u64,
    bytes: u64,
}

struct Setup {
    /// The simulator's runtime (its own threads): kept while the simulator runs.
    _sim_rt: tokio::runtime::Runtime,
    /// The client's: the main thread only, so its CPU clock measures the client.
    client_rt: tokio::runtime::Runtime,
    sim: SimHandle,
    client: GraphClient,
    memory: BookMemory,
}

fn setup(book: usize, latency: Duration) -> Setup {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    // The hand-written demo WABAs plus generated ones, `book` in all.
    let hand_written = World::demo_with_generated_wabas(0).wabas.len();
    let world = World::demo_with_generated_wabas(book.saturating_sub(hand_written));
    let opts = SimOptions {
        latency,
        ..SimOptions::default()
    };
    let sim = rt
        .block_on(sim::start(world, opts))
        .expect("simulator starts");
    let client = GraphClient::new(ClientConfig::new(sim.base_url(), Token::new(sim.token())))
        .expect("client");
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    Setup {
        _sim_rt: rt,
        client_rt,
        sim,
        client,
        memory: BookMemory::default(),
    }
}

/// One round as the console's poller runs it.
fn round(s: &mut Setup) -> (RoundResult, usize, Duration) {
    let (r, batches, took, _) = measured_round(s);
    (r, batches, took)
}

/// One round, with what it cost the client.
fn measured_round(s: &mut Setup) -> (RoundResult, usize, Duration, ClientCost) {
    let recheck = recheck_per_round(s.memory.last_total().unwrap_or(0), POLL, RECHECK_PERIOD);
    let opts = RoundOptions {
        read_concurrency: DEFAULT_READ_CONCURRENCY,
        recheck,
    };
    let before = s.sim.requests().len();
    let started = Instant::now();
    let (allocs, bytes) = (
        ALLOCS.load(Ordering::Relaxed),
        ALLOC_BYTES.load(Ordering::Relaxed),
    );
    let cpu = thread_cpu();
    COUNTED.with(|c| c.set(true));
    let r = s
        .client_rt
        .block_on(wabas::refresh_round(
            &s.client,
            &s.sim.business_id(),
            None,
            &mut s.memory,
            &WabaInbox::default(),
            ReadStamp::issue().0,
            &opts,
            |_| {},
        ))
        .expect("round");
    COUNTED.with(|c| c.set(false));
    let cost = ClientCost {
        cpu: thread_cpu() - cpu,
        allocs: ALLOCS.load(Ordering::Relaxed) - allocs,
        bytes: ALLOC_BYTES.load(Ordering::Relaxed) - bytes,
    };
    let took = started.elapsed();
    assert!(r.extras_failed.is_empty(), "{:?}", r.extras_failed.first());
    let batches = s.sim.requests()[before..]
        .iter()
        .filter(|q| q.method == "POST")
        .count();
    (r, batches, took, cost)
}

fn main() {
    // `PARTNERDECK_BENCH_STEADY=N`: a first read of N WABAs, then steady rounds only (for a
    // profiler: `perf record` on the bench binary).
    if let Some(n) = std::env::var("PARTNERDECK_BENCH_STEADY")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        let mut s = setup(n, Duration::ZERO);
        round(&mut s);
        let mut sum = Duration::ZERO;
        let rounds = 20;
        for _ in 0..rounds {
            sum += measured_round(&mut s).3.cpu;
        }
        println!(
            "steady rounds of {n} WABAs: {:.1} ms of client CPU each",
            sum.as_secs_f64() * 1000.0 / f64::from(rounds)
        );
        return;
    }
    let big = std::env::var_os("PARTNERDECK_BENCH_100K").is_some();
    let mut sizes = vec![100, 10_000];
    if big {
        sizes.push(100_000);
    }
    println!("WABA rounds against the simulator (30 s poll, every WABA re-checked over 6 h):");
    let mut steady = vec![];
    let mut costs = vec![];
    for &n in &sizes {
        let mut s = setup(n, Duration::ZERO);
        let (first, first_batches, first_took) = round(&mut s);
        let (again, batches, took) = round(&mut s);
        let target = n / 100 + 10;
        println!(
            "  N = {:>7}: first read {:>6} requests ({} batches) in {:.2} s; steady round {:>5} requests ({} batches, {} re-checked) in {:.2} s; target ≤ N/100 + 10 = {target} → {}",
            first.wabas.len(),
            first.requests,
            first_batches,
            first_took.as_secs_f64(),
            again.requests,
            batches,
            again.extras_read,
            took.as_secs_f64(),
            if again.requests as usize <= target {
                "met"
            } else {
                "MISSED"
            },
        );
        steady.push((n, again.requests, first.requests));
        // More steady rounds: the client's CPU and allocations, the mean of a few.
        let rounds: u32 = if n >= 100_000 { 3 } else { 5 };
        let mut sum = ClientCost::default();
        for _ in 0..rounds {
            let (_, _, _, c) = measured_round(&mut s);
            sum.cpu += c.cpu;
            sum.allocs += c.allocs;
            sum.bytes += c.bytes;
        }
        let cpu = sum.cpu / rounds;
        costs.push((
            n,
            ClientCost {
                cpu,
                allocs: sum.allocs / u64::from(rounds),
                bytes: sum.bytes / u64::from(rounds),
            },
        ));
    }
    for (n, c) in &costs {
        println!(
            "  CPU of a steady round (client side), N = {n:>7}: {:>8.1} ms ({:.2} % of a core at a {} s poll); {} allocations, {:.1} MB allocated a round",
            c.cpu.as_secs_f64() * 1000.0,
            c.cpu.as_secs_f64() / POLL.as_secs_f64() * 100.0,
            POLL.as_secs(),
            c.allocs,
            c.bytes as f64 / 1_048_576.0,
        );
    }
    if let (Some(small), Some(large)) = (steady.first(), steady.last()) {
        println!(
            "  {}/{} ratio: steady round {:.1}x, first read {:.1}x (book {}x; the target N/100 + 10 is {:.1}x)",
            large.0,
            small.0,
            large.1 as f64 / small.1 as f64,
            large.2 as f64 / small.2 as f64,
            large.0 / small.0,
            (large.0 / 100 + 10) as f64 / (small.0 / 100 + 10) as f64
        );
    }
    // The first read with 20 ms per request: list pages one after another, batches beside.
    // Without the variable at 1,000 WABAs, scaled: the simulator's own time per page grows
    // with the book, and would dominate at 10,000.
    let n = if big { 100_000 } else { 1_000 };
    let mut s = setup(n, LATENCY);
    let (first, _, took) = round(&mut s);
    drop(s);
    // The same read without latency: the simulator's and the client's own time, so the
    // difference is what 20 ms a request adds with this pipelining.
    let mut s = setup(n, Duration::ZERO);
    let (_, _, bare) = round(&mut s);
    let scale = 100_000.0 / first.wabas.len() as f64;
    let added = took.saturating_sub(bare).as_secs_f64();
    println!(
        "  first read of {} WABAs with {} ms latency: {:.2} s ({} requests; {:.2} s of it without latency, the simulator's own time){}; latency adds {:.2} s{}; target ≤ 40 s at 100,000",
        first.wabas.len(),
        LATENCY.as_millis(),
        took.as_secs_f64(),
        first.requests,
        bare.as_secs_f64(),
        if big {
            String::new()
        } else {
            format!(" → {:.0} s scaled to 100,000", took.as_secs_f64() * scale)
        },
        added,
        if big {
            String::new()
        } else {
            format!(" → {:.0} s scaled to 100,000", added * scale)
        },
    );
    drop(s);
    divan::main();
}

/// Wall time of a steady round of 500 WABAs (loopback, no latency).
#[divan::bench(sample_count = 10)]
fn steady_round_500_wabas(bencher: divan::Bencher) {
    let mut s = setup(500, Duration::ZERO);
    round(&mut s);
    bencher.bench_local(|| round(&mut s).0.wabas.len());
}
