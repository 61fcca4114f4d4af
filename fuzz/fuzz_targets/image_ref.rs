//! The `image_ref` fuzz target. What it checks is in checks/image_ref.rs, shared with the
//! corpus replay test (tests/engine/fuzz_corpus.rs), which runs every committed input
//! through it without libFuzzer.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/image_ref.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::run(data));
