//! `inspect` output in Docker's shape, so scripts written for `docker inspect` work.

use serde_json::{json, Value};

use super::record::{ContainerRecord, Status};
use crate::network::ports::PortSpec;
use crate::network::record::{Endpoint, DEFAULT_NETWORK};
use crate::storage::mounts::{MountKind, MountView};
use crate::Engine;

fn time_or_zero(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".into())
}

impl Engine {
    /// One entry of `Mounts`, as Docker shows it.
    fn inspect_mount(view: &MountView) -> Value {
        let m = &view.spec;
        let source = view
            .host_source
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let mut entry = json!({
            "Type": m.kind.as_str(),
            "Source": source,
            "Destination": m.destination,
            "Mode": m.mode_text(),
            "RW": !m.read_only,
            "Propagation": if m.kind == MountKind::Bind { m.propagation.as_str() } else { "" },
        });
        if m.kind == MountKind::Volume {
            entry["Name"] = json!(m.source);
            entry["Driver"] = json!("local");
        }
        entry
    }

    pub fn inspect_container(&self, record: &ContainerRecord) -> Value {
        let s = &record.state;
        let c = &record.config;
        let overlay = self.overlay_of(record);
        let dir = self.container_dir(&record.id);
        let lower: Vec<String> = overlay
            .lower
            .iter()
            .rev()
            .map(|p| p.display().to_string())
            .collect();
        json!({
            "Id": record.id.as_str(),
            "Created": time_or_zero(Some(record.created)),
            "Path": c.args().first().cloned().unwrap_or_default(),
            "Args": c.args().iter().skip(1).collect::<Vec<_>>(),
            "State": {
                "Status": s.name(),
                "Running": s.status == Status::Running,
                "Paused": s.is_paused(),
                "Restarting": false,
                "OOMKilled": s.oom_killed,
                "Dead": false,
                "Pid": s.init.map_or(0, |p| p.pid),
                "ExitCode": s.exit_code.unwrap_or(0),
                "Error": s.error.clone().unwrap_or_default(),
                "StartedAt": time_or_zero(s.started_at),
                "FinishedAt": time_or_zero(s.finished_at),
            },
            "Image": record.image_id.to_string(),
            "ResolvConfPath": dir.join("resolv.conf"),
            "HostnamePath": dir.join("hostname"),
            "HostsPath": dir.join("hosts"),
            "LogPath": dir.join(super::logs::LOG_FILE),
            "Name": format!("/{}", record.name),
            "RestartCount": s.restart_count,
            "Driver": "overlay2",
            "Platform": "linux",
            "HostConfig": {
                "Memory": c.resources.memory.unwrap_or(0),
                "MemorySwap": c.resources.memory.map_or(0, |m| m * 2),
                "NanoCpus": c.resources.nano_cpus.unwrap_or(0),
                // As podman: 0 for no limit.
                "PidsLimit": c.resources.pids_limit.unwrap_or(0),
                "ReadonlyRootfs": c.read_only,
                "AutoRemove": c.auto_remove,
                "NetworkMode": if c.network.name.is_empty() { "none" } else { c.network.name.as_str() },
                "PortBindings": port_bindings(&c.network.ports),
                "Dns": c.network.dns,
                "ExtraHosts": c.network.extra_hosts.iter().map(|(n, ip)| format!("{n}:{ip}")).collect::<Vec<_>>(),
                "LogConfig": c.log.inspect(),
                "CapAdd": null,
                "CapDrop": null,
                "MaskedPaths": super::spec::MASKED_PATHS,
                "ReadonlyPaths": super::spec::READONLY_PATHS,
            },
            "GraphDriver": {
                "Name": "overlay2",
                "Data": {
                    "LowerDir": lower.join(":"),
                    "UpperDir": overlay.upper,
                    "WorkDir": overlay.work,
                    "MergedDir": overlay.merged,
                }
            },
            "Mounts": self.container_mounts(record).iter().map(Self::inspect_mount).collect::<Vec<_>>(),
            "Config": {
                "Hostname": c.hostname,
                "User": c.user,
                "Tty": c.tty,
                "OpenStdin": c.open_stdin,
                "StdinOnce": c.open_stdin,
                "Env": c.env,
                "Cmd": c.cmd,
                "Entrypoint": if c.entrypoint.is_empty() { Value::Null } else { json!(c.entrypoint) },
                "Image": record.image,
                "WorkingDir": c.working_dir,
                "Labels": c.labels,
            },
            "NetworkSettings": self.network_settings(record),
        })
    }

    /// Docker's NetworkSettings: the published ports and an entry per network, with the
    /// default bridge's address also at the top level, as Docker shows it.
    fn network_settings(&self, record: &ContainerRecord) -> Value {
        let endpoints = self.container_endpoints(&record.id).unwrap_or_default();
        let mut networks = serde_json::Map::new();
        let mut top = json!({"IPAddress": "", "Gateway": "", "IPPrefixLen": 0, "MacAddress": ""});
        for (network, endpoint) in &endpoints {
            let prefix = network.subnet.map_or(0, |s| s.prefix_len());
            let entry = json!({
                "Aliases": endpoint.aliases,
                "NetworkID": network.id,
                "EndpointID": endpoint.endpoint_id,
                "Gateway": network.gateway.map(|g| g.to_string()).unwrap_or_default(),
                "IPAddress": endpoint.ip.map(|ip| ip.to_string()).unwrap_or_default(),
                "IPPrefixLen": prefix,
                "MacAddress": endpoint.mac,
                "DNSNames": dns_names(record, endpoint),
            });
            if network.name == DEFAULT_NETWORK {
                for key in ["IPAddress", "Gateway", "IPPrefixLen", "MacAddress"] {
                    top[key] = entry[key].clone();
                }
            }
            networks.insert(network.name.clone(), entry);
        }
        let mut ports = serde_json::Map::new();
        for spec in &record.config.network.ports {
            let key = format!("{}/{}", spec.container_port, spec.proto.as_str());
            ports.entry(key).or_insert(Value::Null);
        }
        for m in &record.state.ports {
            let key = format!("{}/{}", m.container_port, m.proto.as_str());
            let binding =
                json!({"HostIp": m.bind_ip().to_string(), "HostPort": m.host_port.to_string()});
            match ports.get_mut(&key) {
                Some(Value::Array(list)) => list.push(binding),
                _ => {
                    ports.insert(key, json!([binding]));
                }
            }
        }
        let mut settings = json!({
            "SandboxKey": record.state.init.filter(|_| record.state.status == Status::Running)
                .map(|i| format!("/proc/{}/ns/net", i.pid)).unwrap_or_default(),
            "Ports": ports,
            "Networks": networks,
        });
        for (key, value) in top.as_object().into_iter().flatten() {
            settings[key] = value.clone();
        }
        settings
    }
}

/// The names a container answers to on a network: its name, its short ID and aliases.
fn dns_names(record: &ContainerRecord, endpoint: &Endpoint) -> Vec<String> {
    let mut names = vec![record.name.clone(), record.id.short().to_owned()];
    names.extend(endpoint.aliases.iter().cloned());
    names
}

/// HostConfig.PortBindings: each published port as asked for (an empty HostPort is any).
fn port_bindings(specs: &[PortSpec]) -> Value {
    let mut map = serde_json::Map::new();
    for spec in specs {
        let key = format!("{}/{}", spec.container_port, spec.proto.as_str());
        let binding = json!({
            "HostIp": spec.host_ip.map(|ip| ip.to_string()).unwrap_or_default(),
            "HostPort": spec.host_port.map(|p| p.to_string()).unwrap_or_default(),
        });
        match map.get_mut(&key) {
            Some(Value::Array(list)) => list.push(binding),
            _ => {
                map.insert(key, json!([binding]));
            }
        }
    }
    Value::Object(map)
}
