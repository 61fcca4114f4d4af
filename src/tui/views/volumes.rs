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
    Column::new("MOUNTPOINT", Width::Fill(3)).keeping_end(),
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

#[cfg(test)]
mod tests {
    use crate::tui::keymap::Keymap;
    use crate::tui::msg::Msg;
    use crate::tui::once::render_text;
    use crate::tui::snapshot::Snapshot;
    use crate::tui::state::{App, View};
    use crate::tui::update::testing::volume_at;
    use crate::tui::update::update;

    /// A mountpoint too long for its column keeps its end, so vol-10's is not read as
    /// vol-1's (cut at the column's edge, it read `/var/lib/…/volumes/vol-1`).
    #[test]
    fn a_long_mountpoint_keeps_its_end() {
        let root = "/var/lib/a-rather-long-engine-root/volumes";
        let volumes = ["vol-1", "vol-2", "vol-10"]
            .map(|name| volume_at(name, &format!("{root}/{name}")))
            .to_vec();
        let mut app = App::new(Keymap::default());
        let snapshot = Snapshot {
            volumes,
            ..Default::default()
        };
        update(&mut app, Msg::Loaded(Ok(Box::new(snapshot))));
        app.view = View::Volumes;
        let frame = render_text(&app, 80, 24);
        let rows: Vec<&str> = frame.lines().filter(|l| l.contains("│vol-")).collect();
        assert_eq!(rows.len(), 3, "{frame}");
        for (row, name) in rows.iter().zip(["vol-1", "vol-2", "vol-10"]) {
            assert!(row.starts_with(&format!("│{name} ")), "{frame}");
            assert!(!row.contains("/var/lib"), "{frame}");
            assert!(row.contains(&format!("-root/volumes/{name} ")), "{frame}");
        }
    }
}
