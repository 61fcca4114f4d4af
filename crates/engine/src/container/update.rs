//! `update`: changes to a container's configuration that apply while it exists, running
//! or not. The monitor reads them from the record when it needs them (the restart policy
//! at each exit), so no restart is needed.

use super::monitor::update_record;
use super::record::ContainerRecord;
use super::restart::RestartPolicy;
use crate::error::{Error, Result};
use crate::events::container_event;
use crate::Engine;

/// What `update` changes; each `None` leaves that setting as it is.
#[derive(Debug, Clone, Default)]
pub struct UpdateOptions {
    /// `--restart`.
    pub restart_policy: Option<RestartPolicy>,
}

impl Engine {
    /// Applies `opts` to a container, as Docker's `update`; records an `update` event.
    pub fn update_container(
        &self,
        name_or_id: &str,
        opts: &UpdateOptions,
    ) -> Result<ContainerRecord> {
        let record = self.container(name_or_id)?;
        if let Some(policy) = opts.restart_policy {
            if record.config.auto_remove && !policy.is_none() {
                return Err(Error::invalid(
                    "restart policy",
                    policy.mode.as_str(),
                    "Restart policy cannot be updated because AutoRemove is enabled for the container",
                ));
            }
        }
        let updated = update_record(self, &record.id, |r| {
            if let Some(policy) = opts.restart_policy {
                r.config.restart_policy = policy;
            }
        })?;
        self.record_event(&container_event(&updated, "update"));
        Ok(updated)
    }
}
