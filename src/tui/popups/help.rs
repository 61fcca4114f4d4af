//! `?`: every key of the keymap in use, a section per table: first the tables of where
//! the user is (the logs tab's, the detail's, the top level), then the others'; in as many
//! columns as the screen's height needs and its width allows, in pages when even those
//! don't fit. The popup sits inside the pane's border, never over it.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use crate::format::truncate;
use crate::tui::action::{Action, Context};
use crate::tui::render::centered;
use crate::tui::state::App;
use crate::tui::theme::Theme;
use crate::tui::views::pane;

/// The keys' part of a line, with the space after it.
const KEYS: usize = 14;

/// A section's title: where its keys work.
fn title(context: Context) -> &'static str {
    match context {
        Context::Main => "Top level: panes, details, logs, files",
        Context::List => "[list] On a pane's rows",
        Context::Detail => "[detail] On an open detail",
        Context::Logs => "[logs] On the logs tab",
        Context::Layers => "[layers] In an image's layer view",
        Context::Files => "[files] In the file view",
        Context::Projects => "[projects] On the Projects pane",
        Context::Popup => "[popup] While a popup is open",
        Context::Input => "[input] While typing",
    }
}

/// Whether `action` moves about (the cursor, the panes, the app itself) rather than acting
/// on what is selected.
fn moves(action: Action) -> bool {
    let name = action.name();
    ["nav.", "view.", "app."]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

/// A help line: a section's title, or keys and what they do.
enum Entry {
    Title(&'static str),
    Keys(String, &'static str),
}

impl Entry {
    fn width(&self) -> usize {
        match self {
            Entry::Title(title) => title.chars().count().saturating_sub(KEYS + 1),
            Entry::Keys(_, help) => help.chars().count(),
        }
    }
}

pub fn draw(frame: &mut Frame, app: &App, page: usize, theme: &Theme) {
    let here = crate::tui::update::context(app).chain();
    let others = Context::ALL.into_iter().filter(|c| !here.contains(c));
    let entries: Vec<Entry> = here
        .iter()
        .copied()
        .chain(others)
        .flat_map(|context| {
            let mut keys = app.keymap.describe_in(context);
            // What acts on the selected row (start, stop, logs…) before moving about:
            // lazydocker's and k9s's help lead with the object's actions too.
            keys.sort_by_key(|(action, _)| moves(*action));
            let head = (!keys.is_empty()).then(|| Entry::Title(title(context)));
            head.into_iter().chain(
                keys.into_iter()
                    .map(|(action, keys)| Entry::Keys(keys.join(" "), action.help())),
            )
        })
        .collect();
    // Inside the pane's frame: below the tab bar and the pane's top border, above its
    // bottom border and the footer (more than a row while a long error is read whole).
    let screen = frame.area();
    let footer = crate::tui::render::footer_rows(app, screen);
    let room = Rect {
        x: screen.x + 1,
        y: screen.y + 2,
        width: screen.width.saturating_sub(2),
        height: screen.height.saturating_sub(3 + footer),
    };
    // Columns as wide as the longest line, so no help is cut unless the screen is narrower
    // than one line: a small screen gets pages rather than clipped words.
    let longest = entries.iter().map(Entry::width).max();
    let needed = (KEYS + 1 + longest.unwrap_or(0)) as u16;
    let layout = Pages::fit(entries.len(), needed, room.width, room.height);
    let page = page.min(layout.pages - 1);
    let per_page = layout.rows * layout.columns;
    let shown = &entries[(page * per_page).min(entries.len())..]
        [..per_page.min(entries.len().saturating_sub(page * per_page))];
    let area = centered(
        room,
        layout.width * layout.columns as u16 + 2,
        layout.rows as u16 + 2,
    );
    frame.render_widget(Clear, area);
    let title = if layout.pages > 1 {
        format!(
            " Keys {}/{} ({}/{} pages, any other key closes) ",
            page + 1,
            layout.pages,
            app.keymap.hint(Action::ScrollDown),
            app.keymap.hint(Action::ScrollUp)
        )
    } else {
        " Keys (any key closes) ".to_owned()
    };
    let block = pane(title, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let constraints = vec![Constraint::Length(layout.width); layout.columns];
    let areas = Layout::horizontal(constraints).split(inner);
    // One column of space between columns: a cut help text never runs into the next keys.
    let help_width = usize::from(layout.width).saturating_sub(KEYS + 1);
    for (chunk, column) in shown.chunks(layout.rows).zip(areas.iter()) {
        let lines: Vec<Line> = chunk
            .iter()
            .map(|entry| match entry {
                Entry::Title(title) => Line::from(Span::styled(
                    truncate(title, usize::from(layout.width).saturating_sub(1)),
                    theme.header,
                )),
                Entry::Keys(keys, help) => Line::from(vec![
                    Span::styled(format!("{:<KEYS$}", truncate(keys, KEYS - 1)), theme.key),
                    Span::raw(truncate(help, help_width)),
                ]),
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), *column);
    }
}

/// How the help's lines are laid out on a screen.
#[derive(Debug, PartialEq)]
struct Pages {
    columns: usize,
    rows: usize,
    /// Of one column.
    width: u16,
    pages: usize,
}

impl Pages {
    /// `needed`: the width of the longest line; `width` x `height`: the room for the
    /// popup, its border included.
    fn fit(entries: usize, needed: u16, width: u16, height: u16) -> Pages {
        let rows_fit = usize::from(height.saturating_sub(2)).max(1);
        let inner = width.saturating_sub(2).max(1);
        let columns_fit = usize::from(inner / needed.max(1)).max(1);
        let columns = entries.div_ceil(rows_fit).clamp(1, columns_fit);
        let rows = entries.div_ceil(columns).clamp(1, rows_fit);
        Pages {
            columns,
            rows,
            width: (inner / columns as u16).min(needed),
            pages: entries.div_ceil(rows * columns).max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wide_screen_takes_columns_and_a_small_one_pages() {
        // The room inside the pane of a 200x40 screen.
        let wide = Pages::fit(46, 60, 198, 36);
        assert_eq!((wide.columns, wide.rows, wide.pages), (2, 23, 1));
        assert_eq!(wide.width, 60);
        // 80x24: one whole column of 18 rows, on three pages.
        let small = Pages::fit(46, 60, 78, 20);
        assert_eq!((small.columns, small.rows, small.pages), (1, 18, 3));
        // Narrower than a line: the lines are cut to the room.
        let tiny = Pages::fit(46, 60, 28, 4);
        assert_eq!(
            (tiny.columns, tiny.rows, tiny.pages, tiny.width),
            (1, 2, 23, 26)
        );
    }

    fn frame_with_help(app: &mut App) -> String {
        crate::tui::update::apply(app, Action::Help);
        crate::tui::once::render_text(app, 100, 30)
    }

    #[test]
    fn help_leads_with_the_keys_of_where_the_user_is_inside_the_pane() {
        use crate::tui::keymap::Keymap;
        let mut app = App::new(Keymap::default());
        let frame = frame_with_help(&mut app);
        let sections: Vec<&str> = frame
            .lines()
            .filter_map(|l| {
                ["[list]", "Top level", "[detail]", "[logs]"]
                    .into_iter()
                    .find(|s| l.contains(s))
            })
            .collect();
        assert_eq!(sections[..2], ["[list]", "Top level"], "{frame}");
        // The containers' own actions on the first page, before moving about.
        for help in ["Start the container(s)", "Remove the selected object(s)"] {
            assert!(frame.contains(help), "{help}: {frame}");
        }
        let at = |text: &str| frame.find(text).unwrap_or(usize::MAX);
        assert!(at("Start the container(s)") < at("Move up"), "{frame}");
        // The pane's frame stays whole around the popup: its corners and edges.
        let lines: Vec<&str> = frame.lines().collect();
        let (top, bottom) = (lines[1], lines[lines.len() - 2]);
        assert!(top.starts_with('┌') && top.ends_with('┐'), "{frame}");
        assert!(bottom.starts_with('└') && bottom.ends_with('┘'), "{frame}");
        assert!(!top[3..top.len() - 3].contains('┌'), "{frame}");
        for line in &lines[2..lines.len() - 2] {
            assert!(line.starts_with('│') && line.ends_with('│'), "{frame}");
        }
    }
}
