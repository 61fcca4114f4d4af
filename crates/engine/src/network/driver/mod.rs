//! Network drivers, one a file. Each makes and removes its network's host side and wires a
//! container's endpoint into it; what every driver shares (the endpoint's address, MAC and
//! routes inside the container, the ports, the firewall, the records) stays in the sandbox.

pub mod bridge;
pub mod ipvlan;
pub mod macvlan;

use std::os::fd::BorrowedFd;

use super::netlink::Netlink;
use super::record::{Driver, Endpoint, NetworkRecord};
use crate::error::{Error, Result};
use crate::ids::ContainerId;

/// Every link berth makes has this MTU, Docker's default.
pub(crate) const MTU: u32 = 1500;

/// One network's driver, bound to its record.
pub(crate) trait NetworkDriver {
    /// Makes the network's host side if it is missing (cheap when it is there): called
    /// before each endpoint is wired, as networks are made lazily on first use.
    fn create(&mut self, nl: &mut Netlink) -> Result<()>;

    /// Removes the network's host side, only what this network made itself.
    fn remove(&self, nl: &mut Netlink) -> Result<()>;

    /// Creates the container's interface (`endpoint.interface`) directly inside `netns`,
    /// joined to the host side made by [`NetworkDriver::create`]. Returns the name of the
    /// link it left on the host for this endpoint, empty if none.
    fn wire(
        &self,
        nl: &mut Netlink,
        netns: BorrowedFd<'_>,
        container: &ContainerId,
        endpoint: &Endpoint,
    ) -> Result<String>;

    /// Removes what [`NetworkDriver::wire`] left on the host for `endpoint`, once the
    /// container's processes are gone; something the kernel already took is skipped.
    fn unwire(&self, nl: &mut Netlink, endpoint: &Endpoint) -> Result<()>;
}

/// The driver of `network`, `None` for `host` and `none`, which have no links of their own.
pub(crate) fn for_network(network: &NetworkRecord) -> Option<Box<dyn NetworkDriver + '_>> {
    match network.driver {
        Driver::Bridge => Some(Box::new(bridge::Bridge::new(network))),
        Driver::Macvlan => Some(Box::new(macvlan::Macvlan::new(network))),
        Driver::Ipvlan => Some(Box::new(ipvlan::Ipvlan::new(network))),
        Driver::Host | Driver::Null => None,
    }
}

/// The host interface a macvlan or ipvlan network stacks its links on (`-o parent=`).
fn parent(network: &NetworkRecord) -> Result<&str> {
    network
        .options
        .get("parent")
        .map(String::as_str)
        .ok_or_else(|| {
            Error::Runtime(format!(
                "network {} has no -o parent= interface",
                network.name
            ))
        })
}
