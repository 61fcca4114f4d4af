//! Processes named by PID and start time, so a recycled PID is never signalled by mistake.

use std::os::fd::{FromRawFd, OwnedFd};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::container::record::ProcessHandle;
use crate::error::{Context, Result};

/// The start time of a process in clock ticks since boot (field 22 of /proc/PID/stat).
pub(crate) fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and ')'; fields resume after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(19)?.parse().ok()
}

impl ProcessHandle {
    pub fn of(pid: i32) -> Option<ProcessHandle> {
        start_time(pid).map(|start_time| ProcessHandle { pid, start_time })
    }

    pub fn current() -> Option<ProcessHandle> {
        ProcessHandle::of(std::process::id() as i32)
    }

    /// True while this very process (not a later one with its PID) exists and isn't a zombie.
    pub(crate) fn is_alive(&self) -> bool {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)) else {
            return false;
        };
        let Some(close) = stat.rfind(')') else {
            return false;
        };
        let mut fields = stat[close + 2..].split(' ');
        let state = fields.next().unwrap_or("");
        let start = fields.nth(18).and_then(|s| s.parse::<u64>().ok());
        start == Some(self.start_time) && state != "Z" && state != "X"
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
        self.is_alive().then_some(fd)
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
