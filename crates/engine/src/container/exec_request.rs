//! An `exec` whose joiner the container's monitor forks, as conmon does for podman: what
//! the CLI sends it.
//!
//! The CLI runs from the host's binary and never enters the container; the monitor
//! already runs from a binary nothing can write through (see `runtime::sealed`), and so
//! does every child it forks. So an exec costs one start of berth, not a second one from
//! a sealed view.
//!
//! A request is one datagram to the monitor's [`EXEC_SOCKET`], in the container's
//! directory (root's alone, like the attach socket): a fixed tag and the descriptors the
//! joiner needs (SCM_RIGHTS). What to run follows as the first message on the request's
//! sync socket, for the joiner to read: the monitor itself parses nothing, it takes the
//! datagram, forks and closes its copies.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixDatagram;

use nix::sys::socket::{
    recv, recvmsg, sendmsg, socket, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags,
    SockFlag, SockType, UnixAddr,
};
use oci_spec::runtime::{LinuxCapabilities, LinuxSeccomp, Process, User};
use serde::{Deserialize, Serialize};

use super::monitor::socket_path;

/// The socket a monitor takes exec requests on, in its container's directory.
pub(crate) const EXEC_SOCKET: &str = "exec.sock";

/// Opens each request's datagram; one of another layout (another version of berth) is
/// dropped whole.
const TAG: &[u8] = b"berth-exec 2";

/// Descriptors in a request before the namespaces and the cgroups: sync, exit and the
/// three standard streams.
const FIXED_FDS: usize = 5;

/// The most descriptors a request may carry: the fixed ones, six namespaces and one
/// per cgroup hierarchy (ten on a v1 host).
const MAX_FDS: usize = 64;

/// The largest body a joiner reads, so a confused peer can't make it allocate without
/// bound.
const MAX_BODY: usize = 4 << 20;

/// What the joiner needs, as descriptors.
pub(crate) struct Descriptors {
    /// The joiner's end of the CLI's socket: the body comes in on it, errors and the
    /// terminal go out; it ends once the process runs.
    pub sync: OwnedFd,
    /// Where the joiner writes the process's exit code (i32, little-endian) last; only
    /// when the monitor forked it (a joiner of the caller's is waited for).
    pub exit: Option<OwnedFd>,
    pub stdio: [OwnedFd; 3],
    /// In the order of `exec::NAMESPACES`.
    pub namespaces: Vec<OwnedFd>,
    /// The container's cgroups, for the process to enter (see `cgroups::entry::Entry::into_fds`).
    pub cgroups: Vec<OwnedFd>,
}

/// What to run, and the shape of its streams.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Body {
    pub process: ExecProcess,
    pub seccomp: Option<LinuxSeccomp>,
    pub tty: bool,
    pub interactive: bool,
    pub detach: bool,
}

/// The parts of the process spec an exec'd process uses (see `init::run_exec`). Not the
/// whole OCI `Process`: reading one back would link the `regex` crate (for its CPU
/// affinity field) into every berth process, 1.7 MB more to load at each start.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ExecProcess {
    args: Vec<String>,
    env: Vec<String>,
    cwd: std::path::PathBuf,
    user: User,
    capabilities: Option<LinuxCapabilities>,
    no_new_privileges: Option<bool>,
}

impl ExecProcess {
    pub(crate) fn of(process: &Process) -> ExecProcess {
        ExecProcess {
            args: process.args().clone().unwrap_or_default(),
            env: process.env().clone().unwrap_or_default(),
            cwd: process.cwd().clone(),
            user: process.user().clone(),
            capabilities: process.capabilities().clone(),
            no_new_privileges: process.no_new_privileges(),
        }
    }

    /// The process spec again, with these parts.
    pub(crate) fn to_process(&self) -> Process {
        let mut process = Process::default();
        process.set_args(Some(self.args.clone()));
        process.set_env(Some(self.env.clone()));
        process.set_cwd(self.cwd.clone());
        process.set_user(self.user.clone());
        process.set_capabilities(self.capabilities.clone());
        process.set_no_new_privileges(self.no_new_privileges);
        process
    }
}

/// Sends `request` to the monitor listening in `dir` (the container's directory). The
/// caller keeps its descriptors and closes them once sent.
pub(crate) fn send(dir: &OwnedFd, request: &Descriptors) -> std::io::Result<()> {
    let exit = request.exit.as_ref().ok_or(nix::Error::EINVAL)?;
    let fds: Vec<RawFd> = [&request.sync, exit]
        .into_iter()
        .chain(&request.stdio)
        .chain(&request.namespaces)
        .chain(&request.cgroups)
        .map(AsRawFd::as_raw_fd)
        .collect();
    if fds.len() > MAX_FDS {
        return Err(nix::Error::E2BIG.into());
    }
    let counts = [request.namespaces.len() as u8, request.cgroups.len() as u8];
    let socket = socket(
        AddressFamily::Unix,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    let addr = UnixAddr::new(&socket_path(dir, EXEC_SOCKET))?;
    sendmsg(
        socket.as_raw_fd(),
        &[IoSlice::new(TAG), IoSlice::new(&counts)],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        Some(&addr),
    )?;
    Ok(())
}

/// Takes one request off the monitor's socket without waiting: None when there is none.
/// A request that is not whole or not of this layout is an error, and its descriptors
/// are closed.
pub(crate) fn take(socket: &UnixDatagram) -> std::io::Result<Option<Descriptors>> {
    let mut buf = [0u8; 64];
    let mut iov = [IoSliceMut::new(&mut buf)];
    let mut cmsg = nix::cmsg_space!([RawFd; MAX_FDS]);
    let msg = match recvmsg::<()>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::MSG_CMSG_CLOEXEC | MsgFlags::MSG_DONTWAIT,
    ) {
        Ok(msg) => msg,
        Err(nix::Error::EAGAIN) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    // Owned at once, so every path below closes them.
    let mut fds: Vec<OwnedFd> = Vec::new();
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(received) = c {
            // SAFETY: SCM_RIGHTS hands us new descriptors that nothing else owns.
            fds.extend(
                received
                    .iter()
                    .map(|&fd| unsafe { OwnedFd::from_raw_fd(fd) }),
            );
        }
    }
    let truncated = msg
        .flags
        .intersects(MsgFlags::MSG_CTRUNC | MsgFlags::MSG_TRUNC);
    let len = msg.bytes;
    let data = &buf[..len];
    let layout = data
        .strip_prefix(TAG)
        .and_then(|counts| <[u8; 2]>::try_from(counts).ok());
    let invalid = || std::io::Error::from(std::io::ErrorKind::InvalidData);
    let [namespaces, cgroups] = match layout {
        Some(counts) if !truncated => counts.map(usize::from),
        _ => return Err(invalid()),
    };
    if fds.len() != FIXED_FDS + namespaces + cgroups {
        return Err(invalid());
    }
    let mut fds = fds.into_iter();
    let mut next = || fds.next().ok_or_else(invalid);
    let (sync, exit) = (next()?, next()?);
    let stdio = [next()?, next()?, next()?];
    let namespaces = (0..namespaces).map(|_| next()).collect::<Result<_, _>>()?;
    let cgroups = (0..cgroups).map(|_| next()).collect::<Result<_, _>>()?;
    Ok(Some(Descriptors {
        sync,
        exit: Some(exit),
        stdio,
        namespaces,
        cgroups,
    }))
}

/// Queues `body` on the CLI's end of the sync socket, for the joiner to read first.
pub(crate) fn send_body(ours: &OwnedFd, body: &Body) -> std::io::Result<()> {
    // Pretty, and read back below through a `Value`: the encodings berth already has for
    // these types (config.json, `seccomp=PROFILE.json`), not a third copy of the code
    // that would grow the binary every berth process loads.
    let bytes = serde_json::to_vec_pretty(body)?;
    if bytes.len() > MAX_BODY {
        return Err(nix::Error::EMSGSIZE.into());
    }
    // A message must fit the socket's send buffer whole; the default (~200 KiB) does
    // unless a seccomp profile is very large.
    let room = nix::sys::socket::getsockopt(ours, nix::sys::socket::sockopt::SndBuf)?;
    if bytes.len() + 4096 > room {
        nix::sys::socket::setsockopt(
            ours,
            nix::sys::socket::sockopt::SndBufForce,
            &(bytes.len() + 4096),
        )?;
    }
    nix::sys::socket::send(ours.as_raw_fd(), &bytes, MsgFlags::empty())?;
    Ok(())
}

/// Reads the body, the first message on the joiner's end of the sync socket.
pub(crate) fn read_body(sync: &OwnedFd) -> std::io::Result<Body> {
    // The message's length first: MSG_TRUNC makes recv report it whole.
    let len = recv(
        sync.as_raw_fd(),
        &mut [],
        MsgFlags::MSG_PEEK | MsgFlags::MSG_TRUNC,
    )?;
    if len == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    if len > MAX_BODY {
        return Err(nix::Error::EMSGSIZE.into());
    }
    let mut buf = vec![0u8; len];
    let n = recv(sync.as_raw_fd(), &mut buf, MsgFlags::empty())?;
    let value: serde_json::Value = serde_json::from_slice(&buf[..n])?;
    Ok(serde_json::from_value(value)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::socketpair;
    use std::fs::File;

    fn pipe() -> (OwnedFd, OwnedFd) {
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap()
    }

    /// A request, and the read end of its exit pipe.
    fn request(namespaces: usize, cgroups: usize) -> (Descriptors, OwnedFd) {
        let file = || OwnedFd::from(File::open("/dev/null").unwrap());
        let (exit_r, exit_w) = pipe();
        let request = Descriptors {
            sync: pipe().0,
            exit: Some(exit_w),
            stdio: [pipe().0, pipe().1, pipe().1],
            namespaces: (0..namespaces).map(|_| file()).collect(),
            cgroups: (0..cgroups).map(|_| file()).collect(),
        };
        (request, exit_r)
    }

    /// The monitor's socket in a directory of the test's.
    fn listening() -> (tempfile::TempDir, OwnedFd, UnixDatagram) {
        let scratch = tempfile::tempdir().unwrap();
        let dir = super::super::monitor::open_dir(scratch.path()).unwrap();
        let socket = UnixDatagram::bind(socket_path(&dir, EXEC_SOCKET)).unwrap();
        (scratch, dir, socket)
    }

    #[test]
    fn a_request_arrives_with_every_descriptor_in_place() {
        let (_scratch, dir, socket) = listening();
        assert!(take(&socket).unwrap().is_none(), "nothing sent yet");
        let (sent, exit_r) = request(6, 10);
        send(&dir, &sent).unwrap();
        let got = take(&socket).unwrap().expect("a request");
        assert_eq!(got.namespaces.len(), 6);
        assert_eq!(got.cgroups.len(), 10);
        // The same open files: a byte written on the received exit pipe arrives at the
        // sender's other end.
        nix::unistd::write(got.exit.as_ref().unwrap(), b"x").unwrap();
        let mut byte = [0u8; 1];
        assert_eq!(nix::unistd::read(&exit_r, &mut byte), Ok(1));
        let flags = nix::fcntl::fcntl(&got.sync, nix::fcntl::FcntlArg::F_GETFD).unwrap();
        assert_ne!(
            flags & libc::FD_CLOEXEC,
            0,
            "received descriptors are close-on-exec"
        );
    }

    #[test]
    fn a_datagram_of_another_layout_is_dropped_with_its_descriptors() {
        let (_scratch, dir, socket) = listening();
        let sender = UnixDatagram::unbound().unwrap();
        let path = socket_path(&dir, EXEC_SOCKET);
        sender.send_to(b"berth-exec 1\x06\x0a", &path).unwrap();
        assert!(take(&socket).is_err());
        // Counts that don't match what came.
        let (r, _w) = pipe();
        let fds = [r.as_raw_fd()];
        sendmsg(
            sender.as_raw_fd(),
            &[IoSlice::new(TAG), IoSlice::new(&[6, 10])],
            &[ControlMessage::ScmRights(&fds)],
            MsgFlags::empty(),
            Some(&UnixAddr::new(&path).unwrap()),
        )
        .unwrap();
        assert!(take(&socket).is_err());
        assert!(take(&socket).unwrap().is_none());
    }

    #[test]
    fn a_body_larger_than_the_default_buffer_goes_whole() {
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .unwrap();
        let mut process = Process::default();
        process.set_env(Some(vec!["X=".to_owned() + &"y".repeat(1 << 20)]));
        process.set_cwd("/work".into());
        let body = Body {
            process: ExecProcess::of(&process),
            seccomp: None,
            tty: false,
            interactive: true,
            detach: false,
        };
        send_body(&ours, &body).unwrap();
        let got = read_body(&theirs).unwrap();
        let (sent, got_process) = (body.process.to_process(), got.process.to_process());
        assert_eq!(got_process.env(), process.env());
        assert_eq!(got_process.cwd(), process.cwd());
        assert_eq!(got_process.user(), process.user());
        assert_eq!(got_process.capabilities(), process.capabilities());
        assert_eq!(got_process.args(), sent.args());
        assert!(got.interactive && !got.tty && !got.detach);
        drop(ours);
        assert!(read_body(&theirs).is_err(), "end of file is no body");
    }
}
