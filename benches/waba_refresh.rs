//! What WABA rounds cost in HTTP requests, against the simulator over loopback:
//! `cargo bench --bench waba_refresh`. For books of 100 and 10,000 WABAs (and 100,000 with
//! `PARTNERDECK_BENCH_100K=1`: a minute more, mostly the 20 ms-latency first read) it prints the requests of a first read and of a steady round
//! (nothing changed, the rolling re-check of a 30 s poll over 6 h) next to the target
//! N/100 + 10, then the first read's wall time with 20 ms of latency per request against the
//! 40 s target (at 100,000 WABAs; at 1,000, scaled, without the variable). Then divan times
//! a steady round of 500 WABAs.

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

struct Setup {
    rt: tokio::runtime::Runtime,
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
    Setup {
        rt,
        sim,
        client,
        memory: BookMemory::default(),
    }
}

/// One round as the console's poller runs it.
fn round(s: &mut Setup) -> (RoundResult, usize, Duration) {
    let recheck = recheck_per_round(s.memory.last_total().unwrap_or(0), POLL, RECHECK_PERIOD);
    let opts = RoundOptions {
        read_concurrency: DEFAULT_READ_CONCURRENCY,
        recheck,
    };
    let before = s.sim.requests().len();
    let started = Instant::now();
    let r =
        s.rt.block_on(wabas::refresh_round(
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
    let took = started.elapsed();
    assert!(r.extras_failed.is_empty(), "{:?}", r.extras_failed.first());
    let batches = s.sim.requests()[before..]
        .iter()
        .filter(|q| q.method == "POST")
        .count();
    (r, batches, took)
}

fn main() {
    let big = std::env::var_os("PARTNERDECK_BENCH_100K").is_some();
    let mut sizes = vec![100, 10_000];
    if big {
        sizes.push(100_000);
    }
    println!("WABA rounds against the simulator (30 s poll, every WABA re-checked over 6 h):");
    let mut steady = vec![];
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
