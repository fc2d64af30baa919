//! `partnerdeck snapshot [--json]`: one refresh of everything, printed for a script or a
//! person. Exit 0 when every call worked, 1 when any failed (with the errors listed).

use chrono::Utc;
use futures::StreamExt;
use serde::Serialize;

use crate::graph::client::GraphClient;
use crate::graph::error::GraphError;
use crate::graph::model::Solution;
use crate::graph::solutions;

const DETAIL_CONCURRENCY: usize = 8;

/// The snapshot JSON of design.md.
#[derive(Debug, Serialize)]
pub struct Snapshot {
    pub fetched_at: String,
    pub solutions: Vec<Solution>,
    /// Filled by the WABAs pane's work; empty until then.
    pub wabas: Vec<serde_json::Value>,
    /// Filled by the credit-lines work; empty until then.
    pub credit_lines: Vec<serde_json::Value>,
    pub errors: Vec<SnapshotError>,
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

/// Read everything: the solutions list, then each solution's detail (permissions, apps),
/// a few at a time.
pub async fn collect(client: &GraphClient, app_id: &str) -> Snapshot {
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
        for e in &self.errors {
            out.push_str(&format!("error [{}]: {}\n", e.scope, inert(&e.message)));
        }
        out
    }
}
