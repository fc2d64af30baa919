//! Fixtures shared by the state-machine and rendering tests.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use partnerdeck::app::ReadStamp;
use partnerdeck::app::{Effect, Model, Msg, update};
use partnerdeck::domain::solution::Solution;
use partnerdeck::graph::model::{AppRef, PartnerEntry, Role, SolutionNode};

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
            list_rows: partnerdeck::ui::list_rows(24),
        },
    );
    update(
        &mut m,
        Msg::SolutionsLoaded {
            started: ReadStamp::issue(),
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

// ---- WABAs ----

use partnerdeck::app::msg::WabaList;
use partnerdeck::graph::waba_model::{
    BusinessRef, HealthEntity, HealthIssue, HealthStatus, PhoneNumber, SubscribedApp, Waba,
    WabaFields, WabaNode,
};

pub const KESTREL_APP: &str = "874512093365871";

pub fn phone(id: &str, number: &str, name: &str, quality: &str, status: &str) -> PhoneNumber {
    PhoneNumber {
        id: id.into(),
        display_phone_number: Some(number.into()),
        verified_name: Some(name.into()),
        quality_rating: Some(quality.into()),
        status: Some(status.into()),
        code_verification_status: Some("VERIFIED".into()),
        name_status: Some("APPROVED".into()),
        platform_type: Some(
            if status == "CONNECTED" {
                "CLOUD_API"
            } else {
                "NOT_APPLICABLE"
            }
            .into(),
        ),
        throughput: Some(partnerdeck::graph::waba_model::Throughput::level(
            "STANDARD",
        )),
        ..Default::default()
    }
}

fn health(overall: &str, entities: Vec<HealthEntity>) -> Option<HealthStatus> {
    Some(HealthStatus {
        can_send_message: Some(overall.into()),
        entities: entities.into(),
        ..Default::default()
    })
}

fn entity(kind: &str, id: &str, value: &str) -> HealthEntity {
    HealthEntity {
        entity_type: Some(kind.into()),
        id: id.into(),
        can_send_message: Some(value.into()),
        ..Default::default()
    }
}

pub fn subscribed(apps: &[&str]) -> Option<Vec<SubscribedApp>> {
    Some(
        apps.iter()
            .map(|id| SubscribedApp {
                whatsapp_business_api_data: Some(AppRef {
                    id: id.to_string(),
                    name: Some(
                        if *id == OUR_APP {
                            "Northwind Messaging"
                        } else {
                            "Kestrel Commerce Cloud"
                        }
                        .into(),
                    ),
                    link: None,
                }),
                ..Default::default()
            })
            .collect(),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn waba_of(
    id: &str,
    name: &str,
    owner: &str,
    created: i64,
    funding: Option<&str>,
    health_status: Option<HealthStatus>,
    phones: Vec<PhoneNumber>,
    apps: Option<Vec<SubscribedApp>>,
) -> Waba {
    Waba {
        node: WabaNode::new(WabaFields {
            id: id.into(),
            name: name.into(),
            currency: Some("EUR".into()),
            account_review_status: Some("APPROVED".into()),
            business_verification_status: Some("verified".into()),
            primary_funding_id: funding.map(Into::into),
            owner_business_info: Some(BusinessRef {
                id: format!("9{id}").into(),
                name: Some(owner.into()),
            }),
            creation_time: Some(created),
            health_status,
            phone_numbers: phones.into(),
            ..Default::default()
        }),
        subscribed_apps: apps.map(Into::into),
        solutions: Some(vec![].into()),
    }
}

/// A small book: complete, not subscribed with a pending number, blocked, limited, without a
/// number, and one with an undocumented health value whose edges could not be read.
pub fn wabas() -> Vec<Waba> {
    let day = 86_400;
    let now = at(0).timestamp();
    let mut blocked_entity = entity("WABA", "303", "BLOCKED");
    blocked_entity.details.get_mut().errors.push(HealthIssue {
        error_code: Some(141010),
        error_description: Some("The Business Account has been disabled for violating the WhatsApp Business Messaging Policy.".into()),
        possible_solution: Some("Review the violation in WhatsApp Manager and request a review.".into()),
        ..Default::default()
    });
    let mut limited_entity = entity("WABA", "404", "LIMITED");
    limited_entity
        .details
        .get_mut()
        .additional_info
        .push("Business verification is pending: the messaging limit stays at 250.".into());
    let mut blocked = waba_of(
        "303",
        "Cobalt Motors",
        "Cobalt Motors S.A.",
        now - 300 * day,
        Some("515"),
        health(
            "BLOCKED",
            vec![blocked_entity, entity("BUSINESS", "9303", "AVAILABLE")],
        ),
        vec![
            phone(
                "3031",
                "+55 11 5555 0301",
                "Cobalt Motors",
                "RED",
                "CONNECTED",
            ),
            phone(
                "3032",
                "+55 11 5555 0302",
                "Cobalt Peças",
                "GREEN",
                "DISCONNECTED",
            ),
        ],
        subscribed(&[OUR_APP, KESTREL_APP]),
    );
    blocked.solutions = Some(vec![node("7004", "Meridian Alerts", "ACTIVE", "NONE").into()].into());
    blocked.node.update(|f| {
        f.extra
            .insert("timezone_id".into(), serde_json::json!("71"))
    });
    let mut odd = waba_of(
        "707",
        "Nimbus Telecom",
        "Nimbus Telecom N.V.",
        now - 40 * day,
        Some("515"),
        health(
            "DEGRADED_SERVICE",
            vec![entity("WABA", "707", "DEGRADED_SERVICE")],
        ),
        vec![phone(
            "7071",
            "+31 70 555 0701",
            "Nimbus Telecom",
            "AMBER",
            "CONNECTED",
        )],
        None,
    );
    odd.solutions = None;
    odd.node
        .update(|f| f.account_review_status = Some("IN_APPEAL".into()));
    vec![
        waba_of(
            "101",
            "Lumen Bakery",
            "Lumen Bakery Ltd.",
            now - 200 * day,
            Some("515"),
            health("AVAILABLE", vec![entity("WABA", "101", "AVAILABLE")]),
            vec![phone(
                "1011",
                "+31 20 555 0101",
                "Lumen Bakery",
                "GREEN",
                "CONNECTED",
            )],
            subscribed(&[OUR_APP]),
        ),
        waba_of(
            "202",
            "Harborview Dental",
            "Harborview Dental Group LLC",
            now - 2 * day,
            Some("515"),
            health("AVAILABLE", vec![entity("WABA", "202", "AVAILABLE")]),
            vec![phone(
                "2021",
                "+1 415 555 0142",
                "Harborview Dental",
                "UNKNOWN",
                "PENDING",
            )],
            subscribed(&[]),
        ),
        blocked,
        waba_of(
            "404",
            "Juniper Travel",
            "Juniper Travel GmbH",
            now - 20 * day,
            None,
            health("LIMITED", vec![limited_entity]),
            vec![phone(
                "4041",
                "+44 20 5555 0401",
                "Juniper Travel",
                "YELLOW",
                "CONNECTED",
            )],
            subscribed(&[OUR_APP]),
        ),
        waba_of(
            "505",
            "Saffron Pharmacy",
            "Saffron Pharmacy Pvt. Ltd.",
            now - day,
            None,
            health("AVAILABLE", vec![entity("WABA", "505", "AVAILABLE")]),
            vec![],
            subscribed(&[OUR_APP]),
        ),
        odd,
    ]
}

/// The model with the book loaded, on the WABAs pane.
pub fn wabas_model() -> Model {
    let mut m = loaded_model();
    update(
        &mut m,
        Msg::WabasLoaded {
            started: ReadStamp::issue(),
            at: at(0),
            result: Ok(WabaList::of(wabas())),
        },
    );
    update(&mut m, key('2'));
    m
}

// ---- Credit lines ----

use partnerdeck::graph::credit_model::{AllocationConfig, CreditLine, CreditLineData};

pub fn allocation(
    id: &str,
    business: &str,
    name: &str,
    credential: &str,
    status: &str,
) -> AllocationConfig {
    serde_json::from_value(serde_json::json!({
        "id": id,
        "receiving_business": {"id": business, "name": name},
        "receiving_credential": {"id": credential},
        "request_status": status,
    }))
    .unwrap()
}

pub fn credit_line(id: &str, name: &str, allocations: Vec<AllocationConfig>) -> CreditLineData {
    CreditLineData {
        line: CreditLine {
            id: id.into(),
            legal_entity_name: Some(name.into()),
            ..Default::default()
        },
        allocations,
    }
}

/// The WABA book with funding sources that match the credit fixture: 101 and 202 verified,
/// 303 funded by another source (mismatched), 404 revoked, 505 never shared, 707 funded by a
/// source that is not ours.
pub fn credit_wabas() -> Vec<Waba> {
    let funding = |id: &str| match id {
        "101" => Some("515"),
        "202" => Some("525"),
        "303" => Some("599"),
        "707" => Some("777"),
        _ => None,
    };
    wabas()
        .into_iter()
        .map(|mut w| {
            w.node
                .update(|f| f.primary_funding_id = funding(&f.id).map(Into::into));
            w
        })
        .collect()
}

/// Two credit lines: Lumen (verified), Cobalt (mismatched), Juniper (revoked) and Old Quay (no
/// WABA of ours: unknown) on the first; Harborview (verified) on the second.
pub fn credit_lines() -> Vec<CreditLineData> {
    vec![
        credit_line(
            "1972385232742146",
            "Northwind Messaging Ltd.",
            vec![
                allocation("58101", "9101", "Lumen Bakery Ltd.", "515", "ACTIVE"),
                allocation("58303", "9303", "Cobalt Motors S.A.", "535", "ACTIVE"),
                allocation("58404", "9404", "Juniper Travel GmbH", "545", "DELETED"),
                allocation("58808", "9808", "Old Quay Cafés Ltd.", "585", "ACTIVE"),
            ],
        ),
        credit_line(
            "1972385232742287",
            "Northwind Messaging India Pvt. Ltd.",
            vec![allocation(
                "58202",
                "9202",
                "Harborview Dental Group LLC",
                "525",
                "ACTIVE",
            )],
        ),
    ]
}

/// The model with the credit fixture's WABAs and credit lines loaded, on the Credit lines pane.
pub fn credit_model() -> Model {
    let mut m = loaded_model();
    update(
        &mut m,
        Msg::WabasLoaded {
            started: ReadStamp::issue(),
            at: at(0),
            result: Ok(WabaList::of(credit_wabas())),
        },
    );
    update(
        &mut m,
        Msg::CreditLinesLoaded {
            started: ReadStamp::issue(),
            at: at(0),
            result: Ok(credit_lines()),
        },
    );
    update(&mut m, key('3'));
    m
}

pub mod console;

/// What the effect tasks need to talk to `sim` as a Solution Partner of its world: our app and
/// business, the audit log at `audit_path`, a poll interval of an hour (the tests refresh on
/// purpose). Tests change a field with `Services { field, ..sim_services(..) }`.
pub fn sim_services(
    sim: &graph_sim::SimHandle,
    client: partnerdeck::graph::client::GraphClient,
    audit_path: &std::path::Path,
) -> partnerdeck::effects::Services {
    partnerdeck::effects::Services {
        client,
        app_id: sim.app_id(),
        business_id: Some(sim.business_id()),
        partner_business_id: None,
        credit_line_id: None,
        audit: std::sync::Arc::new(partnerdeck::audit::AuditLog::open(audit_path).unwrap()),
        poll_interval: std::time::Duration::from_secs(3600),
        partner_kind: Default::default(),
        bsp: None,
        feed: Default::default(),
        wabas: Default::default(),
    }
}
