//! `berth push` against a real registry (Debian's docker-registry inside the test's own
//! network namespace, tests/common/registry.rs): a pulled image goes out as the same
//! bytes, an image without a manifest gets one that a pull runs, a second push sends
//! nothing, a registry behind a login refuses until `berth login`.

use crate::common;

use std::process::{Output, Stdio};

use common::registry::Registry;
use common::{fixtures, Berth};
use serde_json::Value;

const USER: &str = "pusher";
const PASSWORD: &str = "pu5h-s3cret";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What the registry serves for `repo:tag`, byte for byte (skopeo, inside the netns).
fn raw_manifest(berth: &Berth, name: &str) -> Vec<u8> {
    let out = berth
        .netns()
        .command("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{name}"))
        .stdin(Stdio::null())
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo inspect {name}: {}",
        text(&out.stderr)
    );
    out.stdout
}

/// HEAD of a blob in a repository, as the registry answers it (curl, inside the netns).
fn has_blob(berth: &Berth, registry: &Registry, repo: &str, digest: &str) -> bool {
    let url = format!("http://{}/v2/{repo}/blobs/{digest}", registry.host());
    berth
        .netns()
        .command("curl")
        .args(["-fsS", "-I", "-o", "/dev/null", "--max-time", "5", &url])
        .stdin(Stdio::null())
        .status()
        .expect("run curl")
        .success()
}

fn fixture_manifest_bytes() -> Vec<u8> {
    let dir = fixtures().join("busybox-oci");
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let digest = index["manifests"][0]["digest"].as_str().unwrap();
    std::fs::read(dir.join("blobs/sha256").join(&digest[7..])).unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{:x}", sha2::Sha256::digest(bytes))
}

/// The `<tag>: digest: sha256:... size: N` line's digest.
fn pushed_digest(out: &str, tag: &str) -> String {
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("{tag}: digest: ")))
        .unwrap_or_else(|| panic!("no digest line in {out}"));
    line.split(' ').nth(2).expect("digest").to_owned()
}

#[test]
fn a_pulled_image_pushes_as_the_same_bytes_by_mounting_its_blobs() {
    let berth = Berth::new();
    let registry = Registry::with_busybox(berth.netns());
    let host = registry.host();
    let source = format!("{host}/test/busybox:latest");
    let target = format!("{host}/other/bb:v1");
    berth.ok(&["pull", "-q", &source]);
    berth.ok(&["tag", &source, &target]);

    let out = berth.ok(&["push", &target]);
    let original = fixture_manifest_bytes();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        format!("The push refers to repository [{host}/other/bb]"),
        "{out}"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.ends_with(": Mounted from test/busybox"))
            .count(),
        2,
        "{out}"
    );
    assert_eq!(
        lines.last().copied(),
        Some(format!("v1: digest: {} size: {}", sha256(&original), original.len()).as_str()),
        "{out}"
    );
    // The registry serves exactly the bytes pulled, and has every blob they name.
    assert_eq!(raw_manifest(&berth, &target), original);
    let manifest: Value = serde_json::from_slice(&original).unwrap();
    let mut blobs = vec![manifest["config"]["digest"].as_str().unwrap()];
    blobs.extend(
        manifest["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["digest"].as_str().unwrap()),
    );
    for blob in blobs {
        assert!(has_blob(&berth, &registry, "other/bb", blob), "{blob}");
    }
}

#[test]
fn an_image_without_a_manifest_gets_one_that_pulls_and_runs_and_pushes_again_unchanged() {
    let berth = Berth::with_image();
    let registry = Registry::start(berth.netns());
    let name = format!("{}/test/saved:v1", registry.host());
    berth.ok(&["tag", "berth-test/busybox:latest", &name]);

    let out = berth.ok(&["push", &name]);
    assert_eq!(
        out.lines().filter(|l| l.ends_with(": Pushed")).count(),
        2,
        "{out}"
    );
    let digest = pushed_digest(&out, "v1");
    let served = raw_manifest(&berth, &name);
    assert_eq!(sha256(&served), digest);
    let manifest: Value = serde_json::from_slice(&served).unwrap();
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    for layer in manifest["layers"].as_array().unwrap() {
        assert_eq!(
            layer["mediaType"],
            "application/vnd.oci.image.layer.v1.tar+gzip"
        );
    }

    // Again: the registry has everything; the same manifest goes out.
    let again = berth.ok(&["push", &name]);
    assert_eq!(
        again
            .lines()
            .filter(|l| l.ends_with(": Layer already exists"))
            .count(),
        2,
        "{again}"
    );
    assert!(!again.contains("Pushed"), "{again}");
    assert_eq!(pushed_digest(&again, "v1"), digest);
    // To another registry, where nothing can be mounted: the layers gzip to the same
    // bytes again, so the stored manifest goes out unchanged.
    let elsewhere = Registry::start(berth.netns());
    let copy = format!("{}/copy/saved:v1", elsewhere.host());
    berth.ok(&["tag", &name, &copy]);
    let out = berth.ok(&["push", &copy]);
    assert_eq!(
        out.lines().filter(|l| l.ends_with(": Pushed")).count(),
        2,
        "{out}"
    );
    assert_eq!(pushed_digest(&out, "v1"), digest);
    berth.ok(&["rmi", &copy]);
    // The gzipped layers were removed from tmp/.
    let tmp: Vec<_> = std::fs::read_dir(berth.root().join("tmp"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("blob-"))
        .collect();
    assert!(tmp.is_empty(), "{tmp:?}");

    // Gone here, pulled back: the same image, and it runs.
    let id = berth.json(&["image", "inspect", &name])["Id"].clone();
    berth.ok(&["rmi", "-f", "berth-test/busybox:latest", &name]);
    assert!(berth.ok(&["images", "-q"]).trim().is_empty());
    let pulled = berth.ok(&["pull", &name]);
    assert!(pulled.contains(&format!("Digest: {digest}")), "{pulled}");
    assert_eq!(berth.json(&["image", "inspect", &name])["Id"], id);
    let run = berth.ok(&["run", "--rm", &name, "cat", "/etc/motd"]);
    assert_eq!(run, "layer2 motd\n");
}

#[test]
fn a_layer_that_cannot_be_recompressed_alike_gets_a_new_manifest_that_pulls() {
    // The OCI fixture's second layer is zstd: berth sends its gzip instead.
    let berth = Berth::new();
    berth.load_fixture("busybox-oci");
    let registry = Registry::start(berth.netns());
    let name = format!("{}/fresh/bb:latest", registry.host());
    berth.ok(&["tag", "berth-test/busybox-oci:latest", &name]);
    let out = berth.ok(&["push", &name]);
    let digest = pushed_digest(&out, "latest");
    assert_ne!(digest, sha256(&fixture_manifest_bytes()));
    let served: Value = serde_json::from_slice(&raw_manifest(&berth, &name)).unwrap();
    assert_eq!(
        served["layers"][1]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );

    // A second engine root in the same namespace pulls it back and runs it.
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let pull = |args: &[&str]| -> Output {
        berth
            .netns()
            .command(env!("CARGO_BIN_EXE_berth"))
            .arg("--root")
            .arg(root.path())
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .env("DOCKER_CONFIG", home.path().join(".docker"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("spawn berth")
    };
    let out = pull(&["pull", &name]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = pull(&["run", "--rm", &name, "cat", "/etc/layer2.txt"]);
    assert_eq!(text(&out.stdout), "from layer 2\n", "{}", text(&out.stderr));
}

#[test]
fn push_to_a_locked_registry_needs_a_login() {
    let berth = Berth::with_image();
    let registry = Registry::start_with_login(berth.netns(), USER, PASSWORD);
    let host = registry.host();
    let name = format!("{host}/test/locked:v1");
    berth.ok(&["tag", "berth-test/busybox:latest", &name]);

    let err = berth.fail(&["push", &name]);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains(&format!("pushing {name}")), "{err}");
    assert!(err.contains("401 Unauthorized"), "{err}");
    assert!(
        err.contains(&format!("no credentials: run berth login {host}")),
        "{err}"
    );

    let login = berth.run_with_input(
        &["login", "-u", USER, "--password-stdin", &host],
        format!("{PASSWORD}\n").as_bytes(),
    );
    assert!(login.status.success(), "{}", text(&login.stderr));
    let out = berth.ok(&["push", &name]);
    assert_eq!(
        out.lines().filter(|l| l.ends_with(": Pushed")).count(),
        2,
        "{out}"
    );
}

#[test]
fn pushing_a_missing_image_is_one_line() {
    let berth = Berth::new();
    let out = berth.run(&["push", "127.0.0.1:5999/nothing/here:v1"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains(
            "pushing 127.0.0.1:5999/nothing/here:v1: An image does not exist locally with the tag: 127.0.0.1:5999/nothing/here"
        ),
        "{err}"
    );
    let err = berth.fail(&["push", "127.0.0.1:5999/nothing/here@sha256:0000000000000000000000000000000000000000000000000000000000000000"]);
    assert!(err.contains("push takes a tag"), "{err}");
}

#[test]
fn loading_a_saved_copy_over_a_pulled_image_keeps_its_repo_digests_and_manifest() {
    let berth = Berth::new();
    let registry = Registry::with_busybox(berth.netns());
    let host = registry.host();
    let source = format!("{host}/test/busybox:latest");
    berth.ok(&["pull", "-q", &source]);
    let before = berth.json(&["image", "inspect", &source]);
    assert_eq!(before["RepoDigests"].as_array().unwrap().len(), 1);

    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("saved.tar");
    berth.ok(&["save", "-o", archive.to_str().unwrap(), &source]);
    berth.ok(&["load", "-q", "-i", archive.to_str().unwrap()]);

    let after = berth.json(&["image", "inspect", &source]);
    assert_eq!(after["RepoDigests"], before["RepoDigests"]);
    berth.ok(&["system", "check"]);
    let repair = berth.ok(&["system", "check", "--repair"]);
    assert!(!repair.contains("orphan"), "{repair}");

    // The kept manifest is still the one pushed: the registry's own bytes.
    let target = format!("{host}/other/bb:v1");
    berth.ok(&["tag", &source, &target]);
    let out = berth.ok(&["push", &target]);
    let original = fixture_manifest_bytes();
    assert_eq!(pushed_digest(&out, "v1"), sha256(&original), "{out}");
}
