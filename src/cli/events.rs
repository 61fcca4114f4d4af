//! `berth events`: the engine's events journal, replayed and followed as `docker events`
//! shows Docker's: without `--since` only what happens from now on; with `--until` it
//! stops there.

use std::io::Write;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use clap::Args;
use color_eyre::eyre::eyre;
use color_eyre::Result;

use crate::engine::{Engine, Event, EventFilter, ObjectType};

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Show events created since this time (RFC 3339, a date, Unix seconds, or a
    /// duration before now such as 10m or 1h30m)
    #[arg(long)]
    pub since: Option<String>,
    /// Stream events until this time (same forms as --since)
    #[arg(long)]
    pub until: Option<String>,
    /// Filter output (type, event, container, image, volume, label)
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Output format: "table" (one line each) or "json"
    #[arg(long, default_value = "table")]
    pub format: String,
}

pub fn events(engine: &Engine, args: &EventsArgs) -> Result<i32> {
    let now = Utc::now();
    let since = args
        .since
        .as_deref()
        .map(|t| parse_time(t, now))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|t| parse_time(t, now))
        .transpose()?;
    let mut filter = EventFilter::default();
    for entry in &args.filter {
        let (key, value) = entry
            .split_once('=')
            .ok_or_else(|| eyre!("bad format of filter {entry:?} (expected name=value)"))?;
        filter.add(key, value)?;
    }
    let json = match args.format.as_str() {
        "json" => true,
        "table" => false,
        other => return Err(eyre!("unknown format {other:?}: use table or json")),
    };
    let wanted = |e: &Event| {
        filter.matches(e)
            && since.is_none_or(|s| e.when() >= s)
            && until.is_none_or(|u| e.when() <= u)
    };

    // With --since, the journal is replayed first, through the follower itself.
    let mut follower = engine.follow_events(since.is_some())?;
    let mut out = super::output::shown_stdout();
    loop {
        // Until --until has passed, wait for more; after it, take what is already written.
        let wait = until.map_or(Duration::from_secs(3600), |u| {
            (u - Utc::now()).to_std().unwrap_or(Duration::ZERO)
        });
        let batch = follower.next_batch(wait.min(Duration::from_secs(3600)))?;
        let done = batch.is_empty() && until.is_some_and(|u| Utc::now() > u);
        for event in batch.iter().filter(|e| wanted(e)) {
            print(&mut out, event, json)?;
        }
        if done {
            return Ok(0);
        }
    }
}

fn print(out: &mut impl Write, event: &Event, json: bool) -> Result<()> {
    if json {
        serde_json::to_writer(&mut *out, &with_legacy_fields(event))?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{} {} {} {} ({})",
            event
                .when()
                .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            event.object.as_str(),
            event.action,
            event.actor.id,
            super::output::key_values(&event.actor.attributes, ", ")
        )?;
    }
    // A reader piping this on wants each event as it happens.
    out.flush()?;
    Ok(())
}

/// Docker's JSON also carries the old `status`, `id` and `from` fields for containers
/// and images; scripts written against it read them.
fn with_legacy_fields(event: &Event) -> serde_json::Value {
    let mut value = serde_json::to_value(event).unwrap_or_default();
    if matches!(event.object, ObjectType::Container | ObjectType::Image) {
        if let Some(map) = value.as_object_mut() {
            map.insert("status".into(), event.action.clone().into());
            map.insert("id".into(), event.actor.id.clone().into());
            if let Some(image) = event.actor.attributes.get("image") {
                map.insert("from".into(), image.clone().into());
            }
        }
    }
    value
}

/// A point in time as Docker's `--since`/`--until` take it: RFC 3339, a date
/// (`2024-01-31`), Unix seconds (`1706659200` or `1706659200.5`), or a duration before
/// `now` (`10m`, `1h30m`, `45s`).
pub fn parse_time(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let bad = || {
        eyre!(
            "invalid time {text:?}: use RFC 3339 (2024-01-31T10:00:00Z), a date, Unix seconds or a duration such as 10m"
        )
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let midnight = date.and_hms_opt(0, 0, 0).ok_or_else(bad)?;
        return Ok(Utc.from_utc_datetime(&midnight));
    }
    if let Ok(seconds) = text.parse::<f64>() {
        if (0.0..1e12).contains(&seconds) {
            let nanos = (seconds.fract() * 1e9) as u32;
            return Utc
                .timestamp_opt(seconds.trunc() as i64, nanos)
                .single()
                .ok_or_else(bad);
        }
        return Err(bad());
    }
    let ago = parse_duration(text).ok_or_else(bad)?;
    Ok(now - ago)
}

/// A Go-style duration: numbers with h, m, s or ms units, one after another.
fn parse_duration(text: &str) -> Option<chrono::Duration> {
    let mut total = chrono::Duration::zero();
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let part = match &rest[..unit_len] {
            "h" => chrono::Duration::try_hours(n)?,
            "m" => chrono::Duration::try_minutes(n)?,
            "s" => chrono::Duration::try_seconds(n)?,
            "ms" => chrono::Duration::try_milliseconds(n)?,
            _ => return None,
        };
        total = total.checked_add(&part)?;
        rest = &rest[unit_len..];
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_take_docker_forms() {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
        let at = |t: &str| parse_time(t, now).unwrap();
        assert_eq!(
            at("2026-11-24T11:00:00Z"),
            Utc.with_ymd_and_hms(2026, 11, 24, 11, 0, 0).unwrap()
        );
        assert_eq!(
            at("2026-11-24T12:00:00+01:00"),
            Utc.with_ymd_and_hms(2026, 11, 24, 11, 0, 0).unwrap()
        );
        assert_eq!(
            at("2026-11-23"),
            Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap()
        );
        assert_eq!(at("1700000000").timestamp(), 1_700_000_000);
        assert_eq!(at("1700000000.5").timestamp_subsec_millis(), 500);
        assert_eq!(at("1h30m"), now - chrono::Duration::minutes(90));
        assert_eq!(at("45s"), now - chrono::Duration::seconds(45));
        for bad in ["", "soon", "10x", "-5", "1h30", "nan"] {
            assert!(parse_time(bad, now).is_err(), "{bad:?}");
        }
    }
}
