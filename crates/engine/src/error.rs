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
    /// In Docker's words.
    #[error("multiple IDs found with provided prefix: {0}")]
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
    /// A registry refused the credentials (or asked for some).
    #[error("{0}")]
    Unauthorized(String),
    /// A host port to publish is taken.
    #[error("{0}")]
    PortAllocated(String),
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
    /// A build's input is wrong or missing (a COPY source, a `.dockerignore` pattern), in
    /// Docker's words; `kind` says which class it is.
    #[error("{message}")]
    Build { kind: ErrorKind, message: String },
}

/// What kind of failure an error is: what a caller branches on, and what every front
/// door maps to its exit code or HTTP status (after Docker's `errdefs` classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// No such image, container, volume, network or path.
    NotFound,
    /// The request contradicts the object's state: a name in use, a running container.
    Conflict,
    /// Bad input: a flag's value, an ambiguous prefix, an unsafe or broken archive.
    InvalidArgument,
    /// A registry refused the credentials.
    Unauthorized,
    /// A host port to publish is taken.
    PortAllocated,
    /// The engine or the system failed: I/O, a syscall, damaged state, a start that failed.
    Internal,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        use Error::*;
        match self {
            NoSuchImage(_)
            | NoSuchVolume(_)
            | NoSuchNetwork(_)
            | NoSuchContainer(_)
            | NoSuchPath { .. } => ErrorKind::NotFound,
            NameInUse { .. } | Conflict(_) => ErrorKind::Conflict,
            AmbiguousContainer(_)
            | InvalidArgument { .. }
            | UnsafeEntry { .. }
            | BadArchive { .. } => ErrorKind::InvalidArgument,
            Unauthorized(_) => ErrorKind::Unauthorized,
            PortAllocated(_) => ErrorKind::PortAllocated,
            Io { .. } | Sys { .. } | Corrupt { .. } | Runtime(_) | StartFailed { .. } => {
                ErrorKind::Internal
            }
            Build { kind, .. } => *kind,
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_the_kind_a_caller_branches_on() {
        let cases = [
            (Error::NoSuchContainer("c".into()), ErrorKind::NotFound),
            (
                Error::NoSuchPath {
                    path: "/x".into(),
                    container: "c".into(),
                },
                ErrorKind::NotFound,
            ),
            (
                Error::NameInUse {
                    name: "c".into(),
                    id: "1".into(),
                },
                ErrorKind::Conflict,
            ),
            (
                Error::AmbiguousContainer("a".into()),
                ErrorKind::InvalidArgument,
            ),
            (
                Error::invalid("port", "x", "bad"),
                ErrorKind::InvalidArgument,
            ),
            (Error::Unauthorized("401".into()), ErrorKind::Unauthorized),
            (
                Error::PortAllocated("8080".into()),
                ErrorKind::PortAllocated,
            ),
            (Error::Runtime("boom".into()), ErrorKind::Internal),
            (
                Error::Build {
                    kind: ErrorKind::NotFound,
                    message: "\"/x\": not found in the build context".into(),
                },
                ErrorKind::NotFound,
            ),
        ];
        for (error, kind) in cases {
            assert_eq!(error.kind(), kind, "{error}");
        }
    }
}
