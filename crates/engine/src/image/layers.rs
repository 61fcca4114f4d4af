//! Unpacked layers, keyed by chain ID so images that share a base share its directories.
//!
//! A layer is unpacked in one streaming pass (read, decompress, hash the diff ID, write
//! files) into `<root>/tmp/`, checked, and renamed into `<root>/layers/<chain-hex>/` only
//! once complete: a layer directory that exists is always whole, which is why an
//! existing one is reused without unpacking again.

use std::fs;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::blob::HashingReader;
use super::bounds::{Bounded, LayerBounds};
use super::compress::{decompress, Compression};
use super::rollback::Rollback;
use super::{tarsplit, unpack};
use crate::error::{Context, Error, Result};
use crate::faults::crash_point;
use crate::ids::{random_hex64, Digest};
use crate::paths::{make_private_dir, DIR_MODE};
use crate::state::StateLock;
use crate::state::{read_json, write_json_atomic};
use crate::Engine;

const LAYER_RECORD: &str = "layer.json";
const READ_BUF: usize = 1 << 20;

/// `<root>/layers/<chain-hex>/layer.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerRecord {
    pub chain_id: Digest,
    /// sha256 of the uncompressed layer tar.
    pub diff_id: Digest,
    pub parent: Option<Digest>,
    /// Bytes of file content in the layer.
    pub size: u64,
}

/// The OCI chain ID: the diff ID for the bottom layer, then
/// `sha256("<parent chain ID> <diff ID>")`.
pub fn chain_id(parent: Option<&Digest>, diff_id: &Digest) -> Digest {
    match parent {
        None => diff_id.clone(),
        Some(parent) => {
            let mut hasher = Sha256::new();
            hasher.update(format!("{parent} {diff_id}").as_bytes());
            Digest::from_sha256(hasher)
        }
    }
}

/// What the caller knows about a layer stream before reading it.
pub struct Expected<'a> {
    /// Digest of the blob as stored (compressed or not), when the archive names it.
    pub blob: Option<&'a Digest>,
    /// The diff ID from the image config; None for `import`, which computes it.
    pub diff_id: Option<&'a Digest>,
    pub parent: Option<&'a Digest>,
    /// Names the layer in errors, e.g. `layer 2 (abc/layer.tar)`.
    pub label: &'a str,
}

impl Engine {
    pub(crate) fn layer_record(&self, chain_id: &Digest) -> Result<LayerRecord> {
        read_json(&self.paths().layer(chain_id).join(LAYER_RECORD))
    }

    pub(crate) fn layer_exists(&self, chain_id: &Digest) -> bool {
        self.paths().layer(chain_id).join(LAYER_RECORD).is_file()
    }

    /// Unpacks a layer stream and moves it into place; an existing layer with the same
    /// chain ID is kept and the new copy discarded. Call with the engine lock held.
    pub(crate) fn add_layer(
        &self,
        _held: &StateLock,
        stream: impl Read,
        expected: &Expected<'_>,
        archive: &Path,
        rollback: &mut Rollback,
    ) -> Result<LayerRecord> {
        let prepared = self.prepare_layer(stream, expected, archive)?;
        self.commit_layer(_held, prepared, rollback)
    }

    /// Unpacks and checks a layer stream in `tmp/`, not yet visible: the slow half of
    /// [`Engine::add_layer`], which several threads may run at once. Dropping the result
    /// removes the unpacked files.
    pub(crate) fn prepare_layer(
        &self,
        stream: impl Read,
        expected: &Expected<'_>,
        archive: &Path,
    ) -> Result<PreparedLayer> {
        self.prepare_layer_in(&self.paths().tmp_dir(), stream, expected, archive, None)
    }

    /// As [`Engine::prepare_layer`], unpacking under `dir` (a workspace of `tmp/`) within
    /// `bounds`, when given.
    pub(crate) fn prepare_layer_in(
        &self,
        dir: &Path,
        stream: impl Read,
        expected: &Expected<'_>,
        archive: &Path,
        bounds: Option<&LayerBounds>,
    ) -> Result<PreparedLayer> {
        let tmp = dir.join(format!("layer-{}", random_hex64()));
        let mut scratch = Rollback::default();
        scratch.created(tmp.clone())?;
        let diff = tmp.join("diff");
        // The layer's own directory is root-only (it becomes `layers/<chain>`); `diff/`
        // gets the mode the archive gives it.
        make_private_dir(&tmp, DIR_MODE, false)
            .context(|| format!("creating {}", tmp.display()))?;
        fs::create_dir_all(&diff).context(|| format!("creating {}", diff.display()))?;

        let bad = |reason: String| Error::bad_archive(archive.display().to_string(), reason);
        let split = tmp.join(tarsplit::SPLIT_FILE);
        let recorder = tarsplit::Recorder::create(&split)?;
        let (blob, diff_id, size) = unpack_stream(stream, &diff, &recorder, bounds)
            .map_err(|e| bad(format!("{}: {e}", expected.label)))?;
        recorder.finish(&split)?;
        if let Some(want) = expected.blob {
            if *want != blob {
                return Err(bad(format!(
                    "{}: blob digest mismatch: expected {want}, got {blob}",
                    expected.label
                )));
            }
        }
        if let Some(want) = expected.diff_id {
            if *want != diff_id {
                return Err(bad(format!(
                    "{}: diff_id mismatch: config says {want}, content is {diff_id}",
                    expected.label
                )));
            }
        }
        let record = LayerRecord {
            chain_id: chain_id(expected.parent, &diff_id),
            diff_id,
            parent: expected.parent.cloned(),
            size,
        };
        Ok(PreparedLayer {
            tmp,
            record,
            scratch,
        })
    }

    /// Moves a prepared layer into `layers/`. Call with the engine lock held.
    pub(crate) fn commit_layer(
        &self,
        _held: &StateLock,
        prepared: PreparedLayer,
        rollback: &mut Rollback,
    ) -> Result<LayerRecord> {
        let PreparedLayer {
            tmp,
            record,
            scratch,
        } = prepared;
        let dest = self.paths().layer(&record.chain_id);
        if self.layer_exists(&record.chain_id) {
            return Ok(record);
        }
        write_json_atomic(&tmp.join(LAYER_RECORD), &record)?;
        crash_point("load:mid-layer");
        // A leftover without layer.json is debris from a crash; make room for the new one.
        if dest.exists() {
            fs::remove_dir_all(&dest).context(|| format!("removing stale {}", dest.display()))?;
        }
        fs::rename(&tmp, &dest).context(|| format!("moving layer into {}", dest.display()))?;
        scratch.commit();
        rollback.created(dest)?;
        crash_point("load:after-layer");
        Ok(record)
    }
}

/// A layer unpacked and checked in `tmp/`, waiting for [`Engine::commit_layer`].
pub(crate) struct PreparedLayer {
    pub(super) tmp: PathBuf,
    pub(super) record: LayerRecord,
    /// Removes `tmp` unless the layer is committed.
    pub(super) scratch: Rollback,
}

impl PreparedLayer {
    pub(crate) fn chain_id(&self) -> &Digest {
        &self.record.chain_id
    }
}

/// Decompresses, hashes and unpacks in one pass; returns (blob digest, diff ID, size).
/// The recorder sees the decompressed tar, trailing padding included; `bounds` counts it.
fn unpack_stream(
    stream: impl Read,
    dest: &Path,
    recorder: &tarsplit::Recorder,
    bounds: Option<&LayerBounds>,
) -> Result<(Digest, Digest, u64)> {
    let mut input = BufReader::with_capacity(READ_BUF, stream);
    let compression = Compression::detect(&mut input).context(|| "reading layer".to_owned())?;
    if compression == Compression::None {
        // The blob is the tar: one hash serves as both digests.
        let mut tar = recorder.reader(HashingReader::new(Bounded::new(&mut input, bounds)));
        let size = unpack::unpack_recorded(&mut tar, dest, Some(recorder))?;
        std::io::copy(&mut tar, &mut std::io::sink()).context(|| "reading layer".to_owned())?;
        let (diff_id, _) = tar
            .into_inner()
            .finish()
            .context(|| "reading layer".to_owned())?;
        return Ok((diff_id.clone(), diff_id, size));
    }
    let mut blob = HashingReader::new(&mut input);
    let mut tar = recorder.reader(HashingReader::new(Bounded::new(
        decompress(BufReader::with_capacity(64 << 10, &mut blob))?,
        bounds,
    )));
    let size = unpack::unpack_recorded(&mut tar, dest, Some(recorder))?;
    let what = || format!("decompressing layer ({compression:?})");
    std::io::copy(&mut tar, &mut std::io::sink()).context(what)?;
    let (diff_id, _) = tar.into_inner().finish().context(what)?;
    let (blob_digest, _) = blob.finish().context(|| "reading layer".to_owned())?;
    Ok((blob_digest, diff_id, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_id_follows_the_oci_definition() {
        let a = Digest::of_bytes(b"a");
        let b = Digest::of_bytes(b"b");
        assert_eq!(chain_id(None, &a), a);
        let want = Digest::of_bytes(format!("{a} {b}").as_bytes());
        assert_eq!(chain_id(Some(&a), &b), want);
    }
}
