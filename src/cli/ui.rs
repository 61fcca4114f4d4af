//! `berth` and `berth ui`: the dashboard, or one frame of it with `--once`.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use color_eyre::eyre::eyre;
use color_eyre::Result;

use crate::engine::container::runtime::sealed;
use crate::engine::Engine;
use crate::tui::once::{self, OnceOptions, Screen};
use crate::tui::state::App;

#[derive(Debug, Args, Default)]
pub struct UiArgs {
    /// Print one frame as plain text and exit
    #[arg(long)]
    pub once: bool,
    /// With --once: the frame's width
    #[arg(long, default_value_t = 120, requires = "once")]
    pub width: u16,
    /// With --once: the frame's height
    #[arg(long, default_value_t = 30, requires = "once")]
    pub height: u16,
    /// With --once: containers, images, volumes, networks, events, a container's
    /// config, mounts, endpoints (its Network tab), stats, logs, diff or files, an
    /// image's layers, a volume's files (volume) or a network's bridge and ports
    /// (network) (with --select)
    #[arg(long, default_value = "containers", requires = "once")]
    pub view: String,
    /// With --once: the row to select (a name or ID)
    #[arg(long, requires = "once")]
    pub select: Option<String>,
    /// With --once: text (the frame) or json (the same data)
    #[arg(long, default_value = "text", requires = "once")]
    pub format: String,
    /// A keymap file ("key" = "action" lines) instead of ~/.config/berth/keymap.toml
    #[arg(long, value_name = "FILE")]
    pub keymap: Option<PathBuf>,
    /// A theme: dark, light, high-contrast, no-color, or a theme file, instead of the
    /// config's (~/.config/berth/config.toml: theme = "light")
    #[arg(long, value_name = "NAME|FILE")]
    pub theme: Option<String>,
}

pub fn ui(engine: &Engine, root: PathBuf, args: &UiArgs) -> Result<i32> {
    let keymap =
        crate::tui::load_keymap(args.keymap.as_deref()).map_err(|e| eyre!("keymap {e}"))?;
    let theme = crate::tui::load_theme(
        args.theme.as_deref(),
        crate::tui::theme::no_color_requested(),
        None,
    )
    .map_err(|e| eyre!(e))?;
    if args.once {
        return print_once(engine, keymap, theme, args);
    }
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(eyre!(
            "the dashboard needs a terminal; for one frame as text use: berth ui --once"
        ));
    }
    // The file view enters running containers: like `cp`, do that from a sealed copy of
    // berth (CVE-2019-5736).
    if !sealed::running_sealed() {
        sealed::reexec_sealed()?;
    }
    crate::tui::run(engine.clone(), root, keymap, theme)?;
    Ok(0)
}

fn print_once(
    engine: &Engine,
    keymap: crate::tui::keymap::Keymap,
    theme: crate::tui::theme::Theme,
    args: &UiArgs,
) -> Result<i32> {
    let screen = Screen::parse(&args.view).ok_or_else(|| {
        eyre!(
            "invalid --view {:?}: use containers, images, volumes, networks, events, config, mounts, endpoints, stats, logs, diff, layers, files, volume or network",
            args.view
        )
    })?;
    if !matches!(args.format.as_str(), "text" | "json") {
        return Err(eyre!(
            "invalid --format {:?}: use text or json",
            args.format
        ));
    }
    if args.width < 20 || args.height < 5 {
        return Err(eyre!("a frame needs at least 20 columns and 5 rows"));
    }
    let mut app = App::new(keymap);
    app.theme = theme;
    let options = OnceOptions {
        width: args.width,
        height: args.height,
        screen,
        select: args.select.clone(),
    };
    once::prepare(engine, &mut app, &options)?;
    if args.format == "json" {
        crate::cli::output::print_json(&once::render_json(&app))?;
    } else {
        print!("{}", once::render_text(&app, options.width, options.height));
    }
    Ok(0)
}
