//! Resolving `--user` (`name|uid[:group|gid]`) against the container's own passwd and group
//! files, read inside the container root so a symlink there can't point at host files.

use std::io::Read;
use std::path::Path;

use pathrs::flags::OpenFlags;
use pathrs::Root;

use crate::engine::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub home: String,
}

/// Reads a file of the container, `None` if it doesn't exist or can't be read.
fn read_in_root(rootfs: &Path, path: &str) -> Option<String> {
    // Opened by std, which follows the path itself (e.g. the /proc/PID/root magic link);
    // only what lies below it is resolved by pathrs, inside the root.
    let root = Root::from_fd(std::fs::File::open(rootfs).ok()?);
    let handle = root.resolve(path).ok()?;
    let mut file = handle.reopen(OpenFlags::O_RDONLY).ok()?;
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    Some(text)
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
pub fn resolve_user(rootfs: &Path, spec: &str) -> Result<ResolvedUser> {
    let (user_part, group_part) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let user_part = if user_part.is_empty() { "0" } else { user_part };
    let passwd = passwd_entries(&read_in_root(rootfs, "/etc/passwd").unwrap_or_default());
    let groups = group_entries(&read_in_root(rootfs, "/etc/group").unwrap_or_default());

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
        gid = match group.parse::<u32>() {
            Ok(g) => g,
            Err(_) => groups
                .iter()
                .find(|(n, _, _)| n == group)
                .map(|(_, g, _)| *g)
                .ok_or_else(|| {
                    Error::Runtime(format!(
                        "unable to find group {group}: no matching entries in group file"
                    ))
                })?,
        };
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
}
