//! The container's init: runs in the freshly cloned child (new pid, mount, uts, ipc and net
//! namespaces), builds the container's view of the world from the OCI spec and execs the
//! user's process. It never returns: it either execs or reports an error and exits.
//!
//! Talks to the monitor over a SOCK_SEQPACKET socket that is close-on-exec, so a successful
//! exec shows up in the monitor as end-of-file, and a failure as an error message first.

use std::ffi::CString;
use std::io::IoSlice;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{open, OFlag};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::socket::{recv, sendmsg, ControlMessage, MsgFlags};
use nix::sys::stat::Mode;
use nix::unistd::{chdir, dup2_stderr, dup2_stdin, dup2_stdout, pivot_root, sethostname, setsid};
use oci_spec::runtime::Spec;

use super::cgroups::entry::Tasks;
use super::fds;
use super::in_root::RootDir;
use super::mount_plan::{MountPlan, MountStep, Step};
use super::other_cpu::Cpus;

/// What the monitor says to let init exec (sent once the child is in its cgroups).
pub(crate) const GO: &[u8] = b"go";
/// Prefix of an error message from init: `E`, then the exit code byte, then the text.
pub(crate) const ERROR_TAG: u8 = b'E';
/// A message carrying the pty master fd (SCM_RIGHTS).
pub(crate) const PTY_TAG: &[u8] = b"pty";

/// The standard streams init hands to the container process.
pub enum InitStdio {
    /// A terminal: init creates it inside the container's devpts and sends the master back.
    Terminal,
    /// Pipes from the monitor for stdout and stderr, and for stdin with `-i` (without,
    /// the container's own /dev/null).
    Fds {
        stdin: Option<OwnedFd>,
        stdout: OwnedFd,
        stderr: OwnedFd,
    },
}

struct InitError {
    code: u8,
    message: String,
}

fn err(message: impl Into<String>) -> InitError {
    InitError {
        code: 125,
        message: message.into(),
    }
}

type InitResult<T> = Result<T, InitError>;

trait OrInit<T> {
    fn or_init(self, what: impl FnOnce() -> String) -> InitResult<T>;
}

impl<T, E: std::error::Error> OrInit<T> for Result<T, E> {
    /// The root cause too: `openat2 subpath failed` alone does not say the path is a file
    /// (the causes between name host paths).
    fn or_init(self, what: impl FnOnce() -> String) -> InitResult<T> {
        self.map_err(|e| {
            let mut message = format!("{}: {e}", what());
            let mut root = e.source();
            while let Some(deeper) = root.and_then(|c| c.source()) {
                root = Some(deeper);
            }
            if let Some(root) = root {
                message.push_str(&format!(": {root}"));
            }
            err(message)
        })
    }
}

/// What init enters before it sets up, beside its namespaces.
pub(crate) struct Joins {
    /// The container's cgroups.
    pub cgroup_tasks: Tasks,
    /// The monitor's CPUs, which the container's process gets (the monitor may have sent
    /// init elsewhere while it sets up: see `other_cpu`).
    pub cpus: Option<Cpus>,
    /// The network namespace made ahead (see `spare_netns`), when the clone made none.
    pub netns: Option<OwnedFd>,
}

/// Entry point in the cloned child. `rootfs` is the overlay mount on the host side.
pub(crate) fn run(
    spec: &Spec,
    seccomp: &[seccompiler::BpfProgram],
    rootfs: &Path,
    sync: OwnedFd,
    stdio: InitStdio,
    joins: Joins,
) -> ! {
    reset_signals();
    let Joins {
        cgroup_tasks,
        cpus,
        netns,
    } = joins;
    // First: everything init does from here on is the container's, in its limits. The
    // files are closed with it, before anything else can run here.
    let entered = cgroup_tasks.enter();
    // Before its descriptor is closed below, and before anything of the network's.
    let networked = netns.map(|ns| nix::sched::setns(ns, nix::sched::CloneFlags::CLONE_NEWNET));
    let streams = match &stdio {
        InitStdio::Terminal => Streams::Terminal,
        InitStdio::Fds { stdin: None, .. } => Streams::NullStdin,
        InitStdio::Fds { stdin: Some(_), .. } => Streams::Ready,
    };
    let sync = isolate(sync, stdio);
    if let Err(e) = entered {
        fail(
            &sync,
            Err(err(format!("joining the container's cgroups: {e}"))),
        );
    }
    if let Some(Err(e)) = networked {
        fail(
            &sync,
            Err(err(format!(
                "entering the container's network namespace: {e}"
            ))),
        );
    }
    let result = setup_and_exec(spec, seccomp, rootfs, &sync, streams, cpus);
    fail(&sync, result)
}

/// What init still has to put on 0, 1 and 2 once the container's /dev exists.
enum Streams {
    Terminal,
    NullStdin,
    Ready,
}

/// First steps of init: non-dumpable, a session and process group of its own (a
/// `kill 0` inside must not reach the monitor's group), and nothing of the monitor's but
/// `sync` and the standard streams. Returns `sync` under its new number.
fn isolate(sync: OwnedFd, stdio: InitStdio) -> OwnedFd {
    let raw_sync = sync.as_raw_fd();
    let result = (|| {
        fds::make_non_dumpable().or_init(|| "making init non-dumpable".into())?;
        setsid().or_init(|| "starting a session".into())?;
        // The monitor's /dev/null holds the places the container's /dev/null or its
        // terminal take later.
        let copy = |fd| fds::dup_std(fd).or_init(|| "copying the standard streams".into());
        let stdio = match stdio {
            InitStdio::Fds {
                stdin,
                stdout,
                stderr,
            } => [stdin.map_or_else(|| copy(0), Ok)?, stdout, stderr],
            InitStdio::Terminal => [copy(0)?, copy(1)?, copy(2)?],
        };
        let mut kept = fds::keep_only(stdio, vec![sync])
            .or_init(|| "closing the monitor's descriptors".into())?;
        kept.pop().ok_or_else(|| err("the init socket was lost"))
    })();
    match result {
        Ok(sync) => sync,
        Err(e) => {
            // SAFETY: best effort on the number the socket had; nothing else uses it now.
            let sync = unsafe { OwnedFd::from_raw_fd(raw_sync) };
            fail(&sync, Err(e))
        }
    }
}

/// Standard streams of an `exec`'d process. Whatever the caller had on 0, 1 and 2 was
/// already replaced by the joiner (pipes of berth's or placeholders).
pub enum ExecStdio {
    /// A new terminal in the container's devpts; the master goes back over `sync`.
    Terminal,
    /// All three on the container's /dev/null (detached).
    Null,
    /// berth's pipes on 1 and 2, and on 0 too if `stdin`, else the container's /dev/null.
    Pipes { stdin: bool },
}

/// Entry point of an `exec`'d process, inside the container's namespaces but the cgroup
/// one and in its v2 cgroup. Only 0, 1, 2, `sync` and the cgroups' descriptors above it
/// are open, and the process is non-dumpable (see `exec::join_and_run`).
pub(crate) fn run_exec(
    process: &oci_spec::runtime::Process,
    seccomp: Option<&oci_spec::runtime::LinuxSeccomp>,
    (cgroup_tasks, cgroup_namespace, sync): (Tasks, Option<OwnedFd>, OwnedFd),
    stdio: ExecStdio,
) -> ! {
    reset_signals();
    let result = (|| {
        // First, as init's: in the container's cgroups (and then its cgroup namespace,
        // which takes them as its root) before anything else runs here.
        cgroup_tasks
            .enter()
            .or_init(|| "joining the container's cgroups".into())?;
        if let Some(namespace) = cgroup_namespace {
            nix::sched::setns(namespace, nix::sched::CloneFlags::CLONE_NEWCGROUP)
                .or_init(|| "joining the container's cgroup namespace".into())?;
        }
        fds::make_non_dumpable().or_init(|| "making the process non-dumpable".into())?;
        // Its own session and group: `kill 0` in the container reaches only the container.
        setsid().or_init(|| "starting a session".into())?;
        fds::close_from(sync.as_raw_fd() + 1).or_init(|| "closing descriptors".into())?;
        let seccomp = compile_seccomp(seccomp)?;
        let null = || {
            open("/dev/null", OFlag::O_RDWR | OFlag::O_CLOEXEC, Mode::empty())
                .or_init(|| "opening /dev/null".into())
        };
        match stdio {
            ExecStdio::Terminal => setup_terminal(Path::new("/dev"), &sync)?,
            ExecStdio::Null => {
                let fd = null()?;
                dup2_stdin(&fd).or_init(|| "setting up stdin".into())?;
                dup2_stdout(&fd).or_init(|| "setting up stdout".into())?;
                dup2_stderr(&fd).or_init(|| "setting up stderr".into())?;
            }
            ExecStdio::Pipes { stdin: false } => {
                dup2_stdin(&null()?).or_init(|| "setting up stdin".into())?
            }
            ExecStdio::Pipes { stdin: true } => {}
        }
        let cwd = process.cwd();
        chdir(cwd).or_init(|| format!("entering the working directory {}", cwd.display()))?;
        super::creds::apply(process).map_err(|e| err(e.to_string()))?;
        finish_and_exec(process, &seccomp, false)
    })();
    fail(&sync, result)
}

/// The container process must not inherit the caller's blocked signals or Rust's
/// ignored SIGPIPE.
pub(crate) fn reset_signals() {
    use nix::sys::signal::{SigHandler, SigSet, Signal};
    let _ = SigSet::empty().thread_set_mask();
    for sig in Signal::iterator() {
        if !matches!(sig, Signal::SIGKILL | Signal::SIGSTOP) {
            // SAFETY: restoring the default disposition installs no handler code.
            let _ = unsafe { nix::sys::signal::signal(sig, SigHandler::SigDfl) };
        }
    }
}

/// Reports a setup failure to the monitor and exits.
fn fail(sync: &OwnedFd, result: InitResult<std::convert::Infallible>) -> ! {
    let failure = match result {
        Ok(never) => match never {},
        Err(e) => e,
    };
    let mut message = vec![ERROR_TAG, failure.code];
    message.extend_from_slice(failure.message.as_bytes());
    let _ = nix::sys::socket::send(sync.as_raw_fd(), &message, MsgFlags::empty());
    // SAFETY: _exit is always safe; nothing of the parent's state may be flushed from here.
    unsafe { libc::_exit(failure.code as i32) }
}

fn setup_and_exec(
    spec: &Spec,
    seccomp: &[seccompiler::BpfProgram],
    rootfs: &Path,
    sync: &OwnedFd,
    streams: Streams,
    cpus: Option<Cpus>,
) -> InitResult<std::convert::Infallible> {
    // Die with the monitor rather than run unsupervised.
    // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };

    crate::storage::overlay::make_mounts_private().map_err(|e| err(e.to_string()))?;
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| err("the spec has no process"))?;
    let cgroups_path = spec.linux().as_ref().and_then(|l| l.cgroups_path().clone());
    let cgroup_dirs = cgroups_path
        .as_deref()
        .and_then(Path::to_str)
        .map(super::cgroups::own_cgroup_dirs);
    let plan = MountPlan::of(spec, cgroup_dirs.as_deref());
    let mut root = InRoot {
        rootfs,
        root: None,
        dev: None,
    };
    for step in &plan.in_root {
        root.perform(step)?;
    }
    // The fresh /dev tmpfs, reached through a handle resolved inside the root.
    let dev = root.dev()?;
    let cwd = process.cwd().clone();

    // The monitor's pipes are already on 0, 1 and 2 (see `isolate`).
    match streams {
        Streams::Terminal => setup_terminal(&dev, sync)?,
        Streams::NullStdin => {
            // Our own fresh node (the tmpfs was just populated), not the container's files.
            let null = open(
                &dev.join("null"),
                OFlag::O_RDONLY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .or_init(|| "opening /dev/null".into())?;
            dup2_stdin(&null).or_init(|| "setting up stdin".into())?;
        }
        Streams::Ready => {}
    }

    enter_root(rootfs)?;
    // Before /proc/sys is made read-only; the procfs is the container's own, fresh.
    for (key, value) in spec
        .linux()
        .as_ref()
        .and_then(|l| l.sysctl().as_ref())
        .into_iter()
        .flatten()
    {
        write_sysctl(key, value)?;
    }
    for step in &plan.after_pivot {
        after_pivot(step)?;
    }
    // Only in a namespace of the container's own: the host's loopback is the host's.
    if has_namespace(spec, oci_spec::runtime::LinuxNamespaceType::Network) {
        bring_up_loopback()?;
    }
    if let Some(hostname) = spec.hostname() {
        sethostname(hostname).or_init(|| format!("setting hostname {hostname}"))?;
    }
    if let Some(domain) = spec.domainname() {
        // SAFETY: the pointer and length describe `domain`'s bytes.
        let rc = unsafe { libc::setdomainname(domain.as_ptr().cast(), domain.len()) };
        if rc != 0 {
            return Err(err(format!(
                "setting domain name {domain}: {}",
                std::io::Error::last_os_error()
            )));
        }
    }
    for limit in process.rlimits().iter().flatten() {
        set_rlimit(limit)?;
    }
    // `--oom-score-adj`: while init still may lower it (CAP_SYS_RESOURCE); inherited by
    // what it runs.
    if let Some(adj) = process.oom_score_adj() {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .or_init(|| format!("setting oom_score_adj {adj}"))?;
    }
    chdir(&cwd).or_init(|| format!("entering the working directory {}", cwd.display()))?;
    // The monitor wires the network and records the start while we set up.
    wait_for_go(sync)?;
    // Sent after the monitor moved this process, if it did.
    if let Some(cpus) = cpus {
        cpus.apply();
    }
    // Init is in the container's cgroups (see `run`), which the namespace takes as its root.
    if has_namespace(spec, oci_spec::runtime::LinuxNamespaceType::Cgroup) {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWCGROUP)
            .or_init(|| "creating the cgroup namespace".into())?;
    }
    super::creds::apply(process).map_err(|e| err(e.to_string()))?;

    let reaper = spec
        .annotations()
        .as_ref()
        .is_some_and(|a| a.contains_key(crate::container::spec::INIT_ANNOTATION));
    finish_and_exec(process, seccomp, reaper)
}

fn has_namespace(spec: &Spec, typ: oci_spec::runtime::LinuxNamespaceType) -> bool {
    spec.linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|n| n.iter().any(|n| n.typ() == typ))
}

/// The last steps of init and exec alike, after privileges are dropped. With `reaper`
/// (`--init`), this process stays as the container's PID 1 and a child of it execs.
fn finish_and_exec(
    process: &oci_spec::runtime::Process,
    seccomp: &[seccompiler::BpfProgram],
    reaper: bool,
) -> InitResult<std::convert::Infallible> {
    // Whatever setup opened since (and the sync socket, whose closing tells the exec
    // happened) goes at the exec; the caller's descriptors were closed before joining.
    // SAFETY: close_range only changes fd flags.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    // Last, so none of the setup above is subject to the filter.
    crate::container::seccomp::install(seccomp).map_err(|e| err(e.to_string()))?;
    if reaper {
        super::reaper::fork_user_process().or_init(|| "starting the container's init".into())?;
    }
    let args = process.args().clone().unwrap_or_default();
    let env = process.env().clone().unwrap_or_default();
    exec(&args, &env)
}

fn compile_seccomp(
    profile: Option<&oci_spec::runtime::LinuxSeccomp>,
) -> InitResult<Vec<seccompiler::BpfProgram>> {
    profile
        .map(crate::container::seccomp::compile)
        .transpose()
        .map(Option::unwrap_or_default)
        .map_err(|e| err(e.to_string()))
}

fn wait_for_go(sync: &OwnedFd) -> InitResult<()> {
    let mut buf = [0u8; 8];
    let n = recv(sync.as_raw_fd(), &mut buf, MsgFlags::empty())
        .or_init(|| "waiting for the monitor".into())?;
    if &buf[..n] != GO {
        return Err(err("the monitor went away before the container started"));
    }
    Ok(())
}

/// The magic-link path of an fd, so mount(2) acts on exactly the inode resolved in the root.
fn fd_path(fd: RawFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{fd}"))
}

/// What performs the plan's steps inside the container root, before pivot_root: the
/// root (opened once it is bound onto itself) and its /dev, resolved inside it once
/// mounted.
struct InRoot<'a> {
    rootfs: &'a Path,
    root: Option<RootDir>,
    /// The handle stays open: nodes are made in it, and its magic-link path is how the
    /// streams and the terminal reach /dev.
    dev: Option<OwnedFd>,
}

impl InRoot<'_> {
    fn root(&self) -> InitResult<&RootDir> {
        self.root
            .as_ref()
            .ok_or_else(|| err("the plan mounts inside the root before binding it"))
    }

    /// The container's /dev, resolved inside the root the first time it is needed (after
    /// the plan's mounts, so it is the fresh tmpfs).
    fn dev_dir(&mut self) -> InitResult<&OwnedFd> {
        if self.dev.is_none() {
            let handle = self
                .root()?
                .resolve(Path::new("/dev"))
                .or_init(|| "resolving /dev".into())?;
            self.dev = Some(handle);
        }
        self.dev
            .as_ref()
            .ok_or_else(|| err("the container's /dev was lost"))
    }

    /// The magic-link path of the container's /dev.
    fn dev(&mut self) -> InitResult<PathBuf> {
        Ok(fd_path(self.dev_dir()?.as_raw_fd()))
    }

    fn perform(&mut self, step: &Step) -> InitResult<()> {
        match step {
            Step::BindRootfs => {
                let rootfs = self.rootfs;
                mount(
                    Some(rootfs),
                    rootfs,
                    None::<&str>,
                    MsFlags::MS_BIND | MsFlags::MS_REC,
                    None::<&str>,
                )
                .or_init(|| format!("binding {}", rootfs.display()))?;
                let root =
                    RootDir::open(rootfs).or_init(|| format!("opening {}", rootfs.display()))?;
                self.root = Some(root);
                Ok(())
            }
            Step::Mount(m) => mount_in_root(self.root()?, m),
            Step::Remount { dest, flags, what } => {
                remount_in_root(self.root()?, dest, *flags, what)
            }
            Step::Device { name, major, minor } => {
                use rustix::fs::{chmodat, makedev, mknodat, AtFlags, FileType};
                let dev = self.dev_dir()?;
                let mode = rustix::fs::Mode::from_raw_mode(0o666);
                mknodat(
                    dev,
                    *name,
                    FileType::CharacterDevice,
                    mode,
                    makedev(*major as u32, *minor as u32),
                )
                .or_init(|| format!("creating /dev/{name}"))?;
                // mknod applies the umask; devices must be world-usable. The node was just
                // made in the fresh tmpfs, which nothing else reaches yet.
                chmodat(dev, *name, mode, AtFlags::empty())
                    .or_init(|| format!("setting mode of /dev/{name}"))
            }
            Step::Node(node) => make_node(self.root()?, node),
            Step::DevLink { name, target } => {
                rustix::fs::symlinkat(*target, self.dev_dir()?, *name)
                    .or_init(|| format!("linking /dev/{name}"))
            }
            Step::Mkdir(path) => self
                .root()?
                .mkdir_all(path, 0o755)
                .map(drop)
                .or_init(|| format!("creating the working directory {}", path.display())),
            Step::Mask(_) | Step::Readonly(_) | Step::ReadonlyRoot => {
                Err(err(format!("the plan has \"{step}\" before pivot_root")))
            }
        }
    }
}

/// Makes a host device's node inside the root (its parents too), by descriptor, with the
/// host node's mode and owner. The umask is cleared for the mknod, so the mode is made
/// exact at once instead of by a chmod through a path.
fn make_node(root: &RootDir, node: &super::mount_plan::NodeStep) -> InitResult<()> {
    use rustix::fs::{chownat, makedev, mknodat, AtFlags, FileType, Gid, Uid};
    let path = &node.path;
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(err(format!("device path {} names no file", path.display())));
    };
    let dir = root
        .mkdir_all(parent, 0o755)
        .or_init(|| format!("creating {}", parent.display()))?;
    let kind = if node.block {
        FileType::BlockDevice
    } else {
        FileType::CharacterDevice
    };
    let mode = rustix::fs::Mode::from_raw_mode(node.mode & 0o7777);
    let umask = rustix::process::umask(rustix::fs::Mode::empty());
    let made = mknodat(
        &dir,
        name,
        kind,
        mode,
        makedev(node.major as u32, node.minor as u32),
    );
    rustix::process::umask(umask);
    made.or_init(|| format!("creating device {}", path.display()))?;
    // Not following a link: only the node just made is given the owner.
    chownat(
        &dir,
        name,
        Some(Uid::from_raw(node.uid)),
        Some(Gid::from_raw(node.gid)),
        AtFlags::SYMLINK_NOFOLLOW,
    )
    .or_init(|| format!("setting owner of {}", path.display()))
}

/// Performs a step of the plan after pivot_root, in the container's own view.
fn after_pivot(step: &Step) -> InitResult<()> {
    match step {
        Step::Mask(path) => mask_path(path),
        Step::Readonly(path) => make_readonly(path),
        Step::ReadonlyRoot => mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
            None::<&str>,
        )
        .or_init(|| "making the root filesystem read-only".into()),
        _ => Err(err(format!("the plan has \"{step}\" after pivot_root"))),
    }
}

/// Mounts one step's filesystem, its target resolved inside the container root (never
/// through a symlink out of it: CVE-2021-30465).
fn mount_in_root(root: &RootDir, m: &MountStep) -> InitResult<()> {
    let dest = &m.dest;
    let source = &m.source;
    let source_is_dir = !m.bind || source.is_dir();
    let target = if source_is_dir {
        root.mkdir_all(dest, 0o755)
    } else {
        root.file(dest)
    }
    .or_init(|| format!("creating mount point {}", dest.display()))?;
    let target_path = fd_path(target.as_raw_fd());

    if m.bind {
        mount(
            Some(source),
            &target_path,
            None::<&str>,
            m.flags,
            None::<&str>,
        )
        .or_init(|| format!("bind-mounting {} at {}", source.display(), dest.display()))
    } else {
        let data = (!m.data.is_empty()).then_some(m.data.as_str());
        mount(
            Some(source.as_os_str()),
            &target_path,
            Some(m.typ.as_str()),
            m.flags,
            data,
        )
        .or_init(|| format!("mounting {} at {}", m.typ, dest.display()))
    }
}

/// Changes flags of the mount at `dest`, re-resolved inside the root: after a mount, the
/// path leads to the new mount, not to the directory resolved before it.
fn remount_in_root(root: &RootDir, dest: &Path, flags: MsFlags, what: &str) -> InitResult<()> {
    let mounted = root
        .resolve(dest)
        .or_init(|| format!("resolving {}", dest.display()))?;
    mount(
        None::<&str>,
        &fd_path(mounted.as_raw_fd()),
        None::<&str>,
        flags,
        None::<&str>,
    )
    .or_init(|| format!("{what} {}", dest.display()))
}

/// Creates the container's terminal in its own devpts, sends the master to the monitor
/// and makes the slave this process's controlling terminal and standard streams. The
/// caller must be a session leader.
fn setup_terminal(dev: &Path, sync: &OwnedFd) -> InitResult<()> {
    let master = open(
        &dev.join("pts/ptmx"),
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .or_init(|| "opening the container's /dev/pts/ptmx".into())?;
    let mut unlock: libc::c_int = 0;
    let mut number: libc::c_uint = 0;
    // SAFETY: TIOCSPTLCK and TIOCGPTN take pointers to ints we own.
    unsafe {
        if libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &mut unlock) < 0
            || libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut number) < 0
        {
            return Err(err(format!(
                "preparing the terminal: {}",
                std::io::Error::last_os_error()
            )));
        }
    }
    let slave_path = dev.join(format!("pts/{number}"));
    let slave = open(
        &slave_path,
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .or_init(|| "opening the terminal".into())?;
    let fds = [master.as_raw_fd()];
    sendmsg::<()>(
        sync.as_raw_fd(),
        &[IoSlice::new(PTY_TAG)],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .or_init(|| "sending the terminal to the monitor".into())?;
    drop(master);
    // The caller is already a session leader without a terminal (see `isolate`, `run_exec`).
    // SAFETY: TIOCSCTTY on an fd we own.
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } < 0 {
        return Err(err(format!(
            "setting the controlling terminal: {}",
            std::io::Error::last_os_error()
        )));
    }
    dup2_stdin(&slave).or_init(|| "attaching the terminal".into())?;
    dup2_stdout(&slave).or_init(|| "attaching the terminal".into())?;
    dup2_stderr(&slave).or_init(|| "attaching the terminal".into())?;
    Ok(())
}

/// pivot_root into the container root and drop the old root, as runc does (no temp dir).
fn enter_root(rootfs: &Path) -> InitResult<()> {
    chdir(rootfs).or_init(|| format!("entering {}", rootfs.display()))?;
    pivot_root(".", ".").or_init(|| "pivot_root".into())?;
    umount2(".", MntFlags::MNT_DETACH).or_init(|| "detaching the old root".into())?;
    chdir("/").or_init(|| "entering /".into())
}

/// A fresh network namespace has its loopback down; programs expect 127.0.0.1 to work,
/// as it does in Docker with `--network none`. Setting IFF_UP makes the kernel add the
/// addresses.
fn bring_up_loopback() -> InitResult<()> {
    // SAFETY: plain socket and ioctl calls on a zeroed ifreq we own.
    unsafe {
        let sock = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if sock < 0 {
            return Err(err(format!(
                "opening a socket: {}",
                std::io::Error::last_os_error()
            )));
        }
        let sock = OwnedFd::from_raw_fd(sock);
        let mut req: libc::ifreq = std::mem::zeroed();
        for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
            *dst = *src as libc::c_char;
        }
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) < 0 {
            return Err(err(format!(
                "reading loopback flags: {}",
                std::io::Error::last_os_error()
            )));
        }
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) < 0 {
            return Err(err(format!(
                "bringing loopback up: {}",
                std::io::Error::last_os_error()
            )));
        }
    }
    Ok(())
}

fn mask_path(path: &str) -> InitResult<()> {
    match std::fs::metadata(path) {
        Err(_) => Ok(()),
        Ok(meta) if meta.is_dir() => mount(
            Some("tmpfs"),
            path,
            Some("tmpfs"),
            MsFlags::MS_RDONLY,
            None::<&str>,
        )
        .or_init(|| format!("masking {path}")),
        Ok(_) => mount(
            Some("/dev/null"),
            path,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .or_init(|| format!("masking {path}")),
    }
}

fn make_readonly(path: &str) -> InitResult<()> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(());
    }
    mount(
        Some(path),
        path,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .or_init(|| format!("binding {path}"))?;
    let keep = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount(
        None::<&str>,
        path,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_REC | keep,
        None::<&str>,
    )
    .or_init(|| format!("making {path} read-only"))
}

/// Sets one sysctl of the container's namespaces (checked at create: see
/// `security::check_sysctl`).
fn write_sysctl(key: &str, value: &str) -> InitResult<()> {
    if key.contains('/') || key.split('.').any(|p| p.is_empty() || p == "..") {
        return Err(err(format!("invalid sysctl {key:?}")));
    }
    let path = Path::new("/proc/sys").join(key.replace('.', "/"));
    std::fs::write(&path, value).or_init(|| format!("setting sysctl {key}={value}"))
}

fn set_rlimit(limit: &oci_spec::runtime::PosixRlimit) -> InitResult<()> {
    use oci_spec::runtime::PosixRlimitType as T;
    let resource = match limit.typ() {
        T::RlimitNofile => libc::RLIMIT_NOFILE,
        T::RlimitNproc => libc::RLIMIT_NPROC,
        T::RlimitCore => libc::RLIMIT_CORE,
        T::RlimitStack => libc::RLIMIT_STACK,
        T::RlimitMemlock => libc::RLIMIT_MEMLOCK,
        T::RlimitCpu => libc::RLIMIT_CPU,
        T::RlimitData => libc::RLIMIT_DATA,
        T::RlimitFsize => libc::RLIMIT_FSIZE,
        T::RlimitLocks => libc::RLIMIT_LOCKS,
        T::RlimitMsgqueue => libc::RLIMIT_MSGQUEUE,
        T::RlimitNice => libc::RLIMIT_NICE,
        T::RlimitRss => libc::RLIMIT_RSS,
        T::RlimitRtprio => libc::RLIMIT_RTPRIO,
        T::RlimitRttime => libc::RLIMIT_RTTIME,
        T::RlimitSigpending => libc::RLIMIT_SIGPENDING,
        _ => return Ok(()),
    };
    let rl = libc::rlimit {
        rlim_cur: limit.soft(),
        rlim_max: limit.hard(),
    };
    // SAFETY: setrlimit reads the struct we pass.
    if unsafe { libc::setrlimit(resource, &rl) } != 0 {
        return Err(err(format!(
            "setting rlimit {:?}: {}",
            limit.typ(),
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

/// Finds the program in the container's PATH and execs it, as execvpe would with the
/// container's environment rather than this process's.
fn exec(args: &[String], env: &[String]) -> InitResult<std::convert::Infallible> {
    let program = args.first().ok_or_else(|| err("no command specified"))?;
    let path_var = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    let candidates: Vec<PathBuf> = if program.contains('/') {
        vec![PathBuf::from(program)]
    } else {
        path_var
            .split(':')
            .filter(|d| !d.is_empty())
            .map(|d| Path::new(d).join(program))
            .collect()
    };
    let cargs: Vec<CString> = args.iter().map(|a| cstring(a)).collect::<InitResult<_>>()?;
    let cenv: Vec<CString> = env.iter().map(|e| cstring(e)).collect::<InitResult<_>>()?;
    let mut denied = false;
    for candidate in &candidates {
        let cpath =
            CString::new(candidate.as_os_str().as_bytes()).map_err(|_| err("NUL in path"))?;
        match nix::unistd::execve(&cpath, &cargs, &cenv) {
            Err(nix::Error::EACCES) => denied = true,
            Err(nix::Error::ENOENT) | Err(nix::Error::ENOTDIR) => {}
            Err(e) if program.contains('/') => {
                return Err(InitError {
                    code: 126,
                    message: format!("exec: \"{program}\": {e}"),
                })
            }
            Err(_) => {}
            Ok(never) => match never {},
        }
    }
    Err(if denied {
        InitError {
            code: 126,
            message: format!("exec: \"{program}\": permission denied"),
        }
    } else if program.contains('/') {
        InitError {
            code: 127,
            message: format!("exec: \"{program}\": no such file or directory"),
        }
    } else {
        InitError {
            code: 127,
            message: format!("exec: \"{program}\": executable file not found in $PATH"),
        }
    })
}

fn cstring(s: &str) -> InitResult<CString> {
    CString::new(s).map_err(|_| err(format!("argument contains a NUL byte: {s:?}")))
}

/// Reads the message init sent: `Ok(None)` on a clean exec (socket closed), the pty master
/// if one arrives first, or the error.
/// Init's own error, if it sent one before dying: read without waiting (past a terminal it
/// may have sent first). A namespace or a cgroup of an init that died early is gone, so
/// the monitor's failure to reach it hides the cause that this holds.
pub(crate) fn reported_failure(sync: &OwnedFd) -> Option<(i32, String)> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    loop {
        let mut fds = [PollFd::new(sync.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::ZERO) {
            Ok(n) if n > 0 => {}
            _ => return None,
        }
        match receive(sync) {
            Ok(Some(_)) => continue,
            Ok(None) => return None,
            Err(failure) => return Some(failure),
        }
    }
}

pub(crate) fn receive(sync: &OwnedFd) -> std::result::Result<Option<OwnedFd>, (i32, String)> {
    let mut buf = vec![0u8; 4096];
    let mut cmsg = nix::cmsg_space!([RawFd; 1]);
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    // An init that died with our `go` unread resets the socket, and the kernel reports
    // that (once) before the messages init sent before dying: read on past it, or its
    // reason would be hidden behind ECONNRESET.
    let mut reset_seen = false;
    let msg = loop {
        match nix::sys::socket::recvmsg::<()>(
            sync.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Ok(msg) => break msg,
            Err(nix::Error::ECONNRESET) if !reset_seen => reset_seen = true,
            Err(e) => return Err((125, format!("reading from the container's init: {e}"))),
        }
    };
    let mut fd = None;
    if let Ok(cmsgs) = msg.cmsgs() {
        for c in cmsgs {
            if let nix::sys::socket::ControlMessageOwned::ScmRights(fds) = c {
                // SAFETY: SCM_RIGHTS hands us new fds that nothing else owns.
                fd = fds.first().map(|&f| unsafe { OwnedFd::from_raw_fd(f) });
            }
        }
    }
    let n = msg.bytes;
    if n == 0 {
        return Ok(None);
    }
    let data = &buf[..n];
    if data == PTY_TAG {
        return fd
            .map(Some)
            .ok_or((125, "the terminal was not received".into()));
    }
    if data[0] == ERROR_TAG && n >= 2 {
        return Err((
            data[1] as i32,
            String::from_utf8_lossy(&data[2..]).into_owned(),
        ));
    }
    Err((125, "unexpected message from the container's init".into()))
}
