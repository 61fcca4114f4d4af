//! Network drivers, one a file. Each makes and removes its network's host side and wires a
//! container's endpoint into it; what every driver shares (the endpoint's address, MAC and
//! routes inside the container, the ports, the firewall, the records) stays in the sandbox.

pub mod bridge;
pub mod ipvlan;
pub mod macvlan;

use std::os::fd::BorrowedFd;

use super::netlink::Netlink;
use super::record::{Driver, Endpoint, NetworkRecord};
use crate::error::{Error, Result};
use crate::ids::ContainerId;

/// Every link berth makes has this MTU, Docker's default.
pub(crate) const MTU: u32 = 1500;

/// A link a driver left on the host for one endpoint (a bridge's veth end): its name, and
/// the index the kernel gave it, by which it is deleted (a later link of the same name,
/// made when the container starts again, has another).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostEnd {
    pub name: String,
    pub index: u32,
}

impl HostEnd {
    /// The host end recorded on `endpoint`, if its network's driver left one.
    pub(crate) fn of(endpoint: &Endpoint) -> Option<HostEnd> {
        (!endpoint.host_veth.is_empty() && endpoint.host_index != 0).then(|| HostEnd {
            name: endpoint.host_veth.clone(),
            index: endpoint.host_index,
        })
    }
}

/// One network's driver, bound to its record.
pub(crate) trait NetworkDriver {
    /// Makes the network's host side if it is missing (cheap when it is there): called
    /// before each endpoint is wired, as networks are made lazily on first use.
    fn create(&mut self, nl: &mut Netlink) -> Result<()>;

    /// Removes the network's host side, only what this network made itself.
    fn remove(&self, nl: &mut Netlink) -> Result<()>;

    /// Creates the container's interface (`endpoint.interface`) directly inside `netns`,
    /// joined to the host side made by [`NetworkDriver::create`]. Returns the link it left
    /// on the host for this endpoint, if any.
    fn wire(
        &self,
        nl: &mut Netlink,
        netns: BorrowedFd<'_>,
        container: &ContainerId,
        endpoint: &Endpoint,
    ) -> Result<Option<HostEnd>>;

    /// Removes `end`, a link [`NetworkDriver::wire`] left on the host, once the
    /// container's processes are gone; one the kernel already took is skipped.
    fn unwire(&self, nl: &mut Netlink, end: &HostEnd) -> Result<()>;
}

/// The driver of `network`, `None` for `host` and `none`, which have no links of their own.
pub(crate) fn for_network(network: &NetworkRecord) -> Option<Box<dyn NetworkDriver + '_>> {
    match network.driver {
        Driver::Bridge => Some(Box::new(bridge::Bridge::new(network))),
        Driver::Macvlan => Some(Box::new(macvlan::Macvlan::new(network))),
        Driver::Ipvlan => Some(Box::new(ipvlan::Ipvlan::new(network))),
        Driver::Host | Driver::Null => None,
    }
}

/// The host interface a macvlan or ipvlan network stacks its links on (`-o parent=`).
fn parent(network: &NetworkRecord) -> Result<&str> {
    network
        .options
        .get("parent")
        .map(String::as_str)
        .ok_or_else(|| {
            Error::Runtime(format!(
                "network {} has no -o parent= interface",
                network.name
            ))
        })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::fs::File;
    use std::os::fd::AsFd;
    use std::str::FromStr;

    use super::*;
    use crate::network::link;
    use crate::network::testns::{in_netns, sh, NsThread};

    const CONTAINER: &str = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

    fn network(driver: Driver, options: &[(&str, &str)]) -> NetworkRecord {
        NetworkRecord {
            id: "a1b2c3d4".repeat(8),
            name: "front".into(),
            driver,
            created: chrono::DateTime::UNIX_EPOCH,
            subnet: Some("10.99.0.0/24".parse().unwrap()),
            gateway: Some("10.99.0.1".parse().unwrap()),
            ip_range: None,
            internal: false,
            labels: BTreeMap::new(),
            options: options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            bridge: if driver == Driver::Bridge {
                "brdrv".into()
            } else {
                String::new()
            },
            skipped_pools: Vec::new(),
            endpoints: Vec::new(),
        }
    }

    fn endpoint(interface: &str) -> Endpoint {
        Endpoint {
            container_id: ContainerId::from_str(CONTAINER).unwrap(),
            container_name: "web".into(),
            endpoint_id: "e".repeat(64),
            ip: Some("10.99.0.2".parse().unwrap()),
            mac: "02:42:0a:63:00:02".into(),
            static_ip: false,
            aliases: Vec::new(),
            interface: interface.into(),
            host_veth: String::new(),
            host_index: 0,
            published: Vec::new(),
            link_local_ips: Vec::new(),
        }
    }

    #[test]
    fn host_and_none_have_no_driver_and_stacked_drivers_need_a_parent() {
        assert!(for_network(&network(Driver::Host, &[])).is_none());
        assert!(for_network(&network(Driver::Null, &[])).is_none());
        in_netns(|| {
            let container = NsThread::spawn();
            let netns = File::open(&container.path).unwrap();
            let mut nl = Netlink::open().unwrap();
            let id = ContainerId::from_str(CONTAINER).unwrap();
            for driver in [Driver::Macvlan, Driver::Ipvlan] {
                let net = network(driver, &[]);
                let mut driver = for_network(&net).unwrap();
                driver.create(&mut nl).unwrap();
                let err = driver
                    .wire(&mut nl, netns.as_fd(), &id, &endpoint("eth0"))
                    .unwrap_err();
                assert_eq!(err.to_string(), "network front has no -o parent= interface");
                // Nothing of theirs on the host to take away.
                let none = HostEnd {
                    name: "eth0".into(),
                    index: i32::MAX as u32,
                };
                driver.unwire(&mut nl, &none).unwrap();
                driver.remove(&mut nl).unwrap();
            }
        });
    }

    #[test]
    fn a_bridge_is_made_wired_unwired_and_removed_only_when_its_own() {
        in_netns(|| {
            let container = NsThread::spawn();
            let netns = File::open(&container.path).unwrap();
            let mut nl = Netlink::open().unwrap();
            let net = network(Driver::Bridge, &[]);
            let id = ContainerId::from_str(CONTAINER).unwrap();
            let mut driver = for_network(&net).unwrap();
            driver.create(&mut nl).unwrap();
            driver.create(&mut nl).unwrap();
            let wired = endpoint("eth1");
            let end = driver
                .wire(&mut nl, netns.as_fd(), &id, &wired)
                .unwrap()
                .expect("a host end");
            let host = end.name.clone();
            assert_eq!(host, bridge::host_veth_name(CONTAINER, 1));
            assert_eq!(link::link_index(&mut nl, &host).unwrap(), Some(end.index));
            let shown = sh(&format!("ip -d link show {host}"));
            assert!(shown.contains("master brdrv"), "{shown}");
            assert!(shown.contains("hairpin on"), "{shown}");
            let ipv6 = |name: &str| {
                std::fs::read_to_string(format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6"))
            };
            if let Ok(off) = ipv6(&host) {
                assert_eq!(off, "1\n");
                assert_eq!(ipv6("brdrv").unwrap(), "1\n");
            }
            assert!(container.run(|| sh("ip link show eth1")).contains("eth1"));

            // Wired again (the container started anew): a new link of the same name,
            // which the old end's unwiring leaves alone.
            let again = driver
                .wire(&mut nl, netns.as_fd(), &id, &wired)
                .unwrap()
                .expect("a host end");
            assert_eq!(again.name, host);
            assert_ne!(again.index, end.index);
            driver.unwire(&mut nl, &end).unwrap();
            assert_eq!(link::link_index(&mut nl, &host).unwrap(), Some(again.index));
            driver.unwire(&mut nl, &again).unwrap();
            assert_eq!(link::link_index(&mut nl, &host).unwrap(), None);
            assert!(!container.run(|| sh("ip -o link show")).contains("eth1"));
            // Again: what the kernel took already is skipped.
            driver.unwire(&mut nl, &again).unwrap();

            driver.remove(&mut nl).unwrap();
            assert_eq!(link::link_index(&mut nl, "brdrv").unwrap(), None);
            // A bridge of the same name that this network did not make stays.
            sh("ip link add brdrv type bridge");
            driver.remove(&mut nl).unwrap();
            assert!(link::link_index(&mut nl, "brdrv").unwrap().is_some());
        });
    }
}
