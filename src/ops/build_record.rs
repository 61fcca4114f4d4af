//! A build's record, as every front door keeps it: what was asked for, one row per step
//! made from the engine's build events, the running step's output tail, the warnings and
//! the image's efficiency. `berth build` draws its terminal view from it and keeps it as
//! the last build under the engine root; the dashboard's build view shows it, live or
//! kept (`berth ui --once --view build`).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::{
    BuildEvent, BuildNetwork, BuildOptions, Cancel, DockerfileSource, Efficiency, ImageRef,
};

/// Lines of the running step's output kept for the view.
pub const OUTPUT_LINES: usize = 200;
/// Characters of one output line kept (a line without an end is cut there).
const LINE_CHARS: usize = 1000;
/// Warnings kept.
const WARNINGS: usize = 50;
/// The last build's state, under the engine root.
const LAST_BUILD: &str = "build/last-build.json";

/// What a build was asked for, as the form has it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildRequest {
    pub context: String,
    /// Empty: `<context>/Dockerfile`.
    pub dockerfile: String,
    pub tags: Vec<String>,
    pub target: Option<String>,
    pub args: Vec<(String, String)>,
}

impl BuildRequest {
    /// The engine's options, relative paths from the dashboard's working directory;
    /// `cancel` stops the build between steps.
    pub fn options(&self, cancel: Cancel) -> Result<BuildOptions, String> {
        let context = PathBuf::from(&self.context);
        let dockerfile = if self.dockerfile.is_empty() {
            context.join("Dockerfile")
        } else {
            PathBuf::from(&self.dockerfile)
        };
        let tags = self
            .tags
            .iter()
            .map(|t| {
                t.parse::<ImageRef>()
                    .map_err(|e| format!("invalid tag {t:?}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(BuildOptions {
            context,
            dockerfile: DockerfileSource::Path(dockerfile),
            tags,
            target: self.target.clone(),
            build_args: self
                .args
                .iter()
                .map(|(k, v)| (k.clone(), Some(v.clone())))
                .collect(),
            no_cache: false,
            pull: false,
            labels: Vec::new(),
            network: BuildNetwork::Default,
            platform: None,
            cancel,
        })
    }

    /// `tag` or the context, for titles and the footer.
    pub fn name(&self) -> String {
        self.tags
            .first()
            .cloned()
            .unwrap_or_else(|| self.context.clone())
    }
}

/// Where a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepState {
    Waiting,
    Running,
    Cached,
    Done,
    Error,
}

impl StepState {
    pub fn text(self) -> &'static str {
        match self {
            StepState::Waiting => "waiting",
            StepState::Running => "running",
            StepState::Cached => "CACHED",
            StepState::Done => "done",
            StepState::Error => "error",
        }
    }
}

/// One step of the build, as the view's row shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRow {
    /// BuildKit's vertex number.
    pub number: usize,
    /// `build 2/5`, `internal`: the title's bracket.
    pub stage: String,
    /// `RUN make`.
    pub instruction: String,
    pub state: StepState,
    pub started: DateTime<Utc>,
    /// Seconds it took, once it ended.
    pub seconds: Option<f64>,
    /// Bytes its layer added.
    pub size: Option<u64>,
    /// Why the cache missed.
    pub miss: Option<String>,
    pub error: Option<String>,
}

impl StepRow {
    /// The row of a step titled `[build 2/5] RUN make`, running from `now`.
    fn new(number: usize, title: &str, now: DateTime<Utc>) -> StepRow {
        let (stage, instruction) = split_title(title);
        StepRow {
            number,
            stage,
            instruction,
            state: StepState::Running,
            started: now,
            seconds: None,
            size: None,
            miss: None,
            error: None,
        }
    }

    /// Seconds it took, or has been running at `now`.
    pub fn elapsed(&self, now: DateTime<Utc>) -> Option<f64> {
        match self.state {
            StepState::Running => {
                Some(((now - self.started).num_milliseconds().max(0) as f64) / 1000.0)
            }
            _ => self.seconds,
        }
    }
}

/// `[build 2/5] RUN make` as its stage (`build 2/5`) and instruction (`RUN make`).
fn split_title(title: &str) -> (String, String) {
    match title
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
    {
        Some((stage, rest)) => (stage.trim().to_owned(), rest.trim().to_owned()),
        None => (String::new(), title.trim().to_owned()),
    }
}

/// Where the build is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Phase {
    Running,
    /// Built: the image's ID, the steps run and those cached.
    Done {
        image: String,
        ran: usize,
        cached: usize,
    },
    /// The engine's one-line error.
    Failed(String),
}

/// The efficiency of the built image, once measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Measured {
    Pending,
    Done(Box<Efficiency>),
    Failed(String),
}

/// A build under way or ended. The fields not kept (`serde(skip)`) are the dashboard's
/// while it shows the build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildState {
    pub request: BuildRequest,
    pub started: DateTime<Utc>,
    pub ended: Option<DateTime<Utc>>,
    pub phase: Phase,
    pub rows: Vec<StepRow>,
    /// The step whose output `output` holds (the last that printed).
    pub output_step: Option<usize>,
    /// Its last [`OUTPUT_LINES`] lines, and the line not ended yet.
    pub output: VecDeque<String>,
    pub partial: String,
    pub warnings: Vec<String>,
    pub efficiency: Option<Measured>,
    /// The selected wasted path of the efficiency panel.
    #[serde(skip)]
    pub selected: usize,
    /// The end has been on screen (a build ended while hidden shows its view once).
    #[serde(skip)]
    pub seen: bool,
    /// Stops the build (the view's cancel key).
    #[serde(skip)]
    pub cancel: Cancel,
}

impl BuildState {
    pub fn new(request: BuildRequest, now: DateTime<Utc>) -> BuildState {
        BuildState {
            request,
            started: now,
            ended: None,
            phase: Phase::Running,
            rows: Vec::new(),
            output_step: None,
            output: VecDeque::new(),
            partial: String::new(),
            warnings: Vec::new(),
            efficiency: None,
            selected: 0,
            seen: false,
            cancel: Cancel::default(),
        }
    }

    pub fn running(&self) -> bool {
        self.phase == Phase::Running
    }

    fn row(&mut self, number: usize) -> Option<&mut StepRow> {
        self.rows.iter_mut().rev().find(|r| r.number == number)
    }

    /// Applies one of the engine's events, at `now`.
    pub fn apply(&mut self, event: &BuildEvent, now: DateTime<Utc>) {
        match event {
            BuildEvent::Waiting(steps) => {
                for step in steps {
                    if self.row(step.number).is_none() {
                        let mut row = StepRow::new(step.number, &step.title, now);
                        row.state = StepState::Waiting;
                        self.rows.push(row);
                    }
                }
            }
            // A waiting row starts running, its time from now (an ONBUILD trigger before
            // it can change its position in the title).
            BuildEvent::Started(step) => match self.row(step.number) {
                Some(row) => {
                    (row.stage, row.instruction) = split_title(&step.title);
                    row.state = StepState::Running;
                    row.started = now;
                }
                None => self.rows.push(StepRow::new(step.number, &step.title, now)),
            },
            BuildEvent::Miss { number, reason } => {
                if let Some(row) = self.row(*number) {
                    row.miss = Some(reason.clone());
                }
            }
            BuildEvent::Cached { number } => {
                if let Some(row) = self.row(*number) {
                    row.state = StepState::Cached;
                    row.seconds = Some(0.0);
                }
            }
            BuildEvent::Log {
                number,
                stderr: _,
                text,
            } => self.log(*number, text),
            BuildEvent::Done {
                number,
                elapsed,
                size,
            } => {
                if let Some(row) = self.row(*number) {
                    if row.state != StepState::Cached {
                        row.state = StepState::Done;
                        row.seconds = Some(elapsed.as_secs_f64());
                    }
                    row.size = Some(*size);
                }
            }
            BuildEvent::Error { number, message } => {
                if let Some(row) = self.row(*number) {
                    row.state = StepState::Error;
                    row.seconds =
                        Some(((now - row.started).num_milliseconds().max(0)) as f64 / 1000.0);
                    row.error = Some(message.clone());
                }
            }
            BuildEvent::Warning(text) => {
                if self.warnings.len() < WARNINGS {
                    self.warnings.push(text.clone());
                }
            }
        }
    }

    /// Output of step `number`: its lines go to the tail, which starts afresh when
    /// another step prints.
    fn log(&mut self, number: usize, text: &[u8]) {
        if self.output_step != Some(number) {
            self.output_step = Some(number);
            self.output.clear();
            self.partial.clear();
        }
        for c in String::from_utf8_lossy(text).chars() {
            match c {
                '\n' => {
                    let line = std::mem::take(&mut self.partial);
                    self.output.push_back(line);
                    if self.output.len() > OUTPUT_LINES {
                        self.output.pop_front();
                    }
                }
                // A progress bar redraws its line.
                '\r' => self.partial.clear(),
                c if self.partial.chars().count() < LINE_CHARS => self.partial.push(c),
                _ => {}
            }
        }
    }

    /// The build ended: how, at `now`. Steps still running ended with it.
    pub fn end(&mut self, result: Result<(String, usize, usize), String>, now: DateTime<Utc>) {
        self.ended = Some(now);
        self.phase = match result {
            Ok((image, ran, cached)) => {
                self.efficiency = Some(Measured::Pending);
                Phase::Done { image, ran, cached }
            }
            Err(e) => Phase::Failed(e),
        };
        let failed = matches!(self.phase, Phase::Failed(_));
        for row in &mut self.rows {
            if row.state == StepState::Running {
                row.seconds = Some(((now - row.started).num_milliseconds().max(0)) as f64 / 1000.0);
                row.state = if failed {
                    StepState::Error
                } else {
                    StepState::Done
                };
            }
        }
    }

    /// The output's lines, the unfinished one last.
    pub fn output_lines(&self) -> impl Iterator<Item = &str> {
        self.output
            .iter()
            .map(String::as_str)
            .chain((!self.partial.is_empty()).then_some(self.partial.as_str()))
    }

    /// Steps ended (done, cached or failed), of those seen so far.
    pub fn steps_ended(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| !matches!(r.state, StepState::Waiting | StepState::Running))
            .count()
    }

    /// One line for the footer.
    pub fn summary(&self) -> String {
        let name = self.request.name();
        match &self.phase {
            Phase::Running => {
                let step = self
                    .rows
                    .iter()
                    .rev()
                    .find(|r| r.state == StepState::Running)
                    .map(|r| format!(": {} {}", r.stage, r.instruction))
                    .unwrap_or_default();
                format!("building {name}{step}")
            }
            Phase::Done { image, ran, cached } => format!(
                "built {name} ({}): {ran} steps run, {cached} cached",
                short_id(image)
            ),
            Phase::Failed(e) => format!("build of {name} failed: {e}"),
        }
    }

    /// The wasted paths of the efficiency panel, if measured.
    pub fn efficiency(&self) -> Option<&Efficiency> {
        match &self.efficiency {
            Some(Measured::Done(e)) => Some(e),
            _ => None,
        }
    }
}

/// `0123456789ab` of `sha256:0123456789ab...`.
pub fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

/// The last build's state under the engine `root`, if any was kept.
pub fn load_last(root: &Path) -> Result<Option<BuildState>, String> {
    let path = root.join(LAST_BUILD);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("reading {}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("reading {}: {e}", path.display())),
    }
}

/// Keeps `state` as the last build's (temp file + rename: a reader sees the old or the
/// whole new one).
pub fn save_last(root: &Path, state: &BuildState) -> Result<(), String> {
    let path = root.join(LAST_BUILD);
    let dir = path.parent().unwrap_or(root);
    let failed = |e: &dyn std::fmt::Display| format!("writing {}: {e}", path.display());
    std::fs::create_dir_all(dir).map_err(|e| failed(&e))?;
    let bytes = serde_json::to_vec(state).map_err(|e| failed(&e))?;
    // One writer per process at a time (one build at a time in a dashboard).
    let temp = dir.join(format!(".last-build.json.{}", std::process::id()));
    let written = std::fs::write(&temp, bytes).and_then(|()| std::fs::rename(&temp, &path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(failed(&e));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::StepName;
    use std::time::Duration;

    pub fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
    }

    pub fn started(number: usize, title: &str) -> BuildEvent {
        BuildEvent::Started(StepName {
            number,
            title: title.into(),
        })
    }

    pub fn done(number: usize, ms: u64, size: u64) -> BuildEvent {
        BuildEvent::Done {
            number,
            elapsed: Duration::from_millis(ms),
            size,
        }
    }

    pub fn log(number: usize, text: &str) -> BuildEvent {
        BuildEvent::Log {
            number,
            stderr: false,
            text: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn events_make_rows_and_the_output_keeps_its_tail() {
        let mut state = BuildState::new(BuildRequest::default(), at(0));
        state.apply(
            &started(1, "[internal] load build definition from Dockerfile"),
            at(0),
        );
        state.apply(&done(1, 10, 0), at(0));
        state.apply(&started(2, "[build 1/2] FROM busybox"), at(1));
        state.apply(&BuildEvent::Cached { number: 2 }, at(1));
        state.apply(&started(3, "[build 2/2] RUN make"), at(1));
        state.apply(
            &BuildEvent::Miss {
                number: 3,
                reason: "build arg V changed 1 → 2".into(),
            },
            at(1),
        );
        state.apply(&log(3, "one\ntw"), at(2));
        state.apply(&log(3, "o\n10%\r20%"), at(2));
        let rows: Vec<(&str, &str, StepState)> = state
            .rows
            .iter()
            .map(|r| (r.stage.as_str(), r.instruction.as_str(), r.state))
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "internal",
                    "load build definition from Dockerfile",
                    StepState::Done
                ),
                ("build 1/2", "FROM busybox", StepState::Cached),
                ("build 2/2", "RUN make", StepState::Running),
            ]
        );
        assert_eq!(state.rows[2].elapsed(at(4)), Some(3.0));
        assert_eq!(
            state.rows[2].miss.as_deref(),
            Some("build arg V changed 1 → 2")
        );
        assert_eq!(
            state.output_lines().collect::<Vec<_>>(),
            ["one", "two", "20%"]
        );
        for i in 0..OUTPUT_LINES + 5 {
            state.apply(&log(3, &format!("line {i}\n")), at(3));
        }
        assert_eq!(state.output.len(), OUTPUT_LINES);
        assert_eq!(state.output.back().map(String::as_str), Some("line 204"));
        assert!(
            state.summary().ends_with(": build 2/2 RUN make"),
            "{}",
            state.summary()
        );
    }

    #[test]
    fn waiting_rows_start_running_under_the_title_they_start_with() {
        let mut state = BuildState::new(BuildRequest::default(), at(0));
        let planned = |number, title: &str| StepName {
            number,
            title: title.into(),
        };
        state.apply(
            &BuildEvent::Waiting(vec![
                planned(1, "[1/3] FROM busybox"),
                planned(2, "[2/3] RUN a"),
                planned(3, "[3/3] COPY b /"),
            ]),
            at(0),
        );
        let states: Vec<StepState> = state.rows.iter().map(|r| r.state).collect();
        assert_eq!(states, [StepState::Waiting; 3]);
        assert_eq!(state.steps_ended(), 0);
        // A base's ONBUILD trigger ran first: the step starts at another position.
        state.apply(&started(2, "[3/4] RUN a"), at(5));
        let row = &state.rows[1];
        assert_eq!((row.state, row.stage.as_str()), (StepState::Running, "3/4"));
        assert_eq!(row.elapsed(at(7)), Some(2.0));
        assert_eq!(state.rows[2].elapsed(at(7)), None);
        // A failed build leaves the steps it never reached waiting.
        state.end(Err("exit code: 1".into()), at(8));
        assert_eq!(state.rows[1].state, StepState::Error);
        assert_eq!(state.rows[2].state, StepState::Waiting);
    }

    #[test]
    fn the_last_build_is_kept_whole() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(load_last(dir.path()), Ok(None)));
        let mut state = BuildState::new(BuildRequest::default(), at(0));
        state.apply(&started(1, "[a 1/1] RUN true"), at(0));
        state.end(Ok(("sha256:abc".into(), 1, 0)), at(1));
        save_last(dir.path(), &state).unwrap();
        let json = |s: &BuildState| serde_json::to_value(s).unwrap();
        let kept = load_last(dir.path()).unwrap().unwrap();
        assert_eq!(json(&kept), json(&state));
        assert_eq!(kept.rows, state.rows);
    }
}
