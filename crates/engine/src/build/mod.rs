//! `berth build`: images from a Dockerfile, with BuildKit's cache semantics.
//!
//! The Dockerfile is parsed and expanded here, the context is read by descriptor, and each
//! step runs through the engine's own run, copy and commit paths.

mod archive;
pub mod chmod;
pub mod context;
pub mod dockerfile;
pub mod expand;
pub mod ignore;
pub(crate) mod image_fs;
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

/// Whether the build a container's [`BUILD_LABEL`] value (`pid=N`) names still runs.
pub fn builder_alive(label: &str) -> bool {
    label
        .strip_prefix("pid=")
        .and_then(|p| p.parse::<i32>().ok())
        .is_some_and(|pid| nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok())
}
