//! Registry credentials: berth's own file, `$XDG_CONFIG_HOME/berth/auth.json` (mode 0600,
//! replaced atomically), in the shape of Docker's `config.json` (`{"auths": {"host":
//! {"auth": base64("user:password")}}}`), and, read only, Docker's own
//! `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. Docker's credential helpers
//! (`credsStore`, `credHelpers`) are not run: only inline `auths` entries are read.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{Map, Value};

use super::reference::DOCKER_HUB;
use crate::error::{Context, Error, Result};

/// The key Docker files Docker Hub's credentials under.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";
/// A credentials file larger than this is not read.
const MAX_FILE: u64 = 1 << 20;

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    // Never print the password, even in a debug dump.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({})", self.username)
    }
}

/// Credentials found for a registry, and the file they came from (for error messages).
#[derive(Debug, Clone)]
pub struct Found {
    pub credentials: Credentials,
    /// Empty for credentials given to `login` rather than read.
    pub file: PathBuf,
}

/// Where credentials are read from and written to.
#[derive(Debug, Clone)]
pub struct CredentialStore {
    /// berth's own file, the one `login` writes.
    pub own: Option<PathBuf>,
    /// Docker's file, read only.
    pub docker: Option<PathBuf>,
}

impl CredentialStore {
    /// The user's files: XDG config dir for berth's, `$DOCKER_CONFIG` or `~/.docker` for
    /// Docker's.
    pub fn user() -> CredentialStore {
        let own = directories::ProjectDirs::from("", "", "berth")
            .map(|d| d.config_dir().join("auth.json"));
        let docker = std::env::var_os("DOCKER_CONFIG")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| directories::BaseDirs::new().map(|d| d.home_dir().join(".docker")))
            .map(|d| d.join("config.json"));
        CredentialStore { own, docker }
    }

    /// The credentials for `registry` (as written in a reference: `docker.io`,
    /// `host:port`): berth's file first, then Docker's.
    pub fn get(&self, registry: &str) -> Result<Option<Found>> {
        let key = registry_key(registry);
        for file in [&self.own, &self.docker].into_iter().flatten() {
            let Some(auths) = read_auths(file)? else {
                continue;
            };
            for (name, entry) in &auths {
                if registry_key(name) != key {
                    continue;
                }
                let decoded = decode_entry(entry).map_err(|e| {
                    Error::Runtime(format!("reading {} (entry {name}): {e}", file.display()))
                })?;
                if let Some(credentials) = decoded {
                    return Ok(Some(Found {
                        credentials,
                        file: file.clone(),
                    }));
                }
            }
        }
        Ok(None)
    }

    /// Stores credentials for `registry` in berth's file, replacing any it had.
    pub fn store(&self, registry: &str, credentials: &Credentials) -> Result<PathBuf> {
        let file = self.own_file()?;
        let mut auths = read_auths(&file)?.unwrap_or_default();
        let key = registry_key(registry);
        auths.retain(|name, _| registry_key(name) != key);
        let pair = format!("{}:{}", credentials.username, credentials.password);
        let mut entry = Map::new();
        entry.insert("auth".into(), Value::String(STANDARD.encode(pair)));
        auths.insert(key, Value::Object(entry));
        write_auths(&file, auths)?;
        Ok(file)
    }

    /// Removes `registry`'s credentials from berth's file; false if it had none.
    pub fn remove(&self, registry: &str) -> Result<bool> {
        let file = self.own_file()?;
        let Some(mut auths) = read_auths(&file)? else {
            return Ok(false);
        };
        let key = registry_key(registry);
        let before = auths.len();
        auths.retain(|name, _| registry_key(name) != key);
        if auths.len() == before {
            return Ok(false);
        }
        write_auths(&file, auths)?;
        Ok(true)
    }

    fn own_file(&self) -> Result<PathBuf> {
        self.own.clone().ok_or_else(|| {
            Error::Runtime("no home directory: cannot find berth's config directory".into())
        })
    }
}

/// The key a registry's credentials are filed under, as Docker normalises it: Docker Hub
/// under every name is `https://index.docker.io/v1/`, others are `host[:port]` without a
/// scheme or path.
pub(crate) fn registry_key(registry: &str) -> String {
    let trimmed = registry.trim();
    let bare = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .unwrap_or(trimmed);
    let host = bare.split('/').next().unwrap_or(bare).to_ascii_lowercase();
    match host.as_str() {
        DOCKER_HUB | "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            DOCKER_HUB_KEY.to_owned()
        }
        _ => host,
    }
}

/// The `auths` object of a config file; None when the file does not exist.
fn read_auths(file: &Path) -> Result<Option<Map<String, Value>>> {
    use std::io::Read;
    let opened = match std::fs::File::open(file) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).context(|| format!("reading {}", file.display())),
    };
    let mut bytes = Vec::new();
    opened
        .take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .context(|| format!("reading {}", file.display()))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(Error::Runtime(format!(
            "{} is larger than {MAX_FILE} bytes",
            file.display()
        )));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Some(Map::new()));
    }
    let config: Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Runtime(format!("{} is not valid JSON: {e}", file.display())))?;
    Ok(Some(match config.get("auths") {
        Some(Value::Object(auths)) => auths.clone(),
        _ => Map::new(),
    }))
}

/// Writes berth's file (0600, atomically), its directory made 0700 if new.
fn write_auths(file: &Path, auths: Map<String, Value>) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if let Some(dir) = file.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .context(|| format!("creating {}", dir.display()))?;
    }
    let mut config = Map::new();
    config.insert("auths".into(), Value::Object(auths));
    let bytes = serde_json::to_vec_pretty(&Value::Object(config))
        .map_err(|e| Error::Runtime(format!("encoding credentials: {e}")))?;
    crate::state::write_atomic(file, &bytes)
}

/// One `auths` entry: `auth` (base64 `user:password`) or `username`/`password`; an entry
/// without either (a credential helper's placeholder) is None.
fn decode_entry(entry: &Value) -> Result<Option<Credentials>> {
    if let Some(auth) = entry.get("auth").and_then(Value::as_str) {
        if !auth.is_empty() {
            let decoded = STANDARD
                .decode(auth.trim())
                .map_err(|e| Error::Runtime(format!("auth is not base64: {e}")))?;
            let decoded = String::from_utf8(decoded)
                .map_err(|_| Error::Runtime("auth is not UTF-8".into()))?;
            let (username, password) = decoded
                .split_once(':')
                .ok_or_else(|| Error::Runtime("auth is not user:password".into()))?;
            return Ok(Some(Credentials {
                username: username.to_owned(),
                password: password.to_owned(),
            }));
        }
    }
    let field = |name: &str| entry.get(name).and_then(Value::as_str).unwrap_or("");
    if !field("username").is_empty() {
        return Ok(Some(Credentials {
            username: field("username").to_owned(),
            password: field("password").to_owned(),
        }));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_normalise_as_docker() {
        assert_eq!(registry_key("docker.io"), DOCKER_HUB_KEY);
        assert_eq!(registry_key("https://index.docker.io/v1/"), DOCKER_HUB_KEY);
        assert_eq!(registry_key("registry-1.docker.io"), DOCKER_HUB_KEY);
        assert_eq!(registry_key("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(registry_key("http://Reg.lan:5000/v2/"), "reg.lan:5000");
    }

    #[test]
    fn store_get_remove_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = CredentialStore {
            own: Some(dir.path().join("berth/auth.json")),
            docker: Some(dir.path().join("docker/config.json")),
        };
        let creds = Credentials {
            username: "u".into(),
            password: "p:w".into(),
        };
        assert!(store.get("docker.io").unwrap().is_none());
        store.store("docker.io", &creds).unwrap();
        let found = store.get("index.docker.io").unwrap().unwrap();
        assert_eq!(found.credentials, creds);
        let text = std::fs::read_to_string(dir.path().join("berth/auth.json")).unwrap();
        assert!(!text.contains("p:w"), "{text}");
        assert!(text.contains(DOCKER_HUB_KEY), "{text}");
        assert!(store.remove("docker.io").unwrap());
        assert!(!store.remove("docker.io").unwrap());
        assert!(store.get("docker.io").unwrap().is_none());

        std::fs::create_dir_all(dir.path().join("docker")).unwrap();
        std::fs::write(
            dir.path().join("docker/config.json"),
            r#"{"auths":{"https://reg.lan:5000":{"auth":"YTpi"},"h:1":{}},"credsStore":"x"}"#,
        )
        .unwrap();
        let found = store.get("reg.lan:5000").unwrap().unwrap();
        assert_eq!(found.credentials.username, "a");
        assert_eq!(found.credentials.password, "b");
        assert!(store.get("h:1").unwrap().is_none());
    }
}
