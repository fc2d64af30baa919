//! The WABAs pane: lanes with counts, the sort and change marks, the table, or the detail of
//! the selected WABA when it is open.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Wrap};

use crate::app::Model;
use crate::app::list::follow;
use crate::app::wabas::{Change, WabaLane, WabaRow, WabasPane};
use crate::domain::onboarding::Health;
use crate::text::{age, inert};
use crate::ui::{Theme, draw_filter, waba_detail};

/// From this width on, the table also shows owner, review, verification and age.
const WIDE: u16 = 110;

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
    // A Tech Provider may onboard 200 new customers a rolling week: a gauge (approximate —
    // only customers new to the platform count, and Meta does not say which those are).
    if pane.rules.partner_kind == Some(crate::domain::partner::PartnerKind::TechProvider) {
        let week = pane.onboarded_between(now.timestamp() - 7 * 86_400, now.timestamp());
        spans.push(Span::styled(
            format!("  · new in 7 days ≈{week}/200"),
            if week >= 200 { theme.error } else { theme.dim },
        ));
    }
    spans.push(Span::styled("  · ", theme.dim));
    spans.push(Span::styled("o", theme.key));
    spans.push(Span::styled(
        format!(" sort: {}", pane.sort.short_label()),
        theme.dim,
    ));
    if !pane.changes.is_empty() {
        spans.push(Span::styled(
            format!("  · {} changed (+ new, ↓ worse)", pane.changes.len()),
            theme.attention,
        ));
    }
    spans.extend(load_spans(pane, theme));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// How far a round's list is while its pages arrive, and what the rounds cost an hour next
/// to the usage Meta reports.
fn load_spans(pane: &WabasPane, theme: &Theme) -> Vec<Span<'static>> {
    let mut spans = vec![];
    if let Some(l) = pane.loading {
        let of = l.expected.map_or("…".to_string(), grouped);
        spans.push(Span::styled(
            format!("  · loading {} of {of}", grouped(l.listed)),
            theme.dim,
        ));
    }
    if let Some(c) = pane.cost {
        let used = c.usage_pct.map_or("no usage reported".to_string(), |p| {
            format!("Meta reports {p}% used")
        });
        spans.push(Span::styled(
            format!(
                "  · ≈{} calls/h planned · {used}",
                grouped(c.planned_per_hour as usize)
            ),
            theme.dim,
        ));
    }
    spans
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
    match (row.phones().len(), row.worst_quality()) {
        (0, _) => "none".into(),
        (n, Some(q)) => format!("{n} {}", inert(q)),
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
    let legend = if tp {
        " Hook=webhooks Fund=funded Reg=numbers registered BSP=registered with our BSP · ✓ ✗ ? "
    } else {
        " Hook=webhooks Cred=credit line Reg=numbers registered · ✓ ✗ ?=unknown "
    };
    let block = Block::bordered()
        .title(Span::styled(title, theme.title))
        .title(super::solutions::position(
            pane.selected,
            rows_all.len(),
            theme,
        ))
        .title_bottom(Span::styled(legend, theme.dim));
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
    let wide = area.width >= WIDE;
    let inner_height = area.height.saturating_sub(3).max(1) as usize; // borders + header
    // Build only the rows that fit: the window that keeps the selection in view.
    let selected = pane.selected.min(rows_all.len() - 1);
    let offset = follow(pane.offset, selected, rows_all.len(), inner_height);
    let rows: Vec<Row> = rows_all
        .iter()
        .skip(offset)
        .take(inner_height)
        .map(|&i| {
            let r = &pane.rows[i];
            let n = &r.waba.node;
            let o = &r.onboarding;
            let mut cells = vec![
                Cell::from(Span::styled(markers(r, pane), theme.attention)),
                // A row Meta sent in a shape we could not read is shown raw, never dropped.
                Cell::from(match n.malformed.as_deref() {
                    Some(m) => inert(&m.label()).into_owned(),
                    None => inert(&n.name).into_owned(),
                }),
            ];
            if wide {
                cells.push(Cell::from(
                    inert(r.waba.owner_name().unwrap_or("-")).into_owned(),
                ));
            }
            cells.extend([
                Cell::from(inert(&n.id).into_owned()),
                Cell::from(health_span(&r.health, theme)),
                Cell::from(phones_text(r)),
                Cell::from(mark(o.webhooks_subscribed, theme)),
                Cell::from(mark(o.credit_shared, theme)),
                Cell::from(mark(o.phones_registered, theme)),
            ]);
            if tp {
                cells.push(Cell::from(mark(bsp_step(model, r.id()), theme)));
            }
            if wide {
                let text = |v: &Option<String>| inert(v.as_deref().unwrap_or("-")).into_owned();
                cells.extend([
                    Cell::from(text(&n.account_review_status)),
                    Cell::from(text(&n.business_verification_status)),
                    Cell::from(age_text(n.creation_time, now)),
                ]);
            }
            Row::new(cells)
        })
        .collect();
    let (header, widths): (Vec<&str>, Vec<Constraint>) = if wide {
        (
            vec![
                "",
                "Name",
                "Owner",
                "ID",
                "Health",
                "Phones",
                "Hook",
                "Cred",
                "Reg",
                "Review",
                "Verification",
                "Age",
            ],
            vec![
                Constraint::Length(2),
                Constraint::Fill(3),
                Constraint::Fill(2),
                Constraint::Length(16),
                Constraint::Length(11),
                Constraint::Length(10),
                Constraint::Length(4),
                Constraint::Length(4),
                Constraint::Length(3),
                Constraint::Length(9),
                Constraint::Length(12),
                Constraint::Length(5),
            ],
        )
    } else {
        (
            vec!["", "Name", "ID", "Health", "Phones", "Hook", "Cred", "Reg"],
            vec![
                Constraint::Length(2),
                Constraint::Fill(1),
                Constraint::Length(16),
                Constraint::Length(9),
                Constraint::Length(10),
                Constraint::Length(4),
                Constraint::Length(4),
                Constraint::Length(3),
            ],
        )
    };
    let (mut header, mut widths) = (header, widths);
    if tp {
        // A Tech Provider owns no credit: the step is "funded", and the BSP step follows.
        for h in header.iter_mut().filter(|h| **h == "Cred") {
            *h = "Fund";
        }
        let at = header
            .iter()
            .position(|h| *h == "Reg")
            .map_or(header.len(), |i| i + 1);
        header.insert(at, "BSP");
        widths.insert(at, Constraint::Length(3));
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
