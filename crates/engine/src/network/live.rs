//! The live state of links for the dashboard: a snapshot with counters (one link dump plus
//! one address dump, taken only when asked), and a subscription to the kernel's link and
//! IPv4 address notifications so a view is live without polling.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsFd, BorrowedFd};

use ipnet::Ipv4Net;
use netlink_packet_core::NetlinkPayload;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkExtentMask, LinkFlags, LinkMessage, State};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::Socket;

use super::link::{link_kind, link_mac};
use super::netlink::{in_netns, parse_datagram, recv_datagram, route_socket, Netlink};
use crate::error::{Context, Result};

/// Multicast groups (linux/rtnetlink.h): link changes and IPv4 address changes.
const RTNLGRP_LINK: u32 = 1;
const RTNLGRP_IPV4_IFADDR: u32 = 5;
/// Datagrams handled per `read_events` call, so a burst of changes cannot keep the caller
/// in one call forever; the rest wait for the next.
const MAX_DATAGRAMS_PER_READ: usize = 256;

/// One link as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkState {
    pub index: u32,
    pub name: String,
    /// "bridge", "veth", "macvlan", ...; `None` for plain devices (lo, physical NICs).
    pub kind: Option<String>,
    /// The bridge this link is a port of.
    pub master: Option<u32>,
    pub mac: Option<[u8; 6]>,
    pub mtu: u32,
    /// Administratively up (IFF_UP).
    pub admin_up: bool,
    pub oper: OperState,
    /// IPv4 addresses; empty in link events (addresses come as their own events).
    pub addresses: Vec<Ipv4Net>,
    pub counters: Option<LinkCounters>,
    /// A veth's peer (or a macvlan's parent) ifindex, in the namespace `link_netnsid`
    /// names when that is set (the peer lives elsewhere), else in this one.
    pub peer_index: Option<u32>,
    pub link_netnsid: Option<i32>,
}

/// Traffic counters (IFLA_STATS64).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LinkCounters {
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
}

/// RFC 2863 operational state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OperState {
    Up,
    Down,
    LowerLayerDown,
    Dormant,
    Testing,
    NotPresent,
    Unknown,
}

impl OperState {
    pub fn as_str(self) -> &'static str {
        match self {
            OperState::Up => "up",
            OperState::Down => "down",
            OperState::LowerLayerDown => "lowerlayerdown",
            OperState::Dormant => "dormant",
            OperState::Testing => "testing",
            OperState::NotPresent => "notpresent",
            OperState::Unknown => "unknown",
        }
    }
}

/// Every link of the socket's namespace with its IPv4 addresses and counters.
pub fn links(nl: &mut Netlink) -> Result<Vec<LinkState>> {
    links_with(nl, true)
}

/// Every link of the socket's namespace with its IPv4 addresses; counters only when
/// `counters` (otherwise the kernel is asked to leave them out of the dump).
pub(crate) fn links_with(nl: &mut Netlink, counters: bool) -> Result<Vec<LinkState>> {
    let mut addresses: HashMap<u32, Vec<Ipv4Net>> = HashMap::new();
    let mut request = AddressMessage::default();
    request.header.family = AddressFamily::Inet;
    for message in nl.dump(
        RouteNetlinkMessage::GetAddress(request),
        "listing addresses",
    )? {
        if let RouteNetlinkMessage::NewAddress(address) = message {
            if let Some((index, net)) = ipv4_address(&address) {
                addresses.entry(index).or_default().push(net);
            }
        }
    }
    let mut request = LinkMessage::default();
    if !counters {
        request
            .attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
    }
    let mut links = Vec::new();
    for message in nl.dump(RouteNetlinkMessage::GetLink(request), "listing links")? {
        if let RouteNetlinkMessage::NewLink(link) = message {
            let mut state = link_state(&link);
            if !counters {
                state.counters = None;
            }
            state.addresses = addresses.remove(&state.index).unwrap_or_default();
            links.push(state);
        }
    }
    Ok(links)
}

/// What a [`LinkWatch`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// A link appeared or changed (state, master, MTU...).
    New(LinkState),
    Removed(LinkState),
    AddressAdded {
        index: u32,
        address: Ipv4Net,
    },
    AddressRemoved {
        index: u32,
        address: Ipv4Net,
    },
    /// The kernel dropped notifications (the socket's queue was full): take a fresh
    /// [`links`] snapshot.
    Lost,
}

/// A subscription to link and IPv4 address changes in one namespace. Non-blocking: wait on
/// [`LinkWatch::as_fd`] (poll, tokio's AsyncFd), then call [`LinkWatch::read_events`].
pub struct LinkWatch {
    socket: Socket,
    buf: Vec<u8>,
}

impl LinkWatch {
    /// Watches the calling thread's network namespace.
    pub fn open() -> Result<LinkWatch> {
        let socket = route_socket().context(|| "opening a netlink route socket".into())?;
        for group in [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR] {
            socket
                .add_membership(group)
                .context(|| format!("joining netlink group {group}"))?;
        }
        socket
            .set_non_blocking(true)
            .context(|| "making the netlink watch non-blocking".into())?;
        Ok(LinkWatch {
            socket,
            buf: Vec::new(),
        })
    }

    /// Watches the network namespace `netns`.
    pub fn open_in(netns: BorrowedFd<'_>) -> Result<LinkWatch> {
        in_netns(netns, LinkWatch::open)
    }

    /// The events queued so far (empty when there are none); never blocks.
    pub fn read_events(&mut self) -> Result<Vec<LinkEvent>> {
        let mut events = Vec::new();
        for _ in 0..MAX_DATAGRAMS_PER_READ {
            match recv_datagram(&self.socket, &mut self.buf) {
                // Notifications come only from the kernel (port 0).
                Ok(from) if from.port_number() != 0 => continue,
                Ok(_) => {}
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(err) if err.raw_os_error() == Some(libc::ENOBUFS) => {
                    events.push(LinkEvent::Lost);
                    continue;
                }
                Err(err) => return Err(err).context(|| "reading link events".into()),
            }
            // A notification this crate cannot parse must not end the subscription: report
            // it as lost so the caller resyncs with a dump.
            let Ok(messages) = parse_datagram(&self.buf) else {
                events.push(LinkEvent::Lost);
                continue;
            };
            for message in messages {
                match message.payload {
                    NetlinkPayload::InnerMessage(inner) => events.extend(link_event(inner)),
                    NetlinkPayload::Overrun(_) => events.push(LinkEvent::Lost),
                    _ => {}
                }
            }
        }
        Ok(events)
    }
}

impl AsFd for LinkWatch {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

fn link_event(message: RouteNetlinkMessage) -> Option<LinkEvent> {
    match message {
        RouteNetlinkMessage::NewLink(link) => Some(LinkEvent::New(link_state(&link))),
        RouteNetlinkMessage::DelLink(link) => Some(LinkEvent::Removed(link_state(&link))),
        RouteNetlinkMessage::NewAddress(address) => ipv4_address(&address)
            .map(|(index, address)| LinkEvent::AddressAdded { index, address }),
        RouteNetlinkMessage::DelAddress(address) => ipv4_address(&address)
            .map(|(index, address)| LinkEvent::AddressRemoved { index, address }),
        _ => None,
    }
}

fn link_state(link: &LinkMessage) -> LinkState {
    let mut state = LinkState {
        index: link.header.index,
        name: String::new(),
        kind: link_kind(link).map(|kind| kind.to_string()),
        master: None,
        mac: link_mac(link),
        mtu: 0,
        admin_up: link.header.flags.contains(LinkFlags::Up),
        oper: OperState::Unknown,
        addresses: Vec::new(),
        counters: None,
        peer_index: None,
        link_netnsid: None,
    };
    for attr in &link.attributes {
        match attr {
            LinkAttribute::IfName(name) => state.name = name.clone(),
            LinkAttribute::Controller(index) => state.master = Some(*index),
            LinkAttribute::Mtu(mtu) => state.mtu = *mtu,
            LinkAttribute::OperState(oper) => state.oper = oper_state(*oper),
            LinkAttribute::Link(index) => state.peer_index = Some(*index),
            LinkAttribute::LinkNetNsId(id) => state.link_netnsid = Some(*id),
            LinkAttribute::Stats64(stats) => {
                state.counters = Some(LinkCounters {
                    rx_bytes: stats.rx_bytes,
                    rx_packets: stats.rx_packets,
                    tx_bytes: stats.tx_bytes,
                    tx_packets: stats.tx_packets,
                })
            }
            _ => {}
        }
    }
    state
}

fn oper_state(state: State) -> OperState {
    match state {
        State::Up => OperState::Up,
        State::Down => OperState::Down,
        State::LowerLayerDown => OperState::LowerLayerDown,
        State::Dormant => OperState::Dormant,
        State::Testing => OperState::Testing,
        State::NotPresent => OperState::NotPresent,
        _ => OperState::Unknown,
    }
}

/// The link index and address of an IPv4 address message.
fn ipv4_address(message: &AddressMessage) -> Option<(u32, Ipv4Net)> {
    // IFA_LOCAL is the interface's own address; IFA_ADDRESS differs only on point-to-point
    // links (where it is the far end), so it is the fallback.
    let find = |local: bool| {
        message.attributes.iter().find_map(|attr| match attr {
            AddressAttribute::Local(IpAddr::V4(addr)) if local => Some(*addr),
            AddressAttribute::Address(IpAddr::V4(addr)) if !local => Some(*addr),
            _ => None,
        })
    };
    let addr: Ipv4Addr = find(true).or_else(|| find(false))?;
    let net = Ipv4Net::new(addr, message.header.prefix_len).ok()?;
    Some((message.header.index, net))
}
