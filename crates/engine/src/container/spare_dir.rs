//! A container directory made ahead of the create that takes it.
//!
//! A create makes the container's directory, its overlay's directories, the files the
//! engine writes for it (`hostname`, `hosts`, `resolv.conf`) and, for `run`, the `/etc`
//! bind targets in its writable layer (see `etc_targets`): eleven new inodes, each a
//! journaled change of the engine root's filesystem, and 1-2 ms of a `run` when that disk
//! is busy (interleaved runs on the project's test machine). So a monitor whose container
//! has exited, once its client has the exit code, makes the next one under `tmp/`, and a
//! create takes it with one rename, as the cgroups have a spare (`runtime::cgroups`).
//! Nothing in a spare comes from an image or a container: it is what a create makes
//! before it writes anything, with the `/etc` targets an image without `/etc` gets, which
//! the create adjusts to its image (or removes).

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{Context, Result};
use crate::paths::DIR_MODE;
use crate::storage::overlay::OverlayDirs;
use crate::Engine;

/// The spare's name in `tmp/` (with the layout's version: a spare of another layout is
/// never taken, and `system check` removes it).
pub(crate) const SPARE_DIR: &str = "spare-container.1";
/// A spare being made, named `<prefix><pid>-<n>` until it is whole.
const MAKING_PREFIX: &str = "spare-container.making-";

impl Engine {
    /// Moves the spare container directory to `dir` (which must not exist); false when
    /// there is none, or it can't go there (`tmp/` on another filesystem).
    pub(crate) fn take_spare_container_dir(&self, dir: &Path) -> bool {
        std::fs::rename(self.paths().tmp_dir().join(SPARE_DIR), dir).is_ok()
    }

    /// Makes a spare container directory if there is none. Made under a name of its own
    /// and renamed when whole: a kill leaves a `making` directory for `system check`,
    /// never a spare with a part missing. When another process names its spare first,
    /// that one stays and this one goes.
    pub(crate) fn keep_spare_container_dir(&self) -> Result<()> {
        static MADE: AtomicU32 = AtomicU32::new(0);
        let tmp = self.paths().tmp_dir();
        let spare = tmp.join(SPARE_DIR);
        if spare.exists() {
            return Ok(());
        }
        // A root made before its bulk directories were spread at creation.
        self.paths().spread_bulk_dirs();
        let making = tmp.join(format!(
            "{MAKING_PREFIX}{}-{}",
            std::process::id(),
            MADE.fetch_add(1, Ordering::Relaxed)
        ));
        let made = make_container_dir(&making)
            .and_then(|()| {
                let upper = OverlayDirs::in_container_dir(&making, Vec::new()).upper;
                super::etc_targets::make_for_no_image(&upper)
            })
            .and_then(|()| {
                std::fs::rename(&making, &spare)
                    .context(|| format!("naming {} the spare", making.display()))
            });
        if made.is_err() {
            // Ours only; what can't be removed is `system check`'s to find.
            let _ = std::fs::remove_dir_all(&making);
        }
        made
    }
}

/// A container's directory as a create makes it before it writes anything: private to
/// root (its writable layer may hold setuid files and device nodes), the overlay's
/// directories, and the engine's files, empty.
pub(crate) fn make_container_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .mode(DIR_MODE)
        .create(dir)
        .context(|| format!("creating {}", dir.display()))?;
    OverlayDirs::in_container_dir(dir, Vec::new()).create_dirs()?;
    for name in super::spec::ETC_FILES {
        let path = dir.join(name);
        std::fs::File::create(&path).context(|| format!("creating {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(dir: &Path) -> Vec<String> {
        let fd = nix::fcntl::open(
            dir,
            nix::fcntl::OFlag::O_RDONLY,
            nix::sys::stat::Mode::empty(),
        );
        crate::storage::copy::list_dir_sorted(&fd.unwrap())
            .unwrap()
            .into_iter()
            .map(|name| name.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn a_spare_is_made_once_taken_once_and_holds_what_a_create_makes() {
        let root = tempfile::tempdir().unwrap();
        let engine = Engine::open(root.path()).unwrap();
        let first = root.path().join("c1");
        assert!(!engine.take_spare_container_dir(&first), "no spare yet");

        engine.keep_spare_container_dir().unwrap();
        engine.keep_spare_container_dir().unwrap();
        assert_eq!(listing(&engine.paths().tmp_dir()), [SPARE_DIR]);

        assert!(engine.take_spare_container_dir(&first));
        let made = root.path().join("made");
        make_container_dir(&made).unwrap();
        assert_eq!(listing(&first), listing(&made));
        assert_eq!(
            listing(&first),
            [
                "hostname",
                "hosts",
                "resolv.conf",
                "rootfs",
                "upper",
                "work"
            ]
        );
        for name in ["rootfs", "work"] {
            assert_eq!(listing(&first.join(name)), Vec::<String>::new(), "{name}");
        }
        // The /etc targets of an image without /etc, for the create to adjust.
        assert_eq!(listing(&first.join("upper")), ["etc"]);
        assert_eq!(
            listing(&first.join("upper/etc")),
            ["hostname", "hosts", "resolv.conf"]
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&first), mode(&made));
        assert_eq!(mode(&first), DIR_MODE);

        // Taken: the next take finds none, the next keep makes another.
        assert!(!engine.take_spare_container_dir(&root.path().join("c2")));
        engine.keep_spare_container_dir().unwrap();
        assert!(engine.take_spare_container_dir(&root.path().join("c2")));
    }

    #[test]
    fn a_spare_there_is_kept_as_it_is() {
        let root = tempfile::tempdir().unwrap();
        let engine = Engine::open(root.path()).unwrap();
        let spare = engine.paths().tmp_dir().join(SPARE_DIR);
        make_container_dir(&spare).unwrap();
        std::fs::write(spare.join("hosts"), "theirs").unwrap();
        engine.keep_spare_container_dir().unwrap();
        assert_eq!(
            std::fs::read_to_string(spare.join("hosts")).unwrap(),
            "theirs"
        );
        assert_eq!(listing(&engine.paths().tmp_dir()), [SPARE_DIR]);
    }
}
