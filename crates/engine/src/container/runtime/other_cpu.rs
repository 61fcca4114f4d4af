//! Tasks started on another CPU than the one their maker runs on.
//!
//! `run` starts its container's monitor on a thread while it goes on making the
//! container, and the monitor sets up its side while the container's init sets up its
//! own: each pair is meant to overlap. A scheduler that packs new tasks onto their
//! maker's CPU (as a hypervisor's guest kernel may, to keep other virtual CPUs idle)
//! queues the new task behind its maker instead: it then either preempts the maker or
//! waits until the maker blocks, milliseconds later, while another CPU stays idle.
//! - A thread (`spawn`) is created with an affinity that leaves the caller's CPU out
//!   (glibc applies it before the thread runs any code) and gives itself back the
//!   caller's whole set first thing.
//! - A child process is moved by its parent (`Cpus::send_elsewhere`) and takes the
//!   whole set back itself (`Cpus::apply`) at a point the parent's move certainly
//!   came before (init: once the monitor's go, sent after the move, has arrived).
//!
//! What either starts (the monitor, the container) may run anywhere the maker could.
//! With a single CPU allowed nothing moves.

use std::mem::{size_of, MaybeUninit};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What the new thread needs, and where it leaves its result.
struct Start<T> {
    work: Option<Work<T>>,
    result: Option<std::thread::Result<T>>,
    /// The caller's CPUs, which the thread takes back before it works.
    cpus: libc::cpu_set_t,
    name: std::ffi::CString,
}

/// The work of a thread: boxed, so that a handle's type names only its result.
type Work<T> = Box<dyn FnOnce() -> T + Send>;

/// A thread started by [`spawn`]; joined on drop if nobody did.
pub(crate) struct Thread<T> {
    id: libc::pthread_t,
    start: *mut Start<T>,
    joined: bool,
}

// SAFETY: the raw pointer is only touched by the thread until it ends and by the handle
// after `pthread_join`; the work and its result cross as `Send` values.
unsafe impl<T: Send> Send for Thread<T> {}

/// Starts `work` on a thread named `name`, on a CPU other than the caller's when the
/// caller may run on another.
pub(crate) fn spawn<F, T>(name: &str, work: F) -> std::io::Result<Thread<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let cpus = allowed_cpus()?;
    let start = Box::into_raw(Box::new(Start {
        work: Some(Box::new(work)),
        result: None,
        cpus,
        name: std::ffi::CString::new(name).map_err(std::io::Error::other)?,
    }));
    let mut attr = MaybeUninit::<libc::pthread_attr_t>::uninit();
    // SAFETY: `attr` is initialised here and destroyed below; `start` lives until the
    // handle joins the thread; `run::<T>` matches the pointer's type.
    let created = unsafe {
        libc::pthread_attr_init(attr.as_mut_ptr());
        if let Some(elsewhere) = elsewhere(&cpus) {
            libc::pthread_attr_setaffinity_np(
                attr.as_mut_ptr(),
                size_of::<libc::cpu_set_t>(),
                &elsewhere,
            );
        }
        let mut id = MaybeUninit::<libc::pthread_t>::uninit();
        let rc = libc::pthread_create(id.as_mut_ptr(), attr.as_ptr(), run::<T>, start.cast());
        libc::pthread_attr_destroy(attr.as_mut_ptr());
        (rc == 0).then(|| id.assume_init()).ok_or(rc)
    };
    match created {
        Ok(id) => Ok(Thread {
            id,
            start,
            joined: false,
        }),
        Err(rc) => {
            // SAFETY: no thread took it.
            drop(unsafe { Box::from_raw(start) });
            Err(std::io::Error::from_raw_os_error(rc))
        }
    }
}

impl<T> Thread<T> {
    /// Waits for the thread's end and returns what its work returned (or its panic).
    pub(crate) fn join(mut self) -> std::thread::Result<T> {
        self.wait();
        // SAFETY: the thread has ended; the box is ours alone again, taken once.
        let start = unsafe { Box::from_raw(self.start) };
        self.start = std::ptr::null_mut();
        start
            .result
            .unwrap_or_else(|| Err(Box::new("the thread ended without a result")))
    }

    fn wait(&mut self) {
        if !self.joined {
            // SAFETY: a thread of ours, joined once.
            unsafe { libc::pthread_join(self.id, std::ptr::null_mut()) };
            self.joined = true;
        }
    }
}

impl<T> Drop for Thread<T> {
    fn drop(&mut self) {
        self.wait();
        if !self.start.is_null() {
            // SAFETY: the thread has ended and nobody took the box.
            drop(unsafe { Box::from_raw(self.start) });
        }
    }
}

extern "C" fn run<T>(arg: *mut libc::c_void) -> *mut libc::c_void {
    // SAFETY: `arg` is the `Start` that `spawn` made for this thread, untouched by the
    // handle until this thread has ended.
    let start = unsafe { &mut *arg.cast::<Start<T>>() };
    // SAFETY: a plain system call on this thread, with a name `spawn` made.
    unsafe { libc::prctl(libc::PR_SET_NAME, start.name.as_ptr()) };
    Cpus(start.cpus).apply();
    if let Some(work) = start.work.take() {
        start.result = Some(catch_unwind(AssertUnwindSafe(work)));
    }
    std::ptr::null_mut()
}

/// A set of CPUs: those a task may run on.
#[derive(Clone, Copy)]
pub struct Cpus(libc::cpu_set_t);

impl Cpus {
    /// The CPUs this thread may run on.
    pub(crate) fn allowed() -> std::io::Result<Cpus> {
        allowed_cpus().map(Cpus)
    }

    /// Moves the child `pid` (just made, still on this thread's CPU) to the other CPUs of
    /// this set. Best effort: a child left here only starts later.
    pub(crate) fn send_elsewhere(&self, pid: i32) {
        if let Some(others) = elsewhere(&self.0) {
            // SAFETY: the set is a valid cpu_set_t of the size given.
            unsafe { libc::sched_setaffinity(pid, size_of::<libc::cpu_set_t>(), &others) };
        }
    }

    /// The CPU this thread runs on now, alone.
    pub fn this_one() -> Option<Cpus> {
        // SAFETY: sched_getcpu reads this thread's CPU.
        let cpu = usize::try_from(unsafe { libc::sched_getcpu() }).ok()?;
        // SAFETY: an all-zero cpu_set_t is the empty set; CPU_SET bounds `cpu` by its size.
        let set = unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            set
        };
        Some(Cpus(set))
    }

    /// Has this thread run on these CPUs from now on (a moved one takes its whole set
    /// back). Best effort, as the move was.
    pub(crate) fn apply(&self) {
        self.apply_to(0);
    }

    /// Has the thread `tid` of this process (0: this thread) run on these CPUs from now
    /// on. Best effort: a thread left where it was only runs later.
    pub fn apply_to(&self, tid: i32) {
        // SAFETY: as above.
        unsafe { libc::sched_setaffinity(tid, size_of::<libc::cpu_set_t>(), &self.0) };
    }
}

/// The CPUs this thread may run on.
fn allowed_cpus() -> std::io::Result<libc::cpu_set_t> {
    let mut set = MaybeUninit::<libc::cpu_set_t>::zeroed();
    // SAFETY: the kernel fills the set, of the size given.
    let rc = unsafe { libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), set.as_mut_ptr()) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: zeroed, then filled by the kernel.
    Ok(unsafe { set.assume_init() })
}

/// `cpus` without the CPU this thread runs on now; None when that leaves none.
fn elsewhere(cpus: &libc::cpu_set_t) -> Option<libc::cpu_set_t> {
    // SAFETY: sched_getcpu only reads this thread's CPU.
    let here = unsafe { libc::sched_getcpu() };
    let mut others = *cpus;
    if let Ok(here) = usize::try_from(here) {
        // SAFETY: CPU_CLR and CPU_COUNT bound `here` by the set's size.
        unsafe { libc::CPU_CLR(here, &mut others) };
    }
    // SAFETY: as above.
    (unsafe { libc::CPU_COUNT(&others) } > 0).then_some(others)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpus_of_this_thread() -> Vec<usize> {
        let set = allowed_cpus().unwrap();
        // SAFETY: CPU_ISSET bounds the index by the set's size.
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
            .collect()
    }

    #[test]
    fn the_work_runs_with_the_callers_cpus_and_its_result_comes_back() {
        let mine = cpus_of_this_thread();
        let thread = spawn("other-cpu-test", move || {
            let name = std::fs::read_to_string("/proc/thread-self/comm").unwrap();
            (cpus_of_this_thread(), name.trim().to_owned())
        })
        .unwrap();
        let (theirs, name) = thread.join().unwrap();
        assert_eq!(theirs, mine, "the thread takes the caller's CPUs back");
        assert_eq!(name, "other-cpu-test");
    }

    #[test]
    fn a_panic_comes_back_from_join_and_a_dropped_thread_is_waited_for() {
        let thread = spawn("other-cpu-test", || -> u8 { panic!("on purpose") }).unwrap();
        assert!(thread.join().is_err());

        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = done.clone();
        let thread = spawn("other-cpu-test", move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        })
        .unwrap();
        drop(thread);
        assert!(done.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn a_child_sent_elsewhere_takes_the_whole_set_back() {
        let mine = cpus_of_this_thread();
        let cpus = Cpus::allowed().unwrap();
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        // SAFETY: the child only reads, makes system calls and exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            use std::io::{Read, Write};
            let mut theirs = theirs;
            let mut go = [0u8; 1];
            let _ = theirs.read_exact(&mut go);
            let moved = cpus_of_this_thread();
            cpus.apply();
            let back = cpus_of_this_thread();
            let ok =
                back == mine && (mine.len() == 1 || !moved.is_empty() && moved.len() < mine.len());
            let _ = theirs.write_all(&[u8::from(ok)]);
            // SAFETY: ends the child without running the parent's destructors.
            unsafe { libc::_exit(0) };
        }
        use std::io::{Read, Write};
        cpus.send_elsewhere(pid);
        let mut ours = ours;
        ours.write_all(b"g").unwrap();
        let mut ok = [0u8; 1];
        ours.read_exact(&mut ok).unwrap();
        // SAFETY: reaps our child.
        unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
        assert_eq!(ok, [1], "moved to fewer CPUs, then back to all of them");
    }

    #[test]
    fn this_one_is_a_single_cpu_of_the_allowed() {
        let one = Cpus::this_one().unwrap();
        // SAFETY: CPU_COUNT reads the set.
        assert_eq!(unsafe { libc::CPU_COUNT(&one.0) }, 1);
        let allowed = cpus_of_this_thread();
        let cpu = (0..libc::CPU_SETSIZE as usize)
            // SAFETY: CPU_ISSET bounds the index by the set's size.
            .find(|&c| unsafe { libc::CPU_ISSET(c, &one.0) })
            .unwrap();
        assert!(allowed.contains(&cpu));
    }

    #[test]
    fn another_cpu_is_chosen_when_there_is_one() {
        let cpus = allowed_cpus().unwrap();
        // SAFETY: CPU_COUNT reads the set.
        let count = unsafe { libc::CPU_COUNT(&cpus) };
        let others = elsewhere(&cpus);
        if count > 1 {
            // SAFETY: as above.
            assert_eq!(unsafe { libc::CPU_COUNT(&others.unwrap()) }, count - 1);
        } else {
            assert!(others.is_none());
        }
    }
}
