//! `berth pull` against a real registry: Debian's docker-registry, one per test, inside
//! the test's own network namespace (tests/common/registry.rs), seeded by skopeo from the
//! fixture OCI layouts.

use crate::common;

use std::path::Path;

use common::proxy::DroppingProxy;
use common::registry::Registry;
use common::{fixtures, stderr, stdout, Berth};
use serde_json::Value;

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("read fixture")).expect("fixture JSON")
}

/// The fixture layout's manifest digest and the manifest itself.
fn fixture_manifest(layout: &str) -> (String, Value) {
    let dir = fixtures().join(layout);
    let index = read_json(&dir.join("index.json"));
    let digest = index["manifests"][0]["digest"]
        .as_str()
        .expect("digest")
        .to_owned();
    let hex = digest.trim_start_matches("sha256:");
    (
        digest.clone(),
        read_json(&dir.join("blobs/sha256").join(hex)),
    )
}

#[test]
fn pull_by_tag_then_run() {
    let berth = Berth::new();
    let registry = Registry::with_busybox(berth.netns());
    let name = format!("{}/test/busybox:latest", registry.host());
    let (digest, manifest) = fixture_manifest("busybox-oci");
    let out = berth.ok(&["pull", &name]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "latest: Pulling from test/busybox", "{out}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.ends_with(": Pull complete"))
            .count(),
        2,
        "{out}"
    );
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    assert!(
        out.contains(&format!("{}: Pull complete", &layer[7..19])),
        "{out}"
    );
    assert!(
        lines.contains(&format!("Digest: {digest}").as_str()),
        "{out}"
    );
    assert!(
        lines.contains(&format!("Status: Downloaded newer image for {name}").as_str()),
        "{out}"
    );
    assert_eq!(lines.last(), Some(&name.as_str()));

    let run = berth.ok(&["run", "--rm", &name, "cat", "/etc/layer2.txt"]);
    assert_eq!(run, "from layer 2\n");
    let image = berth.json(&["image", "inspect", &name]);
    assert_eq!(image["Id"], manifest["config"]["digest"]);
    // A pulled image saves, and loads elsewhere as the same image.
    let archive = tempfile::tempdir().unwrap();
    let file = archive.path().join("pulled.tar");
    berth.ok(&["save", "-o", file.to_str().unwrap(), &name]);
    let other = Berth::new();
    other.ok(&["load", "-q", "-i", file.to_str().unwrap()]);
    assert_eq!(other.json(&["image", "inspect", &name])["Id"], image["Id"]);

    // Again: nothing to download, and Docker's words for it.
    let again = berth.ok(&["pull", &name]);
    assert!(
        again.contains(&format!("Status: Image is up to date for {name}")),
        "{again}"
    );
    assert!(!again.contains("Pull complete"), "{again}");
    assert!(berth
        .root_entries("tmp")
        .iter()
        .all(|n| !n.starts_with("layer-")));
}

#[test]
fn a_connection_dropped_mid_layer_is_resumed_and_the_pull_completes() {
    let berth = Berth::new();
    let registry = Registry::with_busybox(berth.netns());
    let (_, manifest) = fixture_manifest("busybox-oci");
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let layer_size = std::fs::metadata(registry.blob_path(layer)).unwrap().len();
    // Three connections cut 256 KiB into their answer: the layer (about 1 MiB) breaks
    // three times.
    let cut_after = 256 << 10;
    assert!(
        layer_size > 3 * cut_after,
        "the fixture layer is {layer_size} bytes"
    );
    let port: u16 = registry.host().rsplit_once(':').unwrap().1.parse().unwrap();
    let proxy = DroppingProxy::start(berth.netns(), port, 3, cut_after);
    let name = format!("{}/test/busybox:latest", proxy.host());

    let out = berth.ok(&["pull", &name]);
    assert!(
        out.contains(&format!("Status: Downloaded newer image for {name}")),
        "{out}"
    );
    assert_eq!(proxy.connections_cut(), 3);
    // Each cut is resumed from where it broke, not from the start: the answer's bytes
    // matched the layer's digest and its diff ID only if nothing was lost or doubled.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while proxy.ranged_requests() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(proxy.ranged_requests(), 3);
    let image = berth.json(&["image", "inspect", &name]);
    assert_eq!(image["Id"], manifest["config"]["digest"]);
    let run = berth.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        &name,
        "cat",
        "/etc/layer2.txt",
    ]);
    assert_eq!(run, "from layer 2\n");
    assert!(berth
        .root_entries("tmp")
        .iter()
        .all(|n| !n.starts_with("layer-")));
}

#[test]
fn other_verbs_and_check_go_on_while_a_pull_downloads() {
    let berth = Berth::new();
    let registry = Registry::with_busybox(berth.netns());
    let port: u16 = registry.host().rsplit_once(':').unwrap().1.parse().unwrap();
    let proxy = DroppingProxy::holding(berth.netns(), port, 256 << 10);
    let name = format!("{}/test/busybox:latest", proxy.host());
    let mut pull = berth
        .cmd()
        .args(["pull", &name])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while proxy.connections_cut() == 0 {
        assert!(
            started.elapsed().as_secs() < 30,
            "the pull never reached the layer"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Mid-layer: the engine lock is free, and the pull's files are left alone.
    berth.ok(&["volume", "create", "meanwhile"]);
    let check = berth.ok(&["system", "check"]);
    assert!(!check.contains("work-"), "{check}");
    assert!(berth
        .root_entries("tmp")
        .iter()
        .any(|n| n.starts_with("work-")));
    proxy.release();
    assert!(pull.wait().unwrap().success());
    berth.ok(&["image", "inspect", &name]);
    assert!(
        berth.root_entries("tmp").is_empty(),
        "{:?}",
        berth.root_entries("tmp")
    );
}

#[test]
fn pull_by_digest_pins_the_manifest() {
    let berth = Berth::new();
    let registry = Registry::with_busybox(berth.netns());
    let (digest, manifest) = fixture_manifest("busybox-oci");
    let name = format!("{}/test/busybox@{digest}", registry.host());
    let out = berth.ok(&["pull", &name]);
    assert!(out.contains(&format!("Digest: {digest}")), "{out}");
    assert_eq!(out.lines().last(), Some(name.as_str()));
    // No tag is made; the image is there by its ID.
    let id = manifest["config"]["digest"].as_str().unwrap();
    let ids = berth.ok(&["images", "-a", "-q"]);
    assert!(ids.contains(&id[7..19]), "{ids}");
    let run = berth.ok(&["run", "--rm", id, "cat", "/etc/layer2.txt"]);
    assert_eq!(run, "from layer 2\n");
    // The pinned reference names the image from now on, as Docker's RepoDigests.
    let image = berth.json(&["image", "inspect", &name]);
    assert_eq!(image["Id"], id);
    assert_eq!(image["RepoDigests"], serde_json::json!([name]));
    let run = berth.ok(&[
        "run",
        "--rm",
        "--pull",
        "never",
        &name,
        "cat",
        "/etc/layer2.txt",
    ]);
    assert_eq!(run, "from layer 2\n");

    // A digest the repository does not have is refused, not replaced by another.
    let other = format!("{}/test/busybox@sha256:{}", registry.host(), "0".repeat(64));
    let err = berth.fail(&["pull", &other]);
    assert!(err.contains("manifest unknown"), "{err}");
}

#[test]
fn run_and_create_pull_a_missing_image_as_pull_says() {
    let berth = Berth::new();
    let registry = Registry::with_busybox(berth.netns());
    let name = format!("{}/test/busybox:latest", registry.host());

    // Never: the image is not here, and nothing is asked of the registry.
    let never = berth.run(&["run", "--rm", "--pull", "never", &name, "true"]);
    assert_eq!(never.status.code(), Some(125));
    let err = stderr(&never);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&format!("no such image: {name}")), "{err}");

    // Missing (the default): pulled, with the pull's words on stderr and the
    // container's output alone on stdout.
    let first = berth.run(&["run", "--rm", &name, "cat", "/etc/layer2.txt"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(stdout(&first), "from layer 2\n");
    let err = stderr(&first);
    assert!(
        err.starts_with(&format!("Unable to find image '{name}' locally\n")),
        "{err}"
    );
    assert!(
        err.contains(&format!("Status: Downloaded newer image for {name}")),
        "{err}"
    );

    // Here now: no pull; always: asked again, and nothing new.
    let second = berth.run(&["run", "--rm", &name, "true"]);
    assert!(second.status.success());
    assert_eq!(stderr(&second), "");
    let always = berth.run(&["create", "--pull", "always", "--name", "c1", &name]);
    assert!(always.status.success(), "{}", stderr(&always));
    assert!(
        stderr(&always).contains(&format!("Status: Image is up to date for {name}")),
        "{}",
        stderr(&always)
    );
    assert_eq!(stdout(&always).trim().len(), 64, "only the ID on stdout");

    // -q keeps it silent.
    let quiet = berth.run(&["create", "-q", "--pull", "always", &name]);
    assert!(quiet.status.success(), "{}", stderr(&quiet));
    assert_eq!(stderr(&quiet), "");

    // A registry without the image: one line after the notice, exit 125.
    let missing = format!("{}/test/nothing:here", registry.host());
    let out = berth.run(&["run", "--rm", &missing, "true"]);
    assert_eq!(out.status.code(), Some(125));
    let err = stderr(&out);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!("Error: pulling {missing}")),
        "{err}"
    );
    assert!(last.contains("manifest unknown"), "{err}");
    assert_eq!(err.lines().count(), 2, "{err}");
    assert_eq!(berth.ok(&["ps", "-a", "-q"]).lines().count(), 2);
}

#[test]
fn a_blob_not_matching_its_digest_is_refused_and_nothing_stored() {
    let berth = Berth::new();
    let registry = Registry::with_busybox(berth.netns());
    let (_, manifest) = fixture_manifest("busybox-oci");
    // Byte 4 of a gzip stream is its mtime: the layer still decompresses to the same tar,
    // so only the blob digest can catch the change.
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let path = registry.blob_path(layer);
    let mut bytes = std::fs::read(&path).expect("read the registry's blob");
    bytes[4] ^= 0xff;
    std::fs::write(&path, bytes).expect("tamper with the blob");

    let out = berth.run(&["pull", &format!("{}/test/busybox", registry.host())]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("blob digest mismatch") && err.contains(layer),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    for dir in ["images", "layers", "blobs/sha256"] {
        assert_eq!(berth.root_entries(dir), Vec::<String>::new(), "{dir}");
    }
    assert_eq!(berth.root_entries("tmp"), Vec::<String>::new());
    assert_eq!(berth.ok(&["images", "-a", "-q"]), "");
}

#[test]
fn layers_already_present_are_skipped() {
    let berth = Berth::new();
    let registry = Registry::with_busybox(berth.netns());
    registry.seed(
        &fixtures().join("busybox-multi-oci"),
        "latest",
        "test/multi:latest",
    );
    berth.ok(&["pull", &format!("{}/test/busybox:latest", registry.host())]);
    // Another image (its config differs) on the same two layers.
    let out = berth.ok(&["pull", &format!("{}/test/multi:latest", registry.host())]);
    assert_eq!(out.matches(": Already exists").count(), 2, "{out}");
    assert!(!out.contains("Pull complete"), "{out}");
    assert!(out.contains("Status: Downloaded newer image"), "{out}");
    assert_eq!(berth.root_entries("layers").len(), 2);
}

#[test]
fn an_index_picks_the_host_platform_and_platform_overrides() {
    let berth = Berth::new();
    let registry = Registry::start(berth.netns());
    registry.seed(
        &fixtures().join("busybox-multi-oci"),
        "latest",
        "test/multi:latest",
    );
    let name = format!("{}/test/multi:latest", registry.host());
    berth.ok(&["pull", &name]);
    let image = berth.json(&["image", "inspect", &name]);
    assert_eq!(image["Architecture"], "amd64");
    assert_eq!(image["Config"]["Labels"]["berth.test.arch"], "amd64");

    berth.ok(&["pull", "--platform", "linux/arm64", &name]);
    let image = berth.json(&["image", "inspect", &name]);
    assert_eq!(image["Architecture"], "arm64");

    let out = berth.run(&["pull", "--platform", "linux/s390x", &name]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no matching manifest for linux/s390x"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn failures_are_one_clear_line_and_exit_1() {
    let berth = Berth::new();
    let registry = Registry::start(berth.netns());
    let host = registry.host();
    let cases = [
        ("Bad/Name", "invalid reference format"),
        ("a:b:c", "invalid reference format"),
        (
            &*format!("{host}/test/nothing:latest"),
            "the registry answered 404 Not Found",
        ),
        // Port 1 in the test's own namespace: nothing listens there.
        (
            "127.0.0.1:1/test/busybox",
            "cannot reach http://127.0.0.1:1",
        ),
    ];
    for (reference, want) in cases {
        let out = berth.run(&["pull", reference]);
        assert_eq!(out.status.code(), Some(1), "{reference}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{reference}: {err}");
        assert!(err.contains(want), "{reference}: {err}");
        assert!(!stdout(&out).contains("Status:"), "{reference}");
    }
    assert_eq!(berth.ok(&["images", "-a", "-q"]), "");
}

/// Starts `berth <verb> <image> <after>` (a pull through a proxy that stalls
/// mid-layer), sends `signal` once the layer stalls, and returns the exit status; the
/// CLI must exit soon after.
fn interrupted_mid_layer(
    berth: &Berth,
    registry: &Registry,
    (verb, after): (&[&str], &[&str]),
    signal: nix::sys::signal::Signal,
) -> std::process::ExitStatus {
    use std::time::{Duration, Instant};
    let port: u16 = registry.host().rsplit_once(':').unwrap().1.parse().unwrap();
    let proxy = DroppingProxy::holding(berth.netns(), port, 256 << 10);
    let name = format!("{}/test/busybox:latest", proxy.host());
    let mut child = berth
        .cmd()
        .args(verb)
        .arg(&name)
        .args(after)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while proxy.connections_cut() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the pull never reached the layer"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(berth
        .root_entries("tmp")
        .iter()
        .any(|n| n.starts_with("work-")));
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, signal).unwrap();
    // The stall lasts until the proxy is released (never, here): the pull must not wait
    // for the registry to unwind.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("berth {verb:?} did not exit after {signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_interrupted_pull_removes_its_workspace_and_exits_as_the_signal() {
    use nix::sys::signal::Signal;
    let berth = Berth::new();
    let registry = Registry::with_busybox(berth.netns());
    let run = ["run", "--rm", "--network", "none", "--name", "never"];
    for (verb, after, signal, code) in [
        (&["pull", "-q"][..], &[][..], Signal::SIGINT, 130),
        (&["pull", "-q"][..], &[][..], Signal::SIGHUP, 129),
        // run's implicit pull, as pull's.
        (&run[..], &["true"][..], Signal::SIGTERM, 143),
    ] {
        let status = interrupted_mid_layer(&berth, &registry, (verb, after), signal);
        assert_eq!(status.code(), Some(code), "{verb:?} {signal}");
        assert_eq!(berth.root_entries("tmp"), Vec::<String>::new(), "{signal}");
        for dir in ["images", "layers", "blobs/sha256"] {
            assert_eq!(berth.root_entries(dir), Vec::<String>::new(), "{dir}");
        }
        let check = berth.ok(&["system", "check"]);
        assert!(!check.contains("work-"), "{check}");
    }
    assert_eq!(berth.ok(&["ps", "-a", "-q"]), "");
}
