//! Output helpers shared by every verb: aligned tables, JSON, and `--format`.

use std::io::Write;

use color_eyre::eyre::eyre;
use serde::Serialize;
use serde_json::Value;

use super::template::Template;

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

/// What a listing verb (`ps`, `images`, `volume ls`, `network ls`) prints, as Docker's
/// formatter has it.
pub struct Listing<'a> {
    /// What a row is, named in the error for a field it doesn't have.
    pub kind: &'a str,
    /// Field -> column title, for the header of a `table` template.
    pub titles: &'a [(&'a str, &'a str)],
    /// The template printed when `--format` is empty or `table`.
    pub default: &'a str,
}

/// Prints `rows` as `--format` asks: the listing's default table for "" and "table",
/// one JSON object a line for "json", else each row through the Go template, aligned
/// under a header when it starts with "table". Nothing is printed if any row fails.
pub fn print_listing(format: &str, rows: &[Value], listing: &Listing) -> color_eyre::Result<()> {
    let format = match format.trim() {
        "" | "table" => listing.default,
        "json" => "{{json .}}",
        other => other,
    };
    // As Docker: `\t` and `\n` typed on a command line mean a tab and a newline.
    let (table, text) = match format.strip_prefix("table") {
        Some(rest) => (true, rest.trim_matches(' ')),
        None => (false, format),
    };
    let text = text.replace("\\t", "\t").replace("\\n", "\n");
    let template = parse_template(&text)?;
    let mut out = String::new();
    if table {
        let titles: serde_json::Map<String, Value> = listing
            .titles
            .iter()
            .map(|(field, title)| ((*field).to_owned(), Value::from(*title)))
            .collect();
        out.push_str(
            &template
                .render_header(&Value::Object(titles))
                .map_err(template_error)?,
        );
        out.push('\n');
    }
    for row in rows {
        out.push_str(
            &template
                .render_row(row, listing.kind)
                .map_err(template_error)?,
        );
        out.push('\n');
    }
    if table {
        out = tabwrite(&out);
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(())
}

/// `inspect --format`: the JSON array without one (or with "json"), else the template
/// once per object, each followed by a newline.
pub fn print_inspect(format: Option<&str>, items: &[Value]) -> color_eyre::Result<()> {
    match format.map(str::trim) {
        None | Some("") | Some("json") => Ok(print_json(items)?),
        Some(text) => {
            let template = parse_template(text)?;
            let mut out = String::new();
            for item in items {
                out.push_str(&template.render(item).map_err(template_error)?);
                out.push('\n');
            }
            std::io::stdout().lock().write_all(out.as_bytes())?;
            Ok(())
        }
    }
}

/// One value (`version`, `info`) through `--format`: "json" prints it on one line, else
/// the Go template runs over it; a newline follows, as Docker's.
pub fn print_formatted(format: &str, value: &Value) -> color_eyre::Result<()> {
    let text = if format.trim() == "json" {
        serde_json::to_string(value)?
    } else {
        parse_template(format)?
            .render(value)
            .map_err(template_error)?
    };
    writeln!(std::io::stdout().lock(), "{text}")?;
    Ok(())
}

fn parse_template(text: &str) -> color_eyre::Result<Template> {
    Template::parse(text).map_err(template_error)
}

/// Docker's words for a template that fails to parse or to run.
fn template_error(e: super::template::TemplateError) -> color_eyre::Report {
    eyre!("template parsing error: {e}")
}

/// Go's tabwriter as Docker sets it up (minimum cell width 10, padding 3, blanks): every
/// tab-terminated cell is padded to its column's width; the text after a line's last tab
/// is left as it is. Like Go's, a column's width holds over a block of consecutive lines
/// that have that column.
pub fn tabwrite(text: &str) -> String {
    let lines: Vec<Vec<&str>> = text.split('\n').map(|l| l.split('\t').collect()).collect();
    let mut widths: Vec<Vec<usize>> = lines.iter().map(|cells| vec![0; cells.len() - 1]).collect();
    column_widths(&lines, 0, &mut widths);
    let mut out = String::with_capacity(text.len());
    for (i, (cells, widths)) in lines.iter().zip(&widths).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for (cell, width) in cells.iter().zip(widths) {
            out.push_str(cell);
            let pad = width.saturating_sub(cell.chars().count());
            out.extend(std::iter::repeat_n(' ', pad));
        }
        out.push_str(cells.last().copied().unwrap_or_default());
    }
    out
}

const TAB_MIN_WIDTH: usize = 10;
const TAB_PADDING: usize = 3;

/// Widths of column `col` for each block of consecutive lines that have it, then of the
/// columns after it within each block.
fn column_widths(lines: &[Vec<&str>], col: usize, widths: &mut [Vec<usize>]) {
    let has = |cells: &Vec<&str>| col + 1 < cells.len();
    let mut i = 0;
    while i < lines.len() {
        if !has(&lines[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut width = TAB_MIN_WIDTH;
        while i < lines.len() && has(&lines[i]) {
            width = width.max(lines[i][col].chars().count() + TAB_PADDING);
            i += 1;
        }
        for w in &mut widths[start..i] {
            w[col] = width;
        }
        column_widths(&lines[start..i], col + 1, &mut widths[start..i]);
    }
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

#[cfg(test)]
mod tests {
    use super::tabwrite;

    #[test]
    fn tabwrite_pads_cells_to_ten_or_the_widest_plus_three() {
        let text = "CONTAINER ID\tNAMES\tSTATUS\nabc\tweb\tUp 2 seconds\n";
        assert_eq!(
            tabwrite(text),
            "CONTAINER ID   NAMES     STATUS\nabc            web       Up 2 seconds\n"
        );
    }

    #[test]
    fn tabwrite_leaves_text_without_tabs_and_empty_cells_padded() {
        assert_eq!(tabwrite("plain\n"), "plain\n");
        assert_eq!(
            tabwrite("a\t\tc\nbb\tx\tc"),
            "a                   c\nbb        x         c"
        );
        // A line with fewer cells ends the column block above it, as in Go.
        assert_eq!(
            tabwrite("a\tb\nc\nlonger-cell\td"),
            "a         b\nc\nlonger-cell   d"
        );
    }
}
