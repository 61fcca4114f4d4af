//! What the dashboard shows, read from the engine in one go off the draw loop. The views
//! render these engine types; nothing here is formatted yet.

use std::collections::HashMap;
use std::time::{Duration, Instant};

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

/// The latest stats per running container, with a short history for sparklines. Only
/// the containers on screen are sampled; the others' histories are kept (with a gap)
/// until they stop, so going into a detail and back loses nothing.
#[derive(Debug, Clone, Default)]
pub struct StatsBoard {
    /// The last sample of each container sampled last time.
    pub latest: HashMap<ContainerId, ContainerStats>,
    /// CPU in hundredths of a percent.
    pub cpu_history: HashMap<ContainerId, Vec<u64>>,
    /// Memory in use, bytes.
    pub memory_history: HashMap<ContainerId, Vec<u64>>,
    /// Network and block I/O per second, between a container's last two samples.
    pub io_history: HashMap<ContainerId, IoHistory>,
    /// When each container's last sample was taken, for the rates.
    sampled: HashMap<ContainerId, Instant>,
}

/// Bytes a second, one entry a sample.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IoHistory {
    /// What the container received and sent on all its interfaces.
    pub net_rx: Vec<u64>,
    pub net_tx: Vec<u64>,
    pub block_read: Vec<u64>,
    pub block_write: Vec<u64>,
}

/// Samples kept per container for sparklines.
pub const HISTORY: usize = 120;
/// A sample further than this from the one before gives no rate (the container was off
/// screen between them).
const RATE_GAP: Duration = Duration::from_secs(3);

impl StatsBoard {
    /// The samples taken `at`.
    pub fn update(&mut self, stats: Vec<ContainerStats>, at: Instant) {
        let live: std::collections::HashSet<ContainerId> =
            stats.iter().map(|s| s.id.clone()).collect();
        let before = std::mem::take(&mut self.latest);
        for s in stats {
            push_bounded(
                self.cpu_history.entry(s.id.clone()).or_default(),
                (s.cpu_percent * 100.0) as u64,
            );
            push_bounded(
                self.memory_history.entry(s.id.clone()).or_default(),
                s.memory_usage,
            );
            let previous = self.sampled.insert(s.id.clone(), at);
            let seconds = previous
                .map(|p| at.saturating_duration_since(p))
                .filter(|gap| !gap.is_zero() && *gap <= RATE_GAP)
                .map(|gap| gap.as_secs_f64());
            if let (Some(seconds), Some(old)) = (seconds, before.get(&s.id)) {
                let rate = |new: u64, old: u64| (new.saturating_sub(old) as f64 / seconds) as u64;
                let io = self.io_history.entry(s.id.clone()).or_default();
                push_bounded(&mut io.net_rx, rate(s.net_rx, old.net_rx));
                push_bounded(&mut io.net_tx, rate(s.net_tx, old.net_tx));
                push_bounded(&mut io.block_read, rate(s.block_read, old.block_read));
                push_bounded(&mut io.block_write, rate(s.block_write, old.block_write));
            }
            self.latest.insert(s.id.clone(), s);
        }
        self.latest.retain(|id, _| live.contains(id));
    }

    /// Drops the histories of containers no longer running (a reload of the engine's
    /// state says which run).
    pub fn keep_only(&mut self, running: &std::collections::HashSet<&str>) {
        let keep = |id: &ContainerId| running.contains(id.as_str());
        self.latest.retain(|id, _| keep(id));
        self.cpu_history.retain(|id, _| keep(id));
        self.memory_history.retain(|id, _| keep(id));
        self.io_history.retain(|id, _| keep(id));
        self.sampled.retain(|id, _| keep(id));
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
    use crate::engine::{ContainerId, ImageSummary, Volume};

    fn sample(id: &ContainerId, rx: u64, written: u64) -> ContainerStats {
        ContainerStats {
            id: id.clone(),
            name: "web".into(),
            running: true,
            cpu_percent: 1.5,
            memory_usage: 1 << 20,
            memory_limit: 1 << 30,
            memory_percent: 0.1,
            net_rx: rx,
            net_tx: 0,
            block_read: 0,
            block_write: written,
            pids: 1,
        }
    }

    /// Rates come from a container's last two samples; a container not sampled (off
    /// screen, the user in another's detail) keeps its history until it stops.
    #[test]
    fn histories_outlive_a_sample_without_them_and_io_becomes_rates() {
        let (web, db) = (ContainerId::random(), ContainerId::random());
        let mut board = StatsBoard::default();
        let t0 = Instant::now();
        board.update(vec![sample(&web, 1000, 0), sample(&db, 0, 0)], t0);
        board.update(
            vec![sample(&web, 3000, 4096), sample(&db, 0, 0)],
            t0 + Duration::from_secs(2),
        );
        let io = &board.io_history[&web];
        assert_eq!(
            (io.net_rx.as_slice(), io.block_write.as_slice()),
            (&[1000][..], &[2048][..])
        );
        // Only db on screen for a while: web's history stays, its latest goes.
        board.update(vec![sample(&db, 0, 0)], t0 + Duration::from_secs(3));
        assert_eq!(board.cpu_history[&web].len(), 2);
        assert!(!board.latest.contains_key(&web));
        // Back after a gap: a sample, but no rate across the gap.
        board.update(vec![sample(&web, 9000, 4096)], t0 + Duration::from_secs(20));
        assert_eq!(board.cpu_history[&web].len(), 3);
        assert_eq!(board.io_history[&web].net_rx.len(), 1);
        // Stopped: forgotten.
        board.keep_only(&[db.as_str()].into_iter().collect());
        assert!(!board.cpu_history.contains_key(&web));
        assert!(board.cpu_history.contains_key(&db));
    }

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
