//! The preview pane of a wide screen: under the containers list, the selected container's
//! CPU and memory and the last lines of its log, as lazydocker and oxker lay out their
//! screens. Its state, when it shows, and the one read of the log it makes.

use super::logs::{last_lines, LogLine};
use super::state::{App, View};
use crate::engine::{Engine, Result};

/// The narrowest and lowest screen the pane shows on: below, the list keeps it all.
pub const MIN_WIDTH: u16 = 120;
pub const MIN_HEIGHT: u16 = 24;
/// Log lines read for the pane, whatever the screen's height: its bound.
pub const LINES: usize = 50;

/// The last lines of the selected container's log, as read for the pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// The container's ID.
    pub id: String,
    /// None while the first read is on its way; the read's error, if it failed.
    pub lines: Option<std::result::Result<Vec<LogLine>, String>>,
}

/// Whether a screen of `width` x `height` has room for the pane.
pub fn fits(width: u16, height: u16) -> bool {
    width >= MIN_WIDTH && height >= MIN_HEIGHT
}

/// Whether the pane is on a screen of `width` x `height`: the containers list with a
/// container selected, nothing over it, room for both.
pub fn on_screen(app: &App, width: u16, height: u16) -> bool {
    fits(width, height)
        && app.view == View::Containers
        && app.details.is_empty()
        && app.files.is_none()
        && app.selected_container().is_some()
}

/// Whether the pane is on screen, as the last frame measured it.
pub fn shown(app: &App) -> bool {
    on_screen(app, app.width.get(), app.height.get())
}

/// The last [`LINES`] lines of the container's log, read and cleaned as the log view
/// reads them (one path: the same sanitising, SGR colours kept as styles).
pub fn load(engine: &Engine, id: &str) -> Result<Vec<LogLine>> {
    last_lines(engine, id, LINES)
}
