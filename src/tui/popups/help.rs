//! `?`: every action with its keys, built from the keymap in use.

use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use crate::tui::render::centered;
use crate::tui::state::App;
use crate::tui::theme::Theme;
use crate::tui::views::pane;

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let lines: Vec<Line> = app
        .keymap
        .describe()
        .into_iter()
        .filter(|(_, keys)| !keys.is_empty())
        .map(|(action, keys)| {
            Line::from(vec![
                Span::styled(format!("{:<18}", keys.join(" ")), theme.key),
                Span::raw(action.help()),
            ])
        })
        .collect();
    let area = centered(frame.area(), 72, lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(pane(" Keys (any key closes) ".into(), theme)),
        area,
    );
}
