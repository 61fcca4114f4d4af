//! `berth cp` against real containers: docker cp's matrix both ways on running and stopped
//! containers, tar streams, ownership, symlinks, and paths that try to leave the container.

use crate::common;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use common::{stderr, Berth, IMAGE};

/// Host fixtures: a file `f` and a directory `d` holding `a` and `sub/b`.
fn host_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), "F\n").unwrap();
    std::fs::create_dir_all(dir.path().join("d/sub")).unwrap();
    std::fs::write(dir.path().join("d/a"), "A\n").unwrap();
    std::fs::write(dir.path().join("d/sub/b"), "B\n").unwrap();
    dir
}

fn p(dir: &Path, rel: &str) -> String {
    dir.join(rel).to_str().unwrap().to_owned()
}

/// Reads a file of the container by copying it out.
fn read_in(berth: &Berth, c: &str, path: &str) -> String {
    let out = berth.run(&["cp", &format!("{c}:{path}"), "-"]);
    assert!(out.status.success(), "cp {c}:{path} -: {}", stderr(&out));
    let mut archive = tar::Archive::new(&out.stdout[..]);
    let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
    text
}

fn exists_in(berth: &Berth, c: &str, path: &str) -> bool {
    berth
        .run(&["cp", &format!("{c}:{path}"), "-"])
        .status
        .success()
}

fn running(berth: &Berth, name: &str) {
    berth.ok(&["run", "-d", "--name", name, IMAGE, "sleep", "60"]);
}

fn stopped(berth: &Berth, name: &str) {
    berth.ok(&["create", "--name", name, IMAGE, "true"]);
}

/// Rows A–J of docker cp's matrix, host to container.
fn matrix_in(berth: &Berth, c: &str) {
    let host = host_tree();
    let h = host.path();
    let to = |path: &str| format!("{c}:{path}");
    // A: file to a missing path.
    berth.ok(&["cp", &p(h, "f"), &to("/tmp/A")]);
    assert_eq!(read_in(berth, c, "/tmp/A"), "F\n");
    // B: file to a missing path ending in '/'.
    let err = berth.fail(&["cp", &p(h, "f"), &to("/tmp/B/")]);
    assert!(err.contains("no such directory"), "{err}");
    assert!(!exists_in(berth, c, "/tmp/B"));
    // C: file over a file.
    berth.ok(&["cp", &p(h, "f"), &to("/etc/motd")]);
    assert_eq!(read_in(berth, c, "/etc/motd"), "F\n");
    // D: file into a directory.
    berth.ok(&["cp", &p(h, "f"), &to("/data")]);
    assert_eq!(read_in(berth, c, "/data/f"), "F\n");
    // E: directory to a missing path.
    berth.ok(&["cp", &p(h, "d"), &to("/tmp/E")]);
    assert_eq!(read_in(berth, c, "/tmp/E/a"), "A\n");
    assert_eq!(read_in(berth, c, "/tmp/E/sub/b"), "B\n");
    // F: directory onto a file.
    let err = berth.fail(&["cp", &p(h, "d"), &to("/data/keep.txt")]);
    assert!(err.contains("cannot copy a directory onto a file"), "{err}");
    // G: directory into a directory.
    berth.ok(&["cp", &p(h, "d"), &to("/data")]);
    assert_eq!(read_in(berth, c, "/data/d/sub/b"), "B\n");
    // H: contents to a missing path.
    berth.ok(&["cp", &p(h, "d/."), &to("/tmp/H")]);
    assert_eq!(read_in(berth, c, "/tmp/H/a"), "A\n");
    // I: contents onto a file.
    berth.fail(&["cp", &p(h, "d/."), &to("/data/keep.txt")]);
    // J: contents into a directory.
    berth.ok(&["cp", &p(h, "d/."), &to("/data")]);
    assert_eq!(read_in(berth, c, "/data/a"), "A\n");
    assert_eq!(read_in(berth, c, "/data/sub/b"), "B\n");
    assert_eq!(read_in(berth, c, "/data/keep.txt"), "keep\n");
    // The parent of DEST is never created.
    let err = berth.fail(&["cp", &p(h, "f"), &to("/no/such/file")]);
    assert!(err.contains("Could not find the file"), "{err}");
}

/// Rows A–J, container to host.
fn matrix_out(berth: &Berth, c: &str) {
    let out = tempfile::tempdir().unwrap();
    let o = out.path();
    let motd = read_in(berth, c, "/etc/motd");
    let from = |path: &str| format!("{c}:{path}");
    let read = |rel: &str| std::fs::read_to_string(o.join(rel)).unwrap();
    std::fs::write(o.join("C"), "old").unwrap();
    for dir in ["D", "G", "J"] {
        std::fs::create_dir(o.join(dir)).unwrap();
    }
    berth.ok(&["cp", &from("/etc/motd"), &p(o, "A")]);
    assert_eq!(read("A"), motd);
    let err = berth.fail(&["cp", &from("/etc/motd"), &p(o, "B/")]);
    assert!(err.contains("no such directory"), "{err}");
    assert!(!o.join("B").exists());
    berth.ok(&["cp", &from("/etc/motd"), &p(o, "C")]);
    assert_eq!(read("C"), motd);
    berth.ok(&["cp", &from("/etc/motd"), &p(o, "D")]);
    assert_eq!(read("D/motd"), motd);
    berth.ok(&["cp", &from("/data"), &p(o, "E")]);
    assert_eq!(read("E/keep.txt"), "keep\n");
    let err = berth.fail(&["cp", &from("/data"), &p(o, "C")]);
    assert!(err.contains("cannot copy a directory onto a file"), "{err}");
    berth.ok(&["cp", &from("/data"), &p(o, "G")]);
    assert_eq!(read("G/data/keep.txt"), "keep\n");
    berth.ok(&["cp", &from("/data/."), &p(o, "H")]);
    assert_eq!(read("H/keep.txt"), "keep\n");
    berth.fail(&["cp", &from("/data/."), &p(o, "C")]);
    assert_eq!(read("C"), motd);
    berth.ok(&["cp", &from("/data/."), &p(o, "J")]);
    assert_eq!(read("J/keep.txt"), "keep\n");
    assert!(!o.join("J/data").exists());
    let err = berth.fail(&["cp", &from("/nope"), &p(o, "x")]);
    assert!(
        err.contains(&format!("Could not find the file /nope in container {c}")),
        "{err}"
    );
    let err = berth.fail(&["cp", &from("/etc/motd"), &p(o, "no/such/file")]);
    assert!(err.contains("no such directory"), "{err}");
}

#[test]
fn matrix_on_a_running_container() {
    let berth = Berth::with_image();
    running(&berth, "web");
    matrix_out(&berth, "web");
    matrix_in(&berth, "web");
    // The running container sees what was copied in.
    assert_eq!(berth.ok(&["exec", "web", "cat", "/tmp/H/sub/b"]), "B\n");
}

#[test]
fn matrix_on_a_stopped_container() {
    let berth = Berth::with_image();
    stopped(&berth, "st");
    matrix_out(&berth, "st");
    matrix_in(&berth, "st");
    // An exited container too.
    berth.ok(&["run", "--name", "ex", IMAGE, "true"]);
    matrix_out(&berth, "ex");
    matrix_in(&berth, "ex");
}

#[test]
fn a_file_copied_into_a_created_container_is_there_at_start() {
    let berth = Berth::with_image();
    let host = host_tree();
    berth.ok(&["create", "--name", "c", IMAGE, "cat", "/input.txt"]);
    berth.ok(&["cp", &p(host.path(), "f"), "c:/input.txt"]);
    assert_eq!(berth.ok(&["start", "-a", "c"]), "F\n");
}

#[test]
fn a_removed_container_is_named_with_the_path() {
    let berth = Berth::with_image();
    stopped(&berth, "f1");
    berth.ok(&["rm", "f1"]);
    let err = berth.fail(&["cp", "f1:/input.txt", "/tmp/x"]);
    assert!(
        err.contains("No such container:path: f1:/input.txt"),
        "{err}"
    );
    let err = berth.fail(&["cp", "/etc/hostname", "f1:/input.txt"]);
    assert!(
        err.contains("No such container:path: f1:/input.txt"),
        "{err}"
    );
    let err = berth.fail(&["cp", "a:/x", "b:/y"]);
    assert!(err.contains("copying between containers is not supported"));
}

#[test]
fn tar_streams_round_trip() {
    let berth = Berth::with_image();
    running(&berth, "src");
    stopped(&berth, "dst");
    let out = berth.run(&["cp", "src:/data", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let tar = out.stdout;
    let names: Vec<String> = tar::Archive::new(&tar[..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["data", "data/keep.txt"]);
    let done = berth.run_with_input(&["cp", "-", "dst:/tmp"], &tar);
    assert!(done.status.success(), "{}", stderr(&done));
    assert_eq!(read_in(&berth, "dst", "/tmp/data/keep.txt"), "keep\n");
    // A tar stream goes into a directory only.
    let refused = berth.run_with_input(&["cp", "-", "dst:/etc/motd"], &tar);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("must be a directory"));
}

#[test]
fn ownership_is_root_unless_archive_mode() {
    let berth = Berth::with_image();
    running(&berth, "c");
    let host = host_tree();
    let f = host.path().join("f");
    std::os::unix::fs::chown(&f, Some(1234), Some(5678)).unwrap();
    berth.ok(&["cp", f.to_str().unwrap(), "c:/tmp/plain"]);
    berth.ok(&["cp", "-a", f.to_str().unwrap(), "c:/tmp/kept"]);
    let owner = |path: &str| berth.ok(&["exec", "c", "stat", "-c", "%u:%g", path]);
    assert_eq!(owner("/tmp/plain"), "0:0\n");
    assert_eq!(owner("/tmp/kept"), "1234:5678\n");
    // Out: owned by the invoking user, or as in the container with -a.
    berth.ok(&["exec", "c", "chown", "1000:1000", "/data/keep.txt"]);
    let out = tempfile::tempdir().unwrap();
    berth.ok(&["cp", "c:/data/keep.txt", &p(out.path(), "mine")]);
    berth.ok(&["cp", "-a", "c:/data/keep.txt", &p(out.path(), "theirs")]);
    let meta = std::fs::metadata(out.path().join("mine")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (0, 0));
    let meta = std::fs::metadata(out.path().join("theirs")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (1000, 1000));
}

#[test]
fn follow_link_copies_the_target() {
    let berth = Berth::with_image();
    running(&berth, "c");
    berth.ok(&["exec", "c", "ln", "-s", "/etc/motd", "/tmp/lnk"]);
    let out = tempfile::tempdir().unwrap();
    berth.ok(&["cp", "c:/tmp/lnk", &p(out.path(), "link")]);
    let link = out.path().join("link");
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("/etc/motd"));
    berth.ok(&["cp", "-L", "c:/tmp/lnk", &p(out.path(), "file")]);
    let file = out.path().join("file");
    assert!(std::fs::symlink_metadata(&file).unwrap().is_file());
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        read_in(&berth, "c", "/etc/motd")
    );
    // Into an existing directory, -L keeps the link's name.
    berth.ok(&["cp", "-L", "c:/tmp/lnk", out.path().to_str().unwrap()]);
    assert!(std::fs::symlink_metadata(out.path().join("lnk"))
        .unwrap()
        .is_file());
    // Copy in: a host symlink stays a link unless -L.
    let host = host_tree();
    std::os::unix::fs::symlink("f", host.path().join("l")).unwrap();
    berth.ok(&["cp", &p(host.path(), "l"), "c:/tmp/in-link"]);
    assert_eq!(berth.ok(&["exec", "c", "readlink", "/tmp/in-link"]), "f\n");
    berth.ok(&["cp", "-L", &p(host.path(), "l"), "c:/tmp/in-file"]);
    assert_eq!(berth.ok(&["exec", "c", "cat", "/tmp/in-file"]), "F\n");
}

/// Symlinks in the container resolve inside it, running or stopped.
fn links_stay_inside(berth: &Berth, c: &str, image_passwd: &str) {
    let host = host_tree();
    std::os::unix::fs::symlink("/etc", host.path().join("escape")).unwrap();
    std::os::unix::fs::symlink("../../../../..", host.path().join("up")).unwrap();
    berth.ok(&["cp", &p(host.path(), "escape"), &format!("{c}:/escape")]);
    berth.ok(&["cp", &p(host.path(), "up"), &format!("{c}:/up")]);
    let out = tempfile::tempdir().unwrap();
    berth.ok(&[
        "cp",
        &format!("{c}:/escape/passwd"),
        &p(out.path(), "passwd"),
    ]);
    let copied = std::fs::read_to_string(out.path().join("passwd")).unwrap();
    assert_eq!(copied, image_passwd);
    assert_ne!(copied, std::fs::read_to_string("/etc/passwd").unwrap());
    berth.ok(&["cp", &format!("{c}:/up/etc/passwd"), &p(out.path(), "up")]);
    assert_eq!(
        std::fs::read_to_string(out.path().join("up")).unwrap(),
        image_passwd
    );
    let marker = format!("berth-cp-escape-{}", std::process::id());
    berth.ok(&["cp", &p(host.path(), "f"), &format!("{c}:/up/{marker}")]);
    assert_eq!(read_in(berth, c, &format!("/{marker}")), "F\n");
    assert!(!Path::new("/").join(&marker).exists());
    // A symlink at DEST is followed inside the root, not replaced.
    berth.ok(&["cp", &p(host.path(), "f"), &format!("{c}:/escape/motd")]);
    assert_eq!(read_in(berth, c, "/etc/motd"), "F\n");
    assert_ne!(
        std::fs::read_to_string("/etc/motd").unwrap_or_default(),
        "F\n"
    );
}

#[test]
fn symlinks_never_leave_the_container() {
    let berth = Berth::with_image();
    let passwd = berth.ok(&["run", "--rm", IMAGE, "cat", "/etc/passwd"]);
    assert!(passwd.contains("app:x:1000"), "{passwd}");
    running(&berth, "web");
    links_stay_inside(&berth, "web", &passwd);
    assert_eq!(berth.ok(&["exec", "web", "readlink", "/escape"]), "/etc\n");
    stopped(&berth, "st");
    links_stay_inside(&berth, "st", &passwd);
}

/// A container that keeps swapping the directory a copy stages its new tree in for a link
/// climbing out of its root (`../../..`: from the writable layer on the host it would
/// reach the host's own directories) never gets the copy written outside: the layer is
/// walked without following any link and only the very directory the overlay made is
/// taken. Each copy succeeds or fails; nothing lands on the host or stays beside the layer.
#[test]
fn a_swapped_staging_directory_never_leads_a_copy_out_of_the_container() {
    let berth = Berth::with_image();
    let marker = tempfile::Builder::new()
        .prefix("berth-cp-race-")
        .tempdir_in("/tmp")
        .unwrap();
    let link = format!(
        "{}{}",
        "../".repeat(24),
        marker.path().to_str().unwrap().trim_start_matches('/')
    );
    let swapper = format!(
        "mkdir -p /data/in; while :; do for d in /data/in/.berth-cp-*; do \
         [ -d \"$d\" ] && [ ! -L \"$d\" ] && rm -rf /data/moved && mv \"$d\" /data/moved \
         && ln -s {link} \"$d\"; done; done"
    );
    berth.ok(&["run", "-d", "--name", "web", IMAGE, "sh", "-c", &swapper]);
    let host = tempfile::tempdir().unwrap();
    let src = host.path().join("tree");
    for d in 0..10 {
        std::fs::create_dir_all(src.join(format!("d{d}"))).unwrap();
        for f in 0..50 {
            std::fs::write(src.join(format!("d{d}/f{f}")), b"x").unwrap();
        }
    }
    for i in 0..5 {
        berth.run(&["cp", src.to_str().unwrap(), &format!("web:/data/in/t{i}")]);
    }
    // The swapper got in (it moves the staged directory aside before linking its name).
    let listing = berth.ok(&["exec", "web", "ls", "/data"]);
    assert!(listing.contains("moved"), "{listing}");
    let escaped: Vec<_> = std::fs::read_dir(marker.path()).unwrap().collect();
    assert!(escaped.is_empty(), "written on the host: {escaped:?}");
    let container_dir = berth.upper_dir("web").parent().unwrap().to_owned();
    assert_eq!(staged_in(&container_dir), Vec::<String>::new());
}

/// A one-entry tar with a raw (possibly hostile) name.
fn raw_tar(name: &str) -> Vec<u8> {
    let mut header = tar::Header::new_old();
    header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(4);
    header.set_mode(0o644);
    header.set_cksum();
    let mut bytes = header.as_bytes().to_vec();
    bytes.extend_from_slice(b"evil");
    bytes.resize(512 * 2, 0);
    bytes.extend_from_slice(&[0; 1024]);
    bytes
}

#[test]
fn hostile_archives_are_refused() {
    let berth = Berth::with_image();
    running(&berth, "web");
    stopped(&berth, "st");
    let absolute = format!("/tmp/berth-cp-abs-{}", std::process::id());
    for c in ["web", "st"] {
        for name in ["../evil", "ok/../../evil", absolute.as_str()] {
            let out = berth.run_with_input(&["cp", "-", &format!("{c}:/tmp")], &raw_tar(name));
            assert!(!out.status.success(), "{name} accepted");
            assert!(stderr(&out).contains("unsafe"), "{}", stderr(&out));
        }
        assert!(!exists_in(&berth, c, "/evil"));
        assert!(!exists_in(&berth, c, &absolute));
        assert!(!exists_in(&berth, c, &format!("/tmp{absolute}")));
    }
    assert!(!Path::new(&absolute).exists());
}

/// Runs the whole matrix on `name` and checks that the copies into /data landed in `dir`
/// on the host (the mount's source), not in the container's writable layer.
fn matrix_lands_in(berth: &Berth, name: &str, state: &str, dir: &Path) {
    matrix_in(berth, name);
    matrix_out(berth, name);
    // Row D copies f into /data, G the dir d, J the contents of d.
    for (file, content) in [("f", "F\n"), ("d/sub/b", "B\n"), ("sub/b", "B\n")] {
        let landed = std::fs::read_to_string(dir.join(file));
        assert_eq!(
            landed.ok().as_deref(),
            Some(content),
            "{state}: /data/{file}"
        );
    }
    assert!(
        !berth.upper_dir(name).join("data/f").exists(),
        "{state}: landed in the layer"
    );
}

/// The whole matrix with a volume at /data (copy-up puts keep.txt in it): the copies land
/// in the volume, not in the writable layer, running or stopped.
#[test]
fn matrix_under_a_volume() {
    let berth = Berth::with_image();
    for (name, state) in [("vol-run", "running"), ("vol-stop", "stopped")] {
        let volume = format!("{name}-data");
        let mount = format!("{volume}:/data");
        if state == "running" {
            berth.ok(&[
                "run", "-d", "--name", name, "-v", &mount, IMAGE, "sleep", "60",
            ]);
        } else {
            // Run once so copy-up has filled the volume, then it is stopped.
            berth.ok(&["run", "--name", name, "-v", &mount, IMAGE, "true"]);
        }
        let info = berth.json(&["volume", "inspect", &volume]);
        let data = Path::new(info["Mountpoint"].as_str().unwrap());
        matrix_lands_in(&berth, name, state, data);
    }
}

/// The matrix with a host directory bound at /data: copies land on the host.
#[test]
fn matrix_under_a_bind_mount() {
    let berth = Berth::with_image();
    for (name, state) in [("bind-run", "running"), ("bind-stop", "stopped")] {
        let host = tempfile::tempdir().unwrap();
        std::fs::write(host.path().join("keep.txt"), "keep\n").unwrap();
        let mount = format!("{}:/data", host.path().display());
        if state == "running" {
            berth.ok(&[
                "run", "-d", "--name", name, "-v", &mount, IMAGE, "sleep", "60",
            ]);
        } else {
            berth.ok(&["create", "--name", name, "-v", &mount, IMAGE, "true"]);
        }
        matrix_lands_in(&berth, name, state, host.path());
    }
}

/// A tmpfs at /data: while running, copies land in the tmpfs (gone after a restart);
/// when stopped there is no tmpfs, so a copy lands in the writable layer, as with Docker.
#[test]
fn matrix_under_a_tmpfs() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run", "-d", "--name", "tmp-run", "--tmpfs", "/data", IMAGE, "sleep", "60",
    ]);
    berth.ok(&["exec", "tmp-run", "sh", "-c", "echo keep > /data/keep.txt"]);
    matrix_in(&berth, "tmp-run");
    matrix_out(&berth, "tmp-run");
    assert_eq!(berth.ok(&["exec", "tmp-run", "cat", "/data/f"]), "F\n");
    assert!(
        !berth.upper_dir("tmp-run").join("data/f").exists(),
        "landed in the layer"
    );
    berth.ok(&["restart", "-t", "0", "tmp-run"]);
    assert_eq!(
        berth.ok(&["exec", "tmp-run", "ls", "/data"]),
        "",
        "tmpfs content outlived a restart"
    );

    berth.ok(&[
        "create", "--name", "tmp-stop", "--tmpfs", "/data", IMAGE, "true",
    ]);
    let host = host_tree();
    berth.ok(&["cp", &p(host.path(), "f"), "tmp-stop:/data/f"]);
    assert!(berth.upper_dir("tmp-stop").join("data/f").exists());
}

/// Bytes that differ at every offset between the two seeds: a mix would show.
fn payload(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| {
            (i.wrapping_add(seed))
                .wrapping_mul(2_654_435_761)
                .to_le_bytes()[1]
        })
        .collect()
}

/// The names in a host directory that a copy stages files under.
fn staged_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".berth-cp-"))
        .collect()
}

/// Runs `berth cp` set to be killed (SIGKILL) once the copy is well under way.
fn cp_killed_mid_way(berth: &Berth, src: &str, dest: &str) {
    let out = berth
        .cmd()
        .env("BERTH_CRASH_AT", "cp:mid-copy")
        .args(["cp", src, dest])
        .output()
        .unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(9), "not killed: {out:?}");
}

/// A copy over an existing file that is killed or cancelled part way leaves the old file
/// byte for byte, both ways: the new one is written under a temporary name and renamed
/// over the old only once complete.
#[test]
fn a_cut_copy_leaves_the_old_file_whole_both_ways() {
    use berth::engine::storage::progress::Progress;
    use berth::ops::cp::{copy_in, copy_out, CpError, Dest, Options, Source, Watch};

    let berth = Berth::with_image();
    running(&berth, "web");
    let engine = berth::engine::Engine::open(berth.root()).unwrap();
    let host = tempfile::tempdir().unwrap();
    let (old, new) = (payload(3 << 20, 1), payload(8 << 20, 2));
    let new_file = p(host.path(), "new");
    std::fs::write(&new_file, &new).unwrap();
    let old_file = p(host.path(), "old");
    std::fs::write(&old_file, &old).unwrap();
    berth.ok(&["cp", &old_file, "web:/data/big"]);
    let in_data = || berth.ok(&["exec", "web", "ls", "-a", "/data"]);
    let read_big = || {
        let out = berth.run(&["cp", "web:/data/big", "-"]);
        let mut archive = tar::Archive::new(&out.stdout[..]);
        let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        bytes
    };

    // Host to container, cancelled after 2 MB, then killed.
    let progress = Progress::new();
    progress.cancel_after(2 << 20);
    let mut watch = Watch::new(progress.clone());
    let src = Source::Path(&new_file);
    let err = copy_in(
        &engine,
        src,
        "web",
        "/data/big",
        Options::default(),
        &mut watch,
    );
    assert!(
        matches!(&err, Err(CpError::Cancelled { target }) if target == "web:/data/big"),
        "{err:?}"
    );
    assert!(progress.is_cancelled());
    assert!(read_big() == old, "the container's file was changed");
    assert!(!in_data().contains(".berth-cp-"), "{}", in_data());
    cp_killed_mid_way(&berth, &new_file, "web:/data/big");
    // The process writing in the container sees the archive end early, removes its
    // temporary file and ends on its own.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while in_data().contains(".berth-cp-") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(!in_data().contains(".berth-cp-"), "{}", in_data());
    assert!(read_big() == old, "the container's file was changed");

    // Container to host, over the user's own file: cancelled, then killed.
    berth.ok(&["cp", &new_file, "web:/data/big"]);
    let progress = Progress::new();
    progress.cancel_after(2 << 20);
    let mut watch = Watch::new(progress.clone());
    let (to, options) = (Dest::Path(&old_file), Options::default());
    let mut skipped = |_, _| panic!("nothing to skip");
    let err = copy_out(
        &engine,
        "web",
        "/data/big",
        to,
        options,
        &mut watch,
        &mut skipped,
    );
    assert!(
        matches!(err, Err(CpError::Cancelled { .. })),
        "not cancelled"
    );
    assert!(progress.is_cancelled());
    assert!(
        std::fs::read(&old_file).unwrap() == old,
        "the host file was changed"
    );
    assert_eq!(staged_in(host.path()), Vec::<String>::new());
    cp_killed_mid_way(&berth, "web:/data/big", &old_file);
    assert!(
        std::fs::read(&old_file).unwrap() == old,
        "the host file was changed"
    );
    // Killed, berth could not remove its temporary file: it stays beside the old one.
    let left = staged_in(host.path());
    assert!(left.len() == 1 && left[0].ends_with(".old"), "{left:?}");
    // Complete, the copy replaces the file.
    berth.ok(&["cp", "web:/data/big", &old_file]);
    assert!(std::fs::read(&old_file).unwrap() == new);
}

fn hex_sha256(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A directory copied in under a new name appears whole or not at all: killed part way,
/// the container has no half tree under that name (the tree is staged beside it and
/// renamed into place once complete; the process writing it removes it when the archive
/// ends early).
#[test]
fn a_cut_copy_of_a_new_directory_leaves_no_half_tree() {
    let berth = Berth::with_image();
    running(&berth, "web");
    let host = tempfile::tempdir().unwrap();
    let src = host.path().join("tree");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    // A small file done early, then one large enough to be cut inside.
    std::fs::write(src.join("a"), b"first").unwrap();
    std::fs::write(src.join("sub/big"), payload(8 << 20, 5)).unwrap();
    cp_killed_mid_way(&berth, src.to_str().unwrap(), "web:/data/tree");
    let in_data = || berth.ok(&["exec", "web", "ls", "-a", "/data"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while in_data().contains(".berth-cp-") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let listing = in_data();
    assert!(!listing.contains("tree"), "a half tree is there: {listing}");
    // Complete, the copy is there whole.
    berth.ok(&["cp", src.to_str().unwrap(), "web:/data/tree"]);
    assert_eq!(read_in(&berth, "web", "/data/tree/a"), "first");
    let sum = berth.ok(&["exec", "web", "sha256sum", "/data/tree/sub/big"]);
    let want = hex_sha256(&payload(8 << 20, 5));
    assert!(sum.starts_with(&want), "{sum} vs {want}");
    assert!(!in_data().contains(".berth-cp-"), "{}", in_data());
    // The tree was built beside the container's writable layer: nothing stayed there.
    let container_dir = berth.upper_dir("web").parent().unwrap().to_owned();
    assert_eq!(staged_in(&container_dir), Vec::<String>::new());
}

/// A copy killed with the process building its new tree (the whole process group killed,
/// as a terminal's or a unit's end does; a power cut) leaves the scratch directory beside
/// the container's layer, which only the child removes: `system check` names it (not
/// while the copy runs), `--repair` removes it, and the container is clean.
#[test]
fn check_finds_and_repairs_a_killed_copys_scratch_directory() {
    use berth::engine::faults::{PAUSE_ENV, PAUSE_FILE_ENV};
    use std::os::unix::process::CommandExt;

    let berth = Berth::with_image();
    running(&berth, "web");
    let host = tempfile::tempdir().unwrap();
    let src = host.path().join("tree");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("sub/f"), b"data").unwrap();
    // More than the first part sent.
    std::fs::write(src.join("sub/big"), payload(1 << 20, 3)).unwrap();
    let paused = host.path().join("paused");
    let mut copy = berth
        .cmd()
        .env(PAUSE_ENV, "cp:mid-copy")
        .env(PAUSE_FILE_ENV, &paused)
        .args(["cp", src.to_str().unwrap(), "web:/etc/tree"])
        .process_group(0)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pgid = nix::unistd::Pid::from_raw(copy.id() as i32);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let container_dir = berth.upper_dir("web").parent().unwrap().to_owned();
    // Paused after sending the archive's first part: the process building the tree
    // made its scratch directory and waits for the rest.
    while !paused.exists() || staged_in(&container_dir).is_empty() {
        assert!(std::time::Instant::now() < deadline, "no copy under way");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let scratch = staged_in(&container_dir);
    assert_eq!(scratch.len(), 1, "{scratch:?}");
    // The copy runs: its scratch directory is no leftover.
    let out = berth.run(&["system", "check"]);
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "a running copy's directory reported: {out:?}"
    );

    nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL).unwrap();
    copy.wait().unwrap();
    let want = format!(
        "cp-scratch container web {} ",
        container_dir.join(&scratch[0]).display()
    );
    // The building process dies a moment after its group's leader.
    let report = loop {
        let out = berth.run(&["system", "check"]);
        let report = common::stdout(&out);
        if out.status.code() == Some(1) || std::time::Instant::now() > deadline {
            break report;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(report.lines().any(|l| l.starts_with(&want)), "{report}");
    assert_eq!(report.lines().count(), 1, "{report}");
    let repair = berth.ok(&["system", "check", "--repair"]);
    assert!(
        repair.starts_with(&format!("repaired {}", want.trim_end())) && !repair.contains("FAILED"),
        "{repair}"
    );
    let out = berth.run(&["system", "check"]);
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "not clean after repair: {out:?}"
    );
    assert_eq!(staged_in(&container_dir), Vec::<String>::new());
    assert!(!exists_in(&berth, "web", "/etc/tree"));
    // The next copy of the tree lands whole.
    berth.ok(&["cp", src.to_str().unwrap(), "web:/etc/tree"]);
    assert_eq!(read_in(&berth, "web", "/etc/tree/sub/f"), "data");
}

/// A tree copied in is built beside the container's writable layer, outside the overlay;
/// what overlayfs would take for its own is still refused as the overlay refuses it: a
/// 0/0 character device (a whiteout) fails the copy, which leaves nothing behind, where
/// written straight into the layer it would have vanished. Without it, the tree lands
/// whole, seen by the running container in a directory of its image (copied up).
#[test]
fn a_copied_tree_never_plants_an_overlay_whiteout() {
    let berth = Berth::with_image();
    running(&berth, "web");
    let host = tempfile::tempdir().unwrap();
    let src = host.path().join("tree");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("a"), b"first").unwrap();
    std::fs::write(src.join("sub/b"), b"second").unwrap();
    nix::sys::stat::mknod(
        &src.join("sub/gone"),
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o644),
        nix::sys::stat::makedev(0, 0),
    )
    .unwrap();
    let err = berth.fail(&["cp", src.to_str().unwrap(), "web:/etc/tree"]);
    assert!(err.contains("Operation not permitted"), "{err}");
    let listing = berth.ok(&["exec", "web", "ls", "-a", "/etc"]);
    assert!(
        !listing.contains("tree") && !listing.contains(".berth-cp-"),
        "{listing}"
    );
    let container_dir = berth.upper_dir("web").parent().unwrap().to_owned();
    assert_eq!(staged_in(&container_dir), Vec::<String>::new());

    std::fs::remove_file(src.join("sub/gone")).unwrap();
    berth.ok(&["cp", src.to_str().unwrap(), "web:/etc/tree"]);
    assert_eq!(
        berth.ok(&["exec", "web", "cat", "/etc/tree/a", "/etc/tree/sub/b"]),
        "firstsecond"
    );
    assert!(berth.upper_dir("web").join("etc/tree/sub/b").exists());
    let listing = berth.ok(&["exec", "web", "ls", "-a", "/etc"]);
    assert!(!listing.contains(".berth-cp-"), "{listing}");
    assert_eq!(staged_in(&container_dir), Vec::<String>::new());
}

/// A container plants a device node anyone may write, a setuid-root binary and a FIFO;
/// copying them out never makes the device or the FIFO on the host (each is named on
/// stderr) and drops the setuid bit unless -a. The tar stream of `-` stays faithful.
#[test]
fn copying_out_never_plants_devices_or_setuid_files_on_the_host() {
    use std::os::unix::fs::PermissionsExt;

    let berth = Berth::with_image();
    running(&berth, "web");
    berth.ok(&[
        "exec",
        "web",
        "sh",
        "-c",
        "mkdir /trap && mknod -m 666 /trap/kmsg c 1 11 && mkfifo /trap/fifo \
         && cp /bin/busybox /trap/su && chmod 6755 /trap/su && echo hi > /trap/note",
    ]);
    let out = tempfile::tempdir().unwrap();
    let plain = out.path().join("plain");
    let done = berth.run(&["cp", "web:/trap", plain.to_str().unwrap()]);
    assert!(done.status.success(), "{}", stderr(&done));
    let said = stderr(&done);
    assert!(
        said.contains(&format!(
            "berth cp: skipped device node {}",
            plain.join("kmsg").display()
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!(
            "berth cp: skipped FIFO {}",
            plain.join("fifo").display()
        )),
        "{said}"
    );
    assert!(std::fs::symlink_metadata(plain.join("kmsg")).is_err());
    assert!(std::fs::symlink_metadata(plain.join("fifo")).is_err());
    assert_eq!(std::fs::read(plain.join("note")).unwrap(), b"hi\n");
    let su = std::fs::metadata(plain.join("su")).unwrap();
    assert_eq!(su.permissions().mode() & 0o7777, 0o755);

    let archived = out.path().join("archived");
    berth.ok(&["cp", "-a", "web:/trap", archived.to_str().unwrap()]);
    assert!(std::fs::symlink_metadata(archived.join("kmsg")).is_err());
    let su = std::fs::metadata(archived.join("su")).unwrap();
    assert_eq!(su.permissions().mode() & 0o7777, 0o6755);

    // The stream is data for the user to unpack: as it is in the container.
    let stream = berth.run(&["cp", "web:/trap", "-"]);
    assert!(stream.status.success(), "{}", stderr(&stream));
    let mut kinds = Vec::new();
    for entry in tar::Archive::new(&stream.stdout[..]).entries().unwrap() {
        let entry = entry.unwrap();
        let header = entry.header();
        kinds.push((
            entry.path().unwrap().to_string_lossy().into_owned(),
            header.entry_type().is_character_special(),
            header.mode().unwrap() & 0o7777,
        ));
    }
    assert!(
        kinds.contains(&("trap/kmsg".into(), true, 0o666)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("trap/su".into(), false, 0o6755)),
        "{kinds:?}"
    );
}

/// Runs berth with stderr on a pty (where progress and the closing line are drawn) and
/// stdout to a pipe; returns (stdout, what the terminal showed).
fn with_stderr_on_terminal(berth: &Berth, args: &[&str]) -> (Vec<u8>, String) {
    use std::io::Read;
    let pty = common::openpty();
    let mut child = berth
        .cmd()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::from(pty.slave))
        .spawn()
        .expect("spawn berth");
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "berth {args:?}: {status}");
    let mut master = std::fs::File::from(pty.master);
    // Only what is buffered: the slave is closed, so read until EIO.
    let mut shown = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = master.read(&mut buf) {
        if n == 0 {
            break;
        }
        shown.extend_from_slice(&buf[..n]);
    }
    (stdout, String::from_utf8_lossy(&shown).into_owned())
}

/// `cp CONTAINER:PATH -` writes the tar and nothing else, as Docker: no progress and no
/// "Successfully copied" on a terminal's stderr.
#[test]
fn a_stream_to_stdout_says_nothing_on_stderr() {
    let berth = Berth::with_image();
    running(&berth, "web");
    let (tar, shown) = with_stderr_on_terminal(&berth, &["cp", "web:/etc/motd", "-"]);
    assert_eq!(shown, "", "stderr of a stream");
    let names: Vec<String> = tar::Archive::new(&tar[..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["motd"]);
    // To a file it still says what it did.
    let out = tempfile::tempdir().unwrap();
    let dest = p(out.path(), "motd");
    let (_, shown) = with_stderr_on_terminal(&berth, &["cp", "web:/etc/motd", &dest]);
    assert!(shown.contains("Successfully copied"), "{shown:?}");
}

/// Waits until `dir` holds a file berth stages a copy under, then sends `signal` to berth.
fn interrupt_when_staged(
    child: &std::process::Child,
    dir: &Path,
    signal: nix::sys::signal::Signal,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while staged_in(dir).is_empty() {
        assert!(std::time::Instant::now() < deadline, "no copy under way");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
}

/// Ctrl-C (or SIGTERM) cancels a copy under way: the file being written is removed and
/// the old one stays, both ways, and berth says so.
#[test]
fn an_interrupted_copy_removes_its_temporary_file_and_keeps_the_old_one() {
    use nix::sys::signal::Signal;
    use std::process::Stdio;

    let berth = Berth::with_image();
    running(&berth, "web");
    let host = tempfile::tempdir().unwrap();
    let old = payload(1 << 20, 3);
    let old_file = p(host.path(), "old");
    std::fs::write(&old_file, &old).unwrap();
    // Large and sparse: quick to make, long enough to copy to be caught part way.
    let big = host.path().join("src/big");
    std::fs::create_dir(host.path().join("src")).unwrap();
    std::fs::File::create(&big)
        .unwrap()
        .set_len(256 << 20)
        .unwrap();
    berth.ok(&["cp", &old_file, "web:/big"]);
    berth.ok(&["exec", "web", "cp", "/big", "/old"]);

    // Out of the container, over the user's file.
    berth.ok(&["exec", "web", "truncate", "-s", "256M", "/big"]);
    let child = berth
        .cmd()
        .args(["cp", "web:/big", &old_file])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    interrupt_when_staged(&child, host.path(), Signal::SIGINT);
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("cancelled"), "{}", stderr(&out));
    assert!(
        std::fs::read(&old_file).unwrap() == old,
        "the host file changed"
    );
    assert_eq!(staged_in(host.path()), Vec::<String>::new());

    // Into the container, over its file (seen in its writable layer).
    berth.ok(&["exec", "web", "cp", "/old", "/big"]);
    let upper = berth.upper_dir("web");
    let child = berth
        .cmd()
        .args(["cp", big.to_str().unwrap(), "web:/big"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    interrupt_when_staged(&child, &upper, Signal::SIGTERM);
    let out = child.wait_with_output().unwrap();
    assert!(stderr(&out).contains("cancelled"), "{}", stderr(&out));
    assert_eq!(staged_in(&upper), Vec::<String>::new());
    assert_eq!(berth.ok(&["exec", "web", "cmp", "/big", "/old"]), "");
}
