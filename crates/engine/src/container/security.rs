//! The security and device options of a container (`--cap-add`, `--privileged`,
//! `--device`, `--init`, `--ulimit`, `--shm-size`, `--sysctl`, `--security-opt`,
//! `--group-add`): their typed values as the record keeps them, and Docker's rules for
//! what each one grants. `spec.rs` turns them into the OCI spec.

use std::collections::{BTreeMap, HashSet};
use std::str::FromStr;

use oci_spec::runtime::{Capability, LinuxSeccomp, PosixRlimitType};
use serde::{Deserialize, Serialize};

use super::devices::{DeviceMapping, DeviceRule};
use crate::error::{Error, Result};

/// The options of this module, as the record keeps them. All empty is Docker's default.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SecurityConfig {
    #[serde(default)]
    pub cap_add: Vec<CapName>,
    #[serde(default)]
    pub cap_drop: Vec<CapName>,
    /// Every capability, every host device, no seccomp, no masked paths, /sys writable.
    #[serde(default)]
    pub privileged: bool,
    #[serde(default)]
    pub devices: Vec<DeviceMapping>,
    #[serde(default)]
    pub device_cgroup_rules: Vec<DeviceRule>,
    /// `--init`: berth's own reaper as PID 1, the user's process its child.
    #[serde(default)]
    pub init: bool,
    #[serde(default)]
    pub ulimits: Vec<Ulimit>,
    /// Size of /dev/shm in bytes; `None` is Docker's 64 MiB.
    #[serde(default)]
    pub shm_size: Option<u64>,
    #[serde(default)]
    pub sysctls: BTreeMap<String, String>,
    #[serde(default)]
    pub seccomp: SeccompChoice,
    /// `--security-opt no-new-privileges`: asked for explicitly (berth sets it anyway
    /// unless `--privileged`).
    #[serde(default)]
    pub no_new_privileges: bool,
    /// `--security-opt label=disable` (there is no SELinux labelling to turn off).
    #[serde(default)]
    pub label_disabled: bool,
    /// `--security-opt apparmor=unconfined` (berth applies no AppArmor profile).
    #[serde(default)]
    pub apparmor_unconfined: bool,
    /// `--group-add`: group names (resolved in the container's /etc/group at start) or
    /// numbers.
    #[serde(default)]
    pub group_add: Vec<String>,
}

/// Docker's /dev/shm size.
pub const DEFAULT_SHM_SIZE: u64 = 64 << 20;

/// A capability as `--cap-add`/`--cap-drop` name it: one, or `ALL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum CapName {
    All,
    One(Capability),
}

impl CapName {
    /// `NET_ADMIN`, `cap_net_admin`, `CAP_NET_ADMIN` or `ALL`; `None` if the kernel has no
    /// such capability.
    pub fn parse(text: &str) -> Option<CapName> {
        let upper = text.trim().to_ascii_uppercase();
        let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
        if bare == "ALL" {
            return Some(CapName::All);
        }
        Capability::from_str(bare).ok().map(CapName::One)
    }
}

impl std::fmt::Display for CapName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CapName::All => f.write_str("ALL"),
            CapName::One(c) => write!(f, "CAP_{c}"),
        }
    }
}

impl From<CapName> for String {
    fn from(c: CapName) -> String {
        c.to_string()
    }
}

impl TryFrom<String> for CapName {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<CapName, String> {
        CapName::parse(&s).ok_or_else(|| format!("unknown capability {s:?}"))
    }
}

/// Every capability this kernel has (up to /proc/sys/kernel/cap_last_cap) that berth holds
/// itself (a container can't be given more than its runtime has): what `ALL` and
/// `--privileged` grant. Sorted by number, so a spec is the same from one start to the next.
pub(crate) fn all_capabilities() -> Vec<Capability> {
    let supported = caps::runtime::thread_all_supported();
    let held = caps::read(None, caps::CapSet::Permitted).unwrap_or_default();
    let mut all: Vec<caps::Capability> = supported.intersection(&held).copied().collect();
    all.sort_by_key(|c| c.index());
    all.iter()
        .filter_map(|c| {
            let name = c.to_string();
            Capability::from_str(name.strip_prefix("CAP_").unwrap_or(&name)).ok()
        })
        .collect()
}

impl SecurityConfig {
    /// The capabilities the container's root gets, by Docker's rules (TweakCapabilities):
    /// `--privileged` is all; `--cap-add ALL` all but the dropped; `--cap-drop ALL` only
    /// the added; else the defaults less the dropped plus the added.
    pub(crate) fn capabilities(&self, defaults: &HashSet<Capability>) -> HashSet<Capability> {
        let named = |list: &[CapName], cap: Capability| list.contains(&CapName::One(cap));
        let added = || {
            self.cap_add.iter().filter_map(|c| match c {
                CapName::One(c) => Some(*c),
                CapName::All => None,
            })
        };
        if self.privileged {
            all_capabilities().into_iter().collect()
        } else if self.cap_add.contains(&CapName::All) {
            all_capabilities()
                .into_iter()
                .filter(|c| !named(&self.cap_drop, *c))
                .collect()
        } else if self.cap_drop.contains(&CapName::All) {
            added().collect()
        } else {
            defaults
                .iter()
                .copied()
                .filter(|c| !named(&self.cap_drop, *c))
                .chain(added())
                .collect()
        }
    }

    /// Checks what a front door can't be trusted to have checked: sysctls outside the
    /// container's namespaces, and a network sysctl without a network namespace.
    pub(crate) fn validate(&self, own_network: bool) -> Result<()> {
        for (key, value) in &self.sysctls {
            check_sysctl(key, value, own_network)?;
        }
        for u in &self.ulimits {
            if u.soft > u.hard {
                return Err(Error::invalid(
                    "--ulimit",
                    u.to_string(),
                    "the soft limit is above the hard limit",
                ));
            }
        }
        for device in &self.devices {
            device.validate()?;
        }
        if !self.device_cgroup_rules.is_empty() && !super::runtime::cgroups::can_confine_devices() {
            return Err(Error::invalid(
                "--device-cgroup-rule",
                self.device_cgroup_rules[0].to_string(),
                "this host can confine no devices: no v1 devices controller, and this kernel loads no cgroup v2 device program",
            ));
        }
        if let SeccompChoice::Profile(text) = &self.seccomp {
            let caps = self.capabilities(&super::spec::container_capabilities());
            seccomp_profile(text, &caps)?;
        }
        if self.shm_size == Some(0) {
            return Err(Error::invalid(
                "--shm-size",
                "0",
                "it must be greater than 0",
            ));
        }
        Ok(())
    }

    /// Docker's `SecurityOpt`, as the user would have written it.
    pub fn security_opt(&self) -> Vec<String> {
        let mut opts = Vec::new();
        if self.no_new_privileges {
            opts.push("no-new-privileges".to_owned());
        }
        match &self.seccomp {
            SeccompChoice::Default => {}
            SeccompChoice::Unconfined => opts.push("seccomp=unconfined".to_owned()),
            SeccompChoice::Profile(p) => opts.push(format!("seccomp={p}")),
        }
        if self.label_disabled {
            opts.push("label=disable".to_owned());
        }
        if self.apparmor_unconfined {
            opts.push("apparmor=unconfined".to_owned());
        }
        opts
    }
}

/// Which seccomp filter the container gets.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum SeccompChoice {
    /// Docker's default profile, opened up by the container's capabilities.
    #[default]
    Default,
    /// `seccomp=unconfined`: none.
    Unconfined,
    /// `seccomp=PROFILE.json`: the profile's JSON, read at create.
    Profile(String),
}

/// The most of a seccomp profile berth reads: Docker's own is 20 KiB.
pub const MAX_SECCOMP_PROFILE: u64 = 1 << 20;

/// A profile in Docker's format (OCI's, plus `archMap` and per-rule `includes`/`excludes`
/// by capability and architecture) as the OCI profile for a container holding `caps`:
/// rules whose conditions don't hold are left out, as Docker does.
pub(crate) fn seccomp_profile(text: &str, caps: &HashSet<Capability>) -> Result<LinuxSeccomp> {
    let bad = |why: String| Error::invalid("--security-opt", "seccomp=PROFILE.json", why);
    let mut profile: serde_json::Value =
        serde_json::from_str(text).map_err(|e| bad(format!("it is not JSON: {e}")))?;
    let object = profile
        .as_object_mut()
        .ok_or_else(|| bad("it is not a JSON object".into()))?;
    object.remove("archMap");
    let has_cap = |name: &serde_json::Value| {
        name.as_str()
            .and_then(CapName::parse)
            .is_some_and(|c| matches!(c, CapName::One(c) if caps.contains(&c)))
    };
    let this_arch = |name: &serde_json::Value| {
        matches!(name.as_str(), Some("amd64" | "x86_64" | "SCMP_ARCH_X86_64"))
    };
    if let Some(rules) = object.get_mut("syscalls").and_then(|s| s.as_array_mut()) {
        rules.retain_mut(|rule| {
            let Some(rule) = rule.as_object_mut() else {
                return true;
            };
            let list = |v: Option<&serde_json::Value>, key: &str| -> Vec<serde_json::Value> {
                v.and_then(|v| v.get(key))
                    .and_then(|l| l.as_array())
                    .cloned()
                    .unwrap_or_default()
            };
            let includes = rule.remove("includes");
            let excludes = rule.remove("excludes");
            rule.remove("comment");
            let (inc_caps, inc_arches) = (
                list(includes.as_ref(), "caps"),
                list(includes.as_ref(), "arches"),
            );
            let (exc_caps, exc_arches) = (
                list(excludes.as_ref(), "caps"),
                list(excludes.as_ref(), "arches"),
            );
            inc_caps.iter().all(has_cap)
                && (inc_arches.is_empty() || inc_arches.iter().any(this_arch))
                && !exc_caps.iter().any(has_cap)
                && !exc_arches.iter().any(this_arch)
        });
    }
    let profile: LinuxSeccomp = serde_json::from_value(profile)
        .map_err(|e| bad(format!("it is not a seccomp profile: {e}")))?;
    // Refused now, not at the start: what berth's filter compiler can't do.
    super::seccomp::compile(&profile).map_err(|e| bad(e.to_string()))?;
    Ok(profile)
}

/// The sysctls a container may set, Docker's list: those of the IPC namespace, of the
/// mqueue filesystem, and of the network namespace when it has one of its own.
pub fn check_sysctl(key: &str, value: &str, own_network: bool) -> Result<()> {
    let shown = format!("{key}={value}");
    let ipc = matches!(
        key,
        "kernel.msgmax"
            | "kernel.msgmnb"
            | "kernel.msgmni"
            | "kernel.sem"
            | "kernel.shmall"
            | "kernel.shmmax"
            | "kernel.shmmni"
            | "kernel.shm_rmid_forced"
    );
    let named_well = !key.is_empty()
        && key.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        });
    let net = key.starts_with("net.");
    if !named_well || !(ipc || net || key.starts_with("fs.mqueue.")) {
        return Err(Error::invalid(
            "--sysctl",
            shown.clone(),
            format!("sysctl '{shown}' is not whitelisted (only namespaced ones are: kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*)"),
        ));
    }
    if net && !own_network {
        return Err(Error::invalid(
            "--sysctl",
            shown,
            "sysctls in net.* are not allowed with the host's network namespace",
        ));
    }
    if value.contains(['\n', '\0']) {
        return Err(Error::invalid("--sysctl", shown, "the value is one line"));
    }
    Ok(())
}

/// One `--ulimit NAME=SOFT[:HARD]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimit {
    pub name: UlimitName,
    pub soft: u64,
    pub hard: u64,
}

/// The resource limits Docker names (RLIMIT_*, lower case, without the prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UlimitName {
    Core,
    Cpu,
    Data,
    Fsize,
    Locks,
    Memlock,
    Msgqueue,
    Nice,
    Nofile,
    Nproc,
    Rss,
    Rtprio,
    Rttime,
    Sigpending,
    Stack,
}

impl UlimitName {
    pub const ALL: [UlimitName; 15] = [
        UlimitName::Core,
        UlimitName::Cpu,
        UlimitName::Data,
        UlimitName::Fsize,
        UlimitName::Locks,
        UlimitName::Memlock,
        UlimitName::Msgqueue,
        UlimitName::Nice,
        UlimitName::Nofile,
        UlimitName::Nproc,
        UlimitName::Rss,
        UlimitName::Rtprio,
        UlimitName::Rttime,
        UlimitName::Sigpending,
        UlimitName::Stack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UlimitName::Core => "core",
            UlimitName::Cpu => "cpu",
            UlimitName::Data => "data",
            UlimitName::Fsize => "fsize",
            UlimitName::Locks => "locks",
            UlimitName::Memlock => "memlock",
            UlimitName::Msgqueue => "msgqueue",
            UlimitName::Nice => "nice",
            UlimitName::Nofile => "nofile",
            UlimitName::Nproc => "nproc",
            UlimitName::Rss => "rss",
            UlimitName::Rtprio => "rtprio",
            UlimitName::Rttime => "rttime",
            UlimitName::Sigpending => "sigpending",
            UlimitName::Stack => "stack",
        }
    }

    pub fn parse(text: &str) -> Option<UlimitName> {
        UlimitName::ALL.into_iter().find(|n| n.as_str() == text)
    }

    pub(crate) fn oci(self) -> PosixRlimitType {
        use PosixRlimitType as T;
        match self {
            UlimitName::Core => T::RlimitCore,
            UlimitName::Cpu => T::RlimitCpu,
            UlimitName::Data => T::RlimitData,
            UlimitName::Fsize => T::RlimitFsize,
            UlimitName::Locks => T::RlimitLocks,
            UlimitName::Memlock => T::RlimitMemlock,
            UlimitName::Msgqueue => T::RlimitMsgqueue,
            UlimitName::Nice => T::RlimitNice,
            UlimitName::Nofile => T::RlimitNofile,
            UlimitName::Nproc => T::RlimitNproc,
            UlimitName::Rss => T::RlimitRss,
            UlimitName::Rtprio => T::RlimitRtprio,
            UlimitName::Rttime => T::RlimitRttime,
            UlimitName::Sigpending => T::RlimitSigpending,
            UlimitName::Stack => T::RlimitStack,
        }
    }

    /// The kernel's resource number.
    pub(crate) fn resource(self) -> libc::__rlimit_resource_t {
        match self {
            UlimitName::Core => libc::RLIMIT_CORE,
            UlimitName::Cpu => libc::RLIMIT_CPU,
            UlimitName::Data => libc::RLIMIT_DATA,
            UlimitName::Fsize => libc::RLIMIT_FSIZE,
            UlimitName::Locks => libc::RLIMIT_LOCKS,
            UlimitName::Memlock => libc::RLIMIT_MEMLOCK,
            UlimitName::Msgqueue => libc::RLIMIT_MSGQUEUE,
            UlimitName::Nice => libc::RLIMIT_NICE,
            UlimitName::Nofile => libc::RLIMIT_NOFILE,
            UlimitName::Nproc => libc::RLIMIT_NPROC,
            UlimitName::Rss => libc::RLIMIT_RSS,
            UlimitName::Rtprio => libc::RLIMIT_RTPRIO,
            UlimitName::Rttime => libc::RLIMIT_RTTIME,
            UlimitName::Sigpending => libc::RLIMIT_SIGPENDING,
            UlimitName::Stack => libc::RLIMIT_STACK,
        }
    }
}

impl std::fmt::Display for Ulimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}:{}", self.name.as_str(), self.soft, self.hard)
    }
}

/// The hard limit berth itself has for a resource, when it can't raise it (no
/// CAP_SYS_RESOURCE): a container can't be given more. `None`: no ceiling.
fn ceiling(name: UlimitName) -> Option<u64> {
    if caps::has_cap(
        None,
        caps::CapSet::Effective,
        caps::Capability::CAP_SYS_RESOURCE,
    )
    .unwrap_or(false)
    {
        return None;
    }
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct we own.
    if unsafe { libc::getrlimit(name.resource(), &mut rl) } != 0 {
        return None;
    }
    (rl.rlim_max != libc::RLIM_INFINITY).then_some(rl.rlim_max)
}

impl Ulimit {
    /// The limit as this host lets berth set it: both values at most berth's own hard
    /// limit when it can't raise it.
    pub fn clamped(&self) -> Ulimit {
        match ceiling(self.name) {
            Some(max) => Ulimit {
                name: self.name,
                soft: self.soft.min(max),
                hard: self.hard.min(max),
            },
            None => *self,
        }
    }
}
