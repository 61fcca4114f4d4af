//! The root filesystem of a `run`'s container, mounted by its monitor before the go.
//!
//! A monitor started ahead (see `Engine::monitor_ahead`) waits while its starter makes the
//! container, then mounts the container's overlay once it has the go: a quarter of a
//! millisecond of the start, on the path to the container's process. Its starter knows
//! the layers as soon as the container's directory is settled, before it allocates the
//! network endpoint and writes the engine's files and the record; so it sends them then,
//! and the monitor mounts while the starter finishes. The record stays the truth: the
//! monitor checks that it names the layers it mounted, and mounts again if not.
//!
//! The message on the control socket: [`TAG`], one byte that is 1 for a throwaway layer
//! (`--rm`, see `ContainerConfig::is_throwaway`), the length of the rest (u32, little
//! endian), then the chain IDs, one per line, lowest layer first.

use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;

use super::record::ContainerRecord;
use crate::ids::{ContainerId, Digest};
use crate::state::Durability;
use crate::storage::overlay::OverlayDirs;
use crate::Engine;

/// The first byte of the message (the go is another).
pub(crate) const TAG: u8 = b'm';

/// The most chain IDs one message may name: Docker's own limit on an image's layers is
/// 127; a message beyond this is a broken starter's.
const MAX_LAYERS: usize = 512;

/// What a monitor mounted ahead of the go.
#[derive(Debug, PartialEq)]
pub(crate) struct EarlyMount {
    chain_ids: Vec<Digest>,
    throwaway: bool,
}

/// Asks the monitor at the other end of `stream` to mount the container's root with the
/// layers `chain_ids` now.
pub(crate) fn send(
    mut stream: &UnixStream,
    chain_ids: &[Digest],
    throwaway: bool,
) -> std::io::Result<()> {
    stream.write_all(&encode(chain_ids, throwaway))
}

fn encode(chain_ids: &[Digest], throwaway: bool) -> Vec<u8> {
    let lines: Vec<String> = chain_ids.iter().map(Digest::to_string).collect();
    let text = lines.join("\n");
    let mut message = vec![TAG, u8::from(throwaway)];
    message.extend_from_slice(&(text.len() as u32).to_le_bytes());
    message.extend_from_slice(text.as_bytes());
    message
}

/// Reads the rest of a message whose [`TAG`] was just read from `control`; None if it
/// is cut short or doesn't parse.
pub(crate) fn receive(control: &OwnedFd) -> Option<EarlyMount> {
    let mut head = [0u8; 5];
    read_exact(control, &mut head)?;
    let throwaway = match head[0] {
        0 => false,
        1 => true,
        _ => return None,
    };
    let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if len > MAX_LAYERS * 80 {
        return None;
    }
    let mut text = vec![0u8; len];
    read_exact(control, &mut text)?;
    decode(&text, throwaway)
}

fn decode(text: &[u8], throwaway: bool) -> Option<EarlyMount> {
    let text = std::str::from_utf8(text).ok()?;
    let chain_ids = if text.is_empty() {
        Vec::new()
    } else {
        text.split('\n')
            .map(|line| line.parse::<Digest>().ok())
            .collect::<Option<Vec<_>>>()?
    };
    (chain_ids.len() <= MAX_LAYERS).then_some(EarlyMount {
        chain_ids,
        throwaway,
    })
}

fn read_exact(control: &OwnedFd, mut buf: &mut [u8]) -> Option<()> {
    while !buf.is_empty() {
        match nix::unistd::read(control, buf) {
            Ok(0) => return None,
            Ok(n) => buf = &mut buf[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return None,
        }
    }
    Some(())
}

impl EarlyMount {
    /// Mounts container `id`'s root as asked, in this process's mount namespace (the
    /// monitor's own). False if it could not be: the start mounts it then, and reports
    /// why it can't.
    pub(crate) fn mount(&self, engine: &Engine, id: &ContainerId) -> bool {
        self.overlay(engine, id)
            .mount_with(self.durability())
            .is_ok()
    }

    /// Whether `record` names the layers mounted, with the same durability.
    pub(crate) fn matches(&self, record: &ContainerRecord) -> bool {
        self.chain_ids == record.chain_ids && self.throwaway == record.config.is_throwaway()
    }

    fn overlay(&self, engine: &Engine, id: &ContainerId) -> OverlayDirs {
        let lower = self
            .chain_ids
            .iter()
            .map(|c| engine.layer_diff_dir(c))
            .collect();
        OverlayDirs::in_container_dir(&engine.container_dir(id), lower)
    }

    fn durability(&self) -> Durability {
        if self.throwaway {
            Durability::Unsynced
        } else {
            Durability::Synced
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(c: char) -> Digest {
        format!("sha256:{}", c.to_string().repeat(64))
            .parse()
            .unwrap()
    }

    #[test]
    fn a_message_reads_back_as_it_was_sent() {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let chains = [digest('a'), digest('b')];
        send(&ours, &chains, true).unwrap();
        send(&ours, &[], false).unwrap();
        let control = OwnedFd::from(theirs);
        let mut tag = [0u8; 1];
        for (want_chains, want_throwaway) in [(&chains[..], true), (&[][..], false)] {
            read_exact(&control, &mut tag).unwrap();
            assert_eq!(tag[0], TAG);
            assert_eq!(
                receive(&control),
                Some(EarlyMount {
                    chain_ids: want_chains.to_vec(),
                    throwaway: want_throwaway,
                })
            );
        }
    }

    #[test]
    fn a_broken_message_is_refused() {
        assert_eq!(decode(b"sha256:nothex", false), None);
        assert_eq!(decode(b"../../etc", false), None);
        assert_eq!(decode(&[0xff, 0xfe], false), None);
        let mut message = encode(&[digest('a')], false);
        message[1] = 7;
        let (ours, theirs) = UnixStream::pair().unwrap();
        (&ours).write_all(&message[1..]).unwrap();
        assert_eq!(receive(&OwnedFd::from(theirs)), None, "throwaway byte 7");
        let (ours, theirs) = UnixStream::pair().unwrap();
        (&ours).write_all(&message[1..4]).unwrap();
        drop(ours);
        assert_eq!(receive(&OwnedFd::from(theirs)), None, "cut short");
        let mut huge = vec![0u8];
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        let (ours, theirs) = UnixStream::pair().unwrap();
        (&ours).write_all(&huge).unwrap();
        assert_eq!(receive(&OwnedFd::from(theirs)), None, "too long");
    }
}
