//! The containers pane: one row per container with its state and live resource use.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use ratatui::Frame;

use super::{body_rows, pane};
use crate::engine::container::{ContainerRecord, Status};
use crate::format::{binary_size, status_text_at};
use crate::tui::state::App;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let rows = app.visible_containers();
    let running = app
        .snapshot
        .containers
        .iter()
        .filter(|c| c.state.status == Status::Running)
        .count();
    let scope = if app.show_all { "all" } else { "running" };
    let title = format!(
        " Containers ({} shown, {running} running; {scope}, by {}) ",
        rows.len(),
        app.sort.title()
    );
    let block = pane(title, theme);
    if rows.is_empty() {
        let text = if !app.loaded {
            "Reading the engine…"
        } else if app.snapshot.containers.is_empty() {
            "No containers yet. Press : and type  run -d IMAGE  to start one."
        } else {
            "No container matches."
        };
        frame.render_widget(
            Paragraph::new(Line::styled(text, theme.dim)).block(block),
            area,
        );
        return;
    }
    let height = body_rows(area);
    let offset = app.containers.scroll_into_view(height);
    let table_rows = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, c)| row(app, c, i == app.containers.selected, theme));
    let header = Row::new([
        "",
        "NAME",
        "CONTAINER ID",
        "IMAGE",
        "STATUS",
        "CPU %",
        "MEM / LIMIT",
        "PIDS",
    ])
    .style(theme.header);
    // Names are short and matter most: as wide as the longest, within reason.
    let name_width = rows
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 32) as u16;
    let status_width = rows
        .iter()
        .map(|c| status_text_at(c, app.now).chars().count())
        .max()
        .unwrap_or(6)
        .clamp(6, 33) as u16;
    let widths = [
        Constraint::Length(1),
        Constraint::Length(name_width),
        Constraint::Length(12),
        Constraint::Fill(1),
        Constraint::Length(status_width),
        Constraint::Length(6),
        Constraint::Length(19),
        Constraint::Length(5),
    ];
    let table = Table::new(table_rows, widths)
        .header(header)
        .block(block)
        .column_spacing(1);
    frame.render_widget(table, area);
}

fn row<'a>(app: &App, c: &ContainerRecord, selected: bool, theme: &Theme) -> Row<'a> {
    let status_style = match c.state.status {
        Status::Running => theme.running,
        Status::Exited => theme.exited,
        Status::Created => theme.created,
    };
    let marked = app.marked.contains(c.id.as_str());
    let stats = app.stats.latest.get(&c.id);
    let (cpu, memory, pids) = match (c.state.status, stats) {
        (Status::Running, Some(s)) => (
            format!("{:.2}", s.cpu_percent),
            format!(
                "{} / {}",
                binary_size(s.memory_usage),
                binary_size(s.memory_limit)
            ),
            s.pids.to_string(),
        ),
        _ => ("-".into(), "-".into(), "-".into()),
    };
    let style = if selected {
        theme.selected
    } else if marked {
        theme.marked
    } else {
        Style::new()
    };
    Row::new([
        // Visible without colour too: the cursor and the marks.
        Cell::from(match (selected, marked) {
            (true, _) => "›",
            (false, true) => "*",
            _ => " ",
        }),
        Cell::from(c.name.clone()),
        Cell::from(c.id.short().to_owned()),
        Cell::from(c.image.clone()),
        Cell::from(status_text_at(c, app.now)).style(status_style),
        Cell::from(cpu),
        Cell::from(memory),
        Cell::from(pids),
    ])
    .style(style)
}
