//! Copying files in and out of containers as tar streams (what `cp` and the dashboard use).
//!
//! All container-side work happens in a child that sees the container's filesystem (see
//! [`super::fsview`]); the data crosses a pipe as a tar stream, so nothing is staged in a
//! temporary file and a reader can stop a copy by dropping the stream. Inside the child
//! every path is resolved with `openat2(RESOLVE_IN_ROOT)`: a symlink to `/etc` means the
//! container's `/etc`, and `..` never climbs out of the container's root.
//!
//! Each file lands under a temporary name beside its own and is renamed into place once
//! complete (see [`ExtractOptions::atomic`]), so a cancelled, failed or killed copy leaves
//! the old file whole.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{fcntl, openat, readlinkat, AtFlags, FcntlArg, OFlag};
use nix::sys::stat::{fstat, fstatat, FileStat, Mode};
use serde::{Deserialize, Serialize};
use tar::{EntryType, Header};

use super::beside::WritableLayer;
use super::fsview::{self, Message, ViewChild};
use super::readahead::ReadAhead;
use crate::error::{Context, Error, Result};
use crate::image::unpack::{self, ExtractOptions};
use crate::Engine;

/// Few syscalls per large file, yet small enough to stay in the CPU cache: 1 MiB buffers
/// measured 35% slower than tar on one 256 MiB file. The pipe gets the same size.
pub const COPY_BUF: usize = 128 << 10;
/// Symlinks followed while resolving one path, as the kernel's own limit.
const MAX_LINKS: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PathKind {
    File,
    Dir,
    Symlink,
    /// Devices, fifos and sockets.
    Other,
}

impl PathKind {
    pub(super) fn of(st: &FileStat) -> PathKind {
        match st.st_mode & libc::S_IFMT {
            libc::S_IFREG => PathKind::File,
            libc::S_IFDIR => PathKind::Dir,
            libc::S_IFLNK => PathKind::Symlink,
            _ => PathKind::Other,
        }
    }
}

/// A path in a container, as `stat` sees it (a final symlink is not followed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PathStat {
    /// The last component.
    pub name: String,
    /// The path with every parent symlink resolved inside the container.
    pub path: String,
    pub kind: PathKind,
    pub size: u64,
    /// Permission bits (and setuid/setgid/sticky).
    pub mode: u32,
    pub mtime: i64,
    /// Where a symlink points, as stored.
    pub link_target: Option<String>,
    /// Where the path leads with every symlink followed inside the container, and what is
    /// there; `None` for a dangling symlink. For anything else it is `path` itself.
    pub resolved: Option<(String, PathKind)>,
}

/// Options of a copy into a container.
#[derive(Debug, Clone, Default)]
pub struct CopyInOptions {
    /// Keep the archive's uid/gid; otherwise everything is owned by root, as with Docker.
    pub keep_owner: bool,
    /// The archive is one directory of this name with everything under it (a copy of a
    /// host directory). If nothing has that name in the destination yet, the tree is
    /// written under a staged name and renamed into place once whole: one rename for the
    /// copy instead of one per file, and a cut copy still leaves no half tree there.
    pub new_dir: Option<String>,
}

/// A tar stream of a container path. Entries are named after the source's last component
/// (its parent is the archive's root), or for `DIR/.` after `.`, as Docker's archive API.
/// Reading to the end reports the copy's errors; dropping it early cancels the copy.
pub struct CopyOut {
    stat: PathStat,
    entry_name: String,
    stream: ChildStream,
    /// Reads that returned data, for the crash point.
    reads: u32,
}

/// What a walk running in a child writes: a stream that is complete only if the child
/// says so when it ends. Dropping it early cancels the walk.
pub struct ChildStream {
    data: File,
    child: Option<ViewChild>,
}

impl ChildStream {
    pub(super) fn new(data: File, child: ViewChild) -> ChildStream {
        ChildStream {
            data,
            child: Some(child),
        }
    }
}

impl Read for ChildStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.data.read(buf)?;
        if n == 0 {
            // The stream ended: it is complete only if the child says so.
            if let Some(child) = self.child.take() {
                child.finish().map_err(std::io::Error::other)?;
            }
        }
        Ok(n)
    }
}

impl CopyOut {
    /// What is being copied (after following the link with `follow_link`).
    pub fn stat(&self) -> &PathStat {
        &self.stat
    }

    /// The name of the archive's top entry: the source's last component, or `.`.
    pub fn entry_name(&self) -> &str {
        &self.entry_name
    }
}

impl Read for CopyOut {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Once two chunks were taken, what reads them is well inside the copy (tests).
        if self.reads >= 2 {
            crate::faults::crash_point("cp:mid-copy");
        }
        let n = self.stream.read(buf)?;
        if n > 0 {
            self.reads = self.reads.saturating_add(1);
        }
        Ok(n)
    }
}

impl Engine {
    /// Stats a path in a container, without following a final symlink.
    pub fn stat_container_path(&self, name_or_id: &str, path: &str) -> Result<PathStat> {
        let record = self.container(name_or_id)?;
        let view = self.view_of(&record)?;
        let container = record.name.clone();
        let path = path.to_owned();
        let child = fsview::spawn(&view, move |_| {
            let root = InRoot::open()?;
            let found = root
                .lookup(&path)
                .context(|| format!("looking up {path}"))?;
            let found = found.ok_or_else(|| not_found(&path, &container))?;
            let stat = root
                .path_stat(&found)
                .context(|| format!("reading {path}"))?;
            serde_json::to_vec(&stat).map_err(|e| Error::Runtime(e.to_string()))
        })?;
        decode_stat(&child.finish()?)
    }

    /// About how many bytes the tar stream of `src` in the container will be (see
    /// [`archive_size`]): a progress bar's total.
    pub fn container_archive_size(&self, name_or_id: &str, src: &str) -> Result<u64> {
        let record = self.container(name_or_id)?;
        let view = self.view_of(&record)?;
        let container = record.name.clone();
        let source = src.to_owned();
        let child = fsview::spawn(&view, move |_| {
            let root = InRoot::open()?;
            let found = root
                .lookup(&source)
                .context(|| format!("looking up {source}"))?
                .ok_or_else(|| not_found(&source, &container))?;
            let size = archive_size(found.parent.as_fd(), &found.name)
                .context(|| format!("measuring {source}"))?;
            Ok(size.to_le_bytes().to_vec())
        })?;
        let payload = child.finish()?;
        let bytes = <[u8; 8]>::try_from(payload.as_slice())
            .map_err(|_| Error::Runtime("reading a size from the copy process".into()))?;
        Ok(u64::from_le_bytes(bytes))
    }

    /// A tar stream of `src` in the container; with `follow_link` a symlink at `src` is
    /// replaced by what it points to (under the link's name).
    pub fn copy_from_container(
        &self,
        name_or_id: &str,
        src: &str,
        follow_link: bool,
    ) -> Result<CopyOut> {
        let record = self.container(name_or_id)?;
        let view = self.view_of(&record)?;
        let container = record.name.clone();
        let entry_name = archive_name(src);
        let (data, writer) = pipe()?;
        let source = src.to_owned();
        let name = entry_name.clone();
        let data_fd = data.as_raw_fd();
        let mut child = fsview::spawn(&view, move |reporter| {
            // The parent's end: without closing it here a reader that goes away would
            // leave this child blocked on a full pipe instead of failing with EPIPE.
            close_inherited(data_fd);
            let root = InRoot::open()?;
            let found = if follow_link {
                root.resolve(&source)
            } else {
                root.lookup(&source)
            }
            .context(|| format!("looking up {source}"))?
            .ok_or_else(|| not_found(&source, &container))?;
            let stat = root
                .path_stat(&found)
                .context(|| format!("reading {source}"))?;
            let json = serde_json::to_vec(&stat).map_err(|e| Error::Runtime(e.to_string()))?;
            reporter.note(&json)?;
            let out = BufWriter::with_capacity(COPY_BUF, File::from(writer));
            let mut packer = Packer::new(out);
            packer.add_top(found.parent.as_fd(), &found.name, Path::new(&name), false)?;
            packer.finish()?;
            Ok(Vec::new())
        })?;
        let stat = match child.receive()? {
            Message::Note(json) => decode_stat(&json)?,
            Message::Done(_) => {
                return Err(Error::Runtime("the copy ended before it began".into()));
            }
        };
        Ok(CopyOut {
            stat,
            entry_name,
            stream: ChildStream::new(File::from(data), child),
            reads: 0,
        })
    }

    /// Extracts the tar stream `fill` writes into the existing directory `dest_dir` of the
    /// container, straight from the writer (no intermediate pipe for a tar built on the
    /// fly). Names with `..`, absolute names and writes through symlinks in the archive
    /// are refused.
    pub fn copy_to_container_with(
        &self,
        name_or_id: &str,
        dest_dir: &str,
        opts: CopyInOptions,
        fill: impl FnOnce(&mut dyn Write) -> Result<()>,
    ) -> Result<()> {
        let record = self.container(name_or_id)?;
        let view = self.view_of(&record)?;
        let container = record.name.clone();
        let (reader, writer) = pipe()?;
        let dest = dest_dir.to_owned();
        let extract = ExtractOptions {
            whiteouts: false,
            owner: (!opts.keep_owner).then_some((0, 0)),
            rebase: None,
            root_meta: false,
            // Inside the container a device node or a setuid file is the container's
            // own business, as with Docker.
            atomic: true,
            specials: true,
            setid: true,
            parallel: false,
            upper_layer: false,
        };
        let new_dir = opts.new_dir.clone();
        // A new tree can be built beside the writable layer (opened here, on the host).
        let layer = new_dir
            .as_ref()
            .and_then(|_| WritableLayer::open(&self.overlay_of(&record).upper));
        let writer_fd = writer.as_raw_fd();
        let child = fsview::spawn(&view, move |_| {
            // The parent's end: the archive ends only when the parent closes its copy.
            close_inherited(writer_fd);
            let root = InRoot::open()?;
            let dir = root
                .open_at(&dest, OFlag::O_RDONLY | OFlag::O_DIRECTORY)
                .map_err(|e| match e {
                    nix::Error::ENOENT => not_found(&dest, &container),
                    e => Error::Sys {
                        context: format!("opening {dest} in container {container}"),
                        err: e,
                    },
                })?;
            let mut input = ReadAhead::new(File::from(reader), COPY_BUF);
            match new_dir.as_deref().map(OsStr::new) {
                Some(name) if !exists_at(&dir, name) => {
                    let place = layer.as_ref().and_then(|layer| {
                        Some(LayerPlace {
                            layer,
                            root_dev: fstat(&root.root).ok()?.st_dev,
                            dir_path: root.dir_path(&dir).ok()?,
                        })
                    });
                    extract_new_dir(&mut input, dir, name, extract, place)?;
                }
                _ => {
                    unpack::extract(&mut input, dir, &extract)?;
                }
            }
            // Whatever follows the end-of-archive blocks (tar pads to records) is read, so
            // the writer never sees a broken pipe after a complete archive.
            std::io::copy(&mut input, &mut std::io::sink())
                .context(|| "reading the archive".into())?;
            Ok(Vec::new())
        })?;
        let mut out = BufWriter::with_capacity(COPY_BUF, CrashMidCopy(File::from(writer)));
        let fed =
            fill(&mut out).and_then(|()| out.flush().context(|| "sending the archive".into()));
        // What is still buffered is not sent after a failure: the child must see the
        // archive end where the failure left it.
        drop(out.into_parts());
        match fed {
            Ok(()) => child.finish().map(drop),
            // The child stopped reading: its error says why.
            Err(e) if e.is_broken_pipe() => {
                child.finish()?;
                Err(e)
            }
            Err(e) => {
                // Cancelled or failed while sending. The pipe is closed now, so the child
                // sees the archive end early: it removes the file it was writing (never
                // renamed into place) and ends. Killing it instead would leave that file.
                match child.finish() {
                    // Its temporary file stayed: worth saying beside the cause.
                    Err(Error::Runtime(why)) if why.contains(unpack::LEFT_BEHIND) => {
                        Err(Error::Runtime(format!("{e}; {why}")))
                    }
                    // Else it only says that the archive ended early.
                    _ => Err(e),
                }
            }
        }
    }
}

fn exists_at(dir: &OwnedFd, name: &OsStr) -> bool {
    !matches!(
        fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW),
        Err(nix::Error::ENOENT)
    )
}

/// Where a copy's new tree can be built outside the overlay (see [`super::beside`]): the
/// container's writable layer, the device of the container's root and the container path
/// of the destination directory.
pub(super) struct LayerPlace<'a> {
    pub layer: &'a WritableLayer,
    pub root_dev: u64,
    pub dir_path: String,
}

/// Extracts an archive that is one directory `name` (absent from `dir`) under a staged
/// name made here, its files written straight (nothing to replace in a new tree), and
/// renames it to `name` once complete. On failure the staged tree is removed; killed,
/// it stays under its `.berth-cp-` name, as a staged file does. With `place`, the tree is
/// built beside the container's writable layer and only moved through the staged name.
fn extract_new_dir(
    input: &mut impl Read,
    dir: OwnedFd,
    name: &OsStr,
    mut extract: ExtractOptions,
    place: Option<LayerPlace<'_>>,
) -> Result<()> {
    let staged = unpack::make_staged_dir(&dir, name)
        .context(|| format!("creating a directory beside {}", name.to_string_lossy()))?;
    // A new tree: nothing to replace, so files are written straight, their content and
    // metadata aside while the next names are made.
    extract.atomic = false;
    extract.parallel = true;
    let parent = dir.try_clone().context(|| "dup".into())?;
    // Tar readers take the end of the input for the end of the archive. A copy cut
    // between two entries (cancelled, or failing on the host) ends there: it is not the
    // whole tree, which must not take the name.
    let whole = |input: &mut dyn Read, root: OwnedFd, extract: &ExtractOptions| {
        let mut input = EndSeen {
            inner: input,
            seen: false,
        };
        unpack::extract(&mut input, root, extract)?;
        if input.seen {
            return Err(Error::BadArchive {
                path: name.to_string_lossy().into_owned(),
                reason: "the copy ended before its archive did".into(),
            });
        }
        Ok(())
    };
    let in_layer = place.and_then(|place| {
        let staged = place
            .layer
            .find(place.root_dev, &dir, &place.dir_path, &staged)?;
        Some((place.layer, staged))
    });
    let done = match in_layer {
        Some((layer, in_layer)) => layer
            .build(input, &in_layer, &parent, name, extract, whole)
            .and_then(|()| {
                // Empty now; its contents went on to `name`.
                nix::unistd::unlinkat(
                    &parent,
                    staged.as_os_str(),
                    nix::unistd::UnlinkatFlags::RemoveDir,
                )
                .context(|| format!("removing {}", staged.to_string_lossy()))
            }),
        None => {
            extract.rebase = Some(unpack::Rebase {
                from: name.as_bytes().to_vec(),
                to: staged.as_bytes().to_vec(),
            });
            whole(input, dir, &extract).and_then(|()| {
                nix::fcntl::renameat2(
                    &parent,
                    staged.as_os_str(),
                    &parent,
                    name,
                    nix::fcntl::RenameFlags::RENAME_NOREPLACE,
                )
                .context(|| {
                    format!(
                        "moving the copy into place: {} appeared meanwhile",
                        name.to_string_lossy()
                    )
                })
            })
        }
    };
    if let Err(e) = done {
        return match unpack::remove_tree_at(parent.as_fd(), &staged) {
            Ok(()) | Err(nix::Error::ENOENT) => Err(e),
            Err(gone) => Err(Error::Runtime(format!(
                "{e} (and {} {}: {gone})",
                staged.to_string_lossy(),
                unpack::LEFT_BEHIND
            ))),
        };
    }
    Ok(())
}

/// A reader that remembers reaching the end of what it reads.
struct EndSeen<R> {
    inner: R,
    seen: bool,
}

impl<R: Read> Read for EndSeen<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.seen = true;
        }
        Ok(n)
    }
}

/// The archive pipe, with a crash point and a pause point after the first block sent
/// (tests only).
struct CrashMidCopy(File);

impl Write for CrashMidCopy {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.0.write(buf)?;
        crate::faults::crash_point("cp:mid-copy");
        crate::faults::pause_point("cp:mid-copy");
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Closes, in a forked child, a descriptor the parent keeps using.
pub(super) fn close_inherited(fd: RawFd) {
    // SAFETY: the child owns its copy of the descriptor table; nothing else in the child
    // uses this descriptor.
    unsafe { libc::close(fd) };
}

pub(super) fn not_found(path: &str, container: &str) -> Error {
    Error::NoSuchPath {
        path: path.to_owned(),
        container: container.to_owned(),
    }
}

fn decode_stat(json: &[u8]) -> Result<PathStat> {
    serde_json::from_slice(json).map_err(|e| Error::Runtime(format!("reading a path stat: {e}")))
}

/// The archive's top entry name for a source path: its last component, `.` for `DIR/.`
/// and for the root.
pub fn archive_name(src: &str) -> String {
    let trimmed = src.trim_end_matches('/');
    match trimmed.rsplit('/').next() {
        Some("") | None | Some(".") | Some("..") => ".".to_owned(),
        Some(last) => last.to_owned(),
    }
}

/// A pipe with a large buffer, both ends close-on-exec.
pub(super) fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).context(|| "creating a pipe".into())?;
    // Best effort: a smaller pipe only costs more context switches.
    let _ = fcntl(&w, FcntlArg::F_SETPIPE_SZ(COPY_BUF as i32));
    Ok((r, w))
}

/// Copies `reader` to `writer` with a large buffer; returns the bytes copied.
pub fn pump(reader: &mut impl Read, writer: &mut dyn Write) -> Result<u64> {
    let mut buf = vec![0u8; COPY_BUF];
    let mut total = 0;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).context(|| "reading the archive".into()),
        };
        writer
            .write_all(&buf[..n])
            .context(|| "sending the archive".into())?;
        total += n as u64;
    }
}

/// A path found in the container: its parent directory and last component (`.` when the
/// path names a directory as a whole, such as `/` or `dir/.`).
pub(super) struct Found {
    pub parent: OwnedFd,
    pub name: OsString,
    pub path: String,
    pub st: FileStat,
}

/// Path resolution inside the child, where "/" is the container's root.
pub(super) struct InRoot {
    root: OwnedFd,
}

impl InRoot {
    pub(super) fn open() -> Result<InRoot> {
        let root = nix::fcntl::open(
            "/",
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .context(|| "opening the container root".into())?;
        Ok(InRoot { root })
    }

    /// Opens `path`, following symlinks, never leaving the root.
    fn open_at(&self, path: &str, flags: OFlag) -> nix::Result<OwnedFd> {
        let path = if path.is_empty() { "/" } else { path };
        super::fsview::open_in_root(&self.root, path, flags, nix::sys::stat::Mode::empty())
    }

    /// The container path of an open directory: the child's root is the container's, so
    /// the kernel's own answer for the working directory is it.
    fn dir_path(&self, dir: &OwnedFd) -> nix::Result<String> {
        nix::unistd::fchdir(dir)?;
        let cwd = nix::unistd::getcwd()?;
        Ok(cwd.to_string_lossy().into_owned())
    }

    /// Finds `path` without following a final symlink; `None` if it doesn't exist.
    fn lookup(&self, path: &str) -> nix::Result<Option<Found>> {
        let missing = |e: nix::Error| matches!(e, nix::Error::ENOENT | nix::Error::ENOTDIR);
        match split_last(path) {
            None => match self.open_at(path, OFlag::O_PATH | OFlag::O_DIRECTORY) {
                Ok(dir) => {
                    let st = fstat(&dir)?;
                    let path = self.dir_path(&dir)?;
                    Ok(Some(Found {
                        parent: dir,
                        name: OsString::from("."),
                        path,
                        st,
                    }))
                }
                Err(e) if missing(e) => Ok(None),
                Err(e) => Err(e),
            },
            Some((parent, name)) => {
                let dir = match self.open_at(parent, OFlag::O_PATH | OFlag::O_DIRECTORY) {
                    Ok(dir) => dir,
                    Err(e) if missing(e) => return Ok(None),
                    Err(e) => return Err(e),
                };
                let st = match fstatat(&dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
                    Ok(st) => st,
                    Err(e) if missing(e) => return Ok(None),
                    Err(e) => return Err(e),
                };
                let path = join(&self.dir_path(&dir)?, name);
                Ok(Some(Found {
                    parent: dir,
                    name: OsString::from(name),
                    path,
                    st,
                }))
            }
        }
    }

    /// Finds `path` following symlinks (inside the root); `None` if nothing is there.
    pub(super) fn resolve(&self, path: &str) -> nix::Result<Option<Found>> {
        let mut path = path.to_owned();
        for _ in 0..MAX_LINKS {
            let Some(found) = self.lookup(&path)? else {
                return Ok(None);
            };
            if PathKind::of(&found.st) != PathKind::Symlink {
                return Ok(Some(found));
            }
            let target = readlinkat(&found.parent, found.name.as_os_str())?;
            let target = target.to_string_lossy();
            path = if target.starts_with('/') {
                target.into_owned()
            } else {
                join(&self.dir_path(&found.parent)?, &target)
            };
        }
        Err(nix::Error::ELOOP)
    }

    fn path_stat(&self, found: &Found) -> nix::Result<PathStat> {
        let kind = PathKind::of(&found.st);
        let link_target = match kind {
            PathKind::Symlink => Some(
                readlinkat(&found.parent, found.name.as_os_str())?
                    .to_string_lossy()
                    .into_owned(),
            ),
            _ => None,
        };
        let resolved = match kind {
            PathKind::Symlink => self
                .resolve(&found.path)?
                .map(|r| (r.path.clone(), PathKind::of(&r.st))),
            _ => Some((found.path.clone(), kind)),
        };
        Ok(PathStat {
            name: found
                .path
                .rsplit('/')
                .next()
                .filter(|n| !n.is_empty())
                .unwrap_or("/")
                .to_owned(),
            path: found.path.clone(),
            kind,
            size: found.st.st_size.max(0) as u64,
            mode: found.st.st_mode & 0o7777,
            mtime: found.st.st_mtime,
            link_target,
            resolved,
        })
    }
}

/// Splits a container path into its parent and last component; `None` when the path names
/// a directory as a whole (`/`, `dir/.`, `dir/..`).
fn split_last(path: &str) -> Option<(&str, &str)> {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return None;
    }
    let (parent, name) = match trimmed.rfind('/') {
        Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
        None => ("/", trimmed),
    };
    if name == "." || name == ".." {
        return None;
    }
    Some((if parent.is_empty() { "/" } else { parent }, name))
}

pub(super) fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// Writes files as a tar stream, walking with descriptors and never following a symlink
/// below the top entry. Used on both sides: in the container child for copies out and on
/// the host for copies in.
pub struct Packer<W: Write> {
    builder: tar::Builder<W>,
    buf: Vec<u8>,
    /// Files with several links, by (device, inode): later ones become hardlink entries.
    links: HashMap<(u64, u64), PathBuf>,
    /// Writing an image layer from an overlay upper dir (see [`Packer::for_layer`]).
    layer: Option<LayerMode>,
}

/// How a layer differs from a copy: overlay whiteouts become `.wh.` entries, names come
/// sorted (the same upper dir gives the same tar) and some paths are left out.
struct LayerMode {
    exclude: Vec<PathBuf>,
}

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";

impl<W: Write> Packer<W> {
    pub fn new(out: W) -> Packer<W> {
        Packer {
            builder: tar::Builder::new(out),
            buf: vec![0; COPY_BUF],
            links: HashMap::new(),
            layer: None,
        }
    }

    /// A packer for an image layer made from an overlay upper dir: a 0/0 character device
    /// becomes `.wh.NAME`, an opaque directory gets `.wh..wh..opq`, entries are sorted, and
    /// the tar names in `exclude` (with what is under them) are left out.
    pub(crate) fn for_layer(out: W, exclude: Vec<PathBuf>) -> Packer<W> {
        let mut packer = Packer::new(out);
        packer.layer = Some(LayerMode { exclude });
        packer
    }

    fn empty_file(&mut self, tar_name: &Path, st: &FileStat) -> Result<()> {
        let mut header = header(st, EntryType::Regular, 0);
        header.set_mode(0o644);
        self.builder
            .append_data(&mut header, tar_name, std::io::empty())
            .context(|| format!("archiving {}", tar_name.display()))
    }

    /// Records the file capabilities of `fd` (a file or directory about to be added) for
    /// its entry, as Docker's and containerd's packers do: `security.capability` is the
    /// one xattr they carry (never overlayfs's own, nor SELinux labels).
    fn capability(&mut self, fd: BorrowedFd<'_>) -> std::io::Result<()> {
        let Some(value) = capability_of(fd) else {
            return Ok(());
        };
        self.builder
            .append_pax_extensions([(CAPABILITY_PAX, value.as_slice())])
    }

    /// Adds `name` of the directory `parent` (and, for a directory, all it holds) as
    /// `tar_name`. With `follow`, a symlink at `name` itself is followed.
    pub fn add_top(
        &mut self,
        parent: BorrowedFd<'_>,
        name: &OsStr,
        tar_name: &Path,
        follow: bool,
    ) -> Result<()> {
        let flags = if follow {
            AtFlags::empty()
        } else {
            AtFlags::AT_SYMLINK_NOFOLLOW
        };
        let st =
            fstatat(parent, name, flags).context(|| format!("reading {}", tar_name.display()))?;
        self.add(parent, name, tar_name, &st, follow)
    }

    /// Ends the archive and returns the writer, flushed.
    pub fn finish(self) -> Result<W> {
        let mut out = self
            .builder
            .into_inner()
            .context(|| "ending the archive".into())?;
        out.flush().context(|| "sending the archive".into())?;
        Ok(out)
    }

    fn add(
        &mut self,
        parent: BorrowedFd<'_>,
        name: &OsStr,
        tar_name: &Path,
        st: &FileStat,
        follow: bool,
    ) -> Result<()> {
        let what = || format!("archiving {}", tar_name.display());
        if let Some(layer) = &self.layer {
            if layer.exclude.iter().any(|e| tar_name == e) {
                return Ok(());
            }
            if st.st_mode & libc::S_IFMT == libc::S_IFCHR && st.st_rdev == 0 {
                let mut hidden = OsString::from(WHITEOUT_PREFIX);
                hidden.push(name);
                return self.empty_file(&tar_name.with_file_name(hidden), st);
            }
        }
        let nofollow = if follow {
            OFlag::empty()
        } else {
            OFlag::O_NOFOLLOW
        };
        match PathKind::of(st) {
            PathKind::Dir => {
                let dir = openat(
                    parent,
                    name,
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC | nofollow,
                    Mode::empty(),
                )
                .context(what)?;
                self.capability(dir.as_fd()).context(what)?;
                let mut header = header(st, EntryType::Directory, 0);
                self.builder
                    .append_data(&mut header, tar_name, std::io::empty())
                    .context(what)?;
                let mut children = list_dir(&dir).context(what)?;
                if self.layer.is_some() {
                    children.sort();
                    if is_opaque(&dir) {
                        self.empty_file(&tar_name.join(OPAQUE_MARKER), st)?;
                    }
                }
                for child in children {
                    let child_st =
                        fstatat(&dir, child.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
                            .context(|| format!("archiving {}", tar_name.join(&child).display()))?;
                    self.add(
                        dir.as_fd(),
                        &child,
                        &tar_name.join(&child),
                        &child_st,
                        false,
                    )?;
                }
                Ok(())
            }
            PathKind::File => {
                let key = (st.st_dev, st.st_ino);
                if st.st_nlink > 1 {
                    if let Some(first) = self.links.get(&key) {
                        let mut header = header(st, EntryType::Link, 0);
                        let first = first.clone();
                        return self
                            .builder
                            .append_link(&mut header, tar_name, first)
                            .context(what);
                    }
                    self.links.insert(key, tar_name.to_owned());
                }
                // Non-blocking: a file swapped for a FIFO meanwhile must not hang the
                // open; and what was opened must still be a regular file.
                let fd = openat(
                    parent,
                    name,
                    OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK | nofollow,
                    Mode::empty(),
                )
                .context(what)?;
                if PathKind::of(&fstat(&fd).context(what)?) != PathKind::File {
                    return Err(Error::Runtime(format!(
                        "archiving {}: it changed while being archived",
                        tar_name.display()
                    )));
                }
                self.capability(fd.as_fd()).context(what)?;
                let size = st.st_size.max(0) as u64;
                let mut header = header(st, EntryType::Regular, size);
                // The header goes through the builder (long names); the content is copied
                // here with a large buffer.
                self.builder
                    .append_data(&mut header, tar_name, std::io::empty())
                    .context(what)?;
                copy_exact(
                    &mut File::from(fd),
                    self.builder.get_mut(),
                    size,
                    &mut self.buf,
                )
                .context(what)
            }
            PathKind::Symlink => {
                let target = readlinkat(parent, name).context(what)?;
                let mut header = header(st, EntryType::Symlink, 0);
                self.builder
                    .append_link(&mut header, tar_name, target)
                    .context(what)
            }
            PathKind::Other => {
                let kind = match st.st_mode & libc::S_IFMT {
                    libc::S_IFCHR => EntryType::Char,
                    libc::S_IFBLK => EntryType::Block,
                    libc::S_IFIFO => EntryType::Fifo,
                    // Sockets can't be archived; tar skips them too.
                    _ => return Ok(()),
                };
                let mut header = header(st, kind, 0);
                let (major, minor) = (libc::major(st.st_rdev), libc::minor(st.st_rdev));
                header.set_device_major(major).context(what)?;
                header.set_device_minor(minor).context(what)?;
                self.builder
                    .append_data(&mut header, tar_name, std::io::empty())
                    .context(what)
            }
        }
    }
}

const BLOCK: u64 = 512;

/// About how many bytes [`Packer`] writes for `name` of `parent` and all under it, from a
/// walk that stats and reads no content (long names' extra headers are not counted).
pub fn archive_size(parent: BorrowedFd<'_>, name: &OsStr) -> nix::Result<u64> {
    let st = fstatat(parent, name, AtFlags::AT_SYMLINK_NOFOLLOW)?;
    let mut linked = std::collections::HashSet::new();
    Ok(2 * BLOCK + walk_size(parent, name, &st, &mut linked)?)
}

fn walk_size(
    parent: BorrowedFd<'_>,
    name: &OsStr,
    st: &FileStat,
    linked: &mut std::collections::HashSet<(u64, u64)>,
) -> nix::Result<u64> {
    let mut total = BLOCK;
    match PathKind::of(st) {
        // Later links to a file are headers only.
        PathKind::File if st.st_nlink <= 1 || linked.insert((st.st_dev, st.st_ino)) => {
            total += (st.st_size.max(0) as u64).next_multiple_of(BLOCK);
        }
        PathKind::Dir => {
            let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            let dir = openat(parent, name, flags, Mode::empty())?;
            for child in list_dir(&dir)? {
                // Gone since the listing: the copy will not see it either.
                let Ok(child_st) = fstatat(&dir, child.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
                else {
                    continue;
                };
                total += walk_size(dir.as_fd(), &child, &child_st, linked)?;
            }
        }
        _ => {}
    }
    Ok(total)
}

fn header(st: &FileStat, kind: EntryType, size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(st.st_mode & 0o7777);
    header.set_uid(st.st_uid.into());
    header.set_gid(st.st_gid.into());
    header.set_mtime(st.st_mtime.max(0) as u64);
    header.set_size(size);
    header
}

/// File capabilities: the xattr a layer or a copy keeps, and its PAX record's name.
pub(crate) const CAPABILITY_XATTR: &str = "security.capability";
const CAPABILITY_PAX: &str = "SCHILY.xattr.security.capability";

/// `security.capability` of an open file or directory, as a layer records it (see
/// [`capability_as_packed`]); `None` when it has none or it can't be read.
pub(crate) fn capability_of(fd: BorrowedFd<'_>) -> Option<Vec<u8>> {
    // A capability xattr is at most 24 bytes (revision 3).
    let mut value = [0u8; 64];
    match rustix::fs::fgetxattr(fd, CAPABILITY_XATTR, &mut value[..]) {
        Ok(n) if n > 0 => Some(capability_as_packed(value[..n.min(value.len())].to_vec())),
        _ => None,
    }
}

/// A capability value as moby's packer writes it: revision 3 (which names the root ID
/// of a user namespace, meaningless outside it) becomes revision 2, the root ID dropped.
pub(crate) fn capability_as_packed(mut value: Vec<u8>) -> Vec<u8> {
    const VERSION_BYTE: usize = 3;
    const REVISION_2: u8 = 2;
    const REVISION_3: u8 = 3;
    const SIZE_2: usize = 20;
    if value.len() >= SIZE_2 && value[VERSION_BYTE] == REVISION_3 {
        value[VERSION_BYTE] = REVISION_2;
        value.truncate(SIZE_2);
    }
    value
}

/// Whether overlayfs hides the lower layers' content of this directory.
fn is_opaque(dir: &OwnedFd) -> bool {
    let mut value = [0u8; 4];
    // SAFETY: the name is a NUL-terminated literal and the buffer outlives the call.
    let n = unsafe {
        libc::fgetxattr(
            dir.as_raw_fd(),
            c"trusted.overlay.opaque".as_ptr(),
            value.as_mut_ptr().cast(),
            value.len(),
        )
    };
    n == 1 && value[0] == b'y'
}

/// The names in a directory, sorted, without `.` and `..`.
pub(crate) fn list_dir_sorted(dir: &impl AsFd) -> nix::Result<Vec<OsString>> {
    let mut names = list_dir(dir)?;
    names.sort();
    Ok(names)
}

/// The names in a directory, without `.` and `..`.
pub(super) fn list_dir(dir: &impl AsFd) -> nix::Result<Vec<OsString>> {
    let mut listing = nix::dir::Dir::from_fd(
        dir.as_fd()
            .try_clone_to_owned()
            .map_err(|_| nix::Error::EMFILE)?,
    )?;
    // A dup shares the read position: start from the top whatever happened before.
    let names = listing
        .iter()
        .filter_map(|e| e.ok())
        .map(|e| OsStr::from_bytes(e.file_name().to_bytes()).to_owned())
        .filter(|n| n != "." && n != "..")
        .collect();
    Ok(names)
}

/// Writes exactly `size` bytes of `file` and the padding to the next 512-byte block. A
/// file that shrank meanwhile is padded with zeros, one that grew is cut: the header
/// already promised `size`, and a wrong count would corrupt the rest of the archive.
fn copy_exact(
    file: &mut File,
    out: &mut impl Write,
    size: u64,
    buf: &mut [u8],
) -> std::io::Result<()> {
    let mut left = size;
    while left > 0 {
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = match file.read(&mut buf[..want]) {
            Ok(0) => {
                buf[..want].fill(0);
                want
            }
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        out.write_all(&buf[..n])?;
        left -= n as u64;
    }
    let pad = ((512 - size % 512) % 512) as usize;
    out.write_all(&[0u8; 512][..pad])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_names_follow_docker() {
        assert_eq!(archive_name("/etc/motd"), "motd");
        assert_eq!(archive_name("/data/"), "data");
        assert_eq!(archive_name("/data/."), ".");
        assert_eq!(archive_name("/"), ".");
        assert_eq!(archive_name("file"), "file");
    }

    #[test]
    fn split_last_names_directories_as_a_whole() {
        assert_eq!(split_last("/etc/motd"), Some(("/etc", "motd")));
        assert_eq!(split_last("/etc/"), Some(("/", "etc")));
        assert_eq!(split_last("motd"), Some(("/", "motd")));
        assert_eq!(split_last("/"), None);
        assert_eq!(split_last("/data/."), None);
    }

    /// A tar of the directory `tree` holding `a` and `b`, with only its first `entries`
    /// entries and without the end marker when `cut`, as a copy cut between two entries.
    fn tree_archive(entries: usize, cut: bool) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut dir = Header::new_gnu();
        dir.set_entry_type(EntryType::Directory);
        dir.set_mode(0o755);
        dir.set_size(0);
        builder
            .append_data(&mut dir, "tree", std::io::empty())
            .unwrap();
        for name in ["a", "b"].iter().take(entries.saturating_sub(1)) {
            let mut file = Header::new_gnu();
            file.set_mode(0o644);
            file.set_size(600);
            builder
                .append_data(&mut file, format!("tree/{name}"), &[7u8; 600][..])
                .unwrap();
        }
        let mut bytes = builder.into_inner().unwrap();
        if cut {
            bytes.truncate(bytes.len() - 1024);
        }
        bytes
    }

    fn new_dir_options() -> ExtractOptions {
        ExtractOptions {
            whiteouts: false,
            owner: None,
            rebase: None,
            root_meta: false,
            atomic: true,
            specials: true,
            setid: true,
            parallel: false,
            upper_layer: false,
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_new_directory_cut_between_two_entries_never_takes_its_name() {
        let scratch = tempfile::tempdir().unwrap();
        let open = || nix::fcntl::open(scratch.path(), OFlag::O_RDONLY, Mode::empty()).unwrap();
        // The directory and `a` arrived, `b` and the end marker did not.
        let cut = tree_archive(2, true);
        let err = extract_new_dir(
            &mut &cut[..],
            open(),
            OsStr::new("tree"),
            new_dir_options(),
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("ended before"), "{err}");
        assert!(
            names(scratch.path()).is_empty(),
            "{:?}",
            names(scratch.path())
        );
        // Whole, it is there under its name.
        let whole = tree_archive(3, false);
        extract_new_dir(
            &mut &whole[..],
            open(),
            OsStr::new("tree"),
            new_dir_options(),
            None,
        )
        .unwrap();
        assert_eq!(names(scratch.path()), ["tree"]);
        assert_eq!(names(&scratch.path().join("tree")), ["a", "b"]);
    }
}
