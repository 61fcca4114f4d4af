//! Answering a registry's 401: `Basic` with the stored credentials, or `Bearer` with a
//! token from the challenge's realm (Docker's token protocol: GET realm?service=&scope=,
//! with the credentials as Basic when there are any, anonymous otherwise).
//!
//! Credentials never travel in clear text to a host the user did not name: the client
//! speaks plain HTTP only to loopback and named insecure registries, and a realm may use
//! plain HTTP only when the registry does and the realm is that same host or loopback.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Deserialize;

use super::challenge::{self, Challenge};
use super::client::{describe, read_bounded, Client};
use crate::error::{Error, Result};

/// A token answer larger than this is refused (Docker Hub's are a few KiB).
const MAX_TOKEN_ANSWER: u64 = 1 << 20;

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    token: String,
    #[serde(default)]
    access_token: String,
}

impl Client {
    /// The `Authorization` value answering the challenges of a 401 response, or an error
    /// saying what the registry answered and why berth cannot answer it.
    pub(super) fn authorize(&self, response: ureq::Response) -> Result<String> {
        let challenges = challenge::parse(response.all("WWW-Authenticate"));
        let refused = |why: String| {
            let error = describe(
                ureq::Error::Status(401, response),
                &self.base,
                "the registry",
                &why,
            );
            Err(error)
        };
        if let Some(bearer) = challenges.iter().find(|c| c.scheme == "bearer") {
            return self.bearer_token(bearer).map(|t| format!("Bearer {t}"));
        }
        if challenges.iter().any(|c| c.scheme == "basic") {
            return match &self.credentials {
                Some(found) => Ok(basic(&found.credentials)),
                None => refused(self.login_hint()),
            };
        }
        let schemes: Vec<&str> = challenges.iter().map(|c| c.scheme.as_str()).collect();
        if schemes.is_empty() {
            refused("it sent no WWW-Authenticate challenge".into())
        } else {
            refused(format!(
                "berth speaks Basic and Bearer, it asks for {}",
                schemes.join(", ")
            ))
        }
    }

    /// A token from the challenge's realm.
    fn bearer_token(&self, challenge: &Challenge) -> Result<String> {
        let realm = challenge.param("realm").ok_or_else(|| {
            Error::Runtime("the registry asked for a bearer token but named no realm".into())
        })?;
        let realm = printable(realm);
        self.check_realm(&realm)?;
        let mut request = self.agent.get(&realm);
        if let Some(service) = challenge.param("service") {
            request = request.query("service", service);
        }
        for scope in token_scopes(challenge.param("scope"), &self.scopes) {
            request = request.query("scope", scope);
        }
        if let Some(found) = &self.credentials {
            request = request.set("Authorization", &basic(&found.credentials));
        }
        let who = format!("the token server {realm}");
        let response = request
            .call()
            .map_err(|e| describe(e, &realm, &who, &self.login_hint()))?;
        let bytes = read_bounded(response.into_reader(), MAX_TOKEN_ANSWER, "token answer")?;
        let answer: TokenAnswer = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Runtime(format!("{who} sent no token: {e}")))?;
        let token = if answer.token.is_empty() {
            answer.access_token
        } else {
            answer.token
        };
        // A token goes into a header: visible ASCII only, bounded by the read above.
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::Runtime(format!("{who} sent no usable token")));
        }
        Ok(token)
    }

    /// A realm over HTTPS, or over HTTP only from an insecure registry to itself or to
    /// loopback: a registry cannot send credentials anywhere in clear text.
    fn check_realm(&self, realm: &str) -> Result<()> {
        if realm.starts_with("https://") {
            return Ok(());
        }
        if let Some(rest) = realm.strip_prefix("http://") {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            let own = self.base.strip_prefix("http://");
            if self.insecure && (own == Some(host) || is_loopback(host)) {
                return Ok(());
            }
            return Err(Error::Runtime(format!(
                "the registry's token realm {realm} is plain HTTP: refused"
            )));
        }
        Err(Error::Runtime(format!(
            "the registry's token realm {realm} is not an https:// URL"
        )))
    }
}

/// The challenge's scope and the client's own (each once): a token server grants the
/// union, so one token serves a push's HEADs, uploads and mounts.
fn token_scopes<'a>(challenged: Option<&'a str>, own: &'a [String]) -> Vec<&'a str> {
    let mut scopes: Vec<&str> = challenged.into_iter().collect();
    for scope in own {
        if !scopes.contains(&scope.as_str()) {
            scopes.push(scope);
        }
    }
    scopes
}

fn basic(credentials: &super::credentials::Credentials) -> String {
    let pair = format!("{}:{}", credentials.username, credentials.password);
    format!("Basic {}", STANDARD.encode(pair))
}

fn is_loopback(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(name, "localhost" | "127.0.0.1" | "[::1]")
}

/// A registry's text goes into messages shown on a terminal.
fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_asks_for_its_own_scopes_too() {
        let own = vec![
            "repository:a/b:pull,push".to_owned(),
            "repository:c:pull".to_owned(),
        ];
        assert_eq!(
            token_scopes(Some("repository:a/b:pull"), &own),
            [
                "repository:a/b:pull",
                "repository:a/b:pull,push",
                "repository:c:pull"
            ]
        );
        assert_eq!(
            token_scopes(Some("repository:c:pull"), &own),
            ["repository:c:pull", "repository:a/b:pull,push"]
        );
        assert!(token_scopes(None, &[]).is_empty());
    }

    #[test]
    fn realms_never_downgrade_to_plain_http_elsewhere() {
        let secure = Client::new("reg.example", "reg.example", false, None);
        assert!(secure.check_realm("https://auth.example/token").is_ok());
        assert!(secure.check_realm("http://reg.example/token").is_err());
        assert!(secure.check_realm("http://127.0.0.1/token").is_err());
        assert!(secure.check_realm("ftp://auth.example/token").is_err());

        let local = Client::new("127.0.0.1:5000", "127.0.0.1:5000", true, None);
        assert!(local.check_realm("http://127.0.0.1:5000/token").is_ok());
        assert!(local.check_realm("http://localhost:6000/token").is_ok());
        assert!(local.check_realm("http://auth.example/token").is_err());
        assert!(local
            .check_realm("http://127.0.0.1.evil.example/t")
            .is_err());
    }
}
