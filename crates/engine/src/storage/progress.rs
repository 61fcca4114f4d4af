//! Progress and cancel of a copy, shared between the thread that copies and the one that
//! shows it (the dashboard's progress bar, `cp`'s progress line).
//!
//! The copy's stream is wrapped in [`Counted`]; the other side holds the same
//! [`Progress`] and reads the count or cancels. A cancelled stream fails at its next read
//! or write and drops what it wraps at once: for a container's [`super::copy::CopyOut`]
//! that kills and reaps the copy process.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes copied so far and whether the copy should stop.
#[derive(Debug)]
pub struct Progress {
    bytes: AtomicU64,
    /// What the copy will count in all, when known ahead (0: not known).
    total: AtomicU64,
    /// The count at which the copy cancels itself.
    limit: AtomicU64,
    cancelled: AtomicBool,
    started: Instant,
}

impl Progress {
    pub fn new() -> Arc<Progress> {
        Arc::new(Progress {
            bytes: AtomicU64::new(0),
            total: AtomicU64::new(0),
            limit: AtomicU64::new(u64::MAX),
            cancelled: AtomicBool::new(false),
            started: Instant::now(),
        })
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Sets what the copy will count in all (an estimate: the bar stops short of full
    /// until the copy ends).
    pub fn set_total(&self, bytes: u64) {
        self.total.store(bytes, Ordering::Relaxed);
    }

    pub fn total(&self) -> Option<u64> {
        Some(self.total.load(Ordering::Relaxed)).filter(|&t| t > 0)
    }

    /// The share done, 0 to 1, when the total is known.
    pub fn fraction(&self) -> Option<f64> {
        let total = self.total()?;
        Some((self.bytes() as f64 / total as f64).min(1.0))
    }

    /// The time left at the mean rate so far, when the total is known and bytes moved.
    pub fn eta(&self) -> Option<Duration> {
        let total = self.total()?;
        let rate = self.rate();
        (rate > 0).then(|| Duration::from_secs(total.saturating_sub(self.bytes()) / rate))
    }

    /// Cancels the copy once `bytes` have passed: at a known point, where a cancel by
    /// hand would race the copy (tests).
    pub fn cancel_after(&self, bytes: u64) {
        self.limit.store(bytes, Ordering::Relaxed);
    }

    /// Asks the copy to stop; it fails with [`Cancelled`] at its next read or write.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// After a failed copy, tells a cancel from a real failure.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Mean bytes per second since the copy started.
    pub fn rate(&self) -> u64 {
        let secs = self.elapsed().as_secs_f64().max(1e-3);
        (self.bytes() as f64 / secs) as u64
    }

    fn add(&self, n: usize) {
        let now = self.bytes.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if now >= self.limit.load(Ordering::Relaxed) {
            self.cancel();
        }
    }
}

/// The error of a cancelled copy's stream. Not `ErrorKind::Interrupted`: `std::io` retries
/// those (`read_to_end`, `write_all`, `io::copy`), forever on a cancel that stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the copy was cancelled")]
pub struct Cancelled;

/// A reader or writer counting what passes through it into a [`Progress`], calling `tick`
/// after each chunk (a progress line drawn by the thread that copies).
pub struct Counted<T, F = fn(&Progress)> {
    /// `None` once cancelled: the stream is dropped as soon as the cancel is seen.
    inner: Option<T>,
    progress: Arc<Progress>,
    tick: F,
}

impl<T> Counted<T> {
    pub fn new(inner: T, progress: Arc<Progress>) -> Counted<T> {
        Counted::with_tick(inner, progress, |_: &Progress| {})
    }
}

impl<T, F: FnMut(&Progress)> Counted<T, F> {
    pub fn with_tick(inner: T, progress: Arc<Progress>, tick: F) -> Counted<T, F> {
        Counted {
            inner: Some(inner),
            progress,
            tick,
        }
    }

    pub fn progress(&self) -> &Arc<Progress> {
        &self.progress
    }

    /// The stream, or [`Cancelled`] (dropping the stream) if the copy was cancelled.
    fn inner(&mut self) -> std::io::Result<&mut T> {
        if self.progress.is_cancelled() {
            self.inner = None;
        }
        self.inner
            .as_mut()
            .ok_or_else(|| std::io::Error::other(Cancelled))
    }

    fn count(&mut self, n: usize) {
        self.progress.add(n);
        (self.tick)(&self.progress);
    }
}

impl<R: Read, F: FnMut(&Progress)> Read for Counted<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner()?.read(buf)?;
        self.count(n);
        Ok(n)
    }
}

impl<W: Write, F: FnMut(&Progress)> Write for Counted<W, F> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner()?.write(buf)?;
        self.count(n);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner()?.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that notes being dropped.
    struct Tracked(Arc<AtomicBool>);

    impl Read for Tracked {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            buf.fill(7);
            Ok(buf.len())
        }
    }

    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }

    #[test]
    fn counts_reads_and_writes() {
        let progress = Progress::new();
        let mut out = Counted::new(Vec::new(), progress.clone());
        out.write_all(&[1; 1000]).unwrap();
        let mut input = Counted::new(&[2u8; 300][..], progress.clone());
        std::io::copy(&mut input, &mut std::io::sink()).unwrap();
        assert_eq!(progress.bytes(), 1300);
    }

    #[test]
    fn a_cancel_fails_the_stream_and_drops_it() {
        let progress = Progress::new();
        let dropped = Arc::new(AtomicBool::new(false));
        let mut input = Counted::new(Tracked(dropped.clone()), progress.clone());
        let mut buf = [0u8; 10];
        assert_eq!(input.read(&mut buf).unwrap(), 10);
        progress.cancel();
        let err = std::io::copy(&mut input, &mut std::io::sink()).unwrap_err();
        assert_eq!(err.to_string(), "the copy was cancelled");
        assert!(err.get_ref().is_some_and(|e| e.is::<Cancelled>()));
        assert!(dropped.load(Ordering::Relaxed));
        assert_eq!(progress.bytes(), 10);
    }

    #[test]
    fn a_limit_cancels_once_passed_and_a_total_gives_the_share() {
        let progress = Progress::new();
        assert_eq!(progress.fraction(), None);
        progress.set_total(100);
        progress.cancel_after(25);
        let mut input = Counted::new(&[0u8; 100][..], progress.clone());
        let mut buf = [0u8; 10];
        for _ in 0..3 {
            input.read_exact(&mut buf).unwrap();
        }
        assert!(progress.is_cancelled());
        assert!(input.read(&mut buf).is_err());
        assert_eq!(progress.fraction(), Some(0.3));
    }
}
