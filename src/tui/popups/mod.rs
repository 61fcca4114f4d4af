//! One file per popup, and the lines the form popups share.

use ratatui::text::{Line, Span};

use crate::tui::theme::Theme;

pub mod build_form;
pub mod command;
pub mod confirm;
pub mod help;
pub mod output;
pub mod progress;
pub mod project_logs;
pub mod pull;
pub mod run_form;

/// A form's fields, one line each: the label (the focused one in the key style), the
/// values in a column two spaces after the longest label, and the cursor at byte `cursor`
/// of the focused value.
pub(crate) fn field_lines<'a>(
    labels: &[&'static str],
    values: &'a [String],
    (focus, cursor): (usize, usize),
    theme: &Theme,
) -> Vec<Line<'a>> {
    let label_width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) + 2;
    labels
        .iter()
        .zip(values)
        .enumerate()
        .map(|(i, (label, value))| {
            let focused = i == focus;
            let style = if focused { theme.key } else { theme.header };
            let mut spans = vec![Span::styled(format!("{label:<label_width$}"), style)];
            match focused {
                true => {
                    let (before, after) = value.split_at(cursor.min(value.len()));
                    spans.push(Span::raw(before));
                    spans.push(Span::styled("█", theme.dim));
                    spans.push(Span::raw(after));
                }
                false => spans.push(Span::raw(value.as_str())),
            }
            Line::from(spans)
        })
        .collect()
}

/// Rows a form's error may take: a long cause is read whole, a hostile one stays bounded.
const ERROR_ROWS: usize = 4;

/// The lines between a form's fields and its keys: why it was refused, wrapped to the
/// form's `width` so nothing of it is cut (up to a few rows), or one blank line.
pub(crate) fn error_lines(error: &Option<String>, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    match error {
        Some(error) => wrap(error, usize::from(width), ERROR_ROWS)
            .into_iter()
            .map(|l| Line::styled(l, theme.error))
            .collect(),
        None => vec![Line::raw("")],
    }
}

/// `text` in lines of at most `width` characters, broken at spaces where it can be, at
/// most `max` lines (the last cut with an ellipsis).
pub(crate) fn wrap(text: &str, width: usize, max: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut rest: Vec<char> = text.chars().collect();
    while !rest.is_empty() && lines.len() < max {
        if rest.len() <= width {
            lines.push(rest.drain(..).collect());
            break;
        }
        // The last space that fits, else a hard break.
        let cut = rest[..=width]
            .iter()
            .rposition(|c| *c == ' ')
            .filter(|at| *at > 0)
            .unwrap_or(width);
        lines.push(rest.drain(..cut).collect::<String>().trim_end().to_owned());
        while rest.first() == Some(&' ') {
            rest.remove(0);
        }
    }
    if !rest.is_empty() {
        if let Some(last) = lines.last_mut() {
            *last = crate::format::truncate(
                &format!("{last} {}", rest.iter().collect::<String>()),
                width,
            );
        }
    }
    lines
}
