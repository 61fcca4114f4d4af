//! Tab completion on the `:` line: verbs and flags from the CLI's own command tree, then
//! the names of containers, images, volumes and networks.

use clap::CommandFactory;

use super::snapshot::Snapshot;
use crate::cli::Cli;

/// The line with its last word completed as far as the candidates agree.
pub fn complete(line: &str, snapshot: &Snapshot) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    let starting_new = line.is_empty() || line.ends_with(' ');
    let (done, partial) = if starting_new {
        (words.as_slice(), "")
    } else {
        (&words[..words.len() - 1], words[words.len() - 1])
    };
    let candidates = candidates(done, partial, snapshot);
    let matching: Vec<&String> = candidates
        .iter()
        .filter(|c| c.starts_with(partial))
        .collect();
    let Some(first) = matching.first() else {
        return line.to_owned();
    };
    let mut common = first.as_str();
    for c in &matching[1..] {
        let same = common
            .char_indices()
            .zip(c.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8());
        common = &common[..same];
    }
    let head = &line[..line.len() - partial.len()];
    let tail = if matching.len() == 1 { " " } else { "" };
    format!("{head}{common}{tail}")
}

fn candidates(done: &[&str], partial: &str, snapshot: &Snapshot) -> Vec<String> {
    let mut command = Cli::command();
    // Walk down the subcommands already typed (`volume create`).
    for word in done {
        match command.find_subcommand(word) {
            Some(sub) => command = sub.clone(),
            None => break,
        }
    }
    if partial.starts_with('-') {
        return command
            .get_arguments()
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect();
    }
    let subcommands: Vec<String> = command
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_owned())
        .collect();
    if !subcommands.is_empty() {
        return subcommands;
    }
    let mut names: Vec<String> = snapshot.containers.iter().map(|c| c.name.clone()).collect();
    names.extend(
        snapshot
            .images
            .iter()
            .flat_map(|i| i.summary.references.iter().map(|r| r.to_string())),
    );
    names.extend(snapshot.volumes.iter().map(|v| v.volume.name.clone()));
    names.extend(snapshot.networks.iter().map(|n| n.name.clone()));
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_subcommands_and_flags_complete() {
        let snapshot = Snapshot::default();
        assert_eq!(complete("vol", &snapshot), "volume ");
        assert_eq!(complete("volume cr", &snapshot), "volume create ");
        assert_eq!(complete("run --entry", &snapshot), "run --entrypoint ");
        assert_eq!(complete("sto", &snapshot), "stop ");
        // Ambiguous (start, stats): extended to the common prefix only.
        assert_eq!(complete("star", &snapshot), "start ");
        assert_eq!(complete("st", &snapshot), "st");
        // The hidden monitor verb is never offered.
        assert_eq!(complete("__mon", &snapshot), "__mon");
    }
}
