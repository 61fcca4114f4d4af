//! Layer tars rebuilt byte for byte from their unpacked directory (the idea of tar-split).
//!
//! berth keeps layers unpacked, not as tars, yet `save` must hand out tars whose sha256 is
//! the diff ID in the image config (or the image ID would change). While a layer is
//! unpacked, everything of its tar stream except regular file content (headers, long-name
//! and PAX records, padding, the end blocks) is written to `<layer>/tar-split` (zstd), and
//! each file's content is replaced by a reference to the file it became. Rebuilding the
//! stream reads those bytes back from the layer's `diff/` directory.
//!
//! A tar that names one path twice (a later entry replacing, linking over or whiting out an
//! earlier one) can't be rebuilt that way, since the earlier content is gone: such a layer
//! keeps no record and `save` says so. The rebuilt stream is hashed while it is written and
//! checked against the diff ID, so a record that drifted from its files is caught.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;

use crate::error::{Context, Error, Result};

/// The record's file name inside a layer directory.
pub(crate) const SPLIT_FILE: &str = "tar-split";
const MAGIC: &[u8] = b"berth-tar-split 1\n";
/// Raw bytes are flushed in segments of at most this size, so a reader never needs more.
const MAX_RAW: usize = 64 << 10;
const MAX_PATH: usize = 64 << 10;
const TAG_RAW: u8 = b'R';
const TAG_FILE: u8 = b'F';
const TAG_END: u8 = b'E';

/// What the unpacker tells the recorder about an entry, before its content is read.
pub struct EntryInfo<'a> {
    /// The entry's name as the unpacker will use it, relative to the layer root.
    pub rel: &'a Path,
    /// Whether the content is written to a regular file at `rel` (not a whiteout).
    pub is_file: bool,
    pub is_dir: bool,
    /// Bytes of content that follow the header.
    pub size: u64,
    /// Offset of the content in the tar stream, as the tar reader counts it.
    pub position: u64,
}

struct State {
    out: Option<zstd::stream::write::Encoder<'static, BufWriter<File>>>,
    raw: Vec<u8>,
    /// Content bytes still to come of the current file (skipped, not recorded).
    skip: u64,
    pos: u64,
    valid: bool,
    /// Paths named so far, with whether each was a directory.
    seen: HashMap<PathBuf, bool>,
    /// Every ancestor of a path named so far.
    parents: HashSet<PathBuf>,
    error: Option<io::Error>,
}

impl State {
    fn consume(&mut self, mut data: &[u8]) {
        self.pos += data.len() as u64;
        while !data.is_empty() {
            if self.skip > 0 {
                let n = data
                    .len()
                    .min(usize::try_from(self.skip).unwrap_or(usize::MAX));
                self.skip -= n as u64;
                data = &data[n..];
                continue;
            }
            let room = MAX_RAW - self.raw.len();
            let n = data.len().min(room);
            self.raw.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.raw.len() == MAX_RAW {
                self.flush_raw();
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        if let (Some(out), None) = (self.out.as_mut(), &self.error) {
            if let Err(e) = out.write_all(bytes) {
                self.error = Some(e);
            }
        }
    }

    fn flush_raw(&mut self) {
        if self.raw.is_empty() {
            return;
        }
        let raw = std::mem::take(&mut self.raw);
        self.write(&[TAG_RAW]);
        self.write(&(raw.len() as u32).to_le_bytes());
        self.write(&raw);
        self.raw = raw;
        self.raw.clear();
    }
}

/// Records a layer's tar stream as it is read; shared by the reader and the unpacker.
#[derive(Clone)]
pub struct Recorder {
    state: Rc<RefCell<State>>,
}

impl Recorder {
    /// Starts a record at `path` (a new file).
    pub fn create(path: &Path) -> Result<Recorder> {
        let file = crate::state::open_private(path, false)
            .context(|| format!("creating {}", path.display()))?;
        let mut out = zstd::stream::write::Encoder::new(BufWriter::new(file), 3)
            .context(|| format!("creating {}", path.display()))?;
        out.write_all(MAGIC)
            .context(|| format!("writing {}", path.display()))?;
        Ok(Recorder {
            state: Rc::new(RefCell::new(State {
                out: Some(out),
                raw: Vec::new(),
                skip: 0,
                pos: 0,
                valid: true,
                seen: HashMap::new(),
                parents: HashSet::new(),
                error: None,
            })),
        })
    }

    /// Wraps the (decompressed) tar stream so every byte read passes through the record.
    pub fn reader<R: Read>(&self, inner: R) -> RecordingReader<R> {
        RecordingReader {
            inner,
            recorder: self.clone(),
        }
    }

    /// Called for each entry the unpacker handles, before its content is read.
    pub fn entry(&self, info: &EntryInfo<'_>) {
        let mut state = self.state.borrow_mut();
        if !state.valid {
            return;
        }
        let rel = normal(info.rel);
        // The tar reader must not have read ahead, or the content would be misplaced.
        // A path named again is fine only if both are directories (nothing is replaced).
        let replaces = match state.seen.insert(rel.clone(), info.is_dir) {
            Some(was_dir) => !(was_dir && info.is_dir),
            None => !info.is_dir && state.parents.contains(&rel),
        };
        if state.pos != info.position || replaces {
            state.valid = false;
            return;
        }
        for parent in rel.ancestors().skip(1) {
            if !state.parents.insert(parent.to_owned()) {
                break;
            }
        }
        if !info.is_file || info.size == 0 {
            return;
        }
        let path = rel.as_os_str().as_encoded_bytes().to_vec();
        if path.len() > MAX_PATH {
            state.valid = false;
            return;
        }
        state.flush_raw();
        state.write(&[TAG_FILE]);
        state.write(&info.size.to_le_bytes());
        state.write(&(path.len() as u32).to_le_bytes());
        state.write(&path);
        state.skip = info.size;
    }

    /// A whiteout hides `rel` (relative to the layer root): a path named earlier in the
    /// same layer would be gone.
    pub fn hides(&self, rel: &Path) {
        let mut state = self.state.borrow_mut();
        let rel = normal(rel);
        if state.seen.contains_key(&rel) || state.parents.contains(&rel) {
            state.valid = false;
        }
    }

    /// Ends the record; returns whether it is usable (false: the file was removed).
    pub fn finish(&self, path: &Path) -> Result<bool> {
        let mut state = self.state.borrow_mut();
        state.flush_raw();
        state.write(&[TAG_END]);
        let out = state.out.take();
        let written = match (out, state.error.take()) {
            (Some(out), None) => out
                .finish()
                .and_then(|mut w| w.flush())
                .context(|| format!("writing {}", path.display())),
            (_, Some(e)) => Err(e).context(|| format!("writing {}", path.display())),
            (None, None) => Ok(()),
        };
        if written.is_err() || !state.valid {
            let _ = std::fs::remove_file(path);
        }
        written?;
        Ok(state.valid)
    }
}

fn normal(rel: &Path) -> PathBuf {
    rel.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

pub struct RecordingReader<R> {
    inner: R,
    recorder: Recorder,
}

impl<R> RecordingReader<R> {
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for RecordingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.recorder.state.borrow_mut().consume(&buf[..n]);
        Ok(n)
    }
}

/// One piece of a rebuilt tar.
enum Segment {
    Raw(Vec<u8>),
    File { size: u64, path: PathBuf },
    End,
}

fn read_segment(input: &mut impl Read) -> io::Result<Segment> {
    let mut tag = [0u8; 1];
    input.read_exact(&mut tag)?;
    let mut u32b = [0u8; 4];
    match tag[0] {
        TAG_RAW => {
            input.read_exact(&mut u32b)?;
            let len = u32::from_le_bytes(u32b) as usize;
            if len > MAX_RAW {
                return Err(io::Error::other("raw segment too long"));
            }
            let mut raw = vec![0; len];
            input.read_exact(&mut raw)?;
            Ok(Segment::Raw(raw))
        }
        TAG_FILE => {
            let mut u64b = [0u8; 8];
            input.read_exact(&mut u64b)?;
            input.read_exact(&mut u32b)?;
            let len = u32::from_le_bytes(u32b) as usize;
            if len > MAX_PATH {
                return Err(io::Error::other("path too long"));
            }
            let mut path = vec![0; len];
            input.read_exact(&mut path)?;
            use std::os::unix::ffi::OsStringExt;
            Ok(Segment::File {
                size: u64::from_le_bytes(u64b),
                path: PathBuf::from(std::ffi::OsString::from_vec(path)),
            })
        }
        TAG_END => Ok(Segment::End),
        other => Err(io::Error::other(format!("unknown segment tag {other}"))),
    }
}

type SplitInput = zstd::stream::read::Decoder<'static, BufReader<File>>;

fn open_record(path: &Path) -> Result<SplitInput> {
    let file = File::open(path).context(|| format!("opening {}", path.display()))?;
    let mut input =
        zstd::stream::read::Decoder::new(file).context(|| format!("reading {}", path.display()))?;
    let mut magic = vec![0u8; MAGIC.len()];
    input
        .read_exact(&mut magic)
        .context(|| format!("reading {}", path.display()))?;
    if magic != MAGIC {
        return Err(Error::Corrupt {
            path: path.to_owned(),
            reason: "not a berth tar-split record".into(),
        });
    }
    Ok(input)
}

/// The length of the tar a record rebuilds (read from the record alone).
pub(crate) fn tar_len(record: &Path) -> Result<u64> {
    let mut input = open_record(record)?;
    let mut total = 0u64;
    loop {
        match read_segment(&mut input).context(|| format!("reading {}", record.display()))? {
            Segment::Raw(raw) => total += raw.len() as u64,
            Segment::File { size, .. } => total += size,
            Segment::End => return Ok(total),
        }
    }
}

/// Streams the rebuilt tar: raw segments from the record, file content from `diff`.
pub struct Rebuild {
    input: SplitInput,
    diff: OwnedFd,
    record: PathBuf,
    raw: Vec<u8>,
    raw_pos: usize,
    file: Option<io::Take<File>>,
    file_left: u64,
    file_name: PathBuf,
    done: bool,
}

impl Rebuild {
    pub fn open(record: &Path, diff: &Path) -> Result<Rebuild> {
        let input = open_record(record)?;
        let diff = nix::fcntl::open(
            diff,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .context(|| format!("opening {}", diff.display()))?;
        Ok(Rebuild {
            input,
            diff,
            record: record.to_owned(),
            raw: Vec::new(),
            raw_pos: 0,
            file: None,
            file_left: 0,
            file_name: PathBuf::new(),
            done: false,
        })
    }

    /// Opens a layer file without following any symlink or leaving `diff`.
    fn open_file(&self, path: &Path) -> io::Result<File> {
        let how = OpenHow::new()
            .flags(OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW)
            .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS);
        openat2(&self.diff, path, how)
            .map(File::from)
            .map_err(io::Error::from)
    }

    fn next_segment(&mut self) -> io::Result<()> {
        let bad = |e: io::Error| io::Error::other(format!("{}: {e}", self.record.display()));
        match read_segment(&mut self.input).map_err(bad)? {
            Segment::Raw(raw) => {
                self.raw = raw;
                self.raw_pos = 0;
            }
            Segment::File { size, path } => {
                let file = self
                    .open_file(&path)
                    .map_err(|e| io::Error::other(format!("{}: {e}", path.display())))?;
                self.file = Some(file.take(size));
                self.file_left = size;
                self.file_name = path;
            }
            Segment::End => self.done = true,
        }
        Ok(())
    }
}

impl Read for Rebuild {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.raw_pos < self.raw.len() {
                let n = buf.len().min(self.raw.len() - self.raw_pos);
                buf[..n].copy_from_slice(&self.raw[self.raw_pos..self.raw_pos + n]);
                self.raw_pos += n;
                return Ok(n);
            }
            if let Some(file) = self.file.as_mut() {
                if self.file_left > 0 {
                    let n = file.read(buf)?;
                    if n == 0 {
                        return Err(io::Error::other(format!(
                            "{} is shorter than the layer recorded",
                            self.file_name.display()
                        )));
                    }
                    self.file_left -= n as u64;
                    return Ok(n);
                }
                self.file = None;
            }
            if self.done || buf.is_empty() {
                return Ok(0);
            }
            self.next_segment()?;
        }
    }
}
