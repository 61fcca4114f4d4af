//! Attaching the terminal to a started container: output frames to stdout/stderr,
//! stdin to the container, the terminal in raw mode with resizes for `-t`, and signals
//! forwarded to the container otherwise (Docker's sig-proxy).

use std::fs::File;
use std::io::IsTerminal;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use nix::sys::signal::{SigSet, Signal};
use nix::sys::termios::{self, SetArg, Termios};

use crate::engine::{poll_ready, read_frame, write_frame, Engine, ExecSession, FrameKind, Started};

/// Restores the terminal's mode when dropped.
struct RawMode {
    saved: Termios,
}

impl RawMode {
    fn enter() -> Option<RawMode> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd()).ok()?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).ok()?;
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, &self.saved);
    }
}

fn terminal_size() -> Option<(u16, u16)> {
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ fills the struct we pass.
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_row > 0).then_some((size.ws_row, size.ws_col))
}

fn send_resize(writer: &Mutex<UnixStream>) {
    if let Some((rows, cols)) = terminal_size() {
        let mut payload = rows.to_le_bytes().to_vec();
        payload.extend_from_slice(&cols.to_le_bytes());
        if let Ok(mut w) = writer.lock() {
            let _ = write_frame(&mut *w, FrameKind::Resize, &payload);
        }
    }
}

/// `berth attach`: this terminal's streams on a running container's.
#[derive(Debug, Args)]
pub struct AttachArgs {
    /// Do not attach STDIN
    #[arg(long)]
    pub no_stdin: bool,
    /// Proxy all received signals to the process
    #[arg(long, default_value_t = true, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub sig_proxy: bool,
    /// Override the key sequence for detaching a container
    #[arg(long, value_name = "KEYS")]
    pub detach_keys: Option<DetachSequence>,
    pub container: String,
}

/// Streams until the container exits (its exit code) or the user detaches with the
/// detach keys on a terminal container (0).
pub fn attach_command(engine: &Engine, args: &AttachArgs) -> color_eyre::Result<i32> {
    let detach_keys = DetachSequence::chosen(args.detach_keys.as_ref())?;
    let started = engine.attach_container(&args.container)?;
    let config = &started.record.config;
    let options = AttachOptions {
        // As Docker: stdin only goes to a container that keeps it open.
        stdin: !args.no_stdin && config.open_stdin,
        tty: config.tty,
        sig_proxy: args.sig_proxy,
        stdout: true,
        stderr: true,
    };
    // Only a person at a terminal needs telling how to leave.
    if std::io::stdin().is_terminal() {
        eprintln!("{}", how_to_leave(options, &detach_keys));
    }
    attach_with(engine, started, options, detach_keys)
}

/// SIGINTs and SIGTERMs after which an attach that forwards them leaves anyway, as
/// Docker's CLI does.
const FORCED_EXIT_AFTER: u32 = 3;

/// The one line that tells the user at a terminal how this attach can be left.
fn how_to_leave(options: AttachOptions, keys: &DetachSequence) -> String {
    if options.tty && options.stdin {
        // Raw mode: ctrl-c is a key for the container; only the detach keys leave.
        format!("Detach with {keys}")
    } else if !options.tty && options.sig_proxy {
        format!(
            "ctrl-c goes to the container; press it {FORCED_EXIT_AFTER} times to stop \
             attaching, or attach with --sig-proxy=false"
        )
    } else {
        "Stop attaching with ctrl-c".into()
    }
}

/// Ends this process at once from the signal thread (the main thread may be blocked in a
/// write to stdout that nobody reads): the terminal's mode back, an optional last word
/// on stderr if it can take it now, and `code`.
fn leave_now(saved: Option<&Termios>, code: i32, message: Option<&str>) -> ! {
    if let Some(saved) = saved {
        let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, saved);
    }
    if let Some(message) = message {
        let stderr = std::io::stderr();
        let mut fds = [PollFd::new(stderr.as_fd(), PollFlags::POLLOUT)];
        // A short line fits whenever the pipe or terminal says it takes anything.
        if poll(&mut fds, PollTimeout::ZERO).is_ok_and(|n| n > 0) {
            let line = format!("{message}\n");
            let _ = nix::unistd::write(stderr.as_fd(), line.as_bytes());
        }
    }
    // SAFETY: _exit ends the process without touching the other threads' state (a stdout
    // lock held by a blocked write, buffers that could block on flush).
    unsafe { libc::_exit(code) }
}

/// Moves the sleeping thread `tid` of this process to the CPU this thread runs on, where
/// this process is about to exit. The exit wakes every thread to end it, and the process
/// is gone only when the last has: a kernel that keeps a woken task on the CPU it last
/// ran on, though another idles, had the signal thread wait there behind the container's
/// monitor cleaning up (2 ms in a traced `run --rm`). Best effort; 0 is no thread.
fn keep_beside_this_thread(tid: i32) {
    if tid <= 0 {
        return;
    }
    if let Some(here) = crate::engine::Cpus::this_one() {
        here.apply_to(tid);
    }
}

/// How a terminal is attached to a container.
#[derive(Debug, Clone, Copy)]
pub struct AttachOptions {
    /// Send our stdin to the container.
    pub stdin: bool,
    /// The container has a terminal: raw mode, resizes, detach keys.
    pub tty: bool,
    /// Forward the signals we get to the container (never with a terminal: they are
    /// keys the container's terminal gets).
    pub sig_proxy: bool,
    /// Show the container's stdout and stderr (`run -a` picks; both by default).
    pub stdout: bool,
    pub stderr: bool,
}

/// Streams until the container exits; returns its exit code.
pub fn attach(
    engine: &Engine,
    started: Started,
    stdin: bool,
    tty: bool,
    detach_keys: DetachSequence,
) -> color_eyre::Result<i32> {
    let options = AttachOptions {
        stdin,
        tty,
        sig_proxy: true,
        stdout: true,
        stderr: true,
    };
    attach_with(engine, started, options, detach_keys)
}

/// The keys that detach from a terminal container, in Docker's notation: keys joined
/// by commas, each one character or `ctrl-` and one of `a`-`z`, `@`, `[`, `\`, `]`,
/// `^`, `_` (`ctrl-p,ctrl-q`, Docker's default; `ctrl-a,d`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetachSequence(Vec<u8>);

impl Default for DetachSequence {
    fn default() -> DetachSequence {
        DetachSequence(vec![0x10, 0x11])
    }
}

impl DetachSequence {
    /// The flag's sequence, else the settings' (`detach-keys`), else Docker's default.
    pub fn chosen(flag: Option<&DetachSequence>) -> color_eyre::Result<DetachSequence> {
        if let Some(keys) = flag {
            return Ok(keys.clone());
        }
        let keys = crate::settings::Settings::load()?.detach_keys;
        match keys {
            Some(text) => text
                .parse()
                .map_err(|e| color_eyre::eyre::eyre!("detach-keys in the settings: {e}")),
            None => Ok(DetachSequence::default()),
        }
    }
}

/// Docker's notation: `ctrl-p ctrl-q`, keys separated by spaces for the user to read.
impl std::fmt::Display for DetachSequence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let words: Vec<String> = self
            .0
            .iter()
            .map(|&b| match b {
                0 => "ctrl-@".into(),
                1..=26 => format!("ctrl-{}", (b'a' + b - 1) as char),
                27..=31 => format!("ctrl-{}", (b'[' + b - 27) as char),
                _ => (b as char).to_string(),
            })
            .collect();
        f.write_str(&words.join(" "))
    }
}

impl std::str::FromStr for DetachSequence {
    type Err = String;

    fn from_str(text: &str) -> Result<DetachSequence, String> {
        let byte = |key: &str| -> Result<u8, String> {
            let lower = key.to_ascii_lowercase();
            match lower.strip_prefix("ctrl-").map(str::as_bytes) {
                Some([c @ b'a'..=b'z']) => Ok(c - b'a' + 1),
                Some([b'@']) => Ok(0),
                Some([c @ (b'[' | b'\\' | b']' | b'^' | b'_')]) => Ok(c - b'[' + 27),
                Some(_) => Err(format!("unknown key {key:?}")),
                // One character is one byte only if it is ASCII.
                None => match key.as_bytes() {
                    [c] => Ok(*c),
                    _ => Err(format!("unknown key {key:?}")),
                },
            }
        };
        let keys = text
            .split(',')
            .map(byte)
            .collect::<Result<Vec<u8>, String>>()
            .map_err(|e| format!("invalid detach keys {text:?}: {e}"))?;
        Ok(DetachSequence(keys))
    }
}

/// Finds the detach keys in what the user types. Keys that could start the sequence are
/// held back until the next key shows whether they do.
#[derive(Debug)]
struct DetachKeys {
    sequence: DetachSequence,
    held: Vec<u8>,
}

impl DetachKeys {
    fn new(sequence: DetachSequence) -> DetachKeys {
        DetachKeys {
            sequence,
            held: Vec::new(),
        }
    }

    /// What of `input` goes to the container, and whether the user detached.
    fn scan(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        let keys = &self.sequence.0;
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            self.held.push(b);
            // What no longer starts the sequence goes on, one key at a time, so a
            // sequence that starts inside the held keys is still found.
            while !self.held.is_empty() && !keys.starts_with(&self.held) {
                out.push(self.held.remove(0));
            }
            if self.held == *keys {
                self.held.clear();
                return (out, true);
            }
        }
        (out, false)
    }
}

/// Streams until the container exits (its exit code) or the user detaches (0).
pub fn attach_with(
    engine: &Engine,
    started: Started,
    options: AttachOptions,
    detach_keys: DetachSequence,
) -> color_eyre::Result<i32> {
    let AttachOptions {
        stdin,
        tty,
        sig_proxy,
        stdout: show_stdout,
        stderr: show_stderr,
    } = options;
    let id = started.record.id.clone();
    let writer = Arc::new(Mutex::new(started.stream.try_clone()?));
    let mut reader = started.stream;
    let detached = Arc::new(AtomicBool::new(false));

    // Signals go to a thread of their own: block them here before any thread starts.
    let mut signals = SigSet::empty();
    for s in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGWINCH,
    ] {
        signals.add(s);
    }
    signals.thread_block()?;
    // Raw mode only when our keys go to the container: without stdin, ctrl-c must stay a
    // signal that lets the user leave.
    let raw = if tty && stdin && std::io::stdin().is_terminal() {
        RawMode::enter()
    } else {
        None
    };
    let signal_thread = Arc::new(std::sync::atomic::AtomicI32::new(0));
    {
        let writer = Arc::clone(&writer);
        let engine = engine.clone();
        let id = id.clone();
        let saved = raw.as_ref().map(|r| r.saved.clone());
        let tid = Arc::clone(&signal_thread);
        std::thread::spawn(move || {
            tid.store(nix::unistd::gettid().as_raw(), Ordering::SeqCst);
            let mut interrupts = 0;
            loop {
                let Ok(sig) = signals.wait() else { return };
                if sig == Signal::SIGWINCH {
                    if tty {
                        send_resize(&writer);
                    }
                } else if !tty && sig_proxy {
                    let _ = engine.kill_container(id.as_str(), sig);
                    // Forwarded signals the container ignores must not hold the user.
                    if matches!(sig, Signal::SIGINT | Signal::SIGTERM) {
                        interrupts += 1;
                        if interrupts >= FORCED_EXIT_AFTER {
                            let message =
                                format!("got {interrupts} SIGTERM/SIGINTs, forcefully exiting");
                            leave_now(saved.as_ref(), 1, Some(&message));
                        }
                    }
                } else {
                    // Not forwarded: it ends the attach (Docker's CLI dies of it), and
                    // the container goes on. A shell's code for a death by that signal.
                    leave_now(saved.as_ref(), 128 + sig as i32, None);
                }
            }
        });
    }
    if tty {
        send_resize(&writer);
    }
    if stdin {
        let writer = Arc::clone(&writer);
        let detached = Arc::clone(&detached);
        std::thread::spawn(move || {
            let mut buf = [0u8; 32 * 1024];
            let mut input = std::io::stdin().lock();
            let mut keys = DetachKeys::new(detach_keys);
            loop {
                let n = match input.read(&mut buf) {
                    Ok(0) | Err(_) => 0,
                    Ok(n) => n,
                };
                let (data, detach) = if tty {
                    keys.scan(&buf[..n])
                } else {
                    (buf[..n].to_vec(), false)
                };
                let Ok(mut w) = writer.lock() else { return };
                let sent = if n == 0 {
                    write_frame(&mut *w, FrameKind::StdinEof, &[])
                } else if data.is_empty() {
                    Ok(())
                } else {
                    write_frame(&mut *w, FrameKind::Stdin, &data)
                };
                if detach {
                    // Ends the reading below; the container goes on without us.
                    detached.store(true, Ordering::SeqCst);
                    let _ = w.shutdown(std::net::Shutdown::Both);
                    return;
                }
                if n == 0 || sent.is_err() {
                    return;
                }
            }
        });
    }

    let mut stdout = std::io::stdout();
    let mut stderr = std::io::stderr();
    loop {
        match read_frame(&mut reader) {
            // A stream not attached (`run -a stdout`) is read and dropped.
            Ok(Some((FrameKind::Stdout, _))) if !show_stdout => {}
            Ok(Some((FrameKind::Stderr, _))) if !show_stderr => {}
            Ok(Some((FrameKind::Stdout, data))) => {
                let _ = stdout.write_all(&data);
                let _ = stdout.flush();
            }
            Ok(Some((FrameKind::Stderr, data))) => {
                let _ = stderr.write_all(&data);
            }
            Ok(Some((FrameKind::Exited, data))) if data.len() == 4 => {
                keep_beside_this_thread(signal_thread.load(Ordering::SeqCst));
                return Ok(i32::from_le_bytes([data[0], data[1], data[2], data[3]]));
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) if detached.load(Ordering::SeqCst) => return Ok(0),
            Ok(None) | Err(_) => {
                // The monitor is gone without a word: the record says what happened.
                return Ok(engine
                    .container(id.as_str())
                    .ok()
                    .and_then(|r| r.state.exit_code)
                    .unwrap_or(255));
            }
        }
    }
}

fn copy_window_size(master: i32) {
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ fills, TIOCSWINSZ reads, the struct we own.
    unsafe {
        if libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) == 0 {
            libc::ioctl(master, libc::TIOCSWINSZ, &size);
        }
    }
}

/// How long an exec'd process's output is still relayed after it exited: what it wrote is
/// buffered already; a process it left behind holding the streams gets nothing more.
const EXEC_DRAIN: Duration = Duration::from_millis(300);

/// Relays an `exec`'d process's terminal or pipes to and from this process's own streams
/// until the process exits (plus `EXEC_DRAIN`). The container never holds our streams.
pub fn relay_exec(session: &mut ExecSession, interactive: bool) {
    let _raw = match &session.pty {
        Some(master) => follow_terminal(master),
        None => None,
    };
    if interactive {
        // The pipe's end moves into the thread: its end of input closes the pipe (EOF).
        let input = session
            .stdin
            .take()
            .or_else(|| session.pty.as_ref().and_then(|m| m.try_clone().ok()));
        if let Some(fd) = input {
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut std::io::stdin().lock(), &mut File::from(fd));
            });
        }
    }
    let mut outputs: Vec<(OwnedFd, bool)> = Vec::new();
    for (fd, to_stderr) in [
        (session.pty.as_ref().and_then(|m| m.try_clone().ok()), false),
        (session.stdout.take(), false),
        (session.stderr.take(), true),
    ] {
        if let Some(fd) = fd {
            outputs.push((fd, to_stderr));
        }
    }
    relay_outputs(outputs, session.exited());
}

/// Raw mode and the window size (kept current on SIGWINCH) for a terminal we relay.
fn follow_terminal(master: &OwnedFd) -> Option<RawMode> {
    let raw = if nix::unistd::isatty(std::io::stdin()).unwrap_or(false) {
        RawMode::enter()
    } else {
        None
    };
    let master_fd = master.as_raw_fd();
    copy_window_size(master_fd);
    let mut winch = SigSet::empty();
    winch.add(Signal::SIGWINCH);
    if winch.thread_block().is_ok() {
        std::thread::spawn(move || {
            while winch.wait().is_ok() {
                copy_window_size(master_fd);
            }
        });
    }
    raw
}

/// Copies each output to our stdout or stderr until all end, or until [`EXEC_DRAIN`]
/// after `exited` becomes readable.
fn relay_outputs(mut outputs: Vec<(OwnedFd, bool)>, exited: BorrowedFd<'_>) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut deadline: Option<Instant> = None;
    loop {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if deadline.is_some() && (outputs.is_empty() || left == Some(Duration::ZERO)) {
            return;
        }
        let mut fds: Vec<PollFd> = outputs
            .iter()
            .map(|(fd, _)| PollFd::new(fd.as_fd(), PollFlags::POLLIN))
            .collect();
        if deadline.is_none() {
            fds.push(PollFd::new(exited, PollFlags::POLLIN));
        }
        let timeout = left.map_or(PollTimeout::NONE, |l| {
            PollTimeout::try_from(l.as_millis().min(60_000) as i32 + 1).unwrap_or(PollTimeout::MAX)
        });
        let ready: Vec<bool> = match poll_ready(&mut fds, timeout) {
            Ok(Some(revents)) => revents.iter().map(|r| !r.is_empty()).collect(),
            Ok(None) => continue,
            Err(_) => return,
        };
        drop(fds);
        if deadline.is_none() && ready.last().copied().unwrap_or(false) {
            deadline = Some(Instant::now() + EXEC_DRAIN);
        }
        // In reverse, so removing one keeps the other indices valid.
        for i in (0..outputs.len()).rev() {
            if ready[i] && !copy_once(&outputs[i], &mut buf) {
                outputs.remove(i);
            }
        }
    }
}

/// One read from a ready output, written out; false once it ended (EOF, or EIO from a
/// terminal nobody holds any more) or our side can't take more.
fn copy_once((fd, to_stderr): &(OwnedFd, bool), buf: &mut [u8]) -> bool {
    let n = match nix::unistd::read(fd, buf) {
        Ok(0) => return false,
        Ok(n) => n,
        Err(nix::Error::EINTR) | Err(nix::Error::EAGAIN) => return true,
        Err(_) => return false,
    };
    let written = if *to_stderr {
        std::io::stderr().write_all(&buf[..n])
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(&buf[..n]).and_then(|()| out.flush())
    };
    written.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sleeping_thread_is_moved_to_this_threads_cpu() {
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let sleeper = std::thread::spawn(move || {
            tid_tx.send(nix::unistd::gettid().as_raw()).unwrap();
            let _ = done_rx.recv();
        });
        let tid = tid_rx.recv().unwrap();
        keep_beside_this_thread(tid);
        let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).unwrap();
        let allowed = status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .unwrap()
            .trim()
            .to_owned();
        done_tx.send(()).unwrap();
        sleeper.join().unwrap();
        // The one CPU this thread ran on when it asked (it may have moved since).
        assert!(allowed.parse::<u32>().is_ok(), "one CPU: {allowed}");
        // No thread: nothing happens.
        keep_beside_this_thread(0);
    }

    fn scanner(text: &str) -> DetachKeys {
        DetachKeys::new(text.parse().expect("detach keys"))
    }

    #[test]
    fn detach_keys_are_found_across_reads_and_kept_otherwise() {
        let mut keys = DetachKeys::new(DetachSequence::default());
        assert_eq!(keys.scan(b"ls\n"), (b"ls\n".to_vec(), false));
        // A ctrl-p then another key: both go on.
        assert_eq!(keys.scan(b"a\x10"), (b"a".to_vec(), false));
        assert_eq!(keys.scan(b"b"), (b"\x10b".to_vec(), false));
        // The sequence split over two reads detaches; what came before it goes on.
        assert_eq!(keys.scan(b"x\x10"), (b"x".to_vec(), false));
        assert_eq!(keys.scan(b"\x11rest"), (Vec::new(), true));
        let mut keys = DetachKeys::new(DetachSequence::default());
        assert_eq!(keys.scan(b"\x10\x10\x11"), (b"\x10".to_vec(), true));
    }

    #[test]
    fn detach_keys_parse_dockers_notation() {
        let bytes = |text: &str| text.parse::<DetachSequence>().map(|s| s.0);
        assert_eq!(bytes("ctrl-p,ctrl-q"), Ok(vec![0x10, 0x11]));
        assert_eq!(bytes("ctrl-a,d"), Ok(vec![0x01, b'd']));
        assert_eq!(bytes("Ctrl-X"), Ok(vec![0x18]));
        assert_eq!(
            bytes("ctrl-@,ctrl-[,ctrl-\\,ctrl-_"),
            Ok(vec![0, 27, 28, 31])
        );
        for bad in ["", "ctrl-", "ctrl-pp", "ab", "ctrl-1", "a,,b", "é"] {
            let err = bytes(bad).expect_err(bad);
            assert!(err.starts_with("invalid detach keys"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_longer_sequence_restarts_inside_what_was_held() {
        // ctrl-a ctrl-a d: the first ctrl-a goes on, the sequence starts at the second.
        let mut keys = scanner("ctrl-a,ctrl-a,d");
        assert_eq!(keys.scan(b"\x01\x01"), (Vec::new(), false));
        assert_eq!(keys.scan(b"\x01d"), (b"\x01".to_vec(), true));
        let mut keys = scanner("x");
        assert_eq!(keys.scan(b"abxcd"), (b"ab".to_vec(), true));
    }
}
