//! A stopped build container's overlay upper dir made a layer in place.
//!
//! Committing through a tar ([`Engine::write_upper_tar`], then unpacking it) writes every
//! file twice more. A build step's container is thrown away after its commit, so its upper
//! dir can instead become the layer's `diff/` by a rename (same filesystem). The layer tar
//! is still made, by the same packer and byte for byte as before, but only read: hashed for
//! the diff ID and recorded as the layer's tar-split (which `save` and `push` rebuild the
//! tar from). The directory is then tidied into what unpacking that tar would have made:
//! what the tar leaves out (engine paths, sockets, xattrs but an opaque marker and file
//! capabilities) goes, and times are cut to the tar's whole seconds.

use std::ffi::{CStr, CString, OsStr};
use std::io::{BufReader, BufWriter, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{fchmod, fstatat, utimensat, FileStat, Mode, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchown, unlinkat, Gid, Uid, UnlinkatFlags};

use super::blob::HashingReader;
use super::layers::{chain_id, Expected, LayerRecord, PreparedLayer};
use super::rollback::Rollback;
use super::{tarsplit, unpack};
use crate::error::{Context, Error, Result};
use crate::ids::random_hex64;
use crate::paths::{make_private_dir, DIR_MODE};
use crate::storage::copy::{capability_as_packed, list_dir_sorted, Packer, CAPABILITY_XATTR};
use crate::storage::diff::ENGINE_PATHS;
use crate::Engine;

const OPAQUE_XATTR: &[u8] = b"trusted.overlay.opaque";

/// The engine paths the layer tar leaves out, as tar names.
fn excluded() -> Vec<PathBuf> {
    ENGINE_PATHS
        .iter()
        .map(|p| PathBuf::from(p.trim_start_matches('/')))
        .collect()
}

impl Engine {
    /// Makes `upper`, the upper dir of a stopped container that is removed next, the
    /// `diff/` of a new layer (not yet visible: see [`Engine::commit_layer`]). The upper dir
    /// is moved away, so the container must not be started again. `None` when this
    /// process can't make the layer as an unpack would (not root): commit through a tar.
    pub(crate) fn prepare_layer_from_upper(
        &self,
        upper: &Path,
        expected: &Expected<'_>,
    ) -> Result<Option<PreparedLayer>> {
        // Only root can give every file the owner and xattrs an unpack would.
        if !nix::unistd::geteuid().is_root() {
            return Ok(None);
        }
        let dir = nix::fcntl::open(
            upper,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
            Mode::empty(),
        )
        .context(|| format!("opening {}", upper.display()))?;
        let tmp = self
            .paths()
            .tmp_dir()
            .join(format!("layer-{}", random_hex64()));
        let mut scratch = Rollback::default();
        scratch.created(tmp.clone())?;
        make_private_dir(&tmp, DIR_MODE, false)
            .context(|| format!("creating {}", tmp.display()))?;
        let split = tmp.join(tarsplit::SPLIT_FILE);
        let (diff_id, size) = record_upper(&dir, &split)
            .map_err(|e| Error::Runtime(format!("{}: {e}", expected.label)))?;
        tidy_root(&dir).context(|| format!("tidying {}", upper.display()))?;
        tidy_dir(&dir, Path::new(""), &excluded())
            .context(|| format!("tidying {}", upper.display()))?;
        let diff = tmp.join("diff");
        std::fs::rename(upper, &diff).context(|| format!("moving {}", upper.display()))?;
        Ok(Some(PreparedLayer {
            record: LayerRecord {
                chain_id: chain_id(expected.parent, &diff_id),
                diff_id,
                parent: expected.parent.cloned(),
                size,
            },
            tmp,
            scratch,
        }))
    }
}

/// Packs the upper dir as [`Engine::write_upper_tar`] does, on a thread of its own, and
/// reads the tar here: its sha256 (the diff ID), its tar-split record at `split`, and the
/// bytes of file content (the layer's size), as an unpack would count them.
fn record_upper(dir: &OwnedFd, split: &Path) -> Result<(crate::ids::Digest, u64)> {
    let (reader, writer) = std::io::pipe().context(|| "making a pipe".to_owned())?;
    std::thread::scope(|scope| {
        let packing = scope.spawn(move || -> Result<()> {
            let mut packer =
                Packer::for_layer(BufWriter::with_capacity(1 << 16, writer), excluded());
            for name in list_dir_sorted(dir).context(|| "listing the upper dir".to_owned())? {
                packer.add_top(dir.as_fd(), &name, &PathBuf::from(&name), false)?;
            }
            packer.finish().map(drop)
        });
        let recorded = read_recorded(reader, split);
        // An early error closed the pipe, which ends the packer too.
        let packed = packing
            .join()
            .unwrap_or_else(|_| Err(Error::Runtime("the layer packer panicked".into())));
        let recorded = recorded?;
        packed?;
        Ok(recorded)
    })
}

fn read_recorded(input: impl Read, split: &Path) -> Result<(crate::ids::Digest, u64)> {
    let recorder = tarsplit::Recorder::create(split)?;
    let mut tar = recorder.reader(HashingReader::new(BufReader::with_capacity(1 << 16, input)));
    let opts = unpack::ExtractOptions::layer();
    let mut size = 0u64;
    {
        let mut archive = tar::Archive::new(&mut tar);
        let entries = archive
            .entries()
            .context(|| "reading the layer".to_owned())?;
        for entry in entries {
            let mut entry = entry.context(|| "reading the layer".to_owned())?;
            unpack::record_entry(&recorder, &entry, &opts)?;
            let kind = entry.header().entry_type();
            let whiteout = entry
                .path_bytes()
                .rsplit(|b| *b == b'/')
                .next()
                .is_some_and(|n| n.starts_with(b".wh."));
            let n = std::io::copy(&mut entry, &mut std::io::sink())
                .context(|| "reading the layer".to_owned())?;
            if !whiteout && matches!(kind, tar::EntryType::Regular | tar::EntryType::Continuous) {
                size += n;
            }
        }
    }
    std::io::copy(&mut tar, &mut std::io::sink()).context(|| "reading the layer".to_owned())?;
    let (diff_id, _) = tar
        .into_inner()
        .finish()
        .context(|| "reading the layer".to_owned())?;
    if !recorder.finish(split)? {
        // The packer names each path once: a record it can't keep is a bug, not a layer.
        return Err(Error::Runtime(
            "the layer's tar-split record was refused".into(),
        ));
    }
    Ok((diff_id, size))
}

/// The layer root as an unpack makes it (the tar has no entry for it): a new directory's
/// mode, root's, no xattrs.
fn tidy_root(dir: &OwnedFd) -> nix::Result<()> {
    fchown(dir, Some(Uid::from_raw(0)), Some(Gid::from_raw(0)))?;
    fchmod(
        dir,
        Mode::from_bits_truncate(0o777 & !unpack::current_umask()),
    )?;
    strip_xattrs(&XattrTarget::Fd(dir.as_fd()), Kept::NONE)
}

/// Tidies what `dir` (the tar name `rel`) holds: what the tar leaves out is removed, xattrs
/// the tar doesn't carry are dropped, times are the tar's.
fn tidy_dir(dir: &OwnedFd, rel: &Path, exclude: &[PathBuf]) -> nix::Result<()> {
    for name in list_dir_sorted(dir)? {
        let child_rel = rel.join(&name);
        if exclude.contains(&child_rel) {
            match unlinkat(dir, name.as_os_str(), UnlinkatFlags::NoRemoveDir) {
                Err(Errno::EISDIR) => unpack::remove_tree_at(dir.as_fd(), &name)?,
                other => other?,
            }
            continue;
        }
        let st = fstatat(dir, name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW)?;
        match st.st_mode & libc::S_IFMT {
            // The packer skips sockets.
            libc::S_IFSOCK => {
                unlinkat(dir, name.as_os_str(), UnlinkatFlags::NoRemoveDir)?;
                continue;
            }
            libc::S_IFDIR => {
                let sub = openat(
                    dir,
                    name.as_os_str(),
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
                    Mode::empty(),
                )?;
                tidy_dir(&sub, &child_rel, exclude)?;
                strip_xattrs(&XattrTarget::Fd(sub.as_fd()), Kept::DIR)?;
            }
            libc::S_IFREG => strip_xattrs(&XattrTarget::At(dir.as_fd(), &name), Kept::FILE)?,
            _ => strip_xattrs(&XattrTarget::At(dir.as_fd(), &name), Kept::NONE)?,
        }
        // Last, after what was removed inside a directory changed its mtime.
        set_tar_times(dir, &name, &st)?;
    }
    Ok(())
}

/// An unpack's times: atime and mtime both the mtime in whole seconds.
fn set_tar_times(dir: &OwnedFd, name: &OsStr, st: &FileStat) -> nix::Result<()> {
    let t = TimeSpec::new(st.st_mtime.max(0), 0);
    utimensat(dir, name, &t, &t, UtimensatFlags::NoFollowSymlink)
}

enum XattrTarget<'a> {
    Fd(BorrowedFd<'a>),
    /// An entry of a directory, not followed (a symlink's own xattrs).
    At(BorrowedFd<'a>, &'a OsStr),
}

/// The xattrs the packer carries for an entry, which tidying keeps.
#[derive(Clone, Copy)]
struct Kept {
    /// Overlay's opaque marker (`y`), which the packer reads as `.wh..wh..opq`.
    opaque: bool,
    /// `security.capability`, as the packer records it.
    capability: bool,
}

impl Kept {
    const NONE: Kept = Kept {
        opaque: false,
        capability: false,
    };
    const DIR: Kept = Kept {
        opaque: true,
        capability: true,
    };
    const FILE: Kept = Kept {
        opaque: false,
        capability: true,
    };
}

/// Removes every xattr but what `kept` names: a capability stays in the form the tar
/// records it. SELinux labels stay: the system gives every new file one anyway.
fn strip_xattrs(target: &XattrTarget<'_>, kept: Kept) -> nix::Result<()> {
    // Through /proc for an entry: l*xattr on a path below our own descriptor.
    let path = match target {
        XattrTarget::Fd(_) => None,
        XattrTarget::At(dir, name) => {
            let mut bytes = format!("/proc/self/fd/{}/", dir.as_raw_fd()).into_bytes();
            bytes.extend_from_slice(name.as_bytes());
            Some(CString::new(bytes).map_err(|_| Errno::EINVAL)?)
        }
    };
    let list = |buf: &mut [u8]| -> isize {
        // SAFETY: the buffer is valid for its length; the path is NUL-terminated.
        unsafe {
            match (&path, target) {
                (Some(p), _) => libc::llistxattr(p.as_ptr(), buf.as_mut_ptr().cast(), buf.len()),
                (None, XattrTarget::Fd(fd)) => {
                    libc::flistxattr(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len())
                }
                (None, XattrTarget::At(..)) => -1,
            }
        }
    };
    let len = Errno::result(list(&mut [0u8; 0]))?;
    if len == 0 {
        return Ok(());
    }
    let mut names = vec![0u8; len as usize];
    let len = Errno::result(list(&mut names))?;
    names.truncate(len as usize);
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        if name == b"security.selinux" {
            continue;
        }
        let Ok(cname) = CString::new(name) else {
            continue;
        };
        if kept.opaque && name == OPAQUE_XATTR && opaque_value(target, &cname) {
            continue;
        }
        if kept.capability && name == CAPABILITY_XATTR.as_bytes() {
            capability_as_packed_in_place(target, path.as_deref())?;
            continue;
        }
        // SAFETY: both strings are NUL-terminated.
        let removed = unsafe {
            match (&path, target) {
                (Some(p), _) => libc::lremovexattr(p.as_ptr(), cname.as_ptr()),
                (None, XattrTarget::Fd(fd)) => libc::fremovexattr(fd.as_raw_fd(), cname.as_ptr()),
                (None, XattrTarget::At(..)) => -1,
            }
        };
        match Errno::result(removed) {
            Ok(_) | Err(Errno::ENODATA) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Rewrites a capability the packer records in another form (revision 3) as it records it,
/// so the directory stays what unpacking the tar makes.
fn capability_as_packed_in_place(target: &XattrTarget<'_>, path: Option<&CStr>) -> nix::Result<()> {
    let errno = |e: rustix::io::Errno| Errno::from_raw(e.raw_os_error());
    let mut buf = [0u8; 64];
    let n = match (path, target) {
        (Some(p), _) => rustix::fs::lgetxattr(p, CAPABILITY_XATTR, &mut buf[..]),
        (None, XattrTarget::Fd(fd)) => rustix::fs::fgetxattr(fd, CAPABILITY_XATTR, &mut buf[..]),
        (None, XattrTarget::At(..)) => return Err(Errno::EINVAL),
    }
    .map_err(errno)?;
    let value = &buf[..n.min(buf.len())];
    let packed = capability_as_packed(value.to_vec());
    if packed == value {
        return Ok(());
    }
    let flags = rustix::fs::XattrFlags::REPLACE;
    match (path, target) {
        (Some(p), _) => rustix::fs::lsetxattr(p, CAPABILITY_XATTR, &packed, flags),
        (None, XattrTarget::Fd(fd)) => rustix::fs::fsetxattr(fd, CAPABILITY_XATTR, &packed, flags),
        (None, XattrTarget::At(..)) => return Err(Errno::EINVAL),
    }
    .map_err(errno)
}

/// Whether a directory's opaque xattr is `y` (what the packer reads as opaque).
fn opaque_value(target: &XattrTarget<'_>, name: &CString) -> bool {
    let XattrTarget::Fd(fd) = target else {
        return false;
    };
    let mut value = [0u8; 4];
    // SAFETY: the name is NUL-terminated and the buffer outlives the call.
    let n = unsafe {
        libc::fgetxattr(
            fd.as_raw_fd(),
            name.as_ptr(),
            value.as_mut_ptr().cast(),
            value.len(),
        )
    };
    n == 1 && value[0] == b'y'
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::fs;
    use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};

    use std::os::unix::fs::FileTypeExt;

    use super::*;
    use crate::ids::Digest;

    fn set_xattr(path: &Path, name: &str, value: &[u8]) {
        let p = CString::new(path.as_os_str().as_bytes()).unwrap();
        let n = CString::new(name).unwrap();
        // SAFETY: NUL-terminated strings, a buffer valid for its length.
        let r = unsafe {
            libc::lsetxattr(
                p.as_ptr(),
                n.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                0,
            )
        };
        assert_eq!(r, 0, "setting {name} on {}", path.display());
    }

    fn xattrs(path: &Path) -> BTreeMap<Vec<u8>, Vec<u8>> {
        let p = CString::new(path.as_os_str().as_bytes()).unwrap();
        let mut names = vec![0u8; 4096];
        // SAFETY: as above.
        let n = unsafe { libc::llistxattr(p.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
        assert!(n >= 0);
        names.truncate(n as usize);
        let mut found = BTreeMap::new();
        for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
            let c = CString::new(name).unwrap();
            let mut value = vec![0u8; 4096];
            // SAFETY: as above.
            let n = unsafe {
                libc::lgetxattr(
                    p.as_ptr(),
                    c.as_ptr(),
                    value.as_mut_ptr().cast(),
                    value.len(),
                )
            };
            assert!(n >= 0);
            value.truncate(n as usize);
            found.insert(name.to_vec(), value);
        }
        found
    }

    fn set_times(path: &Path, secs: i64, nanos: i64) {
        let t = TimeSpec::new(secs, nanos);
        utimensat(
            nix::fcntl::AT_FDCWD,
            path,
            &t,
            &t,
            UtimensatFlags::NoFollowSymlink,
        )
        .unwrap();
    }

    /// `cap_net_raw+ep` as revision 3 for the root ID 1000, and as the packer writes it.
    const NS_CAP: [u8; 24] = [
        1, 0, 0, 3, 0, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xe8, 3, 0, 0,
    ];
    const PACKED_CAP: [u8; 20] = [1, 0, 0, 2, 0, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    /// An upper dir with what a step leaves: files with owners, set-id bits, sub-second
    /// times and xattrs, hard links, a symlink, a FIFO, a socket, a whiteout, an opaque
    /// directory, and the engine's own paths.
    fn fill_upper(upper: &Path) -> std::os::unix::net::UnixListener {
        fs::create_dir_all(upper.join("app/sub")).unwrap();
        fs::create_dir_all(upper.join("opaque")).unwrap();
        fs::create_dir_all(upper.join("etc")).unwrap();
        fs::create_dir_all(upper.join("dev/pts")).unwrap();
        fs::write(upper.join("etc/hosts"), "127.0.0.1 x\n").unwrap();
        fs::write(upper.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
        fs::write(upper.join("dev/null-ish"), "").unwrap();
        fs::write(upper.join("app/a.txt"), "a".repeat(1000)).unwrap();
        fs::hard_link(upper.join("app/a.txt"), upper.join("app/sub/a-link")).unwrap();
        fs::write(upper.join("app/tool"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(upper.join("app/tool"), fs::Permissions::from_mode(0o4755)).unwrap();
        std::os::unix::fs::lchown(upper.join("app/tool"), Some(1000), Some(1001)).unwrap();
        fs::set_permissions(upper.join("app/sub"), fs::Permissions::from_mode(0o1777)).unwrap();
        set_xattr(
            &upper.join("app/tool"),
            "security.capability",
            &[1, 0, 0, 2, 0, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        );
        // A namespaced capability (revision 3, root ID 1000): packed as revision 2.
        fs::write(upper.join("app/ns-tool"), "#!/bin/sh\n").unwrap();
        set_xattr(&upper.join("app/ns-tool"), "security.capability", &NS_CAP);
        set_xattr(&upper.join("app/a.txt"), "user.note", b"kept?");
        set_xattr(&upper.join("app"), "trusted.overlay.impure", b"y");
        set_xattr(&upper.join("opaque"), "trusted.overlay.opaque", b"y");
        fs::write(upper.join("opaque/new"), "n").unwrap();
        symlink("../etc/passwd", upper.join("app/link")).unwrap();
        nix::unistd::mkfifo(&upper.join("app/fifo"), Mode::from_bits_truncate(0o600)).unwrap();
        nix::sys::stat::mknod(
            &upper.join("app/gone"),
            nix::sys::stat::SFlag::S_IFCHR,
            Mode::empty(),
            0,
        )
        .unwrap();
        let socket = std::os::unix::net::UnixListener::bind(upper.join("app/sock")).unwrap();
        // Times last, deepest first, each with nanoseconds the tar drops.
        let mut when = 1_600_000_000;
        for rel in [
            "app/sub/a-link",
            "app/a.txt",
            "app/tool",
            "app/ns-tool",
            "app/link",
            "app/fifo",
            "app/gone",
            "app/sub",
            "opaque/new",
            "opaque",
            "etc/passwd",
            "etc",
            "app",
        ] {
            set_times(&upper.join(rel), when, 123_456_789);
            when += 1000;
        }
        socket
    }

    /// Everything of a tree a container could see, by relative path.
    fn describe(root: &Path) -> BTreeMap<PathBuf, String> {
        let mut out = BTreeMap::new();
        let mut inodes: BTreeMap<u64, PathBuf> = BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let mut names: Vec<_> = fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            names.sort();
            for path in names {
                let m = fs::symlink_metadata(&path).unwrap();
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                let content = if m.file_type().is_file() {
                    Digest::of_bytes(&fs::read(&path).unwrap()).to_string()
                } else if m.file_type().is_symlink() {
                    format!("-> {:?}", fs::read_link(&path).unwrap())
                } else {
                    String::new()
                };
                let linked = (m.nlink() > 1 && !m.is_dir())
                    .then(|| inodes.entry(m.ino()).or_insert_with(|| rel.clone()).clone());
                let times = if m.file_type().is_char_device() {
                    // A whiteout's times are overlayfs's own, never shown.
                    String::new()
                } else {
                    // Not atimes: reading the content below moves them.
                    format!("{}.{}", m.mtime(), m.mtime_nsec())
                };
                out.insert(
                    rel,
                    format!(
                        "mode {:o} owner {}:{} rdev {} size {} times {times} link {linked:?} xattrs {:?} {content}",
                        m.mode(),
                        m.uid(),
                        m.gid(),
                        m.rdev(),
                        if m.is_dir() { 0 } else { m.size() },
                        xattrs(&path),
                    ),
                );
                if m.is_dir() {
                    stack.push(path);
                }
            }
        }
        out
    }

    /// The moved upper dir is the tree unpacking its tar makes, with the same diff ID, size
    /// and a tar-split record that rebuilds that tar.
    #[test]
    fn an_upper_dir_becomes_the_layer_its_tar_unpacks_to() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: making whiteouts and owners needs root");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let engine = Engine::open(&tmp.path().join("root")).unwrap();
        let (packed, moved) = (tmp.path().join("packed"), tmp.path().join("moved"));
        let _sockets = (fill_upper(&packed), fill_upper(&moved));
        let parent = Digest::of_bytes(b"parent");
        let expected = Expected {
            blob: None,
            diff_id: None,
            parent: Some(&parent),
            label: "test layer",
        };

        // As before: the packer's tar, unpacked.
        let dir =
            nix::fcntl::open(&packed, OFlag::O_RDONLY | OFlag::O_DIRECTORY, Mode::empty()).unwrap();
        let mut packer = Packer::for_layer(Vec::new(), excluded());
        for name in list_dir_sorted(&dir).unwrap() {
            packer
                .add_top(dir.as_fd(), &name, &PathBuf::from(&name), false)
                .unwrap();
        }
        let tar = packer.finish().unwrap();
        let old = engine.prepare_layer(&tar[..], &expected, &packed).unwrap();

        let new = engine
            .prepare_layer_from_upper(&moved, &expected)
            .unwrap()
            .expect("root makes the layer in place");
        assert!(!moved.exists(), "the upper dir was moved");
        assert_eq!(new.record.diff_id, Digest::of_bytes(&tar));
        assert_eq!(
            (&new.record.diff_id, &new.record.chain_id, new.record.size),
            (&old.record.diff_id, &old.record.chain_id, old.record.size)
        );
        let (old_diff, new_diff) = (old.tmp.join("diff"), new.tmp.join("diff"));
        let want = describe(&old_diff);
        assert!(
            want.contains_key(Path::new("opaque/new")) && want.contains_key(Path::new("app/gone"))
        );
        assert_eq!(describe(&new_diff), want);
        // File capabilities are kept (as Docker keeps them), other xattrs are not.
        let cap = |rel: &str| xattrs(&new_diff.join(rel)).remove(&b"security.capability"[..]);
        assert_eq!(cap("app/tool").as_deref(), Some(&PACKED_CAP[..]));
        assert_eq!(cap("app/ns-tool").as_deref(), Some(&PACKED_CAP[..]));
        assert!(xattrs(&new_diff.join("app/a.txt")).is_empty());
        let root = |p: &Path| {
            let m = fs::symlink_metadata(p).unwrap();
            (m.mode(), m.uid(), m.gid(), xattrs(p))
        };
        assert_eq!(root(&new_diff), root(&old_diff));

        let mut rebuilt = Vec::new();
        tarsplit::Rebuild::open(&new.tmp.join(tarsplit::SPLIT_FILE), &new_diff)
            .unwrap()
            .read_to_end(&mut rebuilt)
            .unwrap();
        assert_eq!(rebuilt, tar);
    }
}
