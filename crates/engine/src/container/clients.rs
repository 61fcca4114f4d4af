//! The monitor's clients: the CLI that started the container (`run`, `start -a`) and any
//! number of `attach`es. Each socket is non-blocking with buffers of its own, so a client
//! that stops reading, or sends half a frame, never stops the monitor.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout};

use super::frames::{encode_frame, take_frame, Kind};
use crate::readiness::poll_ready;

/// Output queued for one client beyond which the monitor stops reading the container's
/// output until the client catches up: the backpressure a blocking write gives, without
/// blocking the monitor's other work.
const HIGH_WATER: usize = 1 << 20;
/// How long a client may hold the container's output back before it is let go.
pub(super) const STALL_LIMIT: Duration = Duration::from_secs(30);
/// `attach` clients one container serves at most: each holds up to [`HIGH_WATER`] of
/// output, so without a bound a crowd of them grows the monitor without end.
pub(super) const MAX_ATTACHED: usize = 32;
/// What one wake-up reads from a client at most, so one busy client can't starve the rest.
const READ_BUDGET: usize = 64 * 1024;

pub(super) struct Client {
    stream: UnixStream,
    /// Came by `attach`: its leaving or its end of input leaves the container's stdin
    /// open, since it is not the one that started the container.
    pub attached: bool,
    inbox: Vec<u8>,
    outbox: Vec<u8>,
    /// Since when the outbox has been over the high-water mark.
    full_since: Option<Instant>,
}

/// What a client sent since the last look.
pub(super) struct Received {
    pub frames: Vec<(Kind, Vec<u8>)>,
    /// The client is gone: end of stream, an error, or a frame that makes no sense.
    pub gone: bool,
}

impl Client {
    pub fn new(stream: UnixStream, attached: bool) -> io::Result<Client> {
        stream.set_nonblocking(true)?;
        Ok(Client {
            stream,
            attached,
            inbox: Vec::new(),
            outbox: Vec::new(),
            full_since: None,
        })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.stream.as_fd()
    }

    pub(crate) fn wants_to_write(&self) -> bool {
        !self.outbox.is_empty()
    }

    /// Too far behind: the container's output waits for this client.
    pub(crate) fn is_full(&self) -> bool {
        self.outbox.len() >= HIGH_WATER
    }

    /// Held the output back for longer than [`STALL_LIMIT`].
    pub fn stalled(&self, now: Instant) -> bool {
        self.full_since
            .is_some_and(|since| now.duration_since(since) > STALL_LIMIT)
    }

    /// Queues a frame and writes what the socket takes now; false once the client is gone.
    pub fn send(&mut self, kind: Kind, payload: &[u8]) -> bool {
        self.outbox.extend_from_slice(&encode_frame(kind, payload));
        self.flush()
    }

    /// Writes what the socket takes now; false once the client is gone.
    pub fn flush(&mut self) -> bool {
        while !self.outbox.is_empty() {
            match self.stream.write(&self.outbox) {
                Ok(0) => return false,
                Ok(n) => {
                    self.outbox.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        self.full_since = match (self.is_full(), self.full_since) {
            (false, _) => None,
            (true, since) => since.or_else(|| Some(Instant::now())),
        };
        true
    }

    /// Sends what is queued, waiting for the socket until `deadline` (if any) at most.
    pub(crate) fn flush_until(&mut self, deadline: Option<Instant>) {
        while self.flush() && self.wants_to_write() {
            let timeout = match deadline {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return;
                    }
                    PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX)
                }
                None => PollTimeout::NONE,
            };
            let mut fds = [PollFd::new(self.stream.as_fd(), PollFlags::POLLOUT)];
            // Interrupted: the loop works the time left out again.
            if poll_ready(&mut fds, timeout).is_err() {
                return;
            }
        }
    }

    /// Reads what has arrived and takes the whole frames out of it.
    pub(crate) fn receive(&mut self) -> Received {
        let mut buf = [0u8; 16 * 1024];
        let mut read = 0;
        let mut gone = false;
        while read < READ_BUDGET {
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    gone = true;
                    break;
                }
                Ok(n) => {
                    self.inbox.extend_from_slice(&buf[..n]);
                    read += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    gone = true;
                    break;
                }
            }
        }
        let mut frames = Vec::new();
        loop {
            match take_frame(&mut self.inbox) {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(_) => {
                    gone = true;
                    break;
                }
            }
        }
        Received { frames, gone }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::frames::read_frame;

    #[test]
    fn a_client_that_reads_nothing_fills_up_without_blocking_and_then_stalls() {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let mut client = Client::new(ours, true).unwrap();
        let chunk = vec![b'x'; 64 * 1024];
        let started = Instant::now();
        let mut frames = 0;
        while !client.is_full() {
            assert!(client.send(Kind::Stdout, &chunk));
            frames += 1;
        }
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(!client.stalled(Instant::now()));
        assert!(client.stalled(Instant::now() + STALL_LIMIT + Duration::from_secs(1)));
        // Once it reads, what was queued arrives whole and in order.
        let reader = std::thread::spawn(move || {
            let mut total = 0;
            while let Some((kind, payload)) = read_frame(&mut theirs).unwrap() {
                assert_eq!(kind, Kind::Stdout);
                total += payload.len();
            }
            total
        });
        client.flush_until(Some(Instant::now() + Duration::from_secs(10)));
        assert!(!client.wants_to_write());
        assert!(!client.is_full());
        drop(client);
        assert_eq!(reader.join().unwrap(), frames * chunk.len());
    }

    #[test]
    fn half_a_frame_waits_and_a_frame_then_an_end_are_both_seen() {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let mut client = Client::new(ours, false).unwrap();
        let wire = encode_frame(Kind::Stdin, b"hello");
        theirs.write_all(&wire[..3]).unwrap();
        let got = client.receive();
        assert!(got.frames.is_empty() && !got.gone);
        theirs.write_all(&wire[3..]).unwrap();
        theirs.write_all(&encode_frame(Kind::Detach, &[])).unwrap();
        drop(theirs);
        let got = client.receive();
        assert_eq!(
            got.frames,
            [(Kind::Stdin, b"hello".to_vec()), (Kind::Detach, Vec::new())]
        );
        assert!(got.gone);
    }
}
