//! Identifiers parsed once at the edge: digests, container IDs, image references.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::error::{Error, Result};

/// A sha256 content digest, `sha256:<64 hex>`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest(String);

impl Digest {
    pub fn of_bytes(bytes: &[u8]) -> Digest {
        Digest(hex::encode(Sha256::digest(bytes)))
    }

    pub(crate) fn from_sha256(hasher: Sha256) -> Digest {
        Digest(hex::encode(hasher.finalize()))
    }

    /// The 64 hex characters, without the algorithm.
    pub fn hex(&self) -> &str {
        &self.0
    }

    /// The first 12 hex characters, as Docker prints IDs.
    pub fn short(&self) -> &str {
        &self.0[..12]
    }
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl FromStr for Digest {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let hex = s
            .strip_prefix("sha256:")
            .ok_or_else(|| Error::invalid("digest", s, "only sha256 digests are supported"))?;
        if !is_hex64(hex) {
            return Err(Error::invalid(
                "digest",
                s,
                "expected 64 lowercase hex digits",
            ));
        }
        Ok(Digest(hex.to_owned()))
    }
}

impl TryFrom<String> for Digest {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<Digest> for String {
    fn from(d: Digest) -> String {
        d.to_string()
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.0)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.0)
    }
}

/// A container's 64-hex ID.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContainerId(String);

impl ContainerId {
    pub fn random() -> ContainerId {
        ContainerId(random_hex64())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn short(&self) -> &str {
        &self.0[..12]
    }
}

/// 32 random bytes as hex: container IDs and anonymous volume names.
pub(crate) fn random_hex64() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the kernel's random source is available");
    hex::encode(bytes)
}

impl FromStr for ContainerId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if !is_hex64(s) {
            return Err(Error::invalid(
                "container ID",
                s,
                "expected 64 lowercase hex digits",
            ));
        }
        Ok(ContainerId(s.to_owned()))
    }
}

impl TryFrom<String> for ContainerId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<ContainerId> for String {
    fn from(id: ContainerId) -> String {
        id.0
    }
}

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A repository name with a tag, like `busybox:latest` or `registry:5000/team/app:v1`.
///
/// Names are kept as the user wrote them (no `docker.io/library/` prefix is added) since no
/// registry is involved yet; a missing tag means `latest`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImageRef {
    repository: String,
    tag: String,
}

impl ImageRef {
    pub fn repository(&self) -> &str {
        &self.repository
    }
    pub fn tag(&self) -> &str {
        &self.tag
    }
}

fn valid_repository(repo: &str) -> bool {
    !repo.is_empty()
        && repo.split('/').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' | b':'))
        })
}

impl FromStr for ImageRef {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        // A ':' after the last '/' separates the tag; one before it belongs to a registry port.
        let last_slash = s.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match s[last_slash..].rfind(':') {
            Some(i) => (&s[..last_slash + i], &s[last_slash + i + 1..]),
            None => (s, "latest"),
        };
        if !valid_repository(repository) {
            return Err(Error::invalid(
                "reference format",
                s,
                "repository names use lowercase letters, digits, '.', '_', '-' and '/'",
            ));
        }
        let tag_ok = !tag.is_empty()
            && tag.len() <= 128
            && tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !tag_ok {
            return Err(Error::invalid(
                "reference format",
                s,
                "tags use letters, digits, '_', '.' and '-', at most 128",
            ));
        }
        Ok(ImageRef {
            repository: repository.to_owned(),
            tag: tag.to_owned(),
        })
    }
}

impl TryFrom<String> for ImageRef {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<ImageRef> for String {
    fn from(r: ImageRef) -> String {
        r.to_string()
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.repository, self.tag)
    }
}

impl fmt::Debug for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_ref_defaults_to_latest_and_keeps_registry_port() {
        let r: ImageRef = "busybox".parse().unwrap();
        assert_eq!(r.to_string(), "busybox:latest");
        let r: ImageRef = "localhost:5000/team/app:v1".parse().unwrap();
        assert_eq!(r.repository(), "localhost:5000/team/app");
        assert_eq!(r.tag(), "v1");
        let r: ImageRef = "localhost:5000/app".parse().unwrap();
        assert_eq!(r.tag(), "latest");
        assert!("Busybox".parse::<ImageRef>().is_err());
        assert!("a:".parse::<ImageRef>().is_err());
        assert!("a//b".parse::<ImageRef>().is_err());
    }

    #[test]
    fn digest_round_trips_and_rejects_bad_hex() {
        let d = Digest::of_bytes(b"abc");
        let parsed: Digest = d.to_string().parse().unwrap();
        assert_eq!(parsed, d);
        assert!("sha256:xyz".parse::<Digest>().is_err());
        assert!("md5:00".parse::<Digest>().is_err());
    }
}
