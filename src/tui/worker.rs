//! Runs effects against the engine on blocking threads, off the draw loop, and reports
//! each result back as a message.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use tokio::sync::mpsc::UnboundedSender;

use super::effect::{ContainerOp, Effect, Target};
use super::files::copy;
use super::logs::save_log;
use super::msg::Msg;
use super::snapshot::Snapshot;
use super::state::VERB_OUTPUT_KEPT;
use crate::engine::{dir_usage, Engine};

/// How often a running verb's new output is sent to its popup, at most.
const CHUNK_EVERY: Duration = Duration::from_millis(100);
/// How long an ended verb has after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(1);
/// How long quitting waits for the verbs it ended to be reaped: past the grace, a SIGKILL
/// ends any of them.
const END_WAIT: Duration = Duration::from_secs(3);
/// Entries counted per volume for the pane's SIZE column before it says "over".
pub const VOLUME_SIZE_LIMIT: usize = 100_000;
/// `stop` as Docker's: the container's stop signal and timeout (`--stop-signal`,
/// `--stop-timeout`), else SIGTERM, then SIGKILL after 10 s.
const STOP_TIMEOUT: Option<Duration> = None;

#[derive(Clone)]
pub struct Worker {
    engine: Engine,
    tx: UnboundedSender<Msg>,
    /// This berth binary and its root, for `:` commands run as headless verbs.
    exe: PathBuf,
    root: PathBuf,
    /// The `:` verbs under way.
    verbs: Running,
}

impl Worker {
    pub fn new(engine: Engine, tx: UnboundedSender<Msg>, root: PathBuf) -> Worker {
        // The dashboard runs from a sealed memfd, which has no path of its own; the
        // kernel's link to the running binary execs it in any child.
        let exe = PathBuf::from("/proc/self/exe");
        Worker {
            engine,
            tx,
            exe,
            root,
            verbs: Running::default(),
        }
    }

    /// The command line that runs `args` as a headless verb on this root.
    pub fn berth_command(&self, args: &[String]) -> Command {
        let mut command = Command::new(&self.exe);
        command
            .arg0("berth")
            .arg("--root")
            .arg(&self.root)
            .args(args);
        command
    }

    /// Starts one effect in the background; its result arrives as a message.
    pub fn spawn(&self, effect: Effect) {
        // A pull can take minutes: it gets a thread of its own, so loads and actions
        // don't wait behind it.
        if let Effect::Pull(reference, cancel) = effect {
            return super::pull::spawn(self.engine.clone(), reference, cancel, self.tx.clone());
        }
        // So can a build.
        if let Effect::Build(request, cancel) = effect {
            return super::build::spawn(self.engine.clone(), request, cancel, self.tx.clone());
        }
        let worker = self.clone();
        tokio::task::spawn_blocking(move || {
            let msg = worker.perform(effect);
            // The loop is gone only when the dashboard is closing.
            let _ = worker.tx.send(msg);
        });
    }

    fn perform(&self, effect: Effect) -> Msg {
        match effect {
            Effect::Reload => Msg::Loaded(
                Snapshot::load(&self.engine)
                    .map(Box::new)
                    .map_err(|e| e.to_string()),
            ),
            Effect::VolumeSizes(volumes) => Msg::VolumeSizes(
                volumes
                    .into_iter()
                    .map(|(name, dir)| (name, dir_usage(&dir, VOLUME_SIZE_LIMIT)))
                    .collect(),
            ),
            Effect::LoadDetail(request) => Msg::Detail(
                request
                    .load(&self.engine)
                    .map(Box::new)
                    .map_err(|e| e.to_string()),
            ),
            Effect::LoadPreview { id, known } => Msg::Preview {
                read: super::preview::load(&self.engine, &id, known)
                    .map(|(stamp, result)| (stamp, result.map_err(|e| e.to_string()))),
                id,
            },
            Effect::Containers { op, targets } => self.containers(op, &targets),
            Effect::RemoveImages(targets) => each(&targets, "removed", |t| {
                self.engine.remove_image(&t.id, false).map(drop)
            }),
            Effect::RemoveVolumes(targets) => each(&targets, "removed", |t| {
                self.engine.remove_volume(&t.id, false).map(drop)
            }),
            Effect::RemoveNetworks(targets) => each(&targets, "removed", |t| {
                self.engine.destroy_network(&t.id).map(drop)
            }),
            Effect::LoadNetworks => {
                let states = self.engine.network_states(false).map(|mut states| {
                    super::snapshot::sort_networks(&mut states);
                    states
                });
                Msg::Networks(states.map_err(|e| e.to_string()))
            }
            Effect::Verb(words) => self.verb(words),
            Effect::ReadProjects(sources) => Msg::ProjectFiles(
                sources
                    .iter()
                    .map(|s| (s.name.clone(), super::projects::read_disk(s)))
                    .collect(),
            ),
            Effect::Compose(job) => Msg::Done {
                what: job.object(),
                result: job.run(&self.engine).map(drop),
            },
            Effect::ProjectLogs { project, service } => Msg::ProjectLogs(
                super::projects::read_logs(&self.engine, &project, service.as_deref()),
            ),
            Effect::SaveLog {
                container,
                lines,
                text,
            } => {
                let saved = std::env::current_dir()
                    .map_err(|e| format!("saving the log: the current directory: {e}"))
                    .and_then(|dir| save_log(&dir, &container, &text).map_err(|e| e.to_string()));
                match saved {
                    Ok(path) => Msg::Done {
                        what: format!("saved {lines} lines to {}", path.display()),
                        result: Ok(()),
                    },
                    Err(e) => Msg::Done {
                        what: String::new(),
                        result: Err(e),
                    },
                }
            }
            Effect::ListDir(request) => Msg::Listed {
                side: request.side,
                container: request.container.clone(),
                result: request
                    .load(&self.engine)
                    .map(Box::new)
                    .map_err(|e| e.to_string()),
            },
            Effect::Copy(job) => Msg::Copied(copy(&self.engine, &job, |index, name| {
                // Which entry is under way, for the progress popup.
                let _ = self.tx.send(Msg::CopyEntry {
                    index,
                    name: name.to_owned(),
                });
            })),
            // The runtime handles these itself, and `spawn` the pull.
            Effect::Pull(..)
            | Effect::Build(..)
            | Effect::Shell(_)
            | Effect::Attach(_)
            | Effect::Terminal(_)
            | Effect::StopVerb(_)
            | Effect::SetMouse(_)
            | Effect::Yank(_)
            | Effect::Quit => Msg::Resize,
        }
    }

    fn containers(&self, op: ContainerOp, targets: &[Target]) -> Msg {
        let engine = &self.engine;
        let past = match op {
            ContainerOp::Start => "started",
            ContainerOp::Stop => "stopped",
            ContainerOp::Restart => "restarted",
            ContainerOp::Kill => "killed",
            ContainerOp::Remove => "removed",
            ContainerOp::Pause => "paused",
            ContainerOp::Unpause => "unpaused",
        };
        each(targets, past, |t| match op {
            // A running one among them is no error, as `docker start` says.
            ContainerOp::Start => match engine.start_container(&t.id) {
                Err(e) if crate::ops::start::already_running(engine, &t.id, &e) => Ok(()),
                started => started.map(drop),
            },
            ContainerOp::Stop => engine.stop_container(&t.id, STOP_TIMEOUT, None).map(drop),
            ContainerOp::Restart => {
                let record = engine.container(&t.id)?;
                if matches!(
                    record.state.status,
                    crate::engine::Status::Running | crate::engine::Status::Restarting
                ) {
                    engine.stop_container(&t.id, STOP_TIMEOUT, None)?;
                }
                engine.start_container(&t.id).map(drop)
            }
            ContainerOp::Kill => engine.kill_container(&t.id, Signal::SIGKILL).map(drop),
            ContainerOp::Remove => engine.remove_container(&t.id, true, false).map(drop),
            ContainerOp::Pause => engine.pause_container(&t.id).map(drop),
            ContainerOp::Unpause => engine.unpause_container(&t.id).map(drop),
        })
    }

    fn verb(&self, words: Vec<String>) -> Msg {
        let line = words.join(" ");
        let (pid, code, output) =
            match run_captured(self.berth_command(&words), &self.tx, &line, &self.verbs) {
                Ok(done) => done,
                Err(e) => (0, 125, e),
            };
        Msg::VerbOutput {
            pid,
            line,
            code,
            output,
        }
    }

    /// Asks the verb with this PID to end (its whole process group).
    pub fn stop_verb(&self, pid: u32) {
        self.verbs.stop(pid);
    }

    /// Ends every verb under way and waits until each is reaped (at most `END_WAIT`):
    /// the dashboard quits with no child left behind.
    pub fn end_verbs(&self) {
        self.verbs.end_all(END_WAIT);
    }
}

/// Applies `action` to every target, reporting the first failure (with how many failed).
fn each(
    targets: &[Target],
    past: &str,
    mut action: impl FnMut(&Target) -> crate::engine::Result<()>,
) -> Msg {
    let mut errors = Vec::new();
    let mut done = Vec::new();
    for t in targets {
        match action(t) {
            Ok(()) => done.push(t.name.as_str()),
            Err(e) => errors.push(format!("{}: {e}", t.name)),
        }
    }
    let what = format!("{past} {}", done.join(", "));
    let result = match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        n => Err(format!("{n} failed; {}", errors.remove(0))),
    };
    Msg::Done { what, result }
}

/// Runs a verb's command with stdin closed and stdout and stderr merged, in a process group
/// of its own, sending what it prints as it comes (at most ten messages a second) and
/// keeping the end of it, until it exits or `stop` is set: then its whole group gets
/// SIGTERM, and SIGKILL after [`STOP_GRACE`]. The child is reaped here either way.
fn run_captured(
    mut command: Command,
    tx: &UnboundedSender<Msg>,
    line: &str,
    running: &Running,
) -> Result<(u32, i32, String), String> {
    let (read, write) = nix::unistd::pipe().map_err(|e| format!("making a pipe: {e}"))?;
    let write_err = write
        .try_clone()
        .map_err(|e| format!("making a pipe: {e}"))?;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(write))
        .stderr(Stdio::from(write_err))
        // Its own group, so ending it reaches anything it started that stayed in it
        // (a container's monitor leaves it with a session of its own).
        .process_group(0);
    let mut child = command.spawn().map_err(|e| format!("running berth: {e}"))?;
    // Our copies of the write end must go, or the read below never sees the end.
    drop(command);
    let pid = child.id();
    let stop = running.add(pid);
    let _ = tx.send(Msg::VerbStarted {
        pid,
        line: line.to_owned(),
    });
    // Chunks come over a channel: a process the verb left running (a container's
    // monitor) could hold the pipe open long after the verb itself is done.
    let (chunks, received) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut file = std::fs::File::from(read);
        let mut buf = [0u8; 8192];
        while let Ok(n) = file.read(&mut buf) {
            if n == 0 || chunks.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut output: Vec<u8> = Vec::new();
    // Bytes of `output` not yet sent; a UTF-8 character cut between reads waits for its end.
    let mut unsent: Vec<u8> = Vec::new();
    let mut keep = |chunk: Vec<u8>, unsent: &mut Vec<u8>| {
        output.extend_from_slice(&chunk);
        if output.len() > VERB_OUTPUT_KEPT {
            output.drain(..output.len() - VERB_OUTPUT_KEPT);
        }
        unsent.extend_from_slice(&chunk);
        // The popup keeps no more than this either.
        if unsent.len() > VERB_OUTPUT_KEPT {
            unsent.drain(..unsent.len() - VERB_OUTPUT_KEPT);
        }
    };
    let mut last_sent = Instant::now();
    let mut stopped_at: Option<Instant> = None;
    let status = loop {
        while let Ok(chunk) = received.try_recv() {
            keep(chunk, &mut unsent);
        }
        if !unsent.is_empty() && last_sent.elapsed() >= CHUNK_EVERY {
            let text = take_text(&mut unsent);
            if !text.is_empty() {
                let _ = tx.send(Msg::VerbChunk { pid, text });
            }
            last_sent = Instant::now();
        }
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) => {}
            Err(e) => break Err(format!("waiting for berth: {e}")),
        }
        if stop.load(Ordering::SeqCst) {
            let group = nix::unistd::Pid::from_raw(-(pid as i32));
            match stopped_at {
                None => {
                    stopped_at = Some(Instant::now());
                    let _ = nix::sys::signal::kill(group, Signal::SIGTERM);
                }
                Some(at) if at.elapsed() >= STOP_GRACE => {
                    let _ = nix::sys::signal::kill(group, Signal::SIGKILL);
                }
                Some(_) => {}
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    running.remove(pid);
    let status = status?;
    while let Ok(chunk) = received.recv_timeout(Duration::from_millis(200)) {
        keep(chunk, &mut unsent);
    }
    let mut text = String::from_utf8_lossy(&output).into_owned();
    let code = match (status.code(), status.signal()) {
        (Some(code), _) => code,
        // As a shell reports it.
        (None, Some(signal)) => 128 + signal,
        (None, None) => 125,
    };
    if stopped_at.is_some() {
        text.push_str("\n(ended from the dashboard)");
    }
    Ok((pid, code, text))
}

/// `bytes` as text, taken out of it, but for a character cut short at its end, which
/// waits for the rest to come with the next read (invalid bytes become U+FFFD).
fn take_text(bytes: &mut Vec<u8>) -> String {
    let end = crate::format::whole_utf8_len(bytes);
    let text = String::from_utf8_lossy(&bytes[..end]).into_owned();
    bytes.drain(..end);
    text
}

/// The verbs under way, by PID, each with the flag that ends it.
#[derive(Clone, Default)]
pub struct Running(Arc<Mutex<HashMap<u32, Arc<AtomicBool>>>>);

impl Running {
    fn add(&self, pid: u32) -> Arc<AtomicBool> {
        let stop = Arc::new(AtomicBool::new(false));
        self.lock().insert(pid, stop.clone());
        stop
    }

    fn remove(&self, pid: u32) {
        self.lock().remove(&pid);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Arc<AtomicBool>>> {
        // A panic elsewhere leaves the map itself whole.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks verb `pid` to end (no-op if it already has).
    pub fn stop(&self, pid: u32) {
        if let Some(stop) = self.lock().get(&pid) {
            stop.store(true, Ordering::SeqCst);
        }
    }

    /// Ends every verb and waits, at most `within`, until each is reaped.
    pub fn end_all(&self, within: Duration) {
        for stop in self.lock().values() {
            stop.store(true, Ordering::SeqCst);
        }
        let deadline = Instant::now() + within;
        while !self.lock().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_sent_whole_characters_at_a_time() {
        let mut bytes = "tick é".as_bytes().to_vec();
        let last = bytes.pop().unwrap();
        assert_eq!(take_text(&mut bytes), "tick ");
        bytes.push(last);
        assert_eq!(take_text(&mut bytes), "é");
        assert!(bytes.is_empty());
        // Bytes that are no UTF-8 at all go as they are, replaced.
        let mut bytes = vec![b'a', 0xFF, b'b'];
        assert_eq!(take_text(&mut bytes), "a\u{FFFD}b");
        let mut bytes = "€".as_bytes()[..2].to_vec();
        assert_eq!(take_text(&mut bytes), "");
        assert_eq!(bytes.len(), 2);
    }
}
