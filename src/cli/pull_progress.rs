//! What `pull` and `push` show while they work: on a terminal a bar per layer (bytes,
//! rate, state) and a total, as Docker draws them; piped, one line per step, as Docker
//! prints then. Both read the engine's stream of events, through [`Report`].

use std::collections::HashMap;
use std::io::IsTerminal;
use std::marker::PhantomData;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::{Digest, PullEvent, PushEvent};

/// What a display shows for one event, whichever verb sent it.
pub enum Step<'a> {
    /// A line of its own (above the bars).
    Note(String),
    /// A layer's bytes so far, and what is happening to them.
    Bytes {
        layer: &'a Digest,
        done: u64,
        total: u64,
        doing: &'static str,
    },
    /// A layer's last state.
    Finished {
        layer: &'a Digest,
        message: String,
    },
    /// The last line: the total bar finishes.
    Done(String),
    None,
}

/// An engine event a display can show.
pub trait Report {
    /// `label` names the image (the tag or digest pulled).
    fn step(&self, label: &str) -> Step<'_>;
}

impl Report for PullEvent {
    fn step(&self, label: &str) -> Step<'_> {
        match self {
            // Said once the manifest is found, as Docker does: a missing image is one line.
            PullEvent::Resolved { repository, .. } => {
                Step::Note(format!("{label}: Pulling from {repository}"))
            }
            PullEvent::LayerExists { layer } => Step::Finished {
                layer,
                message: "Already exists".into(),
            },
            PullEvent::LayerProgress { layer, done, total } => Step::Bytes {
                layer,
                done: *done,
                total: *total,
                doing: "Downloading",
            },
            PullEvent::LayerComplete { layer } => Step::Finished {
                layer,
                message: "Pull complete".into(),
            },
            PullEvent::Done { digest, .. } => Step::Done(format!("Digest: {digest}")),
            PullEvent::Resolving { .. } => Step::None,
        }
    }
}

impl Report for PushEvent {
    fn step(&self, _label: &str) -> Step<'_> {
        match self {
            PushEvent::Preparing { repository, .. } => {
                Step::Note(format!("The push refers to repository [{repository}]"))
            }
            PushEvent::LayerExists { layer } => Step::Finished {
                layer,
                message: "Layer already exists".into(),
            },
            PushEvent::LayerMounted { layer, from } => Step::Finished {
                layer,
                message: format!("Mounted from {from}"),
            },
            PushEvent::LayerProgress { layer, done, total } => Step::Bytes {
                layer,
                done: *done,
                total: *total,
                doing: "Pushing",
            },
            PushEvent::LayerPushed { layer } => Step::Finished {
                layer,
                message: "Pushed".into(),
            },
            PushEvent::Done { tag, digest, size } => {
                Step::Done(format!("{tag}: digest: {digest} size: {size}"))
            }
        }
    }
}

/// Shows a pull's or push's events; `finish` before printing the summary.
pub struct Progress<E> {
    label: String,
    display: Display,
    out: Out,
    events: PhantomData<fn(&E)>,
}

/// Where progress goes: stdout for `pull` and `push`; stderr when `run` pulls, whose
/// stdout is the container's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Out {
    Stdout,
    Stderr,
}

impl Out {
    fn is_terminal(self) -> bool {
        match self {
            Out::Stdout => std::io::stdout().is_terminal(),
            Out::Stderr => std::io::stderr().is_terminal(),
        }
    }

    pub fn line(self, text: &str) {
        match self {
            Out::Stdout => println!("{text}"),
            Out::Stderr => eprintln!("{text}"),
        }
    }
}

enum Display {
    Quiet,
    Lines,
    Bars(Mutex<Bars>),
}

struct Bars {
    multi: MultiProgress,
    layers: HashMap<Digest, ProgressBar>,
    total: Option<ProgressBar>,
    /// Bytes done per layer, for the total.
    done: HashMap<Digest, u64>,
}

impl<E: Report> Progress<E> {
    /// `label` names the image in the first line (its tag or digest).
    pub fn new(quiet: bool, label: String, out: Out) -> Progress<E> {
        let display = if quiet {
            Display::Quiet
        } else if out.is_terminal() {
            let target = match out {
                Out::Stdout => ProgressDrawTarget::stdout_with_hz(10),
                Out::Stderr => ProgressDrawTarget::stderr_with_hz(10),
            };
            Display::Bars(Mutex::new(Bars {
                multi: MultiProgress::with_draw_target(target),
                layers: HashMap::new(),
                total: None,
                done: HashMap::new(),
            }))
        } else {
            Display::Lines
        };
        Progress {
            label,
            display,
            out,
            events: PhantomData,
        }
    }

    pub fn report(&self, event: &E) {
        match &self.display {
            Display::Quiet => {}
            Display::Lines => print_line(self.out, event.step(&self.label)),
            Display::Bars(bars) => {
                if let Ok(mut bars) = bars.lock() {
                    bars.update(event.step(&self.label));
                }
            }
        }
    }

    /// Leaves the bars' last state on screen, so the summary prints below them.
    pub fn finish(&self) {
        if let Display::Bars(bars) = &self.display {
            if let Ok(bars) = bars.lock() {
                for bar in bars.layers.values().chain(&bars.total) {
                    if !bar.is_finished() {
                        bar.abandon();
                    }
                }
            }
        }
    }
}

fn print_line(out: Out, step: Step<'_>) {
    match step {
        Step::Note(line) | Step::Done(line) => out.line(&line),
        Step::Finished { layer, message } => out.line(&format!("{}: {message}", layer.short())),
        Step::Bytes { .. } | Step::None => {}
    }
}

impl Bars {
    fn update(&mut self, step: Step<'_>) {
        match step {
            Step::Note(line) => {
                let _ = self.multi.println(line);
            }
            Step::Finished { layer, message } => {
                self.bar(layer, 0).finish_with_message(message);
            }
            Step::Bytes {
                layer,
                done,
                total,
                doing,
            } => {
                let bar = self.bar(layer, total);
                bar.set_length(total);
                bar.set_position(done);
                bar.set_message(doing);
                self.done.insert(layer.clone(), done);
                self.update_total();
            }
            Step::Done(line) => {
                if let Some(total) = &self.total {
                    total.finish_with_message("done");
                }
                let _ = self.multi.println(line);
            }
            Step::None => {}
        }
    }

    /// The layer's bar, made the first time the layer is heard of.
    fn bar(&mut self, layer: &Digest, total: u64) -> ProgressBar {
        if let Some(bar) = self.layers.get(layer) {
            return bar.clone();
        }
        // Layers above the total, whenever they show up.
        let bar = match &self.total {
            Some(sum) => self.multi.insert_before(sum, ProgressBar::new(total)),
            None => self.multi.add(ProgressBar::new(total)),
        };
        bar.set_style(layer_style());
        bar.set_prefix(layer.short().to_owned());
        self.layers.insert(layer.clone(), bar.clone());
        bar
    }

    fn update_total(&mut self) {
        let length: u64 = self.layers.values().filter_map(|b| b.length()).sum();
        let done: u64 = self.done.values().sum();
        let total = match &self.total {
            Some(total) => total.clone(),
            None => {
                let total = self.multi.add(ProgressBar::new(length));
                total.set_style(total_style());
                total.set_prefix("total");
                self.total = Some(total.clone());
                total
            }
        };
        total.set_length(length);
        total.set_position(done);
    }
}

fn layer_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{prefix}: {msg:15} [{bar:30}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

fn total_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{prefix:12}  {elapsed:>15} [{bar:30}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}
