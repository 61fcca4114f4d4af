//! The `layer_tar` fuzz target. What it checks is in checks/layer_tar.rs, shared with the
//! corpus replay test (tests/engine/fuzz_corpus.rs), which runs every committed input
//! through it without libFuzzer.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/layer_tar.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::run(data));
