//! The WABAs pane's state: the client WABAs with what we derive from them (health, checklist,
//! why one needs attention), the lane, sort and filter that choose the visible rows, the
//! selection, the open detail, and the "changed since you looked" marks.

use compact_str::CompactString;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use hashbrown::HashTable;
use memchr::memmem::Finder;

use tui_input::Input;

use crate::app::msg::{Failure, ReadStamp, WabaList, WabaPage, WabaRoundCost};
use crate::domain::onboarding::{Health, Onboarding, OnboardingRules, worst_quality};
use crate::graph::waba_model::{PhoneNumber, Sym, Waba};

use crate::app::keymap::Command;
use crate::app::model::{Model, PinField};
use crate::app::msg::{Effect, Target};
use crate::app::pipeline::confirm;

/// The lanes across the top of the pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WabaLane {
    /// Not healthy, or stuck somewhere in onboarding.
    #[default]
    Attention,
    Blocked,
    All,
}

impl WabaLane {
    pub const ALL: [WabaLane; 3] = [WabaLane::Attention, WabaLane::Blocked, WabaLane::All];

    pub fn title(self) -> &'static str {
        match self {
            WabaLane::Attention => "Needs attention",
            WabaLane::Blocked => "Blocked",
            WabaLane::All => "All",
        }
    }

    pub fn contains(self, row: &WabaRow) -> bool {
        match self {
            WabaLane::Attention => row.needs_attention(),
            WabaLane::Blocked => row.health == Health::Blocked,
            WabaLane::All => true,
        }
    }

    pub(crate) fn index(self) -> usize {
        WabaLane::ALL.iter().position(|l| *l == self).unwrap_or(0)
    }

    pub fn next(self) -> WabaLane {
        crate::app::list::cycle(&WabaLane::ALL, self, 1)
    }

    pub fn prev(self) -> WabaLane {
        crate::app::list::cycle(&WabaLane::ALL, self, -1)
    }
}

/// The order of the rows; `o` cycles through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Worst health first, then the most onboarding steps missing, then name.
    #[default]
    Health,
    /// Newest first (onboarding age), unknown creation time last.
    Age,
    Name,
    /// Lowest messaging limit tier first (unknown tiers last), then health.
    Tier,
}

impl SortKey {
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Health => SortKey::Age,
            SortKey::Age => SortKey::Name,
            SortKey::Name => SortKey::Tier,
            SortKey::Tier => SortKey::Health,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Health => "health",
            SortKey::Age => "onboarding age (newest first)",
            SortKey::Name => "name",
            SortKey::Tier => "messaging limit (lowest first)",
        }
    }

    /// For the lanes line, where room is short.
    pub fn short_label(self) -> &'static str {
        match self {
            SortKey::Health => "health",
            SortKey::Age => "newest",
            SortKey::Name => "name",
            SortKey::Tier => "limit",
        }
    }
}

/// What changed about a WABA since the console started, until the user has looked at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Not in the first refresh: onboarded (or shared with us) since.
    New,
    /// Its health got worse; it was this before.
    HealthWorse { was: Health },
}

/// One WABA with what the pane derives from it, computed once when it arrives (the filter and
/// the sort read the pane's search text, not the WABA, so a key costs no lowercasing). Held
/// for every WABA of the book, so it stays small: no copy of a string the WABA has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WabaRow {
    /// Shared with the poller's memory of the book: a row is a few derived fields beside it.
    pub waba: Arc<Waba>,
    /// The read that established what the row shows: a read that started earlier does not
    /// overwrite it.
    pub read: ReadStamp,
    pub health: Health,
    pub onboarding: Onboarding,
    /// Our partner kind when the row was derived (a Tech Provider owns no credit).
    tech_provider: bool,
    /// The messaging limit tier it had before it dropped (kept while the tier stays low; a
    /// tier that rises again clears it).
    pub tier_dropped_from: Option<Sym>,
    /// The worst quality rating among its numbers, worked out with the row: every frame asks
    /// for it (the attention marker, the Phones column) and the numbers are packed.
    worst_quality: WorstQuality,
}

/// The worst quality rating among a WABA's numbers: a documented rating, or another value
/// (read again from the numbers when asked: rare, and kept as sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WorstQuality {
    None,
    Green,
    Yellow,
    Red,
    Other,
}

impl WorstQuality {
    fn of(waba: &Waba) -> WorstQuality {
        let phones = waba.node.phone_numbers().to_vec();
        match crate::domain::onboarding::worst_quality(&phones).as_deref() {
            None => WorstQuality::None,
            Some("GREEN") => WorstQuality::Green,
            Some("YELLOW") => WorstQuality::Yellow,
            Some("RED") => WorstQuality::Red,
            Some(_) => WorstQuality::Other,
        }
    }
}

impl WabaRow {
    pub fn new(waba: Arc<Waba>, rules: &OnboardingRules) -> WabaRow {
        WabaRow {
            read: ReadStamp::default(),
            tech_provider: rules.partner_kind
                == Some(crate::domain::partner::PartnerKind::TechProvider),
            onboarding: Onboarding::derive(&waba, rules),
            health: Health::of_waba(&waba),
            worst_quality: WorstQuality::of(&waba),
            waba,
            tier_dropped_from: None,
        }
    }

    /// The messaging limit tier (`whatsapp_business_manager_messaging_limit`), as sent.
    pub fn tier(&self) -> Option<Sym> {
        crate::domain::onboarding::messaging_limit(&self.waba)
    }

    /// Take over what the previous version of this WABA knew about its tier: a drop since
    /// then is noted, a drop noted before stays while the tier does not rise.
    pub fn note_tier_since(&mut self, before: &WabaRow) {
        use crate::domain::onboarding::tier_dropped;
        let (Some(now), Some(was)) = (self.tier(), before.tier()) else {
            // Not sent this time (or before): keep what was known.
            self.tier_dropped_from = before.tier_dropped_from.clone();
            return;
        };
        self.tier_dropped_from = if tier_dropped(&was, &now) {
            Some(was)
        } else if now == was {
            before.tier_dropped_from.clone()
        } else {
            None
        };
    }

    pub fn id(&self) -> &str {
        self.waba.id()
    }

    /// How many numbers the WABA has (read from the packed list, nothing unpacked).
    pub fn phone_count(&self) -> usize {
        self.waba.node.phone_numbers().len()
    }

    /// The WABA's numbers (unpacked: call once per use, not per number).
    pub fn phones(&self) -> Vec<PhoneNumber> {
        self.waba.node.phone_numbers().to_vec()
    }

    /// The worst quality rating among the numbers, as sent, if any number has one.
    pub fn worst_quality(&self) -> Option<Cow<'static, str>> {
        match self.worst_quality {
            WorstQuality::None => None,
            WorstQuality::Green => Some(Cow::Borrowed("GREEN")),
            WorstQuality::Yellow => Some(Cow::Borrowed("YELLOW")),
            WorstQuality::Red => Some(Cow::Borrowed("RED")),
            WorstQuality::Other => worst_quality(&self.phones()).map(|q| Cow::Owned(q.to_string())),
        }
    }

    /// Why the WABA needs someone to look at it, in words; empty when it does not.
    /// Unknown checklist steps (edges that could not be read) are not reasons by themselves.
    pub fn attention_reasons(&self) -> Vec<String> {
        let mut out = vec![];
        match &self.health {
            Health::Available => {}
            Health::Blocked => out.push("blocked".into()),
            Health::Limited => out.push("limited".into()),
            Health::Other(raw) => out.push(format!("health {raw}")),
            Health::Missing => out.push("no health status".into()),
        }
        if self.onboarding.webhooks_subscribed == Some(false) {
            out.push("webhooks not subscribed".into());
        }
        if self.onboarding.credit_shared == Some(false) {
            // A Tech Provider owns no credit: only a WABA nobody funds is a reason.
            out.push(if self.tech_provider {
                "not funded".into()
            } else if self.waba.node.funding_id().is_some() {
                "funding not from our credit lines".into()
            } else {
                "no credit line".into()
            });
        }
        let phones = self.phones();
        let unregistered = phones.iter().filter(|p| !p.is_connected()).count();
        if phones.is_empty() {
            out.push("no phone number".into());
        } else if unregistered > 0 {
            out.push(format!(
                "{unregistered} of {} numbers not registered",
                phones.len()
            ));
        }
        if self.worst_quality == WorstQuality::Red {
            out.push("quality RED".into());
        }
        if let Some(was) = &self.tier_dropped_from {
            out.push(format!(
                "messaging limit dropped from {was} to {}",
                self.tier().as_deref().unwrap_or("?")
            ));
        }
        out
    }

    pub fn needs_attention(&self) -> bool {
        self.health != Health::Available
            || self.onboarding.stuck()
            || self.worst_quality == WorstQuality::Red
            || self.tier_dropped_from.is_some()
    }

    /// How many checklist steps are known to be missing.
    fn missing_steps(&self) -> usize {
        self.onboarding
            .steps()
            .iter()
            .filter(|s| **s == Some(false))
            .count()
    }
}

/// The worded fields the filter searches besides the name, the health and the labels: the
/// owner business's name and each number's verified name. A needle matches a WABA when one
/// searched field (or the name, the health's label, a label, an id or a number) contains it,
/// case-insensitively.
fn worded_fields(w: &Waba) -> impl Iterator<Item = Cow<'_, str>> {
    let n = &w.node;
    n.owner_business_name()
        .map(Cow::Borrowed)
        .into_iter()
        .chain(n.phone_numbers().texts().filter_map(|p| p.verified_name))
}

/// A WABA's labels: its currency, review status and business verification status. Meta sends
/// a few values of each, so rows share them as lines of [`Labels`].
fn label_fields(w: &Waba) -> [Option<Sym>; 3] {
    let n = &w.node;
    [
        n.currency(),
        n.account_review_status(),
        n.business_verification_status(),
    ]
}

/// The searched ids and phone numbers: the WABA's id, its owner's, and each number's id and
/// display number.
fn number_fields(w: &Waba) -> impl Iterator<Item = CompactString> + '_ {
    // Inline strings: an id or a number is at most 24 bytes, so none of this allocates.
    let n = &w.node;
    [
        Some(CompactString::from(n.id.as_str())),
        n.owner_business_id().map(CompactString::from),
    ]
    .into_iter()
    .chain(
        n.phone_numbers()
            .texts()
            .flat_map(|p| [Some(p.id), p.display_phone_number]),
    )
    .flatten()
}

/// Ids and phone numbers are kept four bits a character: the digits are 0–9, these are 10–14,
/// and [`FIELD_END`] closes each field (no needle holds it, so none spans two fields). A field
/// with any other character (a `.`, a letter) is kept in the row's text instead.
const NUMBER_PUNCTUATION: [u8; 5] = [b' ', b'+', b'-', b'(', b')'];
const FIELD_END: u8 = 15;

fn nibble(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        _ => NUMBER_PUNCTUATION
            .iter()
            .position(|&p| p == b)
            .map(|k| 10 + k as u8),
    }
}

/// Whether `s` can be kept four bits a character.
fn packable(s: &str) -> bool {
    s.bytes().all(|b| nibble(b).is_some())
}

/// Write `fields` four bits a character, each closed by [`FIELD_END`], after their length in
/// bytes (a varint).
fn push_numbers(out: &mut Vec<u8>, fields: &[&str]) {
    let halves: usize = fields.iter().map(|f| f.len() + 1).sum();
    push_varint(out, halves.div_ceil(2));
    let mut high = None;
    let nibbles = fields.iter().flat_map(|f| {
        f.bytes()
            .map(|b| nibble(b).unwrap_or(FIELD_END))
            .chain([FIELD_END])
    });
    for n in nibbles {
        match high.take() {
            None => high = Some(n),
            Some(h) => out.push(h << 4 | n),
        }
    }
    if let Some(h) = high {
        out.push(h << 4 | FIELD_END);
    }
}

fn push_varint(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

/// A varint at the start of `bytes`: its value and how many bytes it took.
fn read_varint(bytes: &[u8]) -> (usize, usize) {
    let mut n = 0usize;
    for (k, &b) in bytes.iter().enumerate().take(9) {
        n |= usize::from(b & 0x7f) << (7 * k);
        if b & 0x80 == 0 {
            return (n, k + 1);
        }
    }
    (0, bytes.len())
}

/// A needle made of id and number characters, to be found among four-bit characters. Where it
/// starts on a byte it is whole bytes and maybe a last half; where it starts mid-byte, a first
/// half, whole bytes and maybe a last half. A needle of one or two characters is looked for
/// at every place instead.
struct NumberNeedle {
    nibbles: Vec<u8>,
    on_byte: Aligned,
    mid_byte: Aligned,
}

/// The needle at one alignment: whole bytes found by memmem, the halves around them checked.
struct Aligned {
    head: Option<u8>,
    middle: Finder<'static>,
    tail: Option<u8>,
}

impl Aligned {
    fn new(head: Option<u8>, rest: &[u8]) -> Aligned {
        let pairs: Vec<u8> = rest.chunks_exact(2).map(|p| p[0] << 4 | p[1]).collect();
        Aligned {
            head,
            middle: Finder::new(&pairs).into_owned(),
            tail: (rest.len() % 2 == 1).then(|| rest[rest.len() - 1]),
        }
    }

    fn found_in(&self, hay: &[u8]) -> bool {
        let len = self.middle.needle().len();
        let mut from = usize::from(self.head.is_some());
        while let Some(at) = hay.get(from..).and_then(|rest| self.middle.find(rest)) {
            let p = from + at;
            let head = self.head.is_none_or(|h| hay[p - 1] & 0xf == h);
            let tail = self
                .tail
                .is_none_or(|t| hay.get(p + len).is_some_and(|&b| b >> 4 == t));
            if head && tail {
                return true;
            }
            from = p + 1;
        }
        false
    }
}

impl NumberNeedle {
    /// `None` when the needle has a character no kept id or number has.
    fn new(needle: &str) -> Option<NumberNeedle> {
        let nibbles: Vec<u8> = needle.bytes().map(nibble).collect::<Option<_>>()?;
        let (&first, rest) = nibbles.split_first()?;
        Some(NumberNeedle {
            on_byte: Aligned::new(None, &nibbles),
            mid_byte: Aligned::new(Some(first), rest),
            nibbles,
        })
    }

    fn found_in(&self, hay: &[u8]) -> bool {
        // Folds without an early exit over a row's few dozen bytes: the compiler can vectorise
        // them.
        match *self.nibbles.as_slice() {
            [d] => hay
                .iter()
                .fold(false, |hit, &b| hit | (b >> 4 == d) | (b & 0xf == d)),
            [a, b] => {
                hay.contains(&(a << 4 | b))
                    || hay
                        .iter()
                        .zip(hay.iter().skip(1))
                        .fold(false, |hit, (x, y)| hit | ((x & 0xf == a) & (y >> 4 == b)))
            }
            _ => self.on_byte.found_in(hay) || self.mid_byte.found_in(hay),
        }
    }
}

/// The distinct label lines of the rows (currency, review status, verification status,
/// lowercased, one per line): Meta sends a few values of each, so a row holds the number of
/// its line instead of the words, and a keystroke looks at each line once. Line 0 is empty:
/// that of a row whose labels are in its text (once the table is full).
#[derive(Debug, Clone, Default)]
struct Labels {
    lines: Vec<Box<str>>,
    codes: HashMap<Box<str>, u16>,
    scratch: String,
}

/// The most label lines shared: ever new values cannot grow the table without bound.
const LABEL_LINES: usize = 4096;

impl Labels {
    /// The line of `w`'s labels, added if new; `None` when the table is full.
    fn code(&mut self, w: &Waba) -> Option<u16> {
        if self.lines.is_empty() {
            self.lines.push("".into());
        }
        self.scratch.clear();
        for (k, field) in label_fields(w).into_iter().enumerate() {
            if k > 0 {
                self.scratch.push('\n');
            }
            self.scratch
                .push_str(&lowercase(field.as_deref().unwrap_or("")));
        }
        if let Some(&code) = self.codes.get(self.scratch.as_str()) {
            return Some(code);
        }
        if self.lines.len() >= LABEL_LINES {
            return None;
        }
        let code = self.lines.len() as u16;
        let line: Box<str> = self.scratch.as_str().into();
        self.lines.push(line.clone());
        self.codes.insert(line, code);
        Some(code)
    }

    fn bytes(&self) -> usize {
        let text: usize = self.lines.iter().map(|l| 2 * l.len()).sum();
        self.lines.capacity() * std::mem::size_of::<Box<str>>()
            + self.codes.capacity() * (std::mem::size_of::<(Box<str>, u16)>() + 1)
            + self.scratch.capacity()
            + text
    }
}

/// Where a row lies in [`SearchText::bytes`], how long its name is, and its label line.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    start: u32,
    end: u32,
    /// The lowercased name's length in bytes (the name sort key is at most 64 KiB of it).
    name_len: u16,
    labels: u16,
}

/// Per row, what the filter searches, all rows in one buffer (dense to scan, no allocation per
/// row). A row is its ids and phone numbers made of digits and punctuation, four bits a
/// character after their length (a varint); then its lowercased text: the name first (it is
/// also the name sort key), then each searched field not already in the text (a field inside
/// another matches whatever the other matches), one per line, or continuing the last line
/// when it begins with it. A number inside another is kept once too. The labels are a line of
/// the shared [`Labels`]; the health's label is found through its kind (`health_code`),
/// except an undocumented one, which is in the text.
#[derive(Debug, Clone, Default)]
struct SearchText {
    bytes: Vec<u8>,
    spans: Vec<Span>,
    /// Bytes no span points at any more (rows replaced in place).
    garbage: usize,
    labels: Labels,
}

impl SearchText {
    fn with_capacity(rows: usize, bytes: usize, labels: Labels) -> SearchText {
        SearchText {
            bytes: Vec::with_capacity(bytes),
            spans: Vec::with_capacity(rows),
            garbage: 0,
            labels,
        }
    }

    /// The text is written: give back what the buffer grew beyond it (held all session).
    fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.spans.shrink_to_fit();
    }

    /// Row `i`'s ids and numbers (four bits a character) and its text.
    fn parts(&self, i: usize) -> (&[u8], &[u8]) {
        let s = self.spans[i];
        let row = self
            .bytes
            .get(s.start as usize..s.end as usize)
            .unwrap_or_default();
        let (len, head) = read_varint(row);
        row[head..].split_at(len.min(row.len() - head))
    }

    fn name_key(&self, i: usize) -> &[u8] {
        let (_, text) = self.parts(i);
        &text[..usize::from(self.spans[i].name_len).min(text.len())]
    }

    /// Write a row at the end of the buffer. Offsets are `u32`: a book's search text stays far
    /// below 4 GB (about 100 bytes a WABA).
    fn write(&mut self, w: &Waba, health: &Health) -> Span {
        let start = self.bytes.len();
        let mut numbers: Vec<CompactString> = vec![];
        let mut unpackable: Vec<CompactString> = vec![];
        for field in number_fields(w).filter(|f| !f.is_empty()) {
            if !packable(&field) {
                unpackable.push(field);
            } else if !numbers.iter().any(|kept| kept.contains(field.as_str())) {
                numbers.push(field);
            }
        }
        let numbers: Vec<&str> = numbers.iter().map(CompactString::as_str).collect();
        push_numbers(&mut self.bytes, &numbers);
        let text_start = self.bytes.len();
        self.bytes
            .extend_from_slice(lowercase(w.node.name()).as_bytes());
        let name_len = (self.bytes.len() - text_start).min(usize::from(u16::MAX)) as u16;
        let mut last_line = text_start;
        if let Health::Other(raw) = health {
            self.bytes.push(b'\n');
            last_line = self.bytes.len();
            self.bytes.extend_from_slice(lowercase(raw).as_bytes());
        }
        let labels = self.labels.code(w);
        let unshared = if labels.is_none() {
            label_fields(w)
        } else {
            [None, None, None]
        };
        let fields = unshared
            .iter()
            .flatten()
            .map(|s| Cow::Borrowed(s.as_str()))
            .chain(worded_fields(w));
        for field in fields.chain(unpackable.iter().map(|f| Cow::Borrowed(f.as_str()))) {
            let lower = lowercase(&field);
            let lower = lower.as_bytes();
            if lower.is_empty() || memchr::memmem::find(&self.bytes[text_start..], lower).is_some()
            {
                continue;
            }
            // A field that begins with the last line (an owner "Acme Ltd" after the name
            // "Acme") continues it: the line is then that field, which holds the other.
            if let Some(rest) = lower.strip_prefix(&self.bytes[last_line..]) {
                self.bytes.extend_from_slice(rest);
            } else {
                self.bytes.push(b'\n');
                last_line = self.bytes.len();
                self.bytes.extend_from_slice(lower);
            }
        }
        Span {
            start: start as u32,
            end: self.bytes.len() as u32,
            name_len,
            labels: labels.unwrap_or(0),
        }
    }

    /// Copy a row from another buffer that shares these labels (a row kept by a new list).
    fn copy(&mut self, from: &SearchText, i: usize) -> Span {
        let s = from.spans[i];
        let start = self.bytes.len() as u32;
        self.bytes
            .extend_from_slice(&from.bytes[s.start as usize..s.end as usize]);
        Span {
            start,
            end: self.bytes.len() as u32,
            ..s
        }
    }

    fn push(&mut self, w: &Waba, health: &Health) {
        let span = self.write(w, health);
        self.spans.push(span);
    }

    /// Row `i`'s WABA changed: its new row goes at the end, the old one is left behind until
    /// the left-behind bytes outweigh the rest, then the buffer is written again.
    fn replace(&mut self, i: usize, w: &Waba, health: &Health) {
        let old = self.spans[i];
        self.garbage += (old.end - old.start) as usize;
        self.spans[i] = self.write(w, health);
        if self.garbage > self.bytes.len() / 2 {
            let mut compact = SearchText::with_capacity(
                self.spans.len(),
                self.bytes.len() - self.garbage,
                std::mem::take(&mut self.labels),
            );
            for k in 0..self.spans.len() {
                let span = compact.copy(self, k);
                compact.spans.push(span);
            }
            *self = compact;
        }
    }

    /// The bytes of the ids and numbers (with their lengths), and of the rest.
    fn memory(&self) -> (usize, usize) {
        let numbers: usize = (0..self.spans.len())
            .map(|i| {
                let s = self.spans[i];
                (s.end - s.start) as usize - self.parts(i).1.len()
            })
            .sum();
        let rest = self.bytes.capacity().saturating_sub(numbers)
            + self.spans.capacity() * std::mem::size_of::<Span>()
            + self.labels.bytes();
        (numbers, rest)
    }
}

fn lowercase(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        s.to_lowercase().into()
    } else {
        s.into()
    }
}

/// A row's health, in three bits beside its lane bits: the filter finds a health label
/// without reading the row.
fn health_code(h: &Health) -> u8 {
    match h {
        Health::Available => 0,
        Health::Limited => 1,
        Health::Blocked => 2,
        Health::Missing => 3,
        // Its label is in the search text.
        Health::Other(_) => 4,
    }
}

const HEALTH_SHIFT: u8 = 3;

/// One filter needle, prepared once for a scan of many rows.
struct Matcher<'a> {
    /// One searcher for the whole scan (SIMD), not one per row.
    finder: Finder<'a>,
    /// Per health code, whether its label contains the needle.
    health: [bool; 5],
    /// Per label line, whether it contains the needle.
    labels: Vec<bool>,
    /// The needle as four-bit characters, if ids and numbers can hold it.
    numbers: Option<NumberNeedle>,
}

impl<'a> Matcher<'a> {
    fn new(needle: &'a str, labels: &Labels) -> Matcher<'a> {
        let label = |h: Health| h.label().to_lowercase().contains(needle);
        let finder = Finder::new(needle.as_bytes());
        Matcher {
            health: [
                label(Health::Available),
                label(Health::Limited),
                label(Health::Blocked),
                label(Health::Missing),
                false,
            ],
            labels: labels
                .lines
                .iter()
                .map(|l| !needle.is_empty() && finder.find(l.as_bytes()).is_some())
                .collect(),
            numbers: NumberNeedle::new(needle),
            finder,
        }
    }
}

/// What the visible rows depend on: when it is the same, the rows are too.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ViewKey {
    version: u64,
    lane: WabaLane,
    sort: SortKey,
    reverse: bool,
    needle: String,
}

/// The visible rows (indices into `rows`, in order) and the lane counts, derived when the data
/// or the query changes, never while drawing.
#[derive(Debug, Clone, Default)]
struct Derived {
    key: Option<ViewKey>,
    visible: std::sync::Arc<Vec<u32>>,
    /// Every row in the sort order, and the (version, sort) it was sorted for: lanes and
    /// filters are scans of this, never a sort.
    sorted: Option<(u64, SortKey, bool, std::sync::Arc<Vec<u32>>)>,
    counts_version: Option<u64>,
    counts: [usize; 3],
    /// The results of the shorter queries that led to this one (same data and order), so a
    /// Backspace takes the earlier result instead of scanning the book again.
    earlier: Vec<(ViewKey, std::sync::Arc<Vec<u32>>)>,
}

/// How many earlier results a filter keeps (one per letter typed).
const EARLIER_RESULTS: usize = 16;

/// What the pane holds beside the shared WABAs, in bytes, by part (what `memory` counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PaneMemory {
    /// The rows (`WabaRow`: the shared WABA, its read, health, checklist, tier drop).
    pub rows: usize,
    /// The filter's text, each row's place in it and the shared label lines.
    pub search: usize,
    /// The ids and phone numbers the filter searches, four bits a character.
    pub numbers: usize,
    /// The index by id and the ids of departed WABAs.
    pub index: usize,
    /// Lane bits, sorted creation times, the sorted order and the visible rows.
    pub derived: usize,
}

impl PaneMemory {
    pub fn total(&self) -> usize {
        self.rows + self.search + self.numbers + self.index + self.derived
    }
}

/// How far the list of a round in progress is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loading {
    pub started: ReadStamp,
    /// Rows of the list read so far.
    pub listed: usize,
    /// How many the last whole list had; `None` on the first read.
    pub expected: Option<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct WabasPane {
    /// Every WABA from the last good refresh, in Meta's order, then those a round in progress
    /// added.
    pub rows: Vec<WabaRow>,
    /// Whether rows are shown yet (a first page, or a whole list, arrived).
    pub loaded: bool,
    /// Whether a whole list has arrived: the baseline the "new" marks compare with.
    pub complete_once: bool,
    /// A round whose pages are arriving: how far its list is.
    pub loading: Option<Loading>,
    /// What the WABA rounds cost in calls.
    pub cost: Option<WabaRoundCost>,
    /// No business id is set, so nothing is polled; the pane says which setting to give.
    pub not_configured: bool,
    pub lane: WabaLane,
    pub sort: SortKey,
    /// `O`: the chosen order, reversed.
    pub reverse: bool,
    pub filter: Input,
    pub filter_editing: bool,
    /// Index into `visible()`.
    pub selected: usize,
    /// The first visible row (see `app::list::follow`).
    pub offset: usize,
    /// The WABA whose detail is open, by id: it stays open when an action moves the WABA out
    /// of the lane (e.g. its checklist turned complete).
    pub open: Option<String>,
    /// Index into the open WABA's phone numbers (the one `R` registers).
    pub phone_selected: usize,
    /// Lines the lower part of the open detail is scrolled by.
    pub detail_scroll: u16,
    /// WABA ids seen in earlier refreshes and not listed now (those listed are known too:
    /// every row's id is). Only departed WABAs cost a copy of their id.
    departed: HashSet<Box<str>>,
    /// Marks shown until the row is selected or opened.
    pub changes: HashMap<String, Change>,
    /// From the last refresh: edges of some WABAs could not be read.
    pub extras_failed: Option<(usize, Failure)>,
    /// What the checklist compares against (our app; later our credit allocations).
    pub rules: OnboardingRules,
    /// When the last whole list shown was read.
    pub list_read: ReadStamp,
    /// Bumped on every change to `rows`.
    version: u64,
    /// Row position by WABA id: the table holds positions and hashes the id the row holds
    /// (no copy of an id). The last row wins when a list repeats an id.
    by_id: HashTable<u32>,
    id_hasher: RandomState,
    /// Per row, what the filter searches, and the lanes it is in (bit per lane) with its
    /// health's kind (`health_code` << `HEALTH_SHIFT`), kept apart from the rows so a filter
    /// keystroke scans dense memory.
    search: SearchText,
    lanes: Vec<u8>,
    /// Every known `creation_time`, sorted: how many were onboarded since a time is a binary
    /// search, not a scan (the Tech Provider's weekly onboarding gauge).
    created: Vec<i64>,
    derived: std::cell::RefCell<Derived>,
}

impl WabasPane {
    pub fn new(rules: OnboardingRules) -> WabasPane {
        WabasPane {
            rules,
            ..WabasPane::default()
        }
    }

    /// The visible rows as indices into `rows`: the current lane, narrowed by the filter, in
    /// the chosen order. Derived once per change of data, lane, sort or filter; a filter that
    /// only grew narrows the previous result instead of scanning the book.
    pub fn visible_indices(&self) -> std::sync::Arc<Vec<u32>> {
        let key = ViewKey {
            version: self.version,
            lane: self.lane,
            sort: self.sort,
            reverse: self.reverse,
            needle: self.filter.value().trim().to_lowercase(),
        };
        let mut d = self.derived.borrow_mut();
        if d.key.as_ref() == Some(&key) {
            return d.visible.clone();
        }
        let narrowing = d.key.as_ref().is_some_and(|old| {
            old.version == key.version
                && old.lane == key.lane
                && old.sort == key.sort
                && old.reverse == key.reverse
                && key.needle.starts_with(&old.needle)
        });
        let same_view = |k: &ViewKey| {
            k.version == key.version
                && k.lane == key.lane
                && k.sort == key.sort
                && k.reverse == key.reverse
        };
        if narrowing {
            if let Some(old) = d.key.take() {
                let old_visible = d.visible.clone();
                d.earlier.push((old, old_visible));
                if d.earlier.len() > EARLIER_RESULTS {
                    d.earlier.remove(0);
                }
            }
        } else {
            // Only the results of this query's prefixes (same view) can still be reused.
            d.earlier
                .retain(|(k, _)| same_view(k) && key.needle.starts_with(&k.needle));
            if let Some(pos) = d.earlier.iter().position(|(k, _)| *k == key) {
                let (k, visible) = d.earlier.remove(pos);
                d.earlier.truncate(pos);
                d.visible = visible;
                d.key = Some(k);
                return d.visible.clone();
            }
        }
        let matcher = Matcher::new(&key.needle, &self.search.labels);
        let visible: Vec<u32> = if narrowing {
            // Same order, fewer rows.
            d.visible
                .iter()
                .copied()
                .filter(|&i| self.matches(&matcher, i as usize))
                .collect()
        } else {
            let sorted = match &d.sorted {
                Some((v, s, r, order))
                    if *v == key.version && *s == key.sort && *r == key.reverse =>
                {
                    order.clone()
                }
                _ => {
                    let mut order: Vec<u32> = (0..self.rows.len() as u32).collect();
                    self.sort_indices(&mut order);
                    if key.reverse {
                        order.reverse();
                    }
                    let order = std::sync::Arc::new(order);
                    d.sorted = Some((key.version, key.sort, key.reverse, order.clone()));
                    order
                }
            };
            let lane = 1u8 << self.lane.index();
            let in_lane = |i: usize| self.lanes[i] & lane != 0;
            if key.needle.is_empty() {
                sorted
                    .iter()
                    .copied()
                    .filter(|&i| in_lane(i as usize))
                    .collect()
            } else {
                // Rows are matched in the order their text lies in memory, then taken in the
                // sort order.
                let hit: Vec<bool> = (0..self.rows.len())
                    .map(|i| in_lane(i) && self.matches(&matcher, i))
                    .collect();
                sorted
                    .iter()
                    .copied()
                    .filter(|&i| hit[i as usize])
                    .collect()
            }
        };
        d.visible = std::sync::Arc::new(visible);
        d.key = Some(key);
        d.visible.clone()
    }

    /// Whether row `i` has the needle in its name, a searched field, a label, an id or a
    /// number, or its health's label.
    fn matches(&self, m: &Matcher, i: usize) -> bool {
        let line = usize::from(self.search.spans[i].labels);
        if m.health[usize::from(self.lanes[i] >> HEALTH_SHIFT)] || m.labels.get(line) == Some(&true)
        {
            return true;
        }
        let (numbers, text) = self.search.parts(i);
        // A needle of number characters is most often in a number: looked for there first.
        m.numbers.as_ref().is_some_and(|n| n.found_in(numbers)) || m.finder.find(text).is_some()
    }

    fn sort_indices(&self, v: &mut [u32]) {
        let rows = &self.rows;
        let search = &self.search;
        let name = |i: u32| (search.name_key(i as usize), rows[i as usize].id());
        match self.sort {
            SortKey::Name => v.sort_by(|&a, &b| name(a).cmp(&name(b))),
            SortKey::Health => v.sort_by_cached_key(|&i| {
                let r = &rows[i as usize];
                (
                    std::cmp::Reverse(r.health.severity()),
                    std::cmp::Reverse(r.missing_steps()),
                    name(i),
                )
            }),
            SortKey::Age => v.sort_by_cached_key(|&i| {
                let r = &rows[i as usize];
                (
                    r.waba.node.creation_time().is_none(),
                    std::cmp::Reverse(r.waba.node.creation_time()),
                    name(i),
                )
            }),
            SortKey::Tier => v.sort_by_cached_key(|&i| {
                let r = &rows[i as usize];
                let rank = r
                    .tier()
                    .and_then(|t| crate::domain::onboarding::tier_rank(&t));
                (
                    rank.is_none(),
                    rank,
                    std::cmp::Reverse(r.health.severity()),
                    name(i),
                )
            }),
        }
    }

    /// The rows shown, in order (see [`visible_indices`](Self::visible_indices)).
    pub fn visible(&self) -> Vec<&WabaRow> {
        self.visible_indices()
            .iter()
            .map(|&i| &self.rows[i as usize])
            .collect()
    }

    /// How many rows are shown.
    pub fn visible_len(&self) -> usize {
        self.visible_indices().len()
    }

    /// The `i`-th row shown.
    pub fn visible_row(&self, i: usize) -> Option<&WabaRow> {
        let v = self.visible_indices();
        v.get(i).map(|&r| &self.rows[r as usize])
    }

    /// How many WABAs each lane holds, counted once per change of the data.
    pub fn lane_count(&self, lane: WabaLane) -> usize {
        let mut d = self.derived.borrow_mut();
        if d.counts_version != Some(self.version) {
            let mut counts = [0; 3];
            for bits in &self.lanes {
                for (k, n) in counts.iter_mut().enumerate() {
                    *n += usize::from(bits & (1 << k) != 0);
                }
            }
            d.counts = counts;
            d.counts_version = Some(self.version);
        }
        d.counts[lane.index()]
    }

    /// How many WABAs were onboarded (created) in `(since, until]`, Unix seconds.
    pub fn onboarded_between(&self, since: i64, until: i64) -> usize {
        let from = self.created.partition_point(|&t| t <= since);
        let to = self.created.partition_point(|&t| t <= until);
        to.saturating_sub(from)
    }

    /// What the pane holds beside the WABAs it shares, in bytes (`cargo bench --bench memory`).
    pub fn memory(&self) -> PaneMemory {
        let d = self.derived.borrow();
        let u32s = |v: &Vec<u32>| v.capacity() * std::mem::size_of::<u32>();
        let (numbers, search) = self.search.memory();
        PaneMemory {
            rows: self.rows.capacity() * std::mem::size_of::<WabaRow>(),
            search,
            numbers,
            index: self.by_id.allocation_size()
                + self.departed.capacity() * std::mem::size_of::<Box<str>>()
                + self.departed.iter().map(|id| id.len()).sum::<usize>(),
            derived: self.lanes.capacity()
                + self.created.capacity() * std::mem::size_of::<i64>()
                + u32s(&d.visible)
                + d.sorted.as_ref().map_or(0, |(.., order)| u32s(order)),
        }
    }

    /// Changes with every change of the rows (for views derived from them elsewhere).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The rows changed: what is derived from them is derived again when next asked.
    fn changed(&mut self) {
        // Every row is written again: the label lines too, so lines no row has go.
        let mut search =
            SearchText::with_capacity(self.rows.len(), self.search.bytes.len(), Labels::default());
        for r in &self.rows {
            search.push(&r.waba, &r.health);
        }
        search.shrink_to_fit();
        self.search = search;
        self.lanes = self.rows.iter().map(lane_bits).collect();
        self.reindex();
    }

    /// The rows moved or changed (`search` and `lanes` already follow them): the index by id
    /// and the sorted creation times are built again.
    fn reindex(&mut self) {
        self.version += 1;
        self.by_id = index_rows(&self.rows, &self.id_hasher);
        self.created = self
            .rows
            .iter()
            .filter_map(|r| r.waba.node.creation_time())
            .collect();
        self.created.sort_unstable();
        self.created.shrink_to_fit();
    }

    pub fn selected_row(&self) -> Option<&WabaRow> {
        self.visible_row(self.selected)
    }

    pub fn selected_id(&self) -> Option<String> {
        self.selected_row().map(|r| r.id().to_string())
    }

    pub fn row(&self, id: &str) -> Option<&WabaRow> {
        self.rows.get(self.position(id)?)
    }

    fn position(&self, id: &str) -> Option<usize> {
        find_row(&self.by_id, &self.id_hasher, &self.rows, id)
    }

    /// The WABA whose detail is open.
    pub fn open_row(&self) -> Option<&WabaRow> {
        self.row(self.open.as_deref()?)
    }

    /// What `s` acts on: the open WABA, else the selected row.
    pub fn current_row(&self) -> Option<&WabaRow> {
        self.open_row().or_else(|| self.selected_row())
    }

    /// Open the selected row's detail (the user is looking at it).
    pub fn open_selected(&mut self) {
        self.open = self.selected_id();
        self.phone_selected = 0;
        self.detail_scroll = 0;
        self.mark_seen();
    }

    /// Close the detail; the selection goes back to the WABA if it is still in the lane.
    pub fn close_detail(&mut self) {
        if let Some(id) = self.open.take() {
            self.select_id(Some(&id));
        }
    }

    /// The phone number selected in the open detail.
    pub fn selected_phone(&self) -> Option<PhoneNumber> {
        self.open_row()?
            .waba
            .node
            .phone_numbers()
            .get(self.phone_selected)
    }

    /// Select the row with this id if it is visible; otherwise keep the index in range.
    pub fn select_id(&mut self, id: Option<&str>) {
        if let Some(id) = id
            && let Some(pos) = self
                .visible_indices()
                .iter()
                .position(|&i| self.rows[i as usize].id() == id)
        {
            self.selected = pos;
            return;
        }
        let n = self.visible_len();
        self.selected = if n == 0 { 0 } else { self.selected.min(n - 1) };
    }

    /// Move the selection (the user is looking at the row it lands on).
    pub fn move_by(&mut self, delta: isize) {
        let n = self.visible_len();
        self.selected = if n == 0 {
            0
        } else {
            (self.selected as isize + delta).clamp(0, n as isize - 1) as usize
        };
        self.after_move();
    }

    pub fn move_to(&mut self, index: usize) {
        self.selected = index.min(self.visible_len().saturating_sub(1));
        self.after_move();
    }

    fn after_move(&mut self) {
        self.phone_selected = 0;
        self.detail_scroll = 0;
        self.mark_seen();
    }

    /// The user has looked at the selected row: its change mark goes.
    pub fn mark_seen(&mut self) {
        if let Some(id) = self.selected_id() {
            self.changes.remove(&id);
        }
    }

    /// Re-order, keeping the selected WABA selected.
    pub fn cycle_sort(&mut self) {
        let keep = self.selected_id();
        self.sort = self.sort.next();
        self.reverse = false;
        self.select_id(keep.as_deref());
    }

    /// The same order, reversed (`O`), keeping the selected WABA selected.
    pub fn reverse_sort(&mut self) {
        let keep = self.selected_id();
        self.reverse = !self.reverse;
        self.select_id(keep.as_deref());
    }

    /// Carry over to freshly read rows what the rows they replace knew about their tier.
    pub fn move_phone(&mut self, delta: isize) {
        let n = self.open_row().map_or(0, WabaRow::phone_count);
        self.phone_selected = if n == 0 {
            0
        } else {
            (self.phone_selected as isize + delta).clamp(0, n as isize - 1) as usize
        };
    }

    /// Scroll the lower part of the detail, within what it can hold.
    pub fn scroll_detail(&mut self, delta: isize) {
        let max = self.open_row().map_or(0, detail_lines_estimate);
        self.detail_scroll = (self.detail_scroll as isize + delta).clamp(0, max as isize) as u16;
    }

    /// Take in a whole list after a round, keeping the selected WABA selected, and mark what
    /// changed since the previous one: WABAs not seen before (not on the first whole list:
    /// that is the baseline) and WABAs whose health got worse. A row whose WABA is the same
    /// (`Arc`) as before keeps what was derived from it; a row a later read established is
    /// kept; WABAs the list no longer has go.
    pub fn set_items(&mut self, list: WabaList, started: ReadStamp) {
        if started < self.list_read {
            // An older list than the one shown: it knows nothing new.
            return;
        }
        let keep = self.selected_id();
        // A steady round hands on the very same WABAs in the same order (unchanged pages are
        // the remembered values): only the read stamps move, nothing is derived again.
        let unchanged = list.wabas.len() == self.rows.len()
            && self
                .rows
                .iter()
                .zip(&list.wabas)
                .all(|(r, w)| Arc::ptr_eq(&r.waba, w));
        if unchanged {
            for r in &mut self.rows {
                r.read = r.read.max(started);
            }
            self.list_arrived(list.extras_failed, started, keep);
            return;
        }
        let old_rows = std::mem::take(&mut self.rows);
        let mut old_search = std::mem::take(&mut self.search);
        // Kept rows are copied with their label line: the table goes on.
        let labels = std::mem::take(&mut old_search.labels);
        let old_lanes = std::mem::take(&mut self.lanes);
        let old_index = std::mem::take(&mut self.by_id);
        let mut taken = vec![false; old_rows.len()];
        let n = list.wabas.len();
        let (mut rows, mut search, mut lanes) = (
            Vec::with_capacity(n),
            // About what the rows had (a first list: a guess), trimmed when written.
            SearchText::with_capacity(
                n,
                (old_search.bytes.len() - old_search.garbage).max(n * 96),
                labels,
            ),
            Vec::with_capacity(n),
        );
        let mut changes = std::mem::take(&mut self.changes);
        for w in list.wabas {
            let at = find_row(&old_index, &self.id_hasher, &old_rows, w.id());
            let before = at.filter(|&i| !std::mem::replace(&mut taken[i], true));
            match before {
                Some(i) if old_rows[i].read > started || Arc::ptr_eq(&old_rows[i].waba, &w) => {
                    let r = &old_rows[i];
                    rows.push(WabaRow {
                        read: r.read.max(started),
                        ..r.clone()
                    });
                    let span = search.copy(&old_search, i);
                    search.spans.push(span);
                    lanes.push(old_lanes[i]);
                }
                before => {
                    let mut row = WabaRow::new(w, &self.rules);
                    row.read = started;
                    let was = before.map(|i| &old_rows[i]);
                    if let Some(was) = was {
                        row.note_tier_since(was);
                    }
                    let known = at.is_some() || self.departed.contains(row.id());
                    self.mark(&mut changes, &row, was.map(|r| &r.health), known);
                    search.push(&row.waba, &row.health);
                    lanes.push(lane_bits(&row));
                    rows.push(row);
                }
            }
        }
        // WABAs a later read established (an action's re-read) stay though the list is older.
        for (i, r) in old_rows.iter().enumerate() {
            if !taken[i] && r.read > started {
                taken[i] = true;
                rows.push(r.clone());
                let span = search.copy(&old_search, i);
                search.spans.push(span);
                lanes.push(old_lanes[i]);
            }
        }
        search.shrink_to_fit();
        self.rows = rows;
        self.search = search;
        self.lanes = lanes;
        self.reindex();
        // Every id listed before is known from now on: those no longer listed are kept apart.
        for r in &old_rows {
            if self.position(r.id()).is_none() && !self.departed.contains(r.id()) {
                self.departed.insert(r.id().into());
            }
        }
        if !self.departed.is_empty() {
            let (index, hasher, rows) = (&self.by_id, &self.id_hasher, &self.rows);
            self.departed
                .retain(|id| find_row(index, hasher, rows, id).is_none());
        }
        drop(old_rows);
        if !changes.is_empty() {
            changes.retain(|id, _| self.position(id).is_some());
        }
        self.changes = changes;
        self.list_arrived(list.extras_failed, started, keep);
    }

    /// What a complete list settles, changed or not: it is the list shown now, loading is
    /// over, and the selection stays on its WABA.
    fn list_arrived(
        &mut self,
        extras_failed: Option<(usize, Failure)>,
        started: ReadStamp,
        keep: Option<String>,
    ) {
        self.list_read = started;
        if self.loading.is_some_and(|l| l.started <= started) {
            self.loading = None;
        }
        self.extras_failed = extras_failed;
        self.loaded = true;
        self.complete_once = true;
        self.select_id(keep.as_deref());
        self.clamp_phone();
    }

    /// Take in part of a round while its list is read: the WABAs it completed are shown at
    /// once (nothing is removed before the whole list is in), and how far the list is.
    pub fn apply_page(&mut self, page: WabaPage, started: ReadStamp) {
        if started < self.list_read {
            return;
        }
        if self.loading.is_none_or(|l| l.started <= started) {
            self.loading = Some(Loading {
                started,
                listed: page.listed,
                expected: page.expected,
            });
        }
        if page.wabas.is_empty() {
            return;
        }
        let keep = self.selected_id();
        self.put_rows(page.wabas, started);
        self.loaded = true;
        self.select_id(keep.as_deref());
        self.clamp_phone();
    }

    /// Mark a row that is new since the baseline (`known`: its id was listed before), or
    /// whose health got worse than `was`.
    fn mark(
        &self,
        changes: &mut HashMap<String, Change>,
        row: &WabaRow,
        was: Option<&Health>,
        known: bool,
    ) {
        let id = row.id();
        match was {
            None if self.complete_once && !known => {
                changes.insert(id.to_string(), Change::New);
            }
            Some(was) if row.health.is_worse_than(was) => {
                changes
                    .entry(id.to_string())
                    .or_insert_with(|| Change::HealthWorse { was: was.clone() });
            }
            _ => {}
        }
    }

    /// Insert or replace rows in place, each unless a later read established it, updating
    /// what is derived from them row by row (no pass over the whole book).
    fn put_rows(&mut self, wabas: Vec<Arc<Waba>>, started: ReadStamp) {
        let mut changes = std::mem::take(&mut self.changes);
        let mut created_changed = false;
        for w in wabas {
            let at = self.position(w.id());
            if let Some(i) = at {
                let r = &self.rows[i];
                if r.read > started {
                    continue;
                }
                if Arc::ptr_eq(&r.waba, &w) {
                    self.rows[i].read = started;
                    continue;
                }
            }
            let mut row = WabaRow::new(w, &self.rules);
            row.read = started;
            let bits = lane_bits(&row);
            created_changed |= row.waba.node.creation_time().is_some();
            match at {
                Some(i) => {
                    row.note_tier_since(&self.rows[i]);
                    let was = self.rows[i].health.clone();
                    created_changed |= self.rows[i].waba.node.creation_time().is_some();
                    self.mark(&mut changes, &row, Some(&was), true);
                    self.search.replace(i, &row.waba, &row.health);
                    self.rows[i] = row;
                    self.lanes[i] = bits;
                }
                None => {
                    let known = self.departed.remove(row.id());
                    self.mark(&mut changes, &row, None, known);
                    self.search.push(&row.waba, &row.health);
                    self.lanes.push(bits);
                    self.rows.push(row);
                    let (rows, hasher) = (&self.rows, &self.id_hasher);
                    let last = rows.len() - 1;
                    self.by_id
                        .insert_unique(hasher.hash_one(rows[last].id()), last as u32, |&k| {
                            hasher.hash_one(rows[k as usize].id())
                        });
                }
            }
        }
        self.changes = changes;
        if created_changed {
            self.created = self
                .rows
                .iter()
                .filter_map(|r| r.waba.node.creation_time())
                .collect();
            self.created.sort_unstable();
            self.created.shrink_to_fit();
        }
        self.version += 1;
    }

    /// Whether the checklist has our allocations' credentials to compare with.
    pub fn knows_credentials(&self) -> bool {
        self.rules.our_credentials.is_some()
    }

    /// Compare the checklist's credit step with our allocations' receiving credentials
    /// (`None`: not known, any funding source counts), re-deriving every row's checklist.
    pub fn set_credentials(&mut self, credentials: Option<crate::domain::funding::Credentials>) {
        if self.rules.our_credentials == credentials {
            return;
        }
        let keep = self.selected_id();
        self.rules.our_credentials = credentials;
        for row in &mut self.rows {
            row.onboarding = Onboarding::derive(&row.waba, &self.rules);
        }
        self.changed();
        self.select_id(keep.as_deref());
    }

    /// Our partner kind is known (or changed): the checklist's credit step follows it
    /// (`domain::partner::credit_step`), every row is derived again.
    pub fn set_partner_kind(&mut self, kind: Option<crate::domain::partner::PartnerKind>) {
        if self.rules.partner_kind == kind {
            return;
        }
        let keep = self.selected_id();
        self.rules.partner_kind = kind;
        let rules = self.rules.clone();
        for row in &mut self.rows {
            let read = row.read;
            let dropped = row.tier_dropped_from.take();
            *row = WabaRow::new(row.waba.clone(), &rules);
            row.read = read;
            row.tier_dropped_from = dropped;
        }
        self.changed();
        self.select_id(keep.as_deref());
    }

    /// As of which read the WABA is shown; `None` when it is not held.
    pub fn as_of(&self, id: &str) -> Option<ReadStamp> {
        Some(self.row(id)?.read)
    }

    /// Take in one WABA read by a read that started at `started` (an action's re-read),
    /// unless what is shown was established by a later read.
    pub fn apply_waba(&mut self, waba: Waba, started: ReadStamp) {
        if self.as_of(waba.id()).is_some_and(|shown| shown > started) {
            return;
        }
        let keep = self.selected_id();
        self.put_rows(vec![Arc::new(waba)], started);
        self.select_id(keep.as_deref());
        self.clamp_phone();
    }

    fn clamp_phone(&mut self) {
        if self.open.is_some() && self.open_row().is_none() {
            // The open WABA is no longer listed (unshared): nothing to show.
            self.open = None;
        }
        let n = self.open_row().map_or(0, WabaRow::phone_count);
        self.phone_selected = self.phone_selected.min(n.saturating_sub(1));
    }
}

/// The lanes a row is in, a bit per lane, and its health's kind above them.
fn lane_bits(row: &WabaRow) -> u8 {
    WabaLane::ALL
        .iter()
        .filter(|l| l.contains(row))
        .fold(health_code(&row.health) << HEALTH_SHIFT, |bits, l| {
            bits | 1 << l.index()
        })
}

/// The position of the row with this id (the last, if the list repeated it).
fn find_row(
    index: &HashTable<u32>,
    hasher: &RandomState,
    rows: &[WabaRow],
    id: &str,
) -> Option<usize> {
    index
        .find(hasher.hash_one(id), |&i| rows[i as usize].id() == id)
        .map(|&i| i as usize)
}

/// Index rows by id; where ids repeat, the later row is the one found.
fn index_rows(rows: &[WabaRow], hasher: &RandomState) -> HashTable<u32> {
    let rehash = |&i: &u32| hasher.hash_one(rows[i as usize].id());
    let mut index = HashTable::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let id = r.id();
        match index.entry(
            hasher.hash_one(id),
            |&k| rows[k as usize].id() == id,
            rehash,
        ) {
            hashbrown::hash_table::Entry::Occupied(mut e) => *e.get_mut() = i as u32,
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert(i as u32);
            }
        }
    }
    index
}

/// About how many lines the lower part of the detail (health, solutions, apps, other fields)
/// takes, to bound scrolling. The screen clamps to the exact number.
fn detail_lines_estimate(row: &WabaRow) -> usize {
    let n = &row.waba.node;
    let entities: usize = n.health_status().map_or(1, |h| {
        h.entities
            .iter()
            .map(|e| 1 + e.additional_info().len() + 2 * e.errors().len())
            .sum()
    });
    let solutions = row.waba.solutions.as_ref().map_or(1, |l| l.len());
    let apps = row.waba.subscribed_apps.as_ref().map_or(1, |l| l.len());
    entities + solutions + apps + n.other_fields().len() + 8
}

// ---------------------------------------------------------------- keys

/// Keys on the WABAs pane. With the detail open, `j`/`k` pick a phone number (for `R`) and
/// `PgUp`/`PgDn` scroll the detail; otherwise they move through the table.
pub(crate) fn on_key(model: &mut Model, cmd: Command) -> Vec<Effect> {
    let page = model.page_rows as isize;
    let pane = &mut model.wabas;
    let detail = pane.open.is_some();
    match cmd {
        Command::Close => {
            if detail {
                pane.close_detail();
            } else if !pane.filter.value().is_empty() {
                let keep = pane.selected_id();
                pane.filter.reset();
                pane.select_id(keep.as_deref());
            }
        }
        Command::Down if detail => pane.move_phone(1),
        Command::Up if detail => pane.move_phone(-1),
        Command::PageDown if detail => pane.scroll_detail(page),
        Command::PageUp if detail => pane.scroll_detail(-page),
        Command::Top if detail => {
            pane.phone_selected = 0;
            pane.detail_scroll = 0;
        }
        Command::Bottom if detail => pane.move_phone(isize::MAX / 2),
        Command::Down => pane.move_by(1),
        Command::Up => pane.move_by(-1),
        Command::PageDown => pane.move_by(page),
        Command::PageUp => pane.move_by(-page),
        Command::Top => pane.move_to(0),
        Command::Bottom => pane.move_to(usize::MAX),
        Command::NextLane | Command::PrevLane if !detail => {
            pane.lane = if cmd == Command::NextLane {
                pane.lane.next()
            } else {
                pane.lane.prev()
            };
            pane.move_to(0);
        }
        Command::Filter => {
            pane.close_detail();
            pane.filter_editing = true;
        }
        Command::Open if !detail => pane.open_selected(),
        Command::Sort | Command::SortReverse => {
            if cmd == Command::Sort {
                pane.cycle_sort();
            } else {
                pane.reverse_sort();
            }
            model.notice = Some(format!(
                "WABAs sorted by {}{}.",
                pane.sort.label(),
                if pane.reverse { ", reversed" } else { "" }
            ));
        }
        Command::Subscribe => return start_subscribe(model),
        Command::Register => return start_register(model),
        Command::BspRegister => return start_bsp_register(model),
        _ => {}
    }
    vec![]
}

/// `s`: subscribe our app to the selected WABA's webhooks, after a confirm.
fn start_subscribe(model: &mut Model) -> Vec<Effect> {
    let Some(row) = model.wabas.current_row() else {
        return vec![];
    };
    let target = Target::SubscribeApp {
        waba_id: row.id().to_string(),
        waba_name: row.waba.name().to_string(),
    };
    if row.onboarding.webhooks_subscribed == Some(true) {
        model.notice = Some(format!(
            "'{}' already sends its webhooks to our app: nothing to subscribe.",
            row.waba.name()
        ));
        return vec![];
    }
    confirm(model, "subscribed_apps", target, None, None);
    vec![]
}

/// `B` in the WABA detail: register the selected number with our BSP (a Tech Provider's
/// customers are registered by the BSP). Every pre-check (`bsp::prepare`) refuses with a
/// sentence before any dialog opens.
fn start_bsp_register(model: &mut Model) -> Vec<Effect> {
    let pane = &model.wabas;
    let Some(row) = pane.open_row() else {
        model.notice = Some(
            "Open the WABA with Enter and pick its number with j/k, then press B to register it with our BSP."
                .into(),
        );
        return vec![];
    };
    if model.partner_kind == Some(crate::domain::partner::PartnerKind::SolutionPartner) {
        model.notice = Some(
            "We are a Solution Partner: there is no BSP to register with (R registers the number with Meta)."
                .into(),
        );
        return vec![];
    }
    let Some(bsp) = model.bsp else {
        model.notice = Some(
            "No BSP is configured: set PARTNERDECK_BSP=plivo or telnyx and its credentials.".into(),
        );
        return vec![];
    };
    if model.bsp_call.is_none() {
        model.notice = Some(format!(
            "Not sent: the {} client could not be set up ({}).",
            bsp.name(),
            model
                .bsp_missing
                .as_deref()
                .unwrap_or("its settings are missing")
                .trim_end_matches('.')
        ));
        return vec![];
    }
    let Some(phone) = pane.selected_phone() else {
        model.notice = Some(format!(
            "'{}' has no phone number to register with {} yet.",
            row.waba.name(),
            bsp.name()
        ));
        return vec![];
    };
    let registration = match crate::bsp::prepare(bsp, &row.waba, &phone.id, None) {
        Ok(r) => r,
        Err(refusal) => {
            model.notice = Some(refusal.to_string());
            return vec![];
        }
    };
    let target = Target::BspRegister {
        bsp,
        waba_name: row.waba.name().to_string(),
        phone: phone.label().to_string(),
        registration,
    };
    confirm(model, "the BSP registration", target, None, None);
    vec![]
}

/// `R` in the WABA detail: register the selected phone number, with a PIN typed in the dialog.
/// Why a number in this status cannot be registered for Cloud API (reference §3.4), if it
/// cannot: a register attempt would only fail and may count against the PIN.
pub(crate) fn register_impossible(status: &str) -> Option<&'static str> {
    match status {
        "BANNED" => Some("it is BANNED by WhatsApp"),
        "DELETED" => Some("it is DELETED"),
        "MIGRATED" => Some("it was MIGRATED away from this WABA"),
        "RESTRICTED" => Some("it is RESTRICTED; wait until the restriction ends"),
        "FLAGGED" => Some("it is FLAGGED for its quality; fix that first"),
        _ => None,
    }
}

fn start_register(model: &mut Model) -> Vec<Effect> {
    let pane = &model.wabas;
    let Some(row) = pane.open_row() else {
        model.notice = Some(
            "Open the WABA with Enter and pick its number with j/k, then press R to register it."
                .into(),
        );
        return vec![];
    };
    let Some(phone) = pane.selected_phone() else {
        model.notice = Some(format!(
            "'{}' has no phone number to register yet.",
            row.waba.name()
        ));
        return vec![];
    };
    if phone.is_connected() {
        model.notice = Some(format!(
            "{} is already registered (CONNECTED): nothing to do.",
            phone.label()
        ));
        return vec![];
    }
    // Know before spending a PIN attempt: some statuses make registering impossible.
    if let Some(why) = phone.status.as_deref().and_then(register_impossible) {
        model.notice = Some(format!(
            "{} cannot be registered: {why}. Nothing was sent.",
            phone.label()
        ));
        return vec![];
    }
    // A Tech Provider's customer numbers are registered by the BSP (B), not by us.
    let bsp_warning = (model.partner_kind == Some(crate::domain::partner::PartnerKind::TechProvider))
        .then_some(model.bsp)
        .flatten()
        .map(|b| {
            format!(
                "Note: this WABA is managed through {}: {} registers the number with Meta itself once B registers it there.",
                b.name(),
                b.name()
            )
        });
    let target = Target::RegisterPhone {
        waba_id: row.id().to_string(),
        waba_name: row.waba.name().to_string(),
        phone_id: phone.id.to_string(),
        phone: phone.label().to_string(),
    };
    if confirm(model, "register", target, Some(PinField::default()), None)
        && let Some(w) = bsp_warning
    {
        model.notice = Some(w);
    }
    vec![]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::model::AppRef;
    use crate::graph::waba_model::{HealthStatus, SubscribedApp, WabaFields, WabaNode};

    const US: &str = "42";

    #[test]
    fn a_row_stays_48_bytes_beside_its_shared_waba() {
        // 100,000 rows: the worst quality rating rides in what was padding.
        assert_eq!(std::mem::size_of::<WabaRow>(), 48);
    }

    fn waba(id: &str, name: &str, health: &str, created: i64, complete: bool) -> Waba {
        Waba {
            node: WabaNode::new(WabaFields {
                id: id.into(),
                name: name.into(),
                creation_time: Some(created),
                health_status: Some(HealthStatus {
                    can_send_message: Some(health.into()),
                    ..Default::default()
                }),
                primary_funding_id: complete.then(|| "515".into()),
                phone_numbers: vec![PhoneNumber {
                    id: format!("{id}0").into(),
                    status: Some(if complete { "CONNECTED" } else { "PENDING" }.into()),
                    quality_rating: Some("GREEN".into()),
                    ..Default::default()
                }]
                .into(),
                ..Default::default()
            }),
            subscribed_apps: Some(
                vec![SubscribedApp {
                    whatsapp_business_api_data: Some(AppRef {
                        id: US.into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]
                .into(),
            ),
            solutions: Some(vec![].into()),
        }
    }

    fn list(wabas: Vec<Waba>) -> WabaList {
        WabaList::of(wabas)
    }

    fn pane() -> WabasPane {
        let mut p = WabasPane::new(OnboardingRules::new(US));
        p.set_items(
            list(vec![
                waba("1", "delta", "AVAILABLE", 100, true),
                waba("2", "Alpha", "BLOCKED", 300, true),
                waba("3", "charlie", "LIMITED", 200, false),
                waba("4", "Bravo", "AVAILABLE", 400, false),
            ]),
            ReadStamp::issue(),
        );
        p
    }

    fn ids(p: &WabasPane) -> Vec<&str> {
        p.visible().iter().map(|r| r.id()).collect()
    }

    #[test]
    fn lanes_count_attention_and_blocked() {
        let p = pane();
        assert_eq!(p.lane_count(WabaLane::All), 4);
        assert_eq!(
            p.lane_count(WabaLane::Attention),
            3,
            "all but the complete, healthy one"
        );
        assert_eq!(p.lane_count(WabaLane::Blocked), 1);
        let healthy = p.row("1").unwrap();
        assert!(healthy.attention_reasons().is_empty());
        assert_eq!(
            p.row("3").unwrap().attention_reasons(),
            vec!["limited", "no credit line", "1 of 1 numbers not registered"]
        );
    }

    #[test]
    fn sorts_by_health_age_and_name() {
        let mut p = pane();
        p.lane = WabaLane::All;
        assert_eq!(p.sort, SortKey::Health);
        assert_eq!(
            ids(&p),
            ["2", "3", "4", "1"],
            "worst first, then missing steps"
        );
        p.cycle_sort();
        assert_eq!(p.sort, SortKey::Age);
        assert_eq!(ids(&p), ["4", "2", "3", "1"], "newest first");
        p.cycle_sort();
        assert_eq!(ids(&p), ["2", "4", "3", "1"], "case-insensitive names");
        p.reverse_sort();
        assert_eq!(ids(&p), ["1", "3", "4", "2"], "O reverses");
        p.cycle_sort();
        assert_eq!(p.sort, SortKey::Tier);
        assert!(!p.reverse, "a new sort starts unreversed");
        p.cycle_sort();
        assert_eq!(p.sort, SortKey::Health);
    }

    fn with_tier(mut w: Waba, tier: &str) -> Waba {
        w.node
            .update(|f| f.whatsapp_business_manager_messaging_limit = Some(tier.into()));
        w
    }

    #[test]
    fn a_drop_in_messaging_limit_tier_is_an_attention_reason_until_it_rises() {
        let mut p = pane();
        let healthy = |tier: &str| {
            list(vec![with_tier(
                waba("1", "delta", "AVAILABLE", 100, true),
                tier,
            )])
        };
        p.set_items(healthy("TIER_10K"), ReadStamp::issue());
        assert!(!p.row("1").unwrap().needs_attention());
        p.set_items(healthy("TIER_2K"), ReadStamp::issue());
        let r = p.row("1").unwrap();
        assert!(r.needs_attention());
        assert_eq!(
            r.attention_reasons(),
            vec!["messaging limit dropped from TIER_10K to TIER_2K"]
        );
        assert_eq!(p.lane_count(WabaLane::Attention), 1);
        // Still low on the next list: still flagged; back up: cleared.
        p.set_items(healthy("TIER_2K"), ReadStamp::issue());
        assert!(p.row("1").unwrap().needs_attention());
        p.set_items(healthy("TIER_10K"), ReadStamp::issue());
        assert!(!p.row("1").unwrap().needs_attention());
        // UNTIERED has no order: no drop is claimed.
        p.set_items(healthy("UNTIERED"), ReadStamp::issue());
        assert!(!p.row("1").unwrap().needs_attention());
    }

    #[test]
    fn sorting_keeps_the_selected_waba_selected() {
        let mut p = pane();
        p.lane = WabaLane::All;
        p.move_to(3); // "1" under health sort
        p.cycle_sort();
        assert_eq!(p.selected_id().as_deref(), Some("1"));
    }

    #[test]
    fn filter_matches_names_ids_numbers_and_health() {
        let mut p = pane();
        p.lane = WabaLane::All;
        p.filter = Input::new("ALP".into());
        assert_eq!(ids(&p), ["2"]);
        p.filter = Input::new("blocked".into());
        assert_eq!(ids(&p), ["2"]);
        p.filter = Input::new("30".into()); // phone id of WABA 3
        assert_eq!(ids(&p), ["3"]);
        p.filter = Input::new("nothing like it".into());
        assert!(p.visible().is_empty());
        assert!(p.selected_row().is_none());
    }

    #[test]
    fn the_same_list_again_moves_only_the_read_stamps() {
        let mut p = pane();
        p.lane = WabaLane::All;
        p.move_to(2);
        let shown: Vec<Arc<Waba>> = p.rows.iter().map(|r| r.waba.clone()).collect();
        let selected = p.selected_id();
        let search_at = p.search.bytes.as_ptr();
        let later = ReadStamp::issue();
        let same = WabaList {
            wabas: shown.clone(),
            extras_failed: None,
        };
        p.set_items(same, later);
        // The very same rows, derived nothing again, each as of the later read.
        assert!(
            p.rows
                .iter()
                .zip(&shown)
                .all(|(r, w)| Arc::ptr_eq(&r.waba, w))
        );
        assert_eq!(
            p.search.bytes.as_ptr(),
            search_at,
            "the search text was not written again"
        );
        assert!(shown.iter().all(|w| p.as_of(w.id()) == Some(later)));
        assert_eq!(p.selected_id(), selected);
        assert_eq!(p.list_read, later);
        // It equals what the whole derivation gives for equal values in new allocations.
        let mut fresh = pane();
        fresh.lane = WabaLane::All;
        let copies: Vec<Arc<Waba>> = shown.iter().map(|w| Arc::new((**w).clone())).collect();
        fresh.set_items(
            WabaList {
                wabas: copies,
                extras_failed: None,
            },
            later,
        );
        for lane in WabaLane::ALL {
            assert_eq!(p.lane_count(lane), fresh.lane_count(lane), "{lane:?}");
        }
        assert_eq!(ids(&p), ids(&fresh));
        for needle in ["alp", "30", "blocked"] {
            p.filter = Input::new(needle.into());
            fresh.filter = Input::new(needle.into());
            assert_eq!(ids(&p), ids(&fresh), "{needle}");
        }
        // A list in another order is not the same list: derived again.
        let mut reversed = shown.clone();
        reversed.reverse();
        p.filter = Input::new(String::new());
        p.set_items(
            WabaList {
                wabas: reversed,
                extras_failed: None,
            },
            ReadStamp::issue(),
        );
        assert_eq!(ids(&p).len(), shown.len());
    }

    #[test]
    fn new_and_worse_are_marked_until_looked_at() {
        let mut p = pane();
        assert!(p.changes.is_empty(), "the first refresh is the baseline");
        p.lane = WabaLane::All;
        p.sort = SortKey::Name;
        let mut next = vec![
            waba("1", "delta", "LIMITED", 100, true),
            waba("2", "Alpha", "AVAILABLE", 300, true),
            waba("3", "charlie", "LIMITED", 200, false),
            waba("4", "Bravo", "AVAILABLE", 400, false),
        ];
        next.push(waba("5", "Echo", "AVAILABLE", 500, true));
        p.set_items(list(next.clone()), ReadStamp::issue());
        assert_eq!(p.changes.get("5"), Some(&Change::New));
        assert_eq!(
            p.changes.get("1"),
            Some(&Change::HealthWorse {
                was: Health::Available
            })
        );
        assert!(!p.changes.contains_key("2"), "better is not marked");
        assert_eq!(p.changes.len(), 2);
        // Another refresh with nothing new keeps the marks.
        p.set_items(list(next), ReadStamp::issue());
        assert_eq!(p.changes.len(), 2);
        // Moving onto a row clears its mark.
        let pos = p.visible().iter().position(|r| r.id() == "1").unwrap();
        p.move_to(pos);
        assert!(!p.changes.contains_key("1"));
        assert!(p.changes.contains_key("5"));
    }

    #[test]
    fn apply_waba_updates_the_row_and_the_open_detail_stays() {
        let mut p = pane();
        let pos = p.visible().iter().position(|r| r.id() == "3").unwrap();
        p.move_to(pos);
        p.open_selected();
        p.apply_waba(
            waba("3", "charlie", "AVAILABLE", 200, true),
            ReadStamp::issue(),
        );
        let r = p.row("3").unwrap();
        assert!(r.onboarding.complete());
        assert_eq!(p.lane_count(WabaLane::Attention), 2);
        // Complete now, so out of the attention lane; its detail is still what is open.
        assert!(p.visible().iter().all(|r| r.id() != "3"));
        assert_eq!(p.open_row().map(WabaRow::id), Some("3"));
        p.close_detail();
        assert!(p.open_row().is_none());
        assert!(p.selected_row().is_some());
    }

    #[test]
    fn phone_and_scroll_stay_in_range() {
        let mut p = pane();
        p.open_selected();
        p.move_phone(5);
        assert_eq!(p.phone_selected, 0);
        p.scroll_detail(-3);
        assert_eq!(p.detail_scroll, 0);
        p.scroll_detail(1000);
        assert!(p.detail_scroll > 0 && p.detail_scroll < 100);
    }

    /// What the filter searched before it kept less: every field joined and lowercased.
    fn joined_fields(w: &Waba) -> String {
        let n = &w.node;
        let health = Health::of_waba(w);
        let f = n.fields();
        let mut hay: Vec<&str> = vec![
            n.name(),
            n.id.as_ref(),
            health.label(),
            f.currency.as_deref().unwrap_or(""),
            f.account_review_status.as_deref().unwrap_or(""),
            f.business_verification_status.as_deref().unwrap_or(""),
        ];
        if let Some(o) = &f.owner_business_info {
            hay.push(o.id.as_ref());
            hay.extend(o.name.as_deref());
        }
        let phones: Vec<_> = n.phone_numbers().texts().collect();
        for p in &phones {
            hay.push(&p.id);
            hay.extend(p.display_phone_number.as_deref());
            hay.extend(p.verified_name.as_deref());
        }
        hay.join("\n").to_lowercase()
    }

    fn phone(id: &str, display: &str, verified: &str) -> PhoneNumber {
        PhoneNumber {
            id: id.into(),
            display_phone_number: Some(display.into()),
            verified_name: (!verified.is_empty()).then(|| verified.into()),
            ..Default::default()
        }
    }

    /// Odd data for the filter: cases that lowercase to other lengths, a final sigma, names of
    /// digits, undocumented and missing health, repeated and contained fields.
    fn odd_book() -> Vec<Waba> {
        use crate::graph::waba_model::BusinessRef;
        let mut a = waba("310001", "Φούρνος ΑΘΗΝΆΣ", "BLOCKED", 10, true);
        a.node.update(|f| f.currency = Some("USD".into()));
        a.node
            .update(|f| f.account_review_status = Some("APPROVED".into()));
        a.node
            .update(|f| f.business_verification_status = Some("verified".into()));
        a.node.update(|f| {
            f.owner_business_info = Some(BusinessRef {
                id: "3301".into(),
                name: Some("Φούρνος ΑΘΗΝΆΣ Ltd.".into()),
            })
        });
        a.node.update(|f| {
            f.phone_numbers = vec![
                phone("3201", "+30 210 555 0100", "Φούρνος ΑΘΗΝΆΣ"),
                phone("3202", "(210) 555-0101", "Φούρνος 2"),
            ]
            .into()
        });
        let mut b = waba("310002", "12345", "AVAILABLE", 20, false);
        b.node.update(|f| f.health_status = None);
        b.node.update(|f| f.phone_numbers = vec![].into());
        let mut c = waba("310003", "İstanbul Kargo", "WOBBLY", 30, true);
        c.node
            .update(|f| f.phone_numbers = vec![phone("3203", "+90 212 555 0000", "")].into());
        c.node.update(|f| {
            f.owner_business_info = Some(BusinessRef {
                id: "3303".into(),
                name: None,
            })
        });
        let mut d = waba("310004", "ACME", "777", 40, true);
        d.node.update(|f| f.currency = Some("EUR".into()));
        d.node.update(|f| {
            f.owner_business_info = Some(BusinessRef {
                id: "33-04".into(),
                name: Some("4711".into()),
            })
        });
        d.node.update(|f| {
            f.phone_numbers
                .update(|p| p[0].verified_name = Some("0800".into()))
        });
        let mut e = waba("310005", "Straße GmbH", "LIMITED", 50, false);
        e.node
            .update(|f| f.phone_numbers = vec![phone("3205", "+49 30 5550", "STRASSE")].into());
        vec![a, b, c, d, e]
    }

    #[test]
    fn the_filter_finds_what_the_joined_fields_contain() {
        let book = odd_book();
        let mut p = WabasPane::new(OnboardingRules::new(US));
        p.set_items(list(book.clone()), ReadStamp::issue());
        p.lane = WabaLane::All;
        let texts: Vec<(String, String)> = book
            .iter()
            .map(|w| (w.id().to_string(), joined_fields(w)))
            .collect();
        // Every piece of one to four characters, and every whole field, of every WABA.
        let mut needles = std::collections::BTreeSet::new();
        for (_, text) in &texts {
            let chars: Vec<char> = text.chars().collect();
            for len in 1..=4 {
                for w in chars.windows(len) {
                    needles.insert(w.iter().collect::<String>());
                }
            }
            needles.extend(text.split('\n').map(str::to_string));
        }
        needles.extend(["zzz", "5550100", "-0"].map(String::from));
        let mut checked = 0;
        for needle in needles {
            // The filter trims and lowercases what is typed; a line break cannot be typed.
            if needle.contains('\n') || needle.trim() != needle || needle.is_empty() {
                continue;
            }
            let needle = needle.to_lowercase();
            let want: Vec<&str> = texts
                .iter()
                .filter(|(_, t)| t.contains(&needle))
                .map(|(id, _)| id.as_str())
                .collect();
            p.filter = Input::new(needle.clone());
            let mut got = ids(&p);
            got.sort_unstable();
            assert_eq!(got, want, "needle {needle:?}");
            checked += 1;
        }
        assert!(checked > 300, "{checked} needles");
        // The owner's name, which begins with the WABA's, continues the name's line.
        let (_, text) = p.search.parts(p.position("310001").unwrap());
        let text = String::from_utf8_lossy(text);
        assert!(text.starts_with("φούρνος αθηνάς ltd.\n"), "{text}");
        // And the name order is that of the lowercased names.
        p.filter = Input::default();
        p.sort = SortKey::Name;
        let mut want: Vec<(String, &str)> = book
            .iter()
            .map(|w| (w.name().to_lowercase(), w.id()))
            .collect();
        want.sort();
        let want: Vec<&str> = want.iter().map(|(_, id)| *id).collect();
        assert_eq!(ids(&p), want);
    }

    /// Every needle the pane's WABAs suggest: each piece of one to five characters and each
    /// whole field of their joined fields, and a few that are nowhere.
    fn needles_of(p: &WabasPane) -> std::collections::BTreeSet<String> {
        let mut needles = std::collections::BTreeSet::new();
        for r in &p.rows {
            let text = joined_fields(&r.waba);
            let chars: Vec<char> = text.chars().collect();
            for len in 1..=5 {
                for w in chars.windows(len) {
                    needles.insert(w.iter().collect::<String>());
                }
            }
            needles.extend(text.split('\n').map(str::to_string));
        }
        needles.extend(["zzz", "5550100", "-0", "0100)", "9999999"].map(String::from));
        needles.retain(|n| !n.contains('\n') && n.trim() == n && !n.is_empty());
        needles
    }

    /// The filter against a plain scan of the pane's rows' joined fields, for every needle
    /// the rows suggest (typed in order, so many narrow the previous one).
    fn assert_filter_is_a_plain_scan(p: &mut WabasPane, step: &str) {
        let mut checked = 0;
        for needle in needles_of(p) {
            let needle = needle.to_lowercase();
            let mut want: Vec<String> = p
                .rows
                .iter()
                .filter(|r| joined_fields(&r.waba).contains(&needle))
                .map(|r| r.id().to_string())
                .collect();
            want.sort_unstable();
            p.filter = Input::new(needle.clone());
            let mut got: Vec<String> = ids(p).into_iter().map(String::from).collect();
            got.sort_unstable();
            assert_eq!(got, want, "{step}: needle {needle:?}");
            checked += 1;
        }
        assert!(checked > 200, "{step}: {checked} needles");
        p.filter = Input::default();
    }

    #[test]
    fn the_filter_follows_numbers_changed_and_wabas_gone_and_back() {
        let book = odd_book();
        let mut p = WabasPane::new(OnboardingRules::new(US));
        p.lane = WabaLane::All;
        p.set_items(list(book.clone()), ReadStamp::issue());
        assert_filter_is_a_plain_scan(&mut p, "first list");

        // A re-read changes one WABA's numbers: odd punctuation, a dot (kept in the text),
        // a number inside another, an empty display number.
        let mut a = book[0].clone();
        a.node.update(|f| {
            f.phone_numbers = vec![
                phone("3291", "+1 (415) 555-0199", "Φούρνος"),
                phone("3292", "+1.415.555.0142", ""),
                phone("55501", "555-0199", ""),
                phone("3294", "", "x"),
            ]
            .into()
        });
        p.apply_waba(a.clone(), ReadStamp::issue());
        assert_filter_is_a_plain_scan(&mut p, "numbers changed");

        // A page of a round takes another's numbers away.
        let mut c = book[2].clone();
        c.node.update(|f| f.phone_numbers = vec![].into());
        p.apply_page(
            WabaPage {
                wabas: vec![Arc::new(c.clone())],
                listed: 3,
                expected: Some(5),
            },
            ReadStamp::issue(),
        );
        assert_filter_is_a_plain_scan(&mut p, "numbers gone");

        // Two WABAs leave, then come back, one of them with other numbers.
        let without: Vec<Waba> = [&a, &book[2], &book[4]].map(Clone::clone).to_vec();
        p.set_items(list(without.clone()), ReadStamp::issue());
        assert_eq!(p.rows.len(), 3);
        assert_filter_is_a_plain_scan(&mut p, "WABAs gone");
        let mut d = book[3].clone();
        d.node
            .update(|f| f.phone_numbers = vec![phone("3207", "+49 (0)30 555", "0800")].into());
        let back = vec![a.clone(), book[1].clone(), c, d, book[4].clone()];
        p.set_items(list(back), ReadStamp::issue());
        assert_eq!(p.rows.len(), 5);
        assert_filter_is_a_plain_scan(&mut p, "WABAs back");

        // Replaced often enough that the search text is written again, each time a new number.
        for k in 0..30 {
            let mut e = book[4].clone();
            e.node.update(|f| {
                f.phone_numbers = vec![phone(&format!("36{k}"), &format!("+49 30 {k}0"), "")].into()
            });
            p.apply_waba(e, ReadStamp::issue());
        }
        p.filter = Input::new("36".into());
        assert_eq!(ids(&p), ["310005"]);
        p.filter = Input::new("3628".into());
        assert!(ids(&p).is_empty(), "an earlier number is not found");
        assert_filter_is_a_plain_scan(&mut p, "replaced in place");

        // Every row derived again (a new partner kind): the label lines are written anew.
        p.set_partner_kind(Some(crate::domain::partner::PartnerKind::TechProvider));
        assert_filter_is_a_plain_scan(&mut p, "derived again");
    }

    #[test]
    fn labels_beyond_the_shared_lines_are_searched_in_the_text() {
        // Values longer than a `Sym` shares, so the test leaves the process's table alone.
        let currency = |k: usize| format!("a currency no one has, long enough not to share: {k};");
        let wabas: Vec<Waba> = (0..LABEL_LINES + 10)
            .map(|k| {
                let mut w = waba(&format!("9{k}"), "Kilo", "AVAILABLE", 1, true);
                w.node
                    .update(|f| f.currency = Some(currency(k).as_str().into()));
                w
            })
            .collect();
        let mut p = WabasPane::new(OnboardingRules::new(US));
        p.set_items(list(wabas), ReadStamp::issue());
        p.lane = WabaLane::All;
        assert_eq!(p.search.labels.lines.len(), LABEL_LINES);
        for k in [0, 7, LABEL_LINES - 2, LABEL_LINES + 9] {
            p.filter = Input::new(currency(k));
            assert_eq!(ids(&p), [format!("9{k}")], "{k}");
        }
    }

    proptest::proptest! {
        /// Ids and numbers kept four bits a character hold a needle exactly when one of the
        /// fields does, at either alignment, never across two fields.
        #[test]
        fn a_number_needle_is_found_where_a_field_contains_it(
            fields in proptest::collection::vec("[0-9 +()-]{0,12}", 0..5),
            piece in (0usize..64, 1usize..9),
            other in "[0-9 +()-]{1,6}",
        ) {
            let kept: Vec<&str> = fields.iter().map(String::as_str).filter(|f| !f.is_empty()).collect();
            let mut packed = vec![];
            push_numbers(&mut packed, &kept);
            let (len, head) = read_varint(&packed);
            proptest::prop_assert_eq!(head + len, packed.len());
            // A piece of the fields joined (maybe across two of them), and any needle.
            let joined: Vec<char> = kept.join("|").chars().collect();
            let (from, n) = piece;
            let cut: String = joined.iter().skip(from % joined.len().max(1)).take(n).filter(|&&c| c != '|').collect();
            for needle in [cut, other] {
                if needle.is_empty() {
                    continue;
                }
                let want = kept.iter().any(|f| f.contains(needle.as_str()));
                let found = NumberNeedle::new(&needle).unwrap().found_in(&packed[head..]);
                proptest::prop_assert_eq!(found, want, "needle {:?} in {:?}", needle, kept);
            }
        }
    }

    #[test]
    fn a_needle_with_other_characters_is_not_looked_for_in_numbers() {
        assert!(NumberNeedle::new("555.01").is_none());
        assert!(NumberNeedle::new("a1").is_none());
        assert!(NumberNeedle::new("").is_none());
        assert!(NumberNeedle::new("+1 (555) 01-00").is_some());
    }

    #[test]
    fn backspace_takes_the_earlier_result_and_it_is_what_a_fresh_scan_finds() {
        let owned = |v: Vec<&str>| v.into_iter().map(String::from).collect::<Vec<_>>();
        let mut p = WabasPane::new(OnboardingRules::new(US));
        p.set_items(list(odd_book()), ReadStamp::issue());
        p.lane = WabaLane::All;
        let fresh = |needle: &str| {
            let mut q = WabasPane::new(OnboardingRules::new(US));
            q.set_items(list(odd_book()), ReadStamp::issue());
            q.lane = WabaLane::All;
            q.filter = Input::new(needle.into());
            owned(ids(&q))
        };
        let typed = ["3", "31", "310", "3100", "31000", "310001"];
        let mut shown = vec![];
        for t in typed {
            p.filter = Input::new(t.into());
            shown.push(p.visible_indices());
        }
        for (k, t) in typed.iter().enumerate().rev().skip(1) {
            p.filter = Input::new((*t).into());
            let again = p.visible_indices();
            assert!(
                std::sync::Arc::ptr_eq(&again, &shown[k]),
                "{t}: the earlier result"
            );
            assert_eq!(owned(ids(&p)), fresh(t), "{t}");
        }
        // Typing something else after Backspace scans again.
        p.filter = Input::new("3a".into());
        assert_eq!(owned(ids(&p)), fresh("3a"));
        p.filter = Input::new("3".into());
        assert_eq!(owned(ids(&p)), fresh("3"));
        // New data: nothing earlier is reused.
        p.set_items(list(odd_book()[..2].to_vec()), ReadStamp::issue());
        p.filter = Input::new("31".into());
        p.filter = Input::new("3".into());
        assert_eq!(ids(&p).len(), 2);
    }

    #[test]
    fn rows_replaced_one_by_one_are_searched_and_sorted_by_what_they_now_say() {
        let mut p = pane();
        p.lane = WabaLane::All;
        p.sort = SortKey::Name;
        // Enough replacements that the search text is written again more than once.
        for k in 0..50 {
            p.apply_waba(
                waba("3", &format!("Charlie {k}"), "LIMITED", 200, false),
                ReadStamp::issue(),
            );
        }
        p.filter = Input::new("charlie 49".into());
        assert_eq!(ids(&p), ["3"]);
        p.filter = Input::new("charlie 48".into());
        assert!(ids(&p).is_empty(), "an earlier name is not found");
        p.filter = Input::default();
        assert_eq!(
            ids(&p),
            ["2", "4", "3", "1"],
            "alpha, bravo, charlie 49, delta"
        );
        // A new WABA from a single read is found and sorted too.
        p.apply_waba(
            waba("9", "Aardvark", "AVAILABLE", 50, true),
            ReadStamp::issue(),
        );
        assert_eq!(ids(&p), ["9", "2", "4", "3", "1"]);
        assert_eq!(p.row("9").map(WabaRow::id), Some("9"));
        p.filter = Input::new("aard".into());
        assert_eq!(ids(&p), ["9"]);
    }

    #[test]
    fn a_list_that_repeats_an_id_shows_both_and_finds_the_last() {
        let mut p = WabasPane::new(OnboardingRules::new(US));
        p.set_items(
            list(vec![
                waba("1", "first", "AVAILABLE", 100, true),
                waba("1", "second", "BLOCKED", 100, true),
            ]),
            ReadStamp::issue(),
        );
        p.lane = WabaLane::All;
        assert_eq!(p.visible_len(), 2);
        assert_eq!(p.row("1").map(|r| r.waba.name()), Some("second"));
    }

    #[test]
    fn a_waba_that_left_and_came_back_is_not_new() {
        let mut p = pane();
        let all = |without: &str| {
            list(
                [
                    waba("1", "delta", "AVAILABLE", 100, true),
                    waba("2", "Alpha", "BLOCKED", 300, true),
                    waba("3", "charlie", "LIMITED", 200, false),
                    waba("4", "Bravo", "AVAILABLE", 400, false),
                ]
                .into_iter()
                .filter(|w| w.id() != without)
                .collect(),
            )
        };
        p.set_items(all("2"), ReadStamp::issue());
        assert!(p.row("2").is_none());
        p.set_items(all(""), ReadStamp::issue());
        assert!(p.changes.is_empty(), "listed before: not new");
        // The same through a page of a round in progress.
        p.set_items(all("3"), ReadStamp::issue());
        p.apply_page(
            WabaPage {
                wabas: vec![Arc::new(waba("3", "charlie", "LIMITED", 200, false))],
                listed: 1,
                expected: Some(4),
            },
            ReadStamp::issue(),
        );
        assert!(p.changes.is_empty());
        // One never listed is.
        p.apply_waba(waba("7", "golf", "AVAILABLE", 10, true), ReadStamp::issue());
        assert_eq!(p.changes.get("7"), Some(&Change::New));
    }

    #[test]
    fn onboardings_in_a_window_are_counted_by_binary_search() {
        let p = pane();
        // Created at 100, 200, 300, 400.
        assert_eq!(p.onboarded_between(100, 400), 3, "(since, until]");
        assert_eq!(p.onboarded_between(0, 1000), 4);
        assert_eq!(p.onboarded_between(400, 1000), 0);
    }
}
