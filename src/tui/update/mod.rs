//! The one place the dashboard's state changes: a message in, effects out. No terminal and
//! no engine here, so key sequences are tested as plain function calls. This file routes
//! each message and action to the feature that owns it (one file each below).

mod build;
mod detail;
mod files;
mod layers;
mod list;
mod logs;
mod mouse;
mod popups;
mod preview;
mod projects;
mod pull;
mod tabs;
#[cfg(test)]
pub(crate) mod testing;
mod yank;

#[cfg(test)]
pub(crate) use build::tests as build_testing;
#[cfg(test)]
pub(crate) use layers::tests as layers_testing;
pub use popups::split_words;

use crossterm::event::KeyEvent;

use super::action::{Action, Context};
use super::detail::ContainerTab;
use super::effect::{ContainerOp, Effect};
use super::keymap::Resolved;
use super::line::History;
use super::logs::LogInput;
use super::msg::Msg;
use super::state::{App, Cursor, Detail, Popup, View};

/// Rows a page key moves in the build view's short list of wasted paths.
const PAGE: isize = 10;

/// Up, down and the page keys on a list's cursor of `len` rows: a page is the rows the
/// list showed at its last frame.
pub(super) fn move_cursor(cursor: &mut Cursor, action: Action, len: usize) {
    match action {
        Action::PageUp => cursor.page(-1, len),
        Action::PageDown => cursor.page(1, len),
        Action::Up => cursor.move_by(-1, len),
        _ => cursor.move_by(1, len),
    }
}

pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    if matches!(msg, Msg::Done { .. } | Msg::VerbOutput { .. }) && !app.busy.is_empty() {
        app.busy.remove(0);
    }
    let mut effects = step(app, msg);
    list::unmark_after(app, &effects);
    effects.extend(preview::follow_selection(app));
    effects.extend(list::measure_volumes_on_screen(app));
    // What the user started and waits for shows in the footer until it reports back.
    app.busy
        .extend(effects.iter().filter_map(Effect::busy_text));
    effects
}

fn step(app: &mut App, msg: Msg) -> Vec<Effect> {
    app.dirty = true;
    match msg {
        Msg::Key(key) => on_key(app, key),
        Msg::Mouse { kind, column, row } => mouse::on_mouse(app, kind, column, row),
        Msg::Resize => Vec::new(),
        Msg::Tick => {
            // The Projects pane reads its files again now and then: an edit shows
            // without an engine event.
            let mut effects = on_tick(app);
            effects.extend(projects::on_tick(app));
            effects
        }
        Msg::Loaded(result) => list::on_loaded(app, result),
        Msg::LinksChanged => {
            // Nothing on screen changes until the networks are read again.
            app.dirty = false;
            vec![Effect::LoadNetworks]
        }
        Msg::Networks(Ok(states)) => {
            let kept = selected_rows(app, &[View::Networks]);
            app.snapshot.networks = states;
            reselect(app, kept);
            Vec::new()
        }
        Msg::Networks(Err(e)) => {
            app.say(format!("reading the networks: {e}"), true);
            Vec::new()
        }
        Msg::NetworkSample { states, rates } => detail::on_network_sample(app, states, rates),
        Msg::VolumeSizes(sizes) => {
            app.volume_sizes.extend(sizes);
            Vec::new()
        }
        Msg::Stats(stats) => {
            app.dirty = app.view == View::Containers || app.container_detail().is_some();
            // Sorted by CPU or memory, the rows move with each sample.
            let kept = match app.sort.by_usage() {
                true => selected_rows(app, &[View::Containers]),
                false => Vec::new(),
            };
            app.stats.update(stats, std::time::Instant::now());
            reselect(app, kept);
            Vec::new()
        }
        Msg::Events(events) => list::on_events(app, events),
        Msg::Detail(Ok(data)) => detail::on_data(app, *data),
        Msg::Preview { id, read } => preview::on_preview(app, id, read),
        Msg::Detail(Err(e)) => {
            app.say(e, true);
            Vec::new()
        }
        Msg::Done { what, result } => {
            match result {
                Ok(()) => app.say(what, false),
                Err(e) => app.say(e, true),
            }
            vec![Effect::Reload]
        }
        Msg::VerbStarted { pid, line } => popups::on_verb_started(app, pid, line),
        Msg::VerbChunk { pid, text } => popups::on_verb_chunk(app, pid, &text),
        Msg::VerbOutput {
            pid,
            line,
            code,
            output,
        } => popups::on_verb_output(app, pid, line, code, output),
        Msg::HandedBack { what, result } => {
            match result {
                // 130: ended by the user's own ctrl-c, the way out of `logs -f`.
                Ok(0 | 130) => {}
                Ok(code) => app.say(format!("{what} exited {code}"), true),
                Err(e) => app.say(e, true),
            }
            vec![Effect::Reload]
        }
        Msg::Listed {
            side,
            container,
            result,
        } => files::on_listed(app, side, &container, result),
        Msg::CopyEntry { index, name } => files::on_copy_entry(app, index, name),
        Msg::CopyTick => Vec::new(),
        Msg::Copied(result) => files::on_copied(app, result),
        Msg::PullEvents(events) => pull::on_events(app, &events),
        Msg::Pulled(result) => pull::on_pulled(app, result),
        Msg::BuildEvents(events) => build::on_events(app, &events),
        Msg::Built(result) => build::on_built(app, result),
        Msg::Efficiency(result) => build::on_efficiency(app, result),
        Msg::ProjectFiles(read) => projects::on_files(app, read),
        Msg::ProjectLogs(result) => projects::on_logs(app, result),
        Msg::BuildNotKept(e) => {
            app.say(e, true);
            Vec::new()
        }
    }
}

fn on_tick(app: &mut App) -> Vec<Effect> {
    app.now = chrono::Utc::now();
    // A verb still running a tick after it started shows its popup, where x ends it.
    if let Some(verb) = &mut app.verb {
        verb.ticks = verb.ticks.saturating_add(1);
        if verb.ticks > 1 && app.popup.is_none() {
            app.popup = Some(Popup::Verb { back: 0 });
            return Vec::new();
        }
    }
    // While stats come (each two seconds), their frame shows the new time too: one frame
    // instead of three, unless a status on screen counts seconds.
    let mut dirty = app.shows_clock() && (!app.stats_live || app.clock_in_seconds());
    if let Some(status) = &mut app.status {
        status.ttl = status.ttl.saturating_sub(1);
        if status.ttl == 0 {
            app.status = None;
            dirty = true;
        }
    }
    app.dirty = dirty;
    // The logs tab follows the log while it is open and following.
    let mut effects = logs::tick(app);
    effects.extend(preview::on_tick(app));
    effects
}

/// The selected row of each of `views`, by what it is (see [`App::row_key`]).
pub(super) fn selected_rows(app: &App, views: &[View]) -> Vec<(View, String)> {
    let cursors = [
        (View::Containers, &app.containers),
        (View::Images, &app.images),
        (View::Volumes, &app.volumes),
        (View::Networks, &app.networks),
        (View::Projects, &app.projects_cursor),
        (View::Events, &app.events_cursor),
    ];
    cursors
        .into_iter()
        .filter(|(view, _)| views.contains(view))
        // On the newest event, the selection stays on the newest as events come in.
        .filter(|(view, cursor)| *view != View::Events || cursor.selected > 0)
        .filter_map(|(view, cursor)| Some((view, app.row_key(view, cursor.selected)?)))
        .collect()
}

/// After the rows changed under them, the rows `selected_rows` kept are selected again
/// wherever they moved, so a key pressed next acts on the row the user chose (a stats
/// sample reordering the list by CPU must not turn `s` on another container). A row gone
/// leaves its cursor where it was, within the list.
pub(super) fn reselect(app: &mut App, kept: Vec<(View, String)>) {
    for (view, key) in kept {
        if let Some(at) = app.row_index(view, &key) {
            app.cursor_of(view).selected = at;
        }
    }
    clamp_cursors(app);
}

pub(super) fn clamp_cursors(app: &mut App) {
    let lens = [
        app.visible_containers().len(),
        app.visible_images().len(),
        app.visible_volumes().len(),
        app.visible_events().len(),
        app.visible_networks().len(),
    ];
    app.containers.clamp(lens[0]);
    app.images.clamp(lens[1]);
    app.volumes.clamp(lens[2]);
    app.events_cursor.clamp(lens[3]);
    app.networks.clamp(lens[4]);
    let projects = app.visible_projects().len();
    app.projects_cursor.clamp(projects);
}

fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let before = typing(app);
    let effects = on_key_typed(app, key);
    if typing(app) != before {
        app.line.reset();
    }
    effects
}

fn on_key_typed(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    if let Some(popup) = app.popup.take() {
        return popups::on_popup_key(app, popup, key);
    }
    if app.filtering {
        return on_filter_key(app, key);
    }
    let action = match app
        .keymap
        .resolve(context(app), app.pending_key.take(), &key)
    {
        Resolved::Action(action) => action,
        Resolved::Pending(first) => {
            app.pending_key = Some(first);
            return Vec::new();
        }
        Resolved::Nothing => return Vec::new(),
    };
    if app.files.is_some() {
        return files::files_action(app, action);
    }
    apply(app, action)
}

/// Where the user is, for the keymap's table to look a key up in first: the file view
/// over everything, else the detail on top (its logs tab its own), else a pane's list.
pub(super) fn context(app: &App) -> Context {
    if app.files.is_some() {
        return Context::Files;
    }
    match app.details.last() {
        Some(Detail::Container(detail)) if detail.tab == ContainerTab::Logs => Context::Logs,
        Some(Detail::Image(_)) => Context::Layers,
        Some(_) => Context::Detail,
        None if app.view == View::Projects => Context::Projects,
        None => Context::List,
    }
}

/// Keys while `/` is typed: into the log search of an open container detail, the tree
/// search of the layer view, else the list's filter, with the shared line editor. The
/// detail's search never touches the list's filter or selection.
fn on_filter_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    // The logs tab's search (`/`) and filter (`&`) are the log view's own.
    if app.container_detail().is_some() {
        let typed = popups::typed(app, &key, |_| true);
        if matches!(
            typed,
            popups::Typed::Action(Action::Submit | Action::Cancel)
        ) {
            app.filtering = false;
        }
        return logs::typed(app, typed);
    }
    let typed = popups::typed(app, &key, popups::single_line);
    let mut text = app.filter_text().to_owned();
    match typed {
        popups::Typed::Action(Action::Submit) => {
            app.filtering = false;
            app.line.remember(History::Filter, &text);
        }
        popups::Typed::Action(Action::Cancel) => {
            app.filtering = false;
            text.clear();
        }
        ref other => {
            if !popups::walk_history(app, History::Filter, &mut text, other) {
                popups::edit_line(app, &mut text, other);
            }
        }
    }
    if text == app.filter_text() {
        return Vec::new();
    }
    if app.image_detail().is_some() {
        layers::search(app, move |t| *t = text);
    } else {
        // The selected row stays selected while the filter shows it; else the first
        // row is, as the best match (not whichever row took its place).
        let kept = selected_rows(app, &[app.view]);
        app.filter = text;
        let shown = kept
            .iter()
            .any(|(view, key)| app.row_index(*view, key).is_some());
        reselect(app, kept);
        if !shown {
            app.cursor_mut().selected = 0;
        }
        return Vec::new();
    }
    clamp_cursors(app);
    Vec::new()
}

/// Which popup is open and whether `/` is typed: when that changes, the line editor
/// starts afresh.
fn typing(app: &App) -> (Option<std::mem::Discriminant<Popup>>, bool) {
    (
        app.popup.as_ref().map(std::mem::discriminant),
        app.filtering,
    )
}

/// Applies a named action to the state.
pub fn apply(app: &mut App, action: Action) -> Vec<Effect> {
    match action {
        Action::Quit => {
            app.quit = true;
            vec![Effect::Quit]
        }
        Action::Help => {
            app.popup = Some(Popup::Help { page: 0 });
            Vec::new()
        }
        Action::Back => detail::back(app),
        Action::Up | Action::Down | Action::PageUp | Action::PageDown if app.build_view() => {
            let by = match action {
                Action::Up => -1,
                Action::Down => 1,
                Action::PageUp => -PAGE,
                _ => PAGE,
            };
            build::move_by(app, by)
        }
        Action::Open if app.build_view() => build::open_wasted(app),
        Action::CancelPull if app.build_view() => build::cancel(app),
        Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
            let by = match action {
                Action::Up => -1,
                Action::Down => 1,
                Action::PageUp => -PAGE,
                _ => PAGE,
            };
            detail::move_by(app, action, by).unwrap_or_else(|| {
                let len = app.rows_in_view();
                move_cursor(app.cursor_mut(), action, len);
                Vec::new()
            })
        }
        Action::Top | Action::Bottom if app.image_detail().is_some() => {
            layers::to_end(app, action == Action::Bottom)
        }
        Action::LayerFocus
        | Action::Collapse
        | Action::CollapseAll
        | Action::ShowAdded
        | Action::ShowChanged
        | Action::ShowRemoved
        | Action::ShowUnchanged => layers::action(app, action).unwrap_or_default(),
        // On the logs tab: following again, or its oldest line.
        Action::Top | Action::Bottom if logs::shown(app) => {
            logs::end(app, action == Action::Bottom)
        }
        Action::Top | Action::Bottom if app.details.last().is_some() => {
            detail::to_end(app, action == Action::Bottom).unwrap_or_default()
        }
        Action::Top => {
            app.cursor_mut().selected = 0;
            Vec::new()
        }
        Action::Bottom => {
            let len = app.rows_in_view();
            app.cursor_mut().selected = len.saturating_sub(1);
            Vec::new()
        }
        Action::NextView | Action::PrevView => {
            let by = if action == Action::NextView { 1 } else { -1 };
            list::switch_view(app, app.view.shift(by))
        }
        Action::ShowContainers => list::switch_view(app, View::Containers),
        Action::ShowImages => list::switch_view(app, View::Images),
        Action::ShowVolumes => list::switch_view(app, View::Volumes),
        Action::ShowNetworks => list::switch_view(app, View::Networks),
        Action::ShowEvents => list::switch_view(app, View::Events),
        Action::ShowProjects => list::switch_view(app, View::Projects),
        Action::ProjectUp
        | Action::ProjectDown
        | Action::ProjectRestart
        | Action::ProjectRecreate
        | Action::ProjectRebuild
        | Action::ProjectLogs
        | Action::ProjectProfile => projects::action(app, action),
        Action::Open => detail::open(app),
        Action::NextTab => detail::shift_tab(app, 1),
        Action::PrevTab => detail::shift_tab(app, -1),
        Action::Filter => {
            app.filtering = detail::filters(app).unwrap_or(true);
            if app.filtering {
                logs::start_typing(app, LogInput::Search);
            }
            Vec::new()
        }
        Action::LogFilter => {
            app.filtering = logs::start_typing(app, LogInput::Filter);
            Vec::new()
        }
        Action::ToggleAll => {
            let kept = selected_rows(app, &[View::Containers]);
            app.show_all = !app.show_all;
            reselect(app, kept);
            Vec::new()
        }
        Action::Sort => {
            app.next_sort();
            app.say(format!("sorted by {}", app.sort.title()), false);
            Vec::new()
        }
        Action::Mark => {
            list::mark_selected(app);
            Vec::new()
        }
        Action::Start => list::container_op(app, ContainerOp::Start),
        Action::Stop => list::container_op(app, ContainerOp::Stop),
        Action::Restart => list::container_op(app, ContainerOp::Restart),
        Action::Kill => list::container_op(app, ContainerOp::Kill),
        Action::PauseContainer => list::container_op(app, list::pause_or_unpause(app)),
        Action::Remove => list::remove(app),
        Action::Create => list::create(app),
        Action::Prune => list::prune(app),
        Action::Exec => list::running_target(app)
            .map(Effect::Shell)
            .into_iter()
            .collect(),
        Action::Attach => list::attach(app),
        Action::RunNew => popups::open_run_form(app),
        Action::Command => popups::open_command(app, "", ""),
        Action::Connect => list::network_verb(app, "network connect "),
        Action::Disconnect => list::network_verb(app, "network disconnect "),
        Action::Refresh => vec![Effect::Reload],
        Action::Pull => pull::open(app),
        Action::Build => build::open(app),
        Action::ToggleScope => detail::toggle_scope(app),
        Action::Pause
        | Action::Wrap
        | Action::NextMatch
        | Action::PrevMatch
        | Action::Timestamps
        | Action::Colours
        | Action::SaveLog
        | Action::LogRange => logs::action(app, action),
        Action::ChangesOnly => detail::changes_only(app),
        Action::Files => files::open_files(app),
        Action::TabConfig => tabs::open_tab(app, ContainerTab::Config),
        Action::TabMounts => tabs::open_tab(app, ContainerTab::Mounts),
        Action::TabNetwork => tabs::open_tab(app, ContainerTab::Network),
        Action::TabStats => tabs::open_tab(app, ContainerTab::Stats),
        Action::Logs => tabs::open_tab(app, ContainerTab::Logs),
        Action::TabDiff => tabs::open_tab(app, ContainerTab::Diff),
        Action::Parent => detail::parent(app),
        // Only the file view and the pull dialog, which handle their own keys.
        Action::CopyFiles | Action::CancelCopy | Action::CancelPull => Vec::new(),
        Action::Yank => yank::yank(app),
        Action::Mouse => mouse::toggle(app),
        // The keymap's [popup] and [input] tables: only where a popup or text entry has
        // the keys.
        Action::Yes
        | Action::No
        | Action::Close
        | Action::StopVerb
        | Action::ScrollDown
        | Action::ScrollUp
        | Action::ScrollPageDown
        | Action::ScrollPageUp
        | Action::Submit
        | Action::Cancel
        | Action::DeleteChar
        | Action::KillLine
        | Action::KillWord
        | Action::LineStart
        | Action::LineEnd
        | Action::CursorLeft
        | Action::CursorRight
        | Action::HistoryPrev
        | Action::HistoryNext
        | Action::Complete
        | Action::NextField
        | Action::PrevField => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::update::testing::*;

    #[test]
    fn a_custom_keymap_changes_what_keys_do() {
        let mut keymap = Keymap::default();
        keymap
            .apply("\"x\" = \"container.stop\"\n\"s\" = \"none\"")
            .unwrap();
        let mut app = app_with(keymap);
        assert!(keys(&mut app, "s").is_empty());
        assert!(matches!(
            keys(&mut app, "x").as_slice(),
            [Effect::Containers {
                op: ContainerOp::Stop,
                ..
            }]
        ));
    }

    /// Opens the selected container's detail on its logs tab.
    fn to_logs(app: &mut App) {
        key(app, KeyCode::Enter);
        while app.container_detail().unwrap().tab != ContainerTab::Logs {
            key(app, KeyCode::Right);
        }
    }

    #[test]
    fn a_key_means_what_the_table_of_where_the_user_is_says() {
        let mut app = app_with(Keymap::default());
        assert_eq!(context(&app), Context::List);
        // o sorts the list; on a detail the list's keys are not there.
        let sort = app.sort;
        keys(&mut app, "o");
        assert_ne!(app.sort, sort);
        let sort = app.sort;
        key(&mut app, KeyCode::Enter);
        assert_eq!(context(&app), Context::Detail);
        keys(&mut app, "o");
        assert_eq!(app.sort, sort);
        // p pulls from a detail (the top level's), pauses on the logs tab ([logs]).
        keys(&mut app, "p");
        assert!(matches!(app.popup, Some(Popup::PullInput { .. })));
        key(&mut app, KeyCode::Esc);
        assert!(app.popup.is_none());
        to_logs(&mut app);
        assert_eq!(context(&app), Context::Logs);
        keys(&mut app, "p");
        assert!(app.popup.is_none());
        assert!(!app.container_detail().unwrap().logs.follow);
        // The detail's keys serve on its logs tab too.
        keys(&mut app, "h");
        assert_ne!(app.container_detail().unwrap().tab, ContainerTab::Logs);
        key(&mut app, KeyCode::Esc);
        keys(&mut app, "p");
        assert!(matches!(app.popup, Some(Popup::PullInput { .. })));
    }

    #[test]
    fn an_old_style_user_keymap_rebinds_keys_in_every_context() {
        let mut keymap = Keymap::default();
        keymap
            .apply(concat!(
                "\"w\" = \"none\"\n",
                "\"o\" = \"container.stop\"\n",
                "\"p\" = [\"logs.pause\", \"image.pull\"]\n",
            ))
            .unwrap();
        let mut app = app_with(keymap);
        let stops = |effects: Vec<Effect>| {
            matches!(
                effects.as_slice(),
                [Effect::Containers {
                    op: ContainerOp::Stop,
                    ..
                }]
            )
        };
        assert!(stops(keys(&mut app, "o")), "list");
        keys(&mut app, "p");
        assert!(matches!(app.popup, Some(Popup::PullInput { .. })));
        key(&mut app, KeyCode::Esc);
        to_logs(&mut app);
        app.busy.clear();
        assert!(stops(keys(&mut app, "o")), "logs");
        keys(&mut app, "w");
        assert!(!app.container_detail().unwrap().logs.wrap);
        // The list still takes the first that fits: on the logs tab, pause.
        keys(&mut app, "p");
        assert!(app.popup.is_none());
        assert!(!app.container_detail().unwrap().logs.follow);
    }

    #[test]
    fn filter_and_running_only_narrow_the_rows() {
        let mut app = app_with(Keymap::default());
        keys(&mut app, "/ol");
        assert!(app.filtering);
        // While typing, letters are text, not actions: no stop, no quit.
        assert!(keys(&mut app, "q").is_empty());
        key(&mut app, KeyCode::Backspace);
        key(&mut app, KeyCode::Enter);
        let shown: Vec<&str> = app
            .visible_containers()
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(shown, ["old"]);
        key(&mut app, KeyCode::Esc);
        keys(&mut app, "a");
        let shown: Vec<&str> = app
            .visible_containers()
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(shown, ["web"]);
    }

    #[test]
    fn an_action_shows_as_busy_until_it_reports_back() {
        let mut app = app_with(Keymap::default());
        keys(&mut app, "js");
        assert_eq!(app.busy, ["stopping job"]);
        let frame = crate::tui::once::render_text(&app, 100, 8);
        assert!(frame.contains("stopping job…"), "{frame}");
        update(
            &mut app,
            Msg::Done {
                what: "stopped job".into(),
                result: Ok(()),
            },
        );
        assert!(app.busy.is_empty());
        let frame = crate::tui::once::render_text(&app, 100, 8);
        assert!(frame.contains("stopped job"), "{frame}");
    }

    #[test]
    fn the_clock_draws_alone_only_while_no_stats_are_coming() {
        let mut app = app_with(Keymap::default());
        app.dirty = false;
        update(&mut app, Msg::Tick);
        assert!(app.dirty, "web's uptime moved");
        app.stats_live = true;
        app.dirty = false;
        update(&mut app, Msg::Tick);
        assert!(!app.dirty, "the stats' frame shows the time");
        // Just started, "Up 5 seconds" moves each second: the clock draws.
        let now = chrono::Utc::now();
        app.snapshot.containers[0].state.started_at = Some(now - chrono::Duration::seconds(5));
        app.dirty = false;
        update(&mut app, Msg::Tick);
        assert!(app.dirty, "web's uptime counts seconds");
        // A minute on, its uptime moves each minute: the stats' frames suffice.
        app.snapshot.containers[0].state.started_at = Some(now - chrono::Duration::seconds(61));
        app.dirty = false;
        update(&mut app, Msg::Tick);
        assert!(!app.dirty, "web's uptime counts minutes");
    }
}
