//! Finishing small files on a second thread while the archive's thread makes the next
//! names. Unpacking many small files is kernel time: about half creating each name, half
//! writing its content, setting its metadata and closing it (more through overlayfs, where
//! every step goes through two filesystems). Names stay on the archive's thread, in
//! archive order, so replacing, linking and refusing unsafe entries work as without this;
//! what runs here needs no name, only the descriptor the create returned, so it can't be
//! led anywhere by what the tree holds.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::{set_file_meta, Ids, Meta};
use crate::error::{Context, Error, Result};

/// Files at most this big are finished aside (their content is held until then).
pub(super) const ASIDE_MAX: u64 = 64 << 10;
/// Files handed over at once: one wake-up of the thread per batch, not per file (a
/// futex wait and wake per file cost more than the overlap gained, on a busy machine).
const BATCH: usize = 16;
/// Batches waiting at once: with the one being filled and the one being finished, at
/// most 96 files held (6 MiB with [`ASIDE_MAX`]) and as many descriptors open.
const QUEUE: usize = 4;

/// A file made and opened on the archive's thread, with what remains to do.
pub(super) struct FileJob {
    pub fd: OwnedFd,
    pub data: Vec<u8>,
    pub meta: Meta,
    pub in_setgid_dir: bool,
    /// The archive's name, for an error.
    pub name: PathBuf,
}

/// The thread finishing [`FileJob`]s, in the order sent. Dropped, it finishes nothing
/// more (the unpack failed) and is joined, so nothing writes after the caller moves on.
pub(super) struct Finisher {
    batch: Vec<FileJob>,
    jobs: Option<SyncSender<Vec<FileJob>>>,
    worker: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    /// The first failure; the jobs after it are dropped unfinished.
    failed: Mutex<Option<Error>>,
    failing: AtomicBool,
    /// Set on drop: the unpack failed and what is queued goes away.
    stop: AtomicBool,
}

impl Finisher {
    /// `None` if no thread could be started: the caller finishes its files itself.
    pub(super) fn start(ids: Ids) -> Option<Finisher> {
        let (jobs, queue) = sync_channel(QUEUE);
        let shared = Arc::new(Shared::default());
        let theirs = Arc::clone(&shared);
        let worker = std::thread::Builder::new()
            .name("unpack-finish".into())
            .spawn(move || work(ids, &queue, &theirs))
            .ok()?;
        Some(Finisher {
            batch: Vec::with_capacity(BATCH),
            jobs: Some(jobs),
            worker: Some(worker),
            shared,
        })
    }

    /// Queues `job` (waiting while the queue is full); an earlier job's failure instead.
    pub(super) fn send(&mut self, job: FileJob) -> Result<()> {
        self.batch.push(job);
        if self.batch.len() < BATCH {
            return Ok(());
        }
        self.flush()
    }

    /// Hands the files batched so far to the thread.
    fn flush(&mut self) -> Result<()> {
        if self.shared.failing.load(Ordering::Acquire) {
            return Err(self.failure());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        let sent = self.jobs.as_ref().map(|jobs| jobs.send(batch));
        match sent {
            Some(Ok(())) => Ok(()),
            // The thread is gone: its failure, or that it went.
            _ => Err(self.failure()),
        }
    }

    /// Waits until every queued file is finished: the first failure, if any.
    pub(super) fn finish(mut self) -> Result<()> {
        if !self.batch.is_empty() {
            self.flush()?;
        }
        self.join()?;
        match self.take_failed() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn join(&mut self) -> Result<()> {
        drop(self.jobs.take());
        match self.worker.take().map(JoinHandle::join) {
            Some(Err(_)) => Err(Error::Runtime(
                "the thread writing the files' content stopped".into(),
            )),
            _ => Ok(()),
        }
    }

    fn take_failed(&self) -> Option<Error> {
        self.shared
            .failed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }

    fn failure(&mut self) -> Error {
        if let Err(e) = self.join() {
            return e;
        }
        self.take_failed().unwrap_or_else(|| {
            Error::Runtime("the thread writing the files' content stopped".into())
        })
    }
}

impl Drop for Finisher {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        // A failure here is the unpack's own, already on its way to the caller.
        let _ = self.join();
    }
}

fn work(ids: Ids, queue: &Receiver<Vec<FileJob>>, shared: &Shared) {
    for job in queue.iter().flatten() {
        if shared.stop.load(Ordering::Acquire) || shared.failing.load(Ordering::Acquire) {
            continue;
        }
        if let Err(e) = finish_file(ids, job) {
            let mut failed = shared
                .failed
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            failed.get_or_insert(e);
            shared.failing.store(true, Ordering::Release);
        }
    }
}

fn finish_file(ids: Ids, job: FileJob) -> Result<()> {
    let what = || format!("unpacking {}", job.name.display());
    let mut file = File::from(job.fd);
    file.write_all(&job.data).context(what)?;
    set_file_meta(ids, file.as_fd(), &job.meta, job.in_setgid_dir).context(what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::fcntl::OFlag;
    use nix::sys::stat::Mode;

    fn job(dir: &std::path::Path, name: &str, flags: OFlag) -> FileJob {
        let fd = nix::fcntl::open(
            &dir.join(name),
            flags | OFlag::O_CREAT,
            Mode::from_bits_truncate(0o644),
        )
        .unwrap();
        FileJob {
            fd,
            data: b"content".to_vec(),
            meta: Meta {
                mode: Mode::from_bits_truncate(0o644),
                uid: nix::unistd::Uid::from_raw(0),
                gid: nix::unistd::Gid::from_raw(0),
                mtime: nix::sys::time::TimeSpec::new(1_000_000, 0),
                xattrs: Vec::new(),
            },
            in_setgid_dir: false,
            name: PathBuf::from(name),
        }
    }

    /// A file that can't be finished fails the unpack, naming it, and the files queued
    /// after it are left alone.
    #[test]
    fn the_first_failure_is_the_unpacks() {
        let dir = tempfile::tempdir().unwrap();
        let mut finisher = Finisher::start(Ids::current()).unwrap();
        finisher
            .send(job(dir.path(), "good", OFlag::O_WRONLY))
            .unwrap();
        // Opened for reading only: the write fails.
        finisher
            .send(job(dir.path(), "bad", OFlag::O_RDONLY))
            .unwrap();
        let mut failed = None;
        for i in 0..1000 {
            if let Err(e) = finisher.send(job(dir.path(), &format!("after{i}"), OFlag::O_WRONLY)) {
                failed = Some(e);
                break;
            }
        }
        let err = match failed {
            Some(e) => e,
            None => finisher.finish().unwrap_err(),
        };
        assert!(err.to_string().contains("unpacking bad"), "{err}");
        assert_eq!(std::fs::read(dir.path().join("good")).unwrap(), b"content");
        assert!(std::fs::read(dir.path().join("bad")).unwrap().is_empty());
        assert!(std::fs::read(dir.path().join("after999"))
            .unwrap_or_default()
            .is_empty());
    }
}
