//! A handle on the berth binary that nothing can write through.
//!
//! Processes that enter a container (the monitor, whose clone becomes the container's init,
//! and `exec`) run from such a handle, so nothing inside a container can open
//! `/proc/PID/exe` and overwrite the host's binary (CVE-2019-5736).
//!
//! The handle is the binary seen through a private overlayfs with no upper layer, as runc
//! 1.2 does: its superblock is read-only and has no writable layer to unwrap, so an open
//! for writing fails with EROFS, also for a privileged process that clones the mount. It
//! costs no copy: every process shares the binary's own page cache. The mount is never
//! attached anywhere and goes away with the last process running from it. Where overlayfs
//! can't be had (no privilege, an odd path, a binary replaced since it started) the
//! fallback is the old sealed memfd copy, which costs the binary's size per process.

use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, SealFlag};
use nix::sys::memfd::{memfd_create, MFdFlags};
use rustix::mount::{FsMountFlags, FsOpenFlags, MountAttrFlags};

use crate::error::{Context, Result};

/// True if this process already runs from a binary nothing can write through: a sealed
/// memfd or a read-only overlayfs (what `sealed_self` hands out).
pub fn running_sealed() -> bool {
    File::open("/proc/self/exe").is_ok_and(|exe| is_unwritable(&exe))
}

/// True if `file` (an executable) can't be written by anyone: a memfd sealed against
/// writes, or a file of an overlayfs mounted read-only.
fn is_unwritable(file: &File) -> bool {
    if let Ok(seals) = fcntl(file, FcntlArg::F_GET_SEALS) {
        let seals = SealFlag::from_bits_truncate(seals);
        return seals.contains(SealFlag::F_SEAL_SEAL | SealFlag::F_SEAL_FUTURE_WRITE);
    }
    let overlay = nix::sys::statfs::fstatfs(file)
        .is_ok_and(|fs| fs.filesystem_type() == nix::sys::statfs::OVERLAYFS_SUPER_MAGIC);
    overlay
        && nix::sys::statvfs::fstatvfs(file)
            .is_ok_and(|fs| fs.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY))
}

/// Names this process after its `argv[0]` when it runs sealed: the kernel named it after
/// the file executed, `/proc/self/fd/N`, so ps and top would show `3` or `5`. The
/// name (comm, 15 bytes at most) is the base name of `argv[0]` up to its first space:
/// `berth` for the dashboard, `berth-monitor` for a monitor, whose `argv[0]` is
/// `berth-monitor NAME` so `ps -o args` shows its container.
pub fn name_process() {
    if !running_sealed() {
        return;
    }
    let Some(argv0) = std::env::args_os().next() else {
        return;
    };
    let name = process_name(argv0.as_bytes());
    if let Ok(name) = std::ffi::CString::new(name) {
        // Cosmetic: a process that keeps its number for a name still works.
        let _ = nix::sys::prctl::set_name(&name);
    }
}

/// The comm for an `argv[0]`: its base name up to the first space, at most 15 bytes.
fn process_name(argv0: &[u8]) -> Vec<u8> {
    let base = argv0.rsplit(|&b| b == b'/').next().unwrap_or_default();
    let word = base.split(|&b| b == b' ').next().unwrap_or_default();
    let word = if word.is_empty() { &b"berth"[..] } else { word };
    word[..word.len().min(15)].to_vec()
}

/// The `argv[0]` of a container's monitor: ps shows it with its container's name.
pub(crate) fn monitor_argv0(container: &str) -> String {
    format!("berth-monitor {container}")
}

/// An executable handle (see [`exec_path`]) on the running binary that nothing can write
/// through, close-on-exec: this process's own binary if it already is one, else a
/// read-only overlayfs view of it, else a sealed copy.
pub(crate) fn sealed_self() -> Result<OwnedFd> {
    sealed_self_for_spawn().map(|(exe, _mount)| exe)
}

/// [`sealed_self`] for a caller that starts a process from it: the view's mount handles
/// come along, for the caller to drop once that process has exec'd. The children of a
/// spawn copy this process's descriptors, and whoever closes the last copy of the mount's
/// handle waits out the RCU grace period of taking it out of its namespace: let go here,
/// at once, that was the new process itself, at its exec, in four runs of ten.
pub(crate) fn sealed_self_for_spawn() -> Result<(OwnedFd, ViewMount)> {
    if let Ok(exe) = File::open("/proc/self/exe") {
        if is_unwritable(&exe) {
            return Ok((OwnedFd::from(exe), ViewMount(None)));
        }
    }
    match read_only_view_of_self() {
        Ok(view) => Ok(view),
        Err(_) => sealed_copy_of_self().map(|copy| (copy, ViewMount(None))),
    }
}

/// The filesystem context and mount handle of a view (see [`read_only_view_of_self`]):
/// dropped, they are closed on a thread of their own.
pub(crate) struct ViewMount(Option<(OwnedFd, OwnedFd)>);

impl Drop for ViewMount {
    fn drop(&mut self) {
        if let Some((context, mount)) = self.0.take() {
            let_go_in_the_background(context, mount);
        }
    }
}

/// The running binary through a new overlayfs whose only layers are its directory and an
/// empty one (overlayfs wants two lower layers when it has no upper), mounted read-only
/// and never attached: an `O_PATH` descriptor of it keeps the mount alive, and so does
/// every process executing it.
fn read_only_view_of_self() -> std::io::Result<(OwnedFd, ViewMount)> {
    let exe = std::fs::read_link("/proc/self/exe")?;
    let (Some(dir), Some(name)) = (exe.parent(), exe.file_name()) else {
        return Err(Errno::ENOENT.into());
    };
    let empty = EmptyDir::new()?;
    let lowerdir = [layer(dir)?, layer(&empty.0)?].join(":");
    let context = rustix::mount::fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC)?;
    rustix::mount::fsconfig_set_string(&context, "lowerdir", lowerdir.as_str())?;
    // Only spares the kernel log a note when the layers are on different filesystems.
    let _ = rustix::mount::fsconfig_set_string(&context, "xino", "off");
    rustix::mount::fsconfig_create(&context)?;
    let mount = rustix::mount::fsmount(
        &context,
        FsMountFlags::FSMOUNT_CLOEXEC,
        MountAttrFlags::MOUNT_ATTR_RDONLY
            | MountAttrFlags::MOUNT_ATTR_NODEV
            | MountAttrFlags::MOUNT_ATTR_NOSUID,
    )?;
    drop(empty);
    let view = rustix::fs::openat(
        &mount,
        name,
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )?;
    // The directory may hold another binary by now (an upgrade renamed over it): the
    // view must be the file this process runs, and unwritable.
    let running = std::fs::metadata("/proc/self/exe")?;
    let seen = rustix::fs::fstat(&view)?;
    let same = seen.st_size as u64 == running.size()
        && seen.st_mtime as i64 == running.mtime()
        && seen.st_mtime_nsec as i64 == running.mtime_nsec();
    let unwritable = File::open(exec_path(&view)).is_ok_and(|f| is_unwritable(&f));
    let mount = ViewMount(Some((context, mount)));
    if !same || !unwritable {
        return Err(Errno::ESTALE.into());
    }
    Ok((view, mount))
}

/// Closes the view's filesystem context and mount on a thread of its own: the view (and
/// whatever runs from it) keeps the mount, but the close of the mount's handle takes it
/// out of its anonymous namespace, which waits out an (expedited) RCU grace period, 1 to
/// 15 ms on a busy host, that the container's start need not wait for.
fn let_go_in_the_background(context: OwnedFd, mount: OwnedFd) {
    // Should no thread start, the handles go with the closure here, as they did before.
    let _ = std::thread::Builder::new()
        .name("view-close".into())
        .spawn(move || drop((mount, context)));
}

/// A directory as an overlayfs `lowerdir` entry: `:` and `\` escaped. A comma (which the
/// kernel's older option parser splits on) or a non-UTF-8 name is refused.
fn layer(dir: &Path) -> std::io::Result<String> {
    match dir.to_str() {
        Some(dir) if !dir.contains(',') => Ok(dir.replace('\\', "\\\\").replace(':', "\\:")),
        _ => Err(Errno::EINVAL.into()),
    }
}

/// A new empty directory, removed on drop (a mounted overlayfs keeps its layers, removed
/// or not). In /dev/shm where it can be made there: a directory made and removed on a
/// tmpfs costs microseconds, on a disk's journaled filesystem (a usual /tmp) 0.1 ms of
/// every container start. Both are sticky and world-writable: nobody else can rename
/// or replace the directory `mkdtemp` made, private to this user, under its random name.
struct EmptyDir(PathBuf);

/// Where [`EmptyDir`] is made first.
const SHM_DIR: &str = "/dev/shm";

impl EmptyDir {
    fn new() -> std::io::Result<EmptyDir> {
        let in_dir = |dir: &Path| nix::unistd::mkdtemp(&dir.join(".berth-layer.XXXXXX"));
        match in_dir(Path::new(SHM_DIR)) {
            Ok(made) => Ok(EmptyDir(made)),
            Err(_) => Ok(EmptyDir(in_dir(&std::env::temp_dir())?)),
        }
    }
}

impl Drop for EmptyDir {
    fn drop(&mut self) {
        // A leftover is one empty directory; nothing to report it to.
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Copies the running binary into a new sealed, close-on-exec memfd.
pub(crate) fn sealed_copy_of_self() -> Result<OwnedFd> {
    let fd = memfd_create("berth", MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING)
        .context(|| "creating a memfd for the sealed binary".into())?;
    let mut memfd = File::from(fd);
    let mut exe = File::open("/proc/self/exe").context(|| "opening /proc/self/exe".into())?;
    std::io::copy(&mut exe, &mut memfd).context(|| "copying berth into a memfd".into())?;
    seal(&memfd)?;
    Ok(OwnedFd::from(memfd))
}

/// How long `F_SEAL_WRITE` is retried while the kernel still counts page references
/// left over from the copy.
const SEAL_WRITE_PATIENCE: Duration = Duration::from_secs(2);

/// Seals the copy against every change.
///
/// `F_SEAL_FUTURE_WRITE` comes first: it refuses every later write and writable mapping
/// at once. `F_SEAL_WRITE` then waits for page references the copy left behind (per-CPU
/// page batches on a loaded machine), and the kernel answers EBUSY if they outlast its
/// short wait; it is retried, and if it never comes the future-write seal already holds,
/// because no mapping of this memfd exists. `F_SEAL_SEAL` goes last so nothing is undone.
fn seal(memfd: &File) -> Result<()> {
    let immutable = SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_FUTURE_WRITE;
    fcntl(memfd, FcntlArg::F_ADD_SEALS(immutable))
        .context(|| "sealing the memfd against writes".into())?;
    let deadline = Instant::now() + SEAL_WRITE_PATIENCE;
    loop {
        match fcntl(memfd, FcntlArg::F_ADD_SEALS(SealFlag::F_SEAL_WRITE)) {
            Ok(_) => break,
            Err(Errno::EBUSY) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(Errno::EBUSY) => break,
            Err(e) => return Err(e).context(|| "sealing the memfd".into()),
        }
    }
    fcntl(memfd, FcntlArg::F_ADD_SEALS(SealFlag::F_SEAL_SEAL))
        .context(|| "closing the memfd's seals".into())?;
    Ok(())
}

/// The path that executes a handle of [`sealed_self`] (valid in this process and, after
/// fork, its children).
pub(crate) fn exec_path(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// The binary process `pid` runs, if it is this very binary and nothing can write through
/// it: the view (or sealed copy) a container's monitor runs from, which `exec` reuses
/// instead of mounting a view of its own, and unmounting it when it exits.
///
/// The same binary: the same inode number (an overlayfs view shows its lower file's),
/// size and modification time as this process's own, so a monitor started before berth
/// was upgraded is not taken for it.
pub(crate) fn same_binary_run_by(pid: i32) -> Option<OwnedFd> {
    let exe = File::open(format!("/proc/{pid}/exe")).ok()?;
    if !is_unwritable(&exe) {
        return None;
    }
    let theirs = exe.metadata().ok()?;
    let ours = std::fs::metadata("/proc/self/exe").ok()?;
    let same = theirs.ino() == ours.ino()
        && theirs.size() == ours.size()
        && theirs.mtime() == ours.mtime()
        && theirs.mtime_nsec() == ours.mtime_nsec();
    same.then(|| OwnedFd::from(exe))
}

/// Replaces this process with itself run from `sealed_self`, same arguments and
/// environment. Returns only on failure.
pub fn reexec_sealed() -> Result<std::convert::Infallible> {
    reexec_from(sealed_self()?)
}

/// Replaces this process with itself run from `fd`, a handle of [`sealed_self`] or
/// [`same_binary_run_by`], same arguments and environment. Returns only on failure.
pub(crate) fn reexec_from(fd: OwnedFd) -> Result<std::convert::Infallible> {
    use std::os::unix::process::CommandExt;
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_default();
    let err = std::process::Command::new(exec_path(&fd))
        .arg0(argv0)
        .args(args)
        .exec();
    drop(fd);
    Err(err).context(|| "re-executing berth from a sealed copy".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn process_names_are_the_base_name_up_to_a_space() {
        assert_eq!(process_name(b"/usr/local/bin/berth"), b"berth");
        assert_eq!(
            process_name(monitor_argv0("web").as_bytes()),
            b"berth-monitor"
        );
        assert_eq!(process_name(b"/opt/my dir/berth"), b"berth");
        assert_eq!(
            process_name(b"a-very-long-program-name"),
            b"a-very-long-pro"
        );
        assert_eq!(process_name(b""), b"berth");
    }

    #[test]
    fn the_empty_layer_is_made_on_the_shm_tmpfs_when_there_is_one_and_goes_on_drop() {
        let empty = EmptyDir::new().unwrap();
        let path = empty.0.clone();
        assert_eq!(std::fs::read_dir(&path).unwrap().count(), 0);
        if Path::new(SHM_DIR).is_dir()
            && nix::unistd::access(SHM_DIR, nix::unistd::AccessFlags::W_OK).is_ok()
        {
            assert_eq!(
                path.parent(),
                Some(Path::new(SHM_DIR)),
                "{}",
                path.display()
            );
        }
        drop(empty);
        assert!(!path.exists(), "{} left", path.display());
    }

    /// Opening for writing as a container process would through `/proc/PID/exe`: by path,
    /// and by reopening an `O_PATH` descriptor through /proc/self/fd.
    fn assert_unwritable(handle: &OwnedFd, refusal: i32) {
        let path = exec_path(handle);
        let err = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect_err("opened the binary for writing");
        assert_eq!(err.raw_os_error(), Some(refusal), "{err}");
        let o_path = nix::fcntl::open(
            path.as_str(),
            nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .expect("O_PATH open");
        let err = std::fs::OpenOptions::new()
            .write(true)
            .open(exec_path(&o_path))
            .expect_err("reopened the binary for writing");
        assert_eq!(err.raw_os_error(), Some(refusal), "{err}");
    }

    #[test]
    fn the_read_only_view_is_this_binary_and_refuses_writes() {
        let (view, _mount) = read_only_view_of_self().expect("overlayfs view (tests run as root)");
        let file = File::open(exec_path(&view)).expect("reopen");
        assert!(is_unwritable(&file));
        let running = std::fs::metadata("/proc/self/exe").expect("stat exe");
        assert_eq!(file.metadata().expect("stat view").len(), running.len());
        assert_eq!(
            nix::sys::statfs::fstatfs(&file).unwrap().filesystem_type(),
            nix::sys::statfs::OVERLAYFS_SUPER_MAGIC
        );
        assert_unwritable(&view, libc::EROFS);
    }

    #[test]
    fn the_host_binary_itself_is_not_taken_for_sealed() {
        let exe = File::open("/proc/self/exe").expect("exe");
        assert!(!is_unwritable(&exe));
        assert!(!running_sealed());
        let handle = sealed_self().expect("sealed handle");
        assert!(is_unwritable(&File::open(exec_path(&handle)).unwrap()));
    }

    #[test]
    fn overlay_layers_are_escaped_and_commas_refused() {
        assert_eq!(layer(Path::new("/usr/bin")).unwrap(), "/usr/bin");
        assert_eq!(layer(Path::new("/a:b\\c")).unwrap(), "/a\\:b\\\\c");
        assert!(layer(Path::new("/a,b")).is_err());
    }

    #[test]
    fn the_sealed_copy_refuses_writes_through_any_descriptor() {
        let fd = sealed_copy_of_self().expect("sealed copy");
        let seals = fcntl(&fd, FcntlArg::F_GET_SEALS).expect("seals");
        let seals = SealFlag::from_bits_truncate(seals);
        assert!(seals.contains(SealFlag::F_SEAL_SEAL | SealFlag::F_SEAL_FUTURE_WRITE));
        assert!(seals.contains(SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW));
        // Reopened by path, as /proc/PID/exe would be from inside a container.
        let mut reopened = std::fs::OpenOptions::new()
            .write(true)
            .open(exec_path(&fd))
            .expect("reopen");
        let err = reopened
            .write_all(b"x")
            .expect_err("write to a sealed binary");
        assert_eq!(err.raw_os_error(), Some(libc::EPERM));
        let err = reopened.set_len(1).expect_err("truncate a sealed binary");
        assert_eq!(err.raw_os_error(), Some(libc::EPERM));
    }
}
