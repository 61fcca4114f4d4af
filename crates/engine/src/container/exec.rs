//! `exec`: a new process in a running container, in its namespaces and cgroups, with the
//! same privileges as the container's own process.
//!
//! The caller forks a joiner (setns into ipc, uts, net, cgroup, pid and mnt), which forks
//! the process proper inside the container's pid namespace and moves it into the
//! container's cgroups while it sets itself up: the move waits for an RCU grace period
//! of the kernel's, the longest step of an exec, and the process only execs once it is
//! in. The caller must already run from a sealed copy of berth (see `runtime::sealed`).
//!
//! Nothing of the caller's reaches the container: before joining, the joiner is made
//! non-dumpable, leaves the caller's session, and closes every descriptor but the
//! namespaces, the sync socket and the process's standard streams, which are pipes or a
//! terminal berth made (as Docker does), never the caller's own.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::fcntl::{open, OFlag};
use nix::sched::{setns, CloneFlags};
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use nix::sys::stat::Mode;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, pipe2, ForkResult, Pid};

use super::record::Status;
use super::runtime::cgroups::{self, Cgroup};
use super::runtime::{fds, init, sealed};
use super::{spec, user};
use crate::error::{Context, Error, Result};
use crate::events::{container_event, Event};
use crate::Engine;

#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub cmd: Vec<String>,
    /// `KEY=VALUE` entries over the container's environment.
    pub env: Vec<String>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub tty: bool,
    pub interactive: bool,
    pub detach: bool,
}

const NAMESPACES: [(&str, CloneFlags); 6] = [
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ("pid", CloneFlags::CLONE_NEWPID),
    ("mnt", CloneFlags::CLONE_NEWNS),
];

impl Engine {
    /// Replaces this process with itself run from a binary nothing can write through, as
    /// [`Engine::exec`] requires (CVE-2019-5736): the one the container's monitor runs
    /// from when that is this very binary, else a view of its own. The monitor's costs no
    /// mount now, and no unmount (two RCU grace periods) when this process exits. Returns
    /// only on failure.
    pub fn reexec_sealed_for_exec(&self, name_or_id: &str) -> Result<std::convert::Infallible> {
        let monitor = self
            .container(name_or_id)
            .ok()
            .and_then(|r| r.state.monitor);
        // Opened before the check: a recycled PID can't slip in between.
        let exe = monitor.and_then(|monitor| {
            let exe = sealed::same_binary_run_by(monitor.pid)?;
            monitor.is_alive().then_some(exe)
        });
        match exe {
            Some(exe) => sealed::reexec_from(exe),
            None => sealed::reexec_sealed(),
        }
    }

    /// Starts a command in a running container. Its standard streams are pipes whose other
    /// ends the session carries, or, for `tty`, a new terminal whose master it carries.
    pub fn exec(&self, name_or_id: &str, opts: &ExecOptions) -> Result<ExecSession> {
        let record = self.container(name_or_id)?;
        if record.state.is_paused() {
            return Err(Error::Conflict(format!(
                "container {} is paused, unpause the container before exec",
                record.id
            )));
        }
        let init_handle = match (record.state.status, record.state.init) {
            (Status::Running, Some(init)) => init,
            _ => {
                return Err(Error::Conflict(format!(
                    "container {} is not running",
                    record.name
                )));
            }
        };
        let namespaces: Vec<(OwnedFd, CloneFlags)> = NAMESPACES
            .iter()
            .map(|(name, flag)| {
                let path = format!("/proc/{}/ns/{name}", init_handle.pid);
                open(
                    path.as_str(),
                    OFlag::O_RDONLY | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )
                .context(|| format!("opening {path}"))
                .map(|fd| (fd, *flag))
            })
            .collect::<Result<_>>()?;
        // Opened before the check: a recycled PID can't slip in between.
        if !init_handle.is_alive() {
            return Err(Error::Conflict(format!(
                "container {} is not running",
                record.name
            )));
        }

        let mut record = record;
        record.config.env = super::lifecycle::merge_env(&record.config.env, &opts.env);
        let user_spec = opts
            .user
            .clone()
            .unwrap_or_else(|| record.config.user.clone());
        // The container's root as its init sees it; resolution stays inside it.
        let rootfs = std::path::PathBuf::from(format!("/proc/{}/root", init_handle.pid));
        let mut user = user::resolve_user(&rootfs, &user_spec)?;
        user::add_groups(&rootfs, &mut user, &record.config.security.group_add)?;
        let spec = spec::build(
            &record,
            &user,
            &self.container_dir(&record.id),
            self.paths(),
        )?;
        let seccomp = spec.linux().as_ref().and_then(|l| l.seccomp().clone());
        let mut process_spec = spec
            .process()
            .clone()
            .ok_or_else(|| Error::Runtime("the spec has no process".into()))?;
        process_spec.set_args(Some(opts.cmd.clone()));
        process_spec.set_env(Some(spec::process_env(&record, &user.home, opts.tty)));
        if let Some(dir) = &opts.working_dir {
            process_spec.set_cwd(dir.into());
        }
        // Opened here: the joiner leaves the host's mount namespace before it moves the
        // process in.
        let cgroup_procs = Cgroup::of(&record).procs_files()?;
        let (stdio, ends) = exec_stdio(opts)?;
        let cgroup_joined = pipe2(OFlag::O_CLOEXEC).context(|| "creating a pipe".into())?;

        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .context(|| "creating the exec socket".into())?;
        // SAFETY: the CLI is single-threaded until here; the child runs only this module.
        let joiner = match unsafe { fork() }.context(|| "forking".into())? {
            ForkResult::Child => {
                drop(ours);
                let code = join_and_run(
                    cgroup_procs,
                    cgroup_joined,
                    namespaces,
                    &process_spec,
                    seccomp.as_ref(),
                    opts,
                    (stdio, theirs),
                );
                // SAFETY: leave without running the parent's destructors or atexit handlers.
                unsafe { libc::_exit(code) }
            }
            ForkResult::Parent { child } => child,
        };
        drop(theirs);
        drop(namespaces);
        drop(stdio);
        let exited = pidfd(joiner);

        let mut pty = None;
        loop {
            match init::receive(&ours) {
                Ok(None) => break,
                Ok(Some(master)) => pty = Some(master),
                Err((code, message)) => {
                    let _ = waitpid(joiner, None);
                    return Err(Error::StartFailed { code, message });
                }
            }
        }
        let exited = match exited {
            Ok(fd) => fd,
            Err(e) => {
                wait_code(joiner);
                return Err(e);
            }
        };
        let command = opts.cmd.join(" ");
        self.record_event(&container_event(&record, &format!("exec_start: {command}")));
        let die = (!opts.detach).then(|| (self.clone(), container_event(&record, "exec_die")));
        Ok(ExecSession {
            pty,
            stdin: ends.stdin,
            stdout: ends.stdout,
            stderr: ends.stderr,
            joiner,
            exited,
            die,
        })
    }
}

/// The engine's side of the pipes, for the caller to relay.
struct HostEnds {
    stdin: Option<OwnedFd>,
    stdout: Option<OwnedFd>,
    stderr: Option<OwnedFd>,
}

/// The process's side of its standard streams and the engine's ends. The process gets
/// berth's pipes, or (for a terminal, detached, and stdin without `-i`) the host's
/// /dev/null, which only holds the place until the process puts the container's own there.
fn exec_stdio(opts: &ExecOptions) -> Result<([OwnedFd; 3], HostEnds)> {
    let null = || -> Result<OwnedFd> {
        open("/dev/null", OFlag::O_RDWR | OFlag::O_CLOEXEC, Mode::empty())
            .context(|| "opening /dev/null".into())
    };
    let pipe = || pipe2(OFlag::O_CLOEXEC).context(|| "creating a pipe".into());
    if opts.tty || opts.detach {
        let ends = HostEnds {
            stdin: None,
            stdout: None,
            stderr: None,
        };
        return Ok(([null()?, null()?, null()?], ends));
    }
    let (stdin, stdin_end) = if opts.interactive {
        let (r, w) = pipe()?;
        (r, Some(w))
    } else {
        (null()?, None)
    };
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let ends = HostEnds {
        stdin: stdin_end,
        stdout: Some(out_r),
        stderr: Some(err_r),
    };
    Ok(([stdin, out_w, err_w], ends))
}

/// A pidfd of our own child: readable once it exits (it can't be recycled before we reap).
pub(crate) fn pidfd(pid: Pid) -> Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error()).context(|| "opening a pidfd".into());
    }
    // SAFETY: a fresh fd nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// A process started by [`Engine::exec`]. Its standard streams never are the caller's:
/// with `tty` a new terminal of the container's (`pty`, the master), detached the
/// container's /dev/null, otherwise pipes whose other ends are here for the caller to
/// relay (`stdin` only with `interactive`; drop it to send end-of-file).
pub struct ExecSession {
    pub pty: Option<OwnedFd>,
    pub stdin: Option<OwnedFd>,
    pub stdout: Option<OwnedFd>,
    pub stderr: Option<OwnedFd>,
    joiner: Pid,
    exited: OwnedFd,
    /// Where and what to record when the process exits (not for detached ones, whose end
    /// nobody waits for).
    die: Option<(Engine, Event)>,
}

impl ExecSession {
    /// Readable once the process has exited (a pidfd), for the caller's poll loop.
    pub fn exited(&self) -> BorrowedFd<'_> {
        self.exited.as_fd()
    }

    /// The joiner, the process's parent on the host (see [`super::health`]).
    pub(crate) fn joiner(&self) -> Pid {
        self.joiner
    }

    /// Waits for the process and returns its exit code (at once, 0, when detached).
    pub fn wait(self) -> i32 {
        let code = wait_code(self.joiner);
        if let Some((engine, event)) = self.die {
            engine.record_event(&event.with("exitCode", code.to_string()));
        }
        code
    }
}

fn wait_code(pid: Pid) -> i32 {
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return code,
            Ok(WaitStatus::Signaled(_, sig, _)) => return 128 + sig as i32,
            Err(nix::Error::EINTR) => continue,
            Ok(_) => continue,
            Err(_) => return 255,
        }
    }
}

/// In the joiner: shed everything of the caller's, enter the container, fork the process
/// proper, move it into the container's cgroups (`cgroup_procs`) and tell it so through
/// `cgroup_joined`, wait for it.
fn join_and_run(
    cgroup_procs: Vec<std::fs::File>,
    cgroup_joined: (OwnedFd, OwnedFd),
    namespaces: Vec<(OwnedFd, CloneFlags)>,
    process: &oci_spec::runtime::Process,
    seccomp: Option<&oci_spec::runtime::LinuxSeccomp>,
    opts: &ExecOptions,
    (stdio, sync): ([OwnedFd; 3], OwnedFd),
) -> i32 {
    let raw_sync = sync.as_raw_fd();
    let report = |sync: RawFd, code: u8, message: String| {
        let mut payload = vec![init::ERROR_TAG, code];
        payload.extend_from_slice(message.as_bytes());
        let _ = nix::sys::socket::send(sync, &payload, nix::sys::socket::MsgFlags::empty());
        code as i32
    };
    // Before anything of the container can see this process: non-dumpable (no
    // /proc/PID/fd or exe from inside), out of the caller's session and process group, and
    // holding only the streams, the socket and the namespaces (CVE-2024-21626).
    if let Err(e) = fds::make_non_dumpable() {
        return report(
            raw_sync,
            125,
            format!("making the joiner non-dumpable: {e}"),
        );
    }
    let _ = nix::unistd::setsid();
    let (ns_fds, flags): (Vec<OwnedFd>, Vec<CloneFlags>) = namespaces.into_iter().unzip();
    let procs_count = cgroup_procs.len();
    // The process keeps 3 and 4 (see `init::run_exec`) and closes everything above.
    let (joined_r, joined_w) = cgroup_joined;
    let others = [joined_r, sync, joined_w]
        .into_iter()
        .chain(cgroup_procs.into_iter().map(OwnedFd::from))
        .chain(ns_fds)
        .collect();
    let mut kept = match fds::keep_only(stdio, others) {
        Ok(kept) => kept.into_iter(),
        Err(e) => {
            return report(
                raw_sync,
                125,
                format!("closing the caller's descriptors: {e}"),
            )
        }
    };
    let (Some(joined_r), Some(sync), Some(joined_w)) = (kept.next(), kept.next(), kept.next())
    else {
        return 125;
    };
    let cgroup_procs: Vec<std::fs::File> =
        kept.by_ref().take(procs_count).map(Into::into).collect();
    let report = |code: u8, message: String| report(sync.as_raw_fd(), code, message);
    for (fd, flag) in kept.zip(flags) {
        if let Err(e) = setns(fd.as_fd(), flag) {
            return report(125, format!("joining the container's namespaces: {e}"));
        }
    }
    // SAFETY: single-threaded child process.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            // The host's cgroup files are the joiner's to write, not the container's.
            drop(cgroup_procs);
            drop(joined_w);
            let stdio = if opts.tty {
                init::ExecStdio::Terminal
            } else if opts.detach {
                init::ExecStdio::Null
            } else {
                init::ExecStdio::Pipes {
                    stdin: opts.interactive,
                }
            };
            init::run_exec(process, seccomp, (joined_r, sync), stdio)
        }
        Ok(ForkResult::Parent { child }) => {
            drop(joined_r);
            // The process sets itself up meanwhile; it execs once told it is in, and gives
            // up at end-of-file.
            let joined = match cgroups::move_into(&cgroup_procs, child.as_raw()) {
                Ok(()) => nix::unistd::write(&joined_w, b"1")
                    .map(drop)
                    .map_err(|e| format!("starting the process: {e}")),
                Err(e) => Err(format!("joining the container's cgroups: {e}")),
            };
            drop(joined_w);
            if let Err(message) = joined {
                let code = report(125, message);
                let _ = waitpid(child, None);
                return code;
            }
            drop(sync);
            if opts.detach {
                return 0;
            }
            wait_code(child)
        }
        Err(e) => report(125, format!("forking in the container: {e}")),
    }
}
