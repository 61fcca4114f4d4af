//! `--cgroup-parent`: the cgroup a container's own is made under, in every hierarchy
//! (Docker's HostConfig.CgroupParent, with its cgroupfs driver). Without one it is
//! `berth`. The path is below each hierarchy's root: `/ci/jobs` and `ci/jobs` are the
//! same place, as Docker's documentation has a relative one start at the init process's
//! cgroup (the root).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Where containers go when no parent is given.
pub const DEFAULT: &str = "berth";

/// The longest parent taken: far above any real one, far below PATH_MAX.
const MAX_LEN: usize = 1024;

/// A checked `--cgroup-parent`: the text as given (inspect shows it), and nothing in it
/// that leaves the hierarchy or lands among berth's own containers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CgroupParent(String);

impl CgroupParent {
    pub fn parse(text: &str) -> Result<CgroupParent> {
        let bad = |reason: &str| Error::invalid("--cgroup-parent value", text, reason);
        if text.len() > MAX_LEN {
            return Err(bad("the path is too long"));
        }
        if text.chars().any(char::is_control) {
            return Err(bad("control characters are not allowed"));
        }
        let parts: Vec<&str> = text.split('/').filter(|p| !p.is_empty()).collect();
        if parts.iter().any(|p| *p == ".." || *p == ".") {
            return Err(bad(
                "'.' and '..' are not allowed: give the path from the root of the cgroup hierarchy",
            ));
        }
        // berth/<id> is a container's own: one below it would sit inside another
        // container, and `system check` would take it for a leftover.
        if parts.first() == Some(&DEFAULT) && parts.len() > 1 {
            return Err(bad(
                "berth/... holds berth's own container cgroups: choose a parent outside it",
            ));
        }
        Ok(CgroupParent(text.to_owned()))
    }

    /// As given, for inspect.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The parent's path below a hierarchy's root, without a leading slash (empty: the
    /// root itself).
    pub fn relative(&self) -> String {
        self.0
            .split('/')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// The container's cgroup path below every hierarchy's root: `<parent>/<id>`.
pub fn container_path(parent: Option<&CgroupParent>, id: &str) -> String {
    let parent = parent.map_or_else(|| DEFAULT.to_owned(), CgroupParent::relative);
    if parent.is_empty() {
        id.to_owned()
    } else {
        format!("{parent}/{id}")
    }
}

impl TryFrom<String> for CgroupParent {
    type Error = Error;
    fn try_from(text: String) -> Result<Self> {
        CgroupParent::parse(&text)
    }
}

impl From<CgroupParent> for String {
    fn from(p: CgroupParent) -> String {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parent_stays_below_the_root_and_outside_berths_own() {
        let p = CgroupParent::parse("/ci//jobs/").unwrap();
        assert_eq!(p.relative(), "ci/jobs");
        assert_eq!(p.as_str(), "/ci//jobs/");
        assert_eq!(container_path(Some(&p), "abc"), "ci/jobs/abc");
        assert_eq!(container_path(None, "abc"), "berth/abc");
        let root = CgroupParent::parse("/").unwrap();
        assert_eq!(container_path(Some(&root), "abc"), "abc");
        assert_eq!(
            container_path(Some(&CgroupParent::parse("berth").unwrap()), "abc"),
            "berth/abc"
        );
        for bad in ["../x", "a/../../b", "/a/./b", "berth/x", "a\nb"] {
            let e = CgroupParent::parse(bad).unwrap_err().to_string();
            assert!(e.contains("--cgroup-parent"), "{bad}: {e}");
        }
        let kept: std::result::Result<CgroupParent, _> = serde_json::from_str("\"../escape\"");
        assert!(kept.is_err(), "a record can't carry one either");
    }
}
