//! Building the new tree of a copy beside the container's writable layer instead of
//! through its overlay.
//!
//! Every step of making a file through overlayfs (create, write, set times, close) runs
//! on the overlay and again on the filesystem under it, so a copy of many small files
//! into a container took about twice as long as a tar pipe into a directory. A copy that
//! makes a new directory can skip that: its tree is built in a scratch directory beside
//! the container's upper dir (in the container's own directory, on the same filesystem,
//! where nothing in the container can see or touch it), and once complete it is moved
//! into place in two renames:
//!
//! 1. into the staged directory the overlay itself made beside the destination (an upper
//!    directory of the overlay's own making, so the parents are copied up and nothing of a
//!    lower layer shows through it), under a new random name nobody could look up before;
//! 2. from there to its final name through the overlay, which deals with whatever a lower
//!    layer or a whiteout holds at that name, as for any rename in the container.
//!
//! Overlayfs leaves changes made under a mounted overlay undefined because it caches what
//! it looked up: the one change made here adds a name nobody could have looked up to a
//! directory the overlay made moments before. What overlayfs would read as its own
//! (whiteouts, its xattrs) is made as overlayfs makes it when written through the overlay
//! (see [`ExtractOptions::upper_layer`]). Anything unexpected (another filesystem, a
//! directory that is not the one the overlay made) leaves the copy to the overlay path.
//!
//! A copy whose process is killed with its parent (a whole process group killed, a power
//! cut) leaves its scratch directory behind: [`leftovers`] finds those for `system check`,
//! told apart from a running copy's by the lock every copy holds while its scratch
//! directory exists (see [`WritableLayer::build`]), and [`remove_leftover`] removes one.

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::fcntl::{
    openat, openat2, renameat2, Flock, FlockArg, OFlag, OpenHow, RenameFlags, ResolveFlag,
};
use nix::sys::stat::{fstat, Mode};
use nix::sys::statfs::{fstatfs, OVERLAYFS_SUPER_MAGIC};

use crate::error::{Context, Error, Result};
use crate::image::unpack::{self, ExtractOptions, Rebase};

/// A container's upper dir and its parent, opened on the host before the copy's child
/// enters the container's view (where neither is visible).
pub(crate) struct WritableLayer {
    upper: OwnedFd,
    /// Where trees are built: the container's own directory, the upper dir's parent.
    beside: OwnedFd,
    dev: u64,
}

impl WritableLayer {
    /// `None` if `upper` can't be opened or its parent is another filesystem (no rename
    /// between them): such copies go through the overlay.
    pub(crate) fn open(upper: &Path) -> Option<WritableLayer> {
        let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let upper_fd = nix::fcntl::open(upper, flags, Mode::empty()).ok()?;
        let beside = nix::fcntl::open(upper.parent()?, flags, Mode::empty()).ok()?;
        let dev = fstat(&upper_fd).ok()?.st_dev;
        if fstat(&beside).ok()?.st_dev != dev {
            return None;
        }
        Some(WritableLayer {
            upper: upper_fd,
            beside,
            dev,
        })
    }

    /// The upper dir's copy of `staged`, the directory the overlay just made for the copy
    /// in `dir` (whose path in the container is `dir_path`), with `staged` opened through
    /// the overlay; `None` unless both are certainly the same directory of this layer.
    /// `root_dev` is the device of the container's root, the overlay.
    pub(crate) fn find(
        &self,
        root_dev: u64,
        dir: &OwnedFd,
        dir_path: &str,
        staged: &OsStr,
    ) -> Option<Staged> {
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let in_overlay = openat(dir, staged, flags, Mode::empty()).ok()?;
        let seen = fstat(&in_overlay).ok()?;
        // On the container's root overlay, not a volume, bind or tmpfs mounted in it.
        if seen.st_dev != root_dev
            || fstatfs(&in_overlay).ok()?.filesystem_type() != OVERLAYFS_SUPER_MAGIC
        {
            return None;
        }
        // The path is the kernel's (no `..`, no symlink), but the container can change
        // what it names at any time: no symlink is followed, nothing leaves the upper dir,
        // and only the very directory the overlay shows is taken.
        let rel = dir_path.strip_prefix('/')?;
        let mut path = OsString::from(rel);
        if !rel.is_empty() {
            path.push("/");
        }
        path.push(staged);
        let how = OpenHow::new().flags(flags).resolve(
            ResolveFlag::RESOLVE_BENEATH
                | ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_MAGICLINKS
                | ResolveFlag::RESOLVE_NO_XDEV,
        );
        let in_upper = openat2(&self.upper, Path::new(&path), how).ok()?;
        let found = fstat(&in_upper).ok()?;
        // A directory the overlay made in its upper layer shows that directory's inode
        // number when all layers share a filesystem (or with `xino`); on one filesystem an
        // inode number names one live inode.
        if found.st_dev != self.dev || found.st_ino != seen.st_ino {
            return None;
        }
        Some(Staged {
            in_overlay,
            in_upper,
        })
    }

    /// Extracts the archive `input`, one directory `name`, in a scratch directory beside
    /// the upper dir, checks with `whole` that it is complete, then moves it into
    /// `staged` and from there through the overlay to `name` in `parent`. The scratch
    /// directory is removed in any case; `staged` is the caller's.
    pub(crate) fn build(
        &self,
        input: &mut impl Read,
        staged: &Staged,
        parent: &OwnedFd,
        name: &OsStr,
        mut extract: ExtractOptions,
        whole: impl FnOnce(&mut dyn Read, OwnedFd, &ExtractOptions) -> Result<()>,
    ) -> Result<()> {
        // Held until the scratch directory is gone, also by a child whose parent was
        // killed (it is this process's own open of the directory).
        let _copying = self.copying()?;
        let scratch = unpack::make_staged_dir(&self.beside, name)
            .context(|| "creating a directory beside the container's layer".into())?;
        let built = self.build_in(input, &scratch, staged, parent, name, &mut extract, whole);
        // Empty once the tree moved on; the partial tree after a failure.
        let removed = unpack::remove_tree_at(self.beside.as_fd(), &scratch);
        match (built, removed) {
            (Err(e), Err(gone)) if gone != nix::Error::ENOENT => Err(Error::Runtime(format!(
                "{e} (and the partial copy beside the container's layer, {}, {}: {gone})",
                scratch.to_string_lossy(),
                unpack::LEFT_BEHIND
            ))),
            (Err(e), _) => Err(e),
            (Ok(()), Err(gone)) if gone != nix::Error::ENOENT => Err(Error::Sys {
                context: format!(
                    "removing {} beside the container's layer",
                    scratch.to_string_lossy()
                ),
                err: gone,
            }),
            (Ok(()), _) => Ok(()),
        }
    }

    /// A shared lock on the container's directory, taken before a scratch directory is
    /// made in it: `system check` takes it exclusively without waiting, so it never sees
    /// a running copy's scratch directory as left behind (and waits for no copy). A copy
    /// waits only while a check lists the directory.
    fn copying(&self) -> Result<Flock<OwnedFd>> {
        let dir = openat(
            &self.beside,
            ".",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .context(|| "opening the container's directory".into())?;
        Flock::lock(dir, FlockArg::LockShared)
            .map_err(|(_, e)| e)
            .context(|| "locking the container's directory for the copy".into())
    }

    #[allow(clippy::too_many_arguments)]
    fn build_in(
        &self,
        input: &mut impl Read,
        scratch: &OsStr,
        staged: &Staged,
        parent: &OwnedFd,
        name: &OsStr,
        extract: &mut ExtractOptions,
        whole: impl FnOnce(&mut dyn Read, OwnedFd, &ExtractOptions) -> Result<()>,
    ) -> Result<()> {
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let root = openat(&self.beside, scratch, flags, Mode::empty())
            .context(|| "opening the directory beside the container's layer".into())?;
        let keep = root.try_clone().context(|| "dup".into())?;
        // The tree is `scratch/scratch`: the scratch name is random and the container never
        // saw it, so no lookup of it in `staged` can be cached by the overlay.
        extract.rebase = Some(Rebase {
            from: name.as_bytes().to_vec(),
            to: scratch.as_bytes().to_vec(),
        });
        extract.upper_layer = true;
        whole(input, root, extract)?;
        let what = || {
            format!(
                "moving the copy into place: {} appeared meanwhile",
                name.to_string_lossy()
            )
        };
        renameat2(
            &keep,
            scratch,
            &staged.in_upper,
            scratch,
            RenameFlags::RENAME_NOREPLACE,
        )
        .context(|| "moving the copy into the container's layer".into())?;
        renameat2(
            &staged.in_overlay,
            scratch,
            parent,
            name,
            RenameFlags::RENAME_NOREPLACE,
        )
        .context(what)
    }
}

/// The staged directory of a copy, as the overlay shows it and in its upper layer.
pub(crate) struct Staged {
    in_overlay: OwnedFd,
    in_upper: OwnedFd,
}

/// The scratch directories of killed copies in `container_dir`, a container's own
/// directory (by descriptor, its entries never followed); none while a copy into the
/// container runs (it holds the lock [`WritableLayer::build`] takes). A name once made is
/// never taken again by a later copy (see [`unpack::make_staged_dir`]), so what this
/// finds stays a leftover after the lock is let go.
pub(crate) fn leftovers(container_dir: &Path) -> nix::Result<Vec<OsString>> {
    let dir = open_container_dir(container_dir)?;
    let dir = match Flock::lock(dir, FlockArg::LockExclusiveNonblock) {
        Ok(dir) => dir,
        Err((_, nix::Error::EWOULDBLOCK)) => return Ok(Vec::new()),
        Err((_, e)) => return Err(e),
    };
    let listing = nix::dir::Dir::from_fd(nix::unistd::dup(&*dir)?)?;
    let mut found: Vec<OsString> = listing
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| OsStr::from_bytes(e.file_name().to_bytes()).to_owned())
        .filter(|n| n.as_bytes().starts_with(unpack::STAGING_PREFIX.as_bytes()))
        .collect();
    found.sort();
    Ok(found)
}

/// Removes the leftover `name` (a scratch directory, or anything else under a copy's
/// name) from `container_dir`, by descriptor and never following a link.
pub(crate) fn remove_leftover(container_dir: &Path, name: &OsStr) -> nix::Result<()> {
    if !name
        .as_bytes()
        .starts_with(unpack::STAGING_PREFIX.as_bytes())
        || name.as_bytes().contains(&b'/')
    {
        return Err(nix::Error::EINVAL);
    }
    let dir = open_container_dir(container_dir)?;
    match nix::unistd::unlinkat(&dir, name, nix::unistd::UnlinkatFlags::NoRemoveDir) {
        Err(nix::Error::EISDIR) => unpack::remove_tree_at(dir.as_fd(), name),
        Err(nix::Error::ENOENT) => Ok(()),
        other => other,
    }
}

fn open_container_dir(path: &Path) -> nix::Result<OwnedFd> {
    nix::fcntl::open(
        path,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}
