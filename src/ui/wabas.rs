//! The WABAs pane. Its data arrives with the WABAs issue; until then it says so.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::ui::Theme;

pub fn draw(frame: &mut Frame, area: Rect, theme: &Theme) {
    let text = "Not yet: onboarded WhatsApp Business Accounts, their phone numbers, health and \
                onboarding checklist will be listed here.";
    frame.render_widget(
        Paragraph::new(text)
            .style(theme.dim)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(" WABAs ")),
        area,
    );
}
