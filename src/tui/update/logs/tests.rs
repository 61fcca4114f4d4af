//! The logs tab driven by keys, its reads answered from a log held in memory.

use crate::tui::detail::DetailRequest;
use crate::tui::logs::tests::{FakeLog, RealLog};
use crate::tui::logs::{LogFetch, LogRange};
use crate::tui::update::testing::*;

fn logs(app: &App) -> &crate::tui::logs::LogView {
    &app.container_detail().expect("the detail is open").logs
}

fn frame(app: &App) -> String {
    crate::tui::once::render_text(app, 100, 14)
}

fn fetches(effects: &[Effect]) -> Vec<LogFetch> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::LoadDetail(DetailRequest::Logs(r)) => Some(r.fetch),
            _ => None,
        })
        .collect()
}

#[test]
fn scrolling_up_stops_following_reads_back_and_g_follows_again() {
    let mut app = app_with(Keymap::default());
    let log = FakeLog::numbered(3000);
    open_logs(&mut app, &log);
    assert_eq!(logs(&app).len(), 1000);
    let shown = frame(&app);
    assert!(
        shown.contains("line 2999") && shown.contains("following"),
        "{shown}"
    );
    // Up: the view stays where the user put it, and says how to follow again.
    let effects = key(&mut app, KeyCode::Up);
    let mut read_back = fetches(&effects);
    answer_logs(&mut app, &effects, &log);
    let shown = frame(&app);
    assert!(shown.contains("paused: G follows"), "{shown}");
    assert!(!shown.contains("line 2999"), "{shown}");
    assert!(update(&mut app, Msg::Tick).is_empty());
    // Page by page up (a screenful each), the page before the window is read from the
    // file, a thousand lines ahead of the view.
    let line_no = |app: &App| -> usize {
        let text = &logs(app).bottom_line().unwrap().text.text;
        text.trim_start_matches("line ").parse().unwrap()
    };
    while line_no(&app) > 2098 {
        let effects = key(&mut app, KeyCode::PageUp);
        read_back.extend(fetches(&effects));
        answer_logs(&mut app, &effects, &log);
    }
    assert!(
        matches!(
            read_back[..],
            [LogFetch::Before { .. }, LogFetch::Before { .. }]
        ),
        "{read_back:?}"
    );
    assert_eq!(logs(&app).len(), 2000);
    let bottom = format!("line {}", line_no(&app));
    assert!(frame(&app).contains(&bottom), "{bottom}");
    // G: following again, from the newest line.
    let effects = keys(&mut app, "G");
    assert!(matches!(fetches(&effects)[..], [LogFetch::After { .. }]));
    answer_logs(&mut app, &effects, &log);
    let shown = frame(&app);
    assert!(
        shown.contains("line 2999") && shown.contains("following"),
        "{shown}"
    );
    // Following, each tick reads on.
    assert!(matches!(
        fetches(&update(&mut app, Msg::Tick))[..],
        [LogFetch::After { .. }]
    ));
}

#[test]
fn search_marks_and_moves_between_matches_and_the_filter_hides_the_rest() {
    let mut app = app_with(Keymap::default());
    let lines = ["boot", "error one", "ok", "error two", "ok"];
    let log = FakeLog::new(lines.map(String::from));
    open_logs(&mut app, &log);
    // Typing: the footer says it is a search.
    keys(&mut app, "/error");
    assert!(frame(&app).contains("search: error"), "{}", frame(&app));
    key(&mut app, KeyCode::Enter);
    // Enter goes to the newest match and stops following; every line stays.
    let shown = frame(&app);
    assert!(
        shown.contains("match 2/2") && shown.contains("boot"),
        "{shown}"
    );
    assert!(!logs(&app).follow);
    keys(&mut app, "N");
    assert!(frame(&app).contains("match 1/2"));
    keys(&mut app, "N");
    assert!(frame(&app).contains("match 2/2"));
    assert!(app
        .status
        .as_ref()
        .is_some_and(|s| s.text == "search wrapped to the newest match"));
    keys(&mut app, "n");
    assert!(frame(&app).contains("match 1/2"));
    // Esc clears the search; the detail stays.
    key(&mut app, KeyCode::Esc);
    assert_eq!(logs(&app).search, "");
    // & filters: only the matching lines are shown.
    keys(&mut app, "&ok");
    assert!(frame(&app).contains("filter: ok"));
    key(&mut app, KeyCode::Enter);
    let shown = frame(&app);
    assert!(
        !shown.contains("boot") && shown.contains("2 of 5 lines"),
        "{shown}"
    );
    key(&mut app, KeyCode::Esc);
    assert!(frame(&app).contains("boot"));
    assert!(app.container_detail().is_some());
    key(&mut app, KeyCode::Esc);
    assert!(app.container_detail().is_none());
}

#[test]
fn toggles_range_and_save() {
    let mut app = app_with(Keymap::default());
    let log = FakeLog::new(["\x1b[32mgreen\x1b[0m\tx".to_owned(), "plain".to_owned()]);
    open_logs(&mut app, &log);
    let name = app.detail_container().unwrap().name.clone();
    keys(&mut app, "twc");
    let view = logs(&app);
    assert!(view.timestamps && view.wrap && !view.colours);
    let shown = frame(&app);
    assert!(shown.contains("wrap · times · no colours"), "{shown}");
    // Times as Docker's `logs -t` would start them: the date, T, the time.
    let year = chrono::Utc::now().format("%Y-").to_string();
    assert!(
        shown.contains(&year) && shown.contains("green   x"),
        "{shown}"
    );
    // The range: the tail, read afresh.
    let effects = keys(&mut app, "T");
    assert_eq!(fetches(&effects), [LogFetch::Tail(100)]);
    assert_eq!(logs(&app).range, LogRange::Tail(100));
    answer_logs(&mut app, &effects, &log);
    assert!(frame(&app).contains("tail 100"));
    // s saves what is shown, as shown: times on, no escapes.
    match keys(&mut app, "s").as_slice() {
        [Effect::SaveLog {
            container,
            lines,
            text,
        }] => {
            assert_eq!((container, *lines), (&name, 2));
            let lines: Vec<&str> = text.lines().collect();
            assert!(lines[0].starts_with(&year) && lines[0].ends_with("Z green   x"));
            assert!(lines[1].ends_with("Z plain"));
        }
        other => panic!("expected a save, got {other:?}"),
    }
    assert_eq!(app.busy, [format!("saving {name}'s log")]);
}

#[test]
fn a_failed_read_says_why_and_g_tries_again() {
    let mut app = app_with(Keymap::default());
    key(&mut app, KeyCode::Enter);
    let mut effects = Vec::new();
    while app.container_detail().unwrap().tab != ContainerTab::Logs {
        effects = key(&mut app, KeyCode::Right);
    }
    let id = app.container_detail().unwrap().id.clone();
    assert_eq!(fetches(&effects).len(), 1);
    let chunk = Err("configured logging driver does not support reading".to_owned());
    update(
        &mut app,
        Msg::Detail(Ok(Box::new(DetailData::Logs { id, chunk }))),
    );
    assert!(frame(&app).contains("does not support reading"));
    assert!(update(&mut app, Msg::Tick).is_empty());
    assert_eq!(fetches(&keys(&mut app, "G")), [LogFetch::Tail(1000)]);
}

#[test]
fn n_past_the_window_reads_the_file_and_the_counts_say_there_is_more() {
    let mut app = app_with(Keymap::default());
    // 5,000 lines, an error near the start and one near the end; the window holds the
    // last thousand.
    let log = FakeLog::new((0..5000).map(|i| match i {
        10 | 4990 => format!("error at {i}"),
        _ => format!("line {i}"),
    }));
    open_logs(&mut app, &log);
    keys(&mut app, "/error");
    let effects = key(&mut app, KeyCode::Enter);
    assert!(effects.is_empty(), "the newest is held: {effects:?}");
    assert!(frame(&app).contains("match 1/1+"), "{}", frame(&app));
    // N: the one before is past the window: the file is searched, the window moves.
    let effects = keys(&mut app, "N");
    assert!(
        matches!(
            fetches(&effects)[..],
            [LogFetch::Find { forward: false, .. }]
        ),
        "{effects:?}"
    );
    assert!(frame(&app).contains("searching the log"), "{}", frame(&app));
    answer_logs(&mut app, &effects, &log);
    let shown = frame(&app);
    assert!(
        shown.contains("error at 10") && shown.contains("match 1/1+"),
        "{shown}"
    );
    // Esc while a search reads stops it and keeps the search.
    let effects = keys(&mut app, "N");
    assert!(matches!(fetches(&effects)[..], [LogFetch::Find { .. }]));
    key(&mut app, KeyCode::Esc);
    assert!(logs(&app).finding.is_none());
    assert_eq!(logs(&app).search, "error");
    answer_logs(&mut app, &effects, &log);
    assert!(frame(&app).contains("error at 10"));
}

#[test]
fn the_filter_typed_reads_back_through_the_file() {
    let mut app = app_with(Keymap::default());
    let log = FakeLog::new((0..5000).map(|i| match i % 500 {
        0 => format!("GET /{i}"),
        _ => format!("line {i}"),
    }));
    open_logs(&mut app, &log);
    let mut effects = Vec::new();
    for c in "&get".chars() {
        effects.extend(key(&mut app, KeyCode::Char(c)));
    }
    assert!(
        fetches(&effects)
            .iter()
            .all(|f| matches!(f, LogFetch::Before { .. })),
        "{effects:?}"
    );
    answer_logs(&mut app, &effects, &log);
    key(&mut app, KeyCode::Enter);
    // The thousand lines held and the GETs read back before them: all ten.
    let shown = frame(&app);
    assert!(shown.contains("10 of 1008 lines"), "{shown}");
    let held = logs(&app).shown_lines();
    assert_eq!(held.len(), 10);
    assert_eq!(held[0], "GET /0");
    // Esc: the filter goes, and the window (read through it) is read afresh.
    let effects = key(&mut app, KeyCode::Esc);
    assert!(
        matches!(fetches(&effects)[..], [LogFetch::Tail(_)]),
        "{effects:?}"
    );
    answer_logs(&mut app, &effects, &log);
    assert!(frame(&app).contains("line 4999"));
}

/// Answers the logs tab's reads, its count's steps and stats among `effects` from a real
/// log file, and the ones they lead to, as the worker would (a read of a log not there
/// fails); how many count steps ran.
fn answer_real(app: &mut App, effects: Vec<Effect>, log: &RealLog) -> usize {
    let mut queue: std::collections::VecDeque<Effect> = effects.into();
    let (mut answered, mut counted) = (0, 0);
    while let Some(effect) = queue.pop_front() {
        answered += 1;
        assert!(answered < 10_000, "reads that never end");
        let data = match effect {
            Effect::LoadDetail(DetailRequest::Logs(request)) => DetailData::Logs {
                id: request.id.clone(),
                chunk: log.try_answer(&request),
            },
            Effect::LoadDetail(DetailRequest::LogCount(request)) => {
                counted += 1;
                let (stamp, step) = log.try_count(&request);
                DetailData::LogCount {
                    id: request.id.clone(),
                    generation: request.generation,
                    stamp,
                    step,
                }
            }
            Effect::LoadDetail(DetailRequest::LogStamp(id)) => DetailData::LogStamp {
                id,
                stamp: crate::tui::preview::LogStamp::of(&log.path),
            },
            _ => continue,
        };
        queue.extend(update(app, Msg::Detail(Ok(Box::new(data)))));
    }
    counted
}

/// On a real log of 150,000 lines the search's footer says the window's count while the
/// file is counted ("match 1/10+"), then the file's ("match 1,500/1,500"); lines the
/// container adds are counted on the next tick; typing a new search starts a new count
/// and closing the view ends it (its step on the way is dropped, none follows).
#[test]
fn the_search_footer_counts_the_whole_file_and_follows_it() {
    let mut app = app_with(Keymap::default());
    let log = RealLog::new((0..150_000).map(|i| match i % 100 {
        50 => format!("error {i}"),
        _ => format!("line {i}"),
    }));
    key(&mut app, KeyCode::Enter);
    let mut effects = Vec::new();
    while app.container_detail().unwrap().tab != ContainerTab::Logs {
        effects = key(&mut app, KeyCode::Right);
    }
    answer_real(&mut app, effects, &log);
    // The count's first step goes with the first character typed; one at a time.
    let mut effects = keys(&mut app, "/error");
    effects.extend(key(&mut app, KeyCode::Enter));
    // The newest match is held: the view is on it at once, the count goes on behind.
    let first = effects
        .iter()
        .filter(|e| matches!(e, Effect::LoadDetail(DetailRequest::LogCount(_))))
        .count();
    assert_eq!(first, 1, "{effects:?}");
    assert!(frame(&app).contains("match 10/10+"), "{}", frame(&app));
    let steps = answer_real(&mut app, effects, &log);
    assert!(steps > 1, "{steps} steps");
    assert!(frame(&app).contains("match 1,500/1,500"), "{}", frame(&app));
    // At 80 columns with the toggles on, the count is still on the line: it comes first.
    keys(&mut app, "wt");
    let narrow = crate::tui::once::render_text(&app, 80, 24);
    assert!(narrow.contains("match 1,500/1,500 (n/N)"), "{narrow}");
    keys(&mut app, "wt");
    // The container writes on: the next tick counts what it wrote.
    log.append((0..20).map(|i| format!("new error {i}")));
    let effects = update(&mut app, Msg::Tick);
    answer_real(&mut app, effects, &log);
    assert!(frame(&app).contains("/1,520"), "{}", frame(&app));
    // A new search: the count starts again, its first step at once.
    key(&mut app, KeyCode::Esc);
    assert!(!frame(&app).contains("search \"error\""), "{}", frame(&app));
    let effects = keys(&mut app, "/new");
    let steps: Vec<_> = effects
        .iter()
        .filter(|e| matches!(e, Effect::LoadDetail(DetailRequest::LogCount(_))))
        .collect();
    assert_eq!(steps.len(), 1, "one step at a time: {effects:?}");
    // The view closes with a step on its way: it is dropped, nothing follows it.
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Esc);
    assert!(app.container_detail().is_none());
    assert_eq!(answer_real(&mut app, effects, &log), 1);
}

/// A page key moves the log a screenful (less a line), not ten lines.
#[test]
fn a_page_key_moves_the_log_a_screenful() {
    let mut app = app_with(Keymap::default());
    let log = FakeLog::numbered(3000);
    open_logs(&mut app, &log);
    // The frame says how many rows the lines get.
    frame(&app);
    let rows = logs(&app).rows.get();
    assert!(rows > 2, "{rows}");
    let effects = key(&mut app, KeyCode::PageUp);
    answer_logs(&mut app, &effects, &log);
    let bottom = |app: &App| logs(app).bottom_line().unwrap().text.text.clone();
    assert_eq!(bottom(&app), format!("line {}", 2999 - (rows - 1)));
    let effects = key(&mut app, KeyCode::PageUp);
    answer_logs(&mut app, &effects, &log);
    assert_eq!(bottom(&app), format!("line {}", 2999 - 2 * (rows - 1)));
    key(&mut app, KeyCode::PageDown);
    assert_eq!(bottom(&app), format!("line {}", 2999 - (rows - 1)));
}

fn count_steps(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::LoadDetail(DetailRequest::LogCount(_))))
        .count()
}

fn stats(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::LoadDetail(DetailRequest::LogStamp(_))))
        .count()
}

/// A step of the count that fails (a directory in the log's place) stops the count: the
/// status line says so once and the footer keeps saying it; later ticks send no step,
/// only a stat of the log, until the log changes (it is back) or the search does.
#[test]
fn a_failed_count_waits_for_the_log_or_the_search_to_change() {
    let mut app = app_with(Keymap::default());
    let log = RealLog::new((0..1000).map(|i| format!("line {i}")));
    let aside = log.path.with_extension("aside");
    key(&mut app, KeyCode::Enter);
    let mut effects = Vec::new();
    while app.container_detail().unwrap().tab != ContainerTab::Logs {
        effects = key(&mut app, KeyCode::Right);
    }
    answer_real(&mut app, effects, &log);
    // Paused: the window reads nothing more on a tick, only the count does.
    keys(&mut app, "p");
    let mut effects = keys(&mut app, "/line");
    effects.extend(key(&mut app, KeyCode::Enter));
    assert_eq!(count_steps(&effects), 1);
    // A log gone reads as an empty one; a directory in its place does not read.
    std::fs::rename(&log.path, &aside).unwrap();
    std::fs::create_dir(&log.path).unwrap();
    // The step sent for "l" fails too, but its count was left behind: it stops nothing,
    // and the step of "line"'s count goes after it.
    assert_eq!(answer_real(&mut app, effects, &log), 2);
    let said = app.status.take().expect("the failure is said");
    assert!(said.error && said.text.starts_with("counting the search's matches"));
    assert!(frame(&app).contains("(count failed)"), "{}", frame(&app));
    // Ticks: a stat each, no step, nothing said again.
    for _ in 0..5 {
        let effects = update(&mut app, Msg::Tick);
        assert_eq!(
            (count_steps(&effects), stats(&effects)),
            (0, 1),
            "{effects:?}"
        );
        assert_eq!(answer_real(&mut app, effects, &log), 0);
        assert!(app.status.is_none(), "said once: {:?}", app.status);
    }
    // A new search counts at once (and fails again, said again: it is another count).
    key(&mut app, KeyCode::Esc);
    assert!(!frame(&app).contains("count failed"), "{}", frame(&app));
    let effects = keys(&mut app, "/ine");
    assert_eq!(count_steps(&effects), 1, "{effects:?}");
    assert_eq!(
        answer_real(&mut app, effects, &log),
        2,
        "\"i\"'s, then \"ine\"'s"
    );
    assert!(app.status.take().is_some_and(|s| s.error));
    key(&mut app, KeyCode::Enter);
    let effects = update(&mut app, Msg::Tick);
    assert_eq!(count_steps(&effects), 0);
    answer_real(&mut app, effects, &log);
    // The log is back: the next tick's stat sees another file, and the count runs.
    std::fs::remove_dir(&log.path).unwrap();
    std::fs::rename(&aside, &log.path).unwrap();
    let effects = update(&mut app, Msg::Tick);
    assert_eq!(count_steps(&effects), 0, "the stat goes first");
    assert_eq!(answer_real(&mut app, effects, &log), 1);
    let shown = frame(&app);
    assert!(
        shown.contains("1,000 matches") || shown.contains("/1,000"),
        "{shown}"
    );
    assert!(!shown.contains("count failed"), "{shown}");
}

/// Wrapped, a page key moves by the lines on screen, not by its rows: up, the top line
/// becomes the bottom one; down, the bottom one the top; no line is skipped, however
/// many rows each takes.
#[test]
fn a_page_of_wrapped_lines_skips_none() {
    let mut app = app_with(Keymap::default());
    let log = FakeLog::new((0..3000).map(|i| format!("line {i} {}", "x".repeat((i % 4) * 90))));
    open_logs(&mut app, &log);
    keys(&mut app, "w");
    assert!(logs(&app).wrap);
    // The numbers of the lines whose start is on screen (a line cut at the top shows
    // only its end).
    let starts = |app: &App| -> Vec<usize> {
        frame(app)
            .lines()
            .filter_map(|row| row.strip_prefix("│line "))
            .filter_map(|rest| rest.split(' ').next()?.parse().ok())
            .collect()
    };
    let before = starts(&app);
    assert!(
        before.len() < logs(&app).rows.get(),
        "lines wrap: {before:?}"
    );
    for _ in 0..3 {
        let before = starts(&app);
        let effects = key(&mut app, KeyCode::PageUp);
        answer_logs(&mut app, &effects, &log);
        let after = starts(&app);
        // The old top line (or the one cut at the top) is the new bottom one.
        let (first, last) = (before[0], *after.last().unwrap());
        assert!(
            last <= first && last + 1 >= first,
            "{after:?} then {before:?}"
        );
        assert!(after[0] < first, "a page up: {after:?} then {before:?}");
        let before_down = after;
        let effects = key(&mut app, KeyCode::PageDown);
        answer_logs(&mut app, &effects, &log);
        let down = starts(&app);
        let (last, first) = (*before_down.last().unwrap(), down[0]);
        assert!(
            first <= last && *down.last().unwrap() > last,
            "{before_down:?} then {down:?}"
        );
        // Back up to go on from where the pages started.
        let effects = key(&mut app, KeyCode::PageUp);
        answer_logs(&mut app, &effects, &log);
    }
}
