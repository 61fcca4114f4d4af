//! berth: a terminal workstation for containers with its own daemonless engine.

pub mod cli;
pub mod engine;
pub mod format;
pub mod settings;
pub mod tui;
