//! The Credit lines pane. Its data arrives with the credit-lines issue; until then it says so.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::ui::Theme;

pub fn draw(frame: &mut Frame, area: Rect, theme: &Theme) {
    let text = "Not yet: our credit lines, the customers each one funds, and share / verify / \
                revoke will be here.";
    frame.render_widget(
        Paragraph::new(text)
            .style(theme.dim)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(" Credit lines ")),
        area,
    );
}
