//! The dashboard, one test binary (each binary links the whole crate, so the suite
//! builds faster as a few): rendered frames against reviewed insta snapshots (in
//! `snapshots/` here), the file view's copies, and the real binary driven in tmux.
//! Each module was a binary of its own; `cargo test --test ui MODULE::` runs one.

// A test's helpers may unwrap too: a panic is the failure report (clippy.toml allows
// unwrap only inside #[test] functions).
#![allow(clippy::unwrap_used)]

#[path = "../common/mod.rs"]
mod common;

mod ui;
mod ui_e2e;
mod ui_files;
