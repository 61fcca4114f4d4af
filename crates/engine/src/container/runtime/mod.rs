//! A lean OCI runtime on `nix`: clone into new namespaces, build the mount tree inside the
//! root, pivot_root, drop privileges, exec. See `init.rs` for the order of operations.

pub mod cgroups;
pub mod creds;
pub mod fds;
pub mod init;
pub mod process;
pub mod sealed;
