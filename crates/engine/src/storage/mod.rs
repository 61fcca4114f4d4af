//! Container filesystems: the overlay root with its per-container writable layer, what is
//! mounted into it (volumes, binds and tmpfs), and the changes a container made to its
//! image (`diff`), copies in and out (`copy`, `progress`) and listings (`listing`).

pub(crate) mod beside;
pub mod copy;
pub mod diff;
pub mod export;
pub mod fsview;
pub mod listing;
pub mod mounts;
pub mod overlay;
pub mod progress;
mod readahead;
pub mod volumes;
