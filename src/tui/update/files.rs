//! The two-pane file view over a container: moving, descending, marking, and copying
//! between the panes.

use crossterm::event::KeyEvent;

use super::{apply, move_cursor};
use crate::engine::{DirListing, PathKind, Progress};
use crate::tui::action::{Action, Context};
use crate::tui::effect::{CopyJob, Effect, Target};
use crate::tui::files::{join, parent, Copying, FilesView, ListRequest, Side};
use crate::tui::state::{App, Popup, View};

/// The file view on the selected container (or the open detail's).
pub(super) fn open_files(app: &mut App) -> Vec<Effect> {
    if app.view != View::Containers {
        return Vec::new();
    }
    let record = match app.container_detail() {
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
pub(super) fn files_action(app: &mut App, action: Action) -> Vec<Effect> {
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
        Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
            move_cursor(&mut pane.cursor, action, len)
        }
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
pub(super) fn relist(files: &FilesView) -> Vec<Effect> {
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
pub(super) fn copy_files(app: &mut App) -> Vec<Effect> {
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

pub(super) fn cancel_copy(app: &mut App) {
    if let Some(copying) = app.files.as_ref().and_then(|f| f.copying.as_ref()) {
        copying.progress.cancel();
        app.say("cancelling the copy", false);
    }
}

/// Sends an effect on its way; a copy first gets a fresh progress for its popup (the
/// rate counts from now, not from when it was asked).
pub(super) fn begin(app: &mut App, effect: Effect) -> Vec<Effect> {
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

/// While a copy runs only cancel (and quit, which cancels first) do anything.
pub(super) fn on_copy_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    app.popup = Some(Popup::Copy);
    match app.keymap.action_in(Context::Files, &key) {
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

/// The entry a running copy is at.
pub(super) fn on_copy_entry(app: &mut App, index: usize, name: String) -> Vec<Effect> {
    if let Some(copying) = app.files.as_mut().and_then(|f| f.copying.as_mut()) {
        copying.index = index;
        copying.entry = name;
    }
    Vec::new()
}

pub(super) fn on_listed(
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
pub(super) fn on_copied(app: &mut App, result: Result<String, String>) -> Vec<Effect> {
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
    use crate::tui::update::context;
    use crate::tui::update::testing::*;

    #[test]
    fn the_file_views_keys_come_from_its_table() {
        let mut app = files_open();
        assert_eq!(context(&app), Context::Files);
        // [files]: l to the container's side, h back, space marks, c copies.
        keys(&mut app, "l");
        assert_eq!(app.files.as_ref().unwrap().active, Side::Container);
        keys(&mut app, "h");
        assert_eq!(app.files.as_ref().unwrap().active, Side::Host);
        keys(&mut app, " ");
        assert_eq!(app.files.as_ref().unwrap().host.marked.len(), 1);
        let effects = keys(&mut app, "c");
        let [Effect::Copy(job)] = effects.as_slice() else {
            panic!("expected a copy, got {effects:?}");
        };
        assert_eq!(job.names, ["a"]);
        assert_eq!(app.popup, Some(Popup::Copy));
        // x is the file view's cancel while a copy runs (the top level's x is the pull
        // dialog's).
        keys(&mut app, "x");
        let copying = app.files.as_ref().unwrap().copying.as_ref().unwrap();
        assert!(copying.progress.is_cancelled());
    }
}
