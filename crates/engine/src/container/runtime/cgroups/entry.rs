//! A new process's way into a container's cgroups without the kernel's wait.
//!
//! Moving a process by PID (a write to `cgroup.procs`) takes the kernel's global
//! `cgroup_threadgroup_rwsem` for writing, and the first writer after a quiet spell waits
//! out an RCU grace period: 5-15 ms on an idle machine, the longest step of a container's
//! start. Two moves skip that lock:
//! - in a v1 hierarchy, a thread writing `0` to `tasks` moves itself alone, which needs
//!   no lock on its thread group (`cgroup_procs_write_start`): 0.02 ms. The process is
//!   single-threaded when it does, so itself alone is all of it;
//! - in the v2 hierarchy, which takes a thread only within its own domain, the process is
//!   made in the cgroup by `clone3(CLONE_INTO_CGROUP)` instead of moved there.

use std::fs;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use super::{Cgroup, Hierarchy};
use crate::error::{Context, Result};

/// The container's cgroups, open before the process that enters them is made.
#[derive(Default)]
pub(crate) struct Entry {
    /// Each v1 hierarchy's `tasks` file.
    tasks: Vec<fs::File>,
    /// The v2 directory, for `CLONE_INTO_CGROUP`.
    unified: Option<OwnedFd>,
}

/// Which side of [`Entry::fork`] this is.
pub(crate) enum Forked {
    /// The new process: in the v2 cgroup already, it enters the v1 ones with
    /// [`Tasks::enter`] before anything of the container's runs.
    Child(Tasks),
    Parent(libc::pid_t),
}

/// The v1 `tasks` files, for the process that enters them.
pub(crate) struct Tasks(Vec<fs::File>);

impl Cgroup {
    /// Opens the container's cgroups for a process about to be made (see [`Entry`]).
    pub(crate) fn entry(&self) -> Result<Entry> {
        let mut entry = Entry::default();
        for (hierarchy, dir) in &self.dirs {
            match hierarchy {
                Hierarchy::V1 { .. } => {
                    let path = dir.join("tasks");
                    let file = fs::OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .context(|| format!("opening {}", path.display()))?;
                    entry.tasks.push(file);
                }
                Hierarchy::V2 { .. } => {
                    // CLONE_INTO_CGROUP takes a real descriptor of the directory, not O_PATH.
                    let fd = nix::fcntl::open(
                        dir,
                        nix::fcntl::OFlag::O_RDONLY
                            | nix::fcntl::OFlag::O_DIRECTORY
                            | nix::fcntl::OFlag::O_CLOEXEC,
                        nix::sys::stat::Mode::empty(),
                    )
                    .context(|| format!("opening {}", dir.display()))?;
                    entry.unified = Some(fd);
                }
            }
        }
        Ok(entry)
    }
}

impl Entry {
    /// The descriptors, to hand on to another process (an `exec` request to the monitor).
    pub(crate) fn into_fds(self) -> Vec<OwnedFd> {
        self.tasks
            .into_iter()
            .map(OwnedFd::from)
            .chain(self.unified)
            .collect()
    }

    /// The entry [`Entry::into_fds`] handed on: the directory is the v2 cgroup, each file
    /// a v1 `tasks`.
    pub(crate) fn from_fds(fds: Vec<OwnedFd>) -> std::io::Result<Entry> {
        let mut entry = Entry::default();
        for fd in fds {
            let kind = nix::sys::stat::fstat(&fd)?.st_mode & libc::S_IFMT;
            match kind {
                libc::S_IFDIR if entry.unified.is_none() => entry.unified = Some(fd),
                libc::S_IFREG => entry.tasks.push(fs::File::from(fd)),
                _ => return Err(std::io::ErrorKind::InvalidData.into()),
            }
        }
        Ok(entry)
    }

    /// Forks (no new stack: the child goes on as after `fork`) with `flags`, the child
    /// made in the v2 cgroup. A kernel without `clone3` or `CLONE_INTO_CGROUP` (before
    /// 5.7) gets a plain fork and the child moved there by PID, with the kernel's wait.
    ///
    /// # Safety
    /// As `fork`: the caller must be single-threaded, or the child may only do what is
    /// async-signal-safe.
    pub(crate) unsafe fn fork(self, flags: libc::c_int) -> std::io::Result<Forked> {
        let Entry { tasks, unified } = self;
        let pid = match &unified {
            // SAFETY: as this function's.
            Some(dir) => match unsafe { clone3_into(flags, dir.as_fd()) } {
                Err(e) if too_old(&e) => {
                    // SAFETY: as this function's.
                    let pid = unsafe { clone(flags) }?;
                    if pid > 0 {
                        if let Err(e) = move_by_pid(dir.as_fd(), pid) {
                            kill_and_reap(pid);
                            return Err(e);
                        }
                    }
                    pid
                }
                made => made?,
            },
            // SAFETY: as this function's.
            None => unsafe { clone(flags) }?,
        };
        Ok(match pid {
            0 => Forked::Child(Tasks(tasks)),
            pid => Forked::Parent(pid),
        })
    }
}

impl Tasks {
    /// Moves the calling thread into every v1 cgroup, and closes the files: nothing of
    /// the host's reaches what runs next. The caller must be the process's only thread.
    pub(crate) fn enter(self) -> std::io::Result<()> {
        for mut file in self.0 {
            file.write_all(b"0")?;
        }
        Ok(())
    }
}

/// `clone3` with `CLONE_INTO_CGROUP` and no stack of its own.
///
/// # Safety
/// As [`Entry::fork`].
unsafe fn clone3_into(flags: libc::c_int, cgroup: BorrowedFd) -> std::io::Result<libc::pid_t> {
    // The kernel's `struct clone_args` up to `cgroup` (CLONE_ARGS_SIZE_VER2).
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
    const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
    let args = CloneArgs {
        flags: flags as u32 as u64 | CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: cgroup.as_raw_fd() as u64,
        ..CloneArgs::default()
    };
    // SAFETY: `args` is a complete clone_args of the size given; without a stack the
    // child returns here on a copy of the caller's, as after fork.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    if pid < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(pid as libc::pid_t)
}

/// `clone` with `flags` and no stack of its own: a fork into new namespaces.
///
/// # Safety
/// As [`Entry::fork`].
unsafe fn clone(flags: libc::c_int) -> std::io::Result<libc::pid_t> {
    // SAFETY: without a stack the child returns here on a copy of the caller's.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (flags | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    if pid < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(pid as libc::pid_t)
}

/// Whether `clone3` failed for want of `CLONE_INTO_CGROUP` (before Linux 5.7) or of
/// `clone3` itself (before 5.3, or a seccomp filter that answers ENOSYS for it).
fn too_old(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOSYS | libc::E2BIG | libc::EINVAL)
    )
}

/// Moves process `pid` into the v2 cgroup `dir` by PID.
fn move_by_pid(dir: BorrowedFd, pid: libc::pid_t) -> std::io::Result<()> {
    let procs = nix::fcntl::openat(
        dir,
        "cgroup.procs",
        nix::fcntl::OFlag::O_WRONLY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )?;
    fs::File::from(procs).write_all(pid.to_string().as_bytes())
}

fn kill_and_reap(pid: libc::pid_t) {
    let pid = nix::unistd::Pid::from_raw(pid);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    let _ = nix::sys::wait::waitpid(pid, None);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::record::Resources;
    use crate::ids::ContainerId;
    use nix::fcntl::OFlag;

    /// A fresh cgroup for a container of its own, None (the test skipped) without root
    /// or a cgroup hierarchy.
    fn container_cgroup() -> Option<(ContainerId, Cgroup)> {
        if !nix::unistd::geteuid().is_root() || super::super::mounted_hierarchies().is_err() {
            eprintln!("skipped: needs root and a cgroup hierarchy");
            return None;
        }
        let id = ContainerId::random();
        let cgroup = Cgroup::create(id.as_str(), &Resources::default(), &[]).unwrap();
        Some((id, cgroup))
    }

    /// Makes a process through `entry`, lets it enter, and returns its /proc/PID/cgroup
    /// as read once it has.
    fn cgroups_of_a_process_made_through(entry: Entry) -> String {
        let (ready_r, ready_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).unwrap();
        let (done_r, done_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).unwrap();
        // SAFETY: the child only writes, reads and exits (the test runner has threads).
        match unsafe { entry.fork(0) }.unwrap() {
            Forked::Child(tasks) => {
                let said: &[u8] = if tasks.enter().is_ok() { b"1" } else { b"0" };
                let _ = nix::unistd::write(&ready_w, said);
                // Told by a byte, not by end-of-file: a process another test forks
                // meanwhile may hold the pipe's write end too.
                let _ = nix::unistd::read(&done_r, &mut [0u8; 1]);
                // SAFETY: leaves without running anything of the parent's.
                unsafe { libc::_exit(0) }
            }
            Forked::Parent(pid) => {
                drop((ready_w, done_r));
                let mut said = [0u8; 1];
                nix::unistd::read(&ready_r, &mut said).unwrap();
                let listed = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
                nix::unistd::write(&done_w, b"1").unwrap();
                nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None).unwrap();
                assert_eq!(&said, b"1", "the process could not enter its v1 cgroups");
                listed
            }
        }
    }

    /// `listed` (a /proc/PID/cgroup) names container `id`'s cgroup in each of its
    /// `hierarchies`.
    fn assert_in(hierarchies: usize, id: &ContainerId, listed: &str) {
        let path = crate::container::cgroup_parent::container_path(None, id.as_str());
        let suffix = format!(":/{}", path.trim_start_matches('/'));
        let lines = listed.lines().filter(|l| l.ends_with(&suffix)).count();
        assert_eq!(lines, hierarchies, "{suffix} in {listed}");
    }

    #[test]
    fn a_process_made_through_the_entry_is_in_every_cgroup_of_the_container() {
        let Some((id, mut cgroup)) = container_cgroup() else {
            return;
        };
        let listed = cgroups_of_a_process_made_through(cgroup.entry().unwrap());
        // Removed before anything is asserted, so a failure leaves no cgroup behind.
        let hierarchies = cgroup.dirs.len();
        cgroup.remove().unwrap();
        assert_in(hierarchies, &id, &listed);
    }

    /// A kernel without `clone3` (or one that refuses it): the process is forked and moved
    /// into the v2 cgroup by PID, and still enters its v1 ones itself.
    #[test]
    fn without_clone3_the_process_is_moved_into_its_cgroups_all_the_same() {
        let Some((id, mut cgroup)) = container_cgroup() else {
            return;
        };
        let entry = cgroup.entry().unwrap();
        // A filter of this thread's alone (and its children's): clone3 answers ENOSYS.
        let listed = std::thread::spawn(move || {
            let filter = seccompiler::SeccompFilter::new(
                [(libc::SYS_clone3, vec![])].into_iter().collect(),
                seccompiler::SeccompAction::Allow,
                seccompiler::SeccompAction::Errno(libc::ENOSYS as u32),
                std::env::consts::ARCH.try_into().unwrap(),
            )
            .unwrap();
            let program: seccompiler::BpfProgram = filter.try_into().unwrap();
            seccompiler::apply_filter(&program).unwrap();
            cgroups_of_a_process_made_through(entry)
        })
        .join();
        let hierarchies = cgroup.dirs.len();
        cgroup.remove().unwrap();
        assert_in(hierarchies, &id, &listed.unwrap());
    }
}
