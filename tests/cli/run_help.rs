//! `run --help` and `create --help` as a Docker user reads them, and the README's table of
//! their options: every option under a topic heading, every option of Docker's `docker
//! run` there, and the README's table naming exactly the options the help shows, under the
//! same headings.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// The heading clap gives options that name none; it holds only berth's own two.
const UNGROUPED: &str = "Options";
/// berth's options on every verb: `--help`, and the global `--root`.
const GENERAL: [&str; 2] = ["help", "root"];
/// Where the README's table starts.
const TABLE_TITLE: &str = "**Options of `run` and `create`**";

/// `berth VERB --help` (it needs no root: nothing is opened).
fn help(verb: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args([verb, "--help"])
        .output()
        .unwrap();
    assert!(out.status.success(), "berth {verb} --help: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Each option of a help text (its long name) with the heading it is under, in order. A
/// heading is a line `Title:` at the start; an option's line starts with blanks, then
/// `-x, --name` or `--name`. Positional arguments (`<IMAGE>`) have no `--` and are left out.
fn options_by_heading(help: &str) -> Vec<(String, String)> {
    let mut heading: Option<&str> = None;
    let mut found = Vec::new();
    for line in help.lines() {
        if !line.starts_with(' ') {
            heading = line.strip_suffix(':').or(heading);
            continue;
        }
        if let Some(name) = long_name(line) {
            let heading = heading.unwrap_or_else(|| panic!("{line:?} is under no heading"));
            found.push((heading.to_owned(), name));
        }
    }
    found
}

/// The long name of an option's help line: `detach` of `  -d, --detach  Run ...`,
/// `sig-proxy` of `      --sig-proxy[=<SIG_PROXY>]  ...`.
fn long_name(line: &str) -> Option<String> {
    let line = line.trim_start();
    let line = match line.as_bytes() {
        [b'-', short, b',', b' ', ..] if *short != b'-' => &line[4..],
        _ => line,
    };
    let name: String = line
        .strip_prefix("--")?
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The README's options table as (group, option) rows, in order: a row `| **Group** | |`
/// starts a group; an option's row names it first in its first cell (`` `-d`, `--detach` ``).
fn readme_table() -> Vec<(String, String)> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let (_, after) = readme
        .split_once(TABLE_TITLE)
        .unwrap_or_else(|| panic!("README.md has no {TABLE_TITLE} table"));
    let mut lines = after
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'));
    assert_eq!(
        lines.next().map(str::trim),
        Some("| option | what berth does |"),
        "the table's header"
    );
    let mut group: Option<String> = None;
    let mut rows = Vec::new();
    for line in lines.skip(1) {
        let first = line[1..].split(" | ").next().unwrap_or_default().trim();
        if let Some(g) = first.strip_prefix("**").and_then(|g| g.strip_suffix("**")) {
            group = Some(g.to_owned());
            continue;
        }
        let name = first
            .split('`')
            .skip(1)
            .step_by(2)
            .find_map(long_name)
            .unwrap_or_else(|| panic!("README row names no --option first: {line}"));
        let group = group
            .clone()
            .unwrap_or_else(|| panic!("README row before any group: {line}"));
        rows.push((group, name));
    }
    rows
}

/// The headings in their first order.
fn headings(options: &[(String, String)]) -> Vec<&str> {
    let mut seen: Vec<&str> = Vec::new();
    for (heading, _) in options {
        if !seen.contains(&heading.as_str()) {
            seen.push(heading.as_str());
        }
    }
    seen
}

#[test]
fn every_run_and_create_option_is_under_a_topic_heading() {
    let mut run_headings = BTreeMap::new();
    for verb in ["run", "create"] {
        let options = options_by_heading(&help(verb));
        assert!(options.len() > 70, "{verb} --help: {options:?}");
        let ungrouped: BTreeSet<&str> = options
            .iter()
            .filter(|(h, _)| h == UNGROUPED)
            .map(|(_, o)| o.as_str())
            .collect();
        assert_eq!(
            ungrouped,
            BTreeSet::from(GENERAL),
            "{verb} --help: options under no topic heading"
        );
        let mut named = BTreeSet::new();
        for (heading, option) in &options {
            assert!(named.insert(option), "{verb} --help lists --{option} twice");
            if verb == "run" {
                run_headings.insert(option.clone(), heading.clone());
            } else {
                // `create` shares run's flags: the same option, the same topic.
                assert_eq!(
                    Some(heading),
                    run_headings.get(option),
                    "create --help: --{option} is not where run --help has it"
                );
            }
        }
    }
}

#[test]
fn readme_options_table_has_exactly_run_help_options_under_its_headings() {
    let help = options_by_heading(&help("run"));
    let table = readme_table();
    let in_help: BTreeMap<&str, &str> =
        help.iter().map(|(h, o)| (o.as_str(), h.as_str())).collect();
    let mut in_table: BTreeMap<&str, &str> = BTreeMap::new();
    for (group, option) in &table {
        assert!(
            in_table.insert(option, group).is_none(),
            "README.md: --{option} has two rows"
        );
    }
    let missing: Vec<&&str> = in_help
        .keys()
        .filter(|o| !in_table.contains_key(*o))
        .collect();
    let unknown: Vec<&&str> = in_table
        .keys()
        .filter(|o| !in_help.contains_key(*o))
        .collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "README.md's options table lacks {missing:?} and has rows for {unknown:?}, which run --help does not list"
    );
    let misplaced: Vec<String> = in_help
        .iter()
        .filter(|(o, h)| in_table[*o] != **h)
        .map(|(o, h)| {
            format!(
                "--{o} is under {:?}, run --help has it under {h:?}",
                in_table[o]
            )
        })
        .collect();
    assert!(misplaced.is_empty(), "README.md: {misplaced:#?}");
    assert_eq!(
        headings(&table),
        headings(&help),
        "README.md's groups are not run --help's, in its order"
    );
}

#[test]
fn run_help_covers_every_docker_run_option() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/docker-run-options.txt");
    let docker: Vec<String> = std::fs::read_to_string(fixture)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        docker.len(),
        104,
        "Docker 28.2's docker run has 104 options"
    );
    let berth: BTreeSet<String> = options_by_heading(&help("run"))
        .into_iter()
        .map(|(_, option)| option)
        .collect();
    let missing: Vec<&String> = docker.iter().filter(|o| !berth.contains(*o)).collect();
    assert!(
        missing.is_empty(),
        "run --help lacks {} of Docker's options: {}",
        missing.len(),
        missing
            .iter()
            .map(|o| format!("--{o}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
}

#[test]
fn help_lines_and_readme_rows_are_read_by_their_option() {
    let help = "Usage: berth run [OPTIONS] <IMAGE>\n\nArguments:\n  <IMAGE>  The image\n\n\
        Options:\n      --help  Print help\n\nRunning:\n  -d, --detach  Run it\n      \
        --sig-proxy[=<SIG_PROXY>]  Proxy [default: true]\n\nNetworking:\n      \
        --network <NETWORK>  Connect [alias: --net]\n";
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(h, o)| (h.to_string(), o.to_string()))
            .collect()
    };
    assert_eq!(
        options_by_heading(help),
        pairs(&[
            ("Options", "help"),
            ("Running", "detach"),
            ("Running", "sig-proxy"),
            ("Networking", "network"),
        ])
    );
    assert_eq!(long_name("`-a`"), None);
    assert_eq!(long_name("--sig-proxy[=false]"), Some("sig-proxy".into()));
    assert_eq!(
        long_name("--volumes-from CONTAINER"),
        Some("volumes-from".into())
    );
}
