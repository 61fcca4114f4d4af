//! What `pull` shows while it works: on a terminal a bar per layer (bytes, rate, state)
//! and a total, as `docker pull` draws them; piped, one line per step, as Docker prints
//! then. Both read the engine's stream of pull events.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::image::registry::PullEvent;
use crate::engine::Digest;

/// Shows a pull's events; `finish` before printing the summary.
pub enum PullProgress {
    Quiet,
    Lines {
        label: String,
        out: Out,
        /// Said once the manifest is found, as Docker does: a missing image is one line.
        repository: Mutex<String>,
    },
    Bars(Mutex<Bars>),
}

/// Where progress goes: stdout for `pull`; stderr when `run` pulls, whose stdout is the
/// container's.
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

pub struct Bars {
    multi: MultiProgress,
    layers: HashMap<Digest, ProgressBar>,
    total: Option<ProgressBar>,
    /// Bytes done per layer, for the total.
    done: HashMap<Digest, u64>,
    repository: String,
}

impl PullProgress {
    /// `label` names the image in the first line (its tag or digest).
    pub fn new(quiet: bool, label: String, out: Out) -> PullProgress {
        if quiet {
            PullProgress::Quiet
        } else if out.is_terminal() {
            let target = match out {
                Out::Stdout => ProgressDrawTarget::stdout_with_hz(10),
                Out::Stderr => ProgressDrawTarget::stderr_with_hz(10),
            };
            PullProgress::Bars(Mutex::new(Bars {
                multi: MultiProgress::with_draw_target(target),
                layers: HashMap::new(),
                total: None,
                done: HashMap::new(),
                repository: String::new(),
            }))
        } else {
            PullProgress::Lines {
                label,
                out,
                repository: Mutex::new(String::new()),
            }
        }
    }

    pub fn report(&self, event: &PullEvent) {
        match self {
            PullProgress::Quiet => {}
            PullProgress::Lines {
                label,
                out,
                repository,
            } => {
                let mut repository = repository.lock().unwrap_or_else(|p| p.into_inner());
                print_line(*out, label, &mut repository, event);
            }
            PullProgress::Bars(bars) => {
                if let Ok(mut bars) = bars.lock() {
                    bars.update(event);
                }
            }
        }
    }

    /// Leaves the bars' last state on screen, so the summary prints below them.
    pub fn finish(&self) {
        if let PullProgress::Bars(bars) = self {
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

fn print_line(out: Out, label: &str, repository: &mut String, event: &PullEvent) {
    match event {
        PullEvent::Resolving { repository: name } => *repository = name.clone(),
        PullEvent::Resolved { .. } => out.line(&format!("{label}: Pulling from {repository}")),
        PullEvent::LayerExists { layer } => out.line(&format!("{}: Already exists", layer.short())),
        PullEvent::LayerComplete { layer } => {
            out.line(&format!("{}: Pull complete", layer.short()))
        }
        PullEvent::Done { digest, .. } => out.line(&format!("Digest: {digest}")),
        PullEvent::LayerProgress { .. } => {}
    }
}

impl Bars {
    fn update(&mut self, event: &PullEvent) {
        match event {
            PullEvent::Resolving { repository } => self.repository = repository.clone(),
            PullEvent::Resolved { .. } => {
                let _ = self
                    .multi
                    .println(format!("Pulling from {}", self.repository));
            }
            PullEvent::LayerExists { layer } => {
                self.bar(layer, 0).finish_with_message("Already exists");
            }
            PullEvent::LayerProgress { layer, done, total } => {
                let bar = self.bar(layer, *total);
                bar.set_length(*total);
                bar.set_position(*done);
                bar.set_message("Downloading");
                self.done.insert(layer.clone(), *done);
                self.update_total();
            }
            PullEvent::LayerComplete { layer } => {
                self.bar(layer, 0).finish_with_message("Pull complete");
            }
            PullEvent::Done { digest, .. } => {
                if let Some(total) = &self.total {
                    total.finish_with_message("done");
                }
                let _ = self.multi.println(format!("Digest: {digest}"));
            }
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
