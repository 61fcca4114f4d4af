//! What the dashboard shows, read from the engine in one go off the draw loop. The views
//! render these engine types; nothing here is formatted yet.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::engine::container::stats::ContainerStats;
use crate::engine::container::ContainerRecord;
use crate::engine::image::ImageSummary;
use crate::engine::storage::mounts::MountView;
use crate::engine::storage::volumes::VolumeInfo;
use crate::engine::{ContainerId, Digest, Engine, Result};

#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Newest first, as `ps`.
    pub containers: Vec<ContainerRecord>,
    pub images: Vec<ImageRow>,
    pub volumes: Vec<VolumeInfo>,
    /// Each container's mounts with their host sources.
    pub mounts: HashMap<ContainerId, Vec<MountView>>,
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
        let mut containers = engine.list_containers()?;
        let volumes = engine.list_volumes_used_by(&containers)?;
        containers.sort_by_key(|c| std::cmp::Reverse(c.created));
        let mut users: HashMap<&Digest, Vec<String>> = HashMap::new();
        for c in &containers {
            users.entry(&c.image_id).or_default().push(c.name.clone());
        }
        let images = engine
            .list_images(true)?
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
        Ok(Snapshot {
            containers,
            mounts,
            images,
            volumes,
            taken: Some(Utc::now()),
        })
    }
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
