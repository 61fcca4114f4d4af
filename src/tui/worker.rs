//! Runs effects against the engine on blocking threads, off the draw loop, and reports
//! each result back as a message.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use tokio::sync::mpsc::UnboundedSender;

use super::effect::{ContainerOp, Effect, Target};
use super::files::copy;
use super::msg::Msg;
use super::snapshot::Snapshot;
use crate::engine::storage::volumes::dir_usage;
use crate::engine::Engine;

/// How long a `:` command may run before it is stopped (a `logs -f` would never end).
const VERB_TIMEOUT: Duration = Duration::from_secs(30);
/// Output of a `:` command kept for its popup: the end of it.
const VERB_OUTPUT_KEPT: usize = 256 * 1024;
/// Entries counted per volume for the pane's SIZE column before it says "over".
pub const VOLUME_SIZE_LIMIT: usize = 100_000;
/// `stop` as Docker's default: SIGTERM, then SIGKILL after this.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Worker {
    engine: Engine,
    tx: UnboundedSender<Msg>,
    /// This berth binary and its root, for `:` commands run as headless verbs.
    exe: PathBuf,
    root: PathBuf,
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
                Msg::Networks(self.engine.network_states(false).map_err(|e| e.to_string()))
            }
            Effect::Verb(words) => self.verb(words),
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
            | Effect::Shell(_)
            | Effect::Attach(_)
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
            ContainerOp::Start => engine.start_container(&t.id).map(drop),
            ContainerOp::Stop => engine.stop_container(&t.id, STOP_TIMEOUT, None).map(drop),
            ContainerOp::Restart => {
                let record = engine.container(&t.id)?;
                if record.state.status == crate::engine::container::Status::Running {
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
        let (code, output) = match run_captured(self.berth_command(&words)) {
            Ok(done) => done,
            Err(e) => (125, e),
        };
        Msg::VerbOutput { line, code, output }
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

/// Runs a command with stdin closed and stdout and stderr merged, keeping the end of its
/// output and stopping it after [`VERB_TIMEOUT`].
fn run_captured(mut command: Command) -> Result<(i32, String), String> {
    let (read, write) = nix::unistd::pipe().map_err(|e| format!("making a pipe: {e}"))?;
    let write_err = write
        .try_clone()
        .map_err(|e| format!("making a pipe: {e}"))?;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(write))
        .stderr(Stdio::from(write_err));
    let mut child = command.spawn().map_err(|e| format!("running berth: {e}"))?;
    // Our copies of the write end must go, or the read below never sees the end.
    drop(command);
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
    let mut keep = |chunk: Vec<u8>| {
        output.extend_from_slice(&chunk);
        if output.len() > VERB_OUTPUT_KEPT {
            output.drain(..output.len() - VERB_OUTPUT_KEPT);
        }
    };
    let deadline = Instant::now() + VERB_TIMEOUT;
    let status = loop {
        while let Ok(chunk) = received.try_recv() {
            keep(chunk);
        }
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for berth: {e}")),
        }
    };
    while let Ok(chunk) = received.recv_timeout(Duration::from_millis(200)) {
        keep(chunk);
    }
    let mut text = String::from_utf8_lossy(&output).into_owned();
    match status {
        Some(status) => Ok((status.code().unwrap_or(125), text)),
        None => {
            text.push_str(&format!(
                "\n(stopped after {} s: use a terminal for commands that follow)",
                VERB_TIMEOUT.as_secs()
            ));
            Ok((124, text))
        }
    }
}
