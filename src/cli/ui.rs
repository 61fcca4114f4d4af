//! `berth` and `berth ui`: the dashboard, or one frame of it with `--once`.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Parser};
use color_eyre::eyre::eyre;
use color_eyre::Result;

use super::{Cli, Command};
use crate::engine::{sealed, Engine};
use crate::tui::once::{self, OnceOptions, Screen};
use crate::tui::state::App;
use crate::tui::verb::Verbs;

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
    /// With --once: containers, images, volumes, networks, events, projects, a container's
    /// config, mounts, endpoints (its Network tab), stats, logs, diff or files, an
    /// image's layers, a volume's files (volume) or a network's bridge and ports
    /// (network) (with --select)
    #[arg(long, default_value = "containers", requires = "once")]
    pub view: String,
    /// With --once: the row to select (a name or ID; PROJECT/SERVICE on projects)
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
    crate::tui::run(engine.clone(), root, keymap, theme, dashboard_verbs())?;
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
            "invalid --view {:?}: use containers, images, volumes, networks, events, config, mounts, endpoints, stats, logs, diff, layers, files, volume, network or build",
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
        json: args.format == "json",
    };
    once::prepare(engine, &mut app, &options)?;
    if args.format == "json" {
        crate::cli::output::print_json(&once::render_json(&app))?;
    } else {
        print!("{}", once::render_text(&app, options.width, options.height));
    }
    Ok(0)
}

/// The CLI's verbs as the dashboard's `:` line runs them: its clap tree for completion
/// and its own parser to tell which verbs hold the terminal.
pub fn dashboard_verbs() -> Verbs {
    Verbs {
        command: super::whole_command(),
        needs_terminal,
    }
}

/// `attach`, `exec`/`run` with `-i` or `-t` and not `-d`, `start -a`/`-i`, and `logs -f`,
/// which follows until ctrl-c as it does in a shell. The words are read with the CLI's
/// own parser, so `-it`, `-ti`, `--interactive --tty` and `container exec` all count, and
/// a value that happens to look like a flag (`-e -t`) does not.
fn needs_terminal(words: &[String]) -> bool {
    let Ok(cli) =
        Cli::try_parse_from(std::iter::once("berth").chain(words.iter().map(String::as_str)))
    else {
        return false;
    };
    let command = match cli.command {
        Some(Command::Container(command)) => match Command::try_from(command.0) {
            Ok(command) => command,
            Err(_) => return false,
        },
        Some(command) => command,
        None => return false,
    };
    match command {
        Command::Attach(_) => true,
        Command::Exec(args) => (args.interactive || args.tty) && !args.detach,
        Command::Run(args) => (args.flags.interactive || args.flags.tty) && !args.detach,
        Command::Start(args) => args.attach || args.interactive,
        Command::Logs(args) => args.follow,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::complete::complete_in;
    use crate::tui::snapshot::Snapshot;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn interactive_and_attaching_verbs_need_the_terminal() {
        for line in [
            "exec -it web sh",
            "exec -ti web sh",
            "exec --interactive --tty web sh",
            "exec -i web cat",
            "container exec -it web sh",
            "attach web",
            "run -it busybox sh",
            "run --rm -t busybox top",
            "start -ai web",
            "logs -f web",
            "container logs --follow --tail 5 web",
        ] {
            assert!(needs_terminal(&words(line)), "{line}");
        }
        for line in [
            "logs web",
            "stats web",
            "exec web ls -t",
            "exec -e -t web env",
            "exec -dit web sleep 9",
            "run -dit busybox sh",
            "run -d busybox",
            "start web",
            "volume create x",
            "exec",
            "nonsense -it",
        ] {
            assert!(!needs_terminal(&words(line)), "{line}");
        }
    }

    #[test]
    fn the_dashboard_completes_the_clis_verbs_subcommands_and_flags() {
        let command = dashboard_verbs().command;
        let snapshot = Snapshot::default();
        let complete = |line| complete_in(&command, line, &snapshot);
        assert_eq!(complete("vol"), "volume ");
        assert_eq!(complete("volume cr"), "volume create ");
        assert_eq!(complete("run --entry"), "run --entrypoint ");
        assert_eq!(complete("sto"), "stop ");
        // Ambiguous (start, stats): extended to the common prefix only.
        assert_eq!(complete("star"), "start ");
        assert_eq!(complete("st"), "st");
        // The hidden monitor verb is never offered.
        assert_eq!(complete("__mon"), "__mon");
    }

    /// Where the CLI's verbs take a container, a network, a volume, the dashboard
    /// offers those and nothing else.
    #[test]
    fn the_dashboard_completes_each_argument_with_the_objects_it_takes() {
        use crate::engine::{Status, Volume, VolumeInfo};
        use crate::tui::complete::completion_in;
        use crate::tui::update::testing::{container, network};
        let command = dashboard_verbs().command;
        let mut snapshot = Snapshot::default();
        snapshot
            .containers
            .push(container("nginx-1", Status::Running, 1));
        snapshot.networks.push(network("net-a", &[]));
        snapshot.volumes.push(VolumeInfo {
            volume: Volume {
                name: "n-data".into(),
                created: chrono::Utc::now(),
                labels: Default::default(),
                anonymous: false,
            },
            mountpoint: "/v".into(),
            users: Vec::new(),
        });
        let complete = |line| completion_in(&command, line, &snapshot).line;
        assert_eq!(complete("stop n"), "stop nginx-1 ");
        assert_eq!(complete("stop -t 3 n"), "stop -t 3 nginx-1 ");
        assert_eq!(complete("rm nginx-1 n"), "rm nginx-1 nginx-1 ");
        assert_eq!(complete("volume rm n"), "volume rm n-data ");
        assert_eq!(complete("network connect n"), "network connect net-a ");
        assert_eq!(
            complete("network connect net-a n"),
            "network connect net-a nginx-1 "
        );
        assert_eq!(complete("run --network n"), "run --network net-a ");
    }
}
