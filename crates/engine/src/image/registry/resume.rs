//! A blob download that survives dropped connections: when the stream breaks (an error,
//! or an end before the declared size), it asks again for the rest with a `Range`
//! request after a growing pause, so the caller reads one unbroken stream. A registry
//! that ignores the range answers the whole blob, and the part already read is skipped.
//!
//! Bounded: a few failed attempts in a row end it, and so does a deadline that grows
//! with the blob's size, so a registry that drips bytes cannot hold a pull forever.

use std::io::{self, Read};
use std::time::{Duration, Instant};

use super::client::{Client, Failure, Opened};
use crate::ids::Digest;

/// Failed attempts in a row (no byte read between them) before giving up.
const MAX_ATTEMPTS: u32 = 5;
/// The first pause; each next one doubles, up to [`MAX_PAUSE`].
#[cfg(not(test))]
const FIRST_PAUSE: Duration = Duration::from_millis(250);
#[cfg(test)]
const FIRST_PAUSE: Duration = Duration::from_millis(2);
const MAX_PAUSE: Duration = Duration::from_secs(8);
/// Every blob gets this long, plus the time its size takes at [`SLOWEST_RATE`].
const BASE_DEADLINE: Duration = Duration::from_secs(300);
const SLOWEST_RATE: u64 = 32 << 10;

/// What the reader needs from the registry: a blob's bytes from an offset on. The
/// client implements it; tests give a scripted one.
pub trait BlobSource: Sync {
    fn open_blob(&self, repository: &str, digest: &Digest, offset: u64) -> Result<Opened, Failure>;
}

impl BlobSource for Client {
    fn open_blob(&self, repository: &str, digest: &Digest, offset: u64) -> Result<Opened, Failure> {
        self.blob_from(repository, digest, offset)
    }
}

/// Reads `size` bytes of a blob, reconnecting where the last connection broke.
pub struct ResumingBlob<'a, S: BlobSource + ?Sized> {
    source: &'a S,
    repository: &'a str,
    digest: &'a Digest,
    size: u64,
    done: u64,
    stream: Option<Box<dyn Read + Send>>,
    /// Attempts that read nothing, since the last byte.
    failures: u32,
    deadline: Instant,
    /// How many times the stream was resumed, for the message when it gives up.
    resumed: u32,
}

impl<'a, S: BlobSource + ?Sized> ResumingBlob<'a, S> {
    /// Opens the blob; the first request is retried as a resumed one would be.
    pub fn open(
        source: &'a S,
        repository: &'a str,
        digest: &'a Digest,
        size: u64,
    ) -> io::Result<Self> {
        let deadline = Instant::now() + BASE_DEADLINE + Duration::from_secs(size / SLOWEST_RATE);
        let mut blob = ResumingBlob {
            source,
            repository,
            digest,
            size,
            done: 0,
            stream: None,
            failures: 0,
            deadline,
            resumed: 0,
        };
        blob.reconnect(None)?;
        Ok(blob)
    }

    /// A new stream from `done` on, after a pause if an attempt failed; `cause` is why.
    fn reconnect(&mut self, cause: Option<io::Error>) -> io::Result<()> {
        self.stream = None;
        let mut cause = cause;
        loop {
            if let Some(error) = cause.take() {
                self.failures += 1;
                if self.failures >= MAX_ATTEMPTS || Instant::now() >= self.deadline {
                    return Err(self.gave_up(error));
                }
                std::thread::sleep(pause(self.failures));
                self.resumed += 1;
            }
            match self
                .source
                .open_blob(self.repository, self.digest, self.done)
            {
                Ok(opened) => match self.position(opened) {
                    Ok(stream) => {
                        self.stream = Some(stream);
                        return Ok(());
                    }
                    Err(e) => cause = Some(e),
                },
                // A 404 or a refused login is the answer, not an accident.
                Err(Failure {
                    error,
                    retry: false,
                }) => return Err(io::Error::other(error)),
                Err(Failure { error, retry: true }) => cause = Some(io::Error::other(error)),
            }
        }
    }

    /// A stream that starts at `done`: a range answer that starts there, or the whole
    /// blob with the part already read skipped.
    fn position(&self, opened: Opened) -> io::Result<Box<dyn Read + Send>> {
        match opened.starts_at {
            Some(start) if start == self.done => Ok(opened.stream),
            Some(start) => Err(io::Error::other(format!(
                "asked for bytes from {}, the registry sent from {start}",
                self.done
            ))),
            None => {
                let mut stream = opened.stream;
                let skipped = io::copy(&mut (&mut stream).take(self.done), &mut io::sink())?;
                if skipped < self.done {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the blob ended before the part already read",
                    ));
                }
                Ok(stream)
            }
        }
    }

    fn gave_up(&self, error: io::Error) -> io::Error {
        io::Error::new(
            error.kind(),
            format!(
                "{error} (after {} of {} bytes and {} retries)",
                self.done, self.size, self.resumed
            ),
        )
    }
}

impl<S: BlobSource + ?Sized> Read for ResumingBlob<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let room = (self.size - self.done).min(buf.len() as u64) as usize;
        loop {
            if Instant::now() >= self.deadline {
                return Err(self.gave_up(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the blob took too long",
                )));
            }
            let Some(stream) = self.stream.as_mut() else {
                self.reconnect(Some(io::Error::other("no stream")))?;
                continue;
            };
            match stream.read(&mut buf[..room]) {
                Ok(0) => self.reconnect(Some(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the connection closed early",
                )))?,
                Ok(n) => {
                    self.done += n as u64;
                    self.failures = 0;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => self.reconnect(Some(e))?,
            }
        }
    }
}

/// The pause after the `failures`th failure in a row: doubling, capped.
pub(super) fn pause(failures: u32) -> Duration {
    FIRST_PAUSE
        .saturating_mul(1 << failures.saturating_sub(1).min(8))
        .min(MAX_PAUSE)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Serves a blob, breaking each connection after a set number of bytes.
    struct Flaky {
        blob: Vec<u8>,
        /// Bytes each successive connection gives before it breaks; then whole.
        breaks: Mutex<Vec<usize>>,
        honours_range: bool,
        offsets: Mutex<Vec<u64>>,
    }

    impl BlobSource for Flaky {
        fn open_blob(&self, _: &str, _: &Digest, offset: u64) -> Result<Opened, Failure> {
            self.offsets.lock().unwrap().push(offset);
            let start = if self.honours_range { offset } else { 0 } as usize;
            let mut breaks = self.breaks.lock().unwrap();
            let limit = if breaks.is_empty() {
                usize::MAX
            } else {
                breaks.remove(0)
            };
            let rest = &self.blob[start..];
            let part = rest[..limit.min(rest.len())].to_vec();
            let broken = part.len() < rest.len();
            let stream: Box<dyn Read + Send> = if broken {
                Box::new(io::Cursor::new(part).chain(Failing))
            } else {
                Box::new(io::Cursor::new(part))
            };
            Ok(Opened {
                stream,
                starts_at: self.honours_range.then_some(offset),
            })
        }
    }

    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"))
        }
    }

    fn flaky(breaks: Vec<usize>, honours_range: bool) -> Flaky {
        Flaky {
            blob: (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect(),
            breaks: Mutex::new(breaks),
            honours_range,
            offsets: Mutex::new(Vec::new()),
        }
    }

    fn read_all(source: &Flaky) -> io::Result<Vec<u8>> {
        let digest = Digest::of_bytes(&source.blob);
        let mut blob = ResumingBlob::open(source, "repo", &digest, source.blob.len() as u64)?;
        let mut out = Vec::new();
        blob.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn a_broken_stream_resumes_from_where_it_broke() {
        let source = flaky(vec![30_000, 1, 50_000], true);
        assert_eq!(read_all(&source).unwrap(), source.blob);
        assert_eq!(*source.offsets.lock().unwrap(), [0, 30_000, 30_001, 80_001]);
    }

    #[test]
    fn a_registry_ignoring_the_range_has_the_read_part_skipped() {
        let source = flaky(vec![40_000], false);
        assert_eq!(read_all(&source).unwrap(), source.blob);
        assert_eq!(*source.offsets.lock().unwrap(), [0, 40_000]);
    }

    #[test]
    fn attempts_that_read_nothing_end_it() {
        let source = flaky(vec![10, 0, 0, 0, 0, 0, 0], true);
        let err = read_all(&source).unwrap_err().to_string();
        assert!(err.contains("after 10 of 100000 bytes"), "{err}");
        // The first connection, then one per failed attempt but the last.
        assert_eq!(source.offsets.lock().unwrap().len(), MAX_ATTEMPTS as usize);
    }

    #[test]
    fn pauses_grow_and_are_capped() {
        assert_eq!(pause(1), FIRST_PAUSE);
        assert_eq!(pause(2), FIRST_PAUSE * 2);
        assert!(pause(3) > pause(2));
        assert!(pause(u32::MAX) <= MAX_PAUSE);
    }
}
