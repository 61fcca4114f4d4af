//! The persistent record of one network: its configuration, address plan and endpoints
//! (the address leases of the containers attached to it).

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::container::record::NetworkMode;
use crate::error::{Error, Result};
use crate::ids::ContainerId;

/// The default network's name, as Docker's.
pub const DEFAULT_NETWORK: &str = "bridge";
/// The option naming a bridge network's Linux bridge.
pub(crate) const BRIDGE_NAME_OPTION: &str = "com.docker.network.bridge.name";
/// Names of the networks every engine has; they can't be created or removed.
pub const BUILTIN_NETWORKS: [&str; 3] = [DEFAULT_NETWORK, "host", "none"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Driver {
    Bridge,
    Host,
    /// The `none` network: a container with loopback only (Docker calls the driver `null`).
    Null,
    Macvlan,
    Ipvlan,
}

impl Driver {
    pub fn as_str(self) -> &'static str {
        match self {
            Driver::Bridge => "bridge",
            Driver::Host => "host",
            Driver::Null => "null",
            Driver::Macvlan => "macvlan",
            Driver::Ipvlan => "ipvlan",
        }
    }

    /// Drivers whose networks get subnets and addresses.
    pub(crate) fn has_addresses(self) -> bool {
        !matches!(self, Driver::Host | Driver::Null)
    }
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Driver {
    type Err = Error;
    fn from_str(s: &str) -> Result<Driver> {
        match s {
            "bridge" => Ok(Driver::Bridge),
            "host" => Ok(Driver::Host),
            "null" | "none" => Ok(Driver::Null),
            "macvlan" => Ok(Driver::Macvlan),
            "ipvlan" => Ok(Driver::Ipvlan),
            "overlay" => Err(Error::invalid(
                "network driver",
                s,
                "overlay networks span several hosts and need a multi-host (swarm) engine; berth is single-host: use bridge, macvlan or ipvlan",
            )),
            _ => Err(Error::invalid(
                "network driver",
                s,
                "use bridge, macvlan or ipvlan",
            )),
        }
    }
}

/// A default pool passed over when the subnet was chosen, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedPool {
    pub subnet: Ipv4Net,
    pub reason: String,
}

/// One container's attachment to a network: its address lease and interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub container_id: ContainerId,
    pub container_name: String,
    /// 64 hex, as Docker's EndpointID.
    pub endpoint_id: String,
    /// None on the host and none networks.
    pub ip: Option<Ipv4Addr>,
    /// `02:42:` and the four bytes of the IP, as Docker; empty without an IP.
    pub mac: String,
    /// Asked for with `--ip`: kept while the container exists.
    #[serde(default)]
    pub static_ip: bool,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The interface name inside the container: eth0, eth1, ... (empty on host/none).
    pub interface: String,
    /// The host end of the veth pair; filled in when the container's network is wired.
    #[serde(default)]
    pub host_veth: String,
    /// The kernel's index of `host_veth` as made at the last start: what the monitor
    /// deletes at exit, so a link of the same name made by a later start is never taken.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub host_index: u32,
    /// The container's published ports while it runs, on the endpoint they reach it
    /// through (its first bridge network): what the firewall's DNAT rules come from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub published: Vec<super::ports::PortMapping>,
    /// `--link-local-ip`: more addresses on the interface, each with Docker's /16 (its
    /// IPAMConfig.LinkLocalIPs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub link_local_ips: Vec<Ipv4Addr>,
}

/// What a container asks of its endpoint beside an address and aliases: `--mac-address`
/// and `--link-local-ip`. Both need an interface of the container's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointExtras {
    pub mac: Option<super::mac::MacAddress>,
    pub link_local_ips: Vec<Ipv4Addr>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetworkRecord {
    /// 64 hex, as Docker's network IDs.
    pub id: String,
    pub name: String,
    pub driver: Driver,
    pub created: DateTime<Utc>,
    /// None on the host and none networks.
    pub subnet: Option<Ipv4Net>,
    pub gateway: Option<Ipv4Addr>,
    /// `--ip-range`: dynamic addresses come only from here.
    pub ip_range: Option<Ipv4Net>,
    pub internal: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `-o KEY=VALUE` driver options (`parent=`, `macvlan_mode=`, the bridge name...).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// The Linux bridge of a bridge network; empty for other drivers.
    #[serde(default)]
    pub bridge: String,
    /// Default pools passed over when the subnet was picked, and why.
    #[serde(default)]
    pub skipped_pools: Vec<SkippedPool>,
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
}

impl NetworkRecord {
    pub fn short_id(&self) -> &str {
        self.id.get(..12).unwrap_or(&self.id)
    }

    pub fn is_builtin(&self) -> bool {
        BUILTIN_NETWORKS.contains(&self.name.as_str())
    }

    /// Whether containers on it resolve each other's names (through 127.0.0.11): on
    /// user-defined networks with addresses, as in Docker.
    pub(crate) fn resolves_names(&self) -> bool {
        !self.is_builtin() && self.subnet.is_some()
    }

    /// The Linux bridge of a bridge network, if it has one.
    pub(crate) fn linux_bridge(&self) -> Option<&str> {
        (self.driver == Driver::Bridge && !self.bridge.is_empty()).then_some(self.bridge.as_str())
    }

    pub fn endpoint(&self, container: &ContainerId) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| &e.container_id == container)
    }

    /// Whether the record keeps its endpoints: only networks with addresses lease
    /// anything. An endpoint on the built-in host or none network is derived from the
    /// container's record instead (see [`NetworkRecord::derived_endpoint`]), so no record
    /// lists every container and is read and rewritten at each create, inspect and rm.
    /// (An older berth stored them: such endpoints are still read and released.)
    pub(crate) fn stores_endpoints(&self) -> bool {
        self.driver.has_addresses()
    }

    /// Whether a container whose network mode is `mode` is on this network without an
    /// endpoint in its record: the host network for `--network host`, none for `none`.
    pub(crate) fn derives_endpoint_for(&self, mode: NetworkMode) -> bool {
        matches!(
            (self.driver, mode),
            (Driver::Host, NetworkMode::Host) | (Driver::Null, NetworkMode::None)
        )
    }

    /// The endpoint of a container on the host or none network: no address, no
    /// interface, and an ID hashed from the network's and the container's, the same at
    /// every look.
    pub(crate) fn derived_endpoint(&self, container: &ContainerId, name: &str) -> Endpoint {
        let id = crate::ids::Digest::of_bytes(format!("{}/{container}", self.id).as_bytes());
        Endpoint {
            container_id: container.clone(),
            container_name: name.to_owned(),
            endpoint_id: id.hex().to_owned(),
            ip: None,
            mac: String::new(),
            static_ip: false,
            aliases: Vec::new(),
            interface: String::new(),
            host_veth: String::new(),
            host_index: 0,
            published: Vec::new(),
            link_local_ips: Vec::new(),
        }
    }

    /// What inspect shows as IPv4Address: the IP with the subnet's prefix length.
    pub fn cidr_of(&self, endpoint: &Endpoint) -> String {
        match (endpoint.ip, self.subnet) {
            (Some(ip), Some(net)) => format!("{ip}/{}", net.prefix_len()),
            _ => String::new(),
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
