//! `partnerdeck snapshot [--json]`: one refresh of everything, printed for a script or a
//! person. Exit 0 when every call worked, 1 when any failed (with the errors listed).

use chrono::Utc;
use futures::StreamExt;
use serde::Serialize;

use crate::bsp::settings::PartnerSettings;
use crate::domain::funding::{FundingIndex, WabaFunding, check_allocation, our_credentials};
use crate::domain::onboarding::{Health, Onboarding, OnboardingRules, worst_quality};
use crate::domain::partner::{BspRegistration, PartnerKind, decide_partner_kind};
use crate::domain::solution::Solution;
use crate::graph::client::GraphClient;
use crate::graph::credit;
use crate::graph::credit_model::{AllocationConfig, CreditLine, CreditLineData};
use crate::graph::error::GraphError;
use crate::graph::solutions;
use crate::graph::waba_model::Waba;
use crate::graph::wabas;

const DETAIL_CONCURRENCY: usize = 8;

/// The snapshot JSON of design.md.
#[derive(Debug, Serialize)]
pub struct Snapshot {
    pub fetched_at: String,
    pub solutions: Vec<Solution>,
    pub wabas: Vec<SnapshotWaba>,
    pub credit_lines: Vec<SnapshotCreditLine>,
    /// `solution_partner` or `tech_provider`; `null` when the setting is `auto` and our
    /// credit lines could not be read.
    pub partner_kind: Option<PartnerKind>,
    pub errors: Vec<SnapshotError>,
}

/// A credit line as the snapshot prints it: Graph fields verbatim, with its allocations.
#[derive(Debug, Serialize)]
pub struct SnapshotCreditLine {
    #[serde(flatten)]
    pub line: CreditLine,
    pub allocations: Vec<SnapshotAllocation>,
}

/// An allocation config, Graph fields verbatim, plus our `waba_ids` (the WABAs of its
/// receiving business, or funded by its credential) and `verified` (its credential equals
/// their `primary_funding_id`: true, false when one differs, null when unknown or revoked).
#[derive(Debug, Serialize)]
pub struct SnapshotAllocation {
    #[serde(flatten)]
    pub allocation: AllocationConfig,
    pub waba_ids: Vec<String>,
    pub verified: Option<bool>,
}

/// A WABA as the snapshot prints it: Graph fields verbatim (with `phone_numbers`,
/// `subscribed_apps` and `solutions` when read), plus our `onboarding` checklist.
#[derive(Debug, Serialize)]
pub struct SnapshotWaba {
    #[serde(flatten)]
    pub waba: Waba,
    pub onboarding: Onboarding,
    /// What the console knows of the WABA's registration with our BSP (Tech Providers).
    pub bsp_registration: BspRegistration,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct SnapshotError {
    pub scope: String,
    pub code: Option<i64>,
    pub message: String,
}

impl SnapshotError {
    fn from_graph(scope: &str, e: &GraphError) -> SnapshotError {
        SnapshotError {
            scope: scope.into(),
            code: e.code,
            message: e.sentence(),
        }
    }
}

/// Read everything: the solutions (list, then each one's detail a few at a time) and, beside
/// them, the client WABAs of `business_id` and our credit lines (the one named by
/// `credit_line_id`, else every one of `business_id`) with their allocations. Without a
/// business id the WABAs (and, without a credit line id, the credit lines) are errors of their
/// scope; the rest is still read. Once both are read, the WABAs' checklist compares their
/// funding with our allocations, and each allocation is verified against the WABAs.
pub async fn collect(
    client: &GraphClient,
    app_id: &str,
    business_id: Option<&str>,
    partner_business_id: Option<&str>,
    credit_line_id: Option<&str>,
) -> Snapshot {
    collect_with(
        client,
        app_id,
        business_id,
        partner_business_id,
        credit_line_id,
        &PartnerSettings::default(),
    )
    .await
}

/// [`collect`] with the partner-kind and BSP settings: the kind comes from the setting, or
/// (`auto`) from whether the credit lines read are non-empty. As a Tech Provider the
/// checklist's credit step means "funded at all" (`domain::partner::credit_step`).
pub async fn collect_with(
    client: &GraphClient,
    app_id: &str,
    business_id: Option<&str>,
    partner_business_id: Option<&str>,
    credit_line_id: Option<&str>,
    partner: &PartnerSettings,
) -> Snapshot {
    let (mut snapshot, (wabas, waba_errors), credit) = tokio::join!(
        collect_solutions(client, app_id),
        collect_wabas(client, business_id, partner_business_id),
        collect_credit(client, business_id, credit_line_id)
    );
    let lines = match credit {
        Ok(lines) => Some(lines),
        Err(e) => {
            snapshot.errors.push(e);
            None
        }
    };
    let kind = decide_partner_kind(partner.partner_kind, lines.as_ref().map(|l| !l.is_empty()));
    snapshot.partner_kind = kind;
    let mut rules = OnboardingRules::new(app_id);
    rules.partner_kind = kind;
    rules.our_credentials = lines.as_deref().map(our_credentials);
    if kind == Some(PartnerKind::TechProvider) {
        // Funded by anyone's credit (the Solution Partner's): not compared with ours.
        rules.our_credentials = None;
    }
    if let (Some(lines), Some(wabas)) = (&lines, &wabas) {
        let index = FundingIndex::new(wabas.iter().map(WabaFunding::of).collect());
        snapshot.credit_lines = credit_lines(lines, Some(&index));
    } else if let Some(lines) = &lines {
        snapshot.credit_lines = credit_lines(lines, None);
    }
    if let Some(w) = &wabas
        && let Some(e) = malformed_rows(
            "wabas",
            "WABA row(s)",
            w.iter().map(|w| (w.id(), w.node.malformed.as_deref())),
        )
    {
        snapshot.errors.push(e);
    }
    if let Some(lines) = &lines {
        let rows = lines
            .iter()
            .map(|l| (l.line.id.as_str(), l.line.malformed.as_deref()))
            .chain(lines.iter().flat_map(|l| {
                l.allocations
                    .iter()
                    .map(|a| (a.id.as_str(), a.malformed.as_deref()))
            }));
        if let Some(e) = malformed_rows("credit_lines", "credit line or allocation row(s)", rows) {
            snapshot.errors.push(e);
        }
    }
    snapshot.wabas = wabas
        .unwrap_or_default()
        .into_iter()
        .map(|waba| SnapshotWaba {
            onboarding: Onboarding::derive(&waba, &rules),
            bsp_registration: BspRegistration::initial(kind, partner.bsp),
            waba,
        })
        .collect();
    snapshot.errors.extend(waba_errors);
    snapshot
}

/// Write the characters a terminal acts on as `\u` escapes. Outside strings, serde_json's
/// output is ASCII, so every such character is inside a string, where the escape is exact.
pub fn inert_json(json: &str) -> String {
    if !json.chars().any(needs_escape) {
        return json.to_string();
    }
    let mut out = String::with_capacity(json.len() + 64);
    for c in json.chars() {
        if needs_escape(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    matches!(c,
        '\u{7f}'..='\u{9f}'
        | '\u{061c}'
        | '\u{200e}' | '\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
        || (c.is_control() && c != '\n' && c != '\t' && c != '\r')
}

/// One error per list whose rows Meta sent in a shape we could not read (the rows are kept,
/// marked; see `graph::model::Malformed`).
fn malformed_rows<'a>(
    scope: &str,
    what: &str,
    rows: impl Iterator<Item = (&'a str, Option<&'a crate::graph::model::Malformed>)>,
) -> Option<SnapshotError> {
    let bad: Vec<(&str, &crate::graph::model::Malformed)> =
        rows.filter_map(|(id, m)| m.map(|m| (id, m))).collect();
    let (first_id, first) = bad.first()?;
    Some(SnapshotError {
        scope: scope.into(),
        code: None,
        message: format!(
            "{} {what} could not be read as expected (first: {first_id}): {}; the other rows are complete.",
            bad.len(),
            first.reason.trim_end_matches('.')
        ),
    })
}

fn credit_lines(lines: &[CreditLineData], index: Option<&FundingIndex>) -> Vec<SnapshotCreditLine> {
    lines
        .iter()
        .map(|l| SnapshotCreditLine {
            line: l.line.clone(),
            allocations: l
                .allocations
                .iter()
                .map(|a| {
                    let check = check_allocation(a, index);
                    SnapshotAllocation {
                        allocation: a.clone(),
                        verified: check.verification.verified(),
                        waba_ids: check.waba_ids,
                    }
                })
                .collect(),
        })
        .collect()
}

async fn collect_credit(
    client: &GraphClient,
    business_id: Option<&str>,
    credit_line_id: Option<&str>,
) -> Result<Vec<CreditLineData>, SnapshotError> {
    if business_id.is_none() && credit_line_id.is_none() {
        return Err(SnapshotError {
            scope: "credit_lines".into(),
            code: None,
            message: "No business id: give --business-id, PARTNERDECK_BUSINESS_ID or business_id in the config file (or --credit-line-id) to list the credit lines.".into(),
        });
    }
    credit::refresh(client, business_id, credit_line_id)
        .await
        .map_err(|e| SnapshotError::from_graph("credit_lines", &e))
}

/// The client WABAs (`None` when they could not be listed), and the errors met.
async fn collect_wabas(
    client: &GraphClient,
    business_id: Option<&str>,
    partner_business_id: Option<&str>,
) -> (Option<Vec<Waba>>, Vec<SnapshotError>) {
    let Some(business_id) = business_id else {
        return (
            None,
            vec![SnapshotError {
                scope: "wabas".into(),
                code: None,
                message: "No business id: give --business-id, PARTNERDECK_BUSINESS_ID or business_id in the config file to list the client WABAs.".into(),
            }],
        );
    };
    let book = match wabas::refresh(client, business_id, partner_business_id).await {
        Ok(book) => book,
        Err(e) => return (None, vec![SnapshotError::from_graph("wabas", &e)]),
    };
    let mut errors = vec![];
    if let Some((first_id, e)) = book.extras_failed.first() {
        let mut ids: Vec<&str> = book
            .extras_failed
            .iter()
            .map(|(id, _)| id.as_str())
            .collect();
        ids.dedup();
        errors.push(SnapshotError {
            scope: "wabas".into(),
            code: e.code,
            message: format!(
                "Subscribed apps or solutions of {} WABA(s) could not be read (first: {first_id}), so their checklist has nulls: {}",
                ids.len(),
                e.sentence()
            ),
        });
    }
    (Some(book.wabas), errors)
}

async fn collect_solutions(client: &GraphClient, app_id: &str) -> Snapshot {
    let mut errors = vec![];
    let listed = match solutions::list_solutions(client, app_id).await {
        Ok(list) => list,
        Err(e) => {
            errors.push(SnapshotError::from_graph("solutions", &e));
            vec![]
        }
    };
    errors.extend(malformed_rows(
        "solutions",
        "solution row(s)",
        listed.iter().map(|s| (s.id(), s.node.malformed.as_deref())),
    ));
    let detailed: Vec<(Solution, Option<Result<Solution, GraphError>>)> =
        futures::stream::iter(listed)
            .map(|s| async move {
                // A malformed row has no id to ask about: it is printed as listed.
                if s.node.malformed.is_some() {
                    return (Solution::from(s), None);
                }
                let d = solutions::solution_detail(client, s.id()).await;
                let role = s.role;
                (
                    Solution::from(s),
                    Some(d.map(|node| Solution::new(node, role))),
                )
            })
            .buffered(DETAIL_CONCURRENCY)
            .collect()
            .await;
    let solutions = detailed
        .into_iter()
        .map(|(listed, detail)| match detail {
            None => listed,
            Some(Ok(d)) => d,
            Some(Err(e)) => {
                errors.push(SnapshotError::from_graph("solutions", &e));
                listed
            }
        })
        .collect();
    Snapshot {
        fetched_at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        solutions,
        wabas: vec![],
        credit_lines: vec![],
        partner_kind: None,
        errors,
    }
}

impl Snapshot {
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// The JSON form. Characters that can change what a terminal shows (DEL, C1 controls,
    /// bidi overrides and isolates, line and paragraph separators) are written as `\u`
    /// escapes, so `cat` of the output is inert; the data decodes to exactly what Meta sent.
    pub fn to_json(&self) -> String {
        let json =
            serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
        inert_json(&json)
    }

    /// The person's form: one line per solution, then any errors.
    pub fn to_text(&self) -> String {
        use crate::text::inert;
        let mut out = format!(
            "Solutions: {} (fetched {})\n",
            self.count_or_why("solutions", self.solutions.len()),
            self.fetched_at
        );
        out.push_str(&format!(
            "{:<22} {:<8} {:<18} {}\n",
            "STATE", "ROLE", "ID", "NAME"
        ));
        // People read it by lane, requests waiting on us first; the JSON keeps Meta's order.
        let mut rows: Vec<&Solution> = self.solutions.iter().collect();
        rows.sort_by_key(|s| (s.state, !s.waits_on_us()));
        for s in rows {
            let state = match s.state {
                crate::domain::solution::SolutionState::Unknown => format!(
                    "unknown:{}/{}",
                    s.node.status,
                    s.node.status_for_pending_request.as_deref().unwrap_or("-")
                ),
                st => st.label().to_string(),
            };
            out.push_str(&format!(
                "{:<22} {:<8} {:<18} {}\n",
                inert(&state),
                s.role.label(),
                inert(s.id()),
                inert(s.name())
            ));
        }
        out.push_str(&format!(
            "\nWABAs: {}\n",
            self.count_or_why("wabas", self.wabas.len())
        ));
        out.push_str(&format!(
            "{:<10} {:<11} {:<10} {:<18} {}\n",
            "HEALTH", "HOOK/CR/REG", "PHONES", "ID", "NAME"
        ));
        let mark = |s: Option<bool>| match s {
            Some(true) => "y",
            Some(false) => "n",
            None => "?",
        };
        for w in &self.wabas {
            let o = &w.onboarding;
            let phones = &w.waba.node.phone_numbers;
            let phones = match worst_quality(phones) {
                Some(q) => format!("{} {q}", phones.len()),
                None => phones.len().to_string(),
            };
            out.push_str(&format!(
                "{:<10} {:<11} {:<10} {:<18} {}\n",
                inert(Health::of_waba(&w.waba).label()),
                format!(
                    "{}/{}/{}",
                    mark(o.webhooks_subscribed),
                    mark(o.credit_shared),
                    mark(o.phones_registered)
                ),
                inert(&phones),
                inert(w.waba.id()),
                inert(w.waba.name())
            ));
        }
        out.push_str(&format!(
            "\nCredit lines: {}\n",
            self.count_or_why("credit_lines", self.credit_lines.len())
        ));
        for l in &self.credit_lines {
            out.push_str(&format!(
                "{} {} ({} allocations)\n",
                inert(&l.line.id),
                inert(l.line.name()),
                l.allocations.len()
            ));
            out.push_str(&format!(
                "  {:<11} {:<10} {:<18} {:<18} {}\n",
                "VERIFIED", "STATUS", "ALLOCATION", "CREDENTIAL", "CUSTOMER (WABAS)"
            ));
            // Problems first for people; the JSON keeps Meta's order.
            let mut rows: Vec<&SnapshotAllocation> = l.allocations.iter().collect();
            rows.sort_by_key(|a| match (a.allocation.is_revoked(), a.verified) {
                (true, _) => 3,
                (false, Some(false)) => 0,
                (false, None) => 1,
                (false, Some(true)) => 2,
            });
            for a in rows {
                let verified = match (a.allocation.is_revoked(), a.verified) {
                    (true, _) => "revoked",
                    (false, Some(true)) => "yes",
                    (false, Some(false)) => "MISMATCHED",
                    (false, None) => "unknown",
                };
                out.push_str(&format!(
                    "  {:<11} {:<10} {:<18} {:<18} {} ({})\n",
                    verified,
                    inert(a.allocation.request_status.as_deref().unwrap_or("-")),
                    inert(&a.allocation.id),
                    inert(a.allocation.credential_id().unwrap_or("-")),
                    inert(a.allocation.business_name()),
                    a.waba_ids.len()
                ));
            }
        }
        out
    }

    /// The errors, one line each, for standard error (the text form's stdout is the data).
    pub fn errors_text(&self) -> String {
        self.errors
            .iter()
            .map(|e| format!("error [{}]: {}\n", e.scope, crate::text::inert(&e.message)))
            .collect()
    }

    /// A scope's count, or when it could not be read at all, "not read — <reason>" (an
    /// empty table would read as "none").
    fn count_or_why(&self, scope: &str, n: usize) -> String {
        match self.errors.iter().find(|e| e.scope == scope) {
            Some(e) if n == 0 => format!("not read — {}", crate::text::inert(&e.message)),
            _ => n.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_output_is_inert_and_exact() {
        let hostile = "a\u{202e}b\u{9b}31m\u{7f}c\u{2028}d\u{2066}e\u{1b}[2J 👨\u{200d}👩 ok";
        let json = serde_json::to_string_pretty(&serde_json::json!({ "name": hostile })).unwrap();
        let out = inert_json(&json);
        assert!(out.chars().all(|c| !needs_escape(c)), "{out:?}");
        assert!(out.contains("\\u202e") && out.contains("\\u009b") && out.contains("\\u007f"));
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["name"], hostile);
        assert_eq!(inert_json("{\"a\": \"plain\"}"), "{\"a\": \"plain\"}");
    }
}
