//! The events journal: Docker's event stream without a daemon. Whichever process makes a
//! change (a CLI verb, a container's monitor, later the dashboard) appends one JSON line to
//! `<root>/events.jsonl`; readers replay it and follow it with inotify, so every `berth`
//! process sees every other's changes at once.
//!
//! The journal is bounded: past `MAX_JOURNAL` bytes the writer renames it to
//! `events.jsonl.1` (replacing the older one) and starts afresh, so at most twice that is
//! kept, and a follower loses nothing unless the journal rotates three times between two of
//! its reads. Appends and rotations hold an flock of their own, never the engine lock: an event
//! must not wait on a long `load`, and a failed append never fails the change it reports.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use super::error::{Context, Error, Result};
use super::Engine;

/// Bytes after which the journal is rotated.
pub(crate) const MAX_JOURNAL: u64 = 4 << 20;
/// A journal line longer than this is damage, not an event; it is skipped.
const MAX_LINE: usize = 64 * 1024;
/// An event's encoded size at most: its attributes (labels are an image's, or whoever
/// made the container's) are cut to fit, far under [`MAX_LINE`] and [`MAX_JOURNAL`], so
/// no event is skipped as damage or rotates others away.
const MAX_EVENT: usize = 32 * 1024;
/// Labels copied into a container's event at most, and the bytes kept of each key and
/// value.
const MAX_EVENT_LABELS: usize = 64;
const MAX_ATTRIBUTE: usize = 256;
const JOURNAL: &str = "events.jsonl";

/// What an event is about, as Docker names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectType {
    Container,
    Image,
    Volume,
    Network,
}

impl ObjectType {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Container => "container",
            ObjectType::Image => "image",
            ObjectType::Volume => "volume",
            ObjectType::Network => "network",
        }
    }
}

/// The object an event is about: its ID (or name, for volumes) and attributes such as
/// `name`, `image` and `exitCode`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Attributes", default)]
    pub attributes: BTreeMap<String, String>,
}

/// One event, in the shape of Docker's `docker events --format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    #[serde(rename = "Type")]
    pub object: ObjectType,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: Actor,
    pub scope: String,
    pub time: i64,
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}

impl Event {
    pub fn new(object: ObjectType, action: impl Into<String>, id: impl Into<String>) -> Event {
        let now = Utc::now();
        Event {
            object,
            action: action.into(),
            actor: Actor {
                id: id.into(),
                attributes: BTreeMap::new(),
            },
            scope: "local".into(),
            time: now.timestamp(),
            time_nano: now.timestamp_nanos_opt().unwrap_or(i64::MAX),
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<String>) -> Event {
        self.actor.attributes.insert(key.into(), value.into());
        self
    }

    pub fn when(&self) -> DateTime<Utc> {
        Utc.timestamp_nanos(self.time_nano)
    }
}

/// An event about a container, with Docker's attributes: its labels (the first
/// `MAX_EVENT_LABELS`, each cut to `MAX_ATTRIBUTE` bytes), then its name and image,
/// set last as Docker does, so a label named `name` or `image` can't stand for them.
pub(crate) fn container_event(record: &super::container::ContainerRecord, action: &str) -> Event {
    let mut event = Event::new(ObjectType::Container, action, record.id.as_str());
    event
        .actor
        .attributes
        .extend(bounded_attributes(&record.config.labels));
    event
        .with("name", &record.name)
        .with("image", &record.image)
}

/// The first [`MAX_EVENT_LABELS`] of `attributes`, each key and value cut to
/// [`MAX_ATTRIBUTE`] bytes.
fn bounded_attributes(
    attributes: &BTreeMap<String, String>,
) -> impl Iterator<Item = (String, String)> + '_ {
    attributes
        .iter()
        .take(MAX_EVENT_LABELS)
        .map(|(k, v)| (cut(k, MAX_ATTRIBUTE), cut(v, MAX_ATTRIBUTE)))
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn cut(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// The event as it goes in the journal: at most [`MAX_EVENT`] bytes. Whatever made it
/// bigger (attributes from labels, a name the user chose) is cut: first every value to
/// [`MAX_ATTRIBUTE`] bytes, then attributes are dropped from the end, keeping the name.
fn encode_bounded(event: &Event) -> Result<Vec<u8>> {
    let encode = |e: &Event| {
        serde_json::to_vec(e).map_err(|e| Error::Runtime(format!("encoding an event: {e}")))
    };
    let line = encode(event)?;
    if line.len() <= MAX_EVENT {
        return Ok(line);
    }
    let mut event = event.clone();
    event.action = cut(&event.action, MAX_ATTRIBUTE);
    event.actor.id = cut(&event.actor.id, MAX_ATTRIBUTE);
    event.actor.attributes = bounded_attributes(&event.actor.attributes).collect();
    loop {
        let line = encode(&event)?;
        let last = event
            .actor
            .attributes
            .keys()
            .rev()
            .find(|k| *k != "name")
            .cloned();
        // With every attribute but the name gone, what is left is a few cut fields.
        match last {
            Some(key) if line.len() > MAX_EVENT => event.actor.attributes.remove(&key),
            _ => return Ok(line),
        };
    }
}

/// Docker's `--filter` for events: values of one key are alternatives, keys must all
/// match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    types: Vec<ObjectType>,
    actions: Vec<String>,
    containers: Vec<String>,
    images: Vec<String>,
    volumes: Vec<String>,
    networks: Vec<String>,
    labels: Vec<(String, Option<String>)>,
}

impl EventFilter {
    /// Adds one `key=value` condition.
    pub fn add(&mut self, key: &str, value: &str) -> Result<()> {
        let value = value.to_owned();
        match key {
            "type" => self.types.push(match value.as_str() {
                "container" => ObjectType::Container,
                "image" => ObjectType::Image,
                "volume" => ObjectType::Volume,
                "network" => ObjectType::Network,
                _ => {
                    return Err(Error::invalid(
                        "event type filter",
                        &value,
                        "use container, image, volume or network",
                    ))
                }
            }),
            "event" => self.actions.push(value),
            "container" => self.containers.push(value),
            "image" => self.images.push(value),
            "volume" => self.volumes.push(value),
            "network" => self.networks.push(value),
            "label" => self.labels.push(match value.split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (value, None),
            }),
            _ => {
                return Err(Error::invalid(
                    "filter",
                    key,
                    "events filter on type, event, container, image, volume, network and label",
                ))
            }
        }
        Ok(())
    }

    pub fn matches(&self, event: &Event) -> bool {
        let attr = |key: &str| event.actor.attributes.get(key).map(String::as_str);
        let id = event.actor.id.as_str();
        // `exec_start: sh -c ...` is the event `exec_start`.
        let action = event.action.split(':').next().unwrap_or("");
        let any = |wanted: &[String], test: &dyn Fn(&str) -> bool| {
            wanted.is_empty() || wanted.iter().any(|w| test(w))
        };
        let is = |t: ObjectType| event.object == t;
        (self.types.is_empty() || self.types.contains(&event.object))
            && any(&self.actions, &|w| w == action || w == event.action)
            && any(&self.containers, &|w| {
                is(ObjectType::Container) && (id.starts_with(w) || attr("name") == Some(w))
            })
            && any(&self.images, &|w| {
                attr("image") == Some(w)
                    || (is(ObjectType::Image) && (id == w || attr("name") == Some(w)))
            })
            && any(&self.volumes, &|w| is(ObjectType::Volume) && id == w)
            && any(&self.networks, &|w| {
                is(ObjectType::Network) && (id.starts_with(w) || attr("name") == Some(w))
            })
            && self.labels.iter().all(|(k, v)| match v {
                Some(v) => attr(k) == Some(v.as_str()),
                None => attr(k).is_some(),
            })
    }
}

impl Engine {
    fn journal(&self) -> PathBuf {
        self.paths().root().join(JOURNAL)
    }

    /// Appends an event to the journal. Best effort: the change it reports has happened,
    /// so a full disk or a damaged journal must not turn it into a failure.
    pub(crate) fn record_event(&self, event: &Event) {
        self.record_events(std::slice::from_ref(event));
    }

    /// Appends events that happened together (a container's `die` and `destroy`) in
    /// one append, under one lock. Best effort, as [`Engine::record_event`].
    pub(crate) fn record_events(&self, events: &[Event]) {
        // A build's step containers are no user's: they make no events (as BuildKit's).
        let from_build = |event: &&Event| {
            event.object == ObjectType::Container
                && event
                    .actor
                    .attributes
                    .contains_key(crate::build::BUILD_LABEL)
        };
        let kept: Vec<&Event> = events.iter().filter(|e| !from_build(e)).collect();
        if !kept.is_empty() {
            let _ = append(&self.journal(), &kept);
        }
    }

    /// Every event in the journal (the rotated part first), oldest first.
    pub fn events(&self) -> Result<Vec<Event>> {
        let mut all = Vec::new();
        for path in [rotated(&self.journal()), self.journal()] {
            match File::open(&path) {
                Ok(file) => {
                    read_lines(BufReader::new(file), &mut all)
                        .context(|| format!("reading {}", path.display()))?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).context(|| format!("reading {}", path.display())),
            }
        }
        Ok(all)
    }

    /// Follows the journal: each call to [`EventFollower::next_batch`] returns the events
    /// appended since the last. With `replay`, the first batches hold the whole journal
    /// first, read through the same descriptor, so nothing is lost or shown twice between
    /// the replay and the follow.
    pub fn follow_events(&self, replay: bool) -> Result<EventFollower> {
        EventFollower::start(self.journal(), replay)
    }
}

fn rotated(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".1");
    PathBuf::from(name)
}

fn append(journal: &Path, events: &[&Event]) -> Result<()> {
    let mut lines = Vec::new();
    for event in events {
        lines.extend(encode_bounded(event)?);
        lines.push(b'\n');
    }
    let lock_path = journal.with_extension("lock");
    let lock = super::state::open_private(&lock_path, true)
        .context(|| format!("opening {}", lock_path.display()))?;
    let _lock = Flock::lock(lock, FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .context(|| format!("locking {}", lock_path.display()))?;
    append_rotating(journal, &lines, MAX_JOURNAL)
}

/// Appends `text` to `path`, first moving a file already at `max` bytes or more to
/// `path.1` (replacing it). One write, so a reader never sees half of it. Root-only.
pub(crate) fn append_rotating(path: &Path, text: &[u8], max: u64) -> Result<()> {
    let size = std::fs::symlink_metadata(path).map_or(0, |m| m.len());
    if size >= max {
        std::fs::rename(path, rotated(path)).context(|| format!("rotating {}", path.display()))?;
    }
    let mut file =
        super::state::open_private(path, true).context(|| format!("opening {}", path.display()))?;
    file.write_all(text)
        .context(|| format!("appending to {}", path.display()))
}

/// Parses whole lines into events; a damaged or overlong line is skipped, and an
/// unfinished last line (an append in progress) is left for the next read.
fn read_lines(mut reader: impl BufRead, out: &mut Vec<Event>) -> std::io::Result<u64> {
    let mut consumed = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)?;
        if n == 0 || line.last() != Some(&b'\n') {
            if n > MAX_LINE {
                // Overlong: skip to the end of this line.
                consumed += n as u64 + skip_line(&mut reader)?;
                continue;
            }
            return Ok(consumed);
        }
        consumed += n as u64;
        if let Ok(event) = serde_json::from_slice::<Event>(&line) {
            out.push(event);
        }
    }
}

fn skip_line(reader: &mut impl BufRead) -> std::io::Result<u64> {
    let mut skipped = 0u64;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(skipped);
        }
        if let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            reader.consume(pos + 1);
            return Ok(skipped + pos as u64 + 1);
        }
        let len = buf.len();
        reader.consume(len);
        skipped += len as u64;
    }
}

/// Reads what is appended to the journal, woken by inotify (no polling), across
/// rotations.
pub struct EventFollower {
    journal: PathBuf,
    file: Option<File>,
    offset: u64,
    inotify: nix::sys::inotify::Inotify,
    /// The rotated journal's events, when replaying, until the first batch takes them.
    pending: Vec<Event>,
}

impl EventFollower {
    fn start(journal: PathBuf, replay: bool) -> Result<EventFollower> {
        use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)
            .context(|| "starting inotify".into())?;
        let dir = journal
            .parent()
            .ok_or_else(|| Error::Runtime("the journal has no directory".into()))?;
        // The directory, not the file: the file is replaced at every rotation.
        inotify
            .add_watch(
                dir,
                AddWatchFlags::IN_MODIFY | AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO,
            )
            .context(|| format!("watching {}", dir.display()))?;
        let mut pending = Vec::new();
        if replay {
            if let Ok(older) = File::open(rotated(&journal)) {
                read_lines(BufReader::new(older), &mut pending)
                    .context(|| "reading the events journal".into())?;
            }
        }
        let file = File::open(&journal).ok();
        let offset = match (&file, replay) {
            (Some(f), false) => f.metadata().map_or(0, |m| m.len()),
            _ => 0,
        };
        Ok(EventFollower {
            journal,
            file,
            offset,
            inotify,
            pending,
        })
    }

    /// The inotify descriptor: readable when the journal may have grown (for a poll loop).
    pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.inotify.as_fd()
    }

    /// Waits up to `timeout` for new events and returns them (possibly none).
    pub fn next_batch(&mut self, timeout: Duration) -> Result<Vec<Event>> {
        let mut events = std::mem::take(&mut self.pending);
        events.extend(self.read_new()?);
        if !events.is_empty() {
            return Ok(events);
        }
        self.wait(timeout);
        let _ = self.inotify.read_events();
        events = self.read_new()?;
        Ok(events)
    }

    fn wait(&self, timeout: Duration) {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        let millis = timeout.as_millis().min(i32::MAX as u128) as i32;
        let mut fds = [PollFd::new(self.fd(), PollFlags::POLLIN)];
        let _ = poll(
            &mut fds,
            PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX),
        );
    }

    fn read_new(&mut self) -> Result<Vec<Event>> {
        let mut events = Vec::new();
        let current = File::open(&self.journal).ok();
        let rotated_away = match (&self.file, &current) {
            (Some(ours), Some(now)) => !same_file(ours, now),
            (None, Some(_)) => true,
            _ => false,
        };
        if rotated_away {
            // Finish the old file (its tail may hold events we haven't read), then
            // start the new one from its beginning.
            let old = self.file.take();
            if let Some(old) = &old {
                let file = old
                    .try_clone()
                    .context(|| "reading the events journal".into())?;
                self.read_from(file, &mut events)?;
            }
            // Rotated twice since the last read: the file in between is the rotated one.
            if let Ok(between) = File::open(rotated(&self.journal)) {
                if old.as_ref().is_some_and(|o| !same_file(o, &between)) {
                    self.offset = 0;
                    self.read_from(between, &mut events)?;
                }
            }
            self.file = current;
            self.offset = 0;
        }
        if let Some(file) = self.file.as_ref() {
            let file = file
                .try_clone()
                .context(|| "reading the events journal".into())?;
            let read = self.read_from(file, &mut events)?;
            self.offset += read;
        }
        Ok(events)
    }

    /// Reads whole lines from `self.offset` on; returns the bytes consumed.
    fn read_from(&self, mut file: File, out: &mut Vec<Event>) -> Result<u64> {
        file.seek(SeekFrom::Start(self.offset))
            .context(|| "reading the events journal".into())?;
        read_lines(BufReader::new(file), out).context(|| "reading the events journal".into())
    }
}

fn same_file(a: &File, b: &File) -> bool {
    match (a.metadata(), b.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_append_read_back_and_follow_across_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(&dir.path().join("root")).unwrap();
        engine.record_event(&Event::new(ObjectType::Volume, "create", "v1"));
        let mut follower = engine.follow_events(false).unwrap();
        // Nothing new yet: the follower starts at the end.
        assert!(follower
            .next_batch(Duration::from_millis(10))
            .unwrap()
            .is_empty());
        engine
            .record_event(&Event::new(ObjectType::Volume, "destroy", "v1").with("driver", "local"));
        let batch = follower.next_batch(Duration::from_secs(1)).unwrap();
        assert_eq!(batch.len(), 1);
        assert_eq!(batch[0].action, "destroy");
        assert_eq!(batch[0].actor.attributes["driver"], "local");

        // Fill past the rotation size: the follower sees every event once, in order.
        let filler = "x".repeat(8 * 1024);
        // Two and a half journals' worth: two rotations while following.
        let count = (MAX_JOURNAL * 5 / 2 / 8192) as usize;
        for i in 0..count {
            engine.record_event(
                &Event::new(ObjectType::Container, "start", format!("{i}")).with("pad", &filler),
            );
        }
        let mut seen = Vec::new();
        while seen.len() < count {
            let batch = follower.next_batch(Duration::from_secs(1)).unwrap();
            assert!(!batch.is_empty(), "stalled after {} events", seen.len());
            seen.extend(batch.into_iter().map(|e| e.actor.id));
        }
        let expected: Vec<String> = (0..count).map(|i| i.to_string()).collect();
        assert_eq!(seen, expected);
        // Bounded: the live journal and one rotated file.
        let journal = engine.journal();
        assert!(std::fs::metadata(&journal).unwrap().len() < MAX_JOURNAL);
        assert!(rotated(&journal).exists());
        let kept = engine.events().unwrap().len();
        assert!(
            kept < count && kept * 8192 <= 2 * MAX_JOURNAL as usize,
            "{kept}"
        );
    }

    #[test]
    fn events_recorded_together_read_back_in_order_without_a_builds() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(&dir.path().join("root")).unwrap();
        engine.record_events(&[
            Event::new(ObjectType::Container, "die", "c1").with("exitCode", "0"),
            Event::new(ObjectType::Container, "die", "step").with(crate::build::BUILD_LABEL, "1"),
            Event::new(ObjectType::Container, "destroy", "c1"),
        ]);
        let events = engine.events().unwrap();
        let seen: Vec<(&str, &str)> = events
            .iter()
            .map(|e| (e.action.as_str(), e.actor.id.as_str()))
            .collect();
        assert_eq!(seen, [("die", "c1"), ("destroy", "c1")]);
        assert_eq!(events[0].actor.attributes["exitCode"], "0");
        // Only a build's events: nothing is appended, not even an empty line.
        engine
            .record_events(&[Event::new(ObjectType::Container, "start", "step")
                .with(crate::build::BUILD_LABEL, "1")]);
        assert_eq!(engine.events().unwrap().len(), 2);
        let text = std::fs::read_to_string(engine.journal()).unwrap();
        assert_eq!(text.lines().count(), 2);
    }

    #[test]
    fn damaged_and_unfinished_lines_are_skipped_or_left() {
        let event = serde_json::to_string(&Event::new(ObjectType::Image, "tag", "x")).unwrap();
        let long = "y".repeat(MAX_LINE + 10);
        let text = format!("garbage\n{long}\n{event}\n{{\"partial");
        let mut out = Vec::new();
        let consumed = read_lines(text.as_bytes(), &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(consumed as usize, text.len() - "{\"partial".len());
    }

    /// An event whose attributes are megabytes (an image's label) is cut down: it never
    /// rotates the journal on its own, so no other container's history is flushed.
    #[test]
    fn a_huge_event_does_not_flush_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(&dir.path().join("root")).unwrap();
        engine.record_event(&Event::new(ObjectType::Container, "create", "other"));
        let label = "x".repeat(5 << 20);
        for action in ["create", "start", "die"] {
            engine.record_event(
                &Event::new(ObjectType::Container, action, "huge").with("big", &label),
            );
        }
        let events = engine.events().unwrap();
        let ids: Vec<&str> = events.iter().map(|e| e.actor.id.as_str()).collect();
        assert_eq!(ids, ["other", "huge", "huge", "huge"]);
        for e in &events {
            let line = serde_json::to_vec(e).unwrap();
            assert!(line.len() <= MAX_EVENT, "{} bytes", line.len());
        }
    }

    #[test]
    fn network_filter_matches_name_or_id_prefix_of_network_events() {
        let mut filter = EventFilter::default();
        filter.add("network", "front").unwrap();
        let event = Event::new(ObjectType::Network, "connect", "abc123").with("name", "front");
        assert!(filter.matches(&event));
        let other = Event::new(ObjectType::Container, "start", "front").with("name", "front");
        assert!(!filter.matches(&other));
        let mut by_id = EventFilter::default();
        by_id.add("network", "abc").unwrap();
        assert!(by_id.matches(&event));
    }
}
