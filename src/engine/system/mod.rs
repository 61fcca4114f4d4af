//! Whole-engine maintenance: `system check [--repair]`.

pub mod check;

pub use check::{Finding, Kind, Repair};
