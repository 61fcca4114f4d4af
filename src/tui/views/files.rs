//! The file view: the host's directory on the left, the container's on the right; the
//! active pane's border is lit.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Block, Clear, Row, Table};
use ratatui::Frame;

use super::{body_rows, dim_note, pane};
use crate::engine::{DirEntry, PathKind, MAX_ENTRIES};
use crate::format::human_size;
use crate::tui::files::{FilesView, Pane, Side};
use crate::tui::state::{App, Cursor};
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, _app: &App, files: &FilesView, theme: &Theme) {
    frame.render_widget(Clear, area);
    let [left, right] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(area);
    files.split.set(right.x);
    draw_pane(frame, left, files, Side::Host, "host", theme);
    let name = files.container.name.as_str();
    draw_pane(frame, right, files, Side::Container, name, theme);
}

fn draw_pane(
    frame: &mut Frame,
    area: Rect,
    files: &FilesView,
    side: Side,
    who: &str,
    theme: &Theme,
) {
    let pane_state: &Pane = files.pane(side);
    let dir = pane_state.dir().unwrap_or("…");
    let mut block = pane(format!(" {who}:{dir} "), theme);
    if files.active == side {
        block = block.border_style(theme.title);
    }
    let Some(listing) = &pane_state.listing else {
        frame.render_widget(dim_note("Loading…", theme).block(block), area);
        return;
    };
    if listing.truncated {
        block = block.title_bottom(Span::styled(
            format!(" first {MAX_ENTRIES} entries only "),
            theme.error,
        ));
    } else if !pane_state.marked.is_empty() {
        block = block.title_bottom(Span::styled(
            format!(" {} marked ", pane_state.marked.len()),
            theme.marked,
        ));
    }
    let active = files.active == side;
    let row = |i: usize, entry: &DirEntry| {
        let marked = pane_state.marked.contains(&entry.name);
        let style = if i == pane_state.cursor.selected && active {
            theme.selected
        } else if marked {
            theme.marked
        } else {
            Style::new()
        };
        let mark = if marked { "*" } else { " " };
        Row::new([mark.to_owned(), entry_text(entry), entry_size(entry)]).style(style)
    };
    let widths = [
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(8),
    ];
    let entries = &listing.entries;
    draw_entries(
        frame,
        area,
        block,
        entries,
        &pane_state.cursor,
        widths,
        row,
        theme,
    );
}

/// A directory's entries as a table scrolled to the cursor, one row each from `row`
/// (given the entry's index), or a note when the directory is empty.
#[allow(clippy::too_many_arguments)]
pub fn draw_entries<'a>(
    frame: &mut Frame,
    area: Rect,
    block: Block<'a>,
    entries: &[DirEntry],
    cursor: &Cursor,
    widths: [Constraint; 3],
    row: impl Fn(usize, &DirEntry) -> Row<'a>,
    theme: &Theme,
) {
    if entries.is_empty() {
        frame.render_widget(dim_note("Empty directory.", theme).block(block), area);
        return;
    }
    let height = body_rows(area) + 1;
    let offset = cursor.scroll_into_view(height);
    let rows = entries
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, entry)| row(i, entry));
    frame.render_widget(Table::new(rows, widths).block(block), area);
}

/// A file's size; nothing for directories, links and the rest.
pub fn entry_size(entry: &DirEntry) -> String {
    match entry.kind {
        PathKind::File => human_size(entry.size),
        _ => String::new(),
    }
}

/// `dir/`, `link -> target`, `data/ [volume]`.
pub fn entry_text(entry: &DirEntry) -> String {
    let mut text = entry.name.clone();
    match entry.kind {
        PathKind::Dir => text.push('/'),
        PathKind::Symlink => {
            text.push_str(" -> ");
            text.push_str(entry.link_target.as_deref().unwrap_or("?"));
        }
        PathKind::File | PathKind::Other => {}
    }
    if let Some(kind) = entry.mount {
        text.push_str(&format!(" [{}]", kind.as_str()));
    }
    text
}
