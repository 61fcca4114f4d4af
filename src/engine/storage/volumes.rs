//! Volumes: directories the engine owns, mounted into containers, outliving them.
//! `<root>/volumes/<name>/_data` holds the files, `volume.json` beside it the record.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::mounts::{valid_volume_name, MountKind};
use crate::engine::error::{Context, Error, Result};
use crate::engine::faults::crash_point;
use crate::engine::ids::{random_hex64, ContainerId};
use crate::engine::paths::{make_private_dir, DIR_MODE};
use crate::engine::state::{read_json_opt, write_json_atomic};
use crate::engine::Engine;

const RECORD: &str = "volume.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Volume {
    pub name: String,
    pub created: DateTime<Utc>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Made for one container (`-v /path`, an image's VOLUME); `rm -v` removes it.
    #[serde(default)]
    pub anonymous: bool,
}

/// A volume with what the dashboard and `volume inspect` show about it.
#[derive(Debug, Clone)]
pub struct VolumeInfo {
    pub volume: Volume,
    pub mountpoint: PathBuf,
    /// Containers that mount it, as (ID, name).
    pub users: Vec<(ContainerId, String)>,
}

impl Engine {
    fn volume_record_path(&self, name: &str) -> PathBuf {
        self.paths().volumes_dir().join(name).join(RECORD)
    }

    fn read_volume(&self, name: &str) -> Result<Option<Volume>> {
        if !valid_volume_name(name) {
            return Ok(None);
        }
        read_json_opt(&self.volume_record_path(name))
    }

    /// Creates a volume, or returns the existing one of that name (as `docker volume
    /// create` does). No name makes an anonymous volume. Call with the engine lock held.
    pub(crate) fn ensure_volume(
        &self,
        name: Option<&str>,
        labels: BTreeMap<String, String>,
        anonymous: bool,
    ) -> Result<Volume> {
        let name = match name {
            Some(n) if !valid_volume_name(n) => {
                return Err(Error::invalid(
                    "volume name",
                    n,
                    "use [a-zA-Z0-9][a-zA-Z0-9_.-], at least two characters",
                ))
            }
            Some(n) => n.to_owned(),
            None => random_hex64(),
        };
        if let Some(existing) = self.read_volume(&name)? {
            return Ok(existing);
        }
        let volume = Volume {
            name: name.clone(),
            created: Utc::now(),
            labels,
            anonymous,
        };
        let data = self.paths().volume_data(&name);
        let made = (|| {
            // The volume's own directory is root-only; `_data` (what containers see) keeps
            // the usual mode.
            let dir = self.paths().volumes_dir().join(&name);
            make_private_dir(&dir, DIR_MODE, false)
                .context(|| format!("creating volume {name}"))?;
            std::fs::create_dir_all(&data).context(|| format!("creating volume {name}"))?;
            crash_point("volume-create:after-dir");
            // The record last: a directory without one is not a volume.
            write_json_atomic(&self.volume_record_path(&name), &volume)
        })();
        if let Err(e) = made {
            let _ = std::fs::remove_dir_all(self.paths().volumes_dir().join(&name));
            return Err(e);
        }
        Ok(volume)
    }

    /// `volume create`: takes the lock.
    pub fn create_volume(
        &self,
        name: Option<&str>,
        labels: BTreeMap<String, String>,
    ) -> Result<Volume> {
        let _lock = self.lock()?;
        self.ensure_volume(name, labels, false)
    }

    /// Every volume, sorted by name.
    pub fn list_volumes(&self) -> Result<Vec<VolumeInfo>> {
        let dir = self.paths().volumes_dir();
        let records = self.load_records()?;
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&dir).context(|| format!("listing {}", dir.display()))? {
            let entry = entry.context(|| format!("listing {}", dir.display()))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if let Some(volume) = self.read_volume(&name)? {
                found.push(self.volume_info(volume, &records));
            }
        }
        found.sort_by(|a, b| a.volume.name.cmp(&b.volume.name));
        Ok(found)
    }

    fn volume_info(
        &self,
        volume: Volume,
        records: &[crate::engine::container::ContainerRecord],
    ) -> VolumeInfo {
        let users = records
            .iter()
            .filter(|r| {
                r.config
                    .mounts
                    .iter()
                    .any(|m| m.kind == MountKind::Volume && m.source == volume.name)
            })
            .map(|r| (r.id.clone(), r.name.clone()))
            .collect();
        VolumeInfo {
            mountpoint: self.paths().volume_data(&volume.name),
            volume,
            users,
        }
    }

    pub fn inspect_volume(&self, name: &str) -> Result<VolumeInfo> {
        let volume = self
            .read_volume(name)?
            .ok_or_else(|| Error::NoSuchVolume(name.to_owned()))?;
        Ok(self.volume_info(volume, &self.load_records()?))
    }

    /// Removes a volume no container uses. `force` only makes a missing volume no error:
    /// a volume in use is never removed, so no container loses its data under it.
    pub fn remove_volume(&self, name: &str, force: bool) -> Result<bool> {
        let _lock = self.lock()?;
        self.remove_volume_locked(name, force)
    }

    fn remove_volume_locked(&self, name: &str, force: bool) -> Result<bool> {
        let Some(volume) = self.read_volume(name)? else {
            return if force {
                Ok(false)
            } else {
                Err(Error::NoSuchVolume(name.to_owned()))
            };
        };
        let info = self.volume_info(volume, &self.load_records()?);
        if !info.users.is_empty() {
            let ids: Vec<&str> = info.users.iter().map(|(id, _)| id.as_str()).collect();
            return Err(Error::Conflict(format!(
                "remove {name}: volume is in use - [{}]",
                ids.join(", ")
            )));
        }
        // Out of sight in one rename, record and data together: a crash leaves either the
        // whole volume or a `tmp/` leftover, never a half-deleted volume under its name.
        let dir = self.paths().volumes_dir().join(name);
        let retired = self
            .paths()
            .tmp_dir()
            .join(format!("volume-{}", random_hex64()));
        std::fs::rename(&dir, &retired).context(|| format!("removing volume {name}"))?;
        crash_point("volume-rm:after-retire");
        std::fs::remove_dir_all(&retired).context(|| format!("removing volume {name}"))?;
        Ok(true)
    }

    /// Removes unused volumes: anonymous ones, or all with `all` (Docker 23's default).
    /// Returns the removed names and the bytes they held.
    pub fn prune_volumes(&self, all: bool) -> Result<(Vec<String>, u64)> {
        let _lock = self.lock()?;
        let mut removed = Vec::new();
        let mut bytes = 0;
        for info in self.list_volumes()? {
            if info.users.is_empty() && (all || info.volume.anonymous) {
                let size = dir_size(&info.mountpoint);
                if self.remove_volume_locked(&info.volume.name, true)? {
                    bytes += size;
                    removed.push(info.volume.name);
                }
            }
        }
        Ok((removed, bytes))
    }

    /// Removes the anonymous volumes of a removed container that no other container uses.
    pub(crate) fn remove_anonymous_volumes(&self, names: &[String]) -> Result<()> {
        let _lock = self.lock()?;
        for name in names {
            if let Some(v) = self.read_volume(name)? {
                if v.anonymous && self.volume_info(v, &self.load_records()?).users.is_empty() {
                    self.remove_volume_locked(name, true)?;
                }
            }
        }
        Ok(())
    }
}

/// Bytes of the regular files below `dir` (not following symlinks).
pub fn dir_size(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

impl Engine {
    /// Docker's copy-up: an empty volume mounted over a directory where the image has
    /// content gets that content (owner, mode and all) before the container starts; a
    /// volume that has data keeps it and hides the image's. `rootfs` is the mounted overlay.
    pub(crate) fn copy_up_volumes(
        &self,
        record: &crate::engine::container::ContainerRecord,
        rootfs: &std::path::Path,
    ) -> Result<()> {
        use std::os::fd::{AsFd, AsRawFd};
        let mut candidates = record
            .config
            .mounts
            .iter()
            .filter(|m| m.kind == MountKind::Volume && !m.no_copy)
            .peekable();
        if candidates.peek().is_none() {
            return Ok(());
        }
        let dir =
            std::fs::File::open(rootfs).context(|| format!("opening {}", rootfs.display()))?;
        let root = pathrs::Root::from_fd(dir);
        for m in candidates {
            let data = self.paths().volume_data(&m.source);
            let empty = std::fs::read_dir(&data)
                .context(|| format!("reading volume {}", m.source))?
                .next()
                .is_none();
            // Resolved inside the container root: an image symlink can't point the copy
            // at host files.
            let Ok(handle) = root.resolve(&m.destination) else {
                continue;
            };
            if !empty {
                continue;
            }
            let source = PathBuf::from(format!("/proc/self/fd/{}", handle.as_fd().as_raw_fd()));
            let meta =
                std::fs::metadata(&source).context(|| format!("reading {}", m.destination))?;
            if !meta.is_dir() {
                continue;
            }
            copy_tree(&source, &data)
                .context(|| format!("copying {} into volume {}", m.destination, m.source))?;
            copy_metadata(&meta, &data).context(|| format!("setting up volume {}", m.source))?;
        }
        Ok(())
    }
}

/// Copies a directory's contents, never following symlinks: a link is copied as a link.
fn copy_tree(source: &std::path::Path, dest: &std::path::Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(source)? {
        let entry = entry?;
        let (from, to) = (entry.path(), dest.join(entry.file_name()));
        let meta = std::fs::symlink_metadata(&from)?;
        let kind = meta.file_type();
        if kind.is_dir() {
            std::fs::create_dir(&to)?;
            copy_tree(&from, &to)?;
            copy_metadata(&meta, &to)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&from)?, &to)?;
            std::os::unix::fs::lchown(&to, Some(meta_uid(&meta)), Some(meta_gid(&meta)))?;
        } else if kind.is_file() {
            std::fs::copy(&from, &to)?;
            copy_metadata(&meta, &to)?;
        }
        // Devices, fifos and sockets in an image directory are not volume content.
    }
    Ok(())
}

fn meta_uid(meta: &std::fs::Metadata) -> u32 {
    std::os::unix::fs::MetadataExt::uid(meta)
}

fn meta_gid(meta: &std::fs::Metadata) -> u32 {
    std::os::unix::fs::MetadataExt::gid(meta)
}

fn copy_metadata(meta: &std::fs::Metadata, to: &std::path::Path) -> std::io::Result<()> {
    std::os::unix::fs::lchown(to, Some(meta_uid(meta)), Some(meta_gid(meta)))?;
    std::fs::set_permissions(to, meta.permissions())
}
