//! Container logs: one JSON object per line, like Docker's json-file driver.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::error::{Context, Result};

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

/// Splits output into lines and appends each as a log entry; a partial line waits for its
/// end, or for [`LogWriter::flush_partial`].
pub struct LogWriter {
    file: File,
    partial: [Vec<u8>; 2],
}

/// Docker splits long lines at 16 KiB; so do we, so a process that never prints a
/// newline still gets logged.
const MAX_PARTIAL: usize = 16 * 1024;

impl LogWriter {
    pub fn open(path: &Path) -> Result<LogWriter> {
        // What the container printed may be secret: root-only.
        let file = crate::engine::state::open_private(path, true)
            .context(|| format!("opening log {}", path.display()))?;
        Ok(LogWriter {
            file,
            partial: [Vec::new(), Vec::new()],
        })
    }

    pub fn write(&mut self, stream: Stream, data: &[u8]) {
        let i = stream as usize;
        self.partial[i].extend_from_slice(data);
        while let Some(pos) = self.partial[i].iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial[i].drain(..=pos).collect();
            self.append(stream, &line);
        }
        if self.partial[i].len() >= MAX_PARTIAL {
            let chunk = std::mem::take(&mut self.partial[i]);
            self.append(stream, &chunk);
        }
    }

    pub fn flush_partial(&mut self) {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let chunk = std::mem::take(&mut self.partial[stream as usize]);
            if !chunk.is_empty() {
                self.append(stream, &chunk);
            }
        }
    }

    fn append(&mut self, stream: Stream, bytes: &[u8]) {
        let entry = LogEntry {
            log: String::from_utf8_lossy(bytes).into_owned(),
            stream,
            time: Utc::now(),
        };
        if let Ok(mut line) = serde_json::to_vec(&entry) {
            line.push(b'\n');
            // A full disk must not stop the container; the entry is lost, the output isn't.
            let _ = self.file.write_all(&line);
        }
    }
}

/// Reads log entries from `offset`, returning them and the offset after the last whole line.
pub fn read_entries(path: &Path, offset: u64) -> Result<(Vec<LogEntry>, u64)> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), offset)),
        Err(e) => return Err(e).context(|| format!("opening log {}", path.display())),
    };
    file.seek(SeekFrom::Start(offset))
        .context(|| format!("reading log {}", path.display()))?;
    let mut reader = BufReader::new(file);
    let mut entries = Vec::new();
    let mut pos = offset;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .context(|| format!("reading log {}", path.display()))?;
        if n == 0 || line.last() != Some(&b'\n') {
            break;
        }
        pos += n as u64;
        if let Ok(entry) = serde_json::from_slice::<LogEntry>(&line) {
            entries.push(entry);
        }
    }
    Ok((entries, pos))
}
