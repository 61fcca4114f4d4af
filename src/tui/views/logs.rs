//! A container's logs tab: the lines around the view's bottom line (wrapped or cut at
//! the edge), the container's colours as styles, the search's matches marked (the
//! current one apart), and a status line saying whether the view follows, what it
//! holds and what the search and filter found.

use std::ops::Range;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use unicode_width::UnicodeWidthChar;

use super::dim_note;
use crate::engine::LogStream;
use crate::tui::logs::{grouped, LogLine, LogView, Needle};
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, logs: &LogView, theme: &Theme) {
    if !logs.loaded {
        frame.render_widget(dim_note("Reading the log…", theme), area);
        return;
    }
    let [body, status] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    frame.render_widget(Paragraph::new(status_line(logs, theme)), status);
    let Some(bottom) = logs.bottom_index() else {
        let text = match &logs.error {
            Some(error) => error.as_str(),
            None if logs.is_empty() => "The log is empty.",
            None => "No line matches the filter.",
        };
        frame.render_widget(dim_note(text, theme), body);
        return;
    };
    let search = Needle::new(&logs.search);
    let height = usize::from(body.height);
    logs.rows.set(height);
    let width = usize::from(body.width).max(1);
    let styled = |id: u64| -> Option<Vec<Line<'static>>> {
        let line = logs.line(id)?;
        let mark = match logs.current_match() == Some(id) {
            true => theme.marked.patch(theme.selected),
            false => theme.marked,
        };
        let spans = line_spans(line, logs, search.as_ref(), mark, theme);
        Some(match logs.wrap {
            true => wrap(spans, width),
            false => vec![Line::from(spans)],
        })
    };
    // From the bottom line up until the body is full; a wrapped line takes its rows.
    let mut rows: Vec<Line> = Vec::with_capacity(height);
    let mut drawn: usize = 0;
    let mut bottom_rows = 1;
    for index in (0..=bottom).rev() {
        if rows.len() >= height {
            break;
        }
        let Some(id) = logs.shown_id(index) else {
            break;
        };
        let Some(mut wrapped) = styled(id) else {
            continue;
        };
        if index == bottom {
            bottom_rows = wrapped.len();
        }
        drawn += 1;
        wrapped.reverse();
        rows.extend(wrapped);
    }
    rows.truncate(height);
    rows.reverse();
    frame.render_widget(Paragraph::new(rows), body);
    // A page down shows the bottom line at the top and the lines after it that fit; the
    // lines not held yet count a row each.
    let mut down: usize = 0;
    let mut used = bottom_rows;
    for index in bottom + 1.. {
        let Some(id) = logs.shown_id(index) else {
            down += height.saturating_sub(used);
            break;
        };
        used += styled(id).map_or(1, |w| w.len());
        if used > height {
            break;
        }
        down += 1;
    }
    logs.page.set((drawn.saturating_sub(1).max(1), down.max(1)));
}

/// A log line as the view draws it: its time (if shown) then its text in the
/// container's colours over its stream's; for the preview pane's last lines.
pub fn styled_line(
    line: &LogLine,
    colours: bool,
    timestamps: bool,
    theme: &Theme,
) -> Line<'static> {
    let mut spans = time_span(line, timestamps, theme);
    let base = stream_style(line, theme);
    for (range, style) in line.text.pieces(colours, base) {
        spans.push(Span::styled(line.text.text[range].to_owned(), style));
    }
    Line::from(spans)
}

fn stream_style(line: &LogLine, theme: &Theme) -> Style {
    match line.stream {
        LogStream::Stdout => Style::new(),
        LogStream::Stderr => theme.deleted,
    }
}

fn time_span(line: &LogLine, timestamps: bool, theme: &Theme) -> Vec<Span<'static>> {
    match timestamps {
        true => vec![Span::styled(
            line.time.format("%Y-%m-%dT%H:%M:%S%.3fZ ").to_string(),
            theme.dim,
        )],
        false => Vec::new(),
    }
}

/// The line's spans with every match of the search in `mark` over its own styles.
fn line_spans(
    line: &LogLine,
    logs: &LogView,
    search: Option<&Needle>,
    mark: Style,
    theme: &Theme,
) -> Vec<Span<'static>> {
    let mut spans = time_span(line, logs.timestamps, theme);
    let text = &line.text.text;
    let mut found: Vec<Range<usize>> = Vec::new();
    if let Some(needle) = search {
        let mut at = 0;
        while let Some(hit) = needle.find(text, at) {
            // An empty match can't happen (the needle isn't empty); guard the loop anyway.
            at = hit.end.max(at + 1);
            found.push(hit);
            if at >= text.len() {
                break;
            }
        }
    }
    let base = stream_style(line, theme);
    for (range, style) in line.text.pieces(logs.colours, base) {
        let mut at = range.start;
        for hit in found
            .iter()
            .filter(|h| h.end > range.start && h.start < range.end)
        {
            let (start, end) = (hit.start.max(range.start), hit.end.min(range.end));
            if start > at {
                spans.push(Span::styled(text[at..start].to_owned(), style));
            }
            spans.push(Span::styled(text[start..end].to_owned(), style.patch(mark)));
            at = end;
        }
        if at < range.end {
            spans.push(Span::styled(text[at..range.end].to_owned(), style));
        }
    }
    spans
}

/// Spans cut into rows of `width` columns (a wide character that would straddle the
/// edge starts the next row), as `less` wraps: by columns, not words.
fn wrap(spans: Vec<Span<'static>>, width: usize) -> Vec<Line<'static>> {
    let mut rows = Vec::new();
    let mut row: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for span in spans {
        let mut piece = String::new();
        for c in span.content.chars() {
            let w = c.width().unwrap_or(0);
            if used + w > width && used > 0 {
                if !piece.is_empty() {
                    row.push(Span::styled(std::mem::take(&mut piece), span.style));
                }
                rows.push(Line::from(std::mem::take(&mut row)));
                used = 0;
            }
            piece.push(c);
            used += w;
        }
        if !piece.is_empty() {
            row.push(Span::styled(piece, span.style));
        }
    }
    rows.push(Line::from(row));
    rows
}

/// Following or not, what is held, the toggles, the search's and filter's counts.
fn status_line(logs: &LogView, theme: &Theme) -> Line<'static> {
    let mut parts: Vec<String> = Vec::new();
    let mode = if logs.follow {
        "following".to_owned()
    } else {
        "paused: G follows".to_owned()
    };
    let held = match logs.filter.is_empty() {
        true => format!("{} lines", logs.len()),
        false => format!("{} of {} lines", logs.shown_len(), logs.len()),
    };
    parts.push(held);
    if let Some(range) = logs.range.label() {
        parts.push(range);
    }
    for (on, name) in [
        (logs.wrap, "wrap"),
        (logs.timestamps, "times"),
        (!logs.colours, "no colours"),
    ] {
        if on {
            parts.push(name.to_owned());
        }
    }
    // What the user is looking for comes right after the mode: on a narrow screen the
    // line is cut at its end, where the toggles are.
    let mut spans = vec![Span::styled(
        mode,
        match logs.follow {
            true => theme.running,
            false => theme.info,
        },
    )];
    if !logs.search.is_empty() {
        // Counted over the whole file once the count is done; until then among the lines
        // held, "+" when the file has more that n/N read on into.
        let more = if logs.holds_all() { "" } else { "+" };
        let mut found = match (logs.total_count(), logs.match_count()) {
            _ if logs.finding.is_some() => "searching the log… (esc stops)".to_owned(),
            (Some((_, 0)), _) => "no match".to_owned(),
            (Some((Some(at), n)), _) => format!("match {}/{}", grouped(at), grouped(n)),
            (Some((None, 1)), _) => "1 match".to_owned(),
            (Some((None, n)), _) => format!("{} matches", grouped(n)),
            (None, (_, 0)) if more.is_empty() => "no match".to_owned(),
            (None, (_, 0)) if logs.count_error().is_some() => "none held".to_owned(),
            (None, (_, 0)) => "none held (counting)".to_owned(),
            (None, (Some(at), n)) => format!("match {at}/{n}{more}"),
            (None, (None, 1)) if more.is_empty() => "1 match".to_owned(),
            (None, (None, n)) => format!("{n}{more} matches"),
        };
        // The footer said why once; this stays while the count waits.
        if logs.count_error().is_some() && logs.finding.is_none() {
            found.push_str(" (count failed)");
        }
        spans.push(Span::styled(
            format!(" · search {:?}: {found} (n/N)", logs.search),
            theme.key,
        ));
    }
    if !logs.filter.is_empty() {
        parts.insert(0, format!("filter {:?} (&)", logs.filter));
    }
    spans.push(Span::styled(format!(" · {}", parts.join(" · ")), theme.dim));
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Color;

    /// The container's colours drawn, its other escapes gone, tabs expanded, stderr in
    /// its colour, the search's matches marked and the current one apart.
    #[test]
    fn a_frame_of_colours_matches_and_the_status_line() {
        use crate::tui::logs::tests::FakeLog;
        use ratatui::backend::TestBackend;
        use ratatui::Terminal;
        let mut log = FakeLog::new(
            [
                "\x1b[32mINFO\x1b[0m server started",
                "\x1b[1;31mERROR\x1b[0m disk full\tretrying",
                "\x1b]0;pwned\x07\x1b[2J\x1b[Hplain error line",
                "warning on stderr",
            ]
            .map(String::from),
        );
        log.lines[3].1 = LogStream::Stderr;
        let mut view = LogView::default();
        let request = view.open("c");
        view.apply(log.answer(&request));
        view.search = "error".into();
        view.refresh();
        let theme = Theme::default();
        let draw = |view: &LogView| {
            let mut terminal = Terminal::new(TestBackend::new(60, 5)).unwrap();
            terminal
                .draw(|frame| draw(frame, frame.area(), view, &theme))
                .unwrap();
            terminal.backend().buffer().clone()
        };
        // Drawn once, the view knows its height: the match goes mid-screen, the lines
        // after it below.
        draw(&view);
        view.next_match("c", false);
        let buffer = draw(&view);
        insta::assert_snapshot!("logs_search_60x5", crate::tui::once::buffer_text(&buffer));
        let cell = |x: u16, y: u16| buffer.cell((x, y)).unwrap().clone();
        assert_eq!(cell(0, 0).fg, Color::Green);
        // ERROR: the container's bold red under the search's mark.
        use ratatui::style::Modifier;
        let error = cell(0, 1);
        assert_eq!(error.fg, theme.marked.fg.unwrap());
        assert!(error.modifier.contains(Modifier::BOLD));
        assert!(!error.modifier.contains(Modifier::REVERSED));
        assert_eq!(cell(6, 1).fg, Color::Reset);
        // The current match (the newest, the plain line's) is marked apart.
        let current = cell(6, 2);
        assert_eq!(current.symbol(), "e");
        assert!(current.modifier.contains(Modifier::REVERSED));
        assert_eq!(cell(0, 3).fg, theme.deleted.fg.unwrap_or(Color::Reset));
        // Colours off: the text alone, in its stream's colour.
        view.colours = false;
        let buffer = draw(&view);
        assert_eq!(buffer.cell((0, 0)).unwrap().fg, Color::Reset);
    }

    #[test]
    fn wrapping_cuts_by_columns_and_keeps_styles() {
        let red = Style::new().fg(Color::Red);
        let rows = wrap(vec![Span::raw("abcd"), Span::styled("ef漢g", red)], 3);
        let text: Vec<String> = rows.iter().map(|l| l.to_string()).collect();
        assert_eq!(text, ["abc", "def", "漢g"]);
        assert_eq!(rows[1].spans[1].style, red);
        assert_eq!(wrap(Vec::new(), 3).len(), 1);
    }
}
