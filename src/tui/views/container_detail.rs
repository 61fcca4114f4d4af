//! One container in tabs: its configuration, its mounts with their host sources, live
//! stats, its log and its copy-on-write diff.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, Tabs};
use ratatui::Frame;

use super::chart::Chart;
use super::{dim_note, pane};
use crate::engine::{Change, ChangeKind, ContainerRecord, FileType, NetworkMode};
use crate::format::{binary_size, human_size, status_text_at};
use crate::ops::ports::port_lines;
use crate::tui::config::ConfigLine;
use crate::tui::detail::{ContainerDetail, ContainerTab};
use crate::tui::state::App;
use crate::tui::theme::Theme;
use crate::tui::tree;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, detail: &ContainerDetail, theme: &Theme) {
    let Some(record) = app.detail_container() else {
        let gone = dim_note("This container no longer exists.", theme)
            .block(pane(" Container ".into(), theme));
        frame.render_widget(gone, area);
        return;
    };
    let title = format!(
        " {} ({}) {} ",
        record.name,
        record.id.short(),
        status_text_at(record, app.now)
    );
    let block = pane(title, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [tabs_area, body] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    let titles: Vec<&str> = ContainerTab::ALL.iter().map(|t| t.title()).collect();
    let selected = ContainerTab::ALL
        .iter()
        .position(|t| *t == detail.tab)
        .unwrap_or(0);
    frame.render_widget(
        Tabs::new(titles)
            .select(selected)
            .highlight_style(theme.selected)
            .style(theme.dim),
        tabs_area,
    );
    match detail.tab {
        ContainerTab::Config => config(frame, body, detail, theme),
        ContainerTab::Mounts => mounts(frame, body, app, record, theme),
        ContainerTab::Network => network(frame, body, app, record, theme),
        ContainerTab::Stats => stats(frame, body, app, record, theme),
        ContainerTab::Logs => super::logs::draw(frame, body, &detail.logs, theme),
        ContainerTab::Diff => diff(frame, body, detail, theme),
    }
}

/// The tab whose title is at screen `column`, as ratatui's `Tabs` lays them out above:
/// inside the pane's border, a space each side of a title and a divider between them.
pub fn tab_at(column: u16) -> Option<ContainerTab> {
    let mut start = 1;
    for tab in ContainerTab::ALL {
        let end = start + 2 + tab.title().len() as u16;
        if (start..end).contains(&column) {
            return Some(tab);
        }
        start = end + 1;
    }
    None
}

fn field<'a>(name: &'a str, value: String, theme: &Theme) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{name:<12}"), theme.header),
        Span::raw(value),
    ])
}

/// The container's options as the Config tab's lines (see `tui/config.rs`): headings,
/// name-value fields and list entries, scrolled, with a last line saying where the view is
/// when they don't fit.
fn config(frame: &mut Frame, area: Rect, detail: &ContainerDetail, theme: &Theme) {
    let Some(config) = &detail.config else {
        frame.render_widget(dim_note("Reading the configuration…", theme), area);
        return;
    };
    let height = usize::from(area.height);
    let fits = config.len() <= height;
    let rows = if fits {
        height
    } else {
        height.saturating_sub(1)
    };
    let top = detail.scroll.min(config.len().saturating_sub(rows));
    detail
        .scroll_room
        .set((rows, config.len().saturating_sub(rows)));
    let mut lines: Vec<Line> = config[top..]
        .iter()
        .take(rows)
        .map(|line| match line {
            ConfigLine::Heading(heading) => Line::styled(format!("{heading}:"), theme.title),
            ConfigLine::Field { name, value } => field(name, value.clone(), theme),
            ConfigLine::Item(item) => Line::raw(format!("  {item}")),
        })
        .collect();
    if !fits {
        let shown = (top + rows).min(config.len());
        lines.push(Line::styled(
            format!("lines {}-{shown} of {} (↑/↓ scroll)", top + 1, config.len()),
            theme.dim,
        ));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn mounts(frame: &mut Frame, area: Rect, app: &App, r: &ContainerRecord, theme: &Theme) {
    let mounts = app
        .snapshot
        .mounts
        .get(&r.id)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if mounts.is_empty() {
        let text = "Only the container's own root: no volume, bind or tmpfs mounts.";
        frame.render_widget(dim_note(text, theme), area);
        return;
    }
    let rows = mounts.iter().map(|m| {
        let source = match (&m.host_source, m.spec.source.as_str()) {
            (Some(host), "") => host.display().to_string(),
            (Some(host), name) if m.spec.kind.as_str() == "volume" => {
                format!("{name} → {}", host.display())
            }
            (Some(host), _) => host.display().to_string(),
            (None, _) => "(memory)".into(),
        };
        Row::new([
            m.spec.kind.as_str().to_owned(),
            m.spec.destination.clone(),
            source,
            if m.spec.read_only { "RO" } else { "RW" }.to_owned(),
        ])
    });
    let header = Row::new(["TYPE", "DESTINATION", "HOST SOURCE", "MODE"]).style(theme.header);
    let widths = [
        Constraint::Length(6),
        Constraint::Fill(1),
        Constraint::Fill(2),
        Constraint::Length(4),
    ];
    frame.render_widget(Table::new(rows, widths).header(header), area);
}

/// The container's endpoints (one interface per network) and its published ports.
fn network(frame: &mut Frame, area: Rect, app: &App, r: &ContainerRecord, theme: &Theme) {
    let endpoints = app.snapshot.endpoints_of(&r.id);
    let ports = port_lines(&r.state.ports);
    let [table_area, ports_area] = Layout::vertical([
        Constraint::Length(endpoints.len().max(1) as u16 + 1),
        Constraint::Fill(1),
    ])
    .areas(area);
    if endpoints.is_empty() {
        let text = match r.config.network.mode {
            NetworkMode::Host => "The host's network (--network host): no interface of its own.",
            _ => "Loopback only: no network connected.",
        };
        frame.render_widget(dim_note(text, theme), table_area);
    } else {
        // A narrow screen keeps what tells the interfaces apart; the gateway and aliases
        // go first.
        let wide = area.width >= 110;
        let rows = endpoints.iter().map(|(n, e)| {
            let veth = match &e.port {
                Some(port) => format!("{} ({})", e.host_veth, port.oper.as_str()),
                None if e.host_veth.is_empty() => "-".to_owned(),
                None => format!("{} (absent)", e.host_veth),
            };
            let mut cells = vec![
                e.interface.clone(),
                n.name.clone(),
                e.address.map_or("-".into(), |a| a.to_string()),
                e.mac.clone(),
                veth,
            ];
            if wide {
                cells.insert(4, n.gateway.map_or("-".into(), |g| g.to_string()));
                cells.push(e.aliases.join(", "));
            }
            Row::new(cells)
        });
        let mut titles = vec!["IFACE", "NETWORK", "ADDRESS", "MAC", "HOST VETH"];
        let mut widths = vec![
            Constraint::Length(5),
            Constraint::Fill(1),
            Constraint::Length(18),
            Constraint::Length(17),
            Constraint::Length(25),
        ];
        if wide {
            titles.insert(4, "GATEWAY");
            widths.insert(4, Constraint::Length(15));
            titles.push("ALIASES");
            widths.push(Constraint::Fill(1));
        }
        let header = Row::new(titles).style(theme.header);
        frame.render_widget(Table::new(rows, widths).header(header), table_area);
    }
    let mut lines = vec![Line::raw(""), field("Ports", String::new(), theme)];
    if ports.is_empty() {
        lines.push(Line::styled("  none published", theme.dim));
    }
    lines.extend(ports.into_iter().map(|p| Line::raw(format!("  {p}"))));
    frame.render_widget(Paragraph::new(lines), ports_area);
}

/// The numbers, then a chart each for CPU, memory, network and block I/O (rates from the
/// container's side: rx is what it received).
fn stats(frame: &mut Frame, area: Rect, app: &App, r: &ContainerRecord, theme: &Theme) {
    let Some(s) = app.stats.latest.get(&r.id) else {
        let text = "No stats: the container is not running (or the first sample is on its way).";
        frame.render_widget(dim_note(text, theme), area);
        return;
    };
    let [numbers, cpu_area, memory_area, net_area, block_area] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Fill(1),
        Constraint::Fill(1),
        Constraint::Fill(1),
        Constraint::Fill(1),
    ])
    .areas(area);
    let lines = vec![
        field("CPU", format!("{:.2} %", s.cpu_percent), theme),
        field(
            "Memory",
            format!(
                "{} / {} ({:.2} %)   PIDs {}",
                binary_size(s.memory_usage),
                binary_size(s.memory_limit),
                s.memory_percent,
                s.pids
            ),
            theme,
        ),
        field(
            "Net I/O",
            format!(
                "{} received / {} sent",
                human_size(s.net_rx),
                human_size(s.net_tx)
            ),
            theme,
        ),
        field(
            "Block I/O",
            format!(
                "{} read / {} written",
                human_size(s.block_read),
                human_size(s.block_write)
            ),
            theme,
        ),
    ];
    frame.render_widget(Paragraph::new(lines), numbers);
    let empty = Vec::new();
    let cpu = app.stats.cpu_history.get(&r.id).unwrap_or(&empty);
    let memory = app.stats.memory_history.get(&r.id).unwrap_or(&empty);
    let io = app.stats.io_history.get(&r.id);
    let percent = |v: u64| format!("{:.2} %", v as f64 / 100.0);
    let rate = |v: u64| format!("{}/s", human_size(v));
    // One series a chart: the sum, with its two parts now in the title.
    let sum = |a: &[u64], b: &[u64]| -> Vec<u64> { a.iter().zip(b).map(|(x, y)| x + y).collect() };
    let last = |v: &[u64]| rate(v.last().copied().unwrap_or(0));
    let (net, net_note) = match io {
        Some(io) => (
            sum(&io.net_rx, &io.net_tx),
            Some(format!("rx {} tx {}", last(&io.net_rx), last(&io.net_tx))),
        ),
        None => (Vec::new(), None),
    };
    let (block, block_note) = match io {
        Some(io) => (
            sum(&io.block_read, &io.block_write),
            Some(format!(
                "read {} write {}",
                last(&io.block_read),
                last(&io.block_write)
            )),
        ),
        None => (Vec::new(), None),
    };
    let chart = |title, note, samples, unit, style, floor| Chart {
        title,
        note,
        samples,
        unit,
        style,
        floor,
    };
    let charts = [
        (
            cpu_area,
            chart("CPU", None, cpu, &percent, theme.running, 100),
        ),
        (
            memory_area,
            chart("Memory", None, memory, &binary_size, theme.changed, 1 << 20),
        ),
        (
            net_area,
            chart("Network rx+tx", net_note, &net, &rate, theme.key, 1024),
        ),
        (
            block_area,
            chart(
                "Block I/O read+write",
                block_note,
                &block,
                &rate,
                theme.created,
                1024,
            ),
        ),
    ];
    for (area, chart) in charts {
        chart.draw(frame, area, theme);
    }
}

fn diff(frame: &mut Frame, area: Rect, detail: &ContainerDetail, theme: &Theme) {
    let Some(changes) = &detail.diff else {
        frame.render_widget(dim_note("Reading the diff…", theme), area);
        return;
    };
    if changes.is_empty() {
        let text = "No changes: the container's filesystem is the image's.";
        frame.render_widget(dim_note(text, theme), area);
        return;
    }
    // Changes-only hides directories that are listed only because something inside changed.
    let shown: Vec<&Change> = changes
        .iter()
        .filter(|c| {
            !detail.changes_only
                || c.kind != ChangeKind::Changed
                || c.file_type != FileType::Dir
                || !changes
                    .iter()
                    .any(|o| o.path.starts_with(&format!("{}/", c.path)))
        })
        .collect();
    let rows = tree::rows(shown.iter().map(|c| c.path.as_str()));
    let height = usize::from(area.height);
    detail
        .scroll_room
        .set((height, rows.len().saturating_sub(height)));
    let lines: Vec<Line> = rows
        .iter()
        .skip(detail.scroll.min(rows.len().saturating_sub(height)))
        .take(area.height as usize)
        .map(|row| {
            let c = shown[row.item];
            let style = match c.kind {
                ChangeKind::Added => theme.added,
                ChangeKind::Changed => theme.changed,
                ChangeKind::Deleted => theme.deleted,
            };
            let mut name = row.name.clone();
            if c.file_type == FileType::Dir {
                name.push('/');
            }
            let size = if c.file_type == FileType::File {
                human_size(c.size)
            } else {
                String::new()
            };
            let layer = c
                .original_layer
                .as_ref()
                .map(|l| format!("  (from layer {})", l.short()))
                .unwrap_or_default();
            Line::from(vec![
                Span::styled(format!("{} ", c.kind.symbol()), style),
                Span::styled(format!("{size:>8} "), theme.dim),
                Span::styled(row.prefix.clone(), theme.border),
                Span::styled(name, style),
                Span::styled(layer, theme.dim),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}
