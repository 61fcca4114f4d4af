//! Resolving `--user` (`name|uid[:group|gid]`) against the container's own passwd and group
//! files, read inside the container root so a symlink there can't point at host files.

use std::io::Read;
use std::path::Path;

use pathrs::flags::OpenFlags;
use pathrs::Root;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub home: String,
}

/// The most of a container's passwd or group file berth reads: real ones are kilobytes,
/// and the container controls this file (it may be endless).
const MAX_FILE: u64 = 8 << 20;
/// The longest line and the most lines accepted, so parsing stays bounded too.
const MAX_LINE: usize = 64 << 10;
const MAX_LINES: usize = 100_000;

/// Reads a file of the container: `Ok(None)` if it doesn't exist; `Err(cause)` if it
/// exists but is no usable passwd/group file. Resolved inside the root (pathrs), read only
/// as a regular file (a device, FIFO or socket is refused before it is opened for reading,
/// and opened non-blocking), and only up to [`MAX_FILE`]: nothing the container puts
/// there can make berth block or grow.
fn read_in_root(rootfs: &Path, path: &str) -> std::result::Result<Option<String>, String> {
    let cause = |what: String| format!("the container's {path} {what}");
    // Opened by std, which follows the path itself (e.g. the /proc/PID/root magic link);
    // only what lies below it is resolved by pathrs, inside the root.
    let Ok(root) = std::fs::File::open(rootfs) else {
        return Ok(None);
    };
    let root = Root::from_fd(root);
    let Ok(handle) = root.resolve(path) else {
        return Ok(None);
    };
    // The handle is an O_PATH descriptor: its type is checked before any open that could
    // block (a FIFO) or have side effects (a device).
    let st = nix::sys::stat::fstat(&handle).map_err(|e| cause(format!("can't be read: {e}")))?;
    check_regular(st.st_mode).map_err(cause)?;
    // Opened again inside the root rather than through the handle: a reopen goes through
    // a procfs pathrs mounts and caches, and a monitor that cached one before cloning the
    // container's init left init a cache it closes, so init mounted a procfs per mount
    // step. Non-blocking, and refused unless it is the inode just checked.
    let file = root
        .open_subpath(
            path,
            OpenFlags::O_RDONLY | OpenFlags::O_NONBLOCK | OpenFlags::O_CLOEXEC,
        )
        .map_err(|e| cause(format!("can't be opened: {e}")))?;
    let opened = nix::sys::stat::fstat(&file).map_err(|e| cause(format!("can't be read: {e}")))?;
    if (opened.st_dev, opened.st_ino) != (st.st_dev, st.st_ino) {
        return Err(cause("changed while it was opened".to_owned()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| cause(format!("can't be read: {e}")))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(cause(format!("is larger than {} MiB", MAX_FILE >> 20)));
    }
    check_lines(&bytes).map_err(cause)?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

fn check_regular(mode: u32) -> std::result::Result<(), String> {
    let kind = match mode & libc::S_IFMT {
        libc::S_IFREG => return Ok(()),
        libc::S_IFCHR => "a character device",
        libc::S_IFBLK => "a block device",
        libc::S_IFIFO => "a FIFO",
        libc::S_IFSOCK => "a socket",
        libc::S_IFDIR => "a directory",
        _ => "a special file",
    };
    Err(format!("is {kind}, not a regular file"))
}

fn check_lines(bytes: &[u8]) -> std::result::Result<(), String> {
    let mut lines = 0;
    for line in bytes.split(|&b| b == b'\n') {
        lines += 1;
        if line.len() > MAX_LINE {
            return Err(format!("has a line longer than {} KiB", MAX_LINE >> 10));
        }
        if lines > MAX_LINES {
            return Err(format!("has more than {MAX_LINES} lines"));
        }
    }
    Ok(())
}

/// The text of a passwd or group file. An unusable file fails a lookup by name (`what`)
/// with its cause; for a numeric or root user it counts as missing, as runc treats a
/// missing one, so root can still exec into a broken container to repair it.
fn file_text(
    read: std::result::Result<Option<String>, String>,
    by_name: Option<String>,
) -> Result<String> {
    match (read, by_name) {
        (Ok(text), _) => Ok(text.unwrap_or_default()),
        (Err(cause), Some(what)) => Err(Error::Runtime(format!("unable to find {what}: {cause}"))),
        (Err(_), None) => Ok(String::new()),
    }
}

struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

fn passwd_entries(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            Some(PasswdEntry {
                name: f.first()?.to_string(),
                uid: f.get(2)?.parse().ok()?,
                gid: f.get(3)?.parse().ok()?,
                home: f.get(5).unwrap_or(&"/").to_string(),
            })
        })
        .collect()
}

/// (name, gid, members) of each group line.
fn group_entries(text: &str) -> Vec<(String, u32, Vec<String>)> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            let members = f
                .get(3)
                .map(|m| {
                    m.split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            Some((f.first()?.to_string(), f.get(2)?.parse().ok()?, members))
        })
        .collect()
}

/// Resolves a user spec; an empty spec is root.
pub(crate) fn resolve_user(rootfs: &Path, spec: &str) -> Result<ResolvedUser> {
    let (user_part, group_part) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let user_part = if user_part.is_empty() { "0" } else { user_part };
    let named = |kind: &str, name: &str| {
        name.parse::<u32>()
            .is_err()
            .then(|| format!("{kind} {name}"))
    };
    let passwd = file_text(
        read_in_root(rootfs, "/etc/passwd"),
        named("user", user_part),
    )?;
    let passwd = passwd_entries(&passwd);
    let groups = file_text(
        read_in_root(rootfs, "/etc/group"),
        group_part.and_then(|g| named("group", g)),
    )?;
    let groups = group_entries(&groups);

    let entry = match user_part.parse::<u32>() {
        Ok(uid) => passwd.iter().find(|e| e.uid == uid),
        Err(_) => Some(passwd.iter().find(|e| e.name == user_part).ok_or_else(|| {
            Error::Runtime(format!(
                "unable to find user {user_part}: no matching entries in passwd file"
            ))
        })?),
    };
    let uid = match entry {
        Some(e) => e.uid,
        None => user_part.parse().unwrap_or(0),
    };
    let mut gid = entry.map_or(0, |e| e.gid);
    if let Some(group) = group_part {
        gid = group_id(&groups, group)?;
    }
    // Supplementary groups: the primary group (as runc sets it) and, unless a group was
    // forced, every group that lists the user.
    let mut additional_gids = vec![gid];
    if let (Some(e), None) = (entry, group_part) {
        for (_, g, members) in &groups {
            if members.contains(&e.name) && !additional_gids.contains(g) {
                additional_gids.push(*g);
            }
        }
    }
    Ok(ResolvedUser {
        uid,
        gid,
        additional_gids,
        home: entry.map_or_else(|| "/".to_owned(), |e| e.home.clone()),
    })
}

/// A group given as a number, or by a name looked up in the container's group entries.
fn group_id(groups: &[(String, u32, Vec<String>)], group: &str) -> Result<u32> {
    if let Ok(gid) = group.parse::<u32>() {
        return Ok(gid);
    }
    groups
        .iter()
        .find(|(n, _, _)| n == group)
        .map(|(_, g, _)| *g)
        .ok_or_else(|| {
            Error::Runtime(format!(
                "unable to find group {group}: no matching entries in group file"
            ))
        })
}

/// Adds `--group-add` groups to the user's supplementary groups: numbers as they are,
/// names looked up in the container's /etc/group.
pub(crate) fn add_groups(rootfs: &Path, user: &mut ResolvedUser, extra: &[String]) -> Result<()> {
    if extra.is_empty() {
        return Ok(());
    }
    let named = extra.iter().find(|g| g.parse::<u32>().is_err());
    let groups = file_text(
        read_in_root(rootfs, "/etc/group"),
        named.map(|g| format!("group {g}")),
    )?;
    let groups = group_entries(&groups);
    for group in extra {
        let gid = group_id(&groups, group)?;
        if !user.additional_gids.contains(&gid) {
            user.additional_gids.push(gid);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rootfs() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("etc/group"),
            "root:x:0:\napp:x:1000:\nstaff:x:50:app\n",
        )
        .unwrap();
        dir
    }

    #[test]
    fn names_and_numbers_resolve_through_passwd_and_group() {
        let root = rootfs();
        let app = resolve_user(root.path(), "app").unwrap();
        assert_eq!(
            (app.uid, app.gid, app.additional_gids.clone()),
            (1000, 1000, vec![1000, 50])
        );
        assert_eq!(app.home, "/home/app");
        let numeric = resolve_user(root.path(), "4242:staff").unwrap();
        assert_eq!((numeric.uid, numeric.gid), (4242, 50));
        assert_eq!(resolve_user(root.path(), "").unwrap().uid, 0);
        let err = resolve_user(root.path(), "ghost").unwrap_err().to_string();
        assert!(err.contains("unable to find user ghost"), "{err}");
    }

    #[test]
    fn a_passwd_symlink_to_the_host_is_resolved_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        // Inside the root, /etc/passwd -> /etc/passwd is a loop on itself, never the host's.
        std::os::unix::fs::symlink("/etc/passwd", root.path().join("etc/passwd")).unwrap();
        let err = resolve_user(root.path(), "root").unwrap_err().to_string();
        assert!(err.contains("unable to find user root"), "{err}");
    }

    /// Each hostile passwd: a named lookup fails fast with the cause, root still resolves.
    #[test]
    fn hostile_passwd_files_are_refused_without_blocking() {
        type Plant = fn(&Path);
        let cases: [(&str, Plant, &str); 5] = [
            (
                "fifo",
                |p| {
                    nix::unistd::mkfifo(p, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap()
                },
                "a FIFO",
            ),
            (
                "char device",
                |p| {
                    nix::sys::stat::mknod(
                        p,
                        nix::sys::stat::SFlag::S_IFCHR,
                        nix::sys::stat::Mode::from_bits_truncate(0o666),
                        libc::makedev(1, 5),
                    )
                    .unwrap()
                },
                "a character device",
            ),
            (
                "directory",
                |p| std::fs::create_dir(p).unwrap(),
                "a directory",
            ),
            (
                "huge",
                |p| std::fs::File::create(p).unwrap().set_len(3 << 30).unwrap(),
                "larger than 8 MiB",
            ),
            (
                "long line",
                |p| std::fs::write(p, vec![b'x'; 100 << 10]).unwrap(),
                "line longer than 64 KiB",
            ),
        ];
        for (what, plant, cause) in cases {
            let root = rootfs();
            let passwd = root.path().join("etc/passwd");
            std::fs::remove_file(&passwd).unwrap();
            plant(&passwd);
            let err = resolve_user(root.path(), "app").unwrap_err().to_string();
            assert!(
                err.contains("/etc/passwd") && err.contains(cause),
                "{what}: {err}"
            );
            let numeric = resolve_user(root.path(), "").unwrap();
            assert_eq!((numeric.uid, numeric.gid), (0, 0), "{what}");
            assert_eq!(
                resolve_user(root.path(), "1000").unwrap().uid,
                1000,
                "{what}"
            );
        }
    }
}
