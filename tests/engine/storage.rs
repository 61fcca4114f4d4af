//! Volumes, bind and tmpfs mounts in real containers.

use crate::common;

use std::path::Path;

use common::{Berth, IMAGE};

fn volume_names(berth: &Berth) -> Vec<String> {
    berth
        .ok(&["volume", "ls", "-q"])
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_named_volume_outlives_its_container() {
    let berth = Berth::with_image();
    // The database-upgrade story: write, remove the container, a new one sees the data.
    berth.ok(&[
        "run",
        "--name",
        "db-v1",
        "-v",
        "dbdata:/var/db",
        IMAGE,
        "sh",
        "-c",
        "echo schema-1 > /var/db/version",
    ]);
    berth.ok(&["rm", "-v", "db-v1"]);
    assert_eq!(
        volume_names(&berth),
        ["dbdata"],
        "rm -v keeps named volumes"
    );
    let out = berth.ok(&[
        "run",
        "--rm",
        "--mount",
        "type=volume,source=dbdata,target=/srv",
        IMAGE,
        "cat",
        "/srv/version",
    ]);
    assert_eq!(out, "schema-1\n");
    let info = berth.json(&["volume", "inspect", "dbdata"]);
    assert_eq!(info["Driver"], "local");
    assert_eq!(info["Scope"], "local");
    let mountpoint = info["Mountpoint"].as_str().unwrap();
    assert_eq!(
        std::fs::read_to_string(Path::new(mountpoint).join("version")).unwrap(),
        "schema-1\n"
    );
}

#[test]
fn anonymous_volumes_belong_to_one_container_unless_shared() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "--name",
        "one",
        "-v",
        "/cache",
        IMAGE,
        "sh",
        "-c",
        "echo one > /cache/who",
    ]);
    berth.ok(&[
        "run",
        "--name",
        "two",
        "-v",
        "/cache",
        IMAGE,
        "sh",
        "-c",
        "cat /cache/who 2>/dev/null || echo empty",
    ]);
    assert_eq!(
        berth.ok(&["logs", "two"]),
        "empty\n",
        "each container gets its own anonymous volume"
    );
    let names = volume_names(&berth);
    assert_eq!(names.len(), 2);
    assert!(
        names
            .iter()
            .all(|n| n.len() == 64 && n.chars().all(|c| c.is_ascii_hexdigit())),
        "{names:?}"
    );

    // --volumes-from shares the very same volume, read-only when asked.
    let out = berth.ok(&[
        "run",
        "--rm",
        "--volumes-from",
        "one",
        IMAGE,
        "cat",
        "/cache/who",
    ]);
    assert_eq!(out, "one\n");
    let out = berth.run(&[
        "run",
        "--rm",
        "--volumes-from",
        "one:ro",
        IMAGE,
        "touch",
        "/cache/x",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Read-only file system"));

    berth.ok(&["rm", "-v", "one", "two"]);
    assert!(
        volume_names(&berth).is_empty(),
        "rm -v removes anonymous volumes"
    );

    // run --rm removes them too, before it returns.
    berth.ok(&["run", "--rm", "-v", "/tmpdata", IMAGE, "true"]);
    assert!(volume_names(&berth).is_empty());
}

#[test]
fn an_empty_volume_gets_the_image_content_and_a_full_one_hides_it() {
    let berth = Berth::with_image();
    // /data in the image holds keep.txt (delete-me.txt is whited out by layer 2).
    assert_eq!(
        berth.ok(&["run", "--rm", "-v", "fresh:/data", IMAGE, "ls", "/data"]),
        "keep.txt\n"
    );
    let info = berth.json(&["volume", "inspect", "fresh"]);
    let copied = Path::new(info["Mountpoint"].as_str().unwrap()).join("keep.txt");
    assert_eq!(std::fs::read_to_string(copied).unwrap(), "keep\n");

    berth.ok(&["volume", "create", "full"]);
    let mountpoint = berth.json(&["volume", "inspect", "full"])["Mountpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::write(Path::new(&mountpoint).join("mine.txt"), "mine").unwrap();
    assert_eq!(
        berth.ok(&["run", "--rm", "-v", "full:/data", IMAGE, "ls", "/data"]),
        "mine.txt\n"
    );
    // nocopy keeps an empty volume empty.
    assert_eq!(
        berth.ok(&[
            "run",
            "--rm",
            "-v",
            "bare:/data:nocopy",
            IMAGE,
            "ls",
            "/data"
        ]),
        ""
    );
}

#[test]
fn binds_and_the_etc_files_are_private_mounts_in_the_container() {
    let berth = Berth::with_image();
    let host = tempfile::tempdir().unwrap();
    let bind = format!("{}:/shared", host.path().display());
    let table = berth.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        &bind,
        IMAGE,
        "cat",
        "/proc/self/mountinfo",
    ]);
    for target in ["/shared", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf"] {
        let line = table
            .lines()
            .find(|l| l.split(' ').nth(4) == Some(target))
            .unwrap_or_else(|| panic!("{target} is not mounted:\n{table}"));
        // Optional fields before " - ": shared:N or master:N name a peer group.
        let optional = line.split(" - ").next().unwrap();
        assert!(
            !optional.contains("shared:") && !optional.contains("master:"),
            "{target} propagates: {line}"
        );
    }
}

#[test]
fn a_runs_etc_holds_the_images_files_and_the_engines_targets() {
    // `run` makes the targets in the writable layer before the start (`etc_targets`):
    // the image's own files still show through beside them, each target is bound.
    let berth = Berth::with_image();
    let out = berth.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--hostname",
        "merged",
        IMAGE,
        "sh",
        "-c",
        "ls -a /etc; cat /etc/hostname; stat -c '%a %u %g' /etc",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    for name in [
        "group",
        "layer1.txt",
        "motd",
        "passwd",
        "hosts",
        "hostname",
        "resolv.conf",
    ] {
        assert!(lines.contains(&name), "/etc lacks {name}:\n{out}");
    }
    assert!(
        lines.contains(&"merged"),
        "the hostname file is not bound:\n{out}"
    );
    assert_eq!(lines.last(), Some(&"755 0 0"), "{out}");
}

#[test]
fn bind_mounts_sync_both_ways() {
    let berth = Berth::with_image();
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("from-host"), "1").unwrap();
    let bind = format!("{}:/shared", host.path().display());
    berth.ok(&[
        "run", "-d", "--name", "syncer", "-v", &bind, IMAGE, "sleep", "60",
    ]);
    // The seeds' two-terminal test: each side sees the other's change at once.
    assert_eq!(
        berth.ok(&["exec", "syncer", "cat", "/shared/from-host"]),
        "1"
    );
    std::fs::write(host.path().join("from-host"), "2").unwrap();
    assert_eq!(
        berth.ok(&["exec", "syncer", "cat", "/shared/from-host"]),
        "2"
    );
    berth.ok(&[
        "exec",
        "syncer",
        "sh",
        "-c",
        "echo inside > /shared/from-container",
    ]);
    assert_eq!(
        std::fs::read_to_string(host.path().join("from-container")).unwrap(),
        "inside\n"
    );

    let mounts = berth.json(&["inspect", "syncer"])["Mounts"].clone();
    assert_eq!(mounts[0]["Type"], "bind");
    assert_eq!(mounts[0]["Source"], host.path().display().to_string());
    assert_eq!(mounts[0]["Destination"], "/shared");
    assert_eq!(mounts[0]["RW"], true);
    assert_eq!(mounts[0]["Propagation"], "rprivate");

    // Read-only binds refuse writes.
    let ro = format!("{}:/ro:ro", host.path().display());
    let out = berth.run(&["run", "--rm", "-v", &ro, IMAGE, "touch", "/ro/x"]);
    assert!(!out.status.success());
    assert!(!host.path().join("x").exists());
}

#[test]
fn bind_sources_follow_docker_rules() {
    let berth = Berth::with_image();
    let base = tempfile::tempdir().unwrap();
    let missing = base.path().join("made-by-v");
    // -v creates a missing source directory...
    berth.ok(&[
        "run",
        "--rm",
        "-v",
        &format!("{}:/m", missing.display()),
        IMAGE,
        "true",
    ]);
    assert!(missing.is_dir());
    // ...--mount refuses it, leaving no container.
    let absent = base.path().join("absent");
    let err = berth.fail(&[
        "run",
        "--mount",
        &format!("type=bind,source={},target=/m", absent.display()),
        IMAGE,
        "true",
    ]);
    assert!(err.contains("bind source path does not exist"), "{err}");
    assert!(!absent.exists());
    assert_eq!(berth.ok(&["ps", "-aq"]), "");
    // A file can be bound too.
    let file = base.path().join("conf");
    std::fs::write(&file, "setting=1\n").unwrap();
    let out = berth.ok(&[
        "run",
        "--rm",
        "-v",
        &format!("{}:/etc/app.conf:ro", file.display()),
        IMAGE,
        "cat",
        "/etc/app.conf",
    ]);
    assert_eq!(out, "setting=1\n");
    let err = berth.fail(&["run", "-v", "/a:/x", "-v", "vol:/x", IMAGE, "true"]);
    assert!(err.contains("duplicate mount point"), "{err}");
}

#[test]
fn tmpfs_is_in_memory_and_empty_after_a_restart() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "scratchy",
        "--tmpfs",
        "/scratch:size=1m,mode=1770",
        IMAGE,
        "sleep",
        "60",
    ]);
    let out = berth.ok(&[
        "exec",
        "scratchy",
        "sh",
        "-c",
        "echo x > /scratch/f; grep ' /scratch ' /proc/mounts; stat -c %a /scratch",
    ]);
    assert!(
        out.contains("tmpfs /scratch tmpfs") && out.contains("size=1024k"),
        "{out}"
    );
    assert!(out.trim_end().ends_with("1770"), "{out}");
    berth.ok(&["stop", "-t", "0", "scratchy"]);
    berth.ok(&["start", "scratchy"]);
    assert_eq!(berth.ok(&["exec", "scratchy", "ls", "/scratch"]), "");
    let mounts = berth.json(&["inspect", "scratchy"])["Mounts"].clone();
    assert_eq!(mounts[0]["Type"], "tmpfs");
    assert_eq!(mounts[0]["Destination"], "/scratch");
    // Nothing of the tmpfs reached the writable layer.
    let upper = berth.json(&["inspect", "scratchy"])["GraphDriver"]["Data"]["UpperDir"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!Path::new(&upper).join("scratch/f").exists());
    let out = berth.ok(&[
        "run",
        "--rm",
        "--mount",
        "type=tmpfs,target=/t,tmpfs-size=2m",
        IMAGE,
        "sh",
        "-c",
        "grep ' /t ' /proc/mounts",
    ]);
    assert!(out.contains("size=2048k"), "{out}");
}

#[test]
fn volume_verbs_behave_like_docker() {
    let berth = Berth::with_image();
    assert_eq!(
        berth.ok(&["volume", "create", "--label", "team=db", "alpha"]),
        "alpha\n"
    );
    assert_eq!(
        berth.ok(&["volume", "create", "alpha"]),
        "alpha\n",
        "create is idempotent"
    );
    berth.ok(&["volume", "create", "beta"]);
    berth.ok(&[
        "run", "-d", "--name", "user", "-v", "alpha:/a", IMAGE, "sleep", "60",
    ]);

    let info = berth.json(&["volume", "inspect", "alpha"]);
    assert_eq!(info["Labels"]["team"], "db");
    assert_eq!(info["UsedBy"][0]["Name"], "user");
    let dangling = berth.ok(&["volume", "ls", "-q", "--filter", "dangling=true"]);
    assert_eq!(dangling, "beta\n");
    assert_eq!(
        berth.ok(&["volume", "ls", "-q", "--filter", "label=team=db"]),
        "alpha\n"
    );

    // In use: refused, -f or not.
    for args in [
        &["volume", "rm", "alpha"][..],
        &["volume", "rm", "-f", "alpha"][..],
    ] {
        let err = berth.fail(args);
        assert!(err.contains("volume is in use"), "{err}");
    }
    let err = berth.fail(&["volume", "rm", "nosuch"]);
    assert!(err.contains("no such volume: nosuch"), "{err}");
    berth.ok(&["volume", "rm", "-f", "nosuch"]);
    let err = berth.fail(&["volume", "create", "x"]);
    assert!(err.contains("invalid volume name"), "{err}");

    // prune: anonymous unused volumes only, unless -a.
    berth.ok(&["run", "--name", "anon", "-v", "/junk", IMAGE, "true"]);
    berth.ok(&["rm", "anon"]);
    let out = berth.ok(&["volume", "prune", "-f"]);
    assert!(
        out.contains("Deleted Volumes:") && !out.contains("beta"),
        "{out}"
    );
    assert_eq!(volume_names(&berth), ["alpha", "beta"]);
    let out = berth.ok(&["volume", "prune", "-a", "-f"]);
    assert!(out.contains("beta") && !out.contains("alpha"), "{out}");
    berth.ok(&["rm", "-f", "user"]);
    berth.ok(&["volume", "rm", "alpha"]);
    assert!(volume_names(&berth).is_empty());
}

#[test]
fn an_image_volume_becomes_an_anonymous_volume_per_container() {
    let berth = Berth::with_image();
    berth.load_fixture("busybox-volume.tar");
    let image = "berth-test/volume";
    // The VOLUME gets an anonymous volume, filled by copy-up from the image.
    berth.ok(&[
        "run",
        "--name",
        "v1",
        image,
        "sh",
        "-c",
        "cat /data/keep.txt; echo mine > /data/new",
    ]);
    assert_eq!(berth.ok(&["logs", "v1"]), "keep\n");
    let mounts = berth.json(&["inspect", "v1"])["Mounts"].clone();
    assert_eq!(mounts[0]["Type"], "volume");
    assert_eq!(mounts[0]["Destination"], "/data");
    let name = mounts[0]["Name"].as_str().unwrap().to_owned();
    assert_eq!(name.len(), 64);
    // Nothing written there reached the writable layer, and a second container has its own.
    let upper = berth.json(&["inspect", "v1"])["GraphDriver"]["Data"]["UpperDir"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!Path::new(&upper).join("data/new").exists());
    let out = berth.ok(&["run", "--rm", image, "sh", "-c", "ls /data"]);
    assert_eq!(out, "keep.txt\n");
    // A user mount on the same path replaces the image's volume.
    let out = berth.ok(&["run", "--rm", "-v", "chosen:/data", image, "ls", "/data"]);
    assert_eq!(out, "keep.txt\n");
    assert!(volume_names(&berth).contains(&"chosen".to_owned()));
    berth.ok(&["rm", "-v", "v1"]);
    assert_eq!(volume_names(&berth), ["chosen"]);
}
