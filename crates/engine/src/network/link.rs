//! Link operations berth's networks are made of: veth pairs placed straight into a
//! container's namespace, the endpoint's address/MAC/routes, links stacked on a parent,
//! removal. What a single driver alone makes lives with it in `driver/`.

use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;

use ipnet::Ipv4Net;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use nix::errno::Errno;

use super::netlink::Netlink;
use crate::error::{Error, Result};

/// Linux's IFNAMSIZ less the terminating NUL.
pub(crate) const MAX_IFNAME: usize = 15;
/// The loopback device has this index in every network namespace.
const LOOPBACK_INDEX: u32 = 1;

/// Checks an interface name: 1..=15 bytes of letters, digits, '-', '_' and '.', and not
/// "." or "..". The kernel takes more, but these names also go into nftables rules and
/// /proc/sys paths, where a quote or slash could change their meaning.
pub(crate) fn check_ifname(name: &str) -> Result<()> {
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if name.is_empty() || name.len() > MAX_IFNAME || !plain || name == "." || name == ".." {
        return Err(Error::invalid(
            "interface name",
            name,
            format!("use 1 to {MAX_IFNAME} letters, digits, '-', '_' or '.'"),
        ));
    }
    Ok(())
}

/// The ifindex of `name`, or `None` if there is no such link.
pub fn link_index(nl: &mut Netlink, name: &str) -> Result<Option<u32>> {
    Ok(get_link(nl, name)?.map(|link| link.header.index))
}

/// The kernel's description of link `name`, or `None` if there is none.
pub(crate) fn get_link(nl: &mut Netlink, name: &str) -> Result<Option<LinkMessage>> {
    check_ifname(name)?;
    let mut request = LinkMessage::default();
    request.attributes.push(LinkAttribute::IfName(name.into()));
    match nl.try_get(RouteNetlinkMessage::GetLink(request))? {
        Ok(RouteNetlinkMessage::NewLink(link)) => Ok(Some(link)),
        Ok(other) => Err(Error::Runtime(format!(
            "looking up link {name}: unexpected answer {other:?}"
        ))),
        Err(nack) if nack.errno == Errno::ENODEV => Ok(None),
        Err(nack) => Err(nack.into_error(&format!("looking up link {name}"))),
    }
}

/// Turns IPv6 off on link `name` in the calling thread's network namespace: no address,
/// and no router advertisement heard (CVE-2020-13401: a container's RA configured the
/// host). berth's networks are IPv4 only. A kernel without IPv6 has nothing to turn off.
pub fn disable_ipv6(name: &str) -> Result<()> {
    check_ifname(name)?;
    let conf = Path::new("/proc/sys/net/ipv6/conf");
    if !conf.exists() {
        return Ok(());
    }
    let dir = conf.join(name);
    super::firewall::write_sysctl(&dir.join("accept_ra"), "0")?;
    super::firewall::write_sysctl(&dir.join("disable_ipv6"), "1")
}

/// Creates a veth pair in ONE request: `host_name` stays here, enslaved to the bridge
/// `master_index` and up; the peer is created directly inside `container_netns` as
/// `peer_name` (so it is never visible on the host and needs no rename). Returns the host
/// end's ifindex. The kernel makes both ends or neither.
pub fn create_veth(
    nl: &mut Netlink,
    host_name: &str,
    master_index: u32,
    container_netns: BorrowedFd<'_>,
    peer_name: &str,
    mtu: u32,
) -> Result<u32> {
    check_ifname(host_name)?;
    check_ifname(peer_name)?;
    let mut peer = LinkMessage::default();
    peer.attributes = vec![
        LinkAttribute::IfName(peer_name.into()),
        LinkAttribute::Mtu(mtu),
        LinkAttribute::NetNsFd(container_netns.as_raw_fd()),
    ];
    let mut request = LinkMessage::default();
    set_up_flag(&mut request);
    request.attributes = vec![
        LinkAttribute::IfName(host_name.into()),
        LinkAttribute::Mtu(mtu),
        LinkAttribute::Controller(master_index),
        LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
        ]),
    ];
    let what = format!("creating veth {host_name}");
    nl.ack(
        RouteNetlinkMessage::NewLink(request),
        NLM_F_CREATE | NLM_F_EXCL,
        &what,
    )?;
    link_index(nl, host_name)?
        .ok_or_else(|| Error::Runtime(format!("{what}: it vanished right after")))
}

/// How long a container's interface waits for its MAC to be let go by an ended
/// container's link (see `configure_endpoint`), and how often it asks again.
const MAC_RELEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
const MAC_RELEASE_POLL: std::time::Duration = std::time::Duration::from_millis(2);

/// Configures a container's interface from inside its namespace: MAC, address, up,
/// loopback up, and a default route via `gateway` (none for an internal network).
/// An existing default route (from a network connected earlier) is kept, as Docker does.
pub fn configure_endpoint(
    container_netns: BorrowedFd<'_>,
    ifname: &str,
    addr: Ipv4Net,
    mac: [u8; 6],
    gateway: Option<Ipv4Addr>,
) -> Result<()> {
    let mut nl = Netlink::open_in(container_netns)?;
    let index = link_index(&mut nl, ifname)?.ok_or_else(|| {
        Error::Runtime(format!(
            "configuring {ifname}: no such interface in the container's namespace"
        ))
    })?;
    // Before it is up: the container's interface hears no router advertisement either.
    super::netlink::in_netns(container_netns, || disable_ipv6(ifname))?;
    // The MAC is applied before the up flag within one request (the kernel's order).
    let what = format!("setting the MAC of {ifname} and bringing it up");
    let deadline = std::time::Instant::now() + MAC_RELEASE_WAIT;
    loop {
        let mut change = link_by_index(index);
        change.attributes.push(LinkAttribute::Address(mac.to_vec()));
        set_up_flag(&mut change);
        match nl.try_ack(RouteNetlinkMessage::SetLink(change), 0)? {
            Ok(()) => break,
            // The MAC follows the address, which an ended container gives back as it
            // ends (`run --rm` returns with it free), while its own link on the same
            // macvlan parent keeps the MAC until the kernel has torn its namespace down,
            // asynchronously, milliseconds later.
            Err(nack)
                if nack.errno == Errno::EADDRINUSE && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(MAC_RELEASE_POLL);
            }
            Err(nack) => return Err(nack.into_error(&what)),
        }
    }
    add_address(&mut nl, index, addr, ifname)?;
    set_link_up(&mut nl, LOOPBACK_INDEX, "lo")?;
    if let Some(gateway) = gateway {
        add_default_route(&mut nl, index, gateway, ifname)?;
    }
    Ok(())
}

/// The prefix Docker gives each `--link-local-ip` (IPv4's link-local range, 169.254/16).
pub(crate) const LINK_LOCAL_PREFIX: u8 = 16;

/// Adds `--link-local-ip` addresses to the container's interface `ifname`, each with
/// Docker's /16, from inside its namespace.
pub fn add_link_local_addresses(
    container_netns: BorrowedFd<'_>,
    ifname: &str,
    ips: &[Ipv4Addr],
) -> Result<()> {
    if ips.is_empty() {
        return Ok(());
    }
    let mut nl = Netlink::open_in(container_netns)?;
    let index = link_index(&mut nl, ifname)?.ok_or_else(|| {
        Error::Runtime(format!(
            "adding link-local addresses to {ifname}: no such interface in the container's namespace"
        ))
    })?;
    for ip in ips {
        let addr = Ipv4Net::new(*ip, LINK_LOCAL_PREFIX)
            .map_err(|e| Error::Runtime(format!("address {ip}/{LINK_LOCAL_PREFIX}: {e}")))?;
        add_address(&mut nl, index, addr, ifname)?;
    }
    Ok(())
}

/// Adds `addr` to link `index` (named `name` for messages); an address already there is
/// fine.
pub fn add_address(nl: &mut Netlink, index: u32, addr: Ipv4Net, name: &str) -> Result<()> {
    let mut request = AddressMessage::default();
    request.header.family = AddressFamily::Inet;
    request.header.prefix_len = addr.prefix_len();
    request.header.index = index;
    request.attributes = vec![
        AddressAttribute::Local(IpAddr::V4(addr.addr())),
        AddressAttribute::Address(IpAddr::V4(addr.addr())),
    ];
    if addr.prefix_len() < 31 {
        request
            .attributes
            .push(AddressAttribute::Broadcast(addr.broadcast()));
    }
    match nl.try_ack(
        RouteNetlinkMessage::NewAddress(request),
        NLM_F_CREATE | NLM_F_EXCL,
    )? {
        Err(nack) if nack.errno == Errno::EEXIST => Ok(()),
        other => other.map_err(|nack| nack.into_error(&format!("adding {addr} to {name}"))),
    }
}

/// Sets link `index` up.
pub(crate) fn set_link_up(nl: &mut Netlink, index: u32, name: &str) -> Result<()> {
    let mut change = link_by_index(index);
    set_up_flag(&mut change);
    nl.ack(
        RouteNetlinkMessage::SetLink(change),
        0,
        &format!("bringing {name} up"),
    )
}

fn add_default_route(nl: &mut Netlink, index: u32, gateway: Ipv4Addr, name: &str) -> Result<()> {
    let mut route = RouteMessage::default();
    route.header.address_family = AddressFamily::Inet;
    route.header.table = RouteHeader::RT_TABLE_MAIN;
    route.header.protocol = RouteProtocol::Boot;
    route.header.scope = RouteScope::Universe;
    route.header.kind = RouteType::Unicast;
    route.attributes = vec![
        RouteAttribute::Gateway(RouteAddress::Inet(gateway)),
        RouteAttribute::Oif(index),
    ];
    match nl.try_ack(
        RouteNetlinkMessage::NewRoute(route),
        NLM_F_CREATE | NLM_F_EXCL,
    )? {
        Err(nack) if nack.errno == Errno::EEXIST => Ok(()),
        other => other.map_err(|nack| {
            nack.into_error(&format!("adding the default route via {gateway} on {name}"))
        }),
    }
}

/// A link stacked on `parent` (macvlan/ipvlan) created inside `netns` as `name`.
pub(crate) fn create_sublink(
    nl: &mut Netlink,
    parent: &str,
    info: Vec<LinkInfo>,
    netns: BorrowedFd<'_>,
    name: &str,
    what: &str,
) -> Result<std::result::Result<(), super::netlink::Nack>> {
    check_ifname(name)?;
    let parent_index = link_index(nl, parent)?
        .ok_or_else(|| Error::Runtime(format!("{what}: no such parent interface {parent}")))?;
    let mut request = LinkMessage::default();
    request.attributes = vec![
        LinkAttribute::IfName(name.into()),
        LinkAttribute::Link(parent_index),
        LinkAttribute::NetNsFd(netns.as_raw_fd()),
        LinkAttribute::LinkInfo(info),
    ];
    nl.try_ack(
        RouteNetlinkMessage::NewLink(request),
        NLM_F_CREATE | NLM_F_EXCL,
    )
}

/// Deletes link `name` (for a veth, both ends go). `false` if there was none.
pub fn delete_link(nl: &mut Netlink, name: &str) -> Result<bool> {
    check_ifname(name)?;
    let mut request = LinkMessage::default();
    request.attributes.push(LinkAttribute::IfName(name.into()));
    match nl.try_ack(RouteNetlinkMessage::DelLink(request), 0)? {
        Ok(()) => Ok(true),
        Err(nack) if nack.errno == Errno::ENODEV => Ok(false),
        Err(nack) => Err(nack.into_error(&format!("deleting link {name}"))),
    }
}

/// Deletes the link with ifindex `index`, `name` only saying which in an error (for a
/// veth, both ends go). `false` if there was none.
pub(crate) fn delete_link_index(nl: &mut Netlink, index: u32, name: &str) -> Result<bool> {
    match nl.try_ack(RouteNetlinkMessage::DelLink(link_by_index(index)), 0)? {
        Ok(()) => Ok(true),
        Err(nack) if nack.errno == Errno::ENODEV => Ok(false),
        Err(nack) => Err(nack.into_error(&format!("deleting link {name}"))),
    }
}

pub(crate) fn link_by_index(index: u32) -> LinkMessage {
    let mut message = LinkMessage::default();
    message.header.index = index;
    message
}

pub(crate) fn set_up_flag(message: &mut LinkMessage) {
    message.header.flags |= LinkFlags::Up;
    message.header.change_mask |= LinkFlags::Up;
}

/// The link's kind (bridge, veth, ...) from IFLA_LINKINFO.
pub(crate) fn link_kind(link: &LinkMessage) -> Option<&InfoKind> {
    link.attributes.iter().find_map(|attr| match attr {
        LinkAttribute::LinkInfo(infos) => infos.iter().find_map(|info| match info {
            LinkInfo::Kind(kind) => Some(kind),
            _ => None,
        }),
        _ => None,
    })
}

/// The link's MAC, when it has an Ethernet one.
pub(crate) fn link_mac(link: &LinkMessage) -> Option<[u8; 6]> {
    link.attributes.iter().find_map(|attr| match attr {
        LinkAttribute::Address(bytes) => <[u8; 6]>::try_from(bytes.as_slice()).ok(),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_are_checked() {
        for bad in ["", "a/b", "a b", "1234567890123456", ".", "..", "a:b"] {
            let err = check_ifname(bad).unwrap_err().to_string();
            assert!(err.starts_with("invalid interface name"), "{bad}: {err}");
        }
        check_ifname("eth0").unwrap();
        check_ifname("123456789012345").unwrap();
    }
}
