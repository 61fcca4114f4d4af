//! System verbs: `system check [--repair]`, `system prune`, `system info`, `system events`,
//! `system df`, `system boot`, `system shutdown`.

use clap::{Args, Subcommand};
use color_eyre::eyre::eyre;
use color_eyre::Result;
use serde_json::json;

use super::output::{human_since, human_size, print_formatted, print_json, Table};
use crate::engine::{DiskUsage, Engine, Finding, SystemInfo, UsageTotals};

#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Find what crashed or killed commands left behind (mounts, cgroups, monitors,
    /// orphan directories, layers and blobs, half-written records, unsafe permissions)
    Check(CheckArgs),
    /// Remove stopped containers and dangling images (and more with -a, --volumes)
    Prune(PruneArgs),
    /// Display system-wide information
    Info(InfoArgs),
    /// Get real time events from the engine
    Events(super::events::EventsArgs),
    /// Show disk usage
    Df(DfArgs),
    /// Start the containers whose restart policy asks for it (always, unless-stopped
    /// unless stopped by the user, on-failure after a failure): what a Docker daemon
    /// does when it starts. Run at boot by the berth-boot.service unit; running it again
    /// starts nothing more.
    Boot(BootArgs),
    /// Stop every running container with its stop signal and timeout, at once, as a
    /// Docker daemon does when it stops; not as the user's stop, so the next `system
    /// boot` starts them again as their restart policy says (unless-stopped too). Run at
    /// shutdown by the berth-boot.service unit; running it again stops nothing more.
    Shutdown(ShutdownArgs),
}

#[derive(Debug, Args)]
pub struct BootArgs {}

#[derive(Debug, Args)]
pub struct ShutdownArgs {}

#[derive(Debug, Args)]
pub struct DfArgs {
    /// Show detailed information on space usage
    #[arg(short, long)]
    pub verbose: bool,
    /// Output format: "table" or "json"
    #[arg(long, default_value = "table")]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Prune anonymous volumes
    #[arg(long)]
    pub volumes: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Output format: "table", "json", or a Go template ('{{.KernelVersion}}')
    #[arg(short, long, default_value = "table")]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Output format: "table", "json", or a Go template ('{{.Server.Version}}')
    #[arg(short, long, default_value = "table")]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to write the completion script for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Remove or fix each finding, saying what was done
    #[arg(long)]
    pub repair: bool,
    /// Output format: "table" or "json"
    #[arg(long, default_value = "table")]
    pub format: String,
}

pub fn run(engine: &Engine, command: &SystemCommand) -> Result<i32> {
    match command {
        SystemCommand::Check(args) => check(engine, args),
        SystemCommand::Prune(args) => prune(engine, args),
        SystemCommand::Info(args) => info(engine, args),
        SystemCommand::Events(args) => super::events::events(engine, args),
        SystemCommand::Df(args) => df(engine, args),
        SystemCommand::Boot(args) => boot(engine, args),
        SystemCommand::Shutdown(args) => shutdown(engine, args),
    }
}

/// How many containers `system shutdown` stops at once: each stop mostly waits for its
/// process, and all must end within the unit's stop timeout.
const SHUTDOWN_AT_ONCE: usize = 64;

/// Stops each running (or restarting) container for the host's shutdown, many at once,
/// printing each name as `stop` does; a stop that fails is reported and the others still
/// go (exit 1 if any failed).
fn shutdown(engine: &Engine, _args: &ShutdownArgs) -> Result<i32> {
    use crate::engine::Status;
    let running: Vec<_> = engine
        .list_containers()?
        .into_iter()
        .filter(|r| matches!(r.state.status, Status::Running | Status::Restarting))
        .collect();
    let failed = std::sync::atomic::AtomicBool::new(false);
    for batch in running.chunks(SHUTDOWN_AT_ONCE) {
        std::thread::scope(|scope| {
            for record in batch {
                let failed = &failed;
                scope.spawn(move || match engine.stop_for_shutdown(record.id.as_str()) {
                    Ok(_) | Err(crate::engine::Error::NoSuchContainer(_)) => {
                        println!("{}", record.name)
                    }
                    Err(e) => {
                        eprintln!("Error: failed to stop container {}: {e}", record.name);
                        failed.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                });
            }
        });
    }
    Ok(i32::from(failed.into_inner()))
}

/// Starts each container to boot, detached, printing its name as `start` does; a start
/// that fails is reported and the others still start (exit 1 if any failed).
fn boot(engine: &Engine, _args: &BootArgs) -> Result<i32> {
    let mut failed = false;
    for record in engine.containers_to_boot()? {
        match engine.start_container(record.id.as_str()) {
            Ok(started) => {
                started.detach();
                println!("{}", record.name);
            }
            // Started meanwhile by someone else: nothing left to do.
            Err(crate::engine::Error::Conflict(_)) => {}
            Err(e) => {
                eprintln!("Error: failed to start container {}: {e}", record.name);
                failed = true;
            }
        }
    }
    Ok(i32::from(failed))
}

/// `RECLAIMABLE` as Docker prints it: the size and its share of the total.
fn reclaimable(totals: &UsageTotals, with_percent: bool) -> String {
    let size = human_size(totals.reclaimable);
    if !with_percent {
        return size;
    }
    let percent = (totals.reclaimable * 100)
        .checked_div(totals.size)
        .unwrap_or(0);
    format!("{size} ({percent}%)")
}

fn df(engine: &Engine, args: &DfArgs) -> Result<i32> {
    let usage = engine.disk_usage_report()?;
    if args.format == "json" {
        print_json(&usage)?;
        return Ok(0);
    }
    if args.format != "table" {
        return Err(eyre!(
            "unknown --format {:?}: use table or json",
            args.format
        ));
    }
    if args.verbose {
        return df_verbose(&usage);
    }
    let mut table = Table::new(&["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]);
    let rows = [
        ("Images", usage.image_totals, true),
        ("Containers", usage.container_totals, true),
        ("Local Volumes", usage.volume_totals, true),
        ("Build Cache", engine.build_cache_usage()?, false),
    ];
    for (kind, totals, percent) in rows {
        table.row(vec![
            kind.to_owned(),
            totals.total.to_string(),
            totals.active.to_string(),
            human_size(totals.size),
            reclaimable(&totals, percent),
        ]);
    }
    table.print()?;
    Ok(0)
}

fn df_verbose(usage: &DiskUsage) -> Result<i32> {
    println!("Images space usage:\n");
    let mut table = Table::new(&[
        "REPOSITORY",
        "TAG",
        "IMAGE ID",
        "CREATED",
        "SIZE",
        "SHARED SIZE",
        "UNIQUE SIZE",
        "CONTAINERS",
    ]);
    for image in &usage.images {
        let created = image
            .created
            .as_deref()
            .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
            .map(|c| human_since(c.with_timezone(&chrono::Utc)))
            .unwrap_or_default();
        let names: Vec<(String, String)> = if image.references.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            image
                .references
                .iter()
                .map(|r| (r.repository().to_owned(), r.tag().to_owned()))
                .collect()
        };
        for (repo, tag) in names {
            table.row(vec![
                repo,
                tag,
                image.id.short().to_owned(),
                created.clone(),
                human_size(image.size),
                human_size(image.shared_size),
                human_size(image.size - image.shared_size.min(image.size)),
                image.containers.to_string(),
            ]);
        }
    }
    table.print()?;
    println!("\nContainers space usage:\n");
    let mut table = Table::new(&[
        "CONTAINER ID",
        "IMAGE",
        "COMMAND",
        "LOCAL VOLUMES",
        "SIZE",
        "CREATED",
        "STATUS",
        "NAMES",
    ]);
    for c in &usage.containers {
        let r = &c.record;
        let command: Vec<&str> = r
            .config
            .entrypoint
            .iter()
            .chain(&r.config.cmd)
            .map(String::as_str)
            .collect();
        table.row(vec![
            r.id.short().to_owned(),
            r.image.clone(),
            format!("\"{}\"", crate::format::truncate(&command.join(" "), 20)),
            c.local_volumes.to_string(),
            human_size(c.size),
            human_since(r.created),
            crate::format::status_text(r),
            r.name.clone(),
        ]);
    }
    table.print()?;
    println!("\nLocal Volumes space usage:\n");
    let mut table = Table::new(&["VOLUME NAME", "LINKS", "SIZE"]);
    for v in &usage.volumes {
        table.row(vec![
            v.name.clone(),
            v.links.to_string(),
            human_size(v.size),
        ]);
    }
    table.print()?;
    println!("\nBuild cache usage: 0B\n");
    Table::new(&[
        "CACHE ID",
        "CACHE TYPE",
        "SIZE",
        "CREATED",
        "LAST USED",
        "USAGE",
        "SHARED",
    ])
    .print()?;
    Ok(0)
}

fn prune(engine: &Engine, args: &PruneArgs) -> Result<i32> {
    let what = crate::ops::prune::Prune::System {
        all: args.all,
        volumes: args.volumes,
    };
    super::output::prune(engine, what, args.force)
}

pub fn info(engine: &Engine, args: &InfoArgs) -> Result<i32> {
    let info = engine.system_info()?;
    match args.format.as_str() {
        "table" => print_info(&info),
        format => print_formatted(format, &serde_json::to_value(&info)?)?,
    }
    Ok(0)
}

/// `version`: berth is both the client and the engine, so both sections say the same
/// version; Docker's shape, with Go's names for the platform.
pub fn version(args: &VersionArgs) -> Result<i32> {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let version = env!("CARGO_PKG_VERSION");
    let section = json!({
        "Version": version,
        "Os": std::env::consts::OS,
        "Arch": arch,
    });
    let value = json!({
        "Client": section,
        "Server": {
            "Version": version,
            "Os": std::env::consts::OS,
            "Arch": arch,
            "Components": [{ "Name": "Engine", "Version": version,
                "Details": { "Embedded": "true", "Runtime": "berth (no daemon)" } }],
        },
    });
    match args.format.as_str() {
        "table" => {
            println!("Client: berth");
            println!(" Version:           {version}");
            println!(" OS/Arch:           {}/{arch}", std::env::consts::OS);
            println!();
            println!("Engine: embedded (no daemon)");
            println!(" Version:           {version}");
            println!(" OS/Arch:           {}/{arch}", std::env::consts::OS);
        }
        format => print_formatted(format, &value)?,
    }
    Ok(0)
}

/// `completion SHELL`: the script clap derives from the command tree, on stdout.
/// Hidden verbs (the monitor's) are left out.
pub fn completion(args: &CompletionArgs) -> Result<i32> {
    // The root's own flags as declared (the built tree adds --help and --version), and
    // every verb built, so clap's `help` verb lists the groups' verbs too.
    let root = <super::Cli as clap::CommandFactory>::command();
    let full = super::whole_command();
    let mut command = clap::Command::new("berth")
        .args(root.get_arguments().cloned())
        .subcommands(
            full.get_subcommands()
                .filter(|c| !c.is_hide_set() && c.get_name() != "help")
                .cloned(),
        );
    // Written whole, so a closed pipe is an error and not clap's panic.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "berth", &mut script);
    std::io::Write::write_all(&mut std::io::stdout().lock(), &script)?;
    Ok(0)
}

/// The manual page (roff), made from the same command tree, for the install step.
pub fn man_page(_args: &ManArgs) -> Result<i32> {
    let command = super::whole_command();
    clap_mangen::Man::new(command).render(&mut std::io::stdout())?;
    Ok(0)
}

/// Docker's layout: a client section, then the engine's (there is no server to ask).
fn print_info(info: &SystemInfo) {
    println!("Client:");
    println!(" Version:    {}", env!("CARGO_PKG_VERSION"));
    println!();
    println!("Server:");
    println!(" Containers: {}", info.containers);
    println!("  Running: {}", info.containers_running);
    println!("  Paused: {}", info.containers_paused);
    println!("  Stopped: {}", info.containers_stopped);
    println!(" Images: {}", info.images);
    println!(" Volumes: {}", info.volumes);
    println!(" Networks: {}", info.networks);
    println!(" Server Version: {}", info.server_version);
    println!(" Storage Driver: {}", info.driver);
    println!(" Cgroup Driver: {}", info.cgroup_driver);
    println!(" Cgroup Version: {}", info.cgroup_version);
    println!(" Kernel Version: {}", info.kernel_version);
    println!(" Operating System: {}", info.operating_system);
    println!(" OSType: {}", info.os_type);
    println!(" Architecture: {}", info.architecture);
    println!(" CPUs: {}", info.ncpu);
    println!(
        " Total Memory: {}",
        crate::format::binary_size(info.mem_total)
    );
    println!(" Name: {}", info.name);
    println!(" Berth Root Dir: {}", info.root_dir);
}

fn check(engine: &Engine, args: &CheckArgs) -> Result<i32> {
    let json = match args.format.as_str() {
        "table" => false,
        "json" => true,
        other => return Err(eyre!("invalid --format {other:?}: use table or json")),
    };
    let remaining = if args.repair {
        let (done, remaining) = engine.system_repair()?;
        if json {
            let repaired: Vec<_> = done
                .iter()
                .map(|(f, r)| json!({ "finding": f, "error": r.as_ref().err() }))
                .collect();
            print_json(&json!({ "repaired": repaired, "remaining": remaining }))?;
        } else {
            for (finding, result) in &done {
                match result {
                    Ok(()) => println!("repaired {}: {}", line(finding), finding.repair),
                    Err(e) => println!("FAILED {}: {e}", line(finding)),
                }
            }
            for finding in &remaining {
                println!("remaining {}", line(finding));
            }
        }
        remaining
    } else {
        let findings = engine.system_check()?;
        if json {
            print_json(&findings)?;
        } else {
            for finding in &findings {
                println!("{} (repair {})", line(finding), finding.repair);
            }
        }
        findings
    };
    Ok(if remaining.is_empty() { 0 } else { 1 })
}

/// `KIND OBJECT PATH`, one finding on one line.
fn line(finding: &Finding) -> String {
    format!(
        "{} {} {}",
        finding.kind.as_str(),
        finding.object,
        finding.path.display()
    )
}
