//! `berth pull` from a hostile registry: a layer that decompresses without end, a manifest
//! claiming more than the disk holds, a layer that would fill the engine's filesystem.
//! Each is refused in one line naming the layer, and leaves nothing behind. The crafted
//! images are made here and served by Debian's docker-registry inside the test's own
//! network namespace (tests/common/registry.rs).

use crate::common;

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::registry::Registry;
use common::{fixtures, stderr, Berth};
use serde_json::{json, Value};
use sha2::Digest as _;

/// `sha256sum` of a file (the tools' native speed: the test build hashes slowly).
fn sha256_file(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(out.status.success(), "sha256sum {}", path.display());
    let text = String::from_utf8_lossy(&out.stdout);
    format!("sha256:{}", text.split(' ').next().unwrap())
}

/// Writes `bytes` as a blob of an OCI layout; returns its descriptor.
fn put_blob(layout: &Path, media_type: &str, bytes: &[u8]) -> Value {
    let digest = format!("sha256:{:x}", sha2::Sha256::digest(bytes));
    std::fs::write(layout.join("blobs/sha256").join(&digest[7..]), bytes).unwrap();
    json!({"mediaType": media_type, "digest": digest, "size": bytes.len()})
}

/// An OCI layout under `dir` holding `latest`: one gzip layer, a tar of one file of
/// `zeros` zero bytes (a few hundred KiB compressed for hundreds of MiB unpacked).
fn zeros_image(dir: &Path, zeros: u64) -> (String, u64) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    // The tar, written once to disk for its diff ID, then gzipped by gzip(1).
    let tar_path = dir.join("layer.tar");
    {
        let mut tar = io::BufWriter::new(File::create(&tar_path).unwrap());
        let mut header = tar::Header::new_gnu();
        header.set_path("zeros").unwrap();
        header.set_size(zeros);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        tar.write_all(header.as_bytes()).unwrap();
        let chunk = vec![0u8; 1 << 20];
        let mut left = zeros + (512 - zeros % 512) % 512 + 1024;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            tar.write_all(&chunk[..n]).unwrap();
            left -= n as u64;
        }
        tar.flush().unwrap();
    }
    let diff_id = sha256_file(&tar_path);
    let gz_path = dir.join("layer.tar.gz");
    let gzip = Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .stdin(File::open(&tar_path).unwrap())
        .stdout(File::create(&gz_path).unwrap())
        .status()
        .unwrap();
    assert!(gzip.success());
    std::fs::remove_file(&tar_path).unwrap();
    let layer_digest = sha256_file(&gz_path);
    let layer_size = std::fs::metadata(&gz_path).unwrap().len();
    std::fs::rename(&gz_path, blobs.join(&layer_digest[7..])).unwrap();

    let config = json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    });
    let config = put_blob(
        dir,
        "application/vnd.oci.image.config.v1+json",
        config.to_string().as_bytes(),
    );
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config,
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": layer_digest,
            "size": layer_size,
        }],
    });
    let mut manifest = put_blob(
        dir,
        "application/vnd.oci.image.manifest.v1+json",
        manifest.to_string().as_bytes(),
    );
    manifest["annotations"] = json!({"org.opencontainers.image.ref.name": "latest"});
    let index = json!({"schemaVersion": 2, "manifests": [manifest]});
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    (layer_digest, layer_size)
}

/// A registry serving `test/zeros:latest`: a layer of `zeros` zero bytes.
fn zeros_registry(berth: &Berth, zeros: u64) -> (Registry, String) {
    let registry = Registry::start(berth.netns());
    let layout = tempfile::tempdir().unwrap();
    let (layer, size) = zeros_image(layout.path(), zeros);
    assert!(size < 1 << 20, "the layer is {size} bytes compressed");
    registry.seed(layout.path(), "latest", "test/zeros:latest");
    (registry, layer)
}

/// The pull failed with one line naming the layer and `cause`, and left nothing.
fn refused_leaving_nothing(berth: &Berth, out: &Output, layer: &str, cause: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(layer) && err.contains(cause), "{err}");
    for dir in ["images", "layers", "tmp"] {
        assert_eq!(berth.root_entries(dir), Vec::<String>::new(), "{dir}");
    }
    let check = berth.ok(&["system", "check"]);
    assert!(
        !check.contains("orphan") && !check.contains("work-"),
        "{check}"
    );
}

#[test]
fn a_layer_unpacking_past_the_ratio_bound_is_refused() {
    let berth = Berth::new();
    let (registry, layer) = zeros_registry(&berth, 256 << 20);
    let out = berth.run(&["pull", &format!("{}/test/zeros", registry.host())]);
    refused_leaving_nothing(&berth, &out, &layer, "more than 100 times");
}

#[test]
fn a_manifest_claiming_more_than_the_free_space_is_refused_before_downloading() {
    let berth = Berth::new();
    let registry = Registry::with_busybox(berth.netns());
    // The fixture's manifest, its first layer said to be 4 EiB, under another tag.
    let index: Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("busybox-oci/index.json")).unwrap())
            .unwrap();
    let digest = index["manifests"][0]["digest"].as_str().unwrap();
    let mut manifest: Value = serde_json::from_slice(
        &std::fs::read(
            fixtures()
                .join("busybox-oci/blobs/sha256")
                .join(&digest[7..]),
        )
        .unwrap(),
    )
    .unwrap();
    manifest["layers"][0]["size"] = json!(1u64 << 62);
    let layer = manifest["layers"][0]["digest"].as_str().unwrap().to_owned();
    let body = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(body.path(), manifest.to_string()).unwrap();
    let url = format!("http://{}/v2/test/busybox/manifests/huge", registry.host());
    let put = berth
        .netns()
        .command("curl")
        .args(["-fsS", "-X", "PUT", "--max-time", "10", "-H"])
        .arg("Content-Type: application/vnd.oci.image.manifest.v1+json")
        .arg("--data-binary")
        .arg(format!("@{}", body.path().display()))
        .arg(&url)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(put.status.success(), "{}", stderr(&put));

    let out = berth.run(&["pull", &format!("{}/test/busybox:huge", registry.host())]);
    refused_leaving_nothing(&berth, &out, &layer, "its manifest claims");
}

/// Mounts a tmpfs of `size` on the engine's root, before its first command; the
/// harness detaches every mount below the root when the test ends.
fn small_root(berth: &Berth, size: &str) {
    nix::mount::mount(
        Some("tmpfs"),
        berth.root(),
        Some("tmpfs"),
        nix::mount::MsFlags::MS_NOSUID | nix::mount::MsFlags::MS_NODEV,
        Some(format!("size={size},mode=0700").as_str()),
    )
    .expect("mount a tmpfs on the engine root");
}

#[test]
fn a_layer_that_would_fill_the_filesystem_stops_at_the_reserve() {
    let berth = Berth::new();
    small_root(&berth, "64m");
    let (registry, layer) = zeros_registry(&berth, 256 << 20);
    // The ratio bound lifted (the user's setting), so only the free space stops it.
    let config = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(config.path().join("berth")).unwrap();
    std::fs::write(
        config.path().join("berth/config.toml"),
        "max-unpack-ratio = 0\n",
    )
    .unwrap();
    let out = berth
        .cmd()
        .env("XDG_CONFIG_HOME", config.path())
        .args(["pull", &format!("{}/test/zeros", registry.host())])
        .output()
        .unwrap();
    refused_leaving_nothing(&berth, &out, &layer, "left free on the engine's filesystem");
}
