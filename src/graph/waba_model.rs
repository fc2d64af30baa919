//! Typed models of client WhatsApp Business Accounts (reference §3), and what we derive from
//! them: overall health, the worst quality rating, and the onboarding checklist.
//!
//! Meta's enums are open strings here, and every node keeps the fields we do not model in
//! `extra`, so the snapshot prints what Meta sent. Fields are read leniently: a value of an
//! unexpected type becomes "not given" rather than failing the whole list.

use std::collections::HashSet;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::model::{AppRef, SolutionNode};

/// `{id, name}` of a business portfolio (`owner_business_info`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BusinessRef {
    #[serde(default, deserialize_with = "id_string")]
    pub id: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub name: Option<String>,
}

/// One error of a blocked entity (reference §3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HealthIssue {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_i64"
    )]
    pub error_code: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub error_description: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub possible_solution: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entity of `health_status.entities` (WABA, phone number, business, app, template).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HealthEntity {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub entity_type: Option<String>,
    #[serde(default, deserialize_with = "id_string")]
    pub id: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub can_send_message: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "list_of"
    )]
    pub additional_info: Vec<String>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "list_of"
    )]
    pub errors: Vec<HealthIssue>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `health_status` of a WABA or a phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HealthStatus {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub can_send_message: Option<String>,
    #[serde(default, deserialize_with = "list_of")]
    pub entities: Vec<HealthEntity>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A phone number of a WABA (reference §3.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PhoneNumber {
    #[serde(default, deserialize_with = "id_string")]
    pub id: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub display_phone_number: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub verified_name: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub quality_rating: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub status: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub code_verification_status: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub name_status: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub platform_type: Option<String>,
    /// `throughput` is `{level}`; kept whole, read with [`throughput_level`](Self::throughput_level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<Value>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_of"
    )]
    pub health_status: Option<HealthStatus>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PhoneNumber {
    pub fn throughput_level(&self) -> Option<&str> {
        self.throughput.as_ref()?.get("level")?.as_str()
    }

    /// Registered for Cloud API messaging.
    pub fn is_connected(&self) -> bool {
        self.status.as_deref() == Some("CONNECTED")
    }

    /// The number as people read it, else its id.
    pub fn label(&self) -> &str {
        self.display_phone_number.as_deref().unwrap_or(&self.id)
    }
}

/// A WABA node as `client_whatsapp_business_accounts` (or `GET /{waba-id}`) returns it, with
/// the `phone_numbers` expansion flattened to every number (further pages already read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct WabaNode {
    #[serde(default, deserialize_with = "id_string")]
    pub id: String,
    #[serde(default, deserialize_with = "string_or_empty")]
    pub name: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub currency: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub account_review_status: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub business_verification_status: Option<String>,
    /// The funding source (credit line) attached; compared with our allocations (§4.6).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub primary_funding_id: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_of"
    )]
    pub owner_business_info: Option<BusinessRef>,
    /// Unix seconds.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_i64"
    )]
    pub creation_time: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_of"
    )]
    pub health_status: Option<HealthStatus>,
    #[serde(default, deserialize_with = "list_of")]
    pub phone_numbers: Vec<PhoneNumber>,
    /// Every other field Meta sent, verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of `GET /{waba-id}/subscribed_apps`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SubscribedApp {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_of"
    )]
    pub whatsapp_business_api_data: Option<AppRef>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub override_callback_uri: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SubscribedApp {
    pub fn app_id(&self) -> Option<&str> {
        self.whatsapp_business_api_data
            .as_ref()
            .map(|a| a.id.as_str())
    }
}

/// A WABA with the per-WABA edges read beside it. `None` = could not be read this time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Waba {
    #[serde(flatten)]
    pub node: WabaNode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscribed_apps: Option<Vec<SubscribedApp>>,
    /// The solutions that onboarded it (`GET /{waba-id}/solutions`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub solutions: Option<Vec<SolutionNode>>,
}

impl WabaNode {
    /// The attached funding source, if Meta sent a non-blank one: the one place that decides
    /// whether a WABA is funded at all.
    pub fn funding_id(&self) -> Option<&str> {
        self.primary_funding_id
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
    }
}

impl Waba {
    pub fn id(&self) -> &str {
        &self.node.id
    }

    pub fn name(&self) -> &str {
        &self.node.name
    }

    pub fn health(&self) -> Health {
        Health::of(
            self.node
                .health_status
                .as_ref()
                .and_then(|h| h.can_send_message.as_deref()),
        )
    }

    pub fn phone(&self, id: &str) -> Option<&PhoneNumber> {
        self.node.phone_numbers.iter().find(|p| p.id == id)
    }

    pub fn owner_name(&self) -> Option<&str> {
        let o = self.node.owner_business_info.as_ref()?;
        o.name.as_deref().or(Some(o.id.as_str()))
    }
}

/// `health_status.can_send_message`, derived (reference §3.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Health {
    Available,
    Limited,
    Blocked,
    /// A value Meta has not documented, kept as sent.
    Other(String),
    /// Meta did not send `health_status`.
    Missing,
}

impl Health {
    pub fn of(raw: Option<&str>) -> Health {
        match raw {
            None => Health::Missing,
            Some("AVAILABLE") => Health::Available,
            Some("LIMITED") => Health::Limited,
            Some("BLOCKED") => Health::Blocked,
            Some(other) => Health::Other(other.to_string()),
        }
    }

    /// How bad it is: available 0, unknown or missing 1, limited 2, blocked 3.
    pub fn severity(&self) -> u8 {
        match self {
            Health::Available => 0,
            Health::Other(_) | Health::Missing => 1,
            Health::Limited => 2,
            Health::Blocked => 3,
        }
    }

    /// Whether going from `before` to `self` is a change for the worse people should see.
    /// Nothing is worse than a missing value (it says nothing).
    pub fn is_worse_than(&self, before: &Health) -> bool {
        *before != Health::Missing
            && *self != Health::Missing
            && self.severity() > before.severity()
    }

    pub fn label(&self) -> &str {
        match self {
            Health::Available => "AVAILABLE",
            Health::Limited => "LIMITED",
            Health::Blocked => "BLOCKED",
            Health::Other(raw) => raw,
            Health::Missing => "-",
        }
    }
}

/// How bad a quality rating is: GREEN 0, unknown values 1, YELLOW 2, RED 3.
pub fn quality_severity(rating: &str) -> u8 {
    match rating {
        "GREEN" => 0,
        "YELLOW" => 2,
        "RED" => 3,
        _ => 1,
    }
}

/// The worst quality rating among the numbers (raw value), if any number has one.
pub fn worst_quality(phones: &[PhoneNumber]) -> Option<&str> {
    phones
        .iter()
        .filter_map(|p| p.quality_rating.as_deref())
        .max_by_key(|q| quality_severity(q))
}

/// The onboarding checklist of design.md: the steps of Meta's "onboard business customers"
/// guide a partner can check by API. `None` = could not be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Onboarding {
    /// Our app is among the WABA's `subscribed_apps`.
    pub webhooks_subscribed: Option<bool>,
    /// A credit line is attached (`primary_funding_id`).
    pub credit_shared: Option<bool>,
    /// Every phone number is CONNECTED (false with no number yet).
    pub phones_registered: Option<bool>,
}

/// What the checklist compares a WABA against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnboardingRules {
    pub our_app_id: String,
    /// The `receiving_credential` ids of our credit-line allocations, once they are known
    /// (credit-lines work). Until then any funding source counts as shared.
    pub our_credentials: Option<HashSet<String>>,
}

impl OnboardingRules {
    pub fn new(our_app_id: impl Into<String>) -> OnboardingRules {
        OnboardingRules {
            our_app_id: our_app_id.into(),
            our_credentials: None,
        }
    }
}

impl Onboarding {
    pub fn derive(w: &Waba, rules: &OnboardingRules) -> Onboarding {
        Onboarding {
            webhooks_subscribed: webhooks_subscribed(
                w.subscribed_apps.as_deref(),
                &rules.our_app_id,
            ),
            credit_shared: credit_shared(w.node.funding_id(), rules.our_credentials.as_ref()),
            phones_registered: phones_registered(&w.node.phone_numbers),
        }
    }

    pub fn steps(&self) -> [Option<bool>; 3] {
        [
            self.webhooks_subscribed,
            self.credit_shared,
            self.phones_registered,
        ]
    }

    /// Every step known to be done.
    pub fn complete(&self) -> bool {
        self.steps().iter().all(|s| *s == Some(true))
    }

    /// Some step known not to be done.
    pub fn stuck(&self) -> bool {
        self.steps().contains(&Some(false))
    }
}

/// Our app is subscribed to the WABA's webhooks; `None` when the list could not be read.
pub fn webhooks_subscribed(subscribed: Option<&[SubscribedApp]>, our_app_id: &str) -> Option<bool> {
    subscribed.map(|apps| apps.iter().any(|a| a.app_id() == Some(our_app_id)))
}

/// A credit line is attached: `primary_funding_id` is set (not blank) and, once our
/// allocations are known, is one of their receiving credentials (reference §4.6).
pub fn credit_shared(
    primary_funding_id: Option<&str>,
    our_credentials: Option<&HashSet<String>>,
) -> Option<bool> {
    let funding = primary_funding_id.map(str::trim).filter(|f| !f.is_empty());
    Some(match (funding, our_credentials) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(f), Some(ours)) => ours.contains(f),
    })
}

/// Every number is registered (CONNECTED). A WABA without a number has not got there yet.
pub fn phones_registered(phones: &[PhoneNumber]) -> Option<bool> {
    Some(!phones.is_empty() && phones.iter().all(PhoneNumber::is_connected))
}

/// A two-step verification PIN for `register`: exactly six ASCII digits. It is never shown,
/// logged or written anywhere (`Debug` prints bullets), and its memory is wiped when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

impl Pin {
    pub const LEN: usize = 6;

    pub fn parse(s: &str) -> Option<Pin> {
        (s.len() == Pin::LEN && s.bytes().all(|b| b.is_ascii_digit())).then(|| Pin(s.to_string()))
    }

    /// The digits, for the request body only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(••••••)")
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        // Overwrite the digits in place: taking the String moves its buffer, it is not copied.
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        bytes.iter_mut().for_each(|b| *b = b'0');
        std::hint::black_box(&bytes);
    }
}

// Lenient readers: a value of an unexpected type becomes "not given".

pub(crate) fn opt_string<'de, D: Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(de)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        Some(other) => Some(other.to_string()),
    })
}

pub(crate) fn string_or_empty<'de, D: Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    Ok(opt_string(de)?.unwrap_or_default())
}

pub(crate) fn id_string<'de, D: Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    string_or_empty(de)
}

pub(crate) fn opt_i64<'de, D: Deserializer<'de>>(de: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Value>::deserialize(de)? {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

pub(crate) fn opt_of<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    de: D,
) -> Result<Option<T>, D::Error> {
    Ok(Option::<Value>::deserialize(de)?.and_then(|v| serde_json::from_value(v).ok()))
}

/// A list, or a Graph edge `{data: [...]}`; items that do not read as `T` are skipped.
pub(crate) fn list_of<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    de: D,
) -> Result<Vec<T>, D::Error> {
    let items = match Option::<Value>::deserialize(de)? {
        Some(Value::Array(items)) => items,
        Some(Value::Object(mut o)) => match o.remove("data") {
            Some(Value::Array(items)) => items,
            _ => vec![],
        },
        _ => vec![],
    };
    Ok(items
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn phone(status: &str) -> PhoneNumber {
        PhoneNumber {
            id: "p".into(),
            status: Some(status.into()),
            ..Default::default()
        }
    }

    fn sub(app: &str) -> SubscribedApp {
        SubscribedApp {
            whatsapp_business_api_data: Some(AppRef {
                id: app.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn odd_values_do_not_fail_the_node_and_unknown_fields_are_kept() {
        let w: WabaNode = serde_json::from_value(json!({
            "id": 123,
            "name": "Acme",
            "currency": 7,
            "creation_time": "1700000000",
            "health_status": "broken",
            "owner_business_info": {"id": "9", "name": "Acme Ltd"},
            "phone_numbers": {"data": [{"id": "1", "status": "CONNECTED", "throughput": {"level": "HIGH"}}, 5], "paging": {}},
            "ownership_type": "CLIENT_OWNED",
            "brand_new_field": {"x": 1}
        }))
        .unwrap();
        assert_eq!(w.id, "123");
        assert_eq!(w.currency.as_deref(), Some("7"));
        assert_eq!(w.creation_time, Some(1_700_000_000));
        assert_eq!(w.health_status, None);
        assert_eq!(w.phone_numbers.len(), 1);
        assert_eq!(w.phone_numbers[0].throughput_level(), Some("HIGH"));
        assert_eq!(w.extra["ownership_type"], "CLIENT_OWNED");
        assert_eq!(w.extra["brand_new_field"], json!({"x": 1}));
        let out = serde_json::to_value(&w).unwrap();
        assert_eq!(out["brand_new_field"], json!({"x": 1}));
        assert!(out["phone_numbers"].is_array(), "{out}");
    }

    #[test]
    fn health_and_quality_order() {
        assert_eq!(Health::of(Some("BLOCKED")), Health::Blocked);
        assert_eq!(Health::of(Some("WOBBLY")), Health::Other("WOBBLY".into()));
        assert_eq!(Health::of(None), Health::Missing);
        assert!(Health::Blocked.is_worse_than(&Health::Limited));
        assert!(Health::Limited.is_worse_than(&Health::Available));
        assert!(Health::Other("X".into()).is_worse_than(&Health::Available));
        assert!(!Health::Available.is_worse_than(&Health::Limited));
        assert!(!Health::Blocked.is_worse_than(&Health::Missing));
        assert!(!Health::Missing.is_worse_than(&Health::Available));
        let q = |r: &str| PhoneNumber {
            quality_rating: Some(r.into()),
            ..Default::default()
        };
        assert_eq!(
            worst_quality(&[q("GREEN"), q("RED"), q("YELLOW")]),
            Some("RED")
        );
        assert_eq!(worst_quality(&[q("GREEN"), q("AMBER")]), Some("AMBER"));
        assert_eq!(worst_quality(&[]), None);
    }

    #[test]
    fn checklist_each_step() {
        let us = "42";
        assert_eq!(webhooks_subscribed(None, us), None);
        assert_eq!(webhooks_subscribed(Some(&[]), us), Some(false));
        assert_eq!(webhooks_subscribed(Some(&[sub("7")]), us), Some(false));
        assert_eq!(
            webhooks_subscribed(Some(&[sub("7"), sub(us)]), us),
            Some(true)
        );

        assert_eq!(credit_shared(None, None), Some(false));
        assert_eq!(credit_shared(Some(" "), None), Some(false));
        assert_eq!(credit_shared(Some("515"), None), Some(true));
        let ours: HashSet<String> = ["515".to_string()].into();
        assert_eq!(credit_shared(Some("515"), Some(&ours)), Some(true));
        assert_eq!(credit_shared(Some("999"), Some(&ours)), Some(false));

        assert_eq!(phones_registered(&[]), Some(false));
        assert_eq!(phones_registered(&[phone("CONNECTED")]), Some(true));
        assert_eq!(
            phones_registered(&[phone("CONNECTED"), phone("PENDING")]),
            Some(false)
        );
    }

    #[test]
    fn checklist_combinations() {
        let rules = OnboardingRules::new("42");
        for subscribed in [None, Some(false), Some(true)] {
            for funded in [false, true] {
                for phones in [vec![], vec![phone("PENDING")], vec![phone("CONNECTED")]] {
                    let w = Waba {
                        node: WabaNode {
                            id: "1".into(),
                            primary_funding_id: funded.then(|| "515".into()),
                            phone_numbers: phones.clone(),
                            ..Default::default()
                        },
                        subscribed_apps: subscribed
                            .map(|s| if s { vec![sub("42")] } else { vec![sub("7")] }),
                        solutions: None,
                    };
                    let o = Onboarding::derive(&w, &rules);
                    let registered = phones.first().is_some_and(|p| p.is_connected());
                    assert_eq!(o.webhooks_subscribed, subscribed);
                    assert_eq!(o.credit_shared, Some(funded));
                    assert_eq!(o.phones_registered, Some(registered));
                    assert_eq!(
                        o.complete(),
                        subscribed == Some(true) && funded && registered
                    );
                    assert_eq!(
                        o.stuck(),
                        subscribed == Some(false) || !funded || !registered
                    );
                }
            }
        }
    }

    #[test]
    fn pins_are_six_digits_and_never_printed() {
        assert!(Pin::parse("123456").is_some());
        for bad in ["12345", "1234567", "12345a", "１２３４５６", ""] {
            assert!(Pin::parse(bad).is_none(), "{bad}");
        }
        let p = Pin::parse("246810").unwrap();
        assert_eq!(p.expose(), "246810");
        assert!(!format!("{p:?}").contains("246810"));
    }
}
