//! Run options as Docker reads them, for every door that creates containers (flags, and
//! next compose files and API requests): memory sizes, CPU counts, env files, labels,
//! extra hosts.

use std::collections::BTreeMap;
use std::path::Path;

use crate::engine::{Error, RestartPolicy, Result};

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
    })
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn add_host_takes_name_colon_or_equals_ip() {
        let want = ("db".to_owned(), std::net::Ipv4Addr::new(10, 0, 0, 5));
        assert_eq!(parse_add_host("db:10.0.0.5").unwrap(), want);
        assert_eq!(parse_add_host("db=10.0.0.5").unwrap(), want);
        for bad in ["db", ":10.0.0.5", "db:nowhere", "d b:10.0.0.5"] {
            let err = parse_add_host(bad).unwrap_err().to_string();
            assert!(err.contains(bad), "{err}");
        }
    }
}
