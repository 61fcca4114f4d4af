//! Which namespaces a container shares (`--pid`, `--ipc`, `--uts`, `--userns`,
//! `--cgroupns`), as Docker's modes: its own (the default), the host's, or another
//! container's. The monitor joins another container's before it clones the container's
//! init, so init inherits them.

use std::os::fd::AsFd;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::ContainerId;

/// One namespace's mode.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum NamespaceMode {
    /// A namespace of the container's own.
    #[default]
    Private,
    /// Its own IPC namespace, which other containers may join (`--ipc shareable`).
    Shareable,
    /// The host's.
    Host,
    /// Another container's, by ID (`container:NAME` resolved at create).
    Container(ContainerId),
}

/// The modes of a container's namespaces; the network's is `NetworkConfig`'s.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Namespaces {
    pub pid: NamespaceMode,
    pub ipc: NamespaceMode,
    pub uts: NamespaceMode,
    pub cgroup: NamespaceMode,
    /// `--userns host`: berth builds no user namespace remapping, so this is the only
    /// mode there is; kept to show it as given.
    pub userns_host: bool,
}

/// The modes as the user wrote them, another container named as given.
#[derive(Debug, Clone, Default)]
pub struct NamespaceFlags {
    pub pid: Option<String>,
    pub ipc: Option<String>,
    pub uts: Option<String>,
    pub userns: Option<String>,
    pub cgroupns: Option<String>,
}

/// A mode as written (`host`, `container:NAME`...), with Docker's checks; the name of a
/// container to join comes back as the second value.
fn parse(
    what: &'static str,
    text: &str,
    allowed: &[&str],
    container: bool,
) -> Result<(NamespaceMode, Option<String>)> {
    if let Some(name) = text.strip_prefix("container:") {
        if container && !name.is_empty() {
            return Ok((NamespaceMode::Private, Some(name.to_owned())));
        }
    }
    let mode = match text {
        "host" if allowed.contains(&"host") => NamespaceMode::Host,
        "private" | "" if allowed.contains(&"private") => NamespaceMode::Private,
        "shareable" if allowed.contains(&"shareable") => NamespaceMode::Shareable,
        _ => {
            let mut forms: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
            if container {
                forms.push("container:NAME".into());
            }
            return Err(Error::invalid(
                what,
                text,
                format!("use one of {}", forms.join(", ")),
            ));
        }
    };
    Ok((mode, None))
}

impl Namespaces {
    /// Parses the flags; `resolve` turns a container's name into its ID (it must exist).
    pub fn from_flags(
        flags: &NamespaceFlags,
        hostname_given: bool,
        resolve: impl Fn(&str) -> Result<ContainerId>,
    ) -> Result<Namespaces> {
        let mut ns = Namespaces::default();
        let join = |parsed: (NamespaceMode, Option<String>)| -> Result<NamespaceMode> {
            match parsed {
                (_, Some(name)) => Ok(NamespaceMode::Container(resolve(&name)?)),
                (mode, None) => Ok(mode),
            }
        };
        if let Some(t) = &flags.pid {
            ns.pid = join(parse("--pid mode", t, &["host"], true)?)?;
        }
        if let Some(t) = &flags.ipc {
            ns.ipc = join(parse(
                "--ipc mode",
                t,
                &["host", "private", "shareable"],
                true,
            )?)?;
        }
        if let Some(t) = &flags.uts {
            ns.uts = parse("--uts mode", t, &["host"], false)?.0;
            if ns.uts == NamespaceMode::Host && hostname_given {
                return Err(Error::invalid(
                    "--uts mode",
                    t,
                    "Conflicting options: hostname and the UTS mode",
                ));
            }
        }
        if let Some(t) = &flags.cgroupns {
            ns.cgroup = parse("--cgroupns mode", t, &["host", "private"], false)?.0;
        }
        if let Some(t) = &flags.userns {
            match t.as_str() {
                "host" => ns.userns_host = true,
                "" => {}
                _ => {
                    return Err(Error::invalid(
                        "--userns mode",
                        t,
                        "berth has no user namespace remapping: only \"host\" is supported",
                    ))
                }
            }
        }
        Ok(ns)
    }

    /// The clone flags for the namespaces the container gets of its own.
    pub(crate) fn own_flags(&self) -> libc::c_int {
        let mut flags = libc::CLONE_NEWNS;
        if self.pid == NamespaceMode::Private {
            flags |= libc::CLONE_NEWPID;
        }
        if matches!(self.ipc, NamespaceMode::Private | NamespaceMode::Shareable) {
            flags |= libc::CLONE_NEWIPC;
        }
        if self.uts == NamespaceMode::Private {
            flags |= libc::CLONE_NEWUTS;
        }
        flags
    }

    /// The other containers whose namespaces this one joins, with the namespace's name
    /// under /proc/PID/ns.
    pub(crate) fn joined(&self) -> Vec<(&'static str, &ContainerId)> {
        let mut joined = Vec::new();
        if let NamespaceMode::Container(id) = &self.pid {
            joined.push(("pid", id));
        }
        if let NamespaceMode::Container(id) = &self.ipc {
            joined.push(("ipc", id));
        }
        joined
    }

    /// Docker's HostConfig names: PidMode, IpcMode, UTSMode, UsernsMode, CgroupnsMode.
    pub fn inspect_modes(&self) -> [(&'static str, String); 5] {
        let shown = |m: &NamespaceMode, default: &str| match m {
            NamespaceMode::Private => default.to_owned(),
            NamespaceMode::Shareable => "shareable".to_owned(),
            NamespaceMode::Host => "host".to_owned(),
            NamespaceMode::Container(id) => format!("container:{id}"),
        };
        [
            ("PidMode", shown(&self.pid, "")),
            ("IpcMode", shown(&self.ipc, "private")),
            ("UTSMode", shown(&self.uts, "")),
            (
                "UsernsMode",
                if self.userns_host { "host" } else { "" }.to_owned(),
            ),
            ("CgroupnsMode", shown(&self.cgroup, "private")),
        ]
    }
}

/// Joins the namespace `kind` (`pid`, `ipc`) of the process `pid`: for `pid` the
/// children cloned next, for `ipc` this process and so its children. Keep the guard until
/// the container's init is cloned: dropping it puts the caller's children back in its
/// own PID namespace (the kernel refuses new threads while the two differ).
pub(crate) fn join(kind: &str, pid: i32) -> Result<Rejoin> {
    let open = |path: String| {
        std::fs::File::open(&path).map_err(|e| Error::Io {
            context: format!("opening {path}"),
            err: e,
        })
    };
    let flag = match kind {
        "pid" => nix::sched::CloneFlags::CLONE_NEWPID,
        _ => nix::sched::CloneFlags::CLONE_NEWIPC,
    };
    let own = match kind {
        "pid" => Some(open("/proc/self/ns/pid_for_children".into())?),
        _ => None,
    };
    let target = open(format!("/proc/{pid}/ns/{kind}"))?;
    nix::sched::setns(target.as_fd(), flag).map_err(|err| Error::Sys {
        context: format!("joining the {kind} namespace of process {pid}"),
        err,
    })?;
    Ok(Rejoin { own })
}

/// Puts the PID namespace of the monitor's children back when dropped.
pub(crate) struct Rejoin {
    own: Option<std::fs::File>,
}

impl Drop for Rejoin {
    fn drop(&mut self) {
        if let Some(own) = &self.own {
            if let Err(e) = nix::sched::setns(own.as_fd(), nix::sched::CloneFlags::CLONE_NEWPID) {
                // The monitor then can't start threads: its next step fails loudly.
                eprintln!("berth: returning to the monitor's PID namespace: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(f: impl FnOnce(&mut NamespaceFlags)) -> NamespaceFlags {
        let mut flags = NamespaceFlags::default();
        f(&mut flags);
        flags
    }

    #[test]
    fn modes_parse_as_dockers_and_the_rest_is_refused() {
        let id: ContainerId = "a".repeat(64).parse().unwrap();
        let resolve = |_: &str| Ok(id.clone());
        let ns = Namespaces::from_flags(
            &flags(|f| {
                f.pid = Some("container:web".into());
                f.ipc = Some("shareable".into());
                f.uts = Some("host".into());
                f.userns = Some("host".into());
                f.cgroupns = Some("host".into());
            }),
            false,
            resolve,
        )
        .unwrap();
        assert_eq!(ns.pid, NamespaceMode::Container(id.clone()));
        assert_eq!(ns.own_flags() & libc::CLONE_NEWPID, 0);
        assert_ne!(ns.own_flags() & libc::CLONE_NEWIPC, 0);
        assert_eq!(ns.own_flags() & libc::CLONE_NEWUTS, 0);
        for bad in [
            flags(|f| f.pid = Some("private2".into())),
            flags(|f| f.uts = Some("container:x".into())),
            flags(|f| f.userns = Some("remap".into())),
            flags(|f| f.cgroupns = Some("shareable".into())),
        ] {
            assert!(Namespaces::from_flags(&bad, false, resolve).is_err());
        }
        let uts = flags(|f| f.uts = Some("host".into()));
        assert!(Namespaces::from_flags(&uts, true, resolve).is_err());
    }
}
