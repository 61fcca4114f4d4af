//! Every committed fuzz input (fuzz/corpus/TARGET and fuzz/seeds/TARGET) replayed through
//! its target's check without libFuzzer, so the plain test suite keeps what fuzzing found:
//! an input that once crashed a parser, kept as a seed, stays fixed.

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

#[path = "../../fuzz/checks/mod.rs"]
mod checks;

/// A fuzz target's check: panics on what the target exists to catch.
type Check = fn(&[u8]);

/// Each fuzz target (fuzz/fuzz_targets/NAME.rs) and the check it runs.
const TARGETS: &[(&str, Check)] = &[
    ("image_archive", checks::image_archive::run),
    ("image_ref", checks::image_ref::run),
    ("layer_tar", checks::layer_tar::run),
    ("mount_spec", checks::mount_spec::run),
    ("net_input", checks::net_input::run),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The committed inputs of `target`, corpus and seeds.
fn inputs(target: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for kind in ["corpus", "seeds"] {
        let dir = fuzz_dir().join(kind).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("read a fuzz input directory").path();
            if path.is_file() {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Runs every input of `target` through `check`; fails naming each input that panicked.
fn replay(target: &str) {
    let check = TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, check)| *check)
        .expect("a known target");
    let inputs = inputs(target);
    assert!(!inputs.is_empty(), "no committed inputs for {target}");
    let failed: Vec<_> = inputs
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("read a fuzz input");
            catch_unwind(AssertUnwindSafe(|| check(&data))).is_err()
        })
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} {target} inputs panicked: {failed:?}",
        failed.len(),
        inputs.len()
    );
}

#[test]
fn every_fuzz_target_is_replayed() {
    let targets: BTreeSet<String> = std::fs::read_dir(fuzz_dir().join("fuzz_targets"))
        .expect("read fuzz/fuzz_targets")
        .map(|entry| entry.expect("a fuzz target").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let replayed: BTreeSet<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(targets, replayed, "a fuzz target without a replay here");
}

#[test]
fn image_archive_corpus_replays() {
    replay("image_archive");
}

#[test]
fn image_ref_corpus_replays() {
    replay("image_ref");
}

#[test]
fn layer_tar_corpus_replays() {
    replay("layer_tar");
}

#[test]
fn mount_spec_corpus_replays() {
    replay("mount_spec");
}

#[test]
fn net_input_corpus_replays() {
    replay("net_input");
}
