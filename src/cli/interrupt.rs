//! Ctrl-C, SIGTERM and SIGHUP (a closed terminal) while a long operation runs (`cp`, a
//! pull): the first asks the operation to cancel, so it unwinds and removes what it had
//! half made, and the second ends berth at once with 128 + the signal.
//!
//! Built on signal-hook (already a dependency, for crossterm): its self-pipe iterator is
//! a waiter that can be woken and stopped from outside (`Handle::close`), which a thread
//! parked in `sigwait` cannot, and its registry keeps several users of one signal apart.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use signal_hook::iterator::{Handle, Signals};

const SIGNALS: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// The flag that is true while no operation waits for the signals: they then do what
/// they do by default (end berth). signal-hook never takes its handler back, so without
/// this a signal that came after an operation would be ignored. Registered once.
fn idle_flag() -> std::io::Result<Arc<AtomicBool>> {
    static IDLE: Mutex<Option<Arc<AtomicBool>>> = Mutex::new(None);
    let mut idle = IDLE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(flag) = &*idle {
        return Ok(flag.clone());
    }
    let flag = Arc::new(AtomicBool::new(true));
    for signal in SIGNALS {
        signal_hook::flag::register_conditional_default(signal as i32, flag.clone())?;
    }
    *idle = Some(flag.clone());
    Ok(flag)
}

/// While alive, the signals go to one waiting thread instead of ending berth. Dropped
/// when the operation is over: the thread is stopped and joined, and the signals end
/// berth again as they did before. One at a time.
pub struct Interrupt {
    idle: Arc<AtomicBool>,
    received: Arc<AtomicI32>,
    handle: Handle,
    waiter: Option<JoinHandle<()>>,
    /// The calling thread's signal mask before, given back on drop.
    old_mask: SigSet,
}

impl Interrupt {
    /// Starts waiting; `cancel` runs on the first signal. Call it on the thread that runs
    /// the operation before that starts any thread or process: the signals are blocked
    /// here, so every thread and forked process of the operation inherits them blocked
    /// (a process working in a container then outlives a ctrl-c sent to the whole group
    /// long enough to remove its own temporary file) and only the waiter takes them.
    pub fn start(cancel: impl Fn() + Send + 'static) -> std::io::Result<Interrupt> {
        let idle = idle_flag()?;
        let ids = SIGNALS.map(|s| s as i32);
        let mut signals = Signals::new(ids)?;
        let handle = signals.handle();
        let mut set = SigSet::empty();
        for signal in SIGNALS {
            set.add(signal);
        }
        let old_mask = set
            .thread_swap_mask(SigmaskHow::SIG_BLOCK)
            .map_err(std::io::Error::from)?;
        idle.store(false, Ordering::SeqCst);
        let received = Arc::new(AtomicI32::new(0));
        let first = received.clone();
        let waiter = std::thread::Builder::new()
            .name("interrupt".into())
            .spawn(move || {
                // This thread alone takes them (a signal that came while all were
                // blocked is delivered now).
                let _ = set.thread_unblock();
                for signal in signals.forever() {
                    if first
                        .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
                        .is_ok()
                    {
                        cancel();
                    } else {
                        std::process::exit(128 + signal);
                    }
                }
            });
        let waiter = match waiter {
            Ok(waiter) => waiter,
            Err(e) => {
                idle.store(true, Ordering::SeqCst);
                let _ = old_mask.thread_set_mask();
                return Err(e);
            }
        };
        Ok(Interrupt {
            idle,
            received,
            handle,
            waiter: Some(waiter),
            old_mask,
        })
    }

    /// The first signal that came, if one did.
    pub fn received(&self) -> Option<i32> {
        Some(self.received.load(Ordering::SeqCst)).filter(|&s| s != 0)
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        self.handle.close();
        if let Some(waiter) = self.waiter.take() {
            let _ = waiter.join();
        }
        self.idle.store(true, Ordering::SeqCst);
        if let Err(e) = self.old_mask.thread_set_mask() {
            eprintln!("berth: restoring the signal mask: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn the_first_signal_cancels_and_the_waiter_stops_with_the_operation() {
        let cancelled = Arc::new(AtomicBool::new(false));
        let flag = cancelled.clone();
        let interrupt = Interrupt::start(move || flag.store(true, Ordering::SeqCst)).unwrap();
        assert_eq!(interrupt.received(), None);
        assert!(!interrupt.idle.load(Ordering::SeqCst));
        let idle = interrupt.idle.clone();
        // To the process, as a terminal's ctrl-c: only the waiter takes it.
        nix::sys::signal::kill(nix::unistd::getpid(), Signal::SIGHUP).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while interrupt.received().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(interrupt.received(), Some(Signal::SIGHUP as i32));
        assert!(cancelled.load(Ordering::SeqCst));
        // Dropping joins the waiter: this returns only once its thread has ended.
        drop(interrupt);
        assert!(idle.load(Ordering::SeqCst));
        let mask = SigSet::thread_get_mask().unwrap();
        assert!(
            !mask.contains(Signal::SIGHUP),
            "the mask was not given back"
        );
    }
}
