//! The WABA calls against the simulator over loopback: paging (of WABAs and of nested phone
//! numbers), the partners filter, field expansion, batches, and the two actions.

use std::collections::HashSet;

use graph_sim::{self as sim, SimHandle, SimOptions, World};
use partnerdeck::config::Token;
use partnerdeck::domain::onboarding::Health;
use partnerdeck::graph::client::{BatchGet, ClientConfig, GraphClient};
use partnerdeck::graph::error::ErrorKind;
use partnerdeck::graph::waba_model::{Pin, WabaNode};
use partnerdeck::graph::wabas;
use serde_json::Value;

async fn start_with(world: World, read_only: bool) -> (SimHandle, GraphClient) {
    let h = sim::start(world, SimOptions::default()).await.unwrap();
    let mut cfg = ClientConfig::new(h.base_url(), Token::new(h.token()));
    cfg.read_only = read_only;
    (h, GraphClient::new(cfg).unwrap())
}

async fn start() -> (SimHandle, GraphClient) {
    start_with(World::demo(), false).await
}

fn posts(h: &SimHandle) -> Vec<String> {
    h.requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.path)
        .collect()
}

#[tokio::test]
async fn a_refresh_reads_every_waba_with_every_number_in_a_handful_of_requests() {
    let (h, c) = start().await;
    let book = wabas::refresh(&c, &h.business_id(), None).await.unwrap();
    assert!(book.extras_failed.is_empty(), "{:?}", book.extras_failed);
    assert_eq!(book.wabas.len(), sim::DEMO_WABA_COUNT);
    let ids: HashSet<&str> = book.wabas.iter().map(|w| w.id()).collect();
    assert_eq!(ids.len(), sim::DEMO_WABA_COUNT, "no duplicates");

    // Every number of every WABA, nested pages included, exactly as the world has them.
    let world = h.world();
    for w in &book.wabas {
        let want: Vec<&str> = world
            .waba(w.id())
            .unwrap()
            .phone_numbers
            .iter()
            .map(|p| p.id.as_str())
            .collect();
        let phones = w.node.phone_numbers().to_vec();
        let got: Vec<&str> = phones.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(got, want, "numbers of {}", w.id());
        assert!(w.subscribed_apps.is_some() && w.solutions.is_some());
    }
    let big = book
        .wabas
        .iter()
        .find(|w| w.id() == sim::DEMO_WABA_MANY_PHONES_ID)
        .unwrap();
    assert!(big.node.phone_numbers().len() > 25);

    // 4 pages of 100 WABAs (up to 100 numbers each expanded, so the big WABAs need no further
    // page) + one batch per 25 WABAs (2 operations each, 50 a batch): 4 + 13 = 17, for 307.
    let reqs = h.requests();
    let pages = reqs
        .iter()
        .filter(|r| r.path.ends_with("/client_whatsapp_business_accounts"))
        .count();
    let nested = reqs
        .iter()
        .filter(|r| r.path.ends_with("/phone_numbers"))
        .count();
    let batches = reqs.iter().filter(|r| r.method == "POST").count();
    assert_eq!((pages, nested, batches), (4, 0, 13));
    assert_eq!(reqs.len(), pages + nested + batches);
    assert!(
        reqs.len() * 10 < sim::DEMO_WABA_COUNT,
        "{} requests",
        reqs.len()
    );
}

#[tokio::test]
async fn fields_are_expanded_and_odd_values_kept_raw() {
    let (h, c) = start().await;
    let nodes = wabas::list_client_wabas(&c, &h.business_id(), None)
        .await
        .unwrap();
    let find = |id: &str| nodes.iter().find(|w| w.id == id).unwrap().fields();

    let blocked = find(sim::DEMO_WABA_BLOCKED_ID);
    assert_eq!(blocked.name, "Cobalt Motors");
    assert_eq!(blocked.currency.as_deref(), Some("BRL"));
    assert_eq!(
        blocked
            .owner_business_info
            .as_ref()
            .unwrap()
            .name
            .as_deref(),
        Some("Cobalt Motors S.A.")
    );
    let health = blocked.health_status.as_ref().unwrap();
    assert_eq!(health.can_send_message.as_deref(), Some("BLOCKED"));
    let waba_entity = health
        .entities
        .iter()
        .find(|e| e.entity_type.as_deref() == Some("WABA"))
        .unwrap();
    assert_eq!(waba_entity.errors()[0].error_code, Some(141010));
    assert!(waba_entity.errors()[0].possible_solution.is_some());
    let phone = &blocked.phone_numbers.to_vec()[0];
    assert_eq!(phone.quality_rating.as_deref(), Some("RED"));
    assert_eq!(phone.throughput_level(), Some("STANDARD"));
    assert_eq!(phone.name_status.as_deref(), Some("APPROVED"));
    assert_eq!(
        phone
            .health_status
            .as_ref()
            .unwrap()
            .can_send_message
            .as_deref(),
        Some("LIMITED")
    );

    let limited = find(sim::DEMO_WABA_LIMITED_ID);
    let entity = &limited.health_status.as_ref().unwrap().entities.to_vec()[0];
    assert_eq!(entity.can_send_message.as_deref(), Some("LIMITED"));
    assert!(!entity.additional_info().is_empty());
    assert_eq!(limited.primary_funding_id, None);

    assert!(find(sim::DEMO_WABA_NO_PHONE_ID).phone_numbers.is_empty());

    let odd = find(sim::DEMO_WABA_UNKNOWN_ENUMS_ID);
    assert_eq!(
        odd.account_review_status.as_deref(),
        Some("IN_APPEAL"),
        "raw value kept"
    );
    assert_eq!(
        odd.business_verification_status.as_deref(),
        Some("partially_verified")
    );
    let health = odd.health_status.as_ref().unwrap();
    assert_eq!(
        Health::of(health.can_send_message.as_deref()),
        Health::Other("DEGRADED_SERVICE".into())
    );
    assert_eq!(
        odd.phone_numbers.to_vec()[0].quality_rating.as_deref(),
        Some("AMBER")
    );
    assert_eq!(
        odd.phone_numbers.to_vec()[0].status.as_deref(),
        Some("PENDING_DELETION")
    );
    assert_eq!(
        odd.phone_numbers.to_vec()[0].throughput_level(),
        Some("ULTRA")
    );
    assert_eq!(odd.other_fields()["ownership_type"], "CLIENT_OWNED");
    assert_eq!(
        odd.whatsapp_business_manager_messaging_limit.as_deref(),
        Some("TIER_500K")
    );
}

#[tokio::test]
async fn paging_walks_small_pages_of_wabas_and_of_nested_numbers() {
    let (h, c) = start().await;
    let path = format!("{}/client_whatsapp_business_accounts", h.business_id());
    let items: Vec<Value> = c
        .get_all(
            &path,
            &[
                ("fields", "id,name,phone_numbers.limit(2){id,status}"),
                ("limit", "40"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(items.len(), sim::DEMO_WABA_COUNT);
    let big = items
        .iter()
        .find(|w| w["id"] == sim::DEMO_WABA_MANY_PHONES_ID)
        .unwrap();
    assert_eq!(big["phone_numbers"]["data"].as_array().unwrap().len(), 2);
    let next = &big["phone_numbers"]["paging"]["next"];
    assert!(next.as_str().unwrap().contains("/phone_numbers?"), "{next}");
    // The rest of the nested edge, two at a time, follows its `next`.
    let all = c
        .follow_pages(big["phone_numbers"].clone(), "phone_numbers")
        .await
        .unwrap();
    let want = h
        .world()
        .waba(sim::DEMO_WABA_MANY_PHONES_ID)
        .unwrap()
        .phone_numbers
        .len();
    assert_eq!(all.len(), want);
    assert!(
        all.iter()
            .all(|p| p["status"].is_string() && p.get("verified_name").is_none())
    );
    // A WABA with one number has no `next` on its edge; one without numbers has an empty edge.
    let one = items
        .iter()
        .find(|w| w["id"] == sim::DEMO_WABA_COMPLETE_ID)
        .unwrap();
    assert!(one["phone_numbers"]["paging"].get("next").is_none());
    let none = items
        .iter()
        .find(|w| w["id"] == sim::DEMO_WABA_NO_PHONE_ID)
        .unwrap();
    assert_eq!(
        none["phone_numbers"]["data"].as_array().map_or(0, Vec::len),
        0
    );
}

#[tokio::test]
async fn the_partners_filter_keeps_wabas_shared_with_that_partner() {
    let (h, c) = start().await;
    let nodes = wabas::list_client_wabas(&c, &h.business_id(), Some(sim::DEMO_PARTNER_BUSINESS_ID))
        .await
        .unwrap();
    let world = h.world();
    let want: HashSet<&str> = world
        .wabas
        .iter()
        .filter(|w| {
            w.shared_with
                .iter()
                .any(|b| b == sim::DEMO_PARTNER_BUSINESS_ID)
        })
        .map(|w| w.id.as_str())
        .collect();
    let got: HashSet<&str> = nodes.iter().map(|w| w.id.as_str()).collect();
    assert_eq!(got, want);
    assert!(got.contains(sim::DEMO_WABA_TO_ONBOARD_ID));
    assert!(!got.contains(sim::DEMO_WABA_COMPLETE_ID));
    assert!(got.len() > 50 && got.len() < sim::DEMO_WABA_COUNT);
    let q = &h
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("client_whatsapp_business_accounts"))
        .unwrap()
        .query;
    assert!(q.contains("filtering="), "{q}");
    // A WABA id that is not a plain id is refused before anything is sent.
    let before = h.requests().len();
    let e = wabas::list_client_wabas(&c, &h.business_id(), Some("1/../x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert_eq!(h.requests().len(), before);
}

#[tokio::test]
async fn another_business_is_refused_with_metas_code() {
    let (_h, c) = start().await;
    let e = wabas::list_client_wabas(&c, sim::DEMO_PARTNER_BUSINESS_ID, None)
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.code), (ErrorKind::Permission, Some(200)));
}

#[tokio::test]
async fn batch_answers_each_operation_in_order_even_in_read_only_mode() {
    let (h, c) = start_with(World::demo(), true).await;
    let reqs = vec![
        BatchGet::new(sim::DEMO_WABA_COMPLETE_ID, &[("fields", "name,currency")]),
        BatchGet::new(
            format!("{}/subscribed_apps", sim::DEMO_WABA_COMPLETE_ID),
            &[],
        ),
        BatchGet::new("999999999", &[]),
    ];
    let out = c.batch_get(&reqs).await.unwrap();
    assert_eq!(out.len(), 3);
    let node: WabaNode = serde_json::from_value(out[0].clone().unwrap()).unwrap();
    assert_eq!(
        (node.name(), node.currency().as_deref()),
        ("Lumen Bakery", Some("EUR"))
    );
    let apps = out[1].as_ref().unwrap();
    assert_eq!(
        apps["data"][0]["whatsapp_business_api_data"]["id"],
        h.app_id()
    );
    let e = out[2].as_ref().unwrap_err();
    assert_eq!((e.kind, e.code), (ErrorKind::NotFound, Some(100)));
    assert_eq!(h.requests().len(), 1, "one HTTP request for three reads");

    // 120 reads go out as three batches of at most 50.
    let many: Vec<BatchGet> = (0..120)
        .map(|_| BatchGet::new(sim::DEMO_WABA_COMPLETE_ID, &[("fields", "name")]))
        .collect();
    let out = c.batch_get(&many).await.unwrap();
    assert_eq!(out.len(), 120);
    assert!(out.iter().all(Result::is_ok));
    assert_eq!(h.requests().len(), 4);
}

#[tokio::test]
async fn subscribe_then_the_reread_lists_our_app() {
    let (h, c) = start().await;
    let before = wabas::read_waba(&c, sim::DEMO_WABA_TO_ONBOARD_ID)
        .await
        .unwrap();
    assert_eq!(before.subscribed_apps.as_deref().map(Vec::len), Some(0));
    let resp = wabas::subscribe_app(&c, sim::DEMO_WABA_TO_ONBOARD_ID)
        .await
        .unwrap();
    assert_eq!(resp.body["success"], true);
    let after = wabas::read_waba(&c, sim::DEMO_WABA_TO_ONBOARD_ID)
        .await
        .unwrap();
    let apps = after.subscribed_apps.unwrap();
    assert_eq!(apps[0].app_id(), Some(h.app_id().as_str()));
    assert_eq!(
        posts(&h),
        vec![
            "/v25.0/".to_string(),
            format!("/v25.0/{}/subscribed_apps", sim::DEMO_WABA_TO_ONBOARD_ID),
            "/v25.0/".to_string(),
        ]
    );
}

#[tokio::test]
async fn register_connects_a_pending_number() {
    let (h, c) = start().await;
    let pin = Pin::parse("135790").unwrap();
    wabas::register_phone(&c, sim::DEMO_PENDING_PHONE_ID, &pin)
        .await
        .unwrap();
    let w = wabas::read_waba(&c, sim::DEMO_WABA_TO_ONBOARD_ID)
        .await
        .unwrap();
    let phone = w.phone(sim::DEMO_PENDING_PHONE_ID).unwrap();
    assert!(phone.is_connected());
    // The PIN went in the body, never a URL the simulator recorded.
    assert!(h.requests().iter().all(|r| !r.query.contains("135790")));
}

#[tokio::test]
async fn register_refusals_have_metas_codes_and_plain_sentences() {
    let (h, c) = start().await;
    let wrong = Pin::parse("111111").unwrap();
    for _ in 0..3 {
        let e = wabas::register_phone(&c, sim::DEMO_PIN_PHONE_ID, &wrong)
            .await
            .unwrap_err();
        assert_eq!(e.code, Some(133005));
        assert!(
            wabas::register_sentence(&e)
                .unwrap()
                .contains("PIN does not match")
        );
    }
    // The fourth failure is throttled, even with the right PIN.
    let right = Pin::parse(sim::DEMO_PHONE_PIN).unwrap();
    let e = wabas::register_phone(&c, sim::DEMO_PIN_PHONE_ID, &right)
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.code), (ErrorKind::Throttled, Some(133016)));

    // A blocked WABA's number: the account is locked.
    let blocked_phone = &h
        .world()
        .waba(sim::DEMO_WABA_BLOCKED_ID)
        .unwrap()
        .phone_numbers[1]
        .id
        .clone();
    let e = wabas::register_phone(&c, blocked_phone, &right)
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.code), (ErrorKind::Permission, Some(131031)));

    // A malformed PIN cannot even be built, so the simulator's 131009 is checked by hand.
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/v25.0/{}/register",
            h.base_url(),
            sim::DEMO_PENDING_PHONE_ID
        ))
        .bearer_auth(h.token())
        .json(&serde_json::json!({"messaging_product": "whatsapp", "pin": "12ab"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], 131009);
    assert!(body["error"]["error_data"]["details"].is_string());
    let world = h.world();
    let pending = world.waba(sim::DEMO_WABA_TO_ONBOARD_ID).unwrap();
    assert_eq!(
        pending.phone_numbers[0].status, "PENDING",
        "nothing changed"
    );
}

#[tokio::test]
async fn read_only_sends_no_action_to_the_simulator() {
    let (h, c) = start_with(World::demo(), true).await;
    let e = wabas::subscribe_app(&c, sim::DEMO_WABA_TO_ONBOARD_ID)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ReadOnly);
    let e = wabas::register_phone(
        &c,
        sim::DEMO_PENDING_PHONE_ID,
        &Pin::parse("123456").unwrap(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ReadOnly);
    assert!(h.requests().is_empty());
    // Reads, batches included, still work.
    wabas::read_waba(&c, sim::DEMO_WABA_TO_ONBOARD_ID)
        .await
        .unwrap();
    assert_eq!(h.requests().len(), 1);
}

#[tokio::test]
async fn a_waba_outside_our_book_is_not_found() {
    let (_h, c) = start().await;
    let e = wabas::read_waba(&c, "4040404040").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
}
