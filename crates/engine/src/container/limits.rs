//! Docker's rules for a container's cgroup limits (its daemon's
//! `verifyPlatformContainerResources`): what is refused, what is completed (the default
//! swap), and what this host can't apply (dropped with a warning, as Docker's).

use super::record::Resources;
use crate::error::{Error, Result};

/// Docker's smallest memory limit and reservation.
const MIN_MEMORY: i64 = 6 * 1024 * 1024;
/// The kernel's bounds of cpu.shares (v1); Docker clamps to them.
const MIN_CPU_SHARES: i64 = 2;
const MAX_CPU_SHARES: i64 = 262_144;

/// What this host offers to a container's cgroup limits.
#[derive(Debug, Clone)]
pub struct HostLimits {
    /// CPUs and memory nodes a container may be given (the root cpuset).
    pub cpus: Vec<u32>,
    pub mems: Vec<u32>,
    /// Swap accounting is on (v1: memory.memsw.*; v2: memory.swap.max).
    pub swap: bool,
    /// The block I/O controller takes a weight (CFQ/BFQ).
    pub blkio_weight: bool,
    /// The OOM killer can be turned off (v1's memory.oom_control; v2 has no such file).
    pub oom_kill_disable: bool,
    /// Per-device weights (v1 blkio.weight_device or its BFQ twin; v2 io.weight).
    pub blkio_weight_device: bool,
    /// Per-device throttles (v1 blkio.throttle.*; v2 io.max).
    pub blkio_throttle: bool,
    /// Real-time group scheduling (v1 cpu.rt_runtime_us; v2 has none).
    pub cpu_rt: bool,
    /// Swappiness per cgroup (v1 memory.swappiness; v2 has none).
    pub memory_swappiness: bool,
}

impl HostLimits {
    /// What this host offers, read once per process: its cgroup hierarchies stay as they
    /// are while a process runs, and a `run` checks its limits twice (in the front door,
    /// for the warnings, and in the engine, for every door).
    pub fn detect() -> HostLimits {
        static DETECTED: std::sync::OnceLock<HostLimits> = std::sync::OnceLock::new();
        DETECTED.get_or_init(Self::read).clone()
    }

    fn read() -> HostLimits {
        let read = |paths: &[&str]| {
            paths
                .iter()
                .find_map(|p| std::fs::read_to_string(p).ok())
                .and_then(|t| parse_set(t.trim()))
        };
        let all_cpus = || {
            let n = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
            (0..n).collect()
        };
        HostLimits {
            cpus: read(&[
                "/sys/fs/cgroup/cpuset/cpuset.cpus",
                "/sys/fs/cgroup/cpuset.cpus.effective",
            ])
            .unwrap_or_else(all_cpus),
            mems: read(&[
                "/sys/fs/cgroup/cpuset/cpuset.mems",
                "/sys/fs/cgroup/cpuset.mems.effective",
            ])
            .unwrap_or_else(|| vec![0]),
            // v1 has swap accounting when memsw files exist; pure v2 has it with memory.
            swap: std::path::Path::new("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
                .exists()
                || std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
                    .is_ok_and(|c| c.split_whitespace().any(|c| c == "memory")),
            blkio_weight: [
                "/sys/fs/cgroup/blkio/blkio.weight",
                "/sys/fs/cgroup/blkio/blkio.bfq.weight",
            ]
            .iter()
            .any(|p| std::path::Path::new(p).exists())
                || std::path::Path::new("/sys/fs/cgroup/io.weight").exists(),
            oom_kill_disable: std::path::Path::new("/sys/fs/cgroup/memory/memory.oom_control")
                .exists(),
            blkio_weight_device: [
                "/sys/fs/cgroup/blkio/blkio.weight_device",
                "/sys/fs/cgroup/blkio/blkio.bfq.weight_device",
            ]
            .iter()
            .any(|p| std::path::Path::new(p).exists())
                || v2_has("io"),
            blkio_throttle: std::path::Path::new(
                "/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device",
            )
            .exists()
                || v2_has("io"),
            cpu_rt: std::path::Path::new("/sys/fs/cgroup/cpu/cpu.rt_runtime_us").exists(),
            memory_swappiness: std::path::Path::new("/sys/fs/cgroup/memory/memory.swappiness")
                .exists(),
        }
    }
}

/// True if a pure v2 host has `controller` at its root.
fn v2_has(controller: &str) -> bool {
    std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
        .is_ok_and(|c| c.split_whitespace().any(|c| c == controller))
}

/// Docker's range of `--oom-score-adj` (the kernel's), and what this host lets berth
/// give: below berth's own score only with CAP_SYS_RESOURCE (the kernel's rule).
pub fn check_oom_score_adj(value: i64) -> Result<i32> {
    if !(-1000..=1000).contains(&value) {
        return Err(bad(
            "--oom-score-adj value",
            value,
            &format!("Invalid value {value}, range for oom score adj is [-1000, 1000]"),
        ));
    }
    let own: i64 = std::fs::read_to_string("/proc/self/oom_score_adj")
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    let may_lower = caps::has_cap(
        None,
        caps::CapSet::Effective,
        caps::Capability::CAP_SYS_RESOURCE,
    )
    .unwrap_or(false);
    if value < own && !may_lower {
        return Err(bad(
            "--oom-score-adj value",
            value,
            &format!("lowering the OOM score below berth's own ({own}) needs CAP_SYS_RESOURCE, which berth does not have here"),
        ));
    }
    Ok(value as i32)
}

/// A cpuset list (`0-2,4`) as its members, None when malformed.
pub fn parse_set(text: &str) -> Option<Vec<u32>> {
    let mut members = Vec::new();
    if text.is_empty() {
        return Some(members);
    }
    for part in text.split(',') {
        let (low, high) = match part.split_once('-') {
            Some((l, h)) => (l.parse::<u32>().ok()?, h.parse::<u32>().ok()?),
            None => {
                let n = part.parse::<u32>().ok()?;
                (n, n)
            }
        };
        // A bound keeps a hostile `0-4294967295` from listing billions of members.
        if low > high || high >= 1 << 16 {
            return None;
        }
        members.extend(low..=high);
    }
    Some(members)
}

fn bad(what: &'static str, value: impl ToString, reason: &str) -> Error {
    Error::invalid(what, value.to_string(), reason)
}

fn check_set(what: &'static str, text: &str, available: &[u32], kind: &str) -> Result<()> {
    let members = parse_set(text).ok_or_else(|| {
        bad(
            what,
            text,
            &format!("Invalid value {text} for cpuset {kind}"),
        )
    })?;
    if members.iter().any(|m| !available.contains(m)) {
        let noun = if kind == "cpus" {
            "CPUs"
        } else {
            "memory nodes"
        };
        let have = available.iter().map(u32::to_string).collect::<Vec<_>>();
        return Err(bad(
            what,
            text,
            &format!(
                "Requested {noun} are not available - requested {text}, available: {}",
                have.join(",")
            ),
        ));
    }
    Ok(())
}

/// Checks `r` as Docker's daemon does and completes it: the default swap (twice the
/// memory), shares clamped to the kernel's range, and what `host` can't apply dropped.
/// Returns the warnings to show. `update` is true for `update`, where a swap may be
/// given without the memory (the container's is kept).
pub fn check(r: &mut Resources, host: &HostLimits, update: bool) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    if let Some(m) = r.memory.filter(|m| *m != 0) {
        if m < MIN_MEMORY {
            return Err(bad(
                "--memory value",
                m,
                "Minimum memory limit allowed is 6MB",
            ));
        }
    }
    if r.memory == Some(0) {
        r.memory = None;
    }
    match (r.memory, r.memory_swap) {
        (Some(m), Some(s)) if s > 0 && s < m => {
            return Err(bad(
                "--memory-swap value",
                s,
                "Minimum memoryswap limit should be larger than memory limit, see usage",
            ))
        }
        (None, Some(s)) if s > 0 && !update => {
            return Err(bad(
                "--memory-swap value",
                s,
                "You should always set the Memory limit when using Memoryswap limit, see usage",
            ))
        }
        (Some(m), None | Some(0)) if !update => r.memory_swap = Some(m * 2),
        (_, Some(s)) if s < -1 => {
            return Err(bad(
                "--memory-swap value",
                s,
                "use -1 for unlimited swap, or a size",
            ))
        }
        _ => {}
    }
    if r.memory_swap.is_some() && !host.swap {
        warnings.push("Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.".to_owned());
        r.memory_swap = r.memory.map(|_| -1);
    }
    if let Some(res) = r.memory_reservation.filter(|v| *v != 0) {
        if res < MIN_MEMORY {
            return Err(bad(
                "--memory-reservation value",
                res,
                "Minimum memory reservation allowed is 6MB",
            ));
        }
        if r.memory.is_some_and(|m| m < res) {
            return Err(bad(
                "--memory-reservation value",
                res,
                "Minimum memory limit can not be less than memory reservation limit, see usage",
            ));
        }
    }
    if r.oom_kill_disable && !host.oom_kill_disable {
        warnings.push(
            "Your kernel does not support OomKillDisable. OomKillDisable discarded.".to_owned(),
        );
        r.oom_kill_disable = false;
    }
    if r.oom_kill_disable && r.memory.is_none() && !update {
        warnings.push("OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.".to_owned());
    }
    if let Some(shares) = r.cpu_shares.filter(|s| *s != 0) {
        let clamped = shares.clamp(MIN_CPU_SHARES, MAX_CPU_SHARES);
        if clamped != shares {
            warnings.push(format!(
                "Your kernel limits CPU shares to {MIN_CPU_SHARES}-{MAX_CPU_SHARES}: {shares} is {clamped}."
            ));
        }
        r.cpu_shares = Some(clamped);
    }
    if r.nano_cpus.is_some_and(|n| n > 0) {
        if r.cpu_period.is_some_and(|p| p > 0) {
            return Err(bad(
                "--cpus value",
                r.nano_cpus.unwrap_or(0) as f64 / 1e9,
                "Conflicting options: Nano CPUs and CPU Period cannot both be set",
            ));
        }
        if r.cpu_quota.is_some_and(|q| q > 0) {
            return Err(bad(
                "--cpus value",
                r.nano_cpus.unwrap_or(0) as f64 / 1e9,
                "Conflicting options: Nano CPUs and CPU Quota cannot both be set",
            ));
        }
    }
    if let Some(p) = r.cpu_period.filter(|p| *p != 0) {
        if !(1000..=1_000_000).contains(&p) {
            return Err(bad(
                "--cpu-period value",
                p,
                "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
            ));
        }
    }
    if let Some(q) = r.cpu_quota.filter(|q| *q > 0) {
        if q < 1000 {
            return Err(bad(
                "--cpu-quota value",
                q,
                "CPU cfs quota can not be less than 1ms (i.e. 1000)",
            ));
        }
    }
    if let Some(cpus) = r.cpuset_cpus.as_deref().filter(|c| !c.is_empty()) {
        check_set("--cpuset-cpus value", cpus, &host.cpus, "cpus")?;
    }
    if let Some(mems) = r.cpuset_mems.as_deref().filter(|c| !c.is_empty()) {
        check_set("--cpuset-mems value", mems, &host.mems, "mems")?;
    }
    if let Some(w) = r.blkio_weight.filter(|w| *w != 0) {
        if !(10..=1000).contains(&w) {
            return Err(bad(
                "--blkio-weight value",
                w,
                "Range of blkio weight is from 10 to 1000",
            ));
        }
        if !host.blkio_weight {
            warnings.push(
                "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded."
                    .to_owned(),
            );
            r.blkio_weight = None;
        }
    }
    check_devices(r, host, &mut warnings)?;
    check_rt_and_swappiness(r, host, &mut warnings)?;
    Ok(warnings)
}

/// Docker's rules for the per-device block I/O limits: what this host can't apply is
/// dropped with Docker's warning; each device left must be a whole block device here.
fn check_devices(r: &mut Resources, host: &HostLimits, warnings: &mut Vec<String>) -> Result<()> {
    use super::blkio::{resolve, Throttle, MAX_WEIGHT, MIN_WEIGHT};
    if let Some(d) = r
        .blkio_weight_device
        .iter()
        .find(|d| d.weight != 0 && !(MIN_WEIGHT..=MAX_WEIGHT).contains(&d.weight))
    {
        return Err(bad(
            "--blkio-weight-device value",
            format!("{}:{}", d.path, d.weight),
            "invalid weight for device: the weight is 10 to 1000, or 0 to clear it",
        ));
    }
    if !r.blkio_weight_device.is_empty() && !host.blkio_weight_device {
        warnings.push("Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.".to_owned());
        r.blkio_weight_device.clear();
    }
    for throttle in Throttle::ALL {
        if !r.throttles(throttle).is_empty() && !host.blkio_throttle {
            warnings.push(throttle.unsupported().to_owned());
            r.clear_throttles(throttle);
        }
    }
    for (flag, path) in super::blkio::named_devices(r) {
        resolve(flag, path)?;
    }
    Ok(())
}

/// Docker's rules for `--cpu-rt-period`/`--cpu-rt-runtime` (refused where the kernel
/// has no real-time group scheduling, as Docker's) and `--memory-swappiness`.
fn check_rt_and_swappiness(
    r: &mut Resources,
    host: &HostLimits,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let period = r.cpu_rt_period.filter(|p| *p != 0);
    let runtime = r.cpu_rt_runtime.filter(|p| *p != 0);
    if let Some((flag, value)) = period
        .map(|p| ("--cpu-rt-period value", p))
        .or(runtime.map(|v| ("--cpu-rt-runtime value", v)))
    {
        if !host.cpu_rt {
            return Err(bad(
                flag,
                value,
                "Your kernel does not support CPU real-time scheduler (no cpu.rt_runtime_us: cgroup v2 has no real-time groups)",
            ));
        }
    }
    if let Some(p) = period.filter(|p| *p < 0) {
        return Err(bad(
            "--cpu-rt-period value",
            p,
            "the real-time period is a positive number of microseconds",
        ));
    }
    if let Some(v) = runtime.filter(|v| *v < -1) {
        return Err(bad(
            "--cpu-rt-runtime value",
            v,
            "the real-time runtime is a number of microseconds, or -1 for no limit",
        ));
    }
    if let (Some(p), Some(v)) = (period, runtime) {
        if v > p {
            return Err(bad(
                "--cpu-rt-runtime value",
                v,
                "cpu real-time runtime cannot be higher than cpu real-time period",
            ));
        }
    }
    if let Some(s) = r.memory_swappiness {
        if !(0..=100).contains(&s) {
            return Err(bad(
                "--memory-swappiness value",
                s,
                &format!("Invalid value: {s}, valid memory swappiness range is 0-100"),
            ));
        }
        if !host.memory_swappiness {
            warnings.push("Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.".to_owned());
            r.memory_swappiness = None;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> HostLimits {
        HostLimits {
            cpus: vec![0, 1],
            mems: vec![0],
            swap: true,
            blkio_weight: false,
            oom_kill_disable: true,
            blkio_weight_device: false,
            blkio_throttle: true,
            cpu_rt: true,
            memory_swappiness: true,
        }
    }

    fn mb(n: i64) -> i64 {
        n * 1024 * 1024
    }

    #[test]
    fn memory_rules_are_dockers() {
        let mut r = Resources {
            memory: Some(mb(64)),
            ..Default::default()
        };
        assert!(check(&mut r, &host(), false).unwrap().is_empty());
        assert_eq!(r.memory_swap, Some(mb(128)), "Docker's default swap");
        let mut r = Resources {
            memory: Some(mb(64)),
            memory_swap: Some(mb(32)),
            ..Default::default()
        };
        let e = check(&mut r, &host(), false).unwrap_err().to_string();
        assert!(e.contains("larger than memory limit"), "{e}");
        let mut r = Resources {
            memory_swap: Some(mb(32)),
            ..Default::default()
        };
        assert!(check(&mut r, &host(), false).is_err());
        let mut r = Resources {
            memory: Some(mb(64)),
            memory_swap: Some(-1),
            ..Default::default()
        };
        check(&mut r, &host(), false).unwrap();
        assert_eq!(r.memory_swap, Some(-1));
        let mut r = Resources {
            memory: Some(mb(64)),
            ..Default::default()
        };
        let no_swap = HostLimits {
            swap: false,
            ..host()
        };
        let w = check(&mut r, &no_swap, false).unwrap();
        assert!(w[0].contains("swap limit"), "{w:?}");
        assert_eq!(r.memory_swap, Some(-1));
        let mut r = Resources {
            memory: Some(mb(64)),
            memory_reservation: Some(mb(128)),
            ..Default::default()
        };
        assert!(check(&mut r, &host(), false).is_err());
        let mut r = Resources {
            memory_reservation: Some(mb(1)),
            ..Default::default()
        };
        let e = check(&mut r, &host(), false).unwrap_err().to_string();
        assert!(
            e.contains("Minimum memory reservation allowed is 6MB"),
            "{e}"
        );
    }

    #[test]
    fn cpu_rules_are_dockers() {
        let mut r = Resources {
            nano_cpus: Some(500_000_000),
            cpu_quota: Some(50_000),
            ..Default::default()
        };
        assert!(check(&mut r, &host(), false).is_err());
        let mut r = Resources {
            cpu_period: Some(10),
            ..Default::default()
        };
        assert!(check(&mut r, &host(), false).is_err());
        let mut r = Resources {
            cpuset_cpus: Some("0-3".into()),
            ..Default::default()
        };
        let e = check(&mut r, &host(), false).unwrap_err().to_string();
        assert!(
            e.contains("Requested CPUs are not available - requested 0-3, available: 0,1"),
            "{e}"
        );
        let mut r = Resources {
            cpuset_cpus: Some("a".into()),
            ..Default::default()
        };
        let e = check(&mut r, &host(), false).unwrap_err().to_string();
        assert!(e.contains("Invalid value a for cpuset cpus"), "{e}");
        let mut r = Resources {
            cpu_shares: Some(1),
            ..Default::default()
        };
        check(&mut r, &host(), false).unwrap();
        assert_eq!(r.cpu_shares, Some(2));
        assert_eq!(parse_set("0-2,5"), Some(vec![0, 1, 2, 5]));
        assert_eq!(parse_set("0-4294967295"), None);
    }

    #[test]
    fn rt_swappiness_and_device_rules_are_dockers() {
        let mut r = Resources {
            cpu_rt_period: Some(1000),
            cpu_rt_runtime: Some(2000),
            ..Default::default()
        };
        let e = check(&mut r, &host(), false).unwrap_err().to_string();
        assert!(
            e.contains("cannot be higher than cpu real-time period"),
            "{e}"
        );
        let no_rt = HostLimits {
            cpu_rt: false,
            ..host()
        };
        let mut r = Resources {
            cpu_rt_runtime: Some(10),
            ..Default::default()
        };
        let e = check(&mut r, &no_rt, false).unwrap_err().to_string();
        assert!(
            e.contains("does not support CPU real-time scheduler"),
            "{e}"
        );
        let mut r = Resources {
            memory_swappiness: Some(101),
            ..Default::default()
        };
        assert!(check(&mut r, &host(), false).is_err());
        let no_swappiness = HostLimits {
            memory_swappiness: false,
            ..host()
        };
        let mut r = Resources {
            memory_swappiness: Some(10),
            ..Default::default()
        };
        let w = check(&mut r, &no_swappiness, false).unwrap();
        assert!(w[0].contains("memory swappiness"), "{w:?}");
        assert_eq!(r.memory_swappiness, None);
        // No weight_device on this (pretend) host: Docker's warning, dropped
        // before the device is looked at.
        let mut r = Resources {
            blkio_weight_device: vec![crate::container::blkio::WeightDevice {
                path: "/dev/nothere".into(),
                weight: 300,
            }],
            ..Default::default()
        };
        let w = check(&mut r, &host(), false).unwrap();
        assert!(w[0].contains("weight_device"), "{w:?}");
        assert!(r.blkio_weight_device.is_empty());
        let mut r = Resources {
            blkio_device_read_bps: vec![crate::container::blkio::ThrottleDevice {
                path: "/dev/null".into(),
                rate: 1,
            }],
            ..Default::default()
        };
        let e = check(&mut r, &host(), false).unwrap_err().to_string();
        assert!(e.contains("not a block device"), "{e}");
        assert!(check_oom_score_adj(1001).is_err());
        assert_eq!(check_oom_score_adj(1000).unwrap(), 1000);
    }
}
