//! Output helpers shared by every verb: aligned tables, JSON, and `--format`.

use std::io::Write;

use color_eyre::eyre::eyre;
use serde::Serialize;
use serde_json::Value;

use super::template::Template;
use crate::ops::docker_types;

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
        let mut out = shown_stdout();
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

/// The `k=v` pairs of `map`, in key order, joined with `separator`: a listing's Labels
/// field (`","`) and an event line's attributes (`", "`), as Docker prints them.
pub fn key_values(map: &std::collections::BTreeMap<String, String>, separator: &str) -> String {
    let pairs: Vec<String> = map.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.join(separator)
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
    shown_stdout().write_all(out.as_bytes())?;
    Ok(())
}

/// `inspect --format`: the JSON array without one (or with "json"), else the template
/// once per object, each followed by a newline.
pub fn print_inspect(format: Option<&str>, items: &[Value]) -> color_eyre::Result<()> {
    match format.map(str::trim) {
        None | Some("") | Some("json") => Ok(print_json(&docker_ordered(items))?),
        Some(text) => {
            let template = parse_template(text)?;
            let mut out = String::new();
            for item in items {
                let rendered = match docker_types::recognise(item) {
                    Some(ty) => template.render_typed(item, ty),
                    None => template.render(item),
                };
                out.push_str(&rendered.map_err(template_error)?);
                out.push('\n');
            }
            shown_stdout().write_all(out.as_bytes())?;
            Ok(())
        }
    }
}

/// Inspect objects in Docker's key order (each as its type declares its fields).
fn docker_ordered(items: &[Value]) -> Vec<OrderedItem<'_>> {
    items
        .iter()
        .map(|item| match docker_types::recognise(item) {
            Some(ty) => OrderedItem::Typed(docker_types::Ordered::of(item, ty)),
            None => OrderedItem::Plain(item),
        })
        .collect()
}

#[derive(Serialize)]
#[serde(untagged)]
enum OrderedItem<'a> {
    Typed(docker_types::Ordered<'a>),
    Plain(&'a Value),
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
    writeln!(shown_stdout(), "{text}")?;
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
    tabwrite_with(text, TAB_MIN_WIDTH, TAB_PADDING)
}

/// [`tabwrite`] with another minimum cell width and padding (Docker Compose's tables
/// use 4 and 2).
pub fn tabwrite_with(text: &str, min_width: usize, padding: usize) -> String {
    let lines: Vec<Vec<&str>> = text.split('\n').map(|l| l.split('\t').collect()).collect();
    let mut widths: Vec<Vec<usize>> = lines.iter().map(|cells| vec![0; cells.len() - 1]).collect();
    column_widths(&lines, 0, &mut widths, (min_width, padding));
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
/// columns after it within each block; `(min, padding)` as the tabwriter's.
fn column_widths(
    lines: &[Vec<&str>],
    col: usize,
    widths: &mut [Vec<usize>],
    (min, padding): (usize, usize),
) {
    let has = |cells: &Vec<&str>| col + 1 < cells.len();
    let mut i = 0;
    while i < lines.len() {
        if !has(&lines[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut width = min;
        while i < lines.len() && has(&lines[i]) {
            width = width.max(lines[i][col].chars().count() + padding);
            i += 1;
        }
        for w in &mut widths[start..i] {
            w[col] = width;
        }
        column_widths(
            &lines[start..i],
            col + 1,
            &mut widths[start..i],
            (min, padding),
        );
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

/// Asks a prune's yes/no question on stderr and reads the answer from stdin, as Docker's
/// prunes do also when stdin is not a terminal: only "y" or "Y" is yes; anything else,
/// or the end of input, is no. Every prune asks through here unless given -f, and so does
/// `compose rm`.
pub fn confirm(question: &str) -> std::io::Result<bool> {
    use std::io::{BufRead, Read};
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = Vec::new();
    // One line, and not an unbounded one.
    std::io::stdin()
        .lock()
        .take(4096)
        .read_until(b'\n', &mut answer)?;
    Ok(String::from_utf8_lossy(&answer)
        .trim()
        .eq_ignore_ascii_case("y"))
}

/// Every prune verb: asks Docker's question on the terminal unless `-f` (end of input
/// is no, and a script must say -f: asked also when stdin is not a terminal, as
/// Docker's), then prints what went in Docker's sections and the space freed.
pub fn prune(
    engine: &crate::engine::Engine,
    what: crate::ops::prune::Prune,
    force: bool,
) -> color_eyre::Result<i32> {
    use crate::engine::Removal;
    use crate::ops::prune::{prune, Confirm};
    let mut ask = confirm;
    let confirm = if force {
        Confirm::Yes
    } else {
        Confirm::Ask(&mut ask)
    };
    let Some(pruned) = prune(engine, what, confirm)? else {
        return Ok(0);
    };
    let section = |title: &str, lines: Vec<String>| {
        if !lines.is_empty() {
            println!("Deleted {title}:");
            for line in lines {
                println!("{line}");
            }
            println!();
        }
    };
    section(
        "Containers",
        pruned.containers.iter().map(ToString::to_string).collect(),
    );
    section("Volumes", pruned.volumes);
    section("Networks", pruned.networks);
    section(
        "Images",
        pruned
            .images
            .iter()
            .map(|removal| match removal {
                Removal::Untagged(r) => format!("untagged: {r}"),
                Removal::Deleted(id) => format!("deleted: {id}"),
            })
            .collect(),
    );
    if what.reports_space() {
        println!("Total reclaimed space: {}", human_size(pruned.reclaimed));
    }
    Ok(0)
}

/// Renders a multi-object verb's outcomes as Docker does, each as it comes: `done` prints
/// a success, an error is `Error: ...` on stderr; the exit code is 1 if any failed (an
/// excused error is shown but no failure).
pub fn report<'a, T, E: std::fmt::Display>(
    results: impl IntoIterator<Item = crate::ops::resolve::Named<'a, T, E>>,
    mut done: impl FnMut(&str, T),
) -> i32 {
    use crate::ops::resolve::{Named, Outcome};
    let mut failed = false;
    for Named { name, outcome } in results {
        match outcome {
            Outcome::Done(value) => done(name, value),
            Outcome::Excused(e) => eprintln!("Error: {e}"),
            Outcome::Failed(e) => {
                eprintln!("Error: {e}");
                failed = true;
            }
        }
    }
    i32::from(failed)
}

/// Stdout for text that holds strings a container or an image chose (names, labels,
/// commands, file names, events): on a terminal, control characters are shown as
/// `^[` (and C1 ones as their ESC form, `^[[` for U+009B) so they can't set the title,
/// write the clipboard (OSC 52) or move the cursor; piped, the bytes are kept as they
/// are, for scripts, as Docker's. Data streams (`logs`, `cp -`, `export`) don't use it.
pub fn shown_stdout() -> Shown<std::io::StdoutLock<'static>> {
    use std::io::IsTerminal;
    let stdout = std::io::stdout();
    let escape = stdout.is_terminal();
    Shown::new(stdout.lock(), escape)
}

/// A writer that escapes control characters, a line at a time, when told to.
pub struct Shown<W: Write> {
    inner: W,
    escape: bool,
    /// The part of a line not yet written (escaping needs whole characters).
    pending: Vec<u8>,
}

impl<W: Write> Shown<W> {
    pub fn new(inner: W, escape: bool) -> Shown<W> {
        Shown {
            inner,
            escape,
            pending: Vec::new(),
        }
    }

    /// Escapes and writes what is pending up to its last whole character.
    fn write_pending(&mut self, all: bool) -> std::io::Result<()> {
        // An incomplete character at the end waits for its other bytes, unless this is all.
        let whole = if all {
            self.pending.len()
        } else {
            crate::format::whole_utf8_len(&self.pending)
        };
        let text = String::from_utf8_lossy(&self.pending[..whole]);
        self.inner.write_all(escape_controls(&text).as_bytes())?;
        self.pending.drain(..whole);
        Ok(())
    }
}

impl<W: Write> Write for Shown<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.escape {
            return self.inner.write(buf);
        }
        self.pending.extend_from_slice(buf);
        if buf.contains(&b'\n') {
            self.write_pending(false)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.escape {
            self.write_pending(false)?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for Shown<W> {
    fn drop(&mut self) {
        if self.escape && !self.pending.is_empty() {
            let _ = self.write_pending(true);
        }
        let _ = self.inner.flush();
    }
}

/// `text` with its control characters (but newline and tab) in caret notation: ESC as
/// `^[`, DEL as `^?`, a C1 character as its ESC form (`^[[` for CSI).
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    let is_control = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c as u32 {
            _ if !is_control(c) => out.push(c),
            0x7f => out.push_str("^?"),
            code @ 0x80..=0x9f => {
                out.push_str("^[");
                out.push(char::from((code - 0x40) as u8));
            }
            code => {
                out.push('^');
                out.push(char::from((code as u8) ^ 0x40));
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

pub use crate::format::{binary_size, human_since, human_size};

#[cfg(test)]
mod tests {
    use super::tabwrite;

    #[test]
    fn control_characters_are_shown_not_sent() {
        use super::{escape_controls, Shown};
        use std::io::Write;
        assert_eq!(escape_controls("plain\tand\n"), "plain\tand\n");
        assert_eq!(
            escape_controls("a\x1b]52;c;aGk=\x07b\u{9b}2Jc\x7f"),
            "a^[]52;c;aGk=^Gb^[[2Jc^?"
        );
        // Split inside a character and inside a line: written once whole.
        let mut out = Vec::new();
        {
            let mut shown = Shown::new(&mut out, true);
            shown.write_all(b"x\xc2").unwrap();
            shown.write_all(b"\x9b1\x1b\n").unwrap();
        }
        assert_eq!(out, b"x^[[1^[\n");
        let mut raw = Vec::new();
        Shown::new(&mut raw, false)
            .write_all(b"\x1b]0;t\x07")
            .unwrap();
        assert_eq!(raw, b"\x1b]0;t\x07");
    }

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
