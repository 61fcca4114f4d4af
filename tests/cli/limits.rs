//! Resource limits (`--memory-swap`, `--cpu-shares`, `--cpuset-cpus`...) as Docker's: seen
//! from inside the container in its cgroup files, in `inspect`, refused with Docker's
//! words, and changed by `update` on a running container; then the namespace modes and
//! the remaining run flags (`--cidfile`, `-a`, `--sig-proxy`, `--platform`...).

use crate::common;

use common::{code, Berth, IMAGE};

/// The v1 layout of this host (hybrid cgroups): the files the container reads.
const CGROUP_FILES: &str = "cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes \
    memory/memory.memsw.limit_in_bytes memory/memory.soft_limit_in_bytes; \
    grep oom_kill_disable memory/memory.oom_control; cat cpu/cpu.shares \
    cpu/cpu.cfs_period_us cpu/cpu.cfs_quota_us cpuset/cpuset.cpus cpuset/cpuset.mems \
    pids/pids.max";

const MB: i64 = 1024 * 1024;

#[test]
fn limits_show_in_the_containers_cgroup_files_and_in_inspect() {
    let berth = Berth::with_image();
    let out = berth.ok(&[
        "run",
        "--name",
        "lim",
        "-m",
        "64m",
        "--memory-swap",
        "96m",
        "--memory-reservation",
        "32m",
        "--oom-kill-disable",
        "-c",
        "512",
        "--cpu-period",
        "50000",
        "--cpu-quota",
        "25000",
        "--cpuset-cpus",
        "1",
        "--cpuset-mems",
        "0",
        "--pids-limit",
        "50",
        IMAGE,
        "sh",
        "-c",
        CGROUP_FILES,
    ]);
    let want = [
        (64 * MB).to_string(),
        (96 * MB).to_string(),
        (32 * MB).to_string(),
        "oom_kill_disable 1".into(),
        "512".into(),
        "50000".into(),
        "25000".into(),
        "1".into(),
        "0".into(),
        "50".into(),
    ];
    assert_eq!(out.lines().collect::<Vec<_>>(), want);
    let host = &berth.inspect("lim")["HostConfig"];
    let expected = serde_json::json!({
        "Memory": 64 * MB, "MemorySwap": 96 * MB, "MemoryReservation": 32 * MB,
        "OomKillDisable": true, "CpuShares": 512, "CpuPeriod": 50000, "CpuQuota": 25000,
        "CpusetCpus": "1", "CpusetMems": "0", "PidsLimit": 50, "NanoCpus": 0,
        "BlkioWeight": 0,
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&host[key], value, "HostConfig.{key}");
    }
}

#[test]
fn memory_swap_is_twice_the_memory_by_default_and_minus_one_is_unlimited() {
    let berth = Berth::with_image();
    let files = "cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes";
    let out = berth.ok(&[
        "run", "--name", "dflt", "-m", "64m", IMAGE, "sh", "-c", files,
    ]);
    assert_eq!(out.trim(), (128 * MB).to_string());
    assert_eq!(berth.inspect("dflt")["HostConfig"]["MemorySwap"], 128 * MB);
    let out = berth.ok(&[
        "run",
        "--name",
        "unl",
        "-m",
        "64m",
        "--memory-swap",
        "-1",
        IMAGE,
        "sh",
        "-c",
        files,
    ]);
    // The kernel's "unlimited": far above any real size.
    assert!(out.trim().parse::<u64>().unwrap() > 1 << 60, "{out}");
    assert_eq!(berth.inspect("unl")["HostConfig"]["MemorySwap"], -1);
}

#[test]
fn bad_limits_exit_125_with_dockers_words_and_create_nothing() {
    let berth = Berth::with_image();
    let cases: &[(&[&str], &str)] = &[
        (&["-m", "4m"], "Minimum memory limit allowed is 6MB"),
        (
            &["-m", "64m", "--memory-swap", "32m"],
            "Minimum memoryswap limit should be larger than memory limit",
        ),
        (
            &["--memory-swap", "64m"],
            "You should always set the Memory limit when using Memoryswap limit",
        ),
        (
            &["--memory-reservation", "1m"],
            "Minimum memory reservation allowed is 6MB",
        ),
        (
            &["-m", "64m", "--memory-reservation", "128m"],
            "Minimum memory limit can not be less than memory reservation limit",
        ),
        (
            &["--cpus", "0.5", "--cpu-quota", "5000"],
            "Conflicting options: Nano CPUs and CPU Quota cannot both be set",
        ),
        (
            &["--cpu-period", "10"],
            "CPU cfs period can not be less than 1ms",
        ),
        (
            &["--cpu-quota", "10"],
            "CPU cfs quota can not be less than 1ms",
        ),
        (
            &["--cpuset-cpus", "0-4095"],
            "Requested CPUs are not available - requested 0-4095",
        ),
        (&["--cpuset-cpus", "x"], "Invalid value x for cpuset cpus"),
        (
            &["--cpuset-mems", "63"],
            "Requested memory nodes are not available",
        ),
        (
            &["--blkio-weight", "5"],
            "Range of blkio weight is from 10 to 1000",
        ),
    ];
    common::refused_by_create_and_run(&berth, cases);
}

#[test]
fn update_changes_a_running_containers_cgroup_and_record() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run", "-d", "--name", "svc", "-m", "64m", IMAGE, "sleep", "1000",
    ]);
    let out = berth.ok(&[
        "update",
        "-m",
        "100m",
        "--memory-swap",
        "200m",
        "--memory-reservation",
        "50m",
        "--cpus",
        "0.5",
        "--cpu-shares",
        "300",
        "--cpuset-cpus",
        "0",
        "--pids-limit",
        "30",
        "svc",
    ]);
    assert_eq!(out, "svc\n");
    let files = "cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes \
        memory/memory.memsw.limit_in_bytes memory/memory.soft_limit_in_bytes \
        cpu/cpu.cfs_period_us cpu/cpu.cfs_quota_us cpu/cpu.shares cpuset/cpuset.cpus \
        pids/pids.max";
    let inside = berth.ok(&["exec", "svc", "sh", "-c", files]);
    let want = [
        (100 * MB).to_string(),
        (200 * MB).to_string(),
        (50 * MB).to_string(),
        "100000".into(),
        "50000".into(),
        "300".into(),
        "0".into(),
        "30".into(),
    ];
    assert_eq!(inside.lines().collect::<Vec<_>>(), want);
    let host = &berth.inspect("svc")["HostConfig"];
    assert_eq!(host["Memory"], 100 * MB);
    assert_eq!(host["MemorySwap"], 200 * MB);
    assert_eq!(host["NanoCpus"], 500_000_000);
    assert_eq!(host["CpusetCpus"], "0");
    assert_eq!(host["PidsLimit"], 30);
    // -1 lifts the pids limit; `container update` is the same verb.
    berth.ok(&["container", "update", "--pids-limit", "-1", "svc"]);
    let pids = berth.ok(&["exec", "svc", "cat", "/sys/fs/cgroup/pids/pids.max"]);
    assert_eq!(pids.trim(), "max");
    assert_eq!(berth.inspect("svc")["HostConfig"]["PidsLimit"], 0);
    // Docker's errors exit 1 and change nothing.
    let out = berth.run(&["update", "-m", "300m", "svc"]);
    assert_eq!(code(&out), 1);
    assert!(common::stderr(&out).contains("smaller than already set memoryswap limit"));
    let out = berth.run(&["update", "--cpuset-cpus", "0-4095", "svc"]);
    assert_eq!(code(&out), 1);
    assert_eq!(berth.inspect("svc")["HostConfig"]["Memory"], 100 * MB);
    let cpus = berth.ok(&["exec", "svc", "cat", "/sys/fs/cgroup/cpuset/cpuset.cpus"]);
    assert_eq!(cpus.trim(), "0");
    // A stopped container keeps the new limits for its next start.
    berth.ok(&["rm", "-f", "svc"]);
    berth.ok(&[
        "create",
        "--name",
        "later",
        IMAGE,
        "cat",
        "/sys/fs/cgroup/cpu/cpu.shares",
    ]);
    berth.ok(&["update", "--cpu-shares", "256", "later"]);
    assert_eq!(berth.ok(&["start", "-a", "later"]).trim(), "256");
}

fn own_namespace(kind: &str) -> String {
    std::fs::read_link(format!("/proc/self/ns/{kind}"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn host_namespaces_are_the_hosts_inside_and_in_inspect() {
    let berth = Berth::with_image();
    let script = "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc; hostname; \
        grep -c ':/berth/' /proc/self/cgroup || true";
    let inside = berth.ok(&[
        "run",
        "--name",
        "hostns",
        "--pid",
        "host",
        "--ipc",
        "host",
        "--uts",
        "host",
        "--userns",
        "host",
        "--cgroupns",
        "host",
        IMAGE,
        "sh",
        "-c",
        script,
    ]);
    let lines: Vec<&str> = inside.lines().collect();
    assert_eq!(lines[0], own_namespace("pid"));
    assert_eq!(lines[1], own_namespace("ipc"));
    assert_eq!(
        lines[2],
        nix::unistd::gethostname().unwrap().to_str().unwrap()
    );
    // The host's cgroup namespace shows the container's cgroups by their host paths.
    assert_ne!(lines[3], "0", "{inside}");
    let host = &berth.inspect("hostns")["HostConfig"];
    for key in [
        "PidMode",
        "IpcMode",
        "UTSMode",
        "UsernsMode",
        "CgroupnsMode",
    ] {
        assert_eq!(host[key], "host", "{key}");
    }
    // The defaults: namespaces of its own, as Docker shows them.
    let inside = berth.ok(&["run", "--name", "own", IMAGE, "sh", "-c", script]);
    let lines: Vec<&str> = inside.lines().collect();
    assert_ne!(lines[0], own_namespace("pid"));
    assert_ne!(lines[1], own_namespace("ipc"));
    assert_eq!(lines[3], "0", "{inside}");
    let host = &berth.inspect("own")["HostConfig"];
    assert_eq!(host["PidMode"], "");
    assert_eq!(host["IpcMode"], "private");
    assert_eq!(host["CgroupnsMode"], "private");
}

#[test]
fn a_container_joins_anothers_pid_and_ipc_namespaces() {
    let berth = Berth::with_image();
    // A POSIX message queue lives in its IPC namespace, as SysV segments do.
    let donor = berth.ok(&[
        "run",
        "-d",
        "--name",
        "donor",
        "--ipc",
        "shareable",
        IMAGE,
        "sh",
        "-c",
        "touch /dev/mqueue/berthq; exec sleep 1000",
    ]);
    let donor = donor.trim();
    let inside = berth.ok(&[
        "run",
        "--name",
        "joiner",
        "--pid",
        "container:donor",
        "--ipc",
        "container:donor",
        IMAGE,
        "sh",
        "-c",
        "ps -o comm; ls /dev/mqueue",
    ]);
    assert!(inside.lines().any(|l| l.trim() == "sleep"), "{inside}");
    assert!(inside.lines().any(|l| l.trim() == "berthq"), "{inside}");
    let host = &berth.inspect("joiner")["HostConfig"];
    assert_eq!(host["PidMode"], format!("container:{donor}"));
    assert_eq!(host["IpcMode"], format!("container:{donor}"));
    // A container of its own sees neither.
    let alone = berth.ok(&[
        "run",
        "--rm",
        IMAGE,
        "sh",
        "-c",
        "ps -o comm; ls /dev/mqueue",
    ]);
    assert!(
        !alone.contains("sleep") && !alone.contains("berthq"),
        "{alone}"
    );
    // Docker's refusals, nothing created.
    berth.ok(&["run", "-d", "--name", "closed", IMAGE, "sleep", "1000"]);
    let cases: &[(&[&str], &str)] = &[
        (&["--ipc", "container:closed"], "non-shareable IPC"),
        (
            &["--pid", "container:nothere"],
            "No such container: nothere",
        ),
        (&["--pid", "private2"], "use one of host, container:NAME"),
        (&["--userns", "remap"], "no user namespace remapping"),
        (
            &["--uts", "host", "-h", "x"],
            "Conflicting options: hostname and the UTS mode",
        ),
        (&["--cgroupns", "shareable"], "--cgroupns mode"),
    ];
    for (flags, words) in cases {
        let mut args = vec!["create", "--name", "bad"];
        args.extend_from_slice(flags);
        args.extend([IMAGE, "true"]);
        let out = berth.run(&args);
        assert_eq!(code(&out), 125, "{args:?}");
        let err = common::stderr(&out);
        assert!(err.contains(words), "{args:?}: {err}");
    }
    assert!(berth.run(&["inspect", "bad"]).status.code() != Some(0));
    // The donor must run when the joiner starts.
    berth.ok(&[
        "create",
        "--name",
        "late",
        "--pid",
        "container:closed",
        IMAGE,
        "true",
    ]);
    berth.ok(&["stop", "-t", "0", "closed"]);
    let out = berth.run(&["start", "late"]);
    assert_ne!(code(&out), 0);
    assert!(
        common::stderr(&out).contains("not running"),
        "{}",
        common::stderr(&out)
    );
}

#[test]
fn label_file_cidfile_and_domainname_as_dockers() {
    let berth = Berth::with_image();
    let dir = tempfile::tempdir().unwrap();
    let labels = dir.path().join("labels");
    std::fs::write(&labels, "# comment\nteam=blue\nowner=ops\n\n").unwrap();
    let cid = dir.path().join("cid");
    let inside = berth.ok(&[
        "run",
        "--name",
        "small",
        "--label-file",
        labels.to_str().unwrap(),
        "-l",
        "owner=me",
        "--cidfile",
        cid.to_str().unwrap(),
        "--domainname",
        "example.org",
        IMAGE,
        "cat",
        "/proc/sys/kernel/domainname",
    ]);
    assert_eq!(inside.trim(), "example.org");
    let shown = berth.inspect("small");
    assert_eq!(shown["Config"]["Domainname"], "example.org");
    assert_eq!(
        shown["Config"]["Labels"],
        serde_json::json!({"team": "blue", "owner": "me"})
    );
    assert_eq!(
        std::fs::read_to_string(&cid).unwrap(),
        shown["Id"].as_str().unwrap()
    );
    // An existing cidfile is refused before anything is made, and kept.
    let out = berth.run(&["create", "--cidfile", cid.to_str().unwrap(), IMAGE, "true"]);
    assert_eq!(code(&out), 125);
    assert!(common::stderr(&out).contains("Container ID file found"));
    assert!(cid.exists());
    // A create that fails leaves no cidfile.
    let other = dir.path().join("other");
    let out = berth.run(&[
        "create",
        "--cidfile",
        other.to_str().unwrap(),
        "--pull",
        "never",
        "nothere",
        "true",
    ]);
    assert_eq!(code(&out), 125);
    assert!(!other.exists());
    assert_eq!(berth.ok(&["ps", "-aq"]).lines().count(), 1);
}

#[test]
fn ip6_isolation_gpus_and_bad_domains_are_refused_in_one_line() {
    let berth = Berth::with_image();
    let cases: &[(&[&str], &str)] = &[
        (&["--ip6", "fd00::2"], "IPv4 only"),
        (
            &["--isolation", "hyperv"],
            "only support 'default' isolation",
        ),
        (&["--gpus", "all"], "GPUs are not supported"),
        (&["--domainname", "bad domain"], "invalid domain name"),
    ];
    for (flags, words) in cases {
        let mut args = vec!["run", "--name", "bad"];
        args.extend_from_slice(flags);
        args.extend([IMAGE, "true"]);
        let out = berth.run(&args);
        assert_eq!(code(&out), 125, "{args:?}");
        let err = common::stderr(&out);
        assert!(err.contains(words), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    assert_eq!(berth.ok(&["ps", "-aq"]), "");
    berth.ok(&["run", "--rm", "--isolation", "default", IMAGE, "true"]);
}

#[test]
fn platform_on_run_must_match_the_local_images() {
    let berth = Berth::with_image();
    let host = format!(
        "linux/{}",
        std::env::consts::ARCH
            .replace("x86_64", "amd64")
            .replace("aarch64", "arm64")
    );
    let other = if host == "linux/arm64" {
        "linux/amd64"
    } else {
        "linux/arm64"
    };
    berth.ok(&[
        "run",
        "--rm",
        "--platform",
        &host,
        "--pull",
        "never",
        IMAGE,
        "true",
    ]);
    for verb in ["run", "create"] {
        let out = berth.run(&[verb, "--platform", other, "--pull", "never", IMAGE, "true"]);
        assert_eq!(code(&out), 125);
        let err = common::stderr(&out);
        assert!(
            err.contains(&format!(
                "does not match the specified platform: wanted {other}, actual: {host}"
            )),
            "{err}"
        );
    }
    assert_eq!(berth.ok(&["ps", "-aq"]), "");
}

#[test]
fn attach_picks_the_streams_and_sig_proxy_false_keeps_signals() {
    let berth = Berth::with_image();
    let script = "echo out; echo err >&2";
    let out = berth.run(&["run", "--rm", "-a", "stdout", IMAGE, "sh", "-c", script]);
    assert_eq!(
        (common::stdout(&out).as_str(), common::stderr(&out).as_str()),
        ("out\n", "")
    );
    let out = berth.run(&["run", "--rm", "-a", "STDERR", IMAGE, "sh", "-c", script]);
    assert_eq!(
        (common::stdout(&out).as_str(), common::stderr(&out).as_str()),
        ("", "err\n")
    );
    let out = berth.run(&["run", "-a", "bogus", IMAGE, "true"]);
    assert_eq!(code(&out), 125);
    assert!(common::stderr(&out).contains("valid streams are STDIN, STDOUT and STDERR"));
    let out = berth.run(&["run", "-d", "-a", "stdout", IMAGE, "true"]);
    assert_eq!(code(&out), 125);
    assert!(common::stderr(&out).contains("Conflicting options: -a and -d"));
    assert_eq!(berth.ok(&["ps", "-aq"]), "");

    // A TERM to `berth run` reaches the container's trap by default; with
    // --sig-proxy=false it ends berth alone and the container runs on.
    let trap = "trap 'echo got; exit 7' TERM; while true; do sleep 0.1; done";
    for (name, proxy) in [
        ("proxied", "--sig-proxy=true"),
        ("kept", "--sig-proxy=false"),
    ] {
        let child = berth
            .cmd()
            .args(["run", "--name", name, proxy, IMAGE, "sh", "-c", trap])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        // Not made yet at first: inspect may fail until then.
        let running = || {
            let out = berth.run(&["inspect", "--format", "{{.State.Running}}", name]);
            common::stdout(&out).trim() == "true"
        };
        while !running() {
            assert!(std::time::Instant::now() < deadline, "{name} never ran");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        // The shell sets its trap as its first step; give it that moment.
        std::thread::sleep(std::time::Duration::from_millis(300));
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        let out = child.wait_with_output().unwrap();
        if proxy == "--sig-proxy=true" {
            assert_eq!(out.status.code(), Some(7), "the trap's exit");
            assert_eq!(common::stdout(&out), "got\n");
        } else {
            assert_eq!(out.status.code(), Some(143));
            assert_eq!(berth.inspect(name)["State"]["Running"], true);
        }
    }
    berth.ok(&["rm", "-f", "kept"]);
}

#[test]
fn link_puts_the_running_containers_address_under_its_alias() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "db", IMAGE, "sleep", "1000"]);
    let db_ip = berth.inspect("db")["NetworkSettings"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_owned();
    let inside = berth.ok(&[
        "run",
        "--name",
        "app",
        "--link",
        "db:database",
        IMAGE,
        "sh",
        "-c",
        "grep -w database /etc/hosts; ping -c1 -W5 database >/dev/null && echo reached",
    ]);
    assert_eq!(inside, format!("{db_ip}\tdatabase\nreached\n"));
    assert_eq!(
        berth.inspect("app")["HostConfig"]["Links"],
        serde_json::json!(["/db:/app/database"])
    );
    let out = berth.run(&["create", "--link", "nothere", IMAGE, "true"]);
    assert_eq!(code(&out), 125);
    berth.ok(&["stop", "-t", "0", "db"]);
    let out = berth.run(&["create", "--link", "db", IMAGE, "true"]);
    assert_eq!(code(&out), 125);
    assert!(common::stderr(&out).contains("Cannot link to a non running container: /db"));
    assert_eq!(berth.ok(&["ps", "-aq"]).lines().count(), 2);
}
