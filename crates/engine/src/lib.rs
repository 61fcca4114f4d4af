//! The embedded container engine: images, containers, storage. It knows nothing of the CLI
//! or the dashboard; both drive it through [`Engine`] and render what it returns.

// The rooms stay `pub` so the integration tests (tests/) can reach internals; the front
// doors (src/) name only the face below (src/architecture.rs in the berth crate checks it).
pub mod build;
pub mod container;
pub mod error;
pub mod events;
pub mod faults;
pub mod ids;
pub mod image;
pub mod network;
pub mod paths;
pub mod readiness;
pub mod state;
pub mod storage;
pub mod system;
pub mod units;

use std::path::{Path, PathBuf};

// ---- the face: everything a front door (CLI, dashboard, ops) names, from one place ----

// Containers: records, lifecycle options, exec, logs, attach frames, stats, signals.
pub use container::devices::{parse_access as parse_device_access, DeviceMapping, DeviceRule};
pub use container::exec::{ExecOptions, ExecSession};
pub use container::frames::{read_frame, write_frame, Kind as FrameKind};
pub use container::limits::check_oom_score_adj;
pub use container::limits::{check as check_limits, HostLimits};
pub use container::logs::{
    LogConfig, LogEntry, LogPosition, LogReader, Stream as LogStream, LOG_FILE,
};
pub use container::namespaces::NamespaceFlags;
pub use container::runtime::other_cpu::Cpus;
pub use container::runtime::process::parse_signal;
pub use container::security::{
    check_sysctl, CapName, SeccompChoice, SecurityConfig, Ulimit, UlimitName, DEFAULT_SHM_SIZE,
    MAX_SECCOMP_PROFILE,
};
pub use container::spec::{MASKED_PATHS, READONLY_PATHS};
pub use container::stats::{
    between as stats_between, sample_all as sample_all_stats, ContainerStats, StatsSample,
};
pub use container::{blkio::ThrottleDevice, blkio::WeightDevice, cgroup_parent::CgroupParent};
pub use container::{
    go_duration, parse_go_duration, Health, HealthConfig, HealthResult, HealthStatus,
};
pub use container::{
    record::NetworkMode, ContainerConfig, ContainerRecord, ContainerState, CreateOptions,
    MonitorAhead, Resources, Started, Status,
};
pub use container::{AttachStreams, RestartMode, RestartPolicy, UpdateOptions};
// Network, log and runtime options of `run` (`--dns-search`, `--mac-address`, ...).
pub use container::lifecycle::{
    check_annotations, check_dns_option, check_dns_search, check_runtime, check_volume_driver,
};
pub use container::logs::LogDriver;
pub use ids::ContainerId;
pub use image::registry::Platform;
pub use network::mac::MacAddress;
pub use network::record::EndpointExtras;
pub use readiness::poll_ready;

/// Entry points of the processes berth re-executes itself as: the sealed helper that works
/// inside a container's mount namespace.
pub mod sealed {
    pub use crate::container::runtime::sealed::{name_process, reexec_sealed, running_sealed};
}

/// Entry points of the per-container monitor process (`berth` re-executed as it).
pub mod monitor {
    pub use crate::container::monitor::run_if_invoked;
}

// Images: the store's views, history, layer tree, commit, save; unpacking into a tree.
pub use ids::{Digest, ImageRef};
pub use image::unpack::{extract_reporting, ExtractOptions, Rebase, Skipped, SpecialKind};
pub use image::{
    CommitOptions, ImageHistory, ImageLayer, ImageSummary, ImportOptions, LayerTree, Removal,
    SaveFormat, TreeEntry, TreeScope,
};
// dive's efficiency analysis of an image.
pub use image::efficiency::{Efficiency, EfficiencyLayer, WasteKind, WastedPath, TOP_WASTED};

// Registries: references, credentials, login, pull and push.
pub use image::registry::{
    login as registry_login, logout as registry_logout, registry_name, search as registry_search,
    Cancel, CredentialStore, Credentials, PullEvent, PullOptions, PulledImage, PushEvent,
    PushOptions, Reference, DOCKER_HUB,
};

// Networks: records, live state and link counters, addresses, published ports.
pub use network::ipam::{parse_cidr, parse_ip};
pub use network::live::{LinkCounters, LinkWatch, OperState};
pub use network::ports::{
    parse_exposed, parse_private_port, parse_publish, ExposedPort, PortMapping, PortSpec, Proto,
};
pub use network::record::{
    Driver as NetworkDriver, Endpoint, NetworkRecord, BUILTIN_NETWORKS, DEFAULT_NETWORK,
};
pub use network::state::{
    join as join_network_states, EndpointState, LinkRates, NetworkState, PortLink,
};
pub use network::store::CreateNetwork;

// Storage: copy in/out of containers, diffs, directory listings, mounts, volumes, progress.
pub use storage::copy::{
    archive_name, archive_size, pump, CopyInOptions, Packer, PathKind, PathStat, COPY_BUF,
};
pub use storage::diff::{Change, ChangeKind, FileType};
pub use storage::listing::{DirEntry, DirListing, MAX_ENTRIES};
pub use storage::mounts::{MountKind, MountSpec, MountView};
pub use storage::progress::{Counted, Progress};
pub use storage::volumes::{dir_usage, DirUsage, Volume, VolumeInfo};

// System: info, disk usage, prune results, consistency findings.
pub use system::{DiskUsage, Finding, Info as SystemInfo, Pruned, UsageTotals};

// Events: the journal's entries and filters.
pub use events::{Event, EventFilter, ObjectType};

// Builds: `berth build`'s options, progress events and outcome.
pub use build::options::{
    BuildNetwork, BuildOptions, BuildOutcome, DockerfileSource, UnpackedContext,
};
pub use build::progress::{BuildEvent, BuildObserver, StepName};
pub use build::prune::BuildPruned;

// Errors: one error type with a kind, and the context extension.
pub use error::{Context, Error, ErrorKind, Result};

// Units: sizes and text as Docker prints them.
pub use units::{binary_size, human_size, parse_binary_size, truncate};

// The engine root's layout on disk.
pub use paths::EnginePaths;

use state::StateLock;

/// A handle on one engine root. Cheap to create; every process (CLI verb, monitor,
/// dashboard task) opens its own and coordinates through the root's lock.
#[derive(Clone, Debug)]
pub struct Engine {
    paths: EnginePaths,
}

impl Engine {
    pub fn open(root: &Path) -> Result<Engine> {
        Ok(Engine {
            paths: EnginePaths::create(root)?,
        })
    }

    /// The engine on a root that [`Engine::open`] made and resolved, as a monitor is given
    /// it: its start is on every container start's path.
    pub(crate) fn open_made(root: PathBuf) -> Engine {
        Engine {
            paths: EnginePaths::made(root),
        }
    }

    pub fn paths(&self) -> &EnginePaths {
        &self.paths
    }

    /// Takes the engine-wide lock; hold it across every read-check-write of records.
    pub fn lock(&self) -> Result<StateLock> {
        StateLock::acquire(&self.paths.lock_file())
    }
}
