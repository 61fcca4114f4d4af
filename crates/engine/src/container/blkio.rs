//! Block I/O limits of single devices, as Docker's: `--blkio-weight-device`,
//! `--device-read-bps`, `--device-write-bps`, `--device-read-iops`, `--device-write-iops`.
//! The record keeps the device's path (Docker's `[{Path, Rate}]`); its numbers are read
//! on the host at each start, since they may change (a loop device set up again).

use std::os::unix::fs::{FileTypeExt, MetadataExt};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The range of a device's weight, as `--blkio-weight`'s.
pub const MIN_WEIGHT: u16 = 10;
pub const MAX_WEIGHT: u16 = 1000;

/// One `--blkio-weight-device DEVICE:WEIGHT`: Docker's WeightDevice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightDevice {
    pub path: String,
    /// 10 to 1000; 0 clears the device's weight (the cgroup's own applies).
    pub weight: u16,
}

/// One `--device-{read,write}-{bps,iops} DEVICE:RATE`: Docker's ThrottleDevice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottleDevice {
    pub path: String,
    /// Bytes or I/O operations per second; 0 lifts the throttle.
    pub rate: u64,
}

/// Which throttle: the flag, its v1 file and its v2 `io.max` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    ReadBps,
    WriteBps,
    ReadIops,
    WriteIops,
}

impl Throttle {
    pub const ALL: [Throttle; 4] = [
        Throttle::ReadBps,
        Throttle::WriteBps,
        Throttle::ReadIops,
        Throttle::WriteIops,
    ];

    pub fn flag(self) -> &'static str {
        match self {
            Throttle::ReadBps => "--device-read-bps",
            Throttle::WriteBps => "--device-write-bps",
            Throttle::ReadIops => "--device-read-iops",
            Throttle::WriteIops => "--device-write-iops",
        }
    }

    pub fn v1_file(self) -> &'static str {
        match self {
            Throttle::ReadBps => "blkio.throttle.read_bps_device",
            Throttle::WriteBps => "blkio.throttle.write_bps_device",
            Throttle::ReadIops => "blkio.throttle.read_iops_device",
            Throttle::WriteIops => "blkio.throttle.write_iops_device",
        }
    }

    pub fn v2_key(self) -> &'static str {
        match self {
            Throttle::ReadBps => "rbps",
            Throttle::WriteBps => "wbps",
            Throttle::ReadIops => "riops",
            Throttle::WriteIops => "wiops",
        }
    }

    /// Docker's warning when this host has no such throttle.
    pub fn unsupported(self) -> &'static str {
        match self {
            Throttle::ReadBps => "Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.",
            Throttle::WriteBps => "Your kernel does not support BPS Block I/O write limit or the cgroup is not mounted. Block I/O BPS write limit discarded.",
            Throttle::ReadIops => "Your kernel does not support IOPS Block read limit or the cgroup is not mounted. Block I/O IOPS read limit discarded.",
            Throttle::WriteIops => "Your kernel does not support IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.",
        }
    }
}

/// A block device's numbers, `MAJ:MIN` as the cgroup files take them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceNumber {
    pub major: u64,
    pub minor: u64,
}

impl std::fmt::Display for DeviceNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.major, self.minor)
    }
}

/// The numbers of the block device at `path` on the host (a link to one is followed, as
/// Docker's stat does). Anything else is refused in one line: the kernel takes limits
/// for whole disks only, so a partition is refused too, naming its disk when it can.
pub fn resolve(flag: &'static str, path: &str) -> Result<DeviceNumber> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::invalid(flag, path, format!("stat {path}: {}", io_reason(&e))))?;
    if !meta.file_type().is_block_device() {
        return Err(Error::invalid(
            flag,
            path,
            format!("{path} is not a block device"),
        ));
    }
    let rdev = meta.rdev();
    let number = DeviceNumber {
        major: nix::sys::stat::major(rdev),
        minor: nix::sys::stat::minor(rdev),
    };
    let sys = std::path::PathBuf::from(format!("/sys/dev/block/{number}"));
    if sys.join("partition").exists() {
        let disk = std::fs::read_link(&sys)
            .ok()
            .and_then(|target| {
                let parent = target.parent()?.file_name()?.to_str()?.to_owned();
                Some(format!(" (use its disk, /dev/{parent})"))
            })
            .unwrap_or_default();
        return Err(Error::invalid(
            flag,
            path,
            format!("{path} is a partition: the kernel limits whole disks only{disk}"),
        ));
    }
    Ok(number)
}

/// An I/O error as Go words it (`no such file or directory`), without the errno.
fn io_reason(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_lowercase(),
        None => e.to_string(),
    }
}

/// Every device a container's block I/O limits name, with its flag (for errors).
pub fn named_devices(r: &super::record::Resources) -> Vec<(&'static str, &str)> {
    let mut devices: Vec<(&'static str, &str)> = r
        .blkio_weight_device
        .iter()
        .map(|d| ("--blkio-weight-device", d.path.as_str()))
        .collect();
    for throttle in Throttle::ALL {
        devices.extend(
            r.throttles(throttle)
                .iter()
                .map(|d| (throttle.flag(), d.path.as_str())),
        );
    }
    devices
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_block_devices_resolve() {
        let e = resolve("--device-read-bps", "/dev/null")
            .unwrap_err()
            .to_string();
        assert!(e.contains("/dev/null is not a block device"), "{e}");
        let e = resolve("--device-read-bps", "/dev/nothere")
            .unwrap_err()
            .to_string();
        assert!(e.contains("stat /dev/nothere"), "{e}");
        // Any whole disk of this machine resolves to the numbers sysfs gives it.
        let Some(disk) = std::fs::read_dir("/sys/block").ok().and_then(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .find(|name| std::path::Path::new(&format!("/dev/{name}")).exists())
        }) else {
            return;
        };
        let want = std::fs::read_to_string(format!("/sys/block/{disk}/dev")).unwrap();
        let got = resolve("--device-read-bps", &format!("/dev/{disk}")).unwrap();
        assert_eq!(got.to_string(), want.trim());
    }
}
