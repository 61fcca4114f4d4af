//! The engine API behind the dashboard's file pane: directory listings of running and
//! stopped containers (mount points, symlinks that try to leave, huge directories, FIFOs
//! and devices), and copy progress with cancel.

use crate::common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use berth::engine::storage::copy::PathKind;
use berth::engine::storage::listing::{DirEntry, DirListing, MAX_ENTRIES};
use berth::engine::storage::mounts::MountKind;
use berth::engine::storage::progress::{Cancelled, Counted, Progress};
use berth::engine::{Engine, Error};
use common::{Berth, IMAGE};

/// Runs `f` on a thread and fails the test if it takes longer than a few seconds: what a
/// container put in a directory must never block a listing.
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{what} blocked"))
}

fn engine(berth: &Berth) -> Engine {
    Engine::open(berth.root()).expect("open the engine")
}

fn list(berth: &Berth, c: &str, path: &str) -> DirListing {
    let engine = engine(berth);
    let (c2, p2) = (c.to_owned(), path.to_owned());
    within(&format!("listing {c}:{path}"), move || {
        engine.list_container_dir(&c2, &p2)
    })
    .unwrap_or_else(|e| panic!("listing {c}:{path}: {e}"))
}

fn list_err(berth: &Berth, c: &str, path: &str) -> Error {
    let engine = engine(berth);
    let (c2, p2) = (c.to_owned(), path.to_owned());
    match within(&format!("listing {c}:{path}"), move || {
        engine.list_container_dir(&c2, &p2)
    }) {
        Ok(listing) => panic!("listing {c}:{path} should fail: {listing:?}"),
        Err(e) => e,
    }
}

fn entry<'a>(listing: &'a DirListing, name: &str) -> &'a DirEntry {
    listing
        .entries
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("{name} missing in {}: {:?}", listing.path, listing.entries))
}

fn names(listing: &DirListing) -> Vec<&str> {
    listing.entries.iter().map(|e| e.name.as_str()).collect()
}

/// The two states of every test: a running container, and one that ran and exited.
const STATES: [&str; 2] = ["running", "stopped"];

fn container(berth: &Berth, name: &str, state: &str, mounts: &[&str]) {
    let mut args = vec!["run", "--name", name];
    if state == "running" {
        args.push("-d");
    }
    args.extend_from_slice(mounts);
    args.push(IMAGE);
    if state == "running" {
        args.extend_from_slice(&["sleep", "60"]);
    } else {
        args.push("true");
    }
    berth.ok(&args);
}

fn assert_sorted(listing: &DirListing) {
    let keys: Vec<(bool, &str)> = listing
        .entries
        .iter()
        .map(|e| (e.kind != PathKind::Dir, e.name.as_str()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        keys, sorted,
        "{} is not directories first, then names",
        listing.path
    );
}

#[test]
fn lists_running_and_stopped_containers_with_their_mount_points() {
    let berth = Berth::with_image();
    for state in STATES {
        let name = format!("ls-{state}");
        let host = tempfile::tempdir().unwrap();
        std::fs::write(host.path().join("hello"), "hello\n").unwrap();
        let volume = format!("{name}-vol:/vol");
        let bind = format!("{}:/bind", host.path().display());
        let mounts = ["-v", &volume, "-v", &bind, "--tmpfs", "/scratch"];
        container(&berth, &name, state, &mounts);

        let root = list(&berth, &name, "/");
        assert_eq!(root.path, "/");
        assert!(!root.truncated);
        assert_sorted(&root);
        assert_eq!(
            entry(&root, "vol").mount,
            Some(MountKind::Volume),
            "{state}"
        );
        assert_eq!(entry(&root, "bind").mount, Some(MountKind::Bind), "{state}");
        assert_eq!(
            entry(&root, "scratch").mount,
            Some(MountKind::Tmpfs),
            "{state}"
        );
        let etc = entry(&root, "etc");
        assert_eq!((etc.kind, etc.mount), (PathKind::Dir, None), "{state}");

        let bound = list(&berth, &name, "/bind/");
        assert_eq!(bound.path, "/bind");
        let hello = entry(&bound, "hello");
        let meta = std::fs::metadata(host.path().join("hello")).unwrap();
        assert_eq!(hello.kind, PathKind::File);
        assert_eq!(hello.size, 6);
        assert_eq!(
            hello.mode,
            std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777
        );
        assert_eq!(hello.mtime, std::os::unix::fs::MetadataExt::mtime(&meta));
        assert!(names(&list(&berth, &name, "/etc")).contains(&"motd"));

        let err = list_err(&berth, &name, "/nope").to_string();
        assert_eq!(
            err,
            format!("Could not find the file /nope in container {name}")
        );
        let err = list_err(&berth, &name, "/etc/motd").to_string();
        assert_eq!(
            err,
            format!("/etc/motd in container {name} is not a directory")
        );
    }
    let err = list_err(&berth, "ghost", "/").to_string();
    assert!(err.contains("No such container: ghost"), "{err}");
}

/// A tar stream holding one symlink `name` -> `target`.
fn link_tar(links: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, target) in links {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_mode(0o777);
        header.set_size(0);
        builder.append_link(&mut header, name, target).unwrap();
    }
    builder.into_inner().unwrap()
}

/// Puts a uniquely named marker file in every host directory from the container's own
/// directory (which holds its root's mount point) up to the engine root: a listing that
/// escapes the container's root through `..` would show one.
fn plant_markers(berth: &Berth, c: &str) -> String {
    let marker = format!("escape-marker-{}-{c}", std::process::id());
    let upper = berth.upper_dir(c);
    let mut dir: Option<&Path> = upper.parent();
    let mut planted = 0;
    while let Some(d) = dir.filter(|d| d.starts_with(berth.root())) {
        std::fs::write(d.join(&marker), "outside").unwrap();
        planted += 1;
        dir = d.parent();
    }
    assert!(planted >= 2, "{c}'s directory is not below the engine root");
    marker
}

#[test]
fn symlinks_are_listed_and_followed_inside_the_container() {
    let berth = Berth::with_image();
    let outside = tempfile::tempdir().unwrap();
    let outside_marker = format!("host-only-{}", std::process::id());
    std::fs::write(outside.path().join(&outside_marker), "host").unwrap();
    let host_path = outside.path().to_str().unwrap().to_owned();
    for state in STATES {
        let c = format!("links-{state}");
        container(&berth, &c, state, &[]);
        let links = [
            ("etclink", "/etc"),
            ("up", "../../.."),
            ("deep", "../../../../../../../../../../../.."),
            ("hostlink", host_path.as_str()),
        ];
        let out = berth.run_with_input(&["cp", "-", &format!("{c}:/data")], &link_tar(&links));
        assert!(out.status.success(), "{}", common::stderr(&out));
        let marker = plant_markers(&berth, &c);

        let data = list(&berth, &c, "/data");
        for (name, target) in links {
            let link = entry(&data, name);
            assert_eq!(link.kind, PathKind::Symlink, "{state} {name}");
            assert_eq!(link.link_target.as_deref(), Some(target), "{state} {name}");
        }

        let etc = list(&berth, &c, "/data/etclink");
        assert_eq!(etc.path, "/etc", "{state}");
        assert_eq!(etc, list(&berth, &c, "/etc"), "{state}");
        assert!(names(&etc).contains(&"motd"), "{state}");

        let root = list(&berth, &c, "/");
        for through in [
            "/data/up",
            "/data/deep/",
            "/../../..",
            "/data/deep/data/up/etc/..",
        ] {
            let listed = list(&berth, &c, through);
            assert_eq!(listed, root, "{state}: {through}");
            assert!(
                !names(&listed).contains(&marker.as_str()),
                "{state}: {through}"
            );
            assert!(!names(&listed).contains(&outside_marker.as_str()));
        }
        let err = list_err(&berth, &c, "/data/hostlink").to_string();
        assert_eq!(
            err,
            format!("Could not find the file /data/hostlink in container {c}"),
            "{state}"
        );
    }
}

#[test]
fn a_huge_directory_is_cut_at_ten_thousand_entries() {
    let berth = Berth::with_image();
    let host = tempfile::tempdir().unwrap();
    let many = host.path().join("many");
    std::fs::create_dir(&many).unwrap();
    for i in 0..12_000 {
        std::fs::File::create(many.join(format!("f{i:05}"))).unwrap();
    }
    let bind = format!("{}:/bind", host.path().display());
    for state in STATES {
        let c = format!("many-{state}");
        container(&berth, &c, state, &["-v", &bind]);
        let listing = list(&berth, &c, "/bind/many");
        assert!(listing.truncated, "{state}");
        assert_eq!(listing.entries.len(), MAX_ENTRIES, "{state}");
        let mut seen: Vec<&str> = names(&listing);
        assert_sorted(&listing);
        seen.dedup();
        assert_eq!(seen.len(), MAX_ENTRIES, "{state}: duplicates");
        assert!(seen.iter().all(|n| many.join(n).is_file()), "{state}");
    }
}

#[test]
fn fifos_devices_and_sockets_do_not_block_a_listing() {
    let berth = Berth::with_image();
    let host = tempfile::tempdir().unwrap();
    let odd = host.path().join("odd");
    std::fs::create_dir(&odd).unwrap();
    nix::unistd::mkfifo(
        &odd.join("fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    nix::sys::stat::mknod(
        &odd.join("null"),
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 3),
    )
    .unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(odd.join("sock")).unwrap();
    std::fs::write(odd.join("plain"), "x").unwrap();
    let bind = format!("{}:/bind", host.path().display());
    for state in STATES {
        let c = format!("odd-{state}");
        container(&berth, &c, state, &["-v", &bind]);
        let listing = list(&berth, &c, "/bind/odd");
        for name in ["fifo", "null", "sock"] {
            assert_eq!(
                entry(&listing, name).kind,
                PathKind::Other,
                "{state} {name}"
            );
        }
        assert_eq!(entry(&listing, "plain").kind, PathKind::File);
        let err = list_err(&berth, &c, "/bind/odd/fifo").to_string();
        assert!(err.contains("is not a directory"), "{state}: {err}");
        if state == "running" {
            // The container's own /dev, devices and all (empty in the image when stopped).
            let dev = list(&berth, &c, "/dev");
            assert_eq!(entry(&dev, "null").kind, PathKind::Other);
        }
    }
}

/// Lists a 1,000-entry directory of the container's own layer, stopped and then running,
/// and prints the time each took (`--nocapture` shows it).
#[test]
fn listing_time_of_a_thousand_entries() {
    let berth = Berth::with_image();
    berth.ok(&["create", "--name", "timed", IMAGE, "sleep", "60"]);
    let dir = berth.upper_dir("timed").join("thousand");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..1000 {
        std::fs::write(dir.join(format!("file-{i:04}")), "x").unwrap();
    }
    let engine = engine(&berth);
    let timed = |state: &str| {
        let mut best = Duration::MAX;
        for _ in 0..5 {
            let start = Instant::now();
            let listing = engine.list_container_dir("timed", "/thousand").unwrap();
            best = best.min(start.elapsed());
            assert_eq!(listing.entries.len(), 1000, "{state}");
            assert!(!listing.truncated, "{state}");
        }
        eprintln!("listing 1,000 entries, {state}: best of 5 {best:?}");
    };
    timed("stopped");
    berth.ok(&["start", "timed"]);
    timed("running");
}

/// Children of this process that share `mnt_ns`: the copy processes working in it.
fn children_in(mnt_ns: &Path) -> Vec<i32> {
    let ns = std::fs::read_link(mnt_ns).unwrap();
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let ppid = stat.rsplit(')').next()?.split_whitespace().nth(1)?;
            (ppid == me && std::fs::read_link(e.path().join("ns/mnt")).ok()? == ns).then_some(pid)
        })
        .collect()
}

#[test]
fn copy_progress_counts_the_tar_bytes_and_a_cancel_stops_the_copy() {
    let berth = Berth::with_image();
    let host = tempfile::tempdir().unwrap();
    let blob: Vec<u8> = (0..3 * 1024 * 1024 + 123u32)
        .map(|i| (i % 251) as u8)
        .collect();
    std::fs::write(host.path().join("blob"), &blob).unwrap();
    // Sparse: a copy that would take long, without the disk space.
    std::fs::File::create(host.path().join("big"))
        .unwrap()
        .set_len(8 << 30)
        .unwrap();
    let bind = format!("{}:/bind", host.path().display());
    container(&berth, "prog", "running", &["-v", &bind]);
    let engine = engine(&berth);

    // Counting: exactly the bytes of the archive, the same `berth cp` writes.
    let progress = Progress::new();
    let out = engine
        .copy_from_container("prog", "/bind/blob", false)
        .unwrap();
    let mut tar = Vec::new();
    Counted::new(out, progress.clone())
        .read_to_end(&mut tar)
        .unwrap();
    assert_eq!(progress.bytes(), tar.len() as u64);
    let cli = berth.run(&["cp", "prog:/bind/blob", "-"]);
    assert!(cli.status.success());
    assert_eq!(tar, cli.stdout);
    let mut archive = tar::Archive::new(&tar[..]);
    let mut first = archive.entries().unwrap().next().unwrap().unwrap();
    let mut content = Vec::new();
    first.read_to_end(&mut content).unwrap();
    assert_eq!(content, blob);

    // Cancel mid-stream, from another thread as the dashboard does.
    let init = berth.inspect("prog")["State"]["Pid"].as_i64().unwrap();
    let ns = PathBuf::from(format!("/proc/{init}/ns/mnt"));
    let progress = Progress::new();
    let out = engine
        .copy_from_container("prog", "/bind/big", false)
        .unwrap();
    let copier = children_in(&ns);
    assert_eq!(copier.len(), 1, "the copy process: {copier:?}");
    let mut stream = Counted::new(out, progress.clone());
    let mut buf = vec![0u8; 64 << 10];
    while progress.bytes() < 4 << 20 {
        stream.read_exact(&mut buf).unwrap();
    }
    let canceller = progress.clone();
    std::thread::spawn(move || canceller.cancel())
        .join()
        .unwrap();
    let err = std::io::copy(&mut stream, &mut std::io::sink()).unwrap_err();
    assert!(err.get_ref().is_some_and(|e| e.is::<Cancelled>()), "{err}");
    assert!(progress.is_cancelled());
    assert!(progress.bytes() < 1 << 30, "{}", progress.bytes());
    // Gone at once, reaped (no zombie), while the stream is still held.
    assert!(
        !Path::new(&format!("/proc/{}", copier[0])).exists(),
        "copy process {} left",
        copier[0]
    );
    assert!(children_in(&ns).is_empty());
    drop(stream);
}
