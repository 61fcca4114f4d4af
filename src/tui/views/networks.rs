//! The networks pane: one row per network with its subnet, gateway, containers and
//! bridge; and a network's detail, drawn as its bridge with a line per veth port.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::table::{Column, PaneTable, TableRow, Width};
use super::{dim_note, pane};
use crate::engine::{EndpointState, LinkRates, NetworkDriver, NetworkState, OperState};
use crate::format::human_size;
use crate::tui::detail::NetworkDetail;
use crate::tui::state::App;
use crate::tui::theme::Theme;

/// Below this width the gateway column goes (it is the subnet's first address unless
/// the user chose another).
const GATEWAY_FROM: u16 = 96;
/// From this width a port is drawn on one line; below, on two.
const ONE_LINE_FROM: u16 = 120;

const COLUMNS: [Column; 6] = [
    Column::new("NAME", Width::Widest(30)),
    Column::new("DRIVER", Width::Widest(7)),
    Column::new("SUBNET", Width::Widest(18)),
    Column::new("GATEWAY", Width::Widest(15)),
    Column::new("CONTAINERS", Width::Length(10)),
    Column::new("BRIDGE", Width::Fill(1)),
];
const GATEWAY: usize = 3;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let rows = app.visible_networks();
    let empty = if !app.loaded {
        "Reading the engine…"
    } else if app.snapshot.networks.is_empty() {
        "No networks. Create one:  :network create NAME"
    } else {
        "No network matches."
    };
    let gateway = area.width >= GATEWAY_FROM;
    let mut columns = Vec::from(COLUMNS);
    if !gateway {
        columns.remove(GATEWAY);
    }
    let table = PaneTable {
        title: format!(" Networks ({}) ", rows.len()),
        columns: &columns,
        empty,
    };
    table.draw(frame, area, theme, &rows, &app.networks, |n, _| {
        let mut cells = vec![
            n.name.clone(),
            n.driver.as_str().to_owned(),
            n.subnet.map_or("-".into(), |s| s.to_string()),
            n.gateway.map_or("-".into(), |g| g.to_string()),
            n.endpoints.len().to_string(),
            bridge_text(n),
        ];
        if !gateway {
            cells.remove(GATEWAY);
        }
        TableRow::new(cells, app.marked.contains(&n.id))
    });
}

/// "berth0 up"; "berth0 (not made yet)" before a container first starts on it.
fn bridge_text(n: &NetworkState) -> String {
    match (&n.bridge, n.driver) {
        (Some(link), _) => format!("{} {}", n.bridge_name, link.oper.as_str()),
        (None, NetworkDriver::Bridge) => format!("{} (not made yet)", n.bridge_name),
        (None, _) => "-".to_owned(),
    }
}

/// The open network: a header of its settings, its bridge as a box, and under it a line
/// per veth port down to the container behind it.
pub fn draw_detail(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    detail: &NetworkDetail,
    theme: &Theme,
) {
    let Some(network) = app.detail_network() else {
        let gone = dim_note(&format!("Network {} no longer exists.", detail.name), theme)
            .block(pane(" Network ".into(), theme));
        frame.render_widget(gone, area);
        return;
    };
    let title = format!(" Network {} ({}) ", network.name, network.driver);
    let block = pane(title, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = vec![settings(network, theme), Line::raw("")];
    let ports = &network.endpoints;
    match network.driver {
        NetworkDriver::Bridge => lines.extend(bridge_box(network, theme)),
        NetworkDriver::Host => lines.push(Line::styled(
            "Containers on this network share the host's interfaces.",
            theme.dim,
        )),
        NetworkDriver::Null => lines.push(Line::styled(
            "Containers on this network have loopback only.",
            theme.dim,
        )),
        NetworkDriver::Macvlan | NetworkDriver::Ipvlan => lines.push(Line::styled(
            "Each container's interface sits on the parent interface: no host end.",
            theme.dim,
        )),
    }
    if ports.is_empty() {
        lines.push(Line::styled("   no containers connected", theme.dim));
    }
    let one_line = inner.width >= ONE_LINE_FROM;
    let name_width = ports
        .iter()
        .map(|e| e.container_name.chars().count() + 1 + e.interface.len())
        .max()
        .unwrap_or(0)
        .min(32);
    // The diagram's head stays; the ports scroll under it.
    let head = lines.len();
    let per_port = if one_line { 1 } else { 2 };
    let room = usize::from(inner.height).saturating_sub(head) / per_port;
    let first = detail.scroll.min(ports.len().saturating_sub(room.max(1)));
    for (i, endpoint) in ports.iter().enumerate().skip(first).take(room) {
        let last = i + 1 == ports.len();
        let rates = detail.rates.get(&endpoint.host_veth);
        lines.extend(port_lines(
            endpoint, last, one_line, name_width, rates, theme,
        ));
    }
    if first + room < ports.len() {
        let more = ports.len() - first - room;
        if let Some(line) = lines.last_mut() {
            line.push_span(Span::styled(format!("  (+{more} below)"), theme.dim));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn settings<'a>(n: &NetworkState, theme: &Theme) -> Line<'a> {
    let mut spans = Vec::new();
    let mut field = |name: &str, value: String| {
        spans.push(Span::styled(format!("{name} "), theme.header));
        spans.push(Span::raw(format!("{value}  ")));
    };
    field("subnet", n.subnet.map_or("-".into(), |s| s.to_string()));
    field("gateway", n.gateway.map_or("-".into(), |g| g.to_string()));
    field("internal", if n.internal { "yes" } else { "no" }.into());
    // The ID is left to the JSON and the yank key: cut at 80 columns it would mislead.
    field("containers", n.endpoints.len().to_string());
    Line::from(spans)
}

/// The bridge as a box: name, state, addresses, MTU and MAC, with a stem for the ports.
fn bridge_box<'a>(n: &NetworkState, theme: &Theme) -> Vec<Line<'a>> {
    let (state, detail) = match &n.bridge {
        Some(link) => {
            let addresses: Vec<String> = link.addresses.iter().map(|a| a.to_string()).collect();
            let detail = format!(
                "{}  mtu {}  {}",
                if addresses.is_empty() {
                    "no address".to_owned()
                } else {
                    addresses.join(" ")
                },
                link.mtu,
                link.mac.as_deref().unwrap_or("-"),
            );
            (Some(link.oper), detail)
        }
        None => (
            None,
            "not made yet: berth makes it when a container starts".into(),
        ),
    };
    let state_text = state.map_or("absent", OperState::as_str);
    let top_text = format!("{}  {state_text}", n.bridge_name);
    let inside = top_text.chars().count().max(detail.chars().count());
    let stem = if n.endpoints.is_empty() { "─" } else { "┬" };
    vec![
        Line::styled(format!(" ┌{}┐", "─".repeat(inside + 2)), theme.border),
        Line::from(vec![
            Span::styled(" │ ", theme.border),
            Span::styled(n.bridge_name.clone(), theme.title),
            Span::raw("  "),
            Span::styled(state_text.to_owned(), oper_style(state, theme)),
            Span::raw(" ".repeat(inside - top_text.chars().count())),
            Span::styled(" │", theme.border),
        ]),
        Line::from(vec![
            Span::styled(" │ ", theme.border),
            Span::styled(format!("{detail:<inside$}"), theme.dim),
            Span::styled(" │", theme.border),
        ]),
        Line::styled(
            format!(" └──{stem}{}┘", "─".repeat(inside.saturating_sub(1))),
            theme.border,
        ),
    ]
}

/// One port: `├─ bv1a2b3c4d5e6f0 up ── web:eth0  10.77.0.2/24  02:42:…  rx 1kB/s tx 0B/s`
/// (what web's eth0 received and sent), or the same over two lines on a narrow screen.
fn port_lines<'a>(
    e: &EndpointState,
    last: bool,
    one_line: bool,
    name_width: usize,
    rates: Option<&LinkRates>,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let (branch, under) = if last {
        ("    └─ ", "       ")
    } else {
        ("    ├─ ", "    │  ")
    };
    let oper = e.port.as_ref().map(|p| p.oper);
    let state = match (&e.port, e.host_veth.is_empty()) {
        (Some(port), _) if !port.on_bridge => "detached".to_owned(),
        (Some(port), _) => port.oper.as_str().to_owned(),
        (None, true) => "-".to_owned(),
        (None, false) => "absent".to_owned(),
    };
    let veth = if e.host_veth.is_empty() {
        "-".to_owned()
    } else {
        e.host_veth.clone()
    };
    let container = format!("{}:{}", e.container_name, e.interface);
    let address = e.address.map_or("-".into(), |a| a.to_string());
    // The counters are the host end's; the line names the container's interface, so its
    // rates read from the container's side: what it received is what the host end sent.
    let rates = match (rates, &e.port) {
        (Some(r), Some(_)) => format!(
            "rx {}/s  tx {}/s",
            human_size(r.tx_bytes as u64),
            human_size(r.rx_bytes as u64)
        ),
        (None, Some(_)) => "rx …  tx …".to_owned(),
        (_, None) => String::new(),
    };
    let head = vec![
        Span::styled(branch, theme.border),
        Span::raw(format!("{veth:<15} ")),
        Span::styled(format!("{state:<8}"), oper_style(oper, theme)),
        Span::styled("── ", theme.border),
        Span::styled(format!("{container:<name_width$}  "), theme.title),
        Span::raw(format!("{address:<18} ")),
    ];
    let tail = vec![
        Span::styled(format!("{:<17}  ", e.mac), theme.dim),
        Span::styled(rates, theme.info),
    ];
    if one_line {
        vec![Line::from([head, tail].concat())]
    } else {
        let mut second = vec![Span::styled(under, theme.border)];
        second.push(Span::raw(" ".repeat(16)));
        second.extend(tail);
        vec![Line::from(head), Line::from(second)]
    }
}

fn oper_style(state: Option<OperState>, theme: &Theme) -> Style {
    match state {
        Some(OperState::Up) => theme.running,
        Some(_) => theme.exited,
        None => theme.dim,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{ContainerId, PortLink};

    /// The host end's counters, read from the container's side: what the host end sent
    /// is what web received.
    #[test]
    fn a_ports_rates_read_from_the_containers_side() {
        let endpoint = EndpointState {
            container_id: ContainerId::random(),
            container_name: "web".into(),
            interface: "eth0".into(),
            address: None,
            mac: String::new(),
            aliases: Vec::new(),
            host_veth: "bv0".into(),
            port: Some(PortLink {
                index: 3,
                oper: OperState::Up,
                admin_up: true,
                mtu: 1500,
                mac: None,
                master: Some("br0".into()),
                on_bridge: true,
                counters: None,
            }),
        };
        let host_end = LinkRates {
            rx_bytes: 2000.0,
            tx_bytes: 9000.0,
            ..LinkRates::default()
        };
        let lines = port_lines(&endpoint, true, true, 8, Some(&host_end), &Theme::default());
        let text: String = lines[0].spans.iter().map(|s| s.content.as_ref()).collect();
        assert!(text.contains("web:eth0"), "{text}");
        assert!(text.contains("rx 9kB/s  tx 2kB/s"), "{text}");
    }
}
