//! Containers on networks, the stories Docker users know, for real: bridges, veths,
//! addresses, published ports, connect and disconnect, macvlan, and what is left after
//! rm or a crash. Every engine runs in a network namespace its test made
//! (`common::NetNs`): nothing here touches the host's links, routes or firewall, and no
//! traffic leaves the test's namespaces.

use crate::common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use berth::engine::network::names::RootNames;
use common::{stderr, Berth, IMAGE};

/// An address of the "host" besides loopback: 10.99.0.1/24 on a veth in the engine's
/// namespace.
fn uplink(berth: &Berth) {
    berth.ip(&[
        "link", "add", "uplink0", "type", "veth", "peer", "name", "uplink1",
    ]);
    berth.ip(&["addr", "add", "10.99.0.1/24", "dev", "uplink0"]);
    berth.ip(&["link", "set", "uplink0", "up"]);
    berth.ip(&["link", "set", "uplink1", "up"]);
}

/// Runs `f` on a thread that has entered the engine's network namespace.
fn in_netns<T: Send>(berth: &Berth, f: impl FnOnce() -> T + Send) -> T {
    in_ns(&berth.netns().path(), f)
}

/// Runs `f` on a thread that has entered the network namespace at `path`.
fn in_ns<T: Send>(path: &Path, f: impl FnOnce() -> T + Send) -> T {
    let ns = std::fs::File::open(path).expect("open the namespace");
    std::thread::scope(|s| {
        s.spawn(|| {
            nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
                .expect("enter the namespace");
            f()
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// GET `path` from `addr` in the engine's namespace, retried for a few seconds while
/// the server starts; the body.
fn http_get(berth: &Berth, addr: &str, path: &str) -> Result<String, String> {
    in_netns(berth, || {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let attempt = (|| -> std::io::Result<String> {
                let target = addr.parse().map_err(std::io::Error::other)?;
                let mut s = TcpStream::connect_timeout(&target, Duration::from_secs(2))?;
                s.set_read_timeout(Some(Duration::from_secs(3)))?;
                write!(s, "GET {path} HTTP/1.0\r\n\r\n")?;
                let mut reply = String::new();
                s.read_to_string(&mut reply)?;
                Ok(reply)
            })();
            match attempt {
                Ok(reply) if reply.starts_with("HTTP/1.") => {
                    return Ok(reply.split("\r\n\r\n").nth(1).unwrap_or("").to_owned())
                }
                Ok(other) => return Err(format!("not HTTP: {other:?}")),
                Err(e) if Instant::now() > deadline => return Err(e.to_string()),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    })
}

/// A busybox web server serving `body` at /index.html.
fn serve(berth: &Berth, args: &[&str], body: &str) -> String {
    let script =
        format!("mkdir -p /www && echo {body} > /www/index.html && exec httpd -f -p 80 -h /www");
    let mut all = vec!["run", "-d"];
    all.extend(args);
    all.extend([IMAGE, "sh", "-c", &script]);
    berth.ok(&all).trim().to_owned()
}

/// The links in the engine's namespace (name before any `@peer`).
fn links(berth: &Berth) -> BTreeSet<String> {
    berth
        .ip(&["-o", "link"])
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_owned())
        .collect()
}

fn ruleset(berth: &Berth) -> String {
    let out = berth
        .netns()
        .command("nft")
        .args(["list", "ruleset"])
        .output()
        .expect("run nft");
    assert!(out.status.success(), "{}", stderr(&out));
    common::stdout(&out)
}

#[test]
fn the_default_bridge_gives_172_17_and_reaches_its_gateway() {
    let berth = Berth::with_image();
    let out = berth.ok(&[
        "run",
        "--rm",
        IMAGE,
        "sh",
        "-c",
        "ip -o -4 addr show eth0; ip route; ping -c 1 -W 2 172.17.0.1 >/dev/null && echo reached",
    ]);
    assert!(out.contains("inet 172.17.0.2/16"), "{out}");
    assert!(out.contains("default via 172.17.0.1 dev eth0"), "{out}");
    assert!(out.ends_with("reached\n"), "{out}");
    // The host side: the bridge with its gateway, up; named after this root (berth0 is
    // the default root's).
    let name = RootNames::for_root(berth.root()).bridge;
    assert_ne!(name, "berth0");
    let bridge = berth.ip(&["-o", "-4", "addr", "show", &name]);
    assert!(bridge.contains("172.17.0.1/16"), "{bridge}");
    let net = berth.json(&["network", "inspect", "bridge"]);
    assert_eq!(net["IPAM"]["Config"][0]["Gateway"], "172.17.0.1");
}

#[test]
fn none_has_only_loopback_and_host_sees_the_namespaces_links() {
    let berth = Berth::with_image();
    let out = berth.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        IMAGE,
        "ip",
        "-o",
        "link",
    ]);
    let names: Vec<&str> = out.lines().filter_map(|l| l.split(": ").nth(1)).collect();
    assert_eq!(names, ["lo"], "{out}");
    berth.ip(&[
        "link", "add", "uplink0", "type", "veth", "peer", "name", "uplink1",
    ]);
    let out = berth.ok(&[
        "run",
        "--rm",
        "--network",
        "host",
        IMAGE,
        "ip",
        "-o",
        "link",
    ]);
    assert!(out.contains("uplink0") && out.contains("uplink1"), "{out}");
    let info = berth.inspect(
        berth
            .ok(&["create", "--network", "host", IMAGE, "true"])
            .trim(),
    );
    assert_eq!(info["HostConfig"]["NetworkMode"], "host");
    // Docker's: on the host's network the container takes the host's name.
    let host = nix::sys::utsname::uname().unwrap();
    let host = host.nodename().to_str().unwrap();
    assert_eq!(info["Config"]["Hostname"], host);
    let inside = berth.ok(&["run", "--rm", "--network", "host", IMAGE, "hostname"]);
    assert_eq!(inside.trim(), host);
    let named = berth.ok(&[
        "run",
        "--rm",
        "--network",
        "host",
        "--hostname",
        "box",
        IMAGE,
        "hostname",
    ]);
    assert_eq!(named.trim(), "box");
}

#[test]
fn a_user_network_assigns_from_its_subnet_and_connect_and_disconnect_change_interfaces() {
    let berth = Berth::with_image();
    berth.ok(&["network", "create", "--subnet", "192.168.10.0/24", "lan"]);
    berth.ok(&["network", "create", "back"]);
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "box",
        "--network",
        "lan",
        IMAGE,
        "sleep",
        "1000",
    ]);
    let addrs = berth.ok(&["exec", "box", "ip", "-o", "-4", "addr"]);
    assert!(
        addrs.contains("eth0") && addrs.contains("inet 192.168.10.2/24"),
        "{addrs}"
    );
    assert_eq!(
        berth.inspect("box")["NetworkSettings"]["Networks"]["lan"]["IPAddress"],
        "192.168.10.2"
    );
    berth.ok(&["network", "connect", "back", "box"]);
    let addrs = berth.ok(&["exec", "box", "ip", "-o", "-4", "addr"]);
    assert!(
        addrs.contains("eth1") && addrs.contains("inet 172.18.0.2/16"),
        "{addrs}"
    );
    // The default route stays on the first network.
    let routes = berth.ok(&["exec", "box", "ip", "route"]);
    assert!(
        routes.contains("default via 192.168.10.1 dev eth0"),
        "{routes}"
    );
    berth.ok(&["network", "disconnect", "back", "box"]);
    let addrs = berth.ok(&["exec", "box", "ip", "-o", "link"]);
    assert!(!addrs.contains("eth1"), "{addrs}");
    // The host end went with it.
    let host_ends: Vec<String> = links(&berth)
        .into_iter()
        .filter(|l| l.starts_with("bv"))
        .collect();
    assert_eq!(host_ends.len(), 1, "{host_ends:?}");
    let err = berth.fail(&["network", "rm", "lan"]);
    assert!(err.contains("box"), "{err}");
}

#[test]
fn a_published_port_answers_on_loopback_and_the_namespaces_address_and_is_held() {
    let berth = Berth::with_image();
    // An address of the "host" besides loopback.
    uplink(&berth);
    serve(
        &berth,
        &["--name", "web", "-p", "8080:80"],
        "hello-from-web",
    );
    assert_eq!(
        http_get(&berth, "127.0.0.1:8080", "/index.html").as_deref(),
        Ok("hello-from-web\n")
    );
    assert_eq!(
        http_get(&berth, "10.99.0.1:8080", "/index.html").as_deref(),
        Ok("hello-from-web\n")
    );
    // From inside, through the host's address: the bridge turns it around (hairpin).
    let own = berth.ok(&[
        "exec",
        "web",
        "sh",
        "-c",
        "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 3 10.99.0.1 8080",
    ]);
    assert!(own.ends_with("hello-from-web\n"), "{own}");
    assert_eq!(berth.ok(&["port", "web"]), "80/tcp -> 0.0.0.0:8080\n");
    let ps = berth.ok(&["ps"]);
    assert!(ps.contains("0.0.0.0:8080->80/tcp"), "{ps}");
    // The same host port for a second container: a clear error at start.
    let out = berth.run(&[
        "run", "-d", "--name", "web2", "-p", "8080:80", IMAGE, "sleep", "9",
    ]);
    assert_eq!(out.status.code(), Some(125));
    let err = stderr(&out);
    assert!(
        err.contains("port 8080/tcp on 0.0.0.0 is already in use"),
        "{err}"
    );
    // -p 80: a free host port, picked at start and shown by port.
    serve(&berth, &["--name", "any", "-p", "80"], "hello-from-any");
    let line = berth.ok(&["port", "any", "80"]);
    let host_port = line.trim().rsplit(':').next().unwrap().to_owned();
    assert_eq!(
        http_get(&berth, &format!("127.0.0.1:{host_port}"), "/index.html").as_deref(),
        Ok("hello-from-any\n")
    );
}

#[test]
fn rm_and_a_killed_monitor_leave_no_veth_or_rule_behind() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run", "-d", "--name", "a", "-p", "8081:80", IMAGE, "sleep", "1000",
    ]);
    berth.ok(&[
        "run", "-d", "--name", "b", "-p", "8082:80", IMAGE, "sleep", "1000",
    ]);
    let rules = ruleset(&berth);
    assert!(
        rules.contains("tcp dport 8081") && rules.contains("tcp dport 8082"),
        "{rules}"
    );
    assert_eq!(
        links(&berth).iter().filter(|l| l.starts_with("bv")).count(),
        2
    );
    // A start that fails (the port is taken) leaves no veth and no rule for it.
    let out = berth.run(&["run", "-d", "--name", "c", "-p", "8081:80", IMAGE, "true"]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    let deadline = Instant::now() + Duration::from_secs(5);
    while links(&berth).iter().filter(|l| l.starts_with("bv")).count() != 2 {
        assert!(Instant::now() < deadline, "links: {:?}", links(&berth));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(ruleset(&berth).matches("dport 8081").count(), 1);
    berth.ok(&["rm", "-f", "a", "c"]);
    // A crash: the monitor of b killed outright. The next command notices.
    let monitor = berth.inspect("b")["State"]["Pid"].as_i64().unwrap();
    let monitor_pid = std::fs::read_to_string(format!("/proc/{monitor}/stat"))
        .unwrap()
        .split_whitespace()
        .nth(3)
        .unwrap()
        .parse::<i32>()
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(monitor_pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !berth.ok(&["ps", "-a"]).contains("Exited") {
        assert!(Instant::now() < deadline, "b never showed as exited");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Veths go with the namespaces (the kernel may take a moment).
    let deadline = Instant::now() + Duration::from_secs(5);
    while links(&berth).iter().any(|l| l.starts_with("bv")) {
        assert!(Instant::now() < deadline, "veths left: {:?}", links(&berth));
        std::thread::sleep(Duration::from_millis(50));
    }
    let rules = ruleset(&berth);
    let names = RootNames::for_root(berth.root());
    let (table, bridge) = (&names.table, &names.bridge);
    let expected = format!(
        "table inet {table} {{
\tchain guard {{
\t\ttype filter hook prerouting priority raw; policy accept;
\t\tiifname != \"lo\" ip daddr 127.0.0.0/8 drop
\t\tiifname \"{bridge}\" meta nfproto ipv6 drop
\t}}

\tchain prerouting {{
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tiifname != \"lo\" ip daddr 127.0.0.0/8 return
\t\tmeta nfproto ipv4 fib daddr type local jump published
\t}}

\tchain output {{
\t\ttype nat hook output priority -100; policy accept;
\t\tmeta nfproto ipv4 fib daddr type local jump published
\t}}

\tchain published {{
\t}}

\tchain postrouting {{
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\tip saddr 172.17.0.0/16 oifname != \"{bridge}\" masquerade
\t}}

\tchain forward {{
\t\ttype filter hook forward priority filter; policy accept;
\t\tct state established,related accept
\t\tiifname \"{bridge}\" oifname \"{bridge}\" accept
\t\toifname \"{bridge}\" drop
\t}}
}}
"
    );
    assert_eq!(rules, expected);
}

/// Polls `done` for up to 5 s; panics with `what` if it never holds.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The host ends of veths in the engine's namespace.
fn host_ends(berth: &Berth) -> Vec<String> {
    links(berth)
        .into_iter()
        .filter(|l| l.starts_with("bv"))
        .collect()
}

#[test]
fn run_rm_on_a_tiny_network_frees_its_name_address_port_and_network_as_it_returns() {
    let berth = Berth::with_image();
    // 10.66.0.2 to .6: five addresses, fewer than the runs.
    berth.ok(&["network", "create", "--subnet", "10.66.0.0/29", "tiny"]);
    for run in 0..8 {
        let out = berth.ok(&[
            "run",
            "--rm",
            "--name",
            "same",
            "--network",
            "tiny",
            "-p",
            "8090:80",
            IMAGE,
            "sh",
            "-c",
            "ip -o -4 addr show eth0; ping -c 1 -W 2 10.66.0.1 >/dev/null && echo reached",
        ]);
        // The lowest address each time, reused at once, and the last run's veth (which
        // may linger a moment with that address in its dying namespace) in nobody's way.
        assert!(out.contains("inet 10.66.0.2/29"), "run {run}: {out}");
        assert!(out.ends_with("reached\n"), "run {run}: {out}");
        // As `run --rm` returns: no container, no lease, no rule for its port.
        let err = berth.fail(&["inspect", "same"]);
        assert!(err.contains("No such"), "run {run}: {err}");
        let net = berth.json(&["network", "inspect", "tiny"]);
        assert_eq!(net["Containers"], serde_json::json!({}), "run {run}: {net}");
        let rules = ruleset(&berth);
        assert!(!rules.contains("dport 8090"), "run {run}: {rules}");
    }
    berth.ok(&["network", "rm", "tiny"]);
    eventually("a host veth outlived its container", || {
        host_ends(&berth).is_empty()
    });
}

#[test]
fn run_rm_tells_the_exit_before_it_touches_a_link_and_deletes_one_a_held_namespace_keeps() {
    let berth = Berth::with_image();
    berth.ok(&["network", "create", "--subnet", "10.67.0.0/29", "lan"]);
    let sync = tempfile::tempdir().unwrap();
    let volume = format!("{}:/sync", sync.path().display());
    let wait_for_go = "until [ -e /sync/go ]; do sleep 0.02; done";
    // A foreground `run --rm` whose container ends when told; its network namespace
    // held open here meanwhile, so the kernel can't take the veth with it.
    let start = |name: &str, crash_at: Option<&str>| {
        let mut cmd = berth.cmd();
        if let Some(point) = crash_at {
            cmd.env(berth::engine::faults::ENV, point);
        }
        let child = cmd
            .args(["run", "--rm", "--name", name, "--network", "lan"])
            .args([
                "-p",
                "8091:80",
                "-v",
                &volume,
                IMAGE,
                "sh",
                "-c",
                wait_for_go,
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn berth run");
        eventually("the container never ran", || {
            berth.run(&["inspect", name]).status.success()
                && berth.inspect(name)["State"]["Running"] == true
        });
        let id = berth.inspect(name)["Id"].as_str().unwrap().to_owned();
        let ns = std::fs::File::open(container_netns(&berth, name)).expect("hold the netns");
        let veth = format!("bv{}0", &id[..12]);
        assert!(host_ends(&berth).contains(&veth), "{veth} not made");
        (child, ns, veth)
    };

    // The monitor killed just before it deletes the veth: the client has the exit code,
    // and the name, the address and the port are free already.
    let (child, ns, veth) = start("first", Some("monitor:before-unplug"));
    std::fs::write(sync.path().join("go"), "").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(berth.fail(&["inspect", "first"]).contains("No such"));
    assert!(!ruleset(&berth).contains("dport 8091"));
    let net = berth.json(&["network", "inspect", "lan"]);
    assert_eq!(net["Containers"], serde_json::json!({}), "{net}");
    // No link was touched before that: the veth is there while its namespace is held.
    assert!(
        host_ends(&berth).contains(&veth),
        "{veth} deleted before the exit was told"
    );
    drop(ns);
    eventually("the kernel kept the veth of a dead namespace", || {
        !host_ends(&berth).contains(&veth)
    });
    std::fs::remove_file(sync.path().join("go")).unwrap();

    // Unharmed, the monitor deletes the veth itself, after the exit, though the namespace
    // is still held (by whatever holds it, the address must not stay on the bridge).
    let (child, ns, veth) = start("second", None);
    let net = berth.json(&["network", "inspect", "lan"]);
    let address = net["Containers"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()["IPv4Address"]
        .clone();
    assert_eq!(
        address, "10.67.0.2/29",
        "the first one's address, free again"
    );
    std::fs::write(sync.path().join("go"), "").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    eventually("the monitor left the veth of a held namespace", || {
        !host_ends(&berth).contains(&veth)
    });
    drop(ns);
    berth.ok(&["network", "rm", "lan"]);
    let report = berth.run(&["system", "check"]);
    assert!(report.status.success(), "{}", common::stdout(&report));
}

#[test]
fn macvlan_lands_on_its_parent_and_ipvlan_says_the_kernel_lacks_it() {
    let berth = Berth::with_image();
    // No dummy interfaces in this kernel: a veth end is the parent.
    berth.macvlan_on_a_veth("mv");
    // Its eth0 sits on lan0 (the index after the @ is the parent's).
    let parent = berth.ip(&["-o", "link", "show", "lan0"]);
    let index = parent.split(':').next().unwrap().trim().to_owned();
    let out = berth.ok(&[
        "run",
        "--rm",
        "--network",
        "mv",
        IMAGE,
        "ip",
        "-o",
        "link",
        "show",
        "eth0",
    ]);
    assert!(
        out.contains(&format!("eth0@if{index}:")),
        "{out} (lan0 is {index})"
    );
    let out = berth.ok(&[
        "run",
        "--rm",
        "--network",
        "mv",
        IMAGE,
        "ip",
        "-o",
        "-4",
        "addr",
        "show",
        "eth0",
    ]);
    assert!(out.contains("inet 10.50.0.2/24"), "{out}");
    // Back to back, each takes the address (and so the MAC) the one before gave back
    // while the kernel may still be tearing that one's namespace and link down.
    for _ in 0..8 {
        berth.ok(&["run", "--rm", "--network", "mv", IMAGE, "true"]);
    }
    berth.ok(&[
        "network",
        "create",
        "-d",
        "ipvlan",
        "--subnet",
        "10.60.0.0/24",
        "-o",
        "parent=lan0",
        "iv",
    ]);
    let out = berth.run(&["run", "--rm", "--network", "iv", IMAGE, "true"]);
    assert_eq!(out.status.code(), Some(125));
    let err = stderr(&out);
    assert!(err.contains("ipvlan") && err.lines().count() == 1, "{err}");
}

#[test]
fn twenty_concurrent_runs_get_twenty_addresses() {
    let berth = Berth::with_image();
    berth.ok(&["network", "create", "crowd"]);
    let children: Vec<_> = (0..20)
        .map(|i| {
            berth
                .cmd()
                .args([
                    "run",
                    "-d",
                    "--name",
                    &format!("c{i}"),
                    "--network",
                    "crowd",
                ])
                .args([IMAGE, "sleep", "1000"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn berth run")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait for berth run");
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let mut seen = BTreeSet::new();
    for i in 0..20 {
        let out = berth.ok(&[
            "exec",
            &format!("c{i}"),
            "ip",
            "-o",
            "-4",
            "addr",
            "show",
            "eth0",
        ]);
        let addr: Ipv4Addr = out
            .split_whitespace()
            .skip_while(|w| *w != "inet")
            .nth(1)
            .and_then(|a| a.split('/').next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {out}"));
        assert!(seen.insert(addr), "{addr} twice");
    }
    assert_eq!(seen.len(), 20);
}

/// A fake DNS server in the engine's namespace at `addr`:53 answering every A query with
/// 10.1.2.3; runs until the returned guard is dropped.
struct FakeDns {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeDns {
    fn start(berth: &Berth, addr: Ipv4Addr) -> FakeDns {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ns = std::fs::File::open(berth.netns().path()).expect("open the namespace");
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
                .expect("enter the namespace");
            let socket = std::net::UdpSocket::bind((addr, 53)).expect("bind the fake DNS");
            socket
                .set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            ready_tx.send(()).unwrap();
            let mut buf = [0u8; 512];
            while !flag.load(std::sync::atomic::Ordering::SeqCst) {
                let Ok((n, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                // The query with QR set, one answer: a pointer to its name, A, IN, 10.1.2.3.
                let mut reply = buf[..n].to_vec();
                reply[2] |= 0x80;
                reply[7] = 1;
                reply.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 1, 2, 3]);
                let _ = socket.send_to(&reply, from);
            }
        });
        ready_rx.recv().expect("the fake DNS started");
        FakeDns {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for FakeDns {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn containers_on_a_user_network_resolve_each_other_and_forward_the_rest() {
    let berth = Berth::with_image();
    // The "host's" resolver: a fake one on an address of the test's namespace.
    uplink(&berth);
    let _upstream = FakeDns::start(&berth, Ipv4Addr::new(10, 99, 0, 1));
    berth.ok(&["network", "create", "my-first-network"]);
    for (name, alias) in [("alpine1", "db"), ("alpine2", "web")] {
        berth.ok(&[
            "run",
            "-d",
            "--name",
            name,
            "--network",
            "my-first-network",
            "--network-alias",
            alias,
            "--dns",
            "10.99.0.1",
            IMAGE,
            "sleep",
            "1000",
        ]);
    }
    let resolv = berth.ok(&["exec", "alpine1", "cat", "/etc/resolv.conf"]);
    assert!(resolv.contains("nameserver 127.0.0.11"), "{resolv}");
    for target in ["alpine2", "web", "ALPINE2"] {
        let out = berth.ok(&["exec", "alpine1", "ping", "-c", "1", "-W", "2", target]);
        assert!(out.contains("from 172.18.0.3"), "{target}: {out}");
    }
    let out = berth.ok(&["exec", "alpine2", "nslookup", "db"]);
    assert!(out.contains("Address: 172.18.0.2"), "{out}");
    // Not berth's: forwarded to the upstream, its answer relayed.
    let out = berth.ok(&["exec", "alpine2", "nslookup", "example.test"]);
    assert!(out.contains("Address: 10.1.2.3"), "{out}");
    // A stopped container's name no longer resolves.
    berth.ok(&["stop", "-t", "0", "alpine1"]);
    let out = berth.run(&["exec", "alpine2", "ping", "-c", "1", "-W", "1", "db"]);
    assert!(!out.status.success());
    // The default bridge resolves no names, as in Docker.
    let out = berth.run(&[
        "run", "--rm", IMAGE, "ping", "-c", "1", "-W", "1", "alpine2",
    ]);
    assert!(stderr(&out).contains("bad address"), "{}", stderr(&out));
}

#[test]
fn publish_all_puts_every_exposed_port_on_a_free_host_port() {
    let berth = Berth::with_image();
    berth.load_fixture("busybox-volume.tar");
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "all",
        "-P",
        "berth-test/volume",
        "sleep",
        "1000",
    ]);
    let lines = berth.ok(&["port", "all"]);
    let lines: Vec<&str> = lines.lines().collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("53/udp -> 0.0.0.0:"), "{lines:?}");
    assert!(lines[1].starts_with("80/tcp -> 0.0.0.0:"), "{lines:?}");
    let info = berth.inspect("all");
    let ports = &info["NetworkSettings"]["Ports"];
    assert!(ports["80/tcp"][0]["HostPort"]
        .as_str()
        .unwrap()
        .parse::<u16>()
        .is_ok());
    // On the host's network nothing is published: the ports are the host's already.
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "h",
        "--network",
        "host",
        "-P",
        "berth-test/volume",
        "sleep",
        "1000",
    ]);
    assert_eq!(berth.ok(&["port", "h"]), "");
}

/// The image's EXPOSE, `--expose` and `-p` make Config.ExposedPorts; while the container
/// runs, `ps` lists them as Docker groups them and NetworkSettings.Ports has each, null
/// where unpublished; `-P` publishes the `--expose` ones too.
#[test]
fn exposed_ports_show_in_ps_and_inspect_as_docker() {
    let berth = Berth::with_image();
    berth.load_fixture("busybox-volume.tar");
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--expose",
        "8000-8001",
        "-p",
        "8080:80",
        "berth-test/volume",
        "sleep",
        "1000",
    ]);
    let ports = berth.ok(&["ps", "--format", "{{.Ports}}"]);
    assert_eq!(ports.trim(), "53/udp, 8000-8001/tcp, 0.0.0.0:8080->80/tcp");
    let info = berth.inspect("web");
    let keys = ["53/udp", "80/tcp", "8000/tcp", "8001/tcp"];
    let exposed = info["Config"]["ExposedPorts"].as_object().unwrap();
    assert_eq!(exposed.keys().collect::<Vec<_>>(), keys, "{exposed:?}");
    let published = &info["NetworkSettings"]["Ports"];
    assert_eq!(published["80/tcp"][0]["HostPort"], "8080");
    for key in ["53/udp", "8000/tcp", "8001/tcp"] {
        assert!(published[key].is_null(), "{key}: {published}");
    }
    berth.ok(&["stop", "-t", "0", "web"]);
    assert_eq!(berth.ok(&["ps", "-a", "--format", "{{.Ports}}"]).trim(), "");

    berth.ok(&[
        "run",
        "-d",
        "--name",
        "all",
        "--expose",
        "7000/udp",
        "-P",
        "berth-test/volume",
        "sleep",
        "1000",
    ]);
    let lines = berth.ok(&["port", "all"]);
    let published: Vec<&str> = lines
        .lines()
        .map(|l| l.split(" -> ").next().unwrap())
        .collect();
    assert_eq!(published, ["53/udp", "80/tcp", "7000/udp"], "{lines}");

    let out = berth.run(&["create", "--expose", "80/sctp", IMAGE, "true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("invalid exposed port \"80/sctp\": unknown protocol"),
        "{}",
        stderr(&out)
    );
    assert_eq!(berth.ok(&["ps", "-aq"]).lines().count(), 2);
}

#[test]
fn system_prune_removes_unused_networks_and_their_bridges() {
    let berth = Berth::with_image();
    berth.ok(&["network", "create", "used"]);
    berth.ok(&["network", "create", "gone"]);
    // gone's bridge exists once a container started on it.
    berth.ok(&["run", "--rm", "--network", "gone", IMAGE, "true"]);
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "keeper",
        "--network",
        "used",
        IMAGE,
        "sleep",
        "1000",
    ]);
    let gone = berth.json(&["network", "inspect", "gone"])["Berth"]["Bridge"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(links(&berth).contains(&gone), "{gone} not made");
    let out = berth.ok(&["system", "prune", "-f"]);
    assert!(out.contains("Deleted Networks:\ngone\n\n"), "{out}");
    assert!(!links(&berth).contains(&gone), "{gone} left behind");
    let names = berth.ok(&["network", "ls"]);
    assert!(names.contains(" used "), "{names}");
}

#[test]
fn rename_changes_the_name_containers_resolve() {
    let berth = Berth::with_image();
    berth.ok(&["network", "create", "app"]);
    for name in ["api", "client"] {
        berth.ok(&[
            "run",
            "-d",
            "--name",
            name,
            "--network",
            "app",
            IMAGE,
            "sleep",
            "1000",
        ]);
    }
    berth.ok(&["rename", "api", "backend"]);
    let out = berth.ok(&["exec", "client", "nslookup", "backend"]);
    assert!(out.contains("Address: 172.18.0.2"), "{out}");
    let ps = berth.ok(&["ps", "--format", "json"]);
    assert!(
        ps.contains("\"Names\":\"backend\"") && !ps.contains("\"api\""),
        "{ps}"
    );
    let net = berth.json(&["network", "inspect", "app"]);
    let names: Vec<&str> = net["Containers"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["Name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"backend") && !names.contains(&"api"),
        "{names:?}"
    );
    // Taken, invalid and unknown names: one line each, nothing changed.
    let err = berth.fail(&["rename", "backend", "client"]);
    assert!(err.contains("\"client\" is already in use"), "{err}");
    let err = berth.fail(&["rename", "backend", "no/slash"]);
    assert!(err.contains("invalid container name"), "{err}");
    let err = berth.fail(&["rename", "nosuch", "x"]);
    assert!(err.contains("nosuch"), "{err}");
    assert!(berth.ok(&["ps"]).contains("backend"));
}

/// The network namespace of a running container (its init's).
fn container_netns(berth: &Berth, name: &str) -> PathBuf {
    let pid = berth.inspect(name)["State"]["Pid"].as_i64().expect("a pid");
    PathBuf::from(format!("/proc/{pid}/ns/net"))
}

/// `sh -c script` in the network namespace at `ns` (iproute2 and /proc/sys/net there);
/// asserts it succeeded.
fn sh_in(ns: &Path, script: &str) -> String {
    let out = std::process::Command::new("/usr/bin/nsenter")
        .arg(format!("--net={}", ns.display()))
        .args(["--", "sh", "-c", script])
        .output()
        .expect("run nsenter");
    assert!(out.status.success(), "{script}: {}", stderr(&out));
    common::stdout(&out)
}

/// Makes the namespace at `ns` send what it addresses to 127.0.0.0/8 out of `ifname` to
/// `gateway`, and take answers from 127.0.0.1 there: the frames a container with
/// CAP_NET_RAW (every default container) can send and read with a raw socket.
fn aim_loopback_at(ns: &Path, ifname: &str, gateway: &str) {
    sh_in(
        ns,
        &format!(
            "ip addr del 127.0.0.1/8 dev lo && ip route add 127.0.0.0/8 via {gateway} dev {ifname} \
             && echo 1 > /proc/sys/net/ipv4/conf/{ifname}/route_localnet"
        ),
    );
    let route = sh_in(ns, "ip route get 127.0.0.1");
    assert!(
        route.contains(&format!("via {gateway} dev {ifname}")),
        "the probe would not leave by {ifname}: {route}"
    );
}

/// A TCP connection (just the handshake) to `addr` from the namespace at `ns`.
fn connect_from(ns: &Path, addr: &str) -> std::io::Result<()> {
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    in_ns(ns, || {
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map(drop)
    })
}

/// A datagram saying `text` to `addr` from the namespace at `ns`.
fn send_udp_from(ns: &Path, addr: &str, text: &str) {
    in_ns(ns, || {
        let socket = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
        socket.send_to(text.as_bytes(), addr).unwrap();
    })
}

fn gateway_of(berth: &Berth, network: &str) -> String {
    let info = berth.json(&["network", "inspect", network]);
    info["IPAM"]["Config"][0]["Gateway"]
        .as_str()
        .expect("a gateway")
        .to_owned()
}

/// CVE-2020-8558 and moby#41872: berth turns route_localnet on for its bridges (a port
/// published on 127.0.0.1 needs it), so a container that sends frames for 127.0.0.1 to
/// its gateway reached the host's 127.0.0.1-only services, and a port published on
/// 127.0.0.1 was reachable from containers of any network and from a LAN neighbour
/// routing 127.0.0.1 to the host. Only the host itself may reach either.
#[test]
fn loopback_services_and_ports_published_on_127_0_0_1_stay_the_hosts_own() {
    let berth = Berth::with_image();
    // The host's services on 127.0.0.1 only; a completed handshake would wait in the
    // listener's queue, a datagram in the socket's.
    let (service, datagrams) = in_netns(&berth, || {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        tcp.set_nonblocking(true).unwrap();
        udp.set_nonblocking(true).unwrap();
        (tcp, udp)
    });
    let tcp_addr = service.local_addr().unwrap().to_string();
    let udp_addr = datagrams.local_addr().unwrap().to_string();
    berth.ok(&["network", "create", "app"]);
    serve(
        &berth,
        &["--name", "web", "-p", "127.0.0.1:8080:80"],
        "hello-local",
    );
    for (name, network) in [("plain", "bridge"), ("other", "app")] {
        berth.ok(&[
            "run",
            "-d",
            "--name",
            name,
            "--network",
            network,
            IMAGE,
            "sleep",
            "1000",
        ]);
    }
    // A LAN neighbour (10.98.0.2) routing 127.0.0.0/8 to the host's 10.98.0.1.
    let neighbour = common::NetNs::new();
    berth.ip(&[
        "link",
        "add",
        "lan0",
        "type",
        "veth",
        "peer",
        "name",
        "lan1",
        "netns",
        neighbour.path().to_str().unwrap(),
    ]);
    berth.ip(&["addr", "add", "10.98.0.1/24", "dev", "lan0"]);
    berth.ip(&["link", "set", "lan0", "up"]);
    sh_in(
        &neighbour.path(),
        "ip addr add 10.98.0.2/24 dev lan1 && ip link set lan1 up",
    );
    assert_eq!(
        http_get(&berth, "127.0.0.1:8080", "/index.html").as_deref(),
        Ok("hello-local\n"),
        "the host reaches its port published on 127.0.0.1"
    );

    let probes = [
        (
            "a container on the default bridge",
            container_netns(&berth, "plain"),
            "eth0",
            gateway_of(&berth, "bridge"),
        ),
        (
            "a container on another network",
            container_netns(&berth, "other"),
            "eth0",
            gateway_of(&berth, "app"),
        ),
        (
            "a LAN neighbour",
            neighbour.path(),
            "lan1",
            "10.98.0.1".to_owned(),
        ),
    ];
    // Every breach is collected, so a failure shows all of them.
    let mut breaches = Vec::new();
    for (who, ns, ifname, gateway) in &probes {
        aim_loopback_at(ns, ifname, gateway);
        for (what, target) in [
            ("the TCP service", tcp_addr.as_str()),
            ("the port published on 127.0.0.1", "127.0.0.1:8080"),
        ] {
            if connect_from(ns, target).is_ok() {
                breaches.push(format!("{who} reached {what} ({target})"));
            }
        }
        send_udp_from(ns, &udp_addr, who);
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut buf = [0u8; 64];
    while let Ok((n, _)) = datagrams.recv_from(&mut buf) {
        let who = String::from_utf8_lossy(&buf[..n]).into_owned();
        breaches.push(format!("{who} reached the UDP service"));
    }
    while let Ok((_, peer)) = service.accept() {
        breaches.push(format!(
            "a handshake from {peer} completed with the TCP service"
        ));
    }
    assert!(breaches.is_empty(), "{breaches:#?}");
    assert_eq!(
        http_get(&berth, "127.0.0.1:8080", "/index.html").as_deref(),
        Ok("hello-local\n"),
        "the host still reaches its port published on 127.0.0.1"
    );
}

/// Sends a router advertisement for 2001:db8:1::/64 (SLAAC, default route) out of the
/// interface given, from a link-local router, over a raw packet socket.
const SEND_RA: &str = r#"
import socket, struct, sys, time
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
src = bytes.fromhex('fe800000000000000000000000000099')
dst = bytes.fromhex('ff020000000000000000000000000001')
prefix = struct.pack('!BBBBIII16s', 3, 4, 64, 0xc0, 86400, 14400, 0,
                     bytes.fromhex('20010db8000100000000000000000000'))
ra = struct.pack('!BBHBBHII', 134, 0, 0, 64, 0, 1800, 0, 0) + prefix
pseudo = src + dst + struct.pack('!I3xB', len(ra), 58)
ra = ra[:2] + struct.pack('!H', csum(pseudo + ra)) + ra[4:]
ip6 = struct.pack('!IHBB', 0x60000000, len(ra), 58, 255) + src + dst
eth = bytes.fromhex('333300000001') + bytes.fromhex('02420000aa99') + b'\x86\xdd'
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for _ in range(8):
    s.send(eth + ip6 + ra)
    time.sleep(0.4)
"#;

/// CVE-2020-13401: berth's networks are IPv4 only, yet IPv6 was on with accept_ra=1 on
/// the bridge and the containers' interfaces, so a container's router advertisement
/// gave the host an address and a default route. IPv6 is off on the bridge, the host
/// end and the container's interface, and an RA changes nothing.
#[test]
fn ipv6_is_off_on_bridges_and_veths_and_a_containers_router_advertisement_changes_nothing() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "c", IMAGE, "sleep", "1000"]);
    let bridge = berth.json(&["network", "inspect", "bridge"])["Berth"]["Bridge"]
        .as_str()
        .unwrap()
        .to_owned();
    let host_end = links(&berth)
        .into_iter()
        .find(|l| l.starts_with("bv"))
        .expect("the container's host end");
    let host = berth.netns().path();
    // Every finding is collected, so a failure shows all of them.
    let mut found = Vec::new();
    for ifname in [&bridge, &host_end] {
        let conf = sh_in(
            &host,
            &format!("cd /proc/sys/net/ipv6/conf/{ifname} && cat disable_ipv6 accept_ra"),
        );
        if conf != "1\n0\n" {
            found.push(format!("{ifname}: disable_ipv6, accept_ra = {conf:?}"));
        }
        let addrs = berth.ip(&["-6", "addr", "show", "dev", ifname]);
        if !addrs.is_empty() {
            found.push(format!("{ifname} has IPv6 addresses: {addrs}"));
        }
    }
    let conf = berth.ok(&[
        "exec",
        "c",
        "sh",
        "-c",
        "cd /proc/sys/net/ipv6/conf/eth0 && cat disable_ipv6 accept_ra",
    ]);
    if conf != "1\n0\n" {
        found.push(format!(
            "the container's eth0: disable_ipv6, accept_ra = {conf:?}"
        ));
    }
    let container = container_netns(&berth, "c");
    let out = std::process::Command::new("/usr/bin/nsenter")
        .arg(format!("--net={}", container.display()))
        .args(["--", "python3", "-c", SEND_RA, "eth0"])
        .output()
        .expect("run python3");
    assert!(out.status.success(), "sending the RA: {}", stderr(&out));
    std::thread::sleep(Duration::from_millis(500));
    let addrs = berth.ip(&["-6", "addr"]);
    if addrs.contains("2001:db8") {
        found.push(format!("the RA gave the host an address: {addrs}"));
    }
    let routes = berth.ip(&["-6", "route"]);
    if routes.contains("2001:db8") || routes.contains("default") {
        found.push(format!("the RA gave the host a route: {routes}"));
    }
    assert!(found.is_empty(), "{found:#?}");
}

/// Two engine roots on one host: each has its own bridge and table, so neither adds
/// its subnet to the other's bridge, and `network rm`/`prune` in one (even one that
/// never started a container) leaves the other's NAT and published ports alone.
#[test]
fn two_roots_in_one_namespace_keep_their_own_bridges_and_rules() {
    let first = Berth::with_image();
    let second = Berth::beside(&first);
    serve(&first, &["--name", "a", "-p", "8080:80"], "hello-first");
    serve(&second, &["--name", "b", "-p", "8081:80"], "hello-second");
    let bridge_of = |berth: &Berth| {
        berth.json(&["network", "inspect", "bridge"])["Berth"]["Bridge"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (one, two) = (bridge_of(&first), bridge_of(&second));
    // Every finding is collected, so a failure shows all of them.
    let mut found = Vec::new();
    if one == two {
        found.push(format!("both roots use bridge {one}"));
    }
    for (berth, bridge) in [(&first, &one), (&second, &two)] {
        let subnet = berth.json(&["network", "inspect", "bridge"])["IPAM"]["Config"][0]["Subnet"]
            .as_str()
            .unwrap()
            .to_owned();
        let prefix = subnet.split('/').nth(1).unwrap();
        let want = format!("inet {}/{prefix} ", gateway_of(berth, "bridge"));
        let addrs = first.ip(&["-o", "-4", "addr", "show", "dev", bridge]);
        if addrs.lines().count() != 1 || !addrs.contains(&want) {
            found.push(format!("{bridge} should carry only {want}: {addrs}"));
        }
    }
    // A third root that never started a container, and the second one, remove networks.
    let third = Berth::beside(&first);
    third.ok(&["network", "create", "scratch"]);
    third.ok(&["network", "rm", "scratch"]);
    // One naming the first root's bridge: its rm must not delete what it never made.
    let squat = format!("com.docker.network.bridge.name={one}");
    third.ok(&["network", "create", "-o", &squat, "squatter"]);
    third.ok(&["network", "rm", "squatter"]);
    if !links(&first).contains(&one) {
        found.push(format!("another root's network rm deleted {one}"));
    }
    second.ok(&["network", "create", "idle"]);
    second.ok(&["network", "create", "spare"]);
    second.ok(&["run", "--rm", "--network", "spare", IMAGE, "true"]);
    second.ok(&["network", "rm", "idle"]);
    let pruned = second.ok(&["network", "prune", "-f"]);
    assert!(pruned.contains("spare"), "{pruned}");
    for (addr, body) in [
        ("127.0.0.1:8080", "hello-first\n"),
        ("127.0.0.1:8081", "hello-second\n"),
    ] {
        let got = http_get(&first, addr, "/index.html");
        if got.as_deref() != Ok(body) {
            found.push(format!("{addr} after the others removed networks: {got:?}"));
        }
    }
    let rules = ruleset(&first);
    for port in [8080, 8081] {
        if !rules.contains(&format!("tcp dport {port} dnat ip to")) {
            found.push(format!("the rule publishing {port} is gone"));
        }
    }
    // The second root's last container going leaves the first's bridge and port.
    second.ok(&["rm", "-f", "b"]);
    if !links(&first).contains(&one) {
        found.push(format!("{one} went with the other root's container"));
    }
    let got = http_get(&first, "127.0.0.1:8080", "/index.html");
    if got.as_deref() != Ok("hello-first\n") {
        found.push(format!("8080 after the other root's rm: {got:?}"));
    }
    assert!(found.is_empty(), "{found:#?}");
}
