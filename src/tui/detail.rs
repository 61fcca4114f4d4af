//! The detail opened on a container: its tabs, what each needs from the engine, and the
//! loading of that data (off the draw loop, like every engine call).

use super::config::ConfigLine;
use super::files::list_host_dir;
use super::layers::{LayerFocus, TreeView};
use super::logs::{CountRequest, CountStep, LogChunk, LogRequest, LogView};
use super::preview::{log_stamp, LogStamp};
use super::state::Cursor;
use crate::engine::{
    dir_usage, Change, Context, DirListing, DirUsage, Efficiency, Engine, Error, ImageLayer,
    LayerTree, LinkRates, Result, TreeScope, TOP_WASTED,
};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerTab {
    Config,
    Mounts,
    Network,
    Stats,
    Logs,
    Diff,
}

impl ContainerTab {
    pub const ALL: [ContainerTab; 6] = [
        ContainerTab::Config,
        ContainerTab::Mounts,
        ContainerTab::Network,
        ContainerTab::Stats,
        ContainerTab::Logs,
        ContainerTab::Diff,
    ];

    pub fn title(self) -> &'static str {
        match self {
            ContainerTab::Config => "Config",
            ContainerTab::Mounts => "Mounts",
            ContainerTab::Network => "Network",
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
    /// The Config tab's lines, read again when the engine's state changes.
    pub config: Option<Vec<ConfigLine>>,
    /// The Logs tab: its window of lines, search, filter and toggles (`logs/`); its
    /// search and filter are the detail's own, so the list's filter and selection stay
    /// as they were.
    pub logs: Box<LogView>,
    pub diff: Option<Vec<Change>>,
    /// Lines scrolled down from the top (config, diff).
    pub scroll: usize,
    /// The tab's rows of text at the last frame and the furthest scroll that still
    /// fills them ((0, 0) before one): a page's step and the scroll's end.
    pub scroll_room: std::cell::Cell<(usize, usize)>,
    /// Diff: hide directories that changed only because something inside them did.
    pub changes_only: bool,
}

impl ContainerDetail {
    pub fn new(id: String) -> ContainerDetail {
        ContainerDetail {
            id,
            tab: ContainerTab::Config,
            config: None,
            logs: Box::default(),
            diff: None,
            scroll: 0,
            scroll_room: Default::default(),
            changes_only: false,
        }
    }

    /// What the current tab needs loading, if anything (the logs: their tail, afresh).
    pub fn request(&mut self) -> Option<DetailRequest> {
        match self.tab {
            ContainerTab::Config => Some(DetailRequest::Config(self.id.clone())),
            ContainerTab::Logs => Some(DetailRequest::Logs(self.logs.open(&self.id))),
            ContainerTab::Diff => Some(DetailRequest::Diff(self.id.clone())),
            _ => None,
        }
    }
}

/// The open image: its layers, as dive shows them, the file tree of one layer and the
/// image's efficiency.
#[derive(Debug, Clone)]
pub struct ImageDetail {
    pub id: String,
    pub name: String,
    pub layers: Option<Vec<ImageLayer>>,
    /// The selected layer, from the bottom.
    pub layer: usize,
    pub scope: TreeScope,
    /// The selected layer's file tree, as the user folded and filtered it (boxed: the
    /// other details are small).
    pub files: Box<TreeView>,
    /// Which pane the moving keys go to.
    pub focus: LayerFocus,
    /// dive's score and the wasted paths, once measured, or why they could not be.
    pub efficiency: Option<Result<Box<Efficiency>, String>>,
    /// The layer to open on once the layers are read (the build view's wasted path's);
    /// else the top one.
    pub start_layer: Option<usize>,
    /// Layers the list showed at the last frame (0 before it): a page key's step.
    pub layer_rows: std::cell::Cell<usize>,
}

impl ImageDetail {
    pub fn new(id: String, name: String) -> ImageDetail {
        ImageDetail {
            id,
            name,
            layers: None,
            layer: 0,
            scope: TreeScope::Layer,
            files: Box::default(),
            focus: LayerFocus::Layers,
            efficiency: None,
            start_layer: None,
            layer_rows: Default::default(),
        }
    }

    pub fn tree_request(&self) -> DetailRequest {
        DetailRequest::LayerTree {
            image: self.id.clone(),
            layer: self.layer,
            scope: self.scope,
        }
    }
}

/// The open network: its bridge with its veth ports, and their rates while it is open.
#[derive(Debug, Clone, Default)]
pub struct NetworkDetail {
    pub id: String,
    pub name: String,
    /// Ports scrolled past at the top of the diagram.
    pub scroll: usize,
    /// Bytes and packets per second by host veth, from the last two counter samples.
    pub rates: std::collections::HashMap<String, LinkRates>,
}

impl NetworkDetail {
    pub fn new(id: String, name: String) -> NetworkDetail {
        NetworkDetail {
            id,
            name,
            ..NetworkDetail::default()
        }
    }
}

/// The open volume: what its directory holds and how much.
#[derive(Debug, Clone)]
pub struct VolumeDetail {
    pub name: String,
    pub mountpoint: PathBuf,
    /// Below the mountpoint, '/'-separated; empty at the top.
    pub path: String,
    pub listing: Option<DirListing>,
    pub usage: Option<DirUsage>,
    pub cursor: Cursor,
}

/// Entries counted for a volume's size before the figure is called partial.
pub const USAGE_LIMIT: usize = 1_000_000;

impl VolumeDetail {
    pub fn new(name: String, mountpoint: PathBuf) -> VolumeDetail {
        VolumeDetail {
            name,
            mountpoint,
            path: String::new(),
            listing: None,
            usage: None,
            cursor: Cursor::default(),
        }
    }

    pub fn request(&self) -> DetailRequest {
        DetailRequest::VolumeFiles {
            name: self.name.clone(),
            mountpoint: self.mountpoint.clone(),
            path: self.path.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DetailRequest {
    VolumeFiles {
        name: String,
        mountpoint: PathBuf,
        path: String,
    },
    Config(String),
    Logs(LogRequest),
    /// A step of the log search's count over the whole file.
    LogCount(CountRequest),
    /// A stat of a container's log (its ID), whether it changed since a count failed.
    LogStamp(String),
    Diff(String),
    Layers(String),
    LayerTree {
        image: String,
        layer: usize,
        scope: TreeScope,
    },
    /// dive's efficiency analysis of an image (a walk of all its layers).
    Efficiency(String),
}

#[derive(Debug)]
pub enum DetailData {
    VolumeFiles {
        name: String,
        path: String,
        listing: DirListing,
        usage: Option<DirUsage>,
    },
    Config {
        id: String,
        lines: Vec<ConfigLine>,
    },
    /// A read of the log: the view it was for takes it, or says why it failed.
    Logs {
        id: String,
        chunk: std::result::Result<LogChunk, String>,
    },
    LogCount {
        id: String,
        /// The count the step was for.
        generation: u64,
        /// The log as it was before the step: a failed step's count waits for another.
        stamp: Option<LogStamp>,
        step: std::result::Result<CountStep, String>,
    },
    LogStamp {
        id: String,
        stamp: Option<LogStamp>,
    },
    Diff {
        id: String,
        changes: Vec<Change>,
    },
    Layers {
        id: String,
        layers: Vec<ImageLayer>,
    },
    LayerTree {
        id: String,
        tree: LayerTree,
    },
    /// The analysis, or why it failed: the layer view says so in its panel.
    Efficiency {
        id: String,
        result: std::result::Result<Box<Efficiency>, String>,
    },
}

impl DetailRequest {
    pub fn load(&self, engine: &Engine) -> Result<DetailData> {
        match self {
            DetailRequest::VolumeFiles {
                name,
                mountpoint,
                path,
            } => {
                let dir = mountpoint.join(path);
                let listing = list_host_dir(&dir)?;
                // The volume's contents are the container's: a directory swapped for a
                // symlink between two listings must not take the view out of the volume.
                let top = std::fs::canonicalize(mountpoint)
                    .context(|| format!("reading volume {name}"))?;
                if !Path::new(&listing.path).starts_with(&top) {
                    return Err(Error::Conflict(format!(
                        "{path} in volume {name} leads out of the volume"
                    )));
                }
                // The size only once, at the top.
                let usage = path.is_empty().then(|| dir_usage(mountpoint, USAGE_LIMIT));
                Ok(DetailData::VolumeFiles {
                    name: name.clone(),
                    path: path.clone(),
                    listing,
                    usage,
                })
            }
            DetailRequest::Config(id) => Ok(DetailData::Config {
                id: id.clone(),
                lines: super::config::load(engine, id)?,
            }),
            DetailRequest::Logs(request) => Ok(DetailData::Logs {
                id: request.id.clone(),
                chunk: request.load(engine).map_err(|e| e.to_string()),
            }),
            DetailRequest::LogCount(request) => Ok(DetailData::LogCount {
                id: request.id.clone(),
                generation: request.generation,
                stamp: log_stamp(engine, &request.id),
                step: request.load(engine).map_err(|e| e.to_string()),
            }),
            DetailRequest::LogStamp(id) => Ok(DetailData::LogStamp {
                id: id.clone(),
                stamp: log_stamp(engine, id),
            }),
            DetailRequest::Diff(id) => Ok(DetailData::Diff {
                id: id.clone(),
                changes: engine.container_changes(id)?,
            }),
            DetailRequest::Layers(id) => Ok(DetailData::Layers {
                id: id.clone(),
                layers: engine.image_layers(id)?,
            }),
            DetailRequest::LayerTree {
                image,
                layer,
                scope,
            } => Ok(DetailData::LayerTree {
                id: image.clone(),
                tree: engine.layer_changes(image, *layer, *scope)?,
            }),
            DetailRequest::Efficiency(id) => Ok(DetailData::Efficiency {
                id: id.clone(),
                result: engine
                    .image_efficiency(id, TOP_WASTED)
                    .map(Box::new)
                    .map_err(|e| e.to_string()),
            }),
        }
    }
}
