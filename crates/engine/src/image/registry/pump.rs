//! A layer's bytes, read from the registry by a thread of their own and handed over a
//! bounded channel, so a cancelled pull stops at once even while the registry stalls: a
//! socket read can wait out its whole timeout (a minute), a channel wait is polled.

use std::io::Read;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::Duration;

use super::client::Client;
use super::pull::Cancel;
use super::resume::ResumingBlob;
use crate::ids::Digest;

/// How often a layer waiting on the registry looks at its cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(100);
/// Bytes a download thread reads at once, and chunks it may hold ahead of the unpacker.
const PUMP_CHUNK: usize = 64 << 10;
const PUMP_AHEAD: usize = 16;

/// What a download thread hands the unpacker.
enum Chunk {
    /// The registry answered; bytes follow.
    Opened,
    /// Bytes of the blob; empty at its end.
    Data(Vec<u8>),
    Failed(std::io::Error),
}

/// A layer's bytes, read from the registry by a thread of their own, so a cancel stops
/// the pull at once even while the registry stalls (a socket read can wait a minute).
/// The thread, left alone then, ends at its next read, when nobody takes its bytes.
pub(super) struct Pumped<'a> {
    chunks: Receiver<Chunk>,
    chunk: Vec<u8>,
    at: usize,
    /// The blob's end came: every later read is 0, as a stream's.
    ended: bool,
    cancel: &'a Cancel,
}

impl<'a> Pumped<'a> {
    /// Opens the blob on a thread and waits until the registry answered.
    pub(super) fn open(
        client: &Arc<Client>,
        (repository, digest, size): (&str, &Digest, u64),
        cancel: &'a Cancel,
    ) -> std::io::Result<Pumped<'a>> {
        let (sender, chunks) = sync_channel(PUMP_AHEAD);
        let (client, repository, digest) = (client.clone(), repository.to_owned(), digest.clone());
        std::thread::Builder::new()
            .name("pull-layer".into())
            .spawn(move || pump(&client, (&repository, &digest, size), &sender))?;
        let mut pumped = Pumped {
            chunks,
            chunk: Vec::new(),
            at: 0,
            ended: false,
            cancel,
        };
        match pumped.next()? {
            Chunk::Opened => Ok(pumped),
            Chunk::Failed(e) => Err(e),
            Chunk::Data(_) => Err(std::io::Error::other("the download sent bytes unopened")),
        }
    }

    /// The next message, failing once the pull is cancelled.
    fn next(&mut self) -> std::io::Result<Chunk> {
        loop {
            if self.cancel.is_cancelled() {
                return Err(std::io::Error::other("the pull was cancelled"));
            }
            match self.chunks.recv_timeout(CANCEL_POLL) {
                Ok(chunk) => return Ok(chunk),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(std::io::Error::other("the download stopped"))
                }
            }
        }
    }
}

impl Read for Pumped<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.chunk.len() {
            if self.ended {
                return Ok(0);
            }
            match self.next()? {
                Chunk::Data(data) if data.is_empty() => self.ended = true,
                Chunk::Data(data) => (self.chunk, self.at) = (data, 0),
                Chunk::Failed(e) => return Err(e),
                Chunk::Opened => {}
            }
        }
        // A cancel stops a layer mid-stream even when its bytes are already here.
        if self.cancel.is_cancelled() {
            return Err(std::io::Error::other("the pull was cancelled"));
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The download thread: the blob's bytes (resumed across dropped connections) into
/// `sender`, until their end, an error, or nobody listening.
fn pump(
    client: &Client,
    (repository, digest, size): (&str, &Digest, u64),
    sender: &SyncSender<Chunk>,
) {
    let mut blob = match ResumingBlob::open(client, repository, digest, size) {
        Ok(blob) => blob,
        Err(e) => {
            let _ = sender.send(Chunk::Failed(e));
            return;
        }
    };
    if sender.send(Chunk::Opened).is_err() {
        return;
    }
    loop {
        let mut data = vec![0u8; PUMP_CHUNK];
        match blob.read(&mut data) {
            Ok(n) => {
                data.truncate(n);
                if sender.send(Chunk::Data(data)).is_err() || n == 0 {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = sender.send(Chunk::Failed(e));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    fn pumped(cancel: &Cancel) -> (SyncSender<Chunk>, Pumped<'_>) {
        let (sender, chunks) = sync_channel(PUMP_AHEAD);
        let pumped = Pumped {
            chunks,
            chunk: Vec::new(),
            at: 0,
            ended: false,
            cancel,
        };
        (sender, pumped)
    }

    #[test]
    fn a_cancelled_pull_stops_at_its_next_read() {
        let cancel = Cancel::default();
        let (sender, mut reader) = pumped(&cancel);
        sender.send(Chunk::Data(b"0123456789".to_vec())).unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(reader.read(&mut buf).unwrap(), 4);
        assert_eq!(&buf, b"0123");
        cancel.clone().cancel();
        let err = reader.read(&mut buf).unwrap_err();
        assert_eq!(err.to_string(), "the pull was cancelled");
    }

    #[test]
    fn a_cancel_stops_a_read_the_registry_stalls() {
        let cancel = Cancel::default();
        // A registry that never sends: the sender lives on, silent.
        let (_sender, mut reader) = pumped(&cancel);
        let flag = cancel.flag();
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            flag.store(true, Ordering::SeqCst);
        });
        let err = reader.read(&mut [0u8; 4]).unwrap_err();
        assert_eq!(err.to_string(), "the pull was cancelled");
        canceller.join().unwrap();
    }

    #[test]
    fn pumped_bytes_read_through_to_their_end() {
        let cancel = Cancel::default();
        let (sender, mut reader) = pumped(&cancel);
        std::thread::spawn(move || {
            for part in [&b"ab"[..], b"cde", b""] {
                sender.send(Chunk::Data(part.to_vec())).unwrap();
            }
        });
        let mut all = Vec::new();
        reader.read_to_end(&mut all).unwrap();
        assert_eq!(all, b"abcde");
        // The thread is gone, and the end stays an end.
        assert_eq!(reader.read(&mut [0u8; 4]).unwrap(), 0);
    }
}
