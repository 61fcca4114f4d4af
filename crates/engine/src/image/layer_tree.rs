//! The layers of an image and the files of one layer, as a dive-like layer view shows
//! them: each layer with the build step that made it, and the file tree of one layer alone
//! or of the image so far, marked with what that layer added, changed or deleted.
//!
//! Layers are stored unpacked with overlay whiteouts, so the image up to a layer is read
//! the way overlay would show it (the lower views of `storage::diff`), once as it was
//! below the layer and once with it, and each path compared between the two.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::{self, Metadata};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Context, Error, Result};
use crate::ids::Digest;
use crate::storage::diff::{is_opaque, ChangeKind, FileType, LowerView};
use crate::Engine;

/// Entries one tree returns at most; `truncated` says when more were left out.
pub(crate) const MAX_TREE_ENTRIES: usize = 200_000;
/// Directory entries read at most, over all layers (a name in several layers counts in
/// each): bounds the time and memory of a tree of huge or many-layered directories.
const MAX_NAMES_READ: usize = 1_000_000;
/// Longest host path looked up; deeper paths are left out (and `truncated` set) rather
/// than failing the whole tree on ENAMETOOLONG.
const MAX_HOST_PATH: usize = 4000;
/// Deepest directory walked (the walk recurses; this bounds its stack).
const MAX_DEPTH: usize = 256;

/// One layer of an image, bottom first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageLayer {
    pub index: usize,
    pub diff_id: Digest,
    pub chain_id: Digest,
    /// Bytes of file content in the layer.
    pub size: u64,
    /// The build step that made the layer, from the config's history.
    pub created: Option<String>,
    pub created_by: Option<String>,
    pub comment: Option<String>,
}

/// Which files a layer tree shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TreeScope {
    /// Only the paths the layer itself touches (with what it deleted).
    Layer,
    /// The image as it is with the layer and all below it (with what the layer deleted).
    Aggregated,
}

/// One path of a layer tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreeEntry {
    /// Relative to the image root, '/'-separated (non-UTF-8 bytes replaced).
    pub path: String,
    /// For a deleted path, the type it had below the layer.
    pub kind: FileType,
    /// Bytes of a regular file's content; 0 for anything else.
    pub size: u64,
    /// Permission bits, with setuid, setgid and sticky.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// A symlink's target.
    pub link_target: Option<String>,
    /// What the layer did to the path, relative to the layers below it; None for a path
    /// it left as it was (a directory only holding changes counts as changed).
    pub change: Option<ChangeKind>,
}

/// The files of one layer or of the image up to it, sorted by path as a tree is walked
/// depth first: a directory directly before its contents, siblings by name.
#[derive(Debug, Clone, Serialize)]
pub struct LayerTree {
    pub layer: usize,
    pub scope: TreeScope,
    pub entries: Vec<TreeEntry>,
    /// True when limits left entries out (see `MAX_TREE_ENTRIES`).
    pub truncated: bool,
}

impl Engine {
    /// The layers of the image `name`, bottom first, with the build step of each.
    pub fn image_layers(&self, name: &str) -> Result<Vec<ImageLayer>> {
        let (record, _) = self.find_image(name)?;
        let history = self.history_of(&record)?;
        let mut layers = Vec::with_capacity(record.chain_ids.len());
        for (index, chain_id) in record.chain_ids.iter().enumerate() {
            let layer = self.layer_record(chain_id)?;
            let step = history.iter().find(|e| e.layer == Some(index));
            layers.push(ImageLayer {
                index,
                diff_id: layer.diff_id,
                chain_id: layer.chain_id,
                size: layer.size,
                created: step.and_then(|s| s.created.clone()),
                created_by: step.and_then(|s| s.created_by.clone()),
                comment: step.and_then(|s| s.comment.clone()),
            });
        }
        Ok(layers)
    }

    /// The files of layer `layer` (0 = bottom) of the image `name`, in `scope`.
    pub fn layer_changes(&self, name: &str, layer: usize, scope: TreeScope) -> Result<LayerTree> {
        let (record, _) = self.find_image(name)?;
        let count = record.chain_ids.len();
        if layer >= count {
            return Err(Error::invalid(
                "layer",
                layer.to_string(),
                format!("image {name} has {count} layers, numbered from 0"),
            ));
        }
        let dirs: Vec<PathBuf> = record.chain_ids[..=layer]
            .iter()
            .map(|c| self.layer_diff_dir(c))
            .collect();
        let (entries, truncated) = tree(&dirs, scope, MAX_TREE_ENTRIES)?;
        Ok(LayerTree {
            layer,
            scope,
            entries,
            truncated,
        })
    }
}

/// The tree of the topmost of `dirs` (layer directories, bottom first) over the others.
fn tree(dirs: &[PathBuf], scope: TreeScope, limit: usize) -> Result<(Vec<TreeEntry>, bool)> {
    let mut walker = TreeWalker {
        dirs,
        top: dirs.len() - 1,
        scope,
        limit,
        entries: Vec::new(),
        names_read: 0,
        truncated: false,
    };
    let root = Path::new("");
    let before = LowerView::all(walker.top).child(dirs, root)?;
    let after = LowerView::all(dirs.len()).child(dirs, root)?;
    walker.walk(root, &before, &after)?;
    Ok((walker.entries, walker.truncated))
}

struct TreeWalker<'a> {
    /// Layer directories, bottom first; the last is the layer shown.
    dirs: &'a [PathBuf],
    top: usize,
    scope: TreeScope,
    /// Entries returned at most.
    limit: usize,
    entries: Vec<TreeEntry>,
    names_read: usize,
    truncated: bool,
}

impl TreeWalker<'_> {
    /// Walks the directory `rel`, visible in `before` (the layers below the top one) and
    /// `after` (with it). Returns whether the top layer changed anything in it.
    fn walk(&mut self, rel: &Path, before: &LowerView, after: &LowerView) -> Result<bool> {
        let mut changed = false;
        if rel.components().count() >= MAX_DEPTH {
            self.truncated = true;
            return Ok(false);
        }
        for name in self.names(rel, before, after)? {
            if self.entries.len() >= self.limit {
                self.truncated = true;
            }
            if self.truncated {
                break;
            }
            let child = rel.join(&name);
            if self.dirs[self.top].join(&child).as_os_str().len() > MAX_HOST_PATH {
                self.truncated = true;
                break;
            }
            changed |= self.entry(&child, before, after)?;
        }
        Ok(changed)
    }

    /// The names to look at in `rel`, sorted: in the aggregated scope those of every
    /// layer that shows the directory; in the layer scope the top layer's own, and those
    /// below when the top layer made the directory opaque (they are deleted).
    fn names(
        &mut self,
        rel: &Path,
        before: &LowerView,
        after: &LowerView,
    ) -> Result<BTreeSet<OsString>> {
        let top_has_dir = after.layers().first() == Some(&self.top);
        let mut layers: Vec<usize> = Vec::new();
        if top_has_dir {
            layers.push(self.top);
        }
        let opaque = top_has_dir && is_opaque(&self.dirs[self.top].join(rel));
        if self.scope == TreeScope::Aggregated || opaque {
            layers.extend(after.layers().iter().chain(before.layers()));
        }
        layers.sort_unstable();
        layers.dedup();
        let mut names = BTreeSet::new();
        for i in layers {
            let dir = self.dirs[i].join(rel);
            let listing = || format!("listing {}", dir.display());
            for entry in fs::read_dir(&dir).context(listing)? {
                self.names_read += 1;
                if self.names_read > MAX_NAMES_READ {
                    self.truncated = true;
                    return Ok(names);
                }
                names.insert(entry.context(listing)?.file_name());
            }
        }
        Ok(names)
    }

    /// Records the path `rel` (and what is below it); returns whether the top layer
    /// changed it.
    fn entry(&mut self, rel: &Path, before: &LowerView, after: &LowerView) -> Result<bool> {
        let now = after.lookup(self.dirs, rel)?;
        let was = before.lookup(self.dirs, rel)?;
        let (layer, meta, change) = match (now, was) {
            // A whiteout of nothing, or a name hidden by an opaque directory.
            (None, None) => return Ok(false),
            (Some((i, meta)), None) => (i, meta, Some(ChangeKind::Added)),
            (None, Some((j, meta))) => {
                self.push(rel, j, &meta, Some(ChangeKind::Deleted))?;
                return Ok(true);
            }
            (Some((i, meta)), Some((_, old))) if i == self.top => {
                // A directory kept as one changes only if its contents or owner/mode do;
                // anything else the top layer has replaced what was below.
                let same_dir = meta.is_dir()
                    && old.is_dir()
                    && !is_opaque(&self.dirs[i].join(rel))
                    && (meta.mode(), meta.uid(), meta.gid()) == (old.mode(), old.uid(), old.gid());
                let change = (!same_dir).then_some(ChangeKind::Changed);
                (i, meta, change)
            }
            (Some((i, meta)), Some(_)) => (i, meta, None),
        };
        if self.scope == TreeScope::Layer && layer != self.top {
            return Ok(false);
        }
        let at = self.entries.len();
        self.push(rel, layer, &meta, change)?;
        let mut changed = change.is_some();
        if meta.is_dir() {
            let (before, after) = (before.child(self.dirs, rel)?, after.child(self.dirs, rel)?);
            if self.walk(rel, &before, &after)? && !changed {
                self.entries[at].change = Some(ChangeKind::Changed);
                changed = true;
            }
        }
        Ok(changed)
    }

    fn push(
        &mut self,
        rel: &Path,
        layer: usize,
        meta: &Metadata,
        change: Option<ChangeKind>,
    ) -> Result<()> {
        let kind = FileType::of(meta);
        let link_target = if kind == FileType::Symlink {
            let link = self.dirs[layer].join(rel);
            let target = fs::read_link(&link).context(|| format!("reading {}", link.display()))?;
            Some(String::from_utf8_lossy(target.as_os_str().as_bytes()).into_owned())
        } else {
            None
        };
        self.entries.push(TreeEntry {
            path: String::from_utf8_lossy(rel.as_os_str().as_bytes()).into_owned(),
            kind,
            size: if kind == FileType::File {
                meta.len()
            } else {
                0
            },
            mode: meta.mode() & 0o7777,
            uid: meta.uid(),
            gid: meta.gid(),
            link_target,
            change,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Limits cut the tree short and say so, keeping what was read in order.
    #[test]
    fn limits_truncate_the_tree() {
        let tmp = tempfile::tempdir().unwrap();
        let layer = tmp.path().join("l0");
        let mut deep = layer.clone();
        for _ in 0..MAX_DEPTH + 5 {
            deep.push("d");
        }
        fs::create_dir_all(&deep).unwrap();
        for name in ["a", "b", "c"] {
            fs::write(layer.join(name), name).unwrap();
        }
        let dirs = [layer];

        let (entries, truncated) = tree(&dirs, TreeScope::Layer, 2).unwrap();
        let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!((paths, truncated), (vec!["a", "b"], true));

        let (entries, truncated) = tree(&dirs, TreeScope::Aggregated, usize::MAX).unwrap();
        assert!(truncated);
        let deepest = entries.iter().map(|e| e.path.split('/').count()).max();
        assert_eq!(deepest, Some(MAX_DEPTH));
        assert_eq!(entries.len(), 3 + MAX_DEPTH);
    }
}
