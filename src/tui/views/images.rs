//! The images pane: repository:tag, ID, size, age and the containers made from each.

use ratatui::layout::Rect;
use ratatui::Frame;

use super::table::{Column, PaneTable, TableRow, Width};
use crate::format::{human_since_at, human_size};
use crate::tui::state::App;
use crate::tui::theme::Theme;

/// The name column is as wide as the longest name on screen (up to a limit), so a narrow
/// screen cuts the containers' names before the image's.
const COLUMNS: [Column; 5] = [
    Column::new("REPOSITORY:TAG", Width::Widest(40)),
    Column::new("IMAGE ID", Width::Length(12)),
    Column::new("SIZE", Width::Length(9)),
    Column::new("CREATED", Width::Length(18)),
    Column::new("CONTAINERS", Width::Fill(1)),
];

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let rows = app.visible_images();
    let empty = if app.snapshot.images.is_empty() {
        match app.keymap.key_for(crate::tui::action::Action::Pull) {
            Some(key) => format!("No images. Press {key} to pull one, or  :load -i FILE"),
            None => "No images. Load one:  :load -i FILE  or  :import FILE NAME".to_owned(),
        }
    } else {
        "No image matches.".to_owned()
    };
    let table = PaneTable {
        title: format!(" Images ({}) ", rows.len()),
        columns: &COLUMNS,
        empty: &empty,
    };
    table.draw(frame, area, theme, &rows, &app.images, |image, _| {
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
        let cells = [
            name,
            s.id.short().to_owned(),
            human_size(s.size),
            created,
            users,
        ];
        TableRow::new(cells, app.marked.contains(&s.id.to_string()))
    });
}
