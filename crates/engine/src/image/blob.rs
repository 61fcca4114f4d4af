//! The content-addressed blob store: `<root>/blobs/sha256/<hex>`.
//!
//! Blobs are written to a temp file while hashing, checked against the digest the caller
//! expects, and only then renamed into place, so a blob file always holds what its name
//! says. Readers verify again, since manifests and configs are small and a corrupted one
//! would silently change what an image runs.

use std::fs;
use std::io::{Read, Write};

use sha2::{Digest as _, Sha256};

use crate::error::{Context, Error, Result};
use crate::ids::{random_hex64, Digest};
use crate::EnginePaths;

/// A reader that hashes everything read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    /// Reads what is left (tar padding after the end marker counts towards the digest)
    /// and returns the digest and byte count of the whole stream.
    pub fn finish(mut self) -> std::io::Result<(Digest, u64)> {
        std::io::copy(&mut self, &mut std::io::sink())?;
        Ok((Digest::from_sha256(self.hasher), self.count))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// Stores `bytes` under their digest; returns the digest and whether the blob is new
/// (so that a failed load can remove only what it added).
pub fn put(paths: &EnginePaths, bytes: &[u8]) -> Result<(Digest, bool)> {
    let digest = Digest::of_bytes(bytes);
    let dest = paths.blob(&digest);
    if dest.exists() {
        return Ok((digest, false));
    }
    let tmp = paths.tmp_dir().join(format!("blob-{}", random_hex64()));
    let result = crate::state::open_private(&tmp, false)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| fs::rename(&tmp, &dest));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.context(|| format!("writing blob {digest}"))?;
    Ok((digest, true))
}

/// Reads a blob and checks that its content still matches its name.
pub fn get(paths: &EnginePaths, digest: &Digest) -> Result<Vec<u8>> {
    let path = paths.blob(digest);
    let bytes = fs::read(&path).context(|| format!("reading blob {digest}"))?;
    if Digest::of_bytes(&bytes) != *digest {
        return Err(Error::Corrupt {
            path,
            reason: "content does not match its digest".into(),
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_round_trip_and_detects_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let paths = EnginePaths::create(dir.path()).unwrap();
        let (d, new) = put(&paths, b"config").unwrap();
        assert!(new);
        assert_eq!(d, Digest::of_bytes(b"config"));
        assert!(!put(&paths, b"config").unwrap().1);
        assert_eq!(get(&paths, &d).unwrap(), b"config");
        fs::write(paths.blob(&d), b"tampered").unwrap();
        assert!(matches!(get(&paths, &d), Err(Error::Corrupt { .. })));
    }

    #[test]
    fn hashing_reader_covers_the_whole_stream() {
        let mut r = HashingReader::new(&b"hello world"[..]);
        let mut first = [0u8; 5];
        r.read_exact(&mut first).unwrap();
        let (d, n) = r.finish().unwrap();
        assert_eq!(n, 11);
        assert_eq!(d, Digest::of_bytes(b"hello world"));
    }
}
