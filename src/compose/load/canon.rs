//! Short forms to long forms: every field of a service and every top-level resource in the one
//! shape the module's doc comment describes, relative paths made absolute against the
//! directory the file that declared them is read from.

use serde_json::{json, Map, Value};
use std::path::{Component, Path, PathBuf};

/// A field that cannot be read; the caller adds the file and the service.
pub(crate) type Bad = String;

fn s(v: &Value) -> Option<String> {
    match v {
        Value::String(x) => Some(x.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `path` made absolute against `base` and cleaned lexically (no symlink is followed: the
/// path names something on the host that may not exist yet).
pub(crate) fn absolute(base: &Path, path: &str, home: Option<&str>) -> String {
    let p = if let (Some(rest), Some(h)) = (path.strip_prefix('~'), home) {
        if rest.is_empty() || rest.starts_with('/') {
            PathBuf::from(format!("{h}{rest}"))
        } else {
            base.join(path)
        }
    } else {
        base.join(path)
    };
    clean(&p).to_string_lossy().into_owned()
}

/// Lexical `path.Clean`.
pub(crate) fn clean(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() && !p.is_absolute() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(if p.is_absolute() { "/" } else { "." });
    }
    out
}

/// The context of resolution: the directory relative paths start from, and `$HOME` for `~`.
pub(crate) struct Ctx<'a> {
    pub(crate) base: &'a Path,
    pub(crate) home: Option<&'a str>,
}

/// Canonical form of one service mapping.
pub(crate) fn service(svc: &mut Map<String, Value>, cx: &Ctx) -> Result<(), Bad> {
    let keys: Vec<String> = svc.keys().cloned().collect();
    for k in keys {
        let Some(v) = svc.remove(&k) else { continue };
        let nv = match k.as_str() {
            "build" => build(v, cx)?,
            "command" | "entrypoint" => command(v, &k)?,
            "environment" => mapping(v, true, &k)?,
            "labels" | "sysctls" | "annotations" => mapping(v, false, &k)?,
            "env_file" => env_file(v, cx)?,
            "ports" => ports(v)?,
            "expose" => list_of_strings(v, &k)?,
            "volumes" => volumes(v, cx)?,
            "tmpfs" | "dns" | "dns_search" | "dns_opt" | "cap_add" | "cap_drop"
            | "security_opt" | "profiles" | "group_add" => string_or_list(v, &k)?,
            "networks" => networks(v)?,
            "depends_on" => depends_on(v)?,
            "healthcheck" => healthcheck(v)?,
            "devices" => devices(v)?,
            "extra_hosts" => extra_hosts(v)?,
            "stop_grace_period" => duration_value(v, &k)?,
            "shm_size" | "mem_limit" | "memswap_limit" | "mem_reservation" => bytes_value(v, &k)?,
            "read_only" | "privileged" | "init" | "tty" | "stdin_open" => boolean(v, &k)?,
            "image" | "restart" | "user" | "working_dir" | "hostname" | "stop_signal"
            | "container_name" | "domainname" | "platform" | "network_mode" | "pid" | "ipc" => {
                match v {
                    Value::Null => Value::Null,
                    other => Value::String(s(&other).ok_or(format!("{k} must be a string"))?),
                }
            }
            "pull_policy" => match s(&v).as_deref() {
                // compose-go normalises the old spelling.
                Some("if_not_present") => json!("missing"),
                _ => v,
            },
            "deploy" => deploy(v)?,
            "ulimits" => ulimits(v)?,
            "logging" => logging(v)?,
            "extends" => match v {
                Value::String(name) => json!({ "service": name }),
                other => other,
            },
            "scale" => integer(v, &k)?,
            _ => v,
        };
        svc.insert(k, nv);
    }
    Ok(())
}

fn integer(v: Value, k: &str) -> Result<Value, Bad> {
    match &v {
        Value::Number(_) | Value::Null => Ok(v),
        Value::String(t) => t
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("{k} must be an integer, not {t:?}")),
        _ => Err(format!("{k} must be an integer")),
    }
}

fn boolean(v: Value, k: &str) -> Result<Value, Bad> {
    match &v {
        Value::Bool(_) | Value::Null => Ok(v),
        Value::String(t) => match t.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "y" | "on" => Ok(json!(true)),
            "false" | "0" | "no" | "n" | "off" => Ok(json!(false)),
            _ => Err(format!("{k} must be a boolean, not {t:?}")),
        },
        _ => Err(format!("{k} must be a boolean")),
    }
}

fn string_or_list(v: Value, k: &str) -> Result<Value, Bad> {
    match v {
        Value::String(_) => Ok(Value::Array(vec![v])),
        Value::Array(_) => list_of_strings(v, k),
        Value::Null => Ok(v),
        _ => Err(format!("{k} must be a string or a list")),
    }
}

fn list_of_strings(v: Value, k: &str) -> Result<Value, Bad> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| {
                s(i).map(Value::String)
                    .ok_or(format!("{k} entries must be strings"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Null => Ok(v),
        _ => Err(format!("{k} must be a list")),
    }
}

/// `KEY=VALUE` lists and mappings to one mapping of strings. `null_unset`: a bare `KEY` is
/// null (environment: "take it from the environment") instead of "" (labels).
pub(crate) fn mapping(v: Value, null_unset: bool, k: &str) -> Result<Value, Bad> {
    let mut out = Map::new();
    match v {
        Value::Null => return Ok(Value::Object(out)),
        Value::Array(items) => {
            for i in items {
                let t = s(&i).ok_or(format!("{k} entries must be strings"))?;
                match t.split_once('=') {
                    Some((a, b)) => {
                        out.insert(a.to_string(), json!(b));
                    }
                    None if null_unset => {
                        out.insert(t, Value::Null);
                    }
                    None => {
                        out.insert(t, json!(""));
                    }
                }
            }
        }
        Value::Object(m) => {
            for (a, b) in m {
                let nv = match b {
                    Value::Null if null_unset => Value::Null,
                    Value::Null => json!(""),
                    other => Value::String(
                        s(&other)
                            .ok_or(format!("{k}.{a} must be a boolean, null, number or string"))?,
                    ),
                };
                out.insert(a, nv);
            }
        }
        _ => return Err(format!("{k} must be a mapping")),
    }
    Ok(Value::Object(out))
}

fn build(v: Value, cx: &Ctx) -> Result<Value, Bad> {
    let mut m = match v {
        Value::String(c) => {
            let mut m = Map::new();
            m.insert("context".into(), json!(c));
            m
        }
        Value::Object(m) => m,
        _ => return Err("build must be a string or a mapping".into()),
    };
    // The defaults (context ".", dockerfile "Dockerfile") come after merging, as compose-go
    // sets them: an override or extends that names only `target` keeps the base's context.
    if let Some(ctx) = m.get("context").and_then(s) {
        // A remote context (git URL) is kept as written.
        let remote = ctx.contains("://") || ctx.starts_with("git@");
        if !remote {
            m.insert("context".into(), json!(absolute(cx.base, &ctx, cx.home)));
        }
    }
    for k in ["args", "labels"] {
        if let Some(a) = m.remove(k) {
            m.insert(k.into(), mapping(a, k == "args", &format!("build.{k}"))?);
        }
    }
    for k in ["tags", "cache_from", "cache_to", "platforms"] {
        if let Some(a) = m.remove(k) {
            m.insert(k.into(), list_of_strings(a, &format!("build.{k}"))?);
        }
    }
    Ok(Value::Object(m))
}

/// A command as a list; a string is split as a POSIX shell would (quotes, backslashes).
fn command(v: Value, k: &str) -> Result<Value, Bad> {
    match v {
        Value::String(t) => Ok(Value::Array(
            shell_split(&t)
                .ok_or(format!("{k}: unterminated quote in {t:?}"))?
                .into_iter()
                .map(Value::String)
                .collect(),
        )),
        Value::Array(_) => list_of_strings(v, k),
        Value::Null => Ok(v),
        _ => Err(format!("{k} must be a string or a list")),
    }
}

/// Splits words as `sh` does, without expansions. None on an open quote.
pub(crate) fn shell_split(t: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut it = t.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match it.next()? {
                        '\'' => break,
                        x => cur.push(x),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match it.next()? {
                        '"' => break,
                        '\\' => match it.next()? {
                            x @ ('"' | '\\' | '$' | '`') => cur.push(x),
                            '\n' => {}
                            x => {
                                cur.push('\\');
                                cur.push(x);
                            }
                        },
                        x => cur.push(x),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match it.next() {
                    Some('\n') | None => {}
                    Some(x) => cur.push(x),
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Some(out)
}

fn env_file(v: Value, cx: &Ctx) -> Result<Value, Bad> {
    let items = match v {
        Value::String(_) => vec![v],
        Value::Array(a) => a,
        Value::Null => return Ok(Value::Null),
        _ => return Err("env_file must be a string or a list".into()),
    };
    let mut out = Vec::new();
    for i in items {
        let (path, required, format) = match i {
            Value::String(p) => (p, true, None),
            Value::Object(m) => {
                let p = m
                    .get("path")
                    .and_then(s)
                    .ok_or("env_file entries need a path")?;
                let req = match m.get("required") {
                    None => true,
                    Some(r) => boolean(r.clone(), "env_file.required")?
                        .as_bool()
                        .unwrap_or(true),
                };
                (p, req, m.get("format").cloned())
            }
            _ => return Err("env_file entries must be strings or mappings".into()),
        };
        let mut e = Map::new();
        e.insert("path".into(), json!(absolute(cx.base, &path, cx.home)));
        e.insert("required".into(), json!(required));
        if let Some(f) = format {
            e.insert("format".into(), f);
        }
        out.push(Value::Object(e));
    }
    Ok(Value::Array(out))
}

fn port_num(t: &str) -> Option<u16> {
    t.parse().ok()
}

fn range(t: &str) -> Option<(u16, u16)> {
    match t.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (port_num(a)?, port_num(b)?);
            (a <= b).then_some((a, b))
        }
        None => port_num(t).map(|p| (p, p)),
    }
}

fn port_entry(target: u16, published: Option<String>, host_ip: Option<&str>, proto: &str) -> Value {
    let mut m = Map::new();
    m.insert("mode".into(), json!("ingress"));
    if let Some(ip) = host_ip.filter(|i| !i.is_empty()) {
        m.insert("host_ip".into(), json!(ip));
    }
    m.insert("target".into(), json!(target));
    if let Some(p) = published.filter(|p| !p.is_empty()) {
        m.insert("published".into(), json!(p));
    }
    m.insert("protocol".into(), json!(proto));
    Value::Object(m)
}

/// One short-syntax port: `[[ip:]published:]target[/protocol]`, with ranges.
pub(crate) fn short_port(spec: &str) -> Result<Vec<Value>, Bad> {
    let bad = || format!("ports: invalid port {spec:?}");
    let (rest, proto) = match spec.rsplit_once('/') {
        Some((r, p)) => (r, p),
        None => (spec, "tcp"),
    };
    // An IPv6 host address is in brackets; otherwise the last two colons split the fields.
    let (ip, rest) = if let Some(after) = rest.strip_prefix('[') {
        let (ip, r) = after.split_once(']').ok_or_else(bad)?;
        (Some(ip), r.strip_prefix(':').ok_or_else(bad)?)
    } else {
        match rest.matches(':').count() {
            0 | 1 => (None, rest),
            _ => {
                let (ip, r) = rest.split_once(':').ok_or_else(bad)?;
                (Some(ip), r)
            }
        }
    };
    let (published, target) = match rest.rsplit_once(':') {
        Some((p, t)) => (p, t),
        None => ("", rest),
    };
    let (t0, t1) = range(target).ok_or_else(bad)?;
    if published.is_empty() {
        return Ok((t0..=t1).map(|t| port_entry(t, None, ip, proto)).collect());
    }
    let (p0, p1) = range(published).ok_or_else(bad)?;
    if t0 == t1 {
        // One target behind a published range: the engine picks one of the range.
        let p = if p0 == p1 {
            p0.to_string()
        } else {
            format!("{p0}-{p1}")
        };
        return Ok(vec![port_entry(t0, Some(p), ip, proto)]);
    }
    if p1 - p0 != t1 - t0 {
        return Err(format!(
            "ports: invalid port {spec:?}: the ranges differ in length"
        ));
    }
    Ok((0..=(t1 - t0))
        .map(|i| port_entry(t0 + i, Some((p0 + i).to_string()), ip, proto))
        .collect())
}

fn ports(v: Value) -> Result<Value, Bad> {
    let Value::Array(items) = v else {
        return match v {
            Value::Null => Ok(v),
            _ => Err("ports must be a list".into()),
        };
    };
    let mut out = Vec::new();
    for i in items {
        match i {
            Value::Number(n) => {
                let t = n
                    .as_u64()
                    .and_then(|t| u16::try_from(t).ok())
                    .ok_or(format!("ports: invalid port {n}"))?;
                out.push(port_entry(t, None, None, "tcp"));
            }
            Value::String(t) => out.extend(short_port(&t)?),
            Value::Object(mut m) => {
                let target = m
                    .get("target")
                    .and_then(s)
                    .and_then(|t| port_num(&t))
                    .ok_or("ports: an entry needs a target port number")?;
                m.insert("target".into(), json!(target));
                match m.remove("published").as_ref().and_then(s) {
                    Some(p) if !p.is_empty() => {
                        m.insert("published".into(), json!(p));
                    }
                    _ => {}
                }
                m.entry("mode").or_insert(json!("ingress"));
                m.entry("protocol").or_insert(json!("tcp"));
                out.push(Value::Object(m));
            }
            _ => return Err("ports entries must be numbers, strings or mappings".into()),
        }
    }
    Ok(Value::Array(out))
}

fn is_path_source(src: &str) -> bool {
    src.starts_with('.') || src.starts_with('/') || src.starts_with('~')
}

/// One short-syntax volume: `[source:]target[:mode]`.
fn short_volume(spec: &str, cx: &Ctx) -> Result<Value, Bad> {
    let parts: Vec<&str> = spec.split(':').collect();
    let mut m = Map::new();
    let (src, target, mode) = match parts.as_slice() {
        [t] => (None, *t, None),
        [a, b] => (Some(*a), *b, None),
        [a, b, c] => (Some(*a), *b, Some(*c)),
        _ => return Err(format!("volumes: invalid volume {spec:?}: too many colons")),
    };
    if target.is_empty() {
        return Err(format!("volumes: invalid volume {spec:?}: no target"));
    }
    let Some(src) = src.filter(|s| !s.is_empty()) else {
        m.insert("type".into(), json!("volume"));
        m.insert("target".into(), json!(target));
        return Ok(Value::Object(m));
    };
    let bind = is_path_source(src);
    m.insert("type".into(), json!(if bind { "bind" } else { "volume" }));
    m.insert(
        "source".into(),
        json!(if bind {
            absolute(cx.base, src, cx.home)
        } else {
            src.to_string()
        }),
    );
    m.insert("target".into(), json!(target));
    let mut bind_opts = Map::new();
    let mut vol_opts = Map::new();
    if bind {
        bind_opts.insert("create_host_path".into(), json!(true));
    }
    for opt in mode.unwrap_or("").split(',').filter(|o| !o.is_empty()) {
        match opt {
            "ro" => {
                m.insert("read_only".into(), json!(true));
            }
            "rw" => {}
            "z" | "Z" => {
                bind_opts.insert("selinux".into(), json!(opt));
            }
            "nocopy" => {
                vol_opts.insert("nocopy".into(), json!(true));
            }
            "shared" | "rshared" | "slave" | "rslave" | "private" | "rprivate" => {
                bind_opts.insert("propagation".into(), json!(opt));
            }
            _ => {
                return Err(format!(
                    "volumes: invalid volume {spec:?}: unknown mode {opt:?}"
                ))
            }
        }
    }
    if bind {
        m.insert("bind".into(), Value::Object(bind_opts));
    } else {
        m.insert("volume".into(), Value::Object(vol_opts));
    }
    Ok(Value::Object(m))
}

fn volumes(v: Value, cx: &Ctx) -> Result<Value, Bad> {
    let Value::Array(items) = v else {
        return match v {
            Value::Null => Ok(v),
            _ => Err("volumes must be a list".into()),
        };
    };
    let mut out = Vec::new();
    for i in items {
        let mut vol = match i {
            Value::String(t) => short_volume(&t, cx)?,
            Value::Object(mut m) => {
                let ty = m.get("type").and_then(s).unwrap_or_else(|| "volume".into());
                m.insert("type".into(), json!(ty));
                if ty == "bind" {
                    if let Some(src) = m.get("source").and_then(s) {
                        m.insert("source".into(), json!(absolute(cx.base, &src, cx.home)));
                    }
                }
                if let Some(ro) = m.remove("read_only") {
                    m.insert("read_only".into(), boolean(ro, "volumes.read_only")?);
                }
                for (part, flag) in [("volume", "nocopy"), ("bind", "create_host_path")] {
                    if let Some(Value::Object(o)) = m.get_mut(part) {
                        if let Some(b) = o.remove(flag) {
                            o.insert(flag.into(), boolean(b, &format!("volumes.{part}.{flag}"))?);
                        }
                    }
                }
                if let Some(Value::Object(t)) = m.get_mut("tmpfs") {
                    if let Some(size) = t.remove("size") {
                        let n = match &size {
                            Value::Number(_) => size,
                            other => {
                                let txt = s(other).unwrap_or_default();
                                json!(crate::engine::parse_binary_size(&txt)
                                    .ok_or(format!("volumes.tmpfs.size: invalid size {txt:?}"))?)
                            }
                        };
                        t.insert("size".into(), n);
                    }
                }
                Value::Object(m)
            }
            _ => return Err("volumes entries must be strings or mappings".into()),
        };
        let target = vol
            .get("target")
            .and_then(s)
            .ok_or("volumes: an entry needs a target")?;
        if let Some(m) = vol.as_object_mut() {
            m.insert(
                "target".into(),
                json!(clean(Path::new(&target)).to_string_lossy()),
            );
        }
        out.push(vol);
    }
    Ok(Value::Array(out))
}

fn networks(v: Value) -> Result<Value, Bad> {
    match v {
        Value::Array(items) => {
            let mut m = Map::new();
            for i in items {
                m.insert(s(&i).ok_or("networks entries must be names")?, Value::Null);
            }
            Ok(Value::Object(m))
        }
        Value::Object(mut m) => {
            for (_, n) in m.iter_mut() {
                if let Some(o) = n.as_object_mut() {
                    if let Some(a) = o.remove("aliases") {
                        o.insert("aliases".into(), list_of_strings(a, "aliases")?);
                    }
                }
            }
            Ok(Value::Object(m))
        }
        Value::Null => Ok(Value::Object(Map::new())),
        _ => Err("networks must be a list or a mapping".into()),
    }
}

fn depends_on(v: Value) -> Result<Value, Bad> {
    let mut out = Map::new();
    match v {
        Value::Array(items) => {
            for i in items {
                let name = s(&i).ok_or("depends_on entries must be service names")?;
                out.insert(
                    name,
                    json!({ "condition": "service_started", "required": true }),
                );
            }
        }
        Value::Object(m) => {
            for (name, d) in m {
                let mut d = match d {
                    Value::Object(o) => o,
                    Value::Null => Map::new(),
                    _ => return Err(format!("depends_on.{name} must be a mapping")),
                };
                d.entry("condition").or_insert(json!("service_started"));
                let req = d.remove("required").unwrap_or(json!(true));
                d.insert("required".into(), boolean(req, "required")?);
                if let Some(r) = d.remove("restart") {
                    d.insert("restart".into(), boolean(r, "restart")?);
                }
                out.insert(name, Value::Object(d));
            }
        }
        Value::Null => {}
        _ => return Err("depends_on must be a list or a mapping".into()),
    }
    Ok(Value::Object(out))
}

fn healthcheck(v: Value) -> Result<Value, Bad> {
    let Value::Object(mut m) = v else {
        return match v {
            Value::Null => Ok(v),
            _ => Err("healthcheck must be a mapping".into()),
        };
    };
    if let Some(t) = m.remove("test") {
        let t = match t {
            Value::String(c) => json!(["CMD-SHELL", c]),
            Value::Array(_) => list_of_strings(t, "healthcheck.test")?,
            other => other,
        };
        m.insert("test".into(), t);
    }
    for k in ["interval", "timeout", "start_period", "start_interval"] {
        if let Some(d) = m.remove(k) {
            m.insert(k.into(), duration_value(d, &format!("healthcheck.{k}"))?);
        }
    }
    if let Some(r) = m.remove("retries") {
        m.insert("retries".into(), integer(r, "healthcheck.retries")?);
    }
    if let Some(d) = m.remove("disable") {
        m.insert("disable".into(), boolean(d, "healthcheck.disable")?);
    }
    Ok(Value::Object(m))
}

fn devices(v: Value) -> Result<Value, Bad> {
    let Value::Array(items) = v else {
        return Ok(v);
    };
    let mut out = Vec::new();
    for i in items {
        match i {
            Value::String(t) => {
                let parts: Vec<&str> = t.split(':').collect();
                let (src, dst, perm) = match parts.as_slice() {
                    [a] => (*a, *a, "rwm"),
                    [a, b] => (*a, *b, "rwm"),
                    [a, b, c] => (*a, *b, *c),
                    _ => return Err(format!("devices: invalid device {t:?}")),
                };
                out.push(json!({ "source": src, "target": dst, "permissions": perm }));
            }
            other => out.push(other),
        }
    }
    Ok(Value::Array(out))
}

/// compose-go prints extra hosts as a sorted list of `host=ip`.
fn extra_hosts(v: Value) -> Result<Value, Bad> {
    let mut out: Vec<String> = Vec::new();
    match v {
        Value::Array(items) => {
            for i in items {
                let t = s(&i).ok_or("extra_hosts entries must be strings")?;
                // `host:ip` is the old separator; an IPv6 address has colons of its own.
                let e = match t.split_once('=') {
                    Some(_) => t,
                    None => match t.split_once(':') {
                        Some((h, ip)) => format!("{h}={ip}"),
                        None => return Err(format!("extra_hosts: invalid entry {t:?}")),
                    },
                };
                out.push(e);
            }
        }
        Value::Object(m) => {
            for (h, ip) in m {
                match ip {
                    Value::Array(ips) => {
                        for ip in ips {
                            out.push(format!("{h}={}", s(&ip).unwrap_or_default()));
                        }
                    }
                    other => out.push(format!("{h}={}", s(&other).unwrap_or_default())),
                }
            }
        }
        Value::Null => {}
        _ => return Err("extra_hosts must be a list or a mapping".into()),
    }
    out.sort();
    out.dedup();
    Ok(Value::Array(out.into_iter().map(Value::String).collect()))
}

/// `nofile: 1024` stays a single number, `{soft, hard}` a mapping; interpolated numbers
/// become numbers.
fn ulimits(v: Value) -> Result<Value, Bad> {
    let Value::Object(mut m) = v else {
        return match v {
            Value::Null => Ok(v),
            _ => Err("ulimits must be a mapping".into()),
        };
    };
    for (name, l) in m.iter_mut() {
        let at = |f: &str| format!("ulimits.{name}{f}");
        let nv = match std::mem::take(l) {
            Value::Object(mut o) => {
                for k in ["soft", "hard"] {
                    if let Some(x) = o.remove(k) {
                        o.insert(k.into(), integer(x, &at(&format!(".{k}")))?);
                    }
                }
                Value::Object(o)
            }
            other => integer(other, &at(""))?,
        };
        *l = nv;
    }
    Ok(Value::Object(m))
}

fn deploy(v: Value) -> Result<Value, Bad> {
    let Value::Object(mut m) = v else {
        return Ok(v);
    };
    if let Some(r) = m.remove("replicas") {
        m.insert("replicas".into(), integer(r, "deploy.replicas")?);
    }
    if let Some(Value::Object(res)) = m.get_mut("resources") {
        for (name, part) in res.iter_mut() {
            let at = |f: &str| format!("deploy.resources.{name}.{f}");
            if let Some(p) = part.as_object_mut() {
                if let Some(mem) = p.remove("memory") {
                    p.insert("memory".into(), bytes_value(mem, &at("memory"))?);
                }
                if let Some(c) = p.remove("cpus") {
                    let f = match &c {
                        Value::Number(n) => n.as_f64(),
                        Value::String(t) => t.parse::<f64>().ok(),
                        _ => None,
                    }
                    .ok_or(format!("{} must be a number", at("cpus")))?;
                    p.insert("cpus".into(), json!(f));
                }
                if let Some(pids) = p.remove("pids") {
                    p.insert("pids".into(), integer(pids, &at("pids"))?);
                }
            }
        }
    }
    if let Some(l) = m.remove("labels") {
        m.insert("labels".into(), mapping(l, false, "deploy.labels")?);
    }
    Ok(Value::Object(m))
}

fn logging(v: Value) -> Result<Value, Bad> {
    let Value::Object(mut m) = v else {
        return Ok(v);
    };
    if let Some(o) = m.remove("options") {
        m.insert("options".into(), mapping(o, false, "logging.options")?);
    }
    Ok(Value::Object(m))
}

/// A Go duration (`1m30s`, `1.5s`, `100ms`), printed back as Go's `Duration.String` prints
/// it.
pub(crate) fn duration_value(v: Value, k: &str) -> Result<Value, Bad> {
    let t = match &v {
        Value::Null => return Ok(v),
        Value::String(t) => t.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(format!("{k} must be a duration")),
    };
    let ns = crate::engine::parse_go_duration(&t)
        .and_then(|n| u64::try_from(n).ok())
        .ok_or(format!("{k}: invalid duration {t:?}"))?;
    Ok(json!(crate::engine::go_duration(
        std::time::Duration::from_nanos(ns)
    )))
}

/// A byte size (`1g`, `512m`, `1024`) as compose-go prints its `UnitBytes`: a decimal string.
fn bytes_value(v: Value, k: &str) -> Result<Value, Bad> {
    let t = match &v {
        Value::Null => return Ok(v),
        Value::String(t) => t.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(format!("{k} must be a size")),
    };
    let n = crate::engine::parse_binary_size(&t).ok_or(format!("{k}: invalid size {t:?}"))?;
    Ok(json!(n.to_string()))
}

/// Canonical top-level volume or network: `null` to `{}`, legacy `external: {name}`.
/// Errors name the field as `<what>.<key>.<field>` (`what` is `volumes` or `networks`).
pub(crate) fn resource(v: Value, what: &str, key: &str) -> Result<Value, Bad> {
    resource_fields(v).map_err(|e| format!("{what}.{key}{e}"))
}

fn resource_fields(v: Value) -> Result<Value, Bad> {
    let mut m = match v {
        Value::Null => Map::new(),
        Value::Object(m) => m,
        _ => return Err(" must be a mapping".into()),
    };
    if let Some(Value::Object(ext)) = m.get("external").cloned() {
        if let Some(n) = ext.get("name").and_then(s) {
            m.insert("name".into(), json!(n));
        }
        m.insert("external".into(), json!(true));
    } else if let Some(e) = m.remove("external") {
        m.insert(
            "external".into(),
            boolean(e, "external").map_err(|e| format!(".{e}"))?,
        );
    }
    for k in ["labels", "driver_opts"] {
        if let Some(l) = m.remove(k) {
            m.insert(k.into(), mapping(l, false, k).map_err(|e| format!(".{e}"))?);
        }
    }
    for k in ["internal", "attachable", "enable_ipv6", "enable_ipv4"] {
        if let Some(b) = m.remove(k) {
            m.insert(k.into(), boolean(b, k).map_err(|e| format!(".{e}"))?);
        }
    }
    Ok(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_go() {
        for (i, o) in [
            ("90s", "1m30s"),
            ("1.5s", "1.5s"),
            ("1h", "1h0m0s"),
            ("0", "0s"),
        ] {
            assert_eq!(duration_value(json!(i), "t").expect(i), json!(o), "{i}");
        }
        assert!(duration_value(json!("10"), "t").is_err());
        assert!(duration_value(json!("-1s"), "t").is_err());
    }

    #[test]
    fn short_ports() {
        let p = short_port("127.0.0.1:8080:80/udp").expect("ok");
        assert_eq!(
            p,
            [
                json!({"mode":"ingress","host_ip":"127.0.0.1","target":80,"published":"8080","protocol":"udp"})
            ]
        );
        assert_eq!(short_port("3000-3002").expect("ok").len(), 3);
        assert_eq!(
            short_port("9090-9091:8080").expect("ok"),
            [json!({"mode":"ingress","target":8080,"published":"9090-9091","protocol":"tcp"})]
        );
        assert_eq!(
            short_port("[::1]:80:81").expect("ok")[0]["host_ip"],
            json!("::1")
        );
        assert!(short_port("80-79").is_err());
        assert!(short_port("1-3:1-2").is_err());
        assert!(short_port("x").is_err());
    }

    #[test]
    fn short_volumes() {
        let cx = Ctx {
            base: Path::new("/p"),
            home: Some("/home/u"),
        };
        assert_eq!(
            short_volume("./data:/d:ro", &cx).expect("ok"),
            json!({"type":"bind","source":"/p/data","target":"/d","read_only":true,"bind":{"create_host_path":true}})
        );
        assert_eq!(
            short_volume("db:/var/lib/db", &cx).expect("ok"),
            json!({"type":"volume","source":"db","target":"/var/lib/db","volume":{}})
        );
        assert_eq!(
            short_volume("~/x:/x", &cx).expect("ok")["source"],
            json!("/home/u/x")
        );
        assert_eq!(
            short_volume("/anon", &cx).expect("ok"),
            json!({"type":"volume","target":"/anon"})
        );
        assert!(short_volume("a:b:c:d", &cx).is_err());
        assert!(short_volume("a:/b:bogus", &cx).is_err());
    }

    #[test]
    fn shell_words() {
        assert_eq!(
            shell_split(r#"sh -c 'echo "hi there"' a\ b "x\"y""#).expect("ok"),
            ["sh", "-c", "echo \"hi there\"", "a b", "x\"y"]
        );
        assert!(shell_split("echo 'open").is_none());
    }

    #[test]
    fn sizes() {
        assert_eq!(
            bytes_value(json!("1g"), "s").expect("ok"),
            json!("1073741824")
        );
        assert_eq!(bytes_value(json!(100), "s").expect("ok"), json!("100"));
        assert!(bytes_value(json!("lots"), "s").is_err());
    }
}
