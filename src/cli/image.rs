//! Image verbs: images, load, pull, push, import, tag, rmi, image inspect/history.
// The doc comments of the flag structs here are clap's --help text, printed as written:
// `[:TAG]` in them is Docker's usage, not an intra-doc link.
#![allow(rustdoc::broken_intra_doc_links)]

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use clap::{Args, Subcommand};
use color_eyre::Result;

use serde::Serialize;
use serde_json::json;

use super::filter::{glob_match, label_matches, parse_bool, Filters};
use super::output::{
    human_since, human_size, print_inspect, print_json_lines, print_listing, Listing, Table,
};
use super::pull_progress::{Out, Progress};
use crate::engine::image::registry::{
    Cancel, PullEvent, PullOptions, PulledImage, PushEvent, Reference,
};
use crate::engine::image::{ImageHistory, Removal, SaveFormat};
use crate::engine::{Engine, Error, ImageRef};
use crate::format::truncate;
use crate::settings::Settings;

#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Show all images, including dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Only show image IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Filter output: dangling=true|false, reference=PATTERN, label=KEY[=VALUE]
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Format output: "table", "json", or a Go template ("{{.Repository}}:{{.Tag}}")
    #[arg(long, default_value = "")]
    pub format: String,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Show digests
    #[arg(long)]
    pub digests: bool,
    /// Only images whose REPOSITORY[:TAG] matches (a glob, as `reference=`)
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Read from a tar archive file (docker save or OCI layout), or an OCI layout
    /// directory, instead of STDIN
    #[arg(short, long)]
    pub input: Option<PathBuf>,
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// The image: [registry/]repository[:tag] or [registry/]repository@sha256:digest
    pub reference: String,
    /// Pick this platform from a multi-platform image: os/arch[/variant]
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
    /// Print only the image's reference
    #[arg(short, long)]
    pub quiet: bool,
    /// Speak plain HTTP to this registry (host[:port]); localhost always may
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure_registries: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// The image, by the tag it goes out under: [registry/]repository[:tag]
    pub reference: String,
    /// Print nothing but errors
    #[arg(short, long)]
    pub quiet: bool,
    /// Speak plain HTTP to this registry (host[:port]); localhost always may
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure_registries: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Archive format: "docker-archive" or "oci-archive"
    #[arg(long, default_value = "docker-archive")]
    pub format: String,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A tar of a root filesystem (gzip, zstd or plain), or "-" for stdin
    pub file: String,
    /// The name to give the image, NAME[:TAG]
    pub reference: Option<String>,
}

#[derive(Debug, Args)]
pub struct TagArgs {
    pub source: String,
    pub target: String,
}

#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Remove the image even if containers use it
    #[arg(short, long)]
    pub force: bool,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ImageInspectArgs {
    /// Format output: "json" or a Go template ("{{.Config.Cmd}}")
    #[arg(short, long)]
    pub format: Option<String>,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    pub image: String,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set)]
    pub human: bool,
    #[arg(short, long)]
    pub quiet: bool,
    /// Output format: "table" or "json"
    #[arg(long, default_value = "table")]
    pub format: String,
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// List images
    #[command(alias = "list")]
    Ls(ImagesArgs),
    /// Display detailed information on images
    Inspect(ImageInspectArgs),
    /// Show the history of an image: one line per layer
    History(HistoryArgs),
    /// Remove images
    #[command(alias = "remove")]
    Rm(RmiArgs),
    /// Create a tag TARGET that refers to SOURCE
    Tag(TagArgs),
    /// Load an image from a tar archive or OCI layout
    Load(LoadArgs),
    /// Import a root filesystem tar as an image
    Import(ImportArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(SaveArgs),
    /// Remove unused images
    Prune(ImagePruneArgs),
    /// Download an image from a registry
    Pull(PullArgs),
    /// Upload an image to a registry
    Push(PushArgs),
}

#[derive(Debug, Args)]
pub struct ImagePruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

/// `image prune`: asks first unless -f (end of input means no), as Docker.
pub fn prune(engine: &Engine, args: &ImagePruneArgs) -> Result<i32> {
    let what = if args.all {
        "images without at least one container associated to them"
    } else {
        "dangling images"
    };
    if !args.force
        && !super::output::confirm(&format!(
            "WARNING! This will remove all {what}.\nAre you sure you want to continue?"
        ))?
    {
        return Ok(0);
    }
    let (removed, reclaimed) = engine.prune_images(args.all)?;
    if !removed.is_empty() {
        println!("Deleted Images:");
        for removal in &removed {
            match removal {
                Removal::Untagged(r) => println!("untagged: {r}"),
                Removal::Deleted(id) => println!("deleted: {id}"),
            }
        }
        println!();
    }
    println!("Total reclaimed space: {}", human_size(reclaimed));
    Ok(0)
}

pub fn images(engine: &Engine, args: &ImagesArgs) -> Result<i32> {
    let filters = Filters::parse(&args.filter, &["dangling", "reference", "label"])?;
    filters.check("dangling", |v| parse_bool(v).is_some())?;
    let mut patterns: Vec<&str> = filters
        .values("reference")
        .iter()
        .map(String::as_str)
        .collect();
    patterns.extend(args.reference.as_deref());
    let dangling: Vec<bool> = filters
        .values("dangling")
        .iter()
        .filter_map(|v| parse_bool(v))
        .collect();
    let images = engine.list_images(args.all || dangling.contains(&true))?;
    // One row per tag, as Docker; a dangling image is one `<none>` row.
    let mut rows: Vec<ImageRow> = Vec::new();
    for image in &images {
        if !dangling.is_empty() && !dangling.contains(&image.references.is_empty()) {
            continue;
        }
        if filters.contains("label") {
            let labels = image_labels(engine, &image.id)?;
            let wanted = filters.values("label");
            if !wanted.iter().any(|f| label_matches(f, |k| labels.get(k))) {
                continue;
            }
        }
        let record = engine.image_record(&image.id)?;
        let created = parse_time(image.created.as_deref());
        let row = |repository: &str, tag: &str| ImageRow {
            id: if args.no_trunc {
                image.id.to_string()
            } else {
                image.id.short().to_owned()
            },
            repository: repository.to_owned(),
            tag: tag.to_owned(),
            digest: record
                .repo_digests
                .iter()
                .find_map(|d| d.strip_prefix(repository)?.strip_prefix('@'))
                .unwrap_or(NONE)
                .to_owned(),
            created_at: created.map(go_time).unwrap_or_default(),
            created_since: created.map(human_since).unwrap_or_default(),
            size: human_size(image.size),
            virtual_size: human_size(image.size),
            shared_size: NOT_AVAILABLE.into(),
            unique_size: NOT_AVAILABLE.into(),
            containers: NOT_AVAILABLE.into(),
        };
        if image.references.is_empty() && patterns.is_empty() {
            rows.push(row(NONE, NONE));
        }
        for r in &image.references {
            let full = r.to_string();
            if patterns.is_empty()
                || patterns
                    .iter()
                    .any(|p| glob_match(p, &full) || glob_match(p, r.repository()))
            {
                rows.push(row(r.repository(), r.tag()));
            }
        }
    }
    if args.quiet {
        let mut seen = std::collections::HashSet::new();
        for row in &rows {
            if seen.insert(&row.id) {
                println!("{}", row.id);
            }
        }
        return Ok(0);
    }
    let rows = rows
        .iter()
        .map(serde_json::to_value)
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let listing = Listing {
        kind: "image",
        titles: IMAGE_TITLES,
        // As Docker's, --digests changes only the default table.
        default: if args.digests {
            "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
        } else {
            "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
        },
    };
    print_listing(&args.format, &rows, &listing)?;
    Ok(0)
}

const IMAGE_TITLES: &[(&str, &str)] = &[
    ("ID", "IMAGE ID"),
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("Digest", "DIGEST"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("Size", "SIZE"),
    ("VirtualSize", "VIRTUAL SIZE"),
    ("SharedSize", "SHARED SIZE"),
    ("UniqueSize", "UNIQUE SIZE"),
    ("Containers", "CONTAINERS"),
];

/// The labels in an image's config.
fn image_labels(
    engine: &Engine,
    id: &crate::engine::Digest,
) -> Result<std::collections::HashMap<String, String>> {
    let config = engine.image_config(id)?;
    Ok(config
        .config()
        .as_ref()
        .and_then(|c| c.labels().clone())
        .unwrap_or_default())
}

/// A time as Go prints one, which is how Docker's `CreatedAt` reads.
fn go_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S %z UTC").to_string()
}

pub fn load(engine: &Engine, args: &LoadArgs) -> Result<i32> {
    let loaded = match &args.input {
        Some(path) => engine.load_archive(path)?,
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err(
                    Error::Runtime("requested load from stdin, but stdin is empty".into()).into(),
                );
            }
            engine.load_stream(stdin.lock(), "stdin")?
        }
    };
    for image in loaded {
        if args.quiet {
            continue;
        }
        if image.tags.is_empty() {
            println!("Loaded image ID: {}", image.id);
        }
        for tag in &image.tags {
            println!("Loaded image: {tag}");
        }
    }
    Ok(0)
}

/// `pull`: bars on a terminal, one line per step when piped (see `pull_progress`).
pub fn pull(engine: &Engine, args: &PullArgs) -> Result<i32> {
    let reference: Reference = args.reference.parse()?;
    let options =
        Settings::load()?.pull_options(args.platform.as_deref(), &args.insecure_registries)?;
    pull_reporting(engine, &reference, &options, args.quiet, Out::Stdout)?;
    println!("{reference}");
    Ok(0)
}

/// Pulls with progress on `out` and Docker's closing status line; `pull`, and `run` or
/// `create` of an image that is not here, show the same.
pub fn pull_reporting(
    engine: &Engine,
    reference: &Reference,
    options: &PullOptions,
    quiet: bool,
    out: Out,
) -> crate::engine::Result<PulledImage> {
    let label = reference
        .tag()
        .map(str::to_owned)
        .or_else(|| reference.digest().map(|d| d.to_string()))
        .unwrap_or_default();
    let progress = Progress::<PullEvent>::new(quiet, label, out);
    let report = |event: &PullEvent| progress.report(event);
    let signals = PullSignals::install(&options.cancel)
        .map_err(|e| Error::Runtime(format!("installing signal handlers: {e}")))?;
    let pulled = engine.pull(reference, options, &report);
    progress.finish();
    if let Some(signal) = signals.received() {
        // The pull has unwound (its workspace gone) or finished whole: end as the
        // signal would have.
        std::process::exit(128 + signal);
    }
    drop(signals);
    let pulled = pulled?;
    if !quiet {
        let name = match &pulled.tag {
            Some(tag) => tag.to_string(),
            None => reference.with_digest(&pulled.digest),
        };
        if pulled.new {
            out.line(&format!("Status: Downloaded newer image for {name}"));
        } else {
            out.line(&format!("Status: Image is up to date for {name}"));
        }
    }
    Ok(pulled)
}

/// While a pull runs, SIGINT, SIGTERM and SIGHUP (ctrl-c, `kill`, a closed terminal)
/// cancel it instead of killing the process, so it removes its workspace before the
/// CLI exits; a second signal ends the process at once. Once the pull is over (the
/// guard dropped) they end the process, with 128 + the signal, as before.
struct PullSignals {
    /// The signal that came, 0 for none.
    received: Arc<AtomicUsize>,
    /// Set when the pull is over.
    over: Arc<AtomicBool>,
}

impl PullSignals {
    const SIGNALS: [i32; 3] = [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ];

    fn install(cancel: &Cancel) -> std::io::Result<PullSignals> {
        use signal_hook::flag;
        let received = Arc::new(AtomicUsize::new(0));
        let over = Arc::new(AtomicBool::new(false));
        let cancelled = cancel.flag();
        for signal in PullSignals::SIGNALS {
            // In order: the exits look at the flags as they were before this signal.
            flag::register_conditional_shutdown(signal, 128 + signal, over.clone())?;
            flag::register_conditional_shutdown(signal, 128 + signal, cancelled.clone())?;
            flag::register_usize(signal, received.clone(), signal as usize)?;
            flag::register(signal, cancelled.clone())?;
        }
        Ok(PullSignals { received, over })
    }

    fn received(&self) -> Option<i32> {
        match self.received.load(Ordering::SeqCst) {
            0 => None,
            signal => i32::try_from(signal).ok(),
        }
    }
}

impl Drop for PullSignals {
    fn drop(&mut self) {
        self.over.store(true, Ordering::SeqCst);
    }
}

/// `push`: Docker's lines (`The push refers to repository [...]`, a line or bar per
/// layer, `<tag>: digest: ... size: N`).
pub fn push(engine: &Engine, args: &PushArgs) -> Result<i32> {
    let reference: Reference = args.reference.parse()?;
    let options = Settings::load()?.push_options(&args.insecure_registries);
    let label = reference.tag().unwrap_or_default().to_owned();
    let progress = Progress::<PushEvent>::new(args.quiet, label, Out::Stdout);
    let report = |event: &PushEvent| progress.report(event);
    let pushed = engine.push(&reference, &options, &report);
    progress.finish();
    pushed?;
    Ok(0)
}

pub fn save(engine: &Engine, args: &SaveArgs) -> Result<i32> {
    let format: SaveFormat = args.format.parse()?;
    match &args.output {
        Some(path) => save_to_file(engine, args, format, path)?,
        None => {
            let stdout = std::io::stdout();
            if stdout.is_terminal() {
                return Err(Error::Runtime(
                    "cowardly refusing to save to a terminal. Use the -o flag or redirect".into(),
                )
                .into());
            }
            let out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
            engine.save_images(&args.images, format, out)?;
        }
    }
    Ok(0)
}

/// Writes next to `path` and renames into place, so a failed save leaves no partial file.
fn save_to_file(
    engine: &Engine,
    args: &SaveArgs,
    format: SaveFormat,
    path: &std::path::Path,
) -> Result<()> {
    super::output::write_file_atomically(path, |out| {
        engine.save_images(&args.images, format, out)
    })?;
    Ok(())
}

pub fn import(engine: &Engine, args: &ImportArgs) -> Result<i32> {
    let reference = args
        .reference
        .as_deref()
        .map(str::parse::<ImageRef>)
        .transpose()?;
    let id = if args.file == "-" {
        engine.import_rootfs(std::io::stdin().lock(), "stdin", reference.as_ref())?
    } else {
        let file = std::fs::File::open(&args.file)
            .map_err(|e| Error::bad_archive(args.file.clone(), e.to_string()))?;
        engine.import_rootfs(file, &args.file, reference.as_ref())?
    };
    println!("{id}");
    Ok(0)
}

pub fn tag(engine: &Engine, args: &TagArgs) -> Result<i32> {
    let target: ImageRef = args.target.parse()?;
    engine.tag_image(&args.source, &target)?;
    Ok(0)
}

pub fn rmi(engine: &Engine, args: &RmiArgs) -> Result<i32> {
    let mut code = 0;
    for name in &args.images {
        match engine.remove_image(name, args.force) {
            Ok(removals) => {
                for removal in removals {
                    match removal {
                        Removal::Untagged(r) => println!("Untagged: {r}"),
                        Removal::Deleted(id) => println!("Deleted: {id}"),
                    }
                }
            }
            // Like Docker: report each failure and go on with the other images.
            Err(e) => {
                eprintln!("Error: {e}");
                code = 1;
            }
        }
    }
    Ok(code)
}

pub fn inspect(engine: &Engine, args: &ImageInspectArgs) -> Result<i32> {
    let mut out = Vec::new();
    let mut code = 0;
    for name in &args.images {
        match inspect_one(engine, name) {
            Ok(value) => out.push(value),
            Err(e) => {
                eprintln!("Error: {e}");
                code = 1;
            }
        }
    }
    print_inspect(args.format.as_deref(), &out)?;
    Ok(code)
}

/// One image in the shape of `docker image inspect`.
pub fn inspect_one(engine: &Engine, name: &str) -> crate::engine::Result<serde_json::Value> {
    let (record, _) = engine.find_image(name)?;
    let config = engine.image_config(&record.id)?;
    let tags: Vec<String> = engine
        .tags()?
        .into_iter()
        .filter(|(_, id)| *id == record.id)
        .map(|(r, _)| r.to_string())
        .collect();
    let c = config.config().clone().unwrap_or_default();
    let as_map = |items: &Option<Vec<String>>| {
        items.as_ref().map(|items| {
            items
                .iter()
                .map(|i| (i.clone(), json!({})))
                .collect::<serde_json::Map<_, _>>()
        })
    };
    let diffs: Vec<PathBuf> = record
        .chain_ids
        .iter()
        .rev()
        .map(|c| engine.layer_diff_dir(c))
        .collect();
    let join = |dirs: &[PathBuf]| {
        dirs.iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(":")
    };
    let mut graph = serde_json::Map::new();
    if let Some((upper, lower)) = diffs.split_first() {
        if !lower.is_empty() {
            graph.insert("LowerDir".into(), json!(join(lower)));
        }
        graph.insert("UpperDir".into(), json!(upper.display().to_string()));
    }
    Ok(json!({
        "Id": record.id.to_string(),
        "RepoTags": tags,
        "RepoDigests": record.repo_digests,
        "Created": config.created().clone().unwrap_or_default(),
        "Author": config.author().clone().unwrap_or_default(),
        "Config": {
            "User": c.user().clone().unwrap_or_default(),
            "ExposedPorts": as_map(c.exposed_ports()),
            "Env": c.env(),
            "Cmd": c.cmd(),
            "Entrypoint": c.entrypoint(),
            "Volumes": as_map(c.volumes()),
            "WorkingDir": c.working_dir().clone().unwrap_or_default(),
            "Labels": c.labels(),
            "StopSignal": c.stop_signal(),
        },
        "Architecture": config.architecture().to_string(),
        "Os": config.os().to_string(),
        "Size": record.size,
        "GraphDriver": { "Name": "overlay2", "Data": graph },
        "RootFS": {
            "Type": "layers",
            "Layers": record.diff_ids.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        },
    }))
}

pub fn history(engine: &Engine, args: &HistoryArgs) -> Result<i32> {
    let format = OutputFormat::parse(&args.format)?;
    let rows = history_rows(engine.image_history(&args.image)?);
    if args.quiet {
        for row in &rows {
            println!(
                "{}",
                if args.no_trunc {
                    row.id.clone()
                } else {
                    short_id(&row.id)
                }
            );
        }
        return Ok(0);
    }
    match format {
        OutputFormat::Json => print_json_lines(&rows)?,
        OutputFormat::Table => {
            let mut table = Table::new(&["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]);
            for row in rows {
                let id = if args.no_trunc {
                    row.id
                } else {
                    short_id(&row.id)
                };
                let created_by = if args.no_trunc {
                    row.created_by
                } else {
                    truncate(&row.created_by, 45)
                };
                let (created, size) = if args.human {
                    (row.created_since, human_size(row.size_bytes))
                } else {
                    (row.created_at, row.size_bytes.to_string())
                };
                table.row(vec![id, created, created_by, size, row.comment]);
            }
            table.print()?;
        }
    }
    Ok(0)
}

/// History rows newest first, the top one with the image ID.
fn history_rows(history: ImageHistory) -> Vec<HistoryRow> {
    let mut rows: Vec<HistoryRow> = history
        .entries
        .iter()
        .rev()
        .map(|e| HistoryRow::new(e.created.as_deref(), &e.created_by, &e.comment, e.size))
        .collect();
    if let Some(top) = rows.first_mut() {
        top.id = history.id.to_string();
    }
    rows
}

/// A row of `images`, with Docker's field names.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ImageRow {
    #[serde(rename = "ID")]
    id: String,
    repository: String,
    tag: String,
    digest: String,
    created_at: String,
    created_since: String,
    size: String,
    virtual_size: String,
    shared_size: String,
    unique_size: String,
    containers: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct HistoryRow {
    #[serde(rename = "ID")]
    id: String,
    created_at: String,
    created_since: String,
    created_by: String,
    size: String,
    #[serde(skip)]
    size_bytes: u64,
    comment: String,
}

impl HistoryRow {
    fn new(
        created: Option<&str>,
        created_by: &Option<String>,
        comment: &Option<String>,
        size: u64,
    ) -> Self {
        HistoryRow {
            id: MISSING.to_owned(),
            created_at: created.unwrap_or_default().to_owned(),
            created_since: parse_time(created).map(human_since).unwrap_or_default(),
            created_by: created_by.clone().unwrap_or_default(),
            size: human_size(size),
            size_bytes: size,
            comment: comment.clone().unwrap_or_default(),
        }
    }
}

const NONE: &str = "<none>";
/// What Docker shows for figures `images` doesn't work out.
const NOT_AVAILABLE: &str = "N/A";
const MISSING: &str = "<missing>";

enum OutputFormat {
    Table,
    Json,
}

impl OutputFormat {
    fn parse(s: &str) -> crate::engine::Result<OutputFormat> {
        match s {
            "table" | "" => Ok(OutputFormat::Table),
            "json" | "{{json .}}" => Ok(OutputFormat::Json),
            other => Err(Error::invalid("format", other, "use \"table\" or \"json\"")),
        }
    }
}

fn parse_time(s: Option<&str>) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s?)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// `sha256:<hex>` -> 12 hex chars; anything else (`<missing>`) unchanged.
fn short_id(id: &str) -> String {
    match id.strip_prefix("sha256:") {
        Some(hex) => hex.chars().take(12).collect(),
        None => id.to_owned(),
    }
}

pub fn image_command(engine: &Engine, command: &ImageCommand) -> Result<i32> {
    match command {
        ImageCommand::Ls(args) => images(engine, args),
        ImageCommand::Inspect(args) => inspect(engine, args),
        ImageCommand::History(args) => history(engine, args),
        ImageCommand::Rm(args) => rmi(engine, args),
        ImageCommand::Tag(args) => tag(engine, args),
        ImageCommand::Load(args) => load(engine, args),
        ImageCommand::Import(args) => import(engine, args),
        ImageCommand::Save(args) => save(engine, args),
        ImageCommand::Prune(args) => prune(engine, args),
        ImageCommand::Pull(args) => pull(engine, args),
        ImageCommand::Push(args) => push(engine, args),
    }
}
