//! The volumes pane: name, driver, where its data lives and who mounts it.

use ratatui::layout::Rect;
use ratatui::Frame;

use super::table::{Column, PaneTable, TableRow, Width};
use crate::format::human_size;
use crate::tui::state::App;
use crate::tui::theme::Theme;

const COLUMNS: [Column; 5] = [
    Column::new("VOLUME NAME", Width::Widest(40)),
    Column::new("DRIVER", Width::Length(6)),
    Column::new("SIZE", Width::Length(9)),
    Column::new("MOUNTPOINT", Width::Fill(3)),
    Column::new("USED BY", Width::Fill(2)),
];

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let rows = app.visible_volumes();
    let empty = if app.snapshot.volumes.is_empty() {
        "No volumes. Create one:  :volume create NAME"
    } else {
        "No volume matches."
    };
    let table = PaneTable {
        title: format!(" Volumes ({}) ", rows.len()),
        columns: &COLUMNS,
        empty,
    };
    table.draw(frame, area, theme, &rows, &app.volumes, |v, _| {
        let users: Vec<&str> = v.users.iter().map(|(_, name)| name.as_str()).collect();
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
        TableRow::new(cells, app.marked.contains(&v.volume.name))
    });
}
