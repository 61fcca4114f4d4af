//! Networks: Docker's network model for berth's containers.

pub mod ipam;
pub mod record;
pub mod store;
