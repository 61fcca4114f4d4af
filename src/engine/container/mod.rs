//! Containers: records, lifecycle, the runtime that builds their isolation, and the
//! monitor process that supervises each one.

pub mod record;
mod store;

pub use record::{ContainerConfig, ContainerRecord, ContainerState, Resources, Status};
