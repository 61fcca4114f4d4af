//! `system prune` and `system info`.

use serde::Serialize;

use crate::engine::container::Status;
use crate::engine::error::{Error, Result};
use crate::engine::ids::ContainerId;
use crate::engine::image::Removal;
use crate::engine::storage::volumes::dir_size;
use crate::engine::Engine;

/// What `system prune` removed.
#[derive(Debug, Default)]
pub struct Pruned {
    pub containers: Vec<ContainerId>,
    pub volumes: Vec<String>,
    /// Names of the networks no container used.
    pub networks: Vec<String>,
    pub images: Vec<Removal>,
    /// Bytes freed: measured on disk before and after, so shared layers count once.
    pub reclaimed: u64,
}

/// What `system info` shows.
#[derive(Debug, Serialize)]
pub struct Info {
    pub containers: usize,
    pub running: usize,
    pub stopped: usize,
    pub images: usize,
    pub volumes: usize,
    pub root: String,
    pub storage_driver: &'static str,
    pub cgroup_version: &'static str,
    pub kernel: String,
    pub operating_system: String,
    pub architecture: &'static str,
}

impl Engine {
    /// Removes stopped containers, then (with `volumes`) unused anonymous volumes, then
    /// images no container uses: dangling ones, or all with `all`.
    pub fn prune_system(&self, all: bool, volumes: bool) -> Result<Pruned> {
        let before = self.disk_usage();
        let mut pruned = Pruned {
            containers: self.prune_containers()?.0,
            ..Pruned::default()
        };
        if volumes {
            pruned.volumes = self.prune_volumes(false)?.0;
        }
        pruned.networks = self
            .prune_and_unwire_networks()?
            .into_iter()
            .map(|n| n.name)
            .collect();
        let tags = self.tags()?;
        for image in self.image_records()? {
            let tagged = tags.values().any(|id| *id == image.id);
            if (tagged && !all) || !self.containers_using_image(&image.id)?.is_empty() {
                continue;
            }
            // By ID and forced: every tag of an unused image goes with it.
            pruned
                .images
                .extend(self.remove_image(&image.id.to_string(), true)?);
        }
        pruned.reclaimed = before.saturating_sub(self.disk_usage());
        Ok(pruned)
    }

    /// Removes every container that is not running (`container prune`); returns their
    /// IDs and the bytes their directories held (writable layers and logs).
    pub fn prune_containers(&self) -> Result<(Vec<ContainerId>, u64)> {
        let mut removed = Vec::new();
        let mut reclaimed = 0;
        for record in self.list_containers()? {
            if record.state.status == Status::Running {
                continue;
            }
            let size = dir_size(&self.container_dir(&record.id));
            match self.remove_container(record.id.as_str(), false, false) {
                Ok(_) => {
                    removed.push(record.id);
                    reclaimed += size;
                }
                // Removed meanwhile (a `--rm` container finishing), or started meanwhile.
                Err(Error::NoSuchContainer(_) | Error::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok((removed, reclaimed))
    }

    /// Bytes of container layers, volumes, image layers and blobs.
    fn disk_usage(&self) -> u64 {
        let paths = self.paths();
        [
            paths.containers_dir(),
            paths.volumes_dir(),
            paths.layers_dir(),
            paths.blobs_dir(),
        ]
        .iter()
        .map(|d| dir_size(d))
        .sum()
    }

    pub fn system_info(&self) -> Result<Info> {
        let containers = self.list_containers()?;
        let running = containers
            .iter()
            .filter(|c| c.state.status == Status::Running)
            .count();
        let uname = nix::sys::utsname::uname().ok();
        Ok(Info {
            containers: containers.len(),
            running,
            stopped: containers.len() - running,
            images: self.image_records()?.len(),
            volumes: self.list_volumes()?.len(),
            root: self.paths().root().display().to_string(),
            storage_driver: "overlay",
            cgroup_version: crate::engine::container::runtime::cgroups::version(),
            kernel: uname
                .map(|u| u.release().to_string_lossy().into_owned())
                .unwrap_or_default(),
            operating_system: os_name(),
            architecture: std::env::consts::ARCH,
        })
    }
}

/// PRETTY_NAME of /etc/os-release, as Docker's "Operating System".
fn os_name() -> String {
    std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_owned())
        .unwrap_or_else(|| "unknown".into())
}
