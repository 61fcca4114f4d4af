//! The stat cache of a build context: a file's content hash, kept with the stat it had
//! when it was read, so a rebuild re-reads only files whose stat changed.
//!
//! A record is trusted when the file's (dev, inode, size, mtime, ctime, mode) are all the
//! same and the file's ctime is older than the record by a margin: a file written in the
//! same clock tick as it was hashed could change again without its times moving (git's
//! "racily clean" entries), so such a record is re-read next time. The cache lives in one
//! file per context directory, written whole under a temporary name and renamed, with a
//! checksum at its end; a file that fails any check is ignored (the cache is only a cache).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::error::{Context, Result};

const MAGIC: &[u8] = b"berth-build-statcache-1\n";
/// Records kept at most; the ones seen last are kept first.
const MAX_RECORDS: usize = 1 << 20;
/// A larger cache file is not read at all.
const MAX_FILE: u64 = 256 << 20;
/// How much older than its record a file's ctime must be for the record to be trusted.
const RACY_MARGIN_NS: i64 = 1_000_000_000;

/// The stat fields that must not have moved for a cached hash to stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StatKey {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
    pub mode: u32,
}

#[derive(Debug, Clone)]
struct Record {
    key: StatKey,
    /// When the content was hashed, in nanoseconds since the epoch.
    recorded_ns: i64,
    hash: [u8; 32],
    /// Looked up or stored during this run: kept first when the cache is trimmed.
    used: bool,
}

#[derive(Debug, Default)]
pub(crate) struct StatCache {
    file: Option<PathBuf>,
    records: HashMap<Vec<u8>, Record>,
    dirty: bool,
    margin_ns: i64,
}

impl StatCache {
    /// An empty cache that is never written.
    pub fn memory() -> StatCache {
        StatCache {
            margin_ns: RACY_MARGIN_NS,
            ..StatCache::default()
        }
    }

    /// The cache of the context whose canonical path is `context`, under `dir`.
    pub fn load(dir: &Path, context: &Path) -> StatCache {
        use std::os::unix::ffi::OsStrExt;
        let name = hex::encode(Sha256::digest(context.as_os_str().as_bytes()));
        let file = dir.join(name);
        let records = read(&file).unwrap_or_default();
        StatCache {
            file: Some(file),
            records,
            dirty: false,
            margin_ns: RACY_MARGIN_NS,
        }
    }

    #[cfg(test)]
    pub fn set_margin_ns(&mut self, margin: i64) {
        self.margin_ns = margin;
    }

    /// The cached hash of `path` if its stat is unchanged and the record is not racy.
    pub fn get(&mut self, path: &[u8], key: &StatKey) -> Option<[u8; 32]> {
        let margin = self.margin_ns;
        let record = self.records.get_mut(path)?;
        record.used = true;
        let ctime_ns = key.ctime.0.saturating_mul(1_000_000_000) + key.ctime.1;
        (record.key == *key && ctime_ns.saturating_add(margin) < record.recorded_ns)
            .then_some(record.hash)
    }

    pub fn put(&mut self, path: &[u8], key: StatKey, hash: [u8; 32]) {
        let recorded_ns = now_ns();
        self.records.insert(
            path.to_vec(),
            Record {
                key,
                recorded_ns,
                hash,
                used: true,
            },
        );
        self.dirty = true;
    }

    /// Writes the cache if it changed: temporary file, then rename.
    pub fn save(&mut self) -> Result<()> {
        let Some(file) = self.file.clone() else {
            return Ok(());
        };
        if !self.dirty {
            return Ok(());
        }
        let dir = file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).context(|| format!("creating {}", dir.display()))?;
        let mut records: Vec<(&Vec<u8>, &Record)> = self.records.iter().collect();
        // Used ones first, then by path, so the trim is deterministic.
        records.sort_by(|a, b| b.1.used.cmp(&a.1.used).then_with(|| a.0.cmp(b.0)));
        records.truncate(MAX_RECORDS);
        let mut body = Vec::with_capacity(MAGIC.len() + records.len() * 120);
        body.extend_from_slice(MAGIC);
        body.extend_from_slice(&(records.len() as u64).to_le_bytes());
        for (path, r) in records {
            body.extend_from_slice(&(path.len() as u32).to_le_bytes());
            body.extend_from_slice(path);
            for v in [r.key.dev, r.key.ino, r.key.size] {
                body.extend_from_slice(&v.to_le_bytes());
            }
            for v in [
                r.key.mtime.0,
                r.key.mtime.1,
                r.key.ctime.0,
                r.key.ctime.1,
                r.recorded_ns,
            ] {
                body.extend_from_slice(&v.to_le_bytes());
            }
            body.extend_from_slice(&r.key.mode.to_le_bytes());
            body.extend_from_slice(&r.hash);
        }
        let sum = Sha256::digest(&body);
        body.extend_from_slice(&sum);
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            file.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            std::process::id()
        ));
        let written = std::fs::File::create(&tmp)
            .and_then(|mut f| f.write_all(&body))
            .and_then(|()| std::fs::rename(&tmp, &file));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.context(|| format!("writing the build stat cache {}", file.display()))?;
        self.dirty = false;
        Ok(())
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Reads a cache file; `None` when it is missing, too large or damaged.
fn read(file: &Path) -> Option<HashMap<Vec<u8>, Record>> {
    use std::io::Read;
    let f = std::fs::File::open(file).ok()?;
    let mut data = Vec::new();
    f.take(MAX_FILE + 1).read_to_end(&mut data).ok()?;
    if data.len() as u64 > MAX_FILE || data.len() < MAGIC.len() + 8 + 32 {
        return None;
    }
    let (body, sum) = data.split_at(data.len() - 32);
    if Sha256::digest(body).as_slice() != sum {
        return None;
    }
    let mut r = Reader(body.strip_prefix(MAGIC)?);
    let count = usize::try_from(r.u64()?).ok()?;
    if count > MAX_RECORDS {
        return None;
    }
    let mut records = HashMap::with_capacity(count);
    for _ in 0..count {
        let len = r.u32()? as usize;
        let path = r.take(len)?.to_vec();
        let (dev, ino, size) = (r.u64()?, r.u64()?, r.u64()?);
        let (ms, mns, cs, cns, recorded_ns) = (r.i64()?, r.i64()?, r.i64()?, r.i64()?, r.i64()?);
        let mode = r.u32()?;
        let hash: [u8; 32] = r.take(32)?.try_into().ok()?;
        records.insert(
            path,
            Record {
                key: StatKey {
                    dev,
                    ino,
                    size,
                    mtime: (ms, mns),
                    ctime: (cs, cns),
                    mode,
                },
                recorded_ns,
                hash,
                used: false,
            },
        );
    }
    r.0.is_empty().then_some(records)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(size: u64) -> StatKey {
        StatKey {
            dev: 1,
            ino: 2,
            size,
            mtime: (10, 0),
            ctime: (10, 0),
            mode: 0o100644,
        }
    }

    #[test]
    fn records_survive_a_save_and_a_changed_stat_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = StatCache::load(dir.path(), Path::new("/ctx"));
        assert!(cache.get(b"a", &key(1)).is_none());
        cache.put(b"a", key(1), [7; 32]);
        cache.save().unwrap();
        let mut again = StatCache::load(dir.path(), Path::new("/ctx"));
        assert_eq!(again.get(b"a", &key(1)), Some([7; 32]));
        assert_eq!(again.get(b"a", &key(2)), None);
        // Another context has its own file.
        let mut other = StatCache::load(dir.path(), Path::new("/other"));
        assert_eq!(other.get(b"a", &key(1)), None);
    }

    #[test]
    fn a_damaged_file_is_an_empty_cache() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = StatCache::load(dir.path(), Path::new("/ctx"));
        cache.put(b"a", key(1), [7; 32]);
        cache.save().unwrap();
        let file = std::fs::read_dir(dir.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let mut data = std::fs::read(&file).unwrap();
        let at = MAGIC.len() + 20;
        data[at] ^= 1;
        std::fs::write(&file, data).unwrap();
        let mut again = StatCache::load(dir.path(), Path::new("/ctx"));
        assert_eq!(again.get(b"a", &key(1)), None);
    }

    #[test]
    fn a_record_made_in_the_files_own_second_is_not_trusted() {
        let mut cache = StatCache::memory();
        let mut k = key(1);
        let now = now_ns();
        k.ctime = (now / 1_000_000_000, now % 1_000_000_000);
        cache.put(b"a", k, [1; 32]);
        assert_eq!(cache.get(b"a", &k), None);
        cache.set_margin_ns(-10_000_000_000);
        assert_eq!(cache.get(b"a", &k), Some([1; 32]));
    }
}
