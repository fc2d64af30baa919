//! The Solutions pane: lanes with counts, the table, and the detail when open.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row};

use crate::app::Model;
use crate::app::list::follow;
use crate::app::solutions::{Lane, SolutionsPane};
use crate::domain::solution::{Solution, SolutionState};
use crate::text::inert;
use crate::ui::{Theme, draw_filter, solution_detail};

pub fn draw(frame: &mut Frame, area: Rect, model: &Model, theme: &Theme) {
    let pane = &model.solutions;
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

    if pane.detail_open {
        // The table keeps a few rows so the selection stays in view; the detail gets the rest.
        let table_rows = (rest.height / 3).clamp(4, 10);
        let [table, detail] =
            Layout::vertical([Constraint::Length(table_rows), Constraint::Min(6)]).areas(rest);
        draw_table(frame, table, model, theme);
        solution_detail::draw(frame, detail, model, theme);
    } else {
        draw_table(frame, rest, model, theme);
    }
}

fn draw_lanes(frame: &mut Frame, area: Rect, pane: &SolutionsPane, theme: &Theme) {
    let mut spans = vec![];
    for (i, lane) in Lane::ALL.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" │ ", theme.dim));
        }
        let text = format!(
            "{} {}",
            lane.title(),
            lane_count_text(
                pane.loaded,
                pane.lane_count(*lane),
                (*lane == pane.lane && !pane.filter.value().trim().is_empty())
                    .then(|| pane.visible().len()),
            )
        );
        let style = if *lane == pane.lane {
            theme.tab_active
        } else if *lane == Lane::Pending && pane.lane_count(Lane::Pending) > 0 {
            theme.attention
        } else {
            theme.text
        };
        spans.push(Span::styled(text, style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Where the selection is in the list, e.g. ` 12/307 `, for the top right of a table's border.
pub(crate) fn position(selected: usize, len: usize, theme: &Theme) -> Line<'static> {
    let text = match len {
        0 => String::new(),
        n => format!(" {}/{n} ", selected.min(n - 1) + 1),
    };
    Line::from(Span::styled(text, theme.dim)).right_aligned()
}

/// A lane's count: "…" until the first load, "n of m" for the lane a filter narrows.
pub(crate) fn lane_count_text(loaded: bool, count: usize, filtered: Option<usize>) -> String {
    match (loaded, filtered) {
        (false, _) => "…".to_string(),
        (true, Some(n)) => format!("{n} of {count}"),
        (true, None) => count.to_string(),
    }
}

/// The state as shown: known states by name; unknown ones with Meta's raw values.
pub fn state_text(s: &Solution) -> String {
    match s.state {
        SolutionState::Unknown => format!(
            "? {}/{}",
            s.node.status,
            s.node.status_for_pending_request.as_deref().unwrap_or("-")
        ),
        SolutionState::PendingDeactivation => "pending deact.".into(),
        st => st.label().into(),
    }
}

fn draw_table(frame: &mut Frame, area: Rect, model: &Model, theme: &Theme) {
    let pane = &model.solutions;
    let rows_all = pane.visible();
    let title = format!(
        " {} · {} of {} ",
        pane.lane.title(),
        rows_all.len(),
        pane.lane_count(pane.lane)
    );
    let block = Block::bordered()
        .title(Span::styled(title, theme.title))
        .title(position(pane.selected, rows_all.len(), theme));
    let inner_height = area.height.saturating_sub(3) as usize; // borders + header
    if rows_all.is_empty() {
        let msg = if !pane.loaded {
            "Loading solutions…".to_string()
        } else if !pane.filter.value().is_empty() {
            format!(
                "No {} solution matches the filter.",
                pane.lane.title().to_lowercase()
            )
        } else {
            format!("No solutions in {}.", pane.lane.title().to_lowercase())
        };
        frame.render_widget(Paragraph::new(msg).style(theme.dim).block(block), area);
        return;
    }
    // Build only the rows that fit: the window that keeps the selection in view.
    let selected = pane.selected.min(rows_all.len() - 1);
    let offset = follow(pane.offset, selected, rows_all.len(), inner_height);
    let rows: Vec<Row> = rows_all
        .iter()
        .skip(offset)
        .take(inner_height.max(1))
        .map(|s| {
            // "!" marks rows that wait on us, in words as well as colour.
            let marker = if s.waits_on_us() { "!" } else { " " };
            let partner = s
                .counterpart_app(&model.our_app_id)
                .and_then(|a| a.name.clone().or_else(|| Some(a.id.clone())))
                .unwrap_or_default();
            let state_style = match s.state {
                SolutionState::Pending | SolutionState::PendingDeactivation => theme.attention,
                SolutionState::Active => theme.ok,
                SolutionState::Unknown => theme.warn,
                _ => theme.dim,
            };
            Row::new(vec![
                Cell::from(Span::styled(marker, theme.attention)),
                // A row Meta sent in a shape we could not read is shown raw, never dropped.
                Cell::from(match s.node.malformed.as_deref() {
                    Some(m) => inert(&m.label()).into_owned(),
                    None => inert(s.name()).into_owned(),
                }),
                Cell::from(inert(s.id()).into_owned()),
                Cell::from(Span::styled(
                    inert(&state_text(s)).into_owned(),
                    state_style,
                )),
                Cell::from(s.role.label()),
                Cell::from(inert(&partner).into_owned()),
            ])
        })
        .collect();
    let header =
        Row::new(vec!["", "Name", "ID", "State", "Role", "Partner app"]).style(theme.header);
    let widths = [
        Constraint::Length(1),
        Constraint::Fill(3),
        Constraint::Length(16),
        Constraint::Length(14),
        Constraint::Length(7),
        Constraint::Fill(2),
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
