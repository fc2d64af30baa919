//! A client WABA as the console judges it: overall health, the worst quality rating of its
//! numbers, and the onboarding checklist (reference §3).

use serde::Serialize;

use crate::graph::waba_model::{PhoneNumber, SubscribedApp, Sym, Waba};

/// The WABA's messaging limit tier, `whatsapp_business_manager_messaging_limit` (reference
/// §3.2: `TIER_250, TIER_2K, TIER_10K, TIER_100K, TIER_UNLIMITED, UNTIERED`), as Meta sent it.
pub fn messaging_limit(w: &Waba) -> Option<Sym> {
    w.node.messaging_limit()
}

/// How many business-initiated conversations a tier allows in 24 hours, to compare two tiers:
/// `TIER_<n>` or `TIER_<n>K` (so the deprecated `TIER_50`/`TIER_1K` and values Meta has not
/// documented yet order too), `TIER_UNLIMITED` above all; `None` for `UNTIERED` and anything
/// else (no order is known, so no drop is claimed).
pub fn tier_rank(tier: &str) -> Option<u64> {
    let rest = tier.strip_prefix("TIER_")?;
    if rest == "UNLIMITED" {
        return Some(u64::MAX);
    }
    let (digits, scale) = match rest.strip_suffix('K') {
        Some(d) => (d, 1_000),
        None => match rest.strip_suffix('M') {
            Some(d) => (d, 1_000_000),
            None => (rest, 1),
        },
    };
    digits.parse::<u64>().ok().map(|n| n.saturating_mul(scale))
}

/// Whether going from tier `before` to `now` is a drop (both known and ordered).
pub fn tier_dropped(before: &str, now: &str) -> bool {
    matches!((tier_rank(before), tier_rank(now)), (Some(b), Some(n)) if n < b)
}

/// `health_status.can_send_message`, derived (reference §3.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Health {
    Available,
    Limited,
    Blocked,
    /// A value Meta has not documented, kept as sent (one shared copy per distinct value).
    Other(Sym),
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
            Some(other) => Health::Other(Sym::from(other)),
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
            Health::Other(raw) => raw.as_str(),
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
pub fn worst_quality(phones: &[PhoneNumber]) -> Option<Sym> {
    phones
        .iter()
        .filter_map(|p| p.quality_rating.as_ref())
        .max_by_key(|q| quality_severity(q))
        .cloned()
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
    pub our_credentials: Option<crate::domain::funding::Credentials>,
    /// Our partner kind once decided: as a Tech Provider the credit step means "funded at
    /// all" (`domain::partner::credit_step`); `None` (not known yet) checks as a Solution
    /// Partner.
    pub partner_kind: Option<crate::domain::partner::PartnerKind>,
}

impl OnboardingRules {
    pub fn new(our_app_id: impl Into<String>) -> OnboardingRules {
        OnboardingRules {
            our_app_id: our_app_id.into(),
            our_credentials: None,
            partner_kind: None,
        }
    }
}

impl Onboarding {
    pub fn derive(w: &Waba, rules: &OnboardingRules) -> Onboarding {
        Onboarding {
            webhooks_subscribed: webhooks_subscribed(
                w.subscribed_apps.as_deref().map(Vec::as_slice),
                &rules.our_app_id,
            ),
            credit_shared: crate::domain::partner::credit_step(
                rules
                    .partner_kind
                    .unwrap_or(crate::domain::partner::PartnerKind::SolutionPartner),
                w.node.funding_id(),
                rules.our_credentials.as_ref(),
            ),
            phones_registered: phones_registered(&w.node.phone_numbers().to_vec()),
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
    our_credentials: Option<&crate::domain::funding::Credentials>,
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

impl Health {
    /// The WABA's overall health, from `health_status.can_send_message`.
    pub fn of_waba(w: &Waba) -> Health {
        Health::of(w.node.health_value().as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_order_by_their_numbers_and_untiered_has_no_order() {
        assert!(tier_dropped("TIER_10K", "TIER_2K"));
        assert!(tier_dropped("TIER_UNLIMITED", "TIER_100K"));
        assert!(!tier_dropped("TIER_250", "TIER_2K"));
        assert!(!tier_dropped("TIER_2K", "TIER_2K"));
        assert!(!tier_dropped("TIER_2K", "UNTIERED"));
        assert!(!tier_dropped("UNTIERED", "TIER_250"));
        assert_eq!(tier_rank("TIER_500K"), Some(500_000));
        assert_eq!(tier_rank("TIER_1K"), Some(1_000));
        assert_eq!(tier_rank("weird"), None);
    }
    use crate::graph::model::AppRef;
    use crate::graph::waba_model::{WabaFields, WabaNode};

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
            worst_quality(&[q("GREEN"), q("RED"), q("YELLOW")]).as_deref(),
            Some("RED")
        );
        assert_eq!(
            worst_quality(&[q("GREEN"), q("AMBER")]).as_deref(),
            Some("AMBER")
        );
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
        let ours: crate::domain::funding::Credentials = ["515".into()].into();
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
                        node: WabaNode::new(WabaFields {
                            id: "1".into(),
                            primary_funding_id: funded.then(|| "515".into()),
                            phone_numbers: phones.clone().into(),
                            ..Default::default()
                        }),
                        subscribed_apps: subscribed
                            .map(|s| if s { vec![sub("42")] } else { vec![sub("7")] }.into()),
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
}
