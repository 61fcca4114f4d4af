//! What `update` asks the runtime to do: engine calls (run off the draw loop, reporting back
//! as messages), handing the terminal to a shell, quitting.

use std::sync::Arc;

use super::detail::DetailRequest;
use super::files::{ListRequest, Side};
use crate::engine::{Cancel, Progress, Reference};

/// An engine object named for the user and addressed by ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerOp {
    Start,
    Stop,
    Restart,
    Kill,
    Remove,
    Pause,
    Unpause,
}

impl ContainerOp {
    pub fn verb(self) -> &'static str {
        match self {
            ContainerOp::Start => "start",
            ContainerOp::Stop => "stop",
            ContainerOp::Restart => "restart",
            ContainerOp::Kill => "kill",
            ContainerOp::Remove => "remove",
            ContainerOp::Pause => "pause",
            ContainerOp::Unpause => "unpause",
        }
    }

    /// Whether the user confirms first: these lose a process or data.
    pub fn destructive(self) -> bool {
        matches!(self, ContainerOp::Kill | ContainerOp::Remove)
    }
}

impl Effect {
    /// "stopping web, db": what the footer says while an action the user asked for runs.
    pub fn busy_text(&self) -> Option<String> {
        let names = |targets: &[Target]| {
            targets
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Effect::Containers { op, targets } => {
                let verb = match op {
                    ContainerOp::Start => "starting",
                    ContainerOp::Stop => "stopping",
                    ContainerOp::Restart => "restarting",
                    ContainerOp::Kill => "killing",
                    ContainerOp::Remove => "removing",
                    ContainerOp::Pause => "pausing",
                    ContainerOp::Unpause => "unpausing",
                };
                Some(format!("{verb} {}", names(targets)))
            }
            Effect::RemoveImages(targets)
            | Effect::RemoveVolumes(targets)
            | Effect::RemoveNetworks(targets) => Some(format!("removing {}", names(targets))),
            Effect::Verb(words) => Some(format!(":{}", words.join(" "))),
            Effect::Compose(job) => Some(format!("{} {}", job.op.verb(), job.object())),
            Effect::SaveLog { container, .. } => Some(format!("saving {container}'s log")),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Read containers, images and volumes again.
    Reload,
    /// Measure what each volume holds (a walk of each, so only when the pane is shown).
    VolumeSizes(Vec<(String, std::path::PathBuf)>),
    /// Load what the open detail view shows.
    LoadDetail(DetailRequest),
    /// Read the last lines of this container's log for the preview pane, unless the log
    /// is still as `known` says.
    LoadPreview {
        id: String,
        known: Option<super::preview::LogStamp>,
    },
    Containers {
        op: ContainerOp,
        targets: Vec<Target>,
    },
    RemoveImages(Vec<Target>),
    RemoveVolumes(Vec<Target>),
    /// `network rm`: the record, its bridge and its rules.
    RemoveNetworks(Vec<Target>),
    /// Read the networks' live state again (a link changed).
    LoadNetworks,
    /// Read the compose files of these projects (the Projects pane's marker).
    ReadProjects(Vec<super::projects::ProjectSource>),
    /// A compose action of the Projects pane.
    Compose(super::projects::ComposeJob),
    /// Read a project's (or a service's) logs, merged.
    ProjectLogs {
        project: String,
        service: Option<String>,
    },
    /// Give the terminal to a shell in the container, then take it back.
    Shell(Target),
    /// Give the terminal to `berth attach` on the container, then take it back.
    Attach(Target),
    /// A headless verb typed on the `:` line, as its words.
    Verb(Vec<String>),
    /// A `:` verb that needs the terminal (`exec -it`, `attach`), handed it as a shell is.
    Terminal(Vec<String>),
    /// End the running verb with this PID (its whole process group) at once.
    StopVerb(u32),
    /// List a directory of the file view.
    ListDir(ListRequest),
    /// Copy entries between the host and the container.
    Copy(CopyJob),
    /// Pull an image, on a thread of its own (see `pull.rs`).
    Pull(Reference, Cancel),
    /// Build an image, on a thread of its own (see `build.rs`).
    Build(super::build::BuildRequest, Cancel),
    /// Capture the mouse (clicks and wheel for the dashboard) or release it (the terminal
    /// selects text).
    SetMouse(bool),
    /// Put this text on the user's clipboard (OSC 52).
    Yank(String),
    /// Save the logs tab's lines (`lines` of them, as `text`) to a new file named for the
    /// container in the current directory.
    SaveLog {
        container: String,
        lines: usize,
        text: String,
    },
    Quit,
}

/// Entries of one directory copied into a directory on the other side, with `cp`'s rules.
#[derive(Debug, Clone)]
pub struct CopyJob {
    pub container: Target,
    /// The side the entries come from.
    pub from: Side,
    pub src_dir: String,
    pub names: Vec<String>,
    pub dest_dir: String,
    /// Shared with the progress popup, which reads it and cancels through it.
    pub progress: Arc<Progress>,
}

impl PartialEq for CopyJob {
    fn eq(&self, other: &CopyJob) -> bool {
        self.container == other.container
            && self.from == other.from
            && self.src_dir == other.src_dir
            && self.names == other.names
            && self.dest_dir == other.dest_dir
            && Arc::ptr_eq(&self.progress, &other.progress)
    }
}

impl Eq for CopyJob {}
