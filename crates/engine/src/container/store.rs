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
//! The file is a log: a writer appends one line per change (`+ID NAME`, `-ID`, `=ID
//! NAME`) in one `write(2)`, so a create or an rm costs a few dozen bytes however many
//! containers there are, never a rewrite of the whole (nor the flush a rename over it
//! asks of the filesystem). Once most lines are dead it is written anew (temp + rename).
//! A line cut short (a power cut during an append) makes it damaged: rebuilt as above.
//!
//! ID prefixes are matched against the container directories themselves (their names
//! are the IDs), so the index never decides which IDs exist.
//!
//! An empty record file counts as no record: only the unsynced record of a `--rm`
//! container (see [`Engine::save_record_of_run`]) can be left so, by a power cut, and such
//! a container is gone with the host's crash (`system check --repair` removes it).

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use super::lifecycle::valid_name;
use super::record::ContainerRecord;
use crate::error::{Context, Error, Result};
use crate::ids::{ContainerId, Digest};
use crate::state::{
    write_atomic_with, write_json_atomic, write_json_atomic_with, Durability, StateLock,
};
use crate::Engine;

const RECORD_FILE: &str = "record.json";

/// The index's file, in the root beside `containers/` (whose entries are all containers).
const INDEX_FILE: &str = "containers.index";
/// The first line: the format and its version.
const INDEX_HEADER: &str = "berth-containers 2";
/// An older berth's: the whole index at each write, ended by `end COUNT`. Read as it is;
/// the next writer writes it anew in the current format.
const INDEX_HEADER_V1: &str = "berth-containers 1";
/// A larger file is taken for damaged, unread: 64 MiB is some 600,000 containers.
const INDEX_MAX_BYTES: u64 = 64 << 20;
/// The name field of a record whose name can't be written on a line (never one berth
/// accepts): a lookup by name then reads the records.
const UNINDEXABLE: &str = "?";
/// Lines beyond which a log with mostly dead lines is written anew.
const INDEX_SLACK: usize = 64;

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
    /// The lines of the log it was read from (0 if made in memory): when they outnumber
    /// the entries by far, the next writer compacts the file.
    lines: usize,
}

/// One change to the index: a line of its log.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    /// `+ID NAME`, `+ID ?` or `+ID`.
    Add(ContainerId, IndexedName),
    /// `-ID`: every entry of the container.
    Drop(ContainerId),
    /// `=ID NAME` (or `=ID ?`): every entry of the container but this name's.
    Keep(ContainerId, IndexedName),
}

impl Change {
    fn parse(line: &str) -> std::result::Result<Change, String> {
        let bad_id = || "an entry has an invalid ID".to_owned();
        let id = |s: &str| s.parse::<ContainerId>().map_err(|_| bad_id());
        let name = |s: &str| {
            valid_name(s)
                .then(|| s.to_owned())
                .ok_or_else(|| "an entry has an invalid name".to_owned())
        };
        let (op, rest) = line.split_at_checked(1).ok_or_else(bad_id)?;
        let split = rest.split_once(' ');
        match (op, split) {
            ("+", None) => Ok(Change::Add(id(rest)?, IndexedName::NoRecord)),
            ("+", Some((i, UNINDEXABLE))) => Ok(Change::Add(id(i)?, IndexedName::Unindexable)),
            ("+", Some((i, n))) => Ok(Change::Add(id(i)?, IndexedName::Name(name(n)?))),
            ("-", None) => Ok(Change::Drop(id(rest)?)),
            ("=", Some((i, UNINDEXABLE))) => Ok(Change::Keep(id(i)?, IndexedName::Unindexable)),
            ("=", Some((i, n))) => Ok(Change::Keep(id(i)?, IndexedName::Name(name(n)?))),
            _ => Err("an entry has an unknown form".into()),
        }
    }

    fn push_line(&self, text: &mut String) {
        let (op, id, name) = match self {
            Change::Add(id, name) => ('+', id, name),
            Change::Drop(id) => ('-', id, &IndexedName::NoRecord),
            Change::Keep(id, name) => ('=', id, name),
        };
        let name = match name {
            IndexedName::Name(name) => Some(name.as_str()),
            IndexedName::Unindexable => Some(UNINDEXABLE),
            IndexedName::NoRecord => None,
        };
        text.push(op);
        text.push_str(id.as_str());
        if let Some(name) = name {
            text.push(' ');
            text.push_str(name);
        }
        text.push('\n');
    }
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
    /// Parses the file's text: the header, then one change per line, each ended by a
    /// newline, so an append cut short is told from a whole one.
    pub(crate) fn parse(bytes: &[u8]) -> std::result::Result<NameIndex, String> {
        let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| "cut short".to_owned())?;
        let mut lines = body.split('\n');
        match lines.next() {
            Some(INDEX_HEADER) => {}
            Some(INDEX_HEADER_V1) => return NameIndex::parse_v1(lines),
            _ => return Err("unknown header".into()),
        }
        let changes = lines
            .map(Change::parse)
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut index = NameIndex {
            entries: Vec::new(),
            lines: changes.len(),
        };
        index.apply_all(changes);
        Ok(index)
    }

    /// Version 1's lines after the header: one `ID NAME` (or `ID ?`, or `ID`) per entry,
    /// then `end COUNT`. Its `lines` ask the next writer to write it anew.
    fn parse_v1<'a>(
        mut lines: impl DoubleEndedIterator<Item = &'a str>,
    ) -> std::result::Result<NameIndex, String> {
        let count = lines
            .next_back()
            .and_then(|last| last.strip_prefix("end "))
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| "cut short".to_owned())?;
        let changes = lines
            .map(|line| Change::parse(&format!("+{line}")))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        if changes.len() != count {
            return Err(format!("{} entries where it says {count}", changes.len()));
        }
        let mut index = NameIndex {
            entries: Vec::new(),
            lines: usize::MAX / 4,
        };
        index.apply_all(changes);
        Ok(index)
    }

    /// The whole index as a fresh log: the header and one `+` line per entry.
    pub(crate) fn to_text(&self) -> String {
        let mut text = String::with_capacity(32 + self.entries.len() * 96);
        text.push_str(INDEX_HEADER);
        text.push('\n');
        for (id, name) in &self.entries {
            Change::Add(id.clone(), name.clone()).push_line(&mut text);
        }
        text
    }

    /// Applies `changes` in order, in time linear in the entries and the changes (a log
    /// of 1,000 containers is read at every lookup).
    fn apply_all(&mut self, changes: impl IntoIterator<Item = Change>) {
        let mut entries: Vec<Option<(ContainerId, IndexedName)>> =
            std::mem::take(&mut self.entries)
                .into_iter()
                .map(Some)
                .collect();
        // Where each container's entries are (most have one).
        let mut at: HashMap<ContainerId, Vec<usize>> = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            if let Some((id, _)) = entry {
                at.entry(id.clone()).or_default().push(i);
            }
        }
        for change in changes {
            match change {
                Change::Add(id, name) => {
                    let places = at.entry(id.clone()).or_default();
                    let known = places
                        .iter()
                        .any(|&i| entries[i].as_ref().is_some_and(|(_, n)| *n == name));
                    if !known {
                        places.push(entries.len());
                        entries.push(Some((id, name)));
                    }
                }
                Change::Drop(id) => {
                    for i in at.remove(&id).unwrap_or_default() {
                        entries[i] = None;
                    }
                }
                Change::Keep(id, keep) => {
                    if let Some(places) = at.get_mut(&id) {
                        places.retain(|&i| {
                            let kept = entries[i].as_ref().is_some_and(|(_, n)| *n == keep);
                            if !kept {
                                entries[i] = None;
                            }
                            kept
                        });
                    }
                }
            }
        }
        self.entries = entries.into_iter().flatten().collect();
    }

    /// True when the log on disk has so many dead lines that appending is the costlier.
    fn wants_compaction(&self, more: usize) -> bool {
        self.lines + more > 2 * self.entries.len() + INDEX_SLACK
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

    /// The entries in a fixed order, to compare two indexes.
    pub(crate) fn sorted(mut self) -> NameIndex {
        self.entries.sort();
        self.entries.dedup();
        self.lines = 0;
        self
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The IDs on lines of the log `bytes` (the index file as read, whole or not) that give
/// a container the name `name`: `+ID NAME` or `=ID NAME`, live or since dropped, each
/// once. Found by a search for the name, without parsing the other lines: a lookup of
/// one name costs the same with 1,000 containers as with one. None unless the file is
/// in the current format. Every ID is only a candidate, checked against its record (see
/// the module's rules): a stale or damaged line can cost a record read, never a wrong
/// answer, and a live name always has its line (the index is a superset).
fn ids_named_in(bytes: &[u8], name: &str) -> Option<Vec<ContainerId>> {
    let body = bytes.strip_prefix(INDEX_HEADER.as_bytes())?;
    if !body.starts_with(b"\n") {
        return None;
    }
    // Names hold neither a space nor a newline: none but a valid one can be on a line.
    if !valid_name(name) {
        return Some(Vec::new());
    }
    let mut field = Vec::with_capacity(name.len() + 2);
    field.push(b' ');
    field.extend_from_slice(name.as_bytes());
    field.push(b'\n');
    // A container ID's 64 hex digits.
    let id_len = 64;
    let mut ids: Vec<ContainerId> = Vec::new();
    for at in memchr::memmem::find_iter(body, &field) {
        // `\nOP` then the ID right before the name: a line of its own, not the tail of
        // a longer name.
        let Some(start) = at.checked_sub(id_len + 2) else {
            continue;
        };
        let line_start = body[start] == b'\n' && matches!(body[start + 1], b'+' | b'=');
        let id = std::str::from_utf8(&body[start + 2..at])
            .ok()
            .and_then(|id| id.parse::<ContainerId>().ok());
        if let (true, Some(id)) = (line_start, id) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    Some(ids)
}

/// Name resolution for a verb given many names (`rm` of 1,000): the index is read and
/// `containers/` listed at most once, however many names; each answer is still checked
/// against the record it reads (see the module's rules). The first name is searched for
/// in the file ([`ids_named_in`]); the file is parsed whole only for a second name, or
/// when the name is not found. Names are resolved as things stand when each is asked: a
/// verb that removes containers between two asks may get a stale miss from the listing,
/// so it resolves every name first.
pub(crate) struct Lookup<'e> {
    engine: &'e Engine,
    /// The index file's bytes, or why there are none.
    file: std::result::Result<Vec<u8>, IndexProblem>,
    /// The file parsed, once needed.
    parsed: Option<Parsed>,
    /// True once a name was searched for in the file.
    searched: bool,
    /// The container directories, and whether the index has them all (read once, at
    /// the first name not found by ID or name).
    listed: Option<(Vec<ContainerId>, bool)>,
}

/// The index file parsed (None if it can't be used), with its names.
struct Parsed {
    index: Option<NameIndex>,
    by_name: HashMap<String, Vec<ContainerId>>,
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
        let searched = match (&self.file, self.searched) {
            (Ok(bytes), false) => ids_named_in(bytes, wanted),
            _ => None,
        };
        self.searched = true;
        let candidates = match searched {
            Some(ids) => ids,
            None => self
                .parsed()
                .by_name
                .get(wanted)
                .cloned()
                .unwrap_or_default(),
        };
        for id in &candidates {
            match engine.read_record(id)? {
                Some(record) if record.name == wanted => return Ok(record),
                _ => {} // a stale entry
            }
        }
        let (listed, answers) = match &self.listed {
            Some(listed) => listed,
            None => {
                let listed = engine.container_dir_ids()?;
                let index = &self.parsed().index;
                let answers = index.as_ref().is_some_and(|i| i.answers_for(&listed));
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

    /// The index parsed, and its names, parsed at the first call.
    fn parsed(&mut self) -> &Parsed {
        self.parsed.get_or_insert_with(|| {
            let index = match &self.file {
                Ok(bytes) => NameIndex::parse(bytes).ok(),
                Err(_) => None,
            };
            let mut by_name: HashMap<String, Vec<ContainerId>> = HashMap::new();
            for (id, name) in index.iter().flat_map(|i| &i.entries) {
                if let IndexedName::Name(name) = name {
                    by_name.entry(name.clone()).or_default().push(id.clone());
                }
            }
            Parsed { index, by_name }
        })
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

    /// A record as readers see it, with its running health check's latest state; None
    /// if it has none, or an empty one (see the module's last paragraph).
    fn read_record(&self, id: &ContainerId) -> Result<Option<ContainerRecord>> {
        let path = self.record_path(id);
        let mut record: ContainerRecord = match std::fs::read(&path) {
            Ok(bytes) if bytes.is_empty() => return Ok(None),
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
                path: path.clone(),
                reason: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).context(|| format!("reading {}", path.display())),
        };
        self.overlay_health(&mut record);
        Ok(Some(record))
    }

    pub(crate) fn load_record(&self, id: &ContainerId) -> Result<ContainerRecord> {
        self.read_record(id)?
            .ok_or_else(|| Error::NoSuchContainer(id.to_string()))
    }

    pub(crate) fn save_record(&self, record: &ContainerRecord) -> Result<()> {
        write_json_atomic(&self.record_path(&record.id), record)
    }

    /// Saves a record fsync'd unless the container is `--rm`'s or a build step's
    /// ([`super::ContainerConfig::is_throwaway`]): such a container does not outlive a
    /// crash of the host (its layer is volatile too), so its record need not
    /// either. A power cut may then leave it old, or empty if it was new, and an empty
    /// one is no record: the directory is removed by `system check --repair`.
    pub(crate) fn save_record_of_run(&self, record: &ContainerRecord) -> Result<()> {
        let durability = if record.config.is_throwaway() {
            Durability::Unsynced
        } else {
            Durability::Synced
        };
        write_json_atomic_with(&self.record_path(&record.id), record, durability)
    }

    /// Resolves a name, full ID or unique ID prefix, as Docker does: an exact ID wins,
    /// then an exact name, then a unique prefix. Reads one record for an ID or a name
    /// the index has; a prefix or a miss costs one listing of `containers/` more.
    pub(crate) fn find_record(&self, name_or_id: &str) -> Result<ContainerRecord> {
        self.lookup().find(name_or_id)
    }

    /// A [`Lookup`]: resolves many names over one read of the index.
    pub(crate) fn lookup(&self) -> Lookup<'_> {
        Lookup {
            engine: self,
            file: self.read_index_file(),
            parsed: None,
            searched: false,
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
        NameIndex::parse(&self.read_index_file()?).map_err(IndexProblem::Damaged)
    }

    /// The index file's bytes, read as [`Engine::read_index`] says.
    fn read_index_file(&self) -> std::result::Result<Vec<u8>, IndexProblem> {
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
        Ok(bytes)
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
        Ok(NameIndex { entries, lines: 0 })
    }

    /// Writes the index the records make now (lock held): `system check --repair`, and
    /// any writer that finds it missing or damaged.
    pub(crate) fn rebuild_container_index(&self, held: &StateLock) -> Result<NameIndex> {
        let mut index = self.index_from_records()?;
        self.write_index(held, &index, Durability::Synced)?;
        index.lines = index.entries.len();
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

    /// The whole index, anew (temp + rename).
    fn write_index(&self, _held: &StateLock, index: &NameIndex, when: Durability) -> Result<()> {
        write_atomic_with(
            &self.container_index_path(),
            index.to_text().as_bytes(),
            when,
        )
    }

    /// Applies `changes` to `index` (as read from the file, lock held) and records them:
    /// appended to the file in one write, or the whole written anew when its dead lines
    /// outweigh its live ones. `Synced` for an entry that a record about to be written
    /// needs and whose loss nothing would show; `Unsynced` where a lost change leaves a
    /// superset, or a gap the listing of `containers/` shows.
    fn change_index(
        &self,
        held: &StateLock,
        index: &mut NameIndex,
        changes: Vec<Change>,
        when: Durability,
    ) -> Result<()> {
        let mut text = String::with_capacity(changes.len() * 80);
        for change in &changes {
            change.push_line(&mut text);
        }
        let count = changes.len();
        index.apply_all(changes);
        if index.wants_compaction(count) {
            self.write_index(held, index, when)?;
            index.lines = index.entries.len();
            return Ok(());
        }
        let path = self.container_index_path();
        let appended = (|| {
            use std::io::Write;
            // Never through a link put in its place; a file gone since it was read is
            // written anew below.
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
                .open(&path)?;
            if !file.metadata()?.is_file() {
                return Err(std::io::Error::other("not a regular file"));
            }
            // One write: a process killed midway can't leave half a line, and a lookup
            // reading meanwhile sees a line whole or finds the file cut short.
            file.write_all(text.as_bytes())?;
            if when == Durability::Synced {
                file.sync_data()?;
            }
            Ok(())
        })();
        match appended {
            Ok(()) => {
                index.lines += count;
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.write_index(held, index, when)?;
                index.lines = index.entries.len();
                Ok(())
            }
            Err(e) => Err(e).context(|| format!("writing {}", path.display())),
        }
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
    /// held): one append for them all. A missing or damaged index is rebuilt from the
    /// records instead.
    pub(crate) fn unindex_all(&self, held: &StateLock, ids: &[ContainerId]) -> Result<()> {
        let Ok(mut index) = self.read_index() else {
            return self.rebuild_container_index(held).map(drop);
        };
        let changes = ids.iter().cloned().map(Change::Drop).collect();
        self.change_index(held, &mut index, changes, Durability::Unsynced)
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
        let add = Change::Add(id.clone(), IndexedName::of(name));
        self.change_index(held, index, vec![add], Durability::Unsynced)
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
        let add = Change::Add(id.clone(), IndexedName::of(name));
        self.change_index(held, index, vec![add], Durability::Synced)
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
        let change = match keep {
            Some(name) => Change::Keep(id.clone(), IndexedName::of(name)),
            None => Change::Drop(id.clone()),
        };
        self.change_index(held, &mut index, vec![change], Durability::Unsynced)
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
    fn a_name_is_searched_for_on_the_lines_that_give_it() {
        let (a, b, c, d) = (id("a"), id("b"), id("c"), id("d"));
        let log = format!(
            "{INDEX_HEADER}\n+{a} web\n+{b} db\n={a} web2\n-{b}\n+{c} web\n+{d} xweb\n+{d}\n\
             +{c} web\n+{d} web.x\n+short web\n+{d} ?\n"
        );
        let ids = |name: &str| {
            ids_named_in(log.as_bytes(), name).map(|ids| {
                ids.iter()
                    .map(|i| i.as_str().to_owned())
                    .collect::<Vec<_>>()
            })
        };
        // Dropped or renamed since, each once: the records decide.
        assert_eq!(ids("web"), Some(vec![a.clone(), c.clone()]));
        assert_eq!(ids("web2"), Some(vec![a.clone()]));
        assert_eq!(ids("db"), Some(vec![b.clone()]));
        assert_eq!(ids("web.x"), Some(vec![d.clone()]));
        for none in ["x", "eb", "?", "a b", "", "2"] {
            assert_eq!(ids(none), Some(Vec::new()), "{none}");
        }
        // A line cut short or damaged elsewhere still gives the others.
        assert_eq!(
            ids_named_in(format!("{log}+{d} we").as_bytes(), "db"),
            Some(vec![b.parse().unwrap()])
        );
        // Only the current format is searched.
        let v1 = format!("{INDEX_HEADER_V1}\n{a} web\nend 1\n");
        assert_eq!(ids_named_in(v1.as_bytes(), "web"), None);
        assert_eq!(ids_named_in(b"berth-containers 22\n", "web"), None);
        assert_eq!(ids_named_in(b"", "web"), None);
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
        // The index before `cache` was created (its append lost to a power cut, say).
        let stale: String = text
            .lines()
            .filter(|l| !l.ends_with(" cache"))
            .map(|l| format!("{l}\n"))
            .collect();
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
        let (a, b, c, d) = (id("a"), id("b"), id("c"), id("d"));
        let index = NameIndex {
            entries: vec![
                (a.parse().unwrap(), IndexedName::Name("web".into())),
                (b.parse().unwrap(), IndexedName::NoRecord),
                (c.parse().unwrap(), IndexedName::Unindexable),
            ],
            lines: 3,
        };
        let text = index.to_text();
        assert_eq!(NameIndex::parse(text.as_bytes()).unwrap(), index);
        // A log reads as the result of its changes, in order: a rename of web to front
        // (both, then front only), d added and dropped, b's entries dropped.
        let log = format!("{text}+{a} front\n={a} front\n+{d} ?\n-{d}\n-{b}\n");
        let read = NameIndex::parse(log.as_bytes()).unwrap();
        assert_eq!(
            read.entries,
            [
                (c.parse().unwrap(), IndexedName::Unindexable),
                (a.parse().unwrap(), IndexedName::Name("front".into())),
            ]
        );
        assert_eq!(read.lines, 8);
        for bad in [
            String::new(),
            text.trim_end().to_owned(),
            text.replace("berth-containers 2", "berth-containers 1"),
            text.replace(" web", " a b"),
            text.replace(&b, "zz"),
            format!("{text}*{d}\n"),
            format!("{text}-{d} web\n"),
            format!("{text}={d}\n"),
            format!("{text}\n"),
            format!("berth-containers 1\n{a} web\nend 2\n"),
            format!("berth-containers 1\n{a} web\n"),
            format!("berth-containers 1\n{a} we/b\nend 1\n"),
        ] {
            assert!(NameIndex::parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
        // Version 1, an older berth's whole index, reads as the same entries.
        let v1 = format!("berth-containers 1\n{a} web\n{b}\n{c} ?\nend 3\n");
        let read = NameIndex::parse(v1.as_bytes()).unwrap();
        assert_eq!(read.entries, index.entries);
        assert!(read.wants_compaction(1));
        assert!(NameIndex::parse(&log.as_bytes()[..log.len() - 3]).is_err());
    }

    /// An index an older berth wrote (version 1, the whole at each write) still answers
    /// lookups and satisfies `system check`; the next writer writes it anew in the log
    /// format, and appends from then on.
    #[test]
    fn an_older_berths_index_is_read_then_written_anew() {
        let (_dir, engine) = engine();
        three(&engine);
        let path = engine.container_index_path();
        let mut v1 = String::from("berth-containers 1\n");
        for (first, name) in [("abc1", "web"), ("abc2", "db"), ("f00d", "cache")] {
            v1.push_str(&format!("{} {name}\n", id(first)));
        }
        v1.push_str("end 3\n");
        std::fs::write(&path, &v1).unwrap();
        assert!(index_matches_records(&engine));
        assert_eq!(found(&engine, "db").unwrap(), "db");
        let findings = engine.system_check().unwrap();
        assert!(
            !findings
                .iter()
                .any(|f| f.kind.as_str() == "container-index"),
            "{findings:?}"
        );
        add(&engine, &id("beef"), "extra");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("berth-containers 2\n"), "{text}");
        assert!(index_matches_records(&engine));
        assert_eq!(found(&engine, "extra").unwrap(), "extra");
    }

    /// A create, a rename and an rm each add a line to the file, in place (the same
    /// inode, never a rewrite of the whole); the log reads as the records say.
    #[test]
    fn changes_are_appended_to_the_index() {
        use std::os::unix::fs::MetadataExt;
        let (_dir, engine) = engine();
        three(&engine);
        let path = engine.container_index_path();
        let inode = std::fs::metadata(&path).unwrap().ino();
        let lines = |engine: &Engine| {
            std::fs::read_to_string(engine.container_index_path())
                .unwrap()
                .lines()
                .count()
        };
        let before = lines(&engine);
        add(&engine, &id("beef"), "extra");
        engine.rename_container("extra", "renamed").unwrap();
        let beef: ContainerId = id("beef").parse().unwrap();
        engine.remove_stopped(&beef).unwrap();
        // One line for the create, two for the rename (the new name, then the old one
        // dropped), one for the rm.
        assert_eq!(lines(&engine), before + 4);
        assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with(&format!("-{}\n", id("beef"))), "{text}");
        assert!(index_matches_records(&engine));
        assert_eq!(found(&engine, "web").unwrap(), "web");
        assert!(matches!(
            engine.find_record("renamed"),
            Err(Error::NoSuchContainer(_))
        ));
        // (The helper's directories have a wider mode than create's: not our concern.)
        let findings = engine.system_check().unwrap();
        assert!(
            findings.iter().all(|f| f.kind.as_str() == "permissions"),
            "{findings:?}"
        );
    }

    /// However many containers come and go, the log stays within a bound of the live
    /// entries: once dead lines outweigh them, the next writer writes it anew.
    #[test]
    fn a_log_of_dead_lines_is_written_anew() {
        let (_dir, engine) = engine();
        three(&engine);
        for n in 0..100 {
            let id = add(&engine, &id(&format!("{n:04x}")), &format!("c{n}"));
            engine.remove_stopped(&id).unwrap();
        }
        let text = std::fs::read_to_string(engine.container_index_path()).unwrap();
        let lines = text.lines().count() - 1;
        assert!(lines <= 2 * 3 + INDEX_SLACK, "{lines} lines");
        assert!(index_matches_records(&engine));
        // (The helper's directories have a wider mode than create's: not our concern.)
        let findings = engine.system_check().unwrap();
        assert!(
            findings.iter().all(|f| f.kind.as_str() == "permissions"),
            "{findings:?}"
        );
    }

    /// A power cut during an append can leave a line cut short at the end: the index is
    /// then damaged, never misread; lookups read the records, `system check` reports it,
    /// `--repair` (or the next writer) rebuilds it, and appends go on after that.
    #[test]
    fn an_append_cut_short_is_damage_that_is_repaired() {
        let (_dir, engine) = engine();
        three(&engine);
        let path = engine.container_index_path();
        let mut torn = std::fs::read(&path).unwrap();
        torn.extend_from_slice(format!("+{} hal", id("dead")).as_bytes());
        std::fs::write(&path, &torn).unwrap();
        assert_eq!(
            engine.read_index(),
            Err(IndexProblem::Damaged("cut short".into()))
        );
        assert_eq!(found(&engine, "db").unwrap(), "db");
        assert!(matches!(
            engine.find_record("hal"),
            Err(Error::NoSuchContainer(_))
        ));
        let findings = engine.system_check().unwrap();
        assert!(
            findings
                .iter()
                .any(|f| f.kind.as_str() == "container-index"),
            "{findings:?}"
        );
        let (done, remaining) = engine.system_repair().unwrap();
        assert!(done.iter().all(|(_, r)| r.is_ok()), "{done:?}");
        assert!(remaining.is_empty(), "{remaining:?}");
        assert!(index_matches_records(&engine));
        // Torn again: the next create rebuilds it, then appends its entry.
        std::fs::write(&path, &torn).unwrap();
        add(&engine, &id("cafe"), "next");
        assert!(index_matches_records(&engine));
        assert_eq!(found(&engine, "next").unwrap(), "next");
    }

    /// An empty record (a `--rm` container's unsynced record after a power cut) is no
    /// record: listing and lookups skip it rather than fail, and `system check --repair`
    /// removes the directory.
    #[test]
    fn an_empty_record_is_no_container() {
        let (_dir, engine) = engine();
        three(&engine);
        let db: ContainerId = id("abc2").parse().unwrap();
        std::fs::write(engine.record_path(&db), b"").unwrap();
        let names: Vec<String> = engine
            .load_records()
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(names, ["web", "cache"]);
        assert!(matches!(
            engine.find_record("db"),
            Err(Error::NoSuchContainer(_))
        ));
        // abc is a unique prefix now: abc2 is no container.
        assert_eq!(found(&engine, "abc").unwrap(), "web");
        let findings = engine.system_check().unwrap();
        assert!(
            findings.iter().any(|f| f.kind.as_str() == "container-dir"),
            "{findings:?}"
        );
        let (done, remaining) = engine.system_repair().unwrap();
        assert!(done.iter().all(|(_, r)| r.is_ok()), "{done:?}");
        assert!(remaining.is_empty(), "{remaining:?}");
        assert!(!engine.container_dir(&db).exists());
        assert!(index_matches_records(&engine));
    }
}
