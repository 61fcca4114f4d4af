//! Container networking, Docker's model: network records and addresses, links over netlink
//! (one driver a file: bridge, macvlan, ipvlan), the firewall and published ports, and the
//! live link state.

pub mod dns;
pub mod driver;
pub mod firewall;
pub mod ipam;
pub mod link;
pub mod live;
pub mod mac;
pub mod names;
pub mod netlink;
pub mod ports;
pub mod record;
pub mod sandbox;
pub mod state;
pub mod store;
#[cfg(test)]
mod testns;
