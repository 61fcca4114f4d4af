//! The run form: one line per field, the focused one with a cursor.

use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use super::{error_lines, field_lines};
use crate::tui::form::{Field, RunForm};
use crate::tui::render::centered;
use crate::tui::theme::Theme;
use crate::tui::views::pane;

pub fn draw(frame: &mut Frame, form: &RunForm, cursor: usize, theme: &Theme) {
    // The error wraps inside the frame: the form grows by its extra rows.
    let inner = frame.area().width.min(76).saturating_sub(2);
    let error = error_lines(&form.error, inner, theme);
    let rows = Field::ALL.len() as u16 + 4 + error.len() as u16 - 1;
    let area = centered(frame.area(), 76, rows);
    frame.render_widget(Clear, area);
    let labels = Field::ALL.map(Field::label);
    let mut lines = field_lines(&labels, &form.values, (form.focus, cursor), theme);
    // The line between the fields and the keys says why the last run failed.
    lines.extend(error);
    lines.push(Line::styled(
        "tab/shift-tab move · enter runs (run -d) · esc cancels",
        theme.dim,
    ));
    frame.render_widget(
        Paragraph::new(lines).block(pane(" Run a new container ".into(), theme)),
        area,
    );
}
