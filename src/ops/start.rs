//! Docker's rule for `start` that every door shares: starting a container that is
//! already running (or restarting) changes nothing and is no error.

use crate::engine::{Engine, Error, Status};

/// Whether `error`, from starting `name`, is only that it runs already.
pub fn already_running(engine: &Engine, name: &str, error: &Error) -> bool {
    matches!(error, Error::Conflict(_))
        && engine
            .container(name)
            .is_ok_and(|r| matches!(r.state.status, Status::Running | Status::Restarting))
}
