//! Container networks: links, addresses and routes in the kernel, and their live state.

pub mod link;
pub mod live;
pub mod netlink;
