//! Container filesystems: the overlay root with its per-container writable layer.

pub mod overlay;
