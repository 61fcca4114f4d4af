//! `run`: a one-off container of a service, as Docker Compose makes it. Its dependencies
//! are brought up first (unless `--no-deps`); the service is then taken with the
//! command line's changes (command, entrypoint, environment, user, ports...), named
//! `<project>-<service>-run-<id>` and labelled one-off, with no restart policy.

use super::create::options;
use super::up::{
    connect_more, ensure_image, ensure_networks, ensure_volumes, wait_for, UpOptions,
    DEPENDENCY_TIMEOUT,
};
use super::{labels, Error, Progress, Project, Result};
use crate::compose::model::Text;
use crate::engine::{ContainerRecord, Engine, MountKind, MountSpec, RestartPolicy};

/// `run`'s flags, after the front door read them.
#[derive(Debug, Default, Clone)]
pub struct RunOptions {
    pub service: String,
    /// Replaces the service's command when not empty.
    pub command: Vec<String>,
    /// `--entrypoint`, split in words as a shell would: replaces the service's, and its
    /// command unless one is given.
    pub entrypoint: Option<String>,
    pub name: Option<String>,
    /// `-e KEY=VALUE` or `-e KEY` (from berth's environment, left out when unset).
    pub env: Vec<String>,
    /// `-l KEY=VALUE`.
    pub labels: Vec<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    /// `-v` specs, as `run -v` reads them (relative sources are the project's).
    pub volumes: Vec<String>,
    /// `-p` specs; the service's own ports only with `service_ports`.
    pub publish: Vec<String>,
    pub service_ports: bool,
    /// `--cap-add` and `--cap-drop`: each over the service's, taking the name out of
    /// the other list, as Compose's.
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// `--use-aliases`: the service's network aliases on the one-off container too.
    pub use_aliases: bool,
    pub no_deps: bool,
    pub remove: bool,
    pub tty: bool,
    pub interactive: bool,
    /// Attach stdout and stderr (not `-d`).
    pub attach: bool,
}

/// Creates the one-off container (not started: the front door starts and attaches it as
/// `berth run` does). `up` brings the dependencies (its `pull` and `build` are used for
/// them and for the service's image).
pub fn run(
    engine: &Engine,
    project: &Project,
    opts: &RunOptions,
    up: &UpOptions,
    on: &mut dyn FnMut(Progress),
) -> Result<ContainerRecord> {
    // Checked first: nothing is made for a command line Compose refuses.
    if opts.service_ports && !opts.publish.is_empty() {
        return Err(Error::Invalid(
            "--service-ports and --publish are incompatible".into(),
        ));
    }
    let entrypoint = match &opts.entrypoint {
        Some(text) => Some(shlex::split(text).ok_or_else(|| {
            Error::Invalid(format!("invalid --entrypoint {text:?}: unbalanced quotes"))
        })?),
        None => None,
    };
    let target = project.service(&opts.service)?.clone();
    let dependencies: Vec<String> = target
        .depends_on
        .keys()
        .filter(|d| project.model.services.contains_key(*d))
        .cloned()
        .collect();
    if !opts.no_deps && !dependencies.is_empty() {
        let deps = UpOptions {
            services: dependencies,
            pull: up.pull,
            build: up.build,
            always_build: up.always_build,
            remove_orphans: up.remove_orphans,
            ..Default::default()
        };
        super::up(engine, project, &deps, on)?;
        for (dep, d) in &target.depends_on {
            if project.model.services.contains_key(dep) {
                wait_for(engine, project, dep, d.condition, DEPENDENCY_TIMEOUT, on)?;
            }
        }
    }
    ensure_image(engine, project, &opts.service, up)?;
    let alone = std::collections::BTreeSet::from([opts.service.clone()]);
    ensure_networks(engine, project, &alone, on)?;
    ensure_volumes(engine, project, &alone, on)?;
    let slug = slug();
    let name = opts
        .name
        .clone()
        .unwrap_or_else(|| format!("{}-{}-run-{}", project.name, opts.service, &slug[..12]));
    // The service as this run changes it, in a copy of the project.
    let mut changed = project.clone();
    let service = changed
        .model
        .services
        .get_mut(&opts.service)
        .ok_or_else(|| Error::Invalid(format!("no such service: {}", opts.service)))?;
    service.container_name = Some(name);
    service.tty = opts.tty;
    service.stdin_open = opts.interactive;
    service.restart = None;
    if !opts.command.is_empty() {
        service.command = Some(opts.command.iter().cloned().map(Text).collect());
    }
    if let Some(entrypoint) = &entrypoint {
        service.entrypoint = Some(entrypoint.iter().cloned().map(Text).collect());
        if opts.command.is_empty() {
            service.command = Some(Vec::new());
        }
    }
    if let Some(user) = &opts.user {
        service.user = Some(Text(user.clone()));
    }
    if let Some(dir) = &opts.workdir {
        service.working_dir = Some(dir.clone());
    }
    for entry in crate::ops::run_options::resolve_env(&opts.env) {
        let (k, v) = entry.split_once('=').unwrap_or((&entry, ""));
        service
            .environment
            .insert(k.to_owned(), Some(Text(v.to_owned())));
    }
    if !opts.service_ports {
        service.ports.clear();
    }
    service.cap_add.extend(opts.cap_add.iter().cloned());
    service.cap_drop.retain(|c| !opts.cap_add.contains(c));
    service.cap_drop.extend(opts.cap_drop.iter().cloned());
    service.cap_add.retain(|c| !opts.cap_drop.contains(c));
    for label in &opts.labels {
        let Some((k, v)) = label.split_once('=') else {
            return Err(Error::Invalid("label must be set as KEY=VALUE".into()));
        };
        service.labels.insert(k.to_owned(), v.to_owned());
    }
    let bad = |e| Error::engine(format!("service {:?}", opts.service), e);
    let mut create = options(&changed, &opts.service, 1, &mut |w| {
        on(Progress::Warning(w))
    })?;
    create.restart_policy = RestartPolicy::default();
    // Found by its name only, unless `--use-aliases`: the service's aliases are its
    // replicas'.
    if !opts.use_aliases {
        create.aliases.clear();
    }
    create.auto_remove = opts.remove;
    for spec in &opts.volumes {
        create.mounts.push(run_volume(project, spec).map_err(bad)?);
    }
    for spec in &opts.publish {
        create
            .ports
            .extend(crate::engine::parse_publish(spec).map_err(bad)?);
    }
    create.labels.remove(labels::NUMBER);
    create.labels.insert(labels::ONEOFF.into(), "True".into());
    create.labels.insert(labels::SLUG.into(), slug);
    create.attach = Some(crate::engine::AttachStreams {
        stdin: opts.attach && opts.interactive,
        stdout: opts.attach,
        stderr: opts.attach,
    });
    let record = engine
        .create_container(create)
        .map_err(|e| Error::engine(format!("service {:?}", opts.service), e))?;
    connect_more(engine, &changed, &opts.service, record.id.as_str())?;
    Ok(record)
}

/// A `-v` of `run`: relative bind sources from the project's directory, and a volume
/// the project declares by its name on the engine.
fn run_volume(project: &Project, spec: &str) -> crate::engine::Result<MountSpec> {
    let mut mount = MountSpec::parse_volume_flag(spec, &project.working_dir)?;
    if mount.kind == MountKind::Volume && project.model.volumes.contains_key(&mount.source) {
        mount.source = project.volume_name(&mount.source);
    }
    Ok(mount)
}

/// A one-off container's slug, as Compose's: 64 random hex digits (the name takes 12).
fn slug() -> String {
    let mut bytes = [0u8; 32];
    // Without randomness (never on Linux) the time still keeps names apart.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes[..16].copy_from_slice(&nanos.to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
