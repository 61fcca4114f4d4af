//! Restart policies without a daemon (`--restart`, the monitor's loop, `system boot`),
//! the stop signal and timeout, and `update --restart`, as Docker users meet them.

use crate::common;

use std::time::{Duration, Instant};

use common::{code, now_secs, processes_of, wait_until, Berth, IMAGE};

fn status(berth: &Berth, name: &str) -> String {
    berth.inspect(name)["State"]["Status"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn restart_count(berth: &Berth, name: &str) -> u64 {
    berth.inspect(name)["RestartCount"].as_u64().unwrap()
}

/// How many events `action` the journal holds for the container `name`.
fn events(berth: &Berth, name: &str, action: &str) -> usize {
    let actions = berth.container_actions(name, "0");
    actions.iter().filter(|a| *a == action).count()
}

#[test]
fn on_failure_2_restarts_false_exactly_twice_then_stays_exited() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "flaky",
        "--restart",
        "on-failure:2",
        IMAGE,
        "false",
    ]);
    wait_until("the third exit", || status(&berth, "flaky") == "exited");
    let info = berth.inspect("flaky");
    assert_eq!(info["RestartCount"], 2, "{info}");
    assert_eq!(info["State"]["ExitCode"], 1);
    assert_eq!(info["State"]["Restarting"], false);
    assert_eq!(
        info["HostConfig"]["RestartPolicy"],
        serde_json::json!({"Name": "on-failure", "MaximumRetryCount": 2})
    );
    // Each run starts and dies once, as `docker events` shows it: three of each.
    assert_eq!(events(&berth, "flaky", "start"), 3);
    assert_eq!(events(&berth, "flaky", "die"), 3);
    // The loop is over: the monitor is gone, nothing starts it again.
    wait_until("the monitor to exit", || {
        processes_of(berth.root()).is_empty()
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(restart_count(&berth, "flaky"), 2);
}

#[test]
fn always_restarts_in_the_same_container_and_ps_shows_the_wait_between_tries() {
    let berth = Berth::with_image();
    // Each run notes its address in the container's own filesystem.
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "again",
        "--restart",
        "always",
        IMAGE,
        "sh",
        "-c",
        "ip -4 -o addr show eth0 | awk '{print $4}' >> /runs; exit 3",
    ]);
    wait_until("a few restarts", || restart_count(&berth, "again") >= 3);
    // The backoff doubles: by now most of the time is spent waiting, as `ps` says.
    wait_until("ps to show the wait", || {
        let ps = berth.ok(&["ps"]);
        ps.lines()
            .any(|l| l.contains("again") && l.contains("Restarting (3)"))
    });
    let info = berth.inspect("again");
    assert_eq!(info["State"]["Running"], true, "{info}");
    let ip = info["NetworkSettings"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!ip.is_empty(), "{info}");
    berth.ok(&["stop", "again"]);
    // Same writable layer, same network endpoint: every run wrote its line, each with
    // the address the container was given at create.
    let runs_file = berth.upper_dir("again").join("runs");
    let runs = std::fs::read_to_string(&runs_file).unwrap();
    let lines: Vec<&str> = runs.lines().collect();
    // RestartCount counts the exits a run followed: three of them, three runs at least.
    assert!(lines.len() >= 3, "{runs}");
    for line in &lines {
        assert_eq!(line.split('/').next(), Some(ip.as_str()), "{runs}");
    }
}

#[test]
fn stop_and_kill_end_the_restart_loop() {
    let berth = Berth::with_image();
    for name in ["stopped", "killed", "waiting"] {
        let cmd = if name == "waiting" {
            "false"
        } else {
            "sleep 1000"
        };
        berth.ok(&[
            "run",
            "-d",
            "--name",
            name,
            "--restart",
            "always",
            IMAGE,
            "sh",
            "-c",
            cmd,
        ]);
    }
    // A running one, stopped: its exit is final.
    berth.ok(&["stop", "-t", "1", "stopped"]);
    // A running one, killed by the user.
    berth.ok(&["kill", "killed"]);
    wait_until("the kill to be recorded", || {
        status(&berth, "killed") == "exited"
    });
    // One waiting out its backoff between two runs.
    wait_until("the wait between tries", || {
        status(&berth, "waiting") == "restarting"
    });
    let started = Instant::now();
    berth.ok(&["stop", "waiting"]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stop waited out the backoff"
    );
    wait_until("every monitor to exit", || {
        processes_of(berth.root()).is_empty()
    });
    let counts: Vec<u64> = ["stopped", "killed", "waiting"]
        .iter()
        .map(|n| restart_count(&berth, n))
        .collect();
    std::thread::sleep(Duration::from_millis(800));
    for (name, count) in ["stopped", "killed", "waiting"].iter().zip(counts) {
        assert_eq!(status(&berth, name), "exited", "{name}");
        assert_eq!(restart_count(&berth, name), count, "{name} restarted");
    }
    assert_eq!(berth.inspect("killed")["State"]["ExitCode"], 137);
    // `restart` stops and starts: the policy applies again, the count begins anew.
    assert_eq!(berth.ok(&["restart", "-t", "0", "killed"]), "killed\n");
    assert_eq!(status(&berth, "killed"), "running");
    assert_eq!(restart_count(&berth, "killed"), 0);
    let pid = berth.inspect("killed")["State"]["Pid"].as_i64().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::SIGKILL,
    )
    .unwrap();
    wait_until("the policy to restart it", || {
        restart_count(&berth, "killed") == 1
    });
    // The user's start begins anew, as Docker's: the count back at 0.
    berth.ok(&["start", "waiting"]);
    wait_until("the new loop", || status(&berth, "waiting") != "exited");
    berth.ok(&["rm", "-f", "waiting"]);
    assert!(berth.run(&["inspect", "waiting"]).status.code() != Some(0));
}

#[test]
fn always_comes_back_after_its_monitor_is_killed_at_system_boot() {
    let berth = Berth::with_image();
    for (name, policy) in [
        ("always", "always"),
        ("unless", "unless-stopped"),
        ("user-stopped", "unless-stopped"),
        ("never", "no"),
    ] {
        berth.ok(&[
            "run",
            "-d",
            "--name",
            name,
            "--restart",
            policy,
            IMAGE,
            "sleep",
            "1000",
        ]);
    }
    berth.ok(&["stop", "-t", "0", "user-stopped"]);
    // What a reboot leaves: no monitor (their containers die with them).
    let monitors = processes_of(berth.root());
    assert_eq!(monitors.len(), 3, "{monitors:?}");
    for pid in monitors {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL).unwrap();
    }
    wait_until("the monitors to die", || {
        processes_of(berth.root()).is_empty()
    });
    for name in ["always", "unless", "never"] {
        assert_eq!(status(&berth, name), "exited", "{name}");
    }
    let booted = berth.ok(&["system", "boot"]);
    let mut booted: Vec<&str> = booted.lines().collect();
    booted.sort();
    assert_eq!(booted, ["always", "unless"]);
    for (name, state) in [
        ("always", "running"),
        ("unless", "running"),
        ("user-stopped", "exited"),
        ("never", "exited"),
    ] {
        assert_eq!(status(&berth, name), state, "{name}");
    }
    // Running it again starts nothing more.
    assert_eq!(berth.ok(&["system", "boot"]), "");
    assert_eq!(processes_of(berth.root()).len(), 2);
    // And the booted one is supervised again: its process dying restarts it.
    let pid = berth.inspect("always")["State"]["Pid"].as_i64().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::SIGKILL,
    )
    .unwrap();
    wait_until("the restart", || restart_count(&berth, "always") == 1);
    wait_until("it to run again", || status(&berth, "always") == "running");
}

#[test]
fn the_stop_signal_is_what_stop_sends_and_a_trap_in_the_container_gets_it() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "trapper",
        "--stop-signal",
        "SIGUSR1",
        "--stop-timeout",
        "30",
        IMAGE,
        "sh",
        "-c",
        "trap 'echo got USR1; exit 42' USR1; echo ready; while :; do sleep 0.1; done",
    ]);
    // The trap is set once the shell says so.
    wait_until("the trap", || berth.ok(&["logs", "trapper"]) == "ready\n");
    let info = berth.inspect("trapper");
    assert_eq!(info["Config"]["StopSignal"], "SIGUSR1", "{info}");
    assert_eq!(info["Config"]["StopTimeout"], 30, "{info}");
    // Not the SIGKILL after the timeout: the trap's own exit code, at once.
    let started = Instant::now();
    berth.ok(&["stop", "trapper"]);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(berth.inspect("trapper")["State"]["ExitCode"], 42);
    assert_eq!(berth.ok(&["logs", "trapper"]), "ready\ngot USR1\n");
    // Without them, Docker's inspect has neither field.
    berth.ok(&["create", "--name", "plain", IMAGE, "true"]);
    let config = &berth.inspect("plain")["Config"];
    assert!(config.get("StopSignal").is_none(), "{config}");
    assert!(config.get("StopTimeout").is_none(), "{config}");
    assert_eq!(
        berth.inspect("plain")["HostConfig"]["RestartPolicy"],
        serde_json::json!({"Name": "no", "MaximumRetryCount": 0})
    );
}

#[test]
fn a_short_stop_timeout_ends_in_sigkill() {
    let berth = Berth::with_image();
    // PID 1 ignores a SIGTERM it has no handler for: only the SIGKILL ends it.
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "stubborn",
        "--stop-timeout",
        "1",
        IMAGE,
        "sleep",
        "1000",
    ]);
    let started = Instant::now();
    berth.ok(&["stop", "stubborn"]);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(8),
        "{took:?}"
    );
    assert_eq!(berth.inspect("stubborn")["State"]["ExitCode"], 137);
}

#[test]
fn bad_restart_and_stop_values_are_refused_with_125_and_nothing_is_created() {
    let berth = Berth::with_image();
    for (args, message) in [
        (
            &["--restart", "always", "--rm"][..],
            "Conflicting options: --restart and --rm",
        ),
        (&["--restart", "sometimes"], "unknown policy 'sometimes'"),
        (
            &["--restart", "always:3"],
            "maximum retry count can only be used with 'on-failure'",
        ),
        (
            &["--restart", "on-failure:x"],
            "maximum retry count must be an integer",
        ),
        (
            &["--restart", "on-failure:-1"],
            "maximum retry count cannot be negative",
        ),
        (&["--stop-signal", "SIGNOPE"], "Invalid signal: SIGNOPE"),
        (&["--stop-timeout", "soon"], "invalid argument \"soon\""),
    ] {
        for verb in ["run", "create"] {
            let mut line = vec![verb];
            line.extend_from_slice(args);
            line.extend([IMAGE, "true"]);
            let out = berth.run(&line);
            assert_eq!(code(&out), 125, "{line:?}: {}", common::stderr(&out));
            assert!(
                common::stderr(&out).contains(message),
                "{line:?}: {}",
                common::stderr(&out)
            );
        }
    }
    assert_eq!(berth.ok(&["ps", "-aq"]), "");
    // `--restart no` goes with `--rm`.
    berth.ok(&["create", "--restart", "no", "--rm", IMAGE, "true"]);
}

#[test]
fn update_restart_applies_to_a_running_container() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "svc",
        IMAGE,
        "sh",
        "-c",
        "while [ ! -e /tmp/quit ]; do sleep 0.1; done; rm /tmp/quit; exit 3",
    ]);
    assert_eq!(
        berth.ok(&["update", "--restart", "on-failure:1", "svc"]),
        "svc\n"
    );
    assert_eq!(
        berth.inspect("svc")["HostConfig"]["RestartPolicy"],
        serde_json::json!({"Name": "on-failure", "MaximumRetryCount": 1})
    );
    assert_eq!(events(&berth, "svc", "update"), 1);
    // The monitor reads it at the exit: one restart, then the count is spent.
    berth.ok(&["exec", "svc", "touch", "/tmp/quit"]);
    wait_until("the restart", || restart_count(&berth, "svc") == 1);
    wait_until("it to run again", || status(&berth, "svc") == "running");
    berth.ok(&["exec", "svc", "touch", "/tmp/quit"]);
    wait_until("the final exit", || status(&berth, "svc") == "exited");
    assert_eq!(restart_count(&berth, "svc"), 1);
    // Docker's checks: a value, a policy, and none with --rm.
    assert!(berth.fail(&["update", "svc"]).contains("one or more flags"));
    let out = berth.run(&["container", "update", "--restart", "bad", "svc"]);
    assert_eq!(code(&out), 1);
    assert!(common::stderr(&out).contains("unknown policy 'bad'"));
    berth.ok(&["create", "--name", "temp", "--rm", IMAGE, "true"]);
    let err = berth.fail(&["update", "--restart", "always", "temp"]);
    assert!(err.contains("AutoRemove"), "{err}");
}

#[test]
fn the_images_stop_signal_is_used_unless_the_flag_replaces_it() {
    let berth = Berth::with_image();
    berth.ok(&["create", "--name", "base", IMAGE, "true"]);
    berth.ok(&[
        "commit",
        "--change",
        "STOPSIGNAL SIGUSR2",
        "base",
        "berth-test/stops:usr2",
    ]);
    const TRAP: &str =
        "trap 'exit 12' USR2; trap 'exit 15' TERM; echo ready; while :; do sleep 0.1; done";
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "image-own",
        "berth-test/stops:usr2",
        "sh",
        "-c",
        TRAP,
    ]);
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "flag-own",
        "--stop-signal",
        "TERM",
        "berth-test/stops:usr2",
        "sh",
        "-c",
        TRAP,
    ]);
    assert_eq!(
        berth.inspect("image-own")["Config"]["StopSignal"],
        "SIGUSR2"
    );
    assert_eq!(berth.inspect("flag-own")["Config"]["StopSignal"], "TERM");
    for name in ["image-own", "flag-own"] {
        wait_until("the traps", || berth.ok(&["logs", name]) == "ready\n");
    }
    berth.ok(&["stop", "image-own", "flag-own"]);
    assert_eq!(berth.inspect("image-own")["State"]["ExitCode"], 12);
    assert_eq!(berth.inspect("flag-own")["State"]["ExitCode"], 15);
}

/// `system shutdown` (the boot unit's ExecStop) stops every running container as Docker's
/// daemon does when it stops: its stop signal and timeout, no restart now, and not as the
/// user's stop, so `system boot` brings back `unless-stopped` too. Twice stops nothing more.
#[test]
fn system_shutdown_stops_gracefully_and_boot_brings_back_what_the_policies_say() {
    let berth = Berth::with_image();
    let trap = "trap 'echo got USR1; exit 3' USR1; echo ready; while :; do sleep 0.1; done";
    for (name, policy) in [
        ("always", "always"),
        ("unless", "unless-stopped"),
        ("user-stopped", "unless-stopped"),
        ("never", "no"),
    ] {
        berth.ok(&[
            "run",
            "-d",
            "--name",
            name,
            "--restart",
            policy,
            "--stop-signal",
            "USR1",
            IMAGE,
            "sh",
            "-c",
            trap,
        ]);
    }
    berth.ok(&[
        "create",
        "--name",
        "created",
        "--restart",
        "always",
        IMAGE,
        "true",
    ]);
    berth.ok(&["pause", "never"]);
    berth.ok(&["stop", "user-stopped"]);
    for name in ["always", "unless", "never"] {
        wait_until("the trap", || berth.ok(&["logs", name]) == "ready\n");
    }
    let out = berth.ok(&["system", "shutdown"]);
    let mut stopped: Vec<&str> = out.lines().collect();
    stopped.sort();
    assert_eq!(stopped, ["always", "never", "unless"]);
    for name in ["always", "unless", "never"] {
        // The stop signal reached the trap: a graceful stop, not the SIGKILL.
        assert_eq!(berth.ok(&["logs", name]), "ready\ngot USR1\n", "{name}");
        assert_eq!(berth.inspect(name)["State"]["ExitCode"], 3, "{name}");
    }
    // Not restarted by their monitors: nothing of berth's runs any more.
    std::thread::sleep(Duration::from_millis(500));
    assert!(processes_of(berth.root()).is_empty());
    for name in ["always", "unless", "never", "user-stopped"] {
        assert_eq!(status(&berth, name), "exited", "{name}");
        assert_eq!(restart_count(&berth, name), 0, "{name}");
    }
    assert_eq!(berth.ok(&["system", "shutdown"]), "");
    let booted = berth.ok(&["system", "boot"]);
    let mut booted: Vec<&str> = booted.lines().collect();
    booted.sort();
    assert_eq!(booted, ["always", "unless"]);
    assert_eq!(status(&berth, "user-stopped"), "exited");
    assert_eq!(status(&berth, "created"), "created");
    berth.ok(&["rm", "-f", "always", "unless"]);
}

/// Docker's `die` event says how long the process ran: `execDuration`, in whole seconds.
#[test]
fn the_die_event_has_the_exec_duration() {
    let berth = Berth::with_image();
    berth.ok(&["run", "--name", "brief", IMAGE, "sleep", "1.2"]);
    let until = now_secs();
    let out = berth.ok(&[
        "events",
        "--since",
        "0",
        "--until",
        &until,
        "--format",
        "json",
        "--filter",
        "event=die",
    ]);
    let die: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let attributes = &die["Actor"]["Attributes"];
    assert_eq!(attributes["exitCode"], "0", "{die}");
    assert_eq!(attributes["execDuration"], "1", "{die}");
}

/// Restarts and starts of one container at once (a key pressed twice in the dashboard)
/// run one after another, as Docker's daemon orders them: each succeeds, the container
/// runs on its bridge, under one monitor.
#[test]
fn restarts_and_starts_at_once_take_turns() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "busy", IMAGE, "sleep", "1000"]);
    for _ in 0..3 {
        let verbs: Vec<std::process::Child> = [
            &["restart", "-t", "0", "busy"][..],
            &["restart", "-t", "0", "busy"][..],
            &["start", "busy"][..],
        ]
        .iter()
        .map(|args| berth.cmd().args(*args).spawn().expect("spawn berth"))
        .collect();
        for verb in verbs {
            let out = verb.wait_with_output().expect("wait for berth");
            assert!(out.status.success(), "{out:?}");
        }
    }
    assert_eq!(status(&berth, "busy"), "running");
    let ip = berth.inspect("busy")["NetworkSettings"]["IPAddress"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!ip.is_empty(), "no address on the bridge");
    let monitors: Vec<i32> = processes_of(berth.root())
        .into_iter()
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.starts_with("berth-monitor"))
        })
        .collect();
    assert_eq!(monitors.len(), 1, "monitors: {monitors:?}");
    berth.ok(&["rm", "-f", "busy"]);
}
