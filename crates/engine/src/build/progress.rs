//! What a build tells its front door as it goes: one event per step change, so the CLI
//! can print BuildKit's plain shape (`#3 [build 2/5] RUN make`, `#3 CACHED`,
//! `#3 DONE 4.2s`) and the dashboard can show a build view.

use std::time::Duration;

/// One step of the build, as the progress shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepName {
    /// BuildKit's vertex number: 1, 2, ... in the order the steps are first shown.
    pub number: usize,
    /// `[build 2/5] RUN make`, `[internal] load build definition from Dockerfile`.
    pub title: String,
}

/// What happened to a step.
#[derive(Debug, Clone, PartialEq)]
pub enum BuildEvent {
    /// Before any step runs: the steps of every stage the target needs, in the order
    /// they will run, each with the number its later events carry (a base image's ONBUILD
    /// triggers, unknown until it is resolved, get numbers after these).
    Waiting(Vec<StepName>),
    /// The step started (or was looked up in the cache).
    Started(StepName),
    /// The cache missed; the first reason in plain words (`src/main.rs changed`).
    Miss { number: usize, reason: String },
    /// The step's result came from the cache.
    Cached { number: usize },
    /// A line (or a piece of one) of the step's output.
    Log {
        number: usize,
        stderr: bool,
        text: Vec<u8>,
    },
    /// The step finished: its time and the bytes its layer added.
    Done {
        number: usize,
        elapsed: Duration,
        size: u64,
    },
    /// The step failed with this one-line message.
    Error { number: usize, message: String },
    /// A warning for the whole build (an unused build arg, a `# syntax=` ignored).
    Warning(String),
}

/// Receives the build's events, in order, from the building thread.
pub trait BuildObserver {
    fn event(&mut self, event: BuildEvent);
}

/// An observer that drops everything (`-q`).
pub struct Quiet;

impl BuildObserver for Quiet {
    fn event(&mut self, _: BuildEvent) {}
}

/// An observer that keeps every event (tests, the dashboard's build view).
#[derive(Default, Debug)]
pub struct Recorder {
    pub events: Vec<BuildEvent>,
}

impl BuildObserver for Recorder {
    fn event(&mut self, event: BuildEvent) {
        self.events.push(event);
    }
}

impl<F: FnMut(BuildEvent)> BuildObserver for F {
    fn event(&mut self, event: BuildEvent) {
        self(event)
    }
}
