//! Host devices in a container: `--device HOST[:CONTAINER[:rwm]]`, `--device-cgroup-rule`
//! and the whole of the host's /dev that `--privileged` gives. The node is made in the
//! container's /dev by init (see `mount_plan`), the device cgroup lets it be used.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxDevice, LinuxDeviceBuilder, LinuxDeviceType};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One `--device`: Docker's DeviceMapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceMapping {
    pub path_on_host: PathBuf,
    pub path_in_container: PathBuf,
    /// Some of `r`, `w` and `m`, in that order.
    pub cgroup_permissions: String,
}

/// A character or block device, or (in a rule) any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    A,
    B,
    C,
}

impl DeviceKind {
    fn letter(self) -> char {
        match self {
            DeviceKind::A => 'a',
            DeviceKind::B => 'b',
            DeviceKind::C => 'c',
        }
    }
}

/// One rule of the device cgroup, as `devices.allow` takes it: `c 1:3 rwm`, `c 42:* rw`.
/// `None` numbers are `*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceRule {
    pub kind: DeviceKind,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: String,
}

/// `rwm` letters, each once, in a canonical order; `None` if anything else is there.
pub fn parse_access(text: &str) -> Option<String> {
    if text.is_empty() || text.len() > 3 || !text.chars().all(|c| "rwm".contains(c)) {
        return None;
    }
    let canonical: String = "rwm".chars().filter(|c| text.contains(*c)).collect();
    (canonical.len() == text.len()).then_some(canonical)
}

impl DeviceRule {
    /// Docker's `--device-cgroup-rule` text: `TYPE MAJOR:MINOR ACCESS`.
    pub fn parse(text: &str) -> Option<DeviceRule> {
        let mut words = text.split_whitespace();
        let (Some(kind), Some(numbers), Some(access), None) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            return None;
        };
        let kind = match kind {
            "a" => DeviceKind::A,
            "b" => DeviceKind::B,
            "c" => DeviceKind::C,
            _ => return None,
        };
        let (major, minor) = numbers.split_once(':')?;
        let number = |n: &str| -> Option<Option<u32>> {
            if n == "*" {
                Some(None)
            } else {
                n.parse().ok().map(Some)
            }
        };
        Some(DeviceRule {
            kind,
            major: number(major)?,
            minor: number(minor)?,
            access: parse_access(access)?,
        })
    }

    /// Everything: what `--privileged` allows.
    pub(crate) fn all() -> DeviceRule {
        DeviceRule {
            kind: DeviceKind::A,
            major: None,
            minor: None,
            access: "rwm".into(),
        }
    }
}

impl std::fmt::Display for DeviceRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = |n: Option<u32>| n.map_or_else(|| "*".to_owned(), |n| n.to_string());
        write!(
            f,
            "{} {}:{} {}",
            self.kind.letter(),
            n(self.major),
            n(self.minor),
            self.access
        )
    }
}

impl From<DeviceRule> for String {
    fn from(r: DeviceRule) -> String {
        r.to_string()
    }
}

impl TryFrom<String> for DeviceRule {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<DeviceRule, String> {
        DeviceRule::parse(&s).ok_or_else(|| format!("invalid device cgroup rule {s:?}"))
    }
}

/// A device node of the host as it is now: what the container's node copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostNode {
    pub kind: DeviceKind,
    pub major: u32,
    pub minor: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

impl HostNode {
    /// The node at `path` (symlinks followed, as Docker does), or why it is none.
    pub(crate) fn of(path: &Path) -> Result<HostNode> {
        let meta = std::fs::metadata(path).map_err(|e| {
            Error::invalid(
                "--device",
                path.display().to_string(),
                format!("error gathering device information: {e}"),
            )
        })?;
        let kind = if meta.file_type().is_char_device() {
            DeviceKind::C
        } else if meta.file_type().is_block_device() {
            DeviceKind::B
        } else {
            return Err(Error::invalid(
                "--device",
                path.display().to_string(),
                "it is not a device node",
            ));
        };
        let rdev = meta.rdev();
        Ok(HostNode {
            kind,
            major: nix::sys::stat::major(rdev) as u32,
            minor: nix::sys::stat::minor(rdev) as u32,
            mode: meta.mode() & 0o7777,
            uid: meta.uid(),
            gid: meta.gid(),
        })
    }

    pub(crate) fn spec_device(&self, path: &Path) -> Result<LinuxDevice> {
        LinuxDeviceBuilder::default()
            .path(path)
            .typ(match self.kind {
                DeviceKind::B => LinuxDeviceType::B,
                _ => LinuxDeviceType::C,
            })
            .major(self.major as i64)
            .minor(self.minor as i64)
            .file_mode(self.mode)
            .uid(self.uid)
            .gid(self.gid)
            .build()
            .map_err(|e| Error::Runtime(format!("building the device {}: {e}", path.display())))
    }

    pub(crate) fn rule(&self, access: &str) -> DeviceRule {
        DeviceRule {
            kind: self.kind,
            major: Some(self.major),
            minor: Some(self.minor),
            access: access.to_owned(),
        }
    }
}

impl DeviceMapping {
    /// Checks a mapping as create must: the host path a device node, the container path
    /// absolute and plain.
    pub(crate) fn validate(&self) -> Result<()> {
        // A directory (`--device /dev/snd`) gives every device below it.
        if !self.path_on_host.is_dir() {
            HostNode::of(&self.path_on_host)?;
        }
        let inside = &self.path_in_container;
        let plain = inside.is_absolute()
            && inside
                .components()
                .all(|c| !matches!(c, std::path::Component::ParentDir));
        if !plain || inside == Path::new("/") {
            return Err(Error::invalid(
                "--device",
                inside.display().to_string(),
                "the path in the container must be absolute",
            ));
        }
        if parse_access(&self.cgroup_permissions).is_none() {
            return Err(Error::invalid(
                "--device",
                self.cgroup_permissions.clone(),
                "permissions are some of r, w and m",
            ));
        }
        Ok(())
    }
}

/// The device nodes a container gets beyond the defaults (its `--device`s, and with
/// `--privileged` the host's whole /dev), read from the host now, and the device cgroup
/// rules that let it use them (and its `--device-cgroup-rule`s).
pub(crate) fn allowed_devices(security: &super::security::SecurityConfig) -> Result<Allowed> {
    let mut nodes = Vec::new();
    let mut rules = Vec::new();
    if security.privileged {
        nodes = host_devices();
        rules.push(DeviceRule::all());
    }
    for mapping in &security.devices {
        for (inside, node) in mapping.nodes()? {
            rules.push(node.rule(&mapping.cgroup_permissions));
            nodes.retain(|(path, _)| *path != inside);
            nodes.push((inside, node));
        }
    }
    rules.extend(security.device_cgroup_rules.iter().cloned());
    Ok(Allowed { nodes, rules })
}

/// What [`allowed_devices`] finds: the nodes to make (where, and the host's node) and the
/// rules that let them be used.
pub(crate) struct Allowed {
    pub nodes: Vec<(PathBuf, HostNode)>,
    pub rules: Vec<DeviceRule>,
}

impl DeviceMapping {
    /// The nodes this mapping makes, where in the container: the one device, or every
    /// device below a directory, at the same place below the container path (Docker's).
    fn nodes(&self) -> Result<Vec<(PathBuf, HostNode)>> {
        if !self.path_on_host.is_dir() {
            let node = HostNode::of(&self.path_on_host)?;
            return Ok(vec![(self.path_in_container.clone(), node)]);
        }
        Ok(devices_below(&self.path_on_host)
            .into_iter()
            .filter_map(|(path, node)| {
                let relative = path.strip_prefix(&self.path_on_host).ok()?;
                Some((self.path_in_container.join(relative), node))
            })
            .collect())
    }
}

/// The most device nodes `--privileged` (or a `--device` directory) copies from the host.
const MAX_HOST_DEVICES: usize = 4096;

/// Every device node under the host's /dev, as Docker's `--privileged` gives them: not
/// the container's own (pts, shm, mqueue), not symlinks, not /dev/console.
pub(crate) fn host_devices() -> Vec<(PathBuf, HostNode)> {
    devices_below(Path::new("/dev"))
}

/// The device nodes below a host directory (sorted, at most `MAX_HOST_DEVICES`), skipping
/// what a container's /dev has of its own, symlinks and /dev/console.
fn devices_below(top: &Path) -> Vec<(PathBuf, HostNode)> {
    let mut found = Vec::new();
    let mut dirs = vec![top.to_owned()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if found.len() >= MAX_HOST_DEVICES {
                return found;
            }
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                let skipped = ["pts", "shm", "mqueue", "fd", ".lxc", ".lxd-mounts", ".udev"];
                if !skipped.iter().any(|s| entry.file_name() == *s) {
                    dirs.push(path);
                }
            } else if (kind.is_char_device() || kind.is_block_device())
                && path != Path::new("/dev/console")
            {
                if let Ok(node) = HostNode::of(&path) {
                    found.push((path, node));
                }
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_rules_read_and_print_as_devices_allow_takes_them() {
        let rule = DeviceRule::parse("c 42:* rmw").unwrap();
        assert_eq!(rule.to_string(), "c 42:* rwm");
        assert_eq!(DeviceRule::parse("a *:* r").unwrap().to_string(), "a *:* r");
        for bad in [
            "x 1:2 r",
            "c 1 r",
            "c 1:2 q",
            "c 1:2",
            "c a:2 r",
            "c 1:2 rr",
            "c 1:2 r x",
        ] {
            assert!(DeviceRule::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn dev_null_is_a_host_node_and_a_file_is_not() {
        let null = HostNode::of(Path::new("/dev/null")).unwrap();
        assert_eq!((null.kind, null.major, null.minor), (DeviceKind::C, 1, 3));
        let file = tempfile::NamedTempFile::new().unwrap();
        let err = HostNode::of(file.path()).unwrap_err().to_string();
        assert!(err.contains("not a device"), "{err}");
    }
}
