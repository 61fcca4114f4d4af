//! Docker's inspect shapes, once: `docker inspect` / `container|image|network|volume
//! inspect` print these, so scripts written for Docker work; the engine hands over typed
//! records and this module alone knows Docker's JSON names.

use std::path::PathBuf;

use serde_json::{json, Value};

use super::docker_types;

use crate::engine::{
    ContainerRecord, Endpoint, Engine, MountKind, MountView, NetworkMode, NetworkRecord, PortSpec,
    Result, Status, VolumeInfo, DEFAULT_NETWORK,
};

fn time_or_zero(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".into())
}

/// One entry of `Mounts`, as Docker shows it.
fn mount(view: &MountView) -> Value {
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

/// Docker's `[{Path, Rate}]` of one kind of device throttle.
fn throttles(devices: &[crate::engine::ThrottleDevice]) -> Vec<Value> {
    devices
        .iter()
        .map(|d| json!({"Path": d.path, "Rate": d.rate}))
        .collect()
}

/// A container in the shape of `docker container inspect`.
pub fn container(engine: &Engine, record: &ContainerRecord) -> Value {
    let details = engine.container_details(record);
    let s = &record.state;
    let c = &record.config;
    let sec = &c.security;
    let attach = c
        .attach
        .unwrap_or(crate::engine::AttachStreams::created(c.open_stdin));
    let (overlay, dir) = (&details.overlay, &details.dir);
    let lower: Vec<String> = overlay
        .lower
        .iter()
        .rev()
        .map(|p| p.display().to_string())
        .collect();
    let mut inspected = json!({
        "Id": record.id.as_str(),
        "Created": time_or_zero(Some(record.created)),
        "Path": c.args().first().cloned().unwrap_or_default(),
        "Args": c.args().iter().skip(1).collect::<Vec<_>>(),
        "State": {
            "Status": s.name(),
            // Docker counts a restarting container as running.
            "Running": matches!(s.status, Status::Running | Status::Restarting),
            "Paused": s.is_paused(),
            "Restarting": s.status == Status::Restarting,
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
        // Docker's: no log file with `--log-driver none`.
        "LogPath": if c.log.driver == crate::engine::LogDriver::None {
            PathBuf::new()
        } else {
            dir.join(crate::engine::LOG_FILE)
        },
        "Name": format!("/{}", record.name),
        "RestartCount": s.restart_count,
        "Driver": "overlay2",
        "Platform": "linux",
        "HostConfig": {
            // `-v` as given, null when none (as Docker's).
            "Binds": Some(binds(record)).filter(|b| !b.is_empty()),
            "Memory": c.resources.memory.unwrap_or(0),
            // Kept since create; records from before have Docker's default, twice the memory.
            "MemorySwap": c.resources.memory_swap.or(c.resources.memory.map(|m| m * 2)).unwrap_or(0),
            "MemoryReservation": c.resources.memory_reservation.unwrap_or(0),
            "OomKillDisable": c.resources.oom_kill_disable,
            "NanoCpus": c.resources.nano_cpus.unwrap_or(0),
            "CpuShares": c.resources.cpu_shares.unwrap_or(0),
            "CpuPeriod": c.resources.cpu_period.unwrap_or(0),
            "CpuQuota": c.resources.cpu_quota.unwrap_or(0),
            "CpusetCpus": c.resources.cpuset_cpus.as_deref().unwrap_or(""),
            "CpusetMems": c.resources.cpuset_mems.as_deref().unwrap_or(""),
            "BlkioWeight": c.resources.blkio_weight.unwrap_or(0),
            // Per-device I/O, real-time CPU, swappiness, parent cgroup, OOM bias.
            "BlkioWeightDevice": c.resources.blkio_weight_device.iter().map(|d| json!({
                "Path": d.path, "Weight": d.weight,
            })).collect::<Vec<_>>(),
            "BlkioDeviceReadBps": throttles(&c.resources.blkio_device_read_bps),
            "BlkioDeviceWriteBps": throttles(&c.resources.blkio_device_write_bps),
            "BlkioDeviceReadIOps": throttles(&c.resources.blkio_device_read_iops),
            "BlkioDeviceWriteIOps": throttles(&c.resources.blkio_device_write_iops),
            "CpuRealtimePeriod": c.resources.cpu_rt_period.unwrap_or(0),
            "CpuRealtimeRuntime": c.resources.cpu_rt_runtime.unwrap_or(0),
            "MemorySwappiness": c.resources.memory_swappiness,
            "CgroupParent": c.resources.cgroup_parent.as_ref().map_or("", |p| p.as_str()),
            "OomScoreAdj": c.oom_score_adj,
            // Docker's unset value (null) unless `--pids-limit` asked for one: berth's
            // default limit still applies, as a daemon's setting, not the container's.
            "PidsLimit": c.resources.pids_limit_asked(),
            "ReadonlyRootfs": c.read_only,

            "AutoRemove": c.auto_remove,
            "RestartPolicy": {
                "Name": c.restart_policy.mode.as_str(),
                "MaximumRetryCount": c.restart_policy.maximum_retry_count,
            },
            "NetworkMode": if c.network.name.is_empty() { "none" } else { c.network.name.as_str() },
            "PortBindings": port_bindings(&c.network.ports),
            "Dns": c.network.dns,
            "DnsSearch": c.network.dns_search,
            "DnsOptions": c.network.dns_options,
            // berth's own runtime answers to Docker's default name.
            "Runtime": c.runtime.as_deref().unwrap_or("runc"),
            "VolumeDriver": c.volume_driver,
            "ExtraHosts": c.network.extra_hosts.iter().map(|(n, ip)| format!("{n}:{ip}")).collect::<Vec<_>>(),
            "LogConfig": c.log.inspect(),
            "CapAdd": names_or_null(&sec.cap_add),
            "CapDrop": names_or_null(&sec.cap_drop),
            "Privileged": sec.privileged,
            "Devices": sec.devices.iter().map(|d| json!({
                "PathOnHost": d.path_on_host,
                "PathInContainer": d.path_in_container,
                "CgroupPermissions": d.cgroup_permissions,
            })).collect::<Vec<_>>(),
            "DeviceCgroupRules": names_or_null(&sec.device_cgroup_rules),
            "Ulimits": if sec.ulimits.is_empty() { Value::Null } else {
                json!(sec.ulimits.iter().map(|u| json!({
                    "Name": u.name.as_str(),
                    "Soft": u.soft as i64,
                    "Hard": u.hard as i64,
                })).collect::<Vec<_>>())
            },
            "ShmSize": sec.shm_size.unwrap_or(crate::engine::DEFAULT_SHM_SIZE),
            "SecurityOpt": names_or_null(&sec.security_opt()),
            "GroupAdd": names_or_null(&sec.group_add),
            // `--privileged` hides nothing.
            "MaskedPaths": if sec.privileged { &[][..] } else { crate::engine::MASKED_PATHS },
            "ReadonlyPaths": if sec.privileged { &[][..] } else { crate::engine::READONLY_PATHS },
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
        "Mounts": details.mounts.iter().map(mount).collect::<Vec<_>>(),
        "Config": {
            "Hostname": c.hostname,
            "Domainname": c.domainname,
            "User": c.user,
            "AttachStdin": attach.stdin,
            "AttachStdout": attach.stdout,
            "AttachStderr": attach.stderr,
            "Tty": c.tty,
            "OpenStdin": c.open_stdin,
            // Docker's: stdin closes with the client that attached it (not for `run -d`).
            "StdinOnce": c.open_stdin && attach.stdin,
            "Env": c.env,
            "Cmd": c.cmd,
            "Entrypoint": if c.entrypoint.is_empty() { Value::Null } else { json!(c.entrypoint) },
            "Image": record.image,
            "WorkingDir": c.working_dir,
            "Labels": c.labels,
        },
        "NetworkSettings": network_settings(record, &details.endpoints),
    });
    // Absent unless set, as Docker's (`omitempty`).
    if !c.exposed_ports.is_empty() {
        let exposed: serde_json::Map<String, Value> = c
            .exposed_ports
            .iter()
            .map(|p| (p.to_string(), json!({})))
            .collect();
        inspected["Config"]["ExposedPorts"] = Value::Object(exposed);
    }
    if let Some(signal) = &c.stop_signal {
        inspected["Config"]["StopSignal"] = json!(signal);
    }
    if let Some(timeout) = c.stop_timeout {
        inspected["Config"]["StopTimeout"] = json!(timeout);
    }
    // Docker leaves these out when unset (omitempty).
    let host = &mut inspected["HostConfig"];
    if sec.init {
        host["Init"] = json!(true);
    }
    if !sec.sysctls.is_empty() {
        host["Sysctls"] = json!(sec.sysctls);
    }
    if !c.annotations.is_empty() {
        host["Annotations"] = json!(c.annotations);
    }
    if let Some(mac) = c.network.mac_address {
        inspected["Config"]["MacAddress"] = json!(mac.to_string());
    }
    if let Some(health) = &c.health {
        inspected["Config"]["Healthcheck"] = health.to_docker();
    }
    if let Some(health) = &s.health {
        inspected["State"]["Health"] = json!({
            "Status": health.status.as_str(),
            "FailingStreak": health.failing_streak,
            "Log": health.log.iter().map(|r| json!({
                "Start": time_or_zero(Some(r.start)),
                "End": time_or_zero(Some(r.end)),
                "ExitCode": r.exit_code,
                "Output": r.output,
            })).collect::<Vec<_>>(),
        });
    }
    // Docker's form of a link: /TARGET:/THIS/ALIAS; null without any.
    if !c.links.is_empty() {
        let links: Vec<String> = c
            .links
            .iter()
            .map(|(target, alias)| format!("/{target}:/{}/{alias}", record.name))
            .collect();
        inspected["HostConfig"]["Links"] = json!(links);
    }
    // PidMode, IpcMode, UTSMode, UsernsMode, CgroupnsMode.
    for (key, mode) in c.namespaces.inspect_modes() {
        inspected["HostConfig"][key] = json!(mode);
    }
    docker_types::shape(&mut inspected, &docker_types::CONTAINER);
    inspected
}

/// HostConfig.Binds: each `-v` with a source, in the order mounted.
fn binds(record: &ContainerRecord) -> Vec<String> {
    record
        .config
        .mounts
        .iter()
        .filter_map(|m| m.bind_entry())
        .collect()
}

/// A list as Docker shows an unset one: `null` when empty.
fn names_or_null<T: std::fmt::Display>(list: &[T]) -> Value {
    if list.is_empty() {
        Value::Null
    } else {
        json!(list.iter().map(T::to_string).collect::<Vec<_>>())
    }
}

/// Docker's NetworkSettings: the published ports and an entry per network, with the
/// default bridge's address also at the top level, as Docker shows it.
fn network_settings(record: &ContainerRecord, endpoints: &[(NetworkRecord, Endpoint)]) -> Value {
    let mut networks = serde_json::Map::new();
    let mut top = json!({"IPAddress": "", "Gateway": "", "IPPrefixLen": 0, "MacAddress": ""});
    for (network, endpoint) in endpoints {
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
            "IPAMConfig": endpoint_ipam(endpoint),
        });
        if network.name == DEFAULT_NETWORK {
            for key in ["IPAddress", "Gateway", "IPPrefixLen", "MacAddress"] {
                top[key] = entry[key].clone();
            }
        }
        networks.insert(network.name.clone(), entry);
    }
    // Docker fills them in at the first start: a container never started has none.
    let ports = if record.state.started_at.is_some() {
        ports(record)
    } else {
        serde_json::Map::new()
    };
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

/// NetworkSettings.Ports: each exposed or published port, with its host bindings.
fn ports(record: &ContainerRecord) -> serde_json::Map<String, Value> {
    let mut ports = serde_json::Map::new();
    if record.config.network.mode == NetworkMode::Connected {
        for exposed in &record.config.exposed_ports {
            ports.insert(exposed.to_string(), Value::Null);
        }
    }
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
    ports
}

/// An endpoint's IPAMConfig, as asked for: `--ip`'s address and `--link-local-ip`s;
/// null when neither was.
fn endpoint_ipam(endpoint: &Endpoint) -> Value {
    let mut ipam = serde_json::Map::new();
    if let Some(ip) = endpoint.ip.filter(|_| endpoint.static_ip) {
        ipam.insert("IPv4Address".into(), json!(ip.to_string()));
    }
    if !endpoint.link_local_ips.is_empty() {
        let ips: Vec<String> = endpoint
            .link_local_ips
            .iter()
            .map(|ip| ip.to_string())
            .collect();
        ipam.insert("LinkLocalIPs".into(), json!(ips));
    }
    if ipam.is_empty() {
        Value::Null
    } else {
        Value::Object(ipam)
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

/// One image in the shape of `docker image inspect`.
pub fn image(engine: &Engine, name: &str) -> Result<Value> {
    let (record, _) = engine.find_image(name)?;
    let config = engine.image_config(&record.id)?;
    let tags: Vec<String> = engine
        .tags()?
        .into_iter()
        .filter(|(_, id)| *id == record.id)
        .map(|(r, _)| r.to_string())
        .collect();
    let c = config.config().clone().unwrap_or_default();
    let as_map = |items: &Option<Vec<String>>| {
        items.as_ref().map(|items| {
            items
                .iter()
                .map(|i| (i.clone(), json!({})))
                .collect::<serde_json::Map<_, _>>()
        })
    };
    let diffs: Vec<PathBuf> = record
        .chain_ids
        .iter()
        .rev()
        .map(|c| engine.layer_diff_dir(c))
        .collect();
    let join = |dirs: &[PathBuf]| {
        dirs.iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(":")
    };
    let mut graph = serde_json::Map::new();
    if let Some((upper, lower)) = diffs.split_first() {
        if !lower.is_empty() {
            graph.insert("LowerDir".into(), json!(join(lower)));
        }
        graph.insert("UpperDir".into(), json!(upper.display().to_string()));
    }
    let mut inspected = json!({
        "Id": record.id.to_string(),
        "RepoTags": tags,
        "RepoDigests": record.repo_digests,
        "Created": config.created().clone().unwrap_or_default(),
        "Author": config.author().clone().unwrap_or_default(),
        "Config": {
            "User": c.user().clone().unwrap_or_default(),
            "ExposedPorts": as_map(c.exposed_ports()),
            "Env": c.env(),
            "Cmd": c.cmd(),
            "Entrypoint": c.entrypoint(),
            "Volumes": as_map(c.volumes()),
            "WorkingDir": c.working_dir().clone().unwrap_or_default(),
            "Labels": c.labels(),
            "StopSignal": c.stop_signal(),
        },
        "Architecture": config.architecture().to_string(),
        "Os": config.os().to_string(),
        "Size": record.size,
        "GraphDriver": { "Name": "overlay2", "Data": graph },
        "RootFS": {
            "Type": "layers",
            "Layers": record.diff_ids.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        },
    });
    // Absent unless the image has one, as Docker's.
    if let Some(health) = engine.resolve_image(&record.id.to_string())?.healthcheck {
        inspected["Config"]["Healthcheck"] = health.to_docker();
    }
    Ok(docker_types::shaped(&docker_types::IMAGE, inspected))
}

/// A network in the shape of `docker network inspect`, with berth's own details (the
/// bridge, the pools passed over and why) under "Berth".
pub fn network(network: &NetworkRecord) -> Value {
    let config: Vec<Value> = match (network.subnet, network.gateway) {
        (Some(subnet), Some(gateway)) => {
            let mut entry = json!({"Subnet": subnet.to_string(), "Gateway": gateway.to_string()});
            if let Some(range) = network.ip_range {
                entry["IPRange"] = json!(range.to_string());
            }
            vec![entry]
        }
        _ => Vec::new(),
    };
    let containers: serde_json::Map<String, Value> = network
        .endpoints
        .iter()
        .map(|e| {
            (
                e.container_id.to_string(),
                json!({
                    "Name": e.container_name,
                    "EndpointID": e.endpoint_id,
                    "MacAddress": e.mac,
                    "IPv4Address": network.cidr_of(e),
                    "IPv6Address": "",
                }),
            )
        })
        .collect();
    let skipped: Vec<Value> = network
        .skipped_pools
        .iter()
        .map(|s| json!({"Subnet": s.subnet.to_string(), "Reason": s.reason}))
        .collect();
    docker_types::shaped(
        &docker_types::NETWORK,
        json!({
            "Name": network.name,
            "Id": network.id,
            "Created": network.created.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            "Scope": "local",
            "Driver": network.driver.as_str(),
            "EnableIPv6": false,
            "IPAM": {"Driver": "default", "Options": {}, "Config": config},
            "Internal": network.internal,
            "Attachable": false,
            "Ingress": false,
            "ConfigFrom": {"Network": ""},
            "ConfigOnly": false,
            "Containers": containers,
            "Options": network.options,
            "Labels": network.labels,
            "Berth": {"Bridge": network.bridge, "SkippedPools": skipped},
        }),
    )
}

/// A volume in the shape of `docker volume inspect`, with the containers that use it.
pub fn volume(info: &VolumeInfo) -> Value {
    docker_types::shaped(
        &docker_types::VOLUME,
        json!({
            "CreatedAt": info.volume.created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "Driver": "local",
            "Labels": info.volume.labels,
            "Mountpoint": info.mountpoint,
            "Name": info.volume.name,
            "Options": null,
            "Scope": "local",
            "Anonymous": info.volume.anonymous,
            "UsedBy": info.users.iter().map(|(id, name)| json!({"Id": id.as_str(), "Name": name})).collect::<Vec<_>>(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_volume_has_dockers_fields() {
        let dir = tempfile::tempdir().expect("temp dir");
        let engine = Engine::open(dir.path()).expect("engine");
        engine
            .create_volume(Some("data"), [("k".into(), "v".into())].into())
            .expect("volume");
        let value = volume(&engine.inspect_volume("data").expect("inspect"));
        let keys: Vec<&str> = value
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            // Docker's names (printed in name order, as serde_json keeps them).
            [
                "Anonymous",
                "CreatedAt",
                "Driver",
                "Labels",
                "Mountpoint",
                "Name",
                "Options",
                "Scope",
                "UsedBy"
            ]
        );
        assert_eq!(value["Name"], "data");
        assert_eq!(value["Labels"], json!({"k": "v"}));
        assert_eq!(value["UsedBy"], json!([]));
        assert_eq!(value["Options"], Value::Null);
        // Docker's RFC 3339 in whole seconds, UTC.
        let created = value["CreatedAt"].as_str().expect("a time");
        assert!(
            created.ends_with('Z') && !created.contains('.'),
            "{created}"
        );
    }
}
