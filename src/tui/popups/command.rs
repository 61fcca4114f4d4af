//! The `:` line: any headless verb, with tab completion.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use crate::tui::action::Action;
use crate::tui::keymap::Keymap;
use crate::tui::theme::Theme;
use crate::tui::views::pane;

pub fn draw(frame: &mut Frame, input: &str, tail: &str, keymap: &Keymap, theme: &Theme) {
    let screen = frame.area();
    let area = Rect {
        x: screen.x,
        y: screen.bottom().saturating_sub(3),
        width: screen.width,
        height: 3.min(screen.height),
    };
    frame.render_widget(Clear, area);
    let line = Line::from(vec![
        Span::styled(":", theme.key),
        Span::raw(input.to_owned()),
        Span::styled("█", theme.dim),
        Span::raw(tail.to_owned()),
    ]);
    frame.render_widget(
        Paragraph::new(line).block(pane(
            format!(
                " berth command ({} completes, {} runs, {} cancels) ",
                keymap.hint(Action::Complete),
                keymap.hint(Action::Submit),
                keymap.hint(Action::Cancel)
            ),
            theme,
        )),
        area,
    );
}
