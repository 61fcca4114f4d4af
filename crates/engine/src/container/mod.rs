//! Containers: records, lifecycle, the runtime that builds their isolation, and the
//! monitor process that supervises each one.

pub mod attach;
pub mod blkio;
mod boot;
pub mod cgroup_parent;
mod clients;
pub mod devices;
mod early_mount;
pub(crate) mod etc_targets;
pub mod exec;
mod exec_request;
pub mod frames;
pub mod health;
mod inspect;
pub mod lifecycle;
pub mod limits;
pub mod logs;
pub mod monitor;
pub mod namespaces;
mod pause;
pub mod record;
mod remove;
pub mod restart;
pub mod runtime;
pub mod seccomp;
mod seccomp_cache;
pub mod security;
pub(crate) mod spare_dir;
mod spare_netns;
pub mod spec;
pub mod stats;
pub(crate) mod store;
pub(crate) mod teardown;
pub mod update;
pub mod user;

pub use health::{
    go_duration, parse_go_duration, Health, HealthConfig, HealthResult, HealthStatus,
};
pub use inspect::ContainerDetails;
pub use lifecycle::{CreateOptions, MonitorAhead, Started};
pub use record::{
    AttachStreams, ContainerConfig, ContainerRecord, ContainerState, Resources, Status,
};
pub use restart::{RestartMode, RestartPolicy};
pub use update::UpdateOptions;
