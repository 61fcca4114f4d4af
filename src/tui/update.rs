//! The one place the dashboard's state changes: a message in, effects out. No terminal and
//! no engine here, so key sequences are tested as plain function calls.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::detail::{
    ContainerDetail, ContainerTab, DetailData, DetailRequest, ImageDetail, NetworkDetail,
    VolumeDetail,
};
use super::effect::{ContainerOp, CopyJob, Effect, Target};
use super::files::{join, parent, Copying, FilesView, ListRequest, Side};
use super::form::RunForm;
use super::keymap::Resolved;
use super::mouse::{Click, MouseKind, BODY_TOP, DOUBLE_CLICK};
use super::msg::Msg;
use super::pull::{Phase, PullState};
use super::render;
use super::state::{App, Popup, VerbRun, View, EVENTS_KEPT};
use super::verb::needs_terminal;
use super::views::container_detail;
use crate::engine::container::record::Status;
use crate::engine::image::registry::Reference;
use crate::engine::image::TreeScope;
use crate::engine::network::record::BUILTIN_NETWORKS;
use crate::engine::storage::copy::PathKind;
use crate::engine::storage::listing::DirListing;
use crate::engine::storage::progress::Progress;
use crate::engine::Digest;

/// Rows a page key moves.
const PAGE: isize = 10;

pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    if matches!(msg, Msg::Done { .. } | Msg::VerbOutput { .. }) && !app.busy.is_empty() {
        app.busy.remove(0);
    }
    let effects = step(app, msg);
    // What the user started and waits for shows in the footer until it reports back.
    app.busy
        .extend(effects.iter().filter_map(Effect::busy_text));
    effects
}

fn step(app: &mut App, msg: Msg) -> Vec<Effect> {
    app.dirty = true;
    match msg {
        Msg::Key(key) => on_key(app, key),
        Msg::Mouse { kind, column, row } => on_mouse(app, kind, column, row),
        Msg::Resize => Vec::new(),
        Msg::Tick => on_tick(app),
        Msg::Loaded(Ok(snapshot)) => {
            app.snapshot = *snapshot;
            app.loaded = true;
            let known: std::collections::HashSet<&str> = app
                .snapshot
                .containers
                .iter()
                .map(|c| c.id.as_str())
                .collect();
            app.marked.retain(|id| known.contains(id.as_str()));
            clamp_cursors(app);
            select_pulled(app);
            Vec::new()
        }
        Msg::Loaded(Err(e)) => {
            app.say(format!("reading the engine: {e}"), true);
            Vec::new()
        }
        Msg::LinksChanged => {
            // Nothing on screen changes until the networks are read again.
            app.dirty = false;
            vec![Effect::LoadNetworks]
        }
        Msg::Networks(Ok(states)) => {
            app.snapshot.networks = states;
            clamp_cursors(app);
            Vec::new()
        }
        Msg::Networks(Err(e)) => {
            app.say(format!("reading the networks: {e}"), true);
            Vec::new()
        }
        Msg::NetworkSample { states, rates } => {
            match &mut app.network_detail {
                Some(detail) => {
                    detail.rates = rates;
                    app.snapshot.networks = states;
                    clamp_cursors(app);
                }
                // The detail closed while the sample was taken.
                None => app.dirty = false,
            }
            Vec::new()
        }
        Msg::VolumeSizes(sizes) => {
            app.volume_sizes.extend(sizes);
            Vec::new()
        }
        Msg::Stats(stats) => {
            app.dirty = app.view == View::Containers || app.detail.is_some();
            app.stats.update(stats);
            Vec::new()
        }
        Msg::Events(events) => {
            let changed = !events.is_empty();
            for event in events {
                if app.events.len() == EVENTS_KEPT {
                    app.events.pop_front();
                }
                app.events.push_back(event);
            }
            if changed {
                vec![Effect::Reload]
            } else {
                Vec::new()
            }
        }
        Msg::Detail(Ok(data)) => {
            if let Some(detail) = &mut app.detail {
                match *data {
                    DetailData::Logs { id, lines } if id == detail.id => detail.logs = Some(lines),
                    DetailData::Diff { id, changes } if id == detail.id => {
                        detail.diff = Some(changes)
                    }
                    _ => {}
                }
                return Vec::new();
            }
            if let Some(volume) = &mut app.volume_detail {
                if let DetailData::VolumeFiles {
                    name,
                    path,
                    listing,
                    usage,
                } = *data
                {
                    if name == volume.name && path == volume.path {
                        volume.cursor.clamp(listing.entries.len());
                        volume.listing = Some(listing);
                        volume.usage = usage.or(volume.usage);
                    }
                }
                return Vec::new();
            }
            if let Some(image) = &mut app.image_detail {
                match *data {
                    DetailData::Layers { id, layers } if id == image.id => {
                        // Open on the top layer, as dive does at its end.
                        image.layer = layers.len().saturating_sub(1);
                        image.layers = Some(layers);
                        return vec![Effect::LoadDetail(image.tree_request())];
                    }
                    // A tree for a layer the user has since moved off is dropped.
                    DetailData::LayerTree { id, tree }
                        if id == image.id
                            && tree.layer == image.layer
                            && tree.scope == image.scope =>
                    {
                        image.tree = Some(tree);
                    }
                    _ => {}
                }
            }
            Vec::new()
        }
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
        Msg::VerbStarted { pid, line } => {
            // Nothing shows until it prints or runs on past a tick.
            app.dirty = false;
            app.verb = Some(VerbRun {
                pid,
                line,
                text: String::new(),
                ticks: 0,
                stopping: false,
            });
            Vec::new()
        }
        Msg::VerbChunk { pid, text } => {
            match app.verb.as_mut().filter(|v| v.pid == pid) {
                Some(verb) => {
                    verb.push(&text);
                    if app.popup.is_none() {
                        app.popup = Some(Popup::Verb { back: 0 });
                    }
                    app.dirty = matches!(app.popup, Some(Popup::Verb { .. }));
                }
                None => app.dirty = false,
            }
            Vec::new()
        }
        Msg::VerbOutput {
            pid,
            line,
            code,
            output,
        } => on_verb_output(app, pid, line, code, output),
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
        } => on_listed(app, side, &container, result),
        Msg::CopyEntry { index, name } => {
            if let Some(copying) = app.files.as_mut().and_then(|f| f.copying.as_mut()) {
                copying.index = index;
                copying.entry = name;
            }
            Vec::new()
        }
        Msg::CopyTick => Vec::new(),
        Msg::Copied(result) => on_copied(app, result),
        Msg::PullEvents(events) => {
            if let Some(pull) = &mut app.pull {
                for event in &events {
                    pull.apply(event);
                }
            }
            Vec::new()
        }
        Msg::Pulled(result) => on_pulled(app, result),
    }
}

/// A verb ended: its popup (live or not) shows the whole output and exit code, or the
/// footer says how it exited if it printed nothing; a run form whose run failed opens
/// again with its fields and the error.
fn on_verb_output(app: &mut App, pid: u32, line: String, code: i32, output: String) -> Vec<Effect> {
    let ours = app.verb.as_ref().is_some_and(|v| v.pid == pid);
    if ours {
        app.verb = None;
    }
    let live = ours && matches!(app.popup, Some(Popup::Verb { .. }));
    let back = match app.popup {
        Some(Popup::Verb { back }) if live => back,
        _ => 0,
    };
    if live {
        app.popup = None;
    }
    if app
        .sent_form
        .as_ref()
        .is_some_and(|(sent, _)| *sent == line)
    {
        if let Some((_, mut form)) = app.sent_form.take().filter(|_| code != 0) {
            let why = output
                .lines()
                .rev()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map_or_else(|| format!("run exited {code}"), str::to_owned);
            form.error = Some(why);
            app.popup = Some(Popup::RunForm(form));
            return vec![Effect::Reload];
        }
    }
    if output.trim().is_empty() {
        app.say(format!(":{line} exited {code}"), code != 0);
    } else {
        app.popup = Some(Popup::Output {
            title: format!(":{line} (exit {code})"),
            text: output,
            back,
        });
    }
    vec![Effect::Reload]
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
    // While stats come each second, their frame shows the new time too: one frame a
    // second instead of two.
    let mut dirty = app.shows_clock() && !app.stats_live;
    if let Some(status) = &mut app.status {
        status.ttl = status.ttl.saturating_sub(1);
        if status.ttl == 0 {
            app.status = None;
            dirty = true;
        }
    }
    app.dirty = dirty;
    // The logs tab follows the log while it is open and not paused.
    match &app.detail {
        Some(detail) if detail.tab == ContainerTab::Logs && !detail.paused => detail
            .request()
            .map(Effect::LoadDetail)
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

fn clamp_cursors(app: &mut App) {
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
}

fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    if let Some(popup) = app.popup.take() {
        return on_popup_key(app, popup, key);
    }
    if app.filtering {
        on_filter_key(app, key);
        return Vec::new();
    }
    let action = match app
        .keymap
        .resolve(app.pending_key.take(), &key, |a| fits(app, a))
    {
        Resolved::Action(action) => action,
        Resolved::Pending(first) => {
            app.pending_key = Some(first);
            return Vec::new();
        }
        Resolved::Nothing => return Vec::new(),
    };
    if app.files.is_some() {
        return files_action(app, action);
    }
    apply(app, action)
}

/// Whether `action` means something where the user is: of the actions bound to one key,
/// the first that fits is taken (`p` pauses the logs, elsewhere it pulls).
fn fits(app: &App, action: Action) -> bool {
    match action {
        Action::Pause | Action::Wrap | Action::NextMatch | Action::PrevMatch => app
            .detail
            .as_ref()
            .is_some_and(|d| d.tab == ContainerTab::Logs),
        _ => true,
    }
}

/// Keys while `/` is typed: into the log search of an open container detail, else into the
/// list's filter. The detail's search never touches the list's filter or selection.
fn on_filter_key(app: &mut App, key: KeyEvent) {
    let in_list = app.detail.is_none();
    let text = match &mut app.detail {
        Some(detail) => &mut detail.search,
        None => &mut app.filter,
    };
    match key.code {
        KeyCode::Enter => app.filtering = false,
        KeyCode::Esc => {
            app.filtering = false;
            text.clear();
        }
        KeyCode::Backspace => {
            text.pop();
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => text.push(c),
        _ => {}
    }
    if in_list {
        clamp_cursors(app);
    }
}

fn on_popup_key(app: &mut App, popup: Popup, key: KeyEvent) -> Vec<Effect> {
    match popup {
        Popup::Confirm { question, effect } => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => begin(app, effect),
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => Vec::new(),
            _ => {
                app.popup = Some(Popup::Confirm { question, effect });
                Vec::new()
            }
        },
        Popup::Command { mut input, tail } => match key.code {
            KeyCode::Esc => Vec::new(),
            KeyCode::Enter => match split_words(&format!("{input}{tail}")) {
                Ok(words) if words.is_empty() => Vec::new(),
                // A keymap action by name (`:container.stop`) does what its key does.
                Ok(words) if words.len() == 1 && words[0].contains('.') => {
                    match words[0].parse::<Action>() {
                        Ok(action) => apply(app, action),
                        Err(e) => {
                            app.say(e, true);
                            Vec::new()
                        }
                    }
                }
                Ok(words) if needs_terminal(&words) => vec![Effect::Terminal(words)],
                Ok(words) => vec![Effect::Verb(words)],
                Err(e) => {
                    app.say(e, true);
                    Vec::new()
                }
            },
            KeyCode::Tab => {
                input = super::complete::complete(&input, &app.snapshot);
                app.popup = Some(Popup::Command { input, tail });
                Vec::new()
            }
            KeyCode::Backspace => {
                input.pop();
                app.popup = Some(Popup::Command { input, tail });
                Vec::new()
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                input.push(c);
                app.popup = Some(Popup::Command { input, tail });
                Vec::new()
            }
            _ => {
                app.popup = Some(Popup::Command { input, tail });
                Vec::new()
            }
        },
        Popup::RunForm(mut form) => match key.code {
            KeyCode::Esc => Vec::new(),
            KeyCode::Enter => match form.words() {
                Ok(words) => {
                    form.error = None;
                    app.sent_form = Some((words.join(" "), form));
                    vec![Effect::Verb(words)]
                }
                Err(e) => {
                    form.error = Some(e);
                    app.popup = Some(Popup::RunForm(form));
                    Vec::new()
                }
            },
            code => {
                match code {
                    KeyCode::Tab | KeyCode::Down => form.move_focus(1),
                    KeyCode::BackTab | KeyCode::Up => form.move_focus(-1),
                    KeyCode::Backspace => {
                        form.focused_mut().pop();
                    }
                    KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                        form.focused_mut().push(c)
                    }
                    _ => {}
                }
                app.popup = Some(Popup::RunForm(form));
                Vec::new()
            }
        },
        Popup::Verb { back } => on_verb_key(app, back, key),
        Popup::Copy => on_copy_key(app, key),
        Popup::PullInput { input, error } => on_pull_input_key(app, input, error, key),
        Popup::Pull => on_pull_key(app, key),
        // Help and output move with the arrows and close on any other key, leaving the
        // screen as it was.
        Popup::Help { page } => {
            if let Some(by) = paging(key.code) {
                let page = page.saturating_add_signed(by);
                app.popup = Some(Popup::Help { page });
            }
            Vec::new()
        }
        Popup::Output { title, text, back } => {
            if let Some(by) = paging(key.code) {
                // Up goes back in the output, as in the logs; page keys go ten lines.
                let step = if matches!(key.code, KeyCode::PageUp | KeyCode::PageDown) {
                    10
                } else {
                    1
                };
                let back = back.saturating_add_signed(-by * step);
                app.popup = Some(Popup::Output { title, text, back });
            }
            Vec::new()
        }
    }
}

/// Keys while a verb's popup follows it: x or esc ends the verb (the popup then shows how
/// it ended), quit ends it and the dashboard, the arrows scroll; other keys wait.
fn on_verb_key(app: &mut App, back: usize, key: KeyEvent) -> Vec<Effect> {
    let Some(verb) = &mut app.verb else {
        return Vec::new();
    };
    let quit = app.keymap.resolve(None, &key, |a| a == Action::Quit);
    if matches!(quit, Resolved::Action(Action::Quit)) {
        return apply(app, Action::Quit);
    }
    let mut effects = Vec::new();
    let mut back = back;
    match key.code {
        KeyCode::Esc | KeyCode::Char('x') if !verb.stopping => {
            verb.stopping = true;
            effects.push(Effect::StopVerb(verb.pid));
        }
        code => {
            if let Some(by) = paging(code) {
                let step = if matches!(code, KeyCode::PageUp | KeyCode::PageDown) {
                    10
                } else {
                    1
                };
                back = back.saturating_add_signed(-by * step);
            }
        }
    }
    app.popup = Some(Popup::Verb { back });
    effects
}

/// Which way a key pages a help or output popup: down (1) or up (-1).
fn paging(code: KeyCode) -> Option<isize> {
    match code {
        KeyCode::Down | KeyCode::Char('j') | KeyCode::PageDown | KeyCode::Char(' ') => Some(1),
        KeyCode::Up | KeyCode::Char('k') | KeyCode::PageUp => Some(-1),
        _ => None,
    }
}

/// Splits the `:` line into words as a shell would for plain words and quotes.
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(format!("unclosed quote in :{line}"));
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Applies a named action to the state.
pub fn apply(app: &mut App, action: Action) -> Vec<Effect> {
    let len = app.rows_in_view();
    match action {
        Action::Quit => {
            app.quit = true;
            vec![Effect::Quit]
        }
        Action::Help => {
            app.popup = Some(Popup::Help { page: 0 });
            Vec::new()
        }
        Action::Back => {
            // Esc after a log search clears the search first; the detail stays open.
            if let Some(detail) = app.detail.as_mut().filter(|d| !d.search.is_empty()) {
                detail.search.clear();
                return Vec::new();
            }
            if app.detail.take().is_none()
                && app.image_detail.take().is_none()
                && app.volume_detail.take().is_none()
                && app.network_detail.take().is_none()
            {
                app.filter.clear();
                app.marked.clear();
                clamp_cursors(app);
            }
            Vec::new()
        }
        Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
            let by = match action {
                Action::Up => -1,
                Action::Down => 1,
                Action::PageUp => -PAGE,
                _ => PAGE,
            };
            if let Some(image) = &mut app.image_detail {
                return move_in_layers(image, action, by);
            }
            if let Some(volume) = &mut app.volume_detail {
                let len = volume.listing.as_ref().map_or(0, |l| l.entries.len());
                volume.cursor.move_by(by, len);
                return Vec::new();
            }
            if app.network_detail.is_some() {
                let ports = app.detail_network().map_or(0, |n| n.endpoints.len());
                if let Some(network) = &mut app.network_detail {
                    let at = (network.scroll as isize + by).max(0) as usize;
                    network.scroll = at.min(ports.saturating_sub(1));
                }
                return Vec::new();
            }
            if let Some(detail) = &mut app.detail {
                // In a detail, moving scrolls the tab's text; the log counts back from
                // its end, so down goes towards the newest line.
                let by = if detail.tab == ContainerTab::Logs {
                    -by
                } else {
                    by
                };
                detail.scroll = (detail.scroll as isize + by).max(0) as usize;
            } else {
                app.cursor_mut().move_by(by, len);
            }
            Vec::new()
        }
        Action::Top => {
            app.cursor_mut().selected = 0;
            Vec::new()
        }
        Action::Bottom => {
            app.cursor_mut().selected = len.saturating_sub(1);
            Vec::new()
        }
        Action::NextView | Action::PrevView => {
            let by = if action == Action::NextView { 1 } else { -1 };
            switch_view(app, app.view.shift(by))
        }
        Action::ShowContainers => switch_view(app, View::Containers),
        Action::ShowImages => switch_view(app, View::Images),
        Action::ShowVolumes => switch_view(app, View::Volumes),
        Action::ShowNetworks => switch_view(app, View::Networks),
        Action::ShowEvents => switch_view(app, View::Events),
        Action::Open => open_detail(app),
        Action::NextTab | Action::PrevTab => {
            let by = if action == Action::NextTab { 1 } else { -1 };
            match &mut app.detail {
                Some(detail) => {
                    detail.tab = detail.tab.shift(by);
                    detail.scroll = 0;
                    detail
                        .request()
                        .map(Effect::LoadDetail)
                        .into_iter()
                        .collect()
                }
                None => Vec::new(),
            }
        }
        Action::Filter => {
            // In a detail, `/` searches the log (the only text a detail filters); the list
            // behind keeps its own filter.
            let other_detail = app.image_detail.is_some()
                || app.volume_detail.is_some()
                || app.network_detail.is_some();
            let logs = app.detail.as_ref().map(|d| d.tab == ContainerTab::Logs);
            app.filtering = !other_detail && logs.unwrap_or(true);
            Vec::new()
        }
        Action::ToggleAll => {
            app.show_all = !app.show_all;
            clamp_cursors(app);
            Vec::new()
        }
        Action::Sort => {
            app.sort = app.sort.next();
            app.say(format!("sorted by {}", app.sort.title()), false);
            Vec::new()
        }
        Action::Mark => {
            mark_selected(app);
            Vec::new()
        }
        Action::Start => container_op(app, ContainerOp::Start),
        Action::Stop => container_op(app, ContainerOp::Stop),
        Action::Restart => container_op(app, ContainerOp::Restart),
        Action::Kill => container_op(app, ContainerOp::Kill),
        Action::PauseContainer => container_op(app, pause_or_unpause(app)),
        Action::Remove => remove(app),
        Action::Create => create(app),
        Action::Prune => prune(app),
        Action::Exec => running_target(app).map(Effect::Shell).into_iter().collect(),
        Action::Attach => attach(app),
        Action::RunNew => {
            let image = match app.view {
                View::Images => app
                    .selected_image()
                    .and_then(|i| i.summary.references.first())
                    .map(|r| r.to_string()),
                View::Containers => app.selected_container().map(|c| c.image.clone()),
                _ => None,
            };
            app.popup = Some(Popup::RunForm(RunForm::with_image(
                image.as_deref().unwrap_or(""),
            )));
            Vec::new()
        }
        Action::Command => {
            app.popup = Some(Popup::Command {
                input: String::new(),
                tail: String::new(),
            });
            Vec::new()
        }
        Action::Connect | Action::Disconnect => {
            let verb = if action == Action::Connect {
                "network connect "
            } else {
                "network disconnect "
            };
            match selected_targets(app).as_slice() {
                [target] if app.view == View::Containers => {
                    app.popup = Some(Popup::Command {
                        input: verb.to_owned(),
                        tail: format!(" {}", target.name),
                    });
                }
                _ => {}
            }
            Vec::new()
        }
        Action::Refresh => vec![Effect::Reload],
        Action::Pull => {
            // One pull at a time: while it runs, the key shows it again.
            app.popup = Some(match &app.pull {
                Some(pull) if pull.running() => Popup::Pull,
                _ => Popup::PullInput {
                    input: String::new(),
                    error: None,
                },
            });
            Vec::new()
        }
        Action::ToggleScope => match &mut app.image_detail {
            Some(image) => {
                image.scope = match image.scope {
                    TreeScope::Layer => TreeScope::Aggregated,
                    TreeScope::Aggregated => TreeScope::Layer,
                };
                image.tree = None;
                image.scroll = 0;
                vec![Effect::LoadDetail(image.tree_request())]
            }
            None => Vec::new(),
        },
        Action::Pause | Action::Wrap | Action::NextMatch | Action::PrevMatch => {
            if let Some(detail) = app.detail.as_mut().filter(|d| d.tab == ContainerTab::Logs) {
                let filter = detail.search.clone();
                match action {
                    Action::Pause => detail.paused = !detail.paused,
                    Action::Wrap => detail.wrap = !detail.wrap,
                    _ => match detail.find_in_logs(&filter, action == Action::PrevMatch) {
                        Some(scroll) => {
                            detail.scroll = scroll;
                            // Looking back at a match: stop the log moving under it.
                            detail.paused = true;
                        }
                        None => app.say(format!("no more lines match {filter:?}"), false),
                    },
                }
            }
            Vec::new()
        }
        Action::ChangesOnly => {
            if let Some(image) = &mut app.image_detail {
                image.changes_only = !image.changes_only;
                image.scroll = 0;
            } else if let Some(detail) = &mut app.detail {
                detail.changes_only = !detail.changes_only;
                detail.scroll = 0;
            }
            Vec::new()
        }
        Action::Files => open_files(app),
        Action::Parent => match &mut app.volume_detail {
            Some(volume) if !volume.path.is_empty() => {
                volume.path = match volume.path.rsplit_once('/') {
                    Some((up, _)) => up.to_owned(),
                    None => String::new(),
                };
                volume.listing = None;
                volume.cursor = Default::default();
                vec![Effect::LoadDetail(volume.request())]
            }
            _ => Vec::new(),
        },
        // Only the file view and the pull dialog, which handle their own keys.
        Action::CopyFiles | Action::CancelCopy | Action::CancelPull => Vec::new(),
        Action::Yank => yank(app),
        Action::Mouse => {
            app.mouse = !app.mouse;
            let text = if app.mouse {
                "mouse captured: click and scroll"
            } else {
                "mouse released: select text with the terminal"
            };
            app.say(text, false);
            vec![Effect::SetMouse(app.mouse)]
        }
    }
}

/// The longest text a yank sends: terminals drop longer OSC 52 sequences anyway, and a
/// log line is the container's to make as long as it likes.
const YANK_MAX: usize = 64 * 1024;

/// The selected object's full ID (or path, or the log line at the bottom of the logs tab)
/// to the clipboard.
fn yank(app: &mut App) -> Vec<Effect> {
    let Some((text, what)) = yank_text(app) else {
        return Vec::new();
    };
    if text.len() > YANK_MAX {
        app.say(
            format!("{what} is too long to copy ({} bytes)", text.len()),
            true,
        );
        return Vec::new();
    }
    app.say(format!("copied {what} to the clipboard"), false);
    vec![Effect::Yank(text)]
}

/// What a yank copies where the user is, and how the status line names it.
fn yank_text(app: &App) -> Option<(String, String)> {
    let named = |text: String| Some((text.clone(), text));
    if let Some(files) = &app.files {
        let pane = files.pane(files.active);
        let path = join(pane.dir()?, &pane.selected()?.name);
        return named(path);
    }
    if let Some(detail) = &app.detail {
        if detail.tab != ContainerTab::Logs {
            return named(detail.id.clone());
        }
        // The bottom line on screen, as `find_in_logs` counts.
        let logs = detail.logs.as_ref().filter(|l| !l.is_empty())?;
        let line = &logs[logs.len() - 1 - detail.scroll.min(logs.len() - 1)];
        let text = line.log.trim_end_matches(['\n', '\r']).to_owned();
        return Some((text, "the log line".to_owned()));
    }
    if let Some(image) = &app.image_detail {
        return named(image.id.clone());
    }
    if let Some(network) = &app.network_detail {
        return named(network.id.clone());
    }
    if let Some(volume) = &app.volume_detail {
        let entry = volume
            .listing
            .as_ref()
            .and_then(|l| l.entries.get(volume.cursor.selected));
        return match entry {
            Some(entry) => {
                let path = volume.mountpoint.join(&volume.path).join(&entry.name);
                named(path.to_string_lossy().into_owned())
            }
            None => named(volume.name.clone()),
        };
    }
    match app.view {
        View::Containers => named(app.selected_container()?.id.to_string()),
        View::Images => named(app.selected_image()?.summary.id.to_string()),
        View::Volumes => named(app.selected_volume()?.volume.name.clone()),
        View::Events => named(
            app.visible_events()
                .get(app.events_cursor.selected)?
                .actor
                .id
                .clone(),
        ),
        View::Networks => named(app.selected_network()?.id.clone()),
    }
}

/// Clicks and the wheel; nothing while a popup or the filter line has the keys.
fn on_mouse(app: &mut App, kind: MouseKind, column: u16, row: u16) -> Vec<Effect> {
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
                files_action(app, action)
            } else {
                apply(app, action)
            }
        }
        MouseKind::Click => on_click(app, column, row),
    }
}

/// A click on a pane title switches pane; on a row selects it; a second click on the same
/// row soon after opens it, as enter does.
fn on_click(app: &mut App, column: u16, row: u16) -> Vec<Effect> {
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
            Some(view) if view != app.view => switch_view(app, view),
            _ => Vec::new(),
        };
    }
    if app.files.is_some() {
        return click_in_files(app, column, row, double);
    }
    if let Some(detail) = &mut app.detail {
        // The detail's tab strip sits on the first row inside its border.
        return match container_detail::tab_at(column).filter(|_| row == BODY_TOP + 1) {
            Some(tab) if tab != detail.tab => {
                detail.tab = tab;
                detail.scroll = 0;
                detail
                    .request()
                    .map(Effect::LoadDetail)
                    .into_iter()
                    .collect()
            }
            _ => Vec::new(),
        };
    }
    // The layer view's two lists and tree, and the network diagram, scroll with the wheel
    // and keys.
    if app.image_detail.is_some() || app.network_detail.is_some() {
        return Vec::new();
    }
    let picked = match &mut app.volume_detail {
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
fn click_in_files(app: &mut App, column: u16, row: u16, double: bool) -> Vec<Effect> {
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
                files_action(app, Action::Open)
            } else {
                Vec::new()
            }
        }
        None => Vec::new(),
    }
}

/// Opens the selected volume, or in an open one the selected directory (a real one: a
/// symlink is shown, never followed).
fn open_volume(app: &mut App) -> Vec<Effect> {
    if let Some(volume) = &mut app.volume_detail {
        let Some(entry) = volume
            .listing
            .as_ref()
            .and_then(|l| l.entries.get(volume.cursor.selected))
        else {
            return Vec::new();
        };
        if entry.kind != PathKind::Dir {
            return Vec::new();
        }
        volume.path = if volume.path.is_empty() {
            entry.name.clone()
        } else {
            format!("{}/{}", volume.path, entry.name)
        };
        volume.listing = None;
        volume.cursor = Default::default();
        return vec![Effect::LoadDetail(volume.request())];
    }
    let Some(info) = app.selected_volume() else {
        return Vec::new();
    };
    let volume = VolumeDetail::new(info.volume.name.clone(), info.mountpoint.clone());
    let request = volume.request();
    app.volume_detail = Some(volume);
    vec![Effect::LoadDetail(request)]
}

/// In the layer view, up and down pick the layer; page keys scroll its tree.
fn move_in_layers(image: &mut ImageDetail, action: Action, by: isize) -> Vec<Effect> {
    if matches!(action, Action::PageUp | Action::PageDown) {
        image.scroll = (image.scroll as isize + by).max(0) as usize;
        return Vec::new();
    }
    let count = image.layers.as_ref().map_or(0, Vec::len);
    let layer = (image.layer as isize + by).clamp(0, count.saturating_sub(1) as isize) as usize;
    if layer == image.layer || count == 0 {
        return Vec::new();
    }
    image.layer = layer;
    image.tree = None;
    image.scroll = 0;
    vec![Effect::LoadDetail(image.tree_request())]
}

fn switch_view(app: &mut App, view: View) -> Vec<Effect> {
    let measure = view == View::Volumes && app.view != View::Volumes;
    app.view = view;
    app.detail = None;
    app.image_detail = None;
    app.volume_detail = None;
    app.network_detail = None;
    app.files = None;
    app.filter.clear();
    app.filtering = false;
    app.marked.clear();
    if measure && !app.snapshot.volumes.is_empty() {
        let volumes = app
            .snapshot
            .volumes
            .iter()
            .map(|v| (v.volume.name.clone(), v.mountpoint.clone()))
            .collect();
        return vec![Effect::VolumeSizes(volumes)];
    }
    Vec::new()
}

fn open_detail(app: &mut App) -> Vec<Effect> {
    if app.view == View::Volumes {
        return open_volume(app);
    }
    if app.view == View::Images {
        let Some(image) = app.selected_image() else {
            return Vec::new();
        };
        let id = image.summary.id.to_string();
        app.image_detail = Some(ImageDetail::new(id.clone(), image.name()));
        return vec![Effect::LoadDetail(DetailRequest::Layers(id))];
    }
    if app.view == View::Networks {
        if let Some(network) = app.selected_network() {
            app.network_detail = Some(NetworkDetail::new(network.id.clone(), network.name.clone()));
        }
        return Vec::new();
    }
    if app.view != View::Containers {
        return Vec::new();
    }
    match app.selected_container() {
        Some(c) => {
            app.detail = Some(ContainerDetail::new(c.id.to_string()));
            Vec::new()
        }
        None => Vec::new(),
    }
}

fn mark_selected(app: &mut App) {
    let id = match app.view {
        View::Containers => app.selected_container().map(|c| c.id.to_string()),
        View::Images => app.selected_image().map(|i| i.summary.id.to_string()),
        View::Volumes => app.selected_volume().map(|v| v.volume.name.clone()),
        View::Networks => app.selected_network().map(|n| n.id.clone()),
        View::Events => None,
    };
    if let Some(id) = id {
        if !app.marked.remove(&id) {
            app.marked.insert(id);
        }
        let len = app.rows_in_view();
        app.cursor_mut().move_by(1, len);
    }
}

/// The marked rows of the pane, or the selected one when none is marked.
fn selected_targets(app: &App) -> Vec<Target> {
    match app.view {
        View::Containers => {
            if app.detail.is_some() {
                return app
                    .detail_container()
                    .map(|c| Target {
                        id: c.id.to_string(),
                        name: c.name.clone(),
                    })
                    .into_iter()
                    .collect();
            }
            let rows = app.visible_containers();
            pick(
                &app.marked,
                rows.iter()
                    .map(|c| (c.id.to_string(), c.name.clone()))
                    .collect(),
                app.containers.selected,
            )
        }
        View::Images => pick(
            &app.marked,
            app.visible_images()
                .iter()
                .map(|i| (i.summary.id.to_string(), i.name()))
                .collect(),
            app.images.selected,
        ),
        View::Volumes => pick(
            &app.marked,
            app.visible_volumes()
                .iter()
                .map(|v| (v.volume.name.clone(), v.volume.name.clone()))
                .collect(),
            app.volumes.selected,
        ),
        View::Networks => {
            if let Some(network) = app.detail_network() {
                return vec![Target {
                    id: network.id.clone(),
                    name: network.name.clone(),
                }];
            }
            pick(
                &app.marked,
                app.visible_networks()
                    .iter()
                    .map(|n| (n.id.clone(), n.name.clone()))
                    .collect(),
                app.networks.selected,
            )
        }
        View::Events => Vec::new(),
    }
}

fn pick(
    marked: &std::collections::BTreeSet<String>,
    rows: Vec<(String, String)>,
    selected: usize,
) -> Vec<Target> {
    let chosen: Vec<Target> = rows
        .iter()
        .filter(|(id, _)| marked.contains(id))
        .map(|(id, name)| Target {
            id: id.clone(),
            name: name.clone(),
        })
        .collect();
    if !chosen.is_empty() {
        return chosen;
    }
    rows.into_iter()
        .nth(selected)
        .map(|(id, name)| Target { id, name })
        .into_iter()
        .collect()
}

fn container_op(app: &mut App, op: ContainerOp) -> Vec<Effect> {
    if app.view != View::Containers {
        return Vec::new();
    }
    let targets = selected_targets(app);
    if targets.is_empty() {
        return Vec::new();
    }
    let effect = Effect::Containers { op, targets };
    confirm_if(app, op.destructive(), effect)
}

/// The one selected container, if it runs: a shell or an attach needs one. Otherwise the
/// footer says why and how to fix it, at once, rather than after the terminal was handed
/// over, where the error would be lost with the next frame.
fn running_target(app: &mut App) -> Option<Target> {
    if app.view != View::Containers {
        return None;
    }
    let targets = selected_targets(app);
    let [target] = targets.as_slice() else {
        return None;
    };
    let container = app.container_by_id(&target.id)?;
    let (state, verb, action) = if container.state.status != Status::Running {
        ("not running", "start", Action::Start)
    } else if container.state.is_paused() {
        ("paused", "unpause", Action::PauseContainer)
    } else {
        return Some(target.clone());
    };
    let key = app
        .keymap
        .key_for(action)
        .unwrap_or_else(|| format!(":{}", action.name()));
    app.say(
        format!("{} is {state}: {verb} it with {key}", target.name),
        true,
    );
    None
}

fn attach(app: &mut App) -> Vec<Effect> {
    running_target(app)
        .map(Effect::Attach)
        .into_iter()
        .collect()
}

/// One key toggles, as lazydocker's: unpause when every target is paused, else pause.
fn pause_or_unpause(app: &App) -> ContainerOp {
    let targets = selected_targets(app);
    let paused = |t: &Target| {
        app.container_by_id(&t.id)
            .is_some_and(|c| c.state.is_paused())
    };
    if !targets.is_empty() && targets.iter().all(paused) {
        ContainerOp::Unpause
    } else {
        ContainerOp::Pause
    }
}

fn remove(app: &mut App) -> Vec<Effect> {
    let targets = selected_targets(app);
    if targets.is_empty() {
        return Vec::new();
    }
    let effect = match app.view {
        View::Containers => Effect::Containers {
            op: ContainerOp::Remove,
            targets,
        },
        View::Images => Effect::RemoveImages(targets),
        View::Volumes => Effect::RemoveVolumes(targets),
        View::Networks => {
            // Said at once rather than after a confirmation the engine would refuse.
            if let Some(builtin) = targets
                .iter()
                .find(|t| BUILTIN_NETWORKS.contains(&t.name.as_str()))
            {
                app.say(
                    format!(
                        "{} is a pre-defined network and cannot be removed",
                        builtin.name
                    ),
                    true,
                );
                return Vec::new();
            }
            Effect::RemoveNetworks(targets)
        }
        View::Events => return Vec::new(),
    };
    confirm_if(app, true, effect)
}

/// Volumes and networks get a `:` line with the verb typed, so the name and flags are
/// the user's; containers get the run form.
fn create(app: &mut App) -> Vec<Effect> {
    let verb = match app.view {
        View::Volumes => "volume create ",
        View::Networks => "network create ",
        View::Containers | View::Images => return apply(app, Action::RunNew),
        View::Events => return Vec::new(),
    };
    app.popup = Some(Popup::Command {
        input: verb.to_owned(),
        tail: String::new(),
    });
    Vec::new()
}

/// What `docker container|volume|network prune` would remove, after a confirmation.
fn prune(app: &mut App) -> Vec<Effect> {
    use crate::ops::prune::Prune;
    let (question, effect) = match app.view {
        View::Containers => {
            let targets: Vec<Target> = app
                .snapshot
                .containers
                .iter()
                .filter(|c| c.state.status != Status::Running)
                .map(|c| Target {
                    id: c.id.to_string(),
                    name: c.name.clone(),
                })
                .collect();
            if targets.is_empty() {
                app.say("no stopped containers to remove", false);
                return Vec::new();
            }
            let effect = Effect::Containers {
                op: ContainerOp::Remove,
                targets,
            };
            (question(&effect), effect)
        }
        // Docker's warning, from the prune the verb runs; the popup asks it.
        View::Volumes => (
            Prune::Volumes { all: false }.warning(),
            Effect::Verb(words(&["volume", "prune", "-f"])),
        ),
        View::Networks => (
            Prune::Networks.warning(),
            Effect::Verb(words(&["network", "prune", "-f"])),
        ),
        View::Images | View::Events => return Vec::new(),
    };
    app.popup = Some(Popup::Confirm { question, effect });
    Vec::new()
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| (*w).to_owned()).collect()
}

fn confirm_if(app: &mut App, ask: bool, effect: Effect) -> Vec<Effect> {
    if !ask {
        return vec![effect];
    }
    app.popup = Some(Popup::Confirm {
        question: question(&effect),
        effect,
    });
    Vec::new()
}

fn question(effect: &Effect) -> String {
    let (verb, kind, targets) = match effect {
        Effect::Containers { op, targets } => (op.verb(), "container", targets),
        Effect::RemoveImages(targets) => ("remove", "image", targets),
        Effect::RemoveVolumes(targets) => ("remove", "volume", targets),
        Effect::RemoveNetworks(targets) => ("remove", "network", targets),
        _ => return String::new(),
    };
    let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
    let plural = if targets.len() == 1 { "" } else { "s" };
    format!("{verb} {kind}{plural} {}?", names.join(", "))
}

/// Sends an effect on its way; a copy first gets a fresh progress for its popup (the
/// rate counts from now, not from when it was asked).
fn begin(app: &mut App, effect: Effect) -> Vec<Effect> {
    let (Effect::Copy(mut job), Some(files)) = (effect.clone(), app.files.as_mut()) else {
        return vec![effect];
    };
    if files.copying.is_some() {
        app.say("a copy is under way", true);
        return Vec::new();
    }
    job.progress = Progress::new();
    files.copying = Some(Copying {
        progress: job.progress.clone(),
        entry: job.names.first().cloned().unwrap_or_default(),
        index: 0,
        total: job.names.len(),
    });
    app.popup = Some(Popup::Copy);
    vec![Effect::Copy(job)]
}

/// The file view on the selected container (or the open detail's).
fn open_files(app: &mut App) -> Vec<Effect> {
    if app.view != View::Containers {
        return Vec::new();
    }
    let record = match app.detail {
        Some(_) => app.detail_container(),
        None => app.selected_container(),
    };
    let Some(target) = record.map(|c| Target {
        id: c.id.to_string(),
        name: c.name.clone(),
    }) else {
        return Vec::new();
    };
    let container = target.id.clone();
    app.files = Some(FilesView::new(target));
    app.marked.clear();
    [(Side::Host, "."), (Side::Container, "/")]
        .into_iter()
        .map(|(side, path)| {
            Effect::ListDir(ListRequest {
                side,
                container: container.clone(),
                path: path.to_owned(),
            })
        })
        .collect()
}

/// Keys in the file view: movement and marks act on the active pane.
fn files_action(app: &mut App, action: Action) -> Vec<Effect> {
    let Some(files) = app.files.as_mut() else {
        return Vec::new();
    };
    let side = files.active;
    let container = files.container.id.clone();
    let list = |side: Side, path: String| {
        vec![Effect::ListDir(ListRequest {
            side,
            container: container.clone(),
            path,
        })]
    };
    let pane = files.pane_mut(side);
    let len = pane.len();
    match action {
        Action::Up => pane.cursor.move_by(-1, len),
        Action::Down => pane.cursor.move_by(1, len),
        Action::PageUp => pane.cursor.move_by(-PAGE, len),
        Action::PageDown => pane.cursor.move_by(PAGE, len),
        Action::Top => pane.cursor.selected = 0,
        Action::Bottom => pane.cursor.selected = len.saturating_sub(1),
        Action::Mark => pane.toggle_mark(),
        Action::NextView | Action::PrevView => files.active = side.other(),
        Action::PrevTab => files.active = Side::Host,
        Action::NextTab => files.active = Side::Container,
        Action::Open => {
            let into = pane.dir().zip(pane.selected()).and_then(|(dir, e)| {
                matches!(e.kind, PathKind::Dir | PathKind::Symlink).then(|| join(dir, &e.name))
            });
            return into.map_or_else(Vec::new, |path| list(side, path));
        }
        Action::Parent => {
            return pane
                .dir()
                .and_then(parent)
                .map_or_else(Vec::new, |p| list(side, p))
        }
        Action::Refresh => return relist(files),
        Action::CopyFiles => return copy_files(app),
        Action::CancelCopy => cancel_copy(app),
        Action::Back => app.files = None,
        Action::Quit
        | Action::Help
        | Action::Command
        | Action::Yank
        | Action::Mouse
        | Action::Pull => return apply(app, action),
        Action::ShowContainers
        | Action::ShowImages
        | Action::ShowVolumes
        | Action::ShowNetworks
        | Action::ShowEvents => return apply(app, action),
        _ => {}
    }
    Vec::new()
}

/// Both panes listed again, where they are.
fn relist(files: &FilesView) -> Vec<Effect> {
    [Side::Host, Side::Container]
        .into_iter()
        .filter_map(|side| {
            files.pane(side).dir().map(|path| {
                Effect::ListDir(ListRequest {
                    side,
                    container: files.container.id.clone(),
                    path: path.to_owned(),
                })
            })
        })
        .collect()
}

/// The chosen entries of the active pane into the other pane's directory; asks first when
/// a name is there already.
fn copy_files(app: &mut App) -> Vec<Effect> {
    let Some(files) = app.files.as_ref() else {
        return Vec::new();
    };
    let from = files.active;
    let (src, dest) = (files.pane(from), files.pane(from.other()));
    let names = src.chosen();
    let (Some(src_dir), Some(dest_dir)) = (src.dir(), dest.dir()) else {
        app.say("a pane is still loading", true);
        return Vec::new();
    };
    if names.is_empty() {
        return Vec::new();
    }
    let existing: Vec<&str> = names
        .iter()
        .filter(|n| dest.has(n))
        .map(String::as_str)
        .collect();
    let question =
        (!existing.is_empty()).then(|| format!("overwrite {} in {dest_dir}?", existing.join(", ")));
    let effect = Effect::Copy(CopyJob {
        container: files.container.clone(),
        from,
        src_dir: src_dir.to_owned(),
        dest_dir: dest_dir.to_owned(),
        names,
        progress: Progress::new(),
    });
    match question {
        Some(question) => {
            app.popup = Some(Popup::Confirm { question, effect });
            Vec::new()
        }
        None => begin(app, effect),
    }
}

fn cancel_copy(app: &mut App) {
    if let Some(copying) = app.files.as_ref().and_then(|f| f.copying.as_ref()) {
        copying.progress.cancel();
        app.say("cancelling the copy", false);
    }
}

/// While a copy runs only cancel (and quit, which cancels first) do anything.
fn on_copy_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    app.popup = Some(Popup::Copy);
    match app.keymap.action(&key) {
        Some(Action::CancelCopy | Action::Back) => {
            cancel_copy(app);
            Vec::new()
        }
        Some(Action::Quit) => {
            cancel_copy(app);
            apply(app, Action::Quit)
        }
        _ => Vec::new(),
    }
}

/// The reference being typed: enter starts the pull if it parses, else says why.
fn on_pull_input_key(
    app: &mut App,
    mut input: String,
    mut error: Option<String>,
    key: KeyEvent,
) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => return Vec::new(),
        KeyCode::Enter => match input.trim().parse::<Reference>() {
            Ok(reference) => {
                let pull = PullState::new(&reference);
                let cancel = pull.cancel.clone();
                app.pull = Some(pull);
                app.popup = Some(Popup::Pull);
                return vec![Effect::Pull(reference, cancel)];
            }
            Err(e) => error = Some(e.to_string()),
        },
        KeyCode::Backspace => {
            input.pop();
            error = None;
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            input.push(c);
            error = None;
        }
        _ => {}
    }
    app.popup = Some(Popup::PullInput { input, error });
    Vec::new()
}

/// The pull dialog: back (esc) hides it and the pull goes on, cancel (x) stops it; an
/// ended pull's dialog closes on enter too.
fn on_pull_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let running = app.pull.as_ref().is_some_and(PullState::running);
    let cancel = app.keymap.resolve(None, &key, |a| a == Action::CancelPull)
        == Resolved::Action(Action::CancelPull);
    if running && cancel {
        if let Some(pull) = &app.pull {
            pull.cancel.cancel();
        }
        app.say("cancelling the pull", false);
        app.popup = Some(Popup::Pull);
        return Vec::new();
    }
    let action = app.keymap.action(&key);
    if key.code == KeyCode::Esc
        || action == Some(Action::Back)
        || !running && key.code == KeyCode::Enter
    {
        if !running {
            app.pull = None;
        }
        return Vec::new();
    }
    app.popup = Some(Popup::Pull);
    match action {
        Some(Action::Quit) => apply(app, Action::Quit),
        _ => Vec::new(),
    }
}

/// A pull ended: shown in its dialog if open, else on the status line; the image list
/// is read again and the image selected in it.
fn on_pulled(app: &mut App, result: Result<Digest, String>) -> Vec<Effect> {
    let shown = app.popup == Some(Popup::Pull);
    let Some(pull) = app.pull.as_mut() else {
        return vec![Effect::Reload];
    };
    let reference = pull.reference.clone();
    match result {
        Ok(id) => {
            pull.phase = Phase::Done(id.clone());
            if !shown {
                app.say(format!("pulled {reference}"), false);
            }
            app.select_image = Some(id);
            select_pulled(app);
        }
        Err(e) => {
            pull.phase = Phase::Failed(e.clone());
            if !shown {
                app.say(e, true);
            }
        }
    }
    if !shown {
        app.pull = None;
    }
    vec![Effect::Reload]
}

/// Selects the image just pulled, once the list holds it.
fn select_pulled(app: &mut App) {
    let Some(id) = &app.select_image else {
        return;
    };
    if let Some(at) = app
        .visible_images()
        .iter()
        .position(|i| i.summary.id == *id)
    {
        app.images.selected = at;
        app.select_image = None;
    }
}

fn on_listed(
    app: &mut App,
    side: Side,
    container: &str,
    result: Result<Box<DirListing>, String>,
) -> Vec<Effect> {
    match (app.files.as_mut(), result) {
        (Some(files), Ok(listing)) if files.container.id == container => {
            files.pane_mut(side).show(*listing)
        }
        (Some(_), Err(e)) => app.say(e, true),
        _ => {}
    }
    Vec::new()
}

/// A copy ended. A cancelled one leaves its popup open on what the destination holds
/// (the old file kept, nothing made, or a directory with no file cut short) until a key
/// closes it; otherwise the footer says how it went.
fn on_copied(app: &mut App, result: Result<String, String>) -> Vec<Effect> {
    let copy_popup = app.popup == Some(Popup::Copy);
    if copy_popup {
        app.popup = None;
    }
    let Some(files) = app.files.as_mut() else {
        return Vec::new();
    };
    let cancelled = files
        .copying
        .take()
        .is_some_and(|copying| copying.progress.is_cancelled());
    for side in [Side::Host, Side::Container] {
        files.pane_mut(side).marked.clear();
    }
    let effects = relist(files);
    match result {
        Ok(what) => app.say(what, false),
        Err(e) => {
            if cancelled && copy_popup {
                app.popup = Some(Popup::Output {
                    title: "copy cancelled".into(),
                    text: e.clone(),
                    back: 0,
                });
            }
            app.say(e, true)
        }
    }
    effects
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::container::Status;
    use crate::engine::container::{ContainerConfig, ContainerRecord, ContainerState};
    use crate::engine::network::state::{LinkRates, NetworkState};
    use crate::engine::{ContainerId, Digest};
    use crate::tui::keymap::Keymap;
    use crate::tui::snapshot::Snapshot;
    use std::collections::HashMap;

    fn container(name: &str, status: Status, age_secs: i64) -> ContainerRecord {
        ContainerRecord {
            id: ContainerId::random(),
            name: name.into(),
            created: chrono::Utc::now() - chrono::Duration::seconds(age_secs),
            image: "busybox".into(),
            image_id: Digest::of_bytes(b"image"),
            chain_ids: Vec::new(),
            config: ContainerConfig::default(),
            state: ContainerState {
                status,
                ..Default::default()
            },
        }
    }

    /// An app over three containers, newest first: web (running), job (created), old
    /// (exited).
    fn app_with(keymap: Keymap) -> App {
        let mut app = App::new(keymap);
        let snapshot = Snapshot {
            containers: vec![
                container("web", Status::Running, 10),
                container("job", Status::Created, 20),
                container("old", Status::Exited, 30),
            ],
            ..Default::default()
        };
        update(&mut app, Msg::Loaded(Ok(Box::new(snapshot))));
        app
    }

    fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
        update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    fn keys(app: &mut App, text: &str) -> Vec<Effect> {
        text.chars()
            .flat_map(|c| key(app, KeyCode::Char(c)))
            .collect()
    }

    fn names(targets: &[Target]) -> Vec<&str> {
        targets.iter().map(|t| t.name.as_str()).collect()
    }

    #[test]
    fn stop_acts_on_the_selected_row_without_asking() {
        let mut app = app_with(Keymap::default());
        let effects = keys(&mut app, "js");
        match effects.as_slice() {
            [Effect::Containers { op, targets }] => {
                assert_eq!(*op, ContainerOp::Stop);
                assert_eq!(names(targets), ["job"]);
            }
            other => panic!("expected one stop, got {other:?}"),
        }
    }

    #[test]
    fn z_pauses_the_selected_container_and_unpauses_it_once_paused() {
        let mut app = app_with(Keymap::default());
        let op_of = |effects: Vec<Effect>| match effects.as_slice() {
            [Effect::Containers { op, targets }] => {
                assert_eq!(names(targets), ["web"]);
                *op
            }
            other => panic!("expected one container action, got {other:?}"),
        };
        assert_eq!(op_of(keys(&mut app, "z")), ContainerOp::Pause);
        app.snapshot.containers[0].state.paused = true;
        assert_eq!(op_of(keys(&mut app, "z")), ContainerOp::Unpause);
    }

    #[test]
    fn remove_of_marked_rows_asks_first_and_no_cancels() {
        let mut app = app_with(Keymap::default());
        // Mark web and old (space moves down after marking).
        let mut effects = key(&mut app, KeyCode::Char(' '));
        effects.extend(keys(&mut app, "j "));
        effects.extend(keys(&mut app, "d"));
        assert!(effects.is_empty(), "{effects:?}");
        match &app.popup {
            Some(Popup::Confirm { question, .. }) => {
                assert_eq!(question, "remove containers web, old?")
            }
            other => panic!("expected a confirmation, got {other:?}"),
        }
        assert!(keys(&mut app, "n").is_empty());
        assert!(app.popup.is_none());
        keys(&mut app, "d");
        match keys(&mut app, "y").as_slice() {
            [Effect::Containers { op, targets }] => {
                assert_eq!(*op, ContainerOp::Remove);
                assert_eq!(names(targets), ["web", "old"]);
            }
            other => panic!("expected the removal, got {other:?}"),
        }
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

    #[test]
    fn the_command_line_completes_and_runs_a_verb() {
        let mut app = app_with(Keymap::default());
        keys(&mut app, ":volu");
        key(&mut app, KeyCode::Tab);
        let effects = keys(&mut app, "create 'my data'");
        assert!(effects.is_empty());
        match key(&mut app, KeyCode::Enter).as_slice() {
            [Effect::Verb(words)] => assert_eq!(words, &["volume", "create", "my data"]),
            other => panic!("expected a verb, got {other:?}"),
        }
    }

    #[test]
    fn the_detail_opens_tabs_load_and_escape_returns() {
        let mut app = app_with(Keymap::default());
        keys(&mut app, "j");
        key(&mut app, KeyCode::Enter);
        assert_eq!(
            app.detail.as_ref().map(|d| d.tab),
            Some(ContainerTab::Config)
        );
        // Config, Mounts, Network and Stats load nothing; Logs does.
        for _ in 0..3 {
            assert!(key(&mut app, KeyCode::Right).is_empty());
        }
        let effects = key(&mut app, KeyCode::Right);
        assert!(matches!(effects.as_slice(), [Effect::LoadDetail(_)]));
        assert_eq!(app.detail.as_ref().map(|d| d.tab), Some(ContainerTab::Logs));
        // Actions in a detail apply to its container.
        match keys(&mut app, "u").as_slice() {
            [Effect::Containers { targets, .. }] => assert_eq!(names(targets), ["job"]),
            other => panic!("expected a start, got {other:?}"),
        }
        key(&mut app, KeyCode::Esc);
        assert!(app.detail.is_none());
        assert!(matches!(keys(&mut app, "q").as_slice(), [Effect::Quit]));
    }

    #[test]
    fn the_layer_view_loads_layers_then_the_top_layer_and_toggles_scope() {
        use crate::engine::image::{ImageLayer, ImageSummary};
        use crate::tui::snapshot::ImageRow;
        let mut app = app_with(Keymap::default());
        let id = Digest::of_bytes(b"config");
        app.snapshot.images = vec![ImageRow {
            summary: ImageSummary {
                id: id.clone(),
                references: Vec::new(),
                created: None,
                size: 1,
            },
            containers: Vec::new(),
        }];
        keys(&mut app, "2");
        let effects = key(&mut app, KeyCode::Enter);
        assert_eq!(
            effects,
            [Effect::LoadDetail(DetailRequest::Layers(id.to_string()))]
        );
        let layer = |index| ImageLayer {
            index,
            diff_id: Digest::of_bytes(&[index as u8]),
            chain_id: Digest::of_bytes(&[index as u8]),
            size: 1,
            created: None,
            created_by: None,
            comment: None,
        };
        let effects = update(
            &mut app,
            Msg::Detail(Ok(Box::new(DetailData::Layers {
                id: id.to_string(),
                layers: vec![layer(0), layer(1)],
            }))),
        );
        let tree = |layer, scope| {
            Effect::LoadDetail(DetailRequest::LayerTree {
                image: id.to_string(),
                layer,
                scope,
            })
        };
        assert_eq!(effects, [tree(1, TreeScope::Layer)]);
        assert_eq!(keys(&mut app, "k"), [tree(0, TreeScope::Layer)]);
        // Already at the bottom layer: nothing to load.
        assert!(keys(&mut app, "k").is_empty());
        assert_eq!(keys(&mut app, "t"), [tree(0, TreeScope::Aggregated)]);
        key(&mut app, KeyCode::Esc);
        assert!(app.image_detail.is_none());
    }

    #[test]
    fn logs_search_jumps_between_matches_and_pauses_following() {
        use crate::engine::container::logs::{LogEntry, Stream};
        let mut app = app_with(Keymap::default());
        key(&mut app, KeyCode::Enter);
        // To the Logs tab.
        for _ in 0..4 {
            key(&mut app, KeyCode::Right);
        }
        let id = app.detail.as_ref().unwrap().id.clone();
        let lines = ["boot", "error one", "ok", "error two", "ok"]
            .iter()
            .map(|l| LogEntry {
                log: format!("{l}\n"),
                stream: Stream::Stdout,
                time: chrono::Utc::now(),
            })
            .collect();
        update(
            &mut app,
            Msg::Detail(Ok(Box::new(DetailData::Logs { id, lines }))),
        );
        keys(&mut app, "/error");
        key(&mut app, KeyCode::Enter);
        // From the bottom, N goes back to the newest match, then the older one.
        keys(&mut app, "N");
        let detail = app.detail.as_ref().unwrap();
        assert_eq!((detail.scroll, detail.paused), (1, true));
        keys(&mut app, "N");
        assert_eq!(app.detail.as_ref().unwrap().scroll, 3);
        keys(&mut app, "N");
        assert!(app
            .status
            .as_ref()
            .is_some_and(|s| s.text.contains("no more lines")));
        keys(&mut app, "n");
        assert_eq!(app.detail.as_ref().unwrap().scroll, 1);
        // Paused: the clock no longer reloads the log; resumed, it does.
        assert!(update(&mut app, Msg::Tick).is_empty());
        keys(&mut app, "p");
        assert!(matches!(
            update(&mut app, Msg::Tick).as_slice(),
            [Effect::LoadDetail(_)]
        ));
    }

    #[test]
    fn esc_after_a_log_search_clears_it_and_leaves_the_lists_filter_and_selection() {
        let mut app = app_with(Keymap::default());
        // The list has a filter of its own and job selected.
        keys(&mut app, "/bu");
        key(&mut app, KeyCode::Enter);
        keys(&mut app, "j");
        assert_eq!(
            app.selected_container().map(|c| c.name.as_str()),
            Some("job")
        );
        key(&mut app, KeyCode::Enter);
        for _ in 0..4 {
            key(&mut app, KeyCode::Right);
        }
        keys(&mut app, "/error");
        key(&mut app, KeyCode::Enter);
        assert_eq!(
            app.filter, "bu",
            "the log search went into the list's filter"
        );
        // The first esc clears the search, and the detail stays.
        key(&mut app, KeyCode::Esc);
        let detail = app.detail.as_ref().expect("the detail is still open");
        assert_eq!(detail.search, "");
        // The second closes the detail onto the list as it was.
        key(&mut app, KeyCode::Esc);
        assert!(app.detail.is_none());
        assert_eq!(app.filter, "bu");
        assert_eq!(app.visible_containers().len(), 3);
        assert_eq!(
            app.selected_container().map(|c| c.name.as_str()),
            Some("job")
        );
        // Esc while the search is typed drops it, also without touching the list.
        key(&mut app, KeyCode::Enter);
        for _ in 0..4 {
            key(&mut app, KeyCode::Right);
        }
        keys(&mut app, "/zzz");
        key(&mut app, KeyCode::Esc);
        assert_eq!(app.detail.as_ref().map(|d| d.search.as_str()), Some(""));
        assert_eq!(app.filter, "bu");
        assert_eq!(
            app.selected_container().map(|c| c.name.as_str()),
            Some("job")
        );
    }

    #[test]
    fn the_run_form_starts_from_the_selected_containers_image() {
        let mut app = app_with(Keymap::default());
        keys(&mut app, "R");
        assert!(matches!(&app.popup, Some(Popup::RunForm(f)) if f.values[0] == "busybox"));
        // Letters are text in the form, not actions.
        keys(&mut app, "qweb");
        key(&mut app, KeyCode::Backspace);
        key(&mut app, KeyCode::Tab);
        keys(&mut app, "top");
        match key(&mut app, KeyCode::Enter).as_slice() {
            [Effect::Verb(words)] => {
                assert_eq!(words, &["run", "-d", "--name", "qwe", "busybox", "top"])
            }
            other => panic!("expected a run, got {other:?}"),
        }
    }

    #[test]
    fn a_failed_run_opens_the_form_again_with_its_fields_and_the_error() {
        let mut app = app_with(Keymap::default());
        keys(&mut app, "R");
        keys(&mut app, "web2");
        key(&mut app, KeyCode::Tab);
        keys(&mut app, "top");
        let words = match key(&mut app, KeyCode::Enter).as_slice() {
            [Effect::Verb(words)] => words.clone(),
            other => panic!("expected a run, got {other:?}"),
        };
        assert!(app.popup.is_none());
        update(
            &mut app,
            Msg::VerbOutput {
                pid: 7,
                line: words.join(" "),
                code: 125,
                output: "berth: the name web2 is in use\n".into(),
            },
        );
        match &app.popup {
            Some(Popup::RunForm(form)) => {
                assert_eq!(form.values[0], "busybox");
                assert_eq!(form.values[1], "web2");
                assert_eq!(form.values[2], "top");
                assert_eq!(
                    form.error.as_deref(),
                    Some("berth: the name web2 is in use")
                );
            }
            other => panic!("expected the form again, got {other:?}"),
        }
        // Sent again and this time run: the form is gone, and so is its error.
        assert!(matches!(
            key(&mut app, KeyCode::Enter).as_slice(),
            [Effect::Verb(_)]
        ));
        update(
            &mut app,
            Msg::VerbOutput {
                pid: 8,
                line: words.join(" "),
                code: 0,
                output: "0123abcd\n".into(),
            },
        );
        assert!(matches!(&app.popup, Some(Popup::Output { .. })));
        assert!(app.sent_form.is_none());
    }

    fn command(app: &mut App, line: &str) -> Vec<Effect> {
        keys(app, ":");
        keys(app, line);
        key(app, KeyCode::Enter)
    }

    #[test]
    fn interactive_verbs_get_the_terminal_and_others_a_popup() {
        let mut app = app_with(Keymap::default());
        match command(&mut app, "exec -it web sh").as_slice() {
            [Effect::Terminal(words)] => assert_eq!(words, &["exec", "-it", "web", "sh"]),
            other => panic!("expected the terminal handed over, got {other:?}"),
        }
        // No spinner for a verb that has the terminal.
        assert!(app.busy.is_empty());
        assert!(matches!(
            command(&mut app, "attach web").as_slice(),
            [Effect::Terminal(_)]
        ));
        assert!(matches!(
            command(&mut app, "logs -f web").as_slice(),
            [Effect::Terminal(_)]
        ));
        assert!(matches!(
            command(&mut app, "stats web").as_slice(),
            [Effect::Verb(_)]
        ));
        // Its exit code comes back in the footer when it is not 0.
        update(
            &mut app,
            Msg::HandedBack {
                what: ":exec -it web sh".into(),
                result: Ok(3),
            },
        );
        assert_eq!(
            app.status.as_ref().map(|s| s.text.as_str()),
            Some(":exec -it web sh exited 3")
        );
        // Left with ctrl-c, as a follow is: nothing to report.
        app.status = None;
        update(
            &mut app,
            Msg::HandedBack {
                what: ":logs -f web".into(),
                result: Ok(130),
            },
        );
        assert_eq!(app.status, None);
    }

    #[test]
    fn a_running_verb_shows_live_and_x_ends_it_and_q_quits() {
        let mut app = app_with(Keymap::default());
        command(&mut app, "logs -f web");
        let line = "logs -f web".to_owned();
        update(
            &mut app,
            Msg::VerbStarted {
                pid: 42,
                line: line.clone(),
            },
        );
        assert!(app.popup.is_none(), "nothing to show yet");
        update(
            &mut app,
            Msg::VerbChunk {
                pid: 42,
                text: "tick-1\n".into(),
            },
        );
        assert!(matches!(app.popup, Some(Popup::Verb { .. })));
        assert_eq!(app.verb.as_ref().map(|v| v.text.as_str()), Some("tick-1\n"));
        // Letters are not actions here: s does not stop the container.
        assert!(keys(&mut app, "s").is_empty());
        assert!(matches!(
            keys(&mut app, "x").as_slice(),
            [Effect::StopVerb(42)]
        ));
        // Asked once; the popup stays until the verb's end arrives.
        assert!(key(&mut app, KeyCode::Esc).is_empty());
        assert!(matches!(app.popup, Some(Popup::Verb { .. })));
        update(
            &mut app,
            Msg::VerbOutput {
                pid: 42,
                line,
                code: 143,
                output: "tick-1\ntick-2\n(ended from the dashboard)".into(),
            },
        );
        assert!(app.verb.is_none());
        match &app.popup {
            Some(Popup::Output { title, text, .. }) => {
                assert_eq!(title, ":logs -f web (exit 143)");
                assert!(text.contains("tick-2"));
            }
            other => panic!("expected the output, got {other:?}"),
        }

        // A silent verb shows its popup once it runs past a tick; q there quits.
        command(&mut app, "wait web");
        update(
            &mut app,
            Msg::VerbStarted {
                pid: 43,
                line: "wait web".into(),
            },
        );
        key(&mut app, KeyCode::Esc);
        update(&mut app, Msg::Tick);
        update(&mut app, Msg::Tick);
        assert!(matches!(app.popup, Some(Popup::Verb { .. })));
        assert!(matches!(keys(&mut app, "q").as_slice(), [Effect::Quit]));
    }

    #[test]
    fn e_on_a_container_that_is_not_running_says_how_to_start_it() {
        let mut app = app_with(Keymap::default());
        // job is created, not running.
        keys(&mut app, "j");
        assert!(keys(&mut app, "e").is_empty());
        assert_eq!(
            app.status.as_ref().map(|s| s.text.as_str()),
            Some("job is not running: start it with u")
        );
        keys(&mut app, "k");
        assert!(matches!(keys(&mut app, "e").as_slice(), [Effect::Shell(t)] if t.name == "web"));
    }

    #[test]
    fn a_volume_opens_descends_only_into_real_dirs_and_goes_up() {
        use crate::engine::storage::copy::PathKind;
        use crate::engine::storage::listing::{DirEntry, DirListing};
        use crate::engine::storage::volumes::{Volume, VolumeInfo};
        let mut app = app_with(Keymap::default());
        app.snapshot.volumes = vec![VolumeInfo {
            volume: Volume {
                name: "data".into(),
                created: chrono::Utc::now(),
                labels: Default::default(),
                anonymous: false,
            },
            mountpoint: "/v/data/_data".into(),
            users: Vec::new(),
        }];
        // Opening the pane measures the volumes.
        assert!(matches!(keys(&mut app, "3").as_slice(), [Effect::VolumeSizes(v)] if v.len() == 1));
        let effects = key(&mut app, KeyCode::Enter);
        let [Effect::LoadDetail(DetailRequest::VolumeFiles { path, .. })] = effects.as_slice()
        else {
            panic!("expected a listing, got {effects:?}");
        };
        assert_eq!(path, "");
        let entry = |name: &str, kind| DirEntry {
            name: name.into(),
            kind,
            size: 0,
            mode: 0o755,
            mtime: 0,
            link_target: None,
            mount: None,
        };
        let listing = DirListing {
            path: "/v/data/_data".into(),
            entries: vec![
                entry("logs", PathKind::Dir),
                entry("out", PathKind::Symlink),
            ],
            truncated: false,
        };
        update(
            &mut app,
            Msg::Detail(Ok(Box::new(DetailData::VolumeFiles {
                name: "data".into(),
                path: String::new(),
                listing: listing.clone(),
                usage: None,
            }))),
        );
        // A symlink is not entered.
        keys(&mut app, "j");
        assert!(key(&mut app, KeyCode::Enter).is_empty());
        keys(&mut app, "k");
        assert!(matches!(
            key(&mut app, KeyCode::Enter).as_slice(),
            [Effect::LoadDetail(DetailRequest::VolumeFiles { path, .. })] if path == "logs"
        ));
        assert!(matches!(
            key(&mut app, KeyCode::Backspace).as_slice(),
            [Effect::LoadDetail(DetailRequest::VolumeFiles { path, .. })] if path.is_empty()
        ));
        key(&mut app, KeyCode::Esc);
        assert!(app.volume_detail.is_none());
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
    fn events_from_other_processes_reload_and_are_kept_bounded() {
        let mut app = app_with(Keymap::default());
        let event = crate::engine::events::Event::new(
            crate::engine::events::ObjectType::Container,
            "start",
            "abc",
        );
        let effects = update(&mut app, Msg::Events(vec![event.clone(); EVENTS_KEPT + 10]));
        assert_eq!(effects, [Effect::Reload]);
        assert_eq!(app.events.len(), EVENTS_KEPT);
    }

    fn mouse(app: &mut App, kind: MouseKind, (column, row): (u16, u16)) -> Vec<Effect> {
        update(app, Msg::Mouse { kind, column, row })
    }

    /// Where `text` first shows in a frame of the app `height` rows high: the cell a click
    /// on it hits. Drawing also sets the lists' offsets, as the runtime's frames do.
    fn cell_of(app: &App, text: &str, height: u16) -> (u16, u16) {
        let frame = crate::tui::once::render_text(app, 160, height);
        frame
            .lines()
            .enumerate()
            .find_map(|(row, line)| {
                let byte = line.find(text)?;
                Some((line[..byte].chars().count() as u16, row as u16))
            })
            .unwrap_or_else(|| panic!("{text:?} not on screen:\n{frame}"))
    }

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
        key(&mut app, KeyCode::Enter);
        // To the Logs tab.
        for _ in 0..4 {
            key(&mut app, KeyCode::Right);
        }
        // In the logs, up goes back in time, as the arrow key does.
        mouse(&mut app, MouseKind::ScrollUp, (10, 5));
        mouse(&mut app, MouseKind::ScrollUp, (10, 5));
        mouse(&mut app, MouseKind::ScrollDown, (10, 5));
        assert_eq!(app.detail.as_ref().map(|d| d.scroll), Some(1));
        // A popup has the input: the wheel leaves what is under it alone.
        keys(&mut app, "?");
        mouse(&mut app, MouseKind::ScrollUp, (10, 5));
        assert_eq!(app.detail.as_ref().map(|d| d.scroll), Some(1));
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
        assert!(app.detail.is_none());
        // As if the first click on job were long ago.
        mouse(&mut app, MouseKind::Click, job);
        let click = app.last_click.as_mut().expect("a click is kept");
        click.at = click.at.checked_sub(DOUBLE_CLICK * 2).expect("clock");
        mouse(&mut app, MouseKind::Click, job);
        assert!(app.detail.is_none());
        mouse(&mut app, MouseKind::Click, job);
        let job_id = app.snapshot.containers[1].id.to_string();
        assert_eq!(app.detail.as_ref().map(|d| d.id.clone()), Some(job_id));
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

    fn yanked(app: &mut App) -> String {
        match keys(app, "y").as_slice() {
            [Effect::Yank(text)] => text.clone(),
            other => panic!("expected a yank, got {other:?}"),
        }
    }

    #[test]
    fn y_copies_the_selected_id_and_the_logs_bottom_line() {
        use crate::engine::container::logs::{LogEntry, Stream};
        let mut app = app_with(Keymap::default());
        keys(&mut app, "j");
        let job_id = app.snapshot.containers[1].id.to_string();
        assert_eq!(yanked(&mut app), job_id);
        let status = app.status.as_ref().map(|s| s.text.clone());
        assert_eq!(status, Some(format!("copied {job_id} to the clipboard")));
        key(&mut app, KeyCode::Enter);
        assert_eq!(yanked(&mut app), job_id);
        // To the Logs tab.
        for _ in 0..4 {
            key(&mut app, KeyCode::Right);
        }
        let lines = ["first", "last"]
            .iter()
            .map(|l| LogEntry {
                log: format!("{l}\n"),
                stream: Stream::Stdout,
                time: chrono::Utc::now(),
            })
            .collect();
        let id = job_id.clone();
        update(
            &mut app,
            Msg::Detail(Ok(Box::new(DetailData::Logs { id, lines }))),
        );
        assert_eq!(yanked(&mut app), "last");
        key(&mut app, KeyCode::Up);
        assert_eq!(yanked(&mut app), "first");
        // In the confirm popup y still means yes.
        key(&mut app, KeyCode::Esc);
        keys(&mut app, "K");
        assert!(matches!(
            keys(&mut app, "y").as_slice(),
            [Effect::Containers {
                op: ContainerOp::Kill,
                ..
            }]
        ));
    }

    #[test]
    fn y_copies_an_image_id_a_volume_name_and_file_paths() {
        use crate::engine::image::ImageSummary;
        use crate::engine::storage::copy::PathKind;
        use crate::engine::storage::listing::{DirEntry, DirListing};
        use crate::engine::storage::volumes::{Volume, VolumeInfo};
        use crate::tui::snapshot::ImageRow;
        let mut app = app_with(Keymap::default());
        let image = Digest::of_bytes(b"config");
        app.snapshot.images = vec![ImageRow {
            summary: ImageSummary {
                id: image.clone(),
                references: Vec::new(),
                created: None,
                size: 1,
            },
            containers: Vec::new(),
        }];
        app.snapshot.volumes = vec![VolumeInfo {
            volume: Volume {
                name: "data".into(),
                created: chrono::Utc::now(),
                labels: Default::default(),
                anonymous: false,
            },
            mountpoint: "/v/data/_data".into(),
            users: Vec::new(),
        }];
        keys(&mut app, "2");
        assert_eq!(yanked(&mut app), image.to_string());
        key(&mut app, KeyCode::Enter);
        assert_eq!(yanked(&mut app), image.to_string());
        keys(&mut app, "3");
        assert_eq!(yanked(&mut app), "data");
        let entry = |name: &str| DirEntry {
            name: name.into(),
            kind: PathKind::File,
            size: 0,
            mode: 0o644,
            mtime: 0,
            link_target: None,
            mount: None,
        };
        let listing = |path: &str, name: &str| DirListing {
            path: path.into(),
            entries: vec![entry(name)],
            truncated: false,
        };
        key(&mut app, KeyCode::Enter);
        update(
            &mut app,
            Msg::Detail(Ok(Box::new(DetailData::VolumeFiles {
                name: "data".into(),
                path: String::new(),
                listing: listing("/v/data/_data", "notes"),
                usage: None,
            }))),
        );
        assert_eq!(yanked(&mut app), "/v/data/_data/notes");
        // The file view: the selected entry of the active pane, by its full path.
        keys(&mut app, "1f");
        let container = app.snapshot.containers[0].id.to_string();
        for (side, path, name) in [(Side::Host, "/srv", "a"), (Side::Container, "/etc", "b")] {
            update(
                &mut app,
                Msg::Listed {
                    side,
                    container: container.clone(),
                    result: Ok(Box::new(listing(path, name))),
                },
            );
        }
        assert_eq!(yanked(&mut app), "/srv/a");
        key(&mut app, KeyCode::Tab);
        assert_eq!(yanked(&mut app), "/etc/b");
    }

    fn file_entries(path: &str, names: &[&str]) -> Box<DirListing> {
        use crate::engine::storage::listing::DirEntry;
        let entries = names
            .iter()
            .map(|name| DirEntry {
                name: (*name).into(),
                kind: if name.ends_with('/') {
                    PathKind::Dir
                } else {
                    PathKind::File
                },
                size: 0,
                mode: 0o755,
                mtime: 0,
                link_target: None,
                mount: None,
            })
            .map(|mut e| {
                e.name = e.name.trim_end_matches('/').to_owned();
                e
            })
            .collect();
        Box::new(DirListing {
            path: path.into(),
            entries,
            truncated: false,
        })
    }

    #[test]
    fn a_click_in_the_file_view_picks_the_pane_and_row_and_a_double_click_descends() {
        let mut app = app_with(Keymap::default());
        keys(&mut app, "f");
        let container = app.snapshot.containers[0].id.to_string();
        for (side, path, names) in [
            (Side::Host, "/srv", ["a", "b"]),
            (Side::Container, "/", ["etc/", "bin/"]),
        ] {
            update(
                &mut app,
                Msg::Listed {
                    side,
                    container: container.clone(),
                    result: Ok(file_entries(path, &names)),
                },
            );
        }
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
        assert_eq!(app.detail.as_ref().map(|d| d.tab), Some(ContainerTab::Logs));
        assert!(matches!(effects.as_slice(), [Effect::LoadDetail(_)]));
        let config = cell_of(&app, "Config", 12);
        mouse(&mut app, MouseKind::Click, config);
        assert_eq!(
            app.detail.as_ref().map(|d| d.tab),
            Some(ContainerTab::Config)
        );
        // The divider between two titles is no tab.
        let (column, row) = cell_of(&app, "│ Mounts", 12);
        mouse(&mut app, MouseKind::Click, (column, row));
        assert_eq!(
            app.detail.as_ref().map(|d| d.tab),
            Some(ContainerTab::Config)
        );
    }

    #[test]
    fn plus_types_the_create_verb_and_p_prunes_after_asking() {
        let mut app = app_with(Keymap::default());
        keys(&mut app, "3+");
        assert_eq!(
            app.popup,
            Some(Popup::Command {
                input: "volume create ".into(),
                tail: String::new(),
            })
        );
        keys(&mut app, "x");
        let effects = key(&mut app, KeyCode::Enter);
        match effects.as_slice() {
            [Effect::Verb(words)] => assert_eq!(words, &["volume", "create", "x"]),
            other => panic!("expected a verb, got {other:?}"),
        }
        assert!(keys(&mut app, "P").is_empty());
        assert!(matches!(app.popup, Some(Popup::Confirm { .. })));
        match keys(&mut app, "y").as_slice() {
            [Effect::Verb(words)] => assert_eq!(words, &["volume", "prune", "-f"]),
            other => panic!("expected volume prune, got {other:?}"),
        }
        // Containers: every one not running, named in the question.
        keys(&mut app, "1P");
        match &app.popup {
            Some(Popup::Confirm { question, .. }) => {
                assert_eq!(question, "remove containers job, old?")
            }
            other => panic!("expected a confirmation, got {other:?}"),
        }
        key(&mut app, KeyCode::Esc);
        // On containers, + is the run form.
        keys(&mut app, "+");
        assert!(matches!(app.popup, Some(Popup::RunForm(_))));
    }

    fn network(name: &str, endpoints: &[&ContainerRecord]) -> NetworkState {
        use crate::engine::network::record::Driver;
        use crate::engine::network::state::EndpointState;
        NetworkState {
            id: format!("{name:0>64}"),
            name: name.into(),
            driver: Driver::Bridge,
            subnet: Some("10.9.0.0/24".parse().unwrap()),
            gateway: Some("10.9.0.1".parse().unwrap()),
            internal: false,
            bridge_name: format!("br-{name}"),
            bridge: None,
            endpoints: endpoints
                .iter()
                .enumerate()
                .map(|(i, c)| EndpointState {
                    container_id: c.id.clone(),
                    container_name: c.name.clone(),
                    interface: "eth0".into(),
                    address: Some(format!("10.9.0.{}/24", i + 2).parse().unwrap()),
                    mac: String::new(),
                    aliases: Vec::new(),
                    host_veth: format!("bv{i}"),
                    port: None,
                })
                .collect(),
        }
    }

    #[test]
    fn the_networks_pane_opens_a_network_removes_after_asking_and_follows_links() {
        let mut app = app_with(Keymap::default());
        let web = app.snapshot.containers[0].clone();
        let networks = vec![
            network("bridge", &[]),
            network("lan", &[&web]),
            network("spare", &[]),
        ];
        update(&mut app, Msg::Networks(Ok(networks.clone())));
        assert_eq!(
            app.snapshot.first_ip(&web.id),
            Some("10.9.0.2".parse().unwrap())
        );
        keys(&mut app, "4");
        assert_eq!(app.view, View::Networks);
        assert_eq!(app.rows_in_view(), 3);

        // A built-in network is refused before any question.
        assert!(keys(&mut app, "d").is_empty());
        assert_eq!(app.popup, None);
        assert!(app.status.as_ref().is_some_and(
            |s| s.error && s.text == "bridge is a pre-defined network and cannot be removed"
        ));
        // Marked networks go together, after a confirmation.
        keys(&mut app, "j ");
        keys(&mut app, " ");
        assert!(keys(&mut app, "d").is_empty());
        match &app.popup {
            Some(Popup::Confirm { question, .. }) => {
                assert_eq!(question, "remove networks lan, spare?")
            }
            other => panic!("expected a confirmation, got {other:?}"),
        }
        match keys(&mut app, "y").as_slice() {
            [Effect::RemoveNetworks(targets)] => assert_eq!(names(targets), ["lan", "spare"]),
            other => panic!("expected network removal, got {other:?}"),
        }

        // + types the verb, P prunes after asking.
        keys(&mut app, "+");
        assert_eq!(
            app.popup,
            Some(Popup::Command {
                input: "network create ".into(),
                tail: String::new(),
            })
        );
        key(&mut app, KeyCode::Esc);
        keys(&mut app, "P");
        match keys(&mut app, "y").as_slice() {
            [Effect::Verb(words)] => assert_eq!(words, &["network", "prune", "-f"]),
            other => panic!("expected network prune, got {other:?}"),
        }

        // Enter opens the selected network; its samples bring rates.
        keys(&mut app, "gg");
        key(&mut app, KeyCode::Char('j'));
        key(&mut app, KeyCode::Enter);
        assert_eq!(
            app.network_detail.as_ref().map(|d| d.name.as_str()),
            Some("lan")
        );
        let rates = HashMap::from([("bv0".to_owned(), LinkRates::default())]);
        update(
            &mut app,
            Msg::NetworkSample {
                states: networks.clone(),
                rates,
            },
        );
        assert_eq!(app.network_detail.as_ref().map(|d| d.rates.len()), Some(1));
        // In the detail, remove means this network.
        keys(&mut app, "d");
        assert!(matches!(
            &app.popup,
            Some(Popup::Confirm { question, .. }) if question == "remove network lan?"
        ));
        key(&mut app, KeyCode::Esc);

        // A link change asks for the networks again and draws nothing yet.
        app.dirty = false;
        assert_eq!(update(&mut app, Msg::LinksChanged), [Effect::LoadNetworks]);
        assert!(!app.dirty);

        // Escape closes the detail; a sample that arrives after is dropped.
        key(&mut app, KeyCode::Esc);
        assert!(app.network_detail.is_none());
        app.dirty = false;
        update(
            &mut app,
            Msg::NetworkSample {
                states: Vec::new(),
                rates: HashMap::new(),
            },
        );
        assert!(!app.dirty);
        assert_eq!(app.snapshot.networks.len(), 3);
    }

    #[test]
    fn shift_c_types_network_connect_for_the_selected_container() {
        let mut app = app_with(Keymap::default());
        keys(&mut app, "jC");
        assert_eq!(
            app.popup,
            Some(Popup::Command {
                input: "network connect ".into(),
                tail: " job".into(),
            })
        );
        keys(&mut app, "lan");
        match key(&mut app, KeyCode::Enter).as_slice() {
            [Effect::Verb(words)] => assert_eq!(words, &["network", "connect", "lan", "job"]),
            other => panic!("expected network connect, got {other:?}"),
        }
        keys(&mut app, "D");
        let frame = crate::tui::once::render_text(&app, 100, 12);
        assert!(frame.contains(":network disconnect █ job"), "{frame}");
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
    }
}
