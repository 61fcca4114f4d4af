//! A container's log line as the dashboard shows it. The container wrote the bytes, so
//! they are hostile: escape sequences are parsed (vte, the parser `strip-ansi-escapes`
//! uses), never passed to the terminal. SGR (colours and attributes) becomes ratatui
//! styles; every other sequence (cursor moves, clears, titles, OSC 52) and every other
//! control character is dropped; tabs become spaces to the next stop of eight. Work and
//! memory per line are bounded: at most [`MAX_COLUMNS`] columns and [`MAX_RUNS`] style
//! changes are kept.

use std::ops::Range;

use ratatui::style::{Color, Modifier, Style};
use unicode_width::UnicodeWidthChar;
use vte::{Params, Parser, Perform};

/// Columns of a line kept; the writer cuts entries at 16 KiB of output, tabs can widen them.
pub const MAX_COLUMNS: usize = 16 * 1024;
/// Style changes kept per line; later ones leave the text in the last style.
pub const MAX_RUNS: usize = 256;
/// Where tab stops are, as terminals set them.
const TAB: usize = 8;

/// A log line cleaned for the screen: its text and where its styles change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogText {
    /// What the line shows: no escape sequence or control character, tabs as spaces.
    pub text: String,
    /// Byte offsets in `text` where an SGR style starts, in order; the text before the
    /// first has none. Empty for a line without colours.
    runs: Vec<(u32, Style)>,
}

impl LogText {
    /// Cleans `raw` (one entry of the log, its newline included or not).
    pub fn parse(raw: &str) -> LogText {
        let raw = raw.strip_suffix('\n').unwrap_or(raw);
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        // Most lines are plain printable ASCII: nothing to parse.
        if raw.len() <= MAX_COLUMNS && raw.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return LogText {
                text: raw.to_owned(),
                runs: Vec::new(),
            };
        }
        let mut shaper = Shaper::default();
        Parser::new().advance(&mut shaper, raw.as_bytes());
        LogText {
            text: shaper.text,
            runs: shaper.runs,
        }
    }

    /// The line's pieces, each with its style over `base` (a stream's colour); without
    /// `colours` the whole line is one piece in `base`.
    pub fn pieces(&self, colours: bool, base: Style) -> Vec<(Range<usize>, Style)> {
        if !colours || self.runs.is_empty() {
            return vec![(0..self.text.len(), base)];
        }
        let mut pieces = Vec::with_capacity(self.runs.len() + 1);
        let mut at = 0;
        let mut style = base;
        for &(start, next) in &self.runs {
            let start = start as usize;
            if start > at {
                pieces.push((at..start, style));
            }
            at = start;
            style = base.patch(next);
        }
        pieces.push((at..self.text.len(), style));
        pieces
    }

    /// Bytes held, for the view's memory bound.
    pub fn size(&self) -> usize {
        self.text.len() + self.runs.len() * std::mem::size_of::<(u32, Style)>()
    }
}

/// Text in a bidirectional override or isolate would be drawn in another order than it
/// is read, hiding what follows it.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Collects the text and styles as the parser walks a line.
#[derive(Default)]
struct Shaper {
    text: String,
    runs: Vec<(u32, Style)>,
    /// The SGR state so far.
    style: Style,
    column: usize,
    /// The column limit was reached: the rest is dropped.
    full: bool,
}

impl Shaper {
    /// Before text goes in: a style change since the last run starts a new one.
    fn mark(&mut self) {
        let last = self.runs.last().map_or(Style::default(), |r| r.1);
        if last == self.style {
            return;
        }
        let at = self.text.len() as u32;
        let room = self.runs.len() < MAX_RUNS;
        match self.runs.last_mut() {
            // Styles that covered no text leave no trace.
            Some(run) if run.0 == at => run.1 = self.style,
            _ if room => self.runs.push((at, self.style)),
            _ => self.style = last,
        }
    }

    fn push(&mut self, c: char, width: usize) {
        if self.full || self.column + width > MAX_COLUMNS {
            self.full = true;
            return;
        }
        self.mark();
        self.text.push(c);
        self.column += width;
    }

    /// One SGR sequence's parameters, applied in order.
    fn sgr(&mut self, params: &Params) {
        if params.is_empty() {
            self.style = Style::default();
            return;
        }
        let mut params = params.iter();
        while let Some(param) = params.next() {
            let style = self.style;
            self.style = match param {
                [0] => Style::default(),
                [1] => style.add_modifier(Modifier::BOLD),
                [2] => style.add_modifier(Modifier::DIM),
                [3] => style.add_modifier(Modifier::ITALIC),
                [4, ..] | [21] => style.add_modifier(Modifier::UNDERLINED),
                [7] => style.add_modifier(Modifier::REVERSED),
                [9] => style.add_modifier(Modifier::CROSSED_OUT),
                [22] => style.remove_modifier(Modifier::BOLD | Modifier::DIM),
                [23] => style.remove_modifier(Modifier::ITALIC),
                [24] => style.remove_modifier(Modifier::UNDERLINED),
                [27] => style.remove_modifier(Modifier::REVERSED),
                [29] => style.remove_modifier(Modifier::CROSSED_OUT),
                [n @ 30..=37] => style.fg(basic(n - 30)),
                [n @ 90..=97] => style.fg(bright(n - 90)),
                [n @ 40..=47] => style.bg(basic(n - 40)),
                [n @ 100..=107] => style.bg(bright(n - 100)),
                [39] => Style { fg: None, ..style },
                [49] => Style { bg: None, ..style },
                [38, rest @ ..] => match extended(rest, &mut params) {
                    Some(colour) => style.fg(colour),
                    None => style,
                },
                [48, rest @ ..] => match extended(rest, &mut params) {
                    Some(colour) => style.bg(colour),
                    None => style,
                },
                // Blinking, hidden text (a container must not hide a line), fonts, and
                // the rest: no effect.
                _ => style,
            };
        }
    }
}

impl Perform for Shaper {
    fn print(&mut self, c: char) {
        // C1 controls and bidirectional overrides arrive as characters.
        if c.is_control() || is_bidi_control(c) {
            return;
        }
        let width = c.width().unwrap_or(0);
        self.push(c, width);
    }

    fn execute(&mut self, byte: u8) {
        if byte == b'\t' {
            let stop = TAB - self.column % TAB;
            for _ in 0..stop {
                self.push(' ', 1);
            }
        }
    }

    fn csi_dispatch(&mut self, params: &Params, intermediates: &[u8], ignore: bool, action: char) {
        if action == 'm' && intermediates.is_empty() && !ignore {
            self.sgr(params);
        }
    }
}

/// Colours 0-7 of the terminal's palette.
fn basic(n: u16) -> Color {
    [
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Yellow,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::Gray,
    ][usize::from(n & 7)]
}

/// Colours 8-15: the bright ones.
fn bright(n: u16) -> Color {
    [
        Color::DarkGray,
        Color::LightRed,
        Color::LightGreen,
        Color::LightYellow,
        Color::LightBlue,
        Color::LightMagenta,
        Color::LightCyan,
        Color::White,
    ][usize::from(n & 7)]
}

/// `38;5;N` / `38;2;R;G;B` (their values the next parameters) or `38:5:N` /
/// `38:2:R:G:B` / `38:2::R:G:B` (their values sub-parameters in `rest`).
fn extended<'a>(rest: &[u16], params: &mut impl Iterator<Item = &'a [u16]>) -> Option<Color> {
    let byte = |v: u16| u8::try_from(v).ok();
    let mut next = || params.next().and_then(|p| p.first().copied());
    match rest {
        [] => match next()? {
            5 => Some(Color::Indexed(byte(next()?)?)),
            2 => {
                let (r, g, b) = (next()?, next()?, next()?);
                Some(Color::Rgb(byte(r)?, byte(g)?, byte(b)?))
            }
            _ => None,
        },
        [5, n] => Some(Color::Indexed(byte(*n)?)),
        [2, r, g, b] | [2, _, r, g, b, ..] => Some(Color::Rgb(byte(*r)?, byte(*g)?, byte(*b)?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn styles(text: &LogText) -> Vec<(&str, Style)> {
        text.pieces(true, Style::default())
            .into_iter()
            .map(|(range, style)| (&text.text[range], style))
            .collect()
    }

    #[test]
    fn sgr_becomes_styles_and_every_other_escape_is_dropped() {
        let line = LogText::parse("\x1b[31merror\x1b[0m: \x1b[1;38;5;208mhot\x1b[22m\x1b[39m ok\n");
        assert_eq!(line.text, "error: hot ok");
        assert_eq!(
            styles(&line),
            [
                ("error", Style::new().fg(Color::Red)),
                (": ", Style::new()),
                (
                    "hot",
                    Style::new()
                        .fg(Color::Indexed(208))
                        .add_modifier(Modifier::BOLD)
                ),
                (
                    " ok",
                    Style::new().remove_modifier(Modifier::BOLD | Modifier::DIM)
                ),
            ]
        );
        // Cursor moves, screen clears, a title, a clipboard write, a DCS, C1 controls,
        // bidirectional overrides, bells and carriage returns: none survives.
        let hostile = "a\x1b[2J\x1b[H\x1b[10;10Hb\x1b]0;pwned\x07c\x1b]52;c;aGk=\x1b\\d\
                       \x1bP1$qm\x1b\\e\u{9b}31mf\u{202e}g\x07h\ri\x1b7\x1b8j\x1b[?1049hk";
        let line = LogText::parse(hostile);
        assert_eq!(line.text, "abcde31mfghijk");
        assert!(line.text.chars().all(|c| !c.is_control()));
        assert_eq!(styles(&line), [("abcde31mfghijk", Style::new())]);
    }

    #[test]
    fn truecolour_background_and_colon_forms_parse() {
        let line =
            LogText::parse("\x1b[48;2;1;2;3mx\x1b[38:2::10:20:30my\x1b[38:5:9mz\x1b[94;49mw");
        assert_eq!(
            styles(&line),
            [
                ("x", Style::new().bg(Color::Rgb(1, 2, 3))),
                (
                    "y",
                    Style::new()
                        .bg(Color::Rgb(1, 2, 3))
                        .fg(Color::Rgb(10, 20, 30))
                ),
                (
                    "z",
                    Style::new().bg(Color::Rgb(1, 2, 3)).fg(Color::Indexed(9))
                ),
                ("w", Style::new().fg(Color::LightBlue)),
            ]
        );
        // Out of range or cut short: ignored, the text kept.
        let line = LogText::parse("\x1b[38;5;999ma\x1b[38;2;1mb");
        assert_eq!(styles(&line), [("ab", Style::new())]);
    }

    #[test]
    fn tabs_expand_to_stops_of_eight_and_wide_characters_count_twice() {
        assert_eq!(LogText::parse("a\tb").text, "a       b");
        assert_eq!(LogText::parse("\t|").text, "        |");
        // 漢 takes two columns: the tab after it fills six.
        assert_eq!(LogText::parse("漢\tx").text, "漢      x");
        assert_eq!(LogText::parse("crlf\r\n").text, "crlf");
    }

    #[test]
    fn work_and_memory_per_line_are_bounded() {
        // A style change before every character keeps no more than MAX_RUNS of them.
        let noisy: String = (0..10_000).map(|i| format!("\x1b[3{}mx", i % 8)).collect();
        let line = LogText::parse(&noisy);
        assert_eq!(line.text.len(), 10_000);
        assert_eq!(line.runs.len(), MAX_RUNS);
        // Tabs can't widen a line past MAX_COLUMNS.
        let tabs = "\t".repeat(16 * 1024);
        assert_eq!(LogText::parse(&tabs).text.len(), MAX_COLUMNS);
        let long = "x".repeat(MAX_COLUMNS * 2);
        assert_eq!(LogText::parse(&long).text.len(), MAX_COLUMNS);
        // Without colours the line is one piece.
        let line = LogText::parse("\x1b[31mred\x1b[0m plain");
        assert_eq!(
            line.pieces(false, Style::new().fg(Color::Blue)),
            [(0..9, Style::new().fg(Color::Blue))]
        );
        // A stream's colour is the base the line's own styles patch.
        let base = Style::new().fg(Color::Red).add_modifier(Modifier::ITALIC);
        assert_eq!(
            line.pieces(true, base)[0].1,
            Style::new().fg(Color::Red).add_modifier(Modifier::ITALIC)
        );
    }
}
