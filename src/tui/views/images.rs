//! The images pane: repository:tag, ID, size, age and the containers made from each.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Row, Table};
use ratatui::Frame;

use super::{body_rows, dim_note, pane};
use crate::format::{human_since_at, human_size};
use crate::tui::state::App;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let rows = app.visible_images();
    let block = pane(format!(" Images ({}) ", rows.len()), theme);
    if rows.is_empty() {
        let text = if app.snapshot.images.is_empty() {
            "No images. Load one:  :load -i FILE  or  :import FILE NAME"
        } else {
            "No image matches."
        };
        frame.render_widget(dim_note(text, theme).block(block), area);
        return;
    }
    let height = body_rows(area);
    let offset = app.images.scroll_into_view(height);
    let table_rows = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, image)| {
            let s = &image.summary;
            let name = match s.references.as_slice() {
                [] => "<none>:<none>".to_owned(),
                [one] => one.to_string(),
                [first, rest @ ..] => format!("{first} (+{})", rest.len()),
            };
            let created = s
                .created
                .as_deref()
                .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
                .map(|c| human_since_at(c.with_timezone(&chrono::Utc), app.now))
                .unwrap_or_default();
            let users = match image.containers.len() {
                0 => String::new(),
                n => format!("{n}: {}", image.containers.join(", ")),
            };
            let id = s.id.to_string();
            let style = if i == app.images.selected {
                theme.selected
            } else if app.marked.contains(&id) {
                theme.marked
            } else {
                Style::new()
            };
            Row::new([
                name,
                s.id.short().to_owned(),
                human_size(s.size),
                created,
                users,
            ])
            .style(style)
        });
    let header = Row::new([
        "REPOSITORY:TAG",
        "IMAGE ID",
        "SIZE",
        "CREATED",
        "CONTAINERS",
    ])
    .style(theme.header);
    let widths = [
        Constraint::Fill(3),
        Constraint::Length(12),
        Constraint::Length(9),
        Constraint::Length(18),
        Constraint::Fill(2),
    ];
    frame.render_widget(
        Table::new(table_rows, widths).header(header).block(block),
        area,
    );
}
