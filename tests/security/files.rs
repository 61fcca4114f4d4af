//! Attacks through files a container controls: a volume swapped under the copy-up of
//! another container's start (hole 4), hostile /etc/passwd and /etc/group (hole 6), and
//! logs too large to read into memory (hole 7).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::common::{self, processes_of, Berth};
use super::helper;

/// What a berth run under [`bounded`] left: output, exit, peak memory, and whether it had
/// to be killed.
struct Bounded {
    success: bool,
    stdout: String,
    stderr: String,
    max_rss_kib: i64,
    timed_out: bool,
}

/// Runs a command with a deadline, killing it (by its PID) if it overruns, and reports
/// its peak resident memory. It is forked from this small program, not from the test:
/// the kernel counts the memory of the process that forked into the child's `ru_maxrss`,
/// and the test process may hold hundreds of MB (the huge-log test's output).
const MEASURE: &str = r#"#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc < 4) return 2;
    long limit_ms = atol(argv[1]);
    pid_t pid = fork();
    if (pid < 0) return 2;
    if (pid == 0) { execv(argv[3], argv + 3); _exit(127); }
    struct rusage ru;
    int status = 0, timed_out = 0;
    for (long waited = 0;; waited += 10) {
        pid_t got = wait4(pid, &status, timed_out ? 0 : WNOHANG, &ru);
        if (got == pid) break;
        if (got < 0) return 2;
        if (waited >= limit_ms && !timed_out) { kill(pid, SIGKILL); timed_out = 1; }
        else usleep(10000);
    }
    FILE *f = fopen(argv[2], "w");
    if (!f) return 2;
    fprintf(f, "%ld %d %d\n", ru.ru_maxrss, timed_out,
            WIFEXITED(status) && WEXITSTATUS(status) == 0);
    fclose(f);
    return 0;
}
"#;

/// The measuring wrapper, built once per test process.
fn measure_exe() -> &'static Path {
    static EXE: std::sync::OnceLock<(tempfile::TempDir, std::path::PathBuf)> =
        std::sync::OnceLock::new();
    let (_, exe) = EXE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("scratch dir");
        let exe = helper::build_static(dir.path(), "measure", MEASURE);
        (dir, exe)
    });
    exe
}

/// Runs berth under [`MEASURE`] with a deadline.
fn bounded(berth: &Berth, args: &[&str], limit: Duration) -> Bounded {
    let scratch = tempfile::tempdir().expect("scratch dir");
    let (out, err, report) = (
        scratch.path().join("out"),
        scratch.path().join("err"),
        scratch.path().join("report"),
    );
    let status = std::process::Command::new(measure_exe())
        .arg(limit.as_millis().to_string())
        .arg(&report)
        .args(berth.command_words())
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"))
        .status()
        .expect("run the measuring wrapper");
    assert!(status.success(), "measuring berth {args:?} failed");
    let report = std::fs::read_to_string(&report).expect("read the report");
    let fields: Vec<i64> = report
        .split_whitespace()
        .map(|f| f.parse().expect("a number"))
        .collect();
    let text = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).expect("output")).into_owned();
    Bounded {
        success: fields[2] == 1,
        stdout: text(&out),
        stderr: text(&err),
        max_rss_kib: fields[0],
        timed_out: fields[1] == 1,
    }
}

// ---------------------------------------------------------------------------------------
// Hole 4: volume copy-up through a symlink swapped in by another container.

/// Exchanges every directory `VOL/dN` that appears with a symlink to `TARGET`, as fast as
/// it can, forever: what a container sharing the volume does to the copy-up of another.
const SWAPPER: &str = r#"#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
int main(int argc, char **argv) {
    if (argc != 4) return 2;
    int n = atoi(argv[3]);
    char name[512], link[512];
    struct stat st;
    for (;;) {
        for (int i = 0; i < n; i++) {
            snprintf(name, sizeof name, "%s/d%d", argv[1], i);
            if (lstat(name, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
            snprintf(link, sizeof link, "%s/.l%d", argv[1], i);
            unlink(link);
            if (symlink(argv[2], link) == 0)
                syscall(SYS_renameat2, AT_FDCWD, link, AT_FDCWD, name, RENAME_EXCHANGE);
        }
    }
}
"#;

/// Directories (each with a subdirectory and files) in the seed image's /seed.
const SEED_DIRS: usize = 8;

/// Imports `berth-test/seed:latest`: the fixture root filesystem plus /seed, a tree of
/// directories and files owned by 1000:1000 with modes unlike the victim's, so a copy
/// through a symlink would show on the host.
fn import_seed_image(berth: &Berth, scratch: &Path) {
    let staging = scratch.join("rootfs");
    std::fs::create_dir(&staging).unwrap();
    let status = std::process::Command::new("tar")
        .arg("-xf")
        .arg(common::fixtures().join("rootfs.tar"))
        .arg("-C")
        .arg(&staging)
        .status()
        .expect("run tar");
    assert!(status.success());
    let own = |p: &Path, mode: u32| {
        std::os::unix::fs::chown(p, Some(1000), Some(1000)).unwrap();
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    let seed = staging.join("seed");
    std::fs::create_dir(&seed).unwrap();
    for i in 0..SEED_DIRS {
        let dir = seed.join(format!("d{i}"));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        for j in 0..20 {
            for d in [dir.clone(), dir.join("sub")] {
                let file = d.join(format!("f{j}"));
                std::fs::write(&file, "planted by the image\n").unwrap();
                own(&file, 0o4777);
            }
        }
        own(&dir.join("sub"), 0o777);
        own(&dir, 0o777);
    }
    let image = scratch.join("seed.tar");
    let status = std::process::Command::new("tar")
        .arg("-cf")
        .arg(&image)
        .arg("-C")
        .arg(&staging)
        .arg(".")
        .status()
        .expect("run tar");
    assert!(status.success());
    berth.ok(&["import", image.to_str().unwrap(), "berth-test/seed:latest"]);
}

/// A host directory's listing with each entry's owner, mode and content.
fn snapshot(dir: &Path) -> Vec<(String, u32, u32, u32, Vec<u8>)> {
    let mut all: Vec<_> = std::iter::once(dir.to_path_buf())
        .chain(std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()))
        .map(|p| {
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let content = if meta.is_file() {
                std::fs::read(&p).unwrap()
            } else {
                Vec::new()
            };
            let name = p.to_string_lossy().into_owned();
            (name, meta.uid(), meta.gid(), meta.mode(), content)
        })
        .collect();
    all.sort();
    all
}

/// Empties a volume's data directory from the host (links are removed, never followed).
/// Returns whether the swapper had replaced a directory with a link there.
fn empty_volume(data: &Path) -> bool {
    let mut swapped = false;
    for entry in std::fs::read_dir(data).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            std::fs::remove_dir_all(&path).unwrap();
        } else {
            swapped |= meta.file_type().is_symlink()
                && path.file_name().unwrap().to_string_lossy().starts_with('d');
            std::fs::remove_file(&path).unwrap();
        }
    }
    swapped
}

/// CVE-2018-15664 class: container A swaps the directories that container B's start
/// copies into a shared volume for symlinks to a host directory. The host directory's
/// entries, owners and modes stay untouched, and a start that the swap disturbs fails
/// with an error naming the volume.
#[test]
fn copy_up_never_writes_through_a_swapped_symlink() {
    let berth = Berth::new();
    let scratch = tempfile::tempdir().unwrap();
    import_seed_image(&berth, scratch.path());
    let victim = scratch.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(victim.join("host.txt"), "host secret\n").unwrap();
    std::fs::set_permissions(
        victim.join("host.txt"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let before = snapshot(&victim);

    let swapper = helper::build_static(scratch.path(), "swapper", SWAPPER);
    let (dirs, target) = (SEED_DIRS.to_string(), victim.to_str().unwrap().to_owned());
    berth.ok(&["volume", "create", "shared"]);
    berth.ok(&[
        "create",
        "--name",
        "a",
        "-v",
        "shared:/v",
        "berth-test/seed",
        "/swapper",
        "/v",
        &target,
        &dirs,
    ]);
    berth.ok(&["cp", swapper.to_str().unwrap(), "a:/swapper"]);
    berth.ok(&["start", "a"]);
    berth.ok(&[
        "create",
        "--name",
        "b",
        "-v",
        "shared:/seed",
        "berth-test/seed",
        "true",
    ]);

    let data = berth.root().join("volumes/shared/_data");
    let (started, mut swapped_rounds, mut failures) = (Instant::now(), 0, Vec::new());
    let mut rounds = 0;
    while rounds < 30 && started.elapsed() < Duration::from_secs(20) {
        rounds += 1;
        empty_volume(&data);
        let out = berth.run(&["start", "b"]);
        if out.status.success() {
            berth.ok(&["wait", "b"]);
        } else {
            failures.push(common::stderr(&out));
        }
        swapped_rounds += usize::from(empty_volume(&data));
        assert_eq!(
            snapshot(&victim),
            before,
            "round {rounds}: copy-up wrote on the host"
        );
    }
    // The swapper really raced the copy (else the test proved nothing).
    assert!(swapped_rounds > 0, "no swap happened in {rounds} rounds");
    for err in &failures {
        assert!(
            err.contains("volume shared") && err.lines().count() == 1,
            "unclear copy-up error: {err}"
        );
    }
    eprintln!(
        "{rounds} rounds, swaps seen in {swapped_rounds}, {} starts refused",
        failures.len()
    );
}

/// Exchanges `A` and `B` (renameat2 RENAME_EXCHANGE) `COUNT` times, as fast as it can:
/// a directory of the writable layer and a symlink to a host directory trade places.
const EXCHANGER: &str = r#"#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
int main(int argc, char **argv) {
    if (argc != 4) return 2;
    long count = atol(argv[3]);
    for (long i = 0; i < count; i++)
        if (syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE) != 0)
            return 1;
    return 0;
}
"#;

/// `diff` reads the writable layer from the host while the container changes it: a
/// container that keeps swapping a directory with a symlink to a host directory never
/// gets the host directory's names, sizes or modes listed as its own.
#[test]
fn diff_never_lists_the_host_through_a_swapped_symlink() {
    let berth = Berth::with_image();
    let scratch = tempfile::tempdir().unwrap();
    let host = scratch.path().join("host");
    std::fs::create_dir(&host).unwrap();
    for i in 0..20 {
        std::fs::write(host.join(format!("hostsecret{i}")), "host\n").unwrap();
    }
    let exchanger = helper::build_static(scratch.path(), "exchanger", EXCHANGER);
    let script = format!(
        "mkdir -p /w/d && echo mine > /w/d/mine && ln -s {} /w/l && \
         while true; do /exchanger /w/d /w/l 1000000; done",
        host.display()
    );
    berth.ok(&[
        "create",
        "--name",
        "swapper",
        common::IMAGE,
        "sh",
        "-c",
        &script,
    ]);
    berth.ok(&["cp", exchanger.to_str().unwrap(), "swapper:/exchanger"]);
    berth.ok(&["start", "swapper"]);
    let (started, mut rounds, mut inside) = (Instant::now(), 0, 0);
    while rounds < 300 && started.elapsed() < Duration::from_secs(60) {
        rounds += 1;
        let out = berth.ok(&["diff", "swapper"]);
        assert!(!out.contains("hostsecret"), "round {rounds}: {out}");
        inside += usize::from(out.contains("/mine"));
    }
    // The walk got into the swapped directory now and then (else it proved nothing).
    assert!(
        inside > 0,
        "the diff never saw /w/d/mine in {rounds} rounds"
    );
    berth.ok(&["rm", "-f", "swapper"]);
    eprintln!("{rounds} diffs, {inside} inside the swapped directory");
}

// ---------------------------------------------------------------------------------------
// Hole 6: hostile /etc/passwd and /etc/group read by exec and by the monitor at start.

/// How long any berth command may take on a hostile container, and how much memory.
const LIMIT: Duration = Duration::from_secs(20);
const MAX_RSS_KIB: i64 = 64 * 1024;

/// Peak resident memory of a process, from /proc/PID/status (0 if it is gone).
fn peak_rss_kib(pid: i32) -> i64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Runs a berth command on a hostile container and checks it finished in time, within
/// the memory bound, and (on failure) with a one-line error.
fn bounded_ok(berth: &Berth, case: &str, args: &[&str]) -> Bounded {
    let run = bounded(berth, args, LIMIT);
    assert!(!run.timed_out, "{case}: berth {args:?} hung");
    assert!(
        run.max_rss_kib < MAX_RSS_KIB,
        "{case}: berth {args:?} grew to {} KiB",
        run.max_rss_kib
    );
    if !run.success {
        assert_eq!(
            run.stderr.trim().lines().count(),
            1,
            "{case}: {}",
            run.stderr
        );
    }
    run
}

/// The container replaces /etc/passwd and /etc/group with a link to /dev/zero, a
/// character device, a FIFO, a 3 GiB sparse file, or a file of one endless line.
/// `exec` as root still works, `exec -u NAME` fails at once naming the file and the cause,
/// `restart` works, nothing grows past 64 MiB or hangs, and `rm -f` leaves no monitor.
#[test]
fn hostile_passwd_and_group_never_hang_or_grow_berth() {
    let berth = Berth::with_image();
    let cases = [
        (
            "link to /dev/zero",
            "ln -s /dev/zero /etc/passwd; ln -s /dev/zero /etc/group",
        ),
        (
            "char device",
            "mknod /etc/passwd c 1 5; mknod /etc/group c 1 5",
        ),
        ("fifo", "mkfifo /etc/passwd /etc/group"),
        (
            "3 GiB sparse",
            "truncate -s 3G /etc/passwd; truncate -s 3G /etc/group",
        ),
        (
            "one endless line",
            "yes x | tr -d '\\n' | head -c 6000000 > /etc/passwd; cp /etc/passwd /etc/group",
        ),
    ];
    for (case, plant) in cases {
        berth.ok(&["run", "-d", "--name", "c", common::IMAGE, "sleep", "600"]);
        let script = format!("rm -f /etc/passwd /etc/group; {plant}");
        berth.ok(&["exec", "c", "sh", "-c", &script]);

        let root_exec = bounded_ok(&berth, case, &["exec", "c", "true"]);
        assert!(
            root_exec.success,
            "{case}: exec as root: {}",
            root_exec.stderr
        );
        let named = bounded_ok(&berth, case, &["exec", "-u", "someuser", "c", "true"]);
        assert!(!named.success, "{case}: exec -u someuser succeeded");
        assert!(
            named.stderr.contains("someuser") && named.stderr.contains("/etc/passwd"),
            "{case}: unclear error: {}",
            named.stderr
        );
        let restart = bounded_ok(&berth, case, &["restart", "c"]);
        assert!(restart.success, "{case}: restart: {}", restart.stderr);
        for pid in processes_of(berth.root()) {
            let peak = peak_rss_kib(pid);
            assert!(
                peak < MAX_RSS_KIB,
                "{case}: monitor {pid} grew to {peak} KiB"
            );
        }
        let after = bounded_ok(&berth, case, &["exec", "c", "true"]);
        assert!(
            after.success,
            "{case}: exec after restart: {}",
            after.stderr
        );

        let rm = bounded_ok(&berth, case, &["rm", "-f", "c"]);
        assert!(rm.success, "{case}: rm -f: {}", rm.stderr);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !processes_of(berth.root()).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(
            processes_of(berth.root()),
            Vec::<i32>::new(),
            "{case}: monitor left"
        );
        eprintln!(
            "{case}: exec {} KiB, exec -u {} KiB ({}), restart {} KiB",
            root_exec.max_rss_kib,
            named.max_rss_kib,
            named.stderr.trim(),
            restart.max_rss_kib
        );
    }
}

// ---------------------------------------------------------------------------------------
// Hole 7: logs read whole into memory.

/// The container's log file on the host.
fn log_path(berth: &Berth, name: &str) -> std::path::PathBuf {
    let id = berth.inspect(name)["Id"].as_str().expect("Id").to_owned();
    berth
        .root()
        .join("containers")
        .join(id)
        .join("container.log")
}

/// A 300 MB log (synthesized in the json-file format, as the monitor writes it): `logs
/// --tail 5` prints the right five lines, and neither it nor a plain `logs` (streamed to
/// a file) grows past 64 MiB.
#[test]
fn logs_of_a_huge_log_stay_in_bounded_memory() {
    use std::io::Write;
    let berth = Berth::with_image();
    berth.ok(&["run", "--name", "c", common::IMAGE, "echo", "first"]);
    let path = log_path(&berth, "c");
    let mut log = std::io::BufWriter::new(
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap(),
    );
    let filler = "y".repeat(1000);
    let mut written = 0;
    let mut i = 0;
    while written < 300_000_000 {
        let line = format!(
            "{{\"log\":\"{i} {filler}\\n\",\"stream\":\"stdout\",\"time\":\"2026-01-01T00:00:00Z\"}}\n"
        );
        log.write_all(line.as_bytes()).unwrap();
        written += line.len();
        i += 1;
    }
    log.flush().unwrap();
    drop(log);

    let tail = bounded(&berth, &["logs", "--tail", "5", "c"], LIMIT);
    assert!(tail.success && !tail.timed_out, "{}", tail.stderr);
    let expected: Vec<String> = (i - 5..i).map(|n| format!("{n} {filler}")).collect();
    assert_eq!(tail.stdout.lines().collect::<Vec<_>>(), expected);
    assert!(
        tail.max_rss_kib < MAX_RSS_KIB,
        "logs --tail grew to {} KiB",
        tail.max_rss_kib
    );

    let all = bounded(&berth, &["logs", "c"], Duration::from_secs(120));
    assert!(all.success && !all.timed_out, "{}", all.stderr);
    assert!(all.stdout.starts_with("first\n0 y"));
    assert_eq!(all.stdout.lines().count(), i + 1);
    assert!(
        all.max_rss_kib < MAX_RSS_KIB,
        "logs grew to {} KiB",
        all.max_rss_kib
    );
    eprintln!(
        "{written} bytes of log: logs --tail 5 {} KiB, logs {} KiB",
        tail.max_rss_kib, all.max_rss_kib
    );
}

/// `--log-opt max-size=100k --log-opt max-file=3`: at most three files of at most 100
/// KiB each, and `logs` shows the newest lines in order, across the rotated files.
#[test]
fn logs_rotate_with_max_size_and_max_file() {
    let berth = Berth::with_image();
    let script = "i=0; while [ $i -lt 20000 ]; do echo line $i; i=$((i+1)); done";
    berth.ok(&[
        "run",
        "--name",
        "c",
        "--log-opt",
        "max-size=100k",
        "--log-opt",
        "max-file=3",
        common::IMAGE,
        "sh",
        "-c",
        script,
    ]);
    let path = log_path(&berth, "c");
    let dir = path.parent().unwrap();
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().starts_with("container.log"))
        .collect();
    assert_eq!(files.len(), 3, "log files: {files:?}");
    for f in &files {
        let len = f.metadata().unwrap().len();
        assert!(len <= 100 * 1024, "{:?} has {len} bytes", f.file_name());
    }
    let out = berth.ok(&["logs", "c"]);
    let numbers: Vec<u32> = out
        .lines()
        .map(|l| {
            l.strip_prefix("line ")
                .and_then(|n| n.parse().ok())
                .unwrap()
        })
        .collect();
    assert_eq!(numbers.last(), Some(&19999));
    assert!(
        numbers.len() > 1000 && numbers.len() < 20000,
        "{} lines",
        numbers.len()
    );
    assert!(
        numbers.windows(2).all(|w| w[1] == w[0] + 1),
        "lines out of order"
    );
    assert_eq!(
        berth.ok(&["logs", "--tail", "2", "c"]),
        "line 19998\nline 19999\n"
    );

    let err = berth.fail(&[
        "create",
        "--log-opt",
        "max-size=lots",
        common::IMAGE,
        "true",
    ]);
    assert!(
        err.contains("invalid max-size") && err.trim().lines().count() == 1,
        "{err}"
    );
    let err = berth.fail(&["create", "--log-opt", "max-file=0", common::IMAGE, "true"]);
    assert!(err.contains("invalid max-file"), "{err}");
    assert_eq!(
        berth.ok(&["ps", "-aq"]).lines().count(),
        1,
        "a bad create left a container"
    );
}

/// A container that prints one endless line without a newline: the log holds it in
/// entries of at most 16 KiB, the monitor doesn't buffer it, and `logs` gives it back whole.
#[test]
fn an_endless_line_is_logged_in_16k_pieces() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "--name",
        "c",
        common::IMAGE,
        "sh",
        "-c",
        "yes x | tr -d '\\n' | head -c 20000000",
    ]);
    let log = std::fs::read_to_string(log_path(&berth, "c")).unwrap();
    let mut total = 0;
    for line in log.lines() {
        let entry: serde_json::Value = serde_json::from_str(line).unwrap();
        let piece = entry["log"].as_str().unwrap().len();
        assert!(piece <= 16 * 1024, "an entry of {piece} bytes");
        total += piece;
    }
    assert_eq!(total, 20_000_000);
    let out = bounded(&berth, &["logs", "c"], LIMIT);
    assert!(out.success && out.stdout.len() == 20_000_000 && out.stdout.bytes().all(|b| b == b'x'));
}
