//! Container networking, Docker's model: network records and addresses, bridges and
//! veths, the firewall and published ports.

pub mod firewall;
pub mod ipam;
pub mod ports;
pub mod record;
pub mod store;
#[cfg(test)]
mod testns;
