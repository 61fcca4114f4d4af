//! The per-container monitor, like podman's conmon: the berth binary in a hidden mode,
//! started sealed (see `runtime::sealed`), detached from the CLI that started it. It owns
//! the container's init as its child, writes the container's output to the log, serves its
//! clients (the CLI that started it, and any number of `attach`es), and records the exit
//! code when the container ends.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::time::{Duration, Instant};

use chrono::Utc;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{pipe2, Pid};

use super::clients::{Client, MAX_ATTACHED};
use super::early_mount::{self, EarlyMount};
use super::frames::{write_frame, Kind};
use super::health::{Checker, Health};
use super::logs::{LogWriter, Stream, LOG_FILE};
use super::record::{ContainerRecord, ContainerState, NetworkMode, ProcessHandle, Status};
use super::restart::next_delay;
use super::runtime::cgroups::entry::Forked;
use super::runtime::cgroups::Cgroup;
use super::runtime::init::{self, InitStdio, GO};
use super::spare_netns::SpareNetns;
use super::teardown::Teardown;
use super::{spec, user};
use crate::error::{Context, Error, Result};
use crate::events::container_event;
use crate::faults::crash_point;
use crate::ids::ContainerId;
use crate::network::ports::PortMapping;
use crate::readiness::poll_ready;
use crate::state::Durability;
use crate::storage::overlay::{self, OverlayDirs};
use crate::Engine;

/// The namespaces every container gets: pid, mount, uts and ipc; and a network namespace
/// of its own unless it shares the host's.
fn clone_flags(record: &ContainerRecord) -> libc::c_int {
    // `--pid`, `--ipc`, `--uts` may share the host's or another container's.
    let flags = record.config.namespaces.own_flags();
    match record.config.network.mode {
        NetworkMode::Host => flags,
        NetworkMode::None | NetworkMode::Connected => flags | libc::CLONE_NEWNET,
    }
}

/// The verb a monitor is started with (hidden from users).
pub(crate) const MONITOR_VERB: &str = "__monitor";

/// The flag of a monitor started ahead of its container (see `Engine::monitor_ahead`):
/// it waits for a go on its control socket before it reads the record.
const AHEAD_FLAG: &str = "--ahead";

/// The go a monitor started ahead waits for: the container's record is complete.
const AHEAD_GO: u8 = b'g';

/// The arguments after `argv[0]` that start the monitor of container `id` on engine root
/// `root`, the control socket at descriptor `control_fd`, `ahead` of its container's
/// record or not: the one shape [`run_if_invoked`] recognises.
pub(crate) fn monitor_args(
    root: &std::path::Path,
    id: &ContainerId,
    control_fd: RawFd,
    ahead: bool,
) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = vec![
        "--root".into(),
        root.as_os_str().to_owned(),
        MONITOR_VERB.into(),
        id.as_str().into(),
        "--control-fd".into(),
        control_fd.to_string().into(),
    ];
    if ahead {
        args.push(AHEAD_FLAG.into());
    }
    args
}

/// Tells a monitor started ahead that its container's record is complete.
pub(crate) fn send_ahead_go(stream: &mut UnixStream) -> std::io::Result<()> {
    std::io::Write::write_all(stream, &[AHEAD_GO])
}

/// Waits for [`send_ahead_go`], mounting the container's root meanwhile if the starter
/// asks (see `early_mount`), and making a network namespace once there is nothing else
/// to do but wait (see `spare_netns`; a go already sent leaves that to the clone). Some
/// with what it made ahead, or None when the starter went away instead (its create
/// failed, or it was killed) and the monitor has nothing to do.
fn wait_for_ahead_go(
    control: &OwnedFd,
    engine: &Engine,
    id: &ContainerId,
) -> Option<(Option<EarlyMount>, SpareNetns)> {
    let mut premounted = None;
    let mut netns = None;
    let mut tag = [0u8; 1];
    loop {
        if netns.is_none() && !pending(control) {
            netns = Some(SpareNetns::make());
        }
        match nix::unistd::read(control, &mut tag) {
            Ok(1) if tag[0] == AHEAD_GO => {
                return Some((premounted, netns.unwrap_or_else(SpareNetns::none)))
            }
            Ok(1) if tag[0] == early_mount::TAG => {
                let asked = early_mount::receive(control)?;
                if asked.mount(engine, id) {
                    premounted = Some(asked);
                }
            }
            Err(nix::errno::Errno::EINTR) => continue,
            _ => return None,
        }
    }
}

/// Runs the monitor if this process was started as one (`monitor_args`'s exact shape)
/// and returns its exit status; None otherwise. A monitor starts on every container
/// start, and this spares it the whole command line's parse on that path.
pub fn run_if_invoked() -> Option<i32> {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let invocation = parse_monitor_args(&args)?;
    let engine = Engine::open_made(invocation.root.clone());
    let control = control_fd(invocation.control_fd);
    // Started ahead: the process and the engine are ready; the record may not be yet.
    // The mount namespace needs no record: made while the starter finishes the
    // container (a failure is the start's to report, see `Monitor::mount_root`).
    if invocation.ahead {
        let _ = enter_own_mount_namespace();
        // The host's cgroup hierarchies, read once per process, need no record either:
        // read while the starter finishes, not after its go.
        let _ = Cgroup::hierarchies();
        match wait_for_ahead_go(&control, &engine, &invocation.id) {
            Some((premounted, netns)) => {
                return Some(supervise(
                    &engine,
                    &invocation.id,
                    control,
                    Start::Ahead { premounted, netns },
                ))
            }
            None => {
                // The starter went away before its container was made (a failed create,
                // a kill, ctrl-c during a pull): the spare it took as the container's
                // cgroup goes too, as nothing else knows that ID. A record made meanwhile
                // keeps it, for `system check` to find. A root mounted ahead goes with
                // this process's mount namespace.
                if engine.load_record(&invocation.id).is_err() {
                    let _ = Cgroup::existing(invocation.id.as_str()).remove();
                }
                return Some(0);
            }
        }
    }
    Some(supervise(&engine, &invocation.id, control, Start::Plain))
}

/// Whether something waits to be read on `control`.
fn pending(control: &OwnedFd) -> bool {
    let mut fds = [PollFd::new(control.as_fd(), PollFlags::POLLIN)];
    !matches!(
        poll_ready(&mut fds, PollTimeout::ZERO),
        Ok(Some(ready)) if ready.iter().all(PollFlags::is_empty)
    )
}

/// How a monitor was started.
enum Start {
    /// By a start of an existing container.
    Plain,
    /// Ahead of its container's record (`run`), with the root it mounted ahead if any
    /// and the network namespace it made while it waited.
    Ahead {
        premounted: Option<EarlyMount>,
        netns: SpareNetns,
    },
}

/// A monitor's command line, as [`monitor_args`] writes it.
#[derive(Debug, PartialEq)]
struct MonitorInvocation {
    root: std::path::PathBuf,
    id: ContainerId,
    control_fd: RawFd,
    ahead: bool,
}

/// The engine root, container, control descriptor and start of [`monitor_args`]'s
/// shape; None for any other command line.
fn parse_monitor_args(args: &[std::ffi::OsString]) -> Option<MonitorInvocation> {
    let (ahead, args) = match args {
        [rest @ .., flag] if flag == AHEAD_FLAG => (true, rest),
        _ => (false, args),
    };
    let [root_flag, root, verb, id, fd_flag, fd] = args else {
        return None;
    };
    if root_flag != "--root" || verb != MONITOR_VERB || fd_flag != "--control-fd" {
        return None;
    }
    Some(MonitorInvocation {
        root: root.into(),
        id: id.to_str()?.parse().ok()?,
        control_fd: fd.to_str()?.parse().ok()?,
        ahead,
    })
}

/// The monitor's life: starts container `id`'s process, then supervises it. `control` is
/// the socket to the CLI that started it; a monitor started `ahead` of its container's
/// record takes the cgroup its starter made meanwhile. Returns the monitor's own exit
/// status.
fn supervise(engine: &Engine, id: &ContainerId, control: OwnedFd, start: Start) -> i32 {
    // Already detached before its exec (see `runtime::spawn`): nobody's child but the
    // subreaper's, in a session of its own, so no terminal signal of the CLI's reaches it.
    let mut starter = UnixStream::from(control);
    match Monitor::start(engine, id, start) {
        Ok(mut monitor) => {
            let pid = monitor.init_pid.to_string();
            if write_frame(&mut starter, Kind::Started, pid.as_bytes()).is_ok() {
                monitor.clients.extend(Client::new(starter, false).ok());
            }
            // What starting took (the spec, the seccomp filter) is free now: its pages go
            // back a moment later, off the path of a container that ends at once.
            monitor.trim_due = Some(Instant::now() + TRIM_AFTER);
            // Each run of the container's process; a restart policy may ask for another.
            let mut delay = None;
            loop {
                let started = Instant::now();
                let exit = monitor.supervise();
                if !monitor.finish(exit) {
                    break;
                }
                let wait = next_delay(delay, started.elapsed());
                delay = Some(wait);
                match Monitor::restart_after(engine, id, wait) {
                    Some(next) => monitor = next,
                    None => break,
                }
            }
            0
        }
        Err((code, message)) => {
            let mut payload = vec![code];
            payload.extend_from_slice(message.as_bytes());
            let _ = write_frame(&mut starter, Kind::Failed, &payload);
            1
        }
    }
}

struct Monitor {
    engine: Engine,
    record: ContainerRecord,
    init_pid: i32,
    /// Output of the container: one pty master, or stdout and stderr pipes.
    outputs: Vec<(OwnedFd, Stream)>,
    /// Where client input goes: the stdin pipe or the pty master.
    input: Option<OwnedFd>,
    pending_input: Vec<u8>,
    pty: Option<RawFd>,
    log: LogWriter,
    /// The CLI that started the container, if it stays, and every `attach`.
    clients: Vec<Client>,
    /// Where `attach` connects (see [`listen_for_attach`]); None if it could not be made.
    listener: Option<UnixListener>,
    /// Where `exec` asks for a joiner (see [`super::exec_request`]); None if it could not
    /// be made.
    exec_socket: Option<UnixDatagram>,
    sigchld: SignalFd,
    /// The container's network: its published ports, held open until it ends.
    wired: Option<crate::network::sandbox::Wired>,
    /// Its health check's probes, when it has one.
    health: Option<Checker>,
    /// When to give the heap's free pages back (see [`TRIM_AFTER`]); None once done.
    trim_due: Option<Instant>,
}

/// How long after the start the monitor gives back the heap its start-up used: it lives
/// as long as its container, but a container that ends at once should not wait on it.
const TRIM_AFTER: Duration = Duration::from_millis(200);

/// Gives the heap's free pages back to the system.
fn trim_heap() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only releases free heap memory.
    unsafe {
        libc::malloc_trim(0);
    }
}

type StartError = (u8, String);

/// Moves the monitor into a mount namespace of its own, once (see `Monitor::mount_root`).
fn enter_own_mount_namespace() -> Result<()> {
    static ENTERED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if ENTERED.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(());
    }
    overlay::enter_private_mount_namespace()?;
    ENTERED.store(true, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

/// One read of the container's output.
const OUTPUT_BUF: usize = 64 * 1024;
/// The capacity asked for the container's output pipes (the kernel's default is 64 KiB;
/// 1 MiB is the most an unprivileged process may ask, `/proc/sys/fs/pipe-max-size`).
const OUTPUT_PIPE: i32 = 1 << 20;

fn start_error(e: Error) -> StartError {
    (125, e.to_string())
}

impl Monitor {
    fn start(
        engine: &Engine,
        id: &ContainerId,
        start: Start,
    ) -> std::result::Result<Monitor, StartError> {
        let record = engine.load_record(id).map_err(start_error)?;
        // Started ahead, the container's cgroup was made by its starter while this
        // process loaded (see `Engine::start_container_ahead`): it goes if the start
        // fails before it is taken over below.
        let (mut premade, premounted, netns) = match start {
            Start::Ahead { premounted, netns } => (Cgroup::made_for(&record), premounted, netns),
            Start::Plain => (None, None, SpareNetns::none()),
        };
        match Self::mount_root(engine, &record, premounted.as_ref()) {
            Ok(overlay) => Self::start_in(engine, &record, &overlay, premade, netns),
            Err(e) => {
                if let Some(cgroup) = &mut premade {
                    engine.remove_cgroup_reporting(&record, cgroup);
                }
                Err(e)
            }
        }
    }

    /// Mounts the container's root filesystem in a mount namespace of the monitor's own
    /// and copies its volumes' image content up.
    fn mount_root(
        engine: &Engine,
        record: &ContainerRecord,
        premounted: Option<&EarlyMount>,
    ) -> std::result::Result<OverlayDirs, StartError> {
        let id = &record.id;
        let dir = engine.container_dir(id);
        let lower = record
            .chain_ids
            .iter()
            .map(|c| engine.layer_diff_dir(c))
            .collect();
        let overlay = OverlayDirs::in_container_dir(&dir, lower);
        // The overlay lives in a mount namespace of the monitor's own: the container's is
        // copied from it, and the kernel drops the mount when both are gone. So exit needs
        // no unmount (which waits out an RCU grace period), and a monitor that dies leaves
        // no stray mount on the host.
        enter_own_mount_namespace().map_err(start_error)?;
        // A `--rm` container's layer goes with it, and a build step's is kept only by the
        // build (which syncs what it keeps): unmounting it at exit need not flush the
        // engine root's whole filesystem (see `OverlayDirs::mount_with`).
        let durability = if record.config.is_throwaway() {
            Durability::Unsynced
        } else {
            Durability::Synced
        };
        // Mounted ahead with other layers than the record names (never by berth's own
        // starter): mounted again as the record says.
        if premounted.is_some_and(|early| !early.matches(record)) {
            overlay::unmount_if_mounted(&overlay.merged).map_err(start_error)?;
        }
        // A root mounted ahead as the record says is left as it is.
        overlay.mount_with(durability).map_err(start_error)?;
        crash_point("monitor:after-mount");
        engine
            .copy_up_volumes(record, &overlay.merged)
            .map_err(start_error)?;
        Ok(overlay)
    }

    /// Starts the container's process in its cgroup (`premade`, or made here) on its
    /// mounted root, in `netns` if it gets a network namespace of its own.
    fn start_in(
        engine: &Engine,
        record: &ContainerRecord,
        overlay: &OverlayDirs,
        premade: Option<Cgroup>,
        netns: SpareNetns,
    ) -> std::result::Result<Monitor, StartError> {
        let id = &record.id;
        let mut cgroup = match premade {
            Some(cgroup) => cgroup,
            None => {
                let devices = super::devices::allowed_devices(&record.config.security)
                    .map_err(start_error)?;
                Cgroup::create(id.as_str(), &record.config.resources, &devices.rules)
                    .map_err(start_error)?
            }
        };
        crash_point("monitor:after-cgroup");
        match Self::launch(engine, record, overlay, &cgroup, false, netns) {
            Ok(monitor) => Ok(monitor),
            Err((code, message)) => {
                let mut teardown = Teardown::default();
                teardown.step("remove cgroup", id, cgroup.remove());
                record_start_failure(engine, id, code, &message, &mut teardown);
                engine.report_teardown(record, &teardown);
                Err((code, message))
            }
        }
    }

    /// Waits out the backoff of a restart policy (a SIGTERM, the user's `stop` or
    /// `kill`, cuts it short), then runs the container's process again in the same
    /// container: the overlay this monitor holds mounted, the network endpoint it was
    /// given at create. None when the user ended the loop meanwhile or the start failed
    /// (the container is then recorded exited).
    fn restart_after(engine: &Engine, id: &ContainerId, delay: Duration) -> Option<Monitor> {
        wait_unless_stopped(delay);
        let mut go = false;
        let decided = update_record(engine, id, |r| {
            go = r.state.status == Status::Restarting && !r.state.restart_cancelled;
            if !go && r.state.status == Status::Restarting {
                r.state.status = Status::Exited;
                r.state.monitor = None;
            }
        });
        let record = match decided {
            Ok(record) if go => record,
            _ => return None,
        };
        let overlay = engine.overlay_of(&record);
        let started = super::devices::allowed_devices(&record.config.security)
            .and_then(|devices| {
                Cgroup::create(id.as_str(), &record.config.resources, &devices.rules)
            })
            .map_err(start_error)
            .and_then(|mut cgroup| {
                Self::launch(engine, &record, &overlay, &cgroup, true, SpareNetns::none())
                    .inspect_err(|_| engine.remove_cgroup_reporting(&record, &mut cgroup))
            });
        match started {
            Ok(monitor) => Some(monitor),
            Err((code, message)) => {
                let mut teardown = Teardown::default();
                record_start_failure(engine, id, code, &message, &mut teardown);
                engine.report_teardown(&record, &teardown);
                None
            }
        }
    }

    /// Starts the container's process. `again` for a restart policy's run: the restart
    /// count and the user's stop stay as they are; a start of the user's (or of `system
    /// boot`) begins the count anew, as Docker's. A container with a network namespace of
    /// its own gets `spare_netns` when it was made, a new one in the clone otherwise.
    fn launch(
        engine: &Engine,
        record: &ContainerRecord,
        overlay: &OverlayDirs,
        cgroup: &Cgroup,
        again: bool,
        mut spare_netns: SpareNetns,
    ) -> std::result::Result<Monitor, StartError> {
        let dir = engine.container_dir(&record.id);
        let mut user = user::resolve_user(&overlay.merged, &record.config.user)
            .map_err(|e| (125, e.to_string()))?;
        user::add_groups(
            &overlay.merged,
            &mut user,
            &record.config.security.group_add,
        )
        .map_err(|e| (125, e.to_string()))?;
        let spec = spec::build(record, &user, &dir, engine.paths()).map_err(start_error)?;
        // Compiled here, from the engine's cache after the first start with this profile:
        // the compile would otherwise be on init's path before it is ready for the go.
        let seccomp = spec
            .linux()
            .as_ref()
            .and_then(|l| l.seccomp().as_ref())
            .map(|profile| {
                super::seccomp_cache::compiled(profile, &engine.paths().seccomp_cache_dir())
            })
            .transpose()
            .map_err(start_error)?
            .unwrap_or_default();

        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .context(|| "creating the init socket".into())
        .map_err(start_error)?;
        let (stdio, outputs, input) = make_stdio(&record.config).map_err(start_error)?;

        let mut mask = SigSet::empty();
        mask.add(Signal::SIGCHLD);
        mask.thread_block()
            .context(|| "blocking SIGCHLD".into())
            .map_err(start_error)?;
        let sigchld = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC)
            .context(|| "creating a signalfd".into())
            .map_err(start_error)?;

        // Another container's namespaces (`--pid container:X`): joined here, so init
        // inherits them; X must run.
        let mut joined = Vec::new();
        for (kind, donor) in record.config.namespaces.joined() {
            let running = engine
                .container(donor.as_str())
                .ok()
                .filter(|d| d.state.status == Status::Running)
                .and_then(|d| d.state.init);
            let Some(init) = running else {
                return Err((
                    125,
                    format!(
                        "cannot join the {kind} namespace of container {donor}: it is not running"
                    ),
                ));
            };
            joined.push(super::namespaces::join(kind, init.pid).map_err(start_error)?);
        }
        // Opened here, in the host's mount namespace; init enters them itself.
        let entry = cgroup.entry().map_err(start_error)?;
        let cpus = super::runtime::other_cpu::Cpus::allowed().ok();
        let mut flags = clone_flags(record);
        let netns = if flags & libc::CLONE_NEWNET != 0 {
            spare_netns.take()
        } else {
            None
        };
        if netns.is_some() {
            flags &= !libc::CLONE_NEWNET;
        }
        // SAFETY: this process is single-threaded, so the child may allocate and run
        // ordinary Rust code.
        let pid = match unsafe { entry.fork(flags) } {
            Ok(Forked::Parent(pid)) => {
                // Init sets up on another CPU while this process does its part (see
                // `other_cpu`); it takes the whole set back once it has the go.
                if let Some(cpus) = &cpus {
                    cpus.send_elsewhere(pid);
                }
                pid
            }
            Ok(Forked::Child(tasks)) => {
                drop(ours);
                let joins = init::Joins {
                    cgroup_tasks: tasks,
                    cpus,
                    netns,
                };
                init::run(&spec, &seccomp, &overlay.merged, theirs, stdio, joins);
            }
            Err(e) => {
                return Err((125, format!("creating the container's namespaces: {e}")));
            }
        };
        // Only the monitor goes back: init never returns from `init::run`.
        drop(joined);
        drop(theirs);
        // What init does not need is done while it sets up: the bundle's config.json,
        // there for the user's eyes, on a thread; the log, here.
        let bundle = write_bundle_config(spec, dir.join("config.json"));
        drop(stdio);
        // Before the record says it runs (and so before `run -d` returns): an `attach` or
        // `exec` that reads "running" finds the sockets there. Made anew at each run, so a
        // request left for the run before is not taken by this one. While init sets up.
        // Without the attach socket the container runs all the same, only `attach` can't
        // reach it; without the exec socket `exec` starts a joiner of its own.
        let listener = listen_for_attach(engine, &record.id).ok();
        let exec_socket = listen_for_exec(engine, &record.id).ok();
        let fail = |code: u8, message: String| -> StartError {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
            let _ = waitpid(Pid::from_raw(pid), None);
            (code, message)
        };
        let log = match LogWriter::open(&dir.join(LOG_FILE), &record.config.log) {
            Ok(log) => log,
            Err(e) => return Err(fail(125, e.to_string())),
        };
        // Init may have failed meanwhile, taking its cgroup membership and namespaces
        // with it: then its reason is the one to report.
        let fail_unless_init_did = |e: Error| -> StartError {
            let (code, message) = init::reported_failure(&ours).unwrap_or((125, e.to_string()));
            fail(code as u8, message)
        };
        // The record says it runs while init sets up: its fsync'd write (a lock, a rename)
        // overlaps the cgroup move and init's mounts instead of following them. Should the
        // start fail, the failure is recorded after it (see `RunningWrite`). Ports are known
        // once wired: a container that publishes some is recorded after that.
        let mut running = RunningWrite::new(engine, &record.id);
        if record.config.network.ports.is_empty() {
            running.begin(pid, Vec::new(), again);
        }
        // Before init goes on: the container's program starts with its network up.
        let wired = match engine.wire_network(record, pid, netns.as_ref().map(AsFd::as_fd)) {
            Ok(wired) => wired,
            Err(e) => return Err(fail_unless_init_did(e)),
        };
        if !running.begun() {
            let ports = wired
                .as_ref()
                .map_or_else(Vec::new, |w| w.mappings().to_vec());
            running.begin(pid, ports, again);
        }
        // If init already failed, this send fails and init's message is read below.
        let _ = nix::sys::socket::send(ours.as_raw_fd(), GO, nix::sys::socket::MsgFlags::empty());
        let mut pty = None;
        let mut outputs = outputs;
        let mut input = input;
        loop {
            match init::receive(&ours) {
                Ok(None) => break,
                Ok(Some(master)) => {
                    let dup = master.try_clone().map_err(|e| fail(125, e.to_string()))?;
                    pty = Some(master.as_raw_fd());
                    outputs.push((master, Stream::Stdout));
                    input = Some(dup);
                }
                Err((code, message)) => return Err(fail(code as u8, message)),
            }
        }
        if let Some(fd) = &input {
            let _ = fcntl(fd, FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
        }
        let written = match bundle.join() {
            Ok(written) => written,
            Err(_) => Err(Error::Runtime("the bundle's writer panicked".into())),
        };
        if let Err(e) = written {
            return Err(fail(125, e.to_string()));
        }
        let record = match running.finish() {
            Ok(r) => r,
            Err(e) => return Err(fail(125, e.to_string())),
        };
        crash_point("monitor:after-launch");
        crate::faults::pause_point("monitor:running-recorded");
        engine.record_event(&container_event(&record, "start"));
        crash_point("monitor:after-running");
        Ok(Monitor {
            engine: engine.clone(),
            init_pid: pid,
            outputs,
            input,
            pending_input: Vec::new(),
            pty,
            log,
            clients: Vec::new(),
            listener,
            exec_socket,
            sigchld,
            wired,
            health: Checker::new(&record),
            trim_due: None,
            record,
        })
    }

    /// The event loop: forwards output, input and resizes until the container exits.
    /// Returns its exit code, None if the monitor could not watch it to its end.
    fn supervise(&mut self) -> Option<i32> {
        let mut exit_code: Option<i32> = None;
        let mut drain_deadline: Option<Instant> = None;
        let mut buf = vec![0u8; OUTPUT_BUF];
        self.widen_output_pipes();
        loop {
            if exit_code.is_some()
                && (self.outputs.is_empty() || drain_deadline.is_some_and(|d| Instant::now() > d))
            {
                break;
            }
            self.let_go_of_stalled_clients(Instant::now());
            // A client far behind holds the output back until it catches up; once the
            // container has exited, what is left in the pipes (a buffer's worth) is read
            // for the log all the same.
            let held_back = exit_code.is_none() && self.clients.iter().any(Client::is_full);
            let mut fds: Vec<PollFd> = Vec::new();
            fds.push(PollFd::new(self.sigchld.as_fd(), PollFlags::POLLIN));
            let n_out = if held_back { 0 } else { self.outputs.len() };
            for (fd, _) in &self.outputs[..n_out] {
                fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLIN));
            }
            let n_clients = self.clients.len();
            for client in &self.clients {
                let mut events = PollFlags::POLLIN;
                if client.wants_to_write() {
                    events |= PollFlags::POLLOUT;
                }
                fds.push(PollFd::new(client.fd(), events));
            }
            // `attach` connects while the container runs, not once it has exited.
            let listener = self.listener.as_ref().filter(|_| exit_code.is_none());
            let listening = listener.is_some();
            if let Some(l) = listener {
                fds.push(PollFd::new(l.as_fd(), PollFlags::POLLIN));
            }
            // Nor `exec` once it has exited.
            let exec_socket = self.exec_socket.as_ref().filter(|_| exit_code.is_none());
            let exec_polled = exec_socket.is_some();
            if let Some(socket) = exec_socket {
                fds.push(PollFd::new(socket.as_fd(), PollFlags::POLLIN));
            }
            let input_borrow = self
                .input
                .as_ref()
                .filter(|_| !self.pending_input.is_empty())
                .map(|fd| fd.as_fd());
            let input_polled = input_borrow.is_some();
            if let Some(i) = input_borrow {
                fds.push(PollFd::new(i, PollFlags::POLLOUT));
            }
            // The health check's prober, while one runs.
            let health_at = fds.len();
            let health_fd = self
                .health
                .as_ref()
                .filter(|_| exit_code.is_none())
                .and_then(Checker::fd);
            let health_polled = health_fd.is_some();
            fds.extend(health_fd.map(|fd| PollFd::new(fd, PollFlags::POLLIN)));
            let health_due = self
                .health
                .as_ref()
                .filter(|_| exit_code.is_none())
                .map(|h| h.due_in(Instant::now()));
            let first_dns = fds.len();
            let resolver = self
                .wired
                .as_ref()
                .and_then(|w| w.dns.as_ref())
                .map(|d| &d.resolver);
            if let Some(resolver) = resolver {
                fds.extend(resolver.fds());
            }
            let dns_due = resolver.and_then(|r| r.next_timeout());
            // While output is held back, wake now and then to let a stalled client go.
            let stall_check = held_back.then_some(Duration::from_secs(1));
            let trim_in = self
                .trim_due
                .filter(|_| exit_code.is_none())
                .map(|at| at.saturating_duration_since(Instant::now()));
            let due = dns_due
                .into_iter()
                .chain(stall_check)
                .chain(health_due)
                .chain(trim_in)
                .min();
            let timeout = match (exit_code.is_some(), due) {
                (true, _) => PollTimeout::from(50u16),
                (false, Some(due)) => PollTimeout::try_from(due.max(Duration::from_millis(1)))
                    .unwrap_or(PollTimeout::MAX),
                (false, None) => PollTimeout::NONE,
            };
            let polled = poll_ready(&mut fds, timeout);
            if self.trim_due.is_some_and(|at| Instant::now() >= at) {
                self.trim_due = None;
                trim_heap();
            }
            let revents = match polled {
                Ok(Some(revents)) => revents,
                Ok(None) => continue,
                Err(_) => break,
            };
            drop(fds);
            let ready: Vec<bool> = revents.iter().map(|r| !r.is_empty()).collect();
            let writable: Vec<bool> = revents[1 + n_out..1 + n_out + n_clients]
                .iter()
                .map(|r| r.contains(PollFlags::POLLOUT))
                .collect();
            if ready[0] {
                let _ = self.sigchld.read_signal();
                if exit_code.is_none() {
                    if let Some(code) = self.reap() {
                        exit_code = Some(code);
                        drain_deadline = Some(Instant::now() + Duration::from_secs(1));
                        // No probe of a container that has exited.
                        if let Some(health) = self.health.as_mut() {
                            health.stop(Instant::now());
                        }
                    }
                }
            }
            if exit_code.is_none() {
                if let Some(health) = self.health.as_mut() {
                    if health_polled && ready[health_at] {
                        health.on_readable(Instant::now());
                    }
                    health.tick(&self.engine, Instant::now());
                }
            }
            // Clients before outputs, whose reading may let clients go. In reverse, so
            // one that leaves keeps the other indices valid.
            let clients_at = 1 + n_out;
            for i in (0..n_clients).rev() {
                if writable[i] && !self.clients[i].flush() {
                    self.client_gone(i);
                    continue;
                }
                if ready[clients_at + i] {
                    self.read_client(i);
                }
            }
            // Outputs, in reverse so removing a finished one keeps the other indices valid.
            for i in (0..n_out).rev() {
                if ready[1 + i] {
                    self.read_output(i, &mut buf);
                }
            }
            let mut next = clients_at + n_clients;
            if listening {
                if ready[next] {
                    self.accept_client();
                }
                next += 1;
            }
            if exec_polled {
                if ready[next] {
                    self.serve_exec();
                }
                next += 1;
            }
            if input_polled && ready[next] {
                self.flush_input();
            }
            // The resolver: a query or reply arrived, or a forwarded query is due to
            // expire (it keeps its own clock).
            let dns_ready = ready[first_dns.min(ready.len())..].iter().any(|r| *r);
            if dns_ready || dns_due.is_some() {
                self.serve_dns();
            }
        }
        exit_code
    }

    fn serve_dns(&mut self) {
        let Some(dns) = self.wired.as_mut().and_then(|w| w.dns.as_mut()) else {
            return;
        };
        // The lookup is a `Fn` that refreshes the table as records change.
        let names = std::cell::RefCell::new(&mut dns.names);
        dns.resolver
            .on_ready(&|name: &str| names.borrow_mut().lookup(name));
    }

    fn reap(&mut self) -> Option<i32> {
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) if pid.as_raw() == self.init_pid => {
                    return Some(code)
                }
                Ok(WaitStatus::Signaled(pid, sig, _)) if pid.as_raw() == self.init_pid => {
                    return Some(128 + sig as i32)
                }
                Ok(WaitStatus::StillAlive) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Output pipes (not a pty) that hold more and never block a read: a chatty container
    /// then runs ahead of the monitor instead of waiting for it at every 64 KiB, and one
    /// wake-up of the monitor drains several buffers (see [`Monitor::read_output`]).
    fn widen_output_pipes(&self) {
        for (fd, _) in &self.outputs {
            if Some(fd.as_raw_fd()) == self.pty {
                continue;
            }
            // Best effort: a narrower or blocking pipe only costs more wake-ups.
            let _ = fcntl(fd, FcntlArg::F_SETPIPE_SZ(OUTPUT_PIPE));
            if let Ok(flags) = fcntl(fd, FcntlArg::F_GETFL) {
                let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
                let _ = fcntl(fd, FcntlArg::F_SETFL(flags));
            }
        }
    }

    /// Reads what output `index` holds, a buffer at a time, while reads come back full and
    /// no client is behind (at most `OUTPUT_PIPE` bytes, so the other descriptors get
    /// their turn); each buffer goes to the log and the clients as it is read.
    fn read_output(&mut self, index: usize, buf: &mut [u8]) {
        // A pty blocks: read once per wake-up.
        let rounds = if Some(self.outputs[index].0.as_raw_fd()) == self.pty {
            1
        } else {
            OUTPUT_PIPE as usize / buf.len()
        };
        for _ in 0..rounds {
            match self.read_output_once(index, buf) {
                Some(n) if n == buf.len() && !self.clients.iter().any(Client::is_full) => {}
                _ => return,
            }
        }
    }

    /// One read of output `index`: the bytes read, None at its end or when nothing was
    /// there.
    fn read_output_once(&mut self, index: usize, buf: &mut [u8]) -> Option<usize> {
        let (fd, stream) = &self.outputs[index];
        let stream = *stream;
        match nix::unistd::read(fd, buf) {
            Err(nix::Error::EINTR) | Err(nix::Error::EAGAIN) => None,
            Ok(0) | Err(_) => {
                // EOF on a pipe; EIO on a pty whose slave side is closed.
                let (fd, _) = self.outputs.remove(index);
                if Some(fd.as_raw_fd()) == self.pty {
                    self.input = None;
                    self.pty = None;
                }
                None
            }
            Ok(n) => {
                self.log.write(stream, &buf[..n]);
                let kind = match stream {
                    Stream::Stdout => Kind::Stdout,
                    Stream::Stderr => Kind::Stderr,
                };
                for i in (0..self.clients.len()).rev() {
                    if !self.clients[i].send(kind, &buf[..n]) {
                        self.client_gone(i);
                    }
                }
                Some(n)
            }
        }
    }

    fn read_client(&mut self, index: usize) {
        let received = self.clients[index].receive();
        for (kind, data) in received.frames {
            match kind {
                Kind::Stdin => {
                    self.pending_input.extend_from_slice(&data);
                    self.flush_input();
                }
                Kind::StdinEof if !self.clients[index].attached => self.close_stdin(),
                Kind::Detach => {
                    // Leaves on purpose: the container's stdin stays open.
                    self.clients.remove(index);
                    return;
                }
                Kind::Resize if data.len() == 4 => {
                    if let Some(pty) = self.pty {
                        let size = libc::winsize {
                            ws_row: u16::from_le_bytes([data[0], data[1]]),
                            ws_col: u16::from_le_bytes([data[2], data[3]]),
                            ws_xpixel: 0,
                            ws_ypixel: 0,
                        };
                        // SAFETY: TIOCSWINSZ reads the struct we pass.
                        unsafe { libc::ioctl(pty, libc::TIOCSWINSZ, &size) };
                    }
                }
                _ => {}
            }
        }
        if received.gone {
            self.client_gone(index);
        }
    }

    /// A client went away without a word: like `docker run -i`, the stdin of the one
    /// that started the container ends with it.
    fn client_gone(&mut self, index: usize) {
        let client = self.clients.remove(index);
        if self.pty.is_none() && !client.attached {
            self.close_stdin();
        }
    }

    /// Lets go of `attach` clients that have held the container's output back too long,
    /// so a suspended `attach` can't stall the container for good. The CLI that started
    /// the container keeps it waiting, as a blocking write would (`run img | less`).
    fn let_go_of_stalled_clients(&mut self, now: Instant) {
        for i in (0..self.clients.len()).rev() {
            if self.clients[i].attached && self.clients[i].stalled(now) {
                self.client_gone(i);
            }
        }
    }

    /// A client of `attach`: told the container's PID, then served with the others.
    fn accept_client(&mut self) {
        let Some(listener) = &self.listener else {
            return;
        };
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let Ok(mut client) = Client::new(stream, true) else {
            return;
        };
        if self.clients.iter().filter(|c| c.attached).count() >= MAX_ATTACHED {
            let mut refusal = vec![1u8];
            refusal.extend_from_slice(
                format!(
                    "container {} already has {MAX_ATTACHED} attached clients",
                    self.record.name
                )
                .as_bytes(),
            );
            // Best effort: a refusal that does not fit the socket now is dropped.
            client.send(Kind::Failed, &refusal);
            return;
        }
        let pid = self.init_pid.to_string();
        if client.send(Kind::Started, pid.as_bytes()) {
            self.clients.push(client);
        }
    }

    /// Forks a joiner for each `exec` request waiting (a few per wake-up, so output and
    /// clients get their turn); one that is not whole is dropped.
    fn serve_exec(&mut self) {
        let Some(socket) = &self.exec_socket else {
            return;
        };
        for _ in 0..8 {
            match super::exec_request::take(socket) {
                Ok(Some(request)) => super::exec::fork_requested_joiner(request),
                Ok(None) => return,
                Err(_) => continue,
            }
        }
    }

    fn close_stdin(&mut self) {
        if self.pty.is_none() {
            self.input = None;
            self.pending_input.clear();
        }
    }

    fn flush_input(&mut self) {
        let Some(fd) = self.input.as_ref() else {
            self.pending_input.clear();
            return;
        };
        match nix::unistd::write(fd, &self.pending_input) {
            Ok(n) => {
                self.pending_input.drain(..n);
            }
            Err(nix::Error::EAGAIN) => {}
            Err(_) => {
                self.input = None;
                self.pending_input.clear();
            }
        }
    }

    /// Records the exit, cleans up the container's cgroups and mounts, and tells the client.
    /// A step that fails doesn't stop the rest; the failures go to `monitor.log` and a
    /// `teardown-failed` event (see [`Teardown`]). Returns true when the restart policy
    /// starts the process again: the container is then recorded restarting.
    fn finish(&mut self, exit: Option<i32>) -> bool {
        let exit_code = exit.unwrap_or(255);
        if let Some(health) = self.health.as_mut() {
            health.stop(Instant::now());
        }
        // From here on the user's `stop` wakes this monitor with a SIGTERM (see
        // `restart_after`) instead of ending it.
        block_sigterm();
        let mut restart = false;
        let mut teardown = Teardown::default();
        self.log.flush_partial();
        let id = self.record.id.clone();
        // Read now, not at start: `restart` sets it just before it stops the container.
        let restarting = self
            .engine
            .load_record(&id)
            .is_ok_and(|r| r.state.restarting);
        let auto_remove = self.record.config.auto_remove && !restarting;
        // Closed here; their files go with the directory of a container that goes, and
        // by name only for one that stays, before it can be started again.
        let dir = self.engine.container_dir(&self.record.id);
        if self.listener.take().is_some() && !auto_remove {
            let socket = dir.join(ATTACH_SOCKET);
            teardown.step(
                "remove attach socket",
                socket.display(),
                std::fs::remove_file(&socket),
            );
        }
        if self.exec_socket.take().is_some() && !auto_remove {
            let socket = dir.join(super::exec_request::EXEC_SOCKET);
            teardown.step(
                "remove exec socket",
                socket.display(),
                std::fs::remove_file(&socket),
            );
        }
        let mut cgroup = Cgroup::of(&self.record);
        let oom = cgroup.oom_killed();
        // A container that stays may be started again at once, into a cgroup of the same
        // name: its old one goes first. A `--rm` one's goes after the exit is told, with
        // its directory (each rmdir waits on the kernel's cgroup lock, and `system check`
        // finds the cgroup of a directory left by a crash in between).
        if !auto_remove {
            teardown.step("remove cgroup", &id, cgroup.remove());
        }
        // The ports go with the container (their sockets close here), and their rules
        // before the exit is recorded, so none outlives it. The host ends of its links
        // are only noted: they are deleted once the exit is told (see `Unplug`).
        self.wired = None;
        let unplug = (self.record.config.network.mode == NetworkMode::Connected)
            .then(|| teardown.step("delete port rules", &id, self.engine.unpublish(&id)))
            .flatten();
        if auto_remove {
            // Once its record is gone the container is gone; the directory is deleted
            // after the client has its exit code. Its addresses and anonymous volumes
            // go first, as `docker run --rm` returns with them released.
            teardown.step("retire container", &id, self.engine.forget_container(&id));
            crash_point("monitor:after-exit");
            teardown.step(
                "release endpoints",
                &id,
                self.engine.release_container_endpoints(&self.record),
            );
            teardown.step(
                "remove anonymous volumes",
                &id,
                self.engine
                    .remove_anonymous_volumes(&super::lifecycle::anonymous_volumes(&self.record)),
            );
        } else {
            let recorded = update_record(&self.engine, &id, |r| {
                // Read under the lock: `update --restart`, `stop` and `kill` change them
                // while the container runs.
                restart = exit.is_some()
                    && !r.state.restart_cancelled
                    && r.config.restart_policy.should_restart(
                        exit_code,
                        r.state.manually_stopped,
                        r.state.restart_count,
                    );
                if restart {
                    r.state.status = Status::Restarting;
                    r.state.restart_count += 1;
                } else {
                    r.state.status = Status::Exited;
                    r.state.monitor = None;
                }
                r.state.exit_code = Some(exit_code);
                r.state.oom_killed = oom;
                r.state.finished_at = Some(Utc::now());
                r.state.init = None;
                r.state.ports.clear();
                r.state.paused = false;
                // Docker's: a check that stopped with its container leaves it unhealthy.
                if let Some(health) = r.state.health.as_mut() {
                    health.status = super::health::HealthStatus::Unhealthy;
                }
            });
            restart &= recorded.is_ok();
            teardown.step("record exit", &id, recorded);
            crash_point("monitor:after-exit");
        }
        // After the record: whoever reacts to the event reads the exit already recorded.
        if oom {
            self.engine
                .record_event(&container_event(&self.record, "oom"));
        }
        // Docker's: the whole seconds the process ran.
        let ran = self
            .record
            .state
            .started_at
            .map_or(0, |at| (Utc::now() - at).num_seconds().max(0));
        let mut events = vec![container_event(&self.record, "die")
            .with("exitCode", exit_code.to_string())
            .with("execDuration", ran.to_string())];
        if auto_remove {
            events.push(container_event(&self.record, "destroy"));
        }
        self.engine.record_events(&events);
        // Each client gets what is still queued and the exit code. An `attach` that
        // doesn't read costs 2 s at most; the CLI that started the container gets it all,
        // as it got everything before.
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut told = false;
        for mut client in std::mem::take(&mut self.clients) {
            if client.send(Kind::Exited, &exit_code.to_le_bytes()) {
                client.flush_until(client.attached.then_some(deadline));
                told = true;
            }
        }
        if told {
            // A client woken on this CPU would otherwise wait behind the work below (1.3 ms
            // in a traced `run --rm`, the other CPU idle): it has only to exit.
            std::thread::yield_now();
        }
        // What the next container's start takes ready-made, once nobody waits on this
        // monitor: a spare cgroup (without one, that start makes its own) and a spare
        // directory (see `spare_dir`). Before this container's are deleted: a script's
        // next `run` may be starting already.
        let _ = Cgroup::keep_spare();
        let _ = self.engine.keep_spare_container_dir();
        if auto_remove {
            teardown.step("remove cgroup", &id, cgroup.remove());
            teardown.step("remove container", &id, self.engine.remove_stopped(&id));
        }
        crash_point("monitor:before-unplug");
        // Last, when no one waits for the exit any more: the kernel is taking these links
        // with the namespace, and asking for one meanwhile waits until it has.
        if let Some(unplug) = unplug {
            unplug.run(&mut teardown);
        }
        self.engine.report_teardown(&self.record, &teardown);
        restart
    }
}

/// Writes the container's OCI bundle config on a thread of its own. Derived from the
/// record at every start, never the only copy, so no fsync; it holds the environment
/// (passwords): root-only, like the record.
fn write_bundle_config(
    spec: oci_spec::runtime::Spec,
    path: std::path::PathBuf,
) -> std::thread::JoinHandle<Result<()>> {
    std::thread::spawn(move || {
        let json = serde_json::to_vec_pretty(&spec)
            .map_err(|e| Error::Runtime(format!("writing {}: {e}", path.display())))?;
        crate::state::write_private(&path, &json)
    })
}

type Stdio = (InitStdio, Vec<(OwnedFd, Stream)>, Option<OwnedFd>);

/// Pipes for a non-terminal container (stdin is init's /dev/null unless `-i`); for a terminal,
/// init makes the pty and sends its master back.
fn make_stdio(config: &super::record::ContainerConfig) -> Result<Stdio> {
    if config.tty {
        return Ok((InitStdio::Terminal, Vec::new(), None));
    }
    let pipe = || pipe2(OFlag::O_CLOEXEC).context(|| "creating a pipe".into());
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let (stdin, input) = if config.open_stdin {
        let (r, w) = pipe()?;
        (Some(r), Some(w))
    } else {
        (None, None)
    };
    Ok((
        InitStdio::Fds {
            stdin,
            stdout: out_w,
            stderr: err_w,
        },
        vec![(out_r, Stream::Stdout), (err_r, Stream::Stderr)],
        input,
    ))
}

/// The socket `attach` connects to, in the container's directory (root's alone).
pub(crate) const ATTACH_SOCKET: &str = "attach.sock";

/// A path to `name` in `dir` short enough for a socket address (108 bytes), however
/// deep the engine root: through the descriptor of the open directory.
pub(crate) fn socket_path(dir: &OwnedFd, name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("/proc/self/fd/{}/{name}", dir.as_raw_fd()))
}

/// Opens the container's directory, for [`socket_path`].
pub(crate) fn open_dir(path: &std::path::Path) -> Result<OwnedFd> {
    nix::fcntl::open(
        path,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .context(|| format!("opening {}", path.display()))
}

fn listen_for_attach(engine: &Engine, id: &ContainerId) -> Result<UnixListener> {
    let dir = open_dir(&engine.container_dir(id))?;
    let path = socket_path(&dir, ATTACH_SOCKET);
    // One left by an earlier run of the container.
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).context(|| "creating the attach socket".into())?;
    listener
        .set_nonblocking(true)
        .context(|| "creating the attach socket".into())?;
    Ok(listener)
}

/// The socket `exec` sends its requests to (see [`super::exec_request`]).
fn listen_for_exec(engine: &Engine, id: &ContainerId) -> Result<UnixDatagram> {
    let dir = open_dir(&engine.container_dir(id))?;
    let path = socket_path(&dir, super::exec_request::EXEC_SOCKET);
    // One left by an earlier run of the container.
    let _ = std::fs::remove_file(&path);
    let socket = UnixDatagram::bind(&path).context(|| "creating the exec socket".into())?;
    socket
        .set_nonblocking(true)
        .context(|| "creating the exec socket".into())?;
    Ok(socket)
}

/// Re-reads the record under the lock, applies `change` and saves it (fsync'd unless
/// the container is `--rm`'s: see [`Engine::save_record_of_run`]).
pub(crate) fn update_record(
    engine: &Engine,
    id: &ContainerId,
    change: impl FnOnce(&mut ContainerRecord),
) -> Result<ContainerRecord> {
    let _lock = engine.lock()?;
    let mut record = engine.load_record(id)?;
    change(&mut record);
    engine.save_record_of_run(&record)?;
    Ok(record)
}

/// The write of a starting container's "running" record, on a thread of its own while
/// the monitor goes on starting it. Dropped unfinished (a start that failed), it is waited
/// for and its change undone, so the failure recorded next finds the record as the start
/// found it (a first run stays `created`, as Docker's).
struct RunningWrite {
    engine: Engine,
    id: ContainerId,
    /// The record written, and its state before.
    writer: Option<std::thread::JoinHandle<Result<(ContainerRecord, ContainerState)>>>,
}

impl RunningWrite {
    fn new(engine: &Engine, id: &ContainerId) -> RunningWrite {
        RunningWrite {
            engine: engine.clone(),
            id: id.clone(),
            writer: None,
        }
    }

    /// Starts the write: `init` (not yet exec'd) runs, supervised by this monitor, with
    /// `ports` published. `again` for a restart policy's run (see [`Monitor::launch`]).
    fn begin(&mut self, init: i32, ports: Vec<PortMapping>, again: bool) {
        let (engine, id) = (self.engine.clone(), self.id.clone());
        let init = ProcessHandle::of(init);
        let monitor = ProcessHandle::current();
        self.writer = Some(std::thread::spawn(move || {
            let mut before = ContainerState::default();
            let written = update_record(&engine, &id, |r| {
                before = r.state.clone();
                mark_running(r, init, monitor, ports, again);
            })?;
            Ok((written, before))
        }));
    }

    fn begun(&self) -> bool {
        self.writer.is_some()
    }

    /// The record as written, or why it could not be.
    fn finish(&mut self) -> Result<ContainerRecord> {
        match self.writer.take().map(std::thread::JoinHandle::join) {
            Some(Ok(written)) => written.map(|(record, _)| record),
            Some(Err(_)) => Err(Error::Runtime("the record's writer panicked".into())),
            None => Err(Error::Runtime("the record was not written".into())),
        }
    }
}

impl Drop for RunningWrite {
    fn drop(&mut self) {
        let Some(writer) = self.writer.take() else {
            return;
        };
        if let Ok(Ok((written, before))) = writer.join() {
            // Unless another verb changed it since (then the failure recorded next ends
            // the run all the same).
            let _ = update_record(&self.engine, &self.id, |r| {
                if r.state.init == written.state.init && r.state.monitor == written.state.monitor {
                    r.state = before;
                }
            });
        }
    }
}

/// A start's changes to the record: it runs `init` under `monitor`, with `ports`.
fn mark_running(
    r: &mut ContainerRecord,
    init: Option<ProcessHandle>,
    monitor: Option<ProcessHandle>,
    ports: Vec<PortMapping>,
    again: bool,
) {
    r.state.status = Status::Running;
    r.state.init = init;
    r.state.monitor = monitor;
    r.state.exit_code = None;
    r.state.error = None;
    r.state.oom_killed = false;
    r.state.started_at = Some(Utc::now());
    r.state.finished_at = None;
    r.state.paused = false;
    r.state.ports = ports;
    r.state.restarting = false;
    // Docker's: each start is `starting` again, the earlier results kept.
    if r.config
        .health
        .as_ref()
        .is_some_and(|h| h.probe_command().is_some())
    {
        r.state.health = Some(Health::starting(r.state.health.take()));
    }
    if !again {
        r.state.restart_count = 0;
        r.state.manually_stopped = false;
        r.state.restart_cancelled = false;
    }
}

/// Blocks SIGTERM, so that it waits for [`wait_unless_stopped`] instead of ending the
/// monitor (the container's init clears its mask).
fn block_sigterm() {
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGTERM);
    // Best effort: unblocked, a stop during the backoff ends the monitor, and the
    // container is found exited all the same.
    let _ = mask.thread_block();
}

/// Sleeps for `delay`, or until a SIGTERM (blocked, see [`block_sigterm`]) arrives.
fn wait_unless_stopped(delay: Duration) {
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGTERM);
    let deadline = Instant::now() + delay;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        let timeout = libc::timespec {
            tv_sec: left.as_secs() as libc::time_t,
            tv_nsec: left.subsec_nanos() as libc::c_long,
        };
        // SAFETY: sigtimedwait reads the set and the timeout we pass; no info is asked.
        let got = unsafe { libc::sigtimedwait(mask.as_ref(), std::ptr::null_mut(), &timeout) };
        if got >= 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return;
        }
    }
}

fn record_start_failure(
    engine: &Engine,
    id: &ContainerId,
    code: u8,
    message: &str,
    teardown: &mut Teardown,
) {
    let result = update_record(engine, id, |r| {
        r.state.exit_code = Some(code as i32);
        r.state.error = Some(message.to_owned());
        r.state.init = None;
        r.state.monitor = None;
        // A restart policy's start that failed ends the loop.
        if r.state.status == Status::Restarting {
            r.state.status = Status::Exited;
        }
    });
    match teardown.step("record start failure", id, result) {
        Some(record) if record.config.auto_remove => {
            teardown.step("remove container", id, engine.remove_stopped(id));
        }
        _ => {}
    }
}

/// Takes the control fd number passed by the CLI.
fn control_fd(fd: RawFd) -> OwnedFd {
    // SAFETY: the CLI passed this fd to us for our exclusive use.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;
    use std::path::Path;

    use super::*;

    #[test]
    fn the_monitors_command_line_reads_back_and_nothing_else_does() {
        let id = ContainerId::random();
        for ahead in [false, true] {
            let args = monitor_args(Path::new("/var/lib/berth root"), &id, 7, ahead);
            assert_eq!(
                parse_monitor_args(&args),
                Some(MonitorInvocation {
                    root: "/var/lib/berth root".into(),
                    id: id.clone(),
                    control_fd: 7,
                    ahead,
                }),
                "the monitor's own shape"
            );
        }
        let words = |w: &[&str]| w.iter().map(OsString::from).collect::<Vec<_>>();
        for other in [
            words(&["ps", "-a"]),
            words(&["--root", "/r", "run", id.as_str(), "--control-fd", "7"]),
            words(&[
                "--root",
                "/r",
                "__monitor",
                "not-an-id",
                "--control-fd",
                "7",
            ]),
            words(&[
                "--root",
                "/r",
                "__monitor",
                id.as_str(),
                "--control-fd",
                "x",
            ]),
            words(&["--root", "/r", "__monitor", id.as_str(), "--control-fd"]),
            words(&["--root", "/r", "__monitor", id.as_str(), "--ahead"]),
            words(&[
                "--root",
                "/r",
                "__monitor",
                id.as_str(),
                "--control-fd",
                "7",
                "--later",
            ]),
        ] {
            assert!(parse_monitor_args(&other).is_none(), "{other:?}");
        }
    }
}
