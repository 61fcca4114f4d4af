//! Asks before an action that loses a process or data.

use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::tui::action::Action;
use crate::tui::keymap::Keymap;
use crate::tui::render::centered;
use crate::tui::theme::Theme;
use crate::tui::views::pane;

pub fn draw(frame: &mut Frame, question: &str, keymap: &Keymap, theme: &Theme) {
    let widest = question
        .lines()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    let width = (widest as u16 + 4).clamp(30, 70);
    // Docker's prune warnings are longer than the popup, `system prune`'s several lines: each line
    // wraps on its own, and the popup is as tall as they are so the y/n line shows.
    let inner = usize::from(width - 2);
    let rows: usize = question
        .lines()
        .map(|l| l.chars().count().div_ceil(inner).max(1))
        .sum();
    let area = centered(frame.area(), width, (rows as u16 + 3).max(5));
    frame.render_widget(Clear, area);
    let mut lines: Vec<Line> = question.lines().map(|l| Line::raw(l.to_owned())).collect();
    lines.push(Line::from(vec![
        Span::styled(keymap.hint(Action::Yes), theme.key),
        Span::raw(" yes   "),
        Span::styled(keymap.hint(Action::No), theme.key),
        Span::raw(" no"),
    ]));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(pane(" Confirm ".into(), theme)),
        area,
    );
}

#[cfg(test)]
mod tests {
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    use super::*;
    use crate::ops::prune::Prune;

    #[test]
    fn a_two_line_prune_warning_shows_whole_with_its_answers() {
        let question = Prune::Volumes { all: false }.warning();
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        let (keymap, theme) = (Keymap::default(), Theme::default());
        terminal
            .draw(|frame| draw(frame, &question, &keymap, &theme))
            .unwrap();
        let buffer = terminal.backend().buffer();
        let text: String = (0..buffer.area.height)
            .map(|y| {
                let row: String = (0..buffer.area.width)
                    .map(|x| buffer[(x, y)].symbol().to_owned())
                    .collect();
                row.trim().to_owned() + "\n"
            })
            .collect();
        assert!(text.contains("WARNING! This will remove"), "{text}");
        assert!(text.contains("least one container."), "{text}");
        assert!(text.contains("y yes"), "{text}");
    }
}
