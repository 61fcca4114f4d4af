//! Image verbs: images, load, pull, push, import, tag, rmi, image inspect/history.
// The doc comments of the flag structs here are clap's --help text, printed as written:
// `[:TAG]` in them is Docker's usage, not an intra-doc link.
#![allow(rustdoc::broken_intra_doc_links)]

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use color_eyre::Result;

use serde::Serialize;

use super::filter::{glob_match, label_matches, parse_bool, Filters};
use super::interrupt::Interrupt;
use super::output::{
    human_since, human_size, print_inspect, print_json_lines, print_listing, report, Listing, Table,
};
use super::pull_progress::{Out, Progress};
use crate::engine::{
    Engine, Error, ImageHistory, ImageRef, ImportOptions, PullEvent, PullOptions, PulledImage,
    PushEvent, Reference, Removal, SaveFormat,
};
use crate::format::truncate;
use crate::ops::inspect;
use crate::ops::resolve::each;
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
    /// Apply Dockerfile instruction to the created image
    #[arg(short, long)]
    pub change: Vec<String>,
    /// Set commit message for imported image
    #[arg(short, long)]
    pub message: Option<String>,
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
    /// Format output: "table", "json" or a Go template ("{{.CreatedBy}}")
    #[arg(long, default_value = "table")]
    pub format: String,
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Build an image from a Dockerfile
    Build(super::build::BuildArgs),
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
    let what = crate::ops::prune::Prune::Images { all: args.all };
    super::output::prune(engine, what, args.force)
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
    // SIGINT, SIGTERM and SIGHUP (ctrl-c, `kill`, a closed terminal) cancel the pull
    // instead of killing the process, so it removes its workspace before the CLI exits.
    let cancel = options.cancel.clone();
    let interrupt = Interrupt::start(move || cancel.cancel())
        .map_err(|e| Error::Runtime(format!("installing signal handlers: {e}")))?;
    let pulled = engine.pull(reference, options, &report);
    progress.finish();
    if let Some(signal) = interrupt.received() {
        // The pull has unwound (its workspace gone) or finished whole: end as the
        // signal would have.
        std::process::exit(128 + signal);
    }
    drop(interrupt);
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

/// `push`: Docker's lines (`The push refers to repository [...]`, a line or bar per
/// layer, `<tag>: digest: ... size: N`).
pub fn push(engine: &Engine, args: &PushArgs) -> Result<i32> {
    push_reporting(
        engine,
        &args.reference,
        args.quiet,
        &args.insecure_registries,
    )?;
    Ok(0)
}

/// Pushes `reference` with `push`'s progress on stdout (nothing with `quiet`); `compose
/// push` sends each image this way.
pub fn push_reporting(
    engine: &Engine,
    reference: &str,
    quiet: bool,
    insecure_registries: &[String],
) -> crate::engine::Result<()> {
    let reference: Reference = reference.parse()?;
    let options = Settings::load()?.push_options(insecure_registries);
    let label = reference.tag().unwrap_or_default().to_owned();
    let progress = Progress::<PushEvent>::new(quiet, label, Out::Stdout);
    let report = |event: &PushEvent| progress.report(event);
    let pushed = engine.push(&reference, &options, &report);
    progress.finish();
    pushed.map(drop)
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
    let opts = ImportOptions {
        message: args.message.clone(),
        changes: args.change.clone(),
        reference: args
            .reference
            .as_deref()
            .map(str::parse::<ImageRef>)
            .transpose()?,
    };
    let id = if args.file == "-" {
        engine.import_rootfs(std::io::stdin().lock(), "stdin", &opts)?
    } else {
        let file = std::fs::File::open(&args.file)
            .map_err(|e| Error::bad_archive(args.file.clone(), e.to_string()))?;
        engine.import_rootfs(file, &args.file, &opts)?
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
    // Like Docker: report each failure and go on with the other images.
    let removed = each(&args.images, |name| engine.remove_image(name, args.force));
    Ok(report(removed, |_, removals| {
        for removal in removals {
            match removal {
                Removal::Untagged(r) => println!("Untagged: {r}"),
                Removal::Deleted(id) => println!("Deleted: {id}"),
            }
        }
    }))
}

pub fn inspect(engine: &Engine, args: &ImageInspectArgs) -> Result<i32> {
    let mut out = Vec::new();
    let looked_up = each(&args.images, |name| inspect::image(engine, name));
    let code = report(looked_up, |_, value| out.push(value));
    print_inspect(args.format.as_deref(), &out)?;
    Ok(code)
}

pub fn history(engine: &Engine, args: &HistoryArgs) -> Result<i32> {
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
    match args.format.trim() {
        "json" | "{{json .}}" => print_json_lines(&rows)?,
        "" | "table" => {
            let mut table = Table::new(&["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]);
            for row in rows {
                let row = row.shown(args);
                table.row(vec![
                    row.id,
                    row.created_since,
                    row.created_by,
                    row.size,
                    row.comment,
                ]);
            }
            table.print()?;
        }
        template => {
            let rows = rows
                .into_iter()
                .map(|row| serde_json::to_value(row.shown(args)))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let listing = Listing {
                kind: "history",
                titles: HISTORY_TITLES,
                default: "",
            };
            print_listing(template, &rows, &listing)?;
        }
    }
    Ok(0)
}

const HISTORY_TITLES: &[(&str, &str)] = &[
    ("ID", "IMAGE"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("CreatedBy", "CREATED BY"),
    ("Size", "SIZE"),
    ("Comment", "COMMENT"),
];

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

    /// The row as the table and templates show it: IDs and commands cut short unless
    /// `--no-trunc`, times and sizes for people unless `-H=false`, as Docker's.
    fn shown(self, args: &HistoryArgs) -> HistoryRow {
        let (id, created_by) = if args.no_trunc {
            (self.id, self.created_by)
        } else {
            (short_id(&self.id), truncate(&self.created_by, 45))
        };
        let (created_since, size) = if args.human {
            (self.created_since, self.size)
        } else {
            (self.created_at.clone(), self.size_bytes.to_string())
        };
        HistoryRow {
            id,
            created_by,
            created_since,
            size,
            ..self
        }
    }
}

const NONE: &str = "<none>";
/// What Docker shows for figures `images` doesn't work out.
const NOT_AVAILABLE: &str = "N/A";
const MISSING: &str = "<missing>";

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
        ImageCommand::Build(args) => super::build::build(engine, args),
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
