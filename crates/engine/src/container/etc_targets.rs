//! The targets of the generated `/etc` files' bind mounts (`/etc/hosts`, `/etc/hostname`,
//! `/etc/resolv.conf`), made in a new container's empty writable layer where its image
//! lacks them, as Docker makes them in a container's init layer.
//!
//! Init would otherwise make them at the first start, through the mounted overlay: a
//! copy-up of the image's `/etc` and a create in the upper layer for each, 0.3 ms of the
//! start on the project's test machine. Here they are plain creates in a directory no
//! container has seen yet. Where the image's `/etc` is anything but a plain directory (a
//! symlink, a file, a directory with extended attributes a copy-up would carry), nothing
//! is made and init makes them as before.

use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;
use nix::unistd::{fchown, Gid, Uid};

use crate::build::image_fs::{Found, ImageFs, Kind};
use crate::error::{Context, Result};
use crate::ids::Digest;
use crate::Engine;

/// The bind-mount targets init needs in `/etc` (see `spec::build`).
const TARGETS: [&str; 3] = ["hosts", "hostname", "resolv.conf"];

/// The mode init gives a directory and a file it makes (`in_root`).
const DIR_MODE: u32 = 0o755;
const FILE_MODE: u32 = 0o644;

/// Makes in `upper` (the new container's writable layer, empty) the `/etc` targets that
/// the image of chain `chain_ids` (bottom first) lacks. Returns how many were made.
pub(crate) fn premake(engine: &Engine, chain_ids: &[Digest], upper: &Path) -> Result<usize> {
    let layers: Vec<PathBuf> = chain_ids.iter().map(|c| engine.layer_diff_dir(c)).collect();
    premake_over(&layers, upper)
}

/// [`premake`] over the layer directories `layers` (bottom first).
fn premake_over(layers: &[PathBuf], upper: &Path) -> Result<usize> {
    let image = ImageFs::of_layer_dirs(layers)?;
    let etc = image.lookup("etc")?;
    let plain = match &etc {
        None => true,
        Some(found) => found.kind == Kind::Dir && !has_copied_xattrs(layers, found)?,
    };
    if !plain {
        return Ok(0);
    }
    let mut missing = Vec::new();
    for name in TARGETS {
        if image.lookup(&format!("etc/{name}"))?.is_none() {
            missing.push(name);
        }
    }
    if missing.is_empty() {
        return Ok(0);
    }
    let dir = make_etc(upper, etc.as_ref())?;
    for name in &missing {
        make_file(&dir, name).context(|| format!("making /etc/{name} in {}", upper.display()))?;
    }
    Ok(missing.len())
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
        Some(dir) => openat2(
            dir,
            path,
            OpenHow::new().flags(flags).resolve(
                ResolveFlag::RESOLVE_BENEATH
                    | ResolveFlag::RESOLVE_NO_SYMLINKS
                    | ResolveFlag::RESOLVE_NO_MAGICLINKS
                    | ResolveFlag::RESOLVE_NO_XDEV,
            ),
        ),
        None => nix::fcntl::open(path, flags, Mode::empty()),
    }
}

/// `upper/etc`, with the image's `/etc`'s owner and mode (what a copy-up gives it), or
/// init's for an image without one.
fn make_etc(upper: &Path, image_etc: Option<&Found>) -> Result<OwnedFd> {
    let upper_fd = open_dir(None, upper).context(|| format!("opening {}", upper.display()))?;
    let (mode, owner) = image_etc.map_or((DIR_MODE, (0, 0)), |f| (f.mode, (f.uid, f.gid)));
    let context = || format!("making /etc in {}", upper.display());
    nix::sys::stat::mkdirat(&upper_fd, "etc", Mode::from_bits_truncate(0o700)).context(context)?;
    let etc = open_dir(Some(&upper_fd), Path::new("etc")).context(context)?;
    if owner != (0, 0) {
        fchown(
            &etc,
            Some(Uid::from_raw(owner.0)),
            Some(Gid::from_raw(owner.1)),
        )
        .context(context)?;
    }
    // After the owner: a chown clears setuid and setgid bits. Set as asked, not masked.
    nix::sys::stat::fchmod(&etc, Mode::from_bits_truncate(mode)).context(context)?;
    Ok(etc)
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
            premake_over(&self.layers, &self.upper()).expect("premake")
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
        let etc = image.layers[1].join("etc");
        std::fs::create_dir(&etc).expect("etc");
        std::fs::write(etc.join("hosts"), "127.0.0.1 image\n").expect("hosts");
        std::fs::set_permissions(&etc, std::fs::Permissions::from_mode(0o750)).expect("chmod");
        std::os::unix::fs::chown(&etc, Some(12), Some(34)).expect("chown");
        assert_eq!(image.premake(), 2);
        assert_eq!(image.made(), ["hostname", "resolv.conf"]);
        let made = std::fs::metadata(image.upper().join("etc")).expect("etc");
        assert_eq!(made.permissions().mode() & 0o7777, 0o750);
        assert_eq!((made.uid(), made.gid()), (12, 34));
    }

    #[test]
    fn an_image_with_every_target_gets_nothing() {
        let image = Image::new(1);
        let etc = image.layers[0].join("etc");
        std::fs::create_dir(&etc).expect("etc");
        for name in TARGETS {
            std::fs::write(etc.join(name), name).expect("target");
        }
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
        let lower_etc = image.layers[0].join("etc");
        std::fs::create_dir(&lower_etc).expect("etc");
        for name in TARGETS {
            std::fs::write(lower_etc.join(name), name).expect("target");
        }
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
}
