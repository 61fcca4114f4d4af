//! The detail opened on a container: its tabs, what each needs from the engine, and the
//! loading of that data (off the draw loop, like every engine call).

use crate::engine::container::logs::{LogEntry, LogReader, LOG_FILE};
use crate::engine::storage::diff::Change;
use crate::engine::{Engine, Result};

/// Lines of log the detail keeps: the tail, as `logs --tail`.
pub const LOG_LINES: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerTab {
    Config,
    Mounts,
    Stats,
    Logs,
    Diff,
}

impl ContainerTab {
    pub const ALL: [ContainerTab; 5] = [
        ContainerTab::Config,
        ContainerTab::Mounts,
        ContainerTab::Stats,
        ContainerTab::Logs,
        ContainerTab::Diff,
    ];

    pub fn title(self) -> &'static str {
        match self {
            ContainerTab::Config => "Config",
            ContainerTab::Mounts => "Mounts",
            ContainerTab::Stats => "Stats",
            ContainerTab::Logs => "Logs",
            ContainerTab::Diff => "Diff",
        }
    }

    pub fn shift(self, by: isize) -> ContainerTab {
        let n = Self::ALL.len() as isize;
        let at = Self::ALL.iter().position(|t| *t == self).unwrap_or(0) as isize;
        Self::ALL[(at + by).rem_euclid(n) as usize]
    }
}

/// The open container detail.
#[derive(Debug, Clone)]
pub struct ContainerDetail {
    pub id: String,
    pub tab: ContainerTab,
    pub logs: Option<Vec<LogEntry>>,
    pub diff: Option<Vec<Change>>,
    /// Lines scrolled back from the end (logs) or down from the top (diff).
    pub scroll: usize,
}

impl ContainerDetail {
    pub fn new(id: String) -> ContainerDetail {
        ContainerDetail {
            id,
            tab: ContainerTab::Config,
            logs: None,
            diff: None,
            scroll: 0,
        }
    }

    /// What the current tab needs loading, if anything.
    pub fn request(&self) -> Option<DetailRequest> {
        match self.tab {
            ContainerTab::Logs => Some(DetailRequest::Logs(self.id.clone())),
            ContainerTab::Diff => Some(DetailRequest::Diff(self.id.clone())),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DetailRequest {
    Logs(String),
    Diff(String),
}

#[derive(Debug)]
pub enum DetailData {
    Logs { id: String, lines: Vec<LogEntry> },
    Diff { id: String, changes: Vec<Change> },
}

impl DetailRequest {
    pub fn load(&self, engine: &Engine) -> Result<DetailData> {
        match self {
            DetailRequest::Logs(id) => {
                let record = engine.container(id)?;
                let path = engine.paths().container(&record.id).join(LOG_FILE);
                let mut lines = Vec::new();
                let mut reader = LogReader::open(&path)?;
                reader.tail(LOG_LINES)?;
                reader.read(&mut |entry| {
                    lines.push(entry.clone());
                    Ok(())
                })?;
                Ok(DetailData::Logs {
                    id: id.clone(),
                    lines,
                })
            }
            DetailRequest::Diff(id) => Ok(DetailData::Diff {
                id: id.clone(),
                changes: engine.container_changes(id)?,
            }),
        }
    }
}
