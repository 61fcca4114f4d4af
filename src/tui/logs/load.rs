//! Reading the log view's lines from the container's log file (off the draw loop, as
//! every engine call): the tail, a page before or after a position, the next line a
//! search matches anywhere in the file, only the lines a filter lets through, the newest
//! lines for the preview pane; and saving what the view shows to a file. Every read scans
//! a bounded number of lines and keeps a bounded number: a search or a filter over a
//! 1 GB log goes on in further reads, never in one that holds the file.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{LogLine, LogText, Needle, PAGE_LINES};
use crate::engine::{Context, Engine, Error, LogEntry, LogPosition, LogReader, Result};

/// Following, more than this many new bytes are not read through: the view jumps to the
/// tail (a container writing 50,000 lines a second must not cost a core to follow).
pub const JUMP_BYTES: u64 = 256 << 10;

/// Lines one read looks at, at most, with a filter or a search: past it, the read says
/// where the next one goes on.
pub const SCAN_LINES: usize = 50_000;
/// Lines read around a match a search found outside the window, on each side.
const AROUND: usize = PAGE_LINES;

/// Which lines to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFetch {
    /// The last this many.
    Tail(usize),
    /// Up to `max` from `from` on (following, or scrolling down a window that was left).
    After { from: LogPosition, max: usize },
    /// Up to `n` before `from` (scrolling back).
    Before { from: LogPosition, n: usize },
    /// The nearest line the search matches after `from` (`forward`) or before it, and
    /// the lines around it; `None`: from the log's start (forward) or end (back).
    Find {
        from: Option<LogPosition>,
        forward: bool,
    },
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
    /// Only lines containing this are read (the view's `&` filter); empty: all.
    pub filter: String,
    /// What `Find` looks for (the view's search).
    pub search: String,
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
    /// Where reading before these lines goes on: before the first line, or before the
    /// lines a filter skipped ahead of it (so they are not scanned again).
    pub start: Option<LogPosition>,
    /// `Find`: the line it found (the lines are then those around it).
    pub found: Option<LogPosition>,
    /// `Find`: the lines scanned ran out first; the next read goes on from here.
    pub resume: Option<LogPosition>,
}

fn log_line(at: LogPosition, e: &LogEntry) -> LogLine {
    LogLine {
        at,
        time: e.time,
        stream: e.stream,
        text: LogText::parse(&e.log),
    }
}

fn passes(filter: Option<&Needle>, line: &LogLine) -> bool {
    filter.is_none_or(|f| f.find(&line.text.text, 0).is_some())
}

/// Up to `n` lines before where `reader` is that pass `filter`, oldest first, scanning
/// back a page at a time, no more than `scan` lines. Reading stays before the first
/// kept line (or the last scanned, when more than `n` passed and the oldest were let go).
fn read_back(
    reader: &mut LogReader,
    n: usize,
    scan: usize,
    filter: Option<&Needle>,
) -> Result<Vec<LogLine>> {
    let mut pages: Vec<Vec<LogLine>> = Vec::new();
    let (mut kept, mut scanned) = (0, 0);
    while kept < n && scanned < scan && !reader.at_start() {
        let mut page = Vec::new();
        let read = reader.read_before(PAGE_LINES.min(scan - scanned), &mut |at, e| {
            let line = log_line(at, e);
            if passes(filter, &line) {
                page.push(line);
            }
            Ok(())
        })?;
        if read == 0 {
            break;
        }
        scanned += read;
        kept += page.len();
        pages.push(page);
    }
    let mut lines: Vec<LogLine> = pages.into_iter().rev().flatten().collect();
    if lines.len() > n {
        // The oldest go; reading back starts again at the first line kept.
        let first = lines.len() - n;
        lines.drain(..first);
        reader.seek(lines[0].at)?;
    }
    Ok(lines)
}

/// Up to `max` lines from where `reader` is on that pass `filter`, scanning no more than
/// `scan` lines; reading stays after the last kept line.
fn read_on(
    reader: &mut LogReader,
    max: usize,
    scan: usize,
    filter: Option<&Needle>,
) -> Result<Vec<LogLine>> {
    let mut lines = Vec::new();
    let mut scanned = 0;
    // Reading stops at the first line past `max`: it is read again next time.
    let mut over: Option<LogPosition> = None;
    while lines.len() < max && scanned < scan {
        let read = reader.read_some(PAGE_LINES.min(scan - scanned), &mut |at, e| {
            let line = log_line(at, e);
            if passes(filter, &line) {
                if lines.len() < max {
                    lines.push(line);
                } else if over.is_none() {
                    over = Some(at);
                }
            }
            Ok(())
        })?;
        if read == 0 {
            break;
        }
        scanned += read;
    }
    if let Some(at) = over {
        reader.seek(at)?;
    }
    Ok(lines)
}

impl LogRequest {
    pub fn load(&self, engine: &Engine) -> Result<LogChunk> {
        self.read(&mut engine.open_log(&engine.container(&self.id)?)?)
    }

    /// The read itself, on an open log.
    pub fn read(&self, reader: &mut LogReader) -> Result<LogChunk> {
        let mut chunk = LogChunk {
            fetch: self.fetch,
            generation: self.generation,
            lines: Vec::new(),
            end: None,
            at_start: false,
            at_end: false,
            jumped: false,
            start: None,
            found: None,
            resume: None,
        };
        let filter = Needle::new(&self.filter);
        let filter = filter.as_ref();
        if let LogFetch::Find { from, forward } = self.fetch {
            self.find(reader, from, forward, &mut chunk)?;
        } else if filter.is_some() {
            self.read_filtered(reader, filter, &mut chunk)?;
        } else {
            self.read_all(reader, &mut chunk)?;
        }
        if let Some(since) = self.since {
            let before = chunk.lines.len();
            chunk.lines.retain(|l| l.time >= since);
            chunk.at_start |= chunk.lines.len() < before;
        }
        Ok(chunk)
    }

    /// Every line: the window's reads without a filter.
    fn read_all(&self, reader: &mut LogReader, chunk: &mut LogChunk) -> Result<()> {
        let mut keep = |at: LogPosition, e: &LogEntry| {
            chunk.lines.push(log_line(at, e));
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
            LogFetch::Find { .. } => None,
        };
        if let Some(n) = tail {
            reader.tail(n)?;
            chunk.jumped = !matches!(self.fetch, LogFetch::Tail(_));
            chunk.at_start = reader.at_start();
            chunk.start = reader.position()?;
            reader.read_some(n, &mut keep)?;
        }
        if let LogFetch::Before { .. } = self.fetch {
            chunk.at_start = reader.at_start();
            chunk.start = chunk.lines.first().map(|l| l.at);
        } else {
            chunk.end = reader.position()?;
            chunk.at_end = reader.remaining()? == 0;
        }
        Ok(())
    }

    /// Only the lines the filter lets through, each read scanning at most
    /// [`SCAN_LINES`]: the tail's and a page back's go back from the end or the
    /// position until they have their count, a page on's forward.
    fn read_filtered(
        &self,
        reader: &mut LogReader,
        filter: Option<&Needle>,
        chunk: &mut LogChunk,
    ) -> Result<()> {
        let back = match self.fetch {
            LogFetch::Tail(n) => Some(n),
            LogFetch::After { from, max } => {
                if reader.seek(from)? && reader.remaining()? <= JUMP_BYTES {
                    chunk.lines = read_on(reader, max, SCAN_LINES, filter)?;
                    chunk.end = reader.position()?;
                    chunk.at_end = reader.remaining()? == 0;
                    return Ok(());
                }
                chunk.jumped = true;
                Some(self.tail)
            }
            LogFetch::Before { from, n } => {
                if reader.seek(from)? {
                    chunk.lines = read_back(reader, n, SCAN_LINES, filter)?;
                    chunk.start = reader.position()?;
                }
                chunk.at_start = reader.at_start();
                return Ok(());
            }
            LogFetch::Find { .. } => None,
        };
        if let Some(n) = back {
            reader.tail(0)?;
            chunk.end = reader.position()?;
            chunk.at_end = true;
            chunk.lines = read_back(reader, n, SCAN_LINES, filter)?;
            chunk.start = reader.position()?;
            chunk.at_start = reader.at_start();
        }
        Ok(())
    }

    /// The nearest line after or before `from` that the filter lets through and the
    /// search matches, scanning at most [`SCAN_LINES`]; found, the lines around it.
    fn find(
        &self,
        reader: &mut LogReader,
        from: Option<LogPosition>,
        forward: bool,
        chunk: &mut LogChunk,
    ) -> Result<()> {
        if self.search.is_empty() {
            return Ok(());
        }
        let filter = Needle::new(&self.filter);
        let filter = filter.as_ref();
        let placed = match from {
            Some(at) => reader.seek(at)?,
            None => false,
        };
        // A position rotated away: from the log's start or end instead.
        if !placed && !forward {
            reader.tail(0)?;
        }
        // Lines are looked through raw, parsed only when they could match (`count.rs`).
        let mut test = super::count::LineTest::new(&self.search, &self.filter, None);
        let mut scanned = 0;
        let mut found = None;
        while found.is_none() && scanned < SCAN_LINES {
            let mut page_match = None;
            let page = PAGE_LINES.min(SCAN_LINES - scanned);
            let mut lines = 0;
            let mut each = |at: LogPosition, raw: &[u8]| {
                lines += 1;
                // Forward the first match of the page, back the last.
                if (!forward || page_match.is_none()) && test.matches(raw) {
                    page_match = Some(at);
                }
                Ok(lines < page)
            };
            let read = match forward {
                true => {
                    reader.scan(u64::MAX, &mut each)?;
                    lines
                }
                false => reader.scan_before(page, &mut |at, raw| each(at, raw).map(drop))?,
            };
            if read == 0 {
                break;
            }
            scanned += read;
            found = page_match;
        }
        let Some(at) = found else {
            let done = match forward {
                true => reader.remaining()? == 0,
                false => reader.at_start(),
            };
            chunk.resume = if done { None } else { reader.position()? };
            return Ok(());
        };
        chunk.found = Some(at);
        reader.seek(at)?;
        let before = read_back(reader, AROUND, SCAN_LINES, filter)?;
        chunk.start = reader.position()?;
        chunk.at_start = reader.at_start();
        reader.seek(at)?;
        let after = read_on(reader, AROUND, SCAN_LINES, filter)?;
        chunk.end = reader.position()?;
        chunk.at_end = reader.remaining()? == 0;
        chunk.lines = before;
        chunk.lines.extend(after);
        Ok(())
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
        filter: String::new(),
        search: String::new(),
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
    use crate::engine::LogStream;
    use crate::engine::LOG_FILE;

    /// A real log file of `count` lines, `line N`, but for `needle N` at `needles`, in
    /// the engine's json-file form (its entries serialized), read as the view reads it.
    fn written(dir: &Path, count: usize, needles: &[usize]) -> PathBuf {
        let path = dir.join(LOG_FILE);
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let time = Utc::now();
        for i in 0..count {
            let word = if needles.contains(&i) {
                "needle"
            } else {
                "line"
            };
            let entry = LogEntry {
                log: format!("{word} {i}\n"),
                stream: LogStream::Stdout,
                time,
            };
            serde_json::to_writer(&mut out, &entry).unwrap();
            out.write_all(b"\n").unwrap();
        }
        out.flush().unwrap();
        path
    }

    fn request(fetch: LogFetch, filter: &str, search: &str) -> LogRequest {
        LogRequest {
            id: "c".into(),
            fetch,
            since: None,
            generation: 1,
            tail: 100,
            filter: filter.into(),
            search: search.into(),
        }
    }

    fn texts(chunk: &LogChunk) -> Vec<&str> {
        chunk.lines.iter().map(|l| l.text.text.as_str()).collect()
    }

    /// Over a log longer than one read scans: a search goes on where the last read
    /// stopped, finds the match and reads the lines around it, each read holding a
    /// bounded number of lines; a filter reads back only what it lets through.
    #[test]
    fn searches_and_filters_scan_the_file_in_bounded_reads() {
        let dir = tempfile::tempdir().unwrap();
        let count = 2 * SCAN_LINES + 10_000;
        let path = written(dir.path(), count, &[5, count - 3000]);
        let read = |r: &LogRequest| r.read(&mut LogReader::open(&path).unwrap()).unwrap();
        // Back from the end: the newest needle, with the lines around it.
        let newest = read(&request(
            LogFetch::Find {
                from: None,
                forward: false,
            },
            "",
            "NEEDLE",
        ));
        let around = texts(&newest);
        assert_eq!(around.len(), 2 * AROUND);
        assert_eq!(around[AROUND], format!("needle {}", count - 3000));
        assert_eq!(newest.found, Some(newest.lines[AROUND].at));
        assert!(!newest.at_start && !newest.at_end);
        // Back again, from the window's start: one read scans SCAN_LINES and says where
        // the next goes on, until the oldest needle.
        let mut from = newest.start;
        let mut reads = 0;
        let oldest = loop {
            reads += 1;
            let chunk = read(&request(
                LogFetch::Find {
                    from,
                    forward: false,
                },
                "",
                "needle",
            ));
            assert!(chunk.lines.len() <= 2 * AROUND);
            match chunk.resume {
                Some(resume) => from = Some(resume),
                None => break chunk,
            }
        };
        assert_eq!(reads, 3);
        assert!(oldest.at_start);
        assert_eq!(
            texts(&oldest)[..7],
            ["line 0", "line 1", "line 2", "line 3", "line 4", "needle 5", "line 6"]
        );
        // Forward past the last needle: nothing, and nothing more to read.
        let past = read(&request(
            LogFetch::Find {
                from: newest.end,
                forward: true,
            },
            "",
            "needle",
        ));
        assert!(past.found.is_none() && past.resume.is_none() && past.lines.is_empty());
        // The filter's tail: only the needle in the last SCAN_LINES, and where reading
        // back goes on (not from the needle: the lines before it were scanned).
        let tail = read(&request(LogFetch::Tail(100), "needle", ""));
        assert_eq!(texts(&tail), [format!("needle {}", count - 3000)]);
        assert!(tail.at_end && !tail.at_start);
        let start = tail.start.expect("where reading back goes on");
        assert_ne!(start, tail.lines[0].at);
        let mut lines = Vec::new();
        let mut from = start;
        for _ in 0..3 {
            let page = read(&request(LogFetch::Before { from, n: 100 }, "needle", ""));
            lines.extend(texts(&page).into_iter().map(str::to_owned));
            if page.at_start {
                break;
            }
            from = page.start.unwrap();
        }
        assert_eq!(lines, ["needle 5"]);
    }

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
