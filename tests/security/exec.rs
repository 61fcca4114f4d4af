//! `exec` and process groups (issue 11, holes 1-3): the container never gets the caller's
//! descriptors, never a host descriptor while a process is set up, and can't signal the
//! caller's process group or its own monitor.

use std::fs::File;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::common::{self, Berth};
use crate::helper;

/// A process left behind by the exec'd one: it keeps fds 0-2, waits until the test says
/// `berth exec` has returned (/tmp/go), then writes a marker to fds 1 and 2 and reads fd 0,
/// and records what happened in /tmp/result.
const LEFTOVER: &str = r#"#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void) {
    if (fork() != 0) { printf("parent-done\n"); fflush(stdout); return 0; }
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < 600 && access("/tmp/go", F_OK) != 0; i++) usleep(50000);
    ssize_t w1 = write(1, "MARKER-OUT\n", 11); int e1 = errno;
    ssize_t w2 = write(2, "MARKER-ERR\n", 11); int e2 = errno;
    char buf[64] = {0};
    ssize_t r = read(0, buf, sizeof buf - 1);
    FILE *f = fopen("/tmp/result.tmp", "w");
    if (!f) return 1;
    fprintf(f, "w1=%zd e1=%d w2=%zd e2=%d r=%zd data=%s\n", w1, e1, w2, e2, r, r > 0 ? buf : "");
    fclose(f);
    rename("/tmp/result.tmp", "/tmp/result");
    return 0;
}
"#;

/// Lists its own descriptors (`N -> target` per line), to the file named by argv[1] if any.
const FDLIST: &str = r#"#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
    char out[8192]; size_t len = 0; out[0] = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return 2;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d)) continue;
        char path[64], target[512];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n < 0 ? 0 : n] = 0;
        len += snprintf(out + len, sizeof out - len, "%s -> %s\n", e->d_name, target);
    }
    closedir(d);
    FILE *f = argc > 1 ? fopen(argv[1], "w") : stdout;
    if (!f) return 3;
    fputs(out, f);
    fclose(f);
    return 0;
}
"#;

/// Prints the working directory as the kernel reports it (raw getcwd syscall).
const CWD: &str = r#"#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
    char buf[4096] = {0};
    long n = syscall(SYS_getcwd, buf, sizeof buf);
    printf("%ld %s\n", n, buf);
    return 0;
}
"#;

/// For `argv[1]` seconds, reads every /proc/PID/exe and /proc/PID/fd/* link it can and
/// prints each distinct target once (its own pid excluded).
const WATCHER: &str = r#"#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
static char seen[512][256]; static int nseen;
static void note(const char *what, const char *t) {
    char key[256]; snprintf(key, sizeof key, "%s %s", what, t);
    for (int i = 0; i < nseen; i++) if (!strcmp(seen[i], key)) return;
    if (nseen < 512) { strcpy(seen[nseen++], key); printf("%s\n", key); fflush(stdout); }
}
int main(int argc, char **argv) {
    time_t end = time(0) + atoi(argv[1]);
    char self[16]; snprintf(self, sizeof self, "%d", getpid());
    long scans = 0;
    while (time(0) < end) {
        DIR *p = opendir("/proc");
        struct dirent *e;
        while ((e = readdir(p))) {
            if (e->d_name[0] < '1' || e->d_name[0] > '9' || !strcmp(e->d_name, self)) continue;
            char path[300], t[256];
            snprintf(path, sizeof path, "/proc/%s/exe", e->d_name);
            ssize_t n = readlink(path, t, sizeof t - 1);
            if (n > 0) { t[n] = 0; note("exe", t); }
            snprintf(path, sizeof path, "/proc/%s/fd", e->d_name);
            DIR *fds = opendir(path);
            if (!fds) continue;
            struct dirent *f;
            while ((f = readdir(fds))) {
                if (f->d_name[0] == '.') continue;
                snprintf(path, sizeof path, "/proc/%s/fd/%s", e->d_name, f->d_name);
                n = readlink(path, t, sizeof t - 1);
                if (n > 0) { t[n] = 0; note("fd", t); }
            }
            closedir(fds);
        }
        closedir(p);
        scans++;
    }
    printf("scans %ld\n", scans);
    return 0;
}
"#;

/// Starts a container `c` with the given helpers copied to `/NAME`.
fn container_with(berth: &Berth, scratch: &Path, helpers: &[(&str, &str)]) {
    berth.ok(&["run", "-d", "--name", "c", common::IMAGE, "sleep", "300"]);
    for (name, source) in helpers {
        let exe = helper::build_static(scratch, name, source);
        berth.ok(&["cp", exe.to_str().unwrap(), &format!("c:/{name}")]);
    }
}

/// Waits up to `limit` for the child; kills it (by PID) and panics if it is still running.
fn wait_or_kill(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not return within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads a file inside the container, waiting up to 20 s for it to appear.
fn wait_for_file(berth: &Berth, path: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = berth.run(&["exec", "c", "cat", path]);
        if out.status.success() {
            return common::stdout(&out);
        }
        assert!(
            Instant::now() < deadline,
            "{path} never appeared in the container"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Hole 1: a process the container leaves behind after a non-tty `exec` holds only pipes
/// berth made: it can't write to the file the caller gave as stdout/stderr nor read what
/// the caller later writes to its stdin, and `exec` returns although the pipes are held.
#[test]
fn a_process_left_behind_by_exec_cannot_reach_the_callers_files() {
    let berth = Berth::with_image();
    let scratch = tempfile::tempdir().unwrap();
    container_with(&berth, scratch.path(), &[("leftover", LEFTOVER)]);
    let out_path = scratch.path().join("out");
    let err_path = scratch.path().join("err");
    let (stdin_r, stdin_w) = nix::unistd::pipe().unwrap();
    let started = Instant::now();
    let mut exec = berth
        .cmd()
        .args(["exec", "-i", "c", "/leftover"])
        .stdin(Stdio::from(stdin_r))
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let status = wait_or_kill(&mut exec, Duration::from_secs(10), "berth exec");
    let took = started.elapsed();
    assert!(status.success(), "{status}");
    assert!(took < Duration::from_secs(5), "exec took {took:?}");
    assert_eq!(std::fs::read_to_string(&out_path).unwrap(), "parent-done\n");

    berth.ok(&["exec", "c", "touch", "/tmp/go"]);
    // The caller keeps typing: none of it may reach the container.
    let mut input = File::from(stdin_w);
    let _ = input.write_all(b"SECRET\n");
    let result = wait_for_file(&berth, "/tmp/result");
    drop(input);

    let out = std::fs::read_to_string(&out_path).unwrap();
    let err = std::fs::read_to_string(&err_path).unwrap();
    assert!(
        !out.contains("MARKER"),
        "the leftover wrote to the caller's stdout: {out}"
    );
    assert!(
        !err.contains("MARKER"),
        "the leftover wrote to the caller's stderr: {err}"
    );
    assert!(
        !result.contains("SECRET"),
        "the leftover read the caller's stdin: {result}"
    );
    // Its writes failed (EPIPE) and its read saw end-of-file: nothing is connected.
    assert!(
        result.starts_with("w1=-1 e1=32 w2=-1 e2=32 r=0 "),
        "{result}"
    );
}

/// Only 0, 1 and 2, each a pipe, /dev/null or a terminal of the container's.
fn assert_only_container_stdio(listing: &str, how: &str) {
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 3, "{how}: {listing}");
    for (n, line) in lines.iter().enumerate() {
        let target = line
            .strip_prefix(&format!("{n} -> "))
            .unwrap_or_else(|| panic!("{how}: unexpected fd in {listing}"));
        assert!(
            target.starts_with("pipe:[")
                || target == "/dev/null"
                || target.starts_with("/dev/pts/"),
            "{how}: fd {n} is {target}"
        );
    }
}

/// Hole 2: an exec'd process holds nothing but its standard streams, and those are
/// berth's pipes, the container's /dev/null or its terminal, whatever the caller holds
/// (here: files, as for `berth exec ... > file`).
#[test]
fn an_exec_process_holds_only_its_own_stdio() {
    let berth = Berth::with_image();
    let scratch = tempfile::tempdir().unwrap();
    container_with(&berth, scratch.path(), &[("fdlist", FDLIST)]);
    let out_path = scratch.path().join("out");
    for flags in [&[][..], &["-i"], &["-t"]] {
        let mut args = vec!["exec"];
        args.extend_from_slice(flags);
        args.extend(["c", "/fdlist"]);
        let status = berth
            .cmd()
            .args(&args)
            .stdin(File::open("/dev/null").unwrap())
            .stdout(File::create(&out_path).unwrap())
            .stderr(File::create(scratch.path().join("err")).unwrap())
            .status()
            .unwrap();
        assert!(status.success(), "{args:?}: {status}");
        let listing = std::fs::read_to_string(&out_path)
            .unwrap()
            .replace('\r', "");
        assert_only_container_stdio(&listing, &format!("{flags:?}"));
    }
    // -i -t wants a terminal on stdin, as Docker's: the caller's is a pty from `script`.
    let line = format!("{} exec -i -t c /fdlist", berth.command_words().join(" "));
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "-i -t: {}", common::stderr(&out));
    // The pty also echoes the end of script's empty input back (^@), anywhere in the
    // output: without it, the fd lines only.
    let listing: String = String::from_utf8_lossy(&out.stdout)
        .replace(['\r', '\0'], "")
        .replace("^@", "")
        .lines()
        .filter(|l| l.contains(" -> "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_only_container_stdio(&listing, "[\"-i\", \"-t\"]");
    berth.ok(&["exec", "-d", "c", "/fdlist", "/tmp/detached"]);
    assert_only_container_stdio(&wait_for_file(&berth, "/tmp/detached"), "-d");
    // The container's init too holds nothing of its monitor's.
    let init = berth.ok(&[
        "exec",
        "c",
        "sh",
        "-c",
        "cd /proc/1/fd && for f in *; do echo \"$f -> $(readlink $f)\"; done",
    ]);
    assert_only_container_stdio(&init, "init");
}

/// Hole 2, CVE-2024-21626's reproducer: a working directory through an inherited fd.
#[test]
fn exec_workdir_through_proc_self_fd_never_lands_on_the_host() {
    let berth = Berth::with_image();
    let scratch = tempfile::tempdir().unwrap();
    container_with(&berth, scratch.path(), &[("cwd", CWD)]);
    for n in 3..=20 {
        let dir = format!("/proc/self/fd/{n}");
        let out = berth.run(&["exec", "-w", &dir, "c", "/cwd"]);
        if !out.status.success() {
            continue;
        }
        let cwd = common::stdout(&out);
        assert!(
            !cwd.contains("unreachable") && !cwd.contains(&*berth.root().to_string_lossy()),
            "-w {dir} landed outside the container: {cwd}"
        );
    }
}

/// Hole 2: while 30 execs are set up, a process in the container reading every
/// /proc/PID/exe and /proc/PID/fd/* sees nothing of the host: no engine path, no host
/// /proc, no namespace handle, no sealed berth binary (processes being set up are
/// non-dumpable, so their links are not readable at all).
#[test]
fn a_watcher_sees_no_host_descriptor_while_execs_start() {
    let berth = Berth::with_image();
    let scratch = tempfile::tempdir().unwrap();
    container_with(&berth, scratch.path(), &[("watcher", WATCHER)]);
    let watcher = berth
        .cmd()
        .args(["exec", "c", "/watcher", "8"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..30 {
        berth.ok(&["exec", "c", "true"]);
    }
    let out = watcher.wait_with_output().unwrap();
    let seen = common::stdout(&out);
    assert!(out.status.success(), "{seen}{}", common::stderr(&out));
    assert!(seen.contains("scans "), "{seen}");
    let root = berth.root().to_string_lossy().into_owned();
    for line in seen.lines().filter(|l| !l.starts_with("scans ")) {
        let target = line.split_once(' ').map_or(line, |(_, t)| t);
        let host = target.contains(&root)
            || target.contains("memfd:")
            || target.contains("berth")
            || target.starts_with("/proc/")
            || ["mnt:[", "pid:[", "net:[", "ipc:[", "uts:[", "cgroup:["]
                .iter()
                .any(|ns| target.starts_with(ns));
        assert!(!host, "the container saw a host object: {line}\n{seen}");
    }
}

/// Hole 3: `kill -TERM 0` from an exec'd process stays in the container: a sentinel in
/// the caller's process group survives, and so does `berth exec` itself.
#[test]
fn kill_0_from_exec_does_not_reach_the_callers_process_group() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "c", common::IMAGE, "sleep", "300"]);
    let mut sentinel = Command::new("sleep")
        .arg("60")
        .process_group(0)
        .spawn()
        .unwrap();
    let group = sentinel.id() as i32;
    let mut exec = berth
        .cmd()
        .args(["exec", "c", "sh", "-c", "kill -TERM 0; sleep 5"])
        .process_group(group)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status = wait_or_kill(&mut exec, Duration::from_secs(20), "berth exec");
    let sentinel_alive = sentinel.try_wait().unwrap().is_none();
    let _ = sentinel.kill();
    let _ = sentinel.wait();
    assert!(
        sentinel_alive,
        "kill 0 in the container killed a process of the caller's group"
    );
    // The shell itself got the TERM: 128 + 15, reported by `berth exec`, not suffered by it.
    assert_eq!(status.code(), Some(143), "{status}");
}

/// Hole 3: `kill -KILL 0` from a container's init kills only the container's own group:
/// the monitor lives on and records the exit when init ends by itself.
#[test]
fn kill_0_from_init_does_not_kill_the_monitor() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "c",
        common::IMAGE,
        "sh",
        "-c",
        "sleep 1; kill -KILL 0; sleep 5; exit 7",
    ]);
    std::thread::sleep(Duration::from_millis(2500));
    let state = &berth.inspect("c")["State"];
    assert_eq!(state["Status"], "running", "{state}");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let state = berth.inspect("c")["State"].clone();
        if state["Status"] != "running" {
            assert_eq!(state["Status"], "exited", "{state}");
            assert_eq!(state["ExitCode"], 7, "{state}");
            assert_eq!(state["Error"], "", "{state}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the container never exited: {state}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Hole 1 with `-t`: a process left holding the container's terminal neither keeps
/// `berth exec -it` from returning nor sees what the user types after it returned.
#[test]
fn a_process_left_on_the_exec_terminal_sees_nothing_typed_after_exec_returns() {
    use std::io::Read;
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "c", common::IMAGE, "sleep", "300"]);
    let pty = common::openpty();
    let slave = File::from(pty.slave);
    // The leftover ignores the hangup, waits until exec has returned, then reads the
    // terminal it inherited for three seconds and keeps whatever arrives.
    let script = "trap '' HUP; (sleep 2; timeout 3 cat > /tmp/leak) & exit 3";
    let mut child = berth
        .cmd()
        .args(["exec", "-it", "c", "sh", "-c", script])
        .stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave)
        .spawn()
        .unwrap();
    let mut master = File::from(pty.master);
    let drain = {
        let mut master = master.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while matches!(master.read(&mut buf), Ok(n) if n > 0) {}
        })
    };
    let status = wait_or_kill(&mut child, Duration::from_secs(5), "exec -it");
    assert_eq!(status.code(), Some(3));
    // Typed at the user's terminal after exec returned: must reach nothing in the container.
    std::thread::sleep(Duration::from_millis(2500));
    master.write_all(b"SECRET-TYPED-LATER\n").unwrap();
    std::thread::sleep(Duration::from_secs(4));
    drop(master);
    let _ = drain.join();
    let leak = berth.run(&["exec", "c", "cat", "/tmp/leak"]);
    // The file exists: the leftover did run, and read the terminal after exec returned.
    assert!(
        leak.status.success(),
        "no leftover ran: {}",
        common::stderr(&leak)
    );
    assert!(
        !common::stdout(&leak).contains("SECRET"),
        "the leftover read the user's terminal: {}",
        common::stdout(&leak)
    );
}
