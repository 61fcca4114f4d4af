//! The fuzz targets' checks as plain functions of the input bytes: each fuzz target calls
//! one, and the berth crate's corpus replay test (tests/engine/fuzz_corpus.rs) includes
//! this module to run every committed input through them without libFuzzer.

pub mod image_archive;
pub mod image_ref;
pub mod layer_tar;
pub mod mount_spec;
pub mod net_input;
