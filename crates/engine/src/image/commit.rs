//! `berth commit`: a container's writable layer becomes the top layer of a new image.
//!
//! The overlay upper dir is written as a layer tar (whiteouts and opaque directories as
//! `.wh.` entries, see [`Packer::for_layer`]) into a temp file, then loaded like any layer
//! (unpacked, hashed, recorded for `save`). The upper dir is walked with descriptors and
//! never through a symlink, so a running container can change it meanwhile without
//! redirecting the walk; berth does not pause it (what it writes during the commit may or
//! may not be in the layer, as with `docker commit --pause=false`).

use std::fs::File;
use std::io::BufWriter;
use std::os::fd::AsFd;
use std::path::PathBuf;

use chrono::{SecondsFormat, Utc};
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use serde_json::{json, Map, Value};

use super::layers::Expected;
use super::rollback::Rollback;
use super::store::ImageRecord;
use super::{blob, changes};
use crate::container::ContainerRecord;
use crate::error::{Context, Error, Result};
use crate::events::{Event, ObjectType};
use crate::ids::{random_hex64, Digest, ImageRef};
use crate::storage::copy::{list_dir_sorted, Packer};
use crate::storage::diff::ENGINE_PATHS;
use crate::Engine;

/// What `berth commit` was asked for besides the container.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// `-m`: the history entry's comment.
    pub message: Option<String>,
    /// `-a`: the image's author.
    pub author: Option<String>,
    /// `-c`: Dockerfile instructions (CMD, ENTRYPOINT, ENV, WORKDIR, EXPOSE, LABEL, USER,
    /// VOLUME) applied to the new image's config.
    pub changes: Vec<String>,
    pub reference: Option<ImageRef>,
}

impl Engine {
    /// Commits the container's changes as a new image; returns its ID.
    pub fn commit_container(&self, name_or_id: &str, opts: &CommitOptions) -> Result<Digest> {
        let record = self.container(name_or_id)?;
        let base: Value = serde_json::from_slice(&blob::get(self.paths(), &record.image_id)?)
            .map_err(|e| Error::Corrupt {
                path: self.paths().blob(&record.image_id),
                reason: e.to_string(),
            })?;
        // Parse the changes before any work, so a typo fails at once.
        let mut config = container_config(&base, &record);
        for change in &opts.changes {
            changes::apply(&mut config, change)?;
        }
        let tar = self.write_upper_tar(&record)?;
        let result = self.image_with_layer(&record, base, config, tar.1, opts);
        let _ = std::fs::remove_file(&tar.0);
        let id = result?;
        let mut event = Event::new(ObjectType::Image, "commit", id.to_string())
            .with("container", record.id.as_str());
        if let Some(reference) = &opts.reference {
            event = event.with("name", reference.to_string());
        }
        self.record_event(&event);
        Ok(id)
    }

    /// Writes the upper dir as a layer tar to a temp file, rewound for reading.
    pub(crate) fn write_upper_tar(&self, record: &ContainerRecord) -> Result<(PathBuf, File)> {
        let upper = self.overlay_of(record).upper;
        let path = self
            .paths()
            .tmp_dir()
            .join(format!("commit-{}.tar", random_hex64()));
        let file = crate::state::open_private(&path, false)
            .context(|| format!("creating {}", path.display()))?;
        let written = (|| {
            let exclude = ENGINE_PATHS
                .iter()
                .map(|p| PathBuf::from(p.trim_start_matches('/')))
                .collect();
            let mut packer = Packer::for_layer(BufWriter::new(file), exclude);
            if upper.is_dir() {
                let dir = nix::fcntl::open(
                    &upper,
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
                    Mode::empty(),
                )
                .context(|| format!("opening {}", upper.display()))?;
                for name in
                    list_dir_sorted(&dir).context(|| format!("listing {}", upper.display()))?
                {
                    packer.add_top(dir.as_fd(), &name, &PathBuf::from(&name), false)?;
                }
            }
            packer
                .finish()?
                .into_inner()
                .map_err(|e| Error::Runtime(format!("writing {}: {e}", path.display())))?;
            File::open(&path).context(|| format!("reading {}", path.display()))
        })();
        match written {
            Ok(file) => Ok((path, file)),
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                Err(e)
            }
        }
    }

    fn image_with_layer(
        &self,
        record: &ContainerRecord,
        mut image: Value,
        config: Value,
        tar: File,
        opts: &CommitOptions,
    ) -> Result<Digest> {
        let lock = self.lock()?;
        let mut rollback = Rollback::journaled(self.paths())?;
        let parent = record.chain_ids.last();
        let label = format!("the writable layer of {}", record.name);
        let expected = Expected {
            blob: None,
            diff_id: None,
            parent,
            label: &label,
        };
        let layer = self.add_layer(
            &lock,
            std::io::BufReader::new(tar),
            &expected,
            &self.container_dir(&record.id),
            &mut rollback,
        )?;
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true);
        let obj = image
            .as_object_mut()
            .ok_or_else(|| Error::Runtime("the image config is not a JSON object".into()))?;
        obj.insert("config".into(), config);
        obj.insert("created".into(), json!(now));
        obj.insert("container".into(), json!(record.id.as_str()));
        if let Some(author) = &opts.author {
            obj.insert("author".into(), json!(author));
        }
        let rootfs = obj
            .entry("rootfs")
            .or_insert_with(|| json!({"type": "layers", "diff_ids": []}));
        match rootfs.get_mut("diff_ids").and_then(Value::as_array_mut) {
            Some(ids) => ids.push(json!(layer.diff_id.to_string())),
            None => rootfs["diff_ids"] = json!([layer.diff_id.to_string()]),
        }
        let mut step = Map::new();
        step.insert("created".into(), json!(now));
        let command: Vec<&str> = record
            .config
            .entrypoint
            .iter()
            .chain(&record.config.cmd)
            .map(String::as_str)
            .collect();
        step.insert("created_by".into(), json!(command.join(" ")));
        if let Some(author) = &opts.author {
            step.insert("author".into(), json!(author));
        }
        if let Some(message) = &opts.message {
            step.insert("comment".into(), json!(message));
        }
        match obj.get_mut("history").and_then(Value::as_array_mut) {
            Some(history) => history.push(Value::Object(step)),
            None => {
                obj.insert("history".into(), json!([step]));
            }
        }
        let bytes = serde_json::to_vec(&image)
            .map_err(|e| Error::Runtime(format!("encoding image config: {e}")))?;
        let id = self.put_blob(&bytes, &mut rollback)?;
        let mut diff_ids = self.image_record(&record.image_id)?.diff_ids;
        diff_ids.push(layer.diff_id.clone());
        let mut chain_ids = record.chain_ids.clone();
        chain_ids.push(layer.chain_id.clone());
        let mut size = layer.size;
        for chain in &record.chain_ids {
            size += self.layer_record(chain)?.size;
        }
        let image_record = ImageRecord::new(id.clone(), diff_ids, chain_ids, Some(now), size);
        self.save_image_record(&image_record, &mut rollback)?;
        if let Some(reference) = &opts.reference {
            self.set_tags(&lock, std::slice::from_ref(reference), &id)?;
        }
        rollback.commit();
        Ok(id)
    }
}

/// The image's `config` section as the container runs: its command, environment,
/// working directory, user and labels over the base image's.
fn container_config(base: &Value, record: &ContainerRecord) -> Value {
    let mut config = base
        .get("config")
        .filter(|c| c.is_object())
        .cloned()
        .unwrap_or_else(|| json!({}));
    let c = &record.config;
    let list = |v: &[String]| {
        if v.is_empty() {
            Value::Null
        } else {
            json!(v)
        }
    };
    config["Cmd"] = list(&c.cmd);
    config["Entrypoint"] = list(&c.entrypoint);
    config["Env"] = list(&c.env);
    config["WorkingDir"] = json!(c.working_dir);
    config["User"] = json!(c.user);
    if !c.labels.is_empty() {
        config["Labels"] = json!(c.labels);
    }
    // Docker's commit keeps the container's check, flags and all.
    if let Some(health) = &c.health {
        config["Healthcheck"] = health.to_docker();
    }
    if let Some(obj) = config.as_object_mut() {
        obj.retain(|_, v| !v.is_null());
    }
    config
}
