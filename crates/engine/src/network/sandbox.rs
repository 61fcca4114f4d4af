//! A container's network namespace, wired at start by its monitor: a link per network it
//! is connected to, made by that network's driver (driver/), its address, MAC and routes,
//! its published ports held open, and the firewall regenerated. At exit the monitor drops
//! the ports' rules before it records the exit, and has the drivers delete the host ends
//! (by index) only after the exit is told: the kernel deletes them with the namespace, in
//! a worker some time after the last process is gone, and a DELLINK sent meanwhile waits
//! for that worker (RTNL) only to find the link gone. The monitor still deletes them
//! before it exits (`stop` waits for that), so a stopped container shows no live link, and
//! a namespace something else holds doesn't keep a link on the bridge with an address that
//! is free again. The firewall is regenerated from the records.

use std::fs::File;
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, BorrowedFd};

use ipnet::Ipv4Net;

use super::dns::{upstreams_from_resolv_conf, Resolver};
use super::driver::{self, HostEnd};
use super::firewall::{self, FirewallPlan, NetRule, PortRule};
use super::link;
use super::netlink::Netlink;
use super::ports::{PortHolder, PortMapping};
use super::record::{Driver, Endpoint, NetworkRecord};
use crate::container::record::{ContainerRecord, NetworkMode, Status};
use crate::container::teardown::Teardown;
use crate::error::{Context, Error, Result};
use crate::ids::ContainerId;
use crate::Engine;

/// What a started container holds for its life: its published ports, and the resolver
/// its monitor serves at 127.0.0.11 when it is on a user-defined network.
pub struct Wired {
    pub ports: PortHolder,
    pub dns: Option<Dns>,
}

/// The container's resolver and the names it answers.
pub struct Dns {
    pub resolver: Resolver,
    pub names: NameTable,
}

impl Wired {
    pub fn mappings(&self) -> &[PortMapping] {
        self.ports.mappings()
    }
}

impl Engine {
    /// Wires the network namespace of the container whose init is `init_pid` (created,
    /// not yet running the container's program). `None` for `host` and `none`.
    pub(crate) fn wire_network(
        &self,
        record: &ContainerRecord,
        init_pid: i32,
        netns: Option<BorrowedFd<'_>>,
    ) -> Result<Option<Wired>> {
        if record.config.network.mode != NetworkMode::Connected {
            return Ok(None);
        }
        // The namespace init entered (see `spare_netns`), or the one its clone made.
        let opened;
        let netns = match netns {
            Some(fd) => fd,
            None => {
                let path = format!("/proc/{init_pid}/ns/net");
                opened = File::open(&path).context(|| format!("opening {path}"))?;
                opened.as_fd()
            }
        };
        let mut nl = Netlink::open()?;
        let endpoints = self.container_endpoints(&record.id)?;
        for (network, endpoint) in &endpoints {
            self.wire(&mut nl, netns.as_fd(), record, network, endpoint)?;
        }
        let ports = PortHolder::bind(&record.config.network.ports)?;
        // Names resolve on user-defined networks only, as in Docker.
        let dns = if endpoints.iter().any(|(n, _)| n.resolves_names()) {
            Some(Dns {
                resolver: Resolver::bind(netns.as_fd(), upstreams(record))?,
                names: NameTable::new(self, &record.id),
            })
        } else {
            None
        };
        // Last, so a failed start leaves no rule: its ports' rules, and its network's NAT
        // if this is the network's first start (no nft run when the table is already
        // what it should be).
        self.publish(&record.id, ports.mappings())?;
        Ok(Some(Wired { ports, dns }))
    }

    /// The first step of a container's exit, before it is recorded: its published ports
    /// lose their rules (the firewall is regenerated without them), so none outlives the
    /// exit, whatever happens next. Nothing here waits on the kernel's links: the host
    /// ends the drivers left are only noted, for [`Unplug::run`] once the exit is told.
    pub(crate) fn unpublish(&self, id: &ContainerId) -> Result<Unplug> {
        let endpoints = self.container_endpoints(id)?;
        if endpoints.iter().any(|(_, e)| !e.published.is_empty()) {
            self.publish(id, &[])?;
        }
        let ends = endpoints
            .into_iter()
            .filter_map(|(network, endpoint)| Some((HostEnd::of(&endpoint)?, network)))
            .map(|(end, mut network)| {
                network.endpoints.clear();
                (network, end)
            })
            .collect();
        Ok(Unplug { ends })
    }

    /// One endpoint wired, its host end noted in the network's record.
    fn wire(
        &self,
        nl: &mut Netlink,
        netns: BorrowedFd<'_>,
        record: &ContainerRecord,
        network: &NetworkRecord,
        endpoint: &Endpoint,
    ) -> Result<()> {
        let host_end = wire_endpoint(nl, netns, &record.id, network, endpoint).map_err(|e| {
            Error::Runtime(format!(
                "connecting {} to network {}: {e}",
                record.name, network.name
            ))
        })?;
        if host_end != HostEnd::of(endpoint) {
            self.set_host_veth(&network.id, &record.id, host_end.as_ref())?;
        }
        Ok(())
    }

    /// `network connect`: the endpoint in the records and, in a running container, its
    /// interface at once. A failure leaves the container as it was.
    pub fn connect_container(
        &self,
        network: &str,
        container: &str,
        ip: Option<Ipv4Addr>,
        aliases: Vec<String>,
        extras: &super::record::EndpointExtras,
    ) -> Result<()> {
        let (net, endpoint) = self.connect_network(network, container, ip, aliases, extras)?;
        let record = self.container(container)?;
        let Some(netns) = running_netns(&record)? else {
            return Ok(());
        };
        let wired = Netlink::open()
            .and_then(|mut nl| self.wire(&mut nl, netns.as_fd(), &record, &net, &endpoint))
            .and_then(|()| self.apply_firewall());
        if let Err(e) = wired {
            // The connect's own error is the answer; a failed rollback is written down.
            let mut teardown = Teardown::default();
            let released = self.release_endpoint(&net.id, &record.id);
            teardown.step("release endpoint", &net.name, released);
            self.report_teardown(&record, &teardown);
            return Err(e);
        }
        Ok(())
    }

    /// `network disconnect`: the endpoint out of the records and its interface out of a
    /// running container.
    pub fn disconnect_container(&self, network: &str, container: &str, force: bool) -> Result<()> {
        let Some((_, endpoint)) = self.disconnect_network(network, container, force)? else {
            return Ok(());
        };
        let record = self.container(container)?;
        let Some(netns) = running_netns(&record)? else {
            return Ok(());
        };
        if !endpoint.interface.is_empty() {
            // Deleting one end of a veth deletes both.
            let mut nl = Netlink::open_in(netns.as_fd())?;
            link::delete_link(&mut nl, &endpoint.interface)?;
        }
        Ok(())
    }

    /// `network rm`: the record, then its bridge and its firewall rules.
    pub fn destroy_network(&self, name_or_id: &str) -> Result<NetworkRecord> {
        let removed = self.remove_network(name_or_id)?;
        self.unwire_networks(std::slice::from_ref(&removed))?;
        Ok(removed)
    }

    /// `network prune`, with the bridges and rules of what it removed.
    pub fn prune_and_unwire_networks(&self) -> Result<Vec<NetworkRecord>> {
        let removed = self.prune_networks()?;
        self.unwire_networks(&removed)?;
        Ok(removed)
    }

    fn unwire_networks(&self, removed: &[NetworkRecord]) -> Result<()> {
        // Only bridges have a host side of their own today: no netlink socket otherwise.
        let drivers: Vec<_> = removed
            .iter()
            .filter(|n| n.linux_bridge().is_some())
            .filter_map(driver::for_network)
            .collect();
        if drivers.is_empty() {
            return Ok(());
        }
        let mut nl = Netlink::open()?;
        for driver in drivers {
            driver.remove(&mut nl)?;
        }
        // This root's table only, from its own records: nothing of another root's.
        self.apply_firewall()
    }

    /// Records the container's published ports (empty: none any more) on the endpoint
    /// they reach it through, its first bridge network, and regenerates the firewall.
    pub(crate) fn publish(&self, id: &ContainerId, mappings: &[PortMapping]) -> Result<()> {
        let _lock = self.lock()?;
        let mut networks = self.read_networks()?;
        let mut target = true;
        for network in networks.iter_mut() {
            let bridge = network.driver == Driver::Bridge && !network.internal;
            let Some(endpoint) = network.endpoints.iter_mut().find(|e| &e.container_id == id)
            else {
                continue;
            };
            let wanted = if bridge && target {
                target = false;
                mappings.to_vec()
            } else {
                Vec::new()
            };
            if endpoint.published != wanted {
                endpoint.published = wanted;
                self.save_network(network)?;
            }
        }
        self.load_firewall(&self.firewall_plan(&networks)?, false)
    }

    /// Regenerates berth's nftables table from the network records and loads it if it
    /// changed.
    pub(crate) fn apply_firewall(&self) -> Result<()> {
        let _lock = self.lock()?;
        self.load_firewall(&self.firewall_plan(&self.read_networks()?)?, false)
    }

    /// `network reload`: loads the table even if berth thinks it is loaded (after the
    /// host's firewall was flushed, say).
    pub fn reload_firewall(&self) -> Result<()> {
        let _lock = self.lock()?;
        self.load_firewall(&self.firewall_plan(&self.read_networks()?)?, true)
    }

    /// Loads `plan` unless it is what was loaded last (kept under the root), so starting
    /// a container that changes nothing in the table costs no `nft` run.
    fn load_firewall(&self, plan: &FirewallPlan, force: bool) -> Result<()> {
        let cache = self.paths().root().join("firewall.nft");
        let text = firewall::render(plan)?;
        let loaded = std::fs::read_to_string(&cache).ok();
        if !force && loaded.as_deref() == Some(text.as_str()) {
            return Ok(());
        }
        // Forgotten first: if loading fails half-way, the next change loads again.
        let _ = std::fs::remove_file(&cache);
        firewall::apply(plan)?;
        if !plan.networks.is_empty() {
            crate::state::write_private(&cache, text.as_bytes())?;
        }
        Ok(())
    }
}

impl Engine {
    /// This root's firewall from its network records alone: each bridge network's rules,
    /// and the published ports of its endpoints (kept there while their containers run),
    /// in this root's own table.
    fn firewall_plan(&self, networks: &[NetworkRecord]) -> Result<FirewallPlan> {
        let mut plan = FirewallPlan {
            table: firewall::Table::for_root(self.paths().root())?,
            networks: Vec::new(),
            ports: Vec::new(),
        };
        for network in networks.iter().filter(|n| n.linux_bridge().is_some()) {
            let Some(subnet) = network.subnet else {
                continue;
            };
            plan.networks.push(NetRule {
                bridge: network.bridge.clone(),
                subnet,
                internal: network.internal,
            });
            for endpoint in &network.endpoints {
                let Some(ip) = endpoint.ip else { continue };
                plan.ports.extend(
                    endpoint
                        .published
                        .iter()
                        .map(|m| PortRule::for_mapping(&network.bridge, ip, m)),
                );
            }
        }
        Ok(plan)
    }
}

/// The links a container's drivers left on the host (a bridge's veth ends), deleted by
/// its monitor after the exit is told, when nobody waits for it.
pub(crate) struct Unplug {
    /// Each end with its network (without endpoints: only its driver is needed).
    ends: Vec<(NetworkRecord, HostEnd)>,
}

impl Unplug {
    /// Deletes every end (for a veth, both ends go); one the kernel already took is
    /// skipped. Each that could not be deleted goes on `teardown`.
    pub(crate) fn run(self, teardown: &mut Teardown) {
        if self.ends.is_empty() {
            return;
        }
        let Some(mut nl) = teardown.step("open netlink", "NETLINK_ROUTE", Netlink::open()) else {
            return;
        };
        for (network, end) in &self.ends {
            if let Some(driver) = driver::for_network(network) {
                teardown.step("delete link", &end.name, driver.unwire(&mut nl, end));
            }
        }
    }
}

/// One endpoint's link in the container, made by its network's driver, and what every
/// driver's link gets inside: address, MAC and routes. Returns the link the driver left
/// on the host (none for macvlan and ipvlan).
fn wire_endpoint(
    nl: &mut Netlink,
    netns: BorrowedFd<'_>,
    id: &ContainerId,
    network: &NetworkRecord,
    endpoint: &Endpoint,
) -> Result<Option<HostEnd>> {
    let (Some(subnet), Some(ip)) = (network.subnet, endpoint.ip) else {
        return Ok(None);
    };
    let address = Ipv4Net::new(ip, subnet.prefix_len())
        .map_err(|e| Error::Runtime(format!("address {ip}/{}: {e}", subnet.prefix_len())))?;
    // No default route out of an internal network.
    let gateway = network.gateway.filter(|_| !network.internal);
    let mac = parse_mac(&endpoint.mac)?;
    let Some(mut driver) = driver::for_network(network) else {
        return Ok(None);
    };
    driver.create(nl)?;
    let host_end = driver.wire(nl, netns, id, endpoint)?;
    link::configure_endpoint(netns, &endpoint.interface, address, mac, gateway)?;
    link::add_link_local_addresses(netns, &endpoint.interface, &endpoint.link_local_ips)?;
    Ok(host_end)
}

/// Where the resolver sends names it doesn't own: `--dns`, else the host's resolvers
/// (loopback ones too: the monitor forwards from the host's namespace).
fn upstreams(record: &ContainerRecord) -> Vec<std::net::SocketAddr> {
    let dns = &record.config.network.dns;
    if !dns.is_empty() {
        return dns.iter().map(|ip| (*ip, 53).into()).collect();
    }
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    upstreams_from_resolv_conf(&host)
}

/// The names one container can resolve: on each user-defined network it is on, every
/// running container's name, short ID and aliases there. Read again from the records
/// when they change (the networks directory's mtime moves with every record written),
/// so a container started a moment ago is found at once.
pub struct NameTable {
    engine: Engine,
    container: ContainerId,
    stamp: Option<std::time::SystemTime>,
    names: std::collections::HashMap<String, Vec<Ipv4Addr>>,
}

impl NameTable {
    fn new(engine: &Engine, container: &ContainerId) -> NameTable {
        NameTable {
            engine: engine.clone(),
            container: container.clone(),
            stamp: None,
            names: Default::default(),
        }
    }

    /// The addresses of `name` (lower case, no trailing dot), or `None` for a name that
    /// isn't berth's to answer.
    pub fn lookup(&mut self, name: &str) -> Option<Vec<Ipv4Addr>> {
        self.refresh();
        self.names.get(name).cloned()
    }

    fn refresh(&mut self) {
        let dir = self.engine.paths().networks_dir();
        let stamp = std::fs::metadata(&dir).and_then(|m| m.modified()).ok();
        if stamp.is_some() && stamp == self.stamp {
            return;
        }
        self.stamp = stamp;
        self.names.clear();
        let Ok(networks) = self.engine.read_networks() else {
            return;
        };
        let running = |id: &ContainerId| {
            self.engine
                .load_record(id)
                .is_ok_and(|r| r.state.status == Status::Running)
        };
        for network in networks.iter().filter(|n| n.resolves_names()) {
            if network.endpoint(&self.container).is_none() {
                continue;
            }
            for endpoint in &network.endpoints {
                let Some(ip) = endpoint.ip else { continue };
                if endpoint.container_id != self.container && !running(&endpoint.container_id) {
                    continue;
                }
                let short = endpoint.container_id.short().to_owned();
                let names = [endpoint.container_name.clone(), short]
                    .into_iter()
                    .chain(endpoint.aliases.iter().cloned());
                for name in names {
                    let entry = self.names.entry(name.to_ascii_lowercase()).or_default();
                    if !entry.contains(&ip) {
                        entry.push(ip);
                    }
                }
            }
        }
    }
}

/// The network namespace of a running container (`None` if it is not running or shares
/// the host's), checked to be its init's and not a reused PID's.
fn running_netns(record: &ContainerRecord) -> Result<Option<File>> {
    let init = match record.state.init {
        Some(init) if record.state.status == Status::Running => init,
        _ => return Ok(None),
    };
    if record.config.network.mode != NetworkMode::Connected {
        return Ok(None);
    }
    let path = format!("/proc/{}/ns/net", init.pid);
    let netns = File::open(&path).context(|| format!("opening {path}"))?;
    if !init.is_alive() {
        return Ok(None);
    }
    Ok(Some(netns))
}

fn parse_mac(text: &str) -> Result<[u8; 6]> {
    let bad = || Error::invalid("MAC address", text, "use six hex bytes, 02:42:ac:11:00:02");
    let bytes: Vec<u8> = text
        .split(':')
        .map(|b| u8::from_str_radix(b, 16))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| bad())?;
    bytes.try_into().map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_parse() {
        assert_eq!(
            parse_mac("02:42:ac:11:00:02").unwrap(),
            [2, 0x42, 0xac, 0x11, 0, 2]
        );
        assert!(parse_mac("02:42:ac:11:00").is_err());
        assert!(parse_mac("zz:42:ac:11:00:02").is_err());
    }
}
