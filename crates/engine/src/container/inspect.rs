//! What `inspect` shows of a container beyond its record, as typed data: where its files
//! are, its mounts and its networks. Docker's JSON shape is the front doors' to make.

use std::path::PathBuf;

use super::record::ContainerRecord;
use crate::network::record::{Endpoint, NetworkRecord};
use crate::storage::mounts::MountView;
use crate::storage::overlay::OverlayDirs;
use crate::Engine;

/// A container's places on the host and its attachments, for `inspect`.
#[derive(Debug, Clone)]
pub struct ContainerDetails {
    /// The container's own directory (hostname, hosts, resolv.conf, the log).
    pub dir: PathBuf,
    pub overlay: OverlayDirs,
    /// Every mount besides the root, with its host source.
    pub mounts: Vec<MountView>,
    /// The networks it is attached to, with its endpoint on each (eth0 first).
    pub endpoints: Vec<(NetworkRecord, Endpoint)>,
}

impl Engine {
    /// What `inspect` shows of `record` that its record doesn't hold. Networks that can't
    /// be read show as none: inspect still shows the rest, as before.
    pub fn container_details(&self, record: &ContainerRecord) -> ContainerDetails {
        ContainerDetails {
            dir: self.container_dir(&record.id),
            overlay: self.overlay_of(record),
            mounts: self.container_mounts(record),
            endpoints: self.container_endpoints_of(record).unwrap_or_default(),
        }
    }
}
