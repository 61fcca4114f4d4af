//! The run form: one line per field, the focused one with a cursor.

use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use crate::tui::form::{Field, RunForm};
use crate::tui::render::centered;
use crate::tui::theme::Theme;
use crate::tui::views::pane;

pub fn draw(frame: &mut Frame, form: &RunForm, theme: &Theme) {
    let area = centered(frame.area(), 76, Field::ALL.len() as u16 + 4);
    frame.render_widget(Clear, area);
    let mut lines: Vec<Line> = Field::ALL
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let focused = i == form.focus;
            let label = Span::styled(
                format!("{:<20}", field.label()),
                if focused { theme.key } else { theme.header },
            );
            let mut spans = vec![label, Span::raw(form.values[i].clone())];
            if focused {
                spans.push(Span::styled("█", theme.dim));
            }
            Line::from(spans)
        })
        .collect();
    // The line between the fields and the keys says why the last run failed.
    lines.push(match &form.error {
        Some(error) => Line::styled(error.clone(), theme.error),
        None => Line::raw(""),
    });
    lines.push(Line::styled(
        "tab/shift-tab move · enter runs (run -d) · esc cancels",
        theme.dim,
    ));
    frame.render_widget(
        Paragraph::new(lines).block(pane(" Run a new container ".into(), theme)),
        area,
    );
}
