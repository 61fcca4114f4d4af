//! `berth compose`: Docker Compose v2's verbs, flags and output over `crate::compose`.
//! Only parsing and rendering here; what a verb does is `compose::project`'s.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use color_eyre::Result;
use serde_json::{json, Value};

use super::compose_verbs as verbs;
use super::output::{print_listing, Listing};
use crate::compose::load::{self, ConfigFormat, LoadOptions};
use crate::compose::project::{
    self, DownOptions, Progress, Project, RemoveImages, UpOptions, Verb,
};
use crate::engine::{Engine, LogReader, LOG_FILE};
use crate::format::{human_since, status_text};
use crate::ops::ports::ps_ports;

#[derive(Debug, Args)]
pub struct ComposeArgs {
    /// Compose configuration files
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Project name
    #[arg(short = 'p', long = "project-name", env = "COMPOSE_PROJECT_NAME")]
    pub project_name: Option<String>,
    /// Specify a profile to enable
    #[arg(long = "profile", value_name = "PROFILE")]
    pub profiles: Vec<String>,
    /// Specify an alternate environment file
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_files: Vec<PathBuf>,
    /// Specify an alternate working directory (default: the path of the first compose file)
    #[arg(long, value_name = "DIR")]
    pub project_directory: Option<PathBuf>,
    #[command(subcommand)]
    pub command: ComposeCommand,
}

#[derive(Debug, Subcommand)]
pub enum ComposeCommand {
    /// Create and start containers
    Up(UpArgs),
    /// Stop and remove containers, networks
    Down(DownArgs),
    /// List containers
    Ps(PsArgs),
    /// List running compose projects
    Ls(LsArgs),
    /// View output from containers
    Logs(LogsArgs),
    /// Start services
    Start(ServicesArgs),
    /// Stop services
    Stop(StopArgs),
    /// Restart service containers
    Restart(StopArgs),
    /// Force stop service containers
    Kill(KillArgs),
    /// Removes stopped service containers
    Rm(RmArgs),
    /// Parse, resolve and render compose file in canonical format
    Config(ConfigArgs),
    /// Build or rebuild services
    Build(verbs::BuildArgs),
    /// Creates containers for a service
    Create(verbs::CreateArgs),
    /// Run a one-off command on a service
    Run(verbs::RunArgs),
    /// Execute a command in a running container
    Exec(verbs::ExecArgs),
    /// Pause services
    Pause(ServicesArgs),
    /// Unpause services
    Unpause(ServicesArgs),
    /// Display the running processes
    Top(ServicesArgs),
    /// Print the public port for a port binding
    Port(verbs::PortArgs),
    /// List images used by the created containers
    Images(verbs::ImagesArgs),
    /// Copy files/folders between a service container and the local filesystem
    Cp(verbs::CpArgs),
    /// Block until containers of all (or specified) services stop
    Wait(verbs::WaitArgs),
    /// Receive real time events from containers
    Events(verbs::EventsArgs),
    /// Pull service images
    Pull(verbs::PullArgs),
    /// Push service images
    Push(verbs::PushArgs),
    /// Verbs of Docker Compose berth does not have yet
    #[command(external_subcommand)]
    Other(Vec<String>),
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Detached mode: Run containers in the background
    #[arg(short, long)]
    pub detach: bool,
    #[command(flatten)]
    pub making: verbs::MakingArgs,
    /// Wait for services to be running|healthy. Implies detached mode
    #[arg(long)]
    pub wait: bool,
    /// Maximum duration in seconds to wait for the project to be running|healthy
    #[arg(long, value_name = "SECONDS")]
    pub wait_timeout: Option<u64>,
    /// Don't start the services after creating them
    #[arg(long)]
    pub no_start: bool,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Remove named volumes declared in the "volumes" section of the Compose file and
    /// anonymous volumes attached to containers
    #[arg(short, long)]
    pub volumes: bool,
    /// Remove images used by services. "local" remove only images that don't have a
    /// custom tag ("local"|"all")
    #[arg(long, value_name = "TYPE")]
    pub rmi: Option<String>,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    /// Specify a shutdown timeout in seconds
    #[arg(short = 't', long)]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show all stopped containers (including those created by the run command)
    #[arg(short, long)]
    pub all: bool,
    /// Only display IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Display services
    #[arg(long)]
    pub services: bool,
    /// Format output: "table", "json", or a Go template
    #[arg(long, default_value = "")]
    pub format: String,
    pub service: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Show all stopped Compose projects
    #[arg(short, long)]
    pub all: bool,
    /// Only display project names
    #[arg(short, long)]
    pub quiet: bool,
    /// Format the output. Values: [table | json]
    #[arg(long, default_value = "table")]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short, long)]
    pub follow: bool,
    /// Number of lines to show from the end of the logs for each container
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Show timestamps
    #[arg(short, long)]
    pub timestamps: bool,
    /// Produce monochrome output
    #[arg(long)]
    pub no_color: bool,
    /// Don't print prefix in logs
    #[arg(long)]
    pub no_log_prefix: bool,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ServicesArgs {
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Specify a shutdown timeout in seconds
    #[arg(short = 't', long)]
    pub timeout: Option<u64>,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct KillArgs {
    /// SIGNAL to send to the container
    #[arg(short, long, default_value = "SIGKILL")]
    pub signal: String,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Don't ask to confirm removal
    #[arg(short, long)]
    pub force: bool,
    /// Stop the containers, if required, before removing
    #[arg(short, long)]
    pub stop: bool,
    /// Remove any anonymous volumes attached to containers
    #[arg(short, long)]
    pub volumes: bool,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Format the output. Values: [yaml | json]
    #[arg(long, default_value = "yaml")]
    pub format: String,
    /// Print the service names, one per line
    #[arg(long)]
    pub services: bool,
    /// Print the volume names, one per line
    #[arg(long)]
    pub volumes: bool,
}

/// Docker Compose's verbs berth does not have yet: answered as such, not as unknown.
const NOT_BUILT: &[&str] = &[
    "attach", "commit", "export", "publish", "scale", "stats", "version", "volumes", "watch",
];

/// Docker Compose's exit code for its own failures.
const FAILED: i32 = 1;

pub fn compose(engine: &Engine, args: &ComposeArgs) -> Result<i32> {
    use ComposeCommand::*;
    match &args.command {
        Up(up) => run_up(engine, args, up),
        Down(down) => run_down(engine, args, down),
        Ps(ps) => run_ps(engine, args, ps),
        Ls(ls) => run_ls(engine, ls),
        Logs(logs) => run_logs(engine, args, logs),
        Start(s) => verb(engine, args, &s.services, Verb::Start),
        Stop(s) => verb(engine, args, &s.services, Verb::Stop(seconds(s.timeout))),
        Restart(s) => verb(engine, args, &s.services, Verb::Restart(seconds(s.timeout))),
        Kill(k) => match crate::engine::parse_signal(&k.signal) {
            Some(signal) => verb(engine, args, &k.services, Verb::Kill(signal)),
            None => fail(format!("invalid signal: {}", k.signal)),
        },
        Rm(rm) => run_rm(engine, args, rm),
        Config(config) => run_config(args, config),
        Build(b) => verbs::run_build(engine, args, b),
        Create(c) => verbs::run_create(engine, args, c),
        Run(r) => verbs::run_run(engine, args, r),
        Exec(e) => verbs::run_exec(engine, args, e),
        Pause(s) => verb(engine, args, &s.services, Verb::Pause),
        Unpause(s) => verb(engine, args, &s.services, Verb::Unpause),
        Top(s) => verbs::run_top(engine, args, &s.services),
        Port(p) => verbs::run_port(engine, args, p),
        Images(i) => verbs::run_images(engine, args, i),
        Cp(c) => verbs::run_cp(engine, args, c),
        Wait(w) => verbs::run_wait(engine, args, w),
        Events(e) => verbs::run_events(engine, args, e),
        Pull(p) => verbs::run_pull(engine, args, p),
        Push(p) => verbs::run_push(engine, args, p),
        Other(words) => {
            let verb = words.first().map(String::as_str).unwrap_or_default();
            if NOT_BUILT.contains(&verb) {
                fail(format!(
                    "berth compose {verb} is not built yet: see 'berth compose --help' for the verbs berth has"
                ))
            } else {
                fail(format!(
                    "unknown command \"compose {verb}\": see 'berth compose --help'"
                ))
            }
        }
    }
}

fn seconds(s: Option<u64>) -> Option<Duration> {
    s.map(Duration::from_secs)
}

pub(super) fn fail(message: impl std::fmt::Display) -> Result<i32> {
    eprintln!("Error: {message}");
    Ok(FAILED)
}

fn load_options(args: &ComposeArgs) -> Result<LoadOptions> {
    Ok(LoadOptions {
        files: args.files.clone(),
        project_name: args.project_name.clone(),
        project_directory: args.project_directory.clone(),
        profiles: args.profiles.clone(),
        named_services: Vec::new(),
        env_files: args.env_files.clone(),
        environment: std::env::vars().collect(),
        working_dir: std::env::current_dir()?,
    })
}

/// The project the flags and files name, with the loader's warnings printed.
pub(super) fn load_project(args: &ComposeArgs) -> Result<std::result::Result<Project, String>> {
    load_project_naming(args, &[])
}

/// [`load_project`] for a verb that names `services`: one a profile disables is enabled.
pub(super) fn load_project_naming(
    args: &ComposeArgs,
    services: &[String],
) -> Result<std::result::Result<Project, String>> {
    let options = LoadOptions {
        named_services: services.to_vec(),
        ..load_options(args)?
    };
    let loaded = match load::load(&options) {
        Ok(loaded) => loaded,
        Err(e) => return Ok(Err(e.to_string())),
    };
    for warning in &loaded.warnings {
        warn(warning);
    }
    Ok(Project::from_loaded(&loaded).map_err(|e| e.to_string()))
}

/// The project's name for verbs that work from labels: `-p`, else the files'.
pub(super) fn project_name(
    args: &ComposeArgs,
) -> Result<std::result::Result<(String, Option<Project>), String>> {
    if let (Some(name), true) = (&args.project_name, args.files.is_empty()) {
        // A project without its file (gone, or elsewhere) is still found by its labels.
        if let Ok(Ok(project)) = load_project(args) {
            return Ok(Ok((project.name.clone(), Some(project))));
        }
        return Ok(Ok((name.clone(), None)));
    }
    Ok(load_project(args)?.map(|p| (p.name.clone(), Some(p))))
}

fn warn(message: &str) {
    eprintln!("WARN[0000] {message}");
}

/// Docker Compose's plain progress lines, on stderr.
pub(super) fn show(progress: Progress) {
    match progress {
        Progress::Step {
            object,
            name,
            action,
        } => eprintln!(" {} {name}  {action}", object.as_str()),
        Progress::Warning(w) => warn(&w),
    }
}

/// A service's image pulled, with `pull`'s progress on stderr (none when `quiet`).
pub(super) fn pull_image(engine: &Engine, image: &str, quiet: bool) -> crate::engine::Result<()> {
    let reference: crate::engine::Reference = image.parse()?;
    let options = crate::settings::Settings::load()?.pull_options(None, &[])?;
    super::image::pull_reporting(
        engine,
        &reference,
        &options,
        quiet,
        super::pull_progress::Out::Stderr,
    )
    .map(drop)
}

fn run_up(engine: &Engine, args: &ComposeArgs, up: &UpArgs) -> Result<i32> {
    let project = match load_project_naming(args, &up.services)? {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let pull = |image: &str| pull_image(engine, image, false);
    let build = |plan: &project::BuildPlan| verbs::build_image(engine, plan);
    let opts = match up.making.options(&up.services, &pull, &build) {
        Ok(opts) => UpOptions {
            no_start: up.no_start,
            wait: up.wait,
            wait_timeout: up.wait_timeout.map(Duration::from_secs),
            ..opts
        },
        Err(e) => return fail(e),
    };
    if let Err(e) = project::up(engine, &project, &opts, &mut show) {
        return fail(e);
    }
    if up.detach || up.wait || up.no_start {
        return Ok(0);
    }
    attached(engine, &project, &up.services)
}

/// `up` without `-d`: the services' output until they all stop; the first ctrl-c stops
/// them (a second one ends berth at once), as Docker Compose's.
fn attached(engine: &Engine, project: &Project, services: &[String]) -> Result<i32> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let interrupt = super::interrupt::Interrupt::start(move || flag.store(true, Ordering::SeqCst))?;
    let chosen: Vec<String> = project
        .with_dependencies(services)
        .map(|s| s.into_iter().collect())
        .unwrap_or_default();
    let view = LogView {
        services: &chosen,
        tail: None,
        timestamps: false,
        colour: std::io::stdout().is_terminal(),
        prefix: true,
        follow: true,
    };
    print_logs(engine, &project.name, &view, Some(&stop))?;
    if interrupt.received().is_none() {
        return Ok(0);
    }
    eprintln!("Gracefully stopping... (press Ctrl+C again to force)");
    match project::run_verb(engine, &project.name, &chosen, Verb::Stop(None), &mut show) {
        // As Docker Compose after an interrupt.
        Ok(()) => Ok(130),
        Err(e) => fail(e),
    }
}

fn run_down(engine: &Engine, args: &ComposeArgs, down: &DownArgs) -> Result<i32> {
    let remove_images = match down.rmi.as_deref() {
        None => None,
        Some("local") => Some(RemoveImages::Local),
        Some("all") => Some(RemoveImages::All),
        Some(other) => {
            return fail(format!(
                "invalid --rmi value {other:?}: use \"local\" or \"all\""
            ))
        }
    };
    let (name, project) = match project_name(args)? {
        Ok(found) => found,
        Err(e) => return fail(e),
    };
    let opts = DownOptions {
        volumes: down.volumes,
        remove_images,
        remove_orphans: down.remove_orphans,
        timeout: seconds(down.timeout),
    };
    match project::down(engine, &name, project.as_ref(), &opts, &mut show) {
        Ok(()) => Ok(0),
        Err(e) => fail(e),
    }
}

fn verb(engine: &Engine, args: &ComposeArgs, services: &[String], verb: Verb) -> Result<i32> {
    let (name, project) = match project_name(args)? {
        Ok(found) => found,
        Err(e) => return fail(e),
    };
    if let Some(project) = &project {
        for service in services {
            if let Err(e) = project.service(service) {
                return fail(e);
            }
        }
    }
    match project::run_verb(engine, &name, services, verb, &mut show) {
        Ok(()) => Ok(0),
        Err(e) => fail(e),
    }
}

/// `rm`: the stopped containers (running ones too with `-s`), after Docker Compose's
/// question unless `-f`.
fn run_rm(engine: &Engine, args: &ComposeArgs, rm: &RmArgs) -> Result<i32> {
    let (name, _) = match project_name(args)? {
        Ok(found) => found,
        Err(e) => return fail(e),
    };
    let members = match project::members(engine, &name) {
        Ok(m) => m,
        Err(e) => return fail(e),
    };
    let going: Vec<&str> = members
        .iter()
        .filter(|m| !m.oneoff && (rm.services.is_empty() || rm.services.contains(&m.service)))
        .filter(|m| rm.stop || !m.is_running())
        .map(|m| m.record.name.as_str())
        .collect();
    if going.is_empty() {
        eprintln!("No stopped containers");
        return Ok(0);
    }
    if !rm.force {
        eprintln!("Going to remove {}", going.join(", "));
        if !super::output::confirm("? Are you sure?")? {
            return Ok(0);
        }
    }
    let verb = Verb::Rm {
        stop: rm.stop,
        volumes: rm.volumes,
    };
    match project::run_verb(engine, &name, &rm.services, verb, &mut show) {
        Ok(()) => Ok(0),
        Err(e) => fail(e),
    }
}

const PS_TITLES: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Name", "NAME"),
    ("Names", "NAMES"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("Project", "PROJECT"),
    ("Service", "SERVICE"),
    ("RunningFor", "CREATED"),
    ("State", "STATE"),
    ("Status", "STATUS"),
    ("Health", "HEALTH"),
    ("ExitCode", "EXIT CODE"),
    ("Ports", "PORTS"),
];

fn run_ps(engine: &Engine, args: &ComposeArgs, ps: &PsArgs) -> Result<i32> {
    let (name, project) = match project_name(args)? {
        Ok(found) => found,
        Err(e) => return fail(e),
    };
    if let Some(project) = &project {
        for service in &ps.service {
            if let Err(e) = project.service(service) {
                return fail(e);
            }
        }
    }
    let members: Vec<project::Member> = match project::members(engine, &name) {
        Ok(m) => m,
        Err(e) => return fail(e),
    }
    .into_iter()
    // One-off (`run`) containers only with `-a`, as Docker Compose's.
    .filter(|m| ps.all || (m.is_running() && !m.oneoff))
    .filter(|m| ps.service.is_empty() || ps.service.contains(&m.service))
    .collect();
    if ps.services {
        let mut services: Vec<&str> = members.iter().map(|m| m.service.as_str()).collect();
        services.dedup();
        services.iter().for_each(|s| println!("{s}"));
        return Ok(0);
    }
    if ps.quiet {
        members.iter().for_each(|m| println!("{}", m.record.id));
        return Ok(0);
    }
    let rows: Vec<Value> = members
        .iter()
        .map(|m| {
            let r = &m.record;
            let cmd = r.config.args().join(" ");
            json!({
                "ID": r.id.to_string(),
                "Name": r.name,
                "Names": r.name,
                "Image": r.image,
                "Command": format!("\"{}\"", crate::format::truncate(&cmd, 20)),
                "Project": name,
                "Service": m.service,
                "Created": r.created.timestamp(),
                "RunningFor": human_since(r.created),
                "State": r.state.name(),
                "Status": status_text(r),
                "Health": r.state.health.as_ref().map(|h| h.status.as_str()).unwrap_or(""),
                "ExitCode": r.state.exit_code.unwrap_or(0),
                "Ports": ps_ports(r),
                "Labels": super::output::key_values(&r.config.labels, ","),
            })
        })
        .collect();
    print_listing(
        &ps.format,
        &rows,
        &Listing {
            kind: "compose ps",
            titles: PS_TITLES,
            default: "table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}",
        },
    )?;
    Ok(0)
}

fn run_ls(engine: &Engine, ls: &LsArgs) -> Result<i32> {
    let projects = match project::projects(engine, ls.all) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    if ls.quiet {
        projects.iter().for_each(|p| println!("{}", p.name));
        return Ok(0);
    }
    let rows: Vec<Value> = projects
        .iter()
        .map(|p| json!({"Name": p.name, "Status": p.status, "ConfigFiles": p.config_files}))
        .collect();
    match ls.format.as_str() {
        // Docker Compose prints one JSON array.
        "json" => println!("{}", serde_json::to_string(&rows)?),
        "table" | "" => print_listing(
            "",
            &rows,
            &Listing {
                kind: "compose ls",
                titles: &[
                    ("Name", "NAME"),
                    ("Status", "STATUS"),
                    ("ConfigFiles", "CONFIG FILES"),
                ],
                default: "table {{.Name}}\t{{.Status}}\t{{.ConfigFiles}}",
            },
        )?,
        other => {
            return fail(format!(
                "format value {other:?} could not be parsed: use table or json"
            ))
        }
    }
    Ok(0)
}

fn run_config(args: &ComposeArgs, config: &ConfigArgs) -> Result<i32> {
    let loaded = match load::load(&load_options(args)?) {
        Ok(loaded) => loaded,
        Err(e) => return fail(e),
    };
    for warning in &loaded.warnings {
        warn(warning);
    }
    let keys = |section: &str| -> Vec<String> {
        loaded.model[section]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    if config.services {
        keys("services").iter().for_each(|s| println!("{s}"));
        return Ok(0);
    }
    if config.volumes {
        keys("volumes").iter().for_each(|s| println!("{s}"));
        return Ok(0);
    }
    let format = match config.format.as_str() {
        "yaml" => ConfigFormat::Yaml,
        "json" => ConfigFormat::Json,
        other => return fail(format!("unsupported format {other:?}: use yaml or json")),
    };
    print!("{}", load::render(&loaded.model, format));
    Ok(0)
}

/// Docker Compose's colours for the log prefixes, one per container in turn.
const COLOURS: [&str; 6] = ["36", "33", "32", "35", "34", "31"];

/// One container's log as `logs` prints it: `prefix | line`, padded to the widest.
struct Source {
    prefix: String,
    reader: LogReader,
    id: String,
}

fn run_logs(engine: &Engine, args: &ComposeArgs, logs: &LogsArgs) -> Result<i32> {
    let (name, project) = match project_name(args)? {
        Ok(found) => found,
        Err(e) => return fail(e),
    };
    if let Some(project) = &project {
        for service in &logs.services {
            if let Err(e) = project.service(service) {
                return fail(e);
            }
        }
    }
    let tail: Option<usize> = match logs.tail.as_str() {
        "all" | "-1" => None,
        n => match n.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                return fail(format!(
                    "invalid --tail value {n:?}: use a number or \"all\""
                ))
            }
        },
    };
    let shown = LogView {
        services: &logs.services,
        tail,
        timestamps: logs.timestamps,
        colour: std::io::stdout().is_terminal() && !logs.no_color,
        prefix: !logs.no_log_prefix,
        follow: logs.follow,
    };
    print_logs(engine, &name, &shown, None)
}

/// What `logs` (and an attached `up`) shows.
struct LogView<'a> {
    services: &'a [String],
    tail: Option<usize>,
    timestamps: bool,
    colour: bool,
    prefix: bool,
    follow: bool,
}

/// The project's logs as `view` says; following, until every container has stopped or
/// `stop` is set.
fn print_logs(
    engine: &Engine,
    name: &str,
    view: &LogView,
    stop: Option<&std::sync::atomic::AtomicBool>,
) -> Result<i32> {
    let members: Vec<project::Member> = match project::members(engine, name) {
        Ok(m) => m,
        Err(e) => return fail(e),
    }
    .into_iter()
    .filter(|m| !m.oneoff && (view.services.is_empty() || view.services.contains(&m.service)))
    .collect();
    let width = members
        .iter()
        .map(|m| m.log_label(name).len())
        .max()
        .unwrap_or(0);
    let mut sources = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let text = format!("{:width$} | ", m.log_label(name));
        let prefix = match (view.prefix, view.colour) {
            (false, _) => String::new(),
            (true, true) => format!("\x1b[{}m{text}\x1b[0m", COLOURS[i % COLOURS.len()]),
            (true, false) => text,
        };
        let path = engine.paths().container(&m.record.id).join(LOG_FILE);
        let mut reader = LogReader::open(&path)?;
        if let Some(n) = view.tail {
            reader.tail(n)?;
        }
        sources.push(Source {
            prefix,
            reader,
            id: m.record.id.to_string(),
        });
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let timestamps = view.timestamps;
    for source in &mut sources {
        let prefix = source.prefix.clone();
        source
            .reader
            .read(&mut |e| log_line(&mut out, &prefix, timestamps, e))?;
    }
    out.flush()?;
    if !view.follow {
        return Ok(0);
    }
    loop {
        if stop.is_some_and(|s| s.load(std::sync::atomic::Ordering::SeqCst)) {
            return Ok(0);
        }
        let mut running = false;
        for source in &mut sources {
            let prefix = source.prefix.clone();
            source
                .reader
                .follow(&mut |e| log_line(&mut out, &prefix, timestamps, e))?;
            running |= engine
                .container(&source.id)
                .is_ok_and(|r| r.state.status == crate::engine::Status::Running);
        }
        std::io::Write::flush(&mut out)?;
        if !running {
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One entry as `prefix | [time ]line`: both streams on stdout, as Docker Compose's
/// merged view.
fn log_line(
    out: &mut impl Write,
    prefix: &str,
    timestamps: bool,
    e: &crate::engine::LogEntry,
) -> crate::engine::Result<()> {
    use crate::engine::Context;
    let time = if timestamps {
        e.time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true) + " "
    } else {
        String::new()
    };
    let line = e.log.strip_suffix('\n').unwrap_or(&e.log);
    writeln!(out, "{prefix}{time}{line}").context(|| "writing the logs".into())
}
