//! Container verbs: create, run, start, stop, kill, restart, rm, ps, logs, exec, wait, inspect.
// The doc comments of the flag structs here are clap's --help text, printed as written:
// `[:TAG]` in them is Docker's usage, not an intra-doc link.
#![allow(rustdoc::broken_intra_doc_links)]

use std::path::PathBuf;

use std::time::Duration;

use clap::Args;
use color_eyre::eyre::eyre;
use color_eyre::Result;

use super::attach::{attach, DetachSequence};
use super::output::{print_inspect, report};
pub use super::ps::{ps, PsArgs};
use super::pull_progress::Out;
use crate::engine::{
    parse_exposed, parse_ip, parse_publish, parse_signal, CreateOptions, Engine, Error, MountSpec,
    Reference, Resources, Status,
};
use crate::ops::inspect;
use crate::ops::ports::{port_lines, port_lines_for};
use crate::ops::resolve::{self, Named, Outcome};
use crate::ops::run_options;
use crate::ops::status;
use crate::settings::Settings;

/// When `run` and `create` pull their image, as Docker's `--pull`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PullPolicy {
    /// Pull every time (a no-op when the registry has nothing newer)
    Always,
    /// Pull only if the image is not here
    Missing,
    /// Never pull: an image not here is an error
    Never,
}

/// The topics `run --help` and `create --help` group their options under, after
/// Docker's `docker run` reference. Every option of theirs names one (`help_heading`);
/// the order of the headings is that of their first option in the structs below.
pub mod heading {
    pub const RUNNING: &str = "Running and attaching";
    pub const NAMING: &str = "Naming and metadata";
    pub const PROCESS: &str = "Command, environment and user";
    pub const NETWORK: &str = "Networking";
    pub const RESOURCES: &str = "Resources (CPU, memory, block IO, pids)";
    pub const SECURITY: &str = "Security and devices";
    pub const NAMESPACES: &str = "Namespaces and kernel parameters";
    pub const STORAGE: &str = "Storage and mounts";
    pub const LOGGING: &str = "Logging";
    pub const LIFECYCLE: &str = "Restart, stop and health";
    pub const IMAGE: &str = "Image and platform";
}

/// Flags shared by `create` and `run`.
#[derive(Debug, Args, Clone)]
pub struct ContainerFlags {
    // First, so that the running heading comes first in `create --help` too.
    /// Keep STDIN open even if not attached
    #[arg(short, long, help_heading = heading::RUNNING)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long, help_heading = heading::RUNNING)]
    pub tty: bool,
    /// Automatically remove the container when it exits
    #[arg(long, help_heading = heading::RUNNING)]
    pub rm: bool,
    /// Assign a name to the container
    #[arg(long, help_heading = heading::NAMING)]
    pub name: Option<String>,
    /// Set environment variables (KEY=VALUE, or KEY to take it from this environment)
    #[arg(short, long = "env", value_name = "KEY[=VALUE]", help_heading = heading::PROCESS)]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file", value_name = "FILE", help_heading = heading::PROCESS)]
    pub env_file: Vec<PathBuf>,
    /// Working directory inside the container
    #[arg(short, long = "workdir", value_name = "DIR", help_heading = heading::PROCESS)]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short, long, help_heading = heading::PROCESS)]
    pub user: Option<String>,
    /// Container host name
    #[arg(short = 'h', long, value_name = "NAME", help_heading = heading::NETWORK)]
    pub hostname: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long, value_name = "COMMAND", help_heading = heading::PROCESS)]
    pub entrypoint: Option<String>,
    // Resource limits (also `update`'s).
    #[command(flatten)]
    pub limits: LimitFlags,
    /// Disable OOM Killer
    #[arg(long = "oom-kill-disable", help_heading = heading::RESOURCES)]
    pub oom_kill_disable: bool,
    // ---- resource options of run and create alone ----
    /// Block IO weight (relative device weight): DEVICE:WEIGHT, 10 to 1000
    #[arg(long = "blkio-weight-device", help_heading = heading::RESOURCES, value_name = "DEVICE:WEIGHT")]
    pub blkio_weight_device: Vec<String>,
    /// Limit read rate (bytes per second) from a device: DEVICE:RATE (e.g. /dev/sda:1mb)
    #[arg(long = "device-read-bps", help_heading = heading::RESOURCES, value_name = "DEVICE:RATE")]
    pub device_read_bps: Vec<String>,
    /// Limit write rate (bytes per second) to a device: DEVICE:RATE (e.g. /dev/sda:1mb)
    #[arg(long = "device-write-bps", help_heading = heading::RESOURCES, value_name = "DEVICE:RATE")]
    pub device_write_bps: Vec<String>,
    /// Limit read rate (IO per second) from a device: DEVICE:RATE
    #[arg(long = "device-read-iops", help_heading = heading::RESOURCES, value_name = "DEVICE:RATE")]
    pub device_read_iops: Vec<String>,
    /// Limit write rate (IO per second) to a device: DEVICE:RATE
    #[arg(long = "device-write-iops", help_heading = heading::RESOURCES, value_name = "DEVICE:RATE")]
    pub device_write_iops: Vec<String>,
    /// Optional parent cgroup for the container (a path from the root of each cgroup
    /// hierarchy; default berth)
    #[arg(long = "cgroup-parent", help_heading = heading::RESOURCES, value_name = "PATH")]
    pub cgroup_parent: Option<String>,
    /// Tune container memory swappiness (0 to 100; -1 leaves the kernel's)
    #[arg(
        long = "memory-swappiness", help_heading = heading::RESOURCES,
        value_name = "N",
        allow_hyphen_values = true
    )]
    pub memory_swappiness: Option<i64>,
    /// Kernel memory limit (deprecated: accepted and ignored, with a warning)
    #[arg(long = "kernel-memory", help_heading = heading::RESOURCES, value_name = "BYTES")]
    pub kernel_memory: Option<String>,
    /// Tune host's OOM preferences for the container's processes (-1000 to 1000)
    #[arg(long = "oom-score-adj", help_heading = heading::RESOURCES, value_name = "N", allow_hyphen_values = true)]
    pub oom_score_adj: Option<i64>,
    // ---- end of resource options of run and create alone ----
    // Metadata, IDs and names.
    /// Read in a line delimited file of labels
    #[arg(long = "label-file", value_name = "FILE", help_heading = heading::NAMING)]
    pub label_file: Vec<PathBuf>,
    /// Write the container ID to the file (which must not exist)
    #[arg(long, value_name = "FILE", help_heading = heading::NAMING)]
    pub cidfile: Option<PathBuf>,
    /// Container NIS domain name
    #[arg(long, value_name = "NAME", help_heading = heading::NETWORK)]
    pub domainname: Option<String>,
    /// Add link to another container (legacy: its address in /etc/hosts)
    #[arg(long, value_name = "NAME[:ALIAS]", help_heading = heading::NETWORK)]
    pub link: Vec<String>,
    // Refused clearly: IPv6, other isolation, GPUs.
    /// IPv6 address (refused: berth's networks are IPv4 only)
    #[arg(long, value_name = "ADDRESS", help_heading = heading::NETWORK)]
    pub ip6: Option<String>,
    /// Container isolation technology (only "default": Linux has no other)
    #[arg(long, value_name = "MODE", help_heading = heading::SECURITY)]
    pub isolation: Option<String>,
    /// GPU devices to add (refused: berth has no GPU support)
    #[arg(long, value_name = "GPUS", help_heading = heading::SECURITY)]
    pub gpus: Option<String>,
    // Namespaces.
    /// PID namespace to use: host, or container:NAME
    #[arg(long, value_name = "MODE", help_heading = heading::NAMESPACES)]
    pub pid: Option<String>,
    /// IPC mode to use: private (default), shareable, host, or container:NAME
    #[arg(long, value_name = "MODE", help_heading = heading::NAMESPACES)]
    pub ipc: Option<String>,
    /// UTS namespace to use: host
    #[arg(long, value_name = "MODE", help_heading = heading::NAMESPACES)]
    pub uts: Option<String>,
    /// User namespace to use: host (berth has no user namespace remapping)
    #[arg(long, value_name = "MODE", help_heading = heading::NAMESPACES)]
    pub userns: Option<String>,
    /// Cgroup namespace to use: private (default) or host
    #[arg(long, value_name = "MODE", help_heading = heading::NAMESPACES)]
    pub cgroupns: Option<String>,
    /// Mount the container's root filesystem as read only
    #[arg(long = "read-only", help_heading = heading::STORAGE)]
    pub read_only: bool,
    /// Set metadata on the container
    #[arg(short, long = "label", value_name = "KEY=VALUE", help_heading = heading::NAMING)]
    pub label: Vec<String>,
    /// Bind mount a volume: NAME:/path[:ro], /host/path:/path[:ro], or /path (anonymous)
    #[arg(short, long = "volume", help_heading = heading::STORAGE)]
    pub volume: Vec<String>,
    /// Attach a mount: type=volume|bind|tmpfs,source=...,target=...[,readonly]
    #[arg(long = "mount", help_heading = heading::STORAGE)]
    pub mount: Vec<String>,
    /// Mount a tmpfs (e.g. /run:size=64m,mode=1777; noexec,nosuid,nodev unless exec, suid, dev)
    #[arg(long = "tmpfs", value_name = "PATH[:OPTIONS]", help_heading = heading::STORAGE)]
    pub tmpfs: Vec<String>,
    /// Mount the volumes and binds of another container
    #[arg(long = "volumes-from", value_name = "CONTAINER[:ro|:rw]", help_heading = heading::STORAGE)]
    pub volumes_from: Vec<String>,
    /// Log driver options: max-size=SIZE (rotate past it), max-file=N (files kept)
    #[arg(long = "log-opt", value_name = "OPTION", help_heading = heading::LOGGING)]
    pub log_opt: Vec<String>,
    /// Connect the container to a network (bridge, host, none or a network's name)
    #[arg(long, visible_alias = "net", help_heading = heading::NETWORK)]
    pub network: Option<String>,
    /// IPv4 address on that network (e.g. 172.30.100.104)
    #[arg(long, help_heading = heading::NETWORK)]
    pub ip: Option<String>,
    /// Add a network-scoped alias for the container
    #[arg(long = "network-alias", visible_alias = "net-alias", value_name = "ALIAS", help_heading = heading::NETWORK)]
    pub network_alias: Vec<String>,
    /// Publish a container's port(s) to the host: [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]
    #[arg(short, long, value_name = "PORTS", help_heading = heading::NETWORK)]
    pub publish: Vec<String>,
    /// Publish all exposed ports to free host ports
    #[arg(short = 'P', long = "publish-all", help_heading = heading::NETWORK)]
    pub publish_all: bool,
    /// Expose a port or a range of ports (PORT[-PORT][/PROTO]), published by -P
    #[arg(long, value_name = "PORTS", help_heading = heading::NETWORK)]
    pub expose: Vec<String>,
    /// Set custom DNS servers (IPv4)
    #[arg(long, value_name = "IP", help_heading = heading::NETWORK)]
    pub dns: Vec<String>,
    /// Add a custom host-to-IP mapping
    #[arg(long = "add-host", value_name = "HOST:IP", help_heading = heading::NETWORK)]
    pub add_host: Vec<String>,
    // ---- network, log and runtime options ----
    /// Set custom DNS search domains ("." for none)
    #[arg(long = "dns-search", help_heading = heading::NETWORK, value_name = "DOMAIN")]
    pub dns_search: Vec<String>,
    /// Set DNS options (e.g. ndots:2, edns0)
    #[arg(long = "dns-option", help_heading = heading::NETWORK, value_name = "OPTION")]
    pub dns_option: Vec<String>,
    /// Container MAC address (e.g. 92:d0:c6:0a:29:33), on a bridge or macvlan network
    #[arg(long = "mac-address", help_heading = heading::NETWORK, value_name = "MAC")]
    pub mac_address: Option<String>,
    /// Container IPv4 link-local address (e.g. 169.254.1.1), added to its interface
    #[arg(long = "link-local-ip", help_heading = heading::NETWORK, value_name = "IP")]
    pub link_local_ip: Vec<String>,
    /// Add an annotation to the container (passed through to the OCI runtime)
    #[arg(long = "annotation", help_heading = heading::NAMING, value_name = "KEY=VALUE")]
    pub annotation: Vec<String>,
    /// Logging driver for the container: json-file (default), local, or none (no logs kept)
    #[arg(long = "log-driver", help_heading = heading::LOGGING, value_name = "DRIVER")]
    pub log_driver: Option<String>,
    /// Runtime to use for this container (berth's own, named runc or berth)
    #[arg(long = "runtime", help_heading = heading::IMAGE, value_name = "RUNTIME")]
    pub runtime: Option<String>,
    /// Storage driver options (refused: berth sets no size quota on the writable layer)
    #[arg(long = "storage-opt", help_heading = heading::STORAGE, value_name = "KEY=VALUE")]
    pub storage_opt: Vec<String>,
    /// Optional volume driver for the container (only local)
    #[arg(long = "volume-driver", help_heading = heading::STORAGE, value_name = "DRIVER")]
    pub volume_driver: Option<String>,
    /// Skip image verification (default true: berth does no content trust)
    #[arg(long = "disable-content-trust", help_heading = heading::IMAGE, value_name = "BOOL", default_value_t = true, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub disable_content_trust: bool,
    /// Bind mount Docker API socket and required auth (refused: berth has no API socket yet)
    #[arg(long = "use-api-socket", help_heading = heading::SECURITY)]
    pub use_api_socket: bool,
    // Windows-only in Docker: listed, as in Docker's own help, and refused.
    /// CPU count (Windows only: refused on Linux)
    #[arg(
        long = "cpu-count", help_heading = heading::RESOURCES,
        value_name = "N",
        allow_hyphen_values = true)]
    pub cpu_count: Option<i64>,
    /// CPU percent (Windows only: refused on Linux)
    #[arg(
        long = "cpu-percent", help_heading = heading::RESOURCES,
        value_name = "N",
        allow_hyphen_values = true)]
    pub cpu_percent: Option<i64>,
    /// Maximum IO bandwidth limit for the system drive (Windows only: refused on Linux)
    #[arg(long = "io-maxbandwidth", help_heading = heading::RESOURCES, value_name = "BYTES")]
    pub io_maxbandwidth: Option<String>,
    /// Maximum IOps limit for the system drive (Windows only: refused on Linux)
    #[arg(long = "io-maxiops", help_heading = heading::RESOURCES, value_name = "N")]
    pub io_maxiops: Option<u64>,
    // ---- end of network, log and runtime options ----
    // Restarting and stopping.
    /// Restart policy to apply when a container exits: no, on-failure[:max-retries],
    /// always, unless-stopped
    #[arg(long, value_name = "POLICY", help_heading = heading::LIFECYCLE)]
    pub restart: Option<String>,
    /// Signal to stop the container (default SIGTERM, or the image's STOPSIGNAL)
    #[arg(long = "stop-signal", value_name = "SIGNAL", help_heading = heading::LIFECYCLE)]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container (default 10; -1 waits for good)
    #[arg(
        long = "stop-timeout",
        value_name = "SECONDS",
        allow_hyphen_values = true,
        help_heading = heading::LIFECYCLE,
    )]
    pub stop_timeout: Option<i32>,
    // ---- security and device options ----
    /// Add Linux capabilities (NET_ADMIN, CAP_SYS_TIME... or ALL)
    #[arg(long = "cap-add", value_name = "CAP", help_heading = heading::SECURITY)]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities (or ALL)
    #[arg(long = "cap-drop", value_name = "CAP", help_heading = heading::SECURITY)]
    pub cap_drop: Vec<String>,
    /// Give extended privileges: all capabilities and host devices, no seccomp, no masked paths, /sys rw (root in it is root on the host)
    #[arg(long, help_heading = heading::SECURITY)]
    pub privileged: bool,
    /// Add a host device to the container (e.g. /dev/fuse, /dev/sdb:/dev/xvdb:r)
    #[arg(long, value_name = "HOST[:CONTAINER[:rwm]]", help_heading = heading::SECURITY)]
    pub device: Vec<String>,
    /// Add a rule to the cgroup allowed devices list ('c 42:* rmw')
    #[arg(long = "device-cgroup-rule", value_name = "RULE", help_heading = heading::SECURITY)]
    pub device_cgroup_rule: Vec<String>,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long, help_heading = heading::RUNNING)]
    pub init: bool,
    /// Ulimit options (e.g. nofile=1024:2048; above the host's hard limit it is lowered to it)
    #[arg(long, allow_hyphen_values = true, value_name = "NAME=SOFT[:HARD]", help_heading = heading::RESOURCES)]
    pub ulimit: Vec<String>,
    /// Size of /dev/shm (e.g. 256m; 64m when not set)
    #[arg(long = "shm-size", value_name = "BYTES", help_heading = heading::STORAGE)]
    pub shm_size: Option<String>,
    /// Sysctl options, namespaced ones only: net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*
    #[arg(long, value_name = "KEY=VALUE", help_heading = heading::NAMESPACES)]
    pub sysctl: Vec<String>,
    /// Security options: no-new-privileges, seccomp=unconfined|PROFILE.json, label=disable, apparmor=unconfined
    #[arg(long = "security-opt", value_name = "OPTION", help_heading = heading::SECURITY)]
    pub security_opt: Vec<String>,
    /// Add additional groups to join (names or GIDs)
    #[arg(long = "group-add", value_name = "GROUP", help_heading = heading::PROCESS)]
    pub group_add: Vec<String>,
    // ---- end of security and device options ----
    // Health checks.
    /// Command to run to check health
    #[arg(long = "health-cmd", value_name = "COMMAND", help_heading = heading::LIFECYCLE)]
    pub health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h) (default 30s)
    #[arg(
        long = "health-interval",
        value_name = "DURATION",
        allow_hyphen_values = true,
        help_heading = heading::LIFECYCLE,
    )]
    pub health_interval: Option<String>,
    /// Consecutive failures needed to report unhealthy (default 3)
    #[arg(long = "health-retries", value_name = "N", allow_hyphen_values = true, help_heading = heading::LIFECYCLE)]
    pub health_retries: Option<i64>,
    /// Maximum time to allow one check to run (ms|s|m|h) (default 30s)
    #[arg(
        long = "health-timeout",
        value_name = "DURATION",
        allow_hyphen_values = true,
        help_heading = heading::LIFECYCLE,
    )]
    pub health_timeout: Option<String>,
    /// Start period for the container to initialize before starting health-retries
    /// countdown (ms|s|m|h) (default 0s)
    #[arg(
        long = "health-start-period",
        value_name = "DURATION",
        allow_hyphen_values = true,
        help_heading = heading::LIFECYCLE,
    )]
    pub health_start_period: Option<String>,
    /// Time between running the check during the start period (ms|s|m|h) (default 5s)
    #[arg(
        long = "health-start-interval",
        value_name = "DURATION",
        allow_hyphen_values = true,
        help_heading = heading::LIFECYCLE,
    )]
    pub health_start_interval: Option<String>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long = "no-healthcheck", help_heading = heading::LIFECYCLE)]
    pub no_healthcheck: bool,
    /// Pull image before running ("always", "missing", "never")
    // The values are named above: listed with their help they would turn all of `run
    // --help` into clap's long layout, a blank line after every option.
    #[arg(long, value_enum, default_value_t = PullPolicy::Missing, hide_possible_values = true, help_heading = heading::IMAGE)]
    pub pull: PullPolicy,
    /// Set platform if the image is multi-platform (os/arch[/variant])
    #[arg(long, value_name = "OS/ARCH", help_heading = heading::IMAGE)]
    pub platform: Option<String>,
    /// Suppress the pull output
    #[arg(short, long, help_heading = heading::IMAGE)]
    pub quiet: bool,
    /// The image to run
    pub image: String,
    /// The command and its arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// Resource limits, as `run`, `create` and `update` take them.
#[derive(Debug, Args, Clone, Default)]
pub struct LimitFlags {
    /// Memory limit (e.g. 64m, 1g)
    #[arg(short, long, value_name = "BYTES", help_heading = heading::RESOURCES)]
    pub memory: Option<String>,
    /// Swap limit equal to memory plus swap: -1 to enable unlimited swap
    #[arg(long = "memory-swap", allow_hyphen_values = true, value_name = "BYTES", help_heading = heading::RESOURCES)]
    pub memory_swap: Option<String>,
    /// Memory soft limit
    #[arg(long = "memory-reservation", value_name = "BYTES", help_heading = heading::RESOURCES)]
    pub memory_reservation: Option<String>,
    /// Number of CPUs (e.g. 0.5)
    #[arg(long, value_name = "N", help_heading = heading::RESOURCES)]
    pub cpus: Option<String>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long = "cpu-shares", allow_hyphen_values = true, value_name = "SHARES", help_heading = heading::RESOURCES)]
    pub cpu_shares: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) period
    #[arg(long = "cpu-period", value_name = "MICROSECONDS", help_heading = heading::RESOURCES)]
    pub cpu_period: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota
    #[arg(long = "cpu-quota", allow_hyphen_values = true, value_name = "MICROSECONDS", help_heading = heading::RESOURCES)]
    pub cpu_quota: Option<i64>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-cpus", value_name = "CPUS", help_heading = heading::RESOURCES)]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-mems", value_name = "NODES", help_heading = heading::RESOURCES)]
    pub cpuset_mems: Option<String>,
    /// Block IO (relative weight), between 10 and 1000, or 0 to disable
    #[arg(long = "blkio-weight", value_name = "WEIGHT", help_heading = heading::RESOURCES)]
    pub blkio_weight: Option<u16>,
    /// Tune container pids limit (-1 for unlimited; 2048 by default)
    #[arg(long = "pids-limit", allow_hyphen_values = true, value_name = "N", help_heading = heading::RESOURCES)]
    pub pids_limit: Option<i64>,
    /// Limit CPU real-time period in microseconds (cgroup v1)
    #[arg(long = "cpu-rt-period", help_heading = heading::RESOURCES, value_name = "MICROSECONDS")]
    pub cpu_rt_period: Option<i64>,
    /// Limit CPU real-time runtime in microseconds (cgroup v1; the parent cgroup must have
    /// a real-time budget)
    #[arg(
        long = "cpu-rt-runtime", help_heading = heading::RESOURCES,
        value_name = "MICROSECONDS",
        allow_hyphen_values = true
    )]
    pub cpu_rt_runtime: Option<i64>,
}

impl LimitFlags {
    /// The limits as given; `pids_limit` is the flag's alone (no default).
    pub fn to_resources(&self, oom_kill_disable: bool) -> crate::engine::Result<Resources> {
        run_options::parse_limits(&run_options::LimitsText {
            memory: self.memory.as_deref(),
            memory_swap: self.memory_swap.as_deref(),
            memory_reservation: self.memory_reservation.as_deref(),
            cpus: self.cpus.as_deref(),
            cpu_shares: self.cpu_shares,
            cpu_period: self.cpu_period,
            cpu_quota: self.cpu_quota,
            cpuset_cpus: self.cpuset_cpus.as_deref(),
            cpuset_mems: self.cpuset_mems.as_deref(),
            blkio_weight: self.blkio_weight,
            pids_limit: self.pids_limit,
            oom_kill_disable,
            cpu_rt_period: self.cpu_rt_period,
            cpu_rt_runtime: self.cpu_rt_runtime,
        })
    }

    pub fn is_empty(&self) -> bool {
        [
            &self.memory,
            &self.memory_swap,
            &self.memory_reservation,
            &self.cpus,
            &self.cpuset_cpus,
            &self.cpuset_mems,
        ]
        .iter()
        .all(|f| f.is_none())
            && [
                self.cpu_shares,
                self.cpu_period,
                self.cpu_quota,
                self.pids_limit,
                self.cpu_rt_period,
                self.cpu_rt_runtime,
            ]
            .iter()
            .all(Option::is_none)
            && self.blkio_weight.is_none()
    }
}

/// `-h` is the hostname, as in Docker; help is `--help` only. `term_width = 0` keeps each
/// option on one line: clap (without its wrapping) would otherwise put the help of a whole
/// heading under its options once one name and help are wider than 100 columns.
#[derive(Debug, Args)]
#[command(disable_help_flag = true, term_width = 0)]
pub struct CreateArgs {
    /// Print help
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    #[command(flatten)]
    pub flags: ContainerFlags,
}

/// `-h` is the hostname, as in Docker; help is `--help` only. `term_width = 0` keeps each
/// option on one line: clap (without its wrapping) would otherwise put the help of a whole
/// heading under its options once one name and help are wider than 100 columns.
#[derive(Debug, Args)]
#[command(disable_help_flag = true, term_width = 0)]
pub struct RunArgs {
    /// Print help
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Run the container in the background and print its ID
    #[arg(short, long, help_heading = heading::RUNNING)]
    pub detach: bool,
    /// Override the key sequence for detaching a container
    #[arg(long, value_name = "KEYS", help_heading = heading::RUNNING)]
    pub detach_keys: Option<DetachSequence>,
    /// Attach to STDIN, STDOUT or STDERR (repeatable; default STDOUT and STDERR)
    #[arg(short = 'a', long = "attach", value_name = "STREAM", help_heading = heading::RUNNING)]
    pub attach: Vec<String>,
    /// Proxy received signals to the process (--sig-proxy=false leaves them to berth)
    #[arg(long, default_value_t = true, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = clap::ArgAction::Set, help_heading = heading::RUNNING)]
    pub sig_proxy: bool,
    #[command(flatten)]
    pub flags: ContainerFlags,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short, long)]
    pub attach: bool,
    /// Attach the container's STDIN
    #[arg(short, long)]
    pub interactive: bool,
    /// Override the key sequence for detaching a container
    #[arg(long, value_name = "KEYS")]
    pub detach_keys: Option<DetachSequence>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait before killing the container (default: the container's
    /// --stop-timeout, else 10)
    #[arg(short, long = "time")]
    pub time: Option<u32>,
    /// Signal to send first (default SIGTERM)
    #[arg(short, long)]
    pub signal: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct KillArgs {
    /// Signal to send to the container
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// `pause` and `unpause`.
#[derive(Debug, Args)]
pub struct PauseArgs {
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short, long)]
    pub force: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short, long)]
    pub volumes: bool,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short, long)]
    pub follow: bool,
    /// Number of lines to show from the end of the logs ("all" or a number)
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Show timestamps
    #[arg(short, long)]
    pub timestamps: bool,
    /// Show logs since a time: RFC 3339 (2013-01-02T13:23:37Z), Unix seconds, or a
    /// duration before now (42m)
    #[arg(long)]
    pub since: Option<String>,
    /// Show logs before a time (same forms as --since)
    #[arg(long)]
    pub until: Option<String>,
    /// Show extra details provided to logs
    #[arg(long)]
    pub details: bool,
    pub container: String,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Keep STDIN open even if not attached
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    pub tty: bool,
    /// Detached mode: run command in the background
    #[arg(short, long)]
    pub detach: bool,
    /// Set environment variables
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long = "workdir")]
    pub workdir: Option<String>,
    pub container: String,
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Return JSON for the given type only: "container" or "image"
    #[arg(long = "type")]
    pub kind: Option<String>,
    /// Format output: "json" or a Go template ("{{.State.Running}}")
    #[arg(short, long)]
    pub format: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
}

impl ContainerFlags {
    fn to_options(&self) -> Result<CreateOptions> {
        run_options::refuse_unsupported(
            self.ip6.as_deref(),
            self.isolation.as_deref(),
            self.gpus.as_deref(),
        )?;
        let mut labels = Vec::new();
        for file in &self.label_file {
            labels.extend(run_options::read_label_file(file)?);
        }
        // The flags' labels win over the files', as Docker's.
        labels.extend(self.label.iter().cloned());
        let mut env = Vec::new();
        for file in &self.env_file {
            env.extend(run_options::read_env_file(file)?);
        }
        env.extend(run_options::resolve_env(&self.env));
        let mut resources = self.limits.to_resources(self.oom_kill_disable)?;
        let device_warnings = run_options::parse_device_limits(
            &run_options::DeviceLimitsText {
                blkio_weight_device: &self.blkio_weight_device,
                device_read_bps: &self.device_read_bps,
                device_write_bps: &self.device_write_bps,
                device_read_iops: &self.device_read_iops,
                device_write_iops: &self.device_write_iops,
                cgroup_parent: self.cgroup_parent.as_deref(),
                memory_swappiness: self.memory_swappiness,
                kernel_memory: self.kernel_memory.as_deref(),
            },
            &mut resources,
        )?;
        for warning in device_warnings {
            eprintln!("{warning}");
        }
        let oom_score_adj = run_options::parse_oom_score_adj(self.oom_score_adj)?;
        // Docker's rules and this host's abilities; what it can't apply is dropped, said.
        for warning in run_options::settle_limits(&mut resources, self.limits.pids_limit)? {
            eprintln!("{warning}");
        }
        let mut mounts = Vec::new();
        if !self.volume.is_empty() || !self.mount.is_empty() {
            // Relative bind sources (`-v ./dir:/x`) are the user's: from where berth runs.
            let cwd =
                std::env::current_dir().map_err(|e| eyre!("reading the current directory: {e}"))?;
            for spec in &self.volume {
                mounts.push(MountSpec::parse_volume_flag(spec, &cwd)?);
            }
            for spec in &self.mount {
                mounts.push(MountSpec::parse_mount_flag(spec, &cwd)?);
            }
        }
        for spec in &self.tmpfs {
            mounts.push(MountSpec::parse_tmpfs_flag(spec)?);
        }
        let mut ports = Vec::new();
        for spec in &self.publish {
            ports.extend(parse_publish(spec)?);
        }
        let dns = self
            .dns
            .iter()
            .map(|ip| parse_ip("DNS server", ip))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let extra_hosts = self
            .add_host
            .iter()
            .map(|h| run_options::parse_add_host(h))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let net_runtime = self.net_runtime()?;
        Ok(CreateOptions {
            network: self.network.clone(),
            ip: self
                .ip
                .as_deref()
                .map(|ip| parse_ip("IP address", ip))
                .transpose()?,
            aliases: self.network_alias.clone(),
            ports,
            publish_all: self.publish_all,
            expose: parse_exposed(&self.expose)?,
            dns,
            extra_hosts,
            dns_search: net_runtime.dns_search,
            dns_options: net_runtime.dns_options,
            endpoint: net_runtime.endpoint,
            mounts,
            volumes_from: self.volumes_from.clone(),
            image: self.image.clone(),
            name: self.name.clone(),
            cmd: self.command.clone(),
            entrypoint: self.entrypoint.clone(),
            env,
            working_dir: self.workdir.clone(),
            user: self.user.clone(),
            hostname: self.hostname.clone(),
            tty: self.tty,
            open_stdin: self.interactive,
            auto_remove: self.rm,
            read_only: self.read_only,
            resources,
            oom_score_adj,
            labels: run_options::parse_labels(&labels),
            log: net_runtime.log,
            restart_policy: run_options::parse_restart(self.restart.as_deref(), self.rm)?,
            stop_signal: self
                .stop_signal
                .as_deref()
                .map(run_options::parse_stop_signal)
                .transpose()?,
            stop_timeout: self.stop_timeout,
            security: self.security()?,
            health: run_options::parse_health(&run_options::HealthFlags {
                cmd: self.health_cmd.as_deref(),
                interval: self.health_interval.as_deref(),
                timeout: self.health_timeout.as_deref(),
                start_period: self.health_start_period.as_deref(),
                start_interval: self.health_start_interval.as_deref(),
                retries: self.health_retries,
                disabled: self.no_healthcheck,
            })?,
            namespaces: crate::engine::NamespaceFlags {
                pid: self.pid.clone(),
                ipc: self.ipc.clone(),
                uts: self.uts.clone(),
                userns: self.userns.clone(),
                cgroupns: self.cgroupns.clone(),
            },
            domainname: self.domainname.clone(),
            links: self.link.clone(),
            annotations: net_runtime.annotations,
            runtime: net_runtime.runtime,
            volume_driver: net_runtime.volume_driver,
            // `run` says which.
            attach: None,
        })
    }
}

impl ContainerFlags {
    /// The network, log and runtime options, read and checked once by ops.
    fn net_runtime(&self) -> crate::engine::Result<run_options::NetRuntimeOptions> {
        run_options::parse_net_runtime(&run_options::NetRuntimeFlags {
            dns_search: &self.dns_search,
            dns_option: &self.dns_option,
            mac_address: self.mac_address.as_deref(),
            link_local_ip: &self.link_local_ip,
            annotation: &self.annotation,
            log_driver: self.log_driver.as_deref(),
            log_opt: &self.log_opt,
            runtime: self.runtime.as_deref(),
            storage_opt: &self.storage_opt,
            volume_driver: self.volume_driver.as_deref(),
            content_trust: !self.disable_content_trust,
            use_api_socket: self.use_api_socket,
            cpu_count: self.cpu_count,
            cpu_percent: self.cpu_percent,
            io_maxbandwidth: self.io_maxbandwidth.as_deref(),
            io_maxiops: self.io_maxiops,
        })
    }
}

impl ContainerFlags {
    /// The security and device options, parsed once by ops; a ulimit lowered to what the
    /// host allows is said on stderr.
    fn security(&self) -> crate::engine::Result<crate::engine::SecurityConfig> {
        let (config, warnings) = run_options::parse_security(&run_options::SecurityFlags {
            cap_add: &self.cap_add,
            cap_drop: &self.cap_drop,
            privileged: self.privileged,
            device: &self.device,
            device_cgroup_rule: &self.device_cgroup_rule,
            init: self.init,
            ulimit: &self.ulimit,
            shm_size: self.shm_size.as_deref(),
            sysctl: &self.sysctl,
            security_opt: &self.security_opt,
            group_add: &self.group_add,
            host_network: self.network.as_deref() == Some("host"),
        })?;
        for warning in warnings {
            eprintln!("{warning}");
        }
        Ok(config)
    }
}

/// `create`: the flags checked before any pull; a refusal exits 125, as `run`'s.
pub fn create(engine: &Engine, args: &CreateArgs) -> Result<i32> {
    let options = match args.flags.to_options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("Error: {e}");
            return Ok(125);
        }
    };
    let mut cidfile = match args
        .flags
        .cidfile
        .as_deref()
        .map(run_options::CidFile::create)
    {
        Some(Err(e)) => {
            eprintln!("Error: {e}");
            return Ok(125);
        }
        made => made.transpose()?,
    };
    match ensure_image(engine, &args.flags).and_then(|()| engine.create_container(options)) {
        Ok(record) => {
            if let Some(cidfile) = &mut cidfile {
                cidfile.write(record.id.as_str())?;
            }
            println!("{}", record.id);
            Ok(0)
        }
        // As `run`'s (the issue asks 125 for every refusal; Docker's own `create` gives 1
        // for what its daemon refuses). The cidfile goes with the error.
        Err(e) => {
            eprintln!("Error: {e}");
            Ok(status::run_exit_code(&e))
        }
    }
}

/// `run` exits with the container's code, or Docker's codes for its own failures:
/// 125 (the engine failed), 126 (not executable), 127 (not found).
pub fn run(engine: &Engine, args: &RunArgs) -> Result<i32> {
    let flags = &args.flags;
    // The monitor starts first, while the flags are read, the image looked up and the
    // container made (see `Engine::monitor_ahead`): its exec and load are the start's
    // longest step. Should anything below fail, it exits unused.
    // Started before the parse when it could be (see `run_ahead`).
    let ahead = match super::run_ahead::take(engine.paths().root()) {
        Some(started) if flags.name.is_none() => Ok(started),
        _ => engine.monitor_ahead(flags.name.as_deref()),
    };
    let ahead = match ahead {
        Ok(ahead) => ahead,
        Err(e) => {
            eprintln!("Error: {e}");
            return Ok(125);
        }
    };
    let options = match flags.to_options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("Error: {e}");
            return Ok(125);
        }
    };
    if args.detach && !args.attach.is_empty() {
        eprintln!("Error: Conflicting options: -a and -d");
        return Ok(125);
    }
    let (attach_stdin, attach_stdout, attach_stderr) =
        match run_options::parse_attach(&args.attach, flags.interactive) {
            Ok(streams) => streams,
            Err(e) => {
                eprintln!("Error: {e}");
                return Ok(125);
            }
        };
    let mut options = options;
    // Docker's Config.Attach*: none for `run -d`.
    options.attach = Some(if args.detach {
        crate::engine::AttachStreams::default()
    } else {
        crate::engine::AttachStreams {
            // As asked, even without `-i` (which alone gives the container a stdin).
            stdin: attach_stdin || args.attach.iter().any(|a| a.eq_ignore_ascii_case("stdin")),
            stdout: attach_stdout,
            stderr: attach_stderr,
        }
    });
    // Before anything is made: a refused run leaves no container behind.
    if !args.detach && refuses_terminal(flags.interactive, flags.tty) {
        return Ok(1);
    }
    let detach_keys = match DetachSequence::chosen(args.detach_keys.as_ref()) {
        Ok(keys) => keys,
        Err(e) => {
            eprintln!("Error: {e}");
            return Ok(125);
        }
    };
    let mut cidfile = match flags.cidfile.as_deref().map(run_options::CidFile::create) {
        Some(Err(e)) => {
            eprintln!("Error: {e}");
            return Ok(125);
        }
        made => made.transpose()?,
    };
    let made = ensure_image(engine, flags)
        .and_then(|()| engine.create_container_for(options, &ahead))
        .map(|record| (record, ahead));
    let (record, ahead) = match made {
        Ok(made) => made,
        Err(e) => {
            eprintln!("Error: {e}");
            return Ok(status::run_exit_code(&e));
        }
    };
    if let Some(cidfile) = &mut cidfile {
        cidfile.write(record.id.as_str())?;
    }
    let started = match engine.start_container_ahead(ahead, &record) {
        Ok(s) => s,
        Err(e) => {
            match &e {
                Error::StartFailed { message, .. } => eprintln!(
                    "Error: failed to start container {}: {message}",
                    record.name
                ),
                e => eprintln!("Error: {e}"),
            }
            return Ok(status::run_exit_code(&e));
        }
    };
    if args.detach {
        started.detach();
        println!("{}", record.id);
        return Ok(0);
    }
    let options = super::attach::AttachOptions {
        stdin: attach_stdin,
        tty: flags.tty,
        sig_proxy: args.sig_proxy,
        stdout: attach_stdout,
        stderr: attach_stderr,
    };
    super::attach::attach_with(engine, started, options, detach_keys)
}

/// Pulls the image of `run` or `create` as `--pull` says, with the pull's progress on
/// stderr (stdout is the container's, or its ID). An image that isn't here and isn't a
/// reference (an ID prefix) is left for create to report.
fn ensure_image(engine: &Engine, flags: &ContainerFlags) -> crate::engine::Result<()> {
    // A local image of another platform than `--platform` asks for is not the one
    // wanted: pulled as a missing one is, or refused when nothing may be pulled. Without
    // `--platform` its record says enough: create reads its configuration.
    let (local, mismatch) = match flags.platform.as_deref() {
        Some(wanted) => match engine.resolve_image(&flags.image) {
            Ok(image) => (
                true,
                run_options::platform_mismatch(
                    &flags.image,
                    wanted,
                    &image.config.os().to_string(),
                    &image.config.architecture().to_string(),
                )?,
            ),
            Err(_) => (false, None),
        },
        None => (engine.find_image(&flags.image).is_ok(), None),
    };
    let here = local && mismatch.is_none();
    if let Some(e) = mismatch {
        if flags.pull == PullPolicy::Never || flags.image.parse::<Reference>().is_err() {
            return Err(e);
        }
    }
    let pull = match flags.pull {
        PullPolicy::Never => false,
        PullPolicy::Missing => !here,
        PullPolicy::Always => true,
    };
    if !pull {
        return Ok(());
    }
    let reference: Reference = match flags.image.parse() {
        Ok(reference) => reference,
        Err(_) if !here && flags.pull == PullPolicy::Missing => return Ok(()),
        Err(e) => return Err(e),
    };
    if !here && !flags.quiet {
        eprintln!("Unable to find image '{}' locally", familiar(&reference));
    }
    let options = Settings::load()?.pull_options(flags.platform.as_deref(), &[])?;
    super::image::pull_reporting(engine, &reference, &options, flags.quiet, Out::Stderr)?;
    Ok(())
}

/// A reference as Docker echoes it: `busybox:latest`, `reg:5000/x@sha256:...`.
fn familiar(reference: &Reference) -> String {
    match (reference.local_tag(), reference.repo_digest()) {
        (_, Some(pinned)) => pinned,
        (Some(tag), None) => tag.to_string(),
        (None, None) => reference.to_string(),
    }
}

pub fn start(engine: &Engine, args: &StartArgs) -> Result<i32> {
    if args.attach && args.containers.len() > 1 {
        return Err(eyre!(
            "you cannot start and attach multiple containers at once"
        ));
    }
    if args.attach || args.interactive {
        // A missing container is reported by the start below.
        if let [name] = args.containers.as_slice() {
            if let Ok(record) = engine.container(name) {
                let config = &record.config;
                if refuses_terminal(args.interactive && config.open_stdin, config.tty) {
                    return Ok(1);
                }
            }
        }
    }
    let detach_keys = DetachSequence::chosen(args.detach_keys.as_ref())?;
    let mut failed = false;
    for Named { name, outcome } in resolve::each(&args.containers, |n| engine.start_container(n)) {
        match outcome {
            Outcome::Done(started) if args.attach => {
                let tty = started.record.config.tty;
                return attach(engine, started, args.interactive, tty, detach_keys);
            }
            Outcome::Done(started) => {
                started.detach();
                println!("{name}");
            }
            // Starting a running container changes nothing and is no error, as in Docker;
            // with -a it attaches to it.
            Outcome::Failed(ref e) if crate::ops::start::already_running(engine, name, e) => {
                if args.attach {
                    let started = engine.attach_container(name)?;
                    let config = &started.record.config;
                    let stdin = args.interactive && config.open_stdin;
                    let tty = config.tty;
                    return attach(engine, started, stdin, tty, detach_keys);
                }
                println!("{name}")
            }
            Outcome::Failed(e) | Outcome::Excused(e) => {
                eprintln!("Error: failed to start container {name}: {e}");
                failed = true;
            }
        }
    }
    Ok(i32::from(failed))
}

/// A terminal is only attached to a terminal: with `-it`, stdin must be one. Says so in
/// Docker's words and returns true if it isn't.
fn refuses_terminal(attach_stdin: bool, tty: bool) -> bool {
    use std::io::IsTerminal;
    if attach_stdin && tty && !std::io::stdin().is_terminal() {
        eprintln!("the input device is not a TTY");
        return true;
    }
    false
}

/// Runs `action` on each named container, printing the name on success and the error
/// otherwise, as Docker's multi-container verbs do; exits 1 if any failed.
pub(super) fn for_each(
    names: &[String],
    action: impl FnMut(&str) -> crate::engine::Result<()>,
) -> Result<i32> {
    Ok(report(resolve::each(names, action), |name, ()| {
        println!("{name}")
    }))
}

fn stop_signal(args: &StopArgs) -> Result<Option<nix::sys::signal::Signal>> {
    args.signal
        .as_deref()
        .map(|s| parse_signal(s).ok_or_else(|| eyre!("invalid signal: {s}")))
        .transpose()
}

pub fn stop(engine: &Engine, args: &StopArgs) -> Result<i32> {
    let signal = stop_signal(args)?;
    let timeout = args.time.map(|t| Duration::from_secs(t.into()));
    for_each(&args.containers, |name| {
        engine.stop_container(name, timeout, signal).map(drop)
    })
}

pub fn restart(engine: &Engine, args: &StopArgs) -> Result<i32> {
    let signal = stop_signal(args)?;
    let timeout = args.time.map(|t| Duration::from_secs(t.into()));
    for_each(&args.containers, |name| {
        engine.restart_container(name, timeout, signal).map(drop)
    })
}

pub fn kill(engine: &Engine, args: &KillArgs) -> Result<i32> {
    let signal =
        parse_signal(&args.signal).ok_or_else(|| eyre!("invalid signal: {}", args.signal))?;
    for_each(&args.containers, |name| {
        engine.kill_container(name, signal).map(drop)
    })
}

pub fn pause(engine: &Engine, args: &PauseArgs) -> Result<i32> {
    for_each(&args.containers, |name| {
        engine.pause_container(name).map(drop)
    })
}

pub fn unpause(engine: &Engine, args: &PauseArgs) -> Result<i32> {
    for_each(&args.containers, |name| {
        engine.unpause_container(name).map(drop)
    })
}

/// `rm -f` of a container that doesn't exist says so but is no failure, as in Docker.
/// All the names are removed together (see `Engine::remove_containers`), then reported in
/// their order.
pub fn rm(engine: &Engine, args: &RmArgs) -> Result<i32> {
    let removed = engine.remove_containers(&args.containers, args.force, args.volumes);
    let excused = |e: &Error| args.force && matches!(e, Error::NoSuchContainer(_));
    let results = args
        .containers
        .iter()
        .zip(removed)
        .map(|(name, result)| resolve::Named {
            name,
            outcome: resolve::Outcome::from(result).excusing(excused),
        });
    Ok(report(results, |name, _| println!("{name}")))
}

pub fn wait(engine: &Engine, args: &WaitArgs) -> Result<i32> {
    let waited = resolve::each(&args.containers, |name| engine.wait_container(name));
    Ok(report(waited, |_, code| println!("{code}")))
}

pub fn logs(engine: &Engine, args: &LogsArgs) -> Result<i32> {
    let record = engine.container(&args.container)?;
    // Before the flags are read: `--log-driver none` kept nothing, as Docker says.
    let mut reader = engine.open_log(&record)?;
    let tail: Option<usize> = match args.tail.as_str() {
        "all" => None,
        n => Some(
            n.parse()
                .map_err(|_| eyre!("invalid --tail value {n:?}: use a number or \"all\""))?,
        ),
    };
    let now = chrono::Utc::now();
    let since = args
        .since
        .as_deref()
        .map(|t| super::events::parse_time(t, now))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|t| super::events::parse_time(t, now))
        .transpose()?;
    if let Some(n) = tail {
        reader.tail(n)?;
    }
    // Entries are printed as they are read: the log is never held in memory.
    let mut sink = LogSink {
        out: std::io::BufWriter::new(std::io::stdout().lock()),
        err: std::io::stderr().lock(),
        timestamps: args.timestamps,
        details: args.details,
        since,
        until,
    };
    reader.read(&mut |e| sink.print(e))?;
    sink.flush()?;
    if !args.follow {
        return Ok(0);
    }
    loop {
        // Past --until nothing more can be shown.
        let over = until.is_some_and(|u| chrono::Utc::now() > u);
        let running = !over
            && engine
                .container(record.id.as_str())
                .is_ok_and(|r| r.state.status == Status::Running);
        reader.follow(&mut |e| sink.print(e))?;
        if !running {
            // One last read: the monitor writes the final lines before it records the exit.
            reader.follow(&mut |e| sink.print(e))?;
            sink.flush()?;
            return Ok(0);
        }
        sink.flush()?;
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Where `logs` writes entries: stdout buffered, stderr as is, each to the stream it
/// came from.
struct LogSink<'a> {
    out: std::io::BufWriter<std::io::StdoutLock<'a>>,
    err: std::io::StderrLock<'a>,
    timestamps: bool,
    /// `--details`: the entry's attributes before each line; berth's entries have none,
    /// so, as Docker's, an empty list and its separating space.
    details: bool,
    since: Option<chrono::DateTime<chrono::Utc>>,
    until: Option<chrono::DateTime<chrono::Utc>>,
}

impl LogSink<'_> {
    fn print(&mut self, e: &crate::engine::LogEntry) -> crate::engine::Result<()> {
        use crate::engine::Context;
        use crate::engine::LogStream;
        use std::io::Write;
        if self.since.is_some_and(|s| e.time < s) || self.until.is_some_and(|u| e.time > u) {
            return Ok(());
        }
        let mut time = if self.timestamps {
            e.time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true) + " "
        } else {
            String::new()
        };
        if self.details {
            time.push(' ');
        }
        match e.stream {
            LogStream::Stdout => write!(self.out, "{time}{}", e.log),
            // Stdout first, so the two keep their order on a shared terminal.
            LogStream::Stderr => self
                .out
                .flush()
                .and_then(|()| write!(self.err, "{time}{}", e.log)),
        }
        .context(|| "writing the logs".into())
    }

    fn flush(&mut self) -> crate::engine::Result<()> {
        use crate::engine::Context;
        use std::io::Write;
        self.out.flush().context(|| "writing the logs".into())
    }
}

pub fn exec(engine: &Engine, args: &ExecArgs) -> Result<i32> {
    use crate::engine::ExecOptions;
    if !args.detach && refuses_terminal(args.interactive, args.tty) {
        return Ok(1);
    }
    // What enters the container runs from a binary nothing can write (CVE-2019-5736):
    // the container's monitor forks it, or this process re-executes sealed first.
    let record = engine.ready_for_exec(&args.container)?;
    let options = ExecOptions {
        cmd: args.command.clone(),
        env: run_options::resolve_env(&args.env),
        user: args.user.clone(),
        working_dir: args.workdir.clone(),
        tty: args.tty,
        interactive: args.interactive,
        detach: args.detach,
    };
    let mut session = match engine.exec_record(record, &options) {
        Ok(session) => session,
        Err(Error::StartFailed { code, message }) => {
            eprintln!("Error: {message}");
            return Ok(code);
        }
        Err(e) => return Err(e.into()),
    };
    if !args.detach {
        super::attach::relay_exec(&mut session, args.interactive);
    }
    Ok(session.wait())
}

pub fn inspect(engine: &Engine, args: &InspectArgs) -> Result<i32> {
    let want_container = args.kind.as_deref() != Some("image");
    let want_image = args.kind.as_deref() != Some("container");
    let looked_up = resolve::each(&args.names, |name| {
        if want_container {
            if let Ok(record) = engine.container(name) {
                return Ok(inspect::container(engine, &record));
            }
        }
        if want_image {
            if let Ok(image) = inspect::image(engine, name) {
                return Ok(image);
            }
        }
        Err(format!("No such object: {name}"))
    });
    let mut found = Vec::new();
    let code = report(looked_up, |_, value| found.push(value));
    print_inspect(args.format.as_deref(), &found)?;
    Ok(code)
}

#[derive(Debug, Args)]
pub struct PortArgs {
    pub container: String,
    /// Only this port: PRIVATE_PORT[/PROTO]
    pub port: Option<String>,
}

/// `port`: the running container's published ports, as `docker port` prints them.
pub fn port(engine: &Engine, args: &PortArgs) -> Result<i32> {
    let record = engine.container(&args.container)?;
    let lines = match &args.port {
        Some(filter) => {
            let lines = port_lines_for(&record.state.ports, filter)?;
            if lines.is_empty() {
                return Err(eyre!(
                    "no public port '{filter}' published for {}",
                    record.name
                ));
            }
            lines
        }
        None => port_lines(&record.state.ports),
    };
    for line in lines {
        println!("{line}");
    }
    Ok(0)
}

#[derive(Debug, Args)]
pub struct RenameArgs {
    pub container: String,
    pub new_name: String,
}

/// `rename`: prints nothing, as Docker.
pub fn rename(engine: &Engine, args: &RenameArgs) -> Result<i32> {
    engine.rename_container(&args.container, &args.new_name)?;
    Ok(0)
}

#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Commit message
    #[arg(short, long)]
    pub message: Option<String>,
    /// Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")
    #[arg(short, long)]
    pub author: Option<String>,
    /// Apply Dockerfile instruction to the created image
    #[arg(short, long)]
    pub change: Vec<String>,
    /// Pause container during commit (berth reads the writable layer without pausing)
    #[arg(short, long, default_value_t = true, action = clap::ArgAction::Set)]
    pub pause: bool,
    pub container: String,
    /// REPOSITORY[:TAG]
    pub reference: Option<String>,
}

/// `berth commit`: prints the new image's ID, as Docker does.
pub fn commit(engine: &Engine, args: &CommitArgs) -> Result<i32> {
    let reference = args
        .reference
        .as_deref()
        .map(str::parse::<crate::engine::ImageRef>)
        .transpose()?;
    let opts = crate::engine::CommitOptions {
        message: args.message.clone(),
        author: args.author.clone(),
        changes: args.change.clone(),
        reference,
    };
    let id = engine.commit_container(&args.container, &opts)?;
    println!("{id}");
    Ok(0)
}
