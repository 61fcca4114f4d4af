//! Reading the log view's lines from the container's log file (off the draw loop, as
//! every engine call): the tail, a page before or after a position, the newest lines
//! for the preview pane; and saving what the view shows to a file.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{LogLine, LogText};
use crate::engine::{Context, Engine, Error, LogPosition, LogReader, Result, LOG_FILE};

/// Following, more than this many new bytes are not read through: the view jumps to the
/// tail (a container writing 50,000 lines a second must not cost a core to follow).
pub const JUMP_BYTES: u64 = 256 << 10;

/// Which lines to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFetch {
    /// The last this many.
    Tail(usize),
    /// Up to `max` from `from` on (following, or scrolling down a window that was left).
    After { from: LogPosition, max: usize },
    /// Up to `n` before `from` (scrolling back).
    Before { from: LogPosition, n: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRequest {
    /// The container's ID.
    pub id: String,
    pub fetch: LogFetch,
    /// Lines older than this are not shown.
    pub since: Option<DateTime<Utc>>,
    /// The view's window this read is for.
    pub generation: u64,
    /// How many lines a jump to the tail reads.
    pub tail: usize,
}

/// What a read brought.
#[derive(Debug, Clone)]
pub struct LogChunk {
    pub fetch: LogFetch,
    pub generation: u64,
    pub lines: Vec<LogLine>,
    /// Where reading on continues (after the last line read).
    pub end: Option<LogPosition>,
    /// Nothing comes before these lines (the log's start, or `since`).
    pub at_start: bool,
    /// The read reached the log's end.
    pub at_end: bool,
    /// A read after a position that found too much (or found its file rotated away)
    /// read the tail instead: the lines don't follow the window's.
    pub jumped: bool,
}

impl LogRequest {
    pub fn load(&self, engine: &Engine) -> Result<LogChunk> {
        let record = engine.container(&self.id)?;
        // `--log-driver none` kept nothing, as Docker says.
        record.config.log.check_readable()?;
        let path = engine.paths().container(&record.id).join(LOG_FILE);
        let mut reader = LogReader::open(&path)?;
        let mut chunk = LogChunk {
            fetch: self.fetch,
            generation: self.generation,
            lines: Vec::new(),
            end: None,
            at_start: false,
            at_end: false,
            jumped: false,
        };
        let mut keep = |at: LogPosition, e: &crate::engine::LogEntry| {
            chunk.lines.push(LogLine {
                at,
                time: e.time,
                stream: e.stream,
                text: LogText::parse(&e.log),
            });
            Ok(())
        };
        let tail = match self.fetch {
            LogFetch::Tail(n) => Some(n),
            LogFetch::After { from, max } => {
                if reader.seek(from)? && reader.remaining()? <= JUMP_BYTES {
                    reader.read_some(max, &mut keep)?;
                    None
                } else {
                    Some(self.tail)
                }
            }
            LogFetch::Before { from, n } => {
                if reader.seek(from)? {
                    reader.read_before(n, &mut keep)?;
                }
                // A position whose file was rotated out has nothing before it left.
                None
            }
        };
        if let Some(n) = tail {
            reader.tail(n)?;
            chunk.jumped = !matches!(self.fetch, LogFetch::Tail(_));
            chunk.at_start = reader.at_start();
            reader.read_some(n, &mut keep)?;
        }
        if let LogFetch::Before { .. } = self.fetch {
            chunk.at_start = reader.at_start();
        } else {
            chunk.end = reader.position()?;
            chunk.at_end = reader.remaining()? == 0;
        }
        if let Some(since) = self.since {
            let before = chunk.lines.len();
            chunk.lines.retain(|l| l.time >= since);
            chunk.at_start |= chunk.lines.len() < before;
        }
        Ok(chunk)
    }
}

/// The container's last `n` log lines, cleaned (colours kept as styles): for a preview
/// of its log beside the list. Call it off the draw loop; draw each with
/// `views::logs::styled_line`.
pub fn last_lines(engine: &Engine, id: &str, n: usize) -> Result<Vec<LogLine>> {
    let request = LogRequest {
        id: id.to_owned(),
        fetch: LogFetch::Tail(n),
        since: None,
        generation: 0,
        tail: n,
    };
    Ok(request.load(engine)?.lines)
}

/// Writes `text` to a new file named for the container and the time in `dir`, never
/// over an existing one: whole or not at all (a temporary name, then a link to the
/// final one), readable by the user alone, as the log itself. Returns its path.
pub fn save_log(dir: &Path, container: &str, text: &str) -> Result<PathBuf> {
    // The name is the container's (berth's names are already tame); anything else
    // becomes `_`, so the file lands in `dir` whatever it says.
    let name: String = container
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' => c,
            _ => '_',
        })
        .collect();
    // Nor hidden: a leading dot goes.
    let name = match name.trim_start_matches('.') {
        "" => "container",
        name => name,
    };
    let stamp = Utc::now().format("%Y%m%d-%H%M%S");
    let temp = dir.join(format!(".{name}-{stamp}.log.{}.tmp", std::process::id()));
    let context = |path: &Path| format!("saving the log to {}", path.display());
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)
        .context(|| context(&temp))?;
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all());
    let result = written.context(|| context(&temp)).and_then(|()| {
        for n in 0..100 {
            let path = match n {
                0 => dir.join(format!("{name}-{stamp}.log")),
                n => dir.join(format!("{name}-{stamp}-{n}.log")),
            };
            match std::fs::hard_link(&temp, &path) {
                Ok(()) => return Ok(path),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e).context(|| context(&path)),
            }
        }
        Err(Error::Conflict(format!(
            "saving the log: {name}-{stamp}.log and 99 more names exist in {}",
            dir.display()
        )))
    });
    let _ = std::fs::remove_file(&temp);
    let path = result?;
    Ok(std::path::absolute(&path).unwrap_or(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_log_is_a_new_private_file_and_never_replaces_one() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let first = save_log(dir.path(), "web", "one\ntwo\n").unwrap();
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "one\ntwo\n");
        let mode = std::fs::metadata(&first).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(first
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("web-"));
        // A second save in the same second gets a name of its own.
        let second = save_log(dir.path(), "web", "three\n").unwrap();
        assert_ne!(first, second);
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "one\ntwo\n");
        // A name with a slash stays in the directory; no temporary file is left.
        let odd = save_log(dir.path(), "../x", "").unwrap();
        assert_eq!(odd.parent(), Some(dir.path()));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    }
}
