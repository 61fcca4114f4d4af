//! `berth build`'s live view on a terminal, in BuildKit's tty shape: a header with the
//! time so far, one line per step that has started (`=> CACHED [base 1/2] FROM …`,
//! `=> [build 2/5] RUN make   3.2s`), the cache miss's reason under its step, and the
//! running step's last output lines, redrawn in place; the last frame stays as the
//! summary. The frame is drawn from the same [`BuildState`] the dashboard's build view
//! and the last-build record use.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use crossterm::{cursor, queue, terminal};
use unicode_width::UnicodeWidthChar;

use crate::ops::build_record::{BuildState, Phase, StepState};

/// The running step's output lines shown under it.
const TAIL_LINES: usize = 6;
/// How often the view may redraw: on a change, or to move a running step's time.
const TICK: Duration = Duration::from_millis(100);

/// `text` made safe to print: a container's output (or a file name in a miss reason)
/// never sends an escape sequence to the terminal (its control characters are shown in
/// caret notation, as the plain progress shows them); a tab or a newline is a space, so a
/// line of the frame is one line of the screen.
fn printable(text: &str) -> String {
    super::output::escape_controls(text).replace(['\t', '\n'], " ")
}

/// `text` cut to `width` columns.
fn fit(text: &str, width: usize) -> String {
    let mut used = 0;
    let mut out = String::new();
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width {
            break;
        }
        used += w;
        out.push(c);
    }
    out
}

fn columns(text: &str) -> usize {
    text.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// `left` and `right` on one line of `width` columns, `right` at its end.
fn spread(left: &str, right: &str, width: usize) -> String {
    let right_cols = columns(right);
    if right.is_empty() || right_cols + 2 > width {
        return fit(left, width);
    }
    let left = fit(left, width - right_cols - 1);
    let pad = width - right_cols - columns(&left);
    format!("{left}{}{right}", " ".repeat(pad))
}

/// The lines of one frame at `now`, `width` columns wide and at most `height` lines
/// (the steps that ended first give way to the running one). `last`: the summary left
/// on the screen (every step, and the failed step's output).
pub fn frame(
    state: &BuildState,
    now: DateTime<Utc>,
    width: usize,
    height: usize,
    last: bool,
) -> Vec<String> {
    let width = width.max(20);
    let end = state.ended.unwrap_or(now);
    let seconds = (end - state.started).num_milliseconds().max(0) as f64 / 1000.0;
    let total = state.rows.len();
    let ended = state.steps_ended();
    let finished = match state.phase {
        Phase::Running => "",
        Phase::Done { .. } => " FINISHED",
        Phase::Failed(_) => " FAILED",
    };
    let header = format!("[+] Building {seconds:.1}s ({ended}/{total}){finished}");
    let mut body: Vec<String> = Vec::new();
    for row in &state.rows {
        if row.state == StepState::Waiting {
            continue;
        }
        let cached = if row.state == StepState::Cached {
            "CACHED "
        } else {
            ""
        };
        let title = match row.stage.as_str() {
            "" => row.instruction.clone(),
            stage => format!("[{stage}] {}", row.instruction),
        };
        let time = row
            .elapsed(now)
            .map(|s| format!("{s:.1}s"))
            .unwrap_or_default();
        let error = if row.state == StepState::Error {
            "ERROR "
        } else {
            ""
        };
        let left = format!(" => {error}{cached}{}", printable(&title));
        body.push(spread(&left, &time, width));
        if let Some(miss) = &row.miss {
            body.push(fit(
                &format!(" => => cache miss: {}", printable(miss)),
                width,
            ));
        }
        let shows_output = match row.state {
            StepState::Running => true,
            StepState::Error => last,
            _ => false,
        };
        if shows_output && state.output_step == Some(row.number) {
            let lines: Vec<&str> = state.output_lines().collect();
            for line in &lines[lines.len().saturating_sub(TAIL_LINES)..] {
                body.push(fit(&format!(" => => # {}", printable(line)), width));
            }
        }
        if let Some(error) = &row.error {
            body.push(fit(&format!(" => => ERROR: {}", printable(error)), width));
        }
    }
    for warning in &state.warnings {
        body.push(fit(&printable(warning), width));
    }
    // The newest lines stay when the screen is too short (the summary is all there).
    let room = height.max(2) - 1;
    if !last && body.len() > room {
        body.drain(..body.len() - room);
    }
    let mut lines = vec![fit(&header, width)];
    lines.extend(body);
    lines
}

/// The live view: the build's thread updates `state` and marks it changed; a thread of
/// the view's own redraws it, at most every [`TICK`].
pub struct Live {
    state: Arc<Mutex<BuildState>>,
    changed: Arc<AtomicBool>,
    stop: std::sync::mpsc::Sender<()>,
    drawer: Option<std::thread::JoinHandle<usize>>,
}

/// Draws `lines` over the `drawn` lines of the frame before: each line rewritten and
/// cleared to its end, then what is left below cleared (never a clear of the whole
/// screen, which tmux keeps in its history at every frame).
fn draw(out: &mut impl Write, drawn: usize, lines: &[String]) -> usize {
    // Up (CSI A: tmux and older terminals lack CSI F), then each line from its column 0.
    if drawn > 0 {
        let _ = queue!(out, cursor::MoveUp(drawn as u16));
    }
    for line in lines {
        let _ = queue!(out, cursor::MoveToColumn(0));
        let _ = write!(out, "{line}");
        let _ = queue!(out, terminal::Clear(terminal::ClearType::UntilNewLine));
        let _ = write!(out, "\r\n");
    }
    let _ = queue!(out, terminal::Clear(terminal::ClearType::FromCursorDown));
    let _ = out.flush();
    lines.len()
}

fn screen() -> (usize, usize) {
    terminal::size().map_or((80, 24), |(w, h)| (w as usize, h as usize))
}

impl Live {
    /// Starts drawing `state` on stderr.
    pub fn start(state: Arc<Mutex<BuildState>>) -> Live {
        let changed = Arc::new(AtomicBool::new(true));
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let (shared, dirty) = (state.clone(), changed.clone());
        let drawer = std::thread::Builder::new()
            .name("berth-build-view".into())
            .spawn(move || {
                let mut drawn = 0;
                // One write a frame: the terminal never shows half of one.
                let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stderr());
                loop {
                    if !matches!(
                        stopped.recv_timeout(TICK),
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout)
                    ) {
                        return drawn;
                    }
                    let Ok(state) = shared.lock() else {
                        return drawn;
                    };
                    // Unchanged and nothing running: the frame on the screen is right.
                    let running = state.rows.iter().any(|r| r.state == StepState::Running);
                    if !dirty.swap(false, Ordering::Relaxed) && !running {
                        continue;
                    }
                    let (width, height) = screen();
                    let lines = frame(&state, Utc::now(), width, height, false);
                    drop(state);
                    drawn = draw(&mut out, drawn, &lines);
                }
            })
            .ok();
        Live {
            state,
            changed,
            stop,
            drawer,
        }
    }

    /// A change to show.
    pub fn changed(&self) {
        self.changed.store(true, Ordering::Relaxed);
    }

    /// Stops the redraws and leaves the summary on the screen.
    pub fn finish(mut self) {
        let _ = self.stop.send(());
        let drawn = self.drawer.take().and_then(|d| d.join().ok()).unwrap_or(0);
        if let Ok(state) = self.state.lock() {
            let (width, height) = screen();
            let lines = frame(&state, Utc::now(), width, height, true);
            draw(
                &mut std::io::BufWriter::new(std::io::stderr()),
                drawn,
                &lines,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{BuildEvent, StepName};
    use crate::ops::build_record::tests::{at, done, log, started};
    use crate::ops::build_record::BuildRequest;

    fn step(number: usize, title: &str) -> StepName {
        StepName {
            number,
            title: title.into(),
        }
    }

    /// A two-stage build two seconds in: one step cached, one done after a miss, one
    /// running with output, two waiting.
    fn midway() -> BuildState {
        let mut state = BuildState::new(BuildRequest::default(), at(0));
        let events = [
            BuildEvent::Waiting(vec![
                step(1, "[base 1/2] FROM busybox"),
                step(2, "[base 2/2] COPY . /src"),
                step(3, "[build 1/3] FROM base"),
                step(4, "[build 2/3] RUN make"),
                step(5, "[build 3/3] WORKDIR /out"),
            ]),
            started(1, "[base 1/2] FROM busybox"),
            done(1, 0, 0),
            started(2, "[base 2/2] COPY . /src"),
            BuildEvent::Cached { number: 2 },
        ];
        for event in &events {
            state.apply(event, at(0));
        }
        state.apply(&started(3, "[build 1/3] FROM base"), at(0));
        state.apply(
            &BuildEvent::Miss {
                number: 3,
                reason: "src/main.rs\x1b[2J changed".into(),
            },
            at(0),
        );
        state.apply(&done(3, 500, 0), at(1));
        state.apply(&started(4, "[build 2/3] RUN make"), at(1));
        for i in 1..=8 {
            state.apply(&log(4, &format!("line {i}\n")), at(1));
        }
        state
    }

    #[test]
    fn a_frame_shows_started_steps_their_times_the_miss_and_the_running_tail() {
        let state = midway();
        let lines = frame(&state, at(3), 40, 40, false);
        let expected = [
            "[+] Building 3.0s (3/5)",
            " => [base 1/2] FROM busybox         0.0s",
            " => CACHED [base 2/2] COPY . /src   0.0s",
            " => [build 1/3] FROM base           0.5s",
            " => => cache miss: src/main.rs^[[2J chan",
            " => [build 2/3] RUN make            2.0s",
            " => => # line 3",
            " => => # line 4",
            " => => # line 5",
            " => => # line 6",
            " => => # line 7",
            " => => # line 8",
        ];
        assert_eq!(lines, expected);
    }

    #[test]
    fn a_short_screen_keeps_the_newest_lines_and_the_summary_keeps_all() {
        let mut state = midway();
        let lines = frame(&state, at(3), 40, 4, false);
        assert_eq!(
            lines,
            [
                "[+] Building 3.0s (3/5)",
                " => => # line 6",
                " => => # line 7",
                " => => # line 8"
            ]
        );
        state.apply(
            &BuildEvent::Error {
                number: 4,
                message: "process \"/bin/sh -c make\" did not complete successfully: exit code: 2"
                    .into(),
            },
            at(4),
        );
        state.end(Err("exit code: 2".into()), at(4));
        let lines = frame(&state, at(9), 60, 4, true);
        assert_eq!(lines[0], "[+] Building 4.0s (4/5) FAILED");
        assert_eq!(
            lines[5],
            " => ERROR [build 2/3] RUN make                          3.0s"
        );
        assert_eq!(lines[6], " => => # line 3");
        assert_eq!(
            lines.last().map(String::as_str),
            Some(" => => ERROR: process \"/bin/sh -c make\" did not complete suc")
        );
        // The waiting step never shows.
        assert!(!lines.iter().any(|l| l.contains("WORKDIR")), "{lines:?}");
    }

    #[test]
    fn wide_characters_and_a_narrow_screen_stay_within_the_width() {
        assert_eq!(fit("日本語のファイル", 7), "日本語");
        assert_eq!(spread("abc", "1.0s", 10), "abc   1.0s");
        assert_eq!(spread("abcdefghij", "1.0s", 10), "abcde 1.0s");
        assert_eq!(printable("a\tb\x1b]0;x\x07c\nd"), "a b^[]0;x^Gc d");
    }
}
