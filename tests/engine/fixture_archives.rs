//! The fixture builder's hostile and malformed archives: each is refused with one line
//! naming the archive, and nothing is written outside the engine root or left inside it.

use crate::common;

use std::path::Path;

use common::{fixtures, Berth};

/// Paths the hostile layers try to write, see tests/fixtures/make_images.py.
const ESCAPE_TARGETS: &[&str] = &[
    "/tmp/berth-evil-abs",
    "/tmp/berth-evil-symlink",
    "/tmp/berth-evil-rel",
];

fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

#[test]
fn hostile_and_malformed_archives_are_refused_without_a_trace() {
    for target in ESCAPE_TARGETS {
        let _ = std::fs::remove_file(target);
    }
    let berth = Berth::new();
    for name in [
        "evil-dotdot.tar",
        "evil-abs.tar",
        "evil-symlink.tar",
        "evil-symlink-rel.tar",
        "evil-hardlink.tar",
        "bad-diffid.tar",
        "truncated.tar",
        "not-a-tar.tar",
        "missing-manifest.tar",
    ] {
        let path = fixtures().join(name);
        let err = berth.fail(&["load", "-i", path.to_str().unwrap()]);
        assert_eq!(err.trim().lines().count(), 1, "{name}: {err}");
        assert!(
            err.contains(name),
            "{name}: the error names the archive: {err}"
        );
        for target in ESCAPE_TARGETS {
            assert!(!Path::new(target).exists(), "{name} wrote {target}");
        }
        let escaped_dotdot = berth
            .root()
            .join("layers")
            .join("..")
            .join("escaped-dotdot");
        assert!(!escaped_dotdot.exists(), "{name} escaped its layer dir");
        assert_eq!(berth.ok(&["images", "-aq"]), "", "{name} left an image");
        for dir in ["layers", "images", "tmp"] {
            assert_eq!(
                entries(&berth.root().join(dir)),
                0,
                "{name} left debris in {dir}/"
            );
        }
    }
    // The engine still works after all that.
    berth.load_fixture("busybox-oci.tar");
    assert_eq!(
        berth.ok(&["run", "--rm", "berth-test/busybox-oci", "cat", "/etc/motd"]),
        "layer2 motd\n"
    );
}
