//! A compose project's logs, merged by time, each line's prefix in its container's
//! colour, as `compose logs` prints them on a terminal.

use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::tui::projects::ProjectLogs;
use crate::tui::theme::Theme;
use crate::tui::views::pane;

/// Docker Compose's prefix colours, one per container in turn.
const COLOURS: [Color; 6] = [
    Color::Cyan,
    Color::Yellow,
    Color::Green,
    Color::Magenta,
    Color::Blue,
    Color::LightRed,
];

/// `back`: how many lines the user scrolled back from the end.
pub fn draw(frame: &mut Frame, logs: &ProjectLogs, back: usize, theme: &Theme) {
    let area = super::output::cleared_area(frame);
    let fit = area.height.saturating_sub(2) as usize;
    let len = logs.lines.len();
    // A theme without colours (NO_COLOR) keeps its plain prefixes.
    let coloured = theme.title != Style::new();
    let shown: Vec<Line> = logs.lines[super::output::shown_lines(len, back, fit)]
        .iter()
        .map(|line| {
            let style = match coloured {
                true => Style::new().fg(COLOURS[line.source % COLOURS.len()]),
                false => Style::new(),
            };
            Line::from(vec![
                Span::styled(line.prefix.as_str(), style),
                Span::raw(strip_ansi_escapes::strip_str(&line.text)),
            ])
        })
        .collect();
    let title = match (len > fit, len) {
        (_, 0) => format!(" {} (no output; any key closes) ", logs.title),
        (true, _) => format!(" {} (k/j scroll, any other key closes) ", logs.title),
        (false, _) => format!(" {} (any key closes) ", logs.title),
    };
    frame.render_widget(Paragraph::new(shown).block(pane(title, theme)), area);
}
