//! Tab completion on the `:` line: verbs and flags from the command tree the front door
//! handed in (see [`super::verb`]), then the names of containers, images, volumes and
//! networks.

use super::snapshot::Snapshot;
use super::verb::verbs;

/// The line with its last word completed as far as the candidates agree, from the verbs
/// handed in.
pub fn complete(line: &str, snapshot: &Snapshot) -> String {
    complete_in(&verbs().command, line, snapshot)
}

/// The line with its last word completed from `command`'s tree as far as the candidates
/// agree.
pub fn complete_in(command: &clap::Command, line: &str, snapshot: &Snapshot) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    let starting_new = line.is_empty() || line.ends_with(' ');
    let (done, partial) = if starting_new {
        (words.as_slice(), "")
    } else {
        (&words[..words.len() - 1], words[words.len() - 1])
    };
    let candidates = candidates(command, done, partial, snapshot);
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

fn candidates(
    mut command: &clap::Command,
    done: &[&str],
    partial: &str,
    snapshot: &Snapshot,
) -> Vec<String> {
    // Walk down the subcommands already typed (`volume create`).
    for word in done {
        match command.find_subcommand(word) {
            Some(sub) => command = sub,
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
        assert_eq!(complete("exec --inter", &snapshot), "exec --interactive ");
        // Ambiguous (--tty, --detach...): only what they share.
        assert_eq!(complete("exec --", &snapshot), "exec --");
        assert_eq!(complete("e", &snapshot), "exec ");
        // A hidden verb is never offered.
        assert_eq!(complete("__mon", &snapshot), "__mon");
        // Past the verbs: nothing to offer in an empty snapshot.
        assert_eq!(complete("exec w", &snapshot), "exec w");
    }
}
