//! The live state of every network, for the dashboard and the CLI: the records joined with
//! the kernel's view of their bridges and veth ports, read in one link dump.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::Serialize;

use super::driver::bridge::host_veth_name;
use super::live::{links_with, LinkCounters, LinkState, OperState};
use super::netlink::Netlink;
use super::record::{Driver, Endpoint, NetworkRecord};
use super::store::derive_endpoints;
use crate::container::ContainerRecord;
use crate::error::Result;
use crate::ids::ContainerId;
use crate::Engine;

/// One network as recorded, with its bridge and ports as the kernel has them now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkState {
    pub id: String,
    pub name: String,
    pub driver: Driver,
    pub subnet: Option<Ipv4Net>,
    pub gateway: Option<Ipv4Addr>,
    pub internal: bool,
    /// The Linux bridge of a bridge network; empty for other drivers.
    pub bridge_name: String,
    /// The bridge link; `None` until a container on the network first starts (berth makes
    /// bridges on first need) and for drivers without one.
    pub bridge: Option<BridgeLink>,
    /// In the order of the record (connection order).
    pub endpoints: Vec<EndpointState>,
}

/// A network's bridge as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BridgeLink {
    pub index: u32,
    pub oper: OperState,
    pub admin_up: bool,
    pub addresses: Vec<Ipv4Net>,
    pub mtu: u32,
    pub mac: Option<String>,
}

/// One container's attachment: the record's lease and, on a bridge, the host end of its
/// veth pair as the kernel has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointState {
    pub container_id: ContainerId,
    pub container_name: String,
    /// The interface inside the container (eth0, eth1...).
    pub interface: String,
    /// The address with the subnet's prefix length.
    pub address: Option<Ipv4Net>,
    pub mac: String,
    pub aliases: Vec<String>,
    /// The host end's name (bridge networks only; empty for other drivers).
    pub host_veth: String,
    /// The host end as live; `None` while the container is not running.
    pub port: Option<PortLink>,
}

/// The host end of a veth pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortLink {
    pub index: u32,
    pub oper: OperState,
    pub admin_up: bool,
    pub mtu: u32,
    pub mac: Option<String>,
    /// The bridge (or other master) it is a port of, by name.
    pub master: Option<String>,
    /// Whether that master is this network's bridge.
    pub on_bridge: bool,
    /// Only when asked for.
    pub counters: Option<LinkCounters>,
}

impl NetworkState {
    /// The endpoint of `container` on this network.
    pub fn endpoint(&self, container: &ContainerId) -> Option<&EndpointState> {
        self.endpoints.iter().find(|e| &e.container_id == container)
    }
}

impl Engine {
    /// Every network (built-ins included, sorted by name) with its bridge and veth ports
    /// as the kernel has them in the calling thread's namespace: one netlink socket, one
    /// link dump. Counters (rx/tx bytes and packets of each port) only when `counters`.
    /// The host and none networks list their containers too.
    pub fn network_states(&self, counters: bool) -> Result<Vec<NetworkState>> {
        let mut records = self.list_networks()?;
        self.add_derived_endpoints(&mut records)?;
        live_states(records, counters)
    }

    /// As [`Engine::network_states`], with the host and none networks' containers taken
    /// from `containers` (every container record, as the caller just read them) rather
    /// than read again: the dashboard reads them all anyway.
    pub fn network_states_with(
        &self,
        containers: &[ContainerRecord],
        counters: bool,
    ) -> Result<Vec<NetworkState>> {
        let mut records = self.list_networks()?;
        derive_endpoints(&mut records, containers);
        live_states(records, counters)
    }
}

/// The records joined with one link dump of the calling thread's namespace.
fn live_states(records: Vec<NetworkRecord>, counters: bool) -> Result<Vec<NetworkState>> {
    let live = if records.iter().any(|n| n.driver == Driver::Bridge) {
        let mut nl = Netlink::open()?;
        links_with(&mut nl, counters)?
    } else {
        Vec::new()
    };
    Ok(join(records, &live))
}

/// The records joined with a link dump: bridges and host veth ends found by name.
pub fn join(records: Vec<NetworkRecord>, links: &[LinkState]) -> Vec<NetworkState> {
    let by_name: HashMap<&str, &LinkState> = links.iter().map(|l| (l.name.as_str(), l)).collect();
    let by_index: HashMap<u32, &LinkState> = links.iter().map(|l| (l.index, l)).collect();
    records
        .into_iter()
        .map(|record| {
            let bridge = record
                .linux_bridge()
                .and_then(|name| by_name.get(name))
                .filter(|l| l.kind.as_deref() == Some("bridge"))
                .copied();
            let endpoints = record
                .endpoints
                .iter()
                .map(|e| endpoint_state(&record, e, bridge, &by_name, &by_index))
                .collect();
            NetworkState {
                id: record.id.clone(),
                name: record.name.clone(),
                driver: record.driver,
                subnet: record.subnet,
                gateway: record.gateway,
                internal: record.internal,
                bridge_name: record.bridge.clone(),
                bridge: bridge.map(bridge_link),
                endpoints,
            }
        })
        .collect()
}

fn bridge_link(link: &LinkState) -> BridgeLink {
    BridgeLink {
        index: link.index,
        oper: link.oper,
        admin_up: link.admin_up,
        addresses: link.addresses.clone(),
        mtu: link.mtu,
        mac: link.mac.map(mac_text),
    }
}

fn endpoint_state(
    record: &NetworkRecord,
    endpoint: &Endpoint,
    bridge: Option<&LinkState>,
    by_name: &HashMap<&str, &LinkState>,
    by_index: &HashMap<u32, &LinkState>,
) -> EndpointState {
    let host_veth = match record.driver {
        Driver::Bridge if !endpoint.host_veth.is_empty() => endpoint.host_veth.clone(),
        Driver::Bridge => host_veth_name(endpoint.container_id.as_str(), slot(endpoint)),
        _ => String::new(),
    };
    // Only a veth counts: the name alone could be anything a person made on the host.
    let port = by_name
        .get(host_veth.as_str())
        .filter(|l| !host_veth.is_empty() && l.kind.as_deref() == Some("veth"))
        .map(|link| PortLink {
            index: link.index,
            oper: link.oper,
            admin_up: link.admin_up,
            mtu: link.mtu,
            mac: link.mac.map(mac_text),
            master: link
                .master
                .and_then(|m| by_index.get(&m))
                .map(|m| m.name.clone()),
            on_bridge: bridge.is_some_and(|b| link.master == Some(b.index)),
            counters: link.counters,
        });
    EndpointState {
        container_id: endpoint.container_id.clone(),
        container_name: endpoint.container_name.clone(),
        interface: endpoint.interface.clone(),
        address: endpoint
            .ip
            .zip(record.subnet)
            .and_then(|(ip, net)| Ipv4Net::new(ip, net.prefix_len()).ok()),
        mac: endpoint.mac.clone(),
        aliases: endpoint.aliases.clone(),
        host_veth,
        port,
    }
}

/// The endpoint's slot, as its host end was named: eth1 is slot 1.
fn slot(endpoint: &Endpoint) -> usize {
    endpoint
        .interface
        .trim_start_matches("eth")
        .parse()
        .unwrap_or(0)
}

/// `aa:bb:cc:dd:ee:ff`.
pub(crate) fn mac_text(mac: [u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Bytes and packets per second between two samples of one link's counters taken
/// `seconds` apart; a counter that went backwards (the link was remade) gives 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LinkRates {
    pub rx_bytes: f64,
    pub rx_packets: f64,
    pub tx_bytes: f64,
    pub tx_packets: f64,
}

impl LinkRates {
    pub fn between(before: &LinkCounters, after: &LinkCounters, seconds: f64) -> LinkRates {
        if seconds <= 0.0 {
            return LinkRates::default();
        }
        let per_second = |a: u64, b: u64| b.saturating_sub(a) as f64 / seconds;
        LinkRates {
            rx_bytes: per_second(before.rx_bytes, after.rx_bytes),
            rx_packets: per_second(before.rx_packets, after.rx_packets),
            tx_bytes: per_second(before.tx_bytes, after.tx_bytes),
            tx_packets: per_second(before.tx_packets, after.tx_packets),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn link(index: u32, name: &str, kind: &str, master: Option<u32>) -> LinkState {
        LinkState {
            index,
            name: name.into(),
            kind: Some(kind.into()),
            master,
            mac: Some([2, 0x42, 0, 0, 0, index as u8]),
            mtu: 1500,
            admin_up: true,
            oper: OperState::Up,
            addresses: Vec::new(),
            counters: Some(LinkCounters {
                rx_bytes: 100,
                ..Default::default()
            }),
            peer_index: None,
            link_netnsid: None,
        }
    }

    fn record(id_hex: char) -> NetworkRecord {
        let id: ContainerId = id_hex.to_string().repeat(64).parse().unwrap();
        NetworkRecord {
            id: "n".repeat(64),
            name: "front".into(),
            driver: Driver::Bridge,
            created: chrono::Utc::now(),
            subnet: Some("10.9.0.0/24".parse().unwrap()),
            gateway: Some("10.9.0.1".parse().unwrap()),
            ip_range: None,
            internal: false,
            labels: BTreeMap::new(),
            options: BTreeMap::new(),
            bridge: "br-front".into(),
            skipped_pools: Vec::new(),
            endpoints: vec![Endpoint {
                container_id: id,
                container_name: "web".into(),
                endpoint_id: "e".repeat(64),
                ip: Some("10.9.0.2".parse().unwrap()),
                mac: "02:42:0a:09:00:02".into(),
                static_ip: false,
                aliases: vec!["www".into()],
                interface: "eth1".into(),
                host_veth: String::new(),
                host_index: 0,
                published: Vec::new(),
                link_local_ips: Vec::new(),
            }],
        }
    }

    #[test]
    fn bridges_and_host_ends_are_found_by_name_and_checked() {
        let veth = host_veth_name(&"a".repeat(64), 1);
        let links = [
            link(7, "br-front", "bridge", None),
            link(9, &veth, "veth", Some(7)),
        ];
        let states = join(vec![record('a')], &links);
        let state = &states[0];
        assert_eq!(state.bridge.as_ref().map(|b| b.index), Some(7));
        let endpoint = &state.endpoints[0];
        assert_eq!(endpoint.host_veth, veth);
        assert_eq!(endpoint.address, Some("10.9.0.2/24".parse().unwrap()));
        let port = endpoint.port.as_ref().expect("the host end");
        assert_eq!(port.master.as_deref(), Some("br-front"));
        assert!(port.on_bridge);
        assert_eq!(port.mac.as_deref(), Some("02:42:00:00:00:09"));

        // A link of that name that is not a veth is not the port; a bridge that is not
        // a bridge is not the bridge.
        let links = [
            link(7, "br-front", "veth", None),
            link(9, &veth, "bridge", None),
        ];
        let state = &join(vec![record('a')], &links)[0];
        assert!(state.bridge.is_none());
        assert!(state.endpoints[0].port.is_none());
    }

    #[test]
    fn rates_are_per_second_and_never_negative() {
        let before = LinkCounters {
            rx_bytes: 1000,
            rx_packets: 10,
            tx_bytes: 500,
            tx_packets: 5,
        };
        let after = LinkCounters {
            rx_bytes: 3000,
            rx_packets: 14,
            tx_bytes: 100,
            tx_packets: 6,
        };
        let rates = LinkRates::between(&before, &after, 2.0);
        assert_eq!(rates.rx_bytes, 1000.0);
        assert_eq!(rates.rx_packets, 2.0);
        assert_eq!(rates.tx_bytes, 0.0);
        assert_eq!(rates.tx_packets, 0.5);
        assert_eq!(
            LinkRates::between(&before, &after, 0.0),
            LinkRates::default()
        );
    }
}
