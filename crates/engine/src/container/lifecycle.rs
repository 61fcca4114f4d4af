//! The container lifecycle: create, start, stop, kill, remove, wait; and noticing
//! containers whose monitor died.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use chrono::Utc;
use nix::sys::signal::Signal;

use super::frames::{read_frame, Kind};
use super::record::{
    ContainerConfig, ContainerRecord, ContainerState, NetworkConfig, NetworkMode, Resources, Status,
};
use super::runtime::cgroups::Cgroup;
use super::runtime::sealed;
use super::teardown::{remove_dir_all, Teardown};

use crate::error::{Context, Error, Result};
use crate::events::container_event;
use crate::faults::crash_point;
use crate::ids::ContainerId;
use crate::network::ports::{parse_exposed, publish_all, ExposedPort, PortSpec};
use crate::network::record::{Driver, EndpointExtras, NetworkRecord, DEFAULT_NETWORK};
use crate::state::StateLock;
use crate::storage::mounts::{check_unique_destinations, MountKind, MountSpec};
use crate::storage::overlay::{self, OverlayDirs};
use crate::Engine;

/// The lock file in a container's directory that orders its starts, stops and restarts
/// (see `Engine::container_op_lock`).
const OP_LOCK: &str = "op.lock";

/// A container's monitor started before the container is made (see
/// [`Engine::monitor_ahead`]); dropping it unused stops the monitor.
pub struct MonitorAhead {
    /// The engine root the monitor was started for.
    root: std::path::PathBuf,
    id: ContainerId,
    stream: UnixStream,
    /// The thread starting the monitor, then taking the spare cgroup as the container's:
    /// the caller goes on making the container meanwhile.
    spawning: super::runtime::other_cpu::Thread<(Result<()>, TakenCgroup)>,
}

/// The spare cgroup `run` took as its container's (see [`Cgroup::take_spare`]), removed
/// if the container is never started.
struct TakenCgroup(Option<Cgroup>);

impl TakenCgroup {
    fn into_inner(mut self) -> Option<Cgroup> {
        self.0.take()
    }
}

impl MonitorAhead {
    /// Starts the monitor of a container yet to be made in the engine root `root` (as
    /// [`Engine::open`] resolved it), labelled `name` in `ps` (its short ID without one):
    /// what [`Engine::monitor_ahead`] does, for a caller with no engine open yet.
    pub fn start(root: &std::path::Path, name: Option<&str>) -> Result<MonitorAhead> {
        let id = ContainerId::random();
        let (stream, theirs) =
            UnixStream::pair().context(|| "creating the monitor socket".into())?;
        let spawn_root = root.to_path_buf();
        let label = name.unwrap_or(id.short()).to_owned();
        let monitor_id = id.clone();
        let cgroup_name = id.clone();
        // A vfork-style spawn holds only the thread that makes it (see `runtime::spawn`),
        // which starts on another CPU than this one's create, where there is one. The
        // spare cgroup's renames (one per hierarchy) are its too, off the create's path.
        let spawning = super::runtime::other_cpu::spawn("monitor-spawn", move || {
            let spawned = spawn_monitor(&spawn_root, &monitor_id, &label, true, theirs);
            (
                spawned,
                TakenCgroup(Cgroup::take_spare(cgroup_name.as_str())),
            )
        })
        .context(|| "starting the container monitor".into())?;
        Ok(MonitorAhead {
            root: root.to_path_buf(),
            id,
            stream,
            spawning,
        })
    }

    /// The engine root the monitor was started for.
    pub fn root(&self) -> &std::path::Path {
        &self.root
    }
}

impl Drop for TakenCgroup {
    fn drop(&mut self) {
        if let Some(mut cgroup) = self.0.take() {
            // No container to report it with: a leftover of its own, named once.
            if let Err(e) = cgroup.remove() {
                eprintln!("berth: removing the cgroup of a run that made no container: {e}");
            }
        }
    }
}

/// A start of a container already running is Docker's conflict.
fn refuse_running(record: &ContainerRecord) -> Result<()> {
    if matches!(record.state.status, Status::Running | Status::Restarting) {
        return Err(Error::Conflict(format!(
            "container {} is already running",
            record.name
        )));
    }
    Ok(())
}

/// What `create` and `run` ask for, parsed from the user's flags.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub image: String,
    pub name: Option<String>,
    /// Replaces the image's CMD when not empty.
    pub cmd: Vec<String>,
    /// Replaces the image's ENTRYPOINT; `Some("")` clears it.
    pub entrypoint: Option<String>,
    /// `KEY=VALUE` entries added to (and overriding) the image's environment.
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub hostname: Option<String>,
    pub tty: bool,
    pub open_stdin: bool,
    pub auto_remove: bool,
    pub read_only: bool,
    pub resources: Resources,
    /// `--oom-score-adj`, -1000 to 1000.
    pub oom_score_adj: i64,
    pub labels: BTreeMap<String, String>,
    pub mounts: Vec<MountSpec>,
    /// `--volumes-from CONTAINER[:ro|:rw]`: that container's volumes and binds.
    pub volumes_from: Vec<String>,
    /// `--log-opt`: the log's rotation.
    pub log: super::logs::LogConfig,
    /// `--network`: a network's name or ID, `host` or `none`; `None` is the default bridge.
    pub network: Option<String>,
    /// `--ip`: a static address on that network.
    pub ip: Option<Ipv4Addr>,
    /// `--network-alias`: more names the container answers to on that network.
    pub aliases: Vec<String>,
    /// `-p`.
    pub ports: Vec<PortSpec>,
    /// `-P`: every exposed port `-p` leaves unpublished, on free host ports.
    pub publish_all: bool,
    /// `--expose`: more ports the container listens on, published only by `-P`.
    pub expose: Vec<ExposedPort>,
    /// `--dns`.
    pub dns: Vec<Ipv4Addr>,
    /// `--add-host NAME:IP`.
    pub extra_hosts: Vec<(String, Ipv4Addr)>,
    // `--dns-search`, `--dns-option`, `--mac-address`, `--link-local-ip`.
    /// `--dns-search`: resolv.conf's search domains (`.` alone: none).
    pub dns_search: Vec<String>,
    /// `--dns-option`: resolv.conf's options.
    pub dns_options: Vec<String>,
    /// `--mac-address` and `--link-local-ip`, on the endpoint of the network joined here.
    pub endpoint: EndpointExtras,
    // Restarting and stopping.
    /// `--restart`.
    pub restart_policy: super::restart::RestartPolicy,
    /// `--stop-signal`: replaces the image's StopSignal.
    pub stop_signal: Option<String>,
    /// `--stop-timeout`, in seconds.
    pub stop_timeout: Option<i32>,
    /// Security and device options (`--cap-add`, `--privileged`, `--device`, `--init`...).
    pub security: super::security::SecurityConfig,
    // Health checks.
    /// `--health-*` or `--no-healthcheck`, merged over the image's HEALTHCHECK.
    pub health: Option<super::health::HealthConfig>,
    /// `--pid`, `--ipc`, `--uts`, `--userns`, `--cgroupns` as given.
    pub namespaces: super::namespaces::NamespaceFlags,
    /// `--domainname`.
    pub domainname: Option<String>,
    /// `--link NAME[:ALIAS]`.
    pub links: Vec<String>,
    // `--annotation`, `--runtime`, `--volume-driver`.
    /// `--annotation KEY=VALUE`: into the OCI config's annotations.
    pub annotations: BTreeMap<String, String>,
    /// `--runtime`: berth's own, under the names it answers to (see `check_runtime`).
    pub runtime: Option<String>,
    /// `--volume-driver`: `local`, the only one.
    pub volume_driver: Option<String>,
    /// The streams the client attaches; None is `create`'s (stdout, stderr, stdin with
    /// `-i`).
    pub attach: Option<super::record::AttachStreams>,
}

/// Who stops a container: the user (Docker's HasBeenManuallyStopped) or the host's
/// shutdown.
#[derive(Clone, Copy)]
enum StopBy {
    User,
    Shutdown,
}

/// A started container with the stream to its monitor; drop it to detach.
pub struct Started {
    pub record: ContainerRecord,
    pub stream: UnixStream,
}

impl Started {
    /// Leaves the container running on its own, its stdin kept open (see
    /// [`super::frames::Kind::Detach`]); dropping a `Started` instead closes a pipe
    /// stdin, as a client that went away does.
    pub fn detach(mut self) {
        let _ = super::frames::write_frame(&mut self.stream, Kind::Detach, &[]);
    }
}

pub(super) fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A container name as Docker accepts it, or the error saying why not.
fn check_name(name: &str) -> Result<()> {
    if valid_name(name) {
        return Ok(());
    }
    Err(Error::invalid(
        "container name",
        name,
        "only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
    ))
}

/// `--domainname`: a DNS name the kernel takes (64 bytes at most).
fn check_domainname(domain: &str) -> Result<()> {
    let fine = domain.len() <= 64
        && domain
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if domain.is_empty() || fine {
        return Ok(());
    }
    Err(Error::invalid(
        "domain name",
        domain,
        "use a DNS name of letters, digits, '-' and '.', 64 characters at most",
    ))
}

/// A `--dns-search` domain as Docker's CLI takes it: `.` (no search list), or a DNS
/// name of letters, digits and inner '-', with at least one letter and an optional
/// trailing dot, under 255 characters.
pub fn check_dns_search(domain: &str) -> Result<()> {
    let label = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let name = domain.strip_suffix('.').unwrap_or(domain);
    let fine = domain == "."
        || (domain.len() < 255
            && domain.bytes().any(|b| b.is_ascii_alphabetic())
            && name.split('.').all(label));
    if fine {
        return Ok(());
    }
    Err(Error::invalid(
        "--dns-search",
        domain,
        format!("{domain} is not a valid domain"),
    ))
}

/// A `--dns-option` (`ndots:2`, `edns0`): one resolv.conf option, a word without spaces
/// (anything else would add options, or lines, the user did not write).
pub fn check_dns_option(option: &str) -> Result<()> {
    let fine =
        !option.is_empty() && option.len() < 256 && option.chars().all(|c| c.is_ascii_graphic());
    if fine {
        return Ok(());
    }
    Err(Error::invalid(
        "--dns-option",
        option,
        "use one option per flag, a word without spaces (e.g. ndots:2, edns0)",
    ))
}

/// The names berth's own runtime answers to for `--runtime`: Docker's default, so a
/// copied `--runtime runc` runs, and berth's.
pub const RUNTIME_NAMES: [&str; 2] = ["runc", "berth"];

/// `--runtime`: berth has one runtime, its own; other names are refused in Docker's words.
pub fn check_runtime(name: &str) -> Result<()> {
    if RUNTIME_NAMES.contains(&name) {
        return Ok(());
    }
    Err(Error::invalid(
        "--runtime",
        name,
        format!(
            "unknown or invalid runtime name: {name} (berth runs containers with its own runtime, named runc or berth)"
        ),
    ))
}

/// `--volume-driver`: berth's volumes are all of Docker's `local` driver.
pub fn check_volume_driver(name: &str) -> Result<()> {
    if name.is_empty() || name == "local" {
        return Ok(());
    }
    Err(Error::invalid(
        "--volume-driver",
        name,
        format!("volume driver {name} is not available: berth has only the local driver (no volume plugins)"),
    ))
}

/// `--annotation` keys, as Docker's daemon checks them (none empty), and none of berth's
/// own, which tell its runtime what to do (`org.berth.init`).
pub fn check_annotations(annotations: &BTreeMap<String, String>) -> Result<()> {
    if annotations.contains_key("") {
        return Err(Error::invalid(
            "--annotation",
            "",
            "the empty string is not permitted as an annotation key",
        ));
    }
    let own = super::spec::OWN_ANNOTATIONS;
    if let Some(key) = annotations.keys().find(|k| k.starts_with(own)) {
        return Err(Error::invalid(
            "--annotation",
            key,
            format!("annotations under {own} are berth's own (use --init and the other flags)"),
        ));
    }
    Ok(())
}

/// How long `stop` waits for a restart policy's monitor before it looks again.
const RECHECK_STOP: Duration = Duration::from_millis(500);

/// The signal `stop` sends first and how long it waits before SIGKILL (None: for good):
/// the caller's, else the container's own (`--stop-signal`, `--stop-timeout`), else
/// Docker's SIGTERM and 10 s.
fn stop_plan(
    record: &ContainerRecord,
    timeout: Option<Duration>,
    signal: Option<Signal>,
) -> (Signal, Option<Duration>) {
    let signal = signal
        .or_else(|| {
            record
                .config
                .stop_signal
                .as_deref()
                .and_then(crate::container::runtime::process::parse_signal)
        })
        .unwrap_or(Signal::SIGTERM);
    let timeout = match (timeout, record.config.stop_timeout) {
        (Some(timeout), _) => Some(timeout),
        (None, Some(seconds)) if seconds < 0 => None,
        (None, Some(seconds)) => Some(Duration::from_secs(seconds as u64)),
        (None, None) => Some(Duration::from_secs(10)),
    };
    (signal, timeout)
}

/// Whether the user's `kill` with `signal` ends the restart loop, as Docker's: SIGKILL
/// and the container's stop signal do, and any signal when it has none of its own.
fn ends_restart_loop(record: &ContainerRecord, signal: Signal) -> bool {
    let own = record
        .config
        .stop_signal
        .as_deref()
        .and_then(crate::container::runtime::process::parse_signal);
    signal == Signal::SIGKILL || own.is_none_or(|own| own == signal)
}

/// Wakes a monitor waiting out a restart's backoff, so it sees the user's stop now.
fn wake_monitor(record: &ContainerRecord) -> Result<()> {
    if let Some(monitor) = record.state.monitor {
        monitor.signal(Signal::SIGTERM)?;
    }
    Ok(())
}

/// A restart policy with `--rm` is refused, as Docker's CLI does: the container would be
/// gone at its first exit.
fn check_restart(opts: &CreateOptions) -> Result<()> {
    if opts.auto_remove && !opts.restart_policy.is_none() {
        return Err(Error::invalid(
            "restart policy",
            opts.restart_policy.mode.as_str(),
            "Conflicting options: --restart and --rm",
        ));
    }
    Ok(())
}

/// A stop signal `stop` could send, in Docker's words when not.
pub(crate) fn check_stop_signal(text: &str) -> Result<()> {
    match crate::container::runtime::process::parse_signal(text) {
        Some(_) => Ok(()),
        None => Err(Error::invalid(
            "stop signal",
            text,
            format!("Invalid signal: {text}"),
        )),
    }
}

/// Merges `KEY=VALUE` overrides into an environment, replacing keys that exist.
pub(crate) fn merge_env(base: &[String], overrides: &[String]) -> Vec<String> {
    let mut env: Vec<String> = base.to_vec();
    for entry in overrides {
        let key = entry.split('=').next().unwrap_or(entry);
        match env.iter_mut().find(|e| e.split('=').next() == Some(key)) {
            Some(existing) => *existing = entry.clone(),
            None => env.push(entry.clone()),
        }
    }
    env
}

/// The container's /etc/hosts: localhost, its own name on its first address (Docker
/// writes the hostname there), and `--add-host` lines.
fn hosts_file(hostname: &str, ip: Option<Ipv4Addr>, extra: &[(String, Ipv4Addr)]) -> String {
    let mut text = String::from(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
    );
    for (name, ip) in extra {
        text.push_str(&format!("{ip}\t{name}\n"));
    }
    if let Some(ip) = ip {
        text.push_str(&format!("{ip}\t{hostname}\n"));
    }
    text
}

/// The container's /etc/resolv.conf. On a user-defined network: the embedded resolver,
/// which answers container names and forwards the rest. Elsewhere the host's servers,
/// without loopback ones, which mean nothing in the container's own network namespace
/// (the host's namespace keeps them all); `--dns` replaces the servers.
fn resolv_conf(network: &NetworkConfig, user_defined: bool) -> String {
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    resolv_conf_from(&host, network, user_defined)
}

/// [`resolv_conf`] from the host's text.
fn resolv_conf_from(host: &str, network: &NetworkConfig, user_defined: bool) -> String {
    let keyword = |l: &str| l.split_whitespace().next().unwrap_or_default().to_owned();
    let is_server = |l: &str| keyword(l) == "nameserver";
    // `--dns-search` and `--dns-option` replace the host's lines of their kind.
    let replaced = |l: &str| {
        let k = keyword(l);
        (!network.dns_search.is_empty() && (k == "search" || k == "domain"))
            || (!network.dns_options.is_empty() && k == "options")
    };
    let loopback = |l: &str| {
        l.split_whitespace()
            .nth(1)
            .is_some_and(|ip| ip.starts_with("127.") || ip == "::1")
    };
    let host_servers = network.mode == NetworkMode::Host && network.dns.is_empty();
    let mut text: String = host
        .lines()
        .filter(|l| (!is_server(l) || host_servers) && !replaced(l))
        .map(|l| format!("{l}\n"))
        .collect();
    let servers: Vec<String> = if host_servers {
        Vec::new()
    } else if user_defined {
        vec![crate::network::dns::RESOLVER_ADDR.to_string()]
    } else if !network.dns.is_empty() {
        network.dns.iter().map(Ipv4Addr::to_string).collect()
    } else {
        let servers: Vec<String> = host
            .lines()
            .filter(|l| is_server(l) && !loopback(l))
            .filter_map(|l| l.split_whitespace().nth(1).map(str::to_owned))
            .collect();
        // Docker's fallback when the host has only loopback resolvers.
        if servers.is_empty() {
            vec!["8.8.8.8".into(), "8.8.4.4".into()]
        } else {
            servers
        }
    };
    for server in servers {
        text.push_str(&format!("nameserver {server}\n"));
    }
    // `.` is Docker's way to ask for no search list: the host's goes, nothing comes.
    let search: Vec<&str> = network
        .dns_search
        .iter()
        .map(String::as_str)
        .filter(|d| *d != ".")
        .collect();
    if !search.is_empty() {
        text.push_str(&format!("search {}\n", search.join(" ")));
    }
    if !network.dns_options.is_empty() {
        text.push_str(&format!("options {}\n", network.dns_options.join(" ")));
    }
    text
}

/// Names of the anonymous volumes a container mounts.
pub(crate) fn anonymous_volumes(record: &ContainerRecord) -> Vec<String> {
    record
        .config
        .mounts
        .iter()
        .filter(|m| m.kind == MountKind::Volume && m.anonymous)
        .map(|m| m.source.clone())
        .collect()
}

/// This machine's name, for containers on its network.
fn host_name() -> Option<String> {
    let uts = nix::sys::utsname::uname().ok()?;
    Some(uts.nodename().to_string_lossy().into_owned()).filter(|n| !n.is_empty())
}

/// Docker's Config.ExposedPorts: the image's EXPOSE, `--expose` and each port `-p`
/// publishes.
fn exposed_ports(
    opts: &CreateOptions,
    image: &oci_spec::image::Config,
) -> Result<Vec<ExposedPort>> {
    let mut exposed = parse_exposed(image.exposed_ports().as_deref().unwrap_or_default())?;
    exposed.extend(&opts.expose);
    exposed.extend(opts.ports.iter().map(ExposedPort::from));
    exposed.sort();
    exposed.dedup();
    Ok(exposed)
}

/// The container's networking from its flags and the network it joins first.
fn network_config(
    opts: &CreateOptions,
    network: &NetworkRecord,
    exposed: &[ExposedPort],
) -> Result<NetworkConfig> {
    let mode = match network.driver {
        Driver::Host => NetworkMode::Host,
        Driver::Null => NetworkMode::None,
        Driver::Bridge | Driver::Macvlan | Driver::Ipvlan => NetworkMode::Connected,
    };
    let mut ports = opts.ports.clone();
    if opts.publish_all {
        ports.extend(publish_all(exposed, &opts.ports));
    }
    // Docker drops published ports on the host's network (they are the host's already)
    // and on none (nothing could reach them).
    if mode != NetworkMode::Connected {
        ports.clear();
    }
    Ok(NetworkConfig {
        mode,
        name: network.name.clone(),
        ports,
        dns: opts.dns.clone(),
        extra_hosts: opts.extra_hosts.clone(),
        dns_search: opts.dns_search.clone(),
        dns_options: opts.dns_options.clone(),
        mac_address: opts.endpoint.mac,
    })
}

impl Engine {
    /// `--link NAME[:ALIAS]`, Docker's legacy links: the linked container must run on the
    /// same network; its address goes to the hosts file under the alias and its name.
    fn add_links(
        &self,
        links: &[String],
        network: &NetworkRecord,
        config: &mut ContainerConfig,
    ) -> Result<()> {
        for link in links {
            let (name, alias) = link.split_once(':').unwrap_or((link, link));
            if name.is_empty() || !valid_name(alias) {
                return Err(Error::invalid("--link", link, "use NAME[:ALIAS]"));
            }
            let target = self.container(name)?;
            if target.state.status != Status::Running {
                return Err(Error::invalid(
                    "--link",
                    link,
                    format!("Cannot link to a non running container: /{}", target.name),
                ));
            }
            let ip = network
                .endpoint(&target.id)
                .and_then(|e| e.ip)
                .ok_or_else(|| {
                    Error::invalid(
                        "--link",
                        link,
                        format!(
                            "container {} is not on network {}",
                            target.name, network.name
                        ),
                    )
                })?;
            for host in [alias, target.name.as_str()] {
                if !config.network.extra_hosts.iter().any(|(h, _)| h == host) {
                    config.network.extra_hosts.push((host.to_owned(), ip));
                }
            }
            config.links.push((target.name.clone(), alias.to_owned()));
        }
        Ok(())
    }

    /// The container whose namespace another joins (`--pid container:NAME`).
    fn namespace_donor(&self, name: &str) -> Result<crate::ids::ContainerId> {
        Ok(self.container(name)?.id)
    }

    /// Creates a container: its record, its writable layer and the files the engine puts
    /// in every container. A failure leaves nothing behind.
    pub fn create_container(&self, opts: CreateOptions) -> Result<ContainerRecord> {
        self.create_container_as(opts, ContainerId::random(), None)
    }

    /// Creates the container whose monitor was started ahead (see
    /// [`Engine::monitor_ahead`]), under the ID that monitor waits for. It starts next,
    /// so its writable layer gets the bind-mount targets init needs (see `etc_targets`).
    pub fn create_container_for(
        &self,
        opts: CreateOptions,
        ahead: &MonitorAhead,
    ) -> Result<ContainerRecord> {
        crate::faults::pause_point("run:before-create");
        self.create_container_as(opts, ahead.id.clone(), Some(ahead))
    }

    /// Makes container `id`; `ahead`, the monitor that starts it right after (`run`),
    /// None for a container made without a start (`create`).
    fn create_container_as(
        &self,
        opts: CreateOptions,
        id: ContainerId,
        ahead: Option<&MonitorAhead>,
    ) -> Result<ContainerRecord> {
        let image = self.resolve_image(&opts.image)?;
        if let Some(name) = &opts.name {
            check_name(name)?;
        }
        check_restart(&opts)?;
        if let Some(domain) = &opts.domainname {
            check_domainname(domain)?;
        }
        for domain in &opts.dns_search {
            check_dns_search(domain)?;
        }
        for option in &opts.dns_options {
            check_dns_option(option)?;
        }
        if let Some(runtime) = &opts.runtime {
            check_runtime(runtime)?;
        }
        if let Some(driver) = &opts.volume_driver {
            check_volume_driver(driver)?;
        }
        check_annotations(&opts.annotations)?;
        // The front door showed the warnings; this keeps every door to Docker's rules.
        let mut resources = opts.resources.clone();
        super::limits::check(&mut resources, &super::limits::HostLimits::detect(), false)?;
        super::runtime::cgroups::check_rt_budget(&resources, None)?;
        let oom_score_adj = super::limits::check_oom_score_adj(opts.oom_score_adj)?;
        let namespaces = super::namespaces::Namespaces::from_flags(
            &opts.namespaces,
            opts.hostname.is_some(),
            |name| self.namespace_donor(name),
        )?;
        if let super::namespaces::NamespaceMode::Container(donor) = &namespaces.ipc {
            let donor = self.container(donor.as_str())?;
            if !matches!(
                donor.config.namespaces.ipc,
                super::namespaces::NamespaceMode::Shareable
                    | super::namespaces::NamespaceMode::Host
            ) {
                return Err(Error::invalid(
                    "--ipc mode",
                    format!("container:{}", donor.name),
                    "non-shareable IPC (hint: use --ipc shareable for the donor container)",
                ));
            }
        }
        let img = image.config.config().clone().unwrap_or_default();
        let stop_signal = opts
            .stop_signal
            .clone()
            .or_else(|| img.stop_signal().clone())
            .filter(|s| !s.is_empty());
        if let Some(signal) = &stop_signal {
            check_stop_signal(signal)?;
        }
        let health =
            super::health::HealthConfig::merge(opts.health.clone(), image.healthcheck.clone());
        if let Some(health) = &health {
            health.validate()?;
        }
        let entrypoint = match &opts.entrypoint {
            Some(e) if e.is_empty() => Vec::new(),
            Some(e) => vec![e.clone()],
            None => img.entrypoint().clone().unwrap_or_default(),
        };
        // Docker drops the image's CMD when the entrypoint is overridden.
        let cmd = if !opts.cmd.is_empty() {
            opts.cmd.clone()
        } else if opts.entrypoint.is_some() {
            Vec::new()
        } else {
            img.cmd().clone().unwrap_or_default()
        };
        if entrypoint.is_empty() && cmd.is_empty() {
            return Err(Error::Runtime(format!(
                "no command specified for image {}",
                opts.image
            )));
        }
        let hostname = opts
            .hostname
            .clone()
            .unwrap_or_else(|| id.short().to_owned());
        let mut labels: BTreeMap<String, String> = img
            .labels()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        labels.extend(opts.labels.clone());
        let config = ContainerConfig {
            entrypoint,
            cmd,
            env: merge_env(&img.env().clone().unwrap_or_default(), &opts.env),
            working_dir: opts
                .working_dir
                .clone()
                .or_else(|| img.working_dir().clone())
                .filter(|w| !w.is_empty())
                .unwrap_or_else(|| "/".into()),
            user: opts
                .user
                .clone()
                .or_else(|| img.user().clone())
                .unwrap_or_default(),
            hostname,
            tty: opts.tty,
            open_stdin: opts.open_stdin,
            auto_remove: opts.auto_remove,
            read_only: opts.read_only,
            resources,
            oom_score_adj,
            labels,
            log: opts.log.clone(),
            mounts: self
                .container_mounts_for(&opts, img.volumes().as_deref().unwrap_or_default())?,
            network: NetworkConfig::default(),
            exposed_ports: Vec::new(),
            restart_policy: opts.restart_policy,
            stop_signal,
            stop_timeout: opts.stop_timeout,
            security: opts.security.clone(),
            health,
            namespaces,
            domainname: opts.domainname.clone().unwrap_or_default(),
            links: Vec::new(),
            annotations: opts.annotations.clone(),
            runtime: opts.runtime.clone(),
            volume_driver: opts.volume_driver.clone().unwrap_or_default(),
            attach: Some(
                opts.attach
                    .unwrap_or(super::record::AttachStreams::created(opts.open_stdin)),
            ),
        };
        // The network is looked up before the lock: the first look makes the built-ins.
        let network = self.network_record(opts.network.as_deref().unwrap_or(DEFAULT_NETWORK))?;
        let mut config = config;
        config.exposed_ports = exposed_ports(&opts, &img)?;
        config.network = network_config(&opts, &network, &config.exposed_ports)?;
        self.add_links(&opts.links, &network, &mut config)?;
        let host_uts = config.namespaces.uts == super::namespaces::NamespaceMode::Host;
        if opts.hostname.is_none() && (config.network.mode == NetworkMode::Host || host_uts) {
            // Docker's: a container on the host's network takes the host's name.
            config.hostname = host_name().unwrap_or(config.hostname);
        }
        config
            .security
            .validate(config.network.mode != NetworkMode::Host)?;
        if !config.working_dir.starts_with('/') {
            return Err(Error::invalid(
                "working directory",
                &config.working_dir,
                "it must be an absolute path",
            ));
        }

        let lock = self.lock()?;
        let mut index = self.index_for_update(&lock)?;
        let name = match &opts.name {
            Some(name) => {
                self.check_name_free(&lock, &index, name)?;
                name.clone()
            }
            None => self.generate_name(&index)?,
        };
        let record = ContainerRecord {
            id: id.clone(),
            name,
            created: Utc::now(),
            image: opts.image.clone(),
            image_id: image.id.clone(),
            chain_ids: image.chain_ids.clone(),
            config,
            state: ContainerState::default(),
        };
        let dir = self.container_dir(&id);
        let mut record = record;
        let mut new_volumes = Vec::new();
        let made = (|| {
            // Before anything makes the container: a crash leaves an extra entry, never
            // a container the index doesn't know.
            self.index_new_container(&lock, &mut index, &id, &record.name)?;
            crash_point("create:after-index");
            self.prepare_mount_sources(&lock, &mut record.config.mounts, &mut new_volumes)?;
            crash_point("create:after-volumes");
            // The spare a monitor made ahead (see `spare_dir`), or made here.
            if !self.take_spare_container_dir(&dir) {
                super::spare_dir::make_container_dir(&dir)?;
            }
            let overlay = OverlayDirs::in_container_dir(&dir, Vec::new());
            // Only for a start that follows: a container never started shows no such
            // file (`export`, a build's copy source), as before.
            super::etc_targets::settle(self, &record.chain_ids, &overlay.upper, ahead.is_some())?;
            crash_point("create:after-dir");
            // The layer is as the container starts with it: its monitor mounts the root
            // while the rest is made (see `early_mount`). Unasked, it mounts after the go.
            if let Some(ahead) = ahead {
                let _ = super::early_mount::send(
                    &ahead.stream,
                    &record.chain_ids,
                    record.config.is_throwaway(),
                );
            }
            // After the directory: a lease whose container has none is reclaimed.
            let endpoint = self.allocate_endpoint_locked(
                &lock,
                &network.id,
                &id,
                &record.name,
                opts.ip,
                opts.aliases.clone(),
                &opts.endpoint,
            )?;
            std::fs::write(
                dir.join("hostname"),
                format!("{}\n", record.config.hostname),
            )
            .context(|| "writing hostname".into())?;
            let net = &record.config.network;
            let hosts = hosts_file(&record.config.hostname, endpoint.ip, &net.extra_hosts);
            std::fs::write(dir.join("hosts"), hosts).context(|| "writing hosts".into())?;
            std::fs::write(
                dir.join("resolv.conf"),
                resolv_conf(net, network.resolves_names()),
            )
            .context(|| "writing resolv.conf".into())?;
            // The record goes last: a directory without one is not a container.
            self.save_record_of_run(&record)?;
            crash_point("create:after-record");
            Ok(())
        })();
        if let Err(e) = made {
            let mut teardown = Teardown::default();
            teardown.step(
                "release endpoint",
                &id,
                self.release_endpoint_locked(&lock, &network.id, &id),
            );
            teardown.step("remove directory", dir.display(), remove_dir_all(&dir));
            teardown.step("unindex", &id, self.unindex(&lock, &id, None));
            for name in &new_volumes {
                let volume = self.paths().volumes_dir().join(name);
                teardown.step("remove volume", name, remove_dir_all(&volume));
            }
            self.report_teardown(&record, &teardown);
            return Err(e);
        }
        self.record_event(&container_event(&record, "create"));
        Ok(record)
    }

    /// The mounts a new container gets: the user's, those of `--volumes-from`, and an
    /// anonymous volume for each VOLUME of the image not already covered.
    fn container_mounts_for(
        &self,
        opts: &CreateOptions,
        image_volumes: &[String],
    ) -> Result<Vec<MountSpec>> {
        let mut mounts = opts.mounts.clone();
        for spec in &opts.volumes_from {
            let (name, read_only) = match spec.rsplit_once(':') {
                Some((n, "ro")) => (n, Some(true)),
                Some((n, "rw")) => (n, Some(false)),
                Some((_, other)) => {
                    return Err(Error::invalid(
                        "--volumes-from",
                        spec,
                        format!("unknown mode {other:?}: use ro or rw"),
                    ))
                }
                None => (spec.as_str(), None),
            };
            let source = self.find_record(name)?;
            for m in source
                .config
                .mounts
                .iter()
                .filter(|m| m.kind != MountKind::Tmpfs)
            {
                if mounts.iter().any(|have| have.destination == m.destination) {
                    continue;
                }
                let mut shared = m.clone();
                shared.read_only = read_only.unwrap_or(m.read_only);
                shared.create_source = false;
                // Not this container's `-v`: out of its HostConfig.Binds.
                shared.given_as = None;
                mounts.push(shared);
            }
        }
        // A build step's changes under a VOLUME stay in its layer, as BuildKit's do.
        let build = opts.labels.contains_key(crate::build::BUILD_LABEL);
        for destination in image_volumes.iter().filter(|_| !build) {
            let covered = mounts
                .iter()
                .any(|m| m.destination.trim_end_matches('/') == destination.trim_end_matches('/'));
            if !covered {
                mounts.push(MountSpec::anonymous_volume(destination)?);
            }
        }
        check_unique_destinations(&mounts)?;
        // Parents before children, so a mount inside another mount lands on top of it.
        mounts.sort_by_key(|m| m.destination.trim_end_matches('/').matches('/').count());
        Ok(mounts)
    }

    /// Creates the volumes and `-v` bind sources a container needs (lock held), naming
    /// anonymous volumes. Volumes it creates are listed in `created` for rollback.
    fn prepare_mount_sources(
        &self,
        _held: &StateLock,
        mounts: &mut [MountSpec],
        created: &mut Vec<String>,
    ) -> Result<()> {
        for m in mounts.iter_mut() {
            match m.kind {
                MountKind::Volume => {
                    let existed =
                        !m.source.is_empty() && self.paths().volume_data(&m.source).exists();
                    let name = (!m.source.is_empty()).then_some(m.source.as_str());
                    let volume = self.ensure_volume(_held, name, BTreeMap::new(), m.anonymous)?;
                    if !existed {
                        created.push(volume.name.clone());
                    }
                    m.source = volume.name;
                }
                MountKind::Bind => {
                    let source = std::path::Path::new(&m.source);
                    if !source.exists() {
                        if !m.create_source {
                            return Err(Error::invalid(
                                "mount config for type \"bind\"",
                                &m.source,
                                "bind source path does not exist",
                            ));
                        }
                        std::fs::create_dir_all(source)
                            .context(|| format!("creating bind source {}", m.source))?;
                    }
                }
                MountKind::Tmpfs => {}
            }
        }
        Ok(())
    }

    /// `rename`: the container's new name, also on its network endpoints, so other
    /// containers resolve it by the new name at once (and no longer by the old one).
    pub fn rename_container(&self, name_or_id: &str, new_name: &str) -> Result<ContainerRecord> {
        check_name(new_name)?;
        let lock = self.lock()?;
        let mut record = self.find_record(name_or_id)?;
        let old = record.name.clone();
        if old == new_name {
            return Err(Error::Conflict(format!(
                "renaming container {old}: it already has that name"
            )));
        }
        let mut index = self.index_for_update(&lock)?;
        self.check_name_free(&lock, &index, new_name)?;
        // Both names are indexed while the record changes; the old one goes after it.
        self.index_new_name(&lock, &mut index, &record.id, new_name)?;
        crash_point("rename:after-index");
        record.name = new_name.to_owned();
        self.save_record(&record)?;
        crash_point("rename:after-record");
        self.unindex(&lock, &record.id, Some(new_name))?;
        for mut network in self.read_networks()? {
            let mut changed = false;
            for endpoint in network.endpoints.iter_mut() {
                if endpoint.container_id == record.id {
                    endpoint.container_name = new_name.to_owned();
                    changed = true;
                }
            }
            if changed {
                self.save_network(&network)?;
            }
        }
        self.record_event(&container_event(&record, "rename").with("oldName", format!("/{old}")));
        Ok(record)
    }

    /// A Docker-style `adjective_name` not used by another container (`index` from
    /// [`Engine::index_for_update`], lock held).
    fn generate_name(&self, index: &super::store::NameIndex) -> Result<String> {
        const LEFT: &[&str] = &[
            "brave", "calm", "eager", "fond", "keen", "lucid", "nifty", "quiet", "sharp", "tidy",
            "vivid", "witty",
        ];
        const RIGHT: &[&str] = &[
            "albatross",
            "beacon",
            "cutter",
            "dinghy",
            "harbor",
            "keel",
            "lantern",
            "mooring",
            "pilot",
            "quay",
            "schooner",
            "tugboat",
        ];
        let taken = self.taken_names(index);
        loop {
            let mut bytes = [0u8; 3];
            getrandom::fill(&mut bytes)
                .map_err(|e| Error::Runtime(format!("random source: {e}")))?;
            let mut name = format!(
                "{}_{}",
                LEFT[bytes[0] as usize % LEFT.len()],
                RIGHT[bytes[1] as usize % RIGHT.len()]
            );
            if taken.contains(name.as_str()) {
                name.push_str(&(bytes[2] % 100).to_string());
            }
            if !taken.contains(name.as_str()) {
                return Ok(name);
            }
        }
    }

    /// Starts a created or exited container under a new monitor. Returns once the
    /// container's process runs (or with the reason it could not start).
    pub fn start_container(&self, name_or_id: &str) -> Result<Started> {
        let record = self.container(name_or_id)?;
        let _op = self.container_op_lock(&record)?;
        self.start_locked(record.id.as_str())
    }

    /// [`Engine::start_container`] with the container's operation lock held (see
    /// [`Engine::container_op_lock`]): its state is read afresh under it.
    fn start_locked(&self, id: &str) -> Result<Started> {
        let record = self.container(id)?;
        refuse_running(&record)?;
        let stream = self.spawn_monitor(&record.id, &record.name, false)?;
        crash_point("start:after-spawn");
        self.await_start(record, stream)
    }

    /// Starts a monitor for a container about to be made (`run`): its exec and the
    /// loading of its binary, the longest part of its start, overlap the container's
    /// create instead of following it. It waits until [`Engine::start_container_ahead`]
    /// tells it the record is complete; dropped unused (a create that failed), it exits.
    /// `name` is the container's name when the user chose one, for `ps` to show.
    pub fn monitor_ahead(&self, name: Option<&str>) -> Result<MonitorAhead> {
        MonitorAhead::start(self.paths().root(), name)
    }

    /// Starts `record`, the container [`Engine::create_container_for`] just made, under
    /// its monitor started ahead. Returns as [`Engine::start_container`] does. The record
    /// is not read again: the monitor reads it, and reports it gone should it be.
    pub fn start_container_ahead(
        &self,
        ahead: MonitorAhead,
        record: &ContainerRecord,
    ) -> Result<Started> {
        let MonitorAhead {
            root,
            id,
            mut stream,
            spawning,
        } = ahead;
        if record.id != id || root != self.paths().root() {
            return Err(Error::Runtime(format!(
                "container {} was not made for this start",
                record.name
            )));
        }
        let record = record.clone();
        let (spawned, cgroup) = match spawning.join() {
            Ok(joined) => joined,
            Err(_) => (
                Err(Error::Runtime("the monitor's starter panicked".into())),
                TakenCgroup(None),
            ),
        };
        let mut premade = premake_cgroup(&record, cgroup);
        // A monitor that never ran has closed its end; the starter then says why.
        let sent = super::monitor::send_ahead_go(&mut stream);
        if let Err(e) =
            spawned.and(sent.context(|| format!("starting the monitor of {}", record.name)))
        {
            if let Some(cgroup) = &mut premade {
                self.remove_cgroup_reporting(&record, cgroup);
            }
            return Err(e);
        }
        crash_point("start:after-spawn");
        self.await_start(record, stream)
    }

    /// Waits for the monitor's word that the container's process runs.
    fn await_start(&self, record: ContainerRecord, stream: UnixStream) -> Result<Started> {
        let mut reader = stream
            .try_clone()
            .context(|| "cloning the monitor stream".into())?;
        match read_frame(&mut reader) {
            // The record as it was before the start: a quick `--rm` container may be gone
            // already by the time we could re-read it.
            Ok(Some((Kind::Started, _))) => Ok(Started { record, stream }),
            Ok(Some((Kind::Failed, payload))) if !payload.is_empty() => Err(Error::StartFailed {
                code: payload[0] as i32,
                message: String::from_utf8_lossy(&payload[1..]).into_owned(),
            }),
            _ => Err(Error::StartFailed {
                code: 125,
                message: format!(
                    "the monitor of {} exited before the container started",
                    record.name
                ),
            }),
        }
    }

    /// Starts the monitor of container `id` (`label` is what `ps` shows beside
    /// `berth-monitor`), detached from this process, and returns its control socket.
    fn spawn_monitor(&self, id: &ContainerId, label: &str, ahead: bool) -> Result<UnixStream> {
        let (ours, theirs) = UnixStream::pair().context(|| "creating the monitor socket".into())?;
        spawn_monitor(self.paths().root(), id, label, ahead, theirs)?;
        Ok(ours)
    }

    /// A container record by name or ID, with its state brought up to date.
    pub fn container(&self, name_or_id: &str) -> Result<ContainerRecord> {
        let record = self.find_record(name_or_id)?;
        self.reconcile(record)
    }

    /// Every container, with states brought up to date.
    /// Build containers (`berth build`'s steps) are never a user's: not listed.
    pub fn list_containers(&self) -> Result<Vec<ContainerRecord>> {
        self.load_records()?
            .into_iter()
            .filter(|r| !r.config.labels.contains_key(crate::build::BUILD_LABEL))
            .map(|r| self.reconcile(r))
            .collect()
    }

    /// A running container whose monitor is gone can't be supervised: its init was killed
    /// with the monitor (PDEATHSIG); mark it exited and clean up what it left.
    pub(super) fn reconcile(&self, record: ContainerRecord) -> Result<ContainerRecord> {
        let watched = |r: &ContainerRecord| {
            !matches!(r.state.status, Status::Running | Status::Restarting)
                || r.state.monitor.is_some_and(|m| m.is_alive())
        };
        if watched(&record) {
            return Ok(record);
        }
        let _lock = self.lock()?;
        let mut record = self.load_record(&record.id)?;
        if watched(&record) {
            return Ok(record);
        }
        // Between two runs of a restart policy nothing runs: it stays with its last exit.
        if record.state.status == Status::Restarting {
            record.state.status = Status::Exited;
            record.state.monitor = None;
            self.save_record(&record)?;
            return Ok(record);
        }
        // Killed with the monitor already, unless something held it up.
        if let Some(init) = record.state.init {
            let _ = init.signal(Signal::SIGKILL);
        }
        let mut teardown = Teardown::default();
        let mut cgroup = Cgroup::of(&record);
        teardown.step("remove cgroup", &record.id, cgroup.remove());
        let overlay = self.overlay_of(&record);
        teardown.step("unmount", overlay.merged.display(), overlay.unmount());
        self.report_teardown(&record, &teardown);
        record.state.status = Status::Exited;
        record.state.exit_code = Some(255);
        record.state.error = Some("the container's monitor exited unexpectedly".into());
        record.state.finished_at = Some(Utc::now());
        record.state.init = None;
        record.state.monitor = None;
        record.state.paused = false;
        let published = !std::mem::take(&mut record.state.ports).is_empty();
        self.save_record(&record)?;
        drop(_lock);
        // Its published ports lose their rules (the kernel took its veths already).
        if published {
            self.publish(&record.id, &[])?;
        }
        Ok(record)
    }

    /// What a container has written over its image (Docker's SIZE), its walk stopped
    /// after `max_entries` so a container's endless tree can't hold the caller.
    pub fn writable_layer_usage(
        &self,
        record: &ContainerRecord,
        max_entries: usize,
    ) -> crate::storage::volumes::DirUsage {
        crate::storage::volumes::dir_usage(&self.overlay_of(record).upper, max_entries)
    }

    pub(crate) fn overlay_of(&self, record: &ContainerRecord) -> OverlayDirs {
        let lower = record
            .chain_ids
            .iter()
            .map(|c| self.layer_diff_dir(c))
            .collect();
        OverlayDirs::in_container_dir(&self.container_dir(&record.id), lower)
    }

    /// Sends a signal to the container's init process.
    pub fn kill_container(&self, name_or_id: &str, signal: Signal) -> Result<ContainerRecord> {
        let record = self.container(name_or_id)?;
        if matches!(record.state.status, Status::Running | Status::Restarting) {
            self.note_user_stop(&record, ends_restart_loop(&record, signal))?;
        }
        if record.state.status == Status::Restarting {
            // Nothing runs to take the signal: ending the loop is all there is to do.
            wake_monitor(&record)?;
            return Ok(record);
        }
        let delivered = match (record.state.status, record.state.init) {
            (Status::Running, Some(init)) => init.signal(signal)?,
            _ => false,
        };
        if !delivered {
            return Err(Error::Conflict(format!(
                "cannot kill container {}: container is not running",
                record.name
            )));
        }
        self.thaw_to_deliver(&record, signal)?;
        self.record_event(
            &container_event(&record, "kill").with("signal", (signal as i32).to_string()),
        );
        Ok(record)
    }

    /// Stops a container: `signal` (else its stop signal, else SIGTERM), then SIGKILL
    /// after `timeout` (else its stop timeout, else 10 s). It ends a restart policy's
    /// loop. Returns once its monitor has recorded the exit and cleaned up.
    pub fn stop_container(
        &self,
        name_or_id: &str,
        timeout: impl Into<Option<Duration>>,
        signal: Option<Signal>,
    ) -> Result<ContainerRecord> {
        self.stop_as(name_or_id, timeout.into(), signal, StopBy::User)
    }

    /// Stops a container as the host shuts down, as Docker's daemon does when it stops:
    /// its stop signal, then SIGKILL after its stop timeout, the restart loop ended, but
    /// not noted as the user's stop, so `system boot` brings back what its policy says
    /// (`unless-stopped` too).
    pub fn stop_for_shutdown(&self, name_or_id: &str) -> Result<ContainerRecord> {
        self.stop_as(name_or_id, None, None, StopBy::Shutdown)
    }

    fn stop_as(
        &self,
        name_or_id: &str,
        timeout: Option<Duration>,
        signal: Option<Signal>,
        by: StopBy,
    ) -> Result<ContainerRecord> {
        let record = self.container(name_or_id)?;
        let _op = self.container_op_lock(&record)?;
        self.stop_locked(record.id.as_str(), timeout, signal, by)
    }

    /// [`Engine::stop_as`] with the container's operation lock held.
    fn stop_locked(
        &self,
        id: &str,
        timeout: Option<Duration>,
        signal: Option<Signal>,
        by: StopBy,
    ) -> Result<ContainerRecord> {
        let record = self.container(id)?;
        if !matches!(record.state.status, Status::Running | Status::Restarting) {
            return Ok(record);
        }
        let (first, timeout) = stop_plan(&record, timeout, signal);
        match by {
            StopBy::User => self.note_user_stop(&record, true)?,
            StopBy::Shutdown => {
                super::monitor::update_record(self, &record.id, |r| {
                    r.state.restart_cancelled = true
                })?;
            }
        }
        // Until the monitor is gone: one that was already starting the process again
        // when the stop was noted runs it once more, and that run is stopped in turn.
        loop {
            let current = match self.container(record.id.as_str()) {
                Ok(current) => current,
                Err(Error::NoSuchContainer(_)) => break,
                Err(e) => return Err(e),
            };
            // Only a restart policy's monitor outlives the process: the others are
            // waited for to the end, as ever.
            let recheck = (!current.config.restart_policy.is_none()).then_some(RECHECK_STOP);
            match (
                current.state.status,
                current.state.init,
                current.state.monitor,
            ) {
                (Status::Running, Some(init), Some(monitor)) => {
                    self.signal_to_stop(&current, init, first, timeout)?;
                    if monitor.wait_exit(recheck) {
                        break;
                    }
                }
                (Status::Restarting, _, Some(monitor)) => {
                    wake_monitor(&current)?;
                    if monitor.wait_exit(recheck) {
                        break;
                    }
                }
                _ => break,
            }
        }
        self.record_event(&container_event(&record, "stop"));
        match self.container(record.id.as_str()) {
            // A `--rm` container's monitor removed it as it exited: stopped all the same.
            Err(Error::NoSuchContainer(_)) if record.config.auto_remove => {
                let mut gone = record;
                gone.state.status = Status::Exited;
                gone.state.init = None;
                gone.state.monitor = None;
                Ok(gone)
            }
            other => other,
        }
    }

    /// `stop`'s signals to the running process `init`: `first`, then SIGKILL if it is
    /// still there after `timeout` (None waits for good). Each signal that reaches it is
    /// a `kill` event.
    fn signal_to_stop(
        &self,
        record: &ContainerRecord,
        init: super::record::ProcessHandle,
        first: Signal,
        timeout: Option<Duration>,
    ) -> Result<()> {
        let delivered = init.signal(first)?;
        // Sent first, then thawed, as Docker: the signal is waiting when it wakes. A
        // failed thaw fails the stop: a frozen container would never exit.
        if record.state.is_paused() {
            self.thaw(record)?;
        }
        if delivered {
            self.record_event(
                &container_event(record, "kill").with("signal", (first as i32).to_string()),
            );
        }
        if !init.wait_exit(timeout) && init.signal(Signal::SIGKILL)? {
            self.record_event(
                &container_event(record, "kill")
                    .with("signal", (Signal::SIGKILL as i32).to_string()),
            );
        }
        Ok(())
    }

    /// Notes that the user stopped or killed the container (Docker's
    /// HasBeenManuallyStopped); `cancel` also ends its restart loop.
    fn note_user_stop(&self, record: &ContainerRecord, cancel: bool) -> Result<()> {
        super::monitor::update_record(self, &record.id, |r| {
            r.state.manually_stopped = true;
            r.state.restart_cancelled |= cancel;
        })
        .map(drop)
    }

    /// `restart`: stops the container (see [`Engine::stop_container`]) and starts it
    /// again, detached. A `--rm` container is kept across its restart, as in Docker.
    pub fn restart_container(
        &self,
        name_or_id: &str,
        timeout: impl Into<Option<Duration>>,
        signal: Option<Signal>,
    ) -> Result<ContainerRecord> {
        let record = self.container(name_or_id)?;
        // One restart at a time: a second (a key pressed twice) waits, then restarts the
        // container the first started, as Docker's daemon serialises them.
        let _op = self.container_op_lock(&record)?;
        let record = self.container(record.id.as_str())?;
        if record.config.auto_remove && record.state.status == Status::Running {
            super::monitor::update_record(self, &record.id, |r| r.state.restarting = true)?;
        }
        let stopped =
            match self.stop_locked(record.id.as_str(), timeout.into(), signal, StopBy::User) {
                Ok(stopped) => stopped,
                Err(e) => {
                    let _ = super::monitor::update_record(self, &record.id, |r| {
                        r.state.restarting = false
                    });
                    return Err(e);
                }
            };
        let started = self.start_locked(stopped.id.as_str())?;
        self.record_event(&container_event(&record, "restart"));
        // Running on its own, its stdin kept for a later attach, as after `run -d`.
        let restarted = started.record.clone();
        started.detach();
        Ok(restarted)
    }

    /// Takes container `record`'s operation lock (`op.lock` in its directory): its
    /// starts, stops and restarts run one at a time, so two at once can't both start a
    /// monitor or wire its network twice. Held until the operation has its answer.
    fn container_op_lock(&self, record: &ContainerRecord) -> Result<StateLock> {
        let dir = self.container_dir(&record.id);
        // A container removed meanwhile has no directory to lock.
        StateLock::acquire(&dir.join(OP_LOCK)).map_err(|e| {
            if dir.exists() {
                e
            } else {
                Error::NoSuchContainer(record.name.clone())
            }
        })
    }

    /// Blocks until the container is not running, then returns its exit code.
    pub fn wait_container(&self, name_or_id: &str) -> Result<i32> {
        let record = self.container(name_or_id)?;
        let id = record.id.clone();
        if let (Status::Running, Some(monitor)) = (record.state.status, record.state.monitor) {
            match record.state.init {
                // A restart policy's monitor outlives the process: Docker's `wait` answers
                // at its next exit, once the monitor has recorded it.
                Some(init) if !record.config.restart_policy.is_none() => {
                    init.wait_exit(None);
                    while monitor.is_alive()
                        && self
                            .find_record(id.as_str())
                            .is_ok_and(|r| r.state.init == Some(init))
                    {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
                _ => {
                    monitor.wait_exit(None);
                }
            }
        }
        match self.container(id.as_str()) {
            Ok(r) => Ok(r.state.exit_code.unwrap_or(0)),
            // Removed on exit (`--rm`): the monitor reported its code before removing it.
            Err(Error::NoSuchContainer(_)) => Ok(record.state.exit_code.unwrap_or(0)),
            Err(e) => Err(e),
        }
    }

    /// Removes a container; a running one only with `force` (it is killed first). With
    /// `volumes`, its anonymous volumes go too, unless another container uses them. See
    /// [`Engine::remove_containers`], which removes many at once.
    pub fn remove_container(
        &self,
        name_or_id: &str,
        force: bool,
        volumes: bool,
    ) -> Result<ContainerRecord> {
        self.remove_containers(&[name_or_id], force, volumes)
            .pop()
            .unwrap_or_else(|| Err(Error::NoSuchContainer(name_or_id.to_owned())))
    }

    /// Takes a stopped container out of sight in one step (its directory, record and all,
    /// moves to `tmp/rm-<id>`): from then on it doesn't exist, and what is left is only
    /// garbage for [`Engine::remove_stopped`] or, after a crash, `system check --repair`.
    /// The monitor's overlay moves along still mounted (in its namespace alone):
    /// unmounting waits out an RCU grace period, which `remove_stopped` does once the
    /// client has the exit code.
    pub(crate) fn forget_container(&self, id: &ContainerId) -> Result<()> {
        let lock = self.lock()?;
        self.rename_container_dir(&lock, id)
    }

    /// Deletes a stopped container's directory and record, unmounting anything left.
    /// A crash at any step leaves either the whole container or a `tmp/rm-<id>` that
    /// `system check` names.
    pub(crate) fn remove_stopped(&self, id: &ContainerId) -> Result<()> {
        let lock = self.lock()?;
        // A cgroup left behind doesn't keep the container: it is reported, and found by
        // `system check`.
        let mut teardown = Teardown::default();
        // Under its --cgroup-parent while its record is there.
        let cgroup = match self.load_record(id) {
            Ok(record) => Cgroup::of(&record),
            Err(_) => Cgroup::existing(id.as_str()),
        };
        teardown.step("remove cgroup", id, { cgroup }.remove());
        if let Some(record) = (!teardown.failures().is_empty())
            .then(|| self.load_record(id).ok())
            .flatten()
        {
            self.report_teardown(&record, &teardown);
        }
        self.retire_container_dir(&lock, id)?;
        // Deleted without the lock, which no other verb then waits for: `system check`
        // leaves this directory alone while the container's monitor lives.
        drop(lock);
        crash_point("rm:after-retire");
        let retired = self.retired_container_dir(id);
        // What `forget_container` moved here mounted.
        unmount_below(&retired)?;
        remove_dir_all(&retired).context(|| format!("removing {}", retired.display()))
    }

    /// Where a removed container's directory waits for deletion.
    pub(crate) fn retired_container_dir(&self, id: &ContainerId) -> std::path::PathBuf {
        self.paths().tmp_dir().join(format!("rm-{id}"))
    }

    /// Unmounts what is left below the container's directory and renames it into `tmp/`
    /// (lock held), then drops it from the name index. A directory renamed already is no
    /// error.
    fn retire_container_dir(&self, held: &StateLock, id: &ContainerId) -> Result<()> {
        unmount_below(&self.container_dir(id))?;
        self.rename_container_dir(held, id)
    }

    /// Renames the container's directory into `tmp/` (lock held), mounts below it and
    /// all, then drops it from the name index. A directory renamed already is no error.
    fn rename_container_dir(&self, held: &StateLock, id: &ContainerId) -> Result<()> {
        let dir = self.container_dir(id);
        let retired = self.retired_container_dir(id);
        match std::fs::rename(&dir, &retired) {
            Ok(()) => {}
            // Retired (and unindexed) before: the monitor of a `--rm` container does so
            // as it exits, and deletes it later.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && retired.exists() => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).context(|| format!("removing {}", dir.display())),
        }
        // The container is gone whatever happens now: an entry left is only stale (a
        // lookup skips it, `system check` reports it).
        crash_point("rm:before-unindex");
        self.unindex(held, id, None)
    }
}

/// Unmounts every mount at or below `dir` in this mount namespace, deepest first.
fn unmount_below(dir: &std::path::Path) -> Result<()> {
    for mount in overlay::mounts_below(dir) {
        overlay::unmount_if_mounted(&mount)?;
    }
    Ok(())
}

/// Starts the monitor of container `id` on engine root `root` (`label` is what `ps` shows
/// beside `berth-monitor`), detached from this process, with `theirs` as its control
/// socket. Returns once the monitor has exec'd (or failed to).
fn spawn_monitor(
    root: &std::path::Path,
    id: &ContainerId,
    label: &str,
    ahead: bool,
    theirs: UnixStream,
) -> Result<()> {
    // The view's mount handles go once the monitor has exec'd (see `sealed`).
    let (exe, _view_mount) = sealed::sealed_self_for_spawn()?;
    let control: OwnedFd = theirs.into();
    let control_fd = control.as_raw_fd();
    let program = sealed::exec_path(&exe);
    let argv0 = sealed::monitor_argv0(label);
    let args = super::monitor::monitor_args(root, id, control_fd, ahead);
    super::runtime::spawn::spawn_detached(&super::runtime::spawn::Detached {
        program: program.as_ref(),
        argv0: argv0.as_ref(),
        args: &args,
        keep_fd: control_fd,
    })
    .context(|| "starting the container monitor".into())
}

/// Makes the cgroup of a container whose monitor was started ahead, while that monitor is
/// still loading its binary: the kernel's cgroup creation (a millisecond or more) is then
/// off the start's path. `taken` is the spare `run` took as this container's (see
/// [`Cgroup::take_spare`]): it gets the limits, unless the container's cgroup lives under
/// a parent of the user's. Best effort: on a failure nothing is left, and the monitor
/// makes the cgroup itself and reports why it can't.
fn premake_cgroup(record: &ContainerRecord, taken: TakenCgroup) -> Option<Cgroup> {
    let resources = &record.config.resources;
    // Dropped unused (no devices, or a parent of the user's), `taken` is removed.
    let devices = super::devices::allowed_devices(&record.config.security).ok()?;
    if resources.cgroup_parent.is_none() {
        if let Some(cgroup) = taken.into_inner() {
            return cgroup.configure_taken(resources, &devices.rules).ok();
        }
    }
    Cgroup::create(record.id.as_str(), resources, &devices.rules).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `run` takes the spare before it knows whether a container will be made: a run
    /// that makes none (a bad flag, no such image) leaves no cgroup behind.
    #[test]
    fn a_spare_taken_for_a_run_that_makes_no_container_is_removed() {
        let pids = std::path::Path::new("/sys/fs/cgroup/pids");
        if !pids.join("cgroup.procs").exists() || !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: needs root and the v1 pids hierarchy");
            return;
        }
        let id = ContainerId::random();
        // Other starts on this host may take the spare first: make another.
        let take = || {
            (0..20).find_map(|_| {
                Cgroup::keep_spare().ok()?;
                Cgroup::take_spare(id.as_str())
            })
        };
        let taken = take().expect("a spare to take");
        let dir = pids.join("berth").join(id.as_str());
        assert!(dir.is_dir(), "{} not made", dir.display());
        drop(TakenCgroup(Some(taken)));
        assert!(!dir.exists(), "{} left behind", dir.display());
        // One handed on is the container's: not removed with the guard.
        let mut kept = TakenCgroup(take()).into_inner().expect("a spare to take");
        assert!(dir.is_dir());
        kept.remove().unwrap();
    }

    #[test]
    fn container_names_are_dockers() {
        for good in ["web", "a", "Web_1.b-c", "9lives"] {
            check_name(good).unwrap();
        }
        for bad in ["", "-web", "_web", ".web", "we b", "web/1", "wéb"] {
            let err = check_name(bad).unwrap_err().to_string();
            assert!(err.starts_with("invalid container name"), "{bad}: {err}");
            assert!(err.contains("[a-zA-Z0-9][a-zA-Z0-9_.-]"), "{bad}: {err}");
        }
    }

    #[test]
    fn env_overrides_replace_by_key_and_append_the_rest() {
        let base = ["PATH=/bin".to_owned(), "HOME=/root".to_owned()];
        let merged = merge_env(
            &base,
            &["HOME=/home/me".into(), "NEW=1".into(), "FLAG".into()],
        );
        assert_eq!(merged, ["PATH=/bin", "HOME=/home/me", "NEW=1", "FLAG"]);
        // A key is matched whole: PATHS is not PATH.
        let merged = merge_env(&base, &["PATHS=x".into(), "PATH=".into()]);
        assert_eq!(merged, ["PATH=", "HOME=/root", "PATHS=x"]);
    }

    #[test]
    fn hosts_file_has_localhost_added_hosts_then_the_containers_own_name() {
        let extra = [("db".to_owned(), Ipv4Addr::new(10, 0, 0, 9))];
        let text = hosts_file("box", Some(Ipv4Addr::new(172, 17, 0, 2)), &extra);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "127.0.0.1\tlocalhost");
        assert_eq!(
            lines[lines.len() - 2..],
            ["10.0.0.9\tdb", "172.17.0.2\tbox"]
        );
        // Without an address (host, none) the name has no line of its own.
        let text = hosts_file("box", None, &[]);
        assert!(!text.contains("box"), "{text}");
    }

    fn network(mode: NetworkMode, dns: &[Ipv4Addr]) -> NetworkConfig {
        NetworkConfig {
            mode,
            dns: dns.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn resolv_conf_keeps_search_and_picks_servers_by_network() {
        let host =
            "search example.com\nnameserver 127.0.0.53\nnameserver 192.0.2.1\noptions edns0\n";
        let dns = [Ipv4Addr::new(9, 9, 9, 9)];
        // The host's network: the host's file as it is, loopback servers too.
        assert_eq!(
            resolv_conf_from(host, &network(NetworkMode::Host, &[]), false),
            host
        );
        // A bridge: loopback servers mean nothing in the container's namespace.
        assert_eq!(
            resolv_conf_from(host, &network(NetworkMode::Connected, &[]), false),
            "search example.com\noptions edns0\nnameserver 192.0.2.1\n"
        );
        // A user-defined network: the embedded resolver, whatever --dns says.
        assert_eq!(
            resolv_conf_from(host, &network(NetworkMode::Connected, &dns), true),
            "search example.com\noptions edns0\nnameserver 127.0.0.11\n"
        );
        // --dns replaces the servers, on the host's network too.
        assert_eq!(
            resolv_conf_from(host, &network(NetworkMode::Host, &dns), false),
            "search example.com\noptions edns0\nnameserver 9.9.9.9\n"
        );
        // Only loopback resolvers on the host: Docker's public fallback.
        assert_eq!(
            resolv_conf_from(
                "nameserver 127.0.0.1\nnameserver ::1\n",
                &network(NetworkMode::None, &[]),
                false
            ),
            "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
    }

    #[test]
    fn dns_search_and_options_replace_the_hosts_lines() {
        let host = "domain corp\nsearch example.com\nnameserver 192.0.2.1\noptions edns0\n";
        let with = |mode, search: &[&str], options: &[&str]| NetworkConfig {
            mode,
            dns_search: search.iter().map(|s| s.to_string()).collect(),
            dns_options: options.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        assert_eq!(
            resolv_conf_from(
                host,
                &with(NetworkMode::Connected, &["a.test", "b.test"], &["ndots:2"]),
                false
            ),
            "nameserver 192.0.2.1\nsearch a.test b.test\noptions ndots:2\n"
        );
        // Options alone keep the host's search list; `.` drops it, on the host's network too.
        assert_eq!(
            resolv_conf_from(host, &with(NetworkMode::Connected, &[], &["rotate"]), true),
            "domain corp\nsearch example.com\nnameserver 127.0.0.11\noptions rotate\n"
        );
        assert_eq!(
            resolv_conf_from(host, &with(NetworkMode::Host, &["."], &[]), false),
            "nameserver 192.0.2.1\noptions edns0\n"
        );
    }

    #[test]
    fn dns_search_domains_and_options_are_checked_as_dockers_cli() {
        for good in ["example.com", "example.com.", "a-b.c1", ".", "x"] {
            check_dns_search(good).unwrap();
        }
        for bad in [
            "",
            "-a.com",
            "a..b",
            "a b",
            "123",
            "a.com\nnameserver 1.2.3.4",
            "a_b.com",
        ] {
            let err = check_dns_search(bad).unwrap_err().to_string();
            assert!(err.contains("is not a valid domain"), "{bad:?}: {err}");
        }
        check_dns_option("ndots:2").unwrap();
        for bad in ["", "ndots:2 rotate", "a\nnameserver 1.1.1.1"] {
            assert!(check_dns_option(bad).is_err(), "{bad:?}");
        }
        check_runtime("runc").unwrap();
        check_runtime("berth").unwrap();
        let err = check_runtime("crun").unwrap_err().to_string();
        assert!(
            err.contains("unknown or invalid runtime name: crun"),
            "{err}"
        );
        check_volume_driver("local").unwrap();
        assert!(check_volume_driver("convoy").is_err());
        let own: BTreeMap<String, String> = [("org.berth.init".into(), "true".into())].into();
        assert!(check_annotations(&own).is_err());
        let empty: BTreeMap<String, String> = [(String::new(), "x".into())].into();
        assert!(check_annotations(&empty).is_err());
    }

    fn network_record(driver: Driver) -> NetworkRecord {
        NetworkRecord {
            id: "a1b2c3d4".repeat(8),
            name: driver.to_string(),
            driver,
            created: chrono::DateTime::UNIX_EPOCH,
            subnet: None,
            gateway: None,
            ip_range: None,
            internal: false,
            labels: BTreeMap::new(),
            options: BTreeMap::new(),
            bridge: String::new(),
            skipped_pools: Vec::new(),
            endpoints: Vec::new(),
        }
    }

    #[test]
    fn published_ports_are_kept_only_where_they_can_be_reached() {
        let image: oci_spec::image::Config =
            serde_json::from_str(r#"{"ExposedPorts": {"80/tcp": {}, "53/udp": {}}}"#).unwrap();
        let opts = CreateOptions {
            ports: crate::network::ports::parse_publish("8080:80").unwrap(),
            publish_all: true,
            dns: vec![Ipv4Addr::new(9, 9, 9, 9)],
            ..Default::default()
        };
        let exposed = exposed_ports(&opts, &image).unwrap();
        assert_eq!(exposed, parse_exposed(&["53/udp", "80/tcp"]).unwrap());
        let bridge = network_config(&opts, &network_record(Driver::Bridge), &exposed).unwrap();
        assert_eq!(bridge.mode, NetworkMode::Connected);
        assert_eq!(bridge.name, "bridge");
        assert_eq!(bridge.dns, opts.dns);
        // -p's own, then one for each exposed port -p left unpublished.
        let rest = crate::network::ports::parse_publish("53/udp").unwrap();
        assert_eq!(bridge.ports, [opts.ports.clone(), rest].concat());
        let macvlan = network_config(&opts, &network_record(Driver::Macvlan), &exposed).unwrap();
        assert_eq!(macvlan.mode, NetworkMode::Connected);
        for (driver, mode) in [
            (Driver::Host, NetworkMode::Host),
            (Driver::Null, NetworkMode::None),
        ] {
            let config = network_config(&opts, &network_record(driver), &exposed).unwrap();
            assert_eq!(config.mode, mode);
            assert!(config.ports.is_empty(), "{driver}: {:?}", config.ports);
        }
    }

    #[test]
    fn anonymous_volumes_are_the_ones_made_for_the_container() {
        let cwd = std::path::Path::new("/");
        let mut anonymous = MountSpec::parse_volume_flag("/data", cwd).unwrap();
        anonymous.source = "f00d".into();
        let config = ContainerConfig {
            mounts: vec![
                anonymous,
                MountSpec::parse_volume_flag("named:/named", cwd).unwrap(),
                MountSpec::parse_volume_flag("/host:/host", cwd).unwrap(),
                MountSpec::parse_tmpfs_flag("/tmp").unwrap(),
            ],
            ..Default::default()
        };
        let record = ContainerRecord {
            id: "c0ffee00".repeat(8).parse().unwrap(),
            name: "web".into(),
            created: chrono::DateTime::UNIX_EPOCH,
            image: "busybox".into(),
            image_id: crate::Digest::of_bytes(b"image"),
            chain_ids: Vec::new(),
            config,
            state: ContainerState::default(),
        };
        assert_eq!(anonymous_volumes(&record), ["f00d"]);
    }
}
