//! Images: a content-addressed blob store, image records and tags, layer unpacking.
//!
//! The container side needs only [`Engine::resolve_image`]: the image's ID, its OCI config
//! and the unpacked layer directories to stack as overlay lowerdirs.

mod archive;
mod blob;
mod bounds;
mod changes;
mod commit;
mod compress;
pub mod efficiency;
mod history;
mod import;
mod layer_tree;
mod layers;
pub mod registry;
mod rollback;
mod save;
mod source;
mod store;
mod tarsplit;
pub mod unpack;
mod upper_layer;

use std::path::PathBuf;

use oci_spec::image::ImageConfiguration;
use serde::{Deserialize, Serialize};

use super::ids::{Digest, ImageRef};
use super::{Engine, Result};

pub use archive::LoadedImage;
pub use commit::CommitOptions;
pub use history::{HistoryEntry, ImageHistory};
pub use import::ImportOptions;
pub use layer_tree::{ImageLayer, LayerTree, TreeEntry, TreeScope};
pub use layers::{chain_id, LayerRecord};
pub(crate) use rollback::JOURNAL_PREFIX;
// What the builder (crate::build) makes images with.
pub(crate) use blob::get as get_blob;
pub(crate) use compress::decompress;
pub(crate) use layers::Expected;
pub(crate) use rollback::Rollback;
pub use save::SaveFormat;
pub use store::{ImageRecord, Removal, Tags};

/// What a container needs of its image.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    /// The image ID: the digest of its config blob.
    pub id: Digest,
    pub config: ImageConfiguration,
    /// Chain IDs of the image's layers, bottom first.
    pub chain_ids: Vec<Digest>,
    /// Its HEALTHCHECK (Docker's `config.Healthcheck`, which the OCI config type lacks).
    pub healthcheck: Option<crate::container::HealthConfig>,
}

/// One line of `berth images`.
#[derive(Debug, Clone, Serialize)]
pub struct ImageSummary {
    pub id: Digest,
    /// Tags pointing at this image; empty for a dangling image.
    pub references: Vec<ImageRef>,
    pub created: Option<String>,
    /// Bytes of all unpacked layers.
    pub size: u64,
}

impl Engine {
    /// Finds an image by `name[:tag]`, full ID (`sha256:...`) or unique ID prefix.
    pub fn resolve_image(&self, name: &str) -> Result<ResolvedImage> {
        let (record, _) = self.find_image(name)?;
        let bytes = blob::get(self.paths(), &record.id)?;
        let corrupt = |e: serde_json::Error| crate::error::Error::Corrupt {
            path: self.paths().blob(&record.id),
            reason: e.to_string(),
        };
        let config: ImageConfiguration = serde_json::from_slice(&bytes).map_err(corrupt)?;
        // Docker's Healthcheck, which the OCI configuration has no field for; everything
        // else is skipped unbuilt.
        let docker: DockerExtras = serde_json::from_slice(&bytes).map_err(corrupt)?;
        let healthcheck = crate::container::HealthConfig::from_image(
            docker.config.and_then(|c| c.healthcheck).as_ref(),
        )?;
        Ok(ResolvedImage {
            id: record.id,
            config,
            chain_ids: record.chain_ids,
            healthcheck,
        })
    }

    /// The `diff` directory of an unpacked layer (an overlay lowerdir).
    pub fn layer_diff_dir(&self, chain_id: &Digest) -> PathBuf {
        self.paths().layer(chain_id).join("diff")
    }
}

/// What `resolve_image` reads of an image configuration beyond the OCI fields.
#[derive(Deserialize)]
struct DockerExtras {
    config: Option<DockerConfigExtras>,
}

#[derive(Deserialize)]
struct DockerConfigExtras {
    #[serde(rename = "Healthcheck")]
    healthcheck: Option<serde_json::Value>,
}
