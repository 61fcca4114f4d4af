//! A service's container as the engine creates it: the model's keys read by the same
//! run-options parsers `run` uses, plus compose's names and labels.

use std::collections::BTreeMap;

use super::{labels, Error, Project, Result};
use crate::compose::model::{Service, ServiceVolume, Text};
use crate::engine::{CreateOptions, HealthConfig, MountSpec, Resources};
use crate::ops::run_options;

/// The container name of replica `number`: `container_name`, else
/// `<project>-<service>-<n>`.
pub(super) fn container_name(project: &Project, service: &str, number: u32) -> String {
    match project
        .model
        .services
        .get(service)
        .and_then(|s| s.container_name.clone())
    {
        Some(name) => name,
        None => format!("{}-{service}-{number}", project.name),
    }
}

/// What the engine is asked for replica `number` of `name`; warnings (limits this host
/// can't apply) go to `warn`.
pub(super) fn options(
    project: &Project,
    name: &str,
    number: u32,
    warn: &mut dyn FnMut(String),
) -> Result<CreateOptions> {
    let service = project.service(name)?;
    let bad = |e: crate::engine::Error| Error::engine(format!("service {name:?}"), e);
    let mut options = CreateOptions {
        image: project.image_of(name),
        name: Some(container_name(project, name, number)),
        env: environment(service),
        working_dir: service.working_dir.clone(),
        user: service.user.as_ref().map(|u| u.0.clone()),
        hostname: service.hostname.clone(),
        tty: service.tty,
        open_stdin: service.stdin_open,
        read_only: service.read_only,
        restart_policy: run_options::parse_restart(service.restart.as_deref(), false)
            .map_err(bad)?,
        stop_signal: service
            .stop_signal
            .as_deref()
            .map(run_options::parse_stop_signal)
            .transpose()
            .map_err(bad)?,
        stop_timeout: service
            .stop_grace_period
            .as_ref()
            .map(|d| seconds("stop_grace_period", d))
            .transpose()
            .map_err(bad)?,
        health: health(service).map_err(bad)?,
        ..Default::default()
    };
    // ENTRYPOINT [a, b] and CMD [c] run `a b c`: the engine takes the entrypoint's first
    // word, and the rest goes before the command.
    let command: Vec<String> = service
        .command
        .iter()
        .flatten()
        .map(|t| t.0.clone())
        .collect();
    match &service.entrypoint {
        Some(entrypoint) => {
            let mut words = entrypoint.iter().map(|t| t.0.clone());
            options.entrypoint = Some(words.next().unwrap_or_default());
            options.cmd = words.chain(command).collect();
        }
        None => options.cmd = command,
    }
    options.resources = resources(service, warn).map_err(bad)?;
    let (security, warnings) = run_options::parse_security(&run_options::SecurityFlags {
        cap_add: &service.cap_add,
        cap_drop: &service.cap_drop,
        privileged: service.privileged,
        device: &service.devices,
        init: service.init.unwrap_or(false),
        ulimit: &service
            .ulimits
            .iter()
            .map(|(n, u)| u.flag_text(n))
            .collect::<Vec<_>>(),
        shm_size: service.shm_size.as_ref().map(Text::as_str),
        sysctl: &service
            .sysctls
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>(),
        security_opt: &service.security_opt,
        host_network: service.network_mode.as_deref() == Some("host"),
        ..Default::default()
    })
    .map_err(bad)?;
    warnings.into_iter().for_each(&mut *warn);
    options.security = security;
    for mount in &service.volumes {
        options
            .mounts
            .push(mount_spec(project, mount).map_err(bad)?);
    }
    for tmpfs in &service.tmpfs {
        options
            .mounts
            .push(MountSpec::parse_tmpfs_flag(tmpfs).map_err(bad)?);
    }
    for port in &service.ports {
        options
            .ports
            .extend(crate::engine::parse_publish(&port.publish_text()).map_err(bad)?);
    }
    options.dns = service
        .dns
        .iter()
        .map(|ip| crate::engine::parse_ip("DNS server", ip))
        .collect::<crate::engine::Result<_>>()
        .map_err(bad)?;
    options.extra_hosts = service
        .extra_hosts
        .iter()
        .map(|h| run_options::parse_add_host(h))
        .collect::<crate::engine::Result<_>>()
        .map_err(bad)?;
    // The first network at create; the others are connected after (see up.rs).
    match (
        &service.network_mode,
        project.service_networks(service).first(),
    ) {
        (Some(mode), _) => options.network = Some(mode.clone()),
        (None, Some(key)) => {
            options.network = Some(project.network_name(key));
            let (aliases, ip) = endpoint(service, name, key).map_err(bad)?;
            options.aliases = aliases;
            options.ip = ip;
        }
        (None, None) => {}
    }
    options.labels = service.labels.clone();
    options.labels.extend(compose_labels(project, name, number));
    Ok(options)
}

/// The aliases (the service's name first, so services find each other by it) and static
/// address of `service` on the network `key`.
pub(super) fn endpoint(
    service: &Service,
    name: &str,
    key: &str,
) -> crate::engine::Result<(Vec<String>, Option<std::net::Ipv4Addr>)> {
    let mut aliases = vec![name.to_owned()];
    let mut ip = None;
    if let Some(Some(on)) = service.networks.as_ref().and_then(|n| n.get(key)) {
        aliases.extend(on.aliases.iter().cloned());
        ip = on
            .ipv4_address
            .as_deref()
            .map(|ip| crate::engine::parse_ip("IP address", ip))
            .transpose()?;
    }
    Ok((aliases, ip))
}

fn compose_labels(project: &Project, service: &str, number: u32) -> BTreeMap<String, String> {
    let depends_on = project
        .model
        .services
        .get(service)
        .map(|s| {
            s.depends_on
                .iter()
                .map(|(d, dep)| format!("{d}:{}:{}", dep.condition.as_str(), dep.restart))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let files = project
        .config_files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(",");
    [
        (labels::PROJECT, project.name.clone()),
        (labels::SERVICE, service.to_owned()),
        (labels::NUMBER, number.to_string()),
        (labels::ONEOFF, "False".to_owned()),
        (labels::CONFIG_HASH, project.config_hash(service)),
        (labels::CONFIG_FILES, files),
        (
            labels::WORKING_DIR,
            project.working_dir.display().to_string(),
        ),
        (labels::DEPENDS_ON, depends_on),
        (labels::VERSION, env!("CARGO_PKG_VERSION").to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// `environment`: a null value takes the variable from berth's own environment, or is
/// left out, as `-e NAME` does.
fn environment(service: &Service) -> Vec<String> {
    let entries: Vec<String> = service
        .environment
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k}={}", v.0),
            None => k.clone(),
        })
        .collect();
    run_options::resolve_env(&entries)
}

/// A duration as whole seconds: Go's text (`1m30s`), or a number of seconds.
fn seconds(what: &'static str, text: &Text) -> crate::engine::Result<i32> {
    if let Ok(n) = text.0.parse::<i32>() {
        return Ok(n);
    }
    let nanos = crate::engine::parse_go_duration(&text.0).ok_or_else(|| {
        crate::engine::Error::invalid(what, &text.0, "use a duration such as 10s or 1m30s")
    })?;
    i32::try_from(nanos / 1_000_000_000)
        .map_err(|_| crate::engine::Error::invalid(what, &text.0, "the duration is too long"))
}

/// `deploy.resources.limits`, with berth's pids default and the host's checks, as `run`.
fn resources(service: &Service, warn: &mut dyn FnMut(String)) -> crate::engine::Result<Resources> {
    let limits = service
        .deploy
        .as_ref()
        .and_then(|d| d.resources.as_ref())
        .and_then(|r| r.limits.as_ref());
    let memory = limits.and_then(|l| l.memory.as_ref()).map(|m| m.0.clone());
    let cpus = limits.and_then(|l| l.cpus.as_ref()).map(|c| c.0.clone());
    let pids = limits.and_then(|l| l.pids);
    let mut resources = run_options::parse_limits(&run_options::LimitsText {
        memory: memory.as_deref(),
        cpus: cpus.as_deref(),
        pids_limit: pids,
        ..Default::default()
    })?;
    run_options::settle_limits(&mut resources, pids)?
        .into_iter()
        .for_each(warn);
    Ok(resources)
}

/// `healthcheck`: `CMD-SHELL` and `CMD` tests, `NONE` or `disable` turning the image's
/// off; durations read as `--health-*`'s.
fn health(service: &Service) -> crate::engine::Result<Option<HealthConfig>> {
    let Some(check) = &service.healthcheck else {
        return Ok(None);
    };
    if check.disable || check.test.first().map(String::as_str) == Some("NONE") {
        return Ok(Some(HealthConfig::disabled()));
    }
    let text = |t: &Option<Text>| t.as_ref().map(|t| duration_text(&t.0));
    let (interval, timeout, start_period, start_interval) = (
        text(&check.interval),
        text(&check.timeout),
        text(&check.start_period),
        text(&check.start_interval),
    );
    let parsed = run_options::parse_health(&run_options::HealthFlags {
        cmd: None,
        interval: interval.as_deref(),
        timeout: timeout.as_deref(),
        start_period: start_period.as_deref(),
        start_interval: start_interval.as_deref(),
        retries: check.retries,
        disabled: false,
    })?;
    let mut config = parsed.unwrap_or_default();
    config.test = match check.test.first().map(String::as_str) {
        Some("CMD" | "CMD-SHELL") => check.test.clone(),
        // A bare string is a shell command, as compose's short form.
        Some(_) => vec!["CMD-SHELL".to_owned(), check.test.join(" ")],
        None => Vec::new(),
    };
    Ok((config != HealthConfig::default()).then_some(config))
}

/// A number of seconds as Go's duration text; text as it is.
fn duration_text(text: &str) -> String {
    if text.parse::<u64>().is_ok() {
        format!("{text}s")
    } else {
        text.to_owned()
    }
}

/// A long-form volume entry as `--mount` (or, for a bind that may be created, `-v`)
/// reads it; named volumes by the project's name for them.
fn mount_spec(project: &Project, mount: &ServiceVolume) -> crate::engine::Result<MountSpec> {
    let ro = if mount.read_only { ",readonly" } else { "" };
    let source = mount.source.as_deref().filter(|s| !s.is_empty());
    match mount.kind.as_str() {
        "volume" => {
            let nocopy = if mount.volume.as_ref().is_some_and(|v| v.nocopy) {
                ",volume-nocopy"
            } else {
                ""
            };
            let source = match source {
                Some(key) => format!(",source={}", project.volume_name(key)),
                None => String::new(),
            };
            MountSpec::parse_mount_flag(
                &format!("type=volume{source},target={}{ro}{nocopy}", mount.target),
                &project.working_dir,
            )
        }
        "bind" => {
            let Some(source) = source else {
                return Err(crate::engine::Error::invalid(
                    "bind mount",
                    &mount.target,
                    "a bind mount needs a source",
                ));
            };
            let path = project.working_dir.join(source);
            let create = mount
                .bind
                .as_ref()
                .and_then(|b| b.create_host_path)
                .unwrap_or(true);
            if create {
                let mode = if mount.read_only { ":ro" } else { "" };
                MountSpec::parse_volume_flag(
                    &format!("{}:{}{mode}", path.display(), mount.target),
                    &project.working_dir,
                )
            } else {
                MountSpec::parse_mount_flag(
                    &format!(
                        "type=bind,source={},target={}{ro}",
                        path.display(),
                        mount.target
                    ),
                    &project.working_dir,
                )
            }
        }
        "tmpfs" => {
            let size = mount
                .tmpfs
                .as_ref()
                .and_then(|t| t.size.as_ref())
                .map(|s| format!(",tmpfs-size={}", s.0))
                .unwrap_or_default();
            MountSpec::parse_mount_flag(
                &format!("type=tmpfs,target={}{size}", mount.target),
                &project.working_dir,
            )
        }
        other => Err(crate::engine::Error::invalid(
            "volume type",
            other,
            "berth compose supports volume, bind and tmpfs",
        )),
    }
}
