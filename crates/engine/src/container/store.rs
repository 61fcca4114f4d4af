//! Finding, reading and writing container records, and the name index that finds one
//! without reading them all.
//!
//! The records are the truth; the index (`<root>/containers.index`: each container's ID
//! and name) is a cache that only saves reading every record. Two rules make it safe:
//! - It is a superset. Every writer (holding the engine lock) adds an entry before the
//!   record that needs it exists (create, the new name of a rename) and drops one only
//!   after the record is gone (rm, the old name of a rename). A crash between the two
//!   leaves an extra entry, never a missing one.
//! - Every answer is checked against the records. A name's entry counts only if the
//!   record it points to has that name; a miss counts only if the index knows every
//!   container directory (one `readdir`, no record read). Otherwise, and whenever the
//!   index is missing or damaged, the lookup reads every record as before.
//!
//! ID prefixes are matched against the container directories themselves (their names
//! are the IDs), so the index never decides which IDs exist.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use super::lifecycle::valid_name;
use super::record::ContainerRecord;
use crate::error::{Context, Error, Result};
use crate::ids::{ContainerId, Digest};
use crate::state::{read_json_opt, write_atomic_with, write_json_atomic, Durability, StateLock};
use crate::Engine;

const RECORD_FILE: &str = "record.json";

/// The index's file, in the root beside `containers/` (whose entries are all containers).
const INDEX_FILE: &str = "containers.index";
/// The first line: the format and its version.
const INDEX_HEADER: &str = "berth-containers 1";
/// A larger file is taken for damaged, unread: 64 MiB is some 600,000 containers.
const INDEX_MAX_BYTES: u64 = 64 << 20;
/// The name field of a record whose name can't be written on a line (never one berth
/// accepts): a lookup by name then reads the records.
const UNINDEXABLE: &str = "?";

/// What an index entry says about a container's name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum IndexedName {
    Name(String),
    /// A directory without a record: a create under way or killed; no name to find.
    NoRecord,
    /// A record whose name isn't a valid container name: only the records can find it.
    Unindexable,
}

impl IndexedName {
    fn of(name: &str) -> IndexedName {
        if valid_name(name) {
            IndexedName::Name(name.to_owned())
        } else {
            IndexedName::Unindexable
        }
    }
}

/// The name index in memory: (ID, name) entries, possibly more than there are
/// containers (see the module's rules), never fewer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NameIndex {
    entries: Vec<(ContainerId, IndexedName)>,
}

/// Why the index on disk can't be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IndexProblem {
    Missing,
    Damaged(String),
}

impl std::fmt::Display for IndexProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IndexProblem::Missing => f.write_str("missing"),
            IndexProblem::Damaged(why) => write!(f, "damaged ({why})"),
        }
    }
}

impl NameIndex {
    /// Parses the file's text: the header, one `ID NAME` (or `ID ?`, or `ID`) line per
    /// entry, and `end COUNT`, so a file cut short anywhere is told from a whole one.
    pub(crate) fn parse(bytes: &[u8]) -> std::result::Result<NameIndex, String> {
        let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
        let cut = || "cut short".to_owned();
        let body = text.strip_suffix('\n').ok_or_else(cut)?;
        let (body, last) = body.rsplit_once('\n').ok_or_else(cut)?;
        let count = last
            .strip_prefix("end ")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(cut)?;
        let mut lines = body.split('\n');
        if lines.next() != Some(INDEX_HEADER) {
            return Err("unknown header".into());
        }
        let mut entries = Vec::new();
        for line in lines {
            let (id, name) = match line.split_once(' ') {
                Some((id, UNINDEXABLE)) => (id, IndexedName::Unindexable),
                Some((id, name)) if valid_name(name) => (id, IndexedName::Name(name.to_owned())),
                Some(_) => return Err("an entry has an invalid name".into()),
                None => (line, IndexedName::NoRecord),
            };
            let id = id
                .parse::<ContainerId>()
                .map_err(|_| "an entry has an invalid ID".to_owned())?;
            entries.push((id, name));
        }
        if entries.len() != count {
            return Err(format!("{} entries where it says {count}", entries.len()));
        }
        Ok(NameIndex { entries })
    }

    pub(crate) fn to_text(&self) -> String {
        let mut text = String::with_capacity(32 + self.entries.len() * 96);
        text.push_str(INDEX_HEADER);
        text.push('\n');
        for (id, name) in &self.entries {
            text.push_str(id.as_str());
            match name {
                IndexedName::Name(name) => {
                    text.push(' ');
                    text.push_str(name);
                }
                IndexedName::Unindexable => {
                    text.push(' ');
                    text.push_str(UNINDEXABLE);
                }
                IndexedName::NoRecord => {}
            }
            text.push('\n');
        }
        text.push_str(&format!("end {}\n", self.entries.len()));
        text
    }

    fn ids_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a ContainerId> + 'a {
        self.entries
            .iter()
            .filter(move |(_, n)| matches!(n, IndexedName::Name(have) if have == name))
            .map(|(id, _)| id)
    }

    /// Every name in it, those of stale entries too.
    fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().filter_map(|(_, n)| match n {
            IndexedName::Name(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// True if a miss in it means no container has the name: it has an entry for every
    /// listed directory and no name it could not hold.
    fn answers_for(&self, listed: &[ContainerId]) -> bool {
        if self
            .entries
            .iter()
            .any(|(_, n)| *n == IndexedName::Unindexable)
        {
            return false;
        }
        let known: HashSet<&str> = self.entries.iter().map(|(id, _)| id.as_str()).collect();
        listed.iter().all(|id| known.contains(id.as_str()))
    }

    fn add(&mut self, id: &ContainerId, name: &str) {
        let entry = (id.clone(), IndexedName::of(name));
        if !self.entries.contains(&entry) {
            self.entries.push(entry);
        }
    }

    /// Drops every entry of `id` but the one with the name `keep`, if given.
    fn retain_only(&mut self, id: &ContainerId, keep: Option<&str>) {
        self.entries
            .retain(|(have, name)| have != id || keep.is_some_and(|k| *name == IndexedName::of(k)));
    }

    /// The entries in a fixed order, to compare two indexes.
    pub(crate) fn sorted(mut self) -> NameIndex {
        self.entries.sort();
        self.entries.dedup();
        self
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Name resolution for a verb given many names (`rm` of 1,000): the index is read and
/// `containers/` listed at most once, however many names; each answer is still checked
/// against the record it reads (see the module's rules). Names are resolved as things
/// stand when each is asked: a verb that removes containers between two asks may get a
/// stale miss from the listing, so it resolves every name first.
pub(crate) struct Lookup<'e> {
    engine: &'e Engine,
    index: Option<NameIndex>,
    by_name: HashMap<String, Vec<ContainerId>>,
    /// The container directories, and whether the index has them all (read once, at
    /// the first name not found by ID or name).
    listed: Option<(Vec<ContainerId>, bool)>,
}

impl Lookup<'_> {
    /// As [`Engine::find_record`].
    pub(crate) fn find(&mut self, name_or_id: &str) -> Result<ContainerRecord> {
        let engine = self.engine;
        let wanted = name_or_id.strip_prefix('/').unwrap_or(name_or_id);
        if wanted.is_empty() {
            return Err(Error::NoSuchContainer(name_or_id.to_owned()));
        }
        if let Ok(id) = wanted.parse::<ContainerId>() {
            if let Some(record) = engine.read_record(&id)? {
                return Ok(record);
            }
        }
        for id in self.by_name.get(wanted).into_iter().flatten() {
            match engine.read_record(id)? {
                Some(record) if record.name == wanted => return Ok(record),
                _ => {} // a stale entry
            }
        }
        let (listed, answers) = match &self.listed {
            Some(listed) => listed,
            None => {
                let listed = engine.container_dir_ids()?;
                let answers = self.index.as_ref().is_some_and(|i| i.answers_for(&listed));
                self.listed.insert((listed, answers))
            }
        };
        if !*answers {
            return engine.scan_records_for(wanted, name_or_id);
        }
        let mut found = None;
        for id in listed.iter().filter(|id| id.as_str().starts_with(wanted)) {
            if let Some(record) = engine.read_record(id)? {
                if found.is_some() {
                    return Err(Error::AmbiguousContainer(wanted.to_owned()));
                }
                found = Some(record);
            }
        }
        found.ok_or_else(|| Error::NoSuchContainer(name_or_id.to_owned()))
    }
}

impl Engine {
    pub(crate) fn container_dir(&self, id: &ContainerId) -> PathBuf {
        self.paths().container(id)
    }

    fn record_path(&self, id: &ContainerId) -> PathBuf {
        self.container_dir(id).join(RECORD_FILE)
    }

    pub(crate) fn container_index_path(&self) -> PathBuf {
        self.paths().root().join(INDEX_FILE)
    }

    /// The IDs of every container directory, from one listing: no record is read.
    fn container_dir_ids(&self) -> Result<Vec<ContainerId>> {
        let dir = self.paths().containers_dir();
        let mut ids = Vec::new();
        for entry in std::fs::read_dir(&dir).context(|| format!("listing {}", dir.display()))? {
            let entry = entry.context(|| format!("listing {}", dir.display()))?;
            if let Some(id) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<ContainerId>().ok())
            {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// Every container record, oldest first. Directories without a record (a create that
    /// is still in progress or was interrupted) are skipped.
    pub(crate) fn load_records(&self) -> Result<Vec<ContainerRecord>> {
        let mut records = Vec::new();
        for id in self.container_dir_ids()? {
            if let Some(record) = self.read_record(&id)? {
                records.push(record);
            }
        }
        records.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
        Ok(records)
    }

    /// A record as readers see it: with its running health check's latest state.
    fn read_record(&self, id: &ContainerId) -> Result<Option<ContainerRecord>> {
        let mut record = read_json_opt::<ContainerRecord>(&self.record_path(id))?;
        if let Some(record) = record.as_mut() {
            self.overlay_health(record);
        }
        Ok(record)
    }

    pub(crate) fn load_record(&self, id: &ContainerId) -> Result<ContainerRecord> {
        self.read_record(id)?
            .ok_or_else(|| Error::NoSuchContainer(id.to_string()))
    }

    pub(crate) fn save_record(&self, record: &ContainerRecord) -> Result<()> {
        write_json_atomic(&self.record_path(&record.id), record)
    }

    /// Resolves a name, full ID or unique ID prefix, as Docker does: an exact ID wins,
    /// then an exact name, then a unique prefix. Reads one record for an ID or a name
    /// the index has; a prefix or a miss costs one listing of `containers/` more.
    pub(crate) fn find_record(&self, name_or_id: &str) -> Result<ContainerRecord> {
        self.lookup().find(name_or_id)
    }

    /// A [`Lookup`]: resolves many names over one read of the index.
    pub(crate) fn lookup(&self) -> Lookup<'_> {
        let index = self.read_index().ok();
        let mut by_name: HashMap<String, Vec<ContainerId>> = HashMap::new();
        for (id, name) in index.iter().flat_map(|i| &i.entries) {
            if let IndexedName::Name(name) = name {
                by_name.entry(name.clone()).or_default().push(id.clone());
            }
        }
        Lookup {
            engine: self,
            index,
            by_name,
            listed: None,
        }
    }

    /// [`Engine::find_record`] by reading every record: when the index can't answer.
    fn scan_records_for(&self, wanted: &str, name_or_id: &str) -> Result<ContainerRecord> {
        let records = self.load_records()?;
        if let Some(r) = records.iter().find(|r| r.id.as_str() == wanted) {
            return Ok(r.clone());
        }
        if let Some(r) = records.iter().find(|r| r.name == wanted) {
            return Ok(r.clone());
        }
        let mut matches = records.iter().filter(|r| r.id.as_str().starts_with(wanted));
        match (matches.next(), matches.next()) {
            (Some(r), None) => Ok(r.clone()),
            (Some(_), Some(_)) => Err(Error::AmbiguousContainer(wanted.to_owned())),
            _ => Err(Error::NoSuchContainer(name_or_id.to_owned())),
        }
    }

    /// The index as on disk. Never follows a link nor blocks on a FIFO put in its place,
    /// and reads at most `INDEX_MAX_BYTES`: whatever is there, the answer is an index or
    /// the reason there is none.
    pub(crate) fn read_index(&self) -> std::result::Result<NameIndex, IndexProblem> {
        let path = self.container_index_path();
        let damaged = |e: std::io::Error| IndexProblem::Damaged(e.to_string());
        let file = match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(&path)
        {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(IndexProblem::Missing)
            }
            Err(e) => return Err(damaged(e)),
        };
        let meta = file.metadata().map_err(damaged)?;
        if !meta.is_file() {
            return Err(IndexProblem::Damaged("not a regular file".into()));
        }
        if meta.len() > INDEX_MAX_BYTES {
            return Err(IndexProblem::Damaged(format!(
                "{} bytes, more than {INDEX_MAX_BYTES}",
                meta.len()
            )));
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.take(INDEX_MAX_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(damaged)?;
        if bytes.len() as u64 > INDEX_MAX_BYTES {
            return Err(IndexProblem::Damaged("grew while read".into()));
        }
        NameIndex::parse(&bytes).map_err(IndexProblem::Damaged)
    }

    /// The index the records make now: an entry for each container directory.
    pub(crate) fn index_from_records(&self) -> Result<NameIndex> {
        let mut entries = Vec::new();
        for id in self.container_dir_ids()? {
            let name = match self.read_record(&id)? {
                Some(record) => IndexedName::of(&record.name),
                None => IndexedName::NoRecord,
            };
            entries.push((id, name));
        }
        Ok(NameIndex { entries })
    }

    /// Writes the index the records make now (lock held): `system check --repair`, and
    /// any writer that finds it missing or damaged.
    pub(crate) fn rebuild_container_index(&self, held: &StateLock) -> Result<NameIndex> {
        let index = self.index_from_records()?;
        self.write_index(held, &index, Durability::Synced)?;
        Ok(index)
    }

    /// The index to change (lock held): as on disk if it has every container directory,
    /// else rebuilt from the records first.
    pub(crate) fn index_for_update(&self, held: &StateLock) -> Result<NameIndex> {
        if let Ok(index) = self.read_index() {
            if index.answers_for(&self.container_dir_ids()?) {
                return Ok(index);
            }
        }
        self.rebuild_container_index(held)
    }

    /// `Synced` for an entry that a record about to be written needs and whose loss
    /// nothing would show; `Unsynced` where a lost update leaves a superset, or a gap the
    /// listing of `containers/` shows.
    fn write_index(&self, _held: &StateLock, index: &NameIndex, when: Durability) -> Result<()> {
        write_atomic_with(
            &self.container_index_path(),
            index.to_text().as_bytes(),
            when,
        )
    }

    /// Fails naming the holder if a container already has `name` (lock held; `index`
    /// from [`Engine::index_for_update`]).
    pub(crate) fn check_name_free(
        &self,
        _held: &StateLock,
        index: &NameIndex,
        name: &str,
    ) -> Result<()> {
        let holder = if valid_name(name) {
            let mut holder = None;
            for id in index.ids_named(name) {
                if let Some(record) = self.read_record(id)?.filter(|r| r.name == name) {
                    holder = Some(record);
                    break;
                }
            }
            holder
        } else {
            self.load_records()?.into_iter().find(|r| r.name == name)
        };
        match holder {
            Some(other) => Err(Error::NameInUse {
                name: name.to_owned(),
                id: other.id.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Names no new container may take: every name in the index (lock held; `index` from
    /// [`Engine::index_for_update`], so it has every container's).
    pub(crate) fn taken_names<'a>(&self, index: &'a NameIndex) -> HashSet<&'a str> {
        index.names().collect()
    }

    /// Drops the entries of every container of `ids` once their records are gone (lock
    /// held): one read and one write of the index for them all. A missing or damaged
    /// index is rebuilt from the records instead.
    pub(crate) fn unindex_all(&self, held: &StateLock, ids: &[ContainerId]) -> Result<()> {
        let Ok(mut index) = self.read_index() else {
            return self.rebuild_container_index(held).map(drop);
        };
        let gone: HashSet<&ContainerId> = ids.iter().collect();
        index.entries.retain(|(id, _)| !gone.contains(id));
        self.write_index(held, &index, Durability::Unsynced)
    }

    /// Adds a new container before its directory exists (lock held). Not fsync'd: if a
    /// power cut loses the entry but keeps the directory, the index no longer has every
    /// directory, and lookups and writers see that in their listing.
    pub(crate) fn index_new_container(
        &self,
        held: &StateLock,
        index: &mut NameIndex,
        id: &ContainerId,
        name: &str,
    ) -> Result<()> {
        index.add(id, name);
        self.write_index(held, index, Durability::Unsynced)
    }

    /// Adds a container's new name before its record has it (lock held): fsync'd, since
    /// no listing would show that a lost entry is missing.
    pub(crate) fn index_new_name(
        &self,
        held: &StateLock,
        index: &mut NameIndex,
        id: &ContainerId,
        name: &str,
    ) -> Result<()> {
        index.add(id, name);
        self.write_index(held, index, Durability::Synced)
    }

    /// Drops a container's entries, but the one for `keep` (its name after a rename), once
    /// its record no longer needs them (lock held). A missing or damaged index is rebuilt
    /// from the records instead.
    pub(crate) fn unindex(
        &self,
        held: &StateLock,
        id: &ContainerId,
        keep: Option<&str>,
    ) -> Result<()> {
        let Ok(mut index) = self.read_index() else {
            return self.rebuild_container_index(held).map(drop);
        };
        index.retain_only(id, keep);
        self.write_index(held, &index, Durability::Unsynced)
    }

    /// Containers created from the image with this ID, as (short ID, name).
    pub(crate) fn containers_using_image(
        &self,
        image_id: &Digest,
    ) -> Result<Vec<(ContainerId, String)>> {
        Ok(self
            .load_records()?
            .into_iter()
            .filter(|r| &r.image_id == image_id)
            .map(|r| (r.id, r.name))
            .collect())
    }

    /// Chain IDs of every layer some container stacks on; layer cleanup must keep them.
    pub(crate) fn layers_used_by_containers(&self) -> Result<HashSet<Digest>> {
        Ok(self
            .load_records()?
            .into_iter()
            .flat_map(|r| r.chain_ids)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::record::{ContainerConfig, ContainerState};
    use std::path::Path;

    fn engine() -> (tempfile::TempDir, Engine) {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        (dir, engine)
    }

    /// A container as create makes one, as far as the index is concerned: the entry,
    /// then the directory, then the record.
    fn add(engine: &Engine, id: &str, name: &str) -> ContainerId {
        let id: ContainerId = id.parse().unwrap();
        let lock = engine.lock().unwrap();
        let mut index = engine.index_for_update(&lock).unwrap();
        engine.check_name_free(&lock, &index, name).unwrap();
        engine
            .index_new_container(&lock, &mut index, &id, name)
            .unwrap();
        std::fs::create_dir(engine.container_dir(&id)).unwrap();
        engine
            .save_record(&ContainerRecord {
                id: id.clone(),
                name: name.into(),
                created: chrono::Utc::now(),
                image: "busybox".into(),
                image_id: Digest::of_bytes(b"image"),
                chain_ids: Vec::new(),
                config: ContainerConfig::default(),
                state: ContainerState::default(),
            })
            .unwrap();
        id
    }

    fn id(first: &str) -> String {
        format!("{first}{}", "0".repeat(64 - first.len()))
    }

    fn found(engine: &Engine, wanted: &str) -> std::result::Result<String, String> {
        engine
            .find_record(wanted)
            .map(|r| r.name)
            .map_err(|e| e.to_string())
    }

    fn index_matches_records(engine: &Engine) -> bool {
        engine.read_index().map(NameIndex::sorted)
            == Ok(engine.index_from_records().unwrap().sorted())
    }

    /// Three containers, two of whose IDs share a prefix.
    fn three(engine: &Engine) {
        add(engine, &id("abc1"), "web");
        add(engine, &id("abc2"), "db");
        add(engine, &id("f00d"), "cache");
    }

    #[test]
    fn finds_by_id_name_and_unique_prefix_as_docker() {
        let (_dir, engine) = engine();
        three(&engine);
        assert!(index_matches_records(&engine));
        assert_eq!(found(&engine, &id("abc1")).unwrap(), "web");
        assert_eq!(found(&engine, "db").unwrap(), "db");
        assert_eq!(found(&engine, "/cache").unwrap(), "cache");
        assert_eq!(found(&engine, "abc2").unwrap(), "db");
        assert_eq!(found(&engine, "f").unwrap(), "cache");
        assert_eq!(
            found(&engine, "abc").unwrap_err(),
            "multiple IDs found with provided prefix: abc"
        );
        assert!(matches!(
            engine.find_record("abc"),
            Err(Error::AmbiguousContainer(_))
        ));
        for missing in ["nope", "abc3", "", "/", &id("abc3"), "we"] {
            assert!(
                matches!(engine.find_record(missing), Err(Error::NoSuchContainer(_))),
                "{missing}: {:?}",
                found(&engine, missing)
            );
        }
        // An exact name wins over a prefix of another container's ID.
        add(&engine, &id("beef"), "f00");
        assert_eq!(found(&engine, "f00").unwrap(), "f00");
        // A taken name is refused, naming its holder.
        let lock = engine.lock().unwrap();
        let index = engine.index_for_update(&lock).unwrap();
        let err = engine.check_name_free(&lock, &index, "web").unwrap_err();
        assert!(
            matches!(&err, Error::NameInUse { id: holder, .. } if *holder == id("abc1")),
            "{err}"
        );
        engine.check_name_free(&lock, &index, "free").unwrap();
    }

    #[test]
    fn a_name_lookup_reads_only_the_record_it_finds() {
        let (_dir, engine) = engine();
        three(&engine);
        // Another container's unreadable record no longer fails every lookup.
        let db: ContainerId = id("abc2").parse().unwrap();
        std::fs::write(engine.record_path(&db), b"{ garbage").unwrap();
        assert_eq!(found(&engine, "web").unwrap(), "web");
        assert_eq!(found(&engine, "f00d").unwrap(), "cache");
    }

    #[test]
    fn rename_and_rm_keep_the_index_with_the_records() {
        let (_dir, engine) = engine();
        three(&engine);
        let web: ContainerId = id("abc1").parse().unwrap();
        engine.rename_container("web", "front").unwrap();
        assert_eq!(found(&engine, "front").unwrap(), "front");
        assert!(matches!(
            engine.find_record("web"),
            Err(Error::NoSuchContainer(_))
        ));
        assert!(index_matches_records(&engine));
        // The old name is free again; the new one is taken.
        let err = engine.rename_container("db", "front").unwrap_err();
        assert!(matches!(err, Error::NameInUse { .. }), "{err}");
        engine.rename_container("db", "web").unwrap();
        assert_eq!(found(&engine, "web").unwrap(), "web");

        engine.remove_stopped(&web).unwrap();
        assert!(matches!(
            engine.find_record("front"),
            Err(Error::NoSuchContainer(_))
        ));
        // With abc1 gone, abc is a unique prefix.
        assert_eq!(found(&engine, "abc").unwrap(), "web");
        assert!(index_matches_records(&engine));
        let index = engine.read_index().unwrap();
        assert_eq!(index.ids_named("front").count(), 0);
    }

    /// One `rm` of many names: each gets its own outcome in order, a container named
    /// twice goes once, and the index and `tmp/` are left as if each had gone alone.
    #[test]
    fn many_names_are_removed_together_each_with_its_outcome() {
        let (_dir, engine) = engine();
        three(&engine);
        let names = ["web", "abc1", "/db", "nope", "abc", "f00d"];
        let outcomes: Vec<std::result::Result<String, String>> = engine
            .remove_containers(&names, false, false)
            .into_iter()
            .map(|r| r.map(|r| r.name).map_err(|e| e.to_string()))
            .collect();
        assert_eq!(
            outcomes,
            [
                Ok("web".to_owned()),
                Err("No such container: abc1".to_owned()),
                Ok("db".to_owned()),
                Err("No such container: nope".to_owned()),
                Err("multiple IDs found with provided prefix: abc".to_owned()),
                Ok("cache".to_owned()),
            ]
        );
        assert!(engine.load_records().unwrap().is_empty());
        assert!(index_matches_records(&engine));
        let tmp = std::fs::read_dir(engine.paths().tmp_dir()).unwrap().count();
        assert_eq!(tmp, 0);
        assert!(engine.system_check().unwrap().is_empty());
    }

    #[test]
    fn entries_a_crash_left_are_skipped() {
        let (_dir, engine) = engine();
        three(&engine);
        let lock = engine.lock().unwrap();
        let mut index = engine.index_for_update(&lock).unwrap();
        // Killed after indexing a create (no directory), and midway through renaming
        // web to front (both names indexed, the record still web).
        let ghost: ContainerId = id("abc9").parse().unwrap();
        engine
            .index_new_container(&lock, &mut index, &ghost, "ghost")
            .unwrap();
        let web: ContainerId = id("abc1").parse().unwrap();
        engine
            .index_new_name(&lock, &mut index, &web, "front")
            .unwrap();
        drop(lock);
        for missing in ["ghost", "front", "abc9"] {
            assert!(
                matches!(engine.find_record(missing), Err(Error::NoSuchContainer(_))),
                "{missing}"
            );
        }
        assert_eq!(found(&engine, "web").unwrap(), "web");
        // The ghost's prefix is no rival: only directories are containers.
        assert_eq!(
            found(&engine, "abc").unwrap_err(),
            "multiple IDs found with provided prefix: abc"
        );
        let lock = engine.lock().unwrap();
        let index = engine.index_for_update(&lock).unwrap();
        engine.check_name_free(&lock, &index, "ghost").unwrap();
        engine.check_name_free(&lock, &index, "front").unwrap();
    }

    /// Indexes that can't be trusted: each time, every container is still found by name
    /// and prefix, a taken name stays taken, the next writer rebuilds it, and `system
    /// check` reports it until `--repair` rebuilds it.
    #[test]
    fn a_missing_stale_or_damaged_index_falls_back_and_is_repaired() {
        let (_dir, engine) = engine();
        three(&engine);
        let path = engine.container_index_path();
        let whole = std::fs::read(&path).unwrap();
        let text = String::from_utf8(whole.clone()).unwrap();
        // The index before `cache` was created (an older berth made it, say).
        let stale: String = {
            let lines: Vec<&str> = text.lines().filter(|l| !l.ends_with(" cache")).collect();
            let entries = lines.len() - 2;
            format!("{}\nend {entries}\n", lines[..lines.len() - 1].join("\n"))
        };
        let cut = &whole[..whole.len() - 8];
        let bad_name = text.replace(" web\n", " we/b\n");
        type Breakage<'a> = (&'a str, Box<dyn Fn(&Path) + 'a>);
        let breakages: Vec<Breakage> = vec![
            (
                "missing",
                Box::new(|p: &Path| std::fs::remove_file(p).unwrap()),
            ),
            (
                "stale",
                Box::new(|p: &Path| std::fs::write(p, &stale).unwrap()),
            ),
            (
                "cut short",
                Box::new(|p: &Path| std::fs::write(p, cut).unwrap()),
            ),
            (
                "garbage",
                Box::new(|p: &Path| std::fs::write(p, b"\xff\x00garbage").unwrap()),
            ),
            (
                "empty",
                Box::new(|p: &Path| std::fs::write(p, b"").unwrap()),
            ),
            (
                "bad name",
                Box::new(|p: &Path| std::fs::write(p, &bad_name).unwrap()),
            ),
            (
                "huge",
                Box::new(|p: &Path| {
                    let f = std::fs::File::create(p).unwrap();
                    f.set_len(INDEX_MAX_BYTES + 1).unwrap();
                }),
            ),
            (
                "fifo",
                Box::new(|p: &Path| {
                    std::fs::remove_file(p).unwrap();
                    nix::unistd::mkfifo(p, nix::sys::stat::Mode::S_IRUSR).unwrap();
                }),
            ),
            (
                "symlink",
                Box::new(|p: &Path| {
                    std::fs::remove_file(p).unwrap();
                    std::os::unix::fs::symlink("/dev/zero", p).unwrap();
                }),
            ),
        ];
        for (what, break_it) in &breakages {
            break_it(&path);
            if *what != "stale" {
                assert!(engine.read_index().is_err(), "{what}");
            }
            for (wanted, name) in [("web", "web"), ("cache", "cache"), ("f0", "cache")] {
                assert_eq!(found(&engine, wanted).unwrap(), name, "{what}: {wanted}");
            }
            assert!(
                found(&engine, "abc")
                    .unwrap_err()
                    .starts_with("multiple IDs"),
                "{what}"
            );
            let findings = engine.system_check().unwrap();
            assert!(
                findings
                    .iter()
                    .any(|f| f.kind.as_str() == "container-index"),
                "{what}: {findings:?}"
            );
            {
                let lock = engine.lock().unwrap();
                let index = engine.index_for_update(&lock).unwrap();
                let err = engine.check_name_free(&lock, &index, "cache");
                assert!(matches!(err, Err(Error::NameInUse { .. })), "{what}");
            }
            // The writer above rebuilt it.
            assert!(index_matches_records(&engine), "{what}");
            break_it(&path);
            let (done, remaining) = engine.system_repair().unwrap();
            assert!(done.iter().all(|(_, r)| r.is_ok()), "{what}: {done:?}");
            assert!(remaining.is_empty(), "{what}: {remaining:?}");
            assert!(index_matches_records(&engine), "{what}");
            // An rm with an unreadable index rebuilds it too (a stale one that reads is
            // left for the next create or check: lookups don't trust it).
            if *what != "stale" {
                let doomed = add(&engine, &id("dead"), "doomed");
                break_it(&path);
                engine.remove_stopped(&doomed).unwrap();
                assert!(index_matches_records(&engine), "{what}");
            }
        }
    }

    #[test]
    fn index_text_round_trips_and_refuses_anything_else() {
        let index = NameIndex {
            entries: vec![
                (id("a").parse().unwrap(), IndexedName::Name("web".into())),
                (id("b").parse().unwrap(), IndexedName::NoRecord),
                (id("c").parse().unwrap(), IndexedName::Unindexable),
            ],
        };
        let text = index.to_text();
        assert_eq!(NameIndex::parse(text.as_bytes()).unwrap(), index);
        for bad in [
            String::new(),
            text.replace("end 3", "end 2"),
            text.replace("end 3\n", "end 3"),
            text.replace("berth-containers 1", "berth-containers 2"),
            text.replace(" web", " a b"),
            text.replace(&id("b"), "zz"),
            format!("{text}{}\n", id("d")),
        ] {
            assert!(NameIndex::parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert!(NameIndex::parse(&text.as_bytes()[..text.len() - 3]).is_err());
    }
}
