//! `?`: every action with its keys, built from the keymap in use; in as many columns as
//! the screen's height needs.

use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use crate::tui::render::centered;
use crate::tui::state::App;
use crate::tui::theme::Theme;
use crate::tui::views::pane;

const COLUMN: u16 = 62;

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let lines: Vec<Line> = app
        .keymap
        .describe()
        .into_iter()
        .filter(|(_, keys)| !keys.is_empty())
        .map(|(action, keys)| {
            Line::from(vec![
                Span::styled(format!("{:<14}", keys.join(" ")), theme.key),
                Span::raw(action.help()),
            ])
        })
        .collect();
    let screen = frame.area();
    let fit = screen.height.saturating_sub(4).max(1) as usize;
    let columns = lines.len().div_ceil(fit).max(1);
    let rows = lines.len().div_ceil(columns);
    let area = centered(screen, COLUMN * columns as u16 + 2, rows as u16 + 2);
    frame.render_widget(Clear, area);
    let block = pane(" Keys (any key closes) ".into(), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let areas = Layout::horizontal(vec![Constraint::Length(COLUMN); columns]).split(inner);
    for (chunk, column) in lines.chunks(rows).zip(areas.iter()) {
        frame.render_widget(Paragraph::new(chunk.to_vec()), *column);
    }
}
