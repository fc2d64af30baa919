//! The Graph API simulator over real loopback HTTP: auth, errors, paging, field selection and
//! the Multi-Partner Solution state machine, the way a Graph client sees them.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use graph_sim::{self as sim, SimHandle, SimOptions, World};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const V: &str = "v23.0";

async fn start() -> SimHandle {
    sim::start(World::demo(), SimOptions::default())
        .await
        .expect("simulator starts")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

struct Resp {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

async fn send(req: reqwest::RequestBuilder) -> Resp {
    let resp = req.send().await.expect("request reaches the simulator");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    Resp {
        status,
        headers,
        body,
    }
}

/// GET `{base}/v23.0/{path}` with our token and the given query.
async fn get(h: &SimHandle, path: &str, query: &[(&str, &str)]) -> Resp {
    get_as(h, &h.token(), path, query).await
}

async fn get_as(h: &SimHandle, token: &str, path: &str, query: &[(&str, &str)]) -> Resp {
    send(
        client()
            .get(format!("{}/{V}/{path}", h.base_url()))
            .bearer_auth(token)
            .query(query),
    )
    .await
}

async fn post_as(h: &SimHandle, token: &str, path: &str) -> Resp {
    send(
        client()
            .post(format!("{}/{V}/{path}", h.base_url()))
            .bearer_auth(token),
    )
    .await
}

/// Assert Meta's error envelope with the given status, code and subcode; return the message.
fn assert_error(r: &Resp, status: u16, code: i64, subcode: Option<i64>) -> String {
    assert_eq!(r.status, status, "{}", r.body);
    let e = &r.body["error"];
    assert_eq!(e["code"], code, "{}", r.body);
    assert_eq!(e["error_subcode"].as_i64(), subcode, "{}", r.body);
    assert!(e["type"].is_string(), "{}", r.body);
    let trace = e["fbtrace_id"].as_str().expect("fbtrace_id");
    assert!(trace.len() >= 11);
    assert_eq!(
        r.headers["x-fb-trace-id"].to_str().unwrap(),
        trace,
        "header and body trace ids match"
    );
    e["message"].as_str().expect("message").to_string()
}

fn ids_of(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("data array")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_string())
        .collect()
}

/// Follow `paging.next` from a first page until it is absent; check the paging contract on the
/// way. Returns every id seen, in order, and the number of pages.
async fn walk(h: &SimHandle, first: Resp) -> (Vec<String>, usize) {
    let mut page = first;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        assert_eq!(page.status, 200, "{}", page.body);
        pages += 1;
        let ids = ids_of(&page.body);
        assert!(!ids.is_empty(), "no empty pages while next is present");
        let cursors = &page.body["paging"]["cursors"];
        assert!(
            cursors["before"].is_string() && cursors["after"].is_string(),
            "cursors on every page"
        );
        assert_eq!(
            page.body["paging"].get("previous").is_some(),
            pages > 1,
            "previous only after the first page"
        );
        seen.extend(ids);
        let Some(next) = page.body["paging"]["next"].as_str() else {
            break;
        };
        assert!(
            next.starts_with(&format!("{}/{V}/", h.base_url())),
            "{next}"
        );
        assert!(
            !next.contains(&h.token()),
            "the token never goes into a next link"
        );
        assert!(!next.contains("access_token"));
        page = send(client().get(next).bearer_auth(h.token())).await;
        assert!(pages < 50, "paging does not end");
    }
    (seen, pages)
}

fn visible_solutions(role: Option<&str>) -> HashSet<String> {
    let w = World::demo();
    let app = w.our_app_id().to_string();
    w.solutions
        .iter()
        .filter(|s| {
            let owner = s.owner_app_id == app;
            let partner = s.status != "DRAFT" && s.partners.iter().any(|p| p.partner_app_id == app);
            match role {
                Some("OWNER") => owner,
                Some("PARTNER") => partner,
                _ => owner || partner,
            }
        })
        .map(|s| s.id.clone())
        .collect()
}

#[tokio::test]
async fn lists_every_solution_across_pages_in_both_roles() {
    let h = start().await;
    let path = format!("{}/whatsapp_business_solutions", h.app_id());
    let first = get(&h, &path, &[("limit", "7")]).await;
    let (seen, pages) = walk(&h, first).await;
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates across pages");
    assert_eq!(unique, visible_solutions(None));
    assert_eq!(pages, seen.len().div_ceil(7));
    assert!(!unique.contains(sim::DEMO_FOREIGN_SOLUTION_ID));

    // Role filters partition the list.
    let mut union = HashSet::new();
    for role in ["OWNER", "PARTNER"] {
        let first = get(&h, &path, &[("role", role), ("limit", "4")]).await;
        let (seen, pages) = walk(&h, first).await;
        assert!(pages > 1);
        let set: HashSet<String> = seen.into_iter().collect();
        assert_eq!(set, visible_solutions(Some(role)), "{role}");
        assert!(union.is_disjoint(&set));
        union.extend(set);
    }
    assert_eq!(union, visible_solutions(None));
    h.shutdown().await;
}

#[tokio::test]
async fn default_page_is_25_with_default_fields() {
    let h = start().await;
    let path = format!("{}/whatsapp_business_solutions", h.app_id());
    let r = get(&h, &path, &[]).await;
    assert_eq!(r.status, 200);
    let data = r.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 25);
    assert!(
        r.body["paging"]["next"].is_string(),
        "more than 25 solutions in the demo"
    );
    for item in data {
        let keys: Vec<&String> = item.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["name", "status", "status_for_pending_request", "id"]);
    }
    // Unknown raw values are served verbatim.
    let (seen, _) = walk(
        &h,
        get(
            &h,
            &path,
            &[
                ("limit", "100"),
                ("fields", "status,status_for_pending_request"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(seen.len(), visible_solutions(None).len());
    let all = get(
        &h,
        &path,
        &[
            ("limit", "100"),
            ("fields", "status,status_for_pending_request"),
        ],
    )
    .await;
    let statuses: HashSet<&str> = all.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert!(statuses.contains("SUSPENDED"));
    for want in ["INITIATED", "ACTIVE", "DRAFT", "REJECTED", "DEACTIVATED"] {
        assert!(statuses.contains(want), "{want}");
    }
    assert!(all.body["paging"].get("next").is_none());
    h.shutdown().await;
}

#[tokio::test]
async fn paging_back_and_forth_keeps_params_and_refuses_bad_input() {
    let h = start().await;
    let path = format!("{}/whatsapp_business_solutions", h.app_id());
    let q = [
        ("role", "PARTNER"),
        ("limit", "5"),
        ("fields", "name,status"),
    ];
    let first = get(&h, &path, &q).await;
    let next = first.body["paging"]["next"].as_str().unwrap().to_string();
    let url = url::Url::parse(&next).unwrap();
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    for (k, v) in [
        ("role", "PARTNER"),
        ("limit", "5"),
        ("fields", "name,status"),
    ] {
        assert!(
            pairs.contains(&(k.to_string(), v.to_string())),
            "{k} kept in {next}"
        );
    }
    assert!(pairs.iter().any(|(k, _)| k == "after"));
    let second = send(client().get(&next).bearer_auth(h.token())).await;
    assert_eq!(
        second.body["data"][0]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["name", "status", "id"]
    );
    let previous = second.body["paging"]["previous"].as_str().unwrap();
    let back = send(client().get(previous).bearer_auth(h.token())).await;
    assert_eq!(ids_of(&back.body), ids_of(&first.body));

    // A cursor can also be passed by hand.
    let after = first.body["paging"]["cursors"]["after"].as_str().unwrap();
    let manual = get(
        &h,
        &path,
        &[("role", "PARTNER"), ("limit", "5"), ("after", after)],
    )
    .await;
    assert_eq!(ids_of(&manual.body), ids_of(&second.body));

    for (k, v) in [
        ("limit", "0"),
        ("limit", "ten"),
        ("after", "garbage!"),
        ("before", "QVFIUzzz"),
        ("role", "OBSERVER"),
    ] {
        let r = get(&h, &path, &[(k, v)]).await;
        assert_error(&r, 400, 100, None);
    }
    let big = get(&h, &path, &[("limit", "1000")]).await;
    assert_eq!(big.status, 200, "limit above the max is clamped");
    h.shutdown().await;
}

#[tokio::test]
async fn solution_detail_with_expanded_partners() {
    let h = start().await;
    let fields = "name,status,status_for_pending_request,owner_app,owner_permissions,partners{partner_app,partner_permissions,status}";
    let r = get(&h, sim::DEMO_PENDING_SOLUTION_ID, &[("fields", fields)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let b = &r.body;
    assert_eq!(b["id"], sim::DEMO_PENDING_SOLUTION_ID);
    assert_eq!(b["status"], "INITIATED");
    assert_eq!(b["status_for_pending_request"], "PENDING_ACTIVATION");
    assert_eq!(b["owner_app"]["id"], sim::DEMO_PARTNER_APP_ID);
    assert_eq!(b["owner_app"]["name"], "Kestrel Commerce Cloud");
    assert!(!b["owner_permissions"].as_array().unwrap().is_empty());
    let partners = &b["partners"];
    assert!(partners["paging"]["cursors"]["before"].is_string());
    assert!(partners["paging"]["cursors"]["after"].is_string());
    let p = &partners["data"][0];
    assert_ne!(
        p["id"], b["id"],
        "partner record id differs from the solution id"
    );
    assert_eq!(p["partner_app"]["id"], h.app_id());
    assert_eq!(p["partner_app"]["name"], "Northwind Messaging");
    assert!(p["partner_app"]["link"].is_string());
    assert!(
        p["partner_permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("MESSAGING"))
    );
    assert_eq!(p["status"], "INITIATED");
    // The client-side model reads this payload.
    let node: partnerdeck::graph::model::SolutionNode = serde_json::from_value(b.clone()).unwrap();
    assert_eq!(node.partners.unwrap().len(), 1);

    // Default fields.
    let r = get(&h, sim::DEMO_PENDING_SOLUTION_ID, &[]).await;
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["name", "status", "status_for_pending_request", "id"]);

    // The partners edge.
    let r = get(
        &h,
        &format!("{}/partners", sim::DEMO_PENDING_SOLUTION_ID),
        &[],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["data"][0]["partner_app"]["id"], h.app_id());
    assert!(r.body["paging"].get("next").is_none());

    // Unknown fields, at the top and nested.
    let r = get(
        &h,
        sim::DEMO_PENDING_SOLUTION_ID,
        &[("fields", "name,colour")],
    )
    .await;
    let msg = assert_error(&r, 400, 100, None);
    assert!(msg.contains("nonexisting field (colour)"), "{msg}");
    let r = get(
        &h,
        sim::DEMO_PENDING_SOLUTION_ID,
        &[("fields", "partners{partner_app{owner}}")],
    )
    .await;
    let msg = assert_error(&r, 400, 100, None);
    assert!(
        msg.contains("(owner)") && msg.contains("Application"),
        "{msg}"
    );
    let r = get(
        &h,
        sim::DEMO_PENDING_SOLUTION_ID,
        &[("fields", "partners{status")],
    )
    .await;
    assert_error(&r, 400, 100, None);
    h.shutdown().await;
}

#[tokio::test]
async fn auth_errors_use_metas_envelope() {
    let h = start().await;
    let url = format!(
        "{}/{V}/{}/whatsapp_business_solutions",
        h.base_url(),
        h.app_id()
    );

    let r = send(client().get(&url).bearer_auth("EAAnot-a-token")).await;
    let msg = assert_error(&r, 401, 190, None);
    assert_eq!(
        msg,
        "Invalid OAuth access token - Cannot parse access token"
    );
    let www = r.headers["www-authenticate"].to_str().unwrap();
    assert!(www.contains("invalid_token"), "{www}");
    assert_eq!(r.body["error"]["type"], "OAuthException");
    assert_eq!(
        r.headers["content-type"].to_str().unwrap(),
        "application/json; charset=UTF-8"
    );

    let r = send(client().get(&url)).await;
    let msg = assert_error(&r, 400, 2500, None);
    assert!(msg.starts_with("An active access token must be used"));

    // The token may also come as a query or form parameter.
    let r = send(client().get(&url).query(&[("access_token", h.token())])).await;
    assert_eq!(r.status, 200);
    assert!(
        r.headers.contains_key("x-fb-trace-id"),
        "trace id on success too"
    );
    let r = send(
        client()
            .post(format!(
                "{}/{V}/{}/accept",
                h.base_url(),
                sim::DEMO_PENDING_SOLUTION_ID
            ))
            .form(&[("access_token", h.token())]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"success": true}));

    // The recording never holds the token.
    let recorded = h.requests();
    assert!(recorded.iter().all(|r| !r.query.contains(&h.token())));
    assert!(recorded.iter().any(|r| r.query.contains("access_token=")));
    h.shutdown().await;
}

#[tokio::test]
async fn unknown_nodes_edges_and_methods() {
    let h = start().await;
    let r = get(&h, "99999999999", &[]).await;
    let msg = assert_error(&r, 400, 100, Some(33));
    assert!(msg.starts_with("Unsupported get request. Object with ID '99999999999' does not exist, cannot be loaded due to missing permissions, or does not support this operation."), "{msg}");
    assert_eq!(r.body["error"]["type"], "GraphMethodException");

    let r = get(&h, &format!("{}/bogus", sim::DEMO_PENDING_SOLUTION_ID), &[]).await;
    let msg = assert_error(&r, 400, 100, None);
    assert_eq!(msg, "Unknown path components: /bogus");

    let r = get(
        &h,
        &format!("{}/accept", sim::DEMO_PENDING_SOLUTION_ID),
        &[],
    )
    .await;
    assert_error(&r, 400, 100, None);
    assert_eq!(
        h.solution_status(sim::DEMO_PENDING_SOLUTION_ID).unwrap().0,
        "INITIATED"
    );

    // Listing another app's solutions, or an app that does not exist.
    let r = get(
        &h,
        &format!("{}/whatsapp_business_solutions", sim::DEMO_PARTNER_APP_ID),
        &[],
    )
    .await;
    assert_error(&r, 403, 200, None);
    let r = get(&h, "123/whatsapp_business_solutions", &[]).await;
    assert_error(&r, 400, 100, Some(33));

    // Solutions we are not in (or a draft not yet sent to us) cannot be read.
    let r = get(&h, sim::DEMO_FOREIGN_SOLUTION_ID, &[]).await;
    let msg = assert_error(&r, 403, 200, Some(1349174));
    assert!(msg.contains("not authorized to manage this Multi-Partner Solution"));
    let r = get(&h, "2757047615249134", &[]).await;
    assert_error(&r, 403, 200, Some(1349174));
    let r = get(
        &h,
        &format!("{}/partners", sim::DEMO_FOREIGN_SOLUTION_ID),
        &[],
    )
    .await;
    assert_error(&r, 403, 200, Some(1349174));

    // Unversioned paths, /me, apps.
    let r = send(
        client()
            .get(format!(
                "{}/{}",
                h.base_url(),
                sim::DEMO_PENDING_SOLUTION_ID
            ))
            .bearer_auth(h.token()),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["facebook-api-version"], "v25.0");
    let r = get(&h, "me", &[]).await;
    assert_eq!(r.body["name"], "Northwind Partner Ops (system user)");
    let r = get(&h, &h.app_id(), &[("fields", "id,name")]).await;
    assert_eq!(
        r.body,
        json!({"id": h.app_id(), "name": "Northwind Messaging"})
    );
    let r = get(&h, &h.business_id(), &[]).await;
    assert_eq!(r.body["id"], h.business_id());
    h.shutdown().await;
}

/// Re-read a solution over HTTP: (status, pending, partner status).
async fn reread(h: &SimHandle, id: &str) -> (String, String, String) {
    let r = get(
        h,
        id,
        &[(
            "fields",
            "status,status_for_pending_request,partners{status}",
        )],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let s = |v: &Value| v.as_str().unwrap().to_string();
    let got = (
        s(&r.body["status"]),
        s(&r.body["status_for_pending_request"]),
        s(&r.body["partners"]["data"][0]["status"]),
    );
    assert_eq!(
        h.solution_status(id),
        Some((got.0.clone(), got.1.clone())),
        "live state matches the re-read"
    );
    got
}

fn st(a: &str, b: &str, c: &str) -> (String, String, String) {
    (a.into(), b.into(), c.into())
}

#[tokio::test]
async fn every_transition_from_the_right_side_and_state() {
    let h = start().await;
    let us = h.token();
    let kestrel = sim::DEMO_PARTNER_TOKEN;

    // accept: we are the invited partner of a pending request.
    let r = post_as(
        &h,
        &us,
        &format!("{}/accept", sim::DEMO_PENDING_SOLUTION_ID),
    )
    .await;
    assert_eq!((r.status, &r.body), (200, &json!({"success": true})));
    assert_eq!(
        reread(&h, sim::DEMO_PENDING_SOLUTION_ID).await,
        st("ACTIVE", "NONE", "ACCEPTED")
    );

    // reject: another pending request for us (the Japanese one), with a JSON body tolerated.
    let sakura = "1970225308678317";
    let r = send(
        client()
            .post(format!("{}/{V}/{sakura}/reject", h.base_url()))
            .bearer_auth(&us)
            .json(&json!({"request_type": "PARTNERSHIP_REQUEST", "rejection_reason": "not now"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(reread(&h, sakura).await, st("REJECTED", "NONE", "REJECTED"));

    // The other side accepts our pending request.
    let r = post_as(
        &h,
        kestrel,
        &format!("{}/accept", sim::DEMO_PENDING_OWNED_SOLUTION_ID),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        reread(&h, sim::DEMO_PENDING_OWNED_SOLUTION_ID).await,
        st("ACTIVE", "NONE", "ACCEPTED")
    );

    // send_deactivation_request: we own an active solution.
    let owned = sim::DEMO_ACTIVE_OWNED_SOLUTION_ID;
    let r = post_as(&h, &us, &format!("{owned}/send_deactivation_request")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        reread(&h, owned).await,
        st("ACTIVE", "PENDING_DEACTIVATION", "ACCEPTED")
    );
    // ...the partner rejects it, we send again, the partner accepts it.
    let r = post_as(&h, kestrel, &format!("{owned}/reject_deactivation_request")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(reread(&h, owned).await, st("ACTIVE", "NONE", "ACCEPTED"));
    post_as(&h, &us, &format!("{owned}/send_deactivation_request")).await;
    let r = post_as(&h, kestrel, &format!("{owned}/accept_deactivation_request")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        reread(&h, owned).await,
        st("DEACTIVATED", "NONE", "DEACTIVATED")
    );

    // accept_deactivation_request: an owner asked us to deactivate.
    let asked = sim::DEMO_PENDING_DEACTIVATION_SOLUTION_ID;
    let r = post_as(&h, &us, &format!("{asked}/accept_deactivation_request")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        reread(&h, asked).await,
        st("DEACTIVATED", "NONE", "DEACTIVATED")
    );

    // reject_deactivation_request: another owner asked us (Bluefin).
    let bluefin = "1815530942067229";
    let r = post_as(&h, &us, &format!("{bluefin}/reject_deactivation_request")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(reread(&h, bluefin).await, st("ACTIVE", "NONE", "ACCEPTED"));

    // Every POST was recorded, in order, with its status.
    let posts: Vec<_> = h
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(posts.len(), 9);
    assert!(posts.iter().all(|r| r.status == 200));
    assert_eq!(
        posts[0].path,
        format!("/{V}/{}/accept", sim::DEMO_PENDING_SOLUTION_ID)
    );
    assert_eq!(
        posts[8].path,
        format!("/{V}/{bluefin}/reject_deactivation_request")
    );
    h.shutdown().await;
}

#[tokio::test]
async fn refused_transitions_leave_the_world_unchanged() {
    let h = start().await;
    let us = h.token();
    let before = h.world();
    let cases: Vec<(&str, String, u16, i64, Option<i64>)> = vec![
        // wrong state → 400 / 100
        (
            us.as_str(),
            format!("{}/accept", sim::DEMO_ACTIVE_PARTNER_SOLUTION_ID),
            400,
            100,
            None,
        ),
        (
            us.as_str(),
            format!("{}/reject", sim::DEMO_REJECTED_SOLUTION_ID),
            400,
            100,
            None,
        ),
        (
            us.as_str(),
            format!("{}/send_deactivation_request", sim::DEMO_DRAFT_SOLUTION_ID),
            400,
            100,
            None,
        ),
        (
            us.as_str(),
            format!(
                "{}/send_deactivation_request",
                sim::DEMO_SENT_DEACTIVATION_SOLUTION_ID
            ),
            400,
            100,
            None,
        ),
        (
            us.as_str(),
            format!(
                "{}/accept_deactivation_request",
                sim::DEMO_ACTIVE_PARTNER_SOLUTION_ID
            ),
            400,
            100,
            None,
        ),
        (
            us.as_str(),
            format!(
                "{}/reject_deactivation_request",
                sim::DEMO_DEACTIVATED_SOLUTION_ID
            ),
            400,
            100,
            None,
        ),
        (
            us.as_str(),
            format!("{}/accept", sim::DEMO_UNKNOWN_STATUS_SOLUTION_ID),
            400,
            100,
            None,
        ),
        (
            us.as_str(),
            format!(
                "{}/accept_deactivation_request",
                sim::DEMO_UNKNOWN_PENDING_SOLUTION_ID
            ),
            400,
            100,
            None,
        ),
        // wrong side → 403 / 200 / 1349174
        (
            us.as_str(),
            format!("{}/accept", sim::DEMO_PENDING_OWNED_SOLUTION_ID),
            403,
            200,
            Some(1349174),
        ),
        (
            us.as_str(),
            format!("{}/reject", sim::DEMO_PENDING_OWNED_SOLUTION_ID),
            403,
            200,
            Some(1349174),
        ),
        (
            us.as_str(),
            format!(
                "{}/send_deactivation_request",
                sim::DEMO_ACTIVE_PARTNER_SOLUTION_ID
            ),
            403,
            200,
            Some(1349174),
        ),
        (
            us.as_str(),
            format!(
                "{}/accept_deactivation_request",
                sim::DEMO_SENT_DEACTIVATION_SOLUTION_ID
            ),
            403,
            200,
            Some(1349174),
        ),
        (
            us.as_str(),
            format!(
                "{}/reject_deactivation_request",
                sim::DEMO_SENT_DEACTIVATION_SOLUTION_ID
            ),
            403,
            200,
            Some(1349174),
        ),
        (
            sim::DEMO_PARTNER_TOKEN,
            format!(
                "{}/send_deactivation_request",
                sim::DEMO_ACTIVE_OWNED_SOLUTION_ID
            ),
            403,
            200,
            Some(1349174),
        ),
        // not in the solution → 403 / 200 / 1349174
        (
            us.as_str(),
            format!("{}/accept", sim::DEMO_FOREIGN_SOLUTION_ID),
            403,
            200,
            Some(1349174),
        ),
        // unknown solution → 404 / 803
        (
            us.as_str(),
            "1111111111111111/accept".to_string(),
            404,
            803,
            None,
        ),
        (
            us.as_str(),
            "1111111111111111/send_deactivation_request".to_string(),
            404,
            803,
            None,
        ),
    ];
    for (token, path, status, code, sub) in &cases {
        let r = post_as(&h, token, path).await;
        let msg = assert_error(&r, *status, *code, *sub);
        assert!(!msg.is_empty(), "{path}");
        if *code == 803 {
            assert_eq!(msg, "Multi-Partner Solution not found");
        }
    }
    assert_eq!(h.world(), before, "no refused action changed anything");
    let r = post_as(
        &h,
        &us,
        &format!(
            "{}/reject_deactivation_request",
            sim::DEMO_ACTIVE_PARTNER_SOLUTION_ID
        ),
    )
    .await;
    assert_eq!(
        assert_error(&r, 400, 100, None),
        "Solution must have pending deactivation request to reject"
    );
    let r = post_as(
        &h,
        &us,
        &format!(
            "{}/accept_deactivation_request",
            sim::DEMO_ACTIVE_PARTNER_SOLUTION_ID
        ),
    )
    .await;
    assert_eq!(
        assert_error(&r, 400, 100, None),
        "No pending deactivation request found for this solution"
    );
    let recorded = h.requests();
    assert_eq!(recorded.len(), cases.len() + 2);
    assert_eq!(recorded[0].status, 400);
    assert_eq!(recorded[15].status, 404);
    h.shutdown().await;
}

#[tokio::test]
async fn latency_delays_graph_answers() {
    let latency = Duration::from_millis(300);
    let h = sim::start(
        World::demo(),
        SimOptions {
            latency,
            ..SimOptions::default()
        },
    )
    .await
    .unwrap();
    let t = Instant::now();
    let r = get(&h, sim::DEMO_PENDING_SOLUTION_ID, &[]).await;
    assert_eq!(r.status, 200);
    assert!(t.elapsed() >= latency, "answered after {:?}", t.elapsed());
    // The introspection endpoint is not delayed and lists what was received.
    let log: Value = client()
        .get(format!("{}/__sim/requests", h.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        log[0]["path"],
        format!("/{V}/{}", sim::DEMO_PENDING_SOLUTION_ID)
    );
    assert_eq!(log[0]["status"], 200);
    h.shutdown().await;
}

#[tokio::test]
async fn loopback_only_and_shutdown_stops_serving() {
    for addr in ["0.0.0.0:0", "192.0.2.10:8080"] {
        let opts = SimOptions {
            addr: addr.parse().unwrap(),
            ..SimOptions::default()
        };
        let err = sim::start(World::demo(), opts)
            .await
            .err()
            .expect("refused");
        assert!(err.to_string().contains("loopback"), "{err}");
    }
    let h = start().await;
    assert!(h.base_url().starts_with("http://127.0.0.1:"));
    assert!(!h.base_url().ends_with('/'));
    assert_eq!(h.token(), sim::DEMO_TOKEN);
    assert_eq!(h.app_id(), sim::DEMO_APP_ID);
    assert_eq!(h.business_id(), sim::DEMO_BUSINESS_ID);
    let base = h.base_url();
    h.shutdown().await;
    let after = client()
        .get(format!("{base}/{V}/me"))
        .bearer_auth(sim::DEMO_TOKEN)
        .send()
        .await;
    assert!(after.is_err(), "nothing answers after shutdown");
}

#[tokio::test]
async fn two_simulators_do_not_share_state() {
    let a = start().await;
    let b = start().await;
    let r = post_as(
        &a,
        &a.token(),
        &format!("{}/accept", sim::DEMO_PENDING_SOLUTION_ID),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        a.solution_status(sim::DEMO_PENDING_SOLUTION_ID).unwrap().0,
        "ACTIVE"
    );
    assert_eq!(
        b.solution_status(sim::DEMO_PENDING_SOLUTION_ID).unwrap().0,
        "INITIATED"
    );
    assert!(b.requests().is_empty());
    assert_eq!(a.solution_status("nope"), None);
}
