//! Resource use of running containers, with `docker stats`' meanings: CPU % of one core
//! (summed over cores, so 200 % is two cores busy), memory without the inactive page cache
//! against the limit (or the host's memory), network bytes of the container's interfaces
//! (loopback excluded), block I/O and PIDs. A rate needs two samples; the dashboard keeps
//! the previous one per row, the CLI takes two a moment apart.

use std::time::Instant;

use super::record::{ContainerRecord, Status};
use super::runtime::cgroups::{Cgroup, CgroupUsage};
use crate::error::{Error, Result};
use crate::ids::ContainerId;
use crate::Engine;

impl Engine {
    /// The host PIDs of a running container's processes (`top`).
    pub fn container_pids(&self, name_or_id: &str) -> Result<Vec<i32>> {
        let record = self.container(name_or_id)?;
        if record.state.status != Status::Running {
            return Err(Error::Conflict(format!(
                "container {} is not running",
                record.name
            )));
        }
        Ok(Cgroup::of(&record).pids())
    }
}

/// One reading of a container and of the host's CPU time.
#[derive(Debug, Clone)]
pub struct StatsSample {
    pub id: ContainerId,
    pub name: String,
    pub running: bool,
    pub at: Instant,
    pub usage: CgroupUsage,
    /// CPU time the whole host spent, in nanoseconds (the denominator of CPU %).
    pub host_cpu_ns: u64,
    pub online_cpus: u32,
    pub host_memory: u64,
    pub net_rx: u64,
    pub net_tx: u64,
}

/// What `docker stats` shows for one container.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ContainerStats {
    pub id: ContainerId,
    pub name: String,
    pub running: bool,
    pub cpu_percent: f64,
    pub memory_usage: u64,
    pub memory_limit: u64,
    pub memory_percent: f64,
    pub net_rx: u64,
    pub net_tx: u64,
    pub block_read: u64,
    pub block_write: u64,
    pub pids: u64,
}

/// One sample of each container, reading what the host shares between them (the cgroup
/// mounts, its CPU time and memory) once, not once per container.
pub fn sample_all(records: &[ContainerRecord]) -> Vec<StatsSample> {
    let hierarchies = Cgroup::hierarchies();
    let host_cpu_ns = host_cpu_ns();
    let online_cpus = online_cpus();
    let host_memory = host_memory();
    records
        .iter()
        .map(|record| {
            let running = record.state.status == Status::Running;
            let usage = if running {
                Cgroup::existing_in(
                    &hierarchies,
                    &record.config.resources.cgroup_path(record.id.as_str()),
                )
                .usage()
            } else {
                CgroupUsage::default()
            };
            let (net_rx, net_tx) = match (running, record.state.init) {
                (true, Some(init)) if init.is_alive() => network_bytes(init.pid),
                _ => (0, 0),
            };
            StatsSample {
                id: record.id.clone(),
                name: record.name.clone(),
                running,
                at: Instant::now(),
                usage,
                host_cpu_ns,
                online_cpus,
                host_memory,
                net_rx,
                net_tx,
            }
        })
        .collect()
}

/// The figures between two samples of the same container (CPU % needs both).
pub fn between(before: &StatsSample, now: &StatsSample) -> ContainerStats {
    let cpu_delta = now.usage.cpu_ns.saturating_sub(before.usage.cpu_ns) as f64;
    let host_delta = now.host_cpu_ns.saturating_sub(before.host_cpu_ns) as f64;
    let cpu_percent = if host_delta > 0.0 && now.running {
        cpu_delta / host_delta * f64::from(now.online_cpus) * 100.0
    } else {
        0.0
    };
    let usage = &now.usage;
    let memory_usage = usage.memory.saturating_sub(usage.memory_inactive_file);
    let memory_limit = match usage.memory_limit {
        Some(limit) if limit < now.host_memory => limit,
        _ => now.host_memory,
    };
    let memory_percent = if memory_limit > 0 && now.running {
        memory_usage as f64 / memory_limit as f64 * 100.0
    } else {
        0.0
    };
    ContainerStats {
        id: now.id.clone(),
        name: now.name.clone(),
        running: now.running,
        cpu_percent,
        memory_usage,
        memory_limit: if now.running { memory_limit } else { 0 },
        memory_percent,
        net_rx: now.net_rx,
        net_tx: now.net_tx,
        block_read: usage.block_read,
        block_write: usage.block_write,
        pids: usage.pids,
    }
}

/// Received and sent bytes of every interface but loopback in the network namespace of
/// `pid`. The file is the kernel's, but the interface names in it are the container's,
/// so it is read through a cap and parsed defensively.
fn network_bytes(pid: i32) -> (u64, u64) {
    use std::io::Read;
    let mut text = String::new();
    if let Ok(file) = std::fs::File::open(format!("/proc/{pid}/net/dev")) {
        let _ = file.take(1 << 20).read_to_string(&mut text);
    }
    let mut totals = (0u64, 0u64);
    // Two header lines, then `name: rx_bytes packets ... (8 rx fields) tx_bytes ...`.
    for line in text.lines().skip(2) {
        let Some((name, counters)) = line.rsplit_once(':') else {
            continue;
        };
        if name.trim() == "lo" {
            continue;
        }
        let fields: Vec<u64> = counters
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        if let (Some(rx), Some(tx)) = (fields.first(), fields.get(8)) {
            totals.0 = totals.0.saturating_add(*rx);
            totals.1 = totals.1.saturating_add(*tx);
        }
    }
    totals
}

/// The host's total CPU time from /proc/stat, in nanoseconds.
fn host_cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: u64 = stat
        .lines()
        .find(|l| l.starts_with("cpu "))
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .filter_map(|f| f.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    // SAFETY: sysconf takes a constant and returns a number.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    ticks.saturating_mul(1_000_000_000 / hz)
}

fn online_cpus() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
}

/// MemTotal from /proc/meminfo, in bytes.
fn host_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            let kib = l.strip_prefix("MemTotal:")?.trim().strip_suffix("kB")?;
            kib.trim().parse::<u64>().ok()
        })
        .map_or(0, |kib| kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(cpu_ns: u64, host_cpu_ns: u64, memory: u64, inactive: u64) -> StatsSample {
        StatsSample {
            id: ContainerId::random(),
            name: "c".into(),
            running: true,
            at: Instant::now(),
            usage: CgroupUsage {
                cpu_ns,
                memory,
                memory_inactive_file: inactive,
                memory_limit: Some(100 << 20),
                pids: 3,
                block_read: 0,
                block_write: 0,
            },
            host_cpu_ns,
            online_cpus: 2,
            host_memory: 1 << 30,
            net_rx: 0,
            net_tx: 0,
        }
    }

    #[test]
    fn cpu_is_a_share_of_one_core_and_memory_leaves_out_inactive_cache() {
        // One core busy on a two-core host: half of all host CPU time, 100 %.
        let stats = between(&at(0, 0, 0, 0), &at(1_000, 2_000, 60 << 20, 10 << 20));
        assert!((stats.cpu_percent - 100.0).abs() < 1e-9, "{stats:?}");
        assert_eq!(stats.memory_usage, 50 << 20);
        assert_eq!(stats.memory_limit, 100 << 20);
        assert!((stats.memory_percent - 50.0).abs() < 1e-9);
        // No limit above the host's memory: the host's memory is the limit.
        let mut unlimited = at(0, 0, 0, 0);
        unlimited.usage.memory_limit = None;
        assert_eq!(between(&unlimited, &unlimited).memory_limit, 1 << 30);
    }
}
