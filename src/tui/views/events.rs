//! The events pane: the engine's journal as it grows, newest first.

use ratatui::layout::Rect;
use ratatui::Frame;

use super::table::{Column, PaneTable, TableRow, Width};
use crate::tui::state::App;
use crate::tui::theme::Theme;

const COLUMNS: [Column; 6] = [
    Column::new("TIME", Width::Length(8)),
    Column::new("TYPE", Width::Length(9)),
    Column::new("ACTION", Width::Length(12)),
    Column::new("NAME", Width::Fill(1)),
    Column::new("ID", Width::Length(12)),
    Column::new("ATTRIBUTES", Width::Fill(3)),
];

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let rows = app.visible_events();
    let table = PaneTable {
        title: format!(" Events ({}, live) ", rows.len()),
        columns: &COLUMNS,
        empty: "No events yet. Changes made here or by any berth command appear at once.",
    };
    table.draw(frame, area, theme, &rows, &app.events_cursor, |e, _| {
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
        let cells = [
            local.format("%H:%M:%S").to_string(),
            e.object.as_str().to_owned(),
            e.action.clone(),
            name,
            id,
            detail.join(" "),
        ];
        // Events are not marked: nothing acts on them.
        TableRow::new(cells, false)
    });
}
