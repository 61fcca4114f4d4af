//! `up`: Docker Compose's convergence. Networks and volumes first, then each service in
//! dependency order: its dependencies' conditions waited on, containers whose config hash
//! changed recreated (under a temporary name, so a failure leaves the old one), missing
//! replicas created, extra ones removed, stopped ones started.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use super::create::{container_name, endpoint, options};
use super::{labels, members, step, Error, Member, Object, Progress, Project, Result};
use crate::compose::model::Condition;
use crate::engine::{CreateNetwork, Engine, HealthStatus, MountKind, NetworkDriver, Status};

/// How a front door brings a missing image (a pull, with its progress).
pub type Pull<'a> = &'a dyn Fn(&str) -> crate::engine::Result<()>;

/// `up`'s flags.
#[derive(Default)]
pub struct UpOptions<'a> {
    /// Only these services (and what they depend on); empty: all.
    pub services: Vec<String>,
    pub force_recreate: bool,
    pub no_recreate: bool,
    pub remove_orphans: bool,
    pub no_start: bool,
    /// `--wait`: until every service is running, healthy if it has a check.
    pub wait: bool,
    pub wait_timeout: Option<Duration>,
    /// `--scale SERVICE=N`.
    pub scale: BTreeMap<String, u32>,
    /// Brings a missing image (a pull, with its progress): the front door's.
    pub pull: Option<Pull<'a>>,
    /// Builds a `build:` service's image (with its progress): the front door's.
    pub build: Option<super::Build<'a>>,
    /// `--build`: build every `build:` service, not only those whose image is missing.
    pub always_build: bool,
}

/// How long a dependency may take to reach its condition when `--wait-timeout` is not
/// given: long enough for slow databases, bounded so `up` never hangs.
pub(super) const DEPENDENCY_TIMEOUT: Duration = Duration::from_secs(600);

pub fn up(
    engine: &Engine,
    project: &Project,
    opts: &UpOptions,
    on: &mut dyn FnMut(Progress),
) -> Result<()> {
    for name in opts.scale.keys() {
        project.service(name)?;
    }
    let chosen = project.with_dependencies(&opts.services)?;
    let order = project.order(&chosen)?;
    // Everything that can be refused before anything is made: each service's options,
    // then its image (pulled if missing).
    for name in &order {
        options(project, name, 1, &mut |_| {})?;
    }
    for name in &order {
        ensure_image(engine, project, name, opts)?;
    }
    let existing = members(engine, &project.name)?;
    orphans(engine, project, &existing, opts.remove_orphans, on)?;
    ensure_networks(engine, project, &chosen, on)?;
    ensure_volumes(engine, project, &chosen, on)?;
    let mut recreated: BTreeSet<String> = BTreeSet::new();
    for name in &order {
        let service = project.service(name)?;
        if !opts.no_start {
            for (dep, d) in &service.depends_on {
                if chosen.contains(dep) {
                    wait_for(engine, project, dep, d.condition, DEPENDENCY_TIMEOUT, on)?;
                }
            }
        }
        // A dependency recreated restarts a dependant that asks for it.
        let restart = service
            .depends_on
            .iter()
            .any(|(dep, d)| d.restart && recreated.contains(dep));
        let changed = converge(engine, project, name, opts, restart, on)?;
        if changed {
            recreated.insert(name.clone());
        }
    }
    if opts.wait {
        let timeout = opts.wait_timeout.unwrap_or(DEPENDENCY_TIMEOUT);
        for name in &order {
            let has_check = members(engine, &project.name)?
                .iter()
                .any(|m| m.service == *name && m.record.state.health.is_some());
            let condition = if has_check {
                Condition::Healthy
            } else {
                Condition::Started
            };
            wait_for(engine, project, name, condition, timeout, on)?;
        }
    }
    Ok(())
}

/// A service's image: built when Compose would (see `build::wanted`), else pulled
/// through the front door's `pull` when it is not here.
pub(super) fn ensure_image(
    engine: &Engine,
    project: &Project,
    name: &str,
    opts: &UpOptions,
) -> Result<()> {
    let service = project.service(name)?;
    let image = project.image_of(name);
    if super::build::wanted(engine, project, name, opts.always_build) {
        let plan = super::build::plan(project, name, &Default::default())?;
        return match (plan, opts.build) {
            (Some(plan), Some(build)) => super::build::run(&plan, build),
            _ => Err(Error::Invalid(format!(
                "service {name:?} needs its image built"
            ))),
        };
    }
    if engine.resolve_image(&image).is_ok() {
        return Ok(());
    }
    if service.image.is_none() {
        return Err(Error::engine(
            format!("service {name:?}"),
            crate::engine::Error::NoSuchImage(image),
        ));
    }
    match opts.pull {
        Some(pull) => pull(&image).map_err(|e| Error::engine(format!("service {name:?}"), e)),
        None => Err(Error::engine(
            format!("service {name:?}"),
            crate::engine::Error::NoSuchImage(image),
        )),
    }
}

/// Containers of the project whose service the model no longer has: reported, or removed
/// with `--remove-orphans`.
fn orphans(
    engine: &Engine,
    project: &Project,
    existing: &[Member],
    remove: bool,
    on: &mut dyn FnMut(Progress),
) -> Result<()> {
    let orphans: Vec<&Member> = existing
        .iter()
        .filter(|m| !m.oneoff && project.orphaned(&m.service))
        .collect();
    if orphans.is_empty() {
        return Ok(());
    }
    if !remove {
        let names: Vec<&str> = orphans.iter().map(|m| m.record.name.as_str()).collect();
        on(Progress::Warning(format!(
            "Found orphan containers ([{}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.",
            names.join(" ")
        )));
        return Ok(());
    }
    for member in orphans {
        super::verbs::remove_member(engine, member, false, on)?;
    }
    Ok(())
}

pub(super) fn ensure_networks(
    engine: &Engine,
    project: &Project,
    chosen: &BTreeSet<String>,
    on: &mut dyn FnMut(Progress),
) -> Result<()> {
    let mut keys = BTreeSet::new();
    for name in chosen {
        keys.extend(project.service_networks(project.service(name)?));
    }
    for key in keys {
        let network = project
            .model
            .networks
            .get(&key)
            .cloned()
            .unwrap_or_default();
        let name = project.network_name(&key);
        if engine.network(&name).is_ok() {
            continue;
        }
        if network.external {
            return Err(Error::Invalid(format!(
                "network {name} declared as external, but could not be found"
            )));
        }
        let bad = |e| Error::engine(format!("network {name}"), e);
        let mut labels = network.labels.clone();
        labels.insert(labels::PROJECT.into(), project.name.clone());
        labels.insert(labels::NETWORK.into(), key.clone());
        labels.insert(labels::VERSION.into(), env!("CARGO_PKG_VERSION").into());
        let ipam = network.ipam.as_ref().and_then(|i| i.config.first());
        let net = |what: &'static str, text: &Option<String>| {
            text.as_deref()
                .map(|t| crate::engine::parse_cidr(what, t))
                .transpose()
        };
        let create = CreateNetwork {
            name: name.clone(),
            driver: network
                .driver
                .as_deref()
                .map(|d| d.parse::<NetworkDriver>())
                .transpose()
                .map_err(bad)?,
            subnet: net("subnet", &ipam.and_then(|i| i.subnet.clone())).map_err(bad)?,
            gateway: ipam
                .and_then(|i| i.gateway.as_deref())
                .map(|g| crate::engine::parse_ip("gateway", g))
                .transpose()
                .map_err(bad)?,
            ip_range: net("ip range", &ipam.and_then(|i| i.ip_range.clone())).map_err(bad)?,
            internal: network.internal,
            labels,
            options: Default::default(),
        };
        on(step(Object::Network, &name, "Creating"));
        engine.create_network(create).map_err(bad)?;
        on(step(Object::Network, &name, "Created"));
    }
    Ok(())
}

pub(super) fn ensure_volumes(
    engine: &Engine,
    project: &Project,
    chosen: &BTreeSet<String>,
    on: &mut dyn FnMut(Progress),
) -> Result<()> {
    let mut keys = BTreeSet::new();
    for name in chosen {
        for mount in &project.service(name)?.volumes {
            if let ("volume", Some(source)) = (mount.kind.as_str(), mount.source.as_deref()) {
                if !source.is_empty() {
                    keys.insert(source.to_owned());
                }
            }
        }
    }
    for key in keys {
        let volume = project.model.volumes.get(&key).cloned().unwrap_or_default();
        let name = project.volume_name(&key);
        if engine.inspect_volume(&name).is_ok() {
            continue;
        }
        if volume.external {
            return Err(Error::Invalid(format!(
                "external volume \"{name}\" not found"
            )));
        }
        if !project.model.volumes.contains_key(&key) {
            return Err(Error::Invalid(format!(
                "service volume refers to undefined volume {key}: invalid compose project"
            )));
        }
        let mut labels = volume.labels.clone();
        labels.insert(labels::PROJECT.into(), project.name.clone());
        labels.insert(labels::VOLUME.into(), key.clone());
        labels.insert(labels::VERSION.into(), env!("CARGO_PKG_VERSION").into());
        on(step(Object::Volume, &name, "Creating"));
        engine
            .create_volume(Some(&name), labels)
            .map_err(|e| Error::engine(format!("volume {name}"), e))?;
        on(step(Object::Volume, &name, "Created"));
    }
    Ok(())
}

/// One service's containers brought to what the model says; true if any was created or
/// recreated (its dependants with `restart: true` then restart).
fn converge(
    engine: &Engine,
    project: &Project,
    name: &str,
    opts: &UpOptions,
    restart: bool,
    on: &mut dyn FnMut(Progress),
) -> Result<bool> {
    let service = project.service(name)?;
    let want = opts
        .scale
        .get(name)
        .copied()
        .unwrap_or_else(|| service.replicas());
    let hash = project.config_hash(name);
    // The image the service names now: a container made from another one (a rebuild,
    // a newer pull) is recreated, as Compose's image-digest label makes it.
    let image = engine
        .resolve_image(&project.image_of(name))
        .ok()
        .map(|i| i.id);
    let current: Vec<Member> = members(engine, &project.name)?
        .into_iter()
        .filter(|m| m.service == name && !m.oneoff)
        .collect();
    let mut changed = false;
    // Extra replicas go, the highest numbers first, as Docker Compose's scale down.
    for member in current.iter().skip(want as usize).rev() {
        super::verbs::remove_member(engine, member, true, on)?;
    }
    let keep: Vec<&Member> = current.iter().take(want as usize).collect();
    let mut to_start = Vec::new();
    for member in &keep {
        let diverged = member.record.config.labels.get(labels::CONFIG_HASH) != Some(&hash)
            || image
                .as_ref()
                .is_some_and(|id| *id != member.record.image_id);
        if !opts.no_recreate && (opts.force_recreate || diverged) {
            let id = recreate(engine, project, name, member, on)?;
            changed = true;
            to_start.push((id, member.record.name.clone()));
        } else if !member.is_running() || (restart && !opts.no_start) {
            if restart && member.is_running() {
                on(step(Object::Container, &member.record.name, "Restarting"));
                engine
                    .restart_container(member.record.id.as_str(), None, None)
                    .map_err(|e| Error::engine(format!("container {}", member.record.name), e))?;
                on(step(Object::Container, &member.record.name, "Started"));
            } else {
                to_start.push((member.record.id.to_string(), member.record.name.clone()));
            }
        } else {
            on(step(Object::Container, &member.record.name, "Running"));
        }
    }
    let taken: BTreeSet<u32> = keep.iter().map(|m| m.number).collect();
    let mut number = 1;
    let mut made = 0;
    while keep.len() + made < want as usize {
        if !taken.contains(&number) {
            let cname = container_name(project, name, number);
            on(step(Object::Container, &cname, "Creating"));
            let mut warnings = Vec::new();
            let made_options = options(project, name, number, &mut |w| warnings.push(w))?;
            warnings.into_iter().for_each(|w| on(Progress::Warning(w)));
            let record = engine
                .create_container(made_options)
                .map_err(|e| Error::engine(format!("service {name:?}"), e))?;
            connect_more(engine, project, name, record.id.as_str())?;
            on(step(Object::Container, &cname, "Created"));
            to_start.push((record.id.to_string(), cname));
            changed = true;
            made += 1;
        }
        number += 1;
    }
    if !opts.no_start {
        for (id, cname) in to_start {
            on(step(Object::Container, &cname, "Starting"));
            match engine.start_container(&id) {
                Ok(started) => started.detach(),
                Err(e) => return Err(Error::engine(format!("container {cname}"), e)),
            }
            on(step(Object::Container, &cname, "Started"));
        }
    }
    Ok(changed)
}

/// The networks after the first (the engine joins one at create).
pub(super) fn connect_more(engine: &Engine, project: &Project, name: &str, id: &str) -> Result<()> {
    let service = project.service(name)?;
    for key in project.service_networks(service).iter().skip(1) {
        let bad = |e| Error::engine(format!("service {name:?}"), e);
        let (aliases, ip) = endpoint(service, name, key).map_err(bad)?;
        engine
            .connect_container(
                &project.network_name(key),
                id,
                ip,
                aliases,
                &Default::default(),
            )
            .map_err(bad)?;
    }
    Ok(())
}

/// A container whose config changed, replaced: the new one created under a temporary
/// name (a failure leaves the old one as it was), the old one stopped and removed (its
/// anonymous volumes handed on, named ones kept), then the new one renamed. Returns the
/// new container's ID.
fn recreate(
    engine: &Engine,
    project: &Project,
    name: &str,
    old: &Member,
    on: &mut dyn FnMut(Progress),
) -> Result<String> {
    let cname = old.record.name.clone();
    let object = |e| Error::engine(format!("container {cname}"), e);
    on(step(Object::Container, &cname, "Recreate"));
    let mut warnings = Vec::new();
    let mut options = options(project, name, old.number, &mut |w| warnings.push(w))?;
    warnings.into_iter().for_each(|w| on(Progress::Warning(w)));
    // The old container's anonymous volumes, by their destination, carry over.
    for mount in &mut options.mounts {
        if mount.kind == MountKind::Volume && mount.source.is_empty() {
            if let Some(kept) = old.record.config.mounts.iter().find(|m| {
                m.anonymous && m.kind == MountKind::Volume && m.destination == mount.destination
            }) {
                mount.source = kept.source.clone();
            }
        }
    }
    let temporary = format!("{}_{cname}", old.record.id.short());
    options.name = Some(temporary.clone());
    let record = engine
        .create_container(options)
        .map_err(|e| Error::engine(format!("service {name:?}"), e))?;
    connect_more(engine, project, name, record.id.as_str())?;
    if old.is_running() {
        engine
            .stop_container(old.record.id.as_str(), None, None)
            .map_err(object)?;
    }
    engine
        .remove_container(old.record.id.as_str(), true, false)
        .map_err(object)?;
    engine
        .rename_container(record.id.as_str(), &cname)
        .map_err(object)?;
    on(step(Object::Container, &cname, "Recreated"));
    Ok(record.id.to_string())
}

/// Blocks until every container of `service` meets `condition`; a dependency that fails
/// (unhealthy, exited, exited non-zero) is an error naming it.
pub(super) fn wait_for(
    engine: &Engine,
    project: &Project,
    service: &str,
    condition: Condition,
    timeout: Duration,
    on: &mut dyn FnMut(Progress),
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let mut announced = false;
    loop {
        let members: Vec<Member> = members(engine, &project.name)?
            .into_iter()
            .filter(|m| m.service == service && !m.oneoff)
            .collect();
        let mut done = true;
        for m in &members {
            let state = &m.record.state;
            let cname = &m.record.name;
            match condition {
                Condition::Started => {}
                Condition::Healthy => match state.health.as_ref().map(|h| h.status) {
                    Some(HealthStatus::Healthy) => {}
                    Some(HealthStatus::Unhealthy) => {
                        return Err(Error::Dependency(format!(
                            "dependency failed to start: container {cname} is unhealthy"
                        )))
                    }
                    _ if state.status != Status::Running => {
                        return Err(Error::Dependency(format!(
                            "dependency failed to start: container {cname} exited ({})",
                            state.exit_code.unwrap_or(0)
                        )))
                    }
                    Some(HealthStatus::Starting) => done = false,
                    None => {
                        return Err(Error::Dependency(format!(
                            "dependency failed to start: container {cname} has no healthcheck configured"
                        )))
                    }
                },
                Condition::CompletedSuccessfully => match state.status {
                    Status::Running => done = false,
                    _ => {
                        let code = state.exit_code.unwrap_or(0);
                        if code != 0 {
                            return Err(Error::Dependency(format!(
                                "service {service:?} didn't complete successfully: exit {code}"
                            )));
                        }
                    }
                },
            }
        }
        if done {
            if announced {
                let action = match condition {
                    Condition::Healthy => "Healthy",
                    Condition::CompletedSuccessfully => "Exited",
                    Condition::Started => "Started",
                };
                for m in &members {
                    on(step(Object::Container, &m.record.name, action));
                }
            }
            return Ok(());
        }
        if !announced {
            for m in &members {
                on(step(Object::Container, &m.record.name, "Waiting"));
            }
            announced = true;
        }
        if Instant::now() >= deadline {
            return Err(Error::Dependency(format!(
                "timeout waiting for service {service:?} ({})",
                condition.as_str()
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
