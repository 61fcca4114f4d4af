//! Reading an archive pipe on a thread of its own, a few chunks ahead of its reader. The
//! unpacking thread of a copy of many small files is the busy one (it makes every name);
//! copying the bytes out of the pipe is a tenth of its time, which this takes off it.

use std::fs::File;
use std::io::{BufReader, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

/// Chunks read ahead at once: with 128 KiB chunks, at most 512 KiB held.
const AHEAD: usize = 4;

/// A reader of `file` that reads it on a thread of its own; reads it directly when no
/// thread could be started. Dropped early, the thread stops at its next chunk (or with
/// the process, which a copy's child leaves right after).
pub(crate) struct ReadAhead {
    source: Source,
}

enum Source {
    Thread {
        chunks: Receiver<std::io::Result<Vec<u8>>>,
        /// Spent chunks go back to be filled again.
        spent: SyncSender<Vec<u8>>,
        current: Vec<u8>,
        at: usize,
        ended: bool,
    },
    Direct(BufReader<Arc<File>>),
}

impl ReadAhead {
    pub(crate) fn new(file: File, chunk: usize) -> ReadAhead {
        let file = Arc::new(file);
        let theirs = Arc::clone(&file);
        let (fill, chunks) = sync_channel(AHEAD);
        let (spent, refill) = sync_channel(AHEAD + 2);
        let started = std::thread::Builder::new()
            .name("archive-read".into())
            .spawn(move || read_ahead(&theirs, chunk, &fill, &refill));
        let source = match started {
            Ok(_) => Source::Thread {
                chunks,
                spent,
                current: Vec::new(),
                at: 0,
                ended: false,
            },
            Err(_) => Source::Direct(BufReader::with_capacity(chunk, file)),
        };
        ReadAhead { source }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let (chunks, spent, current, at, ended) = match &mut self.source {
            Source::Direct(reader) => return reader.read(buf),
            Source::Thread {
                chunks,
                spent,
                current,
                at,
                ended,
            } => (chunks, spent, current, at, ended),
        };
        while *at == current.len() {
            if *ended || buf.is_empty() {
                return Ok(0);
            }
            match chunks.recv() {
                Ok(Ok(chunk)) if chunk.is_empty() => *ended = true,
                Ok(Ok(chunk)) => {
                    let old = std::mem::replace(current, chunk);
                    // A full return queue only means a new buffer later.
                    let _ = spent.try_send(old);
                    *at = 0;
                }
                Ok(Err(e)) => {
                    *ended = true;
                    return Err(e);
                }
                Err(_) => {
                    *ended = true;
                    return Err(std::io::Error::other("the archive reader stopped"));
                }
            }
        }
        let n = buf.len().min(current.len() - *at);
        buf[..n].copy_from_slice(&current[*at..*at + n]);
        *at += n;
        Ok(n)
    }
}

fn read_ahead(
    file: &File,
    chunk: usize,
    fill: &SyncSender<std::io::Result<Vec<u8>>>,
    refill: &Receiver<Vec<u8>>,
) {
    loop {
        let mut buf = refill.try_recv().unwrap_or_default();
        buf.resize(chunk, 0);
        let read = loop {
            match (&mut &*file).read(&mut buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let last = !matches!(read, Ok(n) if n > 0);
        let sent = fill.send(read.map(|n| {
            buf.truncate(n);
            buf
        }));
        // The end, a failure, or a reader that went away.
        if last || sent.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_what_the_pipe_carries_in_order_to_its_end() {
        let (r, w) = nix::unistd::pipe().unwrap();
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let expected = data.clone();
        let writer = std::thread::spawn(move || {
            let mut w = File::from(w);
            for piece in data.chunks(7919) {
                w.write_all(piece).unwrap();
            }
        });
        let mut reader = ReadAhead::new(File::from(r), 64 << 10);
        let mut got = Vec::new();
        let mut small = [0u8; 513];
        // Odd-sized reads across chunk boundaries, then the rest at once.
        for _ in 0..100 {
            let n = reader.read(&mut small).unwrap();
            got.extend_from_slice(&small[..n]);
        }
        reader.read_to_end(&mut got).unwrap();
        writer.join().unwrap();
        assert!(got == expected, "{} bytes of {}", got.len(), expected.len());
        assert_eq!(reader.read(&mut small).unwrap(), 0);
    }
}
