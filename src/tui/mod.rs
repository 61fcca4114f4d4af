//! The dashboard: `berth` with no verb. State, messages, the update function, effects,
//! rendering and the event loop live apart, as in gitui and bottom; the engine is called
//! only from the worker, off the draw loop.

pub mod action;
pub mod clipboard;
pub mod complete;
pub mod detail;
pub mod effect;
pub mod files;
pub mod form;
pub mod keymap;
pub mod mouse;
pub mod msg;
pub mod once;
pub mod popups;
pub mod render;
pub mod runtime;
pub mod snapshot;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod trace;
pub mod tree;
pub mod update;
pub mod views;
pub mod worker;

use std::path::{Path, PathBuf};

use keymap::Keymap;
use state::App;

/// Where a user's keymap lives: `$XDG_CONFIG_HOME/berth/keymap.toml`.
pub fn keymap_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "berth").map(|d| d.config_dir().join("keymap.toml"))
}

/// The keymap from `path` (or the user's file), on top of the defaults.
pub fn load_keymap(path: Option<&Path>) -> Result<Keymap, String> {
    match path.map(Path::to_path_buf).or_else(keymap_path) {
        Some(path) => Keymap::load(&path),
        None => Ok(Keymap::default()),
    }
}

/// Opens the dashboard on this terminal until the user quits.
pub fn run(engine: crate::engine::Engine, root: PathBuf, keymap: Keymap) -> std::io::Result<()> {
    let app = App::new(keymap);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(runtime::run(engine, root, app))
}
