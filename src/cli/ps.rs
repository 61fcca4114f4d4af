//! `ps`: the containers, filtered, limited and printed as Docker's (table, `--format`
//! templates, JSON lines).

use std::collections::HashMap;

use clap::Args;
use color_eyre::Result;
use serde::Serialize;

use super::filter::{label_matches, Filters};
use super::output::{human_since, human_size, print_listing, Listing};
use crate::engine::{ContainerRecord, Digest, Engine, MountKind, Status};
use crate::format::{status_text, truncate};
use crate::ops::ports::ps_ports;

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    pub all: bool,
    /// Only display container IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Filter output based on conditions provided (name, id, label, status, ancestor,
    /// volume, network, exited, health, before, since)
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Format output: "table", "json", or a Go template ("table {{.Names}}\t{{.Status}}")
    #[arg(long, default_value = "")]
    pub format: String,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Show n last created containers (includes all states)
    #[arg(short = 'n', long = "last", default_value_t = -1, allow_hyphen_values = true)]
    pub last: i64,
    /// Show the latest created container (includes all states)
    #[arg(short = 'l', long)]
    pub latest: bool,
    /// Display total file sizes
    #[arg(short, long)]
    pub size: bool,
}

/// A row of `ps`, with Docker's field names (what `{{.Names}}` and `--format json` see).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PsRow {
    #[serde(rename = "ID")]
    id: String,
    image: String,
    command: String,
    created_at: String,
    running_for: String,
    ports: String,
    state: String,
    status: String,
    size: String,
    names: String,
    labels: String,
    mounts: String,
    networks: String,
    local_volumes: String,
}

const TITLES: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("CreatedAt", "CREATED AT"),
    ("RunningFor", "CREATED"),
    ("Ports", "PORTS"),
    ("State", "STATE"),
    ("Status", "STATUS"),
    ("Size", "SIZE"),
    ("Names", "NAMES"),
    ("Labels", "LABELS"),
    ("Mounts", "MOUNTS"),
    ("Networks", "NETWORKS"),
    ("LocalVolumes", "LOCAL VOLUMES"),
];

const DEFAULT: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
const DEFAULT_WITH_SIZE: &str = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Size}}";

const FILTER_KEYS: &[&str] = &[
    "name", "id", "label", "status", "ancestor", "volume", "network", "exited", "health", "before",
    "since",
];

/// Docker's health filter values: `none` is a container without a check.
const HEALTHS: &[&str] = &["none", "starting", "healthy", "unhealthy"];

const STATES: &[&str] = &[
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
];

/// Entries walked at most for one container's size: a container that fills its layer
/// with millions of files gets a lower bound, not a `ps` that never ends.
const SIZE_WALK_LIMIT: usize = 1_000_000;

pub fn ps(engine: &Engine, args: &PsArgs) -> Result<i32> {
    let filters = Filters::parse(&args.filter, FILTER_KEYS)?;
    filters.check("status", |v| STATES.contains(&v))?;
    filters.check("exited", |v| v.parse::<i32>().is_ok())?;
    filters.check("health", |v| HEALTHS.contains(&v))?;
    let mut records = engine.list_containers()?;
    records.sort_by_key(|r| std::cmp::Reverse(r.created)); // newest first, as Docker lists
    let created_of = |name: &str| -> Result<chrono::DateTime<chrono::Utc>> {
        Ok(engine.container(name)?.created)
    };
    let before: Vec<_> = filters
        .values("before")
        .iter()
        .map(|n| created_of(n))
        .collect::<Result<_>>()?;
    let since: Vec<_> = filters
        .values("since")
        .iter()
        .map(|n| created_of(n))
        .collect::<Result<_>>()?;
    let limit = if args.latest { 1 } else { args.last };
    // As Docker's daemon: a status filter or a limit lists stopped containers too.
    let all = args.all || limit > 0 || filters.contains("status");
    let shown: Vec<ContainerRecord> = records
        .into_iter()
        // A restarting container counts as running, as Docker's.
        .filter(|r| all || matches!(r.state.status, Status::Running | Status::Restarting))
        .filter(|r| {
            filters.matches(|key, value| match key {
                "before" => before.iter().any(|t| r.created < *t),
                "since" => since.iter().any(|t| r.created > *t),
                _ => matches(engine, r, key, value),
            })
        })
        .take(
            usize::try_from(limit)
                .ok()
                .filter(|n| *n > 0)
                .unwrap_or(usize::MAX),
        )
        .collect();
    if args.quiet {
        for r in &shown {
            println!(
                "{}",
                if args.no_trunc {
                    r.id.as_str()
                } else {
                    r.id.short()
                }
            );
        }
        return Ok(0);
    }
    // Docker works sizes out only when asked, or when the template shows them.
    let with_size = args.size || args.format.contains(".Size");
    let mut images = ImageSizes::default();
    let rows = shown
        .iter()
        .map(|r| {
            let size = with_size.then(|| size_text(engine, r, &mut images));
            serde_json::to_value(row(r, args.no_trunc, size))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let listing = Listing {
        kind: "container",
        titles: TITLES,
        default: if args.size {
            DEFAULT_WITH_SIZE
        } else {
            DEFAULT
        },
    };
    print_listing(&args.format, &rows, &listing)?;
    Ok(0)
}

/// One filter condition on one container.
fn matches(engine: &Engine, r: &ContainerRecord, key: &str, value: &str) -> bool {
    match key {
        "status" => r.state.name() == value,
        "name" => r.name.contains(value.trim_start_matches('/')),
        "id" => r.id.as_str().starts_with(value),
        "ancestor" => {
            r.image == value
                || engine
                    .resolve_image(value)
                    .is_ok_and(|i| i.id == r.image_id)
        }
        "label" => label_matches(value, |k| r.config.labels.get(k)),
        // Docker's `volume`: the volume's name (or the bind's source) or the mount point.
        "volume" => r
            .config
            .mounts
            .iter()
            .any(|m| m.source == value || m.destination == value),
        "network" => r.config.network.name == value,
        "health" => {
            r.state
                .health
                .as_ref()
                .map_or("none", |h| h.status.as_str())
                == value
        }
        "exited" => {
            r.state.status == Status::Exited
                && r.state.exit_code.is_some_and(|c| value.parse() == Ok(c))
        }
        _ => false,
    }
}

fn command_text(r: &ContainerRecord, no_trunc: bool) -> String {
    let cmd = r.config.args().join(" ");
    if no_trunc {
        format!("\"{cmd}\"")
    } else {
        format!("\"{}\"", truncate(&cmd, 20))
    }
}

fn row(r: &ContainerRecord, no_trunc: bool, size: Option<String>) -> PsRow {
    let cut = |s: &str, n: usize| {
        if no_trunc {
            s.to_owned()
        } else {
            truncate(s, n)
        }
    };
    let mounts: Vec<String> = r
        .config
        .mounts
        .iter()
        .filter(|m| m.kind != MountKind::Tmpfs && !m.source.is_empty())
        .map(|m| cut(&m.source, 15))
        .collect();
    let local_volumes = r
        .config
        .mounts
        .iter()
        .filter(|m| m.kind == MountKind::Volume)
        .count();
    PsRow {
        id: if no_trunc {
            r.id.to_string()
        } else {
            r.id.short().to_owned()
        },
        image: r.image.clone(),
        command: command_text(r, no_trunc),
        created_at: r.created.format("%Y-%m-%d %H:%M:%S %z UTC").to_string(),
        running_for: human_since(r.created),
        ports: ps_ports(r),
        state: r.state.name().into(),
        status: status_text(r),
        size: size.unwrap_or_else(|| "0B".into()),
        names: r.name.clone(),
        labels: super::output::key_values(&r.config.labels, ","),
        mounts: mounts.join(","),
        networks: r.config.network.name.clone(),
        local_volumes: local_volumes.to_string(),
    }
}

/// Image sizes looked up once per image.
#[derive(Default)]
struct ImageSizes(HashMap<Digest, u64>);

/// Docker's SIZE: the writable layer, and with the image under it the virtual size
/// ("12B (virtual 1.98MB)").
fn size_text(engine: &Engine, r: &ContainerRecord, images: &mut ImageSizes) -> String {
    let writable = engine.writable_layer_usage(r, SIZE_WALK_LIMIT).bytes;
    let image = *images.0.entry(r.image_id.clone()).or_insert_with(|| {
        engine
            .find_image(&r.image_id.to_string())
            .map(|(record, _)| record.size)
            .unwrap_or(0)
    });
    if image == 0 {
        human_size(writable)
    } else {
        format!(
            "{} (virtual {})",
            human_size(writable),
            human_size(writable + image)
        )
    }
}
