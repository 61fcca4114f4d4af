//! `berth info` / `system info`: what the engine holds and the host it runs on, with
//! Docker's field names (so `--format '{{.KernelVersion}}'` works as with Docker).

use serde::Serialize;

use crate::container::record::Status;
use crate::error::Result;
use crate::Engine;

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Info {
    pub containers: usize,
    pub containers_running: usize,
    pub containers_paused: usize,
    pub containers_stopped: usize,
    pub images: usize,
    pub volumes: usize,
    pub networks: usize,
    pub server_version: &'static str,
    pub driver: &'static str,
    pub cgroup_driver: &'static str,
    pub cgroup_version: &'static str,
    pub kernel_version: String,
    pub operating_system: String,
    #[serde(rename = "OSType")]
    pub os_type: &'static str,
    pub architecture: &'static str,
    #[serde(rename = "NCPU")]
    pub ncpu: usize,
    pub mem_total: u64,
    pub name: String,
    /// Docker's `DockerRootDir`, under berth's name too.
    #[serde(rename = "DockerRootDir")]
    pub root_dir: String,
}

impl Engine {
    pub fn system_info(&self) -> Result<Info> {
        let containers = self.list_containers()?;
        let running = containers
            .iter()
            .filter(|c| c.state.status == Status::Running)
            .count();
        let paused = containers.iter().filter(|c| c.state.is_paused()).count();
        let uname = nix::sys::utsname::uname().ok();
        Ok(Info {
            containers: containers.len(),
            // Docker counts a paused container as paused, not running.
            containers_running: running - paused,
            containers_paused: paused,
            containers_stopped: containers.len() - running,
            // As `images -a` lists them: a build's step images are its cache's.
            images: self.list_images(true)?.len(),
            volumes: self.list_volumes()?.len(),
            networks: self.read_networks()?.len(),
            server_version: env!("CARGO_PKG_VERSION"),
            driver: "overlay",
            cgroup_driver: "cgroupfs",
            cgroup_version: crate::container::runtime::cgroups::version(),
            kernel_version: uname
                .as_ref()
                .map(|u| u.release().to_string_lossy().into_owned())
                .unwrap_or_default(),
            operating_system: os_name(),
            os_type: "linux",
            architecture: std::env::consts::ARCH,
            ncpu: std::thread::available_parallelism().map_or(1, |n| n.get()),
            mem_total: mem_total(),
            name: uname
                .map(|u| u.nodename().to_string_lossy().into_owned())
                .unwrap_or_default(),
            root_dir: self.paths().root().display().to_string(),
        })
    }
}

/// PRETTY_NAME of /etc/os-release, as Docker's "Operating System".
fn os_name() -> String {
    std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_owned())
        .unwrap_or_else(|| "unknown".into())
}

/// MemTotal of /proc/meminfo in bytes.
fn mem_total() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}
