//! Image references as Docker normalises them: `alpine` is
//! `docker.io/library/alpine:latest`, `host:5000/ns/img:tag` names its registry, and
//! `img@sha256:...` pins a manifest by digest.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::ids::{Digest, ImageRef};

pub const DOCKER_HUB: &str = "docker.io";
/// Where Docker Hub's Distribution API answers.
const DOCKER_HUB_API: &str = "registry-1.docker.io";
const MAX_REFERENCE: usize = 255;

/// A parsed, normalised reference to an image in a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// The registry as written (`docker.io`, `127.0.0.1:5000`).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The host (and port) the Distribution API is reached at.
    pub(crate) fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// The repository path inside the registry (`library/alpine`, `test/busybox`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What the manifest is fetched by: the digest when one pins it, else the tag.
    pub(crate) fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_owned(),
        }
    }

    /// The repository as Docker shows it: Docker Hub's prefix and `library/` dropped.
    pub(crate) fn familiar_repository(&self) -> String {
        if self.registry == DOCKER_HUB {
            let path = self
                .repository
                .strip_prefix("library/")
                .unwrap_or(&self.repository);
            path.to_owned()
        } else {
            format!("{}/{}", self.registry, self.repository)
        }
    }

    /// The local tag a pull by tag sets (`alpine:latest`, `host:5000/ns/img:v1`), so the
    /// name the user typed finds the image; None for a pull by digest.
    pub fn local_tag(&self) -> Option<ImageRef> {
        if self.digest.is_some() {
            return None;
        }
        let tag = self.tag.as_deref().unwrap_or("latest");
        format!("{}:{tag}", self.familiar_repository()).parse().ok()
    }

    /// `repository@digest` as Docker's RepoDigests lists it, when the reference pins one.
    pub fn repo_digest(&self) -> Option<String> {
        self.digest
            .as_ref()
            .map(|d| format!("{}@{d}", self.familiar_repository()))
    }

    /// `repo@digest` for a manifest of this repository.
    pub fn with_digest(&self, digest: &Digest) -> String {
        format!("{}@{digest}", self.familiar_repository())
    }
}

impl fmt::Display for Reference {
    /// The canonical form: `docker.io/library/alpine:latest`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

fn invalid(s: &str, reason: &str) -> Error {
    Error::invalid("reference format", s, reason)
}

/// A path component: lowercase letters and digits, separated by `.`, `_`, `__` or `-`s.
fn valid_component(c: &str) -> bool {
    let bytes = c.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
        && bytes
            .iter()
            .all(|b| alnum(b) || matches!(b, b'.' | b'_' | b'-'))
        && !c.contains("..")
        && !c.contains("___")
}

/// A registry host: DNS labels or an IPv4 address, with an optional port.
fn valid_domain(d: &str) -> bool {
    let (host, port) = match d.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (d, None),
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok());
    port_ok
        && !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

impl FromStr for Reference {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        if s.is_empty() || s.len() > MAX_REFERENCE {
            return Err(invalid(s, "expected [registry/]repository[:tag][@digest]"));
        }
        let (name, digest) = match s.split_once('@') {
            Some((name, d)) => (name, Some(d.parse::<Digest>()?)),
            None => (s, None),
        };
        // A ':' after the last '/' starts the tag; one before it is a registry's port.
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (path, tag) = match name[last_slash..].rfind(':') {
            Some(i) => (&name[..last_slash + i], Some(&name[last_slash + i + 1..])),
            None => (name, None),
        };
        if let Some(tag) = tag {
            if !valid_tag(tag) {
                return Err(invalid(
                    s,
                    "tags use letters, digits, '_', '.' and '-', at most 128",
                ));
            }
        }
        // The first component is a registry when it looks like a host, as Docker decides.
        let (registry, repository) = match path.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                if !valid_domain(first) {
                    return Err(invalid(s, "the registry is not a valid host[:port]"));
                }
                (first.to_owned(), rest.to_owned())
            }
            _ => (DOCKER_HUB.to_owned(), path.to_owned()),
        };
        if repository.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(invalid(s, "repository name must be lowercase"));
        }
        if !repository.split('/').all(valid_component) {
            return Err(invalid(
                s,
                "repository names use lowercase letters, digits and '.', '_', '-' between them",
            ));
        }
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        let tag = match (&digest, tag) {
            (None, None) => Some("latest".to_owned()),
            (_, tag) => tag.map(str::to_owned),
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Reference {
        s.parse().unwrap()
    }

    #[test]
    fn normalises_as_docker() {
        assert_eq!(r("alpine").to_string(), "docker.io/library/alpine:latest");
        assert_eq!(r("alpine").api_host(), "registry-1.docker.io");
        assert_eq!(r("user/app:1.0").to_string(), "docker.io/user/app:1.0");
        assert_eq!(r("docker.io/alpine").repository(), "library/alpine");
        let x = r("host:5000/ns/img:tag");
        assert_eq!(
            (x.registry(), x.repository(), x.tag()),
            ("host:5000", "ns/img", Some("tag"))
        );
        assert_eq!(r("localhost/img").registry(), "localhost");
        assert_eq!(r("127.0.0.1:5000/img").registry(), "127.0.0.1:5000");
        assert_eq!(
            r("127.0.0.1:5000/img").local_tag().unwrap().to_string(),
            "127.0.0.1:5000/img:latest"
        );
        assert_eq!(
            r("alpine").local_tag().unwrap().to_string(),
            "alpine:latest"
        );
        assert_eq!(
            r("user/app").local_tag().unwrap().to_string(),
            "user/app:latest"
        );
    }

    #[test]
    fn a_digest_pins() {
        let d = Digest::of_bytes(b"m");
        let x = r(&format!("alpine@{d}"));
        assert_eq!(x.digest(), Some(&d));
        assert_eq!(x.tag(), None);
        assert_eq!(x.manifest_reference(), d.to_string());
        assert!(x.local_tag().is_none());
        let y = r(&format!("alpine:3@{d}"));
        assert_eq!(y.manifest_reference(), d.to_string());
        assert_eq!(y.to_string(), format!("docker.io/library/alpine:3@{d}"));
    }

    #[test]
    fn refuses_bad_references() {
        for bad in [
            "",
            "Alpine",
            "a:",
            "a//b",
            "-a",
            "a@sha256:xyz",
            "host:x/a",
            "a/",
            "a:-x",
            "a..b",
            "UPPER/x",
        ] {
            assert!(
                bad.parse::<Reference>().is_err(),
                "{bad:?} should be refused"
            );
        }
    }
}
