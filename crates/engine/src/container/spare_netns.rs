//! A network namespace made by a monitor started ahead, while it waits for its go.
//!
//! Making a network namespace is most of the clone that creates a container's init (half
//! a millisecond: the kernel registers the loopback device and every protocol's state for
//! it), and a monitor started ahead of its container's record is often idle, waiting for
//! its starter to finish the container. So it makes one then, on a thread of its own (a
//! namespace made by `unshare` is its thread's alone), and init enters it instead of
//! making its own, when the container gets a network namespace of its own. Nothing but
//! this monitor ever held it; unused (a container on the host's network), it goes with
//! the last descriptor.

use std::os::fd::OwnedFd;

use nix::fcntl::OFlag;
use nix::sched::CloneFlags;
use nix::sys::stat::Mode;

use super::runtime::other_cpu::Cpus;

/// A network namespace being made, or made.
pub(crate) struct SpareNetns(Option<std::thread::JoinHandle<nix::Result<OwnedFd>>>);

impl SpareNetns {
    /// Starts making one, on this thread's CPU: it is meant for a wait, and another CPU
    /// may be busy with the starter's work.
    pub(crate) fn make() -> SpareNetns {
        let here = Cpus::this_one();
        let thread = std::thread::Builder::new()
            .name("spare-netns".into())
            .spawn(move || {
                if let Some(here) = here {
                    here.apply();
                }
                nix::sched::unshare(CloneFlags::CLONE_NEWNET)?;
                nix::fcntl::open(
                    "/proc/thread-self/ns/net",
                    OFlag::O_RDONLY | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )
            })
            .ok();
        SpareNetns(thread)
    }

    /// None to take: a start that makes its namespaces in its clone.
    pub(crate) fn none() -> SpareNetns {
        SpareNetns(None)
    }

    /// The namespace, once made; None if it could not be.
    pub(crate) fn take(&mut self) -> Option<OwnedFd> {
        self.0.take()?.join().ok()?.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    fn inode(path: &str) -> u64 {
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(path).unwrap())
    }

    #[test]
    fn the_namespace_is_new_and_this_thread_stays_where_it_was() {
        let before = inode("/proc/thread-self/ns/net");
        let spare = SpareNetns::make()
            .take()
            .expect("a network namespace (tests run as root)");
        assert_eq!(
            inode("/proc/thread-self/ns/net"),
            before,
            "this thread did not move"
        );
        let spare_inode = nix::sys::stat::fstat(spare.as_fd()).unwrap().st_ino;
        assert_ne!(spare_inode, before, "a namespace of its own");
        assert!(SpareNetns::none().take().is_none());
    }
}
