//! Id indexes over the world, so a look-up or a page costs the same at 100 WABAs as at
//! 250,000: id → position for every node type the sim finds by id, and the ordered positions
//! behind the big lists (the WABAs shared with a business, the allocations of a credit line).
//!
//! The index is derived data: it is not part of a world file, two worlds compare equal
//! whatever their indexes, and every look-up checks that the slot it found holds the id asked
//! for. The world's sections are public, so code outside the sim may edit them directly; the
//! index notices an added or removed node by the section lengths it was built for and then
//! answers by scanning, as the sim did before, until [`crate::World::reindex`] (which
//! [`crate::start`] and the world loaders call) builds it again. The sim's own changes
//! (onboarding a WABA, a new business, a credit share) keep it up to date as they go.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use super::credit::CreditAllocation;
use super::wabas::Waba;
use super::world::World;

/// FNV-1a: node ids are short digit strings the sim itself chose or a world file gave, so a
/// hash that is quick on them matters more at start-up (a million insertions at 250,000
/// WABAs) than the flooding resistance of the standard one.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map keyed by node id.
pub(crate) type IdMap<V> = HashMap<String, V, BuildHasherDefault<IdHasher>>;
/// A set of node ids.
pub(crate) type IdSet<'a> = HashSet<&'a str, BuildHasherDefault<IdHasher>>;

/// Section lengths the index was built for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Lens {
    wabas: usize,
    solutions: usize,
    apps: usize,
    businesses: usize,
    credit_lines: usize,
    credit_allocations: usize,
}

impl Lens {
    fn of(w: &World) -> Lens {
        Lens {
            wabas: w.wabas.len(),
            solutions: w.solutions.len(),
            apps: w.apps.len(),
            businesses: w.businesses.len(),
            credit_lines: w.credit_lines.len(),
            credit_allocations: w.credit_allocations.len(),
        }
    }
}

#[derive(Clone, Default)]
pub(crate) struct Index {
    /// `None` until built (a freshly parsed world).
    built: Option<Lens>,
    pub(crate) wabas: IdMap<usize>,
    /// Phone number id → (WABA position, number position).
    pub(crate) phones: IdMap<(usize, usize)>,
    pub(crate) solutions: IdMap<usize>,
    /// Partner record id → (solution position, partner position).
    pub(crate) partners: IdMap<(usize, usize)>,
    pub(crate) apps: IdMap<usize>,
    pub(crate) businesses: IdMap<usize>,
    pub(crate) credit_lines: IdMap<usize>,
    pub(crate) allocations: IdMap<usize>,
    /// Receiving credentials of the allocations (ids no fresh id may take).
    pub(crate) credentials: HashSet<String, BuildHasherDefault<IdHasher>>,
    /// Business → positions of the WABAs shared with it, ascending (list order).
    pub(crate) shared_with: IdMap<Vec<usize>>,
    /// Owner business → positions of its WABAs, ascending.
    pub(crate) owned_by: IdMap<Vec<usize>>,
    /// Credit line → receiving business → allocation positions, ascending.
    pub(crate) line_business: IdMap<IdMap<Vec<usize>>>,
    /// Credit line → allocation positions, ascending.
    pub(crate) by_line: IdMap<Vec<usize>>,
}

/// Derived data: equal whatever it holds, so worlds compare by their content.
impl PartialEq for Index {
    fn eq(&self, _: &Index) -> bool {
        true
    }
}

impl Eq for Index {}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("built", &self.built.is_some())
            .field("wabas", &self.wabas.len())
            .finish_non_exhaustive()
    }
}

impl Index {
    pub(crate) fn build(w: &World) -> Index {
        // Sized up front: rehashing a million ids as the maps grow costs more than filling them.
        let phones = w.wabas.iter().map(|x| x.phone_numbers.len()).sum();
        let mut ix = Index {
            built: Some(Lens::default()),
            wabas: with_capacity(w.wabas.len()),
            phones: with_capacity(phones),
            businesses: with_capacity(w.businesses.len()),
            allocations: with_capacity(w.credit_allocations.len()),
            credentials: HashSet::with_capacity_and_hasher(
                w.credit_allocations.len(),
                Default::default(),
            ),
            owned_by: with_capacity(w.businesses.len()),
            ..Index::default()
        };
        for (i, s) in w.solutions.iter().enumerate() {
            ix.solutions.entry(s.id.clone()).or_insert(i);
            for (k, p) in s.partners.iter().enumerate() {
                ix.partners.entry(p.id.clone()).or_insert((i, k));
            }
        }
        for (i, a) in w.apps.iter().enumerate() {
            ix.apps.entry(a.id.clone()).or_insert(i);
        }
        for (i, b) in w.businesses.iter().enumerate() {
            ix.businesses.entry(b.id.clone()).or_insert(i);
        }
        for (i, c) in w.credit_lines.iter().enumerate() {
            ix.credit_lines.entry(c.id.clone()).or_insert(i);
        }
        for (i, a) in w.credit_allocations.iter().enumerate() {
            ix.add_allocation(i, a);
        }
        for (i, waba) in w.wabas.iter().enumerate() {
            ix.add_waba(i, waba);
        }
        ix.built = Some(Lens::of(w));
        ix
    }

    /// Whether the index covers the world as it is now.
    pub(crate) fn is_fresh(&self, w: &World) -> bool {
        self.built == Some(Lens::of(w))
    }

    fn add_waba(&mut self, i: usize, waba: &Waba) {
        self.wabas.entry(waba.id.clone()).or_insert(i);
        for (k, p) in waba.phone_numbers.iter().enumerate() {
            self.phones.entry(p.id.clone()).or_insert((i, k));
        }
        for b in &waba.shared_with {
            push_once(self.shared_with.entry(b.clone()).or_default(), i);
        }
        push_once(
            self.owned_by
                .entry(waba.owner_business_id.clone())
                .or_default(),
            i,
        );
    }

    fn add_allocation(&mut self, i: usize, a: &CreditAllocation) {
        self.allocations.entry(a.id.clone()).or_insert(i);
        self.credentials.insert(a.receiving_credential_id.clone());
        push_once(self.by_line.entry(a.credit_line_id.clone()).or_default(), i);
        push_once(
            self.line_business
                .entry(a.credit_line_id.clone())
                .or_default()
                .entry(a.receiving_business_id.clone())
                .or_default(),
            i,
        );
    }
}

fn with_capacity<V>(n: usize) -> IdMap<V> {
    IdMap::with_capacity_and_hasher(n, Default::default())
}

/// Append a position unless it is already the last one (a WABA naming a business twice).
fn push_once(list: &mut Vec<usize>, i: usize) {
    if list.last() != Some(&i) {
        list.push(i);
    }
}

/// The position of `id` in `items`: from `map` when the index is fresh (checked against the
/// slot), else by scanning.
pub(crate) fn find<T>(
    fresh: bool,
    map: &IdMap<usize>,
    items: &[T],
    id: &str,
    id_of: impl Fn(&T) -> &str,
) -> Option<usize> {
    if fresh {
        match map.get(id) {
            None => return None,
            Some(&i) if items.get(i).is_some_and(|x| id_of(x) == id) => return Some(i),
            // An id edited in place: the scan below still finds it.
            Some(_) => {}
        }
    }
    items.iter().position(|x| id_of(x) == id)
}

impl World {
    /// Build the id indexes again, after editing the world's sections directly. The loaders
    /// and [`crate::start`] do it; without it look-ups still answer, by scanning.
    pub fn reindex(&mut self) {
        self.index = Index::build(self);
    }

    pub(crate) fn index_is_fresh(&self) -> bool {
        self.index.is_fresh(self)
    }

    /// Append a WABA, keeping the index up to date.
    pub(crate) fn push_waba(&mut self, waba: Waba) {
        let fresh = self.index_is_fresh();
        let i = self.wabas.len();
        if fresh {
            self.index.add_waba(i, &waba);
        }
        self.wabas.push(waba);
        if fresh {
            self.index.built = Some(Lens::of(self));
        }
    }

    /// Append a business portfolio, keeping the index up to date.
    pub(crate) fn push_business(&mut self, business: super::world::Business) {
        let fresh = self.index_is_fresh();
        if fresh {
            self.index
                .businesses
                .entry(business.id.clone())
                .or_insert(self.businesses.len());
        }
        self.businesses.push(business);
        if fresh {
            self.index.built = Some(Lens::of(self));
        }
    }

    /// Append an allocation config, keeping the index up to date.
    pub(crate) fn push_allocation(&mut self, allocation: CreditAllocation) {
        let fresh = self.index_is_fresh();
        if fresh {
            self.index
                .add_allocation(self.credit_allocations.len(), &allocation);
        }
        self.credit_allocations.push(allocation);
        if fresh {
            self.index.built = Some(Lens::of(self));
        }
    }

    /// Positions of the WABAs shared with `business`, in list order.
    pub(crate) fn wabas_shared_with(&self, business: &str) -> std::borrow::Cow<'_, [usize]> {
        if self.index_is_fresh() {
            let list = self.index.shared_with.get(business);
            return std::borrow::Cow::Borrowed(list.map_or(&[][..], Vec::as_slice));
        }
        std::borrow::Cow::Owned(
            (0..self.wabas.len())
                .filter(|&i| self.wabas[i].shared_with.iter().any(|b| b == business))
                .collect(),
        )
    }

    /// Positions of the WABAs `owner` owns, in list order.
    pub(crate) fn wabas_owned_by(&self, owner: &str) -> std::borrow::Cow<'_, [usize]> {
        if self.index_is_fresh() {
            let list = self.index.owned_by.get(owner);
            return std::borrow::Cow::Borrowed(list.map_or(&[][..], Vec::as_slice));
        }
        std::borrow::Cow::Owned(
            (0..self.wabas.len())
                .filter(|&i| self.wabas[i].owner_business_id == owner)
                .collect(),
        )
    }

    /// Positions of the allocations of `line` (for `business` only, when given), in list order.
    pub(crate) fn allocations_of(
        &self,
        line: &str,
        business: Option<&str>,
    ) -> std::borrow::Cow<'_, [usize]> {
        if self.index_is_fresh() {
            let list = match business {
                None => self.index.by_line.get(line),
                Some(b) => self.index.line_business.get(line).and_then(|m| m.get(b)),
            };
            return std::borrow::Cow::Borrowed(list.map_or(&[][..], Vec::as_slice));
        }
        std::borrow::Cow::Owned(
            (0..self.credit_allocations.len())
                .filter(|&i| {
                    let a = &self.credit_allocations[i];
                    a.credit_line_id == line
                        && business.is_none_or(|b| a.receiving_business_id == b)
                })
                .collect(),
        )
    }

    /// Whether any node of the world (WABA, credit line, allocation or its credential) has `id`.
    pub(crate) fn credit_id_used(&self, id: &str) -> bool {
        if self.index_is_fresh() {
            return self.index.allocations.contains_key(id)
                || self.index.credentials.contains(id)
                || self.index.credit_lines.contains_key(id)
                || self.index.wabas.contains_key(id);
        }
        self.credit_allocations
            .iter()
            .any(|a| a.id == id || a.receiving_credential_id == id)
            || self.credit_lines.iter().any(|c| c.id == id)
            || self.wabas.iter().any(|w| w.id == id)
    }
}
