//! `berth build`: images from a Dockerfile, with BuildKit's cache semantics.
//!
//! The Dockerfile is parsed and expanded here, the context is read by descriptor, and each
//! step runs through the engine's own run, copy and commit paths.

pub mod context;
pub mod dockerfile;
pub mod expand;
pub mod ignore;
mod selection;
mod stat_cache;
mod syntax;

// The builder: the cache, the steps, the image config, progress (helper E's part).
pub mod builder;
pub mod cache;
pub mod image_config;
pub mod options;
pub mod progress;
pub mod prune;
pub mod step;

/// The label that marks a build container: hidden from listings, never a user's.
pub const BUILD_LABEL: &str = "berth.build";
