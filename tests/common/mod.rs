//! Fixtures shared by the state-machine and rendering tests.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use partnerdeck::app::{Effect, Model, Msg, update};
use partnerdeck::graph::model::{AppRef, PartnerEntry, Role, Solution, SolutionNode};

pub const OUR_APP: &str = "1002003004005006";

pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_795_000_000 + secs, 0).unwrap()
}

pub fn node(id: &str, name: &str, status: &str, pending: &str) -> SolutionNode {
    SolutionNode {
        id: id.into(),
        name: name.into(),
        status: status.into(),
        status_for_pending_request: Some(pending.into()),
        ..Default::default()
    }
}

pub fn detailed(mut n: SolutionNode, owner: (&str, &str), partner: (&str, &str)) -> SolutionNode {
    n.owner_app = Some(AppRef {
        id: owner.0.into(),
        name: Some(owner.1.into()),
        link: None,
    });
    n.owner_permissions = Some(vec!["MESSAGING".into(), "MANAGE_TEMPLATES".into()]);
    n.partners = Some(vec![PartnerEntry {
        id: format!("{}9", n.id),
        partner_app: Some(AppRef {
            id: partner.0.into(),
            name: Some(partner.1.into()),
            link: None,
        }),
        partner_permissions: vec!["MANAGE_PHONE".into(), "VIEW_COST".into()],
        status: Some("INITIATED".into()),
    }]);
    n
}

/// A small book: two requests waiting on us, one of ours waiting on them, active ones on
/// both sides, a pending deactivation sent to us, and a few of the rest.
pub fn solutions() -> Vec<Solution> {
    vec![
        Solution::new(
            detailed(
                node(
                    "7001",
                    "Kōbe Retail Connect",
                    "INITIATED",
                    "PENDING_ACTIVATION",
                ),
                ("5550001", "Sakura Commerce Apps"),
                (OUR_APP, "Northwind Messaging"),
            ),
            Role::Partner,
        ),
        Solution::new(
            node(
                "7002",
                "Atlas Support Desk",
                "INITIATED",
                "PENDING_ACTIVATION",
            ),
            Role::Partner,
        ),
        Solution::new(
            node(
                "7003",
                "Northwind × Blue Heron",
                "INITIATED",
                "PENDING_ACTIVATION",
            ),
            Role::Owner,
        ),
        Solution::new(
            node("7004", "Meridian Alerts", "ACTIVE", "NONE"),
            Role::Owner,
        ),
        Solution::new(
            node("7005", "Quay Logistics", "ACTIVE", "NONE"),
            Role::Partner,
        ),
        Solution::new(
            node("7006", "Old Harbour Bots", "ACTIVE", "PENDING_DEACTIVATION"),
            Role::Partner,
        ),
        Solution::new(
            node("7007", "Draft for Lumen", "DRAFT", "NONE"),
            Role::Owner,
        ),
        Solution::new(
            node("7008", "Ember Rejected", "REJECTED", "NONE"),
            Role::Partner,
        ),
        Solution::new(node("7009", "Mystery", "SUSPENDED", "NONE"), Role::Partner),
    ]
}

pub fn loaded_model() -> Model {
    let mut m = Model::new(OUR_APP, "v25.0");
    update(
        &mut m,
        Msg::Resize {
            width: 80,
            height: 24,
        },
    );
    update(
        &mut m,
        Msg::SolutionsLoaded {
            at: at(0),
            result: Ok(solutions()),
        },
    );
    m
}

pub fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

pub fn code(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// Feed messages, collecting every effect.
pub fn feed(m: &mut Model, msgs: impl IntoIterator<Item = Msg>) -> Vec<Effect> {
    msgs.into_iter().flat_map(|msg| update(m, msg)).collect()
}

pub mod console;
