//! The compose loader: compose files to the one resolved model every `berth compose` verb
//! works from, in the compose specification's order: discovery, `.env`, interpolation,
//! `include`, `extends`, merging of the files (with `!reset` / `!override`), short forms to
//! long forms, profiles, validation.
//!
//! # The canonical model
//!
//! [`Loaded::model`] has the shape `docker compose config --format json` prints (compose-go's
//! marshalled types); object keys are sorted, [`render`] prints them in compose-go's
//! order. Every field below is present only when the files set it, unless it says "always".
//!
//! ```text
//! name: "<project>"                                      always
//! services: { <name>: Service }                          always (may be empty)
//! networks: { <key>: { name (always), driver, driver_opts{str}, external: bool,
//!             internal: bool, labels{str}, ipam{driver, config[{subnet, gateway, ...}]} } }
//!           `default` is added when a service uses it; name = "<project>_<key>" unless
//!           `name:` is set, or the key itself when external
//! volumes:  { <key>: { name (always), driver, driver_opts{str}, external: bool, labels{str} } }
//!           name = "<project>_<key>" unless `name:` is set, or the key when external
//! (any other top-level key, `x-*` included, as written)
//!
//! Service:
//!   image, container_name, restart, user, working_dir, hostname, domainname, stop_signal,
//!   platform, network_mode, pull_policy ("if_not_present" becomes "missing"): strings
//!   build: { context: absolute path (or a remote URL as written), dockerfile (default
//!            "Dockerfile" unless dockerfile_inline), args{str|null}, labels{str}, target,
//!            tags[str], ... }
//!   command, entrypoint: [str] (a string is split as sh splits words), or null
//!   environment: { KEY: "value" | null }  env_file contents first, then `environment`;
//!            null = unset in every source; env_file itself is removed
//!   labels, sysctls, annotations, deploy.labels, logging.options: { KEY: "value" }
//!   ports: [ { mode: "ingress", host_ip?, target: number, published?: "8080" or "8000-8010",
//!            protocol: "tcp"|"udp", name?, app_protocol? } ]   ranges expanded
//!   expose: [str]
//!   volumes: [ { type: "volume"|"bind"|"tmpfs"|..., source? (absolute for bind), target
//!            (cleaned), read_only?: true, bind?: { create_host_path: true (short syntax),
//!            propagation?, selinux? }, volume?: { nocopy? }, tmpfs?: {size?} } ]
//!   networks: { <network key>: null | { aliases[str], ipv4_address, ipv6_address } }
//!            always present unless network_mode is set; `{default: null}` when none given
//!   depends_on: { <service>: { condition: "service_started"|"service_healthy"|
//!            "service_completed_successfully", required: bool, restart?: bool } }
//!   healthcheck: { test: ["CMD", ...] | ["CMD-SHELL", "cmd"] | ["NONE"], interval, timeout,
//!            start_period, start_interval: Go durations as Go prints them ("1m30s", "1.5s"),
//!            retries: number, disable: bool }
//!   stop_grace_period: Go duration string
//!   shm_size, mem_limit: byte counts as decimal strings ("1073741824")
//!   deploy: { replicas: number, resources: { limits: { cpus: number, memory: "bytes",
//!            pids: number } }, ... }
//!   devices: [ { source, target, permissions } ]
//!   extra_hosts: [ "host=ip" ] sorted
//!   tmpfs, dns, dns_search, dns_opt, cap_add, cap_drop, security_opt, profiles: [str]
//!   ulimits: { name: number | { soft, hard } }
//!   read_only, privileged, init, tty, stdin_open: bool
//!   logging: { driver, options{str} }
//!   (any other key as written; berth warns about keys it does not act on)
//! ```
//! Services disabled by the active profiles are not in the model; a `depends_on` entry with
//! `required: false` may still name one (skip it), a required one is a load error.
//!
//! # The environment
//!
//! Interpolation reads the process environment, then the project directory's `.env` for
//! what the process does not set; `--env-file` files replace `.env` (as in Compose, where
//! the shell always wins). `COMPOSE_FILE`, `COMPOSE_PATH_SEPARATOR`, `COMPOSE_PROJECT_NAME`
//! and `COMPOSE_PROFILES` may come from either. An included project sees its own env files
//! under the including environment.

mod canon;
mod env;
mod interp;
mod merge;
mod render;
mod support;
mod yaml;

pub use render::{render, ConfigFormat};
pub use support::SERVICE_KEYS;

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What to load: the global options of `berth compose` and the process's environment.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// `-f` files in order; empty = `COMPOSE_FILE`, then discovery.
    pub files: Vec<PathBuf>,
    /// `-p`.
    pub project_name: Option<String>,
    /// `--project-directory`.
    pub project_directory: Option<PathBuf>,
    /// `--profile` (`COMPOSE_PROFILES` is read from `environment` too).
    pub profiles: Vec<String>,
    /// Services named on the command line (`up web`): one a profile disables is enabled,
    /// with its profiles, as Compose v2 does.
    pub named_services: Vec<String>,
    /// `--env-file`: replaces the default `.env`.
    pub env_files: Vec<PathBuf>,
    /// The process environment.
    pub environment: BTreeMap<String, String>,
    /// The current directory (discovery starts there).
    pub working_dir: PathBuf,
}

/// A loaded project.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The project name, normalised as Compose does.
    pub name: String,
    /// The project directory, absolute.
    pub working_dir: PathBuf,
    /// The compose files, absolute, in order.
    pub config_files: Vec<PathBuf>,
    /// The canonical model (see the module documentation).
    pub model: Value,
    /// One line each, e.g. "compose.yaml:12: service web: key `x` is not supported by berth".
    pub warnings: Vec<String>,
    /// Services of the files that the active profiles leave out of the model: their
    /// containers are the project's, not orphans (compose-go's `DisabledServices`).
    pub disabled_services: Vec<String>,
}

/// What went wrong, for exit codes and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadErrorKind {
    /// No compose file found, or a named file (or env file) is missing.
    NotFound,
    /// The YAML of a file (or an `.env` line) does not parse.
    Syntax,
    /// `${VAR:?msg}` with VAR missing, or a broken `${`.
    Interpolation,
    /// The model is not valid: unknown service or network, cycles, bad fields, names.
    Invalid,
    /// A file could not be read.
    Io,
}

/// A load failure: one line naming the file (with line and column where there is one) and the
/// cause.
#[derive(Clone, Debug)]
pub struct LoadError {
    kind: LoadErrorKind,
    message: String,
}

impl LoadError {
    fn new(kind: LoadErrorKind, message: impl Into<String>) -> Self {
        LoadError {
            kind,
            message: message.into(),
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> LoadErrorKind {
        self.kind
    }

    /// The exit code Docker Compose uses for it (1 for every load failure).
    pub fn exit_code(&self) -> i32 {
        1
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LoadError {}

/// Compose file names, in Compose's order of preference.
const DEFAULT_FILES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];
const OVERRIDE_FILES: &[&str] = &[
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// A compose file larger than this is refused (a model is kilobytes; this bounds memory).
const MAX_FILE: u64 = 16 << 20;

/// Reads a regular file without blocking on a FIFO or a device.
fn read_text(path: &Path, what: &str) -> Result<String, LoadError> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            let kind = if e.kind() == std::io::ErrorKind::NotFound {
                LoadErrorKind::NotFound
            } else {
                LoadErrorKind::Io
            };
            LoadError::new(kind, format!("{what} {}: {e}", path.display()))
        })?;
    let meta = f
        .metadata()
        .map_err(|e| LoadError::new(LoadErrorKind::Io, format!("{}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(LoadError::new(
            LoadErrorKind::Io,
            format!("{what} {}: not a regular file", path.display()),
        ));
    }
    if meta.len() > MAX_FILE {
        return Err(LoadError::new(
            LoadErrorKind::Io,
            format!(
                "{what} {}: larger than {} MiB",
                path.display(),
                MAX_FILE >> 20
            ),
        ));
    }
    let mut buf = Vec::new();
    f.take(MAX_FILE + 1)
        .read_to_end(&mut buf)
        .map_err(|e| LoadError::new(LoadErrorKind::Io, format!("{}: {e}", path.display())))?;
    String::from_utf8(buf).map_err(|_| {
        LoadError::new(
            LoadErrorKind::Syntax,
            format!("{}: not UTF-8 text", path.display()),
        )
    })
}

fn abs(base: &Path, p: &Path) -> PathBuf {
    canon::clean(&base.join(p))
}

/// Compose's project-name normalisation: lowercase, `[a-z0-9_-]` only, no leading `_`/`-`.
pub fn normalize_project_name(s: &str) -> String {
    let kept: String = s
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    kept.trim_start_matches(['_', '-']).to_string()
}

/// Shared state of one load.
struct Cx {
    /// Where messages print file names relative to.
    display_base: PathBuf,
    home: Option<String>,
    warnings: Vec<String>,
    unset_reported: Vec<String>,
    /// Files read so far: include and extends may name a file many times over (diamonds
    /// nest), so a hostile project could ask for exponentially many reads.
    reads: usize,
}

/// At most this many compose-file reads in one load.
const MAX_READS: usize = 1000;

impl Cx {
    fn show(&self, p: &Path) -> String {
        p.strip_prefix(&self.display_base)
            .map(|r| r.display().to_string())
            .unwrap_or_else(|_| p.display().to_string())
    }
}

/// One document of one file, interpolated, with the paths its `!reset`/`!override` tags name.
struct Doc {
    map: Map<String, Value>,
    resets: Vec<Vec<String>>,
    /// The line of each key down to `services.<name>.<field>.<key>`, for messages.
    lines: BTreeMap<String, usize>,
}

/// Notes the line of every key down to four levels.
fn key_lines(n: &yaml::Node, prefix: &str, depth: usize, out: &mut BTreeMap<String, usize>) {
    if depth == 0 {
        return;
    }
    if let yaml::V::Map(es) = &n.v {
        for e in es {
            let path = if prefix.is_empty() {
                e.key.clone()
            } else {
                format!("{prefix}.{}", e.key)
            };
            key_lines(&e.val, &path, depth - 1, out);
            out.insert(path, e.line);
        }
    }
}

/// `file:line: message` with the line of the longest known prefix of the dotted path that
/// starts `message` (e.g. `services.web.ports: invalid port`).
fn at_line(shown: &str, lines: &BTreeMap<String, usize>, message: &str) -> String {
    let head = message.split([' ', ':']).next().unwrap_or_default();
    let mut path = head;
    loop {
        if let Some(l) = lines.get(path) {
            return format!("{shown}:{l}: {message}");
        }
        match path.rfind('.') {
            Some(i) => path = &path[..i],
            None => return format!("{shown}: {message}"),
        }
    }
}

/// A node to a JSON value: strings interpolated, `!reset` nodes left out (their paths noted).
fn convert(
    n: &yaml::Node,
    env: &BTreeMap<String, String>,
    file: &str,
    path: &mut Vec<String>,
    resets: &mut Vec<Vec<String>>,
    unset: &mut Vec<String>,
) -> Result<Option<Value>, LoadError> {
    match n.tag {
        yaml::Tag::Reset => {
            resets.push(path.clone());
            return Ok(None);
        }
        yaml::Tag::Override => resets.push(path.clone()),
        yaml::Tag::None => {}
    }
    Ok(Some(match &n.v {
        yaml::V::Null => Value::Null,
        yaml::V::Bool(b) => json!(b),
        yaml::V::Int(i) => json!(i),
        yaml::V::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or_else(|| json!(f.to_string())),
        yaml::V::Str(s) => Value::String(interp::expand(s, env, unset).map_err(|e| {
            LoadError::new(
                LoadErrorKind::Interpolation,
                format!("{file}:{}:{}: {}: {e}", n.line, n.col, path.join(".")),
            )
        })?),
        yaml::V::Seq(items) => {
            let mut out = Vec::new();
            for (i, it) in items.iter().enumerate() {
                path.push(i.to_string());
                let v = convert(it, env, file, path, resets, unset)?;
                path.pop();
                out.extend(v);
            }
            Value::Array(out)
        }
        yaml::V::Map(es) => {
            let mut out = Map::new();
            for e in es {
                path.push(e.key.clone());
                let v = convert(&e.val, env, file, path, resets, unset)?;
                path.pop();
                if let Some(v) = v {
                    out.insert(e.key.clone(), v);
                }
            }
            Value::Object(out)
        }
    }))
}

/// A node as a plain value (no interpolation, tags ignored).
#[cfg(test)]
pub(crate) fn to_plain(n: &yaml::Node) -> Value {
    let mut r = Vec::new();
    convert(
        n,
        &BTreeMap::new(),
        "",
        &mut Vec::new(),
        &mut r,
        &mut Vec::new(),
    )
    .ok()
    .flatten()
    .unwrap_or(Value::Null)
}

/// Reads, parses and interpolates every document of `path`, warning about keys berth ignores.
fn read_docs(
    path: &Path,
    env: &BTreeMap<String, String>,
    cx: &mut Cx,
) -> Result<Vec<Doc>, LoadError> {
    let shown = cx.show(path);
    cx.reads += 1;
    if cx.reads > MAX_READS {
        return Err(LoadError::new(
            LoadErrorKind::Invalid,
            format!("{shown}: more than {MAX_READS} compose files read (include and extends)"),
        ));
    }
    let text = read_text(path, "compose file")?;
    let nodes = yaml::parse(&text).map_err(|e| {
        LoadError::new(
            LoadErrorKind::Syntax,
            format!("{shown}:{}:{}: {}", e.line, e.col, e.msg),
        )
    })?;
    let mut docs = Vec::new();
    for n in &nodes {
        if !matches!(n.v, yaml::V::Map(_) | yaml::V::Null) {
            return Err(LoadError::new(
                LoadErrorKind::Invalid,
                format!(
                    "{shown}:{}:{}: top-level object must be a mapping",
                    n.line, n.col
                ),
            ));
        }
        support::check(n, &shown, &mut cx.warnings);
        let mut resets = Vec::new();
        let mut unset = Vec::new();
        let v = convert(n, env, &shown, &mut Vec::new(), &mut resets, &mut unset)?;
        for u in unset {
            if !cx.unset_reported.contains(&u) {
                cx.warnings.push(format!(
                    "The {u:?} variable is not set. Defaulting to a blank string."
                ));
                cx.unset_reported.push(u);
            }
        }
        let mut map = match v {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        if map.remove("version").is_some() {
            cx.warnings.push(format!(
                "{shown}: the attribute `version` is obsolete, it will be ignored"
            ));
        }
        let mut lines = BTreeMap::new();
        key_lines(n, "", 4, &mut lines);
        docs.push(Doc { map, resets, lines });
    }
    Ok(docs)
}

/// The compose schema's pattern for service, network and volume keys: `[a-zA-Z0-9._-]+`.
fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Short forms to long forms in one document, relative paths against `base`.
fn canonical_doc(doc: &mut Doc, base: &Path, shown: &str, cx: &Cx) -> Result<(), LoadError> {
    let ctx = canon::Ctx {
        base,
        home: cx.home.as_deref(),
    };
    let lines = &doc.lines;
    let map = &mut doc.map;
    let invalid = |m: String| LoadError::new(LoadErrorKind::Invalid, at_line(shown, lines, &m));
    match map.get_mut("services") {
        None | Some(Value::Null) => {}
        Some(Value::Object(services)) => {
            for (name, svc) in services.iter_mut() {
                // Names become parts of container, network and volume names.
                if !valid_key(name) {
                    return Err(invalid(format!(
                        "services.{name}: invalid service name, use only [a-zA-Z0-9._-]"
                    )));
                }
                if svc.is_null() {
                    *svc = json!({});
                }
                let Value::Object(s) = svc else {
                    return Err(invalid(format!("services.{name} must be a mapping")));
                };
                canon::service(s, &ctx).map_err(|e| invalid(format!("services.{name}.{e}")))?;
            }
        }
        Some(_) => return Err(invalid("services must be a mapping".into())),
    }
    for what in ["networks", "volumes"] {
        match map.get_mut(what) {
            None => {}
            Some(Value::Null) => {
                map.insert(what.into(), json!({}));
            }
            Some(Value::Object(res)) => {
                for (key, r) in res.iter_mut() {
                    if !valid_key(key) {
                        return Err(invalid(format!(
                            "{what}.{key}: invalid name, use only [a-zA-Z0-9._-]"
                        )));
                    }
                    let v = std::mem::take(r);
                    *r = canon::resource(v, what, key).map_err(invalid)?;
                }
            }
            Some(_) => return Err(invalid(format!("{what} must be a mapping"))),
        }
    }
    Ok(())
}

/// Where a file's model stands: its path, the directory its relative paths start from, and
/// the environment it is interpolated with.
struct Source<'a> {
    file: &'a Path,
    base: &'a Path,
    env: &'a BTreeMap<String, String>,
}

/// A service with its `extends` chain resolved.
fn resolve_service(
    name: &str,
    services: &Map<String, Value>,
    resets: &[Vec<String>],
    src: &Source,
    chain: &mut Vec<(PathBuf, String)>,
    memo: &mut BTreeMap<String, Value>,
    cx: &mut Cx,
) -> Result<Value, LoadError> {
    let shown = cx.show(src.file);
    let Some(svc) = services.get(name) else {
        return Err(LoadError::new(
            LoadErrorKind::Invalid,
            format!("{shown}: cannot extend service {name:?}: no such service"),
        ));
    };
    let key = (src.file.to_path_buf(), name.to_string());
    if chain.contains(&key) {
        let mut names: Vec<String> = chain
            .iter()
            .map(|(f, s)| format!("{s} in {}", cx.show(f)))
            .collect();
        names.push(format!("{name} in {shown}"));
        return Err(LoadError::new(
            LoadErrorKind::Invalid,
            format!("circular reference with extends: {}", names.join(" -> ")),
        ));
    }
    let mut svc = svc.clone();
    let Some(ext) = svc.as_object_mut().and_then(|s| s.remove("extends")) else {
        return Ok(svc);
    };
    let Some(base_name) = ext
        .get("service")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return Err(LoadError::new(
            LoadErrorKind::Invalid,
            format!("{shown}: service {name}: extends needs a service"),
        ));
    };
    chain.push(key);
    let base = match ext.get("file").and_then(Value::as_str) {
        // A base in the same file is resolved once (a long chain would be quadratic).
        None => match memo.get(&base_name) {
            Some(done) => done.clone(),
            None => {
                let v = resolve_service(&base_name, services, &[], src, chain, memo, cx)?;
                memo.insert(base_name.clone(), v.clone());
                v
            }
        },
        Some(f) => {
            // Relative to the directory this file's paths resolve against: the project
            // directory for the project's own files, an extended file's own directory.
            let dir = src.base;
            let path = abs(dir, Path::new(f));
            let other_dir = path.parent().unwrap_or(dir).to_path_buf();
            let docs = read_docs(&path, src.env, cx)?;
            let mut merged = Map::new();
            let other_shown = cx.show(&path);
            for mut d in docs {
                canonical_doc(&mut d, &other_dir, &other_shown, cx)?;
                merge::apply_resets(&mut merged, &d.resets);
                merge::merge_model(&mut merged, d.map);
            }
            let other_services = match merged.remove("services") {
                Some(Value::Object(s)) => s,
                _ => Map::new(),
            };
            let other = Source {
                file: &path,
                base: &other_dir,
                env: src.env,
            };
            let mut other_memo = BTreeMap::new();
            resolve_service(
                &base_name,
                &other_services,
                &[],
                &other,
                chain,
                &mut other_memo,
                cx,
            )?
        }
    };
    chain.pop();
    let mut base = base;
    // `!reset` / `!override` under this service also clear what the base brought.
    if let Some(b) = base.as_object_mut() {
        for r in resets {
            if r.len() > 2 && r[0] == "services" && r[1] == name {
                merge::remove_path(b, &r[2..]);
            }
        }
    }
    Ok(merge::merge_service(name, base, svc))
}

/// Loads an included project: its files, project directory and env files.
fn include_entry(
    entry: &Value,
    src: &Source,
    chain: &mut Vec<PathBuf>,
    cx: &mut Cx,
) -> Result<Map<String, Value>, LoadError> {
    let shown = cx.show(src.file);
    let invalid =
        |m: &str| LoadError::new(LoadErrorKind::Invalid, format!("{shown}: include: {m}"));
    let dir = src.base;
    let (paths, project_dir, env_files): (Vec<String>, Option<String>, Vec<String>) = match entry {
        Value::String(p) => (vec![p.clone()], None, Vec::new()),
        Value::Object(m) => {
            let list = |v: Option<&Value>| -> Vec<String> {
                match v {
                    Some(Value::String(s)) => vec![s.clone()],
                    Some(Value::Array(a)) => a
                        .iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect(),
                    _ => Vec::new(),
                }
            };
            (
                list(m.get("path")),
                m.get("project_directory")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                list(m.get("env_file")),
            )
        }
        _ => return Err(invalid("entries must be paths or mappings")),
    };
    if paths.is_empty() {
        return Err(invalid("an entry needs a path"));
    }
    let files: Vec<PathBuf> = paths.iter().map(|p| abs(dir, Path::new(p))).collect();
    let pdir = match project_dir {
        Some(p) => abs(dir, Path::new(&p)),
        None => files[0].parent().unwrap_or(dir).to_path_buf(),
    };
    // The included project's env files add to (never override) the including environment.
    let env_paths: Vec<PathBuf> = if env_files.is_empty() {
        let dot = pdir.join(".env");
        if dot.is_file() {
            vec![dot]
        } else {
            Vec::new()
        }
    } else {
        env_files.iter().map(|p| abs(dir, Path::new(p))).collect()
    };
    let mut env = src.env.clone();
    for (k, v) in read_env_files(&env_paths, src.env, cx)? {
        env.entry(k).or_insert(v);
    }
    load_files(&files, &pdir, &env, chain, cx)
}

/// Adds `imported` (an included project) to `map`, refusing a resource defined differently
/// on both sides.
fn import(
    map: &mut Map<String, Value>,
    imported: Map<String, Value>,
    shown: &str,
) -> Result<(), LoadError> {
    for (section, v) in imported {
        let Value::Object(items) = v else {
            map.entry(section).or_insert(v);
            continue;
        };
        let target = map.entry(section.clone()).or_insert_with(|| json!({}));
        if target.is_null() {
            *target = json!({});
        }
        let Some(t) = target.as_object_mut() else {
            continue;
        };
        for (k, item) in items {
            match t.get(&k) {
                Some(existing) if *existing != item => {
                    return Err(LoadError::new(
                        LoadErrorKind::Invalid,
                        format!("{shown}: {section}.{k} conflicts with imported resource"),
                    ))
                }
                _ => {
                    t.insert(k, item);
                }
            }
        }
    }
    Ok(())
}

/// Loads `files` as one project rooted at `base`: the merged canonical model, not yet
/// normalised (no default network, no names).
fn load_files(
    files: &[PathBuf],
    base: &Path,
    env: &BTreeMap<String, String>,
    include_chain: &mut Vec<PathBuf>,
    cx: &mut Cx,
) -> Result<Map<String, Value>, LoadError> {
    let mut acc = Map::new();
    for file in files {
        if include_chain.contains(file) {
            let mut names: Vec<String> = include_chain.iter().map(|f| cx.show(f)).collect();
            names.push(cx.show(file));
            return Err(LoadError::new(
                LoadErrorKind::Invalid,
                format!("include cycle detected: {}", names.join(" include ")),
            ));
        }
        let shown = cx.show(file);
        let src = Source { file, base, env };
        for mut doc in read_docs(file, env, cx)? {
            canonical_doc(&mut doc, base, &shown, cx)?;
            if let Some(inc) = doc.map.remove("include") {
                let Value::Array(entries) = inc else {
                    return Err(LoadError::new(
                        LoadErrorKind::Invalid,
                        format!("{shown}: include must be a list"),
                    ));
                };
                include_chain.push(file.clone());
                for e in &entries {
                    let imported = include_entry(e, &src, include_chain, cx)?;
                    import(&mut doc.map, imported, &shown)?;
                }
                include_chain.pop();
            }
            if let Some(Value::Object(services)) = doc.map.get("services") {
                let names: Vec<String> = services.keys().cloned().collect();
                let mut resolved = Map::new();
                let mut memo = BTreeMap::new();
                for name in names {
                    let v = resolve_service(
                        &name,
                        services,
                        &doc.resets,
                        &src,
                        &mut Vec::new(),
                        &mut memo,
                        cx,
                    )?;
                    resolved.insert(name, v);
                }
                doc.map.insert("services".into(), Value::Object(resolved));
            }
            merge::apply_resets(&mut acc, &doc.resets);
            merge::merge_model(&mut acc, doc.map);
        }
    }
    // A variable named without a value takes it from this project's environment (an included
    // project's env files are seen by its own services only).
    if let Some(Value::Object(services)) = acc.get_mut("services") {
        merge::enforce_unique(services);
    }
    // Build defaults come after merging (an override naming only `target` keeps the base's
    // context), per project: an included project's context defaults to its own directory.
    if let Some(Value::Object(services)) = acc.get_mut("services") {
        for svc in services.values_mut() {
            if let Some(Value::Object(b)) = svc.get_mut("build") {
                b.entry("context")
                    .or_insert_with(|| json!(base.to_string_lossy()));
                if !b.contains_key("dockerfile") && !b.contains_key("dockerfile_inline") {
                    b.insert("dockerfile".into(), json!("Dockerfile"));
                }
            }
            if let Some(Value::Object(e)) = svc.get_mut("environment") {
                for (k, v) in e.iter_mut() {
                    if v.is_null() {
                        if let Some(val) = env.get(k) {
                            *v = json!(val);
                        }
                    }
                }
            }
        }
    }
    Ok(acc)
}

/// Reads env files in order into one list (later files see earlier values).
fn read_env_files(
    paths: &[PathBuf],
    env: &BTreeMap<String, String>,
    cx: &Cx,
) -> Result<Vec<(String, String)>, LoadError> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut scope = env.clone();
    for p in paths {
        let text = read_text(p, "env file")?;
        let vars = env::parse(&text, &scope).map_err(|(line, m)| {
            LoadError::new(LoadErrorKind::Syntax, format!("{}:{line}: {m}", cx.show(p)))
        })?;
        for (k, v) in vars {
            if let Some(v) = v {
                scope.entry(k.clone()).or_insert_with(|| v.clone());
                out.push((k, v));
            }
        }
    }
    Ok(out)
}

fn find_upwards(start: &Path) -> Option<(PathBuf, Option<PathBuf>)> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if let Some(f) = DEFAULT_FILES
            .iter()
            .map(|n| d.join(n))
            .find(|p| p.is_file())
        {
            let o = OVERRIDE_FILES
                .iter()
                .map(|n| d.join(n))
                .find(|p| p.is_file());
            return Some((f, o));
        }
        dir = d.parent();
    }
    None
}

/// Loads the project `opts` describes.
pub fn load(opts: &LoadOptions) -> Result<Loaded, LoadError> {
    let cwd = canon::clean(&opts.working_dir);
    let proc_env = &opts.environment;
    let explicit_dir = opts.project_directory.as_ref().map(|d| abs(&cwd, d));

    // The `.env` of the project directory can set COMPOSE_FILE, so it is read first, from the
    // directory known before the files are.
    let first_dir = explicit_dir.clone().or_else(|| {
        opts.files.first().map(|f| {
            abs(&cwd, f)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or(cwd.clone())
        })
    });
    let mut cx = Cx {
        display_base: cwd.clone(),
        home: proc_env.get("HOME").cloned(),
        warnings: Vec::new(),
        unset_reported: Vec::new(),
        reads: 0,
    };
    let env_paths = |dir: &Path| -> Vec<PathBuf> {
        if !opts.env_files.is_empty() {
            return opts.env_files.iter().map(|p| abs(&cwd, p)).collect();
        }
        let dot = dir.join(".env");
        if dot.is_file() {
            vec![dot]
        } else {
            Vec::new()
        }
    };
    // The process environment wins over every env file.
    let with_files = |paths: &[PathBuf], cx: &Cx| -> Result<BTreeMap<String, String>, LoadError> {
        let mut env = proc_env.clone();
        for (k, v) in read_env_files(paths, proc_env, cx)? {
            if !proc_env.contains_key(&k) {
                env.insert(k, v);
            }
        }
        Ok(env)
    };
    let mut env = with_files(&env_paths(first_dir.as_deref().unwrap_or(&cwd)), &cx)?;

    let files: Vec<PathBuf> = if !opts.files.is_empty() {
        opts.files.iter().map(|f| abs(&cwd, f)).collect()
    } else if let Some(list) = env.get("COMPOSE_FILE").filter(|l| !l.is_empty()) {
        let sep = env
            .get("COMPOSE_PATH_SEPARATOR")
            .filter(|s| !s.is_empty())
            .cloned()
            .unwrap_or_else(|| ":".into());
        let base = first_dir.clone().unwrap_or(cwd.clone());
        list.split(sep.as_str())
            .filter(|s| !s.is_empty())
            .map(|f| abs(&base, Path::new(f)))
            .collect()
    } else {
        let start = explicit_dir.clone().unwrap_or(cwd.clone());
        match find_upwards(&start) {
            Some((f, o)) => std::iter::once(f).chain(o).collect(),
            None => {
                return Err(LoadError::new(
                    LoadErrorKind::NotFound,
                    "no configuration file provided: not found",
                ))
            }
        }
    };
    if files.is_empty() {
        // COMPOSE_FILE held only separators.
        return Err(LoadError::new(
            LoadErrorKind::NotFound,
            "no configuration file provided: not found",
        ));
    }
    for f in &files {
        if !f.exists() {
            return Err(LoadError::new(
                LoadErrorKind::NotFound,
                format!("open {}: no such file or directory", f.display()),
            ));
        }
    }
    let working_dir = explicit_dir.unwrap_or_else(|| {
        files[0]
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or(cwd.clone())
    });
    if first_dir.as_deref() != Some(working_dir.as_path()) && opts.env_files.is_empty() {
        env = with_files(&env_paths(&working_dir), &cx)?;
    }

    let name = project_name(opts, &files, &env, &working_dir, &mut cx)?;
    env.insert("COMPOSE_PROJECT_NAME".into(), name.clone());

    let mut model = load_files(&files, &working_dir, &env, &mut Vec::new(), &mut cx)?;
    if model.is_empty() {
        return Err(invalid("empty compose file".into()));
    }
    model.remove("name");
    let disabled_services = finish(&mut model, &name, &env, opts, &cx)?;
    let mut top = Map::new();
    top.insert("name".into(), json!(name));
    top.extend(model);
    // A file extended by several services is read once per service: one warning each.
    let mut warnings: Vec<String> = Vec::new();
    for w in cx.warnings {
        if !warnings.contains(&w) {
            warnings.push(w);
        }
    }
    Ok(Loaded {
        name,
        working_dir,
        config_files: files,
        model: Value::Object(top),
        warnings,
        disabled_services,
    })
}

fn invalid_name(v: &str) -> LoadError {
    LoadError::new(
        LoadErrorKind::Invalid,
        format!("invalid project name {v:?}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number"),
    )
}

/// `-p`, then `COMPOSE_PROJECT_NAME`, then `name:` in the files (last wins), then the
/// project directory's name.
fn project_name(
    opts: &LoadOptions,
    files: &[PathBuf],
    env: &BTreeMap<String, String>,
    working_dir: &Path,
    cx: &mut Cx,
) -> Result<String, LoadError> {
    let imperative = opts
        .project_name
        .clone()
        .or_else(|| env.get("COMPOSE_PROJECT_NAME").cloned())
        .filter(|n| !n.is_empty());
    if let Some(n) = imperative {
        if normalize_project_name(&n) != n {
            return Err(invalid_name(&n));
        }
        return Ok(n);
    }
    let mut from_file = None;
    for f in files {
        let Ok(text) = read_text(f, "compose file") else {
            continue;
        };
        let Ok(nodes) = yaml::parse(&text) else {
            continue;
        };
        for n in nodes {
            if let yaml::V::Map(es) = &n.v {
                if let Some(e) = es.iter().find(|e| e.key == "name") {
                    if let yaml::V::Str(s) = &e.val.v {
                        let v = interp::expand(s, env, &mut Vec::new()).map_err(|err| {
                            LoadError::new(
                                LoadErrorKind::Interpolation,
                                format!("{}:{}:{}: name: {err}", cx.show(f), e.val.line, e.val.col),
                            )
                        })?;
                        if !v.is_empty() {
                            from_file = Some(v);
                        }
                    }
                }
            }
        }
    }
    let n = match from_file {
        Some(n) => normalize_project_name(&n),
        None => normalize_project_name(
            &working_dir
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
    };
    if n.is_empty() {
        return Err(LoadError::new(
            LoadErrorKind::Invalid,
            "project name must not be empty",
        ));
    }
    Ok(n)
}

fn invalid(m: String) -> LoadError {
    LoadError::new(LoadErrorKind::Invalid, m)
}

/// Normalisation and checks on the merged model: default network, resource names, env files
/// into `environment`, profiles, references and cycles. Returns the services the profiles
/// left out.
fn finish(
    model: &mut Map<String, Value>,
    project: &str,
    env: &BTreeMap<String, String>,
    opts: &LoadOptions,
    cx: &Cx,
) -> Result<Vec<String>, LoadError> {
    let mut services = match model.remove("services") {
        Some(Value::Object(s)) => s,
        _ => Map::new(),
    };

    // Profiles: --profile and COMPOSE_PROFILES; `*` enables all.
    let mut active: Vec<String> = opts.profiles.clone();
    if let Some(p) = env.get("COMPOSE_PROFILES") {
        active.extend(
            p.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
    }
    let profiles_of = |svc: &Value| -> Vec<String> {
        svc.get("profiles")
            .and_then(Value::as_array)
            .map(|ps| {
                ps.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    // A service named on the command line brings its profiles with it (compose-go's
    // `WithServicesEnabled`), so what shares a profile with it comes up too.
    for name in &opts.named_services {
        if let Some(svc) = services.get(name) {
            active.extend(profiles_of(svc));
        }
    }
    let enabled = |svc: &Value| -> bool {
        let profiles = profiles_of(svc);
        profiles.is_empty()
            || profiles
                .iter()
                .any(|p| active.iter().any(|a| a == p || a == "*"))
    };
    let disabled: Vec<String> = services
        .iter()
        .filter(|(_, s)| !enabled(s))
        .map(|(n, _)| n.clone())
        .collect();
    let all_names: Vec<String> = services.keys().cloned().collect();
    for d in &disabled {
        services.remove(d);
    }

    let mut networks = match model.remove("networks") {
        Some(Value::Object(n)) => n,
        _ => Map::new(),
    };
    let mut volumes = match model.remove("volumes") {
        Some(Value::Object(v)) => v,
        _ => Map::new(),
    };
    let mut uses_default = false;
    for (name, svc) in services.iter_mut() {
        let Some(s) = svc.as_object_mut() else {
            continue;
        };
        if s.get("image").is_none() && s.get("build").is_none() {
            return Err(invalid(format!(
                "service {name:?} has neither an image nor a build context specified: invalid compose project"
            )));
        }
        if !s.contains_key("network_mode") {
            let empty = s
                .get("networks")
                .and_then(Value::as_object)
                .is_none_or(|n| n.is_empty());
            if empty {
                s.insert("networks".into(), json!({ "default": null }));
            }
            if s.get("networks").and_then(|n| n.get("default")).is_some() {
                uses_default = true;
            }
        }
        // depends_on implied by `service:` namespaces.
        for ns in ["network_mode", "ipc", "pid"] {
            if let Some(other) = s
                .get(ns)
                .and_then(Value::as_str)
                .and_then(|v| v.strip_prefix("service:"))
            {
                let other = other.to_string();
                let deps = s.entry("depends_on").or_insert_with(|| json!({}));
                if let Some(d) = deps.as_object_mut() {
                    d.entry(other).or_insert(
                        json!({"condition": "service_started", "restart": true, "required": true}),
                    );
                }
            }
        }
        // env_file contents first, then `environment`; a null takes the variable from the
        // project environment when it is there.
        let mut merged = Map::new();
        if let Some(Value::Array(files)) = s.remove("env_file") {
            for f in files {
                let Some(path) = f.get("path").and_then(Value::as_str) else {
                    continue;
                };
                let required = f.get("required").and_then(Value::as_bool).unwrap_or(true);
                let path = PathBuf::from(path);
                if !required && !path.exists() {
                    continue;
                }
                let text = read_text(&path, "env file")
                    .map_err(|e| LoadError::new(e.kind(), format!("service {name}: {e}")))?;
                let vars = env::parse(&text, env).map_err(|(line, m)| {
                    LoadError::new(
                        LoadErrorKind::Syntax,
                        format!("{}:{line}: {m}", cx.show(&path)),
                    )
                })?;
                for (k, v) in vars {
                    merged.insert(k, v.map(Value::String).unwrap_or(Value::Null));
                }
            }
        }
        if let Some(Value::Object(e)) = s.remove("environment") {
            for (k, v) in e {
                merged.insert(k, v);
            }
        }
        let had_env = !merged.is_empty();
        for (k, v) in merged.iter_mut() {
            if v.is_null() {
                if let Some(val) = env.get(k) {
                    *v = json!(val);
                }
            }
        }
        if had_env {
            s.insert("environment".into(), Value::Object(merged));
        }
        if let Some(Value::Object(args)) = s.get_mut("build").and_then(|b| b.get_mut("args")) {
            let keys: Vec<String> = args.keys().cloned().collect();
            for k in keys {
                if args.get(&k).is_some_and(Value::is_null) {
                    match env.get(&k) {
                        Some(v) => {
                            args.insert(k, json!(v));
                        }
                        None => {
                            args.remove(&k);
                        }
                    }
                }
            }
        }
    }
    if uses_default && !networks.contains_key("default") {
        networks.insert("default".into(), json!({}));
    }
    for res in [&mut networks, &mut volumes] {
        for (key, r) in res.iter_mut() {
            if r.is_null() {
                *r = json!({});
            }
            if let Some(m) = r.as_object_mut() {
                if !m.get("name").is_some_and(|n| n.is_string()) {
                    let external = m.get("external").and_then(Value::as_bool).unwrap_or(false);
                    let n = if external {
                        key.clone()
                    } else {
                        format!("{project}_{key}")
                    };
                    m.insert("name".into(), json!(n));
                }
            }
        }
    }

    // References.
    for (name, svc) in &services {
        if let Some(deps) = svc.get("depends_on").and_then(Value::as_object) {
            for (dep, cfg) in deps {
                if services.contains_key(dep) {
                    continue;
                }
                let required = cfg.get("required").and_then(Value::as_bool).unwrap_or(true);
                if all_names.contains(dep) && !required {
                    continue;
                }
                return Err(invalid(format!(
                    "service {name:?} depends on undefined service {dep:?}: invalid compose project"
                )));
            }
        }
        if let Some(nets) = svc.get("networks").and_then(Value::as_object) {
            for n in nets.keys() {
                if !networks.contains_key(n) {
                    return Err(invalid(format!(
                        "service {name:?} refers to undefined network {n}: invalid compose project"
                    )));
                }
            }
        }
        if let Some(vols) = svc.get("volumes").and_then(Value::as_array) {
            for v in vols {
                if v.get("type").and_then(Value::as_str) != Some("volume") {
                    continue;
                }
                if let Some(src) = v.get("source").and_then(Value::as_str) {
                    if !src.is_empty() && !volumes.contains_key(src) {
                        return Err(invalid(format!(
                            "service {name:?} refers to undefined volume {src}: invalid compose project"
                        )));
                    }
                }
            }
        }
        if let Some(t) = svc
            .get("healthcheck")
            .and_then(|h| h.get("test"))
            .and_then(Value::as_array)
            .and_then(|t| t.first())
            .and_then(Value::as_str)
        {
            if !matches!(t, "CMD" | "CMD-SHELL" | "NONE") {
                return Err(invalid(
                    "healthcheck.test must start either by \"CMD\", \"CMD-SHELL\" or \"NONE\""
                        .into(),
                ));
            }
        }
    }
    check_cycles(&services)?;

    model.insert("services".into(), Value::Object(services));
    if !networks.is_empty() {
        model.insert("networks".into(), Value::Object(networks));
    }
    if !volumes.is_empty() {
        model.insert("volumes".into(), Value::Object(volumes));
    }
    Ok(disabled)
}

/// A `depends_on` cycle, named as compose-go names it: "dependency cycle detected: a -> b -> a".
fn check_cycles(services: &Map<String, Value>) -> Result<(), LoadError> {
    fn visit<'a>(
        n: &'a str,
        services: &'a Map<String, Value>,
        path: &mut Vec<&'a str>,
        done: &mut Vec<&'a str>,
    ) -> Result<(), LoadError> {
        if done.contains(&n) {
            return Ok(());
        }
        if let Some(i) = path.iter().position(|p| *p == n) {
            return Err(invalid(format!(
                "dependency cycle detected: {} -> {n}",
                path[i..].join(" -> ")
            )));
        }
        path.push(n);
        if let Some(deps) = services
            .get(n)
            .and_then(|s| s.get("depends_on"))
            .and_then(Value::as_object)
        {
            for d in deps.keys() {
                if services.contains_key(d) {
                    visit(d, services, path, done)?;
                }
            }
        }
        path.pop();
        done.push(n);
        Ok(())
    }
    let mut done = Vec::new();
    for n in services.keys() {
        visit(n, services, &mut Vec::new(), &mut done)?;
    }
    Ok(())
}
