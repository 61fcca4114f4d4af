//! The event loop: terminal keys, engine results, the events journal and a clock in; a
//! frame out only when something changed.

use std::io::Write;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};

use super::clipboard;
use super::effect::{Effect, Target};
use super::mouse;
use super::msg::Msg;
use super::render::draw;
use super::state::App;
use super::terminal::TerminalGuard;
use super::trace::Trace;
use super::update::update;
use super::worker::Worker;
use crate::engine::container::stats::{between, sample_all, StatsSample};
use crate::engine::container::{ContainerRecord, Status};
use crate::engine::{ContainerId, Engine};

/// How often live stats are sampled, as `docker stats` does; only the running containers
/// on screen are sampled.
const STATS_EVERY: Duration = Duration::from_secs(1);

pub async fn run(engine: Engine, root: std::path::PathBuf, mut app: App) -> std::io::Result<()> {
    let theme = app.theme.clone();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let worker = Worker::new(engine.clone(), tx.clone(), root);
    let (running_tx, running_rx) = watch::channel(Vec::<ContainerRecord>::new());
    follow_events(&engine, tx.clone());
    tokio::spawn(sample_stats(running_rx, tx.clone()));

    let mut guard = TerminalGuard::enter()?;
    let mut keys = EventStream::new();
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut loads = Loads::default();
    loads.request(&worker);
    // Redraws a copy's progress popup from its shared counter.
    let mut copy_clock = tokio::time::interval(Duration::from_millis(100));
    let mut trace = Trace::from_env();

    loop {
        if app.dirty {
            let started = trace.start();
            // One synchronized update per frame, so tmux and ssh never show half of one.
            crossterm::execute!(std::io::stdout(), BeginSynchronizedUpdate)?;
            guard.terminal.draw(|frame| draw(frame, &app, &theme))?;
            crossterm::execute!(std::io::stdout(), EndSynchronizedUpdate)?;
            trace.frame(started, app.loaded);
            app.dirty = false;
        }
        let copying = app.files.as_ref().is_some_and(|f| f.copying.is_some());
        let msg = tokio::select! {
            event = keys.next() => match event {
                Some(Ok(TermEvent::Key(key))) if key.kind != KeyEventKind::Release => {
                    trace.key();
                    Msg::Key(key)
                }
                Some(Ok(TermEvent::Mouse(event))) => match mouse::from_event(&event) {
                    Some((kind, column, row)) => Msg::Mouse { kind, column, row },
                    None => continue,
                },
                Some(Ok(TermEvent::Resize(..))) => Msg::Resize,
                Some(Ok(_)) => continue,
                // The terminal is gone: nothing more can be shown.
                Some(Err(_)) | None => return Ok(()),
            },
            Some(msg) = rx.recv() => msg,
            _ = clock.tick() => Msg::Tick,
            _ = copy_clock.tick(), if copying => Msg::CopyTick,
        };
        if matches!(msg, Msg::Loaded(_)) {
            loads.finished(&worker);
        }
        let effects = update(&mut app, msg);
        let on_screen = running_on_screen(&app, guard.terminal.size()?.height);
        let same = |a: &[ContainerRecord], b: &[ContainerRecord]| {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|(x, y)| x.id == y.id && x.state.init == y.state.init)
        };
        if !same(&running_tx.borrow(), &on_screen) {
            let _ = running_tx.send(on_screen);
        }
        for effect in effects {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::Reload => loads.request(&worker),
                Effect::Shell(target) => {
                    drop(keys);
                    let result = guard.suspended(|| shell(&worker, &target))?;
                    keys = EventStream::new();
                    app.dirty = true;
                    let effects = update(&mut app, Msg::ShellReturned(result));
                    if effects.contains(&Effect::Reload) {
                        loads.request(&worker);
                    }
                }
                Effect::SetMouse(on) => guard.set_mouse(on)?,
                // Between frames, so the sequence never lands inside one.
                Effect::Yank(text) => {
                    let mut out = std::io::stdout();
                    out.write_all(clipboard::osc52(&text).as_bytes())?;
                    out.flush()?;
                }
                other => worker.spawn(other),
            }
        }
    }
}

/// The running containers whose rows or detail are on screen: the only ones sampled.
fn running_on_screen(app: &App, height: u16) -> Vec<ContainerRecord> {
    let running = |c: &&ContainerRecord| c.state.status == Status::Running;
    if app.detail.is_some() {
        return app
            .detail_container()
            .filter(running)
            .cloned()
            .into_iter()
            .collect();
    }
    if app.view != super::state::View::Containers || app.files.is_some() {
        return Vec::new();
    }
    let first = app.containers.offset.get();
    app.visible_containers()
        .into_iter()
        .skip(first)
        .take(height as usize)
        .filter(running)
        .cloned()
        .collect()
}

/// One snapshot load at a time: a burst of events asks for one more load, not one each.
#[derive(Default)]
struct Loads {
    running: bool,
    again: bool,
}

impl Loads {
    fn request(&mut self, worker: &Worker) {
        if self.running {
            self.again = true;
        } else {
            self.running = true;
            worker.spawn(Effect::Reload);
        }
    }

    /// Called when a load arrives: if events came in meanwhile, the next one begins.
    fn finished(&mut self, worker: &Worker) {
        self.running = false;
        if std::mem::take(&mut self.again) {
            self.request(worker);
        }
    }
}

fn shell(worker: &Worker, target: &Target) -> Result<i32, String> {
    println!(
        "berth: shell in {} (exit to return to the dashboard)",
        target.name
    );
    let args: Vec<String> = ["exec", "-it", &target.id, "sh"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let status = worker
        .berth_command(&args)
        .status()
        .map_err(|e| format!("exec in {}: {e}", target.name))?;
    match status.code() {
        Some(code) if code >= 125 => Err(format!("exec in {} failed ({code})", target.name)),
        Some(code) => Ok(code),
        None => Ok(0),
    }
}

/// Follows the events journal on a thread of its own (inotify, blocking reads), starting
/// with what it already holds so the events pane shows the recent past.
fn follow_events(engine: &Engine, tx: mpsc::UnboundedSender<Msg>) {
    let engine = engine.clone();
    std::thread::spawn(move || {
        let mut follower = match engine.follow_events(true) {
            Ok(f) => f,
            Err(e) => {
                let _ = tx.send(Msg::Done {
                    what: String::new(),
                    result: Err(format!("following events: {e}")),
                });
                return;
            }
        };
        loop {
            match follower.next_batch(Duration::from_secs(1)) {
                Ok(events) if events.is_empty() => {
                    if tx.is_closed() {
                        return;
                    }
                }
                Ok(events) => {
                    if tx.send(Msg::Events(events)).is_err() {
                        return;
                    }
                }
                Err(_) => std::thread::sleep(Duration::from_secs(1)),
            }
        }
    });
}

/// Samples the running containers' cgroups every [`STATS_EVERY`] and sends the rates.
async fn sample_stats(
    mut running: watch::Receiver<Vec<ContainerRecord>>,
    tx: mpsc::UnboundedSender<Msg>,
) {
    let mut previous: std::collections::HashMap<ContainerId, StatsSample> = Default::default();
    let mut every = tokio::time::interval(STATS_EVERY);
    loop {
        every.tick().await;
        let records = running.borrow_and_update().clone();
        if records.is_empty() {
            previous.clear();
            // Nothing to sample: wait for a container to start.
            if running.changed().await.is_err() {
                return;
            }
            continue;
        }
        let taken = tokio::task::spawn_blocking(move || sample_all(&records))
            .await
            .unwrap_or_default();
        let stats = taken
            .iter()
            .filter_map(|now| previous.get(&now.id).map(|before| between(before, now)))
            .collect::<Vec<_>>();
        previous = taken.into_iter().map(|s| (s.id.clone(), s)).collect();
        if !stats.is_empty() && tx.send(Msg::Stats(stats)).is_err() {
            return;
        }
    }
}
