//! `--init`: the container's PID 1 stays berth (Docker runs its docker-init, tini), with
//! the user's process as its only direct child. It reaps every orphan the kernel hands it,
//! forwards the signals it gets to the child, and exits as the child did.
//!
//! It is no new program: init forks once the container is fully set up (credentials,
//! capabilities, no_new_privs and seccomp already in force, so PID 1 is held to the same
//! rules as the container's processes) and goes on as the reaper; the child execs the
//! user's program. PID 1 thus runs from the sealed binary the monitor runs from (see
//! `sealed.rs`): no handle on the host's binary, writable or not, is ever opened. It is
//! non-dumpable, as init was made, so nothing in the container can read or trace it
//! without CAP_SYS_PTRACE.

use std::os::fd::BorrowedFd;

use nix::sys::signal::{kill, SigHandler, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, getpid, setpgid, tcsetpgrp, ForkResult, Pid};

/// What PID 1 is called (`/proc/1/comm`), as Docker's is `docker-init`.
pub(crate) const INIT_NAME: &str = "berth-init";

/// Signals the kernel sends a process for its own faults: never blocked, never forwarded.
const SYNCHRONOUS: &[Signal] = &[
    Signal::SIGSEGV,
    Signal::SIGBUS,
    Signal::SIGFPE,
    Signal::SIGILL,
    Signal::SIGTRAP,
    Signal::SIGSYS,
    Signal::SIGABRT,
];

fn forwarded() -> SigSet {
    let mut set = SigSet::all();
    for sig in SYNCHRONOUS
        .iter()
        .chain(&[Signal::SIGKILL, Signal::SIGSTOP])
    {
        set.remove(*sig);
    }
    set
}

/// Forks: returns `Ok(())` in the child, which goes on to exec the user's process with
/// the signal mask it had; never returns in the parent, which becomes the reaper.
pub(crate) fn fork_user_process() -> std::io::Result<()> {
    let signals = forwarded();
    // Blocked before the fork: a signal sent meanwhile waits for the reaper's sigwait
    // (PID 1 of a namespace ignores what it has no handler for, unless it is blocked).
    let mut old = SigSet::empty();
    nix::sys::signal::pthread_sigmask(
        nix::sys::signal::SigmaskHow::SIG_BLOCK,
        Some(&signals),
        Some(&mut old),
    )?;
    // SAFETY: init is single-threaded; the child only execs or reports and exits.
    match unsafe { fork() }? {
        ForkResult::Child => {
            become_foreground();
            old.thread_set_mask()?;
            Ok(())
        }
        ForkResult::Parent { child } => reap(child, &signals),
    }
}

/// The child in a process group of its own, the terminal's foreground group if there is
/// one, so a ^C reaches it (and not the reaper, which would forward it twice).
fn become_foreground() {
    let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
    // SAFETY: SIGTTOU ignored around tcsetpgrp (a background group's call raises it);
    // no handler code is installed.
    unsafe {
        let _ = nix::sys::signal::signal(Signal::SIGTTOU, SigHandler::SigIgn);
        // Not a terminal: nothing to do.
        let _ = tcsetpgrp(BorrowedFd::borrow_raw(0), getpid());
        let _ = nix::sys::signal::signal(Signal::SIGTTOU, SigHandler::SigDfl);
    }
}

/// The reaper's loop: every signal but SIGCHLD goes to the child; every exited process is
/// reaped; when the child is, PID 1 exits with its status (128 + N for a signal, as a
/// shell reports it).
fn reap(child: Pid, signals: &SigSet) -> ! {
    if let Ok(name) = std::ffi::CString::new(INIT_NAME) {
        let _ = nix::sys::prctl::set_name(&name);
    }
    // Only the child's exec (or its report) may close the socket the monitor watches,
    // and nothing else of init's setup stays open here.
    // SAFETY: close_range closes descriptors this process owns and no longer uses.
    unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
    loop {
        let sig = match signals.wait() {
            Ok(sig) => sig,
            Err(_) => continue,
        };
        if sig != Signal::SIGCHLD {
            // The child gone meanwhile: its exit is reaped below.
            let _ = kill(child, sig);
            continue;
        }
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) if pid == child => exit(code),
                Ok(WaitStatus::Signaled(pid, sig, _)) if pid == child => exit(128 + sig as i32),
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
}

fn exit(code: i32) -> ! {
    // SAFETY: _exit is always safe; nothing is left to flush.
    unsafe { libc::_exit(code) }
}
