//! Incremental WABA rounds against the simulator (what a second round costs, what it reads
//! again) and the progressive load in the state machine (pages before the list finishes, read
//! stamps between pages, whole lists and re-reads).

use std::sync::Arc;

use graph_sim::{self as sim, SimHandle, SimOptions, World};
use partnerdeck::app::msg::{Msg, ReadStamp, WabaList, WabaPage};
use partnerdeck::app::update::update;
use partnerdeck::config::Token;
use partnerdeck::graph::client::{ClientConfig, GraphClient};
use partnerdeck::graph::waba_model::Waba;
use partnerdeck::graph::wabas::{
    self, BookMemory, PageUpdate, RoundOptions, RoundResult, WABAS_PER_BATCH, WabaInbox,
};

use crate::common::{at, feed, loaded_model, wabas as sample_wabas};

async fn start() -> (SimHandle, GraphClient) {
    let h = sim::start(World::demo(), SimOptions::default())
        .await
        .unwrap();
    let c = GraphClient::new(ClientConfig::new(h.base_url(), Token::new(h.token()))).unwrap();
    (h, c)
}

/// One round with `memory`; the batches (POSTs) it sent, and the updates it handed on.
async fn round(
    h: &SimHandle,
    c: &GraphClient,
    memory: &mut BookMemory,
    inbox: &WabaInbox,
    recheck: usize,
) -> (RoundResult, usize, Vec<PageUpdate>) {
    let before = h.requests().len();
    let mut pages = vec![];
    let opts = RoundOptions {
        read_concurrency: 4,
        recheck,
    };
    let r = wabas::refresh_round(
        c,
        &h.business_id(),
        None,
        memory,
        inbox,
        ReadStamp::issue().0,
        &opts,
        |p| pages.push(p),
    )
    .await
    .unwrap();
    let sent = h.requests()[before..].to_vec();
    assert_eq!(
        r.requests as usize,
        sent.len(),
        "the round counts what it sends"
    );
    let batches = sent.iter().filter(|q| q.method == "POST").count();
    (r, batches, pages)
}

fn find<'a>(r: &'a RoundResult, id: &str) -> &'a Arc<Waba> {
    r.wabas.iter().find(|w| w.id() == id).unwrap()
}

#[tokio::test]
async fn a_second_round_of_an_unchanged_book_reads_the_list_and_only_the_recheck_slice() {
    let (h, c) = start().await;
    let (mut memory, inbox) = (BookMemory::default(), WabaInbox::default());
    let (first, batches, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    assert_eq!(first.wabas.len(), sim::DEMO_WABA_COUNT);
    assert_eq!(first.extras_read, sim::DEMO_WABA_COUNT);
    assert_eq!(batches, sim::DEMO_WABA_COUNT.div_ceil(WABAS_PER_BATCH));

    let list_requests = first.requests as usize - batches;
    let (second, batches, updates) = round(&h, &c, &mut memory, &inbox, 0).await;
    assert_eq!(batches, 0, "nothing changed: no edge is read");
    assert_eq!(second.extras_read, 0);
    assert_eq!(
        second.requests as usize, list_requests,
        "the list pages (and further pages of numbers) only"
    );
    assert!(
        updates.iter().all(|u| u.wabas.is_empty()),
        "no WABA is handed on again"
    );
    for (a, b) in first.wabas.iter().zip(&second.wabas) {
        assert!(
            Arc::ptr_eq(a, b),
            "{} is the same value, not a copy",
            a.id()
        );
    }

    // The rolling re-check: 30 WABAs a round, two batches, the next 30 the round after.
    let (third, batches, _) = round(&h, &c, &mut memory, &inbox, 30).await;
    assert_eq!(third.extras_read, 30);
    assert_eq!(batches, 30usize.div_ceil(WABAS_PER_BATCH));
    let (fourth, _, _) = round(&h, &c, &mut memory, &inbox, 30).await;
    assert_eq!(fourth.extras_read, 30);
    assert!(third.extras_failed.is_empty() && fourth.extras_failed.is_empty());
}

#[tokio::test]
async fn a_changed_waba_and_a_new_one_have_their_edges_read_in_the_next_round() {
    let (h, c) = start().await;
    let (mut memory, inbox) = (BookMemory::default(), WabaInbox::default());
    let (first, _, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    let http = reqwest::Client::new();
    let restricted = http
        .post(format!(
            "{}/__sim/restrict_waba?waba_id={}",
            h.base_url(),
            sim::DEMO_WABA_COMPLETE_ID
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(restricted.status().as_u16(), 200);
    let added: serde_json::Value = http
        .post(format!(
            "{}/__sim/onboard_waba?name=Tern%20Labs",
            h.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_id = added["waba_id"].as_str().unwrap().to_string();

    let (second, batches, updates) = round(&h, &c, &mut memory, &inbox, 0).await;
    assert_eq!(second.extras_read, 2, "the changed WABA and the new one");
    assert_eq!(batches, 1);
    let new = find(&second, &new_id);
    assert!(new.subscribed_apps.is_some() && new.solutions.is_some());
    let changed = find(&second, sim::DEMO_WABA_COMPLETE_ID);
    assert_ne!(changed, find(&first, sim::DEMO_WABA_COMPLETE_ID));
    let handed_on: Vec<&str> = updates
        .iter()
        .flat_map(|u| u.wabas.iter().map(|w| w.id()))
        .collect();
    assert!(handed_on.contains(&new_id.as_str()), "{handed_on:?}");
    assert!(handed_on.contains(&sim::DEMO_WABA_COMPLETE_ID));
}

#[tokio::test]
async fn an_actions_reread_and_a_webhooks_hint_reach_the_next_round() {
    let (h, c) = start().await;
    let (mut memory, inbox) = (BookMemory::default(), WabaInbox::default());
    let (first, _, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    // A WABA our app is not subscribed to: subscribing changes an edge, not the list.
    let app = h.app_id();
    let target = first
        .wabas
        .iter()
        .find(|w| {
            w.node.malformed.is_none()
                && w.subscribed_apps
                    .as_ref()
                    .is_some_and(|a| a.iter().all(|s| s.app_id() != Some(app.as_str())))
        })
        .unwrap()
        .id()
        .to_string();
    wabas::subscribe_app(&c, &target).await.unwrap();
    let stamp = ReadStamp::issue();
    let reread = wabas::read_waba(&c, &target).await.unwrap();
    inbox.reread(reread, stamp.0);

    let (second, batches, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    assert_eq!(batches, 0, "the re-read is taken as known, not read again");
    let subscribed = |r: &RoundResult| {
        find(r, &target)
            .subscribed_apps
            .as_ref()
            .unwrap()
            .iter()
            .any(|s| s.app_id() == Some(app.as_str()))
    };
    assert!(
        subscribed(&second),
        "the round shows the re-read, not the old edges"
    );

    // A webhook names a WABA: its edges are read in the next round, nothing else.
    inbox.stale([sim::DEMO_WABA_LIMITED_ID.to_string()]);
    let (third, batches, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    assert_eq!((third.extras_read, batches), (1, 1));
    assert!(subscribed(&third));
}

#[tokio::test]
async fn a_first_read_hands_on_pages_before_the_list_ends() {
    let (h, c) = start().await;
    let (mut memory, inbox) = (BookMemory::default(), WabaInbox::default());
    let (first, _, updates) = round(&h, &c, &mut memory, &inbox, 0).await;
    assert!(!updates.is_empty());
    let u = &updates[0];
    assert_eq!(u.listed, 100, "after the first page");
    assert_eq!(u.expected, None, "the first read does not know the total");
    assert!(u.listed < first.wabas.len());
    let handed: usize = updates.iter().map(|u| u.wabas.len()).sum();
    assert_eq!(handed, first.wabas.len(), "every WABA is handed on once");
    let (_, _, updates) = round(&h, &c, &mut memory, &inbox, 0).await;
    assert_eq!(updates[0].expected, Some(sim::DEMO_WABA_COUNT));
}

// ---- the state machine ----

fn page(wabas: &[Waba], listed: usize, expected: Option<usize>) -> WabaPage {
    WabaPage {
        wabas: wabas.iter().cloned().map(Arc::new).collect(),
        listed,
        expected,
    }
}

#[test]
fn pages_are_usable_before_the_list_finishes_and_only_a_whole_list_removes() {
    let mut m = loaded_model();
    let book = sample_wabas();
    assert!(book.len() >= 4);
    let round = ReadStamp::issue();
    feed(
        &mut m,
        [Msg::WabasPage {
            started: round,
            page: page(&book[..2], 2, None),
        }],
    );
    assert!(m.wabas.loaded, "rows are shown while the list is read");
    assert_eq!(m.wabas.rows.len(), 2);
    let loading = m.wabas.loading.unwrap();
    assert_eq!((loading.listed, loading.expected), (2, None));
    assert!(m.wabas.row(book[0].id()).is_some());
    assert!(m.wabas.changes.is_empty(), "the first read is the baseline");

    feed(
        &mut m,
        [Msg::WabasLoaded {
            at: at(1),
            started: round,
            result: Ok(WabaList::of(book.clone())),
        }],
    );
    assert_eq!(m.wabas.rows.len(), book.len());
    assert!(m.wabas.loading.is_none());

    // The next round: a page that lacks a WABA removes nothing; its whole list does.
    let next = ReadStamp::issue();
    let gone = book[0].id().to_string();
    feed(
        &mut m,
        [Msg::WabasPage {
            started: next,
            page: page(&book[1..2], 1, Some(book.len())),
        }],
    );
    assert!(m.wabas.row(&gone).is_some());
    assert_eq!(m.wabas.loading.unwrap().expected, Some(book.len()));
    // A round whose list fails part way keeps its pages and removes nothing.
    feed(
        &mut m,
        [Msg::WabasLoaded {
            at: at(2),
            started: next,
            result: Err(partnerdeck::app::msg::Failure::new(
                partnerdeck::app::msg::FailureKind::Transient,
                "Meta had a temporary problem",
                Some(2),
            )),
        }],
    );
    assert!(m.wabas.loading.is_none());
    assert!(m.wabas.row(&gone).is_some());
    let next = ReadStamp::issue();
    feed(
        &mut m,
        [Msg::WabasLoaded {
            at: at(2),
            started: next,
            result: Ok(WabaList::of(book[1..].to_vec())),
        }],
    );
    assert!(m.wabas.row(&gone).is_none());
    assert_eq!(m.wabas.rows.len(), book.len() - 1);
}

#[test]
fn a_stale_page_never_overwrites_a_newer_reread() {
    let mut m = loaded_model();
    let book = sample_wabas();
    let id = book[0].id().to_string();
    let round = ReadStamp::issue();
    update(
        &mut m,
        Msg::WabasLoaded {
            at: at(0),
            started: round,
            result: Ok(WabaList::of(book.clone())),
        },
    );
    // A round starts, then an action's re-read (later) renames the WABA; the round's page
    // and its whole list carry the older name.
    let next = ReadStamp::issue();
    let reread_at = ReadStamp::issue();
    let mut renamed = book[0].clone();
    renamed
        .node
        .update(|f| f.name = "Renamed by the re-read".into());
    m.wabas.apply_waba(renamed, reread_at);
    let mut older = book[0].clone();
    older.node.update(|f| f.name = "Older page".into());
    feed(
        &mut m,
        [Msg::WabasPage {
            started: next,
            page: page(std::slice::from_ref(&older), 1, Some(book.len())),
        }],
    );
    assert_eq!(
        m.wabas.row(&id).unwrap().waba.name(),
        "Renamed by the re-read"
    );
    let mut list = book.clone();
    list[0] = older;
    feed(
        &mut m,
        [Msg::WabasLoaded {
            at: at(1),
            started: next,
            result: Ok(WabaList::of(list)),
        }],
    );
    assert_eq!(
        m.wabas.row(&id).unwrap().waba.name(),
        "Renamed by the re-read"
    );
    assert_eq!(m.wabas.as_of(&id), Some(reread_at));
    // A page of an older round than the list shown is dropped whole.
    feed(
        &mut m,
        [Msg::WabasPage {
            started: round,
            page: page(&book[1..2], 1, None),
        }],
    );
    assert_eq!(m.wabas.loading, None);
}

#[test]
fn the_pane_says_how_far_the_list_is_and_what_the_rounds_cost() {
    use partnerdeck::app::msg::WabaRoundCost;
    use partnerdeck::ui::{Theme, draw};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let screen = |m: &partnerdeck::app::Model| {
        let mut t = Terminal::new(TestBackend::new(140, 24)).unwrap();
        t.draw(|f| draw(f, m, at(42), &Theme::monochrome()))
            .unwrap();
        t.backend().to_string()
    };
    let mut m = loaded_model();
    let book = sample_wabas();
    feed(
        &mut m,
        [
            crate::common::key('2'),
            Msg::WabasPage {
                started: ReadStamp::issue(),
                page: page(&book[..2], 12_400, None),
            },
        ],
    );
    let s = screen(&m);
    assert!(s.contains("loading 12,400 of …"), "{s}");
    assert!(
        s.contains(book[0].name()) || s.contains(book[1].name()),
        "{s}"
    );
    feed(
        &mut m,
        [
            Msg::WabasPage {
                started: ReadStamp::issue(),
                page: page(&[], 24_800, Some(100_000)),
            },
            Msg::WabaRoundCost(WabaRoundCost {
                last_round: 1_006,
                planned_per_hour: 120_720,
                usage_pct: Some(12),
            }),
        ],
    );
    let s = screen(&m);
    assert!(s.contains("loading 24,800 of 100,000"), "{s}");
    assert!(
        s.contains("≈120,720 calls/h planned · Meta reports 12% used"),
        "{s}"
    );
}

/// The demo world, with the WABA that has many numbers given 130 of them: more than one
/// expansion (100) holds.
fn world_with_130_numbers() -> World {
    let mut world = World::demo();
    let big = world
        .wabas
        .iter_mut()
        .find(|w| w.id == sim::DEMO_WABA_MANY_PHONES_ID)
        .unwrap();
    let model = big.phone_numbers[0].clone();
    for k in big.phone_numbers.len()..130 {
        let mut p = model.clone();
        p.id = format!("3299{k:012}");
        big.phone_numbers.push(p);
    }
    world
}

#[tokio::test]
async fn a_waba_with_more_numbers_than_one_expansion_holds_has_them_all() {
    let (h, c) = start_with(world_with_130_numbers()).await;
    let (mut memory, inbox) = (BookMemory::default(), WabaInbox::default());
    let (r, _, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    assert_eq!(
        find(&r, sim::DEMO_WABA_MANY_PHONES_ID)
            .node
            .phone_numbers()
            .len(),
        130
    );
    let nested = h
        .requests()
        .iter()
        .filter(|q| q.path.ends_with("/phone_numbers"))
        .count();
    assert_eq!(nested, 1, "one further page of numbers, for that WABA only");
}

// ---- recognising unchanged WABAs by their text ----

/// A simulator of `world`, and a client of it.
async fn start_with(world: World) -> (SimHandle, GraphClient) {
    let h = sim::start(world, SimOptions::default()).await.unwrap();
    let c = GraphClient::new(ClientConfig::new(h.base_url(), Token::new(h.token()))).unwrap();
    (h, c)
}

/// The ids of the WABAs a round handed on as new or changed.
fn handed_on(updates: &[PageUpdate]) -> Vec<String> {
    updates
        .iter()
        .flat_map(|u| u.wabas.iter().map(|w| w.id().to_string()))
        .collect()
}

#[tokio::test]
async fn a_waba_changed_in_any_one_field_is_decoded_and_an_unchanged_one_is_the_same_arc() {
    let world = World::demo();
    let (h, c) = start_with(world.clone()).await;
    let (mut memory, inbox) = (BookMemory::default(), WabaInbox::default());
    let (first, _, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    assert_eq!(
        first.decoded,
        sim::DEMO_WABA_COUNT,
        "a first read decodes all"
    );
    let (second, batches, updates) = round(&h, &c, &mut memory, &inbox, 0).await;
    assert_eq!(
        second.decoded, 0,
        "an unchanged book is recognised by its text, not decoded"
    );
    assert_eq!(batches, 0);
    assert!(handed_on(&updates).is_empty());
    for (a, b) in first.wabas.iter().zip(&second.wabas) {
        assert!(Arc::ptr_eq(a, b), "{}", a.id());
    }

    // The same book from another simulator, five WABAs changed in one field each.
    let mut edited = world;
    let with_phone = |w: &&mut sim::wabas::Waba| !w.phone_numbers.is_empty();
    let mut targets = edited
        .wabas
        .iter_mut()
        .filter(|w| w.phone_numbers.len() <= 100)
        .filter(with_phone);
    let mut changed = vec![];
    let w = targets.next().unwrap();
    w.name = format!("{} (renamed)", w.name);
    changed.push((w.id.clone(), "name"));
    let w = targets.next().unwrap();
    w.phone_numbers[0].status = if w.phone_numbers[0].status == "CONNECTED" {
        "DISCONNECTED".into()
    } else {
        "CONNECTED".into()
    };
    changed.push((w.id.clone(), "a number's status"));
    let w = targets.next().unwrap();
    w.health.can_send_message = if w.health.can_send_message == "BLOCKED" {
        "AVAILABLE".into()
    } else {
        "BLOCKED".into()
    };
    changed.push((w.id.clone(), "health"));
    let w = targets.next().unwrap();
    w.primary_funding_id = "4400000000000999".into();
    changed.push((w.id.clone(), "funding"));
    // A field the console only shows (in the detail's "Other fields").
    let w = targets.next().unwrap();
    w.timezone_id = "99".into();
    changed.push((w.id.clone(), "an unknown field"));
    drop(h);
    let (h, c) = start_with(edited).await;

    let (third, batches, updates) = round(&h, &c, &mut memory, &inbox, 0).await;
    assert_eq!(
        third.decoded,
        changed.len(),
        "only the changed WABAs are decoded"
    );
    assert_eq!(third.extras_read, changed.len(), "and their edges read");
    assert_eq!(batches, 1);
    let handed = handed_on(&updates);
    for (id, what) in &changed {
        let (before, now) = (find(&second, id), find(&third, id));
        assert_ne!(before, now, "{what}: changed");
        assert!(handed.contains(id), "{what}: handed on");
    }
    assert_eq!(handed.len(), changed.len(), "{handed:?}");
    assert_eq!(find(&third, &changed[1].0).node.phone_numbers().len(), {
        find(&second, &changed[1].0).node.phone_numbers().len()
    });
    let unchanged = second
        .wabas
        .iter()
        .zip(&third.wabas)
        .filter(|(a, b)| Arc::ptr_eq(a, b))
        .count();
    assert_eq!(unchanged, sim::DEMO_WABA_COUNT - changed.len());
    let shown_only = find(&third, &changed[4].0);
    assert_eq!(shown_only.node.shown().timezone_id.as_deref(), Some("99"));

    // Steady again: nothing decoded, the changed ones are now the remembered ones.
    let (fourth, _, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    assert_eq!(fourth.decoded, 0);
    for (a, b) in third.wabas.iter().zip(&fourth.wabas) {
        assert!(Arc::ptr_eq(a, b), "{}", a.id());
    }
}

#[tokio::test]
async fn a_waba_due_for_its_edges_has_them_read_and_is_kept_when_they_are_the_same() {
    let (h, c) = start().await;
    let (mut memory, inbox) = (BookMemory::default(), WabaInbox::default());
    let (first, _, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    // The re-check slice and a webhook's hint: their edges read, and (nothing having
    // changed) still the very same values. Their rows' text is the same, so they are not
    // decoded again: the remembered WABA is sent for its edges as it is.
    // (Past the first ten, which the re-check slice takes.)
    inbox.stale([first.wabas[200].id().to_string()]);
    let before = h.requests().len();
    let (second, _, updates) = round(&h, &c, &mut memory, &inbox, 10).await;
    assert_eq!(second.extras_read, 11);
    assert_eq!(second.decoded, 0);
    assert!(
        list_statuses(&h, before).iter().all(|s| *s == 304),
        "nor are their pages sent again"
    );
    assert!(handed_on(&updates).is_empty());
    for (a, b) in first.wabas.iter().zip(&second.wabas) {
        assert!(Arc::ptr_eq(a, b), "{}", a.id());
    }
}

#[tokio::test]
async fn a_waba_with_more_numbers_than_one_expansion_holds_is_read_whole_every_round() {
    let mut world = world_with_130_numbers();
    let (h, c) = start_with(world.clone()).await;
    let (mut memory, inbox) = (BookMemory::default(), WabaInbox::default());
    let nested = |h: &SimHandle| {
        h.requests()
            .iter()
            .filter(|q| q.path.ends_with("/phone_numbers"))
            .count()
    };
    let (first, _, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    let (second, _, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    assert_eq!(nested(&h), 2, "its further page is read every round");
    assert_eq!(second.decoded, 1, "it alone is decoded");
    let id = sim::DEMO_WABA_MANY_PHONES_ID;
    assert!(
        Arc::ptr_eq(find(&first, id), find(&second, id)),
        "the same numbers: the same value"
    );

    // A number past the first hundred changes: the round shows it.
    let big = world.wabas.iter_mut().find(|w| w.id == id).unwrap();
    big.phone_numbers[120].status = "BANNED".into();
    let changed_phone = big.phone_numbers[120].id.clone();
    drop(h);
    let (h, c) = start_with(world).await;
    let (third, _, updates) = round(&h, &c, &mut memory, &inbox, 0).await;
    assert_eq!(third.decoded, 1);
    let now = find(&third, id);
    assert_eq!(now.node.phone_numbers().len(), 130);
    assert_eq!(
        now.phone(&changed_phone).unwrap().status.as_deref(),
        Some("BANNED")
    );
    assert_eq!(handed_on(&updates), [id.to_string()]);
}

#[tokio::test]
async fn a_malformed_row_is_shown_every_round() {
    use graph_sim::{Fault, FaultAction};
    let (h, c) = start().await;
    let bad_id = "1045/../0000000101";
    h.set_faults(vec![
        Fault::new(FaultAction::PatchRow {
            index: 3,
            row: serde_json::json!({ "id": bad_id }),
        })
        .get("*/client_whatsapp_business_accounts"),
    ]);
    let (mut memory, inbox) = (BookMemory::default(), WabaInbox::default());
    let (first, _, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    for _ in 0..2 {
        let (next, _, updates) = round(&h, &c, &mut memory, &inbox, 0).await;
        assert_eq!(next.wabas.len(), first.wabas.len());
        let marked: Vec<&Arc<Waba>> = next
            .wabas
            .iter()
            .filter(|w| w.node.malformed.is_some())
            .collect();
        assert_eq!(marked.len(), 1);
        assert_eq!(marked[0].id(), bad_id);
        assert_eq!(next.wabas[3].id(), bad_id, "in its place in the list");
        assert_eq!(
            next.decoded, 1,
            "it is decoded each round, the others are recognised"
        );
        assert!(handed_on(&updates).contains(&bad_id.to_string()));
        assert_eq!(next.extras_failed.len(), 2, "its edges are never asked for");
    }
}

#[tokio::test]
async fn a_token_echoed_as_unicode_escapes_in_the_list_never_reaches_a_waba() {
    use graph_sim::faults::{EchoInto, Fault, FaultAction};
    let (h, c) = start().await;
    h.set_faults(vec![
        Fault::new(FaultAction::EchoToken {
            into: EchoInto::Name,
            escaped: true,
            pad: 0,
        })
        .get("*/client_whatsapp_business_accounts"),
    ]);
    let (mut memory, inbox) = (BookMemory::default(), WabaInbox::default());
    for _ in 0..2 {
        let (r, _, _) = round(&h, &c, &mut memory, &inbox, 0).await;
        assert_eq!(r.wabas.len(), sim::DEMO_WABA_COUNT);
        assert!(r.wabas.iter().all(|w| w.name() == "Leak <redacted>"));
        let text = format!("{:?}", r.wabas);
        assert!(!text.contains(&h.token()));
    }
}

// ---- list pages asked for again with their ETag, read ahead of the round ----

/// The statuses of the list's GETs since request `from`.
fn list_statuses(h: &SimHandle, from: usize) -> Vec<u16> {
    h.requests()[from..]
        .iter()
        .filter(|q| q.method == "GET" && q.path.ends_with("/client_whatsapp_business_accounts"))
        .map(|q| q.status)
        .collect()
}

#[tokio::test]
async fn a_page_not_modified_is_the_very_same_rows_and_a_changed_one_is_read_again() {
    let (h, c) = start().await;
    let (mut memory, inbox) = (BookMemory::default(), WabaInbox::default());
    let (first, _, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    let pages = sim::DEMO_WABA_COUNT.div_ceil(100);

    let before = h.requests().len();
    let (second, batches, updates) = round(&h, &c, &mut memory, &inbox, 0).await;
    assert_eq!(
        list_statuses(&h, before),
        vec![304; pages],
        "one request a page, as before, each not modified"
    );
    assert_eq!((batches, second.decoded), (0, 0));
    assert!(handed_on(&updates).is_empty());
    assert_eq!(second.wabas.len(), first.wabas.len());
    for (a, b) in first.wabas.iter().zip(&second.wabas) {
        assert!(Arc::ptr_eq(a, b), "{} is the remembered value", a.id());
    }

    // A WABA changes: its page alone is sent and decoded; the round shows the change.
    let changed = first
        .wabas
        .iter()
        .enumerate()
        .find(|(k, w)| *k >= 100 && w.node.malformed.is_none())
        .map(|(_, w)| w.id().to_string())
        .unwrap();
    let restricted = reqwest::Client::new()
        .post(format!(
            "{}/__sim/restrict_waba?waba_id={changed}",
            h.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(restricted.status().as_u16(), 200);
    let before = h.requests().len();
    let (third, batches, updates) = round(&h, &c, &mut memory, &inbox, 0).await;
    let sent_whole = list_statuses(&h, before)
        .iter()
        .filter(|s| **s == 200)
        .count();
    assert_eq!(sent_whole, 1, "the changed page alone");
    assert_eq!(third.decoded, 1);
    assert_eq!((third.extras_read, batches), (1, 1));
    assert_eq!(handed_on(&updates), std::slice::from_ref(&changed));
    assert_ne!(find(&third, &changed), find(&second, &changed));
    let same = second
        .wabas
        .iter()
        .zip(&third.wabas)
        .filter(|(a, b)| Arc::ptr_eq(a, b))
        .count();
    assert_eq!(same, second.wabas.len() - 1);

    // And steady again: every page a 304.
    let before = h.requests().len();
    let (fourth, _, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    assert_eq!(list_statuses(&h, before), vec![304; pages]);
    assert!(Arc::ptr_eq(find(&third, &changed), find(&fourth, &changed)));
}

#[tokio::test]
async fn a_server_without_etags_is_read_as_before() {
    let (h, c) = start().await;
    h.set_etags(false);
    let (mut memory, inbox) = (BookMemory::default(), WabaInbox::default());
    let (first, _, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    let before = h.requests().len();
    let (second, batches, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    let statuses = list_statuses(&h, before);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(statuses.len(), sim::DEMO_WABA_COUNT.div_ceil(100));
    assert_eq!(
        (batches, second.decoded),
        (0, 0),
        "recognised by their text"
    );
    for (a, b) in first.wabas.iter().zip(&second.wabas) {
        assert!(Arc::ptr_eq(a, b), "{}", a.id());
    }
}

#[tokio::test]
async fn a_not_modified_answer_for_a_page_not_remembered_is_asked_for_again() {
    use graph_sim::{Fault, FaultAction};
    let (h, c) = start().await;
    let (mut memory, inbox) = (BookMemory::default(), WabaInbox::default());
    let (plain, _, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    // Nothing remembered: a confused cache answers the second page with a 304.
    let (mut memory, inbox) = (BookMemory::default(), WabaInbox::default());
    h.set_faults(vec![
        Fault::new(FaultAction::NotModified)
            .get("*/client_whatsapp_business_accounts")
            .query("after=")
            .times(1),
    ]);
    let before = h.requests().len();
    let (r, _, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    assert_eq!(
        list_statuses(&h, before)[..3],
        [200, 304, 200],
        "the page is asked for again, without a tag"
    );
    let ids = |r: &RoundResult| {
        r.wabas
            .iter()
            .map(|w| w.id().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&r), ids(&plain), "the whole list, in order");
}

#[tokio::test]
async fn the_list_read_ahead_keeps_meta_s_order_stops_at_the_end_and_fails_at_page_k() {
    use graph_sim::{Fault, FaultAction};
    let (h, c) = start().await;
    let (mut memory, inbox) = (BookMemory::default(), WabaInbox::default());
    let (plain, _, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    let ids = |r: &RoundResult| {
        r.wabas
            .iter()
            .map(|w| w.id().to_string())
            .collect::<Vec<_>>()
    };
    let pages = sim::DEMO_WABA_COUNT.div_ceil(100);

    // A slow second page (its answer comes after the batches of the first): the same order.
    let (mut memory, inbox) = (BookMemory::default(), WabaInbox::default());
    h.set_faults(vec![
        Fault::new(FaultAction::Delay { ms: 300 })
            .get("*/client_whatsapp_business_accounts")
            .query("after=")
            .times(1),
    ]);
    let before = h.requests().len();
    let (slow, _, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    assert_eq!(ids(&slow), ids(&plain));
    assert_eq!(
        list_statuses(&h, before).len(),
        pages,
        "no page asked for past the last"
    );

    // The third page fails: the round says so, and no later page is asked for.
    h.set_faults(vec![
        Fault::new(FaultAction::Permission { code: 200 })
            .get("*/client_whatsapp_business_accounts")
            .query("after=")
            .nth(2),
    ]);
    let before = h.requests().len();
    let failed = wabas::refresh_round(
        &c,
        &h.business_id(),
        None,
        &mut memory,
        &inbox,
        ReadStamp::issue().0,
        &RoundOptions::default(),
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(
        failed.kind,
        partnerdeck::graph::error::ErrorKind::Permission
    );
    let statuses = list_statuses(&h, before);
    assert_eq!(statuses.len(), 3, "{statuses:?}");
    assert_eq!(statuses[2], 403);
    // What was known stays: the next round is whole.
    h.set_faults(vec![]);
    let (again, _, _) = round(&h, &c, &mut memory, &inbox, 0).await;
    assert_eq!(ids(&again), ids(&plain));
}
