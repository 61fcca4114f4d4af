//! Container networking: bridges, addresses, the firewall and published ports.

pub mod dns;
pub mod firewall;
pub mod ports;
#[cfg(test)]
mod testns;
