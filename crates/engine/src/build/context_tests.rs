//! Tests of the build context on temporary directories: selection, `.dockerignore`, the
//! digest and its stat cache, the tar COPY extracts, and hostile entries.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use super::*;
use crate::build::chmod::Chmod;
use crate::build::selection::TarOptions;
use crate::ids::Digest;

fn write(root: &Path, rel: &str, data: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, data).unwrap();
}

fn ctx(root: &Path) -> BuildContext {
    BuildContext::open(root, Some("Dockerfile"), None).unwrap()
}

fn sources(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

/// What a tar holds: name -> (type, mode, uid, gid, content or link target).
#[derive(Debug, PartialEq, Eq, Clone)]
struct Got {
    kind: char,
    mode: u32,
    owner: (u64, u64),
    data: String,
}

fn tar_of(sel: &Selection, opts: &TarOptions<'_>) -> BTreeMap<String, Got> {
    let mut buf = Vec::new();
    sel.write_tar_with(opts, &mut buf).unwrap();
    read_tar(&buf)
}

fn read_tar(buf: &[u8]) -> BTreeMap<String, Got> {
    let mut out = BTreeMap::new();
    let mut archive = tar::Archive::new(buf);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let h = entry.header().clone();
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = match h.entry_type() {
            tar::EntryType::Regular => 'f',
            tar::EntryType::Directory => 'd',
            tar::EntryType::Symlink => 'l',
            tar::EntryType::Link => 'h',
            tar::EntryType::Fifo => 'p',
            tar::EntryType::Char => 'c',
            _ => '?',
        };
        let data = match kind {
            'l' | 'h' => String::from_utf8_lossy(&entry.link_name_bytes().unwrap()).into_owned(),
            _ => {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut entry, &mut s).unwrap();
                s
            }
        };
        out.insert(
            name,
            Got {
                kind,
                mode: h.mode().unwrap(),
                owner: (h.uid().unwrap(), h.gid().unwrap()),
                data,
            },
        );
    }
    out
}

fn opts(dest: &str) -> TarOptions<'_> {
    TarOptions::new(dest)
}

fn names(t: &BTreeMap<String, Got>) -> Vec<&str> {
    t.keys().map(String::as_str).collect()
}

fn sample() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "Dockerfile", "FROM scratch\n");
    write(root, "top.txt", "top");
    write(root, "src/a.txt", "a");
    write(root, "src/sub/b.txt", "b");
    fs::set_permissions(root.join("src/a.txt"), fs::Permissions::from_mode(0o640)).unwrap();
    symlink("a.txt", root.join("src/link")).unwrap();
    dir
}

#[test]
fn a_directory_source_copies_its_contents_into_dest() {
    let dir = sample();
    let sel = ctx(dir.path()).select(&sources(&["src"])).unwrap();
    let t = tar_of(&sel, &opts("/app"));
    assert_eq!(
        names(&t),
        ["app/", "app/a.txt", "app/link", "app/sub/", "app/sub/b.txt"]
    );
    // The created destination is 0755, root's; entries keep their mode, owned by 0:0.
    assert_eq!(
        (t["app/"].kind, t["app/"].mode, t["app/"].owner),
        ('d', 0o755, (0, 0))
    );
    assert_eq!(
        (t["app/a.txt"].mode, t["app/a.txt"].data.as_str()),
        (0o640, "a")
    );
    assert_eq!(
        (t["app/link"].kind, t["app/link"].data.as_str()),
        ('l', "a.txt")
    );
    // An existing destination directory keeps its own entry.
    let t = tar_of(
        &sel,
        &TarOptions {
            dest_is_dir: true,
            ..opts("/app")
        },
    );
    assert!(!t.contains_key("app/") && t.contains_key("app/sub/b.txt"));
}

#[test]
fn a_file_source_becomes_dest_or_goes_into_a_directory_dest() {
    let dir = sample();
    let c = ctx(dir.path());
    let sel = c.select(&sources(&["top.txt"])).unwrap();
    assert_eq!(names(&tar_of(&sel, &opts("/x.txt"))), ["x.txt"]);
    assert_eq!(names(&tar_of(&sel, &opts("/d/"))), ["d/", "d/top.txt"]);
    let into = TarOptions {
        dest_is_dir: true,
        ..opts("/d")
    };
    assert_eq!(names(&tar_of(&sel, &into)), ["d/top.txt"]);
    // "/" is a directory that always exists.
    assert_eq!(names(&tar_of(&sel, &opts("/"))), ["top.txt"]);
    // A symlink named as the source is followed; the file keeps the link's name.
    let sel = c.select(&sources(&["src/link"])).unwrap();
    let t = tar_of(&sel, &opts("/d/"));
    assert_eq!((t["d/link"].kind, t["d/link"].data.as_str()), ('f', "a"));
}

#[test]
fn several_sources_need_a_directory_destination() {
    let dir = sample();
    let sel = ctx(dir.path())
        .select(&sources(&["top.txt", "src/a.txt"]))
        .unwrap();
    let err = sel
        .write_tar("/one", false, None, None, &mut Vec::new())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "When using COPY with more than one source file, the destination must be a directory and end with a /"
    );
    let t = tar_of(&sel, &opts("/many/"));
    assert_eq!(names(&t), ["many/", "many/a.txt", "many/top.txt"]);
}

#[test]
fn chown_chmod_and_the_missing_parents_of_dest() {
    let dir = sample();
    let sel = ctx(dir.path()).select(&sources(&["src"])).unwrap();
    let exists = |p: &str| p == "/usr";
    let t = tar_of(
        &sel,
        &TarOptions {
            chown: Some((1000, 1001)),
            chmod: Some(Chmod::Octal(0o4750)),
            exists: Some(&exists),
            ..opts("/usr/local/app")
        },
    );
    assert!(
        !t.contains_key("usr/"),
        "an existing parent is not rewritten"
    );
    for name in [
        "usr/local/",
        "usr/local/app/",
        "usr/local/app/a.txt",
        "usr/local/app/sub/",
    ] {
        assert_eq!(
            (t[name].mode, t[name].owner),
            (0o4750, (1000, 1001)),
            "{name}"
        );
    }
    assert_eq!(t["usr/local/app/link"].mode, 0o777);
    assert_eq!(t["usr/local/app/link"].owner, (1000, 1001));
}

#[test]
fn dockerignore_leaves_files_out_and_exceptions_bring_them_back() {
    let dir = sample();
    let root = dir.path();
    write(
        root,
        ".dockerignore",
        "*.log\nsecret\n!secret/keep\nDockerfile\n",
    );
    write(root, "debug.log", "x");
    write(root, "src/deep.log", "kept: *.log is only the top level");
    write(root, "secret/key", "k");
    write(root, "secret/keep", "keep");
    write(root, "private/x", "x");
    let c = ctx(root);
    assert_eq!(c.ignore_file(), Some(".dockerignore"));
    let t = tar_of(&c.select(&sources(&["."])).unwrap(), &opts("/c"));
    let got = names(&t);
    assert!(!got.contains(&"c/debug.log"));
    assert!(got.contains(&"c/src/deep.log"));
    assert!(got.contains(&"c/secret/") && got.contains(&"c/secret/keep"));
    assert!(!got.contains(&"c/secret/key"));
    // The Dockerfile is still read for the build, but COPY . leaves it out.
    assert!(!got.contains(&"c/Dockerfile"));
    assert_eq!(c.read_file("Dockerfile", 1024).unwrap(), b"FROM scratch\n");
    // An ignored source does not exist.
    let err = c.select(&sources(&["debug.log"])).err().unwrap();
    assert_eq!(
        err.to_string(),
        "\"/debug.log\": not found in the build context"
    );
    assert_eq!(err.kind(), ErrorKind::NotFound);
    // A wildcard skips what is ignored, and may match nothing.
    assert_eq!(c.select(&sources(&["*.log"])).unwrap().len(), 0);
}

#[test]
fn the_dockerfiles_own_ignore_file_wins() {
    let dir = sample();
    let root = dir.path();
    write(root, ".dockerignore", "top.txt\n");
    write(root, "build/app.Dockerfile", "FROM scratch\n");
    write(root, "build/app.Dockerfile.dockerignore", "src\n");
    let c = BuildContext::open(root, Some("build/app.Dockerfile"), None).unwrap();
    assert_eq!(c.ignore_file(), Some("build/app.Dockerfile.dockerignore"));
    assert!(c.select(&sources(&["top.txt"])).is_ok());
    assert!(c.select(&sources(&["src"])).is_err());
    let c = BuildContext::open(root, Some("Dockerfile"), None).unwrap();
    assert_eq!(c.ignore_file(), Some(".dockerignore"));
}

#[test]
fn wildcards_match_per_component_in_name_order() {
    let dir = sample();
    let root = dir.path();
    write(root, "src/c.txt", "c");
    write(root, "other/sub/b.txt", "b2");
    let c = ctx(root);
    let t = tar_of(&c.select(&sources(&["src/*.txt"])).unwrap(), &opts("/w/"));
    assert_eq!(names(&t), ["w/", "w/a.txt", "w/c.txt"]);
    let sel = c.select(&sources(&["*/sub/b.txt"])).unwrap();
    assert_eq!(sel.len(), 2);
    assert!(c.select(&sources(&["nothing*"])).unwrap().is_empty());
}

#[test]
fn sources_outside_the_context_are_the_contexts_own_paths() {
    let dir = sample();
    let c = ctx(dir.path());
    // BuildKit reads ../x as the context's /x.
    let err = c.select(&sources(&["../missing"])).err().unwrap();
    assert_eq!(
        err.to_string(),
        "\"../missing\": forbidden path outside the build context (\"/missing\": not found)"
    );
    let sel = c.select(&sources(&["../top.txt"])).unwrap();
    assert_eq!(names(&tar_of(&sel, &opts("/t"))), ["t"]);
    let err = c.select(&sources(&["nope"])).err().unwrap();
    assert_eq!(err.to_string(), "\"/nope\": not found in the build context");
}

#[test]
fn symlinks_never_lead_out_of_the_context() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret", "outside");
    let dir = sample();
    let root = dir.path();
    symlink(outside.path().join("secret"), root.join("abs")).unwrap();
    symlink("../../../../../../../../../..", root.join("up")).unwrap();
    symlink("loop2", root.join("loop1")).unwrap();
    symlink("loop1", root.join("loop2")).unwrap();
    // The absolute target means the context's own path, which does not exist.
    let c = ctx(root);
    assert!(c.select(&sources(&["abs"])).is_err());
    // `..` stops at the root: up/ is the context itself.
    let sel = c.select(&sources(&["up/top.txt"])).unwrap();
    assert_eq!(tar_of(&sel, &opts("/t"))["t"].data, "top");
    let err = c.select(&sources(&["loop1"])).err().unwrap();
    assert!(
        err.to_string()
            .contains("too many levels of symbolic links"),
        "{err}"
    );
    // Inside a copied directory, links are entries as they are.
    let t = tar_of(&c.select(&sources(&["."])).unwrap(), &opts("/c"));
    assert_eq!(t["c/loop1"].kind, 'l');
    assert_eq!(
        t["c/abs"].data,
        outside.path().join("secret").to_string_lossy()
    );
    assert!(t.values().all(|g| g.data != "outside"));
    // A Dockerfile that is a link out is not read either.
    assert!(c.read_file("abs", 1024).is_err());
}

#[test]
fn fifos_and_devices_are_entries_never_opened() {
    let dir = sample();
    let root = dir.path();
    nix::unistd::mkfifo(&root.join("src/fifo"), Mode::from_bits_truncate(0o644)).unwrap();
    let null = nix::sys::stat::makedev(1, 3);
    nix::sys::stat::mknod(
        &root.join("src/null"),
        nix::sys::stat::SFlag::S_IFCHR,
        Mode::from_bits_truncate(0o666),
        null,
    )
    .unwrap();
    let c = ctx(root);
    let sel = c.select(&sources(&["src"])).unwrap();
    sel.digest().unwrap();
    let t = tar_of(&sel, &opts("/s"));
    assert_eq!(t["s/fifo"].kind, 'p');
    assert_eq!(t["s/null"].kind, 'c');
    // Named directly, too.
    let sel = c.select(&sources(&["src/fifo"])).unwrap();
    assert_eq!(tar_of(&sel, &opts("/f"))["f"].kind, 'p');
    assert!(c.read_file("src/fifo", 10).is_err());
}

#[test]
fn odd_names_travel_as_bytes() {
    let dir = sample();
    let root = dir.path();
    let odd = std::ffi::OsStr::from_bytes(b"new\nline\xff");
    fs::write(root.join("src").join(odd), "odd").unwrap();
    let c = ctx(root);
    let sel = c.select(&sources(&["src"])).unwrap();
    sel.digest().unwrap();
    let mut buf = Vec::new();
    sel.write_tar("/o", false, None, None, &mut buf).unwrap();
    let mut archive = tar::Archive::new(&buf[..]);
    let found = archive
        .entries()
        .unwrap()
        .any(|e| e.unwrap().path_bytes().as_ref() == b"o/new\nline\xff");
    assert!(found);
    let m = sel.manifest().unwrap();
    assert!(m.entries.iter().any(|e| e.path == "src/new\nline\\xff"));
}

fn digest_of(root: &Path, src: &[&str]) -> Digest {
    ctx(root).select(&sources(src)).unwrap().digest().unwrap()
}

#[test]
fn the_digest_ignores_times_and_sees_bytes_mode_owner_and_links() {
    let dir = sample();
    let root = dir.path();
    let first = digest_of(root, &["."]);
    assert_eq!(first, digest_of(root, &["."]));
    // touch: same digest.
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
    fs::File::options()
        .write(true)
        .open(root.join("src/a.txt"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    assert_eq!(first, digest_of(root, &["."]));
    // One byte.
    write(root, "src/a.txt", "b");
    let bytes = digest_of(root, &["."]);
    assert_ne!(first, bytes);
    // Mode.
    fs::set_permissions(root.join("src/a.txt"), fs::Permissions::from_mode(0o600)).unwrap();
    let mode = digest_of(root, &["."]);
    assert_ne!(bytes, mode);
    // Owner.
    std::os::unix::fs::lchown(root.join("src/a.txt"), Some(1234), Some(1234)).unwrap();
    let owner = digest_of(root, &["."]);
    assert_ne!(mode, owner);
    // Link target.
    fs::remove_file(root.join("src/link")).unwrap();
    symlink("sub", root.join("src/link")).unwrap();
    assert_ne!(owner, digest_of(root, &["."]));
    // An ignored file changes nothing.
    let before = digest_of(root, &["."]);
    write(root, ".dockerignore", "*.log\n");
    let with_ignore = digest_of(root, &["."]);
    write(root, "x.log", "noise");
    assert_eq!(with_ignore, digest_of(root, &["."]));
    assert_ne!(before, with_ignore, ".dockerignore itself is content");
}

#[test]
fn the_stat_cache_answers_for_unchanged_files() {
    let dir = sample();
    let root = dir.path();
    let cache = tempfile::tempdir().unwrap();
    let open = || {
        let c = BuildContext::open(root, Some("Dockerfile"), Some(cache.path())).unwrap();
        c.trust_fresh_records();
        c
    };
    let c = open();
    let first = c.select(&sources(&["."])).unwrap().digest().unwrap();
    assert_eq!(c.files_hashed(), 4, "Dockerfile, top.txt, a.txt, b.txt");
    // A later build (a new context) reads none of them.
    let c = open();
    assert_eq!(c.select(&sources(&["."])).unwrap().digest().unwrap(), first);
    assert_eq!(c.files_hashed(), 0);
    // One changed file is the only one read.
    write(root, "src/sub/b.txt", "B");
    let c = open();
    assert_ne!(c.select(&sources(&["."])).unwrap().digest().unwrap(), first);
    assert_eq!(c.files_hashed(), 1);
    // Without trusting fresh records, a file written this second is read again.
    let c = BuildContext::open(root, Some("Dockerfile"), Some(cache.path())).unwrap();
    c.select(&sources(&["src/sub/b.txt"]))
        .unwrap()
        .digest()
        .unwrap();
    assert_eq!(c.files_hashed(), 1);
}

#[test]
fn the_stat_cache_keeps_xattrs_so_an_unchanged_tree_lists_none() {
    let dir = sample();
    let root = dir.path();
    write(root, ".dockerignore", "**/*.log\n");
    write(root, "src/x.log", "noise");
    let cache = tempfile::tempdir().unwrap();
    let open = || {
        let c = BuildContext::open(root, Some("Dockerfile"), Some(cache.path())).unwrap();
        c.trust_fresh_records();
        c
    };
    let c = open();
    let first = c.select(&sources(&["src"])).unwrap().digest().unwrap();
    // src, a.txt, link, sub, b.txt: what .dockerignore excludes is never looked at.
    assert_eq!(c.xattrs_listed(), 5);
    let c = open();
    assert_eq!(
        c.select(&sources(&["src"])).unwrap().digest().unwrap(),
        first
    );
    assert_eq!(c.xattrs_listed(), 0);
    // A chmod moves ctime: that entry's xattrs are listed again, and only its.
    fs::set_permissions(root.join("src/a.txt"), fs::Permissions::from_mode(0o600)).unwrap();
    let c = open();
    assert_ne!(
        c.select(&sources(&["src"])).unwrap().digest().unwrap(),
        first
    );
    assert_eq!(c.xattrs_listed(), 1);
    // An xattr set since is seen (it moves ctime too).
    let before = open().select(&sources(&["src"])).unwrap().digest().unwrap();
    let file = root.join("src/sub/b.txt");
    if rustix::fs::lsetxattr(&file, "user.berth", b"1", rustix::fs::XattrFlags::empty()).is_ok() {
        let c = open();
        assert_ne!(
            c.select(&sources(&["src"])).unwrap().digest().unwrap(),
            before
        );
        assert_eq!(c.xattrs_listed(), 1);
    }
}

#[test]
fn a_big_sparse_file_is_hashed_by_its_data_and_its_holes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let path = root.join("big.img");
    let size = 10u64 << 30;
    {
        let f = fs::File::create(&path).unwrap();
        f.set_len(size).unwrap();
        use std::os::unix::fs::FileExt;
        f.write_all_at(b"middle", size / 2).unwrap();
        f.write_all_at(b"end", size - 3).unwrap();
    }
    let digest = |root: &Path| {
        let c = ctx(root);
        let d = c.select(&sources(&["big.img"])).unwrap().digest().unwrap();
        assert_eq!(c.files_hashed(), 1);
        d
    };
    let first = digest(root);
    assert_eq!(first, digest(root));
    // A byte written into a hole, the size unchanged: another digest.
    {
        let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
        use std::os::unix::fs::FileExt;
        f.write_all_at(b"x", size / 4).unwrap();
    }
    let second = digest(root);
    assert_ne!(first, second);
    // The same bytes written where data already was: a change of content too.
    {
        let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
        use std::os::unix::fs::FileExt;
        f.write_all_at(b"y", size / 2).unwrap();
    }
    assert_ne!(second, digest(root));
}

#[test]
fn a_file_that_changes_after_the_walk_is_an_error_not_a_loop() {
    let dir = sample();
    let root = dir.path();
    let c = ctx(root);
    let sel = c.select(&sources(&["top.txt"])).unwrap();
    let mut f = fs::File::options()
        .append(true)
        .open(root.join("top.txt"))
        .unwrap();
    f.write_all(b" and more").unwrap();
    let err = sel.digest().unwrap_err();
    assert!(err.to_string().contains("changed"), "{err}");
    let err = sel
        .write_tar("/t", false, None, None, &mut Vec::new())
        .unwrap_err();
    assert!(err.to_string().contains("changed"), "{err}");
}

#[test]
fn the_manifest_names_the_first_difference() {
    let dir = sample();
    let root = dir.path();
    let m = |root: &Path| {
        ctx(root)
            .select(&sources(&["."]))
            .unwrap()
            .manifest()
            .unwrap()
    };
    let old = m(root);
    assert_eq!(m(root).first_difference(&old), None);
    write(root, "src/a.txt", "changed");
    assert_eq!(
        m(root).first_difference(&old).as_deref(),
        Some("src/a.txt changed")
    );
    let old = m(root);
    write(root, "src/new.rs", "n");
    assert_eq!(
        m(root).first_difference(&old).as_deref(),
        Some("src/new.rs added")
    );
    let old = m(root);
    fs::remove_file(root.join("top.txt")).unwrap();
    assert_eq!(
        m(root).first_difference(&old).as_deref(),
        Some("top.txt removed")
    );
    // It survives serialisation with a cache entry.
    let json = serde_json::to_string(&old).unwrap();
    assert_eq!(serde_json::from_str::<Manifest>(&json).unwrap(), old);
}

#[test]
fn add_finds_local_tar_archives() {
    let dir = sample();
    let root = dir.path();
    let mut plain = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(2);
    h.set_mode(0o644);
    h.set_cksum();
    plain.append_data(&mut h, "in.txt", &b"hi"[..]).unwrap();
    let plain = plain.into_inner().unwrap();
    fs::write(root.join("a.tar"), &plain).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&plain).unwrap();
    fs::write(root.join("a.tar.gz"), gz.finish().unwrap()).unwrap();
    fs::write(
        root.join("a.tar.zst"),
        zstd::encode_all(&plain[..], 1).unwrap(),
    )
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"not a tar at all, just text long enough to fill a block? no")
        .unwrap();
    fs::write(root.join("text.gz"), gz.finish().unwrap()).unwrap();
    for (program, name) in [("xz", "a.tar.xz"), ("bzip2", "a.tar.bz2")] {
        let out = std::process::Command::new(program)
            .arg("-c")
            .arg(root.join("a.tar"))
            .output()
            .unwrap();
        assert!(out.status.success());
        fs::write(root.join(name), out.stdout).unwrap();
    }
    let c = ctx(root);
    let sel = c
        .select(&sources(&[
            "a.tar",
            "a.tar.gz",
            "a.tar.zst",
            "a.tar.xz",
            "a.tar.bz2",
            "text.gz",
            "top.txt",
            "src",
        ]))
        .unwrap();
    let (rest, archives) = sel.split_archives().unwrap();
    let kinds: Vec<(&str, ArchiveKind)> = archives.iter().map(|a| (a.source(), a.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("a.tar", ArchiveKind::Tar),
            ("a.tar.gz", ArchiveKind::Gzip),
            ("a.tar.zst", ArchiveKind::Zstd),
            ("a.tar.xz", ArchiveKind::Xz),
            ("a.tar.bz2", ArchiveKind::Bzip2),
        ]
    );
    assert_eq!(rest.len(), 3);
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut archives[0].open().unwrap(), &mut bytes).unwrap();
    assert_eq!(bytes, plain);
    // Each one's tar stream is the plain tar.
    for archive in &archives {
        let mut inside = Vec::new();
        std::io::Read::read_to_end(&mut archive.tar_stream().unwrap(), &mut inside).unwrap();
        assert_eq!(inside, plain, "{}", archive.source());
    }
    // A damaged xz stream fails at the read, and nothing is left running.
    let mut broken = fs::read(root.join("a.tar.xz")).unwrap();
    let at = broken.len() - 20;
    broken[at] ^= 0xff;
    fs::write(root.join("a.tar.xz"), broken).unwrap();
    let c = ctx(root);
    let (_, archives) = c
        .select(&sources(&["a.tar.xz"]))
        .unwrap()
        .split_archives()
        .unwrap();
    let mut sink = Vec::new();
    let read = std::io::Read::read_to_end(&mut archives[0].tar_stream().unwrap(), &mut sink);
    assert!(read.is_err(), "{read:?}");
}

#[test]
fn opening_a_context_that_is_not_a_directory() {
    let dir = sample();
    let err = BuildContext::open(&dir.path().join("top.txt"), None, None)
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("context must be a directory"),
        "{err}"
    );
    let err = BuildContext::open(&dir.path().join("none"), None, None)
        .err()
        .unwrap();
    assert!(err.to_string().contains("not found"), "{err}");
    let c = ctx(dir.path());
    assert!(c.read_file("top.txt", 2).is_err(), "over the limit");
}

#[test]
fn a_same_size_change_with_the_old_mtime_is_still_seen() {
    let dir = sample();
    let root = dir.path();
    let cache = tempfile::tempdir().unwrap();
    let open = || {
        let c = BuildContext::open(root, None, Some(cache.path())).unwrap();
        c.trust_fresh_records();
        c
    };
    let path = root.join("top.txt");
    let mtime = fs::metadata(&path).unwrap().modified().unwrap();
    let first = open()
        .select(&sources(&["top.txt"]))
        .unwrap()
        .digest()
        .unwrap();
    // Same size, mtime put back: only the ctime (and the bytes) tell.
    fs::write(&path, "TOP").unwrap();
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let c = open();
    assert_ne!(
        c.select(&sources(&["top.txt"])).unwrap().digest().unwrap(),
        first
    );
    assert_eq!(c.files_hashed(), 1);
}

#[test]
fn hard_links_inside_a_copy_stay_links() {
    let dir = sample();
    let root = dir.path();
    fs::hard_link(root.join("src/a.txt"), root.join("src/sub/again.txt")).unwrap();
    let sel = ctx(root).select(&sources(&["src"])).unwrap();
    let t = tar_of(&sel, &opts("/h"));
    assert_eq!(t["h/a.txt"].kind, 'f');
    assert_eq!(
        (
            t["h/sub/again.txt"].kind,
            t["h/sub/again.txt"].data.as_str()
        ),
        ('h', "h/a.txt")
    );
}

#[test]
fn a_symlinked_directory_source_copies_the_targets_contents() {
    let dir = sample();
    let root = dir.path();
    symlink("src/sub", root.join("sublink")).unwrap();
    let sel = ctx(root).select(&sources(&["sublink"])).unwrap();
    assert_eq!(names(&tar_of(&sel, &opts("/s"))), ["s/", "s/b.txt"]);
    // The same content under another name: the same digest.
    let direct = ctx(root).select(&sources(&["src/sub"])).unwrap();
    assert_eq!(sel.digest().unwrap(), direct.digest().unwrap());
}

#[test]
fn an_excluded_directory_keeps_what_a_wildcard_exception_re_includes() {
    let dir = sample();
    let root = dir.path();
    write(root, ".dockerignore", "docs\n!**/*.md\n");
    write(root, "docs/a.md", "a");
    write(root, "docs/b.txt", "b");
    write(root, "docs/deep/c.md", "c");
    write(root, "docs/none/d.txt", "d");
    let c = ctx(root);
    let t = tar_of(&c.select(&sources(&["docs"])).unwrap(), &opts("/d"));
    assert_eq!(names(&t), ["d/", "d/a.md", "d/deep/", "d/deep/c.md"]);
    assert!(c.select(&sources(&["docs/b.txt"])).is_err());
    assert!(c.select(&sources(&["docs/deep/c.md"])).is_ok());
    // Only ignored files inside: the directory does not exist.
    write(root, ".dockerignore", "docs\n");
    assert!(ctx(root).select(&sources(&["docs"])).is_err());
}

#[test]
fn a_deep_tree_is_walked_without_recursion() {
    let dir = sample();
    let root = dir.path();
    let deep = "d/".repeat(500);
    write(root, &format!("{deep}leaf"), "leaf");
    let sel = ctx(root).select(&sources(&["d"])).unwrap();
    sel.digest().unwrap();
    let t = tar_of(&sel, &opts("/x"));
    assert!(t.contains_key(&format!("x/{}leaf", "d/".repeat(499))));
}

#[test]
fn a_symbolic_chmod_changes_each_entrys_own_mode() {
    let dir = sample();
    let sel = ctx(dir.path()).select(&sources(&["src"])).unwrap();
    let mut o = opts("/s");
    o.chmod = Some(Chmod::parse("go-rwx,u+X").unwrap());
    let t = tar_of(&sel, &o);
    assert_eq!(t["s/a.txt"].mode, 0o600, "0640 loses the group's read");
    assert_eq!(t["s/sub/"].mode, 0o700);
    assert_eq!(t["s/"].mode, 0o755, "a directory the copy creates is 0755");
}

#[test]
fn a_same_size_rewrite_during_a_read_is_an_error() {
    let dir = sample();
    let root = dir.path();
    let c = ctx(root);
    let Lookup::Found { path, st } = c.inner.lookup(b"top.txt", true, false).unwrap() else {
        panic!("top.txt is there");
    };
    let meta = Meta::from_stat(&st, EntryKind::File, None);
    let mut reader = c.inner.open_file(&path, &meta).unwrap();
    let mut first = [0u8; 1];
    reader.read_exact(&mut first).unwrap();
    fs::write(root.join("top.txt"), "TOP").unwrap();
    let err = reader.read_to_end(&mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("changed"), "{err}");
}

#[test]
fn an_ignore_file_that_is_a_directory_is_skipped() {
    let dir = sample();
    fs::create_dir(dir.path().join(".dockerignore")).unwrap();
    let c = ctx(dir.path());
    assert_eq!(c.ignore_file(), None);
    assert!(c.ignore().is_empty());
}

#[test]
fn a_stat_cache_that_cannot_be_written_does_not_fail_the_build() {
    let dir = sample();
    let not_a_dir = dir.path().join("top.txt");
    let c = BuildContext::open(dir.path(), None, Some(&not_a_dir.join("cache"))).unwrap();
    let digest = c.select(&sources(&["src"])).unwrap().digest().unwrap();
    assert_eq!(
        digest,
        ctx(dir.path())
            .select(&sources(&["src"]))
            .unwrap()
            .digest()
            .unwrap()
    );
}

#[test]
fn xattrs_are_content_and_travel_in_the_tar() {
    let dir = sample();
    let root = dir.path();
    let before = digest_of(root, &["src"]);
    let file = root.join("src/a.txt");
    if let Err(e) =
        rustix::fs::lsetxattr(&file, "user.berth", b"1", rustix::fs::XattrFlags::empty())
    {
        // A filesystem without user xattrs cannot tell; nothing to check there.
        eprintln!("no user xattrs on this filesystem: {e}");
        return;
    }
    let with = digest_of(root, &["src"]);
    assert_ne!(before, with);
    let sel = ctx(root).select(&sources(&["src"])).unwrap();
    let mut buf = Vec::new();
    sel.write_tar("/x", false, None, None, &mut buf).unwrap();
    let mut archive = tar::Archive::new(&buf[..]);
    let mut found = None;
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path_bytes().as_ref() == b"x/a.txt" {
            for ext in entry.pax_extensions().unwrap().unwrap() {
                let ext = ext.unwrap();
                found = Some((ext.key().unwrap().to_owned(), ext.value_bytes().to_vec()));
            }
        }
    }
    assert_eq!(
        found,
        Some(("SCHILY.xattr.user.berth".to_owned(), b"1".to_vec()))
    );
    rustix::fs::lsetxattr(&file, "user.berth", b"2", rustix::fs::XattrFlags::empty()).unwrap();
    assert_ne!(with, digest_of(root, &["src"]));
}

#[test]
fn the_digest_then_the_manifest_read_the_files_once() {
    let dir = sample();
    let c = ctx(dir.path());
    let sel = c.select(&sources(&["src"])).unwrap();
    let digest = sel.digest().unwrap();
    let hashed = c.files_hashed();
    assert_eq!(hashed, 2);
    let manifest = sel.manifest().unwrap();
    assert_eq!(c.files_hashed(), hashed);
    assert_eq!(sel.digest_and_manifest().unwrap(), (digest, manifest));
}
