//! The volumes pane: name, driver, where its data lives and who mounts it.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Row, Table};
use ratatui::Frame;

use super::{body_rows, dim_note, pane, widest};
use crate::format::human_size;
use crate::tui::state::App;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let rows = app.visible_volumes();
    let block = pane(format!(" Volumes ({}) ", rows.len()), theme);
    if rows.is_empty() {
        let text = if app.snapshot.volumes.is_empty() {
            "No volumes. Create one:  :volume create NAME"
        } else {
            "No volume matches."
        };
        frame.render_widget(dim_note(text, theme).block(block), area);
        return;
    }
    let height = body_rows(area);
    let offset = app.volumes.scroll_into_view(height);
    let table_rows = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, v)| {
            let users: Vec<&str> = v.users.iter().map(|(_, name)| name.as_str()).collect();
            let style = if i == app.volumes.selected {
                theme.selected
            } else if app.marked.contains(&v.volume.name) {
                theme.marked
            } else {
                Style::new()
            };
            let size = match app.volume_sizes.get(&v.volume.name) {
                Some(u) if u.partial => format!(">{}", human_size(u.bytes)),
                Some(u) => human_size(u.bytes),
                None => "…".to_owned(),
            };
            let cells = [
                v.volume.name.clone(),
                "local".to_owned(),
                size,
                v.mountpoint.display().to_string(),
                users.join(", "),
            ];
            (cells, style)
        })
        .collect::<Vec<_>>();
    let name_width = widest(
        table_rows.iter().map(|(cells, _)| &cells[0]),
        "VOLUME NAME",
        40,
    );
    let table_rows = table_rows
        .into_iter()
        .map(|(cells, style)| Row::new(cells).style(style));
    let header =
        Row::new(["VOLUME NAME", "DRIVER", "SIZE", "MOUNTPOINT", "USED BY"]).style(theme.header);
    let widths = [
        Constraint::Length(name_width),
        Constraint::Length(6),
        Constraint::Length(9),
        Constraint::Fill(3),
        Constraint::Fill(2),
    ];
    frame.render_widget(
        Table::new(table_rows, widths).header(header).block(block),
        area,
    );
}
