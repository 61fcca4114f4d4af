//! Starting a detached process (a container's monitor) without copying the caller.
//!
//! A `fork` copies the caller's page tables and marks every page copy-on-write, so the
//! caller then takes a page fault on each page it writes again; in the dashboard or a
//! CLI with its heap warm that is hundreds of faults per container start. Here the two
//! processes of a daemonising double fork are both `clone(CLONE_VM | CLONE_VFORK)`
//! children, as `posix_spawn` makes its one: they borrow the caller's memory, blocked,
//! until the second one execs. The first then exits, so the new program belongs to the
//! nearest subreaper (or init) and never becomes the caller's zombie.
//!
//! Between the clone and the exec the children share the caller's memory: they touch
//! nothing but what was prepared before the clone (no allocation, no lock), and they run
//! with every signal blocked until the caller's handlers are out of their way.

use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::errno::Errno;

/// What the detached process gets: its program, `argv[0]`, arguments, and one
/// descriptor it keeps open (its control socket). Its standard streams are /dev/null and
/// its environment is the caller's.
pub(crate) struct Detached<'a> {
    pub program: &'a OsStr,
    pub argv0: &'a OsStr,
    pub args: &'a [OsString],
    pub keep_fd: RawFd,
}

/// Each child's stack: it runs a few system calls and nothing else.
const STACK_SIZE: usize = 64 * 1024;

/// Everything the children read, prepared before the clone.
struct Prepared {
    program: CString,
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
    null: RawFd,
    keep_fd: RawFd,
    /// The caller's signal mask, which the program gets.
    mask: libc::sigset_t,
    /// The exec's (or the inner clone's) errno, written by a child.
    error: AtomicI32,
    second_stack: *mut u8,
}

/// Starts `what` in a new session, detached from the caller, and returns once it has
/// exec'd (or failed to, with the exec's error).
pub(crate) fn spawn_detached(what: &Detached) -> std::io::Result<()> {
    let program = cstring(what.program)?;
    let strings: Vec<CString> = std::iter::once(what.argv0)
        .chain(what.args.iter().map(OsString::as_os_str))
        .map(cstring)
        .collect::<std::io::Result<_>>()?;
    let env: Vec<CString> = std::env::vars_os()
        .map(|(k, v)| {
            let mut pair = k;
            pair.push("=");
            pair.push(v);
            cstring(&pair)
        })
        .collect::<std::io::Result<_>>()?;
    let null: OwnedFd = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?
        .into();
    let mut first_stack = vec![0u8; STACK_SIZE];
    let mut second_stack = vec![0u8; STACK_SIZE];
    let mut prepared = Prepared {
        program,
        argv: pointers(&strings),
        envp: pointers(&env),
        null: null.as_raw_fd(),
        keep_fd: what.keep_fd,
        // SAFETY: a zeroed sigset_t is a valid value for sigprocmask to overwrite.
        mask: unsafe { std::mem::zeroed() },
        error: AtomicI32::new(0),
        second_stack: stack_top(&mut second_stack),
    };
    let blocked = block_all_signals(&mut prepared.mask)?;
    // SAFETY: the child runs `first_child` on its own stack with `prepared`, which
    // outlives it: CLONE_VFORK holds this thread until the child has exited.
    let pid = unsafe {
        libc::clone(
            first_child,
            stack_top(&mut first_stack).cast(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            (&prepared as *const Prepared).cast_mut().cast(),
        )
    };
    let clone_error = std::io::Error::last_os_error();
    restore_signals(&blocked);
    if pid < 0 {
        return Err(clone_error);
    }
    reap(pid);
    match prepared.error.load(Ordering::SeqCst) {
        0 => Ok(()),
        errno => Err(std::io::Error::from_raw_os_error(errno)),
    }
}

/// The first child: starts the second and exits, so the second has no parent to report
/// to but the subreaper.
extern "C" fn first_child(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the caller's `Prepared`, alive while this thread of it waits.
    let prepared = unsafe { &*(arg as *const Prepared) };
    // SAFETY: as above, on the second stack; this child waits (CLONE_VFORK) until the
    // second has exec'd or exited.
    let pid = unsafe {
        libc::clone(
            second_child,
            prepared.second_stack.cast(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            arg,
        )
    };
    if pid < 0 {
        prepared.error.store(Errno::last_raw(), Ordering::SeqCst);
    }
    // SAFETY: ends this child without running anything of the caller's.
    unsafe { libc::_exit(0) }
}

/// The second child: a session of its own, the standard streams on /dev/null, the kept
/// descriptor inherited, the caller's handlers reset, then the exec.
extern "C" fn second_child(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the caller's `Prepared`, alive while the caller waits.
    let prepared = unsafe { &*(arg as *const Prepared) };
    let errno = prepare_and_exec(prepared);
    prepared.error.store(errno, Ordering::SeqCst);
    // SAFETY: ends this child without running anything of the caller's.
    unsafe { libc::_exit(127) }
}

/// Returns the errno of the step that failed (the exec returns only on failure).
fn prepare_and_exec(p: &Prepared) -> i32 {
    // SAFETY: plain system calls on descriptors and pointers prepared by the caller; the
    // argument and environment arrays end with a null pointer.
    unsafe {
        if libc::setsid() < 0 {
            return Errno::last_raw();
        }
        for stream in 0..3 {
            if libc::dup2(p.null, stream) < 0 {
                return Errno::last_raw();
            }
        }
        let flags = libc::fcntl(p.keep_fd, libc::F_GETFD);
        if flags < 0 || libc::fcntl(p.keep_fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
            return Errno::last_raw();
        }
        // This child has its own copy of the handler table (no CLONE_SIGHAND): a handler
        // of the caller's must not run here, on the caller's memory, once signals are let
        // through. Ignored signals stay ignored across the exec, as with fork.
        for signal in 1..=libc::SIGRTMAX() {
            let mut action: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, std::ptr::null(), &mut action) == 0
                && action.sa_sigaction != libc::SIG_DFL
                && action.sa_sigaction != libc::SIG_IGN
            {
                action.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(signal, &action, std::ptr::null_mut());
            }
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &p.mask, std::ptr::null_mut());
        libc::execve(p.program.as_ptr(), p.argv.as_ptr(), p.envp.as_ptr());
    }
    Errno::last_raw()
}

fn cstring(s: &OsStr) -> std::io::Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| Errno::EINVAL.into())
}

/// A null-terminated array of the strings' pointers (valid while `strings` lives).
fn pointers(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// The 16-byte aligned top of a stack (stacks grow down on every Linux target berth runs on).
fn stack_top(stack: &mut [u8]) -> *mut u8 {
    let end = stack.as_mut_ptr_range().end as usize;
    (end & !15) as *mut u8
}

/// Blocks every signal on this thread, keeping the mask it had in `old`; returns the old
/// mask to restore.
fn block_all_signals(old: &mut libc::sigset_t) -> std::io::Result<libc::sigset_t> {
    // SAFETY: sigfillset initialises `all`; pthread_sigmask writes the old mask to `old`.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        let rc = libc::pthread_sigmask(libc::SIG_SETMASK, &all, old);
        if rc != 0 {
            return Err(std::io::Error::from_raw_os_error(rc));
        }
    }
    Ok(*old)
}

fn restore_signals(mask: &libc::sigset_t) {
    // SAFETY: `mask` is a mask pthread_sigmask returned.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, mask, std::ptr::null_mut()) };
}

/// Reaps the first child (it has exited: CLONE_VFORK returned). Another part of the
/// process reaping every child (a dashboard's SIGCHLD loop) may have got it first.
fn reap(pid: libc::pid_t) {
    loop {
        // SAFETY: waits for our own child; no status is read.
        let rc = unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::__WALL) };
        if rc >= 0 || Errno::last() != Errno::EINTR {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::net::UnixStream;

    #[test]
    fn the_detached_program_keeps_its_descriptor_and_runs_in_a_session_of_its_own() {
        let (mut ours, theirs) = UnixStream::pair().unwrap();
        let fd = theirs.as_raw_fd();
        // The shell reports its session and parent through the kept descriptor.
        let script = format!("echo $(cut -d' ' -f4,6 /proc/self/stat) >&{fd}");
        let args = [OsString::from("-c"), OsString::from(script)];
        spawn_detached(&Detached {
            program: OsStr::new("/bin/sh"),
            argv0: OsStr::new("detached-test"),
            args: &args,
            keep_fd: fd,
        })
        .unwrap();
        drop(theirs);
        let mut out = String::new();
        ours.read_to_string(&mut out).unwrap();
        let fields: Vec<i32> = out.split_whitespace().map(|f| f.parse().unwrap()).collect();
        let (parent, session) = (fields[0], fields[1]);
        assert_ne!(parent, std::process::id() as i32, "not our child");
        // SAFETY: getsid(0) takes no pointers.
        assert_ne!(session, unsafe { libc::getsid(0) }, "a session of its own");
    }

    #[test]
    fn a_program_that_cannot_run_is_an_error_with_the_execs_cause() {
        let err = spawn_detached(&Detached {
            program: OsStr::new("/nonexistent/berth"),
            argv0: OsStr::new("x"),
            args: &[],
            keep_fd: 0,
        })
        .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
    }
}
