//! `pause` and `unpause`: the container's processes frozen and thawed through its
//! freezer cgroup. A paused container stays running (its monitor keeps supervising it);
//! its record says paused.

use nix::sys::signal::Signal;

use super::monitor::update_record;
use super::record::{ContainerRecord, Status};
use super::runtime::cgroups::Cgroup;
use crate::error::{Error, Result};
use crate::events::container_event;
use crate::Engine;

fn not_running(record: &ContainerRecord) -> Error {
    Error::Conflict(format!("container {} is not running", record.id))
}

impl Engine {
    /// Freezes every process of a running container.
    pub fn pause_container(&self, name_or_id: &str) -> Result<ContainerRecord> {
        let record = self.container(name_or_id)?;
        if record.state.status != Status::Running {
            return Err(not_running(&record));
        }
        if record.state.paused {
            return Err(Error::Conflict(format!(
                "container {} is already paused",
                record.id
            )));
        }
        Cgroup::of(&record).freeze()?;
        let record = match update_record(self, &record.id, |r| r.state.paused = true) {
            Ok(record) => record,
            Err(e) => {
                // Not recorded: not left frozen either.
                let _ = Cgroup::of(&record).thaw();
                return Err(e);
            }
        };
        self.record_event(&container_event(&record, "pause"));
        Ok(record)
    }

    /// Thaws a paused container.
    pub fn unpause_container(&self, name_or_id: &str) -> Result<ContainerRecord> {
        let record = self.container(name_or_id)?;
        if !record.state.is_paused() {
            return Err(Error::Conflict(format!(
                "container {} is not paused",
                record.id
            )));
        }
        self.thaw(&record)?;
        self.record_event(&container_event(&record, "unpause"));
        self.container(record.id.as_str())
    }

    /// Thaws the container and records it as no longer paused. A container that ended
    /// (and, with `--rm`, went) meanwhile is no error: its monitor recorded the exit.
    pub(crate) fn thaw(&self, record: &ContainerRecord) -> Result<()> {
        Cgroup::of(record).thaw()?;
        match update_record(self, &record.id, |r| r.state.paused = false) {
            Ok(_) | Err(Error::NoSuchContainer(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// After `signal` went to a paused container: Docker thaws it for the signals that
    /// end it (SIGKILL, or the stop signal), so it can act on them; others wait pending.
    pub(crate) fn thaw_to_deliver(&self, record: &ContainerRecord, signal: Signal) -> Result<()> {
        if record.state.is_paused() && matches!(signal, Signal::SIGKILL | Signal::SIGTERM) {
            self.thaw(record)?;
        }
        Ok(())
    }
}
