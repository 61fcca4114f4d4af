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
    /// `--platform`: only the host's can be built.
    pub platform: Option<String>,
}

/// What a build made.
#[derive(Debug, Clone)]
pub struct BuildOutcome {
    pub image: Digest,
    /// Steps run and steps cached.
    pub ran: usize,
    pub cached: usize,
}

/// A context unpacked from a tar (`berth build -`), removed when dropped.
#[derive(Debug)]
pub struct UnpackedContext {
    dir: PathBuf,
}

impl UnpackedContext {
    pub fn path(&self) -> &std::path::Path {
        &self.dir
    }
}

impl Drop for UnpackedContext {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            if e.kind() != std::io::ErrorKind::NotFound {
                eprintln!("warning: removing {}: {e}", self.dir.display());
            }
        }
    }
}

impl crate::Engine {
    /// Unpacks a tar build context (plain or compressed) into a private directory of the
    /// engine's `tmp/`, safely (no name escapes it, no device nodes, no setuid bits).
    pub fn unpack_build_context(&self, reader: impl std::io::Read) -> crate::Result<UnpackedContext> {
        use crate::error::Context;
        let dir = self
            .paths()
            .tmp_dir()
            .join(format!("build-context-{}", crate::ids::random_hex64()));
        crate::paths::make_private_dir(&dir, crate::paths::DIR_MODE, false)
            .context(|| format!("creating {}", dir.display()))?;
        let unpacked = UnpackedContext { dir };
        let root = nix::fcntl::open(
            unpacked.path(),
            nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .context(|| format!("opening {}", unpacked.path().display()))?;
        let opts = crate::image::unpack::ExtractOptions {
            whiteouts: false,
            owner: None,
            rebase: None,
            root_meta: false,
            atomic: false,
            specials: false,
            setid: false,
            parallel: false,
            upper_layer: false,
        };
        let input = crate::image::decompress(std::io::BufReader::new(reader))?;
        crate::image::unpack::extract_reporting(input, root, &opts, &mut |_| {})
            .map_err(|e| crate::Error::Build {
                kind: crate::ErrorKind::InvalidArgument,
                message: format!("unpacking the build context from stdin: {e}"),
            })?;
        Ok(unpacked)
    }
}
