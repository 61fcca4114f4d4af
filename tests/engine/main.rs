//! The engine's scenarios, one test binary (each binary links the whole crate, so the
//! suite builds faster as a few): containers, mounts and images end to end, registries
//! real and hostile, networks from the kernel's links up to containers talking.
//! Each module was a binary of its own; `cargo test --test engine MODULE::` runs one.

// A test's helpers may unwrap too: a panic is the failure report (clippy.toml allows
// unwrap only inside #[test] functions).
#![allow(clippy::unwrap_used)]

#[path = "../common/mod.rs"]
mod common;

mod containers;
mod fixture_archives;
mod fuzz_corpus;
mod images;
mod lifecycle;
mod network;
mod network_link;
mod network_state;
mod networking;
mod pull_progress;
mod registry;
mod registry_auth;
mod registry_bounds;
mod registry_push;
mod registry_search;
mod run_options;
mod run_options_net;
mod storage;
