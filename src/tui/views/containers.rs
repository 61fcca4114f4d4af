//! The containers pane: one row per container with its state and live resource use.

use ratatui::layout::Rect;
use ratatui::Frame;

use super::table::{Column, PaneTable, TableCell, TableRow, Width};
use crate::engine::{ContainerRecord, Status};
use crate::format::{binary_size, status_text_at};
use crate::ops::ports::ps_ports;
use crate::tui::action::Action;
use crate::tui::state::App;
use crate::tui::theme::Theme;

/// The columns: header and width (name, status and image are sized at draw time).
const COLUMNS: [(&str, u16); 10] = [
    ("", 1),
    ("NAME", 0),
    ("CONTAINER ID", 12),
    ("IMAGE", 10),
    ("STATUS", 0),
    ("CPU %", 6),
    ("MEM / LIMIT", 19),
    ("PIDS", 5),
    // The first interface's address: 255.255.255.255 at most.
    ("IP", 15),
    ("PORTS", 0),
];
const NAME: usize = 1;
const IMAGE: usize = 3;
const STATUS: usize = 4;
const IP: usize = 8;
const PORTS: usize = 9;
/// The image's budget at most.
const IMAGE_MAX: usize = 30;
/// The PORTS column's width at most; longer lists are cut.
const PORTS_MAX: u16 = 40;
/// The longest status text, "Exited (137) Less than a second ago" and the like.
const STATUS_MAX: u16 = 33;
/// Which columns a narrow terminal keeps, most important first.
const PRIORITY: [usize; 10] = [0, NAME, STATUS, IMAGE, 2, 6, 5, 7, IP, PORTS];

/// The columns that fit in `width`, in table order: less important ones drop first.
/// The status is budgeted at its widest so columns don't come and go as its clock ticks.
/// The image counts at its narrowest for the columns before the IP and ports, and at its
/// widest (within reason) for those two, so they never squeeze it.
fn columns(width: u16, name_width: u16, image_width: u16, ports_width: u16) -> Vec<usize> {
    let mut used = 0u16;
    let mut shown = Vec::new();
    let mut image_extra = image_width.saturating_sub(COLUMNS[IMAGE].1);
    for column in PRIORITY {
        let width_of = match column {
            NAME => name_width,
            STATUS => STATUS_MAX,
            PORTS => ports_width,
            other => COLUMNS[other].1,
        };
        // A column no row has anything for is left out.
        if width_of == 0 {
            continue;
        }
        // Each column after the first is preceded by one space.
        let mut need = width_of + u16::from(!shown.is_empty());
        let after_image = matches!(column, IP | PORTS);
        if after_image {
            need += image_extra;
        }
        if used + need > width && shown.len() >= 3 {
            continue;
        }
        used += need;
        if after_image {
            image_extra = 0;
        }
        shown.push(column);
    }
    shown.sort_unstable();
    shown
}

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
    let empty = if !app.loaded {
        "Reading the engine…".to_owned()
    } else if app.snapshot.containers.is_empty() && app.snapshot.images.is_empty() {
        // A first run: say how to get an image before anything can run.
        let images = app.keymap.key_for(Action::ShowImages);
        let pull = app.keymap.key_for(Action::Pull);
        match (images, pull) {
            (Some(images), Some(pull)) => format!(
                "No containers or images yet: {images} then {pull} pulls an image, or  :load -i FILE"
            ),
            _ => "No containers or images yet:  :pull REF  or  :load -i FILE".to_owned(),
        }
    } else if app.snapshot.containers.is_empty() {
        "No containers yet. Press : and type  run -d IMAGE  to start one.".to_owned()
    } else {
        "No container matches.".to_owned()
    };
    // Names are short and matter most: as wide as the longest, within reason. Widths
    // follow every row, not only those on screen, so columns stay put while scrolling.
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
        .clamp(6, STATUS_MAX as usize) as u16;
    let ports_width = rows
        .iter()
        .map(|c| ps_ports(c).chars().count() as u16)
        .max()
        .filter(|w| *w > 0)
        .map_or(0, |w| w.clamp(5, PORTS_MAX));
    let image_width = rows
        .iter()
        .map(|c| c.image.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(COLUMNS[IMAGE].1 as usize, IMAGE_MAX) as u16;
    let shown = columns(
        area.width.saturating_sub(2),
        name_width,
        image_width,
        ports_width,
    );
    let header: Vec<Column> = shown
        .iter()
        .map(|c| {
            let width = match *c {
                NAME => Width::Length(name_width),
                STATUS => Width::Length(status_width),
                PORTS => Width::Length(ports_width),
                IMAGE => Width::Fill(1),
                other => Width::Length(COLUMNS[other].1),
            };
            Column::new(COLUMNS[*c].0, width)
        })
        .collect();
    let table = PaneTable {
        title,
        columns: &header,
        empty: &empty,
    };
    table.draw(frame, area, theme, &rows, &app.containers, |c, selected| {
        row(app, c, selected, theme, &shown)
    });
}

fn row(app: &App, c: &ContainerRecord, selected: bool, theme: &Theme, shown: &[usize]) -> TableRow {
    let status_style = match c.state.status {
        Status::Running => theme.running,
        Status::Exited | Status::Restarting => theme.exited,
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
    let mut cells: Vec<Option<TableCell>> = [
        // Visible without colour too: the cursor and the marks.
        TableCell::from(match (selected, marked) {
            (_, true) => "*",
            (true, false) => "›",
            _ => " ",
        }),
        c.name.clone().into(),
        c.id.short().into(),
        c.image.clone().into(),
        TableCell {
            text: status_text_at(c, app.now),
            style: Some(status_style),
        },
        cpu.into(),
        memory.into(),
        pids.into(),
        app.snapshot
            .first_ip(&c.id)
            .filter(|_| c.state.status == Status::Running)
            .map_or("-".into(), |ip| ip.to_string())
            .into(),
        ps_ports(c).into(),
    ]
    .map(Some)
    .into();
    let cells = shown
        .iter()
        .filter_map(|i| cells.get_mut(*i).and_then(Option::take));
    TableRow::new(cells, marked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_tables_keep_name_and_status_and_drop_the_rest_by_priority() {
        assert_eq!(columns(200, 10, 25, 20), [0, 1, 2, 3, 4, 5, 6, 7, 8, PORTS]);
        // No container publishes a port: no PORTS column.
        assert_eq!(columns(200, 10, 25, 0), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
        // 80 columns: the wide MEM / LIMIT goes first, the IP and ports do not fit.
        assert_eq!(columns(78, 4, 10, 20), [0, 1, 2, 3, 4, 5, 7]);
        assert_eq!(columns(78, 4, 25, 20), [0, 1, 2, 3, 4, 5, 7]);
        // 120: the IP fits beside short image names; ports need more.
        assert_eq!(columns(118, 4, 10, 30), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
        // A long image name keeps its room; the IP goes.
        assert_eq!(columns(118, 4, 25, 30), [0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(columns(30, 4, 10, 20), [0, NAME, STATUS]);
    }
}
