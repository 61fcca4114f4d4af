//! The resource flags of `run` beyond the common limits, as Docker's: per-device block
//! I/O, `--cgroup-parent`, `--cpu-rt-period`/`--cpu-rt-runtime` (also on `update`),
//! `--memory-swappiness`, `--oom-score-adj`, `--kernel-memory`. Each is seen where it
//! acts (the cgroup files, /proc/1/oom_score_adj) and in `inspect`; bad values exit 125
//! in one line with nothing made.

use std::path::{Path, PathBuf};

use crate::common;

use common::{code, Berth, IMAGE};

const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// A whole disk of this machine (`/dev/vda`...), read only for its numbers: the
/// throttles act on the test's container alone.
fn whole_disk() -> Option<String> {
    let mut names: Vec<String> = std::fs::read_dir("/sys/block")
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| Path::new(&format!("/dev/{n}")).exists())
        .collect();
    // Real disks first: zram and loop devices come and go.
    names.sort_by_key(|n| (n.starts_with("zram") || n.starts_with("loop"), n.clone()));
    names.into_iter().next().map(|n| format!("/dev/{n}"))
}

fn device_numbers(disk: &str) -> String {
    let name = disk.trim_start_matches("/dev/");
    std::fs::read_to_string(format!("/sys/block/{name}/dev"))
        .unwrap()
        .trim()
        .to_owned()
}

/// The cgroup hierarchies mounted (`memory`, `cpu,cpuacct`, `unified`...).
fn cgroup_hierarchies() -> Vec<PathBuf> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    mountinfo
        .lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let fstype = right.split(' ').next()?;
            let mount = left.split(' ').nth(4)?;
            matches!(fstype, "cgroup" | "cgroup2").then(|| PathBuf::from(mount))
        })
        .collect()
}

/// A parent cgroup of the test's own, removed with whatever berth left in it (berth
/// leaves a parent it made, as Docker's runtime does).
struct Parent {
    name: String,
}

impl Parent {
    fn new(tag: &str) -> Parent {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        Parent {
            name: format!("berth-test-{tag}-{}-{nanos}", std::process::id()),
        }
    }

    fn in_hierarchy(&self, hierarchy: &str) -> PathBuf {
        Path::new(CGROUP_ROOT).join(hierarchy).join(&self.name)
    }
}

impl Drop for Parent {
    fn drop(&mut self) {
        for h in cgroup_hierarchies() {
            let dir = h.join(&self.name);
            if !dir.exists() {
                continue;
            }
            // Children first; only directories (cgroups) are removable here.
            let mut dirs: Vec<PathBuf> = walk_dirs(&dir);
            dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
            for d in dirs {
                if let Err(e) = std::fs::remove_dir(&d) {
                    eprintln!("removing test cgroup {}: {e}", d.display());
                }
            }
        }
    }
}

fn walk_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut found = vec![dir.to_owned()];
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            found.extend(walk_dirs(&entry.path()));
        }
    }
    found
}

#[test]
fn device_throttles_land_in_the_blkio_cgroup_and_in_inspect() {
    let Some(disk) = whole_disk() else {
        eprintln!("no whole disk here: skipped");
        return;
    };
    let numbers = device_numbers(&disk);
    let berth = Berth::with_image();
    let files = "cd /sys/fs/cgroup/blkio; cat blkio.throttle.read_bps_device \
        blkio.throttle.write_bps_device blkio.throttle.read_iops_device \
        blkio.throttle.write_iops_device";
    let read_bps = format!("{disk}:1mb");
    let write_bps = format!("{disk}:2m");
    let read_iops = format!("{disk}:100");
    let write_iops = format!("{disk}:200");
    let out = berth.ok(&[
        "run",
        "--name",
        "io",
        "--device-read-bps",
        &read_bps,
        "--device-write-bps",
        &write_bps,
        "--device-read-iops",
        &read_iops,
        "--device-write-iops",
        &write_iops,
        IMAGE,
        "sh",
        "-c",
        files,
    ]);
    let want = [
        format!("{numbers} 1048576"),
        format!("{numbers} 2097152"),
        format!("{numbers} 100"),
        format!("{numbers} 200"),
    ];
    assert_eq!(out.lines().collect::<Vec<_>>(), want);
    let host = &berth.inspect("io")["HostConfig"];
    let rate = |r: u64| serde_json::json!([{"Path": disk, "Rate": r}]);
    assert_eq!(host["BlkioDeviceReadBps"], rate(1 << 20));
    assert_eq!(host["BlkioDeviceWriteBps"], rate(2 << 20));
    assert_eq!(host["BlkioDeviceReadIOps"], rate(100));
    assert_eq!(host["BlkioDeviceWriteIOps"], rate(200));
    assert_eq!(host["BlkioWeightDevice"], serde_json::json!([]));
}

#[test]
fn a_device_weight_is_set_or_discarded_with_dockers_warning() {
    let Some(disk) = whole_disk() else {
        eprintln!("no whole disk here: skipped");
        return;
    };
    let berth = Berth::with_image();
    let weight = format!("{disk}:300");
    let blkio = Path::new(CGROUP_ROOT).join("blkio");
    let file = ["blkio.weight_device", "blkio.bfq.weight_device"]
        .into_iter()
        .find(|f| blkio.join(f).exists());
    let script = match file {
        Some(f) => format!("cat /sys/fs/cgroup/blkio/{f}"),
        None => "true".to_owned(),
    };
    let out = berth.run(&[
        "run",
        "--name",
        "weighed",
        "--blkio-weight-device",
        &weight,
        IMAGE,
        "sh",
        "-c",
        &script,
    ]);
    assert_eq!(code(&out), 0, "{}", common::stderr(&out));
    let shown = &berth.inspect("weighed")["HostConfig"]["BlkioWeightDevice"];
    match file {
        Some(_) => {
            let inside = common::stdout(&out);
            assert!(
                inside.contains(&format!("{} 300", device_numbers(&disk))),
                "{inside}"
            );
            assert_eq!(shown, &serde_json::json!([{"Path": disk, "Weight": 300}]));
        }
        // No CFQ/BFQ here: Docker's warning, and the weight dropped.
        None => {
            let err = common::stderr(&out);
            assert!(
                err.contains("does not support Block I/O weight_device"),
                "{err}"
            );
            assert_eq!(shown, &serde_json::json!([]));
        }
    }
}

#[test]
fn cgroup_parent_holds_the_container_and_rm_removes_only_its_own() {
    let berth = Berth::with_image();
    let parent = Parent::new("parent");
    // One the user made, with a cgroup of its own in it that berth must leave.
    let users = parent.in_hierarchy("memory");
    std::fs::create_dir_all(users.join("keep")).unwrap();
    let id = berth
        .ok(&[
            "run",
            "-d",
            "--name",
            "child",
            "--cgroup-parent",
            &format!("/{}", parent.name),
            IMAGE,
            "sleep",
            "1000",
        ])
        .trim()
        .to_owned();
    let init_pid = berth.inspect("child")["State"]["Pid"].as_i64().unwrap();
    // In every hierarchy the container's cgroup is <parent>/<id>, holding its init.
    for hierarchy in ["memory", "cpu", "pids", "blkio"] {
        let own = parent.in_hierarchy(hierarchy).join(&id);
        let procs = std::fs::read_to_string(own.join("cgroup.procs"))
            .unwrap_or_else(|e| panic!("{}: {e}", own.display()));
        assert!(
            procs.lines().any(|l| l.trim() == init_pid.to_string()),
            "{hierarchy}: {procs}"
        );
    }
    assert!(!Path::new(CGROUP_ROOT)
        .join("memory/berth")
        .join(&id)
        .exists());
    assert_eq!(
        berth.inspect("child")["HostConfig"]["CgroupParent"],
        format!("/{}", parent.name)
    );
    // Limits act there: exec'd processes join it too.
    let inside = berth.ok(&["exec", "child", "cat", "/proc/self/cgroup"]);
    assert!(inside.lines().any(|l| l.ends_with(":memory:/")), "{inside}");
    berth.ok(&["rm", "-f", "child"]);
    for hierarchy in ["memory", "cpu", "pids", "blkio"] {
        assert!(
            !parent.in_hierarchy(hierarchy).join(&id).exists(),
            "{hierarchy}"
        );
    }
    assert!(users.join("keep").is_dir(), "the user's cgroup stays");
    assert!(users.is_dir(), "the parent stays, as Docker's");
    // Without one, berth/<id> as before; shown as "".
    berth.ok(&["create", "--name", "plain", IMAGE, "true"]);
    assert_eq!(berth.inspect("plain")["HostConfig"]["CgroupParent"], "");
}

#[test]
fn cpu_rt_runtime_takes_the_parents_budget_and_update_changes_it() {
    let berth = Berth::with_image();
    if !Path::new(CGROUP_ROOT)
        .join("cpu/cpu.rt_runtime_us")
        .exists()
    {
        // No real-time groups (cgroup v2): refused as Docker's, nothing made.
        let out = berth.run(&["run", "--cpu-rt-runtime", "1000", IMAGE, "true"]);
        assert_eq!(code(&out), 125);
        assert!(common::stderr(&out).contains("does not support CPU real-time scheduler"));
        assert_eq!(berth.ok(&["ps", "-aq"]), "");
        return;
    }
    // The parent berth uses by default has no budget: refused before anything is made.
    let out = berth.run(&["run", "--cpu-rt-runtime", "10000", IMAGE, "true"]);
    assert_eq!(code(&out), 125);
    let err = common::stderr(&out);
    assert!(err.contains("real-time CPU free"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(berth.ok(&["ps", "-aq"]), "");
    // A parent given 2% of a CPU for real-time tasks.
    let parent = Parent::new("rt");
    let cpu = parent.in_hierarchy("cpu");
    std::fs::create_dir_all(&cpu).unwrap();
    std::fs::write(cpu.join("cpu.rt_runtime_us"), "20000").unwrap();
    let parent_flag = format!("/{}", parent.name);
    let files = "cat /sys/fs/cgroup/cpu/cpu.rt_period_us /sys/fs/cgroup/cpu/cpu.rt_runtime_us";
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "rt",
        "--cgroup-parent",
        &parent_flag,
        "--cpu-rt-period",
        "500000",
        "--cpu-rt-runtime",
        "5000",
        IMAGE,
        "sleep",
        "1000",
    ]);
    let inside = berth.ok(&["exec", "rt", "sh", "-c", files]);
    assert_eq!(inside.lines().collect::<Vec<_>>(), ["500000", "5000"]);
    let host = &berth.inspect("rt")["HostConfig"];
    assert_eq!(host["CpuRealtimePeriod"], 500_000);
    assert_eq!(host["CpuRealtimeRuntime"], 5000);
    // `update` changes it within the budget, and refuses more.
    assert_eq!(
        berth.ok(&["update", "--cpu-rt-runtime", "8000", "rt"]),
        "rt\n"
    );
    let inside = berth.ok(&["exec", "rt", "sh", "-c", files]);
    assert_eq!(inside.lines().collect::<Vec<_>>(), ["500000", "8000"]);
    assert_eq!(
        berth.inspect("rt")["HostConfig"]["CpuRealtimeRuntime"],
        8000
    );
    let out = berth.run(&["update", "--cpu-rt-runtime", "20000", "rt"]);
    assert_eq!(code(&out), 1);
    assert!(common::stderr(&out).contains("real-time CPU free"));
    assert_eq!(
        berth.inspect("rt")["HostConfig"]["CpuRealtimeRuntime"],
        8000
    );
    let out = berth.run(&[
        "update",
        "--cpu-rt-period",
        "1000",
        "--cpu-rt-runtime",
        "2000",
        "rt",
    ]);
    assert_eq!(code(&out), 1);
    assert!(common::stderr(&out).contains("cannot be higher than cpu real-time period"));
    berth.ok(&["rm", "-f", "rt"]);
    // The budget the test gave its parent is the parent's still.
    let budget = std::fs::read_to_string(cpu.join("cpu.rt_runtime_us")).unwrap();
    assert_eq!(budget.trim(), "20000");
}

#[test]
fn memory_swappiness_lands_in_the_memory_cgroup_and_inspect() {
    let berth = Berth::with_image();
    let file = "cat /sys/fs/cgroup/memory/memory.swappiness";
    let out = berth.ok(&[
        "run",
        "--name",
        "swap",
        "--memory-swappiness",
        "7",
        IMAGE,
        "sh",
        "-c",
        file,
    ]);
    assert_eq!(out.trim(), "7");
    assert_eq!(berth.inspect("swap")["HostConfig"]["MemorySwappiness"], 7);
    // Unset, and -1 (Docker's default): the kernel's, shown as null.
    for (name, flags) in [
        ("dflt", &[][..]),
        ("minus", &["--memory-swappiness", "-1"][..]),
    ] {
        let mut args = vec!["run", "--name", name];
        args.extend_from_slice(flags);
        args.extend([IMAGE, "sh", "-c", file]);
        let out = berth.ok(&args);
        assert_ne!(out.trim(), "7");
        assert_eq!(
            berth.inspect(name)["HostConfig"]["MemorySwappiness"],
            serde_json::Value::Null
        );
    }
}

/// CAP_SYS_RESOURCE (bit 24) in this process's effective set.
fn has_cap_sys_resource() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
        .unwrap();
    eff & (1 << 24) != 0
}

#[test]
fn oom_score_adj_is_the_containers_init_and_shown_in_inspect() {
    let berth = Berth::with_image();
    let out = berth.ok(&[
        "run",
        "--name",
        "bias",
        "--oom-score-adj",
        "512",
        IMAGE,
        "cat",
        "/proc/1/oom_score_adj",
    ]);
    assert_eq!(out.trim(), "512");
    assert_eq!(berth.inspect("bias")["HostConfig"]["OomScoreAdj"], 512);
    // With --init, init and the process it runs have it.
    let out = berth.ok(&[
        "run",
        "--rm",
        "--init",
        "--oom-score-adj",
        "300",
        IMAGE,
        "sh",
        "-c",
        "cat /proc/1/oom_score_adj /proc/self/oom_score_adj",
    ]);
    assert_eq!(out.lines().collect::<Vec<_>>(), ["300", "300"]);
    let plain = berth.ok(&[
        "run",
        "--name",
        "plain",
        IMAGE,
        "cat",
        "/proc/1/oom_score_adj",
    ]);
    assert_eq!(berth.inspect("plain")["HostConfig"]["OomScoreAdj"], 0);
    // Below berth's own score needs CAP_SYS_RESOURCE: given where berth has it,
    // refused in one line where it doesn't.
    let own: i64 = plain.trim().parse().unwrap();
    let lower = (own - 100).max(-1000).to_string();
    let out = berth.run(&[
        "run",
        "--name",
        "low",
        "--oom-score-adj",
        &lower,
        IMAGE,
        "cat",
        "/proc/1/oom_score_adj",
    ]);
    let may_lower = has_cap_sys_resource();
    if may_lower {
        assert_eq!(code(&out), 0, "{}", common::stderr(&out));
        assert_eq!(common::stdout(&out).trim(), lower);
    } else {
        assert_eq!(code(&out), 125);
        let err = common::stderr(&out);
        assert!(err.contains("needs CAP_SYS_RESOURCE"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(berth.run(&["inspect", "low"]).status.code() != Some(0));
    }
}

#[test]
fn kernel_memory_is_taken_and_ignored_with_a_warning() {
    let berth = Berth::with_image();
    let out = berth.run(&[
        "run",
        "--name",
        "kmem",
        "--kernel-memory",
        "64m",
        IMAGE,
        "true",
    ]);
    assert_eq!(code(&out), 0);
    let err = common::stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("WARNING: ") && err.contains("--kernel-memory"),
        "{err}"
    );
    // Docker's inspect since API 1.42 leaves it out.
    let host = &berth.inspect("kmem")["HostConfig"];
    assert!(host.get("KernelMemory").is_none_or(|v| *v == 0), "{host}");
    // `update` takes it too (a hidden flag in Docker's), with the same warning.
    let out = berth.run(&["update", "--kernel-memory", "64m", "kmem"]);
    assert_eq!(code(&out), 0);
    assert!(common::stderr(&out).contains("--kernel-memory"));
}

#[test]
fn bad_resource_flags_exit_125_in_one_line_and_make_nothing() {
    let berth = Berth::with_image();
    let disk = whole_disk().unwrap_or_else(|| "/dev/sda".into());
    let bps = |v: &str| format!("{disk}:{v}");
    let (bad_rate, bad_iops, bad_weight) = (bps("5x"), bps("1k"), bps("5"));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--device-read-bps", "/dev/null:1mb"],
            "/dev/null is not a block device",
        ),
        (
            vec!["--device-write-bps", "/dev/nothere:1mb"],
            "stat /dev/nothere: no such file",
        ),
        (
            vec!["--device-read-iops", "sda:100"],
            "bad format for device path",
        ),
        (vec!["--device-write-iops", "/dev/sda"], "bad format"),
        (
            vec!["--device-read-bps", &bad_rate],
            "invalid rate for device",
        ),
        (
            vec!["--device-read-iops", &bad_iops],
            "invalid rate for device",
        ),
        (
            vec!["--blkio-weight-device", &bad_weight],
            "invalid weight for device",
        ),
        (vec!["--cgroup-parent", "../escape"], "'..' are not allowed"),
        (
            vec!["--cgroup-parent", "/a/../../b"],
            "'..' are not allowed",
        ),
        (
            vec!["--cgroup-parent", "berth/inside"],
            "choose a parent outside it",
        ),
        (
            vec!["--memory-swappiness", "101"],
            "Valid memory swappiness range is 0-100",
        ),
        (
            vec!["--memory-swappiness", "-2"],
            "Valid memory swappiness range is 0-100",
        ),
        (
            vec!["--oom-score-adj", "1001"],
            "range for oom score adj is [-1000, 1000]",
        ),
        (
            vec!["--oom-score-adj", "-1001"],
            "range for oom score adj is [-1000, 1000]",
        ),
        (
            vec!["--cpu-rt-period", "1000", "--cpu-rt-runtime", "2000"],
            "cpu real-time runtime cannot be higher than cpu real-time period",
        ),
        (vec!["--kernel-memory", "5x"], "--kernel-memory"),
    ];
    common::refused_by_create_and_run(&berth, &cases);
}

#[test]
fn update_takes_dockers_update_flags() {
    let berth = Berth::new();
    let help = berth.ok(&["update", "--help"]);
    for flag in [
        "--blkio-weight",
        "--cpu-period",
        "--cpu-quota",
        "--cpu-rt-period",
        "--cpu-rt-runtime",
        "--cpu-shares",
        "--cpus",
        "--cpuset-cpus",
        "--cpuset-mems",
        "--memory",
        "--memory-reservation",
        "--memory-swap",
        "--pids-limit",
        "--restart",
    ] {
        assert!(help.contains(flag), "{flag} missing from update --help");
    }
    let help = berth.ok(&["run", "--help"]);
    for flag in [
        "--blkio-weight-device",
        "--device-read-bps",
        "--device-write-bps",
        "--device-read-iops",
        "--device-write-iops",
        "--cgroup-parent",
        "--cpu-rt-period",
        "--cpu-rt-runtime",
        "--kernel-memory",
        "--memory-swappiness",
        "--oom-score-adj",
    ] {
        assert!(help.contains(flag), "{flag} missing from run --help");
    }
}

/// A cgroup leaked under a `--cgroup-parent` (as a berth killed before its clean-up
/// leaves it) is found by `system check` and removed by `--repair`; the parent stays.
#[test]
fn system_check_finds_a_leaked_cgroup_under_a_parent() {
    let berth = Berth::with_image();
    let parent = Parent::new("check");
    let id = berth
        .ok(&["create", "--cgroup-parent", &parent.name, IMAGE, "true"])
        .trim()
        .to_owned();
    let mut made = Vec::new();
    for h in cgroup_hierarchies() {
        if h.join("cgroup.procs").exists() && !h.ends_with("systemd") {
            let dir = h.join(&parent.name).join(&id);
            std::fs::create_dir_all(&dir).unwrap();
            made.push(dir);
        }
    }
    let out = berth.run(&["system", "check"]);
    let report = common::stdout(&out);
    assert_eq!(code(&out), 1, "{report}");
    assert!(
        report.contains(&format!("cgroup {}/{id} ", parent.name)),
        "{report}"
    );
    let repair = berth.ok(&["system", "check", "--repair"]);
    assert!(!repair.contains("FAILED"), "{repair}");
    berth.ok(&["system", "check"]);
    for dir in &made {
        assert!(!dir.exists(), "{}", dir.display());
        assert!(dir.parent().unwrap().is_dir(), "the parent stays");
    }
    berth.ok(&["start", "-a", &id]);
}
