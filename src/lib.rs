//! berth: a terminal workstation for containers with its own daemonless engine.

#[cfg(test)]
mod architecture;
pub mod cli;
// The engine is its own crate (crates/engine); front doors reach it under this name.
pub use berth_engine as engine;
pub mod format;
pub mod ops;
pub mod settings;
pub mod tui;
