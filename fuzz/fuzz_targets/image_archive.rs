//! The `image_archive` fuzz target. What it checks is in checks/image_archive.rs, shared with the
//! corpus replay test (tests/engine/fuzz_corpus.rs), which runs every committed input
//! through it without libFuzzer.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/image_archive.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::run(data));
