//! The layer view's file tree as dive's users drive it: directories collapsed and expanded,
//! entries shown by what the layer did to them (added, changed, removed, unchanged), a
//! search over the paths, and a cursor. The rows shown are worked out when one of those
//! changes, not per frame, and kept as entry indices and a tree shape of a few bytes a
//! row, so a tree of 200,000 entries draws only the rows on screen.

use std::collections::HashSet;

use super::state::Cursor;
use super::tree::{is_under, Shape, TreeRow};
use crate::engine::{ChangeKind, FileType, LayerTree, TreeEntry};

/// Which pane of the layer view the moving keys go to (`tab` switches, as in dive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LayerFocus {
    #[default]
    Layers,
    Tree,
}

/// What a layer did to a path, as the tree's filter names it (dive's four toggles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Added,
    Changed,
    Removed,
    Unchanged,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Added, Kind::Changed, Kind::Removed, Kind::Unchanged];

    pub fn of(entry: &TreeEntry) -> Kind {
        match entry.change {
            Some(ChangeKind::Added) => Kind::Added,
            Some(ChangeKind::Changed) => Kind::Changed,
            Some(ChangeKind::Deleted) => Kind::Removed,
            None => Kind::Unchanged,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Kind::Added => "added",
            Kind::Changed => "changed",
            Kind::Removed => "removed",
            Kind::Unchanged => "unchanged",
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The file tree pane of the layer view.
#[derive(Debug, Clone, Default)]
pub struct TreeView {
    pub tree: Option<LayerTree>,
    /// Kinds hidden (bits of [`Kind`]); none by default.
    hidden: u8,
    /// Every directory collapsed, but for those in `toggled`.
    all_collapsed: bool,
    /// Directories whose state differs from `all_collapsed`, by path.
    toggled: HashSet<String>,
    /// Paths must contain this (case-insensitive, ASCII); their directories show too.
    pub search: String,
    /// The entries shown, in tree order (indices into `tree.entries`).
    rows: Vec<u32>,
    shape: Shape,
    pub cursor: Cursor,
    /// What the whole tree holds, counted once when it arrives.
    pub summary: Summary,
    /// The path the cursor was on when the tree was dropped for the next one.
    was_on: Option<String>,
    /// Each entry's directory (an index into `tree.entries`; `u32::MAX` at the top).
    parents: Vec<u32>,
    /// The last search's own matches, so a longer query narrows them instead of
    /// scanning the whole tree again at each key.
    matched: Option<Matched>,
}

/// The entries that matched a search by themselves (not as a directory above a match).
#[derive(Debug, Clone)]
struct Matched {
    /// The search, lower case.
    needle: String,
    /// The kinds hidden when it ran.
    hidden: u8,
    /// Indices into `tree.entries`, in tree order.
    entries: Vec<u32>,
}

/// No directory above: an entry at the top of the tree.
const TOP: u32 = u32::MAX;

/// What a layer's tree holds by kind, and the bytes it added or changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub bytes: u64,
}

impl Summary {
    fn of(tree: &LayerTree) -> Summary {
        let mut summary = Summary::default();
        for entry in &tree.entries {
            match Kind::of(entry) {
                Kind::Added => summary.added += 1,
                Kind::Changed => summary.changed += 1,
                Kind::Removed => summary.removed += 1,
                Kind::Unchanged => continue,
            }
            if entry.change != Some(ChangeKind::Deleted) {
                summary.bytes += entry.size;
            }
        }
        summary
    }
}

impl TreeView {
    /// A new tree for the view (another layer, or the other scope): the filter, search
    /// and collapsed directories stay, the cursor stays on the same path if it is there.
    pub fn set_tree(&mut self, tree: LayerTree) {
        let selected = self.selected().map(|e| e.path.clone());
        let selected = selected.or(self.was_on.take());
        self.summary = Summary::of(&tree);
        self.parents = parents(&tree.entries);
        self.matched = None;
        self.tree = Some(tree);
        self.refresh();
        let at = selected.and_then(|path| self.rows().position(|e| e.path == path));
        self.cursor = Cursor::default();
        self.cursor.selected = at.unwrap_or(0);
    }

    /// Drops the tree while the next one loads.
    pub fn clear(&mut self) {
        if let Some(entry) = self.selected() {
            self.was_on = Some(entry.path.clone());
        }
        self.tree = None;
        self.rows.clear();
        self.parents.clear();
        self.matched = None;
        self.shape = Shape::default();
    }

    pub fn shows(&self, kind: Kind) -> bool {
        self.hidden & kind.bit() == 0
    }

    /// Hides or shows one kind of entry.
    pub fn toggle_kind(&mut self, kind: Kind) {
        self.hidden ^= kind.bit();
        self.refresh_keeping_cursor();
    }

    /// The kinds hidden, for the title ("hiding unchanged").
    pub fn hidden_kinds(&self) -> Vec<Kind> {
        Kind::ALL.into_iter().filter(|k| !self.shows(*k)).collect()
    }

    /// Whether the directory at `path` is drawn without its contents.
    pub fn collapsed(&self, path: &str) -> bool {
        self.all_collapsed != self.toggled.contains(path)
    }

    /// Space: collapses or expands the selected directory; false when the cursor is not
    /// on a directory.
    pub fn toggle_selected(&mut self) -> bool {
        let Some(entry) = self.selected().filter(|e| e.kind == FileType::Dir) else {
            return false;
        };
        let path = entry.path.clone();
        if !self.toggled.remove(&path) {
            self.toggled.insert(path);
        }
        self.refresh_keeping_cursor();
        true
    }

    /// Collapses every directory, or expands them all when all already are.
    pub fn toggle_all(&mut self) {
        self.all_collapsed = !(self.all_collapsed && self.toggled.is_empty());
        self.toggled.clear();
        self.refresh_keeping_cursor();
    }

    pub fn set_search(&mut self, search: String) {
        self.search = search;
        self.refresh_keeping_cursor();
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn entry(&self, row: usize) -> Option<&TreeEntry> {
        let index = *self.rows.get(row)? as usize;
        self.tree.as_ref()?.entries.get(index)
    }

    /// The entries shown, in order.
    pub fn rows(&self) -> impl Iterator<Item = &TreeEntry> + '_ {
        (0..self.rows.len()).filter_map(|r| self.entry(r))
    }

    pub fn selected(&self) -> Option<&TreeEntry> {
        self.entry(self.cursor.selected)
    }

    /// Row `row` as drawn: its entry and its guides and name.
    pub fn drawn(&self, row: usize) -> Option<(&TreeEntry, TreeRow)> {
        let entry = self.entry(row)?;
        let path = |r: usize| self.entry(r).map_or("", |e| e.path.as_str());
        Some((entry, self.shape.row(row, path)))
    }

    pub fn move_by(&mut self, by: isize) {
        self.cursor.move_by(by, self.rows.len());
    }

    /// A page key: as far as the tree's pane shows rows.
    pub fn page(&mut self, pages: isize) {
        self.cursor.page(pages, self.rows.len());
    }

    /// Works the rows out again; the cursor stays on its entry, or on the nearest shown
    /// one above it (the directory it was collapsed into).
    fn refresh_keeping_cursor(&mut self) {
        let selected = self.rows.get(self.cursor.selected).copied();
        self.refresh();
        if let Some(selected) = selected {
            self.cursor.selected = match self.rows.binary_search(&selected) {
                Ok(at) => at,
                Err(at) => at.saturating_sub(1),
            };
        }
        self.cursor.clamp(self.rows.len());
    }

    fn refresh(&mut self) {
        let kept = self.matching();
        let Some(tree) = &self.tree else {
            self.rows.clear();
            self.shape = Shape::default();
            return;
        };
        let entries = &tree.entries;
        let mut rows = Vec::with_capacity(kept.len());
        // Inside a collapsed directory shown: its path, to skip what is below it.
        let mut inside: Option<&str> = None;
        for i in kept {
            let entry = &entries[i as usize];
            if inside.is_some_and(|dir| is_under(&entry.path, dir)) {
                continue;
            }
            inside = None;
            rows.push(i);
            if entry.kind == FileType::Dir && self.collapsed(&entry.path) {
                inside = Some(&entry.path);
            }
        }
        self.shape = Shape::new(rows.iter().map(|&i| entries[i as usize].path.as_str()));
        self.rows = rows;
    }

    /// Which entries the filter and search keep, in tree order: those that match, and
    /// the directories above them; an empty directory matches by itself. A query that
    /// grows (the same kinds shown) looks only among the last query's matches: what
    /// matches "lib/x" matched "lib".
    fn matching(&mut self) -> Vec<u32> {
        let Some(tree) = &self.tree else {
            return Vec::new();
        };
        let entries = &tree.entries;
        let needle = self.search.to_ascii_lowercase();
        let own = |i: usize| {
            let entry = &entries[i];
            // A directory holding entries shows for what they are, not for its own
            // change (a layer "changes" every directory it writes into).
            let holds = entry.kind == FileType::Dir
                && entries
                    .get(i + 1)
                    .is_some_and(|next| is_under(&next.path, &entry.path));
            !holds && self.shows(Kind::of(entry)) && contains_ignoring_case(&entry.path, &needle)
        };
        let matched: Vec<u32> = match &self.matched {
            Some(last) if last.hidden == self.hidden && needle.contains(&last.needle) => last
                .entries
                .iter()
                .copied()
                .filter(|&i| own(i as usize))
                .collect(),
            _ => (0..entries.len() as u32)
                .filter(|&i| own(i as usize))
                .collect(),
        };
        // Each match and the directories above it, up to one already kept.
        let mut keep = vec![false; entries.len()];
        let mut kept = Vec::with_capacity(matched.len());
        for &m in &matched {
            let mut at = m;
            while at != TOP && !std::mem::replace(&mut keep[at as usize], true) {
                kept.push(at);
                at = self.parents.get(at as usize).copied().unwrap_or(TOP);
            }
        }
        kept.sort_unstable();
        self.matched = Some(Matched {
            needle,
            hidden: self.hidden,
            entries: matched,
        });
        kept
    }
}

/// Each entry's directory: entries come depth first, a directory before its contents.
fn parents(entries: &[TreeEntry]) -> Vec<u32> {
    let mut parents = Vec::with_capacity(entries.len());
    // The directories above the current entry, innermost last.
    let mut open: Vec<usize> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        while open
            .last()
            .is_some_and(|&d| !is_under(&entry.path, &entries[d].path))
        {
            open.pop();
        }
        parents.push(open.last().map_or(TOP, |&d| d as u32));
        if entry.kind == FileType::Dir {
            open.push(i);
        }
    }
    parents
}

/// Whether `hay` contains `needle` (already lower case), ASCII letters in any case,
/// without allocating: run for every entry of a huge tree at each key of a search.
fn contains_ignoring_case(hay: &str, needle: &str) -> bool {
    let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
    needle.is_empty()
        || hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::TreeScope;

    fn entry(path: &str, kind: FileType, change: Option<ChangeKind>) -> TreeEntry {
        TreeEntry {
            path: path.into(),
            kind,
            size: 10,
            mode: 0o644,
            uid: 0,
            gid: 0,
            link_target: None,
            change,
        }
    }

    /// bin/ (changed) with sh (unchanged) and new (added); etc/ with passwd (removed);
    /// usr/lib/x (unchanged).
    pub(crate) fn sample() -> LayerTree {
        use ChangeKind::*;
        use FileType::{Dir, File};
        LayerTree {
            layer: 1,
            scope: TreeScope::Layer,
            entries: vec![
                entry("bin", Dir, Some(Changed)),
                entry("bin/new", File, Some(Added)),
                entry("bin/sh", File, None),
                entry("etc", Dir, Some(Changed)),
                entry("etc/passwd", File, Some(Deleted)),
                entry("usr", Dir, None),
                entry("usr/lib", Dir, None),
                entry("usr/lib/x", File, None),
            ],
            truncated: false,
        }
    }

    fn drawn(view: &TreeView) -> Vec<String> {
        (0..view.len())
            .map(|r| {
                let (_, row) = view.drawn(r).unwrap();
                format!("{}{}", row.prefix, row.name)
            })
            .collect()
    }

    #[test]
    fn directories_collapse_one_or_all_and_the_cursor_stays_on_its_directory() {
        let mut view = TreeView::default();
        view.set_tree(sample());
        assert_eq!(view.len(), 8);
        view.move_by(5);
        assert_eq!(view.selected().unwrap().path, "usr");
        assert!(view.toggle_selected());
        assert_eq!(
            drawn(&view),
            ["bin", "├─ new", "└─ sh", "etc", "└─ passwd", "usr"]
        );
        // On a file, space does nothing.
        view.move_by(-1);
        assert!(!view.toggle_selected());
        // All collapse, the cursor going up into its directory; then all expand.
        view.toggle_all();
        assert_eq!(drawn(&view), ["bin", "etc", "usr"]);
        assert_eq!(view.selected().unwrap().path, "etc");
        view.toggle_all();
        assert_eq!(view.len(), 8);
        // One opened out of all collapsed.
        view.toggle_all();
        view.move_by(-5);
        view.toggle_selected();
        assert_eq!(drawn(&view), ["bin", "├─ new", "└─ sh", "etc", "usr"]);
        // Collapse-all once more collapses that one too, rather than expanding all.
        view.toggle_all();
        assert_eq!(drawn(&view), ["bin", "etc", "usr"]);
    }

    #[test]
    fn kinds_hide_and_a_search_keeps_the_directories_above_its_matches() {
        let mut view = TreeView::default();
        view.set_tree(sample());
        view.toggle_kind(Kind::Unchanged);
        assert_eq!(
            drawn(&view),
            ["bin", "└─ new", "etc", "└─ passwd"],
            "changes only"
        );
        view.toggle_kind(Kind::Removed);
        view.toggle_kind(Kind::Changed);
        // Only what was added, with the directory it is in.
        assert_eq!(drawn(&view), ["bin", "└─ new"]);
        assert_eq!(view.hidden_kinds().len(), 3);
        for kind in [Kind::Unchanged, Kind::Removed, Kind::Changed] {
            view.toggle_kind(kind);
        }
        view.set_search("LIB".into());
        assert_eq!(drawn(&view), ["usr", "└─ lib", "   └─ x"]);
        view.set_search("nothing".into());
        assert!(view.is_empty());
        assert!(view.selected().is_none());
    }

    #[test]
    fn a_new_layers_tree_keeps_the_cursor_on_the_same_path() {
        let mut view = TreeView::default();
        view.set_tree(sample());
        view.move_by(7);
        let mut next = sample();
        next.entries.remove(1);
        // Dropped while the next one loads, as moving to another layer does.
        view.clear();
        assert!(view.selected().is_none());
        view.set_tree(next);
        assert_eq!(view.selected().unwrap().path, "usr/lib/x");
        assert_eq!(view.cursor.selected, 6);
    }

    /// A hostile image's tree at the engine's limit: folds, kinds and a search are
    /// worked out over all of it, and a frame draws only the rows it shows.
    #[test]
    fn a_tree_at_the_engines_limit_folds_searches_and_draws_a_screenful() {
        let mut entries = Vec::new();
        for d in 0..1000 {
            entries.push(entry(
                &format!("d{d:04}"),
                FileType::Dir,
                Some(ChangeKind::Added),
            ));
            for f in 0..199 {
                let path = format!("d{d:04}/f{f:03}");
                entries.push(entry(&path, FileType::File, Some(ChangeKind::Added)));
            }
        }
        let mut view = TreeView::default();
        view.set_tree(LayerTree {
            layer: 0,
            scope: TreeScope::Layer,
            entries,
            truncated: true,
        });
        assert_eq!(view.len(), 200_000);
        assert_eq!(view.summary.added, 200_000);
        view.toggle_all();
        assert_eq!(view.len(), 1000);
        view.toggle_all();
        // Typed a key at a time, each query narrowing the last one's matches, then
        // erased: every step's rows are those a search from scratch gives.
        let typed = "D0999/F19";
        let steps = (1..=typed.len()).chain((3..typed.len()).rev());
        for n in steps {
            view.set_search(typed[..n].into());
            // A fresh tree (a copy of 200,000 entries) for a few of them: time.
            if ![1, 5, typed.len(), 3].contains(&n) {
                continue;
            }
            let mut fresh = TreeView::default();
            fresh.set_tree(view.tree.clone().unwrap());
            fresh.set_search(typed[..n].into());
            assert_eq!(view.rows, fresh.rows, "{}", &typed[..n]);
        }
        view.set_search(typed.into());
        assert_eq!(view.len(), 10, "d0999 and its f190..f198");
        // A kind hidden while searching: the rows follow it, not the narrowed list.
        view.toggle_kind(Kind::Added);
        assert!(view.is_empty());
        view.toggle_kind(Kind::Added);
        assert_eq!(view.len(), 10);
        view.set_search(String::new());
        view.cursor = Cursor::default();
        // Row 150,001: d0750's first file.
        view.move_by(150_001);
        let rows = view.cursor.scroll_into_view(30);
        let drawn: Vec<String> = (rows..rows + 30)
            .map(|r| view.drawn(r).unwrap().1.name)
            .collect();
        assert_eq!(drawn.last().map(String::as_str), Some("f000"));
    }
}
