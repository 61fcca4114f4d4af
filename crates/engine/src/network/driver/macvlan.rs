//! The macvlan driver: each container gets a link of its own stacked on the host interface
//! named by `-o parent=`, with its own MAC, made straight inside its namespace. The host
//! keeps nothing per network or per container: the parent is the user's, and the
//! container's link goes with its namespace.

use std::os::fd::BorrowedFd;
use std::str::FromStr;

use netlink_packet_route::link::{InfoData, InfoKind, InfoMacVlan, LinkInfo, MacVlanMode};

use super::{HostEnd, NetworkDriver};
use crate::error::{Error, Result};
use crate::ids::ContainerId;
use crate::network::link;
use crate::network::netlink::Netlink;
use crate::network::record::{Endpoint, NetworkRecord};

/// A macvlan network's driver.
pub(crate) struct Macvlan<'a> {
    network: &'a NetworkRecord,
}

impl<'a> Macvlan<'a> {
    pub(crate) fn new(network: &'a NetworkRecord) -> Macvlan<'a> {
        Macvlan { network }
    }
}

impl NetworkDriver for Macvlan<'_> {
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
        let mode = match self.network.options.get("macvlan_mode") {
            Some(mode) => mode.parse::<MacvlanMode>()?,
            None => MacvlanMode::Bridge,
        };
        create_macvlan(nl, parent, mode, netns, &endpoint.interface)?;
        Ok(None)
    }

    /// Nothing on the host: the container's link lives only in its namespace.
    fn unwire(&self, _nl: &mut Netlink, _end: &HostEnd) -> Result<()> {
        Ok(())
    }
}

/// Macvlan modes (`-o macvlan_mode=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacvlanMode {
    Bridge,
    Private,
    Vepa,
    Passthru,
}

impl FromStr for MacvlanMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "bridge" => Ok(Self::Bridge),
            "private" => Ok(Self::Private),
            "vepa" => Ok(Self::Vepa),
            "passthru" => Ok(Self::Passthru),
            _ => Err(Error::invalid(
                "macvlan mode",
                s,
                "expected bridge, private, vepa or passthru",
            )),
        }
    }
}

/// Creates a macvlan on host link `parent`, directly inside `container_netns` as `name`.
pub fn create_macvlan(
    nl: &mut Netlink,
    parent: &str,
    mode: MacvlanMode,
    container_netns: BorrowedFd<'_>,
    name: &str,
) -> Result<()> {
    let mode = match mode {
        MacvlanMode::Bridge => MacVlanMode::Bridge,
        MacvlanMode::Private => MacVlanMode::Private,
        MacvlanMode::Vepa => MacVlanMode::Vepa,
        MacvlanMode::Passthru => MacVlanMode::Passthrough,
    };
    let info = vec![
        LinkInfo::Kind(InfoKind::MacVlan),
        LinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(mode)])),
    ];
    let what = format!("creating macvlan {name} on {parent}");
    link::create_sublink(nl, parent, info, container_netns, name, &what)?
        .map_err(|nack| nack.into_error(&what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse() {
        assert_eq!(
            "bridge".parse::<MacvlanMode>().unwrap(),
            MacvlanMode::Bridge
        );
        assert_eq!(
            "passthru".parse::<MacvlanMode>().unwrap(),
            MacvlanMode::Passthru
        );
        assert!("l2".parse::<MacvlanMode>().is_err());
    }
}
