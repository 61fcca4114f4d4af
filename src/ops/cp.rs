//! docker cp: which side is the container, where a copy lands (`decide_in` / `decide_out`),
//! the host side of the copy (packing a host path, extracting a container's archive with
//! the host kept safe) and the `-` tar streams. The container side is the engine's tar
//! stream API. Front doors parse their input into a [`Transfer`], call [`copy_in`] or
//! [`copy_out`] and show the [`Watch`]'s progress their own way.

use std::ffi::OsStr;
use std::io::{BufReader, Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::engine::{
    archive_name, extract_reporting, pump, ContainerRecord, Context, CopyInOptions, Counted,
    Engine, Error, ExtractOptions, Packer, PathKind, PathStat, Progress, Rebase, Skipped,
    SpecialKind, Status, COPY_BUF,
};

/// docker cp's flags that change what is copied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Keep the archive's owners (`-a`); otherwise files land owned by the caller and, out
    /// of a container, without setuid and setgid bits.
    pub archive: bool,
    /// Follow a symlink named as the source (`-L`) instead of copying the link.
    pub follow_link: bool,
}

/// Why a copy failed; callers branch on the variant (a cancel is not a failure to report
/// as one, a missing container is Docker's `No such container:path`).
#[derive(Debug, thiserror::Error)]
pub enum CpError {
    /// The two locations don't make a copy: both in containers, or neither.
    #[error("{0}")]
    Usage(&'static str),
    /// The container named does not exist; Docker's words, naming the whole argument.
    #[error("No such container:path: {name}:{path}")]
    NoSuchContainer { name: String, path: String },
    /// A source or destination of the wrong kind (a file where a directory must be) or a
    /// directory that is not there; the message names it.
    #[error("{0}")]
    Path(String),
    /// A host path that could not be read.
    #[error("{context}: {err}")]
    Host {
        context: String,
        err: std::io::Error,
    },
    /// Cancelled through the [`Watch`]'s progress: what was not complete was removed.
    #[error("copy to {target} cancelled: what was not complete was removed, the old files kept")]
    Cancelled { target: String },
    #[error(transparent)]
    Engine(#[from] Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

type Result<T> = std::result::Result<T, CpError>;

/// One side of a copy as typed.
#[derive(Debug, PartialEq, Eq)]
pub enum Location {
    Host(String),
    Container { name: String, path: String },
}

impl Location {
    /// Docker's rule: `NAME:PATH` names a container unless the text is an absolute path or
    /// has a `/` before the first colon (`./a:b` is a host file).
    pub fn parse(arg: &str) -> Location {
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

/// A copy's direction and ends. A host end of `-` is a tar stream the caller supplies.
#[derive(Debug, PartialEq, Eq)]
pub enum Transfer {
    /// Host path `src` into container `name` at `path`.
    In {
        src: String,
        name: String,
        path: String,
    },
    /// Container `name`'s `path` to host path `dest`.
    Out {
        name: String,
        path: String,
        dest: String,
    },
}

impl Transfer {
    /// docker cp's two arguments: exactly one of them names a container.
    pub fn parse(src: &str, dest: &str) -> Result<Transfer> {
        match (Location::parse(src), Location::parse(dest)) {
            (Location::Container { .. }, Location::Container { .. }) => Err(CpError::Usage(
                "copying between containers is not supported",
            )),
            (Location::Host(_), Location::Host(_)) => {
                Err(CpError::Usage("must specify at least one container source"))
            }
            (Location::Container { name, path }, Location::Host(dest)) => {
                Ok(Transfer::Out { name, path, dest })
            }
            (Location::Host(src), Location::Container { name, path }) => {
                Ok(Transfer::In { src, name, path })
            }
        }
    }

    /// The container and the path in it.
    pub fn container(&self) -> (&str, &str) {
        match self {
            Transfer::In { name, path, .. } | Transfer::Out { name, path, .. } => (name, path),
        }
    }

    /// Where the copy goes, as the user reads it: `web:/data` or a host path.
    pub fn target(&self) -> String {
        match self {
            Transfer::In { name, path, .. } => format!("{name}:{path}"),
            Transfer::Out { dest, .. } => dest.clone(),
        }
    }
}

/// How a copy is followed and stopped: the engine's shared [`Progress`] counts the bytes
/// and is the cancel token (its `cancel` fails the copy at its next read or write, which
/// removes what was not complete); `tick` runs on the copying thread after each chunk.
pub struct Watch<'a> {
    progress: Arc<Progress>,
    tick: Box<dyn FnMut(&Progress) + 'a>,
}

impl<'a> Watch<'a> {
    pub fn new(progress: Arc<Progress>) -> Watch<'a> {
        Watch::with_tick(progress, |_| {})
    }

    pub fn with_tick(progress: Arc<Progress>, tick: impl FnMut(&Progress) + 'a) -> Watch<'a> {
        Watch {
            progress,
            tick: Box::new(tick),
        }
    }

    pub fn progress(&self) -> &Arc<Progress> {
        &self.progress
    }

    /// `inner`, counted into the progress.
    fn counted<T>(&mut self, inner: T) -> Counted<T, &mut (dyn FnMut(&Progress) + 'a)> {
        Counted::with_tick(inner, self.progress.clone(), &mut *self.tick)
    }

    /// A failure of a cancelled copy is the cancel.
    fn outcome(&self, done: Result<()>, target: impl FnOnce() -> String) -> Result<()> {
        match done {
            Err(_) if self.progress.is_cancelled() => Err(CpError::Cancelled { target: target() }),
            done => done,
        }
    }
}

/// The host end of a copy into a container.
pub enum Source<'s> {
    /// A host path, packed with docker cp's rules.
    Path(&'s str),
    /// A tar stream (`-`), passed on as it is into a directory.
    Tar(&'s mut dyn Read),
}

/// The host end of a copy out of a container.
pub enum Dest<'s> {
    /// A host path, extracted into with docker cp's rules.
    Path(&'s str),
    /// A tar stream (`-`): the container's archive as it is.
    Tar(&'s mut dyn Write),
}

/// Docker's wording for a container that doesn't exist, naming the whole argument.
fn container_error(e: Error, name: &str, path: &str) -> CpError {
    match e {
        Error::NoSuchContainer(_) => CpError::NoSuchContainer {
            name: name.to_owned(),
            path: path.to_owned(),
        },
        e => e.into(),
    }
}

/// The container a copy names, in Docker's words when it doesn't exist.
fn container(engine: &Engine, name: &str, path: &str) -> Result<ContainerRecord> {
    engine
        .container(name)
        .map_err(|e| container_error(e, name, path))
}

/// Whether the container a copy names is running (its process then enters the container,
/// which a caller may want to do from a sealed copy of itself).
pub fn is_running(engine: &Engine, name: &str, path: &str) -> Result<bool> {
    Ok(container(engine, name, path)?.state.status == Status::Running)
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
                return Err(CpError::Path(format!(
                    "cannot copy a directory onto a file: {name}:{dest} is not a directory"
                )));
            }
            if asserts_dir(dest) {
                return Err(CpError::Path(format!("{name}:{dest} is not a directory")));
            }
            let (dir, entry) = container_split(&file);
            Ok(Plan { dir, entry })
        }
        None => {
            if !src_dir && asserts_dir(dest) {
                return Err(CpError::Path(format!(
                    "cannot copy to {name}:{dest}: no such directory"
                )));
            }
            let (parent, entry) = container_split(dest);
            match stat_opt(engine, name, &parent)?.and_then(|st| st.resolved) {
                Some((dir, PathKind::Dir)) => Ok(Plan { dir, entry }),
                Some(_) => Err(CpError::Path(format!(
                    "cannot copy to {name}:{dest}: {parent} is not a directory"
                ))),
                None => Err(Error::NoSuchPath {
                    path: parent,
                    container: name.to_owned(),
                }
                .into()),
            }
        }
    }
}

/// Copies `src` into container `name` at `dest` with docker cp's rules, counted into
/// `watch`. A tar stream goes into `dest` as it is, which must then be a directory.
pub fn copy_in(
    engine: &Engine,
    src: Source<'_>,
    name: &str,
    dest: &str,
    options: Options,
    watch: &mut Watch<'_>,
) -> Result<()> {
    let done = match src {
        Source::Tar(tar) => copy_tar_in(engine, tar, name, dest, options, watch),
        Source::Path(src) => pack_in(engine, src, name, dest, options, watch),
    };
    watch.outcome(done, || format!("{name}:{dest}"))
}

fn copy_tar_in(
    engine: &Engine,
    mut tar: &mut dyn Read,
    name: &str,
    dest: &str,
    options: Options,
    watch: &mut Watch<'_>,
) -> Result<()> {
    let target = stat_opt(engine, name, dest)?.and_then(|st| st.resolved);
    let Some((dir, PathKind::Dir)) = target else {
        return Err(CpError::Path(format!(
            "destination \"{name}:{dest}\" must be a directory"
        )));
    };
    let opts = CopyInOptions {
        keep_owner: options.archive,
        new_dir: None,
    };
    engine
        .copy_to_container_with(name, &dir, opts, |out| {
            pump(&mut tar, &mut watch.counted(out)).map(drop)
        })
        .map_err(|e| container_error(e, name, dest))
}

fn pack_in(
    engine: &Engine,
    src: &str,
    name: &str,
    dest: &str,
    options: Options,
    watch: &mut Watch<'_>,
) -> Result<()> {
    let meta = if options.follow_link {
        std::fs::metadata(src)
    } else {
        std::fs::symlink_metadata(src)
    }
    .map_err(|err| CpError::Host {
        context: format!("lstat {src}"),
        err,
    })?;
    let src_dir = meta.is_dir();
    if asserts_dir(src) && !src_dir {
        return Err(CpError::Path(format!("{src}: not a directory")));
    }
    let src_entry = archive_name(src);
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
    let parent_fd =
        std::fs::File::open(&parent).context(|| format!("opening {}", parent.display()))?;
    let opts = CopyInOptions {
        keep_owner: options.archive,
        // A directory under its own name: the archive is that one tree.
        new_dir: (src_dir && !content_only).then(|| plan.entry.clone()),
    };
    engine
        .copy_to_container_with(name, &plan.dir, opts, |out| {
            let mut packer = Packer::new(watch.counted(out));
            packer.add_top(
                parent_fd.as_fd(),
                leaf,
                Path::new(&plan.entry),
                options.follow_link,
            )?;
            packer.finish().map(drop)
        })
        .map_err(|e| container_error(e, name, dest))
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
                return Err(CpError::Path(format!(
                    "cannot copy a directory onto a file: {dest} is not a directory"
                )));
            }
            if asserts_dir(dest) {
                return Err(CpError::Path(format!("{dest}: not a directory")));
            }
            // A symlink on the host is the user's own: write where it points.
            let real = std::fs::canonicalize(dest).map_err(|err| CpError::Host {
                context: dest.to_owned(),
                err,
            })?;
            let parent = real.parent().unwrap_or(Path::new("/")).to_owned();
            let leaf = real.file_name().unwrap_or(OsStr::new(".")).to_owned();
            Ok((parent, Some(rebase(&leaf))))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !src_dir && asserts_dir(dest) {
                return Err(CpError::Path(format!(
                    "cannot copy to {dest}: no such directory"
                )));
            }
            let path = Path::new(dest.trim_end_matches('/'));
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
                _ => PathBuf::from("."),
            };
            if !parent.is_dir() {
                return Err(CpError::Path(format!(
                    "cannot copy to {dest}: {}: no such directory",
                    parent.display()
                )));
            }
            let leaf = path.file_name().unwrap_or(OsStr::new(".")).to_owned();
            Ok((parent, Some(rebase(&leaf))))
        }
        Err(err) => Err(CpError::Host {
            context: dest.to_owned(),
            err,
        }),
    }
}

/// Copies `src` of container `name` out, counted into `watch`. A tar stream gets the
/// container's archive as it is; extracted on the host, device nodes and FIFOs are left
/// out (each told to `on_skip` with the host path it would have had) and, unless
/// `archive`, setuid and setgid bits are cleared: a container must not plant a way to
/// root for whoever copies its files out.
pub fn copy_out(
    engine: &Engine,
    name: &str,
    src: &str,
    dest: Dest<'_>,
    options: Options,
    watch: &mut Watch<'_>,
    on_skip: &mut dyn FnMut(PathBuf, SpecialKind),
) -> Result<()> {
    let target = match &dest {
        Dest::Path(path) => (*path).to_owned(),
        Dest::Tar(_) => "-".to_owned(),
    };
    let done = extract_out(engine, name, src, dest, options, watch, on_skip);
    watch.outcome(done, || target)
}

fn extract_out(
    engine: &Engine,
    name: &str,
    src: &str,
    dest: Dest<'_>,
    options: Options,
    watch: &mut Watch<'_>,
    on_skip: &mut dyn FnMut(PathBuf, SpecialKind),
) -> Result<()> {
    let mut out = engine
        .copy_from_container(name, src, options.follow_link)
        .map_err(|e| container_error(e, name, src))?;
    let src_dir = out.stat().kind == PathKind::Dir;
    if asserts_dir(src) && !src_dir {
        return Err(CpError::Path(format!("{name}:{src}: not a directory")));
    }
    let dest = match dest {
        Dest::Tar(tar) => {
            pump(&mut out, &mut watch.counted(&mut *tar))?;
            tar.flush()?;
            return Ok(());
        }
        Dest::Path(dest) => dest,
    };
    let content_only = src_dir && out.entry_name() == ".";
    let (dir, rebase) = decide_out(dest, src_dir, content_only, out.entry_name())?;
    let owner = if options.archive {
        None
    } else {
        Some((
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        ))
    };
    let extract = ExtractOptions {
        whiteouts: false,
        owner,
        rebase,
        root_meta: false,
        atomic: true,
        specials: false,
        setid: options.archive,
        parallel: false,
        upper_layer: false,
    };
    let dir_fd = nix::fcntl::open(
        &dir,
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .context(|| format!("opening {}", dir.display()))?;
    let mut input = BufReader::with_capacity(COPY_BUF, watch.counted(&mut out));
    let mut skipped = |skip: Skipped| on_skip(dir.join(&skip.rel), skip.kind);
    extract_reporting(&mut input, dir_fd, &extract, &mut skipped)?;
    // Read to the end: only then does the container side report how it finished.
    std::io::copy(&mut input, &mut std::io::sink())?;
    Ok(())
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
        assert_eq!(Location::parse(":x"), Location::Host(":x".into()));
    }

    #[test]
    fn exactly_one_end_is_a_container() {
        assert_eq!(
            Transfer::parse("web:/etc/hosts", "-").unwrap(),
            Transfer::Out {
                name: "web".into(),
                path: "/etc/hosts".into(),
                dest: "-".into()
            }
        );
        let into = Transfer::parse("./a:b", "web:/data/").unwrap();
        assert_eq!(into.container(), ("web", "/data/"));
        assert_eq!(into.target(), "web:/data/");
        let both = Transfer::parse("a:/x", "b:/y").unwrap_err();
        assert!(matches!(both, CpError::Usage(_)));
        assert_eq!(
            both.to_string(),
            "copying between containers is not supported"
        );
        assert_eq!(
            Transfer::parse("/a", "b").unwrap_err().to_string(),
            "must specify at least one container source"
        );
    }

    #[test]
    fn container_paths_split_at_the_last_component() {
        assert_eq!(container_split("/a/b"), ("/a".into(), "b".into()));
        assert_eq!(container_split("/a/"), ("/".into(), "a".into()));
        assert_eq!(container_split("x"), ("/".into(), "x".into()));
    }

    fn text(path: &Path) -> String {
        path.to_str().unwrap().to_owned()
    }

    fn renamed(rebase: &Option<Rebase>) -> Option<(String, String)> {
        rebase.as_ref().map(|r| {
            (
                String::from_utf8(r.from.clone()).unwrap(),
                String::from_utf8(r.to.clone()).unwrap(),
            )
        })
    }

    #[test]
    fn a_copy_out_lands_in_a_directory_under_its_own_name_or_its_content_only() {
        let host = tempfile::tempdir().unwrap();
        let dir = text(host.path());
        // Into a directory: the entry keeps its name.
        let (to, rebase) = decide_out(&dir, false, false, "hosts").unwrap();
        assert_eq!(to, host.path());
        assert_eq!(renamed(&rebase), None);
        // `src/.` into a directory: its content, the top entry's name stripped.
        let (to, rebase) = decide_out(&dir, true, true, ".").unwrap();
        assert_eq!(to, host.path());
        assert_eq!(renamed(&rebase), Some((".".into(), "".into())));
    }

    #[test]
    fn a_copy_out_onto_a_file_replaces_it_and_a_directory_cannot() {
        let host = tempfile::tempdir().unwrap();
        let file = host.path().join("old");
        std::fs::write(&file, "x").unwrap();
        let (to, rebase) = decide_out(&text(&file), false, false, "hosts").unwrap();
        assert_eq!(to, std::fs::canonicalize(host.path()).unwrap());
        assert_eq!(renamed(&rebase), Some(("hosts".into(), "old".into())));
        // Through the user's own symlink: where it points.
        let link = host.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let (_, rebase) = decide_out(&text(&link), false, false, "hosts").unwrap();
        assert_eq!(renamed(&rebase), Some(("hosts".into(), "old".into())));
        let onto = decide_out(&text(&file), true, false, "etc").unwrap_err();
        assert!(matches!(onto, CpError::Path(_)));
        assert_eq!(
            onto.to_string(),
            format!(
                "cannot copy a directory onto a file: {} is not a directory",
                file.display()
            )
        );
        // The system already refuses a file named as a directory.
        let slash = format!("{}/", file.display());
        let err = decide_out(&slash, false, false, "hosts").unwrap_err();
        assert!(matches!(&err, CpError::Host { err, .. } if err.raw_os_error() == Some(20)));
        assert!(err.to_string().starts_with(&format!("{slash}: ")), "{err}");
    }

    #[test]
    fn a_copy_out_to_a_missing_path_names_it_if_its_parent_is_there() {
        let host = tempfile::tempdir().unwrap();
        let new = host.path().join("new");
        let (to, rebase) = decide_out(&text(&new), true, false, "etc").unwrap();
        assert_eq!(to, host.path());
        assert_eq!(renamed(&rebase), Some(("etc".into(), "new".into())));
        // A file can't assert a directory that isn't there.
        let slash = format!("{}/", new.display());
        assert_eq!(
            decide_out(&slash, false, false, "hosts")
                .unwrap_err()
                .to_string(),
            format!("cannot copy to {slash}: no such directory")
        );
        let deep = host.path().join("no/new");
        assert_eq!(
            decide_out(&text(&deep), false, false, "hosts")
                .unwrap_err()
                .to_string(),
            format!(
                "cannot copy to {}: {}: no such directory",
                deep.display(),
                host.path().join("no").display()
            )
        );
    }

    #[test]
    fn directory_assertions() {
        for path in ["dir/", "dir/.", ".", "/"] {
            assert!(asserts_dir(path), "{path}");
        }
        for path in ["dir", "dir/..x", "a.", "/a"] {
            assert!(!asserts_dir(path), "{path}");
        }
    }

    #[test]
    fn a_cancelled_copys_failure_is_the_cancel() {
        let progress = Progress::new();
        let watch = Watch::new(progress.clone());
        let failed = || Err(CpError::Path("x".into()));
        assert!(matches!(
            watch.outcome(failed(), || "t".into()),
            Err(CpError::Path(_))
        ));
        progress.cancel();
        let cancelled = watch.outcome(failed(), || "web:/data".into()).unwrap_err();
        assert_eq!(
            cancelled.to_string(),
            "copy to web:/data cancelled: what was not complete was removed, the old files kept"
        );
        assert!(watch.outcome(Ok(()), || "t".into()).is_ok());
    }
}
