//! `login` and `logout`: credentials are checked against the registry (GET /v2/ with
//! them, answering its challenge) before they are stored.

use std::path::PathBuf;

use super::client::Client;
use super::credentials::{registry_key, CredentialStore, Credentials, Found};
use super::pull::is_insecure;
use super::reference::DOCKER_HUB;
use crate::error::{Error, Result};

/// The registry's name as references write it: `docker.io` for every name of Docker Hub,
/// `host[:port]` otherwise (a scheme or path given to login is dropped).
pub fn registry_name(server: &str) -> String {
    let key = registry_key(server);
    if key.starts_with("https://") {
        DOCKER_HUB.to_owned()
    } else {
        key
    }
}

/// Checks `credentials` against `server` and stores them; returns the file written.
pub fn login(
    store: &CredentialStore,
    server: &str,
    credentials: &Credentials,
    insecure_registries: &[String],
) -> Result<PathBuf> {
    let registry = registry_name(server);
    if registry.is_empty() || credentials.username.is_empty() {
        return Err(Error::Runtime(
            "login needs a registry and a username".into(),
        ));
    }
    if credentials.username.contains(':') {
        return Err(Error::invalid(
            "username",
            &credentials.username,
            "it may not contain ':'",
        ));
    }
    let api_host = if registry == DOCKER_HUB {
        "registry-1.docker.io"
    } else {
        &registry
    };
    let insecure = is_insecure(&registry, insecure_registries);
    let found = Found {
        credentials: credentials.clone(),
        file: PathBuf::new(),
    };
    let client = Client::new(api_host, &registry, insecure, Some(found));
    client
        .ping()
        .map_err(|e| Error::Runtime(format!("logging in to {registry}: {e}")))?;
    store.store(&registry, credentials)
}

/// Forgets `server`'s credentials in berth's file; false if there were none.
pub fn logout(store: &CredentialStore, server: &str) -> Result<bool> {
    store.remove(&registry_name(server))
}
