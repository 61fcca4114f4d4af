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
    monitor, parse_exposed, parse_ip, parse_publish, parse_signal, ContainerId, CreateOptions,
    Engine, Error, MountSpec, Reference, Resources, Status,
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

/// Flags shared by `create` and `run`.
#[derive(Debug, Args, Clone)]
pub struct ContainerFlags {
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Set environment variables (KEY=VALUE, or KEY to take it from this environment)
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file")]
    pub env_file: Vec<PathBuf>,
    /// Working directory inside the container
    #[arg(short, long = "workdir")]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short, long)]
    pub user: Option<String>,
    /// Container host name
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    // Resource limits (also `update`'s).
    #[command(flatten)]
    pub limits: LimitFlags,
    /// Disable OOM Killer
    #[arg(long = "oom-kill-disable")]
    pub oom_kill_disable: bool,
    // Metadata, IDs and names.
    /// Read in a line delimited file of labels
    #[arg(long = "label-file", value_name = "FILE")]
    pub label_file: Vec<PathBuf>,
    /// Write the container ID to the file (which must not exist)
    #[arg(long, value_name = "FILE")]
    pub cidfile: Option<PathBuf>,
    /// Container NIS domain name
    #[arg(long, value_name = "NAME")]
    pub domainname: Option<String>,
    /// Add link to another container (legacy): NAME[:ALIAS]
    #[arg(long, value_name = "NAME[:ALIAS]")]
    pub link: Vec<String>,
    // Refused clearly: IPv6, other isolation, GPUs.
    /// IPv6 address (refused: berth's networks are IPv4 only)
    #[arg(long, value_name = "ADDRESS")]
    pub ip6: Option<String>,
    /// Container isolation technology (only "default" on Linux)
    #[arg(long, value_name = "MODE")]
    pub isolation: Option<String>,
    /// GPU devices to add (not supported by berth)
    #[arg(long, value_name = "GPUS")]
    pub gpus: Option<String>,
    // Namespaces.
    /// PID namespace to use: host, or container:NAME
    #[arg(long, value_name = "MODE")]
    pub pid: Option<String>,
    /// IPC mode to use: private (default), shareable, host, or container:NAME
    #[arg(long, value_name = "MODE")]
    pub ipc: Option<String>,
    /// UTS namespace to use: host
    #[arg(long, value_name = "MODE")]
    pub uts: Option<String>,
    /// User namespace to use: host (berth has no user namespace remapping)
    #[arg(long, value_name = "MODE")]
    pub userns: Option<String>,
    /// Cgroup namespace to use: private (default) or host
    #[arg(long, value_name = "MODE")]
    pub cgroupns: Option<String>,
    /// Mount the container's root filesystem as read only
    #[arg(long = "read-only")]
    pub read_only: bool,
    /// Keep STDIN open even if not attached
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    pub tty: bool,
    /// Automatically remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Set metadata on the container (KEY=VALUE)
    #[arg(short, long = "label")]
    pub label: Vec<String>,
    /// Bind mount a volume: NAME:/path[:ro], /host/path:/path[:ro], or /path (anonymous)
    #[arg(short, long = "volume")]
    pub volume: Vec<String>,
    /// Attach a mount: type=volume|bind|tmpfs,source=...,target=...[,readonly]
    #[arg(long = "mount")]
    pub mount: Vec<String>,
    /// Mount a tmpfs: /path[:size=64m,mode=1777]
    #[arg(long = "tmpfs")]
    pub tmpfs: Vec<String>,
    /// Mount the volumes and binds of another container: CONTAINER[:ro|:rw]
    #[arg(long = "volumes-from")]
    pub volumes_from: Vec<String>,
    /// Log driver options: max-size=SIZE (rotate past it), max-file=N (files kept)
    #[arg(long = "log-opt")]
    pub log_opt: Vec<String>,
    /// Connect the container to a network (bridge, host, none or a network's name)
    #[arg(long, visible_alias = "net")]
    pub network: Option<String>,
    /// IPv4 address on that network (e.g. 172.30.100.104)
    #[arg(long)]
    pub ip: Option<String>,
    /// Add a network-scoped alias for the container
    #[arg(long = "network-alias", visible_alias = "net-alias")]
    pub network_alias: Vec<String>,
    /// Publish a container's port(s) to the host: [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]
    #[arg(short, long)]
    pub publish: Vec<String>,
    /// Publish all exposed ports to free host ports
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    /// Expose a port or a range of ports (PORT[-PORT][/PROTO]), published by -P
    #[arg(long)]
    pub expose: Vec<String>,
    /// Set custom DNS servers
    #[arg(long)]
    pub dns: Vec<String>,
    /// Add a custom host-to-IP mapping (host:ip)
    #[arg(long = "add-host")]
    pub add_host: Vec<String>,
    // Restarting and stopping.
    /// Restart policy to apply when a container exits: no, on-failure[:max-retries],
    /// always, unless-stopped
    #[arg(long, value_name = "POLICY")]
    pub restart: Option<String>,
    /// Signal to stop the container (default SIGTERM, or the image's STOPSIGNAL)
    #[arg(long = "stop-signal", value_name = "SIGNAL")]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container (default 10; -1 waits for good)
    #[arg(
        long = "stop-timeout",
        value_name = "SECONDS",
        allow_hyphen_values = true
    )]
    pub stop_timeout: Option<i32>,
    // ---- security and device options ----
    /// Add Linux capabilities (NET_ADMIN, CAP_SYS_TIME... or ALL)
    #[arg(long = "cap-add")]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities (or ALL)
    #[arg(long = "cap-drop")]
    pub cap_drop: Vec<String>,
    /// Give extended privileges to this container: every capability, every host device,
    /// no seccomp filter, no masked or read-only paths, /sys writable. Root in it is root
    /// on the host: it can load kernel modules, mount host disks and escape
    #[arg(long)]
    pub privileged: bool,
    /// Add a host device to the container: HOST[:CONTAINER[:PERMISSIONS]] (e.g. /dev/fuse, /dev/sdb:/dev/xvdb:r)
    #[arg(long)]
    pub device: Vec<String>,
    /// Add a rule to the cgroup allowed devices list ('c 42:* rmw')
    #[arg(long = "device-cgroup-rule")]
    pub device_cgroup_rule: Vec<String>,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long)]
    pub init: bool,
    /// Ulimit options: NAME=SOFT[:HARD] (e.g. nofile=1024:2048)
    #[arg(long, allow_hyphen_values = true)]
    pub ulimit: Vec<String>,
    /// Size of /dev/shm (e.g. 256m; 64m when not set)
    #[arg(long = "shm-size")]
    pub shm_size: Option<String>,
    /// Sysctl options: KEY=VALUE (namespaced ones only: net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*)
    #[arg(long)]
    pub sysctl: Vec<String>,
    /// Security options: no-new-privileges, seccomp=unconfined|PROFILE.json, label=disable, apparmor=unconfined
    #[arg(long = "security-opt")]
    pub security_opt: Vec<String>,
    /// Add additional groups to join (names or GIDs)
    #[arg(long = "group-add")]
    pub group_add: Vec<String>,
    // ---- end of security and device options ----
    // Health checks.
    /// Command to run to check health
    #[arg(long = "health-cmd", value_name = "COMMAND")]
    pub health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h) (default 30s)
    #[arg(
        long = "health-interval",
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    pub health_interval: Option<String>,
    /// Consecutive failures needed to report unhealthy (default 3)
    #[arg(long = "health-retries", value_name = "N", allow_hyphen_values = true)]
    pub health_retries: Option<i64>,
    /// Maximum time to allow one check to run (ms|s|m|h) (default 30s)
    #[arg(
        long = "health-timeout",
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    pub health_timeout: Option<String>,
    /// Start period for the container to initialize before starting health-retries
    /// countdown (ms|s|m|h) (default 0s)
    #[arg(
        long = "health-start-period",
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    pub health_start_period: Option<String>,
    /// Time between running the check during the start period (ms|s|m|h) (default 5s)
    #[arg(
        long = "health-start-interval",
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    pub health_start_interval: Option<String>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long = "no-healthcheck")]
    pub no_healthcheck: bool,
    /// Pull image before running ("always", "missing", "never")
    #[arg(long, value_enum, default_value_t = PullPolicy::Missing)]
    pub pull: PullPolicy,
    /// Set platform if the image is multi-platform (os/arch[/variant])
    #[arg(long)]
    pub platform: Option<String>,
    /// Suppress the pull output
    #[arg(short, long)]
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
    #[arg(short, long)]
    pub memory: Option<String>,
    /// Swap limit equal to memory plus swap: -1 to enable unlimited swap
    #[arg(long = "memory-swap", allow_hyphen_values = true, value_name = "BYTES")]
    pub memory_swap: Option<String>,
    /// Memory soft limit
    #[arg(long = "memory-reservation", value_name = "BYTES")]
    pub memory_reservation: Option<String>,
    /// Number of CPUs (e.g. 0.5)
    #[arg(long)]
    pub cpus: Option<String>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long = "cpu-shares", allow_hyphen_values = true)]
    pub cpu_shares: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) period
    #[arg(long = "cpu-period")]
    pub cpu_period: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota
    #[arg(long = "cpu-quota", allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-cpus")]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-mems")]
    pub cpuset_mems: Option<String>,
    /// Block IO (relative weight), between 10 and 1000, or 0 to disable
    #[arg(long = "blkio-weight")]
    pub blkio_weight: Option<u16>,
    /// Tune container pids limit (-1 for unlimited; 2048 when not set)
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
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
            ]
            .iter()
            .all(Option::is_none)
            && self.blkio_weight.is_none()
    }
}

/// `-h` is the hostname, as in Docker; help is `--help` only.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct CreateArgs {
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    #[command(flatten)]
    pub flags: ContainerFlags,
}

/// `-h` is the hostname, as in Docker; help is `--help` only.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct RunArgs {
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Run the container in the background and print its ID
    #[arg(short, long)]
    pub detach: bool,
    /// Override the key sequence for detaching a container
    #[arg(long, value_name = "KEYS")]
    pub detach_keys: Option<DetachSequence>,
    /// Attach to STDIN, STDOUT or STDERR (repeatable; default STDOUT and STDERR)
    #[arg(short = 'a', long = "attach", value_name = "STREAM")]
    pub attach: Vec<String>,
    /// Proxy received signals to the process (--sig-proxy=false leaves them to berth)
    #[arg(long, default_value_t = true, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = clap::ArgAction::Set)]
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

#[derive(Debug, Args)]
pub struct MonitorArgs {
    pub id: String,
    #[arg(long = "control-fd")]
    pub control_fd: i32,
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
        resources.pids_limit = Resources::pids_limit_from(
            self.limits.pids_limit,
            crate::settings::Settings::load()?.pids_limit,
        );
        // Docker's rules and this host's abilities; what it can't apply is dropped, said.
        let host = crate::engine::HostLimits::detect();
        for warning in crate::engine::check_limits(&mut resources, &host, false)? {
            eprintln!("WARNING: {warning}");
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
            labels: run_options::parse_labels(&labels),
            log: crate::engine::LogConfig::parse(&self.log_opt)?,
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
    let record = match ensure_image(engine, flags).and_then(|()| engine.create_container(options)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: {e}");
            return Ok(status::run_exit_code(&e));
        }
    };
    if let Some(cidfile) = &mut cidfile {
        cidfile.write(record.id.as_str())?;
    }
    let started = match engine.start_container(record.id.as_str()) {
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
    let local = engine.resolve_image(&flags.image).ok();
    // A local image of another platform than `--platform` asks for is not the one
    // wanted: pulled as a missing one is, or refused when nothing may be pulled.
    let mismatch = match (&local, flags.platform.as_deref()) {
        (Some(image), Some(wanted)) => run_options::platform_mismatch(
            &flags.image,
            wanted,
            &image.config.os().to_string(),
            &image.config.architecture().to_string(),
        )?,
        _ => None,
    };
    let here = local.is_some() && mismatch.is_none();
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
            Outcome::Failed(Error::Conflict(_))
                if engine.container(name).is_ok_and(|r| {
                    matches!(r.state.status, Status::Running | Status::Restarting)
                }) =>
            {
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
    use crate::engine::{LogReader, LOG_FILE};
    let record = engine.container(&args.container)?;
    let path = engine.paths().container(&record.id).join(LOG_FILE);
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
    let mut reader = LogReader::open(&path)?;
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
    engine.ready_for_exec(&args.container)?;
    let options = ExecOptions {
        cmd: args.command.clone(),
        env: run_options::resolve_env(&args.env),
        user: args.user.clone(),
        working_dir: args.workdir.clone(),
        tty: args.tty,
        interactive: args.interactive,
        detach: args.detach,
    };
    let mut session = match engine.exec(&args.container, &options) {
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

pub fn monitor(engine: &Engine, args: &MonitorArgs) -> Result<i32> {
    let id: ContainerId = args.id.parse()?;
    let control = monitor::control_fd(args.control_fd);
    Ok(monitor::main(engine, &id, control))
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
