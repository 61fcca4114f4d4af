//! Numbers, times and states as Docker prints them, shared by the CLI and the dashboard.

pub use crate::engine::{binary_size, human_size};
use crate::engine::{ContainerRecord, HealthStatus, Status};

/// "3 seconds ago", "About a minute ago", as Docker's `CREATED` column.
pub fn human_since(then: chrono::DateTime<chrono::Utc>) -> String {
    human_since_at(then, chrono::Utc::now())
}

/// [`human_since`] as of `now`.
pub fn human_since_at(
    then: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    human_duration((now - then).num_seconds().max(0)) + " ago"
}

/// "Less than a second", "3 seconds", "About a minute", "2 hours", as Docker's duration text.
pub fn human_duration(secs: i64) -> String {
    match secs {
        0 => "Less than a second".into(),
        1 => "1 second".into(),
        2..=59 => format!("{secs} seconds"),
        60..=119 => "About a minute".into(),
        120..=3599 => format!("{} minutes", secs / 60),
        3600..=7199 => "About an hour".into(),
        7200..=172_799 => format!("{} hours", secs / 3600),
        172_800..=1_209_599 => format!("{} days", secs / 86_400),
        1_209_600..=5_183_999 => format!("{} weeks", secs / 604_800),
        5_184_000..=63_071_999 => format!("{} months", secs / 2_592_000),
        _ => format!("{} years", secs / 31_536_000),
    }
}

/// [`human_since_at`] in a few characters ("45s ago", "3d ago", "5mo ago"), at the same
/// steps, for a column with no room for Docker's words.
pub fn short_since_at(
    then: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let secs = (now - then).num_seconds().max(0);
    let (n, unit) = match secs {
        0..=119 => (secs, "s"),
        120..=7199 => (secs / 60, "m"),
        7200..=172_799 => (secs / 3600, "h"),
        172_800..=1_209_599 => (secs / 86_400, "d"),
        1_209_600..=5_183_999 => (secs / 604_800, "w"),
        5_184_000..=63_071_999 => (secs / 2_592_000, "mo"),
        _ => (secs / 31_536_000, "y"),
    };
    format!("{n}{unit} ago")
}

/// Docker's STATUS column: "Up 3 minutes", "Exited (0) 2 seconds ago", "Created".
pub fn status_text(r: &ContainerRecord) -> String {
    status_text_at(r, chrono::Utc::now())
}

/// [`status_text`] as of `now`, so a rendered frame can be reproduced.
pub fn status_text_at(r: &ContainerRecord, now: chrono::DateTime<chrono::Utc>) -> String {
    match r.state.status {
        Status::Running => {
            let since = r.state.started_at.unwrap_or(now);
            let up = format!("Up {}", human_duration((now - since).num_seconds().max(0)));
            if r.state.is_paused() {
                up + " (Paused)"
            } else if let Some(health) = &r.state.health {
                // Docker's words: "(health: starting)", "(healthy)", "(unhealthy)".
                match health.status {
                    HealthStatus::Starting => up + " (health: starting)",
                    status => format!("{up} ({})", status.as_str()),
                }
            } else {
                up
            }
        }
        // `Restarting` is Docker's word between two runs of a restart policy.
        Status::Exited | Status::Restarting => format!(
            "{} ({}) {}",
            if r.state.status == Status::Exited {
                "Exited"
            } else {
                "Restarting"
            },
            r.state.exit_code.unwrap_or(0),
            r.state
                .finished_at
                .map(|t| human_since_at(t, now))
                .unwrap_or_default()
        ),
        Status::Created => "Created".into(),
    }
}

/// How many bytes of `bytes`, read from a stream, can be shown now: all of them but a
/// character cut short at the end, whose other bytes may come with the next read. Bytes
/// that are no UTF-8 at all count as whole (they show as U+FFFD).
pub fn whole_utf8_len(bytes: &[u8]) -> usize {
    // A character is at most 4 bytes: only the last 3 can start one still incomplete.
    let tail = bytes.len().saturating_sub(3);
    match (tail..bytes.len()).rev().find(|&i| bytes[i] & 0xC0 != 0x80) {
        Some(start) => match std::str::from_utf8(&bytes[start..]) {
            Err(e) if e.error_len().is_none() => start + e.valid_up_to(),
            _ => bytes.len(),
        },
        None => bytes.len(),
    }
}

pub use crate::engine::truncate;

#[cfg(test)]
mod tests {
    use super::*;

    /// The short form steps where Docker's words do: "3 days ago" is "3d ago".
    #[test]
    fn the_short_time_steps_as_dockers_words() {
        let now = chrono::Utc::now();
        let ago = |secs| now - chrono::Duration::seconds(secs);
        for (secs, long, short) in [
            (5, "5 seconds ago", "5s ago"),
            (90, "About a minute ago", "90s ago"),
            (600, "10 minutes ago", "10m ago"),
            (3 * 86_400, "3 days ago", "3d ago"),
            (20 * 86_400, "2 weeks ago", "2w ago"),
            (90 * 86_400, "3 months ago", "3mo ago"),
            (800 * 86_400, "2 years ago", "2y ago"),
        ] {
            assert_eq!(human_since_at(ago(secs), now), long);
            assert_eq!(short_since_at(ago(secs), now), short);
        }
    }

    #[test]
    fn a_character_cut_at_the_end_waits_and_nothing_else_does() {
        let euro = "€".as_bytes();
        assert_eq!(whole_utf8_len(b"plain"), 5);
        assert_eq!(whole_utf8_len(&euro[..2]), 0);
        assert_eq!(whole_utf8_len(&[b"ab", &euro[..1]].concat()), 2);
        // An invalid byte earlier does not make the cut character go out early.
        assert_eq!(whole_utf8_len(&[b"a\xffb", &euro[..2]].concat()), 3);
        assert_eq!(whole_utf8_len(b"a\xff"), 2);
        assert_eq!(whole_utf8_len(&[0x80, 0x80, 0x80, 0x80]), 4);
    }
}
