//! A small blocking client for the Distribution API v2 (ureq over rustls): manifests and
//! blobs by GET, every answer bounded and every failure one line saying what the
//! registry answered. A 401 is answered once per challenge (auth.rs): the header that
//! worked is kept for the rest of the client's requests (one client serves one
//! repository, so one bearer scope).

use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;

use super::credentials::Found;
use super::resume::pause;
use crate::error::{Error, Result};
use crate::ids::Digest;

pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(crate) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub(crate) const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// Docker's own limit for a manifest.
pub(crate) const MAX_MANIFEST: u64 = 4 << 20;
/// Error bodies are read this far, for their message.
const MAX_ERROR_BODY: u64 = 64 << 10;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts at a manifest, a config or `/v2/` when the failures may pass.
const MAX_GET_ATTEMPTS: u32 = 3;
/// Per read: a registry that stops sending fails the pull instead of hanging it.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Client {
    pub(super) agent: ureq::Agent,
    /// `https://host[:port]` or, for insecure registries, `http://...`.
    pub(super) base: String,
    /// The registry as the user wrote it (`docker.io`, `127.0.0.1:5000`), for messages.
    pub(super) registry: String,
    pub(super) insecure: bool,
    pub(super) credentials: Option<Found>,
    /// The `Authorization` value that last worked.
    pub(super) authorization: Mutex<Option<String>>,
    /// Token scopes asked for besides the challenge's (a push's `pull,push`).
    pub(super) scopes: Vec<String>,
}

/// A manifest or index as the registry sent it.
pub struct Fetched {
    pub bytes: Vec<u8>,
    /// The `Docker-Content-Digest` header, when sent.
    pub digest_header: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

#[derive(Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: String,
}

impl Client {
    /// A client for `registry`, reached at `host`; plain HTTP only when `insecure`.
    pub fn new(host: &str, registry: &str, insecure: bool, credentials: Option<Found>) -> Client {
        // https_only: a secure registry cannot redirect a request (blobs often are, to
        // storage) to plain HTTP.
        let agent = ureq::AgentBuilder::new()
            .https_only(!insecure)
            .redirects(5)
            .timeout_connect(CONNECT_TIMEOUT)
            .timeout_read(READ_TIMEOUT)
            .timeout_write(READ_TIMEOUT)
            .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
            .build();
        let scheme = if insecure { "http" } else { "https" };
        Client {
            agent,
            base: format!("{scheme}://{host}"),
            registry: registry.to_owned(),
            insecure,
            credentials,
            authorization: Mutex::new(None),
            scopes: Vec::new(),
        }
    }

    /// GETs `path`, answering a 401 challenge once.
    /// A failure that may pass (see [`passing`]) is asked again after a pause, a few
    /// times, as a resumed blob is.
    fn get(&self, path: &str, accept: Option<&str>) -> Result<ureq::Response> {
        let headers: Vec<(&str, &str)> = accept.map(|a| ("Accept", a)).into_iter().collect();
        let mut failures = 0;
        loop {
            match self.get_with(path, &headers) {
                Ok(answer) => return answer,
                Err(e) if passing(&e) && failures + 1 < MAX_GET_ATTEMPTS => {
                    failures += 1;
                    std::thread::sleep(pause(failures));
                }
                Err(e) => return Err(self.describe(e)),
            }
        }
    }

    /// GETs `path` with `headers`, answering a 401 challenge once; a refused request
    /// comes back as ureq's error, for the caller to tell passing failures from answers.
    #[allow(clippy::result_large_err)]
    fn get_with(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> std::result::Result<Result<ureq::Response>, ureq::Error> {
        let cached = self
            .authorization
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match self.send(path, headers, cached.as_deref()) {
            Err(ureq::Error::Status(401, response)) => {
                let authorization = match self.authorize(response) {
                    Ok(authorization) => authorization,
                    Err(e) => return Ok(Err(e)),
                };
                let answer = self.send(path, headers, Some(&authorization))?;
                *self.authorization.lock().unwrap_or_else(|p| p.into_inner()) = Some(authorization);
                Ok(Ok(answer))
            }
            other => other.map(Ok),
        }
    }

    // ureq's own error, handed straight to `get_with`, which needs the 401 response in it.
    #[allow(clippy::result_large_err)]
    fn send(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        authorization: Option<&str>,
    ) -> std::result::Result<ureq::Response, ureq::Error> {
        let url = format!("{}{path}", self.base);
        let mut request = self.agent.get(&url);
        for (name, value) in headers {
            request = request.set(name, value);
        }
        // ureq drops this header on a redirect to another host (blob storage).
        if let Some(authorization) = authorization {
            request = request.set("Authorization", authorization);
        }
        request.call()
    }

    fn describe(&self, error: ureq::Error) -> Error {
        describe(error, &self.base, "the registry", &self.login_hint())
    }

    /// What a 401 says about credentials: none stored, or the stored ones refused.
    pub(super) fn login_hint(&self) -> String {
        match &self.credentials {
            None => format!("no credentials: run berth login {}", self.registry),
            // Given to `login`, not read from a file.
            Some(found) if found.file.as_os_str().is_empty() => {
                format!("the username or password for {} was refused", self.registry)
            }
            Some(found) => format!(
                "the credentials for {} in {} were refused",
                self.registry,
                found.file.display()
            ),
        }
    }

    /// GETs `/v2/`: checks the registry is there and, with credentials, that they work.
    pub fn ping(&self) -> Result<()> {
        self.get("/v2/", None).map(|_| ())
    }

    /// GETs one page of the catalog at `path` (`/v2/_catalog?n=...`): the repositories
    /// it lists (read whole up to [`MAX_MANIFEST`]) and the path of the next page, from a
    /// `Link: <...>; rel="next"` header. A next page on another host is refused: the
    /// registry's credentials go nowhere else.
    pub fn catalog_page(&self, path: &str) -> Result<(Vec<String>, Option<String>)> {
        #[derive(Deserialize)]
        struct Catalog {
            #[serde(default)]
            repositories: Vec<String>,
        }
        let response = self.get(path, None)?;
        let next = match response.header("Link").and_then(next_link) {
            Some(link) => Some(self.own_catalog_path(link).ok_or_else(|| {
                Error::Runtime(format!(
                    "the catalog's next page is not the registry's own: {link:?}"
                ))
            })?),
            None => None,
        };
        let bytes = read_bounded(response.into_reader(), MAX_MANIFEST, "catalog")?;
        let catalog: Catalog = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Runtime(format!("the registry's catalog: {e}")))?;
        Ok((catalog.repositories, next))
    }

    /// `link` as a path of this registry's catalog (relative, or absolute on this very
    /// scheme and host), None for anything else.
    fn own_catalog_path(&self, link: &str) -> Option<String> {
        let path = link.strip_prefix(self.base.as_str()).unwrap_or(link);
        let fine = path.starts_with("/v2/_catalog") && path.bytes().all(|b| b.is_ascii_graphic());
        fine.then(|| path.to_owned())
    }

    /// GETs a manifest or index by tag or digest, read whole up to [`MAX_MANIFEST`].
    pub fn manifest(&self, repository: &str, reference: &str) -> Result<Fetched> {
        let accept = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST].join(", ");
        let response = self.get(
            &format!("/v2/{repository}/manifests/{reference}"),
            Some(&accept),
        )?;
        let digest_header = response.header("Docker-Content-Digest").map(str::to_owned);
        let bytes = read_bounded(response.into_reader(), MAX_MANIFEST, "manifest")?;
        Ok(Fetched {
            bytes,
            digest_header,
        })
    }

    /// Opens a blob for streaming; the caller bounds and verifies what it reads.
    pub fn blob(&self, repository: &str, digest: &Digest) -> Result<Box<dyn Read + Send>> {
        let response = self.get(&format!("/v2/{repository}/blobs/{digest}"), None)?;
        Ok(Box::new(response.into_reader()))
    }

    /// Opens a blob from byte `offset` on (a `Range` request past 0). A failure says
    /// whether asking again may help: a lost connection, a timeout or a 5xx may; a 404
    /// or a refused login will not.
    pub(crate) fn blob_from(
        &self,
        repository: &str,
        digest: &Digest,
        offset: u64,
    ) -> std::result::Result<Opened, Failure> {
        let range = format!("bytes={offset}-");
        let headers: Vec<(&str, &str)> = if offset > 0 {
            vec![("Range", range.as_str())]
        } else {
            Vec::new()
        };
        let response = match self.get_with(&format!("/v2/{repository}/blobs/{digest}"), &headers) {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => return Err(Failure::permanent(e)),
            Err(e) => {
                let retry = passing(&e);
                return Err(Failure {
                    error: self.describe(e).to_string(),
                    retry,
                });
            }
        };
        let starts_at = match response.status() {
            206 => Some(
                response
                    .header("Content-Range")
                    .and_then(range_start)
                    .ok_or_else(|| Failure {
                        error: "a partial answer without a readable Content-Range".into(),
                        retry: true,
                    })?,
            ),
            _ => None,
        };
        Ok(Opened {
            stream: Box::new(response.into_reader()),
            starts_at,
        })
    }
}

/// A blob's stream, and where in the blob it starts when the registry answered a range
/// (None: the whole blob).
pub struct Opened {
    pub stream: Box<dyn Read + Send>,
    pub starts_at: Option<u64>,
}

/// Why a blob could not be opened, and whether asking again may help.
#[derive(Debug)]
pub struct Failure {
    pub error: String,
    pub retry: bool,
}

impl Failure {
    fn permanent(error: Error) -> Failure {
        Failure {
            error: error.to_string(),
            retry: false,
        }
    }
}

/// A failure that may pass: the connection, a timeout, the server's own trouble or a
/// rate limit, but not a refusal or a bad request.
fn passing(error: &ureq::Error) -> bool {
    match error {
        ureq::Error::Status(code, _) => matches!(code, 408 | 429 | 500..=599),
        ureq::Error::Transport(t) => matches!(
            t.kind(),
            ureq::ErrorKind::Dns
                | ureq::ErrorKind::ConnectionFailed
                | ureq::ErrorKind::Io
                | ureq::ErrorKind::ProxyConnect
        ),
    }
}

/// The first byte of a `Content-Range: bytes START-END/TOTAL`.
fn range_start(header: &str) -> Option<u64> {
    let spec = header.trim().strip_prefix("bytes ")?;
    spec.split_once('-')?.0.trim().parse().ok()
}

/// The target of the `rel="next"` link of a `Link` header (RFC 8288:
/// `<url>; rel="next", <url>; rel="prev"`), as the Distribution API pages with it.
fn next_link(header: &str) -> Option<&str> {
    header.split(',').find_map(|link| {
        let (target, params) = link.trim().strip_prefix('<')?.split_once('>')?;
        params
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .any(|(key, value)| {
                key.trim().eq_ignore_ascii_case("rel")
                    && value
                        .trim()
                        .trim_matches('"')
                        .split_ascii_whitespace()
                        .any(|rel| rel.eq_ignore_ascii_case("next"))
            })
            .then_some(target)
    })
}

/// Reads at most `max` bytes; more is an error, not a truncation.
pub(crate) fn read_bounded(reader: impl Read, max: u64, what: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader
        .take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Runtime(format!("reading the {what}: {e}")))?;
    if bytes.len() as u64 > max {
        return Err(Error::Runtime(format!(
            "the {what} is larger than {max} bytes"
        )));
    }
    Ok(bytes)
}

/// One line for a failed request: the status and the server's own message (`who`
/// answered ...), `hint` after a 401, or why the server could not be reached.
pub(super) fn describe(error: ureq::Error, base: &str, who: &str, hint: &str) -> Error {
    match error {
        ureq::Error::Status(code, response) => {
            let status = format!("{code} {}", response.status_text());
            let body =
                read_bounded(response.into_reader(), MAX_ERROR_BODY, "error").unwrap_or_default();
            let mut line = format!("{who} answered {status}");
            let message = registry_message(&body);
            if !message.is_empty() {
                line.push_str(": ");
                line.push_str(&message);
            }
            if code == 401 {
                line.push_str(&format!(" ({hint})"));
                return Error::Unauthorized(printable(&line));
            }
            Error::Runtime(printable(&line))
        }
        ureq::Error::Transport(t) => {
            let cause = std::error::Error::source(&t)
                .map(|s| s.to_string())
                .or_else(|| t.message().map(str::to_owned))
                .unwrap_or_else(|| t.kind().to_string());
            Error::Runtime(format!("cannot reach {base}: {}: {cause}", t.kind()))
        }
    }
}

/// The messages of a Distribution API error body, or its first line.
fn registry_message(body: &[u8]) -> String {
    if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) {
        let messages: Vec<String> = parsed
            .errors
            .iter()
            .map(|e| {
                if e.message.is_empty() {
                    e.code.to_lowercase()
                } else {
                    e.message.clone()
                }
            })
            .collect();
        if !messages.is_empty() {
            return messages.join("; ");
        }
    }
    let text = String::from_utf8_lossy(body);
    let first = text.lines().next().unwrap_or("").trim();
    crate::units::truncate(first, 200)
}

/// What a registry sends is shown to a terminal: control characters (escapes) become
/// spaces.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_read_as_rfc_8288_writes_it() {
        let next = "</v2/_catalog?last=b&n=2>; rel=\"next\"";
        assert_eq!(next_link(next), Some("/v2/_catalog?last=b&n=2"));
        assert_eq!(
            next_link("</p>; rel=\"prev\", </n>; title=x; rel=next"),
            Some("/n")
        );
        assert_eq!(next_link("</p>; rel=\"prev\""), None);
        assert_eq!(next_link("garbage"), None);
        let client = Client::new("127.0.0.1:5000", "127.0.0.1:5000", true, None);
        assert_eq!(
            client.own_catalog_path("http://127.0.0.1:5000/v2/_catalog?last=a"),
            Some("/v2/_catalog?last=a".to_owned())
        );
        for foreign in [
            "http://127.0.0.1:5001/v2/_catalog",
            "http://127.0.0.1:5000.evil/v2/_catalog",
            "/v2/other",
            "/v2/_catalog?last=a b",
        ] {
            assert_eq!(client.own_catalog_path(foreign), None, "{foreign}");
        }
    }

    #[test]
    fn a_refusal_of_credentials_is_typed_unauthorized_and_other_statuses_are_not() {
        let answer = |code: u16, text: &str| {
            let response = ureq::Response::new(code, text, "").unwrap();
            describe(
                ureq::Error::Status(code, response),
                "base",
                "the registry",
                "no credentials",
            )
        };
        let refused = answer(401, "Unauthorized");
        assert_eq!(refused.kind(), crate::ErrorKind::Unauthorized);
        assert_eq!(
            refused.to_string(),
            "the registry answered 401 Unauthorized (no credentials)"
        );
        assert_eq!(
            answer(500, "Internal Server Error").kind(),
            crate::ErrorKind::Internal
        );
    }

    #[test]
    fn registry_errors_read_as_their_messages() {
        let body = br#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}"#;
        assert_eq!(
            registry_message(body),
            "repository name not known to registry"
        );
        assert_eq!(registry_message(b"<html>\nx"), "<html>");
        assert!(read_bounded(&b"12345"[..], 4, "manifest").is_err());
        assert_eq!(read_bounded(&b"1234"[..], 4, "manifest").unwrap(), b"1234");
    }

    #[test]
    fn server_trouble_and_rate_limits_may_pass_refusals_do_not() {
        let status = |code: u16| {
            let response = ureq::Response::new(code, "status", "").unwrap();
            passing(&ureq::Error::Status(code, response))
        };
        assert!(status(503) && status(502) && status(429) && status(408));
        assert!(!status(401) && !status(404) && !status(400));
    }

    #[test]
    fn content_ranges_give_their_start() {
        assert_eq!(range_start("bytes 100-199/200"), Some(100));
        assert_eq!(range_start("bytes 0-0/1"), Some(0));
        assert_eq!(range_start("bytes */200"), None);
        assert_eq!(range_start("items 1-2/3"), None);
    }
}
