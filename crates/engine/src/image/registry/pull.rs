//! `berth pull`: resolves a reference to one image manifest (picking the platform from an
//! index), then fetches its config and layers, each checked against its digest.
//!
//! Layers stream from the registry through the blob hash, decompression, the diff-ID
//! hash and the unpacker in one pass, a few at a time, into `tmp/`; nothing becomes
//! visible until every digest matched. The pull is one transaction as `load` is: a
//! failure or crash leaves no layer, blob, record or tag behind.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use oci_spec::image::{ImageConfiguration, ImageIndex, ImageManifest};
use serde::Serialize;

use super::client::{read_bounded, Client, Fetched, MAX_MANIFEST};
use super::counting::Counting;
use super::credentials::CredentialStore;
use super::platform::Platform;
use super::pump::Pumped;
use super::reference::Reference;
use crate::error::{Error, Result};
use crate::events::{Event, ObjectType};
use crate::ids::{random_hex64, Digest, ImageRef};
use crate::image::bounds::{LayerBounds, DEFAULT_MAX_UNPACK_RATIO};
use crate::image::layers::{chain_id, Expected, PreparedLayer};
use crate::image::rollback::Rollback;
use crate::image::store::ImageRecord;
use crate::state::Workspace;
use crate::Engine;

/// Image configs larger than this are refused.
const MAX_CONFIG: u64 = 16 << 20;
/// More layers than overlayfs can stack is not an image berth can run.
const MAX_LAYERS: usize = 500;
/// An index pointing at an index pointing at ... stops here.
const MAX_INDEX_DEPTH: usize = 3;
/// Layers downloaded at once, as Docker's default.
const PARALLEL_LAYERS: usize = 3;
/// Downloads of layers removed meanwhile (by `rmi` or a prune) before giving up.
const MAX_ROUNDS: usize = 3;

#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// The platform to pick from an index; the host's when None.
    pub platform: Option<Platform>,
    /// Registries (`host[:port]`) spoken to over plain HTTP besides localhost.
    pub insecure_registries: Vec<String>,
    /// Where the user's logins are (`berth login`, Docker's config.json); none: pull
    /// anonymously. The caller's to choose: the engine reads no home directory itself.
    pub credentials: Option<CredentialStore>,
    /// Set from another thread to stop the pull; it then fails, leaving nothing.
    pub cancel: Cancel,
    /// A layer unpacking to more than this many times its compressed size is refused
    /// (`max-unpack-ratio` in config.toml); None: the default, 0: no bound.
    pub max_unpack_ratio: Option<u64>,
}

/// A flag another thread sets to stop a pull; a layer stops within a tenth of a second,
/// even while the registry sends nothing (see pump.rs).
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// The flag itself, for a signal handler (which can only store to an atomic).
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.0.clone()
    }
}

/// The same flag, not an equal one.
impl PartialEq for Cancel {
    fn eq(&self, other: &Cancel) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Cancel {}

/// What a pull reports while it works, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum PullEvent {
    /// Fetching the manifest of `repository` (the path inside the registry).
    Resolving { repository: String },
    /// The image manifest is chosen; its layers, bottom first.
    Resolved {
        repository: String,
        manifest: Digest,
        layers: Vec<Digest>,
    },
    /// A layer the engine already has: not downloaded.
    LayerExists { layer: Digest },
    /// Bytes of a layer blob received so far.
    LayerProgress {
        layer: Digest,
        done: u64,
        total: u64,
    },
    /// A layer downloaded, verified (blob digest and diff ID) and unpacked.
    LayerComplete { layer: Digest },
    /// The image is stored and tagged.
    Done { id: Digest, digest: Digest },
}

/// What a pull stored.
#[derive(Debug, Clone)]
pub struct PulledImage {
    /// The image ID (the config's digest).
    pub id: Digest,
    /// The digest the reference resolved to (the index's, when it named an index).
    pub digest: Digest,
    /// The tag set, for a pull by tag.
    pub tag: Option<ImageRef>,
    /// False if the image was already here under this name.
    pub new: bool,
}

/// A progress callback; layers report from several threads.
pub type Progress<'a> = &'a (dyn Fn(&PullEvent) + Sync);

/// A layer to fetch.
#[derive(Clone)]
struct Job {
    digest: Digest,
    size: u64,
    diff_id: Digest,
    parent: Option<Digest>,
    chain: Digest,
    label: String,
}

impl Engine {
    /// Pulls `reference` from its registry; errors name the reference and the cause.
    pub fn pull(
        &self,
        reference: &Reference,
        options: &PullOptions,
        progress: Progress<'_>,
    ) -> Result<PulledImage> {
        self.pull_image(reference, options, progress)
            .map_err(|e| match e {
                // Layer errors already name the pull (it is their "archive").
                Error::BadArchive { .. } => e,
                other => Error::Runtime(format!("pulling {reference}: {other}")),
            })
    }

    fn pull_image(
        &self,
        reference: &Reference,
        options: &PullOptions,
        progress: Progress<'_>,
    ) -> Result<PulledImage> {
        let insecure = is_insecure(reference.registry(), &options.insecure_registries);
        // The user's stored logins (berth's file, then Docker's): read here rather than
        // passed in, so every caller of pull gets them.
        let credentials = match &options.credentials {
            Some(store) => store.get(reference.registry())?,
            None => None,
        };
        let client = Arc::new(Client::new(
            reference.api_host(),
            reference.registry(),
            insecure,
            credentials,
        ));
        let repository = reference.repository();
        progress(&PullEvent::Resolving {
            repository: repository.to_owned(),
        });

        let top = client.manifest(repository, &reference.manifest_reference())?;
        let top_digest = verified_digest(&top, reference.digest())?;
        let (manifest_bytes, manifest_digest) =
            pick_manifest(&client, repository, top.bytes, options.platform.as_ref())?;
        let manifest: ImageManifest = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| Error::Runtime(format!("manifest {manifest_digest}: {e}")))?;
        let config_bytes = fetch_config(&client, repository, &manifest)?;
        let config: ImageConfiguration = serde_json::from_slice(&config_bytes)
            .map_err(|e| Error::Runtime(format!("image config: {e}")))?;
        if let Some(wanted) = &options.platform {
            check_platform(&config, wanted)?;
        }
        let diff_ids = config
            .rootfs()
            .diff_ids()
            .iter()
            .map(|d| d.parse::<Digest>())
            .collect::<Result<Vec<_>>>()?;
        if diff_ids.len() != manifest.layers().len() || diff_ids.len() > MAX_LAYERS {
            return Err(Error::Runtime(format!(
                "the manifest lists {} layers but the config has {} diff_ids",
                manifest.layers().len(),
                diff_ids.len()
            )));
        }
        let blobs = manifest
            .layers()
            .iter()
            .map(|l| l.digest().to_string().parse::<Digest>())
            .collect::<Result<Vec<_>>>()?;
        progress(&PullEvent::Resolved {
            repository: repository.to_owned(),
            manifest: manifest_digest.clone(),
            layers: blobs.clone(),
        });

        // Every layer with its place in the chain, bottom first.
        let mut plan = Vec::new();
        let mut parent: Option<Digest> = None;
        for (i, ((descriptor, blob), diff_id)) in manifest
            .layers()
            .iter()
            .zip(&blobs)
            .zip(&diff_ids)
            .enumerate()
        {
            let chain = chain_id(parent.as_ref(), diff_id);
            plan.push(Job {
                digest: blob.clone(),
                size: descriptor.size(),
                diff_id: diff_id.clone(),
                parent: parent.clone(),
                chain: chain.clone(),
                label: format!("layer {} ({})", i + 1, blob),
            });
            parent = Some(chain);
        }
        for job in plan.iter().filter(|job| self.layer_exists(&job.chain)) {
            progress(&PullEvent::LayerExists {
                layer: job.digest.clone(),
            });
        }
        let chain_ids: Vec<Digest> = plan.iter().map(|job| job.chain.clone()).collect();
        if options.cancel.is_cancelled() {
            return Err(cancelled_or(&options.cancel, Error::Runtime(String::new())));
        }

        // Downloads run without the engine lock, so other verbs go on meanwhile; their
        // files wait in a workspace `system check` leaves alone.
        let workspace = {
            let lock = self.lock()?;
            Workspace::create(&lock, &self.paths().tmp_dir(), &random_hex64())?
        };
        let origin = format!("pulling {reference}");
        let mut prepared: Vec<PreparedLayer> = Vec::new();
        let mut rounds = 0;
        let (lock, mut rollback) = loop {
            rounds += 1;
            let missing: Vec<Job> = plan
                .iter()
                .filter(|job| {
                    !self.layer_exists(&job.chain)
                        && !prepared.iter().any(|p| *p.chain_id() == job.chain)
                })
                .cloned()
                .collect();
            if !missing.is_empty() {
                let ratio = options.max_unpack_ratio.unwrap_or(DEFAULT_MAX_UNPACK_RATIO);
                // Every claim is checked before any download starts.
                let bounds = missing
                    .iter()
                    .map(|job| LayerBounds::check(&job.label, workspace.path(), job.size, ratio))
                    .collect::<Result<Vec<_>>>()?;
                let more = self
                    .fetch_layers(
                        &client,
                        (repository, &options.cancel),
                        workspace.path(),
                        (&missing, &bounds),
                        &origin,
                        progress,
                    )
                    .map_err(|e| cancelled_or(&options.cancel, e))?;
                prepared.extend(more);
            }
            let lock = self.lock()?;
            // A layer found here at first may have gone with an `rmi` since: fetch it too.
            let complete = plan.iter().all(|job| {
                self.layer_exists(&job.chain) || prepared.iter().any(|p| *p.chain_id() == job.chain)
            });
            if complete {
                break (lock, Rollback::journaled(self.paths())?);
            }
            if rounds == MAX_ROUNDS {
                return Err(Error::Runtime(
                    "its layers kept being removed while it downloaded".into(),
                ));
            }
        };
        // Bottom first, so a crash between two leaves a chain whose parents are there.
        prepared.sort_by_key(|p| chain_ids.iter().position(|c| c == p.chain_id()));
        for layer in prepared {
            self.commit_layer(&lock, layer, &mut rollback)?;
        }
        drop(workspace);
        let mut size = 0;
        for chain in &chain_ids {
            size += self.layer_record(chain)?.size;
        }

        let id = self.put_blob(&config_bytes, &mut rollback)?;
        let existed = self.image_record_path(&id).exists();
        let repo_digest = format!("{}@{top_digest}", reference.familiar_repository());
        let record = ImageRecord {
            repo_digests: vec![repo_digest],
            ..ImageRecord::new(
                id.clone(),
                diff_ids,
                chain_ids,
                config.created().clone(),
                size,
            )
        };
        // An image already here keeps the manifest it has: storing this one too would
        // leave a blob no record names.
        self.add_image_record(record, Some(&manifest_bytes), &mut rollback)?;
        let tag = reference.local_tag();
        let tagged_before = match &tag {
            Some(tag) => self.tags()?.get(tag) == Some(&id),
            None => existed,
        };
        if let Some(tag) = &tag {
            self.set_tags(&lock, std::slice::from_ref(tag), &id)?;
        }
        rollback.commit();
        self.record_event(
            &Event::new(ObjectType::Image, "pull", id.to_string())
                .with("name", reference.to_string()),
        );
        progress(&PullEvent::Done {
            id: id.clone(),
            digest: top_digest.clone(),
        });
        Ok(PulledImage {
            id,
            digest: top_digest,
            tag,
            new: !tagged_before,
        })
    }

    /// Downloads and unpacks `jobs`, a few at a time; returns them in order, or the
    /// first error (the others stop before their next layer).
    fn fetch_layers(
        &self,
        client: &Arc<Client>,
        source: (&str, &Cancel),
        workspace: &Path,
        (jobs, bounds): (&[Job], &[LayerBounds]),
        origin: &str,
        progress: Progress<'_>,
    ) -> Result<Vec<PreparedLayer>> {
        let results: Vec<Mutex<Option<Result<PreparedLayer>>>> =
            jobs.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        std::thread::scope(|scope| {
            for _ in 0..PARALLEL_LAYERS.min(jobs.len()) {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= jobs.len() || failed.load(Ordering::SeqCst) {
                        break;
                    }
                    let result = self.fetch_layer(
                        client,
                        source,
                        workspace,
                        (&jobs[i], &bounds[i]),
                        origin,
                        progress,
                    );
                    if result.is_err() {
                        failed.store(true, Ordering::SeqCst);
                    }
                    *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
                });
            }
        });
        let mut prepared = Vec::new();
        let mut first_error = None;
        for slot in results {
            match slot.into_inner().unwrap_or_else(|p| p.into_inner()) {
                Some(Ok(layer)) => prepared.push(layer),
                Some(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                None => {}
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(prepared),
        }
    }

    fn fetch_layer(
        &self,
        client: &Arc<Client>,
        (repository, cancel): (&str, &Cancel),
        workspace: &Path,
        (job, bounds): (&Job, &LayerBounds),
        origin: &str,
        progress: Progress<'_>,
    ) -> Result<PreparedLayer> {
        // Only the bytes the manifest declares are read: the digest covers exactly them.
        // A dropped connection is resumed where it broke, unseen from here.
        let stream = Pumped::open(client, (repository, &job.digest, job.size), cancel)
            .map_err(|e| Error::Runtime(format!("{}: {e}", job.label)))?;
        let stream = Counting::new(stream, job.size, |done, total| {
            progress(&PullEvent::LayerProgress {
                layer: job.digest.clone(),
                done,
                total,
            })
        });
        let expected = Expected {
            blob: Some(&job.digest),
            diff_id: Some(&job.diff_id),
            parent: job.parent.as_ref(),
            label: &job.label,
        };
        let prepared = self
            .prepare_layer_in(
                workspace,
                stream,
                &expected,
                Path::new(origin),
                Some(bounds),
            )
            .map_err(|e| bounds.refusal().unwrap_or(e))?;
        progress(&PullEvent::LayerComplete {
            layer: job.digest.clone(),
        });
        Ok(prepared)
    }
}

/// A layer's error, or just "cancelled" when the pull was stopped on purpose.
fn cancelled_or(cancel: &Cancel, error: Error) -> Error {
    if cancel.is_cancelled() {
        Error::Runtime("cancelled".into())
    } else {
        error
    }
}

/// Plain HTTP only for this machine's loopback and registries the user named.
pub(super) fn is_insecure(registry: &str, named: &[String]) -> bool {
    let host = match registry.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => registry,
    };
    matches!(host, "localhost" | "127.0.0.1" | "[::1]") || named.iter().any(|n| n == registry)
}

/// The digest of a fetched manifest, checked against the one that pinned it and the one
/// the registry claims.
fn verified_digest(fetched: &Fetched, pinned: Option<&Digest>) -> Result<Digest> {
    let digest = Digest::of_bytes(&fetched.bytes);
    if let Some(want) = pinned {
        if *want != digest {
            return Err(Error::Runtime(format!(
                "manifest digest mismatch: asked for {want}, the content is {digest}"
            )));
        }
    }
    if let Some(claimed) = &fetched.digest_header {
        if claimed.starts_with("sha256:") && *claimed != digest.to_string() {
            return Err(Error::Runtime(format!(
                "manifest digest mismatch: the registry says {claimed}, the content is {digest}"
            )));
        }
    }
    Ok(digest)
}

/// Follows indexes down to the image manifest for the platform; returns its bytes and
/// digest.
fn pick_manifest(
    client: &Client,
    repository: &str,
    mut bytes: Vec<u8>,
    platform: Option<&Platform>,
) -> Result<(Vec<u8>, Digest)> {
    let wanted = platform.cloned().unwrap_or_else(Platform::host);
    for _ in 0..MAX_INDEX_DEPTH {
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Runtime(format!("the manifest is not JSON: {e}")))?;
        if value.get("schemaVersion").and_then(|v| v.as_u64()) == Some(1) {
            return Err(Error::Runtime(
                "schema 1 manifests are not supported (deprecated by Docker too)".into(),
            ));
        }
        if value.get("manifests").is_none() {
            let digest = Digest::of_bytes(&bytes);
            return Ok((bytes, digest));
        }
        let index: ImageIndex = serde_json::from_value(value)
            .map_err(|e| Error::Runtime(format!("image index: {e}")))?;
        let chosen = index
            .manifests()
            .iter()
            .find(|d| wanted.matches(d))
            .ok_or_else(|| {
                Error::Runtime(format!(
                    "no matching manifest for {wanted} in the manifest list entries"
                ))
            })?;
        let digest: Digest = chosen.digest().to_string().parse()?;
        if chosen.size() > MAX_MANIFEST {
            return Err(Error::Runtime(format!(
                "manifest {digest} is larger than {MAX_MANIFEST} bytes"
            )));
        }
        let fetched = client.manifest(repository, &digest.to_string())?;
        verified_digest(&fetched, Some(&digest))?;
        bytes = fetched.bytes;
    }
    Err(Error::Runtime("image indexes nested too deeply".into()))
}

/// Fetches the config blob, bounded by its declared size and checked by digest.
fn fetch_config(client: &Client, repository: &str, manifest: &ImageManifest) -> Result<Vec<u8>> {
    let descriptor = manifest.config();
    let digest: Digest = descriptor.digest().to_string().parse()?;
    if descriptor.size() > MAX_CONFIG {
        return Err(Error::Runtime(format!(
            "image config {digest} is larger than {MAX_CONFIG} bytes"
        )));
    }
    let bytes = read_bounded(
        client.blob(repository, &digest)?,
        descriptor.size(),
        "image config",
    )?;
    let got = Digest::of_bytes(&bytes);
    if got != digest {
        return Err(Error::Runtime(format!(
            "image config digest mismatch: expected {digest}, got {got}"
        )));
    }
    Ok(bytes)
}

/// A manifest without an index must still be for the platform the user asked for.
fn check_platform(config: &ImageConfiguration, wanted: &Platform) -> Result<()> {
    let actual = Platform {
        os: config.os().to_string(),
        architecture: config.architecture().to_string(),
        variant: config.variant().clone(),
    };
    let fits = actual.os == wanted.os
        && actual.architecture == wanted.architecture
        && wanted
            .variant
            .as_ref()
            .is_none_or(|v| actual.variant.as_deref() == Some(v.as_str()));
    if fits {
        Ok(())
    } else {
        Err(Error::Runtime(format!(
            "the image does not match the specified platform: wanted {wanted}, actual {actual}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_pull_says_only_that() {
        let cancel = Cancel::default();
        let error = || Error::Runtime("layer 1: read".into());
        assert_eq!(cancelled_or(&cancel, error()).to_string(), "layer 1: read");
        cancel.clone().cancel();
        assert_eq!(cancelled_or(&cancel, error()).to_string(), "cancelled");
        assert_ne!(cancel, Cancel::default(), "another flag is not the same");
    }

    #[test]
    fn plain_http_only_for_loopback_and_named_registries() {
        assert!(is_insecure("localhost:5000", &[]));
        assert!(is_insecure("127.0.0.1:5000", &[]));
        assert!(is_insecure("127.0.0.1", &[]));
        assert!(!is_insecure("docker.io", &[]));
        assert!(!is_insecure("127.0.0.1.evil.com:5000", &[]));
        assert!(is_insecure("reg.lan:5000", &["reg.lan:5000".into()]));
        assert!(!is_insecure("reg.lan:5001", &["reg.lan:5000".into()]));
    }
}
