//! Attaching to a running container's monitor: the socket it listens on, then frames
//! (see [`super::frames`]).

use std::io;

use std::os::unix::net::UnixStream;

use super::frames::{read_frame, Kind};
use super::lifecycle::Started;
use super::monitor::{open_dir, socket_path, ATTACH_SOCKET};
use super::record::Status;
use crate::error::{Context, Error, Result};
use crate::Engine;

impl Engine {
    /// Connects to a running container's monitor, as `start -a` is connected: its output
    /// from now on, and the exit code when it ends. Any number may be attached at once.
    pub fn attach_container(&self, name_or_id: &str) -> Result<Started> {
        let record = self.container(name_or_id)?;
        if record.state.status != Status::Running {
            return Err(Error::Conflict(
                "You cannot attach to a stopped container, start it first".into(),
            ));
        }
        if record.state.is_paused() {
            return Err(Error::Conflict(
                "You cannot attach to a paused container, unpause it first".into(),
            ));
        }
        let dir = open_dir(&self.container_dir(&record.id))?;
        let gone = || Error::Conflict(format!("container {} is not running", record.name));
        let mut stream = UnixStream::connect(socket_path(&dir, ATTACH_SOCKET)).map_err(|e| {
            match e.kind() {
                // No socket, or no monitor behind it: the container ended meanwhile.
                io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => gone(),
                _ => Error::Io {
                    context: format!("attaching to container {}", record.name),
                    err: e,
                },
            }
        })?;
        match read_frame(&mut stream).context(|| format!("attaching to {}", record.name))? {
            Some((Kind::Started, _)) => Ok(Started { record, stream }),
            Some((Kind::Failed, payload)) if !payload.is_empty() => Err(Error::Conflict(
                String::from_utf8_lossy(&payload[1..]).into_owned(),
            )),
            _ => Err(gone()),
        }
    }
}
