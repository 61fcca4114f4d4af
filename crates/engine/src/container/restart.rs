//! Restart policies, as Docker's restart manager applies them: which exits are restarted,
//! and after how long. The monitor asks at each exit of the container's process;
//! `system boot` asks for the containers no monitor watches any more.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `--restart`'s name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartMode {
    #[default]
    No,
    Always,
    OnFailure,
    UnlessStopped,
}

impl RestartMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RestartMode::No => "no",
            RestartMode::Always => "always",
            RestartMode::OnFailure => "on-failure",
            RestartMode::UnlessStopped => "unless-stopped",
        }
    }
}

/// Docker's HostConfig.RestartPolicy: a mode and, for `on-failure`, the most restarts (0
/// for no limit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartPolicy {
    pub mode: RestartMode,
    #[serde(default)]
    pub maximum_retry_count: u32,
}

/// The first wait before a restart; each restart in a row doubles it.
const FIRST_DELAY: Duration = Duration::from_millis(100);
/// The longest wait between two restarts.
const MAX_DELAY: Duration = Duration::from_secs(60);
/// A process that ran this long starts the waits over.
const RESET_AFTER: Duration = Duration::from_secs(10);

impl RestartPolicy {
    /// `--restart no|always|unless-stopped|on-failure[:N]`, with Docker's checks (its
    /// CLI's split, then its daemon's validation).
    pub fn parse(text: &str) -> Result<RestartPolicy> {
        let bad = |reason: String| Error::invalid("restart policy", text, reason);
        let (name, count) = match text.split_once(':') {
            Some((_, count)) if count.contains(':') => {
                return Err(bad("invalid restart policy format".into()))
            }
            Some((name, count)) => {
                let count: i64 = count
                    .parse()
                    .map_err(|_| bad("maximum retry count must be an integer".into()))?;
                (name, Some(count))
            }
            None => (text, None),
        };
        let mode = match name {
            // Docker before 25 wrote an empty name for the default.
            "no" | "" => RestartMode::No,
            "always" => RestartMode::Always,
            "on-failure" => RestartMode::OnFailure,
            "unless-stopped" => RestartMode::UnlessStopped,
            other => {
                return Err(bad(format!(
                    "unknown policy '{other}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"
                )))
            }
        };
        let count = count.unwrap_or(0);
        if count < 0 {
            return Err(bad("maximum retry count cannot be negative".into()));
        }
        if count != 0 && mode != RestartMode::OnFailure {
            return Err(bad(
                "maximum retry count can only be used with 'on-failure'".into(),
            ));
        }
        let maximum_retry_count =
            u32::try_from(count).map_err(|_| bad("maximum retry count is too large".into()))?;
        Ok(RestartPolicy {
            mode,
            maximum_retry_count,
        })
    }

    pub fn is_none(&self) -> bool {
        self.mode == RestartMode::No
    }

    /// Whether a process that exited with `exit_code` is started again, as Docker's
    /// `ShouldRestart`: `always` every time; `unless-stopped` unless the user stopped it;
    /// `on-failure` on a non-zero code while restarts are left (`restart_count` made
    /// so far). The user's `stop` and `kill` end every policy's loop (the caller checks
    /// that first, as Docker cancels its restart manager).
    pub fn should_restart(
        &self,
        exit_code: i32,
        manually_stopped: bool,
        restart_count: u32,
    ) -> bool {
        match self.mode {
            RestartMode::No => false,
            RestartMode::Always => true,
            RestartMode::UnlessStopped => !manually_stopped,
            RestartMode::OnFailure => {
                exit_code != 0
                    && (self.maximum_retry_count == 0 || restart_count < self.maximum_retry_count)
            }
        }
    }
}

/// The wait before the next restart: Docker's backoff, 100 ms doubling up to a minute,
/// back to 100 ms after a process that ran 10 s. `previous` is the last wait (None at
/// the first exit).
pub fn next_delay(previous: Option<Duration>, ran_for: Duration) -> Duration {
    match previous {
        Some(previous) if ran_for < RESET_AFTER => (previous * 2).min(MAX_DELAY),
        _ => FIRST_DELAY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_as_dockers() {
        let on_failure = |n| RestartPolicy {
            mode: RestartMode::OnFailure,
            maximum_retry_count: n,
        };
        assert_eq!(
            RestartPolicy::parse("no").unwrap(),
            RestartPolicy::default()
        );
        assert_eq!(
            RestartPolicy::parse("always").unwrap().mode,
            RestartMode::Always
        );
        assert_eq!(
            RestartPolicy::parse("unless-stopped").unwrap().mode,
            RestartMode::UnlessStopped
        );
        assert_eq!(RestartPolicy::parse("on-failure").unwrap(), on_failure(0));
        assert_eq!(RestartPolicy::parse("on-failure:2").unwrap(), on_failure(2));
        for (bad, why) in [
            ("sometimes", "unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"),
            ("on-failure:x", "maximum retry count must be an integer"),
            ("on-failure:-1", "maximum retry count cannot be negative"),
            ("always:3", "maximum retry count can only be used with 'on-failure'"),
            ("on-failure:1:2", "invalid restart policy format"),
        ] {
            let err = RestartPolicy::parse(bad).unwrap_err();
            assert_eq!(err.kind(), crate::error::ErrorKind::InvalidArgument);
            let text = err.to_string();
            assert!(text.contains(why) && text.contains(bad), "{bad}: {text}");
        }
    }

    #[test]
    fn each_policy_restarts_what_dockers_does() {
        let policy = |text| RestartPolicy::parse(text).unwrap();
        assert!(!policy("no").should_restart(1, false, 0));
        assert!(policy("always").should_restart(0, true, 99));
        assert!(policy("unless-stopped").should_restart(0, false, 5));
        assert!(!policy("unless-stopped").should_restart(1, true, 0));
        assert!(!policy("on-failure").should_restart(0, false, 0));
        assert!(policy("on-failure").should_restart(1, false, 1000));
        // on-failure:2 gives exactly two restarts.
        assert!(policy("on-failure:2").should_restart(1, false, 0));
        assert!(policy("on-failure:2").should_restart(1, false, 1));
        assert!(!policy("on-failure:2").should_restart(1, false, 2));
    }

    #[test]
    fn the_backoff_doubles_to_a_minute_and_resets_after_ten_seconds() {
        let quick = Duration::from_millis(5);
        let mut delay = next_delay(None, quick);
        assert_eq!(delay, Duration::from_millis(100));
        delay = next_delay(Some(delay), quick);
        assert_eq!(delay, Duration::from_millis(200));
        for _ in 0..20 {
            delay = next_delay(Some(delay), quick);
        }
        assert_eq!(delay, Duration::from_secs(60));
        assert_eq!(
            next_delay(Some(delay), Duration::from_secs(10)),
            Duration::from_millis(100)
        );
    }
}
