//! The verbs Docker users expect that berth lacked: pause/unpause, export, container
//! prune, history, load from stdin, logs --since/--until/--details, attach. Output shape
//! and exit codes as Docker's.

use crate::common;

use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{code, now_secs, stderr, stdout, wait_until, Berth, IMAGE};

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

    let actions = berth.container_actions("ticker", &since);
    let pause = actions.iter().position(|a| a == "pause");
    let unpause = actions.iter().position(|a| a == "unpause");
    assert!(pause.is_some() && unpause > pause, "{actions:?}");
}

#[test]
fn a_paused_container_can_be_stopped_killed_and_removed() {
    let berth = Berth::with_image();
    // Not hex digits: a removed name must not match another container's ID prefix.
    for name in ["pa", "pb", "pc"] {
        berth.ok(&["run", "-d", "--name", name, IMAGE, "sh", "-c", TICKER]);
    }
    // Several at once, as stop: each name printed; a missing one fails the verb.
    let out = berth.run(&["pause", "pa", "nope", "pb", "pc"]);
    assert_eq!(code(&out), 1);
    assert_eq!(stdout(&out), "pa\npb\npc\n");
    assert!(
        stderr(&out).contains("No such container: nope"),
        "{}",
        stderr(&out)
    );

    // sh as PID 1 ignores SIGTERM: it is thawed and then killed after the timeout.
    assert_eq!(berth.ok(&["stop", "-t", "1", "pa"]), "pa\n");
    let state = &berth.inspect("pa")["State"];
    assert_eq!(state["Status"], "exited");
    assert_eq!(state["Paused"], false);

    assert_eq!(berth.ok(&["kill", "pb"]), "pb\n");
    assert_eq!(berth.ok(&["wait", "pb"]), "137\n");
    assert_eq!(berth.inspect("pb")["State"]["Paused"], false);

    assert_eq!(berth.ok(&["rm", "-f", "pc"]), "pc\n");
    assert!(berth
        .fail(&["inspect", "pc"])
        .contains("No such object: pc"));

    // Only a running container pauses.
    let out = berth.run(&["pause", "pa"]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("is not running"), "{}", stderr(&out));
    let out = berth.run(&["unpause", "nope"]);
    assert_eq!(code(&out), 1);
    assert_eq!(stderr(&out), "Error: No such container: nope\n");
}

/// The entries of a tar: name, type and, for files, content; for links, target.
fn tar_entries(bytes: &[u8]) -> Vec<(String, tar::EntryType, String)> {
    use std::io::Read;
    let mut archive = tar::Archive::new(bytes);
    let mut entries = Vec::new();
    for entry in archive.entries().expect("a tar") {
        let mut entry = entry.expect("a tar entry");
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let kind = entry.header().entry_type();
        let detail = match kind {
            tar::EntryType::Symlink => entry
                .link_name()
                .unwrap()
                .map(|l| l.to_string_lossy().into_owned())
                .unwrap_or_default(),
            _ => {
                let mut text = String::new();
                let _ = entry.read_to_string(&mut text);
                text
            }
        };
        entries.push((name, kind, detail));
    }
    entries
}

fn entry<'a>(
    entries: &'a [(String, tar::EntryType, String)],
    name: &str,
) -> &'a (String, tar::EntryType, String) {
    entries
        .iter()
        .find(|(n, _, _)| n.trim_end_matches('/') == name)
        .unwrap_or_else(|| panic!("no {name} in the export"))
}

/// Plants files, a FIFO, symlinks (one to the root: followed, it would never end) and a
/// volume whose content is not the container's filesystem.
const PLANT: &str = "echo hi > /hello && ln -s /etc/passwd /link && ln -s / /rootlink \
    && mkfifo /fifo && echo secret > /vol/secret";

fn check_export(bytes: &[u8]) {
    let entries = tar_entries(bytes);
    assert!(
        entries
            .iter()
            .all(|(n, _, _)| !n.starts_with('/') && !n.starts_with("./")),
        "{entries:?}"
    );
    let hello = entry(&entries, "hello");
    assert_eq!(
        (hello.1, hello.2.as_str()),
        (tar::EntryType::Regular, "hi\n")
    );
    let link = entry(&entries, "link");
    assert_eq!(
        (link.1, link.2.as_str()),
        (tar::EntryType::Symlink, "/etc/passwd")
    );
    assert_eq!(entry(&entries, "rootlink").1, tar::EntryType::Symlink);
    assert_eq!(entry(&entries, "fifo").1, tar::EntryType::Fifo);
    // From the image's layers.
    assert!(entries.iter().any(|(n, _, _)| n == "bin/sh"), "{entries:?}");
    assert_eq!(entry(&entries, "etc/layer2.txt").2, "from layer 2\n");
    // The volume's mount point is there, its content is not; nor is anything mounted.
    assert_eq!(entry(&entries, "vol").1, tar::EntryType::Directory);
    assert!(
        !entries
            .iter()
            .any(|(n, _, _)| n.starts_with("vol/") || n.starts_with("proc/")),
        "{entries:?}"
    );
}

#[test]
fn export_writes_the_whole_filesystem_without_following_links() {
    let berth = Berth::with_image();
    let dir = tempfile::tempdir().unwrap();
    berth.ok(&[
        "run", "--name", "done", "-v", "/vol", IMAGE, "sh", "-c", PLANT,
    ]);
    let file = dir.path().join("done.tar");
    let out = berth.run(&["export", "-o", file.to_str().unwrap(), "done"]);
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (0, ""),
        "{}",
        stderr(&out)
    );
    let bytes = std::fs::read(&file).unwrap();
    check_export(&bytes);
    // Only the file itself is left, nothing beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    // What it exported imports and runs.
    berth.ok(&["import", file.to_str().unwrap(), "exported:v1"]);
    let out = berth.ok(&["run", "--rm", "exported:v1", "cat", "/hello"]);
    assert_eq!(out, "hi\n");

    // A running container, to a piped stdout.
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "live",
        "-v",
        "/vol",
        IMAGE,
        "sh",
        "-c",
        &format!("{PLANT} && sleep 60"),
    ]);
    wait_until("the files", || {
        berth.upper_dir("live").join("fifo").exists()
    });
    let piped = dir.path().join("live.tar");
    let status = berth
        .cmd()
        .args(["export", "live"])
        .stdout(std::fs::File::create(&piped).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    check_export(&std::fs::read(&piped).unwrap());
}

#[test]
fn export_refuses_a_terminal_and_a_missing_container() {
    let berth = Berth::with_image();
    berth.ok(&["create", "--name", "made", IMAGE]);
    let pty = common::openpty();
    let out = berth
        .cmd()
        .args(["export", "made"])
        .stdout(std::fs::File::from(pty.slave))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("cowardly refusing to save to a terminal"),
        "{}",
        stderr(&out)
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.tar");
    let out = berth.run(&["export", "-o", file.to_str().unwrap(), "nope"]);
    assert_eq!(code(&out), 1);
    assert_eq!(stderr(&out), "Error: No such container: nope\n");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // A reader that goes away (`export made | head -c 100`) ends the export quietly,
    // with a shell's SIGPIPE code.
    let mut child = berth.spawn(&["export", "made"]);
    let mut first = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 141, "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
}

fn full_id(berth: &Berth, name: &str) -> String {
    berth.inspect(name)["Id"].as_str().unwrap().to_owned()
}

#[test]
fn container_prune_removes_stopped_containers_after_asking() {
    let berth = Berth::with_image();
    berth.ok(&["create", "--name", "made", IMAGE]);
    berth.ok(&[
        "run",
        "--name",
        "ran",
        IMAGE,
        "sh",
        "-c",
        "head -c 300000 /dev/zero > /big",
    ]);
    berth.ok(&["run", "-d", "--name", "up", IMAGE, "sleep", "60"]);
    let mut stopped = vec![full_id(&berth, "made"), full_id(&berth, "ran")];
    stopped.sort();

    // Asked, and no: nothing goes.
    let out = berth.run_with_input(&["container", "prune"], b"n\n");
    assert_eq!(code(&out), 0);
    assert_eq!(
        stderr(&out),
        "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] "
    );
    assert_eq!(stdout(&out), "");
    assert_eq!(berth.ok(&["ps", "-aq"]).lines().count(), 3);

    let out = berth.run_with_input(&["container", "prune"], b"y\n");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Deleted Containers:", "{text}");
    let mut deleted: Vec<String> = lines[1..3].iter().map(|l| l.to_string()).collect();
    deleted.sort();
    assert_eq!(deleted, stopped);
    assert_eq!(lines[3], "");
    let reclaimed = lines[4]
        .strip_prefix("Total reclaimed space: ")
        .expect(&text);
    assert!(reclaimed.ends_with("kB"), "{reclaimed}");
    assert_eq!(lines.len(), 5);
    assert_eq!(
        berth.ok(&["ps", "-aq"]).trim(),
        &full_id(&berth, "up")[..12]
    );

    // Nothing left to prune.
    let out = berth.ok(&["container", "prune", "-f"]);
    assert_eq!(out, "Total reclaimed space: 0B\n");
}

#[test]
fn history_is_a_top_level_verb() {
    let berth = Berth::with_image();
    let top = berth.ok(&["history", IMAGE]);
    assert!(top.starts_with("IMAGE"), "{top}");
    assert_eq!(top, berth.ok(&["image", "history", IMAGE]));
    let out = berth.run(&["history", "nope"]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("nope"), "{}", stderr(&out));
}

#[test]
fn load_reads_stdin_when_no_file_is_given() {
    let berth = Berth::with_image();
    let saved = berth
        .cmd()
        .args(["save", IMAGE])
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(saved.status.success());
    let fresh = Berth::new();
    let out = fresh.run_with_input(&["load"], &saved.stdout);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("Loaded image: {IMAGE}\n"));
    assert_eq!(
        fresh.ok(&["run", "--rm", IMAGE, "cat", "/etc/layer2.txt"]),
        "from layer 2\n"
    );
    // The spooled copy leaves nothing in the engine's tmp dir.
    let tmp = fresh.root().join("tmp");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        left.iter()
            .all(|n| !n.to_string_lossy().starts_with("load-")),
        "{left:?}"
    );

    // Garbage: one line naming stdin.
    let out = fresh.run_with_input(&["load"], b"not an archive");
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).starts_with("Error: stdin: "),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1);

    // A terminal on stdin is refused in Docker's words.
    let pty = common::openpty();
    let out = fresh
        .cmd()
        .arg("load")
        .stdin(std::fs::File::from(pty.slave))
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    assert_eq!(
        stderr(&out),
        "Error: requested load from stdin, but stdin is empty\n"
    );
}

#[test]
fn logs_since_until_and_details() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "--name",
        "two",
        IMAGE,
        "sh",
        "-c",
        "echo early; sleep 1.2; echo late",
    ]);
    let stamped = berth.ok(&["logs", "-t", "two"]);
    let times: Vec<&str> = stamped
        .lines()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(times.len(), 2, "{stamped}");
    assert_eq!(berth.ok(&["logs", "--since", times[1], "two"]), "late\n");
    assert_eq!(berth.ok(&["logs", "--until", times[0], "two"]), "early\n");
    assert_eq!(berth.ok(&["logs", "--since", "1h", "two"]), "early\nlate\n");
    assert_eq!(berth.ok(&["logs", "--until", "1h", "two"]), "");
    let secs = chrono::DateTime::parse_from_rfc3339(times[1])
        .unwrap()
        .timestamp();
    // Unix seconds: whole seconds, so the late line is at or after them.
    let out = berth.ok(&["logs", "--since", &(secs + 1).to_string(), "two"]);
    assert_eq!(out, "");
    assert_eq!(berth.ok(&["logs", "--details", "two"]), " early\n late\n");
    let both = berth.ok(&["logs", "--details", "-t", "--since", times[1], "two"]);
    assert_eq!(both, format!("{}  late\n", times[1]));

    let out = berth.run(&["logs", "--since", "soon", "two"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("invalid time \"soon\""),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1);
    let out = berth.run(&["logs", "nope"]);
    assert_eq!(code(&out), 1);
    assert_eq!(stderr(&out), "Error: No such container: nope\n");
}

/// An `attach` that stops reading holds the container's output back (as a blocking
/// write would), but only for a while: then it is let go, and the container goes on.
#[test]
fn an_attach_that_stops_reading_holds_the_container_back_for_a_while_only() {
    let berth = Berth::with_image();
    let script = "sleep 3; head -c 8000000 /dev/zero | tr '\\0' x; echo; echo done";
    berth.ok(&["run", "-d", "--name", "talker", IMAGE, "sh", "-c", script]);
    // Its stdout is never read: once that pipe is full, it reads nothing more.
    let mut stuck = berth
        .cmd()
        .args(["attach", "talker"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Meanwhile the output waits: the log has not got it all.
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(berth.inspect("talker")["State"]["Running"], true);
    let logs = berth.ok(&["logs", "talker"]);
    assert!(
        !logs.ends_with("done\n"),
        "the stopped client held nothing back"
    );
    // The monitor lets the client go after its stall limit (30 s); the container ends.
    let deadline = Instant::now() + Duration::from_secs(90);
    while berth.inspect("talker")["State"]["Running"] == true {
        assert!(
            Instant::now() < deadline,
            "the container is still held back"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let logs = berth.ok(&["logs", "talker"]);
    assert!(logs.ends_with("done\n"));
    assert_eq!(logs.len(), 8_000_000 + "\ndone\n".len());
    drop(stuck.stdout.take());
    stuck.wait().unwrap();
}

/// Once a container reads running, `exec` and `attach` reach it: its monitor is held
/// after it recorded the container running and before `run -d` returns, and both are
/// asked then (they once found no socket there, and said the container was not running).
#[test]
fn exec_and_attach_reach_a_container_as_soon_as_it_reads_running() {
    use berth::engine::faults::{PAUSE_ENV, PAUSE_FILE_ENV};

    let berth = Berth::with_image();
    let scratch = tempfile::tempdir().unwrap();
    let paused = scratch.path().join("paused");
    let mut run = berth
        .cmd()
        .env(PAUSE_ENV, "monitor:running-recorded")
        .env(PAUSE_FILE_ENV, &paused)
        .args(["run", "-d", "--name", "quick", IMAGE, "sh", "-c"])
        .arg("while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 3")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("the monitor to be held", || paused.exists());
    assert_eq!(berth.inspect("quick")["State"]["Status"], "running");
    let mut attach = berth.spawn(&["attach", "quick"]);
    let mut exec = berth.spawn(&["exec", "quick", "touch", "/tmp/go"]);
    // Time for either to give up, as both once did at once; they wait for the monitor.
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline
        && attach.try_wait().unwrap().is_none()
        && exec.try_wait().unwrap().is_none()
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::remove_file(&paused).unwrap();
    let out = exec.wait_with_output().unwrap();
    assert!(out.status.success(), "exec: {}", stderr(&out));
    let out = attach.wait_with_output().unwrap();
    assert_eq!(code(&out), 3, "attach: {}", stderr(&out));
    let mut err = String::new();
    run.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(run.wait().unwrap().success(), "run: {err}");
}

#[test]
fn attach_streams_a_running_container_until_it_exits() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "later",
        IMAGE,
        "sh",
        "-c",
        "sleep 3; echo out; echo err >&2; exit 3",
    ]);
    // Any number at once, as in Docker: each gets the output and the exit code.
    let attach = || berth.spawn(&["attach", "later"]);
    let clients = [attach(), attach(), attach()];
    for client in clients {
        let out = client.wait_with_output().unwrap();
        assert_eq!(code(&out), 3, "{}", stderr(&out));
        assert_eq!(stdout(&out), "out\n");
        assert_eq!(stderr(&out), "err\n");
    }

    let out = berth.run(&["attach", "later"]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        stderr(&out),
        "Error: You cannot attach to a stopped container, start it first\n"
    );

    // `run -d -i` keeps stdin open for whoever attaches; --no-stdin sends none.
    let script = "read x; echo got $x";
    berth.ok(&[
        "run", "-d", "-i", "--name", "reader", IMAGE, "sh", "-c", script,
    ]);
    let out = berth.run_with_input(&["attach", "reader"], b"typed\n");
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (0, "got typed\n"),
        "{}",
        stderr(&out)
    );
    berth.ok(&[
        "run", "-d", "-i", "--name", "muted", IMAGE, "sh", "-c", script,
    ]);
    let mut child = berth
        .cmd()
        .args(["attach", "--no-stdin", "muted"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        input.write_all(b"lost\n").unwrap();
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(berth.inspect("muted")["State"]["Running"], true);
    let _ = child.kill();
    let _ = child.wait();
    let out = berth.run(&["attach", "nope"]);
    assert_eq!(code(&out), 1);
    assert_eq!(stderr(&out), "Error: No such container: nope\n");
    berth.ok(&["run", "-d", "--name", "frozen", IMAGE, "sleep", "60"]);
    berth.ok(&["pause", "frozen"]);
    let out = berth.run(&["attach", "frozen"]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        stderr(&out),
        "Error: You cannot attach to a paused container, unpause it first\n"
    );
}

#[test]
fn attach_to_a_terminal_container_types_into_it_and_detaches_with_its_detach_keys() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-dit", "--name", "shell", IMAGE, "sh"]);
    let (code, seen) = berth.on_terminal(
        &["attach", "shell"],
        &["echo typed-$((40+2))\n", "\x10\x11"],
    );
    assert_eq!(code, 0, "{seen}");
    assert!(seen.contains("typed-42"), "{seen}");
    // Detached, not stopped; and it can be attached again, with other keys: the old
    // ones then reach the shell, which ignores them.
    assert_eq!(berth.inspect("shell")["State"]["Running"], true);
    let (code, seen) = berth.on_terminal(
        &["attach", "--detach-keys", "ctrl-a,d", "shell"],
        &["\x10\x11echo other-$((6*7))\n", "\x01d"],
    );
    assert_eq!(code, 0, "{seen}");
    assert!(seen.contains("other-42"), "{seen}");
    assert_eq!(berth.inspect("shell")["State"]["Running"], true);
    let (code, seen) = berth.on_terminal(&["attach", "shell"], &["exit 5\n"]);
    assert_eq!(code, 5, "{seen}");
    // A sequence Docker's notation has no word for is refused before attaching.
    let bad = berth.run(&["attach", "--detach-keys", "ctrl-pp", "shell"]);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(125), "{stderr}");
    assert!(stderr.contains("invalid detach keys"), "{stderr}");
}

/// Sends `sig` to a process this test started.
fn signal(child: &std::process::Child, sig: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig).unwrap();
}

/// Waits up to 10 s for a child to exit; kills it (by its PID) and fails if it doesn't.
fn exit_within_10s(child: &mut std::process::Child, what: &str) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: attach still runs after 10 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// As Docker's CLI: an attach that forwards ctrl-c and SIGTERM to a container that
/// ignores them leaves after the third, saying so, with exit code 1; the container goes
/// on. It does so as well while its stdout is blocked (nobody reads it), and a SIGTERM
/// that is not forwarded (`--sig-proxy=false`) ends it at once even then.
#[test]
fn attach_is_left_by_three_interrupts_or_one_unforwarded_even_when_stdout_is_blocked() {
    use nix::sys::signal::Signal::{SIGINT, SIGTERM};
    use std::io::BufRead;
    let berth = Berth::with_image();
    let ticks = "trap '' INT TERM; while true; do echo tick; sleep 0.2; done";
    berth.ok(&["run", "-d", "--name", "ticker", IMAGE, "sh", "-c", ticks]);
    let flood = "trap '' INT TERM; yes";
    berth.ok(&["run", "-d", "--name", "flood", IMAGE, "sh", "-c", flood]);
    let attach = |args: &[&str]| {
        berth
            .cmd()
            .arg("attach")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };

    // Read: every signal is forwarded, and the third leaves.
    let mut reading = attach(&["ticker"]);
    let mut out = std::io::BufReader::new(reading.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "tick\n");
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    for sig in [SIGINT, SIGTERM, SIGINT] {
        signal(&reading, sig);
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(exit_within_10s(&mut reading, "forwarding, read"), 1);
    let mut err = String::new();
    reading
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(err, "got 3 SIGTERM/SIGINTs, forcefully exiting\n");
    assert_eq!(berth.inspect("ticker")["State"]["Running"], true);

    // Not read: the attach is stuck in a write to its stdout.
    for (args, sigs, want) in [
        (&["flood"][..], &[SIGTERM, SIGTERM, SIGTERM][..], 1),
        (&["--sig-proxy=false", "flood"][..], &[SIGTERM][..], 143),
    ] {
        let mut stuck = attach(args);
        let mut first = [0u8; 1];
        stuck
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut first)
            .unwrap();
        // Long enough for the pipe to fill and the write to block.
        std::thread::sleep(Duration::from_secs(1));
        for &sig in sigs {
            signal(&stuck, sig);
            std::thread::sleep(Duration::from_millis(300));
        }
        let what = format!("{args:?} with stdout blocked");
        assert_eq!(exit_within_10s(&mut stuck, &what), want, "{what}");
    }
    assert_eq!(berth.inspect("flood")["State"]["Running"], true);
    berth.ok(&["rm", "-f", "ticker", "flood"]);
}

/// At a terminal, attach says in one line how it can be left, and that is true.
#[test]
fn attach_at_a_terminal_says_how_to_leave() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "brief", IMAGE, "sleep", "2"]);
    let (code, seen) = berth.on_terminal(&["attach", "brief"], &[]);
    assert_eq!(code, 0, "{seen}");
    assert!(
        seen.contains("ctrl-c goes to the container; press it 3 times to stop attaching"),
        "{seen}"
    );
    berth.ok(&["start", "brief"]);
    let (_, seen) = berth.on_terminal(&["attach", "--sig-proxy=false", "brief"], &[]);
    assert!(seen.contains("Stop attaching with ctrl-c"), "{seen}");
    berth.ok(&["run", "-dit", "--name", "shell", IMAGE, "sh"]);
    let (code, seen) = berth.on_terminal(&["attach", "shell"], &["\x10\x11"]);
    assert_eq!(code, 0, "{seen}");
    assert!(seen.contains("Detach with ctrl-p ctrl-q"), "{seen}");
    let (code, seen) = berth.on_terminal(
        &["attach", "--detach-keys", "ctrl-a,d", "shell"],
        &["\x01d"],
    );
    assert_eq!(code, 0, "{seen}");
    assert!(seen.contains("Detach with ctrl-a d"), "{seen}");
    berth.ok(&["rm", "-f", "shell", "brief"]);
}

/// The monitor serves 32 attach clients at most (each may hold a MiB of output): the
/// 33rd is refused with one clear line and exit code 1.
#[test]
fn a_container_takes_32_attach_clients_and_refuses_the_33rd() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "popular", IMAGE, "sleep", "120"]);
    let init = berth.inspect("popular")["State"]["Pid"].as_i64().unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{init}/stat")).unwrap();
    let monitor: i32 = stat[stat.rfind(')').unwrap() + 2..]
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let sockets = || {
        std::fs::read_dir(format!("/proc/{monitor}/fd"))
            .unwrap()
            .filter(|e| {
                std::fs::read_link(e.as_ref().unwrap().path())
                    .is_ok_and(|l| l.to_string_lossy().starts_with("socket:"))
            })
            .count()
    };
    let before = sockets();
    let mut clients: Vec<std::process::Child> = (0..32)
        .map(|_| {
            berth
                .cmd()
                .args(["attach", "popular"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    wait_until("32 attached clients", || sockets() >= before + 32);
    let out = berth.run(&["attach", "popular"]);
    let err = stderr(&out);
    assert_eq!(code(&out), 1, "{err}");
    assert_eq!(
        err,
        "Error: container popular already has 32 attached clients\n"
    );
    for client in &mut clients {
        let _ = client.kill();
        let _ = client.wait();
    }
    berth.ok(&["rm", "-f", "popular"]);
}
