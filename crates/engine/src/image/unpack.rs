//! Unpacking one layer tar into a directory, safely, in the form overlayfs reads.
//!
//! The tar comes from an untrusted archive, so every entry is resolved from an open
//! directory fd one component at a time with `O_NOFOLLOW`: a symlink made earlier in the
//! same layer can never redirect a later write, and names with `..` or a leading `/` are
//! rejected rather than clamped (a clamped name would silently put files elsewhere).
//!
//! Whiteouts become what overlayfs expects: `.wh.NAME` a 0/0 character device `NAME`, and
//! `.wh..wh..opq` the `trusted.overlay.opaque=y` xattr on its directory.

use std::collections::HashSet;
use std::ffi::{CString, OsStr, OsString};
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{
    fchmod, fchmodat, fstatat, futimens, makedev, mkdirat, mknodat, utimensat, FchmodatFlags, Mode,
    SFlag, UtimensatFlags,
};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchown, fchownat, linkat, symlinkat, unlinkat, Gid, Uid, UnlinkatFlags};
use tar::EntryType;

use crate::error::{Context, Error, Result};

mod finisher;

use finisher::{FileJob, Finisher, ASIDE_MAX};

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";
const OPAQUE_XATTR: &str = "trusted.overlay.opaque";
const PAX_XATTR_PREFIX: &str = "SCHILY.xattr.";
/// Large copies: fewer read/write syscalls per file, which dominates import time.
const COPY_BUF: usize = 1 << 20;

/// Unpacks the (already decompressed) layer tar `reader` into the existing, empty
/// directory `dest`. Returns the bytes of file content written (the layer's size).
pub fn unpack(reader: impl Read, dest: &Path) -> Result<u64> {
    unpack_recorded(reader, dest, None)
}

/// [`unpack`], telling `recorder` about each entry before its content is read, so it can
/// keep what rebuilds the tar (see [`super::tarsplit`]).
pub(crate) fn unpack_recorded(
    reader: impl Read,
    dest: &Path,
    recorder: Option<&super::tarsplit::Recorder>,
) -> Result<u64> {
    let root = nix::fcntl::open(
        dest,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context(|| format!("opening {}", dest.display()))?;
    extract_recorded(reader, root, &ExtractOptions::layer(), recorder)
}

/// How `extract` treats what it unpacks: image layers and `cp` archives differ.
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// Turn `.wh.` entries into overlay whiteouts (layers) instead of plain files.
    pub whiteouts: bool,
    /// Owner every entry gets instead of the one in the archive.
    pub owner: Option<(u32, u32)>,
    /// Renames the archive's top entry (and everything under it) while unpacking.
    pub rebase: Option<Rebase>,
    /// Apply the metadata of the archive's root entry (`./`) to the destination itself.
    pub root_meta: bool,
    /// Write each regular file under a temporary name beside its own and rename it into
    /// place once complete (copies): a cancel or a crash leaves the old file whole.
    pub atomic: bool,
    /// Make device nodes and FIFOs; otherwise they are skipped and reported (copies out
    /// to the host, where a container's device node would be a way in).
    pub specials: bool,
    /// Keep the setuid and setgid bits of non-directories (and file capabilities).
    pub setid: bool,
    /// Write small files' content and metadata on a second thread while the next names
    /// are made (a copy into a new tree; not with `atomic`, whose rename waits for them).
    pub parallel: bool,
    /// The destination is (beside) an overlay's upper layer, written to directly (see
    /// `storage::beside`): what overlayfs would read as its own is made as overlayfs makes
    /// it when written through the overlay. Its xattrs (`trusted.overlay.*`) are stored
    /// escaped, and a 0/0 character device, its whiteout, is refused.
    pub upper_layer: bool,
}

impl ExtractOptions {
    pub fn layer() -> ExtractOptions {
        ExtractOptions {
            whiteouts: true,
            owner: None,
            rebase: None,
            root_meta: true,
            atomic: false,
            specials: true,
            setid: true,
            parallel: false,
            upper_layer: false,
        }
    }
}

/// An entry `extract` left out (see [`ExtractOptions::specials`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Where it would have been, relative to the destination.
    pub rel: PathBuf,
    pub kind: SpecialKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialKind {
    Device,
    Fifo,
}

impl std::fmt::Display for SpecialKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SpecialKind::Device => "device node",
            SpecialKind::Fifo => "FIFO",
        })
    }
}

/// The prefix of the temporary names of files being written (see
/// [`ExtractOptions::atomic`]); a killed copy leaves such a file beside the destination.
pub(crate) const STAGING_PREFIX: &str = ".berth-cp-";
/// How an error says that a temporary file stayed behind.
pub(crate) const LEFT_BEHIND: &str = "could not be removed";
/// The kernel's limit on one path component.
const NAME_MAX: usize = 255;
/// The file capabilities xattr, a privilege like a setuid bit.
const CAPABILITY_XATTR: &[u8] = b"security.capability";

/// Entry names equal to `from` or under `from/` get `to` in its place; an empty `to`
/// unpacks the contents of `from` straight into the destination.
#[derive(Debug, Clone)]
pub struct Rebase {
    pub from: Vec<u8>,
    pub to: Vec<u8>,
}

impl Rebase {
    fn apply(&self, name: &Path) -> PathBuf {
        let mut bytes = name.as_os_str().as_bytes();
        while let Some(rest) = bytes.strip_prefix(b"./") {
            bytes = rest;
        }
        if bytes == b"." {
            bytes = b"";
        }
        // An archive of `DIR/.` names its entries relative to DIR itself: all are under it.
        let rest = if self.from == b"." || self.from.is_empty() {
            bytes
        } else {
            match bytes.strip_prefix(self.from.as_slice()) {
                Some(rest) if rest.is_empty() || rest[0] == b'/' => {
                    rest.strip_prefix(b"/").unwrap_or(rest)
                }
                _ => return name.to_owned(),
            }
        };
        let mut out = self.to.clone();
        if !out.is_empty() && !rest.is_empty() {
            out.push(b'/');
        }
        out.extend_from_slice(rest);
        if out.is_empty() {
            out.push(b'.');
        }
        PathBuf::from(OsStr::from_bytes(&out))
    }
}

/// Unpacks the tar `reader` into the open directory `root`, never leaving it: names with
/// `..` or a leading `/` and writes through symlinks are refused. Returns the bytes of file
/// content written.
pub(crate) fn extract(reader: impl Read, root: OwnedFd, opts: &ExtractOptions) -> Result<u64> {
    extract_recorded(reader, root, opts, None)
}

/// `extract`, telling `on_skip` about each entry left out as it is met.
pub fn extract_reporting(
    reader: impl Read,
    root: OwnedFd,
    opts: &ExtractOptions,
    on_skip: &mut dyn FnMut(Skipped),
) -> Result<u64> {
    let mut unpacker = Unpacker::new(root, opts.clone());
    unpacker.on_skip = Some(on_skip);
    unpacker.run(reader, opts, None)
}

fn extract_recorded(
    reader: impl Read,
    root: OwnedFd,
    opts: &ExtractOptions,
    recorder: Option<&super::tarsplit::Recorder>,
) -> Result<u64> {
    Unpacker::new(root, opts.clone()).run(reader, opts, recorder)
}

impl Unpacker<'_> {
    fn run(
        mut self,
        reader: impl Read,
        opts: &ExtractOptions,
        recorder: Option<&super::tarsplit::Recorder>,
    ) -> Result<u64> {
        let mut archive = tar::Archive::new(reader);
        let entries = archive.entries().context(|| "reading tar".to_owned())?;
        for entry in entries {
            let mut entry = entry.context(|| "reading tar".to_owned())?;
            if let Some(recorder) = recorder {
                record_entry(recorder, &entry, opts)?;
            }
            self.entry(&mut entry)?;
        }
        self.finish()?;
        Ok(self.size)
    }
}

/// PAX and GNU extension records: they describe the next entry (the tar crate folds them
/// into it), so they are no entry of their own.
fn is_extension(kind: EntryType) -> bool {
    matches!(
        kind,
        EntryType::XGlobalHeader
            | EntryType::XHeader
            | EntryType::GNULongName
            | EntryType::GNULongLink
    )
}

/// Tells the recorder where this entry's content will land (the unpacker checks the
/// name itself; an unsafe one fails the unpack right after).
pub(super) fn record_entry<R: Read>(
    recorder: &super::tarsplit::Recorder,
    entry: &tar::Entry<'_, R>,
    opts: &ExtractOptions,
) -> Result<()> {
    let kind = entry.header().entry_type();
    if is_extension(kind) {
        return Ok(());
    }
    let name = entry
        .path()
        .context(|| "reading a layer entry name".to_owned())?;
    let Ok(rel) = safe_relative(&name) else {
        return Ok(());
    };
    let whiteout = opts.whiteouts
        && rel
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(WHITEOUT_PREFIX));
    if whiteout {
        if let Some(target) = rel
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix(WHITEOUT_PREFIX))
            .filter(|t| !t.starts_with(WHITEOUT_PREFIX))
        {
            recorder.hides(&rel.with_file_name(target));
        }
    }
    recorder.entry(&super::tarsplit::EntryInfo {
        rel: &rel,
        is_file: !whiteout && matches!(kind, EntryType::Regular | EntryType::Continuous),
        is_dir: kind == EntryType::Directory,
        size: entry.size(),
        position: entry.raw_file_position(),
    });
    Ok(())
}

/// Checks a tar name and returns it as a relative path of plain components.
pub(crate) fn safe_relative(name: &Path) -> Result<PathBuf> {
    let mut rel = PathBuf::new();
    for component in name.components() {
        match component {
            Component::Normal(part) => rel.push(part),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => {
                return Err(unsafe_entry(
                    name,
                    "absolute paths are not allowed in a layer",
                ))
            }
            Component::ParentDir => {
                return Err(unsafe_entry(name, "'..' is not allowed in a layer path"))
            }
        }
    }
    Ok(rel)
}

fn unsafe_entry(name: &Path, reason: &str) -> Error {
    Error::UnsafeEntry {
        entry: name.display().to_string(),
        reason: reason.to_owned(),
    }
}

struct Unpacker<'a> {
    root: OwnedFd,
    opts: ExtractOptions,
    /// Open directories from the layer root down to the previous entry's parent. Tars
    /// list entries depth first, so most entries reuse all of them and open nothing.
    dirs: Vec<(OsString, OwnedFd)>,
    /// A directory the current entry created: its entries most likely come next.
    new_dir: Option<(OsString, OwnedFd)>,
    /// Directories with the setgid bit: files made in them inherit their group.
    setgid_dirs: HashSet<PathBuf>,
    ids: Ids,
    /// Finishes small files aside (see [`ExtractOptions::parallel`]).
    finisher: Option<Finisher>,
    /// Names for files staged before their rename into place.
    staging: StagingNames,
    /// Directory mtimes are set last, since creating entries inside changes them.
    dir_times: Vec<(PathBuf, u64)>,
    buf: Vec<u8>,
    size: u64,
    /// Told about each entry left out.
    on_skip: Option<&'a mut dyn FnMut(Skipped)>,
}

/// Who the unpack runs as, read once, not per file: which metadata calls a file needs.
#[derive(Debug, Clone, Copy)]
struct Ids {
    is_root: bool,
    /// Whether files are created with group 0.
    egid_root: bool,
    /// The process umask, to know when a file's create mode needs no fchmod.
    umask: u32,
}

impl Ids {
    fn current() -> Ids {
        Ids {
            is_root: nix::unistd::geteuid().is_root(),
            egid_root: nix::unistd::getegid().as_raw() == 0,
            umask: current_umask(),
        }
    }
}

/// Metadata common to every entry kind.
#[derive(Clone)]
struct Meta {
    mode: Mode,
    uid: Uid,
    gid: Gid,
    mtime: TimeSpec,
    xattrs: Vec<(CString, Vec<u8>)>,
}

impl<'a> Unpacker<'a> {
    fn new(root: OwnedFd, opts: ExtractOptions) -> Unpacker<'a> {
        let ids = Ids::current();
        // With `atomic` each file's rename must wait for its content: nothing to overlap.
        let finisher = (opts.parallel && !opts.atomic)
            .then(|| Finisher::start(ids))
            .flatten();
        Unpacker {
            root,
            opts,
            dirs: Vec::new(),
            new_dir: None,
            setgid_dirs: HashSet::new(),
            ids,
            finisher,
            staging: StagingNames::default(),
            dir_times: Vec::new(),
            buf: vec![0; COPY_BUF],
            size: 0,
            on_skip: None,
        }
    }

    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<()> {
        let kind = entry.header().entry_type();
        if is_extension(kind) {
            return Ok(());
        }
        let name = entry
            .path()
            .context(|| "reading a layer entry name".to_owned())?
            .into_owned();
        let name = match &self.opts.rebase {
            Some(rebase) => rebase.apply(&name),
            None => name,
        };
        let rel = safe_relative(&name)?;
        let mut meta = read_meta(entry, &name)?;
        if let Some((uid, gid)) = self.opts.owner {
            meta.uid = Uid::from_raw(uid);
            meta.gid = Gid::from_raw(gid);
        }
        if !self.opts.setid && kind != EntryType::Directory {
            meta.mode.remove(Mode::S_ISUID | Mode::S_ISGID);
            meta.xattrs
                .retain(|(key, _)| key.as_bytes() != CAPABILITY_XATTR);
        }
        if self.opts.upper_layer {
            for (key, _) in &mut meta.xattrs {
                escape_overlay_xattr(key);
            }
        }
        let (parent_rel, file_name) = match (rel.parent(), rel.file_name()) {
            (Some(parent), Some(file_name)) => (parent.to_owned(), file_name.to_owned()),
            // The layer root itself ("./"): only its metadata can be set.
            _ => {
                if kind == EntryType::Directory && self.opts.root_meta {
                    let root = self.root.try_clone().context(|| "dup".to_owned())?;
                    self.set_dir_meta(&root, &rel, &meta)?;
                }
                return Ok(());
            }
        };
        self.enter(&parent_rel, true, &name)?;
        // The parent is taken off the stack while the entry is made, then put back.
        let parent = match self.dirs.pop() {
            Some(top) => top,
            None => (
                OsString::new(),
                self.root.try_clone().context(|| "dup".to_owned())?,
            ),
        };
        let in_setgid_dir = self.setgid_dirs.contains(&parent_rel);
        let result = self.create(
            entry,
            kind,
            &parent.1,
            &file_name,
            &rel,
            &name,
            &meta,
            in_setgid_dir,
        );
        if !parent.0.is_empty() {
            self.dirs.push(parent);
        }
        if let Some(dir) = self.new_dir.take() {
            self.dirs.push(dir);
        }
        result
    }

    /// Makes `dirs` the open path to `rel`, reusing the common prefix with the previous
    /// one and opening the rest without following symlinks.
    fn enter(&mut self, rel: &Path, create: bool, name: &Path) -> Result<()> {
        let parts: Vec<&OsStr> = rel.iter().collect();
        let common = self
            .dirs
            .iter()
            .zip(&parts)
            .take_while(|((open, _), part)| open.as_os_str() == **part)
            .count();
        self.dirs.truncate(common);
        for part in &parts[common..] {
            let parent = self
                .dirs
                .last()
                .map_or(self.root.as_fd(), |(_, fd)| fd.as_fd());
            let fd = open_or_create_dir(parent, part, create, name)?;
            self.dirs.push((part.to_os_string(), fd));
        }
        Ok(())
    }

    /// Walks `rel` from the layer root without following any symlink, creating missing
    /// directories when `create` (tars may omit parent directory entries).
    fn open_dir(&self, rel: &Path, create: bool, name: &Path) -> Result<OwnedFd> {
        let mut dir = self.root.try_clone().context(|| "dup".to_owned())?;
        for part in rel.iter() {
            dir = open_or_create_dir(dir.as_fd(), part, create, name)?;
        }
        Ok(dir)
    }

    #[allow(clippy::too_many_arguments)]
    fn create<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        kind: EntryType,
        parent: &OwnedFd,
        file_name: &OsStr,
        rel: &Path,
        name: &Path,
        meta: &Meta,
        in_setgid_dir: bool,
    ) -> Result<()> {
        let what = || format!("unpacking {}", name.display());
        if let Some(target) = file_name
            .to_str()
            .filter(|_| self.opts.whiteouts)
            .and_then(|n| n.strip_prefix(WHITEOUT_PREFIX))
        {
            return self.whiteout(parent, target, rel, name);
        }
        match kind {
            EntryType::Regular | EntryType::Continuous if self.opts.atomic => {
                self.staged_file(entry, parent, file_name, rel, name, meta, in_setgid_dir)
            }
            EntryType::Regular | EntryType::Continuous => {
                let open = || {
                    nix::fcntl::openat(
                        parent,
                        file_name,
                        OFlag::O_WRONLY
                            | OFlag::O_CREAT
                            | OFlag::O_EXCL
                            | OFlag::O_NOFOLLOW
                            | OFlag::O_CLOEXEC,
                        meta.mode & Mode::from_bits_truncate(0o777),
                    )
                };
                let fd = self.replacing(parent, file_name, rel, open)?;
                let size = entry.size();
                if self.finisher.is_some() && size <= ASIDE_MAX {
                    let data = read_content(entry, size, name)?;
                    self.size += data.len() as u64;
                    let job = FileJob {
                        fd,
                        data,
                        meta: meta.clone(),
                        in_setgid_dir,
                        name: name.to_owned(),
                    };
                    return match self.finisher.as_mut() {
                        Some(finisher) => finisher.send(job),
                        None => Ok(()),
                    };
                }
                let mut file = std::fs::File::from(fd);
                self.size += copy(entry, &mut file, &mut self.buf).context(what)?;
                set_file_meta(self.ids, file.as_fd(), meta, in_setgid_dir).context(what)
            }
            EntryType::Directory => {
                match mkdirat(parent, file_name, Mode::from_bits_truncate(0o700)) {
                    Ok(()) => {}
                    Err(Errno::EEXIST) if is_dir_at(parent, file_name) => {}
                    Err(Errno::EEXIST) => {
                        self.remove_existing(parent, file_name, rel)?;
                        mkdirat(parent, file_name, Mode::from_bits_truncate(0o700))
                            .context(what)?;
                    }
                    Err(e) => return Err(e).context(what),
                }
                let dir = open_subdir(parent, file_name).context(what)?;
                self.set_dir_meta(&dir, rel, meta)?;
                if meta.mode.contains(Mode::S_ISGID) {
                    self.setgid_dirs.insert(rel.to_owned());
                } else {
                    self.setgid_dirs.remove(rel);
                }
                self.new_dir = Some((file_name.to_owned(), dir));
                Ok(())
            }
            EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .context(what)?
                    .ok_or_else(|| unsafe_entry(name, "symlink without a target"))?
                    .into_owned();
                // The target is stored verbatim: it is never followed while unpacking, and
                // inside a container it resolves against the container's root.
                self.replacing(parent, file_name, rel, || {
                    symlinkat(&target, parent, file_name)
                })?;
                self.set_at_meta(parent, file_name, meta, false)
                    .context(what)
            }
            EntryType::Link => {
                let target = entry
                    .link_name()
                    .context(what)?
                    .ok_or_else(|| unsafe_entry(name, "hardlink without a target"))?
                    .into_owned();
                self.hardlink(parent, file_name, rel, name, &target)
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo if !self.opts.specials => {
                let kind = match kind {
                    EntryType::Fifo => SpecialKind::Fifo,
                    _ => SpecialKind::Device,
                };
                if let Some(on_skip) = self.on_skip.as_mut() {
                    on_skip(Skipped {
                        rel: rel.to_owned(),
                        kind,
                    });
                }
                Ok(())
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                if self.opts.upper_layer && kind == EntryType::Char && is_whiteout_dev(entry) {
                    // What overlayfs answers to a whiteout made through it.
                    return Err(Errno::EPERM).context(what);
                }
                let (sflag, dev) = match kind {
                    EntryType::Fifo => (SFlag::S_IFIFO, 0),
                    _ => {
                        let header = entry.header();
                        let major = header.device_major().ok().flatten().unwrap_or(0);
                        let minor = header.device_minor().ok().flatten().unwrap_or(0);
                        let sflag = if kind == EntryType::Char {
                            SFlag::S_IFCHR
                        } else {
                            SFlag::S_IFBLK
                        };
                        (sflag, makedev(major.into(), minor.into()))
                    }
                };
                self.replacing(parent, file_name, rel, || {
                    mknodat(parent, file_name, sflag, meta.mode, dev)
                })?;
                self.set_at_meta(parent, file_name, meta, true)
                    .context(what)
            }
            other => Err(unsafe_entry(
                name,
                &format!("unsupported tar entry type {other:?}"),
            )),
        }
    }

    /// A regular file written under a temporary name in its directory and renamed over
    /// `file_name` only once complete, so the old file stays whole until then; the
    /// temporary file is removed on any failure (a cancel is one).
    #[allow(clippy::too_many_arguments)]
    fn staged_file<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        parent: &OwnedFd,
        file_name: &OsStr,
        rel: &Path,
        name: &Path,
        meta: &Meta,
        in_setgid_dir: bool,
    ) -> Result<()> {
        let what = || format!("unpacking {}", name.display());
        let (temp, fd) = create_staged(
            &mut self.staging,
            parent,
            file_name,
            meta.mode & Mode::from_bits_truncate(0o777),
        )
        .context(what)?;
        let mut file = std::fs::File::from(fd);
        let written = copy(entry, &mut file, &mut self.buf).context(what);
        let result = written
            .and_then(|n| {
                // A stream cut inside the entry reads as a short file, not as an error.
                if n != entry.size() {
                    return Err(Error::BadArchive {
                        path: name.display().to_string(),
                        reason: "the archive ended inside this file".into(),
                    });
                }
                self.size += n;
                set_file_meta(self.ids, file.as_fd(), meta, in_setgid_dir).context(what)
            })
            .and_then(|()| {
                drop(file);
                self.rename_into_place(parent, &temp, file_name, rel)
            });
        result.map_err(
            |e| match unlinkat(parent, temp.as_os_str(), UnlinkatFlags::NoRemoveDir) {
                Ok(()) | Err(Errno::ENOENT) => e,
                Err(gone) => Error::Runtime(format!(
                    "{e} (and {} {LEFT_BEHIND}: {gone})",
                    rel.with_file_name(&temp).display()
                )),
            },
        )
    }

    /// Renames `temp` over `file_name`; a directory there is removed first, as a tar
    /// entry replaces what it names.
    fn rename_into_place(
        &mut self,
        parent: &OwnedFd,
        temp: &OsStr,
        file_name: &OsStr,
        rel: &Path,
    ) -> Result<()> {
        let rename = || nix::fcntl::renameat(parent, temp, parent, file_name);
        match rename() {
            Err(Errno::EISDIR | Errno::ENOTEMPTY | Errno::EEXIST) => {
                self.remove_existing(parent, file_name, rel)?;
                rename()
            }
            other => other,
        }
        .context(|| format!("unpacking {}", rel.display()))
    }

    fn whiteout(&mut self, parent: &OwnedFd, target: &str, rel: &Path, name: &Path) -> Result<()> {
        if name.file_name() == Some(OsStr::new(OPAQUE_MARKER)) {
            return set_xattr(parent.as_fd(), OPAQUE_XATTR, b"y")
                .context(|| format!("marking the directory of {} opaque", name.display()));
        }
        if target.starts_with(WHITEOUT_PREFIX) {
            // Other `.wh..wh.` names are aufs bookkeeping with no overlay meaning.
            return Ok(());
        }
        if target.is_empty() || target == "." || target == ".." {
            return Err(unsafe_entry(name, "whiteout of an invalid name"));
        }
        let hidden = rel.with_file_name(target);
        self.replacing(parent, OsStr::new(target), &hidden, || {
            mknodat(parent, target, SFlag::S_IFCHR, Mode::empty(), 0)
        })?;
        Ok(())
    }

    fn hardlink(
        &mut self,
        parent: &OwnedFd,
        file_name: &OsStr,
        rel: &Path,
        name: &Path,
        target: &Path,
    ) -> Result<()> {
        let target = match &self.opts.rebase {
            Some(rebase) => rebase.apply(target),
            None => target.to_owned(),
        };
        let target_rel = safe_relative(&target).map_err(|_| {
            unsafe_entry(
                name,
                "hardlink target must be a relative path inside the layer",
            )
        })?;
        let (Some(target_parent), Some(target_name)) =
            (target_rel.parent(), target_rel.file_name())
        else {
            return Err(unsafe_entry(name, "hardlink to the layer root"));
        };
        if target_rel == rel {
            return Ok(());
        }
        let target_dir = self
            .open_dir(target_parent, false, name)
            .map_err(|e| match e {
                Error::Sys {
                    err: Errno::ENOENT, ..
                } => unsafe_entry(name, "hardlink target is not in this layer"),
                e => e,
            })?;
        // No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself.
        self.replacing(parent, file_name, rel, || {
            linkat(
                &target_dir,
                target_name,
                parent,
                file_name,
                AtFlags::empty(),
            )
        })
        .map_err(|e| match e {
            Error::Sys {
                err: Errno::ENOENT, ..
            } => unsafe_entry(name, "hardlink target is not in this layer"),
            e => e,
        })
    }

    /// Runs `create`; if the name exists (a tar may replace an earlier entry), removes it
    /// and tries once more.
    fn replacing<T>(
        &mut self,
        parent: &OwnedFd,
        file_name: &OsStr,
        rel: &Path,
        mut create: impl FnMut() -> nix::Result<T>,
    ) -> Result<T> {
        let what = || format!("unpacking {}", rel.display());
        match create() {
            Err(Errno::EEXIST) => {
                self.remove_existing(parent, file_name, rel)?;
                create().context(what)
            }
            other => other.context(what),
        }
    }

    fn remove_existing(&mut self, parent: &OwnedFd, file_name: &OsStr, rel: &Path) -> Result<()> {
        match unlinkat(parent, file_name, UnlinkatFlags::NoRemoveDir) {
            Ok(()) => Ok(()),
            Err(Errno::EISDIR) => {
                // Removed through descriptors opened without following symlinks, so
                // nothing outside the tree can be reached. The open directory stack holds
                // only its ancestors, so it stays valid.
                remove_tree_at(parent.as_fd(), file_name)
                    .context(|| format!("replacing directory {}", rel.display()))
            }
            Err(e) => Err(e).context(|| format!("replacing {}", rel.display())),
        }
    }

    fn set_dir_meta(&mut self, dir: &OwnedFd, rel: &Path, meta: &Meta) -> Result<()> {
        let what = || format!("setting metadata of {}", rel.display());
        if self.ids.is_root {
            fchown(dir, Some(meta.uid), Some(meta.gid)).context(what)?;
        }
        fchmod(dir, meta.mode).context(what)?;
        for (key, value) in &meta.xattrs {
            set_xattr_c(dir.as_fd(), key, value).context(what)?;
        }
        self.dir_times
            .push((rel.to_owned(), meta.mtime.tv_sec().max(0) as u64));
        Ok(())
    }

    fn set_at_meta(
        &self,
        parent: &OwnedFd,
        file_name: &OsStr,
        meta: &Meta,
        chmod: bool,
    ) -> nix::Result<()> {
        if self.ids.is_root {
            fchownat(
                parent,
                file_name,
                Some(meta.uid),
                Some(meta.gid),
                AtFlags::AT_SYMLINK_NOFOLLOW,
            )?;
        }
        if chmod {
            // mknod's mode went through the umask. Not a symlink, so nothing is followed.
            fchmodat(parent, file_name, meta.mode, FchmodatFlags::FollowSymlink)?;
        }
        utimensat(
            parent,
            file_name,
            &meta.mtime,
            &meta.mtime,
            UtimensatFlags::NoFollowSymlink,
        )
    }

    /// Sets directory mtimes, deepest last-created first, once nothing more is created.
    fn finish(&mut self) -> Result<()> {
        if let Some(finisher) = self.finisher.take() {
            finisher.finish()?;
        }
        let times = std::mem::take(&mut self.dir_times);
        for (rel, mtime) in times.iter().rev() {
            if self.enter(rel, false, rel).is_err() {
                // Replaced later in the same layer.
                self.dirs.clear();
                continue;
            }
            let dir = self
                .dirs
                .last()
                .map_or(self.root.as_fd(), |(_, fd)| fd.as_fd());
            let t = TimeSpec::new(*mtime as i64, 0);
            futimens(dir, &t, &t).context(|| format!("setting mtime of {}", rel.display()))?;
        }
        Ok(())
    }
}

/// Sets a new file's owner, mode, xattrs and times, skipping the calls whose result
/// the create already gave: most files are root's and 0644/0755, and on large layers
/// these syscalls are a noticeable part of the import time.
fn set_file_meta(
    ids: Ids,
    fd: BorrowedFd<'_>,
    meta: &Meta,
    in_setgid_dir: bool,
) -> nix::Result<()> {
    let owned_as_created =
        meta.uid.is_root() && meta.gid.as_raw() == 0 && ids.egid_root && !in_setgid_dir;
    let chown = ids.is_root && !owned_as_created;
    if chown {
        fchown(fd, Some(meta.uid), Some(meta.gid))?;
    }
    // After chown, which clears setuid bits; and when the umask took bits away.
    let special = Mode::S_ISUID | Mode::S_ISGID | Mode::S_ISVTX;
    if chown || meta.mode.intersects(special) || meta.mode.bits() & ids.umask != 0 {
        fchmod(fd, meta.mode)?;
    }
    for (key, value) in &meta.xattrs {
        set_xattr_c(fd, key, value)?;
    }
    futimens(fd, &meta.mtime, &meta.mtime)
}

/// Overlayfs's own xattrs are `trusted.overlay.*`; one set through the overlay is kept in
/// the upper layer as `trusted.overlay.overlay.*` (since Linux 6.7; earlier kernels refuse
/// it), which the overlay shows under the name it was given and never reads as its own.
fn escape_overlay_xattr(key: &mut CString) {
    const OWN: &[u8] = b"trusted.overlay.";
    if let Some(rest) = key.as_bytes().strip_prefix(OWN) {
        let escaped = [OWN, b"overlay.", rest].concat();
        // The bytes came from a CString: no NUL inside.
        if let Ok(escaped) = CString::new(escaped) {
            *key = escaped;
        }
    }
}

/// A character device 0/0: an overlay whiteout.
fn is_whiteout_dev<R: Read>(entry: &tar::Entry<'_, R>) -> bool {
    let header = entry.header();
    let major = header.device_major().ok().flatten().unwrap_or(0);
    let minor = header.device_minor().ok().flatten().unwrap_or(0);
    major == 0 && minor == 0
}

/// The whole content of a file entry; an archive that ends inside it is an error.
fn read_content(entry: &mut impl Read, size: u64, name: &Path) -> Result<Vec<u8>> {
    let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    entry
        .take(size)
        .read_to_end(&mut data)
        .context(|| format!("unpacking {}", name.display()))?;
    if data.len() as u64 != size {
        return Err(Error::BadArchive {
            path: name.display().to_string(),
            reason: "the archive ended inside this file".into(),
        });
    }
    Ok(data)
}

fn read_meta<R: Read>(entry: &mut tar::Entry<'_, R>, name: &Path) -> Result<Meta> {
    let bad = |what: &str| unsafe_entry(name, &format!("invalid {what} in tar header"));
    let header = entry.header();
    // Blank numeric fields read as 0, as Go's archive/tar (which wrote most layers) does.
    let mode = header.mode().unwrap_or(0);
    let uid = u32::try_from(header.uid().unwrap_or(0)).map_err(|_| bad("uid"))?;
    let gid = u32::try_from(header.gid().unwrap_or(0)).map_err(|_| bad("gid"))?;
    let mtime = header.mtime().unwrap_or(0);
    let mut xattrs = Vec::new();
    if let Some(extensions) = entry.pax_extensions().map_err(|_| bad("pax header"))? {
        for ext in extensions {
            let ext = ext.map_err(|_| bad("pax header"))?;
            if let Some(key) = ext
                .key()
                .ok()
                .and_then(|k| k.strip_prefix(PAX_XATTR_PREFIX))
            {
                let key = CString::new(key).map_err(|_| bad("xattr name"))?;
                xattrs.push((key, ext.value_bytes().to_vec()));
            }
        }
    }
    Ok(Meta {
        mode: Mode::from_bits_truncate(mode & 0o7777),
        uid: Uid::from_raw(uid),
        gid: Gid::from_raw(gid),
        mtime: TimeSpec::new(i64::try_from(mtime).map_err(|_| bad("mtime"))?, 0),
        xattrs,
    })
}

/// Opens (or with `create`, makes and opens) the directory `part` of `dir`, refusing a
/// symlink or non-directory in its place.
fn open_or_create_dir(
    dir: BorrowedFd<'_>,
    part: &OsStr,
    create: bool,
    name: &Path,
) -> Result<OwnedFd> {
    match open_subdir(&dir, part) {
        Err(Errno::ENOENT) if create => {
            match mkdirat(dir, part, Mode::from_bits_truncate(0o755)) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => {
                    return Err(e).context(|| format!("creating parent of {}", name.display()))
                }
            }
            open_subdir(&dir, part)
        }
        other => other,
    }
    .map_err(|e| match e {
        Errno::ELOOP | Errno::ENOTDIR => unsafe_entry(
            name,
            "a parent is a symlink or not a directory; refusing to write through it",
        ),
        e => Error::Sys {
            context: format!("opening parent of {}", name.display()),
            err: e,
        },
    })
}

/// Removes the directory `name` of `parent` and everything in it, never following a
/// symlink (a symlink inside is removed, not its target).
pub(crate) fn remove_tree_at(parent: BorrowedFd<'_>, name: &OsStr) -> nix::Result<()> {
    let dir = open_subdir(&parent, name)?;
    let mut listing = nix::dir::Dir::from_fd(dir)?;
    let names: Vec<CString> = listing
        .iter()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_owned())
        .filter(|n| n.as_bytes() != b"." && n.as_bytes() != b"..")
        .collect();
    for child in &names {
        let child = OsStr::from_bytes(child.as_bytes());
        match unlinkat(&listing, child, UnlinkatFlags::NoRemoveDir) {
            Err(Errno::EISDIR) => remove_tree_at(listing.as_fd(), child)?,
            other => other?,
        }
    }
    unlinkat(parent, name, UnlinkatFlags::RemoveDir)
}

/// The process umask, read once: from /proc without changing it, else by setting it and
/// putting it back. Layers unpack on several threads at once (pull), and a set-and-restore
/// racing another would leave the wrong umask behind.
pub(super) fn current_umask() -> u32 {
    static UMASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *UMASK.get_or_init(|| {
        let from_proc = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| {
                let line = status.lines().find(|l| l.starts_with("Umask:"))?;
                u32::from_str_radix(line["Umask:".len()..].trim(), 8).ok()
            });
        from_proc.unwrap_or_else(|| {
            let old = nix::sys::stat::umask(Mode::from_bits_truncate(0o022));
            nix::sys::stat::umask(old);
            old.bits()
        })
    })
}

/// Unguessable names for staged files: a keyed hash (SipHash, keys from the system's
/// random source once per unpack) of a counter, so a copy of many small files costs no
/// `getrandom` call per file, and a container watching its directories still can't
/// predict the next name to take it first.
#[derive(Default)]
struct StagingNames {
    key: std::hash::RandomState,
    next: u64,
}

impl StagingNames {
    fn next(&mut self) -> [u8; 4] {
        use std::hash::BuildHasher;
        self.next += 1;
        let h = self.key.hash_one(self.next);
        (h as u32).to_le_bytes()
    }
}

/// Creates a new file `.berth-cp-RANDOM.NAME` beside `name` in `dir` (by descriptor,
/// never following a link, never reusing a name): its name and descriptor.
fn create_staged(
    names: &mut StagingNames,
    dir: &OwnedFd,
    name: &OsStr,
    mode: Mode,
) -> nix::Result<(OsString, OwnedFd)> {
    let flags =
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    stage(names, name, |temp| {
        nix::fcntl::openat(dir, temp, flags, mode)
    })
}

/// Makes a new directory `.berth-cp-RANDOM.NAME` beside `name` in `dir` (root's alone
/// until the archive's entry for it sets its mode) and returns its name.
pub(crate) fn make_staged_dir(dir: &OwnedFd, name: &OsStr) -> nix::Result<OsString> {
    let mode = Mode::from_bits_truncate(0o700);
    stage(&mut StagingNames::default(), name, |temp| {
        mkdirat(dir, temp, mode)
    })
    .map(|(temp, ())| temp)
}

/// Makes something new under a staged name for `name` with `make`, which fails with
/// EEXIST if the name is taken: the name and what `make` returned.
fn stage<T>(
    names: &mut StagingNames,
    name: &OsStr,
    mut make: impl FnMut(&OsStr) -> nix::Result<T>,
) -> nix::Result<(OsString, T)> {
    // NAME cut to fit the kernel's limit on one component.
    let keep = name
        .len()
        .min(NAME_MAX.saturating_sub(STAGING_PREFIX.len() + 9));
    // Names taken 100 times running: something is making them on purpose.
    for _ in 0..100 {
        let mut temp = OsString::from(format!("{STAGING_PREFIX}{}.", hex::encode(names.next())));
        temp.push(OsStr::from_bytes(&name.as_bytes()[..keep]));
        match make(&temp) {
            Err(Errno::EEXIST) => continue,
            other => return other.map(|made| (temp, made)),
        }
    }
    Err(Errno::EEXIST)
}

fn open_subdir(dir: &impl AsFd, part: &OsStr) -> nix::Result<OwnedFd> {
    nix::fcntl::openat(
        dir,
        part,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

fn is_dir_at(dir: &OwnedFd, name: &OsStr) -> bool {
    fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW)
        .map(|st| SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR)
        .unwrap_or(false)
}

fn copy(reader: &mut impl Read, file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<u64> {
    use std::io::Write;
    let mut total = 0;
    loop {
        let n = match reader.read(buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        file.write_all(&buf[..n])?;
        total += n as u64;
    }
}

fn set_xattr(fd: BorrowedFd<'_>, key: &str, value: &[u8]) -> nix::Result<()> {
    let key = CString::new(key).map_err(|_| Errno::EINVAL)?;
    set_xattr_c(fd, &key, value)
}

fn set_xattr_c(fd: BorrowedFd<'_>, key: &CString, value: &[u8]) -> nix::Result<()> {
    // SAFETY: key is NUL-terminated and value/len describe a live slice.
    let rc = unsafe {
        libc::fsetxattr(
            fd.as_raw_fd(),
            key.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    Errno::result(rc).map(drop)
}

/// Reads an xattr of `path` (without following a final symlink); for tests and checks.
pub fn get_xattr(path: &Path, key: &str) -> Option<Vec<u8>> {
    let path = CString::new(path.as_os_str().as_bytes()).ok()?;
    let key = CString::new(key).ok()?;
    let mut buf = vec![0u8; 256];
    // SAFETY: both strings are NUL-terminated and buf is writable for its length.
    let n = unsafe {
        libc::lgetxattr(
            path.as_ptr(),
            key.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        return None;
    }
    buf.truncate(n as usize);
    Some(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};

    #[test]
    fn staged_names_never_repeat_and_differ_between_unpacks() {
        let mut one = StagingNames::default();
        let mut two = StagingNames::default();
        let a: Vec<[u8; 4]> = (0..10_000).map(|_| one.next()).collect();
        let b: Vec<[u8; 4]> = (0..100).map(|_| two.next()).collect();
        let unique: HashSet<&[u8; 4]> = a.iter().collect();
        // 32-bit names: a few collisions in 10,000 would be chance, many a pattern.
        assert!(unique.len() > 9_990, "{} unique of 10000", unique.len());
        assert_ne!(a[..100], b[..], "two unpacks guessed each other's names");
    }

    #[test]
    fn rebase_renames_the_top_entry() {
        let rebase = |from: &str, to: &str, name: &str| {
            Rebase {
                from: from.into(),
                to: to.into(),
            }
            .apply(Path::new(name))
        };
        assert_eq!(rebase("data", "out", "data"), Path::new("out"));
        assert_eq!(rebase("data", "out", "data/a/b"), Path::new("out/a/b"));
        assert_eq!(rebase("data", "out", "database"), Path::new("database"));
        assert_eq!(rebase(".", "out", "./a"), Path::new("out/a"));
        assert_eq!(rebase(".", "out", "a"), Path::new("out/a"));
        assert_eq!(rebase(".", "out", "."), Path::new("out"));
        assert_eq!(rebase(".", "", "a/b"), Path::new("a/b"));
        assert_eq!(rebase(".", "", "./"), Path::new("."));
        assert_eq!(rebase("f", "g", "f"), Path::new("g"));
    }

    /// A tar built entry by entry; names are written raw so hostile ones can be made
    /// (tar::Builder itself refuses `..`).
    #[derive(Default)]
    struct Layer(Vec<u8>);

    impl Layer {
        fn add(mut self, name: &str, kind: EntryType, data: &[u8], link: Option<&str>) -> Self {
            let mut header = tar::Header::new_old();
            {
                let old = header.as_old_mut();
                old.name[..name.len()].copy_from_slice(name.as_bytes());
                if let Some(link) = link {
                    old.linkname[..link.len()].copy_from_slice(link.as_bytes());
                }
            }
            header.set_entry_type(kind);
            header.set_size(data.len() as u64);
            header.set_mode(if kind == EntryType::Directory {
                0o755
            } else {
                0o644
            });
            header.set_mtime(1_000_000);
            header.set_uid(0);
            header.set_gid(0);
            header.set_cksum();
            self.0.extend_from_slice(header.as_bytes());
            self.0.extend_from_slice(data);
            self.0.resize(self.0.len().next_multiple_of(512), 0);
            self
        }
        fn file(self, name: &str, data: &[u8]) -> Self {
            self.add(name, EntryType::Regular, data, None)
        }
        fn dir(self, name: &str) -> Self {
            self.add(name, EntryType::Directory, b"", None)
        }
        fn symlink(self, name: &str, target: &str) -> Self {
            self.add(name, EntryType::Symlink, b"", Some(target))
        }
        fn hardlink(self, name: &str, target: &str) -> Self {
            self.add(name, EntryType::Link, b"", Some(target))
        }
        fn bytes(mut self) -> Vec<u8> {
            self.0.extend_from_slice(&[0; 1024]);
            self.0
        }
    }

    /// A scratch dir holding the layer dir and a sentinel dir an escape would hit.
    struct Scratch {
        dir: tempfile::TempDir,
    }

    impl Scratch {
        fn new() -> Scratch {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("a/b/layer")).unwrap();
            Scratch { dir }
        }
        fn layer(&self) -> PathBuf {
            self.dir.path().join("a/b/layer")
        }
        fn unpack(&self, layer: Layer) -> Result<u64> {
            unpack(&layer.bytes()[..], &self.layer())
        }
        /// Every path in the scratch dir that is not the layer or its parents.
        fn outside(&self) -> Vec<PathBuf> {
            let mut found = Vec::new();
            let mut stack = vec![self.dir.path().to_owned()];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path == self.layer() {
                        continue;
                    }
                    if self.layer().starts_with(&path) {
                        stack.push(path);
                    } else {
                        found.push(path);
                    }
                }
            }
            found
        }
    }

    fn assert_unsafe(result: Result<u64>, scratch: &Scratch) {
        assert!(
            matches!(result, Err(Error::UnsafeEntry { .. })),
            "expected an unsafe-entry error, got {result:?}"
        );
        assert!(
            scratch.outside().is_empty(),
            "wrote outside: {:?}",
            scratch.outside()
        );
    }

    #[test]
    fn rejects_parent_traversal() {
        let s = Scratch::new();
        assert_unsafe(s.unpack(Layer::default().file("../escaped", b"x")), &s);
        assert_unsafe(
            s.unpack(Layer::default().file("ok/../../escaped", b"x")),
            &s,
        );
    }

    #[test]
    fn rejects_absolute_names_instead_of_stripping_them() {
        let s = Scratch::new();
        let target = s.dir.path().join("absolute-escape");
        let name = target.to_str().unwrap().to_owned();
        assert_unsafe(s.unpack(Layer::default().file(&name, b"x")), &s);
        // Stripping the '/' would have created it inside the layer instead.
        assert!(!s.layer().join(name.trim_start_matches('/')).exists());
    }

    #[test]
    fn never_writes_through_an_absolute_symlink() {
        let s = Scratch::new();
        let outside = s.dir.path().to_str().unwrap().to_owned();
        let layer = Layer::default()
            .symlink("link", &outside)
            .file("link/file", b"x");
        assert_unsafe(s.unpack(layer), &s);
        let s = Scratch::new();
        let layer = Layer::default()
            .symlink("root", "/")
            .file("root/tmp/berth-unpack-escape", b"x");
        assert_unsafe(s.unpack(layer), &s);
        assert!(!Path::new("/tmp/berth-unpack-escape").exists());
    }

    #[test]
    fn never_writes_through_a_relative_symlink() {
        let s = Scratch::new();
        let layer = Layer::default()
            .symlink("link", "../../..")
            .file("link/x", b"x");
        assert_unsafe(s.unpack(layer), &s);
        // Even one pointing inside the layer: the directory must be a real one.
        let s = Scratch::new();
        let layer = Layer::default()
            .dir("real")
            .symlink("link", "real")
            .file("link/x", b"x");
        assert_unsafe(s.unpack(layer), &s);
        assert!(!s.layer().join("real/x").exists());
    }

    #[test]
    fn rejects_hardlinks_that_leave_the_layer() {
        let s = Scratch::new();
        let layer = Layer::default().hardlink("passwd", "../../etc/passwd");
        assert_unsafe(s.unpack(layer), &s);
        let layer = Layer::default().hardlink("passwd", "/etc/passwd");
        assert_unsafe(s.unpack(layer), &s);
        // Through a symlinked directory inside the layer.
        let s = Scratch::new();
        let layer = Layer::default()
            .symlink("etc", "/etc")
            .hardlink("passwd", "etc/passwd");
        assert_unsafe(s.unpack(layer), &s);
        assert!(!s.layer().join("passwd").exists());
    }

    #[test]
    fn whiteouts_become_overlay_markers() {
        let s = Scratch::new();
        let layer = Layer::default()
            .file(".wh.gone", b"")
            .dir("d")
            .file("d/.wh..wh..opq", b"")
            .file("d/kept", b"new");
        s.unpack(layer).unwrap();
        let gone = std::fs::symlink_metadata(s.layer().join("gone")).unwrap();
        assert!(gone.file_type().is_char_device());
        assert_eq!(gone.rdev(), 0);
        assert!(!s.layer().join(".wh.gone").exists());
        assert_eq!(
            get_xattr(&s.layer().join("d"), OPAQUE_XATTR).as_deref(),
            Some(&b"y"[..])
        );
        assert!(!s.layer().join("d/.wh..wh..opq").exists());
        assert_eq!(std::fs::read(s.layer().join("d/kept")).unwrap(), b"new");
    }

    #[test]
    fn keeps_metadata_links_and_special_files() {
        let s = Scratch::new();
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(EntryType::Regular);
        header.set_size(4);
        header.set_mode(0o4750);
        header.set_uid(1234);
        header.set_gid(5678);
        header.set_mtime(1_234_567);
        let mut builder = tar::Builder::new(Vec::new());
        builder
            .append_data(&mut header, "bin/tool", &b"tool"[..])
            .unwrap();
        let mut fifo = tar::Header::new_gnu();
        fifo.set_entry_type(EntryType::Fifo);
        fifo.set_size(0);
        fifo.set_mode(0o600);
        builder
            .append_data(&mut fifo, "run/pipe", &b""[..])
            .unwrap();
        // Keep the entries, not the end-of-archive blocks, so more can follow.
        let mut bytes = builder.into_inner().unwrap();
        bytes.truncate(bytes.len() - 1024);
        let layer = Layer(bytes)
            .hardlink("bin/tool2", "bin/tool")
            .symlink("bin/sh", "/bin/busybox")
            .dir("bin");
        let size = s.unpack(layer).unwrap();
        assert_eq!(size, 4);
        let tool = std::fs::metadata(s.layer().join("bin/tool")).unwrap();
        assert_eq!(tool.mode() & 0o7777, 0o4750);
        assert_eq!((tool.uid(), tool.gid()), (1234, 5678));
        assert_eq!(tool.mtime(), 1_234_567);
        assert_eq!(tool.nlink(), 2);
        let tool2 = std::fs::metadata(s.layer().join("bin/tool2")).unwrap();
        assert_eq!(tool2.ino(), tool.ino());
        let sh = std::fs::read_link(s.layer().join("bin/sh")).unwrap();
        assert_eq!(sh, Path::new("/bin/busybox"));
        let pipe = std::fs::metadata(s.layer().join("run/pipe")).unwrap();
        assert!(pipe.file_type().is_fifo());
        // Set last, so entries created inside did not change it.
        let bin = std::fs::metadata(s.layer().join("bin")).unwrap();
        assert_eq!(bin.mtime(), 1_000_000);
    }

    #[test]
    fn later_entries_replace_earlier_ones() {
        let s = Scratch::new();
        let layer = Layer::default()
            .file("f", b"old")
            .file("f", b"new")
            .dir("d")
            .file("d/x", b"x")
            .file("d", b"now a file");
        s.unpack(layer).unwrap();
        assert_eq!(std::fs::read(s.layer().join("f")).unwrap(), b"new");
        assert_eq!(std::fs::read(s.layer().join("d")).unwrap(), b"now a file");
    }

    /// Options of a copy out to the host.
    fn copy_out() -> ExtractOptions {
        ExtractOptions {
            whiteouts: false,
            owner: None,
            rebase: None,
            root_meta: false,
            atomic: true,
            specials: false,
            setid: false,
            parallel: false,
            upper_layer: false,
        }
    }

    /// A path with its type and mode, owner, group, mtime, link count and content.
    type PathState = (PathBuf, u32, u32, u32, i64, u64, Vec<u8>);

    /// Every path under `dir` and its state.
    fn tree_state(dir: &Path) -> Vec<PathState> {
        let mut found = Vec::new();
        let mut stack = vec![dir.to_owned()];
        while let Some(at) = stack.pop() {
            for entry in std::fs::read_dir(&at).unwrap() {
                let path = entry.unwrap().path();
                let meta = std::fs::symlink_metadata(&path).unwrap();
                let content = if meta.is_file() {
                    std::fs::read(&path).unwrap()
                } else if meta.is_symlink() {
                    std::fs::read_link(&path)
                        .unwrap()
                        .into_os_string()
                        .into_vec()
                } else {
                    stack.push(path.clone());
                    Vec::new()
                };
                let rel = path.strip_prefix(dir).unwrap().to_owned();
                let nlink = if meta.is_dir() { 0 } else { meta.nlink() };
                found.push((
                    rel,
                    meta.mode(),
                    meta.uid(),
                    meta.gid(),
                    meta.mtime(),
                    nlink,
                    content,
                ));
            }
        }
        found.sort();
        found
    }

    /// The files finished aside end as the same tree as files written in order: contents
    /// of every size around the limit, owners, setuid bits and times, a file written twice,
    /// a link to a file still queued, files and directories replacing each other.
    #[test]
    fn files_finished_aside_make_the_tree_the_archive_says() {
        let mut builder = tar::Builder::new(Vec::new());
        let mut add = |name: &str, kind: EntryType, data: &[u8], mode: u32, owner: u64| {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(kind);
            header.set_size(data.len() as u64);
            header.set_mode(mode);
            header.set_uid(owner);
            header.set_gid(owner + 1);
            header.set_mtime(1_000_000 + data.len() as u64);
            builder.append_data(&mut header, name, data).unwrap();
        };
        for dir in ["d", "d/s0", "d/s1", "d/s2"] {
            add(dir, EntryType::Directory, b"", 0o755, 0);
        }
        for i in 0..300u64 {
            // Some files past the limit are written by the archive's thread meanwhile.
            let size = match i % 7 {
                0 => ASIDE_MAX as usize + 1,
                1 => 0,
                _ => (i as usize * 131) % 9000,
            };
            let data: Vec<u8> = (0..size).map(|b| (b as u64 ^ i) as u8).collect();
            let (mode, owner) = if i % 5 == 0 {
                (0o4750, 1234)
            } else {
                (0o644, 0)
            };
            add(
                &format!("d/s{}/f{i}", i % 3),
                EntryType::Regular,
                &data,
                mode,
                owner,
            );
        }
        add("d/s0/f3", EntryType::Regular, b"written twice", 0o600, 7);
        add("d/s1/f4", EntryType::Directory, b"", 0o700, 0);
        add(
            "d/s1/f4/inner",
            EntryType::Regular,
            b"in a dir that was a file",
            0o644,
            0,
        );
        add(
            "d/s2/f5",
            EntryType::Regular,
            b"a file where a dir was",
            0o644,
            0,
        );
        let mut bytes = builder.into_inner().unwrap();
        bytes.truncate(bytes.len() - 1024);
        let bytes = Layer(bytes)
            .dir("d/s2/f5")
            .hardlink("d/linked", "d/s1/f7")
            .file("d/s2/f5", b"a file again")
            .bytes();
        let unpack = |parallel: bool| {
            let dir = tempfile::tempdir().unwrap();
            let root = nix::fcntl::open(dir.path(), OFlag::O_RDONLY, Mode::empty()).unwrap();
            let opts = ExtractOptions {
                atomic: false,
                setid: true,
                parallel,
                ..copy_out()
            };
            extract(&bytes[..], root, &opts).unwrap();
            dir
        };
        let (aside, in_order) = (unpack(true), unpack(false));
        let (aside, in_order) = (tree_state(aside.path()), tree_state(in_order.path()));
        assert_eq!(
            aside.len(),
            306,
            "{:?}",
            aside.iter().map(|e| &e.0).collect::<Vec<_>>()
        );
        assert!(aside == in_order, "the trees differ");
        let linked = aside.iter().find(|e| e.0 == Path::new("d/linked")).unwrap();
        assert_eq!(linked.5, 2);
    }

    #[test]
    fn a_cut_archive_leaves_the_old_file_and_no_temporary_one() {
        let s = Scratch::new();
        std::fs::write(s.layer().join("f"), b"old").unwrap();
        let mut bytes = Layer::default().file("f", &[7u8; 4096]).bytes();
        // Cut inside the content.
        bytes.truncate(512 + 1000);
        let root = nix::fcntl::open(&s.layer(), OFlag::O_RDONLY, Mode::empty()).unwrap();
        let err = extract(&bytes[..], root, &copy_out()).unwrap_err();
        assert!(err.to_string().contains("ended inside"), "{err}");
        assert_eq!(std::fs::read(s.layer().join("f")).unwrap(), b"old");
        let names: Vec<_> = std::fs::read_dir(s.layer()).unwrap().collect();
        assert_eq!(names.len(), 1, "{names:?}");
        // Complete, it replaces the file, and a directory in the way.
        std::fs::create_dir_all(s.layer().join("d/x")).unwrap();
        let layer = Layer::default().file("f", b"new").file("d", b"file");
        let root = nix::fcntl::open(&s.layer(), OFlag::O_RDONLY, Mode::empty()).unwrap();
        extract(&layer.bytes()[..], root, &copy_out()).unwrap();
        assert_eq!(std::fs::read(s.layer().join("f")).unwrap(), b"new");
        assert_eq!(std::fs::read(s.layer().join("d")).unwrap(), b"file");
    }

    /// Written straight into an overlay's upper layer, an archive makes nothing overlayfs
    /// would read as its own: its xattrs are stored escaped, as overlayfs stores them when
    /// set through it, and a whiteout (a 0/0 character device) is refused as overlayfs
    /// refuses it.
    #[test]
    fn into_an_upper_layer_nothing_becomes_an_overlay_marker() {
        let upper_layer = ExtractOptions {
            atomic: false,
            specials: true,
            upper_layer: true,
            ..copy_out()
        };
        let s = Scratch::new();
        let mut builder = tar::Builder::new(Vec::new());
        builder
            .append_pax_extensions([
                ("SCHILY.xattr.trusted.overlay.opaque", &b"y"[..]),
                ("SCHILY.xattr.trusted.kept", &b"1"[..]),
            ])
            .unwrap();
        let mut dir = tar::Header::new_gnu();
        dir.set_entry_type(EntryType::Directory);
        dir.set_mode(0o755);
        dir.set_size(0);
        builder.append_data(&mut dir, "d", &b""[..]).unwrap();
        let bytes = builder.into_inner().unwrap();
        let root = nix::fcntl::open(&s.layer(), OFlag::O_RDONLY, Mode::empty()).unwrap();
        extract(&bytes[..], root, &upper_layer).unwrap();
        let d = s.layer().join("d");
        assert_eq!(get_xattr(&d, OPAQUE_XATTR), None);
        assert_eq!(
            get_xattr(&d, "trusted.overlay.overlay.opaque").as_deref(),
            Some(&b"y"[..])
        );
        assert_eq!(get_xattr(&d, "trusted.kept").as_deref(), Some(&b"1"[..]));

        let mut builder = tar::Builder::new(Vec::new());
        for (name, major) in [("tty", 5), ("gone", 0)] {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(EntryType::Char);
            header.set_mode(0o666);
            header.set_size(0);
            header.set_device_major(major).unwrap();
            header.set_device_minor(0).unwrap();
            builder.append_data(&mut header, name, &b""[..]).unwrap();
        }
        let bytes = builder.into_inner().unwrap();
        let root = nix::fcntl::open(&s.layer(), OFlag::O_RDONLY, Mode::empty()).unwrap();
        let err = extract(&bytes[..], root, &upper_layer).unwrap_err();
        assert!(
            matches!(&err, Error::Sys { err: Errno::EPERM, context } if context.contains("gone")),
            "{err:?}"
        );
        assert!(std::fs::symlink_metadata(s.layer().join("tty"))
            .unwrap()
            .file_type()
            .is_char_device());
        assert!(std::fs::symlink_metadata(s.layer().join("gone")).is_err());
    }

    #[test]
    fn a_copy_out_skips_specials_and_setid_bits() {
        let s = Scratch::new();
        let mut builder = tar::Builder::new(Vec::new());
        for (name, kind, mode) in [
            ("kmsg", EntryType::Char, 0o666),
            ("pipe", EntryType::Fifo, 0o644),
            ("su", EntryType::Regular, 0o6755),
        ] {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(kind);
            header.set_size(0);
            header.set_mode(mode);
            builder.append_data(&mut header, name, &b""[..]).unwrap();
        }
        let bytes = builder.into_inner().unwrap();
        let root = nix::fcntl::open(&s.layer(), OFlag::O_RDONLY, Mode::empty()).unwrap();
        let mut skipped = Vec::new();
        extract_reporting(&bytes[..], root, &copy_out(), &mut |skip| {
            skipped.push(skip)
        })
        .unwrap();
        let skip = |rel: &str, kind| Skipped {
            rel: rel.into(),
            kind,
        };
        assert_eq!(
            skipped,
            [
                skip("kmsg", SpecialKind::Device),
                skip("pipe", SpecialKind::Fifo)
            ]
        );
        assert!(std::fs::symlink_metadata(s.layer().join("kmsg")).is_err());
        assert!(std::fs::symlink_metadata(s.layer().join("pipe")).is_err());
        let su = std::fs::metadata(s.layer().join("su")).unwrap();
        assert_eq!(su.mode() & 0o7777, 0o755);
    }
}
