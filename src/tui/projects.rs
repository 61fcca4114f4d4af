//! The Projects pane's data: compose projects found by their containers'
//! `com.docker.compose.*` labels (from wherever berth runs), each with its services; what
//! the project's compose files say now (read off the draw loop), for the "changed on
//! disk" marker and the services a profile leaves off; and the compose actions the pane
//! runs through `compose::project`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use crate::compose::load::{self, LoadOptions};
use crate::compose::project::{self, labels, DownOptions, Project, UpOptions, Verb};
use crate::engine::{ContainerRecord, Engine, HealthStatus, Status};

/// Where a project's files are, as its containers' labels say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSource {
    pub name: String,
    pub config_files: Vec<PathBuf>,
    pub working_dir: Option<PathBuf>,
}

/// What a project's compose files say now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnDisk {
    /// Each service's config hash as the files give it (with every profile on).
    pub hashes: BTreeMap<String, String>,
    /// Each service's profiles (none: always on).
    pub profiles: BTreeMap<String, Vec<String>>,
    /// Why the files could not be read (gone, no longer valid): one line.
    pub error: Option<String>,
}

/// The pane's state beside its cursor: the files as last read, and the profiles the user
/// turned on or off per project.
#[derive(Debug, Clone, Default)]
pub struct ProjectsPane {
    pub disk: HashMap<String, OnDisk>,
    /// Ticks since the files were last asked for.
    pub ticks: u32,
    /// Per project, the profiles `up` runs with; a project not here runs with the
    /// profiles of the services it has containers for.
    pub profiles: HashMap<String, BTreeSet<String>>,
}

/// One row of the pane: a project, or one of its services under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    Project(ProjectRow),
    Service(ServiceRow),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRow {
    pub name: String,
    /// Docker Compose's words: `running(2)`, `exited(1), running(1)`.
    pub status: String,
    pub config_files: String,
    /// A service's containers were made from other settings than the files give now.
    pub changed: bool,
    /// The files could not be read: why.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRow {
    pub project: String,
    pub service: String,
    /// `running`, `exited (3)`, `running 1/2`, or `off` for a service a profile leaves
    /// without containers.
    pub state: String,
    /// `healthy`, `starting`, `unhealthy`, or empty when it has no check.
    pub health: String,
    /// Running containers, and all of them.
    pub replicas: (usize, usize),
    pub ports: String,
    pub profiles: Vec<String>,
    pub changed: Changed,
}

/// How a service's containers compare with the compose files now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    /// Same config hash, or the files are not read yet.
    No,
    /// The files give another config hash: an `up` recreates it.
    Yes,
    /// The files no longer have the service: an orphan.
    Gone,
}

impl Row {
    pub fn project(&self) -> &str {
        match self {
            Row::Project(p) => &p.name,
            Row::Service(s) => &s.project,
        }
    }

    /// The service a row is about (none for a project's row).
    pub fn service(&self) -> Option<&str> {
        match self {
            Row::Project(_) => None,
            Row::Service(s) => Some(&s.service),
        }
    }
}

/// The project labels of `record`, if compose made it (not a one-off `run` container).
fn project_of(record: &ContainerRecord) -> Option<&str> {
    let labels = &record.config.labels;
    if labels.get(labels::ONEOFF).map(String::as_str) == Some("True") {
        return None;
    }
    labels.get(labels::PROJECT).map(String::as_str)
}

/// The projects on the engine and where their files are, by name.
pub fn sources(containers: &[ContainerRecord]) -> Vec<ProjectSource> {
    let mut found: BTreeMap<&str, ProjectSource> = BTreeMap::new();
    for record in containers {
        let Some(name) = project_of(record) else {
            continue;
        };
        let source = found.entry(name).or_insert_with(|| ProjectSource {
            name: name.to_owned(),
            config_files: Vec::new(),
            working_dir: None,
        });
        add_files(&mut source.config_files, record);
        if source.working_dir.is_none() {
            let labels = &record.config.labels;
            source.working_dir = labels.get(labels::WORKING_DIR).map(PathBuf::from);
        }
    }
    found.into_values().collect()
}

/// The files `record`'s labels name that `files` does not hold yet, added in order.
fn add_files(files: &mut Vec<PathBuf>, record: &ContainerRecord) {
    let listed = record.config.labels.get(labels::CONFIG_FILES);
    for file in listed
        .into_iter()
        .flat_map(|f| f.split(','))
        .filter(|f| !f.is_empty())
    {
        let file = PathBuf::from(file);
        if !files.contains(&file) {
            files.push(file);
        }
    }
}

/// The pane's rows: each project, then its services by name (those a profile leaves off
/// too, once the files are read).
pub fn rows(containers: &[ContainerRecord], pane: &ProjectsPane) -> Vec<Row> {
    let mut by_project: BTreeMap<&str, BTreeMap<&str, Vec<&ContainerRecord>>> = BTreeMap::new();
    for record in containers {
        if let Some(project) = project_of(record) {
            let service = record
                .config
                .labels
                .get(labels::SERVICE)
                .map_or("", String::as_str);
            by_project
                .entry(project)
                .or_default()
                .entry(service)
                .or_default()
                .push(record);
        }
    }
    let mut rows = Vec::new();
    for (project, services) in by_project {
        let disk = pane.disk.get(project);
        let mut service_rows: Vec<ServiceRow> = services
            .iter()
            .map(|(service, records)| service_row(project, service, records, disk))
            .collect();
        // Services of the files without containers: a profile left them off.
        if let Some(disk) = disk {
            for (service, profiles) in &disk.profiles {
                if !services.contains_key(service.as_str()) {
                    service_rows.push(ServiceRow {
                        project: project.to_owned(),
                        service: service.clone(),
                        state: "off".to_owned(),
                        health: String::new(),
                        replicas: (0, 0),
                        ports: String::new(),
                        profiles: profiles.clone(),
                        changed: Changed::No,
                    });
                }
            }
        }
        service_rows.sort_by(|a, b| a.service.cmp(&b.service));
        let all: Vec<&ContainerRecord> = services.values().flatten().copied().collect();
        let mut states: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &all {
            *states.entry(r.state.name()).or_default() += 1;
        }
        let status = states
            .iter()
            .map(|(state, n)| format!("{state}({n})"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut files = Vec::new();
        for record in &all {
            add_files(&mut files, record);
        }
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        rows.push(Row::Project(ProjectRow {
            name: project.to_owned(),
            status,
            config_files: files.join(","),
            changed: service_rows.iter().any(|s| s.changed != Changed::No),
            error: disk.and_then(|d| d.error.clone()),
        }));
        rows.extend(service_rows.into_iter().map(Row::Service));
    }
    rows
}

fn service_row(
    project: &str,
    service: &str,
    records: &[&ContainerRecord],
    disk: Option<&OnDisk>,
) -> ServiceRow {
    let running = records
        .iter()
        .filter(|r| r.state.status == Status::Running)
        .count();
    let total = records.len();
    let state = match (running, total) {
        (r, t) if r == t => "running".to_owned(),
        (0, 1) => match records[0].state.status {
            Status::Exited => format!("exited ({})", records[0].state.exit_code.unwrap_or(0)),
            _ => records[0].state.name().to_owned(),
        },
        (0, _) => "exited".to_owned(),
        (r, t) => format!("running {r}/{t}"),
    };
    // The worst health among its running containers.
    let health = records
        .iter()
        .filter(|r| r.state.status == Status::Running)
        .filter_map(|r| r.state.health.as_ref().map(|h| h.status))
        .max_by_key(|s| match s {
            HealthStatus::Healthy => 0,
            HealthStatus::Starting => 1,
            _ => 2,
        })
        .map(|s| match s {
            HealthStatus::Starting => "starting",
            other => other.as_str(),
        })
        .unwrap_or_default()
        .to_owned();
    let mut ports: Vec<String> = records
        .iter()
        .map(|r| crate::ops::ports::ps_ports(r))
        .filter(|p| !p.is_empty())
        .collect();
    ports.dedup();
    let changed = match disk.filter(|d| d.error.is_none()) {
        None => Changed::No,
        Some(disk) => match disk.hashes.get(service) {
            None => Changed::Gone,
            Some(hash) => {
                let differs = records.iter().any(|r| {
                    r.config.labels.get(labels::CONFIG_HASH).map(String::as_str)
                        != Some(hash.as_str())
                });
                if differs {
                    Changed::Yes
                } else {
                    Changed::No
                }
            }
        },
    };
    ServiceRow {
        project: project.to_owned(),
        service: service.to_owned(),
        state,
        health,
        replicas: (running, total),
        ports: ports.join(", "),
        profiles: disk
            .and_then(|d| d.profiles.get(service).cloned())
            .unwrap_or_default(),
        changed,
    }
}

/// Load options for a project's files as its labels name them, from the dashboard's
/// environment (as the CLI run there would load them).
fn load_options(source: &ProjectSource, profiles: Vec<String>, named: Vec<String>) -> LoadOptions {
    let working_dir = source
        .working_dir
        .clone()
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("/"));
    LoadOptions {
        files: source.config_files.clone(),
        project_name: Some(source.name.clone()),
        project_directory: source.working_dir.clone(),
        profiles,
        named_services: named,
        env_files: Vec::new(),
        environment: std::env::vars().collect(),
        working_dir,
    }
}

/// What `source`'s files say now, with every profile on. A project whose containers
/// name no file (made by hand with the labels) has nothing on disk to compare.
pub fn read_disk(source: &ProjectSource) -> OnDisk {
    if source.config_files.is_empty() {
        return OnDisk {
            error: Some("no compose file in its labels".to_owned()),
            ..OnDisk::default()
        };
    }
    let loaded = load::load(&load_options(source, vec!["*".to_owned()], Vec::new()))
        .map_err(|e| e.to_string())
        .and_then(|loaded| Project::from_loaded(&loaded).map_err(|e| e.to_string()));
    match loaded {
        Ok(project) => OnDisk {
            hashes: project
                .model
                .services
                .keys()
                .map(|s| (s.clone(), project.config_hash(s)))
                .collect(),
            profiles: project
                .model
                .services
                .iter()
                .map(|(name, s)| (name.clone(), s.profiles.clone()))
                .collect(),
            error: None,
        },
        Err(e) => OnDisk {
            error: Some(e),
            ..OnDisk::default()
        },
    }
}

/// A compose action of the pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComposeOp {
    Up,
    Down,
    Restart,
    /// `up --force-recreate`.
    Recreate,
}

impl ComposeOp {
    pub fn verb(self) -> &'static str {
        match self {
            ComposeOp::Up => "up",
            ComposeOp::Down => "down",
            ComposeOp::Restart => "restart",
            ComposeOp::Recreate => "recreate",
        }
    }
}

/// A compose action on a project, or on one of its services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeJob {
    pub op: ComposeOp,
    pub source: ProjectSource,
    pub service: Option<String>,
    /// The profiles `up` runs with.
    pub profiles: Vec<String>,
}

impl ComposeJob {
    /// `web of demo`, or `demo`: what the footer and the status line name.
    pub fn object(&self) -> String {
        match &self.service {
            Some(service) => format!("{service} of {}", self.source.name),
            None => self.source.name.clone(),
        }
    }

    /// Runs the job on `engine` (a worker thread's call): `Ok` says what was done.
    pub fn run(&self, engine: &Engine) -> Result<String, String> {
        let services: Vec<String> = self.service.iter().cloned().collect();
        let mut warnings = Vec::new();
        let mut on = |progress: project::Progress| {
            if let project::Progress::Warning(w) = progress {
                warnings.push(w);
            }
        };
        match self.op {
            ComposeOp::Up | ComposeOp::Recreate => {
                let options = load_options(&self.source, self.profiles.clone(), services.clone());
                let loaded = load::load(&options).map_err(|e| e.to_string())?;
                let project = Project::from_loaded(&loaded).map_err(|e| e.to_string())?;
                let opts = UpOptions {
                    services,
                    force_recreate: self.op == ComposeOp::Recreate,
                    no_recreate: false,
                    remove_orphans: false,
                    no_start: false,
                    wait: false,
                    wait_timeout: None,
                    scale: BTreeMap::new(),
                    pull: None,
                    // A rebuild goes through the `:` line (`compose up --build`), whose
                    // build prints its progress.
                    build: None,
                    always_build: false,
                };
                project::up(engine, &project, &opts, &mut on).map_err(|e| e.to_string())?;
            }
            ComposeOp::Down if services.is_empty() => {
                let opts = DownOptions {
                    volumes: false,
                    remove_images: None,
                    remove_orphans: false,
                    timeout: None,
                };
                project::down(engine, &self.source.name, None, &opts, &mut on)
                    .map_err(|e| e.to_string())?;
            }
            // A service's down: `compose rm -s -f SERVICE`, as Compose has no down of one.
            ComposeOp::Down => project::run_verb(
                engine,
                &self.source.name,
                &services,
                Verb::Rm {
                    stop: true,
                    volumes: false,
                },
                &mut on,
            )
            .map_err(|e| e.to_string())?,
            ComposeOp::Restart => project::run_verb(
                engine,
                &self.source.name,
                &services,
                Verb::Restart(None),
                &mut on,
            )
            .map_err(|e| e.to_string())?,
        }
        let done = match self.op {
            ComposeOp::Up => "up",
            ComposeOp::Down => "down",
            ComposeOp::Restart => "restarted",
            ComposeOp::Recreate => "recreated",
        };
        let mut said = format!("{} {done}", self.object());
        if let Some(w) = warnings.first() {
            said.push_str(&format!(" ({w})"));
        }
        Ok(said)
    }
}

/// The profiles `up` runs a project with: the user's choice, else those of the services
/// it has containers for.
pub fn active_profiles(pane: &ProjectsPane, rows: &[Row], project: &str) -> BTreeSet<String> {
    if let Some(chosen) = pane.profiles.get(project) {
        return chosen.clone();
    }
    rows.iter()
        .filter_map(|r| match r {
            Row::Service(s) if s.project == project && s.replicas.1 > 0 => Some(&s.profiles),
            _ => None,
        })
        .flatten()
        .cloned()
        .collect()
}

/// Lines of each container's log the merged view reads: the tail, as `logs --tail`.
const LOG_TAIL: usize = 500;
/// Lines the merged view keeps, newest last.
pub const LOG_KEPT: usize = 2000;

/// A project's (or a service's) logs, merged by time, each line with its container's
/// prefix and colour, as `compose logs` prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectLogs {
    pub title: String,
    pub lines: Vec<LogLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Which of the containers it came from, in order: its colour.
    pub source: usize,
    /// `web-1 | `, padded to the longest.
    pub prefix: String,
    pub text: String,
}

/// Reads the tail of each container's log of `project` (or of its `service`) and merges
/// them by time (a worker thread's call).
pub fn read_logs(
    engine: &Engine,
    project_name: &str,
    service: Option<&str>,
) -> Result<ProjectLogs, String> {
    let members: Vec<project::Member> = project::members(engine, project_name)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|m| !m.oneoff && service.is_none_or(|s| s == m.service))
        .collect();
    let width = members
        .iter()
        .map(|m| m.log_label(project_name).len())
        .max()
        .unwrap_or(0);
    let mut entries = Vec::new();
    for (source, member) in members.iter().enumerate() {
        let path = engine
            .paths()
            .container(&member.record.id)
            .join(crate::engine::LOG_FILE);
        let mut reader = crate::engine::LogReader::open(&path).map_err(|e| e.to_string())?;
        reader.tail(LOG_TAIL).map_err(|e| e.to_string())?;
        let prefix = format!("{:width$} | ", member.log_label(project_name));
        reader
            .read(&mut |entry| {
                entries.push((entry.time, source, prefix.clone(), entry.log.clone()));
                Ok(())
            })
            .map_err(|e| e.to_string())?;
    }
    // Stable: lines of one container at the same instant keep their order.
    entries.sort_by_key(|(time, source, _, _)| (*time, *source));
    let skip = entries.len().saturating_sub(LOG_KEPT);
    let lines = entries
        .into_iter()
        .skip(skip)
        .map(|(_, source, prefix, text)| LogLine {
            source,
            prefix,
            text: text.trim_end_matches('\n').to_owned(),
        })
        .collect();
    let title = match service {
        Some(service) => format!("logs of {service} ({project_name})"),
        None => format!("logs of {project_name}"),
    };
    Ok(ProjectLogs { title, lines })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::update::testing::container;

    fn member(
        name: &str,
        project: &str,
        service: &str,
        hash: &str,
        status: Status,
    ) -> ContainerRecord {
        let mut record = container(name, status, 0);
        let labels = &mut record.config.labels;
        labels.insert(labels::PROJECT.into(), project.into());
        labels.insert(labels::SERVICE.into(), service.into());
        labels.insert(labels::CONFIG_HASH.into(), hash.into());
        labels.insert(
            labels::CONFIG_FILES.into(),
            format!("/p/{project}/compose.yaml"),
        );
        labels.insert(labels::WORKING_DIR.into(), format!("/p/{project}"));
        record
    }

    #[test]
    fn projects_and_services_come_from_labels_and_the_files_mark_what_changed() {
        let containers = vec![
            member("demo-web-1", "demo", "web", "h1", Status::Running),
            member("demo-web-2", "demo", "web", "h1", Status::Exited),
            member("demo-db-1", "demo", "db", "h2", Status::Running),
            container("loose", Status::Running, 0),
        ];
        let mut pane = ProjectsPane::default();
        let rows = rows(&containers, &pane);
        assert_eq!(rows.len(), 3);
        let Row::Project(p) = &rows[0] else {
            panic!("{rows:?}")
        };
        assert_eq!(p.name, "demo");
        assert_eq!(p.status, "exited(1), running(2)");
        assert!(!p.changed);
        let Row::Service(web) = &rows[2] else {
            panic!("{rows:?}")
        };
        assert_eq!((web.service.as_str(), web.replicas), ("web", (1, 2)));
        assert_eq!(web.state, "running 1/2");
        // The files now give web another hash, drop db and add a service a profile
        // leaves off.
        pane.disk.insert(
            "demo".into(),
            OnDisk {
                hashes: [("web".into(), "h9".into()), ("debug".into(), "h3".into())].into(),
                profiles: [
                    ("web".into(), Vec::new()),
                    ("debug".into(), vec!["debug".to_owned()]),
                ]
                .into(),
                error: None,
            },
        );
        let rows = super::rows(&containers, &pane);
        let services: Vec<(&str, Changed, &str)> = rows
            .iter()
            .filter_map(|r| match r {
                Row::Service(s) => Some((s.service.as_str(), s.changed, s.state.as_str())),
                _ => None,
            })
            .collect();
        assert_eq!(
            services,
            [
                ("db", Changed::Gone, "running"),
                ("debug", Changed::No, "off"),
                ("web", Changed::Yes, "running 1/2"),
            ]
        );
        assert!(matches!(&rows[0], Row::Project(p) if p.changed));
        assert_eq!(
            sources(&containers),
            [ProjectSource {
                name: "demo".into(),
                config_files: vec!["/p/demo/compose.yaml".into()],
                working_dir: Some("/p/demo".into()),
            }]
        );
        // Profiles: those of the services with containers, until the user picks.
        assert!(active_profiles(&pane, &rows, "demo").is_empty());
        pane.profiles
            .insert("demo".into(), ["debug".to_owned()].into());
        assert_eq!(
            active_profiles(&pane, &rows, "demo"),
            ["debug".to_owned()].into()
        );
    }
}
