//! What a container mounts besides its root: volumes, host directories (binds) and tmpfs.
//! Parsed once from Docker's three syntaxes (`-v`, `--mount`, `--tmpfs`) into [`MountSpec`].

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    Volume,
    Bind,
    Tmpfs,
}

impl MountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MountKind::Volume => "volume",
            MountKind::Bind => "bind",
            MountKind::Tmpfs => "tmpfs",
        }
    }
}

/// Mount propagation of a bind mount; Docker's default is `rprivate`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Propagation {
    Private,
    #[default]
    Rprivate,
    Shared,
    Rshared,
    Slave,
    Rslave,
}

impl Propagation {
    pub fn as_str(self) -> &'static str {
        match self {
            Propagation::Private => "private",
            Propagation::Rprivate => "rprivate",
            Propagation::Shared => "shared",
            Propagation::Rshared => "rshared",
            Propagation::Slave => "slave",
            Propagation::Rslave => "rslave",
        }
    }

    fn parse(text: &str) -> Option<Propagation> {
        Some(match text {
            "private" => Propagation::Private,
            "rprivate" => Propagation::Rprivate,
            "shared" => Propagation::Shared,
            "rshared" => Propagation::Rshared,
            "slave" => Propagation::Slave,
            "rslave" => Propagation::Rslave,
            _ => return None,
        })
    }
}

/// Mount flags a tmpfs gets back (`--tmpfs /x:exec`) from Docker's `noexec,nosuid,nodev`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TmpfsFlags {
    pub exec: bool,
    pub suid: bool,
    pub dev: bool,
}

impl TmpfsFlags {
    fn is_default(&self) -> bool {
        *self == TmpfsFlags::default()
    }

    /// The mount options of these flags: `noexec` unless `exec`, and so on.
    pub fn options(self) -> impl Iterator<Item = &'static str> {
        [
            (!self.exec).then_some("noexec"),
            (!self.suid).then_some("nosuid"),
            (!self.dev).then_some("nodev"),
        ]
        .into_iter()
        .flatten()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountSpec {
    pub kind: MountKind,
    /// The volume's name or the host path; empty for tmpfs, and for an anonymous volume
    /// until create gives it a name.
    pub source: String,
    /// Absolute path inside the container.
    pub destination: String,
    pub read_only: bool,
    #[serde(default)]
    pub propagation: Propagation,
    /// tmpfs size in bytes; absent, the kernel's default (half the host's memory), as in
    /// Docker.
    #[serde(default)]
    pub tmpfs_size: Option<u64>,
    #[serde(default)]
    pub tmpfs_mode: Option<u32>,
    #[serde(default, skip_serializing_if = "TmpfsFlags::is_default")]
    pub tmpfs_flags: TmpfsFlags,
    /// Created for this container: removed with it by `rm -v` and `run --rm`.
    #[serde(default)]
    pub anonymous: bool,
    /// Don't copy the image's content into an empty volume (`volume-nocopy`, `:nocopy`).
    #[serde(default)]
    pub no_copy: bool,
    /// `-v` creates a missing bind source as a directory; `--mount` refuses it.
    #[serde(default)]
    pub create_source: bool,
    /// The flag it came from, for Docker's inspect (`HostConfig.Binds`, `Mode`); None for
    /// an image's VOLUME, `--tmpfs` and records from before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_as: Option<GivenAs>,
}

/// How the user wrote a mount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GivenAs {
    /// `-v SOURCE:DESTINATION[:OPTIONS]` (or `-v DESTINATION`), with the options as given.
    VolumeFlag { options: String },
    /// `--mount`.
    MountFlag,
}

fn invalid(spec: &str, reason: impl Into<String>) -> Error {
    Error::invalid("mount", spec, reason)
}

/// Volume names as Docker accepts them.
pub(crate) fn valid_volume_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() >= 2
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn check_destination(spec: &str, destination: &str) -> Result<()> {
    if !destination.starts_with('/') {
        return Err(invalid(
            spec,
            format!("the container path {destination:?} must be absolute"),
        ));
    }
    if Path::new(destination).components().count() <= 1 {
        return Err(invalid(spec, "the container path cannot be '/'"));
    }
    if destination.split('/').any(|part| part == "..") {
        return Err(invalid(spec, "the container path cannot contain '..'"));
    }
    Ok(())
}

/// A host path relative to the current directory as Docker's CLI takes it: `.`, `..`, or
/// starting with `./` or `../`. (In `-v`, any other source without a `/` is a volume.)
fn is_relative_host_path(source: &str) -> bool {
    matches!(source, "." | "..") || source.starts_with("./") || source.starts_with("../")
}

/// `source` made absolute against `cwd` and cleaned lexically (a `..` drops the component
/// before it), as Docker's CLI does with `filepath.Abs`.
fn absolute_source(spec: &str, cwd: &Path, source: &str) -> Result<String> {
    let mut clean = PathBuf::from("/");
    for component in cwd.join(source).components() {
        match component {
            Component::ParentDir => {
                clean.pop();
            }
            Component::Normal(part) => clean.push(part),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    clean.to_str().map(str::to_owned).ok_or_else(|| {
        invalid(
            spec,
            format!("the current directory {} is not UTF-8", cwd.display()),
        )
    })
}

fn base(kind: MountKind, source: &str, destination: &str) -> MountSpec {
    MountSpec {
        kind,
        source: source.to_owned(),
        destination: destination.to_owned(),
        read_only: false,
        propagation: Propagation::default(),
        tmpfs_size: None,
        tmpfs_mode: None,
        tmpfs_flags: TmpfsFlags::default(),
        anonymous: false,
        no_copy: false,
        create_source: false,
        given_as: None,
    }
}

/// A size like `64m`, `1g`, `4096`, `512k` in bytes (binary units).
fn parse_size(spec: &str, text: &str) -> Result<u64> {
    crate::units::parse_binary_size(text).ok_or_else(|| {
        invalid(
            spec,
            format!("invalid size {text:?}: use a number with k, m or g"),
        )
    })
}

fn parse_mode(spec: &str, text: &str) -> Result<u32> {
    u32::from_str_radix(text, 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| invalid(spec, format!("invalid mode {text:?}: use octal, e.g. 1777")))
}

impl MountSpec {
    /// An anonymous volume at `destination` (an image's VOLUME).
    pub(crate) fn anonymous_volume(destination: &str) -> Result<MountSpec> {
        check_destination(destination, destination)?;
        Ok(MountSpec {
            anonymous: true,
            ..base(MountKind::Volume, "", destination)
        })
    }

    /// `-v NAME:/path[:opts]`, `-v /host:/path[:opts]`, `-v ./rel:/path[:opts]` (relative
    /// to `cwd`), or `-v /path` (anonymous volume).
    pub fn parse_volume_flag(spec: &str, cwd: &Path) -> Result<MountSpec> {
        let parts: Vec<&str> = spec.split(':').collect();
        // As Docker's: `:/x`, `/a::/b` and `/a:/b:` are refused, not read as defaults.
        if spec.is_empty() {
            return Err(invalid(spec, "empty volume spec"));
        }
        if parts.len() > 1 && parts.iter().any(|p| p.is_empty()) {
            return Err(invalid(spec, "empty section between colons"));
        }
        let (source, destination, options) = match parts.as_slice() {
            [dest] => ("", *dest, ""),
            [src, dest] => (*src, *dest, ""),
            [src, dest, opts] => (*src, *dest, *opts),
            _ => {
                return Err(invalid(
                    spec,
                    "use SOURCE:DESTINATION[:OPTIONS] or DESTINATION",
                ))
            }
        };
        check_destination(spec, destination)?;
        let mut mount = if source.is_empty() {
            MountSpec {
                anonymous: true,
                ..base(MountKind::Volume, "", destination)
            }
        } else if source.starts_with('/') || is_relative_host_path(source) {
            let source = if source.starts_with('/') {
                source.to_owned()
            } else {
                absolute_source(spec, cwd, source)?
            };
            MountSpec {
                create_source: true,
                ..base(MountKind::Bind, &source, destination)
            }
        } else if valid_volume_name(source) {
            base(MountKind::Volume, source, destination)
        } else {
            return Err(invalid(
                spec,
                format!("{source:?} is neither a host path (/abs or ./rel) nor a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)"),
            ));
        };
        for option in options.split(',').filter(|o| !o.is_empty()) {
            match option {
                "ro" | "readonly" => mount.read_only = true,
                "rw" => mount.read_only = false,
                "nocopy" if mount.kind == MountKind::Volume => mount.no_copy = true,
                // SELinux relabelling: meaningless without SELinux, accepted as Docker does.
                "z" | "Z" => {}
                other => match Propagation::parse(other) {
                    Some(p) if mount.kind == MountKind::Bind => mount.propagation = p,
                    _ => return Err(invalid(spec, format!("unknown option {other:?}"))),
                },
            }
        }
        mount.given_as = Some(GivenAs::VolumeFlag {
            options: options.to_owned(),
        });
        Ok(mount)
    }

    /// `--mount type=volume|bind|tmpfs,source=...,target=...[,readonly][,...]`; a relative
    /// bind source (`./dir`) is taken from `cwd`.
    pub fn parse_mount_flag(spec: &str, cwd: &Path) -> Result<MountSpec> {
        let mut kind = MountKind::Volume;
        let mut source = String::new();
        let mut destination = None;
        let mut read_only = false;
        let mut propagation = None;
        let mut size = None;
        let mut mode = None;
        let mut no_copy = false;
        for field in spec.split(',').filter(|f| !f.is_empty()) {
            let (key, value) = match field.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (field, None),
            };
            let value_of =
                |key: &str| value.ok_or_else(|| invalid(spec, format!("{key} needs a value")));
            match key {
                "type" => {
                    kind = match value_of(key)? {
                        "volume" => MountKind::Volume,
                        "bind" => MountKind::Bind,
                        "tmpfs" => MountKind::Tmpfs,
                        other => {
                            return Err(invalid(
                                spec,
                                format!("unknown mount type {other:?}: use volume, bind or tmpfs"),
                            ))
                        }
                    }
                }
                "source" | "src" => source = value_of(key)?.to_owned(),
                "target" | "destination" | "dst" => destination = Some(value_of(key)?.to_owned()),
                "readonly" | "ro" => {
                    read_only = match value {
                        None | Some("true") | Some("1") => true,
                        Some("false") | Some("0") => false,
                        Some(v) => {
                            return Err(invalid(spec, format!("invalid readonly value {v:?}")))
                        }
                    }
                }
                "bind-propagation" => {
                    let v = value_of(key)?;
                    propagation = Some(
                        Propagation::parse(v)
                            .ok_or_else(|| invalid(spec, format!("invalid propagation {v:?}")))?,
                    );
                }
                "tmpfs-size" => size = Some(parse_size(spec, value_of(key)?)?),
                "tmpfs-mode" => mode = Some(parse_mode(spec, value_of(key)?)?),
                "volume-nocopy" => no_copy = value.is_none_or(|v| v == "true" || v == "1"),
                other => return Err(invalid(spec, format!("unknown field {other:?}"))),
            }
        }
        let destination = destination.ok_or_else(|| invalid(spec, "target is required"))?;
        check_destination(spec, &destination)?;
        if kind == MountKind::Bind && is_relative_host_path(&source) {
            source = absolute_source(spec, cwd, &source)?;
        }
        let mut mount = base(kind, &source, &destination);
        mount.read_only = read_only;
        mount.given_as = Some(GivenAs::MountFlag);
        match kind {
            MountKind::Bind => {
                if !source.starts_with('/') {
                    return Err(invalid(
                        spec,
                        "a bind mount needs an absolute (/...) or relative (./...) source path",
                    ));
                }
                mount.propagation = propagation.unwrap_or_default();
            }
            MountKind::Volume => {
                if source.is_empty() {
                    mount.anonymous = true;
                } else if !valid_volume_name(&source) {
                    return Err(invalid(spec, format!("invalid volume name {source:?}")));
                }
                mount.no_copy = no_copy;
            }
            MountKind::Tmpfs => {
                if !source.is_empty() {
                    return Err(invalid(spec, "a tmpfs mount has no source"));
                }
                mount.tmpfs_size = size;
                mount.tmpfs_mode = mode;
            }
        }
        if kind != MountKind::Bind && propagation.is_some() {
            return Err(invalid(spec, "bind-propagation is for bind mounts"));
        }
        if kind != MountKind::Tmpfs && (size.is_some() || mode.is_some()) {
            return Err(invalid(
                spec,
                "tmpfs-size and tmpfs-mode are for tmpfs mounts",
            ));
        }
        Ok(mount)
    }

    /// `--tmpfs /path[:size=64m,mode=1777,exec,...]`: `noexec,nosuid,nodev` unless the
    /// options say otherwise (the last word wins, as in Docker).
    pub fn parse_tmpfs_flag(spec: &str) -> Result<MountSpec> {
        let (destination, options) = spec.split_once(':').unwrap_or((spec, ""));
        check_destination(spec, destination)?;
        let mut mount = base(MountKind::Tmpfs, "", destination);
        let flags = &mut mount.tmpfs_flags;
        for option in options.split(',').filter(|o| !o.is_empty()) {
            match option.split_once('=') {
                Some(("size", v)) => mount.tmpfs_size = Some(parse_size(spec, v)?),
                Some(("mode", v)) => mount.tmpfs_mode = Some(parse_mode(spec, v)?),
                None => match option {
                    "ro" => mount.read_only = true,
                    "rw" => mount.read_only = false,
                    "exec" | "noexec" => flags.exec = option == "exec",
                    "suid" | "nosuid" => flags.suid = option == "suid",
                    "dev" | "nodev" => flags.dev = option == "dev",
                    _ => return Err(invalid(spec, format!("unknown tmpfs option {option:?}"))),
                },
                _ => return Err(invalid(spec, format!("unknown tmpfs option {option:?}"))),
            }
        }
        Ok(mount)
    }

    /// The `Mode` column Docker's inspect shows: the options given, e.g. "ro" or "z".
    /// Docker writes `z` for a named volume given without options, and for any volume
    /// of `--mount`, nothing for an anonymous one of `-v` or the image.
    pub fn mode_text(&self) -> &str {
        let named_volume = self.kind == MountKind::Volume && !self.anonymous;
        match &self.given_as {
            Some(GivenAs::VolumeFlag { options }) if options.is_empty() && named_volume => "z",
            Some(GivenAs::VolumeFlag { options }) => options,
            Some(GivenAs::MountFlag) if self.kind == MountKind::Volume => "z",
            Some(GivenAs::MountFlag) => "",
            // Records from before: a named volume as `-v NAME:/path` shows it.
            None if named_volume && !self.read_only => "z",
            None if self.read_only => "ro",
            None => "",
        }
    }

    /// Its entry in Docker's `HostConfig.Binds`: a `-v` with a source, as given (a
    /// relative host path made absolute, as Docker's CLI does).
    pub fn bind_entry(&self) -> Option<String> {
        match &self.given_as {
            Some(GivenAs::VolumeFlag { options }) if !self.anonymous => {
                let mut entry = format!("{}:{}", self.source, self.destination);
                if !options.is_empty() {
                    entry.push(':');
                    entry.push_str(options);
                }
                Some(entry)
            }
            _ => None,
        }
    }
}

/// Refuses two mounts on one destination, as Docker does ("Duplicate mount point").
pub(crate) fn check_unique_destinations(mounts: &[MountSpec]) -> Result<()> {
    for (i, m) in mounts.iter().enumerate() {
        let clean = m.destination.trim_end_matches('/');
        if mounts[..i]
            .iter()
            .any(|o| o.destination.trim_end_matches('/') == clean)
        {
            return Err(Error::invalid(
                "mount",
                &m.destination,
                "duplicate mount point",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CWD: &str = "/work/here";

    fn volume(spec: &str) -> Result<MountSpec> {
        MountSpec::parse_volume_flag(spec, Path::new(CWD))
    }

    fn mount_flag(spec: &str) -> Result<MountSpec> {
        MountSpec::parse_mount_flag(spec, Path::new(CWD))
    }

    #[test]
    fn relative_bind_sources_resolve_against_the_current_directory() {
        for (spec, want) in [
            ("./dir:/x", "/work/here/dir"),
            (".:/x", "/work/here"),
            ("../up:/y:ro", "/work/up"),
            ("./a/../b/./c:/z", "/work/here/b/c"),
            ("../../../../x:/x", "/x"),
        ] {
            let m = volume(spec).unwrap();
            assert_eq!(
                (m.kind, m.source.as_str()),
                (MountKind::Bind, want),
                "{spec}"
            );
        }
        assert_eq!(volume("dir:/x").unwrap().kind, MountKind::Volume, "a name");
        let m = mount_flag("type=bind,source=./d,target=/d").unwrap();
        assert_eq!(m.source, "/work/here/d");
        assert!(mount_flag("type=volume,source=./d,target=/d").is_err());
    }

    #[test]
    fn volume_flag_refuses_empty_sections() {
        for spec in [":/x", "/a::/b", "/a:/b:", "data:/x:", "::", ""] {
            let err = volume(spec).expect_err(spec).to_string();
            assert!(
                err.contains("empty section between colons") || err.contains("empty volume spec"),
                "{spec}: {err}"
            );
        }
    }

    #[test]
    fn volume_flag_tells_volumes_binds_and_anonymous_apart() {
        let m = volume("data:/data").unwrap();
        assert_eq!(
            (m.kind, m.source.as_str(), m.read_only, m.anonymous),
            (MountKind::Volume, "data", false, false)
        );
        let m = volume("/srv/www:/usr/share/www:ro,rslave").unwrap();
        assert_eq!(
            (m.kind, m.read_only, m.propagation, m.create_source),
            (MountKind::Bind, true, Propagation::Rslave, true)
        );
        let m = volume("/cache").unwrap();
        assert!(m.anonymous && m.kind == MountKind::Volume && m.source.is_empty());
        assert!(volume("data:relative").is_err());
        assert!(volume("data:/").is_err());
        assert!(volume("d@ta:/x").is_err());
        assert!(volume("data:/x:bogus").is_err());
        assert!(
            volume("data:/x:rshared").is_err(),
            "propagation is for binds"
        );
    }

    #[test]
    fn mount_flag_parses_each_type() {
        let m = mount_flag("type=bind,source=/tmp,target=/t,readonly,bind-propagation=rshared")
            .unwrap();
        assert_eq!(
            (m.kind, m.read_only, m.propagation, m.create_source),
            (MountKind::Bind, true, Propagation::Rshared, false)
        );
        let m = mount_flag("type=tmpfs,target=/scratch,tmpfs-size=64m,tmpfs-mode=1770").unwrap();
        assert_eq!((m.tmpfs_size, m.tmpfs_mode), (Some(64 << 20), Some(0o1770)));
        let m = mount_flag("source=vol,target=/v,volume-nocopy").unwrap();
        assert!(m.kind == MountKind::Volume && m.no_copy);
        assert!(mount_flag("type=bind,source=rel,target=/t").is_err());
        assert!(mount_flag("type=tmpfs,target=/t,tmpfs-mode=999").is_err());
        assert!(mount_flag("type=nfs,target=/t").is_err());
        assert!(mount_flag("type=volume,source=v").is_err(), "no target");
    }

    #[test]
    fn tmpfs_flag_and_duplicates() {
        let m = MountSpec::parse_tmpfs_flag("/run:size=1m,mode=700").unwrap();
        assert_eq!((m.tmpfs_size, m.tmpfs_mode), (Some(1 << 20), Some(0o700)));
        let defaults: Vec<&str> = m.tmpfs_flags.options().collect();
        assert_eq!(defaults, ["noexec", "nosuid", "nodev"]);
        let m = MountSpec::parse_tmpfs_flag("/run:exec,noexec,suid,dev,nodev,exec").unwrap();
        let flags: Vec<&str> = m.tmpfs_flags.options().collect();
        assert_eq!(flags, ["nodev"], "the last word wins");
        assert!(MountSpec::parse_tmpfs_flag("/run:color=red").is_err());
        let a = volume("aa:/x").unwrap();
        let b = MountSpec::parse_tmpfs_flag("/x/").unwrap();
        assert!(check_unique_destinations(&[a, b]).is_err());
    }
}

/// A container's mount with where its data lives on the host: what the dashboard's mount
/// view and `inspect`'s `Mounts` show.
#[derive(Debug, Clone, Serialize)]
pub struct MountView {
    #[serde(flatten)]
    pub spec: MountSpec,
    /// The directory or file on the host; `None` for tmpfs, which lives in memory.
    pub host_source: Option<std::path::PathBuf>,
}

impl crate::Engine {
    /// Every mount of a container besides its root, with its host source.
    pub fn container_mounts(&self, record: &crate::container::ContainerRecord) -> Vec<MountView> {
        record
            .config
            .mounts
            .iter()
            .map(|m| MountView {
                host_source: match m.kind {
                    MountKind::Volume => Some(self.paths().volume_data(&m.source)),
                    MountKind::Bind => Some(m.source.clone().into()),
                    MountKind::Tmpfs => None,
                },
                spec: m.clone(),
            })
            .collect()
    }
}
