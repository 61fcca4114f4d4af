//! The build view: one row per step (stage, instruction, state, time, layer size, why the
//! cache missed), the warnings, and below them the running step's output, or at the end
//! the image's efficiency as dive measures it with its largest wasted paths.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};
use ratatui::Frame;

use super::{dim_note, pane};
use crate::engine::{Efficiency, WasteKind};
use crate::format::{human_size, truncate};
use crate::tui::build::{short_id, BuildState, Measured, Phase, StepRow, StepState};
use crate::tui::state::App;
use crate::tui::theme::Theme;

/// Warnings shown at most; a line says how many more.
const WARNING_LINES: usize = 3;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(build) = &app.build else {
        frame.render_widget(
            dim_note("no build yet", theme).block(pane(" Build ".into(), theme)),
            area,
        );
        return;
    };
    let warnings = warning_lines(build, theme);
    // The steps take what they need, up to three fifths; the panel below the rest.
    let wanted = build.rows.len() as u16 + 3;
    let most = (area.height * 3 / 5).max(5);
    let [steps_area, warnings_area, lower] = Layout::vertical([
        Constraint::Length(wanted.clamp(4, most)),
        Constraint::Length(warnings.len() as u16),
        Constraint::Min(3),
    ])
    .areas(area);
    steps(frame, steps_area, app, build, theme);
    frame.render_widget(Paragraph::new(warnings), warnings_area);
    match &build.phase {
        Phase::Done { .. } => efficiency(frame, lower, build, theme),
        Phase::Running | Phase::Failed(_) => output(frame, lower, build, theme),
    }
}

fn title(app: &App, build: &BuildState) -> String {
    let file = match build.request.dockerfile.as_str() {
        "" => "Dockerfile".to_owned(),
        file => file.to_owned(),
    };
    let end = build.ended.unwrap_or(app.now);
    let seconds = (end - build.started).num_milliseconds().max(0) as f64 / 1000.0;
    let state = match &build.phase {
        Phase::Running => format!("running {}", seconds_text(seconds)),
        Phase::Done { image, ran, cached } => format!(
            "done in {}: {}, {ran} run, {cached} cached",
            seconds_text(seconds),
            short_id(image)
        ),
        Phase::Failed(_) => format!("failed after {}", seconds_text(seconds)),
    };
    format!(
        " Build {} · {} in {} · {state} ",
        build.request.name(),
        file,
        build.request.context
    )
}

fn steps(frame: &mut Frame, area: Rect, app: &App, build: &BuildState, theme: &Theme) {
    let block = pane(title(app, build), theme);
    if build.rows.is_empty() {
        frame.render_widget(
            dim_note("Reading the Dockerfile…", theme).block(block),
            area,
        );
        return;
    }
    // The last rows, where the build is, when not all fit.
    let height = super::body_rows(area);
    let first = build.rows.len().saturating_sub(height);
    let rows = build.rows[first..]
        .iter()
        .map(|row| step_row(app, row, theme));
    let header = Row::new([
        "#",
        "STAGE",
        "INSTRUCTION",
        "STATE",
        "TIME",
        "SIZE",
        "CACHE",
    ])
    .style(theme.header);
    let widths = [
        Constraint::Length(2),
        Constraint::Length(10),
        Constraint::Fill(1),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Fill(1),
    ];
    frame.render_widget(Table::new(rows, widths).header(header).block(block), area);
}

fn step_row<'a>(app: &App, row: &'a StepRow, theme: &Theme) -> Row<'a> {
    let style = match row.state {
        StepState::Waiting => theme.dim,
        StepState::Running => theme.info,
        StepState::Cached => theme.created,
        StepState::Done => theme.running,
        StepState::Error => theme.error,
    };
    let time = row
        .elapsed(app.now)
        .filter(|_| row.state != StepState::Cached)
        .map(seconds_text)
        .unwrap_or_default();
    let size = row
        .size
        .filter(|s| *s > 0)
        .map(human_size)
        .unwrap_or_default();
    let cache = match (&row.error, &row.miss) {
        (Some(error), _) => Span::styled(error.clone(), theme.error),
        (None, Some(miss)) => Span::styled(format!("miss: {miss}"), theme.dim),
        (None, None) => Span::raw(""),
    };
    Row::new(vec![
        Span::raw(row.number.to_string()),
        Span::styled(row.stage.clone(), theme.dim),
        Span::raw(row.instruction.clone()),
        Span::styled(row.state.text(), style),
        Span::raw(time),
        Span::raw(size),
        cache,
    ])
}

fn warning_lines(build: &BuildState, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines: Vec<Line> = build
        .warnings
        .iter()
        .take(WARNING_LINES)
        .map(|w| Line::styled(format!(" ⚠ {w}"), theme.changed))
        .collect();
    if build.warnings.len() > WARNING_LINES {
        lines.push(Line::styled(
            format!(" … {} more warnings", build.warnings.len() - WARNING_LINES),
            theme.dim,
        ));
    }
    lines
}

/// The running (or failed) step's output tail; a failed build's error on top.
fn output(frame: &mut Frame, area: Rect, build: &BuildState, theme: &Theme) {
    let step = build
        .output_step
        .and_then(|n| build.rows.iter().rev().find(|r| r.number == n));
    let title = match step {
        Some(row) => format!(" Output of #{} {} ", row.number, row.instruction),
        None => " Output ".to_owned(),
    };
    let width = usize::from(area.width.saturating_sub(2));
    let mut lines: Vec<Line> = Vec::new();
    if let Phase::Failed(error) = &build.phase {
        lines.push(Line::styled(
            truncate(&format!("error: {error}"), width),
            theme.error,
        ));
    }
    let room = usize::from(area.height.saturating_sub(2)).saturating_sub(lines.len());
    let output: Vec<&str> = build.output_lines().collect();
    let skip = output.len().saturating_sub(room);
    lines.extend(output[skip..].iter().map(|l| Line::raw(truncate(l, width))));
    if lines.is_empty() {
        lines.push(Line::styled("(no output yet)", theme.dim));
    }
    frame.render_widget(Paragraph::new(lines).block(pane(title, theme)), area);
}

/// The efficiency panel: dive's score, the wasted bytes, the largest wasted paths with
/// the steps that added and removed them.
fn efficiency(frame: &mut Frame, area: Rect, build: &BuildState, theme: &Theme) {
    let measured = match &build.efficiency {
        Some(Measured::Done(e)) => e,
        Some(Measured::Failed(e)) => {
            let block = pane(" Efficiency ".into(), theme);
            let text = format!("measuring the image's efficiency: {e}");
            frame.render_widget(
                Paragraph::new(Line::styled(text, theme.error)).block(block),
                area,
            );
            return;
        }
        Some(Measured::Pending) | None => {
            let block = pane(" Efficiency ".into(), theme);
            frame.render_widget(
                dim_note("Measuring the image's efficiency…", theme).block(block),
                area,
            );
            return;
        }
    };
    let block = pane(efficiency_title(measured), theme);
    if measured.largest.is_empty() {
        frame.render_widget(
            dim_note("No wasted space: no layer hides a file of another.", theme).block(block),
            area,
        );
        return;
    }
    let height = super::body_rows(area);
    let first = build.selected.saturating_sub(height.saturating_sub(1));
    let rows = measured
        .largest
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, wasted)| {
            let how = match wasted.kind {
                WasteKind::Removed => "removed",
                WasteKind::Overwritten => "replaced",
            };
            let style = if i == build.selected {
                theme.selected
            } else {
                Style::new()
            };
            let versions = if wasted.versions > 1 {
                format!(" ×{}", wasted.versions)
            } else {
                String::new()
            };
            Row::new(vec![
                Span::raw(human_size(wasted.bytes)),
                Span::raw(format!("{}{versions}", wasted.path)),
                Span::raw(step_text(measured, wasted.added)),
                Span::styled(how, theme.deleted),
                Span::raw(step_text(measured, wasted.removed)),
            ])
            .style(style)
        });
    let header = Row::new(["WASTED", "PATH", "ADDED BY", "", "REMOVED BY"]).style(theme.header);
    let widths = [
        Constraint::Length(8),
        Constraint::Fill(2),
        Constraint::Fill(2),
        Constraint::Length(8),
        Constraint::Fill(2),
    ];
    frame.render_widget(Table::new(rows, widths).header(header).block(block), area);
}

fn efficiency_title(e: &Efficiency) -> String {
    let cut = if e.truncated {
        " (image cut short)"
    } else {
        ""
    };
    format!(
        " Efficiency {:.1}% · {} wasted in {} paths · enter: the layer that added it{cut} ",
        e.score * 100.0,
        human_size(e.wasted_bytes),
        e.wasted_paths
    )
}

/// `L2 RUN make`: a layer and the step that made it, as its history says.
fn step_text(e: &Efficiency, layer: usize) -> String {
    let step = e
        .step(layer)
        .unwrap_or("")
        .trim_start_matches("/bin/sh -c ")
        .trim_start_matches("#(nop) ")
        .trim_end_matches(" # buildkit")
        .replace("RUN /bin/sh -c ", "RUN ");
    format!("L{layer} {}", step.trim())
}

/// `0.4s`, `12s`, `2m05s`.
fn seconds_text(seconds: f64) -> String {
    if seconds < 10.0 {
        format!("{seconds:.1}s")
    } else if seconds < 60.0 {
        format!("{}s", seconds as u64)
    } else {
        let s = seconds as u64;
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::BuildEvent;
    use crate::tui::msg::Msg;
    use crate::tui::once::render_text;
    use crate::tui::update::build_testing::{building, finished, mid_build};
    use crate::tui::update::update;

    #[test]
    fn a_running_build_shows_its_steps_and_the_running_steps_output() {
        let mut app = building();
        mid_build(&mut app);
        insta::assert_snapshot!("build_running_100x24", render_text(&app, 100, 24));
    }

    #[test]
    fn a_finished_build_shows_cached_done_and_missed_steps_and_its_efficiency() {
        let mut app = building();
        mid_build(&mut app);
        finished(&mut app);
        insta::assert_snapshot!("build_finished_100x30", render_text(&app, 100, 30));
        // Narrow: the same rows, cut to fit.
        insta::assert_snapshot!("build_finished_80x24", render_text(&app, 80, 24));
    }

    #[test]
    fn a_failed_build_shows_the_error_and_the_failed_steps_output() {
        let mut app = building();
        mid_build(&mut app);
        app.now = crate::tui::build::tests::at(6);
        update(
            &mut app,
            Msg::BuildEvents(vec![
                crate::tui::build::tests::log(4, "main.c:3: error: expected ';'\n"),
                BuildEvent::Error {
                    number: 4,
                    message: "exit code: 2".into(),
                },
            ]),
        );
        update(
            &mut app,
            Msg::Built(Err(
                "process \"/bin/sh -c make\" did not complete successfully: exit code: 2".into(),
            )),
        );
        let text = render_text(&app, 100, 24);
        assert!(text.contains("error: process"), "{text}");
        insta::assert_snapshot!("build_failed_100x24", text);
    }

    #[test]
    fn steps_announced_before_the_build_runs_show_waiting() {
        use crate::engine::StepName;
        let mut app = building();
        let step = |number, title: &str| StepName {
            number,
            title: title.into(),
        };
        app.now = crate::tui::build::tests::at(1);
        update(
            &mut app,
            Msg::BuildEvents(vec![
                BuildEvent::Waiting(vec![
                    step(1, "[build 1/3] FROM docker.io/library/busybox:latest"),
                    step(2, "[build 2/3] COPY . /src"),
                    step(3, "[build 3/3] RUN make"),
                ]),
                crate::tui::build::tests::started(
                    1,
                    "[build 1/3] FROM docker.io/library/busybox:latest",
                ),
            ]),
        );
        let text = render_text(&app, 100, 16);
        assert_eq!(text.matches(" waiting ").count(), 2, "{text}");
        insta::assert_snapshot!("build_waiting_100x16", text);
    }

    #[test]
    fn the_time_of_a_step_reads_as_people_say_it() {
        assert_eq!(seconds_text(0.42), "0.4s");
        assert_eq!(seconds_text(12.7), "12s");
        assert_eq!(seconds_text(125.0), "2m05s");
    }
}
