//! The containers pane: one row per container with its state and live resource use.

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::Frame;

use super::table::{Column, PaneTable, TableCell, TableRow, Width};
use crate::engine::{ContainerRecord, Status};
use crate::format::{binary_size, status_text_at};
use crate::ops::ports::ps_ports;
use crate::tui::action::Action;
use crate::tui::state::{App, ContainerSort};
use crate::tui::theme::Theme;

/// The columns: header and width (name, status, image and ports are sized at draw time).
const COLUMNS: [(&str, u16); 10] = [
    ("", 1),
    ("NAME", 0),
    ("CONTAINER ID", 12),
    ("IMAGE", 10),
    ("STATUS", 0),
    // Room for the sort arrow after the header.
    ("CPU %", 7),
    ("MEM / LIMIT", 19),
    ("PIDS", 5),
    // The first interface's address: 255.255.255.255 at most.
    ("IP", 15),
    ("PORTS", 0),
];
const NAME: usize = 1;
const IMAGE: usize = 3;
const STATUS: usize = 4;
const CPU: usize = 5;
const MEM: usize = 6;
const IP: usize = 8;
const PORTS: usize = 9;
/// The image's budget at most.
const IMAGE_MAX: usize = 30;
/// The PORTS column's width at most; longer lists are cut.
const PORTS_MAX: u16 = 40;
/// The longest status text, "Exited (137) Less than a second ago" and the like.
const STATUS_MAX: u16 = 33;
/// The narrowest name and status columns: their headers with the sort arrow.
const NAME_MIN: usize = 6;
const STATUS_MIN: usize = 8;
/// Which columns a narrow terminal keeps, most important first: the CPU and memory before
/// the container ID (the name says which it is), the ports and address before the ID too.
const PRIORITY: [usize; 10] = [0, NAME, STATUS, IMAGE, CPU, MEM, PORTS, IP, 2, 7];

/// The columns that fit in `width`, in table order: less important ones drop first. The
/// image counts at its narrowest: the room left after every column that fits is its own
/// (the ports and the address come before a long image name).
fn columns(width: u16, name_width: u16, status_width: u16, ports_width: u16) -> Vec<usize> {
    let mut used = 0u16;
    let mut shown = Vec::new();
    for column in PRIORITY {
        let width_of = match column {
            NAME => name_width,
            STATUS => status_width,
            PORTS => ports_width,
            other => COLUMNS[other].1,
        };
        // A column no row has anything for is left out.
        if width_of == 0 {
            continue;
        }
        // Each column after the first is preceded by one space.
        let need = width_of + u16::from(!shown.is_empty());
        if used + need > width && shown.len() >= 3 {
            continue;
        }
        used += need;
        shown.push(column);
    }
    shown.sort_unstable();
    shown
}

/// The header of `column`, with an arrow when the rows are sorted by it (ascending ↑,
/// descending ↓).
fn header(column: usize, sort: ContainerSort) -> &'static str {
    match (column, sort) {
        (NAME, ContainerSort::Name) => "NAME ↑",
        (STATUS, ContainerSort::Status) => "STATUS ↑",
        (CPU, ContainerSort::Cpu) => "CPU % ↓",
        (MEM, ContainerSort::Memory) => "MEM / LIMIT ↓",
        (other, _) => COLUMNS[other].0,
    }
}

/// The room a container's status needs for a while, not only this second: its text
/// when the clock part reads "About a minute", the longest it gets after the first
/// second, so the columns stay put as "Up 59 seconds" turns into "Up About a minute".
fn status_budget(c: &ContainerRecord, now: DateTime<Utc>) -> usize {
    let text = status_text_at(c, now).chars().count();
    let since = match c.state.status {
        Status::Running => c.state.started_at,
        Status::Exited | Status::Restarting => c.state.finished_at,
        Status::Created => None,
    };
    let later = since.map_or(0, |t| {
        status_text_at(c, t + chrono::Duration::seconds(90))
            .chars()
            .count()
    });
    text.max(later)
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
        .unwrap_or(NAME_MIN)
        .clamp(NAME_MIN, 32) as u16;
    let status_width = rows
        .iter()
        .map(|c| status_budget(c, app.now))
        .max()
        .unwrap_or(STATUS_MIN)
        .clamp(STATUS_MIN, STATUS_MAX as usize) as u16;
    let ports_width = rows
        .iter()
        .map(|c| ps_ports(c).chars().count() as u16)
        .max()
        .filter(|w| *w > 0)
        .map_or(0, |w| w.clamp(5, PORTS_MAX));
    let shown = columns(
        area.width.saturating_sub(2),
        name_width,
        status_width,
        ports_width,
    );
    // The image takes the room left, as long as its longest name at most: the rest
    // (a wide screen's) goes to the ports, the last column.
    let image_width = rows
        .iter()
        .map(|c| c.image.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(COLUMNS[IMAGE].1 as usize, IMAGE_MAX) as u16;
    let fixed: u16 = shown
        .iter()
        .map(|c| match *c {
            NAME => name_width,
            STATUS => status_width,
            PORTS => ports_width,
            IMAGE => 0,
            other => COLUMNS[other].1,
        })
        .sum::<u16>()
        + shown.len().saturating_sub(1) as u16;
    let image_room = area.width.saturating_sub(2).saturating_sub(fixed);
    let image_fits = image_room.min(image_width).max(COLUMNS[IMAGE].1);
    let header: Vec<Column> = shown
        .iter()
        .map(|c| {
            let width = match *c {
                NAME => Width::Length(name_width),
                STATUS => Width::Length(status_width),
                PORTS => Width::Fill(1),
                IMAGE if shown.contains(&PORTS) => Width::Length(image_fits),
                IMAGE => Width::Fill(1),
                other => Width::Length(COLUMNS[other].1),
            };
            Column::new(header(*c, app.sort), width)
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
        Status::Running if c.state.is_paused() => theme.paused,
        Status::Running => theme.running,
        // A clean exit is nothing to look at; a failed one is.
        Status::Exited if c.state.exit_code.unwrap_or(0) == 0 => theme.dim,
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
        let all = [0, 1, 2, 3, 4, 5, 6, 7, 8, PORTS];
        assert_eq!(columns(200, 10, 17, 20), all);
        // No container publishes a port: no PORTS column.
        assert_eq!(columns(200, 10, 17, 0), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
        // 80 columns: the memory before the container ID, which goes with a name of ten.
        assert_eq!(
            columns(78, 10, 17, 20),
            [0, NAME, IMAGE, STATUS, CPU, MEM, 7]
        );
        assert_eq!(
            columns(78, 6, 17, 20),
            [0, NAME, 2, IMAGE, STATUS, CPU, MEM]
        );
        // 120: the ports and the address before the ID, and the PIDs last.
        assert_eq!(
            columns(118, 6, 17, 20),
            [0, NAME, 2, IMAGE, STATUS, CPU, MEM, IP, PORTS]
        );
        assert_eq!(columns(30, 4, 17, 20), [0, NAME, STATUS, 7]);
    }

    use crate::tui::keymap::Keymap;
    use crate::tui::msg::Msg;
    use crate::tui::once::render_text;
    use crate::tui::snapshot::Snapshot;
    use crate::tui::update::testing::container;
    use crate::tui::update::update;
    use ratatui::backend::TestBackend;
    use ratatui::style::Style;
    use ratatui::Terminal;

    fn app_over(containers: Vec<ContainerRecord>) -> App {
        let mut app = App::new(Keymap::default());
        let snapshot = Snapshot {
            containers,
            ..Default::default()
        };
        update(&mut app, Msg::Loaded(Ok(Box::new(snapshot))));
        app
    }

    fn names(app: &App) -> Vec<&str> {
        app.visible_containers()
            .iter()
            .map(|c| c.name.as_str())
            .collect()
    }

    /// The header row of a frame.
    fn header_of(frame: &str) -> &str {
        frame.lines().nth(2).unwrap()
    }

    #[test]
    fn running_first_then_by_name_and_the_sort_column_has_an_arrow() {
        // Newest first as the engine lists them: the never-started ones lead.
        let mut app = app_over(vec![
            container("new-10", Status::Created, 1),
            container("new-2", Status::Created, 2),
            container("web", Status::Running, 3),
            container("old", Status::Exited, 4),
            container("api", Status::Running, 5),
        ]);
        assert_eq!(names(&app), ["api", "web", "new-2", "new-10", "old"]);
        let frame = render_text(&app, 120, 12);
        assert!(header_of(&frame).contains("STATUS ↑"), "{frame}");
        assert!(frame.contains("by running first"), "{frame}");
        // web stays selected wherever a sort moves it.
        app.containers.selected = 1;
        let mut sorts = Vec::new();
        for _ in 0..5 {
            crate::tui::update::apply(&mut app, crate::tui::action::Action::Sort);
            let frame = render_text(&app, 120, 12);
            sorts.push((
                app.sort,
                names(&app).join(" "),
                header_of(&frame).to_owned(),
            ));
            assert_eq!(app.selected_container().unwrap().name, "web");
        }
        assert_eq!(sorts[0].0, ContainerSort::Name);
        assert_eq!(sorts[0].1, "api new-2 new-10 old web");
        assert!(sorts[0].2.contains("NAME ↑") && !sorts[0].2.contains("STATUS ↑"));
        assert_eq!(sorts[1].0, ContainerSort::Created);
        assert_eq!(sorts[1].1, "new-10 new-2 web old api");
        assert!(!sorts[1].2.contains('↑') && !sorts[1].2.contains('↓'));
        assert!(sorts[2].2.contains("CPU % ↓"), "{}", sorts[2].2);
        assert!(sorts[3].2.contains("MEM / LIMIT ↓"), "{}", sorts[3].2);
        assert_eq!(sorts[4].0, ContainerSort::Status);
    }

    #[test]
    fn the_columns_stay_put_as_the_status_clock_moves() {
        let mut web = container("web", Status::Running, 100);
        let mut app = app_over(vec![web.clone()]);
        let start = app.now - chrono::Duration::seconds(58);
        web.state.started_at = Some(start);
        app.snapshot.containers = vec![web];
        let mut headers = Vec::new();
        for secs in [58, 59, 61, 600, 4000] {
            app.now = start + chrono::Duration::seconds(secs);
            let frame = render_text(&app, 120, 8);
            headers.push(header_of(&frame).to_owned());
        }
        assert!(headers.windows(2).all(|w| w[0] == w[1]), "{headers:#?}");
    }

    /// Draws the app and gives the style of the cell where `text` starts.
    fn style_at(app: &App, text: &str) -> Style {
        let mut terminal = Terminal::new(TestBackend::new(120, 10)).unwrap();
        terminal
            .draw(|frame| crate::tui::render::draw(frame, app, &app.theme))
            .unwrap();
        let buffer = terminal.backend().buffer().clone();
        let frame = crate::tui::once::buffer_text(&buffer);
        let (y, line) = frame
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains(text))
            .unwrap_or_else(|| panic!("{text} not in\n{frame}"));
        let x = line[..line.find(text).unwrap()].chars().count();
        buffer[(x as u16, y as u16)].style()
    }

    #[test]
    fn a_clean_exit_is_dim_a_failed_one_red_and_a_paused_container_its_own_colour() {
        let mut clean = container("clean", Status::Exited, 1);
        clean.state.exit_code = Some(0);
        let mut failed = container("failed", Status::Exited, 2);
        failed.state.exit_code = Some(3);
        let mut paused = container("paused", Status::Running, 3);
        paused.state.paused = true;
        let mut app = app_over(vec![
            container("a-sel", Status::Running, 0),
            clean,
            failed,
            paused,
            container("fresh", Status::Created, 4),
        ]);
        app.theme = crate::tui::theme::Theme::built_in("light").unwrap();
        let theme = app.theme.clone();
        let fg = |style: Style| style.fg;
        assert_eq!(fg(style_at(&app, "Exited (0)")), theme.dim.fg);
        assert_eq!(fg(style_at(&app, "Exited (3)")), theme.exited.fg);
        assert_eq!(fg(style_at(&app, "(Paused)")), theme.paused.fg);
        assert_eq!(fg(style_at(&app, "Created")), theme.created.fg);
        assert_ne!(theme.paused.fg, theme.running.fg);
        assert_ne!(theme.dim.fg, theme.exited.fg);
    }
}
