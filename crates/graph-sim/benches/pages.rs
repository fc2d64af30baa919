//! What the simulator costs with a big book: `cargo bench -p graph-sim`.
//!
//! First it prints, for each world size in `GRAPH_SIM_START` (comma-separated WABA counts,
//! default `100000,250000`; empty = skip), how long generating the world and starting the
//! server took and the process's resident memory after it; with `GRAPH_SIM_WALK=1` also how
//! long reading the whole book page by page takes (what one console refresh lists). Then
//! divan times one page of 100
//! WABAs with their phone numbers expanded (the console's list call), over loopback, at 100,
//! 10k and 100k WABAs: the first page and one in the middle of the book.

use std::time::Instant;

use graph_sim::{self as sim, SimHandle, SimOptions, World};

/// The fields the console asks for on `client_whatsapp_business_accounts`.
const WABA_FIELDS: &str = "id,name,currency,timezone_id,message_template_namespace,account_review_status,business_verification_status,ownership_type,primary_funding_id,owner_business_info,country,creation_time,status,health_status,is_shared_with_partners,whatsapp_business_manager_messaging_limit,phone_numbers{id,display_phone_number,verified_name,quality_rating,status,code_verification_status,name_status,platform_type,throughput,health_status}";

struct Served {
    rt: tokio::runtime::Runtime,
    sim: SimHandle,
    http: reqwest::Client,
    /// The `after` cursor that opens the page in the middle of the book.
    middle: String,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn serve(generated: usize) -> Served {
    let rt = runtime();
    let world = World::demo_with_generated_wabas(generated);
    let middle = encode_cursor(&world.wabas[world.wabas.len() / 2].id);
    let sim = rt
        .block_on(sim::start(world, SimOptions::default()))
        .expect("simulator starts");
    Served {
        rt,
        sim,
        http: reqwest::Client::new(),
        middle,
    }
}

/// The simulator's cursor for an id (unpadded base64url), as the client would get it.
fn encode_cursor(id: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

fn page(s: &Served, after: Option<&str>) -> usize {
    let body = page_body(s, after);
    let rows = body["data"].as_array().map_or(0, Vec::len);
    assert!(rows > 0, "an empty page: {}", body["error"]);
    rows
}

/// Every page of the book, following the `after` cursors: (WABAs, pages).
fn walk_book(s: &Served) -> (usize, usize) {
    let (mut rows, mut pages) = (0, 0);
    let mut after: Option<String> = None;
    loop {
        let body = page_body(s, after.as_deref());
        rows += body["data"].as_array().map_or(0, Vec::len);
        pages += 1;
        if body["paging"]["next"].is_null() {
            return (rows, pages);
        }
        after = body["paging"]["cursors"]["after"]
            .as_str()
            .map(str::to_string);
    }
}

fn page_body(s: &Served, after: Option<&str>) -> serde_json::Value {
    let url = format!(
        "{}/v25.0/{}/client_whatsapp_business_accounts",
        s.sim.base_url(),
        s.sim.business_id()
    );
    let mut query = vec![("fields", WABA_FIELDS), ("limit", "100")];
    if let Some(a) = after {
        query.push(("after", a));
    }
    s.rt.block_on(async {
        s.http
            .get(&url)
            .bearer_auth(s.sim.token())
            .query(&query)
            .send()
            .await?
            .json()
            .await
    })
    .expect("a page")
}

fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU seconds this process has used (user + system), from `/proc/self/stat`: on a shared
/// machine the wall clock also counts other processes' turns.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which ends with the last ')'): utime is the 12th, stime the 13th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn print_start_times() {
    let sizes = std::env::var("GRAPH_SIM_START").unwrap_or_else(|_| "100000,250000".into());
    for n in sizes
        .split(',')
        .filter_map(|s| s.trim().parse::<usize>().ok())
    {
        let rt = runtime();
        let cpu0 = cpu_seconds();
        let t0 = Instant::now();
        let world = World::demo_with_generated_wabas(n);
        let generated = t0.elapsed();
        let sim = rt
            .block_on(sim::start(world, SimOptions::default()))
            .expect("simulator starts");
        let started = t0.elapsed();
        let cpu = cpu_seconds().zip(cpu0).map(|(a, b)| a - b);
        let served = Served {
            rt,
            sim,
            http: reqwest::Client::new(),
            middle: String::new(),
        };
        let t1 = Instant::now();
        page(&served, None);
        let first_page = t1.elapsed();
        println!(
            "{n} generated WABAs: world generated in {:.2} s, serving after {:.2} s ({} CPU), first page of 100 in {:.1} ms, RSS {}",
            generated.as_secs_f64(),
            started.as_secs_f64(),
            cpu.map_or("?".into(), |c| format!("{c:.2} s")),
            first_page.as_secs_f64() * 1e3,
            rss_mib().map_or("?".into(), |m| format!("{m:.0} MiB")),
        );
        if std::env::var("GRAPH_SIM_WALK").is_ok_and(|v| v == "1") {
            let cpu0 = cpu_seconds();
            let t = Instant::now();
            let (rows, pages) = walk_book(&served);
            let cpu = cpu_seconds().zip(cpu0).map(|(a, b)| a - b);
            println!(
                "  the whole book, {rows} WABAs in {pages} pages: {:.1} s ({} CPU, client parsing included)",
                t.elapsed().as_secs_f64(),
                cpu.map_or("?".into(), |c| format!("{c:.1} s")),
            );
        }
        drop(served);
    }
}

fn main() {
    print_start_times();
    divan::main();
}

/// One page of 100 WABAs with phone numbers, the first of the book.
#[divan::bench(args = [100, 10_000, 100_000], sample_count = 20)]
fn first_page(bencher: divan::Bencher, generated: usize) {
    let s = serve(generated);
    bencher.bench_local(|| page(&s, None));
}

/// One page of 100 WABAs with phone numbers, from the middle of the book.
#[divan::bench(args = [100, 10_000, 100_000], sample_count = 20)]
fn middle_page(bencher: divan::Bencher, generated: usize) {
    let s = serve(generated);
    bencher.bench_local(|| page(&s, Some(&s.middle)));
}
