//! The dashboard's whole state. Rendering reads it; only `update` changes it.

use std::cell::Cell;
use std::collections::{BTreeSet, VecDeque};

use chrono::{DateTime, Utc};

use super::detail::{ContainerDetail, ImageDetail, NetworkDetail, VolumeDetail};
use super::effect::Effect;
use super::files::FilesView;
use super::keymap::Keymap;
use super::snapshot::{ImageRow, Snapshot, StatsBoard};
use crate::engine::{ContainerRecord, Event, NetworkState, Status, VolumeInfo};

/// Events kept for the events pane.
pub const EVENTS_KEPT: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Containers,
    Images,
    Volumes,
    Networks,
    Events,
    Projects,
}

impl View {
    pub const ALL: [View; 6] = [
        View::Containers,
        View::Images,
        View::Volumes,
        View::Networks,
        View::Events,
        View::Projects,
    ];

    pub fn title(self) -> &'static str {
        match self {
            View::Containers => "Containers",
            View::Images => "Images",
            View::Volumes => "Volumes",
            View::Networks => "Networks",
            View::Events => "Events",
            View::Projects => "Projects",
        }
    }

    pub fn parse(name: &str) -> Option<View> {
        View::ALL
            .into_iter()
            .find(|v| v.title().eq_ignore_ascii_case(name))
    }

    pub fn shift(self, by: isize) -> View {
        let n = Self::ALL.len() as isize;
        let at = Self::ALL.iter().position(|v| *v == self).unwrap_or(0) as isize;
        Self::ALL[(at + by).rem_euclid(n) as usize]
    }
}

/// An event's key: its time to the nanosecond, its action and what it is about.
fn event_key(event: &Event) -> String {
    format!("{}/{}/{}", event.time_nano, event.action, event.actor.id)
}

/// A Projects row's key: its project, and its service for a service's row.
fn project_key(row: &super::projects::Row) -> String {
    match row.service() {
        Some(service) => format!("{}/{service}", row.project()),
        None => row.project().to_owned(),
    }
}

/// Rows a page key moves before a frame has said how many a list shows.
pub const FIRST_PAGE: usize = 10;

/// A selection in a list and the first row on screen. The offset is view state that the
/// renderer adjusts to keep the selection visible, hence the `Cell`.
#[derive(Debug, Default, Clone)]
pub struct Cursor {
    pub selected: usize,
    pub offset: Cell<usize>,
    /// Rows the last frame showed (0 before the first), so a click below them is ignored.
    pub height: Cell<usize>,
}

impl Cursor {
    pub fn move_by(&mut self, by: isize, len: usize) {
        if len == 0 {
            self.selected = 0;
            return;
        }
        let at = self.selected as isize + by;
        self.selected = at.clamp(0, len as isize - 1) as usize;
    }

    /// A page key (`pages` of -1 or 1): the selection and the first row drawn move by the
    /// rows the last frame showed (ten before the first frame), as less and k9s turn a
    /// page, so the selection keeps its place on screen until an end stops it.
    pub fn page(&mut self, pages: isize, len: usize) {
        let rows = match self.height.get() {
            0 => FIRST_PAGE,
            rows => rows,
        };
        let by = pages.saturating_mul(rows as isize);
        self.move_by(by, len);
        let last_top = len.saturating_sub(rows) as isize;
        let offset = (self.offset.get() as isize).saturating_add(by);
        self.offset.set(offset.clamp(0, last_top) as usize);
    }

    /// The index of the row drawn at screen `row` (see `mouse::list_row`), if a row of a
    /// list of `len` is there.
    pub fn row_at(&self, row: u16, header: bool, len: usize) -> Option<usize> {
        let on_screen = super::mouse::list_row(row, header)?;
        let height = self.height.get();
        if height > 0 && on_screen >= height {
            return None;
        }
        Some(self.offset.get() + on_screen).filter(|&index| index < len)
    }

    pub fn clamp(&mut self, len: usize) {
        self.selected = self.selected.min(len.saturating_sub(1));
    }

    /// The first row to draw in `height` rows, moved only as far as the selection needs.
    pub fn scroll_into_view(&self, height: usize) -> usize {
        self.height.set(height);
        let offset = self.offset_for(height);
        self.offset.set(offset);
        offset
    }

    /// The rows a frame of `height` rows will show (as [`Cursor::scroll_into_view`]
    /// scrolls), without moving anything.
    pub fn window(&self, height: usize) -> std::ops::Range<usize> {
        let first = self.offset_for(height);
        first..first + height
    }

    fn offset_for(&self, height: usize) -> usize {
        let offset = self.offset.get();
        if self.selected < offset {
            self.selected
        } else if height > 0 && self.selected >= offset + height {
            self.selected + 1 - height
        } else {
            offset
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerSort {
    Created,
    Name,
    Status,
    Cpu,
    Memory,
}

impl ContainerSort {
    /// True if the order follows the live stats: which rows come first is known only
    /// once they are sampled.
    pub fn by_usage(self) -> bool {
        matches!(self, ContainerSort::Cpu | ContainerSort::Memory)
    }

    pub fn next(self) -> ContainerSort {
        match self {
            ContainerSort::Status => ContainerSort::Name,
            ContainerSort::Name => ContainerSort::Created,
            ContainerSort::Created => ContainerSort::Cpu,
            ContainerSort::Cpu => ContainerSort::Memory,
            ContainerSort::Memory => ContainerSort::Status,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ContainerSort::Created => "created",
            ContainerSort::Name => "name",
            ContainerSort::Status => "running first",
            ContainerSort::Cpu => "cpu",
            ContainerSort::Memory => "memory",
        }
    }
}

/// A detail screen drawn over a pane.
#[derive(Debug, Clone)]
pub enum Detail {
    /// A container's tabs.
    Container(ContainerDetail),
    /// An image's layers.
    Image(ImageDetail),
    /// A volume's files.
    Volume(VolumeDetail),
    /// A network's diagram.
    Network(NetworkDetail),
    /// The build under way or last ended (its state is in `App::build`).
    Build,
}

impl Detail {
    fn same_kind(&self, other: &Detail) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

/// The detail on top of the stack if it is of one kind, and a mutable twin.
macro_rules! top_detail {
    ($name:ident, $name_mut:ident, $variant:ident, $ty:ty) => {
        pub fn $name(&self) -> Option<&$ty> {
            match self.details.last()? {
                Detail::$variant(detail) => Some(detail),
                _ => None,
            }
        }

        pub fn $name_mut(&mut self) -> Option<&mut $ty> {
            match self.details.last_mut()? {
                Detail::$variant(detail) => Some(detail),
                _ => None,
            }
        }
    };
}

#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    /// Every key; `page` when they don't all fit on the screen.
    Help {
        page: usize,
    },
    Confirm {
        question: String,
        effect: Effect,
    },
    /// The `:` line being typed; `tail` stays after the cursor (`network connect ▏ web`
    /// when a key opened it for a container).
    Command {
        input: String,
        tail: String,
    },
    /// What a `:` command printed.
    Output {
        title: String,
        text: String,
        /// Lines scrolled back from the end.
        back: usize,
    },
    /// The running verb (`App::verb`), live; x or esc ends it.
    Verb {
        /// Lines scrolled back from the end.
        back: usize,
    },
    RunForm(super::form::RunForm),
    /// A copy of the file view under way (its state is in `FilesView::copying`).
    Copy,
    /// The reference of an image to pull being typed, and why the last one was refused.
    PullInput {
        input: String,
        error: Option<String>,
    },
    /// The pull dialog (its state is in `App::pull`); closed, the pull goes on.
    Pull,
    /// The build form.
    BuildForm(super::build::BuildForm),
    /// A compose project's logs, merged; `back` lines scrolled back from the end.
    ProjectLogs {
        logs: super::projects::ProjectLogs,
        back: usize,
    },
}

/// Output of a verb kept for its popup: the end of it.
pub const VERB_OUTPUT_KEPT: usize = 256 * 1024;

/// The `:` verb under way whose output the popup follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerbRun {
    pub pid: u32,
    pub line: String,
    /// What it printed so far (the last [`VERB_OUTPUT_KEPT`] bytes).
    pub text: String,
    /// Clock ticks since it started: a verb still running after one opens its popup,
    /// so even a silent one can be ended.
    pub ticks: u8,
    /// Asked to end; its end is on the way.
    pub stopping: bool,
}

impl VerbRun {
    pub fn push(&mut self, text: &str) {
        self.text.push_str(text);
        if self.text.len() > VERB_OUTPUT_KEPT {
            let mut cut = self.text.len() - VERB_OUTPUT_KEPT;
            while !self.text.is_char_boundary(cut) {
                cut += 1;
            }
            self.text.drain(..cut);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    pub text: String,
    pub error: bool,
    /// Ticks left before it fades.
    pub ttl: u8,
}

#[derive(Debug)]
pub struct App {
    pub keymap: Keymap,
    /// The screen's width at the last frame, for what a click on the tab bar hits.
    pub width: std::cell::Cell<u16>,
    /// The screen's height at the last frame, for whether the preview pane shows.
    pub height: std::cell::Cell<u16>,
    /// Whether running containers on screen are having their stats sampled each second
    /// (set by the runtime).
    pub stats_live: bool,
    /// The colours every view draws with.
    pub theme: super::theme::Theme,
    pub view: View,
    pub snapshot: Snapshot,
    pub loaded: bool,
    pub stats: StatsBoard,
    pub events: VecDeque<Event>,
    pub containers: Cursor,
    pub images: Cursor,
    pub volumes: Cursor,
    pub networks: Cursor,
    pub events_cursor: Cursor,
    pub projects_cursor: Cursor,
    /// The Projects pane's files as last read and its profile choices.
    pub projects: super::projects::ProjectsPane,
    /// Running containers only, unless toggled (as `ps` and `ps -a`).
    pub show_all: bool,
    pub sort: ContainerSort,
    /// Rows marked for a bulk action, by ID.
    pub marked: BTreeSet<String>,
    /// Per view, the text rows must contain.
    pub filter: String,
    /// Whether keys go to the filter being typed.
    pub filtering: bool,
    /// The detail screens over the pane, as a stack: enter pushes, esc pops, the last
    /// is on screen.
    pub details: Vec<Detail>,
    /// What each volume holds, measured as its row comes on screen.
    pub volume_sizes: std::collections::HashMap<String, crate::engine::DirUsage>,
    /// The volumes whose size this visit of the pane has asked for: each is measured
    /// once a visit, when its row is first on screen.
    pub volumes_asked: std::collections::HashSet<String>,
    /// The two-pane file view, drawn over the pane while open.
    pub files: Option<FilesView>,
    pub popup: Option<Popup>,
    pub status: Option<StatusLine>,
    /// The clock views render times against, so a frame can be reproduced.
    pub now: DateTime<Utc>,
    /// Set when the next frame would differ from the last one.
    pub dirty: bool,
    pub quit: bool,
    /// Actions under way that the user waits for, oldest first ("stopping web").
    pub busy: Vec<String>,
    /// The first key of a sequence (`g` of `gg`), waiting for the second.
    pub pending_key: Option<super::keymap::Key>,
    /// Whether the dashboard has the mouse; off, the terminal selects text.
    pub mouse: bool,
    /// The last left click, to tell a double click.
    pub last_click: Option<super::mouse::Click>,
    /// The pull under way, or ended while its dialog is open.
    pub pull: Option<super::pull::PullState>,
    /// An image to select once the list holds it (the one just pulled).
    pub select_image: Option<crate::engine::Digest>,
    /// The run form last sent and its verb's line: if that run fails, the form opens
    /// again with its fields and the error.
    pub sent_form: Option<(String, super::form::RunForm)>,
    /// The `:` verb under way, followed by its popup.
    pub verb: Option<VerbRun>,
    /// The build under way, or the last one ended.
    pub build: Option<super::build::BuildState>,
    /// The cursor and histories of whatever line is typed.
    pub line: super::line::LineEditor,
    /// What the preview pane of a wide screen shows (see `preview.rs`).
    pub preview: Option<super::preview::Preview>,
}

impl App {
    pub fn new(keymap: Keymap) -> App {
        App {
            keymap,
            width: Default::default(),
            height: Default::default(),
            stats_live: false,
            theme: super::theme::Theme::default(),
            view: View::Containers,
            snapshot: Snapshot::default(),
            loaded: false,
            stats: StatsBoard::default(),
            events: VecDeque::new(),
            containers: Cursor::default(),
            images: Cursor::default(),
            volumes: Cursor::default(),
            networks: Cursor::default(),
            events_cursor: Cursor::default(),
            projects_cursor: Cursor::default(),
            projects: Default::default(),
            show_all: true,
            // Running first: with many containers, the ones that matter lead.
            sort: ContainerSort::Status,
            marked: BTreeSet::new(),
            filter: String::new(),
            filtering: false,
            details: Vec::new(),
            volume_sizes: Default::default(),
            volumes_asked: Default::default(),
            files: None,
            popup: None,
            status: None,
            now: Utc::now(),
            dirty: true,
            quit: false,
            busy: Vec::new(),
            pending_key: None,
            mouse: true,
            last_click: None,
            pull: None,
            select_image: None,
            sent_form: None,
            verb: None,
            build: None,
            line: Default::default(),
            preview: None,
        }
    }

    top_detail!(
        container_detail,
        container_detail_mut,
        Container,
        ContainerDetail
    );
    top_detail!(image_detail, image_detail_mut, Image, ImageDetail);
    top_detail!(volume_detail, volume_detail_mut, Volume, VolumeDetail);
    top_detail!(network_detail, network_detail_mut, Network, NetworkDetail);

    /// Opens a detail over the one on screen; one of the same kind is replaced (enter on
    /// an open detail opens it afresh), so esc always goes back to what was under it.
    pub fn push_detail(&mut self, detail: Detail) {
        if self
            .details
            .last()
            .is_some_and(|top| top.same_kind(&detail))
        {
            self.details.pop();
        }
        self.details.push(detail);
    }

    /// What `/` edits: the open container detail's log search (or `&` its filter), the
    /// layer view's tree search, else the list's filter.
    pub fn filter_text(&self) -> &str {
        if let Some(image) = self.image_detail() {
            return &image.files.search;
        }
        match self.container_detail() {
            Some(detail) => detail.logs.typed(),
            None => &self.filter,
        }
    }

    /// What the footer says before the text being typed.
    pub fn filter_prompt(&self) -> &'static str {
        use super::logs::LogInput;
        match self.container_detail().map(|d| d.logs.input) {
            Some(LogInput::Search) => "search: ",
            Some(LogInput::Filter) => "filter: ",
            None => "/",
        }
    }

    fn matches_filter(&self, fields: &[&str]) -> bool {
        self.filter.is_empty()
            || fields
                .iter()
                .any(|f| f.to_lowercase().contains(&self.filter.to_lowercase()))
    }

    /// The containers the pane lists, filtered and sorted.
    pub fn visible_containers(&self) -> Vec<&ContainerRecord> {
        let mut rows: Vec<&ContainerRecord> = self
            .snapshot
            .containers
            .iter()
            .filter(|c| self.show_all || c.state.status == Status::Running)
            .filter(|c| self.matches_filter(&[&c.name, c.id.as_str(), &c.image]))
            .collect();
        let cpu = |c: &ContainerRecord| self.stats.latest.get(&c.id).map_or(0.0, |s| s.cpu_percent);
        let memory =
            |c: &ContainerRecord| self.stats.latest.get(&c.id).map_or(0, |s| s.memory_usage);
        // The other orders are the snapshot's own (`order_containers`).
        match self.sort {
            ContainerSort::Created | ContainerSort::Name | ContainerSort::Status => {}
            ContainerSort::Cpu => rows.sort_by(|a, b| cpu(b).total_cmp(&cpu(a))),
            ContainerSort::Memory => rows.sort_by_key(|c| std::cmp::Reverse(memory(c))),
        }
        rows
    }

    /// Sorts by the next column, the same container still selected wherever it moves (as
    /// oxker does).
    pub fn next_sort(&mut self) {
        let selected = self.selected_container().map(|c| c.id.clone());
        self.sort = self.sort.next();
        self.order_containers();
        let at = selected.and_then(|id| self.visible_containers().iter().position(|c| c.id == id));
        if let Some(at) = at {
            self.containers.selected = at;
        }
    }

    /// Puts the snapshot's containers in the order of the sort, once a load or a change
    /// of sort rather than at every frame (a thousand names compared as people count take
    /// a millisecond or two). The usage sorts follow each stats sample instead, on top.
    pub fn order_containers(&mut self) {
        let rows = &mut self.snapshot.containers;
        match self.sort {
            ContainerSort::Created => rows.sort_by_key(|c| std::cmp::Reverse(c.created)),
            ContainerSort::Name => rows.sort_by(|a, b| natord::compare(&a.name, &b.name)),
            ContainerSort::Status => rows.sort_by(|a, b| {
                status_rank(a.state.status)
                    .cmp(&status_rank(b.state.status))
                    .then_with(|| natord::compare(&a.name, &b.name))
            }),
            ContainerSort::Cpu | ContainerSort::Memory => {}
        }
    }

    /// The running containers whose rows (or open detail) are on a screen of `height`
    /// rows, from the list's last scroll offset: the only ones whose stats are sampled.
    pub fn running_on_screen(&self, height: u16) -> Vec<ContainerRecord> {
        self.running_rows_on_screen(height)
            .into_iter()
            .cloned()
            .collect()
    }

    /// [`App::running_on_screen`] without copying the records: the event loop asks after
    /// every message, and copies only when the set changed.
    pub fn running_rows_on_screen(&self, height: u16) -> Vec<&ContainerRecord> {
        let running = |c: &&ContainerRecord| c.state.status == Status::Running;
        if self.container_detail().is_some() {
            return self
                .detail_container()
                .filter(running)
                .into_iter()
                .collect();
        }
        if self.view != View::Containers || self.files.is_some() {
            return Vec::new();
        }
        let first = self.containers.offset.get();
        self.visible_containers()
            .into_iter()
            .skip(first)
            .take(height as usize)
            .filter(running)
            .collect()
    }

    pub fn visible_images(&self) -> Vec<&ImageRow> {
        self.snapshot
            .images
            .iter()
            .filter(|i| {
                let refs: Vec<String> =
                    i.summary.references.iter().map(|r| r.to_string()).collect();
                let mut fields: Vec<&str> = refs.iter().map(String::as_str).collect();
                let id = i.summary.id.to_string();
                fields.push(&id);
                self.matches_filter(&fields)
            })
            .collect()
    }

    pub fn visible_volumes(&self) -> Vec<&VolumeInfo> {
        self.snapshot
            .volumes
            .iter()
            .filter(|v| self.matches_filter(&[&v.volume.name]))
            .collect()
    }

    pub fn visible_networks(&self) -> Vec<&NetworkState> {
        self.snapshot
            .networks
            .iter()
            .filter(|n| {
                let subnet = n.subnet.map(|s| s.to_string()).unwrap_or_default();
                self.matches_filter(&[&n.name, &n.id, n.driver.as_str(), &subnet, &n.bridge_name])
            })
            .collect()
    }

    pub fn selected_network(&self) -> Option<&NetworkState> {
        self.visible_networks().get(self.networks.selected).copied()
    }

    /// The network whose detail is open, if it still exists.
    pub fn detail_network(&self) -> Option<&NetworkState> {
        let detail = self.network_detail()?;
        self.snapshot.networks.iter().find(|n| n.id == detail.id)
    }

    pub fn visible_events(&self) -> Vec<&Event> {
        self.events
            .iter()
            .rev()
            .filter(|e| {
                let name = e.actor.attributes.get("name").map_or("", String::as_str);
                self.matches_filter(&[&e.action, &e.actor.id, name, e.object.as_str()])
            })
            .collect()
    }

    /// The Projects pane's rows: projects with their services, those matching the filter
    /// (a project matching keeps all its services).
    pub fn visible_projects(&self) -> Vec<super::projects::Row> {
        let rows = super::projects::rows(&self.snapshot.containers, &self.projects);
        let shown: BTreeSet<&str> = rows
            .iter()
            .filter(|r| self.matches_filter(&[r.project(), r.service().unwrap_or("")]))
            .map(|r| r.project())
            .collect();
        let shown: BTreeSet<String> = shown.into_iter().map(str::to_owned).collect();
        rows.into_iter()
            .filter(|r| shown.contains(r.project()))
            .collect()
    }

    pub fn selected_project_row(&self) -> Option<super::projects::Row> {
        self.visible_projects()
            .into_iter()
            .nth(self.projects_cursor.selected)
    }

    pub fn selected_container(&self) -> Option<&ContainerRecord> {
        self.visible_containers()
            .get(self.containers.selected)
            .copied()
    }

    pub fn selected_image(&self) -> Option<&ImageRow> {
        self.visible_images().get(self.images.selected).copied()
    }

    pub fn selected_volume(&self) -> Option<&VolumeInfo> {
        self.visible_volumes().get(self.volumes.selected).copied()
    }

    /// The container whose detail is open, if it still exists.
    pub fn detail_container(&self) -> Option<&ContainerRecord> {
        self.container_by_id(&self.container_detail()?.id)
    }

    pub fn container_by_id(&self, id: &str) -> Option<&ContainerRecord> {
        self.snapshot
            .containers
            .iter()
            .find(|c| c.id.as_str() == id)
    }

    /// The number of rows in the current pane.
    pub fn rows_in_view(&self) -> usize {
        match self.view {
            View::Containers => self.visible_containers().len(),
            View::Images => self.visible_images().len(),
            View::Volumes => self.visible_volumes().len(),
            View::Networks => self.visible_networks().len(),
            View::Events => self.visible_events().len(),
            View::Projects => self.visible_projects().len(),
        }
    }

    /// What the row at `index` of `view`'s list is, to find it again once the rows move
    /// (a reload, a stats sample under a usage sort, the filter, new events above): a
    /// container's or an image's ID, a volume's name, a network's ID, a project and its
    /// service, an event's time, action and object.
    pub fn row_key(&self, view: View, index: usize) -> Option<String> {
        match view {
            View::Containers => self
                .visible_containers()
                .get(index)
                .map(|c| c.id.to_string()),
            View::Images => self
                .visible_images()
                .get(index)
                .map(|i| i.summary.id.to_string()),
            View::Volumes => self
                .visible_volumes()
                .get(index)
                .map(|v| v.volume.name.clone()),
            View::Networks => self.visible_networks().get(index).map(|n| n.id.clone()),
            View::Projects => self.visible_projects().get(index).map(project_key),
            View::Events => self.visible_events().get(index).map(|e| event_key(e)),
        }
    }

    /// Where the row [`App::row_key`] named is in `view`'s list now, if it is shown.
    pub fn row_index(&self, view: View, key: &str) -> Option<usize> {
        match view {
            View::Containers => self
                .visible_containers()
                .iter()
                .position(|c| c.id.as_str() == key),
            View::Images => self
                .visible_images()
                .iter()
                .position(|i| i.summary.id.to_string() == key),
            View::Volumes => self
                .visible_volumes()
                .iter()
                .position(|v| v.volume.name == key),
            View::Networks => self.visible_networks().iter().position(|n| n.id == key),
            View::Projects => self
                .visible_projects()
                .iter()
                .position(|r| project_key(r) == key),
            View::Events => self
                .visible_events()
                .iter()
                .position(|e| event_key(e) == key),
        }
    }

    /// `view`'s cursor, whichever pane is on screen.
    pub fn cursor_of(&mut self, view: View) -> &mut Cursor {
        match view {
            View::Containers => &mut self.containers,
            View::Images => &mut self.images,
            View::Volumes => &mut self.volumes,
            View::Networks => &mut self.networks,
            View::Events => &mut self.events_cursor,
            View::Projects => &mut self.projects_cursor,
        }
    }

    pub fn cursor_mut(&mut self) -> &mut Cursor {
        self.cursor_of(self.view)
    }

    pub fn say(&mut self, text: impl Into<String>, error: bool) {
        self.status = Some(StatusLine {
            text: text.into(),
            error,
            ttl: if error { 10 } else { 5 },
        });
    }

    /// Whether the build view is on screen.
    pub fn build_view(&self) -> bool {
        matches!(self.details.last(), Some(Detail::Build))
    }

    /// Whether something on screen shows a running clock ("Up 3 seconds") or spinner.
    pub fn shows_clock(&self) -> bool {
        !self.busy.is_empty()
            || self.build.as_ref().is_some_and(|b| b.running())
            || self.view == View::Containers
                && self
                    .snapshot
                    .containers
                    .iter()
                    .any(|c| c.state.status == Status::Running)
    }
}

impl App {
    /// Whether a container's status counts seconds ("Up 5 seconds", "Exited (0) 3
    /// seconds ago"): its start or end less than a minute ago. Then the clock's frame each
    /// second is needed even while stats (each two seconds) bring frames of their own.
    pub fn clock_in_seconds(&self) -> bool {
        let recent =
            |at: Option<DateTime<Utc>>| at.is_some_and(|at| (self.now - at).num_seconds() < 60);
        self.snapshot
            .containers
            .iter()
            .any(|c| match c.state.status {
                Status::Running => recent(c.state.started_at),
                Status::Exited | Status::Restarting => recent(c.state.finished_at),
                Status::Created => false,
            })
    }
}

/// Running (or between two runs of its restart policy) before the rest, which come by
/// name alike: a never-started container is no more interesting than an exited one.
fn status_rank(status: Status) -> u8 {
    match status {
        Status::Running | Status::Restarting => 0,
        Status::Created | Status::Exited => 1,
    }
}
