//! Image references, digests and container IDs, as users type them: parsing never panics,
//! and whatever parses prints back to a text that parses to the same value.
//! Shared by the fuzz target and the corpus replay test (tests/engine/fuzz_corpus.rs).

use berth::engine::{ContainerId, Digest, ImageRef};

/// One input; panics on what the target exists to catch.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        // libFuzzer hands a `&str` target only UTF-8 input.
        return;
    };
    if let Ok(reference) = text.parse::<ImageRef>() {
        let again: ImageRef = reference
            .to_string()
            .parse()
            .expect("a printed reference parses");
        assert!(again == reference, "{text:?} does not round-trip");
    }
    if let Ok(digest) = text.parse::<Digest>() {
        let again: Digest = digest.to_string().parse().expect("a printed digest parses");
        assert_eq!(again.hex(), digest.hex());
    }
    if let Ok(id) = text.parse::<ContainerId>() {
        assert_eq!(id.as_str().len(), 64);
    }
}
