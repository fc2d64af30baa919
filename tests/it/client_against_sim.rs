//! Our Graph client against the simulator over loopback, exactly as it would talk to Meta.

use std::collections::HashMap;

use graph_sim::{self as sim, SimHandle, SimOptions, World};
use partnerdeck::config::Token;
use partnerdeck::domain::solution::{Solution, SolutionState};
use partnerdeck::graph::client::{ClientConfig, GraphClient};
use partnerdeck::graph::error::ErrorKind;
use partnerdeck::graph::model::{Role, SolutionAction, SolutionNode};
use partnerdeck::graph::solutions;

async fn start() -> (SimHandle, GraphClient) {
    let h = sim::start(World::demo(), SimOptions::default())
        .await
        .unwrap();
    let c = GraphClient::new(ClientConfig::new(h.base_url(), Token::new(h.token()))).unwrap();
    (h, c)
}

/// What the demo world says each visible solution's state and our role are.
fn expected(h: &SimHandle) -> HashMap<String, (SolutionState, Role)> {
    let world = h.world();
    let us = world.our_app_id().to_string();
    world
        .solutions
        .iter()
        .filter_map(|s| {
            let role = if s.owner_app_id == us {
                Role::Owner
            } else if s.partners.iter().any(|p| p.partner_app_id == us) && s.status != "DRAFT" {
                Role::Partner
            } else {
                return None;
            };
            let state = SolutionState::derive(&s.status, Some(&s.status_for_pending_request));
            Some((s.id.clone(), (state, role)))
        })
        .collect()
}

#[tokio::test]
async fn list_gives_every_solution_with_its_state_and_our_role() {
    let (h, c) = start().await;
    let list: Vec<Solution> = solutions::list_solutions(&c, &h.app_id())
        .await
        .unwrap()
        .into_iter()
        .map(Solution::from)
        .collect();
    let want = expected(&h);
    assert_eq!(list.len(), want.len());
    for s in &list {
        assert_eq!(want.get(s.id()), Some(&(s.state, s.role)), "{}", s.id());
    }
    // Every state of §2.4 is represented, unknown ones included.
    for state in SolutionState::ALL {
        assert!(
            list.iter().any(|s| s.state == state),
            "no {state:?} in the demo"
        );
    }
    let odd = list
        .iter()
        .find(|s| s.id() == sim::DEMO_UNKNOWN_PENDING_SOLUTION_ID)
        .unwrap();
    assert_eq!(odd.state, SolutionState::Unknown);
    assert_eq!(
        odd.node.status_for_pending_request.as_deref(),
        Some("PENDING_REACTIVATION"),
        "the raw value is kept"
    );
}

#[tokio::test]
async fn paging_follows_next_across_several_pages() {
    let (h, c) = start().await;
    let path = format!("{}/whatsapp_business_solutions", h.app_id());
    let all: Vec<SolutionNode> = c
        .get_all(&path, &[("limit", "4"), ("fields", solutions::LIST_FIELDS)])
        .await
        .unwrap();
    assert_eq!(all.len(), expected(&h).len());
    let mut ids: Vec<_> = all.iter().map(|s| s.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), all.len(), "no duplicates");
    let pages = h
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("whatsapp_business_solutions"))
        .count();
    assert_eq!(pages, all.len().div_ceil(4), "one request a page, no more");
    assert!(h.requests().iter().all(|r| !r.query.contains(&h.token())));
}

#[tokio::test]
async fn detail_has_both_sides_permissions() {
    let (h, c) = start().await;
    let s = solutions::solution_detail(&c, sim::DEMO_PENDING_SOLUTION_ID)
        .await
        .map(|node| Solution::new(node, Role::Partner))
        .unwrap();
    assert_eq!(s.state, SolutionState::Pending);
    let owner = s.node.owner_app.as_ref().unwrap();
    assert_eq!(owner.id, sim::DEMO_PARTNER_APP_ID);
    assert!(!s.node.owner_permissions.as_ref().unwrap().is_empty());
    let partners = s.node.partners.as_ref().unwrap();
    assert!(partners.iter().any(|p| {
        p.partner_app.as_ref().map(|a| a.id.as_str()) == Some(h.app_id().as_str())
            && !p.partner_permissions.is_empty()
    }));
}

#[tokio::test]
async fn graph_errors_become_typed_errors_with_metas_code() {
    let (h, c) = start().await;
    // Someone else's solution: permission, code 200.
    let e = solutions::solution_detail(&c, sim::DEMO_FOREIGN_SOLUTION_ID)
        .await
        .map(|node| Solution::new(node, Role::Unknown))
        .unwrap_err();
    assert_eq!((e.kind, e.code), (ErrorKind::Permission, Some(200)));
    assert!(e.fbtrace_id.is_some());
    assert!(e.sentence().contains("code 200"), "{}", e.sentence());
    // A node that does not exist.
    let e = solutions::solution_detail(&c, "999999999")
        .await
        .map(|node| Solution::new(node, Role::Unknown))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    // Accepting something that is already active: invalid request, code 100, nothing changes.
    let id = sim::DEMO_ACTIVE_PARTNER_SOLUTION_ID;
    let e = solutions::perform(&c, id, SolutionAction::Accept)
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.code), (ErrorKind::InvalidRequest, Some(100)));
    assert_eq!(h.solution_status(id).unwrap().0, "ACTIVE");
    // Exactly one POST: refused mutations are not retried.
    let posts = h.requests().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 1);
}

#[tokio::test]
async fn a_bad_token_is_code_190_and_never_shown() {
    let (h, _) = start().await;
    let secret = "EAAbad-token-that-must-not-leak";
    let c = GraphClient::new(ClientConfig::new(h.base_url(), Token::new(secret))).unwrap();
    let e = solutions::list_solutions(&c, &h.app_id())
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.code), (ErrorKind::AuthExpired, Some(190)));
    assert!(!e.sentence().contains(secret));
    assert!(!format!("{e:?}").contains(secret));
    // Auth errors are not retried: one request per role list.
    assert_eq!(h.requests().len(), 2);
}

#[tokio::test]
async fn accept_then_reread_shows_active() {
    let (_h, c) = start().await;
    let id = sim::DEMO_PENDING_SOLUTION_ID;
    let r = solutions::perform(&c, id, SolutionAction::Accept)
        .await
        .unwrap();
    assert_eq!(r.http_status, 200);
    let s = solutions::solution_detail(&c, id)
        .await
        .map(|node| Solution::new(node, Role::Partner))
        .unwrap();
    assert_eq!(s.state, SolutionState::Active);
}

#[tokio::test]
async fn read_only_client_sends_no_mutation() {
    let h = sim::start(World::demo(), SimOptions::default())
        .await
        .unwrap();
    let mut cfg = ClientConfig::new(h.base_url(), Token::new(h.token()));
    cfg.read_only = true;
    let c = GraphClient::new(cfg).unwrap();
    for action in [
        SolutionAction::Accept,
        SolutionAction::Reject,
        SolutionAction::SendDeactivation,
        SolutionAction::AcceptDeactivation,
        SolutionAction::RejectDeactivation,
    ] {
        let e = solutions::perform(&c, sim::DEMO_PENDING_SOLUTION_ID, action)
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::ReadOnly);
    }
    assert!(h.requests().is_empty(), "{:?}", h.requests());
}
