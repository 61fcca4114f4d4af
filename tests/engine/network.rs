//! `berth network`: records, address pools and leases over a real engine root. Nothing
//! here touches a link, route or rule of the host: every engine runs in a network
//! namespace its test made (see `common::NetNs`).

use crate::common;

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;

use common::{stderr, Berth, IMAGE};
use serde_json::{json, Value};

fn names(berth: &Berth, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["network", "ls", "--format", "json"];
    args.extend(extra);
    berth
        .ok(&args)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("one JSON object a line");
            v["Name"].as_str().expect("Name").to_owned()
        })
        .collect()
}

fn subnet_of(info: &Value) -> &str {
    info["IPAM"]["Config"][0]["Subnet"]
        .as_str()
        .expect("a subnet")
}

fn journal(berth: &Berth) -> Vec<Value> {
    std::fs::read_to_string(berth.root().join("events.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn network_verbs_behave_like_docker() {
    let berth = Berth::new();
    {
        // The built-ins exist from the first look, as in `docker network ls`.
        let table = berth.ok(&["network", "ls"]);
        let mut lines = table.lines();
        let header: Vec<&str> = lines
            .next()
            .expect("a header")
            .split("   ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(header, ["NETWORK ID", "NAME", "DRIVER", "SCOPE"]);
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
        let shown: Vec<(&str, &str)> = rows.iter().map(|r| (r[1], r[2])).collect();
        assert_eq!(
            shown,
            [("bridge", "bridge"), ("host", "host"), ("none", "null")]
        );
        assert!(rows.iter().all(|r| r[0].len() == 12 && r[3] == "local"));

        // No routes here: the default bridge takes Docker's first pool, the next
        // network the second.
        let bridge = berth.json(&["network", "inspect", "bridge"]);
        assert_eq!(subnet_of(&bridge), "172.17.0.0/16");
        // Named after this engine's root: berth0 is the default root's.
        let own = berth::engine::network::names::RootNames::for_root(berth.root()).bridge;
        assert_eq!(bridge["Options"]["com.docker.network.bridge.name"], own);
        assert_eq!(bridge["Berth"]["Bridge"], own);
        let id = berth.ok(&["network", "create", "--label", "team=web", "front"]);
        let id = id.trim();
        assert_eq!(id.len(), 64);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        let info = berth.json(&["network", "inspect", "front"]);
        assert_eq!(info["Id"], id);
        assert_eq!(info["Name"], "front");
        assert_eq!(info["Driver"], "bridge");
        assert_eq!(info["Scope"], "local");
        assert_eq!(info["EnableIPv6"], false);
        assert_eq!(info["Internal"], false);
        assert_eq!(info["IPAM"]["Driver"], "default");
        assert_eq!(subnet_of(&info), "172.18.0.0/16");
        assert_eq!(info["IPAM"]["Config"][0]["Gateway"], "172.18.0.1");
        assert_eq!(info["Containers"], serde_json::json!({}));
        assert_eq!(info["Labels"]["team"], "web");
        assert_eq!(info["Berth"]["Bridge"], format!("br-{}", &id[..12]));
        assert_eq!(
            info["Berth"]["SkippedPools"][0]["Reason"],
            "overlaps network bridge (172.17.0.0/16)"
        );
        assert!(info["Created"].as_str().unwrap().ends_with('Z'));
        // Records are root-only, in a root-only directory; `system check` finds them fine.
        let mode =
            |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        let dir = berth.root().join("networks");
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(format!("{id}.json"))), 0o600);
        berth.ok(&["system", "check"]);

        // The subnet given is the subnet kept; gateway and range as asked.
        berth.ok(&[
            "network",
            "create",
            "--subnet",
            "192.168.10.0/24",
            "--ip-range",
            "192.168.10.128/25",
            "--internal",
            "-o",
            "com.docker.network.bridge.name=br-lan",
            "lan",
        ]);
        let lan = berth.json(&["network", "inspect", "lan"]);
        assert_eq!(
            lan["IPAM"]["Config"][0],
            serde_json::json!({"Subnet": "192.168.10.0/24", "Gateway": "192.168.10.1", "IPRange": "192.168.10.128/25"})
        );
        assert_eq!(lan["Internal"], true);
        assert_eq!(lan["Berth"]["Bridge"], "br-lan");
        berth.ok(&[
            "network",
            "create",
            "-d",
            "macvlan",
            "-o",
            "parent=lo",
            "mv",
        ]);
        assert_eq!(
            subnet_of(&berth.json(&["network", "inspect", "mv"])),
            "172.19.0.0/16"
        );

        // Filters, -q, --no-trunc.
        assert_eq!(names(&berth, &["--filter", "driver=macvlan"]), ["mv"]);
        assert_eq!(names(&berth, &["--filter", "label=team=web"]), ["front"]);
        assert_eq!(
            names(&berth, &["--filter", "name=front", "--filter", "name=lan"]),
            ["front", "lan"]
        );
        assert_eq!(
            names(&berth, &["--filter", "type=custom"]),
            ["front", "lan", "mv"]
        );
        let quiet = berth.ok(&[
            "network",
            "ls",
            "-q",
            "--filter",
            &format!("id={}", &id[..6]),
        ]);
        assert_eq!(quiet.trim(), &id[..12]);
        let full = berth.ok(&[
            "network",
            "ls",
            "-q",
            "--no-trunc",
            "--filter",
            "name=front",
        ]);
        assert_eq!(full.trim(), id);

        // rm: built-ins never; several at once, a missing one fails alone.
        let err = berth.fail(&["network", "rm", "host"]);
        assert!(err.contains("host is a pre-defined network"), "{err}");
        let out = berth.run(&["network", "rm", "lan", "nosuch"]);
        assert_eq!(common::stdout(&out), "lan\n");
        assert!(stderr(&out).contains("network nosuch not found"));
        assert!(!out.status.success());

        // prune: every custom network without endpoints, never a built-in.
        let out = berth.ok(&["network", "prune", "-f"]);
        assert_eq!(out, "Deleted Networks:\nfront\nmv\n\n");
        assert_eq!(names(&berth, &[]), ["bridge", "host", "none"]);
    }
    let events: Vec<(String, String)> = journal(&berth)
        .iter()
        .filter(|e| e["Type"] == "network")
        .map(|e| {
            (
                e["Action"].as_str().unwrap().to_owned(),
                e["Actor"]["Attributes"]["name"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    let expected = [
        ("create", "front"),
        ("create", "lan"),
        ("create", "mv"),
        ("destroy", "lan"),
        ("destroy", "front"),
        ("destroy", "mv"),
    ]
    .map(|(a, n)| (a.to_owned(), n.to_owned()));
    assert_eq!(events, expected);
}

#[test]
fn pools_under_a_host_route_are_skipped_and_reported() {
    let berth = Berth::new();
    {
        // A route for 172.17.5.0/24 in this namespace only.
        berth.ip(&["link", "add", "rt0", "type", "veth", "peer", "name", "rt1"]);
        berth.ip(&["addr", "add", "172.17.5.1/24", "dev", "rt0"]);
        berth.ip(&["link", "set", "rt0", "up"]);
        berth.ip(&["link", "set", "rt1", "up"]);
        let bridge = berth.json(&["network", "inspect", "bridge"]);
        assert_eq!(subnet_of(&bridge), "172.18.0.0/16");
        assert_eq!(
            bridge["Berth"]["SkippedPools"],
            serde_json::json!([{"Subnet": "172.17.0.0/16", "Reason": "overlaps host route 172.17.5.0/24 on rt0"}])
        );
        let out = berth.run(&["network", "create", "app"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(
            stderr(&out),
            "berth: skipped address pool 172.17.0.0/16: overlaps host route 172.17.5.0/24 on rt0\n"
        );
        let info = berth.json(&["network", "inspect", "app"]);
        assert_eq!(subnet_of(&info), "172.19.0.0/16");
        let reasons: Vec<&str> = info["Berth"]["SkippedPools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Reason"].as_str().unwrap())
            .collect();
        assert_eq!(
            reasons,
            [
                "overlaps host route 172.17.5.0/24 on rt0",
                "overlaps network bridge (172.18.0.0/16)"
            ]
        );
    }
}

#[test]
fn bad_input_is_one_line_naming_the_object_and_leaves_nothing() {
    let berth = Berth::new();
    berth.ok(&["network", "create", "--subnet", "10.77.0.0/16", "taken"]);
    let before = names(&berth, &[]);
    for (args, wanted) in [
        (
            &["--subnet", "10.1.2.300/24", "n"][..],
            "invalid subnet \"10.1.2.300/24\"",
        ),
        (
            &["--subnet", "10.1.2.0", "n"],
            "invalid subnet \"10.1.2.0\"",
        ),
        (
            &["--subnet", "10.1.2.3/24", "n"],
            "it should be 10.1.2.0/24",
        ),
        (
            &["--subnet", "10.77.3.0/24", "n"],
            "overlaps network taken (10.77.0.0/16)",
        ),
        (&["-d", "weave", "n"], "invalid network driver \"weave\""),
        (&["-d", "overlay", "n"], "multi-host"),
        (&["-d", "null", "n"], "only one null network"),
        (
            &["--subnet", "10.9.0.0/24", "--gateway", "10.8.0.1", "n"],
            "invalid gateway \"10.8.0.1\"",
        ),
        (
            &["--subnet", "10.9.0.0/24", "--ip-range", "10.9.1.0/28", "n"],
            "invalid ip-range \"10.9.1.0/28\"",
        ),
        (&["--gateway", "10.9.0.1", "n"], "need --subnet"),
        (
            &["-o", "macvlan_mode=loud", "-d", "macvlan", "n"],
            "macvlan_mode",
        ),
        (
            &["-o", "parent", "-d", "macvlan", "n"],
            "invalid network option \"parent\"",
        ),
        (&["taken"], "network with name taken already exists"),
        (&["bad/name"], "invalid network name \"bad/name\""),
    ] {
        let mut all = vec!["network", "create"];
        all.extend(args);
        let err = berth.fail(&all);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(wanted), "{args:?}: {err}");
        assert!(err.contains("creating network"), "{args:?}: {err}");
    }
    assert_eq!(names(&berth, &[]), before);
    let err = berth.fail(&["network", "inspect", "nosuch"]);
    assert_eq!(err, "Error: network nosuch not found\n");
    let err = berth.fail(&["network", "ls", "--filter", "colour=red"]);
    assert!(err.contains("invalid filter 'colour'"), "{err}");
}

#[test]
fn endpoints_hold_addresses_until_disconnect_or_rm() {
    let berth = Berth::with_image();
    berth.ok(&["network", "create", "--subnet", "10.44.0.0/24", "app"]);
    let web = berth.ok(&["create", "--name", "web", IMAGE, "true"]);
    let web = web.trim();
    berth.ok(&["create", "--name", "db", IMAGE, "true"]);
    berth.ok(&["create", "--name", "cache", IMAGE, "true"]);
    berth.ok(&["network", "connect", "--alias", "www", "app", "web"]);
    berth.ok(&["network", "connect", "--ip", "10.44.0.9", "app", "db"]);
    let info = berth.json(&["network", "inspect", "app"]);
    let entry = &info["Containers"][web];
    assert_eq!(entry["Name"], "web");
    assert_eq!(entry["IPv4Address"], "10.44.0.2/24");
    assert_eq!(entry["MacAddress"], "02:42:0a:2c:00:02");
    assert_eq!(entry["IPv6Address"], "");
    assert_eq!(entry["EndpointID"].as_str().unwrap().len(), 64);

    // A taken, reserved or foreign address is refused, naming why.
    let err = berth.fail(&["network", "connect", "--ip", "10.44.0.9", "app", "cache"]);
    assert!(
        err.contains("10.44.0.9") && err.contains("in use by container db"),
        "{err}"
    );
    let err = berth.fail(&["network", "connect", "--ip", "10.44.0.1", "app", "cache"]);
    assert!(err.contains("the gateway"), "{err}");
    let err = berth.fail(&["network", "connect", "--ip", "10.45.0.3", "app", "cache"]);
    assert!(err.contains("not in the network's subnet"), "{err}");
    let err = berth.fail(&["network", "connect", "app", "web"]);
    assert!(err.contains("already connected"), "{err}");
    let err = berth.fail(&["network", "connect", "host", "cache"]);
    assert!(err.contains("host network"), "{err}");
    // (cache is on the default bridge from its create; solo is not.)
    berth.ok(&["network", "create", "--subnet", "10.46.0.0/24", "side"]);
    berth.ok(&[
        "create",
        "--name",
        "solo",
        "--network",
        "side",
        IMAGE,
        "true",
    ]);
    let err = berth.fail(&["network", "connect", "--ip", "172.17.0.9", "bridge", "solo"]);
    assert!(err.contains("user-defined networks only"), "{err}");
    let err = berth.fail(&["network", "connect", "app", "nosuch"]);
    assert!(err.contains("No such container: nosuch"), "{err}");

    // rm refuses while containers are connected, naming them.
    let err = berth.fail(&["network", "rm", "app"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("network app") && err.contains("web, db"),
        "{err}"
    );
    berth.ok(&["network", "create", "--subnet", "10.45.0.0/24", "idle"]);
    let unused = berth.ok(&["network", "ls", "-q", "--filter", "dangling=true"]);
    let idle = berth.json(&["network", "inspect", "idle"]);
    assert_eq!(unused.trim(), &idle["Id"].as_str().unwrap()[..12]);
    let out = berth.ok(&["network", "prune", "-f"]);
    assert_eq!(
        out, "Deleted Networks:\nidle\n\n",
        "prune keeps a network in use"
    );

    // disconnect frees the address; rm of the container frees its lease too.
    berth.ok(&["network", "disconnect", "app", "web"]);
    let err = berth.fail(&["network", "disconnect", "app", "web"]);
    assert!(err.contains("not connected"), "{err}");
    berth.ok(&["network", "disconnect", "-f", "app", "web"]);
    berth.ok(&["network", "connect", "app", "cache"]);
    let info = berth.json(&["network", "inspect", "app"]);
    let cache = berth.inspect("cache")["Id"].as_str().unwrap().to_owned();
    assert_eq!(info["Containers"][&cache]["IPv4Address"], "10.44.0.2/24");
    berth.ok(&["rm", "db", "cache"]);
    assert_eq!(berth.ok(&["network", "rm", "app"]), "app\n");

    let actions: Vec<String> = journal(&berth)
        .iter()
        .filter(|e| e["Type"] == "network" && e["Actor"]["Attributes"]["name"] == "app")
        .map(|e| {
            let attrs = &e["Actor"]["Attributes"];
            assert_eq!(attrs["type"], "bridge");
            let who = attrs["container"]
                .as_str()
                .map_or(String::new(), |c| c[..12].to_owned());
            format!("{} {who}", e["Action"].as_str().unwrap())
                .trim()
                .to_owned()
        })
        .collect();
    assert_eq!(actions.len(), 8, "{actions:?}");
    assert_eq!(actions[0], "create");
    assert_eq!(actions[1], format!("connect {}", &web[..12]));
    assert_eq!(actions[3], format!("disconnect {}", &web[..12]));
    assert_eq!(actions[7], "destroy");
}

#[test]
fn twenty_concurrent_connects_get_twenty_addresses() {
    let berth = Berth::with_image();
    berth.ok(&["network", "create", "--subnet", "10.60.0.0/24", "busy"]);
    let spawn_all = |args: &dyn Fn(usize) -> Vec<String>| {
        let children: Vec<_> = (0..20)
            .map(|i| {
                berth
                    .cmd()
                    .args(args(i))
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("spawn berth")
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().expect("wait for berth");
            assert!(out.status.success(), "{}", stderr(&out));
        }
    };
    spawn_all(&|i| {
        ["create", "--name", &format!("c{i}"), IMAGE, "true"]
            .map(String::from)
            .to_vec()
    });
    spawn_all(&|i| {
        ["network", "connect", "busy", &format!("c{i}")]
            .map(String::from)
            .to_vec()
    });
    let info = berth.json(&["network", "inspect", "busy"]);
    let got: BTreeSet<Ipv4Addr> = info["Containers"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| {
            let cidr = c["IPv4Address"].as_str().unwrap();
            cidr.trim_end_matches("/24").parse().unwrap()
        })
        .collect();
    let expected: BTreeSet<Ipv4Addr> = (2..22).map(|i| Ipv4Addr::new(10, 60, 0, i)).collect();
    assert_eq!(got, expected, "20 distinct addresses, the lowest free ones");
}

#[test]
fn exhausted_pools_are_a_clear_error() {
    let berth = Berth::new();
    {
        // 31 default pools, one taken by the default bridge.
        for i in 0..30 {
            berth.ok(&["network", "create", &format!("n{i}")]);
        }
        let last = berth.json(&["network", "inspect", "n29"]);
        assert_eq!(subnet_of(&last), "192.168.240.0/20");
        let err = berth.fail(&["network", "create", "one-too-many"]);
        assert_eq!(
            err,
            "Error: creating network one-too-many: no free address pool: \
             all 31 default pools overlap a network or a host route (give a subnet with --subnet)\n"
        );
        berth.ok(&[
            "network",
            "create",
            "--subnet",
            "10.0.0.0/24",
            "one-too-many",
        ]);
    }
}

/// The host and none networks list their containers in `network inspect`, each with the
/// endpoint its own `inspect` shows, as Docker's do; but their records keep none (no record
/// lists every container, to be read and rewritten at each create, inspect and rm).
#[test]
fn host_and_none_list_their_containers_without_storing_them() {
    let berth = Berth::with_image();
    for (network, name) in [("none", "quiet"), ("host", "shared"), ("none", "other")] {
        berth.ok(&[
            "create",
            "--network",
            network,
            "--name",
            name,
            IMAGE,
            "true",
        ]);
    }
    berth.ok(&["create", "--name", "bridged", IMAGE, "true"]);
    berth.ok(&["rename", "other", "renamed"]);
    let listed = |network: &str| -> Vec<(String, Value)> {
        let info = berth.json(&["network", "inspect", network]);
        let mut found: Vec<(String, Value)> = info["Containers"]
            .as_object()
            .expect("Containers")
            .iter()
            .map(|(id, e)| {
                (
                    e["Name"].as_str().unwrap().to_owned(),
                    json!({"id": id, "e": e}),
                )
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found
    };
    let none = listed("none");
    let names: Vec<&str> = none.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["quiet", "renamed"]);
    let host = listed("host");
    assert_eq!(host.len(), 1);
    assert_eq!(host[0].0, "shared");
    for (network, (name, entry)) in none.iter().map(|e| ("none", e)).chain([("host", &host[0])]) {
        let endpoint = &entry["e"];
        let own = berth.inspect(name);
        assert_eq!(own["Id"], entry["id"], "{name}");
        let seen = &own["NetworkSettings"]["Networks"][network];
        let id = endpoint["EndpointID"].as_str().unwrap();
        assert_eq!(id.len(), 64, "{name}: {endpoint}");
        assert_eq!(seen["EndpointID"], id, "{name}: {seen}");
        assert_eq!(seen["IPAddress"], "", "{name}");
        assert_eq!(
            (
                endpoint["MacAddress"].as_str(),
                endpoint["IPv4Address"].as_str()
            ),
            (Some(""), Some(""))
        );
    }
    // The records on disk: only the bridge's has an endpoint.
    for entry in std::fs::read_dir(berth.root().join("networks")).unwrap() {
        let record: Value =
            serde_json::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
        let stored = record["endpoints"].as_array().map_or(0, Vec::len);
        let wanted = usize::from(record["name"] == "bridge");
        assert_eq!(stored, wanted, "{record}");
    }
    // Only removing the container takes it off; rm tells of it as of any endpoint.
    let err = berth.fail(&["network", "disconnect", "none", "quiet"]);
    assert!(
        err.contains("can't be disconnected from the none network"),
        "{err}"
    );
    let quiet = none[0].1["id"].as_str().unwrap().to_owned();
    berth.ok(&["rm", "quiet", "shared"]);
    let names: Vec<String> = listed("none").into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["renamed"]);
    assert!(listed("host").is_empty());
    let told: Vec<String> = journal(&berth)
        .iter()
        .filter(|e| e["Type"] == "network" && e["Actor"]["Attributes"]["name"] == "none")
        .map(|e| {
            format!(
                "{} {}",
                e["Action"].as_str().unwrap(),
                e["Actor"]["Attributes"]["container"].as_str().unwrap()
            )
        })
        .collect();
    assert!(told.contains(&format!("connect {quiet}")), "{told:?}");
    assert!(told.contains(&format!("disconnect {quiet}")), "{told:?}");
}
