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

/// The line between a form's fields and its keys: why it was refused, or blank.
pub(crate) fn error_line<'a>(error: &'a Option<String>, theme: &Theme) -> Line<'a> {
    match error {
        Some(error) => Line::styled(error.as_str(), theme.error),
        None => Line::raw(""),
    }
}
