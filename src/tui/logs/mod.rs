//! The log view's state: a window of lines around what is on screen, read from the log
//! file on demand (the newest when following, older pages when scrolling back, newer
//! ones when scrolling down again), never the whole log; a search that marks matches and
//! moves between them, reading on through the file past the window for the next one; a
//! filter that shows only matching lines, read back through the whole file as the view
//! goes up; the toggles. The reads
//! themselves are `load.rs`, the cleaning of a line `text.rs`, the drawing
//! `views/logs.rs`, the keys `update/logs.rs`.

pub mod count;
pub mod load;
pub mod text;

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

pub use count::{grouped, CountRequest, CountStep};
pub use load::{last_lines, save_log, LogChunk, LogFetch, LogRequest, SCAN_LINES};
pub use text::LogText;

use crate::engine::{LogPosition, LogStream};

/// Lines read when the view opens or jumps to the end: the tail, as `logs --tail`.
pub const TAIL_LINES: usize = 1000;
/// Lines read per page when scrolling past either end of the window.
pub const PAGE_LINES: usize = 500;
/// The window's bounds: past either, lines far from the view are let go.
pub const WINDOW_LINES: usize = 5000;
pub const WINDOW_BYTES: usize = 8 << 20;
/// A page is read ahead once the view comes this close to the window's end: farther
/// than a scroll goes at once, so the view never stops at the window's edge.
const READ_AHEAD: usize = 1000;
/// Ids of the first window's lines start here, so pages read before it stay positive.
const FIRST_ID: u64 = 1 << 40;

/// One line of the log as the view keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Where its entry starts in the log file.
    pub at: LogPosition,
    pub time: DateTime<Utc>,
    pub stream: LogStream,
    pub text: LogText,
}

/// Which part of the log the view reads: all of it, the last lines, or since a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogRange {
    All,
    /// The last this many lines when chosen, then what follows; nothing older.
    Tail(usize),
    /// Lines no older than this many minutes when chosen.
    SinceMinutes(i64),
}

impl LogRange {
    /// The choices `logs.range` goes through, in order.
    pub const CHOICES: [LogRange; 5] = [
        LogRange::All,
        LogRange::Tail(100),
        LogRange::SinceMinutes(1),
        LogRange::SinceMinutes(15),
        LogRange::SinceMinutes(60),
    ];

    pub fn next(self) -> LogRange {
        let at = Self::CHOICES.iter().position(|r| *r == self).unwrap_or(0);
        Self::CHOICES[(at + 1) % Self::CHOICES.len()]
    }

    /// For the footer: "tail 100", "since 15m"; nothing for the whole log.
    pub fn label(self) -> Option<String> {
        match self {
            LogRange::All => None,
            LogRange::Tail(n) => Some(format!("tail {n}")),
            LogRange::SinceMinutes(m) if m % 60 == 0 => Some(format!("since {}h", m / 60)),
            LogRange::SinceMinutes(m) => Some(format!("since {m}m")),
        }
    }
}

/// A search reading through the file for the next match past the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    /// Towards newer lines.
    pub forward: bool,
    /// It went round from the log's other end already.
    pub wrapped: bool,
    /// The read to send next (the last one ran out of lines to scan, or reached the end).
    next: Option<LogFetch>,
}

/// What `n`/`N` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchStep {
    /// The view is on the match; whether it went round the end (or start).
    Moved { wrapped: bool },
    /// The next match is past the window: this read looks for it in the file.
    Reading(LogRequest),
}

/// What `/` or `&` is typing into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogInput {
    Search,
    Filter,
}

/// The open logs tab.
#[derive(Debug, Clone)]
pub struct LogView {
    /// The window: consecutive entries of the log, oldest first.
    lines: VecDeque<LogLine>,
    /// The id of `lines[0]`; ids count up the log and stay put as the window moves.
    first_id: u64,
    /// Bytes the window's text holds.
    bytes: usize,
    /// Where reading after the window continues.
    end: Option<LogPosition>,
    /// Where reading before the window continues (before lines a filter skipped, too).
    start: Option<LogPosition>,
    /// The filter the window's lines were read with: every line held passes it.
    loaded_filter: String,
    /// A search reading through the file past the window.
    pub finding: Option<Finding>,
    /// Something to tell the user about the last read (a search that wrapped or found
    /// nothing); the update takes it.
    pub notice: Option<String>,
    /// Nothing before the window can be shown: the log's start, or the range's.
    at_start: bool,
    /// The window ends where the log did when it was last read.
    at_end: bool,
    /// The first read has arrived.
    pub loaded: bool,
    /// Why the last read failed.
    pub error: Option<String>,
    /// A read is under way: one at a time.
    pub loading: bool,
    /// Reads asked for before the window was last replaced are dropped when they arrive.
    generation: u64,
    /// New lines are read as they come and the view stays on the newest.
    pub follow: bool,
    /// The id of the line at the bottom of the view; `None`: the newest.
    bottom: Option<u64>,
    pub wrap: bool,
    pub timestamps: bool,
    /// Colours from the container's SGR sequences (else plain text).
    pub colours: bool,
    pub range: LogRange,
    /// When the range was chosen, for `since`.
    since: Option<DateTime<Utc>>,
    pub search: String,
    pub filter: String,
    /// What typed text goes to.
    pub input: LogInput,
    /// With a filter: the ids of the lines it shows, in order.
    shown: Vec<u64>,
    /// The ids of shown lines the search matches, in order.
    matches: Vec<u64>,
    /// The line of the match the search is on.
    current: Option<u64>,
    /// Rows the last frame gave the lines, so a match can be shown mid-screen with
    /// what follows it (the draw sets it; update only reads it).
    pub rows: std::cell::Cell<usize>,
    /// The lines a page key moves up and down at the last frame (0 before the first): up,
    /// its top line becomes the bottom one; down, its bottom line becomes the top one.
    /// Wrapped lines take rows, so these count lines, not rows (the draw sets them).
    pub page: std::cell::Cell<(usize, usize)>,
    /// The search's count over the whole file (`count.rs`).
    count: count::MatchCount,
}

impl Default for LogView {
    fn default() -> LogView {
        LogView {
            lines: VecDeque::new(),
            first_id: FIRST_ID,
            bytes: 0,
            end: None,
            start: None,
            loaded_filter: String::new(),
            finding: None,
            notice: None,
            at_start: false,
            at_end: false,
            loaded: false,
            error: None,
            loading: false,
            generation: 0,
            follow: true,
            bottom: None,
            wrap: false,
            timestamps: false,
            colours: true,
            range: LogRange::All,
            since: None,
            search: String::new(),
            filter: String::new(),
            input: LogInput::Search,
            shown: Vec::new(),
            matches: Vec::new(),
            current: None,
            rows: std::cell::Cell::new(0),
            page: std::cell::Cell::new((0, 0)),
            count: count::MatchCount::default(),
        }
    }
}

impl LogView {
    /// The read that fills the view afresh (opening, a new range): the tail.
    pub fn open(&mut self, id: &str) -> LogRequest {
        self.generation += 1;
        self.loading = true;
        self.finding = None;
        self.request(id, LogFetch::Tail(self.tail_lines()))
    }

    fn tail_lines(&self) -> usize {
        match self.range {
            LogRange::Tail(n) => n,
            _ => TAIL_LINES,
        }
    }

    /// A read for the window. Its lines pass the filter: from now on the window is
    /// whole only for lines this filter passes.
    fn request(&mut self, id: &str, fetch: LogFetch) -> LogRequest {
        self.loaded_filter.clone_from(&self.filter);
        LogRequest {
            id: id.to_owned(),
            fetch,
            since: self.since,
            generation: self.generation,
            tail: self.tail_lines(),
            filter: self.filter.clone(),
            search: self.search.clone(),
        }
    }

    /// A clock tick: while following, what the log gained since the last read.
    pub fn tick(&mut self, id: &str) -> Option<LogRequest> {
        if !self.follow || !self.loaded {
            return None;
        }
        self.read_after(id, WINDOW_LINES)
    }

    /// Reads on after the window: a follower all there is (up to a window), a reader
    /// scrolling down a page.
    fn read_after(&mut self, id: &str, max: usize) -> Option<LogRequest> {
        if self.loading {
            return None;
        }
        let Some(end) = self.end else {
            // Nothing was in the log at the last read: the tail again.
            return Some(self.open(id));
        };
        self.loading = true;
        Some(self.request(id, LogFetch::After { from: end, max }))
    }

    fn read_before(&mut self, id: &str) -> Option<LogRequest> {
        if self.loading || self.at_start {
            return None;
        }
        let from = self.start.or_else(|| Some(self.lines.front()?.at))?;
        self.loading = true;
        Some(self.request(
            id,
            LogFetch::Before {
                from,
                n: PAGE_LINES,
            },
        ))
    }

    /// A read arrived; one for a window since replaced is dropped. Whether the view
    /// changed (a follower's read that found nothing new draws nothing).
    pub fn apply(&mut self, chunk: LogChunk) -> bool {
        if chunk.generation != self.generation {
            return false;
        }
        self.loading = false;
        if let LogFetch::Find { forward, .. } = chunk.fetch {
            return self.found(chunk, forward);
        }
        let changed = !self.loaded
            || !chunk.lines.is_empty()
            || chunk.jumped
            || self.error.is_some()
            || matches!(chunk.fetch, LogFetch::Tail(_) | LogFetch::Before { .. });
        self.loaded = true;
        self.error = None;
        match chunk.fetch {
            LogFetch::Tail(_) => {
                self.lines.clear();
                self.bytes = 0;
                self.first_id = FIRST_ID;
                self.bottom = None;
                self.current = None;
                self.at_start = chunk.at_start || matches!(self.range, LogRange::Tail(_));
                self.push_back(chunk.lines);
                self.end = chunk.end;
                self.start = chunk.start;
                self.at_end = true;
                let origin = chunk.start.filter(|_| count::range_has_origin(self.range));
                self.set_count_origin(origin);
                self.count_lost_place();
            }
            LogFetch::After { .. } => {
                if chunk.jumped {
                    // Far behind: the lines between are skipped, the window starts anew
                    // (its ids after the old ones, so nothing points into it by mistake).
                    self.first_id += self.lines.len() as u64 + 1;
                    self.lines.clear();
                    self.bytes = 0;
                    self.at_start = matches!(self.range, LogRange::Tail(_));
                    self.start = chunk.start;
                    self.count_lost_place();
                }
                self.push_back(chunk.lines);
                self.end = chunk.end.or(self.end);
                self.at_end = chunk.at_end;
                self.trim_front();
            }
            LogFetch::Before { .. } => {
                self.at_start = chunk.at_start;
                self.start = chunk.start;
                self.count_moved(&chunk.lines.iter().collect::<Vec<_>>(), true);
                for line in chunk.lines.into_iter().rev() {
                    self.bytes += line.text.size();
                    self.lines.push_front(line);
                    self.first_id -= 1;
                }
                self.trim_back();
            }
            LogFetch::Find { .. } => {}
        }
        self.refresh();
        self.count_placed();
        changed
    }

    /// At the log's (or range's) start nothing comes before the window.
    fn count_placed(&mut self) {
        if self.at_start {
            self.count_lost_place();
        }
    }

    /// A search's read of the file arrived: the window anew around the match it found;
    /// or the next read (more to scan, or round from the other end once); or nothing
    /// matches anywhere.
    fn found(&mut self, chunk: LogChunk, forward: bool) -> bool {
        let Some(finding) = self.finding.as_mut() else {
            // Cancelled meanwhile.
            return false;
        };
        if let Some(at) = chunk.found {
            let wrapped = finding.wrapped;
            self.finding = None;
            // New ids after the old ones, so nothing points into the new window by mistake.
            self.first_id += self.lines.len() as u64 + 1;
            self.lines.clear();
            self.bytes = 0;
            self.at_start = chunk.at_start;
            self.at_end = chunk.at_end;
            self.start = chunk.start;
            self.end = chunk.end;
            self.push_back(chunk.lines);
            self.trim_front();
            self.count_lost_place();
            self.bottom = self.last_id();
            self.refresh();
            let to = self
                .lines
                .iter()
                .position(|l| l.at == at)
                .map(|i| self.first_id + i as u64);
            if let Some(to) = to {
                self.go_to_match(to);
            }
            if wrapped {
                self.notice = Some(wrap_notice(forward));
            }
            return true;
        }
        if let Some(from) = chunk.resume {
            finding.next = Some(LogFetch::Find {
                from: Some(from),
                forward,
            });
            return true;
        }
        // The log's end (or start) reached: round from the other end, once; a window
        // that already holds that end wraps within itself.
        let held = if forward { self.at_start } else { self.at_end };
        if !finding.wrapped && held && !self.matches.is_empty() {
            self.finding = None;
            let to = if forward {
                self.matches[0]
            } else {
                self.matches[self.matches.len() - 1]
            };
            self.go_to_match(to);
            self.notice = Some(wrap_notice(forward));
        } else if !finding.wrapped {
            finding.wrapped = true;
            finding.next = Some(LogFetch::Find {
                from: None,
                forward,
            });
        } else {
            self.finding = None;
            self.notice = Some(format!("no line matches {:?}", self.search));
        }
        true
    }

    /// The read to send after one arrived: a search's next, or with a filter, the page
    /// before the window while the view is near its top (a filter that lets few lines
    /// through reads back until it has more than a screenful above the view, or the
    /// log's start).
    pub fn pending(&mut self, id: &str) -> Option<LogRequest> {
        if self.loading {
            return None;
        }
        if let Some(finding) = self.finding.as_mut() {
            let fetch = finding.next.take()?;
            self.loading = true;
            return Some(self.request(id, fetch));
        }
        let near_top = self.bottom_index().is_none_or(|b| b < READ_AHEAD);
        if !self.filter.is_empty() && self.loaded && self.error.is_none() && near_top {
            return self.read_before(id);
        }
        None
    }

    /// The filter was typed: the shown lines follow at once; a filter that is no longer
    /// narrower than the one the window was read with reads the window afresh (the lines
    /// it now lets through were never read).
    pub fn filter_changed(&mut self, id: &str) -> Option<LogRequest> {
        self.refresh();
        if self.filter.contains(self.loaded_filter.as_str()) {
            return self.pending(id);
        }
        self.follow = true;
        self.bottom = None;
        self.current = None;
        Some(self.open(id))
    }

    /// Stops a search reading through the file; false when none was.
    pub fn cancel_find(&mut self) -> bool {
        self.finding.take().is_some()
    }

    /// A read failed: the view says so and stops following (`G` tries again).
    pub fn failed(&mut self, error: String) {
        self.loading = false;
        self.loaded = true;
        self.follow = false;
        self.error = Some(error);
    }

    fn push_back(&mut self, lines: Vec<LogLine>) {
        for line in lines {
            self.bytes += line.text.size();
            self.lines.push_back(line);
        }
    }

    fn over(&self) -> bool {
        self.lines.len() > WINDOW_LINES || self.bytes > WINDOW_BYTES
    }

    /// Following: the oldest lines go.
    fn trim_front(&mut self) {
        while self.over() {
            let Some(line) = self.lines.pop_front() else {
                break;
            };
            self.count_moved(&[&line], false);
            self.bytes -= line.text.size();
            self.first_id += 1;
            self.at_start = false;
            self.start = self.lines.front().map(|l| l.at);
        }
    }

    /// Scrolled back: the newest lines go, and reading on starts where they did.
    fn trim_back(&mut self) {
        while self.over() {
            let Some(line) = self.lines.pop_back() else {
                break;
            };
            self.bytes -= line.text.size();
            self.end = Some(line.at);
            self.at_end = false;
        }
    }

    fn last_id(&self) -> Option<u64> {
        (!self.lines.is_empty()).then(|| self.first_id + self.lines.len() as u64 - 1)
    }

    /// The line with this id, if the window holds it.
    pub fn line(&self, id: u64) -> Option<&LogLine> {
        self.lines
            .get(usize::try_from(id.checked_sub(self.first_id)?).ok()?)
    }

    /// Lines in the window.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Whether the window reaches back to the start (of the log or the range).
    pub fn at_start(&self) -> bool {
        self.at_start
    }

    /// How many lines are shown (all, or those the filter lets through).
    pub fn shown_len(&self) -> usize {
        if self.filter.is_empty() {
            self.lines.len()
        } else {
            self.shown.len()
        }
    }

    /// The id of the `i`th shown line.
    pub fn shown_id(&self, i: usize) -> Option<u64> {
        if self.filter.is_empty() {
            (i < self.lines.len()).then(|| self.first_id + i as u64)
        } else {
            self.shown.get(i).copied()
        }
    }

    /// Where the line `id` is among the shown ones, or the last shown before it.
    fn shown_index(&self, id: u64) -> Option<usize> {
        if self.filter.is_empty() {
            let last = self.last_id()?;
            return Some((id.clamp(self.first_id, last) - self.first_id) as usize);
        }
        match self.shown.binary_search(&id) {
            Ok(i) => Some(i),
            Err(0) => (!self.shown.is_empty()).then_some(0),
            Err(i) => Some(i - 1),
        }
    }

    /// The index among the shown lines of the view's bottom line: never so near the top
    /// that rows stay empty below it while lines follow.
    pub fn bottom_index(&self) -> Option<usize> {
        let last = self.shown_len().checked_sub(1)?;
        match self.bottom {
            Some(id) => {
                let at = self.shown_index(id)?;
                Some(at.max(self.rows.get().saturating_sub(1).min(last)))
            }
            None => Some(last),
        }
    }

    /// Works out which lines the filter shows and which the search matches, after the
    /// window, the filter or the search changed.
    pub fn refresh(&mut self) {
        let filter = Needle::new(&self.filter);
        self.shown = match &filter {
            Some(needle) => self
                .lines
                .iter()
                .enumerate()
                .filter(|(_, l)| needle.find(&l.text.text, 0).is_some())
                .map(|(i, _)| self.first_id + i as u64)
                .collect(),
            None => Vec::new(),
        };
        self.matches = match Needle::new(&self.search) {
            Some(needle) => (0..self.shown_len())
                .filter_map(|i| self.shown_id(i))
                .filter(|id| {
                    self.line(*id)
                        .is_some_and(|l| needle.find(&l.text.text, 0).is_some())
                })
                .collect(),
            None => Vec::new(),
        };
        if self
            .current
            .is_some_and(|c| self.matches.binary_search(&c).is_err())
        {
            self.current = None;
        }
        // A bottom line let go of: the nearest line held.
        if let (Some(bottom), Some(last)) = (self.bottom, self.last_id()) {
            self.bottom = Some(bottom.clamp(self.first_id, last));
        } else if self.lines.is_empty() {
            self.bottom = None;
        }
    }

    /// The line at the bottom of the view.
    pub fn bottom_line(&self) -> Option<&LogLine> {
        self.line(self.shown_id(self.bottom_index()?)?)
    }

    /// Moves the view `by` shown lines (negative: up, towards older). Going up stops
    /// following; coming near the window's ends reads the next page.
    pub fn scroll(&mut self, id: &str, by: isize) -> Option<LogRequest> {
        let len = self.shown_len();
        let at = self.bottom_index()?;
        let to = (at as isize + by).clamp(0, len as isize - 1) as usize;
        if by < 0 {
            self.follow = false;
        }
        if !self.follow {
            self.bottom = self.shown_id(to);
        }
        if to < READ_AHEAD {
            return self.read_before(id);
        }
        if !self.follow && !self.at_end && to + READ_AHEAD >= len {
            return self.read_after(id, PAGE_LINES);
        }
        None
    }

    /// Follows again from the newest line (`G`, `end`, resuming).
    pub fn follow_end(&mut self, id: &str) -> Option<LogRequest> {
        self.follow = true;
        self.bottom = None;
        self.current = None;
        // A search reading through the file stops: its answer would move the view.
        self.finding = None;
        self.read_after(id, WINDOW_LINES)
    }

    /// Stops following, the view where it is.
    pub fn pause(&mut self) {
        self.follow = false;
        self.bottom = self.bottom.or(self.last_id());
    }

    /// Shows the oldest line held (and reads further back).
    pub fn top(&mut self, id: &str) -> Option<LogRequest> {
        self.follow = false;
        self.bottom = self.shown_id(0);
        self.read_before(id)
    }

    /// A new range: the window is read afresh.
    pub fn set_range(&mut self, id: &str, range: LogRange) -> LogRequest {
        self.range = range;
        self.since = match range {
            LogRange::SinceMinutes(m) => Some(Utc::now() - chrono::Duration::minutes(m)),
            _ => None,
        };
        self.follow = true;
        self.bottom = None;
        self.open(id)
    }

    /// The search's matches among the lines held: how many, and which of them it is on
    /// (1-based).
    pub fn match_count(&self) -> (Option<usize>, usize) {
        let at = self
            .current
            .and_then(|c| self.matches.binary_search(&c).ok())
            .map(|i| i + 1);
        (at, self.matches.len())
    }

    /// Whether the window holds the whole log (as of its last read): else the file has
    /// lines the counts leave out, and `n`/`N` read on into them.
    pub fn holds_all(&self) -> bool {
        self.at_start && self.at_end
    }

    /// The line the search is on.
    pub fn current_match(&self) -> Option<u64> {
        self.current
    }

    /// Moves to the next (`forward`: newer) or previous match; from the newest line
    /// (following) forward goes round to the oldest match and back is the newest. Past
    /// the lines held, the file is read on for it (`Reading`), round from the log's other
    /// end at its end. Stops following. `None` when nothing can match: no search, no
    /// read yet, or none in a window that holds the whole log.
    pub fn next_match(&mut self, id: &str, forward: bool) -> Option<MatchStep> {
        // Before the first read there is no window to search from.
        if self.search.is_empty() || !self.loaded {
            return None;
        }
        let from = match (self.current, self.bottom) {
            (Some(c), _) => Some(c),
            (None, Some(b)) => Some(b),
            // At the newest line: going back starts from just after it.
            (None, None) => None,
        };
        let found = match (forward, from) {
            (true, Some(from)) => self.matches.iter().find(|&&m| m > from).copied(),
            (true, None) => None,
            (false, Some(from)) if self.current.is_some() => {
                self.matches.iter().rev().find(|&&m| m < from).copied()
            }
            (false, Some(from)) => self.matches.iter().rev().find(|&&m| m <= from).copied(),
            (false, None) => self.matches.last().copied(),
        };
        if let Some(to) = found {
            self.go_to_match(to);
            return Some(MatchStep::Moved { wrapped: false });
        }
        self.follow = false;
        // Past the window that way: the file goes on there (from the newest line, `n`
        // goes round to the log's start).
        let following = forward && from.is_none();
        let beyond = match forward {
            true => !self.at_end && !following,
            false => !self.at_start,
        };
        if beyond {
            let edge = match forward {
                true => self.end,
                false => self.start.or_else(|| self.lines.front().map(|l| l.at)),
            };
            return Some(self.find(id, forward, edge, false));
        }
        // The window reaches the log's end that way: round, within it when it holds the
        // other end too, else from the log's other end.
        let other_end = if forward { self.at_start } else { self.at_end };
        if other_end {
            let to = match forward {
                true => *self.matches.first()?,
                false => *self.matches.last()?,
            };
            self.go_to_match(to);
            return Some(MatchStep::Moved { wrapped: true });
        }
        Some(self.find(id, forward, None, true))
    }

    /// A search read of the file from `from` (`None`: the log's start or end).
    fn find(
        &mut self,
        id: &str,
        forward: bool,
        from: Option<LogPosition>,
        wrapped: bool,
    ) -> MatchStep {
        // One read at a time: a page on its way is for the window this one replaces.
        self.generation += 1;
        self.loading = true;
        self.finding = Some(Finding {
            forward,
            wrapped,
            next: None,
        });
        MatchStep::Reading(self.request(id, LogFetch::Find { from, forward }))
    }

    /// Puts the view on the match `to`: mid-screen, with the lines after it below.
    fn go_to_match(&mut self, to: u64) {
        self.current = Some(to);
        self.follow = false;
        let below = self.rows.get() / 2;
        self.bottom = self
            .shown_index(to)
            .and_then(|i| self.shown_id((i + below).min(self.shown_len().saturating_sub(1))));
    }

    /// Clears the search or, without one, the filter; false when neither was set.
    pub fn clear_text(&mut self) -> bool {
        let text = if !self.search.is_empty() {
            &mut self.search
        } else if !self.filter.is_empty() {
            &mut self.filter
        } else {
            return false;
        };
        text.clear();
        self.current = None;
        self.finding = None;
        self.refresh();
        true
    }

    /// What typed text edits.
    pub fn typed_mut(&mut self) -> &mut String {
        match self.input {
            LogInput::Search => &mut self.search,
            LogInput::Filter => &mut self.filter,
        }
    }

    pub fn typed(&self) -> &str {
        match self.input {
            LogInput::Search => &self.search,
            LogInput::Filter => &self.filter,
        }
    }

    /// The shown lines' text, as drawn without colours.
    pub fn shown_lines(&self) -> Vec<String> {
        (0..self.shown_len())
            .filter_map(|i| self.line(self.shown_id(i)?))
            .map(|l| l.text.text.clone())
            .collect()
    }

    /// The shown lines as text, for `s`: each as the view shows it, without colours, with
    /// its time when the view shows times (in Docker's `logs -t` form).
    pub fn shown_text(&self) -> (usize, String) {
        let mut out = String::new();
        let len = self.shown_len();
        for i in 0..len {
            let Some(line) = self.shown_id(i).and_then(|id| self.line(id)) else {
                continue;
            };
            if self.timestamps {
                out.push_str(
                    &line
                        .time
                        .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
                );
                out.push(' ');
            }
            out.push_str(&line.text.text);
            out.push('\n');
        }
        (len, out)
    }
}

fn wrap_notice(forward: bool) -> String {
    match forward {
        true => "search wrapped to the oldest match".to_owned(),
        false => "search wrapped to the newest match".to_owned(),
    }
}

/// A case-insensitive search for typed text.
pub struct Needle {
    lower: String,
}

impl Needle {
    /// `None` for empty text: nothing to look for.
    pub fn new(text: &str) -> Option<Needle> {
        (!text.is_empty()).then(|| Needle {
            lower: text.to_lowercase(),
        })
    }

    /// The first match in `hay` at or after byte `from`.
    pub fn find(&self, hay: &str, from: usize) -> Option<std::ops::Range<usize>> {
        let hay_from = hay.get(from..)?;
        let needle = self.lower.as_bytes();
        if self.lower.is_ascii() {
            // Bytes compared without case: no copy of the line, offsets stay the line's.
            let found = hay_from
                .as_bytes()
                .windows(needle.len())
                .position(|w| w.eq_ignore_ascii_case(needle))?;
            return Some(from + found..from + found + needle.len());
        }
        // Lowercasing can change lengths outside ASCII; then only the exact text matches.
        let lower = hay_from.to_lowercase();
        let found = lower.find(&self.lower)?;
        if lower.len() == hay_from.len() {
            Some(from + found..from + found + self.lower.len())
        } else {
            let found = hay_from.find(&self.lower)?;
            Some(from + found..from + found + self.lower.len())
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
