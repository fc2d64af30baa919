//! Funding, as Meta prescribes checking it (reference §4.6): an allocation's
//! `receiving_credential.id` must equal the `primary_funding_id` of the customer's WABA. Pure
//! functions over the wire types: which WABAs each allocation covers, whether it holds, and
//! which WABAs have no credit of ours (and why).

use std::collections::{HashMap, HashSet};

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

/// Why a WABA has no credit of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotFunded {
    /// No funding source at all.
    NoFunding,
    /// The business has a live allocation of ours, but this WABA is not attached to it.
    NotAttached { allocation_id: String },
    /// Funded by the credential of an allocation of ours that was revoked.
    Revoked { allocation_id: String },
    /// The business has a live allocation of ours, but the WABA is funded by another source.
    Mismatched {
        allocation_id: String,
        funding: String,
    },
    /// Funded by a source that is not ours (the customer's own, or another partner's).
    OtherFunding { funding: String },
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
            .map(|a| a.id.clone());
        let reason = match w.primary_funding_id {
            None => match live {
                Some(allocation_id) => NotFunded::NotAttached { allocation_id },
                None => NotFunded::NoFunding,
            },
            Some(f) => match by_credential.get(f) {
                Some(a) if !a.is_revoked() => continue,
                Some(a) => NotFunded::Revoked {
                    allocation_id: a.id.clone(),
                },
                None => match live {
                    Some(allocation_id) => NotFunded::Mismatched {
                        allocation_id,
                        funding: f.to_string(),
                    },
                    None => NotFunded::OtherFunding {
                        funding: f.to_string(),
                    },
                },
            },
        };
        out.push((i, reason));
    }
    out
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
