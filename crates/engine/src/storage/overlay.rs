//! The overlay root filesystem of a container: the image's shared layer dirs as read-only
//! lowerdirs and the container's own writable layer (`upper/`) on top, mounted at `rootfs/`.

use std::fs;
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use crate::error::{Context, Result};
use crate::state::Durability;

/// The directories of one container's overlay.
#[derive(Debug, Clone)]
pub struct OverlayDirs {
    /// Lower layers, bottom first.
    pub lower: Vec<PathBuf>,
    pub upper: PathBuf,
    pub work: PathBuf,
    pub merged: PathBuf,
}

impl OverlayDirs {
    /// For a container directory: `upper/`, `work/`, `rootfs/` inside it.
    pub(crate) fn in_container_dir(dir: &Path, lower: Vec<PathBuf>) -> OverlayDirs {
        OverlayDirs {
            lower,
            upper: dir.join("upper"),
            work: dir.join("work"),
            merged: dir.join("rootfs"),
        }
    }

    pub(crate) fn create_dirs(&self) -> Result<()> {
        for dir in [&self.upper, &self.work, &self.merged] {
            fs::create_dir_all(dir).context(|| format!("creating {}", dir.display()))?;
        }
        Ok(())
    }

    /// Overlay's lowerdir option lists the topmost layer first.
    fn lowerdir_option(&self, relative_to: Option<&Path>) -> String {
        self.lower
            .iter()
            .rev()
            .map(|p| {
                relative_to
                    .and_then(|base| p.strip_prefix(base).ok())
                    .unwrap_or(p)
                    .to_string_lossy()
                    .into_owned()
            })
            .collect::<Vec<_>>()
            .join(":")
    }

    /// Mounts the overlay at `merged` unless it is mounted already.
    pub fn mount(&self) -> Result<()> {
        self.mount_with(Durability::Synced)
    }

    /// Mounts the overlay at `merged` unless it is mounted already. `Unsynced` is for a
    /// writable layer that goes with its container (`--rm`): overlay's `volatile`, so
    /// unmounting it does not wait for the whole filesystem under the engine root to
    /// reach the disk. After a host crash such a layer may be incomplete, which only a
    /// layer never kept can afford. Kernels without the option (before 5.10) sync.
    pub(crate) fn mount_with(&self, durability: Durability) -> Result<()> {
        if is_mountpoint(&self.merged) {
            return Ok(());
        }
        // The mark of an earlier volatile mount, which the kernel refuses to mount over.
        // Only a `--rm` container's layer gets one, and that layer is never kept.
        let mark = self.work.join("work").join("incompat");
        match fs::remove_dir_all(&mark) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).context(|| format!("removing {}", mark.display())),
        }
        if durability == Durability::Unsynced {
            match self.mount_options(",volatile") {
                Err(crate::Error::Sys {
                    err: nix::Error::EINVAL,
                    ..
                }) => {}
                result => return result,
            }
        }
        self.mount_options("")
    }

    /// Mounts the overlay with `extra` appended to its options.
    fn mount_options(&self, extra: &str) -> Result<()> {
        let page = 4096;
        let absolute = self.lowerdir_option(None);
        let options = |lower: &str| {
            format!(
                "lowerdir={lower},upperdir={},workdir={},index=off{extra}",
                self.upper.display(),
                self.work.display()
            )
        };
        let data = options(&absolute);
        if data.len() < page - 1 {
            return mount_overlay(&self.merged, &data);
        }
        // Many layers overflow the one-page option string: name the layers relative to
        // their common directory, as Docker does, by mounting from inside it.
        let base = self.lower[0]
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let previous =
            std::env::current_dir().context(|| "reading the working directory".into())?;
        std::env::set_current_dir(&base).context(|| format!("entering {}", base.display()))?;
        let result = mount_overlay(&self.merged, &options(&self.lowerdir_option(Some(&base))));
        let _ = std::env::set_current_dir(previous);
        result
    }

    /// Unmounts the overlay if it is mounted.
    pub(crate) fn unmount(&self) -> Result<()> {
        unmount_if_mounted(&self.merged)
    }
}

fn mount_overlay(target: &Path, data: &str) -> Result<()> {
    mount(
        Some("overlay"),
        target,
        Some("overlay"),
        MsFlags::empty(),
        Some(data),
    )
    .context(|| {
        format!(
            "mounting the overlay root filesystem at {}",
            target.display()
        )
    })
}

/// True if `path` is a mount point in this mount namespace.
pub(crate) fn is_mountpoint(path: &Path) -> bool {
    is_mount_root(path).unwrap_or_else(|| listed_in_mountinfo(path))
}

/// Whether the kernel marks `path` itself as the root of a mount (5.8 on): one call,
/// not the whole mount table read and parsed. None where it can't tell.
fn is_mount_root(path: &Path) -> Option<bool> {
    let stat = rustix::fs::statx(
        rustix::fs::CWD,
        path,
        rustix::fs::AtFlags::NO_AUTOMOUNT | rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        rustix::fs::StatxFlags::empty(),
    )
    .ok()?;
    let root = rustix::fs::StatxAttributes::MOUNT_ROOT;
    stat.stx_attributes_mask
        .contains(root)
        .then(|| stat.stx_attributes.contains(root))
}

/// True if `path` is a mount point listed in this process's mount table.
fn listed_in_mountinfo(path: &Path) -> bool {
    let Ok(mountinfo) = fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let wanted = path.to_string_lossy();
    mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|m| unescape_mountinfo(m) == wanted)
}

/// Mountinfo escapes space, tab, newline and backslash as octal.
fn unescape_mountinfo(field: &str) -> String {
    field
        .replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

pub(crate) fn unmount_if_mounted(path: &Path) -> Result<()> {
    if !is_mountpoint(path) {
        return Ok(());
    }
    umount2(path, MntFlags::MNT_DETACH).context(|| format!("unmounting {}", path.display()))
}

/// Every mount point at or below `dir`, deepest first.
pub fn mounts_below(dir: &Path) -> Vec<PathBuf> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut found: Vec<PathBuf> = mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| PathBuf::from(unescape_mountinfo(m)))
        .filter(|m| m.starts_with(dir))
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
    found
}

/// Makes every mount of this process's (new) mount namespace private, so that nothing
/// mounted or unmounted here propagates back to the host.
pub(crate) fn make_mounts_private() -> Result<()> {
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .context(|| "making the mount namespace private".into())
}

/// Moves this process into a mount namespace of its own whose mounts stay private to it:
/// what it mounts disappears with it, and nothing reaches the host.
pub(crate) fn enter_private_mount_namespace() -> Result<()> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
        .context(|| "creating a mount namespace".into())?;
    make_mounts_private()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernels_mount_root_mark_agrees_with_the_mount_table() {
        let dir = tempfile::tempdir().unwrap();
        let paths = [
            PathBuf::from("/"),
            PathBuf::from("/proc"),
            PathBuf::from("/sys"),
            dir.path().to_path_buf(),
            dir.path().join("missing"),
        ];
        for path in &paths {
            let listed = listed_in_mountinfo(path);
            assert_eq!(is_mountpoint(path), listed, "{}", path.display());
            if let Some(root) = is_mount_root(path) {
                assert_eq!(root, listed, "{}", path.display());
            }
        }
        assert!(is_mountpoint(Path::new("/proc")));
        assert!(!is_mountpoint(dir.path()));
    }
}
