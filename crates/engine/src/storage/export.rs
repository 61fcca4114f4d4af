//! `export`: a container's root filesystem as one tar stream, the image's layers merged
//! with its writable layer, as Docker's `export`: what is mounted into the container
//! (volumes, binds, tmpfs, /proc, /sys, /dev) is left out.
//!
//! The walk runs in a child that sees the container's root (see [`super::fsview`]) and
//! archives a clone of the root mount alone, so no submount is ever entered; the
//! [`Packer`] walks with descriptors and never follows a symlink.

use std::fs::File;
use std::io::BufWriter;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use super::copy::{close_inherited, list_dir_sorted, pipe, ChildStream, Packer, COPY_BUF};
use super::fsview::{self, View};
use crate::error::{Context, Error, Result};
use crate::Engine;

/// The tar stream of a container's filesystem. Reading to the end reports the walk's
/// errors; dropping it early cancels the export.
pub type Export = ChildStream;

impl Engine {
    /// Streams the container's filesystem as a tar: every entry named from the root
    /// (`bin/sh`), without a leading `/` or `./`.
    pub fn export_container(&self, name_or_id: &str) -> Result<Export> {
        let record = self.container(name_or_id)?;
        let mut view = self.view_of(&record)?;
        // Volumes and binds are not the container's filesystem.
        if let View::Stopped { binds, .. } = &mut view {
            binds.clear();
        }
        let (data, writer) = pipe()?;
        let data_fd = data.as_raw_fd();
        let child = fsview::spawn(&view, move |_| {
            // The parent's end: a reader that goes away must fail the walk with EPIPE,
            // not leave it blocked on a full pipe.
            close_inherited(data_fd);
            let tree = root_mount_alone()?;
            let root = nix::fcntl::openat(
                &tree,
                ".",
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .context(|| "opening the container root".into())?;
            let out = BufWriter::with_capacity(COPY_BUF, File::from(writer));
            let mut packer = Packer::new(out);
            let names = list_dir_sorted(&root).context(|| "reading the container root".into())?;
            for name in names {
                packer.add_top(root.as_fd(), &name, Path::new(&name), false)?;
            }
            packer.finish()?;
            Ok(Vec::new())
        })?;
        Ok(ChildStream::new(File::from(data), child))
    }
}

/// `open_tree(2)` flags (linux/mount.h).
const OPEN_TREE_CLONE: libc::c_uint = 1;

/// A detached copy of the mount at "/" without what is mounted below it, so the walk
/// sees the root filesystem alone.
fn root_mount_alone() -> Result<OwnedFd> {
    // SAFETY: the path is a NUL-terminated literal; the result is a new descriptor or -1.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            c"/".as_ptr(),
            OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(Error::Io {
            context: "cloning the container's root mount".into(),
            err: std::io::Error::last_os_error(),
        });
    }
    // SAFETY: open_tree returned this descriptor to us alone.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}
