//! The `mount_spec` fuzz target. What it checks is in checks/mount_spec.rs, shared with the
//! corpus replay test (tests/engine/fuzz_corpus.rs), which runs every committed input
//! through it without libFuzzer.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/mount_spec.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::run(data));
