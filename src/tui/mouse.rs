//! Mouse input in the dashboard's own terms, and where on screen a click lands.

use std::time::{Duration, Instant};

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MouseKind {
    /// The left button went down.
    Click,
    ScrollUp,
    ScrollDown,
}

/// Two clicks on the same row within this time are a double click.
pub const DOUBLE_CLICK: Duration = Duration::from_millis(400);

/// The last left click, kept to tell a double click.
#[derive(Debug, Clone, Copy)]
pub struct Click {
    pub at: Instant,
    pub row: u16,
    pub column: u16,
}

/// The mouse events the dashboard uses, as (kind, column, row); the rest (moves, drags,
/// other buttons) are dropped here.
pub fn from_event(event: &MouseEvent) -> Option<(MouseKind, u16, u16)> {
    let kind = match event.kind {
        MouseEventKind::Down(MouseButton::Left) => MouseKind::Click,
        MouseEventKind::ScrollUp => MouseKind::ScrollUp,
        MouseEventKind::ScrollDown => MouseKind::ScrollDown,
        _ => return None,
    };
    Some((kind, event.column, event.row))
}

/// The screen row where the body begins: row 0 is the tab bar (see `render::draw`).
pub const BODY_TOP: u16 = 1;

/// Which row of a list, counting from the first one on screen, is at screen `row`; `None`
/// on the tab bar, the pane's top border or its header. A list pane fills the body: its top
/// border on [`BODY_TOP`], then a header row when `header` (the tables of the main panes;
/// the file and volume listings have none), then the data. Add the cursor's offset for the
/// row's index.
pub fn list_row(row: u16, header: bool) -> Option<usize> {
    let first = BODY_TOP + 1 + u16::from(header);
    row.checked_sub(first).map(usize::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_count_below_the_border_and_header() {
        assert_eq!(list_row(0, true), None);
        assert_eq!(list_row(2, true), None);
        assert_eq!(list_row(3, true), Some(0));
        assert_eq!(list_row(7, true), Some(4));
        assert_eq!(list_row(1, false), None);
        assert_eq!(list_row(2, false), Some(0));
    }
}
