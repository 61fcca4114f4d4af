//! Which `:` verbs get the terminal. The words are read with the CLI's own parser, so
//! `-it`, `-ti`, `--interactive --tty` and `container exec` all count, and a value that
//! happens to look like a flag (`-e -t`) does not.

use clap::Parser;

use crate::cli::{Cli, Command};

/// Whether the verb reads the keyboard or holds a terminal: `attach`, `exec`/`run` with
/// `-i` or `-t` and not `-d`, `start -a`/`-i`, and `logs -f`, which follows until ctrl-c
/// as it does in a shell. Those are handed the terminal as the `e` and `A` keys do;
/// everything else runs with its output live in a popup, where x or esc ends it.
pub fn needs_terminal(words: &[String]) -> bool {
    let Ok(cli) =
        Cli::try_parse_from(std::iter::once("berth").chain(words.iter().map(String::as_str)))
    else {
        // A verb that doesn't parse prints its error in the popup.
        return false;
    };
    let command = match cli.command {
        Some(Command::Container(command)) => match Command::try_from(command) {
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
}
