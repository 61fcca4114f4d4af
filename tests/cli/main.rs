//! The CLI's verbs as Docker users meet them, one test binary (each binary links the
//! whole crate, so the suite builds faster as a few): output, flags and exit codes, cp,
//! diff, events, stats, the README's examples and the set-up scripts.
//! Each module was a binary of its own; `cargo test --test cli MODULE::` runs one.

// A test's helpers may unwrap too: a panic is the failure report (clippy.toml allows
// unwrap only inside #[test] functions).
#![allow(clippy::unwrap_used)]

#[path = "../common/mod.rs"]
mod common;

mod build;
mod build_podman;
mod compose;
mod compose_load;
mod cp;
mod diff;
mod docker_shape;
mod events;
mod format;
mod health;
mod limits;
mod listing;
mod management;
mod parity_fixes;
mod readme;
mod resource_flags;
mod restart;
mod run_help;
mod scripts;
mod stats;
mod verbs;
