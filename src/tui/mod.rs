//! The dashboard: `berth` with no verb. State, messages, the update function, effects,
//! rendering and the event loop live apart, as in gitui and bottom; the engine is called
//! only from the worker, off the draw loop.

pub mod action;
pub mod build;
pub mod clipboard;
pub mod complete;
pub mod config;
pub mod detail;
pub mod effect;
pub mod files;
pub mod form;
pub mod keymap;
pub mod layers;
pub mod line;
pub mod logs;
pub mod memory;
pub mod mouse;
pub mod msg;
pub mod once;
pub mod popups;
pub mod preview;
pub mod projects;
pub mod pull;
pub mod render;
pub mod runtime;
pub mod snapshot;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod trace;
pub mod tree;
pub mod update;
pub mod verb;
pub mod views;
pub mod worker;

use std::path::{Path, PathBuf};

use keymap::Keymap;
use state::App;
use theme::Theme;

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

/// Where the user's settings live: `$XDG_CONFIG_HOME/berth/config.toml`.
pub fn config_path() -> Option<PathBuf> {
    crate::settings::config_path()
}

/// The theme to use: `--theme` first (as no-color.org asks, an explicit choice wins), then
/// `NO_COLOR` (`no_color`, from [`theme::no_color_requested`]), then the config's `theme`
/// (`config`, or the user's file), then dark.
pub fn load_theme(
    flag: Option<&str>,
    no_color: bool,
    config: Option<&Path>,
) -> Result<Theme, String> {
    if let Some(choice) = flag {
        return Theme::load(choice);
    }
    if no_color {
        return Ok(Theme::no_color());
    }
    let Some(path) = config.map(Path::to_path_buf).or_else(config_path) else {
        return Ok(Theme::default());
    };
    let config = crate::settings::Settings::load_from(&path).map_err(|e| e.to_string())?;
    match config.theme {
        // A relative file is found beside the config.
        Some(choice) if choice.contains('/') && !choice.starts_with('/') => {
            let dir = path.parent().unwrap_or(Path::new("."));
            Theme::load(&dir.join(choice).to_string_lossy())
        }
        Some(choice) => Theme::load(&choice),
        None => Ok(Theme::default()),
    }
}

/// Opens the dashboard on this terminal until the user quits; `verbs` are what its `:`
/// line completes and runs, from the front door that opens it.
pub fn run(
    engine: crate::engine::Engine,
    root: PathBuf,
    keymap: Keymap,
    theme: Theme,
    verbs: verb::Verbs,
) -> std::io::Result<()> {
    verb::install(verbs);
    let mut app = App::new(keymap);
    app.theme = theme;
    memory::one_arena();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(runtime::run(engine, root, app))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_theme_comes_from_the_flag_then_no_color_then_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        let light = Theme::built_in("light");
        std::fs::write(&config, "theme = \"light\"\nother = 1\n").unwrap();
        assert_eq!(load_theme(None, false, Some(&config)).ok(), light);
        assert_eq!(
            load_theme(None, true, Some(&config)).ok(),
            Some(Theme::no_color())
        );
        assert_eq!(
            load_theme(Some("high-contrast"), true, Some(&config)).ok(),
            Theme::built_in("high-contrast")
        );
        let missing = dir.path().join("none.toml");
        assert_eq!(
            load_theme(None, false, Some(&missing)).ok(),
            Some(Theme::default())
        );
        // A relative theme file is found beside the config.
        std::fs::create_dir(dir.path().join("themes")).unwrap();
        std::fs::write(
            dir.path().join("themes/mine.toml"),
            "key = { fg = \"red\" }",
        )
        .unwrap();
        std::fs::write(&config, "theme = \"themes/mine.toml\"").unwrap();
        let mine = load_theme(None, false, Some(&config)).unwrap();
        assert_eq!(mine.key.fg, Some(ratatui::style::Color::Red));
        std::fs::write(&config, "theme = \"sepia\"").unwrap();
        let err = load_theme(None, false, Some(&config)).unwrap_err();
        assert!(
            err.contains("unknown theme \"sepia\": use dark, light"),
            "{err}"
        );
    }
}
