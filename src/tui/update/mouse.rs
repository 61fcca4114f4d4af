//! Clicks and the wheel.

use std::time::Instant;

use super::{apply, detail, files, list};
use crate::tui::action::Action;
use crate::tui::effect::Effect;
use crate::tui::mouse::{Click, MouseKind, BODY_TOP, DOUBLE_CLICK};
use crate::tui::render;
use crate::tui::state::App;
use crate::tui::views::container_detail;

/// Clicks and the wheel; nothing while a popup or the filter line has the keys.
pub(super) fn on_mouse(app: &mut App, kind: MouseKind, column: u16, row: u16) -> Vec<Effect> {
    if app.popup.is_some() || app.filtering {
        app.dirty = false;
        return Vec::new();
    }
    match kind {
        // The wheel does what the arrow keys do where the user is.
        MouseKind::ScrollUp | MouseKind::ScrollDown => {
            let action = if kind == MouseKind::ScrollUp {
                Action::Up
            } else {
                Action::Down
            };
            if app.files.is_some() {
                files::files_action(app, action)
            } else {
                apply(app, action)
            }
        }
        MouseKind::Click => on_click(app, column, row),
    }
}

/// A click on a pane title switches pane; on a row selects it; a second click on the same
/// row soon after opens it, as enter does.
pub(super) fn on_click(app: &mut App, column: u16, row: u16) -> Vec<Effect> {
    let now = Instant::now();
    // The same row of the other file pane is another row.
    let same_pane = |c: &Click| {
        app.files
            .as_ref()
            .is_none_or(|f| f.side_at(c.column) == f.side_at(column))
    };
    let double = app
        .last_click
        .is_some_and(|c| c.row == row && same_pane(&c) && now.duration_since(c.at) < DOUBLE_CLICK);
    // After a double click the next click starts afresh, so a third does not open again.
    app.last_click = (!double).then_some(Click {
        at: now,
        row,
        column,
    });
    if row == 0 {
        return match render::tab_at(app, column) {
            Some(view) if view != app.view => list::switch_view(app, view),
            _ => Vec::new(),
        };
    }
    if app.files.is_some() {
        return click_in_files(app, column, row, double);
    }
    if let Some(detail) = app.container_detail_mut() {
        // The detail's tab strip sits on the first row inside its border.
        return match container_detail::tab_at(column).filter(|_| row == BODY_TOP + 1) {
            Some(tab) if tab != detail.tab => detail::show_tab(detail, tab),
            _ => Vec::new(),
        };
    }
    // The layer view's two lists and tree, and the network diagram, scroll with the wheel
    // and keys.
    if app.image_detail().is_some() || app.network_detail().is_some() {
        return Vec::new();
    }
    let picked = match app.volume_detail_mut() {
        Some(volume) => {
            let len = volume.listing.as_ref().map_or(0, |l| l.entries.len());
            let index = volume.cursor.row_at(row, false, len);
            if let Some(index) = index {
                volume.cursor.selected = index;
            }
            index.is_some()
        }
        None => {
            let len = app.rows_in_view();
            let cursor = app.cursor_mut();
            let index = cursor.row_at(row, true, len);
            if let Some(index) = index {
                cursor.selected = index;
            }
            index.is_some()
        }
    };
    if picked && double {
        apply(app, Action::Open)
    } else {
        Vec::new()
    }
}

/// A click makes its pane the active one and selects the row; a double click opens it.
pub(super) fn click_in_files(app: &mut App, column: u16, row: u16, double: bool) -> Vec<Effect> {
    let Some(files) = &mut app.files else {
        return Vec::new();
    };
    let side = files.side_at(column);
    files.active = side;
    let pane = files.pane_mut(side);
    let len = pane.listing.as_ref().map_or(0, |l| l.entries.len());
    match pane.cursor.row_at(row, false, len) {
        Some(index) => {
            pane.cursor.selected = index;
            if double {
                files::files_action(app, Action::Open)
            } else {
                Vec::new()
            }
        }
        None => Vec::new(),
    }
}

/// Releases the mouse to the terminal (to select text) or takes it back.
pub(super) fn toggle(app: &mut App) -> Vec<Effect> {
    app.mouse = !app.mouse;
    let text = if app.mouse {
        "mouse captured: click and scroll"
    } else {
        "mouse released: select text with the terminal"
    };
    app.say(text, false);
    vec![Effect::SetMouse(app.mouse)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::update::testing::*;

    #[test]
    fn the_wheel_moves_the_selection_and_scrolls_a_detail() {
        let mut app = app_with(Keymap::default());
        mouse(&mut app, MouseKind::ScrollDown, (10, 5));
        mouse(&mut app, MouseKind::ScrollDown, (10, 5));
        assert_eq!(app.containers.selected, 2);
        mouse(&mut app, MouseKind::ScrollUp, (10, 5));
        assert_eq!(
            app.selected_container().map(|c| c.name.as_str()),
            Some("job")
        );
        open_logs(&mut app, &crate::tui::logs::tests::FakeLog::numbered(10));
        // In the logs, up goes back in time, as the arrow key does.
        mouse(&mut app, MouseKind::ScrollUp, (10, 5));
        mouse(&mut app, MouseKind::ScrollUp, (10, 5));
        mouse(&mut app, MouseKind::ScrollDown, (10, 5));
        let bottom = |app: &App| {
            let logs = &app.container_detail().unwrap().logs;
            logs.bottom_line().map(|l| l.text.text.clone())
        };
        assert_eq!(bottom(&app).as_deref(), Some("line 8"));
        // A popup has the input: the wheel leaves what is under it alone.
        keys(&mut app, "?");
        mouse(&mut app, MouseKind::ScrollUp, (10, 5));
        assert_eq!(bottom(&app).as_deref(), Some("line 8"));
        assert_eq!(app.popup, Some(Popup::Help { page: 0 }));
    }

    #[test]
    fn a_click_selects_the_row_under_it_in_a_scrolled_list() {
        let mut app = app_with(Keymap::default());
        let at = cell_of(&app, "old", 12);
        mouse(&mut app, MouseKind::Click, at);
        assert_eq!(
            app.selected_container().map(|c| c.name.as_str()),
            Some("old")
        );
        // The header and the tab bar's empty end select nothing.
        let at = cell_of(&app, "NAME", 12);
        mouse(&mut app, MouseKind::Click, at);
        mouse(&mut app, MouseKind::Click, (150, 0));
        assert_eq!(app.containers.selected, 2);
        // Seven rows leave two for data: with old selected, job and old are shown.
        let (column, row) = cell_of(&app, "job", 7);
        assert_eq!(app.containers.offset.get(), 1);
        mouse(&mut app, MouseKind::Click, (column, row));
        assert_eq!(
            app.selected_container().map(|c| c.name.as_str()),
            Some("job")
        );
        // Two rows below it is the pane's bottom border, not a row.
        mouse(&mut app, MouseKind::Click, (column, row + 2));
        assert_eq!(app.containers.selected, 1);
    }

    #[test]
    fn a_click_on_a_pane_title_switches_pane() {
        let mut app = app_with(Keymap::default());
        let (column, row) = cell_of(&app, "Images", 12);
        assert_eq!(row, 0);
        mouse(&mut app, MouseKind::Click, (column, row));
        assert_eq!(app.view, View::Images);
        let at = cell_of(&app, "Events (", 12);
        mouse(&mut app, MouseKind::Click, at);
        assert_eq!(app.view, View::Events);
        // The brand is no pane.
        let at = cell_of(&app, "berth", 12);
        mouse(&mut app, MouseKind::Click, at);
        assert_eq!(app.view, View::Events);
    }

    #[test]
    fn a_double_click_opens_the_row_and_a_slow_one_does_not() {
        let mut app = app_with(Keymap::default());
        let job = cell_of(&app, "job", 12);
        let old = cell_of(&app, "old", 12);
        // Quick clicks on two rows are two single clicks.
        mouse(&mut app, MouseKind::Click, job);
        mouse(&mut app, MouseKind::Click, old);
        assert!(app.container_detail().is_none());
        // As if the first click on job were long ago.
        mouse(&mut app, MouseKind::Click, job);
        let click = app.last_click.as_mut().expect("a click is kept");
        click.at = click.at.checked_sub(DOUBLE_CLICK * 2).expect("clock");
        mouse(&mut app, MouseKind::Click, job);
        assert!(app.container_detail().is_none());
        mouse(&mut app, MouseKind::Click, job);
        let job_id = app.snapshot.containers[1].id.to_string();
        assert_eq!(app.container_detail().map(|d| d.id.clone()), Some(job_id));
    }

    #[test]
    fn m_releases_the_mouse_and_takes_it_back() {
        let mut app = app_with(Keymap::default());
        assert!(app.mouse);
        assert_eq!(keys(&mut app, "M"), [Effect::SetMouse(false)]);
        assert!(!app.mouse);
        app.status = None;
        let frame = crate::tui::once::render_text(&app, 200, 8);
        assert!(frame.contains("mouse released (M)"), "{frame}");
        assert_eq!(keys(&mut app, "M"), [Effect::SetMouse(true)]);
        app.status = None;
        let frame = crate::tui::once::render_text(&app, 200, 8);
        assert!(!frame.contains("mouse released"), "{frame}");
    }

    #[test]
    fn a_click_in_the_file_view_picks_the_pane_and_row_and_a_double_click_descends() {
        let mut app = files_open();
        let b = cell_of(&app, " b ", 12);
        mouse(&mut app, MouseKind::Click, b);
        let files = app.files.as_ref().expect("file view open");
        assert_eq!((files.active, files.host.cursor.selected), (Side::Host, 1));
        let bin = cell_of(&app, "bin", 12);
        mouse(&mut app, MouseKind::Click, bin);
        let files = app.files.as_ref().expect("file view open");
        assert_eq!(files.active, Side::Container);
        assert_eq!(files.inside.cursor.selected, 1);
        match mouse(&mut app, MouseKind::Click, bin).as_slice() {
            [Effect::ListDir(request)] => {
                assert_eq!(request.side, Side::Container);
                assert_eq!(request.path, "/bin");
            }
            other => panic!("expected a listing of /bin, got {other:?}"),
        }
    }

    #[test]
    fn a_click_on_a_detail_tab_opens_it() {
        let mut app = app_with(Keymap::default());
        key(&mut app, KeyCode::Enter);
        let logs = cell_of(&app, "Logs", 12);
        let effects = mouse(&mut app, MouseKind::Click, logs);
        assert_eq!(
            app.container_detail().map(|d| d.tab),
            Some(ContainerTab::Logs)
        );
        assert!(matches!(effects.as_slice(), [Effect::LoadDetail(_)]));
        let config = cell_of(&app, "Config", 12);
        mouse(&mut app, MouseKind::Click, config);
        assert_eq!(
            app.container_detail().map(|d| d.tab),
            Some(ContainerTab::Config)
        );
        // The divider between two titles is no tab.
        let (column, row) = cell_of(&app, "│ Mounts", 12);
        mouse(&mut app, MouseKind::Click, (column, row));
        assert_eq!(
            app.container_detail().map(|d| d.tab),
            Some(ContainerTab::Config)
        );
    }
}
