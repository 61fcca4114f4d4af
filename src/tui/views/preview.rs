//! A wide screen's containers view: the list on top, and under it the selected
//! container's CPU, memory and last log lines (see `tui/preview.rs`).

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::logs::styled_line;
use super::{containers, dim_note, pane};
use crate::engine::Status;
use crate::format::{binary_size, status_text_at};
use crate::tui::action::Action;
use crate::tui::state::App;
use crate::tui::theme::Theme;

/// Rows the list keeps at least, and its share of the body at most (in tenths): a long
/// list leaves the pane room.
const LIST_MIN: u16 = 6;
const LIST_SHARE: u16 = 6;

/// The list and, under it, the preview of the selected container.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    // Border, header and one row per container, up to the list's share.
    let wanted = app.visible_containers().len() as u16 + 3;
    let list_height = wanted.clamp(LIST_MIN, (area.height * LIST_SHARE / 10).max(LIST_MIN));
    let [list, below] =
        Layout::vertical([Constraint::Length(list_height), Constraint::Min(3)]).areas(area);
    containers::draw(frame, list, app, theme);
    draw_pane(frame, below, app, theme);
}

fn draw_pane(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    // Drawn only with a selection (`preview::on_screen`).
    let Some(container) = app.selected_container() else {
        return;
    };
    let logs_key = app
        .keymap
        .key_for(Action::Logs)
        .map_or(String::new(), |key| format!(" ({key} opens them)"));
    let block = pane(
        format!(" {}: last log lines{logs_key} ", container.name),
        theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [numbers, log] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    let stats = app.stats.latest.get(&container.id);
    let head = match (container.state.status, stats) {
        (Status::Running, Some(s)) => Line::from(vec![
            Span::styled("CPU ", theme.header),
            Span::raw(format!("{:.2} %   ", s.cpu_percent)),
            Span::styled("MEM ", theme.header),
            Span::raw(format!(
                "{} / {}   ",
                binary_size(s.memory_usage),
                binary_size(s.memory_limit)
            )),
            Span::styled("PIDS ", theme.header),
            Span::raw(s.pids.to_string()),
        ]),
        _ => Line::styled(status_text_at(container, app.now), theme.dim),
    };
    frame.render_widget(Paragraph::new(head), numbers);
    let preview = app
        .preview
        .as_ref()
        .filter(|p| p.id == container.id.as_str());
    let lines = match preview.and_then(|p| p.lines.as_ref()) {
        None => return frame.render_widget(dim_note("Reading the log…", theme), log),
        Some(Err(e)) => return frame.render_widget(dim_note(e, theme), log),
        Some(Ok(lines)) if lines.is_empty() => {
            return frame.render_widget(dim_note("The log is empty.", theme), log)
        }
        Some(Ok(lines)) => lines,
    };
    // The newest at the bottom, as the log view shows them.
    let first = lines.len().saturating_sub(usize::from(log.height));
    // Drawn as the log view draws them, with its colour toggle's default.
    let shown: Vec<Line> = lines[first..]
        .iter()
        .map(|l| styled_line(l, true, false, theme))
        .collect();
    frame.render_widget(Paragraph::new(shown), log);
}
