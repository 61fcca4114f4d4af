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
}
