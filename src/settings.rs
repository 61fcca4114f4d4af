//! The user's settings, read by the CLI and the dashboard alike, from
//! `$XDG_CONFIG_HOME/berth/config.toml`, and what a pull takes from the user's account
//! (logins, registries spoken to over plain HTTP). The engine reads no home directory
//! itself; its callers build its options here. Every key is optional; keys this version
//! doesn't know are left alone.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::engine::{Cancel, CredentialStore, Error, PullOptions, PushOptions, Result};

/// The settings file: `$XDG_CONFIG_HOME/berth/config.toml`.
pub fn config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "berth").map(|d| d.config_dir().join("config.toml"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Settings {
    /// The dashboard's theme: a built-in name or a file (relative to the settings file).
    pub theme: Option<String>,
    /// Registries (`host[:port]`) spoken to over plain HTTP, as Docker's daemon.json
    /// `insecure-registries`.
    #[serde(default)]
    pub insecure_registries: Vec<String>,
    /// The keys that detach from a terminal container, as Docker's config.json
    /// `detachKeys` (`ctrl-p,ctrl-q` when not set).
    pub detach_keys: Option<String>,
    /// A pulled layer unpacking to more than this many times its compressed size is
    /// refused as a decompression bomb (100 when not set; 0 lifts the bound).
    pub max_unpack_ratio: Option<u64>,
    /// The pids limit of containers run without `--pids-limit` (2048 when not set; zero
    /// or less for none).
    pub pids_limit: Option<i64>,
}

impl Settings {
    /// The user's settings; none when there is no file.
    pub fn load() -> Result<Settings> {
        match config_path() {
            Some(path) => Settings::load_from(&path),
            None => Ok(Settings::default()),
        }
    }

    pub fn load_from(path: &Path) -> Result<Settings> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
            Err(e) => return Err(Error::Runtime(format!("{}: {e}", path.display()))),
        };
        toml::from_str(&text)
            .map_err(|e| Error::Runtime(format!("{}: {}", path.display(), e.message().trim())))
    }

    /// The registries spoken to over plain HTTP: those named here and in `also` (flags).
    pub fn insecure_registries(&self, also: &[String]) -> Vec<String> {
        let mut registries = self.insecure_registries.clone();
        registries.extend(also.iter().cloned());
        registries
    }

    /// Options for a pull on the user's behalf: the insecure registries, the user's
    /// logins, and `platform` if one was asked for.
    pub fn pull_options(
        &self,
        platform: Option<&str>,
        also_insecure: &[String],
    ) -> Result<PullOptions> {
        Ok(PullOptions {
            platform: platform.map(str::parse).transpose()?,
            insecure_registries: self.insecure_registries(also_insecure),
            credentials: Some(CredentialStore::user()),
            cancel: Cancel::default(),
            max_unpack_ratio: self.max_unpack_ratio,
        })
    }

    /// Options for a push on the user's behalf: the insecure registries and the logins.
    pub fn push_options(&self, also_insecure: &[String]) -> PushOptions {
        PushOptions {
            insecure_registries: self.insecure_registries(also_insecure),
            credentials: Some(CredentialStore::user()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insecure_registries_come_from_the_file_and_the_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        assert!(Settings::load_from(&path)
            .unwrap()
            .insecure_registries
            .is_empty());
        std::fs::write(
            &path,
            "theme = \"light\"\ninsecure-registries = [\"reg.lan:5000\"]\nmax-unpack-ratio = 500\n",
        )
        .unwrap();
        let settings = Settings::load_from(&path).unwrap();
        assert_eq!(settings.theme.as_deref(), Some("light"));
        let options = settings
            .pull_options(Some("linux/arm64"), &["other:5000".into()])
            .unwrap();
        assert_eq!(options.insecure_registries, ["reg.lan:5000", "other:5000"]);
        assert_eq!(options.platform.unwrap().architecture, "arm64");
        assert_eq!(options.max_unpack_ratio, Some(500));
        let push = settings.push_options(&["third:5000".into()]);
        assert_eq!(push.insecure_registries, ["reg.lan:5000", "third:5000"]);
        assert_eq!(settings.insecure_registries(&[]), ["reg.lan:5000"]);
        std::fs::write(&path, "insecure-registries = 5\n").unwrap();
        let err = Settings::load_from(&path).unwrap_err().to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
    }
}
