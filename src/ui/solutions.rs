//! The Solutions pane: lanes with counts, the table, and the detail when open.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row};

use crate::app::Model;
use crate::app::keymap::Command;
use crate::app::list::follow;
use crate::app::solutions::{Lane, SolutionSort, SolutionsPane};
use crate::domain::solution::{Solution, SolutionIntent, SolutionState, action_for};
use crate::graph::model::Role;
use crate::text::inert;
use crate::ui::{Column, Theme, draw_filter, fit_columns, middle_ellipsis, solution_detail};
use unicode_width::UnicodeWidthStr;

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
                    .then(|| pane.visible_len()),
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

/// Whether a lane holds one state only: its State column would say the same on every row.
fn lane_has_one_state(lane: Lane) -> bool {
    matches!(
        lane,
        Lane::Pending | Lane::Active | Lane::PendingDeactivation
    )
}

/// The keys that apply to the selected solution, then the pane's own.
fn row_hints(model: &Model, s: Option<&Solution>) -> Vec<(Command, &'static str)> {
    let mut hints = vec![];
    if let Some(s) = s
        && !model.read_only
        && crate::domain::partner::solution_role_disagreement(s, &model.our_app_id).is_none()
    {
        let deactivation = s.state == SolutionState::PendingDeactivation;
        if action_for(SolutionIntent::Accept, s.state, s.role).is_some() {
            hints.push((
                Command::Accept,
                if deactivation {
                    "accept deact."
                } else {
                    "accept"
                },
            ));
        }
        if action_for(SolutionIntent::Reject, s.state, s.role).is_some() {
            hints.push((
                Command::Reject,
                if deactivation {
                    "reject deact."
                } else {
                    "reject"
                },
            ));
        }
        if action_for(SolutionIntent::Deactivate, s.state, s.role).is_some() {
            hints.push((Command::Deactivate, "ask to deactivate"));
        }
    }
    if s.is_some() {
        hints.push((Command::Open, "detail"));
    }
    hints.extend([(Command::Sort, "sort"), (Command::Filter, "filter")]);
    hints
}

fn draw_table(frame: &mut Frame, area: Rect, model: &Model, theme: &Theme) {
    let pane = &model.solutions;
    // Derived when the data, lane, sort or filter changed: drawing builds only the window.
    let rows_all = pane.visible_indices();
    let one_role = pane.one_role();
    let sort = if pane.sort == SolutionSort::State && !pane.reverse {
        String::new()
    } else {
        format!(
            " · by {}{}",
            pane.sort.label(),
            if pane.reverse { " ↑" } else { "" }
        )
    };
    let side = match one_role {
        Some(Role::Owner) => " · all ours",
        Some(Role::Partner) => " · all as partner",
        Some(Role::Unknown) => " · our side unknown",
        None => "",
    };
    let title = format!(
        " {} · {} of {}{side}{sort} ",
        pane.lane.title(),
        rows_all.len(),
        pane.lane_count(pane.lane)
    );
    let selected_row = pane.selected_solution();
    let block = Block::bordered()
        .title(Span::styled(title, theme.title))
        .title(position(pane.selected, rows_all.len(), theme));
    let block = super::with_footer(
        block,
        super::key_hints(&row_hints(model, selected_row), theme),
        &[" ! waits on us "],
        area.width,
        theme,
    );
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
    let window: Vec<&Solution> = rows_all
        .iter()
        .skip(offset)
        .take(inner_height.max(1))
        .map(|&i| &pane.items[i])
        .collect();
    // Names first: a State column that would repeat the lane, and a Role every row shares,
    // give their width to the name; on a narrow screen the other columns go before it. The
    // Other lane's state is Meta's raw pair: its column is as wide as the window needs.
    let state_width = window
        .iter()
        .map(|s| inert(&state_text(s)).width())
        .max()
        .unwrap_or(0)
        .clamp(5, 40) as u16;
    let mut columns = vec![Column {
        header: "ID",
        width: 16,
        priority: 3,
    }];
    if !lane_has_one_state(pane.lane) {
        columns.push(Column {
            header: "State",
            width: state_width,
            priority: 4,
        });
    }
    if one_role.is_none() {
        columns.push(Column {
            header: "Role",
            width: 7,
            priority: 2,
        });
    }
    columns.push(Column {
        header: "Partner app",
        width: 20,
        priority: 1,
    });
    // The marker column and the highlight symbol, each with its gap.
    let inner_width = area.width.saturating_sub(2);
    let (shown, name_width) = fit_columns(inner_width, 4, 20, &columns);
    let has = |h: &str| columns.iter().zip(&shown).any(|(c, s)| *s && c.header == h);
    let rows: Vec<Row> = window
        .iter()
        .map(|s| {
            // "!" marks rows that wait on us, in words as well as colour.
            let marker = if s.waits_on_us() { "!" } else { " " };
            let state_style = match s.state {
                SolutionState::Pending | SolutionState::PendingDeactivation => theme.attention,
                SolutionState::Active => theme.ok,
                SolutionState::Unknown => theme.warn,
                _ => theme.dim,
            };
            // A row Meta sent in a shape we could not read is shown raw, never dropped.
            let name = match s.node.malformed.as_deref() {
                Some(m) => inert(&m.label()).into_owned(),
                None => middle_ellipsis(&inert(s.name()), name_width as usize),
            };
            let mut cells = vec![
                Cell::from(Span::styled(marker, theme.attention)),
                Cell::from(name),
            ];
            if has("ID") {
                cells.push(Cell::from(inert(s.id()).into_owned()));
            }
            if has("State") {
                cells.push(Cell::from(Span::styled(
                    inert(&state_text(s)).into_owned(),
                    state_style,
                )));
            }
            if has("Role") {
                cells.push(Cell::from(s.role.label()));
            }
            if has("Partner app") {
                let partner = s
                    .counterpart_app(&model.our_app_id)
                    .and_then(|a| a.name.clone().or_else(|| Some(a.id.clone())))
                    .unwrap_or_default();
                cells.push(Cell::from(inert(&partner).into_owned()));
            }
            Row::new(cells)
        })
        .collect();
    let mut header = vec!["", "Name"];
    let mut widths = vec![Constraint::Length(1), Constraint::Length(name_width)];
    for (c, s) in columns.iter().zip(&shown) {
        if *s {
            header.push(c.header);
            widths.push(Constraint::Length(c.width));
        }
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
