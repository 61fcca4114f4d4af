//! Container networking: bridges, addresses, the firewall and published ports.

pub mod ports;
#[cfg(test)]
mod testns;
