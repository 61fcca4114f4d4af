//! `search`: Docker Hub's search is an API of its own (index.docker.io/v1/search), not
//! the registry's, and berth has no way to it; a registry named in the term
//! (`127.0.0.1:5000/busybox`) is asked for its catalog (`/v2/_catalog`) instead, and
//! the repositories whose name holds the rest of the term are the answer.

use super::client::Client;
use super::credentials::CredentialStore;
use super::pull::is_insecure;
use crate::error::{Error, Result};

/// How many repositories of a catalog are read at most: a hostile registry's list is
/// bounded by this and by the size of its answer.
const CATALOG_PAGE: usize = 1000;

/// The registry a term names (`host:port/rest`, `host.domain/rest`, `localhost/rest`)
/// and the rest of the term.
fn registry_of(term: &str) -> Option<(&str, &str)> {
    let (first, rest) = term.split_once('/')?;
    (first.contains('.') || first.contains(':') || first == "localhost").then_some((first, rest))
}

/// The full names (`registry/repository`) of the repositories matching `term`, at most
/// `limit`.
pub fn search(
    term: &str,
    limit: usize,
    insecure_registries: &[String],
    credentials: Option<&CredentialStore>,
) -> Result<Vec<String>> {
    let Some((registry, query)) = registry_of(term) else {
        return Err(Error::Runtime(format!(
            "berth cannot search Docker Hub (its search API is not a registry's): name a registry that lists its catalog, e.g. berth search localhost:5000/{term}"
        )));
    };
    let found = match credentials {
        Some(store) => store.get(registry)?,
        None => None,
    };
    let client = Client::new(
        registry,
        registry,
        is_insecure(registry, insecure_registries),
        found,
    );
    let repositories = client.catalog(CATALOG_PAGE).map_err(|e| {
        Error::Runtime(format!(
            "searching {registry}: its catalog (/v2/_catalog): {e}"
        ))
    })?;
    let query = query.to_lowercase();
    Ok(repositories
        .into_iter()
        .filter(|r| r.to_lowercase().contains(&query))
        .take(limit)
        .map(|r| format!("{registry}/{r}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_term_names_its_registry_as_a_reference_does() {
        assert_eq!(
            registry_of("127.0.0.1:5000/busy"),
            Some(("127.0.0.1:5000", "busy"))
        );
        assert_eq!(registry_of("localhost/x"), Some(("localhost", "x")));
        assert_eq!(registry_of("library/busybox"), None);
        assert_eq!(registry_of("busybox"), None);
        assert!(search("busybox", 25, &[], None).is_err());
    }
}
