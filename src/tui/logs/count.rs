//! The search's true count over the whole log file, off the draw loop: the window holds
//! a few thousand lines, so its own count ("3/62+") leaves the rest of the file out. The
//! count goes through the file in steps of [`COUNT_BYTES`] (one worker read each, so
//! typing, a new range or closing the view stops it within a step), keeps nothing but
//! numbers, and once at the log's end reads on from there each tick, so lines appended
//! while the view is open are counted too. A line is parsed only when its raw text could
//! match: most lines are plain ASCII, whose text is their JSON string as it is in the
//! file, and are looked through without parsing.
//!
//! It also places the window in the count: a step that passes the `mark` line (the one
//! the view is on) says how many matches came before it, from which the view keeps how
//! many come before its first line as the window moves; the current match's number is
//! that plus its place in the window ("match 903/1,204").
//!
//! A step that fails (the log gone, a driver that keeps none) stops the count: it is
//! said once, and the next step goes only when the query changes or the log does, which
//! each tick asks of a stat (as the preview pane's), not of another read.

use chrono::{DateTime, Utc};
use memchr::memmem::Finder;

use super::{LogLine, LogRange, LogText, LogView, Needle};
use crate::engine::{Engine, LogEntry, LogPosition, LogReader, Result};
use crate::tui::preview::LogStamp;

/// Bytes one step of the count reads (and a line at most past it).
pub const COUNT_BYTES: u64 = 8 << 20;

/// One step of the count: the matches in the next [`COUNT_BYTES`] from `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountRequest {
    /// The container's ID.
    pub id: String,
    /// The count this step is for: a step of an abandoned count is dropped.
    pub generation: u64,
    /// Where the step starts; `None`: the log's start.
    pub from: Option<LogPosition>,
    pub search: String,
    /// Lines the view's filter hides are not counted.
    pub filter: String,
    /// Lines older than this are not counted (a `since` range).
    pub since: Option<DateTime<Utc>>,
    /// The line the view is on: the step says how many matches it passed before it.
    pub mark: Option<LogPosition>,
    /// Placing the window: the step stops at this line (where the count is), so its
    /// matches are those from the mark up to the count's end.
    pub until: Option<LogPosition>,
}

/// What a step found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountStep {
    pub generation: u64,
    /// Matches in the lines the step read.
    pub matches: u64,
    /// Where the next step goes on.
    pub end: Option<LogPosition>,
    /// The step reached the log's end.
    pub at_end: bool,
    /// The step passed the `mark` line: the matches it had counted before it.
    pub before_mark: Option<u64>,
    /// The step's mark, as asked.
    pub mark: Option<LogPosition>,
    /// `from` is no longer part of the log (rotated out): the count starts again.
    pub lost: bool,
    /// The step was placing the window (it had an `until`), and met it.
    pub placing: bool,
    pub reached: bool,
}

impl CountRequest {
    pub fn load(&self, engine: &Engine) -> Result<CountStep> {
        self.read(&mut engine.open_log(&engine.container(&self.id)?)?)
    }

    /// The step itself, on an open log.
    pub fn read(&self, reader: &mut LogReader) -> Result<CountStep> {
        let mut step = CountStep {
            generation: self.generation,
            matches: 0,
            end: None,
            at_end: false,
            before_mark: None,
            mark: self.mark,
            lost: false,
            placing: self.until.is_some(),
            reached: false,
        };
        if let Some(from) = self.from {
            if !reader.seek(from)? {
                step.lost = true;
                return Ok(step);
            }
        }
        let mut test = LineTest::new(&self.search, &self.filter, self.since);
        let (mut matches, mut before_mark, mut reached) = (0, None, false);
        reader.scan(COUNT_BYTES, &mut |at, raw| {
            if Some(at) == self.until {
                reached = true;
                return Ok(false);
            }
            if Some(at) == self.mark {
                before_mark = Some(matches);
            }
            matches += u64::from(test.matches(raw));
            Ok(true)
        })?;
        step.matches = matches;
        step.before_mark = before_mark;
        // The count's end may be the log's end: nothing after it yet.
        step.reached = reached || (self.until.is_some() && reader.position()? == self.until);
        step.end = reader.position()?;
        step.at_end = reader.remaining()? == 0;
        Ok(step)
    }
}

/// Whether a raw line of the log (its JSON entry) is one the view's search matches.
pub(super) struct LineTest {
    search: Option<Needle>,
    filter: Option<Needle>,
    /// The needles lowercased, when ASCII: raw lines are looked through for them.
    fast: Option<(Finder<'static>, Option<Finder<'static>>)>,
    since: Option<DateTime<Utc>>,
    /// A line lowercased, reused.
    lower: Vec<u8>,
}

/// How the writer starts every entry: the log's text comes first, as a JSON string.
const ENTRY_START: &[u8] = b"{\"log\":\"";

impl LineTest {
    pub(super) fn new(search: &str, filter: &str, since: Option<DateTime<Utc>>) -> LineTest {
        let finder = |text: &str| Finder::new(text.to_ascii_lowercase().as_bytes()).into_owned();
        let fast = (search.is_ascii() && filter.is_ascii())
            .then(|| (finder(search), (!filter.is_empty()).then(|| finder(filter))));
        LineTest {
            search: Needle::new(search),
            filter: Needle::new(filter),
            fast,
            since,
            lower: Vec::new(),
        }
    }

    pub(super) fn matches(&mut self, raw: &[u8]) -> bool {
        if self.search.is_none() {
            return false;
        }
        if let (Some((search, filter)), Some(text)) = (&self.fast, plain_text(raw)) {
            // The text shown is these bytes: no match in them, none at all.
            self.lower.clear();
            self.lower.extend(text.iter().map(u8::to_ascii_lowercase));
            let found = search.find(&self.lower).is_some()
                && filter
                    .as_ref()
                    .is_none_or(|f| f.find(&self.lower).is_some());
            if !found {
                return false;
            }
            if self.since.is_none() {
                return true;
            }
        }
        // Escapes, colours, other scripts, a range by time: as the view reads it.
        let Ok(entry) = serde_json::from_slice::<LogEntry>(raw) else {
            return false;
        };
        if self.since.is_some_and(|since| entry.time < since) {
            return false;
        }
        let line = LogLine {
            at: LogPosition::new(0, 0, 0),
            time: entry.time,
            stream: entry.stream,
            text: LogText::parse(&entry.log),
        };
        let text = &line.text.text;
        self.filter
            .as_ref()
            .is_none_or(|f| f.find(text, 0).is_some())
            && self
                .search
                .as_ref()
                .is_some_and(|s| s.find(text, 0).is_some())
    }
}

/// The text of an entry whose text is plain printable ASCII with nothing escaped but its
/// newline: the view shows exactly these bytes (`LogText::parse` keeps them as they are).
/// `None` for any other line, which is then parsed.
fn plain_text(raw: &[u8]) -> Option<&[u8]> {
    let rest = raw.strip_prefix(ENTRY_START)?;
    let value = &rest[..memchr::memchr(b'"', rest)?];
    let value = value.strip_suffix(b"\\n").unwrap_or(value);
    let value = value.strip_suffix(b"\\r").unwrap_or(value);
    let plain = value.len() <= super::text::MAX_COLUMNS
        && value
            .iter()
            .all(|b| (0x20..0x7f).contains(b) && *b != b'\\');
    plain.then_some(value)
}

/// A window placed by counting from its line to where the count is: the matches after
/// the line are then taken from the total.
#[derive(Debug, Clone, Copy)]
struct Placing {
    mark: LogPosition,
    /// Where the next placing step starts.
    from: LogPosition,
    matches: u64,
}

/// The count's state in the view.
#[derive(Debug, Clone, Default)]
pub struct MatchCount {
    /// Steps of an older count are dropped.
    generation: u64,
    /// Where the count starts: the range's start (`None`: the log's).
    origin: Option<LogPosition>,
    /// Matches counted so far.
    pub total: u64,
    /// Where the next step starts; `None` with `started` false: at `origin`.
    next: Option<LogPosition>,
    started: bool,
    /// The last step reached the log's end: the total is exact as of then.
    pub done: bool,
    /// A step is on its way (one at a time).
    in_flight: bool,
    /// Matches before the window's first line, when known.
    pub before: Option<u64>,
    /// Placing the window: counting from its mark line up to the count's end.
    placing: Option<Placing>,
    /// The mark placing was last tried for: once per mark.
    tried: Option<LogPosition>,
    /// What is counted: the search, the filter and the range's time.
    query: (String, String, Option<DateTime<Utc>>),
    /// The step that failed, if the count stopped on one.
    failed: Option<CountFailure>,
}

/// Why the count stopped, and the log as it was then.
#[derive(Debug, Clone)]
struct CountFailure {
    error: String,
    /// The log's stamp from before the failed step; `None` when it could not be told,
    /// and then only a new query counts again.
    stamp: Option<LogStamp>,
    /// A stat of the log is on its way (one at a time).
    checking: bool,
}

impl LogView {
    fn query(&self) -> (String, String, Option<DateTime<Utc>>) {
        (self.search.clone(), self.filter.clone(), self.since)
    }

    fn query_is_current(&self) -> bool {
        let (search, filter, since) = &self.count.query;
        *search == self.search && *filter == self.filter && *since == self.since
    }

    /// The search, the filter or the range changed since the count began: it starts
    /// again (a step on its way is dropped when it arrives).
    fn sync_query(&mut self) {
        if !self.query_is_current() {
            self.recount();
        }
    }

    fn recount(&mut self) {
        self.count.query = self.query();
        let count = &mut self.count;
        count.generation += 1;
        count.total = 0;
        count.next = None;
        count.started = false;
        count.done = false;
        count.placing = None;
        count.tried = None;
        count.failed = None;
        count.before = self.at_start.then_some(0);
    }

    /// The count's next step, if one is due: placing a window whose place is unknown
    /// (it jumped somewhere the count had passed); the count under way; once it reached
    /// the end, what the log gained since, each `tick`.
    pub fn count_step(&mut self, id: &str, tick: bool) -> Option<CountRequest> {
        self.sync_query();
        let stopped = self.count.failed.is_some();
        if stopped || self.search.is_empty() || self.count.in_flight || !self.loaded {
            return None;
        }
        let mark = self
            .current
            .or(self.bottom)
            .or(self.last_id())
            .and_then(|id| self.line(id))
            .map(|l| l.at);
        let count = &mut self.count;
        if count.placing.is_some_and(|p| Some(p.mark) != mark) {
            count.placing = None;
        }
        let unplaced = count.before.is_none() && !self.at_start && count.done;
        if let (true, Some(mark), Some(_), None) = (unplaced, mark, count.next, count.placing) {
            if count.tried != Some(mark) {
                count.tried = Some(mark);
                count.placing = Some(Placing {
                    mark,
                    from: mark,
                    matches: 0,
                });
            }
        }
        let (from, until, mark) = match count.placing {
            Some(p) => (Some(p.from), count.next, Some(p.mark)),
            None if count.done && !tick => return None,
            None if count.started => (count.next, None, mark),
            None => (count.origin, None, mark),
        };
        count.in_flight = true;
        Some(CountRequest {
            id: id.to_owned(),
            generation: count.generation,
            from,
            search: self.search.clone(),
            filter: self.filter.clone(),
            since: self.since,
            mark,
            until,
        })
    }

    /// A step of count `generation` failed, the log as `stamp` says before it: the count
    /// stops there (the window's count stays). Whether it is news: a step of a count the
    /// query left behind stops nothing, and the failure is said once.
    pub fn count_failed(
        &mut self,
        generation: u64,
        error: String,
        stamp: Option<LogStamp>,
    ) -> bool {
        self.count.in_flight = false;
        self.sync_query();
        if generation != self.count.generation || self.count.failed.is_some() {
            return false;
        }
        self.count.placing = None;
        self.count.failed = Some(CountFailure {
            error,
            stamp,
            checking: false,
        });
        true
    }

    /// Each tick while the count is stopped: whether to stat the log to see if it changed
    /// (a stat at a time, none when its stamp could not be told).
    pub fn count_check(&mut self) -> bool {
        match &mut self.count.failed {
            Some(failed) if failed.stamp.is_some() && !failed.checking => {
                failed.checking = true;
                true
            }
            _ => false,
        }
    }

    /// The stat arrived: a log other than the one the step failed on (written to,
    /// truncated, rotated, back) counts again from the start. Whether it does.
    pub fn log_stamped(&mut self, stamp: Option<LogStamp>) -> bool {
        let Some(failed) = &mut self.count.failed else {
            return false;
        };
        failed.checking = false;
        if stamp.is_none() || stamp == failed.stamp {
            return false;
        }
        self.recount();
        true
    }

    /// Why the count stopped, while it is stopped.
    pub fn count_error(&self) -> Option<&str> {
        self.count.failed.as_ref().map(|f| f.error.as_str())
    }

    /// A step arrived. Whether the footer changed.
    pub fn counted(&mut self, step: CountStep) -> bool {
        self.count.in_flight = false;
        self.sync_query();
        if step.generation != self.count.generation {
            return false;
        }
        let was = (self.count.total, self.count.done, self.count.before);
        if step.placing {
            let Some(mut placing) = self.count.placing.take() else {
                return false;
            };
            placing.matches += step.matches;
            match step.end {
                Some(end) if !step.reached && !step.at_end && !step.lost => {
                    placing.from = end;
                    self.count.placing = Some(placing);
                }
                // Met the count's end: the matches before the mark are the rest.
                _ if step.reached => {
                    let before = self.count.total.checked_sub(placing.matches);
                    self.place(placing.mark, before);
                }
                // The log ended first: the mark is ahead of the count, which places it
                // when it gets there.
                _ => {}
            }
            return was != (self.count.total, self.count.done, self.count.before);
        }
        if step.lost {
            // Rotated away under the count: from the log's start again.
            self.count.origin = None;
            self.recount();
            return true;
        }
        let before_step = self.count.total;
        let count = &mut self.count;
        count.total += step.matches;
        count.started = true;
        count.next = step.end.or(count.next);
        count.done = step.at_end;
        if let (Some(mark), Some(n)) = (step.mark, step.before_mark) {
            self.place(mark, Some(before_step + n));
        }
        was != (self.count.total, self.count.done, self.count.before)
    }

    /// `before` matches come before the line at `mark`: those before the window's first
    /// line are that less the window's own before it.
    fn place(&mut self, mark: LogPosition, before: Option<u64>) {
        if let (Some(at), Some(before)) = (self.lines.iter().position(|l| l.at == mark), before) {
            let held = self.matches_in(0..at);
            self.count.before = before.checked_sub(held);
        }
    }

    /// The range's first line was read: the count starts there.
    pub(super) fn set_count_origin(&mut self, origin: Option<LogPosition>) {
        if self.count.origin != origin {
            self.count.origin = origin;
            self.recount();
        }
    }

    /// How many of the window's lines in `range` (indices) the search matches.
    fn matches_in(&self, range: std::ops::Range<usize>) -> u64 {
        let (Some(first), Some(last)) = (
            self.first_id.checked_add(range.start as u64),
            self.first_id.checked_add(range.end as u64),
        ) else {
            return 0;
        };
        let from = self.matches.partition_point(|&m| m < first);
        let to = self.matches.partition_point(|&m| m < last);
        (to - from) as u64
    }

    /// Lines leave the window's front or join it (`sign`): the matches before it change
    /// by theirs.
    pub(super) fn count_moved(&mut self, lines: &[&LogLine], joined: bool) {
        let Some(before) = self.count.before.filter(|_| self.query_is_current()) else {
            return;
        };
        let filter = Needle::new(&self.filter);
        let Some(search) = Needle::new(&self.search) else {
            return;
        };
        let n = lines
            .iter()
            .filter(|l| {
                filter
                    .as_ref()
                    .is_none_or(|f| f.find(&l.text.text, 0).is_some())
                    && search.find(&l.text.text, 0).is_some()
            })
            .count() as u64;
        self.count.before = match joined {
            true => before.checked_sub(n),
            false => before.checked_add(n),
        };
    }

    /// The window was replaced by lines elsewhere in the log: where it is in the count
    /// is known again only at the log's start (or once a step passes the view's line).
    pub(super) fn count_lost_place(&mut self) {
        self.count.before = self.at_start.then_some(0);
    }

    /// The search's matches over the whole log once counted: the current match's number
    /// in it (when the window's place is known) and the total. `None` while counting.
    pub fn total_count(&self) -> Option<(Option<u64>, u64)> {
        if !self.count.done || !self.count.started || !self.query_is_current() {
            return None;
        }
        let (at, held) = self.match_count();
        let at = match (at, self.count.before) {
            (Some(at), Some(before)) => Some(before + at as u64),
            _ => None,
        };
        // Lines the window read since the last step count already.
        let held_total = self.count.before.map_or(0, |b| b + held as u64);
        Some((at, self.count.total.max(held_total)))
    }

    /// The count is under way (its total not known yet).
    pub fn counting(&self) -> bool {
        !self.search.is_empty() && self.count.failed.is_none() && self.total_count().is_none()
    }
}

/// `1204` as "1,204".
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Whether a range starts at a line of its own (a tail), rather than the log's start or
/// a time.
pub(super) fn range_has_origin(range: LogRange) -> bool {
    matches!(range, LogRange::Tail(_))
}
