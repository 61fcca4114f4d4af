//! Printing the model as `docker compose config` does: block YAML with two-space indentation
//! (sequences indented under their key, as go-yaml v3 prints them), or indented JSON; keys
//! in compose-go's order: a struct's fields as its Go type declares them, a map's keys
//! sorted, and any key berth does not know after the fields, sorted.

use serde_json::{Map, Value};

/// Output format of [`render`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigFormat {
    /// Block YAML, as `docker compose config` prints by default.
    Yaml,
    /// Indented JSON, as `docker compose config --format json` prints.
    Json,
}

/// What struct of compose-go's a value of the model is. `docker compose config` marshals
/// Go structs, whose fields print in declaration order, and maps, whose keys print sorted;
/// the model here keeps neither order, so the printer puts it back from these shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// A map, or a value berth does not know the struct of: keys sorted.
    Map,
    Project,
    Service,
    Build,
    Health,
    Deploy,
    Resources,
    Resource,
    RestartPolicy,
    Placement,
    UpdateConfig,
    Logging,
    Port,
    Mount,
    MountBind,
    MountVolume,
    MountTmpfs,
    Device,
    Dependency,
    ServiceNetwork,
    Ulimit,
    Blkio,
    FileReference,
    Extends,
    Network,
    Ipam,
    IpamPool,
    Volume,
    FileObject,
    /// A map whose every value is of the inner shape (`services`, `depends_on`...).
    MapOf(&'static Shape),
}

impl Shape {
    /// The struct's fields in compose-go's declaration order (the `yaml` tags).
    fn fields(self) -> &'static [&'static str] {
        match self {
            Shape::Map | Shape::MapOf(_) => &[],
            Shape::Project => &[
                "name", "services", "networks", "volumes", "secrets", "configs", "models",
            ],
            Shape::Service => &[
                "name",
                "profiles",
                "annotations",
                "attach",
                "build",
                "develop",
                "blkio_config",
                "cap_add",
                "cap_drop",
                "cgroup_parent",
                "cgroup",
                "cpu_count",
                "cpu_percent",
                "cpu_period",
                "cpu_quota",
                "cpu_rt_period",
                "cpu_rt_runtime",
                "cpus",
                "cpuset",
                "cpu_shares",
                "command",
                "configs",
                "container_name",
                "credential_spec",
                "depends_on",
                "deploy",
                "device_cgroup_rules",
                "devices",
                "dns",
                "dns_opt",
                "dns_search",
                "dockerfile",
                "domainname",
                "entrypoint",
                "provider",
                "environment",
                "env_file",
                "expose",
                "extends",
                "external_links",
                "extra_hosts",
                "group_add",
                "gpus",
                "hostname",
                "healthcheck",
                "image",
                "init",
                "ipc",
                "isolation",
                "labels",
                "label_file",
                "links",
                "logging",
                "log_driver",
                "log_opt",
                "mem_limit",
                "mem_reservation",
                "memswap_limit",
                "mem_swappiness",
                "mac_address",
                "models",
                "net",
                "network_mode",
                "networks",
                "oom_kill_disable",
                "oom_score_adj",
                "pid",
                "pids_limit",
                "platform",
                "ports",
                "privileged",
                "pull_policy",
                "read_only",
                "restart",
                "runtime",
                "scale",
                "secrets",
                "security_opt",
                "shm_size",
                "stdin_open",
                "stop_grace_period",
                "stop_signal",
                "storage_opt",
                "sysctls",
                "tmpfs",
                "tty",
                "ulimits",
                "use_api_socket",
                "user",
                "userns_mode",
                "uts",
                "volume_driver",
                "volumes",
                "volumes_from",
                "working_dir",
                "pre_start",
                "post_start",
                "pre_stop",
            ],
            Shape::Build => &[
                "context",
                "dockerfile",
                "dockerfile_inline",
                "entitlements",
                "args",
                "provenance",
                "sbom",
                "ssh",
                "labels",
                "cache_from",
                "cache_to",
                "no_cache",
                "no_cache_filter",
                "additional_contexts",
                "pull",
                "extra_hosts",
                "isolation",
                "network",
                "target",
                "secrets",
                "shm_size",
                "tags",
                "ulimits",
                "platforms",
                "privileged",
            ],
            Shape::Health => &[
                "test",
                "timeout",
                "interval",
                "retries",
                "start_period",
                "start_interval",
                "disable",
            ],
            Shape::Deploy => &[
                "mode",
                "replicas",
                "labels",
                "update_config",
                "rollback_config",
                "resources",
                "restart_policy",
                "placement",
                "endpoint_mode",
            ],
            Shape::Resources => &["limits", "reservations"],
            Shape::Resource => &["cpus", "memory", "pids", "devices", "generic_resources"],
            Shape::RestartPolicy => &["condition", "delay", "max_attempts", "window"],
            Shape::Placement => &["constraints", "preferences", "max_replicas_per_node"],
            Shape::UpdateConfig => &[
                "parallelism",
                "delay",
                "failure_action",
                "monitor",
                "max_failure_ratio",
                "order",
            ],
            Shape::Logging => &["driver", "options"],
            Shape::Port => &[
                "name",
                "mode",
                "host_ip",
                "target",
                "published",
                "protocol",
                "app_protocol",
            ],
            Shape::Mount => &[
                "type",
                "source",
                "target",
                "read_only",
                "consistency",
                "bind",
                "volume",
                "tmpfs",
                "image",
            ],
            Shape::MountBind => &["selinux", "propagation", "create_host_path", "recursive"],
            Shape::MountVolume => &["labels", "nocopy", "subpath"],
            Shape::MountTmpfs => &["size", "mode"],
            Shape::Device => &["source", "target", "permissions"],
            Shape::Dependency => &["condition", "restart", "required"],
            Shape::ServiceNetwork => &[
                "aliases",
                "driver_opts",
                "gw_priority",
                "interface_name",
                "ipv4_address",
                "ipv6_address",
                "link_local_ips",
                "mac_address",
                "priority",
            ],
            Shape::Ulimit => &["single", "soft", "hard"],
            Shape::Blkio => &[
                "weight",
                "weight_device",
                "device_read_bps",
                "device_read_iops",
                "device_write_bps",
                "device_write_iops",
            ],
            Shape::FileReference => &["source", "target", "uid", "gid", "mode"],
            Shape::Extends => &["file", "service"],
            Shape::Network => &[
                "name",
                "driver",
                "driver_opts",
                "ipam",
                "external",
                "internal",
                "attachable",
                "labels",
                "enable_ipv4",
                "enable_ipv6",
            ],
            Shape::Ipam => &["driver", "config", "options"],
            Shape::IpamPool => &["subnet", "gateway", "ip_range", "aux_addresses"],
            Shape::Volume => &["name", "driver", "driver_opts", "external", "labels"],
            Shape::FileObject => &[
                "name",
                "file",
                "environment",
                "content",
                "external",
                "labels",
                "driver",
                "driver_opts",
                "template_driver",
            ],
        }
    }

    /// The shape of the value under `key` (of an item, for a list).
    fn child(self, key: &str) -> Shape {
        match (self, key) {
            (Shape::MapOf(inner), _) => *inner,
            (Shape::Project, "services") => Shape::MapOf(&Shape::Service),
            (Shape::Project, "networks") => Shape::MapOf(&Shape::Network),
            (Shape::Project, "volumes") => Shape::MapOf(&Shape::Volume),
            (Shape::Project, "secrets" | "configs") => Shape::MapOf(&Shape::FileObject),
            (Shape::Service, "build") => Shape::Build,
            (Shape::Service, "healthcheck") => Shape::Health,
            (Shape::Service, "deploy") => Shape::Deploy,
            (Shape::Service, "logging") => Shape::Logging,
            (Shape::Service, "ports") => Shape::Port,
            (Shape::Service, "volumes") => Shape::Mount,
            (Shape::Service, "devices") => Shape::Device,
            (Shape::Service, "depends_on") => Shape::MapOf(&Shape::Dependency),
            (Shape::Service, "networks") => Shape::MapOf(&Shape::ServiceNetwork),
            (Shape::Service | Shape::Build, "ulimits") => Shape::MapOf(&Shape::Ulimit),
            (Shape::Service, "blkio_config") => Shape::Blkio,
            (Shape::Service, "secrets" | "configs") => Shape::FileReference,
            (Shape::Service, "extends") => Shape::Extends,
            (Shape::Deploy, "resources") => Shape::Resources,
            (Shape::Deploy, "restart_policy") => Shape::RestartPolicy,
            (Shape::Deploy, "placement") => Shape::Placement,
            (Shape::Deploy, "update_config" | "rollback_config") => Shape::UpdateConfig,
            (Shape::Resources, "limits" | "reservations") => Shape::Resource,
            (Shape::Mount, "bind") => Shape::MountBind,
            (Shape::Mount, "volume") => Shape::MountVolume,
            (Shape::Mount, "tmpfs") => Shape::MountTmpfs,
            (Shape::Network, "ipam") => Shape::Ipam,
            (Shape::Ipam, "config") => Shape::IpamPool,
            _ => Shape::Map,
        }
    }

    /// `m`'s entries in print order: the struct's fields in order, then any other key
    /// (extensions, keys berth passes through) sorted.
    fn entries(self, m: &Map<String, Value>) -> Vec<(&String, &Value)> {
        let fields = self.fields();
        let mut out: Vec<(&String, &Value)> =
            fields.iter().filter_map(|f| m.get_key_value(*f)).collect();
        out.extend(m.iter().filter(|(k, _)| !fields.contains(&k.as_str())));
        out
    }
}

/// The model printed in `format`, ending with a newline.
pub fn render(model: &Value, format: ConfigFormat) -> String {
    let mut out = String::new();
    match (format, model) {
        (ConfigFormat::Json, _) => {
            json(&mut out, 0, Shape::Project, model);
            out.push('\n');
        }
        (ConfigFormat::Yaml, Value::Object(m)) => {
            for (k, v) in Shape::Project.entries(m) {
                entry(&mut out, 0, Shape::Project, k, v);
            }
        }
        (ConfigFormat::Yaml, other) => out = format!("{}\n", scalar(other)),
    }
    out
}

/// Indented JSON as Go's `json.MarshalIndent(v, "", "  ")` prints it.
fn json(out: &mut String, indent: usize, shape: Shape, v: &Value) {
    let pad = " ".repeat(indent + 2);
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push_str("{\n");
            let entries = shape.entries(m);
            for (i, (k, cv)) in entries.iter().enumerate() {
                out.push_str(&format!("{pad}{}: ", Value::String((*k).clone())));
                json(out, indent + 2, shape.child(k), cv);
                out.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
            }
            out.push_str(&format!("{}}}", " ".repeat(indent)));
        }
        Value::Array(a) if !a.is_empty() => {
            out.push_str("[\n");
            for (i, item) in a.iter().enumerate() {
                out.push_str(&pad);
                json(out, indent + 2, shape, item);
                out.push_str(if i + 1 < a.len() { ",\n" } else { "\n" });
            }
            out.push_str(&format!("{}]", " ".repeat(indent)));
        }
        other => out.push_str(&other.to_string()),
    }
}

/// `key: v` at `indent`, `key` being a field or key of a value of shape `parent`.
fn entry(out: &mut String, indent: usize, parent: Shape, key: &str, v: &Value) {
    let shape = parent.child(key);
    let pad = " ".repeat(indent);
    let k = scalar(&Value::String(key.to_string()));
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push_str(&format!("{pad}{k}:\n"));
            for (ck, cv) in shape.entries(m) {
                entry(out, indent + 2, shape, ck, cv);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            out.push_str(&format!("{pad}{k}:\n"));
            for item in a {
                seq_item(out, indent + 2, shape, item);
            }
        }
        other => out.push_str(&format!("{pad}{k}: {}\n", scalar(other))),
    }
}

/// One item of a list whose items are of `shape`.
fn seq_item(out: &mut String, indent: usize, shape: Shape, v: &Value) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) if !m.is_empty() => {
            // The first key goes on the dash line, the rest under it.
            let mut first = true;
            for (k, cv) in shape.entries(m) {
                let mut line = String::new();
                entry(&mut line, indent + 2, shape, k, cv);
                if first {
                    line.replace_range(indent..indent + 2, "- ");
                    first = false;
                }
                out.push_str(&line);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            out.push_str(&format!("{pad}-\n"));
            for item in a {
                seq_item(out, indent + 2, shape, item);
            }
        }
        other => out.push_str(&format!("{pad}- {}\n", scalar(other))),
    }
}

/// A scalar (or empty collection) on one line, quoted when a plain scalar would read back
/// as something else.
fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        Value::String(s) => {
            if needs_quotes(s) {
                // JSON string syntax is valid YAML double-quoted syntax.
                Value::String(s.clone()).to_string()
            } else {
                s.clone()
            }
        }
    }
}

fn needs_quotes(s: &str) -> bool {
    if s.is_empty() || s.trim() != s {
        return true;
    }
    if matches!(
        s,
        "~" | "null"
            | "Null"
            | "NULL"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "y"
            | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
            | "<<"
    ) {
        return true;
    }
    let first = s.chars().next().unwrap_or(' ');
    // `-x` is a plain word; `-`, `- x` and `---` are not.
    let dash_word = first == '-' && s.len() > 1 && !s.starts_with("- ") && !s.starts_with("---");
    if !dash_word && "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return true;
    }
    // `8080:80` is a string in YAML 1.2 but a base-60 number to YAML 1.1 readers.
    if looks_numeric(s) || (first.is_ascii_digit() && s.contains(':')) {
        return true;
    }
    s.contains(": ") || s.contains(" #") || s.ends_with(':') || s.chars().any(|c| c.is_control())
}

fn looks_numeric(s: &str) -> bool {
    let t = s.trim_start_matches(['-', '+']);
    // `10.5.0.5` is no number to any YAML reader: an address prints plain, as go-yaml
    // prints it.
    !t.is_empty()
        && t.matches('.').count() < 2
        && (t.starts_with('.') || t.chars().next().is_some_and(|c| c.is_ascii_digit()))
        && t.chars().all(|c| {
            c.is_ascii_hexdigit() || matches!(c, '.' | '_' | 'x' | 'o' | 'e' | 'E' | '+' | '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_shape() {
        let m = json!({
            "services": {"web": {"command": ["echo", "8080", "a: b"], "ports": [{"target": 80, "mode": "ingress"}], "environment": {"E": null, "F": ""}}},
            "name": "p",
            "volumes": {}
        });
        let y = render(&m, ConfigFormat::Yaml);
        assert_eq!(
            y,
            "name: p\nservices:\n  web:\n    command:\n      - echo\n      - \"8080\"\n      - \"a: b\"\n    environment:\n      E: null\n      F: \"\"\n    ports:\n      - mode: ingress\n        target: 80\nvolumes: {}\n"
        );
        let j = render(&m, ConfigFormat::Json);
        let back: Value = serde_json::from_str(&j).expect("json");
        assert_eq!(back, m);
        assert!(
            j.starts_with("{\n  \"name\": \"p\",\n  \"services\""),
            "{j}"
        );
    }

    #[test]
    fn keys_print_in_compose_gos_field_order_and_maps_sorted() {
        let m = json!({"services": {"s": {
            "ports": [{"target": 80, "published": "8080", "protocol": "tcp", "mode": "ingress"}],
            "image": "i", "command": ["a"], "x-extra": 1, "environment": {"B": "2", "A": "1"}}},
            "name": "p"});
        let j = render(&m, ConfigFormat::Json);
        let at = |needle: &str| j.find(needle).unwrap_or_else(|| panic!("{needle} in {j}"));
        assert!(at("\"command\"") < at("\"environment\""));
        assert!(at("\"environment\"") < at("\"image\""));
        assert!(at("\"image\"") < at("\"ports\""));
        assert!(at("\"ports\"") < at("\"x-extra\""));
        assert!(at("\"A\"") < at("\"B\""));
        assert!(at("\"mode\"") < at("\"target\""));
        assert!(at("\"target\"") < at("\"published\""));
        assert!(at("\"published\"") < at("\"protocol\""));
        let y = render(&m, ConfigFormat::Yaml);
        assert!(y.contains("    ports:\n      - mode: ingress\n        target: 80\n        published: \"8080\"\n        protocol: tcp\n"), "{y}");
    }

    #[test]
    fn yaml_reads_back_as_the_model() {
        let m = json!({"name": "p", "services": {"s": {"labels": {"a": "-1", "b": "- x", "c": "yes", "d": "multi\nline", "e": "#x", "f": "-flag", "g": "10.5.0.5", "h": "1.5"}, "x": [[1, 2], []]}}});
        let y = render(&m, ConfigFormat::Yaml);
        let docs = super::super::yaml::parse(&y).expect("valid YAML");
        let back = super::super::to_plain(&docs[0]);
        assert_eq!(back, m, "{y}");
    }
}
