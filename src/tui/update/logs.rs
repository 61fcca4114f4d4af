//! The logs tab's keys: scrolling (which reads older or newer pages of the log file as it
//! nears the window's ends, and stops following going up), following again, the search
//! and the filter, the toggles, the range, saving; and the reads arriving.

use super::popups::Typed;
use crate::tui::action::Action;
use crate::tui::detail::{ContainerDetail, ContainerTab, DetailRequest};
use crate::tui::effect::Effect;
use crate::tui::logs::{LogChunk, LogInput, LogRequest};
use crate::tui::state::App;

fn load(request: Option<LogRequest>) -> Vec<Effect> {
    request
        .map(|r| Effect::LoadDetail(DetailRequest::Logs(r)))
        .into_iter()
        .collect()
}

/// Whether the logs tab is what the user sees.
pub(super) fn shown(app: &App) -> bool {
    app.container_detail()
        .is_some_and(|d| d.tab == ContainerTab::Logs)
}

/// The open detail, when its logs tab is shown.
fn logs_tab(app: &mut App) -> Option<&mut ContainerDetail> {
    app.container_detail_mut()
        .filter(|d| d.tab == ContainerTab::Logs)
}

/// Up, down and the page keys: `by` lines, negative towards older ones.
pub(super) fn scroll(detail: &mut ContainerDetail, by: isize) -> Vec<Effect> {
    load(detail.logs.scroll(&detail.id, by))
}

/// `G`/`end` follow again; `gg`/`home` go to the oldest line held.
pub(super) fn end(app: &mut App, bottom: bool) -> Vec<Effect> {
    let Some(detail) = logs_tab(app) else {
        return Vec::new();
    };
    let request = if bottom {
        detail.logs.follow_end(&detail.id)
    } else {
        detail.logs.top(&detail.id)
    };
    load(request)
}

/// A clock tick: the logs tab reads what the log gained while it follows.
pub(super) fn tick(app: &mut App) -> Vec<Effect> {
    match logs_tab(app) {
        Some(detail) => load(detail.logs.tick(&detail.id)),
        None => Vec::new(),
    }
}

/// `/` searches, `&` filters: typed text goes to the one chosen. `false` when the logs
/// tab is not shown.
pub(super) fn start_typing(app: &mut App, input: LogInput) -> bool {
    match logs_tab(app) {
        Some(detail) => {
            detail.logs.input = input;
            true
        }
        None => false,
    }
}

/// A key while the search or filter is typed: the matches follow each character; enter
/// on a search goes to the newest match.
pub(super) fn typed(app: &mut App, typed: Typed) {
    let Some(detail) = app.container_detail_mut() else {
        return;
    };
    let logs = &mut detail.logs;
    let submit = matches!(typed, Typed::Action(Action::Submit));
    match typed {
        Typed::Action(Action::Cancel) => logs.typed_mut().clear(),
        Typed::Action(Action::DeleteChar) => {
            logs.typed_mut().pop();
        }
        Typed::Char(c) => logs.typed_mut().push(c),
        _ => {}
    }
    logs.refresh();
    if submit && logs.input == LogInput::Search {
        let search = logs.search.clone();
        if !search.is_empty() && logs.next_match(false).is_none() {
            app.say(format!("no line matches {search:?}"), false);
        }
    }
}

/// The logs tab's own actions.
pub(super) fn action(app: &mut App, action: Action) -> Vec<Effect> {
    let name = app.detail_container().map(|c| c.name.clone());
    let Some(detail) = logs_tab(app) else {
        return Vec::new();
    };
    let logs = &mut detail.logs;
    match action {
        Action::Pause if logs.follow => logs.pause(),
        Action::Pause => return load(logs.follow_end(&detail.id)),
        Action::Wrap => logs.wrap = !logs.wrap,
        Action::Timestamps => logs.timestamps = !logs.timestamps,
        Action::Colours => logs.colours = !logs.colours,
        Action::LogRange => {
            let range = logs.range.next();
            return load(Some(logs.set_range(&detail.id, range)));
        }
        Action::SaveLog => {
            let (lines, text) = logs.shown_text();
            let container = name.unwrap_or_else(|| detail.id.clone());
            return vec![Effect::SaveLog {
                container,
                lines,
                text,
            }];
        }
        Action::NextMatch | Action::PrevMatch => {
            let search = logs.search.clone();
            let said = match logs.next_match(action == Action::NextMatch) {
                None if search.is_empty() => "no search: / types one".to_owned(),
                None => format!("no line matches {search:?}"),
                Some(true) if action == Action::NextMatch => {
                    "search wrapped to the oldest match".to_owned()
                }
                Some(true) => "search wrapped to the newest match".to_owned(),
                Some(false) => return Vec::new(),
            };
            app.say(said, false);
        }
        _ => {}
    }
    Vec::new()
}

/// A read of the log arrived: the view takes it (or says why it failed). Nothing new
/// draws nothing.
pub(super) fn on_chunk(app: &mut App, chunk: Result<LogChunk, String>) {
    let Some(detail) = app.container_detail_mut() else {
        return;
    };
    match chunk {
        Ok(chunk) => app.dirty = detail.logs.apply(chunk),
        Err(e) => {
            detail.logs.failed(e.clone());
            app.say(format!("reading the log: {e}"), true);
        }
    }
}

#[cfg(test)]
mod tests;
