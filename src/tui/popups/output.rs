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
    // A verb writes for a terminal (stats clears the screen before each sample, others
    // colour): the popup shows the text, without the terminal's control sequences.
    let shown: Vec<Line> = lines[end.saturating_sub(fit)..end]
        .iter()
        .map(|l| Line::raw(strip_ansi_escapes::strip_str(l)))
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

#[cfg(test)]
mod tests {
    use crate::tui::keymap::Keymap;
    use crate::tui::once::render_text;
    use crate::tui::state::{App, Popup};

    #[test]
    fn a_verbs_terminal_sequences_are_not_shown() {
        let mut app = App::new(Keymap::default());
        app.popup = Some(Popup::Output {
            title: ":stats web (exit 0)".into(),
            text: "\x1b[2J\x1b[HCONTAINER ID   NAME\n\x1b[1;31mred\x1b[0m done\n".into(),
            back: 0,
        });
        let frame = render_text(&app, 60, 12);
        assert!(frame.contains("│CONTAINER ID   NAME"), "{frame}");
        assert!(frame.contains("│red done"), "{frame}");
        assert!(!frame.contains("[2J"), "{frame}");
    }
}
