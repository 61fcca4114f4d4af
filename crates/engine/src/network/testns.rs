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
pub(crate) fn thread_netns_path() -> String {
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

type Job = Box<dyn FnOnce() + Send>;

/// A thread parked in a network namespace of its own (a "container" or a remote peer),
/// running the closures it is given there. Sockets it creates stay in its namespace.
pub struct NsThread {
    jobs: Option<std::sync::mpsc::Sender<Job>>,
    handle: Option<thread::JoinHandle<()>>,
    /// `/proc/PID/task/TID/ns/net`, valid while the thread lives.
    pub path: String,
}

impl NsThread {
    pub fn spawn() -> NsThread {
        let (jobs, inbox) = std::sync::mpsc::channel::<Job>();
        let (path_tx, path_rx) = std::sync::mpsc::channel();
        let handle = thread::spawn(move || {
            unshare(CloneFlags::CLONE_NEWNET).expect("unshare a network namespace");
            sh("ip link set lo up");
            path_tx.send(thread_netns_path()).expect("send netns path");
            for job in inbox {
                job();
            }
        });
        let path = path_rx.recv().expect("namespace thread started");
        NsThread {
            jobs: Some(jobs),
            handle: Some(handle),
            path,
        }
    }

    /// Runs `work` in this namespace and returns its result.
    pub fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)));
        });
        self.jobs
            .as_ref()
            .expect("jobs open")
            .send(job)
            .expect("namespace thread alive");
        match rx.recv().expect("namespace job finished") {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

impl Drop for NsThread {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}
