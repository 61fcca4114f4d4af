//! The log view against a log held in memory that answers its reads as the file reader
//! does: the window's bounds, following, scrolling back and on, search and filter.

use super::*;
use crate::engine::LogPosition;

/// A log of lines, answering `LogRequest`s as `LogRequest::read` does (a filter's and a
/// search's reads scanning at most `scan` lines); a position is the line's index.
pub(crate) struct FakeLog {
    pub lines: Vec<(String, LogStream)>,
    /// Lines after a follower's position past which it jumps to the tail.
    pub jump: usize,
    /// Lines one filtered or search read looks at.
    pub scan: usize,
}

impl FakeLog {
    pub fn new(lines: impl IntoIterator<Item = String>) -> FakeLog {
        FakeLog {
            lines: lines.into_iter().map(|l| (l, LogStream::Stdout)).collect(),
            jump: usize::MAX,
            scan: SCAN_LINES,
        }
    }

    /// `count` lines `line 0`, `line 1`, ...
    pub fn numbered(count: usize) -> FakeLog {
        FakeLog::new((0..count).map(|i| format!("line {i}")))
    }

    fn index(&self, at: LogPosition) -> usize {
        (0..=self.lines.len())
            .find(|&i| position(i) == at)
            .expect("a position the log gave")
    }

    fn chunk(&self, request: &LogRequest, range: std::ops::Range<usize>) -> LogChunk {
        let mut chunk = self.chunk_of(request, range.clone().collect());
        chunk.end = Some(position(range.end));
        chunk.start = Some(position(range.start));
        chunk.at_start = range.start == 0;
        chunk.at_end = range.end == self.lines.len();
        chunk
    }

    /// The lines at `indices`, nothing else said.
    fn chunk_of(&self, request: &LogRequest, indices: Vec<usize>) -> LogChunk {
        LogChunk {
            fetch: request.fetch,
            generation: request.generation,
            lines: indices
                .into_iter()
                .map(|i| LogLine {
                    at: position(i),
                    time: Utc::now(),
                    stream: self.lines[i].1,
                    text: LogText::parse(&self.lines[i].0),
                })
                .collect(),
            end: None,
            at_start: false,
            at_end: false,
            jumped: false,
            start: None,
            found: None,
            resume: None,
        }
    }

    fn passes(&self, needle: Option<&Needle>, i: usize) -> bool {
        needle.is_none_or(|n| n.find(&self.lines[i].0, 0).is_some())
    }

    /// Up to `n` lines before `from` the filter passes, scanning at most `scan`: the
    /// indices, oldest first, and where reading back goes on.
    fn back(&self, request: &LogRequest, from: usize, n: usize) -> (Vec<usize>, usize) {
        let filter = Needle::new(&request.filter);
        let mut kept = Vec::new();
        let mut at = from;
        while at > 0 && from - at < self.scan && kept.len() < n {
            at -= 1;
            if self.passes(filter.as_ref(), at) {
                kept.push(at);
            }
        }
        kept.reverse();
        (kept, at)
    }

    /// Up to `max` lines from `from` on the filter passes, scanning at most `scan`: the
    /// indices and where reading on goes on.
    fn on(&self, request: &LogRequest, from: usize, max: usize) -> (Vec<usize>, usize) {
        let filter = Needle::new(&request.filter);
        let mut kept = Vec::new();
        let mut at = from;
        while at < self.lines.len() && at - from < self.scan && kept.len() < max {
            if self.passes(filter.as_ref(), at) {
                kept.push(at);
            }
            at += 1;
        }
        (kept, at)
    }

    fn filtered(&self, request: &LogRequest) -> LogChunk {
        let len = self.lines.len();
        let backwards = |from: usize, n: usize| {
            let (kept, at) = self.back(request, from, n);
            let mut chunk = self.chunk_of(request, kept);
            chunk.start = Some(position(at));
            chunk.at_start = at == 0;
            chunk
        };
        match request.fetch {
            LogFetch::Tail(n) => {
                let mut chunk = backwards(len, n);
                chunk.end = Some(position(len));
                chunk.at_end = true;
                chunk
            }
            LogFetch::Before { from, n } => backwards(self.index(from), n),
            LogFetch::After { from, max } => {
                let (kept, at) = self.on(request, self.index(from), max);
                let mut chunk = self.chunk_of(request, kept);
                chunk.end = Some(position(at));
                chunk.at_end = at == len;
                chunk
            }
            LogFetch::Find { .. } => unreachable!("a search is answered by find"),
        }
    }

    fn find(&self, request: &LogRequest, from: Option<LogPosition>, forward: bool) -> LogChunk {
        let len = self.lines.len();
        let filter = Needle::new(&request.filter);
        let search = Needle::new(&request.search).expect("a search");
        let hit = |i: &usize| {
            self.passes(filter.as_ref(), *i) && search.find(&self.lines[*i].0, 0).is_some()
        };
        let (found, stopped) = if forward {
            let start = from.map_or(0, |f| self.index(f));
            let stop = (start + self.scan).min(len);
            ((start..stop).find(hit), stop)
        } else {
            let start = from.map_or(len, |f| self.index(f));
            let stop = start.saturating_sub(self.scan);
            ((stop..start).rev().find(hit), stop)
        };
        let Some(at) = found else {
            let mut chunk = self.chunk_of(request, Vec::new());
            let done = if forward {
                stopped == len
            } else {
                stopped == 0
            };
            chunk.resume = (!done).then(|| position(stopped));
            return chunk;
        };
        let (mut indices, start) = self.back(request, at, PAGE_LINES);
        let (after, end) = self.on(request, at, PAGE_LINES);
        indices.extend(after);
        let mut chunk = self.chunk_of(request, indices);
        chunk.found = Some(position(at));
        chunk.start = Some(position(start));
        chunk.at_start = start == 0;
        chunk.end = Some(position(end));
        chunk.at_end = end == len;
        chunk
    }

    pub fn answer(&self, request: &LogRequest) -> LogChunk {
        let len = self.lines.len();
        let tail = |n: usize| len.saturating_sub(n)..len;
        match request.fetch {
            LogFetch::Find { from, forward } => self.find(request, from, forward),
            _ if !request.filter.is_empty() => self.filtered(request),
            LogFetch::Tail(n) => self.chunk(request, tail(n)),
            LogFetch::After { from, max } => {
                let from = self.index(from);
                if len - from > self.jump {
                    let mut chunk = self.chunk(request, tail(request.tail));
                    chunk.jumped = true;
                    return chunk;
                }
                self.chunk(request, from..(from + max).min(len))
            }
            LogFetch::Before { from, n } => {
                let from = self.index(from);
                let mut chunk = self.chunk(request, from.saturating_sub(n)..from);
                chunk.end = None;
                chunk.at_end = false;
                chunk
            }
        }
    }
}

fn position(i: usize) -> LogPosition {
    LogPosition::new(0, 1, i as u64)
}

/// The text of the view's bottom line.
fn bottom(view: &LogView) -> &str {
    &view.bottom_line().expect("a bottom line").text.text
}

/// Answers the request, if any, and hands the answer to the view.
fn serve(view: &mut LogView, log: &FakeLog, request: Option<LogRequest>) {
    if let Some(request) = request {
        view.apply(log.answer(&request));
    }
}

#[test]
fn following_reads_on_scrolling_up_stops_it_and_pages_back_and_on() {
    let mut log = FakeLog::numbered(3000);
    let mut view = LogView::default();
    let request = view.open("c");
    assert_eq!(request.fetch, LogFetch::Tail(TAIL_LINES));
    serve(&mut view, &log, Some(request));
    assert_eq!((view.len(), bottom(&view)), (1000, "line 2999"));
    // Following: a tick reads what came since.
    log.lines.push(("line 3000".into(), LogStream::Stdout));
    let request = view.tick("c");
    assert!(matches!(
        request.as_ref().map(|r| r.fetch),
        Some(LogFetch::After { .. })
    ));
    // One read at a time: the next tick waits for it.
    assert_eq!(view.tick("c"), None);
    serve(&mut view, &log, request);
    assert_eq!(bottom(&view), "line 3000");
    // Up stops following and stays put while the log grows; near the window's top (a
    // thousand lines ahead), the page before it is read and the view stays on its line.
    let request = view.scroll("c", -1);
    assert!(!view.follow);
    assert_eq!(bottom(&view), "line 2999");
    assert!(matches!(
        request.as_ref().map(|r| r.fetch),
        Some(LogFetch::Before { n: PAGE_LINES, .. })
    ));
    serve(&mut view, &log, request);
    assert_eq!((view.len(), bottom(&view)), (1501, "line 2999"));
    assert_eq!(view.tick("c"), None);
    let request = view.scroll("c", -850);
    assert_eq!(bottom(&view), "line 2149");
    serve(&mut view, &log, request);
    assert_eq!((view.len(), bottom(&view)), (2001, "line 2149"));
    view.scroll("c", -10);
    assert_eq!(bottom(&view), "line 2139");
    // Page after page back to the log's start, never more than the window holds.
    for _ in 0..20 {
        let request = view.top("c");
        serve(&mut view, &log, request);
        assert!(view.len() <= WINDOW_LINES);
    }
    assert!(view.at_start());
    assert_eq!(bottom(&view), "line 0");
    assert_eq!(view.len(), WINDOW_LINES.min(3001));
    // G follows again: the view reads on from its window's end to the log's.
    let mut requests = 0;
    let mut request = view.follow_end("c");
    while request.is_some() {
        serve(&mut view, &log, request);
        requests += 1;
        request = view.tick("c");
        if bottom(&view) == "line 3000" {
            break;
        }
    }
    assert!(view.follow);
    assert_eq!(bottom(&view), "line 3000");
    assert!(requests >= 1);
}

#[test]
fn the_window_keeps_its_bounds_both_ways_and_reads_on_where_it_let_go() {
    let log = FakeLog::numbered(20_000);
    let mut view = LogView::default();
    let request = view.open("c");
    serve(&mut view, &log, Some(request));
    for _ in 0..30 {
        let request = view.top("c");
        serve(&mut view, &log, request);
        assert!(view.len() <= WINDOW_LINES, "{}", view.len());
    }
    assert_eq!(view.len(), WINDOW_LINES);
    let oldest = 20_000 - 1000 - 30 * PAGE_LINES;
    let first = view.line(view.shown_id(0).unwrap()).unwrap();
    assert_eq!(first.text.text, format!("line {oldest}"));
    // The view stays on the line that was the oldest before the last page came.
    assert_eq!(bottom(&view), format!("line {}", oldest + PAGE_LINES));
    // Scrolling down from there reads the pages after the window, letting the oldest go.
    for _ in 0..30 {
        let request = view.scroll("c", 400);
        serve(&mut view, &log, request);
        assert!(view.len() <= WINDOW_LINES);
    }
    assert!(!view.follow);
    let at: usize = bottom(&view)[5..].parse().unwrap();
    assert_eq!(at, oldest + PAGE_LINES + 30 * 400);
}

#[test]
fn a_follower_far_behind_jumps_to_the_tail_and_stale_reads_are_dropped() {
    let mut log = FakeLog::numbered(100);
    log.jump = 1000;
    let mut view = LogView::default();
    let request = view.open("c");
    serve(&mut view, &log, Some(request));
    // 50,000 lines in a second: the view reads the tail, not all of them.
    log.lines
        .extend((100..50_100).map(|i| (format!("line {i}"), LogStream::Stdout)));
    let request = view.tick("c").unwrap();
    let chunk = log.answer(&request);
    assert!(chunk.jumped);
    assert_eq!(chunk.lines.len(), TAIL_LINES);
    assert!(view.apply(chunk));
    assert_eq!((view.len(), bottom(&view)), (TAIL_LINES, "line 50099"));
    // A read for a window replaced since (a new range) changes nothing.
    let stale = view.tick("c").unwrap();
    let fresh = view.set_range("c", LogRange::Tail(100));
    assert!(!view.apply(log.answer(&stale)));
    assert!(view.loading);
    assert!(view.apply(log.answer(&fresh)));
    assert_eq!(view.len(), 100);
    // The tail range reads nothing older.
    assert!(view.at_start());
    assert_eq!(view.top("c"), None);
    // Following again with nothing new: nothing to draw.
    let request = view.follow_end("c").unwrap();
    assert!(!view.apply(log.answer(&request)));
}

#[test]
fn search_counts_marks_and_wraps_from_the_follow_position() {
    let lines = [
        "boot",
        "error one",
        "ok",
        "ERROR two",
        "ok",
        "error three",
        "done",
    ];
    let log = FakeLog::new(lines.iter().map(|l| l.to_string()));
    let mut view = LogView::default();
    let request = view.open("c");
    serve(&mut view, &log, Some(request));
    view.search = "error".into();
    view.refresh();
    assert_eq!(view.match_count(), (None, 3));
    // From the follow position, back is the newest match; on, the oldest (wrapped).
    assert_eq!(
        view.next_match("c", false),
        Some(MatchStep::Moved { wrapped: false })
    );
    assert_eq!(
        (bottom(&view), view.match_count()),
        ("error three", (Some(3), 3))
    );
    assert!(!view.follow);
    assert_eq!(
        view.next_match("c", false),
        Some(MatchStep::Moved { wrapped: false })
    );
    assert_eq!(bottom(&view), "ERROR two");
    assert_eq!(
        view.next_match("c", false),
        Some(MatchStep::Moved { wrapped: false })
    );
    assert_eq!(
        view.next_match("c", false),
        Some(MatchStep::Moved { wrapped: true })
    );
    assert_eq!(view.match_count(), (Some(3), 3));
    assert_eq!(
        view.next_match("c", true),
        Some(MatchStep::Moved { wrapped: true })
    );
    assert_eq!(view.match_count(), (Some(1), 3));
    view.follow_end("c");
    assert_eq!(
        view.next_match("c", true),
        Some(MatchStep::Moved { wrapped: true })
    );
    assert_eq!(bottom(&view), "error one");
    // Nothing matches: nothing moves.
    view.search = "zzz".into();
    view.refresh();
    assert_eq!(view.next_match("c", true), None);
    assert_eq!(view.match_count(), (None, 0));
}

#[test]
fn the_filter_shows_only_matching_lines_and_the_search_counts_among_them() {
    let lines = [
        "GET /a 200",
        "GET /b 500",
        "POST /c 500",
        "GET /d 200",
        "POST /e 200",
    ];
    let log = FakeLog::new(lines.iter().map(|l| l.to_string()));
    let mut view = LogView::default();
    let request = view.open("c");
    serve(&mut view, &log, Some(request));
    view.filter = "get".into();
    view.refresh();
    assert_eq!((view.shown_len(), view.len()), (3, 5));
    assert_eq!(bottom(&view), "GET /d 200");
    view.scroll("c", -1);
    assert_eq!(bottom(&view), "GET /b 500");
    view.search = "500".into();
    view.refresh();
    assert_eq!(view.match_count(), (None, 1));
    let (count, text) = view.shown_text();
    assert_eq!(
        (count, text.as_str()),
        (3, "GET /a 200\nGET /b 500\nGET /d 200\n")
    );
    // Esc: the search goes first, then the filter.
    assert!(view.clear_text());
    assert_eq!((view.search.as_str(), view.filter.as_str()), ("", "get"));
    assert!(view.clear_text());
    assert!(!view.clear_text());
    assert_eq!(view.shown_len(), 5);
    assert_eq!(bottom(&view), "GET /b 500");
}

#[test]
fn the_range_cycles_and_says_what_it_reads() {
    let labels: Vec<Option<String>> = LogRange::CHOICES.iter().map(|r| r.label()).collect();
    assert_eq!(
        labels,
        [
            None,
            Some("tail 100".into()),
            Some("since 1m".into()),
            Some("since 15m".into()),
            Some("since 1h".into())
        ]
    );
    let mut range = LogRange::All;
    for expected in LogRange::CHOICES.iter().cycle().skip(1).take(5) {
        range = range.next();
        assert_eq!(range, *expected);
    }
    let mut view = LogView::default();
    let request = view.set_range("c", LogRange::SinceMinutes(15));
    let since = request.since.expect("a since time");
    assert!(
        (Utc::now() - since - chrono::Duration::minutes(15))
            .num_seconds()
            .abs()
            < 5
    );
    assert_eq!(request.fetch, LogFetch::Tail(TAIL_LINES));
    assert_eq!(
        view.set_range("c", LogRange::Tail(100)).fetch,
        LogFetch::Tail(100)
    );
}

/// Answers `request` and every read the view asks for after it (a search reading on, a
/// filter reading back), as the update does; the window never grows past its bounds.
/// How many reads it took.
fn serve_all(view: &mut LogView, log: &FakeLog, request: Option<LogRequest>) -> usize {
    let mut next = request;
    let mut reads = 0;
    while let Some(request) = next {
        reads += 1;
        assert!(reads < 1000, "reads that never end");
        view.apply(log.answer(&request));
        assert!(view.len() <= WINDOW_LINES);
        next = view.pending("c");
    }
    reads
}

/// The line the search is on.
fn on_match(view: &LogView) -> &str {
    let id = view.current_match().expect("on a match");
    &view.line(id).expect("held").text.text
}

/// What `n`/`N` asks for, served to the end: the reads it took (0: in the window).
fn step(view: &mut LogView, log: &FakeLog, forward: bool) -> usize {
    match view.next_match("c", forward) {
        Some(MatchStep::Reading(request)) => serve_all(view, log, Some(request)),
        Some(MatchStep::Moved { .. }) => 0,
        None => panic!("nothing to match"),
    }
}

#[test]
fn n_and_shift_n_read_past_the_window_through_the_file_and_wrap_at_its_ends() {
    // 20,000 lines, three errors far apart; a read scans 3,000 lines at most.
    let errors = [50, 7000, 19_500];
    let mut log = FakeLog::new((0..20_000).map(|i| match errors.contains(&i) {
        true => format!("error at {i}"),
        false => format!("line {i}"),
    }));
    log.scan = 3000;
    let mut view = LogView::default();
    let request = view.open("c");
    serve(&mut view, &log, Some(request));
    view.search = "error".into();
    view.refresh();
    // One match among the lines held, more in the file: "1+".
    assert_eq!(view.match_count(), (None, 1));
    assert!(!view.holds_all());
    // Back from the newest line: the one held.
    assert_eq!(step(&mut view, &log, false), 0);
    assert_eq!(on_match(&view), "error at 19500");
    // Back again: read back through the file, a bounded scan at a time, to the next.
    let reads = step(&mut view, &log, false);
    assert_eq!(on_match(&view), "error at 7000");
    assert!(reads >= 4, "12,000 lines back in reads of 3,000: {reads}");
    assert!(view.finding.is_none() && !view.follow);
    assert!(view.len() <= 2 * PAGE_LINES + 1);
    assert_eq!(step(&mut view, &log, false), 3);
    assert_eq!(on_match(&view), "error at 50");
    // Past the log's start: round from its end, and the view says so.
    step(&mut view, &log, false);
    assert_eq!(on_match(&view), "error at 19500");
    assert_eq!(
        view.notice.take().as_deref(),
        Some("search wrapped to the newest match")
    );
    // And on past its end, round to the oldest.
    step(&mut view, &log, true);
    assert_eq!(on_match(&view), "error at 50");
    assert_eq!(
        view.notice.take().as_deref(),
        Some("search wrapped to the oldest match")
    );
    step(&mut view, &log, true);
    assert_eq!(on_match(&view), "error at 7000");
    // Nothing anywhere: the whole file is read once each way round, then it says so.
    view.search = "zzz".into();
    view.refresh();
    let reads = step(&mut view, &log, true);
    assert!(reads <= 2 * 20_000 / 3000 + 2, "{reads}");
    assert!(view.finding.is_none());
    assert_eq!(
        view.notice.take().as_deref(),
        Some("no line matches \"zzz\"")
    );
    // A search under way stops on esc's cancel, its late answer dropped.
    view.search = "error".into();
    view.refresh();
    let Some(MatchStep::Reading(request)) = view.next_match("c", true) else {
        panic!("a read");
    };
    assert!(view.cancel_find());
    assert!(!view.apply(log.answer(&request)));
    assert_eq!(view.pending("c"), None);
    // G too: the view follows again, and the search's answer does not move it.
    let Some(MatchStep::Reading(request)) = view.next_match("c", true) else {
        panic!("a read");
    };
    view.follow_end("c");
    assert!(view.finding.is_none());
    assert!(!view.apply(log.answer(&request)));
    assert!(view.follow);
}

#[test]
fn the_filter_reads_back_through_the_whole_file_and_a_wider_one_reads_afresh() {
    // Every thousandth of 30,000 lines is a GET; a read scans 2,000 lines at most.
    let mut log = FakeLog::new((0..30_000).map(|i| match i % 1000 {
        0 => format!("GET /{i}"),
        _ => format!("line {i}"),
    }));
    log.scan = 2000;
    let mut view = LogView::default();
    let request = view.open("c");
    serve(&mut view, &log, Some(request));
    view.filter = "get".into();
    // The window held one GET; the file is read back for the rest, a bounded scan at
    // a time, as the view stays near the top of so few lines.
    let request = view.filter_changed("c");
    let reads = serve_all(&mut view, &log, request);
    assert!(reads >= 14, "{reads}");
    assert!(view.at_start());
    assert_eq!(view.shown_len(), 30);
    let shown = view.shown_lines();
    assert_eq!(shown.first().map(String::as_str), Some("GET /0"));
    assert_eq!(shown.last().map(String::as_str), Some("GET /29000"));
    // A narrower filter narrows what is held.
    view.filter = "get /2".into();
    assert_eq!(view.filter_changed("c"), None);
    assert_eq!(view.shown_len(), 11, "GET /2000, /20000 .. /29000");
    // Wider again: the window was read through the filter, so it is read afresh.
    view.filter.clear();
    let request = view.filter_changed("c").expect("a fresh read");
    assert_eq!(request.fetch, LogFetch::Tail(TAIL_LINES));
    assert_eq!(request.filter, "");
    serve_all(&mut view, &log, Some(request));
    assert_eq!((view.len(), view.shown_len()), (1000, 1000));
    assert_eq!(bottom(&view), "line 29999");
}

/// A real log file in the engine's json-file form, answering the view's reads and its
/// count's steps as the worker does (each opening the log afresh).
pub(crate) struct RealLog {
    pub path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl RealLog {
    pub fn new(lines: impl IntoIterator<Item = String>) -> RealLog {
        let dir = tempfile::tempdir().unwrap();
        let log = RealLog {
            path: dir.path().join(crate::engine::LOG_FILE),
            _dir: dir,
        };
        log.append(lines);
        log
    }

    /// Adds lines at the end, as the container's monitor does.
    pub fn append(&self, lines: impl IntoIterator<Item = String>) {
        use std::io::Write;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .unwrap();
        let mut out = std::io::BufWriter::new(file);
        for line in lines {
            let entry = crate::engine::LogEntry {
                log: format!("{line}\n"),
                stream: LogStream::Stdout,
                time: Utc::now(),
            };
            serde_json::to_writer(&mut out, &entry).unwrap();
            out.write_all(b"\n").unwrap();
        }
        out.flush().unwrap();
    }

    fn reader(&self) -> crate::engine::LogReader {
        crate::engine::LogReader::open(&self.path).unwrap()
    }

    pub fn answer(&self, request: &LogRequest) -> LogChunk {
        request.read(&mut self.reader()).unwrap()
    }

    pub fn count(&self, request: &CountRequest) -> CountStep {
        request.read(&mut self.reader()).unwrap()
    }

    /// A step as the worker answers it: the log's stamp first, then the step, which
    /// fails if the log is not there.
    pub fn try_count(
        &self,
        request: &CountRequest,
    ) -> (
        Option<crate::tui::preview::LogStamp>,
        Result<CountStep, String>,
    ) {
        let stamp = crate::tui::preview::LogStamp::of(&self.path);
        let step = crate::engine::LogReader::open(&self.path)
            .and_then(|mut reader| request.read(&mut reader))
            .map_err(|e| e.to_string());
        (stamp, step)
    }

    /// A read of the window, failing if the log is not there.
    pub fn try_answer(&self, request: &LogRequest) -> Result<LogChunk, String> {
        crate::engine::LogReader::open(&self.path)
            .and_then(|mut reader| request.read(&mut reader))
            .map_err(|e| e.to_string())
    }
}

/// Runs the count's steps until none is due; how many ran.
fn count_all(view: &mut LogView, log: &RealLog) -> usize {
    let mut steps = 0;
    while let Some(request) = view.count_step("c", false) {
        steps += 1;
        assert!(steps < 1000, "a count that never ends");
        view.counted(log.count(&request));
    }
    steps
}

/// The lines of the counting test: `error N` on every hundredth, and lines whose text
/// matches only once cleaned (colours, an escape splitting the word, a tab and quotes,
/// another script), or whose raw JSON matches but not their text.
fn counted_line(i: usize) -> String {
    match i {
        7 => "\x1b[31mERROR\x1b[0m seven".to_owned(),
        8 => "er\x1b[1mror eight".to_owned(),
        9 => "tab\terror \"nine\"".to_owned(),
        11 => "é error eleven".to_owned(),
        12 => "\x1b[31mline twelve, stream stdout".to_owned(),
        i if i % 100 == 50 => format!("error {i}"),
        i => format!("line {i} ok"),
    }
}

/// The search's count goes over the whole file (200,000 lines, more than one step
/// reads), off the window, in bounded steps; the footer's form changes from the window's
/// "3/62+" to the file's exact "match 2,004/2,004"; lines appended are counted on the
/// next tick; a jump back through the file is placed in the count; a new search drops the
/// old count's step on its way.
#[test]
fn the_search_counts_over_the_whole_file_and_keeps_counting() {
    const LINES: usize = 200_000;
    let log = RealLog::new((0..LINES).map(counted_line));
    let size = std::fs::metadata(&log.path).unwrap().len();
    assert!(size > 2 * count::COUNT_BYTES, "{size} bytes");
    let mut view = LogView::default();
    let request = view.open("c");
    view.apply(log.answer(&request));
    assert_eq!(view.len(), TAIL_LINES);
    view.search = "error".into();
    view.refresh();
    // Counting: the window's count, as before.
    assert_eq!(view.total_count(), None);
    assert!(view.counting());
    assert_eq!(view.match_count(), (None, 10));
    assert!(!view.holds_all());
    let steps = count_all(&mut view, &log);
    assert_eq!(steps as u64, size.div_ceil(count::COUNT_BYTES));
    // 2,000 `error N` and the four that match once cleaned; not the one that says
    // "stdout" in its JSON only, nor "line" lines.
    let total = 2000 + 4;
    assert_eq!(view.total_count(), Some((None, total)));
    assert!(!view.counting());
    // N from the newest line: the last match of the file, numbered in it.
    assert!(matches!(
        view.next_match("c", false),
        Some(MatchStep::Moved { wrapped: false })
    ));
    assert_eq!(view.total_count(), Some((Some(total), total)));
    view.next_match("c", false);
    assert_eq!(view.total_count(), Some((Some(total - 1), total)));
    // Lines appended: a tick's step counts them, and the window follows them in.
    log.append((0..1000).map(|i| format!("late error {i}")));
    let step = view.count_step("c", true).expect("a tick counts on");
    view.counted(log.count(&step));
    assert_eq!(view.total_count(), Some((Some(total - 1), total + 1000)));
    assert!(view.count_step("c", false).is_none(), "caught up");
    // A search into the old lines jumps the window back: counting from the window's line
    // to where the count is places it again.
    view.search = "eight".into();
    view.refresh();
    let stale = view.count_step("c", false).expect("a new count");
    view.search = "error".into();
    view.refresh();
    // The step of the count just left behind is dropped; the new count starts over.
    assert!(!view.counted(log.count(&stale)));
    count_all(&mut view, &log);
    assert_eq!(view.total_count().map(|t| t.1), Some(total + 1000));
    let mut finds = 0;
    loop {
        match view.next_match("c", false) {
            Some(MatchStep::Reading(request)) => {
                finds += 1;
                view.apply(log.answer(&request));
                while let Some(next) = view.pending("c") {
                    view.apply(log.answer(&next));
                }
                break;
            }
            Some(MatchStep::Moved { .. }) => {}
            None => panic!("no match"),
        }
    }
    assert_eq!(finds, 1);
    // The window holds lines around the match before it: "error 198950" and the
    // hundred-odd matches of its own; where in the count it is, a placing step says.
    assert_eq!(view.total_count(), Some((None, total + 1000)));
    let steps = count_all(&mut view, &log);
    assert!(steps >= 1, "placing steps");
    let (at, all) = view.total_count().unwrap();
    assert_eq!(all, total + 1000);
    // Matches are lines 7, 8, 9, 11 and every hundredth from 50: the one the view is
    // on is `error 198950`, the 1,990th of those plus four.
    assert_eq!(on_match(&view), "error 198950");
    assert_eq!(at, Some(1990 + 4));
}

/// The count's steps read the file as the view shows it: each step bounded, the range's
/// time and the filter applied.
#[test]
fn count_steps_are_bounded_and_apply_the_filter_and_the_range() {
    let log = RealLog::new((0..120_000).map(counted_line));
    let request = |search: &str, filter: &str, since| CountRequest {
        id: "c".into(),
        generation: 1,
        from: None,
        search: search.into(),
        filter: filter.into(),
        since,
        mark: None,
        until: None,
    };
    let mut steps = 0;
    let mut total = 0;
    let mut step = request("ERROR", "", None);
    loop {
        steps += 1;
        let reader = &mut log.reader();
        let answer = step.read(reader).unwrap();
        total += answer.matches;
        if answer.at_end {
            break;
        }
        step.from = answer.end;
    }
    assert!(steps > 1);
    assert_eq!(total, 1200 + 4);
    // The filter: only "eight" among those the search matches (its raw text has no
    // "error": it is parsed, as every line with an escape).
    let answer = log.count(&request("error", "EIGHT", None));
    assert_eq!(answer.matches, 1);
    // A range from the future: nothing.
    let later = Utc::now() + chrono::Duration::minutes(1);
    let answer = log.count(&request("error", "", Some(later)));
    assert_eq!(answer.matches, 0);
    assert_eq!(count::grouped(1_204), "1,204");
    assert_eq!(count::grouped(12_345_678), "12,345,678");
    assert_eq!(count::grouped(999), "999");
}
