//! Volumes: directories the engine owns, mounted into containers, outliving them.
//! `<root>/volumes/<name>/_data` holds the files, `volume.json` beside it the record.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::fcntl::{open, openat, readlinkat, AtFlags, OFlag};
use nix::sys::stat::{fchmod, fstat, fstatat, mkdirat, FileStat, Mode};
use nix::unistd::{fchown, fchownat, symlinkat, Gid, Uid};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::copy::list_dir;
use super::mounts::{valid_volume_name, MountKind};
use crate::error::{Context, Error, Result};
use crate::events::{Event, ObjectType};
use crate::faults::crash_point;
use crate::ids::{random_hex64, ContainerId};
use crate::paths::{make_private_dir, DIR_MODE};
use crate::state::StateLock;
use crate::state::{read_json_opt, write_json_atomic};
use crate::Engine;

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
        _held: &StateLock,
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
        self.record_event(&Event::new(ObjectType::Volume, "create", &name).with("driver", "local"));
        Ok(volume)
    }

    /// `volume create`: takes the lock.
    pub fn create_volume(
        &self,
        name: Option<&str>,
        labels: BTreeMap<String, String>,
    ) -> Result<Volume> {
        let lock = self.lock()?;
        self.ensure_volume(&lock, name, labels, false)
    }

    /// Every volume, sorted by name.
    pub fn list_volumes(&self) -> Result<Vec<VolumeInfo>> {
        self.list_volumes_used_by(&self.load_records()?)
    }

    /// As [`Engine::list_volumes`], with users taken from container records the caller
    /// already read (the dashboard reads them once for both lists).
    pub fn list_volumes_used_by(
        &self,
        records: &[crate::container::ContainerRecord],
    ) -> Result<Vec<VolumeInfo>> {
        let dir = self.paths().volumes_dir();
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&dir).context(|| format!("listing {}", dir.display()))? {
            let entry = entry.context(|| format!("listing {}", dir.display()))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if let Some(volume) = self.read_volume(&name)? {
                found.push(self.info_with_users(volume, Vec::new()));
            }
        }
        found.sort_by(|a, b| a.volume.name.cmp(&b.volume.name));
        Engine::join_volume_users(&mut found, records);
        Ok(found)
    }

    /// Sets each volume's users from `records` (the dashboard reads the volumes beside
    /// the records, then joins them): one pass over the records, not one per volume.
    pub fn join_volume_users(
        volumes: &mut [VolumeInfo],
        records: &[crate::container::ContainerRecord],
    ) {
        let mut users = users_by_volume(records);
        for v in volumes {
            v.users = users.remove(v.volume.name.as_str()).unwrap_or_default();
        }
    }

    fn volume_info(
        &self,
        volume: Volume,
        records: &[crate::container::ContainerRecord],
    ) -> VolumeInfo {
        let users = users_by_volume(records)
            .remove(volume.name.as_str())
            .unwrap_or_default();
        self.info_with_users(volume, users)
    }

    fn info_with_users(&self, volume: Volume, users: Vec<(ContainerId, String)>) -> VolumeInfo {
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
        let lock = self.lock()?;
        self.remove_volume_locked(&lock, name, force)
    }

    fn remove_volume_locked(&self, _held: &StateLock, name: &str, force: bool) -> Result<bool> {
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
        self.record_event(&Event::new(ObjectType::Volume, "destroy", name).with("driver", "local"));
        Ok(true)
    }

    /// Removes unused volumes: anonymous ones, or all with `all` (Docker 23's default).
    /// Returns the removed names and the bytes they held.
    pub fn prune_volumes(&self, all: bool) -> Result<(Vec<String>, u64)> {
        let lock = self.lock()?;
        let mut removed = Vec::new();
        let mut bytes = 0;
        for info in self.list_volumes()? {
            if info.users.is_empty() && (all || info.volume.anonymous) {
                let size = dir_size(&info.mountpoint);
                if self.remove_volume_locked(&lock, &info.volume.name, true)? {
                    bytes += size;
                    removed.push(info.volume.name);
                }
            }
        }
        Ok((removed, bytes))
    }

    /// Removes the anonymous volumes of a removed container that no other container uses.
    pub(crate) fn remove_anonymous_volumes(&self, names: &[String]) -> Result<()> {
        if names.is_empty() {
            return Ok(());
        }
        let lock = self.lock()?;
        for name in names {
            if let Some(v) = self.read_volume(name)? {
                if v.anonymous && self.volume_info(v, &self.load_records()?).users.is_empty() {
                    self.remove_volume_locked(&lock, name, true)?;
                }
            }
        }
        Ok(())
    }
}

/// Bytes of the regular files below `dir` (not following symlinks).
pub(crate) fn dir_size(dir: &std::path::Path) -> u64 {
    dir_usage(dir, usize::MAX).bytes
}

/// Bytes of regular files under a directory and how many entries were seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirUsage {
    pub bytes: u64,
    pub entries: usize,
    /// The walk stopped at the entry limit: the real figures are larger.
    pub partial: bool,
}

/// Directories [`dir_usage`] holds open at once, at most; past that (siblings left at every
/// level of a very deep tree) it counts what it can and says the count is partial.
const USAGE_OPEN_DIRS: usize = 256;

/// Walks `dir` without following symlinks, stopping after `limit` entries. The walk goes
/// by directory descriptors (`openat` of each name below its parent), so a tree nested
/// past PATH_MAX is counted whole, and with a stack of its own (a container can nest
/// directories deeper than any thread's stack).
pub fn dir_usage(dir: &std::path::Path, limit: usize) -> DirUsage {
    walk_usage(dir, limit, USAGE_OPEN_DIRS)
}

/// [`dir_usage`] holding at most about `max_open` directories open.
fn walk_usage(dir: &std::path::Path, limit: usize, max_open: usize) -> DirUsage {
    let mut usage = DirUsage {
        bytes: 0,
        entries: 0,
        partial: false,
    };
    let Ok(top) = open_dir(dir) else {
        return usage;
    };
    // Directories still to walk, as their parent's descriptor and their name there. The
    // children of one parent sit together on the stack, so the parents held open are
    // the groups on it.
    let mut pending: Vec<(std::rc::Rc<OwnedFd>, std::ffi::CString)> = Vec::new();
    let mut groups = 0;
    let mut next = Some(top);
    loop {
        if let Some(fd) = next.take() {
            let queue = groups < max_open;
            let before = pending.len();
            if !count_dir(fd, queue.then_some(&mut pending), &mut usage, limit) {
                usage.partial = true;
                return usage;
            }
            groups += usize::from(pending.len() > before);
        }
        let Some((parent, name)) = pending.pop() else {
            return usage;
        };
        if pending
            .last()
            .is_none_or(|(p, _)| !std::rc::Rc::ptr_eq(p, &parent))
        {
            groups -= 1;
        }
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        next = openat(parent.as_fd(), name.as_c_str(), flags, Mode::empty()).ok();
    }
}

/// Counts one directory's entries into `usage` and, given a stack, queues its
/// subdirectories there (without one, says the count is partial if it has any); false
/// once `limit` entries are counted.
fn count_dir(
    fd: OwnedFd,
    mut pending: Option<&mut Vec<(std::rc::Rc<OwnedFd>, std::ffi::CString)>>,
    usage: &mut DirUsage,
    limit: usize,
) -> bool {
    use nix::dir::Type;
    let fd = std::rc::Rc::new(fd);
    let Ok(mut listing) = fd
        .try_clone()
        .map_err(drop)
        .and_then(|dup| nix::dir::Dir::from_fd(dup).map_err(drop))
    else {
        return true;
    };
    for entry in listing.iter().filter_map(|e| e.ok()) {
        let name = entry.file_name();
        if matches!(name.to_bytes(), b"." | b"..") {
            continue;
        }
        if usage.entries == limit {
            return false;
        }
        usage.entries += 1;
        let stat = || fstatat(fd.as_fd(), name, AtFlags::AT_SYMLINK_NOFOLLOW).ok();
        // Some filesystems leave the type to a stat.
        let kind = entry.file_type().or_else(|| {
            stat().map(|st| match st.st_mode & libc::S_IFMT {
                libc::S_IFDIR => Type::Directory,
                libc::S_IFREG => Type::File,
                _ => Type::Symlink,
            })
        });
        match kind {
            Some(Type::Directory) => match pending.as_deref_mut() {
                Some(stack) => stack.push((fd.clone(), name.to_owned())),
                None => usage.partial = true,
            },
            Some(Type::File) => {
                usage.bytes += stat().map_or(0, |st| st.st_size.max(0) as u64);
            }
            _ => {}
        }
    }
    true
}

impl Engine {
    /// Docker's copy-up: an empty volume mounted over a directory where the image has
    /// content gets that content (owner, mode and all) before the container starts; a
    /// volume that has data keeps it and hides the image's. `rootfs` is the mounted overlay.
    ///
    /// Another running container may share the volume and swap anything in it for a
    /// symlink at any moment (CVE-2018-15664), so every entry is made relative to a
    /// directory descriptor opened here with `O_NOFOLLOW`, and owner and mode are set
    /// through descriptors: no path is ever resolved twice, nothing is written outside.
    pub(crate) fn copy_up_volumes(
        &self,
        record: &crate::container::ContainerRecord,
        rootfs: &Path,
    ) -> Result<()> {
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
            let what = || format!("copying {} into volume {}", m.destination, m.source);
            let data = open_dir(&self.paths().volume_data(&m.source))
                .context(|| format!("opening volume {}", m.source))?;
            if !is_empty_dir(&data).context(what)? {
                continue;
            }
            // Resolved inside the container root: an image symlink can't point the copy
            // at host files.
            let Ok(handle) = root.resolve(&m.destination) else {
                continue;
            };
            let Ok(source) = handle.reopen(pathrs::flags::OpenFlags::O_RDONLY) else {
                continue;
            };
            let source = OwnedFd::from(source);
            let st = fstat(&source).context(what)?;
            if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
                continue;
            }
            copy_dir_contents(source.as_fd(), data.as_fd(), Path::new(""))
                .and_then(|()| set_owner_and_mode(data.as_fd(), &st, Path::new(".")))
                .map_err(|e| Error::Runtime(format!("{}: {e}", what())))?;
        }
        Ok(())
    }
}

/// True if the directory holds nothing; stops at the first entry, however large it is.
fn is_empty_dir(dir: &OwnedFd) -> nix::Result<bool> {
    let mut listing = nix::dir::Dir::from_fd(dir.try_clone().map_err(|_| nix::Error::EMFILE)?)?;
    let mut names = listing.iter().filter_map(|e| e.ok());
    Ok(!names.any(|e| !matches!(e.file_name().to_bytes(), b"." | b"..")))
}

/// Opens a directory the engine owns, refusing a symlink in its place.
fn open_dir(path: &Path) -> nix::Result<OwnedFd> {
    open(
        path,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

/// Opens the directory `name` below `dir`, refusing a symlink in its place.
fn open_dir_at(dir: BorrowedFd<'_>, name: &OsStr) -> nix::Result<OwnedFd> {
    openat(
        dir,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

/// Copies a directory's contents from `source` into `dest`, both held open: a link is
/// copied as a link, every entry is created anew (`O_EXCL`, `mkdirat`, `symlinkat`) so
/// nothing planted in the volume meanwhile is written through, and a directory swapped for
/// a symlink after it was made fails the copy rather than being followed. `rel` names
/// `source` in errors.
fn copy_dir_contents(source: BorrowedFd<'_>, dest: BorrowedFd<'_>, rel: &Path) -> Result<()> {
    let names = list_dir(&source).context(|| format!("listing {}", shown(rel)))?;
    for name in names {
        copy_entry(source, dest, &name, &rel.join(&name))?;
    }
    Ok(())
}

fn shown(rel: &Path) -> String {
    if rel.as_os_str().is_empty() {
        ".".into()
    } else {
        rel.display().to_string()
    }
}

fn copy_entry(
    source: BorrowedFd<'_>,
    dest: BorrowedFd<'_>,
    name: &OsStr,
    rel: &Path,
) -> Result<()> {
    let st = fstatat(source, name, AtFlags::AT_SYMLINK_NOFOLLOW)
        .context(|| format!("reading {}", rel.display()))?;
    match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => {
            let from =
                open_dir_at(source, name).context(|| format!("opening {}", rel.display()))?;
            // Private until its content and mode are set.
            mkdirat(dest, name, Mode::from_bits_truncate(0o700))
                .context(|| format!("creating {}", rel.display()))?;
            let to =
                open_dir_at(dest, name).context(|| format!("opening the new {}", rel.display()))?;
            copy_dir_contents(from.as_fd(), to.as_fd(), rel)?;
            set_owner_and_mode(to.as_fd(), &st, rel)
        }
        libc::S_IFREG => {
            let from = openat(
                source,
                name,
                OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .context(|| format!("opening {}", rel.display()))?;
            let create = OFlag::O_WRONLY
                | OFlag::O_CREAT
                | OFlag::O_EXCL
                | OFlag::O_NOFOLLOW
                | OFlag::O_CLOEXEC;
            let to = openat(dest, name, create, Mode::from_bits_truncate(0o600))
                .context(|| format!("creating {}", rel.display()))?;
            let (mut from, mut to) = (std::fs::File::from(from), std::fs::File::from(to));
            std::io::copy(&mut from, &mut to).context(|| format!("copying {}", rel.display()))?;
            set_owner_and_mode(to.as_fd(), &st, rel)
        }
        libc::S_IFLNK => {
            let target =
                readlinkat(source, name).context(|| format!("reading {}", rel.display()))?;
            symlinkat(target.as_os_str(), dest, name)
                .context(|| format!("creating {}", rel.display()))?;
            fchownat(
                dest,
                name,
                Some(Uid::from_raw(st.st_uid)),
                Some(Gid::from_raw(st.st_gid)),
                AtFlags::AT_SYMLINK_NOFOLLOW,
            )
            .context(|| format!("setting the owner of {}", rel.display()))
        }
        // Devices, fifos and sockets in an image directory are not volume content.
        _ => Ok(()),
    }
}

/// Gives an open file or directory the owner and mode of `st`; the mode after the owner,
/// since chown clears set-id bits.
fn set_owner_and_mode(fd: BorrowedFd<'_>, st: &FileStat, rel: &Path) -> Result<()> {
    fchown(
        fd,
        Some(Uid::from_raw(st.st_uid)),
        Some(Gid::from_raw(st.st_gid)),
    )
    .context(|| format!("setting the owner of {}", rel.display()))?;
    fchmod(fd, Mode::from_bits_truncate(st.st_mode & 0o7777))
        .context(|| format!("setting the mode of {}", rel.display()))
}

/// The containers that mount each volume, as (ID, name) in the order of `records`, by
/// volume name; a container that mounts a volume twice counts once.
fn users_by_volume(
    records: &[crate::container::ContainerRecord],
) -> std::collections::HashMap<&str, Vec<(ContainerId, String)>> {
    let mut users: std::collections::HashMap<&str, Vec<(ContainerId, String)>> =
        std::collections::HashMap::new();
    for r in records {
        let mut mounted: Vec<&str> = Vec::new();
        for m in &r.config.mounts {
            if m.kind == MountKind::Volume && !mounted.contains(&m.source.as_str()) {
                mounted.push(&m.source);
                users
                    .entry(&m.source)
                    .or_default()
                    .push((r.id.clone(), r.name.clone()));
            }
        }
    }
    users
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn dir(path: &Path) -> OwnedFd {
        open_dir(path).unwrap()
    }

    /// Every volume's users from one pass: in the records' order, a container that
    /// mounts a volume twice once, binds not at all.
    #[test]
    fn users_by_volume_indexes_each_records_volumes_once() {
        use crate::container::record::{ContainerConfig, ContainerRecord, ContainerState};
        use crate::storage::mounts::MountSpec;
        let record = |name: &str, flags: &[&str]| ContainerRecord {
            id: ContainerId::random(),
            name: name.into(),
            created: chrono::DateTime::UNIX_EPOCH,
            image: "busybox".into(),
            image_id: crate::Digest::of_bytes(b"image"),
            chain_ids: Vec::new(),
            config: ContainerConfig {
                mounts: flags
                    .iter()
                    .map(|f| MountSpec::parse_volume_flag(f, Path::new("/")).unwrap())
                    .collect(),
                ..Default::default()
            },
            state: ContainerState::default(),
        };
        let records = [
            record("a", &["data:/x", "data:/y", "spare:/z"]),
            record("b", &["/host:/h", "data:/x"]),
            record("c", &[]),
        ];
        let users = users_by_volume(&records);
        let names =
            |volume: &str| -> Vec<&str> { users[volume].iter().map(|(_, n)| n.as_str()).collect() };
        assert_eq!(names("data"), ["a", "b"]);
        assert_eq!(names("spare"), ["a"]);
        assert_eq!(users.len(), 2);
    }

    #[test]
    fn copy_up_keeps_owner_mode_and_links() {
        let (src, dst) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir(src.path().join("sub")).unwrap();
        std::fs::write(src.path().join("sub/f"), "x").unwrap();
        std::os::unix::fs::lchown(src.path().join("sub/f"), Some(7), Some(8)).unwrap();
        std::fs::set_permissions(src.path().join("sub/f"), PermissionsExt::from_mode(0o4750))
            .unwrap();
        std::os::unix::fs::symlink("/etc/passwd", src.path().join("link")).unwrap();
        let (s, d) = (dir(src.path()), dir(dst.path()));
        copy_dir_contents(s.as_fd(), d.as_fd(), Path::new("")).unwrap();
        let meta = std::fs::metadata(dst.path().join("sub/f")).unwrap();
        assert_eq!(
            (meta.mode() & 0o7777, meta.uid(), meta.gid()),
            (0o4750, 7, 8)
        );
        let link = std::fs::read_link(dst.path().join("link")).unwrap();
        assert_eq!(link, Path::new("/etc/passwd"));
    }

    #[test]
    fn copy_up_never_writes_through_a_planted_link() {
        let (src, dst, host) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        std::fs::create_dir(src.path().join("sub")).unwrap();
        std::fs::write(src.path().join("f"), "x").unwrap();
        std::os::unix::fs::symlink(host.path(), dst.path().join("sub")).unwrap();
        std::os::unix::fs::symlink(host.path().join("f"), dst.path().join("f")).unwrap();
        let (s, d) = (dir(src.path()), dir(dst.path()));
        let err = copy_dir_contents(s.as_fd(), d.as_fd(), Path::new("")).unwrap_err();
        assert!(err.to_string().contains("creating"), "{err}");
        assert_eq!(std::fs::read_dir(host.path()).unwrap().count(), 0);
    }

    /// Makes `depth` nested directories named `name` below `top` by descriptors (their
    /// paths grow past PATH_MAX) and returns the deepest one.
    fn nest(top: &Path, name: &str, depth: usize) -> OwnedFd {
        let mut fd = dir(top);
        for _ in 0..depth {
            mkdirat(fd.as_fd(), name, Mode::from_bits_truncate(0o755)).unwrap();
            let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY;
            fd = openat(fd.as_fd(), name, flags, Mode::empty()).unwrap();
        }
        fd
    }

    #[test]
    fn usage_counts_a_tree_nested_past_path_max() {
        let top = tempfile::tempdir().unwrap();
        // 2,000 levels of a 9-byte name: 20,000 bytes of path, five times PATH_MAX.
        let bottom = nest(top.path(), "deep-dir0", 2000);
        let flags = OFlag::O_WRONLY | OFlag::O_CREAT;
        let file = openat(bottom.as_fd(), "f", flags, Mode::from_bits_truncate(0o644)).unwrap();
        nix::unistd::write(&file, &[7u8; 1000]).unwrap();
        let usage = dir_usage(top.path(), usize::MAX);
        assert_eq!(
            (usage.bytes, usage.entries, usage.partial),
            (1000, 2001, false)
        );
        // Tempdir's own removal goes by paths and would stop at PATH_MAX.
        remove_nested(top.path());
    }

    #[test]
    fn usage_holds_few_descriptors_and_says_when_that_cut_it_short() {
        let top = tempfile::tempdir().unwrap();
        // Three directories at each of four levels: whatever order the walk takes, two
        // siblings wait at every level above the one it is in.
        let mut level = vec![top.path().to_path_buf()];
        for _ in 0..4 {
            level = level
                .iter()
                .flat_map(|d| ["a", "b", "c"].map(|n| d.join(n)))
                .collect();
            level.iter().for_each(|d| std::fs::create_dir(d).unwrap());
        }
        let whole = walk_usage(top.path(), usize::MAX, 8);
        assert_eq!((whole.entries, whole.partial), (3 + 9 + 27 + 81, false));
        let cut = walk_usage(top.path(), usize::MAX, 2);
        assert!(cut.partial && cut.entries < whole.entries, "{cut:?}");
    }

    fn remove_nested(top: &Path) {
        let status = std::process::Command::new("rm")
            .arg("-rf")
            .arg(top)
            .status()
            .unwrap();
        assert!(status.success());
    }
}
