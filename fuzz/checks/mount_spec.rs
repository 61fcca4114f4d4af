//! `-v`, `--mount` and `--tmpfs` specs, and `-m`/`--cpus` values: parsing never panics, and
//! an accepted mount always has an absolute container path without `..` that is not `/`.
//! Shared by the fuzz target and the corpus replay test (tests/engine/fuzz_corpus.rs).

use berth::engine::storage::mounts::MountSpec;
use berth::ops::run_options::{parse_cpus, parse_memory};

/// One input; panics on what the target exists to catch.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        // libFuzzer hands a `&str` target only UTF-8 input.
        return;
    };
    // Where a relative bind source is read from (`-v ./data:/x`); joined, never touched.
    let cwd = std::path::Path::new("/fuzz/cwd");
    for spec in [
        MountSpec::parse_volume_flag(text, cwd),
        MountSpec::parse_mount_flag(text, cwd),
        MountSpec::parse_tmpfs_flag(text),
    ]
    .into_iter()
    .flatten()
    {
        let dest = &spec.destination;
        assert!(dest.starts_with('/') && dest != "/", "{text:?} -> {dest:?}");
        assert!(!dest.split('/').any(|p| p == ".."), "{text:?} -> {dest:?}");
    }
    let _ = parse_memory(text);
    let _ = parse_cpus(text);
}
