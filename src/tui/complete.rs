//! Tab completion on the `:` line: verbs and flags from the command tree the front door
//! handed in (see [`super::verb`]), then the names of the containers, images, volumes or
//! networks the argument under the cursor takes, read from its id in that tree.

use super::snapshot::Snapshot;
use super::verb::verbs;

/// Candidates listed under the line at most.
pub const CANDIDATES_SHOWN: usize = 50;

/// What tab does to the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The line with its last word completed as far as the candidates agree.
    pub line: String,
    /// When they disagree, the candidates (at most [`CANDIDATES_SHOWN`]), to list.
    pub candidates: Vec<String>,
}

/// Tab on `line`, from the verbs handed in.
pub fn complete(line: &str, snapshot: &Snapshot) -> Completion {
    completion_in(&verbs().command, line, snapshot)
}

/// The line with its last word completed from `command`'s tree as far as the candidates
/// agree.
pub fn complete_in(command: &clap::Command, line: &str, snapshot: &Snapshot) -> String {
    completion_in(command, line, snapshot).line
}

/// Tab on `line` in `command`'s tree: verbs, flags, and the objects the argument under
/// the cursor takes (containers where a container goes).
pub fn completion_in(command: &clap::Command, line: &str, snapshot: &Snapshot) -> Completion {
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
        return Completion {
            line: line.to_owned(),
            candidates: Vec::new(),
        };
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
    let listed = match matching.len() {
        1 => Vec::new(),
        _ => matching
            .iter()
            .take(CANDIDATES_SHOWN)
            .map(|c| c.to_string())
            .collect(),
    };
    Completion {
        line: format!("{head}{common}{tail}"),
        candidates: listed,
    }
}

/// The kind of object an argument names, by its id (`container`, `containers`,
/// `network`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Object {
    Container,
    Image,
    Volume,
    Network,
}

impl Object {
    /// `container`, `images`...: the kind a word names.
    fn named(word: &str) -> Option<Object> {
        [
            ("container", Object::Container),
            ("image", Object::Image),
            ("volume", Object::Volume),
            ("network", Object::Network),
        ]
        .into_iter()
        .find(|(name, _)| word.trim_end_matches('s') == *name)
        .map(|(_, object)| object)
    }

    /// What `arg` of the verb `parent verb` takes: its id says (`containers`), or a
    /// `name` of a `volume`, `network`... verb names one of its parent's (but a new one
    /// for `create`).
    fn of(arg: &clap::Arg, parent: &str, verb: &str) -> Option<Object> {
        let id = arg.get_id().as_str();
        Object::named(id).or_else(|| {
            let existing = matches!(id, "name" | "names") && verb != "create";
            existing.then(|| Object::named(parent)).flatten()
        })
    }

    fn names(self, snapshot: &Snapshot) -> Vec<String> {
        match self {
            Object::Container => snapshot.containers.iter().map(|c| c.name.clone()).collect(),
            Object::Image => snapshot
                .images
                .iter()
                .flat_map(|i| i.summary.references.iter().map(|r| r.to_string()))
                .collect(),
            Object::Volume => snapshot
                .volumes
                .iter()
                .map(|v| v.volume.name.clone())
                .collect(),
            Object::Network => snapshot.networks.iter().map(|n| n.name.clone()).collect(),
        }
    }
}

fn candidates(
    mut command: &clap::Command,
    done: &[&str],
    partial: &str,
    snapshot: &Snapshot,
) -> Vec<String> {
    // Walk down the subcommands already typed (`volume create`).
    let mut rest = done;
    let mut parent = "";
    while let Some((word, after)) = rest.split_first() {
        match command.find_subcommand(word) {
            Some(sub) => {
                parent = command.get_name();
                command = sub;
                rest = after;
            }
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
    if !subcommands.is_empty() && rest.is_empty() {
        return subcommands;
    }
    let mut names = match argument_at(command, rest) {
        Some(arg) => {
            Object::of(arg, parent, command.get_name()).map_or_else(Vec::new, |o| o.names(snapshot))
        }
        None => Vec::new(),
    };
    // As the panes list them: `vol-2` before `vol-10`.
    names.sort_by(|a, b| natord::compare(a, b));
    names.dedup();
    names
}

/// The argument the next word of `command` fills after `typed` words: a flag's value, or
/// the positional argument its place gives (the last one goes on taking words when it
/// takes many).
fn argument_at<'a>(command: &'a clap::Command, typed: &[&str]) -> Option<&'a clap::Arg> {
    let takes_value = |arg: &clap::Arg| arg.get_action().takes_values();
    let flag = |word: &str| -> Option<&'a clap::Arg> {
        if let Some(long) = word.strip_prefix("--") {
            return command.get_arguments().find(|a| a.get_long() == Some(long));
        }
        // `-it`: the last letter is the one that could take the next word.
        let last = word.strip_prefix('-')?.chars().last()?;
        command
            .get_arguments()
            .find(|a| a.get_short() == Some(last))
    };
    let mut position = 0;
    let mut value_of: Option<&clap::Arg> = None;
    for word in typed {
        if value_of.take().is_some() {
            continue;
        }
        if word.starts_with('-') && word.len() > 1 {
            value_of = flag(word).filter(|a| takes_value(a) && !word.contains('='));
            continue;
        }
        position += 1;
    }
    if value_of.is_some() {
        return value_of;
    }
    let positionals: Vec<&clap::Arg> = command.get_positionals().collect();
    let many = |a: &clap::Arg| {
        matches!(a.get_action(), clap::ArgAction::Append)
            || a.get_num_args().is_some_and(|n| n.max_values() > 1)
    };
    positionals
        .get(position)
        .copied()
        .or_else(|| positionals.last().copied().filter(|a| many(a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_subcommands_and_flags_complete() {
        let snapshot = Snapshot::default();
        let complete = |line| complete(line, &snapshot).line;
        assert_eq!(complete("vol"), "volume ");
        assert_eq!(complete("volume cr"), "volume create ");
        assert_eq!(complete("exec --inter"), "exec --interactive ");
        // Ambiguous (--tty, --detach...): only what they share.
        assert_eq!(complete("exec --"), "exec --");
        assert_eq!(complete("e"), "exec ");
        // A hidden verb is never offered.
        assert_eq!(complete("__mon"), "__mon");
        // Past the verbs: nothing to offer in an empty snapshot.
        assert_eq!(complete("exec w"), "exec w");
    }

    /// Where a container goes, containers; ambiguous, the candidates to list.
    #[test]
    fn an_argument_completes_with_the_objects_it_takes_and_lists_them_when_ambiguous() {
        use crate::tui::update::testing::container;
        let mut snapshot = Snapshot::default();
        for name in ["web", "worker", "db"] {
            snapshot
                .containers
                .push(container(name, crate::engine::Status::Running, 1));
        }
        snapshot.volumes.push(crate::engine::VolumeInfo {
            volume: crate::engine::Volume {
                name: "wide".into(),
                created: chrono::Utc::now(),
                labels: Default::default(),
                anonymous: false,
            },
            mountpoint: "/v".into(),
            users: Vec::new(),
        });
        let done = complete("exec -it w", &snapshot);
        assert_eq!(done.line, "exec -it w");
        assert_eq!(
            done.candidates,
            ["web", "worker"],
            "no volume where a container goes"
        );
        assert_eq!(complete("exec -it wo", &snapshot).line, "exec -it worker ");
        assert!(complete("exec -it wo", &snapshot).candidates.is_empty());
        // The command after the container is not a container.
        assert_eq!(complete("exec web d", &snapshot).line, "exec web d");
        assert_eq!(complete("logs -f d", &snapshot).line, "logs -f db ");
        // A new volume's name: nothing to offer.
        assert_eq!(
            complete("volume create w", &snapshot).line,
            "volume create w"
        );
        // Candidates sort naturally, as the panes do.
        for name in ["vol-10", "vol-2", "vol-1"] {
            snapshot
                .containers
                .push(container(name, crate::engine::Status::Running, 1));
        }
        assert_eq!(
            complete("exec -it vol-", &snapshot).candidates,
            ["vol-1", "vol-2", "vol-10"]
        );
    }
}
