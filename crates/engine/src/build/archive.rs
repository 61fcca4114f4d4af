//! ADD's local archives: a selected file that is a tar (plain, gzip, bzip2, xz or zstd) is
//! unpacked at the destination instead of copied, as Docker's `isArchivePath` decides:
//! compression by magic bytes (`DetectCompression`), then one valid tar header at the
//! start of what it decompresses to. gzip and zstd are decompressed in-process; bzip2 and
//! xz through the `bzip2` and `xz` programs, as Docker itself runs `xz`.

use std::io::{Read, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;

use tar::Header;

use super::context::{ExactReader, Inner, Item};
use crate::error::{Context, Error, ErrorKind, Result};

/// The compression (or none) of a tar archive ADD unpacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    /// A plain tar.
    Tar,
    /// gzip (`1f 8b 08`), read as concatenated members.
    Gzip,
    /// bzip2 (`BZh`), through the `bzip2` program.
    Bzip2,
    /// xz (`fd 37 7a 58 5a 00`), through the `xz` program.
    Xz,
    /// zstd (`28 b5 2f fd`).
    Zstd,
}

/// A selected local file that ADD unpacks instead of copying.
pub struct LocalArchive {
    inner: Arc<Inner>,
    item: Item,
    /// Its compression.
    pub kind: ArchiveKind,
}

impl LocalArchive {
    pub(super) fn new(inner: Arc<Inner>, item: Item, kind: ArchiveKind) -> Self {
        LocalArchive { inner, item, kind }
    }

    /// The source as written.
    pub fn source(&self) -> &str {
        &self.item.source
    }

    /// The archive's bytes (compressed as they are), read by descriptor.
    pub fn open(&self) -> Result<impl Read + Send + use<>> {
        self.inner.open_file(&self.item.path, &self.item.meta)
    }

    /// The tar stream inside: decompressed as its kind says. A failing `xz` or `bzip2`
    /// (or a missing one) is an error at the read that meets it.
    pub fn tar_stream(&self) -> Result<Box<dyn Read + Send>> {
        let reader = self.inner.open_file(&self.item.path, &self.item.meta)?;
        decompress(self.kind, reader, &self.item.source)
    }
}

/// Wraps `reader` in the decompressor `kind` calls for.
fn decompress(
    kind: ArchiveKind,
    reader: ExactReader,
    source: &str,
) -> Result<Box<dyn Read + Send>> {
    Ok(match kind {
        ArchiveKind::Tar => Box::new(reader),
        // Concatenated gzip members are one stream (pigz), as Go's gzip reader reads them.
        ArchiveKind::Gzip => Box::new(flate2::read::MultiGzDecoder::new(reader)),
        ArchiveKind::Zstd => Box::new(
            zstd::stream::read::Decoder::new(reader)
                .context(|| format!("starting zstd for {source}"))?,
        ),
        ArchiveKind::Bzip2 => Box::new(Filter::spawn("bzip2", reader, source)?),
        ArchiveKind::Xz => Box::new(Filter::spawn("xz", reader, source)?),
    })
}

/// An external decompressor: a thread feeds it the file, its output is read. Dropped
/// early, it is killed and reaped.
struct Filter {
    program: &'static str,
    source: String,
    child: Child,
    stdout: ChildStdout,
    feeder: Option<JoinHandle<std::io::Result<()>>>,
}

impl Filter {
    fn spawn(program: &'static str, mut input: ExactReader, source: &str) -> Result<Filter> {
        let mut child = Command::new(program)
            .arg("-dc")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Error::Build {
                kind: ErrorKind::Internal,
                message: format!("unpacking {source}: running {program}: {e}"),
            })?;
        let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Runtime(format!(
                "unpacking {source}: no pipe to {program}"
            )));
        };
        let feeder = std::thread::spawn(move || {
            std::io::copy(&mut input, &mut stdin)?;
            stdin.flush()
        });
        Ok(Filter {
            program,
            source: source.to_owned(),
            child,
            stdout,
            feeder: Some(feeder),
        })
    }

    fn failed(&self, why: String) -> std::io::Error {
        std::io::Error::other(format!(
            "unpacking {}: {} failed: {why}",
            self.source, self.program
        ))
    }
}

impl Read for Filter {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.stdout.read(buf)?;
        if n > 0 || buf.is_empty() {
            return Ok(n);
        }
        // The end: the program must have read all the file and succeeded.
        if let Some(feeder) = self.feeder.take() {
            match feeder.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(self.failed(e.to_string())),
                Err(_) => return Err(self.failed("its feeder panicked".into())),
            }
        }
        let status = self.child.wait()?;
        if !status.success() {
            return Err(self.failed(status.to_string()));
        }
        Ok(0)
    }
}

impl Drop for Filter {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        if let Err(e) = self.child.wait() {
            eprintln!("berth: reaping {}: {e}", self.program);
        }
        // Its stdin is closed once the child is gone, so the feeder ends.
        if let Some(feeder) = self.feeder.take() {
            let _ = feeder.join();
        }
    }
}

/// Whether a selected file is a tar ADD unpacks, and its compression.
pub(super) fn archive_kind(inner: &Inner, item: &Item) -> Result<Option<ArchiveKind>> {
    let mut head = Vec::with_capacity(8);
    inner
        .open_file(&item.path, &item.meta)?
        .take(8)
        .read_to_end(&mut head)
        .context(|| format!("reading {}", item.source))?;
    let kind = if head.starts_with(&[0x1f, 0x8b, 0x08]) {
        ArchiveKind::Gzip
    } else if head.starts_with(b"BZh") {
        ArchiveKind::Bzip2
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        ArchiveKind::Xz
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        ArchiveKind::Zstd
    } else {
        ArchiveKind::Tar
    };
    let reader = inner.open_file(&item.path, &item.meta)?;
    let mut block = Vec::with_capacity(512);
    let read = decompress(kind, reader, &item.source)
        .ok()
        .map(|r| r.take(512).read_to_end(&mut block));
    if !matches!(read, Some(Ok(_))) || block.len() < 512 {
        return Ok(None);
    }
    Ok(is_tar_header(&block).then_some(kind))
}

/// A tar header block: its checksum field matches and it names something.
fn is_tar_header(block: &[u8]) -> bool {
    let header = Header::from_byte_slice(&block[..512]);
    let Ok(sum) = header.cksum() else {
        return false;
    };
    let computed: u32 = block[..512]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    sum == computed && block[0] != 0
}
