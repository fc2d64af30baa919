//! The bottom line: how fresh the data is, whether a refresh is running, the last error in
//! plain words until the next success, a throttling hold, a dead token, Meta's rate-limit
//! usage, and the keys a newcomer needs first.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{Model, Pane};
use crate::pacing::usage_factor;
use crate::text::{age, inert};
use crate::ui::Theme;

/// A frame of the spinner that says a call is on its way; it moves with the clock (the screen
/// is redrawn every second), so slow can be told from hung.
fn spinner(now: DateTime<Utc>) -> &'static str {
    const FRAMES: [&str; 4] = ["◐", "◓", "◑", "◒"];
    FRAMES[now.timestamp().rem_euclid(4) as usize]
}

/// " 4s" since `since`, when known.
fn elapsed(now: DateTime<Utc>, since: Option<DateTime<Utc>>) -> String {
    since.map_or(String::new(), |t| {
        format!(" {}", age((now - t).num_seconds().max(0)))
    })
}

pub fn draw(frame: &mut Frame, area: Rect, model: &Model, now: DateTime<Utc>, theme: &Theme) {
    let mut spans = vec![];
    if model.pane == Pane::Events {
        events_status(&mut spans, model, theme);
    } else {
        refresh_status(&mut spans, model, now, theme);
    }
    if let Some(pct) = model.usage.and_then(|u| u.highest()) {
        let factor = usage_factor(Some(pct));
        let (text, style) = if factor > 1 {
            (
                format!(" · usage {pct}%, polling ×{factor} slower"),
                theme.warn,
            )
        } else {
            (format!(" · usage {pct}%"), theme.dim)
        };
        spans.push(Span::styled(text, style));
    }
    if let Some(f) = &model.in_flight {
        spans.push(Span::styled(
            format!(
                " · {} sending {} '{}'{}",
                spinner(now),
                f.target.action_label().replace('_', " "),
                inert(&f.target.name()),
                elapsed(now, f.since),
            ),
            theme.attention,
        ));
    }
    // The keys hint gives way to the state when the line is full: "? help" is enough.
    let status = Line::from(spans);
    let mut hint = vec![
        Span::styled("?", theme.key),
        Span::styled(" help", theme.dim),
    ];
    let full = status.width() + 16 <= usize::from(area.width);
    if full {
        hint.extend([
            Span::styled("  ", theme.dim),
            Span::styled("q", theme.key),
            Span::styled(" quit", theme.dim),
        ]);
    }
    let hint = Line::from(hint);
    let [left, right] = Layout::horizontal([
        Constraint::Min(10),
        Constraint::Length(hint.width() as u16 + 1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(status), left);
    frame.render_widget(Paragraph::new(hint).right_aligned(), right);
}

/// How fresh the pane's data is: refreshing, age, failure, hold, dead token.
fn refresh_status<'a>(
    spans: &mut Vec<Span<'a>>,
    model: &'a Model,
    now: DateTime<Utc>,
    theme: &Theme,
) {
    let r = model.pane_refresh();
    if r.in_flight {
        spans.push(Span::styled(
            format!("{} refreshing{} ", spinner(now), elapsed(now, r.since)),
            theme.attention,
        ));
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
        let sep = if stale.is_empty() { " · " } else { ", " };
        spans.push(Span::styled(
            format!("{stale}{sep}failed {} ago", age((now - *at).num_seconds())),
            theme.error,
        ));
    }
    if let Some(until) = r.held_until {
        // Meta's throttle: no call before `until` (the reason is on the message line).
        spans.push(Span::styled(
            format!(" · on hold {}", age((until - now).num_seconds().max(1))),
            theme.warn,
        ));
    }
    if model.refresh.auth_failure().is_some() {
        spans.push(Span::styled(
            " · polling stopped: renew the token",
            theme.error,
        ));
    }
}

/// Where events come from and how many are held.
fn events_status(spans: &mut Vec<Span<'_>>, model: &Model, theme: &Theme) {
    let pane = &model.events;
    let feed = match &pane.feed {
        Some(f) => inert(f).into_owned(),
        None => "webhooks off".into(),
    };
    spans.push(Span::styled(
        format!("{} events · {feed}", pane.items.len()),
        theme.dim,
    ));
}
