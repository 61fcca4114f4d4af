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
    let width = (question.chars().count() as u16 + 4).clamp(30, 70);
    let area = centered(frame.area(), width, 5);
    frame.render_widget(Clear, area);
    let lines = vec![
        Line::raw(question.to_owned()),
        Line::from(vec![
            Span::styled(keymap.hint(Action::Yes), theme.key),
            Span::raw(" yes   "),
            Span::styled(keymap.hint(Action::No), theme.key),
            Span::raw(" no"),
        ]),
    ];
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(pane(" Confirm ".into(), theme)),
        area,
    );
}
