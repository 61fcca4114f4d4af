//! The container's mount sequence as data: what init mounts, makes and masks, in order,
//! computed from the OCI spec alone (and the host's cgroup directories handed in), so it
//! can be read and snapshot-tested without root. `init.rs` performs the steps, by
//! descriptor inside the root before pivot_root and by path in the container's own view
//! after it.

use std::fmt;
use std::path::{Path, PathBuf};

use nix::mount::MsFlags;
use oci_spec::runtime::{Mount, Spec};

/// The steps, in the order init performs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountPlan {
    /// Inside the container root, reached by descriptor (never through a symlink out of
    /// it), before pivot_root.
    pub in_root: Vec<Step>,
    /// After pivot_root, in the container's own view.
    pub after_pivot: Vec<Step>,
}

/// One step of the mount sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The container root bound onto itself: pivot_root needs a mount point.
    BindRootfs,
    /// A mount at `dest`, its mount point made first.
    Mount(MountStep),
    /// The flags of the mount at `dest` changed (after a mount, `dest` leads to it).
    Remount {
        dest: PathBuf,
        flags: MsFlags,
        what: &'static str,
    },
    /// A character device in the container's /dev tmpfs, world-usable (0666).
    Device {
        name: &'static str,
        major: u64,
        minor: u64,
    },
    /// A device node of the host copied in (`--device`, `--privileged`): made inside the
    /// root with its parents, then given the host node's mode and owner.
    Node(NodeStep),
    /// A symlink in the container's /dev.
    DevLink {
        name: &'static str,
        target: &'static str,
    },
    /// A directory made inside the root (0755) if missing: the working directory.
    Mkdir(PathBuf),
    /// A path hidden: an empty read-only tmpfs over a directory, /dev/null over a file.
    /// Nothing there, nothing to do.
    Mask(String),
    /// A path bound onto itself read-only (nosuid, nodev, noexec); skipped if absent.
    Readonly(String),
    /// The root filesystem made read-only (`--read-only`).
    ReadonlyRoot,
}

/// One mount of the plan, its fstab-style options already split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountStep {
    pub dest: PathBuf,
    pub source: PathBuf,
    /// The filesystem type; empty for a bind mount.
    pub typ: String,
    pub flags: MsFlags,
    /// Filesystem data (`size=64m,mode=1777`), empty for none.
    pub data: String,
    /// A bind mount: its mount point is a file when the source is one (known only
    /// when the step is performed).
    pub bind: bool,
}

/// One device node of the spec's `linux.devices`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStep {
    pub path: PathBuf,
    pub block: bool,
    pub major: u64,
    pub minor: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// The device nodes every container's /dev gets, Docker's set.
const DEVICES: &[(&str, u64, u64)] = &[
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// The symlinks of every container's /dev.
const DEV_LINKS: &[(&str, &str)] = &[
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("ptmx", "pts/ptmx"),
    ("core", "/proc/kcore"),
];

impl MountPlan {
    /// The plan for `spec`. `cgroup_dirs` are the container's own cgroup directories on
    /// this host (`cgroups::own_cgroup_dirs`), `None` when the spec names no cgroups path.
    pub fn of(spec: &Spec, cgroup_dirs: Option<&[(PathBuf, Option<String>)]>) -> MountPlan {
        let mut in_root = vec![Step::BindRootfs];
        for m in spec.mounts().iter().flatten() {
            if m.typ().as_deref() == Some("cgroup") {
                if let Some(dirs) = cgroup_dirs {
                    cgroup_steps(&mut in_root, m.destination(), dirs);
                }
            } else {
                spec_mount_steps(&mut in_root, m);
            }
        }
        let nodes: Vec<NodeStep> = spec
            .linux()
            .as_ref()
            .and_then(|l| l.devices().clone())
            .unwrap_or_default()
            .iter()
            // The container's own links (/dev/ptmx to its devpts) win over a host node.
            .filter(|d| {
                !DEV_LINKS
                    .iter()
                    .any(|(name, _)| d.path() == &Path::new("/dev").join(name))
            })
            .map(|d| NodeStep {
                path: d.path().clone(),
                block: d.typ() == oci_spec::runtime::LinuxDeviceType::B,
                major: d.major() as u64,
                minor: d.minor() as u64,
                mode: d.file_mode().unwrap_or(0o666) & 0o7777,
                uid: d.uid().unwrap_or(0),
                gid: d.gid().unwrap_or(0),
            })
            .collect();
        // A device of the spec at the place of a default one replaces it.
        in_root.extend(
            DEVICES
                .iter()
                .filter(|(name, _, _)| {
                    !nodes.iter().any(|n| n.path == Path::new("/dev").join(name))
                })
                .map(|&(name, major, minor)| Step::Device { name, major, minor }),
        );
        in_root.extend(nodes.into_iter().map(Step::Node));
        in_root.extend(
            DEV_LINKS
                .iter()
                .map(|&(name, target)| Step::DevLink { name, target }),
        );
        if let Some(process) = spec.process() {
            in_root.push(Step::Mkdir(process.cwd().clone()));
        }

        let mut after_pivot = Vec::new();
        if let Some(linux) = spec.linux() {
            let masked = linux.masked_paths().iter().flatten().cloned();
            after_pivot.extend(masked.map(Step::Mask));
            let readonly = linux.readonly_paths().iter().flatten().cloned();
            after_pivot.extend(readonly.map(Step::Readonly));
        }
        if spec
            .root()
            .as_ref()
            .and_then(|r| r.readonly())
            .unwrap_or(false)
        {
            after_pivot.push(Step::ReadonlyRoot);
        }
        MountPlan {
            in_root,
            after_pivot,
        }
    }
}

fn spec_mount_steps(steps: &mut Vec<Step>, m: &Mount) {
    let options = m.options().clone().unwrap_or_default();
    let source = m.source().clone().unwrap_or_default();
    let typ = m.typ().clone().unwrap_or_default();
    mount_steps(steps, m.destination(), &typ, &source, &options);
}

/// A mount and the remounts it needs: a bind mount ignores MS_RDONLY until remounted, and
/// propagation is set on the mount once it is there.
fn mount_steps(steps: &mut Vec<Step>, dest: &Path, typ: &str, source: &Path, options: &[String]) {
    let (flags, propagation, data) = parse_options(options);
    let bind = typ == "bind" || flags.contains(MsFlags::MS_BIND);
    steps.push(Step::Mount(MountStep {
        dest: dest.to_owned(),
        source: source.to_owned(),
        typ: if bind { String::new() } else { typ.to_owned() },
        flags: if bind {
            flags | MsFlags::MS_BIND
        } else {
            flags
        },
        data: if bind { String::new() } else { data },
        bind,
    }));
    if bind && flags.contains(MsFlags::MS_RDONLY) {
        let ro = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
        steps.push(Step::Remount {
            dest: dest.to_owned(),
            flags: ro | (flags & MsFlags::MS_REC),
            what: "making read-only",
        });
    }
    // Private needs no step: init made every mount of its namespace private first, and
    // a bind of a private mount is private.
    if propagation.intersects(MsFlags::MS_SHARED | MsFlags::MS_SLAVE) {
        steps.push(Step::Remount {
            dest: dest.to_owned(),
            flags: propagation,
            what: "setting the propagation of",
        });
    }
}

/// Docker's `cgroup` mount at `dest`: only the container's own cgroups, read-only, with
/// no way up to the host's (no release_agent, no sibling). On v1 and hybrid hosts, a
/// tmpfs with the container's directory of each hierarchy bound in it; on pure v2, that
/// directory itself.
fn cgroup_steps(steps: &mut Vec<Step>, dest: &Path, dirs: &[(PathBuf, Option<String>)]) {
    let owned = |options: &[&str]| options.iter().map(|o| o.to_string()).collect::<Vec<_>>();
    // Private, as every bind here (see `mount_steps`).
    let bind_options = owned(&["rbind", "ro", "nosuid", "noexec", "nodev"]);
    if let Some((dir, None)) = dirs.first() {
        mount_steps(steps, dest, "bind", dir, &bind_options);
        return;
    }
    let tmpfs_options = owned(&["nosuid", "noexec", "nodev", "mode=755", "size=64k"]);
    mount_steps(steps, dest, "tmpfs", Path::new("tmpfs"), &tmpfs_options);
    for (dir, name) in dirs {
        if let Some(name) = name {
            mount_steps(steps, &dest.join(name), "bind", dir, &bind_options);
        }
    }
    steps.push(Step::Remount {
        dest: dest.to_owned(),
        flags: MsFlags::MS_BIND
            | MsFlags::MS_REMOUNT
            | MsFlags::MS_RDONLY
            | MsFlags::MS_NOSUID
            | MsFlags::MS_NOEXEC
            | MsFlags::MS_NODEV,
        what: "making read-only",
    });
}

/// Splits fstab-style options into mount flags, propagation flags and filesystem data.
pub(crate) fn parse_options(options: &[String]) -> (MsFlags, MsFlags, String) {
    let mut flags = MsFlags::empty();
    let mut propagation = MsFlags::empty();
    let mut data = Vec::new();
    for o in options {
        match o.as_str() {
            "ro" => flags |= MsFlags::MS_RDONLY,
            "rw" => {}
            "nosuid" => flags |= MsFlags::MS_NOSUID,
            "nodev" => flags |= MsFlags::MS_NODEV,
            "noexec" => flags |= MsFlags::MS_NOEXEC,
            "strictatime" => flags |= MsFlags::MS_STRICTATIME,
            "relatime" => flags |= MsFlags::MS_RELATIME,
            "noatime" => flags |= MsFlags::MS_NOATIME,
            "bind" => flags |= MsFlags::MS_BIND,
            "rbind" => flags |= MsFlags::MS_BIND | MsFlags::MS_REC,
            "private" => propagation = MsFlags::MS_PRIVATE,
            "rprivate" => propagation = MsFlags::MS_PRIVATE | MsFlags::MS_REC,
            "slave" => propagation = MsFlags::MS_SLAVE,
            "rslave" => propagation = MsFlags::MS_SLAVE | MsFlags::MS_REC,
            "shared" => propagation = MsFlags::MS_SHARED,
            "rshared" => propagation = MsFlags::MS_SHARED | MsFlags::MS_REC,
            other => data.push(other.to_owned()),
        }
    }
    (flags, propagation, data.join(","))
}

/// Flags by their kernel names, `MS_BIND|MS_REC`.
struct Flags(MsFlags);

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter_names().map(|(name, _)| name).collect();
        if names.is_empty() {
            f.write_str("-")
        } else {
            f.write_str(&names.join("|"))
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::BindRootfs => write!(f, "bind the rootfs onto itself"),
            Step::Mount(m) if m.bind => write!(
                f,
                "bind {} at {} {}",
                m.source.display(),
                m.dest.display(),
                Flags(m.flags)
            ),
            Step::Mount(m) => {
                write!(
                    f,
                    "mount {} at {} {}",
                    m.typ,
                    m.dest.display(),
                    Flags(m.flags)
                )?;
                if m.source.as_os_str() != m.typ.as_str() {
                    write!(f, " from {}", m.source.display())?;
                }
                if !m.data.is_empty() {
                    write!(f, " data {}", m.data)?;
                }
                Ok(())
            }
            Step::Remount { dest, flags, what } => {
                write!(f, "remount {} {} ({what})", dest.display(), Flags(*flags))
            }
            Step::Device { name, major, minor } => write!(f, "mknod /dev/{name} c {major}:{minor}"),
            Step::Node(n) => write!(
                f,
                "mknod {} {} {}:{} mode {:o} owner {}:{}",
                n.path.display(),
                if n.block { 'b' } else { 'c' },
                n.major,
                n.minor,
                n.mode,
                n.uid,
                n.gid
            ),
            Step::DevLink { name, target } => write!(f, "symlink /dev/{name} -> {target}"),
            Step::Mkdir(path) => write!(f, "mkdir {}", path.display()),
            Step::Mask(path) => write!(f, "mask {path}"),
            Step::Readonly(path) => write!(f, "read-only {path}"),
            Step::ReadonlyRoot => write!(f, "read-only /"),
        }
    }
}

impl fmt::Display for MountPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "inside the root:")?;
        for step in &self.in_root {
            writeln!(f, "  {step}")?;
        }
        writeln!(f, "after pivot_root:")?;
        for step in &self.after_pivot {
            writeln!(f, "  {step}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::container::record::{
        ContainerConfig, ContainerRecord, ContainerState, NetworkConfig, NetworkMode,
    };
    use crate::container::user::ResolvedUser;
    use crate::paths::EnginePaths;
    use crate::storage::mounts::MountSpec;
    use crate::{ContainerId, Digest};

    const ID: &str = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

    /// The spec berth builds for `config` as root, and the engine root it names (a temp
    /// dir, kept while the spec is used).
    fn spec_of(config: ContainerConfig) -> (tempfile::TempDir, String, Spec) {
        let record = ContainerRecord {
            id: ContainerId::from_str(ID).unwrap(),
            name: "web".into(),
            created: chrono::DateTime::UNIX_EPOCH,
            image: "busybox".into(),
            image_id: Digest::of_bytes(b"image"),
            chain_ids: Vec::new(),
            config,
            state: ContainerState::default(),
        };
        let user = ResolvedUser {
            uid: 0,
            gid: 0,
            additional_gids: Vec::new(),
            home: "/root".into(),
        };
        let dir = tempfile::tempdir().unwrap();
        let paths = EnginePaths::create(dir.path()).unwrap();
        let container_dir = paths.root().join("containers").join(ID);
        let spec = crate::container::spec::build(&record, &user, &container_dir, &paths).unwrap();
        let root = paths.root().display().to_string();
        (dir, root, spec)
    }

    /// The plan for `config`, shown with the engine root made constant.
    fn shown(config: ContainerConfig, cgroup_dirs: &[(PathBuf, Option<String>)]) -> String {
        let (_dir, root, spec) = spec_of(config);
        MountPlan::of(&spec, Some(cgroup_dirs))
            .to_string()
            .replace(&root, "[ROOT]")
    }

    fn connected() -> NetworkConfig {
        NetworkConfig {
            mode: NetworkMode::Connected,
            ..Default::default()
        }
    }

    /// A hybrid host's: cpu and cpuacct mounted together, memory, and the unified tree.
    fn hybrid_dirs() -> Vec<(PathBuf, Option<String>)> {
        let cg = |h: &str| PathBuf::from(format!("/sys/fs/cgroup/{h}/berth/{ID}"));
        vec![
            (cg("cpu,cpuacct"), Some("cpu,cpuacct".into())),
            (cg("cpu,cpuacct"), Some("cpu".into())),
            (cg("cpu,cpuacct"), Some("cpuacct".into())),
            (cg("memory"), Some("memory".into())),
            (cg("unified"), Some("unified".into())),
        ]
    }

    #[test]
    fn a_default_container_gets_dockers_mount_sequence() {
        let config = ContainerConfig {
            cmd: vec!["sh".into()],
            hostname: "c0ffee00c0ff".into(),
            network: connected(),
            ..Default::default()
        };
        insta::assert_snapshot!(shown(config, &hybrid_dirs()));
    }

    #[test]
    fn devices_are_made_after_the_defaults_and_the_dev_links_win() {
        use crate::container::devices::DeviceMapping;
        use crate::container::security::SecurityConfig;
        let device = |inside: &str| DeviceMapping {
            path_on_host: "/dev/null".into(),
            path_in_container: inside.into(),
            cgroup_permissions: "rwm".into(),
        };
        let config = ContainerConfig {
            cmd: vec!["sh".into()],
            hostname: "box".into(),
            network: connected(),
            security: SecurityConfig {
                // One in a directory of its own, one in place of a default node, one
                // where the container's own /dev/ptmx link goes (the link wins).
                devices: vec![
                    device("/dev/sub/null"),
                    device("/dev/zero"),
                    device("/dev/ptmx"),
                ],
                shm_size: Some(1 << 30),
                ..Default::default()
            },
            ..Default::default()
        };
        insta::assert_snapshot!(shown(config, &hybrid_dirs()));
    }

    #[test]
    fn volumes_tmpfs_and_a_read_only_root_join_the_sequence() {
        let cwd = Path::new("/home/me");
        let config = ContainerConfig {
            cmd: vec!["sh".into()],
            working_dir: "/srv".into(),
            read_only: true,
            network: connected(),
            mounts: vec![
                MountSpec::parse_volume_flag("data:/var/lib/app", cwd).unwrap(),
                MountSpec::parse_volume_flag("./site:/srv/www:ro", cwd).unwrap(),
                MountSpec::parse_volume_flag("/etc/myhosts:/etc/hosts:ro", cwd).unwrap(),
                MountSpec::parse_volume_flag("/shared:/shared:rshared", cwd).unwrap(),
                MountSpec::parse_tmpfs_flag("/scratch:size=64m,mode=1777").unwrap(),
            ],
            ..Default::default()
        };
        // A pure cgroup v2 host: the container's own directory bound alone.
        let v2 = [(PathBuf::from(format!("/sys/fs/cgroup/berth/{ID}")), None)];
        insta::assert_snapshot!(shown(config, &v2));
    }

    #[test]
    fn a_cgroup_mount_of_the_users_replaces_berths_and_no_path_means_none() {
        let config = ContainerConfig {
            cmd: vec!["sh".into()],
            network: connected(),
            mounts: vec![
                MountSpec::parse_volume_flag("/cg:/sys/fs/cgroup", Path::new("/")).unwrap(),
            ],
            ..Default::default()
        };
        let plan = shown(config, &hybrid_dirs());
        assert!(plan.contains("bind /cg at /sys/fs/cgroup"), "{plan}");
        assert!(!plan.contains("mount tmpfs at /sys/fs/cgroup "), "{plan}");
        assert!(!plan.contains("/berth/"), "{plan}");
    }

    #[test]
    fn each_step_has_its_side_of_pivot_root_and_masks_come_before_read_only() {
        let config = ContainerConfig {
            cmd: vec!["sh".into()],
            read_only: true,
            ..Default::default()
        };
        let (_dir, _root, spec) = spec_of(config);
        // No cgroups path known: no cgroup mount at all, as before.
        let plan = MountPlan::of(&spec, None);
        assert_eq!(plan.in_root.first(), Some(&Step::BindRootfs));
        assert!(!plan
            .in_root
            .iter()
            .any(|s| matches!(s, Step::Mount(m) if m.dest == Path::new("/sys/fs/cgroup"))));
        assert!(plan
            .in_root
            .iter()
            .all(|s| !matches!(s, Step::Mask(_) | Step::Readonly(_) | Step::ReadonlyRoot)));
        let last_mask = plan
            .after_pivot
            .iter()
            .rposition(|s| matches!(s, Step::Mask(_)))
            .unwrap();
        let first_ro = plan
            .after_pivot
            .iter()
            .position(|s| matches!(s, Step::Readonly(_)))
            .unwrap();
        assert!(last_mask < first_ro);
        assert_eq!(plan.after_pivot.last(), Some(&Step::ReadonlyRoot));
        // /dev is mounted before its nodes are made in it.
        let dev_mount = plan
            .in_root
            .iter()
            .position(|s| matches!(s, Step::Mount(m) if m.dest == Path::new("/dev")))
            .unwrap();
        let first_node = plan
            .in_root
            .iter()
            .position(|s| matches!(s, Step::Device { .. }))
            .unwrap();
        assert!(dev_mount < first_node);
    }

    #[test]
    fn options_split_into_flags_propagation_and_data() {
        let options: Vec<String> = ["rbind", "ro", "rslave", "size=64m", "mode=1777", "nosuid"]
            .map(String::from)
            .to_vec();
        let (flags, propagation, data) = parse_options(&options);
        assert_eq!(
            flags,
            MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_RDONLY | MsFlags::MS_NOSUID
        );
        assert_eq!(propagation, MsFlags::MS_SLAVE | MsFlags::MS_REC);
        assert_eq!(data, "size=64m,mode=1777");
    }
}
