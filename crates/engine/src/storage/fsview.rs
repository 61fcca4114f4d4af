//! A child process that sees a container's filesystem as the container does.
//!
//! The container's root is an overlay mounted only in its monitor's private mount
//! namespace, so file work on a container happens in a forked child: for a running
//! container it joins the container's mount namespace (volumes, binds and tmpfs included);
//! for a stopped one it mounts the overlay and the volume and bind mounts in a mount
//! namespace of its own, which dies with it. Either way the child's "/" is the container's
//! root afterwards. It reports over a socketpair (one message per datagram) and moves bulk
//! data over a pipe the caller hands it.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use nix::fcntl::{open, openat2, OFlag, OpenHow, ResolveFlag};
use nix::mount::{mount, MsFlags};
use nix::sched::{setns, CloneFlags};
use nix::sys::signal::{kill, Signal};
use nix::sys::socket::{recv, send, socketpair, AddressFamily, MsgFlags, SockFlag, SockType};
use nix::sys::stat::Mode;
use nix::sys::wait::waitpid;
use nix::unistd::{chdir, chroot, fork, ForkResult, Pid};

use crate::container::record::{ContainerRecord, Status};
use crate::error::{Context, Error, Result};
use crate::state::Durability;
use crate::storage::mounts::MountKind;
use crate::storage::overlay::OverlayDirs;
use crate::Engine;

/// How the child gets the container's view.
pub(crate) enum View {
    /// Join the running container's mount namespace.
    Running { mnt_ns: OwnedFd },
    /// Mount the stopped container's root and its volume and bind mounts privately.
    Stopped {
        overlay: OverlayDirs,
        binds: Vec<BindInto>,
        /// `Unsynced` for a throwaway container's layer (see `OverlayDirs::mount_with`):
        /// the child's private mount then goes without flushing the whole filesystem.
        durability: Durability,
    },
}

/// A host directory (volume data or bind source) mounted at a path in the container.
pub(crate) struct BindInto {
    pub source: PathBuf,
    pub destination: String,
    pub read_only: bool,
}

impl Engine {
    /// How to see this container's files; a running one's namespace is opened now, so a
    /// container that stops later keeps its view for the child.
    pub(crate) fn view_of(&self, record: &ContainerRecord) -> Result<View> {
        if let (Status::Running, Some(init)) = (record.state.status, record.state.init) {
            let path = format!("/proc/{}/ns/mnt", init.pid);
            let ns = open(
                path.as_str(),
                OFlag::O_RDONLY | OFlag::O_CLOEXEC,
                Mode::empty(),
            );
            // Checked after opening: the fd pins the namespace, a match means it's ours.
            if let Ok(mnt_ns) = ns {
                if init.is_alive() {
                    return Ok(View::Running { mnt_ns });
                }
            }
            // Stopped in between: its files are still there, seen the stopped way.
            let record = self.container(record.id.as_str())?;
            if record.state.status == Status::Running {
                return Err(Error::Conflict(format!(
                    "cannot enter container {}: its init process is gone",
                    record.name
                )));
            }
        }
        let binds = record
            .config
            .mounts
            .iter()
            .filter_map(|m| {
                let source = match m.kind {
                    MountKind::Volume => self.paths().volume_data(&m.source),
                    MountKind::Bind => PathBuf::from(&m.source),
                    // Empty while stopped: a copy into one lands in the writable layer.
                    MountKind::Tmpfs => return None,
                };
                Some(BindInto {
                    source,
                    destination: m.destination.clone(),
                    read_only: m.read_only,
                })
            })
            .collect();
        Ok(View::Stopped {
            overlay: self.overlay_of(record),
            binds,
            durability: if record.config.is_throwaway() {
                Durability::Unsynced
            } else {
                Durability::Synced
            },
        })
    }
}

/// What a child reports over its status socket.
pub(crate) enum Message {
    /// Something the job wants the parent to know before it finishes (e.g. a stat).
    Note(Vec<u8>),
    /// The job finished with this result.
    Done(Vec<u8>),
}

const NOTE: u8 = b'N';
const DONE: u8 = b'O';
const FAILED: u8 = b'E';
const NOT_FOUND: u8 = b'F';
/// Status messages are small (a stat or an error line); bulk data goes over the pipe.
const MAX_MESSAGE: usize = 64 * 1024;

/// The child's end of the status socket.
pub(crate) struct Reporter {
    sock: OwnedFd,
}

impl Reporter {
    pub fn note(&self, payload: &[u8]) -> Result<()> {
        self.send(NOTE, payload)
    }

    fn send(&self, tag: u8, payload: &[u8]) -> Result<()> {
        let mut message = Vec::with_capacity(payload.len() + 1);
        message.push(tag);
        message.extend_from_slice(&payload[..payload.len().min(MAX_MESSAGE - 1)]);
        send(self.sock.as_raw_fd(), &message, MsgFlags::empty())
            .map(drop)
            .context(|| "reporting to the parent".into())
    }
}

/// A forked child working in a container's view; killed and reaped if dropped early.
pub(crate) struct ViewChild {
    pid: Option<Pid>,
    sock: OwnedFd,
}

/// Forks a child that enters `view` and runs `job` there. `job` gets the reporter for
/// notes; what it returns is the `Done` payload, its error is relayed as the error.
pub(crate) fn spawn(
    view: &View,
    job: impl FnOnce(&Reporter) -> Result<Vec<u8>>,
) -> Result<ViewChild> {
    let (ours, theirs) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .context(|| "creating the status socket".into())?;
    // SAFETY: the child only runs the job and leaves with _exit; it never returns into
    // the caller's code.
    match unsafe { fork() }.context(|| "forking".into())? {
        ForkResult::Child => {
            drop(ours);
            let reporter = Reporter { sock: theirs };
            // A panic must not unwind into the caller's code running in this child.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                enter(view).and_then(|()| job(&reporter))
            }))
            .unwrap_or_else(|_| Err(Error::Runtime("the copy process panicked".into())));
            let sent = match result {
                Ok(payload) => reporter.send(DONE, &payload),
                Err(Error::NoSuchPath { path, container }) => {
                    reporter.send(NOT_FOUND, format!("{container}\0{path}").as_bytes())
                }
                Err(e) => reporter.send(FAILED, e.to_string().as_bytes()),
            };
            // SAFETY: leave without running the parent's destructors or atexit handlers.
            unsafe { libc::_exit(if sent.is_ok() { 0 } else { 1 }) }
        }
        ForkResult::Parent { child } => Ok(ViewChild {
            pid: Some(child),
            sock: ours,
        }),
    }
}

impl ViewChild {
    /// The next message; an error the child reported (or its death) as the error.
    pub(crate) fn receive(&mut self) -> Result<Message> {
        let mut buf = vec![0u8; MAX_MESSAGE];
        let n = loop {
            match recv(self.sock.as_raw_fd(), &mut buf, MsgFlags::empty()) {
                Err(nix::Error::EINTR) => continue,
                other => break other.context(|| "reading the copy process's status".into())?,
            }
        };
        if n == 0 {
            self.reap();
            return Err(Error::Runtime(
                "the process working in the container exited without a result".into(),
            ));
        }
        let payload = buf[1..n].to_vec();
        match buf[0] {
            NOTE => Ok(Message::Note(payload)),
            DONE => {
                self.reap();
                Ok(Message::Done(payload))
            }
            NOT_FOUND => {
                self.reap();
                let text = String::from_utf8_lossy(&payload);
                let (container, path) = text.split_once('\0').unwrap_or(("", &text));
                Err(Error::NoSuchPath {
                    path: path.to_owned(),
                    container: container.to_owned(),
                })
            }
            _ => {
                self.reap();
                Err(Error::Runtime(
                    String::from_utf8_lossy(&payload).into_owned(),
                ))
            }
        }
    }

    /// Waits for the final message, skipping notes.
    pub fn finish(mut self) -> Result<Vec<u8>> {
        loop {
            if let Message::Done(payload) = self.receive()? {
                return Ok(payload);
            }
        }
    }

    fn reap(&mut self) {
        if let Some(pid) = self.pid.take() {
            while let Err(nix::Error::EINTR) = waitpid(pid, None) {}
        }
    }
}

impl Drop for ViewChild {
    fn drop(&mut self) {
        // Dropped before its result: the caller gave up (a cancelled copy).
        if let Some(pid) = self.pid {
            let _ = kill(pid, Signal::SIGKILL);
            self.reap();
        }
    }
}

/// In the child: make "/" the container's root.
fn enter(view: &View) -> Result<()> {
    match view {
        View::Running { mnt_ns } => {
            // Joining a mount namespace also moves root and cwd to its root.
            setns(mnt_ns.as_fd(), CloneFlags::CLONE_NEWNS)
                .context(|| "joining the container's mount namespace".into())
        }
        View::Stopped {
            overlay,
            binds,
            durability,
        } => {
            // Nothing mounted here may propagate back to the host.
            super::overlay::enter_private_mount_namespace()?;
            overlay.mount_with(*durability)?;
            let root = open(
                &overlay.merged,
                OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .context(|| format!("opening {}", overlay.merged.display()))?;
            for bind in binds {
                bind_into(root.as_fd(), bind)?;
            }
            chroot(&overlay.merged).context(|| "entering the container root".into())?;
            chdir("/").context(|| "entering the container root".into())
        }
    }
}

/// The resolve flags for every container path: symlinks and `..` stay inside the root.
pub(crate) fn in_root() -> ResolveFlag {
    ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS
}

/// `openat2` with [`in_root`] resolution, retried on EAGAIN: the kernel refuses an
/// in-root lookup through `..` whenever any mount or rename happened meanwhile, anywhere on
/// the system, and asks the caller to try again.
pub(crate) fn open_in_root<Fd: std::os::fd::AsFd>(
    dir: Fd,
    path: &str,
    flags: OFlag,
    mode: Mode,
) -> nix::Result<OwnedFd> {
    const ATTEMPTS: usize = 1000;
    let mut attempt = 0;
    loop {
        let how = OpenHow::new()
            .flags(flags | OFlag::O_CLOEXEC)
            .mode(mode)
            .resolve(in_root());
        match openat2(&dir, path, how) {
            Err(nix::Error::EAGAIN) if attempt < ATTEMPTS => attempt += 1,
            other => return other,
        }
    }
}

fn fd_path(fd: BorrowedFd<'_>) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// Bind-mounts a volume or host directory at its destination resolved inside `root`,
/// creating the mount point as the start of the container would.
fn bind_into(root: BorrowedFd<'_>, bind: &BindInto) -> Result<()> {
    let what = || format!("mounting {} at {}", bind.source.display(), bind.destination);
    let source = open(
        &bind.source,
        OFlag::O_PATH | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context(what)?;
    let is_dir = nix::sys::stat::fstat(&source)
        .map(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR)
        .context(what)?;
    let target = mount_point(root, &bind.destination, is_dir).context(what)?;
    mount(
        Some(&fd_path(source.as_fd())),
        &fd_path(target.as_fd()),
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .context(what)?;
    if bind.read_only {
        // A copy into a read-only mount must fail as it would in the running container.
        mount(
            None::<&str>,
            &fd_path(target.as_fd()),
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_REC,
            None::<&str>,
        )
        .context(what)?;
    }
    Ok(())
}

/// Opens (creating what is missing) the mount point `path` inside `root`. Every prefix is
/// resolved from the container's root, so a symlink on the way means what it means there.
fn mount_point(root: BorrowedFd<'_>, path: &str, dir: bool) -> nix::Result<OwnedFd> {
    let no_mode = Mode::empty();
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let mut current = open_in_root(root, "/", OFlag::O_PATH | OFlag::O_DIRECTORY, no_mode)?;
    let mut prefix = String::new();
    for (i, part) in parts.iter().enumerate() {
        prefix.push('/');
        prefix.push_str(part);
        let last = i + 1 == parts.len();
        let flags = if last && !dir {
            OFlag::O_PATH
        } else {
            OFlag::O_PATH | OFlag::O_DIRECTORY
        };
        current = match open_in_root(root, prefix.as_str(), flags, no_mode) {
            Err(nix::Error::ENOENT) => {
                if last && !dir {
                    let create =
                        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_NOFOLLOW;
                    drop(open_in_root(
                        &current,
                        part,
                        create,
                        Mode::from_bits_truncate(0o644),
                    )?);
                } else {
                    match nix::sys::stat::mkdirat(&current, *part, Mode::from_bits_truncate(0o755))
                    {
                        Ok(()) | Err(nix::Error::EEXIST) => {}
                        Err(e) => return Err(e),
                    }
                }
                open_in_root(root, prefix.as_str(), flags, no_mode)?
            }
            other => other?,
        };
    }
    Ok(current)
}
