//! The two-pane file view opened on a container: the host's directories on the left, the
//! container's on the right, and the copies between them. State and the loading of
//! listings (off the draw loop); `update` decides, the worker loads and copies.

use std::collections::BTreeSet;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;

use super::effect::{CopyJob, Target};
use super::state::Cursor;
use crate::engine::{
    Context, DirEntry, DirListing, Engine, PathKind, Progress, Result, MAX_ENTRIES,
};
use crate::format::human_size;
use crate::ops::cp::{self, Dest, Options, Source, Watch};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Host,
    Container,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Host => Side::Container,
            Side::Container => Side::Host,
        }
    }
}

/// One pane: the directory shown (once loaded), the selection and the marks.
#[derive(Debug, Default)]
pub struct Pane {
    pub listing: Option<DirListing>,
    pub cursor: Cursor,
    /// Names marked for a copy.
    pub marked: BTreeSet<String>,
}

impl Pane {
    pub fn len(&self) -> usize {
        self.listing.as_ref().map_or(0, |l| l.entries.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn selected(&self) -> Option<&DirEntry> {
        self.listing
            .as_ref()
            .and_then(|l| l.entries.get(self.cursor.selected))
    }

    /// The directory shown, once loaded.
    pub fn dir(&self) -> Option<&str> {
        self.listing.as_ref().map(|l| l.path.as_str())
    }

    /// The marked names in listing order, or the selected one when none is marked.
    pub fn chosen(&self) -> Vec<String> {
        let Some(listing) = &self.listing else {
            return Vec::new();
        };
        let marked: Vec<String> = listing
            .entries
            .iter()
            .filter(|e| self.marked.contains(&e.name))
            .map(|e| e.name.clone())
            .collect();
        if !marked.is_empty() {
            return marked;
        }
        self.selected()
            .map(|e| e.name.clone())
            .into_iter()
            .collect()
    }

    pub fn has(&self, name: &str) -> bool {
        self.listing
            .as_ref()
            .is_some_and(|l| l.entries.iter().any(|e| e.name == name))
    }

    /// Takes a new listing: a different directory starts at its top with no marks.
    pub fn show(&mut self, listing: DirListing) {
        if self.dir() != Some(listing.path.as_str()) {
            self.cursor = Cursor::default();
            self.marked.clear();
        }
        let names: BTreeSet<&str> = listing.entries.iter().map(|e| e.name.as_str()).collect();
        self.marked.retain(|n| names.contains(n.as_str()));
        self.cursor.clamp(listing.entries.len());
        self.listing = Some(listing);
    }

    pub fn toggle_mark(&mut self) {
        if let Some(name) = self.selected().map(|e| e.name.clone()) {
            if !self.marked.remove(&name) {
                self.marked.insert(name);
            }
            let len = self.len();
            self.cursor.move_by(1, len);
        }
    }
}

/// A copy under way: what the progress popup shows.
#[derive(Debug, Clone)]
pub struct Copying {
    pub progress: Arc<Progress>,
    /// The entry being copied and its place among all.
    pub entry: String,
    pub index: usize,
    pub total: usize,
}

/// The open file view.
#[derive(Debug)]
pub struct FilesView {
    pub container: Target,
    pub host: Pane,
    pub inside: Pane,
    pub active: Side,
    pub copying: Option<Copying>,
    /// The screen column where the container's pane begins, set as it is drawn, so a
    /// click knows which pane it hit.
    pub split: std::cell::Cell<u16>,
}

impl FilesView {
    pub fn new(container: Target) -> FilesView {
        FilesView {
            container,
            host: Pane::default(),
            inside: Pane::default(),
            active: Side::Host,
            copying: None,
            split: Default::default(),
        }
    }

    pub fn pane(&self, side: Side) -> &Pane {
        match side {
            Side::Host => &self.host,
            Side::Container => &self.inside,
        }
    }

    /// The pane drawn at screen `column`.
    pub fn side_at(&self, column: u16) -> Side {
        if column < self.split.get() {
            Side::Host
        } else {
            Side::Container
        }
    }

    pub fn pane_mut(&mut self, side: Side) -> &mut Pane {
        match side {
            Side::Host => &mut self.host,
            Side::Container => &mut self.inside,
        }
    }
}

/// One path below a directory of either side (both use `/`).
pub fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// The directory above `dir`, or `None` at the root.
pub fn parent(dir: &str) -> Option<String> {
    let parent = Path::new(dir).parent()?;
    Some(parent.to_string_lossy().into_owned())
}

/// Which directory a pane should show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    pub side: Side,
    /// The container's ID (for the container side; kept on both for the reply's check).
    pub container: String,
    pub path: String,
}

impl ListRequest {
    pub fn load(&self, engine: &Engine) -> Result<DirListing> {
        match self.side {
            Side::Host => list_host_dir(Path::new(&self.path)),
            Side::Container => engine.list_container_dir(&self.container, &self.path),
        }
    }
}

/// A host directory as the file view shows it: at most [`MAX_ENTRIES`] names, each
/// `lstat`ed and never opened (a FIFO doesn't block, a symlink isn't followed), directories
/// first. The directory itself may be reached through symlinks: it is the user's own.
pub fn list_host_dir(dir: &Path) -> Result<DirListing> {
    let path = std::fs::canonicalize(dir).context(|| format!("listing {}", dir.display()))?;
    let read = std::fs::read_dir(&path).context(|| format!("listing {}", path.display()))?;
    let mut entries = Vec::new();
    let mut truncated = false;
    for item in read {
        if entries.len() == MAX_ENTRIES {
            truncated = true;
            break;
        }
        let item = item.context(|| format!("listing {}", path.display()))?;
        // Gone since the directory was read: not worth failing the listing.
        let Ok(meta) = std::fs::symlink_metadata(item.path()) else {
            continue;
        };
        let kind = if meta.file_type().is_symlink() {
            PathKind::Symlink
        } else if meta.is_dir() {
            PathKind::Dir
        } else if meta.is_file() {
            PathKind::File
        } else {
            PathKind::Other
        };
        let link_target = (kind == PathKind::Symlink)
            .then(|| std::fs::read_link(item.path()).ok())
            .flatten()
            .map(|t| t.to_string_lossy().into_owned());
        entries.push(DirEntry {
            name: item.file_name().to_string_lossy().into_owned(),
            kind,
            size: meta.len(),
            mode: meta.mode() & 0o7777,
            mtime: meta.mtime(),
            link_target,
            mount: None,
        });
    }
    entries.sort_by(|a, b| {
        (b.kind == PathKind::Dir)
            .cmp(&(a.kind == PathKind::Dir))
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(DirListing {
        path: path_text(&path),
        entries,
        truncated,
    })
}

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The file view copies as `berth cp` does without `-a` or `-L`.
const NO_FLAGS: Options = Options {
    archive: false,
    follow_link: false,
};

/// Runs a copy job: each entry with `berth cp`'s rules (no `-a`, no `-L`), counted into
/// the job's progress (its total measured first), `on_entry` told before each. Stops at
/// the first failure or cancel, and says what became of the entry it stopped at.
pub fn copy(
    engine: &Engine,
    job: &CopyJob,
    mut on_entry: impl FnMut(usize, &str),
) -> std::result::Result<String, String> {
    let id = &job.container.id;
    // Unknown when a source can't be measured: the popup shows motion instead.
    if let Some(total) = job
        .names
        .iter()
        .map(|name| archive_size(engine, job, name))
        .sum::<Option<u64>>()
    {
        job.progress.set_total(total);
    }
    let mut skipped = Vec::new();
    for (index, entry) in job.names.iter().enumerate() {
        on_entry(index, entry);
        let src = join(&job.src_dir, entry);
        let before = Landing::of(engine, job, entry);
        let mut watch = Watch::new(job.progress.clone());
        let dest = &job.dest_dir;
        let done = match job.from {
            Side::Host => cp::copy_in(engine, Source::Path(&src), id, dest, NO_FLAGS, &mut watch),
            Side::Container => {
                let mut note = |path, kind| skipped.push((path, kind));
                let to = Dest::Path(dest);
                cp::copy_out(engine, id, &src, to, NO_FLAGS, &mut watch, &mut note)
            }
        };
        if job.progress.is_cancelled() {
            return Err(before.cancelled(&job.names[..index]));
        }
        done.map_err(|e| format!("copying {entry}: {e}"))?;
    }
    let to = match job.from {
        Side::Host => format!("{}:{}", job.container.name, job.dest_dir),
        Side::Container => job.dest_dir.clone(),
    };
    let mut said = format!(
        "copied {} ({}) to {to}",
        job.names.join(", "),
        human_size(job.progress.bytes())
    );
    if let Some((path, kind)) = skipped.first() {
        said.push_str(&format!("; skipped {kind} {}", path.display()));
        if skipped.len() > 1 {
            said.push_str(&format!(" and {} more", skipped.len() - 1));
        }
    }
    Ok(said)
}

/// About how many bytes the tar stream of one entry of the job will be.
fn archive_size(engine: &Engine, job: &CopyJob, name: &str) -> Option<u64> {
    match job.from {
        Side::Host => {
            let dir = std::fs::File::open(&job.src_dir).ok()?;
            crate::engine::archive_size(dir.as_fd(), std::ffi::OsStr::new(name)).ok()
        }
        Side::Container => engine
            .container_archive_size(&job.container.id, &join(&job.src_dir, name))
            .ok(),
    }
}

/// Where an entry lands and what was there before the copy, to say after a cancel what
/// the destination holds.
struct Landing {
    /// As the user reads it: `web:/data/big.iso` or `/home/me/big.iso`.
    shown: String,
    source_is_dir: bool,
    existed: bool,
}

impl Landing {
    fn of(engine: &Engine, job: &CopyJob, name: &str) -> Landing {
        let src = join(&job.src_dir, name);
        let dest = join(&job.dest_dir, name);
        let host_kind = |path: &str| std::fs::symlink_metadata(path).ok().map(|m| m.is_dir());
        let container_kind = |path: &str| {
            engine
                .stat_container_path(&job.container.id, path)
                .ok()
                .map(|st| st.kind == PathKind::Dir)
        };
        let (source, existed, shown) = match job.from {
            Side::Host => (
                host_kind(&src),
                container_kind(&dest).is_some(),
                format!("{}:{dest}", job.container.name),
            ),
            Side::Container => (container_kind(&src), host_kind(&dest).is_some(), dest),
        };
        Landing {
            shown,
            source_is_dir: source.unwrap_or(false),
            existed,
        }
    }

    /// One line: files are renamed into place only once complete, so a cancelled file
    /// left the old one (or nothing), and a directory holds no file cut short.
    fn cancelled(&self, done_before: &[String]) -> String {
        let state = match (self.source_is_dir, self.existed) {
            (true, _) => "partly copied, no file in it cut short",
            (false, true) => "kept as it was",
            (false, false) => "not created",
        };
        let mut said = format!("copy cancelled: {} {state}", self.shown);
        if !done_before.is_empty() {
            said.push_str(&format!(" ({} copied before)", done_before.join(", ")));
        }
        said
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_listing_is_bounded_lstats_and_sorts_dirs_first() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b"), b"12345").unwrap();
        std::fs::create_dir(dir.path().join("z")).unwrap();
        std::os::unix::fs::symlink("/nowhere", dir.path().join("a")).unwrap();
        nix::unistd::mkfifo(&dir.path().join("f"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        let listing = list_host_dir(dir.path()).unwrap();
        let got: Vec<(&str, PathKind)> = listing
            .entries
            .iter()
            .map(|e| (e.name.as_str(), e.kind))
            .collect();
        assert_eq!(
            got,
            [
                ("z", PathKind::Dir),
                ("a", PathKind::Symlink),
                ("b", PathKind::File),
                ("f", PathKind::Other)
            ]
        );
        assert_eq!(listing.entries[1].link_target.as_deref(), Some("/nowhere"));
        assert_eq!(listing.entries[2].size, 5);
        assert!(!listing.truncated);

        let big = tempfile::tempdir().unwrap();
        for i in 0..MAX_ENTRIES + 5 {
            std::fs::File::create(big.path().join(i.to_string())).unwrap();
        }
        let listing = list_host_dir(big.path()).unwrap();
        assert_eq!(listing.entries.len(), MAX_ENTRIES);
        assert!(listing.truncated);
    }

    mod keys {
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

        use super::super::*;
        use crate::engine::{ContainerConfig, ContainerRecord, ContainerState, Status};
        use crate::engine::{ContainerId, Digest};
        use crate::tui::effect::{CopyJob, Effect};
        use crate::tui::keymap::Keymap;
        use crate::tui::msg::Msg;
        use crate::tui::snapshot::Snapshot;
        use crate::tui::state::{App, Popup};
        use crate::tui::update::update;

        fn entry(name: &str, kind: PathKind) -> DirEntry {
            DirEntry {
                name: name.into(),
                kind,
                size: 1,
                mode: 0o644,
                mtime: 0,
                link_target: None,
                mount: None,
            }
        }

        fn listing(path: &str, entries: &[(&str, PathKind)]) -> Box<DirListing> {
            Box::new(DirListing {
                path: path.into(),
                entries: entries.iter().map(|(n, k)| entry(n, *k)).collect(),
                truncated: false,
            })
        }

        fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
            update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
        }

        fn keys(app: &mut App, text: &str) -> Vec<Effect> {
            text.chars()
                .flat_map(|c| key(app, KeyCode::Char(c)))
                .collect()
        }

        /// The file view opened with `f` on container web, host at /h (dir d, files a b c),
        /// the container at / (dir etc, file a).
        fn opened() -> (App, String) {
            let mut app = App::new(Keymap::default());
            let record = ContainerRecord {
                id: ContainerId::random(),
                name: "web".into(),
                created: chrono::Utc::now(),
                image: "busybox".into(),
                image_id: Digest::of_bytes(b"image"),
                chain_ids: Vec::new(),
                config: ContainerConfig::default(),
                state: ContainerState {
                    status: Status::Running,
                    ..Default::default()
                },
            };
            let id = record.id.to_string();
            let snapshot = Snapshot {
                containers: vec![record],
                ..Default::default()
            };
            update(&mut app, Msg::Loaded(Ok(Box::new(snapshot))));
            let effects = keys(&mut app, "f");
            let asked: Vec<(Side, &str)> = effects
                .iter()
                .map(|e| match e {
                    Effect::ListDir(r) if r.container == id => (r.side, r.path.as_str()),
                    other => panic!("expected listings, got {other:?}"),
                })
                .collect();
            assert_eq!(asked, [(Side::Host, "."), (Side::Container, "/")]);
            for (side, result) in [
                (
                    Side::Host,
                    listing(
                        "/h",
                        &[
                            ("d", PathKind::Dir),
                            ("a", PathKind::File),
                            ("b", PathKind::File),
                            ("c", PathKind::File),
                        ],
                    ),
                ),
                (
                    Side::Container,
                    listing("/", &[("etc", PathKind::Dir), ("a", PathKind::File)]),
                ),
            ] {
                update(
                    &mut app,
                    Msg::Listed {
                        side,
                        container: id.clone(),
                        result: Ok(result),
                    },
                );
            }
            (app, id)
        }

        fn copy_of(effects: &[Effect]) -> &CopyJob {
            match effects {
                [Effect::Copy(job)] => job,
                other => panic!("expected one copy, got {other:?}"),
            }
        }

        #[test]
        fn marked_entries_copy_to_the_other_pane_and_cancel() {
            let (mut app, _) = opened();
            // Down to b, mark b and c (space moves down), copy.
            keys(&mut app, "jj");
            key(&mut app, KeyCode::Char(' '));
            key(&mut app, KeyCode::Char(' '));
            let effects = keys(&mut app, "c");
            let job = copy_of(&effects);
            assert_eq!(job.from, Side::Host);
            assert_eq!(job.src_dir, "/h");
            assert_eq!(job.names, ["b", "c"]);
            assert_eq!(job.dest_dir, "/");
            assert_eq!(job.container.name, "web");
            assert_eq!(app.popup, Some(Popup::Copy));
            let copying = app.files.as_ref().and_then(|f| f.copying.clone()).unwrap();
            assert!(Arc::ptr_eq(&copying.progress, &job.progress));
            // Other keys wait; x cancels through the shared counter.
            assert!(keys(&mut app, "jc").is_empty());
            assert!(!job.progress.is_cancelled());
            keys(&mut app, "x");
            assert!(job.progress.is_cancelled());
            // The end leaves the popup on what was kept, says it below too and lists
            // both panes again; a key closes the popup.
            let said = "copy cancelled: web:/b kept as it was";
            let effects = update(&mut app, Msg::Copied(Err(said.into())));
            match &app.popup {
                Some(Popup::Output { title, text, .. }) => {
                    assert_eq!((title.as_str(), text.as_str()), ("copy cancelled", said))
                }
                other => panic!("expected the cancel's popup, got {other:?}"),
            }
            assert_eq!(effects.len(), 2, "{effects:?}");
            assert!(effects.iter().all(|e| matches!(e, Effect::ListDir(_))));
            assert_eq!(app.status.as_ref().map(|s| s.error), Some(true));
        }

        #[test]
        fn an_existing_name_asks_before_overwriting() {
            let (mut app, _) = opened();
            // The container's a onto the host, where an a is.
            key(&mut app, KeyCode::Tab);
            keys(&mut app, "j");
            assert!(keys(&mut app, "c").is_empty());
            match &app.popup {
                Some(Popup::Confirm { question, .. }) => {
                    assert_eq!(question, "overwrite a in /h?")
                }
                other => panic!("expected a confirmation, got {other:?}"),
            }
            assert!(keys(&mut app, "n").is_empty());
            assert_eq!(app.popup, None);
            keys(&mut app, "c");
            let effects = keys(&mut app, "y");
            let job = copy_of(&effects);
            assert_eq!(
                (job.from, job.names.as_slice()),
                (Side::Container, &["a".to_owned()][..])
            );
            assert_eq!((job.src_dir.as_str(), job.dest_dir.as_str()), ("/", "/h"));
            assert_eq!(app.popup, Some(Popup::Copy));
            // The host's b is new in the container: no question.
            let (mut app, _) = opened();
            keys(&mut app, "jj");
            assert_eq!(copy_of(&keys(&mut app, "c")).names, ["b"]);
        }

        #[test]
        fn enter_descends_backspace_goes_up_and_escape_closes() {
            let (mut app, id) = opened();
            let list = |side, path: &str| {
                vec![Effect::ListDir(ListRequest {
                    side,
                    container: id.clone(),
                    path: path.into(),
                })]
            };
            // A file doesn't open; a directory does.
            keys(&mut app, "j");
            assert!(key(&mut app, KeyCode::Enter).is_empty());
            keys(&mut app, "k");
            assert_eq!(key(&mut app, KeyCode::Enter), list(Side::Host, "/h/d"));
            assert_eq!(key(&mut app, KeyCode::Backspace), list(Side::Host, "/"));
            keys(&mut app, "l");
            assert_eq!(key(&mut app, KeyCode::Enter), list(Side::Container, "/etc"));
            // At the root there is nothing above.
            assert!(key(&mut app, KeyCode::Backspace).is_empty());
            // A listing error is one line; the pane keeps what it showed.
            update(
                &mut app,
                Msg::Listed {
                    side: Side::Container,
                    container: id.clone(),
                    result: Err("web:/etc: permission denied".into()),
                },
            );
            assert_eq!(app.files.as_ref().and_then(|f| f.inside.dir()), Some("/"));
            assert_eq!(
                app.status.as_ref().map(|s| s.text.as_str()),
                Some("web:/etc: permission denied")
            );
            key(&mut app, KeyCode::Esc);
            assert!(app.files.is_none());
        }
    }

    #[test]
    fn paths_join_and_go_up() {
        assert_eq!(join("/", "etc"), "/etc");
        assert_eq!(join("/etc", "passwd"), "/etc/passwd");
        assert_eq!(parent("/etc").as_deref(), Some("/"));
        assert_eq!(parent("/"), None);
    }
}
