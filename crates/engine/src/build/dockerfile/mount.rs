//! `RUN --mount=...` values (a CSV of key=value fields) as BuildKit reads them
//! (`frontend/dockerfile/instructions/commands_runmount.go`): types, defaults, and the
//! checks and messages it gives.

use crate::build::expand::ExpandError;

/// Cache mount sharing mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CacheSharing {
    /// Concurrent builds share it (BuildKit's default).
    #[default]
    Shared,
    /// Each concurrent user gets its own.
    Private,
    /// One at a time.
    Locked,
}

/// `RUN --mount=type=...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunMount {
    /// `type=cache`: a directory kept across builds.
    Cache {
        /// Where in the container: relative to the WORKDIR unless absolute (empty: the
        /// WORKDIR itself); a target resolving to `/` is refused by BuildKit.
        target: String,
        /// The cache's id (default: the target, cleaned).
        id: Option<String>,
        /// Sharing between concurrent builds.
        sharing: CacheSharing,
        /// A stage or image to seed it from.
        from: Option<String>,
        /// A path in `from`.
        source: Option<String>,
        /// The directory's mode (octal in the Dockerfile).
        mode: Option<u32>,
        /// The directory's owner.
        uid: Option<u32>,
        /// The directory's group.
        gid: Option<u32>,
        /// `ro`.
        read_only: bool,
    },
    /// `type=bind` (the default type): the context, a stage or an image, read-only unless
    /// `rw` (writes are thrown away).
    Bind {
        /// Where in the container (relative to the WORKDIR unless absolute).
        target: String,
        /// The path in the context or `from`.
        source: Option<String>,
        /// A stage or image.
        from: Option<String>,
        /// `rw`.
        read_write: bool,
    },
    /// `type=tmpfs`.
    Tmpfs {
        /// Where in the container (relative to the WORKDIR unless absolute).
        target: String,
        /// `size=` in bytes.
        size: Option<u64>,
    },
}

pub(crate) enum MountError {
    Invalid(String),
    Expand(ExpandError),
}

pub(crate) type WordExpander<'a> = &'a dyn Fn(&str) -> Result<String, ExpandError>;

/// One `--mount` value (CSV of key=value). Without an expander (at parse time) values
/// holding a `$` are left for [`Instruction::expanded`]: kept as written where a string,
/// unset where a number.
pub(crate) fn parse_mount(
    spec: &str,
    expander: Option<WordExpander<'_>>,
) -> Result<RunMount, MountError> {
    let invalid = |m: String| MountError::Invalid(m);
    let mut kind = "bind".to_string();
    let (mut target, mut source, mut from, mut id) = (None, None, None, None);
    let mut read_only: Option<bool> = None;
    let mut sharing = None;
    let (mut mode, mut uid, mut gid, mut size) = (None, None, None, None);
    for field in csv_fields(spec).map_err(invalid)? {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.to_ascii_lowercase(), Some(v.to_string())),
            None => (field.to_ascii_lowercase(), None),
        };
        let Some(mut value) = value else {
            match key.as_str() {
                "readonly" | "ro" => read_only = Some(true),
                "readwrite" | "rw" => read_only = Some(false),
                "required" => {
                    return Err(invalid(format!(
                        "unexpected key '{key}' for mount type '{kind}'"
                    )))
                }
                _ => {
                    return Err(invalid(format!(
                        "invalid field '{field}' must be a key=value pair"
                    )))
                }
            }
            continue;
        };
        let deferred = match expander {
            Some(expander) => {
                value = expander(&value).map_err(MountError::Expand)?;
                false
            }
            None => value.contains('$'),
        };
        if key == "from" && deferred {
            if let Some(i) = value.find('$') {
                if i != value.len() - 1 {
                    return Err(invalid(
                        "'from' doesn't support variable expansion, define alias stage instead"
                            .into(),
                    ));
                }
            }
        }
        let bad = |key: &str, value: &str| invalid(format!("invalid value for {key}: {value}"));
        match key.as_str() {
            "type" if !deferred => {
                let v = value.to_ascii_lowercase();
                match v.as_str() {
                    "bind" | "cache" | "tmpfs" => kind = v,
                    "secret" | "ssh" => {
                        return Err(invalid(format!(
                            "RUN --mount=type={v} is not supported by berth build yet"
                        )))
                    }
                    _ => return Err(invalid(format!("unsupported mount type {value:?}"))),
                }
            }
            "type" => {}
            "from" => from = Some(value),
            "source" | "src" => source = Some(value),
            "target" | "dst" | "destination" => target = Some(value),
            "id" => id = Some(value),
            "readonly" | "ro" if !deferred => {
                read_only = Some(parse_go_bool(&value).ok_or_else(|| bad(&key, &value))?)
            }
            "readwrite" | "rw" if !deferred => {
                read_only = Some(!parse_go_bool(&value).ok_or_else(|| bad(&key, &value))?)
            }
            "size" if !deferred => size = Some(value),
            "sharing" if !deferred => {
                sharing = Some(match value.to_ascii_lowercase().as_str() {
                    "shared" => CacheSharing::Shared,
                    "private" => CacheSharing::Private,
                    "locked" => CacheSharing::Locked,
                    _ => return Err(invalid(format!("unsupported sharing value {value:?}"))),
                })
            }
            "mode" if !deferred => {
                mode = Some(
                    u32::from_str_radix(&value, 8)
                        .map_err(|_| invalid(format!("invalid value {value} for mode")))?,
                )
            }
            "uid" if !deferred => {
                uid = Some(
                    value
                        .parse::<u32>()
                        .map_err(|_| invalid(format!("invalid value {value} for uid")))?,
                )
            }
            "gid" if !deferred => {
                gid = Some(
                    value
                        .parse::<u32>()
                        .map_err(|_| invalid(format!("invalid value {value} for gid")))?,
                )
            }
            "readonly" | "ro" | "readwrite" | "rw" | "size" | "sharing" | "mode" | "uid"
            | "gid" => {}
            "required" => {
                return Err(invalid(format!(
                    "unexpected key '{key}' for mount type '{kind}'"
                )))
            }
            // A secret's variable name: BuildKit accepts it on any mount type.
            "env" => {}
            _ => return Err(invalid(format!("unexpected key '{key}' in '{field}'"))),
        }
    }
    if kind != "cache" {
        for (name, set) in [
            ("mode", mode.is_some()),
            ("uid", uid.is_some()),
            ("gid", gid.is_some()),
        ] {
            if set {
                return Err(invalid(format!(
                    "{name} not allowed for {kind:?} type mounts"
                )));
            }
        }
        if sharing.is_some() {
            return Err(invalid(format!(
                "invalid cache sharing set for {kind} mount"
            )));
        }
    }
    if size.is_some() && kind != "tmpfs" {
        return Err(invalid(format!(
            "unexpected key 'size' for mount type '{kind}'"
        )));
    }
    // BuildKit resolves an empty or relative target against the WORKDIR at build time.
    let target = target.unwrap_or_default();
    Ok(match kind.as_str() {
        "cache" => RunMount::Cache {
            target,
            id,
            sharing: sharing.unwrap_or_default(),
            from,
            source,
            mode,
            uid,
            gid,
            read_only: read_only.unwrap_or(false),
        },
        "tmpfs" => RunMount::Tmpfs {
            target,
            size: match size {
                Some(s) => Some(
                    crate::units::parse_binary_size(&s)
                        .ok_or_else(|| invalid(format!("invalid value for size: {s}")))?,
                ),
                None => None,
            },
        },
        _ => RunMount::Bind {
            target,
            source,
            from,
            read_write: read_only == Some(false),
        },
    })
}

/// Go's strconv.ParseBool.
fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A CSV record (Go's encoding/csv rules for one line: fields split at commas, a field
/// may be double-quoted with `""` for a quote).
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => {
                        return Err(format!(
                            "failed to parse csv mounts: extraneous or missing \" in quoted-field: {line}"
                        ))
                    }
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => {}
                Some(_) => {
                    return Err(format!(
                    "failed to parse csv mounts: extraneous or missing \" in quoted-field: {line}"
                ))
                }
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
        }
        fields.push(field);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_follow_go_csv() {
        assert_eq!(
            csv_fields(r#"type=bind,"source=a,b",target=/x"#).unwrap(),
            ["type=bind", "source=a,b", "target=/x"]
        );
        assert_eq!(csv_fields(r#""a""b",c"#).unwrap(), [r#"a"b"#, "c"]);
        assert!(csv_fields(r#""open,x"#).is_err());
    }

    #[test]
    fn a_mount_with_a_quoted_field() {
        let mount = parse_mount(r#"type=bind,"target=/a,b",ro=false"#, None);
        let Ok(RunMount::Bind {
            target, read_write, ..
        }) = mount
        else {
            panic!("not a bind mount")
        };
        assert_eq!((target.as_str(), read_write), ("/a,b", true));
    }
}
