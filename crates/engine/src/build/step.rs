//! One build step's work on the engine: the image a step starts from, the hidden build
//! container a RUN or COPY works in (created, started and waited for through the normal
//! container path), and the new image a step makes (its writable layer committed through
//! commit's code, or only a changed config with an `empty_layer` history entry).

use std::io::Write;

use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};

use super::progress::{BuildEvent, BuildObserver};
use super::BUILD_LABEL;
use crate::container::{AttachStreams, ContainerRecord, CreateOptions};
use crate::error::{Error, Result};
use crate::ids::Digest;
use crate::image::{get_blob, Expected, ImageRecord, LayerRecord, Rollback};
use crate::state::StateLock;
use crate::storage::copy::CopyInOptions;
use crate::storage::mounts::MountSpec;
use crate::Engine;

/// The image a step starts from: its whole config JSON (Docker's image config, history
/// and all) and its layers.
#[derive(Debug, Clone)]
pub struct ImageState {
    /// The stored image, `None` for `scratch` with nothing on it yet.
    pub id: Option<Digest>,
    pub json: Value,
    pub diff_ids: Vec<Digest>,
    pub chain_ids: Vec<Digest>,
    pub size: u64,
}

impl ImageState {
    /// `FROM scratch`: no layers, an empty config for the host's platform.
    pub fn scratch() -> ImageState {
        ImageState {
            id: None,
            json: json!({
                "architecture": host_architecture(),
                "os": "linux",
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": []},
                "history": [],
            }),
            diff_ids: Vec::new(),
            chain_ids: Vec::new(),
            size: 0,
        }
    }

    /// The image's `config` section (Env, Cmd, WorkingDir...), made an object if absent.
    pub fn config_mut(&mut self) -> &mut serde_json::Map<String, Value> {
        if !self.json.get("config").is_some_and(Value::is_object) {
            self.json["config"] = json!({});
        }
        self.json["config"]
            .as_object_mut()
            .expect("config was made an object above")
    }

    pub fn config(&self) -> Option<&serde_json::Map<String, Value>> {
        self.json.get("config").and_then(Value::as_object)
    }

    /// The config's string list `field` (`Env`, `Cmd`, `OnBuild`...), empty if unset.
    pub fn strings(&self, field: &str) -> Vec<String> {
        self.config()
            .and_then(|c| c.get(field))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn string(&self, field: &str) -> String {
        self.config()
            .and_then(|c| c.get(field))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }
}

/// The GOARCH name of the host, as image configs spell it.
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// What a RUN step runs and how.
#[derive(Debug, Clone, Default)]
pub struct RunSpec {
    /// The full command line (the SHELL already in front for the shell form).
    pub argv: Vec<String>,
    /// `KEY=VALUE`, over the image's own environment.
    pub env: Vec<String>,
    pub user: String,
    pub workdir: String,
    /// `none`, `host`, or `None` for the default network.
    pub network: Option<String>,
    pub mounts: Vec<MountSpec>,
}

/// What a RUN that failed left: its exit code and last lines.
#[derive(Debug, Clone)]
pub struct RunFailure {
    pub code: i32,
    pub tail: Vec<String>,
}

/// How many of a failed RUN's last output lines its error shows.
const TAIL_LINES: usize = 10;
/// How much output is kept for that tail.
const TAIL_BYTES: usize = 16 * 1024;

/// A build container: hidden from listings, removed when dropped (also on errors).
pub struct BuildContainer<'a> {
    engine: &'a Engine,
    pub record: ContainerRecord,
}

impl Drop for BuildContainer<'_> {
    fn drop(&mut self) {
        if let Err(e) = self
            .engine
            .remove_container(self.record.id.as_str(), true, true)
        {
            // Logged, not dropped: `system check` finds what is left.
            eprintln!(
                "warning: removing build container {}: {e}",
                self.record.id.short()
            );
        }
    }
}

/// The label value of a build container: the building process, so a later build can
/// remove what a killed one left.
pub(crate) fn build_label_value() -> String {
    format!("pid={}", std::process::id())
}

impl Engine {
    /// Loads an image's state to build on.
    pub fn image_state(&self, id: &Digest) -> Result<ImageState> {
        let record = self.image_record(id)?;
        let bytes = get_blob(self.paths(), id)?;
        let json: Value = serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
            path: self.paths().blob(id),
            reason: e.to_string(),
        })?;
        Ok(ImageState {
            id: Some(record.id),
            json,
            diff_ids: record.diff_ids,
            chain_ids: record.chain_ids,
            size: record.size,
        })
    }

    /// Creates a hidden build container on `base` (not started).
    pub(crate) fn build_container(
        &self,
        base: &Digest,
        spec: &RunSpec,
        attach: bool,
    ) -> Result<BuildContainer<'_>> {
        let mut labels = std::collections::BTreeMap::new();
        labels.insert(BUILD_LABEL.to_owned(), build_label_value());
        let argv = if spec.argv.is_empty() {
            // A container that is only copied into is never started.
            vec!["true".to_owned()]
        } else {
            spec.argv.clone()
        };
        let opts = CreateOptions {
            image: base.to_string(),
            cmd: argv,
            entrypoint: Some(String::new()),
            env: spec.env.clone(),
            working_dir: Some(if spec.workdir.is_empty() {
                "/".to_owned()
            } else {
                spec.workdir.clone()
            }),
            user: Some(spec.user.clone()),
            labels,
            mounts: spec.mounts.clone(),
            network: spec.network.clone(),
            attach: Some(AttachStreams {
                stdin: false,
                stdout: attach,
                stderr: attach,
            }),
            ..Default::default()
        };
        let record = self.create_container(opts)?;
        Ok(BuildContainer {
            engine: self,
            record,
        })
    }

    /// Runs `spec` on `base` and streams its output to `observer` as step `number`.
    /// Returns the stopped container to commit, or the failure.
    pub(crate) fn run_in_build_container(
        &self,
        base: &Digest,
        spec: &RunSpec,
        number: usize,
        observer: &mut dyn BuildObserver,
    ) -> Result<std::result::Result<BuildContainer<'_>, RunFailure>> {
        use crate::container::frames::{read_frame, Kind};
        let container = self.build_container(base, spec, true)?;
        let started = self.start_container(container.record.id.as_str())?;
        let mut reader = started.stream;
        let mut tail: Vec<u8> = Vec::new();
        let code = loop {
            match read_frame(&mut reader) {
                Ok(Some((kind @ (Kind::Stdout | Kind::Stderr), data))) => {
                    tail.extend_from_slice(&data);
                    if tail.len() > TAIL_BYTES {
                        tail.drain(..tail.len() - TAIL_BYTES);
                    }
                    observer.event(BuildEvent::Log {
                        number,
                        stderr: kind == Kind::Stderr,
                        text: data,
                    });
                }
                Ok(Some((Kind::Exited, data))) if data.len() == 4 => {
                    break i32::from_le_bytes([data[0], data[1], data[2], data[3]]);
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => {
                    break self
                        .wait_container(container.record.id.as_str())
                        .unwrap_or(255);
                }
            }
        };
        // The monitor records the exit after telling us: wait for the record to say so.
        let _ = self.wait_container(container.record.id.as_str());
        if code != 0 {
            let text = String::from_utf8_lossy(&tail);
            let lines: Vec<String> = text.lines().map(str::to_owned).collect();
            let tail = lines[lines.len().saturating_sub(TAIL_LINES)..].to_vec();
            return Ok(Err(RunFailure { code, tail }));
        }
        Ok(Ok(container))
    }

    /// Extracts the tar `fill` writes at the root of a new build container on `base`.
    pub(crate) fn copy_into_build_container(
        &self,
        base: &Digest,
        fill: impl FnOnce(&mut dyn Write) -> Result<()>,
    ) -> Result<BuildContainer<'_>> {
        let spec = RunSpec {
            network: Some("none".to_owned()),
            ..Default::default()
        };
        let container = self.build_container(base, &spec, false)?;
        self.copy_to_container_with(
            container.record.id.as_str(),
            "/",
            CopyInOptions {
                keep_owner: true,
                new_dir: None,
            },
            fill,
        )?;
        Ok(container)
    }

    /// The new image of a step that added a layer: the container's writable layer on top
    /// of `parent`, `config` as its config, a history entry `created_by`.
    pub(crate) fn commit_build_container(
        &self,
        container: &BuildContainer<'_>,
        parent: &ImageState,
        created_by: &str,
    ) -> Result<(ImageState, u64)> {
        // The container goes right after: its upper dir becomes the layer itself (see
        // `image::upper_layer`). Where that can't be done, it is packed and unpacked.
        let upper = self.overlay_of(&container.record).upper;
        let expected = Expected {
            blob: None,
            diff_id: None,
            parent: parent.chain_ids.last(),
            label: created_by,
        };
        if let Ok(Some(prepared)) = self.prepare_layer_from_upper(&upper, &expected) {
            return self.store_step_with(parent, created_by, |engine, lock, rollback| {
                engine.commit_layer(lock, prepared, rollback)
            });
        }
        let (path, file) = self.write_upper_tar(&container.record)?;
        let result = self.store_layer_step(parent, created_by, std::io::BufReader::new(file));
        let _ = std::fs::remove_file(&path);
        result
    }

    /// The new image of a step whose layer is the tar `layer` (COPY onto scratch, where
    /// there is no tree to copy into).
    pub(crate) fn store_layer_step(
        &self,
        parent: &ImageState,
        created_by: &str,
        layer: impl std::io::Read,
    ) -> Result<(ImageState, u64)> {
        self.store_layer_step_checked(parent, created_by, layer, None)
    }

    /// As [`Engine::store_layer_step`]; with `diff_id`, a tar of other content is refused.
    fn store_layer_step_checked(
        &self,
        parent: &ImageState,
        created_by: &str,
        layer: impl std::io::Read,
        diff_id: Option<&Digest>,
    ) -> Result<(ImageState, u64)> {
        let expected = Expected {
            blob: None,
            diff_id,
            parent: parent.chain_ids.last(),
            label: created_by,
        };
        let archive = self.paths().tmp_dir();
        let prepared = self.prepare_layer(layer, &expected, &archive)?;
        self.store_step_with(parent, created_by, |engine, lock, rollback| {
            engine.commit_layer(lock, prepared, rollback)
        })
    }

    /// The new image of a `COPY --link` step reused on another parent: the last layer of
    /// `cached` (the step's result on its old parent) put on `parent`, from the layer's
    /// recorded tar, so its diff ID is the same. `None` when berth kept no record of that
    /// tar (the step then runs again).
    pub(crate) fn rebase_layer_step(
        &self,
        parent: &ImageState,
        cached: &Digest,
        created_by: &str,
    ) -> Result<Option<(ImageState, u64)>> {
        let old = self.image_state(cached)?;
        let Some(chain) = old.chain_ids.last() else {
            return Ok(None);
        };
        let Some((tar, _)) = self.rebuilt_layer(chain)? else {
            return Ok(None);
        };
        // The unpack checks that the tar still hashes to the layer's diff ID.
        self.store_layer_step_checked(
            parent,
            created_by,
            std::io::BufReader::new(tar),
            old.diff_ids.last(),
        )
        .map(Some)
    }

    /// The new image of a step whose layer `add` puts in the store (under the lock).
    fn store_step_with(
        &self,
        parent: &ImageState,
        created_by: &str,
        add: impl FnOnce(&Engine, &StateLock, &mut Rollback) -> Result<LayerRecord>,
    ) -> Result<(ImageState, u64)> {
        let lock = self.lock()?;
        let mut rollback = Rollback::journaled(self.paths())?;
        let layer = add(self, &lock, &mut rollback)?;
        let mut next = parent.clone();
        next.diff_ids.push(layer.diff_id.clone());
        next.chain_ids.push(layer.chain_id.clone());
        next.size += layer.size;
        let ids: Vec<Value> = next.diff_ids.iter().map(|d| json!(d.to_string())).collect();
        next.json["rootfs"] = json!({"type": "layers", "diff_ids": ids});
        push_history(&mut next.json, created_by, false);
        let id = self.store_image_state(&next, &mut rollback)?;
        rollback.commit();
        drop(lock);
        next.id = Some(id);
        Ok((next, layer.size))
    }

    /// The new image of a metadata step: `next`'s config (already changed), the same
    /// layers, an `empty_layer` history entry.
    pub(crate) fn store_config_step(
        &self,
        mut next: ImageState,
        created_by: &str,
    ) -> Result<ImageState> {
        push_history(&mut next.json, created_by, true);
        let _lock = self.lock()?;
        let mut rollback = Rollback::journaled(self.paths())?;
        let id = self.store_image_state(&next, &mut rollback)?;
        rollback.commit();
        next.id = Some(id);
        Ok(next)
    }

    /// Stores a config change with no history entry (`--label`, a scratch stage's first
    /// image).
    pub(crate) fn store_config_only(&self, mut next: ImageState) -> Result<ImageState> {
        let _lock = self.lock()?;
        let mut rollback = Rollback::journaled(self.paths())?;
        let id = self.store_image_state(&next, &mut rollback)?;
        rollback.commit();
        next.id = Some(id);
        Ok(next)
    }

    /// Flushes the filesystem of the engine root (one `syncfs`): the layers a build made
    /// were written unsynced (its step containers' layers are volatile, and unpacks don't
    /// fsync), and reach the disk here at once, before a tag names them.
    pub(crate) fn sync_store(&self) -> Result<()> {
        let tmp = self.paths().tmp_dir();
        let root = std::fs::File::open(&tmp).map_err(|err| Error::Io {
            context: format!("opening {}", tmp.display()),
            err,
        })?;
        nix::unistd::syncfs(&root).map_err(|e| Error::Sys {
            context: "flushing the engine root to disk".into(),
            err: e,
        })
    }

    /// The image a build ended with: listed from now on (even untagged, as Docker lists
    /// `build .`'s result), and tagged with each name (`-t`).
    pub(crate) fn export_built(&self, tags: &[crate::ids::ImageRef], id: &Digest) -> Result<()> {
        let lock = self.lock()?;
        let mut record = self.image_record(id)?;
        if record.build_step {
            record.build_step = false;
            let path = self.image_record_path(id);
            crate::state::write_json_atomic(&path, &record)?;
        }
        if !tags.is_empty() {
            self.set_tags(&lock, tags, id)?;
        }
        drop(lock);
        for tag in tags {
            self.record_event(
                &crate::events::Event::new(crate::events::ObjectType::Image, "tag", id.to_string())
                    .with("name", tag.to_string()),
            );
        }
        Ok(())
    }

    fn store_image_state(&self, state: &ImageState, rollback: &mut Rollback) -> Result<Digest> {
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true);
        let mut json = state.json.clone();
        json["created"] = json!(now);
        let bytes = serde_json::to_vec(&json)
            .map_err(|e| Error::Runtime(format!("encoding image config: {e}")))?;
        let id = self.put_blob(&bytes, rollback)?;
        let mut record = ImageRecord::new(
            id.clone(),
            state.diff_ids.clone(),
            state.chain_ids.clone(),
            Some(now),
            state.size,
        );
        // Listed only once a build ends with it (`export_built`).
        record.build_step = true;
        self.save_image_record(&record, rollback)?;
        Ok(id)
    }

    /// Kills the build containers of this process (a cancelled build's running step): the
    /// step then fails and its container is removed as usual.
    pub fn kill_own_build_containers(&self) {
        let ours = build_label_value();
        let Ok(records) = self.load_records() else {
            return;
        };
        for record in records {
            if record.config.labels.get(BUILD_LABEL) == Some(&ours) {
                let _ = self.kill_container(record.id.as_str(), nix::sys::signal::Signal::SIGKILL);
            }
        }
    }

    /// Removes build containers whose building process is gone (a build that was killed):
    /// they are nobody's and never shown.
    pub fn remove_stale_build_containers(&self) -> Result<usize> {
        let mut removed = 0;
        for record in self.load_records()? {
            let Some(value) = record.config.labels.get(BUILD_LABEL) else {
                continue;
            };
            if !super::builder_alive(value) {
                self.remove_container(record.id.as_str(), true, true)
                    .map_err(|e| {
                        Error::Runtime(format!(
                            "removing build container {}: {e}",
                            record.id.short()
                        ))
                    })?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// Appends BuildKit's history entry for a step.
fn push_history(json: &mut Value, created_by: &str, empty_layer: bool) {
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true);
    let mut entry = json!({
        "created": now,
        "created_by": created_by,
        "comment": "buildkit.dockerfile.v0",
    });
    if empty_layer {
        entry["empty_layer"] = json!(true);
    }
    match json.get_mut("history").and_then(Value::as_array_mut) {
        Some(history) => history.push(entry),
        None => json["history"] = json!([entry]),
    }
}
