//! `berth build` (and `berth image build`): Docker's flags, BuildKit's progress (live on
//! a terminal, plain or JSON lines otherwise); every build is kept as the last one for
//! the dashboard's build view.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::Utc;

use clap::Args;
use color_eyre::Result;

use super::build_tty::Live;
use crate::engine::{
    BuildEvent, BuildNetwork, BuildObserver, BuildOptions, DockerfileSource, Engine, ImageRef,
};
use crate::ops::build_record::{save_last, BuildRequest, BuildState};

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Name and optionally a tag in the "name:tag" format
    #[arg(short = 't', long = "tag", value_name = "NAME")]
    pub tags: Vec<String>,
    /// Name of the Dockerfile (default: "PATH/Dockerfile"); "-" reads it from stdin
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<String>,
    /// Set the target build stage to build
    #[arg(long, value_name = "STAGE")]
    pub target: Option<String>,
    /// Set build-time variables
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,
    /// Do not use cache when building the image
    #[arg(long)]
    pub no_cache: bool,
    /// Always attempt to pull all referenced images
    #[arg(long)]
    pub pull: bool,
    /// Set metadata for an image
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Set the networking mode for the RUN instructions during build: default, none, host
    #[arg(long, default_value = "default")]
    pub network: String,
    /// Set type of progress output: auto, plain, tty, json ("auto": tty on a terminal)
    #[arg(long, default_value = "auto")]
    pub progress: String,
    /// Suppress the build output and print image ID on success
    #[arg(short, long)]
    pub quiet: bool,
    /// Write the image ID to the file
    #[arg(long, value_name = "FILE")]
    pub iidfile: Option<PathBuf>,
    /// Set target platform for build (only the host's)
    #[arg(long)]
    pub platform: Option<String>,
    /// The build context: a directory, or "-" for a tar on stdin
    #[arg(value_name = "PATH")]
    pub context: String,
}

/// `ERROR: ...` on stderr and docker build's exit code for a failed build.
fn failed(message: impl std::fmt::Display) -> Result<i32> {
    eprintln!("ERROR: {message}");
    Ok(1)
}

/// A remote context Docker would fetch (berth builds from local files only).
fn is_remote(context: &str) -> bool {
    ["http://", "https://", "git://", "git@", "github.com/"]
        .iter()
        .any(|p| context.starts_with(p))
        || context.ends_with(".git")
}

pub fn build(engine: &Engine, args: &BuildArgs) -> Result<i32> {
    if is_remote(&args.context) {
        return failed(format!(
            "unable to prepare context: {}: remote contexts (URLs, git repositories) are not supported: give a local directory",
            args.context
        ));
    }
    let Some(network) = BuildNetwork::parse(&args.network) else {
        return failed(format!(
            "network mode {:?} not supported by buildkit: use default, none or host",
            args.network
        ));
    };
    let mut tags = Vec::new();
    for tag in &args.tags {
        match tag.parse::<ImageRef>() {
            Ok(t) => tags.push(t),
            Err(e) => return failed(format!("invalid tag {tag:?}: {e}")),
        }
    }
    let mut build_args = Vec::new();
    for arg in &args.build_args {
        match arg.split_once('=') {
            Some((k, v)) => build_args.push((k.to_owned(), Some(v.to_owned()))),
            // `K` alone: its value from our environment, or left unset.
            None => build_args.push((arg.clone(), std::env::var(arg).ok())),
        }
    }
    let mut labels = Vec::new();
    for label in &args.labels {
        let (k, v) = label.split_once('=').unwrap_or((label.as_str(), ""));
        labels.push((k.to_owned(), v.to_owned()));
    }
    let stdin_file = args.file.as_deref() == Some("-");
    if stdin_file && args.context == "-" {
        return failed("invalid argument: can't use stdin for both build context and dockerfile");
    }
    // `-`: the context is a tar on stdin, unpacked into the engine's tmp/ for the build.
    let unpacked = if args.context == "-" {
        match engine.unpack_build_context(std::io::stdin().lock()) {
            Ok(u) => Some(u),
            Err(e) => return failed(e),
        }
    } else {
        None
    };
    let context = match &unpacked {
        Some(u) => u.path().to_owned(),
        None => PathBuf::from(&args.context),
    };
    let dockerfile = match args.file.as_deref() {
        Some("-") => {
            let mut text = String::new();
            if let Err(e) = std::io::stdin()
                .lock()
                .take(4 << 20)
                .read_to_string(&mut text)
            {
                return failed(format!("failed to read dockerfile from stdin: {e}"));
            }
            DockerfileSource::Text {
                name: "Dockerfile".into(),
                text,
            }
        }
        Some(file) if unpacked.is_some() => DockerfileSource::Path(context.join(file)),
        Some(file) => DockerfileSource::Path(PathBuf::from(file)),
        None => DockerfileSource::Path(context.join("Dockerfile")),
    };
    let progress = match args.progress.as_str() {
        "auto" | "tty" if on_terminal() => Progress::Tty,
        "auto" | "plain" | "tty" => Progress::Plain,
        "json" | "rawjson" => Progress::Json,
        "quiet" => Progress::Quiet,
        other => {
            return failed(format!(
                "invalid progress mode {other:?}: use auto, plain, json or quiet"
            ))
        }
    };
    let opts = BuildOptions {
        context,
        dockerfile,
        tags: tags.clone(),
        target: args.target.clone(),
        build_args,
        no_cache: args.no_cache,
        pull: args.pull,
        labels,
        network,
        platform: args.platform.clone(),
        cancel: Default::default(),
    };
    let quiet = args.quiet || progress == Progress::Quiet;
    let mode = if quiet { Progress::Quiet } else { progress };
    let mut renderer = Renderer {
        mode,
        out: std::io::stderr(),
        started: Default::default(),
        partial: Default::default(),
    };
    // The build as the dashboard's build view shows it: drawn live here on a terminal,
    // and kept as the last build at the end.
    let record = Arc::new(Mutex::new(BuildState::new(request(args), Utc::now())));
    let live = (mode == Progress::Tty).then(|| Live::start(record.clone()));
    let mut observer = |event: BuildEvent| {
        if let Ok(mut state) = record.lock() {
            state.apply(&event, Utc::now());
        }
        match &live {
            Some(live) => live.changed(),
            None => renderer.event(event),
        }
    };
    // SIGINT, SIGTERM and SIGHUP cancel the build: the running step's container is
    // killed, and the build unwinds, removing it (a second signal ends berth at once; a
    // later build removes what that left).
    let cancel = opts.cancel.clone();
    let killer = engine.clone();
    let interrupt = super::interrupt::Interrupt::start(move || {
        cancel.cancel();
        killer.kill_own_build_containers();
    })?;
    let result = engine.build(&opts, &mut observer);
    drop(unpacked);
    let ended = result
        .as_ref()
        .map(|o| (o.image.to_string(), o.ran, o.cached))
        .map_err(|e| e.to_string());
    let mut not_kept = None;
    if let Ok(mut state) = record.lock() {
        state.end(ended, Utc::now());
        // Measured when the build view is first shown, not at the end of every build.
        state.efficiency = None;
        if let Err(e) = save_last(engine.paths().root(), &state) {
            not_kept = Some(e);
        }
    }
    if let Some(live) = live {
        live.finish();
    }
    // After the live view's last frame, which nothing may write under while it draws.
    if let Some(e) = not_kept {
        eprintln!("WARNING: the build is not kept for the dashboard: {e}");
    }
    if let Some(signal) = interrupt.received() {
        let _ = result.map_err(|e| eprintln!("ERROR: failed to solve: {e}"));
        std::process::exit(128 + signal);
    }
    drop(interrupt);
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(e) => return failed(format!("failed to solve: {e}")),
    };
    let id = outcome.image.to_string();
    renderer.export(&id, &tags);
    if let Some(path) = &args.iidfile {
        if let Err(e) = std::fs::write(path, &id) {
            return failed(format!("writing image ID to {}: {e}", path.display()));
        }
    }
    if quiet {
        println!("{id}");
    }
    Ok(0)
}

/// The build as the dashboard's form would have asked for it (the last-build record's
/// request).
fn request(args: &BuildArgs) -> BuildRequest {
    BuildRequest {
        context: args.context.clone(),
        dockerfile: args.file.clone().unwrap_or_default(),
        tags: args.tags.clone(),
        target: args.target.clone(),
        args: args
            .build_args
            .iter()
            .map(|a| {
                let (k, v) = a.split_once('=').unwrap_or((a.as_str(), ""));
                (k.to_owned(), v.to_owned())
            })
            .collect(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    /// BuildKit's live view, redrawn in place.
    Tty,
    Plain,
    Json,
    Quiet,
}

/// Prints the build's events in BuildKit's plain shape (or one JSON object a line).
struct Renderer<W: Write> {
    mode: Progress,
    out: W,
    /// When each step started, for its log lines' times.
    started: std::collections::HashMap<usize, Instant>,
    /// A log line not ended yet, per step.
    partial: std::collections::HashMap<usize, Vec<u8>>,
}

impl<W: Write> Renderer<W> {
    /// One line, its control characters shown, not sent (a step's output is the
    /// container's).
    fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "{}", super::output::escape_controls(text));
    }

    fn flush_partial(&mut self, number: usize) {
        if let Some(rest) = self.partial.remove(&number) {
            if !rest.is_empty() {
                let text = String::from_utf8_lossy(&rest).into_owned();
                self.log_line(number, &text);
            }
        }
    }

    fn log_line(&mut self, number: usize, text: &str) {
        let secs = self
            .started
            .get(&number)
            .map_or(0.0, |s| s.elapsed().as_secs_f64());
        self.line(&format!("#{number} {secs:.3} {text}"));
    }

    /// BuildKit's last vertex: the image written and named.
    fn export(&mut self, id: &str, tags: &[ImageRef]) {
        if self.mode == Progress::Tty {
            // Under the live view's summary, in its shape.
            self.line(" => exporting to image");
            self.line(&format!(" => => writing image {id} done"));
            for tag in tags {
                self.line(&format!(" => => naming to {} done", docker_name(tag)));
            }
            return;
        }
        if self.mode != Progress::Plain {
            return;
        }
        let number = self.started.keys().max().copied().unwrap_or(0) + 1;
        self.line("");
        self.line(&format!("#{number} exporting to image"));
        self.line(&format!("#{number} writing image {id} done"));
        for tag in tags {
            self.line(&format!("#{number} naming to {} done", docker_name(tag)));
        }
        self.line(&format!("#{number} DONE 0.0s"));
    }
}

/// A tag as BuildKit names it: `docker.io/library/t1:latest`.
fn docker_name(tag: &ImageRef) -> String {
    let text = tag.to_string();
    let first = text.split('/').next().unwrap_or_default();
    let has_registry =
        text.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if has_registry {
        text
    } else if text.contains('/') {
        format!("docker.io/{text}")
    } else {
        format!("docker.io/library/{text}")
    }
}

impl<W: Write> BuildObserver for Renderer<W> {
    fn event(&mut self, event: BuildEvent) {
        match self.mode {
            // The live view draws from the build's state.
            Progress::Quiet | Progress::Tty => {}
            Progress::Json => {
                if let BuildEvent::Waiting(steps) = &event {
                    for step in steps {
                        let value = serde_json::json!({"step": step.number, "waiting": step.title});
                        self.line(&value.to_string());
                    }
                    return;
                }
                let value = match &event {
                    BuildEvent::Waiting(_) => return,
                    BuildEvent::Started(step) => {
                        serde_json::json!({"step": step.number, "started": step.title})
                    }
                    BuildEvent::Miss { number, reason } => {
                        serde_json::json!({"step": number, "miss": reason})
                    }
                    BuildEvent::Cached { number } => {
                        serde_json::json!({"step": number, "cached": true})
                    }
                    BuildEvent::Log {
                        number,
                        stderr,
                        text,
                    } => {
                        serde_json::json!({"step": number, "stream": if *stderr {"stderr"} else {"stdout"}, "log": String::from_utf8_lossy(text)})
                    }
                    BuildEvent::Done {
                        number,
                        elapsed,
                        size,
                    } => {
                        serde_json::json!({"step": number, "done": elapsed.as_secs_f64(), "size": size})
                    }
                    BuildEvent::Error { number, message } => {
                        serde_json::json!({"step": number, "error": message})
                    }
                    BuildEvent::Warning(text) => serde_json::json!({"warning": text}),
                };
                self.line(&value.to_string());
            }
            Progress::Plain => match event {
                BuildEvent::Waiting(steps) => {
                    for step in steps {
                        self.line(&format!("#{} WAITING {}", step.number, step.title));
                    }
                }
                BuildEvent::Started(step) => {
                    self.started.insert(step.number, Instant::now());
                    self.line("");
                    self.line(&format!("#{} {}", step.number, step.title));
                }
                BuildEvent::Miss { number, reason } => {
                    self.line(&format!("#{number} cache miss: {reason}"));
                }
                BuildEvent::Cached { number } => self.line(&format!("#{number} CACHED")),
                BuildEvent::Log { number, text, .. } => {
                    let mut buf = self.partial.remove(&number).unwrap_or_default();
                    buf.extend_from_slice(&text);
                    while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = buf.drain(..=pos).collect();
                        let text = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
                        self.log_line(number, &text);
                    }
                    self.partial.insert(number, buf);
                }
                BuildEvent::Done {
                    number,
                    elapsed,
                    size,
                } => {
                    self.flush_partial(number);
                    let secs = elapsed.as_secs_f64();
                    if size > 0 {
                        let size = crate::engine::human_size(size);
                        self.line(&format!("#{number} DONE {secs:.1}s +{size}"));
                    } else {
                        self.line(&format!("#{number} DONE {secs:.1}s"));
                    }
                }
                BuildEvent::Error { number, message } => {
                    self.flush_partial(number);
                    self.line(&format!("#{number} ERROR: {message}"));
                }
                BuildEvent::Warning(text) => {
                    self.line(&text);
                }
            },
        }
    }
}

/// Whether the live view can be drawn: stderr is a terminal that moves its cursor.
fn on_terminal() -> bool {
    draws_live(
        std::io::stderr().is_terminal(),
        std::env::var_os("TERM").as_deref(),
    )
}

/// `auto`'s choice: the live view on a terminal but a dumb one, plain otherwise.
fn draws_live(terminal: bool, term: Option<&std::ffi::OsStr>) -> bool {
    terminal && term.is_none_or(|t| t != "dumb")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::StepName;
    use std::time::Duration;

    #[test]
    fn plain_progress_has_buildkit_s_shape() {
        let mut r = Renderer {
            mode: Progress::Plain,
            out: Vec::new(),
            started: Default::default(),
            partial: Default::default(),
        };
        r.event(BuildEvent::Started(StepName {
            number: 2,
            title: "[build 2/5] RUN make".into(),
        }));
        r.event(BuildEvent::Miss {
            number: 2,
            reason: "build arg V changed 1 → 2".into(),
        });
        r.event(BuildEvent::Log {
            number: 2,
            stderr: false,
            text: b"hello\nwor".to_vec(),
        });
        r.event(BuildEvent::Log {
            number: 2,
            stderr: false,
            text: b"ld\n".to_vec(),
        });
        r.event(BuildEvent::Done {
            number: 2,
            elapsed: Duration::from_millis(4200),
            size: 0,
        });
        r.event(BuildEvent::Started(StepName {
            number: 3,
            title: "[build 3/5] COPY . /src".into(),
        }));
        r.event(BuildEvent::Cached { number: 3 });
        let text = String::from_utf8(r.out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "#2 [build 2/5] RUN make");
        assert_eq!(lines[2], "#2 cache miss: build arg V changed 1 → 2");
        assert!(
            lines[3].starts_with("#2 0.") && lines[3].ends_with(" hello"),
            "{}",
            lines[3]
        );
        assert!(lines[4].ends_with(" world"), "{}", lines[4]);
        assert_eq!(lines[5], "#2 DONE 4.2s");
        assert_eq!(lines[7], "#3 [build 3/5] COPY . /src");
        assert_eq!(lines[8], "#3 CACHED");
        assert_eq!(
            docker_name(&"t1".parse().unwrap()),
            "docker.io/library/t1:latest"
        );
    }
}

#[cfg(test)]
mod waiting_tests {
    use super::*;
    use crate::engine::StepName;

    fn renderer(mode: Progress) -> Renderer<Vec<u8>> {
        Renderer {
            mode,
            out: Vec::new(),
            started: Default::default(),
            partial: Default::default(),
        }
    }

    #[test]
    fn auto_draws_live_only_on_a_terminal_that_is_not_dumb() {
        use std::ffi::OsStr;
        assert!(draws_live(true, Some(OsStr::new("xterm-256color"))));
        assert!(draws_live(true, None));
        assert!(!draws_live(true, Some(OsStr::new("dumb"))));
        assert!(!draws_live(false, Some(OsStr::new("xterm"))));
    }

    #[test]
    fn waiting_steps_are_announced_in_plain_and_json() {
        let waiting = BuildEvent::Waiting(vec![
            StepName {
                number: 1,
                title: "[1/2] FROM busybox".into(),
            },
            StepName {
                number: 2,
                title: "[2/2] RUN echo \x1b".into(),
            },
        ]);
        let mut plain = renderer(Progress::Plain);
        plain.event(waiting.clone());
        plain.event(BuildEvent::Log {
            number: 2,
            stderr: false,
            text: b"bell\x07\n".to_vec(),
        });
        assert_eq!(
            String::from_utf8(plain.out).unwrap(),
            "#1 WAITING [1/2] FROM busybox\n#2 WAITING [2/2] RUN echo ^[\n#2 0.000 bell^G\n"
        );
        let mut json = renderer(Progress::Json);
        json.event(waiting);
        let lines: Vec<serde_json::Value> = String::from_utf8(json.out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines,
            [
                serde_json::json!({"step": 1, "waiting": "[1/2] FROM busybox"}),
                serde_json::json!({"step": 2, "waiting": "[2/2] RUN echo \x1b"}),
            ]
        );
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum BuilderCommand {
    /// Remove build cache
    Prune(BuilderPruneArgs),
}

#[derive(Debug, Args)]
pub struct BuilderPruneArgs {
    /// Remove all unused build cache, not just dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
    /// Provide filter values (e.g. "until=24h")
    #[arg(long, value_name = "FILTER")]
    pub filter: Vec<String>,
}

pub fn builder_command(engine: &Engine, command: &BuilderCommand) -> Result<i32> {
    match command {
        BuilderCommand::Prune(args) => prune(engine, args),
    }
}

fn prune(engine: &Engine, args: &BuilderPruneArgs) -> Result<i32> {
    let mut until = None;
    for filter in &args.filter {
        match filter.split_once('=') {
            Some(("until", value)) => match crate::engine::parse_go_duration(value) {
                Some(d) if d >= 0 => until = Some(d),
                _ => {
                    eprintln!("Error: invalid filter 'until={value}': not a duration");
                    return Ok(125);
                }
            },
            _ => {
                eprintln!("Error: invalid filter '{filter}'");
                return Ok(125);
            }
        }
    }
    if !args.force {
        eprint!("WARNING! This will remove all dangling build cache. Are you sure you want to continue? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y") {
            return Ok(0);
        }
    }
    let pruned = engine.prune_build_cache(args.all, until)?;
    if !pruned.removed.is_empty() {
        println!("Deleted build cache objects:");
        for entry in &pruned.removed {
            println!("{}", &entry.hex()[..25]);
        }
        println!();
    }
    println!(
        "Total reclaimed space: {}",
        crate::engine::human_size(pruned.reclaimed)
    );
    Ok(0)
}
