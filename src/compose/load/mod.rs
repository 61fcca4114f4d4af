//! A minimal loader, standing in until the full one (interpolation, `include`,
//! `extends`, merging, short forms) replaces this module: it reads each file as YAML into
//! a JSON value, takes the last file's keys over the earlier ones' at the top of each
//! service, and names the project from `-p`, `name:` or the directory. Files must be in
//! the canonical long form.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// What `berth compose`'s global flags ask of the loader.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub files: Vec<PathBuf>,
    pub project_name: Option<String>,
    pub project_directory: Option<PathBuf>,
    pub profiles: Vec<String>,
    pub env_files: Vec<PathBuf>,
    pub environment: BTreeMap<String, String>,
    pub working_dir: PathBuf,
}

/// A loaded project: its name, directory, files and canonical model.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub name: String,
    pub working_dir: PathBuf,
    pub config_files: Vec<PathBuf>,
    pub model: Value,
    pub warnings: Vec<String>,
}

/// Why a project could not be loaded, as one line.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("no configuration file provided: not found")]
    NoFile,
    #[error("{path}: {err}")]
    Read { path: String, err: std::io::Error },
    #[error("{path}:{line}:{column}: {reason}")]
    Yaml {
        path: String,
        line: usize,
        column: usize,
        reason: String,
    },
    #[error("{0}")]
    Invalid(String),
}

/// How `config` prints the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigFormat {
    Yaml,
    Json,
}

/// The files Docker Compose looks for when `-f` is not given, in its order.
const DEFAULT_FILES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// Loads the project `opts` names.
pub fn load(opts: &LoadOptions) -> Result<Loaded, LoadError> {
    let files = if opts.files.is_empty() {
        let found = DEFAULT_FILES
            .iter()
            .map(|f| opts.working_dir.join(f))
            .find(|p| p.is_file())
            .ok_or(LoadError::NoFile)?;
        vec![found]
    } else {
        opts.files
            .iter()
            .map(|f| opts.working_dir.join(f))
            .collect()
    };
    let mut model = Map::new();
    for path in &files {
        let text = std::fs::read_to_string(path).map_err(|err| LoadError::Read {
            path: path.display().to_string(),
            err,
        })?;
        match parse_yaml(&text, path)? {
            Value::Object(doc) => merge_top(&mut model, doc),
            Value::Null => {}
            _ => {
                return Err(LoadError::Invalid(format!(
                    "{}: Top-level object must be a mapping",
                    path.display()
                )))
            }
        }
    }
    let working_dir = match &opts.project_directory {
        Some(dir) => opts.working_dir.join(dir),
        None => files[0]
            .parent()
            .map_or_else(|| opts.working_dir.clone(), Path::to_path_buf),
    };
    let name = opts
        .project_name
        .clone()
        .or_else(|| model.get("name").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| {
            working_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
    let name = normalize_name(&name);
    if name.is_empty() {
        return Err(LoadError::Invalid(
            "project name must not be empty: use -p or `name:`".into(),
        ));
    }
    model.insert("name".into(), Value::String(name.clone()));
    drop_disabled_services(&mut model, &opts.profiles);
    resolve_names(&mut model, &name);
    Ok(Loaded {
        name,
        working_dir,
        config_files: files,
        model: Value::Object(model),
        warnings: Vec::new(),
    })
}

/// Docker Compose's project name: lower case, only `a-z0-9_-`, starting with a letter or
/// digit.
fn normalize_name(name: &str) -> String {
    let lower: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        .collect();
    lower
        .trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

/// A later file's services replace an earlier one's keys, one level down; other
/// top-level keys are replaced whole.
fn merge_top(model: &mut Map<String, Value>, doc: Map<String, Value>) {
    for (key, value) in doc {
        match (model.get_mut(&key), value) {
            (Some(Value::Object(old)), Value::Object(new)) => {
                for (k, v) in new {
                    match (old.get_mut(&k), v) {
                        (Some(Value::Object(o)), Value::Object(n)) => o.extend(n),
                        (_, v) => {
                            old.insert(k, v);
                        }
                    }
                }
            }
            (_, value) => {
                model.insert(key, value);
            }
        }
    }
}

/// Services whose `profiles` none of the active ones name are not part of the project.
fn drop_disabled_services(model: &mut Map<String, Value>, active: &[String]) {
    if let Some(Value::Object(services)) = model.get_mut("services") {
        services.retain(|_, service| {
            let Some(Value::Array(profiles)) = service.get("profiles") else {
                return true;
            };
            active.iter().any(|a| a == "*")
                || profiles
                    .iter()
                    .any(|p| active.iter().any(|a| Some(a.as_str()) == p.as_str()))
        });
    }
}

/// The `default` network and the names of networks and volumes, as the full loader
/// resolves them.
fn resolve_names(model: &mut Map<String, Value>, project: &str) {
    let networks = model
        .entry("networks")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(networks) = networks {
        networks
            .entry("default")
            .or_insert_with(|| Value::Object(Map::new()));
        for (key, network) in networks.iter_mut() {
            if network.is_null() {
                *network = Value::Object(Map::new());
            }
            if let Value::Object(network) = network {
                let external = network.get("external").and_then(Value::as_bool) == Some(true);
                network.entry("name").or_insert_with(|| {
                    Value::String(if external {
                        key.clone()
                    } else {
                        format!("{project}_{key}")
                    })
                });
            }
        }
    }
    if let Some(Value::Object(volumes)) = model.get_mut("volumes") {
        for (key, volume) in volumes.iter_mut() {
            if volume.is_null() {
                *volume = Value::Object(Map::new());
            }
            if let Value::Object(volume) = volume {
                let external = volume.get("external").and_then(Value::as_bool) == Some(true);
                volume.entry("name").or_insert_with(|| {
                    Value::String(if external {
                        key.clone()
                    } else {
                        format!("{project}_{key}")
                    })
                });
            }
        }
    }
}

/// YAML text to a JSON value: plain scalars typed by YAML 1.2's core schema, quoted ones
/// kept as strings, anchors and aliases followed.
fn parse_yaml(text: &str, path: &Path) -> Result<Value, LoadError> {
    use saphyr_parser::{Event, Parser, ScalarStyle};
    enum Frame {
        Seq(Vec<Value>, usize),
        Map(Map<String, Value>, Option<String>, usize),
    }
    let yaml_error = |line: usize, column: usize, reason: String| LoadError::Yaml {
        path: path.display().to_string(),
        line,
        column,
        reason,
    };
    let mut anchors: BTreeMap<usize, Value> = BTreeMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Value> = None;
    let mut parser = Parser::new_from_str(text);
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| {
            yaml_error(e.marker().line(), e.marker().col() + 1, e.info().to_owned())
        })?;
        let (value, anchor) = match event {
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq(Vec::new(), anchor));
                continue;
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map(Map::new(), None, anchor));
                continue;
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(items, anchor)) => (Value::Array(items), anchor),
                _ => continue,
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(map, _, anchor)) => (Value::Object(map), anchor),
                _ => continue,
            },
            Event::Scalar(text, style, anchor, _) => {
                let value = if style == ScalarStyle::Plain {
                    plain_scalar(&text)
                } else {
                    Value::String(text.into_owned())
                };
                (value, anchor)
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some(value) => (value.clone(), 0),
                None => {
                    return Err(yaml_error(
                        span.start.line(),
                        span.start.col() + 1,
                        "unknown anchor".into(),
                    ))
                }
            },
            _ => continue,
        };
        if anchor > 0 {
            anchors.insert(anchor, value.clone());
        }
        match stack.last_mut() {
            Some(Frame::Seq(items, _)) => items.push(value),
            Some(Frame::Map(map, key, _)) => match key.take() {
                Some(k) => {
                    // `<<: *anchor`: the anchor's keys under the mapping's own.
                    if k == "<<" {
                        if let Value::Object(merged) = value {
                            for (mk, mv) in merged {
                                map.entry(mk).or_insert(mv);
                            }
                        }
                    } else {
                        map.insert(k, value);
                    }
                }
                None => {
                    *key = Some(match value {
                        Value::String(s) => s,
                        other => other.to_string(),
                    })
                }
            },
            None => root = Some(value),
        }
    }
    Ok(root.unwrap_or(Value::Null))
}

/// A plain scalar by YAML 1.2's core schema: null, booleans, integers, floats, else text.
fn plain_scalar(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(n) = text.parse::<i64>() {
        return Value::from(n);
    }
    if text.contains('.') || text.contains('e') || text.contains('E') {
        if let Some(n) = text
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .and_then(serde_json::Number::from_f64)
        {
            return Value::Number(n);
        }
    }
    Value::String(text.to_owned())
}

/// The model as `config` prints it.
pub fn render(model: &Value, format: ConfigFormat) -> String {
    match format {
        ConfigFormat::Json => serde_json::to_string_pretty(model).unwrap_or_default() + "\n",
        ConfigFormat::Yaml => {
            let mut out = String::new();
            yaml_value(&mut out, model, 0, false);
            out
        }
    }
}

/// Block-style YAML of `value` at `indent`; `inline` when the caller already wrote the
/// line's start (a `- ` of a list).
fn yaml_value(out: &mut String, value: &Value, indent: usize, inline: bool) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (i, (key, v)) in map.iter().enumerate() {
                if !(inline && i == 0) {
                    out.push_str(&pad);
                }
                out.push_str(&yaml_scalar_text(key));
                out.push(':');
                write_child(out, v, indent);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                if !(inline && i == 0) {
                    out.push_str(&pad);
                }
                out.push_str("- ");
                match v {
                    Value::Object(m) if !m.is_empty() => yaml_value(out, v, indent + 2, true),
                    Value::Array(a) if !a.is_empty() => {
                        out.push('\n');
                        yaml_value(out, v, indent + 2, false)
                    }
                    _ => {
                        out.push_str(&yaml_leaf(v));
                        out.push('\n');
                    }
                }
            }
        }
        leaf => {
            out.push_str(&yaml_leaf(leaf));
            out.push('\n');
        }
    }
}

fn write_child(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            yaml_value(out, v, indent + 2, false);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            yaml_value(out, v, indent + 2, false);
        }
        leaf => {
            out.push(' ');
            out.push_str(&yaml_leaf(leaf));
            out.push('\n');
        }
    }
}

fn yaml_leaf(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => yaml_scalar_text(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// A string plain when YAML reads it back as the same string, else double-quoted.
fn yaml_scalar_text(s: &str) -> String {
    let plain = !s.is_empty()
        && plain_scalar(s) == Value::String(s.to_owned())
        && !s.starts_with(|c: char| c.is_whitespace() || "-?:,[]{}#&*!|>'\"%@`".contains(c))
        && !s.ends_with(char::is_whitespace)
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.contains(['\n', '\t']);
    if plain {
        s.to_owned()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_reads_as_json_and_renders_back() {
        let text = "services:\n  web:\n    image: \"busybox\"\n    command: [sh, -c, 'echo hi']\n    x: &a {k: 1}\n    y: *a\n    n: 08\n";
        let v = parse_yaml(text, Path::new("c.yaml")).unwrap();
        assert_eq!(v["services"]["web"]["command"][2], "echo hi");
        assert_eq!(v["services"]["web"]["y"]["k"], 1);
        assert_eq!(v["services"]["web"]["n"], 8);
        let again = parse_yaml(&render(&v, ConfigFormat::Yaml), Path::new("r")).unwrap();
        assert_eq!(again, v);
    }

    #[test]
    fn a_yaml_error_names_file_line_and_column() {
        let e = parse_yaml("services:\n  web: [\n", Path::new("c.yaml")).unwrap_err();
        assert!(e.to_string().starts_with("c.yaml:"), "{e}");
    }
}
