//! One directory of a container as the container sees it (the dashboard's file pane).
//!
//! The listing runs in a view child like `cp` (see [`super::fsview`]): the path resolves
//! with `openat2(RESOLVE_IN_ROOT)`, so a symlink to `/etc` or `../../..` means the
//! container's. The directory is the container's to fill, so the child reads at most
//! [`MAX_ENTRIES`] names, stats each without following it and without opening it (a FIFO
//! or a device never blocks the listing), and streams the entries through a pipe: a
//! listing is far larger than a status datagram.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use nix::fcntl::{openat, readlinkat, AtFlags, OFlag};
use nix::sys::stat::{fstatat, Mode};
use serde::{Deserialize, Serialize};

use super::copy::{self, InRoot, PathKind};
use super::fsview;
use super::mounts::MountKind;
use crate::error::{Context, Error, Result};
use crate::Engine;

/// Names read from one directory at most; beyond, the listing is marked truncated.
pub const MAX_ENTRIES: usize = 10_000;
/// Encoded size of one listing at most: names and link targets are the container's, and
/// 10,000 long ones full of escaped bytes would otherwise make hundreds of megabytes.
const MAX_BYTES: u64 = 16 << 20;

/// One entry of a container directory, as `lstat` sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirEntry {
    /// The name, with bytes that are not UTF-8 replaced.
    pub name: String,
    pub kind: PathKind,
    pub size: u64,
    /// Permission bits (and setuid/setgid/sticky).
    pub mode: u32,
    pub mtime: i64,
    /// Where a symlink points, as stored.
    pub link_target: Option<String>,
    /// Set when a volume, bind or tmpfs of the container is mounted here.
    pub mount: Option<MountKind>,
}

/// A directory of a container: directories first, then by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirListing {
    /// The directory's path with every symlink resolved inside the container.
    pub path: String,
    pub entries: Vec<DirEntry>,
    /// True when the directory holds more than was listed.
    pub truncated: bool,
}

/// What the child reports once the entries are sent.
#[derive(Serialize, Deserialize)]
struct Summary {
    path: String,
    truncated: bool,
}

impl Engine {
    /// Lists the directory `path` of a running or stopped container; a symlink on the way
    /// is followed inside the container.
    pub fn list_container_dir(&self, name_or_id: &str, path: &str) -> Result<DirListing> {
        let record = self.container(name_or_id)?;
        let view = self.view_of(&record)?;
        let container = record.name.clone();
        let mounts: Vec<(String, MountKind)> = record
            .config
            .mounts
            .iter()
            .map(|m| (m.destination.clone(), m.kind))
            .collect();
        let (data, writer) = copy::pipe()?;
        let data_fd = data.as_raw_fd();
        let path = path.to_owned();
        let child = fsview::spawn(&view, move |_| {
            // The parent's end: if the parent gives up reading, writes fail instead of
            // blocking on a full pipe.
            copy::close_inherited(data_fd);
            let out = BufWriter::with_capacity(copy::COPY_BUF, File::from(writer));
            let summary = list_in_child(&path, &container, &mounts, out)?;
            serde_json::to_vec(&summary).map_err(|e| Error::Runtime(e.to_string()))
        })?;
        // An error here drops the child, which kills it.
        let mut entries = read_entries(data)?;
        let summary: Summary = serde_json::from_slice(&child.finish()?)
            .map_err(|e| Error::Runtime(format!("reading a directory listing: {e}")))?;
        sort_entries(&mut entries);
        Ok(DirListing {
            path: summary.path,
            entries,
            truncated: summary.truncated,
        })
    }
}

/// Directories first, then by name.
fn sort_entries(entries: &mut [DirEntry]) {
    entries.sort_by(|a, b| {
        (a.kind != PathKind::Dir)
            .cmp(&(b.kind != PathKind::Dir))
            .then_with(|| a.name.cmp(&b.name))
    });
}

/// Reads the child's entries (JSON values back to back) up to the bounds it keeps to.
fn read_entries(data: OwnedFd) -> Result<Vec<DirEntry>> {
    // Slack for the one entry that crosses the child's byte bound.
    let limit = MAX_BYTES + (1 << 20);
    let input = BufReader::with_capacity(copy::COPY_BUF, File::from(data).take(limit));
    let mut entries = Vec::new();
    for entry in serde_json::Deserializer::from_reader(input).into_iter::<DirEntry>() {
        let entry =
            entry.map_err(|e| Error::Runtime(format!("reading a directory listing: {e}")))?;
        if entries.len() == MAX_ENTRIES {
            return Err(Error::Runtime(
                "reading a directory listing: more entries than asked for".into(),
            ));
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// In the child: resolves `path`, writes its entries to `out` and says where it was.
fn list_in_child(
    path: &str,
    container: &str,
    mounts: &[(String, MountKind)],
    mut out: impl Write,
) -> Result<Summary> {
    let root = InRoot::open()?;
    let found = root
        .resolve(path)
        .context(|| format!("looking up {path} in container {container}"))?
        .ok_or_else(|| copy::not_found(path, container))?;
    if PathKind::of(&found.st) != PathKind::Dir {
        return Err(Error::Runtime(format!(
            "{path} in container {container} is not a directory"
        )));
    }
    // Where each mount is, resolved as the kernel resolved it when mounting.
    let mount_points: Vec<(String, MountKind)> = mounts
        .iter()
        .filter_map(|(dest, kind)| {
            let at = root.resolve(dest).ok().flatten()?;
            Some((at.path, *kind))
        })
        .collect();
    let what = || format!("listing {path} in container {container}");
    // Resolved above to a directory; O_NOFOLLOW keeps a swap for a symlink since then out.
    let dir = openat(
        &found.parent,
        found.name.as_os_str(),
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context(what)?;
    let mut names = nix::dir::Dir::from_fd(dir.try_clone().context(what)?).context(what)?;
    let mut listed = 0;
    let mut bytes = 0u64;
    let mut truncated = false;
    for name in names.iter() {
        let name = name.context(what)?;
        let name = name.file_name();
        if name.to_bytes() == b"." || name.to_bytes() == b".." {
            continue;
        }
        if listed == MAX_ENTRIES {
            truncated = true;
            break;
        }
        // Never opened, and a final symlink not followed: nothing here can block.
        let st = match fstatat(&dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            // Removed since it was read.
            Err(nix::Error::ENOENT) => continue,
            Err(e) => return Err(e).context(what),
        };
        let kind = PathKind::of(&st);
        let link_target = match kind {
            PathKind::Symlink => match readlinkat(&dir, name) {
                Ok(target) => Some(String::from_utf8_lossy(target.as_bytes()).into_owned()),
                Err(nix::Error::ENOENT) => continue,
                Err(e) => return Err(e).context(what),
            },
            _ => None,
        };
        let name = String::from_utf8_lossy(name.to_bytes()).into_owned();
        let full = copy::join(&found.path, &name);
        let entry = DirEntry {
            mount: mount_points
                .iter()
                .find(|(at, _)| *at == full)
                .map(|(_, kind)| *kind),
            name,
            kind,
            size: st.st_size.max(0) as u64,
            mode: st.st_mode & 0o7777,
            mtime: st.st_mtime,
            link_target,
        };
        let encoded = serde_json::to_vec(&entry).map_err(|e| Error::Runtime(e.to_string()))?;
        bytes += encoded.len() as u64;
        if bytes > MAX_BYTES {
            truncated = true;
            break;
        }
        out.write_all(&encoded)
            .context(|| "sending the listing".into())?;
        listed += 1;
    }
    out.flush().context(|| "sending the listing".into())?;
    Ok(Summary {
        path: found.path,
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, kind: PathKind) -> DirEntry {
        DirEntry {
            name: name.into(),
            kind,
            size: 0,
            mode: 0o644,
            mtime: 0,
            link_target: None,
            mount: None,
        }
    }

    #[test]
    fn directories_come_first_then_names() {
        let mut entries = vec![
            entry("b", PathKind::File),
            entry("z", PathKind::Dir),
            entry("a", PathKind::Symlink),
            entry("c", PathKind::Dir),
        ];
        sort_entries(&mut entries);
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["c", "z", "a", "b"]);
    }
}
