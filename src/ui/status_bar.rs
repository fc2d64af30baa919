//! The bottom line: how fresh the data is, whether a refresh is running, the last error in
//! plain words until the next success, and the keys a newcomer needs first.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::Model;
use crate::ui::Theme;
use crate::ui::text::{age, inert};

pub fn draw(frame: &mut Frame, area: Rect, model: &Model, now: DateTime<Utc>, theme: &Theme) {
    let mut spans = vec![];
    let r = model.pane_refresh();
    if r.in_flight {
        spans.push(Span::styled("⟳ refreshing ", theme.attention));
    }
    match r.last_success {
        Some(t) => {
            let label = format!("refreshed {} ago", age((now - t).num_seconds()));
            let style = if r.last_error.is_some() {
                theme.warn
            } else {
                theme.dim
            };
            spans.push(Span::styled(label, style));
        }
        None if !r.in_flight && r.last_error.is_none() => {
            spans.push(Span::styled("not refreshed yet", theme.dim))
        }
        None => {}
    }
    if let Some((at, _)) = &r.last_error {
        // The reason itself is on the message line above, where it has room.
        let stale = if r.last_success.is_some() {
            " · STALE"
        } else {
            ""
        };
        spans.push(Span::styled(
            format!(
                "{stale} · last refresh failed {} ago",
                age((now - *at).num_seconds())
            ),
            theme.error,
        ));
    }
    if let Some(f) = &model.in_flight {
        spans.push(Span::styled(
            format!(" · sending {} '{}'", f.action_label(), inert(&f.name())),
            theme.attention,
        ));
    }
    let [left, right] =
        Layout::horizontal([Constraint::Min(10), Constraint::Length(15)]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(spans)), left);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("?", theme.key),
            Span::styled(" help  ", theme.dim),
            Span::styled("q", theme.key),
            Span::styled(" quit", theme.dim),
        ]))
        .right_aligned(),
        right,
    );
}
