//! Container filesystems: the overlay root with its per-container writable layer, and
//! what is mounted into it: volumes, binds and tmpfs.

pub mod copy;
pub mod fsview;
pub mod mounts;
pub mod overlay;
