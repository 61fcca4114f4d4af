//! Output helpers shared by every verb: aligned tables and JSON.

use std::io::Write;

use serde::Serialize;

/// A table printed like Docker's: column headers, columns padded with three spaces.
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&'static str]) -> Table {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn print(&self) -> std::io::Result<()> {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = std::io::stdout().lock();
        let header: Vec<String> = self.headers.iter().map(|h| h.to_string()).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let last = row.len().saturating_sub(1);
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if i < last {
                    let pad = widths[i] - cell.chars().count() + 3;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// Prints a value as indented JSON followed by a newline.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)
}

/// Prints one compact JSON object per line, as `--format json` does for lists.
pub fn print_json_lines<T: Serialize>(values: &[T]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    for value in values {
        serde_json::to_writer(&mut out, value)?;
        writeln!(out)?;
    }
    Ok(())
}

/// Writes a file through `fill` next to `path` and renames it into place, so a failed
/// write leaves no partial file at `path` (and nothing beside it).
pub fn write_file_atomically(
    path: &std::path::Path,
    fill: impl FnOnce(std::io::BufWriter<std::fs::File>) -> crate::engine::Result<()>,
) -> crate::engine::Result<()> {
    use crate::engine::Error;
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid("output", path.display().to_string(), "not a file name"))?;
    let tmp = path.with_file_name(format!(
        ".{}.berth-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = std::fs::File::create(&tmp)
        .map_err(|e| Error::Runtime(format!("creating {}: {e}", tmp.display())))
        .and_then(|file| fill(std::io::BufWriter::with_capacity(1 << 20, file)))
        .and_then(|()| {
            std::fs::rename(&tmp, path)
                .map_err(|e| Error::Runtime(format!("writing {}: {e}", path.display())))
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Asks a yes/no question on stderr, as Docker's prune verbs: only "y" or "yes" is yes,
/// and the end of input is no.
pub fn confirm(question: &str) -> std::io::Result<bool> {
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

pub use crate::format::{binary_size, human_duration, human_since, human_size};
