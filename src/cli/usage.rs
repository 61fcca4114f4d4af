//! A bad command line in Docker's words: what is wrong on the first line, then the
//! verb's usage and where to read more, with Docker's exit codes (125 for a flag, 1 for
//! a command or an argument count), instead of clap's own blocks and tips.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Command, CommandFactory};

use super::Cli;

/// The process's name, as Docker's messages start with `docker`.
const NAME: &str = "berth";

/// Prints `error` for `argv` (the process's arguments, without the program) as Docker
/// would, and returns the exit code. Help and version asked for print as clap has them.
pub fn report(error: &clap::Error, argv: &[String]) -> i32 {
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            0
        }
        _ => {
            let (text, code) = explain(error, argv);
            eprintln!("{text}");
            code
        }
    }
}

/// The text Docker prints for `error`, and its exit code.
pub fn explain(error: &clap::Error, argv: &[String]) -> (String, i32) {
    let mut root = Cli::command();
    root.build();
    let path = command_path(&root, argv);
    let verb = std::iter::once(NAME)
        .chain(path.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ");
    let cmd = path
        .iter()
        .try_fold(&root, |cmd, name| cmd.find_subcommand(name))
        .unwrap_or(&root);
    let usage = usage_line(cmd);
    let context = |kind| match error.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(list)) => list.join(", "),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    // A flag's problem: 125, "Run ... for more information".
    let flag = |message: String| {
        (
            format!("{message}\n\n{usage}\n\nRun '{verb} --help' for more information"),
            125,
        )
    };
    // A command's or argument count's: 1, "See ... for more information".
    let count = |message: String| {
        (
            format!("{NAME}: {message}\n\n{usage}\n\nSee '{verb} --help' for more information"),
            1,
        )
    };
    match error.kind() {
        ErrorKind::UnknownArgument => {
            let arg = context(ContextKind::InvalidArg);
            match (arg.strip_prefix("--"), arg.strip_prefix('-')) {
                (Some(_), _) => flag(format!("unknown flag: {}", flag_name(&arg))),
                (None, Some(short)) if !short.is_empty() => {
                    let letter = short.chars().next().unwrap_or('-');
                    flag(format!("unknown shorthand flag: '{letter}' in {arg}"))
                }
                // An argument the verb has no room for.
                _ => count(argument_count(&verb, cmd)),
            }
        }
        ErrorKind::MissingRequiredArgument => {
            let missing = context(ContextKind::InvalidArg);
            if missing.starts_with('-') {
                flag(format!(
                    "required flag(s) {} not set",
                    missing
                        .split(", ")
                        .map(|f| format!("\"{}\"", flag_name(f).trim_start_matches('-')))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            } else {
                count(argument_count(&verb, cmd))
            }
        }
        ErrorKind::InvalidSubcommand => {
            let typed = context(ContextKind::InvalidSubcommand);
            let hints = suggestions(cmd, &typed);
            let mut text = format!("{NAME}: unknown command: {verb} {typed}");
            if !hints.is_empty() {
                text.push_str("\n\nDid you mean this?");
                for hint in hints {
                    text.push_str("\n\t");
                    text.push_str(hint);
                }
            }
            if !path.is_empty() {
                text.push_str(&format!("\n\n{usage}"));
            }
            text.push_str(&format!("\n\nRun '{verb} --help' for more information"));
            (text, 1)
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let arg = context(ContextKind::InvalidArg);
            let value = context(ContextKind::InvalidValue);
            if value.is_empty() && error.kind() == ErrorKind::InvalidValue {
                return flag(format!("flag needs an argument: {}", flag_name(&arg)));
            }
            let reason = match error.kind() {
                ErrorKind::ValueValidation => std::error::Error::source(error)
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "invalid value".into()),
                _ => format!("valid values are {}", context(ContextKind::ValidValue)),
            };
            let name = if arg.starts_with('-') {
                format!("\"{}\" flag", flag_names(cmd, &arg))
            } else {
                arg.clone()
            };
            flag(format!("invalid argument {value:?} for {name}: {reason}"))
        }
        ErrorKind::ArgumentConflict => flag(format!(
            "conflicting options: {} and {}",
            flag_name(&context(ContextKind::InvalidArg)),
            flag_name(&context(ContextKind::PriorArg))
        )),
        ErrorKind::NoEquals => flag(format!(
            "flag {} needs its value after '='",
            flag_name(&context(ContextKind::InvalidArg))
        )),
        ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues | ErrorKind::TooFewValues => {
            flag(format!(
                "wrong number of values for {}",
                flag_name(&context(ContextKind::InvalidArg))
            ))
        }
        // Anything else: clap's own first line, without its "error: ".
        _ => {
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or_default();
            flag(first.trim_start_matches("error: ").to_owned())
        }
    }
}

/// The subcommands named on the command line, in order, skipping flags (and the global
/// `--root`'s value).
fn command_path(root: &Command, argv: &[String]) -> Vec<String> {
    let mut path = Vec::new();
    let mut cmd = root;
    let mut args = argv.iter();
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        if arg == "--root" {
            args.next();
            continue;
        }
        if arg.starts_with('-') {
            continue;
        }
        match cmd.find_subcommand(arg) {
            Some(sub) => {
                path.push(sub.get_name().to_owned());
                cmd = sub;
            }
            None => break,
        }
    }
    path
}

/// `Usage:  berth run [OPTIONS] <IMAGE> [COMMAND]...`, from the command's own usage, so
/// no value taken from the environment shows in it.
fn usage_line(cmd: &Command) -> String {
    let rendered = cmd.clone().render_usage().to_string();
    let text = rendered.trim();
    let text = text.strip_prefix("Usage:").unwrap_or(text).trim_start();
    format!("Usage:  {text}")
}

/// `--name` from clap's `--name <NAME>`.
fn flag_name(arg: &str) -> &str {
    arg.split([' ', '=']).next().unwrap_or(arg)
}

/// `-m, --memory` for the flag clap names `--memory <MEMORY>`, as Docker names flags in
/// its value errors.
fn flag_names(cmd: &Command, arg: &str) -> String {
    let name = flag_name(arg);
    let found = cmd.get_arguments().find(|a| {
        a.get_long().is_some_and(|l| name == format!("--{l}"))
            || a.get_short().is_some_and(|s| name == format!("-{s}"))
    });
    match found.map(|a| (a.get_short(), a.get_long())) {
        Some((Some(short), Some(long))) => format!("-{short}, --{long}"),
        _ => name.to_owned(),
    }
}

/// Docker's argument-count message for `cmd`: "requires at least 1 argument",
/// "requires 2 arguments", "accepts no arguments".
fn argument_count(verb: &str, cmd: &Command) -> String {
    let positionals: Vec<_> = cmd.get_positionals().filter(|a| !a.is_hide_set()).collect();
    let required = positionals.iter().filter(|a| a.is_required_set()).count();
    let unbounded = positionals.iter().any(|a| {
        a.get_num_args()
            .is_some_and(|n| n.max_values() == usize::MAX)
    });
    let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
    if positionals.is_empty() {
        format!("'{verb}' accepts no arguments")
    } else if unbounded || required < positionals.len() {
        format!("'{verb}' requires at least {required} {}", plural(required))
    } else {
        format!("'{verb}' requires {required} {}", plural(required))
    }
}

/// The commands of `cmd` close to `typed`: one edit away, or two for a word of four
/// letters or more (`pss` -> `ps`, `imgaes` -> `images`; not `rn` -> `rename`).
fn suggestions<'a>(cmd: &'a Command, typed: &str) -> Vec<&'a str> {
    let limit = if typed.chars().count() >= 4 { 2 } else { 1 };
    let typed = typed.to_lowercase();
    cmd.get_subcommands()
        .filter(|sub| !sub.is_hide_set())
        .map(Command::get_name)
        .filter(|name| strsim::osa_distance(&typed, name) <= limit)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_close_ones_only() {
        let mut root = Cli::command();
        root.build();
        assert_eq!(suggestions(&root, "pss"), ["ps"]);
        assert!(suggestions(&root, "imgaes").contains(&"images"));
        assert!(!suggestions(&root, "rn").contains(&"rename"));
        assert!(suggestions(&root, "frobnicate").is_empty());
        // `build` is a verb now: a typo of it is suggested.
        assert_eq!(suggestions(&root, "buidl"), ["build"]);
    }
}
