//! Volume verbs: volume create, ls, inspect, rm, prune.

use clap::{Args, Subcommand};
use color_eyre::Result;
use serde_json::{json, Value};

use super::filter::{label_matches, parse_bool, Filters};
use super::output::{print_inspect, print_listing, report, Listing};
use crate::engine::{Engine, VolumeInfo};
use crate::ops::inspect;
use crate::ops::resolve::each;
use crate::ops::run_options::parse_labels;

#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Create a volume
    Create(CreateArgs),
    /// List volumes
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on volumes, with the containers that use them
    Inspect(InspectArgs),
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
    /// Format output: "table", "json", or a Go template ("{{.Name}}\t{{.Mountpoint}}")
    #[arg(long, default_value = "")]
    pub format: String,
}

/// `volume inspect` and `network inspect`: names, and the format to print them in.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format output: "json" or a Go template ("{{.Mountpoint}}")
    #[arg(short, long)]
    pub format: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
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
            let removed = each(&args.names, |name| engine.remove_volume(name, args.force));
            Ok(report(removed, |name, _| println!("{name}")))
        }
        VolumeCommand::Prune(args) => prune(engine, args),
    }
}

fn matches(info: &VolumeInfo, key: &str, value: &str) -> bool {
    match key {
        "dangling" => parse_bool(value) == Some(info.users.is_empty()),
        "name" => info.volume.name.contains(value),
        "driver" => value == "local",
        "label" => label_matches(value, |k| info.volume.labels.get(k)),
        _ => false,
    }
}

const TITLES: &[(&str, &str)] = &[
    ("Name", "VOLUME NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("Mountpoint", "MOUNTPOINT"),
    ("Labels", "LABELS"),
    ("Links", "LINKS"),
    ("Size", "SIZE"),
];

fn ls(engine: &Engine, args: &LsArgs) -> Result<i32> {
    let filters = Filters::parse(&args.filter, &["dangling", "name", "driver", "label"])?;
    filters.check("dangling", |v| parse_bool(v).is_some())?;
    let shown: Vec<VolumeInfo> = engine
        .list_volumes()?
        .into_iter()
        .filter(|info| filters.matches(|k, v| matches(info, k, v)))
        .collect();
    if args.quiet {
        for info in &shown {
            println!("{}", info.volume.name);
        }
        return Ok(0);
    }
    let rows: Vec<Value> = shown
        .iter()
        .map(|i| {
            json!({
                "Driver": "local",
                "Name": i.volume.name,
                "Mountpoint": i.mountpoint,
                "Scope": "local",
                "Labels": super::output::key_values(&i.volume.labels, ","),
                "Links": i.users.len().to_string(),
                "Size": "N/A",
            })
        })
        .collect();
    let listing = Listing {
        kind: "volume",
        titles: TITLES,
        default: "table {{.Driver}}\t{{.Name}}",
    };
    print_listing(&args.format, &rows, &listing)?;
    Ok(0)
}

fn inspect(engine: &Engine, args: &InspectArgs) -> Result<i32> {
    let mut found = Vec::new();
    let looked_up = each(&args.names, |name| engine.inspect_volume(name));
    let code = report(looked_up, |_, info| found.push(inspect::volume(&info)));
    print_inspect(args.format.as_deref(), &found)?;
    Ok(code)
}

fn prune(engine: &Engine, args: &PruneArgs) -> Result<i32> {
    let what = crate::ops::prune::Prune::Volumes { all: args.all };
    super::output::prune(engine, what, args.force)
}
