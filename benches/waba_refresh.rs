//! How many HTTP requests one full WABA refresh costs, against the simulator over loopback:
//! `cargo bench --bench waba_refresh`. It prints requests per WABA for a book of 500 WABAs
//! (the number that matters), then divan times the same refresh.

use graph_sim::{self as sim, SimHandle, SimOptions, World};
use partnerdeck::config::Token;
use partnerdeck::graph::client::{ClientConfig, GraphClient};
use partnerdeck::graph::wabas;

/// WABAs in the measured book.
const BOOK: usize = 500;

struct Setup {
    rt: tokio::runtime::Runtime,
    sim: SimHandle,
    client: GraphClient,
}

fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    // The hand-written demo WABAs plus generated ones, BOOK in all.
    let hand_written = World::demo_with_generated_wabas(0).wabas.len();
    let world = World::demo_with_generated_wabas(BOOK - hand_written);
    let sim = rt
        .block_on(sim::start(world, SimOptions::default()))
        .expect("simulator starts");
    let client = GraphClient::new(ClientConfig::new(sim.base_url(), Token::new(sim.token())))
        .expect("client");
    Setup { rt, sim, client }
}

fn refresh(s: &Setup) -> usize {
    let book =
        s.rt.block_on(wabas::refresh(&s.client, &s.sim.business_id(), None))
            .expect("refresh");
    assert!(book.extras_failed.is_empty());
    book.wabas.len()
}

fn main() {
    let s = setup();
    let before = s.sim.requests().len();
    let n = refresh(&s);
    let reqs = s.sim.requests()[before..].to_vec();
    let count = |f: &dyn Fn(&sim::RecordedRequest) -> bool| reqs.iter().filter(|r| f(r)).count();
    println!(
        "One WABA refresh of {n} WABAs: {} HTTP requests ({} list pages, {} further phone-number pages, {} batches) = {:.3} requests per WABA",
        reqs.len(),
        count(&|r| r.path.ends_with("/client_whatsapp_business_accounts")),
        count(&|r| r.path.ends_with("/phone_numbers")),
        count(&|r| r.method == "POST"),
        reqs.len() as f64 / n as f64
    );
    drop(s);
    divan::main();
}

/// Wall time of one refresh of the whole book (loopback, no latency).
#[divan::bench(sample_count = 10)]
fn refresh_500_wabas(bencher: divan::Bencher) {
    let s = setup();
    bencher.bench_local(|| refresh(&s));
}
