//! The persistent record of one container: its configuration and its last known state.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::health::{Health, HealthConfig};
use super::logs::LogConfig;
use super::restart::RestartPolicy;
use crate::ids::{ContainerId, Digest};
use crate::network::ports::{ExposedPort, PortMapping, PortSpec};
use crate::storage::mounts::MountSpec;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub id: ContainerId,
    pub name: String,
    pub created: DateTime<Utc>,
    /// The image as the user named it.
    pub image: String,
    pub image_id: Digest,
    /// The image's layers, bottom first: the overlay lowerdirs, fixed at create time.
    pub chain_ids: Vec<Digest>,
    pub config: ContainerConfig,
    pub state: ContainerState,
}

/// The container's configuration after merging the image's defaults with the user's flags.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContainerConfig {
    /// The process to run: entrypoint followed by cmd.
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    pub user: String,
    pub hostname: String,
    pub tty: bool,
    pub open_stdin: bool,
    pub auto_remove: bool,
    pub read_only: bool,
    pub resources: Resources,
    /// `--oom-score-adj`: the OOM killer's bias for the container's processes, -1000 to
    /// 1000 (Docker's HostConfig.OomScoreAdj).
    #[serde(default)]
    pub oom_score_adj: i32,
    pub labels: BTreeMap<String, String>,
    /// Volumes, binds and tmpfs mounts, in the order they are mounted (parents first).
    #[serde(default)]
    pub mounts: Vec<MountSpec>,
    /// `--log-opt`: rotation of the container's log.
    #[serde(default)]
    pub log: LogConfig,
    /// How it is networked. Records from before networking have none: loopback only.
    #[serde(default)]
    pub network: NetworkConfig,
    /// The ports it listens on (Docker's Config.ExposedPorts), published or not.
    #[serde(default)]
    pub exposed_ports: Vec<ExposedPort>,
    // Restarting and stopping (`--restart`, `--stop-signal`, `--stop-timeout`).
    /// `--restart`: what the monitor does when the process exits (Docker's
    /// HostConfig.RestartPolicy).
    #[serde(default)]
    pub restart_policy: RestartPolicy,
    /// The signal `stop` sends first, as given (`--stop-signal`, else the image's
    /// StopSignal); None is SIGTERM. Checked at create.
    #[serde(default)]
    pub stop_signal: Option<String>,
    /// Seconds `stop` waits before SIGKILL (`--stop-timeout`); None is 10, a negative
    /// value waits for good.
    #[serde(default)]
    pub stop_timeout: Option<i32>,
    /// Security and device options: capabilities, `--privileged`, devices, `--init`,
    /// ulimits, /dev/shm, sysctls, `--security-opt`, `--group-add`.
    #[serde(default)]
    pub security: super::security::SecurityConfig,
    // Health checks.
    /// The image's HEALTHCHECK merged with `--health-*` / `--no-healthcheck` (Docker's
    /// Config.Healthcheck); None when neither gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthConfig>,
    /// `--pid`, `--ipc`, `--uts`, `--userns`, `--cgroupns`.
    #[serde(default)]
    pub namespaces: super::namespaces::Namespaces,
    /// `--domainname`: the NIS domain name in its UTS namespace (Docker's
    /// Config.Domainname).
    #[serde(default)]
    pub domainname: String,
    /// `--link NAME:ALIAS` (legacy), as Docker's HostConfig.Links shows them:
    /// (the linked container's name, the alias). Its address is in the hosts file.
    #[serde(default)]
    pub links: Vec<(String, String)>,
    // `--annotation`, `--runtime`, `--volume-driver`.
    /// `--annotation KEY=VALUE`: the OCI config's annotations (HostConfig.Annotations).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// `--runtime` as given (HostConfig.Runtime); None is Docker's default, `runc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// `--volume-driver` as given (HostConfig.VolumeDriver): only `local` is taken.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub volume_driver: String,
    /// The streams the client that made it attached (Docker's Config.AttachStdin,
    /// AttachStdout, AttachStderr); None in records from before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<AttachStreams>,
}

/// Which of stdin, stdout and stderr a client attaches: `create` and `run` stdout and
/// stderr (stdin with `-i`), `run -a` those named, `run -d` none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachStreams {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

impl AttachStreams {
    /// Docker's for `create` (and `run` without `-a`): stdout and stderr, stdin with `-i`.
    pub fn created(open_stdin: bool) -> AttachStreams {
        AttachStreams {
            stdin: open_stdin,
            stdout: true,
            stderr: true,
        }
    }
}

/// Which network namespace the container gets.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// A namespace of its own with loopback only (`--network none`).
    #[default]
    None,
    /// The host's namespace (`--network host`).
    Host,
    /// A namespace of its own with an interface on each network it is connected to (its
    /// endpoints, kept in the network records).
    Connected,
}

/// The container's networking, as asked for at create.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NetworkConfig {
    pub mode: NetworkMode,
    /// The network named at create (`bridge`, `host`, `none` or a user's): Docker's
    /// HostConfig.NetworkMode.
    #[serde(default)]
    pub name: String,
    /// `-p` and `-P`: bound at each start (free host ports are picked then).
    #[serde(default)]
    pub ports: Vec<PortSpec>,
    /// `--dns`: the container's resolvers instead of the host's.
    #[serde(default)]
    pub dns: Vec<std::net::Ipv4Addr>,
    /// `--add-host NAME:IP` lines for /etc/hosts.
    #[serde(default)]
    pub extra_hosts: Vec<(String, std::net::Ipv4Addr)>,
    /// `--dns-search`: resolv.conf's search domains instead of the host's (`.` alone:
    /// none); Docker's HostConfig.DnsSearch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_search: Vec<String>,
    /// `--dns-option`: resolv.conf's options instead of the host's (HostConfig.DnsOptions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_options: Vec<String>,
    /// `--mac-address`: the MAC asked for on the network joined at create (Docker's
    /// Config.MacAddress; the endpoint carries it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<crate::network::mac::MacAddress>,
}

impl ContainerConfig {
    pub fn args(&self) -> Vec<String> {
        self.entrypoint.iter().chain(&self.cmd).cloned().collect()
    }

    /// Whether nothing of the container need outlive a crash of the host: a `--rm`
    /// container, or a build step's (a killed build's steps run again; what a step made
    /// is made durable by the build itself once kept, see `Engine::sync_store`).
    pub(crate) fn is_throwaway(&self) -> bool {
        self.auto_remove || self.labels.contains_key(crate::build::BUILD_LABEL)
    }
}

/// The container's cgroup limits, in Docker's HostConfig terms. Checked and completed by
/// [`super::limits::check`] before they are kept.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Resources {
    /// Memory limit in bytes.
    pub memory: Option<i64>,
    /// CPU quota in billionths of a CPU, as Docker's `NanoCpus`.
    pub nano_cpus: Option<i64>,
    /// Processes the container may have at once; None for no limit.
    pub pids_limit: Option<i64>,
    /// Memory plus swap in bytes (Docker's MemorySwap): -1 is unlimited swap; None with a
    /// memory limit (records from before it) is Docker's default, twice the memory.
    pub memory_swap: Option<i64>,
    /// Soft limit in bytes (`--memory-reservation`).
    pub memory_reservation: Option<i64>,
    /// `--oom-kill-disable`.
    pub oom_kill_disable: bool,
    /// Relative CPU weight (`--cpu-shares`, v1's cpu.shares).
    pub cpu_shares: Option<i64>,
    /// CFS period and quota in microseconds (`--cpu-period`, `--cpu-quota`).
    pub cpu_period: Option<i64>,
    pub cpu_quota: Option<i64>,
    /// CPUs and memory nodes the container may use (`--cpuset-cpus 0-1,3`).
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    /// Relative block I/O weight, 10 to 1000 (`--blkio-weight`).
    pub blkio_weight: Option<u16>,
    // Per-device block I/O, real-time CPU, swappiness and the parent cgroup.
    /// `--blkio-weight-device`: weights of single devices.
    pub blkio_weight_device: Vec<super::blkio::WeightDevice>,
    /// `--device-read-bps`, `--device-write-bps`: bytes per second of single devices.
    pub blkio_device_read_bps: Vec<super::blkio::ThrottleDevice>,
    pub blkio_device_write_bps: Vec<super::blkio::ThrottleDevice>,
    /// `--device-read-iops`, `--device-write-iops`: I/O operations per second.
    pub blkio_device_read_iops: Vec<super::blkio::ThrottleDevice>,
    pub blkio_device_write_iops: Vec<super::blkio::ThrottleDevice>,
    /// Real-time CPU period and runtime in microseconds (`--cpu-rt-period`,
    /// `--cpu-rt-runtime`; v1's cpu.rt_period_us and cpu.rt_runtime_us).
    pub cpu_rt_period: Option<i64>,
    pub cpu_rt_runtime: Option<i64>,
    /// `--memory-swappiness`, 0 to 100; None leaves the kernel's (Docker's null).
    pub memory_swappiness: Option<i64>,
    /// `--cgroup-parent`; None is `berth`. Fixed at create (`update` keeps it).
    pub cgroup_parent: Option<super::cgroup_parent::CgroupParent>,
    /// `pids_limit` is berth's default (or the settings'), not asked for with
    /// `--pids-limit`: applied all the same, but inspect shows Docker's unset value.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pids_limit_defaulted: bool,
}

/// The pids limit a container gets when none is asked for, as podman's: without one, a
/// fork bomb in a container takes every PID of the host.
pub(crate) const DEFAULT_PIDS_LIMIT: i64 = 2048;

impl Resources {
    /// The throttles of one kind (`--device-read-bps`...).
    pub fn throttles(&self, which: super::blkio::Throttle) -> &[super::blkio::ThrottleDevice] {
        use super::blkio::Throttle;
        match which {
            Throttle::ReadBps => &self.blkio_device_read_bps,
            Throttle::WriteBps => &self.blkio_device_write_bps,
            Throttle::ReadIops => &self.blkio_device_read_iops,
            Throttle::WriteIops => &self.blkio_device_write_iops,
        }
    }

    fn throttles_mut(
        &mut self,
        which: super::blkio::Throttle,
    ) -> &mut Vec<super::blkio::ThrottleDevice> {
        use super::blkio::Throttle;
        match which {
            Throttle::ReadBps => &mut self.blkio_device_read_bps,
            Throttle::WriteBps => &mut self.blkio_device_write_bps,
            Throttle::ReadIops => &mut self.blkio_device_read_iops,
            Throttle::WriteIops => &mut self.blkio_device_write_iops,
        }
    }

    /// Drops the throttles of one kind (what this host can't apply).
    pub(crate) fn clear_throttles(&mut self, which: super::blkio::Throttle) {
        self.throttles_mut(which).clear();
    }

    /// The container's cgroup path below every hierarchy's root: `<parent>/<id>`.
    pub fn cgroup_path(&self, id: &str) -> String {
        super::cgroup_parent::container_path(self.cgroup_parent.as_ref(), id)
    }

    /// The pids limit Docker's way: the flag's, else the settings' (`pids-limit`), else
    /// `DEFAULT_PIDS_LIMIT`; zero or less (`--pids-limit -1`) is no limit.
    pub fn pids_limit_from(flag: Option<i64>, configured: Option<i64>) -> Option<i64> {
        Some(flag.or(configured).unwrap_or(DEFAULT_PIDS_LIMIT)).filter(|l| *l > 0)
    }

    /// The pids limit the user asked for, as Docker's HostConfig.PidsLimit shows it: None
    /// for berth's default and for no limit at create, 0 for no limit set by `update`.
    pub fn pids_limit_asked(&self) -> Option<i64> {
        self.pids_limit.filter(|_| !self.pids_limit_defaulted)
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Created,
    Running,
    Exited,
    /// Between two runs of a restart policy: its process exited and the monitor waits
    /// out the backoff before starting it again (Docker's State.Restarting).
    Restarting,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Exited => "exited",
            Status::Restarting => "restarting",
        }
    }
}

/// A process identified by PID and its start time, so a reused PID is never mistaken for it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProcessHandle {
    pub pid: i32,
    pub start_time: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContainerState {
    pub status: Status,
    /// The container's init process, while running.
    pub init: Option<ProcessHandle>,
    /// The monitor supervising the container, while running.
    pub monitor: Option<ProcessHandle>,
    pub exit_code: Option<i32>,
    pub oom_killed: bool,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why the last start failed or the monitor was lost.
    pub error: Option<String>,
    pub restart_count: u32,
    /// The published ports as bound at the last start, while running.
    #[serde(default)]
    pub ports: Vec<PortMapping>,
    /// Set by `restart` before it stops a `--rm` container: the monitor then keeps the
    /// container for the start that follows (Docker's HasBeenManuallyRestarted).
    #[serde(default)]
    pub restarting: bool,
    /// Running but frozen (`pause`); the status stays running, as Docker's.
    #[serde(default)]
    pub paused: bool,
    /// The user stopped or killed it (Docker's HasBeenManuallyStopped): `unless-stopped`
    /// then stays down, also at `system boot`. Cleared by the user's next start.
    #[serde(default)]
    pub manually_stopped: bool,
    /// The user's `stop` or `kill` ended the restart loop (Docker cancels its restart
    /// manager): the next exit is final whatever the policy. Cleared at the next start.
    #[serde(default)]
    pub restart_cancelled: bool,
    /// Docker's State.Health: set at each start of a container with a check, updated by
    /// its probes (see `health`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
}

impl ContainerState {
    /// The state as Docker names it: `paused` for a paused running container, else the
    /// status.
    pub fn name(&self) -> &'static str {
        if self.is_paused() {
            "paused"
        } else {
            self.status.as_str()
        }
    }

    pub fn is_paused(&self) -> bool {
        self.paused && self.status == Status::Running
    }
}
