//! `berth system check [--repair]`: finds what crashes and killed verbs leave behind in an
//! engine root (and on the host for it), and removes or fixes each.
//!
//! The check holds the engine lock, so no verb is midway through a change it could
//! mistake for junk: every verb that creates or removes containers, volumes, images or
//! their files holds it for the whole change (`load` and `import` for the whole import).
//! The one thing that runs without it is a container's monitor; whatever a live monitor
//! of this root names (its container's directory, cgroup, retired directory) is left
//! alone, and a monitor itself counts as junk only when its container does not name it
//! and it has run for longer than any start or finish takes. A copy into a container
//! runs without it too: the scratch directory it builds a new tree in is left alone while
//! the copy holds the container directory's lock (see `storage::beside`).

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use nix::sys::signal::Signal;
use serde::Serialize;

use crate::container::record::{ProcessHandle, Status};
use crate::container::runtime::cgroups::{spare, Cgroup};
use crate::container::runtime::process::start_time;
use crate::container::store::{IndexProblem, NameIndex};
use crate::container::ContainerRecord;
use crate::error::{Context, Error, Result};
use crate::ids::{random_hex64, ContainerId, Digest};
use crate::image::JOURNAL_PREFIX;
use crate::paths::{too_open, DIR_MODE, FILE_MODE, ROOT_MODE};
use crate::state::{is_atomic_temp, StateLock, Workspace, WORKSPACE_PREFIX};
use crate::storage::{beside, overlay};
use crate::Engine;

/// A monitor younger than this may still be starting or finishing its container.
const MONITOR_GRACE_SECS: u64 = 30;

/// The grace period; debug builds let tests shorten it (`BERTH_TEST_MONITOR_GRACE`).
fn monitor_grace_secs() -> u64 {
    #[cfg(debug_assertions)]
    if let Some(secs) = std::env::var("BERTH_TEST_MONITOR_GRACE")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return secs;
    }
    MONITOR_GRACE_SECS
}

/// What kind of leftover a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Monitor,
    Mount,
    Cgroup,
    ContainerDir,
    ContainerIndex,
    /// A killed copy's scratch directory in a container's own directory.
    CopyScratch,
    /// A step container of a build that is no longer running.
    BuildContainer,
    /// A build cache entry whose step image is gone.
    BuildCache,
    Journal,
    VolumeDir,
    Tmp,
    HalfWritten,
    Layer,
    Blob,
    Permissions,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Monitor => "monitor",
            Kind::Mount => "mount",
            Kind::Cgroup => "cgroup",
            Kind::ContainerDir => "container-dir",
            Kind::ContainerIndex => "container-index",
            Kind::CopyScratch => "cp-scratch",
            Kind::BuildContainer => "build-container",
            Kind::BuildCache => "build-cache",
            Kind::Journal => "interrupted-load",
            Kind::VolumeDir => "volume-dir",
            Kind::Tmp => "tmp",
            Kind::HalfWritten => "half-written",
            Kind::Layer => "orphan-layer",
            Kind::Blob => "orphan-blob",
            Kind::Permissions => "permissions",
        }
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// How a finding is repaired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repair {
    Kill(ProcessHandle),
    Unmount,
    /// The cgroup at this path below every hierarchy's root (`berth/<id>`, `<parent>/<id>`).
    RemoveCgroup(String),
    RemoveContainerDir(ContainerId),
    /// Writes the container name index the records make.
    RebuildIndex,
    /// Removes a killed copy's scratch directory (by descriptor).
    RemoveCopyScratch,
    /// Removes the container as `rm -f -v` does.
    RemoveContainer(ContainerId),
    /// Removes the build cache entry of this key.
    RemoveCacheEntry(Digest),
    UndoJournal,
    /// Renamed into `tmp/` in one step, then deleted.
    Discard,
    Remove,
    Chmod(u32),
}

/// One thing `system check` found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub kind: Kind,
    /// The object it concerns: a container ID, a digest, a volume name, a PID, a file.
    pub object: String,
    pub path: PathBuf,
    /// What `--repair` does about it, in words.
    pub repair: String,
    #[serde(skip)]
    pub action: Repair,
}

impl Finding {
    fn new(kind: Kind, object: impl Into<String>, path: PathBuf, action: Repair) -> Finding {
        let repair = match &action {
            Repair::Kill(_) => "kills it".to_owned(),
            Repair::Unmount => "unmounts it".to_owned(),
            Repair::RemoveCgroup(_) => "kills what is left in it and removes it".to_owned(),
            Repair::RemoveContainerDir(_) => "unmounts what is below it and removes it".to_owned(),
            Repair::RebuildIndex => "rebuilds it from the container records".to_owned(),
            Repair::RemoveCopyScratch => "removes it".to_owned(),
            Repair::RemoveContainer(_) => "removes it as rm -f -v does".to_owned(),
            Repair::RemoveCacheEntry(_) => "removes the entry".to_owned(),
            Repair::UndoJournal => {
                "removes the untagged images it wrote and the layers and blobs nothing uses"
                    .to_owned()
            }
            Repair::Discard | Repair::Remove => "removes it".to_owned(),
            Repair::Chmod(mode) => format!("sets mode {mode:o}"),
        };
        Finding {
            kind,
            object: object.into(),
            path,
            repair,
            action,
        }
    }
}

/// What the check knows about the root while it looks.
struct Scan {
    records: HashMap<ContainerId, ContainerRecord>,
    /// Container IDs a live (not junk) monitor of this root supervises.
    live: HashSet<String>,
    /// Containers removed but whose directories are still in `tmp/` (`rm-<id>`, or
    /// `<id>` in an `rm` workspace): still this root's.
    retired: HashSet<ContainerId>,
}

impl Engine {
    /// Lists leftovers without changing anything. Takes the engine lock.
    pub fn system_check(&self) -> Result<Vec<Finding>> {
        let _lock = self.lock()?;
        self.find_leftovers()
    }

    /// Repairs every leftover; returns each finding with the outcome of its repair, and
    /// whatever a second look still finds. Takes the engine lock.
    #[allow(clippy::type_complexity)]
    pub fn system_repair(
        &self,
    ) -> Result<(
        Vec<(Finding, std::result::Result<(), String>)>,
        Vec<Finding>,
    )> {
        // `rm -f` takes the engine lock itself: build containers go before it is held.
        let mut done = self.remove_orphan_build_containers()?;
        let lock = self.lock()?;
        let findings = self.find_leftovers()?;
        let mut undid_journal = false;
        for finding in findings {
            let result = self.repair(&lock, &finding).map_err(|e| e.to_string());
            undid_journal |= finding.action == Repair::UndoJournal && result.is_ok();
            done.push((finding, result));
        }
        if undid_journal {
            // What the undone loads stacked or stored and nothing else uses.
            self.collect_garbage(&lock)?;
        }
        let remaining = self.find_leftovers()?;
        Ok((done, remaining))
    }

    /// Every leftover, in the order repairs must run (processes before the mounts and
    /// cgroups they hold, records before what they name).
    fn find_leftovers(&self) -> Result<Vec<Finding>> {
        let records: HashMap<ContainerId, ContainerRecord> = self
            .load_records()?
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect();
        let mut scan = Scan {
            records,
            live: HashSet::new(),
            retired: self.retired_ids()?,
        };
        let mut found = self.find_monitors(&mut scan);
        // Before mounts and cgroups: removing the container takes its own with it.
        found.extend(self.find_build_containers(&scan));
        found.extend(self.find_mounts());
        found.extend(self.find_cgroups(&scan));
        found.extend(self.find_container_dirs(&scan)?);
        // After the directories: its rebuild reads what their repairs leave.
        found.extend(self.find_container_index()?);
        found.extend(self.find_copy_scratch(&scan)?);
        found.extend(self.find_tmp(&scan)?);
        found.extend(self.find_volume_dirs()?);
        found.extend(self.find_half_written()?);
        found.extend(self.find_orphan_images_data(&scan)?);
        found.extend(self.find_build_cache()?);
        // What another finding removes needs no chmod.
        let permissions: Vec<Finding> = self
            .find_permissions()?
            .into_iter()
            .filter(|p| !found.iter().any(|f| p.path.starts_with(&f.path)))
            .collect();
        found.extend(permissions);
        Ok(found)
    }

    /// Removes the build containers [`Self::find_build_containers`] finds, as `rm -f -v`.
    #[allow(clippy::type_complexity)]
    fn remove_orphan_build_containers(
        &self,
    ) -> Result<Vec<(Finding, std::result::Result<(), String>)>> {
        let records = self.load_records()?;
        Ok(orphan_build_containers(records.iter())
            .map(|r| {
                let result = self
                    .remove_container(r.id.as_str(), true, true)
                    .map(drop)
                    .map_err(|e| e.to_string());
                (self.build_container_finding(r), result)
            })
            .collect())
    }

    fn build_container_finding(&self, record: &ContainerRecord) -> Finding {
        Finding::new(
            Kind::BuildContainer,
            record.id.short(),
            self.paths().container(&record.id),
            Repair::RemoveContainer(record.id.clone()),
        )
    }

    /// Step containers whose build is gone (the builder killed before it could remove
    /// them); a running build's are its own.
    fn find_build_containers(&self, scan: &Scan) -> Vec<Finding> {
        let mut found: Vec<Finding> = orphan_build_containers(scan.records.values())
            .map(|r| self.build_container_finding(r))
            .collect();
        found.sort_by(|a, b| a.object.cmp(&b.object));
        found
    }

    /// Build cache entries whose step image was removed since (a later build would miss
    /// on them anyway), and cache files a killed build left half-written.
    fn find_build_cache(&self) -> Result<Vec<Finding>> {
        let Some(store) = crate::build::cache::CacheStore::existing(self.paths().root()) else {
            return Ok(Vec::new());
        };
        let images: HashSet<Digest> = self.image_records()?.into_iter().map(|r| r.id).collect();
        let mut found: Vec<Finding> = store
            .entries()?
            .into_iter()
            .filter(|e| !images.contains(&e.image))
            .map(|e| {
                Finding::new(
                    Kind::BuildCache,
                    e.key.to_string(),
                    store.entry_path(&e.key),
                    Repair::RemoveCacheEntry(e.key),
                )
            })
            .collect();
        for dir in [store.dir().join("cache"), store.dir().join("seen")] {
            for (name, path) in list(&dir)? {
                if is_atomic_temp(&name) && !temp_writer_alive(&name) {
                    found.push(Finding::new(Kind::HalfWritten, name, path, Repair::Remove));
                }
            }
        }
        Ok(found)
    }

    /// Monitors of this root (`--root <root> __monitor <id>` in their command line).
    fn find_monitors(&self, scan: &mut Scan) -> Vec<Finding> {
        let mut found = Vec::new();
        for (pid, id) in monitors_of(self.paths().root()) {
            let Some(handle) = ProcessHandle::of(pid) else {
                continue;
            };
            if self.monitor_is_busy(scan, &id, handle) {
                scan.live.insert(id);
                continue;
            }
            found.push(Finding::new(
                Kind::Monitor,
                format!("pid {pid} (container {id})"),
                PathBuf::from(format!("/proc/{pid}")),
                Repair::Kill(handle),
            ));
        }
        found
    }

    /// True if a monitor is doing its job: its container's record names it, or it is
    /// starting (young) or finishing (its container just exited or is being removed).
    fn monitor_is_busy(&self, scan: &Scan, id: &str, handle: ProcessHandle) -> bool {
        let grace = monitor_grace_secs();
        if process_age_secs(handle.pid) < grace {
            return true;
        }
        let Ok(id) = id.parse::<ContainerId>() else {
            return false;
        };
        if self.retired_container_dir(&id).exists() {
            return true;
        }
        let Some(record) = scan.records.get(&id) else {
            return false;
        };
        let just_exited = record
            .state
            .finished_at
            .is_some_and(|t| (chrono::Utc::now() - t).num_seconds() < MONITOR_GRACE_SECS as i64);
        // A restart policy's monitor also lives between two runs.
        let supervising = matches!(record.state.status, Status::Running | Status::Restarting);
        (supervising && record.state.monitor == Some(handle)) || just_exited
    }

    /// Mounts below the root in this (the host's) mount namespace: berth mounts only in
    /// private namespaces, so any is a leak.
    fn find_mounts(&self) -> Vec<Finding> {
        let root = self.paths().root();
        overlay::mounts_below(root)
            .into_iter()
            .filter(|m| m != root)
            .map(|m| Finding::new(Kind::Mount, m.display().to_string(), m, Repair::Unmount))
            .collect()
    }

    /// `berth/<id>` cgroups of this root's containers that are not running, and what a
    /// kill left of the spare cgroup. Cgroups are host-wide: those of IDs this root
    /// doesn't know belong to other roots and are left.
    fn find_cgroups(&self, scan: &Scan) -> Vec<Finding> {
        let mut found = Vec::new();
        for (name, dir) in Cgroup::all_ids() {
            let Ok(id) = name.parse::<ContainerId>() else {
                continue;
            };
            let ours = scan.records.contains_key(&id)
                || self.container_dir(&id).exists()
                || scan.retired.contains(&id);
            let running = scan.records.get(&id).is_some_and(|r| {
                // Between two runs of a restart policy the next run's cgroup may be in the making.
                matches!(r.state.status, Status::Running | Status::Restarting)
                    && r.state.monitor.is_some_and(|m| m.is_alive())
            });
            if ours && !running && !scan.live.contains(&name) {
                found.push(Finding::new(
                    Kind::Cgroup,
                    format!("berth/{name}"),
                    dir,
                    Repair::RemoveCgroup(format!("berth/{name}")),
                ));
            }
        }
        // Those under a `--cgroup-parent`, found from their records.
        let hierarchies = Cgroup::hierarchies();
        for record in scan.records.values() {
            if record.config.resources.cgroup_parent.is_none() {
                continue;
            }
            let path = record.config.resources.cgroup_path(record.id.as_str());
            let running = matches!(record.state.status, Status::Running | Status::Restarting)
                && record.state.monitor.is_some_and(|m| m.is_alive());
            let Some(dir) = Cgroup::existing_in(&hierarchies, &path).first_dir() else {
                continue;
            };
            if !running && !scan.live.contains(record.id.as_str()) {
                found.push(Finding::new(
                    Kind::Cgroup,
                    path.clone(),
                    dir,
                    Repair::RemoveCgroup(path),
                ));
            }
        }
        // What a kill left of the spare's making or taking (see `cgroups::spare`).
        for path in spare::leftovers() {
            if let Some(dir) = Cgroup::existing_in(&hierarchies, &path).first_dir() {
                found.push(Finding::new(
                    Kind::Cgroup,
                    path.clone(),
                    dir,
                    Repair::RemoveCgroup(path),
                ));
            }
        }
        found
    }

    /// The IDs of removed containers whose directories wait in `tmp/` for deletion.
    fn retired_ids(&self) -> Result<HashSet<ContainerId>> {
        let mut found = HashSet::new();
        for (name, path) in list(&self.paths().tmp_dir())? {
            if let Some(id) = name.strip_prefix("rm-") {
                found.extend(id.parse::<ContainerId>().ok());
            } else if name.starts_with(&format!("{WORKSPACE_PREFIX}rm-")) && path.is_dir() {
                let ids = list(&path)?.into_iter().map(|(id, _)| id.parse().ok());
                found.extend(ids.flatten());
            }
        }
        Ok(found)
    }

    /// Container directories without a record (a create or rm that was killed).
    fn find_container_dirs(&self, scan: &Scan) -> Result<Vec<Finding>> {
        let mut found = Vec::new();
        for (name, path) in list(&self.paths().containers_dir())? {
            let Ok(id) = name.parse::<ContainerId>() else {
                continue;
            };
            if scan.records.contains_key(&id) || scan.live.contains(&name) {
                continue;
            }
            // Written after the list above was read; an empty one is no record (a `--rm`
            // container's cut short by a power cut: see `Engine::save_record_of_run`).
            if std::fs::metadata(path.join("record.json")).is_ok_and(|m| m.len() > 0) {
                continue;
            }
            found.push(Finding::new(
                Kind::ContainerDir,
                name,
                path,
                Repair::RemoveContainerDir(id),
            ));
        }
        Ok(found)
    }

    /// A name index that is missing (while there are containers), damaged, or says other
    /// than the records (a crash between a record and the index leaves an extra entry).
    fn find_container_index(&self) -> Result<Vec<Finding>> {
        let expected = self.index_from_records()?.sorted();
        let problem = match self.read_index().map(NameIndex::sorted) {
            Ok(index) if index == expected => return Ok(Vec::new()),
            Err(IndexProblem::Missing) if expected.is_empty() => return Ok(Vec::new()),
            Ok(_) => "stale".to_owned(),
            Err(problem) => problem.to_string(),
        };
        Ok(vec![Finding::new(
            Kind::ContainerIndex,
            problem,
            self.container_index_path(),
            Repair::RebuildIndex,
        )])
    }

    /// Scratch directories of copies killed with the process building them, in the
    /// directories of containers that have records (the others are removed whole).
    fn find_copy_scratch(&self, scan: &Scan) -> Result<Vec<Finding>> {
        let mut found = Vec::new();
        let mut records: Vec<&ContainerRecord> = scan.records.values().collect();
        records.sort_by(|a, b| a.name.cmp(&b.name));
        for record in records {
            let dir = self.container_dir(&record.id);
            let names = match beside::leftovers(&dir) {
                Ok(names) => names,
                // Removed meanwhile (the lock is ours, but a monitor removes a --rm one).
                Err(nix::Error::ENOENT) => continue,
                Err(err) => {
                    return Err(Error::Sys {
                        context: format!("looking for copies' leftovers in {}", dir.display()),
                        err,
                    })
                }
            };
            for name in names {
                found.push(Finding::new(
                    Kind::CopyScratch,
                    format!("container {}", record.name),
                    dir.join(name),
                    Repair::RemoveCopyScratch,
                ));
            }
        }
        Ok(found)
    }

    /// Everything in `tmp/`: no verb is running (the lock is ours), so all of it is debris,
    /// except the retired directory of a container whose monitor is finishing it, the
    /// workspace of a pull still downloading, and the spare container directory.
    fn find_tmp(&self, scan: &Scan) -> Result<Vec<Finding>> {
        let mut found = Vec::new();
        for (name, path) in list(&self.paths().tmp_dir())? {
            if name
                .strip_prefix("rm-")
                .is_some_and(|id| scan.live.contains(id))
            {
                continue;
            }
            // A pull downloading without the lock.
            if name.starts_with(WORKSPACE_PREFIX) && Workspace::in_use(&path) {
                continue;
            }
            // The next create's directory, whole (see `container::spare_dir`).
            if name == crate::container::spare_dir::SPARE_DIR {
                continue;
            }
            let (kind, action) = if name.starts_with(JOURNAL_PREFIX) {
                (Kind::Journal, Repair::UndoJournal)
            } else {
                (Kind::Tmp, Repair::Remove)
            };
            found.push(Finding::new(kind, name, path, action));
        }
        Ok(found)
    }

    /// Volume directories without a record: a create or rm that was killed.
    fn find_volume_dirs(&self) -> Result<Vec<Finding>> {
        let mut found = Vec::new();
        for (name, path) in list(&self.paths().volumes_dir())? {
            if path.is_dir() && !path.join("volume.json").exists() {
                found.push(Finding::new(Kind::VolumeDir, name, path, Repair::Discard));
            }
        }
        Ok(found)
    }

    /// Temp files of [`crate::state::write_atomic`] whose writer was killed.
    fn find_half_written(&self) -> Result<Vec<Finding>> {
        let paths = self.paths();
        let mut dirs = vec![
            paths.root().to_owned(),
            paths.images_dir(),
            paths.networks_dir(),
        ];
        for parent in [
            paths.containers_dir(),
            paths.volumes_dir(),
            paths.layers_dir(),
        ] {
            dirs.extend(
                list(&parent)?
                    .into_iter()
                    .map(|(_, p)| p)
                    .filter(|p| p.is_dir()),
            );
        }
        let mut found = Vec::new();
        for dir in dirs {
            for (name, path) in list(&dir)? {
                if is_atomic_temp(&name) {
                    found.push(Finding::new(Kind::HalfWritten, name, path, Repair::Remove));
                }
            }
        }
        Ok(found)
    }

    /// Layers no image or container stacks on, and blobs no image names.
    fn find_orphan_images_data(&self, scan: &Scan) -> Result<Vec<Finding>> {
        let images = self.image_records()?;
        let mut layers: HashSet<Digest> = scan
            .records
            .values()
            .flat_map(|r| r.chain_ids.iter().cloned())
            .collect();
        let mut blobs = HashSet::new();
        for r in &images {
            layers.extend(r.chain_ids.iter().cloned());
            blobs.insert(r.id.clone());
            blobs.extend(r.manifest.clone());
        }
        let paths = self.paths();
        let mut found = Vec::new();
        for (dir, keep, kind) in [
            (paths.layers_dir(), &layers, Kind::Layer),
            (paths.blobs_dir(), &blobs, Kind::Blob),
        ] {
            for (name, path) in list(&dir)? {
                let Ok(digest) = format!("sha256:{name}").parse::<Digest>() else {
                    continue;
                };
                if !keep.contains(&digest) {
                    found.push(Finding::new(
                        kind,
                        digest.to_string(),
                        path,
                        Repair::Discard,
                    ));
                }
            }
        }
        Ok(found)
    }

    /// The engine's own directories and records readable by other users. Container
    /// content (a layer's `diff/`, a volume's `_data/`, upper and work) is never looked at.
    fn find_permissions(&self) -> Result<Vec<Finding>> {
        let paths = self.paths();
        let mut wanted: Vec<(PathBuf, u32)> = vec![(paths.root().to_owned(), ROOT_MODE)];
        wanted.extend(paths.private_dirs().into_iter().map(|d| (d, DIR_MODE)));
        for file in [
            paths.lock_file(),
            paths.repositories_file(),
            self.container_index_path(),
        ] {
            wanted.push((file, FILE_MODE));
        }
        for dir in [paths.images_dir(), paths.networks_dir()] {
            for (name, record) in list(&dir)? {
                if !is_atomic_temp(&name) {
                    wanted.push((record, FILE_MODE));
                }
            }
        }
        for (parent, records) in [
            (
                paths.containers_dir(),
                &["record.json", "config.json", "container.log", "health.json"][..],
            ),
            (paths.volumes_dir(), &["volume.json"][..]),
            (paths.layers_dir(), &["layer.json"][..]),
        ] {
            for (_, dir) in list(&parent)? {
                for record in records {
                    wanted.push((dir.join(record), FILE_MODE));
                }
                wanted.push((dir, DIR_MODE));
            }
        }
        let mut found = Vec::new();
        for (path, mode) in wanted {
            // Never follow a link: a chmod through one would change its target.
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                continue;
            }
            let actual = meta.permissions().mode() & 0o7777;
            if too_open(actual, mode) {
                found.push(Finding::new(
                    Kind::Permissions,
                    format!("mode {actual:o}"),
                    path,
                    Repair::Chmod(mode),
                ));
            }
        }
        Ok(found)
    }

    fn repair(&self, held: &StateLock, finding: &Finding) -> Result<()> {
        let path = &finding.path;
        match &finding.action {
            Repair::Kill(handle) => {
                handle.signal(Signal::SIGKILL)?;
                handle.wait_exit(Some(std::time::Duration::from_secs(5)));
                Ok(())
            }
            Repair::Unmount => overlay::unmount_if_mounted(path),
            Repair::RemoveCgroup(cgroup) => {
                // Its failure is the busy cgroup found below.
                let hierarchies = Cgroup::hierarchies();
                let _ = Cgroup::existing_in(&hierarchies, cgroup).remove();
                match Cgroup::existing_in(&hierarchies, cgroup).pids().is_empty() && !path.exists()
                {
                    true => Ok(()),
                    false => Err(Error::Runtime(format!(
                        "cgroup {} is still busy",
                        path.display()
                    ))),
                }
            }
            Repair::RemoveContainerDir(id) => {
                for mount in overlay::mounts_below(path) {
                    overlay::unmount_if_mounted(&mount)?;
                }
                // The directory goes whether or not the cgroup could.
                let cgroup = Cgroup::existing(id.as_str()).remove();
                self.discard_any(path).and(cgroup)
            }
            Repair::RebuildIndex => self.rebuild_container_index(held).map(drop),
            Repair::RemoveCopyScratch => {
                let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
                    return Err(Error::Runtime(format!("{} is no copy's", path.display())));
                };
                beside::remove_leftover(dir, name)
                    .context(|| format!("removing {}", path.display()))
            }
            // `system_repair` removed it before taking the lock `rm` needs.
            Repair::RemoveContainer(id) => Err(Error::Conflict(format!(
                "build container {} appeared during the repair: run it again",
                id.short()
            ))),
            Repair::RemoveCacheEntry(key) => {
                match crate::build::cache::CacheStore::existing(self.paths().root()) {
                    Some(store) => store.remove(key),
                    None => Ok(()),
                }
            }
            Repair::UndoJournal => self.undo_journal(path),
            Repair::Discard => self.discard_any(path),
            Repair::Remove => remove_any(path),
            Repair::Chmod(mode) => {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(*mode))
                    .context(|| format!("changing the mode of {}", path.display()))
            }
        }
    }

    /// Moves `path` into `tmp/` in one rename, then deletes it: a crash midway leaves a
    /// `tmp/` leftover, never a half-deleted object under its name.
    fn discard_any(&self, path: &Path) -> Result<()> {
        let aside = self
            .paths()
            .tmp_dir()
            .join(format!("gc-{}", random_hex64()));
        match std::fs::rename(path, &aside) {
            Ok(()) => remove_any(&aside),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e).context(|| format!("removing {}", path.display())),
        }
    }

    /// Finishes the undo of a load or import that was killed: removes the image records it
    /// listed unless a tag or a container names them (then the load had finished and only
    /// its journal was left); layers and blobs go with the garbage collection after.
    fn undo_journal(&self, journal: &Path) -> Result<()> {
        let text = std::fs::read_to_string(journal)
            .context(|| format!("reading journal {}", journal.display()))?;
        let tags = self.tags()?;
        let images = self.paths().images_dir();
        for line in text.lines() {
            let path = Path::new(line);
            // Only image records are undone by name; anything else listed is ignored.
            if path.parent() != Some(images.as_path()) {
                continue;
            }
            let Some(id) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
                .and_then(|hex| format!("sha256:{hex}").parse::<Digest>().ok())
            else {
                continue;
            };
            let tagged = tags.values().any(|t| *t == id);
            let in_use = !self.containers_using_image(&id)?.is_empty();
            if !tagged && !in_use {
                remove_any(&self.image_record_path(&id))?;
            }
        }
        remove_any(journal)
    }
}

/// The entries of a directory as (name, path); names that are not UTF-8 are the engine's
/// by no means, and skipped.
fn list(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).context(|| format!("listing {}", dir.display())),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.context(|| format!("listing {}", dir.display()))?;
        if let Some(name) = entry.file_name().to_str() {
            found.push((name.to_owned(), entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// Build containers whose builder is no longer running.
fn orphan_build_containers<'a>(
    records: impl Iterator<Item = &'a ContainerRecord>,
) -> impl Iterator<Item = &'a ContainerRecord> {
    records.filter(|r| {
        r.config
            .labels
            .get(crate::build::BUILD_LABEL)
            .is_some_and(|owner| !crate::build::builder_alive(owner))
    })
}

/// Whether the process that names an atomic temp file (`.NAME.PID.tmp`) still runs: a
/// build writes its cache files without the engine lock.
fn temp_writer_alive(name: &str) -> bool {
    name.strip_suffix(".tmp")
        .and_then(|rest| rest.rsplit_once('.'))
        .and_then(|(_, pid)| pid.parse::<i32>().ok())
        .is_some_and(|pid| nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok())
}

fn remove_any(path: &Path) -> Result<()> {
    let result = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    };
    result.context(|| format!("removing {}", path.display()))
}

/// (PID, container ID) of every monitor process of the engine at `root`.
fn monitors_of(root: &Path) -> Vec<(i32, String)> {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let root = root.as_os_str().as_encoded_bytes();
    let our_pid_ns = pid_namespace("self");
    let mut found = Vec::new();
    for entry in procs.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        // A container's process can dress its command line as a monitor's; real monitors
        // run in berth's own pid namespace, container processes never do.
        if let Some(id) = monitor_of(&cmdline, root) {
            if our_pid_ns.is_some() && pid_namespace(&pid.to_string()) == our_pid_ns {
                found.push((pid, id));
            }
        }
    }
    found
}

/// The inode of a process's pid namespace (`self` or a PID), if it can be read.
fn pid_namespace(process: &str) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/{process}/ns/pid"))
        .ok()
        .map(|m| m.ino())
}

/// The container ID if `cmdline` (NUL-separated) is a monitor's of the root `root`.
fn monitor_of(cmdline: &[u8], root: &[u8]) -> Option<String> {
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let after = |flag: &[u8]| args.windows(2).find(|w| w[0] == flag).map(|w| w[1]);
    if after(b"--root")? != root {
        return None;
    }
    let id = after(b"__monitor")?;
    std::str::from_utf8(id).ok().map(str::to_owned)
}

/// Seconds since the process started (0 if unknown, so it counts as young).
fn process_age_secs(pid: i32) -> u64 {
    let Some(start) = start_time(pid) else {
        return 0;
    };
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let uptime = std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|u| u.split('.').next().and_then(|s| s.parse::<u64>().ok()))
        .unwrap_or(0);
    uptime.saturating_sub(start / ticks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_monitor_command_lines() {
        let line = b"berth-monitor\0--root\0/var/lib/berth\0__monitor\0abc\0--control-fd\x003\0";
        assert_eq!(monitor_of(line, b"/var/lib/berth").as_deref(), Some("abc"));
        assert_eq!(monitor_of(line, b"/other"), None);
        assert_eq!(
            monitor_of(b"berth\0--root\0/var/lib/berth\0ps\0", b"/var/lib/berth"),
            None
        );
    }

    #[test]
    fn finds_and_repairs_debris_in_a_fresh_root() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        assert!(engine.system_check().unwrap().is_empty());
        let paths = engine.paths();
        std::fs::create_dir(paths.tmp_dir().join("layer-x")).unwrap();
        std::fs::write(paths.images_dir().join(".x.json.123.tmp"), b"{").unwrap();
        let orphan = paths.containers_dir().join(ContainerId::random().as_str());
        std::fs::create_dir(&orphan).unwrap();
        std::fs::create_dir_all(paths.volumes_dir().join("half/_data")).unwrap();
        std::fs::set_permissions(paths.images_dir(), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        let kinds: Vec<Kind> = engine
            .system_check()
            .unwrap()
            .iter()
            .map(|f| f.kind)
            .collect();
        for kind in [
            Kind::Tmp,
            Kind::HalfWritten,
            Kind::ContainerDir,
            Kind::VolumeDir,
            Kind::Permissions,
        ] {
            assert!(kinds.contains(&kind), "{kind:?} not in {kinds:?}");
        }
        let (done, remaining) = engine.system_repair().unwrap();
        assert!(done.iter().all(|(_, r)| r.is_ok()), "{done:?}");
        assert!(remaining.is_empty(), "{remaining:?}");
        assert!(!orphan.exists());
    }

    #[test]
    fn the_spare_container_dir_is_no_debris_and_a_half_made_one_is() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        engine.keep_spare_container_dir().unwrap();
        assert!(engine.system_check().unwrap().is_empty());
        let half = engine.paths().tmp_dir().join("spare-container.making-1-0");
        std::fs::create_dir(&half).unwrap();
        let found: Vec<String> = engine
            .system_check()
            .unwrap()
            .iter()
            .map(|f| format!("{:?} {}", f.kind, f.path.display()))
            .collect();
        assert_eq!(found, [format!("Tmp {}", half.display())]);
    }
}
