//! Docker's API types as data: each struct's fields in Docker's declaration order (moby's
//! `api/types` as the docker 28 CLI decodes them), each field's kind and whether its JSON
//! is `omitempty`. Two users: `shape` fills an inspect object to Docker's whole shape
//! with Docker's zero values, and `Ordered` writes it in Docker's key order; the template
//! engine prints a typed value as Go's `%v` of the struct (see `cli/template`).
//!
//! Described as data rather than as serde structs because berth's inspect builders make
//! JSON values (several features add fields to them), and one table serves the fill, the
//! order, the `%v` printer and the tests' comparison with Docker's own output.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

/// What a field holds, as Go's type says.
#[derive(Debug)]
pub enum Kind {
    Str,
    Int,
    Float,
    Bool,
    /// `time.Time`: RFC 3339 in JSON, `2006-01-02 15:04:05.999999999 +0000 UTC` in `%v`.
    Time,
    /// `time.Duration`: nanoseconds in JSON, `1m30s` in `%v`.
    Duration,
    Struct(&'static Struct),
    /// A pointer: JSON `null` when nil.
    Ptr(&'static Kind),
    /// A slice: JSON `null` when nil.
    Slice(&'static Kind),
    /// A fixed-size array (`ConsoleSize [2]uint`): never nil.
    Array(usize, &'static Kind),
    /// A map with string keys: JSON `null` when nil.
    Map(&'static Kind),
    /// `interface{}` or a type berth does not describe.
    Any,
}

/// When a field is left out of the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Omit {
    /// Always written.
    Never,
    /// `omitempty`: left out when empty (false, 0, "", nil, empty slice or map).
    Empty,
    /// A field of docker 28's type that API 1.41 (dockerd 20.10, what berth answers as)
    /// does not write: not filled in, but `%v` prints it, as the docker 28 CLI does.
    Newer,
}

#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub omit: Omit,
    /// An embedded struct: its fields sit in the parent's JSON object, and `%v` prints
    /// them as a nested `{...}`.
    pub embedded: bool,
}

#[derive(Debug)]
pub struct Struct {
    pub name: &'static str,
    pub fields: &'static [Field],
}

const fn f(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        omit: Omit::Never,
        embedded: false,
    }
}

const fn o(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        omit: Omit::Empty,
        embedded: false,
    }
}

const fn newer(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        omit: Omit::Newer,
        embedded: false,
    }
}

const fn embed(s: &'static Struct) -> Field {
    Field {
        name: s.name,
        kind: Kind::Struct(s),
        omit: Omit::Never,
        embedded: true,
    }
}

use Kind::{Any, Bool, Duration, Int, Str, Time};

const STRS: Kind = Kind::Slice(&Str);
const STR_MAP: Kind = Kind::Map(&Str);
const EMPTY_MAP: Kind = Kind::Map(&Kind::Struct(&EMPTY));

/// `struct{}`, as the values of ExposedPorts and Volumes.
pub static EMPTY: Struct = Struct {
    name: "struct {}",
    fields: &[],
};

// ---- container inspect (container.InspectResponse) ----

pub static CONTAINER: Struct = Struct {
    name: "InspectResponse",
    fields: &[
        embed(&CONTAINER_BASE),
        f("Mounts", Kind::Slice(&Kind::Struct(&MOUNT_POINT))),
        f("Config", Kind::Ptr(&Kind::Struct(&CONFIG))),
        f(
            "NetworkSettings",
            Kind::Ptr(&Kind::Struct(&NETWORK_SETTINGS)),
        ),
        newer("ImageManifestDescriptor", Kind::Ptr(&Any)),
    ],
};

pub static CONTAINER_BASE: Struct = Struct {
    name: "ContainerJSONBase",
    fields: &[
        f("Id", Str),
        f("Created", Str),
        f("Path", Str),
        f("Args", STRS),
        f("State", Kind::Ptr(&Kind::Struct(&STATE))),
        f("Image", Str),
        f("ResolvConfPath", Str),
        f("HostnamePath", Str),
        f("HostsPath", Str),
        f("LogPath", Str),
        o("Node", Kind::Ptr(&Any)),
        f("Name", Str),
        f("RestartCount", Int),
        f("Driver", Str),
        f("Platform", Str),
        f("MountLabel", Str),
        f("ProcessLabel", Str),
        f("AppArmorProfile", Str),
        f("ExecIDs", STRS),
        f("HostConfig", Kind::Ptr(&Kind::Struct(&HOST_CONFIG))),
        f("GraphDriver", Kind::Struct(&GRAPH_DRIVER)),
        o("SizeRw", Kind::Ptr(&Int)),
        o("SizeRootFs", Kind::Ptr(&Int)),
    ],
};

pub static STATE: Struct = Struct {
    name: "State",
    fields: &[
        f("Status", Str),
        f("Running", Bool),
        f("Paused", Bool),
        f("Restarting", Bool),
        f("OOMKilled", Bool),
        f("Dead", Bool),
        f("Pid", Int),
        f("ExitCode", Int),
        f("Error", Str),
        f("StartedAt", Str),
        f("FinishedAt", Str),
        o("Health", Kind::Ptr(&Kind::Struct(&HEALTH))),
    ],
};

pub static HEALTH: Struct = Struct {
    name: "Health",
    fields: &[
        f("Status", Str),
        f("FailingStreak", Int),
        f(
            "Log",
            Kind::Slice(&Kind::Ptr(&Kind::Struct(&HEALTH_RESULT))),
        ),
    ],
};

pub static HEALTH_RESULT: Struct = Struct {
    name: "HealthcheckResult",
    fields: &[
        f("Start", Time),
        f("End", Time),
        f("ExitCode", Int),
        f("Output", Str),
    ],
};

pub static GRAPH_DRIVER: Struct = Struct {
    name: "DriverData",
    fields: &[f("Data", STR_MAP), f("Name", Str)],
};

pub static MOUNT_POINT: Struct = Struct {
    name: "MountPoint",
    fields: &[
        o("Type", Str),
        o("Name", Str),
        f("Source", Str),
        f("Destination", Str),
        o("Driver", Str),
        f("Mode", Str),
        f("RW", Bool),
        f("Propagation", Str),
    ],
};

pub static HOST_CONFIG: Struct = Struct {
    name: "HostConfig",
    fields: &[
        f("Binds", STRS),
        f("ContainerIDFile", Str),
        f("LogConfig", Kind::Struct(&LOG_CONFIG)),
        f("NetworkMode", Str),
        f(
            "PortBindings",
            Kind::Map(&Kind::Slice(&Kind::Struct(&PORT_BINDING))),
        ),
        f("RestartPolicy", Kind::Struct(&RESTART_POLICY)),
        f("AutoRemove", Bool),
        f("VolumeDriver", Str),
        f("VolumesFrom", STRS),
        f("ConsoleSize", Kind::Array(2, &Int)),
        o("Annotations", STR_MAP),
        f("CapAdd", STRS),
        f("CapDrop", STRS),
        f("CgroupnsMode", Str),
        f("Dns", STRS),
        f("DnsOptions", STRS),
        f("DnsSearch", STRS),
        f("ExtraHosts", STRS),
        f("GroupAdd", STRS),
        f("IpcMode", Str),
        f("Cgroup", Str),
        f("Links", STRS),
        f("OomScoreAdj", Int),
        f("PidMode", Str),
        f("Privileged", Bool),
        f("PublishAllPorts", Bool),
        f("ReadonlyRootfs", Bool),
        f("SecurityOpt", STRS),
        o("StorageOpt", STR_MAP),
        o("Tmpfs", STR_MAP),
        f("UTSMode", Str),
        f("UsernsMode", Str),
        f("ShmSize", Int),
        o("Sysctls", STR_MAP),
        o("Runtime", Str),
        f("Isolation", Str),
        embed(&RESOURCES),
        o("Mounts", Kind::Slice(&Kind::Struct(&MOUNT))),
        f("MaskedPaths", STRS),
        f("ReadonlyPaths", STRS),
        o("Init", Kind::Ptr(&Bool)),
    ],
};

pub static RESOURCES: Struct = Struct {
    name: "Resources",
    fields: &[
        f("CpuShares", Int),
        f("Memory", Int),
        f("NanoCpus", Int),
        f("CgroupParent", Str),
        f("BlkioWeight", Int),
        f(
            "BlkioWeightDevice",
            Kind::Slice(&Kind::Ptr(&Kind::Struct(&WEIGHT_DEVICE))),
        ),
        f("BlkioDeviceReadBps", THROTTLES),
        f("BlkioDeviceWriteBps", THROTTLES),
        f("BlkioDeviceReadIOps", THROTTLES),
        f("BlkioDeviceWriteIOps", THROTTLES),
        f("CpuPeriod", Int),
        f("CpuQuota", Int),
        f("CpuRealtimePeriod", Int),
        f("CpuRealtimeRuntime", Int),
        f("CpusetCpus", Str),
        f("CpusetMems", Str),
        f("Devices", Kind::Slice(&Kind::Struct(&DEVICE_MAPPING))),
        f("DeviceCgroupRules", STRS),
        f(
            "DeviceRequests",
            Kind::Slice(&Kind::Struct(&DEVICE_REQUEST)),
        ),
        o("KernelMemory", Int),
        o("KernelMemoryTCP", Int),
        f("MemoryReservation", Int),
        f("MemorySwap", Int),
        f("MemorySwappiness", Kind::Ptr(&Int)),
        f("OomKillDisable", Kind::Ptr(&Bool)),
        f("PidsLimit", Kind::Ptr(&Int)),
        f("Ulimits", Kind::Slice(&Kind::Ptr(&Kind::Struct(&ULIMIT)))),
        f("CpuCount", Int),
        f("CpuPercent", Int),
        f("IOMaximumIOps", Int),
        f("IOMaximumBandwidth", Int),
    ],
};

const THROTTLES: Kind = Kind::Slice(&Kind::Ptr(&Kind::Struct(&THROTTLE_DEVICE)));

pub static WEIGHT_DEVICE: Struct = Struct {
    name: "WeightDevice",
    fields: &[f("Path", Str), f("Weight", Int)],
};

pub static THROTTLE_DEVICE: Struct = Struct {
    name: "ThrottleDevice",
    fields: &[f("Path", Str), f("Rate", Int)],
};

pub static DEVICE_MAPPING: Struct = Struct {
    name: "DeviceMapping",
    fields: &[
        f("PathOnHost", Str),
        f("PathInContainer", Str),
        f("CgroupPermissions", Str),
    ],
};

pub static DEVICE_REQUEST: Struct = Struct {
    name: "DeviceRequest",
    fields: &[
        f("Driver", Str),
        f("Count", Int),
        f("DeviceIDs", STRS),
        f("Capabilities", Kind::Slice(&STRS)),
        f("Options", STR_MAP),
    ],
};

pub static ULIMIT: Struct = Struct {
    name: "Ulimit",
    fields: &[f("Name", Str), f("Hard", Int), f("Soft", Int)],
};

pub static LOG_CONFIG: Struct = Struct {
    name: "LogConfig",
    fields: &[f("Type", Str), f("Config", STR_MAP)],
};

pub static RESTART_POLICY: Struct = Struct {
    name: "RestartPolicy",
    fields: &[f("Name", Str), f("MaximumRetryCount", Int)],
};

pub static PORT_BINDING: Struct = Struct {
    name: "PortBinding",
    fields: &[f("HostIp", Str), f("HostPort", Str)],
};

/// `HostConfig.Mounts`: a `--mount` as asked for.
pub static MOUNT: Struct = Struct {
    name: "Mount",
    fields: &[
        o("Type", Str),
        o("Source", Str),
        o("Target", Str),
        o("ReadOnly", Bool),
        o("Consistency", Str),
        o("BindOptions", Kind::Ptr(&Any)),
        o("VolumeOptions", Kind::Ptr(&Any)),
        newer("ImageOptions", Kind::Ptr(&Any)),
        o("TmpfsOptions", Kind::Ptr(&Any)),
        o("ClusterOptions", Kind::Ptr(&Any)),
    ],
};

pub static CONFIG: Struct = Struct {
    name: "Config",
    fields: &[
        f("Hostname", Str),
        f("Domainname", Str),
        f("User", Str),
        f("AttachStdin", Bool),
        f("AttachStdout", Bool),
        f("AttachStderr", Bool),
        o("ExposedPorts", EMPTY_MAP),
        f("Tty", Bool),
        f("OpenStdin", Bool),
        f("StdinOnce", Bool),
        f("Env", STRS),
        f("Cmd", STRS),
        o("Healthcheck", Kind::Ptr(&Kind::Struct(&HEALTH_CONFIG))),
        o("ArgsEscaped", Bool),
        f("Image", Str),
        f("Volumes", EMPTY_MAP),
        f("WorkingDir", Str),
        f("Entrypoint", STRS),
        o("NetworkDisabled", Bool),
        o("MacAddress", Str),
        f("OnBuild", STRS),
        f("Labels", STR_MAP),
        o("StopSignal", Str),
        o("StopTimeout", Kind::Ptr(&Int)),
        o("Shell", STRS),
    ],
};

pub static HEALTH_CONFIG: Struct = Struct {
    name: "HealthConfig",
    fields: &[
        o("Test", STRS),
        o("Interval", Duration),
        o("Timeout", Duration),
        o("StartPeriod", Duration),
        o("StartInterval", Duration),
        o("Retries", Int),
    ],
};

pub static NETWORK_SETTINGS: Struct = Struct {
    name: "NetworkSettings",
    fields: &[
        embed(&NETWORK_SETTINGS_BASE),
        embed(&DEFAULT_NETWORK_SETTINGS),
        f(
            "Networks",
            Kind::Map(&Kind::Ptr(&Kind::Struct(&ENDPOINT_SETTINGS))),
        ),
    ],
};

pub static NETWORK_SETTINGS_BASE: Struct = Struct {
    name: "NetworkSettingsBase",
    fields: &[
        f("Bridge", Str),
        f("SandboxID", Str),
        f("SandboxKey", Str),
        f(
            "Ports",
            Kind::Map(&Kind::Slice(&Kind::Struct(&PORT_BINDING))),
        ),
        f("HairpinMode", Bool),
        f("LinkLocalIPv6Address", Str),
        f("LinkLocalIPv6PrefixLen", Int),
        f("SecondaryIPAddresses", Kind::Slice(&Kind::Struct(&ADDRESS))),
        f(
            "SecondaryIPv6Addresses",
            Kind::Slice(&Kind::Struct(&ADDRESS)),
        ),
    ],
};

pub static DEFAULT_NETWORK_SETTINGS: Struct = Struct {
    name: "DefaultNetworkSettings",
    fields: &[
        f("EndpointID", Str),
        f("Gateway", Str),
        f("GlobalIPv6Address", Str),
        f("GlobalIPv6PrefixLen", Int),
        f("IPAddress", Str),
        f("IPPrefixLen", Int),
        f("IPv6Gateway", Str),
        f("MacAddress", Str),
    ],
};

pub static ADDRESS: Struct = Struct {
    name: "Address",
    fields: &[f("Addr", Str), f("PrefixLen", Int)],
};

pub static ENDPOINT_SETTINGS: Struct = Struct {
    name: "EndpointSettings",
    fields: &[
        f("IPAMConfig", Kind::Ptr(&Kind::Struct(&ENDPOINT_IPAM))),
        f("Links", STRS),
        f("Aliases", STRS),
        f("MacAddress", Str),
        f("DriverOpts", STR_MAP),
        newer("GwPriority", Int),
        f("NetworkID", Str),
        f("EndpointID", Str),
        f("Gateway", Str),
        f("IPAddress", Str),
        f("IPPrefixLen", Int),
        f("IPv6Gateway", Str),
        f("GlobalIPv6Address", Str),
        f("GlobalIPv6PrefixLen", Int),
        newer("DNSNames", STRS),
    ],
};

pub static ENDPOINT_IPAM: Struct = Struct {
    name: "EndpointIPAMConfig",
    fields: &[
        o("IPv4Address", Str),
        o("IPv6Address", Str),
        o("LinkLocalIPs", STRS),
    ],
};

// ---- image inspect (API 1.41's ImageInspect: its Config is a container Config) ----

pub static IMAGE: Struct = Struct {
    name: "InspectResponse",
    fields: &[
        f("Id", Str),
        f("RepoTags", STRS),
        f("RepoDigests", STRS),
        f("Parent", Str),
        f("Comment", Str),
        o("Created", Str),
        o("Container", Str),
        o("ContainerConfig", Kind::Ptr(&Kind::Struct(&CONFIG))),
        o("DockerVersion", Str),
        f("Author", Str),
        f("Config", Kind::Ptr(&Kind::Struct(&CONFIG))),
        f("Architecture", Str),
        o("Variant", Str),
        f("Os", Str),
        o("OsVersion", Str),
        f("Size", Int),
        o("VirtualSize", Int),
        f("GraphDriver", Kind::Struct(&GRAPH_DRIVER)),
        f("RootFS", Kind::Struct(&ROOT_FS)),
        f("Metadata", Kind::Struct(&IMAGE_METADATA)),
        o("Descriptor", Kind::Ptr(&Any)),
        o("Manifests", Kind::Slice(&Any)),
    ],
};

pub static ROOT_FS: Struct = Struct {
    name: "RootFS",
    fields: &[f("Type", Str), o("Layers", STRS)],
};

pub static IMAGE_METADATA: Struct = Struct {
    name: "Metadata",
    fields: &[f("LastTagTime", Time)],
};

// ---- volume inspect (volume.Volume) ----

pub static VOLUME: Struct = Struct {
    name: "Volume",
    fields: &[
        o("ClusterVolume", Kind::Ptr(&Any)),
        o("CreatedAt", Str),
        f("Driver", Str),
        f("Labels", STR_MAP),
        f("Mountpoint", Str),
        f("Name", Str),
        f("Options", STR_MAP),
        f("Scope", Str),
        o("Status", Kind::Map(&Any)),
        o("UsageData", Kind::Ptr(&Any)),
    ],
};

// ---- network inspect (network.Inspect) ----

pub static NETWORK: Struct = Struct {
    name: "Inspect",
    fields: &[
        f("Name", Str),
        f("Id", Str),
        f("Created", Time),
        f("Scope", Str),
        f("Driver", Str),
        newer("EnableIPv4", Bool),
        f("EnableIPv6", Bool),
        f("IPAM", Kind::Struct(&IPAM)),
        f("Internal", Bool),
        f("Attachable", Bool),
        f("Ingress", Bool),
        f("ConfigFrom", Kind::Struct(&CONFIG_REFERENCE)),
        f("ConfigOnly", Bool),
        f("Containers", Kind::Map(&Kind::Struct(&ENDPOINT_RESOURCE))),
        f("Options", STR_MAP),
        f("Labels", STR_MAP),
        o("Peers", Kind::Slice(&Any)),
        o("Services", Kind::Map(&Any)),
    ],
};

pub static IPAM: Struct = Struct {
    name: "IPAM",
    fields: &[
        f("Driver", Str),
        f("Options", STR_MAP),
        f("Config", Kind::Slice(&Kind::Struct(&IPAM_CONFIG))),
    ],
};

pub static IPAM_CONFIG: Struct = Struct {
    name: "IPAMConfig",
    fields: &[
        o("Subnet", Str),
        o("IPRange", Str),
        o("Gateway", Str),
        o("AuxiliaryAddresses", STR_MAP),
    ],
};

pub static CONFIG_REFERENCE: Struct = Struct {
    name: "ConfigReference",
    fields: &[f("Network", Str)],
};

pub static ENDPOINT_RESOURCE: Struct = Struct {
    name: "EndpointResource",
    fields: &[
        f("Name", Str),
        f("EndpointID", Str),
        f("MacAddress", Str),
        f("IPv4Address", Str),
        f("IPv6Address", Str),
    ],
};

/// Keys berth writes that Docker's types lack, berth's own: the template and the
/// comparison with Docker leave them be.
pub const BERTH_KEYS: &[&str] = &["Berth", "Anonymous", "UsedBy"];

impl Struct {
    /// The fields as they sit in the JSON object: embedded structs' fields inline.
    pub fn json_fields(&'static self) -> Vec<&'static Field> {
        let mut out = Vec::new();
        for field in self.fields {
            match (&field.kind, field.embedded) {
                (Kind::Struct(inner), true) => out.extend(inner.json_fields()),
                _ => out.push(field),
            }
        }
        out
    }
}

/// Docker's zero value of `kind` in JSON: nil pointers, slices and maps are `null`.
pub fn zero(kind: &'static Kind) -> Value {
    match kind {
        Kind::Str => Value::from(""),
        Kind::Int | Kind::Duration => Value::from(0),
        Kind::Float => Value::from(0.0),
        Kind::Bool => Value::Bool(false),
        Kind::Time => Value::from("0001-01-01T00:00:00Z"),
        Kind::Struct(s) => {
            let mut value = Value::Object(serde_json::Map::new());
            fill(&mut value, s, false);
            value
        }
        Kind::Array(n, item) => Value::Array((0..*n).map(|_| zero(item)).collect()),
        Kind::Ptr(_) | Kind::Slice(_) | Kind::Map(_) | Kind::Any => Value::Null,
    }
}

/// Fills every absent field of `value` (an object of type `ty`, and what it holds) with
/// Docker's zero value; `all` also fills the `omitempty` and newer ones (the view a Go
/// template sees, where every field of the struct exists).
pub fn fill(value: &mut Value, ty: &'static Struct, all: bool) {
    let Value::Object(map) = value else { return };
    for field in ty.json_fields() {
        match map.get_mut(field.name) {
            Some(inner) => fill_kind(inner, &field.kind, all),
            None if all || field.omit == Omit::Never => {
                let mut zero = zero(&field.kind);
                fill_kind(&mut zero, &field.kind, all);
                map.insert(field.name.to_owned(), zero);
            }
            None => {}
        }
    }
}

fn fill_kind(value: &mut Value, kind: &'static Kind, all: bool) {
    match (kind, value) {
        (Kind::Struct(s), value) => fill(value, s, all),
        (Kind::Ptr(inner), value) if !value.is_null() => fill_kind(value, inner, all),
        (Kind::Slice(item) | Kind::Array(_, item), Value::Array(items)) => {
            items.iter_mut().for_each(|v| fill_kind(v, item, all))
        }
        (Kind::Map(item), Value::Object(map)) => {
            map.values_mut().for_each(|v| fill_kind(v, item, all))
        }
        _ => {}
    }
}

/// Which of Docker's inspect types an inspect object is (berth's builders make them).
pub fn recognise(value: &Value) -> Option<&'static Struct> {
    let has = |key| value.get(key).is_some();
    if has("HostConfig") && has("State") {
        Some(&CONTAINER)
    } else if has("RootFS") {
        Some(&IMAGE)
    } else if has("IPAM") {
        Some(&NETWORK)
    } else if has("Mountpoint") {
        Some(&VOLUME)
    } else {
        None
    }
}

/// Go's `omitempty` test: false, 0, "", nil, and empty slices and maps.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// A value written as Docker's encoder writes its type: fields in declaration order,
/// `omitempty` ones left out when empty, keys berth adds after Docker's.
pub struct Ordered<'a> {
    pub value: &'a Value,
    pub kind: &'static Kind,
}

impl<'a> Ordered<'a> {
    pub fn of(value: &'a Value, ty: &'static Struct) -> Ordered<'a> {
        // A `Kind` to point at: the struct by reference, made once per type.
        Ordered {
            value,
            kind: struct_kind(ty),
        }
    }
}

/// `Kind::Struct(ty)` with a 'static life, for the top-level types.
pub fn struct_kind(ty: &'static Struct) -> &'static Kind {
    static KINDS: [(&Struct, Kind); 4] = [
        (&CONTAINER, Kind::Struct(&CONTAINER)),
        (&IMAGE, Kind::Struct(&IMAGE)),
        (&NETWORK, Kind::Struct(&NETWORK)),
        (&VOLUME, Kind::Struct(&VOLUME)),
    ];
    KINDS
        .iter()
        .find(|(s, _)| std::ptr::eq(*s, ty))
        .map_or(&Kind::Any, |(_, k)| k)
}

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let typed = |value, kind| Ordered { value, kind };
        match (self.kind, self.value) {
            (Kind::Struct(ty), Value::Object(map)) => {
                let fields = ty.json_fields();
                let mut out = serializer.serialize_map(None)?;
                for field in &fields {
                    let Some(value) = map.get(field.name) else {
                        continue;
                    };
                    if field.omit != Omit::Never && is_empty(value) {
                        continue;
                    }
                    out.serialize_entry(field.name, &typed(value, &field.kind))?;
                }
                for (key, value) in map {
                    if !fields.iter().any(|f| f.name == key) {
                        out.serialize_entry(key, value)?;
                    }
                }
                out.end()
            }
            (Kind::Ptr(inner), value) if !value.is_null() => {
                typed(value, inner).serialize(serializer)
            }
            (Kind::Slice(item) | Kind::Array(_, item), Value::Array(items)) => {
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for value in items {
                    out.serialize_element(&typed(value, item))?;
                }
                out.end()
            }
            (Kind::Map(item), Value::Object(map)) => {
                let mut out = serializer.serialize_map(Some(map.len()))?;
                for (key, value) in map {
                    out.serialize_entry(key, &typed(value, item))?;
                }
                out.end()
            }
            (_, value) => value.serialize(serializer),
        }
    }
}

/// Fills an inspect object of type `ty` to Docker's whole shape: the one line each
/// inspect builder ends with.
pub fn shape(value: &mut Value, ty: &'static Struct) {
    fill(value, ty, false);
}

/// `shape` for a builder that ends in its value.
pub fn shaped(ty: &'static Struct, mut value: Value) -> Value {
    shape(&mut value, ty);
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_fill_gives_dockers_zero_values_and_keeps_what_is_there() {
        let mut value =
            json!({"State": {"Status": "created"}, "HostConfig": {"Memory": 5}, "Berth": 1});
        shape(&mut value, &CONTAINER);
        assert_eq!(value["State"]["Status"], "created");
        assert_eq!(value["State"]["Pid"], 0);
        assert!(
            value["State"].get("Health").is_none(),
            "omitempty stays out"
        );
        assert_eq!(value["HostConfig"]["Memory"], 5);
        assert_eq!(value["HostConfig"]["PidsLimit"], Value::Null);
        assert_eq!(value["HostConfig"]["ConsoleSize"], json!([0, 0]));
        assert_eq!(
            value["HostConfig"]["RestartPolicy"],
            json!({"Name": "", "MaximumRetryCount": 0})
        );
        assert_eq!(value["Config"], Value::Null, "a nil pointer");
        assert_eq!(value["GraphDriver"], json!({"Data": null, "Name": ""}));
        assert_eq!(value["Berth"], 1);
    }

    #[test]
    fn ordered_writes_dockers_order_and_leaves_out_empty_omitempty_fields() {
        let value = json!({"Name": "/x", "Id": "abc", "State": {"Health": null, "Status": "running"},
            "Berth": {"b": 1}, "Config": {"StopSignal": "", "Labels": {"z": "1", "a": "2"}}});
        let text = serde_json::to_string(&Ordered::of(&value, &CONTAINER)).expect("json");
        assert_eq!(
            text,
            r#"{"Id":"abc","State":{"Status":"running"},"Name":"/x","Config":{"Labels":{"a":"2","z":"1"}},"Berth":{"b":1}}"#
        );
    }
}
