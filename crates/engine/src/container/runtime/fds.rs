//! Descriptor hygiene for processes about to enter a container (init and exec), as runc
//! does: nothing of the caller's may be reachable from inside (CVE-2024-21626), not even
//! for a moment through /proc/PID/fd.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Makes this process non-dumpable: its /proc/PID/fd, exe, mem and environ can't be opened
/// by anything in the container (nor can it be ptraced). execve restores dumpability.
pub(crate) fn make_non_dumpable() -> std::io::Result<()> {
    // SAFETY: prctl with PR_SET_DUMPABLE takes an integer.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Closes (for real, not close-on-exec) every descriptor from `first` up.
pub(crate) fn close_from(first: RawFd) -> std::io::Result<()> {
    // SAFETY: close_range takes two fd numbers and flags; it only closes descriptors.
    if unsafe { libc::syscall(libc::SYS_close_range, first as u32, u32::MAX, 0u32) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Leaves this process with exactly `stdio` on 0, 1 and 2 and `others` on 3, 4, ...
/// (close-on-exec), and closes every other descriptor. Returns `others` under their new
/// numbers. Only for a freshly forked, single-threaded child: Rust-side handles to the
/// closed numbers must not be used afterwards.
pub(crate) fn keep_only(
    stdio: [OwnedFd; 3],
    others: Vec<OwnedFd>,
) -> std::io::Result<Vec<OwnedFd>> {
    let sources: Vec<OwnedFd> = stdio.into_iter().chain(others).collect();
    let count = sources.len() as RawFd;
    // Park copies above every source and target, so no placement clobbers a source.
    let floor = sources
        .iter()
        .map(AsRawFd::as_raw_fd)
        .max()
        .unwrap_or(0)
        .max(count)
        + 1;
    let mut parked = Vec::with_capacity(sources.len());
    for fd in &sources {
        // SAFETY: F_DUPFD_CLOEXEC returns a new fd or -1.
        let copy = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, floor) };
        if copy < 0 {
            return Err(std::io::Error::last_os_error());
        }
        parked.push(copy);
    }
    // The originals are closed below (or replaced by dup3); their handles must not close
    // whatever will hold those numbers then.
    sources.into_iter().for_each(std::mem::forget);
    for (target, &copy) in parked.iter().enumerate() {
        let flags = if target < 3 { 0 } else { libc::O_CLOEXEC };
        // SAFETY: dup3 between two fd numbers; `copy` is ours and differs from `target`.
        if unsafe { libc::dup3(copy, target as RawFd, flags) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    close_from(count)?;
    // SAFETY: the numbers 3.. were just filled with our own copies.
    Ok((3..count)
        .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
        .collect())
}

/// A copy of one of this process's standard descriptors (0, 1 or 2).
pub(crate) fn dup_std(fd: RawFd) -> std::io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC returns a new fd or -1.
    let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if copy < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a fresh fd nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(copy) })
}
