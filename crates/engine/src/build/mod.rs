//! `berth build`: images from a Dockerfile, with BuildKit's cache semantics.
//!
//! The Dockerfile is parsed and expanded here, the context is read by descriptor, and each
//! step runs through the engine's own run, copy and commit paths.

mod archive;
pub mod chmod;
pub mod context;
pub mod ignore;
mod selection;
mod stat_cache;
