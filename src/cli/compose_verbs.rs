//! `berth compose` verbs beyond the lifecycle ones: `build`, `create`, `run`, `exec`,
//! `top`, `port`, `images`, `cp`, `wait`, `events`, `pull` and `push`. Flags and output
//! are Docker Compose v2's; what each does is `compose::project`'s, and the container
//! work goes through the same code as `berth build`, `run`, `exec`, `cp` and `top`.

use std::io::{IsTerminal, Write};

use clap::Args;
use color_eyre::Result;
use serde_json::{json, Value};

use super::compose::{fail, load_project, project_name, pull_image, show, ComposeArgs};
use super::output::{human_since, human_size, print_listing, Listing};
use crate::compose::project::{self, BuildFlags, BuildPlan, Member, RunOptions, UpOptions};
use crate::engine::{parse_private_port, Engine};

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Do not use cache when building the image
    #[arg(long)]
    pub no_cache: bool,
    /// Always attempt to pull a newer version of the image
    #[arg(long)]
    pub pull: bool,
    /// Set build-time variables for services
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,
    pub services: Vec<String>,
}

/// The flags `up` and `create` share: how the project's containers are made.
#[derive(Debug, Args)]
pub struct MakingArgs {
    /// Build images before starting containers
    #[arg(long)]
    pub build: bool,
    /// Recreate containers even if their configuration and image haven't changed
    #[arg(long, conflicts_with = "no_recreate")]
    pub force_recreate: bool,
    /// If containers already exist, don't recreate them
    #[arg(long)]
    pub no_recreate: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    /// Scale SERVICE to NUM instances
    // Listed last in each verb's help, after `up`'s own flags, as it always was.
    #[arg(long, value_name = "SERVICE=NUM", display_order = 100)]
    pub scale: Vec<String>,
}

impl MakingArgs {
    /// `up`'s options for these flags, with the front door's pull and build, or the
    /// one-line error of a bad `--scale`.
    pub(super) fn options<'a>(
        &self,
        services: &[String],
        pull: &'a dyn Fn(&str) -> crate::engine::Result<()>,
        build: &'a dyn Fn(&BuildPlan) -> std::result::Result<(), String>,
    ) -> std::result::Result<UpOptions<'a>, String> {
        Ok(UpOptions {
            services: services.to_vec(),
            force_recreate: self.force_recreate,
            no_recreate: self.no_recreate,
            remove_orphans: self.remove_orphans,
            scale: scales(&self.scale)?,
            ..making(pull, build, self.build)
        })
    }
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub making: MakingArgs,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run container in background and print container ID
    #[arg(short, long)]
    pub detach: bool,
    /// Set environment variables
    #[arg(short, long = "env", value_name = "KEY[=VALUE]")]
    pub env: Vec<String>,
    /// Add or override a label
    #[arg(short, long = "label", value_name = "KEY=VALUE")]
    pub label: Vec<String>,
    /// Automatically remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Disable pseudo-TTY allocation (default: auto-detected)
    #[arg(short = 'T', long = "no-tty", visible_alias = "no-TTY")]
    pub no_tty: bool,
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Run as specified username or uid
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long, value_name = "DIR")]
    pub workdir: Option<String>,
    /// Override the entrypoint of the image
    #[arg(long, value_name = "COMMAND")]
    pub entrypoint: Option<String>,
    /// Don't start linked services
    #[arg(long)]
    pub no_deps: bool,
    /// Bind mount a volume
    #[arg(short, long = "volume")]
    pub volume: Vec<String>,
    /// Publish a container's port(s) to the host
    #[arg(short, long = "publish", value_name = "PORTS")]
    pub publish: Vec<String>,
    /// Run command with all service's ports enabled and mapped to the host
    #[arg(short = 'P', long)]
    pub service_ports: bool,
    /// Use the service's network aliases in the network(s) the container connects to
    #[arg(long)]
    pub use_aliases: bool,
    /// Add Linux capabilities
    #[arg(long = "cap-add", value_name = "CAP")]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long = "cap-drop", value_name = "CAP")]
    pub cap_drop: Vec<String>,
    /// Build image before starting container
    #[arg(long)]
    pub build: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    /// Keep STDIN open even if not attached (the default)
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY (the default on a terminal)
    #[arg(short, long, hide = true)]
    pub tty: bool,
    /// The service to run a one-off container of
    pub service: String,
    /// The command and its arguments (default: the service's)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Detached mode: Run command in the background
    #[arg(short, long)]
    pub detach: bool,
    /// Set environment variables
    #[arg(short, long = "env", value_name = "KEY[=VALUE]")]
    pub env: Vec<String>,
    /// Index of the container if service has multiple replicas
    #[arg(long, default_value_t = 0)]
    pub index: u32,
    /// Run the command as this user
    #[arg(short, long)]
    pub user: Option<String>,
    /// Disable pseudo-TTY allocation. By default 'berth compose exec' allocates a TTY
    /// on a terminal
    #[arg(short = 'T', long = "no-tty", visible_alias = "no-TTY")]
    pub no_tty: bool,
    /// Path to workdir directory for this command
    #[arg(short, long, value_name = "DIR")]
    pub workdir: Option<String>,
    /// Keep STDIN open even if not attached (the default)
    #[arg(short, long, hide = true)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY (the default on a terminal)
    #[arg(short, long, hide = true)]
    pub tty: bool,
    /// The service whose container runs the command
    pub service: String,
    /// The command and its arguments
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PortArgs {
    /// tcp or udp
    #[arg(long, default_value = "tcp")]
    pub protocol: String,
    /// Index of the container if service has multiple replicas
    #[arg(long, default_value_t = 0)]
    pub index: u32,
    pub service: String,
    /// The container's port
    pub private_port: String,
}

#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Format the output. Values: [table | json]
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Only display IDs
    #[arg(short, long)]
    pub quiet: bool,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CpArgs {
    /// Index of the container if service has multiple replicas
    #[arg(long, default_value_t = 0)]
    pub index: u32,
    /// Include containers created by the run command
    #[arg(long)]
    pub all: bool,
    /// Always follow symbol link in SRC_PATH
    #[arg(short = 'L', long = "follow-link")]
    pub follow_link: bool,
    /// Archive mode (copy all uid/gid information)
    #[arg(short, long)]
    pub archive: bool,
    /// SERVICE:SRC_PATH, or a host path (or -)
    pub src: String,
    /// SERVICE:DEST_PATH, or a host path (or -)
    pub dest: String,
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Drops project when the first container stops
    #[arg(long)]
    pub down_project: bool,
    #[arg(required = true)]
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Output events as a stream of json objects
    #[arg(long)]
    pub json: bool,
    /// Show all events created since timestamp
    #[arg(long)]
    pub since: Option<String>,
    /// Stream events until this timestamp
    #[arg(long)]
    pub until: Option<String>,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// Pull what it can and ignores images with pull failures
    #[arg(long)]
    pub ignore_pull_failures: bool,
    /// Pull without printing progress information
    #[arg(short, long)]
    pub quiet: bool,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Push what it can and ignores images with push failures
    #[arg(long)]
    pub ignore_push_failures: bool,
    /// Push without printing progress information
    #[arg(short, long)]
    pub quiet: bool,
    pub services: Vec<String>,
}

/// A service's image built by the code `berth build` runs, with its progress on stderr
/// and its last-build record kept; the error is its one line.
pub(super) fn build_image(engine: &Engine, plan: &BuildPlan) -> std::result::Result<(), String> {
    let args = super::build::BuildArgs {
        tags: plan.tags.clone(),
        file: Some(plan.dockerfile.display().to_string()),
        target: plan.target.clone(),
        build_args: plan.args.clone(),
        no_cache: plan.no_cache,
        pull: plan.pull,
        labels: plan.labels.clone(),
        network: "default".into(),
        progress: "auto".into(),
        // Compose's build prints nothing on stdout.
        quiet: false,
        iidfile: None,
        platform: None,
        context: plan.context.clone(),
    };
    match super::build::build(engine, &args) {
        Ok(0) => {
            eprintln!(" Service {}  Built", plan.service);
            Ok(())
        }
        Ok(code) => Err(format!("the build exited with {code}")),
        Err(e) => Err(e.to_string()),
    }
}

pub fn run_build(engine: &Engine, args: &ComposeArgs, build: &BuildArgs) -> Result<i32> {
    let project = match load_project(args)? {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let flags = BuildFlags {
        no_cache: build.no_cache,
        pull: build.pull,
        args: build.build_args.clone(),
    };
    let builder = |plan: &BuildPlan| build_image(engine, plan);
    match project::build(&project, &build.services, &flags, &builder) {
        Ok(()) => Ok(0),
        Err(e) => fail(e),
    }
}

/// `--scale SERVICE=NUM` entries, or the one-line error.
fn scales(
    entries: &[String],
) -> std::result::Result<std::collections::BTreeMap<String, u32>, String> {
    let mut scale = std::collections::BTreeMap::new();
    for entry in entries {
        match entry.split_once('=').map(|(s, n)| (s, n.parse::<u32>())) {
            Some((service, Ok(n))) => {
                scale.insert(service.to_owned(), n);
            }
            _ => return Err(format!("invalid --scale value {entry:?}: use SERVICE=NUM")),
        }
    }
    Ok(scale)
}

/// The `up` options every verb that makes containers shares: the front door's pull and
/// build.
pub(super) fn making<'a>(
    pull: &'a dyn Fn(&str) -> crate::engine::Result<()>,
    build: &'a dyn Fn(&BuildPlan) -> std::result::Result<(), String>,
    always_build: bool,
) -> UpOptions<'a> {
    UpOptions {
        pull: Some(pull),
        build: Some(build),
        always_build,
        ..Default::default()
    }
}

pub fn run_create(engine: &Engine, args: &ComposeArgs, create: &CreateArgs) -> Result<i32> {
    let project = match load_project(args)? {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let pull = |image: &str| pull_image(engine, image, false);
    let build = |plan: &BuildPlan| build_image(engine, plan);
    let opts = match create.making.options(&create.services, &pull, &build) {
        Ok(opts) => UpOptions {
            no_start: true,
            ..opts
        },
        Err(e) => return fail(e),
    };
    match project::up(engine, &project, &opts, &mut show) {
        Ok(()) => Ok(0),
        Err(e) => fail(e),
    }
}

/// Compose's terminal rule for `run` and `exec`: a TTY when stdout is a terminal, unless
/// `-T`; `-t` asks for one; with neither flag nor `-i`, none when stdin is no terminal
/// (a script piping into it).
fn wants_tty(no_tty: bool, tty: bool, interactive: bool) -> std::result::Result<bool, String> {
    if tty && no_tty {
        return Err("--tty and --no-tty can't be used together".into());
    }
    if tty {
        return Ok(true);
    }
    if no_tty || (!interactive && !std::io::stdin().is_terminal()) {
        return Ok(false);
    }
    Ok(std::io::stdout().is_terminal())
}

/// `run`: the one-off container made by `project::run`, then started and attached as
/// `berth run` does; exits with its command's code (`-d`: prints its ID).
pub fn run_run(engine: &Engine, args: &ComposeArgs, run: &RunArgs) -> Result<i32> {
    let project = match load_project(args)? {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let tty = match wants_tty(run.no_tty, run.tty, run.interactive) {
        Ok(tty) => tty,
        Err(e) => return fail(e),
    };
    // Compose keeps stdin open by default; it is only attached when not detached.
    let interactive = true;
    if !run.detach && tty && !std::io::stdin().is_terminal() {
        return fail("the input device is not a TTY");
    }
    let detach_keys = super::attach::DetachSequence::chosen(None)?;
    let opts = RunOptions {
        service: run.service.clone(),
        command: run.command.clone(),
        entrypoint: run.entrypoint.clone(),
        name: run.name.clone(),
        env: run.env.clone(),
        labels: run.label.clone(),
        user: run.user.clone(),
        workdir: run.workdir.clone(),
        volumes: run.volume.clone(),
        publish: run.publish.clone(),
        service_ports: run.service_ports,
        cap_add: run.cap_add.clone(),
        cap_drop: run.cap_drop.clone(),
        use_aliases: run.use_aliases,
        no_deps: run.no_deps,
        remove: run.rm,
        tty,
        interactive,
        attach: !run.detach,
    };
    let pull = |image: &str| pull_image(engine, image, false);
    let build = |plan: &BuildPlan| build_image(engine, plan);
    let up = UpOptions {
        remove_orphans: run.remove_orphans,
        ..making(&pull, &build, run.build)
    };
    let record = match project::run(engine, &project, &opts, &up, &mut show) {
        Ok(record) => record,
        Err(e) => return fail(e),
    };
    // A command that can't start exits as `berth run`'s (126, 127, 125).
    let started = match engine.start_container(record.id.as_str()) {
        Ok(started) => started,
        Err(e) => {
            let message = match &e {
                crate::engine::Error::StartFailed { message, .. } => message.clone(),
                other => other.to_string(),
            };
            eprintln!(
                "Error: failed to start container {}: {message}",
                record.name
            );
            return Ok(crate::ops::status::run_exit_code(&e));
        }
    };
    if run.detach {
        started.detach();
        println!("{}", record.id);
        return Ok(0);
    }
    let options = super::attach::AttachOptions {
        stdin: interactive,
        tty,
        sig_proxy: true,
        stdout: true,
        stderr: true,
    };
    super::attach::attach_with(engine, started, options, detach_keys)
}

/// `--index N`: replica N; 0 (the default) is the first.
fn index(n: u32) -> Option<u32> {
    (n > 0).then_some(n)
}

/// `exec`: through `berth exec`'s own path, in the service's chosen container.
pub fn run_exec(engine: &Engine, args: &ComposeArgs, exec: &ExecArgs) -> Result<i32> {
    let (name, _) = match project_name(args)? {
        Ok(found) => found,
        Err(e) => return fail(e),
    };
    let tty = match wants_tty(exec.no_tty, exec.tty, true) {
        Ok(tty) => tty,
        Err(e) => return fail(e),
    };
    let member =
        match project::service_container(engine, &name, &exec.service, index(exec.index), false) {
            Ok(m) => m,
            Err(e) => return fail(e),
        };
    let same = super::container::ExecArgs {
        interactive: !exec.detach,
        tty,
        detach: exec.detach,
        env: exec.env.clone(),
        user: exec.user.clone(),
        workdir: exec.workdir.clone(),
        container: member.record.id.to_string(),
        command: exec.command.clone(),
    };
    super::container::exec(engine, &same)
}

const TOP_TITLES: [&str; 2] = ["SERVICE", "#"];

/// `top`: one table of every running container's processes, each row led by its service
/// and replica number, as Docker Compose's; the process columns are `berth top`'s.
pub fn run_top(engine: &Engine, args: &ComposeArgs, services: &[String]) -> Result<i32> {
    let (name, _) = match project_name(args)? {
        Ok(found) => found,
        Err(e) => return fail(e),
    };
    let mut members: Vec<Member> = match project::members(engine, &name) {
        Ok(m) => m,
        Err(e) => return fail(e),
    }
    .into_iter()
    .filter(|m| m.is_running() && (services.is_empty() || services.contains(&m.service)))
    .collect();
    members.sort_by(|a, b| a.record.name.cmp(&b.record.name));
    let mut header: Vec<String> = Vec::new();
    let mut rows: Vec<Vec<String>> = Vec::new();
    for m in &members {
        let (titles, processes) = super::stats::processes(engine, m.record.id.as_str(), &[])?;
        header = titles;
        for process in processes {
            let lead = [m.service.clone(), m.number.to_string()];
            rows.push(lead.into_iter().chain(process).collect());
        }
    }
    if rows.is_empty() {
        return Ok(0);
    }
    let mut text = String::new();
    let titles: Vec<&str> = TOP_TITLES
        .iter()
        .copied()
        .chain(header.iter().map(String::as_str))
        .collect();
    text.push_str(&titles.join("\t"));
    for row in &rows {
        text.push('\n');
        text.push_str(&row.join("\t"));
    }
    let mut out = super::output::shown_stdout();
    // Compose's tabwriter: minimum width 4, padding 2.
    writeln!(out, "{}", super::output::tabwrite_with(&text, 4, 2))?;
    Ok(0)
}

pub fn run_port(engine: &Engine, args: &ComposeArgs, port: &PortArgs) -> Result<i32> {
    let (number, protocol) = match port.private_port.parse::<u16>() {
        Ok(n) => match parse_private_port(&format!("{n}/{}", port.protocol.to_lowercase())) {
            Ok(parsed) => parsed,
            Err(e) => return fail(e),
        },
        // Go's words, as Compose reads the port with strconv.ParseUint.
        Err(e) => {
            let why = match e.kind() {
                std::num::IntErrorKind::PosOverflow => "value out of range",
                _ => "invalid syntax",
            };
            return fail(format!(
                "strconv.ParseUint: parsing {:?}: {why}",
                port.private_port
            ));
        }
    };
    let (name, _) = match project_name(args)? {
        Ok(found) => found,
        Err(e) => return fail(e),
    };
    match project::port(
        engine,
        &name,
        &port.service,
        number,
        protocol,
        index(port.index),
    ) {
        Ok(host) => {
            println!("{host}");
            Ok(0)
        }
        Err(e) => fail(e),
    }
}

const IMAGES_TITLES: &[(&str, &str)] = &[
    ("ContainerName", "CONTAINER"),
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("Platform", "PLATFORM"),
    ("ShortID", "IMAGE ID"),
    ("HumanSize", "SIZE"),
    ("CreatedSince", "CREATED"),
];

pub fn run_images(engine: &Engine, args: &ComposeArgs, images: &ImagesArgs) -> Result<i32> {
    let (name, _) = match project_name(args)? {
        Ok(found) => found,
        Err(e) => return fail(e),
    };
    let uses = match project::images(engine, &name, &images.services) {
        Ok(u) => u,
        Err(e) => return fail(e),
    };
    let bare = |id: &str| id.strip_prefix("sha256:").unwrap_or(id).to_owned();
    if images.quiet {
        let mut shown: Vec<String> = Vec::new();
        for u in &uses {
            if !shown.contains(&bare(&u.id)) {
                shown.push(bare(&u.id));
                println!("{}", bare(&u.id));
            }
        }
        return Ok(0);
    }
    let rows: Vec<Value> = uses
        .iter()
        .map(|u| {
            let created = u
                .created
                .as_deref()
                .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
                .map(|c| c.with_timezone(&chrono::Utc));
            let or_none = |s: &str| if s.is_empty() { "<none>" } else { s }.to_owned();
            json!({
                "ID": u.id,
                "ContainerName": u.container,
                "Repository": or_none(&u.repository),
                "Tag": or_none(&u.tag),
                "Platform": u.platform,
                "Size": u.size,
                "Created": created.map(|c| c.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)),
                "ShortID": bare(&u.id).chars().take(12).collect::<String>(),
                "HumanSize": human_size(u.size),
                "CreatedSince": created.map(human_since).unwrap_or_else(|| "N/A".into()),
            })
        })
        .collect();
    match images.format.as_str() {
        "json" => {
            let shown: Vec<Value> = rows
                .iter()
                .map(|r| {
                    json!({"ID": r["ID"], "ContainerName": r["ContainerName"],
                        "Repository": r["Repository"], "Tag": r["Tag"],
                        "Platform": r["Platform"], "Size": r["Size"], "Created": r["Created"]})
                })
                .collect();
            println!("{}", serde_json::to_string(&shown)?);
        }
        format => print_listing(
            if format == "table" { "" } else { format },
            &rows,
            &Listing {
                kind: "compose images",
                titles: IMAGES_TITLES,
                default: "table {{.ContainerName}}\t{{.Repository}}\t{{.Tag}}\t{{.Platform}}\t{{.ShortID}}\t{{.HumanSize}}\t{{.CreatedSince}}",
            },
        )?,
    }
    Ok(0)
}

/// `cp`: `SERVICE:PATH` becomes the chosen container's, then `berth cp` copies. Into a
/// service, every container of it gets the copy (with `--index`, that one); out of one,
/// the first.
pub fn run_cp(engine: &Engine, args: &ComposeArgs, cp: &CpArgs) -> Result<i32> {
    if cp.src.is_empty() {
        return fail("source can not be empty");
    }
    if cp.dest.is_empty() {
        return fail("destination can not be empty");
    }
    let (src_service, dest_service) = (service_of(&cp.src), service_of(&cp.dest));
    let (service, path, outward) = match (src_service, dest_service) {
        (Some(_), Some(_)) => return fail("copying between services is not supported"),
        (None, None) => return fail("unknown copy direction"),
        (Some((s, p)), None) => (s, p, true),
        (None, Some((s, p))) => (s, p, false),
    };
    let (name, _) = match project_name(args)? {
        Ok(found) => found,
        Err(e) => return fail(e),
    };
    let mut targets: Vec<Member> = match index(cp.index) {
        Some(i) => match project::service_container(engine, &name, service, Some(i), true) {
            Ok(m) => vec![m],
            Err(e) => return fail(e),
        },
        None => match project::members(engine, &name) {
            Ok(m) => m
                .into_iter()
                .filter(|m| m.service == service && (cp.all || !m.oneoff))
                .collect(),
            Err(e) => return fail(e),
        },
    };
    if targets.is_empty() {
        return fail(format!("no container found for service {service:?}"));
    }
    if outward {
        targets.truncate(1);
    }
    for target in &targets {
        let at = format!("{}:{path}", target.record.name);
        let copy = super::cp::CpArgs {
            archive: cp.archive,
            follow_link: cp.follow_link,
            quiet: true,
            src: if outward { at.clone() } else { cp.src.clone() },
            dest: if outward { cp.dest.clone() } else { at },
        };
        let code = super::cp::cp(engine, &copy)?;
        if code != 0 {
            return Ok(code);
        }
        eprintln!(" Container {}  Copied", target.record.name);
    }
    Ok(0)
}

/// `SERVICE:PATH` split, as Compose reads a `cp` argument (a path with no colon, or one
/// starting with `/` or `.`, is the host's).
fn service_of(arg: &str) -> Option<(&str, &str)> {
    if arg.starts_with(['/', '.']) {
        return None;
    }
    arg.split_once(':')
}

pub fn run_wait(engine: &Engine, args: &ComposeArgs, wait: &WaitArgs) -> Result<i32> {
    let (name, project) = match project_name(args)? {
        Ok(found) => found,
        Err(e) => return fail(e),
    };
    let mut exited = |id: &str, code: i32| {
        println!("container {id:?} exited with status code {code}");
    };
    let code = match project::wait(engine, &name, &wait.services, &mut exited) {
        Ok(code) => code,
        Err(e) => return fail(e),
    };
    if wait.down_project {
        let opts = project::DownOptions {
            remove_orphans: true,
            ..Default::default()
        };
        if let Err(e) = project::down(engine, &name, project.as_ref(), &opts, &mut show) {
            return fail(e);
        }
    }
    Ok(code)
}

/// `events`: the engine's events as they come (from `--since`, until `--until`, read as
/// `berth events` reads them), those of the project's containers only, in Docker
/// Compose's line (or, with `--json`, its object).
pub fn run_events(engine: &Engine, args: &ComposeArgs, events: &EventsArgs) -> Result<i32> {
    let now = chrono::Utc::now();
    let time = |t: &Option<String>| {
        t.as_deref()
            .map(|t| super::events::parse_time(t, now))
            .transpose()
    };
    let (since, until) = match (time(&events.since), time(&events.until)) {
        (Ok(since), Ok(until)) => (since, until),
        (Err(e), _) | (_, Err(e)) => return fail(e),
    };
    let (name, _) = match project_name(args)? {
        Ok(found) => found,
        Err(e) => return fail(e),
    };
    // With --since, the journal is replayed first, through the follower itself.
    let mut follower = engine.follow_events(since.is_some())?;
    let mut out = super::output::shown_stdout();
    loop {
        let wait = until.map_or(std::time::Duration::from_secs(3600), |u| {
            (u - chrono::Utc::now()).to_std().unwrap_or_default()
        });
        let batch = follower.next_batch(wait.min(std::time::Duration::from_secs(3600)))?;
        let done = batch.is_empty() && until.is_some_and(|u| chrono::Utc::now() > u);
        for event in &batch {
            let Some(e) = project::event_of(event, &name, &events.services) else {
                continue;
            };
            if since.is_some_and(|s| e.time < s) || until.is_some_and(|u| e.time > u) {
                continue;
            }
            let time = e.time.with_timezone(&chrono::Local);
            if events.json {
                // Go marshals a map with its keys in order.
                let value = json!({
                    "action": e.action,
                    "attributes": e.attributes,
                    "id": e.container,
                    "service": e.service,
                    "time": time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                    "type": "container",
                });
                writeln!(out, "{value}")?;
            } else {
                writeln!(
                    out,
                    "{} container {} {} ({})",
                    time.format("%Y-%m-%d %H:%M:%S%.6f"),
                    e.action,
                    e.container,
                    super::output::key_values(&e.attributes, ", ")
                )?;
            }
            out.flush()?;
        }
        if done {
            return Ok(0);
        }
    }
}

pub fn run_pull(engine: &Engine, args: &ComposeArgs, pull: &PullArgs) -> Result<i32> {
    let project = match load_project(args)? {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let fetch = |image: &str| pull_image(engine, image, pull.quiet);
    let mut quiet = |_: project::Progress| {};
    let on: &mut dyn FnMut(project::Progress) = if pull.quiet { &mut quiet } else { &mut show };
    match project::pull(
        &project,
        &pull.services,
        pull.ignore_pull_failures,
        &fetch,
        on,
    ) {
        Ok(()) => Ok(0),
        Err(e) => fail(e),
    }
}

pub fn run_push(engine: &Engine, args: &ComposeArgs, push: &PushArgs) -> Result<i32> {
    let project = match load_project(args)? {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let send = |tag: &str| super::image::push_reporting(engine, tag, push.quiet, &[]);
    let mut quiet = |_: project::Progress| {};
    let on: &mut dyn FnMut(project::Progress) = if push.quiet { &mut quiet } else { &mut show };
    match project::push(
        &project,
        &push.services,
        push.ignore_push_failures,
        &send,
        on,
    ) {
        Ok(()) => Ok(0),
        Err(e) => fail(e),
    }
}
