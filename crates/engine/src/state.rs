//! On-disk state helpers: atomic record writes and the engine-wide lock.
//!
//! Every mutation of engine records happens while holding [`StateLock`], an exclusive
//! `flock` on `<root>/lock`; records are replaced by rename so readers without the lock
//! always see a whole old or a whole new record. A verb that works long without the
//! lock (a pull's downloads) does so in a [`Workspace`].

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::{Context, Error, Result};
use super::paths::{make_private_dir, DIR_MODE, FILE_MODE};

/// Whether a write must reach the disk before the caller goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    Synced,
    /// For a cache, or a record a lost write only leaves stale in a way that is found and
    /// mended: a power cut may keep the old file (readers still see a whole old or a whole
    /// new one).
    Unsynced,
}

/// Writes `bytes` to `path` atomically: temp file in the same dir, fsync, rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, bytes, Durability::Synced)
}

/// As [`write_atomic`], fsync'd or not as `durability` says.
pub(crate) fn write_atomic_with(path: &Path, bytes: &[u8], durability: Durability) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::Runtime(format!("{} has no parent directory", path.display())))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(FILE_MODE)
            .open(&tmp)?;
        file.write_all(bytes)?;
        if durability == Durability::Synced {
            file.sync_all()?;
        }
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.context(|| format!("writing {}", path.display()))
}

/// Writes a file only root may read (not atomically: for files derived from a record),
/// tightening one an older berth left readable.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let result = (|| {
        let mut file = open_private(path, false)?;
        file.write_all(bytes)
    })();
    result.context(|| format!("writing {}", path.display()))
}

/// Opens (creating) a file with mode 0600 for writing, truncating it or appending to it;
/// an existing file with a wider mode is tightened.
pub(crate) fn open_private(path: &Path, append: bool) -> std::io::Result<File> {
    use std::os::unix::fs::PermissionsExt;
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .append(append)
        .truncate(!append)
        .mode(FILE_MODE)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(path)?;
    if file.metadata()?.permissions().mode() & 0o077 != 0 {
        file.set_permissions(fs::Permissions::from_mode(FILE_MODE))?;
    }
    Ok(file)
}

/// True for the temp file name [`write_atomic`] uses (`.NAME.PID.tmp`): one that survives
/// is a half-written record of a crashed writer.
pub(crate) fn is_atomic_temp(name: &str) -> bool {
    name.starts_with('.')
        && name
            .strip_suffix(".tmp")
            .and_then(|rest| rest.rsplit_once('.'))
            .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

pub(crate) fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    write_json_atomic_with(path, value, Durability::Synced)
}

/// As [`write_json_atomic`], fsync'd or not as `durability` says.
pub(crate) fn write_json_atomic_with<T: Serialize>(
    path: &Path,
    value: &T,
    durability: Durability,
) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::Runtime(format!("encoding {}: {e}", path.display())))?;
    write_atomic_with(path, &bytes, durability)
}

pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = fs::read(path).context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// Like [`read_json`] but a missing file is `None`.
pub(crate) fn read_json_opt<T: DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::Corrupt {
                path: path.to_owned(),
                reason: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).context(|| format!("reading {}", path.display())),
    }
}

/// The engine-wide exclusive lock; released on drop. A step that must run under it (a
/// read-check-write of records) takes `_held: &StateLock`: only a holder can call it, and
/// the compiler checks what a doc comment could only ask.
pub struct StateLock {
    _lock: Flock<File>,
}

impl StateLock {
    pub(crate) fn acquire(path: &Path) -> Result<StateLock> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(FILE_MODE)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
            .context(|| format!("opening lock {}", path.display()))?;
        let lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, e)| e)
            .context(|| format!("locking {}", path.display()))?;
        Ok(StateLock { _lock: lock })
    }
}

/// Names of workspaces under `tmp/`.
pub(crate) const WORKSPACE_PREFIX: &str = "work-";

/// A directory under `tmp/` that a verb fills without holding the engine lock, locked
/// (`flock` on the directory) while in use so `system check` leaves it alone, and removed
/// when dropped. One left by a killed verb is unlocked, and check removes it.
pub struct Workspace {
    dir: PathBuf,
    _lock: Flock<File>,
}

impl Workspace {
    /// Makes one in `tmp`. Call with the engine lock held, so check (which holds it too)
    /// never sees the directory before its lock.
    pub fn create(_held: &StateLock, tmp: &Path, name: &str) -> Result<Workspace> {
        let dir = tmp.join(format!("{WORKSPACE_PREFIX}{name}"));
        make_private_dir(&dir, DIR_MODE, false)
            .context(|| format!("creating {}", dir.display()))?;
        let lock = File::open(&dir)
            .and_then(|file| Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, e)| e.into()))
            .context(|| format!("locking {}", dir.display()));
        match lock {
            Ok(lock) => Ok(Workspace { dir, _lock: lock }),
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                Err(e)
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// True while the verb that made the workspace at `path` is running.
    pub(crate) fn in_use(path: &Path) -> bool {
        match File::open(path) {
            Ok(file) => Flock::lock(file, FlockArg::LockExclusiveNonblock).is_err(),
            Err(_) => false,
        }
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}
