//! `search`: Docker Hub's search is an API of its own (index.docker.io/v1/search), not
//! the registry's, and berth has no way to it; a registry named in the term
//! (`127.0.0.1:5000/busybox`) is asked for its catalog (`/v2/_catalog`) instead, page by
//! page as its `Link` headers lead, and the repositories whose name holds the rest of the
//! term are the answer.

use super::client::Client;
use super::credentials::CredentialStore;
use super::pull::is_insecure;
use crate::error::{Error, Result};

/// The repositories asked for in one page of a catalog (a registry may send fewer).
const CATALOG_PAGE: usize = 100;
/// The pages followed at most: a registry whose `Link`s never end (or go round) is read
/// this far. Each page is bounded in bytes, and only matches are kept, at most `limit`:
/// what a hostile registry can make berth hold is one page.
const MAX_CATALOG_PAGES: usize = 100;

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
    let query = query.to_lowercase();
    let searching = |e: Error| {
        Error::Runtime(format!(
            "searching {registry}: its catalog (/v2/_catalog): {e}"
        ))
    };
    let mut found = Vec::new();
    let mut path = format!("/v2/_catalog?n={CATALOG_PAGE}");
    let mut seen = std::collections::HashSet::new();
    for _ in 0..MAX_CATALOG_PAGES {
        seen.insert(path.clone());
        let (repositories, next) = client.catalog_page(&path).map_err(searching)?;
        let room = limit - found.len();
        found.extend(
            repositories
                .into_iter()
                .filter(|r| r.to_lowercase().contains(&query))
                .take(room)
                .map(|r| format!("{registry}/{r}")),
        );
        match next {
            // A page seen before would only go round again.
            Some(next) if found.len() < limit && !seen.contains(&next) => path = next,
            _ => break,
        }
    }
    Ok(found)
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
