//! A synchronous rtnetlink handle: one NETLINK_ROUTE socket, requests answered by an ACK or
//! a dump. The engine is synchronous and the monitor is a single-threaded forked process,
//! so this speaks the protocol directly (netlink-packet-route + netlink-sys) instead of
//! through the async rtnetlink crate, which would need a tokio runtime per call.

use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use netlink_packet_core::{
    NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, NlasIterator, NLM_F_ACK,
    NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use nix::errno::Errno;
use nix::sched::{setns, CloneFlags};
use nix::sys::socket::{setsockopt, sockopt};
use nix::sys::time::TimeVal;

use crate::error::{Context, Error, Result};

/// One datagram never exceeds this: the kernel caps dump chunks at 32 KiB and single
/// messages are far smaller. Anything larger is refused rather than grown into.
pub(crate) const RECV_BUF: usize = 64 * 1024;
/// The kernel answers at once; a reply this late means something is wrong, not slow.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// A namespace with more objects than this is not one berth made; refuse to hold it all.
const MAX_DUMP_ENTRIES: usize = 65_536;
/// A dump interrupted by concurrent changes is retried this many times.
const DUMP_ATTEMPTS: usize = 3;
/// The extended-ACK attribute carrying the kernel's human-readable message.
const NLMSGERR_ATTR_MSG: u16 = 1;
/// Longest extended-ACK text kept (the kernel's are short; this only bounds it).
const MAX_EXT_MSG: usize = 256;

/// A request the kernel refused: its errno and, when it gave one, its own explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nack {
    pub errno: Errno,
    pub message: Option<String>,
}

impl Nack {
    /// "File exists", or "Invalid argument (MTU greater than device maximum)".
    pub fn describe(&self) -> String {
        match &self.message {
            Some(message) => format!("{} ({message})", self.errno.desc()),
            None => self.errno.desc().to_string(),
        }
    }

    /// The one-line engine error for `what` (e.g. "creating veth bv1a2b: File exists").
    pub(crate) fn into_error(self, what: &str) -> Error {
        Error::Runtime(format!("{what}: {}", self.describe()))
    }
}

/// A NETLINK_ROUTE socket bound to the namespace it was created in.
pub struct Netlink {
    socket: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl Netlink {
    /// A socket in the calling thread's network namespace.
    pub fn open() -> Result<Netlink> {
        let socket = route_socket().context(|| "opening a netlink route socket".into())?;
        setsockopt(
            &socket,
            sockopt::ReceiveTimeout,
            &TimeVal::new(REPLY_TIMEOUT.as_secs() as _, 0),
        )
        .context(|| "setting the netlink reply timeout".into())?;
        // Ask for the kernel's error text, and for errors to echo only the request header
        // (not the whole request) so replies stay small.
        socket
            .set_ext_ack(true)
            .and_then(|()| socket.set_cap_ack(true))
            .context(|| "enabling netlink extended acks".into())?;
        Ok(Netlink {
            socket,
            seq: 0,
            buf: Vec::with_capacity(RECV_BUF),
        })
    }

    /// A socket created inside `netns` (a network namespace fd). A socket keeps the
    /// namespace it was made in, so a short-lived thread enters the namespace, makes it and
    /// hands it back; the calling thread never moves.
    pub fn open_in(netns: BorrowedFd<'_>) -> Result<Netlink> {
        in_netns(netns, Netlink::open)
    }

    /// Sends `message` and waits for the kernel's ACK. `flags` adds to REQUEST|ACK (e.g.
    /// NLM_F_CREATE | NLM_F_EXCL). A refusal is returned as a [`Nack`] for the caller to
    /// judge (an EEXIST can be fine); transport failures are errors.
    pub(crate) fn try_ack(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<std::result::Result<(), Nack>> {
        let seq = self.send(message, NLM_F_REQUEST | NLM_F_ACK | flags)?;
        loop {
            for reply in self.recv(seq)? {
                match reply.payload {
                    NetlinkPayload::Error(err) => {
                        return Ok(match err.code {
                            None => Ok(()),
                            Some(code) => Err(nack(code.get(), reply.header.flags, &err.header)),
                        });
                    }
                    NetlinkPayload::Overrun(_) => return Err(overrun()),
                    // Anything else before the ACK (an echo) is not asked for; skip it.
                    _ => {}
                }
            }
        }
    }

    /// [`Netlink::try_ack`], with a refusal turned into the one-line error "`what`: cause".
    pub(crate) fn ack(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
        what: &str,
    ) -> Result<()> {
        self.try_ack(message, flags)?
            .map_err(|nack| nack.into_error(what))
    }

    /// Sends a get request for one object and returns the kernel's answer, or its refusal
    /// (ENODEV for a missing link) for the caller to judge.
    pub(crate) fn try_get(
        &mut self,
        message: RouteNetlinkMessage,
    ) -> Result<std::result::Result<RouteNetlinkMessage, Nack>> {
        let seq = self.send(message, NLM_F_REQUEST)?;
        loop {
            for reply in self.recv(seq)? {
                match reply.payload {
                    NetlinkPayload::InnerMessage(inner) => return Ok(Ok(inner)),
                    NetlinkPayload::Error(err) => {
                        if let Some(code) = err.code {
                            return Ok(Err(nack(code.get(), reply.header.flags, &err.header)));
                        }
                    }
                    NetlinkPayload::Overrun(_) => return Err(overrun()),
                    _ => {}
                }
            }
        }
    }

    /// Sends a dump request and collects every answer up to NLMSG_DONE. A dump the kernel
    /// marks as interrupted (objects changed meanwhile) is taken again.
    pub fn dump(
        &mut self,
        message: RouteNetlinkMessage,
        what: &str,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        for _ in 0..DUMP_ATTEMPTS {
            if let Some(entries) = self.dump_once(message.clone(), what)? {
                return Ok(entries);
            }
        }
        Err(Error::Runtime(format!(
            "{what}: the kernel kept interrupting the dump (objects changing too fast)"
        )))
    }

    /// One dump; `None` when it was interrupted.
    fn dump_once(
        &mut self,
        message: RouteNetlinkMessage,
        what: &str,
    ) -> Result<Option<Vec<RouteNetlinkMessage>>> {
        let seq = self.send(message, NLM_F_REQUEST | NLM_F_DUMP)?;
        let mut entries = Vec::new();
        let mut interrupted = false;
        loop {
            for reply in self.recv(seq)? {
                interrupted |= reply.header.flags & NLM_F_DUMP_INTR != 0;
                match reply.payload {
                    NetlinkPayload::Done(_) => return Ok((!interrupted).then_some(entries)),
                    NetlinkPayload::Error(err) => match err.code {
                        Some(code) => {
                            return Err(
                                nack(code.get(), reply.header.flags, &err.header).into_error(what)
                            )
                        }
                        None => return Ok((!interrupted).then_some(entries)),
                    },
                    NetlinkPayload::Overrun(_) => return Err(overrun()),
                    NetlinkPayload::InnerMessage(inner) => {
                        if entries.len() >= MAX_DUMP_ENTRIES {
                            return Err(Error::Runtime(format!(
                                "{what}: more than {MAX_DUMP_ENTRIES} entries, refusing the rest"
                            )));
                        }
                        entries.push(inner);
                    }
                    _ => {}
                }
            }
        }
    }

    fn send(&mut self, message: RouteNetlinkMessage, flags: u16) -> Result<u32> {
        // Sequence 0 is what unsolicited messages carry; never use it for a request.
        self.seq = self.seq.wrapping_add(1).max(1);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(message));
        packet.finalize();
        let mut bytes = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut bytes);
        let kernel = SocketAddr::new(0, 0);
        let sent = self
            .socket
            .send_to(&bytes, &kernel, 0)
            .context(|| "sending a netlink request".into())?;
        if sent != bytes.len() {
            return Err(Error::Runtime(format!(
                "sending a netlink request: only {sent} of {} bytes went out",
                bytes.len()
            )));
        }
        Ok(self.seq)
    }

    /// One datagram from the kernel, keeping only the messages answering request `seq`
    /// (leftovers of an earlier, abandoned request are dropped).
    fn recv(&mut self, seq: u32) -> Result<Vec<NetlinkMessage<RouteNetlinkMessage>>> {
        loop {
            let from = recv_datagram(&self.socket, &mut self.buf).map_err(|err| {
                if matches!(err.kind(), std::io::ErrorKind::WouldBlock) {
                    Error::Runtime(format!(
                        "netlink: no reply from the kernel within {}s",
                        REPLY_TIMEOUT.as_secs()
                    ))
                } else {
                    Error::Io {
                        context: "receiving a netlink reply".into(),
                        err,
                    }
                }
            })?;
            // Only the kernel (port 0) answers requests; other senders are not trusted.
            if from.port_number() != 0 {
                continue;
            }
            let mut replies = parse_datagram(&self.buf)?;
            replies.retain(|reply| reply.header.sequence_number == seq);
            if !replies.is_empty() {
                return Ok(replies);
            }
        }
    }
}

impl AsFd for Netlink {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

/// Runs `make` on a short-lived thread that entered the network namespace `netns`, and
/// returns what it made (sockets keep the namespace they were created in).
pub fn in_netns<T: Send>(
    netns: BorrowedFd<'_>,
    make: impl FnOnce() -> Result<T> + Send,
) -> Result<T> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                setns(netns, CloneFlags::CLONE_NEWNET)
                    .context(|| "entering a network namespace".into())?;
                make()
            })
            .join()
            .unwrap_or_else(|_| {
                Err(Error::Runtime(
                    "a thread working in a network namespace panicked".into(),
                ))
            })
    })
}

/// An unbound-to-groups NETLINK_ROUTE socket with a kernel-assigned port.
pub(crate) fn route_socket() -> std::io::Result<Socket> {
    let mut socket = Socket::new(NETLINK_ROUTE)?;
    socket.bind_auto()?;
    Ok(socket)
}

/// Reads one datagram into `buf` (cleared first). A datagram larger than the buffer is an
/// error, never a silent truncation.
pub(crate) fn recv_datagram(socket: &Socket, buf: &mut Vec<u8>) -> std::io::Result<SocketAddr> {
    buf.clear();
    buf.reserve(RECV_BUF);
    let capacity = buf.capacity();
    let (len, from) = socket.recv_from(buf, libc::MSG_TRUNC)?;
    if len > capacity {
        return Err(std::io::Error::other(format!(
            "netlink message of {len} bytes is larger than the {capacity}-byte buffer"
        )));
    }
    Ok(from)
}

/// Splits a datagram into its netlink messages.
pub(crate) fn parse_datagram(bytes: &[u8]) -> Result<Vec<NetlinkMessage<RouteNetlinkMessage>>> {
    let mut messages = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let rest = &bytes[offset..];
        let len = NetlinkBuffer::new_checked(rest)
            .map_err(|err| bad_reply(&err))?
            .length() as usize;
        let message = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&rest[..len])
            .map_err(|err| bad_reply(&err))?;
        messages.push(message);
        // Messages are 4-byte aligned; a zero length cannot happen past new_checked.
        offset += (len + 3) & !3;
    }
    Ok(messages)
}

fn bad_reply(err: &impl std::fmt::Display) -> Error {
    Error::Runtime(format!("netlink: malformed message from the kernel: {err}"))
}

fn overrun() -> Error {
    Error::Runtime("netlink: the kernel reported an overrun".into())
}

/// Builds a [`Nack`] from an NLMSG_ERROR: the errno, plus the kernel's extended-ACK text
/// found after the echoed request header.
fn nack(code: i32, flags: u16, payload: &[u8]) -> Nack {
    Nack {
        errno: Errno::from_raw(code.saturating_abs()),
        message: ext_ack_message(flags, payload),
    }
}

fn ext_ack_message(flags: u16, payload: &[u8]) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    // The echo is only the 16-byte header when capped, else the whole request.
    let echoed = if flags & NLM_F_CAPPED != 0 {
        16
    } else {
        NetlinkBuffer::new_checked(payload).ok()?.length() as usize
    };
    let tlvs = payload.get((echoed + 3) & !3..)?;
    for nla in NlasIterator::new(tlvs) {
        let nla = nla.ok()?;
        if nla.kind() == NLMSGERR_ATTR_MSG {
            let text = nla.value().split(|b| *b == 0).next().unwrap_or_default();
            let text = String::from_utf8_lossy(&text[..text.len().min(MAX_EXT_MSG)]);
            return Some(text.trim().to_string()).filter(|t| !t.is_empty());
        }
    }
    None
}
