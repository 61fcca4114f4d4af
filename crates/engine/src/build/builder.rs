//! The builder: a parsed Dockerfile's stages, step by step, each looked up in the cache
//! first and otherwise run on the engine (a RUN in a hidden build container, a COPY
//! through the copy-into-container path, a metadata step as a config change).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Utc;

use super::cache::{CacheEntry, CacheStore, InputKind, KeyInputs, Seen};
use super::context::BuildContext;
use super::dockerfile::{
    self, CommandForm, Dockerfile, Healthcheck, Instruction, Located, RunMount, RunNetwork,
    RunScript, Stage,
};
use super::image_fs::{ImageFs, Kind};
use super::options::{BuildOptions, BuildOutcome, DockerfileSource};
use super::progress::{BuildEvent, BuildObserver, StepName};
use super::step::{host_architecture, ImageState, RunSpec};
use super::{image_config as cfg, BUILD_LABEL};
use crate::error::{Error, ErrorKind, Result};
use crate::ids::Digest;
use crate::Engine;

/// ARGs every build knows without a declaration, kept out of the cache key (BuildKit's
/// predefined proxy args).
pub const PROXY_ARGS: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// A build error in Docker's class: the user's input (exit 1 at the front door).
pub(crate) fn build_error(message: impl Into<String>) -> Error {
    Error::Build {
        kind: ErrorKind::InvalidArgument,
        message: message.into(),
    }
}

/// The default SHELL of a Linux image.
fn default_shell() -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into()]
}

/// The state of the stage being built.
struct StageState {
    image: ImageState,
    /// The key of the last step (FROM's: the base image).
    key: Digest,
    /// ARGs declared in this stage, with their values.
    args: BTreeMap<String, String>,
    /// Their names in the order first declared, with or without a value (a RUN's
    /// history lists them so).
    declared: Vec<String>,
    shell: Vec<String>,
    /// CMD set in this stage (so ENTRYPOINT keeps it).
    cmd_set: bool,
    /// How its steps are titled, and the last counted step's position.
    steps: StageSteps,
    position: usize,
}

impl StageState {
    /// A variable's value as the stage's steps see it: ENV over ARG.
    fn var(&self, name: &str) -> Option<String> {
        cfg::env_value(&self.image, name).or_else(|| self.args.get(name).cloned())
    }
}

struct Builder<'a> {
    engine: &'a Engine,
    opts: &'a BuildOptions,
    observer: &'a mut dyn BuildObserver,
    cache: CacheStore,
    /// The Dockerfile's name in errors and the scope of last-seen records.
    file_name: String,
    scope: String,
    /// `--build-arg` values (unset ones left out).
    build_args: BTreeMap<String, String>,
    used_args: BTreeSet<String>,
    /// Stage names (lower-case) to their index.
    stage_names: BTreeMap<String, usize>,
    /// Vertex numbers: the last one given.
    number: usize,
    /// The numbers announced as waiting, by stage and instruction (`None`: its FROM).
    plan: BTreeMap<(usize, Option<usize>), usize>,
    /// The planned step being built (`None`: an ONBUILD trigger, numbered afresh).
    current: Option<(usize, Option<usize>)>,
    ran: usize,
    cached: usize,
}

impl Builder<'_> {
    fn next_number(&mut self) -> usize {
        self.number += 1;
        self.number
    }

    /// Shows a step starting; returns its number (the one announced for it, if any).
    fn start(&mut self, title: String) -> usize {
        let planned = self.current.and_then(|at| self.plan.get(&at).copied());
        let number = planned.unwrap_or_else(|| self.next_number());
        self.observer
            .event(BuildEvent::Started(StepName { number, title }));
        number
    }

    /// The cached result of `inputs`, if there is one whose image is still here; on a
    /// miss, tells why (when the step was seen before) and records what it sees now.
    fn lookup(
        &mut self,
        number: Option<usize>,
        scope: &str,
        inputs: &KeyInputs,
        sources: &dyn Fn(&CacheEntry) -> Option<String>,
    ) -> Result<Option<CacheEntry>> {
        let key = inputs.key();
        let hit = if self.opts.no_cache {
            None
        } else {
            self.cache
                .get(&key)?
                .filter(|e| self.engine.image_record(&e.image).is_ok())
        };
        let seen = self.cache.last_seen(scope)?;
        if hit.is_none() {
            if let (Some(number), Some(seen)) = (number, &seen) {
                if seen.key != key {
                    let older = self.cache.get_with_manifest(&seen.key)?;
                    let explain = || older.as_ref().and_then(sources);
                    if let Some(reason) = inputs.first_difference(&seen.inputs, &explain) {
                        self.observer.event(BuildEvent::Miss { number, reason });
                    }
                }
            }
        }
        // The same key means the same inputs: nothing to write.
        if seen.is_none_or(|s| s.key != key) {
            self.cache.set_seen(
                scope,
                &Seen {
                    inputs: inputs.clone(),
                    key,
                },
            )?;
        }
        if let Some(entry) = &hit {
            self.cache.touch(entry)?;
        }
        Ok(hit)
    }

    fn store(
        &mut self,
        inputs: &KeyInputs,
        image: &ImageState,
        created_by: &str,
        size: u64,
        started: Instant,
        manifest: Option<serde_json::Value>,
    ) -> Result<()> {
        let Some(id) = &image.id else {
            return Ok(());
        };
        let now = Utc::now();
        self.cache.put(&CacheEntry {
            key: inputs.key(),
            image: id.clone(),
            created_by: created_by.to_owned(),
            size,
            seconds: started.elapsed().as_secs_f64(),
            created: now,
            last_used: now,
            manifest,
        })
    }
}

impl Engine {
    /// `berth build`: builds the Dockerfile's target stage, tags it, returns its ID. Every
    /// step reports to `observer`. A failure leaves no build container and no cache entry
    /// for the failed step (the steps before it stay cached).
    pub fn build(
        &self,
        opts: &BuildOptions,
        observer: &mut dyn BuildObserver,
    ) -> Result<BuildOutcome> {
        // A build makes many files: spread its layers and containers on the disk, away
        // from where earlier ones were deleted (see `spread_bulk_dirs`).
        self.paths().spread_bulk_dirs();
        // What a killed build left: its build containers are nobody's.
        if let Err(e) = self.remove_stale_build_containers() {
            observer.event(BuildEvent::Warning(format!(
                "removing a killed build's containers: {e}"
            )));
        }
        if let Some(platform) = &opts.platform {
            check_platform(platform)?;
        }
        let (file_name, text) = read_dockerfile(&opts.context, &opts.dockerfile)?;
        let mut builder = Builder {
            engine: self,
            opts,
            observer,
            cache: CacheStore::open(self.paths().root())?,
            scope: format!("{}\0{}", opts.context.display(), file_name),
            file_name,
            build_args: opts
                .build_args
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
                .collect(),
            used_args: BTreeSet::new(),
            stage_names: BTreeMap::new(),
            number: 0,
            plan: BTreeMap::new(),
            current: None,
            ran: 0,
            cached: 0,
        };
        let image = builder.run(&text)?;
        let outcome = BuildOutcome {
            image,
            ran: builder.ran,
            cached: builder.cached,
        };
        let unused: Vec<&String> = builder
            .build_args
            .keys()
            .filter(|k| !builder.used_args.contains(*k) && !PROXY_ARGS.contains(&k.as_str()))
            .collect();
        if !unused.is_empty() {
            let names: Vec<&str> = unused.iter().map(|s| s.as_str()).collect();
            builder.observer.event(BuildEvent::Warning(format!(
                "[Warning] One or more build-args [{}] were not consumed",
                names.join(" ")
            )));
        }
        Ok(outcome)
    }
}

/// The Dockerfile's name (as errors show it) and text.
fn read_dockerfile(context: &Path, source: &DockerfileSource) -> Result<(String, String)> {
    match source {
        DockerfileSource::Text { name, text } => Ok((name.clone(), text.clone())),
        DockerfileSource::Path(path) => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "Dockerfile".into());
            // Bounded: a Dockerfile is text a person wrote.
            const MAX: u64 = 4 << 20;
            let file = std::fs::File::open(path).map_err(|e| {
                build_error(format!(
                    "failed to read dockerfile: open {}: {}",
                    path.display(),
                    e.kind()
                        .to_string()
                        .to_lowercase()
                        .replace("notfound", "no such file or directory")
                ))
            })?;
            let mut text = String::new();
            use std::io::Read;
            file.take(MAX + 1).read_to_string(&mut text).map_err(|e| {
                build_error(format!("failed to read dockerfile {}: {e}", path.display()))
            })?;
            if text.len() as u64 > MAX {
                return Err(build_error(format!(
                    "failed to read dockerfile {}: larger than 4MiB",
                    path.display()
                )));
            }
            let _ = context;
            Ok((name, text))
        }
    }
}

/// Whether a step shows as a vertex of its own (`[build 2/5] RUN make`); the metadata
/// steps are only config.
fn is_counted(instruction: &Instruction) -> bool {
    matches!(
        instruction,
        Instruction::Run(_) | Instruction::Copy(_) | Instruction::Workdir(_)
    )
}

/// How a stage's steps are titled: its name as shown (`build `, `stage-1 `, or nothing for
/// a lone unnamed stage), its step count, and whether its FROM is one of the counted
/// steps. As BuildKit's dockerfile2llb counts: FROM of an image is step 1; FROM `scratch`
/// or of an earlier stage is no step of its own (nothing is pulled or shown for it); then
/// each RUN, COPY, ADD and WORKDIR.
struct StageSteps {
    label: String,
    total: usize,
    from_counted: bool,
}

impl StageSteps {
    /// `image`: the stage's FROM after expansion.
    fn of(df: &Dockerfile, stage: &Stage, image: &str) -> StageSteps {
        let label = match &stage.name {
            Some(name) => format!("{name} "),
            None if df.stages.len() > 1 => format!("stage-{} ", stage.index),
            None => String::new(),
        };
        let from_counted = image != "scratch" && stage_ref(df, stage.index, image).is_none();
        let counted = stage
            .instructions
            .iter()
            .filter(|i| is_counted(&i.value))
            .count();
        StageSteps {
            label,
            total: counted + usize::from(from_counted),
            from_counted,
        }
    }

    /// `[build 2/5] RUN make`: the position right-aligned to the total's width, as
    /// BuildKit's `%*d/%d` prints it (`[ 2/10]`); a stage with no counted step shows none.
    fn title(&self, position: usize, shown: &str) -> String {
        if self.total == 0 {
            return shown.to_owned();
        }
        let width = self.total.to_string().len();
        format!("[{}{position:>width$}/{}] {shown}", self.label, self.total)
    }
}

/// The stages `target` needs, by index (itself and every stage it names, transitively).
fn reachable(needs: &[Vec<usize>], target: usize) -> BTreeSet<usize> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![target];
    while let Some(i) = todo.pop() {
        if seen.insert(i) {
            todo.extend(needs.get(i).into_iter().flatten().copied());
        }
    }
    seen
}

/// Whether `path` is a directory in the image, symlinks followed inside the image's own
/// view (as BuildKit resolves a destination), read from its layers by descriptor.
fn image_has_dir(fs: &ImageFs, path: &str) -> Result<bool> {
    Ok(fs.resolve(path)?.is_some_and(|f| f.kind == Kind::Dir))
}

/// The layer directory holding the image's `/etc/passwd` (a regular file, looked up
/// without following links): where `--chown` names are resolved.
fn passwd_root(engine: &Engine, image: &ImageState) -> Result<Option<PathBuf>> {
    let fs = ImageFs::open(engine, image)?;
    Ok(fs
        .lookup("etc/passwd")?
        .filter(|f| f.kind == Kind::File)
        .and_then(|f| image.chain_ids.get(f.layer))
        .map(|chain| engine.layer_diff_dir(chain)))
}

/// `--chown=user[:group]` as numbers, names looked up in the image's passwd and group.
fn resolve_chown(engine: &Engine, image: &ImageState, spec: &str) -> Result<(u32, u32)> {
    let numeric = spec.split(':').all(|p| p.parse::<u32>().is_ok());
    if numeric {
        let mut parts = spec.split(':').map(|p| p.parse::<u32>().unwrap_or(0));
        let uid = parts.next().unwrap_or(0);
        // A user alone: its group is the same number, as BuildKit does.
        let gid = parts.next().unwrap_or(uid);
        return Ok((uid, gid));
    }
    let root = passwd_root(engine, image)?.ok_or_else(|| {
        build_error(format!(
            "unable to convert uid/gid chown string to host mapping: no passwd file for user {spec}"
        ))
    })?;
    let user = crate::container::user::resolve_user(&root, spec).map_err(|e| {
        build_error(format!(
            "unable to convert uid/gid chown string to host mapping: {e}"
        ))
    })?;
    Ok((user.uid, user.gid))
}

/// A RUN's mount as a container mount.
fn cache_mount(
    cache: &CacheStore,
    id: &str,
    target: &str,
) -> Result<crate::storage::mounts::MountSpec> {
    let dir = cache.mount_dir(id)?;
    Ok(bind_mount(&dir, target, false))
}

fn bind_mount(source: &Path, target: &str, read_only: bool) -> crate::storage::mounts::MountSpec {
    crate::storage::mounts::MountSpec {
        kind: crate::storage::mounts::MountKind::Bind,
        source: source.display().to_string(),
        destination: target.to_owned(),
        read_only,
        propagation: Default::default(),
        tmpfs_size: None,
        tmpfs_mode: None,
        tmpfs_flags: Default::default(),
        anonymous: false,
        no_copy: false,
        create_source: false,
        given_as: None,
    }
}

fn tmpfs_mount(target: &str) -> crate::storage::mounts::MountSpec {
    crate::storage::mounts::MountSpec {
        kind: crate::storage::mounts::MountKind::Tmpfs,
        source: String::new(),
        ..bind_mount(Path::new(""), target, false)
    }
}

/// The label value that marks a build container (for `system check`).
pub fn is_build_container(labels: &BTreeMap<String, String>) -> bool {
    labels.contains_key(BUILD_LABEL)
}

/// A one-file tar (a heredoc COPY's file), mode and owner as given.
fn heredoc_tar(
    out: &mut dyn std::io::Write,
    path: &str,
    content: &[u8],
    mode: u32,
    owner: (u32, u32),
) -> Result<()> {
    let mut builder = tar::Builder::new(out);
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(mode);
    header.set_uid(owner.0 as u64);
    header.set_gid(owner.1 as u64);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    header.set_mtime(now);
    header.set_entry_type(tar::EntryType::Regular);
    let io = |e: std::io::Error| Error::Io {
        context: format!("writing {path}"),
        err: e,
    };
    builder
        .append_data(&mut header, path.trim_start_matches('/'), content)
        .map_err(io)?;
    builder.finish().map_err(io)
}

fn platform_text() -> String {
    format!("linux/{}", host_architecture())
}

/// Go's duration in nanoseconds, for a HEALTHCHECK's config.
fn nanos(d: Option<std::time::Duration>) -> i64 {
    d.map_or(0, |d| d.as_nanos().min(i64::MAX as u128) as i64)
}

impl Builder<'_> {
    /// Parses and builds; returns the final image's ID.
    fn run(&mut self, text: &str) -> Result<Digest> {
        let df =
            dockerfile::parse(&self.file_name, text).map_err(|e| build_error(e.to_string()))?;
        self.stage_names = df
            .stages
            .iter()
            .filter_map(|s| Some((s.name.clone()?, s.index)))
            .collect();
        for note in &df.notes {
            self.observer.event(BuildEvent::Warning(note.clone()));
        }
        let target = match &self.opts.target {
            None => df.stages.len() - 1,
            Some(name) => {
                let lower = name.to_ascii_lowercase();
                df.stages
                    .iter()
                    .position(|s| s.name.as_deref() == Some(lower.as_str()))
                    .ok_or_else(|| {
                        build_error(format!("target stage {name:?} could not be found"))
                    })?
            }
        };
        // Global ARGs: their values for FROM lines (a build arg overrides the default).
        let mut globals: BTreeMap<String, String> = BTreeMap::new();
        for arg in &df.global_args {
            let value = self.arg_value(
                &arg.value,
                &|n| globals.get(n).cloned(),
                df.escape,
                arg.line,
            )?;
            if let Some(value) = value {
                globals.insert(arg.value.name.clone(), value);
            } else {
                globals.remove(&arg.value.name);
            }
        }
        let needs = self.stage_needs(&df, &globals)?;
        let wanted = reachable(&needs, target);
        self.announce(&df, &wanted, &globals)?;
        let context = BuildContext::open(
            &self.opts.context,
            self.dockerfile_rel().as_deref(),
            Some(&self.cache.dir().join("stat")),
        )?;
        let mut results: Vec<Option<ImageState>> = vec![None; df.stages.len()];
        for stage in df.stages.iter().filter(|s| wanted.contains(&s.index)) {
            let image = self.build_stage(&df, stage, &globals, &results, &context)?;
            results[stage.index] = Some(image);
        }
        let mut last = results[target]
            .take()
            .ok_or_else(|| Error::Runtime("the target stage was not built".into()))?;
        if !self.opts.labels.is_empty() {
            cfg::label(&mut last, &self.opts.labels);
            last.id = None;
            let mut state = last;
            cfg::tidy(&mut state);
            // Docker's --label changes the config without a history entry.
            last = self.engine.store_config_only(state)?;
        }
        let id = last
            .id
            .clone()
            .ok_or_else(|| build_error("the build produced no image (an empty scratch stage)"))?;
        if self.ran > 0 {
            self.engine.sync_store()?;
        }
        self.engine.export_built(&self.opts.tags, &id)?;
        Ok(id)
    }

    /// Numbers the steps of the `wanted` stages in the order they run and shows them
    /// waiting, titled as they will start.
    fn announce(
        &mut self,
        df: &Dockerfile,
        wanted: &BTreeSet<usize>,
        globals: &BTreeMap<String, String>,
    ) -> Result<()> {
        let mut steps = Vec::new();
        for stage in df.stages.iter().filter(|s| wanted.contains(&s.index)) {
            // An error here is the one the stage's own FROM reports when it starts.
            let image = stage
                .from
                .value
                .expanded(&|n| globals.get(n).cloned(), df.escape)
                .map_or_else(|_| stage.from.value.image.clone(), |f| f.image);
            let counting = StageSteps::of(df, stage, &image);
            let mut add = |at: (usize, Option<usize>), title: String| {
                let number = self.next_number();
                self.plan.insert(at, number);
                steps.push(StepName { number, title });
            };
            let mut position = 0;
            if counting.from_counted {
                position += 1;
                add(
                    (stage.index, None),
                    counting.title(position, &format!("FROM {image}")),
                );
            }
            for (i, located) in stage.instructions.iter().enumerate() {
                if is_counted(&located.value) {
                    position += 1;
                    let shown = one_line(&located.source);
                    add((stage.index, Some(i)), counting.title(position, &shown));
                }
            }
        }
        self.observer.event(BuildEvent::Waiting(steps));
        Ok(())
    }

    /// The Dockerfile's path in the context, when it is inside it.
    fn dockerfile_rel(&self) -> Option<String> {
        match &self.opts.dockerfile {
            DockerfileSource::Path(path) => {
                let abs = std::fs::canonicalize(path).ok()?;
                let ctx = std::fs::canonicalize(&self.opts.context).ok()?;
                abs.strip_prefix(&ctx)
                    .ok()
                    .map(|p| p.to_string_lossy().into_owned())
            }
            DockerfileSource::Text { .. } => None,
        }
    }

    /// The value an ARG declaration takes: the build arg, else its default expanded.
    fn arg_value(
        &mut self,
        decl: &dockerfile::ArgDecl,
        vars: &dyn Fn(&str) -> Option<String>,
        escape: char,
        line: usize,
    ) -> Result<Option<String>> {
        if let Some(value) = self.build_args.get(&decl.name) {
            self.used_args.insert(decl.name.clone());
            return Ok(Some(value.clone()));
        }
        decl.default
            .as_deref()
            .map(|d| super::expand::expand(d, vars, escape))
            .transpose()
            .map_err(|e| build_error(format!("{}:{line}: {e}", self.file_name)))
    }

    /// For each stage, the earlier stages it uses (FROM, COPY --from, RUN --mount from).
    fn stage_needs(
        &self,
        df: &Dockerfile,
        globals: &BTreeMap<String, String>,
    ) -> Result<Vec<Vec<usize>>> {
        let mut needs = Vec::new();
        for stage in &df.stages {
            let mut uses = Vec::new();
            let from = stage
                .from
                .value
                .expanded(&|n| globals.get(n).cloned(), df.escape)
                .map_err(|e| build_error(format!("{}:{}: {e}", self.file_name, stage.from.line)))?;
            uses.extend(stage_ref(df, stage.index, &from.image));
            for instruction in &stage.instructions {
                match &instruction.value {
                    Instruction::Copy(c) => {
                        if let Some(from) = &c.from {
                            uses.extend(stage_ref(df, stage.index, from));
                        }
                    }
                    Instruction::Run(r) => {
                        for m in &r.mounts {
                            if let RunMount::Bind { from: Some(f), .. }
                            | RunMount::Cache { from: Some(f), .. } = m
                            {
                                uses.extend(stage_ref(df, stage.index, f));
                            }
                        }
                    }
                    _ => {}
                }
            }
            needs.push(uses);
        }
        Ok(needs)
    }

    fn build_stage(
        &mut self,
        df: &Dockerfile,
        stage: &Stage,
        globals: &BTreeMap<String, String>,
        results: &[Option<ImageState>],
        context: &BuildContext,
    ) -> Result<ImageState> {
        let file = self.file_name.clone();
        let at =
            |line: usize, e: &dyn std::fmt::Display| build_error(format!("{file}:{line}: {e}"));
        let from = stage
            .from
            .value
            .expanded(&|n| globals.get(n).cloned(), df.escape)
            .map_err(|e| at(stage.from.line, &e))?;
        if let Some(platform) = &from.platform {
            check_platform(platform).map_err(|e| at(stage.from.line, &e))?;
        }
        let counting = StageSteps::of(df, stage, &from.image);
        self.current = Some((stage.index, None));
        // FROM scratch or a stage is shown as no step (BuildKit has no vertex for it).
        let number = counting
            .from_counted
            .then(|| self.start(counting.title(1, &format!("FROM {}", from.image))));
        let started = Instant::now();
        let (image, base_key) = if from.image == "scratch" {
            (ImageState::scratch(), Digest::of_bytes(b"scratch"))
        } else if let Some(index) = stage_ref(df, stage.index, &from.image) {
            let image = results[index]
                .clone()
                .ok_or_else(|| Error::Runtime(format!("stage {index} was not built")))?;
            let key = image
                .id
                .clone()
                .unwrap_or_else(|| Digest::of_bytes(b"scratch"));
            (image, key)
        } else {
            let id = self.base_image(&from.image).inspect_err(|e| {
                if let Some(number) = number {
                    self.observer.event(BuildEvent::Error {
                        number,
                        message: e.to_string(),
                    });
                }
            })?;
            let image = self.engine.image_state(&id)?;
            (image, id)
        };
        // Every stage has a PATH (BuildKit's dockerfile2llb adds the default one when
        // the base's Env has none, e.g. scratch).
        let mut image = image;
        cfg::default_path(&mut image);
        let mut inputs = KeyInputs::new();
        inputs
            .add(InputKind::Base(from.image.clone()), base_key.to_string())
            .add(InputKind::Setting("platform".into()), platform_text());
        let scope = format!("{}\0{}\0from", self.scope, stage_scope(stage));
        // FROM is never "run": what it looked at is shown for the next misses.
        self.lookup(None, &scope, &inputs, &|_| None)?;
        if let Some(number) = number {
            self.observer.event(BuildEvent::Done {
                number,
                elapsed: started.elapsed(),
                size: 0,
            });
        }
        let shell = {
            let s = image.strings("Shell");
            if s.is_empty() {
                default_shell()
            } else {
                s
            }
        };
        let mut state = StageState {
            image,
            key: inputs.key(),
            args: BTreeMap::new(),
            declared: Vec::new(),
            shell,
            cmd_set: false,
            position: usize::from(counting.from_counted),
            steps: counting,
        };
        // The base image's ONBUILD triggers run first, then are cleared.
        let triggers = state.image.strings("OnBuild");
        if !triggers.is_empty() {
            state.image.config_mut().remove("OnBuild");
            let text = format!("FROM scratch\n{}\n", triggers.join("\n"));
            let parsed =
                dockerfile::parse("ONBUILD", &text).map_err(|e| build_error(e.to_string()))?;
            if let Some(first) = parsed.stages.first() {
                self.current = None;
                for (i, instruction) in first.instructions.iter().enumerate() {
                    let scope = format!("{}\0{}\0onbuild{i}", self.scope, stage_scope(stage));
                    self.step(df, &mut state, instruction, &scope, results, context)?;
                }
            }
        }
        for (i, instruction) in stage.instructions.iter().enumerate() {
            self.current = Some((stage.index, Some(i)));
            let scope = format!("{}\0{}\0{i}", self.scope, stage_scope(stage));
            self.step(df, &mut state, instruction, &scope, results, context)?;
        }
        Ok(state.image)
    }

    /// The image ID a FROM reference names: local, or pulled when missing or `--pull`.
    fn base_image(&mut self, reference: &str) -> Result<Digest> {
        if !self.opts.pull {
            if let Ok(image) = self.engine.resolve_image(reference) {
                return Ok(image.id);
            }
        }
        let parsed: crate::image::registry::Reference = reference
            .parse()
            .map_err(|e| build_error(format!("failed to parse stage name {reference:?}: {e}")))?;
        let pulled = self
            .engine
            .pull(
                &parsed,
                &crate::image::registry::PullOptions {
                    cancel: self.opts.cancel.clone(),
                    ..Default::default()
                },
                &|_| {},
            )
            .map_err(|e| build_error(format!("{reference}: {e}")))?;
        Ok(pulled.id)
    }

    /// One instruction: expanded, keyed, then taken from the cache or run.
    fn step(
        &mut self,
        df: &Dockerfile,
        state: &mut StageState,
        located: &Located<Instruction>,
        scope: &str,
        results: &[Option<ImageState>],
        context: &BuildContext,
    ) -> Result<()> {
        if self.opts.cancel.is_cancelled() {
            return Err(build_error("the build was cancelled"));
        }
        let file = self.file_name.clone();
        let at = |e: &dyn std::fmt::Display| build_error(format!("{file}:{}: {e}", located.line));
        let vars = |name: &str| state.var(name);
        let instruction = located
            .value
            .expanded(&vars, df.escape)
            .map_err(|e| at(&e))?;
        // Build args a step uses count as consumed.
        for name in self.build_args.keys() {
            if state.args.contains_key(name) {
                self.used_args.insert(name.clone());
            }
        }
        let shown = one_line(&located.source);
        match instruction {
            Instruction::Run(run) => self.run_step(state, &run, &shown, scope, results, context),
            Instruction::Copy(copy) => {
                self.copy_step(state, &copy, &shown, scope, results, context)
            }
            Instruction::Workdir(path) => self.workdir_step(state, &path, scope),
            Instruction::Arg(decls) => {
                let mut shown_args = Vec::new();
                for decl in &decls {
                    if !state.declared.contains(&decl.name) {
                        state.declared.push(decl.name.clone());
                    }
                    let value = self.arg_value(decl, &|n| state.var(n), df.escape, located.line)?;
                    // A global ARG redeclared without a default takes the global value.
                    let value = value.or_else(|| {
                        df.global_args
                            .iter()
                            .rev()
                            .find(|g| g.value.name == decl.name)
                            .and_then(|_| self.global_value(df, &decl.name))
                    });
                    match &value {
                        Some(v) => {
                            state.args.insert(decl.name.clone(), v.clone());
                            shown_args.push(format!("{}={v}", decl.name));
                        }
                        None => {
                            state.args.remove(&decl.name);
                            shown_args.push(decl.name.clone());
                        }
                    }
                }
                // The ARG's value is no input of its own: a build arg busts from its first
                // use (a RUN's environment, an expanded instruction), as BuildKit.
                let names: Vec<&str> = decls.iter().map(|d| d.name.as_str()).collect();
                let key_text = format!("ARG {}", names.join(" "));
                let created_by = format!("ARG {}", shown_args.join(" "));
                self.meta_step(state, &key_text, &created_by, scope, |_| {})
            }
            other => {
                let mut next = state.image.clone();
                let created_by = apply_metadata(&mut next, &other, &state.shell, state.cmd_set);
                if let Instruction::Cmd(_) = other {
                    state.cmd_set = true;
                }
                if let Instruction::Shell(shell) = &other {
                    state.shell = shell.clone();
                }
                let config = next.json.get("config").cloned();
                let author = next.json.get("author").cloned();
                self.meta_step(
                    state,
                    &created_by.clone(),
                    &created_by,
                    scope,
                    move |image| {
                        if let Some(config) = config {
                            image.json["config"] = config;
                        }
                        if let Some(author) = author {
                            image.json["author"] = author;
                        }
                    },
                )
            }
        }
    }

    fn global_value(&self, df: &Dockerfile, name: &str) -> Option<String> {
        if let Some(v) = self.build_args.get(name) {
            return Some(v.clone());
        }
        let decl = df.global_args.iter().rev().find(|g| g.value.name == name)?;
        decl.value
            .default
            .as_deref()
            .and_then(|d| super::expand::expand(d, &|_| None, df.escape).ok())
    }

    /// A step that changes only the config.
    fn meta_step(
        &mut self,
        state: &mut StageState,
        key_text: &str,
        created_by: &str,
        scope: &str,
        change: impl FnOnce(&mut ImageState),
    ) -> Result<()> {
        let mut inputs = KeyInputs::new();
        inputs
            .add(InputKind::Parent, state.key.to_string())
            .add(InputKind::Instruction, key_text);
        let started = Instant::now();
        if let Some(hit) = self.lookup(None, scope, &inputs, &|_| None)? {
            state.image = self.engine.image_state(&hit.image)?;
            state.key = inputs.key();
            return Ok(());
        }
        let mut next = state.image.clone();
        change(&mut next);
        cfg::tidy(&mut next);
        let next = self.engine.store_config_step(next, created_by)?;
        self.store(&inputs, &next, created_by, 0, started, None)?;
        state.image = next;
        state.key = inputs.key();
        Ok(())
    }

    /// Shows the start of a counted step; returns its number.
    fn start_counted(&mut self, state: &mut StageState, shown: &str) -> usize {
        state.position += 1;
        let title = state.steps.title(state.position, shown);
        self.start(title)
    }

    /// The step's environment: the image's Env, then ARGs in scope not set by ENV.
    fn step_env(state: &StageState) -> Vec<String> {
        let mut env = state.image.strings("Env");
        for (k, v) in &state.args {
            if cfg::env_value(&state.image, k).is_none() {
                env.push(format!("{k}={v}"));
            }
        }
        env
    }

    fn run_step(
        &mut self,
        state: &mut StageState,
        run: &dockerfile::Run,
        shown: &str,
        scope: &str,
        results: &[Option<ImageState>],
        context: &BuildContext,
    ) -> Result<()> {
        let number = self.start_counted(state, shown);
        let (argv, script) = run_argv(run, &state.shell);
        let network = match run.network {
            Some(RunNetwork::None) => super::options::BuildNetwork::None,
            Some(RunNetwork::Host) => super::options::BuildNetwork::Host,
            Some(RunNetwork::Default) | None => self.opts.network,
        };
        let user = state.image.string("User");
        let workdir = {
            let w = state.image.string("WorkingDir");
            if w.is_empty() {
                "/".to_owned()
            } else {
                w
            }
        };
        let mut inputs = KeyInputs::new();
        inputs.add(InputKind::Parent, state.key.to_string()).add(
            InputKind::Instruction,
            format!("RUN {}", cfg::go_quoted(&argv)),
        );
        for (k, v) in &state.args {
            if !PROXY_ARGS.contains(&k.as_str()) && cfg::env_value(&state.image, k).is_none() {
                inputs.add(InputKind::BuildArg(k.clone()), v.clone());
            }
        }
        for entry in state.image.strings("Env") {
            let (k, v) = entry.split_once('=').unwrap_or((entry.as_str(), ""));
            inputs.add(InputKind::Env(k.to_owned()), v);
        }
        inputs
            .add(InputKind::Setting("user".into()), user.clone())
            .add(InputKind::Setting("workdir".into()), workdir.clone())
            .add(InputKind::Setting("network".into()), network.as_str())
            .add(InputKind::Setting("platform".into()), platform_text());
        let mut mounts = Vec::new();
        // A lone `#!` here-document: its body, an executable file mounted read-only.
        let script_file = match &script {
            Some((path, content)) => {
                inputs.add(InputKind::Setting("script".into()), content.clone());
                let file = ScriptFile::write(self.engine, content)?;
                mounts.push(bind_mount(&file.path, path, true));
                Some(file)
            }
            None => None,
        };
        // What a mount shows is part of the key: a stage's or image's result ID, the
        // context's files under a bind's source.
        let mut from_images = Vec::new();
        for m in &run.mounts {
            inputs.add(InputKind::Setting("mount".into()), format!("{m:?}"));
            let from_image = match m {
                RunMount::Bind {
                    from: Some(from), ..
                } => {
                    let image = self.source_image(from, results)?;
                    let id = image.id.as_ref().map(|d| d.to_string()).unwrap_or_default();
                    inputs.add(InputKind::FromImage(from.clone()), id);
                    Some(image)
                }
                RunMount::Bind {
                    from: None, source, ..
                } => {
                    let rel = source.as_deref().unwrap_or(".").to_owned();
                    let digest = context.select(&[rel])?.digest()?;
                    inputs.add(InputKind::Sources, digest.to_string());
                    None
                }
                _ => None,
            };
            from_images.push(from_image);
        }
        let started = Instant::now();
        if let Some(hit) = self.lookup(Some(number), scope, &inputs, &|_| None)? {
            state.image = self.engine.image_state(&hit.image)?;
            state.key = inputs.key();
            self.cached += 1;
            self.observer.event(BuildEvent::Cached { number });
            return Ok(());
        }
        // Scratch copies of stages' files for the step (removed when dropped).
        let mut scratch = Vec::new();
        for (m, from_image) in run.mounts.iter().zip(&from_images) {
            mounts.push(self.run_mount(m, from_image.as_ref(), context, &mut scratch)?);
        }
        let base = self.materialize(state)?;
        let mut env = Self::step_env(state);
        // Proxy args reach the step without being part of its key.
        for k in PROXY_ARGS {
            if let Some(v) = self.build_args.get(k) {
                if !state.args.contains_key(k) {
                    env.push(format!("{k}={v}"));
                    self.used_args.insert(k.to_owned());
                }
            }
        }
        let spec = RunSpec {
            argv: argv.clone(),
            env,
            user,
            workdir,
            network: network.container_network(),
            mounts,
        };
        let outcome = self
            .engine
            .run_in_build_container(&base, &spec, number, self.observer);
        let container = match outcome {
            Ok(Ok(container)) => container,
            Ok(Err(_)) if self.opts.cancel.is_cancelled() => {
                self.observer.event(BuildEvent::Error {
                    number,
                    message: "cancelled".into(),
                });
                return Err(build_error("the build was cancelled"));
            }
            Ok(Err(failure)) => {
                let message = format!(
                    "process \"{}\" did not complete successfully: exit code: {}",
                    argv.join(" "),
                    failure.code
                );
                self.observer.event(BuildEvent::Error {
                    number,
                    message: message.clone(),
                });
                let mut text = message;
                if !failure.tail.is_empty() {
                    text = format!("{text}\n{}", failure.tail.join("\n"));
                }
                return Err(Error::Build {
                    kind: ErrorKind::InvalidArgument,
                    message: text,
                });
            }
            Err(e) => {
                self.observer.event(BuildEvent::Error {
                    number,
                    message: e.to_string(),
                });
                return Err(e);
            }
        };
        drop(script_file);
        let args: Vec<(&str, String)> = state
            .declared
            .iter()
            .map(|name| (name.as_str(), state.var(name).unwrap_or_default()))
            .collect();
        let created_by = cfg::run_history(&args, &argv);
        let (next, size) =
            self.engine
                .commit_build_container(&container, &state.image, &created_by)?;
        drop(container);
        self.store(&inputs, &next, &created_by, size, started, None)?;
        state.image = next;
        state.key = inputs.key();
        self.ran += 1;
        self.observer.event(BuildEvent::Done {
            number,
            elapsed: started.elapsed(),
            size,
        });
        Ok(())
    }

    /// The stored image of the stage so far (a scratch stage with nothing yet gets an
    /// image of no layers).
    fn materialize(&mut self, state: &mut StageState) -> Result<Digest> {
        if let Some(id) = &state.image.id {
            return Ok(id.clone());
        }
        let stored = self.engine.store_config_only(state.image.clone())?;
        let id = stored
            .id
            .clone()
            .unwrap_or_else(|| Digest::of_bytes(b"scratch"));
        state.image = stored;
        Ok(id)
    }

    /// A RUN's `--mount` as a container mount; a stage's or image's files (`from`) are
    /// a scratch copy in `scratch`, shown read-only unless `rw` (then written and thrown
    /// away after the step, as are a context bind's writes).
    fn run_mount(
        &mut self,
        mount: &RunMount,
        from_image: Option<&ImageState>,
        context: &BuildContext,
        scratch: &mut Vec<ScratchDir>,
    ) -> Result<crate::storage::mounts::MountSpec> {
        match mount {
            RunMount::Cache { target, id, .. } => {
                cache_mount(&self.cache, id.as_deref().unwrap_or(target), target)
            }
            RunMount::Tmpfs { target, size } => {
                let mut m = tmpfs_mount(target);
                m.tmpfs_size = *size;
                Ok(m)
            }
            RunMount::Bind {
                target,
                source,
                from: None,
                read_write,
            } => {
                let rel = source.as_deref().unwrap_or(".").trim_start_matches('/');
                let dir = std::fs::canonicalize(context.dir().join(rel))
                    .map_err(|e| build_error(format!("failed to compute cache key: {rel}: {e}")))?;
                let root = std::fs::canonicalize(context.dir())
                    .map_err(|e| build_error(format!("reading the context: {e}")))?;
                if !dir.starts_with(&root) {
                    return Err(build_error(format!(
                        "failed to compute cache key: {rel} is outside the build context"
                    )));
                }
                if *read_write {
                    // The user's own files are never the step's to change.
                    let rel = dir
                        .strip_prefix(&root)
                        .map(|p| p.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let copy = ScratchDir::of_context(self.engine, context, &rel, dir.is_dir())?;
                    let mount = bind_mount(&copy.mount_source, target, false);
                    scratch.push(copy);
                    return Ok(mount);
                }
                Ok(bind_mount(&dir, target, true))
            }
            RunMount::Bind {
                target,
                source,
                from: Some(from),
                read_write,
            } => {
                let image = from_image.ok_or_else(|| {
                    Error::Runtime(format!("--mount from={from}: the stage was not resolved"))
                })?;
                let path = cfg::clean_path(&format!("/{}", source.as_deref().unwrap_or("/")));
                let copy = ScratchDir::of_image(self.engine, image, &path)?;
                let mount = bind_mount(&copy.mount_source, target, !read_write);
                scratch.push(copy);
                Ok(mount)
            }
        }
    }

    fn workdir_step(&mut self, state: &mut StageState, path: &str, scope: &str) -> Result<()> {
        let mut next = state.image.clone();
        let (dir, created_by) = cfg::workdir(&mut next, path);
        let config = next.json["config"].clone();
        let image_fs = ImageFs::open(self.engine, &state.image)?;
        if image_has_dir(&image_fs, &dir)? {
            return self.meta_step(state, &created_by, &created_by, scope, move |image| {
                image.json["config"] = config;
            });
        }
        // A missing WORKDIR is made (0755, owned by the current USER as the image's
        // passwd and group resolve it, else root), a layer of its own, as BuildKit.
        let number = self.start_counted(state, &created_by);
        let user = state.image.string("User");
        let (uid, gid) = if user.is_empty() {
            (0, 0)
        } else {
            resolve_chown(self.engine, &state.image, &user).inspect_err(|e| {
                self.observer.event(BuildEvent::Error {
                    number,
                    message: e.to_string(),
                });
            })?
        };
        let mut inputs = KeyInputs::new();
        inputs
            .add(InputKind::Parent, state.key.to_string())
            .add(InputKind::Instruction, created_by.clone());
        if !user.is_empty() {
            inputs.add(InputKind::Setting("user".into()), format!("{uid}:{gid}"));
        }
        let started = Instant::now();
        if let Some(hit) = self.lookup(Some(number), scope, &inputs, &|_| None)? {
            state.image = self.engine.image_state(&hit.image)?;
            state.key = inputs.key();
            self.cached += 1;
            self.observer.event(BuildEvent::Cached { number });
            return Ok(());
        }
        let mut parent = state.image.clone();
        parent.json["config"] = config;
        let tar_path = {
            let mut buf = Vec::new();
            let mut b = tar::Builder::new(&mut buf);
            let mut acc = String::new();
            // Made where the image's links lead (as `mkdir -p` in the image would).
            let real = image_fs.real_path(&dir)?;
            for part in real.split('/').filter(|p| !p.is_empty()) {
                acc = if acc.is_empty() {
                    part.to_owned()
                } else {
                    format!("{acc}/{part}")
                };
                if image_has_dir(&image_fs, &acc)? {
                    continue;
                }
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_uid(u64::from(uid));
                h.set_gid(u64::from(gid));
                h.set_size(0);
                h.set_mtime(0);
                b.append_data(&mut h, format!("{acc}/"), std::io::empty())
                    .map_err(|e| Error::Io {
                        context: "building WORKDIR".into(),
                        err: e,
                    })?;
            }
            b.finish().map_err(|e| Error::Io {
                context: "building WORKDIR".into(),
                err: e,
            })?;
            drop(b);
            buf
        };
        let (next, size) = if state.image.chain_ids.is_empty() {
            self.engine
                .store_layer_step(&parent, &created_by, &tar_path[..])?
        } else {
            let base = self.materialize(state)?;
            let container = self.engine.copy_into_build_container(&base, |out| {
                out.write_all(&tar_path).map_err(|e| Error::Io {
                    context: "building WORKDIR".into(),
                    err: e,
                })
            })?;
            self.engine
                .commit_build_container(&container, &parent, &created_by)?
        };
        self.store(&inputs, &next, &created_by, size, started, None)?;
        state.image = next;
        state.key = inputs.key();
        self.ran += 1;
        self.observer.event(BuildEvent::Done {
            number,
            elapsed: started.elapsed(),
            size,
        });
        Ok(())
    }
}

mod copy;

/// The stage a FROM or `--from` names: an earlier stage's name or index.
fn stage_ref(df: &Dockerfile, before: usize, name: &str) -> Option<usize> {
    let lower = name.to_ascii_lowercase();
    df.stages
        .iter()
        .take(before)
        .find(|s| s.name.as_deref() == Some(lower.as_str()))
        .map(|s| s.index)
        .or_else(|| name.parse::<usize>().ok().filter(|i| *i < before))
}

fn stage_scope(stage: &Stage) -> String {
    match &stage.name {
        Some(name) => format!("{}:{name}", stage.index),
        None => stage.index.to_string(),
    }
}

/// The first line of an instruction as written (a heredoc's body left out).
fn one_line(source: &str) -> String {
    source.lines().next().unwrap_or_default().trim().to_owned()
}

/// `--platform` of FROM or the build: only the host's.
fn check_platform(platform: &str) -> Result<()> {
    let host = platform_text();
    let wanted = platform.trim().to_ascii_lowercase();
    if wanted == host
        || wanted == "linux"
        || wanted.starts_with(&format!("{host}/"))
        || wanted == "$buildplatform"
    {
        return Ok(());
    }
    Err(build_error(format!(
        "platform {platform} is not supported: berth builds only for {host}, the host's"
    )))
}

/// A copy of a stage's (or the context's) files for one RUN's bind mount, in the
/// engine's tmp directory, removed when dropped.
struct ScratchDir {
    dir: PathBuf,
    /// What is mounted: the copy's top entry.
    mount_source: PathBuf,
}

impl ScratchDir {
    fn create(engine: &Engine) -> Result<(PathBuf, std::os::fd::OwnedFd)> {
        let dir = engine
            .paths()
            .tmp_dir()
            .join(format!("build-mount-{}", crate::ids::random_hex64()));
        std::fs::create_dir(&dir).map_err(|e| Error::Io {
            context: format!("creating {}", dir.display()),
            err: e,
        })?;
        let fd = nix::fcntl::open(
            &dir,
            nix::fcntl::OFlag::O_RDONLY
                | nix::fcntl::OFlag::O_DIRECTORY
                | nix::fcntl::OFlag::O_NOFOLLOW
                | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        );
        match fd {
            Ok(fd) => Ok((dir, fd)),
            Err(e) => {
                let _ = std::fs::remove_dir(&dir);
                Err(Error::Sys {
                    context: format!("opening {}", dir.display()),
                    err: e,
                })
            }
        }
    }

    /// The tree `tar` holds (an archive whose top entry is `top`, `.` for a root),
    /// unpacked: owners and modes kept, devices and FIFOs left out.
    fn unpack(engine: &Engine, tar: impl std::io::Read, top: &str) -> Result<ScratchDir> {
        let (dir, fd) = Self::create(engine)?;
        let copy = ScratchDir {
            mount_source: if top == "." {
                dir.clone()
            } else {
                dir.join(top)
            },
            dir,
        };
        let opts = crate::image::unpack::ExtractOptions {
            whiteouts: false,
            root_meta: top == ".",
            specials: false,
            setid: true,
            ..crate::image::unpack::ExtractOptions::layer()
        };
        crate::image::unpack::extract(tar, fd, &opts)?;
        Ok(copy)
    }

    /// `path` of a stage or image, read through a build container's view of it (links
    /// followed inside it, never on the host).
    fn of_image(engine: &Engine, image: &ImageState, path: &str) -> Result<ScratchDir> {
        let Some(id) = &image.id else {
            // An empty scratch stage: an empty directory.
            let (dir, _) = Self::create(engine)?;
            return Ok(ScratchDir {
                mount_source: dir.clone(),
                dir,
            });
        };
        let spec = RunSpec {
            network: Some("none".into()),
            ..Default::default()
        };
        let source = engine.build_container(id, &spec, false)?;
        let out = engine
            .copy_from_container(source.record.id.as_str(), path, true)
            .map_err(|_| {
                build_error(format!(
                    "failed to compute cache key: \"{path}\": not found"
                ))
            })?;
        let top = out.entry_name().to_owned();
        Self::unpack(engine, out, &top)
    }

    /// A writable copy of the context's `rel` (`.dockerignore` applied, as a COPY).
    fn of_context(
        engine: &Engine,
        context: &BuildContext,
        rel: &str,
        is_dir: bool,
    ) -> Result<ScratchDir> {
        let source = if rel.is_empty() { "." } else { rel };
        let selection = context.select(&[source.to_owned()])?;
        let mut opts = super::selection::TarOptions::new(if is_dir { "/m/" } else { "/m" });
        opts.dest_is_dir = is_dir;
        // Through a file of tmp/: a context may be large.
        let tar_path = engine
            .paths()
            .tmp_dir()
            .join(format!("build-mount-{}.tar", crate::ids::random_hex64()));
        let io = |e: std::io::Error| Error::Io {
            context: format!("writing {}", tar_path.display()),
            err: e,
        };
        let written = (|| {
            let mut file = std::io::BufWriter::new(std::fs::File::create(&tar_path).map_err(io)?);
            selection.write_tar_with(&opts, &mut file)?;
            file.into_inner().map_err(|e| io(e.into_error()))?;
            std::fs::File::open(&tar_path).map_err(io)
        })();
        let _ = std::fs::remove_file(&tar_path);
        let copy = Self::unpack(engine, std::io::BufReader::new(written?), "m")?;
        if is_dir {
            // An empty directory has no entry to make it.
            match std::fs::create_dir(&copy.mount_source) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(Error::Io {
                        context: format!("creating {}", copy.mount_source.display()),
                        err: e,
                    })
                }
            }
        }
        Ok(copy)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A here-document's script on the host, removed when dropped.
struct ScriptFile {
    path: PathBuf,
}

impl ScriptFile {
    fn write(engine: &Engine, content: &str) -> Result<ScriptFile> {
        use std::os::unix::fs::PermissionsExt;
        let path = engine
            .paths()
            .tmp_dir()
            .join(format!("build-script-{}", crate::ids::random_hex64()));
        let file = ScriptFile { path };
        std::fs::write(&file.path, content).map_err(|e| Error::Io {
            context: format!("writing {}", file.path.display()),
            err: e,
        })?;
        std::fs::set_permissions(&file.path, std::fs::Permissions::from_mode(0o755)).map_err(
            |e| Error::Io {
                context: format!("writing {}", file.path.display()),
                err: e,
            },
        )?;
        Ok(file)
    }
}

impl Drop for ScriptFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// RUN's command line (the shell form through SHELL, here-documents as BuildKit reads
/// them) and, for a lone `#!` here-document, the executable file to mount (path, body).
fn run_argv(run: &dockerfile::Run, shell: &[String]) -> (Vec<String>, Option<(String, String)>) {
    match run.script() {
        RunScript::Exec(argv) => (argv, None),
        RunScript::Shell(text) => {
            let mut argv = shell.to_vec();
            argv.push(text);
            (argv, None)
        }
        RunScript::File { path, content } => (vec![path.clone()], Some((path, content))),
    }
}

/// A metadata instruction's change to the config; returns its history line.
fn apply_metadata(
    image: &mut ImageState,
    instruction: &Instruction,
    shell: &[String],
    cmd_set: bool,
) -> String {
    let with_shell = |form: &CommandForm| match form {
        CommandForm::Exec(args) => args.clone(),
        CommandForm::Shell(text) => {
            let mut argv = shell.to_vec();
            argv.push(text.clone());
            argv
        }
    };
    match instruction {
        Instruction::Env(pairs) => cfg::env(image, pairs),
        Instruction::User(user) => cfg::user(image, user),
        Instruction::Shell(args) => cfg::shell(image, args),
        Instruction::Expose(ports) => cfg::expose(image, ports),
        Instruction::Label(pairs) => cfg::label(image, pairs),
        Instruction::Volume(paths) => cfg::volume(image, paths),
        Instruction::Cmd(form) => cfg::cmd(image, &with_shell(form)),
        Instruction::Entrypoint(form) => cfg::entrypoint(image, &with_shell(form), cmd_set),
        Instruction::Stopsignal(signal) => cfg::stopsignal(image, signal),
        Instruction::Onbuild(trigger) => cfg::onbuild(image, trigger),
        Instruction::Maintainer(name) => cfg::maintainer(image, name),
        Instruction::Healthcheck(Healthcheck::None) => {
            let mut check = serde_json::Map::new();
            check.insert("Test".into(), serde_json::json!(["NONE"]));
            cfg::healthcheck(image, check)
        }
        Instruction::Healthcheck(Healthcheck::Cmd {
            test,
            interval,
            timeout,
            start_period,
            start_interval,
            retries,
        }) => {
            let test = match test {
                CommandForm::Exec(args) => {
                    let mut t = vec!["CMD".to_owned()];
                    t.extend(args.iter().cloned());
                    t
                }
                CommandForm::Shell(text) => vec!["CMD-SHELL".to_owned(), text.clone()],
            };
            let mut check = serde_json::Map::new();
            check.insert("Test".into(), serde_json::json!(test));
            for (k, v) in [
                ("Interval", interval),
                ("Timeout", timeout),
                ("StartPeriod", start_period),
                ("StartInterval", start_interval),
            ] {
                if v.is_some() {
                    check.insert(k.into(), serde_json::json!(nanos(*v)));
                }
            }
            if let Some(r) = retries {
                check.insert("Retries".into(), serde_json::json!(r));
            }
            cfg::healthcheck(image, check)
        }
        // The rest have steps of their own.
        Instruction::Run(_)
        | Instruction::Copy(_)
        | Instruction::Arg(_)
        | Instruction::Workdir(_) => instruction.name().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn titles(text: &str) -> Vec<Vec<String>> {
        let df = dockerfile::parse("Dockerfile", text).expect("parses");
        df.stages
            .iter()
            .map(|stage| {
                let steps = StageSteps::of(&df, stage, &stage.from.value.image);
                let mut shown = Vec::new();
                let mut position = 0;
                if steps.from_counted {
                    position += 1;
                    shown.push(steps.title(position, "FROM"));
                }
                for i in stage.instructions.iter().filter(|i| is_counted(&i.value)) {
                    position += 1;
                    shown.push(steps.title(position, i.value.name()));
                }
                shown
            })
            .collect()
    }

    #[test]
    fn steps_are_counted_as_buildkit_counts_them() {
        // FROM an image is step 1; FROM scratch or a stage is none; ENV is not counted.
        assert_eq!(
            titles(
                "FROM busybox AS base\nRUN a\nENV A=1\nWORKDIR /w\n\
                 FROM base\nCOPY a /a\n\
                 FROM scratch AS out\nCOPY --from=base /a /a\nCMD [\"x\"]\n\
                 FROM scratch\nENV A=1\n"
            ),
            [
                vec!["[base 1/3] FROM", "[base 2/3] RUN", "[base 3/3] WORKDIR"],
                vec!["[stage-1 1/1] COPY"],
                vec!["[out 1/1] COPY"],
                vec![],
            ]
        );
        // A lone unnamed stage has no name; ten steps or more pad the position.
        let ten = format!("FROM busybox\n{}", "RUN x\n".repeat(9));
        let shown = &titles(&ten)[0];
        assert_eq!(shown[0], "[ 1/10] FROM");
        assert_eq!(shown[9], "[10/10] RUN");
    }
}
