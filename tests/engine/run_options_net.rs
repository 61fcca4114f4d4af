//! The network, log and runtime options of `run`/`create`, each seen from inside the
//! container (its resolv.conf, its interface's MAC and addresses, its OCI config, its
//! logs) and in `inspect`: `--dns-search`, `--dns-option`, `--mac-address`,
//! `--link-local-ip`, `--annotation`, `--log-driver`, `--runtime`, `--volume-driver`,
//! `--disable-content-trust`; and what berth refuses (`--storage-opt`,
//! `--use-api-socket`, Windows' `--cpu-count`...) with 125 and nothing made. Every engine
//! runs in the test's own network namespace (`common::NetNs`).

use crate::common;

use common::{code, stderr, Berth, IMAGE};
use serde_json::json;

/// `berth run --rm [FLAGS] IMAGE ARGS...`, asserting success; returns stdout.
fn run_with(berth: &Berth, flags: &[&str], command: &[&str]) -> String {
    let mut args = vec!["run", "--rm"];
    args.extend_from_slice(flags);
    args.push(IMAGE);
    args.extend_from_slice(command);
    berth.ok(&args)
}

#[test]
fn dns_search_and_dns_option_are_the_containers_resolv_conf() {
    let berth = Berth::with_image();
    let flags = [
        "--dns-search",
        "a.example",
        "--dns-search",
        "b.example",
        "--dns-option",
        "ndots:3",
        "--dns-option",
        "edns0",
    ];
    let conf = run_with(&berth, &flags, &["cat", "/etc/resolv.conf"]);
    let lines: Vec<&str> = conf.lines().collect();
    assert!(lines.contains(&"search a.example b.example"), "{conf}");
    assert!(lines.contains(&"options ndots:3 edns0"), "{conf}");
    // Each replaces the host's line of its kind: one of each.
    let count = |k: &str| lines.iter().filter(|l| l.starts_with(k)).count();
    assert_eq!((count("search"), count("options")), (1, 1), "{conf}");

    // On a user-defined network too, beside the embedded resolver.
    berth.ok(&["network", "create", "app"]);
    let mut create = vec!["create", "--name", "d", "--network", "app"];
    create.extend_from_slice(&flags);
    create.extend_from_slice(&[IMAGE, "cat", "/etc/resolv.conf"]);
    berth.ok(&create);
    berth.ok(&["start", "-a", "d"]);
    let conf = berth.ok(&["logs", "d"]);
    assert!(conf.contains("nameserver 127.0.0.11"), "{conf}");
    assert!(conf.contains("search a.example b.example\n"), "{conf}");
    let host = berth.inspect("d")["HostConfig"].clone();
    assert_eq!(host["DnsSearch"], json!(["a.example", "b.example"]));
    assert_eq!(host["DnsOptions"], json!(["ndots:3", "edns0"]));

    // `.` drops the search list.
    let conf = run_with(&berth, &["--dns-search", "."], &["cat", "/etc/resolv.conf"]);
    assert!(!conf.contains("search"), "{conf}");
    let unset = berth.ok(&["create", IMAGE, "true"]);
    let host = berth.inspect(unset.trim())["HostConfig"].clone();
    assert_eq!(
        (host["DnsSearch"].clone(), host["DnsOptions"].clone()),
        (json!([]), json!([]))
    );
}

#[test]
fn mac_address_is_the_interfaces_on_a_bridge_and_on_macvlan() {
    let berth = Berth::with_image();
    let mac = "92:d0:c6:0a:29:33";
    // Docker's other notation, shown in its canonical form.
    berth.ok(&[
        "run",
        "--name",
        "m",
        "--mac-address",
        "92-D0-C6-0A-29-33",
        IMAGE,
        "ip",
        "link",
        "show",
        "eth0",
    ]);
    let link = berth.ok(&["logs", "m"]);
    assert!(link.contains(&format!("link/ether {mac} ")), "{link}");
    let info = berth.inspect("m");
    assert_eq!(info["Config"]["MacAddress"], mac);
    assert_eq!(info["NetworkSettings"]["MacAddress"], mac);
    assert_eq!(
        info["NetworkSettings"]["Networks"]["bridge"]["MacAddress"],
        mac
    );
    // It is kept across starts (the endpoint carries it).
    berth.ok(&["start", "-a", "m"]);
    let again = berth.ok(&["logs", "m"]);
    assert_eq!(
        again.matches(&format!("link/ether {mac} ")).count(),
        2,
        "{again}"
    );
    // Another container can't take it on the same network.
    let out = berth.run(&["run", "--rm", "--mac-address", mac, IMAGE, "true"]);
    assert_eq!(code(&out), 125);
    assert!(
        stderr(&out).contains("is in use by container m"),
        "{}",
        stderr(&out)
    );

    // Macvlan: on a veth end as parent (no dummy interfaces in this kernel).
    berth.macvlan_on_a_veth("mv");
    let mv = "02:11:22:33:44:55";
    let link = run_with(
        &berth,
        &["--network", "mv", "--mac-address", mv],
        &["ip", "link", "show", "eth0"],
    );
    assert!(link.contains(&format!("link/ether {mv} ")), "{link}");
}

#[test]
fn link_local_ips_are_added_to_the_containers_interface() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "--name",
        "ll",
        "--link-local-ip",
        "169.254.10.10",
        "--link-local-ip",
        "169.254.20.20",
        IMAGE,
        "ip",
        "-4",
        "-o",
        "addr",
        "show",
        "eth0",
    ]);
    let addrs = berth.ok(&["logs", "ll"]);
    assert!(addrs.contains("inet 169.254.10.10/16"), "{addrs}");
    assert!(addrs.contains("inet 169.254.20.20/16"), "{addrs}");
    let bridge = &berth.inspect("ll")["NetworkSettings"]["Networks"]["bridge"];
    // The network's own address stays.
    let own = bridge["IPAddress"].as_str().unwrap();
    assert!(
        addrs.contains(&format!("inet {own}/")),
        "{addrs} (own {own})"
    );
    assert_eq!(
        bridge["IPAMConfig"],
        json!({"LinkLocalIPs": ["169.254.10.10", "169.254.20.20"]})
    );
    // Another container can't take one on the same network.
    let out = berth.run(&[
        "run",
        "--rm",
        "--link-local-ip",
        "169.254.20.20",
        IMAGE,
        "true",
    ]);
    assert_eq!(code(&out), 125);
    let err = stderr(&out);
    assert!(
        err.contains("in use by container ll") && err.lines().count() == 1,
        "{err}"
    );
    // Without one, Docker's null.
    let plain = berth.ok(&["create", IMAGE, "true"]);
    let networks = &berth.inspect(plain.trim())["NetworkSettings"]["Networks"];
    assert_eq!(networks["bridge"]["IPAMConfig"], json!(null));
}

#[test]
fn annotations_reach_the_oci_config_and_inspect() {
    let berth = Berth::with_image();
    let id = berth
        .ok(&[
            "run",
            "-d",
            "--annotation",
            "com.example.team=web",
            "--annotation",
            "com.example.empty",
            IMAGE,
            "sleep",
            "30",
        ])
        .trim()
        .to_owned();
    let config = berth
        .root()
        .join("containers")
        .join(&id)
        .join("config.json");
    let spec: serde_json::Value = serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    assert_eq!(spec["annotations"]["com.example.team"], "web");
    assert_eq!(spec["annotations"]["com.example.empty"], "");
    assert_eq!(
        berth.inspect(&id)["HostConfig"]["Annotations"],
        json!({"com.example.empty": "", "com.example.team": "web"})
    );
    berth.ok(&["rm", "-f", &id]);
}

#[test]
fn log_driver_none_keeps_nothing_and_local_reads_back() {
    let berth = Berth::with_image();
    // Attached, the output still comes through.
    let out = berth.ok(&[
        "run",
        "--name",
        "quiet",
        "--log-driver",
        "none",
        IMAGE,
        "echo",
        "hi",
    ]);
    assert_eq!(out, "hi\n");
    let logs = berth.run(&["logs", "quiet"]);
    assert_eq!(code(&logs), 1);
    assert_eq!(
        stderr(&logs),
        "Error: configured logging driver does not support reading\n"
    );
    let info = berth.inspect("quiet");
    assert_eq!(
        info["HostConfig"]["LogConfig"],
        json!({"Type": "none", "Config": {}})
    );
    assert_eq!(info["LogPath"], "", "Docker's: no log file");
    // Nothing of the output was written down.
    let id = info["Id"].as_str().unwrap();
    let log = berth
        .root()
        .join("containers")
        .join(id)
        .join("container.log");
    assert_eq!(
        std::fs::metadata(&log).map_or(0, |m| m.len()),
        0,
        "{}",
        log.display()
    );

    berth.ok(&[
        "run",
        "--name",
        "kept",
        "--log-driver",
        "local",
        "--log-opt",
        "max-file=3",
        IMAGE,
        "echo",
        "kept",
    ]);
    assert_eq!(berth.ok(&["logs", "kept"]), "kept\n");
    assert_eq!(
        berth.inspect("kept")["HostConfig"]["LogConfig"],
        json!({"Type": "local", "Config": {"max-file": "3"}})
    );
    berth.ok(&[
        "run",
        "--name",
        "json",
        "--log-driver",
        "json-file",
        IMAGE,
        "echo",
        "j",
    ]);
    assert_eq!(berth.ok(&["logs", "json"]), "j\n");
    assert_eq!(
        berth.inspect("json")["HostConfig"]["LogConfig"]["Type"],
        "json-file"
    );
}

#[test]
fn runtime_volume_driver_and_content_trust_take_what_berth_is() {
    let berth = Berth::with_image();
    let out = run_with(
        &berth,
        &[
            "--runtime",
            "runc",
            "--volume-driver",
            "local",
            "--disable-content-trust",
            "-v",
            "/data",
        ],
        &["sh", "-c", "echo ran > /data/f && cat /data/f"],
    );
    assert_eq!(out, "ran\n");
    berth.ok(&[
        "create",
        "--name",
        "r",
        "--runtime",
        "berth",
        "--volume-driver",
        "local",
        "--disable-content-trust=true",
        IMAGE,
        "true",
    ]);
    let host = berth.inspect("r")["HostConfig"].clone();
    assert_eq!(
        (host["Runtime"].clone(), host["VolumeDriver"].clone()),
        (json!("berth"), json!("local"))
    );
    berth.ok(&["create", "--name", "plain", IMAGE, "true"]);
    let host = berth.inspect("plain")["HostConfig"].clone();
    assert_eq!(
        (host["Runtime"].clone(), host["VolumeDriver"].clone()),
        (json!("runc"), json!(""))
    );
}

#[test]
fn refused_network_log_and_runtime_values_exit_125_and_make_nothing() {
    let berth = Berth::with_image();
    berth.ok(&["network", "create", "--subnet", "10.70.0.0/24", "app"]);
    // The flags and what the one line says.
    let cases: &[(&[&str], &str)] = &[
        (&["--mac-address", "92:d0:c6:0a:29"], "six hex bytes"),
        (&["--mac-address", "01:00:5e:00:00:01"], "multicast"),
        (
            &["--network", "host", "--mac-address", "92:d0:c6:0a:29:33"],
            "mac-address and the network mode",
        ),
        (
            &["--network", "none", "--mac-address", "92:d0:c6:0a:29:33"],
            "mac-address and the network mode",
        ),
        (
            &["--link-local-ip", "nowhere"],
            "IP address is not correctly formatted",
        ),
        (&["--link-local-ip", "fe80::1"], "IPv4 only"),
        (
            &["--link-local-ip", "0.0.0.0"],
            "invalid link-local IP address",
        ),
        (
            &["--network", "none", "--link-local-ip", "169.254.1.1"],
            "no interface of its own",
        ),
        (
            &["--network", "app", "--link-local-ip", "10.70.0.9"],
            "inside network app's subnet",
        ),
        (&["--dns-search", "bad domain"], "is not a valid domain"),
        (&["--dns-option", "ndots:1 rotate"], "one option per flag"),
        (
            &["--annotation", "=x"],
            "empty string is not permitted as an annotation key",
        ),
        (&["--annotation", "org.berth.init=true"], "berth's own"),
        (&["--log-driver", "syslog"], "json-file, local or none"),
        (
            &["--log-driver", "nope"],
            "error looking up logging plugin nope: plugin \"nope\" not found",
        ),
        (
            &["--runtime", "crun"],
            "unknown or invalid runtime name: crun",
        ),
        (&["--volume-driver", "convoy"], "only the local driver"),
        (&["--storage-opt", "size=10G"], "no size quota"),
        (
            &["--storage-opt", "dm.basesize=1G"],
            "overlay2: unknown option dm.basesize",
        ),
        (&["--use-api-socket"], "no Docker API socket"),
        (&["--disable-content-trust=false"], "no content trust"),
        (
            &["--cpu-count", "2"],
            "\"--cpu-count\" is only supported on a Docker daemon running on windows",
        ),
        (
            &["--cpu-percent", "50"],
            "\"--cpu-percent\" is only supported on a Docker daemon",
        ),
        (
            &["--io-maxbandwidth", "10m"],
            "\"--io-maxbandwidth\" is only supported on a Docker daemon",
        ),
        // Given at all, as the docker CLI refuses it, zero too.
        (
            &["--io-maxiops", "0"],
            "\"--io-maxiops\" is only supported on a Docker daemon",
        ),
    ];
    common::refused_by_create_and_run(&berth, cases);
}

#[test]
fn network_connect_takes_link_local_ips_and_refuses_ip6() {
    let berth = Berth::with_image();
    berth.ok(&["network", "create", "side"]);
    berth.ok(&["run", "-d", "--name", "joined", IMAGE, "sleep", "60"]);
    berth.ok(&[
        "network",
        "connect",
        "--link-local-ip",
        "169.254.30.30",
        "side",
        "joined",
    ]);
    let addrs = berth.ok(&["exec", "joined", "ip", "-4", "-o", "addr", "show"]);
    assert!(addrs.contains("inet 169.254.30.30/16"), "{addrs}");
    assert_eq!(
        berth.inspect("joined")["NetworkSettings"]["Networks"]["side"]["IPAMConfig"],
        json!({"LinkLocalIPs": ["169.254.30.30"]})
    );
    berth.ok(&["network", "disconnect", "side", "joined"]);
    for (flag, value, says) in [
        ("--ip6", "fd00::5", "IPv4 only"),
        ("--link-local-ip", "fe80::5", "IPv4 only"),
        ("--link-local-ip", "not-an-ip", "not correctly formatted"),
    ] {
        let out = berth.run(&["network", "connect", flag, value, "side", "joined"]);
        let err = stderr(&out);
        assert_ne!(code(&out), 0, "{flag} {value}");
        assert!(err.contains(says) && err.lines().count() == 1, "{err}");
    }
    let networks = &berth.inspect("joined")["NetworkSettings"]["Networks"];
    assert!(networks.get("side").is_none(), "{networks}");
}
