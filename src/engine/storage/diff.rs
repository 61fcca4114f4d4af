//! What a container changed in its root filesystem, as `docker diff` reports it for the
//! overlay2 driver, with the type, size, mode and originating layer of each path.
//!
//! The overlay is mounted only in the monitor's private mount namespace, so the changes
//! are read from the writable layer (`upper/`) and the image's layer directories directly.
//! Every lower lookup goes through a [`LowerView`]: the layers in which a directory is
//! visible through the overlay, so whiteouts and opaque directories inside the image's own
//! layers hide what is below them, exactly as they do in the mounted root.

use std::fs::{self, Metadata};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::engine::error::{Context, Result};
use crate::engine::ids::Digest;
use crate::engine::image::unpack::get_xattr;
use crate::engine::Engine;

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

impl Change {
    fn new(path: String, kind: ChangeKind, meta: &Metadata, layer: Option<Digest>) -> Change {
        Change {
            path,
            kind,
            file_type: FileType::of(meta),
            size: meta.len(),
            mode: meta.mode() & 0o7777,
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
        let mut walker = Walker {
            layers: &layers,
            changes: Vec::new(),
        };
        if overlay.upper.is_dir() {
            let root_view = walker.child_view(&LowerView::all(layers.len()), Path::new(""))?;
            walker.walk(&overlay.upper, Path::new(""), &root_view)?;
        }
        let mut changes = walker.changes;
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(changes)
    }
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

/// One entry of `upper/`: where it is on the host and in the container, and its metadata.
struct Node<'a> {
    upper: &'a Path,
    /// Relative to the root: what is looked up in the layer directories.
    rel: &'a Path,
    /// Absolute, as reported.
    path: &'a str,
    meta: &'a Metadata,
}

struct Walker<'a> {
    layers: &'a [Layer],
    changes: Vec<Change>,
}

impl Walker<'_> {
    /// The topmost layer (of those where the parent is visible) that has `path`, with its
    /// metadata there; None if the path does not exist below or a whiteout hides it.
    fn lookup(&self, view: &LowerView, rel: &Path) -> Result<Option<(usize, Metadata)>> {
        view.lookup(self.layers, rel)
    }

    /// The view of the directory `path` whose parent has `view`.
    fn child_view(&self, view: &LowerView, rel: &Path) -> Result<LowerView> {
        view.child(self.layers, rel)
    }

    fn push(&mut self, path: &str, kind: ChangeKind, meta: &Metadata, layer: Option<usize>) {
        let layer = layer.map(|i| self.layers[i].chain_id.clone());
        self.changes
            .push(Change::new(path.to_owned(), kind, meta, layer));
    }

    /// Walks one directory of `upper/` (`rel_dir` below the root, "" for the root) and
    /// records its changes. Returns whether anything in it was reported, which is what
    /// makes a directory that exists below count as changed.
    fn walk(&mut self, upper_dir: &Path, rel_dir: &Path, view: &LowerView) -> Result<bool> {
        let mut reported = false;
        let listing = || format!("listing {}", upper_dir.display());
        // A running container may remove what is being read: gone is not an error.
        let entries = match fs::read_dir(upper_dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            entries => entries.context(listing)?,
        };
        for entry in entries {
            let entry = entry.context(listing)?;
            // Layer lookups use the raw name: a name need not be UTF-8.
            let rel = rel_dir.join(entry.file_name());
            let path = container_path(&rel);
            if ENGINE_PATHS.contains(&path.as_str()) {
                continue;
            }
            let upper = entry.path();
            let meta = match entry.metadata() {
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                meta => meta.context(|| format!("reading {}", upper.display()))?,
            };
            let node = Node {
                upper: &upper,
                rel: &rel,
                path: &path,
                meta: &meta,
            };
            reported |= self.entry(&node, view)?;
        }
        Ok(reported)
    }

    /// Records one entry of `upper/` (and what is below it); returns whether it reported.
    fn entry(&mut self, node: &Node<'_>, view: &LowerView) -> Result<bool> {
        let below = self.lookup(view, node.rel)?;
        if is_whiteout(node.meta) {
            // A whiteout of something no layer has (created, then deleted) is no change.
            let Some((layer, lower)) = below else {
                return Ok(false);
            };
            self.push(node.path, ChangeKind::Deleted, &lower, Some(layer));
            return Ok(true);
        }
        if node.meta.is_dir() {
            return self.dir(node, view, below);
        }
        match below {
            Some((layer, _)) => self.push(node.path, ChangeKind::Changed, node.meta, Some(layer)),
            None => self.push(node.path, ChangeKind::Added, node.meta, None),
        }
        Ok(true)
    }

    fn dir(
        &mut self,
        node: &Node<'_>,
        view: &LowerView,
        below: Option<(usize, Metadata)>,
    ) -> Result<bool> {
        let (upper, rel, path, meta) = (node.upper, node.rel, node.path, node.meta);
        let Some((layer, lower)) = below else {
            let children = self.walk(upper, rel, &LowerView::empty())?;
            // Init creates /etc or /dev only to hold its own files: alone, not a change.
            if !children && ENGINE_PARENTS.contains(&path) {
                return Ok(false);
            }
            self.push(path, ChangeKind::Added, meta, None);
            return Ok(true);
        };
        if is_opaque(upper) {
            // Deleted and made again: what was below is gone, everything in it is new.
            self.push(path, ChangeKind::Deleted, &lower, Some(layer));
            self.walk(upper, rel, &LowerView::empty())?;
            return Ok(true);
        }
        if !lower.is_dir() {
            // A file replaced by a directory: nothing below shows through it.
            self.push(path, ChangeKind::Changed, meta, Some(layer));
            self.walk(upper, rel, &LowerView::empty())?;
            return Ok(true);
        }
        // A directory overlay copied up only to hold changes: changed if something in it
        // is, or its own permissions or owner are (its times change on every copy-up).
        let child_view = self.child_view(view, rel)?;
        let children = self.walk(upper, rel, &child_view)?;
        let own = (meta.mode(), meta.uid(), meta.gid()) != (lower.mode(), lower.uid(), lower.gid());
        if children || own {
            self.push(path, ChangeKind::Changed, meta, Some(layer));
        }
        Ok(children || own)
    }
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
        let mut walker = Walker {
            layers: &layers,
            changes: Vec::new(),
        };
        let root = walker
            .child_view(&LowerView::all(2), Path::new(""))
            .unwrap();
        walker.walk(&upper, Path::new(""), &root).unwrap();
        let mut changes = walker.changes;
        changes.sort_by(|a, b| a.path.cmp(&b.path));
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
}
