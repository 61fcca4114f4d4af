//! The build context: a local directory opened once by descriptor and read beneath it.
//!
//! Every later lookup is `openat2` from that descriptor with `RESOLVE_BENEATH`,
//! `RESOLVE_NO_SYMLINKS` and `RESOLVE_NO_MAGICLINKS`: no path the context controls can lead
//! out of it, and a directory swapped for a symlink mid-walk fails instead of being
//! followed. COPY's sources are resolved as BuildKit resolves them in its snapshot of the
//! context: `..` stops at the root, a symlink is followed inside the context (an absolute
//! target means the context's root), and what `.dockerignore` leaves out does not exist.
//! Inside a copied directory symlinks are entries, never followed. FIFOs and device nodes
//! are entries of their type and are never opened; sockets are skipped (a tar has no type
//! for them). A file is read at most up to the size it had when the walk saw it, and a
//! file whose stat changed since is an error, so a growing file cannot keep a build busy.

use std::ffi::OsStr;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use nix::dir::Dir;
use nix::fcntl::{openat2, readlinkat, AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstat, fstatat, FileStat, Mode};

use super::ignore::{clean, has_wildcards, Glob, IgnorePatterns, MatchState};
use super::stat_cache::{StatCache, StatKey, Xattrs};
use crate::error::{Context, Error, ErrorKind, Result};

pub use super::archive::{ArchiveKind, LocalArchive};
pub use super::selection::{Manifest, ManifestEntry, Selection, TarOptions};

/// Symlinks followed while resolving one source, as the kernel's own limit.
const MAX_LINKS: usize = 40;
/// The largest ignore file read.
const MAX_IGNORE_FILE: u64 = 16 << 20;

/// A local build context directory.
#[derive(Clone)]
pub struct BuildContext {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub root: OwnedFd,
    pub dir: PathBuf,
    pub ignore: IgnorePatterns,
    pub ignore_file: Option<String>,
    pub cache: Mutex<StatCache>,
    /// Files whose bytes were read to hash them (not the ones the stat cache answered).
    pub hashed: AtomicU64,
    /// Entries whose xattrs were listed (not the ones the stat cache answered).
    pub listed: AtomicU64,
}

/// What a directory entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A regular file: its bytes are read.
    File,
    /// A directory.
    Dir,
    /// A symbolic link: never followed inside a copied directory.
    Symlink,
    /// A named pipe: an entry of its type, never opened.
    Fifo,
    /// A character device: an entry with its numbers, never opened.
    CharDevice,
    /// A block device: an entry with its numbers, never opened.
    BlockDevice,
}

impl EntryKind {
    fn of(mode: u32) -> Option<EntryKind> {
        Some(match mode & libc::S_IFMT {
            libc::S_IFREG => EntryKind::File,
            libc::S_IFDIR => EntryKind::Dir,
            libc::S_IFLNK => EntryKind::Symlink,
            libc::S_IFIFO => EntryKind::Fifo,
            libc::S_IFCHR => EntryKind::CharDevice,
            libc::S_IFBLK => EntryKind::BlockDevice,
            // Sockets: skipped, as a tar cannot carry them.
            _ => return None,
        })
    }

    pub(super) fn code(self) -> u8 {
        match self {
            EntryKind::File => b'f',
            EntryKind::Dir => b'd',
            EntryKind::Symlink => b'l',
            EntryKind::Fifo => b'p',
            EntryKind::CharDevice => b'c',
            EntryKind::BlockDevice => b'b',
        }
    }
}

/// An entry's stat, as the walk saw it.
#[derive(Debug, Clone)]
pub(super) struct Meta {
    pub kind: EntryKind,
    /// Permission bits with setuid, setgid and sticky.
    pub perm: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub rdev: u64,
    pub nlink: u64,
    pub mtime: i64,
    pub link: Option<Vec<u8>>,
    /// Extended attributes carried into the image (see [`read_xattrs`]), sorted by name.
    pub xattrs: Vec<(String, Vec<u8>)>,
    pub key: StatKey,
}

impl Meta {
    pub(super) fn from_stat(st: &FileStat, kind: EntryKind, link: Option<Vec<u8>>) -> Meta {
        Meta {
            kind,
            perm: st.st_mode & 0o7777,
            uid: st.st_uid,
            gid: st.st_gid,
            size: if kind == EntryKind::File {
                st.st_size.max(0) as u64
            } else {
                0
            },
            rdev: st.st_rdev,
            nlink: st.st_nlink,
            mtime: st.st_mtime,
            link,
            xattrs: Vec::new(),
            key: key_of(st),
        }
    }
}

/// Largest xattr name list and value the kernel allows (XATTR_LIST_MAX, XATTR_SIZE_MAX).
const XATTR_MAX: usize = 64 << 10;

/// The extended attributes of `name` in directory `dir`, as BuildKit carries them from a
/// context (file capabilities, `user.*`, ACLs), without the host's SELinux label and
/// `trusted.*` (overlayfs's own). Read through the directory's descriptor, without
/// opening the entry, so FIFOs and devices are safe; a filesystem without xattrs has none.
fn read_xattrs(dir: BorrowedFd<'_>, name: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut path = format!("/proc/self/fd/{}/", std::os::fd::AsRawFd::as_raw_fd(&dir)).into_bytes();
    path.extend_from_slice(if name.is_empty() { b"." } else { name });
    let path = OsStr::from_bytes(&path);
    match rustix::fs::llistxattr_query(path) {
        Ok(0) | Err(_) => return Vec::new(),
        Ok(_) => {}
    }
    let mut list = vec![0u8; XATTR_MAX];
    let Ok(n) = rustix::fs::llistxattr(path, &mut list[..]) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut value = vec![0u8; XATTR_MAX];
    for key in list[..n.min(list.len())].split(|&b| b == 0) {
        let Ok(key) = std::str::from_utf8(key) else {
            continue;
        };
        if key.is_empty() || key == "security.selinux" || key.starts_with("trusted.") {
            continue;
        }
        if let Ok(len) = rustix::fs::lgetxattr(path, key, &mut value[..]) {
            out.push((key.to_owned(), value[..len.min(value.len())].to_vec()));
        }
    }
    out.sort();
    out
}

pub(super) fn key_of(st: &FileStat) -> StatKey {
    StatKey {
        dev: st.st_dev,
        ino: st.st_ino,
        size: st.st_size.max(0) as u64,
        mtime: (st.st_mtime, st.st_mtime_nsec),
        ctime: (st.st_ctime, st.st_ctime_nsec),
        mode: st.st_mode,
        uid: st.st_uid,
        gid: st.st_gid,
    }
}

/// One entry below a selected directory.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// The path relative to the context root.
    pub path: Vec<u8>,
    pub meta: Meta,
}

/// One thing a COPY source names, after wildcards and symlinks.
#[derive(Debug, Clone)]
pub(super) struct Item {
    /// The source as written (for messages).
    pub source: String,
    /// The name a file keeps when it is copied into a directory: the source's last
    /// component, before any symlink was followed (as BuildKit does).
    pub name: Vec<u8>,
    /// The real path relative to the context root (`""` for the root).
    pub path: Vec<u8>,
    pub meta: Meta,
    /// For a directory, everything below it that the context holds, parents first, in
    /// byte order of names.
    pub entries: Vec<Entry>,
}

fn build_error(kind: ErrorKind, message: String) -> Error {
    Error::Build { kind, message }
}

fn not_found(source: &str, cleaned: &str) -> Error {
    let message = if clean(source).starts_with("..") {
        // BuildKit reads `../x` as the context's `/x`; say why it is missing.
        format!("{source:?}: forbidden path outside the build context (\"/{cleaned}\": not found)")
    } else {
        format!("\"/{cleaned}\": not found in the build context")
    };
    build_error(ErrorKind::NotFound, message)
}

/// The resolve flags of every lookup below the context root.
fn beneath() -> ResolveFlag {
    ResolveFlag::RESOLVE_BENEATH
        | ResolveFlag::RESOLVE_NO_SYMLINKS
        | ResolveFlag::RESOLVE_NO_MAGICLINKS
}

pub(super) fn as_path(rel: &[u8]) -> &OsStr {
    if rel.is_empty() {
        OsStr::new(".")
    } else {
        OsStr::from_bytes(rel)
    }
}

/// Opens `rel` (a real path: no symlink in it) beneath `root`.
pub(super) fn open_beneath(root: BorrowedFd<'_>, rel: &[u8], flags: OFlag) -> nix::Result<OwnedFd> {
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW)
        .resolve(beneath());
    openat2(root, as_path(rel), how)
}

fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    if dir.is_empty() {
        name.to_vec()
    } else {
        let mut p = Vec::with_capacity(dir.len() + 1 + name.len());
        p.extend_from_slice(dir);
        p.push(b'/');
        p.extend_from_slice(name);
        p
    }
}

fn split_last(rel: &[u8]) -> (&[u8], &[u8]) {
    match rel.iter().rposition(|&b| b == b'/') {
        Some(i) => (&rel[..i], &rel[i + 1..]),
        None => (&[], rel),
    }
}

fn lossy(rel: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(rel)
}

/// A wildcard's match: its name, its real path, its stat.
type Matched = (Vec<u8>, Vec<u8>, FileStat);
/// A directory's child the walk keeps (or an excluded directory it looks into).
struct Child {
    path: Vec<u8>,
    st: FileStat,
    kind: EntryKind,
    link: Option<Vec<u8>>,
    xattrs: Xattrs,
    /// `.dockerignore` excludes it (a directory here may still hold re-included entries).
    excluded: bool,
    state: MatchState,
}

/// What a lookup in the context found.
enum Lookup {
    Found { path: Vec<u8>, st: FileStat },
    Missing,
}

impl BuildContext {
    /// Opens the context; reads `<dockerfile>.dockerignore` if present, else `.dockerignore`
    /// (Docker's precedence). `dockerfile_rel`: the Dockerfile's path relative to the
    /// context when it is inside it. `stat_cache_dir`: where the stat cache of each context
    /// directory is kept (none: hash every file every time).
    pub fn open(
        dir: &Path,
        dockerfile_rel: Option<&str>,
        stat_cache_dir: Option<&Path>,
    ) -> Result<Self> {
        let root = nix::fcntl::open(dir, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty()).map_err(
            |err| {
                let message = if err == nix::Error::ENOENT {
                    format!(
                        "unable to prepare context: path {:?} not found",
                        dir.display().to_string()
                    )
                } else {
                    format!(
                        "unable to prepare context: {}: {}",
                        dir.display(),
                        err.desc()
                    )
                };
                build_error(ErrorKind::NotFound, message)
            },
        )?;
        let st = fstat(&root).context(|| format!("reading {}", dir.display()))?;
        if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
            return Err(build_error(
                ErrorKind::InvalidArgument,
                format!(
                    "unable to prepare context: context must be a directory: {}",
                    dir.display()
                ),
            ));
        }
        let canonical = std::fs::read_link(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&root)
        ))
        .unwrap_or_else(|_| dir.to_path_buf());
        let cache = match stat_cache_dir {
            Some(cache_dir) => StatCache::load(cache_dir, &canonical),
            None => StatCache::memory(),
        };
        let mut ctx = BuildContext {
            inner: Arc::new(Inner {
                root,
                dir: dir.to_path_buf(),
                ignore: IgnorePatterns::default(),
                ignore_file: None,
                cache: Mutex::new(cache),
                hashed: AtomicU64::new(0),
                listed: AtomicU64::new(0),
            }),
        };
        let mut candidates = Vec::new();
        if let Some(df) = dockerfile_rel {
            candidates.push(format!("{}.dockerignore", df.trim_start_matches('/')));
        }
        candidates.push(".dockerignore".to_owned());
        for name in candidates {
            match ctx.read_file(&name, MAX_IGNORE_FILE) {
                Ok(bytes) => {
                    let patterns = IgnorePatterns::parse(&String::from_utf8_lossy(&bytes))
                        .map_err(|e| {
                            build_error(
                                ErrorKind::InvalidArgument,
                                format!("failed parsing {name}: {e}"),
                            )
                        })?;
                    let inner = unique(&mut ctx.inner)?;
                    inner.ignore = patterns;
                    inner.ignore_file = Some(name);
                    break;
                }
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(ctx)
    }

    /// The same context with other ignore patterns (e.g. a `<Dockerfile>.dockerignore`
    /// beside a Dockerfile outside the context, which the builder reads itself).
    pub fn with_ignore(mut self, patterns: IgnorePatterns, file_name: &str) -> Result<Self> {
        let inner = unique(&mut self.inner)?;
        inner.ignore = patterns;
        inner.ignore_file = Some(file_name.to_owned());
        Ok(self)
    }

    /// The `.dockerignore` patterns in force (empty when there is no file).
    pub fn ignore(&self) -> &IgnorePatterns {
        &self.inner.ignore
    }

    /// Which ignore file was read, relative to the context (`None`: there was none).
    pub fn ignore_file(&self) -> Option<&str> {
        self.inner.ignore_file.as_deref()
    }

    /// The directory the context was opened from.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// How many files had their bytes read to hash them so far (the stat cache answered
    /// for the others).
    pub fn files_hashed(&self) -> u64 {
        self.inner.hashed.load(Ordering::Relaxed)
    }

    /// How many entries had their xattrs listed so far (the stat cache answered for the
    /// others).
    pub fn xattrs_listed(&self) -> u64 {
        self.inner.listed.load(Ordering::Relaxed)
    }

    /// Reads a regular file of the context (the Dockerfile, an ignore file), at most
    /// `limit` bytes (a larger file is an error). Symlinks are followed inside the
    /// context; `.dockerignore` does not apply.
    pub fn read_file(&self, rel: &str, limit: u64) -> Result<Vec<u8>> {
        let cleaned = clean(&format!("/{rel}"));
        let cleaned = cleaned.trim_start_matches('/');
        let (path, st) = match self.inner.lookup(cleaned.as_bytes(), true, false)? {
            Lookup::Found { path, st } => (path, st),
            Lookup::Missing => {
                return Err(build_error(
                    ErrorKind::NotFound,
                    format!("\"/{cleaned}\": not found in the build context"),
                ))
            }
        };
        if st.st_mode & libc::S_IFMT != libc::S_IFREG {
            // No file to read there (Docker skips an ignore file that is a directory).
            return Err(build_error(
                ErrorKind::NotFound,
                format!("\"/{cleaned}\": not a regular file"),
            ));
        }
        let size = st.st_size.max(0) as u64;
        if size > limit {
            return Err(build_error(
                ErrorKind::InvalidArgument,
                format!("\"/{cleaned}\": larger than {limit} bytes"),
            ));
        }
        let meta = Meta::from_stat(&st, EntryKind::File, None);
        let mut reader = self.inner.open_file(&path, &meta)?;
        let mut out = Vec::with_capacity(size as usize);
        reader
            .read_to_end(&mut out)
            .context(|| format!("reading {cleaned}"))?;
        Ok(out)
    }

    /// The entries COPY/ADD `sources` name (already variable-expanded; wildcards as Go's
    /// `filepath.Match` per component; a directory means its contents), after
    /// `.dockerignore`. A source that names nothing is an error; a wildcard that matches
    /// nothing selects nothing (BuildKit allows it: `COPY package.json yarn.lock* ./`).
    pub fn select(&self, sources: &[String]) -> Result<Selection> {
        let mut items = Vec::new();
        for source in sources {
            let cleaned = clean(&format!("/{source}"));
            let cleaned = cleaned.trim_start_matches('/').to_owned();
            if has_wildcards(&cleaned) {
                for (name, path, st) in self.inner.expand(source, &cleaned)? {
                    if let Some(item) = self.inner.item(source, name, path, st)? {
                        items.push(item);
                    }
                }
                continue;
            }
            let name = split_last(cleaned.as_bytes()).1.to_vec();
            let found = match self.inner.lookup(cleaned.as_bytes(), true, true) {
                Ok(found) => found,
                Err(e) => return Err(source_error(source, e)),
            };
            let Lookup::Found { path, st } = found else {
                return Err(not_found(source, &cleaned));
            };
            match self.inner.item(source, name, path, st)? {
                Some(item) => items.push(item),
                None => return Err(not_found(source, &cleaned)),
            }
        }
        Ok(Selection::new(self.inner.clone(), items))
    }
}

fn source_error(source: &str, e: Error) -> Error {
    match e {
        Error::Build { .. } => e,
        other => build_error(other.kind(), format!("{source:?}: {other}")),
    }
}

/// The context's state for changing it: a context is only re-configured right after
/// `open`; a shared one is copied first (same descriptor, duplicated).
fn unique(this: &mut Arc<Inner>) -> Result<&mut Inner> {
    if Arc::get_mut(this).is_none() {
        let old = &**this;
        let cache = std::mem::take(&mut *old.cache.lock().unwrap_or_else(|e| e.into_inner()));
        let root = old
            .root
            .try_clone()
            .context(|| "duplicating the build context's descriptor".to_owned())?;
        *this = Arc::new(Inner {
            root,
            dir: old.dir.clone(),
            ignore: old.ignore.clone(),
            ignore_file: old.ignore_file.clone(),
            cache: Mutex::new(cache),
            hashed: AtomicU64::new(old.hashed.load(Ordering::Relaxed)),
            listed: AtomicU64::new(old.listed.load(Ordering::Relaxed)),
        });
    }
    Ok(Arc::get_mut(this).expect("just made unique"))
}

impl Inner {
    fn root(&self) -> BorrowedFd<'_> {
        self.root.as_fd()
    }

    /// lstat of a real path below the root.
    fn lstat(&self, rel: &[u8]) -> nix::Result<FileStat> {
        if rel.is_empty() {
            return fstat(self.root());
        }
        let (parent, name) = split_last(rel);
        let dir = open_beneath(self.root(), parent, OFlag::O_PATH | OFlag::O_DIRECTORY)?;
        fstatat(&dir, OsStr::from_bytes(name), AtFlags::AT_SYMLINK_NOFOLLOW)
    }

    fn readlink(&self, rel: &[u8]) -> nix::Result<Vec<u8>> {
        let (parent, name) = split_last(rel);
        let dir = open_beneath(self.root(), parent, OFlag::O_PATH | OFlag::O_DIRECTORY)?;
        Ok(readlinkat(&dir, OsStr::from_bytes(name))?.into_vec())
    }

    /// Resolves a cleaned relative path as BuildKit does in its copy of the context:
    /// symlinks followed inside the context (the last one too if `follow_final`), `..`
    /// stopping at the root. With `ignored`, what `.dockerignore` leaves out is missing.
    fn lookup(&self, path: &[u8], follow_final: bool, ignored: bool) -> Result<Lookup> {
        let mut todo: std::collections::VecDeque<Vec<u8>> = path
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        let mut real: Vec<Vec<u8>> = Vec::new();
        let mut links = 0;
        let mut st = fstat(self.root()).context(|| "reading the build context".to_owned())?;
        while let Some(comp) = todo.pop_front() {
            match comp.as_slice() {
                b"." => continue,
                b".." => {
                    real.pop();
                    st = self
                        .lstat(&real.join(&b'/'))
                        .context(|| "reading the build context".to_owned())?;
                    continue;
                }
                _ => {}
            }
            if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
                return Ok(Lookup::Missing);
            }
            real.push(comp);
            let candidate = real.join(&b'/');
            let child = match self.lstat(&candidate) {
                Ok(child) => child,
                Err(nix::Error::ENOENT | nix::Error::ENOTDIR) => return Ok(Lookup::Missing),
                Err(e) => {
                    return Err(e).context(|| format!("reading {}", lossy(&candidate)));
                }
            };
            let kind = child.st_mode & libc::S_IFMT;
            if ignored && self.ignore.is_excluded(&lossy(&candidate)) {
                // An excluded directory exists only if an exception may re-include
                // something below it; anything else does not exist at all.
                let dir_kept =
                    kind == libc::S_IFDIR && self.ignore.may_reinclude_under(&lossy(&candidate));
                if !dir_kept {
                    return Ok(Lookup::Missing);
                }
            }
            if kind == libc::S_IFLNK && (follow_final || !todo.is_empty()) {
                links += 1;
                if links > MAX_LINKS {
                    return Err(build_error(
                        ErrorKind::InvalidArgument,
                        format!("\"/{}\": too many levels of symbolic links", lossy(path)),
                    ));
                }
                let target = self
                    .readlink(&candidate)
                    .context(|| format!("reading {}", lossy(&candidate)))?;
                real.pop();
                if target.starts_with(b"/") {
                    real.clear();
                }
                for comp in target.split(|&b| b == b'/').rev() {
                    if !comp.is_empty() {
                        todo.push_front(comp.to_vec());
                    }
                }
                st = self
                    .lstat(&real.join(&b'/'))
                    .context(|| "reading the build context".to_owned())?;
                continue;
            }
            st = child;
        }
        Ok(Lookup::Found {
            path: real.join(&b'/'),
            st,
        })
    }

    /// The matches of a wildcard source, in name order: the part before the first
    /// wildcard is resolved, then each component is matched against the directory's names.
    fn expand(&self, source: &str, cleaned: &str) -> Result<Vec<Matched>> {
        let comps: Vec<&str> = cleaned.split('/').filter(|c| !c.is_empty()).collect();
        let first = comps.iter().position(|c| has_wildcards(c)).unwrap_or(0);
        let prefix = comps[..first].join("/");
        let mut current: Vec<Matched> = match self
            .lookup(prefix.as_bytes(), true, true)
            .map_err(|e| source_error(source, e))?
        {
            Lookup::Found { path, st } => vec![(Vec::new(), path, st)],
            Lookup::Missing => return Ok(Vec::new()),
        };
        for comp in &comps[first..] {
            let mut next = Vec::new();
            let glob = if has_wildcards(comp) {
                Some(Glob::new(comp).map_err(|e| {
                    build_error(ErrorKind::InvalidArgument, format!("{source:?}: {e}"))
                })?)
            } else {
                None
            };
            for (_, dir, st) in &current {
                if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
                    continue;
                }
                let names: Vec<Vec<u8>> = match &glob {
                    Some(glob) => self
                        .list(dir)?
                        .into_iter()
                        .filter(|n| glob.is_match(&lossy(n)))
                        .collect(),
                    None => vec![unescape(comp).into_bytes()],
                };
                for name in names {
                    let candidate = join(dir, &name);
                    match self
                        .lookup(&candidate, true, true)
                        .map_err(|e| source_error(source, e))?
                    {
                        Lookup::Found { path, st } => next.push((name, path, st)),
                        Lookup::Missing => {}
                    }
                }
            }
            current = next;
        }
        Ok(current)
    }

    /// The names in a directory, sorted.
    fn list(&self, rel: &[u8]) -> Result<Vec<Vec<u8>>> {
        let fd = open_beneath(self.root(), rel, OFlag::O_RDONLY | OFlag::O_DIRECTORY)
            .context(|| format!("reading {}", lossy(rel)))?;
        let mut dir = Dir::from_fd(fd).context(|| format!("reading {}", lossy(rel)))?;
        let mut names = Vec::new();
        for entry in dir.iter() {
            let entry = entry.context(|| format!("reading {}", lossy(rel)))?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                names.push(name.to_vec());
            }
        }
        names.sort();
        Ok(names)
    }

    /// The item a resolved source is: a file, or a directory with what is below it.
    /// `None` when `.dockerignore` leaves nothing of it.
    fn item(
        &self,
        source: &str,
        name: Vec<u8>,
        path: Vec<u8>,
        st: FileStat,
    ) -> Result<Option<Item>> {
        let Some(kind) = EntryKind::of(st.st_mode) else {
            return Ok(None);
        };
        let (excluded, state) = self.ignore.state_of(&lossy(&path));
        let mut meta = Meta::from_stat(&st, kind, None);
        let (parent, base) = split_last(&path);
        meta.xattrs = match self.cached_xattrs(&path, &meta.key) {
            Some(xattrs) => xattrs,
            None => match open_beneath(self.root(), parent, OFlag::O_PATH | OFlag::O_DIRECTORY) {
                Ok(dir) => self.read_xattrs(dir.as_fd(), base, &path, meta.key),
                Err(_) => Vec::new(),
            },
        };
        let mut entries = Vec::new();
        if kind == EntryKind::Dir {
            self.walk(&path, &st, state, &mut entries)?;
            if excluded && entries.is_empty() {
                return Ok(None);
            }
        } else if excluded {
            return Ok(None);
        }
        Ok(Some(Item {
            source: source.to_owned(),
            name,
            path,
            meta,
            entries,
        }))
    }

    /// Everything below directory `rel`, parents before children, names in byte order;
    /// an excluded directory appears only when something below it is re-included.
    fn walk(
        &self,
        rel: &[u8],
        st: &FileStat,
        state: MatchState,
        out: &mut Vec<Entry>,
    ) -> Result<()> {
        struct Frame {
            children: std::vec::IntoIter<Child>,
            /// An excluded directory's entry and where it goes if anything below it is kept.
            pending: Option<(usize, Entry)>,
        }
        let mut stack = vec![Frame {
            children: self.children(rel, st, &state)?.into_iter(),
            pending: None,
        }];
        while let Some(top) = stack.last_mut() {
            let Some(child) = top.children.next() else {
                let frame = stack.pop().expect("not empty");
                if let Some((at, entry)) = frame.pending {
                    if out.len() > at {
                        out.insert(at, entry);
                    }
                }
                continue;
            };
            let mut meta = Meta::from_stat(&child.st, child.kind, child.link);
            meta.xattrs = child.xattrs;
            let entry = Entry {
                meta,
                path: child.path,
            };
            if child.kind != EntryKind::Dir {
                out.push(entry);
                continue;
            }
            let children = self.children(&entry.path, &child.st, &child.state)?;
            let pending = if child.excluded {
                Some((out.len(), entry))
            } else {
                out.push(entry);
                None
            };
            stack.push(Frame {
                children: children.into_iter(),
                pending,
            });
        }
        Ok(())
    }

    /// A directory's entries the walk keeps, with their stat, link targets and xattrs,
    /// sorted by name: what `.dockerignore` excludes is left out (an excluded directory
    /// stays when an exception may re-include something below it). The directory must
    /// still be the one the walk saw; `state` is its ignore state.
    fn children(&self, rel: &[u8], seen: &FileStat, state: &MatchState) -> Result<Vec<Child>> {
        let what = || format!("reading {} in the build context", lossy(rel));
        let fd =
            open_beneath(self.root(), rel, OFlag::O_RDONLY | OFlag::O_DIRECTORY).context(what)?;
        let now = fstat(&fd).context(what)?;
        if (now.st_dev, now.st_ino) != (seen.st_dev, seen.st_ino) {
            return Err(changed(rel));
        }
        let mut dir = Dir::from_fd(fd).context(what)?;
        let mut names = Vec::new();
        for entry in dir.iter() {
            let entry = entry.context(what)?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                names.push(name.to_vec());
            }
        }
        names.sort();
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let st = match fstatat(&dir, OsStr::from_bytes(&name), AtFlags::AT_SYMLINK_NOFOLLOW) {
                Ok(st) => st,
                // Removed since the listing: not part of the context any more.
                Err(nix::Error::ENOENT) => continue,
                Err(e) => return Err(e).context(what),
            };
            let Some(kind) = EntryKind::of(st.st_mode) else {
                continue;
            };
            let path = join(rel, &name);
            let text = lossy(&path);
            let (excluded, state) = self.ignore.check(&text, state);
            if excluded && !(kind == EntryKind::Dir && self.ignore.may_reinclude_under(&text)) {
                continue;
            }
            let link = if kind == EntryKind::Symlink {
                Some(
                    readlinkat(&dir, OsStr::from_bytes(&name))
                        .context(what)?
                        .into_vec(),
                )
            } else {
                None
            };
            let key = key_of(&st);
            let xattrs = match self.cached_xattrs(&path, &key) {
                Some(xattrs) => xattrs,
                None => self.read_xattrs(dir.as_fd(), &name, &path, key),
            };
            out.push(Child {
                path,
                st,
                kind,
                link,
                xattrs,
                excluded,
                state,
            });
        }
        Ok(out)
    }

    /// The xattrs of `path` from the stat cache, when its stat has not moved since.
    fn cached_xattrs(&self, path: &[u8], key: &StatKey) -> Option<Xattrs> {
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .xattrs(path, key)
    }

    /// Reads the xattrs of `name` in `dir` (`path` in the context, whose stat is `key`)
    /// and keeps them in the stat cache.
    fn read_xattrs(&self, dir: BorrowedFd<'_>, name: &[u8], path: &[u8], key: StatKey) -> Xattrs {
        let xattrs = read_xattrs(dir, name);
        self.listed.fetch_add(1, Ordering::Relaxed);
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .put_xattrs(path, key, &xattrs);
        xattrs
    }

    /// Opens a regular file the walk saw, checking it is still that file, for reading
    /// exactly the size it had.
    pub(super) fn open_file(&self, rel: &[u8], meta: &Meta) -> Result<ExactReader> {
        // O_NONBLOCK: were the file swapped for a FIFO, opening it must not wait.
        let fd = open_beneath(
            self.root(),
            rel,
            OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY,
        )
        .map_err(|e| match e {
            nix::Error::ENOENT | nix::Error::ELOOP | nix::Error::ENOTDIR => changed(rel),
            e => Error::Sys {
                context: format!("opening {} in the build context", lossy(rel)),
                err: e,
            },
        })?;
        let st = fstat(&fd).context(|| format!("reading {}", lossy(rel)))?;
        if st.st_mode & libc::S_IFMT != libc::S_IFREG || key_of(&st) != meta.key {
            return Err(changed(rel));
        }
        Ok(ExactReader {
            file: std::fs::File::from(fd),
            left: meta.size,
            path: rel.to_vec(),
            key: meta.key,
        })
    }
}

pub(super) fn changed(rel: &[u8]) -> Error {
    build_error(
        ErrorKind::Conflict,
        format!(
            "\"/{}\": changed in the build context while the build read it",
            lossy(rel)
        ),
    )
}

/// A `\` escapes the next character in a source component without wildcards.
pub(super) fn unescape(comp: &str) -> String {
    let mut out = String::with_capacity(comp.len());
    let mut chars = comp.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads exactly the size a file had when it was seen: fewer bytes, or more, mean it
/// changed, which is an error rather than a stream that never ends.
pub(super) struct ExactReader {
    file: std::fs::File,
    left: u64,
    path: Vec<u8>,
    /// The stat the file must still have once read: a same-size rewrite during the read
    /// moves its times.
    key: StatKey,
}

impl ExactReader {
    /// The content hash of a file with holes, from its data extents alone (`None`: the
    /// file has no holes and is hashed as a stream). A 10 GB sparse file then costs what
    /// its data costs. Each extent is framed by its offset and length after the size, so
    /// the bytes are told apart from any other file's; a file whose holes moved hashes
    /// differently, which is only a miss. The hole map is asked of the kernel
    /// (`SEEK_DATA`/`SEEK_HOLE`), bounded by the size the walk saw; a file that changes
    /// meanwhile is an error, as for a stream.
    pub(super) fn sparse_hash(&mut self) -> Result<Option<[u8; 32]>> {
        use sha2::Digest as _;
        use std::os::unix::fs::FileExt;
        let what = || format!("reading {} in the build context", lossy(&self.path));
        let st = fstat(self.file.as_fd()).context(what)?;
        let size = self.left;
        let allocated = u64::try_from(st.st_blocks).unwrap_or(0).saturating_mul(512);
        if allocated >= size {
            return Ok(None);
        }
        let mut h = sha2::Sha256::new();
        h.update(b"sparse\0");
        h.update(size.to_le_bytes());
        let mut buf = vec![0u8; 128 << 10];
        let mut at = 0u64;
        while at < size {
            let data = match rustix::fs::seek(&self.file, rustix::fs::SeekFrom::Data(at)) {
                Ok(data) => data,
                // Nothing but a hole up to the end.
                Err(rustix::io::Errno::NXIO) => break,
                // A filesystem that cannot tell: read it whole.
                Err(rustix::io::Errno::INVAL | rustix::io::Errno::OPNOTSUPP) if at == 0 => {
                    return Ok(None)
                }
                Err(e) => return Err(nix::Error::from_raw(e.raw_os_error())).context(what),
            };
            if data >= size {
                break;
            }
            let hole = rustix::fs::seek(&self.file, rustix::fs::SeekFrom::Hole(data))
                .map_err(|e| nix::Error::from_raw(e.raw_os_error()))
                .context(what)?
                .min(size);
            if hole <= data {
                return Err(changed(&self.path));
            }
            h.update(data.to_le_bytes());
            h.update((hole - data).to_le_bytes());
            let mut pos = data;
            while pos < hole {
                let want = usize::try_from(hole - pos)
                    .unwrap_or(usize::MAX)
                    .min(buf.len());
                let n = self.file.read_at(&mut buf[..want], pos).context(what)?;
                if n == 0 {
                    return Err(changed(&self.path));
                }
                h.update(&buf[..n]);
                pos += n as u64;
            }
            at = hole;
        }
        let moved = fstat(self.file.as_fd())
            .map(|st| key_of(&st) != self.key)
            .unwrap_or(true);
        if moved {
            return Err(changed(&self.path));
        }
        Ok(Some(h.finalize().into()))
    }
}

impl Read for ExactReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            // One more byte would mean the file grew.
            let mut probe = [0u8; 1];
            let grown = self.file.read(&mut probe)? != 0;
            let moved = fstat(self.file.as_fd())
                .map(|st| key_of(&st) != self.key)
                .unwrap_or(true);
            return if grown || moved {
                Err(std::io::Error::other(changed(&self.path).to_string()))
            } else {
                Ok(0)
            };
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.file.read(&mut buf[..want])?;
        if n == 0 {
            return Err(std::io::Error::other(changed(&self.path).to_string()));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
impl BuildContext {
    /// Trusts stat cache records made in the same second as the file (tests write files
    /// and hash them at once).
    pub(super) fn trust_fresh_records(&self) {
        self.inner
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .set_margin_ns(0);
    }
}

#[cfg(test)]
#[path = "context_tests.rs"]
mod tests;
