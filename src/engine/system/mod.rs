//! Whole-engine maintenance: `system check [--repair]`, `system prune`, `system info`.

pub mod check;
pub mod prune;

pub use check::{Finding, Kind, Repair};
pub use prune::{Info, Pruned};
