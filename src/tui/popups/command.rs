//! The `:` line: any headless verb, with tab completion; the candidates tab could not
//! choose between are listed above the line.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use crate::tui::action::Action;
use crate::tui::keymap::Keymap;
use crate::tui::theme::Theme;
use crate::tui::views::pane;

/// Rows of candidates listed at most.
const CANDIDATE_ROWS: usize = 6;

pub fn draw(
    frame: &mut Frame,
    input: &str,
    tail: &str,
    candidates: &[String],
    keymap: &Keymap,
    theme: &Theme,
) {
    let screen = frame.area();
    let listed = candidate_rows(candidates, usize::from(screen.width.saturating_sub(2)));
    let height = (3 + listed.len() as u16).min(screen.height);
    let area = Rect {
        x: screen.x,
        y: screen.bottom().saturating_sub(height),
        width: screen.width,
        height,
    };
    frame.render_widget(Clear, area);
    let mut lines: Vec<Line> = listed
        .into_iter()
        .map(|row| Line::styled(row, theme.dim))
        .collect();
    lines.push(Line::from(vec![
        Span::styled(":", theme.key),
        Span::raw(input.to_owned()),
        Span::styled("█", theme.dim),
        Span::raw(tail.to_owned()),
    ]));
    frame.render_widget(
        Paragraph::new(lines).block(pane(
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

/// The candidates in rows of `width` columns, two spaces apart; a last "…" row when they
/// don't all fit.
fn candidate_rows(candidates: &[String], width: usize) -> Vec<String> {
    let mut rows: Vec<String> = Vec::new();
    let mut row = String::new();
    for candidate in candidates {
        let wide = row.chars().count() + 2 + candidate.chars().count();
        if !row.is_empty() && wide > width {
            rows.push(std::mem::take(&mut row));
        }
        if !row.is_empty() {
            row.push_str("  ");
        }
        row.push_str(candidate);
    }
    if !row.is_empty() {
        rows.push(row);
    }
    if rows.len() > CANDIDATE_ROWS {
        rows.truncate(CANDIDATE_ROWS - 1);
        rows.push("…".into());
    }
    rows
}
