//! The build cache: a step's key, its stored result, and why a step missed.
//!
//! A step's key is the sha256 of every input that changes its result, each one named
//! ([`KeyInputs`]): the parent step's key, the instruction after expansion, the
//! environment and build args in scope, user, workdir, shell, mounts, network, the
//! selected sources' digest, the platform. A wrong hit is worse than a miss, so the
//! builder puts every input in. The result of a step is an image (the classic builder's
//! intermediate images: every step can be run from through the normal create path);
//! an entry names it, with the step's size and time.
//!
//! Beside the entries, the store keeps the inputs a step position had last time
//! ("last seen"), so a miss is explained by the first input that differs, in plain words.
//!
//! ```text
//! <root>/build/cache/<key-hex>.json     one entry per step key
//! <root>/build/cache/<key-hex>.manifest a COPY/ADD entry's manifest (read to explain a miss)
//! <root>/build/seen/<scope-hex>.json    the inputs a (build, stage, step) had last time
//! ```
//!
//! A hit reads the small entry only: a manifest lists every selected file (a megabyte for
//! ten thousand), and only a miss's explanation needs it. A hit writes nothing unless the
//! entry's last use is older than [`TOUCH_AFTER`], so a no-op rebuild leaves the store as
//! it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::{Context, Error, Result};
use crate::ids::Digest;
use crate::paths::{make_private_dir, DIR_MODE};
use crate::state::{read_json_opt, write_json_atomic, write_json_atomic_with, Durability};

/// How stale an entry's `last_used` may get before a hit rewrites it: `builder prune
/// --filter until=` counts in hours, and a rebuild loop then writes nothing.
pub const TOUCH_AFTER: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// What one input of a step's key is: how a difference in it is told to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum InputKind {
    /// The previous step's key.
    Parent,
    /// The instruction after expansion.
    Instruction,
    /// FROM: the image a reference resolves to (name: the reference).
    Base(String),
    /// A build arg in scope (name: the arg).
    BuildArg(String),
    /// An environment variable of the step (name: the variable).
    Env(String),
    /// USER, WORKDIR, SHELL, network, platform, mounts, `--chown`...: named settings.
    Setting(String),
    /// COPY/ADD: the selected sources' content digest; the entry's manifest says which
    /// file changed.
    Sources,
    /// `COPY --from`'s image or stage (name: as written).
    FromImage(String),
}

/// One named input and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    pub kind: InputKind,
    pub value: String,
}

/// A step's inputs, in the order they are explained: the first that differs is the reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInputs {
    pub inputs: Vec<Input>,
}

impl KeyInputs {
    pub fn new() -> KeyInputs {
        KeyInputs::default()
    }

    pub fn add(&mut self, kind: InputKind, value: impl Into<String>) -> &mut Self {
        self.inputs.push(Input {
            kind,
            value: value.into(),
        });
        self
    }

    /// The step's key: each input framed by its kind and length, so no two different
    /// lists hash alike.
    pub fn key(&self) -> Digest {
        let mut hasher = Sha256::new();
        hasher.update(b"berth-build-step-v1\0");
        for input in &self.inputs {
            let kind = serde_json::to_string(&input.kind).unwrap_or_default();
            for part in [kind.as_bytes(), input.value.as_bytes()] {
                hasher.update((part.len() as u64).to_le_bytes());
                hasher.update(part);
            }
        }
        Digest::from_sha256(hasher)
    }

    fn get(&self, kind: &InputKind) -> Option<&str> {
        self.inputs
            .iter()
            .find(|i| &i.kind == kind)
            .map(|i| i.value.as_str())
    }

    /// The first reason, in plain words, why a step with these inputs misses where the
    /// same position had `older` last time. `sources` explains a changed sources digest
    /// (the file that changed) when it can. `None` when nothing differs (the entry is
    /// gone: pruned).
    pub fn first_difference(
        &self,
        older: &KeyInputs,
        sources: &dyn Fn() -> Option<String>,
    ) -> Option<String> {
        let shown = |v: Option<&str>| match v {
            None => "unset".to_owned(),
            Some(v) => v.to_owned(),
        };
        // Removed inputs count as differences too: walk the union, ours first.
        let mut kinds: Vec<&InputKind> = self.inputs.iter().map(|i| &i.kind).collect();
        for input in &older.inputs {
            if !kinds.contains(&&input.kind) {
                kinds.push(&input.kind);
            }
        }
        for kind in kinds {
            let (now, then) = (self.get(kind), older.get(kind));
            if now == then {
                continue;
            }
            return Some(match kind {
                InputKind::Parent => "parent step changed".to_owned(),
                InputKind::Instruction => "instruction changed".to_owned(),
                InputKind::Base(reference) => {
                    format!("FROM {reference} now resolves to {}", shown(now))
                }
                InputKind::BuildArg(name) => {
                    format!("build arg {name} changed {} → {}", shown(then), shown(now))
                }
                InputKind::Env(name) => {
                    format!("env {name} changed {} → {}", shown(then), shown(now))
                }
                InputKind::Setting(name) => {
                    format!("{name} changed {} → {}", shown(then), shown(now))
                }
                InputKind::Sources => sources().unwrap_or_else(|| "sources changed".to_owned()),
                InputKind::FromImage(name) => {
                    format!("--from={name} now resolves to {}", shown(now))
                }
            });
        }
        None
    }
}

/// A stored step result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheEntry {
    pub key: Digest,
    /// The image the step made (config + layer chain).
    pub image: Digest,
    /// The instruction as history shows it.
    pub created_by: String,
    /// Bytes the step's layer added (0 for a metadata step).
    pub size: u64,
    /// How long the step ran, in seconds.
    pub seconds: f64,
    pub created: DateTime<Utc>,
    /// When a build last used it (for `builder prune --filter until=`).
    pub last_used: DateTime<Utc>,
    /// COPY/ADD: the selection's manifest, to say which file a later miss saw change.
    /// Kept in its own file beside the entry: [`CacheStore::get`] leaves it out,
    /// [`CacheStore::get_with_manifest`] reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<serde_json::Value>,
}

/// What a step position had last time.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Seen {
    pub inputs: KeyInputs,
    pub key: Digest,
}

/// The cache under one engine root.
#[derive(Debug, Clone)]
pub struct CacheStore {
    dir: PathBuf,
}

impl CacheStore {
    /// The store of the engine root `root` (created on first use).
    pub fn open(root: &Path) -> Result<CacheStore> {
        let dir = root.join("build");
        for d in [dir.clone(), dir.join("cache"), dir.join("seen")] {
            make_private_dir(&d, DIR_MODE, false)
                .context(|| format!("creating {}", d.display()))?;
        }
        Ok(CacheStore { dir })
    }

    /// The store of `root` if a build ever made it (nothing is created).
    pub fn existing(root: &Path) -> Option<CacheStore> {
        let dir = root.join("build");
        dir.join("cache").is_dir().then_some(CacheStore { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn entry_path(&self, key: &Digest) -> PathBuf {
        self.dir.join("cache").join(format!("{}.json", key.hex()))
    }

    fn manifest_path(&self, key: &Digest) -> PathBuf {
        self.dir
            .join("cache")
            .join(format!("{}.manifest", key.hex()))
    }

    fn seen_path(&self, scope: &str) -> PathBuf {
        let scope = Digest::of_bytes(scope.as_bytes());
        self.dir.join("seen").join(format!("{}.json", scope.hex()))
    }

    /// The entry of `key`, if stored, without its manifest (whether its image still
    /// exists is the caller's to check: an image pruned since is a miss).
    pub fn get(&self, key: &Digest) -> Result<Option<CacheEntry>> {
        read_json_opt(&self.entry_path(key))
    }

    /// The entry of `key` with its manifest, to explain a miss against it.
    pub fn get_with_manifest(&self, key: &Digest) -> Result<Option<CacheEntry>> {
        let Some(mut entry) = self.get(key)? else {
            return Ok(None);
        };
        if entry.manifest.is_none() {
            // A missing or damaged manifest only costs the explanation its file name.
            entry.manifest = read_json_opt(&self.manifest_path(key)).ok().flatten();
        }
        Ok(Some(entry))
    }

    /// Stores an entry (temp file + rename: a reader sees the old or the whole new one).
    /// The entry goes first: a crash before its manifest leaves a miss explained without
    /// a file name, never a manifest no entry names.
    pub fn put(&self, entry: &CacheEntry) -> Result<()> {
        let mut entry = entry.clone();
        let manifest = entry.manifest.take();
        write_json_atomic(&self.entry_path(&entry.key), &entry)?;
        match manifest {
            Some(manifest) => write_json_atomic(&self.manifest_path(&entry.key), &manifest),
            None => self.remove_manifest(&entry.key),
        }
    }

    /// Marks an entry used now, unless it was within [`TOUCH_AFTER`] (not fsync'd: a lost
    /// write only leaves an older time for prune's order, and a hit stays fast).
    pub fn touch(&self, entry: &CacheEntry) -> Result<()> {
        let now = Utc::now();
        let fresh = (now - entry.last_used)
            .to_std()
            .is_ok_and(|age| age < TOUCH_AFTER);
        if fresh {
            return Ok(());
        }
        let mut entry = entry.clone();
        entry.last_used = now;
        // An entry of an older berth with its manifest inside keeps it there.
        write_json_atomic_with(&self.entry_path(&entry.key), &entry, Durability::Unsynced)
    }

    /// Every entry (unreadable ones are skipped: `system check` names them).
    pub fn entries(&self) -> Result<Vec<CacheEntry>> {
        let dir = self.dir.join("cache");
        let mut out = Vec::new();
        for item in std::fs::read_dir(&dir).context(|| format!("listing {}", dir.display()))? {
            let item = item.context(|| format!("listing {}", dir.display()))?;
            let name = item.file_name();
            if !name.to_string_lossy().ends_with(".json") {
                continue;
            }
            if let Ok(Some(entry)) = read_json_opt::<CacheEntry>(&item.path()) {
                out.push(entry);
            }
        }
        out.sort_by(|a, b| a.created.cmp(&b.created).then(a.key.cmp(&b.key)));
        Ok(out)
    }

    /// Removes an entry's manifest, then the entry; one that is gone already is no error.
    pub fn remove(&self, key: &Digest) -> Result<()> {
        self.remove_manifest(key)?;
        remove_if_there(&self.entry_path(key))
    }

    fn remove_manifest(&self, key: &Digest) -> Result<()> {
        remove_if_there(&self.manifest_path(key))
    }

    /// What the step at `scope` (the build's Dockerfile, stage and position) had last time.
    pub fn last_seen(&self, scope: &str) -> Result<Option<Seen>> {
        read_json_opt(&self.seen_path(scope))
    }

    /// Not fsync'd: a lost write only loses a miss's explanation.
    pub fn set_seen(&self, scope: &str, seen: &Seen) -> Result<()> {
        write_json_atomic_with(&self.seen_path(scope), seen, Durability::Unsynced)
    }

    /// The persistent directory of a `RUN --mount=type=cache` id (created on first use).
    pub fn mount_dir(&self, id: &str) -> Result<PathBuf> {
        let dir = self.dir.join("mounts");
        make_private_dir(&dir, DIR_MODE, false)
            .context(|| format!("creating {}", dir.display()))?;
        // Hashed: an id is any string the Dockerfile chose.
        let path = dir.join(Digest::of_bytes(id.as_bytes()).hex());
        if !path.exists() {
            std::fs::create_dir(&path).context(|| format!("creating {}", path.display()))?;
        }
        Ok(path)
    }
}

fn remove_if_there(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::Io {
            context: format!("removing {}", path.display()),
            err: e,
        }),
        _ => Ok(()),
    }
}

/// The values of build args by name, for the steps that use them.
pub type BuildArgs = BTreeMap<String, String>;

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(parent: &str, arg: Option<&str>) -> KeyInputs {
        let mut k = KeyInputs::new();
        k.add(InputKind::Parent, parent)
            .add(InputKind::Instruction, "RUN make");
        if let Some(v) = arg {
            k.add(InputKind::BuildArg("VERSION".into()), v);
        }
        k
    }

    #[test]
    fn every_input_changes_the_key() {
        let base = inputs("p", Some("1"));
        assert_eq!(base.key(), inputs("p", Some("1")).key());
        assert_ne!(base.key(), inputs("q", Some("1")).key());
        assert_ne!(base.key(), inputs("p", Some("2")).key());
        assert_ne!(base.key(), inputs("p", None).key());
        // Framing: moving bytes between kind and value changes the key.
        let mut a = KeyInputs::new();
        a.add(InputKind::Env("AB".into()), "C");
        let mut b = KeyInputs::new();
        b.add(InputKind::Env("A".into()), "BC");
        assert_ne!(a.key(), b.key());
    }

    #[test]
    fn a_miss_names_its_first_reason() {
        let none = || None;
        let now = inputs("p", Some("2"));
        assert_eq!(
            now.first_difference(&inputs("p", Some("1")), &none)
                .as_deref(),
            Some("build arg VERSION changed 1 → 2")
        );
        assert_eq!(
            now.first_difference(&inputs("x", Some("1")), &none)
                .as_deref(),
            Some("parent step changed")
        );
        assert_eq!(
            inputs("p", None)
                .first_difference(&inputs("p", Some("1")), &none)
                .as_deref(),
            Some("build arg VERSION changed 1 → unset")
        );
        let mut copy = KeyInputs::new();
        copy.add(InputKind::Sources, "sha256:1");
        let mut older = KeyInputs::new();
        older.add(InputKind::Sources, "sha256:0");
        let named = || Some("src/main.rs changed".to_owned());
        assert_eq!(
            copy.first_difference(&older, &named).as_deref(),
            Some("src/main.rs changed")
        );
        assert_eq!(now.first_difference(&now.clone(), &none), None);
    }

    #[test]
    fn entries_persist_and_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = CacheStore::open(dir.path()).unwrap();
        let key = inputs("p", None).key();
        assert!(store.get(&key).unwrap().is_none());
        let entry = CacheEntry {
            key: key.clone(),
            image: Digest::of_bytes(b"img"),
            created_by: "RUN make".into(),
            size: 3,
            seconds: 0.5,
            created: Utc::now(),
            last_used: Utc::now(),
            manifest: None,
        };
        store.put(&entry).unwrap();
        assert_eq!(store.get(&key).unwrap().unwrap().image, entry.image);
        assert_eq!(store.entries().unwrap().len(), 1);
        let seen = Seen {
            inputs: inputs("p", None),
            key: key.clone(),
        };
        store.set_seen("Dockerfile/0/1", &seen).unwrap();
        assert_eq!(store.last_seen("Dockerfile/0/1").unwrap().unwrap().key, key);
        store.remove(&key).unwrap();
        store.remove(&key).unwrap();
        assert!(store.get(&key).unwrap().is_none());
    }

    #[test]
    fn a_hit_reads_no_manifest_and_a_recent_one_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = CacheStore::open(dir.path()).unwrap();
        let key = inputs("p", None).key();
        let manifest = serde_json::json!({"entries": [{"path": "a", "digest": "00"}]});
        let mut entry = CacheEntry {
            key: key.clone(),
            image: Digest::of_bytes(b"img"),
            created_by: "COPY . /".into(),
            size: 3,
            seconds: 0.5,
            created: Utc::now(),
            last_used: Utc::now(),
            manifest: Some(manifest.clone()),
        };
        store.put(&entry).unwrap();
        let hit = store.get(&key).unwrap().unwrap();
        assert_eq!(hit.manifest, None);
        let full = store.get_with_manifest(&key).unwrap().unwrap();
        assert_eq!(full.manifest, Some(manifest.clone()));
        let before = std::fs::read(store.entry_path(&key)).unwrap();
        store.touch(&hit).unwrap();
        assert_eq!(std::fs::read(store.entry_path(&key)).unwrap(), before);
        // A stale one is rewritten with the new time and keeps its manifest.
        entry.last_used = Utc::now() - chrono::Duration::hours(1);
        store.put(&entry).unwrap();
        let stale = store.get(&key).unwrap().unwrap();
        store.touch(&stale).unwrap();
        let touched = store.get_with_manifest(&key).unwrap().unwrap();
        assert!(touched.last_used > stale.last_used);
        assert_eq!(touched.manifest, Some(manifest));
        // Removing the entry removes its manifest; a listing sees entries only.
        assert_eq!(store.entries().unwrap().len(), 1);
        store.remove(&key).unwrap();
        assert_eq!(
            std::fs::read_dir(dir.path().join("build/cache"))
                .unwrap()
                .count(),
            0
        );
    }
}
