//! Run options as Docker reads them, for every door that creates containers (flags, and
//! next compose files and API requests): memory sizes, CPU counts, env files, labels,
//! extra hosts, and the security and device options (capabilities, devices, ulimits,
//! sysctls, security options).

use std::collections::BTreeMap;
use std::path::Path;

use crate::engine::{
    check_sysctl, parse_device_access, CapName, DeviceMapping, DeviceRule, Error, HealthConfig,
    RestartPolicy, Result, SeccompChoice, SecurityConfig, Ulimit, UlimitName, MAX_SECCOMP_PROFILE,
};
use crate::engine::{EndpointExtras, LogConfig, MacAddress};

/// Docker's smallest memory limit; below it a container can't even start.
const MIN_MEMORY: i64 = 6 * 1024 * 1024;

/// A byte size like `64m`, `1g`, `512k`, `1048576`, `64mb` (binary units, as Docker's).
pub fn parse_memory(text: &str) -> Result<i64> {
    let bad = || {
        Error::invalid(
            "memory value",
            text,
            "use a whole number of bytes with an optional unit b, k, m or g (e.g. 64m, 1g)",
        )
    };
    let bytes = crate::engine::parse_binary_size(text)
        .and_then(|b| i64::try_from(b).ok())
        .ok_or_else(bad)?;
    if bytes < MIN_MEMORY {
        return Err(Error::invalid(
            "memory value",
            text,
            "Minimum memory limit allowed is 6MB",
        ));
    }
    Ok(bytes)
}

/// `--memory-swap`: a size as `--memory`'s, or -1 for unlimited swap.
pub fn parse_memory_swap(text: &str) -> Result<i64> {
    if text.trim() == "-1" {
        return Ok(-1);
    }
    parse_size("--memory-swap value", text)
}

/// A byte size without Docker's memory minimum (the engine's check has its wording).
pub fn parse_size(what: &'static str, text: &str) -> Result<i64> {
    crate::engine::parse_binary_size(text)
        .and_then(|b| i64::try_from(b).ok())
        .ok_or_else(|| {
            Error::invalid(
                what,
                text,
                "use a whole number of bytes with an optional unit b, k, m or g (e.g. 64m, 1g)",
            )
        })
}

/// The limits of `run`, `create` and `update`, as given on the command line: each
/// `None` is a flag left out.
#[derive(Debug, Default)]
pub struct LimitsText<'a> {
    pub memory: Option<&'a str>,
    pub memory_swap: Option<&'a str>,
    pub memory_reservation: Option<&'a str>,
    pub cpus: Option<&'a str>,
    pub cpu_shares: Option<i64>,
    pub cpu_period: Option<i64>,
    pub cpu_quota: Option<i64>,
    pub cpuset_cpus: Option<&'a str>,
    pub cpuset_mems: Option<&'a str>,
    pub blkio_weight: Option<u16>,
    pub pids_limit: Option<i64>,
    pub oom_kill_disable: bool,
    pub cpu_rt_period: Option<i64>,
    pub cpu_rt_runtime: Option<i64>,
}

/// Reads the limits' values; Docker's rules across them are the engine's
/// (`limits::check`).
pub fn parse_limits(t: &LimitsText) -> Result<crate::engine::Resources> {
    Ok(crate::engine::Resources {
        memory: t.memory.map(parse_memory).transpose()?,
        nano_cpus: t.cpus.map(parse_cpus).transpose()?,
        pids_limit: t.pids_limit,
        memory_swap: t.memory_swap.map(parse_memory_swap).transpose()?,
        memory_reservation: t
            .memory_reservation
            .map(|v| parse_size("--memory-reservation value", v))
            .transpose()?,
        oom_kill_disable: t.oom_kill_disable,
        cpu_shares: t.cpu_shares,
        cpu_period: t.cpu_period,
        cpu_quota: t.cpu_quota,
        cpuset_cpus: t.cpuset_cpus.map(str::to_owned),
        cpuset_mems: t.cpuset_mems.map(str::to_owned),
        blkio_weight: t.blkio_weight,
        cpu_rt_period: t.cpu_rt_period,
        cpu_rt_runtime: t.cpu_rt_runtime,
        // The flag's alone here; create marks berth's default.
        pids_limit_defaulted: false,
        ..Default::default()
    })
}

/// Settles the limits of a container about to be created (`run`, `create`, a compose
/// service), once they are read: the pids limit asked for, else the settings', else
/// berth's default, marked as defaulted when none was asked; then Docker's rules and this
/// host's abilities, dropping what it can't apply. Returns the `WARNING:` lines to show.
pub fn settle_limits(
    resources: &mut crate::engine::Resources,
    pids_asked: Option<i64>,
) -> Result<Vec<String>> {
    resources.pids_limit = crate::engine::Resources::pids_limit_from(
        pids_asked,
        crate::settings::Settings::load()?.pids_limit,
    );
    resources.pids_limit_defaulted = pids_asked.is_none();
    let host = crate::engine::HostLimits::detect();
    Ok(crate::engine::check_limits(resources, &host, false)?
        .into_iter()
        .map(|warning| format!("WARNING: {warning}"))
        .collect())
}

/// The resource flags of `run` and `create` alone, as given: per-device block I/O,
/// `--cgroup-parent`, `--memory-swappiness`, `--kernel-memory`.
#[derive(Debug, Default)]
pub struct DeviceLimitsText<'a> {
    pub blkio_weight_device: &'a [String],
    pub device_read_bps: &'a [String],
    pub device_write_bps: &'a [String],
    pub device_read_iops: &'a [String],
    pub device_write_iops: &'a [String],
    pub cgroup_parent: Option<&'a str>,
    /// -1 is unset, as Docker's default.
    pub memory_swappiness: Option<i64>,
    pub kernel_memory: Option<&'a str>,
}

/// Reads those flags into `r`, as Docker's CLI does; returns the warnings to show
/// (`--kernel-memory` is taken and ignored, as Docker's since API 1.42). The host's side
/// (devices, what the cgroups offer) is the engine's check.
pub fn parse_device_limits(
    t: &DeviceLimitsText,
    r: &mut crate::engine::Resources,
) -> Result<Vec<String>> {
    use crate::engine::{ThrottleDevice, WeightDevice};
    let mut warnings = Vec::new();
    r.blkio_weight_device = t
        .blkio_weight_device
        .iter()
        .map(|v| {
            let (path, weight) = device_and_value("--blkio-weight-device value", v)?;
            let weight: u16 = weight.parse().map_err(|_| {
                Error::invalid(
                    "--blkio-weight-device value",
                    v,
                    "invalid weight for device: use DEVICE:WEIGHT, the weight 10 to 1000 (0 clears it)",
                )
            })?;
            Ok(WeightDevice { path, weight })
        })
        .collect::<Result<_>>()?;
    let bps = |what: &'static str, values: &[String]| -> Result<Vec<ThrottleDevice>> {
        values
            .iter()
            .map(|v| {
                let (path, rate) = device_and_value(what, v)?;
                let rate = crate::engine::parse_binary_size(&rate).ok_or_else(|| {
                    Error::invalid(
                        what,
                        v,
                        "invalid rate for device: use DEVICE:RATE, the rate a whole number with an optional unit kb, mb or gb (e.g. /dev/sda:1mb)",
                    )
                })?;
                Ok(ThrottleDevice { path, rate })
            })
            .collect()
    };
    let iops = |what: &'static str, values: &[String]| -> Result<Vec<ThrottleDevice>> {
        values
            .iter()
            .map(|v| {
                let (path, rate) = device_and_value(what, v)?;
                let rate = rate.parse::<u64>().map_err(|_| {
                    Error::invalid(
                        what,
                        v,
                        "invalid rate for device: use DEVICE:RATE, the rate a whole number of I/O operations per second",
                    )
                })?;
                Ok(ThrottleDevice { path, rate })
            })
            .collect()
    };
    r.blkio_device_read_bps = bps("--device-read-bps value", t.device_read_bps)?;
    r.blkio_device_write_bps = bps("--device-write-bps value", t.device_write_bps)?;
    r.blkio_device_read_iops = iops("--device-read-iops value", t.device_read_iops)?;
    r.blkio_device_write_iops = iops("--device-write-iops value", t.device_write_iops)?;
    r.cgroup_parent = t
        .cgroup_parent
        .filter(|p| !p.is_empty())
        .map(crate::engine::CgroupParent::parse)
        .transpose()?;
    r.memory_swappiness = match t.memory_swappiness {
        None | Some(-1) => None,
        Some(s) if (0..=100).contains(&s) => Some(s),
        Some(s) => {
            return Err(Error::invalid(
                "--memory-swappiness value",
                s.to_string(),
                format!("invalid value: {s}. Valid memory swappiness range is 0-100"),
            ))
        }
    };
    if let Some(text) = t.kernel_memory {
        parse_size("--kernel-memory value", text)?;
        warnings.push(kernel_memory_warning());
    }
    Ok(warnings)
}

/// What `--kernel-memory` gets, on `run`, `create` and `update` alike.
pub fn kernel_memory_warning() -> String {
    "WARNING: Kernel memory limits (--kernel-memory) are deprecated and not supported: \
     Limitation discarded (kernel memory counts toward --memory)."
        .to_owned()
}

/// `DEVICE:VALUE` of the per-device flags, as Docker's CLI reads it: the device a path
/// under /dev, split at the first colon.
fn device_and_value(what: &'static str, text: &str) -> Result<(String, String)> {
    match text.split_once(':') {
        Some((path, value)) if !path.is_empty() => {
            if !path.starts_with("/dev/") {
                return Err(Error::invalid(
                    what,
                    text,
                    "bad format for device path: use DEVICE:VALUE with the device under /dev",
                ));
            }
            Ok((path.to_owned(), value.to_owned()))
        }
        _ => Err(Error::invalid(
            what,
            text,
            "bad format: use DEVICE:VALUE (e.g. /dev/sda:1mb)",
        )),
    }
}

/// `--oom-score-adj`: Docker's range.
pub fn parse_oom_score_adj(value: Option<i64>) -> Result<i64> {
    let value = value.unwrap_or(0);
    crate::engine::check_oom_score_adj(value)?;
    Ok(value)
}

/// A CPU count like `0.5` or `2`, as nano-CPUs, within what this machine has.
pub fn parse_cpus(text: &str) -> Result<i64> {
    let available = std::thread::available_parallelism().map_or(1, |n| n.get());
    let value: f64 = text
        .trim()
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| {
            Error::invalid(
                "--cpus value",
                text,
                "use a decimal number of CPUs, e.g. 0.5",
            )
        })?;
    if value < 0.01 || value > available as f64 {
        return Err(Error::invalid(
            "--cpus value",
            text,
            format!("the range of CPUs is from 0.01 to {available}.00, as there are only {available} CPUs available"),
        ));
    }
    Ok((value * 1e9).round() as i64)
}

/// `KEY=VALUE` stays; a bare `KEY` takes its value from this environment, or is dropped.
pub fn resolve_env(entries: &[String]) -> Vec<String> {
    entries
        .iter()
        .filter_map(|e| {
            if e.contains('=') {
                Some(e.clone())
            } else {
                std::env::var(e).ok().map(|v| format!("{e}={v}"))
            }
        })
        .collect()
}

/// Reads an env file: `KEY=VALUE` lines, `#` comments and blank lines ignored.
pub fn read_env_file(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        context: format!("reading env file {}", path.display()),
        err: e,
    })?;
    let lines: Vec<String> = text
        .lines()
        .map(str::trim_start)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    for line in &lines {
        let key = line.split('=').next().unwrap_or("");
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(Error::invalid(
                "env file line",
                line,
                format!(
                    "variable names can't be empty or contain spaces ({})",
                    path.display()
                ),
            ));
        }
    }
    Ok(resolve_env(&lines))
}

/// `--label-file`: `KEY=VALUE` lines as an env file's (comments and blank lines
/// skipped), each a label; nothing is taken from the environment.
pub fn read_label_file(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        context: format!("reading label file {}", path.display()),
        err: e,
    })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect())
}

/// Run options berth answers with a clear no rather than ignoring them: `--ip6` (its
/// networks are IPv4 only), `--isolation` other than `default` (Linux has no other, as
/// Docker's), `--gpus` (no GPU device requests).
pub fn refuse_unsupported(
    ip6: Option<&str>,
    isolation: Option<&str>,
    gpus: Option<&str>,
) -> Result<()> {
    if let Some(ip6) = ip6 {
        return Err(Error::invalid(
            "--ip6 value",
            ip6,
            "berth's networks are IPv4 only: IPv6 addresses are not supported",
        ));
    }
    if let Some(iso) = isolation.filter(|i| !matches!(*i, "" | "default")) {
        return Err(Error::invalid(
            "isolation",
            iso,
            "Linux containers only support 'default' isolation",
        ));
    }
    if let Some(gpus) = gpus {
        return Err(Error::invalid(
            "--gpus value",
            gpus,
            "GPUs are not supported by berth (no device requests or GPU runtime)",
        ));
    }
    Ok(())
}

/// `--platform` against a local image's (`os/arch` of its config), as Docker's: the
/// error to give when it doesn't match, None when it does.
pub fn platform_mismatch(image: &str, wanted: &str, os: &str, arch: &str) -> Result<Option<Error>> {
    let want: crate::engine::Platform = wanted.parse()?;
    if want.os == os && want.architecture == arch {
        return Ok(None);
    }
    Ok(Some(Error::invalid(
        "platform",
        wanted,
        format!(
            "image with reference {image} was found but does not match the specified platform: wanted {want}, actual: {os}/{arch}"
        ),
    )))
}

/// The streams `run -a` attaches, as Docker's: `stdin`, `stdout`, `stderr` in any case;
/// none named is stdout and stderr (and stdin with `-i`). Returns (stdin, stdout, stderr).
pub fn parse_attach(names: &[String], interactive: bool) -> Result<(bool, bool, bool)> {
    if names.is_empty() {
        return Ok((interactive, true, true));
    }
    let mut streams = (false, false, false);
    for name in names {
        match name.to_ascii_lowercase().as_str() {
            "stdin" => streams.0 = true,
            "stdout" => streams.1 = true,
            "stderr" => streams.2 = true,
            _ => {
                return Err(Error::invalid(
                    "--attach value",
                    name,
                    "valid streams are STDIN, STDOUT and STDERR",
                ))
            }
        }
    }
    // Stdin goes only to a container that keeps it open (`-i`).
    streams.0 &= interactive;
    Ok(streams)
}

/// `--cidfile`: the container's ID written to a file that must not exist yet (as
/// Docker's, so two runs can't claim it); removed again unless the ID was written.
pub struct CidFile {
    path: std::path::PathBuf,
    file: Option<std::fs::File>,
    written: bool,
}

impl CidFile {
    pub fn create(path: &Path) -> Result<CidFile> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(path)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => Error::invalid(
                    "--cidfile",
                    path.display().to_string(),
                    format!(
                        "Container ID file found, make sure the other container isn't running or delete {}",
                        path.display()
                    ),
                ),
                _ => Error::Io {
                    context: format!("creating the container ID file {}", path.display()),
                    err: e,
                },
            })?;
        Ok(CidFile {
            path: path.to_owned(),
            file: Some(file),
            written: false,
        })
    }

    pub fn write(&mut self, id: &str) -> Result<()> {
        use std::io::Write;
        if let Some(mut file) = self.file.take() {
            file.write_all(id.as_bytes()).map_err(|e| Error::Io {
                context: format!("writing the container ID file {}", self.path.display()),
                err: e,
            })?;
            self.written = true;
        }
        Ok(())
    }
}

impl Drop for CidFile {
    fn drop(&mut self) {
        if !self.written {
            if let Err(e) = std::fs::remove_file(&self.path) {
                eprintln!(
                    "WARNING: removing the container ID file {}: {e}",
                    self.path.display()
                );
            }
        }
    }
}

/// `--restart`, with Docker's checks; a policy with `--rm` is refused, as Docker's CLI
/// refuses it (the container would be gone at its first exit).
pub fn parse_restart(text: Option<&str>, auto_remove: bool) -> Result<RestartPolicy> {
    let policy = text
        .map(RestartPolicy::parse)
        .transpose()?
        .unwrap_or_default();
    if auto_remove && !policy.is_none() {
        return Err(Error::invalid(
            "restart policy",
            text.unwrap_or_default(),
            "Conflicting options: --restart and --rm",
        ));
    }
    Ok(policy)
}

/// `--stop-signal`: a signal's name (`SIGTERM`, `TERM`) or number, kept as given, as
/// Docker's Config.StopSignal.
pub fn parse_stop_signal(text: &str) -> Result<String> {
    match crate::engine::parse_signal(text) {
        Some(_) => Ok(text.to_owned()),
        None => Err(Error::invalid(
            "stop signal",
            text,
            format!("Invalid signal: {text}"),
        )),
    }
}

/// The health-check flags of `run` and `create`, as given.
#[derive(Debug, Default, Clone)]
pub struct HealthFlags<'a> {
    pub cmd: Option<&'a str>,
    pub interval: Option<&'a str>,
    pub timeout: Option<&'a str>,
    pub start_period: Option<&'a str>,
    pub start_interval: Option<&'a str>,
    pub retries: Option<i64>,
    pub disabled: bool,
}

/// `--health-*` and `--no-healthcheck` with Docker's CLI checks: Go durations, nothing
/// negative, `--no-healthcheck` alone. None when none was given (the image's applies); a
/// zero leaves the field to the image's, as Docker's.
pub fn parse_health(flags: &HealthFlags) -> Result<Option<HealthConfig>> {
    let duration =
        |flag: &'static str, text: Option<&str>| -> Result<Option<std::time::Duration>> {
            let Some(text) = text else {
                return Ok(None);
            };
            let nanos = crate::engine::parse_go_duration(text).ok_or_else(|| {
                Error::invalid(flag, text, format!("time: invalid duration {text:?}"))
            })?;
            if nanos < 0 {
                return Err(Error::invalid(
                    flag,
                    text,
                    format!("{flag} cannot be negative"),
                ));
            }
            Ok(Some(std::time::Duration::from_nanos(nanos as u64)).filter(|d| !d.is_zero()))
        };
    let config = HealthConfig {
        test: flags
            .cmd
            .filter(|c| !c.is_empty())
            .map(|c| vec!["CMD-SHELL".to_owned(), c.to_owned()])
            .unwrap_or_default(),
        interval: duration("--health-interval", flags.interval)?,
        timeout: duration("--health-timeout", flags.timeout)?,
        start_period: duration("--health-start-period", flags.start_period)?,
        start_interval: duration("--health-start-interval", flags.start_interval)?,
        retries: match flags.retries {
            Some(r) if r < 0 => {
                return Err(Error::invalid(
                    "--health-retries",
                    r.to_string(),
                    "--health-retries cannot be negative",
                ))
            }
            Some(r) => Some(u32::try_from(r).map_err(|_| {
                Error::invalid("--health-retries", r.to_string(), "the count is too large")
            })?)
            .filter(|r| *r > 0),
            None => None,
        },
    };
    let given = config != HealthConfig::default();
    if flags.disabled {
        if given {
            return Err(Error::invalid(
                "--no-healthcheck",
                "true",
                "--no-healthcheck conflicts with --health-* options",
            ));
        }
        return Ok(Some(HealthConfig::disabled()));
    }
    Ok(given.then_some(config))
}

/// `KEY=VALUE` labels; a bare `KEY` gets an empty value.
pub fn parse_labels(entries: &[String]) -> BTreeMap<String, String> {
    entries
        .iter()
        .map(|e| match e.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (e.clone(), String::new()),
        })
        .collect()
}

/// `--add-host NAME:IP` (or `NAME=IP`, as newer Docker also takes).
pub fn parse_add_host(text: &str) -> Result<(String, std::net::Ipv4Addr)> {
    let bad = |why: &str| Error::invalid("--add-host", text, why);
    let (name, ip) = text
        .split_once('=')
        .or_else(|| text.split_once(':'))
        .ok_or_else(|| bad("use NAME:IP"))?;
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("the name must be a plain host name"));
    }
    let ip = ip
        .parse()
        .map_err(|_| bad("the address must be an IPv4 address"))?;
    Ok((name.to_owned(), ip))
}

/// The security and device flags of `run`/`create` as the user typed them (`--cap-add`,
/// `--privileged`, `--device`, `--init`, `--ulimit`, `--shm-size`, `--sysctl`,
/// `--security-opt`, `--group-add`).
#[derive(Debug, Default, Clone)]
pub struct SecurityFlags<'a> {
    pub cap_add: &'a [String],
    pub cap_drop: &'a [String],
    pub privileged: bool,
    pub device: &'a [String],
    pub device_cgroup_rule: &'a [String],
    pub init: bool,
    pub ulimit: &'a [String],
    pub shm_size: Option<&'a str>,
    pub sysctl: &'a [String],
    pub security_opt: &'a [String],
    pub group_add: &'a [String],
    /// `--network host`: no net.* sysctls then.
    pub host_network: bool,
}

/// The flags as the engine takes them, and the warnings to show (a limit lowered to what
/// this host allows).
pub fn parse_security(flags: &SecurityFlags) -> Result<(SecurityConfig, Vec<String>)> {
    let mut warnings = Vec::new();
    let caps = |list: &[String], what: &'static str| -> Result<Vec<CapName>> {
        list.iter()
            .map(|c| {
                CapName::parse(c).ok_or_else(|| {
                    let upper = c.trim().to_ascii_uppercase();
                    let full = if upper.starts_with("CAP_") {
                        upper
                    } else {
                        format!("CAP_{upper}")
                    };
                    Error::invalid(what, c, format!("unknown capability: {full:?}"))
                })
            })
            .collect()
    };
    let mut ulimits = Vec::new();
    for text in flags.ulimit {
        let ulimit = parse_ulimit(text)?;
        let clamped = ulimit.clamped();
        if clamped != ulimit {
            warnings.push(format!(
                "WARNING: --ulimit {ulimit} is above this host's hard limit: the container gets {}:{} (berth cannot raise it without CAP_SYS_RESOURCE)",
                clamped.soft, clamped.hard
            ));
        }
        ulimits.retain(|u: &Ulimit| u.name != ulimit.name);
        ulimits.push(ulimit);
    }
    let mut config = SecurityConfig {
        cap_add: caps(flags.cap_add, "--cap-add")?,
        cap_drop: caps(flags.cap_drop, "--cap-drop")?,
        privileged: flags.privileged,
        devices: flags
            .device
            .iter()
            .map(|d| parse_device(d))
            .collect::<Result<_>>()?,
        device_cgroup_rules: flags
            .device_cgroup_rule
            .iter()
            .map(|r| {
                DeviceRule::parse(r).ok_or_else(|| {
                    Error::invalid(
                        "--device-cgroup-rule",
                        r,
                        "use TYPE MAJOR:MINOR ACCESS, e.g. 'c 42:* rmw' (TYPE a, b or c; ACCESS some of r, w, m)",
                    )
                })
            })
            .collect::<Result<_>>()?,
        init: flags.init,
        ulimits,
        shm_size: flags.shm_size.map(parse_shm_size).transpose()?,
        sysctls: flags
            .sysctl
            .iter()
            .map(|kv| {
                let (key, value) = kv
                    .split_once('=')
                    .filter(|(k, _)| !k.is_empty())
                    .ok_or_else(|| Error::invalid("--sysctl", kv, "use KEY=VALUE"))?;
                check_sysctl(key.trim(), value, !flags.host_network)?;
                Ok((key.trim().to_owned(), value.to_owned()))
            })
            .collect::<Result<_>>()?,
        group_add: flags
            .group_add
            .iter()
            .map(|g| {
                let plain = !g.is_empty() && !g.contains([':', '\n', '\0']);
                plain
                    .then(|| g.clone())
                    .ok_or_else(|| Error::invalid("--group-add", g, "use a group name or number"))
            })
            .collect::<Result<_>>()?,
        ..Default::default()
    };
    for opt in flags.security_opt {
        apply_security_opt(&mut config, opt)?;
    }
    Ok((config, warnings))
}

/// `--device HOST[:CONTAINER][:PERMISSIONS]`, as Docker reads it: a second part that is
/// permissions (`/dev/fuse:rwm`) is taken as such.
pub fn parse_device(text: &str) -> Result<DeviceMapping> {
    let parts: Vec<&str> = text.split(':').collect();
    let (host, inside, access) = match parts.as_slice() {
        [host] => (*host, *host, "rwm"),
        [host, second] if parse_device_access(second).is_some() => (*host, *host, *second),
        [host, inside] => (*host, *inside, "rwm"),
        [host, inside, access] => (*host, *inside, *access),
        _ => {
            return Err(Error::invalid(
                "--device",
                text,
                "use HOST[:CONTAINER[:PERMISSIONS]], e.g. /dev/fuse:/dev/fuse:rwm",
            ))
        }
    };
    let cgroup_permissions = parse_device_access(access)
        .ok_or_else(|| Error::invalid("--device", text, "permissions are some of r, w and m"))?;
    if !host.starts_with('/') || !inside.starts_with('/') {
        return Err(Error::invalid(
            "--device",
            text,
            "both paths must be absolute (/dev/...)",
        ));
    }
    Ok(DeviceMapping {
        path_on_host: host.into(),
        path_in_container: inside.into(),
        cgroup_permissions,
    })
}

/// `--ulimit NAME=SOFT[:HARD]`: numbers, or -1 / `unlimited` for no limit.
pub fn parse_ulimit(text: &str) -> Result<Ulimit> {
    let bad = |why: String| Error::invalid("--ulimit", text, why);
    let (name, values) = text
        .split_once('=')
        .ok_or_else(|| bad("use NAME=SOFT[:HARD], e.g. nofile=1024:2048".into()))?;
    let name = UlimitName::parse(name).ok_or_else(|| {
        let known: Vec<&str> = UlimitName::ALL.iter().map(|n| n.as_str()).collect();
        bad(format!(
            "invalid ulimit type: {name} (one of {})",
            known.join(", ")
        ))
    })?;
    let number = |v: &str| -> Result<u64> {
        match v {
            "-1" | "unlimited" => Ok(u64::MAX),
            v => v
                .parse()
                .map_err(|_| bad(format!("invalid ulimit value {v:?}: use a whole number"))),
        }
    };
    let (soft, hard) = match values.split_once(':') {
        Some((soft, hard)) => (number(soft)?, number(hard)?),
        None => (number(values)?, number(values)?),
    };
    if soft > hard {
        return Err(bad(format!(
            "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
        )));
    }
    Ok(Ulimit { name, soft, hard })
}

/// `--shm-size`: a byte size (binary units), above zero.
pub fn parse_shm_size(text: &str) -> Result<u64> {
    crate::engine::parse_binary_size(text)
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            Error::invalid(
                "--shm-size",
                text,
                "use a size above zero with an optional unit b, k, m or g (e.g. 256m)",
            )
        })
}

/// One `--security-opt`, in Docker's `KEY=VALUE` or older `KEY:VALUE` form.
fn apply_security_opt(config: &mut SecurityConfig, text: &str) -> Result<()> {
    let bad = |why: &str| Error::invalid("--security-opt", text, why);
    if text == "no-new-privileges" {
        config.no_new_privileges = true;
        return Ok(());
    }
    let (key, value) = text
        .split_once('=')
        .or_else(|| text.split_once(':'))
        .ok_or_else(|| bad("use KEY=VALUE: no-new-privileges, seccomp=unconfined|PROFILE.json, label=disable, apparmor=unconfined"))?;
    match (key, value) {
        ("no-new-privileges", "true") => config.no_new_privileges = true,
        // berth sets no_new_privs on every container but --privileged ones all the same.
        ("no-new-privileges", "false") => config.no_new_privileges = false,
        ("no-new-privileges", _) => return Err(bad("no-new-privileges takes true or false")),
        ("seccomp", "unconfined") => config.seccomp = SeccompChoice::Unconfined,
        ("seccomp", path) => config.seccomp = SeccompChoice::Profile(read_profile(text, path)?),
        ("label", "disable") => config.label_disabled = true,
        ("label", _) => {
            return Err(bad(
                "SELinux labels are not supported: berth applies none (only label=disable is accepted)",
            ))
        }
        ("apparmor", "unconfined") => config.apparmor_unconfined = true,
        ("apparmor", _) => {
            return Err(bad(
                "AppArmor is not supported: berth loads no profiles (only apparmor=unconfined is accepted)",
            ))
        }
        _ => {
            return Err(bad(
                "unknown option: use no-new-privileges, seccomp=unconfined|PROFILE.json, label=disable or apparmor=unconfined",
            ))
        }
    }
    Ok(())
}

/// A seccomp profile file, read whole up to `MAX_SECCOMP_PROFILE` (the engine checks its
/// content at create).
fn read_profile(text: &str, path: &str) -> Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| {
        Error::invalid(
            "--security-opt",
            text,
            format!("opening the seccomp profile: {e}"),
        )
    })?;
    let mut profile = String::new();
    file.take(MAX_SECCOMP_PROFILE + 1)
        .read_to_string(&mut profile)
        .map_err(|e| {
            Error::invalid(
                "--security-opt",
                text,
                format!("reading the seccomp profile: {e}"),
            )
        })?;
    if profile.len() as u64 > MAX_SECCOMP_PROFILE {
        return Err(Error::invalid(
            "--security-opt",
            text,
            "the seccomp profile is larger than 1 MiB",
        ));
    }
    Ok(profile)
}

// ---- network, log and runtime options: `--dns-search`, `--mac-address`, `--log-driver`... ----

/// The network, log and runtime flags of `run`/`create` as the user typed them, with the
/// options berth answers with a clear no (`--storage-opt`, `--use-api-socket`, Windows'
/// `--cpu-count`, `--cpu-percent`, `--io-maxbandwidth`, `--io-maxiops`).
#[derive(Debug, Default, Clone)]
pub struct NetRuntimeFlags<'a> {
    pub dns_search: &'a [String],
    pub dns_option: &'a [String],
    pub mac_address: Option<&'a str>,
    pub link_local_ip: &'a [String],
    pub annotation: &'a [String],
    pub log_driver: Option<&'a str>,
    pub log_opt: &'a [String],
    pub runtime: Option<&'a str>,
    pub storage_opt: &'a [String],
    pub volume_driver: Option<&'a str>,
    /// `--disable-content-trust=false`: the user asks for image signature checks.
    pub content_trust: bool,
    pub use_api_socket: bool,
    pub cpu_count: Option<i64>,
    pub cpu_percent: Option<i64>,
    pub io_maxbandwidth: Option<&'a str>,
    pub io_maxiops: Option<u64>,
}

/// Those flags as the engine takes them.
#[derive(Debug, Default, Clone)]
pub struct NetRuntimeOptions {
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
    pub endpoint: EndpointExtras,
    pub annotations: BTreeMap<String, String>,
    pub log: LogConfig,
    pub runtime: Option<String>,
    pub volume_driver: Option<String>,
}

/// Reads and checks the network, log and runtime flags (the engine checks the values
/// again at create, for every door); what berth can't honour is refused here, before
/// any pull.
pub fn parse_net_runtime(flags: &NetRuntimeFlags) -> Result<NetRuntimeOptions> {
    refuse_windows_only(flags)?;
    if let Some(opt) = flags.storage_opt.first() {
        let why = match opt.split_once('=') {
            None => "invalid storage option: use KEY=VALUE".to_owned(),
            Some(("size", _)) => "berth sets no size quota on a container's writable layer (Docker's overlay2 does only over xfs with the 'pquota' mount option)".to_owned(),
            Some((key, _)) => format!("overlay2: unknown option {key}"),
        };
        return Err(Error::invalid("--storage-opt", opt, why));
    }
    if flags.use_api_socket {
        return Err(Error::invalid(
            "--use-api-socket",
            "true",
            "berth has no Docker API socket yet: there is nothing to mount into the container",
        ));
    }
    if flags.content_trust {
        return Err(Error::invalid(
            "--disable-content-trust",
            "false",
            "berth does no content trust (no image signature checks): it can't verify the image as asked",
        ));
    }
    for domain in flags.dns_search {
        crate::engine::check_dns_search(domain)?;
    }
    for option in flags.dns_option {
        crate::engine::check_dns_option(option)?;
    }
    let annotations = parse_labels(flags.annotation);
    crate::engine::check_annotations(&annotations)?;
    if let Some(runtime) = flags.runtime {
        crate::engine::check_runtime(runtime)?;
    }
    if let Some(driver) = flags.volume_driver {
        crate::engine::check_volume_driver(driver)?;
    }
    Ok(NetRuntimeOptions {
        dns_search: flags.dns_search.to_vec(),
        dns_options: flags.dns_option.to_vec(),
        endpoint: EndpointExtras {
            mac: flags
                .mac_address
                .map(|m| m.parse::<MacAddress>())
                .transpose()?,
            link_local_ips: flags
                .link_local_ip
                .iter()
                .map(|ip| parse_link_local_ip(ip))
                .collect::<Result<_>>()?,
        },
        annotations,
        log: LogConfig::with_driver(flags.log_driver, flags.log_opt)?,
        runtime: flags.runtime.map(str::to_owned),
        volume_driver: flags.volume_driver.map(str::to_owned),
    })
}

/// One `--link-local-ip`: an IPv4 address (berth's networks are IPv4 only).
pub fn parse_link_local_ip(text: &str) -> Result<std::net::Ipv4Addr> {
    match text.trim().parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => Ok(ip),
        Ok(std::net::IpAddr::V6(_)) => Err(Error::invalid(
            "--link-local-ip",
            text,
            "berth's networks are IPv4 only: IPv6 addresses are not supported",
        )),
        Err(_) => Err(Error::invalid(
            "--link-local-ip",
            text,
            format!("IP address is not correctly formatted: {text}"),
        )),
    }
}

/// Docker's Windows-only resource flags, refused whatever their value in the docker
/// CLI's words (its daemon on Linux refuses or discards them; berth drops no limit
/// silently).
fn refuse_windows_only(flags: &NetRuntimeFlags) -> Result<()> {
    let given = [
        (
            "--cpu-count",
            flags.cpu_count.map(|n| n.to_string()),
            " (use --cpus or --cpuset-cpus)",
        ),
        (
            "--cpu-percent",
            flags.cpu_percent.map(|n| n.to_string()),
            " (use --cpus)",
        ),
        (
            "--io-maxbandwidth",
            flags.io_maxbandwidth.map(str::to_owned),
            "",
        ),
        ("--io-maxiops", flags.io_maxiops.map(|n| n.to_string()), ""),
    ];
    match given.into_iter().find(|(_, value, _)| value.is_some()) {
        Some((flag, value, instead)) => Err(Error::invalid(
            flag,
            value.unwrap_or_default(),
            format!("\"{flag}\" is only supported on a Docker daemon running on windows, but berth runs on linux{instead}"),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_log_and_runtime_flags_become_engine_options_or_one_clear_no() {
        let strings = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (search, option, ll, ann, logopt) = (
            strings(&["a.example"]),
            strings(&["ndots:2"]),
            strings(&["169.254.1.1"]),
            strings(&["k=v", "bare"]),
            strings(&["max-size=1m"]),
        );
        let flags = NetRuntimeFlags {
            dns_search: &search,
            dns_option: &option,
            mac_address: Some("92d0.c60a.2933"),
            link_local_ip: &ll,
            annotation: &ann,
            log_driver: Some("local"),
            log_opt: &logopt,
            runtime: Some("runc"),
            volume_driver: Some("local"),
            ..Default::default()
        };
        let options = parse_net_runtime(&flags).unwrap();
        assert_eq!(options.dns_search, ["a.example"]);
        assert_eq!(
            options.endpoint.mac.map(|m| m.to_string()).as_deref(),
            Some("92:d0:c6:0a:29:33")
        );
        assert_eq!(
            options.endpoint.link_local_ips,
            [std::net::Ipv4Addr::new(169, 254, 1, 1)]
        );
        assert_eq!(
            options.annotations.get("bare").map(String::as_str),
            Some("")
        );
        assert_eq!(options.log.driver, crate::engine::LogDriver::Local);
        assert_eq!(options.log.max_size, Some(1 << 20));
        let storage = strings(&["size=1G"]);
        let six = strings(&["fe80::1"]);
        for (bad, says) in [
            (
                NetRuntimeFlags {
                    storage_opt: &storage,
                    ..Default::default()
                },
                "no size quota",
            ),
            (
                NetRuntimeFlags {
                    link_local_ip: &six,
                    ..Default::default()
                },
                "IPv4 only",
            ),
            (
                NetRuntimeFlags {
                    cpu_percent: Some(0),
                    ..Default::default()
                },
                "\"--cpu-percent\" is only supported on a Docker daemon running on windows",
            ),
            (
                NetRuntimeFlags {
                    content_trust: true,
                    ..Default::default()
                },
                "no content trust",
            ),
        ] {
            let err = parse_net_runtime(&bad).unwrap_err().to_string();
            assert!(err.contains(says), "{err}");
        }
    }

    #[test]
    fn device_limits_read_as_dockers_cli_reads_them() {
        let flags = |bps: &[&str]| bps.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (weights, read_bps, write_iops) = (
            flags(&["/dev/sda:300"]),
            flags(&["/dev/sda:1mb", "/dev/sdb:512"]),
            flags(&["/dev/sda:100"]),
        );
        let mut r = crate::engine::Resources::default();
        let warnings = parse_device_limits(
            &DeviceLimitsText {
                blkio_weight_device: &weights,
                device_read_bps: &read_bps,
                device_write_iops: &write_iops,
                cgroup_parent: Some("/ci"),
                memory_swappiness: Some(-1),
                kernel_memory: Some("64m"),
                ..Default::default()
            },
            &mut r,
        )
        .unwrap();
        assert_eq!(r.blkio_weight_device[0].weight, 300);
        let rates: Vec<u64> = r.blkio_device_read_bps.iter().map(|d| d.rate).collect();
        assert_eq!(rates, [1 << 20, 512]);
        assert_eq!(r.blkio_device_write_iops[0].path, "/dev/sda");
        assert_eq!(r.cgroup_parent.as_ref().unwrap().as_str(), "/ci");
        assert_eq!(
            r.memory_swappiness, None,
            "-1 is unset, as Docker's default"
        );
        assert!(warnings[0].contains("--kernel-memory"), "{warnings:?}");
        for (bad, words) in [
            ("sda:1", "bad format for device path"),
            ("/dev/sda", "bad format"),
            (":1", "bad format"),
            ("/dev/sda:1x", "invalid rate"),
        ] {
            let values = flags(&[bad]);
            let e = parse_device_limits(
                &DeviceLimitsText {
                    device_read_bps: &values,
                    ..Default::default()
                },
                &mut r,
            )
            .unwrap_err()
            .to_string();
            assert!(e.contains(words), "{bad}: {e}");
        }
        let e = parse_oom_score_adj(Some(-1001)).unwrap_err().to_string();
        assert!(
            e.contains("range for oom score adj is [-1000, 1000]"),
            "{e}"
        );
    }

    #[test]
    fn memory_accepts_docker_units_and_rejects_the_rest() {
        assert_eq!(parse_memory("64m").unwrap(), 64 << 20);
        assert_eq!(parse_memory("1G").unwrap(), 1 << 30);
        assert_eq!(parse_memory("10485760").unwrap(), 10 << 20);
        assert_eq!(parse_memory("8mb").unwrap(), 8 << 20);
        let err = parse_memory("12x").unwrap_err().to_string();
        assert!(err.contains("\"12x\"") && err.contains("64m"), "{err}");
        assert!(parse_memory("1k").unwrap_err().to_string().contains("6MB"));
        assert!(parse_memory("-5m").is_err());
    }

    #[test]
    fn cpus_are_bounded_by_the_machine() {
        assert_eq!(parse_cpus("0.5").unwrap(), 500_000_000);
        assert!(parse_cpus("0").is_err());
        assert!(parse_cpus("abc").is_err());
        assert!(parse_cpus("100000").is_err());
    }

    #[test]
    fn env_files_skip_comments_and_reject_bad_names() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("env");
        std::fs::write(&file, "# comment\nA=1\n\nB=two words\n").unwrap();
        assert_eq!(read_env_file(&file).unwrap(), vec!["A=1", "B=two words"]);
        std::fs::write(&file, "BAD NAME=1\n").unwrap();
        assert!(read_env_file(&file).is_err());
    }

    #[test]
    fn restart_is_refused_with_rm_and_stop_signals_are_checked() {
        assert!(parse_restart(None, true).unwrap().is_none());
        assert!(parse_restart(Some("no"), true).unwrap().is_none());
        assert_eq!(
            parse_restart(Some("on-failure:3"), false)
                .unwrap()
                .maximum_retry_count,
            3
        );
        let err = parse_restart(Some("always"), true).unwrap_err().to_string();
        assert!(
            err.contains("Conflicting options: --restart and --rm"),
            "{err}"
        );
        assert!(parse_restart(Some("never"), false).is_err());
        assert_eq!(parse_stop_signal("SIGUSR1").unwrap(), "SIGUSR1");
        assert_eq!(parse_stop_signal("9").unwrap(), "9");
        let err = parse_stop_signal("SIGNOPE").unwrap_err().to_string();
        assert!(err.contains("Invalid signal: SIGNOPE"), "{err}");
    }

    #[test]
    fn health_flags_are_checked_as_dockers_cli_checks_them() {
        let flags = HealthFlags {
            cmd: Some("test -f /ready"),
            interval: Some("1s"),
            retries: Some(2),
            ..Default::default()
        };
        let config = parse_health(&flags).unwrap().unwrap();
        assert_eq!(config.test, ["CMD-SHELL", "test -f /ready"]);
        assert_eq!(config.interval, Some(std::time::Duration::from_secs(1)));
        assert_eq!(config.retries, Some(2));
        assert_eq!(parse_health(&HealthFlags::default()).unwrap(), None);
        let off = HealthFlags {
            disabled: true,
            ..Default::default()
        };
        assert_eq!(parse_health(&off).unwrap().unwrap().test, ["NONE"]);
        for (bad, why) in [
            (
                HealthFlags {
                    interval: Some("-1s"),
                    ..Default::default()
                },
                "--health-interval cannot be negative",
            ),
            (
                HealthFlags {
                    timeout: Some("soon"),
                    ..Default::default()
                },
                "time: invalid duration \"soon\"",
            ),
            (
                HealthFlags {
                    retries: Some(-1),
                    ..Default::default()
                },
                "--health-retries cannot be negative",
            ),
            (
                HealthFlags {
                    cmd: Some("true"),
                    disabled: true,
                    ..Default::default()
                },
                "--no-healthcheck conflicts with --health-* options",
            ),
        ] {
            let err = parse_health(&bad).unwrap_err().to_string();
            assert!(err.contains(why), "{err}");
        }
    }

    #[test]
    fn add_host_takes_name_colon_or_equals_ip() {
        let want = ("db".to_owned(), std::net::Ipv4Addr::new(10, 0, 0, 5));
        assert_eq!(parse_add_host("db:10.0.0.5").unwrap(), want);
        assert_eq!(parse_add_host("db=10.0.0.5").unwrap(), want);
        for bad in ["db", ":10.0.0.5", "db:nowhere", "d b:10.0.0.5"] {
            let err = parse_add_host(bad).unwrap_err().to_string();
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn device_flags_read_as_dockers() {
        let d = parse_device("/dev/fuse").unwrap();
        assert_eq!(
            (d.path_in_container.to_str(), d.cgroup_permissions.as_str()),
            (Some("/dev/fuse"), "rwm")
        );
        let d = parse_device("/dev/fuse:r").unwrap();
        assert_eq!(
            (d.path_in_container.to_str(), d.cgroup_permissions.as_str()),
            (Some("/dev/fuse"), "r")
        );
        let d = parse_device("/dev/sdb:/dev/xvdb:mw").unwrap();
        assert_eq!(
            (d.path_in_container.to_str(), d.cgroup_permissions.as_str()),
            (Some("/dev/xvdb"), "wm")
        );
        for bad in ["dev/fuse", "/dev/a:b", "/dev/a:/dev/b:rwx", "/a:/b:r:x"] {
            assert!(parse_device(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ulimits_take_soft_and_hard_or_one_value() {
        let u = parse_ulimit("nofile=1024:2048").unwrap();
        assert_eq!((u.name, u.soft, u.hard), (UlimitName::Nofile, 1024, 2048));
        let u = parse_ulimit("core=-1").unwrap();
        assert_eq!((u.soft, u.hard), (u64::MAX, u64::MAX));
        assert!(parse_ulimit("nofile=2:1")
            .unwrap_err()
            .to_string()
            .contains("2 > 1"));
        assert!(parse_ulimit("files=1")
            .unwrap_err()
            .to_string()
            .contains("invalid ulimit type"));
        assert!(parse_ulimit("nofile").is_err());
    }

    #[test]
    fn security_opts_are_dockers_forms_and_the_rest_is_answered() {
        let parsed = |opts: &[&str]| {
            let opts: Vec<String> = opts.iter().map(|o| o.to_string()).collect();
            parse_security(&SecurityFlags {
                security_opt: &opts,
                ..Default::default()
            })
            .map(|(config, _)| config)
        };
        let config = parsed(&[
            "no-new-privileges:true",
            "seccomp:unconfined",
            "label=disable",
        ])
        .unwrap();
        assert!(config.no_new_privileges && config.label_disabled);
        assert_eq!(config.seccomp, SeccompChoice::Unconfined);
        assert_eq!(
            config.security_opt(),
            ["no-new-privileges", "seccomp=unconfined", "label=disable"]
        );
        for (bad, says) in [
            ("apparmor=docker-default", "AppArmor"),
            ("label=user:x", "SELinux"),
            ("systempaths=unconfined", "unknown option"),
            ("no-new-privileges=maybe", "true or false"),
        ] {
            let err = parsed(&[bad]).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
