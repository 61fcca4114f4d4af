//! Test isolation: run work inside a fresh network namespace of its own, so no test ever
//! touches the host's links, ports, sysctls or firewall. Only the spawned thread moves;
//! the namespace vanishes when the thread ends and its fds close.

use std::process::Command;
use std::thread;

use nix::sched::{unshare, CloneFlags};

/// Runs `work` on a thread that first moves into a new network namespace; children it
/// spawns (`ip`, `nft`) start in that namespace too. Panics in `work` fail the test.
pub fn in_netns<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    thread::spawn(move || {
        unshare(CloneFlags::CLONE_NEWNET).expect("unshare a network namespace");
        sh("ip link set lo up");
        work()
    })
    .join()
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The path of the calling thread's network namespace, for `ip link set X netns PATH`.
pub fn thread_netns_path() -> String {
    format!(
        "/proc/{}/task/{}/ns/net",
        std::process::id(),
        nix::unistd::gettid()
    )
}

/// Runs one `ip`/`nft` command line (split on spaces) in the calling thread's namespace
/// and returns its stdout; panics with its stderr when it fails.
pub fn sh(line: &str) -> String {
    let mut words = line.split_whitespace();
    let program = words.next().expect("a command");
    let out = Command::new(program)
        .args(words)
        .output()
        .unwrap_or_else(|e| panic!("run {line}: {e}"));
    assert!(
        out.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
