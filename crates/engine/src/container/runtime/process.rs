//! Processes named by PID and start time, so a recycled PID is never signalled by mistake.

use std::os::fd::{FromRawFd, OwnedFd};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::container::record::ProcessHandle;
use crate::error::{Context, Result};

/// The start time of a process in clock ticks since boot (field 22 of /proc/PID/stat).
pub(crate) fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    ProcessStat::parse(&stat).map(|s| s.start_time)
}

/// The kernel's flag for a task inside do_exit (include/linux/sched.h).
const PF_EXITING: u64 = 0x4;

struct ProcessStat {
    zombie: bool,
    exiting: bool,
    start_time: u64,
}

impl ProcessStat {
    fn parse(stat: &str) -> Option<ProcessStat> {
        // The command name may contain spaces and ')'; fields resume after the last ')'.
        let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
        // Field 3 is the state, 9 the flags, 22 the start time.
        let state = *fields.first()?;
        let flags: u64 = fields.get(6)?.parse().ok()?;
        Some(ProcessStat {
            zombie: state == "Z" || state == "X",
            exiting: flags & PF_EXITING != 0,
            start_time: fields.get(19)?.parse().ok()?,
        })
    }
}

impl ProcessHandle {
    pub fn of(pid: i32) -> Option<ProcessHandle> {
        start_time(pid).map(|start_time| ProcessHandle { pid, start_time })
    }

    pub fn current() -> Option<ProcessHandle> {
        ProcessHandle::of(std::process::id() as i32)
    }

    /// True while this very process (not a later one with its PID) exists, isn't a zombie
    /// and hasn't begun to exit: a killed monitor can spend a second freeing its memory
    /// after its sockets closed, and by then it supervises nothing.
    pub(crate) fn is_alive(&self) -> bool {
        self.stat().is_some_and(|s| !s.zombie && !s.exiting)
    }

    /// What /proc/PID/stat says of this process, if the PID still names it.
    fn stat(&self) -> Option<ProcessStat> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).ok()?;
        ProcessStat::parse(&stat).filter(|s| s.start_time == self.start_time)
    }

    /// Sends a signal if the process is still the one recorded.
    pub fn signal(&self, signal: Signal) -> Result<bool> {
        if !self.is_alive() {
            return Ok(false);
        }
        match kill(Pid::from_raw(self.pid), signal) {
            Ok(()) => Ok(true),
            Err(nix::Error::ESRCH) => Ok(false),
            Err(e) => Err(e).context(|| format!("sending {signal} to process {}", self.pid)),
        }
    }

    /// A pidfd that becomes readable when the process exits; `None` if it is already gone.
    pub(crate) fn pidfd(&self) -> Option<OwnedFd> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, self.pid, 0) };
        if fd < 0 {
            return None;
        }
        // SAFETY: the syscall returned a fresh fd that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
        // Checked after opening: the pidfd now pins this PID, so a match means it's ours.
        // One that is exiting still gets it: the pidfd turns readable once it is done.
        self.stat().is_some_and(|s| !s.zombie).then_some(fd)
    }

    /// Blocks until the process exits, or until `timeout` passes. Returns true if it exited.
    pub(crate) fn wait_exit(&self, timeout: Option<std::time::Duration>) -> bool {
        let Some(fd) = self.pidfd() else {
            return true;
        };
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        use std::os::fd::AsFd;
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        loop {
            let wait = match deadline {
                None => PollTimeout::NONE,
                Some(d) => {
                    let left = d.saturating_duration_since(std::time::Instant::now());
                    PollTimeout::try_from(left.as_millis().min(i32::MAX as u128) as i32)
                        .unwrap_or(PollTimeout::MAX)
                }
            };
            let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, wait) {
                Ok(0) => return false,
                Ok(_) => return true,
                Err(nix::Error::EINTR) => continue,
                Err(_) => return !self.is_alive(),
            }
        }
    }
}

/// Parses a signal given as a name (`KILL`, `SIGKILL`, `kill`) or a number.
pub fn parse_signal(text: &str) -> Option<Signal> {
    if let Ok(n) = text.parse::<i32>() {
        return Signal::try_from(n).ok();
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAT: &str = "13495 (c) a)t) R 13450 13450 9942 0 -1 4194304 99 0 0 0 0 0 0 0 20 0 1 0 \
                       1936948 3133440 358 18446744073709551615 0 0";

    #[test]
    fn stat_lines_give_state_flags_and_start_time_past_a_hostile_name() {
        let live = ProcessStat::parse(CAT).unwrap();
        assert_eq!(live.start_time, 1936948);
        assert!(!live.zombie && !live.exiting);

        let exiting = ProcessStat::parse(&CAT.replace(" 4194304 ", " 4194308 ")).unwrap();
        assert!(exiting.exiting && !exiting.zombie);
        let zombie = ProcessStat::parse(&CAT.replace(" R ", " Z ")).unwrap();
        assert!(zombie.zombie);
        assert!(ProcessStat::parse("13495 (cat").is_none());
        assert!(ProcessStat::parse("13495 (cat) R 1 2").is_none());
    }

    #[test]
    fn this_process_is_alive_and_a_reaped_child_is_not() {
        assert!(ProcessHandle::current().unwrap().is_alive());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let handle = ProcessHandle::of(child.id() as i32);
        child.wait().unwrap();
        assert!(handle.is_none_or(|h| !h.is_alive()));
    }
}
