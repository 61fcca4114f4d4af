//! `-v`, `--mount` and `--tmpfs` specs, and `-m`/`--cpus` values: parsing never panics, and
//! an accepted mount always has an absolute container path without `..` that is not `/`.
#![no_main]

use berth::cli::parse::{parse_cpus, parse_memory};
use berth::engine::storage::mounts::MountSpec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for parsed in [
        MountSpec::parse_volume_flag(text),
        MountSpec::parse_mount_flag(text),
        MountSpec::parse_tmpfs_flag(text),
    ] {
        if let Ok(spec) = parsed {
            let dest = &spec.destination;
            assert!(dest.starts_with('/') && dest != "/", "{text:?} -> {dest:?}");
            assert!(!dest.split('/').any(|p| p == ".."), "{text:?} -> {dest:?}");
        }
    }
    let _ = parse_memory(text);
    let _ = parse_cpus(text);
});
