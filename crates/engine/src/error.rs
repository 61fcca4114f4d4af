//! Engine errors: each one renders as a single line naming the object and the cause.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no such image: {0}")]
    NoSuchImage(String),
    #[error("no such volume: {0}")]
    NoSuchVolume(String),
    /// In Docker's words.
    #[error("network {0} not found")]
    NoSuchNetwork(String),
    #[error("No such container: {0}")]
    NoSuchContainer(String),
    /// A path missing in a container, in Docker's words.
    #[error("Could not find the file {path} in container {container}")]
    NoSuchPath { path: String, container: String },
    #[error("multiple containers match {0:?}: give more of the ID or the name")]
    AmbiguousContainer(String),
    #[error("container name {name:?} is already in use by {id}")]
    NameInUse { name: String, id: String },
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidArgument {
        what: &'static str,
        value: String,
        reason: String,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("unsafe layer entry {entry:?}: {reason}")]
    UnsafeEntry { entry: String, reason: String },
    #[error("{path}: {reason}")]
    BadArchive { path: String, reason: String },
    // The cause is part of the message (not a `source`) so each error prints as one line.
    #[error("{context}: {err}")]
    Io {
        context: String,
        err: std::io::Error,
    },
    #[error("{context}: {err}")]
    Sys { context: String, err: nix::Error },
    #[error("corrupt engine state at {path}: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{0}")]
    Runtime(String),
    /// The container's process could not be started; `code` is what `run` exits with
    /// (126: not executable, 127: not found, 125: anything else).
    #[error("{message}")]
    StartFailed { code: i32, message: String },
}

impl Error {
    /// True when the other end of a pipe went away (`berth export c | head`).
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            Error::Io { err, .. } => err.kind() == std::io::ErrorKind::BrokenPipe,
            Error::Sys { err, .. } => *err == nix::Error::EPIPE,
            _ => false,
        }
    }

    pub fn invalid(
        what: &'static str,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Error::InvalidArgument {
            what,
            value: value.into(),
            reason: reason.into(),
        }
    }

    pub fn bad_archive(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::BadArchive {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// Adds a description of what was being done to low-level errors.
pub trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, std::io::Error> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|err| Error::Io {
            context: what(),
            err,
        })
    }
}

impl<T> Context<T> for std::result::Result<T, nix::Error> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|err| Error::Sys {
            context: what(),
            err,
        })
    }
}
