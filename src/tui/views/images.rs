//! The images pane: repository:tag, ID, size, age and the containers made from each.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Row, Table};
use ratatui::Frame;

use super::{body_rows, dim_note, pane, widest};
use crate::format::{human_since_at, human_size};
use crate::tui::state::App;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let rows = app.visible_images();
    let block = pane(format!(" Images ({}) ", rows.len()), theme);
    if rows.is_empty() {
        let text = if app.snapshot.images.is_empty() {
            match app.keymap.key_for(crate::tui::action::Action::Pull) {
                Some(key) => format!("No images. Press {key} to pull one, or  :load -i FILE"),
                None => "No images. Load one:  :load -i FILE  or  :import FILE NAME".to_owned(),
            }
        } else {
            "No image matches.".to_owned()
        };
        frame.render_widget(dim_note(&text, theme).block(block), area);
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
            let cells = [
                name,
                s.id.short().to_owned(),
                human_size(s.size),
                created,
                users,
            ];
            (cells, style)
        })
        .collect::<Vec<_>>();
    // The name column is as wide as the longest name on screen (up to a limit), so a
    // narrow screen cuts the containers' names before the image's.
    let name_width = widest(
        table_rows.iter().map(|(cells, _)| &cells[0]),
        "REPOSITORY:TAG",
        40,
    );
    let table_rows = table_rows
        .into_iter()
        .map(|(cells, style)| Row::new(cells).style(style));
    let header = Row::new([
        "REPOSITORY:TAG",
        "IMAGE ID",
        "SIZE",
        "CREATED",
        "CONTAINERS",
    ])
    .style(theme.header);
    let widths = [
        Constraint::Length(name_width),
        Constraint::Length(12),
        Constraint::Length(9),
        Constraint::Length(18),
        Constraint::Fill(1),
    ];
    frame.render_widget(
        Table::new(table_rows, widths).header(header).block(block),
        area,
    );
}
