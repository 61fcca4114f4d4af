//! The containers pane: one row per container with its state and live resource use.

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::Frame;

use super::table::{Column, PaneTable, TableCell, TableRow, Width};
use crate::engine::{ContainerRecord, HealthStatus, Status};
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
    ("PORTS", 5),
];
const NAME: usize = 1;
const ID: usize = 2;
const IMAGE: usize = 3;
const STATUS: usize = 4;
const CPU: usize = 5;
const MEM: usize = 6;
const PIDS: usize = 7;
const IP: usize = 8;
const PORTS: usize = 9;
/// The PORTS column's width at most when choosing the columns; with room to spare, a
/// longer list gets more.
const PORTS_MAX: u16 = 40;
/// The longest status text, "Exited (137) Less than a second ago" and the like.
const STATUS_MAX: u16 = 33;
/// The short status column's width at least: "Exited (125) 59m ago", so the columns of a
/// narrow list stay the same whatever the statuses.
const SHORT_STATUS: u16 = 20;
/// The narrowest name and status columns: their headers with the sort arrow.
const NAME_MIN: usize = 6;
const STATUS_MIN: usize = 8;
/// Which columns a narrow terminal keeps, most important first: the CPU and memory before
/// the container ID (the name says which it is), the ports and address before the ID too.
const PRIORITY: [usize; 10] = [0, NAME, STATUS, IMAGE, CPU, MEM, PORTS, IP, ID, PIDS];

/// What the rows need: the longest name, status (for a while), image and ports list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Wants {
    name: u16,
    status: u16,
    /// The status in its short form (`short_status`).
    status_short: u16,
    image: u16,
    /// 0: no container publishes a port.
    ports: u16,
}

/// The columns that fit in `width`, in table order, with their widths. Less important
/// columns drop first; an empty PORTS column (no container publishes one) is shown, as
/// `docker ps` does, only with room after every other and beside the address. The image counts at its narrowest
/// when choosing; the room left goes to the ports list, then to the image, each up to its
/// longest, and the rest stays blank at the right, so no column is wider than what it
/// holds.
fn columns(width: u16, wants: Wants) -> Vec<(usize, u16)> {
    let image_min = wants
        .image
        .clamp(COLUMNS[IMAGE].0.len() as u16, COLUMNS[IMAGE].1);
    let ports_min = wants.ports.clamp(COLUMNS[PORTS].1, PORTS_MAX);
    let priority = PRIORITY
        .into_iter()
        .filter(|c| *c != PORTS || wants.ports > 0)
        .chain((wants.ports == 0).then_some(PORTS));
    let mut used = 0u16;
    let mut shown: Vec<(usize, u16)> = Vec::new();
    for column in priority {
        let width_of = match column {
            NAME => wants.name,
            STATUS => wants.status,
            IMAGE => image_min,
            PORTS => ports_min,
            other => COLUMNS[other].1,
        };
        // Each column after the first is preceded by one space.
        let need = width_of + u16::from(!shown.is_empty());
        if used + need > width && shown.len() >= 3 {
            continue;
        }
        // An empty PORTS goes with the address, as a wide `docker ps` shows both.
        if column == PORTS && wants.ports == 0 && !shown.iter().any(|(c, _)| *c == IP) {
            continue;
        }
        used += need;
        shown.push((column, width_of));
    }
    let mut spare = width.saturating_sub(used);
    for (column, longest) in [(PORTS, wants.ports), (IMAGE, wants.image)] {
        if let Some((_, w)) = shown.iter_mut().find(|(c, _)| *c == column) {
            let more = longest.saturating_sub(*w).min(spare);
            *w += more;
            spare -= more;
        }
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

/// The status as a narrow list shows it, as k9s and oxker do: the clock in one unit
/// ("Up 3h", "Exited (125) 1m ago", "Up 2d (Paused)"), the rest as Docker's; and the
/// room it needs for a while (the clock counted at three characters, "59s" or "23h", so
/// the column stays put as it ticks).
fn short_status(c: &ContainerRecord, now: DateTime<Utc>) -> (String, usize) {
    let clock = |since: Option<DateTime<Utc>>| {
        let secs = since.map_or(0, |t| (now - t).num_seconds().max(0));
        match secs {
            0..=59 => format!("{secs}s"),
            60..=3599 => format!("{}m", secs / 60),
            3600..=172_799 => format!("{}h", secs / 3600),
            _ => format!("{}d", secs / 86_400),
        }
    };
    let (text, clock_len) = match c.state.status {
        Status::Running => {
            let up = clock(c.state.started_at);
            let note = if c.state.is_paused() {
                " (Paused)"
            } else {
                match c.state.health.as_ref().map(|h| h.status) {
                    Some(HealthStatus::Starting) => " (starting)",
                    Some(HealthStatus::Healthy) => " (healthy)",
                    Some(HealthStatus::Unhealthy) => " (unhealthy)",
                    _ => "",
                }
            };
            (format!("Up {up}{note}"), up.len())
        }
        Status::Exited | Status::Restarting => {
            let word = match c.state.status {
                Status::Exited => "Exited",
                _ => "Restarting",
            };
            let code = c.state.exit_code.unwrap_or(0);
            match c.state.finished_at {
                Some(t) => {
                    let ago = clock(Some(t));
                    (format!("{word} ({code}) {ago} ago"), ago.len())
                }
                None => (format!("{word} ({code})"), 3),
            }
        }
        Status::Created => ("Created".to_owned(), 3),
    };
    let budget = text.chars().count() + 3usize.saturating_sub(clock_len);
    (text, budget)
}

/// The columns for `width`, and whether the statuses take their short form (then with
/// the status column's width, their text cut to it if need be). Docker's words where the
/// longest of them leaves room for the memory column; narrower, the short form in a
/// column of at least [`SHORT_STATUS`], whatever the statuses say, so the columns do not
/// come and go as containers stop and start; a short status still too long (a name
/// taking the room) is cut so the memory column stays.
fn fit(width: u16, wants: Wants) -> (Vec<(usize, u16)>, Option<u16>) {
    let has = |set: &[(usize, u16)], column| set.iter().any(|(c, _)| *c == column);
    let longest = Wants {
        status: STATUS_MAX,
        ..wants
    };
    if has(&columns(width, longest), MEM) {
        return (columns(width, wants), None);
    }
    let mut status = wants.status_short.max(SHORT_STATUS);
    let mut shown = columns(width, Wants { status, ..wants });
    while !has(&shown, MEM) && status > STATUS_MIN as u16 {
        status -= 1;
        shown = columns(width, Wants { status, ..wants });
    }
    (shown, Some(status))
}

/// `text` cut to `width` columns, its end an ellipsis.
fn cut(text: String, width: usize) -> String {
    if text.chars().count() <= width {
        return text;
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The widths `rows` want at `now`. Names are short and matter most: as wide as the
/// longest, within reason. Widths follow every row, not only those on screen, so columns
/// stay put while scrolling. Measuring formats every row's status and ports, a millisecond
/// or more over a thousand containers: the answer is kept for the rows and the second it
/// was worked out for, so a key that only moves the cursor does not measure again.
fn wants_of(rows: &[&ContainerRecord], now: DateTime<Utc>) -> Wants {
    thread_local! {
        static LAST: std::cell::Cell<Option<(u64, Wants)>> = const { std::cell::Cell::new(None) };
    }
    let key = rows_key(rows, now);
    if let Some((last, wants)) = LAST.get() {
        if last == key {
            return wants;
        }
    }
    let longest = |width: &dyn Fn(&ContainerRecord) -> usize| {
        rows.iter().map(|c| width(c)).max().unwrap_or(0)
    };
    let wants = Wants {
        name: longest(&|c| c.name.chars().count()).clamp(NAME_MIN, 32) as u16,
        status: longest(&|c| status_budget(c, now)).clamp(STATUS_MIN, STATUS_MAX as usize) as u16,
        status_short: longest(&|c| short_status(c, now).1).clamp(STATUS_MIN, STATUS_MAX as usize)
            as u16,
        image: longest(&|c| c.image.chars().count()).min(u16::MAX as usize) as u16,
        ports: longest(&|c| ps_ports(c).chars().count()).min(u16::MAX as usize) as u16,
    };
    LAST.set(Some((key, wants)));
    wants
}

/// What the widths of `rows` depend on, hashed: each row's name, image, state and ports,
/// and the second `now` falls in. Worked out at every frame over every row: with a fast
/// hash (SipHash over a thousand rows was a tenth of the frame), of what the widths read
/// only (not the 64-character IDs).
fn rows_key(rows: &[&ContainerRecord], now: DateTime<Utc>) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut hasher = foldhash::fast::FixedState::with_seed(0).build_hasher();
    now.timestamp().hash(&mut hasher);
    rows.len().hash(&mut hasher);
    for c in rows {
        c.name.hash(&mut hasher);
        c.image.hash(&mut hasher);
        (c.state.status as u8).hash(&mut hasher);
        c.state.exit_code.hash(&mut hasher);
        c.state.started_at.hash(&mut hasher);
        c.state.finished_at.hash(&mut hasher);
        c.state.is_paused().hash(&mut hasher);
        c.config.network.ports.len().hash(&mut hasher);
    }
    hasher.finish()
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
    let (widths, short) = fit(area.width.saturating_sub(2), wants_of(&rows, app.now));
    let shown: Vec<usize> = widths.iter().map(|(c, _)| *c).collect();
    let header: Vec<Column> = widths
        .iter()
        .map(|(c, w)| Column::new(header(*c, app.sort), Width::Length(*w)))
        .collect();
    let table = PaneTable {
        title,
        columns: &header,
        empty: &empty,
    };
    table.draw(frame, area, theme, &rows, &app.containers, |c, selected| {
        row(app, c, selected, theme, &shown, short)
    });
}

/// A container's row: the cells of the `shown` columns; `short`: the status in its short
/// form, cut to this width.
fn row(
    app: &App,
    c: &ContainerRecord,
    selected: bool,
    theme: &Theme,
    shown: &[usize],
    short: Option<u16>,
) -> TableRow {
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
            text: match short {
                Some(width) => cut(short_status(c, app.now).0, width.into()),
                None => status_text_at(c, app.now),
            },
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

    /// The columns of `columns`, without their widths.
    fn which(width: u16, wants: Wants) -> Vec<usize> {
        columns(width, wants).into_iter().map(|(c, _)| c).collect()
    }

    fn wants(name: u16, status: u16, image: u16, ports: u16) -> Wants {
        Wants {
            name,
            status,
            status_short: status,
            image,
            ports,
        }
    }

    #[test]
    fn narrow_tables_keep_name_and_status_and_drop_the_rest_by_priority() {
        let all = [0, NAME, ID, IMAGE, STATUS, CPU, MEM, PIDS, IP, PORTS];
        assert_eq!(which(200, wants(10, 17, 10, 20)), all);
        // No container publishes a port: PORTS still shows, empty, with room for all.
        assert_eq!(which(200, wants(10, 17, 10, 0)), all);
        // 80 columns: the memory before the container ID, which goes with a name of ten.
        assert_eq!(
            which(78, wants(10, 17, 10, 20)),
            [0, NAME, IMAGE, STATUS, CPU, MEM, PIDS]
        );
        assert_eq!(
            which(78, wants(6, 17, 10, 20)),
            [0, NAME, ID, IMAGE, STATUS, CPU, MEM]
        );
        // 120: the ports and the address before the ID, and the PIDs last.
        assert_eq!(
            which(118, wants(6, 17, 10, 20)),
            [0, NAME, ID, IMAGE, STATUS, CPU, MEM, IP, PORTS]
        );
        // Without ports, an empty PORTS column comes after everything else.
        assert_eq!(
            which(104, wants(6, 17, 10, 0)),
            [0, NAME, ID, IMAGE, STATUS, CPU, MEM, PIDS, IP]
        );
        assert_eq!(which(118, wants(6, 17, 10, 0)), all);
        assert_eq!(which(30, wants(4, 17, 10, 20)), [0, NAME, STATUS, PIDS]);
        // 80 columns, no ports: no empty PORTS column without the address beside it.
        assert_eq!(
            which(78, wants(6, 21, 7, 0)),
            [0, NAME, IMAGE, STATUS, CPU, MEM, PIDS]
        );
    }

    #[test]
    fn spare_width_goes_to_the_ports_then_the_image_each_up_to_its_longest() {
        let width_of = |shown: &[(usize, u16)], column| {
            shown.iter().find(|(c, _)| *c == column).map(|(_, w)| *w)
        };
        // 158 columns, short image, no ports: nothing wider than it holds, the rest blank.
        let wide = columns(158, wants(6, 21, 7, 0));
        assert_eq!(width_of(&wide, IMAGE), Some(7));
        assert_eq!(width_of(&wide, PORTS), Some(5));
        assert_eq!(width_of(&wide, IP), Some(15));
        let used: u16 = wide.iter().map(|(_, w)| w + 1).sum::<u16>() - 1;
        assert!(used < 158, "{wide:?}");
        // A long ports list gets its whole width before a long image gets more than ten:
        // every column at its narrowest takes 145 (the ports 40), 35 are spare.
        let busy = columns(180, wants(6, 21, 60, 70));
        assert_eq!(width_of(&busy, PORTS), Some(70));
        assert_eq!(width_of(&busy, IMAGE), Some(15));
        let used: u16 = busy.iter().map(|(_, w)| w + 1).sum::<u16>() - 1;
        assert_eq!(used, 180, "{busy:?}");
        // With room for both, each its longest.
        let both = columns(300, wants(6, 21, 60, 70));
        assert_eq!(width_of(&both, IMAGE), Some(60));
        assert_eq!(width_of(&both, PORTS), Some(70));
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

    /// The widths are kept for a set of rows and a second, and worked out again as soon
    /// as a row changes within that second.
    #[test]
    fn the_kept_widths_follow_a_change_of_rows_within_the_second() {
        let web = container("web", Status::Running, 1);
        let mut longer = web.clone();
        longer.name = "a-much-longer-name".into();
        let now = Utc::now();
        let first = wants_of(&[&web], now);
        assert_eq!(wants_of(&[&web], now), first);
        let renamed = wants_of(&[&longer], now);
        assert_eq!(renamed.name, "a-much-longer-name".len() as u16);
        assert!(renamed.name > first.name);
        let mut stopped = web.clone();
        stopped.state.status = Status::Exited;
        stopped.state.exit_code = Some(137);
        stopped.state.finished_at = Some(now);
        assert_ne!(wants_of(&[&stopped], now).status, first.status);
    }

    /// web publishes a port from a short image, db runs a long one without ports, job
    /// and old never ran or stopped: the list at 80, 120 and 160 columns.
    #[test]
    fn the_list_frames_at_80_120_and_160_columns() {
        use crate::engine::{NetworkMode, PortMapping, Proto};
        let mut web = container("web", Status::Running, 1);
        web.image = "nginx:1.27-alpine".into();
        web.config.network.mode = NetworkMode::Connected;
        web.state.ports = vec![PortMapping {
            host_ip: None,
            host_port: 8080,
            container_port: 80,
            proto: Proto::Tcp,
        }];
        let mut db = container("db", Status::Running, 2);
        db.image = "registry.example.com/team/postgres:16.4-bookworm".into();
        let mut old = container("old", Status::Exited, 4);
        old.state.exit_code = Some(137);
        let mut app = app_over(vec![web, db, container("job", Status::Created, 3), old]);
        for (i, c) in app.snapshot.containers.iter_mut().enumerate() {
            c.id = format!("{:0<64}", format!("c{i}ab")).parse().unwrap();
        }
        insta::assert_snapshot!("containers_80x24", render_text(&app, 80, 24));
        insta::assert_snapshot!("containers_120x40", render_text(&app, 120, 40));
        insta::assert_snapshot!("containers_160x45", render_text(&app, 160, 45));
        // Without the port, an empty PORTS column still shows where there is room.
        app.snapshot.containers[0].state.ports.clear();
        let wide = render_text(&app, 160, 45);
        assert!(header_of(&wide).contains("PORTS"), "{wide}");
        assert!(!header_of(&render_text(&app, 80, 24)).contains("PORTS"));
    }

    /// A long status ("Exited (125) About a minute ago") at 80 columns: the statuses
    /// take their short form, the memory column and the 80x24 column set stay, and the
    /// widths stay put as the clocks move; wide screens keep Docker's words.
    #[test]
    fn a_long_status_at_80_columns_goes_short_and_keeps_the_memory_column() {
        let mut app = app_over(Vec::new());
        let now = app.now;
        let mut web = container("web", Status::Running, 20_000);
        web.image = "nginx:1.27-alpine".into();
        web.state.started_at = Some(now - chrono::Duration::hours(3));
        let mut failed = container("failed", Status::Exited, 30_000);
        failed.state.exit_code = Some(125);
        failed.state.finished_at = Some(now - chrono::Duration::seconds(70));
        let mut paused = container("paused", Status::Running, 40_000);
        paused.state.started_at = Some(now - chrono::Duration::days(3));
        paused.state.paused = true;
        let mut all = vec![
            web,
            failed,
            paused,
            container("job", Status::Created, 50_000),
        ];
        for (i, c) in all.iter_mut().enumerate() {
            c.id = format!("{:0<64}", format!("c{i}ab")).parse().unwrap();
        }
        app.snapshot.containers = all;
        app.show_all = true;
        let long = status_text_at(&app.snapshot.containers[1], now);
        assert_eq!(long, "Exited (125) About a minute ago");
        let frame = render_text(&app, 80, 24);
        insta::assert_snapshot!("containers_80x24_long_status", frame);
        let header = header_of(&frame).to_owned();
        for column in ["NAME", "IMAGE", "STATUS", "CPU %", "MEM / LIMIT"] {
            assert!(header.contains(column), "{column}: {frame}");
        }
        for text in ["Exited (125) 1m ago", "Up 3h", "Up 3d (Paused)", "Created"] {
            assert!(frame.contains(text), "{text}: {frame}");
        }
        // The clocks move: the columns stay.
        for secs in [1, 50, 3000, 90_000, 900_000] {
            app.now = now + chrono::Duration::seconds(secs);
            assert_eq!(header_of(&render_text(&app, 80, 24)), header, "+{secs}s");
        }
        app.now = now;
        // Wide: Docker's text.
        assert!(render_text(&app, 160, 45).contains(&long));
        // A status long even in short form is cut, the memory column kept.
        let mut health = app.snapshot.containers[1].clone();
        health.name = "a-rather-long-name-0123".into();
        health.state.exit_code = Some(-1_000_000);
        app.snapshot.containers.push(health);
        let frame = render_text(&app, 80, 24);
        assert!(header_of(&frame).contains("MEM / LIMIT"), "{frame}");
        assert!(frame.contains('…'), "{frame}");
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
