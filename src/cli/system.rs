//! System verbs: `system check [--repair]`, `system prune`, `system info`, `system events`.

use clap::{Args, Subcommand};
use color_eyre::eyre::eyre;
use color_eyre::Result;
use serde_json::json;

use super::output::{human_size, print_json};
use crate::engine::image::Removal;
use crate::engine::system::Finding;
use crate::engine::Engine;

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
    /// Output format: "table" or "json"
    #[arg(long, default_value = "table")]
    pub format: String,
}

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
    }
}

fn prune(engine: &Engine, args: &PruneArgs) -> Result<i32> {
    // As Docker: without -f always ask, also when stdin is not a terminal (a script must
    // say -f or answer), and end of input means no.
    if !args.force {
        let mut warning = String::from(
            "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n",
        );
        if args.volumes {
            warning.push_str("  - all anonymous volumes not used by at least one container\n");
        }
        warning.push_str(if args.all {
            "  - all images without at least one container associated to them\n"
        } else {
            "  - all dangling images\n"
        });
        eprint!("{warning}\nAre you sure you want to continue? [y/N] ");
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Ok(0);
        }
    }
    let pruned = engine.prune_system(args.all, args.volumes)?;
    if !pruned.containers.is_empty() {
        println!("Deleted Containers:");
        for id in &pruned.containers {
            println!("{id}");
        }
        println!();
    }
    if !pruned.volumes.is_empty() {
        println!("Deleted Volumes:");
        for name in &pruned.volumes {
            println!("{name}");
        }
        println!();
    }
    if !pruned.networks.is_empty() {
        println!("Deleted Networks:");
        for name in &pruned.networks {
            println!("{name}");
        }
        println!();
    }
    if !pruned.images.is_empty() {
        println!("Deleted Images:");
        for removal in &pruned.images {
            match removal {
                Removal::Untagged(r) => println!("untagged: {r}"),
                Removal::Deleted(id) => println!("deleted: {id}"),
            }
        }
        println!();
    }
    println!("Total reclaimed space: {}", human_size(pruned.reclaimed));
    Ok(0)
}

fn info(engine: &Engine, args: &InfoArgs) -> Result<i32> {
    let info = engine.system_info()?;
    match args.format.as_str() {
        "json" => print_json(&info)?,
        "table" => {
            println!("Containers: {}", info.containers);
            println!(" Running: {}", info.running);
            println!(" Stopped: {}", info.stopped);
            println!("Images: {}", info.images);
            println!("Volumes: {}", info.volumes);
            println!("Storage Driver: {}", info.storage_driver);
            println!("Cgroup Version: {}", info.cgroup_version);
            println!("Kernel Version: {}", info.kernel);
            println!("Operating System: {}", info.operating_system);
            println!("Architecture: {}", info.architecture);
            println!("Berth Root Dir: {}", info.root);
        }
        other => return Err(eyre!("invalid --format {other:?}: use table or json")),
    }
    Ok(0)
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
