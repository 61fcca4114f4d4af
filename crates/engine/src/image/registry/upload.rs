//! The client's write side, for `push`: HEAD a blob, start an upload (or mount a blob
//! from another repository), PUT a blob in one request streamed from disk, PUT a
//! manifest. Every request answers a 401 once, as GETs do (client.rs).
//!
//! An upload's URL comes from the registry's `Location` header: a path on the registry or
//! an absolute URL. Credentials go only to the registry's own origin.

use std::io::Read;

use super::client::{describe, read_bounded, Client, MAX_MANIFEST};
use crate::error::{Error, Result};
use crate::ids::Digest;

/// Longest `Location` accepted (registries send ~200 bytes).
const MAX_LOCATION: usize = 4096;

/// What a request sends.
pub enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// `len` bytes from a reader, opened again if a 401 makes the request go twice.
    Stream {
        len: u64,
        open: &'a dyn Fn() -> Result<Box<dyn Read + 'a>>,
    },
}

/// What `POST .../blobs/uploads/` answered.
pub enum Upload {
    /// The blob was mounted from another repository: nothing to send.
    Mounted,
    /// An upload session: its URL.
    Started(String),
}

impl Client {
    /// Sends `method url`; `url` is a path on the registry or an absolute URL.
    fn call(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &Body<'_>,
    ) -> Result<ureq::Response> {
        self.call_raw(method, url, headers, body)?
            .map_err(|e| describe(e, &self.base, "the registry", &self.login_hint()))
    }

    /// Sends `method url`, answering a 401 challenge once; the answer as ureq has it,
    /// so callers can read a status such as HEAD's 404.
    #[allow(clippy::result_large_err)]
    fn call_raw(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &Body<'_>,
    ) -> Result<std::result::Result<ureq::Response, ureq::Error>> {
        let (url, own) = self.absolute(url);
        let cached = if own {
            self.authorization
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
        } else {
            None
        };
        match self.send_with(method, &url, headers, body, cached.as_deref())? {
            Err(ureq::Error::Status(401, response)) if own => {
                let authorization = self.authorize(response)?;
                let answer = self.send_with(method, &url, headers, body, Some(&authorization))?;
                if answer.is_ok() {
                    *self.authorization.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some(authorization);
                }
                Ok(answer)
            }
            other => Ok(other),
        }
    }

    // ureq's own error, handed back to `call`, which needs the 401 response in it.
    #[allow(clippy::result_large_err)]
    fn send_with(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &Body<'_>,
        authorization: Option<&str>,
    ) -> Result<std::result::Result<ureq::Response, ureq::Error>> {
        let mut request = self.agent.request(method, url);
        for (name, value) in headers {
            request = request.set(name, value);
        }
        if let Some(authorization) = authorization {
            request = request.set("Authorization", authorization);
        }
        Ok(match body {
            Body::Empty => request.call(),
            Body::Bytes(bytes) => request.send_bytes(bytes),
            Body::Stream { len, open } => request
                .set("Content-Length", &len.to_string())
                .send(open()?),
        })
    }

    /// `url` made absolute, and whether it is on the registry itself.
    fn absolute(&self, url: &str) -> (String, bool) {
        if url.starts_with('/') {
            (format!("{}{url}", self.base), true)
        } else {
            let own = url
                .strip_prefix(self.base.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']));
            (url.to_owned(), own)
        }
    }

    /// Whether `repository` already has the blob.
    pub(crate) fn blob_exists(&self, repository: &str, digest: &Digest) -> Result<bool> {
        let path = format!("/v2/{repository}/blobs/{digest}");
        match self.call_raw("HEAD", &path, &[], &Body::Empty)? {
            Ok(_) => Ok(true),
            Err(ureq::Error::Status(404, _)) => Ok(false),
            Err(e) => Err(describe(e, &self.base, "the registry", &self.login_hint())),
        }
    }

    /// Starts an upload to `repository`; with `mount` (digest, repository it is in),
    /// asks the registry to link that blob instead, which it may decline by starting an
    /// upload.
    pub(crate) fn start_upload(
        &self,
        repository: &str,
        mount: Option<(&Digest, &str)>,
    ) -> Result<Upload> {
        let mut path = format!("/v2/{repository}/blobs/uploads/");
        if let Some((digest, from)) = mount {
            path.push_str(&format!(
                "?mount={}&from={}",
                query_value(&digest.to_string()),
                query_value(from)
            ));
        }
        let response = self.call("POST", &path, &[("Content-Length", "0")], &Body::Empty)?;
        if response.status() == 201 && mount.is_some() {
            return Ok(Upload::Mounted);
        }
        let location = response.header("Location").unwrap_or("").to_owned();
        Ok(Upload::Started(upload_url(&path, &location)?))
    }

    /// Ends the upload at `location` with the whole blob in one PUT.
    pub fn put_blob(&self, location: &str, digest: &Digest, body: &Body<'_>) -> Result<()> {
        let url = with_digest(location, digest);
        let headers = [("Content-Type", "application/octet-stream")];
        self.call("PUT", &url, &headers, body)?;
        Ok(())
    }

    /// PUTs a manifest under `reference` (a tag); returns the digest the registry says
    /// it stored, when it says.
    pub(crate) fn put_manifest(
        &self,
        repository: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Option<String>> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let response = self.call(
            "PUT",
            &path,
            &[("Content-Type", media_type)],
            &Body::Bytes(bytes),
        )?;
        let digest = response.header("Docker-Content-Digest").map(str::to_owned);
        // Drained (bounded) so the connection can be reused.
        let _ = read_bounded(response.into_reader(), MAX_MANIFEST, "answer");
        Ok(digest)
    }
}

/// The URL an upload continues at, from the `Location` of the request to `request_path`:
/// an absolute URL, a path on the registry, or a path relative to the request.
pub(crate) fn upload_url(request_path: &str, location: &str) -> Result<String> {
    let location = location.trim();
    let location = location.split('#').next().unwrap_or("");
    if location.is_empty() {
        return Err(Error::Runtime(
            "the registry started an upload without a Location".into(),
        ));
    }
    if location.len() > MAX_LOCATION || location.chars().any(|c| c.is_control() || c == ' ') {
        return Err(Error::Runtime(
            "the registry sent an unusable upload Location".into(),
        ));
    }
    if location.starts_with("https://")
        || location.starts_with("http://")
        || location.starts_with('/') && !location.starts_with("//")
    {
        return Ok(location.to_owned());
    }
    if location.starts_with("//") || location.contains("://") {
        return Err(Error::Runtime(format!(
            "the registry's upload Location {location} is neither http(s) nor a path"
        )));
    }
    // Relative to the request's directory (RFC 3986 §5.2).
    let path = request_path.split('?').next().unwrap_or("");
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    Ok(format!("{dir}{location}"))
}

/// `url` with `digest=` added to its query.
pub(crate) fn with_digest(url: &str, digest: &Digest) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{separator}digest={}",
        query_value(&digest.to_string())
    )
}

/// Percent-encodes what is not unreserved (RFC 3986), for a query value.
fn query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &str = "/v2/test/bb/blobs/uploads/?mount=x&from=y";

    #[test]
    fn locations_join_as_urls_do() {
        assert_eq!(
            upload_url(REQUEST, "/v2/test/bb/blobs/uploads/u1?_state=abc").unwrap(),
            "/v2/test/bb/blobs/uploads/u1?_state=abc"
        );
        assert_eq!(
            upload_url(REQUEST, "http://127.0.0.1:5000/v2/test/bb/blobs/uploads/u1").unwrap(),
            "http://127.0.0.1:5000/v2/test/bb/blobs/uploads/u1"
        );
        assert_eq!(
            upload_url(REQUEST, "u2?s=1#frag").unwrap(),
            "/v2/test/bb/blobs/uploads/u2?s=1"
        );
        for bad in [
            "",
            "//evil.example/x",
            "ftp://h/x",
            "/a b",
            "/a\r\nX-Injected: 1",
        ] {
            assert!(upload_url(REQUEST, bad).is_err(), "{bad:?}");
        }
        assert!(upload_url(REQUEST, &format!("/{}", "a".repeat(MAX_LOCATION))).is_err());
    }

    #[test]
    fn the_digest_joins_any_query() {
        let d = Digest::of_bytes(b"x");
        let q = format!("digest=sha256%3A{}", d.hex());
        assert_eq!(
            with_digest("/v2/a/blobs/uploads/u", &d),
            format!("/v2/a/blobs/uploads/u?{q}")
        );
        assert_eq!(
            with_digest("/v2/a/blobs/uploads/u?_state=x%3D", &d),
            format!("/v2/a/blobs/uploads/u?_state=x%3D&{q}")
        );
        assert_eq!(query_value("a/b c&d"), "a/b%20c%26d");
    }

    #[test]
    fn credentials_go_only_to_the_registry_itself() {
        let client = Client::new("127.0.0.1:5000", "127.0.0.1:5000", true, None);
        assert_eq!(
            client.absolute("/v2/"),
            ("http://127.0.0.1:5000/v2/".to_owned(), true)
        );
        assert!(client.absolute("http://127.0.0.1:5000/v2/x?y").1);
        assert!(client.absolute("http://127.0.0.1:5000?y").1);
        assert!(!client.absolute("http://127.0.0.1:50000/v2/x").1);
        assert!(!client.absolute("http://127.0.0.1:5000.evil.example/v2/x").1);
        assert!(!client.absolute("https://storage.example/up").1);
    }
}
