//! Draws one frame from the state: the pane tabs, the current view or detail, the footer
//! and any popup. Reads the state only.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::action::Action;
use super::detail::ContainerTab;
use super::popups;
use super::state::{App, Detail, Popup, View};
use super::theme::Theme;
use super::views;

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let [top, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(footer_rows(app, frame.area())),
    ])
    .areas(frame.area());
    app.width.set(frame.area().width);
    app.height.set(frame.area().height);
    draw_tabs(frame, top, app, theme);
    match app.details.last() {
        Some(Detail::Container(detail)) => {
            views::container_detail::draw(frame, body, app, detail, theme)
        }
        Some(Detail::Image(image)) => views::image_layers::draw(frame, body, image, app.now, theme),
        Some(Detail::Volume(volume)) => views::volume_files::draw(frame, body, volume, theme),
        Some(Detail::Network(network)) => {
            views::networks::draw_detail(frame, body, app, network, theme)
        }
        Some(Detail::Build) => views::build::draw(frame, body, app, theme),
        None => match app.view {
            View::Containers
                if super::preview::on_screen(app, frame.area().width, frame.area().height) =>
            {
                views::preview::draw(frame, body, app, theme)
            }
            View::Containers => views::containers::draw(frame, body, app, theme),
            View::Images => views::images::draw(frame, body, app, theme),
            View::Volumes => views::volumes::draw(frame, body, app, theme),
            View::Networks => views::networks::draw(frame, body, app, theme),
            View::Events => views::events::draw(frame, body, app, theme),
            View::Projects => views::projects::draw(frame, body, app, theme),
        },
    }
    if app.details.is_empty() && app.files.is_none() {
        draw_marked(frame, body, app, theme);
    }
    // The file view covers the pane it was opened from.
    if let Some(files) = &app.files {
        views::files::draw(frame, body, app, files, theme);
    }
    draw_footer(frame, footer, app, theme);
    match &app.popup {
        Some(Popup::Help { page }) => popups::help::draw(frame, app, *page, theme),
        Some(Popup::Confirm { question, .. }) => {
            popups::confirm::draw(frame, question, &app.keymap, theme)
        }
        Some(Popup::Command { input, tail }) => {
            popups::command::draw(frame, input, tail, &app.line.candidates, &app.keymap, theme)
        }
        Some(Popup::Output { title, text, back }) => {
            popups::output::draw(frame, title, text, *back, true, theme)
        }
        Some(Popup::Verb { back }) => {
            if let Some(verb) = &app.verb {
                let title = if verb.stopping {
                    format!(":{} (stopping)", verb.line)
                } else {
                    format!(
                        ":{} (running: {} or {} ends it)",
                        verb.line,
                        app.keymap.hint(Action::StopVerb),
                        app.keymap.hint(Action::Close)
                    )
                };
                popups::output::draw(frame, &title, &verb.text, *back, false, theme)
            }
        }
        Some(Popup::RunForm(form)) => {
            let cursor = app.line.cursor(&form.values[form.focus]);
            popups::run_form::draw(frame, form, cursor, theme)
        }
        Some(Popup::Copy) => popups::progress::draw(frame, app, theme),
        Some(Popup::PullInput { input, error }) => popups::pull::draw_input(
            frame,
            (input, app.line.cursor(input)),
            error.as_deref(),
            &app.keymap,
            theme,
        ),
        Some(Popup::Pull) => popups::pull::draw(frame, app, theme),
        Some(Popup::BuildForm(form)) => {
            let cursor = app.line.cursor(&form.values[form.focus]);
            popups::build_form::draw(frame, form, cursor, &app.keymap, theme)
        }
        Some(Popup::ProjectLogs { logs, back }) => {
            popups::project_logs::draw(frame, logs, *back, theme)
        }
        None => {}
    }
}

/// The tab bar's brand, before the pane titles.
const BRAND: &str = " berth ";

/// The tab bar for a screen `width` columns wide: the brand (if there is room) and each
/// pane's title, as wide as fits: `1 Containers (12)`, else `1 Containers 12`, else the
/// count of the pane shown only (so the last title is not cut as counts grow).
fn tab_bar(app: &App, width: u16) -> (&'static str, Vec<(View, String)>) {
    let counts = [
        app.snapshot.containers.len(),
        app.snapshot.images.len(),
        app.snapshot.volumes.len(),
        app.snapshot.networks.len(),
        app.events.len(),
        crate::tui::projects::sources(&app.snapshot.containers).len(),
    ];
    let labels = |compact: bool| -> Vec<(View, String)> {
        View::ALL
            .iter()
            .zip(counts)
            .enumerate()
            .map(|(i, (view, count))| {
                let text = if compact {
                    format!(" {} {} {count} ", i + 1, view.title())
                } else {
                    format!(" {} {} ({count}) ", i + 1, view.title())
                };
                (*view, text)
            })
            .collect()
    };
    let counted = |view: View| app.view == view;
    let len =
        |labels: &[(View, String)]| labels.iter().map(|(_, t)| t.chars().count()).sum::<usize>();
    let width = usize::from(width);
    let full = labels(false);
    if BRAND.len() + len(&full) <= width {
        return (BRAND, full);
    }
    let compact = labels(true);
    // The last title's trailing space may go.
    if len(&compact) > width + 1 {
        let bare = View::ALL
            .iter()
            .zip(counts)
            .enumerate()
            .map(|(i, (view, count))| {
                let text = match counted(*view) {
                    true => format!(" {} {} {count} ", i + 1, view.title()),
                    false => format!(" {} {} ", i + 1, view.title()),
                };
                (*view, text)
            })
            .collect();
        return ("", bare);
    }
    let brand = if BRAND.len() + len(&compact) <= width {
        BRAND
    } else {
        ""
    };
    (brand, compact)
}

/// The pane whose title is drawn at `column` of the tab bar.
pub fn tab_at(app: &App, column: u16) -> Option<View> {
    let (brand, labels) = tab_bar(app, app.width.get());
    let mut start = brand.chars().count();
    let column = usize::from(column);
    for (view, label) in labels {
        let end = start + label.chars().count();
        if (start..end).contains(&column) {
            return Some(view);
        }
        start = end;
    }
    None
}

fn draw_tabs(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let (brand, labels) = tab_bar(app, area.width);
    let mut spans = vec![Span::styled(brand, theme.title)];
    for (view, text) in labels {
        let style = if view == app.view {
            theme.selected
        } else {
            theme.dim
        };
        spans.push(Span::styled(text, style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// "3 marked" on the pane's top border, at its right end, while rows are marked.
fn draw_marked(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    if app.marked.is_empty() || area.width < 20 {
        return;
    }
    let text = format!(" {} marked ", app.marked.len());
    let width = text.chars().count() as u16;
    let at = Rect {
        x: area.right().saturating_sub(width + 2),
        y: area.y,
        width,
        height: 1,
    };
    frame.render_widget(Paragraph::new(Line::styled(text, theme.marked)), at);
}

/// The footer's height: one row, or as many as an error needs to be read whole (rmi's
/// cause after its long image name), up to a third of the screen.
pub(crate) fn footer_rows(app: &App, screen: Rect) -> u16 {
    match &app.status {
        Some(status) if status.error && !app.filtering && app.busy.is_empty() => {
            let width = status.text.chars().count() + 2;
            let rows = width.div_ceil(usize::from(screen.width.max(1)));
            rows.clamp(1, usize::from(screen.height / 3).max(1)) as u16
        }
        _ => 1,
    }
}

fn draw_footer(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let line = if app.filtering {
        let text = app.filter_text();
        let (before, after) = text.split_at(app.line.cursor(text));
        Line::from(vec![
            Span::styled(app.filter_prompt(), theme.key),
            Span::raw(before.to_owned()),
            Span::styled("█", theme.dim),
            Span::raw(after.to_owned()),
        ])
    } else if let Some(what) = app.busy.first() {
        // One spinner frame a second: the clock tick that redraws it.
        const SPINNER: [char; 4] = ['⠋', '⠙', '⠸', '⠴'];
        let frame = SPINNER[(app.now.timestamp() as usize) % SPINNER.len()];
        let more = match app.busy.len() {
            1 => String::new(),
            n => format!(" (+{} more)", n - 1),
        };
        Line::from(Span::styled(format!(" {frame} {what}…{more} "), theme.info))
    } else if let Some(status) = &app.status {
        let style = if status.error {
            theme.error
        } else {
            theme.info
        };
        Line::from(Span::styled(format!(" {} ", status.text), style))
    } else {
        hints(app, theme)
    };
    let mut footer = Paragraph::new(line);
    // Only a long error takes more rows; the hints are cut at the edge as ever.
    if area.height > 1 {
        footer = footer.wrap(Wrap { trim: false });
    }
    frame.render_widget(footer, area);
}

/// The most useful keys for where the user is, from the keymap in use.
fn hints(app: &App, theme: &Theme) -> Line<'static> {
    let tab = app.container_detail().map(|d| d.tab);
    let actions: &[Action] = match (
        app.view,
        app.container_detail().is_some() || app.image_detail().is_some(),
    ) {
        _ if app.files.is_some() => &[
            Action::NextView,
            Action::Open,
            Action::Parent,
            Action::Mark,
            Action::CopyFiles,
            Action::Back,
        ],
        _ if app.build_view() => &[
            Action::Back,
            Action::Down,
            Action::Open,
            Action::Build,
            Action::CancelPull,
        ],
        _ if tab == Some(ContainerTab::Logs) => &[
            Action::Back,
            Action::Filter,
            Action::LogFilter,
            Action::NextMatch,
            Action::Pause,
            Action::Bottom,
            Action::Wrap,
            Action::Timestamps,
            Action::SaveLog,
            Action::NextTab,
        ],
        _ if tab == Some(ContainerTab::Diff) => {
            &[Action::Back, Action::NextTab, Action::ChangesOnly]
        }
        (View::Containers, true) => &[Action::Back, Action::NextTab, Action::Exec, Action::Stop],
        (View::Containers, false) => &[
            Action::Open,
            Action::Start,
            Action::Stop,
            Action::Remove,
            Action::Exec,
            Action::Filter,
            Action::ToggleAll,
        ],
        (View::Images, true) => &[
            Action::Back,
            Action::Down,
            Action::ToggleScope,
            Action::ChangesOnly,
        ],
        (View::Images, false) => &[
            Action::Open,
            Action::RunNew,
            Action::Pull,
            Action::Build,
            Action::Remove,
            Action::Mark,
            Action::Filter,
        ],
        (View::Volumes, _) if app.volume_detail().is_some() => {
            &[Action::Back, Action::Open, Action::Parent]
        }
        (View::Volumes, _) => &[
            Action::Open,
            Action::Create,
            Action::Remove,
            Action::Prune,
            Action::Filter,
        ],
        (View::Networks, _) if app.network_detail().is_some() => {
            &[Action::Back, Action::Down, Action::Remove]
        }
        (View::Networks, _) => &[
            Action::Open,
            Action::Create,
            Action::Remove,
            Action::Prune,
            Action::Mark,
            Action::Filter,
        ],
        (View::Events, _) => &[Action::Filter],
        (View::Projects, _) => &[
            Action::ProjectLogs,
            Action::ProjectUp,
            Action::ProjectDown,
            Action::ProjectRestart,
            Action::ProjectRecreate,
            Action::ProjectRebuild,
            Action::ProjectProfile,
            Action::Filter,
        ],
    };
    let mut spans = Vec::new();
    // A pull whose dialog is hidden shows here while it runs.
    let hidden = app.popup != Some(Popup::Pull);
    if let Some(pull) = app.pull.as_ref().filter(|p| p.running() && hidden) {
        spans.push(Span::styled(format!(" ↓ {} ", pull.summary()), theme.info));
    }
    // So does a build whose view is hidden.
    if let Some(build) = app
        .build
        .as_ref()
        .filter(|b| b.running() && !app.build_view())
    {
        spans.push(Span::styled(format!(" ⚒ {} ", build.summary()), theme.info));
    }
    // First, so a narrow terminal still shows why clicks do nothing.
    if !app.mouse {
        let key = app
            .keymap
            .key_for(Action::Mouse)
            .unwrap_or_else(|| Action::Mouse.name().to_owned());
        spans.push(Span::styled(
            format!(" mouse released ({key}) "),
            theme.marked,
        ));
    }
    // Help and quit lead, so a narrow terminal cuts the least needed hints, not these.
    for action in [Action::Help, Action::Quit]
        .iter()
        .chain(actions)
        .chain(&[Action::Command])
    {
        if let Some(key) = app.keymap.key_for(*action) {
            spans.push(Span::styled(format!(" {key}"), theme.key));
            // On the logs tab `/` searches, and G follows.
            let label = match (tab, action) {
                (Some(ContainerTab::Logs), Action::Filter) => "search",
                (Some(ContainerTab::Logs), Action::Bottom) => "follow",
                _ => action.short(),
            };
            spans.push(Span::styled(format!(" {label}"), theme.dim));
        }
    }
    if !app.filter.is_empty() {
        spans.push(Span::styled(
            format!("  filter: {}", app.filter),
            theme.marked,
        ));
    }
    Line::from(spans)
}

/// A centred rectangle of the given size, clipped to `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

#[cfg(test)]
mod footer_tests {
    use crate::tui::keymap::Keymap;
    use crate::tui::once::render_text;
    use crate::tui::state::App;

    #[test]
    fn a_long_error_wraps_whole_in_the_footer() {
        let mut app = App::new(Keymap::default());
        let error = format!(
            "removing image registry.example.com/{}/app:1.2.3: conflict: unable to delete \
             (must be forced): the image is being used by stopped container 0123456789ab",
            "team".repeat(8)
        );
        app.say(error.clone(), true);
        let frame = render_text(&app, 80, 24);
        let lines: Vec<&str> = frame.lines().collect();
        assert_eq!(lines.len(), 24);
        // Every word of it is on screen, the cause at the end too, below the pane.
        let footer = lines[lines.len() - 3..].join(" ");
        for word in error.split_whitespace() {
            assert!(footer.contains(word), "{word} missing from\n{frame}");
        }
        assert!(lines[20].starts_with('└'), "{frame}");
        // Help over it stays inside the pane's frame, above its bottom border.
        app.popup = Some(crate::tui::state::Popup::Help { page: 0 });
        let frame = render_text(&app, 80, 24);
        let lines: Vec<&str> = frame.lines().collect();
        assert!(lines[20].starts_with("└──"), "{frame}");
        assert!(lines[19].starts_with("│ └"), "{frame}");
        app.popup = None;
        // A short one keeps the one row.
        app.say("no such container", true);
        let frame = render_text(&app, 80, 24);
        assert!(frame.lines().nth(22).unwrap().starts_with('└'), "{frame}");
    }
}

#[cfg(test)]
mod tab_bar_tests {
    use super::*;
    use crate::tui::keymap::Keymap;

    /// At 80 columns with counts too long for every title, only the shown pane keeps its
    /// count and no title is cut.
    #[test]
    fn a_narrow_tab_bar_drops_counts_before_cutting_a_title() {
        let mut app = App::new(Keymap::default());
        let running = crate::engine::Status::Running;
        app.snapshot.containers = (0..10_000)
            .map(|i| crate::tui::update::testing::container(&format!("c{i}"), running, 1))
            .collect();
        let (brand, labels) = tab_bar(&app, 80);
        let text: String = labels.iter().map(|(_, t)| t.as_str()).collect();
        assert!(brand.len() + text.chars().count() <= 80, "{text}");
        assert!(text.ends_with(" 6 Projects "), "{text}");
        assert!(text.starts_with(" 1 Containers 10000 "), "{text}");
        assert!(!text.contains("Images 0"), "{text}");
        // Wide, every count.
        let (_, labels) = tab_bar(&app, 160);
        assert!(labels.iter().any(|(_, t)| t.contains("Images (0)")));
    }
}
