//! Container logs: one JSON object per line, like Docker's json-file driver, with its
//! `max-size`/`max-file` rotation (`container.log`, then `container.log.1`, `.2`, ...,
//! the highest number the oldest). Reading never loads a log whole: `--tail` scans back
//! from the end in blocks, everything else streams.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Context, Error, Result};

pub const LOG_FILE: &str = "container.log";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogEntry {
    pub log: String,
    pub stream: Stream,
    pub time: DateTime<Utc>,
}

/// `--log-opt max-size=SIZE --log-opt max-file=N`, as Docker's json-file driver: without
/// `max-size` the log grows without rotation (under `local`, Docker's 20 MiB and 5 files).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogConfig {
    /// Rotate the log once it would pass this many bytes.
    #[serde(default)]
    pub max_size: Option<u64>,
    /// How many files to keep in all, the live one included (1 if unset).
    #[serde(default)]
    pub max_file: Option<u32>,
    /// `--log-driver`.
    #[serde(default, skip_serializing_if = "LogDriver::is_default")]
    pub driver: LogDriver,
}

/// `--log-driver`: berth keeps a container's output in its own files, which stand for
/// Docker's `json-file` and `local` drivers (both read back by `logs`); `none` keeps
/// nothing. Drivers that send logs elsewhere (syslog, journald, gelf...) are refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogDriver {
    #[default]
    JsonFile,
    Local,
    None,
}

/// Docker's log drivers that send output off the host or to another daemon.
const ELSEWHERE_DRIVERS: [&str; 10] = [
    "syslog",
    "journald",
    "gelf",
    "fluentd",
    "awslogs",
    "splunk",
    "etwlogs",
    "gcplogs",
    "logentries",
    "loki",
];

/// Docker's `local` driver's rotation when no `--log-opt` says otherwise.
const LOCAL_MAX_SIZE: u64 = 20 << 20;
const LOCAL_MAX_FILE: u32 = 5;

impl LogDriver {
    pub fn parse(name: &str) -> Result<LogDriver> {
        match name {
            "json-file" => Ok(LogDriver::JsonFile),
            "local" => Ok(LogDriver::Local),
            "none" => Ok(LogDriver::None),
            other if ELSEWHERE_DRIVERS.contains(&other) => Err(Error::invalid(
                "--log-driver",
                other,
                "berth keeps logs in its own files only: use json-file, local or none",
            )),
            other => Err(Error::invalid(
                "--log-driver",
                other,
                format!("error looking up logging plugin {other}: plugin \"{other}\" not found (berth's drivers: json-file, local, none)"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LogDriver::JsonFile => "json-file",
            LogDriver::Local => "local",
            LogDriver::None => "none",
        }
    }

    fn is_default(&self) -> bool {
        *self == LogDriver::JsonFile
    }
}

impl LogConfig {
    /// Parses `--log-opt` values (`KEY=VALUE`).
    pub fn parse(opts: &[String]) -> Result<LogConfig> {
        LogConfig::parse_for(LogDriver::JsonFile, opts)
    }

    /// `--log-driver` and its `--log-opt` values.
    pub fn with_driver(driver: Option<&str>, opts: &[String]) -> Result<LogConfig> {
        let driver = driver
            .map(LogDriver::parse)
            .transpose()?
            .unwrap_or_default();
        LogConfig::parse_for(driver, opts)
    }

    fn parse_for(driver: LogDriver, opts: &[String]) -> Result<LogConfig> {
        let mut config = LogConfig {
            driver,
            ..LogConfig::default()
        };
        for opt in opts {
            let (key, value) = opt.split_once('=').ok_or_else(|| {
                Error::invalid("--log-opt", opt, "use max-size=SIZE or max-file=N")
            })?;
            match key {
                "max-size" => config.max_size = Some(parse_log_size(value)?),
                "max-file" => {
                    let n = value.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                        Error::invalid("max-file", value, "use a whole number of at least 1")
                    })?;
                    config.max_file = Some(n);
                }
                _ => {
                    return Err(Error::invalid(
                        "--log-opt",
                        opt,
                        "unknown log option (the json-file driver knows max-size and max-file)",
                    ))
                }
            }
        }
        if config.max_file.is_some_and(|n| n > 1) && config.rotate_at().is_none() {
            return Err(Error::invalid(
                "max-file",
                config.max_file.unwrap_or_default().to_string(),
                "it needs max-size: without it the log is never rotated",
            ));
        }
        Ok(config)
    }

    /// Docker's `HostConfig.LogConfig`: the options as they were given.
    pub fn inspect(&self) -> serde_json::Value {
        let mut config = serde_json::Map::new();
        if let Some(size) = self.max_size {
            config.insert("max-size".into(), size.to_string().into());
        }
        if let Some(n) = self.max_file {
            config.insert("max-file".into(), n.to_string().into());
        }
        serde_json::json!({ "Type": self.driver.as_str(), "Config": config })
    }

    /// An error in Docker's words when the driver keeps nothing to read back.
    pub fn check_readable(&self) -> Result<()> {
        if self.driver == LogDriver::None {
            return Err(Error::Conflict(
                "configured logging driver does not support reading".into(),
            ));
        }
        Ok(())
    }

    fn files(&self) -> u32 {
        let default = match self.driver {
            LogDriver::Local => LOCAL_MAX_FILE,
            _ => 1,
        };
        self.max_file.unwrap_or(default).max(1)
    }

    /// The size past which the log rotates, if any.
    fn rotate_at(&self) -> Option<u64> {
        match self.driver {
            LogDriver::Local => self.max_size.or(Some(LOCAL_MAX_SIZE)),
            _ => self.max_size,
        }
    }
}

/// A size like `10m`, `100k`, `1g`, `4096` (binary units, as Docker's json-file).
fn parse_log_size(text: &str) -> Result<u64> {
    let bad = || {
        Error::invalid(
            "max-size",
            text,
            "use a positive number of bytes with an optional unit k, m or g (e.g. 10m)",
        )
    };
    crate::units::parse_binary_size(text)
        .filter(|n| *n > 0)
        .ok_or_else(bad)
}

/// The path of rotated file `n` (0 is the live log).
fn rotated(path: &Path, n: u32) -> PathBuf {
    if n == 0 {
        return path.to_owned();
    }
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// Splits output into lines and appends each as a log entry; a partial line waits for its
/// end, or for `LogWriter::flush_partial`, and is cut into entries of `MAX_PARTIAL`
/// bytes meanwhile, so a process that never prints a newline can't make it buffer
/// without bound.
pub struct LogWriter {
    path: PathBuf,
    file: File,
    /// Bytes in the live file, for rotation.
    size: u64,
    config: LogConfig,
    partial: [Vec<u8>; 2],
    /// Entries made from one read of the container's output, written with one `write(2)`
    /// when the read is done: one system call per line cost the monitor most of its time.
    pending: Vec<u8>,
    /// What ends every entry of the current read, per stream: its stream and time, as
    /// `LogEntry` serializes them, made once per read instead of once per line.
    tail: [Vec<u8>; 2],
}

/// Docker splits long lines at 16 KiB; so do we.
const MAX_PARTIAL: usize = 16 * 1024;

impl LogWriter {
    pub fn open(path: &Path, config: &LogConfig) -> Result<LogWriter> {
        let file = open_append(path)?;
        let size = file
            .metadata()
            .context(|| format!("opening log {}", path.display()))?
            .len();
        Ok(LogWriter {
            path: path.to_owned(),
            file,
            size,
            config: config.clone(),
            partial: [Vec::new(), Vec::new()],
            pending: Vec::new(),
            tail: [Vec::new(), Vec::new()],
        })
    }

    pub fn write(&mut self, stream: Stream, data: &[u8]) {
        // `--log-driver none`: the output goes to attached clients only.
        if self.config.driver == LogDriver::None {
            return;
        }
        // The lines of one read arrived together: they share its time (one clock read
        // per read, not per line).
        self.stamp(stream, Utc::now());
        let i = stream as usize;
        let mut rest = data;
        while !rest.is_empty() {
            // Never more than one entry's worth is buffered.
            let room = MAX_PARTIAL - self.partial[i].len();
            let window = &rest[..rest.len().min(room)];
            let line = match memchr::memchr(b'\n', window) {
                Some(pos) => &window[..=pos],
                None if window.len() == room => window,
                None => {
                    self.partial[i].extend_from_slice(window);
                    break;
                }
            };
            rest = &rest[line.len()..];
            if self.partial[i].is_empty() {
                // Most lines are whole in one read: encoded from it, copied nowhere.
                self.append(stream, line);
            } else {
                let mut chunk = std::mem::take(&mut self.partial[i]);
                chunk.extend_from_slice(line);
                self.append(stream, &chunk);
                chunk.clear();
                self.partial[i] = chunk;
            }
        }
        // Followers see what this read brought at once: nothing waits for a timer.
        self.flush_pending();
    }

    pub(crate) fn flush_partial(&mut self) {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let chunk = std::mem::take(&mut self.partial[stream as usize]);
            if !chunk.is_empty() {
                self.stamp(stream, Utc::now());
                self.append(stream, &chunk);
            }
        }
        self.flush_pending();
    }

    /// Makes the end of `stream`'s entries for a read at `time`: `LogEntry`'s fields
    /// after `log`, in its order, serialized as serde would.
    fn stamp(&mut self, stream: Stream, time: DateTime<Utc>) {
        let tail = &mut self.tail[stream as usize];
        tail.clear();
        tail.extend_from_slice(match stream {
            Stream::Stdout => br#","stream":"stdout","time":"#,
            Stream::Stderr => br#","stream":"stderr","time":"#,
        });
        // Writing into a Vec fails only if the time can't be serialized; then the entry
        // has no time field, which the reader skips like any damaged line.
        let _ = serde_json::to_writer(&mut *tail, &time);
        tail.extend_from_slice(b"}\n");
    }

    /// Adds one entry for `bytes` (a line, or a piece of one) to the pending write, with
    /// the stream and time of the last `stamp`; rotates first if it would not fit.
    fn append(&mut self, stream: Stream, bytes: &[u8]) {
        let start = self.pending.len();
        self.pending.extend_from_slice(br#"{"log":"#);
        let encoded = match std::str::from_utf8(bytes) {
            Ok(text) => serde_json::to_writer(&mut self.pending, text),
            // As `String::from_utf8_lossy`: each invalid sequence becomes U+FFFD.
            Err(_) => serde_json::to_writer(&mut self.pending, &String::from_utf8_lossy(bytes)),
        };
        if encoded.is_err() {
            self.pending.truncate(start);
            return;
        }
        self.pending.extend_from_slice(&self.tail[stream as usize]);
        let line_len = (self.pending.len() - start) as u64;
        if let Some(max) = self.config.rotate_at() {
            let before = self.size + start as u64;
            if before > 0 && before + line_len > max {
                // What came before this entry belongs to the file being rotated out.
                let line = self.pending.split_off(start);
                self.flush_pending();
                // A rotation that fails keeps writing to the file there is.
                let _ = self.rotate();
                self.pending = line;
            }
        }
    }

    /// Writes the entries gathered so far in one go. A full disk must not stop the
    /// container: the entries are lost, the output isn't.
    fn flush_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        if self.file.write_all(&self.pending).is_ok() {
            self.size += self.pending.len() as u64;
        }
        self.pending.clear();
    }

    /// Shifts `.1`..`.N-2` up by one, the live file to `.1`, and starts a new live file;
    /// with `max-file=1` the live file is emptied instead.
    fn rotate(&mut self) -> Result<()> {
        let files = self.config.files();
        if files == 1 {
            self.file
                .set_len(0)
                .context(|| format!("truncating log {}", self.path.display()))?;
        } else {
            for n in (1..files - 1).rev() {
                match std::fs::rename(rotated(&self.path, n), rotated(&self.path, n + 1)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(e).context(|| format!("rotating log {}", self.path.display()))
                    }
                    _ => {}
                }
            }
            std::fs::rename(&self.path, rotated(&self.path, 1))
                .context(|| format!("rotating log {}", self.path.display()))?;
            self.file = open_append(&self.path)?;
        }
        self.size = 0;
        Ok(())
    }
}

/// Opens a log file for appending; what the container printed may be secret: root-only.
fn open_append(path: &Path) -> Result<File> {
    crate::state::open_private(path, true).context(|| format!("opening log {}", path.display()))
}

/// The longest log line read back; the writer's lines are far shorter (16 KiB of output,
/// escaped), so a longer one is damage and skipped.
const MAX_LINE: u64 = 1 << 20;
/// The block size for scanning back from the end.
const BLOCK: usize = 64 * 1024;

/// A place in a container's log that a rotation does not move: its file by device and
/// inode (rotating renames files) and a byte offset in it, at an entry's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogPosition {
    dev: u64,
    ino: u64,
    offset: u64,
}

impl LogPosition {
    /// A place named by its parts (a reader only ever goes to one its files hold).
    pub fn new(dev: u64, ino: u64, offset: u64) -> LogPosition {
        LogPosition { dev, ino, offset }
    }
}

/// A log opened for reading: every file of it held open at once, oldest first, so a
/// rotation while reading moves nothing under the reader.
pub struct LogReader {
    path: PathBuf,
    files: Vec<File>,
    /// Where reading continues: the file's index and the offset in it.
    at: (usize, u64),
}

impl crate::Engine {
    /// The log of `record`'s container, open at its start, for `logs` and the dashboard:
    /// refused in Docker's words when its driver keeps nothing to read back.
    pub fn open_log(&self, record: &super::record::ContainerRecord) -> Result<LogReader> {
        record.config.log.check_readable()?;
        LogReader::open(&self.container_dir(&record.id).join(LOG_FILE))
    }
}

impl LogReader {
    /// Opens the log at `path` (the live file) with its rotated files; a log not written
    /// yet is an empty one.
    pub fn open(path: &Path) -> Result<LogReader> {
        let mut files = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for n in 0.. {
            match File::open(rotated(path, n)) {
                // A rotation between two opens shows a file twice, under two numbers.
                Ok(f) => {
                    let meta = f
                        .metadata()
                        .context(|| format!("opening log {}", path.display()))?;
                    if seen.insert((meta.dev(), meta.ino())) {
                        files.push(f);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                Err(e) => return Err(e).context(|| format!("opening log {}", path.display())),
            }
        }
        files.reverse();
        Ok(LogReader {
            path: path.to_owned(),
            files,
            at: (0, 0),
        })
    }

    /// Moves the start to the last `n` entries, scanning back from the end in blocks.
    pub fn tail(&mut self, n: usize) -> Result<()> {
        self.at = match self.files.len() {
            0 => (0, 0),
            files => {
                let last = files - 1;
                (last, self.len(last)?)
            }
        };
        self.back(n)
    }

    /// Moves the start back over `n` entries from where it is, scanning back in blocks (to
    /// the log's start if it holds fewer).
    pub fn back(&mut self, n: usize) -> Result<()> {
        // Reading stops at an entry's start: the newline just before it ends the entry
        // before, so the start of the n-th entry back follows newline number n + 1.
        let mut want = n + 1;
        let mut buf = vec![0u8; BLOCK];
        let (from, offset) = self.at;
        for index in (0..self.files.len().min(from + 1)).rev() {
            let mut end = if index == from {
                offset
            } else {
                self.len(index)?
            };
            let file = &mut self.files[index];
            while end > 0 {
                let start = end.saturating_sub(BLOCK as u64);
                let block = &mut buf[..(end - start) as usize];
                file.seek(SeekFrom::Start(start))
                    .and_then(|_| file.read_exact(block))
                    .context(|| format!("reading log {}", self.path.display()))?;
                for i in memchr::memrchr_iter(b'\n', block) {
                    want -= 1;
                    if want == 0 {
                        self.at = (index, start + i as u64 + 1);
                        return Ok(());
                    }
                }
                end = start;
            }
        }
        self.at = (0, 0);
        Ok(())
    }

    fn len(&self, index: usize) -> Result<u64> {
        Ok(self.files[index]
            .metadata()
            .context(|| format!("reading log {}", self.path.display()))?
            .len())
    }

    /// Where reading continues, as a place that outlives rotation; `None` for a log with
    /// no file yet.
    pub fn position(&self) -> Result<Option<LogPosition>> {
        let Some(file) = self.files.get(self.at.0) else {
            return Ok(None);
        };
        let meta = file
            .metadata()
            .context(|| format!("reading log {}", self.path.display()))?;
        Ok(Some(LogPosition {
            dev: meta.dev(),
            ino: meta.ino(),
            offset: self.at.1,
        }))
    }

    /// Moves to `position`; false (and nowhere) when its file is no longer part of the
    /// log (rotated out). A log emptied in place (`max-file=1`) starts again at its top.
    pub fn seek(&mut self, position: LogPosition) -> Result<bool> {
        for index in 0..self.files.len() {
            let meta = self.files[index]
                .metadata()
                .context(|| format!("reading log {}", self.path.display()))?;
            if (meta.dev(), meta.ino()) == (position.dev, position.ino) {
                let offset = if position.offset > meta.len() {
                    0
                } else {
                    position.offset
                };
                self.at = (index, offset);
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether nothing of the log comes before where reading continues.
    pub fn at_start(&self) -> bool {
        self.at == (0, 0)
    }

    /// The bytes from where reading continues to the log's end, for a follower to tell
    /// whether reading them all is worth it.
    pub fn remaining(&self) -> Result<u64> {
        let (from, offset) = self.at;
        let mut total = 0u64;
        for index in from..self.files.len() {
            let len = self.len(index)?;
            total += if index == from {
                len.saturating_sub(offset)
            } else {
                len
            };
        }
        Ok(total)
    }

    /// Passes every whole entry from the current position on to `each`, oldest first, and
    /// stays after the last one: a partial line at the end waits for the next call.
    pub fn read(&mut self, each: &mut dyn FnMut(&LogEntry) -> Result<()>) -> Result<()> {
        self.read_bounded(None, usize::MAX, &mut |_, entry| each(entry))
            .map(drop)
    }

    /// As `read`, but at most `max` entries, each with where it starts; returns how many.
    pub fn read_some(
        &mut self,
        max: usize,
        each: &mut dyn FnMut(LogPosition, &LogEntry) -> Result<()>,
    ) -> Result<usize> {
        self.read_bounded(None, max, each)
    }

    /// The (at most) `n` entries before the current position, oldest first, each with where
    /// it starts; reading continues from the first of them after (or stays, if none).
    pub fn read_before(
        &mut self,
        n: usize,
        each: &mut dyn FnMut(LogPosition, &LogEntry) -> Result<()>,
    ) -> Result<usize> {
        let stop = self.at;
        self.back(n)?;
        let start = self.at;
        let read = self.read_bounded(Some(stop), n, each)?;
        self.at = start;
        Ok(read)
    }

    /// Passes whole lines from the current position on to `each` as they are in the file
    /// (not parsed: a scan that looks at most lines, such as counting a search's matches,
    /// parses only those worth it), each with where it starts, until at least `max_bytes`
    /// were read, `each` says to stop (false) or the log ends, and stays after the last
    /// line passed. Returns the bytes read.
    pub fn scan(
        &mut self,
        max_bytes: u64,
        each: &mut dyn FnMut(LogPosition, &[u8]) -> Result<bool>,
    ) -> Result<u64> {
        let mut bytes = 0u64;
        self.read_lines(None, &mut |at, line| {
            bytes += line.len() as u64;
            Ok(each(at, line)? && bytes < max_bytes)
        })?;
        Ok(bytes)
    }

    /// As `read_before`, but the (at most) `n` lines before the current position as they
    /// are in the file, not parsed (see `scan`); returns how many.
    pub fn scan_before(
        &mut self,
        n: usize,
        each: &mut dyn FnMut(LogPosition, &[u8]) -> Result<()>,
    ) -> Result<usize> {
        let stop = self.at;
        self.back(n)?;
        let start = self.at;
        let mut count = 0;
        if n > 0 {
            self.read_lines(Some(stop), &mut |at, line| {
                each(at, line)?;
                count += 1;
                Ok(count < n)
            })?;
        }
        self.at = start;
        Ok(count)
    }

    /// Reads entries on from the current position, no more than `max` and none at or
    /// after `stop`.
    fn read_bounded(
        &mut self,
        stop: Option<(usize, u64)>,
        max: usize,
        each: &mut dyn FnMut(LogPosition, &LogEntry) -> Result<()>,
    ) -> Result<usize> {
        let mut count = 0;
        if max == 0 {
            return Ok(0);
        }
        self.read_lines(stop, &mut |at, line| {
            if let Ok(entry) = serde_json::from_slice::<LogEntry>(line) {
                each(at, &entry)?;
                count += 1;
            }
            Ok(count < max)
        })?;
        Ok(count)
    }

    /// Passes whole lines on from the current position, none at or after `stop`, to
    /// `each` until it says to stop (false: reading continues after that line).
    fn read_lines(
        &mut self,
        stop: Option<(usize, u64)>,
        each: &mut dyn FnMut(LogPosition, &[u8]) -> Result<bool>,
    ) -> Result<()> {
        let mut more = true;
        while self.at.0 < self.files.len() && more {
            let (index, offset) = self.at;
            if stop.is_some_and(|s| (index, offset) >= s) {
                break;
            }
            let file = &mut self.files[index];
            let meta = file
                .metadata()
                .context(|| format!("reading log {}", self.path.display()))?;
            file.seek(SeekFrom::Start(offset))
                .context(|| format!("reading log {}", self.path.display()))?;
            let mut reader = BufReader::with_capacity(BLOCK, &*file);
            let mut line = Vec::new();
            let mut pos = offset;
            while more && stop.is_none_or(|s| (index, pos) < s) {
                line.clear();
                let n = (&mut reader)
                    .take(MAX_LINE)
                    .read_until(b'\n', &mut line)
                    .context(|| format!("reading log {}", self.path.display()))?;
                if n == 0 || (line.last() != Some(&b'\n') && (n as u64) < MAX_LINE) {
                    break;
                }
                let at = LogPosition {
                    dev: meta.dev(),
                    ino: meta.ino(),
                    offset: pos,
                };
                pos += n as u64;
                more = each(at, &line)?;
            }
            self.at.1 = pos;
            // Stopped by `each`, or at the live file's end (a partial line there waits
            // for its end): reading continues here. A rotated file gets nothing more.
            if index + 1 == self.files.len() || !more {
                break;
            }
            self.at = (index + 1, 0);
        }
        Ok(())
    }

    /// For `--follow`: reads what was added, and moves on to the new live file once the
    /// one held was rotated away (after reading it to its end).
    pub fn follow(&mut self, each: &mut dyn FnMut(&LogEntry) -> Result<()>) -> Result<()> {
        loop {
            self.read(each)?;
            let Ok(now) = File::open(&self.path) else {
                return Ok(());
            };
            let same = match (self.files.last(), now.metadata()) {
                (Some(held), Ok(new)) => held
                    .metadata()
                    .is_ok_and(|m| (m.dev(), m.ino()) == (new.dev(), new.ino())),
                _ => false,
            };
            if same {
                return Ok(());
            }
            // Another write may have landed in the held file before it was rotated.
            self.read(each)?;
            self.files = vec![now];
            self.at = (0, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drivers_are_json_file_local_or_none_and_local_rotates_as_dockers() {
        let local = LogConfig::with_driver(Some("local"), &["max-file=3".into()]).unwrap();
        assert_eq!((local.rotate_at(), local.files()), (Some(20 << 20), 3));
        let local = LogConfig::with_driver(Some("local"), &[]).unwrap();
        assert_eq!((local.rotate_at(), local.files()), (Some(20 << 20), 5));
        let json = LogConfig::with_driver(None, &[]).unwrap();
        assert_eq!(json, LogConfig::default());
        assert_eq!((json.rotate_at(), json.files()), (None, 1));
        // json-file rotates only when told a size, as Docker's.
        assert!(LogConfig::with_driver(Some("json-file"), &["max-file=3".into()]).is_err());
        let none = LogConfig::with_driver(Some("none"), &[]).unwrap();
        let err = none.check_readable().unwrap_err().to_string();
        assert_eq!(err, "configured logging driver does not support reading");
        json.check_readable().unwrap();
        for (bad, says) in [
            ("syslog", "json-file, local or none"),
            ("fancy", "plugin \"fancy\" not found"),
        ] {
            let err = LogConfig::with_driver(Some(bad), &[])
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
        // Records from before the driver was kept read as json-file.
        let old: LogConfig = serde_json::from_str(r#"{"max_size":null,"max_file":null}"#).unwrap();
        assert_eq!(old.driver, LogDriver::JsonFile);
    }

    fn lines(path: &Path, tail: Option<usize>) -> Vec<String> {
        let mut reader = LogReader::open(path).unwrap();
        if let Some(n) = tail {
            reader.tail(n).unwrap();
        }
        let mut out = Vec::new();
        reader
            .read(&mut |e| {
                out.push(e.log.clone());
                Ok(())
            })
            .unwrap();
        out
    }

    #[test]
    fn log_options_parse_like_docker() {
        let opts =
            |v: &[&str]| LogConfig::parse(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let c = opts(&["max-size=100k", "max-file=3"]).unwrap();
        assert_eq!((c.max_size, c.max_file), (Some(100 << 10), Some(3)));
        assert_eq!(opts(&[]).unwrap(), LogConfig::default());
        for (bad, says) in [
            (&["max-size=ten"][..], "invalid max-size"),
            (&["max-size=0"][..], "invalid max-size"),
            (&["max-file=0", "max-size=1m"][..], "invalid max-file"),
            (&["max-file=3"][..], "needs max-size"),
            (&["mode=fast"][..], "unknown log option"),
        ] {
            let err = opts(bad).unwrap_err().to_string();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
    }

    #[test]
    fn tail_and_rotation_read_the_newest_lines_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE);
        let config = LogConfig {
            max_size: Some(2000),
            max_file: Some(3),
            ..Default::default()
        };
        let mut writer = LogWriter::open(&path, &config).unwrap();
        for i in 0..1000 {
            writer.write(Stream::Stdout, format!("line {i}\n").as_bytes());
        }
        drop(writer);
        let mut files = 0;
        for n in 0..5 {
            if let Ok(meta) = std::fs::metadata(rotated(&path, n)) {
                files += 1;
                assert!(meta.len() <= 2000, "file {n} has {} bytes", meta.len());
            }
        }
        assert_eq!(files, 3);
        let all = lines(&path, None);
        let first: usize = all[0]
            .trim()
            .strip_prefix("line ")
            .unwrap()
            .parse()
            .unwrap();
        let expected: Vec<String> = (first..1000).map(|i| format!("line {i}\n")).collect();
        assert_eq!(all, expected);
        assert_eq!(lines(&path, Some(3)), expected[expected.len() - 3..]);
        assert_eq!(lines(&path, Some(0)), Vec::<String>::new());
        assert_eq!(lines(&path, Some(100_000)), expected);
    }

    #[test]
    fn lines_of_one_read_rotate_as_lines_and_are_on_disk_when_the_write_returns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE);
        let config = LogConfig {
            max_size: Some(2000),
            max_file: Some(3),
            ..Default::default()
        };
        let mut writer = LogWriter::open(&path, &config).unwrap();
        // One read of the container's output holding many lines, the last one unfinished.
        let text: String = (0..300).map(|i| format!("line {i}\n")).collect();
        writer.write(Stream::Stdout, format!("{text}tail").as_bytes());
        // A follower sees every whole line now, with the writer still open.
        let all = lines(&path, None);
        assert_eq!(all.last().map(String::as_str), Some("line 299\n"));
        for n in 0..3 {
            let len = std::fs::metadata(rotated(&path, n)).unwrap().len();
            assert!(len <= 2000, "file {n} has {len} bytes");
        }
        let first: usize = all[0]
            .trim()
            .strip_prefix("line ")
            .unwrap()
            .parse()
            .unwrap();
        let expected: Vec<String> = (first..300).map(|i| format!("line {i}\n")).collect();
        assert_eq!(all, expected);
        writer.flush_partial();
        assert_eq!(lines(&path, Some(1)), vec!["tail".to_owned()]);
    }

    #[test]
    fn entries_are_written_as_serde_writes_a_log_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE);
        let mut writer = LogWriter::open(&path, &LogConfig::default()).unwrap();
        writer.write(Stream::Stdout, b"plain\n\"q\" \\ \t\x01\n\xff\xfebad\n");
        writer.write(Stream::Stderr, "\u{e9}t\u{e9}\n".as_bytes());
        writer.write(Stream::Stdout, b"tail");
        writer.flush_partial();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut seen = Vec::new();
        for line in text.lines() {
            let entry: LogEntry = serde_json::from_str(line).unwrap();
            // Byte for byte what serializing the entry gives: escapes, field order, time.
            assert_eq!(serde_json::to_string(&entry).unwrap(), line);
            seen.push((entry.stream, entry.log));
        }
        let expected = [
            (Stream::Stdout, "plain\n"),
            (Stream::Stdout, "\"q\" \\ \t\u{1}\n"),
            (Stream::Stdout, "\u{fffd}\u{fffd}bad\n"),
            (Stream::Stderr, "\u{e9}t\u{e9}\n"),
            (Stream::Stdout, "tail"),
        ];
        let expected: Vec<(Stream, String)> =
            expected.iter().map(|(s, l)| (*s, l.to_string())).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn follow_moves_on_to_the_new_file_after_a_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE);
        let config = LogConfig {
            max_size: Some(500),
            max_file: Some(2),
            ..Default::default()
        };
        let mut writer = LogWriter::open(&path, &config).unwrap();
        let mut reader = LogReader::open(&path).unwrap();
        let mut seen = Vec::new();
        for i in 0..100 {
            writer.write(Stream::Stdout, format!("{i}\n").as_bytes());
            if i % 3 == 0 {
                reader
                    .follow(&mut |e| {
                        seen.push(e.log.trim().parse::<u32>().unwrap());
                        Ok(())
                    })
                    .unwrap();
            }
        }
        reader
            .follow(&mut |e| {
                seen.push(e.log.trim().parse::<u32>().unwrap());
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn an_endless_line_is_split_at_16_kib() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE);
        let mut writer = LogWriter::open(&path, &LogConfig::default()).unwrap();
        for _ in 0..10 {
            writer.write(Stream::Stderr, &[b'x'; 10_000]);
            assert!(writer.partial[1].len() < MAX_PARTIAL);
        }
        writer.write(Stream::Stderr, b"end\n");
        let all = lines(&path, None);
        assert_eq!(all.len(), 7);
        assert!(all[..6].iter().all(|l| l.len() == MAX_PARTIAL));
        assert_eq!(
            all[6],
            format!("{}end\n", "x".repeat(100_000 - 6 * MAX_PARTIAL))
        );
    }

    /// A viewer's window: the newest entries, then older ones page by page from where it
    /// starts, across rotated files, then on again from where it ended, with the
    /// positions still valid after the log rotated under them.
    #[test]
    fn pages_read_back_and_on_from_positions_that_survive_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE);
        let config = LogConfig {
            max_size: Some(2000),
            max_file: Some(4),
            ..Default::default()
        };
        let mut writer = LogWriter::open(&path, &config).unwrap();
        for i in 0..200 {
            writer.write(Stream::Stdout, format!("line {i}\n").as_bytes());
        }
        let number = |e: &LogEntry| -> usize { e.log.trim()[5..].parse().unwrap() };
        let mut reader = LogReader::open(&path).unwrap();
        reader.tail(10).unwrap();
        let start = reader.position().unwrap().unwrap();
        let mut seen = Vec::new();
        let read = reader
            .read_some(4, &mut |_, e| {
                seen.push(number(e));
                Ok(())
            })
            .unwrap();
        assert_eq!((read, seen.as_slice()), (4, &[190, 191, 192, 193][..]));
        let after = reader.position().unwrap().unwrap();
        // Back from the window's start, page by page, until the oldest file's start.
        let mut older = Vec::new();
        let mut reader = LogReader::open(&path).unwrap();
        assert!(reader.seek(start).unwrap());
        loop {
            let mut page = Vec::new();
            let mut positions = Vec::new();
            reader
                .read_before(7, &mut |at, e| {
                    positions.push(at);
                    page.push(number(e));
                    Ok(())
                })
                .unwrap();
            if page.is_empty() {
                break;
            }
            assert!(page.len() == 7 || reader.at_start(), "{page:?}");
            assert_eq!(reader.position().unwrap(), positions.first().copied());
            page.extend(older);
            older = page;
        }
        assert!(reader.at_start());
        let first = older[0];
        assert_eq!(older, (first..190).collect::<Vec<_>>());
        // More lines rotate the files: the positions still lead to the same entries.
        for i in 200..230 {
            writer.write(Stream::Stdout, format!("line {i}\n").as_bytes());
        }
        let mut reader = LogReader::open(&path).unwrap();
        assert!(reader.seek(after).unwrap());
        assert!(reader.remaining().unwrap() > 0);
        let mut next = Vec::new();
        reader
            .read_some(usize::MAX, &mut |_, e| {
                next.push(number(e));
                Ok(())
            })
            .unwrap();
        assert_eq!(next, (194..230).collect::<Vec<_>>());
        assert_eq!(reader.remaining().unwrap(), 0);
        // Once its file is rotated out, a position leads nowhere.
        for i in 230..600 {
            writer.write(Stream::Stdout, format!("line {i}\n").as_bytes());
        }
        let mut reader = LogReader::open(&path).unwrap();
        assert!(!reader.seek(start).unwrap());
    }
}
