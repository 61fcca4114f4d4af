//! An image's merged filesystem as its steps see it, read from the layer directories by
//! descriptor: each name is looked up with `fstatat` below an open directory of a layer,
//! directories are opened one component at a time with `openat2(RESOLVE_BENEATH |
//! RESOLVE_NO_SYMLINKS)`, so nothing an image holds (a symlink to `/etc`, a loop) is ever
//! followed on the host. Symlinks are followed only in the image's own view, `..` clamped
//! at its root, as BuildKit resolves a COPY destination.
//!
//! The layer store keeps overlay's form (`image/unpack.rs` turns an archive's `.wh.NAME`
//! into a 0/0 character device and `.wh..wh..opq` into `trusted.overlay.opaque=y`; a
//! committed upper directory is overlay's own), so those are what hide lower layers here,
//! exactly what the mounted root of a build container shows.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::rc::Rc;

use nix::fcntl::{openat2, readlinkat, AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstatat, FileStat, Mode, SFlag};

use super::builder::build_error;
use super::context::unescape;
use super::ignore::{has_wildcards, Glob};
use super::step::ImageState;
use crate::error::{Context, Result};
use crate::storage::diff::is_opaque_fd;
use crate::Engine;

/// Symlinks one resolution follows before giving up (Linux's `MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// What an entry of the image is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Dir,
    File,
    Symlink,
    /// A device, FIFO or socket.
    Other,
}

/// An entry of the merged view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    /// Its path in the image without a leading `/` (`""`: the root), every symlink on the
    /// way resolved.
    pub path: String,
    pub kind: Kind,
    /// Permission bits (with setuid, setgid, sticky).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: i64,
    /// The layer (index into the image's layers, bottom first) that holds it.
    pub layer: usize,
}

impl Found {
    fn of(path: String, stat: &FileStat, layer: usize) -> Found {
        let format = SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits());
        let kind = match format {
            SFlag::S_IFDIR => Kind::Dir,
            SFlag::S_IFREG => Kind::File,
            SFlag::S_IFLNK => Kind::Symlink,
            _ => Kind::Other,
        };
        Found {
            path,
            kind,
            mode: stat.st_mode & 0o7777,
            uid: stat.st_uid,
            gid: stat.st_gid,
            mtime: stat.st_mtime,
            layer,
        }
    }
}

/// A directory of the merged view: the layers it is visible in, topmost first, each
/// with the directory open there. It stops below a layer where the directory is opaque,
/// and at a layer where the name is a whiteout or no directory.
struct DirView(Vec<(usize, OwnedFd)>);

/// What one name of a directory is in the merged view.
enum Entry {
    Absent,
    Dir(Rc<DirView>, Found),
    /// A symlink: the layer directory holding it, to read it from.
    Link(usize, Found),
    Other(Found),
}

/// One image's layers, open for lookups (directory views are kept: a COPY asks about
/// the same parents for every entry).
pub(crate) struct ImageFs {
    root: Rc<DirView>,
    dirs: RefCell<HashMap<String, Rc<DirView>>>,
}

impl ImageFs {
    /// Opens the layer directories of `image` (none for scratch).
    pub(crate) fn open(engine: &Engine, image: &ImageState) -> Result<ImageFs> {
        let dirs: Vec<PathBuf> = image
            .chain_ids
            .iter()
            .map(|chain| engine.layer_diff_dir(chain))
            .collect();
        Self::of_layer_dirs(&dirs)
    }

    /// Opens the layer directories `dirs` (bottom first).
    pub(crate) fn of_layer_dirs(dirs: &[PathBuf]) -> Result<ImageFs> {
        let mut view = Vec::new();
        for (i, dir) in dirs.iter().enumerate().rev() {
            let fd = nix::fcntl::open(
                dir,
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .context(|| format!("opening layer {}", dir.display()))?;
            let opaque = is_opaque_fd(&fd);
            view.push((i, fd));
            if opaque {
                break;
            }
        }
        Ok(Self::of_view(DirView(view)))
    }

    fn of_view(root: DirView) -> ImageFs {
        ImageFs {
            root: Rc::new(root),
            dirs: RefCell::new(HashMap::new()),
        }
    }

    /// The entry at `path` through real directories only (no symlink followed, the last
    /// component's own metadata); `None` when absent, hidden, or under a non-directory.
    pub(crate) fn lookup(&self, path: &str) -> Result<Option<Found>> {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let Some((last, dirs)) = parts.split_last() else {
            return Ok(Some(self.root_found()));
        };
        let mut view = self.root.clone();
        let mut at = String::new();
        for part in dirs {
            if *part == "." || *part == ".." {
                return Ok(None);
            }
            match self.entry(&view, &at, part)? {
                Entry::Dir(child, found) => {
                    view = child;
                    at = found.path;
                }
                _ => return Ok(None),
            }
        }
        Ok(match self.entry(&view, &at, last)? {
            Entry::Absent => None,
            Entry::Dir(_, found) | Entry::Link(_, found) | Entry::Other(found) => Some(found),
        })
    }

    /// The entry `path` names in the image, every symlink followed inside the image
    /// (absolute targets from its root, `..` never above it); `None` when absent or a
    /// component is no directory. A symlink loop is an error, as for BuildKit.
    pub(crate) fn resolve(&self, path: &str) -> Result<Option<Found>> {
        Ok(self.walk(path)?.0)
    }

    /// `path` with every symlink of the image on it followed (BuildKit's destination
    /// path): where what is written there lands, without a leading `/`. What does not
    /// exist is taken as written (`..` clamped at the root).
    pub(crate) fn real_path(&self, path: &str) -> Result<String> {
        Ok(self.walk(path)?.1)
    }

    /// What `path` resolves to (if it exists) and its real path.
    fn walk(&self, path: &str) -> Result<(Option<Found>, String)> {
        // Components still to walk, the next one last.
        let mut todo: Vec<String> = Vec::new();
        push_parts(&mut todo, path.as_bytes());
        // The directories walked so far below the root.
        let mut stack: Vec<(Rc<DirView>, Found)> = Vec::new();
        let mut links = 0;
        while let Some(part) = todo.pop() {
            if part == "." {
                continue;
            }
            if part == ".." {
                stack.pop();
                continue;
            }
            let (view, at) = match stack.last() {
                Some((view, found)) => (view.clone(), found.path.clone()),
                None => (self.root.clone(), String::new()),
            };
            let end = match self.entry(&view, &at, &part)? {
                Entry::Dir(child, found) => {
                    stack.push((child, found));
                    continue;
                }
                Entry::Link(layer, found) => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(build_error(format!(
                            "resolving /{} in the image: too many levels of symbolic links",
                            path.trim_start_matches('/')
                        )));
                    }
                    let target = self.read_link(&view, layer, &part, &found.path)?;
                    if target.first() == Some(&b'/') {
                        stack.clear();
                    }
                    push_parts(&mut todo, &target);
                    continue;
                }
                Entry::Other(found) if todo.iter().all(|p| p == ".") => Some(found),
                Entry::Other(_) | Entry::Absent => None,
            };
            // The rest is taken as written.
            let mut real: Vec<String> = stack
                .last()
                .map(|(_, f)| f.path.split('/').map(str::to_owned).collect())
                .unwrap_or_default();
            todo.push(part);
            while let Some(part) = todo.pop() {
                match part.as_str() {
                    "." => {}
                    ".." => {
                        real.pop();
                    }
                    _ => real.push(part),
                }
            }
            let real = real.join("/");
            return Ok((end.filter(|f| f.path == real), real));
        }
        let found = match stack.pop() {
            None => self.root_found(),
            Some((_, found)) => found,
        };
        let real = found.path.clone();
        Ok((Some(found), real))
    }

    /// The names in the directory `path` (resolved as [`Self::resolve`] does) with what
    /// each is, sorted; `None` when `path` is no directory.
    pub(crate) fn list(&self, path: &str) -> Result<Option<BTreeMap<String, Found>>> {
        let Some(dir) = self.resolve(path)? else {
            return Ok(None);
        };
        if dir.kind != Kind::Dir {
            return Ok(None);
        }
        let view = self.view_of(&dir.path)?;
        let mut names = std::collections::BTreeSet::new();
        for (_, fd) in &view.0 {
            // A descriptor of its own: a listing moves its offset.
            let own = nix::fcntl::openat(
                fd,
                ".",
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .context(|| format!("reading /{}", dir.path))?;
            let mut listing =
                nix::dir::Dir::from_fd(own).context(|| format!("reading /{}", dir.path))?;
            for entry in listing.iter() {
                let entry = entry.context(|| format!("reading /{}", dir.path))?;
                let name = entry.file_name().to_bytes();
                if name != b"." && name != b".." {
                    names.insert(String::from_utf8_lossy(name).into_owned());
                }
            }
        }
        let mut out = BTreeMap::new();
        for name in names {
            match self.entry(&view, &dir.path, &name)? {
                Entry::Absent => {}
                Entry::Dir(_, found) | Entry::Link(_, found) | Entry::Other(found) => {
                    out.insert(name, found);
                }
            }
        }
        Ok(Some(out))
    }

    /// The paths a COPY source with wildcards names in the image, as BuildKit expands
    /// them: the part before the first wildcard resolved, then each component matched
    /// (Go's `filepath.Match`) against the names of the directories matched so far, a
    /// match's links followed inside the image. Sorted per directory; empty: no match.
    pub(crate) fn glob(&self, pattern: &str) -> Result<Vec<String>> {
        let comps: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
        let first = comps.iter().position(|c| has_wildcards(c)).unwrap_or(0);
        let prefix = comps[..first]
            .iter()
            .map(|c| unescape(c))
            .collect::<Vec<_>>()
            .join("/");
        let mut current: Vec<(String, Found)> = match self.resolve(&prefix)? {
            Some(found) => vec![(found.path.clone(), found)],
            None => return Ok(Vec::new()),
        };
        for comp in &comps[first..] {
            let glob = if has_wildcards(comp) {
                Some(Glob::new(comp)?)
            } else {
                None
            };
            let mut next = Vec::new();
            for (at, found) in &current {
                if found.kind != Kind::Dir {
                    continue;
                }
                let names: Vec<String> = match &glob {
                    Some(glob) => self
                        .list(&found.path)?
                        .unwrap_or_default()
                        .into_keys()
                        .filter(|n| glob.is_match(n))
                        .collect(),
                    None => vec![unescape(comp)],
                };
                for name in names {
                    let candidate = if at.is_empty() {
                        name
                    } else {
                        format!("{at}/{name}")
                    };
                    // A match keeps its own name (a link is copied as its target's
                    // content under the link's name).
                    if let Some(hit) = self.resolve(&candidate)? {
                        next.push((candidate, hit));
                    }
                }
            }
            current = next;
        }
        Ok(current.into_iter().map(|(path, _)| path).collect())
    }

    /// The view of a directory at a real path (no symlinks in it).
    fn view_of(&self, real: &str) -> Result<Rc<DirView>> {
        let mut view = self.root.clone();
        let mut at = String::new();
        for part in real.split('/').filter(|p| !p.is_empty()) {
            match self.entry(&view, &at, part)? {
                Entry::Dir(child, found) => {
                    view = child;
                    at = found.path;
                }
                _ => return Ok(Rc::new(DirView(Vec::new()))),
            }
        }
        Ok(view)
    }

    fn root_found(&self) -> Found {
        // The root's own metadata is the topmost layer's directory.
        let stat = self
            .root
            .0
            .first()
            .and_then(|(i, fd)| Some((*i, nix::sys::stat::fstat(fd).ok()?)));
        match stat {
            Some((i, stat)) => Found::of(String::new(), &stat, i),
            None => Found {
                path: String::new(),
                kind: Kind::Dir,
                mode: 0o755,
                uid: 0,
                gid: 0,
                mtime: 0,
                layer: 0,
            },
        }
    }

    /// `name` in the directory `at` whose view is `view`.
    fn entry(&self, view: &DirView, at: &str, name: &str) -> Result<Entry> {
        // One real name: `..` of a layer's root would be the host's store.
        if name.is_empty() || name == "." || name == ".." || name.contains('/') {
            return Ok(Entry::Absent);
        }
        let path = if at.is_empty() {
            name.to_owned()
        } else {
            format!("{at}/{name}")
        };
        let mut top: Option<(usize, FileStat)> = None;
        let mut below = Vec::new();
        for (pos, (layer, fd)) in view.0.iter().enumerate() {
            match stat_at(fd, name).context(|| format!("looking up /{path} in the image"))? {
                None => continue,
                Some(stat) if is_whiteout(&stat) => return Ok(Entry::Absent),
                Some(stat) => {
                    top = Some((*layer, stat));
                    below = view.0[pos..].iter().collect();
                    break;
                }
            }
        }
        let Some((layer, stat)) = top else {
            return Ok(Entry::Absent);
        };
        let found = Found::of(path.clone(), &stat, layer);
        match found.kind {
            Kind::Symlink => return Ok(Entry::Link(layer, found)),
            Kind::File | Kind::Other => return Ok(Entry::Other(found)),
            Kind::Dir => {}
        }
        if let Some(view) = self.dirs.borrow().get(&path) {
            return Ok(Entry::Dir(view.clone(), found));
        }
        let mut child = Vec::new();
        for (layer, fd) in below {
            match open_dir_beneath(fd, OsStr::new(name)) {
                Ok(dir) => {
                    let opaque = is_opaque_fd(&dir);
                    child.push((*layer, dir));
                    if opaque {
                        break;
                    }
                }
                Err(nix::Error::ENOENT) => continue,
                // A whiteout, file or symlink: nothing lower shows through.
                Err(nix::Error::ENOTDIR | nix::Error::ELOOP) => break,
                Err(e) => {
                    return Err(e).context(|| format!("opening /{path} in the image"));
                }
            }
        }
        let child = Rc::new(DirView(child));
        self.dirs.borrow_mut().insert(path, child.clone());
        Ok(Entry::Dir(child, found))
    }

    /// A symlink's target, read from the layer that holds it.
    fn read_link(&self, view: &DirView, layer: usize, name: &str, path: &str) -> Result<Vec<u8>> {
        let fd = view
            .0
            .iter()
            .find(|(i, _)| *i == layer)
            .map(|(_, fd)| fd)
            .ok_or_else(|| build_error(format!("/{path}: the layer holding it is not open")))?;
        let target = readlinkat(fd, OsStr::new(name))
            .context(|| format!("reading the link /{path} in the image"))?;
        Ok(target.as_bytes().to_vec())
    }
}

/// The directory `name` below `dir`, opened without following any symlink or leaving
/// `dir`'s filesystem: what an image (or a container) holds is never followed on the host.
pub(crate) fn open_dir_beneath(dir: &OwnedFd, name: &OsStr) -> nix::Result<OwnedFd> {
    let how = OpenHow::new()
        .flags(OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC)
        .resolve(
            ResolveFlag::RESOLVE_BENEATH
                | ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_MAGICLINKS
                | ResolveFlag::RESOLVE_NO_XDEV,
        );
    openat2(dir, name, how)
}

/// `fstatat` without following: `None` when absent.
fn stat_at(dir: &OwnedFd, name: &str) -> nix::Result<Option<FileStat>> {
    match fstatat(dir, OsStr::new(name), AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(stat) => Ok(Some(stat)),
        Err(nix::Error::ENOENT | nix::Error::ENOTDIR) => Ok(None),
        Err(e) => Err(e),
    }
}

/// An overlay whiteout: a 0/0 character device.
fn is_whiteout(stat: &FileStat) -> bool {
    stat.st_mode & SFlag::S_IFMT.bits() == SFlag::S_IFCHR.bits() && stat.st_rdev == 0
}

/// Pushes `path`'s components onto a stack walked from its end.
fn push_parts(todo: &mut Vec<String>, path: &[u8]) {
    let parts: Vec<String> = path
        .split(|b| *b == b'/')
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    todo.extend(parts.into_iter().rev());
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use nix::sys::stat::mknod;

    use super::*;

    /// Layer directories in a temp dir, bottom first.
    struct Layers {
        _tmp: tempfile::TempDir,
        dirs: Vec<PathBuf>,
    }

    impl Layers {
        fn new(count: usize) -> Layers {
            let tmp = tempfile::tempdir().expect("tempdir");
            let dirs: Vec<PathBuf> = (0..count)
                .map(|i| {
                    let d = tmp.path().join(format!("l{i}"));
                    std::fs::create_dir(&d).expect("layer dir");
                    d
                })
                .collect();
            Layers { _tmp: tmp, dirs }
        }

        fn fs(&self) -> ImageFs {
            let mut view = Vec::new();
            for (i, dir) in self.dirs.iter().enumerate().rev() {
                let fd = nix::fcntl::open(
                    dir,
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )
                .expect("open layer");
                let opaque = is_opaque_fd(&fd);
                view.push((i, fd));
                if opaque {
                    break;
                }
            }
            ImageFs::of_view(DirView(view))
        }

        fn dir(&self, layer: usize, rel: &str) -> PathBuf {
            let p = self.dirs[layer].join(rel);
            std::fs::create_dir_all(&p).expect("mkdir");
            p
        }

        fn file(&self, layer: usize, rel: &str) {
            let p = self.dirs[layer].join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).expect("mkdir");
            }
            std::fs::write(p, rel).expect("write");
        }

        fn link(&self, layer: usize, rel: &str, target: &str) {
            let p = self.dirs[layer].join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).expect("mkdir");
            }
            symlink(target, p).expect("symlink");
        }

        /// An overlay whiteout, or false where mknod is not allowed (not root).
        fn whiteout(&self, layer: usize, rel: &str) -> bool {
            mknod(
                &self.dirs[layer].join(rel),
                SFlag::S_IFCHR,
                Mode::empty(),
                0,
            )
            .is_ok()
        }
    }

    fn kind(fs: &ImageFs, path: &str) -> Option<(String, Kind)> {
        fs.resolve(path).expect("resolve").map(|f| (f.path, f.kind))
    }

    #[test]
    fn a_link_to_a_host_path_is_followed_inside_the_image_only() {
        let l = Layers::new(1);
        // The host's /etc has a passwd; the image's /etc has none.
        l.dir(0, "etc");
        l.link(0, "app", "/etc");
        l.link(0, "rel", "../../../etc");
        let fs = l.fs();
        assert_eq!(kind(&fs, "/app"), Some(("etc".into(), Kind::Dir)));
        assert_eq!(kind(&fs, "/app/passwd"), None);
        assert_eq!(kind(&fs, "/rel/passwd"), None);
        assert_eq!(kind(&fs, "/rel"), Some(("etc".into(), Kind::Dir)));
        // Not followed at all by lookup: the link itself, nothing below it.
        assert_eq!(
            fs.lookup("app").expect("lookup").map(|f| f.kind),
            Some(Kind::Symlink)
        );
        assert_eq!(fs.lookup("app/passwd").expect("lookup"), None);
    }

    #[test]
    fn a_real_path_follows_the_links_that_exist_and_keeps_the_rest() {
        let l = Layers::new(1);
        l.dir(0, "etc");
        l.link(0, "app", "/etc");
        l.link(0, "dangling", "/nowhere/deep");
        l.file(0, "f");
        let fs = l.fs();
        let real = |p: &str| fs.real_path(p).expect("real path");
        assert_eq!(real("/app/new/x"), "etc/new/x");
        assert_eq!(real("/app"), "etc");
        assert_eq!(real("/dangling/x"), "nowhere/deep/x");
        assert_eq!(real("/app/a/../../../b"), "b");
        assert_eq!(real("/f/x"), "f/x");
        assert_eq!(real("/"), "");
    }

    #[test]
    fn dot_dot_stops_at_the_image_root() {
        let l = Layers::new(1);
        l.file(0, "x");
        l.dir(0, "a/b");
        let fs = l.fs();
        assert_eq!(kind(&fs, "/../../x"), Some(("x".into(), Kind::File)));
        assert_eq!(kind(&fs, "a/b/../../../x"), Some(("x".into(), Kind::File)));
        assert_eq!(kind(&fs, "/x/"), Some(("x".into(), Kind::File)));
        assert_eq!(kind(&fs, "/x/y"), None);
    }

    #[test]
    fn a_link_loop_is_an_error_not_a_hang() {
        let l = Layers::new(1);
        l.link(0, "a", "b");
        l.link(0, "b", "a");
        l.link(0, "self", "self/x");
        let fs = l.fs();
        let err = fs.resolve("/a").expect_err("loop");
        assert!(
            err.to_string()
                .contains("too many levels of symbolic links"),
            "{err}"
        );
        assert!(fs.resolve("/self").is_err());
        assert_eq!(
            fs.lookup("/a").expect("lookup").map(|f| f.kind),
            Some(Kind::Symlink)
        );
    }

    #[test]
    fn upper_layers_win_and_links_resolve_across_layers() {
        let l = Layers::new(2);
        l.file(0, "usr/lib/one");
        l.link(1, "lib", "usr/lib");
        l.file(1, "usr/lib/two");
        let fs = l.fs();
        assert_eq!(
            kind(&fs, "/lib/one"),
            Some(("usr/lib/one".into(), Kind::File))
        );
        assert_eq!(
            kind(&fs, "/lib/two"),
            Some(("usr/lib/two".into(), Kind::File))
        );
        let names: Vec<String> = fs
            .list("/lib")
            .expect("list")
            .expect("a dir")
            .into_keys()
            .collect();
        assert_eq!(names, ["one", "two"]);
        // A file of an upper layer hides a lower directory.
        l.file(1, "d");
        l.file(0, "d/inside");
        let fs = l.fs();
        assert_eq!(kind(&fs, "/d"), Some(("d".into(), Kind::File)));
        assert_eq!(kind(&fs, "/d/inside"), None);
    }

    #[test]
    fn wildcards_match_in_the_merged_view_and_keep_a_links_name() {
        let l = Layers::new(2);
        l.file(0, "out/a.txt");
        l.file(0, "out/b.log");
        l.file(1, "out/c.txt");
        l.dir(1, "out/sub.txt");
        l.link(1, "out/l.txt", "/out/a.txt");
        l.link(1, "via", "out");
        let fs = l.fs();
        let glob = |p: &str| fs.glob(p).expect("glob");
        assert_eq!(
            glob("/out/*.txt"),
            ["out/a.txt", "out/c.txt", "out/l.txt", "out/sub.txt"]
        );
        assert_eq!(glob("/via/[ab].*"), ["out/a.txt", "out/b.log"]);
        assert_eq!(glob("/*/c.txt"), ["out/c.txt", "via/c.txt"]);
        assert!(glob("/out/*.none").is_empty());
        assert!(glob("/missing/*").is_empty());
        assert!(fs.glob("/out/[").is_err());
    }

    #[test]
    fn whiteouts_and_opaque_directories_hide_lower_layers() {
        let l = Layers::new(2);
        l.file(0, "gone/file");
        l.file(0, "keep/old");
        l.file(1, "keep/new");
        if !l.whiteout(1, "gone") {
            eprintln!("skipped: mknod needs root");
            return;
        }
        let fs = l.fs();
        assert_eq!(kind(&fs, "/gone"), None);
        assert_eq!(kind(&fs, "/gone/file"), None);
        assert_eq!(
            kind(&fs, "/keep/old"),
            Some(("keep/old".into(), Kind::File))
        );
        let root: Vec<String> = fs
            .list("/")
            .expect("list")
            .expect("dir")
            .into_keys()
            .collect();
        assert_eq!(root, ["keep"]);
        let keep = l.dir(1, "keep");
        let set = nix::libc::setxattr;
        let path = std::ffi::CString::new(keep.as_os_str().as_bytes()).expect("path");
        // SAFETY: NUL-terminated strings and a one-byte value that outlive the call.
        let rc = unsafe {
            set(
                path.as_ptr(),
                c"trusted.overlay.opaque".as_ptr(),
                b"y".as_ptr().cast(),
                1,
                0,
            )
        };
        assert_eq!(rc, 0, "setting trusted.overlay.opaque (needs root)");
        let fs = l.fs();
        assert_eq!(kind(&fs, "/keep/old"), None);
        assert_eq!(
            kind(&fs, "/keep/new"),
            Some(("keep/new".into(), Kind::File))
        );
        let keep: Vec<String> = fs
            .list("keep")
            .expect("list")
            .expect("dir")
            .into_keys()
            .collect();
        assert_eq!(keep, ["new"]);
    }
}
