//! The logs tab's keys: scrolling (which reads older or newer pages of the log file as it
//! nears the window's ends, and stops following going up), following again, the search
//! and the filter, the toggles, the range, saving; and the reads arriving.

use super::popups::Typed;
use crate::tui::action::Action;
use crate::tui::detail::{ContainerDetail, ContainerTab, DetailRequest};
use crate::tui::effect::Effect;
use crate::tui::logs::{CountStep, LogChunk, LogInput, LogRequest, MatchStep};
use crate::tui::preview::LogStamp;
use crate::tui::state::App;

fn load(request: Option<LogRequest>) -> Vec<Effect> {
    request
        .map(|r| Effect::LoadDetail(DetailRequest::Logs(r)))
        .into_iter()
        .collect()
}

/// A read for the window, and the search count's next step if one is due (the query
/// changed, the range did, or the window was read afresh).
fn load_counting(detail: &mut ContainerDetail, request: Option<LogRequest>) -> Vec<Effect> {
    let mut effects = load(request);
    if let Some(step) = detail.logs.count_step(&detail.id, false) {
        effects.push(Effect::LoadDetail(DetailRequest::LogCount(step)));
    }
    effects
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
        Some(detail) => {
            let mut effects = load(detail.logs.tick(&detail.id));
            // The count reads what the log gained, too; a count stopped on an error
            // asks only whether the log changed.
            if let Some(step) = detail.logs.count_step(&detail.id, true) {
                effects.push(Effect::LoadDetail(DetailRequest::LogCount(step)));
            }
            if detail.logs.count_check() {
                let id = detail.id.clone();
                effects.push(Effect::LoadDetail(DetailRequest::LogStamp(id)));
            }
            effects
        }
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

/// A key while the search or filter is typed: the matches follow each character (a
/// search under way in the file stops; a filter wider than the window was read with reads
/// it afresh); enter on a search goes to the newest match, in the file if the window has
/// none.
pub(super) fn typed(app: &mut App, typed: Typed) -> Vec<Effect> {
    let Some(detail) = app.container_detail_mut() else {
        return Vec::new();
    };
    let id = detail.id.clone();
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
    if logs.input == LogInput::Filter {
        let request = logs.filter_changed(&id);
        return load_counting(detail, request);
    }
    logs.cancel_find();
    logs.refresh();
    if !submit || logs.search.is_empty() {
        return load_counting(detail, None);
    }
    let search = logs.search.clone();
    match logs.next_match(&id, false) {
        Some(MatchStep::Reading(request)) => load_counting(detail, Some(request)),
        Some(MatchStep::Moved { .. }) => load_counting(detail, None),
        None => {
            app.say(format!("no line matches {search:?}"), false);
            Vec::new()
        }
    }
}

/// Esc cleared the search or the filter: a filter gone reads the window afresh if it
/// was read through it.
pub(super) fn cleared(detail: &mut ContainerDetail) -> Vec<Effect> {
    let request = detail.logs.filter_changed(&detail.id);
    load_counting(detail, request)
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
            let request = logs.set_range(&detail.id, range);
            return load_counting(detail, Some(request));
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
            let forward = action == Action::NextMatch;
            let said = match logs.next_match(&detail.id, forward) {
                None if search.is_empty() => "no search: / types one".to_owned(),
                None => format!("no line matches {search:?}"),
                Some(MatchStep::Moved { wrapped: true }) if forward => {
                    "search wrapped to the oldest match".to_owned()
                }
                Some(MatchStep::Moved { wrapped: true }) => {
                    "search wrapped to the newest match".to_owned()
                }
                Some(MatchStep::Moved { wrapped: false }) => return Vec::new(),
                Some(MatchStep::Reading(request)) => return load(Some(request)),
            };
            app.say(said, false);
        }
        _ => {}
    }
    Vec::new()
}

/// A read of the log arrived: the view takes it (or says why it failed), and sends the
/// read that follows from it (a search reading on, a filter reading back). Nothing new
/// draws nothing.
pub(super) fn on_chunk(app: &mut App, chunk: Result<LogChunk, String>) -> Vec<Effect> {
    let Some(detail) = app.container_detail_mut() else {
        return Vec::new();
    };
    match chunk {
        Ok(chunk) => {
            let changed = detail.logs.apply(chunk);
            let next = detail.logs.pending(&detail.id);
            let notice = detail.logs.notice.take();
            let effects = load_counting(detail, next);
            app.dirty = changed;
            if let Some(notice) = notice {
                app.say(notice, false);
            }
            effects
        }
        Err(e) => {
            detail.logs.cancel_find();
            detail.logs.failed(e.clone());
            app.say(format!("reading the log: {e}"), true);
            Vec::new()
        }
    }
}

/// A step of the search's count arrived: the footer's numbers, and the next step while
/// the count goes on (none for a count the query or the range left behind but the new
/// count's first).
/// A failed step stops the count and is said once; the next waits for the log or the
/// query to change.
pub(super) fn on_count(
    app: &mut App,
    generation: u64,
    stamp: Option<LogStamp>,
    step: Result<CountStep, String>,
) -> Vec<Effect> {
    let Some(detail) = app.container_detail_mut() else {
        return Vec::new();
    };
    let (changed, failed) = match step {
        Ok(step) => (detail.logs.counted(step), None),
        Err(e) => {
            let news = detail.logs.count_failed(generation, e.clone(), stamp);
            (news, news.then_some(e))
        }
    };
    let effects = load_counting(detail, None);
    app.dirty = changed;
    if let Some(e) = failed {
        app.say(format!("counting the search's matches: {e}"), true);
    }
    effects
}

/// The log's stat, asked while the count is stopped: a changed log counts again.
pub(super) fn on_stamp(app: &mut App, stamp: Option<LogStamp>) -> Vec<Effect> {
    let Some(detail) = app.container_detail_mut() else {
        return Vec::new();
    };
    if !detail.logs.log_stamped(stamp) {
        app.dirty = false;
        return Vec::new();
    }
    load_counting(detail, None)
}

#[cfg(test)]
mod tests;
