//! Waiting on descriptors with `poll`, for the event loops of the monitor and the CLI's
//! relays: a signal that interrupts the wait is no error (the caller works out its
//! timeout again and waits anew), and what each descriptor is ready for comes back by
//! index, so the loop can give up its borrow of the descriptors at once.

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// Waits until one of `fds` is ready or `timeout` passes. Each one's returned events by
/// index (empty: not ready), or None when a signal interrupted the wait.
pub fn poll_ready(fds: &mut [PollFd], timeout: PollTimeout) -> nix::Result<Option<Vec<PollFlags>>> {
    match poll(fds, timeout) {
        Ok(_) => Ok(Some(
            fds.iter()
                .map(|f| f.revents().unwrap_or(PollFlags::empty()))
                .collect(),
        )),
        Err(nix::Error::EINTR) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn readiness_comes_back_by_index() {
        let (mut a, b) = UnixStream::pair().unwrap();
        let (c, _d) = UnixStream::pair().unwrap();
        a.write_all(b"x").unwrap();
        let mut fds = [
            PollFd::new(c.as_fd(), PollFlags::POLLIN),
            PollFd::new(b.as_fd(), PollFlags::POLLIN),
        ];
        let ready = poll_ready(&mut fds, PollTimeout::ZERO).unwrap().unwrap();
        assert!(ready[0].is_empty());
        assert!(ready[1].contains(PollFlags::POLLIN));
    }

    #[test]
    fn an_interrupted_wait_is_no_error() {
        extern "C" fn on_alarm(_: libc::c_int) {}
        let (_a, b) = UnixStream::pair().unwrap();
        // A handler without SA_RESTART: poll returns EINTR when the alarm rings.
        let action = nix::sys::signal::SigAction::new(
            nix::sys::signal::SigHandler::Handler(on_alarm),
            nix::sys::signal::SaFlags::empty(),
            nix::sys::signal::SigSet::empty(),
        );
        // SAFETY: the handler does nothing.
        let old =
            unsafe { nix::sys::signal::sigaction(nix::sys::signal::Signal::SIGALRM, &action) }
                .unwrap();
        // SAFETY: plain calls on this thread's own handle.
        let thread = unsafe { libc::pthread_self() };
        let ringer = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            // SAFETY: the thread waits for this one to end, so it is alive.
            assert_eq!(unsafe { libc::pthread_kill(thread, libc::SIGALRM) }, 0);
        });
        let mut fds = [PollFd::new(b.as_fd(), PollFlags::POLLIN)];
        let waited = poll_ready(&mut fds, PollTimeout::from(10_000u16));
        ringer.join().unwrap();
        // SAFETY: puts back what was there.
        unsafe { nix::sys::signal::sigaction(nix::sys::signal::Signal::SIGALRM, &old) }.unwrap();
        assert_eq!(waited, Ok(None));
    }
}
