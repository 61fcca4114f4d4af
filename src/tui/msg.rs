//! Everything that can happen to the dashboard: keys from the terminal and results that
//! engine work reports back. `update` turns each into state changes and effects.

use std::collections::HashMap;

use crossterm::event::KeyEvent;

use super::detail::DetailData;
use super::files::Side;
use super::mouse::MouseKind;
use super::snapshot::Snapshot;
use crate::engine::{
    BuildEvent, ContainerStats, Digest, DirListing, Efficiency, Event, LinkRates, NetworkState,
    PullEvent,
};

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// A click or a turn of the wheel at a screen cell (0-based).
    Mouse {
        kind: MouseKind,
        column: u16,
        row: u16,
    },
    /// The terminal changed size: redraw.
    Resize,
    /// A second passed: uptimes and other clocks on screen move on.
    Tick,
    Loaded(Result<Box<Snapshot>, String>),
    Stats(Vec<ContainerStats>),
    /// New lines in the engine's events journal, from any berth process.
    Events(Vec<Event>),
    /// A link or address changed in the engine's namespace (netlink): the networks are
    /// read again.
    LinksChanged,
    /// The networks read again (no counters).
    Networks(Result<Vec<NetworkState>, String>),
    /// The networks with counters, sampled each second while a network's detail is open,
    /// and each port's rates since the sample before, by host veth.
    NetworkSample {
        states: Vec<NetworkState>,
        rates: HashMap<String, LinkRates>,
    },
    /// What each volume holds, by name.
    VolumeSizes(Vec<(String, crate::engine::DirUsage)>),
    /// Data for the open detail view.
    Detail(Result<Box<DetailData>, String>),
    /// The preview pane's lines of a container's log.
    /// None: the log is as the read shown found it, nothing was read.
    Preview {
        id: String,
        read: Option<super::preview::PaneRead>,
    },
    /// An action on engine objects finished.
    Done {
        what: String,
        result: Result<(), String>,
    },
    /// A `:` command started as process `pid` (the leader of its own group).
    VerbStarted {
        pid: u32,
        line: String,
    },
    /// What the running verb `pid` printed since the last of these.
    VerbChunk {
        pid: u32,
        text: String,
    },
    /// A `:` command finished (`pid` 0 if it never started).
    VerbOutput {
        pid: u32,
        line: String,
        code: i32,
        output: String,
    },
    /// A child that had the terminal (`what`: "shell in web", ":exec -it web sh") ended
    /// and the dashboard has the terminal back: its exit code, or why it could not run.
    HandedBack {
        what: String,
        result: Result<i32, String>,
    },
    /// A directory of the file view, for the container with this ID.
    Listed {
        side: Side,
        container: String,
        result: Result<Box<DirListing>, String>,
    },
    /// A copy moved on to its `index`th entry.
    CopyEntry {
        index: usize,
        name: String,
    },
    /// A tenth of a second passed during a copy: its progress is redrawn.
    CopyTick,
    /// A copy ended: what was copied, or why not.
    Copied(Result<String, String>),
    /// A pull's events since the last of these (at most ten a second; see `pull.rs`).
    PullEvents(Vec<PullEvent>),
    /// A pull ended: the image's ID, or the engine's one-line error.
    Pulled(Result<Digest, String>),
    /// A build's events since the last of these (at most ten a second; see `build.rs`).
    BuildEvents(Vec<BuildEvent>),
    /// A build ended: the image's ID with the steps run and cached, or the engine's
    /// one-line error.
    Built(Result<(String, usize, usize), String>),
    /// The efficiency of the image just built.
    Efficiency(Result<Box<Efficiency>, String>),
    /// The Projects pane's files as read now, by project.
    ProjectFiles(Vec<(String, super::projects::OnDisk)>),
    /// A project's merged logs, or why they could not be read.
    ProjectLogs(Result<super::projects::ProjectLogs, String>),
    /// Keeping the last build's state for `ui --once --view build` failed: why.
    BuildNotKept(String),
}
