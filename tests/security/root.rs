//! Hole 5 (CVE-2021-41091 class): the engine root must be closed to other host users, so
//! nothing a container plants in its writable layer (a setuid-root binary, a device node)
//! or puts in its environment (a password) is reachable through the host's paths.
//! Hole 8: an engine root on a pseudo filesystem is refused before anything is created.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{self, Berth};
use crate::helper;

const NOBODY: u32 = 65534;
const SECRET: &str = "PASSWORD=hunter2-berth-root-test";

/// Runs `probe MODE PATH` as the unprivileged user and returns what it printed: `ok` or
/// the error of the open/opendir/exec.
fn as_nobody(probe: &Path, mode: &str, target: &Path) -> String {
    let out = Command::new(probe)
        .arg(mode)
        .arg(target)
        .uid(NOBODY)
        .gid(NOBODY)
        .output()
        .expect("spawn the probe as nobody");
    common::stdout(&out).trim().to_owned()
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o7777
}

/// A static program that opens, lists or executes a path and says how it went.
const PROBE: &str = r#"#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc != 3) return 2;
    if (!strcmp(argv[1], "open")) {
        int fd = open(argv[2], O_RDONLY | O_NONBLOCK);
        if (fd < 0) { printf("%s\n", strerror(errno)); return 1; }
        printf("ok\n"); return 0;
    }
    if (!strcmp(argv[1], "list")) {
        DIR *d = opendir(argv[2]);
        if (!d) { printf("%s\n", strerror(errno)); return 1; }
        printf("ok\n"); return 0;
    }
    if (!strcmp(argv[1], "exec")) {
        char *args[] = { argv[2], NULL };
        execv(argv[2], args);
        printf("%s\n", strerror(errno)); return 1;
    }
    return 2;
}
"#;

/// The planted binary: reports the effective uid it got.
const EUID: &str = r#"#include <stdio.h>
#include <unistd.h>
int main(void) { printf("euid=%d\n", (int)geteuid()); return 0; }
"#;

#[test]
fn other_users_cannot_reach_what_a_container_plants_or_its_secrets() {
    let berth = Berth::new();
    // An engine root made the old way (0755), as /var/lib/berth would be.
    std::fs::set_permissions(berth.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    berth.load_fixture("busybox-save.tar");
    let scratch = tempfile::tempdir().unwrap();
    std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let probe = helper::build_static(scratch.path(), "probe", PROBE);
    let euid = helper::build_static(scratch.path(), "euid", EUID);

    berth.ok(&[
        "run",
        "-d",
        "--name",
        "c",
        "-e",
        SECRET,
        common::IMAGE,
        "sleep",
        "60",
    ]);
    berth.ok(&["cp", euid.to_str().unwrap(), "c:/suid"]);
    berth.ok(&["exec", "c", "chmod", "4755", "/suid"]);
    // A block device with the numbers of the host's root filesystem's disk.
    let dev = std::fs::metadata("/").unwrap().dev();
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    berth.ok(&[
        "exec",
        "c",
        "mknod",
        "/hostdisk",
        "b",
        &major.to_string(),
        &minor.to_string(),
    ]);
    berth.ok(&["exec", "c", "mknod", "/nulldev", "c", "1", "3"]);

    let upper = berth.upper_dir("c");
    let container_dir = upper.parent().unwrap().to_owned();
    // The plants are there on the host, as the attack needs them.
    let suid = upper.join("suid");
    assert_eq!(
        mode_of(&suid),
        0o4755,
        "the container planted a setuid binary"
    );
    assert_eq!(std::fs::metadata(&suid).unwrap().uid(), 0);
    assert!(std::fs::symlink_metadata(upper.join("hostdisk")).is_ok());
    for secret_file in ["record.json", "config.json"] {
        let text = std::fs::read_to_string(container_dir.join(secret_file)).unwrap();
        assert!(text.contains(SECRET), "{secret_file} holds the secret");
    }
    // The probe itself works for nobody (a readable file outside the root).
    let control = scratch.path().join("readable");
    std::fs::write(&control, "x").unwrap();
    std::fs::set_permissions(&control, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(as_nobody(&probe, "open", &control), "ok");

    let denied = "Permission denied";
    assert_eq!(as_nobody(&probe, "exec", &suid), denied, "setuid plant");
    assert_eq!(as_nobody(&probe, "open", &upper.join("hostdisk")), denied);
    assert_eq!(as_nobody(&probe, "open", &upper.join("nulldev")), denied);
    for secret_file in ["record.json", "config.json", "container.log"] {
        let path = container_dir.join(secret_file);
        assert_eq!(as_nobody(&probe, "open", &path), denied, "{secret_file}");
    }
    let containers = berth.root().join("containers");
    assert_eq!(as_nobody(&probe, "list", &containers), denied);
    assert_eq!(as_nobody(&probe, "list", berth.root()), denied);
    let images = berth.root().join("images");
    assert_eq!(as_nobody(&probe, "list", &images), denied);

    // Records are root-only even inside the closed root.
    for file in [
        container_dir.join("record.json"),
        container_dir.join("config.json"),
    ] {
        assert_eq!(mode_of(&file), 0o600, "{}", file.display());
    }
    assert_eq!(mode_of(&container_dir), 0o700);
    // Container content keeps its modes: the setuid bit stays what the container set.
    assert_eq!(mode_of(&suid), 0o4755);
}

#[test]
fn existing_open_roots_are_closed_on_open_and_by_check() {
    let berth = Berth::with_image();
    berth.ok(&[
        "create",
        "--name",
        "c",
        "-v",
        "v1:/data",
        common::IMAGE,
        "true",
    ]);
    let root = berth.root().to_owned();
    let top: Vec<PathBuf> = [
        "blobs",
        "blobs/sha256",
        "layers",
        "images",
        "containers",
        "volumes",
        "tmp",
    ]
    .iter()
    .map(|d| root.join(d))
    .collect();
    let container_dir = berth.upper_dir("c").parent().unwrap().to_owned();
    let record = container_dir.join("record.json");
    for dir in top.iter().chain([&root, &container_dir]) {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(&record, std::fs::Permissions::from_mode(0o644)).unwrap();

    berth.ok(&["ps"]);
    assert_eq!(mode_of(&root), 0o710);
    for dir in &top {
        assert_eq!(mode_of(dir), 0o700, "{}", dir.display());
    }
    // Deeper objects are for `system check`: it names them, and --repair fixes them.
    let out = berth.run(&["system", "check"]);
    assert_eq!(out.status.code(), Some(1), "{}", common::stdout(&out));
    let report = common::stdout(&out);
    for path in [&container_dir, &record] {
        assert!(
            report.contains(&format!(
                "permissions mode {:o} {}",
                mode_of(path),
                path.display()
            )),
            "{report}"
        );
    }
    berth.ok(&["system", "check", "--repair"]);
    assert_eq!(mode_of(&container_dir), 0o700);
    assert_eq!(mode_of(&record), 0o600);
    berth.ok(&["system", "check"]);
}

/// The error names the root and the filesystem, and nothing is created.
fn assert_refused(root: &Path, what: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("--root")
        .arg(root)
        .arg("ps")
        .output()
        .expect("spawn berth");
    let err = common::stderr(&out);
    assert!(!out.status.success(), "{}", root.display());
    assert!(
        err.contains(&format!("engine root {}", root.display()))
            && err.contains(what)
            && err.contains("choose a directory on a disk")
            && err.lines().count() == 1,
        "{err}"
    );
    assert!(!root.exists(), "{} was created", root.display());
}

#[test]
fn roots_on_pseudo_filesystems_are_refused_before_anything_is_made() {
    let name = format!("berth-test-{}", std::process::id());
    assert_refused(
        &Path::new("/proc").join(&name).join("x"),
        "proc pseudo filesystem",
    );
    assert_refused(
        &Path::new("/sys/fs/cgroup").join(&name),
        "pseudo filesystem",
    );
    assert_refused(&Path::new("/sys/kernel").join(&name), "pseudo filesystem");
    // Whatever hierarchy is mounted: v1 controllers or the unified v2 tree.
    for (hierarchy, fs) in [
        ("/sys/fs/cgroup/memory", "cgroup pseudo filesystem"),
        ("/sys/fs/cgroup/unified", "cgroup2 pseudo filesystem"),
    ] {
        if Path::new(hierarchy).join("cgroup.procs").exists() {
            assert_refused(&Path::new(hierarchy).join(&name), fs);
        }
    }
}
