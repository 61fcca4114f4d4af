//! One file per popup.

pub mod build_form;
pub mod command;
pub mod confirm;
pub mod help;
pub mod output;
pub mod progress;
pub mod pull;
pub mod run_form;
