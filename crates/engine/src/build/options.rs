//! What `berth build` was asked for, and what it made.

use std::path::PathBuf;

use crate::ids::{Digest, ImageRef};

/// Where the Dockerfile comes from.
#[derive(Debug, Clone)]
pub enum DockerfileSource {
    /// A file, relative to the working directory (`-f FILE`) or `<context>/Dockerfile`.
    Path(PathBuf),
    /// `-f -`: read from stdin already; the name errors call it by.
    Text { name: String, text: String },
}

/// The network of RUN steps (`--network`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BuildNetwork {
    #[default]
    Default,
    None,
    Host,
}

impl BuildNetwork {
    pub fn parse(text: &str) -> Option<BuildNetwork> {
        match text {
            "default" | "bridge" => Some(BuildNetwork::Default),
            "none" => Some(BuildNetwork::None),
            "host" => Some(BuildNetwork::Host),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BuildNetwork::Default => "default",
            BuildNetwork::None => "none",
            BuildNetwork::Host => "host",
        }
    }

    /// The container network a step runs on.
    pub fn container_network(self) -> Option<String> {
        match self {
            BuildNetwork::Default => None,
            BuildNetwork::None => Some("none".into()),
            BuildNetwork::Host => Some("host".into()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The context directory (a tar context from stdin is unpacked into one first).
    pub context: PathBuf,
    pub dockerfile: DockerfileSource,
    pub tags: Vec<ImageRef>,
    /// `--target`: the stage to build, by name.
    pub target: Option<String>,
    /// `--build-arg K=V` (and `K` alone, its value from the environment: the front door
    /// looks it up; `None` when it is not set there).
    pub build_args: Vec<(String, Option<String>)>,
    pub no_cache: bool,
    /// `--pull`: pull every base image even if it is here.
    pub pull: bool,
    /// `--label`: on the final image.
    pub labels: Vec<(String, String)>,
    pub network: BuildNetwork,
}

/// What a build made.
#[derive(Debug, Clone)]
pub struct BuildOutcome {
    pub image: Digest,
    /// Steps run and steps cached.
    pub ran: usize,
    pub cached: usize,
}
