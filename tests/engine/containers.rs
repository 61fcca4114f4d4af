//! Container scenarios against real containers: namespaces, overlayfs, cgroups, monitor.
//! Each test has its own engine root; the harness removes every container it made.

use crate::common;

use std::process::Stdio;
use std::time::Duration;

use common::{code, processes_of, stderr, stdout, wait_until, Berth, IMAGE};

/// `berth run --rm IMAGE sh -c SCRIPT`, asserting success; returns stdout.
fn sh(berth: &Berth, script: &str) -> String {
    berth.ok(&["run", "--rm", IMAGE, "sh", "-c", script])
}

#[test]
fn stop_and_start_keep_the_writable_layer() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "keep",
        IMAGE,
        "sh",
        "-c",
        "echo kept > /root/file; sleep 60",
    ]);
    wait_until("the file", || {
        berth
            .run(&["exec", "keep", "cat", "/root/file"])
            .status
            .success()
    });
    berth.ok(&["stop", "-t", "1", "keep"]);
    assert_eq!(berth.inspect("keep")["State"]["Status"], "exited");
    berth.ok(&["start", "keep"]);
    assert_eq!(berth.ok(&["exec", "keep", "cat", "/root/file"]), "kept\n");
}

#[test]
fn rm_then_run_again_starts_from_the_image() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "--name",
        "first",
        IMAGE,
        "sh",
        "-c",
        "echo x > /etc/marker",
    ]);
    let upper = berth.inspect("first")["GraphDriver"]["Data"]["UpperDir"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(std::path::Path::new(&upper).join("etc/marker").exists());
    berth.ok(&["rm", "first"]);
    assert!(
        !std::path::Path::new(&upper).exists(),
        "rm deletes the writable layer"
    );
    let out = berth.run(&[
        "run",
        "--rm",
        "--name",
        "first",
        IMAGE,
        "cat",
        "/etc/marker",
    ]);
    assert_ne!(code(&out), 0);
    assert!(stderr(&out).contains("No such file"), "{}", stderr(&out));
}

#[test]
fn two_containers_from_one_image_have_independent_filesystems() {
    let berth = Berth::with_image();
    let mut numbers = Vec::new();
    for name in ["a", "b"] {
        let n: u64 = rand_u64();
        numbers.push(n);
        berth.ok(&[
            "run",
            "--name",
            name,
            IMAGE,
            "sh",
            "-c",
            &format!("echo {n} > /tmp/n"),
        ]);
    }
    for (name, n) in ["a", "b"].iter().zip(&numbers) {
        // `start` returns once the process runs: its shell may not have written yet.
        berth.ok(&["start", name]);
        berth.ok(&["wait", name]);
        let upper = berth.inspect(name)["GraphDriver"]["Data"]["UpperDir"]
            .as_str()
            .unwrap()
            .to_owned();
        let got = std::fs::read_to_string(std::path::Path::new(&upper).join("tmp/n")).unwrap();
        assert_eq!(got.trim(), n.to_string());
    }
    assert_ne!(numbers[0], numbers[1]);
}

fn rand_u64() -> u64 {
    let mut b = [0u8; 8];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
        .unwrap();
    u64::from_le_bytes(b)
}

#[test]
fn changing_an_image_file_is_copy_on_write() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "--name",
        "writer",
        IMAGE,
        "sh",
        "-c",
        "echo changed > /etc/motd; rm /etc/layer1.txt",
    ]);
    // The image and a second container still see the original files.
    assert_eq!(sh(&berth, "cat /etc/motd"), "layer2 motd\n");
    assert_eq!(sh(&berth, "cat /etc/layer1.txt"), "from layer 1\n");
    // The change lives only in the writer's layer; a whiteout marks the deletion.
    let upper = berth.inspect("writer")["GraphDriver"]["Data"]["UpperDir"]
        .as_str()
        .unwrap()
        .to_owned();
    let upper = std::path::Path::new(&upper);
    assert_eq!(
        std::fs::read_to_string(upper.join("etc/motd")).unwrap(),
        "changed\n"
    );
    let whiteout = std::fs::symlink_metadata(upper.join("etc/layer1.txt")).unwrap();
    use std::os::unix::fs::FileTypeExt;
    assert!(whiteout.file_type().is_char_device());
    for lower in berth.inspect("writer")["GraphDriver"]["Data"]["LowerDir"]
        .as_str()
        .unwrap()
        .split(':')
    {
        let motd = std::path::Path::new(lower).join("etc/motd");
        if let Ok(text) = std::fs::read_to_string(motd) {
            assert_ne!(text, "changed\n", "a shared layer was modified");
        }
    }
}

#[test]
fn image_whiteouts_and_opaque_dirs_hide_lower_files() {
    let berth = Berth::with_image();
    assert_eq!(sh(&berth, "ls /data"), "keep.txt\n");
    assert_eq!(sh(&berth, "ls /opt/opaque"), "new.txt\n");
    assert_eq!(sh(&berth, "cat /etc/motd"), "layer2 motd\n");
}

#[test]
fn exit_codes_propagate() {
    let berth = Berth::with_image();
    let out = berth.run(&["run", "--rm", IMAGE, "sh", "-c", "exit 3"]);
    assert_eq!(code(&out), 3);
    // SIGKILL from the host (PID 1 ignores it from inside its own namespace).
    berth.ok(&["run", "-d", "--name", "killed", IMAGE, "sleep", "60"]);
    berth.ok(&["kill", "killed"]);
    assert_eq!(berth.ok(&["wait", "killed"]), "137\n");
    let out = berth.run(&["run", "--rm", IMAGE, "nosuchcommand"]);
    assert_eq!(code(&out), 127);
    assert!(
        stderr(&out).contains("executable file not found"),
        "{}",
        stderr(&out)
    );
    let out = berth.run(&["run", "--rm", IMAGE, "/etc/motd"]);
    assert_eq!(code(&out), 126);
    assert_eq!(
        code(&berth.run(&["run", "--name", "three", IMAGE, "sh", "-c", "exit 3"])),
        3
    );
    assert_eq!(berth.inspect("three")["State"]["ExitCode"], 3);
    assert_eq!(berth.ok(&["wait", "three"]), "3\n");
}

#[test]
fn run_streams_stdout_and_stderr_separately_and_passes_stdin() {
    let berth = Berth::with_image();
    let out = berth.run(&["run", "--rm", IMAGE, "sh", "-c", "echo out; echo err >&2"]);
    assert_eq!(stdout(&out), "out\n");
    assert_eq!(stderr(&out), "err\n");
    let out = berth.run_with_input(
        &["run", "--rm", "-i", IMAGE, "sh", "-c", "tr a-z A-Z"],
        b"hello stdin\n",
    );
    assert_eq!(stdout(&out), "HELLO STDIN\n");
}

#[test]
fn logs_tail_timestamps_and_follow() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "--name",
        "talk",
        IMAGE,
        "sh",
        "-c",
        "for i in 1 2 3; do echo line $i; done; echo oops >&2",
    ]);
    let out = berth.run(&["logs", "talk"]);
    assert_eq!(stdout(&out), "line 1\nline 2\nline 3\n");
    assert_eq!(stderr(&out), "oops\n");
    // The last two entries: line 3 on stdout, oops on stderr (streams are logged apart).
    let tail = berth.run(&["logs", "--tail", "1", "talk"]);
    let tail_both = format!("{}{}", stdout(&tail), stderr(&tail));
    assert!(
        tail_both == "oops\n" || tail_both == "line 3\n",
        "{tail_both:?}"
    );
    berth.ok(&["run", "--name", "quiet", IMAGE, "sh", "-c", "seq 5"]);
    assert_eq!(berth.ok(&["logs", "--tail", "2", "quiet"]), "4\n5\n");
    let stamped = berth.ok(&["logs", "-t", "talk"]);
    let first = stamped.lines().next().unwrap();
    assert!(
        first.ends_with(" line 1") && first.starts_with("20"),
        "{first}"
    );

    // -f prints lines as they come and returns when the container stops.
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "slow",
        IMAGE,
        "sh",
        "-c",
        "echo a; sleep 1; echo b",
    ]);
    let follow = berth.cmd().args(["logs", "-f", "slow"]).output().unwrap();
    assert_eq!(stdout(&follow), "a\nb\n");
}

#[test]
fn a_follower_sees_a_lone_line_while_the_container_stays_quiet() {
    use std::io::BufRead;
    let berth = Berth::with_image();
    // One line once the follower is there, then silence: no later output pushes it out
    // of a buffer, and the container's exit (which flushes everything) is far away.
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "lone",
        IMAGE,
        "sh",
        "-c",
        "while [ ! -e /go ]; do sleep 0.05; done; echo lone line; exec sleep 60",
    ]);
    let mut follower = berth
        .cmd()
        .args(["logs", "-f", "lone"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = follower.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(out).read_line(&mut line);
        let _ = tx.send(line);
    });
    // Give the follower time to print the (empty) log and start following.
    std::thread::sleep(Duration::from_millis(300));
    berth.ok(&["exec", "lone", "touch", "/go"]);
    // The promise is 100 ms; the bound is generous so a busy machine can't fail it.
    let line = rx.recv_timeout(Duration::from_secs(10));
    let running = berth.inspect("lone")["State"]["Running"].as_bool();
    let _ = follower.kill();
    let _ = follower.wait();
    assert_eq!(line.as_deref(), Ok("lone line\n"));
    assert_eq!(running, Some(true), "the line came only with the exit");
}

#[test]
fn exec_runs_in_the_container() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "box",
        "-e",
        "FROM_RUN=1",
        IMAGE,
        "sleep",
        "60",
    ]);
    let out = berth.ok(&[
        "exec",
        "box",
        "sh",
        "-c",
        "hostname; echo $FROM_RUN; cat /proc/1/cmdline | tr '\\0' ' '",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    let id = berth.inspect("box")["Id"].as_str().unwrap().to_owned();
    assert_eq!(lines[0], &id[..12]);
    assert_eq!(lines[1], "1");
    assert_eq!(lines[2].trim(), "sleep 60");
    assert_eq!(
        berth.ok(&[
            "exec",
            "-u",
            "app",
            "-w",
            "/tmp",
            "box",
            "sh",
            "-c",
            "id -u; pwd"
        ]),
        "1000\n/tmp\n"
    );
    assert_eq!(
        berth.ok(&["exec", "-e", "X=y", "box", "sh", "-c", "echo $X"]),
        "y\n"
    );
    assert_eq!(code(&berth.run(&["exec", "box", "sh", "-c", "exit 5"])), 5);
    berth.ok(&["stop", "-t", "0", "box"]);
    let err = berth.fail(&["exec", "box", "true"]);
    assert!(err.contains("is not running"), "{err}");
}

/// Only the exec'd process counts against the container's pids limit, as with runc: the
/// joiner that enters the namespaces stays in the caller's cgroups and moves the process
/// in. With one process left under the limit, exec works, and the process is in the
/// container's cgroups.
#[test]
fn exec_under_a_pids_limit_counts_only_the_process_itself() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "few",
        "--pids-limit",
        "2",
        IMAGE,
        "sleep",
        "60",
    ]);
    let id = berth.inspect("few")["Id"].as_str().unwrap().to_owned();
    let out = berth.ok(&["exec", "few", "cat", "/proc/self/cgroup"]);
    // Its cgroup namespace's root is the container's cgroup: `/` is in it.
    let pids: Vec<&str> = out
        .lines()
        .filter(|l| l.contains(":pids:") || l.starts_with("0::"))
        .collect();
    assert!(!pids.is_empty(), "{out}");
    assert!(pids.iter().all(|l| l.ends_with(":/")), "{out}");
    if std::path::Path::new("/sys/fs/cgroup/pids").exists() {
        assert_eq!(cgroup_file(&id, "pids", "pids.max"), "2");
    }
}

/// Every hierarchy berth manages, the v2 tree of a hybrid host too, holds the
/// container's process in `berth/<id>`, and so does each process it starts.
#[test]
fn the_container_runs_in_its_own_cgroup_in_every_hierarchy() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "placed",
        IMAGE,
        "sh",
        "-c",
        "sleep 60 & wait",
    ]);
    let inspect = berth.inspect("placed");
    let id = inspect["Id"].as_str().unwrap().to_owned();
    let init = inspect["State"]["Pid"].as_i64().unwrap();
    let v2_mounted = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .any(|l| l.contains(" - cgroup2 "));
    let own = format!("/berth/{id}");
    wait_until("the sleep started", || {
        std::fs::read_to_string(format!("/proc/{init}/task/{init}/children"))
            .is_ok_and(|c| !c.trim().is_empty())
    });
    let children = std::fs::read_to_string(format!("/proc/{init}/task/{init}/children")).unwrap();
    let child: i64 = children.split_whitespace().next().unwrap().parse().unwrap();
    for pid in [init, child] {
        let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
        let mut checked = 0;
        for line in cgroups.lines() {
            // hierarchy-ID:controllers:path; named hierarchies (name=systemd) aren't berth's.
            let mut fields = line.splitn(3, ':');
            let (number, controllers, path) = (
                fields.next().unwrap(),
                fields.next().unwrap(),
                fields.next().unwrap(),
            );
            let managed = if number == "0" {
                v2_mounted
            } else {
                !controllers.is_empty() && !controllers.starts_with("name=")
            };
            if managed {
                assert_eq!(path, own, "process {pid}: {line}\n{cgroups}");
                checked += 1;
            }
        }
        assert!(checked > 0, "{cgroups}");
    }
    berth.ok(&["rm", "-f", "placed"]);
}

fn cgroup_file(id: &str, controller: &str, file: &str) -> String {
    std::fs::read_to_string(format!("/sys/fs/cgroup/{controller}/berth/{id}/{file}"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[test]
fn memory_limit_is_enforced() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run", "-d", "--name", "small", "-m", "16m", IMAGE, "sleep", "60",
    ]);
    let id = berth.inspect("small")["Id"].as_str().unwrap().to_owned();
    if std::path::Path::new("/sys/fs/cgroup/memory").exists() {
        assert_eq!(
            cgroup_file(&id, "memory", "memory.limit_in_bytes"),
            (16 << 20).to_string()
        );
    } else {
        assert_eq!(cgroup_file(&id, "", "memory.max"), (16 << 20).to_string());
    }
    // tail keeps a whole line in memory: 64 MiB without a newline can't fit in 16.
    let out = berth.run(&[
        "run",
        "--name",
        "hog",
        "-m",
        "16m",
        IMAGE,
        "sh",
        "-c",
        "head -c 67108864 /dev/zero | tail > /dev/null",
    ]);
    assert_ne!(
        code(&out),
        0,
        "a 64 MiB allocation fits under a 16 MiB limit"
    );
    assert_eq!(berth.inspect("hog")["State"]["OOMKilled"], true);
    assert_eq!(berth.inspect("hog")["HostConfig"]["Memory"], 16 << 20);
}

#[test]
fn pids_limit_is_enforced() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "capped",
        "--pids-limit",
        "8",
        IMAGE,
        "sleep",
        "60",
    ]);
    let id = berth.inspect("capped")["Id"].as_str().unwrap().to_owned();
    if std::path::Path::new("/sys/fs/cgroup/pids").exists() {
        assert_eq!(cgroup_file(&id, "pids", "pids.max"), "8");
    }
    assert_eq!(berth.inspect("capped")["HostConfig"]["PidsLimit"], 8);
    // Twenty background sleeps can't all start under a limit of eight.
    let out = berth.run(&[
        "run",
        "--rm",
        "--pids-limit",
        "8",
        IMAGE,
        "sh",
        "-c",
        "for i in $(seq 20); do sleep 5 & done; echo all-started",
    ]);
    assert!(
        !stdout(&out).contains("all-started"),
        "20 processes ran under a limit of 8"
    );
    assert!(stderr(&out).contains("can't fork"), "{}", stderr(&out));
}

/// As podman: 2048 PIDs unless asked otherwise, in the settings or with the flag; zero or
/// less is no limit. Inspect shows Docker's HostConfig.PidsLimit: null unless the flag
/// set a limit (berth's default and the settings' are applied, not the container's own).
#[test]
fn pids_limit_defaults_to_2048_and_minus_one_lifts_it() {
    let berth = Berth::with_image();
    let v1 = std::path::Path::new("/sys/fs/cgroup/pids").exists();
    let cases: [(&str, &[&str], serde_json::Value, &str); 3] = [
        ("plain", &[], serde_json::Value::Null, "2048"),
        (
            "free",
            &["--pids-limit", "-1"],
            serde_json::Value::Null,
            "max",
        ),
        ("zero", &["--pids-limit=0"], serde_json::Value::Null, "max"),
    ];
    for (name, flags, inspected, written) in cases {
        let mut args = vec!["run", "-d", "--name", name];
        args.extend_from_slice(flags);
        args.extend([IMAGE, "sleep", "60"]);
        berth.ok(&args);
        let inspect = berth.inspect(name);
        assert_eq!(inspect["HostConfig"]["PidsLimit"], inspected, "{name}");
        let id = inspect["Id"].as_str().unwrap().to_owned();
        if v1 {
            assert_eq!(cgroup_file(&id, "pids", "pids.max"), written, "{name}");
        }
    }
    // The settings' limit replaces the default; the flag still wins over it.
    std::fs::write(berth.config_file(), "pids-limit = 100\n").unwrap();
    berth.ok(&["run", "-d", "--name", "set", IMAGE, "sleep", "60"]);
    let set = berth.inspect("set");
    assert_eq!(set["HostConfig"]["PidsLimit"], serde_json::Value::Null);
    if v1 {
        let id = set["Id"].as_str().unwrap();
        assert_eq!(cgroup_file(id, "pids", "pids.max"), "100");
    }
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "flag",
        "--pids-limit",
        "7",
        IMAGE,
        "sleep",
        "60",
    ]);
    assert_eq!(berth.inspect("flag")["HostConfig"]["PidsLimit"], 7);
    for name in ["plain", "free", "zero", "set", "flag"] {
        berth.ok(&["rm", "-f", name]);
    }
}

#[test]
fn cpu_limit_is_written_to_the_cgroup() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run", "-d", "--name", "half", "--cpus", "0.5", IMAGE, "sleep", "60",
    ]);
    let id = berth.inspect("half")["Id"].as_str().unwrap().to_owned();
    if std::path::Path::new("/sys/fs/cgroup/cpu").exists() {
        assert_eq!(cgroup_file(&id, "cpu", "cpu.cfs_quota_us"), "50000");
    }
    assert_eq!(berth.inspect("half")["HostConfig"]["NanoCpus"], 500_000_000);
}

#[test]
fn ps_is_right_after_the_cli_exits_and_after_the_monitor_dies() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "lasting", IMAGE, "sleep", "60"]);
    let listed = berth.ok(&["ps"]);
    assert!(
        listed.contains("lasting") && listed.contains("Up "),
        "{listed}"
    );
    let json: serde_json::Value = serde_json::from_str(
        berth
            .ok(&["ps", "--format", "json"])
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(json["State"], "running");

    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            berth
                .root()
                .join("containers")
                .join(berth.inspect("lasting")["Id"].as_str().unwrap())
                .join("record.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let monitor = record["state"]["monitor"]["pid"].as_i64().unwrap() as i32;
    let init = berth.inspect("lasting")["State"]["Pid"].as_i64().unwrap() as i32;
    // The monitor never runs from a file anyone can write (CVE-2019-5736): its binary is
    // seen through a read-only overlayfs, which refuses an open for writing with EROFS
    // (the berth binary on disk would only be busy, ETXTBSY, until the monitor exits).
    let exe = format!("/proc/{monitor}/exe");
    let fs = nix::sys::statfs::statfs(exe.as_str()).unwrap();
    assert_eq!(
        fs.filesystem_type(),
        nix::sys::statfs::OVERLAYFS_SUPER_MAGIC
    );
    let err = std::fs::OpenOptions::new()
        .write(true)
        .open(&exe)
        .expect_err("the monitor's binary opened for writing");
    assert_eq!(err.raw_os_error(), Some(libc::EROFS), "{err}");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(monitor),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    wait_until("the container's init to die with its monitor", || {
        !std::path::Path::new(&format!("/proc/{init}")).exists()
            || std::fs::read_to_string(format!("/proc/{init}/stat"))
                .is_ok_and(|s| s.contains(") Z"))
    });
    assert!(!berth.ok(&["ps"]).contains("lasting"));
    let state = &berth.inspect("lasting")["State"];
    assert_eq!(state["Status"], "exited");
    assert!(state["Error"].as_str().unwrap().contains("monitor"));
}

#[test]
fn concurrent_runs_with_one_name_have_exactly_one_winner() {
    let berth = Berth::with_image();
    let children: Vec<_> = (0..6)
        .map(|_| {
            berth
                .cmd()
                .args(["run", "-d", "--name", "contested", IMAGE, "sleep", "30"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let winners = outputs.iter().filter(|o| o.status.success()).count();
    assert_eq!(
        winners,
        1,
        "{:?}",
        outputs.iter().map(stderr).collect::<Vec<_>>()
    );
    for loser in outputs.iter().filter(|o| !o.status.success()) {
        assert!(
            stderr(loser).contains("is already in use"),
            "{}",
            stderr(loser)
        );
    }
    assert_eq!(berth.ok(&["ps", "-aq"]).lines().count(), 1);
}

#[test]
fn isolation_follows_docker_defaults() {
    let berth = Berth::with_image();
    berth.ok(&["create", "--name", "seccomp-probe", IMAGE, "true"]);
    berth.ok(&["start", "seccomp-probe"]);
    let out = sh(
        &berth,
        "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status; \
         cat /proc/kcore | wc -c; \
         echo 1 > /proc/sys/kernel/panic 2>/dev/null && echo sys-writable || echo sys-readonly; \
         ls /proc/self/fd | wc -l; ulimit -n; ls /sys/class/net",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0], "CapEff:\t00000000a80425fb",
        "Docker's default capabilities"
    );
    assert_eq!(lines[1], "CapBnd:\t00000000a80425fb");
    assert_eq!(lines[2], "NoNewPrivs:\t1");
    assert_eq!(lines[3].trim(), "0", "/proc/kcore is masked");
    assert_eq!(lines[4], "sys-readonly");
    // ls itself holds one directory fd besides 0, 1 and 2: nothing leaked from the host.
    assert_eq!(lines[5].trim(), "4");
    let nofile: u64 = lines[6].parse().unwrap();
    assert!(nofile <= 1_048_576 && nofile > 1024, "nofile {nofile}");
    assert_eq!(
        lines[7..].join(" ").trim(),
        "eth0 lo",
        "a network namespace of its own, on the default bridge"
    );

    // Docker's default seccomp profile: no new namespaces, no mount, ordinary work goes on.
    let out = sh(
        &berth,
        "grep Seccomp: /proc/self/status; \
         unshare -U true 2>/dev/null && echo userns-allowed || echo userns-refused; \
         mount -t tmpfs none /mnt 2>/dev/null && echo mount-allowed || echo mount-refused; \
         (echo child-ran) & wait",
    );
    assert_eq!(
        out,
        "Seccomp:\t2\nuserns-refused\nmount-refused\nchild-ran\n"
    );
    let spec: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            berth
                .root()
                .join("containers")
                .join(berth.inspect("seccomp-probe")["Id"].as_str().unwrap())
                .join("config.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(spec["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");

    // A device node for the host's own disk can be made (CAP_MKNOD, as Docker) but not
    // opened: the device cgroup allows only the standard devices.
    let dev = std::os::unix::fs::MetadataExt::dev(&std::fs::metadata("/").unwrap());
    let (major, minor) = (nix::sys::stat::major(dev), nix::sys::stat::minor(dev));
    let out = sh(
        &berth,
        &format!("mknod /tmp/disk b {major} {minor} && echo made; head -c 1 /tmp/disk >/dev/null 2>&1 && echo read-host-disk || echo refused"),
    );
    assert_eq!(out, "made\nrefused\n");

    // Loopback is up, as with Docker's `--network none`: a local server answers.
    let out = sh(
        &berth,
        "nc -l -p 8080 -e echo served & sleep 0.3; nc 127.0.0.1 8080",
    );
    assert_eq!(out, "served\n");

    // A non-root user gets no capabilities.
    let out = berth.ok(&[
        "run",
        "--rm",
        "-u",
        "app",
        IMAGE,
        "sh",
        "-c",
        "id; grep CapEff /proc/self/status",
    ]);
    assert!(out.contains("uid=1000(app) gid=1000(app) groups="), "{out}");
    assert!(
        out.contains("1000(app)") && out.contains("50(staff)"),
        "{out}"
    );
    assert!(out.contains("CapEff:\t0000000000000000"), "{out}");
}

#[test]
fn run_flags_shape_the_process() {
    let berth = Berth::with_image();
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("env");
    std::fs::write(&env_file, "# settings\nFROM_FILE=yes\nSHARED=file\n").unwrap();
    let out = berth.ok(&[
        "run",
        "--rm",
        "-h",
        "myhost",
        "-w",
        "/made/here",
        "-e",
        "A=1",
        "--env-file",
        env_file.to_str().unwrap(),
        "-e",
        "SHARED=flag",
        IMAGE,
        "sh",
        "-c",
        "hostname; cat /etc/hostname; pwd; echo $A $FROM_FILE $SHARED $HOME",
    ]);
    assert_eq!(out, "myhost\nmyhost\n/made/here\n1 yes flag /root\n");
    let out = berth.ok(&[
        "run",
        "--rm",
        "--entrypoint",
        "echo",
        IMAGE,
        "via",
        "entrypoint",
    ]);
    assert_eq!(out, "via entrypoint\n");
    let out = berth.run(&["run", "--rm", "--read-only", IMAGE, "touch", "/etc/x"]);
    assert_ne!(code(&out), 0);
    assert!(
        stderr(&out).contains("Read-only file system"),
        "{}",
        stderr(&out)
    );
    let out = berth.ok(&["run", "--rm", "-t", IMAGE, "sh", "-c", "tty; stty size"]);
    assert!(out.starts_with("/dev/pts/0"), "{out:?}");
}

#[test]
fn bad_input_gets_one_clear_line_and_leaves_nothing() {
    let berth = Berth::with_image();
    let err = berth.fail(&["run", "-m", "12x", IMAGE, "true"]);
    assert!(err.contains("\"12x\"") && err.contains("64m"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let err = berth.fail(&["run", "--rm", "--pull", "never", "nosuch/image", "true"]);
    assert!(err.contains("no such image: nosuch/image:latest"), "{err}");
    // By default it is pulled: here no registry answers (the test's namespace has no
    // route out), which is one line after Docker's notice.
    let err = berth.fail(&["run", "--rm", "nosuch/image", "true"]);
    let lines: Vec<&str> = err.trim().lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert_eq!(
        lines[0],
        "Unable to find image 'nosuch/image:latest' locally"
    );
    assert!(
        lines[1].starts_with("Error: pulling docker.io/nosuch/image:latest: "),
        "{err}"
    );
    berth.ok(&["run", "-d", "--name", "busy", IMAGE, "sleep", "60"]);
    let err = berth.fail(&["run", "--name", "busy", IMAGE, "true"]);
    let id = berth.inspect("busy")["Id"].as_str().unwrap().to_owned();
    assert!(
        err.contains(&format!(
            "container name \"busy\" is already in use by {id}"
        )),
        "{err}"
    );
    let err = berth.fail(&["rm", "busy"]);
    assert!(
        err.contains("cannot remove running container busy: stop it first or use -f"),
        "{err}"
    );
    let err = berth.fail(&["stop", "ghost"]);
    assert!(err.contains("No such container: ghost"), "{err}");
    let err = berth.fail(&["run", "--name", "bad name", IMAGE, "true"]);
    assert!(err.contains("invalid container name"), "{err}");
    // None of the failures left a container behind.
    assert_eq!(berth.ok(&["ps", "-aq"]).lines().count(), 1);
    berth.ok(&["rm", "-f", "busy"]);
    assert_eq!(berth.ok(&["ps", "-aq"]), "");
    let leftovers: Vec<_> = std::fs::read_dir(berth.root().join("containers"))
        .unwrap()
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn rm_force_kills_and_cleans_up_cgroups() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "doomed", IMAGE, "sleep", "60"]);
    let id = berth.inspect("doomed")["Id"].as_str().unwrap().to_owned();
    let pid = berth.inspect("doomed")["State"]["Pid"].as_i64().unwrap();
    berth.ok(&["rm", "-f", "doomed"]);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}/cmdline")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                .unwrap_or_default()
                .is_empty()
    );
    for controller in ["memory", "pids", "cpu", "unified"] {
        let dir = format!("/sys/fs/cgroup/{controller}/berth/{id}");
        assert!(!std::path::Path::new(&dir).exists(), "{dir} left behind");
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&id), "a mount of the container is left");
}

/// The options of the container's root mount, as its own mountinfo shows them.
fn root_mount_options(berth: &Berth, args: &[&str]) -> String {
    let mut words = vec!["run"];
    words.extend_from_slice(args);
    words.extend_from_slice(&[IMAGE, "cat", "/proc/self/mountinfo"]);
    let mountinfo = berth.ok(&words);
    mountinfo
        .lines()
        .find(|l| l.split(' ').nth(4) == Some("/"))
        .unwrap_or_else(|| panic!("no root mount in {mountinfo}"))
        .to_owned()
}

#[test]
fn a_removed_containers_layer_is_never_synced_and_a_kept_ones_is() {
    let berth = Berth::with_image();
    // `--rm`: its unmount at exit does not flush the engine root's filesystem.
    // Kernels show it as `volatile` or, since 6.5, `fsync=volatile`.
    let volatile = |line: &str| {
        line.rsplit(' ')
            .next()
            .unwrap_or("")
            .split(',')
            .any(|o| o == "volatile" || o == "fsync=volatile")
    };
    let removed = root_mount_options(&berth, &["--rm"]);
    assert!(
        removed.contains(" overlay ") && volatile(&removed),
        "{removed}"
    );
    let kept = root_mount_options(&berth, &["--name", "kept"]);
    assert!(!volatile(&kept), "{kept}");
    // The kernel marks a volatile layer and refuses to mount it again as it is: a
    // restarted `--rm` container gets its layer back all the same.
    berth.ok(&["run", "-d", "--rm", "--name", "again", IMAGE, "sleep", "60"]);
    berth.ok(&["exec", "again", "sh", "-c", "echo kept > /root/file"]);
    berth.ok(&["restart", "-t", "0", "again"]);
    assert_eq!(berth.inspect("again")["State"]["Status"], "running");
    assert_eq!(berth.ok(&["exec", "again", "cat", "/root/file"]), "kept\n");
    berth.ok(&["rm", "-f", "again"]);
}

#[test]
fn ps_filters_restart_kill_and_start_attach() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run", "-d", "--name", "up", "-l", "tier=web", IMAGE, "sleep", "60",
    ]);
    berth.ok(&[
        "create",
        "--name",
        "fresh",
        IMAGE,
        "sh",
        "-c",
        "echo attached; exit 2",
    ]);
    assert_eq!(
        code(&berth.run(&["run", "--name", "done", IMAGE, "false"])),
        1
    );

    let names = |filter: &str| -> Vec<String> {
        let mut v: Vec<String> = berth
            .ok(&["ps", "-a", "--filter", filter, "--format", "json"])
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["Names"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("status=running"), ["up"]);
    assert_eq!(names("status=created"), ["fresh"]);
    assert_eq!(names("status=exited"), ["done"]);
    assert_eq!(names("exited=1"), ["done"]);
    assert_eq!(names("label=tier=web"), ["up"]);
    assert_eq!(names("name=fre"), ["fresh"]);
    assert_eq!(names(&format!("ancestor={IMAGE}")), ["done", "fresh", "up"]);
    let err = berth.fail(&["ps", "--filter", "colour=blue"]);
    assert!(err.contains("invalid filter 'colour'"), "{err}");

    // start -a streams the output and exits with the container's code.
    let out = berth.run(&["start", "-a", "fresh"]);
    assert_eq!((code(&out), stdout(&out)), (2, "attached\n".to_owned()));

    let before = berth.inspect("up")["State"]["Pid"].as_i64().unwrap();
    berth.ok(&["restart", "-t", "0", "up"]);
    let after = &berth.inspect("up")["State"];
    assert_eq!(after["Status"], "running");
    assert_ne!(after["Pid"].as_i64().unwrap(), before);

    berth.ok(&[
        "run",
        "-d",
        "--name",
        "trap",
        IMAGE,
        "sh",
        "-c",
        "trap 'echo got HUP; exit 9' HUP; while true; do sleep 0.1; done",
    ]);
    std::thread::sleep(Duration::from_millis(300));
    berth.ok(&["kill", "-s", "HUP", "trap"]);
    assert_eq!(berth.ok(&["wait", "trap"]), "9\n");
    assert_eq!(berth.ok(&["logs", "trap"]), "got HUP\n");
    let err = berth.fail(&["kill", "trap"]);
    assert!(err.contains("is not running"), "{err}");
}

#[test]
fn run_and_exec_with_a_terminal_are_interactive() {
    let berth = Berth::with_image();
    let (code, seen) = berth.on_terminal(
        &["run", "-it", "--rm", IMAGE, "sh"],
        &["tty; echo typed-$((40+2)); exit 4\n"],
    );
    assert_eq!(code, 4, "{seen}");
    assert!(seen.contains("/dev/pts/0"), "{seen}");
    assert!(seen.contains("typed-42"), "{seen}");

    berth.ok(&["run", "-d", "--name", "host", IMAGE, "sleep", "60"]);
    let (code, seen) = berth.on_terminal(
        &["exec", "-it", "host", "sh"],
        &["tty; stty size; exit 6\n"],
    );
    assert_eq!(code, 6, "{seen}");
    assert!(seen.contains("/dev/pts/"), "{seen}");
}

/// The bundle berth writes (config.json: mounts, namespaces, capabilities, seccomp) is
/// a real OCI bundle: runc runs it once the root filesystem is mounted.
#[test]
fn the_bundle_runs_under_runc() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "--name",
        "bundled",
        "-h",
        "bundled-host",
        IMAGE,
        "sh",
        "-c",
        "hostname; grep -c Seccomp: /proc/self/status",
    ]);
    let info = berth.inspect("bundled");
    let id = info["Id"].as_str().unwrap();
    let dir = berth.root().join("containers").join(id);
    let lower = info["GraphDriver"]["Data"]["LowerDir"].as_str().unwrap();
    let state = tempfile::tempdir().unwrap();
    // In a mount namespace of its own, so the overlay goes away with it.
    let script = format!(
        "mount --make-rprivate / && mount -t overlay overlay -o lowerdir={lower},upperdir={d}/upper,workdir={d}/work {d}/rootfs && exec runc --root {s} run --bundle {d} berth-bundle-{pid}",
        d = dir.display(),
        s = state.path().display(),
        pid = std::process::id(),
    );
    let out = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .stdin(Stdio::null())
        .output()
        .expect("run unshare and runc");
    assert!(out.status.success(), "runc failed: {}", stderr(&out));
    assert_eq!(stdout(&out), "bundled-host\n1\n");
}

/// Init's own reason, not the monitor's failure to reach a namespace that went with it
/// or a reset socket: a working directory or a mount target below a file fails in init,
/// before the network is wired, and quickly enough to race the monitor.
#[test]
fn a_start_that_fails_in_init_reports_inits_reason() {
    let berth = Berth::with_image();
    let cases: [(&[&str], &str); 2] = [
        (&["-w", "/etc/passwd/x"], "working directory /etc/passwd/x"),
        (&["-v", "/etc:/etc/passwd/y"], "mount point /etc/passwd/y"),
    ];
    for attempt in 0..10 {
        for (flags, what) in cases {
            let name = format!("bad{attempt}");
            let mut args = vec!["run", "--name", &name];
            args.extend_from_slice(flags);
            args.extend([IMAGE, "true"]);
            let out = berth.run(&args);
            let err = stderr(&out);
            // Docker's CLI gives 125 to a failed create that is not EACCES, EISDIR or
            // ENOENT (those get 126 and 127): "not a directory" is 125.
            assert_eq!(code(&out), 125, "{err}");
            assert_eq!(err.trim().lines().count(), 1, "{err}");
            assert!(err.contains(what), "{err}");
            assert!(err.to_lowercase().contains("not a directory"), "{err}");
            berth.ok(&["rm", &name]);
        }
    }
}

/// The monitor records a starting container as running while init sets up; a start that
/// then fails leaves the record as the start found it, with the failure: `created` after
/// a first run, as Docker's, `exited` with the new code after a later one.
#[test]
fn a_failed_start_leaves_the_state_it_found() {
    let berth = Berth::with_image();
    // A working directory below a file: init's failure, after the monitor cloned it.
    let out = berth.run(&[
        "run",
        "--name",
        "first",
        "-w",
        "/etc/passwd/x",
        IMAGE,
        "true",
    ]);
    assert_eq!(code(&out), 125, "{}", stderr(&out));
    let state = &berth.inspect("first")["State"];
    assert_eq!(state["Status"], "created", "{state}");
    assert_eq!(state["ExitCode"], 125, "{state}");
    assert_eq!(state["Running"], false, "{state}");
    assert_eq!(state["Pid"], 0, "{state}");
    assert_eq!(state["StartedAt"], "0001-01-01T00:00:00Z", "{state}");
    let error = state["Error"].as_str().unwrap_or_default();
    assert!(error.contains("/etc/passwd/x"), "{state}");
    // A container that ran before, whose bind source is a file by its next start.
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    std::fs::create_dir(&source).unwrap();
    let bind = format!("{}:/mnt/dir", source.display());
    berth.ok(&["run", "--name", "ran", "-v", &bind, IMAGE, "true"]);
    let before = berth.inspect("ran")["State"].clone();
    assert_eq!(before["Status"], "exited", "{before}");
    std::fs::remove_dir(&source).unwrap();
    std::fs::write(&source, b"now a file").unwrap();
    let out = berth.run(&["start", "ran"]);
    assert_ne!(code(&out), 0, "{}", stderr(&out));
    let state = &berth.inspect("ran")["State"];
    assert_eq!(state["Status"], "exited", "{state}");
    assert_eq!(state["ExitCode"], 125, "{state}");
    assert_eq!(state["Pid"], 0, "{state}");
    assert_eq!(state["StartedAt"], before["StartedAt"], "{state}");
}

/// The monitor runs from `/proc/self/fd/N`; it still shows as berth-monitor with
/// its container's name in ps and top.
#[test]
fn the_monitor_is_named_berth_monitor_with_its_container() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "named", IMAGE, "sleep", "60"]);
    let init = berth.inspect("named")["State"]["Pid"].as_i64().unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{init}/stat")).unwrap();
    // After the `(comm)` field: state, then the parent's PID.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let monitor: i32 = after.split(' ').nth(1).unwrap().parse().unwrap();
    let comm = std::fs::read_to_string(format!("/proc/{monitor}/comm")).unwrap();
    assert_eq!(comm.trim(), "berth-monitor");
    let cmdline = std::fs::read(format!("/proc/{monitor}/cmdline")).unwrap();
    let args: Vec<String> = cmdline
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    // `ps -o args` shows `berth-monitor named ...`.
    assert_eq!(args[0], "berth-monitor named", "{args:?}");
    berth.ok(&["rm", "-f", "named"]);
}

/// `run` starts the container's monitor while it makes the container: when the create
/// fails (a name in use), that monitor goes too, and nothing else is made.
#[test]
fn a_run_whose_create_fails_leaves_no_monitor_behind() {
    let berth = Berth::with_image();
    berth.ok(&["create", "--name", "taken", IMAGE, "true"]);
    let out = berth.run(&["run", "--name", "taken", IMAGE, "true"]);
    assert_eq!(code(&out), 125, "{}", stderr(&out));
    assert!(stderr(&out).contains("already in use"), "{}", stderr(&out));
    wait_until("the monitor started ahead to exit", || {
        processes_of(berth.root()).is_empty()
    });
    assert_eq!(
        berth.ok(&["ps", "-aq"]).lines().count(),
        1,
        "only the first one"
    );
    // And a run that succeeds runs its monitor under the container's name.
    assert_eq!(
        berth.ok(&["run", "--rm", "--name", "second", IMAGE, "echo", "hi"]),
        "hi\n"
    );
}

/// A child cgroup made inside the container's, which keeps the container's from being
/// removed; removed again on drop, also when the test fails.
struct HeldCgroup(std::path::PathBuf);

impl Drop for HeldCgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[test]
fn a_teardown_step_that_fails_is_named_in_monitor_log_and_an_event() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "held", IMAGE, "sleep", "60"]);
    let id = berth.inspect("held")["Id"].as_str().unwrap().to_owned();
    let cgroup = ["pids", "memory"]
        .iter()
        .map(|c| std::path::PathBuf::from(format!("/sys/fs/cgroup/{c}/berth/{id}")))
        .find(|d| d.is_dir())
        .expect("a v1 cgroup of the container");
    let held = HeldCgroup(cgroup.join("held"));
    std::fs::create_dir(&held.0).unwrap();

    // The monitor gives up on the busy cgroup after its retries, and goes on.
    berth.ok(&["stop", "-t", "0", "held"]);
    assert_eq!(berth.inspect("held")["State"]["Status"], "exited");
    let log = std::fs::read_to_string(
        berth
            .root()
            .join("containers")
            .join(&id)
            .join("monitor.log"),
    )
    .expect("monitor.log written");
    let line = log
        .lines()
        .find(|l| l.contains("teardown: remove cgroup"))
        .unwrap_or_else(|| panic!("no cgroup failure in {log:?}"));
    assert!(
        line.contains(&id) && line.contains(&cgroup.display().to_string()),
        "{line}"
    );

    let events = berth.ok(&[
        "events", "--since", "1h", "--until", "0s", "--format", "json",
    ]);
    let failed: Vec<serde_json::Value> = events
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["Action"] == "teardown-failed")
        .collect();
    assert_eq!(failed.len(), 1, "{events}");
    assert_eq!(failed[0]["Actor"]["ID"], id.as_str());
    let error = failed[0]["Actor"]["Attributes"]["error"].as_str().unwrap();
    assert!(error.starts_with("remove cgroup"), "{error}");

    // Let go of the cgroup: the container is removed whole.
    drop(held);
    berth.ok(&["rm", "held"]);
    assert!(!cgroup.exists());
}

/// Many containers: each is found by name, `/name`, full ID and short ID through the name
/// index, a prefix two IDs share is ambiguous in Docker's words and exit code, `ps -a`
/// lists newest first, a rename moves the name, a taken name stays taken, and one `rm -f`
/// of every name (and a missing one) removes them all and leaves a clean root. The names
/// start with `n`, which is not hex, so a name set free can't be taken for an ID prefix.
#[test]
fn many_containers_are_found_by_name_and_id_and_removed_by_one_rm() {
    const N: usize = 120;
    let berth = Berth::with_image();
    let names: Vec<String> = (0..N).map(|i| format!("n{i}")).collect();
    for name in &names {
        berth.ok(&["create", "--network", "none", "--name", name, IMAGE, "true"]);
    }
    berth.ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "--name",
        "up",
        IMAGE,
        "sleep",
        "60",
    ]);
    let listed = berth.ok(&["ps", "-a", "--format", "{{.Names}}"]);
    let mut newest_first: Vec<&str> = names.iter().map(String::as_str).collect();
    newest_first.push("up");
    newest_first.reverse();
    assert_eq!(listed.lines().collect::<Vec<_>>(), newest_first);

    let ids: Vec<String> = berth
        .ok(&["ps", "-aq", "--no-trunc"])
        .lines()
        .map(str::to_owned)
        .collect();
    for (name, id) in newest_first.iter().zip(&ids).step_by(7) {
        for wanted in [
            name.to_string(),
            format!("/{name}"),
            id.clone(),
            id[..12].to_owned(),
        ] {
            let found = berth.ok(&["inspect", "--format", "{{.Id}} {{.Name}}", &wanted]);
            assert_eq!(found.trim(), format!("{id} /{name}"), "{wanted}");
        }
    }
    // With 121 IDs, some first digit is shared.
    let shared = (0..16)
        .map(|d| format!("{d:x}"))
        .find(|p| ids.iter().filter(|id| id.starts_with(p.as_str())).count() > 1)
        .unwrap();
    let out = berth.run(&["rm", &shared]);
    assert_eq!(code(&out), 1, "{out:?}");
    assert!(
        stderr(&out).contains(&format!(
            "multiple IDs found with provided prefix: {shared}"
        )),
        "{}",
        stderr(&out)
    );

    berth.ok(&["rename", "n7", "seven"]);
    assert_eq!(
        code(&berth.run(&["inspect", "--type", "container", "n7"])),
        1
    );
    let err = berth.fail(&["create", "--name", "seven", IMAGE, "true"]);
    assert!(err.contains("is already in use"), "{err}");
    berth.ok(&["create", "--network", "none", "--name", "n7", IMAGE, "true"]);

    let mut all: Vec<&str> = newest_first
        .iter()
        .map(|n| if *n == "n7" { "seven" } else { n })
        .collect();
    all.push("n7");
    all.push("missing");
    let out = berth.run(&[&["rm", "-f"][..], &all].concat());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let printed = stdout(&out);
    assert_eq!(printed.lines().collect::<Vec<_>>(), all[..all.len() - 1]);
    assert!(
        stderr(&out).contains("No such container: missing"),
        "{}",
        stderr(&out)
    );
    assert_eq!(berth.ok(&["ps", "-aq"]), "");
    let check = berth.run(&["system", "check"]);
    assert!(
        check.status.success() && check.stdout.is_empty(),
        "{}",
        stdout(&check)
    );
}
