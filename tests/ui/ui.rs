//! Rendered frames of each view over a real engine state, as `berth ui --once` prints
//! them, checked against reviewed insta snapshots. What changes from run to run (IDs,
//! clocks, the temp root, live usage) is masked by filters; everything else must match.

use crate::common;

use common::{Berth, IMAGE};

/// The frame for `args`, with the run-dependent parts masked.
fn frame(berth: &Berth, args: &[&str]) -> String {
    let mut full = vec!["ui", "--once", "--width", "120", "--height", "16"];
    full.extend_from_slice(args);
    masked(berth, &full)
}

/// The frame for `args` on the smallest terminal the dashboard supports, 80x24.
fn small_frame(berth: &Berth, args: &[&str]) -> String {
    let mut full = vec!["ui", "--once", "--width", "80", "--height", "24"];
    full.extend_from_slice(args);
    masked(berth, &full)
}

/// The frame for `args` on a wide terminal, where every column fits.
fn wide_frame(berth: &Berth, args: &[&str]) -> String {
    let mut full = vec!["ui", "--once", "--width", "160", "--height", "20"];
    full.extend_from_slice(args);
    masked(berth, &full)
}

fn masked(berth: &Berth, full: &[&str]) -> String {
    let text = berth.ok(full);
    text.replace(berth.root().to_str().unwrap(), "[ROOT]")
}

fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    // Container IDs and image digests.
    settings.add_filter(r"\b[0-9a-f]{64}\b", "[FULL ID]");
    settings.add_filter(r"\b[0-9a-f]{12}\b", "[ID]     ");
    // Host veth ends are named after the container's ID and the interface's slot.
    settings.add_filter(r"\bbv[0-9a-f]{12}([0-9a-z])\b", "bv[ID]$1");
    // The default bridge is named after the engine root (berth0 is the default root's);
    // the mask keeps its width.
    settings.add_filter(r"\bberth-[0-9a-f]{8}\b", "berth-[ROOT]  ");
    // A bridge's MAC comes from its network's ID (endpoint MACs come from their IPs).
    settings.add_filter(r"mtu (\d+)  ([0-9a-f]{2}:){5}[0-9a-f]{2}", "mtu $1  [MAC]");
    // Traffic rates: the kernel's own packets (router solicitations, ARP) come and go.
    settings.add_filter(r"rx \S+/s  tx \S+/s", "rx [RATE] tx [RATE]");
    // Docker's clock texts, which move with time.
    settings.add_filter(
        r"(Less than a second|About a minute|About an hour|\d+ (seconds?|minutes|hours|days|weeks|months|years))( ago)?",
        "[TIME]",
    );
    // A mountpoint cut to its end keeps part of the temporary root's name.
    settings.add_filter(r"…\S*/volumes/", "…[ROOT]/volumes/");
    // The same clocks in the narrow list's short form ("Up 3s", "Exited (3) 1m ago").
    settings.add_filter(r"(Up|\(-?\d+\)) \d+[smhd]( ago)?( |$)", "$1 [TIME]$3");
    settings.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[DATE]");
    // A layer's age in the layer list's short form ("2y ago"), and the gap after it.
    settings.add_filter(r"\b\d+(s|m|h|d|w|mo|y) ago +", "[AGE] ");
    // Live usage of running containers.
    settings.add_filter(r"\d+(\.\d+)?(B|KiB|MiB|GiB) / ", "[MEM] / ");
    // (Not the start of an IP address: 172.17.0.2.)
    settings.add_filter(r"\b\d+\.\d\d( |$)", "[CPU]$1");
    // What follows a masked value shifts with its length: close the gap.
    settings.add_filter(r"\] (─+|[ ]+)", "] ");
    settings.add_filter(r"(\[MEM\] / \S+) +", "$1 ");
    // The status column is as wide as its longest text, which is a clock.
    settings.add_filter(r"(STATUS|Created) +", "$1 ");
    // The image column fills what the status leaves, so it moves with that clock too.
    settings.add_filter(
        r"(IMAGE|busybox:latest) +(STATUS|Exited|Created|Up)",
        "$1 $2",
    );
    settings
}

/// web runs with a volume, a bind and a tmpfs; job is created; done exited with a diff.
fn state() -> (Berth, tempfile::TempDir) {
    let berth = Berth::with_image();
    let bind = tempfile::tempdir().unwrap();
    berth.ok(&["volume", "create", "data"]);
    berth.ok(&["volume", "create", "spare"]);
    berth.ok(&["network", "create", "--subnet", "10.77.0.0/24", "lan"]);
    let bind_spec = format!("{}:/srv:ro", bind.path().display());
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "-v",
        "data:/data",
        "-v",
        &bind_spec,
        "--tmpfs",
        "/scratch",
        "-m",
        "64m",
        "-p",
        "8080:80",
        "-e",
        "MODE=demo",
        IMAGE,
        "sleep",
        "1000",
    ]);
    berth.ok(&[
        "exec",
        "web",
        "sh",
        "-c",
        "mkdir /data/logs && echo hello > /data/greeting",
    ]);
    berth.ok(&["network", "connect", "--alias", "www", "lan", "web"]);
    berth.ok(&["create", "--name", "job", IMAGE, "echo", "hi"]);
    berth.run(&[
        "run",
        "--name",
        "done",
        IMAGE,
        "sh",
        "-c",
        "echo to-out; sleep 0.3; echo to-err >&2; mkdir /made; echo x > /made/file; rm /bin/cat; exit 3",
    ]);
    // The status column is as wide as a status gets within the next minute; in its
    // first second, "Exited (3) Less than a second ago" is longer still, and the frames
    // (one sample each, no wait) would come out wider by chance.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    (berth, bind)
}

#[test]
fn views_render_the_engine_state() {
    let (berth, bind) = state();
    let mut settings = settings();
    settings.add_filter(&regex_escape(bind.path().to_str().unwrap()), "[BIND]");
    settings.bind(|| {
        insta::assert_snapshot!("containers", frame(&berth, &[]));
        insta::assert_snapshot!(
            "containers_selected",
            frame(&berth, &["--view", "containers", "--select", "web"])
        );
        insta::assert_snapshot!("images", frame(&berth, &["--view", "images"]));
        insta::assert_snapshot!("volumes", frame(&berth, &["--view", "volumes"]));
        insta::assert_snapshot!("networks", frame(&berth, &["--view", "networks"]));
        insta::assert_snapshot!(
            "network",
            frame(&berth, &["--view", "network", "--select", "bridge"])
        );
        insta::assert_snapshot!(
            "endpoints",
            frame(&berth, &["--view", "endpoints", "--select", "web"])
        );
        insta::assert_snapshot!("containers_160", wide_frame(&berth, &[]));
        insta::assert_snapshot!("networks_160", wide_frame(&berth, &["--view", "networks"]));
        insta::assert_snapshot!(
            "network_160",
            wide_frame(&berth, &["--view", "network", "--select", "lan"])
        );
        insta::assert_snapshot!(
            "endpoints_160",
            wide_frame(&berth, &["--view", "endpoints", "--select", "web"])
        );
        insta::assert_snapshot!(
            "mounts",
            frame(&berth, &["--view", "mounts", "--select", "web"])
        );
        insta::assert_snapshot!(
            "config",
            frame(&berth, &["--view", "config", "--select", "web"])
        );
        insta::assert_snapshot!(
            "diff",
            frame(&berth, &["--view", "diff", "--select", "done"])
        );
        insta::assert_snapshot!(
            "logs",
            frame(&berth, &["--view", "logs", "--select", "done"])
        );
        insta::assert_snapshot!(
            "volume",
            frame(&berth, &["--view", "volume", "--select", "data"])
        );
        insta::assert_snapshot!(
            "layers",
            frame(&berth, &["--view", "layers", "--select", IMAGE])
        );
    });
}

#[test]
fn views_fit_80x24() {
    let (berth, bind) = state();
    let mut settings = settings();
    settings.add_filter(&regex_escape(bind.path().to_str().unwrap()), "[BIND]");
    settings.bind(|| {
        insta::assert_snapshot!("containers_80x24", small_frame(&berth, &[]));
        insta::assert_snapshot!(
            "config_80x24",
            small_frame(&berth, &["--view", "config", "--select", "web"])
        );
        insta::assert_snapshot!(
            "mounts_80x24",
            small_frame(&berth, &["--view", "mounts", "--select", "web"])
        );
        insta::assert_snapshot!(
            "diff_80x24",
            small_frame(&berth, &["--view", "diff", "--select", "done"])
        );
        insta::assert_snapshot!(
            "layers_80x24",
            small_frame(&berth, &["--view", "layers", "--select", IMAGE])
        );
        insta::assert_snapshot!("volumes_80x24", small_frame(&berth, &["--view", "volumes"]));
        insta::assert_snapshot!("images_80x24", small_frame(&berth, &["--view", "images"]));
        insta::assert_snapshot!(
            "networks_80x24",
            small_frame(&berth, &["--view", "networks"])
        );
        insta::assert_snapshot!(
            "network_80x24",
            small_frame(&berth, &["--view", "network", "--select", "bridge"])
        );
        insta::assert_snapshot!(
            "endpoints_80x24",
            small_frame(&berth, &["--view", "endpoints", "--select", "web"])
        );
    });
}

/// The theme flag and NO_COLOR change only colours: the text frame and JSON stay whole.
#[test]
fn themes_and_no_color_leave_once_working() {
    let berth = Berth::new();
    let plain = berth.ok(&["ui", "--once"]);
    for theme in ["dark", "light", "high-contrast", "no-color"] {
        assert_eq!(
            berth.ok(&["ui", "--once", "--theme", theme]),
            plain,
            "{theme}"
        );
    }
    let json = berth.ok(&["ui", "--once", "--format", "json", "--theme", "light"]);
    serde_json::from_str::<serde_json::Value>(&json).expect("JSON with --theme");
    let err = berth.fail(&["ui", "--once", "--theme", "sepia"]);
    assert!(
        err.contains("unknown theme \"sepia\": use dark, light"),
        "{err}"
    );
    let bad = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(bad.path(), "title = { fg = \"plaid\" }").unwrap();
    let err = berth.fail(&["ui", "--once", "--theme", bad.path().to_str().unwrap()]);
    assert!(
        err.contains("field \"title\"") && err.contains("plaid"),
        "{err}"
    );
}

/// The container names a frame or `ps` lists, top to bottom.
fn listed_names(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("many-")))
        .collect()
}

/// More containers and volumes than a frame has rows: the frame shows the running
/// container first (the oldest, last in `ps -a`'s order), then the others by name, and
/// the first volumes by name with their sizes; the rows below it keep their data in the
/// JSON.
#[test]
fn a_frame_over_many_containers_shows_the_first_rows_in_order() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "--name",
        "many-00",
        IMAGE,
        "sleep",
        "1000",
    ]);
    for i in 1..30 {
        berth.ok(&[
            "create",
            "--network",
            "none",
            "--name",
            &format!("many-{i:02}"),
            IMAGE,
            "true",
        ]);
    }
    for i in 0..12 {
        berth.ok(&["volume", "create", &format!("vol-{i:02}")]);
    }
    let ps = berth.ok(&["ps", "-a", "--format", "{{.Names}}"]);
    let all = listed_names(&ps);
    assert_eq!(all.len(), 30, "{ps}");
    assert_eq!(all[0], "many-29");

    let by_name: Vec<String> = (0..30).map(|i| format!("many-{i:02}")).collect();
    let frame = berth.ok(&["ui", "--once", "--width", "120", "--height", "16"]);
    // 16 rows: tabs, the pane's top, its header, 11 rows, its bottom and the footer.
    assert_eq!(listed_names(&frame), by_name[..11], "{frame}");
    assert!(
        frame.contains("Containers (30 shown, 1 running; all, by running first)"),
        "{frame}"
    );
    assert!(frame.contains("3 Volumes (12)"), "{frame}");
    // The running one leads, selected, with its stats.
    let row = frame.lines().find(|l| l.contains("│› many-00 ")).unwrap();
    assert!(row.contains(" Up "), "{row}");
    assert!(!row.contains(" -      -"), "stats missing: {row}");

    let json: serde_json::Value =
        serde_json::from_str(&berth.ok(&["ui", "--once", "--format", "json"])).unwrap();
    let rows = json["Rows"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["Names"].as_str().unwrap()).collect();
    assert_eq!(names, by_name);
    let oldest = &rows[0];
    assert_eq!(oldest["State"], "running", "{oldest}");
    assert!(oldest["CPUPerc"].is_number(), "{oldest}");
    assert!(oldest["PIDs"].as_u64().unwrap() >= 1, "{oldest}");

    // Selected at the bottom, the frame scrolls to it.
    let frame = berth.ok(&[
        "ui", "--once", "--width", "120", "--height", "16", "--select", "many-29",
    ]);
    assert_eq!(listed_names(&frame), by_name[19..], "{frame}");
    assert!(frame.contains("│› many-29 "), "{frame}");

    // Volumes: the first by name, each with its size; the selected one too.
    let sizes = |frame: &str| -> Vec<(String, String)> {
        frame
            .lines()
            .filter_map(|l| {
                let words: Vec<&str> = l
                    .trim_start_matches(['│', '›', ' '])
                    .split_whitespace()
                    .collect();
                words
                    .first()
                    .filter(|w| w.starts_with("vol-"))
                    .map(|w| (w.to_string(), words[2].to_string()))
            })
            .collect()
    };
    let volumes = |extra: &[&str]| {
        let mut args = vec![
            "ui", "--once", "--view", "volumes", "--width", "120", "--height", "8",
        ];
        args.extend_from_slice(extra);
        berth.ok(&args)
    };
    let frame = volumes(&[]);
    let expected: Vec<(String, String)> = (0..3)
        .map(|i| (format!("vol-{i:02}"), "0B".to_owned()))
        .collect();
    assert_eq!(sizes(&frame), expected, "{frame}");
    let frame = volumes(&["--select", "vol-11"]);
    let expected: Vec<(String, String)> = (9..12)
        .map(|i| (format!("vol-{i:02}"), "0B".to_owned()))
        .collect();
    assert_eq!(sizes(&frame), expected, "{frame}");
}

#[test]
fn once_gives_the_same_data_as_json() {
    let (berth, _bind) = state();
    let json = |args: &[&str]| -> serde_json::Value {
        serde_json::from_str(&berth.ok(args)).expect("JSON from ui --once")
    };
    let rows = json(&["ui", "--once", "--format", "json"]);
    let names: Vec<&str> = rows["Rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Names"].as_str().unwrap())
        .collect();
    // Running first, then by name.
    assert_eq!(names, ["web", "done", "job"]);
    let web = &rows["Rows"][0];
    assert_eq!(web["State"], "running");
    assert_eq!(web["MemLimit"], 64 * 1024 * 1024);
    assert!(web["PIDs"].as_u64().unwrap() >= 1, "{web}");
    let mounts = json(&[
        "ui", "--once", "--format", "json", "--view", "mounts", "--select", "web",
    ]);
    let kinds: Vec<&str> = mounts["Mounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Type"].as_str().or(m["kind"].as_str()).unwrap_or("?"))
        .collect();
    assert_eq!(kinds.len(), 3, "{mounts}");
    // web's addresses and ports, in the pane and in its Network tab.
    assert_eq!(web["IP"], "172.17.0.2", "{web}");
    assert_eq!(web["Ports"], "0.0.0.0:8080->80/tcp", "{web}");
    let endpoints = json(&[
        "ui",
        "--once",
        "--format",
        "json",
        "--view",
        "endpoints",
        "--select",
        "web",
    ]);
    let networks: Vec<(&str, &str)> = endpoints["Networks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["Network"].as_str().unwrap(),
                n["Endpoint"]["address"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        networks,
        [("bridge", "172.17.0.2/16"), ("lan", "10.77.0.2/24")],
        "{endpoints}"
    );
    assert_eq!(endpoints["Ports"][0], "80/tcp -> 0.0.0.0:8080");

    let pane = json(&["ui", "--once", "--format", "json", "--view", "networks"]);
    let lan = pane["Rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["Name"] == "lan")
        .cloned()
        .expect("lan in the pane");
    assert_eq!(lan["Subnet"], "10.77.0.0/24");
    assert_eq!(lan["Containers"], 1);
    assert_eq!(lan["BridgeState"], "up");
    // The detail: web's host end is live on lan's bridge, with counters and a rate.
    let detail = json(&[
        "ui", "--once", "--format", "json", "--view", "network", "--select", "lan",
    ]);
    let network = &detail["Network"];
    let port = &network["endpoints"][0]["port"];
    assert_eq!(port["master"], network["bridge_name"], "{detail}");
    assert_eq!(port["on_bridge"], true);
    assert!(port["counters"]["tx_packets"].is_u64(), "{detail}");
    let veth = network["endpoints"][0]["host_veth"].as_str().unwrap();
    assert!(detail["Rates"][veth]["rx_bytes"].is_number(), "{detail}");
}

#[test]
fn bad_once_arguments_are_one_line_errors() {
    let berth = Berth::new();
    let err = berth.fail(&["ui", "--once", "--view", "planets"]);
    assert!(err.contains("invalid --view \"planets\""), "{err}");
    let err = berth.fail(&["ui", "--once", "--view", "logs"]);
    assert!(err.contains("needs --select CONTAINER"), "{err}");
    let err = berth.fail(&["ui", "--once", "--view", "network"]);
    assert!(err.contains("needs --select NETWORK"), "{err}");
    let err = berth.fail(&["ui", "--once", "--view", "network", "--select", "ghost"]);
    assert!(err.contains("ghost") && err.contains("networks"), "{err}");
    let err = berth.fail(&["ui", "--once", "--select", "ghost"]);
    assert!(err.contains("ghost"), "{err}");
    let err = berth.fail(&["ui"]);
    assert!(err.contains("needs a terminal"), "{err}");
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == '-' || c == '_' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

#[test]
fn the_config_tab_shows_the_restart_policy_and_the_stop_signal_when_set() {
    let berth = Berth::with_image();
    berth.ok(&[
        "create",
        "--name",
        "svc",
        "--restart",
        "on-failure:3",
        "--stop-signal",
        "SIGUSR1",
        "--stop-timeout",
        "30",
        "berth-test/busybox",
        "true",
    ]);
    // Tall enough for every field.
    let config = masked(
        &berth,
        &[
            "ui", "--once", "--width", "120", "--height", "32", "--view", "config", "--select",
            "svc",
        ],
    );
    assert!(
        config.contains("Restart     on-failure:3 (restarted 0 times)"),
        "{config}"
    );
    assert!(
        config.contains("Stop        SIGUSR1, SIGKILL after 30s"),
        "{config}"
    );
}

#[test]
fn the_config_tab_shows_the_health_check_when_set() {
    let berth = Berth::with_image();
    berth.ok(&[
        "create",
        "--name",
        "svc",
        "--health-cmd",
        "test -f /ready",
        "--health-interval",
        "2s",
        "berth-test/busybox",
        "true",
    ]);
    let config = masked(
        &berth,
        &[
            "ui", "--once", "--width", "120", "--height", "32", "--view", "config", "--select",
            "svc",
        ],
    );
    assert!(
        config.contains("Health      not run yet: test -f /ready (every 2s, 3 retries)"),
        "{config}"
    );
}

/// Config tab frames: `many` created with most of `run`'s options, as tall as they need
/// and on the smallest terminal (scrolled); the lines come from the container's inspect.
#[test]
fn the_config_tab_shows_every_option_set() {
    let berth = Berth::with_image();
    berth.ok(&[
        "create",
        "--name",
        "many",
        "--hostname",
        "many",
        "--restart",
        "on-failure:3",
        "--health-cmd",
        "test -f /ready",
        "--health-interval",
        "2s",
        "--health-retries",
        "4",
        "--health-timeout",
        "1s",
        "--health-start-period",
        "5s",
        "--cap-add",
        "NET_ADMIN",
        "--cap-drop",
        "MKNOD",
        "--device",
        "/dev/null:/dev/mynull:rw",
        "--device-cgroup-rule",
        "c 1:3 rmw",
        "--security-opt",
        "no-new-privileges",
        "--init",
        "--ulimit",
        "nofile=1024:2048",
        "--shm-size",
        "128m",
        "--sysctl",
        "net.ipv4.ip_forward=1",
        "--group-add",
        "10",
        "--stop-signal",
        "SIGUSR1",
        "--stop-timeout",
        "30",
        "-m",
        "64m",
        "--memory-swap",
        "128m",
        "--memory-reservation",
        "32m",
        "--cpus",
        "0.5",
        "--cpu-shares",
        "512",
        "--cpuset-cpus",
        "0",
        "--cpuset-mems",
        "0",
        "--pids-limit",
        "100",
        "--oom-kill-disable",
        "--ipc",
        "shareable",
        "--pid",
        "host",
        "--userns",
        "host",
        "--cgroupns",
        "host",
        "--expose",
        "5432",
        "--read-only",
        "-l",
        "tier=db",
        IMAGE,
        "true",
    ]);
    // A container with none of them shows none of their headings.
    berth.ok(&["create", "--name", "plain", IMAGE, "true"]);
    // --cpus and a CPU period don't go together.
    berth.ok(&[
        "create",
        "--name",
        "quota",
        "--cpu-period",
        "100000",
        "--cpu-quota",
        "50000",
        IMAGE,
        "true",
    ]);
    let view = |name: &str, width: &str, height: &str| {
        masked(
            &berth,
            &[
                "ui", "--once", "--width", width, "--height", height, "--view", "config",
                "--select", name,
            ],
        )
    };
    settings().bind(|| {
        insta::assert_snapshot!("config_options", view("many", "100", "64"));
        insta::assert_snapshot!("config_options_80x24", view("many", "80", "24"));
    });
    let plain = view("plain", "100", "40");
    for heading in [
        "Restart and stop:",
        "Health:",
        "Security:",
        "Namespaces:",
        "Ports:",
    ] {
        assert!(!plain.contains(heading), "{heading} in {plain}");
    }
    // The runtime's default PIDs limit is a limit: the only resource shown.
    let rows: Vec<&str> = plain.lines().map(|l| l.trim_matches(['│', ' '])).collect();
    let at = rows.iter().position(|r| *r == "Resources:").expect(&plain);
    assert_eq!(
        rows[at + 1..at + 3],
        ["PIDs limit  2048 (default)", "Env:"],
        "{plain}"
    );
    let quota = view("quota", "100", "40");
    assert!(quota.contains("CPU period  100000 µs"), "{quota}");
    assert!(quota.contains("CPU quota   50000 µs"), "{quota}");
}

/// What the container controls (labels, env, a probe's output) is drawn without its
/// escape sequences and cut to a bound: a frame shows text, never a terminal's commands.
#[test]
fn the_config_tab_draws_hostile_text_harmlessly() {
    let berth = Berth::with_image();
    let huge = "x".repeat(100_000);
    let label = format!("evil=\x1b[2J\x1b]52;c;aGk=\x07boom\x1b[31m{huge}");
    let env = "SHOUT=\x1b]0;pwned\x07quiet\u{202e}txt.exe";
    // The probe prints a file of escapes the container wrote, then 5,000 bytes on one line.
    let probe = r"cat /evil; head -c 5000 /dev/zero | tr '\0' y";
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "hostile",
        "-l",
        &label,
        "-e",
        env,
        "--health-cmd",
        probe,
        "--health-interval",
        "1s",
        IMAGE,
        "sleep",
        "1000",
    ]);
    berth.ok(&[
        "exec",
        "hostile",
        "sh",
        "-c",
        r"printf '\033[2J\033[31mred\033[0m\033]0;title\007done\n' > /evil",
    ]);
    common::wait_until("a probe that read /evil", || {
        let inspected = berth.inspect("hostile");
        let log = &inspected["State"]["Health"]["Log"];
        log.as_array()
            .and_then(|l| l.last())
            .is_some_and(|r| r["Output"].as_str().unwrap_or("").contains("done"))
    });
    let frame = masked(
        &berth,
        &[
            "ui", "--once", "--width", "120", "--height", "40", "--view", "config", "--select",
            "hostile",
        ],
    );
    for residue in ["\x1b", "[2J", "[31m", "]52;", "]0;", "\x07", "\u{202e}"] {
        assert!(!frame.contains(residue), "{residue:?} drawn: {frame}");
    }
    assert!(frame.contains("  evil=boom"), "{frame}");
    assert!(frame.contains("  SHOUT=quiet txt.exe"), "{frame}");
    assert!(frame.contains("> reddone"), "{frame}");
    // The 5,000-byte line is cut to the tab's bound, the label's 100,000 too.
    assert!(frame.contains("> yyyy"), "{frame}");
    let longest = frame.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(longest <= 120, "a line wider than the frame: {frame}");
    let json: serde_json::Value = serde_json::from_str(&berth.ok(&[
        "ui", "--once", "--format", "json", "--view", "config", "--select", "hostile",
    ]))
    .unwrap();
    let text = json["Config"].to_string();
    assert!(text.contains("evil=boom"), "{text}");
    assert!(!text.contains("\\u001b"), "{text}");
    assert!(text.len() < 20_000, "{} bytes of config", text.len());
    berth.ok(&["rm", "-f", "hostile"]);
}

/// The host and none networks list the containers on them, derived from the container
/// records the snapshot read (once, for every pane).
#[test]
fn the_networks_pane_counts_host_and_none_containers() {
    let berth = Berth::with_image();
    for (name, network) in [("h1", "host"), ("h2", "host"), ("n1", "none")] {
        berth.ok(&[
            "create",
            "--name",
            name,
            "--network",
            network,
            IMAGE,
            "true",
        ]);
    }
    let pane: serde_json::Value = serde_json::from_str(
        &berth.ok(&["ui", "--once", "--format", "json", "--view", "networks"]),
    )
    .unwrap();
    let count = |name: &str| {
        pane["Rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["Name"] == name)
            .map(|r| r["Containers"].clone())
    };
    assert_eq!(count("host"), Some(2.into()), "{pane}");
    assert_eq!(count("none"), Some(1.into()), "{pane}");
    assert_eq!(count("bridge"), Some(0.into()), "{pane}");
    let detail = berth.ok(&[
        "ui", "--once", "--width", "120", "--height", "20", "--view", "network", "--select", "host",
    ]);
    assert!(detail.contains("h1") && detail.contains("h2"), "{detail}");
}
