//! The verbs typed on the `:` line: the command tree they complete from and which of
//! them get the terminal. Both belong to the front door that started the dashboard (the
//! CLI's clap tree and its own parser), handed in once at startup through [`install`],
//! so the dashboard never names the CLI.

use std::sync::OnceLock;

/// What the dashboard knows of the verbs it runs.
pub struct Verbs {
    /// The verbs, subcommands and flags, for tab completion.
    pub command: clap::Command,
    /// Whether a verb reads the keyboard or holds a terminal (`exec -it`, `attach`,
    /// `logs -f`): those are handed the terminal as the `e` and `A` keys do; everything
    /// else runs with its output live in a popup, where x or esc ends it. A verb that
    /// doesn't parse is not one of them: it prints its error in the popup.
    pub needs_terminal: fn(&[String]) -> bool,
}

static VERBS: OnceLock<Verbs> = OnceLock::new();

/// Hands the verbs in. One front door per process: the first handed in stays.
pub fn install(verbs: Verbs) {
    let _ = VERBS.set(verbs);
}

/// The verbs handed in; none before (nothing completes, nothing takes the terminal).
pub fn verbs() -> &'static Verbs {
    VERBS.get_or_init(unset)
}

/// Whether the verb `words` gets the terminal (see [`Verbs::needs_terminal`]).
pub fn needs_terminal(words: &[String]) -> bool {
    (verbs().needs_terminal)(words)
}

#[cfg(not(test))]
fn unset() -> Verbs {
    Verbs {
        command: clap::Command::new("berth"),
        needs_terminal: |_| false,
    }
}

/// Unit tests of the dashboard run without a front door to hand verbs in: they get this
/// small tree of the kind a front door gives (the CLI's own is tested in `cli::ui`).
#[cfg(test)]
fn unset() -> Verbs {
    Verbs {
        command: stand_in::command(),
        needs_terminal: stand_in::needs_terminal,
    }
}

#[cfg(test)]
pub(crate) mod stand_in {
    use clap::{Arg, ArgAction, Command};

    pub fn command() -> Command {
        let flag = |name: &'static str, short| {
            Arg::new(name)
                .short(short)
                .long(name)
                .action(ArgAction::SetTrue)
        };
        Command::new("berth")
            .subcommand(
                Command::new("volume").subcommand(Command::new("create").arg(Arg::new("name"))),
            )
            .subcommand(
                Command::new("exec")
                    .arg(flag("interactive", 'i'))
                    .arg(flag("tty", 't'))
                    .arg(flag("detach", 'd'))
                    .arg(Arg::new("container").required(true))
                    .arg(Arg::new("command").num_args(1..).trailing_var_arg(true)),
            )
            .subcommand(Command::new("attach").arg(Arg::new("container").required(true)))
            .subcommand(
                Command::new("logs")
                    .arg(flag("follow", 'f'))
                    .arg(Arg::new("container").required(true)),
            )
            .subcommand(Command::new("stats").arg(Arg::new("container")))
            .subcommand(Command::new("__monitor").hide(true))
    }

    pub fn needs_terminal(words: &[String]) -> bool {
        let words = std::iter::once("berth").chain(words.iter().map(String::as_str));
        match command().try_get_matches_from(words) {
            Ok(matches) => match matches.subcommand() {
                Some(("exec", exec)) => {
                    (exec.get_flag("interactive") || exec.get_flag("tty"))
                        && !exec.get_flag("detach")
                }
                Some(("attach", _)) => true,
                Some(("logs", logs)) => logs.get_flag("follow"),
                _ => false,
            },
            Err(_) => false,
        }
    }
}
