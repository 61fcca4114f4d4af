//! `system boot`: after a reboot, or once monitors died, no one restarts anything. This
//! picks the containers Docker's daemon would start when it starts.

use super::record::{ContainerRecord, Status};
use crate::error::Result;
use crate::Engine;

impl Engine {
    /// The containers a start of the engine brings back, as Docker's daemon restores
    /// them: started before, not running now (a monitor found dead counts as an exit),
    /// and their policy says so for their last exit: `always` (even after the user's
    /// `stop`), `unless-stopped` unless the user stopped it, `on-failure` after a failure
    /// with restarts left. Running ones are left alone, so booting twice starts nothing
    /// more.
    pub fn containers_to_boot(&self) -> Result<Vec<ContainerRecord>> {
        Ok(self.list_containers()?.into_iter().filter(boots).collect())
    }
}

fn boots(record: &ContainerRecord) -> bool {
    let state = &record.state;
    state.status == Status::Exited
        && state.started_at.is_some()
        && record.config.restart_policy.should_restart(
            state.exit_code.unwrap_or(0),
            state.manually_stopped,
            state.restart_count,
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::restart::RestartPolicy;

    fn record(policy: &str, status: Status, exit: i32, stopped: bool) -> ContainerRecord {
        let mut record: ContainerRecord = serde_json::from_value(serde_json::json!({
            "id": "c0ffee00".repeat(8),
            "name": "web",
            "created": "2026-01-01T00:00:00Z",
            "image": "busybox",
            "image_id": crate::Digest::of_bytes(b"image"),
            "chain_ids": [],
            "config": serde_json::to_value(crate::ContainerConfig::default()).unwrap(),
            "state": serde_json::to_value(crate::ContainerState::default()).unwrap(),
        }))
        .unwrap();
        record.config.restart_policy = RestartPolicy::parse(policy).unwrap();
        record.state.status = status;
        record.state.exit_code = Some(exit);
        record.state.manually_stopped = stopped;
        record.state.started_at = Some(chrono::Utc::now());
        record
    }

    #[test]
    fn boot_starts_what_dockers_daemon_restores() {
        assert!(boots(&record("always", Status::Exited, 0, true)));
        assert!(boots(&record("unless-stopped", Status::Exited, 255, false)));
        assert!(!boots(&record("unless-stopped", Status::Exited, 0, true)));
        assert!(boots(&record("on-failure", Status::Exited, 255, false)));
        assert!(!boots(&record("on-failure", Status::Exited, 0, false)));
        assert!(!boots(&record("no", Status::Exited, 1, false)));
        assert!(!boots(&record("always", Status::Running, 0, false)));
        // Never started: created only.
        let mut created = record("always", Status::Created, 0, false);
        created.state.started_at = None;
        assert!(!boots(&created));
        // on-failure:2 that used its two restarts stays down.
        let mut spent = record("on-failure:2", Status::Exited, 1, false);
        spent.state.restart_count = 2;
        assert!(!boots(&spent));
    }
}
