//! Health checks, as Docker's HEALTHCHECK: the configuration (the image's, merged with
//! the user's flags), the state (`starting`, `healthy`, `unhealthy`, the last results) and
//! its rules, and the probes the container's monitor runs.
//!
//! The monitor never runs a probe itself: at each due time it forks a prober, a process of
//! its own that execs the command in the container, bounds it (the timeout kills it, its
//! output is capped), records the result in the run's health file (not the record: see
//! `HEALTH_FILE`) and tells the monitor the status in one byte. So a probe that hangs, a
//! slow disk or a lock held elsewhere never holds up the monitor's logs, clients, exit or
//! restarts; a prober that outlives every bound is killed.

use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::unistd::{fork, pipe2, ForkResult, Pid};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::exec::{pidfd, ExecOptions, ExecSession};
use super::record::{ContainerRecord, Status};
use crate::error::{Error, Result};
use crate::events::container_event;
use crate::ids::ContainerId;
use crate::state::{read_json_opt, write_json_atomic_with, Durability};
use crate::Engine;

/// Docker's defaults for what a HEALTHCHECK leaves out.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
pub const DEFAULT_RETRIES: u32 = 3;
/// The most of a probe's output kept, as Docker's (more is cut, with `...`).
pub const MAX_OUTPUT: usize = 4096;
/// The results kept in State.Health.Log, as Docker's.
pub const MAX_LOG: usize = 5;
/// The shortest duration Docker's daemon accepts for a set one.
const MINIMUM: Duration = Duration::from_millis(1);
/// How long starting a probe may take before the monitor gives up on its prober (Docker
/// waits 30 s for an exec to start), on top of the probe's own timeout and its record.
const PROBER_GRACE: Duration = Duration::from_secs(60);

/// Docker's Config.Healthcheck. `test` is Docker's: empty to inherit the image's,
/// `["NONE"]`, `["CMD", arg...]` or `["CMD-SHELL", command]`; a duration or count left
/// out (None) takes the image's, then Docker's default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthConfig {
    #[serde(default)]
    pub test: Vec<String>,
    #[serde(default)]
    pub interval: Option<Duration>,
    #[serde(default)]
    pub timeout: Option<Duration>,
    #[serde(default)]
    pub start_period: Option<Duration>,
    #[serde(default)]
    pub start_interval: Option<Duration>,
    #[serde(default)]
    pub retries: Option<u32>,
}

impl HealthConfig {
    /// `--no-healthcheck`: Docker's `["NONE"]`.
    pub fn disabled() -> HealthConfig {
        HealthConfig {
            test: vec!["NONE".into()],
            ..Default::default()
        }
    }

    /// An image config's `Healthcheck` (Docker's JSON: durations in nanoseconds), with
    /// the daemon's checks. None when the image has none.
    pub fn from_image(value: Option<&Value>) -> Result<Option<HealthConfig>> {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let raw: DockerHealthConfig = serde_json::from_value(value.clone())
            .map_err(|e| Error::invalid("image healthcheck", value.to_string(), e.to_string()))?;
        let duration = |name: &'static str, ns: i64| -> Result<Option<Duration>> {
            match ns {
                0 => Ok(None),
                ns if ns < 0 => Err(too_short(name)),
                ns => Ok(Some(Duration::from_nanos(ns as u64))),
            }
        };
        if raw.retries < 0 {
            return Err(Error::invalid(
                "healthcheck",
                raw.retries.to_string(),
                "Retries in Healthcheck cannot be negative",
            ));
        }
        Ok(Some(HealthConfig {
            test: raw.test,
            interval: duration("Interval", raw.interval)?,
            timeout: duration("Timeout", raw.timeout)?,
            start_period: duration("StartPeriod", raw.start_period)?,
            start_interval: duration("StartInterval", raw.start_interval)?,
            retries: u32::try_from(raw.retries).ok().filter(|r| *r > 0),
        }))
    }

    /// Docker's JSON shape (Config.Healthcheck of inspect and of an image's config):
    /// durations in nanoseconds, what is unset left out.
    pub fn to_docker(&self) -> Value {
        let mut map = serde_json::Map::new();
        if !self.test.is_empty() {
            map.insert("Test".into(), Value::from(self.test.clone()));
        }
        for (key, d) in [
            ("Interval", self.interval),
            ("Timeout", self.timeout),
            ("StartPeriod", self.start_period),
            ("StartInterval", self.start_interval),
        ] {
            if let Some(d) = d {
                map.insert(key.into(), Value::from(d.as_nanos() as u64));
            }
        }
        if let Some(retries) = self.retries {
            map.insert("Retries".into(), Value::from(retries));
        }
        Value::Object(map)
    }

    /// The user's over the image's, field by field, as Docker's create merges them: an
    /// unset field of the user's takes the image's.
    pub fn merge(user: Option<HealthConfig>, image: Option<HealthConfig>) -> Option<HealthConfig> {
        match (user, image) {
            (None, image) => image,
            (Some(user), None) => Some(user),
            (Some(user), Some(image)) => Some(HealthConfig {
                test: if user.test.is_empty() {
                    image.test
                } else {
                    user.test
                },
                interval: user.interval.or(image.interval),
                timeout: user.timeout.or(image.timeout),
                start_period: user.start_period.or(image.start_period),
                start_interval: user.start_interval.or(image.start_interval),
                retries: user.retries.or(image.retries),
            }),
        }
    }

    /// Docker's daemon checks: a set duration is at least 1 ms.
    pub fn validate(&self) -> Result<()> {
        for (name, d) in [
            ("Interval", self.interval),
            ("Timeout", self.timeout),
            ("StartPeriod", self.start_period),
            ("StartInterval", self.start_interval),
        ] {
            if d.is_some_and(|d| d < MINIMUM) {
                return Err(too_short(name));
            }
        }
        Ok(())
    }

    /// The command a probe runs, None when there is no check (none set, `NONE`, or a
    /// type Docker doesn't know, which it ignores too).
    pub fn probe_command(&self) -> Option<Vec<String>> {
        let (kind, args) = self.test.split_first()?;
        match kind.as_str() {
            "CMD" if !args.is_empty() => Some(args.to_vec()),
            "CMD-SHELL" if !args.is_empty() => {
                let mut cmd = vec!["/bin/sh".to_owned(), "-c".to_owned()];
                cmd.extend(args.iter().cloned());
                Some(cmd)
            }
            _ => None,
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval.unwrap_or(DEFAULT_INTERVAL)
    }

    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }

    pub fn start_period(&self) -> Duration {
        self.start_period.unwrap_or_default()
    }

    pub fn start_interval(&self) -> Duration {
        self.start_interval.unwrap_or(DEFAULT_START_INTERVAL)
    }

    pub fn retries(&self) -> u32 {
        self.retries.unwrap_or(DEFAULT_RETRIES)
    }
}

fn too_short(name: &str) -> Error {
    Error::invalid(
        "healthcheck",
        name.to_owned(),
        format!("{name} in Healthcheck cannot be less than 1ms"),
    )
}

/// The JSON of Docker's HealthConfig, as an image config carries it.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerHealthConfig {
    #[serde(default)]
    test: Vec<String>,
    #[serde(default)]
    interval: i64,
    #[serde(default)]
    timeout: i64,
    #[serde(default)]
    start_period: i64,
    #[serde(default)]
    start_interval: i64,
    #[serde(default)]
    retries: i64,
}

/// Docker's health status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Starting,
    Healthy,
    Unhealthy,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Starting => "starting",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }

    /// The byte a prober tells its monitor.
    fn to_byte(self) -> u8 {
        match self {
            HealthStatus::Starting => 1,
            HealthStatus::Healthy => 2,
            HealthStatus::Unhealthy => 3,
        }
    }

    fn from_byte(b: u8) -> Option<HealthStatus> {
        match b {
            1 => Some(HealthStatus::Starting),
            2 => Some(HealthStatus::Healthy),
            3 => Some(HealthStatus::Unhealthy),
            _ => None,
        }
    }
}

/// One run of a probe (Docker's HealthcheckResult).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthResult {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// 0 healthy, anything else a failure; -1 when the probe could not run or timed out.
    pub exit_code: i32,
    pub output: String,
}

/// Docker's State.Health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: HealthStatus,
    pub failing_streak: u32,
    /// The last [`MAX_LOG`] results, oldest first.
    #[serde(default)]
    pub log: Vec<HealthResult>,
}

impl Health {
    /// At each start of the container, as Docker's: starting, the streak anew, the log
    /// of earlier runs kept.
    pub fn starting(previous: Option<Health>) -> Health {
        Health {
            status: HealthStatus::Starting,
            failing_streak: 0,
            log: previous.map(|h| h.log).unwrap_or_default(),
        }
    }

    /// Applies a probe's result with Docker's rules: a success is healthy; a failure
    /// counts towards `retries` in a row, except while the container is still starting
    /// within its start period. Returns true when the status changed.
    pub fn record(
        &mut self,
        result: HealthResult,
        config: &HealthConfig,
        started_at: DateTime<Utc>,
    ) -> bool {
        let old = self.status;
        let success = result.exit_code == 0;
        let within_start_period = (result.start - started_at)
            .to_std()
            .map_or(true, |since| since < config.start_period());
        if self.log.len() >= MAX_LOG {
            self.log.drain(..=self.log.len() - MAX_LOG);
        }
        self.log.push(result);
        if success {
            self.failing_streak = 0;
            self.status = HealthStatus::Healthy;
        } else if !(self.status == HealthStatus::Starting && within_start_period) {
            self.failing_streak += 1;
            if self.failing_streak >= config.retries() {
                self.status = HealthStatus::Unhealthy;
            }
        }
        self.status != old
    }
}

/// A duration as Go's `time.ParseDuration` reads it (`1m30s`, `1.5h`, `-2s`, `300ms`,
/// `0`), in nanoseconds; None when it is no duration or out of range.
pub fn parse_go_duration(text: &str) -> Option<i64> {
    let (negative, mut rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_len];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return None;
        }
        let value: f64 = number.parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += value * scale;
        rest = &rest[unit_len..];
    }
    if total > i64::MAX as f64 {
        return None;
    }
    let nanos = total.round() as i64;
    Some(if negative { -nanos } else { nanos })
}

/// A duration as Go prints one (`30s`, `1m30s`, `500ms`, `1.5s`), for Docker's messages.
pub fn go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    if nanos < 1_000_000_000 {
        let (unit, div) = if nanos < 1_000 {
            ("ns", 1)
        } else if nanos < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{}{unit}", decimal(nanos, div));
    }
    let hours = nanos / 3_600_000_000_000;
    let minutes = nanos / 60_000_000_000 % 60;
    let seconds = decimal(nanos % 60_000_000_000, 1_000_000_000);
    match (hours, minutes) {
        (0, 0) => format!("{seconds}s"),
        (0, m) => format!("{m}m{seconds}s"),
        (h, m) => format!("{h}h{m}m{seconds}s"),
    }
}

/// `n / div` with its fraction, trailing zeros dropped.
fn decimal(n: u128, div: u128) -> String {
    let whole = n / div;
    let fraction = n % div;
    if fraction == 0 {
        return whole.to_string();
    }
    let width = div.to_string().len() - 1;
    let digits = format!("{fraction:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// The probes of one run of a container, driven by its monitor's loop.
pub(crate) struct Checker {
    config: HealthConfig,
    command: Vec<String>,
    id: ContainerId,
    /// The run's StartedAt: a prober records only into the run it was started for.
    started_at: DateTime<Utc>,
    started: Instant,
    status: HealthStatus,
    next: Instant,
    prober: Option<Prober>,
}

/// A prober in flight: its pidfd (signals can't reach a recycled PID) and the pipe its
/// status byte comes through (end of file when it is done).
struct Prober {
    pidfd: OwnedFd,
    report: OwnedFd,
    deadline: Instant,
    status: Option<HealthStatus>,
}

impl Checker {
    /// The checker of a container's run just started, None when it has no check.
    pub(crate) fn new(record: &ContainerRecord) -> Option<Checker> {
        let config = record.config.health.clone()?;
        let command = config.probe_command()?;
        let started = Instant::now();
        let mut checker = Checker {
            command,
            id: record.id.clone(),
            started_at: record.state.started_at.unwrap_or_else(Utc::now),
            started,
            status: HealthStatus::Starting,
            next: started,
            prober: None,
            config,
        };
        checker.next = started + checker.interval(started);
        Some(checker)
    }

    /// The wait before the next probe, as Docker's: the start interval while starting
    /// within the start period, else the interval.
    fn interval(&self, now: Instant) -> Duration {
        let within = now.duration_since(self.started) < self.config.start_period();
        if within && self.status == HealthStatus::Starting {
            self.config.start_interval()
        } else {
            self.config.interval()
        }
    }

    /// The prober's pipe, for the monitor's poll.
    pub(crate) fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.prober.as_ref().map(|p| p.report.as_fd())
    }

    /// How long the monitor may sleep before [`Checker::tick`] has work.
    pub(crate) fn due_in(&self, now: Instant) -> Duration {
        let at = self.prober.as_ref().map_or(self.next, |p| p.deadline);
        at.saturating_duration_since(now)
    }

    /// Starts a probe when one is due; kills a prober past every bound.
    pub(crate) fn tick(&mut self, engine: &Engine, now: Instant) {
        match &self.prober {
            Some(p) if now >= p.deadline => self.stop(now),
            Some(_) => {}
            None if now >= self.next => {
                match self.spawn(engine, now) {
                    Some(prober) => self.prober = Some(prober),
                    // Could not fork: try again at the next interval.
                    None => self.next = now + self.interval(now),
                }
            }
            None => {}
        }
    }

    /// The prober's pipe is readable: its status byte, or its end.
    pub(crate) fn on_readable(&mut self, now: Instant) {
        let Some(prober) = self.prober.as_mut() else {
            return;
        };
        let mut byte = [0u8; 1];
        match nix::unistd::read(&prober.report, &mut byte) {
            Ok(1) => prober.status = HealthStatus::from_byte(byte[0]),
            Err(nix::Error::EAGAIN) | Err(nix::Error::EINTR) => {}
            _ => {
                if let Some(status) = prober.status {
                    self.status = status;
                }
                self.prober = None;
                self.next = now + self.interval(now);
            }
        }
    }

    /// Ends the prober in flight, if any (the container stopped, or it overran).
    pub(crate) fn stop(&mut self, now: Instant) {
        if let Some(prober) = self.prober.take() {
            // Best effort: it may have just exited, which is what is wanted.
            let _ = pidfd_kill(&prober.pidfd);
        }
        self.next = now + self.interval(now);
    }

    fn spawn(&self, engine: &Engine, now: Instant) -> Option<Prober> {
        let (read, write) = pipe2(OFlag::O_CLOEXEC).ok()?;
        // SAFETY: the monitor is single-threaded; the child runs the probe and _exits.
        match unsafe { fork() }.ok()? {
            ForkResult::Child => {
                drop(read);
                let code = prober_main(engine, self, write);
                // SAFETY: leave without running the monitor's destructors (its log
                // writer, its clients) in this copy of it.
                unsafe { libc::_exit(code) }
            }
            ForkResult::Parent { child } => {
                drop(write);
                let _ = fcntl(&read, FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
                let pidfd = match pidfd(child) {
                    Ok(fd) => fd,
                    Err(_) => {
                        let _ = kill(child, Signal::SIGKILL);
                        return None;
                    }
                };
                Some(Prober {
                    pidfd,
                    report: read,
                    deadline: now + self.config.timeout() + PROBER_GRACE,
                    status: None,
                })
            }
        }
    }
}

fn pidfd_kill(pidfd: &OwnedFd) -> std::io::Result<()> {
    // SAFETY: pidfd_send_signal takes a pidfd, a signal, no info and no flags.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            libc::SIGKILL,
            std::ptr::null::<libc::siginfo_t>(),
            0u32,
        )
    };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// In the prober: sheds the monitor's descriptors, runs one probe, records it, reports.
fn prober_main(engine: &Engine, checker: &Checker, report: OwnedFd) -> i32 {
    // Nothing of the monitor's stays open here: its clients see their end when the
    // monitor closes them, not when a probe ends.
    let stdio = [0, 1, 2].map(super::runtime::fds::dup_std);
    let [Ok(a), Ok(b), Ok(c)] = stdio else {
        return 1;
    };
    let Ok(kept) = super::runtime::fds::keep_only([a, b, c], vec![report]) else {
        return 1;
    };
    let Some(report) = kept.into_iter().next() else {
        return 1;
    };
    match probe_and_record(engine, checker) {
        Some(status) => {
            let _ = nix::unistd::write(&report, &[status.to_byte()]);
            0
        }
        None => 0,
    }
}

/// Runs one probe and records its result into the run it was meant for. None when the
/// container is not running that run any more, or is paused (Docker doesn't probe a
/// paused container, and a probe a pause caught is not counted).
fn probe_and_record(engine: &Engine, checker: &Checker) -> Option<HealthStatus> {
    let current = |r: &ContainerRecord| {
        r.state.status == Status::Running
            && !r.state.paused
            && r.state.started_at == Some(checker.started_at)
    };
    let record = engine.load_record(&checker.id).ok()?;
    if !current(&record) {
        return None;
    }
    let result = run_probe(engine, checker);
    // Read again (with the last probe's state): the container may have been paused,
    // stopped or restarted meanwhile.
    let record = engine.load_record(&checker.id).ok()?;
    if !current(&record) {
        return None;
    }
    let mut health = record
        .state
        .health
        .clone()
        .unwrap_or_else(|| Health::starting(None));
    let changed = health.record(result, &checker.config, checker.started_at);
    engine
        .save_health(&checker.id, checker.started_at, &health, changed)
        .ok()?;
    if changed {
        engine.record_event(&container_event(
            &record,
            &format!("health_status: {}", health.status.as_str()),
        ));
    }
    Some(health.status)
}

/// The file a running container's probes keep its State.Health in, beside its record:
/// a probe rewrites this small file instead of the whole record, and takes no engine
/// lock (its prober is the only writer while the run lasts).
const HEALTH_FILE: &str = "health.json";

/// [`HEALTH_FILE`]'s content: the health of the run that started at `started_at`.
#[derive(Serialize, Deserialize)]
struct HealthFile {
    started_at: DateTime<Utc>,
    health: Health,
}

impl Engine {
    /// Writes a run's health atomically (temp file and rename); fsync'd only when the
    /// status changed: a log line lost to a power cut leaves the status, and the record
    /// untouched.
    fn save_health(
        &self,
        id: &ContainerId,
        started_at: DateTime<Utc>,
        health: &Health,
        status_changed: bool,
    ) -> Result<()> {
        let durability = if status_changed {
            Durability::Synced
        } else {
            Durability::Unsynced
        };
        let file = HealthFile {
            started_at,
            health: health.clone(),
        };
        write_json_atomic_with(&self.container_dir(id).join(HEALTH_FILE), &file, durability)
    }

    /// Lays the probes' latest health over a record read from disk: only for the run
    /// that is running now (a stopped or restarted container's record has the last word,
    /// folded in by the monitor's own update). A missing or unreadable file (a power cut
    /// before it reached the disk) leaves the record's.
    pub(crate) fn overlay_health(&self, record: &mut ContainerRecord) {
        if record.state.status != Status::Running || record.config.health.is_none() {
            return;
        }
        let path = self.container_dir(&record.id).join(HEALTH_FILE);
        if let Ok(Some(file)) = read_json_opt::<HealthFile>(&path) {
            if Some(file.started_at) == record.state.started_at {
                record.state.health = Some(file.health);
            }
        }
    }
}

/// Execs the probe in the container and waits for it, bounded by the timeout.
fn run_probe(engine: &Engine, checker: &Checker) -> HealthResult {
    let start = Utc::now();
    let opts = ExecOptions {
        cmd: checker.command.clone(),
        ..Default::default()
    };
    let (exit_code, output) = match engine.exec(checker.id.as_str(), &opts) {
        Ok(session) => collect(session, checker.config.timeout()),
        Err(e) => (-1, e.to_string()),
    };
    HealthResult {
        start,
        end: Utc::now(),
        exit_code,
        output,
    }
}

/// Up to [`MAX_OUTPUT`] bytes of what a probe writes, stdout and stderr as they come.
#[derive(Default)]
struct Output {
    bytes: Vec<u8>,
    truncated: bool,
}

impl Output {
    fn push(&mut self, data: &[u8]) {
        let room = MAX_OUTPUT - self.bytes.len();
        self.bytes.extend_from_slice(&data[..data.len().min(room)]);
        self.truncated |= data.len() > room;
    }

    fn text(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.bytes).into_owned();
        if self.truncated {
            text.push_str("...");
        }
        text
    }
}

/// Reads the probe's output until it exits or the timeout passes (then it is killed).
/// Its exit code and output, or Docker's -1 and "Health check exceeded timeout".
fn collect(mut session: ExecSession, timeout: Duration) -> (i32, String) {
    let deadline = Instant::now() + timeout;
    let mut pipes: Vec<OwnedFd> = [session.stdout.take(), session.stderr.take()]
        .into_iter()
        .flatten()
        .collect();
    for pipe in &pipes {
        let _ = fcntl(pipe, FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
    }
    let mut output = Output::default();
    let mut buf = [0u8; 4096];
    let mut timed_out = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            timed_out = true;
            break;
        }
        let mut fds = vec![PollFd::new(session.exited(), PollFlags::POLLIN)];
        fds.extend(
            pipes
                .iter()
                .map(|p| PollFd::new(p.as_fd(), PollFlags::POLLIN)),
        );
        let wait =
            PollTimeout::try_from(left.max(Duration::from_millis(1))).unwrap_or(PollTimeout::MAX);
        match nix::poll::poll(&mut fds, wait) {
            Ok(0) | Err(nix::Error::EINTR) => continue,
            Ok(_) => {}
            Err(_) => break,
        }
        let exited = fds[0].any().unwrap_or(false);
        let ready: Vec<bool> = fds[1..].iter().map(|f| f.any().unwrap_or(false)).collect();
        drop(fds);
        for i in (0..pipes.len()).rev() {
            if (ready[i] || exited) && !drain(&pipes[i], &mut buf, &mut output) {
                pipes.remove(i);
            }
        }
        // Once it has exited, what its pipes hold is read: a child it left in the
        // background may keep them open, and is no reason to wait.
        if exited {
            break;
        }
    }
    if timed_out {
        kill_process(&session);
        let _ = session.wait();
        let text = output.text();
        let mut message = format!("Health check exceeded timeout ({})", go_duration(timeout));
        if !text.is_empty() {
            message.push_str(": ");
            message.push_str(&text);
        }
        return (-1, message);
    }
    (session.wait(), output.text())
}

/// Reads what `pipe` holds now into `output` (beyond the cap it is read and dropped);
/// false at its end.
fn drain(pipe: &OwnedFd, buf: &mut [u8], output: &mut Output) -> bool {
    // Bounded: at most a pipe's worth per call, so a flood can't keep us here.
    for _ in 0..64 {
        match nix::unistd::read(pipe, buf) {
            Ok(0) => return false,
            Ok(n) => output.push(&buf[..n]),
            Err(nix::Error::EINTR) => continue,
            Err(nix::Error::EAGAIN) => return true,
            Err(_) => return false,
        }
    }
    true
}

/// Kills a probe that overran its timeout: the process in the container, and its group.
/// Its parent (the exec's joiner, ours) is stopped meanwhile, so the process can't be
/// reaped and its PID reused between finding it and killing it.
fn kill_process(session: &ExecSession) {
    // Probes run from the monitor's own process, sealed: the joiner is always ours.
    let Some(joiner) = session.joiner() else {
        return;
    };
    if kill(joiner, Signal::SIGSTOP).is_err() {
        return;
    }
    let stopped = loop {
        use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
        let flags = WaitPidFlag::WSTOPPED | WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT;
        match waitid(Id::Pid(joiner), flags) {
            Ok(WaitStatus::Stopped(..)) => break true,
            Err(nix::Error::EINTR) => continue,
            // Exited meanwhile: so has the probe (the joiner waits for it).
            _ => break false,
        }
    };
    if stopped {
        for child in children_of(joiner) {
            // Its own session (exec makes one), so its group is its PID.
            let _ = kill(Pid::from_raw(-child.as_raw()), Signal::SIGKILL);
            let _ = kill(child, Signal::SIGKILL);
        }
    }
    let _ = kill(joiner, Signal::SIGCONT);
}

/// The children of `parent`, from /proc (this kernel may lack /proc/PID/task/TID/children).
fn children_of(parent: Pid) -> Vec<Pid> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| parent_of(*pid) == Some(parent.as_raw()))
        .map(Pid::from_raw)
        .collect()
}

/// The PPid in /proc/PID/stat: after the command's name, which may hold anything, so
/// read from its last `)`.
fn parent_of(pid: i32) -> Option<i32> {
    let mut text = String::new();
    std::fs::File::open(format!("/proc/{pid}/stat"))
        .ok()?
        .take(4096)
        .read_to_string(&mut text)
        .ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(at: DateTime<Utc>, code: i32) -> HealthResult {
        HealthResult {
            start: at,
            end: at,
            exit_code: code,
            output: String::new(),
        }
    }

    fn config(retries: u32, start_period: u64) -> HealthConfig {
        HealthConfig {
            test: vec!["CMD".into(), "true".into()],
            retries: Some(retries),
            start_period: Some(Duration::from_secs(start_period)).filter(|d| !d.is_zero()),
            ..Default::default()
        }
    }

    #[test]
    fn failures_count_to_retries_and_a_success_is_healthy() {
        let t0 = Utc::now();
        let cfg = config(2, 0);
        let mut h = Health::starting(None);
        assert!(!h.record(result(t0, 1), &cfg, t0));
        assert_eq!((h.status, h.failing_streak), (HealthStatus::Starting, 1));
        assert!(h.record(result(t0, 1), &cfg, t0));
        assert_eq!((h.status, h.failing_streak), (HealthStatus::Unhealthy, 2));
        assert!(h.record(result(t0, 0), &cfg, t0));
        assert_eq!((h.status, h.failing_streak), (HealthStatus::Healthy, 0));
        // A single failure of a healthy container counts but doesn't flip it.
        assert!(!h.record(result(t0, 1), &cfg, t0));
        assert_eq!((h.status, h.failing_streak), (HealthStatus::Healthy, 1));
    }

    #[test]
    fn failures_in_the_start_period_do_not_count_until_one_succeeds() {
        let t0 = Utc::now();
        let cfg = config(1, 10);
        let mut h = Health::starting(None);
        let early = t0 + chrono::Duration::seconds(5);
        assert!(!h.record(result(early, 1), &cfg, t0));
        assert_eq!((h.status, h.failing_streak), (HealthStatus::Starting, 0));
        let late = t0 + chrono::Duration::seconds(11);
        assert!(h.record(result(late, 1), &cfg, t0));
        assert_eq!(h.status, HealthStatus::Unhealthy);
        // Once healthy, a failure within the start period counts.
        let mut h = Health::starting(None);
        h.record(result(early, 0), &cfg, t0);
        assert!(h.record(result(early, 1), &cfg, t0));
        assert_eq!(h.status, HealthStatus::Unhealthy);
    }

    #[test]
    fn the_log_keeps_the_last_five_and_survives_a_restart() {
        let t0 = Utc::now();
        let cfg = config(3, 0);
        let mut h = Health::starting(None);
        for code in 0..7 {
            h.record(result(t0, code), &cfg, t0);
        }
        let codes: Vec<i32> = h.log.iter().map(|r| r.exit_code).collect();
        assert_eq!(codes, [2, 3, 4, 5, 6]);
        let again = Health::starting(Some(h));
        assert_eq!(again.status, HealthStatus::Starting);
        assert_eq!((again.failing_streak, again.log.len()), (0, 5));
    }

    #[test]
    fn flags_override_the_image_field_by_field_and_none_disables() {
        let image = HealthConfig::from_image(Some(&serde_json::json!({
            "Test": ["CMD-SHELL", "test -f /ready"],
            "Interval": 2_000_000_000i64,
            "Retries": 5,
        })))
        .unwrap();
        let user = HealthConfig {
            timeout: Some(Duration::from_secs(3)),
            ..Default::default()
        };
        let merged = HealthConfig::merge(Some(user), image.clone()).unwrap();
        assert_eq!(merged.test, ["CMD-SHELL", "test -f /ready"]);
        assert_eq!(merged.interval(), Duration::from_secs(2));
        assert_eq!(merged.timeout(), Duration::from_secs(3));
        assert_eq!(merged.retries(), 5);
        assert_eq!(
            merged.probe_command().unwrap(),
            ["/bin/sh", "-c", "test -f /ready"]
        );
        let off = HealthConfig::merge(Some(HealthConfig::disabled()), image).unwrap();
        assert_eq!(off.probe_command(), None);
        assert_eq!(
            off.to_docker(),
            serde_json::json!({"Test": ["NONE"], "Interval": 2_000_000_000u64, "Retries": 5})
        );
    }

    #[test]
    fn bad_image_values_are_refused_in_dockers_words() {
        for (json, why) in [
            (
                serde_json::json!({"Test": ["CMD", "x"], "Interval": -1}),
                "Interval in Healthcheck cannot be less than 1ms",
            ),
            (
                serde_json::json!({"Test": ["CMD", "x"], "Retries": -2}),
                "Retries in Healthcheck cannot be negative",
            ),
        ] {
            let err = HealthConfig::from_image(Some(&json))
                .unwrap_err()
                .to_string();
            assert!(err.contains(why), "{err}");
        }
        let short = HealthConfig {
            timeout: Some(Duration::from_micros(10)),
            ..Default::default()
        };
        let err = short.validate().unwrap_err().to_string();
        assert!(
            err.contains("Timeout in Healthcheck cannot be less than 1ms"),
            "{err}"
        );
    }

    #[test]
    fn durations_parse_as_gos() {
        assert_eq!(parse_go_duration("30s"), Some(30_000_000_000));
        assert_eq!(parse_go_duration("1m30s"), Some(90_000_000_000));
        assert_eq!(parse_go_duration("1.5h"), Some(5_400_000_000_000));
        assert_eq!(parse_go_duration("-2s"), Some(-2_000_000_000));
        assert_eq!(parse_go_duration("500us"), Some(500_000));
        assert_eq!(parse_go_duration("0"), Some(0));
        for bad in ["", "5", "s", "1x", "1..5s", "--1s", "9999999999h"] {
            assert_eq!(parse_go_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations_print_as_gos() {
        let d = |ms: u64| go_duration(Duration::from_millis(ms));
        assert_eq!(d(30_000), "30s");
        assert_eq!(d(1_500), "1.5s");
        assert_eq!(d(500), "500ms");
        assert_eq!(d(90_000), "1m30s");
        assert_eq!(d(120_000), "2m0s");
        assert_eq!(d(3_600_000), "1h0m0s");
    }

    #[test]
    fn output_is_capped_with_an_ellipsis() {
        let mut out = Output::default();
        out.push(&[b'a'; 3000]);
        out.push(&[b'b'; 3000]);
        let text = out.text();
        assert_eq!(text.len(), MAX_OUTPUT + 3);
        assert!(text.ends_with("bbb..."));
    }
}
