//! Docker's semantics, once, for every front door: the CLI, the dashboard, compose and the
//! API call these typed operations and only parse input and render output themselves.
//! Operations drive the engine's verbs and know nothing of terminals, clap or ratatui.

pub mod build_record;
pub mod cp;
pub mod docker_types;
pub mod inspect;
pub mod ports;
pub mod prune;
pub mod resolve;
pub mod run_options;
pub mod start;
pub mod status;
