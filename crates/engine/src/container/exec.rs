//! `exec`: a new process in a running container, in its namespaces and cgroups, with the
//! same privileges as the container's own process.
//!
//! A joiner (setns into ipc, uts, net, pid and mnt) forks the process proper inside the
//! container's pid namespace and its v2 cgroup; the process enters the container's v1
//! cgroups and its cgroup namespace itself before anything else (see `cgroups::entry`:
//! neither waits on the kernel). The joiner must run from a binary nothing in
//! the container can write through (see `runtime::sealed`): the CLI asks the container's
//! monitor to fork it when the monitor runs this very binary (see `exec_request`), so
//! berth starts once; otherwise (and in the monitor's own health probes) the caller forks
//! it and must already run sealed.
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

use super::exec_request::{self, Body, Descriptors, ExecProcess};
use super::monitor::open_dir;
use super::record::{ContainerRecord, Status};
use super::runtime::cgroups::entry::{Entry, Forked};
use super::runtime::cgroups::Cgroup;
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

/// The joiner's first word on the sync socket when the container's monitor forked it:
/// it took the request (a socket that ends without it was never taken).
const TAKEN_TAG: &[u8] = b"\x02taken";

/// How the streams of the exec'd process are set up: from [`ExecOptions`] or a request.
#[derive(Debug, Clone, Copy)]
struct Shape {
    tty: bool,
    interactive: bool,
    detach: bool,
}

impl Shape {
    fn stdio(self) -> init::ExecStdio {
        if self.tty {
            init::ExecStdio::Terminal
        } else if self.detach {
            init::ExecStdio::Null
        } else {
            init::ExecStdio::Pipes {
                stdin: self.interactive,
            }
        }
    }
}

impl Engine {
    /// Readies this process to start [`Engine::exec`] in a container: nothing to do when
    /// the container's monitor runs this very binary (it forks the joiner) or this process
    /// already runs sealed; otherwise replaces this process with itself run from a view of
    /// berth nothing can write through (CVE-2019-5736), and returns only on failure.
    /// Returns the container's record, read once, for [`Engine::exec_record`].
    pub fn ready_for_exec(&self, name_or_id: &str) -> Result<ContainerRecord> {
        let record = self.container(name_or_id)?;
        // A container that is not running is [`Engine::exec_record`]'s to report.
        let needs_own_view = !sealed::running_sealed()
            && record.state.status == Status::Running
            && serving_monitor(&record).is_none();
        if !needs_own_view {
            return Ok(record);
        }
        match sealed::reexec_sealed()? {}
    }

    /// Starts a command in a running container. Its standard streams are pipes whose other
    /// ends the session carries, or, for `tty`, a new terminal whose master it carries.
    /// A caller that does not run sealed needs the container's monitor to run this very
    /// binary (see [`Engine::ready_for_exec`]).
    pub fn exec(&self, name_or_id: &str, opts: &ExecOptions) -> Result<ExecSession> {
        self.exec_record(self.container(name_or_id)?, opts)
    }

    /// [`Engine::exec`] in the container of `record`, as [`Engine::ready_for_exec`]
    /// returned it.
    pub fn exec_record(&self, record: ContainerRecord, opts: &ExecOptions) -> Result<ExecSession> {
        if record.state.is_paused() {
            return Err(Error::Conflict(format!(
                "container {} is paused, unpause the container before exec",
                record.id
            )));
        }
        let name = record.name.clone();
        let not_running = || Error::Conflict(format!("container {name} is not running"));
        let init_handle = match (record.state.status, record.state.init) {
            (Status::Running, Some(init)) => init,
            _ => return Err(not_running()),
        };
        let namespaces: Vec<OwnedFd> = NAMESPACES
            .iter()
            .map(|(name, _)| {
                let path = format!("/proc/{}/ns/{name}", init_handle.pid);
                open(
                    path.as_str(),
                    OFlag::O_RDONLY | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )
                .context(|| format!("opening {path}"))
            })
            .collect::<Result<_>>()?;
        // Opened before the check: a recycled PID can't slip in between.
        if !init_handle.is_alive() {
            return Err(not_running());
        }
        // Who forks the joiner: this process when it runs sealed, else the monitor.
        let local = sealed::running_sealed();
        if !local && serving_monitor(&record).is_none() {
            return Err(Error::Runtime(format!(
                "exec into container {} needs berth to run from a sealed binary, or the \
                 container's monitor to run this very binary",
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
        let mut process = spec
            .process()
            .clone()
            .ok_or_else(|| Error::Runtime("the spec has no process".into()))?;
        process.set_args(Some(opts.cmd.clone()));
        process.set_env(Some(spec::process_env(&record, &user.home, opts.tty)));
        if let Some(dir) = &opts.working_dir {
            process.set_cwd(dir.into());
        }
        // Opened here: the joiner leaves the host's mount namespace before the process
        // enters them.
        let cgroups = Cgroup::of(&record).entry()?.into_fds();
        let (stdio, ends) = exec_stdio(opts)?;

        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .context(|| "creating the exec socket".into())?;
        let shape = Shape {
            tty: opts.tty,
            interactive: opts.interactive,
            detach: opts.detach,
        };
        let ending = if local {
            // SAFETY: the caller is single-threaded until here; the child runs only this
            // module.
            let joiner = match unsafe { fork() }.context(|| "forking".into())? {
                ForkResult::Child => {
                    drop(ours);
                    let request = Descriptors {
                        sync: theirs,
                        exit: None,
                        stdio,
                        namespaces,
                        cgroups,
                    };
                    let code = join_and_run(request, &process, seccomp.as_ref(), shape);
                    // SAFETY: leave without running the parent's destructors or atexit
                    // handlers.
                    unsafe { libc::_exit(code) }
                }
                ForkResult::Parent { child } => child,
            };
            drop((theirs, namespaces, stdio, cgroups));
            match pidfd(joiner) {
                Ok(exited) => Ending::Joiner {
                    pid: joiner,
                    exited,
                },
                Err(e) => {
                    wait_code(joiner);
                    return Err(e);
                }
            }
        } else {
            let body = Body {
                process: ExecProcess::of(&process),
                seccomp,
                tty: opts.tty,
                interactive: opts.interactive,
                detach: opts.detach,
            };
            exec_request::send_body(&ours, &body)
                .context(|| "sending the exec to the container's monitor".into())?;
            let (exit_r, exit_w) = pipe2(OFlag::O_CLOEXEC).context(|| "creating a pipe".into())?;
            let request = Descriptors {
                sync: theirs,
                exit: Some(exit_w),
                stdio,
                namespaces,
                cgroups,
            };
            let dir = open_dir(&self.container_dir(&record.id))?;
            exec_request::send(&dir, &request).map_err(|e| match e.kind() {
                // No socket, or no monitor behind it: the container ended meanwhile.
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                    not_running()
                }
                _ => Error::Io {
                    context: format!("asking the monitor of {} to exec", record.name),
                    err: e,
                },
            })?;
            drop(request);
            // The monitor drops a request it can't take, and with it the socket's other
            // end: the joiner's first word tells it was taken.
            let mut word = [0u8; 16];
            match nix::sys::socket::recv(
                ours.as_raw_fd(),
                &mut word,
                nix::sys::socket::MsgFlags::empty(),
            ) {
                Ok(n) if &word[..n] == TAKEN_TAG => {}
                _ => {
                    return Err(Error::StartFailed {
                        code: 125,
                        message: format!(
                            "the monitor of container {} did not start the exec",
                            record.name
                        ),
                    })
                }
            }
            Ending::Reported(exit_r)
        };

        let mut pty = None;
        loop {
            match init::receive(&ours) {
                Ok(None) => break,
                Ok(Some(master)) => pty = Some(master),
                Err((code, message)) => {
                    ending.wait();
                    return Err(Error::StartFailed { code, message });
                }
            }
        }
        let command = opts.cmd.join(" ");
        self.record_event(&container_event(&record, &format!("exec_start: {command}")));
        let die = (!opts.detach).then(|| (self.clone(), container_event(&record, "exec_die")));
        Ok(ExecSession {
            pty,
            stdin: ends.stdin,
            stdout: ends.stdout,
            stderr: ends.stderr,
            ending,
            die,
        })
    }
}

/// The container's monitor when it can fork an exec's joiner: alive, and running this
/// very binary (so the request's layout is its own) from a view nothing can write
/// through.
fn serving_monitor(record: &ContainerRecord) -> Option<i32> {
    let monitor = record.state.monitor?;
    // Opened before the check: a recycled PID can't slip in between.
    let exe = sealed::same_binary_run_by(monitor.pid)?;
    let alive = monitor.is_alive();
    drop(exe);
    alive.then_some(monitor.pid)
}

/// Called by the container's monitor for each request on its exec socket: forks the
/// joiner, which reads what to run from the CLI and reports to it directly. The
/// monitor's reaping collects the joiner when it ends.
pub(crate) fn fork_requested_joiner(request: Descriptors) {
    // SAFETY: the monitor is single-threaded; the child runs only the joiner, then exits.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            let code = requested_joiner(request);
            // SAFETY: leave without running the monitor's destructors or atexit handlers.
            unsafe { libc::_exit(code) }
        }
        // The request's descriptors close here: the CLI sees its socket end untaken.
        Ok(ForkResult::Parent { .. }) | Err(_) => {}
    }
}

/// The joiner the monitor forked: reads the body, says it took the request, and goes on
/// as any joiner.
fn requested_joiner(request: Descriptors) -> i32 {
    // Before anything else; `join_and_run` sheds the monitor's descriptors.
    if fds::make_non_dumpable().is_err() {
        return 125;
    }
    let body = match exec_request::read_body(&request.sync) {
        Ok(body) => body,
        Err(_) => return 125,
    };
    let raw_sync = request.sync.as_raw_fd();
    if nix::sys::socket::send(raw_sync, TAKEN_TAG, nix::sys::socket::MsgFlags::empty()).is_err() {
        return 125;
    }
    let shape = Shape {
        tty: body.tty,
        interactive: body.interactive,
        detach: body.detach,
    };
    join_and_run(
        request,
        &body.process.to_process(),
        body.seccomp.as_ref(),
        shape,
    )
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
    ending: Ending,
    /// Where and what to record when the process exits (not for detached ones, whose end
    /// nobody waits for).
    die: Option<(Engine, Event)>,
}

/// How the caller learns that the process ended, and its exit code.
enum Ending {
    /// The caller's own joiner, to wait for; `exited` is its pidfd.
    Joiner { pid: Pid, exited: OwnedFd },
    /// The monitor's joiner writes the code on this pipe as it ends.
    Reported(OwnedFd),
}

impl Ending {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Ending::Joiner { exited, .. } => exited.as_fd(),
            Ending::Reported(pipe) => pipe.as_fd(),
        }
    }

    fn wait(&self) -> i32 {
        match self {
            Ending::Joiner { pid, .. } => wait_code(*pid),
            Ending::Reported(pipe) => read_code(pipe),
        }
    }
}

impl ExecSession {
    /// Readable once the process has exited, for the caller's poll loop.
    pub fn exited(&self) -> BorrowedFd<'_> {
        self.ending.fd()
    }

    /// The joiner, the process's parent on the host, when it is the caller's child (see
    /// [`super::health`]).
    pub(crate) fn joiner(&self) -> Option<Pid> {
        match self.ending {
            Ending::Joiner { pid, .. } => Some(pid),
            Ending::Reported(_) => None,
        }
    }

    /// Waits for the process and returns its exit code (at once, 0, when detached).
    pub fn wait(self) -> i32 {
        let code = self.ending.wait();
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

/// The exit code a monitor's joiner wrote; 255 if it ended without one (killed).
fn read_code(pipe: &OwnedFd) -> i32 {
    let mut code = [0u8; 4];
    let mut got = 0;
    while got < code.len() {
        match nix::unistd::read(pipe, &mut code[got..]) {
            Ok(0) => return 255,
            Ok(n) => got += n,
            Err(nix::Error::EINTR) => continue,
            Err(_) => return 255,
        }
    }
    i32::from_le_bytes(code)
}

/// In the joiner: shed everything of the caller's, enter the container, fork the process
/// proper into its cgroups, wait for it. Returns the exit code, also written on the
/// request's `exit` pipe if it has one.
fn join_and_run(
    request: Descriptors,
    process: &oci_spec::runtime::Process,
    seccomp: Option<&oci_spec::runtime::LinuxSeccomp>,
    shape: Shape,
) -> i32 {
    let Descriptors {
        sync,
        exit,
        stdio,
        namespaces,
        cgroups,
    } = request;
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
    let cgroups_count = cgroups.len();
    let has_exit = exit.is_some();
    // The process keeps 3 (see `init::run_exec`) and closes everything above.
    let others = [sync]
        .into_iter()
        .chain(exit)
        .chain(cgroups)
        .chain(namespaces)
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
    let Some(sync) = kept.next() else {
        return 125;
    };
    let exit = if has_exit { kept.next() } else { None };
    let cgroups: Vec<OwnedFd> = kept.by_ref().take(cgroups_count).collect();
    let namespaces = kept.zip(NAMESPACES.iter().map(|(_, flag)| *flag));
    let code = enter_and_run(sync, cgroups, namespaces, process, seccomp, shape);
    if let Some(exit) = exit {
        // Nobody may read it any more (the caller was killed): nothing to tell.
        let _ = nix::unistd::write(&exit, &code.to_le_bytes());
    }
    code
}

/// The joiner, holding only what it needs: joins the namespaces but the cgroup one, forks
/// the process into the container's cgroups (which then joins that namespace itself, see
/// `init::run_exec`) and waits for it (not when detached).
fn enter_and_run(
    sync: OwnedFd,
    cgroups: Vec<OwnedFd>,
    namespaces: impl Iterator<Item = (OwnedFd, CloneFlags)>,
    process: &oci_spec::runtime::Process,
    seccomp: Option<&oci_spec::runtime::LinuxSeccomp>,
    shape: Shape,
) -> i32 {
    let raw_sync = sync.as_raw_fd();
    let report = |code: u8, message: String| {
        let mut payload = vec![init::ERROR_TAG, code];
        payload.extend_from_slice(message.as_bytes());
        let _ = nix::sys::socket::send(raw_sync, &payload, nix::sys::socket::MsgFlags::empty());
        code as i32
    };
    let entry = match Entry::from_fds(cgroups) {
        Ok(entry) => entry,
        Err(e) => return report(125, format!("reading the container's cgroups: {e}")),
    };
    // Joined by the process, after it is made in the cgroup from the host's cgroup
    // namespace: a v2 hierarchy mounted with nsdelegate takes a process only from one
    // whose namespace holds both cgroups.
    let mut cgroup_namespace = None;
    for (fd, flag) in namespaces {
        if flag == CloneFlags::CLONE_NEWCGROUP {
            cgroup_namespace = Some(fd);
            continue;
        }
        if let Err(e) = setns(fd.as_fd(), flag) {
            return report(125, format!("joining the container's namespaces: {e}"));
        }
    }
    // SAFETY: single-threaded child process.
    match unsafe { entry.fork(0) } {
        Ok(Forked::Child(tasks)) => init::run_exec(
            process,
            seccomp,
            (tasks, cgroup_namespace, sync),
            shape.stdio(),
        ),
        Ok(Forked::Parent(child)) => {
            drop((sync, cgroup_namespace));
            if shape.detach {
                return 0;
            }
            wait_code(Pid::from_raw(child))
        }
        Err(e) => report(125, format!("forking in the container: {e}")),
    }
}
