//! From what was read to what is printed, without IO: the WABAs one at a time (each with its
//! checklist and BSP registration; only a few words of each are kept for the end), then the
//! credit lines verified against those words, the WABAs not funded by us, and the errors.

use crate::domain::funding::{
    FundingIndex, NotFunded, WabaFunding, check_allocation, not_funded, our_credentials,
};
use crate::domain::onboarding::{Onboarding, OnboardingRules};
use crate::domain::partner::{
    BspRegistration, PartnerKind, RegistrationRecord, decide_partner_kind, registration_of,
};
use crate::domain::solution::Solution;
use crate::graph::credit_model::CreditLineData;
use crate::graph::error::GraphError;
use crate::graph::model::Malformed;
use crate::graph::waba_model::Waba;

use super::{
    NotFundedList, NotFundedRow, Snapshot, SnapshotAllocation, SnapshotCreditLine, SnapshotError,
    SnapshotWaba,
};

/// One answer of the WABA reader: a page of WABAs (with the per-WABA edges that failed), or
/// the list's failure (nothing more comes after it).
#[derive(Debug)]
pub enum WabaPage {
    Rows {
        wabas: Vec<Waba>,
        extras_failed: Vec<(String, GraphError)>,
    },
    Failed(SnapshotError),
}

/// What is known before the first WABA is printed: the solutions, our credit lines, and so
/// the partner kind and the checklist's rules.
#[derive(Debug)]
pub struct Head {
    pub fetched_at: String,
    pub solutions: Vec<Solution>,
    /// The solutions' errors.
    pub errors: Vec<SnapshotError>,
    pub credit: Result<Vec<CreditLineData>, SnapshotError>,
    pub partner_kind: Option<PartnerKind>,
    pub rules: OnboardingRules,
    pub default_bsp: Option<crate::bsp::Bsp>,
    pub registrations: Vec<RegistrationRecord>,
}

impl Head {
    /// The kind from the setting or (`auto`) from whether we own credit lines; as a Tech
    /// Provider the checklist's credit step means "funded at all".
    pub fn new(
        fetched_at: String,
        solutions: Vec<Solution>,
        errors: Vec<SnapshotError>,
        credit: Result<Vec<CreditLineData>, SnapshotError>,
        app_id: &str,
        partner: &crate::bsp::settings::PartnerSettings,
        registrations: Vec<RegistrationRecord>,
    ) -> Head {
        let lines = credit.as_ref().ok();
        let kind = decide_partner_kind(partner.partner_kind, lines.map(|l| !l.is_empty()));
        let mut rules = OnboardingRules::new(app_id);
        rules.partner_kind = kind;
        rules.our_credentials = lines.map(|l| our_credentials(l));
        if kind == Some(PartnerKind::TechProvider) {
            // Funded by anyone's credit (the Solution Partner's): not compared with ours.
            rules.our_credentials = None;
        }
        Head {
            fetched_at,
            solutions,
            errors,
            credit,
            partner_kind: kind,
            rules,
            default_bsp: partner.bsp,
            registrations,
        }
    }
}

/// The few words of a WABA kept until the end (verification and "not funded" need every
/// WABA; the rest of it has been printed): id, owner business, funding source, name and
/// currency in one string, `ends` saying where each stops (one allocation per WABA).
#[derive(Debug, Clone)]
struct FundingWords {
    text: Box<str>,
    ends: [u32; 4],
}

impl FundingWords {
    fn new(parts: [&str; 5]) -> FundingWords {
        let mut ends = [0u32; 4];
        let mut at = 0usize;
        for (i, p) in parts[..4].iter().enumerate() {
            at += p.len();
            ends[i] = u32::try_from(at).unwrap_or(u32::MAX);
        }
        FundingWords {
            text: parts.concat().into(),
            ends,
        }
    }

    fn part(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        let end = self.ends.get(i).map_or(self.text.len(), |e| *e as usize);
        self.text.get(start..end).unwrap_or("")
    }

    fn some(&self, i: usize) -> Option<&str> {
        Some(self.part(i)).filter(|s| !s.is_empty())
    }

    fn id(&self) -> &str {
        self.part(0)
    }
}

/// What the WABAs leave behind once printed.
#[derive(Debug, Default)]
struct Tally {
    funding: Vec<FundingWords>,
    /// Rows Meta sent in a shape we could not read: how many, and the first.
    malformed: usize,
    first_malformed: Option<(String, String)>,
    /// WABAs whose edges could not be read (consecutive repeats counted once), and the first.
    extras_failed: usize,
    last_extras_id: Option<String>,
    first_extras: Option<(String, GraphError)>,
    /// The list itself failed (after the WABAs counted).
    list_failed: Option<SnapshotError>,
}

/// The WABAs of a snapshot, one at a time, as the reader's pages come; see [`Feed::finish`].
pub struct Feed<P: Iterator<Item = WabaPage>> {
    pages: Option<P>,
    page: std::vec::IntoIter<Waba>,
    head: Head,
    tally: Tally,
    /// No business id: the WABAs' error, with nothing read.
    not_configured: Option<SnapshotError>,
}

impl<P: Iterator<Item = WabaPage>> Feed<P> {
    pub fn new(head: Head, pages: Result<P, SnapshotError>) -> Feed<P> {
        let (pages, not_configured) = match pages {
            Ok(p) => (Some(p), None),
            Err(e) => (None, Some(e)),
        };
        Feed {
            pages,
            page: Vec::new().into_iter(),
            head,
            tally: Tally::default(),
            not_configured,
        }
    }

    pub fn head(&self) -> &Head {
        &self.head
    }

    fn take_page(&mut self) -> bool {
        let Some(pages) = self.pages.as_mut() else {
            return false;
        };
        match pages.next() {
            Some(WabaPage::Rows {
                wabas,
                extras_failed,
            }) => {
                for (id, e) in extras_failed {
                    if self.tally.last_extras_id.as_deref() != Some(id.as_str()) {
                        self.tally.extras_failed += 1;
                    }
                    if self.tally.first_extras.is_none() {
                        self.tally.first_extras = Some((id.clone(), e));
                    }
                    self.tally.last_extras_id = Some(id);
                }
                self.page = wabas.into_iter();
                true
            }
            Some(WabaPage::Failed(e)) => {
                self.tally.list_failed = Some(e);
                self.pages = None;
                false
            }
            None => {
                self.pages = None;
                false
            }
        }
    }

    /// Everything after the WABAs: the credit lines with each allocation verified against
    /// every WABA read, the WABAs not funded by us, the partner kind and every error, in
    /// order (solutions, credit lines, WABAs). The returned snapshot's `wabas` is empty.
    pub fn finish(self) -> Snapshot {
        let head = self.head;
        let tally = self.tally;
        let mut errors = head.errors;
        let lines = match head.credit {
            Ok(lines) => Some(lines),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        if let Some(lines) = &lines {
            let rows = lines
                .iter()
                .map(|l| (l.line.id.as_str(), l.line.malformed.as_deref()))
                .chain(lines.iter().flat_map(|l| {
                    l.allocations
                        .iter()
                        .map(|a| (a.id.as_str(), a.malformed.as_deref()))
                }));
            if let Some(e) =
                malformed_rows("credit_lines", "credit line or allocation row(s)", rows)
            {
                errors.push(e);
            }
        }
        if let Some((first_id, reason)) = &tally.first_malformed {
            errors.push(SnapshotError {
                scope: "wabas".into(),
                code: None,
                message: malformed_sentence(tally.malformed, "WABA row(s)", first_id, reason),
                cut_short: false,
            });
        }
        let wabas_read = self.not_configured.is_none() && tally.list_failed.is_none();
        let wabas_error = self.not_configured.or(tally.list_failed);
        let wabas_why = wabas_error.as_ref().map(|e| e.message.clone());
        errors.extend(wabas_error);
        if let Some((first_id, e)) = &tally.first_extras {
            errors.push(SnapshotError {
                scope: "wabas".into(),
                code: e.code,
                message: format!(
                    "Subscribed apps or solutions of {} WABA(s) could not be read (first: {first_id}), so their checklist has nulls: {}",
                    tally.extras_failed,
                    e.sentence()
                ),
                cut_short: false,
            });
        }
        let index = wabas_read.then(|| {
            FundingIndex::new(
                tally
                    .funding
                    .iter()
                    .map(|w| WabaFunding {
                        id: w.id(),
                        owner_business_id: w.some(1),
                        primary_funding_id: w.some(2),
                    })
                    .collect(),
            )
        });
        let not_funded = match (&index, &lines, head.partner_kind) {
            (None, _, _) => NotFundedList::NotRead(wabas_why.unwrap_or_default()),
            // A Tech Provider's customers are funded by their Solution Partner: only the
            // WABAs with no funding at all are missing something.
            (Some(index), _, Some(PartnerKind::TechProvider)) => {
                NotFundedList::Read(not_funded_rows(index, &[], &tally.funding, true))
            }
            (Some(index), Some(lines), _) => {
                NotFundedList::Read(not_funded_rows(index, lines, &tally.funding, false))
            }
            (Some(_), None, _) => NotFundedList::NotRead(
                errors
                    .iter()
                    .find(|e| e.scope == "credit_lines")
                    .map(|e| e.message.clone())
                    .unwrap_or_default(),
            ),
        };
        // Moved, not copied: at 100,000 WABAs there are tens of thousands of allocations.
        let credit_lines = lines
            .map(|l| credit_lines(l, index.as_ref()))
            .unwrap_or_default();
        Snapshot {
            fetched_at: head.fetched_at,
            solutions: head.solutions,
            wabas: vec![],
            credit_lines,
            partner_kind: head.partner_kind,
            errors,
            not_funded,
        }
    }
}

impl<P: Iterator<Item = WabaPage>> Iterator for Feed<P> {
    type Item = SnapshotWaba;

    fn next(&mut self) -> Option<SnapshotWaba> {
        let waba = loop {
            if let Some(w) = self.page.next() {
                break w;
            }
            if !self.take_page() {
                return None;
            }
        };
        let t = &mut self.tally;
        if let Some(m) = waba.node.malformed.as_deref() {
            t.malformed += 1;
            if t.first_malformed.is_none() {
                t.first_malformed = Some((waba.id().to_string(), m.reason.clone()));
            }
        }
        let f = WabaFunding::of(&waba);
        t.funding.push(FundingWords::new([
            f.id,
            f.owner_business_id.unwrap_or(""),
            f.primary_funding_id.unwrap_or(""),
            waba.name(),
            waba.node.currency().as_deref().unwrap_or(""),
        ]));
        let h = &self.head;
        Some(SnapshotWaba {
            onboarding: Onboarding::derive(&waba, &h.rules),
            bsp_registration: registration(h, waba.id()),
            waba,
        })
    }
}

fn registration(head: &Head, waba_id: &str) -> BspRegistration {
    registration_of(
        head.partner_kind,
        waba_id,
        &head.registrations,
        head.default_bsp,
    )
}

fn not_funded_rows(
    index: &FundingIndex,
    lines: &[CreditLineData],
    words: &[FundingWords],
    only_unfunded: bool,
) -> Vec<NotFundedRow> {
    not_funded(index, lines)
        .into_iter()
        .filter(|(_, why)| !only_unfunded || *why == NotFunded::NoFunding)
        .filter_map(|(i, reason)| {
            let w = words.get(i)?;
            Some(NotFundedRow {
                waba_id: w.id().to_string(),
                name: w.part(3).to_string(),
                currency: w.some(4).map(str::to_string),
                reason,
            })
        })
        .collect()
}

/// One error per list whose rows Meta sent in a shape we could not read (the rows are kept,
/// marked; see `graph::model::Malformed`).
pub fn malformed_rows<'a>(
    scope: &str,
    what: &str,
    rows: impl Iterator<Item = (&'a str, Option<&'a Malformed>)>,
) -> Option<SnapshotError> {
    let bad: Vec<(&str, &Malformed)> = rows.filter_map(|(id, m)| m.map(|m| (id, m))).collect();
    let (first_id, first) = bad.first()?;
    Some(SnapshotError {
        scope: scope.into(),
        code: None,
        message: malformed_sentence(bad.len(), what, first_id, &first.reason),
        cut_short: false,
    })
}

fn malformed_sentence(n: usize, what: &str, first_id: &str, reason: &str) -> String {
    format!(
        "{n} {what} could not be read as expected (first: {first_id}): {}; the other rows are complete.",
        reason.trim_end_matches('.')
    )
}

fn credit_lines(
    lines: Vec<CreditLineData>,
    index: Option<&FundingIndex>,
) -> Vec<SnapshotCreditLine> {
    lines
        .into_iter()
        .map(|l| SnapshotCreditLine {
            line: l.line,
            allocations: l
                .allocations
                .into_iter()
                .map(|a| {
                    let check = check_allocation(&a, index);
                    SnapshotAllocation {
                        allocation: a,
                        verified: check.verification.verified(),
                        verification: check.verification,
                        waba_ids: check.waba_ids,
                    }
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::waba_model::WabaNode;

    fn waba(id: &str, owner: &str, funding: Option<&str>) -> Waba {
        let node: WabaNode = serde_json::from_value(serde_json::json!({
            "id": id,
            "name": format!("WABA {id}"),
            "currency": "EUR",
            "owner_business_info": {"id": owner, "name": "Owner"},
            "primary_funding_id": funding,
        }))
        .unwrap();
        Waba {
            node,
            subscribed_apps: Some(vec![].into()),
            solutions: Some(vec![].into()),
        }
    }

    fn lines() -> Vec<CreditLineData> {
        let allocation = |id: &str, business: &str, credential: &str| {
            serde_json::from_value(serde_json::json!({
                "id": id, "receiving_business": {"id": business},
                "receiving_credential": {"id": credential}, "request_status": "ACTIVE"
            }))
            .unwrap()
        };
        vec![CreditLineData {
            line: serde_json::from_value(serde_json::json!({"id": "L1"})).unwrap(),
            allocations: vec![allocation("A1", "B1", "C1"), allocation("A2", "B2", "C2")],
        }]
    }

    fn head(credit: Result<Vec<CreditLineData>, SnapshotError>) -> Head {
        Head::new(
            "2026-01-01T00:00:00Z".into(),
            vec![],
            vec![],
            credit,
            "APP",
            &crate::bsp::settings::PartnerSettings::default(),
            vec![],
        )
    }

    fn failed(id: &str) -> (String, GraphError) {
        (
            id.into(),
            GraphError::new(ErrorKind::Transient, "batch lost"),
        )
    }

    use crate::graph::error::ErrorKind;

    #[test]
    fn wabas_pass_one_at_a_time_and_the_end_verifies_against_all_of_them() {
        let pages = vec![
            WabaPage::Rows {
                wabas: vec![waba("W1", "B1", Some("C1")), waba("W2", "B2", Some("X"))],
                extras_failed: vec![failed("W2"), failed("W2")],
            },
            WabaPage::Rows {
                wabas: vec![waba("W3", "B3", None)],
                extras_failed: vec![failed("W3")],
            },
        ];
        let mut feed = Feed::new(head(Ok(lines())), Ok(pages.into_iter()));
        let ids: Vec<String> = feed.by_ref().map(|w| w.waba.id().to_string()).collect();
        assert_eq!(ids, ["W1", "W2", "W3"]);
        let snap = feed.finish();
        let checks: Vec<(&str, Verification)> = snap.credit_lines[0]
            .allocations
            .iter()
            .map(|a| (a.allocation.id.as_str(), a.verification))
            .collect();
        assert_eq!(
            checks,
            [
                ("A1", Verification::Verified),
                ("A2", Verification::Mismatched)
            ]
        );
        let NotFundedList::Read(rows) = &snap.not_funded else {
            panic!("{:?}", snap.not_funded)
        };
        let not_funded: Vec<&str> = rows.iter().map(|r| r.waba_id.as_str()).collect();
        assert_eq!(not_funded, ["W2", "W3"]);
        assert_eq!(rows[1].name, "WABA W3");
        // One error for the edges, counting each WABA once.
        assert_eq!(snap.errors.len(), 1, "{:?}", snap.errors);
        assert!(
            snap.errors[0]
                .message
                .starts_with("Subscribed apps or solutions of 2 WABA(s)")
        );
    }

    use crate::domain::funding::Verification;

    #[test]
    fn funding_words_give_back_each_part() {
        let w = FundingWords::new(["31", "", "F9", "Café ☕", "EUR"]);
        assert_eq!(
            (w.id(), w.some(1), w.some(2), w.part(3), w.some(4)),
            ("31", None, Some("F9"), "Café ☕", Some("EUR"))
        );
        let w = FundingWords::new(["31", "B", "", "", ""]);
        assert_eq!(
            (w.some(1), w.some(2), w.part(3), w.some(4)),
            (Some("B"), None, "", None)
        );
    }

    #[test]
    fn a_list_that_fails_part_way_verifies_nothing() {
        let mut cut = SnapshotError::local("wabas", "stopped after 2 WABA(s)");
        cut.cut_short = true;
        let pages = vec![
            WabaPage::Rows {
                wabas: vec![waba("W1", "B1", Some("C1")), waba("W2", "B2", Some("X"))],
                extras_failed: vec![],
            },
            WabaPage::Failed(cut),
        ];
        let mut feed = Feed::new(head(Ok(lines())), Ok(pages.into_iter()));
        assert_eq!(feed.by_ref().count(), 2);
        let snap = feed.finish();
        assert!(
            snap.credit_lines[0]
                .allocations
                .iter()
                .all(|a| a.verification == Verification::Unknown)
        );
        assert_eq!(
            snap.not_funded,
            NotFundedList::NotRead("stopped after 2 WABA(s)".into())
        );
        assert!(snap.errors.iter().any(|e| e.cut_short));
    }

    #[test]
    fn without_our_credit_lines_nothing_is_called_not_funded() {
        let e = SnapshotError::local("credit_lines", "Permission denied (code 200).");
        let pages = vec![WabaPage::Rows {
            wabas: vec![waba("W1", "B1", None)],
            extras_failed: vec![],
        }];
        let mut feed = Feed::new(head(Err(e)), Ok(pages.into_iter()));
        assert_eq!(feed.by_ref().count(), 1);
        let snap = feed.finish();
        assert_eq!(
            snap.not_funded,
            NotFundedList::NotRead("Permission denied (code 200).".into())
        );
        assert_eq!(snap.partner_kind, None);
    }
}
