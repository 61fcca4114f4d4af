//! Crash points for fault-injection tests. In debug builds, `crash_point("rm:after-retire")`
//! kills the process with SIGKILL when `BERTH_CRASH_AT` names that point, so a test can stop
//! any verb at any step the way a power cut or `kill -9` would. Release builds carry none.

/// Every crash point, so a test can iterate over all of them. `monitor:` points fire in
/// the container's monitor process, the others in the CLI.
pub const POINTS: &[&str] = &[
    "create:after-index",
    "create:after-volumes",
    "create:after-dir",
    "create:after-record",
    "start:after-spawn",
    "monitor:after-mount",
    "monitor:after-cgroup",
    "monitor:after-launch",
    "monitor:after-running",
    "monitor:after-exit",
    "monitor:before-unplug",
    "rm:after-stop",
    "rm:before-unindex",
    "rm:after-retire",
    "rm:before-volumes",
    "rename:after-index",
    "rename:after-record",
    "cp:mid-copy",
    "load:mid-layer",
    "load:after-layer",
    "load:after-blob",
    "load:after-record",
    "load:before-commit",
    "volume-create:after-dir",
    "volume-rm:after-retire",
];

/// The environment variable naming the point to crash at.
pub const ENV: &str = "BERTH_CRASH_AT";

/// Kills this process at once if `BERTH_CRASH_AT` names `point` (debug builds only).
#[cfg(debug_assertions)]
pub(crate) fn crash_point(point: &str) {
    debug_assert!(POINTS.contains(&point), "unlisted crash point {point}");
    if std::env::var_os(ENV).is_some_and(|p| p == point) {
        // SIGKILL: no destructor, no rollback, no flush runs, as in a real crash.
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    }
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub(crate) fn crash_point(_point: &str) {}

/// The environment variable naming a pause point (debug builds): the process stops
/// there until the file named by [`PAUSE_FILE_ENV`], which it creates on arrival, is
/// removed (at most a minute), so a test can act while a verb is midway.
pub const PAUSE_ENV: &str = "BERTH_PAUSE_AT";
/// See [`PAUSE_ENV`].
pub const PAUSE_FILE_ENV: &str = "BERTH_PAUSE_FILE";
/// Every pause point: `rm:before-delete`, after `rm` let go of the engine lock and
/// before it deletes the directories it retired; `cp:mid-copy`, after `cp` sent the first
/// part of an archive into a container (the process writing it waits for the rest);
/// `monitor:running-recorded`, after a container's monitor recorded it running and before
/// it tells the verb that started it; `run:before-create`, after `run` started the
/// monitor and took the spare cgroup, before it makes the container.
pub const PAUSE_POINTS: &[&str] = &[
    "rm:before-delete",
    "cp:mid-copy",
    "monitor:running-recorded",
    "run:before-create",
];

/// Waits at `point` if `BERTH_PAUSE_AT` names it (debug builds only).
#[cfg(debug_assertions)]
pub(crate) fn pause_point(point: &str) {
    debug_assert!(
        PAUSE_POINTS.contains(&point),
        "unlisted pause point {point}"
    );
    if std::env::var_os(PAUSE_ENV).is_none_or(|p| p != point) {
        return;
    }
    let Some(file) = std::env::var_os(PAUSE_FILE_ENV) else {
        return;
    };
    if std::fs::write(&file, point).is_err() {
        return;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::path::Path::new(&file).exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub(crate) fn pause_point(_point: &str) {}
