//! Volume verbs: volume create, ls, inspect, rm, prune.

use clap::{Args, Subcommand};
use color_eyre::eyre::eyre;
use color_eyre::Result;
use serde_json::json;

use super::output::{human_size, print_json, print_json_lines, Table};
use super::parse::parse_labels;
use crate::engine::storage::volumes::VolumeInfo;
use crate::engine::Engine;

#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Create a volume
    Create(CreateArgs),
    /// List volumes
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on volumes, with the containers that use them
    Inspect(NamesArgs),
    /// Remove volumes (never one a container uses)
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// Remove unused anonymous volumes (all unused volumes with -a)
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Set metadata for a volume (KEY=VALUE)
    #[arg(short, long = "label")]
    pub label: Vec<String>,
    /// Volume name (random if omitted)
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only display volume names
    #[arg(short, long)]
    pub quiet: bool,
    /// Filter: dangling=true|false, name=TEXT, label=KEY[=VALUE]
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Output format: "table" or "json"
    #[arg(long, default_value = "table")]
    pub format: String,
}

/// One or more names (or IDs): `volume inspect`, `network inspect`, `network rm`.
#[derive(Debug, Args)]
pub struct NamesArgs {
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Don't fail on a volume that doesn't exist (a volume in use is never removed)
    #[arg(short, long)]
    pub force: bool,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove all unused volumes, not just anonymous ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

pub fn run(engine: &Engine, command: &VolumeCommand) -> Result<i32> {
    match command {
        VolumeCommand::Create(args) => {
            let volume = engine.create_volume(args.name.as_deref(), parse_labels(&args.label))?;
            println!("{}", volume.name);
            Ok(0)
        }
        VolumeCommand::Ls(args) => ls(engine, args),
        VolumeCommand::Inspect(args) => inspect(engine, args),
        VolumeCommand::Rm(args) => {
            let mut failed = false;
            for name in &args.names {
                match engine.remove_volume(name, args.force) {
                    Ok(_) => println!("{name}"),
                    Err(e) => {
                        eprintln!("Error: {e}");
                        failed = true;
                    }
                }
            }
            Ok(i32::from(failed))
        }
        VolumeCommand::Prune(args) => prune(engine, args),
    }
}

fn matches(info: &VolumeInfo, filter: &str) -> Result<bool> {
    let (key, value) = filter
        .split_once('=')
        .ok_or_else(|| eyre!("bad format of filter {filter:?} (expected name=value)"))?;
    Ok(match key {
        "dangling" => match value {
            "true" | "1" => info.users.is_empty(),
            "false" | "0" => !info.users.is_empty(),
            _ => {
                return Err(eyre!(
                    "invalid filter 'dangling={value}': use true or false"
                ))
            }
        },
        "name" => info.volume.name.contains(value),
        "label" => match value.split_once('=') {
            Some((k, v)) => info.volume.labels.get(k).is_some_and(|have| have == v),
            None => info.volume.labels.contains_key(value),
        },
        other => {
            return Err(eyre!(
                "invalid filter '{other}': use dangling, name or label"
            ))
        }
    })
}

fn ls(engine: &Engine, args: &LsArgs) -> Result<i32> {
    let mut shown = Vec::new();
    for info in engine.list_volumes()? {
        let mut keep = true;
        for f in &args.filter {
            keep &= matches(&info, f)?;
        }
        if keep {
            shown.push(info);
        }
    }
    if args.quiet {
        for info in &shown {
            println!("{}", info.volume.name);
        }
        return Ok(0);
    }
    match args.format.as_str() {
        "json" => {
            let lines: Vec<_> = shown
                .iter()
                .map(|i| json!({"Driver": "local", "Name": i.volume.name, "Mountpoint": i.mountpoint, "Scope": "local", "Links": i.users.len()}))
                .collect();
            print_json_lines(&lines)?;
        }
        "table" => {
            let mut table = Table::new(&["DRIVER", "VOLUME NAME"]);
            for info in &shown {
                table.row(vec!["local".into(), info.volume.name.clone()]);
            }
            table.print()?;
        }
        other => return Err(eyre!("unknown format {other:?}: use table or json")),
    }
    Ok(0)
}

fn inspect(engine: &Engine, args: &NamesArgs) -> Result<i32> {
    let mut found = Vec::new();
    let mut failed = false;
    for name in &args.names {
        match engine.inspect_volume(name) {
            Ok(info) => found.push(json!({
                "CreatedAt": info.volume.created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "Driver": "local",
                "Labels": info.volume.labels,
                "Mountpoint": info.mountpoint,
                "Name": info.volume.name,
                "Options": null,
                "Scope": "local",
                "Anonymous": info.volume.anonymous,
                "UsedBy": info.users.iter().map(|(id, name)| json!({"Id": id.as_str(), "Name": name})).collect::<Vec<_>>(),
            })),
            Err(e) => {
                eprintln!("Error: {e}");
                failed = true;
            }
        }
    }
    print_json(&found)?;
    Ok(i32::from(failed))
}

fn prune(engine: &Engine, args: &PruneArgs) -> Result<i32> {
    if !args.force && nix::unistd::isatty(std::io::stdin()).unwrap_or(false) {
        let what = if args.all {
            "all volumes"
        } else {
            "all anonymous volumes"
        };
        eprint!("WARNING! This will remove {what} not used by at least one container.\nAre you sure you want to continue? [y/N] ");
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Ok(0);
        }
    }
    let (removed, bytes) = engine.prune_volumes(args.all)?;
    if !removed.is_empty() {
        println!("Deleted Volumes:");
        for name in &removed {
            println!("{name}");
        }
        println!();
    }
    println!("Total reclaimed space: {}", human_size(bytes));
    Ok(0)
}
