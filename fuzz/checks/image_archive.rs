//! `berth load` of a docker-save archive built from the input: `manifest.json`, the config
//! and one layer, separated by two NUL bytes. `DIFFID` and `LAYERDIGEST` in the JSON are
//! replaced by the layer's real sha256, so mutations get past the digest checks and reach
//! the config, manifest and layer code. Loading never panics, and a failed load leaves
//! nothing behind.
//! Shared by the fuzz target and the corpus replay test (tests/engine/fuzz_corpus.rs).

use sha2::{Digest, Sha256};

fn split3(data: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let sep = |d: &[u8]| d.windows(2).position(|w| w == [0, 0]);
    let first = sep(data)?;
    let rest = &data[first + 2..];
    let second = sep(rest)?;
    Some((&data[..first], &rest[..second], &rest[second + 2..]))
}

fn append(builder: &mut tar::Builder<Vec<u8>>, name: &str, bytes: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    builder
        .append_data(&mut header, name, bytes)
        .expect("in-memory tar");
}

fn entries_below(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One input; panics on what the target exists to catch.
pub fn run(data: &[u8]) {
    let Some((manifest, config, layer)) = split3(data) else {
        return;
    };
    let layer_hex = hex_sha256(layer);
    let fill = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes)
            .replace("DIFFID", &format!("sha256:{layer_hex}"))
            .replace("LAYERDIGEST", &layer_hex)
            .into_bytes()
    };
    let (manifest, config) = (fill(manifest), fill(config));
    let mut builder = tar::Builder::new(Vec::new());
    append(&mut builder, "manifest.json", &manifest);
    append(&mut builder, "config.json", &config);
    append(&mut builder, "layer.tar", layer);
    let archive = builder.into_inner().expect("in-memory tar");

    let scratch = tempfile::tempdir().expect("temp dir");
    let path = scratch.path().join("image.tar");
    std::fs::write(&path, archive).expect("write archive");
    let engine = berth::engine::Engine::open(&scratch.path().join("root")).expect("engine");
    if engine.load_archive(&path).is_err() {
        let paths = engine.paths();
        for dir in [paths.layers_dir(), paths.images_dir(), paths.tmp_dir()] {
            assert_eq!(
                entries_below(&dir),
                0,
                "a failed load left {}",
                dir.display()
            );
        }
    }
}
