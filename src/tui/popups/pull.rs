//! Pulling an image: the line its reference is typed on, and the dialog that follows the
//! pull: the reference, where the pull is, a bar per layer and a total.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use super::wrap;
use crate::format::{human_size, truncate};
use crate::tui::action::Action;
use crate::tui::keymap::Keymap;
use crate::tui::pull::{LayerRow, LayerState, Phase, PullState};
use crate::tui::render::centered;
use crate::tui::state::App;
use crate::tui::theme::Theme;
use crate::tui::views::pane;

/// The dialog's width, borders included (less on a narrower screen).
const WIDTH: u16 = 76;
/// Cells of a bar.
const BAR: usize = 20;
/// Lines besides the layers': borders, reference, state, a blank, the total, a blank,
/// the keys.
const FIXED_LINES: u16 = 8;
/// Lines an error's words may take.
const ERROR_LINES: usize = 4;

/// The reference being typed with the cursor's byte offset in it, and why the last one was
/// refused.
pub fn draw_input(
    frame: &mut Frame,
    (input, cursor): (&str, usize),
    error: Option<&str>,
    keymap: &Keymap,
    theme: &Theme,
) {
    let area = centered(frame.area(), WIDTH, 4);
    frame.render_widget(Clear, area);
    let inner = usize::from(area.width.saturating_sub(2));
    // A long reference shows from far enough along that the cursor is on screen.
    let (before, after) = input.split_at(cursor.min(input.len()));
    let fit = inner.saturating_sub(1);
    let skip = before.chars().count().saturating_sub(fit);
    let lines = vec![
        Line::from(vec![
            Span::raw(before.chars().skip(skip).collect::<String>()),
            Span::styled("█", theme.dim),
            Span::raw(after.to_owned()),
        ]),
        match error {
            Some(e) => Line::styled(truncate(e, inner), theme.error),
            None => Line::styled("registry/repository:tag or @sha256:digest", theme.dim),
        },
    ];
    frame.render_widget(
        Paragraph::new(lines).block(pane(
            format!(
                " Pull an image ({} pulls, {} cancels) ",
                keymap.hint(Action::Submit),
                keymap.hint(Action::Cancel)
            ),
            theme,
        )),
        area,
    );
}

/// The pull in `app.pull`.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let Some(pull) = &app.pull else {
        return;
    };
    let screen = frame.area();
    let inner = usize::from(WIDTH.min(screen.width).saturating_sub(2));
    let state = state_lines(pull, inner, theme);
    let fixed = FIXED_LINES + state.len() as u16 - 1;
    // The layers that fit once the rest is drawn, and a margin kept off the screen's edge.
    let room = usize::from(screen.height.saturating_sub(fixed + 2)).max(1);
    let (rows, hidden) = rows_shown(&pull.layers, room);
    let extra = u16::from(hidden > 0);
    let height = fixed + rows.len() as u16 + extra;
    let area = centered(screen, WIDTH, height);
    frame.render_widget(Clear, area);
    let mut lines = vec![Line::raw(truncate(&pull.reference, inner))];
    lines.extend(state);
    lines.push(Line::raw(""));
    lines.extend(rows.iter().map(|row| layer_line(row, theme)));
    if hidden > 0 {
        lines.push(Line::styled(
            format!("… {hidden} more layers finished"),
            theme.dim,
        ));
    }
    lines.push(total_line(pull, theme));
    lines.push(Line::raw(""));
    lines.push(keys_line(app, pull, theme));
    frame.render_widget(
        Paragraph::new(lines).block(pane(" Pull ".into(), theme)),
        area,
    );
}

/// The layers to show in `room` lines, in order: when not all fit, finished ones go first
/// (a line then says how many); returns them and how many were left out.
fn rows_shown(layers: &[LayerRow], room: usize) -> (Vec<&LayerRow>, usize) {
    if layers.len() <= room {
        return (layers.iter().collect(), 0);
    }
    // One line goes to saying how many are hidden.
    let keep = room.saturating_sub(1);
    let mut drop = layers.len() - keep;
    let mut rows: Vec<&LayerRow> = Vec::with_capacity(keep);
    for row in layers {
        if drop > 0 && row.state.finished() {
            drop -= 1;
        } else {
            rows.push(row);
        }
    }
    // More unfinished layers than lines: the last ones wait below.
    rows.truncate(keep);
    (rows, layers.len() - keep)
}

/// Where the pull is: one line, or an error's words over a few.
fn state_lines(pull: &PullState, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let line = match &pull.phase {
        Phase::Resolving(repository) => {
            Line::styled(format!("resolving {repository}…"), theme.info)
        }
        Phase::Downloading => Line::styled(
            format!(
                "downloading: {} of {} layers done",
                pull.layers_finished(),
                pull.layers.len()
            ),
            theme.info,
        ),
        Phase::Done(id) => Line::styled(format!("done: image {}", id.short()), theme.running),
        Phase::Failed(e) => {
            return wrap(&format!("error: {e}"), width, ERROR_LINES)
                .into_iter()
                .map(|l| Line::styled(l, theme.error))
                .collect()
        }
    };
    vec![line]
}

fn layer_line(row: &LayerRow, theme: &Theme) -> Line<'static> {
    let bytes = match row.state {
        LayerState::Exists => "already here".to_owned(),
        LayerState::Waiting => String::new(),
        _ => format!("{} / {}", human_size(row.done), human_size(row.total)),
    };
    let (bar, bar_style) = match row.state {
        LayerState::Exists => (" ".repeat(BAR), theme.dim),
        _ => (bar(row.done, row.total), theme.running),
    };
    let state_style = match row.state {
        LayerState::Waiting | LayerState::Exists => theme.dim,
        LayerState::Downloading => theme.info,
        LayerState::Complete => theme.running,
    };
    Line::from(vec![
        Span::raw(format!("{:<12} ", row.digest.short())),
        Span::styled(bar, bar_style),
        Span::raw(format!(" {bytes:<19} ")),
        Span::styled(row.state.text(), state_style),
    ])
}

fn total_line(pull: &PullState, theme: &Theme) -> Line<'static> {
    let (done, total) = pull.bytes();
    Line::from(vec![
        Span::styled(format!("{:<12} ", "total"), theme.header),
        Span::styled(bar(done, total), theme.running),
        Span::raw(format!(
            " {:<19} ",
            format!("{} / {}", human_size(done), human_size(total))
        )),
        Span::raw(format!(
            "{}/{} layers",
            pull.layers_finished(),
            pull.layers.len()
        )),
    ])
}

/// `done` of `total` as [`BAR`] cells.
fn bar(done: u64, total: u64) -> String {
    let full = if total == 0 {
        0
    } else {
        (done.min(total) as u128 * BAR as u128 / total as u128) as usize
    };
    format!("{}{}", "█".repeat(full), "░".repeat(BAR - full))
}

fn keys_line(app: &App, pull: &PullState, theme: &Theme) -> Line<'static> {
    let key = |action: Action, fallback: &str| {
        app.keymap
            .key_for(action)
            .unwrap_or_else(|| fallback.to_owned())
    };
    let hint = |key: String, text: &str| {
        vec![
            Span::styled(key, theme.key),
            Span::styled(text.to_owned(), Style::new()),
        ]
    };
    let spans = if pull.running() {
        let mut spans = hint(key(Action::Back, "esc"), " hide (the pull goes on; ");
        spans.extend(hint(key(Action::Pull, "p"), " shows it again)  "));
        spans.extend(hint(key(Action::CancelPull, "x"), " cancel"));
        spans
    } else {
        hint(key(Action::Back, "esc"), " close")
    };
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::once::render_text;
    use crate::tui::pull::tests::{mid_pull, pulling};

    #[test]
    fn the_dialog_mid_pull_fits_80x24() {
        let mut app = pulling();
        mid_pull(&mut app);
        insta::assert_snapshot!("pull_dialog_80x24", render_text(&app, 80, 24));
    }

    #[test]
    fn the_reference_line_says_why_a_reference_was_refused() {
        let mut app = crate::tui::state::App::new(crate::tui::keymap::Keymap::default());
        app.loaded = true;
        let error = "invalid reference format \"Bad/Name\": repository name must be lowercase";
        app.popup = Some(crate::tui::state::Popup::PullInput {
            input: "Bad/Name".into(),
            error: Some(error.into()),
        });
        let text = render_text(&app, 80, 24);
        assert!(text.contains("│Bad/Name█"), "{text}");
        assert!(text.contains(&format!("│{error}")), "{text}");
        // A long reference shows its end, where the cursor is.
        let long = format!("registry.example:5000/{}/app:v1", "team".repeat(30));
        app.popup = Some(crate::tui::state::Popup::PullInput {
            input: long.clone(),
            error: None,
        });
        let text = render_text(&app, 80, 24);
        assert!(
            text.contains(&format!("│{}█│", &long[long.len() - 73..])),
            "{text}"
        );
    }

    #[test]
    fn long_errors_wrap_at_spaces() {
        assert_eq!(wrap("error: a b", 20, 4), ["error: a b"]);
        assert_eq!(
            wrap("error: pulling x: the registry answered 401", 20, 4),
            ["error: pulling x:", "the registry", "answered 401"]
        );
        assert_eq!(wrap("abcdefghij", 4, 2), ["abcd", "efg…"]);
    }

    #[test]
    fn many_layers_show_the_unfinished_first() {
        let layer = |n: u8, state| LayerRow {
            digest: crate::engine::Digest::of_bytes(&[n]),
            done: 0,
            total: 0,
            state,
        };
        let layers: Vec<LayerRow> = (0..10)
            .map(|n| {
                layer(
                    n,
                    if n < 6 {
                        LayerState::Complete
                    } else {
                        LayerState::Waiting
                    },
                )
            })
            .collect();
        let (rows, hidden) = rows_shown(&layers, 6);
        assert_eq!(hidden, 5);
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0].digest, layers[5].digest);
        assert!(rows[1..].iter().all(|r| r.state == LayerState::Waiting));
        assert_eq!(rows_shown(&layers, 10).1, 0);
    }
}
