//! Image records, tags, name resolution, listing and removal with garbage collection.

use std::collections::{BTreeMap, HashSet};
use std::fs;

use chrono::{DateTime, Utc};
use oci_spec::image::ImageConfiguration;
use serde::{Deserialize, Serialize};

use super::blob;
use super::registry::Reference;
use super::rollback::Rollback;
use super::ImageSummary;
use crate::error::{Context, Error, Result};
use crate::events::{Event, ObjectType};
use crate::ids::{random_hex64, Digest, ImageRef};
use crate::state::StateLock;
use crate::state::{read_json, read_json_opt, write_json_atomic};
use crate::Engine;

/// `<root>/images/<id-hex>.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageRecord {
    /// The digest of the config blob.
    pub id: Digest,
    /// The manifest blob, when the image came with one (OCI layouts).
    pub manifest: Option<Digest>,
    pub diff_ids: Vec<Digest>,
    /// Bottom first.
    pub chain_ids: Vec<Digest>,
    /// The config's `created`, kept here so listing needs no config reads.
    pub created: Option<String>,
    /// Bytes of all layers.
    pub size: u64,
    pub loaded: DateTime<Utc>,
    /// `repository@digest` of each pull that brought it (Docker's RepoDigests): how a
    /// reference pinned by digest finds it again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_digests: Vec<String>,
    /// A build step's result, never the image a build ended with: kept for the build
    /// cache, out of `images -a` and `image prune` (as BuildKit keeps its steps); `builder
    /// prune` removes it. A tag makes it an image like any other.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub build_step: bool,
}

impl ImageRecord {
    /// A new image's record, loaded now: `id` is its config blob's digest, the layers
    /// bottom first (`size` their bytes), `created` the config's. Made without a manifest
    /// (storing the record keeps the one it came with) or repo digests (a pull adds its).
    pub(crate) fn new(
        id: Digest,
        diff_ids: Vec<Digest>,
        chain_ids: Vec<Digest>,
        created: Option<String>,
        size: u64,
    ) -> ImageRecord {
        ImageRecord {
            id,
            manifest: None,
            diff_ids,
            chain_ids,
            created,
            size,
            loaded: Utc::now(),
            repo_digests: Vec::new(),
            build_step: false,
        }
    }

    /// Whether the image lists as one (`images -a`, `image prune`, `system df`'s Images):
    /// all but an untagged build step's. `tags` as [`Engine::tags`] returns them.
    pub fn listed(&self, tags: &Tags) -> bool {
        !self.build_step || tags.values().any(|id| *id == self.id)
    }

    pub fn created_at(&self) -> Option<DateTime<Utc>> {
        self.created
            .as_deref()
            .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
            .map(|c| c.with_timezone(&Utc))
    }
}

/// Tags: name:tag -> image ID, in `<root>/repositories.json`.
pub type Tags = BTreeMap<ImageRef, Digest>;

/// What `rmi` did, in order, for the CLI to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    Untagged(ImageRef),
    Deleted(Digest),
}

impl Engine {
    pub fn image_record(&self, id: &Digest) -> Result<ImageRecord> {
        read_json_opt(&self.image_record_path(id))?
            .ok_or_else(|| Error::NoSuchImage(id.to_string()))
    }

    pub(crate) fn image_record_path(&self, id: &Digest) -> std::path::PathBuf {
        self.paths().images_dir().join(format!("{}.json", id.hex()))
    }

    /// Every image record, newest first.
    pub(crate) fn image_records(&self) -> Result<Vec<ImageRecord>> {
        let dir = self.paths().images_dir();
        let mut records = Vec::new();
        for entry in fs::read_dir(&dir).context(|| format!("listing {}", dir.display()))? {
            let entry = entry.context(|| format!("listing {}", dir.display()))?;
            let name = entry.file_name();
            let Some(hex) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if format!("sha256:{hex}").parse::<Digest>().is_err() {
                continue;
            }
            records.push(read_json::<ImageRecord>(&entry.path())?);
        }
        records.sort_by(|a, b| {
            (b.created_at(), b.loaded, &b.id).cmp(&(a.created_at(), a.loaded, &a.id))
        });
        Ok(records)
    }

    pub(crate) fn save_image_record(
        &self,
        record: &ImageRecord,
        rollback: &mut Rollback,
    ) -> Result<()> {
        let path = self.image_record_path(&record.id);
        if !path.exists() {
            rollback.created(path.clone())?;
        }
        write_json_atomic(&path, record)
    }

    /// Stores `record`, or, when the image is already here (pulled, pushed or loaded
    /// before), keeps the record it has and adds only what it lacked: its RepoDigests and
    /// kept manifest are how `push` and a pull by digest know it, and a load of the same
    /// image brings nothing newer. `manifest` is stored as a blob only when the record
    /// keeps it, so no blob goes unreferenced. Returns the record as stored.
    pub(crate) fn add_image_record(
        &self,
        mut record: ImageRecord,
        manifest: Option<&[u8]>,
        rollback: &mut Rollback,
    ) -> Result<ImageRecord> {
        let existing = read_json_opt::<ImageRecord>(&self.image_record_path(&record.id))?;
        let changed = match existing {
            Some(mut kept) => {
                let mut changed = false;
                for digest in record.repo_digests.drain(..) {
                    if !kept.repo_digests.contains(&digest) {
                        kept.repo_digests.push(digest);
                        changed = true;
                    }
                }
                if kept.manifest.is_none() {
                    if let Some(bytes) = manifest {
                        kept.manifest = Some(self.put_blob(bytes, rollback)?);
                        changed = true;
                    }
                }
                // Pulled or loaded, a build step's image is the user's now.
                if kept.build_step {
                    kept.build_step = false;
                    changed = true;
                }
                record = kept;
                changed
            }
            None => {
                if let Some(bytes) = manifest {
                    record.manifest = Some(self.put_blob(bytes, rollback)?);
                }
                true
            }
        };
        if changed {
            self.save_image_record(&record, rollback)?;
        }
        Ok(record)
    }

    pub fn tags(&self) -> Result<Tags> {
        Ok(read_json_opt(&self.paths().repositories_file())?.unwrap_or_default())
    }

    fn save_tags(&self, tags: &Tags) -> Result<()> {
        write_json_atomic(&self.paths().repositories_file(), tags)
    }

    /// Points each reference at `id`, moving it from whatever image it named before.
    /// Call with the lock held.
    pub(crate) fn set_tags(&self, _held: &StateLock, refs: &[ImageRef], id: &Digest) -> Result<()> {
        let mut tags = self.tags()?;
        for r in refs {
            tags.insert(r.clone(), id.clone());
        }
        self.save_tags(&tags)
    }

    /// Finds an image as Docker does: a `name[:tag]` reference, a full `sha256:` ID, or a
    /// unique prefix of the ID. Returns the record and the tag it was found by, if any.
    pub fn find_image(&self, name: &str) -> Result<(ImageRecord, Option<ImageRef>)> {
        let tags = self.tags()?;
        if let Ok(reference) = name.parse::<ImageRef>() {
            if let Some(id) = tags.get(&reference) {
                return Ok((self.image_record(id)?, Some(reference)));
            }
        }
        if name.contains('@') {
            if let Some(found) = self.find_by_repo_digest(name)? {
                return Ok((found, None));
            }
        }
        let prefix = name.strip_prefix("sha256:").unwrap_or(name);
        let is_id_prefix = !prefix.is_empty()
            && prefix.len() <= 64
            && prefix
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if is_id_prefix {
            let records = self.image_records()?;
            let mut matches = records
                .into_iter()
                .filter(|r| r.id.hex().starts_with(prefix));
            match (matches.next(), matches.next()) {
                (Some(r), None) => return Ok((r, None)),
                (Some(_), Some(_)) => {
                    return Err(Error::invalid(
                        "image ID prefix",
                        name,
                        "matches more than one image; give more of the ID",
                    ))
                }
                _ => {}
            }
        }
        Err(Error::NoSuchImage(match name.parse::<ImageRef>() {
            Ok(reference) if !is_id_prefix || name.contains(':') => reference.to_string(),
            _ => name.to_owned(),
        }))
    }

    /// The image a `repository@sha256:...` reference was pulled as.
    fn find_by_repo_digest(&self, name: &str) -> Result<Option<ImageRecord>> {
        let Ok(reference) = name.parse::<Reference>() else {
            return Ok(None);
        };
        let Some(key) = reference.repo_digest() else {
            return Ok(None);
        };
        Ok(self
            .image_records()?
            .into_iter()
            .find(|r| r.repo_digests.contains(&key)))
    }

    /// The parsed config of an image, read from its verified blob.
    pub fn image_config(&self, id: &Digest) -> Result<ImageConfiguration> {
        let bytes = blob::get(self.paths(), id)?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
            path: self.paths().blob(id),
            reason: e.to_string(),
        })
    }

    /// References per image ID.
    fn refs_by_image(tags: &Tags) -> BTreeMap<&Digest, Vec<ImageRef>> {
        let mut map: BTreeMap<&Digest, Vec<ImageRef>> = BTreeMap::new();
        for (r, id) in tags {
            map.entry(id).or_default().push(r.clone());
        }
        map
    }

    /// Images for `berth images`, newest first; dangling (untagged) ones only with `all`.
    pub fn list_images(&self, all: bool) -> Result<Vec<ImageSummary>> {
        let tags = self.tags()?;
        let refs = Self::refs_by_image(&tags);
        Ok(self
            .image_records()?
            .into_iter()
            .filter(|r| r.listed(&tags))
            .map(|r| ImageSummary {
                references: refs.get(&r.id).cloned().unwrap_or_default(),
                id: r.id,
                created: r.created,
                size: r.size,
            })
            .filter(|s| all || !s.references.is_empty())
            .collect())
    }

    /// `berth tag`: makes `target` name the image `source` resolves to.
    pub fn tag_image(&self, source: &str, target: &ImageRef) -> Result<()> {
        let lock = self.lock()?;
        let (record, _) = self.find_image(source)?;
        self.set_tags(&lock, std::slice::from_ref(target), &record.id)?;
        self.record_event(
            &Event::new(ObjectType::Image, "tag", record.id.to_string())
                .with("name", target.to_string()),
        );
        Ok(())
    }

    /// `berth rmi`: untags when the name is one of several tags, otherwise deletes the
    /// image and then every layer and blob nothing needs any more.
    pub fn remove_image(&self, name: &str, force: bool) -> Result<Vec<Removal>> {
        let lock = self.lock()?;
        let (record, _) = self.find_image(name)?;
        let done = self.remove_image_locked(&lock, name, force)?;
        for removal in &done {
            let event = match removal {
                Removal::Untagged(r) => {
                    Event::new(ObjectType::Image, "untag", record.id.to_string())
                        .with("name", r.to_string())
                }
                Removal::Deleted(id) => Event::new(ObjectType::Image, "delete", id.to_string()),
            };
            self.record_event(&event);
        }
        Ok(done)
    }

    fn remove_image_locked(
        &self,
        _held: &StateLock,
        name: &str,
        force: bool,
    ) -> Result<Vec<Removal>> {
        let (record, by_tag) = self.find_image(name)?;
        let mut tags = self.tags()?;
        let refs: Vec<ImageRef> = tags
            .iter()
            .filter(|(_, id)| **id == record.id)
            .map(|(r, _)| r.clone())
            .collect();
        if let Some(reference) = by_tag.filter(|_| refs.len() > 1) {
            tags.remove(&reference);
            self.save_tags(&tags)?;
            return Ok(vec![Removal::Untagged(reference)]);
        }
        if refs.len() > 1 && !force {
            return Err(Error::Conflict(format!(
                "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                record.id.short()
            )));
        }
        if !force {
            if let Some((container, _)) = self.containers_using_image(&record.id)?.first() {
                return Err(Error::Conflict(format!(
                    "conflict: unable to remove image {name}: image is being used by container {}",
                    container.short()
                )));
            }
        }
        let mut done = Vec::new();
        for r in refs {
            tags.remove(&r);
            done.push(Removal::Untagged(r));
        }
        self.save_tags(&tags)?;
        let path = self.image_record_path(&record.id);
        fs::remove_file(&path).context(|| format!("removing {}", path.display()))?;
        done.push(Removal::Deleted(record.id));
        self.collect_garbage(_held)?;
        Ok(done)
    }

    /// Removes layers no image or container stacks on, blobs no image names, and debris
    /// of interrupted imports. Call with the lock held (so no import is running).
    pub(crate) fn collect_garbage(&self, _held: &StateLock) -> Result<()> {
        let records = self.image_records()?;
        let mut layers: HashSet<Digest> = self.layers_used_by_containers()?;
        let mut blobs = HashSet::new();
        for r in &records {
            layers.extend(r.chain_ids.iter().cloned());
            blobs.insert(r.id.clone());
            blobs.extend(r.manifest.clone());
        }
        let paths = self.paths();
        for (dir, keep) in [(paths.layers_dir(), &layers), (paths.blobs_dir(), &blobs)] {
            for entry in fs::read_dir(&dir).context(|| format!("listing {}", dir.display()))? {
                let entry = entry.context(|| format!("listing {}", dir.display()))?;
                let digest = entry
                    .file_name()
                    .to_str()
                    .and_then(|hex| format!("sha256:{hex}").parse::<Digest>().ok());
                if digest.is_some_and(|d| !keep.contains(&d)) {
                    self.discard(&entry.path())?;
                }
            }
        }
        let tmp = paths.tmp_dir();
        for entry in fs::read_dir(&tmp).context(|| format!("listing {}", tmp.display()))? {
            let entry = entry.context(|| format!("listing {}", tmp.display()))?;
            let name = entry.file_name();
            let ours = ["layer-", "blob-", "gc-", "commit-"]
                .iter()
                .any(|p| name.to_string_lossy().starts_with(p));
            if ours {
                let _ = remove_any(&entry.path());
            }
        }
        Ok(())
    }

    /// Moves a layer dir or blob out of sight in one rename before deleting it, so a crash
    /// midway never leaves a half-deleted layer under its name.
    pub(crate) fn discard(&self, path: &std::path::Path) -> Result<()> {
        let aside = self
            .paths()
            .tmp_dir()
            .join(format!("gc-{}", random_hex64()));
        fs::rename(path, &aside).context(|| format!("removing {}", path.display()))?;
        remove_any(&aside).context(|| format!("removing {}", path.display()))
    }
}

fn remove_any(path: &std::path::Path) -> std::io::Result<()> {
    if fs::symlink_metadata(path)?.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}
