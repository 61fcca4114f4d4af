//! A pull started from the dashboard: its state as the pull dialog and the footer show it
//! (built from the engine's pull events), and the thread that runs it, apart from the
//! shared worker so the dashboard's other engine calls go on during a long pull.

use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use super::msg::Msg;
use crate::engine::{Cancel, Digest, Engine, PullEvent, PullOptions, Reference};
use crate::settings::Settings;

/// How often a pull's gathered events go to the dashboard: at most ten redraws a second
/// come from a pull, however fast its layers report.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerState {
    Waiting,
    Downloading,
    /// The engine has it already: not downloaded.
    Exists,
    /// Downloaded, verified and unpacked.
    Complete,
}

impl LayerState {
    pub fn text(self) -> &'static str {
        match self {
            LayerState::Waiting => "waiting",
            LayerState::Downloading => "downloading",
            LayerState::Exists => "exists",
            LayerState::Complete => "complete",
        }
    }

    pub fn finished(self) -> bool {
        matches!(self, LayerState::Exists | LayerState::Complete)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerRow {
    pub digest: Digest,
    pub done: u64,
    /// Unknown (0) until the layer's first progress.
    pub total: u64,
    pub state: LayerState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Fetching the manifest of this repository.
    Resolving(String),
    Downloading,
    /// Stored and tagged: the image's ID.
    Done(Digest),
    /// The engine's one-line error.
    Failed(String),
}

/// A pull under way (or just ended, while its dialog is open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullState {
    /// As the user typed it, normalised (`docker.io/library/busybox:latest`).
    pub reference: String,
    pub phase: Phase,
    /// Bottom layer first, as the manifest lists them.
    pub layers: Vec<LayerRow>,
    /// Stops the pull (its dialog's cancel key).
    pub cancel: Cancel,
}

impl PullState {
    pub fn new(reference: &Reference) -> PullState {
        PullState {
            reference: reference.to_string(),
            phase: Phase::Resolving(reference.repository().to_owned()),
            layers: Vec::new(),
            cancel: Cancel::default(),
        }
    }

    pub fn running(&self) -> bool {
        matches!(self.phase, Phase::Resolving(_) | Phase::Downloading)
    }

    /// Applies one of the engine's events.
    pub fn apply(&mut self, event: &PullEvent) {
        match event {
            PullEvent::Resolving { repository } => {
                self.phase = Phase::Resolving(repository.clone())
            }
            PullEvent::Resolved { layers, .. } => {
                self.phase = Phase::Downloading;
                self.layers = layers
                    .iter()
                    .map(|digest| LayerRow {
                        digest: digest.clone(),
                        done: 0,
                        total: 0,
                        state: LayerState::Waiting,
                    })
                    .collect();
            }
            PullEvent::LayerExists { layer } => {
                if let Some(row) = self.layer(layer) {
                    row.state = LayerState::Exists;
                }
            }
            PullEvent::LayerProgress { layer, done, total } => {
                if let Some(row) = self.layer(layer) {
                    row.done = *done;
                    row.total = *total;
                    row.state = LayerState::Downloading;
                }
            }
            PullEvent::LayerComplete { layer } => {
                if let Some(row) = self.layer(layer) {
                    row.state = LayerState::Complete;
                    row.done = row.total.max(row.done);
                    row.total = row.done;
                }
            }
            PullEvent::Done { id, .. } => self.phase = Phase::Done(id.clone()),
        }
    }

    fn layer(&mut self, digest: &Digest) -> Option<&mut LayerRow> {
        self.layers.iter_mut().find(|row| row.digest == *digest)
    }

    /// Bytes received and expected over the layers downloaded (those already here and
    /// those not started count nothing).
    pub fn bytes(&self) -> (u64, u64) {
        self.layers
            .iter()
            .filter(|row| row.state != LayerState::Exists)
            .fold((0, 0), |(done, total), row| {
                (done + row.done, total + row.total)
            })
    }

    /// Layers finished, of all.
    pub fn layers_finished(&self) -> usize {
        self.layers
            .iter()
            .filter(|row| row.state.finished())
            .count()
    }

    /// One line for the footer while the dialog is hidden.
    pub fn summary(&self) -> String {
        let state = match &self.phase {
            Phase::Resolving(_) => "resolving".to_owned(),
            Phase::Downloading => {
                let (done, total) = self.bytes();
                format!(
                    "{}/{} layers, {} of {}",
                    self.layers_finished(),
                    self.layers.len(),
                    crate::format::human_size(done),
                    crate::format::human_size(total)
                )
            }
            Phase::Done(_) => "done".to_owned(),
            Phase::Failed(_) => "failed".to_owned(),
        };
        format!("pulling {}: {state}", self.reference)
    }
}

/// Events gathered between two flushes, progress coalesced: only a layer's latest byte
/// count is kept. Bounded: one progress event and two state events per layer at most.
#[derive(Debug, Default)]
pub struct Gathered {
    events: Vec<PullEvent>,
}

impl Gathered {
    pub fn push(&mut self, event: &PullEvent) {
        if let PullEvent::LayerProgress { layer, .. } = event {
            // A layer reports no progress after its completion, so the one kept is the
            // last of this layer's events.
            let same = |e: &PullEvent| matches!(e, PullEvent::LayerProgress { layer: l, .. } if l == layer);
            if let Some(kept) = self.events.iter_mut().find(|e| same(e)) {
                *kept = event.clone();
                return;
            }
        }
        self.events.push(event.clone());
    }

    pub fn take(&mut self) -> Vec<PullEvent> {
        std::mem::take(&mut self.events)
    }
}

/// Pulls `reference` on a thread of its own: its events arrive as [`Msg::PullEvents`],
/// gathered for [`FLUSH_EVERY`], then its end as [`Msg::Pulled`].
pub fn spawn(engine: Engine, reference: Reference, cancel: Cancel, tx: UnboundedSender<Msg>) {
    let thread = std::thread::Builder::new().name("berth-pull".into());
    let reported = tx.clone();
    let started = thread.spawn(move || {
        let result = pull(&engine, &reference, cancel, &tx);
        // The loop is gone only when the dashboard is closing.
        let _ = tx.send(Msg::Pulled(result));
    });
    if let Err(e) = started {
        let _ = reported.send(Msg::Pulled(Err(format!("starting the pull: {e}"))));
    }
}

fn pull(
    engine: &Engine,
    reference: &Reference,
    cancel: Cancel,
    tx: &UnboundedSender<Msg>,
) -> Result<Digest, String> {
    let options = Settings::load()
        .and_then(|settings| settings.pull_options(None, &[]))
        .map_err(|e| format!("reading the settings: {e}"))?;
    let options = PullOptions { cancel, ..options };
    let gathered = &Mutex::new(Gathered::default());
    let (stop, stopped) = channel::<()>();
    std::thread::scope(|scope| {
        // Sends what was gathered every FLUSH_EVERY, and the rest once the pull ends
        // (the scope waits for it, so the events arrive before the result).
        scope.spawn(move || loop {
            let last = !matches!(
                stopped.recv_timeout(FLUSH_EVERY),
                Err(RecvTimeoutError::Timeout)
            );
            let events = gathered.lock().map(|mut g| g.take()).unwrap_or_default();
            let gone = !events.is_empty() && tx.send(Msg::PullEvents(events)).is_err();
            if last || gone {
                return;
            }
        });
        let report = |event: &PullEvent| {
            if let Ok(mut g) = gathered.lock() {
                g.push(event);
            }
        };
        let result = engine.pull(reference, &options, &report);
        drop(stop);
        result.map(|pulled| pulled.id).map_err(|e| e.to_string())
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn digest(n: u8) -> Digest {
        Digest::of_bytes(&[n])
    }

    fn progress(layer: u8, done: u64) -> PullEvent {
        PullEvent::LayerProgress {
            layer: digest(layer),
            done,
            total: 1000,
        }
    }

    #[test]
    fn progress_is_coalesced_per_layer_and_state_events_kept_in_order() {
        let mut gathered = Gathered::default();
        for event in [
            progress(1, 100),
            progress(2, 100),
            progress(1, 200),
            progress(1, 1000),
            PullEvent::LayerComplete { layer: digest(1) },
            progress(2, 300),
        ] {
            gathered.push(&event);
        }
        assert_eq!(
            gathered.take(),
            [
                progress(1, 1000),
                progress(2, 300),
                PullEvent::LayerComplete { layer: digest(1) },
            ]
        );
        assert!(gathered.take().is_empty());
    }

    use crate::tui::effect::Effect;
    use crate::tui::keymap::Keymap;
    use crate::tui::state::{App, Popup, View};
    use crate::tui::update::update;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    const REFERENCE: &str = "127.0.0.1:5000/test/busybox:latest";

    fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
        update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    fn typed(app: &mut App, text: &str) -> Vec<Effect> {
        text.chars()
            .flat_map(|c| key(app, KeyCode::Char(c)))
            .collect()
    }

    fn states(app: &App) -> Vec<LayerState> {
        let pull = app.pull.as_ref().expect("a pull");
        pull.layers.iter().map(|row| row.state).collect()
    }

    /// The dashboard on the images pane with a pull of [`REFERENCE`] started from it:
    /// `p`, the reference, enter.
    pub fn pulling() -> App {
        let mut app = App::new(Keymap::default());
        app.loaded = true;
        typed(&mut app, "2p");
        assert_eq!(app.view, View::Images);
        // A reference that doesn't parse says why in the popup and starts nothing.
        typed(&mut app, "Bad/Name");
        assert!(key(&mut app, KeyCode::Enter).is_empty());
        match &app.popup {
            Some(Popup::PullInput { error: Some(e), .. }) => {
                assert!(e.contains("Bad/Name"), "{e}")
            }
            other => panic!("expected the refusal, got {other:?}"),
        }
        for _ in 0.."Bad/Name".len() {
            key(&mut app, KeyCode::Backspace);
        }
        typed(&mut app, REFERENCE);
        match key(&mut app, KeyCode::Enter).as_slice() {
            [Effect::Pull(reference, _)] => assert_eq!(reference.to_string(), REFERENCE),
            other => panic!("expected the pull, got {other:?}"),
        }
        assert_eq!(app.popup, Some(Popup::Pull));
        app
    }

    pub fn layers() -> Vec<Digest> {
        (0..4u8).map(|n| Digest::of_bytes(&[b'L', n])).collect()
    }

    /// Four layers: here already, complete, half downloaded, not started.
    pub fn mid_pull(app: &mut App) {
        let l = layers();
        let events = vec![
            PullEvent::Resolving {
                repository: "test/busybox".into(),
            },
            PullEvent::Resolved {
                repository: "test/busybox".into(),
                manifest: Digest::of_bytes(b"manifest"),
                layers: l.clone(),
            },
            PullEvent::LayerExists {
                layer: l[0].clone(),
            },
            PullEvent::LayerProgress {
                layer: l[1].clone(),
                done: 262_144,
                total: 2_048_000,
            },
            PullEvent::LayerProgress {
                layer: l[2].clone(),
                done: 524_288,
                total: 3_500_000,
            },
            PullEvent::LayerProgress {
                layer: l[1].clone(),
                done: 2_048_000,
                total: 2_048_000,
            },
            PullEvent::LayerComplete {
                layer: l[1].clone(),
            },
            PullEvent::LayerProgress {
                layer: l[2].clone(),
                done: 1_750_000,
                total: 3_500_000,
            },
        ];
        update(app, Msg::PullEvents(events));
    }

    #[test]
    fn events_map_to_each_layers_state_and_the_end_selects_the_image() {
        let mut app = pulling();
        assert!(matches!(
            app.pull.as_ref().map(|p| &p.phase),
            Some(Phase::Resolving(_))
        ));
        mid_pull(&mut app);
        use LayerState::*;
        assert_eq!(states(&app), [Exists, Complete, Downloading, Waiting]);
        let pull = app.pull.as_ref().unwrap();
        assert_eq!(pull.phase, Phase::Downloading);
        assert_eq!(pull.bytes(), (2_048_000 + 1_750_000, 2_048_000 + 3_500_000));
        assert_eq!(pull.layers_finished(), 2);

        // Esc hides the dialog; the pull goes on in the footer and p shows it again.
        key(&mut app, KeyCode::Esc);
        assert_eq!(app.popup, None);
        let footer = crate::tui::once::render_text(&app, 120, 10);
        assert!(
            footer.contains(&format!("↓ pulling {REFERENCE}: 2/4 layers")),
            "{footer}"
        );
        typed(&mut app, "p");
        assert_eq!(app.popup, Some(Popup::Pull));

        let l = layers();
        update(
            &mut app,
            Msg::PullEvents(vec![
                PullEvent::LayerComplete {
                    layer: l[2].clone(),
                },
                PullEvent::LayerProgress {
                    layer: l[3].clone(),
                    done: 10,
                    total: 10,
                },
                PullEvent::LayerComplete {
                    layer: l[3].clone(),
                },
            ]),
        );
        assert_eq!(states(&app), [Exists, Complete, Complete, Complete]);
        let id = Digest::of_bytes(b"config");
        assert_eq!(
            update(&mut app, Msg::Pulled(Ok(id.clone()))),
            [Effect::Reload]
        );
        assert_eq!(app.pull.as_ref().unwrap().phase, Phase::Done(id.clone()));
        // The list read again holds the image: it is selected.
        let image = |id: &Digest| crate::tui::snapshot::ImageRow {
            summary: crate::engine::ImageSummary {
                id: id.clone(),
                references: Vec::new(),
                created: None,
                size: 0,
            },
            containers: Vec::new(),
        };
        let snapshot = crate::tui::snapshot::Snapshot {
            images: vec![image(&Digest::of_bytes(b"other")), image(&id)],
            ..Default::default()
        };
        update(&mut app, Msg::Loaded(Ok(Box::new(snapshot))));
        assert_eq!(app.images.selected, 1);
        // An ended pull's dialog closes, and p asks for the next.
        key(&mut app, KeyCode::Esc);
        assert!(app.pull.is_none());
        typed(&mut app, "p");
        assert!(matches!(app.popup, Some(Popup::PullInput { .. })));
    }

    #[test]
    fn x_in_the_dialog_cancels_the_pull_it_started() {
        let mut app = pulling();
        mid_pull(&mut app);
        let cancel = app.pull.as_ref().unwrap().cancel.clone();
        assert!(!cancel.is_cancelled());
        typed(&mut app, "x");
        assert!(
            cancel.is_cancelled(),
            "the flag the pull thread reads is set"
        );
        assert_eq!(
            app.popup,
            Some(Popup::Pull),
            "the dialog stays to show the end"
        );
        update(
            &mut app,
            Msg::Pulled(Err(format!("pulling {REFERENCE}: cancelled"))),
        );
        assert!(matches!(
            app.pull.as_ref().map(|p| &p.phase),
            Some(Phase::Failed(e)) if e.ends_with("cancelled")
        ));
        // Once it ended, x does nothing more.
        typed(&mut app, "x");
        assert_eq!(app.popup, Some(Popup::Pull));
    }

    #[test]
    fn a_failure_shows_the_engines_line_in_the_dialog_or_the_status() {
        let mut app = pulling();
        let error = format!("pulling {REFERENCE}: the registry answered 404 Not Found");
        update(&mut app, Msg::Pulled(Err(error.clone())));
        assert_eq!(
            app.pull.as_ref().map(|p| &p.phase),
            Some(&Phase::Failed(error.clone()))
        );
        assert!(crate::tui::once::render_text(&app, 80, 24).contains("error: pulling 127.0.0.1"));
        // Hidden, the status line says it and the pull is forgotten.
        let mut app = pulling();
        key(&mut app, KeyCode::Esc);
        update(&mut app, Msg::Pulled(Err(error.clone())));
        assert!(app.pull.is_none());
        assert_eq!(
            app.status.as_ref().map(|s| (s.text.as_str(), s.error)),
            Some((error.as_str(), true))
        );
    }
}
