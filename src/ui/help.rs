//! The help screen, generated from the key map: the keys of every pane and of this one.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::app::Pane;
use crate::app::keymap::help_lines;
use crate::ui::{Theme, centered};

pub fn draw(frame: &mut Frame, area: Rect, pane: Pane, theme: &Theme) {
    let lines: Vec<Line> = help_lines(pane)
        .into_iter()
        .map(|(keys, what)| {
            Line::from(vec![
                Span::styled(format!("{keys:>14}  "), theme.key),
                Span::raw(what),
            ])
        })
        .collect();
    let height = lines.len() as u16 + 2;
    let popup = centered(area, 78, height);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(Span::styled(" Keys · Esc closes ", theme.title))),
        popup,
    );
}
