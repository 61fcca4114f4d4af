//! The bridge driver, Docker's default: a Linux bridge on the host carrying the network's
//! gateway, and per container a veth whose host end is a port of the bridge (hairpin on)
//! and whose peer is made straight inside the container's namespace.
//!
//! What only a bridge needs from the host lives here too: IPv6 off on the bridge and on
//! each host end (no address, no router advertisement heard: CVE-2020-13401), forwarding
//! on, and route_localnet on the bridge so 127.0.0.1 can be published. The last is safe
//! only because the firewall's guard chain drops 127.0.0.0/8 arriving on anything but lo
//! (see `firewall::render`).

use std::net::Ipv4Addr;
use std::os::fd::BorrowedFd;
use std::path::Path;

use ipnet::Ipv4Net;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::link::{
    InfoBridgePort, InfoKind, InfoPortData, InfoPortKind, LinkAttribute, LinkFlags, LinkInfo,
    LinkMessage,
};
use netlink_packet_route::RouteNetlinkMessage;
use nix::errno::Errno;

use super::{HostEnd, NetworkDriver, MTU};
use crate::error::{Error, Result};
use crate::ids::ContainerId;
use crate::network::firewall::write_sysctl;
use crate::network::link::{self, check_ifname};
use crate::network::netlink::Netlink;
use crate::network::record::{Endpoint, NetworkRecord};

/// A bridge network's driver.
pub(crate) struct Bridge<'a> {
    network: &'a NetworkRecord,
    /// The bridge's ifindex, once [`NetworkDriver::create`] made sure it exists.
    index: Option<u32>,
}

impl<'a> Bridge<'a> {
    pub(crate) fn new(network: &'a NetworkRecord) -> Bridge<'a> {
        Bridge {
            network,
            index: None,
        }
    }
}

impl NetworkDriver for Bridge<'_> {
    fn create(&mut self, nl: &mut Netlink) -> Result<()> {
        let network = self.network;
        let prefix = network.subnet.map_or(32, |s| s.prefix_len());
        let gateway = Ipv4Net::new(network.gateway.unwrap_or(Ipv4Addr::UNSPECIFIED), prefix)
            .map_err(|e| Error::Runtime(format!("gateway of {}: {e}", network.name)))?;
        let index = ensure_bridge(nl, &network.bridge, bridge_mac(&network.id), gateway, MTU)?;
        // DNAT from 127.0.0.1 to the bridge needs this, and forwarding needs the other.
        enable_route_localnet(&network.bridge)?;
        enable_ip_forward()?;
        self.index = Some(index);
        Ok(())
    }

    fn remove(&self, nl: &mut Netlink) -> Result<()> {
        let Some(bridge) = self.network.linux_bridge() else {
            return Ok(());
        };
        // Only the bridge this network made (its MAC is pinned from the network's ID):
        // one of the same name another root or the user made is not ours to delete.
        let ours = link::get_link(nl, bridge)?
            .is_some_and(|l| link::link_mac(&l) == Some(bridge_mac(&self.network.id)));
        if ours {
            link::delete_link(nl, bridge)?;
        }
        Ok(())
    }

    fn wire(
        &self,
        nl: &mut Netlink,
        netns: BorrowedFd<'_>,
        container: &ContainerId,
        endpoint: &Endpoint,
    ) -> Result<Option<HostEnd>> {
        let bridge = self.index.ok_or_else(|| {
            Error::Runtime(format!(
                "bridge {} was not made before wiring",
                self.network.bridge
            ))
        })?;
        // Named after the container and its interface (eth1: slot 1), so a person can
        // tell which container a host end serves.
        let slot = endpoint
            .interface
            .trim_start_matches("eth")
            .parse()
            .unwrap_or(0);
        let host = host_veth_name(container.as_str(), slot);
        // A namespace that died a moment ago may still be releasing its veth.
        link::delete_link(nl, &host)?;
        let port = link::create_veth(nl, &host, bridge, netns, &endpoint.interface, MTU)?;
        link::disable_ipv6(&host)?;
        set_hairpin(nl, port, &host)?;
        Ok(Some(HostEnd {
            name: host,
            index: port,
        }))
    }

    fn unwire(&self, nl: &mut Netlink, end: &HostEnd) -> Result<()> {
        // Deleting one end of a veth deletes both.
        link::delete_link_index(nl, end.index, &end.name)?;
        Ok(())
    }
}

/// The host end of a container's veth: "bv", the first 12 characters of the container ID
/// (as `ps` shows it) and the endpoint's slot (0-9, then a-z), 15 bytes at most.
/// Slots beyond 35 wrap; a clash then shows as a clear "File exists" at creation.
pub(crate) fn host_veth_name(container_id: &str, slot: usize) -> String {
    let id: String = container_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let slot = char::from_digit((slot % 36) as u32, 36).unwrap_or('0');
    format!("bv{id}{slot}")
}

/// A bridge's MAC, pinned (so it doesn't follow its ports as they come and go) and
/// derived from its network's ID: locally administered, unicast.
pub(crate) fn bridge_mac(network_id: &str) -> [u8; 6] {
    let mut mac = [0x02, 0x42, 0, 0, 0, 0];
    let bytes = hex::decode(network_id.get(..8).unwrap_or("00000000")).unwrap_or_default();
    for (to, from) in mac[2..].iter_mut().zip(bytes) {
        *to = from;
    }
    mac
}

/// Makes sure the bridge `name` exists with the pinned `mac`, carries `gateway` (the
/// gateway address with the network's prefix) and is up; returns its ifindex. Safe to call
/// on every container start: an existing bridge costs one lookup.
///
/// The MAC is set explicitly because a bridge otherwise takes the lowest MAC among its
/// ports, changing as containers come and go (and breaking the containers' ARP caches).
pub fn ensure_bridge(
    nl: &mut Netlink,
    name: &str,
    mac: [u8; 6],
    gateway: Ipv4Net,
    mtu: u32,
) -> Result<u32> {
    let found = match link::get_link(nl, name)? {
        Some(found) => found,
        None => {
            create_bridge(nl, name, mac, mtu)?;
            link::get_link(nl, name)?.ok_or_else(|| {
                Error::Runtime(format!("creating bridge {name}: it vanished right after"))
            })?
        }
    };
    if link::link_kind(&found) != Some(&InfoKind::Bridge) {
        return Err(Error::Conflict(format!(
            "link {name} exists and is not a bridge"
        )));
    }
    let index = found.header.index;
    // Before it is up, so it never gets an IPv6 address.
    link::disable_ipv6(name)?;
    link::add_address(nl, index, gateway, name)?;
    let has_mac = link::link_mac(&found) == Some(mac);
    let is_up = found.header.flags.contains(LinkFlags::Up);
    if !has_mac || !is_up {
        let mut change = link::link_by_index(index);
        change.attributes.push(LinkAttribute::Address(mac.to_vec()));
        link::set_up_flag(&mut change);
        nl.ack(
            RouteNetlinkMessage::SetLink(change),
            0,
            &format!("bringing bridge {name} up"),
        )?;
    }
    Ok(index)
}

fn create_bridge(nl: &mut Netlink, name: &str, mac: [u8; 6], mtu: u32) -> Result<()> {
    let mut request = LinkMessage::default();
    request.attributes = vec![
        LinkAttribute::IfName(name.into()),
        LinkAttribute::Address(mac.to_vec()),
        LinkAttribute::Mtu(mtu),
        LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Bridge)]),
    ];
    match nl.try_ack(
        RouteNetlinkMessage::NewLink(request),
        NLM_F_CREATE | NLM_F_EXCL,
    )? {
        // Another berth process made it between our lookup and now: just as good.
        Err(nack) if nack.errno == Errno::EEXIST => Ok(()),
        other => other.map_err(|nack| nack.into_error(&format!("creating bridge {name}"))),
    }
}

/// Lets the bridge send a frame back out of the port it came in on, so a container can
/// reach its own published port through the host's address (DNAT turns the packet around
/// at the bridge). `ip link set NAME type bridge_slave hairpin on`.
pub(crate) fn set_hairpin(nl: &mut Netlink, index: u32, name: &str) -> Result<()> {
    let mut change = link::link_by_index(index);
    change.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::PortKind(InfoPortKind::Bridge),
        LinkInfo::PortData(InfoPortData::BridgePort(vec![InfoBridgePort::HairpinMode(
            true,
        )])),
    ]));
    // A port's settings change through NEWLINK on the existing link (SETLINK ignores
    // IFLA_LINKINFO), as iproute2 does.
    nl.ack(
        RouteNetlinkMessage::NewLink(change),
        0,
        &format!("turning hairpin mode on for {name}"),
    )
}

/// Turns on IPv4 forwarding in the caller's network namespace (containers' traffic is
/// routed through the host). Writes only when it is off.
pub fn enable_ip_forward() -> Result<()> {
    write_sysctl(Path::new("/proc/sys/net/ipv4/ip_forward"), "1")
}

/// Lets 127.0.0.1-sourced packets be routed out of `bridge`, which publishing on
/// 127.0.0.1 needs (the DNATed packet keeps its loopback source until masqueraded).
/// What a container could send for 127.0.0.0/8 through it is dropped by the table's guard.
pub fn enable_route_localnet(bridge: &str) -> Result<()> {
    check_ifname(bridge)?;
    write_sysctl(
        &Path::new("/proc/sys/net/ipv4/conf")
            .join(bridge)
            .join("route_localnet"),
        "1",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_veth_names_fit_and_name_the_container() {
        let id = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b";
        assert_eq!(host_veth_name(id, 0), "bv1a2b3c4d5e6f0");
        assert_eq!(host_veth_name(id, 11), "bv1a2b3c4d5e6fb");
        for slot in 0..100 {
            assert!(host_veth_name(id, slot).len() <= link::MAX_IFNAME);
            check_ifname(&host_veth_name(id, slot)).unwrap();
        }
        assert_eq!(host_veth_name("../X y", 1), "bvxy1");
    }

    #[test]
    fn bridges_get_a_pinned_local_mac() {
        let mac = bridge_mac("a1b2c3d4e5f6");
        assert_eq!(mac, [2, 0x42, 0xa1, 0xb2, 0xc3, 0xd4]);
        assert_eq!(bridge_mac("a1b2c3d4e5f6"), mac);
    }
}
