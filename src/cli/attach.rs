//! Attaching the terminal to a started container: output frames to stdout/stderr,
//! stdin to the container, the terminal in raw mode with resizes for `-t`, and signals
//! forwarded to the container otherwise (Docker's sig-proxy).

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};

use nix::sys::signal::{SigSet, Signal};
use nix::sys::termios::{self, SetArg, Termios};

use crate::engine::container::attach::{read_frame, write_frame, Kind};
use crate::engine::container::Started;
use crate::engine::Engine;

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
            let _ = write_frame(&mut *w, Kind::Resize, &payload);
        }
    }
}

/// Streams until the container exits; returns its exit code.
pub fn attach(
    engine: &Engine,
    started: Started,
    stdin: bool,
    tty: bool,
) -> color_eyre::Result<i32> {
    let id = started.record.id.clone();
    let writer = Arc::new(Mutex::new(started.stream.try_clone()?));
    let mut reader = started.stream;

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
    {
        let writer = Arc::clone(&writer);
        let engine = engine.clone();
        let id = id.clone();
        std::thread::spawn(move || loop {
            let Ok(sig) = signals.wait() else { return };
            if sig == Signal::SIGWINCH {
                if tty {
                    send_resize(&writer);
                }
            } else if !tty {
                let _ = engine.kill_container(id.as_str(), sig);
            }
        });
    }

    let _raw = if tty && nix::unistd::isatty(std::io::stdin()).unwrap_or(false) {
        RawMode::enter()
    } else {
        None
    };
    if tty {
        send_resize(&writer);
    }
    if stdin {
        let writer = Arc::clone(&writer);
        std::thread::spawn(move || {
            let mut buf = [0u8; 32 * 1024];
            let mut input = std::io::stdin().lock();
            loop {
                let n = match input.read(&mut buf) {
                    Ok(0) | Err(_) => 0,
                    Ok(n) => n,
                };
                let Ok(mut w) = writer.lock() else { return };
                let sent = if n == 0 {
                    write_frame(&mut *w, Kind::StdinEof, &[])
                } else {
                    write_frame(&mut *w, Kind::Stdin, &buf[..n])
                };
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
            Ok(Some((Kind::Stdout, data))) => {
                let _ = stdout.write_all(&data);
                let _ = stdout.flush();
            }
            Ok(Some((Kind::Stderr, data))) => {
                let _ = stderr.write_all(&data);
            }
            Ok(Some((Kind::Exited, data))) if data.len() == 4 => {
                return Ok(i32::from_le_bytes([data[0], data[1], data[2], data[3]]));
            }
            Ok(Some(_)) => {}
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

/// Connects this terminal to an `exec`'d process's terminal until the process closes it.
pub fn relay_terminal(master: &std::os::fd::OwnedFd, interactive: bool) {
    use std::os::fd::AsRawFd;
    let _raw = if nix::unistd::isatty(std::io::stdin()).unwrap_or(false) {
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
    if interactive {
        let Ok(input_fd) = master.try_clone() else {
            return;
        };
        std::thread::spawn(move || {
            let mut to_master = std::fs::File::from(input_fd);
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut to_master);
        });
    }
    let Ok(output_fd) = master.try_clone() else {
        return;
    };
    let mut from_master = std::fs::File::from(output_fd);
    // Ends with EIO once the process and its children have closed the terminal.
    let _ = std::io::copy(&mut from_master, &mut std::io::stdout().lock());
}
