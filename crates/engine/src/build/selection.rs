//! What a COPY/ADD selected from the build context: its content digest (the cache key's
//! part), a manifest to explain a cache miss, and the tar stream COPY extracts.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use tar::{EntryType, Header};

use super::archive::{archive_kind, LocalArchive};
use super::chmod::Chmod;
use super::context::{EntryKind, Inner, Item, Meta};
use crate::error::{Context, Error, ErrorKind, Result};
use crate::ids::Digest;

/// The entries a COPY/ADD selected, ready to hash or to write as a tar.
pub struct Selection {
    pub(super) inner: Arc<Inner>,
    items: Vec<Item>,
    /// The digest and manifest once computed: asking for both reads the files once.
    summary: std::sync::OnceLock<(Digest, Manifest)>,
    /// Small files' bytes as hashing read them, for the tar to reuse (a cold COPY of
    /// many small files then opens each once); bounded by [`KEEP_TOTAL`].
    kept: std::sync::Mutex<Kept>,
}

/// The largest file, and the most bytes in all, [`Selection`] keeps from hashing.
const KEEP_FILE: u64 = 64 << 10;
const KEEP_TOTAL: usize = 64 << 20;

#[derive(Default)]
struct Kept {
    files: HashMap<Vec<u8>, Vec<u8>>,
    bytes: usize,
}

/// A summary of a selection kept with a cache entry: each entry's path (relative to the
/// context) and a short digest of everything about it, in path order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Sorted by path.
    pub entries: Vec<ManifestEntry>,
}

/// One entry of a [`Manifest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Relative to the context root; bytes that are not UTF-8 are written `\xNN`.
    pub path: String,
    /// 32 hex characters of the entry's digest (type, mode, owner, size, link, bytes).
    pub digest: String,
}

impl Selection {
    pub(super) fn new(inner: Arc<Inner>, items: Vec<Item>) -> Selection {
        Selection {
            inner,
            items,
            summary: Default::default(),
            kept: Default::default(),
        }
    }

    /// Nothing selected (only wildcards that matched nothing, or all ignored).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How many sources (after wildcards) were selected.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Content digest of everything selected: per entry its path relative to the source,
    /// type, mode, uid/gid, size, link target, device numbers and bytes; never mtime or
    /// ctime. A file whose (dev, inode, size, mtime, ctime, mode) is unchanged since the
    /// stat cache recorded it is not re-read; the cache is saved afterwards.
    pub fn digest(&self) -> Result<Digest> {
        Ok(self.digest_and_manifest()?.0)
    }

    /// A [`Manifest`] of the selection (reads what [`Self::digest`] reads, through the
    /// same stat cache).
    pub fn manifest(&self) -> Result<Manifest> {
        Ok(self.digest_and_manifest()?.1)
    }

    /// [`Self::digest`] and [`Self::manifest`] in one pass over the files (computed once
    /// per selection: the files are as they were at the first call).
    pub fn digest_and_manifest(&self) -> Result<(Digest, Manifest)> {
        if let Some(done) = self.summary.get() {
            return Ok(done.clone());
        }
        let done = self.compute_summary()?;
        Ok(self.summary.get_or_init(|| done).clone())
    }

    fn compute_summary(&self) -> Result<(Digest, Manifest)> {
        let mut total = Sha256::new();
        let mut entries = Vec::new();
        let mut note = |path: &[u8], digest: &[u8; 32]| {
            entries.push(ManifestEntry {
                path: display(path),
                digest: hex::encode(&digest[..16]),
            });
        };
        for item in &self.items {
            total.update(b"item\0");
            total.update([item.meta.kind.code()]);
            // Where one item's entries end and the next item begins.
            total.update((item.entries.len() as u64).to_le_bytes());
            if item.meta.kind == EntryKind::Dir {
                // A directory's own name never reaches the image.
                let skip = item.path.len() + usize::from(!item.path.is_empty());
                for entry in &item.entries {
                    let digest = self.entry_digest(&entry.path, &entry.meta)?;
                    put_bytes(&mut total, &entry.path[skip..]);
                    total.update(digest);
                    note(&entry.path, &digest);
                }
            } else {
                // A file keeps its name in a directory destination.
                put_bytes(&mut total, &item.name);
                let digest = self.entry_digest(&item.path, &item.meta)?;
                total.update(digest);
                note(&item.path, &digest);
            }
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.digest.cmp(&b.digest)));
        self.save_cache()?;
        Ok((Digest::from_sha256(total), Manifest { entries }))
    }

    /// Saves the stat cache. It is only a cache: failing to write it (a full disk) costs
    /// the next build some reading, not this build, so it is reported and passed over.
    fn save_cache(&self) -> Result<()> {
        let mut cache = self.inner.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = cache.save() {
            eprintln!("berth: the build's stat cache was not saved: {e}");
        }
        Ok(())
    }

    /// The digest of one entry: its header fields and, for a file, its bytes' sha256.
    fn entry_digest(&self, path: &[u8], meta: &Meta) -> Result<[u8; 32]> {
        let mut h = Sha256::new();
        h.update([meta.kind.code()]);
        h.update(meta.perm.to_le_bytes());
        h.update(meta.uid.to_le_bytes());
        h.update(meta.gid.to_le_bytes());
        h.update(meta.size.to_le_bytes());
        if matches!(meta.kind, EntryKind::CharDevice | EntryKind::BlockDevice) {
            h.update(meta.rdev.to_le_bytes());
        }
        put_bytes(&mut h, meta.link.as_deref().unwrap_or_default());
        h.update((meta.xattrs.len() as u64).to_le_bytes());
        for (key, value) in &meta.xattrs {
            put_bytes(&mut h, key.as_bytes());
            put_bytes(&mut h, value);
        }
        if meta.kind == EntryKind::File {
            h.update(self.content_hash(path, meta)?);
        }
        Ok(h.finalize().into())
    }

    /// A file's bytes' sha256, from the stat cache when its stat is unchanged.
    fn content_hash(&self, path: &[u8], meta: &Meta) -> Result<[u8; 32]> {
        {
            let mut cache = self.inner.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(hash) = cache.get(path, &meta.key) {
                return Ok(hash);
            }
        }
        let mut reader = self.inner.open_file(path, meta)?;
        let mut h = Sha256::new();
        // Told apart from the hash of a file with holes (see `ExactReader::sparse_hash`).
        h.update(b"dense\0");
        if meta.size <= KEEP_FILE {
            // Room is taken before reading, so files hashed at once never read under the lock.
            let room = {
                let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
                let room = kept.bytes + meta.size as usize <= KEEP_TOTAL;
                if room {
                    kept.bytes += meta.size as usize;
                }
                room
            };
            if room {
                // The reader yields exactly meta.size bytes or fails (a file that changed).
                let mut bytes = Vec::with_capacity(meta.size as usize);
                reader
                    .read_to_end(&mut bytes)
                    .context(|| format!("reading {} in the build context", display(path)))?;
                h.update(&bytes);
                self.kept
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .files
                    .insert(path.to_vec(), bytes);
                let hash: [u8; 32] = h.finalize().into();
                self.inner.hashed.fetch_add(1, Ordering::Relaxed);
                let mut cache = self.inner.cache.lock().unwrap_or_else(|e| e.into_inner());
                cache.put(path, meta.key, hash);
                return Ok(hash);
            }
        }
        if let Some(hash) = reader.sparse_hash()? {
            self.inner.hashed.fetch_add(1, Ordering::Relaxed);
            let mut cache = self.inner.cache.lock().unwrap_or_else(|e| e.into_inner());
            cache.put(path, meta.key, hash);
            return Ok(hash);
        }
        let mut buf = vec![0u8; 128 << 10];
        loop {
            let n = reader
                .read(&mut buf)
                .context(|| format!("reading {} in the build context", display(path)))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        let hash: [u8; 32] = h.finalize().into();
        self.inner.hashed.fetch_add(1, Ordering::Relaxed);
        let mut cache = self.inner.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.put(path, meta.key, hash);
        Ok(hash)
    }

    /// Writes the selection as a tar stream as COPY would place it at `dest` (absolute,
    /// already resolved against WORKDIR). A directory source's contents go into `dest`; a
    /// file source becomes `dest`, or `dest/<name>` when `dest` ends in `/` or already is a
    /// directory (`dest_is_dir`). Several sources need a directory destination. Entries
    /// are owned by `chown` (default 0:0); `chmod`, if given, replaces every non-symlink's
    /// mode (BuildKit's octal `--chmod`; see [`TarOptions::chmod`] for symbolic ones). A destination directory the copy creates gets mode
    /// `chmod` or 0755; parents above it are left to the extraction (see
    /// [`Self::write_tar_with`] to have them in the stream).
    pub fn write_tar(
        &self,
        dest: &str,
        dest_is_dir: bool,
        chown: Option<(u32, u32)>,
        chmod: Option<u32>,
        out: &mut dyn Write,
    ) -> Result<()> {
        let mut opts = TarOptions::new(dest);
        opts.dest_is_dir = dest_is_dir;
        opts.chown = chown;
        opts.chmod = chmod.map(Chmod::Octal);
        self.write_tar_with(&opts, out)
    }

    /// [`Self::write_tar`] with every option, e.g. which parents of `dest` exist in the
    /// image so the stream creates the missing ones as BuildKit does (mode `chmod` or 0755,
    /// owned by `chown`).
    pub fn write_tar_with(&self, opts: &TarOptions<'_>, out: &mut dyn Write) -> Result<()> {
        let dest_slash = opts.dest.ends_with('/');
        let dest = super::ignore::clean(&format!("/{}", opts.dest));
        let dest = dest.trim_start_matches('/').to_owned();
        let into_dir = dest_slash || opts.dest_is_dir;
        if self.items.len() > 1 && !into_dir {
            return Err(Error::Build {
                kind: ErrorKind::InvalidArgument,
                message: "When using COPY with more than one source file, the destination must be a directory and end with a /".to_owned(),
            });
        }
        let (uid, gid) = opts.chown.unwrap_or((0, 0));
        let mut tar = tar::Builder::new(out);
        tar.mode(tar::HeaderMode::Complete);
        tar.follow_symlinks(false);
        let mut made: std::collections::HashSet<Vec<u8>> = Default::default();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let dir_mode = Chmod::created_dir_mode(opts.chmod.as_ref());
        let mut links: HashMap<(u64, u64), Vec<u8>> = HashMap::new();
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let mut writer = TarWriter {
            tar: &mut tar,
            uid,
            gid,
            chmod: opts.chmod.as_ref(),
            links: &mut links,
            inner: &self.inner,
            kept: &kept,
        };
        // A missing parent of where the entries go, created as BuildKit's MkdirAll does.
        let mut make_dir = |w: &mut TarWriter<'_, '_>, path: &str, is_dest: bool| -> Result<()> {
            if path.is_empty() || made.contains(path.as_bytes()) {
                return Ok(());
            }
            let exists = if is_dest {
                opts.dest_is_dir
            } else {
                match opts.exists {
                    Some(f) => f(&format!("/{path}")),
                    None => true,
                }
            };
            if !exists {
                w.dir(path.as_bytes(), dir_mode, now)?;
            }
            made.insert(path.as_bytes().to_vec());
            Ok(())
        };
        if self.items.is_empty() {
            return tar.finish().context(|| "writing the copy".to_owned());
        }
        for item in &self.items {
            let is_dir = item.meta.kind == EntryKind::Dir;
            // The directory the entries land in, and whether it is `dest` itself.
            let (land, is_dest) = if is_dir || into_dir {
                (dest.as_str(), true)
            } else {
                (dest.rsplit_once('/').map(|(p, _)| p).unwrap_or(""), false)
            };
            let parts: Vec<&str> = land.split('/').filter(|p| !p.is_empty()).collect();
            let mut prefix = String::new();
            for (i, part) in parts.iter().enumerate() {
                if !prefix.is_empty() {
                    prefix.push('/');
                }
                prefix.push_str(part);
                make_dir(&mut writer, &prefix, is_dest && i + 1 == parts.len())?;
            }
            let under = |rel: &[u8]| {
                let mut name = land.as_bytes().to_vec();
                if !name.is_empty() {
                    name.push(b'/');
                }
                name.extend_from_slice(rel);
                name
            };
            if is_dir {
                let skip = item.path.len() + usize::from(!item.path.is_empty());
                for entry in &item.entries {
                    writer.entry(&under(&entry.path[skip..]), &entry.path, &entry.meta)?;
                }
            } else if into_dir {
                writer.entry(&under(&item.name), &item.path, &item.meta)?;
            } else {
                writer.entry(dest.as_bytes(), &item.path, &item.meta)?;
            }
        }
        tar.finish().context(|| "writing the copy".to_owned())
    }

    /// Splits off the selected files ADD unpacks (a local tar, plain or compressed, named
    /// directly or by a wildcard; never a file inside a selected directory): the archives,
    /// and the selection of everything else.
    pub fn split_archives(self) -> Result<(Selection, Vec<LocalArchive>)> {
        let mut rest = Vec::new();
        let mut archives = Vec::new();
        for item in self.items {
            let kind = if item.meta.kind == EntryKind::File {
                archive_kind(&self.inner, &item)?
            } else {
                None
            };
            match kind {
                Some(kind) => archives.push(LocalArchive::new(self.inner.clone(), item, kind)),
                None => rest.push(item),
            }
        }
        Ok((Selection::new(self.inner, rest), archives))
    }
}

/// Options of [`Selection::write_tar_with`]; start from [`TarOptions::new`] (fields may be
/// added).
pub struct TarOptions<'a> {
    /// Absolute destination in the image, already resolved against WORKDIR.
    pub dest: &'a str,
    /// `dest` already exists in the image as a directory.
    pub dest_is_dir: bool,
    /// Owner of every entry (default 0:0).
    pub chown: Option<(u32, u32)>,
    /// `--chmod`: the mode of every entry but symlinks.
    pub chmod: Option<Chmod>,
    /// Whether an absolute path exists in the image; the stream then creates the missing
    /// parents of `dest`. `None`: no parent above `dest` is written.
    pub exists: Option<&'a dyn Fn(&str) -> bool>,
}

impl<'a> TarOptions<'a> {
    /// Options for `dest` with every other one at its default: `dest` not known to be a
    /// directory, owned by 0:0, modes kept, no parent written.
    pub fn new(dest: &'a str) -> Self {
        TarOptions {
            dest,
            dest_is_dir: false,
            chown: None,
            chmod: None,
            exists: None,
        }
    }
}

struct TarWriter<'a, 'w> {
    tar: &'a mut tar::Builder<&'w mut dyn Write>,
    uid: u32,
    gid: u32,
    chmod: Option<&'a Chmod>,
    /// Files with several links already written: (dev, inode) to their name in the tar.
    links: &'a mut HashMap<(u64, u64), Vec<u8>>,
    inner: &'a Inner,
    kept: &'a Kept,
}

impl TarWriter<'_, '_> {
    fn header(&self, kind: EntryType, mode: u32, mtime: u64) -> Header {
        let mut h = Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(u64::from(self.uid));
        h.set_gid(u64::from(self.gid));
        h.set_mtime(mtime);
        h.set_size(0);
        h
    }

    fn dir(&mut self, name: &[u8], mode: u32, mtime: u64) -> Result<()> {
        let mut h = self.header(EntryType::Directory, mode, mtime);
        let mut name = name.to_vec();
        name.push(b'/');
        self.tar
            .append_data(
                &mut h,
                std::ffi::OsStr::from_bytes_path(&name),
                std::io::empty(),
            )
            .context(|| "writing the copy".to_owned())
    }

    /// One entry at `name` in the tar, from `path` in the context.
    fn entry(&mut self, name: &[u8], path: &[u8], meta: &Meta) -> Result<()> {
        let mode = match (meta.kind, self.chmod) {
            (EntryKind::Symlink, _) => 0o777,
            (kind, Some(chmod)) => chmod.apply(meta.perm, kind == EntryKind::Dir),
            (_, None) => meta.perm,
        };
        let mtime = meta.mtime.max(0) as u64;
        let what = || format!("writing {} to the copy", display(path));
        let tar_name = std::ffi::OsStr::from_bytes_path(name);
        if !meta.xattrs.is_empty() {
            let pax = meta
                .xattrs
                .iter()
                .map(|(k, v)| (format!("SCHILY.xattr.{k}"), v.as_slice()))
                .collect::<Vec<_>>();
            self.tar
                .append_pax_extensions(pax.iter().map(|(k, v)| (k.as_str(), *v)))
                .context(what)?;
        }
        match meta.kind {
            EntryKind::Dir => self.dir(name, mode, mtime),
            EntryKind::File => {
                if meta.nlink > 1 {
                    let key = (meta.key.dev, meta.key.ino);
                    if let Some(first) = self.links.get(&key) {
                        let mut h = self.header(EntryType::Link, mode, mtime);
                        let first = first.clone();
                        return self
                            .tar
                            .append_link(&mut h, tar_name, std::ffi::OsStr::from_bytes_path(&first))
                            .context(what);
                    }
                    self.links.insert(key, name.to_vec());
                }
                let mut h = self.header(EntryType::Regular, mode, mtime);
                h.set_size(meta.size);
                if let Some(bytes) = self.kept.files.get(path) {
                    return self
                        .tar
                        .append_data(&mut h, tar_name, bytes.as_slice())
                        .context(what);
                }
                let reader = self.inner.open_file(path, meta)?;
                self.tar.append_data(&mut h, tar_name, reader).context(what)
            }
            EntryKind::Symlink => {
                let mut h = self.header(EntryType::Symlink, mode, mtime);
                let target = meta.link.clone().unwrap_or_default();
                self.tar
                    .append_link(&mut h, tar_name, std::ffi::OsStr::from_bytes_path(&target))
                    .context(what)
            }
            EntryKind::Fifo | EntryKind::CharDevice | EntryKind::BlockDevice => {
                let kind = match meta.kind {
                    EntryKind::Fifo => EntryType::Fifo,
                    EntryKind::CharDevice => EntryType::Char,
                    _ => EntryType::Block,
                };
                let mut h = self.header(kind, mode, mtime);
                if kind != EntryType::Fifo {
                    let major = nix::sys::stat::major(meta.rdev);
                    let minor = nix::sys::stat::minor(meta.rdev);
                    h.set_device_major(major as u32).context(what)?;
                    h.set_device_minor(minor as u32).context(what)?;
                }
                self.tar
                    .append_data(&mut h, tar_name, std::io::empty())
                    .context(what)
            }
        }
    }
}

/// `&[u8]` as a path.
trait FromBytesPath {
    fn from_bytes_path(bytes: &[u8]) -> &std::path::Path;
}

impl FromBytesPath for std::ffi::OsStr {
    fn from_bytes_path(bytes: &[u8]) -> &std::path::Path {
        use std::os::unix::ffi::OsStrExt;
        std::path::Path::new(std::ffi::OsStr::from_bytes(bytes))
    }
}

fn put_bytes(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

/// A path for people: UTF-8 as is, other bytes as `\xNN`.
fn display(path: &[u8]) -> String {
    let mut out = String::with_capacity(path.len());
    for chunk in path.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

impl Manifest {
    /// The first difference from `older`, in plain words for a miss explanation:
    /// "src/main.rs changed", "src/new.rs added", "old.txt removed". `None`: the same.
    pub fn first_difference(&self, older: &Manifest) -> Option<String> {
        let (mut a, mut b) = (
            self.entries.iter().peekable(),
            older.entries.iter().peekable(),
        );
        loop {
            match (a.peek(), b.peek()) {
                (None, None) => return None,
                (Some(n), None) => return Some(format!("{} added", n.path)),
                (None, Some(o)) => return Some(format!("{} removed", o.path)),
                (Some(n), Some(o)) => match n.path.cmp(&o.path) {
                    std::cmp::Ordering::Less => return Some(format!("{} added", n.path)),
                    std::cmp::Ordering::Greater => return Some(format!("{} removed", o.path)),
                    std::cmp::Ordering::Equal => {
                        if n.digest != o.digest {
                            return Some(format!("{} changed", n.path));
                        }
                        a.next();
                        b.next();
                    }
                },
            }
        }
    }
}
