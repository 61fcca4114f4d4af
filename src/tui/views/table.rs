//! The table the five list panes share: frame and title, the note in place of an empty
//! list, the header, the rows that fit scrolled to keep the selection on screen, the
//! selected and marked rows' styles and the column widths. A pane supplies its columns
//! and, for each row, its cells.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Cell, Row, Table};
use ratatui::Frame;

use super::{body_rows, dim_note, pane};
use crate::tui::state::Cursor;
use crate::tui::theme::Theme;

/// How wide a column is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// Exactly this many cells.
    Length(u16),
    /// As wide as its longest cell on screen or its header, whichever is wider, at most
    /// this (a longer cell is cut).
    Widest(usize),
    /// A share of the room the other columns leave.
    Fill(u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub header: &'static str,
    pub width: Width,
    /// A cell too long keeps its end, after an ellipsis (a path, whose last part says
    /// which it is); else it keeps its start, an ellipsis at the column's edge.
    pub keeps_end: bool,
}

impl Column {
    pub const fn new(header: &'static str, width: Width) -> Column {
        Column {
            header,
            width,
            keeps_end: false,
        }
    }

    /// Long cells keep their end: `…/volumes/vol-10` rather than `/tmp/…/volumes/vol-1`.
    pub const fn keeping_end(self) -> Column {
        Column {
            keeps_end: true,
            ..self
        }
    }
}

/// `text`'s last `width` columns, an ellipsis first, when it is longer.
pub(super) fn keep_end(text: String, width: usize) -> String {
    let len = text.chars().count();
    if len <= width || width == 0 {
        return text;
    }
    let tail: String = text.chars().skip(len - (width - 1)).collect();
    format!("…{tail}")
}

/// `text`'s first `width` columns, the last an ellipsis, when it is longer: a name cut
/// short is not taken for another (`berth-test/bu…`, not `berth-test/bus`).
pub(super) fn keep_start(text: String, width: usize) -> String {
    if text.chars().count() <= width || width == 0 {
        return text;
    }
    let head: String = text.chars().take(width - 1).collect();
    format!("{head}…")
}

/// One cell's text and, if it has its own, its style (a container's status colour).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCell {
    pub text: String,
    pub style: Option<Style>,
}

impl From<String> for TableCell {
    fn from(text: String) -> TableCell {
        TableCell { text, style: None }
    }
}

impl From<&str> for TableCell {
    fn from(text: &str) -> TableCell {
        text.to_owned().into()
    }
}

/// One row: its cells, one per column, and whether it is marked for a bulk action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRow {
    pub cells: Vec<TableCell>,
    pub marked: bool,
}

impl TableRow {
    pub fn new<C: Into<TableCell>>(cells: impl IntoIterator<Item = C>, marked: bool) -> TableRow {
        TableRow {
            cells: cells.into_iter().map(Into::into).collect(),
            marked,
        }
    }
}

/// A list pane as a table.
pub struct PaneTable<'a> {
    /// The frame's title, with the count the pane shows.
    pub title: String,
    pub columns: &'a [Column],
    /// The dim note drawn in place of the table when there are no rows.
    pub empty: &'a str,
}

impl PaneTable<'_> {
    /// Draws the rows of `rows` that fit, `row` making each one's cells (told whether it
    /// is the selected one); `cursor` is scrolled to keep the selection on screen.
    pub fn draw<T>(
        &self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        rows: &[T],
        cursor: &Cursor,
        row: impl Fn(&T, bool) -> TableRow,
    ) {
        let block = pane(self.title.clone(), theme);
        if rows.is_empty() {
            frame.render_widget(dim_note(self.empty, theme).block(block), area);
            return;
        }
        let height = body_rows(area);
        let offset = cursor.scroll_into_view(height);
        let on_screen: Vec<(TableRow, bool)> = rows
            .iter()
            .enumerate()
            .skip(offset)
            .take(height)
            .map(|(i, r)| {
                let selected = i == cursor.selected;
                (row(r, selected), selected)
            })
            .collect();
        let widths: Vec<Constraint> = self
            .columns
            .iter()
            .enumerate()
            .map(|(at, column)| match column.width {
                Width::Length(n) => Constraint::Length(n),
                Width::Fill(n) => Constraint::Fill(n),
                Width::Widest(max) => {
                    let cells = on_screen.iter().filter_map(|(r, _)| r.cells.get(at));
                    Constraint::Length(widest(cells, column.header, max))
                }
            })
            .collect();
        // The widths the table will give the columns (as ratatui's Table lays them out:
        // from the start, a space between): a long cell is cut to its column with a mark.
        let inner = block.inner(area).width;
        let drawn: Vec<u16> = ratatui::layout::Layout::horizontal(widths.clone())
            .flex(ratatui::layout::Flex::Start)
            .spacing(1)
            .split(Rect::new(0, 0, inner, 1))
            .iter()
            .map(|r| r.width)
            .collect();
        let table_rows = on_screen.into_iter().map(|(mut r, selected)| {
            for (at, width) in drawn.iter().enumerate() {
                let (Some(cell), Some(column)) = (r.cells.get_mut(at), self.columns.get(at)) else {
                    continue;
                };
                let text = std::mem::take(&mut cell.text);
                cell.text = match column.keeps_end {
                    true => keep_end(text, usize::from(*width)),
                    false => keep_start(text, usize::from(*width)),
                };
            }
            let style = if selected && r.marked {
                // The mark stays visible under the cursor: its modifiers on the selection.
                theme
                    .selected
                    .add_modifier(theme.marked.add_modifier)
                    .remove_modifier(theme.marked.sub_modifier)
            } else if selected {
                theme.selected
            } else if r.marked {
                theme.marked
            } else {
                Style::new()
            };
            Row::new(r.cells.into_iter().map(|cell| match cell.style {
                Some(style) => Cell::from(cell.text).style(style),
                None => Cell::from(cell.text),
            }))
            .style(style)
        });
        let header = Row::new(self.columns.iter().map(|c| c.header)).style(theme.header);
        frame.render_widget(
            Table::new(table_rows, widths).header(header).block(block),
            area,
        );
    }
}

/// The width of a column: its longest cell or its header, whichever is wider, at most
/// `max`.
fn widest<'a>(cells: impl Iterator<Item = &'a TableCell>, header: &str, max: usize) -> u16 {
    let longest = cells.map(|c| c.text.chars().count()).max().unwrap_or(0);
    longest.max(header.len()).min(max) as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    /// A cell cut at its column's edge says so with an ellipsis, at the end it loses.
    #[test]
    fn a_cut_cell_ends_in_an_ellipsis() {
        assert_eq!(
            keep_start("berth-test/busybox".into(), 14),
            "berth-test/bu…"
        );
        assert_eq!(keep_start("busybox".into(), 7), "busybox");
        assert_eq!(keep_end("/var/lib/berth/volumes/v1".into(), 8), "…umes/v1");
    }

    /// The widest column follows the rows on screen only, and the selection scrolls
    /// into view.
    #[test]
    fn the_widest_column_fits_the_rows_on_screen_and_the_selection_stays_visible() {
        let names: Vec<String> = (0..10).map(|i| "n".repeat(i + 1)).collect();
        let columns = [
            Column::new("NAME", Width::Widest(8)),
            Column::new("X", Width::Fill(1)),
        ];
        let table = PaneTable {
            title: " T ".into(),
            columns: &columns,
            empty: "none",
        };
        let cursor = Cursor {
            selected: 6,
            ..Default::default()
        };
        let mut terminal = Terminal::new(TestBackend::new(20, 6)).unwrap();
        terminal
            .draw(|frame| {
                let theme = Theme::default();
                table.draw(frame, frame.area(), &theme, &names, &cursor, |n, _| {
                    TableRow::new([n.as_str(), "x"], false)
                })
            })
            .unwrap();
        // Three rows fit; the seventh is the last of them.
        assert_eq!(cursor.offset.get(), 4);
        let text: Vec<String> = (0..6)
            .map(|y| {
                (0..20)
                    .map(|x| terminal.backend().buffer()[(x, y)].symbol().to_owned())
                    .collect()
            })
            .collect();
        // nnnnnnn (7) is the widest on screen: the X column starts after it and a space.
        assert_eq!(text[1], "│NAME    X         │");
        assert_eq!(text[4], "│nnnnnnn x         │");
    }
}
