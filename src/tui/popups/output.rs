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
    let area = cleared_area(frame);
    let fit = area.height.saturating_sub(2) as usize;
    let lines: Vec<&str> = text.lines().collect();
    // A verb writes for a terminal (stats clears the screen before each sample, others
    // colour): the popup shows the text, without the terminal's control sequences.
    let shown: Vec<Line> = lines[shown_lines(lines.len(), back, fit)]
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

/// The popup's area, nearly the whole screen, cleared.
pub(crate) fn cleared_area(frame: &mut Frame) -> ratatui::layout::Rect {
    let screen = frame.area();
    let area = centered(
        screen,
        screen.width.saturating_sub(4),
        screen.height.saturating_sub(4),
    );
    frame.render_widget(Clear, area);
    area
}

/// Which of `len` lines show in `fit` rows, `back` scrolled back from the end: the newest
/// lines matter most, so the end shows unless the user scrolled back.
pub(crate) fn shown_lines(len: usize, back: usize, fit: usize) -> std::ops::Range<usize> {
    let end = len - back.min(len.saturating_sub(fit));
    end.saturating_sub(fit)..end
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
