//! Teardown that says what it could not do. Cleanup goes on past a failed step (a stuck
//! cgroup must not keep the exit from being recorded), but each failure is collected with
//! its step, object and cause, then written to the container's `monitor.log` and to the
//! events journal as a `teardown-failed` event, so a leaked mount or veth leaves a trace.

use std::fmt::Display;

use super::record::ContainerRecord;
use crate::events::{append_rotating, container_event};
use crate::Engine;

/// The per-container log of what teardown could not do, in the container's directory.
pub(crate) const MONITOR_LOG: &str = "monitor.log";
/// Size at which `monitor.log` moves to `monitor.log.1` (replacing the one before): the
/// two files hold 2 MiB at most, however often a container is started.
pub(crate) const MAX_MONITOR_LOG: u64 = 1 << 20;
/// The event action for a teardown with failures (Docker has none).
pub(crate) const TEARDOWN_FAILED: &str = "teardown-failed";
/// Longest cause kept: a cause may quote a name the container chose.
const MAX_CAUSE: usize = 1024;

/// One step that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What was being done, e.g. `remove cgroup`.
    pub step: &'static str,
    /// What it was done to, e.g. the cgroup's directory.
    pub object: String,
    pub cause: String,
}

impl Failure {
    /// One line, whatever the object and cause hold: control characters escaped, the
    /// cause cut to [`MAX_CAUSE`] bytes.
    pub fn line(&self) -> String {
        let mut cause = escape(&self.cause);
        if cause.len() > MAX_CAUSE {
            let mut end = MAX_CAUSE;
            while !cause.is_char_boundary(end) {
                end -= 1;
            }
            cause.truncate(end);
            cause.push('…');
        }
        format!("{} {}: {cause}", self.step, escape(&self.object))
    }
}

fn escape(text: &str) -> String {
    text.chars()
        .flat_map(char::escape_debug)
        .collect::<String>()
}

/// The failures of one teardown, in the order the steps ran.
#[derive(Debug, Default)]
pub struct Teardown {
    failures: Vec<Failure>,
}

impl Teardown {
    /// Notes `result` of `step` on `object`: its value if it succeeded, else None and a
    /// failure on the list.
    pub fn step<T, E: Display>(
        &mut self,
        step: &'static str,
        object: impl Display,
        result: std::result::Result<T, E>,
    ) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.failures.push(Failure {
                    step,
                    object: object.to_string(),
                    cause: e.to_string(),
                });
                None
            }
        }
    }

    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }
}

/// Removes `path` and all below it; one that isn't there is no failure.
pub fn remove_dir_all(path: &std::path::Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        done => done,
    }
}

/// Threads [`remove_dir_alls`] deletes with: deleting is mostly waiting on the
/// filesystem's journal and the disk, which several deletions wait on together.
const DELETERS: usize = 8;

/// Removes each of `paths` and all below it, several at a time; one result per path, in
/// order (see [`remove_dir_all`]).
pub fn remove_dir_alls(paths: &[std::path::PathBuf]) -> Vec<std::io::Result<()>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let at = next.fetch_add(1, Ordering::Relaxed);
            let Some(path) = paths.get(at) else {
                return done;
            };
            done.push((at, remove_dir_all(path)));
        }
    };
    let threads = DELETERS.min(paths.len());
    let mut done: Vec<(usize, std::io::Result<()>)> = if threads <= 1 {
        work()
    } else {
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads).map(|_| scope.spawn(work)).collect();
            workers
                .into_iter()
                .flat_map(|w| {
                    w.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    };
    done.sort_by_key(|(at, _)| *at);
    done.into_iter().map(|(_, result)| result).collect()
}

impl Engine {
    /// Removes container `record`'s cgroup, reporting a failure as a teardown's (the
    /// cgroup left behind is found by `system check`).
    pub(crate) fn remove_cgroup_reporting(
        &self,
        record: &ContainerRecord,
        cgroup: &mut super::runtime::cgroups::Cgroup,
    ) {
        let mut teardown = Teardown::default();
        teardown.step("remove cgroup", &record.id, cgroup.remove());
        self.report_teardown(record, &teardown);
    }

    /// Reports the failures of a container's teardown, if any: in its `monitor.log` (when
    /// its directory is still there) and as a `teardown-failed` event whose `error`
    /// attribute names the first failure and `failures` counts them.
    pub(crate) fn report_teardown(&self, record: &ContainerRecord, teardown: &Teardown) {
        let Some(first) = teardown.failures().first() else {
            return;
        };
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let text: String = teardown
            .failures()
            .iter()
            .map(|f| format!("{now} teardown: {}\n", f.line()))
            .collect();
        let dir = self.container_dir(&record.id);
        if dir.is_dir() {
            // The event below still tells of the failures if the log can't take them.
            let _ = append_rotating(&dir.join(MONITOR_LOG), text.as_bytes(), MAX_MONITOR_LOG);
        }
        self.record_event(
            &container_event(record, TEARDOWN_FAILED)
                .with("error", first.line())
                .with("failures", teardown.failures().len().to_string()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::append_rotating;

    #[test]
    fn failed_steps_are_collected_in_order_and_successes_pass_their_value() {
        let mut teardown = Teardown::default();
        assert_eq!(teardown.step("a", "x", Ok::<_, String>(7)), Some(7));
        assert!(teardown.failures().is_empty());
        assert_eq!(
            teardown.step::<(), _>("remove cgroup", "/cg/1", Err("busy")),
            None
        );
        teardown.step::<(), _>("unmount", "/m", Err(std::io::Error::other("EBUSY")));
        let steps: Vec<_> = teardown.failures().iter().map(|f| f.step).collect();
        assert_eq!(steps, ["remove cgroup", "unmount"]);
        assert_eq!(teardown.failures()[0].line(), "remove cgroup /cg/1: busy");
    }

    #[test]
    fn a_failure_is_one_bounded_line_whatever_its_object_and_cause_hold() {
        let failure = Failure {
            step: "delete link",
            object: "veth\nforged line".into(),
            cause: "é".repeat(MAX_CAUSE),
        };
        let line = failure.line();
        assert!(!line.contains('\n'), "{line}");
        assert!(line.starts_with("delete link veth\\nforged line: é"));
        assert!(line.len() <= "delete link veth\\nforged line: ".len() + MAX_CAUSE + 3);
    }

    #[test]
    fn many_trees_are_removed_each_with_its_own_result_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut paths: Vec<std::path::PathBuf> = (0..20)
            .map(|i| {
                let tree = dir.path().join(format!("t{i}"));
                std::fs::create_dir_all(tree.join("a/b")).unwrap();
                std::fs::write(tree.join("a/b/f"), b"x").unwrap();
                tree
            })
            .collect();
        // One that isn't there is no failure; one that isn't a directory is.
        paths.insert(3, dir.path().join("missing"));
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        paths.insert(7, file);
        let results = remove_dir_alls(&paths);
        assert_eq!(results.len(), paths.len());
        for (i, result) in results.iter().enumerate() {
            assert_eq!(result.is_err(), i == 7, "{i}: {result:?}");
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn the_log_rotates_into_one_older_file_and_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MONITOR_LOG);
        let max = 100;
        let line = [b'x'; 30];
        for _ in 0..50 {
            append_rotating(&path, &line, max).unwrap();
        }
        let live = std::fs::metadata(&path).unwrap().len();
        let old = std::fs::metadata(dir.path().join("monitor.log.1"))
            .unwrap()
            .len();
        assert!(live < max + line.len() as u64, "{live}");
        assert!(old < max + line.len() as u64, "{old}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        // Appends are whole: every file is made of whole lines.
        assert_eq!(live % 30, 0);
        assert_eq!(old % 30, 0);
    }

    #[test]
    fn the_log_is_not_followed_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, b"keep").unwrap();
        let path = dir.path().join(MONITOR_LOG);
        std::os::unix::fs::symlink(&target, &path).unwrap();
        assert!(append_rotating(&path, b"line\n", MAX_MONITOR_LOG).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
    }
}
