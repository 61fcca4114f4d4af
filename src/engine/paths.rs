//! The layout of an engine root directory.
//!
//! ```text
//! <root>/lock                       engine-wide lock (see state.rs)
//! <root>/blobs/sha256/<hex>         content-addressed blobs (manifests, configs, layers)
//! <root>/layers/<chain-hex>/diff    an unpacked layer, shared by every image that has it
//! <root>/layers/<chain-hex>/layer.json
//! <root>/images/<id-hex>.json       one record per image (config digest = image ID)
//! <root>/repositories.json          tags: name:tag -> image ID
//! <root>/containers/<id>/           one directory per container (record, bundle, layer, logs)
//! <root>/volumes/<name>/_data       a volume's files; volume.json beside it
//! <root>/tmp/                       scratch space for imports, on the same filesystem
//! ```

use std::path::{Path, PathBuf};

use super::error::{Context, Result};
use super::ids::{ContainerId, Digest};

#[derive(Clone, Debug)]
pub struct EnginePaths {
    root: PathBuf,
}

impl EnginePaths {
    /// Opens (and creates if needed) an engine root. The path is made absolute so that
    /// records and mount options never depend on the working directory.
    pub fn create(root: &Path) -> Result<EnginePaths> {
        std::fs::create_dir_all(root)
            .context(|| format!("creating engine root {}", root.display()))?;
        let root = std::fs::canonicalize(root)
            .context(|| format!("resolving engine root {}", root.display()))?;
        let paths = EnginePaths { root };
        for dir in [
            paths.blobs_dir(),
            paths.layers_dir(),
            paths.images_dir(),
            paths.containers_dir(),
            paths.volumes_dir(),
            paths.tmp_dir(),
        ] {
            std::fs::create_dir_all(&dir).context(|| format!("creating {}", dir.display()))?;
        }
        Ok(paths)
    }

    /// The default root: `/var/lib/berth` for root, the XDG data dir otherwise.
    pub fn default_root() -> PathBuf {
        if nix::unistd::geteuid().is_root() {
            return PathBuf::from("/var/lib/berth");
        }
        directories::ProjectDirs::from("", "", "berth")
            .map(|dirs| dirs.data_dir().to_owned())
            .unwrap_or_else(|| PathBuf::from("/var/lib/berth"))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn lock_file(&self) -> PathBuf {
        self.root.join("lock")
    }
    pub fn blobs_dir(&self) -> PathBuf {
        self.root.join("blobs").join("sha256")
    }
    pub fn blob(&self, digest: &Digest) -> PathBuf {
        self.blobs_dir().join(digest.hex())
    }
    pub fn layers_dir(&self) -> PathBuf {
        self.root.join("layers")
    }
    /// The directory of the layer with this chain ID; its `diff/` is an overlay lowerdir.
    pub fn layer(&self, chain_id: &Digest) -> PathBuf {
        self.layers_dir().join(chain_id.hex())
    }
    pub fn images_dir(&self) -> PathBuf {
        self.root.join("images")
    }
    pub fn repositories_file(&self) -> PathBuf {
        self.root.join("repositories.json")
    }
    pub fn containers_dir(&self) -> PathBuf {
        self.root.join("containers")
    }
    pub fn container(&self, id: &ContainerId) -> PathBuf {
        self.containers_dir().join(id.as_str())
    }
    pub fn volumes_dir(&self) -> PathBuf {
        self.root.join("volumes")
    }
    /// The directory a volume's files live in (what gets mounted).
    pub fn volume_data(&self, name: &str) -> PathBuf {
        self.volumes_dir().join(name).join("_data")
    }
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }
}
