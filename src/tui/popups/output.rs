//! What a `:` command printed.

use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use crate::tui::render::centered;
use crate::tui::theme::Theme;
use crate::tui::views::pane;

pub fn draw(frame: &mut Frame, title: &str, text: &str, theme: &Theme) {
    let screen = frame.area();
    let area = centered(
        screen,
        screen.width.saturating_sub(4),
        screen.height.saturating_sub(4),
    );
    frame.render_widget(Clear, area);
    // The newest lines matter most: show the end when it doesn't fit.
    let fit = area.height.saturating_sub(2) as usize;
    let lines: Vec<&str> = text.lines().collect();
    let shown: Vec<Line> = lines[lines.len().saturating_sub(fit)..]
        .iter()
        .map(|l| Line::raw((*l).to_owned()))
        .collect();
    frame.render_widget(
        Paragraph::new(shown).block(pane(format!(" {title} (any key closes) "), theme)),
        area,
    );
}
