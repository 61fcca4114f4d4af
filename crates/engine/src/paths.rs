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
//! <root>/containers.index           each container's ID and name (see container/store.rs)
//! <root>/networks/<id>.json         one record per network, with its endpoints (leases;
//!                                   host and none derive theirs from container records)
//! <root>/tmp/                       scratch space for imports, on the same filesystem;
//!                                   removed containers' directories waiting for deletion
//! <root>/cache/seccomp/<hex>.bpf    compiled seccomp filters, by profile (a miss recompiles)
//! ```

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::error::{Context, Error, Result};
use super::ids::{ContainerId, Digest};

/// The root: only root may list it; the group bit lets a trusted group traverse, as
/// Docker's 0710 (CVE-2021-41091: with 0755, any host user could run a setuid binary or
/// open a device node a container planted in its writable layer, and read records).
pub(crate) const ROOT_MODE: u32 = 0o710;
/// Every directory the engine makes for itself below the root.
pub(crate) const DIR_MODE: u32 = 0o700;
/// Records, configs and logs: they hold the containers' environments (passwords).
pub(crate) const FILE_MODE: u32 = 0o600;

#[derive(Clone, Debug)]
pub struct EnginePaths {
    root: PathBuf,
}

impl EnginePaths {
    /// Opens (and creates if needed) an engine root. The path is made absolute so that
    /// records and mount options never depend on the working directory. A root on a
    /// pseudo filesystem is refused before anything is created; the root and its
    /// top-level directories are made private to root (see `ROOT_MODE`).
    pub fn create(root: &Path) -> Result<EnginePaths> {
        refuse_pseudo_fs(root)?;
        make_private_dir(root, ROOT_MODE, true)
            .context(|| format!("creating engine root {}", root.display()))?;
        let root = std::fs::canonicalize(root)
            .context(|| format!("resolving engine root {}", root.display()))?;
        let paths = EnginePaths { root };
        let bulk = paths.bulk_dirs();
        for dir in paths.private_dirs() {
            let made = make_private_dir_once(&dir, DIR_MODE, false)
                .context(|| format!("creating {}", dir.display()))?;
            if made && bulk.contains(&dir) {
                // A root made before the flag was set gets it with its next spare
                // directory or build (see `spread_bulk_dirs`).
                let _ = spread(&dir);
            }
        }
        Ok(paths)
    }

    /// The paths of a root that [`EnginePaths::create`] made and resolved (a monitor's, as
    /// the berth that started it gave it): nothing is checked or made again.
    pub(crate) fn made(root: PathBuf) -> EnginePaths {
        EnginePaths { root }
    }

    /// The engine's own top-level directories, in creation order.
    pub(crate) fn private_dirs(&self) -> [PathBuf; 8] {
        [
            self.root.join("blobs"),
            self.blobs_dir(),
            self.layers_dir(),
            self.images_dir(),
            self.containers_dir(),
            self.volumes_dir(),
            self.networks_dir(),
            self.tmp_dir(),
        ]
    }

    /// Asks the filesystem to spread what is made in the bulk directories (layers,
    /// containers, scratch) over its block groups: ext4's `TOPDIR` flag (`chattr +T`) makes
    /// its allocator (Orlov) place each new subdirectory, with the files made in it, in a
    /// group with many free inodes and few directories, as it places the filesystem's
    /// top-level directories. Without it every layer and container lands next to its
    /// parent, in the block group where the engine's earlier files lived and were deleted;
    /// on an ext4 without a journal, the allocator skips each inode freed in the last
    /// minutes and scans past all of them for every new file (a cold build of 10,000 files
    /// after the last one was removed: 12.6 s of CPU instead of 2.2; back-to-back `run
    /// --rm`, twenty new inodes each: 2.7 ms of 11.5). Set as a root's directories are
    /// made, and on an older root's by its next build or spare container directory.
    /// Best effort: a filesystem without the flag (tmpfs, xfs, btrfs) is left as it is.
    pub(crate) fn spread_bulk_dirs(&self) {
        for dir in self.bulk_dirs() {
            let _ = spread(&dir);
        }
    }

    /// The directories whose subdirectories are spread (see [`Self::spread_bulk_dirs`]).
    fn bulk_dirs(&self) -> [PathBuf; 3] {
        [self.layers_dir(), self.containers_dir(), self.tmp_dir()]
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
    pub(crate) fn lock_file(&self) -> PathBuf {
        self.root.join("lock")
    }
    pub(crate) fn blobs_dir(&self) -> PathBuf {
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
    pub(crate) fn repositories_file(&self) -> PathBuf {
        self.root.join("repositories.json")
    }
    pub(crate) fn containers_dir(&self) -> PathBuf {
        self.root.join("containers")
    }
    pub fn container(&self, id: &ContainerId) -> PathBuf {
        self.containers_dir().join(id.as_str())
    }
    pub(crate) fn volumes_dir(&self) -> PathBuf {
        self.root.join("volumes")
    }
    /// The directory a volume's files live in (what gets mounted).
    pub(crate) fn volume_data(&self, name: &str) -> PathBuf {
        self.volumes_dir().join(name).join("_data")
    }
    pub(crate) fn networks_dir(&self) -> PathBuf {
        self.root.join("networks")
    }
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }
    /// Compiled seccomp filters (see `container/seccomp_cache.rs`); made when first used.
    pub(crate) fn seccomp_cache_dir(&self) -> PathBuf {
        self.root.join("cache").join("seccomp")
    }
}

/// Creates `dir` with `mode` (and, with `parents`, its missing parents with the default
/// mode), or tightens an existing one that grants more than `mode`. Only the mode bits
/// of this one directory change: no walk below it.
pub(crate) fn make_private_dir(dir: &Path, mode: u32, parents: bool) -> std::io::Result<()> {
    make_private_dir_once(dir, mode, parents).map(drop)
}

/// [`make_private_dir`], saying whether `dir` was made now (false: it was there).
fn make_private_dir_once(dir: &Path, mode: u32, parents: bool) -> std::io::Result<bool> {
    if parents {
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
    }
    let made = match std::fs::DirBuilder::new().mode(mode).create(dir) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(e) => return Err(e),
    };
    // The umask may have taken bits away, never added: tighten only what is too open.
    let meta = std::fs::metadata(dir)?;
    if too_open(meta.permissions().mode(), mode) {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(made)
}

/// Sets the `TOPDIR` inode flag on the directory `dir` (see
/// [`EnginePaths::spread_bulk_dirs`]), unless it is set already.
fn spread(dir: &Path) -> rustix::io::Result<()> {
    use rustix::fs::{ioctl_getflags, ioctl_setflags, open, IFlags, Mode, OFlags};
    let fd = open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let flags = ioctl_getflags(&fd)?;
    if !flags.contains(IFlags::TOPDIR) {
        ioctl_setflags(&fd, flags | IFlags::TOPDIR)?;
    }
    Ok(())
}

/// True if `actual` grants group or others anything `wanted` does not (or is setuid etc).
pub(crate) fn too_open(actual: u32, wanted: u32) -> bool {
    actual & 0o7077 & !wanted != 0
}

/// Filesystems that are views of kernel state, never storage: an engine root there would
/// create cgroups, sysfs entries and the like instead of directories.
const PSEUDO_FILESYSTEMS: &[(i64, &str)] = &[
    (0x0027_e0eb, "cgroup"),
    (0x6367_7270, "cgroup2"),
    (0x9fa0, "proc"),
    (0x6265_6572, "sysfs"),
    (0x1cd1, "devpts"),
    (0x6462_6720, "debugfs"),
    (0x7472_6163, "tracefs"),
    (0x7363_6673, "securityfs"),
    (0xcafe_4a11, "bpf"),
    (0x6265_6570, "configfs"),
    (0x6165_676c, "pstore"),
    (0xde5e_81e4, "efivarfs"),
    (0x1980_0202, "mqueue"),
    (0x6e73_6673, "nsfs"),
];

/// The pseudo filesystem type named by a statfs magic number, if it is one.
pub(crate) fn pseudo_fs_name(magic: i64) -> Option<&'static str> {
    PSEUDO_FILESYSTEMS
        .iter()
        .find(|(m, _)| *m == magic)
        .map(|(_, name)| *name)
}

/// The trees where only the kernel's views live (the tmpfs at `/sys/fs/cgroup` of a
/// hybrid cgroup host is no pseudo filesystem by type, but is just as wrong a place).
const KERNEL_TREES: &[&str] = &["/proc", "/sys", "/dev"];

/// Refuses a root on (or to be created on) a pseudo filesystem, checking the root or its
/// nearest existing ancestor before anything is created.
fn refuse_pseudo_fs(root: &Path) -> Result<()> {
    let absolute = std::path::absolute(root)
        .context(|| format!("resolving engine root {}", root.display()))?;
    let existing = absolute
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    let existing = std::fs::canonicalize(existing)
        .context(|| format!("resolving engine root {}", root.display()))?;
    let stat = nix::sys::statfs::statfs(&existing)
        .context(|| format!("checking the filesystem of {}", existing.display()))?;
    #[allow(clippy::unnecessary_cast)] // the type differs between libcs
    let magic = stat.filesystem_type().0 as i64;
    let refuse = |what: String| {
        Err(Error::Runtime(format!(
            "engine root {} is on {what}: choose a directory on a disk",
            root.display()
        )))
    };
    if let Some(name) = pseudo_fs_name(magic) {
        return refuse(format!("a {name} pseudo filesystem"));
    }
    if let Some(tree) = KERNEL_TREES.iter().find(|t| existing.starts_with(t)) {
        return refuse(format!("the kernel's pseudo filesystem tree {tree}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn bulk_dirs_are_marked_for_spreading_on_ext4() {
        let dir = tempfile::tempdir().unwrap();
        let paths = EnginePaths::create(&dir.path().join("engine")).unwrap();
        #[allow(clippy::unnecessary_cast)] // the type differs between libcs
        let magic = nix::sys::statfs::statfs(dir.path())
            .unwrap()
            .filesystem_type()
            .0 as i64;
        // ext2, ext3 and ext4 share one magic number; other filesystems have no TOPDIR.
        if magic != 0xef53 {
            eprintln!("skipped: not an ext4 filesystem");
            return;
        }
        let topdir = |p: &Path| {
            let fd = std::fs::File::open(p).unwrap();
            rustix::fs::ioctl_getflags(&fd)
                .unwrap()
                .contains(rustix::fs::IFlags::TOPDIR)
        };
        let bulk = paths.bulk_dirs();
        // Marked as the root is made.
        for d in &bulk {
            assert!(topdir(d), "{}", d.display());
        }
        assert!(!topdir(&paths.images_dir()));

        // A root made before: the flags are set by the next spread, not by an open.
        for d in &bulk {
            let fd = std::fs::File::open(d).unwrap();
            let flags = rustix::fs::ioctl_getflags(&fd).unwrap();
            rustix::fs::ioctl_setflags(&fd, flags - rustix::fs::IFlags::TOPDIR).unwrap();
        }
        let paths = EnginePaths::create(&dir.path().join("engine")).unwrap();
        assert!(!topdir(&paths.layers_dir()));
        paths.spread_bulk_dirs();
        // Twice is the same (the flag is set once).
        paths.spread_bulk_dirs();
        for d in &bulk {
            assert!(topdir(d), "{}", d.display());
        }
        assert!(!topdir(&paths.images_dir()));
    }

    #[test]
    fn modes_too_open() {
        assert!(too_open(0o755, DIR_MODE));
        assert!(too_open(0o711, ROOT_MODE));
        assert!(too_open(0o4700, DIR_MODE));
        assert!(!too_open(0o700, ROOT_MODE));
        assert!(!too_open(0o710, ROOT_MODE));
        assert!(!too_open(0o700, DIR_MODE));
    }

    #[test]
    fn new_root_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("engine");
        let paths = EnginePaths::create(&root).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&root), ROOT_MODE);
        for d in paths.private_dirs() {
            assert_eq!(mode(&d), DIR_MODE, "{}", d.display());
        }
    }

    #[test]
    fn refuses_pseudo_filesystems_before_creating() {
        let err = EnginePaths::create(Path::new("/proc/berth-test-root/x")).unwrap_err();
        assert!(err.to_string().contains("proc pseudo filesystem"), "{err}");
        let err = EnginePaths::create(Path::new("/sys/fs/cgroup/berth-test-root")).unwrap_err();
        assert!(err.to_string().contains("pseudo filesystem"), "{err}");
        assert!(!Path::new("/sys/fs/cgroup/berth-test-root").exists());
        assert_eq!(pseudo_fs_name(0x6367_7270), Some("cgroup2"));
        assert_eq!(pseudo_fs_name(0xef53), None);
    }
}
