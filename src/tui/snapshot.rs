//! What the dashboard shows, read from the engine in one go off the draw loop. The views
//! render these engine types; nothing here is formatted yet.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::engine::{
    ContainerId, ContainerRecord, ContainerStats, Digest, EndpointState, Engine, ImageSummary,
    LinkRates, MountView, NetworkState, Result, VolumeInfo,
};

#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Newest first, as `ps`, as loaded; then in the dashboard's sort (`App::order_containers`).
    pub containers: Vec<ContainerRecord>,
    pub images: Vec<ImageRow>,
    pub volumes: Vec<VolumeInfo>,
    /// Each container's mounts with their host sources.
    pub mounts: HashMap<ContainerId, Vec<MountView>>,
    /// Every network with its bridge and ports as the kernel has them (no counters).
    pub networks: Vec<NetworkState>,
    pub taken: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct ImageRow {
    pub summary: ImageSummary,
    /// Names of the containers made from it.
    pub containers: Vec<String>,
}

impl ImageRow {
    /// Its first tag, or its short ID when it has none.
    pub fn name(&self) -> String {
        self.summary
            .references
            .first()
            .map_or_else(|| self.summary.id.short().to_owned(), |r| r.to_string())
    }
}

impl Snapshot {
    pub fn load(engine: &Engine) -> Result<Snapshot> {
        // The volumes and images don't depend on the container records: read on a thread
        // beside them, the volumes' users joined after. The networks come after the
        // records, which give the host and none networks their containers (read once).
        let (others, containers, networks) = std::thread::scope(|scope| {
            let others = scope.spawn(|| -> Result<_> {
                Ok((engine.list_volumes_used_by(&[])?, engine.list_images(true)?))
            });
            let containers = engine.list_containers();
            let networks = containers.as_ref().ok().map(|containers| {
                match engine.network_states_with(containers, false) {
                    Ok(networks) => Ok(networks),
                    // The records still show without the live link state (a netlink
                    // failure must not take the other panes down with it).
                    Err(_) => engine
                        .list_networks()
                        .map(|n| crate::engine::join_network_states(n, &[])),
                }
            });
            let others = others
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (others, containers, networks)
        });
        let (mut volumes, images) = others?;
        let mut containers = containers?;
        let networks = networks.transpose()?.unwrap_or_default();
        Engine::join_volume_users(&mut volumes, &containers);
        containers.sort_by_key(|c| std::cmp::Reverse(c.created));
        let mut users: HashMap<&Digest, Vec<String>> = HashMap::new();
        for c in &containers {
            users.entry(&c.image_id).or_default().push(c.name.clone());
        }
        let images = images
            .into_iter()
            .map(|summary| ImageRow {
                containers: users.get(&summary.id).cloned().unwrap_or_default(),
                summary,
            })
            .collect();
        let mounts = containers
            .iter()
            .map(|c| (c.id.clone(), engine.container_mounts(c)))
            .collect();
        let mut snapshot = Snapshot {
            containers,
            mounts,
            networks,
            images,
            volumes,
            taken: Some(Utc::now()),
        };
        snapshot.sort_by_name();
        Ok(snapshot)
    }

    /// Images, volumes and networks by name as people count (`vol-2` before `vol-10`);
    /// untagged images after the tagged, by ID. Here, off the draw loop, once a load.
    pub fn sort_by_name(&mut self) {
        self.images.sort_by(|a, b| {
            let key = |i: &ImageRow| (i.summary.references.is_empty(), i.name());
            let (a, b) = (key(a), key(b));
            a.0.cmp(&b.0).then_with(|| natord::compare(&a.1, &b.1))
        });
        self.volumes
            .sort_by(|a, b| natord::compare(&a.volume.name, &b.volume.name));
        sort_networks(&mut self.networks);
    }
}

/// Networks by name as people count (`net-2` before `net-10`).
pub fn sort_networks(networks: &mut [NetworkState]) {
    networks.sort_by(|a, b| natord::compare(&a.name, &b.name));
}

impl Snapshot {
    /// A container's endpoints with their networks, in the order of its interfaces.
    pub fn endpoints_of(&self, id: &ContainerId) -> Vec<(&NetworkState, &EndpointState)> {
        let mut found: Vec<(&NetworkState, &EndpointState)> = self
            .networks
            .iter()
            .filter_map(|n| n.endpoint(id).map(|e| (n, e)))
            .collect();
        found.sort_by_key(|(_, e)| interface_slot(&e.interface));
        found
    }

    /// The address of a container's first interface, as the containers pane shows it.
    pub fn first_ip(&self, id: &ContainerId) -> Option<std::net::Ipv4Addr> {
        self.endpoints_of(id)
            .into_iter()
            .find_map(|(_, e)| e.address.map(|a| a.addr()))
    }
}

/// eth0, eth1, ... in number order (eth10 after eth9).
fn interface_slot(interface: &str) -> (usize, String) {
    let number = interface
        .trim_start_matches("eth")
        .parse()
        .unwrap_or(usize::MAX);
    (number, interface.to_owned())
}

/// Each live port's rates between two samples of the networks taken `seconds` apart, by
/// host veth name. Ports missing from either sample (just made or gone) have none.
pub fn port_rates(
    before: &[NetworkState],
    after: &[NetworkState],
    seconds: f64,
) -> HashMap<String, LinkRates> {
    let counters = |states: &[NetworkState]| -> HashMap<String, crate::engine::LinkCounters> {
        states
            .iter()
            .flat_map(|n| &n.endpoints)
            .filter_map(|e| Some((e.host_veth.clone(), e.port.as_ref()?.counters?)))
            .collect()
    };
    let then = counters(before);
    counters(after)
        .into_iter()
        .filter_map(|(name, now)| {
            let rates = LinkRates::between(then.get(&name)?, &now, seconds);
            Some((name, rates))
        })
        .collect()
}

/// The latest stats per running container, with a short history for sparklines.
#[derive(Debug, Clone, Default)]
pub struct StatsBoard {
    pub latest: HashMap<ContainerId, ContainerStats>,
    pub cpu_history: HashMap<ContainerId, Vec<u64>>,
    pub memory_history: HashMap<ContainerId, Vec<u64>>,
}

/// Samples kept per container for sparklines.
pub const HISTORY: usize = 120;

impl StatsBoard {
    pub fn update(&mut self, stats: Vec<ContainerStats>) {
        let live: std::collections::HashSet<ContainerId> =
            stats.iter().map(|s| s.id.clone()).collect();
        self.latest.retain(|id, _| live.contains(id));
        self.cpu_history.retain(|id, _| live.contains(id));
        self.memory_history.retain(|id, _| live.contains(id));
        for s in stats {
            push_bounded(
                self.cpu_history.entry(s.id.clone()).or_default(),
                (s.cpu_percent * 100.0) as u64,
            );
            push_bounded(
                self.memory_history.entry(s.id.clone()).or_default(),
                s.memory_usage,
            );
            self.latest.insert(s.id.clone(), s);
        }
    }
}

fn push_bounded(history: &mut Vec<u64>, value: u64) {
    if history.len() == HISTORY {
        history.remove(0);
    }
    history.push(value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{ImageSummary, Volume};

    #[test]
    fn images_volumes_and_networks_sort_as_people_count() {
        let volume = |name: &str| VolumeInfo {
            volume: Volume {
                name: name.into(),
                created: Utc::now(),
                labels: Default::default(),
                anonymous: false,
            },
            mountpoint: format!("/v/{name}/_data").into(),
            users: Vec::new(),
        };
        let image = |reference: Option<&str>, config: &[u8]| ImageRow {
            summary: ImageSummary {
                id: Digest::of_bytes(config),
                references: reference.map(|r| r.parse().unwrap()).into_iter().collect(),
                created: None,
                size: 1,
            },
            containers: Vec::new(),
        };
        let network = |name: &str| NetworkState {
            name: name.into(),
            ..crate::tui::update::testing::network(name, &[])
        };
        let mut snapshot = Snapshot {
            volumes: ["vol-10", "vol-2", "data", "vol-1"].map(volume).into(),
            images: vec![
                image(None, b"untagged"),
                image(Some("app:10"), b"a10"),
                image(Some("app:9"), b"a9"),
                image(Some("alpine:3"), b"alp"),
            ],
            networks: ["net-10", "net-2", "bridge"].map(network).into(),
            ..Default::default()
        };
        snapshot.sort_by_name();
        let volumes: Vec<&str> = snapshot
            .volumes
            .iter()
            .map(|v| v.volume.name.as_str())
            .collect();
        assert_eq!(volumes, ["data", "vol-1", "vol-2", "vol-10"]);
        let images: Vec<String> = snapshot.images.iter().map(ImageRow::name).collect();
        assert_eq!(images[..3], ["alpine:3", "app:9", "app:10"]);
        assert!(snapshot.images[3].summary.references.is_empty());
        let networks: Vec<&str> = snapshot.networks.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(networks, ["bridge", "net-2", "net-10"]);
    }
}
