//! The text form (`snapshot` and `snapshot --plain`): for people and for `grep`/`cut`.
//!
//! Two lines first (`Fetched: <RFC 3339>`, `Partner kind: solution_partner`), then one
//! section per scope, each opening with a header line (`Solutions: 31`, or
//! `Solutions: not read — <why>` when the scope could not be read), then a column line
//! starting with `#`, then one tab-separated data line per record whose first field is the
//! record kind. Every data line of a kind has the same fields in the same order
//! ([`COLUMNS`]); a missing value is `-`; a value is made inert (`crate::text::inert`, which
//! also shows a tab or a newline as its control picture) so a field never splits.

use std::borrow::Borrow;
use std::io::{self, Write};

use crate::domain::funding::{NotFunded, Verification};
use crate::domain::onboarding::{Health, worst_quality};
use crate::domain::solution::Solution;

use super::{NotFundedList, Snapshot, SnapshotAllocation, SnapshotError, SnapshotWaba};

/// The fields of each record kind, in order (the `#` line of its section says the same).
pub const COLUMNS: [(&str, &[&str]); 5] = [
    (
        "solution",
        &[
            "state",
            "role",
            "id",
            "name",
            "status",
            "status_for_pending_request",
        ],
    ),
    (
        "waba",
        &[
            "id",
            "health",
            "webhooks_subscribed",
            "credit_shared",
            "phones_registered",
            "phones",
            "worst_quality",
            "bsp_registration",
            "name",
        ],
    ),
    (
        "credit_line",
        &[
            "id",
            "name",
            "allocations",
            "verified",
            "mismatched",
            "unknown",
            "revoked",
        ],
    ),
    (
        "allocation",
        &[
            "credit_line_id",
            "check",
            "symbol",
            "id",
            "request_status",
            "credential",
            "business_id",
            "business_name",
            "wabas",
            "waba_ids",
        ],
    ),
    (
        "not_funded",
        &[
            "waba_id",
            "reason",
            "allocation_id",
            "funding_id",
            "shareable",
            "currency",
            "name",
        ],
    ),
];

/// The column lines and what each kind means, for `snapshot --help` and the README.
pub fn columns_help() -> String {
    COLUMNS
        .iter()
        .map(|(kind, cols)| format!("  {kind}\t{}\n", cols.join("\t")))
        .collect()
}

/// A value as one field: inert, with no tab, newline or line separator left in it, `-` when
/// empty.
pub fn cell(s: &str) -> String {
    let s = crate::text::inert(s);
    if s.is_empty() {
        return "-".into();
    }
    // Not controls, so `inert` keeps them; some tools break lines at them.
    s.replace(['\u{2028}', '\u{2029}'], "\u{FFFD}")
}

fn opt(s: Option<&str>) -> String {
    cell(s.unwrap_or(""))
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

fn column_line(kind: &str) -> String {
    let cols = COLUMNS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(&[][..], |(_, c)| *c);
    format!("#{kind}\t{}\n", cols.join("\t"))
}

/// One WABA's data line.
pub fn waba_line(w: &SnapshotWaba) -> String {
    let o = &w.onboarding;
    let phones = w.waba.node.phone_numbers().to_vec();
    let fields = [
        cell(w.waba.id()),
        cell(Health::of_waba(&w.waba).label()),
        yes_no(o.webhooks_subscribed).into(),
        yes_no(o.credit_shared).into(),
        yes_no(o.phones_registered).into(),
        phones.len().to_string(),
        opt(worst_quality(&phones).as_deref()),
        w.bsp_registration.state.as_str().into(),
        cell(w.waba.name()),
    ];
    format!("waba\t{}\n", fields.join("\t"))
}

fn solution_line(s: &Solution) -> String {
    let fields = [
        s.state.label().to_string(),
        s.role.label().to_string(),
        cell(s.id()),
        cell(s.name()),
        cell(&s.node.status),
        opt(s.node.status_for_pending_request.as_deref()),
    ];
    format!("solution\t{}\n", fields.join("\t"))
}

fn allocation_line(line_id: &str, a: &SnapshotAllocation) -> String {
    let al = &a.allocation;
    let v = a.verification;
    let fields = [
        cell(line_id),
        v.label().to_string(),
        v.symbol().to_string(),
        cell(&al.id),
        opt(al.request_status.as_deref()),
        opt(al.credential_id()),
        opt(al.business_id()),
        cell(al.business_name()),
        a.waba_ids.len().to_string(),
        cell(&a.waba_ids.join(",")),
    ];
    format!("allocation\t{}\n", fields.join("\t"))
}

fn not_funded_line(r: &super::NotFundedRow) -> String {
    let (allocation, funding) = match &r.reason {
        NotFunded::NoFunding => (None, None),
        NotFunded::NotAttached { allocation_id } | NotFunded::Revoked { allocation_id } => {
            (Some(allocation_id.as_str()), None)
        }
        NotFunded::Mismatched {
            allocation_id,
            funding,
        } => (Some(allocation_id.as_str()), Some(funding.as_str())),
        NotFunded::OtherFunding { funding } => (None, Some(funding.as_str())),
    };
    let fields = [
        cell(&r.waba_id),
        cell(&r.reason.label()),
        opt(allocation),
        opt(funding),
        yes_no(Some(r.reason.shareable())).into(),
        opt(r.currency.as_deref()),
        cell(&r.name),
    ];
    format!("not_funded\t{}\n", fields.join("\t"))
}

/// A section's header: its count, or "not read — <why>" when the scope could not be read at
/// all (an empty table would read as "none"), or the count marked incomplete when the list
/// stopped part-way.
fn header(title: &str, n: usize, errors: &[SnapshotError], scope: &str) -> String {
    let mut of_scope = errors.iter().filter(|e| e.scope == scope);
    let first = of_scope.clone().next();
    match (n, first) {
        (0, Some(e)) => format!("{title}: not read — {}", cell(&e.message)),
        _ => match of_scope.find(|e| e.cut_short) {
            Some(e) => format!("{title}: {n} (incomplete — {})", cell(&e.message)),
            None => format!("{title}: {n}"),
        },
    }
}

/// Write the text form: the snapshot's sections, with the WABA section made of `waba_lines`
/// (the snapshot's own `wabas` are not used: a streamed one has none left).
pub fn write<W: Write, L: Borrow<str>>(
    out: &mut W,
    snap: &Snapshot,
    waba_lines: &[L],
) -> io::Result<()> {
    let errors = &snap.errors;
    let kind = snap.partner_kind.map_or("unknown", |k| k.as_str());
    writeln!(out, "Fetched: {}", snap.fetched_at)?;
    writeln!(out, "Partner kind: {kind}\n")?;
    writeln!(
        out,
        "{}",
        header("Solutions", snap.solutions.len(), errors, "solutions")
    )?;
    out.write_all(column_line("solution").as_bytes())?;
    // People read it by lane, requests waiting on us first; the JSON keeps Meta's order.
    let mut rows: Vec<&Solution> = snap.solutions.iter().collect();
    rows.sort_by_key(|s| (s.state, !s.waits_on_us()));
    for s in rows {
        out.write_all(solution_line(s).as_bytes())?;
    }

    writeln!(
        out,
        "\n{}",
        header("WABAs", waba_lines.len(), errors, "wabas")
    )?;
    out.write_all(column_line("waba").as_bytes())?;
    for l in waba_lines {
        out.write_all(l.borrow().as_bytes())?;
    }

    writeln!(
        out,
        "\n{}",
        header(
            "Credit lines",
            snap.credit_lines.len(),
            errors,
            "credit_lines"
        )
    )?;
    out.write_all(column_line("credit_line").as_bytes())?;
    for l in &snap.credit_lines {
        let count = |v: Verification| {
            l.allocations
                .iter()
                .filter(|a| a.verification == v)
                .count()
                .to_string()
        };
        let fields = [
            cell(&l.line.id),
            cell(l.line.name()),
            l.allocations.len().to_string(),
            count(Verification::Verified),
            count(Verification::Mismatched),
            count(Verification::Unknown),
            count(Verification::Revoked),
        ];
        writeln!(out, "credit_line\t{}", fields.join("\t"))?;
    }
    if snap.credit_lines.iter().any(|l| !l.allocations.is_empty()) {
        out.write_all(column_line("allocation").as_bytes())?;
    }
    for l in &snap.credit_lines {
        // Problems first, as the console lists them; the JSON keeps Meta's order.
        let mut rows: Vec<&SnapshotAllocation> = l.allocations.iter().collect();
        rows.sort_by_key(|a| a.verification);
        for a in rows {
            out.write_all(allocation_line(&l.line.id, a).as_bytes())?;
        }
    }

    match &snap.not_funded {
        NotFundedList::NotRead(why) => {
            writeln!(out, "\nNot funded: not read — {}", cell(why))?;
        }
        NotFundedList::Read(rows) => {
            let what =
                if snap.partner_kind == Some(crate::domain::partner::PartnerKind::TechProvider) {
                    "WABAs with no funding at all"
                } else {
                    "WABAs not funded by a live allocation of ours"
                };
            writeln!(out, "\nNot funded: {} ({what})", rows.len())?;
            out.write_all(column_line("not_funded").as_bytes())?;
            for r in rows {
                out.write_all(not_funded_line(r).as_bytes())?;
            }
        }
    }
    Ok(())
}

/// The errors, one line each, for standard error (the text form's stdout is the data).
pub fn errors(errors: &[SnapshotError]) -> String {
    errors
        .iter()
        .map(|e| format!("error [{}]: {}\n", e.scope, crate::text::inert(&e.message)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_is_one_inert_field() {
        assert_eq!(cell("a\tb\nc\u{2028}d\u{1b}[2J"), "a␉b␊c\u{FFFD}d␛[2J");
        assert_eq!(cell(""), "-");
        assert_eq!(cell("Lumen Bakery"), "Lumen Bakery");
    }

    fn error(scope: &str, cut_short: bool) -> SnapshotError {
        SnapshotError {
            scope: scope.into(),
            code: Some(190),
            message: "The token\tdied (code 190).".into(),
            cut_short,
        }
    }

    #[test]
    fn a_header_says_why_a_scope_was_not_read_or_is_incomplete() {
        let none: [SnapshotError; 0] = [];
        assert_eq!(header("WABAs", 3, &none, "wabas"), "WABAs: 3");
        let failed = [error("wabas", false)];
        assert_eq!(
            header("WABAs", 0, &failed, "wabas"),
            "WABAs: not read — The token␉died (code 190)."
        );
        // An error of a scope that read rows (a detail, some edges) leaves the count.
        assert_eq!(header("WABAs", 3, &failed, "wabas"), "WABAs: 3");
        assert_eq!(header("Solutions", 0, &failed, "solutions"), "Solutions: 0");
        let cut = [error("wabas", true)];
        assert_eq!(
            header("WABAs", 3, &cut, "wabas"),
            "WABAs: 3 (incomplete — The token␉died (code 190).)"
        );
    }

    #[test]
    fn column_lines_match_the_columns() {
        for (kind, cols) in COLUMNS {
            let line = column_line(kind);
            assert_eq!(line.trim_end().split('\t').count(), 1 + cols.len());
            assert!(line.starts_with(&format!("#{kind}\t")));
        }
    }
}
