//! Whole-engine maintenance: `system check [--repair]`, `system prune`, `system info`.

pub mod check;
pub mod df;
pub mod info;
pub mod prune;

pub use check::{Finding, Kind, Repair};
pub use df::{ContainerUsage, DiskUsage, ImageUsage, UsageTotals, VolumeUsage};
pub use info::Info;
pub use prune::Pruned;
