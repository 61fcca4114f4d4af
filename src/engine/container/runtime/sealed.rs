//! A sealed in-memory copy of the berth binary.
//!
//! Processes that enter a container (the monitor, whose clone becomes the container's init,
//! and `exec`) run from a sealed memfd, so nothing inside a container can open
//! `/proc/PID/exe` and overwrite the host's binary (CVE-2019-5736).

use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use nix::fcntl::{fcntl, FcntlArg, SealFlag};
use nix::sys::memfd::{memfd_create, MFdFlags};

use crate::engine::error::{Context, Result};

/// True if this process already runs from a memfd.
pub fn running_sealed() -> bool {
    std::fs::read_link("/proc/self/exe")
        .map(|p| p.as_os_str().as_bytes().starts_with(b"/memfd:"))
        .unwrap_or(false)
}

/// Copies the running binary into a new sealed, close-on-exec memfd.
pub fn sealed_copy_of_self() -> Result<OwnedFd> {
    let fd = memfd_create("berth", MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING)
        .context(|| "creating a memfd for the sealed binary".into())?;
    let mut memfd = File::from(fd);
    let mut exe = File::open("/proc/self/exe").context(|| "opening /proc/self/exe".into())?;
    std::io::copy(&mut exe, &mut memfd).context(|| "copying berth into a memfd".into())?;
    let seals = SealFlag::F_SEAL_SEAL
        | SealFlag::F_SEAL_SHRINK
        | SealFlag::F_SEAL_GROW
        | SealFlag::F_SEAL_WRITE;
    fcntl(&memfd, FcntlArg::F_ADD_SEALS(seals)).context(|| "sealing the memfd".into())?;
    Ok(OwnedFd::from(memfd))
}

/// The path that executes a memfd (valid in this process and, after fork, its children).
pub fn exec_path(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// Replaces this process with a sealed copy of itself, same arguments and environment.
/// Returns only on failure.
pub fn reexec_sealed() -> Result<std::convert::Infallible> {
    use std::os::unix::process::CommandExt;
    let fd = sealed_copy_of_self()?;
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_default();
    let err = std::process::Command::new(exec_path(&fd))
        .arg0(argv0)
        .args(args)
        .exec();
    drop(fd);
    Err(err).context(|| "re-executing berth from a sealed copy".into())
}
