//! A WABA's fields kept packed in one byte string ([`pack_node`]: all but its id, name and
//! owner), and the lists it carries in bulk — its phone numbers, the health entities —
//! packed inside it the same way, decoded when read. A book of 100,000 WABAs is held for the
//! whole session: typed, a 16-digit id takes 24 bytes and a status 8; packed, 9 and 1–2 (an id
//! of digits is its number; a shared value is its number in [`Sym`]'s table; a health entity
//! names its number, its WABA or the owner by their place, one byte; a display number is four
//! bits a character; a verified name is how much of the WABA's name it begins with, then the
//! rest). Reading builds the typed values: the pane derives what it sorts and filters by once,
//! when a WABA arrives, and draws decode only the rows on screen and the open detail; what the
//! hot paths read (the funding id, the creation time, the numbers' texts) is read alone or in
//! place.
//!
//! The bytes are only ever written by [`Pack::pack`] and [`pack_node`] in this process, so
//! reading them back cannot meet anything else; a list that does not read back whole yields
//! what did (never a panic).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use compact_str::{CompactString, ToCompactString};
use serde::{Deserialize, Deserializer, Serialize};

use super::waba_model::{
    EntityDetails, Flag, HealthEntity, HealthStatus, PhoneNumber, Rare, RawFields, ShownFields,
    Sym, Throughput, WabaFields,
};

/// Bytes being written.
#[derive(Default)]
pub struct Writer {
    bytes: Vec<u8>,
    /// Ids already known where these bytes are read (a number's own id for its health
    /// entities; the WABA's, its owner's and its numbers' for the WABA's): written as their
    /// place in this list.
    known: Vec<CompactString>,
    /// The WABA's name, which a number's verified name often begins with (or is): written
    /// as how much of it, then the rest.
    name: CompactString,
}

/// Bytes being read.
pub struct Reader<'a> {
    bytes: &'a [u8],
    /// The ids [`Writer::known`] held when these bytes were written.
    known: &'a [CompactString],
    /// The name [`Writer::name`] held.
    name: &'a str,
}

/// The characters a phone number is written with, four bits each.
const PHONE_CHARS: &[u8; 16] = b"0123456789 +-().";

impl Writer {
    fn varint(&mut self, mut n: u64) {
        loop {
            let low = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                self.bytes.push(low);
                return;
            }
            self.bytes.push(low | 0x80);
        }
    }

    fn str(&mut self, s: &str) {
        self.varint(s.len() as u64);
        self.bytes.extend_from_slice(s.as_bytes());
    }

    /// 0 = absent, else the length plus one, then the bytes.
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.varint(0),
            Some(s) => {
                self.varint(s.len() as u64 + 1);
                self.bytes.extend_from_slice(s.as_bytes());
            }
        }
    }

    /// A text that may begin with [`Writer::name`]: 0 = absent, n + 1 = its first n bytes
    /// are the name's, the rest follows.
    fn named_text(&mut self, s: Option<&str>) {
        let Some(s) = s else {
            self.varint(0);
            return;
        };
        let shared = s
            .char_indices()
            .zip(self.name.chars())
            .find(|((_, a), b)| a != b)
            .map_or(s.len().min(self.name.len()), |((at, _), _)| at);
        self.varint(shared as u64 + 1);
        self.str(&s[shared..]);
    }

    /// A phone number as people read it: 0 = absent, 2n + 2 = n characters of
    /// [`PHONE_CHARS`] follow, two a byte; 2n + 1 = n bytes of other text follow.
    fn phone_text(&mut self, s: Option<&str>) {
        let Some(s) = s else {
            self.varint(0);
            return;
        };
        let codes: Option<Vec<u8>> = s
            .bytes()
            .map(|b| PHONE_CHARS.iter().position(|&c| c == b).map(|k| k as u8))
            .collect();
        match codes {
            Some(codes) if !codes.is_empty() => {
                self.varint(2 * codes.len() as u64 + 2);
                for pair in codes.chunks(2) {
                    self.bytes
                        .push(pair[0] | pair.get(1).map_or(0, |low| low << 4));
                }
            }
            _ => {
                self.varint(2 * s.len() as u64 + 1);
                self.bytes.extend_from_slice(s.as_bytes());
            }
        }
    }

    /// An id: 0 = the number of a plain Graph id follows (digits with no leading zero that
    /// read back the same), 2k + 2 = the id known at place k ([`Writer::known`]: a health
    /// entity naming its number, its WABA, the owner), 2n + 1 = n bytes of text follow.
    fn id(&mut self, id: &str) {
        if let Some(k) = self.known.iter().position(|known| known == id) {
            self.varint(2 * k as u64 + 2);
        } else if let Some(n) = graph_number(id) {
            self.varint(0);
            self.varint(n);
        } else {
            self.varint(2 * id.len() as u64 + 1);
            self.bytes.extend_from_slice(id.as_bytes());
        }
    }

    /// 0 = absent, 1 = the text follows, k + 2 = value k of the shared table.
    fn sym(&mut self, s: Option<&Sym>) {
        match s {
            None => self.varint(0),
            Some(s) => match s.index() {
                Some(k) => self.varint(u64::from(k) + 2),
                None => {
                    self.varint(1);
                    self.str(s);
                }
            },
        }
    }

    fn raw(&mut self, r: &RawFields) {
        self.opt_str((!r.is_empty()).then(|| r.text()));
    }

    /// The count, then each item.
    fn list<T: Pack>(&mut self, items: &[T]) {
        self.varint(items.len() as u64);
        items.iter().for_each(|t| t.pack(self));
    }

    fn flag(&mut self, present: bool) {
        self.bytes.push(u8::from(present));
    }

    /// Bytes written apart (a nested list), after their length.
    fn nested(&mut self, bytes: &[u8]) {
        self.varint(bytes.len() as u64);
        self.bytes.extend_from_slice(bytes);
    }
}

/// A shared value as packed ([`Writer::sym`]), read without looking it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SymCode<'a> {
    Absent,
    Shared(u16),
    Text(&'a str),
}

impl SymCode<'_> {
    /// The value (`None` when absent, or a number the table does not hold).
    pub(crate) fn sym(self) -> Option<Sym> {
        match self {
            SymCode::Absent => None,
            SymCode::Shared(k) => Sym::at(k),
            SymCode::Text(t) => Some(Sym::new(t)),
        }
    }
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader {
            bytes,
            known: &[],
            name: "",
        }
    }

    /// A text written by [`Writer::named_text`].
    fn named_text(&mut self) -> Option<Option<Cow<'a, str>>> {
        let shared = match usize::try_from(self.varint()?).ok()? {
            0 => return Some(None),
            n => n - 1,
        };
        let rest = self.str()?;
        Some(Some(if shared == 0 {
            Cow::Borrowed(rest)
        } else {
            let mut text = String::with_capacity(shared + rest.len());
            text.push_str(self.name.get(..shared)?);
            text.push_str(rest);
            Cow::Owned(text)
        }))
    }

    /// A text written by [`Writer::phone_text`] (inline: a phone number is short).
    fn phone_text(&mut self) -> Option<Option<CompactString>> {
        let tag = usize::try_from(self.varint()?).ok()?;
        if tag == 0 {
            return Some(None);
        }
        let len = (tag - 1) / 2;
        Some(Some(if tag % 2 == 1 {
            CompactString::from(std::str::from_utf8(self.bytes(len)?).ok()?)
        } else {
            let packed = self.bytes(len.div_ceil(2))?;
            (0..len)
                .map(|k| {
                    let code = (packed[k / 2] >> (4 * (k % 2))) & 0xf;
                    char::from(PHONE_CHARS[usize::from(code)])
                })
                .collect()
        }))
    }

    /// The items of a list written by [`Writer::list`], each read as it is reached.
    fn list<T: Pack>(mut self) -> impl Iterator<Item = T> + 'a {
        let n = self.varint().unwrap_or(0);
        (0..n).map_while(move |_| T::unpack(&mut self))
    }

    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(b)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    fn bytes(&mut self, len: usize) -> Option<&'a [u8]> {
        if len > self.bytes.len() {
            return None;
        }
        let (head, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Some(head)
    }

    fn str(&mut self) -> Option<&'a str> {
        let len = usize::try_from(self.varint()?).ok()?;
        std::str::from_utf8(self.bytes(len)?).ok()
    }

    fn opt_str(&mut self) -> Option<Option<&'a str>> {
        match usize::try_from(self.varint()?).ok()? {
            0 => Some(None),
            n => Some(Some(std::str::from_utf8(self.bytes(n - 1)?).ok()?)),
        }
    }

    /// An id written by [`Writer::id`] (inline: a Graph id is at most 20 bytes).
    fn id(&mut self) -> Option<CompactString> {
        Some(match self.varint()? {
            0 => self.varint()?.to_compact_string(),
            tag if tag % 2 == 0 => self.known.get(usize::try_from(tag / 2 - 1).ok()?)?.clone(),
            tag => {
                let len = usize::try_from(tag / 2).ok()?;
                CompactString::from(std::str::from_utf8(self.bytes(len)?).ok()?)
            }
        })
    }

    fn compact(&mut self) -> Option<Option<CompactString>> {
        Some(self.opt_str()?.map(CompactString::from))
    }

    fn sym(&mut self) -> Option<Option<Sym>> {
        match self.sym_code()? {
            SymCode::Absent => Some(None),
            code => Some(Some(code.sym()?)),
        }
    }

    /// A shared value as written, not yet looked up in the table.
    fn sym_code(&mut self) -> Option<SymCode<'a>> {
        Some(match self.varint()? {
            0 => SymCode::Absent,
            1 => SymCode::Text(self.str()?),
            k => SymCode::Shared(u16::try_from(k - 2).ok()?),
        })
    }

    /// A varint-long run of bytes (a nested list), as written by [`Writer::nested`].
    fn nested(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.varint()?).ok()?;
        self.bytes(len)
    }

    fn raw(&mut self) -> Option<RawFields> {
        Some(match self.opt_str()? {
            None => RawFields::default(),
            Some(text) => RawFields::from_text(text),
        })
    }

    fn flag(&mut self) -> Option<bool> {
        Some(self.byte()? != 0)
    }

    /// Past a shared value without looking it up.
    fn skip_sym(&mut self) -> Option<()> {
        if self.varint()? == 1 {
            self.str()?;
        }
        Some(())
    }

    /// Past the rest of a packed phone number, after its three texts.
    fn skip_phone_rest(&mut self) -> Option<()> {
        for _ in 0..5 {
            self.skip_sym()?;
        }
        if self.flag()? {
            self.skip_sym()?;
            self.opt_str()?;
        }
        if self.flag()? {
            self.skip_sym()?;
            let len = usize::try_from(self.varint()?).ok()?;
            self.bytes(len)?;
            self.opt_str()?;
        }
        self.opt_str()?;
        Some(())
    }
}

/// A Graph id kept as its number: digits only, no leading zero, and within `u64` (so that it
/// reads back as the very same text). Anything else is kept as text.
fn graph_number(id: &str) -> Option<u64> {
    let b = id.as_bytes();
    let plain = !b.is_empty()
        && b.len() <= 19
        && b.iter().all(u8::is_ascii_digit)
        && (b[0] != b'0' || b.len() == 1);
    plain.then(|| id.parse().ok()).flatten()
}

/// The searchable texts of a packed phone number: the id and the number (inline, built from
/// their packed forms) and the verified name (borrowed from the packed bytes unless it begins
/// with the WABA's name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneTexts<'a> {
    pub id: CompactString,
    pub display_phone_number: Option<CompactString>,
    pub verified_name: Option<Cow<'a, str>>,
}

impl PackedList<PhoneNumber> {
    /// See [`PackedSlice::texts`].
    pub fn texts(&self) -> impl Iterator<Item = PhoneTexts<'_>> + '_ {
        self.as_slice().texts()
    }
}

impl<'a> PackedSlice<'a, PhoneNumber> {
    /// Each number's id, display number and verified name, read in place: the filter scans a
    /// book of 100,000 with these, so nothing is built or copied.
    pub fn texts(self) -> impl Iterator<Item = PhoneTexts<'a>> + 'a {
        let mut r = self.reader();
        let n = r.varint().unwrap_or(0);
        (0..n).map_while(move |_| {
            let texts = PhoneTexts {
                id: r.id()?,
                display_phone_number: r.phone_text()?,
                verified_name: r.named_text()?,
            };
            r.skip_phone_rest()?;
            Some(texts)
        })
    }
}

/// A value that packs into bytes and reads back equal.
pub trait Pack: Sized {
    fn pack(&self, w: &mut Writer);
    fn unpack(r: &mut Reader) -> Option<Self>;
}

impl Pack for HealthEntity {
    fn pack(&self, w: &mut Writer) {
        w.sym(self.entity_type.as_ref());
        w.id(&self.id);
        w.sym(self.can_send_message.as_ref());
        // Rare (a blocked or limited entity): as its JSON text.
        let details = self
            .details
            .get()
            .and_then(|d| serde_json::to_string(d).ok());
        w.opt_str(details.as_deref());
    }

    fn unpack(r: &mut Reader) -> Option<HealthEntity> {
        let entity_type = r.sym()?;
        let id = r.id()?;
        let can_send_message = r.sym()?;
        let details = match r.opt_str()? {
            None => Rare::default(),
            Some(text) => Rare::of(serde_json::from_str::<EntityDetails>(text).ok()?),
        };
        Some(HealthEntity {
            entity_type,
            id,
            can_send_message,
            details,
        })
    }
}

impl Pack for PhoneNumber {
    fn pack(&self, w: &mut Writer) {
        w.id(&self.id);
        w.phone_text(self.display_phone_number.as_deref());
        w.named_text(self.verified_name.as_deref());
        for s in [
            &self.quality_rating,
            &self.status,
            &self.code_verification_status,
            &self.name_status,
            &self.platform_type,
        ] {
            w.sym(s.as_ref());
        }
        w.flag(self.throughput.is_some());
        if let Some(t) = &self.throughput {
            w.sym(t.level.as_ref());
            w.raw(&t.extra);
        }
        w.flag(self.health_status.is_some());
        if let Some(h) = &self.health_status {
            w.sym(h.can_send_message.as_ref());
            // Its entities again, naming this number by "the same id".
            let mut inner = Writer {
                known: vec![self.id.clone()],
                ..Writer::default()
            };
            inner.list(&h.entities.to_vec());
            w.nested(&inner.bytes);
            w.raw(&h.extra);
        }
        w.raw(&self.extra);
    }

    fn unpack(r: &mut Reader) -> Option<PhoneNumber> {
        let id = r.id()?;
        let display_phone_number = r.phone_text()?;
        let verified_name = r.named_text()?.map(CompactString::from);
        let quality_rating = r.sym()?;
        let status = r.sym()?;
        let code_verification_status = r.sym()?;
        let name_status = r.sym()?;
        let platform_type = r.sym()?;
        let throughput = if r.flag()? {
            Some(Throughput {
                level: r.sym()?,
                extra: r.raw()?,
            })
        } else {
            None
        };
        let health_status = if r.flag()? {
            let can_send_message = r.sym()?;
            let inner = Reader {
                bytes: r.nested()?,
                known: std::slice::from_ref(&id),
                name: "",
            };
            let entities: PackedList<HealthEntity> = inner.list().collect();
            Some(HealthStatus {
                can_send_message,
                entities,
                extra: r.raw()?,
            })
        } else {
            None
        };
        Some(PhoneNumber {
            id,
            display_phone_number,
            verified_name,
            quality_rating,
            status,
            code_verification_status,
            name_status,
            platform_type,
            throughput,
            health_status,
            extra: r.raw()?,
        })
    }
}

impl Pack for ShownFields {
    fn pack(&self, w: &mut Writer) {
        w.sym(self.timezone_id.as_ref());
        w.opt_str(self.message_template_namespace.as_deref());
        w.sym(self.ownership_type.as_ref());
        w.sym(self.country.as_ref());
        w.sym(self.status.as_ref());
        // 0 absent, 1 true, 2 false, 3 an odd value (its text) follows.
        match &self.is_shared_with_partners {
            None => w.varint(0),
            Some(Flag::Yes) => w.varint(1),
            Some(Flag::No) => w.varint(2),
            Some(Flag::Odd(text)) => {
                w.varint(3);
                w.sym(Some(text));
            }
        }
    }

    fn unpack(r: &mut Reader) -> Option<ShownFields> {
        Some(ShownFields {
            timezone_id: r.sym()?,
            message_template_namespace: r.compact()?,
            ownership_type: r.sym()?,
            country: r.sym()?,
            status: r.sym()?,
            is_shared_with_partners: match r.varint()? {
                0 => None,
                1 => Some(Flag::Yes),
                2 => Some(Flag::No),
                3 => Some(Flag::Odd(r.sym()??)),
                _ => return None,
            },
        })
    }
}

/// A WABA's fields besides those the node keeps typed (id, name, owner), in this order (the
/// ones read most first): the primary funding id (text, read in place), the creation time (a
/// flag, then the zigzag varint), messaging limit, currency, review and verification status, the phone numbers (a nested
/// [`PackedList`]), the health status (0 absent, else its length plus one: its value, its
/// entities naming the WABA, its owner and its numbers by their place, its other fields), the
/// fields only shown ([`ShownFields`]) and every other field (JSON text). A WABA with none of
/// them packs to no bytes at all.
pub(crate) fn pack_node(f: &WabaFields) -> Box<[u8]> {
    let empty = WabaFields {
        id: f.id.clone(),
        name: f.name.clone(),
        owner_business_info: f.owner_business_info.clone(),
        ..WabaFields::default()
    };
    if *f == empty {
        return Box::default();
    }
    let mut w = Writer::default();
    w.opt_str(f.primary_funding_id.as_deref());
    w.flag(f.creation_time.is_some());
    if let Some(t) = f.creation_time {
        w.varint(((t << 1) ^ (t >> 63)) as u64);
    }
    w.sym(f.whatsapp_business_manager_messaging_limit.as_ref());
    w.sym(f.currency.as_ref());
    w.sym(f.account_review_status.as_ref());
    w.sym(f.business_verification_status.as_ref());
    // The numbers again, their verified names after the WABA's name.
    let mut phones = Writer {
        name: f.name.clone(),
        ..Writer::default()
    };
    if !f.phone_numbers.is_empty() {
        phones.list(&f.phone_numbers.to_vec());
    }
    w.nested(&phones.bytes);
    match &f.health_status {
        None => w.varint(0),
        Some(h) => {
            let mut inner = Writer {
                known: health_known(
                    &f.id,
                    f.owner_business_info.as_ref().map(|o| o.id.as_str()),
                    f.phone_numbers.as_slice(),
                ),
                ..Writer::default()
            };
            inner.sym(h.can_send_message.as_ref());
            inner.list(&h.entities.to_vec());
            inner.raw(&h.extra);
            w.varint(inner.bytes.len() as u64 + 1);
            w.bytes.extend_from_slice(&inner.bytes);
        }
    }
    f.shown.pack(&mut w);
    w.raw(&f.extra);
    w.bytes.into_boxed_slice()
}

/// The ids a WABA's health entities name by their place: the WABA's, its owner's (empty when
/// there is none) and each number's.
fn health_known(
    id: &str,
    owner: Option<&str>,
    phones: PackedSlice<'_, PhoneNumber>,
) -> Vec<CompactString> {
    let mut known = vec![
        CompactString::from(id),
        CompactString::from(owner.unwrap_or("")),
    ];
    known.extend(phones.texts().map(|p| p.id));
    known
}

/// A packed WABA's fields read in place ([`pack_node`]): texts borrowed, shared values not
/// yet looked up, lists not yet unpacked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NodeParts<'a> {
    pub primary_funding_id: Option<&'a str>,
    pub creation_time: Option<i64>,
    pub messaging_limit: SymCode<'a>,
    pub currency: SymCode<'a>,
    pub account_review_status: SymCode<'a>,
    pub business_verification_status: SymCode<'a>,
    pub phones: PackedSlice<'a, PhoneNumber>,
    health: Option<&'a [u8]>,
    /// The shown fields, then the other fields.
    rest: &'a [u8],
}

impl<'a> NodeParts<'a> {
    /// `None` for no bytes (a WABA with only an id and a name) or bytes that do not read.
    pub(crate) fn read(bytes: &'a [u8], name: &'a str) -> Option<NodeParts<'a>> {
        let mut r = Reader::new(bytes);
        let primary_funding_id = r.opt_str()?;
        let creation_time = creation_time(&mut r)?;
        let messaging_limit = r.sym_code()?;
        let currency = r.sym_code()?;
        let account_review_status = r.sym_code()?;
        let business_verification_status = r.sym_code()?;
        let phones = PackedSlice {
            name,
            ..PackedSlice::new(r.nested()?)
        };
        let health = match usize::try_from(r.varint()?).ok()? {
            0 => None,
            n => Some(r.bytes(n - 1)?),
        };
        Some(NodeParts {
            primary_funding_id,
            creation_time,
            messaging_limit,
            currency,
            account_review_status,
            business_verification_status,
            phones,
            health,
            rest: r.bytes,
        })
    }

    /// The health status; `id`, `owner`: the WABA's and its owner's (its entities may name
    /// them).
    pub(crate) fn health_status(&self, id: &str, owner: Option<&str>) -> Option<HealthStatus> {
        let known = health_known(id, owner, self.phones);
        let mut r = Reader {
            bytes: self.health?,
            known: &known,
            name: "",
        };
        let can_send_message = r.sym()?;
        let n = r.varint()?;
        let mut items = Vec::with_capacity(usize::try_from(n).ok()?.min(256));
        for _ in 0..n {
            items.push(HealthEntity::unpack(&mut r)?);
        }
        let extra = r.raw()?;
        Some(HealthStatus {
            can_send_message,
            entities: PackedList::from(items),
            extra,
        })
    }

    /// The health status's own value alone (what the list derives health from).
    pub(crate) fn health_value(&self) -> Option<SymCode<'a>> {
        Reader::new(self.health?).sym_code()
    }

    pub(crate) fn health_len(&self) -> usize {
        self.health.map_or(0, <[u8]>::len)
    }

    pub(crate) fn shown(&self) -> ShownFields {
        ShownFields::unpack(&mut Reader::new(self.rest)).unwrap_or_default()
    }

    pub(crate) fn extra(&self) -> RawFields {
        let mut r = Reader::new(self.rest);
        ShownFields::unpack(&mut r)
            .and_then(|_| r.raw())
            .unwrap_or_default()
    }

    /// The packed fields, typed, into `f` (which holds the typed ones).
    pub(crate) fn fields_into(&self, f: &mut WabaFields) {
        let owner = f.owner_business_info.as_ref().map(|o| o.id.as_str());
        f.health_status = self.health_status(&f.id, owner);
        f.currency = self.currency.sym();
        f.account_review_status = self.account_review_status.sym();
        f.business_verification_status = self.business_verification_status.sym();
        f.creation_time = self.creation_time;
        f.primary_funding_id = self.primary_funding_id.map(CompactString::from);
        f.phone_numbers = self.phones.to_list();
        f.whatsapp_business_manager_messaging_limit = self.messaging_limit.sym();
        f.shown = self.shown();
        f.extra = self.extra();
    }
}

/// The creation time as [`pack_node`] writes it (first: the pane reads it for every row).
fn creation_time(r: &mut Reader) -> Option<Option<i64>> {
    Some(if r.flag()? {
        let z = r.varint()?;
        Some(((z >> 1) as i64) ^ -((z & 1) as i64))
    } else {
        None
    })
}

/// The primary funding id of a packed WABA, read alone (first: the credit join reads it for
/// every WABA).
pub(crate) fn node_funding_id(bytes: &[u8]) -> Option<&str> {
    Reader::new(bytes).opt_str().flatten()
}

/// The creation time of a packed WABA, read alone (second: the list reads it for every row).
pub(crate) fn node_creation_time(bytes: &[u8]) -> Option<i64> {
    let mut r = Reader::new(bytes);
    r.opt_str()?;
    creation_time(&mut r).flatten()
}

/// A list kept packed: the count, then each item. Empty = no bytes at all.
pub struct PackedList<T> {
    bytes: Option<Box<[u8]>>,
    item: PhantomData<fn() -> T>,
}

/// A packed list read where it lies (inside a packed WABA, or a [`PackedList`]'s bytes).
pub struct PackedSlice<'a, T> {
    bytes: &'a [u8],
    /// The WABA's name its texts may begin with ([`Writer::name`]).
    name: &'a str,
    item: PhantomData<fn() -> T>,
}

impl<T> Clone for PackedSlice<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for PackedSlice<'_, T> {}

impl<T: Pack + fmt::Debug> fmt::Debug for PackedSlice<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T> Default for PackedSlice<'_, T> {
    fn default() -> Self {
        PackedSlice::new(&[])
    }
}

impl<'a, T> PackedSlice<'a, T> {
    fn new(bytes: &'a [u8]) -> PackedSlice<'a, T> {
        PackedSlice {
            bytes,
            name: "",
            item: PhantomData,
        }
    }

    fn reader(self) -> Reader<'a> {
        Reader {
            name: self.name,
            ..Reader::new(self.bytes)
        }
    }

    /// How many items the list holds.
    pub fn len(self) -> usize {
        Reader::new(self.bytes)
            .varint()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The bytes held, for measuring.
    pub fn packed_len(self) -> usize {
        self.bytes.len()
    }
}

impl<'a, T: Pack> PackedSlice<'a, T> {
    /// The items, each read as it is reached.
    pub fn iter(self) -> impl Iterator<Item = T> + 'a {
        self.reader().list()
    }

    pub fn get(self, i: usize) -> Option<T> {
        self.iter().nth(i)
    }

    pub fn to_vec(self) -> Vec<T> {
        self.iter().collect()
    }

    /// The items as a list of their own (packed again if they name the WABA's name).
    pub fn to_list(self) -> PackedList<T> {
        if self.name.is_empty() {
            PackedList::from_bytes(self.bytes)
        } else {
            self.iter().collect()
        }
    }
}

impl<T> PackedList<T> {
    fn from_bytes(bytes: &[u8]) -> PackedList<T> {
        PackedList {
            bytes: (!bytes.is_empty()).then(|| bytes.into()),
            item: PhantomData,
        }
    }

    fn bytes(&self) -> &[u8] {
        self.bytes.as_deref().unwrap_or_default()
    }

    /// The list read where it lies.
    pub fn as_slice(&self) -> PackedSlice<'_, T> {
        PackedSlice::new(self.bytes())
    }

    /// How many items the list holds.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes held, for measuring.
    pub fn packed_len(&self) -> usize {
        self.bytes().len()
    }
}

impl<T: Pack> PackedList<T> {
    /// The items, each read as it is reached.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.as_slice().iter()
    }

    pub fn get(&self, i: usize) -> Option<T> {
        self.iter().nth(i)
    }

    pub fn to_vec(&self) -> Vec<T> {
        self.iter().collect()
    }

    /// Change the items (decoded, changed, packed again).
    pub fn update(&mut self, change: impl FnOnce(&mut Vec<T>)) {
        let mut items = self.to_vec();
        change(&mut items);
        *self = PackedList::from(items);
    }
}

impl<T: Pack> From<Vec<T>> for PackedList<T> {
    fn from(items: Vec<T>) -> PackedList<T> {
        items.into_iter().collect()
    }
}

impl<T: Pack> FromIterator<T> for PackedList<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> PackedList<T> {
        let items: Vec<T> = items.into_iter().collect();
        if items.is_empty() {
            return PackedList::default();
        }
        let mut w = Writer::default();
        w.list(&items);
        PackedList::from_bytes(&w.bytes)
    }
}

impl<T> Default for PackedList<T> {
    fn default() -> PackedList<T> {
        PackedList {
            bytes: None,
            item: PhantomData,
        }
    }
}

impl<T> Clone for PackedList<T> {
    fn clone(&self) -> PackedList<T> {
        PackedList {
            bytes: self.bytes.clone(),
            item: PhantomData,
        }
    }
}

/// Packing is deterministic: equal items give equal bytes.
impl<T> PartialEq for PackedList<T> {
    fn eq(&self, other: &PackedList<T>) -> bool {
        self.bytes() == other.bytes()
    }
}

impl<T> Eq for PackedList<T> {}

impl<T: Pack + fmt::Debug> fmt::Debug for PackedList<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: Pack + Serialize> Serialize for PackedList<T> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_seq(self.iter())
    }
}

/// A list, or a Graph edge `{data: [...]}`; items that do not read as `T` are skipped (as
/// `waba_model`'s lenient readers do).
impl<'de, T: Pack + serde::de::DeserializeOwned> Deserialize<'de> for PackedList<T> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<PackedList<T>, D::Error> {
        Ok(PackedList::from(super::waba_model::list_of::<D, T>(de)?))
    }
}

#[cfg(test)]
mod tests {
    use super::super::waba_model::{Waba, WabaNode};
    use super::*;
    use serde_json::json;

    fn phone(id: &str) -> PhoneNumber {
        serde_json::from_value(json!({
            "id": id, "display_phone_number": "+52 710 227 7509", "verified_name": "Halcyon Bakery",
            "quality_rating": "GREEN", "status": "CONNECTED", "code_verification_status": "VERIFIED",
            "name_status": "APPROVED", "platform_type": "CLOUD_API", "throughput": {"level": "STANDARD"},
            "health_status": {"can_send_message": "LIMITED", "entities": [
                {"entity_type": "PHONE_NUMBER", "id": id, "can_send_message": "LIMITED",
                 "additional_info": ["Pending review"], "errors": [{"error_code": 141006, "x": [1]}]}
            ], "odd": true},
            "new_field": {"a": "b"}
        }))
        .unwrap()
    }

    #[test]
    fn phones_read_back_equal_and_smaller_than_typed() {
        let phones = vec![
            phone("3200000000000131"),
            PhoneNumber::default(),
            phone("7"),
        ];
        let packed = PackedList::from(phones.clone());
        assert_eq!(packed.len(), 3);
        assert_eq!(packed.to_vec(), phones);
        assert_eq!(packed.get(2), Some(phones[2].clone()));
        assert_eq!(
            serde_json::to_value(&packed).unwrap(),
            serde_json::to_value(&phones).unwrap()
        );
        let plain: PhoneNumber = serde_json::from_value(json!({
            "id": "3200000000000131", "display_phone_number": "+52 710 227 7509",
            "verified_name": "Halcyon Bakery", "quality_rating": "GREEN", "status": "CONNECTED",
            "code_verification_status": "VERIFIED", "name_status": "APPROVED",
            "platform_type": "CLOUD_API", "throughput": {"level": "STANDARD"},
            "health_status": {"can_send_message": "AVAILABLE", "entities": [
                {"entity_type": "PHONE_NUMBER", "id": "3200000000000131", "can_send_message": "AVAILABLE"}]}
        }))
        .unwrap();
        let texts: Vec<PhoneTexts> = packed.texts().collect();
        assert_eq!(texts.len(), 3, "read in place, each number in turn");
        for (t, p) in texts.iter().zip(&phones) {
            assert_eq!(t.id, p.id);
            assert_eq!(t.display_phone_number, p.display_phone_number);
            assert_eq!(t.verified_name.as_deref(), p.verified_name.as_deref());
        }
        let one = PackedList::from(vec![plain.clone()]);
        assert_eq!(one.to_vec(), vec![plain]);
        assert!(one.packed_len() < 100, "{} bytes", one.packed_len());
        // Ids as numbers, the number's own health entity as "the same id": 24 bytes fewer
        // than ids as text. (Measured without shared values: how those pack depends on what
        // the process has seen.)
        let bare = |id: &str, entity: &str| PhoneNumber {
            id: id.into(),
            display_phone_number: Some("+52 710 227 7509".into()),
            health_status: Some(HealthStatus {
                entities: PackedList::from(vec![HealthEntity {
                    id: entity.into(),
                    ..HealthEntity::default()
                }]),
                ..HealthStatus::default()
            }),
            ..PhoneNumber::default()
        };
        let packed_len = |p: PhoneNumber| PackedList::from(vec![p]).packed_len();
        let as_numbers = packed_len(bare("3200000000000131", "3200000000000131"));
        let as_text = packed_len(bare("x200000000000131", "y200000000000131"));
        assert_eq!(as_text - as_numbers, 24, "{as_numbers} and {as_text} bytes");
        assert!(PackedList::<PhoneNumber>::default().is_empty());
        assert_eq!(PackedList::<PhoneNumber>::from(vec![]).packed_len(), 0);
    }

    #[test]
    fn values_beyond_the_shared_table_and_odd_text_survive() {
        let mut p = phone("1");
        p.status = Some(Sym::new(&"S".repeat(200)));
        p.verified_name = Some("名前 \u{202e} \n".into());
        p.throughput = Some(Throughput::default());
        let packed = PackedList::from(vec![p.clone()]);
        assert_eq!(packed.to_vec(), vec![p]);
    }

    #[test]
    fn ids_that_are_not_plain_numbers_read_back_as_sent() {
        let odd = [
            "",
            "0",
            "00",
            "0123",
            "18446744073709551615",
            "18446744073709551616",
            "9999999999999999999",
            "-5",
            "+1",
            " 7",
            "3100000000000043",
            "١٢٣",
            "7\n",
        ];
        let entities: Vec<HealthEntity> = odd
            .iter()
            .map(|id| HealthEntity {
                id: (*id).into(),
                ..HealthEntity::default()
            })
            .collect();
        assert_eq!(PackedList::from(entities.clone()).to_vec(), entities);
        let mut p = phone("0042");
        p.health_status.as_mut().unwrap().entities = PackedList::from(entities.clone());
        let back = PackedList::from(vec![p.clone()]);
        assert_eq!(back.to_vec(), vec![p]);
        assert_eq!(back.texts().next().unwrap().id, "0042");
    }

    proptest::proptest! {
        #[test]
        fn any_phone_list_reads_back_equal(
            ids in proptest::collection::vec("[0-9]{1,20}|\\PC{0,30}", 0..5),
            statuses in proptest::collection::vec(proptest::option::of("[A-Z_]{0,12}|\\PC{0,60}"), 5),
        ) {
            let phones: Vec<PhoneNumber> = ids
                .iter()
                .map(|id| PhoneNumber {
                    id: id.as_str().into(),
                    display_phone_number: statuses[0].as_deref().map(Into::into),
                    quality_rating: statuses[1].as_deref().map(Sym::new),
                    status: statuses[2].as_deref().map(Sym::new),
                    platform_type: statuses[3].as_deref().map(Sym::new),
                    health_status: statuses[4].as_ref().map(|s| HealthStatus {
                        can_send_message: Some(Sym::new(s)),
                        entities: PackedList::from(vec![HealthEntity {
                            id: id.as_str().into(),
                            entity_type: Some(Sym::new(s)),
                            ..HealthEntity::default()
                        }]),
                        ..HealthStatus::default()
                    }),
                    ..PhoneNumber::default()
                })
                .collect();
            let packed = PackedList::from(phones.clone());
            let ids: Vec<CompactString> = packed.texts().map(|t| t.id).collect();
            let want: Vec<CompactString> = phones.iter().map(|p| p.id.clone()).collect();
            proptest::prop_assert_eq!(ids, want);
            proptest::prop_assert_eq!(packed.to_vec(), phones);
        }
    }

    /// A WABA with every field given, odd values in each (as Meta might send them).
    fn odd_waba(name: &str, text: &str, number: &str, when: i64) -> WabaFields {
        use super::super::waba_model::BusinessRef;
        let phones: Vec<PhoneNumber> = [("3200000000000131", 0usize), ("0042", 1), (text, 2)]
            .into_iter()
            .map(|(id, k)| PhoneNumber {
                id: id.into(),
                display_phone_number: Some(if k == 1 { text } else { number }.into()),
                // The WABA's name, a longer one, a text of its own.
                verified_name: Some(match k {
                    0 => name.into(),
                    1 => format!("{name} {text}").into(),
                    _ => text.into(),
                }),
                status: Some(Sym::new(text)),
                health_status: Some(HealthStatus {
                    can_send_message: Some(Sym::new("LIMITED")),
                    entities: PackedList::from(vec![HealthEntity {
                        id: id.into(),
                        ..HealthEntity::default()
                    }]),
                    ..HealthStatus::default()
                }),
                ..PhoneNumber::default()
            })
            .collect();
        let entity = |entity_type: &str, id: &str| HealthEntity {
            entity_type: Some(Sym::new(entity_type)),
            id: id.into(),
            can_send_message: Some(Sym::new(text)),
            ..HealthEntity::default()
        };
        WabaFields {
            id: "3100000000000007".into(),
            name: name.into(),
            currency: Some(Sym::new(text)),
            account_review_status: Some(Sym::new(&text.repeat(3))),
            business_verification_status: None,
            primary_funding_id: Some(text.into()),
            owner_business_info: Some(BusinessRef {
                id: "3300000000000007".into(),
                name: Some(format!("{name} Ltd").into()),
            }),
            creation_time: Some(when),
            health_status: Some(HealthStatus {
                can_send_message: Some(Sym::new(text)),
                entities: PackedList::from(vec![
                    entity("WABA", "3100000000000007"),
                    entity("PHONE_NUMBER", "0042"),
                    entity("PHONE_NUMBER", text),
                    entity("BUSINESS", "3300000000000007"),
                    entity("APP", "1234567890"),
                    entity("APP", ""),
                ]),
                extra: RawFields::from_text(r#"{"odd":[1,"\u001b"]}"#),
            }),
            phone_numbers: PackedList::from(phones),
            whatsapp_business_manager_messaging_limit: Some(Sym::new("TIER_1K")),
            shown: ShownFields {
                timezone_id: Some(Sym::new(text)),
                message_template_namespace: Some(text.into()),
                is_shared_with_partners: Some(Flag::Odd(Sym::new("\"sometimes\""))),
                ..ShownFields::default()
            },
            extra: RawFields::from_text(r#"{"brand_new":{"x":[1,2]}}"#),
        }
    }

    /// What the node reads as, getter by getter, is the typed value it was made from.
    fn assert_reads_as(node: &WabaNode, f: &WabaFields) {
        assert_eq!(node.fields(), *f);
        assert_eq!(node.creation_time(), f.creation_time);
        assert_eq!(node.primary_funding_id(), f.primary_funding_id.as_deref());
        assert_eq!(
            node.messaging_limit(),
            f.whatsapp_business_manager_messaging_limit
        );
        assert_eq!(node.currency(), f.currency);
        assert_eq!(node.health_status(), f.health_status);
        assert_eq!(
            node.health_value(),
            f.health_status
                .as_ref()
                .and_then(|h| h.can_send_message.clone())
        );
        assert_eq!(node.phone_numbers().to_vec(), f.phone_numbers.to_vec());
        let texts: Vec<PhoneTexts> = node.phone_numbers().texts().collect();
        assert_eq!(texts.len(), f.phone_numbers.len());
        for (t, p) in texts.iter().zip(f.phone_numbers.iter()) {
            assert_eq!(t.id, p.id);
            assert_eq!(t.display_phone_number, p.display_phone_number);
            assert_eq!(t.verified_name.as_deref(), p.verified_name.as_deref());
        }
        assert_eq!(node.shown(), f.shown);
        assert_eq!(node.extra(), f.extra);
        // Written out byte for byte as the typed node.
        assert_eq!(
            serde_json::to_string(node).unwrap(),
            serde_json::to_string(f).unwrap()
        );
    }

    #[test]
    fn a_packed_waba_reads_back_as_sent_and_is_small() {
        let f = odd_waba(
            "Φούρνος ΑΘΗΝΆΣ",
            "名前 \u{202e}\n",
            "+52 (710) 227-7509.",
            i64::MIN,
        );
        let node = WabaNode::new(f.clone());
        assert_reads_as(&node, &f);
        // Read back from JSON as well: the same node.
        let json = serde_json::to_value(&node).unwrap();
        assert_eq!(serde_json::from_value::<WabaNode>(json).unwrap(), node);
        for when in [i64::MAX, -1, 0, 1_700_000_000] {
            let f = odd_waba("Acme", "x", "12", when);
            assert_reads_as(&WabaNode::new(f.clone()), &f);
        }
        // Huge texts (a name, every odd field, a number of 100,000 digits) and empty ones.
        let huge = "Ω9".repeat(50_000);
        let f = odd_waba(&huge, &huge, &"5".repeat(100_000), 7);
        assert_reads_as(&WabaNode::new(f.clone()), &f);
        let f = odd_waba("", "", "", 7);
        assert_reads_as(&WabaNode::new(f.clone()), &f);
        // The guard: the value every list shares stays this size (the rest is packed).
        assert!(
            std::mem::size_of::<WabaNode>() <= 120,
            "{}",
            std::mem::size_of::<WabaNode>()
        );
        assert!(
            std::mem::size_of::<Waba>() <= 136,
            "{}",
            std::mem::size_of::<Waba>()
        );
        // A usual WABA: its numbers' names after the WABA's, their ids and display numbers as
        // numbers, its health entities by their place.
        let usual = odd_waba("Harborview Dental", "CONNECTED", "+1 415 555 0142", 0);
        let json = serde_json::to_string(&usual).unwrap().len();
        let packed = WabaNode::new(usual).packed_len();
        assert!(packed * 5 < json, "{packed} bytes packed, {json} as JSON");
    }

    proptest::proptest! {
        #[test]
        fn any_waba_reads_back_as_sent(
            name in "\\PC{0,40}",
            text in "[0-9]{1,20}|[A-Z_]{0,12}|\\PC{0,60}",
            number in "[0-9 +().-]{0,24}|\\PC{0,24}",
            when in proptest::num::i64::ANY,
        ) {
            let f = odd_waba(&name, &text, &number, when);
            let node = WabaNode::new(f.clone());
            proptest::prop_assert_eq!(node.fields(), f.clone());
            proptest::prop_assert_eq!(
                serde_json::to_string(&node).unwrap(),
                serde_json::to_string(&f).unwrap()
            );
            let texts: Vec<Option<String>> = node
                .phone_numbers()
                .texts()
                .map(|t| t.verified_name.map(|v| v.into_owned()))
                .collect();
            let want: Vec<Option<String>> = f
                .phone_numbers
                .iter()
                .map(|p| p.verified_name.map(String::from))
                .collect();
            proptest::prop_assert_eq!(texts, want);
        }
    }
}
