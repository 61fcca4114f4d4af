//! `berth build`: images from a Dockerfile, with BuildKit's cache semantics.
//!
//! The Dockerfile is parsed and expanded here, the context is read by descriptor, and each
//! step runs through the engine's own run, copy and commit paths.

pub mod cache;
pub mod progress;
pub mod step;

/// The label that marks a build container: hidden from listings, never a user's.
pub const BUILD_LABEL: &str = "berth.build";
pub mod image_config;
