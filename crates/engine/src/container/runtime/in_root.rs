//! Paths inside the container root, walked by descriptor: the kernel resolves each one
//! inside the root (`openat2` with RESOLVE_IN_ROOT and no magic links), so no symlink of
//! the image's leads out of it (CVE-2021-30465), and what is made is made in a directory
//! already resolved, never through a path.
//!
//! pathrs resolves the same way, but every reopen of a handle and every error it builds
//! goes through its procfs handle, which it checks again each time: ~60 system calls per
//! mount point, most of init's work. Init only resolves, makes directories and empty
//! files, and mounts onto what it resolved, which needs none of that. Kernels without
//! `openat2` (before 5.6) go through pathrs's emulated resolver.

use std::ffi::OsStr;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Component, Path};

use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// How often a resolution is retried when the kernel reports a race (EAGAIN: a rename
/// or mount somewhere on the host while a `..` was walked), as pathrs does.
const RACE_RETRIES: usize = 128;

/// The container root, opened once; everything below is reached through it.
pub(crate) struct RootDir {
    fd: OwnedFd,
}

impl RootDir {
    pub(crate) fn open(path: &Path) -> io::Result<RootDir> {
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::open(path, flags, Mode::empty())?;
        Ok(RootDir { fd })
    }

    /// `path` inside the root, symlinks followed inside it: an O_PATH handle.
    pub(crate) fn resolve(&self, path: &Path) -> io::Result<OwnedFd> {
        self.open_in(path, OFlags::PATH)
    }

    /// The directory at `path` inside the root: an O_PATH handle.
    fn dir(&self, path: &Path) -> io::Result<OwnedFd> {
        self.open_in(path, OFlags::PATH | OFlags::DIRECTORY)
    }

    fn open_in(&self, path: &Path, flags: OFlags) -> io::Result<OwnedFd> {
        let flags = flags | OFlags::CLOEXEC;
        let how = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS;
        for _ in 0..RACE_RETRIES {
            match rustix::fs::openat2(&self.fd, path, flags, Mode::empty(), how) {
                Err(Errno::AGAIN) => continue,
                Err(Errno::NOSYS) => return self.emulated(path, flags),
                result => return result.map_err(io::Error::from),
            }
        }
        Err(Errno::AGAIN.into())
    }

    /// The same lookup by pathrs's userspace resolver, for kernels without `openat2`.
    fn emulated(&self, path: &Path, flags: OFlags) -> io::Result<OwnedFd> {
        let root = pathrs::Root::from_fd(self.fd.try_clone()?);
        let flags = pathrs::flags::OpenFlags::from_bits_retain(u64::from(flags.bits()));
        root.open_subpath(path, flags)
            .map(OwnedFd::from)
            .map_err(|e| match e.kind() {
                pathrs::error::ErrorKind::OsError(Some(errno)) => {
                    io::Error::from_raw_os_error(errno)
                }
                _ => io::Error::other(e.to_string()),
            })
    }

    /// The directory at `path`, made with `mode` where missing, parents too (`mkdir -p`):
    /// an O_PATH handle. Below the deepest part that exists, each directory is made in
    /// its parent's descriptor and opened without following a symlink, so one planted in
    /// its place fails the step instead of leading elsewhere.
    pub(crate) fn mkdir_all(&self, path: &Path, mode: u32) -> io::Result<OwnedFd> {
        let parts: Vec<Component> = path
            .components()
            .filter(|c| !matches!(c, Component::RootDir | Component::CurDir))
            .collect();
        // The deepest part that exists: usually the whole path, or all but its last name
        // (a mount point in a fresh tmpfs).
        let mut existing = parts.len();
        let mut current = loop {
            let prefix: std::path::PathBuf = std::iter::once(Component::RootDir)
                .chain(parts[..existing].iter().copied())
                .collect();
            match self.dir(&prefix) {
                Ok(dir) => break dir,
                Err(e) if e.kind() == io::ErrorKind::NotFound && existing > 0 => existing -= 1,
                Err(e) => return Err(e),
            }
        };
        // A `..` below what exists would be resolved in what is being made: refused
        // before anything is made.
        let missing: Vec<&OsStr> = parts[existing..]
            .iter()
            .map_while(|part| match part {
                Component::Normal(name) => Some(*name),
                _ => None,
            })
            .collect();
        if missing.len() != parts.len() - existing {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} has '..' below a missing directory", path.display()),
            ));
        }
        for name in missing {
            current = make_dir_in(&current, name, mode)?;
        }
        Ok(current)
    }

    /// The file at `path`, for a bind mount of a file onto it: made empty (0644) where
    /// missing, its parents too. A handle on it.
    pub(crate) fn file(&self, path: &Path) -> io::Result<OwnedFd> {
        match self.resolve(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            found => return found,
        }
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} names no file", path.display()),
            ));
        };
        let dir = self.mkdir_all(parent, 0o755)?;
        // O_NOFOLLOW: a dangling symlink in its place is not followed out of the root.
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        Ok(rustix::fs::openat(
            &dir,
            name,
            flags,
            Mode::from_raw_mode(0o644),
        )?)
    }
}

/// `name` in `dir`, made if missing, and opened as a directory without following a
/// symlink (ELOOP or ENOTDIR if something else is there).
fn make_dir_in(dir: &OwnedFd, name: &OsStr, mode: u32) -> io::Result<OwnedFd> {
    match rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(mode)) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(e.into()),
    }
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    Ok(rustix::fs::openat(dir, name, flags, Mode::empty())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::symlink;

    /// Where a handle leads, as the host sees it.
    fn path_of(fd: &OwnedFd) -> std::path::PathBuf {
        std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap()
    }

    #[test]
    fn mkdir_all_makes_what_is_missing_and_keeps_what_exists() {
        let tmp = tempfile::tempdir().unwrap();
        let root = RootDir::open(tmp.path()).unwrap();
        std::fs::create_dir(tmp.path().join("a")).unwrap();
        let made = root.mkdir_all(Path::new("/a/b/c"), 0o755).unwrap();
        assert_eq!(path_of(&made), tmp.path().join("a/b/c"));
        let again = root.mkdir_all(Path::new("a/./b/c/"), 0o755).unwrap();
        assert_eq!(path_of(&again), tmp.path().join("a/b/c"));
        let top = root.mkdir_all(Path::new("/"), 0o755).unwrap();
        assert_eq!(path_of(&top), tmp.path());
    }

    #[test]
    fn symlinks_out_of_the_root_stay_inside_it() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = RootDir::open(tmp.path()).unwrap();
        // An absolute link and a relative one that climbs above the root both land inside.
        std::fs::create_dir(tmp.path().join("inner")).unwrap();
        symlink("/inner", tmp.path().join("abs")).unwrap();
        symlink("../../../../..", tmp.path().join("up")).unwrap();
        let made = root.mkdir_all(Path::new("/abs/x"), 0o755).unwrap();
        assert_eq!(path_of(&made), tmp.path().join("inner/x"));
        // One to the host's directory is the root's own path of that name: missing here.
        symlink(outside.path(), tmp.path().join("host")).unwrap();
        assert!(root.mkdir_all(Path::new("/host/x"), 0o755).is_err());
        let up = root.mkdir_all(Path::new("/up/y"), 0o755).unwrap();
        assert_eq!(path_of(&up), tmp.path().join("y"));
        let file = root.file(Path::new("/up/etc/hosts")).unwrap();
        assert_eq!(path_of(&file), tmp.path().join("etc/hosts"));
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_symlink_where_a_directory_is_made_fails_the_step() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = RootDir::open(tmp.path()).unwrap();
        // Dangling inside the root: resolving it finds nothing, making it finds the link.
        symlink("/missing", tmp.path().join("dangling")).unwrap();
        assert!(root.mkdir_all(Path::new("/dangling"), 0o755).is_err());
        assert!(root.file(Path::new("/dangling")).is_err());
        // A file where a directory is asked for.
        std::fs::write(tmp.path().join("plain"), b"").unwrap();
        assert!(root.mkdir_all(Path::new("/plain/sub"), 0o755).is_err());
        // `..` below what exists.
        assert!(root.mkdir_all(Path::new("/new/../x"), 0o755).is_err());
        assert!(!tmp.path().join("new").exists());
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
        assert!(!tmp.path().join("missing").exists());
    }

    #[test]
    fn file_keeps_an_existing_file_and_makes_a_missing_one_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let root = RootDir::open(tmp.path()).unwrap();
        std::fs::create_dir(tmp.path().join("etc")).unwrap();
        std::fs::write(tmp.path().join("etc/hosts"), b"kept").unwrap();
        root.file(Path::new("/etc/hosts")).unwrap();
        assert_eq!(
            std::fs::read(tmp.path().join("etc/hosts")).unwrap(),
            b"kept"
        );
        root.file(Path::new("/etc/new/hostname")).unwrap();
        assert_eq!(
            std::fs::read(tmp.path().join("etc/new/hostname")).unwrap(),
            b""
        );
    }
}
