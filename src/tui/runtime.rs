//! The event loop: terminal keys, engine results, the events journal and a clock in; a
//! frame out only when something changed.

use std::io::Write;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};

use super::clipboard;
use super::effect::{Effect, Target};
use super::mouse;
use super::msg::Msg;
use super::render::draw;
use super::snapshot::port_rates;
use super::state::App;
use super::terminal::TerminalGuard;
use super::trace::Trace;
use super::update::update;
use super::worker::Worker;
use crate::engine::{
    sample_all_stats, stats_between, ContainerId, ContainerRecord, Engine, LinkWatch, NetworkState,
    StatsSample,
};

/// How often live stats are sampled while a container's detail (its charts) is open, as
/// `docker stats` does; only the running containers on screen are sampled.
const STATS_EVERY: Duration = Duration::from_secs(1);
/// How often for the list and the preview pane's figures: a sample of twenty containers
/// is some 140 reads of cgroup and proc files, most of the idle dashboard's CPU time.
const STATS_LIST_EVERY: Duration = Duration::from_secs(2);
/// How long link changes are gathered before the networks are read again.
const LINK_SETTLE: Duration = Duration::from_millis(50);

pub async fn run(engine: Engine, root: std::path::PathBuf, app: App) -> std::io::Result<()> {
    let (tx, rx) = mpsc::unbounded_channel();
    let worker = Worker::new(engine.clone(), tx.clone(), root);
    let result = event_loop(engine, &worker, tx, rx, app).await;
    // Quitting, or losing the terminal, ends the `:` verbs under way: each is reaped before
    // the dashboard exits, none left following a log with the user's prompt gone.
    worker.end_verbs();
    result
}

async fn event_loop(
    engine: Engine,
    worker: &Worker,
    tx: mpsc::UnboundedSender<Msg>,
    mut rx: mpsc::UnboundedReceiver<Msg>,
    mut app: App,
) -> std::io::Result<()> {
    let theme = app.theme.clone();
    // The running containers on screen, and how often to sample them.
    let (running_tx, running_rx) = watch::channel((Vec::<ContainerRecord>::new(), STATS_EVERY));
    // The ID of the network whose detail is open: its ports' counters are sampled.
    let (network_tx, network_rx) = watch::channel(None::<String>);
    follow_events(&engine, tx.clone());
    watch_links(tx.clone());
    tokio::spawn(sample_stats(running_rx, tx.clone()));
    tokio::spawn(sample_networks(engine.clone(), network_rx, tx.clone()));

    let mut guard = TerminalGuard::enter()?;
    // The screen's rows, for which running containers are on it: kept from the resize
    // events rather than asked of the terminal (an open of /dev/tty) after every message.
    let mut rows = guard.terminal.size()?.height;
    let mut keys = EventStream::new();
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut loads = Loads::new(Effect::Reload);
    loads.request(worker);
    let mut network_loads = Loads::new(Effect::LoadNetworks);
    // Redraws a copy's progress popup from its shared counter.
    let mut copy_clock = tokio::time::interval(Duration::from_millis(100));
    let mut trace = Trace::from_env();
    // What a load leaves behind goes back once the loop is quiet.
    let mut release = super::memory::Release::default();

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
        if release.due(Instant::now()) {
            super::memory::release();
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
                Some(Ok(TermEvent::Resize(_, height))) => {
                    rows = height;
                    Msg::Resize
                }
                Some(Ok(_)) => continue,
                // The terminal is gone: nothing more can be shown.
                Some(Err(_)) | None => return Ok(()),
            },
            Some(msg) = rx.recv() => msg,
            _ = clock.tick() => Msg::Tick,
            _ = copy_clock.tick(), if copying => Msg::CopyTick,
        };
        let handling = trace.handling(&msg);
        match msg {
            Msg::Loaded(_) => loads.finished(worker),
            Msg::Networks(_) => network_loads.finished(worker),
            _ => {}
        }
        // The old snapshot is freed in update; its memory goes back when the loop is quiet.
        if matches!(msg, Msg::Loaded(_) | Msg::Key(_) | Msg::Mouse { .. }) {
            release.busy(matches!(msg, Msg::Loaded(_)), Instant::now());
        }
        let effects = update(&mut app, msg);
        let on_screen = app.running_rows_on_screen(rows);
        let stats_live = !on_screen.is_empty();
        let same = |a: &[ContainerRecord], b: &[&ContainerRecord]| {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|(x, y)| x.id == y.id && x.state.init == y.state.init)
        };
        // The sampler's copy of the records is made only when the set on screen changed.
        let every = stats_every(&app);
        let changed = {
            let sampled = running_tx.borrow();
            !same(&sampled.0, &on_screen) || sampled.1 != every
        };
        if changed {
            let _ = running_tx.send((on_screen.into_iter().cloned().collect(), every));
        }
        app.stats_live = stats_live;
        let open_network = app.network_detail().map(|d| d.id.clone());
        if *network_tx.borrow() != open_network {
            let _ = network_tx.send(open_network);
        }
        for effect in effects {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::Reload => loads.request(worker),
                Effect::LoadNetworks => network_loads.request(worker),
                Effect::StopVerb(pid) => worker.stop_verb(pid),
                effect @ (Effect::Shell(_) | Effect::Attach(_) | Effect::Terminal(_)) => {
                    drop(keys);
                    let (what, result) = guard.suspended(|| hand_over(worker, &effect))?;
                    keys = EventStream::new();
                    // The terminal may have changed size meanwhile.
                    rows = guard.terminal.size()?.height;
                    app.dirty = true;
                    let effects = update(&mut app, Msg::HandedBack { what, result });
                    if effects.contains(&Effect::Reload) {
                        loads.request(worker);
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
        trace.handled(handling);
    }
}

/// One load of a kind at a time: a burst of events asks for one more load, not one each.
struct Loads {
    /// The load: the whole snapshot, or the networks.
    effect: Effect,
    running: bool,
    again: bool,
}

impl Loads {
    fn new(effect: Effect) -> Loads {
        Loads {
            effect,
            running: false,
            again: false,
        }
    }

    fn request(&mut self, worker: &Worker) {
        if self.running {
            self.again = true;
        } else {
            self.running = true;
            worker.spawn(self.effect.clone());
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

/// Runs a child that has the terminal until it ends: what it was ("shell in web") and its
/// exit code, or why it could not run. Meanwhile ctrl-c and ctrl-\\ are the child's, not
/// the dashboard's: the dashboard ignores them, as system(3) does, and the child gets
/// their default back.
fn hand_over(worker: &Worker, effect: &Effect) -> (String, Result<i32, String>) {
    let _ignored = KeyboardSignalsIgnored::now();
    match effect {
        Effect::Shell(target) => (format!("shell in {}", target.name), shell(worker, target)),
        Effect::Attach(target) => (format!("attach to {}", target.name), attach(worker, target)),
        Effect::Terminal(words) => {
            let what = format!(":{}", words.join(" "));
            let args: Vec<&str> = words.iter().map(String::as_str).collect();
            let result = terminal_child(worker, &args)
                .status()
                .map(|status| exit_code(&status))
                .map_err(|e| format!("{what}: {e}"));
            (what, result)
        }
        _ => (String::new(), Ok(0)),
    }
}

/// A child's exit code, or 128 + the signal that ended it, as a shell reports it.
fn exit_code(status: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(125)
}

const KEYBOARD_SIGNALS: [Signal; 2] = [Signal::SIGINT, Signal::SIGQUIT];

/// Ignores the keyboard's signals until dropped.
struct KeyboardSignalsIgnored(Vec<(Signal, SigAction)>);

impl KeyboardSignalsIgnored {
    fn now() -> KeyboardSignalsIgnored {
        let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
        let saved = KEYBOARD_SIGNALS
            .iter()
            // SAFETY: SIG_IGN runs no code in this process.
            .filter_map(|&sig| {
                unsafe { sigaction(sig, &ignore) }
                    .ok()
                    .map(|old| (sig, old))
            })
            .collect();
        KeyboardSignalsIgnored(saved)
    }
}

impl Drop for KeyboardSignalsIgnored {
    fn drop(&mut self) {
        for (sig, old) in &self.0 {
            // SAFETY: puts back the disposition that was there before.
            let _ = unsafe { sigaction(*sig, old) };
        }
    }
}

/// A command for a child that gets the terminal: the keyboard's signals at their
/// defaults, since an ignored signal stays ignored across exec.
fn terminal_child(worker: &Worker, args: &[&str]) -> std::process::Command {
    use std::os::unix::process::CommandExt;
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let mut command = worker.berth_command(&args);
    // SAFETY: only sigaction, which is async-signal-safe, runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
            for sig in KEYBOARD_SIGNALS {
                sigaction(sig, &default)?;
            }
            Ok(())
        });
    }
    command
}

/// The container's streams, as `berth attach` gives them, until the user detaches
/// (ctrl-p ctrl-q on a terminal; ctrl-c otherwise, which with `--sig-proxy=false` leaves
/// the container running) or the container exits.
fn attach(worker: &Worker, target: &Target) -> Result<i32, String> {
    println!(
        "berth: attached to {} (ctrl-p ctrl-q detaches from a terminal, ctrl-c from the rest)",
        target.name
    );
    terminal_child(worker, &["attach", "--sig-proxy=false", &target.id])
        .status()
        .map_err(|e| format!("attach to {}: {e}", target.name))?;
    Ok(0)
}

/// What the probe may print: a path, or exec's error.
const PROBE_KEPT: u64 = 4096;

/// Runs [`SHELL_PROBE`] in the container: its exit code and the start of what it printed
/// (stdout and stderr together). The container decides what is printed, so only the
/// first [`PROBE_KEPT`] bytes are read; the pipe then closes under it.
fn probe(worker: &Worker, id: &str) -> std::io::Result<(i32, String)> {
    use std::io::Read;
    use std::process::Stdio;
    let (read, write) = nix::unistd::pipe()?;
    let mut child = terminal_child(worker, &["exec", id, "sh", "-c", SHELL_PROBE])
        .stdin(Stdio::null())
        .stdout(Stdio::from(write.try_clone()?))
        .stderr(Stdio::from(write))
        .spawn()?;
    let mut said = Vec::new();
    // The command held the write ends: dropped with it above, so EOF comes when exec ends.
    let read_result = std::fs::File::from(read)
        .take(PROBE_KEPT)
        .read_to_end(&mut said);
    let status = child.wait()?;
    read_result?;
    Ok((
        exit_code(&status),
        String::from_utf8_lossy(&said).into_owned(),
    ))
}

/// Prints the path of the container's bash if it has one, else of its sh.
const SHELL_PROBE: &str = "command -v bash || command -v sh";

/// A shell in the container: its bash, else its sh, found by a probe first so that a
/// container without either (or one that can't exec) is told apart from a shell that
/// exited non-zero. The error is exec's own last line, for the footer.
fn shell(worker: &Worker, target: &Target) -> Result<i32, String> {
    println!(
        "berth: shell in {} (exit to return to the dashboard)",
        target.name
    );
    let (code, said) =
        probe(worker, &target.id).map_err(|e| format!("exec in {}: {e}", target.name))?;
    // busybox's sh names its applets without a path: any word will do.
    let found = said.lines().map(str::trim).find(|l| !l.is_empty());
    let path = match found {
        Some(path) if code == 0 => path,
        _ => {
            let why = said
                .lines()
                .rev()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map_or_else(|| format!("exec exited {code}"), str::to_owned);
            return Err(format!("no shell in {} (bash or sh): {why}", target.name));
        }
    };
    let status = terminal_child(worker, &["exec", "-it", &target.id, path])
        .status()
        .map_err(|e| format!("exec in {}: {e}", target.name))?;
    Ok(exit_code(&status))
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

/// How often the running containers on screen are sampled: each second for an open
/// container's charts, else each [`STATS_LIST_EVERY`].
fn stats_every(app: &App) -> Duration {
    match app.container_detail() {
        Some(_) => STATS_EVERY,
        None => STATS_LIST_EVERY,
    }
}

/// Samples the running containers' cgroups every [`STATS_EVERY`] or
/// [`STATS_LIST_EVERY`] (as the loop says) and sends the rates.
async fn sample_stats(
    mut running: watch::Receiver<(Vec<ContainerRecord>, Duration)>,
    tx: mpsc::UnboundedSender<Msg>,
) {
    let mut previous: std::collections::HashMap<ContainerId, StatsSample> = Default::default();
    loop {
        let (records, every) = running.borrow_and_update().clone();
        if records.is_empty() {
            previous.clear();
            // Nothing to sample: wait for a container to start.
            if running.changed().await.is_err() {
                return;
            }
            continue;
        }
        let taken = tokio::task::spawn_blocking(move || sample_all_stats(&records))
            .await
            .unwrap_or_default();
        let stats = taken
            .iter()
            .filter_map(|now| {
                previous
                    .get(&now.id)
                    .map(|before| stats_between(before, now))
            })
            .collect::<Vec<_>>();
        previous = taken.into_iter().map(|s| (s.id.clone(), s)).collect();
        if !stats.is_empty() && tx.send(Msg::Stats(stats)).is_err() {
            return;
        }
        // The next sample after the period; opening a detail shortens the wait to its own.
        let wait = tokio::time::sleep(every);
        tokio::pin!(wait);
        loop {
            tokio::select! {
                _ = &mut wait => break,
                changed = running.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let sooner = running.borrow().1 < every;
                    if sooner {
                        break;
                    }
                }
            }
        }
    }
}

/// Follows link and address changes in the dashboard's namespace (netlink multicast) on a
/// thread of its own, blocked in poll while nothing changes, and says when the networks
/// need reading again.
fn watch_links(tx: mpsc::UnboundedSender<Msg>) {
    std::thread::spawn(move || {
        let report = |e: String| {
            let _ = tx.send(Msg::Done {
                what: String::new(),
                result: Err(format!("watching links: {e}")),
            });
        };
        let mut watch = match LinkWatch::open() {
            Ok(watch) => watch,
            Err(e) => return report(e.to_string()),
        };
        loop {
            let mut fds = [PollFd::new(watch.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => return report(e.to_string()),
            }
            // A container's start is a burst of changes (veth, master, up, address):
            // a moment's wait takes them as one.
            std::thread::sleep(LINK_SETTLE);
            match watch.read_events() {
                Ok(events) if events.is_empty() => continue,
                Ok(_) => {}
                Err(e) => return report(e.to_string()),
            }
            if tx.send(Msg::LinksChanged).is_err() {
                return;
            }
        }
    });
}

/// Samples every network's counters each [`STATS_EVERY`] while a network's detail is open,
/// and sends them with each port's rates since the sample before.
async fn sample_networks(
    engine: Engine,
    mut open: watch::Receiver<Option<String>>,
    tx: mpsc::UnboundedSender<Msg>,
) {
    let mut previous: Option<(Instant, Vec<NetworkState>)> = None;
    let mut every = tokio::time::interval(STATS_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if open.borrow_and_update().is_none() {
            previous = None;
            // Nothing to sample: wait for a detail to open, then sample at once.
            if open.changed().await.is_err() {
                return;
            }
            every.reset_immediately();
            continue;
        }
        let engine = engine.clone();
        let Ok(Ok(states)) = tokio::task::spawn_blocking(move || engine.network_states(true)).await
        else {
            // The next link change or load reports what is wrong.
            continue;
        };
        let now = Instant::now();
        let rates = match &previous {
            Some((then, before)) => {
                port_rates(before, &states, now.duration_since(*then).as_secs_f64())
            }
            None => Default::default(),
        };
        previous = Some((now, states.clone()));
        if tx.send(Msg::NetworkSample { states, rates }).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent};

    #[test]
    fn the_list_is_sampled_each_two_seconds_and_a_containers_charts_each_second() {
        let mut app = crate::tui::update::testing::app_with(Default::default());
        assert_eq!(stats_every(&app), STATS_LIST_EVERY);
        update(&mut app, Msg::Key(KeyEvent::from(KeyCode::Enter)));
        assert!(app.container_detail().is_some());
        assert_eq!(stats_every(&app), STATS_EVERY);
        assert!(STATS_EVERY < STATS_LIST_EVERY);
    }
}
