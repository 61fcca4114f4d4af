//! The live network state the dashboard draws (`Engine::network_states`): a running
//! container's veth pair on its bridge, with counters that grow with traffic. Every engine
//! runs in a network namespace its test made (`common::NetNs`).

use crate::common;

use std::os::fd::AsFd;

use berth::engine::network::live::OperState;
use berth::engine::network::state::NetworkState;
use berth::engine::Engine;
use common::{Berth, IMAGE};

/// `network_states(counters)` called from a thread inside the engine's namespace.
fn states(berth: &Berth, counters: bool) -> Vec<NetworkState> {
    let ns = std::fs::File::open(berth.netns().path()).expect("open the namespace");
    let root = berth.root().to_owned();
    std::thread::scope(|s| {
        s.spawn(|| {
            nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
                .expect("enter the namespace");
            Engine::open(&root)
                .expect("open the engine")
                .network_states(counters)
                .expect("network states")
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

fn network<'a>(states: &'a [NetworkState], name: &str) -> &'a NetworkState {
    states
        .iter()
        .find(|n| n.name == name)
        .unwrap_or_else(|| panic!("no network {name} in {states:?}"))
}

#[test]
fn a_running_containers_veth_is_on_its_bridge_and_counts_traffic() {
    let berth = Berth::with_image();
    berth.ok(&["network", "create", "--subnet", "10.77.0.0/24", "lan"]);
    let id = berth.ok(&[
        "run",
        "-d",
        "--name",
        "pinger",
        "--network",
        "lan",
        IMAGE,
        "sleep",
        "1000",
    ]);
    let id = id.trim();

    let before = states(&berth, true);
    let lan = network(&before, "lan");
    assert_eq!(lan.subnet, Some("10.77.0.0/24".parse().unwrap()));
    let bridge = lan
        .bridge
        .as_ref()
        .expect("the bridge is up once a container runs");
    assert_eq!(bridge.oper, OperState::Up);
    assert!(bridge.admin_up);
    assert_eq!(bridge.addresses, ["10.77.0.1/24".parse().unwrap()]);
    assert_eq!(lan.endpoints.len(), 1, "{lan:?}");
    let endpoint = &lan.endpoints[0];
    assert_eq!(endpoint.container_id.as_str(), id);
    assert_eq!(endpoint.container_name, "pinger");
    assert_eq!(endpoint.interface, "eth0");
    assert_eq!(endpoint.address, Some("10.77.0.2/24".parse().unwrap()));
    assert!(endpoint.host_veth.starts_with(&format!("bv{}", &id[..12])));
    let port = endpoint.port.as_ref().expect("the host end is live");
    assert!(port.on_bridge, "{port:?}");
    assert_eq!(port.master.as_deref(), Some(lan.bridge_name.as_str()));
    assert_eq!(port.oper, OperState::Up);
    let first = port.counters.expect("counters when asked for");
    // The default bridge exists as a record; no container of this test uses it.
    assert!(network(&before, "bridge").endpoints.is_empty());

    berth.ok(&["exec", "pinger", "ping", "-c", "3", "-W", "2", "10.77.0.1"]);

    let after = states(&berth, true);
    let port = network(&after, "lan").endpoints[0]
        .port
        .clone()
        .expect("still live");
    let then = port.counters.expect("counters");
    // The container's echo requests arrive on the host end (rx), the replies leave by it.
    assert!(
        then.rx_packets >= first.rx_packets + 3,
        "{first:?} -> {then:?}"
    );
    assert!(
        then.tx_packets >= first.tx_packets + 3,
        "{first:?} -> {then:?}"
    );
    assert!(then.rx_bytes > first.rx_bytes && then.tx_bytes > first.tx_bytes);

    // Without counters the dump leaves them out, and the rest is the same.
    let plain = states(&berth, false);
    let lan = network(&plain, "lan");
    let port = lan.endpoints[0].port.as_ref().expect("live");
    assert!(port.counters.is_none());
    assert!(port.on_bridge);

    // Stopped, the record keeps the endpoint but the host end is gone.
    berth.ok(&["stop", "-t", "1", "pinger"]);
    let stopped = states(&berth, false);
    let lan = network(&stopped, "lan");
    assert_eq!(lan.endpoints.len(), 1);
    assert!(lan.endpoints[0].port.is_none(), "{lan:?}");
}
