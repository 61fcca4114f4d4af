//! Crash safety: every crash point of the engine (`berth::engine::faults::POINTS`, active in
//! debug builds) is hit with `BERTH_CRASH_AT`, killing the verb (or the container's
//! monitor) there. Afterwards the next commands work, `system check` names what was left
//! (or nothing), `--repair` removes it, a second check is clean, no mount, cgroup or
//! process is left, and a volume's data written before the crash is intact.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Output;

use berth::engine::faults::{ENV, PAUSE_ENV, PAUSE_FILE_ENV, POINTS};

use crate::common::{self, processes_of, Berth};

const DATA: &str = "written before the crash\n";

/// The verb a crash point interrupts, and how its scene is set.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Verb {
    Run,
    /// A `run --rm` with a published port, crashed as its container exits.
    RunRm,
    Rm,
    Rename,
    Cp,
    Load,
    VolumeCreate,
    VolumeRm,
}

fn verb_of(point: &str) -> Verb {
    if matches!(point, "monitor:after-exit" | "monitor:before-unplug") {
        return Verb::RunRm;
    }
    match point.split(':').next().unwrap_or("") {
        "create" | "start" | "monitor" => Verb::Run,
        "rm" => Verb::Rm,
        "rename" => Verb::Rename,
        "cp" => Verb::Cp,
        "load" => Verb::Load,
        "volume-create" => Verb::VolumeCreate,
        "volume-rm" => Verb::VolumeRm,
        _ => panic!("no scenario for crash point {point}: add one to tests/security/crash.rs"),
    }
}

/// What `system check` must report after the crash (beyond that, anything it reports
/// must be repairable). None: nothing is left behind.
fn expected_kind(point: &str) -> Option<&'static str> {
    match point {
        "create:after-dir" => Some("container-dir"),
        // The name index has an entry for a container that never was or is gone, or
        // both names of one renamed midway.
        "create:after-index"
        | "rm:before-unindex"
        | "rename:after-index"
        | "rename:after-record" => Some("container-index"),
        // `run` makes the cgroup while its monitor loads, before the monitor mounts.
        "monitor:after-mount" | "monitor:after-cgroup" => Some("cgroup"),
        // By then the record says it runs (written while init set up): the next verb
        // finds its monitor dead and removes the cgroup itself.
        // The container is gone; its retired directory is not.
        "monitor:after-exit" => Some("tmp"),
        "rm:after-retire" => Some("tmp"),
        "load:mid-layer" => Some("tmp"),
        "load:after-layer" | "load:after-blob" | "load:after-record" => Some("interrupted-load"),
        "volume-create:after-dir" => Some("volume-dir"),
        "volume-rm:after-retire" => Some("tmp"),
        _ => None,
    }
}

fn run_crashing(berth: &Berth, point: &str, args: &[&str]) -> Output {
    berth
        .cmd()
        .env(ENV, point)
        .args(args)
        .output()
        .expect("spawn berth")
}

fn container_ids(root: &Path) -> Vec<String> {
    let mut ids = Vec::new();
    let mut dirs = vec![root.join("containers"), root.join("tmp")];
    // An `rm`'s workspace, with the directories it retired.
    for entry in std::fs::read_dir(root.join("tmp"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if entry.file_name().to_string_lossy().starts_with("work-rm-") {
            dirs.push(entry.path());
        }
    }
    for dir in dirs {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let id = name.strip_prefix("rm-").unwrap_or(&name);
            if id.len() == 64 {
                ids.push(id.to_owned());
            }
        }
    }
    ids
}

fn mounts_below(root: &Path) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| Path::new(m).starts_with(root))
        .map(str::to_owned)
        .collect()
}

fn cgroups_of(ids: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for h in std::fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
    {
        for id in ids {
            let dir = h.path().join("berth").join(id);
            if dir.exists() {
                found.push(dir.display().to_string());
            }
        }
    }
    found
}

/// Sets the scene for `verb`, crashes it at `point`, checks the aftermath. Returns what
/// the first `system check` reported.
fn crash_at(point: &str) -> String {
    let verb = verb_of(point);
    let berth = if verb == Verb::Load {
        Berth::new()
    } else {
        Berth::with_image()
    };
    let root = berth.root().to_owned();
    berth.ok(&["volume", "create", "keep"]);
    let precious = root.join("volumes/keep/_data/precious");
    std::fs::write(&precious, DATA).unwrap();
    let victim = [
        "run",
        "-d",
        "--name",
        "victim",
        "-v",
        "keep:/data",
        "-v",
        "/anon",
        common::IMAGE,
        "sleep",
        "60",
    ];
    let scratch = tempfile::tempdir().unwrap();
    let big = scratch.path().join("big");
    let out = match verb {
        Verb::Run => run_crashing(&berth, point, &victim),
        Verb::RunRm => run_crashing(
            &berth,
            point,
            &[
                "run",
                "--rm",
                "--name",
                "victim",
                "-p",
                "8080:80",
                "-v",
                "keep:/data",
                "-v",
                "/anon",
                common::IMAGE,
                "true",
            ],
        ),
        Verb::Rm => {
            berth.ok(&victim);
            run_crashing(&berth, point, &["rm", "-f", "-v", "victim"])
        }
        Verb::Rename => {
            berth.ok(&victim);
            run_crashing(&berth, point, &["rename", "victim", "renamed"])
        }
        Verb::Cp => {
            berth.ok(&victim);
            std::fs::write(&big, vec![7u8; 8 << 20]).unwrap();
            run_crashing(&berth, point, &["cp", big.to_str().unwrap(), "victim:/big"])
        }
        Verb::Load => {
            let archive = common::fixtures().join("busybox-save.tar");
            run_crashing(&berth, point, &["load", "-i", archive.to_str().unwrap()])
        }
        Verb::VolumeCreate => run_crashing(&berth, point, &["volume", "create", "doomed"]),
        Verb::VolumeRm => {
            berth.ok(&["volume", "create", "doomed"]);
            std::fs::write(root.join("volumes/doomed/_data/f"), DATA).unwrap();
            run_crashing(&berth, point, &["volume", "rm", "doomed"])
        }
    };
    if point == "monitor:before-unplug" {
        // The exit was told before the monitor died.
        assert!(out.status.success(), "{point}: {out:?}");
    } else if point.starts_with("monitor:") {
        // The monitor died; the CLI lives to report that the start failed.
        assert!(!out.status.success(), "{point}: run should fail");
    } else {
        assert_eq!(out.status.signal(), Some(9), "{point}: not killed: {out:?}");
    }
    let ids = container_ids(&root);
    if verb == Verb::RunRm {
        // The port's rule went before the exit was recorded.
        let rules = berth
            .netns()
            .command("nft")
            .args(["list", "ruleset"])
            .output()
            .unwrap();
        let rules = common::stdout(&rules);
        assert!(!rules.contains("dport 8080"), "{point}: {rules}");
    }
    if verb == Verb::Rename {
        // Killed before or after the record changed: the container has one of its
        // names, the one its record says, and the other is free.
        let (has, free) = match point {
            "rename:after-index" => ("victim", "renamed"),
            _ => ("renamed", "victim"),
        };
        let names = berth.ok(&["ps", "-a", "--format", "{{.Names}}"]);
        assert_eq!(names.trim(), has, "{point}");
        berth.ok(&["inspect", has]);
        let out = berth.run(&["inspect", free]);
        assert_eq!(out.status.code(), Some(1), "{point}: {out:?}");
    }

    // The next commands work whatever was left.
    berth.ok(&["ps", "-a"]);
    berth.ok(&["images"]);
    let volumes = berth.ok(&["volume", "ls"]);
    assert!(volumes.contains("keep"), "{point}: {volumes}");

    let first = berth.run(&["system", "check"]);
    let report = common::stdout(&first);
    match first.status.code() {
        Some(0) => assert!(report.is_empty(), "{point}: {report}"),
        Some(1) => assert!(!report.is_empty(), "{point}: findings but no report"),
        _ => panic!("{point}: system check failed: {first:?}"),
    }
    if let Some(kind) = expected_kind(point) {
        assert!(
            report.lines().any(|l| l.starts_with(&format!("{kind} "))),
            "{point}: expected a {kind} finding in {report:?}"
        );
    }
    let repair = berth.ok(&["system", "check", "--repair"]);
    assert!(!repair.contains("FAILED"), "{point}: {repair}");
    let second = berth.run(&["system", "check"]);
    assert!(
        second.status.success() && second.stdout.is_empty(),
        "{point}: not clean after repair: {}",
        common::stdout(&second)
    );
    assert_eq!(mounts_below(&root), Vec::<String>::new(), "{point}: mounts");
    assert_eq!(
        std::fs::read_to_string(&precious).unwrap(),
        DATA,
        "{point}: volume data"
    );

    // Everything still works: the image runs, the volume mounts, then it all goes away.
    if verb != Verb::Load {
        let seen = berth.ok(&[
            "run",
            "--rm",
            "-v",
            "keep:/data",
            common::IMAGE,
            "cat",
            "/data/precious",
        ]);
        assert_eq!(seen, DATA, "{point}");
    }
    let all = berth.ok(&["ps", "-aq", "--no-trunc"]);
    for id in all.lines() {
        berth.ok(&["rm", "-f", "-v", id]);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !processes_of(&root).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(processes_of(&root), Vec::<i32>::new(), "{point}: processes");
    assert_eq!(cgroups_of(&ids), Vec::<String>::new(), "{point}: cgroups");
    report
}

#[test]
fn every_crash_point_leaves_a_repairable_engine() {
    let only = std::env::var("BERTH_TEST_CRASH_POINT").ok();
    for point in POINTS {
        if only.as_deref().is_some_and(|o| o != *point) {
            continue;
        }
        let report = crash_at(point);
        eprintln!(
            "{point}: {}",
            if report.is_empty() {
                "clean\n"
            } else {
                &report
            }
        );
    }
}

#[test]
fn every_crash_point_has_a_scenario() {
    for point in POINTS {
        verb_of(point);
    }
}

/// A mount and cgroups leaked for a stopped container (as a berth killed between mounting
/// and cleaning up would leave them) are found and removed.
#[test]
fn check_repairs_leaked_mounts_and_cgroups() {
    let berth = Berth::with_image();
    berth.ok(&["create", "--name", "c", common::IMAGE, "true"]);
    let id = berth.ok(&["ps", "-aq", "--no-trunc"]).trim().to_owned();
    let rootfs = berth.root().join("containers").join(&id).join("rootfs");
    nix::mount::mount(
        Some("tmpfs"),
        &rootfs,
        Some("tmpfs"),
        nix::mount::MsFlags::empty(),
        None::<&str>,
    )
    .expect("mount a tmpfs");
    let mut made = Vec::new();
    for h in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        // berth uses every hierarchy with controllers and the v2 tree, not the named
        // (controller-less) systemd one.
        if h.path().join("cgroup.procs").exists() && h.file_name() != "systemd" {
            let dir = h.path().join("berth").join(&id);
            std::fs::create_dir_all(&dir).expect("create a cgroup");
            made.push(dir);
        }
    }
    assert!(!made.is_empty());
    let ids = vec![id.clone()];

    let out = berth.run(&["system", "check"]);
    let report = common::stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains(&format!("mount {} ", rootfs.display())),
        "{report}"
    );
    assert!(report.contains(&format!("cgroup berth/{id} ")), "{report}");

    let repair = berth.ok(&["system", "check", "--repair"]);
    assert!(!repair.contains("FAILED"), "{repair}");
    berth.ok(&["system", "check"]);
    assert_eq!(mounts_below(berth.root()), Vec::<String>::new());
    assert_eq!(cgroups_of(&ids), Vec::<String>::new());
    // The container itself was no leftover: it is still there and starts.
    berth.ok(&["start", "c"]);
}

/// `system prune` removes stopped containers, anonymous volumes with --volumes and unused
/// images with -a, keeps what a running container uses, and leaves a clean root.
#[test]
fn system_prune_and_info() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "--name",
        "stopped",
        "-v",
        "/anon",
        common::IMAGE,
        "true",
    ]);
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "running",
        common::IMAGE,
        "sleep",
        "60",
    ]);
    berth.ok(&["volume", "create", "named"]);
    let info = berth.ok(&["system", "info"]);
    assert!(
        info.contains(
            " Containers: 2\n  Running: 1\n  Paused: 0\n  Stopped: 1\n Images: 1\n Volumes: 2\n"
        ),
        "{info}"
    );

    let out = berth.ok(&["system", "prune", "-a", "-f", "--volumes"]);
    assert!(out.starts_with("Deleted Containers:\n"), "{out}");
    assert!(out.contains("Deleted Volumes:\n"), "{out}");
    assert!(
        !out.contains("Deleted Images:"),
        "the image is in use: {out}"
    );
    assert!(out.contains("Total reclaimed space: "), "{out}");
    let ps = berth.ok(&["ps", "-a"]);
    assert!(ps.contains("running") && !ps.contains("stopped"), "{ps}");
    assert_eq!(berth.ok(&["volume", "ls", "-q"]).trim(), "named");

    berth.ok(&["rm", "-f", "running"]);
    let out = berth.ok(&["system", "prune", "-a", "-f"]);
    assert!(
        out.contains(&format!("untagged: {}", common::IMAGE)),
        "{out}"
    );
    assert!(berth.ok(&["images", "-q"]).trim().is_empty());
    berth.ok(&["system", "check"]);
}

/// A monitor process of this root whose container doesn't name it (here: a stand-in with a
/// monitor's command line, for a container that exists but is not running) is killed.
#[test]
fn check_kills_stray_monitors() {
    let berth = Berth::with_image();
    berth.ok(&["create", "--name", "c", common::IMAGE, "true"]);
    let id = berth.ok(&["ps", "-aq", "--no-trunc"]).trim().to_owned();
    let root = std::fs::canonicalize(berth.root()).unwrap();
    // `sh -c 'read x' NAME ARGS...`: the shell keeps these arguments and waits on its
    // stdin without a child process that could outlive it.
    let stand_in = || {
        std::process::Command::new("sh")
            .args(["-c", "read x", "berth-monitor", "--root"])
            .arg(&root)
            .args(["__monitor", &id])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut stray = stand_in();
    let pid = stray.id();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let check = |args: &[&str]| {
        berth
            .cmd()
            .env("BERTH_TEST_MONITOR_GRACE", "1")
            .args(args)
            .output()
            .unwrap()
    };
    let out = check(&["system", "check"]);
    let report = common::stdout(&out);
    assert!(stray.try_wait().unwrap().is_none(), "check alone killed it");
    assert!(
        report.starts_with(&format!("monitor pid {pid} (container {id})")),
        "{report}"
    );
    let out = check(&["system", "check", "--repair"]);
    assert!(out.status.success(), "{}", common::stdout(&out));
    let status = stray.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    // With the normal grace, a young monitor (one that may be starting) is left alone.
    let mut young = stand_in();
    let out = berth.run(&["system", "check"]);
    let alive = young.try_wait().unwrap().is_none();
    let _ = young.kill();
    let _ = young.wait();
    assert!(out.status.success() && alive, "{}", common::stdout(&out));
}

/// `system prune` without `-f` asks first, also when stdin is a pipe: "n" or no answer
/// removes nothing (no data is lost to a script that forgot `-f`); "y" prunes.
#[test]
fn system_prune_asks_before_removing_anything() {
    let berth = Berth::with_image();
    berth.ok(&["run", "--name", "stopped", common::IMAGE, "true"]);
    for answer in [&b"n\n"[..], b""] {
        let out = berth.run_with_input(&["system", "prune"], answer);
        assert!(out.status.success(), "{out:?}");
        let err = common::stderr(&out);
        assert!(err.contains("WARNING! This will remove:"), "{err}");
        assert!(
            err.contains("Are you sure you want to continue? [y/N]"),
            "{err}"
        );
        assert!(common::stdout(&out).is_empty(), "{out:?}");
        assert_eq!(berth.ok(&["ps", "-aq"]).lines().count(), 1);
    }
    let out = berth.run_with_input(&["system", "prune"], b"y\n");
    assert!(
        common::stdout(&out).starts_with("Deleted Containers:\n"),
        "{out:?}"
    );
    assert_eq!(berth.ok(&["ps", "-aq"]), "");
}

/// A process in a container that dresses its command line as a monitor of this root is
/// not taken for one: check neither reports nor kills it (monitors live in berth's pid
/// namespace).
#[test]
fn a_container_process_posing_as_a_monitor_is_ignored() {
    let berth = Berth::with_image();
    let root = std::fs::canonicalize(berth.root()).unwrap();
    berth.ok(&["run", "-d", "--name", "c", common::IMAGE, "sleep", "60"]);
    let id = berth.ok(&["ps", "-q", "--no-trunc"]).trim().to_owned();
    // `sh -c SCRIPT NAME ARGS...` keeps ARGS in its command line, as the stand-in above.
    let root_arg = root.to_str().unwrap();
    berth.ok(&[
        "exec",
        "-d",
        "c",
        "sh",
        "-c",
        "while :; do sleep 1; done",
        "berth-monitor",
        "--root",
        root_arg,
        "__monitor",
        &id,
    ]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = berth
        .cmd()
        .env("BERTH_TEST_MONITOR_GRACE", "0")
        .args(["system", "check", "--repair"])
        .output()
        .unwrap();
    let report = common::stdout(&out);
    assert!(!report.contains("monitor pid"), "{report}");
    // The poser still runs inside the container.
    let ps = berth.ok(&["exec", "c", "ps", "-o", "args"]);
    assert!(ps.contains("__monitor"), "{ps}");
}

/// A damaged name index (here: garbage, then a huge file, then a FIFO in its place) never
/// hides a container or hangs a verb: lookups read the records, `system check` names it,
/// and `--repair` rebuilds it.
#[test]
fn check_repairs_a_damaged_container_index() {
    let berth = Berth::with_image();
    berth.ok(&["create", "--name", "a", common::IMAGE, "true"]);
    berth.ok(&["create", "--name", "b", common::IMAGE, "true"]);
    let index = berth.root().join("containers.index");
    assert!(index.is_file());
    type Damage = (&'static str, fn(&Path));
    let damages: [Damage; 3] = [
        ("garbage", |p| {
            std::fs::write(p, b"\x00\xffnot an index").unwrap()
        }),
        ("huge", |p| {
            std::fs::File::create(p).unwrap().set_len(1 << 30).unwrap()
        }),
        ("fifo", |p| {
            std::fs::remove_file(p).unwrap();
            nix::unistd::mkfifo(p, nix::sys::stat::Mode::S_IRUSR).unwrap();
        }),
    ];
    for (what, damage) in damages {
        damage(&index);
        for name in ["a", "b"] {
            let found = berth.ok(&["inspect", "--format", "{{.Name}}", name]);
            assert_eq!(found.trim(), format!("/{name}"), "{what}");
        }
        let err = berth.fail(&["create", "--name", "a", common::IMAGE, "true"]);
        assert!(err.contains("already in use"), "{what}: {err}");
        damage(&index);
        let out = berth.run(&["system", "check"]);
        let report = common::stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{what}: {report}");
        assert!(
            report.starts_with("container-index damaged"),
            "{what}: {report}"
        );
        let repair = berth.ok(&["system", "check", "--repair"]);
        assert!(!repair.contains("FAILED"), "{what}: {repair}");
        berth.ok(&["system", "check"]);
        assert!(index.is_file(), "{what}");
    }
    berth.ok(&["rm", "a", "b"]);
    berth.ok(&["system", "check"]);
}

/// `rm` deletes the directories of the containers it removed after it lets go of the
/// engine lock: meanwhile the containers are gone, other verbs run, and `system check`
/// leaves the workspace they wait in alone (one a crash left is removed: see the
/// `rm:after-retire` crash point). When it is done nothing is left.
#[test]
fn rm_deletes_after_letting_go_of_the_lock() {
    let berth = Berth::with_image();
    let names = ["a", "b", "c"];
    for name in names {
        berth.ok(&[
            "create",
            "--network",
            "none",
            "--name",
            name,
            common::IMAGE,
            "true",
        ]);
    }
    let scratch = tempfile::tempdir().unwrap();
    let paused = scratch.path().join("paused");
    let rm = berth
        .cmd()
        .env(PAUSE_ENV, "rm:before-delete")
        .env(PAUSE_FILE_ENV, &paused)
        .args(["rm", "a", "b", "c"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !paused.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "rm never reached its deletion"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let retired: Vec<std::path::PathBuf> = std::fs::read_dir(berth.root().join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(retired.len(), 1, "{retired:?}");
    assert_eq!(std::fs::read_dir(&retired[0]).unwrap().count(), 3);
    assert_eq!(berth.ok(&["ps", "-aq"]), "");
    // The lock is free: a verb that takes it runs, and may take a name set free.
    berth.ok(&[
        "create",
        "--network",
        "none",
        "--name",
        "a",
        common::IMAGE,
        "true",
    ]);
    let check = berth.run(&["system", "check"]);
    assert!(
        check.status.success() && check.stdout.is_empty(),
        "{}",
        common::stdout(&check)
    );
    assert!(retired[0].exists());

    std::fs::remove_file(&paused).unwrap();
    let out = rm.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(common::stdout(&out), "a\nb\nc\n");
    assert_eq!(
        std::fs::read_dir(berth.root().join("tmp")).unwrap().count(),
        0
    );
    berth.ok(&["rm", "a"]);
    let check = berth.run(&["system", "check"]);
    assert!(
        check.status.success() && check.stdout.is_empty(),
        "{}",
        common::stdout(&check)
    );
}

/// The monitor's ID, from the command line of the monitor `run` started ahead.
fn ahead_monitor_id(root: &Path) -> Option<String> {
    processes_of(root).into_iter().find_map(|pid| {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let words: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        let at = words.iter().position(|w| w == "__monitor")?;
        words.get(at + 1).cloned()
    })
}

/// `run` takes the spare cgroup as its container's before it makes the container (see
/// `Cgroup::take_spare`). Killed meanwhile, as ctrl-c during a pull does, it leaves no
/// cgroup: its monitor, started ahead and left without a go, removes it, since no record
/// names that ID and `system check` could not find it.
#[test]
fn a_run_killed_before_its_container_is_made_leaves_no_cgroup() {
    use std::os::unix::process::CommandExt;

    let berth = Berth::with_image();
    let pids = Path::new("/sys/fs/cgroup/pids/berth");
    let scratch = tempfile::tempdir().unwrap();
    let paused = scratch.path().join("paused");
    // Other tests' starts may take the spare first: a container's end makes another.
    let (mut run, dir) = (0..20)
        .find_map(|_| {
            berth.ok(&["run", "--rm", "--network", "none", common::IMAGE, "true"]);
            common::wait_until("the monitor to end", || {
                processes_of(berth.root()).is_empty()
            });
            let mut run = berth
                .cmd()
                .env(PAUSE_ENV, "run:before-create")
                .env(PAUSE_FILE_ENV, &paused)
                .args(["run", "--network", "none", common::IMAGE, "true"])
                .process_group(0)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            common::wait_until("run to pause", || paused.exists());
            let id = ahead_monitor_id(berth.root()).expect("a monitor started ahead");
            let dir = pids.join(&id);
            if dir.is_dir() {
                return Some((run, dir));
            }
            // No spare was there to take: let this one go and try again.
            std::fs::remove_file(&paused).unwrap();
            assert!(run.wait().unwrap().success());
            let left = berth.ok(&["ps", "-aq"]);
            berth.ok(&["rm", "-f", left.trim()]);
            None
        })
        .expect("a run that took the spare");
    let group = nix::unistd::Pid::from_raw(run.id() as i32);
    nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL).unwrap();
    run.wait().unwrap();
    common::wait_until("the monitor to end", || {
        processes_of(berth.root()).is_empty()
    });
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert_eq!(berth.ok(&["ps", "-aq"]), "");
    let out = berth.run(&["system", "check"]);
    assert!(out.status.success(), "{out:?}");
}
