//! The user's settings, read by the CLI and the dashboard alike: the settings file
//! (`$XDG_CONFIG_HOME/berth/config.toml`) and what a pull takes from the user's account
//! (logins, registries spoken to over plain HTTP). The engine reads no home directory
//! itself; its callers build its options here.

use std::path::{Path, PathBuf};

use crate::engine::image::registry::{CredentialStore, PullOptions};

/// Where the user's settings live: `$XDG_CONFIG_HOME/berth/config.toml`.
pub fn config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "berth").map(|d| d.config_dir().join("config.toml"))
}

/// The settings file; every key is optional, and keys it doesn't know are left for other
/// versions of berth.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Settings {
    /// The dashboard's theme: a built-in name or a file (relative to the settings file).
    pub theme: Option<String>,
    /// Registries (`host[:port]`) spoken to over plain HTTP besides localhost, as
    /// Docker's `insecure-registries`.
    #[serde(default)]
    pub insecure_registries: Vec<String>,
}

impl Settings {
    /// The settings in `path`; a missing file is the defaults.
    pub fn read(path: &Path) -> Result<Settings, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message().trim()))
    }

    /// The user's settings (none without a home to find them in).
    pub fn user() -> Result<Settings, String> {
        config_path().map_or_else(|| Ok(Settings::default()), |path| Settings::read(&path))
    }
}

/// A pull as the user's account makes it: their logins (`berth login`, Docker's
/// config.json) and the insecure registries named in `settings` and in `insecure`
/// (`--insecure-registry`).
pub fn pull_options(settings: &Settings, insecure: &[String]) -> PullOptions {
    let mut insecure_registries = settings.insecure_registries.clone();
    insecure_registries.extend(insecure.iter().cloned());
    PullOptions {
        platform: None,
        insecure_registries,
        credentials: Some(CredentialStore::user()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insecure_registries_come_from_the_file_and_the_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        assert!(Settings::read(&path)
            .unwrap()
            .insecure_registries
            .is_empty());
        std::fs::write(
            &path,
            "theme = \"light\"\ninsecure-registries = [\"reg.lan:5000\"]\nother = 1\n",
        )
        .unwrap();
        let settings = Settings::read(&path).unwrap();
        assert_eq!(settings.theme.as_deref(), Some("light"));
        let options = pull_options(&settings, &["ci:443".to_owned()]);
        assert_eq!(options.insecure_registries, ["reg.lan:5000", "ci:443"]);
        assert!(options.credentials.is_some());
        std::fs::write(&path, "insecure-registries = \"one\"").unwrap();
        let err = Settings::read(&path).unwrap_err();
        assert!(err.starts_with(&format!("{}: ", path.display())), "{err}");
    }
}
