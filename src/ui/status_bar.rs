//! The bottom line: how fresh the data is, whether a refresh is running, the last error in
//! plain words until the next success, a throttling hold, a dead token, Meta's rate-limit
//! usage, and the keys a newcomer needs first.
//!
//! When the line is too narrow, the least important parts give way first: each part has a
//! priority and shorter forms; the shortest form of a part goes before a more important part
//! shrinks. "polling stopped: renew the token" never gives way (it fits in 40 columns), and
//! a failure says at least "STALE" or "failed", a mutation on its way at least "sending".

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::keymap::{Command, key_label};
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

/// The sentence that must never be cut: every pane's polling stopped on a dead token.
pub const TOKEN_DEAD: &str = "polling stopped: renew the token";

/// How much a part matters: a part with a higher number gives way first; `KEEP` never does.
pub(crate) const KEEP: u8 = 0;
const FAILURE: u8 = 1;
const SENDING: u8 = 1;
const HOLD: u8 = 2;
const REFRESHING: u8 = 3;
const SLOWED: u8 = 3;
const AGE: u8 = 4;
const HELP_KEY: u8 = 5;
const USAGE: u8 = 6;
const QUIT_KEY: u8 = 7;

/// One part of the line: its forms from longest to shortest, each a list of spans.
pub(crate) struct Part {
    forms: Vec<Vec<Span<'static>>>,
    priority: u8,
    form: usize,
    shown: bool,
}

impl Part {
    pub(crate) fn new(priority: u8, forms: Vec<Vec<Span<'static>>>) -> Part {
        Part {
            forms,
            priority,
            form: 0,
            shown: true,
        }
    }

    /// A part in one style, with its shorter forms.
    pub(crate) fn text(priority: u8, style: Style, forms: &[String]) -> Part {
        Part::new(
            priority,
            forms
                .iter()
                .map(|t| vec![Span::styled(t.clone(), style)])
                .collect(),
        )
    }

    fn spans(&self) -> &[Span<'static>] {
        &self.forms[self.form]
    }

    fn width(&self) -> usize {
        if self.shown {
            self.spans().iter().map(Span::width).sum()
        } else {
            0
        }
    }

    fn can_give_way(&self) -> bool {
        self.shown && (self.form + 1 < self.forms.len() || self.priority != KEEP)
    }

    fn give_way(&mut self) {
        if self.form + 1 < self.forms.len() {
            self.form += 1;
        } else {
            self.shown = false;
        }
    }
}

/// The parts of the line (state on the left, key hints on the right), fitted into `width`
/// columns: while they do not fit, the least important part that can still give way (the
/// rightmost among equals) takes its next shorter form, or goes.
pub(crate) fn fit(left: &mut [Part], right: &mut [Part], width: usize) {
    // Two columns between the state and the hints, as the line always had.
    let needed = |left: &[Part], right: &[Part]| {
        let l: usize = left.iter().map(Part::width).sum::<usize>() - leading_separator(left);
        let r: usize = right.iter().map(Part::width).sum();
        l + if r > 0 { r + 2 } else { 0 }
    };
    while needed(left, right) > width {
        let candidate = left
            .iter_mut()
            .chain(right.iter_mut())
            .enumerate()
            .filter(|(_, p)| p.can_give_way())
            .max_by_key(|(i, p)| (p.priority, *i))
            .map(|(_, p)| p);
        match candidate {
            Some(p) => p.give_way(),
            None => break,
        }
    }
}

pub(crate) const SEPARATOR: &str = " · ";

/// The width of the separator the first shown part starts with (it is not drawn).
fn leading_separator(parts: &[Part]) -> usize {
    match parts
        .iter()
        .find(|p| p.shown)
        .and_then(|p| p.spans().first())
    {
        Some(span) if span.content.starts_with(SEPARATOR) => Span::raw(SEPARATOR).width(),
        _ => 0,
    }
}

/// The spans of the shown parts; the first loses a leading separator.
pub(crate) fn line_of(parts: &[Part]) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = parts
        .iter()
        .filter(|p| p.shown)
        .flat_map(|p| p.spans().iter().cloned())
        .collect();
    if let Some(first) = spans.first_mut() {
        let trimmed = first.content.trim_start_matches(SEPARATOR).to_string();
        first.content = trimmed.into();
    }
    Line::from(spans)
}

pub fn draw(frame: &mut Frame, area: Rect, model: &Model, now: DateTime<Utc>, theme: &Theme) {
    let mut left = vec![];
    if model.pane == Pane::Events {
        events_status(&mut left, model, theme);
    } else {
        refresh_status(&mut left, model, now, theme);
    }
    if let Some(pct) = model.usage.and_then(|u| u.highest()) {
        let factor = usage_factor(Some(pct));
        left.push(if factor > 1 {
            Part::text(
                SLOWED,
                theme.warn,
                &[
                    format!(" · usage {pct}%, polling ×{factor} slower"),
                    format!(" · usage {pct}% ×{factor}"),
                ],
            )
        } else {
            Part::text(USAGE, theme.dim, &[format!(" · usage {pct}%")])
        });
    }
    if let Some(f) = &model.in_flight {
        let spin = spinner(now);
        let action = f.target.action_label().replace('_', " ");
        let since = elapsed(now, f.since);
        left.push(Part::text(
            SENDING,
            theme.attention,
            &[
                format!(
                    " · {spin} sending {action} '{}'{since}",
                    inert(&f.target.name())
                ),
                format!(" · {spin} sending {action}{since}"),
                format!(" · {spin} sending"),
            ],
        ));
    }
    let help = key_label(Command::Help);
    let quit = key_label(Command::Quit);
    let mut right = vec![
        Part::new(
            HELP_KEY,
            vec![
                vec![
                    Span::styled(help.clone(), theme.key),
                    Span::styled(" help", theme.dim),
                ],
                vec![Span::styled(help, theme.key)],
            ],
        ),
        Part::new(
            QUIT_KEY,
            vec![vec![
                Span::styled("  ", theme.dim),
                Span::styled(quit, theme.key),
                Span::styled(" quit", theme.dim),
            ]],
        ),
    ];
    fit(&mut left, &mut right, usize::from(area.width));
    let status = line_of(&left);
    let hint = Line::from(
        right
            .iter()
            .filter(|p| p.shown)
            .flat_map(|p| p.spans().iter().cloned())
            .collect::<Vec<_>>(),
    );
    if hint.width() == 0 {
        frame.render_widget(Paragraph::new(status), area);
        return;
    }
    let [left_area, right_area] = Layout::horizontal([
        Constraint::Min(1),
        Constraint::Length(hint.width() as u16 + 1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(status), left_area);
    frame.render_widget(Paragraph::new(hint).right_aligned(), right_area);
}

/// How fresh the pane's data is: refreshing, age, failure, hold, dead token.
fn refresh_status(parts: &mut Vec<Part>, model: &Model, now: DateTime<Utc>, theme: &Theme) {
    let r = model.pane_refresh();
    if r.in_flight {
        let spin = spinner(now);
        parts.push(Part::text(
            REFRESHING,
            theme.attention,
            &[
                format!("{spin} refreshing{} ", elapsed(now, r.since)),
                format!("{spin} "),
            ],
        ));
    }
    match r.last_success {
        Some(t) => {
            let ago = age((now - t).num_seconds());
            let style = if r.last_error.is_some() {
                theme.warn
            } else {
                theme.dim
            };
            parts.push(Part::text(
                AGE,
                style,
                &[format!("refreshed {ago} ago"), format!("{ago} ago")],
            ));
        }
        None if !r.in_flight && r.last_error.is_none() => parts.push(Part::text(
            AGE,
            theme.dim,
            &["not refreshed yet".to_string()],
        )),
        None => {}
    }
    if let Some((at, _)) = &r.last_error {
        // The reason itself is on the message line above, where it has room.
        let ago = age((now - *at).num_seconds());
        let forms = if r.last_success.is_some() {
            [
                format!(" · STALE, failed {ago} ago"),
                " · STALE".to_string(),
            ]
        } else {
            [format!(" · failed {ago} ago"), " · failed".to_string()]
        };
        parts.push(Part::text(FAILURE, theme.error, &forms));
    }
    if let Some(until) = r.held_until {
        // Meta's throttle: no call before `until` (the reason is on the message line).
        parts.push(Part::text(
            HOLD,
            theme.warn,
            &[
                format!(" · on hold {}", age((until - now).num_seconds().max(1))),
                " · on hold".to_string(),
            ],
        ));
    }
    if model.refresh.auth_failure().is_some() {
        parts.push(Part::text(KEEP, theme.error, &[format!(" · {TOKEN_DEAD}")]));
    }
}

/// Where events come from and how many are held.
fn events_status(parts: &mut Vec<Part>, model: &Model, theme: &Theme) {
    let pane = &model.events;
    let feed = match &pane.feed {
        Some(f) => inert(f).into_owned(),
        None => "webhooks off".into(),
    };
    let n = pane.items.len();
    parts.push(Part::text(
        AGE,
        theme.dim,
        &[format!("{n} events · {feed}"), format!("{n} events")],
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(priority: u8, forms: &[&str]) -> Part {
        let forms: Vec<String> = forms.iter().map(|f| f.to_string()).collect();
        Part::text(priority, Style::default(), &forms)
    }

    fn text(parts: &[Part]) -> String {
        line_of(parts).to_string()
    }

    #[test]
    fn the_least_important_part_gives_way_first() {
        let mut left = vec![
            part(AGE, &["refreshed 5m ago", "5m ago"]),
            part(FAILURE, &[" · STALE, failed 1m ago", " · STALE"]),
            part(KEEP, &[" · polling stopped: renew the token"]),
        ];
        let mut right = vec![part(HELP_KEY, &["? help", "?"])];
        fit(&mut left, &mut right, 80);
        assert_eq!(
            text(&left),
            "refreshed 5m ago · STALE, failed 1m ago · polling stopped: renew the token"
        );
        assert_eq!(right[0].form, 1, "the hint gave way first: \"?\" only");
        fit(&mut left, &mut right, 40);
        assert_eq!(text(&left), "STALE · polling stopped: renew the token");
        fit(&mut left, &mut right, 20);
        assert_eq!(
            text(&left),
            "polling stopped: renew the token",
            "kept whole"
        );
    }
}
