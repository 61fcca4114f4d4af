//! `update`: changes to a container's configuration that apply while it exists, running
//! or not. Limits go to its cgroups at once when it runs; the monitor reads the rest from
//! the record when it needs them (the restart policy at each exit), so no restart is
//! needed.

use super::limits::{self, HostLimits};
use super::monitor::update_record;
use super::record::{ContainerRecord, Resources, Status};
use super::restart::RestartPolicy;
use super::runtime::cgroups::Cgroup;
use crate::error::{Error, Result};
use crate::events::container_event;
use crate::Engine;

/// What `update` changes; each `None` leaves that setting as it is.
#[derive(Debug, Clone, Default)]
pub struct UpdateOptions {
    /// `--restart`.
    pub restart_policy: Option<RestartPolicy>,
    /// The limits to change: each `Some` replaces the container's (`pids_limit` zero or
    /// less, and `memory_swap` -1, lift theirs). `oom_kill_disable` is not updated.
    pub resources: Resources,
}

impl UpdateOptions {
    /// True when no limit is asked for.
    fn changes_no_limit(&self) -> bool {
        Resources {
            oom_kill_disable: false,
            ..self.resources.clone()
        } == Resources::default()
    }
}

/// The container's limits with `new`'s applied, as Docker's update merges them.
fn merged(old: &Resources, new: &Resources) -> Result<Resources> {
    let mut r = old.clone();
    if let Some(m) = new.memory {
        // Docker's rule: the memory alone may not pass the swap already set.
        if let (None, Some(swap)) = (new.memory_swap, old.memory_swap.filter(|s| *s > 0)) {
            if m > swap {
                return Err(Error::invalid(
                    "--memory value",
                    m.to_string(),
                    "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time",
                ));
            }
        }
        // Without a limit before, the swap was unlimited and stays so.
        if old.memory.is_none() && new.memory_swap.is_none() {
            r.memory_swap = Some(-1);
        }
        r.memory = Some(m);
    }
    if let Some(s) = new.memory_swap {
        r.memory_swap = Some(s);
    }
    if let Some(v) = new.memory_reservation {
        r.memory_reservation = Some(v);
    }
    if let Some(n) = new.nano_cpus {
        r.nano_cpus = Some(n);
    }
    if let Some(v) = new.cpu_shares {
        r.cpu_shares = Some(v);
    }
    if let Some(v) = new.cpu_period {
        r.cpu_period = Some(v);
    }
    if let Some(v) = new.cpu_quota {
        r.cpu_quota = Some(v);
    }
    if let Some(v) = &new.cpuset_cpus {
        r.cpuset_cpus = Some(v.clone());
    }
    if let Some(v) = &new.cpuset_mems {
        r.cpuset_mems = Some(v.clone());
    }
    if let Some(v) = new.blkio_weight {
        r.blkio_weight = Some(v);
    }
    if let Some(v) = new.cpu_rt_period {
        r.cpu_rt_period = Some(v);
    }
    if let Some(v) = new.cpu_rt_runtime {
        r.cpu_rt_runtime = Some(v);
    }
    if let Some(v) = new.pids_limit {
        // Zero is no limit set by `update`, which Docker's inspect shows as 0 (a create's
        // -1 is its null).
        r.pids_limit = Some(v.max(0));
        r.pids_limit_defaulted = false;
    }
    Ok(r)
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
        let resources = if opts.changes_no_limit() {
            None
        } else {
            let mut r = merged(&record.config.resources, &opts.resources)?;
            limits::check(&mut r, &HostLimits::detect(), true)?;
            super::runtime::cgroups::check_rt_budget(&r, Some(record.id.as_str()))?;
            Some(r)
        };
        if let Some(resources) = &resources {
            if record.state.status == Status::Running {
                // The kernel refuses a memory limit below what the container uses now;
                // the record then stays as it was (values written before stay, as
                // with Docker's).
                Cgroup::of(&record).update(resources).map_err(|e| {
                    Error::Runtime(format!("Cannot update container {}: {e}", record.id))
                })?;
            }
        }
        let updated = update_record(self, &record.id, |r| {
            if let Some(policy) = opts.restart_policy {
                r.config.restart_policy = policy;
            }
            if let Some(resources) = &resources {
                r.config.resources = resources.clone();
            }
        })?;
        self.record_event(&container_event(&updated, "update"));
        Ok(updated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_alone_may_not_pass_the_swap_already_set() {
        let old = Resources {
            memory: Some(64 << 20),
            memory_swap: Some(128 << 20),
            ..Default::default()
        };
        let bigger = Resources {
            memory: Some(256 << 20),
            ..Default::default()
        };
        assert!(merged(&old, &bigger).is_err());
        let with_swap = Resources {
            memory: Some(256 << 20),
            memory_swap: Some(-1),
            ..Default::default()
        };
        let r = merged(&old, &with_swap).unwrap();
        assert_eq!((r.memory, r.memory_swap), (Some(256 << 20), Some(-1)));
        let unlimited_pids = Resources {
            pids_limit: Some(-1),
            ..Default::default()
        };
        assert_eq!(merged(&old, &unlimited_pids).unwrap().pids_limit, Some(0));
    }
}
