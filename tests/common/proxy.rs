//! A TCP proxy in front of a test registry that cuts connections mid-answer: each of the
//! first few connections is closed after a set number of bytes of the registry's answer,
//! as a flaky network would (or, holding, stalls there until the test releases it). It
//! listens inside the test's own network namespace (its threads enter it with setns), and
//! notes whether requests asked for a byte range.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use super::NetNs;

pub struct DroppingProxy {
    port: u16,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

struct Shared {
    stop: AtomicBool,
    /// Connections still to cut.
    cuts_left: AtomicU32,
    /// Connections cut so far.
    cut: AtomicU32,
    /// Requests that carried a `Range` header.
    ranged: AtomicU32,
    cut_after: u64,
    /// Stall at the cut instead of cutting, until `released`.
    hold: bool,
    released: AtomicBool,
}

impl DroppingProxy {
    /// Forwards 127.0.0.1:<its port> to 127.0.0.1:`upstream` in `netns`; the first `cuts`
    /// connections whose answer passes `cut_after` bytes are closed there.
    pub fn start(netns: &NetNs, upstream: u16, cuts: u32, cut_after: u64) -> DroppingProxy {
        DroppingProxy::spawn(netns, upstream, cuts, cut_after, false)
    }

    /// A proxy whose first answer past `hold_after` bytes stalls until [`release`].
    ///
    /// [`release`]: DroppingProxy::release
    pub fn holding(netns: &NetNs, upstream: u16, hold_after: u64) -> DroppingProxy {
        DroppingProxy::spawn(netns, upstream, 1, hold_after, true)
    }

    fn spawn(netns: &NetNs, upstream: u16, cuts: u32, cut_after: u64, hold: bool) -> DroppingProxy {
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            cuts_left: AtomicU32::new(cuts),
            cut: AtomicU32::new(0),
            ranged: AtomicU32::new(0),
            cut_after,
            hold,
            released: AtomicBool::new(false),
        });
        let netns_file = File::open(netns.path()).expect("open the test's netns");
        let (ready, port) = mpsc::channel();
        let state = shared.clone();
        let acceptor = std::thread::spawn(move || {
            // This thread, and the threads it spawns, live in the test's namespace.
            nix::sched::setns(&netns_file, nix::sched::CloneFlags::CLONE_NEWNET)
                .expect("enter the test's netns");
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
            listener
                .set_nonblocking(true)
                .expect("nonblocking listener");
            let _ = ready.send(listener.local_addr().expect("proxy address").port());
            accept_loop(&listener, upstream, &state);
        });
        let port = port
            .recv_timeout(Duration::from_secs(10))
            .expect("the proxy started");
        DroppingProxy {
            port,
            shared,
            acceptor: Some(acceptor),
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Lets a held answer go on.
    pub fn release(&self) {
        self.shared.released.store(true, Ordering::SeqCst);
    }

    /// Connections cut (or, holding, stalled) so far.
    pub fn connections_cut(&self) -> u32 {
        self.shared.cut.load(Ordering::SeqCst)
    }

    pub fn ranged_requests(&self) -> u32 {
        self.shared.ranged.load(Ordering::SeqCst)
    }
}

impl Drop for DroppingProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.release();
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, upstream: u16, shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                let shared = shared.clone();
                std::thread::spawn(move || relay(client, upstream, &shared));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(_) => return,
        }
    }
}

/// Copies the request one way and the answer back, cutting the answer if this connection
/// is one to cut.
fn relay(client: TcpStream, upstream: u16, shared: &Shared) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    let timeout = Some(Duration::from_secs(30));
    for stream in [&client, &server] {
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(timeout);
    }
    let (Ok(mut client_in), Ok(mut server_out)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let requests = std::thread::scope(|scope| {
        let forward = scope.spawn(move || {
            let mut buf = [0u8; 16 << 10];
            let mut seen = Vec::new();
            while let Ok(n) = client_in.read(&mut buf) {
                if n == 0 || server_out.write_all(&buf[..n]).is_err() {
                    break;
                }
                seen.extend_from_slice(&buf[..n]);
            }
            let _ = server_out.shutdown(Shutdown::Write);
            seen
        });
        copy_answer(&server, &client, shared);
        let _ = client.shutdown(Shutdown::Both);
        let _ = server.shutdown(Shutdown::Both);
        forward.join().unwrap_or_default()
    });
    let text = String::from_utf8_lossy(&requests).to_ascii_lowercase();
    let ranged = text.matches("\r\nrange: bytes=").count() as u32;
    shared.ranged.fetch_add(ranged, Ordering::SeqCst);
}

fn copy_answer(mut server: &TcpStream, mut client: &TcpStream, shared: &Shared) {
    let mut buf = [0u8; 16 << 10];
    let mut sent = 0u64;
    let mut cutting = true;
    loop {
        let n = match server.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if cutting && sent + n as u64 > shared.cut_after {
            let taken = shared
                .cuts_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                    left.checked_sub(1)
                })
                .is_ok();
            if taken {
                let at = (shared.cut_after - sent) as usize;
                let _ = client.write_all(&buf[..at]);
                shared.cut.fetch_add(1, Ordering::SeqCst);
                if !shared.hold {
                    return;
                }
                while !shared.released.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(10));
                }
                if client.write_all(&buf[at..n]).is_err() {
                    return;
                }
                sent += n as u64;
                cutting = false;
                continue;
            }
            cutting = false;
        }
        if client.write_all(&buf[..n]).is_err() {
            return;
        }
        sent += n as u64;
    }
}
