//! `berth save`: images as a docker-archive (what `docker save` writes and `docker load`,
//! `podman load` and `berth load` read) or an OCI layout in a tar.
//!
//! Layers are streamed, never held in memory: each is rebuilt from its unpacked directory
//! and its tar-split record (see [`super::tarsplit`]) and hashed on the way out; a layer
//! whose bytes don't hash to the config's diff ID fails the save.

use std::collections::HashSet;
use std::io::Write;

use serde_json::json;

use super::blob::{self, HashingReader};
use super::store::ImageRecord;
use super::tarsplit::{self, Rebuild};
use crate::error::{Context, Error, Result};
use crate::ids::{Digest, ImageRef};
use crate::Engine;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

/// The archive `save` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveFormat {
    /// `docker save`'s classic layout: manifest.json, repositories, `<config>.json` and a
    /// `<layer>/layer.tar` per layer.
    DockerArchive,
    /// An OCI image layout (oci-layout, index.json, blobs/sha256/) in a tar.
    OciArchive,
}

impl std::str::FromStr for SaveFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<SaveFormat> {
        match s {
            "docker-archive" | "docker" => Ok(SaveFormat::DockerArchive),
            "oci-archive" | "oci" => Ok(SaveFormat::OciArchive),
            other => Err(Error::invalid(
                "save format",
                other,
                "use docker-archive or oci-archive",
            )),
        }
    }
}

/// One image to write, with the tags it goes out under.
struct Saved {
    record: ImageRecord,
    config: Vec<u8>,
    tags: Vec<ImageRef>,
    /// (chain ID, diff ID, rebuilt tar length) per layer, bottom first.
    layers: Vec<(Digest, Digest, u64)>,
}

impl Engine {
    /// Writes the images `names` (tags, IDs or ID prefixes) to `out` as one archive.
    /// Everything is checked before the first byte is written.
    pub fn save_images(&self, names: &[String], format: SaveFormat, out: impl Write) -> Result<()> {
        let images = self.images_to_save(names)?;
        let mut builder = tar::Builder::new(out);
        match format {
            SaveFormat::DockerArchive => self.write_docker(&images, &mut builder)?,
            SaveFormat::OciArchive => self.write_oci(&images, &mut builder)?,
        }
        let mut out = builder
            .into_inner()
            .context(|| "ending the archive".to_owned())?;
        out.flush().context(|| "writing the archive".to_owned())
    }

    fn images_to_save(&self, names: &[String]) -> Result<Vec<Saved>> {
        let mut images: Vec<Saved> = Vec::new();
        for name in names {
            let (record, tag) = self.find_image(name)?;
            if let Some(same) = images.iter_mut().find(|s| s.record.id == record.id) {
                same.tags.extend(tag.filter(|t| !same.tags.contains(t)));
                continue;
            }
            let config = blob::get(self.paths(), &record.id)?;
            let mut layers = Vec::new();
            for (i, (chain, diff_id)) in record.chain_ids.iter().zip(&record.diff_ids).enumerate() {
                let split = self.paths().layer(chain).join(tarsplit::SPLIT_FILE);
                if !split.is_file() {
                    return Err(Error::Runtime(format!(
                        "saving {name}: layer {} ({diff_id}) can't be rebuilt as the tar it was \
                         loaded from (berth keeps no record of its tar: it was loaded by an \
                         older berth, or its tar names a path twice)",
                        i + 1
                    )));
                }
                let len = tarsplit::tar_len(&split)?;
                layers.push((chain.clone(), diff_id.clone(), len));
            }
            images.push(Saved {
                record,
                config,
                tags: tag.into_iter().collect(),
                layers,
            });
        }
        Ok(images)
    }

    /// A layer's tar rebuilt byte for byte as it was loaded, and its length; None when
    /// berth kept no record of the tar (loaded by an older berth, or it names a path
    /// twice). `push` sends layers from here too.
    pub(crate) fn rebuilt_layer(&self, chain: &Digest) -> Result<Option<(Rebuild, u64)>> {
        let dir = self.paths().layer(chain);
        let split = dir.join(tarsplit::SPLIT_FILE);
        if !split.is_file() {
            return Ok(None);
        }
        let len = tarsplit::tar_len(&split)?;
        Ok(Some((Rebuild::open(&split, &dir.join("diff"))?, len)))
    }

    /// Streams one layer's tar into the archive as `member` and checks its digest.
    fn append_layer<W: Write>(
        &self,
        builder: &mut tar::Builder<W>,
        member: &str,
        (chain, diff_id, len): &(Digest, Digest, u64),
    ) -> Result<()> {
        let dir = self.paths().layer(chain);
        let rebuild = Rebuild::open(&dir.join(tarsplit::SPLIT_FILE), &dir.join("diff"))?;
        let mut reader = HashingReader::new(rebuild);
        let mut header = member_header(*len);
        builder
            .append_data(&mut header, member, &mut reader)
            .context(|| format!("writing layer {diff_id}"))?;
        let (got, count) = reader
            .finish()
            .context(|| format!("reading layer {diff_id}"))?;
        if got != *diff_id || count != *len {
            return Err(Error::Corrupt {
                path: dir,
                reason: format!("the rebuilt layer is {got} ({count} bytes), not {diff_id}"),
            });
        }
        Ok(())
    }

    fn write_docker<W: Write>(
        &self,
        images: &[Saved],
        builder: &mut tar::Builder<W>,
    ) -> Result<()> {
        let mut written = HashSet::new();
        let mut manifest = Vec::new();
        let mut repositories = serde_json::Map::new();
        for image in images {
            let mut members = Vec::new();
            let mut parent: Option<&Digest> = None;
            for layer in &image.layers {
                let dir = layer.0.hex();
                members.push(format!("{dir}/layer.tar"));
                if written.insert(layer.0.clone()) {
                    append_bytes(builder, &format!("{dir}/VERSION"), b"1.0")?;
                    let mut v1 = json!({ "id": dir });
                    if let Some(parent) = parent {
                        v1["parent"] = json!(parent.hex());
                    }
                    append_bytes(builder, &format!("{dir}/json"), v1.to_string().as_bytes())?;
                    self.append_layer(builder, &format!("{dir}/layer.tar"), layer)?;
                }
                parent = Some(&layer.0);
            }
            let config_name = format!("{}.json", image.record.id.hex());
            if written.insert(image.record.id.clone()) {
                append_bytes(builder, &config_name, &image.config)?;
            }
            let tags: Vec<String> = image.tags.iter().map(|t| t.to_string()).collect();
            manifest.push(json!({
                "Config": config_name,
                "RepoTags": if tags.is_empty() { serde_json::Value::Null } else { json!(tags) },
                "Layers": members,
            }));
            if let Some(top) = parent {
                for tag in &image.tags {
                    let repo = repositories
                        .entry(tag.repository().to_owned())
                        .or_insert_with(|| json!({}));
                    repo[tag.tag()] = json!(top.hex());
                }
            }
        }
        append_bytes(builder, "manifest.json", &to_json(&manifest)?)?;
        if !repositories.is_empty() {
            append_bytes(builder, "repositories", &to_json(&repositories)?)?;
        }
        Ok(())
    }

    fn write_oci<W: Write>(&self, images: &[Saved], builder: &mut tar::Builder<W>) -> Result<()> {
        append_bytes(builder, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        let mut written = HashSet::new();
        let mut index = Vec::new();
        for image in images {
            let mut layers = Vec::new();
            for layer in &image.layers {
                if written.insert(layer.1.clone()) {
                    self.append_layer(builder, &blob_name(&layer.1), layer)?;
                }
                layers.push(json!({
                    "mediaType": OCI_LAYER,
                    "digest": layer.1.to_string(),
                    "size": layer.2,
                }));
            }
            if written.insert(image.record.id.clone()) {
                append_bytes(builder, &blob_name(&image.record.id), &image.config)?;
            }
            let manifest = to_json(&json!({
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {
                    "mediaType": OCI_CONFIG,
                    "digest": image.record.id.to_string(),
                    "size": image.config.len(),
                },
                "layers": layers,
            }))?;
            let digest = Digest::of_bytes(&manifest);
            if written.insert(digest.clone()) {
                append_bytes(builder, &blob_name(&digest), &manifest)?;
            }
            let descriptor = json!({
                "mediaType": OCI_MANIFEST,
                "digest": digest.to_string(),
                "size": manifest.len(),
            });
            if image.tags.is_empty() {
                index.push(descriptor.clone());
            }
            for tag in &image.tags {
                let mut named = descriptor.clone();
                named["annotations"] = json!({
                    "io.containerd.image.name": tag.to_string(),
                    "org.opencontainers.image.ref.name": tag.tag(),
                });
                index.push(named);
            }
        }
        let index = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": index,
        });
        append_bytes(builder, "index.json", &to_json(&index)?)
    }
}

fn blob_name(digest: &Digest) -> String {
    format!("blobs/sha256/{}", digest.hex())
}

fn to_json(value: &impl serde::Serialize) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::Runtime(format!("encoding JSON: {e}")))
}

fn member_header(size: u64) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o644);
    header.set_size(size);
    header.set_mtime(0);
    header
}

fn append_bytes<W: Write>(builder: &mut tar::Builder<W>, name: &str, bytes: &[u8]) -> Result<()> {
    let mut header = member_header(bytes.len() as u64);
    builder
        .append_data(&mut header, name, bytes)
        .context(|| format!("writing {name}"))
}
