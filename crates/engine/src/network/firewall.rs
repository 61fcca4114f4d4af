//! One engine root's nftables table (`table inet berth` for the default root, see
//! [`super::names`]): outbound NAT, published ports, isolation between networks, and the
//! guard against packets no container may send. It is always regenerated whole from a
//! [`FirewallPlan`] and replaced in one atomic `nft -f -` batch, never edited rule by
//! rule, so what is loaded is exactly what the plan says, also after a crash or a host
//! firewall reload.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ipnet::Ipv4Net;

use super::names::DEFAULT_TABLE;
use super::ports::{PortMapping, Proto};
use crate::error::{Context, Error, Result};

/// The name of one root's table, in family `inet`: letters, digits and '_', so it goes
/// into nft's text as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table(String);

/// Longest table name accepted (nft allows more; berth's are at most 14).
const MAX_TABLE: usize = 32;

impl Table {
    pub fn named(name: &str) -> Result<Table> {
        let plain = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        let starts = name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
        if !plain || !starts || name.len() > MAX_TABLE {
            return Err(Error::invalid(
                "nftables table name",
                name,
                format!("use a letter, then up to {MAX_TABLE} letters, digits or '_'"),
            ));
        }
        Ok(Table(name.to_owned()))
    }

    /// The table of the engine at `root`.
    pub fn for_root(root: &Path) -> Result<Table> {
        Table::named(&super::names::RootNames::for_root(root).table)
    }

    pub fn name(&self) -> &str {
        &self.0
    }
}

impl Default for Table {
    fn default() -> Table {
        Table(DEFAULT_TABLE.to_owned())
    }
}

impl std::fmt::Display for Table {
    /// As nft spells it: `inet berth`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "inet {}", self.0)
    }
}

/// Everything the table must express; the renderer sorts it, so the order given does not
/// matter and the same plan always renders the same text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FirewallPlan {
    pub table: Table,
    pub networks: Vec<NetRule>,
    pub ports: Vec<PortRule>,
}

/// One bridge network.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NetRule {
    pub bridge: String,
    pub subnet: Ipv4Net,
    /// No traffic leaves or enters the bridge (`network create --internal`).
    pub internal: bool,
}

/// One published port of one container. `host_ip: None` is every host address.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PortRule {
    pub bridge: String,
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub container_ip: Ipv4Addr,
    pub container_port: u16,
    pub proto: Proto,
}

impl PortRule {
    /// The rule for one held mapping of a container at `container_ip` on `bridge`.
    pub(crate) fn for_mapping(
        bridge: &str,
        container_ip: Ipv4Addr,
        mapping: &PortMapping,
    ) -> PortRule {
        PortRule {
            bridge: bridge.to_owned(),
            host_ip: mapping.host_ip,
            host_port: mapping.host_port,
            container_ip,
            container_port: mapping.container_port,
            proto: mapping.proto,
        }
    }
}

impl FirewallPlan {
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty() && self.ports.is_empty()
    }
}

/// Declaring the table first makes the delete succeed whether or not it exists; both run
/// in the same transaction as what follows, so no packet ever sees a half-made table.
fn replace_preamble(table: &Table) -> String {
    format!("table {table} {{}}\ndelete table {table}\n")
}

/// Renders the batch that atomically replaces the table with the plan's.
pub(crate) fn render(plan: &FirewallPlan) -> Result<String> {
    let mut networks = plan.networks.clone();
    networks.sort();
    let mut ports = plan.ports.clone();
    ports.sort_by_key(|p| {
        (
            p.host_port,
            p.proto,
            p.host_ip,
            p.container_ip,
            p.container_port,
        )
    });
    validate(&networks, &ports)?;

    let mut out = replace_preamble(&plan.table);
    let _ = writeln!(out, "table {} {{", plan.table);
    // Before conntrack and NAT (raw priority), what no container or neighbour may send.
    // Loopback addresses from anywhere but lo: berth sets route_localnet on its bridges
    // (publishing on 127.0.0.1 needs it), which would otherwise let a container reach the
    // host's 127.0.0.1-only services (CVE-2020-8558), and DNAT a neighbour's packet for
    // 127.0.0.1 onto a port published on 127.0.0.1 only. Replies to the host's own
    // 127.0.0.1 connections arrive for the bridge's address, NATed back only later.
    base_chain(&mut out, "guard", "filter hook prerouting priority -300");
    rule(&mut out, "iifname != \"lo\" ip daddr 127.0.0.0/8 drop");
    // berth's networks are IPv4 only: no router advertisement or other IPv6 from a
    // container reaches the host (CVE-2020-13401), should IPv6 come back on a bridge.
    for n in &networks {
        rule(
            &mut out,
            &format!("iifname \"{}\" meta nfproto ipv6 drop", n.bridge),
        );
    }
    out.push_str("\t}\n");
    // Only IPv4 is published; the fib match limits DNAT to traffic for this host's own
    // addresses (127.0.0.1 included), as Docker's DOCKER chain does. Loopback addresses
    // are published to the host's own connections only (the output hook, or lo).
    base_chain(&mut out, "prerouting", "nat hook prerouting priority -100");
    rule(&mut out, "iifname != \"lo\" ip daddr 127.0.0.0/8 return");
    rule(
        &mut out,
        "meta nfproto ipv4 fib daddr type local jump published",
    );
    out.push_str("\t}\n");
    base_chain(&mut out, "output", "nat hook output priority -100");
    rule(
        &mut out,
        "meta nfproto ipv4 fib daddr type local jump published",
    );
    out.push_str("\t}\n");

    out.push_str("\tchain published {\n");
    for p in &ports {
        let daddr = p
            .host_ip
            .map(|ip| format!("ip daddr {ip} "))
            .unwrap_or_default();
        rule(
            &mut out,
            &format!(
                "{daddr}{} dport {} dnat ip to {}:{}",
                p.proto, p.host_port, p.container_ip, p.container_port
            ),
        );
    }
    out.push_str("\t}\n");

    base_chain(&mut out, "postrouting", "nat hook postrouting priority 100");
    for n in networks.iter().filter(|n| !n.internal) {
        rule(
            &mut out,
            &format!(
                "ip saddr {} oifname != \"{}\" masquerade",
                n.subnet, n.bridge
            ),
        );
    }
    for n in networks
        .iter()
        .filter(|n| ports.iter().any(|p| p.bridge == n.bridge))
    {
        // 127.0.0.1:PORT DNATed onto the bridge: the container cannot answer 127.0.0.1.
        rule(
            &mut out,
            &format!(
                "oifname \"{}\" ip saddr 127.0.0.0/8 ct status dnat masquerade",
                n.bridge
            ),
        );
        // Hairpin: a container reaching a published port of its own bridge would get the
        // reply straight from its neighbour, bypassing the DNAT it must be undone by.
        rule(
            &mut out,
            &format!(
                "oifname \"{}\" ip saddr {} ct status dnat masquerade",
                n.bridge, n.subnet
            ),
        );
    }
    out.push_str("\t}\n");

    base_chain(&mut out, "forward", "filter hook forward priority 0");
    rule(&mut out, "ct state established,related accept");
    for n in &networks {
        rule(
            &mut out,
            &format!("iifname \"{0}\" oifname \"{0}\" accept", n.bridge),
        );
    }
    for n in networks.iter().filter(|n| n.internal) {
        rule(&mut out, &format!("iifname \"{}\" drop", n.bridge));
        rule(&mut out, &format!("oifname \"{}\" drop", n.bridge));
    }
    for p in &ports {
        rule(
            &mut out,
            &format!(
                "oifname \"{}\" ip daddr {} {} dport {} ct status dnat accept",
                p.bridge, p.container_ip, p.proto, p.container_port
            ),
        );
    }
    // Nothing else enters a network: not another berth network (Docker's isolation), nor
    // a host that routes to the subnet directly, bypassing the published ports.
    for n in networks.iter().filter(|n| !n.internal) {
        rule(&mut out, &format!("oifname \"{}\" drop", n.bridge));
    }
    out.push_str("\t}\n}\n");
    Ok(out)
}

fn base_chain(out: &mut String, name: &str, hook: &str) {
    let _ = writeln!(out, "\tchain {name} {{\n\t\ttype {hook}; policy accept;");
}

fn rule(out: &mut String, text: &str) {
    let _ = writeln!(out, "\t\t{text}");
}

/// Names go into nft's text verbatim, so anything but an interface name is refused before
/// it could change the meaning of the batch.
fn validate(networks: &[NetRule], ports: &[PortRule]) -> Result<()> {
    for pair in networks.windows(2) {
        if pair[0].bridge == pair[1].bridge {
            return Err(Error::invalid(
                "firewall plan",
                &pair[0].bridge,
                "bridge is in the plan twice",
            ));
        }
    }
    for n in networks {
        super::link::check_ifname(&n.bridge)?;
    }
    for p in ports {
        if !networks.iter().any(|n| n.bridge == p.bridge) {
            return Err(Error::invalid(
                "firewall plan",
                format!("{}/{}", p.host_port, p.proto),
                format!(
                    "published on bridge {:?}, which no network of the plan has",
                    p.bridge
                ),
            ));
        }
        if p.host_port == 0 || p.container_port == 0 {
            return Err(Error::invalid(
                "firewall plan",
                format!("{}:{}/{}", p.host_port, p.container_port, p.proto),
                "port 0 cannot be published",
            ));
        }
    }
    Ok(())
}

/// Loads the plan's table, replacing that table as loaded, in one transaction; other
/// roots' tables are not touched. An empty plan removes the table.
pub(crate) fn apply(plan: &FirewallPlan) -> Result<()> {
    if plan.is_empty() {
        return remove(&plan.table);
    }
    run_nft(&plan.table, &render(plan)?)
}

/// Deletes `table`; no error when it is not there.
pub fn remove(table: &Table) -> Result<()> {
    run_nft(table, &replace_preamble(table))
}

/// nft's diagnostics are kept up to this many bytes; the rest is read and dropped so nft
/// never blocks on a full pipe.
const NFT_OUTPUT_CAP: u64 = 16 * 1024;

/// Runs `nft -f -` with `batch` on stdin; a failure carries nft's own message on one line.
fn run_nft(table: &Table, batch: &str) -> Result<()> {
    let nft = nft_path();
    let mut child = Command::new(&nft)
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context(|| format!("run {} (is nftables installed?)", nft.display()))?;
    let mut stdin = child.stdin.take();
    let mut stderr = child.stderr.take();
    // Written from a second thread: nft may report an error before it read everything.
    let (written, diagnostics) = std::thread::scope(|scope| {
        let writer = scope.spawn(move || match stdin.take() {
            Some(mut pipe) => pipe.write_all(batch.as_bytes()),
            None => Ok(()),
        });
        let mut text = Vec::new();
        if let Some(pipe) = stderr.as_mut() {
            let _ = pipe.take(NFT_OUTPUT_CAP).read_to_end(&mut text);
            let _ = std::io::copy(pipe, &mut std::io::sink());
        }
        (writer.join(), text)
    });
    let status = child
        .wait()
        .context(|| format!("wait for {}", nft.display()))?;
    if !status.success() {
        return Err(Error::Runtime(format!(
            "nft could not load table {table}: {}",
            one_line(&String::from_utf8_lossy(&diagnostics), status)
        )));
    }
    match written {
        Ok(result) => result.context(|| format!("write the ruleset to {}", nft.display())),
        Err(_) => Err(Error::Runtime("the thread feeding nft panicked".into())),
    }
}

/// nft prints the error, the offending line and a caret line; the error lines say it.
fn one_line(diagnostics: &str, status: std::process::ExitStatus) -> String {
    let lines: Vec<&str> = diagnostics
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let errors: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.contains("Error"))
        .collect();
    let chosen = if errors.is_empty() { lines } else { errors };
    let text = chosen.join("; ");
    if text.is_empty() {
        return format!("nft exited with {status}");
    }
    text.chars().take(500).collect()
}

/// `nft` from PATH, else where distributions install it (root's PATH may lack sbin).
fn nft_path() -> PathBuf {
    let in_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("nft"))
            .find(|candidate| candidate.is_file())
    });
    in_path
        .or_else(|| {
            ["/usr/sbin/nft", "/sbin/nft"]
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| PathBuf::from("nft"))
}

/// Writes `value` to a sysctl file (in the calling thread's network namespace for
/// /proc/sys/net), only when it holds something else.
pub(crate) fn write_sysctl(path: &Path, value: &str) -> Result<()> {
    let current = std::fs::read_to_string(path).context(|| format!("read {}", path.display()))?;
    if current.trim() == value {
        return Ok(());
    }
    std::fs::write(path, value).context(|| format!("write {value} to {}", path.display()))
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::network::driver::bridge::{enable_ip_forward, enable_route_localnet};
    use crate::network::ports::{parse_publish, PortHolder};
    use crate::network::testns::{in_netns, sh, NsThread};

    fn net(bridge: &str, subnet: &str, internal: bool) -> NetRule {
        NetRule {
            bridge: bridge.into(),
            subnet: subnet.parse().unwrap(),
            internal,
        }
    }

    fn port(
        bridge: &str,
        host: (Option<&str>, u16),
        container: (&str, u16),
        proto: Proto,
    ) -> PortRule {
        PortRule {
            bridge: bridge.into(),
            host_ip: host.0.map(|ip| ip.parse().unwrap()),
            host_port: host.1,
            container_ip: container.0.parse().unwrap(),
            container_port: container.1,
            proto,
        }
    }

    fn default_bridge_plan() -> FirewallPlan {
        FirewallPlan {
            table: Table::default(),
            networks: vec![net("berth0", "172.17.0.0/16", false)],
            ports: vec![
                port(
                    "berth0",
                    (Some("127.0.0.1"), 5353),
                    ("172.17.0.2", 53),
                    Proto::Udp,
                ),
                port("berth0", (None, 8080), ("172.17.0.2", 80), Proto::Tcp),
            ],
        }
    }

    #[test]
    fn renders_the_default_bridge_with_published_ports() {
        insta::assert_snapshot!(render(&default_bridge_plan()).unwrap());
    }

    #[test]
    fn renders_isolated_and_internal_networks() {
        let plan = FirewallPlan {
            table: Table::default(),
            networks: vec![
                net("br-b2c3d4e5f6a7", "172.18.0.0/16", false),
                net("br-a1b2c3d4e5f6", "192.168.10.0/24", true),
            ],
            ports: vec![],
        };
        insta::assert_snapshot!(render(&plan).unwrap());
    }

    #[test]
    fn rendering_ignores_the_order_of_the_plan() {
        let mut plan = default_bridge_plan();
        plan.networks.push(net("br-x", "10.5.0.0/24", true));
        let first = render(&plan).unwrap();
        plan.networks.reverse();
        plan.ports.reverse();
        assert_eq!(render(&plan).unwrap(), first);
    }

    #[test]
    fn refuses_plans_that_could_inject_or_dangle() {
        let mut injected = default_bridge_plan();
        injected.networks[0].bridge = "b0\" accept; flush ruleset #".into();
        let err = render(&injected).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid interface name \"b0\\\" accept;"),
            "{err}"
        );

        let mut dangling = default_bridge_plan();
        dangling.ports[0].bridge = "br-gone".into();
        let err = render(&dangling).unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid firewall plan \"5353/udp\": published on bridge \"br-gone\", which no network of the plan has"
        );

        let mut twice = default_bridge_plan();
        twice.networks.push(net("berth0", "10.0.0.0/8", false));
        let err = render(&twice).unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid firewall plan \"berth0\": bridge is in the plan twice"
        );

        for name in ["", "a-name-longer-than-15", "..", "br 0", "br/0"] {
            assert!(
                crate::network::link::check_ifname(name).is_err(),
                "{name:?}"
            );
        }
    }

    fn list_table() -> String {
        sh("nft list table inet berth")
    }

    #[test]
    fn apply_loads_replaces_and_remove_is_idempotent() {
        in_netns(|| {
            assert_eq!(
                sh("nft list ruleset"),
                "",
                "a fresh namespace has no ruleset"
            );
            remove(&Table::default()).expect("remove with no table");
            apply(&default_bridge_plan()).expect("apply");
            let loaded = list_table();
            for chain in [
                "prerouting",
                "output",
                "published",
                "postrouting",
                "forward",
            ] {
                assert!(
                    loaded.contains(&format!("chain {chain} {{")),
                    "{chain}: {loaded}"
                );
            }
            assert!(
                loaded.contains("tcp dport 8080 dnat ip to 172.17.0.2:80"),
                "{loaded}"
            );

            apply(&default_bridge_plan()).expect("apply again");
            assert_eq!(
                list_table(),
                loaded,
                "a second apply replaces, never appends"
            );
            assert_eq!(sh("nft list tables"), "table inet berth\n");

            let mut fewer = default_bridge_plan();
            fewer.ports.truncate(1);
            apply(&fewer).expect("apply a smaller plan");
            let now = list_table();
            assert!(!now.contains("dport 8080"), "an old rule survived: {now}");
            assert!(now.contains("udp dport 5353"), "{now}");

            remove(&Table::default()).expect("remove");
            assert_eq!(sh("nft list tables"), "");
            remove(&Table::default()).expect("remove again");
            apply(&default_bridge_plan()).expect("apply");
            apply(&FirewallPlan::default()).expect("apply an empty plan");
            assert_eq!(
                sh("nft list ruleset"),
                "",
                "an empty plan removes the table"
            );
        });
    }

    /// Two roots in one namespace: each plan replaces and removes its own table only.
    #[test]
    fn tables_of_different_roots_are_loaded_and_removed_apart() {
        in_netns(|| {
            let mut other = default_bridge_plan();
            other.table = Table::named("berth_1a2b3c4d").unwrap();
            other.networks[0].bridge = "berth-1a2b3c4d".into();
            for p in &mut other.ports {
                p.bridge = "berth-1a2b3c4d".into();
            }
            apply(&default_bridge_plan()).unwrap();
            apply(&other).unwrap();
            assert_eq!(
                sh("nft list tables"),
                "table inet berth\ntable inet berth_1a2b3c4d\n"
            );
            // A root with no networks left empties its own table, not the other's.
            apply(&FirewallPlan {
                table: other.table.clone(),
                ..Default::default()
            })
            .unwrap();
            assert_eq!(sh("nft list tables"), "table inet berth\n");
            assert!(list_table().contains("tcp dport 8080 dnat ip to 172.17.0.2:80"));
            remove(&Table::default()).unwrap();
            assert_eq!(sh("nft list ruleset"), "");
        });
    }

    #[test]
    fn table_names_are_plain_words() {
        for bad in [
            "",
            "1berth",
            "berth x",
            "berth;flush",
            "berth-1",
            &"b".repeat(33),
        ] {
            let err = Table::named(bad).unwrap_err().to_string();
            assert!(
                err.starts_with("invalid nftables table name"),
                "{bad}: {err}"
            );
        }
        assert_eq!(
            Table::named("berth_1a2b").unwrap().to_string(),
            "inet berth_1a2b"
        );
        assert_eq!(Table::default().to_string(), "inet berth");
    }

    #[test]
    fn nft_errors_are_one_line_with_nfts_message() {
        in_netns(|| {
            let err = run_nft(
                &Table::default(),
                "table inet berth {\n\tchain c { type nat hook output priority dstnat; }\n}\n",
            )
            .unwrap_err()
            .to_string();
            assert!(
                err.starts_with("nft could not load table inet berth: "),
                "{err}"
            );
            assert!(err.contains("Error: "), "{err}");
            assert!(!err.contains('\n'), "{err}");
            assert_eq!(sh("nft list ruleset"), "", "a failed batch leaves nothing");
        });
    }

    #[test]
    fn sysctls_are_written_in_the_callers_namespace() {
        in_netns(|| {
            let read = |p: &str| std::fs::read_to_string(p).unwrap().trim().to_owned();
            // A new namespace inherits the host's setting: start from off.
            std::fs::write("/proc/sys/net/ipv4/ip_forward", "0").unwrap();
            assert_eq!(read("/proc/sys/net/ipv4/ip_forward"), "0");
            enable_ip_forward().unwrap();
            enable_ip_forward().unwrap();
            assert_eq!(read("/proc/sys/net/ipv4/ip_forward"), "1");
            sh("ip link add brt type bridge");
            enable_route_localnet("brt").unwrap();
            assert_eq!(read("/proc/sys/net/ipv4/conf/brt/route_localnet"), "1");
            let err = enable_route_localnet("nosuch0").unwrap_err().to_string();
            assert!(
                err.starts_with("read /proc/sys/net/ipv4/conf/nosuch0/route_localnet: "),
                "{err}"
            );
        });
    }

    /// Answers every connection with "hello <peer address>" until stopped (or 20 s pass).
    fn serve(listener: TcpListener, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((mut conn, peer)) => {
                        let _ = write!(conn, "hello {}", peer.ip());
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        })
    }

    /// Answers every datagram with "hello <peer address>" until stopped (or 20 s pass).
    fn serve_udp(socket: UdpSocket, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
        socket.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut buf = [0u8; 64];
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                match socket.recv_from(&mut buf) {
                    Ok((_, peer)) => {
                        let _ = socket.send_to(format!("hello {}", peer.ip()).as_bytes(), peer);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        })
    }

    /// Sends one datagram and returns the answer, or the error as text.
    fn ask_udp(addr: &str) -> String {
        let attempt = || -> std::io::Result<String> {
            let socket = UdpSocket::bind("0.0.0.0:0")?;
            socket.set_read_timeout(Some(Duration::from_secs(2)))?;
            socket.send_to(b"hi", addr)?;
            let mut buf = [0u8; 64];
            let (n, _) = socket.recv_from(&mut buf)?;
            Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
        };
        attempt().unwrap_or_else(|e| format!("error: {e}"))
    }

    /// Connects and returns the greeting, or the error as text.
    fn greet(addr: &str) -> String {
        let addr: SocketAddr = addr.parse().unwrap();
        let attempt = || -> std::io::Result<String> {
            let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
            conn.set_read_timeout(Some(Duration::from_secs(2)))?;
            let mut text = String::new();
            conn.read_to_string(&mut text)?;
            Ok(text)
        };
        attempt().unwrap_or_else(|e| format!("error: {e}"))
    }

    /// A bridge with its gateway address, up, in the calling thread's namespace.
    fn make_bridge(name: &str, gateway: &str) {
        sh(&format!("ip link add {name} type bridge"));
        sh(&format!("ip addr add {gateway} dev {name}"));
        sh(&format!("ip link set {name} up"));
    }

    /// A "container": its own namespace on a veth to `bridge`, with `addr`, a default
    /// route via `gateway` and a listener on :80 (returned, to be served).
    fn container(
        bridge: &str,
        host_if: &str,
        addr: &str,
        gateway: &str,
    ) -> (NsThread, TcpListener) {
        let ns = NsThread::spawn();
        sh(&format!(
            "ip link add {host_if} type veth peer name eth0 netns {}",
            ns.path
        ));
        sh(&format!("ip link set {host_if} master {bridge}"));
        // With br_netfilter, a hairpinned packet is bridged back out of the port it came
        // in by; the bridge does that only in hairpin mode (Docker sets it too).
        sh(&format!(
            "ip link set {host_if} type bridge_slave hairpin on"
        ));
        sh(&format!("ip link set {host_if} up"));
        let (addr, gateway) = (addr.to_owned(), gateway.to_owned());
        let listener = ns.run(move || {
            sh(&format!("ip addr add {addr} dev eth0"));
            sh("ip link set eth0 up");
            sh(&format!("ip route add default via {gateway}"));
            TcpListener::bind("0.0.0.0:80").unwrap()
        });
        (ns, listener)
    }

    /// A remote peer (192.0.2.2) on the host's uplink ext0 (192.0.2.1), routing the test
    /// subnets via the host as a LAN neighbour could.
    fn uplink_peer() -> NsThread {
        let c = NsThread::spawn();
        sh(&format!(
            "ip link add ext0 type veth peer name ext1 netns {}",
            c.path
        ));
        sh("ip addr add 192.0.2.1/24 dev ext0");
        sh("ip link set ext0 up");
        c.run(|| {
            sh("ip addr add 192.0.2.2/24 dev ext1");
            sh("ip link set ext1 up");
            sh("ip route add 10.0.0.0/8 via 192.0.2.1");
        });
        c
    }

    /// Namespace A is the host: bridge br0 (10.89.0.1), an uplink ext0 (192.0.2.1) to a
    /// remote peer C (192.0.2.2), and B, the "container" (10.89.0.2), on a veth to br0
    /// with a listener on :80. Publishing 8080 -> B:80 must reach B from A over
    /// 127.0.0.1, the bridge address and the uplink address, and from C over the uplink;
    /// C must not reach B's unpublished address directly.
    #[test]
    fn published_port_reaches_the_container_over_dnat() {
        in_netns(|| {
            make_bridge("br0", "10.89.0.1/24");
            let (b, listener) = container("br0", "vb0", "10.89.0.2/24", "10.89.0.1");
            let c = uplink_peer();
            let stop = Arc::new(AtomicBool::new(false));
            let server = serve(listener, stop.clone());
            enable_ip_forward().unwrap();
            enable_route_localnet("br0").unwrap();

            assert!(
                greet("127.0.0.1:8080").starts_with("error"),
                "nothing before apply"
            );
            let udp = b.run(|| UdpSocket::bind("0.0.0.0:53").unwrap());
            let udp_server = serve_udp(udp, stop.clone());
            // Held as a container's ports are: DNAT must win over the held sockets.
            let specs = [
                parse_publish("8080:80").unwrap(),
                parse_publish("5353:53/udp").unwrap(),
            ];
            let holder = PortHolder::bind(&specs.concat()).unwrap();
            let container_ip = "10.89.0.2".parse().unwrap();
            let plan = FirewallPlan {
                table: Table::default(),
                networks: vec![net("br0", "10.89.0.0/24", false)],
                ports: (holder.mappings().iter())
                    .map(|m| PortRule::for_mapping("br0", container_ip, m))
                    .collect(),
            };
            apply(&plan).unwrap();

            // The host may or may not have br_netfilter loaded (Docker loads it); its switch
            // is per namespace, so both ways are tried.
            let brnf = Path::new("/proc/sys/net/bridge/bridge-nf-call-iptables");
            let modes: &[&str] = if brnf.exists() { &["1", "0"] } else { &["off"] };
            for mode in modes {
                if brnf.exists() {
                    std::fs::write(brnf, mode).unwrap();
                }
                let got = [
                    greet("127.0.0.1:8080"),
                    greet("10.89.0.1:8080"),
                    greet("192.0.2.1:8080"),
                    // From outside, through prerouting and forward.
                    c.run(|| greet("192.0.2.1:8080")),
                    // Hairpin: B reaches its own published port, masqueraded so replies return.
                    b.run(|| greet("192.0.2.1:8080")),
                    ask_udp("127.0.0.1:5353"),
                    c.run(|| ask_udp("192.0.2.1:5353")),
                ];
                // Loopback is masqueraded to the bridge address, so B can answer it.
                let want = [
                    "hello 10.89.0.1",
                    "hello 10.89.0.1",
                    "hello 192.0.2.1",
                    "hello 192.0.2.2",
                    "hello 10.89.0.1",
                    "hello 10.89.0.1",
                    "hello 192.0.2.2",
                ];
                assert_eq!(got, want, "bridge-nf-call-iptables {mode}");
                let direct = c.run(|| greet("10.89.0.2:80"));
                assert!(
                    direct.starts_with("error"),
                    "unpublished access got through: {direct}"
                );
            }

            remove(&Table::default()).unwrap();
            assert!(
                greet("127.0.0.1:8080").starts_with("error"),
                "still published after remove"
            );
            stop.store(true, Ordering::Relaxed);
            server.join().unwrap();
            udp_server.join().unwrap();
        });
    }

    /// Three networks on one host: B on br0, D on br1, E on the internal br2, and C beyond
    /// the uplink. B and D go out masqueraded as the host; E cannot leave its bridge; no
    /// network reaches another's containers; the host still reaches all of them.
    #[test]
    fn networks_are_isolated_and_internal_ones_stay_in() {
        in_netns(|| {
            make_bridge("br0", "10.89.0.1/24");
            make_bridge("br1", "10.90.0.1/24");
            make_bridge("br2", "10.91.0.1/24");
            let (b, b_listener) = container("br0", "vb0", "10.89.0.2/24", "10.89.0.1");
            let (d, d_listener) = container("br1", "vd0", "10.90.0.2/24", "10.90.0.1");
            let (e, e_listener) = container("br2", "ve0", "10.91.0.2/24", "10.91.0.1");
            let c = uplink_peer();
            let c_listener = c.run(|| TcpListener::bind("0.0.0.0:80").unwrap());
            let stop = Arc::new(AtomicBool::new(false));
            let servers: Vec<_> = [b_listener, d_listener, e_listener, c_listener]
                .into_iter()
                .map(|l| serve(l, stop.clone()))
                .collect();
            enable_ip_forward().unwrap();
            apply(&FirewallPlan {
                table: Table::default(),
                networks: vec![
                    net("br0", "10.89.0.0/24", false),
                    net("br1", "10.90.0.0/24", false),
                    net("br2", "10.91.0.0/24", true),
                ],
                ports: vec![],
            })
            .unwrap();

            assert_eq!(
                b.run(|| greet("192.0.2.2:80")),
                "hello 192.0.2.1",
                "B goes out NATed"
            );
            assert_eq!(
                d.run(|| greet("192.0.2.2:80")),
                "hello 192.0.2.1",
                "D goes out NATed"
            );
            for (from, to) in [
                (&b, "10.90.0.2:80"),
                (&d, "10.89.0.2:80"),
                (&b, "10.91.0.2:80"),
            ] {
                let got = from.run(move || greet(to));
                assert!(got.starts_with("error"), "crossed networks to {to}: {got}");
            }
            for to in ["192.0.2.2:80", "10.89.0.2:80"] {
                let got = e.run(move || greet(to));
                assert!(
                    got.starts_with("error"),
                    "internal network left to {to}: {got}"
                );
            }
            for to in ["10.89.0.2:80", "10.90.0.2:80", "10.91.0.2:80"] {
                assert!(greet(to).starts_with("hello "), "the host reaches {to}");
            }
            stop.store(true, Ordering::Relaxed);
            for server in servers {
                server.join().unwrap();
            }
        });
    }
}
