//! Bringing up the loopback of a fresh network namespace.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Sets `lo` up in the calling thread's network namespace, unless it is up already. A
/// fresh namespace has its loopback down; programs expect 127.0.0.1 to work, as it does in
/// Docker with `--network none`. Setting IFF_UP makes the kernel add the addresses. On a
/// failure, the step that failed and its error.
pub(crate) fn bring_up() -> Result<(), (&'static str, std::io::Error)> {
    // SAFETY: plain socket and ioctl calls on a zeroed ifreq we own.
    unsafe {
        let sock = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if sock < 0 {
            return Err(("opening a socket", std::io::Error::last_os_error()));
        }
        let sock = OwnedFd::from_raw_fd(sock);
        let mut req: libc::ifreq = std::mem::zeroed();
        for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
            *dst = *src as libc::c_char;
        }
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) < 0 {
            return Err(("reading loopback flags", std::io::Error::last_os_error()));
        }
        let up = libc::IFF_UP as libc::c_short;
        if req.ifr_ifru.ifru_flags & up != 0 {
            return Ok(());
        }
        req.ifr_ifru.ifru_flags |= up;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) < 0 {
            return Err(("bringing loopback up", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}
