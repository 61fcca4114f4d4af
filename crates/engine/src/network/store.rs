//! Network records on disk (`<root>/networks/<id>.json`) and the engine's network verbs:
//! create, list, look up, remove, prune, and the address leases of endpoints. Records
//! only: no links, routes or rules are touched here. Every read-check-write holds the
//! engine lock, so no two processes ever hand out the same address.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::PathBuf;

use chrono::Utc;
use ipnet::Ipv4Net;

use super::driver::HostEnd;
use super::ipam::{self, AddressPlan};
use super::record::{
    Driver, Endpoint, EndpointExtras, NetworkRecord, BRIDGE_NAME_OPTION, DEFAULT_NETWORK,
};
use crate::container::ContainerRecord;
use crate::error::{Context, Error, Result};
use crate::events::{Event, ObjectType};
use crate::ids::{random_hex64, ContainerId};
use crate::state::StateLock;
use crate::state::{
    is_atomic_temp, read_json, write_json_atomic, write_json_atomic_with, Durability,
};
use crate::Engine;

/// Longest network name accepted (Docker sets none; names end up in events and tables).
const MAX_NAME: usize = 128;
/// Aliases one endpoint may have, and the length of each (a DNS name).
const MAX_ALIASES: usize = 64;
const MAX_ALIAS_LEN: usize = 253;

/// What `network create` asks for; addresses parsed already.
#[derive(Debug, Clone, Default)]
pub struct CreateNetwork {
    pub name: String,
    pub driver: Option<Driver>,
    pub subnet: Option<Ipv4Net>,
    pub gateway: Option<Ipv4Addr>,
    pub ip_range: Option<Ipv4Net>,
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
}

/// A network created, with the default pools passed over because a host route covers
/// them (the caller may want to tell the user).
#[derive(Debug, Clone)]
pub struct CreatedNetwork {
    pub network: NetworkRecord,
    pub route_skips: Vec<super::record::SkippedPool>,
}

fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= MAX_NAME
        && bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// An interface name berth accepts (see `link::check_ifname`).
pub(crate) fn valid_interface_name(name: &str) -> bool {
    super::link::check_ifname(name).is_ok()
}

fn valid_alias(alias: &str) -> bool {
    let mut bytes = alias.bytes();
    alias.len() <= MAX_ALIAS_LEN
        && bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Checks the driver options berth understands; others are kept as given, as Docker does.
fn check_options(options: &BTreeMap<String, String>) -> Result<()> {
    for (key, value) in options {
        let allowed: Option<&[&str]> = match key.as_str() {
            "macvlan_mode" => Some(&["bridge", "private", "vepa", "passthru"]),
            "ipvlan_mode" => Some(&["l2", "l3", "l3s"]),
            "ipvlan_flag" => Some(&["bridge", "private", "vepa"]),
            _ => None,
        };
        if let Some(allowed) = allowed {
            if !allowed.contains(&value.as_str()) {
                return Err(Error::invalid(
                    "network option",
                    format!("{key}={value}"),
                    format!("{key} is one of {}", allowed.join(", ")),
                ));
            }
        }
        if matches!(key.as_str(), "parent" | BRIDGE_NAME_OPTION) && !valid_interface_name(value) {
            return Err(Error::invalid(
                "network option",
                format!("{key}={value}"),
                "an interface name has 1 to 15 characters, without '/', ':' or spaces",
            ));
        }
    }
    Ok(())
}

fn network_event(network: &NetworkRecord, action: &str) -> Event {
    Event::new(ObjectType::Network, action, &network.id)
        .with("name", &network.name)
        .with("type", network.driver.as_str())
}

fn endpoint_event(network: &NetworkRecord, action: &str, container: &ContainerId) -> Event {
    network_event(network, action).with("container", container.as_str())
}

/// The address plan of a network with addresses.
fn plan_of(network: &NetworkRecord) -> Option<AddressPlan> {
    Some(AddressPlan {
        subnet: network.subnet?,
        gateway: network.gateway?,
        ip_range: network.ip_range,
    })
}

impl Engine {
    fn network_path(&self, id: &str) -> PathBuf {
        self.paths().networks_dir().join(format!("{id}.json"))
    }

    pub(crate) fn save_network(&self, network: &NetworkRecord) -> Result<()> {
        write_json_atomic(&self.network_path(&network.id), network)
    }

    /// Every network record as stored, sorted by name.
    pub(crate) fn read_networks(&self) -> Result<Vec<NetworkRecord>> {
        let dir = self.paths().networks_dir();
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&dir).context(|| format!("listing {}", dir.display()))? {
            let entry = entry.context(|| format!("listing {}", dir.display()))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if is_atomic_temp(name) || !name.ends_with(".json") {
                continue;
            }
            found.push(read_json::<NetworkRecord>(&entry.path())?);
        }
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }

    /// Creates the built-in networks `bridge`, `host` and `none` if missing. Cheap when
    /// they exist (no lock taken).
    pub(crate) fn ensure_default_networks(&self) -> Result<()> {
        if self.missing_default_networks()?.is_empty() {
            return Ok(());
        }
        let lock = self.lock()?;
        self.ensure_default_networks_locked(&lock)
    }

    fn missing_default_networks(&self) -> Result<Vec<&'static str>> {
        Ok(missing_builtins(&self.read_networks()?))
    }

    /// As [`Engine::ensure_default_networks`]; call with the engine lock held.
    pub(crate) fn ensure_default_networks_locked(&self, _held: &StateLock) -> Result<()> {
        for name in self.missing_default_networks()? {
            let mut network = NetworkRecord {
                id: random_hex64(),
                name: name.to_owned(),
                driver: Driver::Null,
                created: Utc::now(),
                subnet: None,
                gateway: None,
                ip_range: None,
                internal: false,
                labels: BTreeMap::new(),
                options: BTreeMap::new(),
                bridge: String::new(),
                skipped_pools: Vec::new(),
                endpoints: Vec::new(),
            };
            match name {
                DEFAULT_NETWORK => {
                    let (subnet, skipped) = self.free_pool().map_err(|e| {
                        Error::Runtime(format!("creating the default network {name}: {e}"))
                    })?;
                    network.driver = Driver::Bridge;
                    network.subnet = Some(subnet);
                    network.gateway = Some(ipam::default_gateway(subnet));
                    network.skipped_pools = skipped;
                    // Named after this root, so another root in the same namespace has
                    // a bridge of its own.
                    let bridge = super::names::RootNames::for_root(self.paths().root()).bridge;
                    network.options = default_bridge_options(&bridge);
                    network.bridge = bridge;
                }
                "host" => network.driver = Driver::Host,
                _ => network.driver = Driver::Null,
            }
            self.save_network(&network)?;
        }
        Ok(())
    }

    /// The first default pool free of networks and host routes, with those passed over.
    fn free_pool(&self) -> Result<(Ipv4Net, Vec<super::record::SkippedPool>)> {
        let networks = self.read_networks()?;
        let taken: Vec<(&str, Ipv4Net)> = networks
            .iter()
            .filter_map(|n| Some((n.name.as_str(), n.subnet?)))
            .collect();
        let choice = ipam::choose_pool(&ipam::default_pools(), &taken, &ipam::read_routes()?);
        match choice.subnet {
            Some(subnet) => Ok((subnet, choice.skipped)),
            None => Err(Error::Conflict(format!(
                "no free address pool: all {} default pools overlap a network or a host route (give a subnet with --subnet)",
                choice.skipped.len()
            ))),
        }
    }

    /// Every network, built-ins included, sorted by name, as stored: the host and none
    /// networks without the endpoints of their containers, which are derived from the
    /// container records (see `add_derived_endpoints`; [`Engine::network`] and
    /// [`Engine::network_states`] have them).
    pub fn list_networks(&self) -> Result<Vec<NetworkRecord>> {
        // One read when the built-ins exist (always but on a new root).
        let networks = self.read_networks()?;
        if missing_builtins(&networks).is_empty() {
            return Ok(networks);
        }
        self.ensure_default_networks()?;
        self.read_networks()
    }

    /// Resolves a network name, full ID or unique ID prefix, as Docker does: an exact ID
    /// wins, then an exact name, then a unique prefix. The host and none networks come
    /// with their containers' endpoints (reading every container record).
    pub fn network(&self, name_or_id: &str) -> Result<NetworkRecord> {
        let mut network = self.network_record(name_or_id)?;
        self.add_derived_endpoints(std::slice::from_mut(&mut network))?;
        Ok(network)
    }

    /// As [`Engine::network`], as stored: without the derived endpoints.
    pub(crate) fn network_record(&self, name_or_id: &str) -> Result<NetworkRecord> {
        find_network(self.networks_with_builtins(None)?, name_or_id)
    }

    /// Every stored network, the built-in ones made first if one is missing (with the
    /// engine lock if `held`, else taking it): one read of the records when they are all
    /// there, as they are after the first look.
    fn networks_with_builtins(&self, held: Option<&StateLock>) -> Result<Vec<NetworkRecord>> {
        let stored = self.read_networks()?;
        if missing_builtins(&stored).is_empty() {
            return Ok(stored);
        }
        match held {
            Some(lock) => self.ensure_default_networks_locked(lock)?,
            None => self.ensure_default_networks()?,
        }
        self.read_networks()
    }

    /// Adds to the host and none networks among `networks` the endpoints of the
    /// containers on them, derived from the container records (read only when one of
    /// `networks` is such), oldest container first, after any an older berth stored.
    pub(crate) fn add_derived_endpoints(&self, networks: &mut [NetworkRecord]) -> Result<()> {
        if networks.iter().all(NetworkRecord::stores_endpoints) {
            return Ok(());
        }
        derive_endpoints(networks, &self.load_records()?);
        Ok(())
    }

    /// `network create`: checks everything before anything is written.
    pub fn create_network(&self, opts: CreateNetwork) -> Result<CreatedNetwork> {
        if !valid_name(&opts.name) {
            return Err(Error::invalid(
                "network name",
                &opts.name,
                "use [a-zA-Z0-9][a-zA-Z0-9_.-], at most 128 characters",
            ));
        }
        let driver = opts.driver.unwrap_or(Driver::Bridge);
        if !driver.has_addresses() {
            return Err(Error::invalid(
                "network driver",
                driver.as_str(),
                format!(
                    "only one {driver} network is allowed, the built-in one: use bridge, macvlan or ipvlan"
                ),
            ));
        }
        check_options(&opts.options)?;
        if opts.subnet.is_none() && (opts.gateway.is_some() || opts.ip_range.is_some()) {
            return Err(Error::invalid(
                "network config",
                &opts.name,
                "--gateway and --ip-range need --subnet",
            ));
        }
        let lock = self.lock()?;
        self.ensure_default_networks_locked(&lock)?;
        let networks = self.read_networks()?;
        if networks.iter().any(|n| n.name == opts.name) {
            return Err(Error::Conflict(format!(
                "network with name {} already exists",
                opts.name
            )));
        }
        let (subnet, skipped) = match opts.subnet {
            Some(subnet) => {
                if let Some(other) = networks
                    .iter()
                    .find(|n| n.subnet.is_some_and(|s| ipam::overlaps(s, subnet)))
                {
                    return Err(Error::invalid(
                        "subnet",
                        subnet.to_string(),
                        format!(
                            "it overlaps network {} ({})",
                            other.name,
                            other.subnet.map(|s| s.to_string()).unwrap_or_default()
                        ),
                    ));
                }
                (subnet, Vec::new())
            }
            None => self.free_pool()?,
        };
        let plan = AddressPlan::new(subnet, opts.gateway, opts.ip_range)?;
        let id = random_hex64();
        let bridge = match driver {
            Driver::Bridge => opts
                .options
                .get(BRIDGE_NAME_OPTION)
                .cloned()
                .unwrap_or_else(|| format!("br-{}", &id[..12])),
            _ => String::new(),
        };
        if !bridge.is_empty() {
            if let Some(other) = networks.iter().find(|n| n.bridge == bridge) {
                return Err(Error::invalid(
                    "bridge name",
                    &bridge,
                    format!("network {} uses it already", other.name),
                ));
            }
        }
        let route_skips = skipped
            .iter()
            .filter(|s| s.reason.contains("host route"))
            .cloned()
            .collect();
        let network = NetworkRecord {
            id,
            name: opts.name,
            driver,
            created: Utc::now(),
            subnet: Some(plan.subnet),
            gateway: Some(plan.gateway),
            ip_range: plan.ip_range,
            internal: opts.internal,
            labels: opts.labels,
            options: opts.options,
            bridge,
            skipped_pools: skipped,
            endpoints: Vec::new(),
        };
        self.save_network(&network)?;
        self.record_event(&network_event(&network, "create"));
        Ok(CreatedNetwork {
            network,
            route_skips,
        })
    }

    /// True if the container still exists (its directory: a record being created counts).
    fn container_exists(&self, id: &ContainerId) -> bool {
        self.paths().container(id).exists()
    }

    /// Drops the endpoints of containers that no longer exist (a removal that crashed
    /// before releasing them), except `keep`'s; saves what changed. Lock held.
    fn reclaim_stale(&self, network: &mut NetworkRecord, keep: Option<&ContainerId>) -> Result<()> {
        let (stale, live): (Vec<Endpoint>, Vec<Endpoint>) = std::mem::take(&mut network.endpoints)
            .into_iter()
            .partition(|e| {
                Some(&e.container_id) != keep && !self.container_exists(&e.container_id)
            });
        network.endpoints = live;
        if stale.is_empty() {
            return Ok(());
        }
        self.save_network(network)?;
        for e in &stale {
            self.record_event(&endpoint_event(network, "disconnect", &e.container_id));
        }
        Ok(())
    }

    /// Every network with stale endpoints reclaimed; lock held.
    fn networks_locked(
        &self,
        _held: &StateLock,
        keep: Option<&ContainerId>,
    ) -> Result<Vec<NetworkRecord>> {
        self.ensure_default_networks_locked(_held)?;
        let mut networks = self.read_networks()?;
        for network in &mut networks {
            self.reclaim_stale(network, keep)?;
        }
        Ok(networks)
    }

    /// `network rm`: never a built-in network or one with endpoints.
    pub(crate) fn remove_network(&self, name_or_id: &str) -> Result<NetworkRecord> {
        let lock = self.lock()?;
        let network = find_network(self.networks_locked(&lock, None)?, name_or_id)?;
        self.remove_network_locked(&lock, network)
    }

    fn remove_network_locked(
        &self,
        _held: &StateLock,
        network: NetworkRecord,
    ) -> Result<NetworkRecord> {
        if network.is_builtin() {
            return Err(Error::Conflict(format!(
                "{} is a pre-defined network and cannot be removed",
                network.name
            )));
        }
        if !network.endpoints.is_empty() {
            let names: Vec<&str> = network
                .endpoints
                .iter()
                .map(|e| e.container_name.as_str())
                .collect();
            return Err(Error::Conflict(format!(
                "network {} has active endpoints: containers {} are connected (disconnect or remove them first)",
                network.name,
                names.join(", ")
            )));
        }
        let path = self.network_path(&network.id);
        std::fs::remove_file(&path).context(|| format!("removing network {}", network.name))?;
        self.record_event(&network_event(&network, "destroy"));
        Ok(network)
    }

    /// `network prune`: removes every network but the built-ins that has no endpoints.
    pub(crate) fn prune_networks(&self) -> Result<Vec<NetworkRecord>> {
        let lock = self.lock()?;
        let mut removed = Vec::new();
        for network in self.networks_locked(&lock, None)? {
            if !network.is_builtin() && network.endpoints.is_empty() {
                removed.push(self.remove_network_locked(&lock, network)?);
            }
        }
        Ok(removed)
    }

    /// As [`Engine::allocate_endpoint_locked`], taking the lock: the tests' way in.
    #[cfg(test)]
    fn allocate_endpoint(
        &self,
        network: &str,
        container_id: &ContainerId,
        container_name: &str,
        requested_ip: Option<Ipv4Addr>,
        aliases: Vec<String>,
    ) -> Result<Endpoint> {
        let lock = self.lock()?;
        self.allocate_endpoint_locked(
            &lock,
            network,
            container_id,
            container_name,
            requested_ip,
            aliases,
            &EndpointExtras::default(),
        )
    }

    /// Attaches a container to a network in the records: leases an address (the
    /// requested one, or the lowest free one), names the interface (the lowest free
    /// `ethN` among its networks) and records the endpoint. No link is made here.
    /// Leases of containers that no longer exist are reclaimed first. The container's
    /// directory must exist (or be this call's container): leases of others without one
    /// are taken for stale.
    /// Call with the engine lock held (e.g. inside
    /// `create_container`). `extras` (a chosen MAC, link-local addresses) are checked
    /// against the network here, where its endpoints are known.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn allocate_endpoint_locked(
        &self,
        _held: &StateLock,
        network: &str,
        container_id: &ContainerId,
        container_name: &str,
        requested_ip: Option<Ipv4Addr>,
        aliases: Vec<String>,
        extras: &EndpointExtras,
    ) -> Result<Endpoint> {
        let stored = self.networks_with_builtins(Some(_held))?;
        let target = find_network(stored.clone(), network)?;
        if !target.stores_endpoints() {
            // Nothing to lease, nothing to write (see `stores_endpoints`).
            let joined = self.joined_networks(&stored, container_id);
            check_can_join(&target, &joined, container_name, requested_ip, &aliases)?;
            check_extras(&target, extras)?;
            self.record_event(&endpoint_event(&target, "connect", container_id));
            return Ok(target.derived_endpoint(container_id, container_name));
        }
        let networks = self.networks_locked(_held, Some(container_id))?;
        let mut target = find_network(networks.clone(), network)?;
        let joined = self.joined_networks(&networks, container_id);
        check_can_join(&target, &joined, container_name, requested_ip, &aliases)?;
        check_extras(&target, extras)?;
        let (ip, mac, interface) = match plan_of(&target) {
            Some(plan) => {
                let ip = self.lease(&target, &plan, requested_ip)?;
                let mac = extras
                    .mac
                    .map_or_else(|| ipam::mac_for(ip), |m| m.to_string());
                (Some(ip), mac, next_interface(&joined, container_id))
            }
            None => (None, String::new(), String::new()),
        };
        let endpoint = Endpoint {
            container_id: container_id.clone(),
            container_name: container_name.to_owned(),
            endpoint_id: random_hex64(),
            ip,
            mac,
            static_ip: requested_ip.is_some(),
            aliases: dedup(aliases),
            interface,
            host_veth: String::new(),
            host_index: 0,
            published: Vec::new(),
            link_local_ips: extras.link_local_ips.clone(),
        };
        target.endpoints.push(endpoint.clone());
        self.save_network(&target)?;
        self.record_event(&endpoint_event(&target, "connect", container_id));
        Ok(endpoint)
    }

    /// The networks among `networks` the container is on: those with its endpoint, and
    /// the host or none network its record names.
    fn joined_networks<'n>(
        &self,
        networks: &'n [NetworkRecord],
        container_id: &ContainerId,
    ) -> Vec<&'n NetworkRecord> {
        let mode = self
            .load_record(container_id)
            .ok()
            .map(|r| r.config.network.mode);
        networks
            .iter()
            .filter(|n| {
                n.endpoint(container_id).is_some()
                    || mode.is_some_and(|mode| n.derives_endpoint_for(mode))
            })
            .collect()
    }

    /// The requested address if free, or the lowest free one.
    fn lease(
        &self,
        network: &NetworkRecord,
        plan: &AddressPlan,
        requested: Option<Ipv4Addr>,
    ) -> Result<Ipv4Addr> {
        let used: BTreeSet<Ipv4Addr> = network.endpoints.iter().filter_map(|e| e.ip).collect();
        match requested {
            Some(ip) => {
                plan.check_requested(ip)?;
                if let Some(holder) = network.endpoints.iter().find(|e| e.ip == Some(ip)) {
                    return Err(Error::Conflict(format!(
                        "address {ip} on network {} is in use by container {}",
                        network.name, holder.container_name
                    )));
                }
                Ok(ip)
            }
            None => plan.first_free(&used).ok_or_else(|| {
                Error::Conflict(format!(
                    "network {}: no free address left in {}",
                    network.name,
                    plan.ip_range.unwrap_or(plan.subnet)
                ))
            }),
        }
    }

    /// Detaches a container from a network in the records, freeing its address.
    /// Returns the endpoint it had, or None if it was not attached.
    pub(crate) fn release_endpoint(
        &self,
        network: &str,
        container_id: &ContainerId,
    ) -> Result<Option<Endpoint>> {
        let lock = self.lock()?;
        self.release_endpoint_locked(&lock, network, container_id)
    }

    /// As [`Engine::release_endpoint`]; call with the engine lock held.
    pub(crate) fn release_endpoint_locked(
        &self,
        _held: &StateLock,
        network: &str,
        container_id: &ContainerId,
    ) -> Result<Option<Endpoint>> {
        let mut target = find_network(self.networks_locked(_held, Some(container_id))?, network)?;
        self.detach_endpoint(&mut target, container_id, Durability::Synced)
    }

    /// Takes a container's endpoint out of `network` and saves the record (lock held):
    /// the endpoint it had, or None if it was not attached.
    fn detach_endpoint(
        &self,
        network: &mut NetworkRecord,
        container_id: &ContainerId,
        durability: Durability,
    ) -> Result<Option<Endpoint>> {
        let Some(at) = network
            .endpoints
            .iter()
            .position(|e| &e.container_id == container_id)
        else {
            return Ok(None);
        };
        let endpoint = network.endpoints.remove(at);
        write_json_atomic_with(&self.network_path(&network.id), network, durability)?;
        self.record_event(&endpoint_event(network, "disconnect", container_id));
        Ok(Some(endpoint))
    }

    /// Releases every endpoint of a container (at `rm`, once it is gone): returns (network
    /// name, endpoint). See [`Engine::release_endpoints_locked`].
    pub(crate) fn release_container_endpoints(
        &self,
        container: &ContainerRecord,
    ) -> Result<Vec<(String, Endpoint)>> {
        let lock = self.lock()?;
        self.release_endpoints_locked(&lock, std::slice::from_ref(container))
    }

    /// Releases every endpoint of the given containers, gone already (lock held): each
    /// network record is read and written once however many there are, and a derived
    /// endpoint (host, none) is only told of. Returns (network name, endpoint). Only
    /// their own endpoints are looked at, and the records are not fsync'd: a lease that a
    /// crash or a lost write leaves is a gone container's, reclaimed at the next
    /// allocation. (Reclaiming every network's here cost a `stat` per endpoint per rm.)
    pub(crate) fn release_endpoints_locked(
        &self,
        _held: &StateLock,
        containers: &[ContainerRecord],
    ) -> Result<Vec<(String, Endpoint)>> {
        let ids: std::collections::HashSet<&ContainerId> =
            containers.iter().map(|c| &c.id).collect();
        let mut released = Vec::new();
        for mut network in self.read_networks()? {
            let (gone, kept): (Vec<Endpoint>, Vec<Endpoint>) =
                std::mem::take(&mut network.endpoints)
                    .into_iter()
                    .partition(|e| ids.contains(&e.container_id));
            network.endpoints = kept;
            if !gone.is_empty() {
                write_json_atomic_with(
                    &self.network_path(&network.id),
                    &network,
                    Durability::Unsynced,
                )?;
            }
            let derived = containers.iter().filter(|c| {
                network.derives_endpoint_for(c.config.network.mode)
                    && !gone.iter().any(|e| e.container_id == c.id)
            });
            let derived: Vec<Endpoint> = derived
                .map(|c| network.derived_endpoint(&c.id, &c.name))
                .collect();
            for endpoint in gone.into_iter().chain(derived) {
                self.record_event(&endpoint_event(
                    &network,
                    "disconnect",
                    &endpoint.container_id,
                ));
                released.push((network.name.clone(), endpoint));
            }
        }
        Ok(released)
    }

    /// The networks a container is attached to, with its endpoint on each, in the order
    /// of its interfaces (eth0 first), the host or none network its record names included.
    pub(crate) fn container_endpoints_of(
        &self,
        container: &ContainerRecord,
    ) -> Result<Vec<(NetworkRecord, Endpoint)>> {
        let mut found = self.container_endpoints(&container.id)?;
        if found.is_empty() {
            let builtin = self
                .read_networks()?
                .into_iter()
                .find(|n| n.derives_endpoint_for(container.config.network.mode));
            if let Some(network) = builtin {
                let endpoint = network.derived_endpoint(&container.id, &container.name);
                found.push((network, endpoint));
            }
        }
        Ok(found)
    }

    /// The networks a container is attached to through endpoints their records keep (of
    /// a container on host or none: none, but what an older berth stored), with its
    /// endpoint on each, in the order of its interfaces (eth0 first).
    pub(crate) fn container_endpoints(
        &self,
        container_id: &ContainerId,
    ) -> Result<Vec<(NetworkRecord, Endpoint)>> {
        let mut found: Vec<(NetworkRecord, Endpoint)> = self
            .read_networks()?
            .into_iter()
            .filter_map(|n| {
                let e = n.endpoint(container_id)?.clone();
                Some((n, e))
            })
            .collect();
        found.sort_by_key(|(_, e)| interface_index(&e.interface));
        Ok(found)
    }

    /// Records the host end of a container's veth on a network (once it is made).
    pub(crate) fn set_host_veth(
        &self,
        network: &str,
        container_id: &ContainerId,
        host_end: Option<&HostEnd>,
    ) -> Result<()> {
        let _lock = self.lock()?;
        let mut target = find_network(self.read_networks()?, network)?;
        let endpoint = target
            .endpoints
            .iter_mut()
            .find(|e| &e.container_id == container_id)
            .ok_or_else(|| {
                Error::Conflict(format!(
                    "container {container_id} is not connected to network {}",
                    target.name
                ))
            })?;
        endpoint.host_veth = host_end.map(|e| e.name.clone()).unwrap_or_default();
        endpoint.host_index = host_end.map_or(0, |e| e.index);
        self.save_network(&target)
    }

    /// `network connect`: the record side (the link is the caller's). The host and none
    /// networks are only joined at `run`, alone, as in Docker.
    pub(crate) fn connect_network(
        &self,
        network: &str,
        container: &str,
        requested_ip: Option<Ipv4Addr>,
        aliases: Vec<String>,
        extras: &EndpointExtras,
    ) -> Result<(NetworkRecord, Endpoint)> {
        let lock = self.lock()?;
        let record = self.find_record(container)?;
        self.ensure_default_networks_locked(&lock)?;
        let target = find_network(self.read_networks()?, network)?;
        if !target.driver.has_addresses() {
            return Err(Error::Conflict(format!(
                "container {} can't be connected to the {} network: it is only chosen at run, alone (--network {})",
                record.name, target.name, target.name
            )));
        }
        let endpoint = self.allocate_endpoint_locked(
            &lock,
            &target.id,
            &record.id,
            &record.name,
            requested_ip,
            aliases,
            extras,
        )?;
        Ok((target, endpoint))
    }

    /// `network disconnect`: the record side. With `force`, a container that is not
    /// attached is no error.
    pub(crate) fn disconnect_network(
        &self,
        network: &str,
        container: &str,
        force: bool,
    ) -> Result<Option<(NetworkRecord, Endpoint)>> {
        let lock = self.lock()?;
        let record = self.find_record(container)?;
        self.ensure_default_networks_locked(&lock)?;
        let target = find_network(self.read_networks()?, network)?;
        if !target.stores_endpoints() && target.derives_endpoint_for(record.config.network.mode) {
            return Err(Error::Conflict(format!(
                "container {} can't be disconnected from the {} network: it is only left by removing the container",
                record.name, target.name
            )));
        }
        match self.release_endpoint_locked(&lock, &target.id, &record.id)? {
            Some(e) => Ok(Some((target, e))),
            None if force => Ok(None),
            None => Err(Error::Conflict(format!(
                "container {} is not connected to network {}",
                record.name, target.name
            ))),
        }
    }
}

/// The options Docker shows for its default bridge.
fn default_bridge_options(bridge: &str) -> BTreeMap<String, String> {
    [
        ("com.docker.network.bridge.default_bridge", "true"),
        ("com.docker.network.bridge.enable_icc", "true"),
        ("com.docker.network.bridge.enable_ip_masquerade", "true"),
        ("com.docker.network.bridge.host_binding_ipv4", "0.0.0.0"),
        (BRIDGE_NAME_OPTION, bridge),
        ("com.docker.network.driver.mtu", "1500"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn find_network(networks: Vec<NetworkRecord>, name_or_id: &str) -> Result<NetworkRecord> {
    if name_or_id.is_empty() {
        return Err(Error::NoSuchNetwork(name_or_id.to_owned()));
    }
    if let Some(n) = networks.iter().find(|n| n.id == name_or_id) {
        return Ok(n.clone());
    }
    if let Some(n) = networks.iter().find(|n| n.name == name_or_id) {
        return Ok(n.clone());
    }
    let matches: Vec<&NetworkRecord> = networks
        .iter()
        .filter(|n| n.id.starts_with(name_or_id))
        .collect();
    match matches[..] {
        [n] => Ok(n.clone()),
        [] => Err(Error::NoSuchNetwork(name_or_id.to_owned())),
        _ => Err(Error::Conflict(format!(
            "network {name_or_id} is ambiguous ({} matches found based on ID prefix)",
            matches.len()
        ))),
    }
}

/// Refuses what Docker refuses: joining twice, mixing host/none with other networks,
/// `--ip` and aliases on the default bridge, bad aliases.
fn check_can_join(
    target: &NetworkRecord,
    joined: &[&NetworkRecord],
    container_name: &str,
    requested_ip: Option<Ipv4Addr>,
    aliases: &[String],
) -> Result<()> {
    if joined.iter().any(|n| n.id == target.id) {
        return Err(Error::Conflict(format!(
            "container {container_name} is already connected to network {}",
            target.name
        )));
    }
    if let Some(alone) = joined.iter().find(|n| !n.driver.has_addresses()) {
        return Err(Error::Conflict(format!(
            "container {container_name} uses the {} network and can't be connected to others",
            alone.name
        )));
    }
    if !target.driver.has_addresses() && !joined.is_empty() {
        return Err(Error::Conflict(format!(
            "container {container_name} is connected to other networks and can't join the {} network",
            target.name
        )));
    }
    if target.name == DEFAULT_NETWORK && (requested_ip.is_some() || !aliases.is_empty()) {
        return Err(Error::invalid(
            "endpoint config",
            container_name,
            "a chosen IP address and aliases are supported on user-defined networks only",
        ));
    }
    if aliases.len() > MAX_ALIASES {
        return Err(Error::invalid(
            "aliases",
            container_name,
            format!("at most {MAX_ALIASES} per network"),
        ));
    }
    if let Some(bad) = aliases.iter().find(|a| !valid_alias(a)) {
        return Err(Error::invalid(
            "alias",
            bad,
            "use letters, digits, '_', '.' and '-', starting with a letter or digit",
        ));
    }
    Ok(())
}

/// `--mac-address` and `--link-local-ip` on `target`: both need an interface of the
/// container's own on it (not the host or none network, nor one without a subnet); a
/// chosen MAC must be free there (two interfaces with one MAC on a bridge break both) and
/// is refused on ipvlan, whose links share their parent's, as Docker's; a link-local
/// address must lie outside the subnet, where it would shadow another container's, and
/// be free on the network, as a MAC (two answering one ARP break both).
fn check_extras(target: &NetworkRecord, extras: &EndpointExtras) -> Result<()> {
    let own_interface = target.driver.has_addresses() && plan_of(target).is_some();
    if let Some(mac) = extras.mac {
        let text = mac.to_string();
        if !own_interface {
            return Err(Error::invalid(
                "--mac-address",
                text,
                format!(
                    "conflicting options: mac-address and the network mode (the {} network gives the container no interface of its own)",
                    target.name
                ),
            ));
        }
        if target.driver == Driver::Ipvlan {
            return Err(Error::invalid(
                "--mac-address",
                text,
                "ipvlan interfaces do not support custom mac address assignment (they share their parent's)",
            ));
        }
        if let Some(holder) = target.endpoints.iter().find(|e| e.mac == text) {
            return Err(Error::Conflict(format!(
                "MAC address {text} on network {} is in use by container {}",
                target.name, holder.container_name
            )));
        }
    }
    for ip in &extras.link_local_ips {
        if ip.is_unspecified() || ip.is_multicast() || ip.is_broadcast() || ip.is_loopback() {
            return Err(Error::invalid(
                "--link-local-ip",
                ip.to_string(),
                "invalid link-local IP address: use a unicast address, e.g. 169.254.1.1",
            ));
        }
        if !own_interface {
            return Err(Error::invalid(
                "--link-local-ip",
                ip.to_string(),
                format!(
                    "the {} network gives the container no interface of its own to carry it",
                    target.name
                ),
            ));
        }
        if let Some(subnet) = target.subnet.filter(|s| s.contains(ip)) {
            return Err(Error::invalid(
                "--link-local-ip",
                ip.to_string(),
                format!(
                    "it is inside network {}'s subnet {subnet}, where it would shadow another container's address: use one outside it, e.g. in 169.254.0.0/16",
                    target.name
                ),
            ));
        }
        if let Some(holder) = target
            .endpoints
            .iter()
            .find(|e| e.link_local_ips.contains(ip))
        {
            return Err(Error::Conflict(format!(
                "link-local address {ip} on network {} is in use by container {}",
                target.name, holder.container_name
            )));
        }
    }
    Ok(())
}

fn dedup(aliases: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    aliases
        .into_iter()
        .filter(|a| seen.insert(a.clone()))
        .collect()
}

fn interface_index(name: &str) -> u32 {
    name.strip_prefix("eth")
        .and_then(|n| n.parse().ok())
        .unwrap_or(u32::MAX)
}

/// The lowest `ethN` the container has on none of its networks.
fn next_interface(joined: &[&NetworkRecord], container: &ContainerId) -> String {
    let used: BTreeSet<u32> = joined
        .iter()
        .filter_map(|n| n.endpoint(container))
        .map(|e| interface_index(&e.interface))
        .collect();
    let free = (0..).find(|i| !used.contains(i)).unwrap_or(0);
    format!("eth{free}")
}

/// The built-in networks `have` lacks.
fn missing_builtins(have: &[NetworkRecord]) -> Vec<&'static str> {
    super::record::BUILTIN_NETWORKS
        .into_iter()
        .filter(|b| !have.iter().any(|n| n.name == *b))
        .collect()
}

/// Adds to the host and none networks among `networks` the endpoints of the containers
/// in `records` (every record of the root) that are on them, oldest container first,
/// after any an older berth stored.
pub(crate) fn derive_endpoints(networks: &mut [NetworkRecord], records: &[ContainerRecord]) {
    if networks.iter().all(NetworkRecord::stores_endpoints) {
        return;
    }
    let mut oldest_first: Vec<&ContainerRecord> = records.iter().collect();
    oldest_first.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
    for network in networks.iter_mut().filter(|n| !n.stores_endpoints()) {
        for record in &oldest_first {
            if network.derives_endpoint_for(record.config.network.mode)
                && network.endpoint(&record.id).is_none()
            {
                let endpoint = network.derived_endpoint(&record.id, &record.name);
                network.endpoints.push(endpoint);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::record::NetworkMode;

    fn engine() -> (tempfile::TempDir, Engine) {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        (dir, engine)
    }

    /// A container as far as leases care: its directory.
    fn container(engine: &Engine) -> ContainerId {
        let id = ContainerId::random();
        std::fs::create_dir(engine.paths().container(&id)).unwrap();
        id
    }

    fn net(engine: &Engine, name: &str, subnet: &str) -> NetworkRecord {
        engine
            .create_network(CreateNetwork {
                name: name.into(),
                subnet: Some(subnet.parse().unwrap()),
                ..Default::default()
            })
            .unwrap()
            .network
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    /// The dashboard hands over the records it read, newest first: the host network
    /// still lists its containers oldest first, as `network_states` does, and the none
    /// network only its own.
    #[test]
    fn derived_endpoints_from_given_records_come_oldest_first() {
        let (_dir, engine) = engine();
        let record = |name: &str, age: i64, mode: NetworkMode| {
            let mut config = crate::container::ContainerConfig::default();
            config.network.mode = mode;
            crate::container::ContainerRecord {
                id: ContainerId::random(),
                name: name.into(),
                created: chrono::Utc::now() - chrono::Duration::seconds(age),
                image: "busybox".into(),
                image_id: crate::ids::Digest::of_bytes(b"image"),
                chain_ids: Vec::new(),
                config,
                state: Default::default(),
            }
        };
        let newest_first = [
            record("new", 1, NetworkMode::Host),
            record("quiet", 2, NetworkMode::None),
            record("old", 3, NetworkMode::Host),
        ];
        let mut networks = engine.list_networks().unwrap();
        derive_endpoints(&mut networks, &newest_first);
        let names = |driver: Driver| -> Vec<String> {
            let network = networks.iter().find(|n| n.driver == driver).unwrap();
            network
                .endpoints
                .iter()
                .map(|e| e.container_name.clone())
                .collect()
        };
        assert_eq!(names(Driver::Host), ["old", "new"]);
        assert_eq!(names(Driver::Null), ["quiet"]);
        assert!(networks
            .iter()
            .filter(|n| n.driver == Driver::Bridge)
            .all(|n| n.endpoints.is_empty()));
    }

    #[test]
    fn concurrent_allocations_get_distinct_addresses() {
        let (dir, engine) = engine();
        net(&engine, "busy", "10.20.0.0/24");
        let ids: Vec<ContainerId> = (0..20).map(|_| container(&engine)).collect();
        let threads: Vec<_> = ids
            .into_iter()
            .enumerate()
            .map(|(i, id)| {
                let root = dir.path().to_owned();
                std::thread::spawn(move || {
                    // Each thread its own handle, as separate processes would have.
                    let engine = Engine::open(&root).unwrap();
                    engine
                        .allocate_endpoint("busy", &id, &format!("c{i}"), None, Vec::new())
                        .unwrap()
                })
            })
            .collect();
        let got: BTreeSet<Ipv4Addr> = threads
            .into_iter()
            .map(|t| t.join().unwrap().ip.unwrap())
            .collect();
        assert_eq!(got.len(), 20);
        let expected: BTreeSet<Ipv4Addr> = (2..22).map(|i| Ipv4Addr::new(10, 20, 0, i)).collect();
        assert_eq!(got, expected);
        assert_eq!(engine.network("busy").unwrap().endpoints.len(), 20);
    }

    #[test]
    fn static_addresses_stay_until_release_and_stale_leases_are_reclaimed() {
        let (_dir, engine) = engine();
        net(&engine, "app", "172.30.0.0/24");
        let (a, b, c) = (container(&engine), container(&engine), container(&engine));
        let e = engine
            .allocate_endpoint("app", &a, "a", Some(ip("172.30.0.2")), vec!["db".into()])
            .unwrap();
        assert_eq!(
            (e.ip, e.mac.as_str(), e.interface.as_str(), e.static_ip),
            (Some(ip("172.30.0.2")), "02:42:ac:1e:00:02", "eth0", true)
        );
        let e = engine
            .allocate_endpoint("app", &b, "b", None, vec![])
            .unwrap();
        assert_eq!(e.ip, Some(ip("172.30.0.3")));
        let err = engine
            .allocate_endpoint("app", &c, "c", Some(ip("172.30.0.3")), vec![])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("172.30.0.3") && err.contains("container b"),
            "{err}"
        );
        let err = engine
            .allocate_endpoint("app", &a, "a", None, vec![])
            .unwrap_err()
            .to_string();
        assert!(err.contains("already connected"), "{err}");

        // b is removed without releasing: its address goes back at the next allocation.
        std::fs::remove_dir(engine.paths().container(&b)).unwrap();
        let e = engine
            .allocate_endpoint("app", &c, "c", None, vec![])
            .unwrap();
        assert_eq!(e.ip, Some(ip("172.30.0.3")));
        let names: Vec<String> = engine
            .network("app")
            .unwrap()
            .endpoints
            .into_iter()
            .map(|e| e.container_name)
            .collect();
        assert_eq!(names, ["a", "c"]);

        assert!(engine.release_endpoint("app", &a).unwrap().is_some());
        assert!(engine.release_endpoint("app", &a).unwrap().is_none());
        let e = engine.allocate_endpoint("app", &b, "b2", None, vec![]);
        assert_eq!(
            e.unwrap().ip,
            Some(ip("172.30.0.2")),
            "a's static address is free"
        );
    }

    #[test]
    fn interfaces_count_up_and_host_none_stay_alone() {
        let (_dir, engine) = engine();
        net(&engine, "one", "10.1.0.0/24");
        net(&engine, "two", "10.2.0.0/24");
        let a = container(&engine);
        let e0 = engine
            .allocate_endpoint("one", &a, "a", None, vec![])
            .unwrap();
        let e1 = engine
            .allocate_endpoint("two", &a, "a", None, vec![])
            .unwrap();
        assert_eq!(
            (e0.interface.as_str(), e1.interface.as_str()),
            ("eth0", "eth1")
        );
        engine.release_endpoint("one", &a).unwrap();
        let again = engine
            .allocate_endpoint("one", &a, "a", None, vec![])
            .unwrap();
        assert_eq!(again.interface, "eth0");
        let listed: Vec<String> = engine
            .container_endpoints(&a)
            .unwrap()
            .into_iter()
            .map(|(n, _)| n.name)
            .collect();
        assert_eq!(listed, ["one", "two"]);

        let err = engine
            .allocate_endpoint("host", &a, "a", None, vec![])
            .unwrap_err();
        assert!(
            err.to_string().contains("can't join the host network"),
            "{err}"
        );
        let h = container(&engine);
        let e = engine
            .allocate_endpoint("host", &h, "h", None, vec![])
            .unwrap();
        assert_eq!((e.ip, e.interface.as_str()), (None, ""));
        // The host network keeps no endpoint: the container's record says where it is.
        assert!(engine.network_record("host").unwrap().endpoints.is_empty());
        let h = record(&engine, h, "h", NetworkMode::Host);
        let err = engine
            .allocate_endpoint("one", &h.id, "h", None, vec![])
            .unwrap_err();
        assert!(err.to_string().contains("uses the host network"), "{err}");
        let host = engine.network("host").unwrap();
        assert_eq!(host.endpoints, std::slice::from_ref(&e));
        let listed = engine.container_endpoints_of(&h).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].0.name.as_str(), &listed[0].1), ("host", &e));

        let a = record(&engine, a, "a", NetworkMode::Connected);
        let released = engine.release_container_endpoints(&a).unwrap();
        assert_eq!(released.len(), 2);
        assert!(engine.container_endpoints(&a.id).unwrap().is_empty());
        let released = engine.release_container_endpoints(&h).unwrap();
        assert_eq!(released, [("host".to_owned(), e)]);
    }

    /// The record of a container in directory `id`, on networks of `mode`.
    fn record(engine: &Engine, id: ContainerId, name: &str, mode: NetworkMode) -> ContainerRecord {
        let record = ContainerRecord {
            id,
            name: name.into(),
            created: Utc::now(),
            image: "busybox".into(),
            image_id: crate::Digest::of_bytes(b"image"),
            chain_ids: Vec::new(),
            config: crate::container::ContainerConfig {
                network: crate::container::record::NetworkConfig {
                    mode,
                    ..Default::default()
                },
                ..Default::default()
            },
            state: Default::default(),
        };
        engine.save_record(&record).unwrap();
        record
    }

    #[test]
    fn remove_and_prune_spare_builtins_and_networks_in_use() {
        let (_dir, engine) = engine();
        let names: Vec<String> = engine
            .list_networks()
            .unwrap()
            .into_iter()
            .map(|n| n.name)
            .collect();
        assert_eq!(names, ["bridge", "host", "none"]);
        net(&engine, "used", "10.3.0.0/24");
        net(&engine, "idle", "10.4.0.0/24");
        let a = container(&engine);
        engine
            .allocate_endpoint("used", &a, "web", None, vec![])
            .unwrap();
        let err = engine.remove_network("used").unwrap_err().to_string();
        assert!(err.contains("network used") && err.contains("web"), "{err}");
        let err = engine.remove_network("host").unwrap_err().to_string();
        assert!(err.contains("pre-defined"), "{err}");
        let pruned: Vec<String> = engine
            .prune_networks()
            .unwrap()
            .into_iter()
            .map(|n| n.name)
            .collect();
        assert_eq!(pruned, ["idle"]);
        std::fs::remove_dir(engine.paths().container(&a)).unwrap();
        assert_eq!(engine.remove_network("used").unwrap().name, "used");
        assert_eq!(engine.list_networks().unwrap().len(), 3);
    }

    #[test]
    fn create_refuses_overlaps_names_and_bad_options_without_writing() {
        let (_dir, engine) = engine();
        net(&engine, "a", "10.5.0.0/16");
        let before = engine.list_networks().unwrap().len();
        let create = |name: &str, subnet: &str, options: &[(&str, &str)]| {
            engine
                .create_network(CreateNetwork {
                    name: name.into(),
                    subnet: Some(subnet.parse().unwrap()),
                    options: options
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    ..Default::default()
                })
                .unwrap_err()
                .to_string()
        };
        let err = create("b", "10.5.3.0/24", &[]);
        assert!(err.contains("overlaps network a"), "{err}");
        let err = create("a", "10.6.0.0/24", &[]);
        assert!(err.contains("already exists"), "{err}");
        let err = create("-x", "10.6.0.0/24", &[]);
        assert!(err.contains("network name"), "{err}");
        let err = create("c", "10.6.0.0/24", &[("macvlan_mode", "weird")]);
        assert!(err.contains("macvlan_mode"), "{err}");
        let err = create(
            "c",
            "10.6.0.0/24",
            &[(BRIDGE_NAME_OPTION, "a-much-too-long-name")],
        );
        assert!(err.contains("interface name"), "{err}");
        assert_eq!(engine.list_networks().unwrap().len(), before);
    }
}
