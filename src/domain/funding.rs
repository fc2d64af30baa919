//! Funding, as Meta prescribes checking it (reference §4.6): an allocation's
//! `receiving_credential.id` must equal the `primary_funding_id` of the customer's WABA. Pure
//! functions over the wire types: which WABAs each allocation covers, whether it holds, and
//! which WABAs have no credit of ours (and why).

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use compact_str::CompactString;
use hashbrown::HashTable;

use crate::graph::credit_model::{AllocationConfig, CreditLineData, non_empty};
use crate::graph::waba_model::Waba;

/// Receiving credentials (funding source ids): inline strings, no allocation per id.
pub type Credentials = HashSet<CompactString>;

/// The receiving credentials of every live (not revoked) allocation: the funding sources that
/// are ours. A WABA funded by one of them has credit shared by us.
pub fn our_credentials(lines: &[CreditLineData]) -> Credentials {
    lines
        .iter()
        .flat_map(|l| &l.allocations)
        .filter(|a| !a.is_revoked())
        .filter_map(|a| a.credential_id().map(CompactString::from))
        .collect()
}

/// Meta's check for one WABA (§4.6): the allocation's `receiving_credential.id` equals the
/// WABA's `primary_funding_id`. `None` when either is not known.
pub fn funding_matches(credential: Option<&str>, primary_funding_id: Option<&str>) -> Option<bool> {
    let c = credential.and_then(non_empty)?;
    let f = primary_funding_id.and_then(non_empty)?;
    Some(c == f)
}

/// What verification needs to know of a WABA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WabaFunding<'a> {
    pub id: &'a str,
    /// `owner_business_info.id`.
    pub owner_business_id: Option<&'a str>,
    pub primary_funding_id: Option<&'a str>,
}

impl<'a> WabaFunding<'a> {
    pub fn of(w: &'a Waba) -> WabaFunding<'a> {
        WabaFunding {
            id: w.id(),
            owner_business_id: w.node.owner_business_id().and_then(non_empty),
            primary_funding_id: w.node.funding_id(),
        }
    }
}

/// The WABAs we know, indexed by owner business and by funding source.
#[derive(Debug, Clone, Default)]
pub struct FundingIndex<'a> {
    pub wabas: Vec<WabaFunding<'a>>,
    by_owner: HashMap<&'a str, Vec<usize>>,
    by_funding: HashMap<&'a str, Vec<usize>>,
}

impl<'a> FundingIndex<'a> {
    pub fn new(wabas: Vec<WabaFunding<'a>>) -> FundingIndex<'a> {
        let mut by_owner: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_funding: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, w) in wabas.iter().enumerate() {
            if let Some(o) = w.owner_business_id {
                by_owner.entry(o).or_default().push(i);
            }
            if let Some(f) = w.primary_funding_id {
                by_funding.entry(f).or_default().push(i);
            }
        }
        FundingIndex {
            wabas,
            by_owner,
            by_funding,
        }
    }

    /// The WABAs of `business`, then any other funded by `credential`, each once, in list
    /// order.
    pub fn of_allocation(&self, business: Option<&str>, credential: Option<&str>) -> Vec<usize> {
        let mut out: Vec<usize> = business
            .and_then(|b| self.by_owner.get(b))
            .cloned()
            .unwrap_or_default();
        if let Some(more) = credential.and_then(|c| self.by_funding.get(c)) {
            out.extend(more);
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether the business owns a WABA we know.
    pub fn has_owner(&self, business: &str) -> bool {
        self.by_owner.contains_key(business)
    }
}

/// Where an allocation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verification {
    /// A WABA of the business is funded by another source than the allocation's credential.
    Mismatched,
    /// Nothing to compare: no WABA of the business is attached, the WABAs are not read yet, or
    /// Meta sent no credential.
    Unknown,
    /// Every attached WABA of the business is funded by the allocation's credential.
    Verified,
    /// `request_status` is `DELETED`.
    Revoked,
}

impl Verification {
    /// The snapshot's `verified`: true, false, or null (unknown, and revoked: nothing to verify).
    pub fn verified(self) -> Option<bool> {
        match self {
            Verification::Verified => Some(true),
            Verification::Mismatched => Some(false),
            Verification::Unknown | Verification::Revoked => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Verification::Verified => "verified",
            Verification::Mismatched => "mismatched",
            Verification::Unknown => "unknown",
            Verification::Revoked => "revoked",
        }
    }

    /// A symbol that says it without colour.
    pub fn symbol(self) -> &'static str {
        match self {
            Verification::Verified => "✓",
            Verification::Mismatched => "✗",
            Verification::Unknown => "?",
            Verification::Revoked => "–",
        }
    }
}

/// An allocation compared with the WABAs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationCheck {
    pub verification: Verification,
    /// The WABAs of the receiving business (and any other funded by its credential): the ones
    /// it covers, and a revoke stops.
    pub waba_ids: Vec<String>,
    /// Those funded by its credential.
    pub funded: Vec<String>,
    /// Those funded by another source.
    pub mismatched: Vec<String>,
    /// Those with no funding source.
    pub unattached: Vec<String>,
}

/// Verify one allocation against the WABAs we know (`None`: not read yet). Revoked beats
/// everything; then any WABA of the business funded by another source makes it mismatched;
/// else one funded by its credential makes it verified; else it is unknown.
pub fn check_allocation(a: &AllocationConfig, wabas: Option<&FundingIndex>) -> AllocationCheck {
    let mut check = AllocationCheck {
        verification: Verification::Unknown,
        waba_ids: vec![],
        funded: vec![],
        mismatched: vec![],
        unattached: vec![],
    };
    let credential = a.credential_id();
    if let Some(index) = wabas {
        for i in index.of_allocation(a.business_id(), credential) {
            let w = &index.wabas[i];
            check.waba_ids.push(w.id.to_string());
            match (
                w.primary_funding_id,
                funding_matches(credential, w.primary_funding_id),
            ) {
                (None, _) => check.unattached.push(w.id.to_string()),
                (Some(_), Some(true)) => check.funded.push(w.id.to_string()),
                (Some(_), Some(false)) => check.mismatched.push(w.id.to_string()),
                (Some(_), None) => {}
            }
        }
    }
    check.verification = if a.is_revoked() {
        Verification::Revoked
    } else if wabas.is_none() || credential.is_none() {
        Verification::Unknown
    } else if !check.mismatched.is_empty() {
        Verification::Mismatched
    } else if !check.funded.is_empty() {
        Verification::Verified
    } else {
        Verification::Unknown
    };
    check
}

/// Why a WABA has no credit of ours (ids inline: the Not funded lane holds one per WABA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotFunded {
    /// No funding source at all.
    NoFunding,
    /// The business has a live allocation of ours, but this WABA is not attached to it.
    NotAttached { allocation_id: CompactString },
    /// Funded by the credential of an allocation of ours that was revoked.
    Revoked { allocation_id: CompactString },
    /// The business has a live allocation of ours, but the WABA is funded by another source.
    Mismatched {
        allocation_id: CompactString,
        funding: CompactString,
    },
    /// Funded by a source that is not ours (the customer's own, or another partner's).
    OtherFunding { funding: CompactString },
}

impl NotFunded {
    /// Whether sharing a line with it may work: Meta refuses to change a funding source once
    /// one is attached (§4.3).
    pub fn shareable(&self) -> bool {
        matches!(
            self,
            NotFunded::NoFunding | NotFunded::NotAttached { .. } | NotFunded::Revoked { .. }
        )
    }

    /// In a few words.
    pub fn label(&self) -> String {
        match self {
            NotFunded::NoFunding => "no funding".into(),
            NotFunded::NotAttached { .. } => "shared, not attached".into(),
            NotFunded::Revoked { .. } => "revoked".into(),
            NotFunded::Mismatched { funding, .. } => format!("mismatch: funding {funding}"),
            NotFunded::OtherFunding { funding } => format!("other funding {funding}"),
        }
    }
}

/// Every WABA not funded by a live allocation of ours, with why, in list order. This is
/// exactly the WABAs whose checklist says "credit shared: no" once our credentials are known.
pub fn not_funded(index: &FundingIndex, lines: &[CreditLineData]) -> Vec<(usize, NotFunded)> {
    let mut live_by_business: HashMap<&str, &AllocationConfig> = HashMap::new();
    let mut by_credential: HashMap<&str, &AllocationConfig> = HashMap::new();
    for a in lines.iter().flat_map(|l| &l.allocations) {
        if let Some(c) = a.credential_id() {
            // A live allocation wins over a revoked one with the same credential.
            let e = by_credential.entry(c).or_insert(a);
            if e.is_revoked() && !a.is_revoked() {
                *e = a;
            }
        }
        if !a.is_revoked()
            && let Some(b) = a.business_id()
        {
            live_by_business.entry(b).or_insert(a);
        }
    }
    let mut out = vec![];
    for (i, w) in index.wabas.iter().enumerate() {
        let live = w
            .owner_business_id
            .and_then(|b| live_by_business.get(b))
            .map(|a| CompactString::from(a.id.as_str()));
        let reason = match w.primary_funding_id {
            None => match live {
                Some(allocation_id) => NotFunded::NotAttached { allocation_id },
                None => NotFunded::NoFunding,
            },
            Some(f) => match by_credential.get(f) {
                Some(a) if !a.is_revoked() => continue,
                Some(a) => NotFunded::Revoked {
                    allocation_id: a.id.as_str().into(),
                },
                None => match live {
                    Some(allocation_id) => NotFunded::Mismatched {
                        allocation_id,
                        funding: f.into(),
                    },
                    None => NotFunded::OtherFunding { funding: f.into() },
                },
            },
        };
        out.push((i, reason));
    }
    out
}

// ---------------------------------------------------------------- the join kept up to date

/// Why a WABA has no credit of ours, in a few bytes: an allocation by its index in the
/// [`FundingJoin`] (lines in order, each line's allocations in order); the funding source is
/// read from the WABA itself when the reason is spelled out ([`FundingJoin::reason`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unfunded {
    NoFunding,
    NotAttached(u32),
    Revoked(u32),
    Mismatched(u32),
    OtherFunding,
}

impl Unfunded {
    /// As [`NotFunded::shareable`].
    pub fn shareable(self) -> bool {
        matches!(
            self,
            Unfunded::NoFunding | Unfunded::NotAttached(_) | Unfunded::Revoked(_)
        )
    }
}

/// A slot's `Option<Unfunded>` in 4 bytes: the kind in the top 3 bits (0: funded), the
/// allocation's index below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reason(u32);

impl Reason {
    const KIND_SHIFT: u32 = 29;
    /// The most allocations the join indexes (far beyond any book a console holds).
    const MAX_ALLOCATIONS: u32 = 1 << Self::KIND_SHIFT;
    const FUNDED: Reason = Reason(0);

    fn of(u: Option<Unfunded>) -> Reason {
        let (kind, a) = match u {
            None => return Reason::FUNDED,
            Some(Unfunded::NoFunding) => (1, 0),
            Some(Unfunded::NotAttached(a)) => (2, a),
            Some(Unfunded::Revoked(a)) => (3, a),
            Some(Unfunded::Mismatched(a)) => (4, a),
            Some(Unfunded::OtherFunding) => (5, 0),
        };
        Reason(kind << Self::KIND_SHIFT | (a & (Self::MAX_ALLOCATIONS - 1)))
    }

    fn get(self) -> Option<Unfunded> {
        let a = self.0 & (Self::MAX_ALLOCATIONS - 1);
        Some(match self.0 >> Self::KIND_SHIFT {
            1 => Unfunded::NoFunding,
            2 => Unfunded::NotAttached(a),
            3 => Unfunded::Revoked(a),
            4 => Unfunded::Mismatched(a),
            5 => Unfunded::OtherFunding,
            _ => return None,
        })
    }
}

/// The orders the not-funded list is kept in, each with the WABA id last so no two tie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnfundedOrder {
    /// What a share can fix first, then by name.
    Fixable,
    /// By WABA name.
    Name,
    /// By the owner business's name, then by WABA name.
    Owner,
}

impl UnfundedOrder {
    /// The orders the join keeps sorted: "fixable first" is the name order taken in two
    /// passes (what a share can fix, then the rest), so it needs no list of its own.
    const KEPT: [UnfundedOrder; 2] = [UnfundedOrder::Name, UnfundedOrder::Owner];

    /// Its list among [`KEPT`](Self::KEPT) (fixable-first reads the name list).
    fn index(self) -> usize {
        match self {
            UnfundedOrder::Fixable | UnfundedOrder::Name => 0,
            UnfundedOrder::Owner => 1,
        }
    }

    /// How two not-funded WABAs compare in this order: exactly the order of the keys
    /// `(!shareable, name.to_lowercase(), id)`, `(name.to_lowercase(), id)` and
    /// `(owner.to_lowercase(), name.to_lowercase(), id)`, without making the lowercase copies.
    pub fn cmp(self, a: (&Waba, Unfunded), b: (&Waba, Unfunded)) -> Ordering {
        let by_name = || cmp_lowercase(a.0.name(), b.0.name()).then_with(|| a.0.id().cmp(b.0.id()));
        match self {
            UnfundedOrder::Fixable => (!a.1.shareable()).cmp(&!b.1.shareable()).then_with(by_name),
            UnfundedOrder::Name => by_name(),
            UnfundedOrder::Owner => cmp_lowercase(
                a.0.owner_name().unwrap_or(""),
                b.0.owner_name().unwrap_or(""),
            )
            .then_with(by_name),
        }
    }

    /// The text this order sorts by first.
    fn first_key(self, w: &Waba) -> &str {
        match self {
            UnfundedOrder::Fixable | UnfundedOrder::Name => w.name(),
            UnfundedOrder::Owner => w.owner_name().unwrap_or(""),
        }
    }
}

/// `a.to_lowercase().cmp(&b.to_lowercase())`, with no copy when both are ASCII (nearly always).
pub fn cmp_lowercase(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
    } else {
        a.to_lowercase().cmp(&b.to_lowercase())
    }
}

/// The first 16 bytes of `s.to_lowercase()`, zero-padded: comparing two of them orders the
/// strings as far as it tells (equal prefixes: compare the strings).
fn lowercase_prefix(s: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    let mut fill = |bytes: &mut dyn Iterator<Item = u8>| {
        for (slot, b) in out.iter_mut().zip(bytes) {
            *slot = b;
        }
    };
    if s.is_ascii() {
        fill(&mut s.bytes().map(|c| c.to_ascii_lowercase()));
    } else {
        fill(&mut s.to_lowercase().bytes());
    }
    out
}

/// How many slots a chunk of a [`SortedSlots`] holds at most.
const CHUNK: usize = 256;

/// Slots of not-funded WABAs kept sorted by a comparison that reads the WABAs (4 bytes each,
/// no copy of a name), in chunks of at most [`CHUNK`]: an insert or a removal is a binary
/// search and moves at most a chunk, never the whole list. Beside each chunk, the 16-byte
/// lowercase prefix of its last slot's sort key: finding the chunk reads no WABA unless the
/// prefixes tie. The order of the slots in it never changes while they are in it (a WABA is
/// an immutable value: a changed one is taken out and the new one put in).
///
/// A slot is sought with its `prefix`, `before(x)` (whether slot `x` sorts before it) and
/// `key(x)` (the prefix of slot `x`'s key), which must agree: a smaller prefix sorts before.
#[derive(Debug, Clone, Default)]
struct SortedSlots {
    chunks: Vec<Vec<u32>>,
    lasts: Vec<[u8; 16]>,
    len: usize,
}

impl SortedSlots {
    /// Sorted slots, in chunks three quarters full (room to insert without growing).
    fn from_sorted(
        slots: impl ExactSizeIterator<Item = u32>,
        key: impl Fn(u32) -> [u8; 16],
    ) -> SortedSlots {
        let len = slots.len();
        let fill = CHUNK * 3 / 4;
        let mut chunks = Vec::with_capacity(len.div_ceil(fill));
        let mut chunk = Vec::with_capacity(CHUNK);
        for s in slots {
            if chunk.len() == fill {
                chunks.push(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)));
            }
            chunk.push(s);
        }
        if !chunk.is_empty() {
            chunks.push(chunk);
        }
        let lasts = chunks
            .iter()
            .map(|c: &Vec<u32>| key(*c.last().expect("no empty chunk")))
            .collect();
        SortedSlots { chunks, lasts, len }
    }

    /// Where the slot sought is or goes: its chunk and its place in it.
    fn locate(&self, prefix: &[u8; 16], before: &impl Fn(u32) -> bool) -> (usize, usize) {
        let (mut lo, mut hi) = (0, self.chunks.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            let chunk_before = match self.lasts[mid].cmp(prefix) {
                Ordering::Less => true,
                Ordering::Greater => false,
                Ordering::Equal => self.chunks[mid].last().is_some_and(|&x| before(x)),
            };
            if chunk_before {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let c = lo.min(self.chunks.len().saturating_sub(1));
        let at = self
            .chunks
            .get(c)
            .map_or(0, |chunk| chunk.partition_point(|&x| before(x)));
        (c, at)
    }

    fn insert(
        &mut self,
        slot: u32,
        prefix: [u8; 16],
        before: impl Fn(u32) -> bool,
        key: impl Fn(u32) -> [u8; 16],
    ) {
        self.len += 1;
        if self.chunks.is_empty() {
            let mut chunk = Vec::with_capacity(CHUNK);
            chunk.push(slot);
            self.chunks.push(chunk);
            self.lasts.push(prefix);
            return;
        }
        let (c, at) = self.locate(&prefix, &before);
        let chunk = &mut self.chunks[c];
        chunk.insert(at, slot);
        if at + 1 == chunk.len() {
            self.lasts[c] = prefix;
        }
        if chunk.len() >= CHUNK {
            let mut tail = Vec::with_capacity(CHUNK);
            tail.extend(chunk.drain(CHUNK / 2..));
            let head_last = key(*chunk.last().expect("half a chunk"));
            self.chunks.insert(c + 1, tail);
            self.lasts.insert(c + 1, self.lasts[c]);
            self.lasts[c] = head_last;
        }
    }

    /// Take `slot` out; `false` when it is not there.
    fn remove(
        &mut self,
        slot: u32,
        prefix: [u8; 16],
        before: impl Fn(u32) -> bool,
        key: impl Fn(u32) -> [u8; 16],
    ) -> bool {
        let (c, at) = self.locate(&prefix, &before);
        let Some(chunk) = self.chunks.get_mut(c) else {
            return false;
        };
        if chunk.get(at) != Some(&slot) {
            return false;
        }
        chunk.remove(at);
        self.len -= 1;
        let left = chunk.len();
        if left == 0 {
            self.chunks.remove(c);
            self.lasts.remove(c);
            return true;
        }
        if at == left {
            self.lasts[c] = key(chunk[left - 1]);
        }
        if left < CHUNK / 8
            && let Some(next) = self.chunks.get(c + 1)
            && next.len() + left < CHUNK
        {
            // Two small neighbours become one.
            let next = self.chunks.remove(c + 1);
            self.chunks[c].extend(next);
            self.lasts[c] = self.lasts.remove(c + 1);
        }
        true
    }

    fn iter(&self) -> impl DoubleEndedIterator<Item = u32> + '_ {
        self.chunks.iter().flatten().copied()
    }

    fn bytes(&self) -> usize {
        self.chunks.capacity() * std::mem::size_of::<Vec<u32>>()
            + self.lasts.capacity() * 16
            + self.chunks.iter().map(|c| c.capacity() * 4).sum::<usize>()
    }
}

/// The slots of the WABAs an allocation covers, in the order they first arrived: most
/// allocations cover one or two WABAs, held inline.
#[derive(Debug, Clone, Default)]
enum Covered {
    #[default]
    None,
    One([u32; 1]),
    Two([u32; 2]),
    // One pointer, not three: keeps every allocation's `Covered` at 16 bytes.
    #[allow(clippy::box_collection)]
    Many(Box<Vec<u32>>),
}

impl Covered {
    fn as_slice(&self) -> &[u32] {
        match self {
            Covered::None => &[],
            Covered::One(s) => s,
            Covered::Two(s) => s,
            Covered::Many(v) => v,
        }
    }

    fn len(&self) -> usize {
        self.as_slice().len()
    }

    fn insert(&mut self, s: u32) {
        *self = match std::mem::take(self) {
            Covered::None => Covered::One([s]),
            Covered::One([a]) if a == s => Covered::One([a]),
            Covered::One([a]) => Covered::Two([a.min(s), a.max(s)]),
            Covered::Two(two) if two.contains(&s) => Covered::Two(two),
            Covered::Two(two) => {
                let mut v = two.to_vec();
                let at = v.partition_point(|&x| x < s);
                v.insert(at, s);
                Covered::Many(Box::new(v))
            }
            Covered::Many(mut v) => {
                if let Err(at) = v.binary_search(&s) {
                    v.insert(at, s);
                }
                Covered::Many(v)
            }
        };
    }

    fn remove(&mut self, s: u32) {
        *self = match std::mem::take(self) {
            Covered::One([a]) if a == s => Covered::None,
            Covered::Two([a, b]) if a == s => Covered::One([b]),
            Covered::Two([a, b]) if b == s => Covered::One([a]),
            Covered::Many(mut v) => {
                if let Ok(at) = v.binary_search(&s) {
                    v.remove(at);
                }
                match v.as_slice() {
                    [a, b] => Covered::Two([*a, *b]),
                    _ => Covered::Many(v),
                }
            }
            other => other,
        };
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Covered::Many(v) => std::mem::size_of::<Vec<u32>>() + v.capacity() * 4,
            _ => 0,
        }
    }
}

/// No next allocation in a chain.
const END: u32 = u32::MAX;

/// One allocation as the join keeps it: integers only (its ids are read from the lines).
#[derive(Debug, Clone)]
struct Joined {
    revoked: bool,
    has_credential: bool,
    funded: u32,
    mismatched: u32,
    unattached: u32,
    /// The next allocation (by index) of the same receiving business, and of the same
    /// receiving credential: `END` when this is the last.
    next_of_business: u32,
    next_of_credential: u32,
    covered: Covered,
}

/// What one WABA contributes to the join (16 bytes).
#[derive(Debug, Clone)]
struct Slot {
    /// `None` once gone (slots are not reused: the covered lists keep the arrival order).
    waba: Option<Arc<Waba>>,
    reason: Reason,
    /// The last full sync that saw it.
    seen: u32,
}

/// What the Credit lines pane shows of an allocation: its check and how many WABAs it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckSummary {
    pub verification: Verification,
    pub wabas: u32,
}

/// What the join holds, by part, in bytes (`cargo bench --bench memory` reports it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JoinMemory {
    /// Per allocation: its counts, chains and covered slots.
    pub allocations: usize,
    /// The allocations by receiving business and by receiving credential.
    pub allocation_index: usize,
    /// Per WABA: its slot (the shared `Arc`, its reason, the last sync that saw it).
    pub slots: usize,
    /// The slots by WABA id.
    pub waba_index: usize,
    /// The not-funded WABAs in each kept order.
    pub lanes: usize,
}

impl JoinMemory {
    pub fn total(&self) -> usize {
        self.allocations + self.allocation_index + self.slots + self.waba_index + self.lanes
    }
}

/// The allocation at flat index `i` of `lines` (lines in order, each line's allocations in
/// order).
fn flat_allocation(lines: &[CreditLineData], i: u32) -> Option<&AllocationConfig> {
    let mut i = i as usize;
    for l in lines {
        match l.allocations.get(i) {
            Some(a) => return Some(a),
            None => i -= l.allocations.len(),
        }
    }
    None
}

/// Our allocations joined with the WABA book, kept up to date as WABAs arrive, change and go:
/// each WABA costs a few look-ups among the allocations of its owner business and of its
/// funding source, never a pass over the book. The allocations are few next to the WABAs
/// (one per customer business): when they change the join is built again
/// ([`FundingJoin::new`] then [`FundingJoin::sync_all`]).
///
/// It answers what [`check_allocation`] and [`not_funded`] answer over a [`FundingIndex`], with
/// the not-funded WABAs kept sorted in every [`UnfundedOrder`]. It holds the shared
/// `Arc<Waba>`s and integers, never a copy of a string: the allocations' ids are read from the
/// lines it was built from, which every call that needs them is given (the same lines).
#[derive(Debug, Clone, Default)]
pub struct FundingJoin {
    allocations: Vec<Joined>,
    /// The first allocation of each receiving business and of each receiving credential
    /// (revoked ones too: a revoke still covers its business's WABAs); the rest follow the
    /// chains in [`Joined`], in index order.
    by_business: HashTable<u32>,
    by_credential: HashTable<u32>,
    hasher: RandomState,
    /// Per WABA, in the order they first arrived.
    slots: Vec<Slot>,
    /// The slots of the WABAs held, by WABA id (the id is read from the slot's WABA).
    slot_of: HashTable<u32>,
    /// The not-funded WABAs in each order of [`UnfundedOrder::KEPT`].
    unfunded: [SortedSlots; 2],
    /// While a full sync builds the lanes from nothing: they are sorted once at its end.
    bulk: bool,
    /// The number of the current full sync.
    sync: u32,
}

/// The first allocation of a WABA's owner business and of its funding source.
#[derive(Debug, Clone, Copy)]
struct Heads {
    business: Option<u32>,
    credential: Option<u32>,
}

/// Which id of an allocation a chain links.
#[derive(Debug, Clone, Copy)]
enum Key {
    Business,
    Credential,
}

impl Key {
    fn of(self, a: &AllocationConfig) -> Option<&str> {
        match self {
            Key::Business => a.business_id(),
            Key::Credential => a.credential_id(),
        }
    }
}

impl FundingJoin {
    /// The allocations of `lines`, and no WABA yet.
    pub fn new(lines: &[CreditLineData]) -> FundingJoin {
        let mut join = FundingJoin::default();
        let count = lines.iter().map(|l| l.allocations.len()).sum::<usize>();
        join.allocations
            .reserve_exact(count.min(Reason::MAX_ALLOCATIONS as usize));
        // The last allocation of each chain, by its first (per key): linking is one step.
        let mut tails: [Vec<u32>; 2] = [vec![], vec![]];
        let all = lines
            .iter()
            .flat_map(|l| &l.allocations)
            .take(Reason::MAX_ALLOCATIONS as usize);
        for a in all {
            let i = join.allocations.len() as u32;
            join.allocations.push(Joined {
                revoked: a.is_revoked(),
                has_credential: a.credential_id().is_some(),
                funded: 0,
                mismatched: 0,
                unattached: 0,
                next_of_business: END,
                next_of_credential: END,
                covered: Covered::None,
            });
            for (key, tail) in [Key::Business, Key::Credential].into_iter().zip(&mut tails) {
                tail.push(i);
                let Some(id) = key.of(a) else { continue };
                let hash = join.hasher.hash_one(id);
                let table = match key {
                    Key::Business => &mut join.by_business,
                    Key::Credential => &mut join.by_credential,
                };
                let same = |&f: &u32| flat_allocation(lines, f).and_then(|x| key.of(x)) == Some(id);
                match table.find(hash, same).copied() {
                    Some(first) => {
                        let last = tail[first as usize];
                        let j = &mut join.allocations[last as usize];
                        match key {
                            Key::Business => j.next_of_business = i,
                            Key::Credential => j.next_of_credential = i,
                        }
                        tail[first as usize] = i;
                    }
                    None => {
                        let hasher = &join.hasher;
                        table.insert_unique(hash, i, |&f| {
                            hasher.hash_one(
                                flat_allocation(lines, f)
                                    .and_then(|x| key.of(x))
                                    .unwrap_or_default(),
                            )
                        });
                    }
                }
            }
        }
        join
    }

    /// The first allocation of the chain of `id`.
    fn first_of(&self, lines: &[CreditLineData], key: Key, id: &str) -> Option<u32> {
        let table = match key {
            Key::Business => &self.by_business,
            Key::Credential => &self.by_credential,
        };
        table
            .find(self.hasher.hash_one(id), |&f| {
                flat_allocation(lines, f).and_then(|x| key.of(x)) == Some(id)
            })
            .copied()
    }

    /// The allocations of a chain, in index order.
    fn chain(&self, first: Option<u32>, key: Key) -> impl Iterator<Item = u32> + '_ {
        std::iter::successors(first, move |&i| {
            let j = &self.allocations[i as usize];
            let next = match key {
                Key::Business => j.next_of_business,
                Key::Credential => j.next_of_credential,
            };
            (next != END).then_some(next)
        })
    }

    /// The slot of the WABA with this id.
    fn slot(&self, id: &str) -> Option<u32> {
        self.slot_hashed(id, self.hasher.hash_one(id))
    }

    /// The slot of the WABA with this id, whose hash is `hash`.
    fn slot_hashed(&self, id: &str, hash: u64) -> Option<u32> {
        let slots = &self.slots;
        self.slot_of
            .find(hash, |&s| {
                slots[s as usize]
                    .waba
                    .as_deref()
                    .is_some_and(|w| w.id() == id)
            })
            .copied()
    }

    /// How many WABAs the join holds.
    pub fn len(&self) -> usize {
        self.slot_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slot_of.is_empty()
    }

    /// Take in a WABA that arrived or changed (by id). The same value as held costs one
    /// look-up. `lines`: the ones the join was built from.
    pub fn put(&mut self, lines: &[CreditLineData], waba: &Arc<Waba>) {
        let sync = self.sync;
        let hash = self.hasher.hash_one(waba.id());
        match self.slot_hashed(waba.id(), hash) {
            Some(s) => {
                let slot = &mut self.slots[s as usize];
                slot.seen = sync;
                if slot.waba.as_ref().is_some_and(|w| Arc::ptr_eq(w, waba)) {
                    return;
                }
                self.detach(lines, s);
                // The same id: the index stands.
                self.attach(lines, s, waba.clone());
            }
            None => {
                let s = self.slots.len() as u32;
                self.slots.push(Slot {
                    waba: Some(waba.clone()),
                    reason: Reason::FUNDED,
                    seen: sync,
                });
                let (hasher, slots) = (&self.hasher, &self.slots);
                self.slot_of.insert_unique(hash, s, |&t| {
                    hasher.hash_one(slots[t as usize].waba.as_deref().map_or("", Waba::id))
                });
                self.attach(lines, s, waba.clone());
            }
        }
    }

    /// Let a WABA go (no longer listed).
    pub fn remove(&mut self, lines: &[CreditLineData], id: &str) {
        let Some(s) = self.slot(id) else {
            return;
        };
        self.detach(lines, s);
        if let Ok(entry) = self
            .slot_of
            .find_entry(self.hasher.hash_one(id), |&t| t == s)
        {
            entry.remove();
        }
        self.slots[s as usize].waba = None;
    }

    /// Bring the join to exactly these WABAs (a whole list): the unchanged cost a look-up
    /// each, the changed are taken in, the ones not listed go.
    pub fn sync_all<'a>(
        &mut self,
        lines: &[CreditLineData],
        wabas: impl IntoIterator<Item = &'a Arc<Waba>>,
    ) {
        self.sync = self.sync.wrapping_add(1);
        // Nothing sorted yet (a new join): the lanes are sorted once at the end instead of
        // taking each WABA in turn.
        self.bulk = self.unfunded.iter().all(|l| l.len == 0);
        let wabas = wabas.into_iter();
        if self.slots.is_empty() {
            // A new join: room for the whole list at once, not grown (and rehashed) by halves.
            let (listed, _) = wabas.size_hint();
            self.slots.reserve_exact(listed);
            let (hasher, slots) = (&self.hasher, &self.slots);
            self.slot_of.reserve(listed, |&t| {
                hasher.hash_one(slots[t as usize].waba.as_deref().map_or("", Waba::id))
            });
        }
        for w in wabas {
            self.put(lines, w);
        }
        let sync = self.sync;
        let gone: Vec<Arc<Waba>> = self
            .slots
            .iter()
            .filter(|s| s.seen != sync)
            .filter_map(|s| s.waba.clone())
            .collect();
        for w in gone {
            self.remove(lines, w.id());
        }
        if self.bulk {
            self.bulk = false;
            self.sort_lanes();
        }
        // Slots of WABAs gone are not reused (the covered lists keep the arrival order):
        // once they are most of the table, it is built again, compact.
        if self.slots.len() > 1024 && self.slots.len() > 2 * self.len() {
            let live: Vec<Arc<Waba>> = self.slots.iter().filter_map(|s| s.waba.clone()).collect();
            let mut fresh = self.clone_allocations();
            fresh.sync_all(lines, &live);
            *self = fresh;
        }
    }

    /// The lanes sorted from the slots at once: by a 16-byte lowercase prefix of the first
    /// key, the whole comparison only where the prefixes tie.
    fn sort_lanes(&mut self) {
        let slots = &self.slots;
        for order in UnfundedOrder::KEPT {
            let mut keyed: Vec<([u8; 16], u32)> = slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.reason != Reason::FUNDED)
                .filter_map(|(i, s)| {
                    let w = s.waba.as_deref()?;
                    Some((lowercase_prefix(order.first_key(w)), i as u32))
                })
                .collect();
            keyed.sort_unstable_by(|a, b| {
                a.0.cmp(&b.0).then_with(|| lane_cmp(slots, order, a.1, b.1))
            });
            self.unfunded[order.index()] =
                SortedSlots::from_sorted(keyed.into_iter().map(|k| k.1), |x| {
                    slot_prefix(slots, order, x)
                });
        }
    }

    /// The same allocations, no WABA.
    fn clone_allocations(&self) -> FundingJoin {
        let mut fresh = FundingJoin {
            allocations: self.allocations.clone(),
            by_business: self.by_business.clone(),
            by_credential: self.by_credential.clone(),
            hasher: self.hasher.clone(),
            ..FundingJoin::default()
        };
        for a in &mut fresh.allocations {
            a.covered = Covered::None;
            (a.funded, a.mismatched, a.unattached) = (0, 0, 0);
        }
        fresh
    }

    /// The first allocation of the WABA's owner business and of its funding source: the two
    /// look-ups everything else about the WABA follows from.
    fn heads(&self, lines: &[CreditLineData], w: &Waba) -> Heads {
        let owner = w.node.owner_business_id().and_then(non_empty);
        Heads {
            business: owner.and_then(|o| self.first_of(lines, Key::Business, o)),
            credential: w
                .node
                .funding_id()
                .and_then(|f| self.first_of(lines, Key::Credential, f)),
        }
    }

    /// The allocations that cover a WABA: those of its owner business and those of its
    /// funding source, each once.
    fn covering(&self, heads: Heads) -> Vec<u32> {
        let mut out: Vec<u32> = self.chain(heads.business, Key::Business).collect();
        if heads.credential.is_some() {
            out.extend(self.chain(heads.credential, Key::Credential));
            out.sort_unstable();
            out.dedup();
        }
        out
    }

    /// Which count of allocation `a` the WABA adds to: funded, mismatched, unattached, or
    /// none (no credential to compare with).
    fn tally(&mut self, lines: &[CreditLineData], a: u32, funding: Option<&str>, delta: i32) {
        let credential = flat_allocation(lines, a).and_then(AllocationConfig::credential_id);
        let j = &mut self.allocations[a as usize];
        let count = match (funding, credential) {
            (None, _) => &mut j.unattached,
            (Some(f), Some(c)) if f == c => &mut j.funded,
            (Some(_), Some(_)) => &mut j.mismatched,
            (Some(_), None) => return,
        };
        *count = count.wrapping_add_signed(delta);
    }

    /// Why the WABA is not funded by a live allocation of ours (`None`: it is).
    fn unfunded_reason(&self, heads: Heads, w: &Waba) -> Option<Unfunded> {
        // The first live allocation of the owner business.
        let live = self
            .chain(heads.business, Key::Business)
            .find(|&a| !self.allocations[a as usize].revoked);
        Some(match w.node.funding_id() {
            None => match live {
                Some(a) => Unfunded::NotAttached(a),
                None => Unfunded::NoFunding,
            },
            Some(_) => {
                // The allocation whose credential it is: a live one before a revoked one.
                let owner = self
                    .chain(heads.credential, Key::Credential)
                    .find(|&a| !self.allocations[a as usize].revoked)
                    .or(heads.credential);
                match owner {
                    Some(a) if !self.allocations[a as usize].revoked => return None,
                    Some(a) => Unfunded::Revoked(a),
                    None => match live {
                        Some(a) => Unfunded::Mismatched(a),
                        None => Unfunded::OtherFunding,
                    },
                }
            }
        })
    }

    /// Put slot `s` in the lanes (its WABA and reason are in the slot).
    fn add_to_lanes(&mut self, s: u32) {
        let slots = &self.slots;
        for order in UnfundedOrder::KEPT {
            self.unfunded[order.index()].insert(
                s,
                slot_prefix(slots, order, s),
                |x| lane_cmp(slots, order, x, s) == Ordering::Less,
                |x| slot_prefix(slots, order, x),
            );
        }
    }

    /// Take slot `s` out of the lanes (its slot still holds what it was sorted by).
    fn remove_from_lanes(&mut self, s: u32) {
        let slots = &self.slots;
        for order in UnfundedOrder::KEPT {
            let found = self.unfunded[order.index()].remove(
                s,
                slot_prefix(slots, order, s),
                |x| lane_cmp(slots, order, x, s) == Ordering::Less,
                |x| slot_prefix(slots, order, x),
            );
            debug_assert!(found, "a not-funded slot is in every lane");
        }
    }

    fn attach(&mut self, lines: &[CreditLineData], s: u32, waba: Arc<Waba>) {
        let funding = waba.node.funding_id();
        let heads = self.heads(lines, &waba);
        for a in self.covering(heads) {
            self.allocations[a as usize].covered.insert(s);
            self.tally(lines, a, funding, 1);
        }
        let reason = Reason::of(self.unfunded_reason(heads, &waba));
        self.slots[s as usize] = Slot {
            waba: Some(waba),
            reason,
            seen: self.sync,
        };
        if reason != Reason::FUNDED && !self.bulk {
            self.add_to_lanes(s);
        }
    }

    /// Take what slot `s`'s WABA added out of the allocations and the lanes; the slot keeps
    /// the WABA (the index finds it by it).
    fn detach(&mut self, lines: &[CreditLineData], s: u32) {
        let Some(waba) = self.slots[s as usize].waba.clone() else {
            return;
        };
        let funding = waba.node.funding_id();
        for a in self.covering(self.heads(lines, &waba)) {
            self.allocations[a as usize].covered.remove(s);
            self.tally(lines, a, funding, -1);
        }
        if self.slots[s as usize].reason != Reason::FUNDED && !self.bulk {
            self.remove_from_lanes(s);
        }
        self.slots[s as usize].reason = Reason::FUNDED;
    }

    /// Allocation `a` (in the order of [`FundingJoin::new`]'s lines) checked against the WABAs
    /// held; `wabas_read` false: the WABAs are not read yet (as [`check_allocation`] with
    /// `None`).
    pub fn check(&self, a: usize, wabas_read: bool) -> CheckSummary {
        let Some(j) = self.allocations.get(a) else {
            return CheckSummary {
                verification: Verification::Unknown,
                wabas: 0,
            };
        };
        let verification = if j.revoked {
            Verification::Revoked
        } else if !wabas_read || !j.has_credential {
            Verification::Unknown
        } else if j.mismatched > 0 {
            Verification::Mismatched
        } else if j.funded > 0 {
            Verification::Verified
        } else {
            Verification::Unknown
        };
        CheckSummary {
            verification,
            wabas: if wabas_read {
                j.covered.len() as u32
            } else {
                0
            },
        }
    }

    /// The WABAs allocation `a` covers, in the order they first arrived.
    pub fn covered(&self, a: usize) -> impl Iterator<Item = &Arc<Waba>> + '_ {
        self.allocations
            .get(a)
            .into_iter()
            .flat_map(|j| j.covered.as_slice())
            .filter_map(|s| self.slots[*s as usize].waba.as_ref())
    }

    /// How many WABAs have no credit of ours.
    pub fn unfunded_len(&self) -> usize {
        self.unfunded[0].len
    }

    /// The WABAs with no credit of ours, in `order` (reverse it with `.rev()`).
    pub fn unfunded(
        &self,
        order: UnfundedOrder,
    ) -> Box<dyn DoubleEndedIterator<Item = (&Arc<Waba>, Unfunded)> + '_> {
        let list = &self.unfunded[order.index()];
        let slots = &self.slots;
        let all = move || {
            list.iter().filter_map(move |s| {
                let slot = &slots[s as usize];
                Some((slot.waba.as_ref()?, slot.reason.get()?))
            })
        };
        match order {
            UnfundedOrder::Fixable => Box::new(
                all()
                    .filter(|(_, reason)| reason.shareable())
                    .chain(all().filter(|(_, reason)| !reason.shareable())),
            ),
            UnfundedOrder::Name | UnfundedOrder::Owner => Box::new(all()),
        }
    }

    /// Why a WABA has no credit of ours, if it has none.
    pub fn unfunded_of(&self, id: &str) -> Option<Unfunded> {
        self.slots[self.slot(id)? as usize].reason.get()
    }

    /// A reason spelled out, as [`not_funded`] gives it; `lines`: the ones the reason was
    /// found in.
    pub fn reason(lines: &[CreditLineData], u: Unfunded, waba: &Waba) -> NotFunded {
        let allocation_id = |a: u32| {
            flat_allocation(lines, a)
                .map(|x| x.id.clone())
                .unwrap_or_default()
        };
        let funding = || CompactString::from(waba.node.funding_id().unwrap_or_default());
        match u {
            Unfunded::NoFunding => NotFunded::NoFunding,
            Unfunded::NotAttached(a) => NotFunded::NotAttached {
                allocation_id: allocation_id(a),
            },
            Unfunded::Revoked(a) => NotFunded::Revoked {
                allocation_id: allocation_id(a),
            },
            Unfunded::Mismatched(a) => NotFunded::Mismatched {
                allocation_id: allocation_id(a),
                funding: funding(),
            },
            Unfunded::OtherFunding => NotFunded::OtherFunding { funding: funding() },
        }
    }

    /// What it holds, by part (the WABAs themselves are the book's).
    pub fn memory(&self) -> JoinMemory {
        JoinMemory {
            allocations: self.allocations.capacity() * std::mem::size_of::<Joined>()
                + self
                    .allocations
                    .iter()
                    .map(|j| j.covered.heap_bytes())
                    .sum::<usize>(),
            allocation_index: self.by_business.allocation_size()
                + self.by_credential.allocation_size(),
            slots: self.slots.capacity() * std::mem::size_of::<Slot>(),
            waba_index: self.slot_of.allocation_size(),
            lanes: self.unfunded.iter().map(SortedSlots::bytes).sum(),
        }
    }
}

/// The 16-byte lowercase prefix of what slot `x` sorts by first in `order`.
fn slot_prefix(slots: &[Slot], order: UnfundedOrder, x: u32) -> [u8; 16] {
    slots[x as usize]
        .waba
        .as_deref()
        .map_or([0; 16], |w| lowercase_prefix(order.first_key(w)))
}

/// How slots `x` and `y` compare in `order` (their WABAs as the slots hold them).
fn lane_cmp(slots: &[Slot], order: UnfundedOrder, x: u32, y: u32) -> Ordering {
    if x == y {
        return Ordering::Equal;
    }
    let (a, b) = (&slots[x as usize], &slots[y as usize]);
    match (a.waba.as_deref(), b.waba.as_deref()) {
        (Some(wa), Some(wb)) => order.cmp(
            (wa, a.reason.get().unwrap_or(Unfunded::NoFunding)),
            (wb, b.reason.get().unwrap_or(Unfunded::NoFunding)),
        ),
        // Never in a lane; ordered all the same.
        _ => x.cmp(&y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::credit_model::CreditLine;
    use serde_json::json;

    fn alloc(id: &str, business: &str, credential: &str, status: &str) -> AllocationConfig {
        serde_json::from_value(json!({
            "id": id,
            "receiving_business": {"id": business, "name": format!("Biz {business}")},
            "receiving_credential": {"id": credential},
            "request_status": status,
        }))
        .unwrap()
    }

    fn w<'a>(id: &'a str, owner: &'a str, funding: Option<&'a str>) -> WabaFunding<'a> {
        WabaFunding {
            id,
            owner_business_id: Some(owner),
            primary_funding_id: funding,
        }
    }

    #[test]
    fn each_verification_case() {
        let wabas = FundingIndex::new(vec![
            w("w1", "b1", Some("c1")),
            w("w2", "b2", Some("other")),
            w("w3", "b3", None),
            w("w4", "b4", Some("c4")),
            w("w5", "b4", None),
        ]);
        let check = |a: &AllocationConfig| check_allocation(a, Some(&wabas));
        let ok = check(&alloc("a1", "b1", "c1", "ACTIVE"));
        assert_eq!(ok.verification, Verification::Verified);
        assert_eq!(ok.waba_ids, ["w1"]);
        assert_eq!(ok.verification.verified(), Some(true));

        let bad = check(&alloc("a2", "b2", "c2", "ACTIVE"));
        assert_eq!(bad.verification, Verification::Mismatched);
        assert_eq!(bad.mismatched, ["w2"]);
        assert_eq!(bad.verification.verified(), Some(false));

        let unattached = check(&alloc("a3", "b3", "c3", "ACTIVE"));
        assert_eq!(unattached.verification, Verification::Unknown);
        assert_eq!(unattached.unattached, ["w3"]);
        let nobody = check(&alloc("a9", "b9", "c9", "ACTIVE"));
        assert_eq!(
            (nobody.verification, nobody.waba_ids.len()),
            (Verification::Unknown, 0)
        );
        assert_eq!(nobody.verification.verified(), None);
        let not_read = check_allocation(&alloc("a1", "b1", "c1", "ACTIVE"), None);
        assert_eq!(not_read.verification, Verification::Unknown);
        let mut no_credential = alloc("a1", "b1", "", "ACTIVE");
        no_credential.receiving_credential = None;
        assert_eq!(check(&no_credential).verification, Verification::Unknown);

        let revoked = check(&alloc("a4", "b4", "c4", "DELETED"));
        assert_eq!(revoked.verification, Verification::Revoked);
        assert_eq!(
            revoked.waba_ids,
            ["w4", "w5"],
            "the WABAs the revoke covers"
        );
        assert_eq!(revoked.verification.verified(), None);

        // One WABA attached and one not: still verified (the other is simply not attached).
        let partly = check(&alloc("a4", "b4", "c4", "ACTIVE"));
        assert_eq!(partly.verification, Verification::Verified);
        assert_eq!(partly.unattached, ["w5"]);

        assert_eq!(funding_matches(Some("1"), Some("1")), Some(true));
        assert_eq!(funding_matches(Some("1"), Some("2")), Some(false));
        assert_eq!(funding_matches(Some("1"), None), None);
        assert_eq!(funding_matches(None, Some("1")), None);
        assert_eq!(funding_matches(Some(" "), Some(" ")), None);
    }

    #[test]
    fn lowercase_order_and_its_prefix_agree_with_to_lowercase() {
        let words = [
            "",
            "a",
            "A",
            "a\0",
            "ab",
            "Ab",
            "abc",
            "customer 12 messaging",
            "Customer 120",
            "customer 12 messaging!",
            "Ωmega",
            "ωmega",
            "İstanbul",
            "zeta",
            "ΣΑΣ",
            "σας",
        ];
        for a in words {
            for b in words {
                let want = a.to_lowercase().cmp(&b.to_lowercase());
                assert_eq!(cmp_lowercase(a, b), want, "{a:?} {b:?}");
                let (pa, pb) = (lowercase_prefix(a), lowercase_prefix(b));
                if pa != pb {
                    assert_eq!(pa.cmp(&pb), want, "prefixes of {a:?} {b:?}");
                }
            }
        }
    }

    /// A small deterministic pseudo-random sequence (tests only).
    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        *seed >> 33
    }

    #[test]
    fn sorted_slots_stay_sorted_across_chunk_splits_and_merges() {
        let mut list = SortedSlots::default();
        let mut want = std::collections::BTreeSet::new();
        // A coarse prefix: many slots tie on it and are told apart by `before`.
        let key = |x: u32| {
            let mut p = [0u8; 16];
            p[..4].copy_from_slice(&(x / 64).to_be_bytes());
            p
        };
        let mut seed = 7;
        for step in 0..40_000 {
            let x = (lcg(&mut seed) % 6_000) as u32;
            // Mostly inserts at first, mostly removals later: chunks split, then empty and merge.
            let insert = (lcg(&mut seed) % 100) < if step < 20_000 { 80 } else { 20 };
            if insert && want.insert(x) {
                list.insert(x, key(x), |y| y < x, key);
            } else if !insert {
                assert_eq!(list.remove(x, key(x), |y| y < x, key), want.remove(&x));
            }
            if step % 997 == 0 {
                assert!(list.iter().eq(want.iter().copied()));
                assert!(list.iter().rev().eq(want.iter().rev().copied()));
                assert!(list.chunks.iter().all(|c| !c.is_empty() && c.len() < CHUNK));
                let lasts: Vec<[u8; 16]> = list
                    .chunks
                    .iter()
                    .map(|c| key(*c.last().unwrap()))
                    .collect();
                assert_eq!(list.lasts, lasts);
            }
        }
        assert_eq!(list.len, want.len());
        assert!(list.iter().eq(want.iter().copied()));
        let built =
            SortedSlots::from_sorted(want.iter().copied().collect::<Vec<_>>().into_iter(), key);
        assert!(built.iter().eq(want.iter().copied()));
    }

    /// A WABA of a big book: names and owners that tie in their first 16 bytes.
    fn big_waba(i: u64, version: u64) -> Arc<Waba> {
        use crate::graph::waba_model::{BusinessRef, WabaFields, WabaNode};
        Arc::new(Waba {
            node: WabaNode::new(WabaFields {
                id: format!("w{i}").into(),
                name: format!("Customer Messaging {}", (i * 7 + version) % 500).into(),
                primary_funding_id: match (i + version) % 4 {
                    0 => None,
                    1 => Some(format!("c{}", i % 50).into()),
                    2 => Some(format!("x{i}").into()),
                    _ => Some(format!("c{}", (i + 1) % 50).into()),
                },
                owner_business_info: Some(BusinessRef {
                    id: format!("b{}", i % 60).into(),
                    name: (!i.is_multiple_of(3))
                        .then(|| format!("Business Partners Ltd {}", i % 60).into()),
                }),
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    #[test]
    fn a_big_book_kept_up_to_date_equals_one_sorted_at_once() {
        let lines = vec![CreditLineData {
            line: CreditLine::default(),
            allocations: (0..50u32)
                .map(|k| {
                    alloc(
                        &format!("a{k}"),
                        &format!("b{k}"),
                        &format!("c{k}"),
                        if k.is_multiple_of(9) {
                            "DELETED"
                        } else {
                            "ACTIVE"
                        },
                    )
                })
                .collect(),
        }];
        // WABA by WABA, then changes and removals, each taken in one at a time.
        let mut kept = FundingJoin::new(&lines);
        let mut book: Vec<Arc<Waba>> = (0..3_000).map(|i| big_waba(i, 0)).collect();
        for w in &book {
            kept.put(&lines, w);
        }
        let mut seed = 11;
        for _ in 0..1_500 {
            let i = (lcg(&mut seed) % 3_000) as usize;
            book[i] = big_waba(i as u64, lcg(&mut seed) % 5);
            kept.put(&lines, &book[i]);
        }
        for i in (0..3_000).step_by(7) {
            kept.remove(&lines, book[i].id());
        }
        let book: Vec<Arc<Waba>> = book
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % 7 != 0)
            .map(|(_, w)| w)
            .collect();
        // The same book at once: its lanes sorted in one go.
        let mut at_once = FundingJoin::new(&lines);
        at_once.sync_all(&lines, &book);
        assert_eq!(kept.len(), at_once.len());
        assert_eq!(kept.unfunded_len(), at_once.unfunded_len());
        assert!(kept.unfunded_len() > 1_000);
        for order in [
            UnfundedOrder::Fixable,
            UnfundedOrder::Name,
            UnfundedOrder::Owner,
        ] {
            let ids = |j: &FundingJoin| -> Vec<(String, Unfunded)> {
                j.unfunded(order)
                    .map(|(w, u)| (w.id().to_string(), u))
                    .collect()
            };
            let want = ids(&at_once);
            assert_eq!(ids(&kept), want, "{order:?}");
            // Sorted as the order says.
            for pair in want.windows(2) {
                let w = |id: &str| book.iter().find(|w| w.id() == id).unwrap().clone();
                let (a, b) = (w(&pair[0].0), w(&pair[1].0));
                assert_eq!(order.cmp((&a, pair[0].1), (&b, pair[1].1)), Ordering::Less);
            }
            let back: Vec<String> = kept
                .unfunded(order)
                .rev()
                .map(|(w, _)| w.id().to_string())
                .collect();
            assert!(back.iter().rev().eq(want.iter().map(|(id, _)| id)));
        }
        for a in 0..50 {
            assert_eq!(kept.check(a, true), at_once.check(a, true));
            let ids = |j: &FundingJoin| -> Vec<String> {
                let mut v: Vec<String> = j.covered(a).map(|w| w.id().to_string()).collect();
                v.sort();
                v
            };
            assert_eq!(ids(&kept), ids(&at_once));
        }
    }

    #[test]
    fn the_join_is_compact() {
        assert_eq!(std::mem::size_of::<Slot>(), 16);
        assert_eq!(std::mem::size_of::<Covered>(), 16);
        assert!(std::mem::size_of::<Joined>() <= 40);
    }

    #[test]
    fn not_funded_says_why() {
        let lines = vec![CreditLineData {
            line: CreditLine::default(),
            allocations: vec![
                alloc("a1", "b1", "c1", "ACTIVE"),
                alloc("a2", "b2", "c2", "DELETED"),
                alloc("a3", "b3", "c3", "ACTIVE"),
            ],
        }];
        let wabas = FundingIndex::new(vec![
            w("w1", "b1", Some("c1")),
            w("w1b", "b1", None),
            w("w2", "b2", Some("c2")),
            w("w3", "b3", Some("x")),
            w("w4", "b4", None),
            w("w5", "b5", Some("y")),
        ]);
        let got: Vec<(&str, NotFunded)> = not_funded(&wabas, &lines)
            .into_iter()
            .map(|(i, r)| (wabas.wabas[i].id, r))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "w1b",
                    NotFunded::NotAttached {
                        allocation_id: "a1".into()
                    }
                ),
                (
                    "w2",
                    NotFunded::Revoked {
                        allocation_id: "a2".into()
                    }
                ),
                (
                    "w3",
                    NotFunded::Mismatched {
                        allocation_id: "a3".into(),
                        funding: "x".into()
                    }
                ),
                ("w4", NotFunded::NoFunding),
                (
                    "w5",
                    NotFunded::OtherFunding {
                        funding: "y".into()
                    }
                ),
            ]
        );
        let shareable: Vec<bool> = got.iter().map(|(_, r)| r.shareable()).collect();
        assert_eq!(shareable, [true, true, false, true, false]);
        assert_eq!(our_credentials(&lines), ["c1".into(), "c3".into()].into());
    }
}
