//! dive's efficiency analysis of a stored image: the space its layers spend on files a
//! later layer removes or overwrites.
//!
//! Two figures come out of one walk. The score is dive's (`filetree/efficiency.go`): per
//! path, the smallest size any layer gave it over the sum of the sizes every layer gave
//! it, summed over all paths; only each layer's leaves count (files, links, empty
//! directories, whiteouts, where a whiteout of a directory weighs what it hid), sizes are
//! a tar header's (a hard link's second name weighs nothing) and opaque directories are
//! not seen, as dive does not read `.wh..wh..opq`. The wasted paths are berth's own, as
//! overlay shows the image: each version of a file that a later layer hides (a whiteout,
//! a replacement, a deleted or opaque parent directory), with the layer that added it and
//! the layer that hid it.
//!
//! Bounded for any image: the layers are walked side by side in one sorted order (each
//! path is met once, with what every layer has there), so memory follows the depth of the
//! tree, not its size; wasted paths are counted and summed, and only the `top` largest
//! are kept.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashSet};
use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Context, Result};
use crate::storage::diff::{is_opaque, is_whiteout};
use crate::Engine;

/// Wasted paths kept by default: the largest first.
pub const TOP_WASTED: usize = 50;
/// Directory entries read at most over all layers; past it the figures cover what was
/// read and `truncated` says so. Also bounds what one huge directory holds in memory
/// (its sorted names) to some hundred megabytes.
const MAX_NAMES_READ: usize = 2_000_000;
/// Deepest directory walked.
const MAX_DEPTH: usize = 256;
/// Longest host path looked at.
const MAX_HOST_PATH: usize = 4000;

/// How a later layer hid a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WasteKind {
    /// Deleted: a whiteout of the file or of a directory above it, or an opaque parent.
    Removed,
    /// Replaced by a new version (or by something else at the same path).
    Overwritten,
}

/// A path whose bytes in some layer the final image doesn't show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WastedPath {
    /// From the image root: `/tmp/build/big.o`.
    pub path: String,
    /// Bytes of the hidden versions.
    pub bytes: u64,
    /// Hidden versions (a file written in three layers and then deleted has three).
    pub versions: u32,
    /// The layer (0 = bottom) that added the first hidden version.
    pub added: usize,
    /// The layer that hid the last one.
    pub removed: usize,
    pub kind: WasteKind,
}

/// One layer as the analysis names it: its index and the step that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EfficiencyLayer {
    pub index: usize,
    pub size: u64,
    pub created_by: Option<String>,
}

/// The efficiency of one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Efficiency {
    /// dive's score, 0 to 1 (1: no byte spent twice).
    pub score: f64,
    /// Bytes of every hidden file version (berth's count, as overlay shows the image).
    pub wasted_bytes: u64,
    /// Paths with at least one hidden version.
    pub wasted_paths: u64,
    /// dive's "wasted space": the sizes of every path met in more than one layer, summed
    /// over all its versions (what `dive --ci` compares with `highestWastedBytes`).
    pub dive_wasted_bytes: u64,
    /// Bytes of file content over all layers.
    pub layers_bytes: u64,
    /// The largest wasted paths, largest first (at most the `top` asked for).
    pub largest: Vec<WastedPath>,
    pub layers: Vec<EfficiencyLayer>,
    /// Limits left part of the image unread.
    pub truncated: bool,
}

impl Efficiency {
    /// The step that made layer `index`, as its history says.
    pub fn step(&self, index: usize) -> Option<&str> {
        self.layers.get(index)?.created_by.as_deref()
    }
}

impl Engine {
    /// dive's efficiency analysis of the image `name`, keeping the `top` largest wasted
    /// paths.
    pub fn image_efficiency(&self, name: &str, top: usize) -> Result<Efficiency> {
        let layers = self.image_layers(name)?;
        let dirs: Vec<PathBuf> = layers
            .iter()
            .map(|l| self.layer_diff_dir(&l.chain_id))
            .collect();
        let mut efficiency = analyze(&dirs, top)?;
        efficiency.layers = layers
            .into_iter()
            .map(|l| EfficiencyLayer {
                index: l.index,
                size: l.size,
                created_by: l.created_by,
            })
            .collect();
        Ok(efficiency)
    }
}

/// What a path is in one layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
    Whiteout,
    /// A symlink, device, FIFO or socket: no content bytes.
    Other,
}

/// A path in one layer.
#[derive(Debug, Clone, Copy)]
struct Occurrence {
    layer: usize,
    kind: Kind,
    /// Content bytes as a tar header gives them (0 for a hard link's later names).
    size: u64,
    /// Nothing below it in this layer.
    leaf: bool,
    opaque: bool,
}

/// Shared limits of one analysis.
#[derive(Default)]
struct Limits {
    names_read: usize,
    truncated: bool,
}

/// One layer walked depth first, names sorted, a directory before its contents: the
/// order `Path`'s comparison sorts in, so every layer yields paths in one order.
struct LayerWalk {
    layer: usize,
    root: PathBuf,
    /// The directories open on the way down, with their names still to visit.
    stack: Vec<(PathBuf, std::vec::IntoIter<OsString>)>,
    /// Inodes of hard-linked files met in this layer: a tar carries their bytes once.
    links: HashSet<(u64, u64)>,
    next: Option<(PathBuf, Occurrence)>,
}

impl LayerWalk {
    fn open(layer: usize, root: &Path, limits: &mut Limits) -> Result<LayerWalk> {
        let names = list(root, limits)?;
        let mut walk = LayerWalk {
            layer,
            root: root.to_owned(),
            stack: vec![(PathBuf::new(), names.into_iter())],
            links: HashSet::new(),
            next: None,
        };
        walk.advance(limits)?;
        Ok(walk)
    }

    fn advance(&mut self, limits: &mut Limits) -> Result<()> {
        self.next = None;
        while let Some((dir, names)) = self.stack.last_mut() {
            let Some(name) = names.next() else {
                self.stack.pop();
                continue;
            };
            let rel = dir.join(&name);
            let host = self.root.join(&rel);
            if host.as_os_str().len() > MAX_HOST_PATH {
                limits.truncated = true;
                continue;
            }
            let meta = match fs::symlink_metadata(&host) {
                Ok(meta) => meta,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e).context(|| format!("reading {}", host.display())),
            };
            let mut occurrence = Occurrence {
                layer: self.layer,
                kind: Kind::Other,
                size: 0,
                leaf: true,
                opaque: false,
            };
            if is_whiteout(&meta) {
                occurrence.kind = Kind::Whiteout;
            } else if meta.is_dir() {
                occurrence.kind = Kind::Dir;
                occurrence.opaque = is_opaque(&host);
                let names = if self.stack.len() >= MAX_DEPTH {
                    limits.truncated = true;
                    Vec::new()
                } else {
                    list(&host, limits)?
                };
                occurrence.leaf = names.is_empty();
                self.stack.push((rel.clone(), names.into_iter()));
            } else if meta.is_file() {
                occurrence.kind = Kind::File;
                let first = meta.nlink() < 2 || self.links.insert((meta.dev(), meta.ino()));
                occurrence.size = if first { meta.len() } else { 0 };
            }
            self.next = Some((rel, occurrence));
            return Ok(());
        }
        Ok(())
    }
}

/// The names in a layer's directory, sorted.
fn list(dir: &Path, limits: &mut Limits) -> Result<Vec<OsString>> {
    let listing = || format!("listing {}", dir.display());
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).context(listing)? {
        if limits.names_read >= MAX_NAMES_READ {
            limits.truncated = true;
            break;
        }
        limits.names_read += 1;
        names.push(entry.context(listing)?.file_name());
    }
    names.sort_unstable();
    Ok(names)
}

/// A whiteout of a directory: dive weighs it as the files it hid, known once the walk
/// has been below it.
struct Pending {
    layer: usize,
    bytes: u64,
}

/// A path on the way down, with what its layers do to what lies below it.
struct Frame {
    path: PathBuf,
    /// Layers where the path hides what the layers under them have below it: a whiteout,
    /// something not a directory, an opaque directory (`false`: dive doesn't see it).
    cuts: Vec<(usize, bool)>,
    /// dive's figures of this path: the sum and the smallest of its leaves' sizes.
    sum: u64,
    min: Option<u64>,
    nodes: u32,
    pending: Vec<Pending>,
}

/// A wasted path ranked by its bytes (then its path, so the order is total).
struct Ranked(WastedPath);

impl PartialEq for Ranked {
    fn eq(&self, other: &Ranked) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Ranked) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Ranked) -> Ordering {
        (self.0.bytes, &other.0.path).cmp(&(other.0.bytes, &self.0.path))
    }
}

struct Analysis {
    top: usize,
    heap: BinaryHeap<Reverse<Ranked>>,
    wasted_bytes: u64,
    wasted_paths: u64,
    dive_wasted: u64,
    dive_sum: u64,
    dive_min: u64,
    layers_bytes: u64,
}

/// The analysis of layer directories `dirs` (bottom first), keeping the `top` largest
/// wasted paths.
pub(crate) fn analyze(dirs: &[PathBuf], top: usize) -> Result<Efficiency> {
    let mut limits = Limits::default();
    let mut walks = Vec::with_capacity(dirs.len());
    for (layer, dir) in dirs.iter().enumerate() {
        walks.push(LayerWalk::open(layer, dir, &mut limits)?);
    }
    let mut analysis = Analysis {
        top,
        heap: BinaryHeap::new(),
        wasted_bytes: 0,
        wasted_paths: 0,
        dive_wasted: 0,
        dive_sum: 0,
        dive_min: 0,
        layers_bytes: 0,
    };
    let mut frames: Vec<Frame> = Vec::new();
    while let Some(path) = walks
        .iter()
        .filter_map(|w| w.next.as_ref().map(|(p, _)| p))
        .min()
        .cloned()
    {
        let mut here = Vec::new();
        for walk in &mut walks {
            if walk.next.as_ref().is_some_and(|(p, _)| *p == path) {
                if let Some((_, occurrence)) = walk.next.take() {
                    here.push(occurrence);
                }
                walk.advance(&mut limits)?;
            }
        }
        while frames.last().is_some_and(|f| !path.starts_with(&f.path)) {
            if let Some(frame) = frames.pop() {
                analysis.finish(frame);
            }
        }
        let frame = analysis.visit(path, &here, &mut frames);
        frames.push(frame);
    }
    while let Some(frame) = frames.pop() {
        analysis.finish(frame);
    }
    let score = if analysis.dive_sum == 0 {
        1.0
    } else {
        analysis.dive_min as f64 / analysis.dive_sum as f64
    };
    let mut largest: Vec<WastedPath> = analysis.heap.into_iter().map(|r| r.0 .0).collect();
    largest.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)));
    Ok(Efficiency {
        score,
        wasted_bytes: analysis.wasted_bytes,
        wasted_paths: analysis.wasted_paths,
        dive_wasted_bytes: analysis.dive_wasted,
        layers_bytes: analysis.layers_bytes,
        largest,
        layers: Vec::new(),
        truncated: limits.truncated,
    })
}

/// The first layer above `layer` that hides the version of the path it has: the path's
/// next occurrence (`true`: the same path replaced, not whited out), or a cut of a
/// directory above it. `dive`: only what dive sees (no opaque directories).
fn hidden_at(
    layer: usize,
    here: &[Occurrence],
    ancestors: &[Frame],
    dive: bool,
) -> Option<(usize, bool)> {
    let same = here
        .iter()
        .find(|o| o.layer > layer)
        .map(|o| (o.layer, o.kind != Kind::Whiteout));
    let cut = ancestors
        .iter()
        .flat_map(|f| f.cuts.iter())
        .filter(|(at, seen)| *at > layer && (*seen || !dive))
        .map(|(at, _)| *at)
        .min();
    match (same, cut) {
        (Some(s), Some(c)) if c < s.0 => Some((c, false)),
        (Some(s), _) => Some(s),
        (None, Some(c)) => Some((c, false)),
        (None, None) => None,
    }
}

impl Analysis {
    /// The path met with `here`, what each layer has at it (bottom first), below the
    /// paths of `ancestors`; returns its frame.
    fn visit(&mut self, path: PathBuf, here: &[Occurrence], ancestors: &mut [Frame]) -> Frame {
        let mut frame = Frame {
            path,
            cuts: Vec::new(),
            sum: 0,
            min: None,
            nodes: 0,
            pending: Vec::new(),
        };
        let mut wasted: Option<WastedPath> = None;
        for (at, o) in here.iter().enumerate() {
            match o.kind {
                Kind::Whiteout => frame.cuts.push((o.layer, true)),
                Kind::Dir if o.opaque => frame.cuts.push((o.layer, false)),
                Kind::Dir => {}
                Kind::File | Kind::Other => frame.cuts.push((o.layer, true)),
            }
            self.layers_bytes += o.size;
            // dive: a leaf of this layer's tree.
            if o.leaf {
                frame.nodes += 1;
                let previous_dir = at.checked_sub(1).is_some_and(|p| here[p].kind == Kind::Dir);
                if o.kind == Kind::Whiteout && previous_dir {
                    frame.pending.push(Pending {
                        layer: o.layer,
                        bytes: 0,
                    });
                } else {
                    frame.sum += o.size;
                    frame.min = Some(frame.min.map_or(o.size, |m| m.min(o.size)));
                }
            }
            if o.kind != Kind::File || o.size == 0 {
                continue;
            }
            // dive weighs a directory's whiteout as the files it hid then.
            if let Some((k, false)) = hidden_at(o.layer, &here[at + 1..], ancestors, true) {
                for pending in ancestors
                    .iter_mut()
                    .flat_map(|f| f.pending.iter_mut())
                    .filter(|p| p.layer == k)
                {
                    pending.bytes += o.size;
                }
            }
            // berth: a version some layer above hides is wasted.
            if let Some((removed, replaced)) = hidden_at(o.layer, &here[at + 1..], ancestors, false)
            {
                let kind = if replaced {
                    WasteKind::Overwritten
                } else {
                    WasteKind::Removed
                };
                let entry = wasted.get_or_insert_with(|| WastedPath {
                    path: root_path(&frame.path),
                    bytes: 0,
                    versions: 0,
                    added: o.layer,
                    removed,
                    kind,
                });
                entry.bytes += o.size;
                entry.versions += 1;
                entry.removed = removed;
                entry.kind = kind;
            }
        }
        if let Some(entry) = wasted {
            self.wasted_bytes += entry.bytes;
            self.wasted_paths += 1;
            self.keep(entry);
        }
        frame
    }

    /// Keeps `entry` if it is among the `top` largest so far.
    fn keep(&mut self, entry: WastedPath) {
        if self.top == 0 {
            return;
        }
        let ranked = Ranked(entry);
        if self.heap.len() < self.top {
            self.heap.push(Reverse(ranked));
        } else if self
            .heap
            .peek()
            .is_some_and(|Reverse(least)| ranked > *least)
        {
            self.heap.pop();
            self.heap.push(Reverse(ranked));
        }
    }

    /// The walk has left `frame`'s path: its dive figures are complete.
    fn finish(&mut self, mut frame: Frame) {
        for pending in std::mem::take(&mut frame.pending) {
            frame.sum += pending.bytes;
            frame.min = Some(frame.min.map_or(pending.bytes, |m| m.min(pending.bytes)));
        }
        if frame.nodes == 0 {
            return;
        }
        self.dive_sum += frame.sum;
        self.dive_min += frame.min.unwrap_or(0);
        if frame.nodes >= 2 {
            self.dive_wasted += frame.sum;
        }
    }
}

/// `/a/b` for the layer-relative `a/b` (non-UTF-8 bytes replaced).
fn root_path(rel: &Path) -> String {
    format!("/{}", String::from_utf8_lossy(rel.as_os_str().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::stat::{mknod, Mode, SFlag};

    fn whiteout(path: &Path) {
        mknod(path, SFlag::S_IFCHR, Mode::empty(), 0).expect("mknod whiteout (needs root)");
    }

    fn file(path: &Path, size: usize) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, vec![b'x'; size]).unwrap();
    }

    /// `n` empty layer directories.
    fn layers(tmp: &Path, n: usize) -> Vec<PathBuf> {
        (0..n)
            .map(|i| {
                let dir = tmp.join(format!("l{i}"));
                fs::create_dir_all(&dir).unwrap();
                dir
            })
            .collect()
    }

    fn paths(e: &Efficiency) -> Vec<(&str, u64, usize, usize, WasteKind)> {
        e.largest
            .iter()
            .map(|w| (w.path.as_str(), w.bytes, w.added, w.removed, w.kind))
            .collect()
    }

    #[test]
    fn a_file_added_then_deleted_is_wasted_and_scores_as_dive() {
        let tmp = tempfile::tempdir().unwrap();
        let l = layers(tmp.path(), 2);
        file(&l[0].join("keep"), 300);
        file(&l[0].join("tmp/big"), 100);
        fs::create_dir_all(l[1].join("tmp")).unwrap();
        whiteout(&l[1].join("tmp/big"));
        let e = analyze(&l, 10).unwrap();
        assert_eq!(paths(&e), [("/tmp/big", 100, 0, 1, WasteKind::Removed)]);
        assert_eq!((e.wasted_bytes, e.wasted_paths), (100, 1));
        // dive: /keep 300 once; /tmp/big 100 then 0 (a file's whiteout weighs nothing):
        // smallest sizes 300 + 0 over all sizes 300 + 100.
        assert_eq!(e.score, 300.0 / 400.0);
        assert_eq!(e.dive_wasted_bytes, 100);
        assert_eq!(e.layers_bytes, 400);
        assert!(!e.truncated);
    }

    #[test]
    fn a_file_overwritten_wastes_its_older_versions() {
        let tmp = tempfile::tempdir().unwrap();
        let l = layers(tmp.path(), 3);
        file(&l[0].join("etc/conf"), 50);
        file(&l[1].join("etc/conf"), 70);
        file(&l[2].join("etc/conf"), 20);
        file(&l[2].join("other"), 10);
        let e = analyze(&l, 10).unwrap();
        assert_eq!(
            paths(&e),
            [("/etc/conf", 120, 0, 2, WasteKind::Overwritten)]
        );
        assert_eq!(e.largest[0].versions, 2);
        // dive: /etc/conf 50+70+20 with smallest 20, /other 10.
        assert_eq!(e.score, 30.0 / 150.0);
        assert_eq!(e.dive_wasted_bytes, 140);
    }

    #[test]
    fn a_directory_removed_wastes_each_of_its_files() {
        let tmp = tempfile::tempdir().unwrap();
        let l = layers(tmp.path(), 3);
        file(&l[0].join("src/a.c"), 10);
        file(&l[1].join("src/sub/b.o"), 40);
        file(&l[1].join("bin/app"), 5);
        whiteout(&l[2].join("src"));
        let e = analyze(&l, 10).unwrap();
        assert_eq!(
            paths(&e),
            [
                ("/src/sub/b.o", 40, 1, 2, WasteKind::Removed),
                ("/src/a.c", 10, 0, 2, WasteKind::Removed),
            ]
        );
        assert_eq!(e.wasted_bytes, 50);
        // dive weighs the whiteout of /src as the 50 bytes it hid, at one path of its
        // own: nothing counts twice, so dive's score stays 1.
        assert_eq!(e.score, 1.0);
        assert_eq!(e.dive_wasted_bytes, 0);
    }

    #[test]
    fn an_opaque_directory_hides_what_lay_below_it() {
        let tmp = tempfile::tempdir().unwrap();
        let l = layers(tmp.path(), 2);
        file(&l[0].join("cache/old"), 30);
        file(&l[1].join("cache/new"), 5);
        let opaque = std::ffi::CString::new(l[1].join("cache").as_os_str().as_bytes()).unwrap();
        let rc = unsafe {
            libc::setxattr(
                opaque.as_ptr(),
                c"trusted.overlay.opaque".as_ptr(),
                b"y".as_ptr().cast(),
                1,
                0,
            )
        };
        assert_eq!(rc, 0, "setxattr (needs root)");
        let e = analyze(&l, 10).unwrap();
        assert_eq!(paths(&e), [("/cache/old", 30, 0, 1, WasteKind::Removed)]);
        // dive does not read opaque markers: nothing is counted twice.
        assert_eq!(e.score, 1.0);
    }

    #[test]
    fn a_hard_link_weighs_once_per_layer_and_only_the_top_are_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let l = layers(tmp.path(), 2);
        file(&l[0].join("bin/busybox"), 1000);
        fs::hard_link(l[0].join("bin/busybox"), l[0].join("bin/sh")).unwrap();
        for i in 0..20 {
            file(&l[0].join(format!("junk/{i:02}")), 10 + i);
        }
        whiteout(&l[1].join("junk"));
        let e = analyze(&l, 3).unwrap();
        assert_eq!(e.layers_bytes, 1000 + (10..30).sum::<usize>() as u64);
        assert_eq!(e.wasted_paths, 20);
        let kept: Vec<&str> = e.largest.iter().map(|w| w.path.as_str()).collect();
        assert_eq!(kept, ["/junk/19", "/junk/18", "/junk/17"]);
        assert_eq!(e.score, 1.0);
    }
}
