//! The ipvlan driver: like macvlan, a link per container stacked on `-o parent=`, but
//! sharing the parent's MAC. Kernels built without ipvlan (this one has no module) get a
//! plain error saying so when a container is wired.

use std::os::fd::BorrowedFd;
use std::str::FromStr;

use netlink_packet_route::link::{InfoData, InfoIpVlan, InfoKind, IpVlanMode, LinkInfo};
use nix::errno::Errno;

use super::{HostEnd, NetworkDriver};
use crate::error::{Error, Result};
use crate::ids::ContainerId;
use crate::network::link;
use crate::network::netlink::Netlink;
use crate::network::record::{Endpoint, NetworkRecord};

/// An ipvlan network's driver.
pub(crate) struct Ipvlan<'a> {
    network: &'a NetworkRecord,
}

impl<'a> Ipvlan<'a> {
    pub(crate) fn new(network: &'a NetworkRecord) -> Ipvlan<'a> {
        Ipvlan { network }
    }
}

impl NetworkDriver for Ipvlan<'_> {
    /// Nothing to make: the parent interface is the user's.
    fn create(&mut self, _nl: &mut Netlink) -> Result<()> {
        Ok(())
    }

    fn remove(&self, _nl: &mut Netlink) -> Result<()> {
        Ok(())
    }

    fn wire(
        &self,
        nl: &mut Netlink,
        netns: BorrowedFd<'_>,
        _container: &ContainerId,
        endpoint: &Endpoint,
    ) -> Result<Option<HostEnd>> {
        let parent = super::parent(self.network)?;
        let mode = match self.network.options.get("ipvlan_mode") {
            Some(mode) => mode.parse()?,
            None => IpvlanMode::L2,
        };
        create_ipvlan(nl, parent, mode, netns, &endpoint.interface)?;
        Ok(None)
    }

    /// Nothing on the host: the container's link lives only in its namespace.
    fn unwire(&self, _nl: &mut Netlink, _end: &HostEnd) -> Result<()> {
        Ok(())
    }
}

/// Ipvlan modes (`-o ipvlan_mode=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpvlanMode {
    L2,
    L3,
    L3s,
}

impl FromStr for IpvlanMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "l2" => Ok(Self::L2),
            "l3" => Ok(Self::L3),
            "l3s" => Ok(Self::L3s),
            _ => Err(Error::invalid("ipvlan mode", s, "expected l2, l3 or l3s")),
        }
    }
}

/// Creates an ipvlan on host link `parent`, directly inside `container_netns` as `name`.
/// A kernel without ipvlan gets a plain error saying so.
pub fn create_ipvlan(
    nl: &mut Netlink,
    parent: &str,
    mode: IpvlanMode,
    container_netns: BorrowedFd<'_>,
    name: &str,
) -> Result<()> {
    let mode = match mode {
        IpvlanMode::L2 => IpVlanMode::L2,
        IpvlanMode::L3 => IpVlanMode::L3,
        IpvlanMode::L3s => IpVlanMode::L3S,
    };
    let info = vec![
        LinkInfo::Kind(InfoKind::IpVlan),
        LinkInfo::Data(InfoData::IpVlan(vec![InfoIpVlan::Mode(mode)])),
    ];
    let what = format!("creating ipvlan {name} on {parent}");
    link::create_sublink(nl, parent, info, container_netns, name, &what)?.map_err(|nack| {
        // An unknown link kind is EOPNOTSUPP ("Unknown device type") once module loading
        // found nothing.
        if nack.errno == Errno::EOPNOTSUPP {
            Error::Runtime(format!("{what}: the kernel has no ipvlan support"))
        } else {
            nack.into_error(&what)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse() {
        assert_eq!("l3".parse::<IpvlanMode>().unwrap(), IpvlanMode::L3);
        assert_eq!("l3s".parse::<IpvlanMode>().unwrap(), IpvlanMode::L3s);
        assert!("l4".parse::<IpvlanMode>().is_err());
    }
}
