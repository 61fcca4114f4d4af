//! `rm` of one container or many in one verb. The names are resolved over one read of
//! the name index and the running containers stopped; then, under the engine lock, each
//! directory is moved into one workspace and every shared record (the name index, the
//! network records) is read and written once for them all, not once per container. The
//! directories are deleted after the lock is let go, so no other verb waits on the
//! deletion: `system check` leaves a workspace in use alone, and removes one a crash
//! left behind.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;

use super::lifecycle::anonymous_volumes;
use super::record::{ContainerRecord, Status};
use super::runtime::cgroups::Cgroup;
use super::teardown::{remove_dir_alls, Teardown};
use crate::error::{Context, Error, Result};
use crate::events::container_event;
use crate::faults::{crash_point, pause_point};
use crate::ids::{random_hex64, ContainerId};
use crate::state::{StateLock, Workspace};
use crate::storage::overlay;
use crate::Engine;

/// What is to become of one of the names given to `rm`.
enum Step {
    /// Stopped: to be removed.
    Remove(ContainerRecord),
    /// Gone already: a `--rm` container its monitor removed as it stopped.
    Gone(ContainerRecord),
    Failed(Error),
}

impl Engine {
    /// `rm` of each of `names`, in their order: what became of each, as
    /// [`Engine::remove_container`] says for one. A running container goes only with
    /// `force` (killed first); with `volumes`, its anonymous volumes go too, unless
    /// another container uses them. A container named twice is removed once: by the
    /// later name it no longer exists.
    pub fn remove_containers<S: AsRef<str>>(
        &self,
        names: &[S],
        force: bool,
        volumes: bool,
    ) -> Vec<Result<ContainerRecord>> {
        let mut lookup = self.lookup();
        let mut seen = HashSet::new();
        let mut steps: Vec<Step> = names
            .iter()
            .map(|name| match lookup.find(name.as_ref()) {
                Ok(record) if !seen.insert(record.id.clone()) => {
                    Step::Failed(Error::NoSuchContainer(name.as_ref().to_owned()))
                }
                Ok(record) => self
                    .reconcile(record)
                    .map_or_else(Step::Failed, Step::Remove),
                Err(e) => Step::Failed(e),
            })
            .collect();
        drop(lookup);
        self.stop_for_removal(&mut steps, force);
        crash_point("rm:after-stop");
        let doomed: Vec<&ContainerRecord> = steps
            .iter()
            .filter_map(|step| match step {
                Step::Remove(record) => Some(record),
                _ => None,
            })
            .collect();
        let mut removed = self.remove_stopped_many(&doomed).into_iter();
        crash_point("rm:before-volumes");
        steps
            .into_iter()
            .map(|step| match step {
                Step::Failed(e) => Err(e),
                Step::Gone(record) => Ok(record),
                Step::Remove(record) => {
                    removed
                        .next()
                        .unwrap_or_else(|| Err(Error::NoSuchContainer(record.id.to_string())))?;
                    if volumes {
                        self.remove_anonymous_volumes(&anonymous_volumes(&record))?;
                    }
                    Ok(record)
                }
            })
            .collect()
    }

    /// Stops the running containers among `steps`, or fails them without `force`. All
    /// are sent SIGKILL first, so they die together rather than one after the other.
    fn stop_for_removal(&self, steps: &mut [Step], force: bool) {
        // A container between two runs of its restart policy is stopped as a running one.
        let running = |step: &Step| {
            matches!(step, Step::Remove(r)
                if matches!(r.state.status, Status::Running | Status::Restarting))
        };
        if force {
            for step in steps.iter().filter(|s| running(s)) {
                if let Step::Remove(ContainerRecord { state, .. }) = step {
                    // What this misses (a paused one), the stop below sees to.
                    let _ = state.init.map(|init| init.signal(Signal::SIGKILL));
                }
            }
        }
        for step in steps.iter_mut().filter(|s| running(s)) {
            let Step::Remove(record) = step else { continue };
            if !force {
                *step = Step::Failed(Error::Conflict(format!(
                    "cannot remove {} container {}: stop it first or use -f",
                    record.state.status.as_str(),
                    record.name
                )));
                continue;
            }
            let id = record.id.clone();
            match self.stop_container(id.as_str(), Duration::ZERO, Some(Signal::SIGKILL)) {
                Ok(_) => {}
                // Killed above, a `--rm` container's monitor may remove it before the
                // stop looks it up: it is gone, as asked.
                Err(Error::NoSuchContainer(_)) => {
                    let gone = std::mem::replace(
                        step,
                        Step::Failed(Error::NoSuchContainer(id.to_string())),
                    );
                    if let Step::Remove(record) = gone {
                        *step = Step::Gone(record);
                    }
                    continue;
                }
                Err(e) => {
                    *step = Step::Failed(e);
                    continue;
                }
            }
            // A `--rm` container's monitor removed it, and its anonymous volumes, on exit.
            if matches!(
                self.find_record(id.as_str()),
                Err(Error::NoSuchContainer(_))
            ) {
                let gone =
                    std::mem::replace(step, Step::Failed(Error::NoSuchContainer(id.to_string())));
                if let Step::Remove(record) = gone {
                    *step = Step::Gone(record);
                }
            }
        }
    }

    /// Removes stopped containers: under the lock, each one's cgroup goes and its
    /// directory moves into one workspace; then the name index and each network record
    /// are written once for them all, and each is told of (`disconnect`, `destroy`).
    /// After the lock, the workspace is deleted. One result per record, in order.
    fn remove_stopped_many(&self, records: &[&ContainerRecord]) -> Vec<Result<()>> {
        if records.is_empty() {
            return Vec::new();
        }
        let lock = match self.lock() {
            Ok(lock) => lock,
            Err(e) => return fail_all(records.len(), &e),
        };
        let tmp = self.paths().tmp_dir();
        let workspace =
            match Workspace::create(&lock, &tmp, &format!("rm-{}", &random_hex64()[..16])) {
                Ok(workspace) => workspace,
                Err(e) => return fail_all(records.len(), &e),
            };
        // One read of the mount table for all: a leftover mount is rare, the table long.
        let mounts = overlay::mounts_below(&self.paths().containers_dir());
        let mut results = Vec::with_capacity(records.len());
        let mut retired: Vec<ContainerRecord> = Vec::new();
        for record in records {
            // A cgroup left behind doesn't keep the container: it is reported, and
            // found by `system check`.
            self.remove_cgroup_reporting(record, &mut Cgroup::of(record));
            let result = self.retire_into(&mounts, &record.id, workspace.path());
            if result.is_ok() {
                retired.push((*record).clone());
            }
            results.push(result);
        }
        // The containers are gone whatever happens now: an index entry left is only
        // stale (a lookup skips it, `system check` reports it), and a lease left is a
        // gone container's, reclaimed at the next allocation.
        crash_point("rm:before-unindex");
        self.forget_retired(&lock, &retired);
        drop(lock);
        crash_point("rm:after-retire");
        pause_point("rm:before-delete");
        let dirs: Vec<PathBuf> = retired
            .iter()
            .map(|r| workspace.path().join(r.id.as_str()))
            .collect();
        let mut deleted = dirs
            .iter()
            .zip(remove_dir_alls(&dirs))
            .map(|(dir, result)| result.context(|| format!("removing {}", dir.display())));
        for result in results.iter_mut().filter(|r| r.is_ok()) {
            *result = deleted.next().unwrap_or(Ok(()));
        }
        results
    }

    /// Unmounts what is left below a container's directory (`mounts`: every mount below
    /// `containers/`, deepest first) and moves the directory into `into` (lock held). A
    /// directory gone already (a `--rm` container's monitor retired it) is no error.
    fn retire_into(&self, mounts: &[PathBuf], id: &ContainerId, into: &Path) -> Result<()> {
        let dir = self.container_dir(id);
        for mount in mounts.iter().filter(|m| m.starts_with(&dir)) {
            overlay::unmount_if_mounted(mount)?;
        }
        match std::fs::rename(&dir, into.join(id.as_str())) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e).context(|| format!("removing {}", dir.display())),
        }
    }

    /// What the shared records say of containers now retired (lock held): their index
    /// entries and endpoints go, each in one write, and each is told of. A failure here
    /// is reported, not returned: the containers are gone already.
    fn forget_retired(&self, held: &StateLock, retired: &[ContainerRecord]) {
        if retired.is_empty() {
            return;
        }
        let ids: Vec<ContainerId> = retired.iter().map(|r| r.id.clone()).collect();
        let mut teardown = Teardown::default();
        teardown.step("unindex", "containers.index", self.unindex_all(held, &ids));
        teardown.step(
            "release endpoints",
            "networks",
            self.release_endpoints_locked(held, retired),
        );
        for record in retired {
            self.report_teardown(record, &teardown);
            self.record_event(&container_event(record, "destroy"));
        }
    }
}

/// The same failure for each of `count` containers.
fn fail_all(count: usize, e: &Error) -> Vec<Result<()>> {
    (0..count)
        .map(|_| Err(Error::Runtime(e.to_string())))
        .collect()
}
