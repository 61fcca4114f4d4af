//! `system prune` and `system info`.

use crate::container::Status;
use crate::error::{Error, Result};
use crate::ids::ContainerId;
use crate::image::Removal;
use crate::storage::volumes::dir_size;
use crate::Engine;

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
            // A build step's image is the build cache's (`builder prune`).
            if !image.listed(&tags) {
                continue;
            }
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
        let stopped: Vec<(ContainerId, u64)> = self
            .list_containers()?
            .into_iter()
            .filter(|r| r.state.status != Status::Running)
            .map(|r| {
                let size = dir_size(&self.container_dir(&r.id));
                (r.id, size)
            })
            .collect();
        let ids: Vec<&str> = stopped.iter().map(|(id, _)| id.as_str()).collect();
        // All at once: the shared records are written once, not once per container.
        let outcomes = self.remove_containers(&ids, false, false);
        for ((id, size), outcome) in stopped.into_iter().zip(outcomes) {
            match outcome {
                Ok(_) => {
                    removed.push(id);
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
}
