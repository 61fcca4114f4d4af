//! berth's subset of the compose model, typed from the loader's canonical JSON. Tolerant:
//! unknown keys are ignored (the loader warns of them), numbers and strings are both taken
//! where compose files write either (durations, sizes, environment values).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A project's model: its services, networks and volumes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Model {
    pub name: String,
    pub services: BTreeMap<String, Service>,
    pub networks: BTreeMap<String, Network>,
    pub volumes: BTreeMap<String, Volume>,
}

impl Model {
    /// The model typed from the loader's value; a value of the wrong shape names the key.
    pub fn from_value(value: &Value) -> Result<Model, String> {
        Model::deserialize(value).map_err(|e| format!("invalid compose model: {e}"))
    }
}

/// A service, with what berth runs of it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Service {
    pub image: Option<String>,
    pub build: Option<Build>,
    pub container_name: Option<String>,
    pub command: Option<Vec<Text>>,
    pub entrypoint: Option<Vec<Text>>,
    pub environment: BTreeMap<String, Option<Text>>,
    pub ports: Vec<Port>,
    pub volumes: Vec<ServiceVolume>,
    pub networks: Option<BTreeMap<String, Option<ServiceNetwork>>>,
    pub network_mode: Option<String>,
    pub depends_on: BTreeMap<String, Dependency>,
    pub healthcheck: Option<Healthcheck>,
    pub restart: Option<String>,
    pub deploy: Option<Deploy>,
    pub scale: Option<u32>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    #[serde(deserialize_with = "devices")]
    pub devices: Vec<String>,
    pub init: Option<bool>,
    pub ulimits: BTreeMap<String, Ulimit>,
    #[serde(deserialize_with = "text_map")]
    pub sysctls: BTreeMap<String, String>,
    pub user: Option<Text>,
    pub working_dir: Option<String>,
    pub hostname: Option<String>,
    #[serde(deserialize_with = "text_map")]
    pub labels: BTreeMap<String, String>,
    pub stop_signal: Option<String>,
    pub stop_grace_period: Option<Text>,
    #[serde(deserialize_with = "one_or_many")]
    pub tmpfs: Vec<String>,
    pub shm_size: Option<Text>,
    #[serde(deserialize_with = "extra_hosts")]
    pub extra_hosts: Vec<String>,
    #[serde(deserialize_with = "one_or_many")]
    pub dns: Vec<String>,
    pub read_only: bool,
    pub privileged: bool,
    pub security_opt: Vec<String>,
    pub tty: bool,
    pub stdin_open: bool,
    pub profiles: Vec<String>,
}

impl Service {
    /// How many containers `up` runs: `--scale`, else `scale`, else `deploy.replicas`, else 1.
    pub fn replicas(&self) -> u32 {
        self.scale
            .or_else(|| self.deploy.as_ref().and_then(|d| d.replicas))
            .unwrap_or(1)
    }
}

/// Text written as a string, a number or a boolean in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(Text(s)),
            Value::Number(n) => Ok(Text(n.to_string())),
            Value::Bool(b) => Ok(Text(b.to_string())),
            other => Err(serde::de::Error::custom(format!(
                "expected a string, got {other}"
            ))),
        }
    }
}

impl Text {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn text_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    // A list of `KEY=VALUE` is the short form; the loader gives the map, but both read.
    match Value::deserialize(d)? {
        Value::Object(map) => Ok(map
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s,
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                (k, v)
            })
            .collect()),
        Value::Array(items) => Ok(items
            .iter()
            .filter_map(Value::as_str)
            .map(|e| match e.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (e.to_owned(), String::new()),
            })
            .collect()),
        _ => Ok(BTreeMap::new()),
    }
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(vec![s]),
        Value::Array(items) => Ok(items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()),
        _ => Ok(Vec::new()),
    }
}

/// `extra_hosts` as `NAME:IP` entries, from the list or the map form.
fn extra_hosts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Object(map) => Ok(map
            .into_iter()
            .flat_map(|(name, ips)| match ips {
                Value::Array(ips) => ips
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|ip| format!("{name}:{ip}"))
                    .collect::<Vec<_>>(),
                Value::String(ip) => vec![format!("{name}:{ip}")],
                _ => Vec::new(),
            })
            .collect()),
        Value::Array(items) => Ok(items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()),
        _ => Ok(Vec::new()),
    }
}

/// `devices` as `--device` text, from strings or `{source, target, permissions}`.
fn devices<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let Value::Array(items) = Value::deserialize(d)? else {
        return Ok(Vec::new());
    };
    Ok(items
        .into_iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(s),
            Value::Object(m) => {
                let source = m.get("source")?.as_str()?.to_owned();
                let target = m.get("target").and_then(Value::as_str).unwrap_or(&source);
                let perms = m
                    .get("permissions")
                    .and_then(Value::as_str)
                    .unwrap_or("rwm");
                Some(format!("{source}:{target}:{perms}"))
            }
            _ => None,
        })
        .collect())
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Build {
    pub context: Option<String>,
    pub dockerfile: Option<String>,
    pub args: BTreeMap<String, Option<Text>>,
    pub target: Option<String>,
    #[serde(deserialize_with = "text_map")]
    pub labels: BTreeMap<String, String>,
    pub tags: Vec<String>,
}

/// A published port in the long form.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Port {
    pub target: u16,
    pub published: Option<Text>,
    pub protocol: Option<String>,
    pub host_ip: Option<String>,
    pub mode: Option<String>,
}

impl Port {
    /// The port as `-p` writes it: `[IP:][HOST:]CONTAINER[/PROTO]`.
    pub fn publish_text(&self) -> String {
        let mut text = String::new();
        if let Some(ip) = self.host_ip.as_deref().filter(|ip| !ip.is_empty()) {
            text.push_str(ip);
            text.push(':');
        }
        match self.published.as_ref().map(Text::as_str) {
            Some(p) if !p.is_empty() => {
                text.push_str(p);
                text.push(':');
            }
            _ if !text.is_empty() => text.push(':'),
            _ => {}
        }
        text.push_str(&self.target.to_string());
        if let Some(proto) = self.protocol.as_deref().filter(|p| !p.is_empty()) {
            text.push('/');
            text.push_str(proto);
        }
        text
    }
}

/// A mount in the long form.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ServiceVolume {
    #[serde(rename = "type")]
    pub kind: String,
    pub source: Option<String>,
    pub target: String,
    pub read_only: bool,
    pub bind: Option<BindOptions>,
    pub volume: Option<VolumeOptions>,
    pub tmpfs: Option<TmpfsOptions>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BindOptions {
    pub create_host_path: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct VolumeOptions {
    pub nocopy: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TmpfsOptions {
    pub size: Option<Text>,
}

/// A service's place on one network.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ServiceNetwork {
    pub aliases: Vec<String>,
    pub ipv4_address: Option<String>,
}

/// A `depends_on` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Dependency {
    pub condition: Condition,
    pub restart: bool,
    pub required: bool,
}

impl Default for Dependency {
    fn default() -> Self {
        Dependency {
            condition: Condition::Started,
            restart: false,
            required: true,
        }
    }
}

/// What a dependant waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Condition {
    #[default]
    #[serde(rename = "service_started")]
    Started,
    #[serde(rename = "service_healthy")]
    Healthy,
    #[serde(rename = "service_completed_successfully")]
    CompletedSuccessfully,
}

impl Condition {
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Started => "service_started",
            Condition::Healthy => "service_healthy",
            Condition::CompletedSuccessfully => "service_completed_successfully",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Healthcheck {
    #[serde(deserialize_with = "one_or_many")]
    pub test: Vec<String>,
    pub interval: Option<Text>,
    pub timeout: Option<Text>,
    pub start_period: Option<Text>,
    pub start_interval: Option<Text>,
    pub retries: Option<i64>,
    pub disable: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Deploy {
    pub replicas: Option<u32>,
    pub resources: Option<Resources>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Resources {
    pub limits: Option<Limits>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Limits {
    pub cpus: Option<Text>,
    pub memory: Option<Text>,
    pub pids: Option<i64>,
}

/// A ulimit as a single number or `{soft, hard}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Ulimit {
    Single(i64),
    Pair { soft: i64, hard: i64 },
}

impl Ulimit {
    /// As `--ulimit NAME=SOFT[:HARD]`.
    pub fn flag_text(&self, name: &str) -> String {
        match self {
            Ulimit::Single(n) => format!("{name}={n}"),
            Ulimit::Pair { soft, hard } => format!("{name}={soft}:{hard}"),
        }
    }
}

/// A top-level network.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Network {
    pub name: Option<String>,
    pub driver: Option<String>,
    pub external: bool,
    pub internal: bool,
    #[serde(deserialize_with = "text_map")]
    pub labels: BTreeMap<String, String>,
    pub ipam: Option<Ipam>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Ipam {
    pub config: Vec<IpamConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct IpamConfig {
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub ip_range: Option<String>,
}

/// A top-level volume.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Volume {
    pub name: Option<String>,
    pub external: bool,
    #[serde(deserialize_with = "text_map")]
    pub labels: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_form_types_with_numbers_or_strings() {
        let v = serde_json::json!({
            "name": "p",
            "services": {"web": {
                "image": "busybox", "environment": {"A": 1, "B": null},
                "ports": [{"target": 80, "published": "8080", "protocol": "tcp"}],
                "depends_on": {"db": {"condition": "service_healthy", "required": true}},
                "healthcheck": {"test": ["CMD-SHELL", "true"], "interval": 10},
                "deploy": {"replicas": 2}, "unknown": {"x": 1}
            }}
        });
        let m = Model::from_value(&v).unwrap();
        let web = &m.services["web"];
        assert_eq!(web.environment["A"], Some(Text("1".into())));
        assert_eq!(web.environment["B"], None);
        assert_eq!(web.ports[0].publish_text(), "8080:80/tcp");
        assert_eq!(web.depends_on["db"].condition, Condition::Healthy);
        assert_eq!(web.replicas(), 2);
    }
}
