//! `berth load`: docker-save archives and OCI image layouts (directory or tar).
//!
//! Everything is checked before it is trusted: blob digests, each layer's diff ID against
//! the config, and names. The whole load is one transaction: records and tags are
//! written only after every layer of every image is in place, and a failure removes
//! whatever this load added.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use oci_spec::image::{Arch, Descriptor, ImageConfiguration, ImageIndex, ImageManifest, Os};
use serde::Deserialize;

use super::layers::Expected;
use super::rollback::Rollback;
use super::source::Source;
use super::store::ImageRecord;
use super::{blob, layers};
use crate::error::{Context, Error, Result};
use crate::events::{Event, ObjectType};
use crate::faults::crash_point;
use crate::ids::{random_hex64, Digest, ImageRef};
use crate::state::StateLock;
use crate::Engine;

const DOCKER_MANIFEST: &str = "manifest.json";
const OCI_INDEX: &str = "index.json";
const ANNOTATION_CONTAINERD_NAME: &str = "io.containerd.image.name";
const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
const MAX_INDEX_DEPTH: usize = 4;

/// One image a load added (or found already present).
#[derive(Debug, Clone)]
pub struct LoadedImage {
    pub id: Digest,
    pub tags: Vec<ImageRef>,
}

/// An entry of docker's `manifest.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// An image found in the archive, before anything is written.
struct Candidate {
    config: Vec<u8>,
    manifest: Option<Vec<u8>>,
    /// Member name and, when the archive says, the blob's digest.
    layers: Vec<(String, Option<Digest>)>,
    tags: Vec<ImageRef>,
}

impl Engine {
    /// Loads every image in a docker-save archive or OCI layout at `path`.
    pub fn load_archive(&self, path: &Path) -> Result<Vec<LoadedImage>> {
        let source = Source::open(path)?;
        let candidates = if source.contains(DOCKER_MANIFEST) {
            docker_candidates(&source)?
        } else if source.contains(OCI_INDEX) {
            oci_candidates(&source)?
        } else {
            return Err(source.error(
                "no manifest.json or index.json: not a docker save archive or OCI image layout",
            ));
        };
        if candidates.is_empty() {
            return Err(source.error("the archive lists no images"));
        }

        let lock = self.lock()?;
        let mut rollback = Rollback::journaled(self.paths())?;
        let mut loaded = Vec::new();
        for candidate in &candidates {
            let id = self.install(&lock, &source, candidate, &mut rollback)?;
            loaded.push(LoadedImage {
                id,
                tags: candidate.tags.clone(),
            });
        }
        for image in &loaded {
            self.set_tags(&lock, &image.tags, &image.id)?;
        }
        crash_point("load:before-commit");
        rollback.commit();
        for image in &loaded {
            let mut event = Event::new(ObjectType::Image, "load", image.id.to_string());
            if let Some(tag) = image.tags.first() {
                event = event.with("name", tag.to_string());
            }
            self.record_event(&event);
        }
        Ok(loaded)
    }

    /// Loads from a stream (`load` without `-i`): an archive is read by seeking, so the
    /// stream is first spooled to an unnamed file in the engine's tmp dir, which goes
    /// away with its descriptor. Errors name the archive `name`.
    pub fn load_stream(&self, mut input: impl Read, name: &str) -> Result<Vec<LoadedImage>> {
        let mut spool = self.spool_file()?;
        std::io::copy(&mut input, &mut spool).context(|| format!("reading {name}"))?;
        let path = std::path::PathBuf::from(format!("/proc/self/fd/{}", spool.as_raw_fd()));
        let shown = path.display().to_string();
        self.load_archive(&path).map_err(|e| match e {
            Error::BadArchive { path, reason } if path == shown => Error::BadArchive {
                path: name.to_owned(),
                reason,
            },
            e => e,
        })
    }

    /// A file in the engine's tmp dir with no name: unnamed from the start where the
    /// filesystem can (O_TMPFILE), else unlinked at once.
    fn spool_file(&self) -> Result<File> {
        let dir = self.paths().tmp_dir();
        let unnamed = OpenOptions::new()
            .read(true)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_TMPFILE)
            .open(&dir);
        if let Ok(file) = unnamed {
            return Ok(file);
        }
        let path = dir.join(format!("load-{}", random_hex64()));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .context(|| format!("creating {}", path.display()))?;
        std::fs::remove_file(&path).context(|| format!("removing {}", path.display()))?;
        Ok(file)
    }

    /// Unpacks the candidate's missing layers and writes its blobs and record.
    fn install(
        &self,
        _held: &StateLock,
        source: &Source,
        candidate: &Candidate,
        rollback: &mut Rollback,
    ) -> Result<Digest> {
        let config: ImageConfiguration = serde_json::from_slice(&candidate.config)
            .map_err(|e| source.error(format!("image config: invalid JSON: {e}")))?;
        let diff_ids = config
            .rootfs()
            .diff_ids()
            .iter()
            .map(|d| d.parse::<Digest>())
            .collect::<Result<Vec<_>>>()
            .map_err(|e| source.error(format!("image config: {e}")))?;
        if diff_ids.len() != candidate.layers.len() {
            return Err(source.error(format!(
                "the manifest lists {} layers but the config has {} diff_ids",
                candidate.layers.len(),
                diff_ids.len()
            )));
        }

        let mut chain_ids = Vec::new();
        let mut size = 0;
        let mut parent: Option<Digest> = None;
        for (i, ((member, blob_digest), diff_id)) in
            candidate.layers.iter().zip(&diff_ids).enumerate()
        {
            let chain = layers::chain_id(parent.as_ref(), diff_id);
            let record = if self.layer_exists(&chain) {
                self.layer_record(&chain)?
            } else {
                let label = format!("layer {} ({member})", i + 1);
                let stream = source.open_member(member)?;
                let expected = Expected {
                    blob: blob_digest.as_ref(),
                    diff_id: Some(diff_id),
                    parent: parent.as_ref(),
                    label: &label,
                };
                self.add_layer(_held, stream, &expected, source.path(), rollback)?
            };
            size += record.size;
            chain_ids.push(chain.clone());
            parent = Some(chain);
        }

        let id = self.put_blob(&candidate.config, rollback)?;
        crash_point("load:after-blob");
        let record = ImageRecord::new(
            id.clone(),
            diff_ids,
            chain_ids,
            config.created().clone(),
            size,
        );
        self.add_image_record(record, candidate.manifest.as_deref(), rollback)?;
        crash_point("load:after-record");
        Ok(id)
    }

    pub(crate) fn put_blob(&self, bytes: &[u8], rollback: &mut Rollback) -> Result<Digest> {
        let (digest, new) = blob::put(self.paths(), bytes)?;
        if new {
            rollback.created(self.paths().blob(&digest))?;
        }
        Ok(digest)
    }
}

fn docker_candidates(source: &Source) -> Result<Vec<Candidate>> {
    let bytes = source.read_document(DOCKER_MANIFEST)?;
    let entries: Vec<DockerManifestEntry> = serde_json::from_slice(&bytes)
        .map_err(|e| source.error(format!("{DOCKER_MANIFEST}: invalid JSON: {e}")))?;
    entries
        .into_iter()
        .map(|entry| {
            let config = read_named_blob(source, &entry.config)?;
            let layers = entry
                .layers
                .into_iter()
                .map(|l| {
                    let digest = digest_in_name(&l);
                    (l, digest)
                })
                .collect();
            let tags = entry
                .repo_tags
                .unwrap_or_default()
                .iter()
                .map(|t| {
                    t.parse::<ImageRef>()
                        .map_err(|e| source.error(format!("{DOCKER_MANIFEST}: {e}")))
                })
                .collect::<Result<_>>()?;
            Ok(Candidate {
                config,
                manifest: None,
                layers,
                tags,
            })
        })
        .collect()
}

/// Reads a member and, when its name is `.../sha256/<hex>` or `<hex>.json`, checks it.
fn read_named_blob(source: &Source, name: &str) -> Result<Vec<u8>> {
    let bytes = source.read_document(name)?;
    if let Some(want) = digest_in_name(name) {
        let got = Digest::of_bytes(&bytes);
        if got != want {
            return Err(source.error(format!("{name}: digest mismatch: content is {got}")));
        }
    }
    Ok(bytes)
}

/// The digest a member's name claims: `blobs/sha256/<hex>` or `<hex>.json`.
fn digest_in_name(name: &str) -> Option<Digest> {
    let file = Path::new(name).file_name()?.to_str()?;
    let hex = file.strip_suffix(".json").unwrap_or(file);
    let in_blobs = name.contains("sha256/");
    if in_blobs || file.ends_with(".json") {
        format!("sha256:{hex}").parse().ok()
    } else {
        None
    }
}

fn blob_member(source: &Source, descriptor: &Descriptor) -> Result<(String, Digest)> {
    let digest: Digest = descriptor
        .digest()
        .to_string()
        .parse()
        .map_err(|e| source.error(format!("{OCI_INDEX}: {e}")))?;
    Ok((format!("blobs/sha256/{}", digest.hex()), digest))
}

/// Reads a blob a descriptor points at, checking its digest.
fn read_descriptor(source: &Source, descriptor: &Descriptor) -> Result<Vec<u8>> {
    let (member, _) = blob_member(source, descriptor)?;
    read_named_blob(source, &member)
}

fn oci_candidates(source: &Source) -> Result<Vec<Candidate>> {
    let bytes = source.read_document(OCI_INDEX)?;
    let index: ImageIndex = serde_json::from_slice(&bytes)
        .map_err(|e| source.error(format!("{OCI_INDEX}: invalid JSON: {e}")))?;
    let mut candidates: Vec<Candidate> = Vec::new();
    for descriptor in index.manifests() {
        let tags = oci_tags(source, descriptor)?;
        let manifest_bytes = resolve_manifest(source, descriptor, 0)?;
        let manifest: ImageManifest = serde_json::from_slice(&manifest_bytes).map_err(|e| {
            source.error(format!(
                "manifest {}: invalid JSON: {e}",
                descriptor.digest()
            ))
        })?;
        let config = read_descriptor(source, manifest.config())?;
        let layers = manifest
            .layers()
            .iter()
            .map(|l| blob_member(source, l).map(|(m, d)| (m, Some(d))))
            .collect::<Result<_>>()?;
        // Several index entries may name one image with different tags: merge them.
        if let Some(same) = candidates.iter_mut().find(|c| c.config == config) {
            same.tags.extend(tags);
            continue;
        }
        candidates.push(Candidate {
            config,
            manifest: Some(manifest_bytes),
            layers,
            tags,
        });
    }
    Ok(candidates)
}

/// Follows nested indexes down to one image manifest, preferring this host's platform.
fn resolve_manifest(source: &Source, descriptor: &Descriptor, depth: usize) -> Result<Vec<u8>> {
    let bytes = read_descriptor(source, descriptor)?;
    let nested: Option<ImageIndex> = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .filter(|v| v.get("manifests").is_some())
        .and_then(|v| serde_json::from_value(v).ok());
    let Some(nested) = nested else {
        return Ok(bytes);
    };
    if depth >= MAX_INDEX_DEPTH {
        return Err(source.error("image indexes nested too deeply"));
    }
    let native = |d: &&Descriptor| {
        d.platform()
            .as_ref()
            .is_some_and(|p| *p.os() == Os::default() && *p.architecture() == Arch::default())
    };
    let chosen = nested
        .manifests()
        .iter()
        .find(native)
        .or_else(|| nested.manifests().first())
        .ok_or_else(|| source.error(format!("index {} lists no manifests", descriptor.digest())))?;
    resolve_manifest(source, chosen, depth + 1)
}

/// The image name an OCI index entry carries: containerd's full name, or the standard
/// ref.name when it is a full name (a bare tag names no repository).
fn oci_tags(source: &Source, descriptor: &Descriptor) -> Result<Vec<ImageRef>> {
    let Some(annotations) = descriptor.annotations() else {
        return Ok(Vec::new());
    };
    let name = annotations.get(ANNOTATION_CONTAINERD_NAME).or_else(|| {
        annotations
            .get(ANNOTATION_REF_NAME)
            .filter(|n| n.contains(':') || n.contains('/'))
    });
    match name {
        Some(name) => name
            .parse::<ImageRef>()
            .map(|r| vec![r])
            .map_err(|e| source.error(format!("{OCI_INDEX}: {e}"))),
        None => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_in_name_reads_blob_and_config_names() {
        let d = Digest::of_bytes(b"x");
        assert_eq!(
            digest_in_name(&format!("blobs/sha256/{}", d.hex())),
            Some(d.clone())
        );
        assert_eq!(digest_in_name(&format!("{}.json", d.hex())), Some(d));
        assert_eq!(digest_in_name("abc/layer.tar"), None);
    }
}
