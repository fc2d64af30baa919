//! The WABAs pane: lanes with counts, the sort and change marks, the table, or the detail of
//! the selected WABA when it is open.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Wrap};

use crate::app::Model;
use crate::app::keymap::{Command, key_label};
use crate::app::list::follow;
use crate::app::wabas::{Change, WabaLane, WabaRow, WabasPane};
use crate::domain::onboarding::Health;
use crate::text::{age, inert};
use crate::ui::status_bar::{KEEP, Part, fit, line_of};
use crate::ui::{Column, Theme, draw_filter, fit_columns, waba_detail};

pub fn draw(frame: &mut Frame, area: Rect, model: &Model, now: DateTime<Utc>, theme: &Theme) {
    let pane = &model.wabas;
    if pane.not_configured {
        let text = "No business id is set, so no client WABAs are listed. Give our business \
                    portfolio's id with --business-id ID, PARTNERDECK_BUSINESS_ID, or business_id \
                    in the config file (optionally --partner-business-id to list only the WABAs \
                    shared with that partner too).";
        frame.render_widget(
            Paragraph::new(text)
                .style(theme.warn)
                .wrap(Wrap { trim: true })
                .block(Block::bordered().title(" WABAs ")),
            area,
        );
        return;
    }
    let show_filter = pane.filter_editing || !pane.filter.value().is_empty();
    let [lanes, filter, rest] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(show_filter)),
        Constraint::Min(3),
    ])
    .areas(area);
    draw_lanes(frame, lanes, pane, now, theme);
    draw_filter(frame, filter, &pane.filter, pane.filter_editing, theme);
    match pane.open_row() {
        Some(row) => waba_detail::draw(frame, rest, model, row, now, theme),
        None => draw_table(frame, rest, model, now, theme),
    }
}

fn draw_lanes(frame: &mut Frame, area: Rect, pane: &WabasPane, now: DateTime<Utc>, theme: &Theme) {
    let mut spans = vec![];
    for (i, lane) in WabaLane::ALL.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" │ ", theme.dim));
        }
        let count = pane.lane_count(*lane);
        let style = if *lane == pane.lane {
            theme.tab_active
        } else if *lane != WabaLane::All && count > 0 {
            theme.attention
        } else {
            theme.text
        };
        let filtered = (*lane == pane.lane && !pane.filter.value().trim().is_empty())
            .then(|| pane.visible_len());
        spans.push(Span::styled(
            format!(
                "{} {}",
                lane.title(),
                super::solutions::lane_count_text(pane.loaded, count, filtered)
            ),
            style,
        ));
    }
    // What follows the lanes gives way when the line is narrow (80 columns over SSH): the
    // cost line shortens (the status bar has the usage too), then the sort hint goes (the
    // footer has `o sort`); loading, changes and the Tech Provider gauge shorten last.
    let mut parts = vec![Part::new(KEEP, vec![spans])];
    // A Tech Provider may onboard 200 new customers a rolling week: a gauge (approximate —
    // only customers new to the platform count, and Meta does not say which those are).
    if pane.rules.partner_kind == Some(crate::domain::partner::PartnerKind::TechProvider) {
        let week = pane.onboarded_between(now.timestamp() - 7 * 86_400, now.timestamp());
        parts.push(Part::text(
            1,
            if week >= 200 { theme.error } else { theme.dim },
            &[
                format!("  · new in 7 days ≈{week}/200"),
                format!("  · 7 days ≈{week}/200"),
            ],
        ));
    }
    let reverse = if pane.reverse { " ↑" } else { "" };
    parts.push(Part::new(
        2,
        vec![vec![
            Span::styled("  · ", theme.dim),
            Span::styled(key_label(Command::Sort), theme.key),
            Span::styled(
                format!(" sort: {}{reverse}", pane.sort.short_label()),
                theme.dim,
            ),
        ]],
    ));
    if !pane.changes.is_empty() {
        let n = pane.changes.len();
        parts.push(Part::text(
            1,
            theme.attention,
            &[
                format!("  · {n} changed (+ new, ↓ worse)"),
                format!("  · {n} changed"),
            ],
        ));
    }
    parts.extend(load_parts(pane, theme));
    fit(&mut parts, &mut [], usize::from(area.width));
    frame.render_widget(Paragraph::new(line_of(&parts)), area);
}

/// How far a round's list is while its pages arrive, and what the rounds cost an hour next
/// to the usage Meta reports.
fn load_parts(pane: &WabasPane, theme: &Theme) -> Vec<Part> {
    let mut parts = vec![];
    if let Some(l) = pane.loading {
        let of = l.expected.map_or("…".to_string(), grouped);
        let listed = grouped(l.listed);
        parts.push(Part::text(
            1,
            theme.dim,
            &[
                format!("  · loading {listed} of {of}"),
                format!("  · {listed} of {of}"),
            ],
        ));
    }
    if let Some(c) = pane.cost {
        let planned = grouped(c.planned_per_hour as usize);
        let mut forms = vec![];
        match c.usage_pct {
            Some(p) => {
                forms.push(format!(
                    "  · ≈{planned} calls/h planned · Meta reports {p}% used"
                ));
                forms.push(format!("  · ≈{planned} calls/h · {p}% used"));
            }
            None => forms.push(format!(
                "  · ≈{planned} calls/h planned · no usage reported"
            )),
        }
        forms.push(format!("  · ≈{planned} calls/h"));
        parts.push(Part::text(3, theme.dim, &forms));
    }
    parts
}

/// `12,400`.
pub(crate) fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// How a health value looks: its name, styled by how bad it is.
pub(crate) fn health_span<'a>(h: &Health, theme: &Theme) -> Span<'a> {
    let style = match h {
        Health::Available => theme.ok,
        Health::Blocked => theme.error,
        Health::Limited | Health::Other(_) | Health::Missing => theme.warn,
    };
    Span::styled(inert(h.label()).into_owned(), style)
}

/// A checklist step: done, not done, or unknown (never colour alone).
pub(crate) fn mark(step: Option<bool>, theme: &Theme) -> Span<'static> {
    match step {
        Some(true) => Span::styled("✓", theme.ok),
        Some(false) => Span::styled("✗", theme.error),
        None => Span::styled("?", theme.warn),
    }
}

/// The BSP step of a row: registered ✓, refused ✗, not known ?.
fn bsp_step(model: &Model, waba_id: &str) -> Option<bool> {
    use crate::domain::partner::RegistrationState;
    match model.registration(waba_id).state {
        RegistrationState::Registered => Some(true),
        RegistrationState::Failed { .. } => Some(false),
        _ => None,
    }
}

/// `!` needs attention, then `+` new since start or `↓` health got worse.
fn markers(row: &WabaRow, pane: &WabasPane) -> String {
    let attention = if row.needs_attention() { '!' } else { ' ' };
    let change = match pane.changes.get(row.id()) {
        Some(Change::New) => '+',
        Some(Change::HealthWorse { .. }) => '↓',
        None => ' ',
    };
    format!("{attention}{change}")
}

fn phones_text(row: &WabaRow) -> String {
    match (row.phone_count(), row.worst_quality()) {
        (0, _) => "none".into(),
        (n, Some(q)) => format!("{n} {}", inert(&q)),
        (n, None) => n.to_string(),
    }
}

/// `12d` since the WABA was created, or `-`.
pub(crate) fn age_text(created: Option<i64>, now: DateTime<Utc>) -> String {
    match created {
        Some(t) => age(now.timestamp() - t),
        None => "-".into(),
    }
}

/// The tier as a short cell: `TIER_2K` → `2K`; anything else as sent.
fn tier_text(tier: Option<&str>) -> String {
    match tier {
        Some(t) => inert(t.strip_prefix("TIER_").unwrap_or(t)).into_owned(),
        None => "-".into(),
    }
}

/// The keys that apply to the selected WABA, then the pane's own.
fn row_hints(model: &Model, row: Option<&WabaRow>) -> Vec<(Command, &'static str)> {
    let mut hints = vec![];
    if let Some(r) = row {
        if !model.read_only && r.onboarding.webhooks_subscribed != Some(true) {
            hints.push((Command::Subscribe, "subscribe"));
        }
        hints.push((Command::Open, "detail"));
    }
    hints.push((Command::Sort, "sort"));
    hints
}

fn draw_table(frame: &mut Frame, area: Rect, model: &Model, now: DateTime<Utc>, theme: &Theme) {
    let pane = &model.wabas;
    // Indices derived when the data or the query changed: drawing builds only the window.
    let rows_all = pane.visible_indices();
    let title = format!(
        " {} · {} of {} ",
        pane.lane.title(),
        rows_all.len(),
        pane.lane_count(pane.lane)
    );
    let tp = model.tech_provider();
    let block = Block::bordered()
        .title(Span::styled(title, theme.title))
        .title(super::solutions::position(
            pane.selected,
            rows_all.len(),
            theme,
        ));
    let block = super::with_footer(
        block,
        super::key_hints(&row_hints(model, pane.selected_row()), theme),
        if tp {
            &[
                " ! attention · Hook=webhooks Fund=funded Reg=numbers registered BSP=with our BSP · ✓ yes ✗ no ? unknown ",
                " ! attention · Hook=webhooks Fund=funded Reg=registered · ?=unknown ",
                " ! attention ✓ yes ✗ no ? unknown ",
            ]
        } else {
            &[
                " ! attention · Hook=webhooks Cred=credit line Reg=numbers registered · ✓ yes ✗ no ? unknown ",
                " ! attention · Hook=webhooks Cred=credit Reg=registered · ?=unknown ",
                " ! attention ✓ yes ✗ no ? unknown ",
            ]
        },
        area.width,
        theme,
    );
    if rows_all.is_empty() {
        let msg = if !pane.loaded {
            "Loading client WABAs…".to_string()
        } else if !pane.filter.value().is_empty() {
            "No WABA in this lane matches the filter.".to_string()
        } else {
            match pane.lane {
                WabaLane::Attention => "No WABA needs attention.".to_string(),
                WabaLane::Blocked => "No WABA is blocked.".to_string(),
                WabaLane::All => "No client WABAs are shared with our business.".to_string(),
            }
        };
        frame.render_widget(Paragraph::new(msg).style(theme.dim).block(block), area);
        return;
    }
    // Names first: the other columns give way, least useful first, until the name has room.
    let mut columns = vec![
        Column {
            header: "Owner",
            width: 20,
            priority: 2,
        },
        Column {
            header: "ID",
            width: 16,
            priority: 5,
        },
        Column {
            header: "Health",
            width: 9,
            priority: 9,
        },
        Column {
            header: "Phones",
            width: 10,
            priority: 6,
        },
        Column {
            header: "Hook",
            width: 4,
            priority: 8,
        },
        Column {
            // A Tech Provider owns no credit: the step is "funded".
            header: if tp { "Fund" } else { "Cred" },
            width: 4,
            priority: 8,
        },
        Column {
            header: "Reg",
            width: 3,
            priority: 8,
        },
    ];
    if tp {
        columns.push(Column {
            header: "BSP",
            width: 3,
            priority: 8,
        });
    }
    columns.extend([
        Column {
            header: "Limit",
            width: 9,
            priority: 4,
        },
        Column {
            header: "Review",
            width: 9,
            priority: 1,
        },
        Column {
            header: "Verification",
            width: 12,
            priority: 1,
        },
        Column {
            header: "Age",
            width: 5,
            priority: 3,
        },
    ]);
    // The two marker cells and the highlight symbol, each with its gap.
    let (shown, name_width) = fit_columns(area.width.saturating_sub(2), 4, 20, &columns);
    let inner_height = area.height.saturating_sub(3).max(1) as usize; // borders + header
    // Build only the rows that fit: the window that keeps the selection in view.
    let selected = pane.selected.min(rows_all.len() - 1);
    let offset = follow(pane.offset, selected, rows_all.len(), inner_height);
    let rows: Vec<Row> = rows_all
        .iter()
        .skip(offset)
        .take(inner_height)
        .map(|&i| {
            let r = &pane.rows[i as usize];
            let n = &r.waba.node;
            let o = &r.onboarding;
            let text = |v: Option<&str>| inert(v.unwrap_or("-")).into_owned();
            let mut cells = vec![
                Cell::from(Span::styled(markers(r, pane), theme.attention)),
                // A row Meta sent in a shape we could not read is shown raw, never dropped.
                Cell::from(match n.malformed.as_deref() {
                    Some(m) => inert(&m.label()).into_owned(),
                    None => super::middle_ellipsis(&inert(n.name()), name_width as usize),
                }),
            ];
            for (c, _) in columns.iter().zip(&shown).filter(|(_, s)| **s) {
                cells.push(match c.header {
                    "Owner" => Cell::from(inert(r.waba.owner_name().unwrap_or("-")).into_owned()),
                    "ID" => Cell::from(inert(&n.id).into_owned()),
                    "Health" => Cell::from(health_span(&r.health, theme)),
                    "Phones" => Cell::from(phones_text(r)),
                    "Hook" => Cell::from(mark(o.webhooks_subscribed, theme)),
                    "Cred" | "Fund" => Cell::from(mark(o.credit_shared, theme)),
                    "Reg" => Cell::from(mark(o.phones_registered, theme)),
                    "BSP" => Cell::from(mark(bsp_step(model, r.id()), theme)),
                    "Limit" => Cell::from(Span::styled(
                        tier_text(r.tier().as_deref()),
                        if r.tier_dropped_from.is_some() {
                            theme.attention
                        } else {
                            theme.text
                        },
                    )),
                    "Review" => Cell::from(text(n.account_review_status().as_deref())),
                    "Verification" => Cell::from(text(n.business_verification_status().as_deref())),
                    _ => Cell::from(age_text(n.creation_time(), now)),
                });
            }
            Row::new(cells)
        })
        .collect();
    let mut header = vec!["", "Name"];
    let mut widths = vec![Constraint::Length(2), Constraint::Length(name_width)];
    for (c, _) in columns.iter().zip(&shown).filter(|(_, s)| **s) {
        header.push(c.header);
        widths.push(Constraint::Length(c.width));
    }
    super::draw_list_table(
        frame,
        area,
        rows,
        widths,
        Row::new(header).style(theme.header),
        block,
        selected - offset,
        theme,
    );
}

/// A label and a value, for the detail's summary lines.
pub(crate) fn field<'a>(label: &str, value: &str, theme: &Theme, style: Style) -> Vec<Span<'a>> {
    vec![
        Span::styled(format!("{label} "), theme.dim),
        Span::styled(inert(value).into_owned(), style),
    ]
}
