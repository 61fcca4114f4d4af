//! The image lifecycle end to end: save (read back by berth, podman and skopeo), load of
//! what podman saves, commit, image prune and system df.

use crate::common;

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Berth, IMAGE};

fn image_id(berth: &Berth, name: &str) -> String {
    berth.inspect(name)["Id"].as_str().expect("Id").to_owned()
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A podman confined to a temp dir: its own storage (vfs), run and tmp dirs.
struct Podman {
    dir: tempfile::TempDir,
}

impl Podman {
    fn new() -> Podman {
        Podman {
            dir: tempfile::tempdir().expect("podman dir"),
        }
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let d = self.dir.path();
        Command::new("podman")
            .arg("--root")
            .arg(d.join("root"))
            .arg("--runroot")
            .arg(d.join("run"))
            .arg("--tmpdir")
            .arg(d.join("tmp"))
            .args(["--storage-driver", "vfs", "--events-backend", "none"])
            .args(args)
            .output()
            .expect("run podman (apt-get install -y podman)")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "podman {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

#[test]
fn save_then_load_into_a_fresh_root_keeps_the_image_id_and_runs() {
    let berth = Berth::with_image();
    let dir = tempfile::tempdir().unwrap();
    let id = image_id(&berth, IMAGE);
    for format in ["docker-archive", "oci-archive"] {
        let file = dir.path().join(format!("{format}.tar"));
        berth.ok(&["save", "--format", format, "-o", path_str(&file), IMAGE]);
        let fresh = Berth::new();
        let out = fresh.ok(&["load", "-i", path_str(&file)]);
        assert!(out.contains(IMAGE), "{out}");
        assert_eq!(image_id(&fresh, IMAGE), id, "{format}");
        let out = fresh.ok(&["run", "--rm", IMAGE, "cat", "/etc/layer2.txt"]);
        assert_eq!(out, "from layer 2\n");
    }
    // To stdout when it is not a terminal, and `image save` is the same verb.
    let piped = dir.path().join("piped.tar");
    let out = berth
        .cmd()
        .args(["image", "save", IMAGE])
        .stdout(std::fs::File::create(&piped).unwrap())
        .status()
        .unwrap();
    assert!(out.success());
    let fresh = Berth::new();
    fresh.ok(&["load", "-i", path_str(&piped)]);
    assert_eq!(image_id(&fresh, IMAGE), id);
    // The docker-archive members Docker writes.
    let names = tar_names(&dir.path().join("docker-archive.tar"));
    for want in [
        "manifest.json",
        "repositories",
        &format!("{}.json", &id[7..]),
    ] {
        assert!(names.contains(want), "{want} in {names:?}");
    }
    assert!(names.iter().any(|n| n.ends_with("/layer.tar")));
}

fn tar_names(file: &Path) -> HashSet<String> {
    let mut archive = tar::Archive::new(std::fs::File::open(file).unwrap());
    archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn save_fails_cleanly_on_a_missing_image_or_a_layer_without_its_record() {
    let berth = Berth::with_image();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.tar");
    let err = berth.fail(&["save", "-o", path_str(&file), "nosuch:tag"]);
    assert!(err.contains("nosuch"), "{err}");
    // A layer loaded before berth kept tar-split records can't be rebuilt: say so.
    let layers = berth.root().join("layers");
    let record = std::fs::read_dir(&layers)
        .unwrap()
        .map(|e| e.unwrap().path().join("tar-split"))
        .find(|p| p.exists())
        .expect("a tar-split record");
    std::fs::remove_file(&record).unwrap();
    let err = berth.fail(&["save", "-o", path_str(&file), IMAGE]);
    assert!(err.contains("can't be rebuilt"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn podman_and_skopeo_read_what_berth_saves_and_berth_loads_what_podman_saves() {
    let berth = Berth::with_image();
    let id = image_id(&berth, IMAGE);
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("berth.tar");
    berth.ok(&["save", "-o", path_str(&saved), IMAGE]);
    let out = Command::new("skopeo")
        .arg("inspect")
        .arg(format!("docker-archive:{}", saved.display()))
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let oci = dir.path().join("berth-oci.tar");
    berth.ok(&[
        "save",
        "--format",
        "oci-archive",
        "-o",
        path_str(&oci),
        IMAGE,
    ]);
    let out = Command::new("skopeo")
        .arg("inspect")
        .arg(format!("oci-archive:{}", oci.display()))
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let podman = Podman::new();
    podman.ok(&["load", "-i", path_str(&saved)]);
    let podman_id = podman.ok(&["image", "inspect", "--format", "{{.Id}}", IMAGE]);
    assert_eq!(format!("sha256:{}", podman_id.trim()), id);
    let back = dir.path().join("podman.tar");
    podman.ok(&["save", "-o", path_str(&back), IMAGE]);
    let fresh = Berth::new();
    fresh.ok(&["load", "-i", path_str(&back)]);
    assert_eq!(image_id(&fresh, &format!("localhost/{IMAGE}")), id);
}

#[test]
fn commit_makes_an_image_with_the_changes_and_the_config_edits() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "--name",
        "c",
        IMAGE,
        "sh",
        "-c",
        "echo kept > /committed.txt && rm /etc/layer2.txt && rm -rf /opt/opaque && \
         mkdir /opt/opaque && echo z > /opt/opaque/z",
    ]);
    let id = berth.ok(&[
        "commit",
        "-m",
        "a message",
        "-a",
        "someone",
        "-c",
        r#"CMD ["cat", "/committed.txt"]"#,
        "-c",
        "ENV GREETING=hello",
        "-c",
        "EXPOSE 8080",
        "c",
        "berth-test/committed:v1",
    ]);
    assert!(id.trim().starts_with("sha256:"), "{id}");
    let new = "berth-test/committed:v1";
    assert_eq!(berth.ok(&["run", "--rm", new]), "kept\n");
    let out = berth.ok(&[
        "run",
        "--rm",
        new,
        "sh",
        "-c",
        "echo $GREETING; test -e /etc/layer2.txt || echo gone; ls /opt/opaque",
    ]);
    assert_eq!(out, "hello\ngone\nz\n");
    let info = berth.inspect(new);
    assert_eq!(info["Author"], "someone", "{info}");
    // The new image saves and loads elsewhere with the same ID (its layer was recorded).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.tar");
    berth.ok(&["save", "-o", path_str(&file), new]);
    let fresh = Berth::new();
    fresh.ok(&["load", "-i", path_str(&file)]);
    assert_eq!(image_id(&fresh, new), id.trim());
    // A bad --change fails before anything is made.
    let err = berth.fail(&["commit", "-c", "RUN rm -rf /", "c", "x:y"]);
    assert!(err.contains("RUN"), "{err}");
}

/// Content bytes of the regular files under the layers' diff dirs, each inode once.
fn layer_bytes(root: &Path, chains: &[String]) -> u64 {
    let dirs: Vec<PathBuf> = chains
        .iter()
        .map(|c| root.join("layers").join(&c[7..]).join("diff"))
        .collect();
    tree_bytes(&dirs)
}

/// Bytes of the regular files under `dirs`, each inode once.
fn tree_bytes(dirs: &[PathBuf]) -> u64 {
    let mut seen = HashSet::new();
    let mut total = 0;
    let mut stack = dirs.to_vec();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.path().symlink_metadata().unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            } else if meta.is_file() && seen.insert((meta.dev(), meta.ino())) {
                total += meta.len();
            }
        }
    }
    total
}

fn chains(berth: &Berth, name: &str) -> Vec<String> {
    let info = berth.inspect(name);
    let diff: Vec<String> = info["RootFS"]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_owned())
        .collect();
    let mut out: Vec<String> = Vec::new();
    for d in diff {
        let chain = match out.last() {
            None => d,
            Some(parent) => {
                use sha2::Digest;
                format!(
                    "sha256:{}",
                    hex::encode(sha2::Sha256::digest(format!("{parent} {d}").as_bytes()))
                )
            }
        };
        out.push(chain);
    }
    out
}

#[test]
fn system_df_and_image_prune_report_real_sizes() {
    let berth = Berth::with_image();
    berth.ok(&["volume", "create", "vol"]);
    berth.ok(&[
        "run",
        "--name",
        "w",
        "-v",
        "vol:/data",
        IMAGE,
        "sh",
        "-c",
        "head -c 3000 /dev/zero > /data/f && head -c 1234 /dev/zero > /w.bin",
    ]);
    // An untagged image: commit without a name.
    let dangling = berth.ok(&["commit", "w"]).trim().to_owned();
    let usage: serde_json::Value =
        serde_json::from_str(&berth.ok(&["system", "df", "--format", "json"])).unwrap();
    let base = chains(&berth, IMAGE);
    let all = chains(&berth, &dangling);
    let base_bytes = layer_bytes(berth.root(), &base);
    let all_bytes = layer_bytes(berth.root(), &all);
    assert_eq!(all_bytes - base_bytes, 1234);
    let images = &usage["image_totals"];
    assert_eq!(images["total"], 2);
    assert_eq!(images["active"], 1);
    assert_eq!(images["size"], all_bytes);
    assert_eq!(images["reclaimable"], all_bytes - base_bytes);
    assert_eq!(usage["container_totals"]["size"], 1234);
    assert_eq!(usage["container_totals"]["reclaimable"], 1234);
    // The volume holds what the image had at /data (copied up) and the 3000 bytes.
    let mountpoint = berth.json(&["volume", "inspect", "vol"])["Mountpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    let volume_bytes = tree_bytes(&[PathBuf::from(mountpoint)]);
    assert!(volume_bytes >= 3000);
    assert_eq!(usage["volume_totals"]["size"], volume_bytes);
    assert_eq!(usage["volume_totals"]["active"], 1);

    let table = berth.ok(&["system", "df"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("TYPE"), "{table}");
    for (i, kind) in ["Images", "Containers", "Local Volumes", "Build Cache"]
        .iter()
        .enumerate()
    {
        assert!(lines[i + 1].starts_with(kind), "{table}");
    }
    let written = berth::format::human_size(1234);
    assert!(lines[2].contains(&format!("{written} (100%)")), "{table}");
    let verbose = berth.ok(&["system", "df", "-v"]);
    for section in [
        "Images space usage:",
        "Containers space usage:",
        "Local Volumes space usage:",
        "Build cache usage: 0B",
    ] {
        assert!(verbose.contains(section), "{verbose}");
    }

    // Prune: only the dangling image goes, and its own layer is what is reclaimed.
    let out = berth.ok(&["image", "prune", "-f"]);
    assert!(out.starts_with("Deleted Images:\n"), "{out}");
    assert!(out.contains(&format!("deleted: {dangling}")), "{out}");
    assert!(
        out.ends_with(&format!("Total reclaimed space: {written}\n")),
        "{out}"
    );
    berth.ok(&["inspect", IMAGE]);
    // -a leaves an image a container uses.
    let out = berth.ok(&["image", "prune", "-a", "-f"]);
    assert_eq!(out, "Total reclaimed space: 0B\n");
    berth.ok(&["rm", "w"]);
    let out = berth.ok(&["image", "prune", "-a", "-f"]);
    assert!(out.contains(&format!("untagged: {IMAGE}")), "{out}");
    assert!(
        out.ends_with(&format!(
            "Total reclaimed space: {}\n",
            berth::format::human_size(base_bytes)
        )),
        "{out}"
    );
}

#[test]
fn fixture_oci_layout_saves_identically() {
    // Loaded from a gzip OCI layout: the rebuilt layers still hash to the diff IDs.
    let berth = Berth::new();
    berth.load_fixture("busybox-oci.tar");
    let name = "berth-test/busybox-oci:latest";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("o.tar");
    berth.ok(&["save", "-o", path_str(&file), name]);
    let fresh = Berth::new();
    fresh.ok(&["load", "-i", path_str(&file)]);
    assert_eq!(image_id(&fresh, name), image_id(&berth, name));
}
