//! Image verbs end to end: archives are built here with tar::Builder and serde_json.

use crate::common;

use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use berth::engine::Digest;
use common::Berth;
use serde_json::{json, Value};

const NAME: &str = "berth-test/demo:latest";

/// A layer tar: (name, contents) files, directories end in '/', "name->target" symlinks.
fn layer(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(1_600_000_000);
        if let Some((link, target)) = name.split_once("->") {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            h.set_mode(0o777);
            b.append_link(&mut h, link, target).unwrap();
        } else if name.ends_with('/') {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
            h.set_mode(0o755);
            b.append_data(&mut h, name, &b""[..]).unwrap();
        } else {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, data.as_bytes()).unwrap();
        }
    }
    b.into_inner().unwrap()
}

const BASE: &[(&str, &str)] = &[
    ("etc/", ""),
    ("etc/hello", "hello\n"),
    ("etc/gone", "soon deleted\n"),
    ("data/", ""),
    ("data/old", "old\n"),
    ("bin/", ""),
    ("bin/sh->/bin/busybox", ""),
];

fn base_layer() -> Vec<u8> {
    layer(BASE)
}

/// Bytes of file content in a layer spec, what history's SIZE shows.
fn content_size(entries: &[(&str, &str)]) -> usize {
    entries.iter().map(|(_, data)| data.len()).sum()
}

fn top_layer() -> Vec<u8> {
    layer(&[
        ("etc/.wh.gone", ""),
        ("data/", ""),
        ("data/.wh..wh..opq", ""),
        ("data/new", "new\n"),
    ])
}

fn config(layers: &[&[u8]], cmd: &str) -> Vec<u8> {
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| Digest::of_bytes(l).to_string())
        .collect();
    let history = [
        json!({"created": "2024-01-02T03:04:00Z", "created_by": "ADD base"}),
        json!({"created": "2024-01-02T03:04:01Z", "created_by": "ENV PATH=/bin", "empty_layer": true}),
        json!({"created": "2024-01-02T03:04:05Z", "created_by": "RUN update"}),
    ];
    serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "created": "2024-01-02T03:04:05Z",
        "author": "berth tests",
        "config": {"Cmd": [cmd], "Env": ["PATH=/bin"], "WorkingDir": "/data",
                   "ExposedPorts": {"80/tcp": {}}, "Labels": {"a": "b"}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history[..layers.len() + 1]
    }))
    .unwrap()
}

fn tar_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, &data[..]).unwrap();
    }
    b.into_inner().unwrap()
}

/// `docker save` of one image: manifest.json, <id>.json, <n>/layer.tar.
fn docker_save(layers: &[Vec<u8>], config: &[u8], tags: &[&str]) -> Vec<u8> {
    let config_name = format!("{}.json", Digest::of_bytes(config).hex());
    let layer_names: Vec<String> = (0..layers.len())
        .map(|i| format!("l{i}/layer.tar"))
        .collect();
    let manifest = json!([{"Config": config_name, "RepoTags": tags, "Layers": layer_names}]);
    let mut files = vec![(config_name, config.to_vec())];
    files.extend(layer_names.iter().cloned().zip(layers.iter().cloned()));
    files.push((
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    ));
    tar_of(&files)
}

/// An OCI layout: (path, bytes) members; blobs given as already-compressed bytes.
fn oci_layout(blobs: &[Vec<u8>], config: &[u8], name: &str) -> Vec<(String, Vec<u8>)> {
    let desc = |media: &str, bytes: &[u8]| json!({"mediaType": media, "digest": Digest::of_bytes(bytes).to_string(), "size": bytes.len()});
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc("application/vnd.oci.image.config.v1+json", config),
        // Media types are deliberately wrong: detection is by magic bytes.
        "layers": blobs.iter().map(|b| desc("application/vnd.oci.image.layer.v1.tar", b)).collect::<Vec<_>>(),
    }))
    .unwrap();
    let mut top = desc("application/vnd.oci.image.manifest.v1+json", &manifest);
    top["annotations"] =
        json!({"io.containerd.image.name": name, "org.opencontainers.image.ref.name": "ignored"});
    let index = json!({"schemaVersion": 2, "manifests": [top]});
    let mut files = vec![
        (
            "oci-layout".to_owned(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ),
        ("index.json".to_owned(), serde_json::to_vec(&index).unwrap()),
    ];
    for blob in blobs
        .iter()
        .map(Vec::as_slice)
        .chain([config, &manifest[..]])
    {
        files.push((
            format!("blobs/sha256/{}", Digest::of_bytes(blob).hex()),
            blob.to_vec(),
        ));
    }
    files
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

/// The two-layer test image as a docker-save archive in a scratch dir, with its parts.
struct TwoLayers {
    scratch: tempfile::TempDir,
    l1: Vec<u8>,
    l2: Vec<u8>,
    cfg: Vec<u8>,
    id: Digest,
    archive: String,
}

fn two_layer_archive() -> TwoLayers {
    let scratch = tempfile::tempdir().unwrap();
    let (l1, l2) = (base_layer(), top_layer());
    let cfg = config(&[&l1, &l2], "/bin/sh");
    let id = Digest::of_bytes(&cfg);
    let archive = write(
        scratch.path(),
        "save.tar",
        &docker_save(&[l1.clone(), l2.clone()], &cfg, &[NAME]),
    );
    TwoLayers {
        scratch,
        l1,
        l2,
        cfg,
        id,
        archive,
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

fn write_dir(dir: &Path, files: &[(String, Vec<u8>)]) -> String {
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    dir.to_str().unwrap().to_owned()
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

fn chain_dir(berth: &Berth, chain: &Digest) -> PathBuf {
    berth.root().join("layers").join(chain.hex())
}

fn chain_ids(layers: &[&[u8]]) -> Vec<Digest> {
    let mut chain: Option<Digest> = None;
    layers
        .iter()
        .map(|l| {
            let diff = Digest::of_bytes(l);
            let next = berth::engine::image::chain_id(chain.as_ref(), &diff);
            chain = Some(next.clone());
            next
        })
        .collect()
}

/// Nothing of a failed load remains: no record, tag, layer, blob or scratch file.
fn assert_no_debris(berth: &Berth) {
    for dir in ["images", "layers", "tmp", "blobs/sha256"] {
        assert!(
            entries(&berth.root().join(dir)).is_empty(),
            "{dir} not empty"
        );
    }
    let tags = std::fs::read_to_string(berth.root().join("repositories.json")).unwrap_or_default();
    assert!(!tags.contains(':'), "tags left: {tags}");
}

#[test]
fn docker_save_archive_loads_and_is_inspectable() {
    let berth = Berth::new();
    let TwoLayers {
        scratch: _scratch,
        l1,
        l2,
        id,
        archive,
        ..
    } = two_layer_archive();

    assert_eq!(
        berth.ok(&["load", "-i", &archive]),
        format!("Loaded image: {NAME}\n")
    );

    let table = berth.ok(&["images"]);
    let mut lines = table.lines();
    assert!(lines.next().unwrap().starts_with("REPOSITORY"));
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(&row[..3], &["berth-test/demo", "latest", id.short()]);
    assert!(table.contains("ago"), "{table}");
    assert_eq!(berth.ok(&["images", "-q"]).trim(), id.short());
    let json: Value =
        serde_json::from_str(berth.ok(&["images", "--format", "json"]).trim()).unwrap();
    assert_eq!(json["Repository"], "berth-test/demo");

    let info = berth.inspect(NAME);
    assert_eq!(info["Id"], id.to_string());
    assert_eq!(info["RepoTags"], json!([NAME]));
    assert_eq!(info["Config"]["Cmd"], json!(["/bin/sh"]));
    assert_eq!(info["Config"]["ExposedPorts"], json!({"80/tcp": {}}));
    assert_eq!(info["Author"], "berth tests");
    assert_eq!(info["GraphDriver"]["Name"], "overlay2");
    let diff_ids = json!([
        Digest::of_bytes(&l1).to_string(),
        Digest::of_bytes(&l2).to_string()
    ]);
    assert_eq!(info["RootFS"]["Layers"], diff_ids);
    // By ID and by unique prefix too.
    assert_eq!(berth.inspect(&id.to_string())["Id"], info["Id"]);
    assert_eq!(berth.inspect(&id.hex()[..5])["Id"], info["Id"]);

    // The unpacked layers, with overlay whiteouts.
    let chains = chain_ids(&[&l1, &l2]);
    let base = chain_dir(&berth, &chains[0]).join("diff");
    let top = chain_dir(&berth, &chains[1]).join("diff");
    assert_eq!(
        std::fs::read_to_string(base.join("etc/hello")).unwrap(),
        "hello\n"
    );
    assert_eq!(
        std::fs::read_link(base.join("bin/sh")).unwrap(),
        Path::new("/bin/busybox")
    );
    let gone = std::fs::symlink_metadata(top.join("etc/gone")).unwrap();
    assert!(gone.file_type().is_char_device() && gone.rdev() == 0);
    assert!(!top.join("etc/.wh.gone").exists());
    assert!(!top.join("data/.wh..wh..opq").exists());
    assert_eq!(
        berth::engine::image::unpack::get_xattr(&top.join("data"), "trusted.overlay.opaque"),
        Some(b"y".to_vec())
    );

    // History: newest first, the empty layer as <missing> 0B.
    let history = berth.ok(&["image", "history", NAME]);
    let rows: Vec<&str> = history.lines().collect();
    assert_eq!(rows.len(), 4, "{history}");
    assert!(rows[0].starts_with("IMAGE"));
    assert!(rows[1].starts_with(id.short()) && rows[1].contains("RUN update"));
    assert!(
        rows[2].starts_with("<missing>") && rows[2].contains("ENV PATH") && rows[2].contains("0B")
    );
    assert!(
        rows[3].contains("ADD base")
            && rows[3]
                .split_whitespace()
                .any(|w| w == format!("{}B", content_size(BASE))),
        "{history}"
    );
    let quiet = berth.ok(&["image", "history", "-q", NAME]);
    assert_eq!(
        quiet.lines().collect::<Vec<_>>(),
        [id.short(), "<missing>", "<missing>"]
    );
    let json_rows = berth.ok(&["image", "history", "--format", "json", "--no-trunc", NAME]);
    let first: Value = serde_json::from_str(json_rows.lines().next().unwrap()).unwrap();
    assert_eq!(first["ID"], id.to_string());
    assert_eq!(first["CreatedBy"], "RUN update");
}

#[test]
fn tag_and_rmi_untag_then_delete_and_collect_layers() {
    let berth = Berth::new();
    let TwoLayers {
        scratch: _scratch,
        id,
        archive,
        ..
    } = two_layer_archive();
    berth.ok(&["load", "-i", &archive]);

    berth.ok(&["tag", NAME, "other:1"]);
    assert_eq!(berth.inspect("other:1")["Id"], id.to_string());
    let err = berth.fail(&["rmi", id.short()]);
    assert!(err.contains("referenced in multiple repositories"), "{err}");
    assert_eq!(berth.ok(&["rmi", "other:1"]), "Untagged: other:1\n");
    assert!(berth
        .fail(&["image", "inspect", "other:1"])
        .contains("no such image: other:1"));
    assert_eq!(entries(&berth.root().join("layers")).len(), 2);

    let out = berth.ok(&["rmi", "berth-test/demo"]);
    assert_eq!(out, format!("Untagged: {NAME}\nDeleted: {id}\n"));
    assert_no_debris(&berth);
    let err = berth.fail(&["rmi", "berth-test/demo"]);
    assert_eq!(err.trim(), format!("Error: no such image: {NAME}"));
}

#[test]
fn oci_layouts_share_layers_with_docker_save() {
    let berth = Berth::new();
    let TwoLayers {
        scratch,
        l1,
        l2,
        cfg,
        id,
        archive,
    } = two_layer_archive();
    berth.ok(&["load", "-i", &archive]);
    let chains = chain_ids(&[&l1, &l2]);
    let hello = chain_dir(&berth, &chains[0]).join("diff/etc/hello");
    let inode = std::fs::metadata(&hello).unwrap().ino();

    // The same image as an OCI directory, gzip and zstd layers: nothing unpacked again.
    let dir = scratch.path().join("layout");
    let layout = write_dir(
        &dir,
        &oci_layout(&[gzip(&l1), zstd(&l2)], &cfg, "oci/demo:v1"),
    );
    assert_eq!(
        berth.ok(&["load", "-i", &layout]),
        "Loaded image: oci/demo:v1\n"
    );
    assert_eq!(berth.inspect("oci/demo:v1")["Id"], id.to_string());
    assert_eq!(std::fs::metadata(&hello).unwrap().ino(), inode);
    assert_eq!(entries(&berth.root().join("layers")).len(), 2);

    // Another image on the same base, as an OCI tar with zstd layers.
    let l3 = layer(&[("app/", ""), ("app/run", "#!/bin/sh\n")]);
    let cfg2 = config(&[&l1, &l3], "/app/run");
    let oci_tar = write(
        scratch.path(),
        "oci.tar",
        &tar_of(&oci_layout(&[zstd(&l1), zstd(&l3)], &cfg2, "app:2")),
    );
    assert_eq!(berth.ok(&["load", "-i", &oci_tar]), "Loaded image: app:2\n");
    assert_eq!(std::fs::metadata(&hello).unwrap().ino(), inode);
    let chains2 = chain_ids(&[&l1, &l3]);
    assert_eq!(chains2[0], chains[0]);
    assert_eq!(entries(&berth.root().join("layers")).len(), 3);
    let info = berth.inspect("app:2");
    let lower = info["GraphDriver"]["Data"]["LowerDir"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(lower.contains(chains[0].hex()));

    // Deleting the first image keeps the shared base, drops its own top layer.
    berth.ok(&["rmi", "oci/demo:v1"]);
    berth.ok(&["rmi", NAME]);
    assert!(chain_dir(&berth, &chains[0]).exists());
    assert!(!chain_dir(&berth, &chains[1]).exists());
    assert_eq!(
        berth.ok(&["images", "-q"]).trim(),
        Digest::of_bytes(&cfg2).short()
    );
    berth.ok(&["rmi", "app:2"]);
    assert_no_debris(&berth);
}

#[test]
fn import_makes_a_one_layer_image() {
    let berth = Berth::new();
    let scratch = tempfile::tempdir().unwrap();
    let rootfs = base_layer();
    let file = write(scratch.path(), "rootfs.tar.gz", &gzip(&rootfs));
    let out = berth.ok(&["import", &file, "imported:v1"]);
    let id: Digest = out.trim().parse().unwrap();
    let info = berth.inspect("imported:v1");
    assert_eq!(info["Id"], id.to_string());
    assert_eq!(
        info["RootFS"]["Layers"],
        json!([Digest::of_bytes(&rootfs).to_string()])
    );
    let history = berth.ok(&["image", "history", "--format", "json", "imported:v1"]);
    let row: Value = serde_json::from_str(history.trim()).unwrap();
    // Docker's: no command, the source named in the comment (the CLI streams it as "-").
    assert_eq!(row["CreatedBy"], "");
    assert_eq!(row["Comment"], "Imported from -");
    let diff = chain_dir(&berth, &Digest::of_bytes(&rootfs)).join("diff");
    assert_eq!(
        std::fs::read_to_string(diff.join("etc/hello")).unwrap(),
        "hello\n"
    );

    // From stdin, zstd, untagged: the same layer is shared.
    let out = berth.run_with_input(&["import", "-"], &zstd(&rootfs));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("sha256:"));
    assert_eq!(entries(&berth.root().join("layers")).len(), 1);
    let all = berth.ok(&["images", "-a"]);
    assert!(all.contains("<none>"), "{all}");
    assert!(!berth.ok(&["images"]).contains("<none>"));

    // -c sets the config as commit's does, -m the comment; a bad instruction fails
    // before the tar is read and leaves no image.
    berth.ok(&[
        "import",
        "-c",
        "CMD [\"/bin/sh\", \"-c\", \"echo hi\"]",
        "--change",
        "ENV A=1 B=2",
        "-c",
        "EXPOSE 80",
        "-m",
        "from a tarball",
        &file,
        "configured",
    ]);
    let info = berth.inspect("configured");
    assert_eq!(info["Config"]["Cmd"], json!(["/bin/sh", "-c", "echo hi"]));
    assert_eq!(info["Config"]["Env"], json!(["A=1", "B=2"]));
    assert_eq!(info["Config"]["ExposedPorts"], json!({"80/tcp": {}}));
    let history = berth.ok(&["image", "history", "--format", "{{.Comment}}", "configured"]);
    assert_eq!(history.trim(), "from a tarball");
    let before = berth.ok(&["images", "-aq"]);
    let err = berth.fail(&["import", "-c", "BOGUS x", &file, "bad"]);
    assert!(err.contains("BOGUS"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(berth.ok(&["images", "-aq"]), before);
}

/// Each malformed archive fails with one line naming the file, leaving nothing behind.
#[test]
fn malformed_and_hostile_archives_fail_cleanly() {
    let scratch = tempfile::tempdir().unwrap();
    let (l1, l2) = (base_layer(), top_layer());
    let cfg = config(&[&l1, &l2], "/bin/sh");
    let good = docker_save(&[l1.clone(), l2.clone()], &cfg, &[NAME]);

    let evil_name = format!("berth-evil-{}", std::process::id());
    let mut traversal = tar::Header::new_gnu();
    traversal.set_size(1);
    traversal.set_mode(0o644);
    traversal.as_gnu_mut().unwrap().name[..evil_name.len() + 6]
        .copy_from_slice(format!("../../{evil_name}").as_bytes());
    traversal.set_cksum();
    let mut b = tar::Builder::new(Vec::new());
    b.append(&traversal, &b"x"[..]).unwrap();
    let traversal_layer = b.into_inner().unwrap();
    let escape_layer = layer(&[
        (&format!("link->{}", scratch.path().display()), ""),
        (&format!("link/{evil_name}"), "x"),
    ]);

    let bad_diff = config(&[&l1, &l1], "/bin/sh");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "text.tar",
            b"this is not a tar archive at all".repeat(40),
            "not a valid tar",
        ),
        (
            "truncated.tar",
            good[..good.len() / 2].to_vec(),
            "truncated",
        ),
        (
            "nomanifest.tar",
            tar_of(&[("x".into(), b"y".to_vec())]),
            "no manifest.json",
        ),
        (
            "badjson.tar",
            tar_of(&[("manifest.json".into(), b"[{".to_vec())]),
            "invalid JSON",
        ),
        (
            "missingblob.tar",
            tar_of(&[(
                "manifest.json".into(),
                br#"[{"Config":"c.json","RepoTags":["a:b"],"Layers":[]}]"#.to_vec(),
            )]),
            "missing c.json",
        ),
        (
            "diffid.tar",
            docker_save(&[l1.clone(), l2.clone()], &bad_diff, &[NAME]),
            "layer 2",
        ),
        (
            "traversal.tar",
            docker_save(
                &[l1.clone(), traversal_layer.clone()],
                &config(&[&l1, &traversal_layer], "x"),
                &[NAME],
            ),
            "unsafe layer entry",
        ),
        (
            "escape.tar",
            docker_save(
                std::slice::from_ref(&escape_layer),
                &config(&[&escape_layer], "x"),
                &[NAME],
            ),
            "unsafe layer entry",
        ),
    ];
    for (name, bytes, want) in cases {
        let berth = Berth::new();
        let path = write(scratch.path(), name, &bytes);
        let err = berth.fail(&["load", "-i", &path]);
        assert_eq!(err.trim_end().lines().count(), 1, "{name}: {err}");
        assert!(err.contains(&path), "{name}: {err}");
        assert!(err.contains(want), "{name}: {err}");
        assert_no_debris(&berth);
        assert!(!scratch.path().join(&evil_name).exists());
        assert!(!berth.root().parent().unwrap().join(&evil_name).exists());
    }
    let berth = Berth::new();
    let err = berth.fail(&["load", "-i", "/nonexistent/archive.tar"]);
    assert!(err.contains("/nonexistent/archive.tar"), "{err}");
}

#[test]
fn rmi_refuses_an_image_a_container_uses_unless_forced() {
    use berth::engine::container::{ContainerConfig, ContainerRecord, ContainerState};
    use berth::engine::ContainerId;

    let berth = Berth::new();
    let TwoLayers {
        scratch,
        l1,
        l2,
        id,
        archive,
        ..
    } = two_layer_archive();
    berth.ok(&["load", "-i", &archive]);

    // A container record as the runtime writes it, stacking the image's layers.
    let chains = chain_ids(&[&l1, &l2]);
    let container = ContainerId::random();
    let record = ContainerRecord {
        id: container.clone(),
        name: "user".into(),
        created: chrono::Utc::now(),
        image: NAME.into(),
        image_id: id.clone(),
        chain_ids: chains.clone(),
        config: ContainerConfig::default(),
        state: ContainerState::default(),
    };
    let dir = berth.root().join("containers").join(container.as_str());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("record.json"),
        serde_json::to_vec(&record).unwrap(),
    )
    .unwrap();

    let err = berth.fail(&["rmi", NAME]);
    assert_eq!(
        err.trim(),
        format!(
            "Error: conflict: unable to remove image {NAME}: image is being used by container {}",
            container.short()
        )
    );
    assert_eq!(berth.inspect(NAME)["Id"], id.to_string());

    let out = berth.ok(&["rmi", "-f", NAME]);
    assert!(out.ends_with(&format!("Deleted: {id}\n")), "{out}");
    assert!(berth.ok(&["images", "-a", "-q"]).is_empty());
    // The container still needs its layers.
    for chain in &chains {
        assert!(chain_dir(&berth, chain).join("diff").is_dir());
    }
    // Without the container, the next removal's collection drops them.
    std::fs::remove_dir_all(&dir).unwrap();
    let other = write(
        scratch.path(),
        "other.tar",
        &docker_save(std::slice::from_ref(&l1), &config(&[&l1], "x"), &["o:1"]),
    );
    berth.ok(&["load", "-i", &other]);
    berth.ok(&["rmi", "o:1"]);
    assert_no_debris(&berth);
}

// The layer view (dashboard): layers with their build steps, and each layer's file tree.

mod layer_view {
    use super::*;
    use berth::engine::image::{TreeEntry, TreeScope};
    use berth::engine::storage::diff::{ChangeKind, FileType};
    use berth::engine::Engine;

    const BASE3: &[(&str, &str)] = &[
        ("etc/", ""),
        ("etc/hello", "hello\n"),
        ("etc/gone", "soon deleted\n"),
        ("data/", ""),
        ("data/old", "old\n"),
        ("bin/", ""),
        ("bin/sh->/bin/busybox", ""),
        ("var/", ""),
        ("var/log/", ""),
        ("var/log/a", "a\n"),
    ];
    /// Modifies a file and adds a directory.
    const MODIFY: &[(&str, &str)] = &[
        ("etc/", ""),
        ("etc/hello", "HELLO WORLD\n"),
        ("usr/", ""),
        ("usr/new", "new\n"),
    ];
    /// Deletes a file and a directory, and makes a directory opaque.
    const DELETE: &[(&str, &str)] = &[
        ("etc/", ""),
        ("etc/.wh.gone", ""),
        ("data/", ""),
        ("data/.wh..wh..opq", ""),
        ("data/new", "n\n"),
        ("var/", ""),
        ("var/.wh.log", ""),
    ];

    /// A three-layer image whose config has an empty step between the first two layers.
    fn load_three_layers(berth: &Berth) -> tempfile::TempDir {
        let layers: Vec<Vec<u8>> = [BASE3, MODIFY, DELETE].iter().map(|l| layer(l)).collect();
        let diff_ids: Vec<String> = layers
            .iter()
            .map(|l| Digest::of_bytes(l).to_string())
            .collect();
        let cfg = serde_json::to_vec(&json!({
            "architecture": "amd64",
            "os": "linux",
            "created": "2024-01-02T03:04:05Z",
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [
                {"created": "2024-01-02T03:04:00Z", "created_by": "ADD base"},
                {"created": "2024-01-02T03:04:01Z", "created_by": "ENV A=1", "empty_layer": true},
                {"created": "2024-01-02T03:04:02Z", "created_by": "RUN modify"},
                {"created": "2024-01-02T03:04:03Z", "created_by": "RUN delete", "comment": "gone"},
            ],
        }))
        .unwrap();
        let scratch = tempfile::tempdir().unwrap();
        let archive = write(
            scratch.path(),
            "three.tar",
            &docker_save(&layers, &cfg, &[NAME]),
        );
        berth.ok(&["load", "-i", &archive]);
        scratch
    }

    fn tree(
        engine: &Engine,
        layer: usize,
        scope: TreeScope,
    ) -> Vec<(String, FileType, Option<char>)> {
        let tree = engine.layer_changes(NAME, layer, scope).unwrap();
        assert!(!tree.truncated);
        assert_eq!((tree.layer, tree.scope), (layer, scope));
        tree.entries
            .into_iter()
            .map(|e| (e.path, e.kind, e.change.map(ChangeKind::symbol)))
            .collect()
    }

    fn rows(spec: &[(&str, FileType, Option<char>)]) -> Vec<(String, FileType, Option<char>)> {
        spec.iter()
            .map(|(p, k, c)| (p.to_string(), *k, *c))
            .collect()
    }

    fn entry(engine: &Engine, layer: usize, path: &str) -> TreeEntry {
        let tree = engine
            .layer_changes(NAME, layer, TreeScope::Aggregated)
            .unwrap();
        tree.entries.into_iter().find(|e| e.path == path).unwrap()
    }

    #[test]
    fn layers_carry_their_build_steps_and_history_matches_them() {
        let berth = Berth::new();
        let _scratch = load_three_layers(&berth);
        let engine = Engine::open(berth.root()).unwrap();

        let layers = engine.image_layers(NAME).unwrap();
        let steps: Vec<(usize, Option<&str>, Option<&str>, u64)> = layers
            .iter()
            .map(|l| {
                (
                    l.index,
                    l.created_by.as_deref(),
                    l.comment.as_deref(),
                    l.size,
                )
            })
            .collect();
        let size = |spec| content_size(spec) as u64;
        assert_eq!(
            steps,
            [
                (0, Some("ADD base"), None, size(BASE3)),
                (1, Some("RUN modify"), None, size(MODIFY)),
                (2, Some("RUN delete"), Some("gone"), size(DELETE)),
            ]
        );
        assert_eq!(layers[1].created.as_deref(), Some("2024-01-02T03:04:02Z"));
        let info = berth.inspect(NAME);
        let diff_ids: Vec<String> = layers.iter().map(|l| l.diff_id.to_string()).collect();
        assert_eq!(info["RootFS"]["Layers"], json!(diff_ids));
        let chains: Vec<&Digest> = layers.iter().map(|l| &l.chain_id).collect();
        assert_eq!(chains[0].to_string(), diff_ids[0]);
        assert!(chain_dir(&berth, chains[2]).is_dir());

        // The CLI shows the same matching, newest first, with the empty step in between.
        let history = engine.image_history(NAME).unwrap();
        let matched: Vec<Option<usize>> = history.entries.iter().map(|e| e.layer).collect();
        assert_eq!(matched, [Some(0), None, Some(1), Some(2)]);
        let table = berth.ok(&["image", "history", NAME]);
        let lines: Vec<&str> = table.lines().skip(1).collect();
        assert_eq!(lines.len(), 4, "{table}");
        for (line, step) in lines
            .iter()
            .zip(["RUN delete", "RUN modify", "ENV A=1", "ADD base"])
        {
            assert!(line.contains(step), "{table}");
        }
        assert!(
            lines[0].contains("gone") && lines[2].contains(" 0B"),
            "{table}"
        );
    }

    #[test]
    fn layer_trees_mark_what_each_layer_added_changed_and_deleted() {
        use FileType::{Dir, File, Symlink};
        let berth = Berth::new();
        let _scratch = load_three_layers(&berth);
        let engine = Engine::open(berth.root()).unwrap();

        // The base layer: everything is new, in depth-first order.
        let base = tree(&engine, 0, TreeScope::Layer);
        assert_eq!(base, tree(&engine, 0, TreeScope::Aggregated));
        assert_eq!(
            base.iter().map(|(p, ..)| p.as_str()).collect::<Vec<_>>(),
            [
                "bin",
                "bin/sh",
                "data",
                "data/old",
                "etc",
                "etc/gone",
                "etc/hello",
                "var",
                "var/log",
                "var/log/a"
            ]
        );
        assert!(base.iter().all(|(.., c)| *c == Some('A')));

        // The modifying layer alone, and the image so far.
        assert_eq!(
            tree(&engine, 1, TreeScope::Layer),
            rows(&[
                ("etc", Dir, Some('C')),
                ("etc/hello", File, Some('C')),
                ("usr", Dir, Some('A')),
                ("usr/new", File, Some('A')),
            ])
        );
        assert_eq!(
            tree(&engine, 1, TreeScope::Aggregated),
            rows(&[
                ("bin", Dir, None),
                ("bin/sh", Symlink, None),
                ("data", Dir, None),
                ("data/old", File, None),
                ("etc", Dir, Some('C')),
                ("etc/gone", File, None),
                ("etc/hello", File, Some('C')),
                ("usr", Dir, Some('A')),
                ("usr/new", File, Some('A')),
                ("var", Dir, None),
                ("var/log", Dir, None),
                ("var/log/a", File, None),
            ])
        );

        // The deleting layer: whiteouts of a file and a directory, an opaque directory.
        assert_eq!(
            tree(&engine, 2, TreeScope::Layer),
            rows(&[
                ("data", Dir, Some('C')),
                ("data/new", File, Some('A')),
                ("data/old", File, Some('D')),
                ("etc", Dir, Some('C')),
                ("etc/gone", File, Some('D')),
                ("var", Dir, Some('C')),
                ("var/log", Dir, Some('D')),
            ])
        );
        assert_eq!(
            tree(&engine, 2, TreeScope::Aggregated),
            rows(&[
                ("bin", Dir, None),
                ("bin/sh", Symlink, None),
                ("data", Dir, Some('C')),
                ("data/new", File, Some('A')),
                ("data/old", File, Some('D')),
                ("etc", Dir, Some('C')),
                ("etc/gone", File, Some('D')),
                ("etc/hello", File, None),
                ("usr", Dir, None),
                ("usr/new", File, None),
                ("var", Dir, Some('C')),
                ("var/log", Dir, Some('D')),
            ])
        );

        // Entries carry what the path is: the file as the upper layer has it, the link's
        // target, a deleted file as it was below.
        let hello = entry(&engine, 2, "etc/hello");
        assert_eq!(
            (hello.size, hello.mode, hello.uid, hello.gid),
            (12, 0o644, 0, 0)
        );
        let sh = entry(&engine, 2, "bin/sh");
        assert_eq!(
            (sh.link_target.as_deref(), sh.size),
            (Some("/bin/busybox"), 0)
        );
        let gone = entry(&engine, 2, "etc/gone");
        assert_eq!(
            (gone.kind, gone.size),
            (File, "soon deleted\n".len() as u64)
        );

        let err = engine
            .layer_changes(NAME, 3, TreeScope::Layer)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("layer") && err.contains("has 3 layers"),
            "{err}"
        );
        let err = engine
            .layer_changes("nope:latest", 0, TreeScope::Layer)
            .unwrap_err()
            .to_string();
        assert!(err.contains("nope"), "{err}");
    }
}
