//! A sealed in-memory copy of the berth binary.
//!
//! Processes that enter a container (the monitor, whose clone becomes the container's init,
//! and `exec`) run from a sealed memfd, so nothing inside a container can open
//! `/proc/PID/exe` and overwrite the host's binary (CVE-2019-5736).

use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, SealFlag};
use nix::sys::memfd::{memfd_create, MFdFlags};

use crate::error::{Context, Result};

/// True if this process already runs from a memfd.
pub fn running_sealed() -> bool {
    std::fs::read_link("/proc/self/exe")
        .map(|p| p.as_os_str().as_bytes().starts_with(b"/memfd:"))
        .unwrap_or(false)
}

/// Names this process after its `argv[0]` when it runs from a memfd: the kernel named it
/// after the file executed, `/proc/self/fd/N`, so ps and top would show `3` or `5`. The
/// name (comm, 15 bytes at most) is the base name of `argv[0]` up to its first space:
/// `berth` for the dashboard, `berth-monitor` for a monitor, whose `argv[0]` is
/// `berth-monitor NAME` so `ps -o args` shows its container.
pub fn name_process() {
    if !running_sealed() {
        return;
    }
    let Some(argv0) = std::env::args_os().next() else {
        return;
    };
    let name = process_name(argv0.as_bytes());
    if let Ok(name) = std::ffi::CString::new(name) {
        // Cosmetic: a process that keeps its number for a name still works.
        let _ = nix::sys::prctl::set_name(&name);
    }
}

/// The comm for an `argv[0]`: its base name up to the first space, at most 15 bytes.
fn process_name(argv0: &[u8]) -> Vec<u8> {
    let base = argv0.rsplit(|&b| b == b'/').next().unwrap_or_default();
    let word = base.split(|&b| b == b' ').next().unwrap_or_default();
    let word = if word.is_empty() { &b"berth"[..] } else { word };
    word[..word.len().min(15)].to_vec()
}

/// The `argv[0]` of a container's monitor: ps shows it with its container's name.
pub(crate) fn monitor_argv0(container: &str) -> String {
    format!("berth-monitor {container}")
}

/// Copies the running binary into a new sealed, close-on-exec memfd.
pub(crate) fn sealed_copy_of_self() -> Result<OwnedFd> {
    let fd = memfd_create("berth", MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING)
        .context(|| "creating a memfd for the sealed binary".into())?;
    let mut memfd = File::from(fd);
    let mut exe = File::open("/proc/self/exe").context(|| "opening /proc/self/exe".into())?;
    std::io::copy(&mut exe, &mut memfd).context(|| "copying berth into a memfd".into())?;
    seal(&memfd)?;
    Ok(OwnedFd::from(memfd))
}

/// How long `F_SEAL_WRITE` is retried while the kernel still counts page references
/// left over from the copy.
const SEAL_WRITE_PATIENCE: Duration = Duration::from_secs(2);

/// Seals the copy against every change.
///
/// `F_SEAL_FUTURE_WRITE` comes first: it refuses every later write and writable mapping
/// at once. `F_SEAL_WRITE` then waits for page references the copy left behind (per-CPU
/// page batches on a loaded machine), and the kernel answers EBUSY if they outlast its
/// short wait; it is retried, and if it never comes the future-write seal already holds,
/// because no mapping of this memfd exists. `F_SEAL_SEAL` goes last so nothing is undone.
fn seal(memfd: &File) -> Result<()> {
    let immutable = SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_FUTURE_WRITE;
    fcntl(memfd, FcntlArg::F_ADD_SEALS(immutable))
        .context(|| "sealing the memfd against writes".into())?;
    let deadline = Instant::now() + SEAL_WRITE_PATIENCE;
    loop {
        match fcntl(memfd, FcntlArg::F_ADD_SEALS(SealFlag::F_SEAL_WRITE)) {
            Ok(_) => break,
            Err(Errno::EBUSY) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(Errno::EBUSY) => break,
            Err(e) => return Err(e).context(|| "sealing the memfd".into()),
        }
    }
    fcntl(memfd, FcntlArg::F_ADD_SEALS(SealFlag::F_SEAL_SEAL))
        .context(|| "closing the memfd's seals".into())?;
    Ok(())
}

/// The path that executes a memfd (valid in this process and, after fork, its children).
pub(crate) fn exec_path(fd: &OwnedFd) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn process_names_are_the_base_name_up_to_a_space() {
        assert_eq!(process_name(b"/usr/local/bin/berth"), b"berth");
        assert_eq!(
            process_name(monitor_argv0("web").as_bytes()),
            b"berth-monitor"
        );
        assert_eq!(process_name(b"/opt/my dir/berth"), b"berth");
        assert_eq!(
            process_name(b"a-very-long-program-name"),
            b"a-very-long-pro"
        );
        assert_eq!(process_name(b""), b"berth");
    }

    #[test]
    fn the_sealed_copy_refuses_writes_through_any_descriptor() {
        let fd = sealed_copy_of_self().expect("sealed copy");
        let seals = fcntl(&fd, FcntlArg::F_GET_SEALS).expect("seals");
        let seals = SealFlag::from_bits_truncate(seals);
        assert!(seals.contains(SealFlag::F_SEAL_SEAL | SealFlag::F_SEAL_FUTURE_WRITE));
        assert!(seals.contains(SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW));
        // Reopened by path, as /proc/PID/exe would be from inside a container.
        let mut reopened = std::fs::OpenOptions::new()
            .write(true)
            .open(exec_path(&fd))
            .expect("reopen");
        let err = reopened
            .write_all(b"x")
            .expect_err("write to a sealed binary");
        assert_eq!(err.raw_os_error(), Some(libc::EPERM));
        let err = reopened.set_len(1).expect_err("truncate a sealed binary");
        assert_eq!(err.raw_os_error(), Some(libc::EPERM));
    }
}
