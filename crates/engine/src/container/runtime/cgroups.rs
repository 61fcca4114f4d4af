//! Cgroup limits, detected at run time: cgroup v2 (unified), v1, and the hybrid layout
//! (v1 controllers plus a controller-less v2 tree at /sys/fs/cgroup/unified), which is
//! driven as v1 with the container also joined to the v2 tree for tracking.
//!
//! Each container gets `berth/<id>` in every hierarchy.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::container::devices::DeviceRule;
use crate::container::record::Resources;
use crate::error::{Context, Error, Result};

pub(crate) mod entry;
pub(crate) mod spare;

const PARENT: &str = "berth";
const CFS_PERIOD_US: i64 = 100_000;

/// Device rules of Docker's default device cgroup: everything denied but these.
const ALLOWED_DEVICES: &[&str] = &[
    "c *:* m",
    "b *:* m",
    "c 1:3 rwm",    // null
    "c 1:5 rwm",    // zero
    "c 1:7 rwm",    // full
    "c 1:8 rwm",    // random
    "c 1:9 rwm",    // urandom
    "c 5:0 rwm",    // tty
    "c 5:1 rwm",    // console
    "c 5:2 rwm",    // ptmx
    "c 136:* rwm",  // pty slaves
    "c 10:200 rwm", // tun
];

#[derive(Debug, Clone, PartialEq)]
pub enum Hierarchy {
    /// A v1 hierarchy with the controllers mounted in it (e.g. `["cpu", "cpuacct"]`).
    V1 {
        mount: PathBuf,
        controllers: Vec<String>,
    },
    /// A v2 hierarchy; `controllers` are the ones enabled at its root (empty in hybrid mode).
    V2 {
        mount: PathBuf,
        controllers: Vec<String>,
    },
}

/// True if a device cgroup can confine which device nodes a container may open: a v1
/// `devices` controller, or on cgroup v2 an eBPF device program (`device_filter`), if
/// this kernel loads one.
pub(crate) fn can_confine_devices() -> bool {
    let hierarchies = mounted_hierarchies().unwrap_or_default();
    has_v1_devices(&hierarchies)
        || (hierarchies
            .iter()
            .any(|h| matches!(h, Hierarchy::V2 { .. }))
            && device_programs_load())
}

fn has_v1_devices(hierarchies: &[Hierarchy]) -> bool {
    hierarchies.iter().any(
        |h| matches!(h, Hierarchy::V1 { controllers, .. } if controllers.iter().any(|c| c == "devices")),
    )
}

/// Whether this kernel loads device cgroup programs (asked once per process).
fn device_programs_load() -> bool {
    static LOADS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *LOADS.get_or_init(|| super::device_filter::load(&[]).is_ok())
}

/// Docker's default device rules, as rules.
fn default_device_rules() -> Vec<DeviceRule> {
    ALLOWED_DEVICES
        .iter()
        .filter_map(|r| DeviceRule::parse(r))
        .collect()
}

/// Which cgroup layout the host has, as `system info` names it.
pub fn version() -> &'static str {
    let hierarchies = mounted_hierarchies().unwrap_or_default();
    let v1 = hierarchies
        .iter()
        .any(|h| matches!(h, Hierarchy::V1 { .. }));
    let v2 = hierarchies
        .iter()
        .any(|h| matches!(h, Hierarchy::V2 { .. }));
    match (v1, v2) {
        (true, true) => "1 (hybrid)",
        (true, false) => "1",
        (false, true) => "2",
        (false, false) => "none",
    }
}

/// Where cgroup hierarchies are mounted on a usual host, and inside containers.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// The container's own directory in each hierarchy (`cgroups_path` is its path below every
/// hierarchy's root) and the name it takes below /sys/fs/cgroup inside the container, as
/// on the host: `memory`, `cpu,cpuacct` (also as `cpu` and `cpuacct`), `unified`. `None`
/// is /sys/fs/cgroup itself (a pure v2 host). Only directories that exist are listed.
pub(crate) fn own_cgroup_dirs(cgroups_path: &str) -> Vec<(PathBuf, Option<String>)> {
    let relative = cgroups_path.trim_start_matches('/');
    let mut dirs = Vec::new();
    for h in mounted_hierarchies().unwrap_or_default() {
        let (mount, fallback) = match &h {
            Hierarchy::V1 { mount, controllers } => (mount, controllers.join(",")),
            Hierarchy::V2 { mount, .. } => (mount, "unified".to_owned()),
        };
        let dir = mount.join(relative);
        if relative.is_empty() || !dir.is_dir() {
            continue;
        }
        let name = match mount.strip_prefix(CGROUP_ROOT) {
            Ok(rest) if rest.as_os_str().is_empty() => None,
            Ok(rest) => Some(rest.to_string_lossy().into_owned()),
            Err(_) => Some(fallback),
        };
        // Controllers mounted together are also found under each one's name.
        let aliases: Vec<String> = match (&h, &name) {
            (Hierarchy::V1 { controllers, .. }, Some(name)) if controllers.len() > 1 => {
                controllers.iter().filter(|c| *c != name).cloned().collect()
            }
            _ => Vec::new(),
        };
        dirs.push((dir.clone(), name));
        dirs.extend(aliases.into_iter().map(|a| (dir.clone(), Some(a))));
    }
    dirs
}

/// Resource use of one container's processes, as the cgroups count it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CgroupUsage {
    /// CPU time of every process, in nanoseconds.
    pub cpu_ns: u64,
    pub memory: u64,
    /// Page cache that can be dropped; `docker stats` leaves it out of usage.
    pub memory_inactive_file: u64,
    /// None: no limit.
    pub memory_limit: Option<u64>,
    pub pids: u64,
    pub block_read: u64,
    pub block_write: u64,
}

/// Cgroup files are the kernel's: small, but read through a cap all the same.
fn read_small(dir: &Path, file: &str) -> String {
    use std::io::Read;
    let mut text = String::new();
    if let Ok(f) = fs::File::open(dir.join(file)) {
        let _ = f.take(1 << 20).read_to_string(&mut text);
    }
    text
}

fn read_number(dir: &Path, file: &str) -> u64 {
    read_small(dir, file).trim().parse().unwrap_or(0)
}

/// A `key value` line of a stat file (`memory.stat`, `cpu.stat`).
fn stat_field(dir: &Path, file: &str, key: &str) -> u64 {
    read_small(dir, file)
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0)
}

/// Bytes read and written, v1: `MAJ:MIN Read N` lines of blkio.throttle.io_service_bytes.
fn blkio_v1(dir: &Path) -> (u64, u64) {
    let text = read_small(dir, "blkio.throttle.io_service_bytes_recursive");
    let mut totals = (0, 0);
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(_device), Some(op), Some(n)) = (words.next(), words.next(), words.next()) else {
            continue;
        };
        let n: u64 = n.parse().unwrap_or(0);
        match op {
            "Read" => totals.0 += n,
            "Write" => totals.1 += n,
            _ => {}
        }
    }
    totals
}

/// Bytes read and written, v2: `MAJ:MIN rbytes=N wbytes=N ...` lines of io.stat.
fn io_stat_v2(dir: &Path) -> (u64, u64) {
    let text = read_small(dir, "io.stat");
    let mut totals = (0, 0);
    for word in text.split_whitespace() {
        if let Some(n) = word.strip_prefix("rbytes=") {
            totals.0 += n.parse().unwrap_or(0);
        } else if let Some(n) = word.strip_prefix("wbytes=") {
            totals.1 += n.parse().unwrap_or(0);
        }
    }
    totals
}

/// The cgroup of one container, across every mounted hierarchy.
#[derive(Debug)]
pub struct Cgroup {
    dirs: Vec<(Hierarchy, PathBuf)>,
}

/// Whether a v1 device cgroup holds Docker's default rules already.
#[derive(Clone, Copy, PartialEq, Eq)]
enum DeviceDefaults {
    Unset,
    Set,
}

/// The hierarchies mounted, read once per process: a container's start and exit ask
/// for them half a dozen times (creating, the spec, init's mounts, removing), and the
/// cgroups a process made are the ones it must find again.
fn mounted_hierarchies() -> Result<Vec<Hierarchy>> {
    static FOUND: std::sync::OnceLock<Vec<Hierarchy>> = std::sync::OnceLock::new();
    if let Some(found) = FOUND.get() {
        return Ok(found.clone());
    }
    let found = read_mounted_hierarchies()?;
    Ok(FOUND.get_or_init(|| found).clone())
}

fn read_mounted_hierarchies() -> Result<Vec<Hierarchy>> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo")
        .context(|| "reading /proc/self/mountinfo".into())?;
    let mut found = Vec::new();
    for line in mountinfo.lines() {
        // Fields: id parent major:minor root mountpoint options [optional...] - fstype source superopts
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let mount = match left.split(' ').nth(4) {
            Some(m) => PathBuf::from(m),
            None => continue,
        };
        let mut right = right.split(' ');
        let fstype = right.next().unwrap_or("");
        let superopts = right.nth(1).unwrap_or("");
        match fstype {
            "cgroup" => {
                let controllers: Vec<String> = superopts
                    .split(',')
                    .filter(|o| !matches!(*o, "rw" | "ro") && !o.contains('='))
                    .map(str::to_owned)
                    .collect();
                if !controllers.is_empty() {
                    found.push(Hierarchy::V1 { mount, controllers });
                }
            }
            "cgroup2" => {
                let controllers = fs::read_to_string(mount.join("cgroup.controllers"))
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect();
                found.push(Hierarchy::V2 { mount, controllers });
            }
            _ => {}
        }
    }
    if found.is_empty() {
        return Err(Error::Runtime("no cgroup hierarchy is mounted".into()));
    }
    Ok(found)
}

/// Writes `value` to a cgroup control file, naming the file on failure.
fn write(dir: &Path, file: &str, value: &str) -> Result<()> {
    let path = dir.join(file);
    fs::write(&path, value).context(|| format!("writing {value:?} to {}", path.display()))
}

/// A v1 cpuset cgroup starts with empty cpus/mems and refuses tasks until they're set.
fn init_cpuset(dir: &Path) -> Result<()> {
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let current = fs::read_to_string(dir.join(file)).unwrap_or_default();
        if current.trim().is_empty() {
            let parent = dir.parent().unwrap_or(dir);
            let inherited = fs::read_to_string(parent.join(file)).unwrap_or_default();
            write(dir, file, inherited.trim())?;
        }
    }
    Ok(())
}

/// Memory plus swap to write: Docker's default (twice the memory) for records from before
/// the swap was kept; -1 is unlimited.
fn memory_swap(r: &Resources) -> Option<i64> {
    match (r.memory, r.memory_swap) {
        (_, Some(s)) if s != 0 => Some(s),
        (Some(m), _) => Some(m * 2),
        (None, _) => None,
    }
}

fn memory_v1(dir: &Path, r: &Resources) -> Result<()> {
    let swap = memory_swap(r).filter(|_| dir.join("memory.memsw.limit_in_bytes").exists());
    if let Some(limit) = r.memory {
        // memsw may never be below the limit: lowering both goes limit first, raising
        // both memsw first; the kernel refuses the wrong order with EINVAL.
        if write(dir, "memory.limit_in_bytes", &limit.to_string()).is_err() {
            if let Some(swap) = swap {
                write(dir, "memory.memsw.limit_in_bytes", &swap.to_string())?;
            }
            write(dir, "memory.limit_in_bytes", &limit.to_string())?;
        }
    }
    if let Some(swap) = swap {
        write(dir, "memory.memsw.limit_in_bytes", &swap.to_string())?;
    }
    if let Some(reservation) = r.memory_reservation.filter(|v| *v > 0) {
        write(dir, "memory.soft_limit_in_bytes", &reservation.to_string())?;
    }
    if r.oom_kill_disable {
        write(dir, "memory.oom_control", "1")?;
    }
    if let Some(swappiness) = r.memory_swappiness {
        write(dir, "memory.swappiness", &swappiness.to_string())?;
    }
    Ok(())
}

/// v1's real-time period and runtime (`--cpu-rt-period`, `--cpu-rt-runtime`).
fn cpu_rt_v1(dir: &Path, r: &Resources) -> Result<()> {
    let period = r.cpu_rt_period.filter(|p| *p > 0);
    let runtime = r.cpu_rt_runtime.filter(|v| *v != 0);
    let set_period = || match period {
        Some(p) => write(dir, "cpu.rt_period_us", &p.to_string()),
        None => Ok(()),
    };
    let set_runtime = || match runtime {
        Some(v) => write(dir, "cpu.rt_runtime_us", &v.to_string()),
        None => Ok(()),
    };
    // The kernel checks each value against the other one already there: a runtime above
    // the old period goes after the period, a period below the old runtime after it.
    if set_period().and_then(|()| set_runtime()).is_err() {
        set_runtime().and_then(|()| set_period()).map_err(|e| {
            Error::Runtime(format!(
                "{e}: the parent cgroup's real-time budget (its cpu.rt_runtime_us) is too small for this --cpu-rt-runtime"
            ))
        })?;
    }
    Ok(())
}

/// The kernel's share of a CPU a real-time runtime per period is (`to_ratio`, in
/// 1/2^20): -1 is all of it.
fn rt_ratio(period: i64, runtime: i64) -> u128 {
    const UNIT: u128 = 1 << 20;
    match (period, runtime) {
        (_, r) if r < 0 => UNIT,
        (p, _) if p <= 0 => 0,
        (p, r) => ((r as u128) << 20) / p as u128,
    }
}

/// Refuses a `--cpu-rt-runtime` the container's parent cgroup can't give (the kernel
/// would refuse it at start with a bare EINVAL): the parent's real-time share less what
/// its other children hold. Docker leaves the parent's budget to its daemon's own
/// `--cpu-rt-runtime`; berth leaves it to the host's admin and says so.
pub(crate) fn check_rt_budget(r: &Resources, id: Option<&str>) -> Result<()> {
    let Some(runtime) = r.cpu_rt_runtime.filter(|v| *v != 0) else {
        return Ok(());
    };
    let Some(mount) = mounted_hierarchies()?.into_iter().find_map(|h| match h {
        Hierarchy::V1 { mount, controllers } if controllers.iter().any(|c| c == "cpu") => {
            Some(mount)
        }
        _ => None,
    }) else {
        return Ok(());
    };
    let number = |dir: &Path, file: &str| read_small(dir, file).trim().parse::<i64>().ok();
    let default_period = fs::read_to_string("/proc/sys/kernel/sched_rt_period_us")
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(1_000_000);
    // The parent, and the container's own cgroup (on `update`) left out of the others.
    let path = r.cgroup_path(id.unwrap_or("-"));
    let parent = match path.rsplit_once('/') {
        Some((parent, _)) => mount.join(parent),
        None => mount.clone(),
    };
    // A parent not made yet starts with no budget, as every new cgroup.
    let parent_period = number(&parent, "cpu.rt_period_us").unwrap_or(default_period);
    let parent_runtime = number(&parent, "cpu.rt_runtime_us").unwrap_or(0);
    let mut held = 0u128;
    if let Ok(entries) = fs::read_dir(&parent) {
        for entry in entries.flatten() {
            let child = entry.path();
            if id.is_some_and(|id| entry.file_name() == std::ffi::OsStr::new(id)) || !child.is_dir()
            {
                continue;
            }
            let (Some(p), Some(v)) = (
                number(&child, "cpu.rt_period_us"),
                number(&child, "cpu.rt_runtime_us"),
            ) else {
                continue;
            };
            held += rt_ratio(p, v);
        }
    }
    let period = r.cpu_rt_period.filter(|p| *p > 0).unwrap_or(default_period);
    let free = rt_ratio(parent_period, parent_runtime).saturating_sub(held);
    if rt_ratio(period, runtime) > free {
        let free_us = (free * period as u128) >> 20;
        return Err(Error::invalid(
            "--cpu-rt-runtime value",
            runtime.to_string(),
            format!(
                "the parent cgroup {} has {free_us}us of real-time CPU free per {period}us period \
                 (its cpu.rt_runtime_us is {parent_runtime} per {parent_period}us): raise it, or \
                 choose a --cgroup-parent with a real-time budget",
                parent.display()
            ),
        ));
    }
    Ok(())
}

fn memory_v2(dir: &Path, r: &Resources) -> Result<()> {
    if let Some(limit) = r.memory {
        write(dir, "memory.max", &limit.to_string())?;
        // v2 limits the swap alone: memsw less the memory.
        if let Some(swap) = memory_swap(r).filter(|_| dir.join("memory.swap.max").exists()) {
            let value = if swap < 0 {
                "max".to_owned()
            } else {
                (swap - limit).max(0).to_string()
            };
            write(dir, "memory.swap.max", &value)?;
        }
    }
    if let Some(reservation) = r.memory_reservation.filter(|v| *v > 0) {
        write(dir, "memory.low", &reservation.to_string())?;
    }
    Ok(())
}

impl Cgroup {
    /// Creates the container's cgroups and applies its limits: `devices` are allowed on
    /// top of Docker's default device rules (`--device`, `--device-cgroup-rule`,
    /// `--privileged`). On failure nothing is left.
    pub fn create(id: &str, resources: &Resources, devices: &[DeviceRule]) -> Result<Cgroup> {
        // Under the default parent, the spare made ahead (see `spare`) is taken by
        // renames: a fraction of what making a cgroup costs on the start's path.
        if resources.cgroup_parent.is_none() {
            if let Some(spare) = Self::take_spare(id) {
                return spare.configure_taken(resources, devices);
            }
        }
        let (mut cgroup, result) = Self::make(&resources.cgroup_path(id), resources, devices);
        if let Err(e) = result {
            // The error that matters is the one that stopped the creation.
            let _ = cgroup.remove();
            return Err(e);
        }
        Ok(cgroup)
    }

    /// The cgroup of container `id` under the default parent, from the spare (see
    /// `spare`) and with the directories a spare does not cover made, but no limits yet
    /// (see [`Cgroup::configure_taken`]); None without a whole spare, when nothing is
    /// left made.
    pub(crate) fn take_spare(id: &str) -> Option<Cgroup> {
        let path = crate::container::cgroup_parent::container_path(None, id);
        let hierarchies = mounted_hierarchies().ok()?;
        let mut cgroup = spare::take(&hierarchies, &path)?;
        let uncovered: Vec<Hierarchy> = hierarchies
            .into_iter()
            .filter(|h| !spare::covers(h))
            .collect();
        match cgroup.create_dirs_in(&uncovered, &path) {
            Ok(()) => Some(cgroup),
            Err(_) => {
                let _ = cgroup.remove();
                None
            }
        }
    }

    /// Applies a container's limits and devices to the cgroup [`Cgroup::take_spare`]
    /// took; on failure the cgroup is removed.
    pub(crate) fn configure_taken(
        mut self,
        resources: &Resources,
        devices: &[DeviceRule],
    ) -> Result<Cgroup> {
        if let Err(e) = self.apply(resources, devices, DeviceDefaults::Set) {
            let _ = self.remove();
            return Err(e);
        }
        Ok(self)
    }

    /// Makes the cgroup at `path` afresh and applies its limits; on failure, what was made
    /// is returned with the error, for the caller to remove.
    fn make(path: &str, resources: &Resources, devices: &[DeviceRule]) -> (Cgroup, Result<()>) {
        let mut cgroup = Cgroup { dirs: Vec::new() };
        let result = cgroup
            .create_dirs(path)
            .and_then(|()| cgroup.apply(resources, devices, DeviceDefaults::Unset));
        (cgroup, result)
    }

    /// Makes a spare cgroup for the next container's start if there is none (see
    /// `spare`): a monitor calls it once its container is gone and no one waits on it.
    pub fn keep_spare() -> Result<()> {
        spare::make(&mounted_hierarchies()?)
    }

    /// The cgroups of a container under the default parent (`berth/<id>`) as they exist
    /// now, for cleanup of what no record describes any more.
    pub fn existing(id: &str) -> Cgroup {
        Self::existing_in(&Self::hierarchies(), &format!("{PARENT}/{id}"))
    }

    /// A container's cgroups as they exist now (under its `--cgroup-parent`), for
    /// cleanup and inspection.
    pub fn of(record: &crate::container::record::ContainerRecord) -> Cgroup {
        Self::existing_in(
            &Self::hierarchies(),
            &record.config.resources.cgroup_path(record.id.as_str()),
        )
    }

    /// The cgroup of a container just made, when the starter made it already in every
    /// hierarchy (see `Engine::start_container_ahead`); None when any is missing, for
    /// [`Cgroup::create`] to make (it takes what exists as it is).
    pub(crate) fn made_for(record: &crate::container::record::ContainerRecord) -> Option<Cgroup> {
        let hierarchies = Self::hierarchies();
        let cgroup = Self::existing_in(
            &hierarchies,
            &record.config.resources.cgroup_path(record.id.as_str()),
        );
        (!hierarchies.is_empty() && cgroup.dirs.len() == hierarchies.len()).then_some(cgroup)
    }

    /// The cgroup hierarchies mounted on this host (read once for many containers).
    pub fn hierarchies() -> Vec<Hierarchy> {
        mounted_hierarchies().unwrap_or_default()
    }

    /// The cgroups at `path` (`<parent>/<id>`, see [`Resources::cgroup_path`]) with
    /// hierarchies already read.
    pub(crate) fn existing_in(hierarchies: &[Hierarchy], path: &str) -> Cgroup {
        let dirs = hierarchies
            .iter()
            .cloned()
            .map(|h| {
                let dir = Self::mount_of(&h).join(path);
                (h, dir)
            })
            .filter(|(_, dir)| dir.exists())
            .collect();
        Cgroup { dirs }
    }

    /// One of its directories, if any exists.
    pub(crate) fn first_dir(&self) -> Option<PathBuf> {
        self.dirs.first().map(|(_, dir)| dir.clone())
    }

    /// The IDs with a `berth/<id>` cgroup in any hierarchy (of every engine root: cgroups
    /// are host-wide), with one of their directories.
    pub(crate) fn all_ids() -> Vec<(String, PathBuf)> {
        let mut found: Vec<(String, PathBuf)> = Vec::new();
        for h in mounted_hierarchies().unwrap_or_default() {
            let parent = Self::mount_of(&h).join(PARENT);
            let Ok(entries) = fs::read_dir(&parent) else {
                continue;
            };
            for entry in entries.flatten() {
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                if entry.path().is_dir() && !found.iter().any(|(id, _)| *id == name) {
                    found.push((name, entry.path()));
                }
            }
        }
        found
    }

    fn mount_of(h: &Hierarchy) -> &Path {
        match h {
            Hierarchy::V1 { mount, .. } | Hierarchy::V2 { mount, .. } => mount,
        }
    }

    /// Makes the container's cgroup at `path` (`<parent>/<id>`) in every hierarchy, and
    /// the parents it lacks, each made usable: a v1 cpuset's cpus and mems, a v2 level's
    /// controllers delegated down. Parents are left when the container goes, as Docker's.
    fn create_dirs(&mut self, path: &str) -> Result<()> {
        self.create_dirs_in(&mounted_hierarchies()?, path)
    }

    /// [`Cgroup::create_dirs`] in these hierarchies only.
    fn create_dirs_in(&mut self, hierarchies: &[Hierarchy], path: &str) -> Result<()> {
        let levels: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        for h in hierarchies {
            let mut dir = Self::mount_of(h).to_path_buf();
            for (depth, level) in levels.iter().enumerate() {
                let parent = dir.clone();
                dir.push(level);
                if let Hierarchy::V2 { controllers, .. } = h {
                    // Limits need the controllers delegated down to the container's level.
                    let wanted: Vec<String> = ["cpu", "cpuset", "io", "memory", "pids"]
                        .iter()
                        .filter(|c| controllers.iter().any(|have| have == *c))
                        .map(|c| format!("+{c}"))
                        .collect();
                    if !wanted.is_empty() {
                        write(&parent, "cgroup.subtree_control", &wanted.join(" "))?;
                    }
                }
                match fs::create_dir(&dir) {
                    Ok(()) => {}
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                    Err(e) => {
                        return Err(e).context(|| format!("creating cgroup {}", dir.display()))
                    }
                }
                // The container's own is removed on a failure from here on.
                if depth + 1 == levels.len() {
                    self.dirs.push((h.clone(), dir.clone()));
                }
                if let Hierarchy::V1 { controllers, .. } = h {
                    if controllers.iter().any(|c| c == "cpuset") {
                        init_cpuset(&dir)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The container's directory in the v2 hierarchy, if one is mounted.
    fn v2_dir(&self) -> Option<&Path> {
        self.dirs.iter().find_map(|(h, dir)| match h {
            Hierarchy::V2 { .. } => Some(dir.as_path()),
            Hierarchy::V1 { .. } => None,
        })
    }

    fn dir_with(&self, controller: &str) -> Option<(&Hierarchy, &Path)> {
        self.dirs.iter().find_map(|(h, dir)| {
            let has = match h {
                Hierarchy::V1 { controllers, .. } | Hierarchy::V2 { controllers, .. } => {
                    controllers.iter().any(|c| c == controller)
                }
            };
            has.then_some((h, dir.as_path()))
        })
    }

    fn apply(&self, r: &Resources, devices: &[DeviceRule], defaults: DeviceDefaults) -> Result<()> {
        self.set_limits(r)?;
        self.allow_devices(devices, defaults)
    }

    /// Docker's default device rules and `devices` on top; on v1, a cgroup whose defaults
    /// are `Set` already (a spare's) gets only `devices`.
    fn allow_devices(&self, devices: &[DeviceRule], defaults: DeviceDefaults) -> Result<()> {
        if let Some((_, dir)) = self.dir_with("devices") {
            if defaults == DeviceDefaults::Unset {
                write(dir, "devices.deny", "a")?;
                for rule in ALLOWED_DEVICES {
                    write(dir, "devices.allow", rule)?;
                }
            }
            for rule in devices {
                write(dir, "devices.allow", &rule.to_string())?;
            }
        } else if let Some(dir) = self.v2_dir().filter(|_| device_programs_load()) {
            // Pure cgroup v2: the same allow list as an eBPF program.
            let mut rules = default_device_rules();
            rules.extend(devices.iter().cloned());
            super::device_filter::attach(dir, &rules)?;
        }
        Ok(())
    }

    /// Changes the limits of a container that runs (`update`): `r` is its whole new set.
    pub fn update(&self, r: &Resources) -> Result<()> {
        self.set_limits(r)
    }

    /// Writes every limit `r` sets; one left unset keeps the cgroup's value.
    fn set_limits(&self, r: &Resources) -> Result<()> {
        if let Some((h, dir)) = self.dir_with("memory") {
            match h {
                Hierarchy::V1 { .. } => memory_v1(dir, r)?,
                Hierarchy::V2 { .. } => memory_v2(dir, r)?,
            }
        }
        if let Some((h, dir)) = self.dir_with("cpu") {
            // `--cpus` is a quota over Docker's fixed period.
            let (period, quota) = match r.nano_cpus.filter(|n| *n > 0) {
                Some(nano) => (
                    Some(CFS_PERIOD_US),
                    Some(nano * CFS_PERIOD_US / 1_000_000_000),
                ),
                None => (
                    r.cpu_period.filter(|p| *p > 0),
                    r.cpu_quota.filter(|q| *q != 0),
                ),
            };
            match h {
                Hierarchy::V1 { .. } => {
                    if let Some(shares) = r.cpu_shares.filter(|s| *s > 0) {
                        write(dir, "cpu.shares", &shares.to_string())?;
                    }
                    if let Some(period) = period {
                        write(dir, "cpu.cfs_period_us", &period.to_string())?;
                    }
                    if let Some(quota) = quota {
                        write(dir, "cpu.cfs_quota_us", &quota.to_string())?;
                    }
                }
                Hierarchy::V2 { .. } => {
                    if let Some(shares) = r.cpu_shares.filter(|s| *s > 0) {
                        // The OCI conversion of shares (2..262144) to weight (1..10000).
                        let weight = 1 + ((shares - 2) * 9999) / 262_142;
                        write(dir, "cpu.weight", &weight.to_string())?;
                    }
                    if period.is_some() || quota.is_some() {
                        let quota = quota
                            .filter(|q| *q > 0)
                            .map_or("max".to_owned(), |q| q.to_string());
                        let period = period.unwrap_or(CFS_PERIOD_US);
                        write(dir, "cpu.max", &format!("{quota} {period}"))?;
                    }
                }
            }
        }
        if let Some((_, dir)) = self.dir_with("cpuset") {
            // The mems first: a cpuset with cpus but no mems refuses tasks.
            if let Some(mems) = r.cpuset_mems.as_deref().filter(|s| !s.is_empty()) {
                write(dir, "cpuset.mems", mems)?;
            }
            if let Some(cpus) = r.cpuset_cpus.as_deref().filter(|s| !s.is_empty()) {
                write(dir, "cpuset.cpus", cpus)?;
            }
        }
        if let Some((_, dir)) = self.dir_with("pids") {
            // None is no limit: written too, so `update --pids-limit -1` lifts one.
            let value = match r.pids_limit.filter(|l| *l > 0) {
                Some(limit) => limit.to_string(),
                None => "max".to_owned(),
            };
            write(dir, "pids.max", &value)?;
        }
        if let Some(weight) = r.blkio_weight.filter(|w| *w > 0) {
            if let Some((h, dir)) = self.dir_with("blkio").or_else(|| self.dir_with("io")) {
                let (file, value) = match h {
                    Hierarchy::V1 { .. } if dir.join("blkio.weight").exists() => {
                        ("blkio.weight", weight.to_string())
                    }
                    Hierarchy::V1 { .. } => ("blkio.bfq.weight", weight.to_string()),
                    Hierarchy::V2 { .. } => ("io.weight", format!("default {weight}")),
                };
                write(dir, file, &value)?;
            }
        }
        if let Some((Hierarchy::V1 { .. }, dir)) = self.dir_with("cpu") {
            cpu_rt_v1(dir, r)?;
        }
        self.set_block_devices(r)?;
        Ok(())
    }

    /// Per-device weights and throttles, each device's numbers read now.
    fn set_block_devices(&self, r: &Resources) -> Result<()> {
        use crate::container::blkio::{resolve, Throttle};
        let any_throttle = Throttle::ALL.iter().any(|t| !r.throttles(*t).is_empty());
        if r.blkio_weight_device.is_empty() && !any_throttle {
            return Ok(());
        }
        let Some((h, dir)) = self.dir_with("blkio").or_else(|| self.dir_with("io")) else {
            return Ok(());
        };
        // The same `MAJOR:MINOR WEIGHT` lines both ways, in the file the kernel has.
        let weight_file = match h {
            Hierarchy::V1 { .. } if dir.join("blkio.weight_device").exists() => {
                "blkio.weight_device"
            }
            Hierarchy::V1 { .. } => "blkio.bfq.weight_device",
            Hierarchy::V2 { .. } if dir.join("io.bfq.weight").exists() => "io.bfq.weight",
            Hierarchy::V2 { .. } => "io.weight",
        };
        for d in &r.blkio_weight_device {
            let number = resolve("--blkio-weight-device", &d.path)?;
            write(dir, weight_file, &format!("{number} {}", d.weight))?;
        }
        match h {
            Hierarchy::V1 { .. } => {
                for throttle in Throttle::ALL {
                    for d in r.throttles(throttle) {
                        let number = resolve(throttle.flag(), &d.path)?;
                        write(dir, throttle.v1_file(), &format!("{number} {}", d.rate))?;
                    }
                }
            }
            Hierarchy::V2 { .. } => {
                // io.max takes one line per device with every limit it sets; 0 is none.
                for throttle in Throttle::ALL {
                    for d in r.throttles(throttle) {
                        let number = resolve(throttle.flag(), &d.path)?;
                        let rate = match d.rate {
                            0 => "max".to_owned(),
                            n => n.to_string(),
                        };
                        write(
                            dir,
                            "io.max",
                            &format!("{number} {}={rate}", throttle.v2_key()),
                        )?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The PIDs (host namespace) of every process in the container.
    pub fn pids(&self) -> Vec<i32> {
        let Some((_, dir)) = self.dirs.first() else {
            return Vec::new();
        };
        fs::read_to_string(dir.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    /// What the container's processes use now, read from whichever hierarchy holds each
    /// controller. A controller that isn't mounted leaves its fields at zero.
    pub fn usage(&self) -> CgroupUsage {
        let mut usage = CgroupUsage::default();
        if let Some((h, dir)) = self.dir_with("cpuacct").or_else(|| self.dir_with("cpu")) {
            usage.cpu_ns = match h {
                Hierarchy::V1 { .. } => read_number(dir, "cpuacct.usage"),
                Hierarchy::V2 { .. } => stat_field(dir, "cpu.stat", "usage_usec") * 1000,
            };
        }
        if let Some((h, dir)) = self.dir_with("memory") {
            let (current, limit, inactive) = match h {
                Hierarchy::V1 { .. } => (
                    "memory.usage_in_bytes",
                    "memory.limit_in_bytes",
                    "total_inactive_file",
                ),
                Hierarchy::V2 { .. } => ("memory.current", "memory.max", "inactive_file"),
            };
            usage.memory = read_number(dir, current);
            usage.memory_inactive_file = stat_field(dir, "memory.stat", inactive);
            // "max" (v2) or the page-rounded i64::MAX (v1): no limit.
            usage.memory_limit = Some(read_number(dir, limit)).filter(|l| *l > 0 && *l < 1 << 62);
        }
        if let Some((_, dir)) = self.dir_with("pids") {
            usage.pids = read_number(dir, "pids.current");
        }
        if let Some((h, dir)) = self.dir_with("blkio").or_else(|| self.dir_with("io")) {
            (usage.block_read, usage.block_write) = match h {
                Hierarchy::V1 { .. } => blkio_v1(dir),
                Hierarchy::V2 { .. } => io_stat_v2(dir),
            };
        }
        usage
    }

    /// True if the kernel's OOM killer killed a process of this container.
    pub fn oom_killed(&self) -> bool {
        let Some((h, dir)) = self.dir_with("memory") else {
            return false;
        };
        let file = match h {
            Hierarchy::V1 { .. } => "memory.oom_control",
            Hierarchy::V2 { .. } => "memory.events",
        };
        fs::read_to_string(dir.join(file))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.strip_prefix("oom_kill "))
            .any(|n| n.trim().parse::<u64>().unwrap_or(0) > 0)
    }

    /// Where the container is frozen: the v1 freezer if mounted (hybrid hosts), else the
    /// v2 cgroup's own `cgroup.freeze` (no controller needed there).
    fn freezer(&self) -> Option<Freezer<'_>> {
        if let Some((_, dir)) = self.dir_with("freezer") {
            return Some(Freezer::V1(dir));
        }
        self.dirs.iter().find_map(|(h, dir)| match h {
            Hierarchy::V2 { .. } if dir.join("cgroup.freeze").exists() => {
                Some(Freezer::V2(dir.as_path()))
            }
            _ => None,
        })
    }

    /// Freezes every process of the container, waiting (bounded) until the kernel says
    /// they all are; on failure they are thawed again.
    pub(crate) fn freeze(&self) -> Result<()> {
        let freezer = self
            .freezer()
            .ok_or_else(|| Error::Runtime("no freezer cgroup for the container".into()))?;
        let frozen = freezer.set(true).and_then(|()| freezer.wait(true));
        if frozen.is_err() {
            let _ = freezer.set(false);
        }
        frozen
    }

    /// Thaws the container's processes. A cgroup removed meanwhile (its processes all
    /// ended and the monitor cleaned up) has nothing left to thaw.
    pub(crate) fn thaw(&self) -> Result<()> {
        let Some(freezer) = self.freezer() else {
            return Ok(());
        };
        match freezer.set(false) {
            Err(_) if freezer.state().is_none() => Ok(()),
            set => set.and_then(|()| freezer.wait(false)),
        }
    }

    /// Kills whatever is left in the cgroups and removes them. Goes on past one that
    /// can't be removed; the error names the first (the teardown's log gets it).
    pub fn remove(&mut self) -> Result<()> {
        // A frozen process can't act on SIGKILL (v1) and would keep its cgroup alive.
        if let Some(freezer) = self.freezer() {
            // A failure shows as the busy cgroup below.
            let _ = freezer.set(false);
        }
        // Generous: a killed process can sit in uninterruptible sleep for seconds on a
        // loaded disk before it leaves the cgroup, and this is the only removal.
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut failed = None;
        for (_, dir) in self.dirs.drain(..).rev() {
            loop {
                match fs::remove_dir(&dir) {
                    Ok(()) => break,
                    Err(e) if e.kind() == ErrorKind::NotFound => break,
                    Err(_) if Instant::now() < deadline => {
                        for pid in fs::read_to_string(dir.join("cgroup.procs"))
                            .unwrap_or_default()
                            .lines()
                            .filter_map(|l| l.trim().parse::<i32>().ok())
                        {
                            // One gone meanwhile is what we want.
                            let _ = nix::sys::signal::kill(
                                nix::unistd::Pid::from_raw(pid),
                                nix::sys::signal::Signal::SIGKILL,
                            );
                        }
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(e) => {
                        failed.get_or_insert(
                            Err(e).context(|| format!("removing cgroup {}", dir.display())),
                        );
                        break;
                    }
                }
            }
        }
        failed.unwrap_or(Ok(()))
    }
}

/// A container's freezer: v1 `freezer.state` (FROZEN, FREEZING, THAWED) or v2
/// `cgroup.freeze` (0 or 1) with the outcome in `cgroup.events` (`frozen 0|1`).
enum Freezer<'a> {
    V1(&'a Path),
    V2(&'a Path),
}

/// How long freezing may take: a process in uninterruptible sleep delays it.
const FREEZE_TIMEOUT: Duration = Duration::from_secs(10);

impl Freezer<'_> {
    fn set(&self, frozen: bool) -> Result<()> {
        match (self, frozen) {
            (Freezer::V1(dir), true) => write(dir, "freezer.state", "FROZEN"),
            (Freezer::V1(dir), false) => write(dir, "freezer.state", "THAWED"),
            (Freezer::V2(dir), true) => write(dir, "cgroup.freeze", "1"),
            (Freezer::V2(dir), false) => write(dir, "cgroup.freeze", "0"),
        }
    }

    /// Frozen or thawed; `Some(None)` on the way (v1 FREEZING), `None` once the cgroup
    /// is gone.
    fn state(&self) -> Option<Option<bool>> {
        match self {
            Freezer::V1(dir) => {
                let text = fs::read_to_string(dir.join("freezer.state")).ok()?;
                Some(match text.trim() {
                    "FROZEN" => Some(true),
                    "THAWED" => Some(false),
                    _ => None,
                })
            }
            Freezer::V2(dir) => {
                let text = fs::read_to_string(dir.join("cgroup.events")).ok()?;
                Some(text.lines().find_map(|l| match l.strip_prefix("frozen ") {
                    Some("1") => Some(true),
                    Some("0") => Some(false),
                    _ => None,
                }))
            }
        }
    }

    fn wait(&self, frozen: bool) -> Result<()> {
        let deadline = Instant::now() + FREEZE_TIMEOUT;
        let mut pause = Duration::from_millis(1);
        loop {
            match self.state() {
                Some(Some(now)) if now == frozen => return Ok(()),
                // Gone: thawed for good; never frozen.
                None if !frozen => return Ok(()),
                None => return Err(Error::Runtime("the container has exited".into())),
                Some(_) => {}
            }
            if Instant::now() > deadline {
                let what = if frozen { "freezing" } else { "thawing" };
                return Err(Error::Runtime(format!(
                    "{what} the container's processes timed out"
                )));
            }
            // v1 freezing is asynchronous: writing FROZEN again nudges the kernel on.
            if frozen {
                if let Freezer::V1(dir) = self {
                    let _ = write(dir, "freezer.state", "FROZEN");
                }
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }
}

#[cfg(test)]
mod usage_tests {
    use super::*;

    #[test]
    fn freezer_states_read_in_both_versions() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(Freezer::V1(d).state(), None);
        assert!(
            Freezer::V1(d).wait(false).is_ok(),
            "a removed cgroup is thawed"
        );
        assert!(Freezer::V1(d).wait(true).is_err(), "and never frozen");
        std::fs::write(d.join("freezer.state"), "FREEZING\n").unwrap();
        assert_eq!(Freezer::V1(d).state(), Some(None));
        std::fs::write(d.join("freezer.state"), "FROZEN\n").unwrap();
        assert_eq!(Freezer::V1(d).state(), Some(Some(true)));
        std::fs::write(d.join("cgroup.events"), "populated 1\nfrozen 1\n").unwrap();
        assert_eq!(Freezer::V2(d).state(), Some(Some(true)));
        std::fs::write(d.join("cgroup.events"), "populated 1\nfrozen 0\n").unwrap();
        assert_eq!(Freezer::V2(d).state(), Some(Some(false)));
    }

    #[test]
    fn block_io_and_stat_files_parse_in_both_versions() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("blkio.throttle.io_service_bytes_recursive"),
            "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 12288\n8:16 Read 1\nTotal 12289\n",
        )
        .unwrap();
        assert_eq!(blkio_v1(d), (4097, 8192));
        std::fs::write(
            d.join("io.stat"),
            "8:0 rbytes=100 wbytes=200 rios=1 wios=2\n8:16 rbytes=1 wbytes=2\n",
        )
        .unwrap();
        assert_eq!(io_stat_v2(d), (101, 202));
        std::fs::write(
            d.join("memory.stat"),
            "cache 5\ninactive_file 42\ntotal_inactive_file 7\n",
        )
        .unwrap();
        assert_eq!(stat_field(d, "memory.stat", "inactive_file"), 42);
        assert_eq!(stat_field(d, "memory.stat", "total_inactive_file"), 7);
        assert_eq!(stat_field(d, "memory.stat", "missing"), 0);
    }
}
