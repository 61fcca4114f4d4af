//! Keeping a new task from waiting behind the one that made it.
//!
//! A scheduler that packs tasks onto few CPUs (as some virtual machines' kernels are set
//! to) queues a new thread or child on its maker's CPU, where it waits until the maker
//! blocks, although another CPU is idle. The container's start hands work to a new task
//! twice while the maker goes on (`run`'s monitor starter, the monitor's init), so there
//! the maker steps over to another CPU it may use and leaves its own to the new task.

use nix::sched::{sched_getaffinity, sched_setaffinity, CpuSet};
use nix::unistd::Pid;

/// Moves the calling thread to the next CPU it may run on, then gives it back every CPU
/// it had (it stays where it is). Nothing is done with a single CPU to run on; a failure
/// leaves the thread where it was.
pub(crate) fn step_aside() {
    // SAFETY: sched_getcpu has no preconditions.
    let current = unsafe { libc::sched_getcpu() };
    let Ok(current) = usize::try_from(current) else {
        return;
    };
    let me = Pid::from_raw(0);
    let Ok(allowed) = sched_getaffinity(me) else {
        return;
    };
    let Some(next) = next_allowed(&allowed, current) else {
        return;
    };
    let mut there = CpuSet::new();
    if there.set(next).is_ok() && sched_setaffinity(me, &there).is_ok() {
        // Back to the whole set: a failure here would pin the thread, so it is retried
        // once and otherwise left to the caller's process (it only narrows the CPUs).
        if sched_setaffinity(me, &allowed).is_err() {
            let _ = sched_setaffinity(me, &allowed);
        }
    }
}

/// The first CPU after `current` (wrapping around) in `allowed`, if any other.
fn next_allowed(allowed: &CpuSet, current: usize) -> Option<usize> {
    let count = CpuSet::count();
    (1..count)
        .map(|step| (current + step) % count)
        .find(|&cpu| allowed.is_set(cpu).unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_of(cpus: &[usize]) -> CpuSet {
        let mut set = CpuSet::new();
        for &cpu in cpus {
            set.set(cpu).unwrap();
        }
        set
    }

    #[test]
    fn the_next_cpu_wraps_around_and_skips_the_current_one() {
        assert_eq!(next_allowed(&set_of(&[0, 1]), 0), Some(1));
        assert_eq!(next_allowed(&set_of(&[0, 1]), 1), Some(0));
        assert_eq!(next_allowed(&set_of(&[0, 2, 5]), 2), Some(5));
        assert_eq!(next_allowed(&set_of(&[3]), 3), None);
    }

    #[test]
    fn stepping_aside_keeps_every_cpu_the_thread_had() {
        let before = sched_getaffinity(Pid::from_raw(0)).unwrap();
        step_aside();
        let after = sched_getaffinity(Pid::from_raw(0)).unwrap();
        assert_eq!(before, after);
    }
}
