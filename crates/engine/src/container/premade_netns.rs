//! A container's network namespace, made while its monitor waits for the go.
//!
//! A network namespace is the costliest of a container's namespaces to make (0.4 ms
//! here, against 0.06 ms for a mount namespace), and a monitor started ahead of its
//! container (`run`) is idle until its starter has made the record. When the container
//! is to have a network namespace of its own, the monitor makes it then, on a thread of
//! its own (the monitor itself stays in the host's), with the loopback up, and keeps a
//! descriptor of it. Init is then made inside it ([`enter`]) instead of in a new one.

use std::os::fd::{AsFd, OwnedFd};
use std::thread::JoinHandle;

use nix::sched::CloneFlags;

use crate::error::{Error, Result};

/// The thread making a network namespace (see [`start_making`]).
pub(crate) struct Making(JoinHandle<Option<OwnedFd>>);

/// Starts making a network namespace on a thread of its own. None if no thread starts.
pub(crate) fn start_making() -> Option<Making> {
    std::thread::Builder::new()
        .name("netns-ahead".into())
        .spawn(|| make().ok())
        .ok()
        .map(Making)
}

impl Making {
    /// The namespace made, once it is; None if it could not be (the container then gets
    /// a new one at its clone, as without this).
    pub(crate) fn finish(self) -> Option<OwnedFd> {
        self.0.join().ok().flatten()
    }
}

/// A new network namespace with its loopback up. Run on a thread that ends after: the
/// namespace is the thread's own from the unshare on.
fn make() -> std::io::Result<OwnedFd> {
    nix::sched::unshare(CloneFlags::CLONE_NEWNET)?;
    super::runtime::loopback::bring_up().map_err(|(_, e)| e)?;
    Ok(std::fs::File::open("/proc/thread-self/ns/net")?.into())
}

/// The calling thread inside another network namespace, until [`Inside::leave`].
pub(crate) struct Inside {
    own: OwnedFd,
}

/// Puts the calling thread in network namespace `ns`; the processes it clones meanwhile
/// are made there.
pub(crate) fn enter(ns: &OwnedFd) -> Result<Inside> {
    let own: OwnedFd = std::fs::File::open("/proc/thread-self/ns/net")
        .map_err(|err| Error::Io {
            context: "opening this thread's network namespace".into(),
            err,
        })?
        .into();
    nix::sched::setns(ns.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|err| Error::Sys {
        context: "entering the container's network namespace".into(),
        err,
    })?;
    Ok(Inside { own })
}

impl Inside {
    /// Back to the thread's own network namespace. A caller that can't get back must
    /// not go on: whatever it opens or wires next would be the container's.
    pub(crate) fn leave(self) -> Result<()> {
        nix::sched::setns(self.own.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|err| Error::Sys {
            context: "returning to the monitor's network namespace".into(),
            err,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    fn inode_of(path: &str) -> u64 {
        std::fs::metadata(path).unwrap().ino()
    }

    #[test]
    fn a_namespace_made_ahead_is_new_has_its_loopback_up_and_is_left_again() {
        let ns = start_making().unwrap().finish().expect("a namespace");
        let made = rustix::fs::fstat(&ns).unwrap().st_ino;
        // On a thread of its own: the test harness's threads stay where they are.
        std::thread::spawn(move || {
            let own = inode_of("/proc/thread-self/ns/net");
            assert_ne!(made, own, "a namespace of its own");
            let inside = enter(&ns).unwrap();
            assert_eq!(inode_of("/proc/thread-self/ns/net"), made);
            // 127.0.0.1 exists only once the loopback is up.
            let loopback = std::net::UdpSocket::bind("127.0.0.1:0").expect("loopback up");
            assert!(loopback.local_addr().unwrap().port() > 0);
            drop(loopback);
            // Up already: bring_up finds IFF_UP set and leaves it.
            super::super::runtime::loopback::bring_up().unwrap();
            inside.leave().unwrap();
            assert_eq!(inode_of("/proc/thread-self/ns/net"), own);
        })
        .join()
        .unwrap();
    }
}
