//! The Events pane: kind lanes with counts, the timeline (newest first), and the full record
//! of the selected event when open. Everything from outside is drawn inert.

use ratatui::Frame;

use crate::app::keymap::Command;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Wrap};

use crate::app::Model;
use crate::app::events::{EventsPane, Lane};
use crate::app::list::follow;
use crate::store::StoredEvent;
use crate::text::inert;
use crate::ui::{Theme, draw_filter};
use crate::webhooks::EventKind;

pub fn draw(frame: &mut Frame, area: Rect, model: &Model, theme: &Theme) {
    let pane = &model.events;
    let [lanes, filter, rest] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(
            pane.filter_editing || !pane.filter.value().is_empty(),
        )),
        Constraint::Min(3),
    ])
    .areas(area);
    draw_lanes(frame, lanes, pane, theme);
    draw_filter(frame, filter, &pane.filter, pane.filter_editing, theme);
    match pane.selected_event().filter(|_| pane.detail_open) {
        Some(event) => {
            let table_rows = (rest.height / 3).clamp(4, 8);
            let [table, detail] =
                Layout::vertical([Constraint::Length(table_rows), Constraint::Min(4)]).areas(rest);
            draw_table(frame, table, pane, theme);
            draw_detail(frame, detail, event, theme);
        }
        None => draw_table(frame, rest, pane, theme),
    }
}

fn draw_lanes(frame: &mut Frame, area: Rect, pane: &EventsPane, theme: &Theme) {
    let mut spans = vec![];
    for (i, lane) in Lane::ALL.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" │ ", theme.dim));
        }
        let style = if *lane == pane.lane {
            theme.tab_active
        } else {
            theme.text
        };
        spans.push(Span::styled(
            format!("{} {}", lane.title(), pane.lane_count(*lane)),
            style,
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn kind_style(kind: EventKind, theme: &Theme) -> ratatui::style::Style {
    match kind {
        EventKind::Webhook => theme.attention,
        EventKind::Observed => theme.warn,
        EventKind::Action => theme.ok,
        EventKind::Notice => theme.dim,
    }
}

fn draw_table(frame: &mut Frame, area: Rect, pane: &EventsPane, theme: &Theme) {
    let rows_all = pane.visible();
    let title = format!(
        " Events · {} · {} of {} ",
        pane.lane.title(),
        rows_all.len(),
        pane.lane_count(pane.lane)
    );
    let mut hints = vec![];
    if let Some(e) = rows_all.get(pane.selected) {
        hints.push((Command::Open, "full record"));
        if e.event
            .object_id
            .as_deref()
            .is_some_and(|id| !id.is_empty())
        {
            hints.push((Command::Copy, "copy id"));
        }
    }
    hints.extend([
        (Command::NextLane, "kind"),
        (Command::Sort, "sort"),
        (Command::Filter, "filter"),
    ]);
    let block = super::with_footer(
        Block::bordered()
            .title(Span::styled(title, theme.title))
            .title(super::solutions::position(
                pane.selected,
                rows_all.len(),
                theme,
            )),
        super::key_hints(&hints, theme),
        &[" • new since you last looked ", " • new "],
        area.width,
        theme,
    );
    if rows_all.is_empty() {
        let msg = if !pane.loaded {
            "Reading the event history…".to_string()
        } else if !pane.filter.value().is_empty() {
            "No event matches the filter.".to_string()
        } else if pane.lane != Lane::All {
            format!("No {} yet.", pane.lane.title().to_lowercase())
        } else if pane.feed.is_none() {
            "No events yet. Webhooks are off (set webhook_listen or webhook_file); what the console observes, does and says still shows here.".to_string()
        } else {
            "No events yet.".to_string()
        };
        frame.render_widget(
            Paragraph::new(msg)
                .style(theme.dim)
                .wrap(Wrap { trim: true })
                .block(block),
            area,
        );
        return;
    }
    let inner_height = area.height.saturating_sub(3) as usize;
    let selected = pane.selected.min(rows_all.len() - 1);
    let offset = follow(pane.offset, selected, rows_all.len(), inner_height);
    let rows: Vec<Row> = rows_all
        .iter()
        .skip(offset)
        .take(inner_height.max(1))
        .map(|e| {
            let ev = &e.event;
            // "•" marks news not seen yet, in a symbol as well as colour.
            let marker = if pane.is_new(e) { "•" } else { " " };
            Row::new(vec![
                Cell::from(Span::styled(marker, theme.attention)),
                Cell::from(ev.time.format("%m-%d %H:%M:%S").to_string()),
                Cell::from(Span::styled(ev.kind.as_str(), kind_style(ev.kind, theme))),
                Cell::from(inert(ev.object_id.as_deref().unwrap_or("")).into_owned()),
                Cell::from(inert(&ev.summary).into_owned()),
            ])
        })
        .collect();
    let header = Row::new(vec!["", "Time (UTC)", "Kind", "Object", "Summary"]).style(theme.header);
    let widths = [
        Constraint::Length(1),
        Constraint::Length(14),
        Constraint::Length(8),
        Constraint::Length(16),
        Constraint::Fill(1),
    ];
    super::draw_list_table(
        frame,
        area,
        rows,
        widths,
        header,
        block,
        selected - offset,
        theme,
    );
}

/// The raw payload, pretty-printed when it is JSON, as lines made inert.
fn raw_lines(raw: &str) -> Vec<String> {
    let pretty = serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| raw.to_string());
    pretty.lines().map(|l| inert(l).into_owned()).collect()
}

fn draw_detail(frame: &mut Frame, area: Rect, e: &StoredEvent, theme: &Theme) {
    let ev = &e.event;
    let field = |label: &'static str, value: String| {
        Line::from(vec![
            Span::styled(label, theme.header),
            Span::styled(value, theme.text),
        ])
    };
    let mut lines = vec![
        field("Summary  ", inert(&ev.summary).into_owned()),
        field(
            "Kind     ",
            format!(
                "{}{}{}",
                ev.kind,
                ev.field
                    .as_deref()
                    .map(|f| format!(" · {}", inert(f)))
                    .unwrap_or_default(),
                ev.event
                    .as_deref()
                    .map(|f| format!(" · {}", inert(f)))
                    .unwrap_or_default()
            ),
        ),
        field(
            "Object   ",
            inert(ev.object_id.as_deref().unwrap_or("-")).into_owned(),
        ),
        field(
            "Time     ",
            format!(
                "{} UTC (received {})",
                ev.time.format("%Y-%m-%d %H:%M:%S"),
                ev.received_at.format("%H:%M:%S")
            ),
        ),
        field(
            "Scopes   ",
            if ev.scopes.is_empty() {
                "-".to_string()
            } else {
                ev.scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ),
        field("Id       ", ev.id.clone()),
        Line::from(Span::styled("Raw payload", theme.header)),
    ];
    lines.extend(
        raw_lines(&ev.raw)
            .into_iter()
            .map(|l| Line::from(Span::styled(l, theme.dim))),
    );
    let block = Block::bordered().title(Span::styled(
        format!(
            " Event ({} closes) ",
            crate::app::keymap::key_label(Command::Close)
        ),
        theme.title,
    ));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        area,
    );
}
