//! The embedded container engine: images, containers, storage. It knows nothing of the CLI
//! or the dashboard; both drive it through [`Engine`] and render what it returns.

pub mod container;
pub mod error;
pub mod events;
pub mod faults;
pub mod ids;
pub mod image;
pub mod network;
pub mod paths;
pub mod readiness;
pub mod state;
pub mod storage;
pub mod system;
pub mod units;

use std::path::Path;

pub use error::{Error, ErrorKind, Result};
pub use ids::{ContainerId, Digest, ImageRef};
pub use paths::EnginePaths;

use state::StateLock;

/// A handle on one engine root. Cheap to create; every process (CLI verb, monitor,
/// dashboard task) opens its own and coordinates through the root's lock.
#[derive(Clone, Debug)]
pub struct Engine {
    paths: EnginePaths,
}

impl Engine {
    pub fn open(root: &Path) -> Result<Engine> {
        Ok(Engine {
            paths: EnginePaths::create(root)?,
        })
    }

    pub fn paths(&self) -> &EnginePaths {
        &self.paths
    }

    /// Takes the engine-wide lock; hold it across every read-check-write of records.
    pub fn lock(&self) -> Result<StateLock> {
        StateLock::acquire(&self.paths.lock_file())
    }
}
