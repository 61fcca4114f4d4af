//! `cp`: copies between the host and a container, with docker cp's rules for what lands
//! where (see `decide_in` / `decide_out`). The container side is the engine's tar stream
//! API; this module only resolves the host side and names the archive's entries.

use std::ffi::OsStr;
use std::io::{BufReader, IsTerminal, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use color_eyre::eyre::{bail, eyre};
use color_eyre::Result;
use nix::sys::signal::{SigSet, Signal};

use super::output::human_size;
use crate::engine::container::runtime::sealed;
use crate::engine::container::Status;
use crate::engine::error::Context;
use crate::engine::image::unpack::{self, ExtractOptions, Rebase, Skipped, SpecialKind};
use crate::engine::storage::copy::{self, CopyInOptions, Packer, PathKind, PathStat};
use crate::engine::storage::progress::{Counted, Progress};
use crate::engine::{Engine, Error};

#[derive(Debug, Args)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information)
    #[arg(short, long)]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH
    #[arg(short = 'L', long = "follow-link")]
    pub follow_link: bool,
    /// Suppress progress output during copy
    #[arg(short, long)]
    pub quiet: bool,
    /// CONTAINER:SRC_PATH, a host path, or - (a tar stream on stdin)
    pub src: String,
    /// CONTAINER:DEST_PATH, a host path, or - (a tar stream to stdout)
    pub dest: String,
}

/// One side of a copy.
#[derive(Debug, PartialEq)]
enum Location {
    Host(String),
    Container { name: String, path: String },
}

impl Location {
    /// Docker's rule: `NAME:PATH` names a container unless the text is an absolute path or
    /// has a `/` before the first colon (`./a:b` is a host file).
    fn parse(arg: &str) -> Location {
        if arg.starts_with('/') {
            return Location::Host(arg.to_owned());
        }
        match arg.split_once(':') {
            Some((name, path)) if !name.is_empty() && !name.contains('/') => Location::Container {
                name: name.to_owned(),
                path: path.to_owned(),
            },
            _ => Location::Host(arg.to_owned()),
        }
    }
}

pub fn cp(engine: &Engine, args: &CpArgs) -> Result<i32> {
    let counter = Progress::new();
    let (copied, target) = match (Location::parse(&args.src), Location::parse(&args.dest)) {
        (Location::Container { .. }, Location::Container { .. }) => {
            bail!("copying between containers is not supported")
        }
        (Location::Host(_), Location::Host(_)) => {
            bail!("must specify at least one container source")
        }
        (Location::Container { name, path }, Location::Host(dest)) => {
            enter_sealed_if_running(engine, &name, &path)?;
            cancel_on_signals(&counter)?;
            // A tar stream on stdout is data: Docker draws and says nothing around it.
            let quiet = args.quiet || dest == "-";
            let mut progress = ProgressLine::new(quiet, dest.clone(), counter.clone());
            let mut warn = |path: PathBuf, kind: SpecialKind| {
                eprintln!("berth cp: skipped {kind} {}", path.display());
            };
            let copied = copy_out(engine, &name, &path, &dest, args, &mut progress, &mut warn);
            (copied, dest)
        }
        (Location::Host(src), Location::Container { name, path }) => {
            enter_sealed_if_running(engine, &name, &path)?;
            cancel_on_signals(&counter)?;
            let target = format!("{name}:{path}");
            let mut progress = ProgressLine::new(args.quiet, target.clone(), counter.clone());
            let copied = copy_in(engine, &src, &name, &path, args, &mut progress);
            (copied, target)
        }
    };
    if copied.is_err() && counter.is_cancelled() {
        bail!("copy to {target} cancelled: what was not complete was removed, the old files kept");
    }
    copied.map(|()| 0)
}

/// Ctrl-C, SIGTERM and SIGHUP cancel the copy rather than kill berth in the middle of a
/// file, so the file being written is removed and the old one stays (a SIGKILL leaves the
/// temporary file). A second signal ends berth at once. The forked process working in
/// the container inherits the blocked signals: it outlives a Ctrl-C sent to the whole
/// group long enough to remove its own temporary file.
fn cancel_on_signals(counter: &Arc<Progress>) -> Result<()> {
    let mut signals = SigSet::empty();
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        signals.add(signal);
    }
    // Before any thread starts, so every later one has them blocked too.
    signals.thread_block()?;
    let counter = counter.clone();
    std::thread::spawn(move || {
        if signals.wait().is_ok() {
            counter.cancel();
        }
        if let Ok(signal) = signals.wait() {
            std::process::exit(128 + signal as i32);
        }
    });
    Ok(())
}

/// Docker's wording for a container that doesn't exist, naming the whole argument.
fn container_error(e: Error, name: &str, path: &str) -> color_eyre::Report {
    match e {
        Error::NoSuchContainer(_) => eyre!("No such container:path: {name}:{path}"),
        e => e.into(),
    }
}

/// A process entering a running container runs from a sealed copy of berth
/// (CVE-2019-5736); this re-executes the same command that way.
fn enter_sealed_if_running(engine: &Engine, name: &str, path: &str) -> Result<()> {
    let record = engine
        .container(name)
        .map_err(|e| container_error(e, name, path))?;
    if record.state.status == Status::Running && !sealed::running_sealed() {
        sealed::reexec_sealed()?;
    }
    Ok(())
}

/// A container path's stat, `None` when nothing is there.
fn stat_opt(engine: &Engine, name: &str, path: &str) -> Result<Option<PathStat>> {
    match engine.stat_container_path(name, path) {
        Ok(stat) => Ok(Some(stat)),
        Err(Error::NoSuchPath { .. }) => Ok(None),
        Err(e) => Err(container_error(e, name, path)),
    }
}

/// True if a path asserts it names a directory (`dir/`, `dir/.`).
fn asserts_dir(path: &str) -> bool {
    path.ends_with('/') || path.ends_with("/.") || path == "."
}

/// The parent and last component of a container path.
fn container_split(path: &str) -> (String, String) {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(0) => ("/".to_owned(), trimmed[1..].to_owned()),
        Some(i) => (trimmed[..i].to_owned(), trimmed[i + 1..].to_owned()),
        None => ("/".to_owned(), trimmed.to_owned()),
    }
}

/// Where a copy into a container extracts and what its archive's top entry is called.
struct Plan {
    dir: String,
    entry: String,
}

/// docker cp's matrix for a source of `src_dir` kind copied to `dest` in the container.
fn decide_in(
    engine: &Engine,
    name: &str,
    dest: &str,
    src_dir: bool,
    content_only: bool,
    src_entry: &str,
) -> Result<Plan> {
    let target = stat_opt(engine, name, dest)?.and_then(|st| st.resolved);
    match target {
        Some((dir, PathKind::Dir)) => Ok(Plan {
            dir,
            entry: if content_only {
                ".".into()
            } else {
                src_entry.into()
            },
        }),
        Some((file, _)) => {
            if src_dir {
                bail!("cannot copy a directory onto a file: {name}:{dest} is not a directory");
            }
            if asserts_dir(dest) {
                bail!("{name}:{dest} is not a directory");
            }
            let (dir, entry) = container_split(&file);
            Ok(Plan { dir, entry })
        }
        None => {
            if !src_dir && asserts_dir(dest) {
                bail!("cannot copy to {name}:{dest}: no such directory");
            }
            let (parent, entry) = container_split(dest);
            match stat_opt(engine, name, &parent)?.and_then(|st| st.resolved) {
                Some((dir, PathKind::Dir)) => Ok(Plan { dir, entry }),
                Some(_) => bail!("cannot copy to {name}:{dest}: {parent} is not a directory"),
                None => Err(Error::NoSuchPath {
                    path: parent,
                    container: name.to_owned(),
                }
                .into()),
            }
        }
    }
}

/// Copies host path `src` into container `name` at `dest` with `berth cp`'s rules (no
/// `-a`, no `-L`), counting into `progress`: the dashboard's file view.
pub fn host_to_container(
    engine: &Engine,
    src: &str,
    name: &str,
    dest: &str,
    progress: Arc<Progress>,
) -> Result<()> {
    let mut line = ProgressLine::new(true, String::new(), progress);
    copy_in(engine, src, name, dest, &quiet_args(src, dest), &mut line)
}

/// Copies `src` of container `name` to host path `dest` with `berth cp`'s rules (no `-a`,
/// no `-L`), counting into `progress`: the dashboard's file view. Returns the host paths
/// of what was left out (device nodes and FIFOs).
pub fn container_to_host(
    engine: &Engine,
    name: &str,
    src: &str,
    dest: &str,
    progress: Arc<Progress>,
) -> Result<Vec<(PathBuf, SpecialKind)>> {
    let mut line = ProgressLine::new(true, String::new(), progress);
    let mut skipped = Vec::new();
    let mut note = |path, kind| skipped.push((path, kind));
    let args = quiet_args(src, dest);
    copy_out(engine, name, src, dest, &args, &mut line, &mut note)?;
    Ok(skipped)
}

fn quiet_args(src: &str, dest: &str) -> CpArgs {
    CpArgs {
        archive: false,
        follow_link: false,
        quiet: true,
        src: src.to_owned(),
        dest: dest.to_owned(),
    }
}

fn copy_in(
    engine: &Engine,
    src: &str,
    name: &str,
    dest: &str,
    args: &CpArgs,
    progress: &mut ProgressLine,
) -> Result<()> {
    let opts = CopyInOptions {
        keep_owner: args.archive,
    };
    if src == "-" {
        let target = stat_opt(engine, name, dest)?.and_then(|st| st.resolved);
        let Some((dir, PathKind::Dir)) = target else {
            bail!("destination \"{name}:{dest}\" must be a directory");
        };
        let mut stdin = std::io::stdin().lock();
        engine
            .copy_to_container_with(name, &dir, opts, |out| {
                copy::pump(&mut stdin, &mut progress.counted(out)).map(drop)
            })
            .map_err(|e| container_error(e, name, dest))?;
        return progress.done();
    }
    let meta = if args.follow_link {
        std::fs::metadata(src)
    } else {
        std::fs::symlink_metadata(src)
    }
    .map_err(|e| eyre!("lstat {src}: {e}"))?;
    let src_dir = meta.is_dir();
    if asserts_dir(src) && !src_dir {
        bail!("{src}: not a directory");
    }
    let src_entry = copy::archive_name(src);
    let content_only = src_dir && src_entry == ".";
    let plan = decide_in(engine, name, dest, src_dir, content_only, &src_entry)?;
    // The source is opened as its parent plus a name, so its own symlink stays a link
    // unless -L; `dir/.` is the directory itself.
    let (parent, leaf): (PathBuf, &OsStr) = if content_only {
        (PathBuf::from(src), OsStr::new("."))
    } else {
        let path = Path::new(src);
        let leaf = path.file_name().unwrap_or(OsStr::new("."));
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        (parent, leaf)
    };
    let parent_fd = std::fs::File::open(&parent)
        .context(|| format!("opening {}", parent.display()))
        .map_err(color_eyre::Report::from)?;
    engine
        .copy_to_container_with(name, &plan.dir, opts, |out| {
            let mut packer = Packer::new(progress.counted(out));
            packer.add_top(
                parent_fd.as_fd(),
                leaf,
                Path::new(&plan.entry),
                args.follow_link,
            )?;
            packer.finish().map(drop)
        })
        .map_err(|e| container_error(e, name, dest))?;
    progress.done()
}

/// Where a copy out extracts on the host and how its entries are renamed.
fn decide_out(
    dest: &str,
    src_dir: bool,
    content_only: bool,
    entry: &str,
) -> Result<(PathBuf, Option<Rebase>)> {
    let rebase = |to: &OsStr| Rebase {
        from: entry.as_bytes().to_vec(),
        to: to.as_encoded_bytes().to_vec(),
    };
    match std::fs::metadata(dest) {
        Ok(meta) if meta.is_dir() => {
            let strip = content_only.then(|| rebase(OsStr::new("")));
            Ok((PathBuf::from(dest), strip))
        }
        Ok(_) => {
            if src_dir {
                bail!("cannot copy a directory onto a file: {dest} is not a directory");
            }
            if asserts_dir(dest) {
                bail!("{dest}: not a directory");
            }
            // A symlink on the host is the user's own: write where it points.
            let real = std::fs::canonicalize(dest).map_err(|e| eyre!("{dest}: {e}"))?;
            let parent = real.parent().unwrap_or(Path::new("/")).to_owned();
            let leaf = real.file_name().unwrap_or(OsStr::new(".")).to_owned();
            Ok((parent, Some(rebase(&leaf))))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !src_dir && asserts_dir(dest) {
                bail!("cannot copy to {dest}: no such directory");
            }
            let path = Path::new(dest.trim_end_matches('/'));
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
                _ => PathBuf::from("."),
            };
            if !parent.is_dir() {
                bail!(
                    "cannot copy to {dest}: {}: no such directory",
                    parent.display()
                );
            }
            let leaf = path.file_name().unwrap_or(OsStr::new(".")).to_owned();
            Ok((parent, Some(rebase(&leaf))))
        }
        Err(e) => bail!("{dest}: {e}"),
    }
}

/// Copies out of a container. The tar stream of `-` is passed on as it is; extracted on
/// the host, device nodes and FIFOs are left out (each told to `on_skip`) and, unless
/// `-a`, setuid and setgid bits are cleared: a container must not plant a way to root
/// for whoever copies its files out.
fn copy_out(
    engine: &Engine,
    name: &str,
    src: &str,
    dest: &str,
    args: &CpArgs,
    progress: &mut ProgressLine,
    on_skip: &mut dyn FnMut(PathBuf, SpecialKind),
) -> Result<()> {
    let mut out = engine
        .copy_from_container(name, src, args.follow_link)
        .map_err(|e| container_error(e, name, src))?;
    let src_dir = out.stat().kind == PathKind::Dir;
    if asserts_dir(src) && !src_dir {
        bail!("{name}:{src}: not a directory");
    }
    if dest == "-" {
        let mut stdout = std::io::stdout().lock();
        copy::pump(&mut out, &mut progress.counted(&mut stdout))?;
        stdout.flush()?;
        return progress.done();
    }
    let content_only = src_dir && out.entry_name() == ".";
    let (dir, rebase) = decide_out(dest, src_dir, content_only, out.entry_name())?;
    let owner = if args.archive {
        None
    } else {
        Some((
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        ))
    };
    let options = ExtractOptions {
        whiteouts: false,
        owner,
        rebase,
        root_meta: false,
        atomic: true,
        specials: false,
        setid: args.archive,
    };
    let dir_fd = nix::fcntl::open(
        &dir,
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .context(|| format!("opening {}", dir.display()))?;
    let mut input = BufReader::with_capacity(copy::COPY_BUF, progress.counted(&mut out));
    let mut skipped = |skip: Skipped| on_skip(dir.join(&skip.rel), skip.kind);
    unpack::extract_reporting(&mut input, dir_fd, &options, &mut skipped)?;
    // Read to the end: only then does the container side report how it finished.
    std::io::copy(&mut input, &mut std::io::sink())?;
    drop(input);
    progress.done()
}

/// Progress on a terminal: bytes and rate of the engine's shared counter, redrawn at most
/// ten times a second, then Docker's closing line. Silent when stderr is not a terminal.
struct ProgressLine {
    enabled: bool,
    target: String,
    counter: Arc<Progress>,
    drawn: Option<Instant>,
}

impl ProgressLine {
    fn new(quiet: bool, target: String, counter: Arc<Progress>) -> ProgressLine {
        ProgressLine {
            enabled: !quiet && std::io::stderr().is_terminal(),
            target,
            counter,
            drawn: None,
        }
    }

    /// `inner`, counted into this line.
    fn counted<T>(&mut self, inner: T) -> Counted<T, impl FnMut(&Progress) + '_> {
        let counter = self.counter.clone();
        Counted::with_tick(inner, counter, move |p| self.draw(p))
    }

    fn draw(&mut self, counter: &Progress) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self
            .drawn
            .is_some_and(|t| now - t < Duration::from_millis(100))
        {
            return;
        }
        // Small copies finish before a line is worth drawing.
        if counter.elapsed() < Duration::from_millis(200) {
            return;
        }
        self.drawn = Some(now);
        eprint!(
            "\r\x1b[KCopying to {}  {}  {}/s",
            self.target,
            human_size(counter.bytes()),
            human_size(counter.rate())
        );
    }

    fn done(&self) -> Result<()> {
        if self.enabled {
            eprintln!(
                "\r\x1b[KSuccessfully copied {} to {}",
                human_size(self.counter.bytes()),
                self.target
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_follow_docker() {
        assert_eq!(
            Location::parse("web:/data"),
            Location::Container {
                name: "web".into(),
                path: "/data".into()
            }
        );
        assert_eq!(Location::parse("/a:b"), Location::Host("/a:b".into()));
        assert_eq!(Location::parse("./a:b"), Location::Host("./a:b".into()));
        assert_eq!(Location::parse("-"), Location::Host("-".into()));
        assert_eq!(Location::parse("file"), Location::Host("file".into()));
    }

    #[test]
    fn sizes_have_three_significant_digits() {
        assert_eq!(human_size(512), "512B");
        assert_eq!(human_size(12_345), "12.3kB");
        assert_eq!(human_size(2_560), "2.56kB");
        assert_eq!(human_size(300_002_000), "300MB");
        assert_eq!(human_size(1_000), "1kB");
    }

    #[test]
    fn container_paths_split_at_the_last_component() {
        assert_eq!(container_split("/a/b"), ("/a".into(), "b".into()));
        assert_eq!(container_split("/a/"), ("/".into(), "a".into()));
        assert_eq!(container_split("x"), ("/".into(), "x".into()));
    }
}
