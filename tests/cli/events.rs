//! `berth events`: every change, made by any berth process (the CLI verb or a container's
//! monitor), reaches a follower at once and is replayed with `--since`/`--until`.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{Berth, IMAGE};
use serde_json::Value;

/// A `berth events --format json` follower whose lines arrive on a channel.
struct Follower {
    child: Child,
    lines: mpsc::Receiver<Value>,
}

impl Follower {
    /// Starts following, replaying from the moment of the call: whatever happens after it
    /// is seen, however long the follower takes to start.
    fn start(berth: &Berth, extra: &[&str]) -> Follower {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
            .to_string();
        let mut child = berth
            .cmd()
            .args(["events", "--format", "json", "--since", &since])
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn berth events");
        let stdout = child.stdout.take().expect("piped stdout");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let value = serde_json::from_str(&line).expect("events prints JSON lines");
                if send.send(value).is_err() {
                    return;
                }
            }
        });
        Follower { child, lines }
    }

    /// Waits for the next event whose Type and Action match.
    fn expect(&self, object: &str, action: &str) -> Value {
        loop {
            let event = self
                .lines
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("no {object} {action} event within 10 s"));
            if event["Type"] == object && event["Action"] == action {
                return event;
            }
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_follower_sees_every_change_in_order_as_it_happens() {
    let berth = Berth::with_image();
    let follower = Follower::start(&berth, &[]);
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "-l",
        "team=a",
        "-v",
        "cache:/cache",
        IMAGE,
        "sleep",
        "60",
    ]);
    let id = berth.ok(&["ps", "-q", "--no-trunc"]).trim().to_owned();
    assert_eq!(follower.expect("volume", "create")["Actor"]["ID"], "cache");
    let created = follower.expect("container", "create");
    assert_eq!(created["Actor"]["ID"], id.as_str());
    assert_eq!(created["Actor"]["Attributes"]["name"], "web");
    assert_eq!(created["Actor"]["Attributes"]["team"], "a");
    assert_eq!(created["status"], "create");
    assert_eq!(created["from"], IMAGE);
    follower.expect("container", "start");

    assert_eq!(
        berth
            .run(&["exec", "web", "sh", "-c", "exit 4"])
            .status
            .code(),
        Some(4)
    );
    follower.expect("container", "exec_start: sh -c exit 4");
    let exec_die = follower.expect("container", "exec_die");
    assert_eq!(exec_die["Actor"]["Attributes"]["exitCode"], "4");

    berth.ok(&["stop", "-t", "0", "web"]);
    // `sleep` as pid 1 ignores SIGTERM: the kill comes next, then the monitor's die.
    let kill = follower.expect("container", "kill");
    assert_eq!(kill["Actor"]["Attributes"]["signal"], "15");
    let die = follower.expect("container", "die");
    assert_eq!(die["Actor"]["Attributes"]["exitCode"], "137");
    follower.expect("container", "stop");
    berth.ok(&["rm", "web"]);
    follower.expect("container", "destroy");
    berth.ok(&["volume", "rm", "cache"]);
    follower.expect("volume", "destroy");

    berth.ok(&["tag", IMAGE, "mine:1"]);
    assert_eq!(
        follower.expect("image", "tag")["Actor"]["Attributes"]["name"],
        "mine:1"
    );
    berth.ok(&["rmi", "mine:1"]);
    follower.expect("image", "untag");
}

#[test]
fn a_container_that_exits_by_itself_is_reported_by_its_monitor() {
    let berth = Berth::with_image();
    let follower = Follower::start(&berth, &["--filter", "event=die"]);
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "brief",
        IMAGE,
        "sh",
        "-c",
        "sleep 1; exit 9",
    ]);
    // The CLI is long gone: only the monitor can write this.
    let die = follower.expect("container", "die");
    assert_eq!(die["Actor"]["Attributes"]["name"], "brief");
    assert_eq!(die["Actor"]["Attributes"]["exitCode"], "9");
}

#[test]
fn since_and_until_replay_the_journal_with_filters() {
    let berth = Berth::with_image();
    berth.ok(&["run", "--name", "first", IMAGE, "true"]);
    let second = berth.run(&[
        "run", "--rm", "--name", "second", IMAGE, "sh", "-c", "exit 2",
    ]);
    assert_eq!(second.status.code(), Some(2));
    berth.ok(&["volume", "create", "kept"]);

    let all = berth.ok(&["events", "--since", "1h", "--until", "0s"]);
    let actions: Vec<(&str, &str)> = all
        .lines()
        .map(|l| {
            let mut words = l.split(' ');
            let _time = words.next();
            (words.next().unwrap(), words.next().unwrap())
        })
        .collect();
    assert_eq!(actions.first(), Some(&("image", "load")), "{all}");
    assert_eq!(actions.last(), Some(&("volume", "create")), "{all}");
    // `--rm`: the monitor reports the exit, then the removal.
    let second: Vec<&str> = all
        .lines()
        .filter(|l| l.contains("name=second"))
        .map(|l| l.split(' ').nth(2).unwrap())
        .collect();
    assert_eq!(second, ["create", "start", "die", "destroy"], "{all}");

    let dies = berth.ok(&[
        "events",
        "--since",
        "1h",
        "--until",
        "0s",
        "-f",
        "type=container",
        "-f",
        "event=die",
    ]);
    let codes: Vec<&str> = dies
        .lines()
        .map(|l| {
            assert!(l.contains(" container die "), "{l}");
            l.split("exitCode=")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(codes, ["0", "2"], "{dies}");
    let named = berth.ok(&[
        "events",
        "--since",
        "1h",
        "--until",
        "0s",
        "-f",
        "container=first",
    ]);
    assert!(named.lines().count() >= 3 && named.lines().all(|l| l.contains("name=first")));
    // Nothing before --since.
    assert_eq!(berth.ok(&["events", "--since", "0s", "--until", "0s"]), "");

    let err = berth.fail(&["events", "--since", "yesterday-ish", "--until", "0s"]);
    assert!(err.contains("invalid time \"yesterday-ish\""), "{err}");
    let err = berth.fail(&["events", "--until", "0s", "-f", "colour=red"]);
    assert!(err.contains("colour"), "{err}");
}

/// Labels are the image's or the user's: one named `name` or `image` does not rename the
/// container in its events, a huge one does not hide them, and many are cut to a bound.
#[test]
fn labels_neither_rename_nor_hide_a_containers_events() {
    let berth = Berth::with_image();
    let big = format!("big={}", "x".repeat(70 * 1024));
    let mut args = vec![
        "create",
        "--name",
        "real",
        "--label",
        "name=evil",
        "--label",
        "image=fake",
        "--label",
    ];
    args.push(&big);
    let many: Vec<String> = (0..200).map(|i| format!("l{i:03}=v")).collect();
    for label in &many {
        args.extend(["--label", label]);
    }
    args.push(IMAGE);
    args.push("true");
    berth.ok(&args);
    let all = berth.ok(&[
        "events",
        "--since",
        "1h",
        "--until",
        "0s",
        "--format",
        "json",
        "-f",
        "event=create",
    ]);
    let creates: Vec<Value> = all
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|e: &Value| e["Type"] == "container")
        .collect();
    assert_eq!(creates.len(), 1, "{all}");
    let attributes = creates[0]["Actor"]["Attributes"].as_object().unwrap();
    assert_eq!(attributes["name"], "real");
    assert_eq!(attributes["image"], IMAGE);
    assert!(attributes.len() <= 70, "{} attributes", attributes.len());
    let big = attributes.get("big").and_then(Value::as_str).unwrap_or("");
    assert!(big.len() <= 256, "a label of {} bytes", big.len());
}
