//! Docker Compose's semantics on berth's engine: a project's containers found by their
//! `com.docker.compose.*` labels, `up`'s convergence (`up.rs`), the service to container
//! mapping (`create.rs`), `down` with the lifecycle verbs (`verbs.rs`), image builds
//! (`build.rs`), one-off containers (`run.rs`), the project's images (`images.rs`) and
//! what one container of a service answers (`lookups.rs`). The CLI and the
//! dashboard call these and only render what they report.

mod build;
mod create;
mod images;
mod lookups;
mod run;
mod up;
mod verbs;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;

use super::load::Loaded;
use super::model::{Model, Service};
use crate::engine::{ContainerRecord, Engine, ErrorKind, Status};

pub use build::{build, plan as build_plan, Build, BuildFlags, BuildPlan};
pub use images::{images, pull, push, ImageUse, Push};
pub use lookups::{event_of, port, wait, ProjectEvent};
pub use run::{run, RunOptions};
pub use up::{up, Pull, UpOptions};
pub use verbs::{down, run_verb, DownOptions, RemoveImages, Verb};

/// The labels Docker Compose puts on what it makes, which `ls`, `ps` and `down` find
/// projects by, wherever they run from.
pub mod labels {
    pub const PROJECT: &str = "com.docker.compose.project";
    pub const SERVICE: &str = "com.docker.compose.service";
    pub const NUMBER: &str = "com.docker.compose.container-number";
    pub const ONEOFF: &str = "com.docker.compose.oneoff";
    pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
    pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
    pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
    pub const DEPENDS_ON: &str = "com.docker.compose.depends_on";
    pub const VERSION: &str = "com.docker.compose.version";
    pub const NETWORK: &str = "com.docker.compose.network";
    pub const VOLUME: &str = "com.docker.compose.volume";
    pub const SLUG: &str = "com.docker.compose.slug";
}

/// A compose failure, with the kind a front door maps to its exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The project as written can't be run: an unknown service, a cycle, no image.
    #[error("{0}")]
    Invalid(String),
    /// The engine refused an object (`object` names it: a service, container, network).
    #[error("{object}: {cause}")]
    Engine {
        object: String,
        cause: crate::engine::Error,
    },
    /// A dependency did not reach its condition, or `--wait` saw a service fail.
    #[error("{0}")]
    Dependency(String),
    /// A service's image build failed (the build has said why on its own output).
    #[error("service {service:?} failed to build: {message}")]
    Build { service: String, message: String },
    /// No container of the service is there to act on (`exec`, `port`, `cp`).
    #[error("{0}")]
    NotRunning(String),
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Invalid(_) => ErrorKind::InvalidArgument,
            Error::Engine { cause, .. } => cause.kind(),
            Error::Dependency(_) | Error::Build { .. } => ErrorKind::Internal,
            Error::NotRunning(_) => ErrorKind::Conflict,
        }
    }

    fn engine(object: impl Into<String>, cause: crate::engine::Error) -> Error {
        Error::Engine {
            object: object.into(),
            cause,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// What `up`, `down` and the verbs report as they go, as Docker Compose's progress lines
/// (` Container demo-web-1  Started`), and the warnings it prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Step {
        object: Object,
        name: String,
        action: &'static str,
    },
    Warning(String),
}

/// A progress line: `object` `name` is at `action` (`Creating`, `Started`, `Removed`...).
fn step(object: Object, name: &str, action: &'static str) -> Progress {
    Progress::Step {
        object,
        name: name.to_owned(),
        action,
    }
}

/// The kind of object a progress line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    Network,
    Volume,
    Container,
    Image,
    Service,
}

impl Object {
    pub fn as_str(self) -> &'static str {
        match self {
            Object::Network => "Network",
            Object::Volume => "Volume",
            Object::Container => "Container",
            Object::Image => "Image",
            Object::Service => "Service",
        }
    }
}

/// A loaded project, typed and checked: every dependency named exists, no cycle, every
/// service has an image.
#[derive(Debug, Clone)]
pub struct Project {
    pub name: String,
    pub working_dir: PathBuf,
    pub config_files: Vec<PathBuf>,
    pub model: Model,
    /// Each service's canonical value, what its config hash is taken of.
    values: BTreeMap<String, Value>,
    /// Services the active profiles leave out: their containers are not orphans.
    pub disabled: Vec<String>,
}

impl Project {
    /// Whether a container of service `service` is an orphan: its service is in neither
    /// the model nor the services the profiles leave out.
    pub(crate) fn orphaned(&self, service: &str) -> bool {
        !self.model.services.contains_key(service) && !self.disabled.iter().any(|d| d == service)
    }

    pub fn from_loaded(loaded: &Loaded) -> Result<Project> {
        let model = Model::from_value(&loaded.model).map_err(Error::Invalid)?;
        let values = loaded
            .model
            .get("services")
            .and_then(Value::as_object)
            .map(|s| s.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let project = Project {
            name: loaded.name.clone(),
            working_dir: loaded.working_dir.clone(),
            config_files: loaded.config_files.clone(),
            model,
            values,
            disabled: loaded.disabled_services.clone(),
        };
        project.check()?;
        Ok(project)
    }

    fn check(&self) -> Result<()> {
        for (name, service) in &self.model.services {
            if service.image.is_none() && service.build.is_none() {
                return Err(Error::Invalid(format!(
                    "service {name:?} has neither an image nor a build context specified: invalid compose project"
                )));
            }
            for (dep, d) in &service.depends_on {
                if d.required && !self.model.services.contains_key(dep) {
                    return Err(Error::Invalid(format!(
                        "service {name:?} depends on undefined service {dep:?}: invalid compose project"
                    )));
                }
            }
        }
        self.order(&self.model.services.keys().cloned().collect())?;
        Ok(())
    }

    /// `names` and what they depend on, transitively; an unknown name is refused.
    pub fn with_dependencies(&self, names: &[String]) -> Result<BTreeSet<String>> {
        if names.is_empty() {
            return Ok(self.model.services.keys().cloned().collect());
        }
        let mut chosen = BTreeSet::new();
        let mut todo: Vec<String> = names.to_vec();
        while let Some(name) = todo.pop() {
            let service = self.service(&name)?;
            if chosen.insert(name.clone()) {
                todo.extend(
                    service
                        .depends_on
                        .keys()
                        .filter(|d| self.model.services.contains_key(*d))
                        .cloned(),
                );
            }
        }
        Ok(chosen)
    }

    pub fn service(&self, name: &str) -> Result<&Service> {
        self.model
            .services
            .get(name)
            .ok_or_else(|| Error::Invalid(format!("no such service: {name}")))
    }

    /// `chosen` in start order: each after what it depends on (by name among equals).
    pub fn order(&self, chosen: &BTreeSet<String>) -> Result<Vec<String>> {
        let mut order = Vec::new();
        let mut done = BTreeSet::new();
        let mut left: Vec<&String> = chosen.iter().collect();
        while !left.is_empty() {
            let ready: Vec<&String> = left
                .iter()
                .copied()
                .filter(|name| {
                    self.model.services[*name]
                        .depends_on
                        .keys()
                        .all(|d| done.contains(d) || !chosen.contains(d))
                })
                .collect();
            if ready.is_empty() {
                let names: Vec<&str> = left.iter().map(|s| s.as_str()).collect();
                return Err(Error::Invalid(format!(
                    "dependency cycle detected between services {}",
                    names.join(", ")
                )));
            }
            for name in ready {
                done.insert(name.clone());
                order.push(name.clone());
            }
            left.retain(|n| !done.contains(*n));
        }
        Ok(order)
    }

    /// The service's config hash, as the `config-hash` label: SHA-256 of its canonical
    /// JSON with keys sorted, leaving out what doesn't change a container (how many run,
    /// how its image is made, its profiles, its dependencies).
    pub fn config_hash(&self, service: &str) -> String {
        let mut value = self.values.get(service).cloned().unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            for key in ["build", "pull_policy", "scale", "profiles", "depends_on"] {
                map.remove(key);
            }
            if let Some(Value::Object(deploy)) = map.get_mut("deploy") {
                deploy.remove("replicas");
            }
        }
        let text = serde_json::to_string(&sorted(value)).unwrap_or_default();
        crate::engine::Digest::of_bytes(text.as_bytes())
            .hex()
            .to_owned()
    }

    /// The image a service runs: its `image`, else the one `build` makes,
    /// `<project>-<service>`.
    pub fn image_of(&self, service: &str) -> String {
        match self
            .model
            .services
            .get(service)
            .and_then(|s| s.image.clone())
        {
            Some(image) => image,
            None => format!("{}-{service}", self.name),
        }
    }

    /// The name of a network or volume of the model on the engine.
    fn network_name(&self, key: &str) -> String {
        self.model
            .networks
            .get(key)
            .and_then(|n| n.name.clone())
            .unwrap_or_else(|| format!("{}_{key}", self.name))
    }

    fn volume_name(&self, key: &str) -> String {
        self.model
            .volumes
            .get(key)
            .and_then(|v| v.name.clone())
            .unwrap_or_else(|| format!("{}_{key}", self.name))
    }

    /// The networks a service joins, by model key, in order: `default` when it names none.
    fn service_networks(&self, service: &Service) -> Vec<String> {
        if service.network_mode.is_some() {
            return Vec::new();
        }
        match &service.networks {
            Some(networks) if !networks.is_empty() => networks.keys().cloned().collect(),
            _ => vec!["default".to_owned()],
        }
    }
}

fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<String, Value> =
                map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// A project's container as compose sees it.
#[derive(Debug, Clone)]
pub struct Member {
    pub service: String,
    pub number: u32,
    pub oneoff: bool,
    pub record: ContainerRecord,
}

impl Member {
    fn of(record: ContainerRecord, project: &str) -> Option<Member> {
        let labels = &record.config.labels;
        if labels.get(labels::PROJECT).map(String::as_str) != Some(project) {
            return None;
        }
        Some(Member {
            service: labels.get(labels::SERVICE).cloned().unwrap_or_default(),
            number: labels
                .get(labels::NUMBER)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
            oneoff: labels.get(labels::ONEOFF).map(String::as_str) == Some("True"),
            record,
        })
    }

    /// Docker Compose's log prefix: the container's name without the project's
    /// (`web-1`).
    pub fn log_label(&self, project: &str) -> &str {
        self.record
            .name
            .strip_prefix(project)
            .and_then(|rest| rest.strip_prefix('-'))
            .unwrap_or(&self.record.name)
    }

    pub fn is_running(&self) -> bool {
        self.record.state.status == Status::Running
    }
}

/// The container of `service` a one-container verb (`exec`, `port`, `cp`) acts on, as
/// Docker Compose picks it: replica `index` (1 and up), else the lowest-numbered, one-off
/// containers last; only running ones unless `all`.
pub fn service_container(
    engine: &Engine,
    name: &str,
    service: &str,
    index: Option<u32>,
    all: bool,
) -> Result<Member> {
    let mut found: Vec<Member> = members(engine, name)?
        .into_iter()
        .filter(|m| m.service == service && (all || m.is_running()))
        .filter(|m| index.is_none_or(|i| !m.oneoff && m.number == i))
        .collect();
    found.sort_by_key(|m| (m.oneoff, m.number));
    match (found.into_iter().next(), index) {
        (Some(member), _) => Ok(member),
        (None, Some(i)) => Err(Error::NotRunning(format!(
            "service {service:?} is not running container #{i}"
        ))),
        (None, None) => Err(Error::NotRunning(format!(
            "service {service:?} is not running"
        ))),
    }
}

/// The containers of project `name` (one-off ones too), by service then number.
pub fn members(engine: &Engine, name: &str) -> Result<Vec<Member>> {
    let mut members: Vec<Member> = engine
        .list_containers()
        .map_err(|e| Error::engine(format!("project {name}"), e))?
        .into_iter()
        .filter_map(|r| Member::of(r, name))
        .collect();
    members.sort_by(|a, b| (&a.service, a.number).cmp(&(&b.service, b.number)));
    Ok(members)
}

/// One line of `compose ls`: a project found by its containers' labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSummary {
    pub name: String,
    /// Docker Compose's words: `running(2)`, `exited(1), running(1)`.
    pub status: String,
    /// Every file of its containers' labels, once each, comma-separated.
    pub config_files: String,
    pub working_dir: String,
}

/// The projects on the engine, by name, from their containers' labels: as Docker
/// Compose's `ls`, only running containers count unless `all`.
pub fn projects(engine: &Engine, all: bool) -> Result<Vec<ProjectSummary>> {
    let records = engine
        .list_containers()
        .map_err(|e| Error::engine("containers", e))?;
    let mut by_project: BTreeMap<String, Vec<ContainerRecord>> = BTreeMap::new();
    for record in records
        .into_iter()
        .filter(|r| all || r.state.status == Status::Running)
    {
        if let Some(project) = record.config.labels.get(labels::PROJECT).cloned() {
            by_project.entry(project).or_default().push(record);
        }
    }
    Ok(by_project
        .into_iter()
        .map(|(name, records)| {
            let mut states: BTreeMap<&str, usize> = BTreeMap::new();
            for r in &records {
                *states.entry(r.state.name()).or_default() += 1;
            }
            let mut files: Vec<&str> = Vec::new();
            for r in &records {
                let listed = r.config.labels.get(labels::CONFIG_FILES);
                for file in listed.iter().flat_map(|f| f.split(',')) {
                    if !files.contains(&file) {
                        files.push(file);
                    }
                }
            }
            let working_dir = records
                .iter()
                .find_map(|r| r.config.labels.get(labels::WORKING_DIR).cloned())
                .unwrap_or_default();
            ProjectSummary {
                status: states
                    .iter()
                    .map(|(state, n)| format!("{state}({n})"))
                    .collect::<Vec<_>>()
                    .join(", "),
                config_files: files.join(","),
                working_dir,
                name,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(model: Value) -> Result<Project> {
        Project::from_loaded(&Loaded {
            name: "p".into(),
            working_dir: "/w".into(),
            config_files: vec!["/w/compose.yaml".into()],
            model,
            warnings: Vec::new(),
            disabled_services: Vec::new(),
        })
    }

    #[test]
    fn start_order_follows_dependencies_and_cycles_are_refused() {
        let p = project(serde_json::json!({"services": {
            "web": {"image": "i", "depends_on": {"db": {"condition": "service_healthy"}}},
            "db": {"image": "i"},
            "a": {"image": "i", "depends_on": {"web": {}}}
        }}))
        .unwrap();
        let all = p.with_dependencies(&[]).unwrap();
        assert_eq!(p.order(&all).unwrap(), ["db", "web", "a"]);
        let web = p.with_dependencies(&["web".into()]).unwrap();
        assert_eq!(p.order(&web).unwrap(), ["db", "web"]);
        let cycle = project(serde_json::json!({"services": {
            "a": {"image": "i", "depends_on": {"b": {}}},
            "b": {"image": "i", "depends_on": {"a": {}}}
        }}));
        assert!(cycle.unwrap_err().to_string().contains("cycle"));
        let unknown = project(serde_json::json!({"services": {
            "a": {"image": "i", "depends_on": {"nope": {}}}
        }}));
        assert!(unknown
            .unwrap_err()
            .to_string()
            .contains("undefined service \"nope\""));
    }

    #[test]
    fn the_hash_ignores_replicas_and_key_order_but_not_the_command() {
        let a = project(serde_json::json!({"services": {"s": {
            "image": "i", "command": ["a"], "deploy": {"replicas": 1}, "user": "1"}}}))
        .unwrap();
        let b = project(serde_json::json!({"services": {"s": {
            "user": "1", "deploy": {"replicas": 3}, "command": ["a"], "image": "i"}}}))
        .unwrap();
        let c = project(serde_json::json!({"services": {"s": {"image": "i", "command": ["b"]}}}))
            .unwrap();
        assert_eq!(a.config_hash("s"), b.config_hash("s"));
        assert_ne!(a.config_hash("s"), c.config_hash("s"));
    }
}
