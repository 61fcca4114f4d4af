//! How much a pulled layer may write: the registry is not trusted to tell. A manifest's
//! sizes are claims, and a small blob can decompress without end (a zip bomb), so a
//! layer is refused when its claimed size would not fit in the free space of the
//! engine's filesystem, when it unpacks to more than a ratio of its compressed size,
//! or when unpacking it would leave less than a reserve free on that filesystem.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::units::human_size;

/// Unpacked bytes per compressed byte allowed by default. Real layers stay under about
/// 20x (text and binaries compress 2-10x); gzip's own limit is about 1000x, reached only
/// by runs of one byte: 100x leaves real layers room and stops a bomb early.
pub(crate) const DEFAULT_MAX_UNPACK_RATIO: u64 = 100;
/// Below this, a layer is never refused for its ratio: a tar's headers and padding
/// alone make a small layer (a config file, an empty directory) 50x its gzip.
const RATIO_FLOOR: u64 = 16 << 20;
/// Free space kept on the engine's filesystem: 5% of it, at most 1 GiB, so a small
/// filesystem stays usable and a large one keeps room for logs and containers.
const RESERVE_SHARE: u64 = 20;
const MAX_RESERVE: u64 = 1 << 30;
/// Unpacked bytes between two looks at the free space.
const CHECK_EVERY: u64 = 1 << 20;

/// The limits one layer unpacks under.
#[derive(Debug)]
pub struct LayerBounds {
    /// Names the layer in the refusal.
    label: String,
    /// A directory on the engine's filesystem.
    fs: PathBuf,
    /// None: no ratio bound (the user turned it off).
    max_unpacked: Option<u64>,
    ratio: u64,
    compressed: u64,
    /// Why the layer was refused, once it was: the unpacker's error is replaced by it.
    refusal: Mutex<Option<String>>,
}

/// Free bytes (for an unprivileged writer) and the reserve of the filesystem of `dir`.
fn space(dir: &Path) -> Result<(u64, u64)> {
    let stat = nix::sys::statvfs::statvfs(dir).map_err(|e| {
        Error::Runtime(format!(
            "reading the free space of {}: {}",
            dir.display(),
            e.desc()
        ))
    })?;
    let unit = stat.fragment_size() as u64;
    let size = (stat.blocks() as u64).saturating_mul(unit);
    let free = (stat.blocks_available() as u64).saturating_mul(unit);
    Ok((free, (size / RESERVE_SHARE).min(MAX_RESERVE)))
}

impl LayerBounds {
    /// Bounds for a layer whose manifest claims `compressed` bytes, unpacked into `fs`;
    /// `ratio` 0 lifts the ratio bound. Fails at once when the claim alone would not fit.
    pub fn check(label: &str, fs: &Path, compressed: u64, ratio: u64) -> Result<LayerBounds> {
        let (free, reserve) = space(fs)?;
        if compressed > free.saturating_sub(reserve) {
            return Err(Error::Runtime(format!(
                "{label}: its manifest claims {}, more than the {} free on the engine's \
                 filesystem ({} kept in reserve)",
                human_size(compressed),
                human_size(free),
                human_size(reserve)
            )));
        }
        let max_unpacked = (ratio != 0).then(|| ratio.saturating_mul(compressed).max(RATIO_FLOOR));
        Ok(LayerBounds {
            label: label.to_owned(),
            fs: fs.to_owned(),
            max_unpacked,
            ratio,
            compressed,
            refusal: Mutex::new(None),
        })
    }

    /// Why the layer was refused, if it was.
    pub fn refusal(&self) -> Option<Error> {
        let refusal = self.refusal.lock().unwrap_or_else(|p| p.into_inner());
        refusal.clone().map(Error::Runtime)
    }

    fn refuse(&self, reason: String) -> io::Error {
        let message = format!("{}: {reason}", self.label);
        *self.refusal.lock().unwrap_or_else(|p| p.into_inner()) = Some(message.clone());
        io::Error::other(message)
    }

    /// Checks the bounds with `unpacked` bytes read so far.
    fn check_unpacked(&self, unpacked: u64) -> io::Result<()> {
        if let Some(max) = self.max_unpacked {
            if unpacked > max {
                return Err(self.refuse(format!(
                    "unpacks to more than {} times its {} (a decompression bomb?); \
                     max-unpack-ratio in config.toml raises the bound",
                    self.ratio,
                    human_size(self.compressed)
                )));
            }
        }
        let (free, reserve) = space(&self.fs).map_err(io::Error::other)?;
        if free < reserve {
            return Err(self.refuse(format!(
                "stopped after unpacking {}: only {} left free on the engine's filesystem \
                 ({} kept in reserve)",
                human_size(unpacked),
                human_size(free),
                human_size(reserve)
            )));
        }
        Ok(())
    }
}

/// Counts the unpacked bytes read through it, and fails once they pass a bound.
pub struct Bounded<'a, R> {
    inner: R,
    bounds: Option<&'a LayerBounds>,
    read: u64,
    next_check: u64,
}

impl<'a, R: Read> Bounded<'a, R> {
    /// `bounds` None: reads through, unbounded (a load, an import: local input).
    pub fn new(inner: R, bounds: Option<&'a LayerBounds>) -> Bounded<'a, R> {
        Bounded {
            inner,
            bounds,
            read: 0,
            next_check: CHECK_EVERY,
        }
    }
}

impl<R: Read> Read for Bounded<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(bounds) = self.bounds else {
            return self.inner.read(buf);
        };
        // Never hand out more than the next check allows, so no read overshoots it.
        let room = (self.next_check - self.read).min(buf.len() as u64) as usize;
        let n = self.inner.read(&mut buf[..room])?;
        self.read += n as u64;
        if self.read >= self.next_check {
            bounds.check_unpacked(self.read)?;
            self.next_check = self.read + CHECK_EVERY;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(reader: &mut impl Read) -> io::Result<u64> {
        io::copy(reader, &mut io::sink())
    }

    #[test]
    fn a_layer_past_its_ratio_is_refused_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let bounds = LayerBounds::check("layer 1 (x)", dir.path(), 1 << 10, 100).unwrap();
        let zeros = io::repeat(0).take(RATIO_FLOOR + (2 << 20));
        let err = drain(&mut Bounded::new(zeros, Some(&bounds))).unwrap_err();
        assert!(err.to_string().contains("more than 100 times"), "{err}");
        let refusal = bounds.refusal().unwrap().to_string();
        assert!(refusal.starts_with("layer 1 (x): unpacks to"), "{refusal}");

        // Under the floor, or with the bound lifted, it reads through.
        let bounds = LayerBounds::check("layer 1 (x)", dir.path(), 1 << 10, 100).unwrap();
        let small = io::repeat(0).take(RATIO_FLOOR);
        assert_eq!(
            drain(&mut Bounded::new(small, Some(&bounds))).unwrap(),
            RATIO_FLOOR
        );
        let lifted = LayerBounds::check("layer 1 (x)", dir.path(), 1 << 10, 0).unwrap();
        let big = io::repeat(0).take(RATIO_FLOOR * 2);
        assert_eq!(
            drain(&mut Bounded::new(big, Some(&lifted))).unwrap(),
            RATIO_FLOOR * 2
        );
        assert!(lifted.refusal().is_none());
    }

    #[test]
    fn a_claim_larger_than_the_free_space_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let err = LayerBounds::check("layer 2 (y)", dir.path(), u64::MAX / 2, 100)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("layer 2 (y): its manifest claims") && err.contains("free"),
            "{err}"
        );
    }
}
