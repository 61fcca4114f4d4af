//! A reader that reports how many of a blob's bytes went through it, for pull's and
//! push's progress events: every [`STEP`] bytes and at the end, not on every read.

use std::io::Read;

/// Progress is reported at most once per this many bytes.
pub(super) const STEP: u64 = 256 << 10;

pub(super) struct Counting<R, F> {
    inner: R,
    done: u64,
    reported: u64,
    total: u64,
    /// Called with the bytes so far and the total.
    report: F,
}

impl<R, F: FnMut(u64, u64)> Counting<R, F> {
    pub(super) fn new(inner: R, total: u64, report: F) -> Self {
        Counting {
            inner,
            done: 0,
            reported: 0,
            total,
            report,
        }
    }
}

impl<R: Read, F: FnMut(u64, u64)> Read for Counting<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        if self.done - self.reported >= STEP || (n > 0 && self.done == self.total) {
            self.reported = self.done;
            (self.report)(self.done, self.total);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_each_step_and_the_end() {
        let data = vec![0u8; (STEP * 2 + 10) as usize];
        let mut seen = Vec::new();
        let mut reader = Counting::new(&data[..], data.len() as u64, |done, total| {
            seen.push((done, total))
        });
        std::io::copy(&mut reader, &mut std::io::sink()).unwrap();
        let total = data.len() as u64;
        assert_eq!(seen, [(STEP, total), (STEP * 2, total), (total, total)]);
    }
}
