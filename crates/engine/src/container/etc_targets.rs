//! The targets of the generated `/etc` files' bind mounts (`/etc/hosts`, `/etc/hostname`,
//! `/etc/resolv.conf`), made in a new container's empty writable layer where its image
//! lacks them, as Docker makes them in a container's init layer.
//!
//! Init would otherwise make them at the first start, through the mounted overlay: a
//! copy-up of the image's `/etc` and a create in the upper layer for each, 0.3 ms of the
//! start on the project's test machine. Here they are plain creates in a directory no
//! container has seen yet, or already made in a spare container directory (see
//! `spare_dir`) for an image without `/etc`, and adjusted to the image. Where the image's
//! `/etc` is anything but a plain directory (a symlink, a file, a directory with extended
//! attributes a copy-up would carry), nothing is made and init makes them as before.

use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use nix::unistd::{fchown, Gid, Uid};

use crate::build::image_fs::{open_dir_beneath, Found, ImageFs, Kind};
use crate::error::{Context, Result};
use crate::ids::Digest;
use crate::Engine;

/// The bind-mount targets init needs in `/etc`: the engine's files (see `spec`).
const TARGETS: [&str; 3] = super::spec::ETC_FILES;

/// The mode init gives a file it makes (`in_root`).
const FILE_MODE: u32 = 0o644;

/// The mode and owner of a directory.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Attrs {
    mode: u32,
    uid: u32,
    gid: u32,
}

/// What init gives a directory it makes (`in_root`): 0755, root's.
const INIT_DIR: Attrs = Attrs {
    mode: 0o755,
    uid: 0,
    gid: 0,
};

/// What the image of a container needs made in its writable layer: `/etc` (with the
/// image's owner and mode, or init's for an image without one) and the missing targets.
#[derive(Debug, PartialEq)]
struct Plan {
    etc: Attrs,
    missing: Vec<&'static str>,
}

/// Settles the `/etc` targets in `upper`, the writable layer of a container just made:
/// made where the image of chain `chain_ids` (bottom first) lacks them and the container
/// starts next (`starting`), none otherwise. A spare directory brings them made for an
/// image without `/etc` (see [`make_for_no_image`]): they are adjusted to the image here,
/// which costs no new inode. Returns how many targets are left made.
pub(crate) fn settle(
    engine: &Engine,
    chain_ids: &[Digest],
    upper: &Path,
    starting: bool,
) -> Result<usize> {
    let layers: Vec<PathBuf> = chain_ids.iter().map(|c| engine.layer_diff_dir(c)).collect();
    settle_over(&layers, upper, starting)
}

/// [`settle`] over the layer directories `layers` (bottom first).
fn settle_over(layers: &[PathBuf], upper: &Path, starting: bool) -> Result<usize> {
    let plan = if starting { plan(layers)? } else { None };
    let premade = upper.join("etc").exists();
    match (plan, premade) {
        (None, false) => Ok(0),
        (None, true) => {
            remove_premade(upper)?;
            Ok(0)
        }
        (Some(plan), false) => make(upper, &plan),
        (Some(plan), true) => adjust_premade(upper, &plan),
    }
}

/// What to make for the image of `layers`; None when nothing is to be made (every target
/// there already) or init must (`/etc` no plain directory).
fn plan(layers: &[PathBuf]) -> Result<Option<Plan>> {
    let image = ImageFs::of_layer_dirs(layers)?;
    let etc = image.lookup("etc")?;
    let attrs = match &etc {
        None => INIT_DIR,
        Some(found) if found.kind == Kind::Dir && !has_copied_xattrs(layers, found)? => Attrs {
            mode: found.mode,
            uid: found.uid,
            gid: found.gid,
        },
        Some(_) => return Ok(None),
    };
    let mut missing = Vec::new();
    for name in TARGETS {
        if image.lookup(&format!("etc/{name}"))?.is_none() {
            missing.push(name);
        }
    }
    Ok((!missing.is_empty()).then_some(Plan {
        etc: attrs,
        missing,
    }))
}

/// Makes in `upper` the targets for an image without `/etc`: what a spare container
/// directory holds, for [`settle`] to adjust.
pub(crate) fn make_for_no_image(upper: &Path) -> Result<()> {
    let plan = Plan {
        etc: INIT_DIR,
        missing: TARGETS.to_vec(),
    };
    make(upper, &plan).map(drop)
}

/// Makes `/etc` in `upper` and the targets `plan` misses; returns how many.
fn make(upper: &Path, plan: &Plan) -> Result<usize> {
    let dir = make_etc(upper, plan.etc)?;
    for name in &plan.missing {
        make_file(&dir, name).context(|| format!("making /etc/{name} in {}", upper.display()))?;
    }
    Ok(plan.missing.len())
}

/// Gives the premade `/etc` in `upper` the image's owner and mode and removes the
/// targets the image has.
fn adjust_premade(upper: &Path, plan: &Plan) -> Result<usize> {
    let context = || format!("adjusting /etc in {}", upper.display());
    let upper_fd = open_dir(None, upper).context(context)?;
    let etc = open_dir(Some(&upper_fd), Path::new("etc")).context(context)?;
    set_attrs(&etc, plan.etc).context(context)?;
    for name in TARGETS.iter().filter(|n| !plan.missing.contains(n)) {
        nix::unistd::unlinkat(&etc, *name, nix::unistd::UnlinkatFlags::NoRemoveDir)
            .context(context)?;
    }
    Ok(plan.missing.len())
}

/// Removes the premade `/etc` and its targets from `upper`.
fn remove_premade(upper: &Path) -> Result<()> {
    let context = || format!("removing the premade /etc in {}", upper.display());
    let upper_fd = open_dir(None, upper).context(context)?;
    let etc = open_dir(Some(&upper_fd), Path::new("etc")).context(context)?;
    for name in TARGETS {
        match nix::unistd::unlinkat(&etc, name, nix::unistd::UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(nix::Error::ENOENT) => {}
            Err(e) => return Err(e).context(context),
        }
    }
    drop(etc);
    nix::unistd::unlinkat(&upper_fd, "etc", nix::unistd::UnlinkatFlags::RemoveDir).context(context)
}

/// True if the image's `/etc` (`found`) has extended attributes overlay's copy-up would
/// carry up (all but overlay's own).
fn has_copied_xattrs(layers: &[PathBuf], found: &Found) -> Result<bool> {
    let Some(layer) = layers.get(found.layer) else {
        return Ok(true);
    };
    let layer_fd = open_dir(None, layer).context(|| format!("opening {}", layer.display()))?;
    let etc = open_dir(Some(&layer_fd), Path::new("etc"))
        .context(|| format!("opening /etc in {}", layer.display()))?;
    let mut names = vec![0u8; 64 * 1024];
    let len = rustix::fs::flistxattr(&etc, &mut names)
        .map_err(std::io::Error::from)
        .context(|| format!("listing the attributes of /etc in {}", layer.display()))?;
    Ok(names[..len]
        .split(|&b| b == 0)
        .any(|name| !name.is_empty() && !name.starts_with(b"trusted.overlay.")))
}

/// `path` opened as a directory below `at` (or as given), no symlink followed.
fn open_dir(at: Option<&OwnedFd>, path: &Path) -> nix::Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    match at {
        Some(dir) => open_dir_beneath(dir, path.as_os_str()),
        None => nix::fcntl::open(path, flags, Mode::empty()),
    }
}

/// `upper/etc` with owner and mode `attrs` (what a copy-up gives it: the image's).
fn make_etc(upper: &Path, attrs: Attrs) -> Result<OwnedFd> {
    let upper_fd = open_dir(None, upper).context(|| format!("opening {}", upper.display()))?;
    let context = || format!("making /etc in {}", upper.display());
    nix::sys::stat::mkdirat(&upper_fd, "etc", Mode::from_bits_truncate(0o700)).context(context)?;
    let etc = open_dir(Some(&upper_fd), Path::new("etc")).context(context)?;
    set_attrs(&etc, attrs).context(context)?;
    Ok(etc)
}

/// Gives `dir` the owner and mode `attrs`: the owner first, as a chown clears setuid and
/// setgid bits; the mode as asked, not masked.
fn set_attrs(dir: &OwnedFd, attrs: Attrs) -> nix::Result<()> {
    fchown(
        dir,
        Some(Uid::from_raw(attrs.uid)),
        Some(Gid::from_raw(attrs.gid)),
    )?;
    nix::sys::stat::fchmod(dir, Mode::from_bits_truncate(attrs.mode))
}

/// An empty file `name` in `dir`, mode 0644, owned by root; it must not exist yet.
fn make_file(dir: &OwnedFd, name: &str) -> nix::Result<()> {
    let flags = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW;
    let file = nix::fcntl::openat(
        dir,
        OsStr::new(name),
        flags | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(FILE_MODE),
    )?;
    nix::sys::stat::fchmod(&file, Mode::from_bits_truncate(FILE_MODE))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};

    use super::*;

    /// An image's `/etc` of another owner and mode than init's.
    const OTHERS: Attrs = Attrs {
        mode: 0o750,
        uid: 12,
        gid: 34,
    };

    /// Layer directories (bottom first) and an empty upper one, in a temp dir.
    struct Image {
        tmp: tempfile::TempDir,
        layers: Vec<PathBuf>,
    }

    impl Image {
        fn new(count: usize) -> Image {
            let tmp = tempfile::tempdir().expect("tempdir");
            let layers = (0..count)
                .map(|i| {
                    let dir = tmp.path().join(format!("l{i}"));
                    std::fs::create_dir(&dir).expect("layer");
                    dir
                })
                .collect();
            std::fs::create_dir(tmp.path().join("upper")).expect("upper");
            Image { tmp, layers }
        }

        fn upper(&self) -> PathBuf {
            self.tmp.path().join("upper")
        }

        fn premake(&self) -> usize {
            settle_over(&self.layers, &self.upper(), true).expect("settle")
        }

        /// As a create does with a spare directory: its targets made first.
        fn premake_over_spare(&self, starting: bool) -> usize {
            make_for_no_image(&self.upper()).expect("spare's targets");
            settle_over(&self.layers, &self.upper(), starting).expect("settle")
        }

        /// `/etc` in layer `layer` with `mode` and `owner`, holding `targets`.
        fn lower_etc(&self, layer: usize, attrs: Attrs, targets: &[&str]) {
            let etc = self.layers[layer].join("etc");
            std::fs::create_dir(&etc).expect("etc");
            for name in targets {
                std::fs::write(etc.join(name), name).expect("target");
            }
            let mode = std::fs::Permissions::from_mode(attrs.mode);
            std::fs::set_permissions(&etc, mode).expect("chmod");
            std::os::unix::fs::chown(&etc, Some(attrs.uid), Some(attrs.gid)).expect("chown");
        }

        /// The mode and owner of the `/etc` made in the upper layer.
        fn made_etc(&self) -> Attrs {
            let etc = std::fs::metadata(self.upper().join("etc")).expect("etc");
            Attrs {
                mode: etc.permissions().mode() & 0o7777,
                uid: etc.uid(),
                gid: etc.gid(),
            }
        }

        fn made(&self) -> Vec<String> {
            let etc = self.upper().join("etc");
            let mut names: Vec<String> = std::fs::read_dir(&etc)
                .map(|d| {
                    d.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            names.sort();
            names
        }
    }

    #[test]
    fn an_image_without_etc_gets_all_three_targets_as_init_makes_them() {
        let image = Image::new(1);
        assert_eq!(image.premake(), 3);
        assert_eq!(image.made(), ["hostname", "hosts", "resolv.conf"]);
        let etc = std::fs::metadata(image.upper().join("etc")).expect("etc");
        assert_eq!(etc.permissions().mode() & 0o7777, 0o755);
        let hosts = std::fs::symlink_metadata(image.upper().join("etc/hosts")).expect("hosts");
        assert!(hosts.is_file());
        assert_eq!(
            (hosts.len(), hosts.permissions().mode() & 0o7777),
            (0, 0o644)
        );
    }

    #[test]
    fn only_the_missing_targets_are_made_and_etc_keeps_the_images_owner_and_mode() {
        let image = Image::new(2);
        image.lower_etc(1, OTHERS, &["hosts"]);
        assert_eq!(image.premake(), 2);
        assert_eq!(image.made(), ["hostname", "resolv.conf"]);
        assert_eq!(image.made_etc(), OTHERS);
    }

    #[test]
    fn an_image_with_every_target_gets_nothing() {
        let image = Image::new(1);
        image.lower_etc(0, INIT_DIR, &TARGETS);
        assert_eq!(image.premake(), 0);
        assert!(!image.upper().join("etc").exists());
    }

    #[test]
    fn a_linked_etc_or_target_is_left_to_init_and_nothing_is_followed() {
        // /etc a symlink (to the host's /etc, as a hostile image may have it): nothing is
        // made, so init resolves it inside the container as before.
        let image = Image::new(1);
        symlink("/etc", image.layers[0].join("etc")).expect("link");
        assert_eq!(image.premake(), 0);
        assert!(!image.upper().join("etc").exists());
        // A target that is a symlink (resolv.conf into /run, as Ubuntu's) stays init's.
        let image = Image::new(1);
        let etc = image.layers[0].join("etc");
        std::fs::create_dir(&etc).expect("etc");
        symlink("/run/resolv.conf", etc.join("resolv.conf")).expect("link");
        assert_eq!(image.premake(), 2);
        assert_eq!(image.made(), ["hostname", "hosts"]);
    }

    #[test]
    fn an_etc_with_attributes_a_copy_up_would_keep_is_left_to_init() {
        let image = Image::new(1);
        let etc = image.layers[0].join("etc");
        std::fs::create_dir(&etc).expect("etc");
        let set = rustix::fs::setxattr(
            &etc,
            "user.origin",
            b"image",
            rustix::fs::XattrFlags::empty(),
        );
        if set.is_err() {
            // A filesystem without user attributes (tmpfs before 6.6): nothing to test.
            return;
        }
        assert_eq!(image.premake(), 0);
        assert!(!image.upper().join("etc").exists());
    }

    #[test]
    fn a_whited_out_etc_counts_as_missing() {
        let image = Image::new(2);
        image.lower_etc(0, INIT_DIR, &TARGETS);
        let whiteout = nix::sys::stat::mknod(
            &image.layers[1].join("etc"),
            nix::sys::stat::SFlag::S_IFCHR,
            Mode::empty(),
            0,
        );
        if whiteout.is_err() {
            return; // not root: no whiteout can be made
        }
        assert_eq!(image.premake(), 3);
        assert_eq!(image.made(), ["hostname", "hosts", "resolv.conf"]);
    }

    #[test]
    fn a_spares_targets_stay_for_an_image_without_etc() {
        let image = Image::new(1);
        assert_eq!(image.premake_over_spare(true), 3);
        assert_eq!(image.made(), ["hostname", "hosts", "resolv.conf"]);
        assert_eq!(
            image.made_etc(),
            Attrs {
                mode: 0o755,
                uid: 0,
                gid: 0
            }
        );
    }

    #[test]
    fn a_spares_targets_take_the_images_etc_and_leave_what_it_has() {
        let image = Image::new(1);
        image.lower_etc(0, OTHERS, &["hostname"]);
        assert_eq!(image.premake_over_spare(true), 2);
        assert_eq!(image.made(), ["hosts", "resolv.conf"]);
        assert_eq!(image.made_etc(), OTHERS);
    }

    #[test]
    fn a_spares_targets_go_for_a_linked_etc_and_for_a_container_not_started() {
        let image = Image::new(1);
        symlink("/etc", image.layers[0].join("etc")).expect("link");
        assert_eq!(image.premake_over_spare(true), 0);
        assert!(!image.upper().join("etc").exists());
        // `create` alone: the container shows no target until it starts.
        let image = Image::new(1);
        assert_eq!(image.premake_over_spare(false), 0);
        assert!(!image.upper().join("etc").exists());
        // Every target in the image: the premade ones go too, /etc stays (plain).
        let image = Image::new(1);
        image.lower_etc(0, INIT_DIR, &TARGETS);
        assert_eq!(image.premake_over_spare(true), 0);
        assert!(!image.upper().join("etc").exists());
    }
}
