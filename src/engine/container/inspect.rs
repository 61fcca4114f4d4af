//! `inspect` output in Docker's shape, so scripts written for `docker inspect` work.

use serde_json::{json, Value};

use super::record::{ContainerRecord, Status};
use crate::engine::storage::mounts::{MountKind, MountView};
use crate::engine::Engine;

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
                "Status": s.status.as_str(),
                "Running": s.status == Status::Running,
                "Paused": false,
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
                "PidsLimit": c.resources.pids_limit,
                "ReadonlyRootfs": c.read_only,
                "AutoRemove": c.auto_remove,
                "NetworkMode": "none",
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
            "NetworkSettings": { "Networks": {} },
        })
    }
}
