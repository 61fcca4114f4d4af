//! berth: a terminal workstation for containers with its own daemonless engine.

// Docker's inspect shape is one `json!` too deep for the default limit.
#![recursion_limit = "256"]

#[cfg(test)]
mod architecture;
mod cli;
// The CLI is private, so the dead-code lint sees all of it; the binary (src/main.rs)
// reaches it through these.
pub use cli::{run as run_cli, start_run_ahead, usage as cli_usage, Cli};
// The engine is its own crate (crates/engine); front doors reach it under this name.
pub use berth_engine as engine;
pub mod compose;
pub mod format;
pub mod ops;
pub mod settings;
pub mod tui;
