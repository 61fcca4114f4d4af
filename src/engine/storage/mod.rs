//! Container filesystems: the overlay root with its per-container writable layer, and the
//! changes a container made to its image (`diff`).

pub mod diff;
pub mod overlay;
