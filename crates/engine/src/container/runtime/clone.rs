//! The clone that makes a container's init: a copy of the caller as fork makes one, in new
//! namespaces, and born in the container's v2 cgroup where there is one
//! (`CLONE_INTO_CGROUP`): a move after the fork would take the kernel's global lock for
//! cgroup moves, whose first writer waits out an RCU grace period (see
//! `cgroups::Joining`).

use std::os::fd::{AsRawFd, BorrowedFd};

use nix::errno::Errno;

/// clone3(2)'s flag (Linux 5.7): the child starts in the cgroup `cgroup` names (libc's
/// constant is an int too narrow for it).
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// clone3(2)'s `struct clone_args` up to its `cgroup` field (`CLONE_ARGS_SIZE_VER2`).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// Which side of the clone the caller is on.
pub(crate) enum Cloned {
    Child,
    /// `in_cgroup`: the child was born in the v2 cgroup asked for; false when none was
    /// asked for or this kernel can't (clone3 before Linux 5.7, or refused by a seccomp
    /// filter): the caller then moves it.
    Parent {
        pid: i32,
        in_cgroup: bool,
    },
}

/// Clones the calling process as fork does (the child goes on with a copy of the stack)
/// with `namespaces` (`CLONE_NEW*` flags); the child's exit is signalled with SIGCHLD.
///
/// # Safety
/// As fork's: the child of a multi-threaded caller may only call async-signal-safe
/// functions.
pub(crate) unsafe fn clone_process(
    namespaces: libc::c_int,
    cgroup: Option<BorrowedFd<'_>>,
) -> std::io::Result<Cloned> {
    if let Some(dir) = cgroup {
        let args = CloneArgs {
            flags: namespaces as u64 | CLONE_INTO_CGROUP,
            exit_signal: libc::SIGCHLD as u64,
            cgroup: dir.as_raw_fd() as u64,
            ..CloneArgs::default()
        };
        // SAFETY: clone3 reads `args` (its size passed with it); no stack is given, so the
        // child runs on a copy of this one, as after fork (the caller's contract).
        let pid = unsafe {
            libc::syscall(
                libc::SYS_clone3,
                &args as *const CloneArgs,
                std::mem::size_of::<CloneArgs>(),
            )
        };
        match pid {
            0 => return Ok(Cloned::Child),
            pid if pid > 0 => {
                return Ok(Cloned::Parent {
                    pid: pid as i32,
                    in_cgroup: true,
                })
            }
            // No clone3 (ENOSYS, or a filter's), or one without CLONE_INTO_CGROUP (E2BIG
            // for the longer struct, EINVAL for the flag): the plain clone below.
            _ if matches!(Errno::last(), Errno::ENOSYS | Errno::E2BIG | Errno::EINVAL) => {}
            _ => return Err(std::io::Error::last_os_error()),
        }
    }
    // SAFETY: a raw clone with no new stack behaves like fork (the caller's contract).
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (namespaces | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    match pid {
        0 => Ok(Cloned::Child),
        pid if pid > 0 => Ok(Cloned::Parent {
            pid: pid as i32,
            in_cgroup: false,
        }),
        _ => Err(std::io::Error::last_os_error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    /// Where a v2 hierarchy is mounted (a hybrid host's `unified`, or the whole tree).
    fn cgroup2_mount() -> Option<std::path::PathBuf> {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
        mountinfo.lines().find_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            right
                .starts_with("cgroup2 ")
                .then(|| left.split(' ').nth(4).map(std::path::PathBuf::from))?
        })
    }

    /// The child starts in the v2 cgroup asked for: its /proc/self/cgroup says so before
    /// it does anything else (read with raw calls: the test runner has other threads).
    #[test]
    fn the_child_is_born_in_the_v2_cgroup() {
        let Some(mount) = cgroup2_mount() else {
            eprintln!("skipped: no cgroup v2 hierarchy mounted");
            return;
        };
        let name = format!("berth-clone-test-{}", std::process::id());
        let dir = mount.join(&name);
        std::fs::create_dir(&dir).expect("a v2 cgroup (tests run as root)");
        let fd = nix::fcntl::open(
            &dir,
            nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY,
            nix::sys::stat::Mode::empty(),
        )
        .expect("open the cgroup");
        let expected = format!("0::/{name}\n");
        let proc_path = c"/proc/self/cgroup";
        // SAFETY: the child only makes raw system calls on memory it already has.
        let cloned = unsafe { clone_process(0, Some(fd.as_fd())) }.expect("clone");
        let (pid, in_cgroup) = match cloned {
            Cloned::Child => {
                let mut buf = [0u8; 4096];
                // SAFETY: raw calls on a buffer of our own; _exit ends the child.
                unsafe {
                    let file = libc::open(proc_path.as_ptr(), libc::O_RDONLY);
                    let n = libc::read(file, buf.as_mut_ptr().cast(), buf.len());
                    let read = &buf[..n.max(0) as usize];
                    let found = read
                        .split_inclusive(|b| *b == b'\n')
                        .any(|line| line == expected.as_bytes());
                    libc::_exit(if found { 0 } else { 1 });
                }
            }
            Cloned::Parent { pid, in_cgroup } => (pid, in_cgroup),
        };
        let status = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
        drop(fd);
        let _ = std::fs::remove_dir(&dir);
        assert!(in_cgroup, "this kernel has CLONE_INTO_CGROUP");
        assert!(
            matches!(status, Ok(nix::sys::wait::WaitStatus::Exited(_, 0))),
            "the child was not in {name}: {status:?}"
        );
    }

    #[test]
    fn clone_args_is_the_kernels_second_size() {
        // CLONE_ARGS_SIZE_VER2: the struct with `cgroup`, what Linux 5.7 reads.
        assert_eq!(std::mem::size_of::<CloneArgs>(), 88);
    }
}
