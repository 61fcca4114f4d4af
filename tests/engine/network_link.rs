//! The kernel side of networks: bridge, veth, endpoint, macvlan/ipvlan, live state and the
//! link watch. Every test works in network namespaces it made (threads that unshared), so
//! the host's links are never touched and all traffic stays between the test's namespaces.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::process::Command;
use std::time::{Duration, Instant};

use berth::engine::network::driver::bridge::{
    enable_ip_forward, enable_route_localnet, ensure_bridge,
};
use berth::engine::network::driver::ipvlan::{create_ipvlan, IpvlanMode};
use berth::engine::network::driver::macvlan::{create_macvlan, MacvlanMode};
use berth::engine::network::link::{
    add_address, configure_endpoint, create_veth, delete_link, link_index,
};
use berth::engine::network::live::{links, LinkEvent, LinkState, LinkWatch};
use berth::engine::network::netlink::Netlink;
use ipnet::Ipv4Net;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sched::{setns, unshare, CloneFlags};

const BRIDGE_MAC: [u8; 6] = [0x02, 0x42, 0xac, 0x11, 0x00, 0x01];
const ENDPOINT_MAC: [u8; 6] = [0x02, 0x42, 0xac, 0x11, 0x00, 0x02];

fn net(s: &str) -> Ipv4Net {
    s.parse().expect("test network literal")
}

/// Runs `work` on a new thread inside a new network namespace ("the host").
fn in_new_netns<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                unshare(CloneFlags::CLONE_NEWNET).expect("unshare a network namespace");
                work()
            })
            .join()
            .expect("test thread")
    })
}

/// A new network namespace ("the container"), alive while the fd is open.
fn new_netns() -> OwnedFd {
    std::thread::spawn(|| {
        unshare(CloneFlags::CLONE_NEWNET).expect("unshare a network namespace");
        OwnedFd::from(File::open("/proc/thread-self/ns/net").expect("open own netns"))
    })
    .join()
    .expect("netns thread")
}

/// Runs `work` on a thread inside the namespace `netns`.
fn in_netns<T: Send>(netns: BorrowedFd<'_>, work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                setns(netns, CloneFlags::CLONE_NEWNET).expect("enter netns");
                work()
            })
            .join()
            .expect("netns thread")
    })
}

fn find<'a>(links: &'a [LinkState], name: &str) -> &'a LinkState {
    links
        .iter()
        .find(|link| link.name == name)
        .unwrap_or_else(|| panic!("no link {name} in {links:?}"))
}

/// A host namespace with bridge bb0 (10.88.0.1/24) and a container namespace whose eth0 is
/// the peer of bvtest0 on the bridge, configured as 10.88.0.2/24.
fn host_with_endpoint(nl: &mut Netlink, container: BorrowedFd<'_>) -> (u32, u32) {
    let bridge = ensure_bridge(nl, "bb0", BRIDGE_MAC, net("10.88.0.1/24"), 1500).unwrap();
    let host_end = create_veth(nl, "bvtest0", bridge, container, "eth0", 1500).unwrap();
    configure_endpoint(
        container,
        "eth0",
        net("10.88.0.2/24"),
        ENDPOINT_MAC,
        Some(Ipv4Addr::new(10, 88, 0, 1)),
    )
    .unwrap();
    (bridge, host_end)
}

/// Sends `count` datagrams from `from` (in `container`) to an echo server on this thread's
/// namespace at `to`, and checks each comes back.
fn udp_round_trips(container: BorrowedFd<'_>, bind: Ipv4Addr, to: Ipv4Addr, count: usize) {
    let server = UdpSocket::bind(SocketAddrV4::new(bind, 0)).unwrap();
    server
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let port = server.local_addr().unwrap().port();
    std::thread::scope(|scope| {
        let echo = scope.spawn(|| {
            let mut buf = [0u8; 64];
            for _ in 0..count {
                let (len, peer) = server.recv_from(&mut buf).expect("echo server receives");
                server.send_to(&buf[..len], peer).unwrap();
            }
        });
        in_netns(container, || {
            let client = UdpSocket::bind("0.0.0.0:0").unwrap();
            client
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            for i in 0..count {
                let message = format!("ping {i}");
                client
                    .send_to(message.as_bytes(), SocketAddrV4::new(to, port))
                    .unwrap();
                let mut buf = [0u8; 64];
                let (len, _) = client.recv_from(&mut buf).expect("echo comes back");
                assert_eq!(&buf[..len], message.as_bytes());
            }
        });
        echo.join().unwrap();
    });
}

#[test]
fn bridge_is_made_idempotently_with_pinned_mac_and_gateway() {
    in_new_netns(|| {
        let mut nl = Netlink::open().unwrap();
        let gateway = net("10.88.0.1/24");
        let first = ensure_bridge(&mut nl, "bb0", BRIDGE_MAC, gateway, 1500).unwrap();
        let again = ensure_bridge(&mut nl, "bb0", BRIDGE_MAC, gateway, 1500).unwrap();
        assert_eq!(first, again);
        // A port with a lower MAC would become the bridge's MAC were it not pinned.
        let container = new_netns();
        create_veth(&mut nl, "bvtest0", first, container.as_fd(), "eth0", 1500).unwrap();
        let state = links(&mut nl).unwrap();
        let bridge = find(&state, "bb0");
        assert_eq!(bridge.index, first);
        assert_eq!(bridge.kind.as_deref(), Some("bridge"));
        assert_eq!(bridge.mac, Some(BRIDGE_MAC));
        assert_eq!(bridge.mtu, 1500);
        assert!(bridge.admin_up);
        assert_eq!(bridge.addresses, vec![gateway]);

        // A non-bridge under the name is refused, naming it.
        let err = ensure_bridge(&mut nl, "bvtest0", BRIDGE_MAC, gateway, 1500).unwrap_err();
        assert_eq!(err.to_string(), "link bvtest0 exists and is not a bridge");

        // The kernel's own explanation (extended ACK) is carried into the one-line error,
        // and nothing is left behind.
        let err = ensure_bridge(&mut nl, "bb1", BRIDGE_MAC, gateway, 70_000).unwrap_err();
        let err = err.to_string();
        assert!(
            err.starts_with("creating bridge bb1: Invalid argument (")
                && err.to_lowercase().contains("mtu"),
            "{err}"
        );
        assert_eq!(link_index(&mut nl, "bb1").unwrap(), None);
    });
}

#[test]
fn veth_lands_as_eth0_in_the_container_with_the_host_end_on_the_bridge() {
    in_new_netns(|| {
        let mut nl = Netlink::open().unwrap();
        let container = new_netns();
        let bridge = ensure_bridge(&mut nl, "bb0", BRIDGE_MAC, net("10.88.0.1/24"), 1500).unwrap();
        let host_end =
            create_veth(&mut nl, "bvtest0", bridge, container.as_fd(), "eth0", 1400).unwrap();

        let host = links(&mut nl).unwrap();
        let veth = find(&host, "bvtest0");
        assert_eq!(veth.index, host_end);
        assert_eq!(veth.kind.as_deref(), Some("veth"));
        assert_eq!(veth.master, Some(bridge));
        assert_eq!(veth.mtu, 1400);
        assert!(veth.admin_up);
        assert!(veth.link_netnsid.is_some(), "peer is in another netns");
        assert!(!host.iter().any(|link| link.name == "eth0"));

        let mut inside = Netlink::open_in(container.as_fd()).unwrap();
        let inner = links(&mut inside).unwrap();
        let eth0 = find(&inner, "eth0");
        assert_eq!(eth0.kind.as_deref(), Some("veth"));
        assert_eq!(eth0.mtu, 1400);
        assert_eq!(eth0.peer_index, Some(host_end));
        assert_eq!(veth.peer_index, Some(eth0.index));

        // The same name again is a one-line error naming the link.
        let err =
            create_veth(&mut nl, "bvtest0", bridge, container.as_fd(), "eth1", 1500).unwrap_err();
        assert_eq!(err.to_string(), "creating veth bvtest0: File exists");
    });
}

#[test]
fn configured_endpoint_reaches_the_gateway_and_beyond_it() {
    in_new_netns(|| {
        let mut nl = Netlink::open().unwrap();
        let container = new_netns();
        host_with_endpoint(&mut nl, container.as_fd());

        let mut inside = Netlink::open_in(container.as_fd()).unwrap();
        let inner = links(&mut inside).unwrap();
        let eth0 = find(&inner, "eth0");
        assert_eq!(eth0.mac, Some(ENDPOINT_MAC));
        assert_eq!(eth0.addresses, vec![net("10.88.0.2/24")]);
        assert!(eth0.admin_up);
        assert!(find(&inner, "lo").admin_up);

        // The gateway answers ICMP (busybox ping run inside the container namespace).
        let ping = in_netns(container.as_fd(), || {
            Command::new("busybox")
                .args(["ping", "-c", "1", "-W", "3", "10.88.0.1"])
                .output()
                .expect("run busybox ping")
        });
        assert!(
            ping.status.success(),
            "ping: {}",
            String::from_utf8_lossy(&ping.stdout)
        );
        udp_round_trips(
            container.as_fd(),
            Ipv4Addr::new(10, 88, 0, 1),
            Ipv4Addr::new(10, 88, 0, 1),
            3,
        );
        // An address off the subnet, local to the host namespace, is reached through the
        // default route.
        let status = Command::new("ip")
            .args(["addr", "add", "10.99.0.1/32", "dev", "lo"])
            .status()
            .unwrap();
        assert!(status.success());
        udp_round_trips(
            container.as_fd(),
            Ipv4Addr::new(10, 99, 0, 1),
            Ipv4Addr::new(10, 99, 0, 1),
            3,
        );
    });
}

#[test]
fn counters_grow_after_traffic() {
    in_new_netns(|| {
        let mut nl = Netlink::open().unwrap();
        let container = new_netns();
        host_with_endpoint(&mut nl, container.as_fd());
        let before = find(&links(&mut nl).unwrap(), "bvtest0").counters.unwrap();
        udp_round_trips(
            container.as_fd(),
            Ipv4Addr::new(10, 88, 0, 1),
            Ipv4Addr::new(10, 88, 0, 1),
            20,
        );
        let after = find(&links(&mut nl).unwrap(), "bvtest0").counters.unwrap();
        // The host end receives what the container sends, and transmits the echoes.
        assert!(
            after.rx_packets >= before.rx_packets + 20,
            "{before:?} {after:?}"
        );
        assert!(
            after.tx_packets >= before.tx_packets + 20,
            "{before:?} {after:?}"
        );
        assert!(after.rx_bytes > before.rx_bytes + 20 * 28);
        assert!(after.tx_bytes > before.tx_bytes + 20 * 28);
    });
}

/// Waits up to 5 s for events until `done` says one matched.
fn wait_for(watch: &mut LinkWatch, mut done: impl FnMut(&LinkEvent) -> bool) -> Vec<LinkEvent> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        let mut fds = [PollFd::new(watch.as_fd(), PollFlags::POLLIN)];
        poll(&mut fds, PollTimeout::from(500u16)).unwrap();
        let events = watch.read_events().unwrap();
        let hit = events.iter().any(&mut done);
        seen.extend(events);
        if hit {
            return seen;
        }
    }
    panic!("no matching event; saw {seen:?}");
}

#[test]
fn link_watch_reports_a_new_veth_and_its_removal() {
    in_new_netns(|| {
        let mut nl = Netlink::open().unwrap();
        let container = new_netns();
        let bridge = ensure_bridge(&mut nl, "bb0", BRIDGE_MAC, net("10.88.0.1/24"), 1500).unwrap();
        let mut watch = LinkWatch::open().unwrap();
        assert!(watch.read_events().unwrap().is_empty());

        let index =
            create_veth(&mut nl, "bvtest0", bridge, container.as_fd(), "eth0", 1500).unwrap();
        let seen = wait_for(
            &mut watch,
            |event| matches!(event, LinkEvent::New(link) if link.name == "bvtest0" && link.master == Some(bridge)),
        );
        assert!(seen
            .iter()
            .all(|event| !matches!(event, LinkEvent::New(link) if link.name == "eth0")));

        add_address(&mut nl, bridge, net("10.89.0.1/24"), "bb0").unwrap();
        wait_for(&mut watch, |event| {
            *event
                == LinkEvent::AddressAdded {
                    index: bridge,
                    address: net("10.89.0.1/24"),
                }
        });

        assert!(delete_link(&mut nl, "bvtest0").unwrap());
        wait_for(
            &mut watch,
            |event| matches!(event, LinkEvent::Removed(link) if link.index == index && link.name == "bvtest0"),
        );
    });
}

#[test]
fn sysctls_are_written_in_the_calling_threads_namespace() {
    let host_forward = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    in_new_netns(|| {
        let mut nl = Netlink::open().unwrap();
        ensure_bridge(&mut nl, "bb0", BRIDGE_MAC, net("10.88.0.1/24"), 1500).unwrap();
        // Guard before writing: /proc/sys/net must show this namespace, not the host's.
        let mut conf: Vec<String> = std::fs::read_dir("/proc/sys/net/ipv4/conf")
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        conf.sort();
        assert_eq!(conf, ["all", "bb0", "default", "lo"]);

        enable_route_localnet("bb0").unwrap();
        enable_ip_forward().unwrap();
        let read = |path: &str| std::fs::read_to_string(path).unwrap();
        assert_eq!(read("/proc/sys/net/ipv4/conf/bb0/route_localnet"), "1\n");
        assert_eq!(read("/proc/sys/net/ipv4/ip_forward"), "1\n");
        let err = enable_route_localnet("nosuch0").unwrap_err().to_string();
        assert!(
            err.starts_with("read /proc/sys/net/ipv4/conf/nosuch0/route_localnet: "),
            "{err}"
        );
    });
    let after = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    assert_eq!(after, host_forward);
}

/// A veth pair vparent/vpeer both in the current namespace, as a macvlan/ipvlan parent.
fn veth_parent() {
    let status = Command::new("ip")
        .args([
            "link", "add", "vparent", "type", "veth", "peer", "name", "vpeer",
        ])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn macvlan_on_a_veth_parent_lands_in_the_container() {
    in_new_netns(|| {
        let mut nl = Netlink::open().unwrap();
        let container = new_netns();
        veth_parent();
        create_macvlan(
            &mut nl,
            "vparent",
            MacvlanMode::Bridge,
            container.as_fd(),
            "eth0",
        )
        .unwrap();
        let mut inside = Netlink::open_in(container.as_fd()).unwrap();
        let eth0 = find(&links(&mut inside).unwrap(), "eth0").clone();
        assert_eq!(eth0.kind.as_deref(), Some("macvlan"));
        configure_endpoint(
            container.as_fd(),
            "eth0",
            net("10.77.0.2/24"),
            ENDPOINT_MAC,
            None,
        )
        .unwrap();
        let eth0 = find(&links(&mut inside).unwrap(), "eth0").clone();
        assert_eq!(eth0.addresses, vec![net("10.77.0.2/24")]);

        let err = create_macvlan(
            &mut nl,
            "nosuch0",
            MacvlanMode::Bridge,
            container.as_fd(),
            "eth1",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "creating macvlan eth1 on nosuch0: no such parent interface nosuch0"
        );
    });
}

#[test]
fn ipvlan_without_kernel_support_is_a_clear_error() {
    in_new_netns(|| {
        let mut nl = Netlink::open().unwrap();
        let container = new_netns();
        veth_parent();
        match create_ipvlan(
            &mut nl,
            "vparent",
            IpvlanMode::L2,
            container.as_fd(),
            "eth0",
        ) {
            Err(err) => assert_eq!(
                err.to_string(),
                "creating ipvlan eth0 on vparent: the kernel has no ipvlan support"
            ),
            // A kernel that has ipvlan makes the link instead.
            Ok(()) => {
                let mut inside = Netlink::open_in(container.as_fd()).unwrap();
                let state = links(&mut inside).unwrap();
                assert_eq!(find(&state, "eth0").kind.as_deref(), Some("ipvlan"));
            }
        }
        // Nothing half-made is left in the container.
        let mut inside = Netlink::open_in(container.as_fd()).unwrap();
        let names: Vec<String> = links(&mut inside)
            .unwrap()
            .into_iter()
            .map(|link| link.name)
            .filter(|name| name != "eth0")
            .collect();
        assert_eq!(names, vec!["lo".to_string()]);
    });
}

#[test]
fn delete_link_removes_both_ends() {
    in_new_netns(|| {
        let mut nl = Netlink::open().unwrap();
        let container = new_netns();
        host_with_endpoint(&mut nl, container.as_fd());
        let mut inside = Netlink::open_in(container.as_fd()).unwrap();
        assert!(link_index(&mut inside, "eth0").unwrap().is_some());

        assert!(delete_link(&mut nl, "bvtest0").unwrap());
        assert_eq!(link_index(&mut nl, "bvtest0").unwrap(), None);
        assert_eq!(link_index(&mut inside, "eth0").unwrap(), None);
        assert!(!delete_link(&mut nl, "bvtest0").unwrap());
        // The bridge stays for the network's other endpoints.
        assert!(link_index(&mut nl, "bb0").unwrap().is_some());
    });
}

/// Prints the median of create_veth + configure_endpoint over 100 fresh container
/// namespaces (the namespace's creation is not timed). Run with --ignored --nocapture.
#[test]
#[ignore]
fn time_create_veth_and_configure_endpoint() {
    in_new_netns(|| {
        let mut nl = Netlink::open().unwrap();
        let bridge = ensure_bridge(&mut nl, "bb0", BRIDGE_MAC, net("10.88.0.1/16"), 1500).unwrap();
        let (mut veth, mut endpoint, mut total) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..100u32 {
            let container = new_netns();
            let host = format!("bvtime{i}");
            let addr = Ipv4Net::new(Ipv4Addr::from(0x0a58_0100 + i), 16).unwrap();
            let start = Instant::now();
            create_veth(&mut nl, &host, bridge, container.as_fd(), "eth0", 1500).unwrap();
            let made = Instant::now();
            configure_endpoint(
                container.as_fd(),
                "eth0",
                addr,
                ENDPOINT_MAC,
                Some(Ipv4Addr::new(10, 88, 0, 1)),
            )
            .unwrap();
            veth.push(made - start);
            endpoint.push(made.elapsed());
            total.push(start.elapsed());
            delete_link(&mut nl, &host).unwrap();
        }
        for (what, mut times) in [
            ("create_veth", veth),
            ("configure_endpoint", endpoint),
            ("create_veth+configure_endpoint", total),
        ] {
            times.sort();
            println!(
                "{what} over {} runs: median {:?}, min {:?}, max {:?}",
                times.len(),
                times[times.len() / 2],
                times[0],
                times[times.len() - 1]
            );
        }
    });
}
