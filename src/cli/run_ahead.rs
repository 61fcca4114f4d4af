//! `berth run`'s monitor, started before the command line is parsed.
//!
//! A run starts its container's monitor ahead of the create (see
//! `Engine::monitor_ahead`), and the monitor's start (the exec of the binary's sealed
//! view, its loading) has become the longest step before the container's: clap's parse
//! of run's flags, 0.4-0.7 ms, came before it. So for a plain `berth [--root DIR] run ...`
//! the monitor is started first, from a scan that reads only what it can't get wrong:
//! the engine root given before `run` (or BERTH_ROOT, or the default), and no `--root` or
//! `--name` after it, which may as well be the container's own arguments past its image
//! (only the parse knows). After the parse `run` takes it when its root is the one parsed
//! and the run names no container (the monitor's `ps` label is its container's name);
//! otherwise it is dropped, the monitor ends unused, and `run` starts its own.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::engine::{EnginePaths, MonitorAhead};

/// The monitor [`start_for_plain_run`] started, until `run` takes it.
static STARTED: Mutex<Option<MonitorAhead>> = Mutex::new(None);

/// Starts the monitor of a plain `run` on this process's command line, if it is one.
pub fn start_for_plain_run() {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let Some(root) = plain_run_root(&args, std::env::var_os("BERTH_ROOT")) else {
        return;
    };
    // Only root runs containers (`cli::run` says so to anyone else).
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    // As the engine resolves its root; a root not made yet is left to the parse.
    let Ok(root) = std::fs::canonicalize(&root) else {
        return;
    };
    if let Ok(ahead) = MonitorAhead::start(&root, None) {
        if let Ok(mut started) = STARTED.lock() {
            *started = Some(ahead);
        }
    }
}

/// The monitor started for `root` (as the engine resolved it), if there is one; one
/// started for another root is dropped.
pub(crate) fn take(root: &Path) -> Option<MonitorAhead> {
    let ahead = STARTED.lock().ok()?.take()?;
    (ahead.root() == root).then_some(ahead)
}

/// The engine root of `args` (the command line after the program's name) if they are a
/// plain `run`: `run ...`, `--root DIR run ...` or `--root=DIR run ...`, with no `--root`
/// or `--name` after `run`; `env_root` is BERTH_ROOT's value.
fn plain_run_root(args: &[OsString], env_root: Option<OsString>) -> Option<PathBuf> {
    let (given, rest) = match args {
        [verb, rest @ ..] if verb == "run" => (None, rest),
        [flag, dir, verb, rest @ ..] if flag == "--root" && verb == "run" => {
            (Some(PathBuf::from(dir)), rest)
        }
        [flag, verb, rest @ ..] if verb == "run" => {
            let dir = flag.as_bytes().strip_prefix(b"--root=")?;
            (Some(PathBuf::from(OsStr::from_bytes(dir))), rest)
        }
        _ => return None,
    };
    let unsure = |arg: &OsString| {
        let arg = arg.as_bytes();
        [&b"--root"[..], b"--name"].iter().any(|flag| {
            arg == *flag || arg.strip_prefix(*flag).is_some_and(|r| r.starts_with(b"="))
        })
    };
    if rest.iter().any(unsure) {
        return None;
    }
    let root = match (given, env_root) {
        (Some(dir), _) => dir,
        (None, Some(env)) => PathBuf::from(env),
        (None, None) => EnginePaths::default_root(),
    };
    (!root.as_os_str().is_empty()).then_some(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root_of(line: &[&str], env: Option<&str>) -> Option<String> {
        let args: Vec<OsString> = line.iter().map(OsString::from).collect();
        plain_run_root(&args, env.map(OsString::from)).map(|p| p.display().to_string())
    }

    #[test]
    fn a_plain_run_names_its_root_before_run_or_in_the_environment() {
        let run = ["run", "--rm", "busybox", "true"];
        assert_eq!(root_of(&run, Some("/r")).as_deref(), Some("/r"));
        assert_eq!(
            root_of(&["--root", "/a", "run", "busybox"], Some("/r")).as_deref(),
            Some("/a")
        );
        assert_eq!(
            root_of(&["--root=/b", "run", "busybox"], None).as_deref(),
            Some("/b")
        );
        assert_eq!(
            root_of(&run, None),
            Some(EnginePaths::default_root().display().to_string())
        );
    }

    #[test]
    fn anything_the_scan_could_misread_is_left_to_the_parse() {
        // A --root or --name after run may be the container's argument, or run's flag.
        for line in [
            &["run", "--root", "/x", "busybox"][..],
            &["run", "--root=/x", "busybox"],
            &["run", "busybox", "sh", "--root", "/x"],
            &["run", "--name", "web", "busybox"],
            &["run", "--name=web", "busybox"],
            &["--root", "/a", "run", "busybox", "echo", "--name"],
            // Not run, or run behind another flag or verb.
            &["ps"],
            &["container", "run", "busybox"],
            &["--debug", "run", "busybox"],
            &["--root", "/a", "ps"],
            &[],
        ] {
            assert_eq!(root_of(line, Some("/r")), None, "{line:?}");
        }
        assert_eq!(
            root_of(&["run", "busybox"], Some("")),
            None,
            "empty BERTH_ROOT"
        );
        // A flag that only begins like them is no reason to stop.
        assert_eq!(
            root_of(&["run", "--rootless-ish", "--names", "b"], Some("/r")).as_deref(),
            Some("/r")
        );
    }
}
