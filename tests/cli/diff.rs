//! `berth diff`: what a container changed in its image, read from its writable layer and
//! the image's layers, on created, running and stopped containers.

use crate::common;

use common::{wait_until, Berth, IMAGE};
use serde_json::Value;

fn diff_lines(berth: &Berth, name: &str) -> Vec<String> {
    berth
        .ok(&["diff", name])
        .lines()
        .map(str::to_owned)
        .collect()
}

fn diff_json(berth: &Berth, name: &str) -> Vec<Value> {
    let out = berth.ok(&["diff", "--format", "json", name]);
    serde_json::from_str(&out).expect("diff --format json prints a JSON list")
}

fn change<'a>(changes: &'a [Value], path: &str) -> &'a Value {
    changes
        .iter()
        .find(|c| c["path"] == path)
        .unwrap_or_else(|| panic!("no change for {path} in {changes:?}"))
}

/// The image's chain IDs, bottom first, from the layer dirs `image inspect` names
/// (`<root>/layers/<chain-hex>/diff`).
fn chain_ids(berth: &Berth) -> Vec<String> {
    let out = berth.ok(&["image", "inspect", IMAGE]);
    let image: Value = serde_json::from_str(&out).expect("image inspect prints JSON");
    let data = &image[0]["GraphDriver"]["Data"];
    let dirs = [&data["LowerDir"], &data["UpperDir"]];
    let ids: Vec<String> = dirs
        .iter()
        .map(|d| {
            let dir = std::path::Path::new(d.as_str().expect("layer dir"));
            let hex = dir.parent().unwrap().file_name().unwrap();
            format!("sha256:{}", hex.to_string_lossy())
        })
        .collect();
    // The bottom layer's chain ID is its diff ID.
    assert_eq!(image[0]["RootFS"]["Layers"][0], ids[0].as_str());
    ids
}

fn lines(text: &[&str]) -> Vec<String> {
    text.iter().map(|l| l.to_string()).collect()
}

const SCRIPT: &str = "mkdir -p /new/dir && echo f > /new/dir/f \
    && echo changed > /etc/motd \
    && rm /etc/layer1.txt /data/keep.txt \
    && rm -rf /opt/opaque && mkdir /opt/opaque && touch /opt/opaque/x \
    && echo gone > /tmp/never && rm /tmp/never \
    && chmod 600 /etc/passwd \
    && ln -s /etc/motd /etc/link";

#[test]
fn diff_prints_docker_lines() {
    let berth = Berth::with_image();
    berth.ok(&["run", "--name", "c", IMAGE, "sh", "-c", SCRIPT]);
    assert_eq!(
        diff_lines(&berth, "c"),
        lines(&[
            "C /data",
            "D /data/keep.txt",
            "C /etc",
            "D /etc/layer1.txt",
            "A /etc/link",
            "C /etc/motd",
            "C /etc/passwd",
            "A /new",
            "A /new/dir",
            "A /new/dir/f",
            "C /opt",
            "D /opt/opaque",
            "A /opt/opaque/x",
        ])
    );
}

#[test]
fn diff_json_names_types_modes_and_original_layers() {
    let berth = Berth::with_image();
    let [layer1, layer2] = <[String; 2]>::try_from(chain_ids(&berth)).unwrap();
    berth.ok(&["run", "--name", "c", IMAGE, "sh", "-c", SCRIPT]);
    let changes = diff_json(&berth, "c");
    assert_eq!(changes.len(), 13, "{changes:?}");

    let motd = change(&changes, "/etc/motd");
    assert_eq!(motd["kind"], "changed");
    assert_eq!(motd["file_type"], "file");
    assert_eq!(motd["size"], 8);
    assert_eq!(motd["original_layer"], layer2.as_str());

    let passwd = change(&changes, "/etc/passwd");
    assert_eq!(passwd["kind"], "changed");
    assert_eq!(passwd["mode"], 0o600);
    assert_eq!(passwd["original_layer"], layer1.as_str());

    let deleted = change(&changes, "/etc/layer1.txt");
    assert_eq!(deleted["kind"], "deleted");
    assert_eq!(deleted["file_type"], "file");
    assert_eq!(deleted["size"], "from layer 1\n".len());
    assert_eq!(deleted["original_layer"], layer1.as_str());
    assert_eq!(
        change(&changes, "/data/keep.txt")["original_layer"],
        layer1.as_str()
    );

    let opaque = change(&changes, "/opt/opaque");
    assert_eq!(opaque["kind"], "deleted");
    assert_eq!(opaque["file_type"], "dir");
    assert_eq!(opaque["original_layer"], layer2.as_str());
    assert_eq!(change(&changes, "/opt/opaque/x")["kind"], "added");

    let link = change(&changes, "/etc/link");
    assert_eq!(link["kind"], "added");
    assert_eq!(link["file_type"], "symlink");
    assert_eq!(link["original_layer"], Value::Null);

    let dir = change(&changes, "/new/dir");
    assert_eq!(dir["file_type"], "dir");
    assert_eq!(dir["mode"], 0o755);
    assert_eq!(change(&changes, "/etc")["original_layer"], layer2.as_str());
    assert_eq!(change(&changes, "/data")["original_layer"], layer2.as_str());
}

/// Layer 2 deleted /data/delete-me.txt and made /opt/opaque opaque: what layer 1 had
/// there doesn't exist below any more, so making it again is an addition.
#[test]
fn diff_honours_whiteouts_and_opaque_dirs_in_the_image() {
    let berth = Berth::with_image();
    let layer2 = chain_ids(&berth)[1].clone();
    let script = "echo again > /data/delete-me.txt \
        && echo again > /opt/opaque/old1.txt \
        && echo newer > /opt/opaque/new.txt";
    berth.ok(&["run", "--name", "c", IMAGE, "sh", "-c", script]);
    assert_eq!(
        diff_lines(&berth, "c"),
        lines(&[
            "C /data",
            "A /data/delete-me.txt",
            "C /opt",
            "C /opt/opaque",
            "C /opt/opaque/new.txt",
            "A /opt/opaque/old1.txt",
        ])
    );
    let changes = diff_json(&berth, "c");
    assert_eq!(
        change(&changes, "/opt/opaque/new.txt")["original_layer"],
        layer2.as_str()
    );
    assert_eq!(
        change(&changes, "/data/delete-me.txt")["original_layer"],
        Value::Null
    );
}

#[test]
fn fresh_containers_have_an_empty_diff() {
    let berth = Berth::with_image();
    berth.ok(&["create", "--name", "created", IMAGE, "true"]);
    assert_eq!(berth.ok(&["diff", "created"]), "");
    berth.ok(&["start", "-a", "created"]);
    assert_eq!(berth.ok(&["diff", "created"]), "");
    berth.ok(&["run", "--name", "ran", IMAGE, "true"]);
    assert_eq!(berth.ok(&["diff", "ran"]), "");
    assert_eq!(diff_json(&berth, "ran"), Vec::<Value>::new());
}

#[test]
fn diff_works_while_running_and_after_stop() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "live",
        IMAGE,
        "sh",
        "-c",
        "echo hi > /root/new; sleep 60",
    ]);
    wait_until("the file", || {
        berth
            .run(&["exec", "live", "cat", "/root/new"])
            .status
            .success()
    });
    let expected = lines(&["C /root", "A /root/new"]);
    assert_eq!(diff_lines(&berth, "live"), expected);
    berth.ok(&["stop", "-t", "0", "live"]);
    assert_eq!(diff_lines(&berth, "live"), expected);
}

#[test]
fn diff_of_an_unknown_container_fails() {
    let berth = Berth::new();
    let out = berth.run(&["diff", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("No such container: nope"), "{err}");
}
