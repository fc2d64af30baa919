//! Wire types of client WhatsApp Business Accounts (reference §3). What the console derives
//! from them (health, quality, the onboarding checklist) is in `crate::domain::onboarding`.
//!
//! Meta's enums are open strings here, and every node keeps the fields we do not model in
//! `extra`, so the snapshot prints what Meta sent. Fields are read leniently: a value of an
//! unexpected type becomes "not given" rather than failing the whole list.

use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock};

use compact_str::CompactString;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::model::{AppRef, Malformed, Row, SolutionNode};
pub use super::packed::{PackedList, PackedSlice};

/// A short value that repeats across the book (a status, a rating, a currency, an entity type):
/// one shared copy per distinct value instead of one string per field, for a book of 100,000
/// WABAs held all session. One pointer wide (`Option<Sym>` too); reads as a `&str`; written out
/// as the string.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sym(Arc<String>);

/// Values longer than this are not worth sharing (and are rarely repeated).
const SYM_MAX_LEN: usize = 48;
/// The most distinct values kept shared: a server sending ever new values cannot grow the
/// table without bound; later ones are simply not shared.
const SYM_MAX_VALUES: usize = 4096;

impl Sym {
    pub fn new(s: &str) -> Sym {
        if s.len() > SYM_MAX_LEN {
            return Sym(Arc::new(s.to_string()));
        }
        let mut table = sym_table();
        if let Some((_, shared)) = table.by_text.get(s) {
            return shared.clone();
        }
        let value = Sym(Arc::new(s.to_string()));
        if table.by_index.len() < SYM_MAX_VALUES {
            let index = table.by_index.len() as u16;
            table.by_text.insert(s.into(), (index, value.clone()));
            table.by_index.push(value.clone());
        }
        value
    }

    /// The number of its text in the shared table, if the table holds it (what a packed list
    /// stores: equal texts pack to equal bytes).
    pub fn index(&self) -> Option<u16> {
        sym_table()
            .by_text
            .get(self.as_str())
            .map(|(index, _)| *index)
    }

    /// The shared value numbered `index`.
    pub fn at(index: u16) -> Option<Sym> {
        sym_table().by_index.get(usize::from(index)).cloned()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The shared values, by text and by number (numbers never change: the table only grows,
/// up to [`SYM_MAX_VALUES`]).
#[derive(Default)]
struct SymTable {
    by_text: HashMap<Box<str>, (u16, Sym)>,
    by_index: Vec<Sym>,
}

fn sym_table() -> std::sync::MutexGuard<'static, SymTable> {
    static TABLE: OnceLock<Mutex<SymTable>> = OnceLock::new();
    TABLE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Deref for Sym {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Sym {
    fn from(s: &str) -> Sym {
        Sym::new(s)
    }
}

impl From<String> for Sym {
    fn from(s: String) -> Sym {
        Sym::new(&s)
    }
}

impl PartialEq<str> for Sym {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Sym {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for Sym {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Sym {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Sym, D::Error> {
        Ok(Sym::new(&String::deserialize(de)?))
    }
}

/// The fields Meta sent that the model does not name, kept as the JSON text of an object
/// rather than a tree: a tenth of the memory, for a book held all session. Read back with
/// [`map`](Self::map) or [`get`](Self::get); written out as the fields themselves. One pointer
/// wide: most nodes have none, and a book holds a dozen of these per WABA.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawFields(Option<Box<Box<str>>>);

impl RawFields {
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The fields, decoded.
    pub fn map(&self) -> Map<String, Value> {
        self.0
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.map().len()
    }

    pub fn get(&self, key: &str) -> Option<Value> {
        self.map().remove(key)
    }

    /// The JSON text of the fields (`{}` when there are none).
    pub fn text(&self) -> &str {
        self.0.as_deref().map_or("{}", |t| t)
    }

    pub fn insert(&mut self, key: String, value: Value) {
        let mut m = self.map();
        m.insert(key, value);
        *self = RawFields::from(m);
    }
}

impl RawFields {
    /// Fields from the JSON text of an object (as [`text`](Self::text) gave it).
    pub fn from_text(text: &str) -> RawFields {
        if text.is_empty() || text == "{}" {
            RawFields(None)
        } else {
            RawFields(Some(Box::new(text.into())))
        }
    }
}

impl From<Map<String, Value>> for RawFields {
    fn from(m: Map<String, Value>) -> RawFields {
        if m.is_empty() {
            RawFields(None)
        } else {
            RawFields(Some(Box::new(
                Value::Object(m).to_string().into_boxed_str(),
            )))
        }
    }
}

impl Serialize for RawFields {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        self.map().serialize(ser)
    }
}

impl<'de> Deserialize<'de> for RawFields {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<RawFields, D::Error> {
        Ok(RawFields::from(Map::<String, Value>::deserialize(de)?))
    }
}

/// `{id, name}` of a business portfolio (`owner_business_info`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BusinessRef {
    #[serde(default, deserialize_with = "id_string")]
    pub id: CompactString,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub name: Option<CompactString>,
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
    pub extra: RawFields,
}

/// One entity of `health_status.entities` (WABA, phone number, business, app, template).
/// What only a blocked or limited entity carries (its errors, additional info, fields the
/// model does not name) is boxed in [`details`](Self::details): an available entity, most of
/// the book, is four words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HealthEntity {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_sym"
    )]
    pub entity_type: Option<Sym>,
    #[serde(default, deserialize_with = "id_string")]
    pub id: CompactString,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_sym"
    )]
    pub can_send_message: Option<Sym>,
    #[serde(flatten)]
    pub details: Rare<EntityDetails>,
}

/// The parts of a health entity that are usually absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EntityDetails {
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
    pub extra: RawFields,
}

impl HealthEntity {
    pub fn errors(&self) -> &[HealthIssue] {
        self.details.get().map_or(&[], |d| &d.errors)
    }

    pub fn additional_info(&self) -> &[String] {
        self.details.get().map_or(&[], |d| &d.additional_info)
    }

    /// Fields Meta sent that the model does not name.
    pub fn extra(&self) -> Option<&RawFields> {
        self.details.get().map(|d| &d.extra)
    }
}

/// Fields that are usually absent, boxed together so a node without them costs one pointer.
/// Flattened into its node on the wire: absent fields read as `None`, and `None` writes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rare<T>(Option<Box<T>>);

impl<T: Default + PartialEq> Rare<T> {
    /// `t`, kept only if it holds anything.
    pub fn of(t: T) -> Rare<T> {
        Rare((t != T::default()).then(|| Box::new(t)))
    }

    pub fn get(&self) -> Option<&T> {
        self.0.as_deref()
    }

    /// The fields, made present (empty) if they were not.
    pub fn get_mut(&mut self) -> &mut T {
        self.0.get_or_insert_with(Default::default)
    }
}

impl<T: Serialize> Serialize for Rare<T> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match &self.0 {
            Some(t) => t.serialize(ser),
            None => ser.serialize_map(Some(0))?.end(),
        }
    }
}

impl<'de, T: Deserialize<'de> + Default + PartialEq> Deserialize<'de> for Rare<T> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Rare<T>, D::Error> {
        let t = T::deserialize(de)?;
        Ok(Rare((t != T::default()).then(|| Box::new(t))))
    }
}

/// `health_status` of a WABA or a phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HealthStatus {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_sym"
    )]
    pub can_send_message: Option<Sym>,
    /// Packed ([`PackedList`]): read with `entities.iter()`.
    #[serde(default)]
    pub entities: PackedList<HealthEntity>,
    #[serde(flatten)]
    pub extra: RawFields,
}

/// A number's `throughput`: `{level}`, other fields kept as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Throughput {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_sym"
    )]
    pub level: Option<Sym>,
    #[serde(flatten)]
    pub extra: RawFields,
}

impl Throughput {
    pub fn level(level: &str) -> Throughput {
        Throughput {
            level: Some(Sym::new(level)),
            ..Throughput::default()
        }
    }
}

/// `throughput` as an object, or (read leniently) a bare value as its level.
fn throughput_of<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Throughput>, D::Error> {
    Ok(match Option::<Value>::deserialize(de)? {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => serde_json::from_value(v).ok(),
        Some(Value::String(s)) => Some(Throughput {
            level: Some(Sym::from(s)),
            ..Throughput::default()
        }),
        Some(other) => Some(Throughput {
            level: Some(Sym::from(other.to_string())),
            ..Throughput::default()
        }),
    })
}

/// A phone number of a WABA (reference §3.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PhoneNumber {
    #[serde(default, deserialize_with = "id_string")]
    pub id: CompactString,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub display_phone_number: Option<CompactString>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub verified_name: Option<CompactString>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_sym"
    )]
    pub quality_rating: Option<Sym>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_sym"
    )]
    pub status: Option<Sym>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_sym"
    )]
    pub code_verification_status: Option<Sym>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_sym"
    )]
    pub name_status: Option<Sym>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_sym"
    )]
    pub platform_type: Option<Sym>,
    /// `throughput` is `{level}`; read with [`throughput_level`](Self::throughput_level).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "throughput_of"
    )]
    pub throughput: Option<Throughput>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_of"
    )]
    pub health_status: Option<HealthStatus>,
    #[serde(flatten)]
    pub extra: RawFields,
}

impl PhoneNumber {
    pub fn throughput_level(&self) -> Option<&str> {
        self.throughput.as_ref()?.level.as_deref()
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
/// the `phone_numbers` expansion flattened to every number (further pages already read),
/// typed: what [`WabaNode`] packs, and what it reads back as (and writes out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct WabaFields {
    #[serde(default, deserialize_with = "id_string")]
    pub id: CompactString,
    #[serde(default, deserialize_with = "string_or_empty")]
    pub name: CompactString,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_sym"
    )]
    pub currency: Option<Sym>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_sym"
    )]
    pub account_review_status: Option<Sym>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_sym"
    )]
    pub business_verification_status: Option<Sym>,
    /// The funding source (credit line) attached; compared with our allocations (§4.6).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub primary_funding_id: Option<CompactString>,
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
    /// Packed ([`PackedList`]): read with `phone_numbers.iter()` (decodes each number).
    #[serde(default)]
    pub phone_numbers: PackedList<PhoneNumber>,
    /// The messaging limit tier (`TIER_250` … `TIER_UNLIMITED`, `UNTIERED`), as sent: typed
    /// because the list sorts by it and compares it between rounds.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_sym"
    )]
    pub whatsapp_business_manager_messaging_limit: Option<Sym>,
    /// Fields the list asks for that the console only shows (in the detail's "Other fields").
    /// Before `extra`: it takes its own keys, `extra` the rest.
    #[serde(flatten)]
    pub shown: ShownFields,
    /// Every other field Meta sent, verbatim (as JSON text).
    #[serde(flatten)]
    pub extra: RawFields,
}

/// A WABA as the book holds it, 100,000 of them all session: the id, the name and the owner
/// typed (every list, index, sort and the credit join read them), every other field packed in
/// one byte string (`graph::packed::pack_node`) and read through a getter — the funding id and
/// the creation time alone and first, the numbers' texts in place, the rest decoded one WABA
/// at a time. Reads back, and writes out, as the [`WabaFields`] it was made from.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct WabaNode {
    pub id: CompactString,
    /// Private: the numbers' verified names are packed after it (change it with
    /// [`update`](WabaNode::update)).
    name: CompactString,
    /// Typed: the credit join looks it up for every WABA, and sorts and filters its Not
    /// funded lane by its name. Private as the rest: the health entities name it by its place.
    owner_business_info: Option<BusinessRef>,
    /// Written once by [`WabaNode::new`]; its health entities name the WABA by "this node's
    /// id", so a changed `id` moves them with it.
    packed: Box<[u8]>,
    /// Set when this row of the list could not be read as a WABA, or its id is not a plain
    /// Graph id (its edges are then not read): the rest of the book stands.
    pub malformed: Option<Box<Malformed>>,
}

impl WabaNode {
    pub fn new(fields: WabaFields) -> WabaNode {
        WabaNode {
            packed: super::packed::pack_node(&fields),
            id: fields.id,
            name: fields.name,
            owner_business_info: fields.owner_business_info,
            malformed: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn parts(&self) -> Option<super::packed::NodeParts<'_>> {
        super::packed::NodeParts::read(&self.packed, &self.name)
    }

    /// Every field, unpacked (one WABA at a time: the detail, the snapshot).
    pub fn fields(&self) -> WabaFields {
        let mut fields = WabaFields {
            id: self.id.clone(),
            name: self.name.clone(),
            owner_business_info: self.owner_business_info.clone(),
            ..WabaFields::default()
        };
        if let Some(p) = self.parts() {
            p.fields_into(&mut fields);
        }
        fields
    }

    /// Change fields (unpacked, changed, packed again); `malformed` stays.
    pub fn update(&mut self, change: impl FnOnce(&mut WabaFields)) {
        let mut fields = self.fields();
        change(&mut fields);
        let malformed = self.malformed.take();
        *self = WabaNode {
            malformed,
            ..WabaNode::new(fields)
        };
    }

    /// Unix seconds (read alone, near the start: the list reads it for every row).
    pub fn creation_time(&self) -> Option<i64> {
        super::packed::node_creation_time(&self.packed)
    }

    /// `whatsapp_business_manager_messaging_limit`: the tier (`TIER_250` …
    /// `TIER_UNLIMITED`, `UNTIERED`), as sent.
    pub fn messaging_limit(&self) -> Option<Sym> {
        self.parts()?.messaging_limit.sym()
    }

    /// The funding source (credit line) attached, as sent; compared with our allocations
    /// (§4.6) through [`funding_id`](Self::funding_id).
    pub fn primary_funding_id(&self) -> Option<&str> {
        super::packed::node_funding_id(&self.packed)
    }

    /// `owner_business_info.id`.
    pub fn owner_business_id(&self) -> Option<&str> {
        Some(self.owner_business_info.as_ref()?.id.as_str())
    }

    /// `owner_business_info.name`.
    pub fn owner_business_name(&self) -> Option<&str> {
        self.owner_business_info.as_ref()?.name.as_deref()
    }

    pub fn owner_business_info(&self) -> Option<&BusinessRef> {
        self.owner_business_info.as_ref()
    }

    pub fn currency(&self) -> Option<Sym> {
        self.parts()?.currency.sym()
    }

    pub fn account_review_status(&self) -> Option<Sym> {
        self.parts()?.account_review_status.sym()
    }

    pub fn business_verification_status(&self) -> Option<Sym> {
        self.parts()?.business_verification_status.sym()
    }

    /// The numbers, packed where they lie: `.iter()` decodes each, `.texts()` reads their ids
    /// and names in place.
    pub fn phone_numbers(&self) -> PackedSlice<'_, PhoneNumber> {
        self.parts().map_or_else(PackedSlice::default, |p| p.phones)
    }

    pub fn health_status(&self) -> Option<HealthStatus> {
        self.parts()?
            .health_status(&self.id, self.owner_business_id())
    }

    /// `health_status.can_send_message` alone, its entities not read.
    pub fn health_value(&self) -> Option<Sym> {
        self.parts()?.health_value()?.sym()
    }

    /// The fields only shown in the detail.
    pub fn shown(&self) -> ShownFields {
        self.parts().map(|p| p.shown()).unwrap_or_default()
    }

    /// Every field the model does not name.
    pub fn extra(&self) -> RawFields {
        self.parts().map(|p| p.extra()).unwrap_or_default()
    }

    /// The bytes the packed fields take, for measuring.
    pub fn packed_len(&self) -> usize {
        self.packed.len()
    }

    /// Of [`packed_len`](Self::packed_len), the bytes of the phone numbers and of the health
    /// status, for measuring.
    pub fn packed_lists_len(&self) -> (usize, usize) {
        self.parts()
            .map_or((0, 0), |p| (p.phones.packed_len(), p.health_len()))
    }
}

impl From<WabaFields> for WabaNode {
    fn from(fields: WabaFields) -> WabaNode {
        WabaNode::new(fields)
    }
}

impl fmt::Debug for WabaNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WabaNode")
            .field("fields", &self.fields())
            .field("malformed", &self.malformed)
            .finish()
    }
}

impl Serialize for WabaNode {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        self.fields().serialize(ser)
    }
}

impl<'de> Deserialize<'de> for WabaNode {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<WabaNode, D::Error> {
        WabaFields::deserialize(de).map(WabaNode::new)
    }
}

/// The fields the list asks for that the console only shows (the detail's "Other fields"),
/// typed: an odd value is kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ShownFields {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_sym"
    )]
    pub timezone_id: Option<Sym>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub message_template_namespace: Option<CompactString>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_sym"
    )]
    pub ownership_type: Option<Sym>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_sym"
    )]
    pub country: Option<Sym>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_sym"
    )]
    pub status: Option<Sym>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_shared_with_partners: Option<Flag>,
}

/// A field Meta sends as a boolean; any other value is kept as sent (its JSON text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flag {
    Yes,
    No,
    Odd(Sym),
}

impl Flag {
    pub fn to_value(&self) -> Value {
        match self {
            Flag::Yes => Value::Bool(true),
            Flag::No => Value::Bool(false),
            Flag::Odd(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        }
    }
}

impl Serialize for Flag {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(ser)
    }
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Flag, D::Error> {
        Ok(match Value::deserialize(de)? {
            Value::Bool(true) => Flag::Yes,
            Value::Bool(false) => Flag::No,
            other => Flag::Odd(Sym::new(&other.to_string())),
        })
    }
}

impl Row for WabaNode {
    fn row_id(&self) -> &str {
        &self.id
    }
    fn set_row_id(&mut self, id: String) {
        self.id = id.into();
    }
    fn malformed(&self) -> Option<&Malformed> {
        self.malformed.as_deref()
    }
    fn set_malformed(&mut self, m: Malformed) {
        self.malformed = Some(Box::new(m));
    }
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
    pub extra: RawFields,
}

impl SubscribedApp {
    pub fn app_id(&self) -> Option<&str> {
        self.whatsapp_business_api_data
            .as_ref()
            .map(|a| a.id.as_str())
    }
}

/// A WABA with the per-WABA edges read beside it. `None` = could not be read this time.
/// Both edges read the same for thousands of WABAs (our app subscribed; the one solution
/// that onboarded them), so each distinct list is one shared copy ([`share_subscribed`],
/// [`share_solutions`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Waba {
    #[serde(flatten)]
    pub node: WabaNode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscribed_apps: Option<Arc<Vec<SubscribedApp>>>,
    /// The solutions that onboarded it (`GET /{waba-id}/solutions`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub solutions: Option<Arc<Vec<Arc<SolutionNode>>>>,
}

/// The most solutions, and the most distinct lists of each kind, the sharing tables keep:
/// a server sending ever new values cannot grow them; later ones are simply not shared.
const SHARED_MAX: usize = 4096;

/// One shared copy of `list` from `table` (added there if it is new and there is room).
fn share_list<T: PartialEq>(table: &Mutex<Vec<Arc<Vec<T>>>>, list: Vec<T>) -> Arc<Vec<T>> {
    let mut table = table
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(shared) = table.iter().find(|s| s[..] == list[..]) {
        return shared.clone();
    }
    let shared = Arc::new(list);
    // Lists are few (a handful of apps, a few hundred solutions): a short table, scanned.
    if table.len() < SHARED_MAX / 16 {
        table.push(shared.clone());
    }
    shared
}

/// The subscribed apps as read, shared with every WABA whose list reads the same.
pub fn share_subscribed(read: Vec<SubscribedApp>) -> Arc<Vec<SubscribedApp>> {
    static TABLE: Mutex<Vec<Arc<Vec<SubscribedApp>>>> = Mutex::new(Vec::new());
    share_list(&TABLE, read)
}

/// The same solution onboards thousands of WABAs: each WABA points at one shared copy of
/// what was read (a copy that reads differently replaces the shared one for later reads),
/// and at one shared list of them.
pub fn share_solutions(read: Vec<SolutionNode>) -> Arc<Vec<Arc<SolutionNode>>> {
    static TABLE: OnceLock<Mutex<HashMap<String, Arc<SolutionNode>>>> = OnceLock::new();
    static LISTS: Mutex<Vec<Arc<Vec<Arc<SolutionNode>>>>> = Mutex::new(Vec::new());
    let nodes = {
        let mut table = TABLE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        read.into_iter()
            .map(|node| match table.get(&node.id) {
                Some(shared) if **shared == node => shared.clone(),
                _ => {
                    let shared = Arc::new(node);
                    if table.len() < SHARED_MAX || table.contains_key(&shared.id) {
                        table.insert(shared.id.clone(), shared.clone());
                    }
                    shared
                }
            })
            .collect()
    };
    share_list(&LISTS, nodes)
}

/// Give back the spare capacity decoding left (a list of one grows to room for four): a book
/// of 100,000 WABAs is held for the whole session, so its slack is megabytes.
pub trait Compact {
    fn compact(&mut self);
}

impl<T: Compact> Compact for Vec<T> {
    fn compact(&mut self) {
        self.iter_mut().for_each(Compact::compact);
        self.shrink_to_fit();
    }
}

impl<T: Compact> Compact for Option<T> {
    fn compact(&mut self) {
        if let Some(t) = self {
            t.compact();
        }
    }
}

impl Compact for String {
    fn compact(&mut self) {
        self.shrink_to_fit();
    }
}

impl Compact for Value {
    fn compact(&mut self) {
        match self {
            Value::String(s) => s.shrink_to_fit(),
            Value::Array(a) => a.compact(),
            Value::Object(m) => m.compact(),
            _ => {}
        }
    }
}

impl Compact for Map<String, Value> {
    fn compact(&mut self) {
        if self.is_empty() {
            // An empty map that once had room still holds it.
            *self = Map::new();
            return;
        }
        self.values_mut().for_each(Compact::compact);
    }
}

impl Compact for RawFields {
    fn compact(&mut self) {}
}

impl Compact for HealthIssue {
    fn compact(&mut self) {
        self.extra.compact();
    }
}

impl Compact for HealthEntity {
    fn compact(&mut self) {
        if let Some(d) = self.details.0.as_deref_mut() {
            d.additional_info.compact();
            d.errors.compact();
        }
    }
}

impl Compact for HealthStatus {
    fn compact(&mut self) {
        self.extra.compact();
    }
}

impl Compact for PhoneNumber {
    fn compact(&mut self) {
        self.health_status.compact();
        self.extra.compact();
    }
}

impl Compact for WabaNode {
    /// Packed: nothing spare.
    fn compact(&mut self) {}
}

impl Compact for SubscribedApp {
    fn compact(&mut self) {
        self.extra.compact();
    }
}

impl Compact for SolutionNode {
    fn compact(&mut self) {
        self.owner_permissions.compact();
        if let Some(p) = &mut self.partners {
            p.shrink_to_fit();
        }
    }
}

impl WabaNode {
    /// The fields the console only lists ("Other fields" in the detail): the typed ones that
    /// are only shown, and every field the model does not name, by name.
    pub fn other_fields(&self) -> Map<String, Value> {
        other_fields(&self.shown(), &self.extra())
    }
}

/// The shown fields and the unnamed ones, by name.
fn other_fields(s: &ShownFields, extra: &RawFields) -> Map<String, Value> {
    let mut fields = extra.map();
    let text = |v: &str| Value::String(v.to_string());
    let shown = [
        ("timezone_id", s.timezone_id.as_deref().map(text)),
        (
            "message_template_namespace",
            s.message_template_namespace.as_deref().map(text),
        ),
        ("ownership_type", s.ownership_type.as_deref().map(text)),
        ("country", s.country.as_deref().map(text)),
        ("status", s.status.as_deref().map(text)),
        (
            "is_shared_with_partners",
            s.is_shared_with_partners.as_ref().map(Flag::to_value),
        ),
    ];
    for (name, value) in shown {
        if let Some(v) = value {
            fields.insert(name.to_string(), v);
        }
    }
    fields
}

impl WabaFields {
    /// As [`WabaNode::other_fields`].
    pub fn other_fields(&self) -> Map<String, Value> {
        other_fields(&self.shown, &self.extra)
    }
}

impl WabaNode {
    /// The attached funding source, if Meta sent a non-blank one: the one place that decides
    /// whether a WABA is funded at all.
    pub fn funding_id(&self) -> Option<&str> {
        self.primary_funding_id()
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

    pub fn phone(&self, id: &str) -> Option<PhoneNumber> {
        self.node.phone_numbers().iter().find(|p| p.id == id)
    }

    pub fn owner_name(&self) -> Option<&str> {
        let o = self.node.owner_business_info()?;
        o.name.as_deref().or(Some(o.id.as_str()))
    }
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

pub(crate) fn opt_string<'de, D: Deserializer<'de>, T: From<String>>(
    de: D,
) -> Result<Option<T>, D::Error> {
    Ok(match Option::<Value>::deserialize(de)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.into()),
        Some(Value::Number(n)) => Some(n.to_string().into()),
        Some(Value::Bool(b)) => Some(b.to_string().into()),
        Some(other) => Some(other.to_string().into()),
    })
}

pub(crate) fn opt_sym<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Sym>, D::Error> {
    Ok(opt_string::<D, String>(de)?.map(Sym::from))
}

pub(crate) fn string_or_empty<'de, D: Deserializer<'de>, T: From<String> + Default>(
    de: D,
) -> Result<T, D::Error> {
    Ok(opt_string(de)?.unwrap_or_default())
}

pub(crate) fn id_string<'de, D: Deserializer<'de>, T: From<String> + Default>(
    de: D,
) -> Result<T, D::Error> {
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

    #[test]
    fn repeated_short_values_share_one_copy_and_read_as_sent() {
        let a: PhoneNumber =
            serde_json::from_value(json!({"id": "1", "quality_rating": "GREEN", "status": 7}))
                .unwrap();
        let b: PhoneNumber =
            serde_json::from_value(json!({"id": "2", "quality_rating": "GREEN"})).unwrap();
        let (qa, qb) = (a.quality_rating.unwrap(), b.quality_rating.unwrap());
        assert_eq!(qa, "GREEN");
        assert!(Arc::ptr_eq(&qa.0, &qb.0), "one shared copy");
        assert_eq!(a.status.as_deref(), Some("7"), "odd types read as text");
        assert_eq!(serde_json::to_value(&qa).unwrap(), json!("GREEN"));
        assert_eq!(format!("{:?}", Some(qa)), "Some(\"GREEN\")");
        let app = |id: &str| SubscribedApp {
            whatsapp_business_api_data: Some(AppRef {
                id: id.into(),
                ..AppRef::default()
            }),
            ..SubscribedApp::default()
        };
        let (x, y) = (
            share_subscribed(vec![app("42")]),
            share_subscribed(vec![app("42")]),
        );
        assert!(Arc::ptr_eq(&x, &y), "one shared list");
        assert!(!Arc::ptr_eq(&x, &share_subscribed(vec![app("7")])));
        let long = "X".repeat(SYM_MAX_LEN + 1);
        assert!(
            !Arc::ptr_eq(&Sym::new(&long).0, &Sym::new(&long).0),
            "long ones not kept"
        );
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
            "is_shared_with_partners": "sometimes",
            "brand_new_field": {"x": 1}
        }))
        .unwrap();
        assert_eq!(w.id, "123");
        assert_eq!(w.currency().as_deref(), Some("7"));
        assert_eq!(w.creation_time(), Some(1_700_000_000));
        assert_eq!(w.health_status(), None);
        assert_eq!(w.phone_numbers().len(), 1);
        assert_eq!(
            w.phone_numbers().to_vec()[0].throughput_level(),
            Some("HIGH")
        );
        assert_eq!(w.shown().ownership_type.as_deref(), Some("CLIENT_OWNED"));
        assert_eq!(w.owner_business_id(), Some("9"));
        assert_eq!(w.owner_business_name(), Some("Acme Ltd"));
        assert_eq!(w.extra().get("brand_new_field"), Some(json!({"x": 1})));
        assert!(
            w.extra().get("ownership_type").is_none(),
            "kept once, packed"
        );
        let other = w.other_fields();
        assert_eq!(
            other["ownership_type"], "CLIENT_OWNED",
            "shown with the others"
        );
        assert_eq!(
            other["is_shared_with_partners"], "sometimes",
            "an odd value as sent"
        );
        assert_eq!(other["brand_new_field"], json!({"x": 1}));
        assert!(w.phone_numbers().to_vec()[0].extra.is_empty());
        let out = serde_json::to_value(&w).unwrap();
        assert_eq!(out["brand_new_field"], json!({"x": 1}));
        assert_eq!(out["is_shared_with_partners"], "sometimes");
        assert!(out["phone_numbers"].is_array(), "{out}");
        let shared: WabaNode =
            serde_json::from_value(json!({"id": "1", "is_shared_with_partners": false})).unwrap();
        assert_eq!(shared.shown().is_shared_with_partners, Some(Flag::No));
        // Every shown field, odd values too, reads back from its packed bytes.
        let all = ShownFields {
            timezone_id: Some("103".into()),
            message_template_namespace: Some("128e79bd9138d702_cc4e".into()),
            ownership_type: Some(Sym::new(&"O".repeat(300))),
            country: Some("BR".into()),
            status: Some("ACTIVE".into()),
            is_shared_with_partners: Some(Flag::Odd(Sym::new("[1]"))),
        };
        let node = WabaNode::new(WabaFields {
            shown: all.clone(),
            ..WabaFields::default()
        });
        assert_eq!(node.shown(), all);
        assert_eq!(
            WabaNode::new(WabaFields::default()).packed_len(),
            0,
            "nothing to pack: no bytes"
        );
        assert_eq!(
            serde_json::to_value(&shared).unwrap()["is_shared_with_partners"],
            false
        );
    }

    #[test]
    fn a_health_entity_keeps_its_rare_fields_boxed_and_writes_them_back() {
        let plain: HealthEntity = serde_json::from_value(
            json!({"entity_type": "WABA", "id": "1", "can_send_message": "AVAILABLE"}),
        )
        .unwrap();
        assert!(plain.details.get().is_none(), "nothing rare: nothing boxed");
        assert_eq!(
            serde_json::to_value(&plain).unwrap(),
            json!({"entity_type": "WABA", "id": "1", "can_send_message": "AVAILABLE"})
        );
        let sent = json!({
            "entity_type": "WABA", "id": 303, "can_send_message": "BLOCKED",
            "errors": [{"error_code": 141010, "error_description": "disabled", "x": 1}],
            "additional_info": ["review pending"],
            "brand_new": {"k": [1, 2]}
        });
        let blocked: HealthEntity = serde_json::from_value(sent.clone()).unwrap();
        assert_eq!(blocked.id, "303");
        assert_eq!(blocked.errors()[0].error_code, Some(141010));
        assert_eq!(blocked.additional_info(), ["review pending"]);
        assert_eq!(
            blocked.extra().unwrap().get("brand_new"),
            Some(json!({"k": [1, 2]}))
        );
        let mut back = sent;
        back["id"] = json!("303");
        assert_eq!(serde_json::to_value(&blocked).unwrap(), back);
        // The sizes a book of 100,000 pays per WABA (one pointer for a shared or rare part).
        assert_eq!(std::mem::size_of::<Option<Sym>>(), 8);
        assert_eq!(std::mem::size_of::<RawFields>(), 8);
        assert_eq!(std::mem::size_of::<HealthEntity>(), 48);
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
