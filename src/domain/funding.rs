//! Funding, as Meta prescribes checking it (reference §4.6): an allocation's
//! `receiving_credential.id` must equal the `primary_funding_id` of the customer's WABA. Pure
//! functions over the wire types: which WABAs each allocation covers, whether it holds, and
//! which WABAs have no credit of ours (and why).

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use compact_str::CompactString;

use crate::graph::credit_model::{AllocationConfig, CreditLineData, non_empty};
use crate::graph::waba_model::Waba;

/// The receiving credentials of every live (not revoked) allocation: the funding sources that
/// are ours. A WABA funded by one of them has credit shared by us.
pub fn our_credentials(lines: &[CreditLineData]) -> HashSet<String> {
    lines
        .iter()
        .flat_map(|l| &l.allocations)
        .filter(|a| !a.is_revoked())
        .filter_map(|a| a.credential_id().map(str::to_string))
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
            owner_business_id: w
                .node
                .owner_business_info
                .as_ref()
                .and_then(|b| non_empty(&b.id)),
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
    /// The orders the join keeps a sorted set for: "fixable first" is the name order taken
    /// in two passes (what a share can fix, then the rest), so it needs no set of its own.
    const KEPT: [UnfundedOrder; 2] = [UnfundedOrder::Name, UnfundedOrder::Owner];

    /// Its set among [`KEPT`](Self::KEPT) (fixable-first reads the name set).
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

/// A not-funded WABA in one of the orders. It holds the WABA the book already shares (no copy
/// of its strings) and a 16-byte prefix of the name it is ordered by, so most comparisons in
/// the set stay inside its node instead of reading two WABAs from all over the heap. Its order
/// never changes while it is in a set (a WABA is an immutable value: a changed one is taken
/// out and the new one put in).
#[derive(Debug, Clone)]
struct Ranked {
    order: UnfundedOrder,
    reason: Unfunded,
    prefix: [u8; 16],
    waba: Arc<Waba>,
}

impl Ranked {
    fn new(order: UnfundedOrder, reason: Unfunded, waba: Arc<Waba>) -> Ranked {
        let by = match order {
            UnfundedOrder::Fixable | UnfundedOrder::Name => waba.name(),
            UnfundedOrder::Owner => waba.owner_name().unwrap_or(""),
        };
        Ranked {
            order,
            reason,
            prefix: lowercase_prefix(by),
            waba,
        }
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        let fixable_first = match self.order {
            UnfundedOrder::Fixable => (!self.reason.shareable()).cmp(&!other.reason.shareable()),
            UnfundedOrder::Name | UnfundedOrder::Owner => Ordering::Equal,
        };
        fixable_first
            .then(self.prefix.cmp(&other.prefix))
            .then_with(|| {
                self.order
                    .cmp((&self.waba, self.reason), (&other.waba, other.reason))
            })
    }
}

/// A WABA as a key by its id, for finding its slot without a copy of the id.
#[derive(Debug, Clone)]
struct ById(Arc<Waba>);

impl PartialEq for ById {
    fn eq(&self, other: &Self) -> bool {
        self.0.id() == other.0.id()
    }
}

impl Eq for ById {}

impl std::hash::Hash for ById {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.id().hash(state)
    }
}

impl std::borrow::Borrow<str> for ById {
    fn borrow(&self) -> &str {
        self.0.id()
    }
}

/// One allocation as the join keeps it: its keys and the WABAs it covers.
#[derive(Debug, Clone)]
struct Joined {
    id: CompactString,
    credential: Option<CompactString>,
    revoked: bool,
    /// The slots of the WABAs it covers (of its business, or funded by its credential), in
    /// the order they first arrived.
    covered: BTreeSet<u32>,
    funded: u32,
    mismatched: u32,
    unattached: u32,
}

/// What one WABA contributes to the join.
#[derive(Debug, Clone)]
struct Slot {
    waba: Arc<Waba>,
    unfunded: Option<Unfunded>,
    /// The last full sync that saw it.
    seen: u32,
}

/// What the Credit lines pane shows of an allocation: its check and how many WABAs it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckSummary {
    pub verification: Verification,
    pub wabas: usize,
}

/// Our allocations joined with the WABA book, kept up to date as WABAs arrive, change and go:
/// each WABA costs a few look-ups among the allocations of its owner business and of its
/// funding source, never a pass over the book. The allocations are few: when they change the
/// join is built again ([`FundingJoin::new`] then [`FundingJoin::sync_all`]).
///
/// It answers what [`check_allocation`] and [`not_funded`] answer over a [`FundingIndex`], with
/// the not-funded WABAs kept sorted in every [`UnfundedOrder`]. It holds the shared
/// `Arc<Waba>`s and integers, never a copy of a WABA's strings.
#[derive(Debug, Clone, Default)]
pub struct FundingJoin {
    allocations: Vec<Joined>,
    /// Allocations by receiving business and by receiving credential (revoked ones too: a
    /// revoke still covers its business's WABAs).
    by_business: HashMap<CompactString, Vec<u32>>,
    by_credential: HashMap<CompactString, Vec<u32>>,
    /// The first live allocation of each business, and the allocation whose credential it is
    /// (a live one before a revoked one): what [`not_funded`] asks.
    live_by_business: HashMap<CompactString, u32>,
    credential_owner: HashMap<CompactString, u32>,
    /// Per WABA, in the order they first arrived; `None` once gone.
    slots: Vec<Option<Slot>>,
    slot_of: HashMap<ById, u32>,
    unfunded: [BTreeSet<Ranked>; 2],
    /// The number of the current full sync.
    sync: u32,
}

impl FundingJoin {
    /// The allocations of `lines`, and no WABA yet.
    pub fn new(lines: &[CreditLineData]) -> FundingJoin {
        let mut join = FundingJoin::default();
        for a in lines.iter().flat_map(|l| &l.allocations) {
            let i = join.allocations.len() as u32;
            let credential = a.credential_id();
            if let Some(b) = a.business_id() {
                join.by_business.entry(b.into()).or_default().push(i);
                if !a.is_revoked() {
                    join.live_by_business.entry(b.into()).or_insert(i);
                }
            }
            if let Some(c) = credential {
                join.by_credential.entry(c.into()).or_default().push(i);
                // A live allocation wins over a revoked one with the same credential.
                match join.credential_owner.get_mut(c) {
                    None => {
                        join.credential_owner.insert(c.into(), i);
                    }
                    Some(owner) => {
                        if join.allocations[*owner as usize].revoked && !a.is_revoked() {
                            *owner = i;
                        }
                    }
                }
            }
            join.allocations.push(Joined {
                id: a.id.as_str().into(),
                credential: credential.map(Into::into),
                revoked: a.is_revoked(),
                covered: BTreeSet::new(),
                funded: 0,
                mismatched: 0,
                unattached: 0,
            });
        }
        join
    }

    /// How many WABAs the join holds.
    pub fn len(&self) -> usize {
        self.slot_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slot_of.is_empty()
    }

    /// Take in a WABA that arrived or changed (by id). The same value as held costs one
    /// look-up.
    pub fn put(&mut self, waba: &Arc<Waba>) {
        let sync = self.sync;
        match self.slot_of.get(waba.id()).copied() {
            Some(s) => {
                let slot = self.slots[s as usize].as_mut().expect("a held slot");
                slot.seen = sync;
                if Arc::ptr_eq(&slot.waba, waba) {
                    return;
                }
                self.detach(s);
                // The key holds the WABA too: the old value must not outlive its row.
                self.slot_of.remove(waba.id());
                self.slot_of.insert(ById(waba.clone()), s);
                self.attach(s, waba.clone());
            }
            None => {
                let s = self.slots.len() as u32;
                self.slots.push(None);
                self.slot_of.insert(ById(waba.clone()), s);
                self.attach(s, waba.clone());
            }
        }
    }

    /// Let a WABA go (no longer listed).
    pub fn remove(&mut self, id: &str) {
        if let Some(s) = self.slot_of.remove(id) {
            self.detach(s);
            self.slots[s as usize] = None;
        }
    }

    /// Bring the join to exactly these WABAs (a whole list): the unchanged cost a look-up
    /// each, the changed are taken in, the ones not listed go.
    pub fn sync_all<'a>(&mut self, wabas: impl IntoIterator<Item = &'a Arc<Waba>>) {
        self.sync = self.sync.wrapping_add(1);
        for w in wabas {
            self.put(w);
        }
        let sync = self.sync;
        let gone: Vec<String> = self
            .slots
            .iter()
            .flatten()
            .filter(|s| s.seen != sync)
            .map(|s| s.waba.id().to_string())
            .collect();
        for id in gone {
            self.remove(&id);
        }
        // Slots of WABAs gone are not reused (the covered lists keep the arrival order):
        // once they are most of the table, it is built again, compact.
        if self.slots.len() > 1024 && self.slots.len() > 2 * self.slot_of.len() {
            let live: Vec<Arc<Waba>> = self
                .slots
                .iter()
                .flatten()
                .map(|s| s.waba.clone())
                .collect();
            let mut fresh = self.clone_allocations();
            fresh.sync_all(&live);
            *self = fresh;
        }
    }

    /// The same allocations, no WABA.
    fn clone_allocations(&self) -> FundingJoin {
        let mut fresh = FundingJoin {
            allocations: self.allocations.clone(),
            by_business: self.by_business.clone(),
            by_credential: self.by_credential.clone(),
            live_by_business: self.live_by_business.clone(),
            credential_owner: self.credential_owner.clone(),
            ..FundingJoin::default()
        };
        for a in &mut fresh.allocations {
            a.covered.clear();
            (a.funded, a.mismatched, a.unattached) = (0, 0, 0);
        }
        fresh
    }

    /// The allocations that cover a WABA: those of its owner business and those of its
    /// funding source, each once.
    fn covering(&self, w: &Waba) -> Vec<u32> {
        let owner = w
            .node
            .owner_business_info
            .as_ref()
            .and_then(|b| non_empty(&b.id));
        let mut out: Vec<u32> = owner
            .and_then(|o| self.by_business.get(o))
            .cloned()
            .unwrap_or_default();
        if let Some(more) = w.node.funding_id().and_then(|f| self.by_credential.get(f)) {
            out.extend(more);
            out.sort_unstable();
            out.dedup();
        }
        out
    }

    /// Which count of allocation `a` the WABA adds to: funded, mismatched, unattached, or
    /// none (no credential to compare with).
    fn tally(a: &mut Joined, funding: Option<&str>, delta: i32) {
        let count = match (funding, a.credential.as_deref()) {
            (None, _) => &mut a.unattached,
            (Some(f), Some(c)) if f == c => &mut a.funded,
            (Some(_), Some(_)) => &mut a.mismatched,
            (Some(_), None) => return,
        };
        *count = count.wrapping_add_signed(delta);
    }

    /// Why the WABA is not funded by a live allocation of ours (`None`: it is).
    fn unfunded_reason(&self, w: &Waba) -> Option<Unfunded> {
        let live = w
            .node
            .owner_business_info
            .as_ref()
            .and_then(|b| non_empty(&b.id))
            .and_then(|o| self.live_by_business.get(o).copied());
        Some(match w.node.funding_id() {
            None => match live {
                Some(a) => Unfunded::NotAttached(a),
                None => Unfunded::NoFunding,
            },
            Some(f) => match self.credential_owner.get(f) {
                Some(&a) if !self.allocations[a as usize].revoked => return None,
                Some(&a) => Unfunded::Revoked(a),
                None => match live {
                    Some(a) => Unfunded::Mismatched(a),
                    None => Unfunded::OtherFunding,
                },
            },
        })
    }

    fn attach(&mut self, s: u32, waba: Arc<Waba>) {
        let funding = waba.node.funding_id();
        for a in self.covering(&waba) {
            let a = &mut self.allocations[a as usize];
            a.covered.insert(s);
            Self::tally(a, funding, 1);
        }
        let unfunded = self.unfunded_reason(&waba);
        if let Some(reason) = unfunded {
            for order in UnfundedOrder::KEPT {
                self.unfunded[order.index()].insert(Ranked::new(order, reason, waba.clone()));
            }
        }
        self.slots[s as usize] = Some(Slot {
            waba,
            unfunded,
            seen: self.sync,
        });
    }

    fn detach(&mut self, s: u32) {
        let Some(slot) = self.slots[s as usize].take() else {
            return;
        };
        let funding = slot.waba.node.funding_id();
        for a in self.covering(&slot.waba) {
            let a = &mut self.allocations[a as usize];
            a.covered.remove(&s);
            Self::tally(a, funding, -1);
        }
        if let Some(reason) = slot.unfunded {
            for order in UnfundedOrder::KEPT {
                self.unfunded[order.index()].remove(&Ranked::new(order, reason, slot.waba.clone()));
            }
        }
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
        } else if !wabas_read || j.credential.is_none() {
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
            wabas: if wabas_read { j.covered.len() } else { 0 },
        }
    }

    /// The WABAs allocation `a` covers, in the order they first arrived.
    pub fn covered(&self, a: usize) -> impl Iterator<Item = &Arc<Waba>> + '_ {
        self.allocations
            .get(a)
            .into_iter()
            .flat_map(|j| &j.covered)
            .filter_map(|s| self.slots[*s as usize].as_ref().map(|s| &s.waba))
    }

    /// How many WABAs have no credit of ours.
    pub fn unfunded_len(&self) -> usize {
        self.unfunded[0].len()
    }

    /// The WABAs with no credit of ours, in `order` (reverse it with `.rev()`).
    pub fn unfunded(
        &self,
        order: UnfundedOrder,
    ) -> Box<dyn DoubleEndedIterator<Item = (&Arc<Waba>, Unfunded)> + '_> {
        let set = &self.unfunded[order.index()];
        let all = move || set.iter().map(|r| (&r.waba, r.reason));
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
        let s = self.slot_of.get(id)?;
        self.slots[*s as usize].as_ref()?.unfunded
    }

    /// A reason spelled out, as [`not_funded`] gives it.
    pub fn reason(&self, u: Unfunded, waba: &Waba) -> NotFunded {
        let allocation_id = |a: u32| {
            self.allocations
                .get(a as usize)
                .map(|j| j.id.clone())
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
        assert_eq!(
            our_credentials(&lines),
            ["c1".to_string(), "c3".to_string()].into()
        );
    }
}
