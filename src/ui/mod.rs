//! Drawing only: reads the model, never changes it. One file per pane, plus dialogs, help
//! and the status bar.

mod credit_lines;
mod dialog;
mod events;
mod help;
mod solution_detail;
mod solutions;
mod status_bar;

pub mod theme;
mod waba_detail;
mod wabas;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Tabs, Wrap};
use tui_input::Input;

use crate::app::keymap::{self, Command};
use crate::app::{Model, Overlay, Pane};
use crate::text;
pub use theme::Theme;

/// Rows everything but a pane's list takes: tab bar, lanes, filter, the table's borders (the
/// bottom one carries the key hints) and header, the message line and the status bar.
const CHROME_ROWS: u16 = 8;

/// How many rows a pane's list gets on a terminal `height` rows high.
pub fn list_rows(height: u16) -> u16 {
    height.saturating_sub(CHROME_ROWS).max(1)
}

/// Draw the whole screen. `now` is passed in so ages are computed here, not stored. The
/// model's key map is the active one meanwhile, so every key hint follows `[keys]`.
pub fn draw(frame: &mut Frame, model: &Model, now: DateTime<Utc>, theme: &Theme) {
    crate::app::keymap::with_active(&model.keymap, || draw_screen(frame, model, now, theme))
}

fn draw_screen(frame: &mut Frame, model: &Model, now: DateTime<Utc>, theme: &Theme) {
    // The message line: what the last key did, else why the last refresh failed, else a dead
    // token (it stops every pane's polling, so every pane says so), else what part of the
    // WABAs could not be read.
    let message = match (&model.notice, &model.pane_refresh().last_error) {
        (Some(text), _) => Some(Span::styled(text::inert(text), theme.attention)),
        (None, Some((_, failure))) => {
            Some(Span::styled(text::inert(&failure.sentence), theme.error))
        }
        (None, None) => match (model.refresh.auth_failure(), &model.wabas.extras_failed) {
            (Some(f), _) => Some(Span::styled(text::inert(&f.sentence), theme.error)),
            (None, Some((n, failure))) if model.pane == Pane::Wabas => Some(Span::styled(
                format!(
                    "Subscribed apps or solutions of {n} WABA(s) could not be read (shown as ?): {}",
                    text::inert(&failure.sentence)
                ),
                theme.warn,
            )),
            // Held after a throttled detail read: the list itself did not fail, so say why
            // nothing is being read.
            _ => model.pane_refresh().held_until.map(|until| {
                Span::styled(
                    format!(
                        "Meta is throttling this app: no calls for this pane for about {} more.",
                        text::age((until - now).num_seconds().max(1))
                    ),
                    theme.warn,
                )
            }),
        },
    };
    // A reason too long for one line gets a second one rather than being cut.
    let width = frame.area().width.max(1) as usize;
    let message_rows = match &message {
        Some(span) if span.width() > width && frame.area().height >= 12 => 2,
        _ => 1,
    };
    let [tabs, body, notice, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(message_rows),
        Constraint::Length(1),
    ])
    .areas(frame.area());

    draw_tabs(frame, tabs, model, theme);
    match model.pane {
        Pane::Solutions => solutions::draw(frame, body, model, theme),
        Pane::Wabas => wabas::draw(frame, body, model, now, theme),
        Pane::CreditLines => credit_lines::draw(frame, body, model, theme),
        Pane::Events => events::draw(frame, body, model, theme),
    }
    if let Some(span) = message {
        frame.render_widget(
            Paragraph::new(Line::from(span)).wrap(Wrap { trim: true }),
            notice,
        );
    }
    status_bar::draw(frame, status, model, now, theme);

    match &model.overlay {
        Some(Overlay::Help) => help::draw(frame, frame.area(), model.pane, theme),
        Some(Overlay::Confirm(c)) => dialog::draw_confirm(frame, frame.area(), model, c, theme),
        Some(Overlay::Outcome(o)) => dialog::draw_outcome(frame, frame.area(), model, o, theme),
        None => {}
    }
}

fn draw_tabs(frame: &mut Frame, area: Rect, model: &Model, theme: &Theme) {
    let titles: Vec<Line> = Pane::ALL
        .iter()
        .enumerate()
        .map(|(i, p)| Line::from(format!(" {} {}{} ", i + 1, p.title(), tab_mark(model, *p))))
        .collect();
    let tabs = Tabs::new(titles)
        .select(model.pane.index())
        .style(theme.dim)
        .highlight_style(theme.tab_active)
        .divider("│")
        .padding("", "");
    // Room for the partner-kind badge once it is known.
    let right = if model.partner_kind.is_some() { 30 } else { 24 };
    let [left, right] =
        Layout::horizontal([Constraint::Min(10), Constraint::Length(right)]).areas(area);
    frame.render_widget(tabs, left);
    let mut badges = vec![];
    if model.read_only {
        badges.push(Span::styled(" READ-ONLY ", theme.tab_active));
        badges.push(Span::raw(" "));
    }
    if model.demo {
        badges.push(Span::styled(" DEMO ", theme.tab_active));
        badges.push(Span::raw(" "));
    }
    if let Some(kind) = model.partner_kind {
        // The partner kind in force, in short: TP (Tech Provider) or SP (Solution Partner).
        let short = match kind {
            crate::domain::partner::PartnerKind::TechProvider => " TP ",
            crate::domain::partner::PartnerKind::SolutionPartner => " SP ",
        };
        badges.push(Span::styled(short, theme.tab_active));
        badges.push(Span::raw(" "));
    }
    badges.push(Span::styled("partnerdeck", theme.title));
    frame.render_widget(Paragraph::new(Line::from(badges)).right_aligned(), right);
}

/// What a tab says besides its name, in symbols that survive `NO_COLOR`: `!` when the pane's
/// data failed to refresh (stale, or none) or Meta holds it; `•N` for N events not seen.
pub fn tab_mark(model: &Model, pane: Pane) -> String {
    match pane.scope() {
        Some(scope) if model.scope_marked(scope) => " !".into(),
        Some(_) => String::new(),
        None => match model.events.unseen() {
            0 => String::new(),
            n => format!(" •{n}"),
        },
    }
}

/// The filter line of a pane: the text typed so far, with the cursor while it is edited.
pub(crate) fn draw_filter(
    frame: &mut Frame,
    area: Rect,
    filter: &Input,
    editing: bool,
    theme: &Theme,
) {
    if area.height == 0 {
        return;
    }
    let label = "Filter: ";
    let width = area.width.saturating_sub(label.len() as u16 + 1) as usize;
    let scroll = filter.visual_scroll(width);
    let value: String = filter.value().chars().skip(scroll).collect();
    let hint = if editing {
        "  (Enter keep · Esc clear)"
    } else {
        "  (/ edit · Esc clear)"
    };
    let line = Line::from(vec![
        Span::styled(label, theme.key),
        Span::styled(text::inert(&value).into_owned(), theme.text),
        Span::styled(hint, theme.dim),
    ]);
    frame.render_widget(Paragraph::new(line), area);
    if editing {
        let x = area.x + label.len() as u16 + (filter.visual_cursor() - scroll) as u16;
        frame.set_cursor_position((x.min(area.right().saturating_sub(1)), area.y));
    }
}

/// A pane's table as every list draws it: its rows (only the window's), header and block, the
/// selected row (index within the window) highlighted and marked `›` so it shows without
/// colour too.
#[allow(clippy::too_many_arguments)]
pub(crate) fn draw_list_table<'a>(
    frame: &mut Frame,
    area: Rect,
    rows: Vec<ratatui::widgets::Row<'a>>,
    widths: impl IntoIterator<Item = Constraint>,
    header: ratatui::widgets::Row<'a>,
    block: ratatui::widgets::Block<'a>,
    selected: usize,
    theme: &Theme,
) {
    let table = ratatui::widgets::Table::new(rows, widths)
        .header(header)
        .block(block)
        .column_spacing(1)
        .row_highlight_style(theme.selected)
        .highlight_symbol("›");
    let mut state = ratatui::widgets::TableState::default().with_selected(Some(selected));
    frame.render_stateful_widget(table, area, &mut state);
}

/// The keys that apply, as a table's bottom line: ` a accept · r reject · Enter detail `.
/// Keys are named through the key map, never spelled here.
pub(crate) fn key_hints<'a>(hints: &[(Command, &str)], theme: &Theme) -> Line<'a> {
    let mut spans = vec![Span::raw(" ")];
    for (i, (cmd, what)) in hints.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.dim));
        }
        spans.push(Span::styled(keymap::key_label(*cmd), theme.key));
        spans.push(Span::styled(format!(" {what}"), theme.dim));
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

/// A list's block with its bottom line: the key hints on the left and, beside them, the
/// first of `legends` (longest first) that has room: the legend of the list's symbols.
pub(crate) fn with_footer<'a>(
    block: ratatui::widgets::Block<'a>,
    hints: Line<'a>,
    legends: &[&'a str],
    width: u16,
    theme: &Theme,
) -> ratatui::widgets::Block<'a> {
    use unicode_width::UnicodeWidthStr;
    let room = (width as usize).saturating_sub(2);
    let legend = legends
        .iter()
        .find(|l| !l.is_empty() && hints.width() + l.width() < room);
    let block = block.title_bottom(hints);
    match legend {
        Some(l) => block.title_bottom(Line::from(Span::styled(*l, theme.dim)).right_aligned()),
        None => block,
    }
}

/// `s` in at most `width` cells, cut in the middle so both ends stay readable: two names
/// that share a long prefix keep their different tails ("Kestrel Commerce × Nor…Updates").
pub(crate) fn middle_ellipsis(s: &str, width: usize) -> String {
    use unicode_segmentation::UnicodeSegmentation;
    use unicode_width::UnicodeWidthStr;
    if s.width() <= width {
        return s.to_string();
    }
    if width <= 1 {
        return "…".repeat(width);
    }
    // Cut between grapheme clusters only: a vowel sign or a joined emoji is never split
    // from its base (a split one would leave a ghost cell). The tail gets the smaller half:
    // a name's start says more than its end.
    let room = width - 1;
    let tail_room = room / 2;
    let head_room = room - tail_room;
    let mut head = String::new();
    let mut used = 0;
    for g in s.graphemes(true) {
        let w = g.width();
        if used + w > head_room {
            break;
        }
        head.push_str(g);
        used += w;
    }
    let mut tail: Vec<&str> = vec![];
    let mut tail_used = 0;
    for g in s.graphemes(true).rev() {
        let w = g.width();
        if tail_used + w > tail_room {
            break;
        }
        tail.push(g);
        tail_used += w;
    }
    tail.reverse();
    format!("{head}…{}", tail.concat())
}

/// One column of a list whose columns give way to the name on a narrow screen.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    pub header: &'static str,
    pub width: u16,
    /// Columns with the lowest priority go first when the name would get less than its
    /// minimum; the name itself never goes.
    pub priority: u8,
}

/// Which of `columns` fit beside a name column of at least `name_min` cells in `width` cells
/// (one cell between columns, `extra` taken by markers and the highlight symbol), and how
/// wide the name is then. Columns go lowest priority first; the name is the last to go.
pub(crate) fn fit_columns(
    width: u16,
    extra: u16,
    name_min: u16,
    columns: &[Column],
) -> (Vec<bool>, u16) {
    let mut shown = vec![true; columns.len()];
    let used = |shown: &[bool]| -> u16 {
        columns
            .iter()
            .zip(shown)
            .filter(|(_, s)| **s)
            .map(|(c, _)| c.width + 1)
            .sum::<u16>()
            + extra
    };
    let mut order: Vec<usize> = (0..columns.len()).collect();
    order.sort_by_key(|&i| columns[i].priority);
    for i in order {
        if width.saturating_sub(used(&shown)) >= name_min {
            break;
        }
        shown[i] = false;
    }
    let name = width.saturating_sub(used(&shown)).max(1);
    (shown, name)
}

/// A rectangle of at most `width` x `height`, centred in `area`.
pub(crate) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn a_middle_cut_keeps_both_ends_and_never_splits_a_cluster() {
        let a = middle_ellipsis("Kestrel Commerce × Northwind — Order Updates", 24);
        let b = middle_ellipsis("Kestrel Commerce × Northwind — Order Confirmations", 24);
        assert_eq!(a, "Kestrel Comm…der Updates");
        assert!(b.starts_with("Kestrel") && b.ends_with("irmations"), "{b}");
        assert_eq!(a.width(), 24);
        assert_eq!(middle_ellipsis("short", 24), "short");
        // A Devanagari vowel sign stays with its consonant.
        let cut = middle_ellipsis("संवाद सेवा संवाद सेवा", 7);
        assert!(cut.width() <= 7, "{cut}");
        assert!(!cut.contains("…ा"), "{cut}");
    }

    #[test]
    fn columns_give_way_lowest_priority_first_and_the_name_last() {
        let cols = [
            Column {
                header: "ID",
                width: 16,
                priority: 3,
            },
            Column {
                header: "Partner",
                width: 20,
                priority: 1,
            },
        ];
        assert_eq!(fit_columns(100, 4, 20, &cols), (vec![true, true], 58));
        assert_eq!(fit_columns(60, 4, 20, &cols), (vec![true, false], 39));
        assert_eq!(fit_columns(38, 4, 20, &cols), (vec![false, false], 34));
    }
}
