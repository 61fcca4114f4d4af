//! `system df` and `image prune`: what images, containers and volumes take on disk.
//!
//! Image sizes are the layers' content bytes (what `images` shows), each shared layer
//! counted once; a container's size is its writable layer; a volume's, its files.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::container::{ContainerRecord, Status};
use crate::error::Result;
use crate::ids::{Digest, ImageRef};
use crate::image::Removal;
use crate::storage::volumes::dir_size;
use crate::Engine;

/// One image in `system df -v`.
#[derive(Debug, Clone, Serialize)]
pub struct ImageUsage {
    pub id: Digest,
    pub references: Vec<ImageRef>,
    pub created: Option<String>,
    pub size: u64,
    /// Bytes of layers other images stack on too.
    pub shared_size: u64,
    pub containers: usize,
}

/// One container in `system df -v`.
#[derive(Debug, Clone, Serialize)]
pub struct ContainerUsage {
    pub record: ContainerRecord,
    /// Bytes of its writable layer.
    pub size: u64,
    pub local_volumes: usize,
}

/// One volume in `system df -v`.
#[derive(Debug, Clone, Serialize)]
pub struct VolumeUsage {
    pub name: String,
    /// Containers that mount it.
    pub links: usize,
    pub size: u64,
}

/// A row of `system df`.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct UsageTotals {
    pub total: usize,
    pub active: usize,
    pub size: u64,
    pub reclaimable: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DiskUsage {
    pub images: Vec<ImageUsage>,
    pub containers: Vec<ContainerUsage>,
    pub volumes: Vec<VolumeUsage>,
    pub image_totals: UsageTotals,
    pub container_totals: UsageTotals,
    pub volume_totals: UsageTotals,
}

impl Engine {
    pub fn disk_usage_report(&self) -> Result<DiskUsage> {
        let records = self.list_containers()?;
        let tags = self.tags()?;
        // Build steps' images count in the Build Cache row.
        let mut images = self.image_records()?;
        images.retain(|i| i.listed(&tags));

        let mut layer_users: HashMap<Digest, usize> = HashMap::new();
        let mut layer_size: HashMap<Digest, u64> = HashMap::new();
        for image in &images {
            for chain in &image.chain_ids {
                *layer_users.entry(chain.clone()).or_default() += 1;
                if !layer_size.contains_key(chain) {
                    layer_size.insert(chain.clone(), self.layer_record(chain)?.size);
                }
            }
        }
        let mut active_layers = HashSet::new();
        let mut image_rows = Vec::new();
        for image in &images {
            let containers = records.iter().filter(|c| c.image_id == image.id).count();
            if containers > 0 {
                active_layers.extend(image.chain_ids.iter().cloned());
            }
            let size_of = |c: &Digest| layer_size.get(c).copied().unwrap_or(0);
            image_rows.push(ImageUsage {
                id: image.id.clone(),
                references: tags
                    .iter()
                    .filter(|(_, id)| **id == image.id)
                    .map(|(r, _)| r.clone())
                    .collect(),
                created: image.created.clone(),
                size: image.chain_ids.iter().map(size_of).sum(),
                shared_size: image
                    .chain_ids
                    .iter()
                    .filter(|c| layer_users.get(*c).copied().unwrap_or(0) > 1)
                    .map(size_of)
                    .sum(),
                containers,
            });
        }
        let image_totals = UsageTotals {
            total: images.len(),
            active: image_rows.iter().filter(|i| i.containers > 0).count(),
            size: layer_size.values().sum(),
            reclaimable: layer_size
                .iter()
                .filter(|(c, _)| !active_layers.contains(*c))
                .map(|(_, s)| s)
                .sum(),
        };

        let mut container_rows = Vec::new();
        for record in records {
            let size = dir_size(&self.overlay_of(&record).upper);
            let local_volumes = record
                .config
                .mounts
                .iter()
                .filter(|m| m.kind == crate::storage::mounts::MountKind::Volume)
                .count();
            container_rows.push(ContainerUsage {
                record,
                size,
                local_volumes,
            });
        }
        let running = |c: &&ContainerUsage| c.record.state.status == Status::Running;
        let container_totals = UsageTotals {
            total: container_rows.len(),
            active: container_rows.iter().filter(running).count(),
            size: container_rows.iter().map(|c| c.size).sum(),
            reclaimable: container_rows
                .iter()
                .filter(|c| !running(c))
                .map(|c| c.size)
                .sum(),
        };

        let volume_rows: Vec<VolumeUsage> = self
            .list_volumes()?
            .into_iter()
            .map(|v| VolumeUsage {
                size: dir_size(&v.mountpoint),
                links: v.users.len(),
                name: v.volume.name,
            })
            .collect();
        let volume_totals = UsageTotals {
            total: volume_rows.len(),
            active: volume_rows.iter().filter(|v| v.links > 0).count(),
            size: volume_rows.iter().map(|v| v.size).sum(),
            reclaimable: volume_rows
                .iter()
                .filter(|v| v.links == 0)
                .map(|v| v.size)
                .sum(),
        };
        Ok(DiskUsage {
            images: image_rows,
            containers: container_rows,
            volumes: volume_rows,
            image_totals,
            container_totals,
            volume_totals,
        })
    }

    /// `image prune`: removes dangling images (no tag), or with `all` every image no
    /// container uses. Returns what was removed and the layer bytes freed.
    pub fn prune_images(&self, all: bool) -> Result<(Vec<Removal>, u64)> {
        let before = self.image_layer_bytes()?;
        let mut removed = Vec::new();
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
            removed.extend(self.remove_image(&image.id.to_string(), true)?);
        }
        let after = self.image_layer_bytes()?;
        Ok((removed, before.saturating_sub(after)))
    }

    /// Content bytes of all stored layers, each once.
    fn image_layer_bytes(&self) -> Result<u64> {
        let mut seen = HashSet::new();
        let mut total = 0;
        for image in self.image_records()? {
            for chain in image.chain_ids {
                if seen.insert(chain.clone()) {
                    total += self.layer_record(&chain)?.size;
                }
            }
        }
        Ok(total)
    }
}
