//! Health checks run by the monitor (`--health-*`, `--no-healthcheck`, the image's
//! HEALTHCHECK), as Docker users meet them in `ps`, `inspect` and `events`.

use crate::common;

use std::time::{Duration, Instant};

use common::{wait_until, Berth, IMAGE};

fn health(berth: &Berth, name: &str) -> serde_json::Value {
    berth.inspect(name)["State"]["Health"].clone()
}

fn health_status(berth: &Berth, name: &str) -> String {
    health(berth, name)["Status"]
        .as_str()
        .unwrap_or("none")
        .to_owned()
}

/// The STATUS column of `ps -a` for `name`.
fn ps_status(berth: &Berth, name: &str) -> String {
    berth
        .ok(&[
            "ps",
            "-a",
            "--filter",
            &format!("name={name}"),
            "--format",
            "{{.Status}}",
        ])
        .trim()
        .to_owned()
}

/// The names `ps` lists with `--filter health=VALUE`.
fn ps_health(berth: &Berth, value: &str) -> Vec<String> {
    berth
        .ok(&[
            "ps",
            "--filter",
            &format!("health={value}"),
            "--format",
            "{{.Names}}",
        ])
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_service_becomes_healthy_once_ready_exists_and_ps_inspect_and_events_say_so() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "svc",
        "--health-cmd",
        "test -f /ready && echo ready",
        "--health-interval",
        "200ms",
        "--health-retries",
        "1000",
        IMAGE,
        "sleep",
        "300",
    ]);
    let info = berth.inspect("svc");
    assert_eq!(
        info["Config"]["Healthcheck"],
        serde_json::json!({
            "Test": ["CMD-SHELL", "test -f /ready && echo ready"],
            "Interval": 200_000_000u64,
            "Retries": 1000,
        })
    );
    // Failing probes while it starts: starting, with their results in the log.
    wait_until("a failed probe", || {
        health(&berth, "svc")["Log"]
            .as_array()
            .is_some_and(|l| !l.is_empty())
    });
    assert_eq!(health_status(&berth, "svc"), "starting");
    assert!(
        ps_status(&berth, "svc").ends_with("(health: starting)"),
        "{}",
        ps_status(&berth, "svc")
    );
    assert_eq!(ps_health(&berth, "starting"), ["svc"]);
    assert!(ps_health(&berth, "healthy").is_empty());
    assert_eq!(health(&berth, "svc")["Log"][0]["ExitCode"], 1);

    berth.ok(&["exec", "svc", "touch", "/ready"]);
    wait_until("healthy", || health_status(&berth, "svc") == "healthy");
    let h = health(&berth, "svc");
    assert_eq!(h["FailingStreak"], 0, "{h}");
    let log = h["Log"].as_array().unwrap();
    assert!(log.len() <= 5, "{h}");
    let last = log.last().unwrap();
    assert_eq!(last["ExitCode"], 0, "{h}");
    assert_eq!(last["Output"], "ready\n", "{h}");
    assert!(last["Start"].as_str().unwrap() <= last["End"].as_str().unwrap());
    let status = ps_status(&berth, "svc");
    assert!(
        status.starts_with("Up ") && status.ends_with(" (healthy)"),
        "{status}"
    );
    assert_eq!(ps_health(&berth, "healthy"), ["svc"]);
    assert!(ps_health(&berth, "none").is_empty());
    let events = berth.container_actions("svc", "0");
    assert_eq!(
        events
            .iter()
            .filter(|a| *a == "health_status: healthy")
            .count(),
        1,
        "{events:?}"
    );
    // More probes pass; the log keeps the last five.
    wait_until("a full log", || {
        health(&berth, "svc")["Log"].as_array().unwrap().len() == 5
    });
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(health(&berth, "svc")["Log"].as_array().unwrap().len(), 5);
    berth.ok(&["rm", "-f", "svc"]);
}

#[test]
fn failing_probes_make_it_unhealthy_after_the_retries() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "sick",
        "--health-cmd",
        "echo nope >&2; exit 3",
        "--health-interval",
        "100ms",
        "--health-retries",
        "2",
        IMAGE,
        "sleep",
        "300",
    ]);
    wait_until("unhealthy", || health_status(&berth, "sick") == "unhealthy");
    let h = health(&berth, "sick");
    assert!(h["FailingStreak"].as_u64().unwrap() >= 2, "{h}");
    let first = &h["Log"][0];
    assert_eq!(first["ExitCode"], 3, "{h}");
    assert_eq!(first["Output"], "nope\n", "{h}");
    assert!(ps_status(&berth, "sick").ends_with(" (unhealthy)"));
    assert_eq!(ps_health(&berth, "unhealthy"), ["sick"]);
    let events = berth.container_actions("sick", "0");
    assert!(
        events.iter().any(|a| a == "health_status: unhealthy"),
        "{events:?}"
    );
    assert!(!events.iter().any(|a| a == "health_status: healthy"));
    berth.ok(&["rm", "-f", "sick"]);
}

#[test]
fn no_healthcheck_disables_the_images_healthcheck() {
    let berth = Berth::with_image();
    berth.ok(&["create", "--name", "base", IMAGE, "sleep", "300"]);
    berth.ok(&[
        "commit",
        "--change",
        "HEALTHCHECK --interval=100ms --retries=1 CMD exit 1",
        "base",
        "checked:1",
    ]);
    let image = berth.json(&["image", "inspect", "checked:1"]);
    assert_eq!(
        image["Config"]["Healthcheck"],
        serde_json::json!({"Test": ["CMD-SHELL", "exit 1"], "Interval": 100_000_000u64, "Retries": 1})
    );
    // The image's check applies; a flag overrides one field of it.
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "inherits",
        "--health-timeout",
        "5s",
        "checked:1",
    ]);
    assert_eq!(
        berth.inspect("inherits")["Config"]["Healthcheck"],
        serde_json::json!({
            "Test": ["CMD-SHELL", "exit 1"],
            "Interval": 100_000_000u64,
            "Timeout": 5_000_000_000u64,
            "Retries": 1,
        })
    );
    wait_until("the image's check to fail", || {
        health_status(&berth, "inherits") == "unhealthy"
    });
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "off",
        "--no-healthcheck",
        "checked:1",
    ]);
    let info = berth.inspect("off");
    assert_eq!(
        info["Config"]["Healthcheck"]["Test"],
        serde_json::json!(["NONE"])
    );
    std::thread::sleep(Duration::from_millis(500));
    let info = berth.inspect("off");
    assert!(info["State"].get("Health").is_none(), "{info}");
    let status = ps_status(&berth, "off");
    assert!(
        status.starts_with("Up ") && !status.contains('('),
        "{status}"
    );
    assert_eq!(ps_health(&berth, "none"), ["off"]);
    berth.ok(&["rm", "-f", "inherits", "off"]);
}

#[test]
fn a_probe_past_its_timeout_is_killed_and_the_monitor_keeps_serving() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "slow",
        "--health-cmd",
        "echo started; sleep 1000",
        "--health-timeout",
        "300ms",
        "--health-interval",
        "100ms",
        "--health-retries",
        "2",
        IMAGE,
        "sh",
        "-c",
        "echo hello; exec sleep 300",
    ]);
    wait_until("unhealthy", || health_status(&berth, "slow") == "unhealthy");
    let h = health(&berth, "slow");
    let first = &h["Log"][0];
    assert_eq!(first["ExitCode"], -1, "{h}");
    assert_eq!(
        first["Output"], "Health check exceeded timeout (300ms): started\n",
        "{h}"
    );
    // Each overrun probe was killed: at most the one in flight is left.
    wait_until("a few more probes", || {
        health(&berth, "slow")["FailingStreak"].as_u64().unwrap() >= 5
    });
    let ps = berth.ok(&["exec", "slow", "ps", "-o", "args"]);
    let sleeping = ps.lines().filter(|l| l.contains("sleep 1000")).count();
    assert!(sleeping <= 1, "{ps}");
    // The monitor still serves the logs and stops the container at once.
    assert_eq!(berth.ok(&["logs", "slow"]), "hello\n");
    let began = Instant::now();
    berth.ok(&["stop", "-t", "1", "slow"]);
    assert!(began.elapsed() < Duration::from_secs(10));
    let info = berth.inspect("slow");
    assert_eq!(info["State"]["Status"], "exited");
    // Docker's: a check that stopped with its container leaves it unhealthy.
    assert_eq!(info["State"]["Health"]["Status"], "unhealthy");
    berth.ok(&["rm", "slow"]);
}

#[test]
fn bad_health_values_are_refused_with_125_and_nothing_is_created() {
    let berth = Berth::with_image();
    let cases = [
        (
            vec!["--health-interval", "-1s"],
            "--health-interval cannot be negative",
        ),
        (
            vec!["--health-retries", "-1"],
            "--health-retries cannot be negative",
        ),
        (
            vec!["--health-timeout", "soon"],
            "time: invalid duration \"soon\"",
        ),
        (
            vec!["--health-start-period", "-5m"],
            "--health-start-period cannot be negative",
        ),
        (
            vec!["--no-healthcheck", "--health-cmd", "true"],
            "--no-healthcheck conflicts with --health-* options",
        ),
        (
            vec!["--health-cmd", "true", "--health-interval", "500us"],
            "Interval in Healthcheck cannot be less than 1ms",
        ),
    ];
    common::refused_by_create_and_run(&berth, &cases);
    let err = berth.fail(&["ps", "--filter", "health=sickly"]);
    assert!(err.contains("health=sickly"), "{err}");
}

/// A probe that changes nothing but the log rewrites a small health file, not the
/// container's record (no engine lock, no fsync of the record): the record's file stays
/// the same while inspect shows each new result.
#[test]
fn probes_leave_the_record_alone_until_the_status_changes() {
    let berth = Berth::with_image();
    let id = berth
        .ok(&[
            "run",
            "-d",
            "--name",
            "steady",
            "--health-cmd",
            "test ! -f /sick",
            "--health-interval",
            "100ms",
            "--health-retries",
            "2",
            IMAGE,
            "sleep",
            "300",
        ])
        .trim()
        .to_owned();
    wait_until("healthy", || health_status(&berth, "steady") == "healthy");
    let record = berth
        .root()
        .join("containers")
        .join(&id)
        .join("record.json");
    let written = |path: &std::path::Path| {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).unwrap();
        (m.ino(), m.mtime(), m.mtime_nsec())
    };
    let before = written(&record);
    let last_end = |h: &serde_json::Value| h["Log"][4]["End"].as_str().unwrap_or("").to_owned();
    wait_until("five results", || {
        health(&berth, "steady")["Log"].as_array().unwrap().len() == 5
    });
    let seen = last_end(&health(&berth, "steady"));
    wait_until("more results", || {
        last_end(&health(&berth, "steady")) != seen
    });
    assert_eq!(written(&record), before, "a probe rewrote record.json");
    // A change of status reaches every reader: inspect, ps and its filter, the event.
    berth.ok(&["exec", "steady", "touch", "/sick"]);
    wait_until("unhealthy", || {
        health_status(&berth, "steady") == "unhealthy"
    });
    assert_eq!(ps_health(&berth, "unhealthy"), ["steady"]);
    assert!(ps_status(&berth, "steady").ends_with("(unhealthy)"));
    assert!(berth
        .container_actions("steady", "0")
        .contains(&"health_status: unhealthy".to_owned()));
    // Stopped, the record keeps the last results.
    berth.ok(&["stop", "-t", "1", "steady"]);
    let h = health(&berth, "steady");
    assert_eq!(h["Status"], "unhealthy");
    assert_eq!(h["Log"][0]["ExitCode"], 1, "{h}");
    berth.ok(&["rm", "steady"]);
}

/// Docker's: a paused container is not probed, so it doesn't turn unhealthy however long
/// it stays paused; the probes go on once it is unpaused.
#[test]
fn a_paused_container_is_not_probed() {
    let berth = Berth::with_image();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ready"), "").unwrap();
    let bind = format!("{}:/state", dir.path().display());
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "napping",
        "-v",
        &bind,
        "--health-cmd",
        "cat /state/ready",
        "--health-interval",
        "100ms",
        "--health-timeout",
        "200ms",
        "--health-retries",
        "1",
        IMAGE,
        "sleep",
        "300",
    ]);
    wait_until("healthy", || health_status(&berth, "napping") == "healthy");
    berth.ok(&["pause", "napping"]);
    // A probe in flight when it froze is not counted either.
    std::thread::sleep(Duration::from_millis(500));
    let paused = health(&berth, "napping");
    // Any probe now would fail (the file is gone) or hang (the container is frozen).
    std::fs::remove_file(dir.path().join("ready")).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let h = health(&berth, "napping");
    assert_eq!(h["Status"], "healthy", "{h}");
    assert_eq!(h["Log"], paused["Log"], "probed while paused");
    assert!(ps_status(&berth, "napping").contains("Paused"));
    berth.ok(&["unpause", "napping"]);
    wait_until("unhealthy once probed", || {
        health_status(&berth, "napping") == "unhealthy"
    });
    berth.ok(&["rm", "-f", "napping"]);
}
