//! Docker parity of the lifecycle verbs and mounts (issue 15's "Fix:" list): output,
//! exit codes and what the container sees. Each test has its own engine root.

use crate::common;

use common::{code, stderr, stdout, wait_until, Berth, IMAGE};

/// (exit code, stdout, stderr) of `berth ARGS`.
fn answer(berth: &Berth, args: &[&str]) -> (i32, String, String) {
    let out = berth.run(args);
    (code(&out), stdout(&out), stderr(&out))
}

fn exists(berth: &Berth, name: &str) -> bool {
    berth
        .run(&["inspect", "--type", "container", name])
        .status
        .success()
}

#[test]
fn stop_kill_rm_and_restart_of_an_auto_removed_container() {
    let berth = Berth::with_image();
    let detached = |name: &str| {
        berth.ok(&["run", "-d", "--rm", "--name", name, IMAGE, "sleep", "60"]);
    };

    detached("stopped");
    let (rc, out, err) = answer(&berth, &["stop", "-t", "1", "stopped"]);
    assert_eq!((rc, out.as_str()), (0, "stopped\n"), "{err}");
    assert!(!exists(&berth, "stopped"), "--rm removes it once stopped");

    detached("killed");
    let (rc, out, err) = answer(&berth, &["kill", "killed"]);
    assert_eq!((rc, out.as_str()), (0, "killed\n"), "{err}");
    wait_until("the killed container to go", || !exists(&berth, "killed"));

    detached("forced");
    let (rc, out, err) = answer(&berth, &["rm", "-f", "forced"]);
    assert_eq!((rc, out.as_str()), (0, "forced\n"), "{err}");
    assert!(!exists(&berth, "forced"));

    // Docker keeps a `--rm` container across `restart`; it goes at its next exit.
    detached("again");
    let before = berth.inspect("again")["State"]["StartedAt"].clone();
    let (rc, out, err) = answer(&berth, &["restart", "-t", "1", "again"]);
    assert_eq!((rc, out.as_str()), (0, "again\n"), "{err}");
    let state = berth.inspect("again")["State"].clone();
    assert_eq!(state["Status"], "running", "{state}");
    assert_ne!(state["StartedAt"], before, "{state}");
    berth.ok(&["stop", "-t", "1", "again"]);
    assert!(!exists(&berth, "again"), "still removed at its next exit");
}

#[test]
fn start_of_a_running_container_is_a_no_op() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "up", IMAGE, "sleep", "60"]);
    let pid = berth.inspect("up")["State"]["Pid"].clone();
    let (rc, out, err) = answer(&berth, &["start", "up"]);
    assert_eq!((rc, out.as_str(), err.as_str()), (0, "up\n", ""));
    let state = berth.inspect("up")["State"].clone();
    assert_eq!(state["Status"], "running");
    assert_eq!(state["Pid"], pid, "the same process");

    // With -a it attaches instead: the output from then on, and the exit code.
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "late",
        IMAGE,
        "sh",
        "-c",
        "sleep 1; echo late; exit 3",
    ]);
    let (rc, out, _) = answer(&berth, &["start", "-a", "late"]);
    assert_eq!((rc, out.as_str()), (3, "late\n"));
}

#[test]
fn rm_force_of_a_missing_container_is_no_failure() {
    let berth = Berth::with_image();
    let (rc, out, err) = answer(&berth, &["rm", "-f", "nosuch"]);
    assert_eq!((rc, out.as_str()), (0, ""), "{err}");
    assert_eq!(err, "Error: No such container: nosuch\n");

    let (rc, out, err) = answer(&berth, &["rm", "nosuch"]);
    assert_eq!((rc, out.as_str()), (1, ""));
    assert_eq!(err, "Error: No such container: nosuch\n");

    berth.ok(&["create", "--name", "real", IMAGE, "true"]);
    let (rc, out, err) = answer(&berth, &["rm", "-f", "nosuch", "real"]);
    assert_eq!((rc, out.as_str()), (0, "real\n"), "{err}");
}

#[test]
fn a_terminal_needs_a_terminal_on_stdin() {
    let berth = Berth::with_image();
    // The harness runs berth with stdin on /dev/null.
    const REFUSED: &str = "the input device is not a TTY\n";
    let (rc, out, err) = answer(&berth, &["run", "-it", "--name", "t", IMAGE, "true"]);
    assert_eq!((rc, out.as_str(), err.as_str()), (1, "", REFUSED));
    assert_eq!(berth.ok(&["ps", "-a", "-q"]), "", "nothing was created");

    // A terminal without stdin, or stdin without a terminal, needs none.
    let (rc, out, err) = answer(&berth, &["run", "--rm", "-t", IMAGE, "echo", "hi"]);
    assert_eq!((rc, out.as_str()), (0, "hi\r\n"), "{err}");
    let (rc, out, err) = answer(&berth, &["run", "--rm", "-i", IMAGE, "echo", "hi"]);
    assert_eq!((rc, out.as_str()), (0, "hi\n"), "{err}");

    berth.ok(&["run", "-d", "--name", "host", IMAGE, "sleep", "60"]);
    let (rc, out, err) = answer(&berth, &["exec", "-it", "host", "true"]);
    assert_eq!((rc, out.as_str(), err.as_str()), (1, "", REFUSED));

    berth.ok(&["create", "-it", "--name", "box", IMAGE, "sh"]);
    let (rc, out, err) = answer(&berth, &["start", "-ai", "box"]);
    assert_eq!((rc, out.as_str(), err.as_str()), (1, "", REFUSED));
    assert_eq!(berth.inspect("box")["State"]["Status"], "created");
}

#[test]
fn relative_bind_sources_are_taken_from_the_current_directory() {
    let berth = Berth::with_image();
    let here = tempfile::tempdir().unwrap();
    std::fs::create_dir(here.path().join("dir")).unwrap();
    std::fs::write(here.path().join("dir/note"), "from here\n").unwrap();
    let sub = here.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let run_in = |cwd: &std::path::Path, args: &[&str]| {
        let out = berth.cmd().current_dir(cwd).args(args).output().unwrap();
        (code(&out), stdout(&out), stderr(&out))
    };
    for (cwd, flag, value, target) in [
        (here.path(), "-v", "./dir:/x", "/x"),
        (sub.as_path(), "-v", "../dir:/y:ro", "/y"),
        (
            sub.as_path(),
            "--mount",
            "type=bind,source=../dir,target=/z",
            "/z",
        ),
    ] {
        let note = format!("{target}/note");
        let (rc, out, err) = run_in(cwd, &["run", "--rm", flag, value, IMAGE, "cat", &note]);
        assert_eq!((rc, out.as_str()), (0, "from here\n"), "{value}: {err}");
    }
    // Made absolute in the record, and created if missing, as `-v` does.
    let (rc, _, err) = run_in(
        here.path(),
        &["create", "--name", "rel", "-v", "./made:/m", IMAGE, "true"],
    );
    assert_eq!(rc, 0, "{err}");
    let source = berth.inspect("rel")["Mounts"][0]["Source"].clone();
    let want = here.path().join("made");
    assert_eq!(source, want.to_str().unwrap());
    assert!(want.is_dir());
    // Without `./` it is a volume's name.
    berth.ok(&["run", "--rm", "-v", "dir:/v", IMAGE, "true"]);
    assert!(berth
        .ok(&["volume", "ls", "-q"])
        .lines()
        .any(|l| l == "dir"));
}

/// `grep`s the tmpfs at /scratch in /proc/mounts, tries to run a script from it and
/// prints its `df -k` line.
const TMPFS_PROBE: &str = "grep ' /scratch ' /proc/mounts; \
    printf '#!/bin/sh\\necho ran\\n' > /scratch/x; chmod +x /scratch/x; /scratch/x; \
    df -k /scratch | tail -n 1";

fn host_memory_kib() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("MemTotal in /proc/meminfo")
}

#[test]
fn tmpfs_mounts_get_dockers_defaults() {
    let berth = Berth::with_image();
    for flags in [
        &["--tmpfs", "/scratch"][..],
        &["--mount", "type=tmpfs,target=/scratch"],
    ] {
        let mut args = vec!["run", "--rm"];
        args.extend(flags);
        args.extend([IMAGE, "sh", "-c", TMPFS_PROBE]);
        let (rc, out, err) = answer(&berth, &args);
        assert_eq!(rc, 0, "{flags:?}: {err}");
        let lines: Vec<&str> = out.lines().collect();
        let options = lines[0].split(' ').nth(3).unwrap_or_default();
        for flag in ["noexec", "nosuid", "nodev"] {
            assert!(options.split(',').any(|o| o == flag), "{flags:?}: {out}");
        }
        assert!(!out.contains("ran"), "noexec: {out}");
        assert!(err.contains("Permission denied"), "{err}");
        // Without size=, the kernel's default: half the memory.
        let total: u64 = lines[1].split_whitespace().nth(1).unwrap().parse().unwrap();
        let half = host_memory_kib() / 2;
        assert!(total.abs_diff(half) <= 8, "{total} KiB, not about {half}");
    }
    let out = berth.ok(&[
        "run",
        "--rm",
        "--tmpfs",
        "/scratch:exec,size=1m",
        IMAGE,
        "sh",
        "-c",
        TMPFS_PROBE,
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        !lines[0].contains("noexec") && lines[0].contains("nosuid"),
        "{out}"
    );
    assert_eq!(lines[1], "ran", "{out}");
    assert_eq!(lines[2].split_whitespace().nth(1), Some("1024"), "{out}");
}

#[test]
fn a_mount_over_etc_still_gets_hosts_hostname_and_resolv_conf() {
    let berth = Berth::with_image();
    let script =
        "cat /etc/hostname; grep -c localhost /etc/hosts; grep -c '^nameserver ' /etc/resolv.conf";
    let etc = tempfile::tempdir().unwrap();
    let bind = format!("{}:/etc", etc.path().display());
    for flags in [
        ["-v", "etc:/etc"],
        ["-v", bind.as_str()],
        ["--tmpfs", "/etc"],
    ] {
        let mut args = vec!["run", "--rm", "-h", "inside"];
        args.extend(flags);
        args.extend([IMAGE, "sh", "-c", script]);
        let (rc, out, err) = answer(&berth, &args);
        assert_eq!(rc, 0, "{flags:?}: {err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "inside", "{flags:?}: {out}");
        for count in &lines[1..] {
            assert!(count.parse::<u32>().unwrap() > 0, "{flags:?}: {out}");
        }
    }
    // A file of the user's own on one of them wins.
    let hosts = etc.path().join("my-hosts");
    std::fs::write(&hosts, "10.1.2.3\tmine\n").unwrap();
    let bind = format!("{}:/etc/hosts:ro", hosts.display());
    let out = berth.ok(&["run", "--rm", "-v", &bind, IMAGE, "cat", "/etc/hosts"]);
    assert_eq!(out, "10.1.2.3\tmine\n");
}

#[test]
fn the_container_sees_only_its_own_cgroup_read_only() {
    let berth = Berth::with_image();
    let v1 = std::path::Path::new("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists();
    let limit = if v1 {
        "/sys/fs/cgroup/memory/memory.limit_in_bytes"
    } else {
        "/sys/fs/cgroup/memory.max"
    };
    // The limit; no write, no new cgroup, no release_agent, no cgroup below its own.
    let script = format!(
        "cat {limit}; echo 1 > {limit} && echo wrote; mkdir /sys/fs/cgroup/escape && echo made; \
         ls /sys/fs/cgroup/*/release_agent /sys/fs/cgroup/release_agent 2>/dev/null; \
         ls -d /sys/fs/cgroup/*/*/ 2>/dev/null | wc -l"
    );
    let (rc, out, err) = answer(
        &berth,
        &["run", "--rm", "-m", "64m", IMAGE, "sh", "-c", &script],
    );
    assert_eq!(rc, 0, "{err}");
    assert_eq!(out, "67108864\n0\n", "{err}");
    assert!(err.contains("Read-only file system"), "{err}");

    // A cgroup namespace of its own, also for exec: its cgroup is `/`.
    berth.ok(&["run", "-d", "--name", "cg", IMAGE, "sleep", "60"]);
    for args in [
        &["run", "--rm", IMAGE, "cat", "/proc/self/cgroup"][..],
        &["exec", "cg", "cat", "/proc/self/cgroup"],
    ] {
        let out = berth.ok(args);
        // The controllers berth confines the container with (v1 memory, v2's unified).
        let managed: Vec<&str> = out
            .lines()
            .filter(|l| l.contains(":memory:") || l.starts_with("0::"))
            .collect();
        assert!(!managed.is_empty(), "{args:?}: {out}");
        assert!(managed.iter().all(|l| l.ends_with(":/")), "{args:?}: {out}");
    }
}

/// `-v` with an empty section is refused as Docker refuses it (125), and nothing is made.
#[test]
fn volume_specs_with_an_empty_section_are_refused() {
    let berth = Berth::with_image();
    for spec in [":/x", "/a::/b", "/a:/b:"] {
        let (rc, out, err) = answer(&berth, &["run", "--rm", "-v", spec, IMAGE, "true"]);
        assert_eq!((rc, out.as_str()), (125, ""), "{spec}: {err}");
        assert!(
            err.contains(spec) && err.contains("empty section between colons"),
            "{spec}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{spec}: {err}");
    }
    assert_eq!(berth.ok(&["ps", "-aq"]), "");
    assert_eq!(berth.ok(&["volume", "ls", "-q"]), "");
}

/// A bad command line reads as Docker 28's: what is wrong, the verb's usage, where to
/// read more; 125 for a flag, 1 for a command or an argument count; no clap tips.
#[test]
fn command_line_errors_are_dockers() {
    let berth = Berth::new();
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["run", "--rmm", IMAGE],
            125,
            "unknown flag: --rmm\n\nUsage:  berth run [OPTIONS] <IMAGE> [COMMAND]...\n\n\
             Run 'berth run --help' for more information\n",
        ),
        (
            &["run", "--name"],
            125,
            "flag needs an argument: --name\n\nUsage:  berth run [OPTIONS] <IMAGE> [COMMAND]...\n\n\
             Run 'berth run --help' for more information\n",
        ),
        (
            &["run"],
            1,
            "berth: 'berth run' requires at least 1 argument\n\n\
             Usage:  berth run [OPTIONS] <IMAGE> [COMMAND]...\n\n\
             See 'berth run --help' for more information\n",
        ),
        (
            &["rename", "a"],
            1,
            "berth: 'berth rename' requires 2 arguments\n\n\
             Usage:  berth rename [OPTIONS] <CONTAINER> <NEW_NAME>\n\n\
             See 'berth rename --help' for more information\n",
        ),
        (
            &["pss"],
            1,
            "berth: unknown command: berth pss\n\nDid you mean this?\n\tps\n\n\
             Run 'berth --help' for more information\n",
        ),
        (
            &["frobnicate", "."],
            1,
            "berth: unknown command: berth frobnicate\n\nRun 'berth --help' for more information\n",
        ),
        (
            &["stop", "-t", "x", "a"],
            125,
            "invalid argument \"x\" for \"-t, --time\" flag: invalid digit found in string\n\n\
             Usage:  berth stop [OPTIONS] <CONTAINERS>...\n\n\
             Run 'berth stop --help' for more information\n",
        ),
    ];
    for (args, want_code, want) in cases {
        // The engine root from the environment must not show in the usage line.
        let out = berth
            .cmd()
            .env("BERTH_ROOT", "/somewhere/else")
            .args(*args)
            .output()
            .unwrap();
        assert_eq!(
            (code(&out), stderr(&out).as_str(), stdout(&out).as_str()),
            (*want_code, *want, ""),
            "{args:?}"
        );
    }
    // `rn` may mean rm or run, never rename.
    let err = berth.fail(&["rn", "x"]);
    assert!(err.contains("\trm\n") && !err.contains("rename"), "{err}");
}

/// A user who is not root is told so up front, in one line, and nothing is touched;
/// what needs no engine (help, version, completion) still works.
#[test]
fn a_user_who_is_not_root_is_told_up_front() {
    let berth = Berth::new();
    let as_nobody = |args: &[&str]| {
        let mut words = berth.command_words();
        // Drop root between nsenter's `--` and berth.
        let at = words.iter().position(|w| w == "--").unwrap() + 1;
        let setpriv = [
            "/usr/bin/setpriv",
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
        ];
        words.splice(at..at, setpriv.iter().map(|w| w.to_string()));
        let out = std::process::Command::new(&words[0])
            .args(&words[1..])
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (code(&out), stdout(&out), stderr(&out))
    };
    const REFUSED: &str = "Error: berth needs root (rootless mode is not built yet)\n";
    for (args, want) in [
        (&["ps"][..], 1),
        (&["images"], 1),
        (&["volume", "ls"], 1),
        (&["run", "--rm", IMAGE, "true"], 125),
        (&["system", "prune", "-f"], 1),
    ] {
        let (rc, out, err) = as_nobody(args);
        assert_eq!(
            (rc, out.as_str(), err.as_str()),
            (want, "", REFUSED),
            "{args:?}"
        );
    }
    assert_eq!(
        std::fs::read_dir(berth.root()).unwrap().count(),
        0,
        "the engine root was touched"
    );
    for args in [
        &["--help"][..],
        &["run", "--help"],
        &["version"],
        &["completion", "bash"],
    ] {
        let (rc, out, err) = as_nobody(args);
        assert_eq!(rc, 0, "{args:?}: {err}");
        assert!(!out.is_empty(), "{args:?}");
    }
}
