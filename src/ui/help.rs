//! The help screen, generated from the key map: the keys of every pane and of this one.
//! Two columns when the terminal is too short for one, so every key fits on 80x24.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::app::Pane;
use crate::app::keymap::{Command, help_lines, key_label};
use crate::ui::{Theme, centered};

pub fn draw(frame: &mut Frame, area: Rect, pane: Pane, theme: &Theme) {
    let lines: Vec<Line> = help_lines(pane)
        .into_iter()
        .map(|(keys, what)| {
            Line::from(vec![
                Span::styled(format!("{keys:>10}  "), theme.key),
                Span::raw(what),
            ])
        })
        .collect();
    let one_column = lines.len() as u16 + 2 <= area.height;
    let rows = if one_column {
        lines.len()
    } else {
        lines.len().div_ceil(2)
    };
    let width = if one_column { 44 } else { 80 };
    let popup = centered(area, width, rows as u16 + 2);
    frame.render_widget(Clear, popup);
    let title = format!(" Keys · {} closes ", key_label(Command::Close));
    let block = Block::bordered().title(Span::styled(title, theme.title));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    if one_column {
        frame.render_widget(Paragraph::new(lines), inner);
    } else {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(inner);
        let mut lines = lines;
        let second = lines.split_off(rows);
        frame.render_widget(Paragraph::new(lines), left);
        frame.render_widget(Paragraph::new(second), right);
    }
}
