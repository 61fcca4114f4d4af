//! Image references, digests and container IDs, as users type them: parsing never panics,
//! and whatever parses prints back to a text that parses to the same value.
#![no_main]

use berth::engine::{ContainerId, Digest, ImageRef};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
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
});
