//! What a container changed in its root filesystem, as `docker diff` reports it for the
//! overlay2 driver, with the type, size, mode and originating layer of each path.
//!
//! The overlay is mounted only in the monitor's private mount namespace, so the changes
//! are read from the writable layer (`upper/`) and the image's layer directories directly.
//! `upper/` is the container's to change while it is read: it is walked by descriptor
//! (each directory opened with `O_NOFOLLOW` below its parent's descriptor, each entry
//! stat'ed without following it), so a directory swapped for a symlink to a host
//! directory mid-walk is never followed. Every lower lookup goes through a `LowerView`: the layers in which a directory is
//! visible through the overlay, so whiteouts and opaque directories inside the image's own
//! layers hide what is below them, exactly as they do in the mounted root.

use std::ffi::OsStr;
use std::fs::{self, Metadata};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{fstat, fstatat, FileStat, Mode};
use serde::Serialize;

use crate::error::{Context, Result};
use crate::ids::Digest;
use crate::image::unpack::get_xattr;
use crate::Engine;

const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// Paths the engine itself puts in every container: bind-mount targets for the generated
/// `/etc` files and mount points for the kernel filesystems, created by init only when the
/// image lacks them. They are no change the user made, and anything in `upper/` below a
/// mount point is hidden by the mount, so none of them is reported.
pub(crate) const ENGINE_PATHS: &[&str] = &[
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/hostname",
    "/proc",
    "/sys",
    "/dev",
    "/dev/pts",
    "/dev/shm",
    "/dev/mqueue",
];

/// Directories that init creates when the image lacks them, to hold [`ENGINE_PATHS`].
const ENGINE_PARENTS: &[&str] = &["/etc", "/dev"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Changed,
    Deleted,
}

impl ChangeKind {
    /// The letter `docker diff` prints.
    pub fn symbol(self) -> char {
        match self {
            ChangeKind::Added => 'A',
            ChangeKind::Changed => 'C',
            ChangeKind::Deleted => 'D',
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileType {
    File,
    Dir,
    Symlink,
    Char,
    Block,
    Fifo,
    Socket,
}

impl FileType {
    pub(crate) fn of(meta: &Metadata) -> FileType {
        let t = meta.file_type();
        if t.is_dir() {
            FileType::Dir
        } else if t.is_symlink() {
            FileType::Symlink
        } else if t.is_char_device() {
            FileType::Char
        } else if t.is_block_device() {
            FileType::Block
        } else if t.is_fifo() {
            FileType::Fifo
        } else if t.is_socket() {
            FileType::Socket
        } else {
            FileType::File
        }
    }
}

/// One changed path of a container's root filesystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Absolute path inside the container.
    pub path: String,
    pub kind: ChangeKind,
    /// For a deleted path, the type it had in the image.
    pub file_type: FileType,
    /// Bytes (for a deleted path, in the image).
    pub size: u64,
    /// Permission bits, with setuid, setgid and sticky.
    pub mode: u32,
    /// Chain ID of the topmost image layer that had the path, for changed and deleted ones.
    pub original_layer: Option<Digest>,
}

/// What a change reports of one file, from `upper/` (a stat by descriptor) or from an
/// image layer (a path's metadata).
#[derive(Debug, Clone, Copy)]
struct Stat {
    file_type: FileType,
    size: u64,
    /// Every mode bit, with the type.
    mode: u32,
    uid: u32,
    gid: u32,
    rdev: u64,
}

impl Stat {
    fn of_meta(meta: &Metadata) -> Stat {
        Stat {
            file_type: FileType::of(meta),
            size: meta.len(),
            mode: meta.mode(),
            uid: meta.uid(),
            gid: meta.gid(),
            rdev: meta.rdev(),
        }
    }

    fn of_stat(st: &FileStat) -> Stat {
        let file_type = match st.st_mode & libc::S_IFMT {
            libc::S_IFDIR => FileType::Dir,
            libc::S_IFLNK => FileType::Symlink,
            libc::S_IFCHR => FileType::Char,
            libc::S_IFBLK => FileType::Block,
            libc::S_IFIFO => FileType::Fifo,
            libc::S_IFSOCK => FileType::Socket,
            _ => FileType::File,
        };
        Stat {
            file_type,
            size: st.st_size.max(0) as u64,
            mode: st.st_mode,
            uid: st.st_uid,
            gid: st.st_gid,
            rdev: st.st_rdev,
        }
    }

    fn is_dir(&self) -> bool {
        self.file_type == FileType::Dir
    }

    /// An overlay whiteout: a 0/0 character device.
    fn is_whiteout(&self) -> bool {
        self.file_type == FileType::Char && self.rdev == 0
    }

    fn owner_and_mode(&self) -> (u32, u32, u32) {
        (self.mode, self.uid, self.gid)
    }
}

impl Change {
    fn new(path: String, kind: ChangeKind, stat: &Stat, layer: Option<Digest>) -> Change {
        Change {
            path,
            kind,
            file_type: stat.file_type,
            size: stat.size,
            mode: stat.mode & 0o7777,
            original_layer: layer,
        }
    }
}

impl Engine {
    /// The changes a container made to its image's filesystem, sorted by path. Works on
    /// created, running and stopped containers alike: it only reads directories.
    pub fn container_changes(&self, name_or_id: &str) -> Result<Vec<Change>> {
        let record = self.container(name_or_id)?;
        let overlay = self.overlay_of(&record);
        let layers: Vec<Layer> = record
            .chain_ids
            .iter()
            .zip(&overlay.lower)
            .map(|(chain_id, dir)| Layer {
                chain_id: chain_id.clone(),
                dir: dir.clone(),
            })
            .collect();
        changes(&overlay.upper, &layers)
    }
}

/// The changes `upper` makes to `layers` (bottom first), sorted by path.
fn changes(upper: &Path, layers: &[Layer]) -> Result<Vec<Change>> {
    let mut walker = Walker {
        layers,
        changes: Vec::new(),
    };
    // Ours, not the container's: the path up to `upper/` is the engine's own.
    let dir = match nix::fcntl::open(
        upper,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Ok(dir) => Some(dir),
        Err(nix::Error::ENOENT) => None,
        Err(e) => return Err(e).context(|| format!("opening {}", upper.display())),
    };
    if let Some(dir) = dir {
        let root_view = walker.child_view(&LowerView::all(layers.len()), Path::new(""))?;
        walker.walk(&dir, Path::new(""), &root_view)?;
    }
    let mut changes = walker.changes;
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(changes)
}

/// One read-only layer of the container's image.
struct Layer {
    chain_id: Digest,
    dir: PathBuf,
}

impl AsRef<Path> for Layer {
    fn as_ref(&self) -> &Path {
        &self.dir
    }
}

/// The layers (indexes into a bottom-first list of layer directories, topmost first) in
/// which a directory is visible through the overlay: it stops below a layer where the path
/// is a whiteout or not a directory, and after a layer where the directory is opaque.
/// Every layer in a view has the directory as a real directory (checked with lstat one
/// component at a time), so joining a name to it never goes through a symlink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LowerView(Vec<usize>);

impl LowerView {
    /// The root of layers `0..count`.
    pub(crate) fn all(count: usize) -> LowerView {
        LowerView((0..count).rev().collect())
    }

    pub(crate) fn empty() -> LowerView {
        LowerView(Vec::new())
    }

    /// The layer indexes, topmost first.
    pub(crate) fn layers(&self) -> &[usize] {
        &self.0
    }

    /// The topmost layer of the view that has `rel`, with its metadata there; None if
    /// the path does not exist in the view or a whiteout hides it.
    pub(crate) fn lookup<D: AsRef<Path>>(
        &self,
        dirs: &[D],
        rel: &Path,
    ) -> Result<Option<(usize, Metadata)>> {
        for &i in &self.0 {
            match lstat(&dirs[i].as_ref().join(rel))? {
                Entry::Absent => continue,
                Entry::Whiteout => return Ok(None),
                Entry::Present(meta) => return Ok(Some((i, meta))),
            }
        }
        Ok(None)
    }

    /// The view of the directory `rel` whose parent has this view.
    pub(crate) fn child<D: AsRef<Path>>(&self, dirs: &[D], rel: &Path) -> Result<LowerView> {
        let mut visible = Vec::new();
        for &i in &self.0 {
            let dir = dirs[i].as_ref().join(rel);
            match lstat(&dir)? {
                Entry::Absent => continue,
                Entry::Present(meta) if meta.is_dir() => {
                    visible.push(i);
                    if is_opaque(&dir) {
                        break;
                    }
                }
                Entry::Whiteout | Entry::Present(_) => break,
            }
        }
        Ok(LowerView(visible))
    }
}

/// What a path is in one layer directory.
enum Entry {
    Absent,
    Whiteout,
    Present(Metadata),
}

/// An overlay whiteout: a 0/0 character device.
pub(crate) fn is_whiteout(meta: &Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

/// An overlay opaque directory: nothing of the layers below shows through it.
pub(crate) fn is_opaque(dir: &Path) -> bool {
    get_xattr(dir, OPAQUE_XATTR).is_some_and(|v| v == b"y")
}

fn lstat(path: &Path) -> Result<Entry> {
    match fs::symlink_metadata(path) {
        Ok(meta) if is_whiteout(&meta) => Ok(Entry::Whiteout),
        Ok(meta) => Ok(Entry::Present(meta)),
        // ENOTDIR: a layer replaced a parent directory with a file.
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(Entry::Absent)
        }
        Err(e) => Err(e).context(|| format!("reading {}", path.display())),
    }
}

/// The container path of `rel` (relative to the root) as `docker diff` prints it.
fn container_path(rel: &Path) -> String {
    format!("/{}", rel.to_string_lossy())
}

/// One entry of `upper/`: its name in its directory, where it is in the container, and
/// what it is.
struct Node<'a> {
    /// The directory holding it, opened by descriptor from `upper/`.
    parent: &'a OwnedFd,
    name: &'a OsStr,
    /// Relative to the root: what is looked up in the layer directories.
    rel: &'a Path,
    /// Absolute, as reported.
    path: &'a str,
    stat: Stat,
}

struct Walker<'a> {
    layers: &'a [Layer],
    changes: Vec<Change>,
}

impl Walker<'_> {
    /// The topmost layer (of those where the parent is visible) that has `path`, with its
    /// metadata there; None if the path does not exist below or a whiteout hides it.
    fn lookup(&self, view: &LowerView, rel: &Path) -> Result<Option<(usize, Stat)>> {
        Ok(view
            .lookup(self.layers, rel)?
            .map(|(i, meta)| (i, Stat::of_meta(&meta))))
    }

    /// The view of the directory `path` whose parent has `view`.
    fn child_view(&self, view: &LowerView, rel: &Path) -> Result<LowerView> {
        view.child(self.layers, rel)
    }

    fn push(&mut self, path: &str, kind: ChangeKind, stat: &Stat, layer: Option<usize>) {
        let layer = layer.map(|i| self.layers[i].chain_id.clone());
        self.changes
            .push(Change::new(path.to_owned(), kind, stat, layer));
    }

    /// Walks one directory of `upper/` (`rel_dir` below the root, "" for the root) and
    /// records its changes. Returns whether anything in it was reported, which is what
    /// makes a directory that exists below count as changed.
    fn walk(&mut self, dir: &OwnedFd, rel_dir: &Path, view: &LowerView) -> Result<bool> {
        let mut reported = false;
        let what = || format!("listing /{}", rel_dir.display());
        let names = super::copy::list_dir(dir).context(what)?;
        for name in names {
            // Layer lookups use the raw name: a name need not be UTF-8.
            let rel = rel_dir.join(&name);
            let path = container_path(&rel);
            if ENGINE_PATHS.contains(&path.as_str()) {
                continue;
            }
            // A running container may remove what is being read: gone is not an error.
            let st = match fstatat(dir, name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
                Err(nix::Error::ENOENT) => continue,
                st => st.context(|| format!("reading {path}"))?,
            };
            let node = Node {
                parent: dir,
                name: &name,
                rel: &rel,
                path: &path,
                stat: Stat::of_stat(&st),
            };
            reported |= self.entry(&node, view)?;
        }
        Ok(reported)
    }

    /// Records one entry of `upper/` (and what is below it); returns whether it reported.
    fn entry(&mut self, node: &Node<'_>, view: &LowerView) -> Result<bool> {
        let below = self.lookup(view, node.rel)?;
        if node.stat.is_whiteout() {
            // A whiteout of something no layer has (created, then deleted) is no change.
            let Some((layer, lower)) = below else {
                return Ok(false);
            };
            self.push(node.path, ChangeKind::Deleted, &lower, Some(layer));
            return Ok(true);
        }
        if node.stat.is_dir() {
            return self.dir(node, view, below);
        }
        match below {
            Some((layer, _)) => self.push(node.path, ChangeKind::Changed, &node.stat, Some(layer)),
            None => self.push(node.path, ChangeKind::Added, &node.stat, None),
        }
        Ok(true)
    }

    /// Opens a directory entry of `upper/` below its parent's descriptor, never through a
    /// symlink; None if it is no directory any more (the container swapped or removed it
    /// since it was listed: what is there now is not walked).
    fn open_dir(node: &Node<'_>) -> Result<Option<(OwnedFd, Stat)>> {
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let what = || format!("reading {}", node.path);
        let dir = match openat(node.parent, node.name, flags, Mode::empty()) {
            Ok(dir) => dir,
            Err(nix::Error::ENOENT | nix::Error::ENOTDIR | nix::Error::ELOOP) => return Ok(None),
            Err(e) => return Err(e).context(what),
        };
        // What is reported is what is walked: the directory opened, not the one listed.
        let stat = Stat::of_stat(&fstat(&dir).context(what)?);
        Ok(Some((dir, stat)))
    }

    fn dir(
        &mut self,
        node: &Node<'_>,
        view: &LowerView,
        below: Option<(usize, Stat)>,
    ) -> Result<bool> {
        let (rel, path) = (node.rel, node.path);
        let Some((dir, stat)) = Self::open_dir(node)? else {
            return Ok(false);
        };
        let Some((layer, lower)) = below else {
            let children = self.walk(&dir, rel, &LowerView::empty())?;
            // Init creates /etc or /dev only to hold its own files: alone, not a change.
            if !children && ENGINE_PARENTS.contains(&path) {
                return Ok(false);
            }
            self.push(path, ChangeKind::Added, &stat, None);
            return Ok(true);
        };
        if is_opaque_fd(&dir) {
            // Deleted and made again: what was below is gone, everything in it is new.
            self.push(path, ChangeKind::Deleted, &lower, Some(layer));
            self.walk(&dir, rel, &LowerView::empty())?;
            return Ok(true);
        }
        if !lower.is_dir() {
            // A file replaced by a directory: nothing below shows through it.
            self.push(path, ChangeKind::Changed, &stat, Some(layer));
            self.walk(&dir, rel, &LowerView::empty())?;
            return Ok(true);
        }
        // A directory overlay copied up only to hold changes: changed if something in it
        // is, or its own permissions or owner are (its times change on every copy-up).
        let child_view = self.child_view(view, rel)?;
        let children = self.walk(&dir, rel, &child_view)?;
        let own = stat.owner_and_mode() != lower.owner_and_mode();
        if children || own {
            self.push(path, ChangeKind::Changed, &stat, Some(layer));
        }
        Ok(children || own)
    }
}

/// An opaque directory of `upper/`, asked of its descriptor.
pub(crate) fn is_opaque_fd(dir: &OwnedFd) -> bool {
    let mut value = [0u8; 2];
    // SAFETY: the name is a NUL-terminated literal and the buffer outlives the call.
    let n = unsafe {
        libc::fgetxattr(
            dir.as_fd().as_raw_fd(),
            c"trusted.overlay.opaque".as_ptr(),
            value.as_mut_ptr().cast(),
            value.len(),
        )
    };
    n == 1 && value[0] == b'y'
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    use nix::sys::stat::{mknod, Mode, SFlag};

    use super::*;

    fn whiteout(path: &Path) {
        mknod(path, SFlag::S_IFCHR, Mode::empty(), 0).expect("mknod whiteout (needs root)");
    }

    fn layer(dir: &Path, n: u8) -> Layer {
        Layer {
            chain_id: format!("sha256:{}", format!("{n:x}").repeat(64))
                .parse()
                .unwrap(),
            dir: dir.to_owned(),
        }
    }

    /// Whiteouts in the image's own layers hide what is below them; a raw (non-UTF-8) name
    /// is looked up as it is; a file replaced by a directory hides nothing of its own.
    #[test]
    fn lower_layers_are_seen_as_the_overlay_shows_them() {
        let tmp = tempfile::tempdir().unwrap();
        let (l0, l1, upper) = (
            tmp.path().join("l0"),
            tmp.path().join("l1"),
            tmp.path().join("up"),
        );
        let raw = OsStr::from_bytes(b"r\xff");
        for dir in ["a", "d"] {
            fs::create_dir_all(l0.join(dir)).unwrap();
        }
        for file in ["a/x", "a/y", "d/old", "f"] {
            fs::write(l0.join(file), "0").unwrap();
        }
        fs::write(l0.join("a").join(raw), "0").unwrap();
        fs::create_dir_all(l1.join("a")).unwrap();
        whiteout(&l1.join("a/x"));
        whiteout(&l1.join("d"));
        for dir in ["a", "d", "f"] {
            fs::create_dir_all(upper.join(dir)).unwrap();
        }
        fs::write(upper.join("a/x"), "new").unwrap();
        fs::write(upper.join("a").join(raw), "changed").unwrap();
        whiteout(&upper.join("a/y"));
        whiteout(&upper.join("a/never"));
        fs::write(upper.join("d/new"), "new").unwrap();
        fs::write(upper.join("f/inner"), "new").unwrap();

        let layers = [layer(&l0, 0), layer(&l1, 1)];
        let changes = changes(&upper, &layers).unwrap();
        let seen: Vec<(String, char, Option<Digest>)> = changes
            .into_iter()
            .map(|c| (c.path, c.kind.symbol(), c.original_layer))
            .collect();
        let (c0, c1) = (
            Some(layers[0].chain_id.clone()),
            Some(layers[1].chain_id.clone()),
        );
        let want = vec![
            ("/a".to_owned(), 'C', c1),
            ("/a/r\u{fffd}".to_owned(), 'C', c0.clone()),
            ("/a/x".to_owned(), 'A', None),
            ("/a/y".to_owned(), 'D', c0.clone()),
            ("/d".to_owned(), 'A', None),
            ("/d/new".to_owned(), 'A', None),
            ("/f".to_owned(), 'C', c0),
            ("/f/inner".to_owned(), 'A', None),
        ];
        assert_eq!(seen, want);
    }

    /// A container swaps a directory of its writable layer with a symlink to a host
    /// directory (renameat2 RENAME_EXCHANGE) while diff walks it: the host directory's
    /// files never appear, over many diffs raced against many swaps.
    #[test]
    fn a_directory_swapped_for_a_symlink_mid_walk_is_never_followed() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;

        let tmp = tempfile::tempdir().unwrap();
        let (l0, upper, host) = (
            tmp.path().join("l0"),
            tmp.path().join("up"),
            tmp.path().join("host"),
        );
        fs::create_dir_all(&l0).unwrap();
        fs::create_dir_all(&host).unwrap();
        for i in 0..50 {
            fs::write(host.join(format!("secret{i}")), "host").unwrap();
        }
        // Pairs to exchange: a directory of the layer and a symlink to the host's.
        const PAIRS: usize = 4;
        for i in 0..PAIRS {
            fs::create_dir_all(upper.join(format!("d{i}"))).unwrap();
            fs::write(upper.join(format!("d{i}/mine")), "mine").unwrap();
            std::os::unix::fs::symlink(&host, upper.join(format!("swap{i}"))).unwrap();
        }

        let stop = Arc::new(AtomicBool::new(false));
        let swapper = {
            let stop = Arc::clone(&stop);
            let upper = upper.clone();
            std::thread::spawn(move || {
                let mut swaps = 0u32;
                while !stop.load(Ordering::Relaxed) && swaps < 100_000_000 {
                    let i = swaps as usize % PAIRS;
                    let swapped = nix::fcntl::renameat2(
                        nix::fcntl::AT_FDCWD,
                        &upper.join(format!("d{i}")),
                        nix::fcntl::AT_FDCWD,
                        &upper.join(format!("swap{i}")),
                        nix::fcntl::RenameFlags::RENAME_EXCHANGE,
                    );
                    if swapped.is_err() {
                        break;
                    }
                    swaps += 1;
                }
                swaps
            })
        };
        let layers = [layer(&l0, 0)];
        let mut walked_into_d = 0;
        for _ in 0..10_000 {
            let changes = changes(&upper, &layers).unwrap();
            for c in &changes {
                assert!(!c.path.contains("secret"), "a host file listed: {c:?}");
            }
            walked_into_d += changes.iter().filter(|c| c.path.ends_with("/mine")).count();
        }
        stop.store(true, Ordering::Relaxed);
        let swaps = swapper.join().unwrap();
        assert!(swaps > 1000, "only {swaps} swaps raced the walks");
        assert!(walked_into_d > 0, "the walk never got into the directory");
    }
}
