//! The rooms' arrows, checked on the source text: which front door may name what.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            found.push((path, text));
        }
    }
    found
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The modules of the engine's face (crates/engine/src/lib.rs) a front door may name.
const FACE_MODULES: [&str; 2] = ["sealed", "monitor"];

/// The engine paths in `text` that reach past the face: a room's name (lowercase) and `::`
/// right after the engine's, also inside a braced group after it.
fn past_the_face(text: &str) -> Vec<String> {
    // Spelt in two halves so this file doesn't match itself.
    let prefix = ["engine", "::"].concat();
    let mut found = Vec::new();
    for (at, _) in text.match_indices(&prefix) {
        let rest = &text[at + prefix.len()..];
        // A braced group is read up to its closing brace (a nested group only ever sits
        // after a module name, which the first `::` inside already catches); a plain path
        // is one segment.
        let (named, group) = match rest.strip_prefix('{') {
            Some(group) => (&group[..group.find('}').unwrap_or(group.len())], true),
            None => (rest, false),
        };
        let segments = named.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'));
        for segment in segments.take(if group { usize::MAX } else { 1 }) {
            let Some((first, _)) = segment.split_once("::") else {
                continue;
            };
            let module = first.starts_with(|c: char| c.is_ascii_lowercase());
            if module && !FACE_MODULES.contains(&first) {
                found.push(format!("{prefix}{segment}"));
            }
        }
    }
    found
}

/// The dashboard gets what it needs of the CLI handed in and never names it; the engine
/// knows nothing of the front doors.
#[test]
fn the_dashboard_never_names_the_cli_nor_the_engine_a_front_door() {
    let cli = ["crate", "::cli"].concat();
    let tui = sources(&root().join("src/tui"));
    assert!(tui.len() > 20, "the scan found too few files");
    for (path, text) in &tui {
        assert!(!text.contains(&cli), "{} names {cli}", path.display());
    }
    let engine = sources(&root().join("crates/engine/src"));
    assert!(engine.len() > 20, "the scan found too few files");
    for door in ["cli", "tui", "ops", "format", "settings"] {
        let name = ["berth", "::", door].concat();
        for (path, text) in &engine {
            assert!(!text.contains(&name), "{} names {name}", path.display());
        }
    }
}

/// One front door never reaches into another's modules: the CLI names the dashboard only
/// in its `ui` verb (which opens it), and what both doors share (ops, compose, format,
/// settings) names neither.
#[test]
fn front_doors_share_through_ops_not_each_others_modules() {
    let (cli, tui) = (["crate", "::cli"].concat(), ["crate", "::tui"].concat());
    let cli_files = sources(&root().join("src/cli"));
    assert!(cli_files.len() > 20, "the scan found too few files");
    for (path, text) in &cli_files {
        if path.ends_with("src/cli/ui.rs") {
            continue;
        }
        assert!(!text.contains(&tui), "{} names {tui}", path.display());
    }
    let mut shared = sources(&root().join("src/ops"));
    shared.extend(sources(&root().join("src/compose")));
    for file in ["src/format.rs", "src/settings.rs"] {
        let path = root().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        shared.push((path, text));
    }
    assert!(shared.len() > 20, "the scan found too few files");
    for (path, text) in &shared {
        for door in [&cli, &tui] {
            assert!(
                !text.contains(door.as_str()),
                "{} names {door}",
                path.display()
            );
        }
    }
}

/// The front doors name only the engine's face (the items `crates/engine/src/lib.rs`
/// re-exports); the rooms behind it stay `pub` for the integration tests alone.
#[test]
fn the_front_doors_name_only_the_engines_face() {
    let doors = sources(&root().join("src"));
    assert!(doors.len() > 50, "the scan found too few files");
    let mut reaching = Vec::new();
    for (path, text) in &doors {
        for named in past_the_face(text) {
            reaching.push(format!("{}: {named}", path.display()));
        }
    }
    assert!(
        reaching.is_empty(),
        "past the engine's face:\n{}",
        reaching.join("\n")
    );
}

#[test]
fn a_path_past_the_face_is_seen_also_inside_a_group() {
    let engine = ["engine", "::"].concat();
    let text = format!(
        "use crate::{engine}Context;\n\
         use crate::{engine}{{Engine, container::Status}};\n\
         let x = berth::{engine}storage::copy::pump(a, b);\n\
         use crate::{engine}{{sealed, Status}};\n\
         berth::{engine}sealed::name_process();\n\
         let e: crate::{engine}Error = todo;"
    );
    assert_eq!(
        past_the_face(&text),
        [
            format!("{engine}container::Status"),
            format!("{engine}storage::copy::pump"),
        ]
    );
}
