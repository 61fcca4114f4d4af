//! Which keys berth acts on. Every other key still loads (and `compose config` prints it), but
//! gets a warning naming the key and the line it is on: nothing is dropped silently.

use super::yaml::{Node, V};

/// Top-level keys berth acts on (`x-*` extensions are always quiet).
const TOP: &[&str] = &[
    "name", "version", "services", "networks", "volumes", "include",
];

/// Service keys berth acts on.
pub const SERVICE_KEYS: &[&str] = &[
    "image",
    "build",
    "command",
    "entrypoint",
    "environment",
    "env_file",
    "ports",
    "expose",
    "volumes",
    "networks",
    "network_mode",
    "depends_on",
    "healthcheck",
    "restart",
    "deploy",
    "cap_add",
    "cap_drop",
    "devices",
    "init",
    "ulimits",
    "sysctls",
    "user",
    "working_dir",
    "hostname",
    "domainname",
    "labels",
    "stop_signal",
    "stop_grace_period",
    "tmpfs",
    "shm_size",
    "extra_hosts",
    "dns",
    "dns_search",
    "dns_opt",
    "read_only",
    "privileged",
    "security_opt",
    "logging",
    "container_name",
    "profiles",
    "extends",
    "tty",
    "stdin_open",
    "pull_policy",
    "scale",
    "group_add",
    "mem_limit",
    "cpus",
    "pids_limit",
];

/// Allowed keys below a service key, for the keys that have a mapping berth reads in part.
fn nested(key: &str) -> Option<&'static [&'static str]> {
    Some(match key {
        "build" => &["context", "dockerfile", "args", "target", "labels", "tags"],
        "healthcheck" => &[
            "test",
            "interval",
            "timeout",
            "retries",
            "start_period",
            "start_interval",
            "disable",
        ],
        "deploy" => &["resources", "replicas"],
        "logging" => &["driver", "options"],
        _ => return None,
    })
}

const NETWORK_KEYS: &[&str] = &[
    "name",
    "driver",
    "driver_opts",
    "ipam",
    "external",
    "internal",
    "labels",
    "enable_ipv6",
    "attachable",
];
const VOLUME_KEYS: &[&str] = &["name", "driver", "driver_opts", "external", "labels"];
const SERVICE_NETWORK_KEYS: &[&str] = &["aliases", "ipv4_address", "ipv6_address", "priority"];
const MOUNT_KEYS: &[&str] = &[
    "type",
    "source",
    "target",
    "read_only",
    "bind",
    "volume",
    "tmpfs",
];

fn entries(n: &Node) -> &[super::yaml::Entry] {
    match &n.v {
        V::Map(es) => es,
        _ => &[],
    }
}

/// Walks one document and pushes one warning line per key berth does not act on.
pub(crate) fn check(doc: &Node, file: &str, out: &mut Vec<String>) {
    let mut warn = |line: usize, what: String, key: &str| {
        out.push(format!(
            "{file}:{line}: {what}key `{key}` is not supported by berth"
        ));
    };
    for top in entries(doc) {
        let k = top.key.as_str();
        if k.starts_with("x-") {
            continue;
        }
        if !TOP.contains(&k) {
            warn(top.line, String::new(), k);
            continue;
        }
        match k {
            "services" => {
                for svc in entries(&top.val) {
                    let what = format!("service {}: ", svc.key);
                    for f in entries(&svc.val) {
                        let fk = f.key.as_str();
                        if fk.starts_with("x-") {
                            continue;
                        }
                        if !SERVICE_KEYS.contains(&fk) {
                            warn(f.line, what.clone(), fk);
                            continue;
                        }
                        if let Some(allowed) = nested(fk) {
                            for sub in entries(&f.val) {
                                if !allowed.contains(&sub.key.as_str())
                                    && !sub.key.starts_with("x-")
                                {
                                    warn(sub.line, what.clone(), &format!("{fk}.{}", sub.key));
                                }
                            }
                        }
                        match fk {
                            "deploy" => {
                                for sub in entries(&f.val).iter().filter(|e| e.key == "resources") {
                                    for part in entries(&sub.val) {
                                        if part.key != "limits" {
                                            warn(
                                                part.line,
                                                what.clone(),
                                                &format!("deploy.resources.{}", part.key),
                                            );
                                            continue;
                                        }
                                        for lim in entries(&part.val) {
                                            if !["cpus", "memory", "pids"]
                                                .contains(&lim.key.as_str())
                                            {
                                                warn(
                                                    lim.line,
                                                    what.clone(),
                                                    &format!("deploy.resources.limits.{}", lim.key),
                                                );
                                            }
                                        }
                                    }
                                }
                            }
                            "networks" => {
                                for net in entries(&f.val) {
                                    for sub in entries(&net.val) {
                                        if !SERVICE_NETWORK_KEYS.contains(&sub.key.as_str()) {
                                            warn(
                                                sub.line,
                                                what.clone(),
                                                &format!("networks.{}.{}", net.key, sub.key),
                                            );
                                        }
                                    }
                                }
                            }
                            "volumes" => {
                                if let V::Seq(items) = &f.val.v {
                                    for it in items {
                                        for sub in entries(it) {
                                            if !MOUNT_KEYS.contains(&sub.key.as_str()) {
                                                warn(
                                                    sub.line,
                                                    what.clone(),
                                                    &format!("volumes.{}", sub.key),
                                                );
                                            }
                                        }
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            "networks" | "volumes" => {
                let allowed = if k == "networks" {
                    NETWORK_KEYS
                } else {
                    VOLUME_KEYS
                };
                for res in entries(&top.val) {
                    for sub in entries(&res.val) {
                        if !allowed.contains(&sub.key.as_str()) && !sub.key.starts_with("x-") {
                            warn(
                                sub.line,
                                format!("{} {}: ", &k[..k.len() - 1], res.key),
                                &sub.key,
                            );
                        }
                    }
                }
            }
            _ => {}
        }
    }
}
