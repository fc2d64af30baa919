//! Client WhatsApp Business Accounts in the simulated world (reference §3): the WABAs, their
//! phone numbers, health, subscribed apps and the solutions that onboarded them; the two WABA
//! mutations (subscribe an app, register a number); and a seeded generator so a world can hold
//! hundreds of WABAs without a giant file.
//!
//! Enum-like fields are raw strings and are served verbatim, so a world can hold values Meta
//! has not documented.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::errors::GraphError;
use super::world::{Business, World};

/// One client WABA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waba {
    pub id: String,
    pub name: String,
    /// The customer's business portfolio (`owner_business_info`).
    pub owner_business_id: String,
    /// Partner business portfolios the WABA is shared with (ours included): it is listed on
    /// `client_whatsapp_business_accounts` of each, and matched by the `partners` filter.
    pub shared_with: Vec<String>,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub timezone_id: String,
    #[serde(default)]
    pub message_template_namespace: String,
    #[serde(default)]
    pub account_review_status: String,
    #[serde(default)]
    pub business_verification_status: String,
    /// The attached funding source (credit line); empty = none, and the field is omitted.
    #[serde(default)]
    pub primary_funding_id: String,
    /// Unix seconds.
    #[serde(default)]
    pub creation_time: i64,
    /// The WABA's own entity in `health_status`.
    #[serde(default)]
    pub health: EntityHealth,
    #[serde(default)]
    pub phone_numbers: Vec<Phone>,
    /// Apps subscribed to the WABA's webhooks (`subscribed_apps`).
    #[serde(default)]
    pub subscribed_app_ids: Vec<String>,
    /// Solutions that onboarded the WABA (`GET /{waba-id}/solutions`).
    #[serde(default)]
    pub solution_ids: Vec<String>,
    /// Further WABA fields, served verbatim (`country`, `ownership_type`, `status`, ...).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// One entity's part of `health_status` (reference §3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityHealth {
    #[serde(default = "available")]
    pub can_send_message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_info: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<HealthErrorItem>,
}

impl Default for EntityHealth {
    fn default() -> Self {
        EntityHealth {
            can_send_message: available(),
            additional_info: vec![],
            errors: vec![],
        }
    }
}

fn available() -> String {
    "AVAILABLE".into()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthErrorItem {
    pub error_code: i64,
    pub error_description: String,
    pub possible_solution: String,
}

/// A phone number of a WABA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phone {
    pub id: String,
    pub display_phone_number: String,
    #[serde(default)]
    pub verified_name: String,
    #[serde(default)]
    pub quality_rating: String,
    /// `CONNECTED` once registered; `PENDING`, `DISCONNECTED`, ... before.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub code_verification_status: String,
    #[serde(default)]
    pub name_status: String,
    #[serde(default)]
    pub platform_type: String,
    /// `throughput.level`.
    #[serde(default)]
    pub throughput_level: String,
    #[serde(default)]
    pub health: EntityHealth,
    /// The number's two-step verification PIN: when set, `register` must send it (else
    /// 133005); when absent, any 6-digit PIN is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    /// Failed register attempts since the last success; the fourth is refused with 133016.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failed_register_attempts: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Failed PIN attempts allowed before `register` answers 133016 (rate limit).
pub const MAX_FAILED_REGISTER_ATTEMPTS: u32 = 3;

const KNOWN_HEALTH: [&str; 3] = ["AVAILABLE", "LIMITED", "BLOCKED"];

/// The overall value of several entities (reference §3.3): BLOCKED if any is, else LIMITED if
/// any is, else the first undocumented value if any, else AVAILABLE.
pub fn overall_health<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let values: Vec<&str> = values.into_iter().collect();
    for level in ["BLOCKED", "LIMITED"] {
        if values.contains(&level) {
            return level.into();
        }
    }
    values
        .iter()
        .find(|v| !KNOWN_HEALTH.contains(v))
        .map_or_else(available, |v| v.to_string())
}

fn entity_json(entity_type: &str, id: &str, h: &EntityHealth) -> Value {
    let mut e = json!({
        "entity_type": entity_type,
        "id": id,
        "can_send_message": h.can_send_message,
    });
    if !h.additional_info.is_empty() {
        e["additional_info"] = json!(h.additional_info);
    }
    if !h.errors.is_empty() {
        e["errors"] = json!(h.errors);
    }
    e
}

impl Phone {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "display_phone_number": self.display_phone_number,
            "verified_name": self.verified_name,
            "quality_rating": self.quality_rating,
            "status": self.status,
            "code_verification_status": self.code_verification_status,
            "name_status": self.name_status,
            "platform_type": self.platform_type,
            "throughput": { "level": self.throughput_level },
            "health_status": {
                "can_send_message": self.health.can_send_message,
                "entities": [entity_json("PHONE_NUMBER", &self.id, &self.health)],
            },
        })
    }
}

impl Waba {
    pub fn is_visible_to(&self, business_id: Option<&str>) -> bool {
        business_id.is_some_and(|b| self.shared_with.iter().any(|s| s == b))
    }

    /// `health_status` as Meta composes it: one entity per WABA, phone number, owner business
    /// and the calling app, with the overall value derived from them.
    fn health_json(&self, actor_app: &str) -> Value {
        let ok = EntityHealth::default();
        let mut entities = vec![entity_json("WABA", &self.id, &self.health)];
        entities.extend(
            self.phone_numbers
                .iter()
                .map(|p| entity_json("PHONE_NUMBER", &p.id, &p.health)),
        );
        entities.push(entity_json("BUSINESS", &self.owner_business_id, &ok));
        entities.push(entity_json("APP", actor_app, &ok));
        let overall = overall_health(
            std::iter::once(self.health.can_send_message.as_str()).chain(
                self.phone_numbers
                    .iter()
                    .map(|p| p.health.can_send_message.as_str()),
            ),
        );
        json!({ "can_send_message": overall, "entities": entities })
    }

    /// Every field of the node before projection.
    pub(crate) fn to_json(&self, world: &World, actor_app: &str) -> Value {
        let mut v = Map::new();
        v.insert("id".into(), json!(self.id));
        v.insert("name".into(), json!(self.name));
        let text = [
            ("currency", &self.currency),
            ("timezone_id", &self.timezone_id),
            (
                "message_template_namespace",
                &self.message_template_namespace,
            ),
            ("account_review_status", &self.account_review_status),
            (
                "business_verification_status",
                &self.business_verification_status,
            ),
            ("primary_funding_id", &self.primary_funding_id),
        ];
        for (k, val) in text {
            if !val.is_empty() {
                v.insert(k.into(), json!(val));
            }
        }
        if self.creation_time > 0 {
            v.insert("creation_time".into(), json!(self.creation_time));
        }
        let owner = world.business_json(&self.owner_business_id);
        v.insert("owner_business_info".into(), owner.clone());
        v.insert("owner_business".into(), owner);
        v.insert(
            "is_shared_with_partners".into(),
            json!(self.shared_with.len() > 1),
        );
        v.insert("health_status".into(), self.health_json(actor_app));
        v.insert(
            "phone_numbers".into(),
            Value::Array(self.phone_numbers.iter().map(Phone::to_json).collect()),
        );
        for (k, val) in &self.extra {
            v.entry(k.clone()).or_insert_with(|| val.clone());
        }
        Value::Object(v)
    }
}

/// Where a phone number is: (index of its WABA, index of the number).
pub(crate) fn find_phone(world: &World, phone_id: &str) -> Option<(usize, usize)> {
    if world.index_is_fresh() {
        match world.index.phones.get(phone_id) {
            None => return None,
            Some(&(wi, pi))
                if world
                    .wabas
                    .get(wi)
                    .and_then(|w| w.phone_numbers.get(pi))
                    .is_some_and(|p| p.id == phone_id) =>
            {
                return Some((wi, pi));
            }
            // Numbers edited in place: the scan below still finds it.
            Some(_) => {}
        }
    }
    world.wabas.iter().enumerate().find_map(|(wi, w)| {
        w.phone_numbers
            .iter()
            .position(|p| p.id == phone_id)
            .map(|pi| (wi, pi))
    })
}

/// `POST /{waba-id}/subscribed_apps`: subscribe the calling app (idempotent).
pub fn subscribe_app(waba: &mut Waba, app_id: &str) {
    if !waba.subscribed_app_ids.iter().any(|a| a == app_id) {
        waba.subscribed_app_ids.push(app_id.to_string());
    }
}

/// `POST /{phone-number-id}/register` (reference §3.6). Checks, in order: the parameters
/// (100 when missing or not WhatsApp, 131009 when the PIN is not 6 digits), the account (131031
/// when the WABA itself is BLOCKED), the attempt limit (133016), code verification (133006), the
/// PIN (133005, counted as a failed attempt). Success makes the number CONNECTED on Cloud API.
/// On refusal nothing changes but the failed-attempt count.
pub fn register(
    world: &mut World,
    phone_id: &str,
    messaging_product: Option<&str>,
    pin: Option<&str>,
) -> Result<(), GraphError> {
    let (wi, pi) = find_phone(world, phone_id)
        .ok_or_else(|| GraphError::unsupported_request("post", phone_id))?;
    match messaging_product {
        None | Some("") => {
            return Err(GraphError::invalid_param(
                "(#100) The parameter messaging_product is required",
            ));
        }
        Some(p) if !p.eq_ignore_ascii_case("whatsapp") => {
            return Err(GraphError::invalid_param(format!(
                "(#100) Param messaging_product must be one of {{WHATSAPP}} - got \"{p}\""
            )));
        }
        Some(_) => {}
    }
    let pin = match pin {
        None | Some("") => {
            return Err(GraphError::invalid_param(
                "(#100) The parameter pin is required",
            ));
        }
        Some(p) => p,
    };
    if pin.len() != 6 || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(GraphError::whatsapp(
            400,
            131009,
            "(#131009) Parameter value is not valid",
            "The pin must be a 6-digit number.",
        ));
    }
    let waba = &mut world.wabas[wi];
    if waba.health.can_send_message == "BLOCKED" {
        return Err(GraphError::whatsapp(
            403,
            131031,
            "(#131031) Business Account locked",
            "The WhatsApp Business Account is locked; numbers cannot be registered until it is unlocked.",
        ));
    }
    let phone = &mut waba.phone_numbers[pi];
    // Meta documents no code for this; the simulator refuses as an invalid request.
    if phone.status == "BANNED" {
        return Err(GraphError::invalid_param(
            "(#100) This phone number is banned and cannot be registered; appeal the ban in WhatsApp Manager first",
        ));
    }
    if phone.failed_register_attempts >= MAX_FAILED_REGISTER_ATTEMPTS {
        return Err(GraphError::whatsapp(
            400,
            133016,
            "(#133016) Account register deregister rate limit exceeded",
            "Too many register attempts for this phone number. Try again later.",
        ));
    }
    if phone.code_verification_status != "VERIFIED" {
        return Err(GraphError::whatsapp(
            400,
            133006,
            "(#133006) Phone number re-verification needed",
            "Verify the phone number with the code Meta sends before registering it.",
        ));
    }
    if phone.pin.as_deref().is_some_and(|want| want != pin) {
        phone.failed_register_attempts += 1;
        return Err(GraphError::whatsapp(
            400,
            133005,
            "(#133005) Two step verification PIN Mismatch",
            "The PIN does not match the two-step verification PIN of this phone number.",
        ));
    }
    phone.failed_register_attempts = 0;
    phone.status = "CONNECTED".into();
    phone.platform_type = "CLOUD_API".into();
    Ok(())
}

/// How a world file asks for generated WABAs: `"waba_generator": {"seed": 7, "count": 300}`.
/// They are added after the listed ones, shared with our business (and some with the partner
/// businesses named), onboarded through the listed solutions, funded from `funding_ids`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WabaGenerator {
    pub seed: u64,
    pub count: usize,
    /// Partner businesses a share of the generated WABAs are also shared with.
    #[serde(default)]
    pub partner_business_ids: Vec<String>,
    /// Solutions the generated WABAs say they were onboarded through.
    #[serde(default)]
    pub solution_ids: Vec<String>,
    /// Other apps that are sometimes subscribed too.
    #[serde(default)]
    pub other_app_ids: Vec<String>,
    /// Funding sources (credit-line credentials) to attach, picked at random. Ignored when
    /// `credit_line_ids` is given.
    #[serde(default)]
    pub funding_ids: Vec<String>,
    /// Credit lines of the world to fund the generated WABAs from: each customer business gets
    /// an allocation (live or revoked) or none, and its WABAs the allocation's credential
    /// (see [`super::credit`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credit_line_ids: Vec<String>,
    /// Unix seconds the newest generated WABA was created at; older ones go back a year.
    #[serde(default = "default_newest")]
    pub newest_creation_time: i64,
    /// Every this many WABAs (the first included) is a call centre with 26 to 40 numbers,
    /// more than one page of an expanded `phone_numbers` edge. 0 = none.
    #[serde(default)]
    pub large_every: usize,
}

fn default_newest() -> i64 {
    1_767_000_000
}

/// SplitMix64: a tiny, fixed PRNG, so a seed gives the same world on every platform and with
/// every version of the `rand` crate.
/// A generated WABA's messaging limit (reference: `whatsapp_business_manager_messaging_limit`,
/// the documented tiers), drawn from its own stream so that the rest of the world is the same
/// with or without it.
fn messaging_limit(seed: u64, i: u64) -> Map<String, Value> {
    let mut rng = Mix(seed ^ 0x7133_7133_0000_0000 ^ i.wrapping_mul(0x9E37_79B9));
    let tier = rng.weighted(&[
        ("TIER_250", 12),
        ("TIER_2K", 30),
        ("TIER_10K", 28),
        ("TIER_100K", 15),
        ("TIER_UNLIMITED", 10),
        ("UNTIERED", 5),
    ]);
    let mut extra = Map::new();
    extra.insert(
        "whatsapp_business_manager_messaging_limit".into(),
        Value::String(tier.into()),
    );
    extra
}

struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0..n
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// One of `items` by weight (`(value, weight)`).
    fn weighted<'a>(&mut self, items: &[(&'a str, u64)]) -> &'a str {
        let total: u64 = items.iter().map(|(_, w)| w).sum();
        let mut r = self.below(total);
        for (v, w) in items {
            if r < *w {
                return v;
            }
            r -= w;
        }
        items[0].0
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const FIRST: &[&str] = &[
    "Lumen", "Aurora", "Cobalt", "Juniper", "Saffron", "Harbor", "Maple", "Orchid", "Granite",
    "Willow", "Coral", "Falcon", "Cedar", "Indigo", "Marigold", "Nimbus", "Sierra", "Tundra",
    "Zephyr", "Amber", "Basil", "Comet", "Delta", "Ember", "Fable", "Garnet", "Halcyon", "Iris",
];
const SECOND: &[&str] = &[
    "Bakery",
    "Dental",
    "Motors",
    "Travel",
    "Pharmacy",
    "Fitness",
    "Realty",
    "Logistics",
    "Insurance",
    "Bank",
    "Telecom",
    "Fashion",
    "Grocers",
    "Clinic",
    "Academy",
    "Hotels",
    "Furniture",
    "Electronics",
    "Florists",
    "Couriers",
    "Salon",
    "Cinemas",
    "Pet Care",
    "Optics",
];
const LOCAL_NAMES: &[&str] = &[
    "さくら薬局",
    "مطعم الياسمين",
    "Кофейня «Утро»",
    "서울 꽃집",
    "青山书店",
    "Φούρνος Αθηνά",
    "Café São João",
    "Pâtisserie Élise",
];
const SUFFIX: &[&str] = &["Ltd.", "GmbH", "S.A.", "Inc.", "Pvt. Ltd.", "B.V.", "LLC"];
const CURRENCIES: &[&str] = &["USD", "EUR", "INR", "BRL", "IDR", "GBP", "MXN", "JPY"];
const TIMEZONES: &[&str] = &["1", "42", "71", "86", "103", "124", "136"];
const BLOCK_REASONS: &[(i64, &str, &str)] = &[
    (
        141_010,
        "The Business Account has been disabled for violating the WhatsApp Business Messaging Policy.",
        "Review the policy violation in WhatsApp Manager and request a review if you disagree.",
    ),
    (
        141_006,
        "There is an error with the payment method attached to the account.",
        "Attach a valid payment method or share a credit line with the account.",
    ),
    (
        141_000,
        "The business has not completed business verification.",
        "Complete business verification in Business Settings > Security Center.",
    ),
];
const LIMIT_REASONS: &[&str] = &[
    "Your WhatsApp Business Account is in review; messaging is limited until the review completes.",
    "Business verification is pending; the messaging limit stays at 250 business-initiated conversations.",
    "The display name has not been approved; messages are limited until it is.",
];

impl WabaGenerator {
    /// Add `count` generated WABAs (and the owner businesses they name) to `world`. Ids are
    /// `3100…` (WABAs), `3200…` (numbers) and `3300…` (businesses), so they do not collide
    /// with hand-written ones.
    pub fn generate(&self, world: &mut World) {
        let mut rng = Mix(self.seed);
        let ours = world.our_business_id.clone();
        let our_app = world.our_app_id.clone();
        let mut phone_seq = 0u64;
        let mut owner: Option<(String, usize)> = None;
        let first = world.wabas.len();
        world.wabas.reserve(self.count);
        world.businesses.reserve(self.count);
        for i in 0..self.count {
            let name = if rng.chance(8) {
                format!("{} {}", rng.pick(LOCAL_NAMES), i)
            } else {
                format!("{} {}", rng.pick(FIRST), rng.pick(SECOND))
            };
            // Most customers have one WABA; some have two or three in a row.
            let owner_id = match &mut owner {
                Some((id, left)) if *left > 0 => {
                    *left -= 1;
                    id.clone()
                }
                _ => {
                    let id = format!("33{:014}", i);
                    world.businesses.push(Business {
                        id: id.clone(),
                        name: format!("{name} {}", rng.pick(SUFFIX)),
                    });
                    let extra = if rng.chance(15) {
                        1 + rng.below(2) as usize
                    } else {
                        0
                    };
                    owner = Some((id.clone(), extra));
                    id
                }
            };
            let id = format!("31{:014}", i);
            let mut shared_with = vec![ours.clone()];
            if !self.partner_business_ids.is_empty() && rng.chance(35) {
                shared_with.push(rng.pick(&self.partner_business_ids).clone());
            }
            let mut health = EntityHealth::default();
            match rng.below(100) {
                0..4 => {
                    let (code, desc, fix) = *rng.pick(BLOCK_REASONS);
                    health.can_send_message = "BLOCKED".into();
                    health.errors.push(HealthErrorItem {
                        error_code: code,
                        error_description: desc.into(),
                        possible_solution: fix.into(),
                    });
                }
                4..12 => {
                    health.can_send_message = "LIMITED".into();
                    health
                        .additional_info
                        .push(rng.pick(LIMIT_REASONS).to_string());
                }
                _ => {}
            }
            let phones = match rng.below(100) {
                _ if self.large_every > 0 && i % self.large_every == 0 => 26 + rng.below(15),
                0..10 => 0,
                10..65 => 1,
                65..95 => 2 + rng.below(3),
                _ => 5 + rng.below(4),
            };
            let mut phone_numbers = vec![];
            for k in 0..phones {
                phone_seq += 1;
                phone_numbers.push(gen_phone(&mut rng, phone_seq, &name, k));
            }
            let mut subscribed_app_ids = vec![];
            if rng.chance(85) {
                subscribed_app_ids.push(our_app.clone());
            }
            if !self.other_app_ids.is_empty() && rng.chance(20) {
                subscribed_app_ids.push(rng.pick(&self.other_app_ids).clone());
            }
            let primary_funding_id = if !self.funding_ids.is_empty() && rng.chance(80) {
                rng.pick(&self.funding_ids).clone()
            } else {
                String::new()
            };
            let solution_ids = if !self.solution_ids.is_empty() && rng.chance(70) {
                vec![rng.pick(&self.solution_ids).clone()]
            } else {
                vec![]
            };
            let age_days = rng.below(365) as i64;
            world.wabas.push(Waba {
                id,
                name,
                owner_business_id: owner_id,
                shared_with,
                currency: rng.pick(CURRENCIES).to_string(),
                timezone_id: rng.pick(TIMEZONES).to_string(),
                message_template_namespace: format!("{:016x}_{:04x}", rng.next(), rng.below(65536)),
                account_review_status: rng
                    .weighted(&[("APPROVED", 85), ("PENDING", 10), ("REJECTED", 5)])
                    .into(),
                business_verification_status: rng
                    .weighted(&[
                        ("verified", 60),
                        ("pending", 10),
                        ("not_verified", 15),
                        ("pending_submission", 6),
                        ("rejected", 3),
                        ("expired", 3),
                        ("failed", 3),
                    ])
                    .into(),
                primary_funding_id,
                creation_time: self.newest_creation_time
                    - age_days * 86_400
                    - rng.below(86_400) as i64,
                health,
                phone_numbers,
                subscribed_app_ids,
                solution_ids,
                extra: messaging_limit(self.seed, i as u64),
            });
        }
        super::credit::fund_generated(world, self.seed, &self.credit_line_ids, first);
        world.reindex();
    }
}

fn gen_phone(rng: &mut Mix, seq: u64, name: &str, k: u64) -> Phone {
    let status = rng.weighted(&[
        ("CONNECTED", 80),
        ("PENDING", 8),
        ("DISCONNECTED", 4),
        ("FLAGGED", 2),
        ("RESTRICTED", 2),
        ("RATE_LIMITED", 2),
        ("BANNED", 1),
        ("MIGRATED", 1),
    ]);
    let mut health = EntityHealth::default();
    match status {
        "BANNED" => {
            health.can_send_message = "BLOCKED".into();
            health.errors.push(HealthErrorItem {
                error_code: 141_011,
                error_description: "The phone number has been banned.".into(),
                possible_solution: "Appeal the ban in WhatsApp Manager.".into(),
            });
        }
        "RESTRICTED" | "FLAGGED" | "RATE_LIMITED" => {
            health.can_send_message = "LIMITED".into();
            health
                .additional_info
                .push(format!("The phone number is {}.", status.to_lowercase()));
        }
        _ => {}
    }
    let dial = rng.pick(&["+1", "+44", "+91", "+55", "+62", "+49", "+52", "+81"]);
    Phone {
        id: format!("32{:014}", seq),
        display_phone_number: format!(
            "{dial} {:03} {:03} {:04}",
            100 + rng.below(900),
            rng.below(1000),
            rng.below(10000)
        ),
        verified_name: if k == 0 {
            name.to_string()
        } else {
            format!("{name} {}", k + 1)
        },
        quality_rating: rng
            .weighted(&[("GREEN", 75), ("YELLOW", 12), ("RED", 5), ("UNKNOWN", 8)])
            .into(),
        status: status.into(),
        code_verification_status: if status == "PENDING" && rng.chance(25) {
            "NOT_VERIFIED".into()
        } else {
            "VERIFIED".into()
        },
        name_status: rng
            .weighted(&[
                ("APPROVED", 85),
                ("PENDING_REVIEW", 7),
                ("DECLINED", 3),
                ("AVAILABLE_WITHOUT_REVIEW", 5),
            ])
            .into(),
        platform_type: if status == "CONNECTED" {
            "CLOUD_API".into()
        } else {
            "NOT_APPLICABLE".into()
        },
        throughput_level: rng.weighted(&[("STANDARD", 90), ("HIGH", 10)]).into(),
        health,
        pin: None,
        failed_register_attempts: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_banned_number_is_not_registered() {
        let mut w = World::demo();
        let (wi, pi) = w
            .wabas
            .iter()
            .enumerate()
            .find_map(|(wi, waba)| {
                let pi = waba
                    .phone_numbers
                    .iter()
                    .position(|p| p.status == "BANNED")?;
                (waba.health.can_send_message != "BLOCKED").then_some((wi, pi))
            })
            .expect("the demo world has a banned number in a WABA that is not blocked");
        let id = w.wabas[wi].phone_numbers[pi].id.clone();
        let pin = w.wabas[wi].phone_numbers[pi]
            .pin
            .clone()
            .unwrap_or("123456".into());
        let e = register(&mut w, &id, Some("whatsapp"), Some(&pin)).unwrap_err();
        assert_eq!(e.code, 100);
        assert_eq!(w.wabas[wi].phone_numbers[pi].status, "BANNED");
    }

    #[test]
    fn overall_health_is_the_worst() {
        assert_eq!(overall_health(["AVAILABLE", "LIMITED"]), "LIMITED");
        assert_eq!(
            overall_health(["LIMITED", "BLOCKED", "AVAILABLE"]),
            "BLOCKED"
        );
        assert_eq!(overall_health(["AVAILABLE", "WOBBLY"]), "WOBBLY");
        assert_eq!(overall_health(["WOBBLY", "LIMITED"]), "LIMITED");
        assert_eq!(overall_health([]), "AVAILABLE");
    }

    #[test]
    fn generator_is_deterministic_and_varied() {
        let gen_world = |seed| {
            let mut w = World::demo();
            w.wabas.clear();
            WabaGenerator {
                seed,
                count: 300,
                partner_business_ids: vec!["p".into()],
                solution_ids: vec![],
                other_app_ids: vec![],
                funding_ids: vec!["f".into()],
                credit_line_ids: vec![],
                newest_creation_time: default_newest(),
                large_every: 100,
            }
            .generate(&mut w);
            w
        };
        let a = gen_world(7);
        assert_eq!(a.wabas, gen_world(7).wabas);
        assert_ne!(a.wabas, gen_world(8).wabas);
        assert_eq!(a.wabas.len(), 300);
        let count = |f: &dyn Fn(&Waba) -> bool| a.wabas.iter().filter(|w| f(w)).count();
        assert!(count(&|w| w.phone_numbers.is_empty()) > 5);
        assert!(count(&|w| w.phone_numbers.len() > 1) > 20);
        assert!(count(&|w| w.health.can_send_message == "BLOCKED") > 2);
        assert!(count(&|w| w.health.can_send_message == "LIMITED") > 5);
        assert!(count(&|w| w.primary_funding_id.is_empty()) > 10);
        assert!(count(&|w| w.shared_with.len() > 1) > 30);
        assert!(count(&|w| w.subscribed_app_ids.is_empty()) > 10);
        assert!(count(&|w| w.phone_numbers.iter().any(|p| p.status == "PENDING")) > 5);
        assert_eq!(count(&|w| w.phone_numbers.len() > 25), 3);
    }
}
