//! The preview pane of a wide screen: under the containers list, the selected container's
//! CPU and memory and the last lines of its log, as lazydocker and oxker lay out their
//! screens. Its state, when it shows, and the one read of the log it makes.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::logs::{last_lines, LogLine};
use super::state::{App, View};
use crate::engine::{ContainerId, Engine, Result, LOG_FILE};

/// The narrowest and lowest screen the pane shows on: below, the list keeps it all.
pub const MIN_WIDTH: u16 = 120;
pub const MIN_HEIGHT: u16 = 24;
/// Log lines read for the pane, whatever the screen's height: its bound.
pub const LINES: usize = 50;

/// The last lines of the selected container's log, as read for the pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// The container's ID.
    pub id: String,
    /// None while the first read is on its way; the read's error, if it failed.
    pub lines: Option<std::result::Result<Vec<LogLine>, String>>,
    /// The log file as it was at the read shown: the clock's next read is skipped while
    /// it stays so.
    pub stamp: Option<LogStamp>,
}

/// What a log file is (device, inode, length, modification time), or all zeros when it
/// is missing: a file written to, truncated or rotated (a new inode) differs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogStamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl LogStamp {
    /// The stamp of the file at `path` (not followed if it is a link), or None if it
    /// can't be told (an error other than its absence).
    pub fn of(path: &Path) -> Option<LogStamp> {
        match std::fs::symlink_metadata(path) {
            Ok(meta) => Some(LogStamp {
                dev: meta.dev(),
                ino: meta.ino(),
                len: meta.len(),
                mtime: meta.mtime(),
                mtime_nsec: meta.mtime_nsec(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(LogStamp::default()),
            Err(_) => None,
        }
    }
}

/// The stamp of container `id`'s log file (see [`LogStamp::of`]); None for an ID that is
/// none.
pub fn log_stamp(engine: &Engine, id: &str) -> Option<LogStamp> {
    let id = id.parse::<ContainerId>().ok()?;
    LogStamp::of(&engine.paths().container(&id).join(LOG_FILE))
}

/// Whether a screen of `width` x `height` has room for the pane.
pub fn fits(width: u16, height: u16) -> bool {
    width >= MIN_WIDTH && height >= MIN_HEIGHT
}

/// Whether the pane is on a screen of `width` x `height`: the containers list with a
/// container selected, nothing over it, room for both.
pub fn on_screen(app: &App, width: u16, height: u16) -> bool {
    fits(width, height)
        && app.view == View::Containers
        && app.details.is_empty()
        && app.files.is_none()
        && app.selected_container().is_some()
}

/// Whether the pane is on screen, as the last frame measured it.
pub fn shown(app: &App) -> bool {
    on_screen(app, app.width.get(), app.height.get())
}

/// What a read of the pane found: the log's stamp when read and its lines.
pub type PreviewRead = (Option<LogStamp>, Result<Vec<LogLine>>);

/// A read as the loop gets it, its error as text.
pub type PaneRead = (Option<LogStamp>, std::result::Result<Vec<LogLine>, String>);

/// The last [`LINES`] lines of the container's log, read and cleaned as the log view
/// reads them (one path: the same sanitising, SGR colours kept as styles), with the
/// log's stamp taken before; None, without reading, if the log is as `known` says (a
/// stat instead of the record's and the log's reads, each second a container runs).
pub fn load(engine: &Engine, id: &str, known: Option<LogStamp>) -> Option<PreviewRead> {
    let stamp = log_stamp(engine, id);
    if stamp.is_some() && stamp == known {
        return None;
    }
    Some((stamp, last_lines(engine, id, LINES)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The clock's read is skipped while the log stays as read, and made again once it
    /// is written to or rotated.
    #[test]
    fn an_unchanged_log_is_not_read_again() {
        let root = tempfile::tempdir().expect("temp dir");
        let engine = Engine::open(root.path()).expect("engine");
        let id = ContainerId::random();
        let dir = engine.paths().container(&id);
        std::fs::create_dir_all(&dir).expect("container dir");
        let log = dir.join(LOG_FILE);
        // No log yet: read (the record is missing, so the read fails), with its stamp.
        let (missing, result) = load(&engine, id.as_str(), None).expect("a first read");
        assert_eq!(missing, Some(LogStamp::default()));
        assert!(result.is_err());
        assert!(load(&engine, id.as_str(), missing).is_none());
        std::fs::write(&log, "{}\n").expect("log");
        let (written, _) = load(&engine, id.as_str(), missing).expect("read once written");
        assert_ne!(written, missing);
        assert!(load(&engine, id.as_str(), written).is_none());
        // Rotated: the same length in a new file.
        std::fs::rename(&log, dir.join(format!("{LOG_FILE}.1"))).expect("rotate");
        std::fs::write(&log, "{}\n").expect("new log");
        assert!(load(&engine, id.as_str(), written).is_some());
        // An ID that names no container's directory is read (and fails) every time.
        assert!(load(&engine, "not-an-id", None).is_some());
    }
}
