//! The stat cache of a build context: a file's content hash and an entry's extended
//! attributes, kept with the stat it had when they were read, so a rebuild re-reads only
//! what changed (neither the bytes nor the xattr list of an unchanged entry).
//!
//! A piece of a record is trusted when the entry's (dev, inode, size, mtime, ctime, mode,
//! uid, gid) are all the same and its ctime is older than when the piece was read by a
//! margin: an entry written in the same clock tick as it was read could change again
//! without its times moving (git's "racily clean" entries), so such a piece is re-read next
//! time. Writing bytes moves mtime and ctime; setting an xattr, chmod and chown move ctime,
//! which no user can set back. The cache lives in one file per context directory, written
//! whole under a temporary name and renamed, with a checksum at its end; a file that fails
//! any check is ignored (the cache is only a cache).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::error::{Context, Result};

const MAGIC: &[u8] = b"berth-build-statcache-2\n";
/// Records kept at most; the ones seen last are kept first.
const MAX_RECORDS: usize = 1 << 20;
/// A larger cache file is not read at all.
const MAX_FILE: u64 = 256 << 20;
/// Xattrs larger than this in all are not kept (read each time): the file stays small.
const MAX_KEPT_XATTRS: usize = 4 << 10;
/// How much older than its record a file's ctime must be for the record to be trusted.
const RACY_MARGIN_NS: i64 = 1_000_000_000;
/// Numbers this process's temporary files.
static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The stat fields that must not have moved for a cached hash to stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StatKey {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// An entry's extended attributes, sorted by name.
pub(crate) type Xattrs = Vec<(String, Vec<u8>)>;

#[derive(Debug, Clone)]
struct Record {
    key: StatKey,
    /// The content's sha256 and when it was read (ns since the epoch).
    hash: Option<([u8; 32], i64)>,
    /// The xattrs and when they were read.
    xattrs: Option<(Xattrs, i64)>,
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

    /// Whether a piece read at `read_ns` still stands for an entry whose ctime is `key`'s.
    fn fresh(&self, key: &StatKey, read_ns: i64) -> bool {
        let ctime_ns = key.ctime.0.saturating_mul(1_000_000_000) + key.ctime.1;
        ctime_ns.saturating_add(self.margin_ns) < read_ns
    }

    /// The record of `path` if its stat is still `key`.
    fn record(&mut self, path: &[u8], key: &StatKey) -> Option<&Record> {
        let record = self.records.get_mut(path)?;
        record.used = true;
        (record.key == *key).then_some(&*record)
    }

    /// The cached content hash of `path` if its stat is unchanged and the hash not racy.
    pub fn get(&mut self, path: &[u8], key: &StatKey) -> Option<[u8; 32]> {
        let (hash, at) = self.record(path, key)?.hash?;
        self.fresh(key, at).then_some(hash)
    }

    /// The cached xattrs of `path` if its stat is unchanged and they are not racy.
    pub fn xattrs(&mut self, path: &[u8], key: &StatKey) -> Option<Xattrs> {
        let (xattrs, at) = self.record(path, key)?.xattrs.as_ref()?;
        let at = *at;
        let xattrs = xattrs.clone();
        self.fresh(key, at).then_some(xattrs)
    }

    /// The record of `path` for stat `key`: the old one when its stat is the same (its
    /// other piece still stands), else a new empty one.
    fn slot(&mut self, path: &[u8], key: StatKey) -> &mut Record {
        let record = self.records.entry(path.to_vec()).or_insert(Record {
            key,
            hash: None,
            xattrs: None,
            used: true,
        });
        if record.key != key {
            *record = Record {
                key,
                hash: None,
                xattrs: None,
                used: true,
            };
        }
        record.used = true;
        self.dirty = true;
        record
    }

    pub fn put(&mut self, path: &[u8], key: StatKey, hash: [u8; 32]) {
        self.slot(path, key).hash = Some((hash, now_ns()));
    }

    /// Keeps `path`'s xattrs (unless they are large: those are read each time).
    pub fn put_xattrs(&mut self, path: &[u8], key: StatKey, xattrs: &Xattrs) {
        let size: usize = xattrs.iter().map(|(k, v)| k.len() + v.len()).sum();
        if size > MAX_KEPT_XATTRS {
            return;
        }
        self.slot(path, key).xattrs = Some((xattrs.clone(), now_ns()));
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
            for v in [r.key.mtime.0, r.key.mtime.1, r.key.ctime.0, r.key.ctime.1] {
                body.extend_from_slice(&v.to_le_bytes());
            }
            for v in [r.key.mode, r.key.uid, r.key.gid] {
                body.extend_from_slice(&v.to_le_bytes());
            }
            match &r.hash {
                Some((hash, at)) => {
                    body.push(1);
                    body.extend_from_slice(&at.to_le_bytes());
                    body.extend_from_slice(hash);
                }
                None => body.push(0),
            }
            match &r.xattrs {
                Some((xattrs, at)) => {
                    body.push(1);
                    body.extend_from_slice(&at.to_le_bytes());
                    body.extend_from_slice(&(xattrs.len() as u32).to_le_bytes());
                    for (k, v) in xattrs {
                        body.extend_from_slice(&(k.len() as u32).to_le_bytes());
                        body.extend_from_slice(k.as_bytes());
                        body.extend_from_slice(&(v.len() as u32).to_le_bytes());
                        body.extend_from_slice(v);
                    }
                }
                None => body.push(0),
            }
        }
        let sum = Sha256::digest(&body);
        body.extend_from_slice(&sum);
        // Unique per save: two builds of one context in one process must not share it.
        let tmp = dir.join(format!(
            ".{}.tmp-{}-{}",
            file.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            std::process::id(),
            SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
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
        let (ms, mns, cs, cns) = (r.i64()?, r.i64()?, r.i64()?, r.i64()?);
        let (mode, uid, gid) = (r.u32()?, r.u32()?, r.u32()?);
        let hash = match r.take(1)?[0] {
            0 => None,
            1 => {
                let at = r.i64()?;
                Some((r.take(32)?.try_into().ok()?, at))
            }
            _ => return None,
        };
        let xattrs = match r.take(1)?[0] {
            0 => None,
            1 => {
                let at = r.i64()?;
                let n = r.u32()? as usize;
                let mut list = Vec::with_capacity(n.min(64));
                for _ in 0..n {
                    let klen = r.u32()? as usize;
                    let k = String::from_utf8(r.take(klen)?.to_vec()).ok()?;
                    let vlen = r.u32()? as usize;
                    list.push((k, r.take(vlen)?.to_vec()));
                }
                Some((list, at))
            }
            _ => return None,
        };
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
                    uid,
                    gid,
                },
                hash,
                xattrs,
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
            uid: 0,
            gid: 0,
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

    #[test]
    fn xattrs_are_kept_beside_the_hash_until_the_stat_moves() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = StatCache::load(dir.path(), Path::new("/ctx"));
        let list = vec![("user.a".to_owned(), b"1".to_vec())];
        cache.put_xattrs(b"a", key(1), &list);
        cache.put(b"a", key(1), [7; 32]);
        cache.put_xattrs(b"d", key(0), &Vec::new());
        cache.save().unwrap();
        let mut again = StatCache::load(dir.path(), Path::new("/ctx"));
        assert_eq!(again.xattrs(b"a", &key(1)), Some(list.clone()));
        assert_eq!(again.get(b"a", &key(1)), Some([7; 32]));
        assert_eq!(again.xattrs(b"d", &key(0)), Some(Vec::new()));
        // An owner change (ctime aside) is a changed stat: nothing stands.
        let mut chowned = key(1);
        chowned.uid = 1000;
        assert_eq!(again.xattrs(b"a", &chowned), None);
        assert_eq!(again.get(b"a", &chowned), None);
        // A new stat drops both pieces, not only the one stored again.
        again.put(b"a", chowned, [8; 32]);
        assert_eq!(again.xattrs(b"a", &chowned), None);
        assert_eq!(again.get(b"a", &chowned), Some([8; 32]));
        // Large xattrs are not kept.
        let big = vec![("user.big".to_owned(), vec![0u8; MAX_KEPT_XATTRS + 1])];
        again.put_xattrs(b"b", key(1), &big);
        assert_eq!(again.xattrs(b"b", &key(1)), None);
    }
}
