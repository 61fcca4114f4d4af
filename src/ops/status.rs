//! One table from an engine error's kind to what each front door answers with: the exit
//! code of Docker's CLI and the HTTP status of Docker's API (the `errdefs` classes: 404
//! not found, 409 conflict, 400 invalid parameter, 401 unauthorized, 500 system).

use crate::engine::{Error, ErrorKind};

/// What a front door answers an error of one kind with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// The exit code of a verb that failed with it: Docker's CLI exits 1 on any error the
    /// daemon returns (`run` and `create` have their own, see [`run_exit_code`]).
    pub exit_code: i32,
    /// The HTTP status Docker's API answers with.
    pub http: u16,
}

/// The table.
pub fn of(kind: ErrorKind) -> Status {
    let (exit_code, http) = match kind {
        ErrorKind::NotFound => (1, 404),
        ErrorKind::Conflict => (1, 409),
        ErrorKind::InvalidArgument => (1, 400),
        ErrorKind::Unauthorized => (1, 401),
        // Docker answers "port is already allocated" with a 500 (a system error), and
        // clients branch on the message; the kind lets ours branch on the type.
        ErrorKind::PortAllocated => (1, 500),
        ErrorKind::Internal => (1, 500),
    };
    Status { exit_code, http }
}

/// What an error of berth's own (a command line, a file the CLI writes: no engine error
/// anywhere in the chain) exits with, as Docker's CLI exits on its own errors.
const OWN_ERROR: Status = Status {
    exit_code: 1,
    http: 500,
};

/// The status of the first engine error in a chain of causes (a front door's report
/// walked outermost first, as `eyre::Report::chain` gives it).
pub fn of_chain<'a>(
    chain: impl IntoIterator<Item = &'a (dyn std::error::Error + 'static)>,
) -> Status {
    chain
        .into_iter()
        .find_map(|e| e.downcast_ref::<Error>())
        .map_or(OWN_ERROR, |e| of(e.kind()))
}

/// `run`'s exit code for an error before the container's own process runs: its start's
/// code (126 not executable, 127 not found), else 125, as `docker run`.
pub fn run_exit_code(error: &Error) -> i32 {
    match error {
        Error::StartFailed { code, .. } => *code,
        _ => 125,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_maps_to_dockers_http_status_and_cli_exit_code() {
        let table = [
            (ErrorKind::NotFound, 404),
            (ErrorKind::Conflict, 409),
            (ErrorKind::InvalidArgument, 400),
            (ErrorKind::Unauthorized, 401),
            (ErrorKind::PortAllocated, 500),
            (ErrorKind::Internal, 500),
        ];
        for (kind, http) in table {
            assert_eq!(of(kind), Status { exit_code: 1, http }, "{kind:?}");
        }
    }

    #[test]
    fn a_report_takes_the_status_of_the_engine_error_in_its_chain() {
        let report =
            color_eyre::Report::new(Error::NoSuchContainer("web".into())).wrap_err("removing web");
        assert_eq!(of_chain(report.chain()).http, 404);
        let own = color_eyre::eyre::eyre!("bad flag");
        assert_eq!(of_chain(own.chain()), OWN_ERROR);
    }

    #[test]
    fn run_exits_with_its_starts_code_or_125() {
        let failed = Error::StartFailed {
            code: 127,
            message: "not found".into(),
        };
        assert_eq!(run_exit_code(&failed), 127);
        assert_eq!(run_exit_code(&Error::NoSuchImage("x".into())), 125);
        assert_eq!(of(failed.kind()).http, 500);
    }
}
