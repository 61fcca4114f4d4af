//! The `:` line: any headless verb, with tab completion.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use crate::tui::theme::Theme;
use crate::tui::views::pane;

pub fn draw(frame: &mut Frame, input: &str, tail: &str, theme: &Theme) {
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
            " berth command (tab completes, enter runs, esc cancels) ".into(),
            theme,
        )),
        area,
    );
}
