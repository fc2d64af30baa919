//! `partnerdeck snapshot [--json]`: one refresh of everything, printed for a script or a
//! person. Exit 0 when every call worked, 1 when any failed (with the errors listed).

use chrono::Utc;
use futures::StreamExt;
use serde::Serialize;

use crate::graph::client::GraphClient;
use crate::graph::error::GraphError;
use crate::graph::model::Solution;
use crate::graph::solutions;
use crate::graph::waba_model::{Onboarding, OnboardingRules, Waba, worst_quality};
use crate::graph::wabas;

const DETAIL_CONCURRENCY: usize = 8;

/// The snapshot JSON of design.md.
#[derive(Debug, Serialize)]
pub struct Snapshot {
    pub fetched_at: String,
    pub solutions: Vec<Solution>,
    pub wabas: Vec<SnapshotWaba>,
    /// Filled by the credit-lines work; empty until then.
    pub credit_lines: Vec<serde_json::Value>,
    pub errors: Vec<SnapshotError>,
}

/// A WABA as the snapshot prints it: Graph fields verbatim (with `phone_numbers`,
/// `subscribed_apps` and `solutions` when read), plus our `onboarding` checklist.
#[derive(Debug, Serialize)]
pub struct SnapshotWaba {
    #[serde(flatten)]
    pub waba: Waba,
    pub onboarding: Onboarding,
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
/// them, the client WABAs of `business_id`. Without a business id the WABAs are an error of
/// scope `wabas`; the rest is still read.
pub async fn collect(
    client: &GraphClient,
    app_id: &str,
    business_id: Option<&str>,
    partner_business_id: Option<&str>,
) -> Snapshot {
    let (mut snapshot, (wabas, waba_errors)) = tokio::join!(
        collect_solutions(client, app_id),
        collect_wabas(client, app_id, business_id, partner_business_id)
    );
    snapshot.wabas = wabas;
    snapshot.errors.extend(waba_errors);
    snapshot
}

async fn collect_wabas(
    client: &GraphClient,
    app_id: &str,
    business_id: Option<&str>,
    partner_business_id: Option<&str>,
) -> (Vec<SnapshotWaba>, Vec<SnapshotError>) {
    let Some(business_id) = business_id else {
        return (
            vec![],
            vec![SnapshotError {
                scope: "wabas".into(),
                code: None,
                message: "No business id: give --business-id, PARTNERDECK_BUSINESS_ID or business_id in the config file to list the client WABAs.".into(),
            }],
        );
    };
    let book = match wabas::refresh(client, business_id, partner_business_id).await {
        Ok(book) => book,
        Err(e) => return (vec![], vec![SnapshotError::from_graph("wabas", &e)]),
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
    let rules = OnboardingRules::new(app_id);
    let wabas = book
        .wabas
        .into_iter()
        .map(|waba| SnapshotWaba {
            onboarding: Onboarding::derive(&waba, &rules),
            waba,
        })
        .collect();
    (wabas, errors)
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
    let detailed: Vec<(Solution, Result<Solution, GraphError>)> = futures::stream::iter(listed)
        .map(|s| async move {
            let d = solutions::solution_detail(client, s.id(), s.role).await;
            (s, d)
        })
        .buffered(DETAIL_CONCURRENCY)
        .collect()
        .await;
    let solutions = detailed
        .into_iter()
        .map(|(listed, detail)| match detail {
            Ok(d) => d,
            Err(e) => {
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
        errors,
    }
}

impl Snapshot {
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The person's form: one line per solution, then any errors.
    pub fn to_text(&self) -> String {
        use crate::ui::text::inert;
        let mut out = format!(
            "Solutions: {} (fetched {})\n",
            self.solutions.len(),
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
                crate::graph::model::SolutionState::Unknown => format!(
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
        out.push_str(&format!("\nWABAs: {}\n", self.wabas.len()));
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
                inert(w.waba.health().label()),
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
        for e in &self.errors {
            out.push_str(&format!("error [{}]: {}\n", e.scope, inert(&e.message)));
        }
        out
    }
}
