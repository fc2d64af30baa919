//! The credit-line calls against the simulator over loopback: listing with paging, the
//! allocation node, share-and-attach, the alternate method, revoke, Meta's refusals (attached
//! WABA, currency, finance role), read-only, and the share whose answer is lost.

use graph_sim::{self as sim, SimHandle, SimOptions, World};
use partnerdeck::config::Token;
use partnerdeck::graph::client::{ClientConfig, GraphClient};
use partnerdeck::graph::credit::{self, CreditRead};
use partnerdeck::graph::credit_model::{AllocationConfig, CreditLine, CreditLineData};
use partnerdeck::graph::error::ErrorKind;
use partnerdeck::graph::wabas;
use serde_json::Value;

async fn start_as(token: Option<&str>, read_only: bool) -> (SimHandle, GraphClient) {
    let h = sim::start(World::demo(), SimOptions::default())
        .await
        .unwrap();
    let token = token.map_or_else(|| h.token(), str::to_string);
    let mut cfg = ClientConfig::new(h.base_url(), Token::new(token));
    cfg.read_only = read_only;
    (h, GraphClient::new(cfg).unwrap())
}

async fn start() -> (SimHandle, GraphClient) {
    start_as(None, false).await
}

fn mutations(h: &SimHandle) -> Vec<(String, String)> {
    h.requests()
        .into_iter()
        .filter(|r| r.method != "GET" && r.path != "/v25.0/")
        .map(|r| (r.method, r.path))
        .collect()
}

fn funding(h: &SimHandle, waba: &str) -> String {
    h.world().waba(waba).unwrap().primary_funding_id.clone()
}

#[tokio::test]
async fn refresh_reads_both_lines_and_every_allocation_across_pages() {
    let (h, c) = start().await;
    let lines = credit::refresh(&c, Some(&h.business_id()), None)
        .await
        .unwrap();
    let world = h.world();
    assert_eq!(
        lines.iter().map(|l| l.line.id.as_str()).collect::<Vec<_>>(),
        [sim::DEMO_CREDIT_LINE_ID, sim::DEMO_CREDIT_LINE_2_ID]
    );
    assert_eq!(lines[0].line.name(), "Northwind Messaging Ltd.");
    assert!(lines[0].line.extra.contains_key("credit_available"));
    for l in &lines {
        let want = world
            .credit_allocations
            .iter()
            .filter(|a| a.credit_line_id == l.line.id)
            .count();
        assert_eq!(l.allocations.len(), want, "allocations of {}", l.line.id);
        assert!(want > 25, "more than a page of 25");
    }
    let all: Vec<&AllocationConfig> = lines.iter().flat_map(|l| &l.allocations).collect();
    let ok = all
        .iter()
        .find(|a| a.id == sim::DEMO_ALLOCATION_VERIFIED_ID)
        .unwrap();
    assert_eq!(ok.credential_id(), Some(sim::DEMO_CREDENTIAL_VERIFIED_ID));
    assert_eq!(ok.business_name(), "Lumen Bakery Ltd.");
    assert_eq!(ok.request_status.as_deref(), Some("ACTIVE"));
    assert!(
        all.iter()
            .find(|a| a.id == sim::DEMO_ALLOCATION_REVOKED_ID)
            .unwrap()
            .is_revoked()
    );
    // 1 list of lines + 1 page of 100 per line (each line has fewer than 200).
    let reqs = h.requests();
    assert!(reqs.len() <= 5, "{reqs:?}");
    assert!(
        reqs.iter()
            .any(|r| r.path.ends_with("/extendedcredits") && r.query.contains("legal_entity_name"))
    );
}

#[tokio::test]
async fn small_pages_are_followed_and_the_filter_narrows_to_one_business() {
    let (h, c) = start().await;
    let path = format!(
        "{}/owning_credit_allocation_configs",
        sim::DEMO_CREDIT_LINE_ID
    );
    let items: Vec<Value> = c
        .get_all(
            &path,
            &[("fields", credit::ALLOCATION_FIELDS), ("limit", "7")],
        )
        .await
        .unwrap();
    let want = h
        .world()
        .credit_allocations
        .iter()
        .filter(|a| a.credit_line_id == sim::DEMO_CREDIT_LINE_ID)
        .count();
    assert_eq!(items.len(), want);
    assert!(h.requests().len() > 3, "several pages");

    let lumen = "1044000000000101";
    let one = credit::list_allocations(&c, sim::DEMO_CREDIT_LINE_ID, Some(lumen))
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].id, sim::DEMO_ALLOCATION_VERIFIED_ID);
    assert_eq!(one[0].business_id(), Some(lumen));

    // The credit line named by --credit-line-id is read alone.
    let only = credit::refresh(&c, None, Some(sim::DEMO_CREDIT_LINE_2_ID))
        .await
        .unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].line.name(), "Northwind Messaging India Pvt. Ltd.");
    let line: CreditLine = credit::read_credit_line(&c, sim::DEMO_CREDIT_LINE_ID)
        .await
        .unwrap();
    assert_eq!(
        line.legal_entity_name.as_deref(),
        Some("Northwind Messaging Ltd.")
    );
}

#[tokio::test]
async fn share_and_attach_funds_a_not_funded_waba_and_verifies() {
    let (h, c) = start().await;
    let waba = sim::DEMO_WABA_LIMITED_ID;
    assert_eq!(funding(&h, waba), "");
    let answer = credit::share_and_attach(&c, sim::DEMO_CREDIT_LINE_ID, waba, "GBP")
        .await
        .unwrap();
    let alloc_id = answer.allocation_config_id.unwrap();
    assert_eq!(answer.response.body["waba_id"], waba);
    // Verify as Meta says: the allocation's credential equals the WABA's primary_funding_id.
    let alloc = credit::read_allocation(&c, &alloc_id).await.unwrap();
    let w = wabas::read_waba(&c, waba).await.unwrap();
    assert!(alloc.credential_id().is_some());
    assert_eq!(alloc.credential_id(), w.node.primary_funding_id());
    assert_eq!(alloc.request_status.as_deref(), Some("ACTIVE"));
    assert_eq!(w.node.currency().as_deref(), Some("GBP"));
    assert_eq!(
        mutations(&h),
        [(
            "POST".to_string(),
            format!(
                "/v25.0/{}/whatsapp_credit_sharing_and_attach",
                sim::DEMO_CREDIT_LINE_ID
            )
        )]
    );
    let q = &h
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap()
        .query;
    assert!(
        q.contains(&format!("waba_id={waba}")) && q.contains("waba_currency=GBP"),
        "{q}"
    );

    // The same WABA again: a credit line cannot be changed after it is attached.
    let e = credit::share_and_attach(&c, sim::DEMO_CREDIT_LINE_2_ID, waba, "GBP")
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.code), (ErrorKind::InvalidRequest, Some(100)));
    assert!(e.message.contains("cannot be changed"), "{}", e.message);
    assert_eq!(funding(&h, waba), alloc.credential_id().unwrap());
}

#[tokio::test]
async fn an_attached_waba_is_refused_and_nothing_changes() {
    let (h, c) = start().await;
    let before = h.world();
    for waba in [sim::DEMO_WABA_COMPLETE_ID, sim::DEMO_WABA_BLOCKED_ID] {
        let e = credit::share_and_attach(&c, sim::DEMO_CREDIT_LINE_2_ID, waba, "EUR")
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind, e.code),
            (ErrorKind::InvalidRequest, Some(100)),
            "{waba}"
        );
        assert!(e.message.contains("already has a credit line attached"));
    }
    assert_eq!(h.world(), before);
}

#[tokio::test]
async fn currencies_outside_metas_list_are_refused_here_and_by_the_simulator() {
    let (h, c) = start().await;
    let e = credit::share_and_attach(
        &c,
        sim::DEMO_CREDIT_LINE_ID,
        sim::DEMO_WABA_LIMITED_ID,
        "BRL",
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert!(h.requests().is_empty(), "refused before sending");
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/v25.0/{}/whatsapp_credit_sharing_and_attach?waba_id={}&waba_currency=BRL",
            h.base_url(),
            sim::DEMO_CREDIT_LINE_ID,
            sim::DEMO_WABA_LIMITED_ID
        ))
        .bearer_auth(h.token())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], 100);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("AUD, EUR, GBP, IDR, INR, USD")
    );
    assert_eq!(funding(&h, sim::DEMO_WABA_LIMITED_ID), "");
}

#[tokio::test]
async fn the_alternate_method_shares_then_attaches() {
    let (h, c) = start().await;
    let waba = sim::DEMO_WABA_NO_PHONE_ID;
    let owner = h.world().waba(waba).unwrap().owner_business_id.clone();
    // Attaching before sharing is refused.
    let e = credit::attach(&c, sim::DEMO_CREDIT_LINE_2_ID, waba, "INR")
        .await
        .unwrap_err();
    assert_eq!(e.code, Some(100));
    assert!(
        e.message.contains("whatsapp_credit_sharing first"),
        "{}",
        e.message
    );

    let shared = credit::share(&c, sim::DEMO_CREDIT_LINE_2_ID, &owner)
        .await
        .unwrap();
    let alloc_id = shared.allocation_config_id.clone().unwrap();
    assert_eq!(shared.response.body["success"], true);
    assert_eq!(funding(&h, waba), "", "shared, not attached yet");
    // Sharing again with the same business reuses the allocation.
    let again = credit::share(&c, sim::DEMO_CREDIT_LINE_2_ID, &owner)
        .await
        .unwrap();
    assert_eq!(
        again.allocation_config_id.as_deref(),
        Some(alloc_id.as_str())
    );

    let attached = credit::attach(&c, sim::DEMO_CREDIT_LINE_2_ID, waba, "INR")
        .await
        .unwrap();
    assert_eq!(
        attached.allocation_config_id.as_deref(),
        Some(alloc_id.as_str())
    );
    let alloc = credit::read_allocation(&c, &alloc_id).await.unwrap();
    assert_eq!(alloc.credential_id().unwrap(), funding(&h, waba));
    let paths: Vec<String> = mutations(&h).into_iter().map(|(_, p)| p).collect();
    assert_eq!(
        paths,
        [
            format!(
                "/v25.0/{}/whatsapp_credit_attach",
                sim::DEMO_CREDIT_LINE_2_ID
            ),
            format!(
                "/v25.0/{}/whatsapp_credit_sharing",
                sim::DEMO_CREDIT_LINE_2_ID
            ),
            format!(
                "/v25.0/{}/whatsapp_credit_sharing",
                sim::DEMO_CREDIT_LINE_2_ID
            ),
            format!(
                "/v25.0/{}/whatsapp_credit_attach",
                sim::DEMO_CREDIT_LINE_2_ID
            ),
        ]
    );
    // A business without a WABA shared with us cannot be shared with.
    let e = credit::share(
        &c,
        sim::DEMO_CREDIT_LINE_2_ID,
        sim::DEMO_PARTNER_BUSINESS_ID,
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, Some(100));
}

#[tokio::test]
async fn revoke_deletes_the_allocation_for_every_waba_of_the_business() {
    let (h, c) = start().await;
    let world = h.world();
    // A generated business with two WABAs funded by one allocation.
    let alloc = world
        .credit_allocations
        .iter()
        .find(|a| {
            !a.is_deleted()
                && world
                    .wabas
                    .iter()
                    .filter(|w| w.primary_funding_id == a.receiving_credential_id)
                    .count()
                    > 1
        })
        .unwrap()
        .clone();
    let covered: Vec<String> = world
        .wabas
        .iter()
        .filter(|w| w.owner_business_id == alloc.receiving_business_id)
        .map(|w| w.id.clone())
        .collect();
    credit::revoke(&c, &alloc.id).await.unwrap();
    assert_eq!(
        mutations(&h),
        [("DELETE".to_string(), format!("/v25.0/{}", alloc.id))]
    );
    let after = credit::read_allocation(&c, &alloc.id).await.unwrap();
    assert_eq!(after.request_status.as_deref(), Some("DELETED"));
    assert!(after.is_revoked());
    for id in &covered {
        let w = wabas::read_waba(&c, id).await.unwrap();
        assert_ne!(
            w.node.primary_funding_id(),
            Some(alloc.receiving_credential_id.as_str()),
            "{id}"
        );
    }
    let e = credit::revoke(&c, &alloc.id).await.unwrap_err();
    assert_eq!((e.kind, e.code), (ErrorKind::InvalidRequest, Some(100)));
    // A revoked WABA can be shared again.
    let first = &covered[0];
    credit::share_and_attach(&c, &alloc.credit_line_id, first, "USD")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_token_without_the_finance_role_is_refused_on_every_credit_call() {
    let (h, c) = start_as(Some(sim::DEMO_VIEWER_TOKEN), false).await;
    let before = h.world();
    let checks = [
        credit::list_credit_lines(&c, &h.business_id()).await.err(),
        credit::list_allocations(&c, sim::DEMO_CREDIT_LINE_ID, None)
            .await
            .err(),
        credit::read_allocation(&c, sim::DEMO_ALLOCATION_VERIFIED_ID)
            .await
            .err(),
        credit::share_and_attach(
            &c,
            sim::DEMO_CREDIT_LINE_ID,
            sim::DEMO_WABA_LIMITED_ID,
            "GBP",
        )
        .await
        .err(),
        credit::revoke(&c, sim::DEMO_ALLOCATION_VERIFIED_ID)
            .await
            .err(),
    ];
    for e in checks {
        let e = e.expect("refused");
        assert_eq!(
            (e.kind, e.code),
            (ErrorKind::Permission, Some(200)),
            "{e:?}"
        );
        assert!(e.message.contains("Finance Editor"), "{}", e.message);
    }
    assert_eq!(h.world(), before);
    // The same token still reads WABAs: only credit calls need the role.
    wabas::read_waba(&c, sim::DEMO_WABA_COMPLETE_ID)
        .await
        .unwrap();
}

#[tokio::test]
async fn read_only_sends_no_share_or_revoke() {
    let (h, c) = start_as(None, true).await;
    let e = credit::share_and_attach(
        &c,
        sim::DEMO_CREDIT_LINE_ID,
        sim::DEMO_WABA_LIMITED_ID,
        "GBP",
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ReadOnly);
    let e = credit::share(&c, sim::DEMO_CREDIT_LINE_ID, "1044000000000404")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ReadOnly);
    let e = credit::attach(
        &c,
        sim::DEMO_CREDIT_LINE_ID,
        sim::DEMO_WABA_LIMITED_ID,
        "GBP",
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ReadOnly);
    let e = credit::revoke(&c, sim::DEMO_ALLOCATION_VERIFIED_ID)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ReadOnly);
    assert!(h.requests().is_empty());
    // Reads still work.
    credit::refresh(&c, Some(&h.business_id()), None)
        .await
        .unwrap();
    assert!(h.requests().iter().all(|r| r.method == "GET"));
}

#[tokio::test]
async fn a_share_whose_answer_is_lost_is_outcome_unknown_and_was_committed_once() {
    let (h, c) = start().await;
    h.lose_next_share_answer();
    let waba = sim::DEMO_WABA_LIMITED_ID;
    let e = credit::share_and_attach(&c, sim::DEMO_CREDIT_LINE_ID, waba, "GBP")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::OutcomeUnknown, "{e:?}");
    assert!(e.message.contains("re-read"), "{}", e.message);
    // The simulator did it, exactly once; a re-read says so.
    assert_eq!(mutations(&h).len(), 1);
    let funded = funding(&h, waba);
    assert!(!funded.is_empty());
    let owner = h.world().waba(waba).unwrap().owner_business_id.clone();
    let allocs = credit::list_allocations(&c, sim::DEMO_CREDIT_LINE_ID, Some(&owner))
        .await
        .unwrap();
    assert_eq!(allocs.len(), 1);
    assert_eq!(allocs[0].credential_id(), Some(funded.as_str()));
    // The hook is spent: the next share answers normally (and is refused: already attached).
    let e = credit::share_and_attach(&c, sim::DEMO_CREDIT_LINE_ID, waba, "GBP")
        .await
        .unwrap_err();
    assert_eq!(e.code, Some(100));
}

/// A credit round that must read every allocation (asking about them): what it read.
async fn read_whole(
    c: &GraphClient,
    business: Option<&str>,
    line: Option<&str>,
    memory: &mut credit::CreditMemory,
) -> Vec<CreditLineData> {
    match credit::refresh_round(c, business, line, memory, true)
        .await
        .unwrap()
    {
        CreditRead::Read(lines) => lines,
        other => panic!("expected a whole read, got {other:?}"),
    }
}

/// The allocation list requests in `h`'s log from `from` on, with their statuses.
fn allocation_pages(h: &SimHandle, from: usize) -> Vec<u16> {
    h.requests()[from..]
        .iter()
        .filter(|r| r.path.ends_with("/owning_credit_allocation_configs"))
        .map(|r| r.status)
        .collect()
}

#[tokio::test]
async fn a_round_whose_allocation_pages_were_not_modified_keeps_them_and_a_change_is_read_whole() {
    let (h, c) = start().await;
    let business = h.business_id();
    let mut memory = credit::CreditMemory::default();
    let first = read_whole(&c, Some(&business), None, &mut memory).await;
    assert_eq!(
        first,
        credit::refresh(&c, Some(&business), None).await.unwrap(),
        "read page by page from text, the same as the plain refresh"
    );

    // Nothing changed: every page answered 304, the lines read again.
    let from = h.requests().len();
    let second = credit::refresh_round(&c, Some(&business), None, &mut memory, true)
        .await
        .unwrap();
    let lines: Vec<CreditLine> = first.iter().map(|l| l.line.clone()).collect();
    assert_eq!(second, CreditRead::AllocationsUnchanged(lines));
    let pages = allocation_pages(&h, from);
    assert!(
        !pages.is_empty() && pages.iter().all(|s| *s == 304),
        "{pages:?}"
    );

    // A share adds an allocation: the next round reads every line's allocations whole.
    credit::share_and_attach(
        &c,
        sim::DEMO_CREDIT_LINE_ID,
        sim::DEMO_WABA_LIMITED_ID,
        "GBP",
    )
    .await
    .unwrap();
    let third = read_whole(&c, Some(&business), None, &mut memory).await;
    assert_eq!(
        third,
        credit::refresh(&c, Some(&business), None).await.unwrap()
    );
    let count = |lines: &[CreditLineData]| lines.iter().map(|l| l.allocations.len()).sum::<usize>();
    assert_eq!(count(&third), count(&first) + 1);
    // And the round after it is unchanged again.
    assert!(matches!(
        credit::refresh_round(&c, Some(&business), None, &mut memory, true)
            .await
            .unwrap(),
        CreditRead::AllocationsUnchanged(_)
    ));

    // A server that sends no tags: every round reads whole, and never says unchanged.
    h.set_etags(false);
    for _ in 0..2 {
        let from = h.requests().len();
        let read = credit::refresh_round(&c, Some(&business), None, &mut memory, true)
            .await
            .unwrap();
        assert_eq!(read, CreditRead::Read(third.clone()));
        assert!(allocation_pages(&h, from).iter().all(|s| *s == 200));
    }
}

#[tokio::test]
async fn the_credit_line_named_alone_is_asked_about_with_its_tags_too() {
    let (_h, c) = start().await;
    let mut memory = credit::CreditMemory::default();
    let line = Some(sim::DEMO_CREDIT_LINE_2_ID);
    let first = read_whole(&c, None, line, &mut memory).await;
    assert_eq!(first.len(), 1);
    assert!(matches!(
        credit::refresh_round(&c, None, line, &mut memory, true).await.unwrap(),
        CreditRead::AllocationsUnchanged(lines) if lines == [first[0].line.clone()]
    ));
}

#[tokio::test]
async fn a_long_allocation_list_is_asked_about_every_few_rounds_and_the_lines_every_round() {
    // About 16,000 WABAs: more than 100 allocation pages in all.
    let h = sim::start(
        World::demo_with_generated_wabas(16_000),
        SimOptions::default(),
    )
    .await
    .unwrap();
    let c = GraphClient::new(ClientConfig::new(h.base_url(), Token::new(h.token()))).unwrap();
    let business = h.business_id();
    let mut memory = credit::CreditMemory::default();
    let first = read_whole(&c, Some(&business), None, &mut memory).await;
    let pages = allocation_pages(&h, 0).len();
    assert!(pages > credit::ALLOCATION_PAGES_A_ROUND, "{pages} pages");
    let every = pages.div_ceil(credit::ALLOCATION_PAGES_A_ROUND);
    // Rounds between: the lines alone, the allocations as held.
    let mut asked = vec![];
    for _ in 0..2 * every {
        let ask = memory.allocations_due();
        let from = h.requests().len();
        let read = credit::refresh_round(&c, Some(&business), None, &mut memory, ask)
            .await
            .unwrap();
        assert!(
            matches!(read, CreditRead::AllocationsUnchanged(lines) if lines.len() == first.len())
        );
        let sent = allocation_pages(&h, from);
        assert_eq!(sent.is_empty(), !ask, "{sent:?}");
        assert!(sent.iter().all(|s| *s == 304));
        assert_eq!(
            h.requests()[from..]
                .iter()
                .filter(|r| r.path.ends_with("/extendedcredits"))
                .count(),
            1,
            "the lines every round"
        );
        asked.push(ask);
    }
    // Asked about once every `every` rounds: the last of each run.
    let want: Vec<bool> = (1..=2 * every).map(|k| k % every == 0).collect();
    assert_eq!(asked, want);
}
