//! Layer tars as a registry or archive delivers them: unpacking never panics and never
//! writes outside the layer directory (a sibling directory must stay empty).
//! Shared by the fuzz target and the corpus replay test (tests/engine/fuzz_corpus.rs).

/// One input; panics on what the target exists to catch.
pub fn run(data: &[u8]) {
    let scratch = tempfile::tempdir().expect("temp dir");
    let layer = scratch.path().join("layer");
    let outside = scratch.path().join("outside");
    std::fs::create_dir(&layer).expect("layer dir");
    std::fs::create_dir(&outside).expect("sibling dir");
    let _ = berth::engine::image::unpack::unpack(data, &layer);
    let escaped: Vec<_> = std::fs::read_dir(&outside)
        .expect("read sibling")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(escaped.is_empty(), "wrote outside the layer: {escaped:?}");
    let top: Vec<_> = std::fs::read_dir(scratch.path())
        .expect("read scratch")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(top.len(), 2, "wrote beside the layer: {top:?}");
}
