//! What a `:` command printed.

use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use crate::tui::render::centered;
use crate::tui::theme::Theme;
use crate::tui::views::pane;

/// `back`: how many lines the user scrolled back from the end. `closes`: whether any key
/// closes it (not while its verb runs).
pub fn draw(frame: &mut Frame, title: &str, text: &str, back: usize, closes: bool, theme: &Theme) {
    let screen = frame.area();
    let area = centered(
        screen,
        screen.width.saturating_sub(4),
        screen.height.saturating_sub(4),
    );
    frame.render_widget(Clear, area);
    // The newest lines matter most: show the end unless the user scrolled back.
    let fit = area.height.saturating_sub(2) as usize;
    let lines: Vec<&str> = text.lines().collect();
    let end = lines.len() - back.min(lines.len().saturating_sub(fit));
    let shown: Vec<Line> = lines[end.saturating_sub(fit)..end]
        .iter()
        .map(|l| Line::raw((*l).to_owned()))
        .collect();
    let keys = match (lines.len() > fit, closes) {
        (true, true) => " (k/j scroll, any other key closes)",
        (false, true) => " (any key closes)",
        (true, false) => " (k/j scroll)",
        (false, false) => "",
    };
    frame.render_widget(
        Paragraph::new(shown).block(pane(format!(" {title}{keys} "), theme)),
        area,
    );
}
