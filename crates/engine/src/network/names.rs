//! The host-side names one engine root owns in its network namespace: its default
//! bridge and its nftables table. Two roots sharing a namespace must not share these, or
//! one adds its subnet to the other's bridge and reloads the other's table from its own
//! records. The default root keeps Docker-like names (`berth0`, `inet berth`); any other
//! root gets a suffix derived from its path, stable across runs.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::paths::EnginePaths;

/// The default root's bridge (Docker's is `docker0`).
pub(crate) const DEFAULT_BRIDGE: &str = "berth0";
/// The default root's nftables table (family `inet`).
pub(crate) const DEFAULT_TABLE: &str = "berth";
/// Hex digits of the root's hash in its names: `berth-` and 8 fit Linux's 15 bytes.
const TAG_LEN: usize = 8;

/// The names of one root's host objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootNames {
    /// The default network's Linux bridge.
    pub bridge: String,
    /// The nftables table name, in family `inet`.
    pub table: String,
}

impl RootNames {
    /// The names for the engine at `root`.
    pub fn for_root(root: &Path) -> RootNames {
        match tag(root) {
            None => RootNames {
                bridge: DEFAULT_BRIDGE.to_owned(),
                table: DEFAULT_TABLE.to_owned(),
            },
            Some(tag) => RootNames {
                bridge: format!("berth-{tag}"),
                table: format!("berth_{tag}"),
            },
        }
    }
}

/// `None` for the default root, else the first hex digits of the hash of the root's
/// canonical path (the same root reached through a symlink gets the same names).
fn tag(root: &Path) -> Option<String> {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let root = canonical(root);
    if root == canonical(&EnginePaths::default_root()) {
        return None;
    }
    let digest = Sha256::digest(root.as_os_str().as_encoded_bytes());
    Some(hex::encode(digest)[..TAG_LEN].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_root_keeps_docker_like_names_and_others_differ() {
        let default = RootNames::for_root(&EnginePaths::default_root());
        assert_eq!(
            default,
            RootNames {
                bridge: "berth0".into(),
                table: "berth".into()
            }
        );
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let (na, nb) = (RootNames::for_root(a.path()), RootNames::for_root(b.path()));
        assert_ne!(na, nb);
        assert_ne!(na.bridge, default.bridge);
        assert_eq!(na, RootNames::for_root(a.path()), "stable");
        assert!(na.bridge.starts_with("berth-") && na.table.starts_with("berth_"));
        crate::network::link::check_ifname(&na.bridge).unwrap();
        assert_eq!(na.bridge[6..], na.table[6..]);
        // The same directory through another path is the same root.
        let link = a.path().with_extension("link");
        std::os::unix::fs::symlink(a.path(), &link).unwrap();
        assert_eq!(RootNames::for_root(&link), na);
        std::fs::remove_file(&link).unwrap();
    }
}
