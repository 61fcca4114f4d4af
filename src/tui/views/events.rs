//! The events pane: the engine's journal as it grows, newest first.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Row, Table};
use ratatui::Frame;

use super::{body_rows, dim_note, pane};
use crate::tui::state::App;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let rows = app.visible_events();
    let block = pane(format!(" Events ({}, live) ", rows.len()), theme);
    if rows.is_empty() {
        let text = "No events yet. Changes made here or by any berth command appear at once.";
        frame.render_widget(dim_note(text, theme).block(block), area);
        return;
    }
    let height = body_rows(area);
    let offset = app.events_cursor.scroll_into_view(height);
    let table_rows = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, e)| {
            let local = e.when().with_timezone(&chrono::Local);
            let name = e.actor.attributes.get("name").cloned().unwrap_or_default();
            let detail: Vec<String> = e
                .actor
                .attributes
                .iter()
                .filter(|(k, _)| k.as_str() != "name")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let id: String = e.actor.id.chars().take(12).collect();
            let style = if i == app.events_cursor.selected {
                theme.selected
            } else {
                Style::new()
            };
            Row::new([
                local.format("%H:%M:%S").to_string(),
                e.object.as_str().to_owned(),
                e.action.clone(),
                name,
                id,
                detail.join(" "),
            ])
            .style(style)
        });
    let header =
        Row::new(["TIME", "TYPE", "ACTION", "NAME", "ID", "ATTRIBUTES"]).style(theme.header);
    let widths = [
        Constraint::Length(8),
        Constraint::Length(9),
        Constraint::Length(12),
        Constraint::Fill(1),
        Constraint::Length(12),
        Constraint::Fill(3),
    ];
    frame.render_widget(
        Table::new(table_rows, widths).header(header).block(block),
        area,
    );
}
