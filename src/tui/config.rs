//! The container detail's Config tab, as lines: the container as `inspect` shows it (the
//! operations layer's shape, so Docker's defaults and meanings come from one place), read
//! into typed fields, with only what is set, in readable units, under small headings.
//! Built off the draw loop; every text the container or its image controls (labels, env,
//! sysctls, a probe's output) is made safe to draw here, once.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::{
    binary_size, go_duration, truncate, Engine, Error, HealthConfig, Result, DEFAULT_SHM_SIZE,
};

/// One line of the tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ConfigLine {
    /// A small heading over a group of fields.
    Heading(&'static str),
    /// A name and its value; a value of a list past its first has an empty name.
    Field { name: &'static str, value: String },
    /// An entry of a list shown whole under its heading (env, labels, a probe's output).
    Item(String),
}

/// The most characters of one value drawn: a screen is narrower, and a label or a probe's
/// output may be megabytes.
pub const VALUE_CHARS: usize = 256;
/// The most entries of one list (env, labels, sysctls...) drawn; `inspect` has them all.
pub const LIST_ITEMS: usize = 200;
/// The lines of the last probe's output drawn.
pub const OUTPUT_LINES: usize = 6;

/// The container `id`'s lines, from its inspect object.
pub fn load(engine: &Engine, id: &str) -> Result<Vec<ConfigLine>> {
    let record = engine.container(id)?;
    let inspected = crate::ops::inspect::container(engine, &record);
    // Inspect shows Docker's unset PidsLimit for berth's default; the tab shows the limit
    // that applies.
    lines_with_default_pids(inspected, record.config.resources.pids_limit)
}

/// The lines of an inspect object (Docker's shape, as `ops::inspect::container` makes it).
pub fn lines(inspected: Value) -> Result<Vec<ConfigLine>> {
    lines_with_default_pids(inspected, None)
}

/// [`lines`], with the PIDs limit that applies when inspect shows none asked for.
fn lines_with_default_pids(inspected: Value, default_pids: Option<i64>) -> Result<Vec<ConfigLine>> {
    let healthcheck = HealthConfig::from_image(inspected.pointer("/Config/Healthcheck"))?;
    let c: Inspected = serde_json::from_value(inspected)
        .map_err(|e| Error::invalid("container", "inspect object", e.to_string()))?;
    let mut out = Lines::default();
    general(&mut out, &c);
    restart_and_stop(&mut out, &c);
    health(&mut out, &c, healthcheck.as_ref());
    resources(&mut out, &c.host_config, default_pids);
    security(&mut out, &c.host_config);
    namespaces(&mut out, &c.host_config);
    let exposed: Vec<String> = c
        .config
        .exposed_ports
        .unwrap_or_default()
        .into_keys()
        .collect();
    out.group("Ports");
    out.list("Exposed", exposed);
    out.group("Env");
    out.items(c.config.env.unwrap_or_default());
    out.group("Labels");
    out.items(
        c.config
            .labels
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}")),
    );
    Ok(out.done())
}

/// The lines being built: a heading is written only once a field under it is.
#[derive(Default)]
struct Lines {
    lines: Vec<ConfigLine>,
    heading: Option<&'static str>,
}

impl Lines {
    fn group(&mut self, heading: &'static str) {
        self.heading = Some(heading);
    }

    fn open(&mut self) {
        if let Some(heading) = self.heading.take() {
            self.lines.push(ConfigLine::Heading(heading));
        }
    }

    fn field(&mut self, name: &'static str, value: impl AsRef<str>) {
        self.open();
        self.lines.push(ConfigLine::Field {
            name,
            value: clean(value.as_ref()),
        });
    }

    /// A field whose value is set: non-empty.
    fn set(&mut self, name: &'static str, value: &str) {
        if !value.is_empty() {
            self.field(name, value);
        }
    }

    /// A list under one name: its first entry beside the name, the others below it.
    fn list(&mut self, name: &'static str, values: impl IntoIterator<Item = String>) {
        let mut first = true;
        let mut count = 0;
        for value in values {
            count += 1;
            if count > LIST_ITEMS {
                continue;
            }
            self.field(if first { name } else { "" }, value);
            first = false;
        }
        self.more(count);
    }

    /// Entries under the heading, each on its own line.
    fn items(&mut self, values: impl IntoIterator<Item = String>) {
        let mut count = 0;
        for value in values {
            count += 1;
            if count <= LIST_ITEMS {
                self.open();
                self.lines.push(ConfigLine::Item(clean(&value)));
            }
        }
        self.more(count);
    }

    fn more(&mut self, count: usize) {
        if count > LIST_ITEMS {
            self.lines.push(ConfigLine::Item(format!(
                "… {} more (berth inspect shows them all)",
                count - LIST_ITEMS
            )));
        }
    }

    fn done(self) -> Vec<ConfigLine> {
        self.lines
    }
}

/// `text` safe to draw on one line: terminal escape sequences dropped, other control
/// characters (newlines, tabs, C1) and bidirectional overrides as spaces, at most
/// [`VALUE_CHARS`] characters.
pub fn clean(text: &str) -> String {
    // Bounded before the escape parser walks it: a value may be megabytes.
    let end = text
        .char_indices()
        .nth(VALUE_CHARS * 4)
        .map_or(text.len(), |(at, _)| at);
    // Line breaks and tabs part words: spaces, before the parser drops them.
    let spaced = text[..end].replace(['\n', '\r', '\t'], " ");
    let stripped = strip_ansi_escapes::strip_str(&spaced);
    let spaced: String = stripped
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
                ' '
            } else {
                c
            }
        })
        .collect();
    if end < text.len() {
        truncate(&(spaced + "…"), VALUE_CHARS)
    } else {
        truncate(&spaced, VALUE_CHARS)
    }
}

/// A size in binary units with a space: `64 MiB`.
fn size(bytes: i64) -> String {
    let text = binary_size(bytes.max(0) as u64);
    match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => format!("{} {}", &text[..at], &text[at..]),
        None => text,
    }
}

/// Docker's zero time (`0001-01-01T00:00:00Z`) as `-`, any other to the second.
fn time(text: &str) -> String {
    match DateTime::parse_from_rfc3339(text) {
        Ok(t) if t.year_ce().1 > 1 => t
            .with_timezone(&Utc)
            .to_rfc3339_opts(SecondsFormat::Secs, true),
        _ => "-".into(),
    }
}

fn general(out: &mut Lines, c: &Inspected) {
    let image_id = c.image.strip_prefix("sha256:").unwrap_or(&c.image);
    let short: String = image_id.chars().take(12).collect();
    let command: Vec<&str> = std::iter::once(c.path.as_str())
        .chain(c.args.iter().map(String::as_str))
        .collect();
    let finished = time(&c.state.finished_at);
    out.field("ID", &c.id);
    out.field("Image", format!("{} ({short})", c.config.image));
    out.field("Command", command.join(" "));
    out.field("Created", time(&c.created));
    out.field("Started", time(&c.state.started_at));
    out.field("Finished", &finished);
    let exit = if finished == "-" {
        "-".to_owned()
    } else {
        c.state.exit_code.to_string()
    };
    let oom = if c.state.oom_killed {
        " (OOM killed)"
    } else {
        ""
    };
    out.field("Exit code", exit + oom);
    out.set("Error", &c.state.error);
    out.set("Hostname", &c.config.hostname);
    out.set("Domain", &c.config.domainname);
    out.set("User", &c.config.user);
    out.set("Workdir", &c.config.working_dir);
}

fn restart_and_stop(out: &mut Lines, c: &Inspected) {
    out.group("Restart and stop");
    let policy = &c.host_config.restart_policy;
    if !matches!(policy.name.as_str(), "" | "no") {
        let limit = match policy.maximum_retry_count {
            0 => String::new(),
            n => format!(":{n}"),
        };
        out.field(
            "Restart",
            format!(
                "{}{limit} (restarted {} times)",
                policy.name, c.restart_count
            ),
        );
    }
    if c.host_config.auto_remove {
        out.field("Remove", "on exit (--rm)");
    }
    let config = &c.config;
    if config.stop_signal.is_some() || config.stop_timeout.is_some() {
        // Docker's defaults for what is unset: SIGTERM, then SIGKILL after 10 s.
        let timeout = match config.stop_timeout {
            Some(t) if t < 0 => "no timeout".to_owned(),
            Some(t) => format!("{t}s"),
            None => "10s".to_owned(),
        };
        let signal = config.stop_signal.as_deref().unwrap_or("SIGTERM");
        out.field("Stop", format!("{signal}, SIGKILL after {timeout}"));
    }
}

fn health(out: &mut Lines, c: &Inspected, check: Option<&HealthConfig>) {
    out.group("Health");
    let Some(check) = check else {
        return;
    };
    if check.test.first().is_some_and(|t| t == "NONE") {
        out.field("Health", "none (--no-healthcheck)");
        return;
    }
    if check.probe_command().is_none() {
        return;
    }
    let state = c.state.health.as_ref();
    let status = state.map_or("not run yet", |h| h.status.as_str());
    out.field(
        "Health",
        format!(
            "{status}: {} (every {}, {} retries)",
            check.test[1..].join(" "),
            go_duration(check.interval()),
            check.retries()
        ),
    );
    let mut timing = format!("timeout {}", go_duration(check.timeout()));
    if !check.start_period().is_zero() {
        timing += &format!(
            "; every {} during a {} start period",
            go_duration(check.start_interval()),
            go_duration(check.start_period())
        );
    }
    out.field("Probe", timing);
    let Some(state) = state else {
        return;
    };
    if state.failing_streak > 0 {
        out.field(
            "Failing",
            format!("{} probes in a row", state.failing_streak),
        );
    }
    if let Some(last) = state.log.last() {
        out.field(
            "Last probe",
            format!("exit {} at {}", last.exit_code, time(&last.end)),
        );
        let lines: Vec<&str> = last
            .output
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        let shown = &lines[lines.len().saturating_sub(OUTPUT_LINES)..];
        if shown.len() < lines.len() {
            out.items([format!("… {} lines before", lines.len() - shown.len())]);
        }
        out.items(shown.iter().map(|l| format!("> {l}")));
    }
}

fn resources(out: &mut Lines, h: &HostConfig, default_pids: Option<i64>) {
    out.group("Resources");
    if h.memory > 0 {
        out.field("Memory", size(h.memory));
    }
    match h.memory_swap {
        -1 => out.field("Swap", "unlimited"),
        swap if swap > 0 => out.field("Mem + swap", size(swap)),
        _ => {}
    }
    if h.memory_reservation > 0 {
        out.field("Reservation", size(h.memory_reservation));
    }
    if h.oom_kill_disable == Some(true) {
        out.field("OOM killer", "disabled");
    }
    if h.nano_cpus > 0 {
        let cpus = format!("{:.3}", h.nano_cpus as f64 / 1e9);
        let cpus = cpus.trim_end_matches('0').trim_end_matches('.');
        let unit = if cpus == "1" { "CPU" } else { "CPUs" };
        out.field("CPUs", format!("{cpus} {unit}"));
    }
    if h.cpu_shares > 0 {
        out.field("CPU shares", h.cpu_shares.to_string());
    }
    if h.cpu_period > 0 {
        out.field("CPU period", format!("{} µs", h.cpu_period));
    }
    if h.cpu_quota > 0 {
        out.field("CPU quota", format!("{} µs", h.cpu_quota));
    }
    out.set("CPU set", &h.cpuset_cpus);
    out.set("Mem nodes", &h.cpuset_mems);
    if let Some(pids) = h.pids_limit.filter(|p| *p > 0) {
        out.field("PIDs limit", pids.to_string());
    } else if let Some(pids) = default_pids.filter(|p| *p > 0) {
        out.field("PIDs limit", format!("{pids} (default)"));
    }
    if h.blkio_weight > 0 {
        out.field("I/O weight", h.blkio_weight.to_string());
    }
    out.list(
        "Dev. weight",
        h.blkio_weight_device
            .iter()
            .flatten()
            .map(|d| format!("weight {} on {}", d.weight, d.path)),
    );
    for (name, unit, devices) in [
        ("Read rate", "/s", &h.blkio_device_read_bps),
        ("Write rate", "/s", &h.blkio_device_write_bps),
        ("Read IOPS", "", &h.blkio_device_read_iops),
        ("Write IOPS", "", &h.blkio_device_write_iops),
    ] {
        out.list(
            name,
            devices.iter().flatten().map(|d| {
                let rate = if unit.is_empty() {
                    d.rate.to_string()
                } else {
                    size(d.rate) + unit
                };
                format!("{rate} on {}", d.path)
            }),
        );
    }
    if h.shm_size > 0 && h.shm_size != DEFAULT_SHM_SIZE as i64 {
        out.field("/dev/shm", size(h.shm_size));
    }
    out.list(
        "Ulimits",
        h.ulimits
            .iter()
            .flatten()
            .map(|u| format!("{}={}:{}", u.name, u.soft, u.hard)),
    );
    out.set("Cgroup", &h.cgroup_parent);
}

fn security(out: &mut Lines, h: &HostConfig) {
    out.group("Security");
    if h.privileged {
        out.field(
            "Privileged",
            "yes: every capability and host device, no seccomp",
        );
    }
    if h.readonly_rootfs {
        out.field("Root fs", "read-only");
    }
    out.list("Cap add", h.cap_add.iter().flatten().cloned());
    out.list("Cap drop", h.cap_drop.iter().flatten().cloned());
    out.list("Options", h.security_opt.iter().flatten().cloned());
    if h.init == Some(true) {
        out.field("Init", "yes (reaps zombies, forwards signals)");
    }
    out.list("Groups", h.group_add.iter().flatten().cloned());
    out.list(
        "Devices",
        h.devices.iter().flatten().map(|d| {
            format!(
                "{} → {} ({})",
                d.path_on_host, d.path_in_container, d.cgroup_permissions
            )
        }),
    );
    out.list(
        "Dev. rules",
        h.device_cgroup_rules.iter().flatten().cloned(),
    );
    out.list(
        "Sysctls",
        h.sysctls.iter().flatten().map(|(k, v)| format!("{k}={v}")),
    );
    if h.oom_score_adj != 0 {
        out.field("OOM score", h.oom_score_adj.to_string());
    }
}

fn namespaces(out: &mut Lines, h: &HostConfig) {
    out.group("Namespaces");
    // A container's own namespace is Docker's default: "" or "private".
    for (name, mode) in [
        ("PID", &h.pid_mode),
        ("IPC", &h.ipc_mode),
        ("UTS", &h.uts_mode),
        ("User", &h.userns_mode),
        ("Cgroup", &h.cgroupns_mode),
    ] {
        if !matches!(mode.as_str(), "" | "private") {
            out.field(name, mode);
        }
    }
}

// ---- the parts of Docker's inspect shape the tab reads ----

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Inspected {
    id: String,
    created: String,
    path: String,
    args: Vec<String>,
    state: State,
    image: String,
    restart_count: u64,
    host_config: HostConfig,
    config: Config,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct State {
    #[serde(rename = "OOMKilled")]
    oom_killed: bool,
    exit_code: i64,
    error: String,
    started_at: String,
    finished_at: String,
    health: Option<Health>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Health {
    status: String,
    failing_streak: u64,
    log: Vec<Probe>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Probe {
    end: String,
    exit_code: i64,
    output: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct RestartPolicy {
    name: String,
    maximum_retry_count: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Device {
    path_on_host: String,
    path_in_container: String,
    cgroup_permissions: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Ulimit {
    name: String,
    soft: i64,
    hard: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ThrottleDevice {
    path: String,
    rate: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct WeightDevice {
    path: String,
    weight: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct HostConfig {
    restart_policy: RestartPolicy,
    auto_remove: bool,
    cap_add: Option<Vec<String>>,
    cap_drop: Option<Vec<String>>,
    group_add: Option<Vec<String>>,
    ipc_mode: String,
    pid_mode: String,
    #[serde(rename = "UTSMode")]
    uts_mode: String,
    userns_mode: String,
    cgroupns_mode: String,
    cgroup_parent: String,
    oom_score_adj: i64,
    privileged: bool,
    readonly_rootfs: bool,
    security_opt: Option<Vec<String>>,
    sysctls: Option<BTreeMap<String, String>>,
    shm_size: i64,
    init: Option<bool>,
    memory: i64,
    memory_swap: i64,
    memory_reservation: i64,
    oom_kill_disable: Option<bool>,
    nano_cpus: i64,
    cpu_shares: i64,
    cpu_period: i64,
    cpu_quota: i64,
    cpuset_cpus: String,
    cpuset_mems: String,
    pids_limit: Option<i64>,
    blkio_weight: i64,
    blkio_weight_device: Option<Vec<WeightDevice>>,
    blkio_device_read_bps: Option<Vec<ThrottleDevice>>,
    blkio_device_write_bps: Option<Vec<ThrottleDevice>>,
    #[serde(rename = "BlkioDeviceReadIOps")]
    blkio_device_read_iops: Option<Vec<ThrottleDevice>>,
    #[serde(rename = "BlkioDeviceWriteIOps")]
    blkio_device_write_iops: Option<Vec<ThrottleDevice>>,
    devices: Option<Vec<Device>>,
    device_cgroup_rules: Option<Vec<String>>,
    ulimits: Option<Vec<Ulimit>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Config {
    hostname: String,
    domainname: String,
    user: String,
    env: Option<Vec<String>>,
    image: String,
    working_dir: String,
    labels: Option<BTreeMap<String, String>>,
    exposed_ports: Option<BTreeMap<String, Value>>,
    stop_signal: Option<String>,
    stop_timeout: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_drops_escapes_and_controls_and_bounds_the_length() {
        assert_eq!(clean("\x1b[31mred\x1b[0m\tx\ny"), "red x y");
        assert_eq!(clean("a\x1b]0;title\x07b"), "ab");
        // A bidirectional override is a space; C1 CSI starts a sequence and is dropped.
        assert_eq!(clean("x\u{202e}y\u{9b}z"), "x yz");
        let long = "a".repeat(10 * VALUE_CHARS);
        let shown = clean(&long);
        assert_eq!(shown.chars().count(), VALUE_CHARS);
        assert!(shown.ends_with('…'));
        assert_eq!(clean("short"), "short");
    }

    #[test]
    fn sizes_have_a_space_before_the_unit() {
        assert_eq!(size(64 << 20), "64 MiB");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(0), "0 B");
    }

    #[test]
    fn only_what_is_set_is_shown() {
        let lines = lines(serde_json::json!({
            "Id": "abc",
            "State": {"StartedAt": "0001-01-01T00:00:00Z"},
            "HostConfig": {
                "RestartPolicy": {"Name": "no"}, "ShmSize": DEFAULT_SHM_SIZE,
                "IpcMode": "private", "CgroupnsMode": "private", "PidsLimit": null,
                "CapAdd": null, "Memory": 0, "NanoCpus": 500000000,
            },
            "Config": {"Env": null, "Labels": {}},
        }))
        .unwrap();
        let headings: Vec<&ConfigLine> = lines
            .iter()
            .filter(|l| matches!(l, ConfigLine::Heading(_)))
            .collect();
        assert_eq!(headings, [&ConfigLine::Heading("Resources")]);
        assert!(lines.contains(&ConfigLine::Field {
            name: "CPUs",
            value: "0.5 CPUs".into()
        }));
        assert!(lines.contains(&ConfigLine::Field {
            name: "Started",
            value: "-".into()
        }));
    }

    #[test]
    fn long_lists_are_cut_with_a_count() {
        let labels: serde_json::Map<String, Value> = (0..LIST_ITEMS + 5)
            .map(|i| (format!("l{i:04}"), Value::from("v")))
            .collect();
        let lines = lines(serde_json::json!({"Config": {"Labels": labels}})).unwrap();
        let items = lines
            .iter()
            .filter(|l| matches!(l, ConfigLine::Item(_)))
            .count();
        assert_eq!(items, LIST_ITEMS + 1);
        assert_eq!(
            lines.last(),
            Some(&ConfigLine::Item(
                "… 5 more (berth inspect shows them all)".into()
            ))
        );
    }
}
