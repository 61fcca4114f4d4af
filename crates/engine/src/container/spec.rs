//! The OCI runtime bundle of a container: `config.json`, built with oci-spec from the
//! container record. berth's runtime executes this spec; runc or crun could too.

use std::collections::HashSet;
use std::path::Path;

use oci_spec::runtime::{
    Capability, LinuxBlockIoBuilder, LinuxBuilder, LinuxCapabilitiesBuilder, LinuxCpuBuilder,
    LinuxDeviceCgroup, LinuxDeviceCgroupBuilder, LinuxDeviceType, LinuxMemoryBuilder,
    LinuxNamespaceBuilder, LinuxNamespaceType, LinuxPidsBuilder, LinuxResourcesBuilder,
    LinuxSeccomp, Mount, MountBuilder, PosixRlimit, PosixRlimitBuilder, PosixRlimitType,
    ProcessBuilder, RootBuilder, Spec, SpecBuilder, UserBuilder,
};

use super::record::ContainerRecord;
use super::user::ResolvedUser;
use crate::error::{Error, Result};
use crate::paths::EnginePaths;
use crate::storage::mounts::MountKind;

/// Docker's default capability set.
pub(crate) const DEFAULT_CAPABILITIES: &[Capability] = &[
    Capability::Chown,
    Capability::DacOverride,
    Capability::Fsetid,
    Capability::Fowner,
    Capability::Mknod,
    Capability::NetRaw,
    Capability::Setgid,
    Capability::Setuid,
    Capability::Setfcap,
    Capability::Setpcap,
    Capability::NetBindService,
    Capability::SysChroot,
    Capability::Kill,
    Capability::AuditWrite,
];

/// The capabilities a container gets: Docker's defaults, less CAP_MKNOD where no device
/// cgroup can stop a new node from reaching host devices (see `cgroups::can_confine_devices`).
pub(crate) fn container_capabilities() -> HashSet<Capability> {
    let confined = super::runtime::cgroups::can_confine_devices();
    DEFAULT_CAPABILITIES
        .iter()
        .copied()
        .filter(|c| confined || *c != Capability::Mknod)
        .collect()
}

/// Paths Docker hides from containers: reads see /dev/null or an empty read-only tmpfs.
pub const MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths Docker makes read-only.
pub const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Docker's open-files limit, clamped to what this process may set: raising the hard limit
/// needs CAP_SYS_RESOURCE, which is not always in the bounding set.
const DOCKER_NOFILE: u64 = 1_048_576;

pub(crate) const DEFAULT_PATH: &str =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn spec_error(e: impl std::fmt::Display) -> Error {
    Error::Runtime(format!("building the OCI runtime spec: {e}"))
}

pub(crate) fn mount(destination: &str, typ: &str, source: &str, options: &[&str]) -> Result<Mount> {
    MountBuilder::default()
        .destination(destination)
        .typ(typ)
        .source(source)
        .options(options.iter().map(|o| o.to_string()).collect::<Vec<_>>())
        .build()
        .map_err(spec_error)
}

/// The container's volumes, binds and tmpfs mounts, after the defaults.
fn user_mounts(record: &ContainerRecord, paths: &EnginePaths) -> Result<Vec<Mount>> {
    let mut mounts = Vec::new();
    for m in &record.config.mounts {
        let ro = if m.read_only { "ro" } else { "rw" };
        let built = match m.kind {
            MountKind::Volume => {
                let source = paths.volume_data(&m.source);
                mount(
                    &m.destination,
                    "bind",
                    &source.to_string_lossy(),
                    &["rbind", "rprivate", ro],
                )?
            }
            MountKind::Bind => mount(
                &m.destination,
                "bind",
                &m.source,
                &["rbind", m.propagation.as_str(), ro],
            )?,
            MountKind::Tmpfs => {
                let mut options: Vec<String> = m.tmpfs_flags.options().map(str::to_owned).collect();
                options.push(ro.to_owned());
                if let Some(size) = m.tmpfs_size {
                    options.push(format!("size={size}"));
                }
                if let Some(mode) = m.tmpfs_mode {
                    options.push(format!("mode={mode:o}"));
                }
                let options: Vec<&str> = options.iter().map(String::as_str).collect();
                mount(&m.destination, "tmpfs", "tmpfs", &options)?
            }
        };
        mounts.push(built);
    }
    Ok(mounts)
}

/// Where the container sees its own cgroups.
const CGROUP_MOUNT: &str = "/sys/fs/cgroup";

/// Docker's `cgroup` mount: the container's own cgroups at /sys/fs/cgroup, read-only
/// (the runtime works out what that means on this host: see `init::mount_cgroups`).
/// Left out when the user mounts something of their own there or above it.
fn cgroup_mount(record: &ContainerRecord) -> Result<Option<Mount>> {
    let covered = record
        .config
        .mounts
        .iter()
        .any(|m| Path::new(CGROUP_MOUNT).starts_with(&m.destination));
    if covered {
        return Ok(None);
    }
    mount(
        CGROUP_MOUNT,
        "cgroup",
        "cgroup",
        &["ro", "nosuid", "noexec", "nodev"],
    )
    .map(Some)
}

/// The mounts every container gets. `--privileged` has /sys writable; `shm_size` is
/// /dev/shm's (`--shm-size`).
fn default_mounts(privileged: bool, shm_size: u64) -> Result<Vec<Mount>> {
    let sys_mode = if privileged { "rw" } else { "ro" };
    let shm_size = format!("size={}k", shm_size.div_ceil(1024));
    Ok(vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"])?,
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        )?,
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        )?,
        mount(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", sys_mode],
        )?,
        mount(
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            &["nosuid", "noexec", "nodev"],
        )?,
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", &shm_size],
        )?,
    ])
}

/// The files the engine writes in a container's directory and binds over its /etc, in
/// the order of their binds.
pub(crate) const ETC_FILES: [&str; 3] = ["resolv.conf", "hostname", "hosts"];

/// The files the engine writes for the container, bound over its /etc after the user's
/// mounts, so a volume on /etc still gets them (as Docker does). A user's mount of one of
/// these files wins.
fn etc_mounts(container_dir: &Path, record: &ContainerRecord) -> Result<Vec<Mount>> {
    let mut mounts = Vec::new();
    for name in ETC_FILES {
        let destination = format!("/etc/{name}");
        let taken = record
            .config
            .mounts
            .iter()
            .any(|m| Path::new(&m.destination) == Path::new(&destination));
        if !taken {
            let source = container_dir.join(name);
            mounts.push(mount(
                &destination,
                "bind",
                &source.to_string_lossy(),
                &["rbind", "rprivate"],
            )?);
        }
    }
    Ok(mounts)
}

/// The environment the process starts with: the record's, plus PATH, HOSTNAME, HOME and
/// TERM where they are missing, as Docker adds them.
pub(crate) fn process_env(record: &ContainerRecord, home: &str, tty: bool) -> Vec<String> {
    let mut env = record.config.env.clone();
    let has = |env: &[String], key: &str| env.iter().any(|e| e.split('=').next() == Some(key));
    if !has(&env, "PATH") {
        env.insert(0, DEFAULT_PATH.to_owned());
    }
    if !has(&env, "HOSTNAME") {
        env.push(format!("HOSTNAME={}", record.config.hostname));
    }
    if !has(&env, "HOME") {
        env.push(format!("HOME={home}"));
    }
    if tty && !has(&env, "TERM") {
        env.push("TERM=xterm".to_owned());
    }
    env
}

/// The soft and hard open-files limit a container gets.
pub(crate) fn nofile_limit() -> u64 {
    let hard = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map(|(_, hard)| hard)
        .unwrap_or(DOCKER_NOFILE);
    DOCKER_NOFILE.min(hard)
}

pub fn build(
    record: &ContainerRecord,
    user: &ResolvedUser,
    container_dir: &Path,
    paths: &EnginePaths,
) -> Result<Spec> {
    let config = &record.config;
    let security = &config.security;
    let all = security.capabilities(&container_capabilities());
    // Docker gives non-root users no effective or permitted capabilities.
    let granted = if user.uid == 0 {
        all.clone()
    } else {
        HashSet::new()
    };
    let capabilities = LinuxCapabilitiesBuilder::default()
        .bounding(all.clone())
        .effective(granted.clone())
        .permitted(granted)
        .inheritable(HashSet::new())
        .ambient(HashSet::new())
        .build()
        .map_err(spec_error)?;
    let mut process = ProcessBuilder::default()
        .terminal(config.tty)
        .user(
            UserBuilder::default()
                .uid(user.uid)
                .gid(user.gid)
                .additional_gids(user.additional_gids.clone())
                .build()
                .map_err(spec_error)?,
        )
        .args(config.args())
        .env(process_env(record, &user.home, config.tty))
        .cwd(if config.working_dir.is_empty() {
            "/"
        } else {
            &config.working_dir
        })
        .capabilities(capabilities)
        .rlimits(rlimits(security)?)
        // Always but with `--privileged`, whose setuid programs must work as on the host.
        .no_new_privileges(!security.privileged)
        .build()
        .map_err(spec_error)?;
    if config.oom_score_adj != 0 {
        process.set_oom_score_adj(Some(config.oom_score_adj));
    }

    // `--network host` shares the host's network namespace.
    let own_network = config.network.mode != super::record::NetworkMode::Host;
    // A cgroup namespace of its own: the container's cgroup is its `/`. Those shared
    // with the host or another container (`--pid host`) are left out: init is cloned
    // into them.
    use super::namespaces::NamespaceMode;
    let ns = &config.namespaces;
    let own =
        |mode: &NamespaceMode| matches!(mode, NamespaceMode::Private | NamespaceMode::Shareable);
    let namespaces = [
        (LinuxNamespaceType::Pid, own(&ns.pid)),
        (LinuxNamespaceType::Mount, true),
        (LinuxNamespaceType::Ipc, own(&ns.ipc)),
        (LinuxNamespaceType::Uts, own(&ns.uts)),
        (LinuxNamespaceType::Cgroup, own(&ns.cgroup)),
    ]
    .into_iter()
    .filter_map(|(typ, own)| own.then_some(typ))
    .chain(own_network.then_some(LinuxNamespaceType::Network))
    .map(|typ| {
        LinuxNamespaceBuilder::default()
            .typ(typ)
            .build()
            .map_err(spec_error)
    })
    .collect::<Result<Vec<_>>>()?;

    let r = &config.resources;
    let mut resources = LinuxResourcesBuilder::default();
    if r.memory.is_some()
        || r.memory_reservation.is_some()
        || r.oom_kill_disable
        || r.memory_swappiness.is_some()
    {
        let mut memory = LinuxMemoryBuilder::default();
        if let Some(limit) = r.memory {
            memory = memory
                .limit(limit)
                .swap(r.memory_swap.filter(|s| *s != 0).unwrap_or(limit * 2));
        }
        if let Some(reservation) = r.memory_reservation {
            memory = memory.reservation(reservation);
        }
        if r.oom_kill_disable {
            memory = memory.disable_oom_killer(true);
        }
        if let Some(swappiness) = r.memory_swappiness {
            memory = memory.swappiness(swappiness as u64);
        }
        resources = resources.memory(memory.build().map_err(spec_error)?);
    }
    let mut cpu = LinuxCpuBuilder::default();
    let mut cpu_set = false;
    if let Some(nano) = r.nano_cpus {
        cpu = cpu.period(100_000u64).quota(nano * 100_000 / 1_000_000_000);
        cpu_set = true;
    }
    if let Some(period) = r.cpu_period.filter(|p| *p > 0) {
        cpu = cpu.period(period as u64);
        cpu_set = true;
    }
    if let Some(quota) = r.cpu_quota.filter(|q| *q != 0) {
        cpu = cpu.quota(quota);
        cpu_set = true;
    }
    if let Some(shares) = r.cpu_shares.filter(|s| *s > 0) {
        cpu = cpu.shares(shares as u64);
        cpu_set = true;
    }
    if let Some(cpus) = &r.cpuset_cpus {
        cpu = cpu.cpus(cpus.clone());
        cpu_set = true;
    }
    if let Some(mems) = &r.cpuset_mems {
        cpu = cpu.mems(mems.clone());
        cpu_set = true;
    }
    if let Some(period) = r.cpu_rt_period.filter(|p| *p > 0) {
        cpu = cpu.realtime_period(period as u64);
        cpu_set = true;
    }
    if let Some(runtime) = r.cpu_rt_runtime.filter(|v| *v != 0) {
        cpu = cpu.realtime_runtime(runtime);
        cpu_set = true;
    }
    if cpu_set {
        resources = resources.cpu(cpu.build().map_err(spec_error)?);
    }
    if r.blkio_weight.is_some() || !super::blkio::named_devices(r).is_empty() {
        resources = resources.block_io(block_io(r)?);
    }
    if let Some(limit) = r.pids_limit.filter(|l| *l > 0) {
        resources = resources.pids(
            LinuxPidsBuilder::default()
                .limit(limit)
                .build()
                .map_err(spec_error)?,
        );
    }

    let super::devices::Allowed {
        nodes,
        rules: device_rules,
    } = super::devices::allowed_devices(security)?;
    if !device_rules.is_empty() {
        resources = resources.devices(
            device_rules
                .iter()
                .map(cgroup_device)
                .collect::<Result<Vec<_>>>()?,
        );
    }
    let mut linux = LinuxBuilder::default();
    if let Some(seccomp) = seccomp_for(security, &all)? {
        linux = linux.seccomp(seccomp);
    }
    // `--privileged` hides nothing and makes nothing read-only.
    let listed = |paths: &[&str]| -> Vec<String> {
        if security.privileged {
            Vec::new()
        } else {
            paths.iter().map(|p| p.to_string()).collect()
        }
    };
    let mut linux = linux
        .namespaces(namespaces)
        .masked_paths(listed(MASKED_PATHS))
        .readonly_paths(listed(READONLY_PATHS))
        .cgroups_path(format!("/{}", r.cgroup_path(record.id.as_str())))
        .resources(resources.build().map_err(spec_error)?)
        .build()
        .map_err(spec_error)?;
    if !nodes.is_empty() {
        linux.set_devices(Some(
            nodes
                .iter()
                .map(|(path, node)| node.spec_device(path))
                .collect::<Result<Vec<_>>>()?,
        ));
    }
    if !security.sysctls.is_empty() {
        linux.set_sysctl(Some(security.sysctls.clone().into_iter().collect()));
    }
    // `--annotation`s, then berth's own (their prefix is refused to the user at create).
    let mut annotations: std::collections::HashMap<String, String> = config
        .annotations
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if security.init {
        annotations.insert(INIT_ANNOTATION.to_owned(), "true".to_owned());
    }
    let annotations = (!annotations.is_empty()).then_some(annotations);

    SpecBuilder::default()
        .version("1.0.2")
        .root(
            RootBuilder::default()
                .path("rootfs")
                .readonly(config.read_only)
                .build()
                .map_err(spec_error)?,
        )
        .hostname(config.hostname.clone())
        .mounts(
            [
                default_mounts(
                    security.privileged,
                    security
                        .shm_size
                        .unwrap_or(super::security::DEFAULT_SHM_SIZE),
                )?,
                cgroup_mount(record)?.into_iter().collect(),
                user_mounts(record, paths)?,
                etc_mounts(container_dir, record)?,
            ]
            .concat(),
        )
        .process(process)
        .linux(linux)
        .build()
        .map_err(spec_error)
        .map(|mut spec| {
            if annotations.is_some() {
                spec.set_annotations(annotations);
            }
            // In the host's UTS namespace (`--uts host`) the name is the host's to keep.
            if !own(&ns.uts) {
                spec.set_hostname(None);
            } else if !config.domainname.is_empty() {
                spec.set_domainname(Some(config.domainname.clone()));
            }
            spec
        })
}

/// The annotation that tells init to stay as PID 1, reaping and forwarding signals, with
/// the user's process as its child (`--init`).
pub(crate) const INIT_ANNOTATION: &str = "org.berth.init";
/// The prefix of the annotations berth gives itself, which `--annotation` may not set.
pub(crate) const OWN_ANNOTATIONS: &str = "org.berth.";

/// The resource limits: Docker's open-files limit, then the user's `--ulimit`s (one for
/// open files replaces it), each within what this host lets berth set.
fn rlimits(security: &super::security::SecurityConfig) -> Result<Vec<PosixRlimit>> {
    let nofile = nofile_limit();
    let mut limits = vec![(PosixRlimitType::RlimitNofile, nofile, nofile)];
    for u in &security.ulimits {
        let u = u.clamped();
        limits.retain(|(typ, _, _)| *typ != u.name.oci());
        limits.push((u.name.oci(), u.soft, u.hard));
    }
    limits
        .into_iter()
        .map(|(typ, soft, hard)| {
            PosixRlimitBuilder::default()
                .typ(typ)
                .soft(soft)
                .hard(hard)
                .build()
                .map_err(spec_error)
        })
        .collect()
}

/// The seccomp filter: Docker's default for these capabilities, the user's profile, or
/// none (`--privileged`, `seccomp=unconfined`).
fn seccomp_for(
    security: &super::security::SecurityConfig,
    caps: &HashSet<Capability>,
) -> Result<Option<LinuxSeccomp>> {
    use super::security::SeccompChoice;
    if security.privileged {
        return Ok(None);
    }
    match &security.seccomp {
        SeccompChoice::Default => super::seccomp::default_profile(caps).map(Some),
        SeccompChoice::Unconfined => Ok(None),
        SeccompChoice::Profile(text) => super::security::seccomp_profile(text, caps).map(Some),
    }
}

fn cgroup_device(rule: &super::devices::DeviceRule) -> Result<LinuxDeviceCgroup> {
    use super::devices::DeviceKind;
    let mut b = LinuxDeviceCgroupBuilder::default()
        .allow(true)
        .typ(match rule.kind {
            DeviceKind::A => LinuxDeviceType::A,
            DeviceKind::B => LinuxDeviceType::B,
            DeviceKind::C => LinuxDeviceType::C,
        })
        .access(rule.access.clone());
    if let Some(major) = rule.major {
        b = b.major(major as i64);
    }
    if let Some(minor) = rule.minor {
        b = b.minor(minor as i64);
    }
    b.build().map_err(spec_error)
}

/// The block I/O section: the weight, and each device's weight and throttles with the
/// numbers the device has on the host now.
fn block_io(r: &super::record::Resources) -> Result<oci_spec::runtime::LinuxBlockIo> {
    use super::blkio::{resolve, Throttle};
    use oci_spec::runtime::{LinuxThrottleDeviceBuilder, LinuxWeightDeviceBuilder};
    let mut io = LinuxBlockIoBuilder::default();
    if let Some(weight) = r.blkio_weight {
        io = io.weight(weight);
    }
    if !r.blkio_weight_device.is_empty() {
        let devices = r
            .blkio_weight_device
            .iter()
            .map(|d| {
                let n = resolve("--blkio-weight-device", &d.path)?;
                LinuxWeightDeviceBuilder::default()
                    .major(n.major as i64)
                    .minor(n.minor as i64)
                    .weight(d.weight)
                    .build()
                    .map_err(spec_error)
            })
            .collect::<Result<Vec<_>>>()?;
        io = io.weight_device(devices);
    }
    for throttle in Throttle::ALL {
        let devices = r
            .throttles(throttle)
            .iter()
            .map(|d| {
                let n = resolve(throttle.flag(), &d.path)?;
                LinuxThrottleDeviceBuilder::default()
                    .major(n.major as i64)
                    .minor(n.minor as i64)
                    .rate(d.rate)
                    .build()
                    .map_err(spec_error)
            })
            .collect::<Result<Vec<_>>>()?;
        if devices.is_empty() {
            continue;
        }
        io = match throttle {
            Throttle::ReadBps => io.throttle_read_bps_device(devices),
            Throttle::WriteBps => io.throttle_write_bps_device(devices),
            Throttle::ReadIops => io.throttle_read_iops_device(devices),
            Throttle::WriteIops => io.throttle_write_iops_device(devices),
        };
    }
    io.build().map_err(spec_error)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::container::record::{ContainerConfig, ContainerState, NetworkMode};
    use crate::storage::mounts::MountSpec;
    use crate::{ContainerId, Digest};

    const ID: &str = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

    fn record(config: ContainerConfig) -> ContainerRecord {
        ContainerRecord {
            id: ContainerId::from_str(ID).unwrap(),
            name: "web".into(),
            created: chrono::DateTime::UNIX_EPOCH,
            image: "busybox".into(),
            image_id: Digest::of_bytes(b"image"),
            chain_ids: Vec::new(),
            config,
            state: ContainerState::default(),
        }
    }

    fn root_user() -> ResolvedUser {
        ResolvedUser {
            uid: 0,
            gid: 0,
            additional_gids: Vec::new(),
            home: "/root".into(),
        }
    }

    /// The spec as JSON, with what depends on this machine or on a temp dir made
    /// constant: the engine root, the host's open-files limit. The seccomp profile is
    /// checked apart (its own tests cover its content).
    fn shown(record: &ContainerRecord, user: &ResolvedUser) -> String {
        let root = tempfile::tempdir().unwrap();
        let paths = EnginePaths::create(root.path()).unwrap();
        let container_dir = paths.root().join("containers").join(ID);
        let spec = build(record, user, &container_dir, &paths).unwrap();
        let linux = spec.linux().as_ref().unwrap();
        let security = &record.config.security;
        let confined = !security.privileged
            && security.seccomp != crate::container::security::SeccompChoice::Unconfined;
        assert_eq!(
            linux.seccomp().is_some(),
            confined,
            "every container gets a seccomp profile unless the user turns it off"
        );
        let mut json = serde_json::to_value(&spec).unwrap();
        json["linux"].as_object_mut().unwrap().remove("seccomp");
        let nofile = nofile_limit();
        let rlimit = &mut json["process"]["rlimits"][0];
        assert_eq!(
            (rlimit["soft"].as_u64(), rlimit["hard"].as_u64()),
            (Some(nofile), Some(nofile))
        );
        rlimit["soft"] = "[nofile]".into();
        rlimit["hard"] = "[nofile]".into();
        // Capabilities are sets: shown sorted, as their order means nothing.
        for set in json["process"]["capabilities"]
            .as_object_mut()
            .unwrap()
            .values_mut()
        {
            if let Some(caps) = set.as_array_mut() {
                caps.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            }
        }
        serde_json::to_string_pretty(&json)
            .unwrap()
            .replace(&paths.root().display().to_string(), "[ROOT]")
    }

    #[test]
    fn a_default_container_gets_dockers_spec() {
        let config = ContainerConfig {
            cmd: vec!["sh".into()],
            env: vec!["PATH=/usr/bin:/bin".into()],
            hostname: "c0ffee00c0ff".into(),
            network: crate::container::record::NetworkConfig {
                mode: NetworkMode::Connected,
                ..Default::default()
            },
            resources: crate::container::record::Resources {
                pids_limit: Some(crate::container::record::DEFAULT_PIDS_LIMIT),
                ..Default::default()
            },
            ..Default::default()
        };
        insta::assert_snapshot!(shown(&record(config), &root_user()));
    }

    #[test]
    fn flags_of_a_run_line_land_in_the_spec() {
        let cwd = Path::new("/home/me");
        let config = ContainerConfig {
            entrypoint: vec!["/bin/app".into()],
            cmd: vec!["--serve".into()],
            env: vec!["MODE=prod".into()],
            working_dir: "/srv".into(),
            user: "app".into(),
            hostname: "box".into(),
            tty: true,
            read_only: true,
            network: crate::container::record::NetworkConfig {
                mode: NetworkMode::Host,
                ..Default::default()
            },
            resources: crate::container::record::Resources {
                memory: Some(64 << 20),
                nano_cpus: Some(500_000_000),
                pids_limit: Some(100),
                memory_swap: Some(-1),
                memory_reservation: Some(32 << 20),
                oom_kill_disable: true,
                cpu_shares: Some(512),
                cpuset_cpus: Some("0".into()),
                cpuset_mems: Some("0".into()),
                blkio_weight: Some(300),
                ..Default::default()
            },
            mounts: vec![
                MountSpec::parse_volume_flag("data:/var/lib/app", cwd).unwrap(),
                MountSpec::parse_volume_flag("./site:/srv/www:ro", cwd).unwrap(),
                MountSpec::parse_volume_flag("/etc/myhosts:/etc/hosts:ro", cwd).unwrap(),
                MountSpec::parse_tmpfs_flag("/scratch:size=64m,mode=1777").unwrap(),
                MountSpec::parse_volume_flag("/cg:/sys/fs/cgroup", cwd).unwrap(),
            ],
            ..Default::default()
        };
        let user = ResolvedUser {
            uid: 1000,
            gid: 1000,
            additional_gids: vec![50],
            home: "/home/app".into(),
        };
        insta::assert_snapshot!(shown(&record(config), &user));
    }

    #[test]
    fn resource_flags_land_in_the_spec_and_the_cgroup_path() {
        let config = ContainerConfig {
            cmd: vec!["sh".into()],
            oom_score_adj: 500,
            resources: crate::container::record::Resources {
                cpu_rt_period: Some(500_000),
                cpu_rt_runtime: Some(5000),
                memory_swappiness: Some(7),
                cgroup_parent: Some(
                    crate::container::cgroup_parent::CgroupParent::parse("/ci/jobs").unwrap(),
                ),
                ..Default::default()
            },
            ..Default::default()
        };
        let root = tempfile::tempdir().unwrap();
        let paths = EnginePaths::create(root.path()).unwrap();
        let record = record(config);
        let spec = build(&record, &root_user(), &paths.root().join(ID), &paths).unwrap();
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(json["process"]["oomScoreAdj"], 500);
        let linux = &json["linux"];
        assert_eq!(linux["cgroupsPath"], format!("/ci/jobs/{ID}"));
        assert_eq!(linux["resources"]["cpu"]["realtimePeriod"], 500_000);
        assert_eq!(linux["resources"]["cpu"]["realtimeRuntime"], 5000);
        assert_eq!(linux["resources"]["memory"]["swappiness"], 7);
    }

    #[test]
    fn security_and_device_options_land_in_the_spec() {
        use crate::container::devices::{DeviceMapping, DeviceRule};
        use crate::container::security::{
            CapName, SeccompChoice, SecurityConfig, Ulimit, UlimitName,
        };
        let config = ContainerConfig {
            cmd: vec!["sh".into()],
            hostname: "box".into(),
            network: crate::container::record::NetworkConfig {
                mode: NetworkMode::Connected,
                ..Default::default()
            },
            security: SecurityConfig {
                cap_add: vec![CapName::parse("net_admin").unwrap()],
                cap_drop: vec![CapName::parse("CAP_CHOWN").unwrap()],
                devices: vec![DeviceMapping {
                    path_on_host: "/dev/null".into(),
                    path_in_container: "/dev/extra/null".into(),
                    cgroup_permissions: "rw".into(),
                }],
                device_cgroup_rules: vec![DeviceRule::parse("c 42:* rmw").unwrap()],
                init: true,
                ulimits: vec![Ulimit {
                    name: UlimitName::Core,
                    soft: 0,
                    hard: 0,
                }],
                shm_size: Some(256 << 20),
                sysctls: [("kernel.shmmax".to_owned(), "1024".to_owned())].into(),
                seccomp: SeccompChoice::Unconfined,
                ..Default::default()
            },
            ..Default::default()
        };
        insta::assert_snapshot!(shown(&record(config), &root_user()));
    }

    #[test]
    fn cap_add_and_drop_follow_dockers_rules() {
        use crate::container::security::{CapName, SecurityConfig};
        let defaults: HashSet<Capability> = DEFAULT_CAPABILITIES.iter().copied().collect();
        let with = |add: &[&str], drop: &[&str]| {
            SecurityConfig {
                cap_add: add.iter().map(|c| CapName::parse(c).unwrap()).collect(),
                cap_drop: drop.iter().map(|c| CapName::parse(c).unwrap()).collect(),
                ..Default::default()
            }
            .capabilities(&defaults)
        };
        let added = with(&["sys_time"], &["chown"]);
        assert!(added.contains(&Capability::SysTime) && !added.contains(&Capability::Chown));
        assert_eq!(added.len(), defaults.len());
        let only = with(&["NET_ADMIN"], &["ALL"]);
        assert_eq!(only, [Capability::NetAdmin].into_iter().collect());
        let all = with(&["all"], &["CAP_KILL"]);
        assert!(!all.contains(&Capability::Kill) && all.len() > defaults.len());
        assert!(CapName::parse("CAP_NOPE").is_none());
    }
}
