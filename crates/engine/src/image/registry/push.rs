//! `berth push`: sends an image's layers, config and manifest to a registry (Distribution
//! API v2). Each blob is skipped when the repository has it, mounted when another
//! repository of the registry that the image is tagged from has it, or else uploaded in
//! one PUT streamed from disk.
//!
//! The manifest goes out as the exact bytes berth keeps, so a pulled image keeps its
//! digest. Layer blobs are not kept: a layer is rebuilt byte for byte from its unpacked
//! directory (save.rs) and, when the manifest lists it compressed, gzipped again into
//! `tmp/`. When that gzip is not the manifest's (another compressor made it), the layer
//! goes out as berth's gzip and the manifest is rewritten for it. An image with no
//! manifest (committed, imported, from a docker-archive) gets a deterministic OCI one,
//! stored, so that the next push is the same.

use std::collections::HashMap;
use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;

use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use super::client::{Client, DOCKER_MANIFEST, OCI_MANIFEST};
use super::counting::Counting;
use super::credentials::CredentialStore;
use super::pull::is_insecure;
use super::reference::Reference;
use super::upload::{Body, Upload};
use crate::error::{Context, Error, Result};
use crate::events::{Event, ObjectType};
use crate::ids::{random_hex64, Digest};
use crate::image::blob::{self, HashingReader};
use crate::image::store::ImageRecord;
use crate::state::{open_private, write_json_atomic};
use crate::Engine;

const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Other repositories a blob is asked to be mounted from, at most.
const MAX_MOUNT_SOURCES: usize = 3;

#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    /// Registries (`host[:port]`) spoken to over plain HTTP besides localhost.
    pub insecure_registries: Vec<String>,
    /// Where the user's logins are; none: push anonymously.
    pub credentials: Option<CredentialStore>,
}

/// What a push reports while it works, in order. Layers are named by diff ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum PushEvent {
    /// Pushing to `repository` (`[registry/]path` as Docker shows it); the layers,
    /// bottom first.
    Preparing {
        repository: String,
        layers: Vec<Digest>,
    },
    /// The repository has the layer already.
    LayerExists {
        layer: Digest,
    },
    /// The registry linked the layer from another of its repositories.
    LayerMounted {
        layer: Digest,
        from: String,
    },
    /// Bytes of a layer sent so far.
    LayerProgress {
        layer: Digest,
        done: u64,
        total: u64,
    },
    LayerPushed {
        layer: Digest,
    },
    /// The manifest is stored under `tag`.
    Done {
        tag: String,
        digest: Digest,
        size: u64,
    },
}

/// What a push stored in the registry.
#[derive(Debug, Clone)]
pub struct PushedImage {
    pub tag: String,
    /// The manifest's digest.
    pub digest: Digest,
    /// The manifest's length.
    pub size: u64,
    /// False when a layer's compressed bytes could not be made again and the manifest
    /// was rewritten for berth's own (so the digest differs from the one pulled).
    pub manifest_kept: bool,
}

/// A progress callback.
pub type PushProgress<'a> = &'a (dyn Fn(&PushEvent) + Sync);

/// One layer as the manifest lists it.
struct Layer {
    diff_id: Digest,
    chain: Digest,
    blob: Digest,
}

/// The manifest being pushed: its bytes, and what they say.
struct Manifest {
    bytes: Vec<u8>,
    value: Value,
    media_type: String,
    layers: Vec<Layer>,
    /// A layer's descriptor was replaced: `bytes` must be made again from `value`.
    changed: bool,
}

/// Where a push goes.
struct Target<'a> {
    client: Client,
    repository: &'a str,
    /// Repositories of the same registry the image is tagged from.
    sources: Vec<String>,
    progress: PushProgress<'a>,
}

impl Engine {
    /// Pushes the image tagged `reference` to its registry; errors name the reference
    /// and the cause.
    pub fn push(
        &self,
        reference: &Reference,
        options: &PushOptions,
        progress: PushProgress<'_>,
    ) -> Result<PushedImage> {
        self.push_image(reference, options, progress)
            .map_err(|e| Error::Runtime(format!("pushing {reference}: {e}")))
    }

    fn push_image(
        &self,
        reference: &Reference,
        options: &PushOptions,
        progress: PushProgress<'_>,
    ) -> Result<PushedImage> {
        let (Some(tag), None) = (reference.tag(), reference.digest()) else {
            return Err(Error::Runtime(
                "push takes a tag, not a digest: tag the image first".into(),
            ));
        };
        let record = self.image_to_push(reference)?;
        let config = blob::get(self.paths(), &record.id)?;
        let mut gzipped = HashMap::new();
        let mut manifest = match &record.manifest {
            Some(digest) => Manifest::parse(blob::get(self.paths(), digest)?, &record)?,
            None => self.generate_manifest(&record, &config, &mut gzipped)?,
        };

        let sources = self.mount_sources(&record.id, reference)?;
        let repository = reference.repository();
        let credentials = match &options.credentials {
            Some(store) => store.get(reference.registry())?,
            None => None,
        };
        let mut client = Client::new(
            reference.api_host(),
            reference.registry(),
            is_insecure(reference.registry(), &options.insecure_registries),
            credentials,
        );
        client.scopes = std::iter::once(format!("repository:{repository}:pull,push"))
            .chain(sources.iter().map(|s| format!("repository:{s}:pull")))
            .collect();
        let target = Target {
            client,
            repository,
            sources,
            progress,
        };
        progress(&PushEvent::Preparing {
            repository: reference.familiar_repository(),
            layers: record.diff_ids.clone(),
        });
        for i in 0..manifest.layers.len() {
            self.push_layer(&target, &mut manifest, i, &mut gzipped)?;
        }
        push_config(&target, &record.id, &config)?;

        let bytes = manifest.finish()?;
        let digest = Digest::of_bytes(&bytes);
        let claimed = target
            .client
            .put_manifest(repository, tag, &manifest.media_type, &bytes)?;
        if let Some(claimed) = claimed.filter(|c| c.starts_with("sha256:")) {
            if claimed != digest.to_string() {
                return Err(Error::Runtime(format!(
                    "the registry stored the manifest as {claimed}, not {digest}"
                )));
            }
        }
        if record.manifest.is_none() {
            self.keep_manifest(&record.id, &bytes)?;
        }
        self.record_event(
            &Event::new(ObjectType::Image, "push", record.id.to_string())
                .with("name", reference.to_string()),
        );
        let size = bytes.len() as u64;
        progress(&PushEvent::Done {
            tag: tag.to_owned(),
            digest: digest.clone(),
            size,
        });
        Ok(PushedImage {
            tag: tag.to_owned(),
            digest,
            size,
            manifest_kept: !manifest.changed,
        })
    }

    /// The image the reference's local tag names, in Docker's words when there is none.
    fn image_to_push(&self, reference: &Reference) -> Result<ImageRecord> {
        let missing = || {
            Error::Runtime(format!(
                "An image does not exist locally with the tag: {}",
                reference.familiar_repository()
            ))
        };
        let local = reference.local_tag().ok_or_else(missing)?;
        match self.find_image(&local.to_string()) {
            Ok((record, Some(_))) => Ok(record),
            Ok((_, None)) | Err(Error::NoSuchImage(_)) => Err(missing()),
            Err(e) => Err(e),
        }
    }

    /// Other repositories of the target's registry this image is tagged from: where a
    /// pull put it, so the registry likely has its blobs there.
    fn mount_sources(&self, id: &Digest, target: &Reference) -> Result<Vec<String>> {
        let mut sources: Vec<String> = Vec::new();
        for (tag, image) in self.tags()? {
            let Ok(other) = tag.to_string().parse::<Reference>() else {
                continue;
            };
            let repository = other.repository().to_owned();
            if image == *id
                && other.registry() == target.registry()
                && repository != target.repository()
                && !sources.contains(&repository)
            {
                sources.push(repository);
            }
        }
        sources.truncate(MAX_MOUNT_SOURCES);
        Ok(sources)
    }

    fn push_layer(
        &self,
        target: &Target<'_>,
        manifest: &mut Manifest,
        i: usize,
        gzipped: &mut HashMap<Digest, Gzipped>,
    ) -> Result<()> {
        let label = format!("layer {} ({})", i + 1, manifest.layers[i].diff_id);
        let result = self.send_layer(target, manifest, i, gzipped);
        result.map_err(|e| Error::Runtime(format!("{label}: {e}")))
    }

    fn send_layer(
        &self,
        target: &Target<'_>,
        manifest: &mut Manifest,
        i: usize,
        gzipped: &mut HashMap<Digest, Gzipped>,
    ) -> Result<()> {
        let (client, repository, progress) = (&target.client, target.repository, target.progress);
        let layer = &manifest.layers[i];
        let diff_id = layer.diff_id.clone();
        if client.blob_exists(repository, &layer.blob)? {
            progress(&PushEvent::LayerExists { layer: diff_id });
            return Ok(());
        }
        let mut location = None;
        for from in &target.sources {
            match client.start_upload(repository, Some((&layer.blob, from)))? {
                Upload::Mounted => {
                    progress(&PushEvent::LayerMounted {
                        layer: diff_id,
                        from: from.clone(),
                    });
                    return Ok(());
                }
                // Declined: the session it opened serves the upload.
                Upload::Started(url) => location = Some(url),
            }
        }

        if layer.blob == layer.diff_id {
            // An uncompressed layer: the rebuilt tar is the blob.
            let chain = layer.chain.clone();
            let len = self.rebuilt_layer(&chain)?.ok_or_else(no_record)?.1;
            let open = || -> Result<Box<dyn Read + '_>> {
                let (tar, _) = self.rebuilt_layer(&chain)?.ok_or_else(no_record)?;
                Ok(Box::new(counting(tar, &diff_id, len, progress)))
            };
            let location = start(client, repository, location)?;
            client.put_blob(&location, &diff_id, &Body::Stream { len, open: &open })?;
        } else {
            let gz = match gzipped.remove(&diff_id) {
                Some(gz) => gz,
                None => self.gzip_layer(&layer.chain, &diff_id)?,
            };
            if gz.digest != layer.blob {
                manifest.replace_layer(i, &gz);
                if client.blob_exists(repository, &gz.digest)? {
                    progress(&PushEvent::LayerExists { layer: diff_id });
                    return Ok(());
                }
            }
            let open = || -> Result<Box<dyn Read + '_>> {
                let file = std::fs::File::open(&gz.file.0)
                    .context(|| format!("reading {}", gz.file.0.display()))?;
                Ok(Box::new(counting(file, &diff_id, gz.size, progress)))
            };
            let location = start(client, repository, location)?;
            let body = Body::Stream {
                len: gz.size,
                open: &open,
            };
            client.put_blob(&location, &gz.digest, &body)?;
        }
        progress(&PushEvent::LayerPushed { layer: diff_id });
        Ok(())
    }

    /// Gzips a rebuilt layer into `tmp/`, checking the tar against its diff ID on the way.
    fn gzip_layer(&self, chain: &Digest, diff_id: &Digest) -> Result<Gzipped> {
        let (tar, _) = self.rebuilt_layer(chain)?.ok_or_else(no_record)?;
        // `blob-`: what a crash leaves here, garbage collection removes.
        let path = TempPath(
            self.paths()
                .tmp_dir()
                .join(format!("blob-{}", random_hex64())),
        );
        let what = || format!("compressing layer {diff_id}");
        let file = open_private(&path.0, false).context(what)?;
        let out = HashingWriter {
            inner: BufWriter::new(file),
            hasher: Sha256::new(),
            count: 0,
        };
        // Fixed header (no time, no name, "unknown" OS) and level: the same layer gzips
        // to the same bytes every time.
        let mut encoder = flate2::GzBuilder::new()
            .operating_system(255)
            .write(out, flate2::Compression::default());
        let mut tar = HashingReader::new(tar);
        std::io::copy(&mut tar, &mut encoder).context(what)?;
        let (got, _) = tar.finish().context(what)?;
        if got != *diff_id {
            return Err(Error::Corrupt {
                path: self.paths().layer(chain),
                reason: format!("the rebuilt layer is {got}, not {diff_id}"),
            });
        }
        let mut out = encoder.finish().context(what)?;
        out.inner.flush().context(what)?;
        Ok(Gzipped {
            digest: Digest::from_sha256(out.hasher),
            size: out.count,
            file: path,
        })
    }

    /// An OCI manifest for an image that came without one: its layers gzipped (kept in
    /// `gzipped` for the upload).
    fn generate_manifest(
        &self,
        record: &ImageRecord,
        config: &[u8],
        gzipped: &mut HashMap<Digest, Gzipped>,
    ) -> Result<Manifest> {
        let mut layers = Vec::new();
        for (chain, diff_id) in record.chain_ids.iter().zip(&record.diff_ids) {
            let gz = match gzipped.remove(diff_id) {
                Some(gz) => gz,
                None => self.gzip_layer(chain, diff_id)?,
            };
            layers.push(json!({
                "mediaType": OCI_LAYER_GZIP,
                "digest": gz.digest.to_string(),
                "size": gz.size,
            }));
            gzipped.insert(diff_id.clone(), gz);
        }
        let value = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": OCI_CONFIG,
                "digest": record.id.to_string(),
                "size": config.len(),
            },
            "layers": layers,
        });
        let bytes = to_json(&value)?;
        Manifest::parse(bytes, record)
    }

    /// Stores a generated manifest as the image's, unless one appeared meanwhile.
    fn keep_manifest(&self, id: &Digest, bytes: &[u8]) -> Result<()> {
        let _lock = self.lock()?;
        let mut record = match self.image_record(id) {
            Ok(record) => record,
            // Removed while it was pushed: nothing to keep it for.
            Err(Error::NoSuchImage(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        if record.manifest.is_some() {
            return Ok(());
        }
        let (digest, _) = blob::put(self.paths(), bytes)?;
        record.manifest = Some(digest);
        write_json_atomic(&self.image_record_path(id), &record)
    }
}

/// Sends the config blob, unless the repository has it.
fn push_config(target: &Target<'_>, id: &Digest, config: &[u8]) -> Result<()> {
    let client = &target.client;
    if client.blob_exists(target.repository, id)? {
        return Ok(());
    }
    let location = start(client, target.repository, None)?;
    client
        .put_blob(&location, id, &Body::Bytes(config))
        .map_err(|e| Error::Runtime(format!("image config {id}: {e}")))
}

/// The upload session to use: the one a declined mount opened, or a new one.
fn start(client: &Client, repository: &str, opened: Option<String>) -> Result<String> {
    if let Some(location) = opened {
        return Ok(location);
    }
    match client.start_upload(repository, None)? {
        Upload::Started(location) => Ok(location),
        Upload::Mounted => Err(Error::Runtime(
            "the registry answered an upload as a mount".into(),
        )),
    }
}

fn no_record() -> Error {
    Error::Runtime(
        "berth keeps no record of this layer's tar (loaded by an older berth, or its tar \
         names a path twice), so it can't be sent as it was loaded"
            .into(),
    )
}

fn to_json(value: &Value) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::Runtime(format!("encoding JSON: {e}")))
}

impl Manifest {
    /// Reads a stored manifest, checking it describes `record`.
    fn parse(bytes: Vec<u8>, record: &ImageRecord) -> Result<Manifest> {
        let bad = |why: String| Error::Runtime(format!("the image's manifest {why}"));
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|e| bad(format!("is not JSON: {e}")))?;
        let config = value["config"]["digest"].as_str().unwrap_or_default();
        if config != record.id.to_string() {
            return Err(bad(format!("names config {config:?}, not {}", record.id)));
        }
        let listed = value["layers"].as_array().map_or(&[][..], Vec::as_slice);
        if listed.len() != record.diff_ids.len() {
            return Err(bad(format!(
                "lists {} layers, the image has {}",
                listed.len(),
                record.diff_ids.len()
            )));
        }
        let mut layers = Vec::new();
        for ((descriptor, diff_id), chain) in
            listed.iter().zip(&record.diff_ids).zip(&record.chain_ids)
        {
            let blob = descriptor["digest"]
                .as_str()
                .unwrap_or_default()
                .parse::<Digest>()
                .map_err(|e| bad(e.to_string()))?;
            layers.push(Layer {
                diff_id: diff_id.clone(),
                chain: chain.clone(),
                blob,
            });
        }
        // OCI manifests may leave their media type out; the config's then tells.
        let media_type = match value["mediaType"].as_str() {
            Some(media_type) => media_type.to_owned(),
            None if value["config"]["mediaType"]
                .as_str()
                .is_some_and(|m| m.starts_with("application/vnd.docker.")) =>
            {
                DOCKER_MANIFEST.to_owned()
            }
            None => OCI_MANIFEST.to_owned(),
        };
        Ok(Manifest {
            bytes,
            value,
            media_type,
            layers,
            changed: false,
        })
    }

    /// Lists berth's gzip for layer `i` instead of the one the manifest had.
    fn replace_layer(&mut self, i: usize, gz: &Gzipped) {
        let media_type = if self.media_type == DOCKER_MANIFEST {
            DOCKER_LAYER_GZIP
        } else {
            OCI_LAYER_GZIP
        };
        self.value["layers"][i] = json!({
            "mediaType": media_type,
            "digest": gz.digest.to_string(),
            "size": gz.size,
        });
        self.layers[i].blob = gz.digest.clone();
        self.changed = true;
    }

    /// The bytes to PUT: as stored, unless a layer was replaced.
    fn finish(&self) -> Result<Vec<u8>> {
        if self.changed {
            to_json(&self.value)
        } else {
            Ok(self.bytes.clone())
        }
    }
}

/// A file in `tmp/`, removed when dropped.
struct TempPath(PathBuf);

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A layer gzipped into `tmp/`.
struct Gzipped {
    file: TempPath,
    digest: Digest,
    size: u64,
}

/// Hashes and counts what is written through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// `inner`, reporting its bytes as the layer's upload progress.
fn counting<'a, R: Read + 'a>(
    inner: R,
    layer: &'a Digest,
    total: u64,
    progress: PushProgress<'a>,
) -> impl Read + 'a {
    Counting::new(inner, total, move |done, total| {
        progress(&PushEvent::LayerProgress {
            layer: layer.clone(),
            done,
            total,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(layers: usize) -> ImageRecord {
        let digests = |tag: &str| {
            (0..layers)
                .map(|i| Digest::of_bytes(format!("{tag}{i}").as_bytes()))
                .collect::<Vec<_>>()
        };
        ImageRecord::new(
            Digest::of_bytes(b"config"),
            digests("diff"),
            digests("chain"),
            None,
            0,
        )
    }

    fn manifest(config_type: &str, media_type: Option<&str>, layers: usize) -> Vec<u8> {
        let mut value = json!({
            "schemaVersion": 2,
            "config": {"mediaType": config_type, "digest": Digest::of_bytes(b"config").to_string(), "size": 6},
            "layers": (0..layers).map(|i| json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
                "digest": Digest::of_bytes(format!("blob{i}").as_bytes()).to_string(),
                "size": 1,
            })).collect::<Vec<_>>(),
        });
        if let Some(media_type) = media_type {
            value["mediaType"] = json!(media_type);
        }
        serde_json::to_vec(&value).unwrap()
    }

    #[test]
    fn a_stored_manifest_goes_out_as_it_is_unless_a_layer_changes() {
        let bytes = manifest(OCI_CONFIG, None, 2);
        let mut parsed = Manifest::parse(bytes.clone(), &record(2)).unwrap();
        assert_eq!(parsed.media_type, OCI_MANIFEST);
        assert_eq!(parsed.layers[1].blob, Digest::of_bytes(b"blob1"));
        assert_eq!(parsed.finish().unwrap(), bytes);

        let gz = Gzipped {
            file: TempPath(PathBuf::from("/nonexistent/berth-push-test")),
            digest: Digest::of_bytes(b"gz"),
            size: 7,
        };
        parsed.replace_layer(1, &gz);
        let changed: Value = serde_json::from_slice(&parsed.finish().unwrap()).unwrap();
        assert_eq!(changed["layers"][1]["digest"], gz.digest.to_string());
        assert_eq!(changed["layers"][1]["mediaType"], OCI_LAYER_GZIP);
        assert_eq!(
            changed["layers"][0]["digest"],
            Digest::of_bytes(b"blob0").to_string()
        );

        let docker = manifest("application/vnd.docker.container.image.v1+json", None, 1);
        assert_eq!(
            Manifest::parse(docker, &record(1)).unwrap().media_type,
            DOCKER_MANIFEST
        );
        let named = manifest(OCI_CONFIG, Some(DOCKER_MANIFEST), 1);
        assert_eq!(
            Manifest::parse(named, &record(1)).unwrap().media_type,
            DOCKER_MANIFEST
        );
    }

    #[test]
    fn a_manifest_for_another_image_is_refused() {
        assert!(Manifest::parse(manifest(OCI_CONFIG, None, 2), &record(3)).is_err());
        let mut other = record(2);
        other.id = Digest::of_bytes(b"other");
        assert!(Manifest::parse(manifest(OCI_CONFIG, None, 2), &other).is_err());
        assert!(Manifest::parse(b"[]".to_vec(), &record(0)).is_err());
        assert!(Manifest::parse(b"not json".to_vec(), &record(0)).is_err());
    }
}
