//! A lean OCI runtime on `nix`: clone into new namespaces, build the mount tree inside the
//! root, pivot_root, drop privileges, exec. See `init.rs` for the order of operations and
//! `mount_plan.rs` for the mount sequence it performs.

pub mod cgroups;
pub mod creds;
pub mod device_filter;
pub mod fds;
pub(crate) mod in_root;
pub mod init;
pub(crate) mod mount_plan;
pub mod other_cpu;
pub mod process;
pub(crate) mod reaper;
pub mod sealed;
pub(crate) mod spawn;
