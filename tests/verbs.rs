//! The verbs Docker users expect that berth lacked: pause/unpause, export, container
//! prune, history, load from stdin, logs --since/--until/--details, attach. Output shape
//! and exit codes as Docker's.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{stderr, stdout, Berth, IMAGE};

fn code(out: &std::process::Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn now_secs() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        .to_string()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The events of `kind` recorded since `since`, as `events --format json` replays them.
fn actions_since(berth: &Berth, since: &str, name: &str) -> Vec<String> {
    let out = berth.ok(&[
        "events",
        "--since",
        since,
        "--until",
        &now_secs(),
        "--format",
        "json",
        "--filter",
        &format!("container={name}"),
    ]);
    out.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON event");
            v["Action"].as_str().unwrap_or_default().to_owned()
        })
        .collect()
}

/// A counter the container bumps every 50 ms, read from its writable layer.
fn counter(berth: &Berth, name: &str) -> String {
    std::fs::read_to_string(berth.upper_dir(name).join("n")).unwrap_or_default()
}

const TICKER: &str = "i=0; while true; do i=$((i+1)); echo $i > /n; sleep 0.05; done";

#[test]
fn pause_freezes_the_container_and_unpause_thaws_it() {
    let berth = Berth::with_image();
    let since = now_secs();
    berth.ok(&["run", "-d", "--name", "ticker", IMAGE, "sh", "-c", TICKER]);
    wait_until("the counter", || !counter(&berth, "ticker").is_empty());
    let id = berth.inspect("ticker")["Id"].as_str().unwrap().to_owned();

    assert_eq!(berth.ok(&["pause", "ticker"]), "ticker\n");
    let state = &berth.inspect("ticker")["State"];
    assert_eq!(state["Status"], "paused");
    assert_eq!(state["Paused"], true);
    assert_eq!(state["Running"], true);
    if Path::new("/sys/fs/cgroup/freezer").exists() {
        let file = format!("/sys/fs/cgroup/freezer/berth/{id}/freezer.state");
        assert_eq!(std::fs::read_to_string(file).unwrap().trim(), "FROZEN");
    }
    let frozen = counter(&berth, "ticker");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        counter(&berth, "ticker"),
        frozen,
        "the counter moved while paused"
    );

    // Listed as running, with Docker's status words; the status filter says paused.
    let ps = berth.ok(&["ps"]);
    let line = ps.lines().find(|l| l.contains("ticker")).expect("listed");
    assert!(line.contains("Up ") && line.contains("(Paused)"), "{ps}");
    let json = berth.ok(&["ps", "--format", "json"]);
    assert!(json.contains("\"State\":\"paused\""), "{json}");
    assert!(berth
        .ok(&["ps", "-q", "--filter", "status=paused"])
        .contains(&id[..12]));
    assert!(berth
        .ok(&["ps", "-q", "--filter", "status=running"])
        .is_empty());

    // No exec into a frozen container; no second pause.
    let out = berth.run(&["exec", "ticker", "true"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains(&format!(
            "container {id} is paused, unpause the container before exec"
        )),
        "{}",
        stderr(&out)
    );
    let out = berth.run(&["pause", "ticker"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("is already paused"),
        "{}",
        stderr(&out)
    );

    assert_eq!(berth.ok(&["unpause", "ticker"]), "ticker\n");
    assert_eq!(berth.inspect("ticker")["State"]["Status"], "running");
    assert_eq!(berth.inspect("ticker")["State"]["Paused"], false);
    wait_until("the counter to move again", || {
        counter(&berth, "ticker") != frozen
    });
    let out = berth.run(&["unpause", "ticker"]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("is not paused"), "{}", stderr(&out));
    assert!(berth.ok(&["exec", "ticker", "echo", "in"]).contains("in"));

    let actions = actions_since(&berth, &since, "ticker");
    let pause = actions.iter().position(|a| a == "pause");
    let unpause = actions.iter().position(|a| a == "unpause");
    assert!(pause.is_some() && unpause > pause, "{actions:?}");
}

#[test]
fn a_paused_container_can_be_stopped_killed_and_removed() {
    let berth = Berth::with_image();
    for name in ["a", "b", "c"] {
        berth.ok(&["run", "-d", "--name", name, IMAGE, "sh", "-c", TICKER]);
    }
    // Several at once, as stop: each name printed; a missing one fails the verb.
    let out = berth.run(&["pause", "a", "nope", "b", "c"]);
    assert_eq!(code(&out), 1);
    assert_eq!(stdout(&out), "a\nb\nc\n");
    assert!(
        stderr(&out).contains("No such container: nope"),
        "{}",
        stderr(&out)
    );

    // sh as PID 1 ignores SIGTERM: it is thawed and then killed after the timeout.
    assert_eq!(berth.ok(&["stop", "-t", "1", "a"]), "a\n");
    let state = &berth.inspect("a")["State"];
    assert_eq!(state["Status"], "exited");
    assert_eq!(state["Paused"], false);

    assert_eq!(berth.ok(&["kill", "b"]), "b\n");
    assert_eq!(berth.ok(&["wait", "b"]), "137\n");
    assert_eq!(berth.inspect("b")["State"]["Paused"], false);

    assert_eq!(berth.ok(&["rm", "-f", "c"]), "c\n");
    assert!(berth.fail(&["inspect", "c"]).contains("No such object: c"));

    // Only a running container pauses.
    let out = berth.run(&["pause", "a"]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("is not running"), "{}", stderr(&out));
    let out = berth.run(&["unpause", "nope"]);
    assert_eq!(code(&out), 1);
    assert_eq!(stderr(&out), "Error: No such container: nope\n");
}
