//! Reading members of an image archive: a directory (OCI layout) or a tar file (docker
//! save, or an OCI layout packed in a tar). Tar members are located once by an index of
//! offsets and then read by seeking, so layer tars are streamed straight from the outer
//! file and never copied out first.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// JSON documents larger than this are not manifests or configs.
const MAX_DOCUMENT: u64 = 64 << 20;
const MAX_LINK_HOPS: usize = 16;

pub struct Source {
    path: PathBuf,
    kind: Kind,
}

enum Kind {
    Dir,
    Tar {
        members: HashMap<String, (u64, u64)>,
        links: HashMap<String, String>,
    },
}

impl Source {
    pub fn open(path: &Path) -> Result<Source> {
        let meta = std::fs::metadata(path).map_err(|e| bad(path, e.to_string()))?;
        let kind = if meta.is_dir() {
            Kind::Dir
        } else {
            index_tar(path, meta.len())?
        };
        Ok(Source {
            path: path.to_owned(),
            kind,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// An error about this archive.
    pub fn error(&self, reason: impl Into<String>) -> Error {
        bad(&self.path, reason.into())
    }

    pub fn contains(&self, name: &str) -> bool {
        match &self.kind {
            Kind::Dir => normalize(name).is_some_and(|n| self.path.join(n).is_file()),
            Kind::Tar { .. } => self.locate(name).is_some(),
        }
    }

    fn locate(&self, name: &str) -> Option<(u64, u64)> {
        let Kind::Tar { members, links } = &self.kind else {
            return None;
        };
        let mut name = normalize(name)?;
        for _ in 0..MAX_LINK_HOPS {
            if let Some(found) = members.get(&name) {
                return Some(*found);
            }
            // docker save links repeated layers to the first copy.
            let target = links.get(&name)?;
            let dir = Path::new(&name).parent().unwrap_or(Path::new(""));
            name = normalize(&dir.join(target).to_string_lossy())?;
        }
        None
    }

    /// Opens a member for streaming; a missing member is an error naming it.
    pub(crate) fn open_member(&self, name: &str) -> Result<Box<dyn Read>> {
        let missing = || self.error(format!("missing {name}"));
        match &self.kind {
            Kind::Dir => {
                let rel = normalize(name)
                    .ok_or_else(|| self.error(format!("invalid member name {name:?}")))?;
                let file = File::open(self.path.join(rel)).map_err(|_| missing())?;
                Ok(Box::new(file))
            }
            Kind::Tar { .. } => {
                let (offset, size) = self.locate(name).ok_or_else(missing)?;
                let mut file = File::open(&self.path).map_err(|e| self.error(e.to_string()))?;
                file.seek(SeekFrom::Start(offset))
                    .map_err(|e| self.error(e.to_string()))?;
                Ok(Box::new(file.take(size)))
            }
        }
    }

    /// Reads a small member (a manifest, index or config) whole.
    pub(crate) fn read_document(&self, name: &str) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.open_member(name)?
            .take(MAX_DOCUMENT)
            .read_to_end(&mut bytes)
            .map_err(|e| self.error(format!("reading {name}: {e}")))?;
        Ok(bytes)
    }
}

fn bad(path: &Path, reason: String) -> Error {
    Error::bad_archive(path.display().to_string(), reason)
}

/// `./a//b/` -> `a/b`; None for names that leave the archive (`..`, absolute).
fn normalize(name: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in Path::new(name).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_str()?),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            _ => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn index_tar(path: &Path, len: u64) -> Result<Kind> {
    let mut file = File::open(path).map_err(|e| bad(path, e.to_string()))?;
    let mut head = [0u8; 4];
    let n = file
        .read(&mut head)
        .and_then(|n| file.rewind().map(|()| n))
        .map_err(|e| bad(path, e.to_string()))?;
    if head[..n].starts_with(&[0x1f, 0x8b]) || head[..n].starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Err(bad(
            path,
            "compressed archive: decompress it first (e.g. gunzip or zstd -d)".into(),
        ));
    }
    let not_tar = |e: std::io::Error| bad(path, format!("not a valid tar archive: {e}"));
    let mut archive = tar::Archive::new(file);
    let mut members = HashMap::new();
    let mut links = HashMap::new();
    for entry in archive.entries_with_seek().map_err(not_tar)? {
        let entry = entry.map_err(not_tar)?;
        let name = entry.path().map_err(not_tar)?;
        let Some(name) = normalize(&name.to_string_lossy()) else {
            continue;
        };
        match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let (offset, size) = (entry.raw_file_position(), entry.size());
                if offset.saturating_add(size) > len {
                    return Err(bad(
                        path,
                        format!("truncated archive: {name} is incomplete"),
                    ));
                }
                members.insert(name, (offset, size));
            }
            tar::EntryType::Symlink | tar::EntryType::Link => {
                if let Ok(Some(target)) = entry.link_name() {
                    let target = target.to_string_lossy().into_owned();
                    // Hardlink targets are archive paths; symlink targets are relative.
                    let target = if entry.header().entry_type() == tar::EntryType::Link {
                        format!("/{target}")
                    } else {
                        target
                    };
                    links.insert(name, target);
                }
            }
            _ => {}
        }
    }
    if members.is_empty() {
        return Err(bad(path, "not a valid tar archive: no files in it".into()));
    }
    // Hardlinks name archive paths: store them as paths relative to the link's dir.
    let links = links
        .into_iter()
        .map(|(name, target)| match target.strip_prefix('/') {
            Some(abs) => {
                let depth = name.matches('/').count();
                (name, format!("{}{abs}", "../".repeat(depth)))
            }
            None => (name, target),
        })
        .collect();
    Ok(Kind::Tar { members, links })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_keeps_names_inside_the_archive() {
        assert_eq!(normalize("./a//b/").as_deref(), Some("a/b"));
        assert_eq!(normalize("a/../b").as_deref(), Some("b"));
        assert_eq!(normalize("../b"), None);
        assert_eq!(normalize("/etc/passwd"), None);
    }
}
