//! The detail screens opened over a pane: a container's tabs, an image's layers, a
//! volume's files, a network's diagram. Their keys and the data loaded for them.

use super::clamp_cursors;
use crate::engine::{LinkRates, NetworkState, PathKind, TreeScope};
use crate::tui::action::Action;
use crate::tui::detail::{
    ContainerDetail, ContainerTab, DetailData, DetailRequest, ImageDetail, NetworkDetail,
    VolumeDetail,
};
use crate::tui::effect::Effect;
use crate::tui::state::{App, Detail, View};
use std::collections::HashMap;

/// Esc: after a log search or filter it clears that first (the detail stays open); else
/// it closes the detail, and in a list it clears the filter and the marks.
pub(super) fn back(app: &mut App) -> Vec<Effect> {
    if let Some(detail) = app
        .container_detail_mut()
        .filter(|d| d.tab == ContainerTab::Logs)
    {
        // A search reading through the file stops first, keeping its text.
        if detail.logs.cancel_find() {
            return Vec::new();
        }
        if detail.logs.clear_text() {
            return super::logs::cleared(detail);
        }
    }
    if let Some(image) = app
        .image_detail_mut()
        .filter(|i| !i.files.search.is_empty())
    {
        image.files.set_search(String::new());
        return Vec::new();
    }
    if app.details.pop().is_none() {
        app.filter.clear();
        app.marked.clear();
        clamp_cursors(app);
    }
    Vec::new()
}

/// Up, down and the page keys in an open detail; `None` when no detail is open (they move
/// the list's selection then).
pub(super) fn move_by(app: &mut App, action: Action, by: isize) -> Option<Vec<Effect>> {
    if let Some(image) = app.image_detail_mut() {
        return Some(super::layers::move_by(image, action, by));
    }
    if let Some(volume) = app.volume_detail_mut() {
        let len = volume.listing.as_ref().map_or(0, |l| l.entries.len());
        super::move_cursor(&mut volume.cursor, action, len);
        return Some(Vec::new());
    }
    if app.network_detail().is_some() {
        let ports = app.detail_network().map_or(0, |n| n.endpoints.len());
        if let Some(network) = app.network_detail_mut() {
            let at = (network.scroll as isize + by).max(0) as usize;
            network.scroll = at.min(ports.saturating_sub(1));
        }
        return Some(Vec::new());
    }
    let detail = app.container_detail_mut()?;
    // In a detail, moving scrolls the tab's text; the log's reads pages as it goes.
    if detail.tab == ContainerTab::Logs {
        // A page is a screenful but a line kept for context, as less's: up, the top line
        // becomes the bottom one; down, the bottom one the top (ten lines, before the
        // first frame said how many fit; wrapped lines fit fewer).
        let by = match (action, detail.logs.page.get()) {
            (Action::PageUp, (up, _)) if up > 0 => -(up as isize),
            (Action::PageDown, (_, down)) if down > 0 => down as isize,
            _ => by,
        };
        return Some(super::logs::scroll(detail, by));
    }
    // The config and the diff: a page is their rows less a line, as less's, and the
    // scroll stops where the last line is at the bottom, so no key is spent past it.
    let (rows, last) = detail.scroll_room.get();
    let by = match action {
        Action::PageUp | Action::PageDown if rows > 1 => by.signum() * (rows - 1) as isize,
        _ => by,
    };
    detail.scroll = (detail.scroll as isize + by).max(0) as usize;
    if rows > 0 {
        detail.scroll = detail.scroll.min(last);
    } else if let (ContainerTab::Config, Some(lines)) = (detail.tab, &detail.config) {
        // Before a frame: at most the last line.
        detail.scroll = detail.scroll.min(lines.len().saturating_sub(1));
    }
    Some(Vec::new())
}

/// Home and end (`gg`, `G`) in a volume's files, a network's ports and a container's
/// config and diff: their first or last row; `None` when no such detail is open (the
/// list's selection moves then).
pub(super) fn to_end(app: &mut App, last: bool) -> Option<Vec<Effect>> {
    if let Some(volume) = app.volume_detail_mut() {
        let len = volume.listing.as_ref().map_or(0, |l| l.entries.len());
        volume.cursor.selected = if last { len.saturating_sub(1) } else { 0 };
        return Some(Vec::new());
    }
    if app.network_detail().is_some() {
        let ports = app.detail_network().map_or(0, |n| n.endpoints.len());
        if let Some(network) = app.network_detail_mut() {
            network.scroll = if last { ports.saturating_sub(1) } else { 0 };
        }
        return Some(Vec::new());
    }
    let detail = app.container_detail_mut()?;
    detail.scroll = match last {
        // The scroll's end as the last frame measured it (the move clamps it).
        true => usize::MAX / 2,
        false => 0,
    };
    Some(move_by(app, Action::Down, 0).unwrap_or_default())
}

/// Whether `/` may type where a detail is open: the logs tab and the layer view's tree
/// search; `None` when no detail is open, so the list's filter is typed.
pub(super) fn filters(app: &App) -> Option<bool> {
    if app.image_detail().is_some() {
        return Some(true);
    }
    if app.volume_detail().is_some() || app.network_detail().is_some() {
        return Some(false);
    }
    app.container_detail().map(|d| d.tab == ContainerTab::Logs)
}

/// The container detail's next (1) or previous (-1) tab.
pub(super) fn shift_tab(app: &mut App, by: isize) -> Vec<Effect> {
    match app.container_detail_mut() {
        Some(detail) => {
            let tab = detail.tab.shift(by);
            show_tab(detail, tab)
        }
        None => Vec::new(),
    }
}

/// Shows `tab` from its top and loads what it needs.
pub(super) fn show_tab(detail: &mut ContainerDetail, tab: ContainerTab) -> Vec<Effect> {
    detail.tab = tab;
    detail.scroll = 0;
    detail.scroll_room.set((0, 0));
    detail
        .request()
        .map(Effect::LoadDetail)
        .into_iter()
        .collect()
}

/// The layer view's tree: the layer's own changes or everything up to it.
pub(super) fn toggle_scope(app: &mut App) -> Vec<Effect> {
    match app.image_detail_mut() {
        Some(image) => {
            image.scope = match image.scope {
                TreeScope::Layer => TreeScope::Aggregated,
                TreeScope::Aggregated => TreeScope::Layer,
            };
            image.files.clear();
            vec![Effect::LoadDetail(image.tree_request())]
        }
        None => Vec::new(),
    }
}

/// Hides the directories that changed only because something inside them did.
pub(super) fn changes_only(app: &mut App) -> Vec<Effect> {
    if let Some(image) = app.image_detail_mut() {
        image.files.toggle_kind(crate::tui::layers::Kind::Unchanged);
    } else if let Some(detail) = app.container_detail_mut() {
        detail.changes_only = !detail.changes_only;
        detail.scroll = 0;
    }
    Vec::new()
}

/// Up a directory in an open volume.
pub(super) fn parent(app: &mut App) -> Vec<Effect> {
    match app.volume_detail_mut() {
        Some(volume) if !volume.path.is_empty() => {
            volume.path = match volume.path.rsplit_once('/') {
                Some((up, _)) => up.to_owned(),
                None => String::new(),
            };
            volume.listing = None;
            volume.cursor = Default::default();
            vec![Effect::LoadDetail(volume.request())]
        }
        _ => Vec::new(),
    }
}

/// What a detail asked for arrived; data for a detail since closed or moved on is dropped.
pub(super) fn on_data(app: &mut App, data: DetailData) -> Vec<Effect> {
    let data = match data {
        DetailData::Logs { id, chunk } => {
            if app.container_detail().is_some_and(|d| d.id == id) {
                return super::logs::on_chunk(app, chunk);
            }
            app.dirty = false;
            return Vec::new();
        }
        DetailData::LogCount {
            id,
            generation,
            stamp,
            step,
        } => {
            if app.container_detail().is_some_and(|d| d.id == id) {
                return super::logs::on_count(app, generation, stamp, step);
            }
            // The view closed: the count ends here.
            app.dirty = false;
            return Vec::new();
        }
        DetailData::LogStamp { id, stamp } => {
            if app.container_detail().is_some_and(|d| d.id == id) {
                return super::logs::on_stamp(app, stamp);
            }
            app.dirty = false;
            return Vec::new();
        }
        data => data,
    };
    if let Some(detail) = app.container_detail_mut() {
        match data {
            DetailData::Config { id, lines } if id == detail.id => detail.config = Some(lines),
            DetailData::Diff { id, changes } if id == detail.id => detail.diff = Some(changes),
            _ => {}
        }
        return Vec::new();
    }
    if let Some(volume) = app.volume_detail_mut() {
        if let DetailData::VolumeFiles {
            name,
            path,
            listing,
            usage,
        } = data
        {
            if name == volume.name && path == volume.path {
                volume.cursor.clamp(listing.entries.len());
                volume.listing = Some(listing);
                volume.usage = usage.or(volume.usage);
            }
        }
        return Vec::new();
    }
    if let Some(image) = app.image_detail_mut() {
        match data {
            DetailData::Layers { id, layers } if id == image.id => {
                // Open on the layer asked for, else the top one, as dive does at its end.
                let top = layers.len().saturating_sub(1);
                image.layer = image
                    .start_layer
                    .take()
                    .filter(|l| *l <= top)
                    .unwrap_or(top);
                image.layers = Some(layers);
                return vec![
                    Effect::LoadDetail(image.tree_request()),
                    Effect::LoadDetail(DetailRequest::Efficiency(image.id.clone())),
                ];
            }
            // A tree for a layer the user has since moved off is dropped.
            DetailData::LayerTree { id, tree }
                if id == image.id && tree.layer == image.layer && tree.scope == image.scope =>
            {
                image.files.set_tree(tree);
            }
            DetailData::Efficiency { id, result } if id == image.id => {
                image.efficiency = Some(result);
            }
            _ => {}
        }
    }
    Vec::new()
}

/// The open network detail's links and rates, sampled each second.
pub(super) fn on_network_sample(
    app: &mut App,
    states: Vec<NetworkState>,
    rates: HashMap<String, LinkRates>,
) -> Vec<Effect> {
    match app.network_detail_mut() {
        Some(detail) => {
            detail.rates = rates;
            app.snapshot.networks = states;
            clamp_cursors(app);
        }
        // The detail closed while the sample was taken.
        None => app.dirty = false,
    }
    Vec::new()
}

/// Enter: the selected row's detail, or in an open volume the selected directory.
pub(super) fn open(app: &mut App) -> Vec<Effect> {
    if app.view == View::Volumes {
        return open_volume(app);
    }
    if app.view == View::Images {
        let Some(image) = app.selected_image() else {
            return Vec::new();
        };
        let id = image.summary.id.to_string();
        app.push_detail(Detail::Image(ImageDetail::new(id.clone(), image.name())));
        return vec![Effect::LoadDetail(DetailRequest::Layers(id))];
    }
    if app.view == View::Networks {
        if let Some(network) = app.selected_network() {
            let detail = NetworkDetail::new(network.id.clone(), network.name.clone());
            app.push_detail(Detail::Network(detail));
        }
        return Vec::new();
    }
    if app.view != View::Containers {
        return Vec::new();
    }
    match app.selected_container() {
        Some(c) => {
            let mut detail = ContainerDetail::new(c.id.to_string());
            let request = detail.request();
            app.push_detail(Detail::Container(detail));
            request.map(Effect::LoadDetail).into_iter().collect()
        }
        None => Vec::new(),
    }
}

/// Opens the selected volume, or in an open one the selected directory (a real one: a
/// symlink is shown, never followed).
pub(super) fn open_volume(app: &mut App) -> Vec<Effect> {
    if let Some(volume) = app.volume_detail_mut() {
        let Some(entry) = volume
            .listing
            .as_ref()
            .and_then(|l| l.entries.get(volume.cursor.selected))
        else {
            return Vec::new();
        };
        if entry.kind != PathKind::Dir {
            return Vec::new();
        }
        volume.path = if volume.path.is_empty() {
            entry.name.clone()
        } else {
            format!("{}/{}", volume.path, entry.name)
        };
        volume.listing = None;
        volume.cursor = Default::default();
        return vec![Effect::LoadDetail(volume.request())];
    }
    let Some(info) = app.selected_volume() else {
        return Vec::new();
    };
    let volume = VolumeDetail::new(info.volume.name.clone(), info.mountpoint.clone());
    let request = volume.request();
    app.push_detail(Detail::Volume(volume));
    vec![Effect::LoadDetail(request)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::update::testing::*;

    #[test]
    fn details_stack_enter_on_an_open_one_opens_it_afresh_and_esc_pops_one() {
        let mut app = app_with(Keymap::default());
        key(&mut app, KeyCode::Enter);
        keys(&mut app, "l");
        assert_eq!(
            app.container_detail().map(|d| d.tab),
            Some(ContainerTab::Mounts)
        );
        // Enter again replaces the detail on top rather than stacking a second one.
        key(&mut app, KeyCode::Enter);
        assert_eq!(app.details.len(), 1);
        assert_eq!(
            app.container_detail().map(|d| d.tab),
            Some(ContainerTab::Config)
        );
        // Another kind stacks over it, and esc goes back to what was under it.
        let network = network("lan", &[]);
        app.push_detail(Detail::Network(NetworkDetail::new(
            network.id,
            network.name,
        )));
        assert!(app.container_detail().is_none());
        assert!(app.network_detail().is_some());
        key(&mut app, KeyCode::Esc);
        assert_eq!(
            app.container_detail().map(|d| d.tab),
            Some(ContainerTab::Config)
        );
        key(&mut app, KeyCode::Esc);
        assert!(app.details.is_empty());
        // A pane switch closes them all.
        key(&mut app, KeyCode::Enter);
        keys(&mut app, "2");
        assert!(app.details.is_empty());
    }

    /// The Config tab scrolls over its lines, no further than the last, and a reload of
    /// the engine's state reads them again (health and restart count move).
    #[test]
    fn the_config_tab_scrolls_within_its_lines_and_reloads_with_the_state() {
        use crate::tui::config::ConfigLine;
        let mut app = app_with(Keymap::default());
        keys(&mut app, "j");
        key(&mut app, KeyCode::Enter);
        let id = app.container_detail().unwrap().id.clone();
        let lines = (0..5).map(|i| ConfigLine::Item(i.to_string())).collect();
        let data = DetailData::Config {
            id: id.clone(),
            lines,
        };
        update(&mut app, Msg::Detail(Ok(Box::new(data))));
        for _ in 0..10 {
            key(&mut app, KeyCode::Down);
        }
        assert_eq!(app.container_detail().unwrap().scroll, 4);
        key(&mut app, KeyCode::Up);
        assert_eq!(app.container_detail().unwrap().scroll, 3);
        let snapshot = app.snapshot.clone();
        assert_eq!(
            update(&mut app, Msg::Loaded(Ok(Box::new(snapshot.clone())))),
            [Effect::LoadDetail(DetailRequest::Config(id))]
        );
        // Other tabs don't.
        key(&mut app, KeyCode::Right);
        assert!(update(&mut app, Msg::Loaded(Ok(Box::new(snapshot)))).is_empty());
    }

    #[test]
    fn the_detail_opens_tabs_load_and_escape_returns() {
        let mut app = app_with(Keymap::default());
        keys(&mut app, "j");
        let effects = key(&mut app, KeyCode::Enter);
        let detail = app.container_detail().unwrap();
        assert_eq!(detail.tab, ContainerTab::Config);
        // The Config tab reads the container's inspect off the draw loop.
        assert_eq!(
            effects,
            [Effect::LoadDetail(DetailRequest::Config(detail.id.clone()))]
        );
        // Mounts, Network and Stats load nothing; Logs does.
        for _ in 0..3 {
            assert!(key(&mut app, KeyCode::Right).is_empty());
        }
        let effects = key(&mut app, KeyCode::Right);
        assert!(matches!(effects.as_slice(), [Effect::LoadDetail(_)]));
        assert_eq!(
            app.container_detail().map(|d| d.tab),
            Some(ContainerTab::Logs)
        );
        // Actions in a detail apply to its container.
        match keys(&mut app, "u").as_slice() {
            [Effect::Containers { targets, .. }] => assert_eq!(names(targets), ["job"]),
            other => panic!("expected a start, got {other:?}"),
        }
        key(&mut app, KeyCode::Esc);
        assert!(app.container_detail().is_none());
        assert!(matches!(keys(&mut app, "q").as_slice(), [Effect::Quit]));
    }

    #[test]
    fn the_layer_view_loads_layers_then_the_top_layer_and_toggles_scope() {
        let mut app = app_with(Keymap::default());
        let id = Digest::of_bytes(b"config");
        app.snapshot.images = one_image(b"config");
        keys(&mut app, "2");
        let effects = key(&mut app, KeyCode::Enter);
        assert_eq!(
            effects,
            [Effect::LoadDetail(DetailRequest::Layers(id.to_string()))]
        );
        let effects = update(
            &mut app,
            Msg::Detail(Ok(Box::new(DetailData::Layers {
                id: id.to_string(),
                layers: crate::tui::update::layers_testing::two_layers(),
            }))),
        );
        let tree = |layer, scope| {
            Effect::LoadDetail(DetailRequest::LayerTree {
                image: id.to_string(),
                layer,
                scope,
            })
        };
        assert_eq!(
            effects,
            [
                tree(1, TreeScope::Layer),
                Effect::LoadDetail(DetailRequest::Efficiency(id.to_string()))
            ]
        );
        assert_eq!(keys(&mut app, "k"), [tree(0, TreeScope::Layer)]);
        // Already at the bottom layer: nothing to load.
        assert!(keys(&mut app, "k").is_empty());
        assert_eq!(keys(&mut app, "t"), [tree(0, TreeScope::Aggregated)]);
        key(&mut app, KeyCode::Esc);
        assert!(app.image_detail().is_none());
    }

    #[test]
    fn esc_after_a_log_search_clears_it_and_leaves_the_lists_filter_and_selection() {
        let mut app = app_with(Keymap::default());
        // The list has a filter of its own and job selected.
        keys(&mut app, "/bu");
        key(&mut app, KeyCode::Enter);
        keys(&mut app, "j");
        assert_eq!(
            app.selected_container().map(|c| c.name.as_str()),
            Some("job")
        );
        key(&mut app, KeyCode::Enter);
        for _ in 0..4 {
            key(&mut app, KeyCode::Right);
        }
        keys(&mut app, "/error");
        key(&mut app, KeyCode::Enter);
        assert_eq!(
            app.filter, "bu",
            "the log search went into the list's filter"
        );
        // The first esc clears the search, and the detail stays.
        key(&mut app, KeyCode::Esc);
        let detail = app.container_detail().expect("the detail is still open");
        assert_eq!(detail.logs.search, "");
        // The second closes the detail onto the list as it was.
        key(&mut app, KeyCode::Esc);
        assert!(app.container_detail().is_none());
        assert_eq!(app.filter, "bu");
        assert_eq!(app.visible_containers().len(), 3);
        assert_eq!(
            app.selected_container().map(|c| c.name.as_str()),
            Some("job")
        );
        // Esc while the search is typed drops it, also without touching the list.
        key(&mut app, KeyCode::Enter);
        for _ in 0..4 {
            key(&mut app, KeyCode::Right);
        }
        keys(&mut app, "/zzz");
        key(&mut app, KeyCode::Esc);
        assert_eq!(
            app.container_detail().map(|d| d.logs.search.as_str()),
            Some("")
        );
        assert_eq!(app.filter, "bu");
        assert_eq!(
            app.selected_container().map(|c| c.name.as_str()),
            Some("job")
        );
    }

    /// The diff tab scrolls no further than its last line at the bottom (keys held down
    /// past it are not spent), and a page is its rows less a line, at each size.
    #[test]
    fn the_diff_scrolls_to_its_end_and_pages_by_its_rows() {
        use crate::engine::{Change, ChangeKind, FileType};
        let mut app = app_with(Keymap::default());
        key(&mut app, KeyCode::Enter);
        while app.container_detail().unwrap().tab != ContainerTab::Diff {
            key(&mut app, KeyCode::Right);
        }
        let id = app.container_detail().unwrap().id.clone();
        let changes = (0..100)
            .map(|i| Change {
                path: format!("/f{i:03}"),
                kind: ChangeKind::Added,
                file_type: FileType::File,
                size: 1,
                mode: 0o644,
                original_layer: None,
            })
            .collect();
        update(
            &mut app,
            Msg::Detail(Ok(Box::new(DetailData::Diff { id, changes }))),
        );
        let scroll = |app: &App| app.container_detail().unwrap().scroll;
        for height in [24, 40] {
            let frame = crate::tui::once::render_text(&app, 80, height);
            let (rows, last) = app.container_detail().unwrap().scroll_room.get();
            assert_eq!(last, 100 - rows, "{frame}");
            let at = scroll(&app);
            key(&mut app, KeyCode::PageDown);
            assert_eq!(scroll(&app), at + rows - 1, "80x{height}");
            for _ in 0..200 {
                keys(&mut app, "j");
            }
            assert_eq!(scroll(&app), last);
            let frame = crate::tui::once::render_text(&app, 80, height);
            assert!(frame.contains("f099"), "{frame}");
            // One key up moves the view at once; gg and G go to the ends.
            keys(&mut app, "k");
            assert_eq!(scroll(&app), last - 1);
            keys(&mut app, "G");
            assert_eq!(scroll(&app), last);
            keys(&mut app, "gg");
            assert_eq!(scroll(&app), 0);
        }
    }

    /// A page key in a volume's files moves by the rows the listing shows.
    #[test]
    fn a_page_moves_a_volumes_files_by_the_rows_on_screen() {
        let mut app = app_with(Keymap::default());
        app.snapshot.volumes = vec![volume("data")];
        keys(&mut app, "3");
        key(&mut app, KeyCode::Enter);
        let names: Vec<String> = (0..100).map(|i| format!("f{i:03}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let listing = *file_entries("/v/data/_data", &names);
        update(
            &mut app,
            Msg::Detail(Ok(Box::new(DetailData::VolumeFiles {
                name: "data".into(),
                path: String::new(),
                listing,
                usage: None,
            }))),
        );
        let mut at = 0;
        for height in [24, 40] {
            crate::tui::once::render_text(&app, 80, height);
            let rows = app.volume_detail().unwrap().cursor.height.get();
            assert!(rows > 10 && rows < usize::from(height), "{rows}");
            key(&mut app, KeyCode::PageDown);
            at += rows;
            assert_eq!(app.volume_detail().unwrap().cursor.selected, at);
        }
        // G and gg move the files' cursor, not the volumes list's behind them.
        keys(&mut app, "G");
        assert_eq!(app.volume_detail().unwrap().cursor.selected, 99);
        keys(&mut app, "gg");
        assert_eq!(app.volume_detail().unwrap().cursor.selected, 0);
        assert_eq!(app.volumes.selected, 0);
    }

    #[test]
    fn a_volume_opens_descends_only_into_real_dirs_and_goes_up() {
        use crate::engine::PathKind;
        use crate::engine::{DirEntry, DirListing};
        let mut app = app_with(Keymap::default());
        app.snapshot.volumes = vec![volume("data")];
        // Opening the pane measures the volumes.
        assert!(matches!(keys(&mut app, "3").as_slice(), [Effect::VolumeSizes(v)] if v.len() == 1));
        let effects = key(&mut app, KeyCode::Enter);
        let [Effect::LoadDetail(DetailRequest::VolumeFiles { path, .. })] = effects.as_slice()
        else {
            panic!("expected a listing, got {effects:?}");
        };
        assert_eq!(path, "");
        let entry = |name: &str, kind| DirEntry {
            name: name.into(),
            kind,
            size: 0,
            mode: 0o755,
            mtime: 0,
            link_target: None,
            mount: None,
        };
        let listing = DirListing {
            path: "/v/data/_data".into(),
            entries: vec![
                entry("logs", PathKind::Dir),
                entry("out", PathKind::Symlink),
            ],
            truncated: false,
        };
        update(
            &mut app,
            Msg::Detail(Ok(Box::new(DetailData::VolumeFiles {
                name: "data".into(),
                path: String::new(),
                listing: listing.clone(),
                usage: None,
            }))),
        );
        // A symlink is not entered.
        keys(&mut app, "j");
        assert!(key(&mut app, KeyCode::Enter).is_empty());
        keys(&mut app, "k");
        assert!(matches!(
            key(&mut app, KeyCode::Enter).as_slice(),
            [Effect::LoadDetail(DetailRequest::VolumeFiles { path, .. })] if path == "logs"
        ));
        assert!(matches!(
            key(&mut app, KeyCode::Backspace).as_slice(),
            [Effect::LoadDetail(DetailRequest::VolumeFiles { path, .. })] if path.is_empty()
        ));
        key(&mut app, KeyCode::Esc);
        assert!(app.volume_detail().is_none());
    }

    #[test]
    fn the_networks_pane_opens_a_network_removes_after_asking_and_follows_links() {
        let mut app = app_with(Keymap::default());
        let web = app.snapshot.containers[0].clone();
        let networks = vec![
            network("bridge", &[]),
            network("lan", &[&web]),
            network("spare", &[]),
        ];
        update(&mut app, Msg::Networks(Ok(networks.clone())));
        assert_eq!(
            app.snapshot.first_ip(&web.id),
            Some("10.9.0.2".parse().unwrap())
        );
        keys(&mut app, "4");
        assert_eq!(app.view, View::Networks);
        assert_eq!(app.rows_in_view(), 3);

        // A built-in network is refused before any question.
        assert!(keys(&mut app, "d").is_empty());
        assert_eq!(app.popup, None);
        assert!(app.status.as_ref().is_some_and(
            |s| s.error && s.text == "bridge is a pre-defined network and cannot be removed"
        ));
        // Marked networks go together, after a confirmation.
        keys(&mut app, "j ");
        keys(&mut app, " ");
        assert!(keys(&mut app, "d").is_empty());
        match &app.popup {
            Some(Popup::Confirm { question, .. }) => {
                assert_eq!(question, "remove networks lan, spare?")
            }
            other => panic!("expected a confirmation, got {other:?}"),
        }
        match keys(&mut app, "y").as_slice() {
            [Effect::RemoveNetworks(targets)] => assert_eq!(names(targets), ["lan", "spare"]),
            other => panic!("expected network removal, got {other:?}"),
        }

        // + types the verb, P prunes after asking.
        keys(&mut app, "+");
        assert_eq!(
            app.popup,
            Some(Popup::Command {
                input: "network create ".into(),
                tail: String::new(),
            })
        );
        key(&mut app, KeyCode::Esc);
        keys(&mut app, "P");
        match keys(&mut app, "y").as_slice() {
            [Effect::Verb(words)] => assert_eq!(words, &["network", "prune", "-f"]),
            other => panic!("expected network prune, got {other:?}"),
        }

        // Enter opens the selected network; its samples bring rates.
        keys(&mut app, "gg");
        key(&mut app, KeyCode::Char('j'));
        key(&mut app, KeyCode::Enter);
        assert_eq!(app.network_detail().map(|d| d.name.as_str()), Some("lan"));
        let rates = HashMap::from([("bv0".to_owned(), LinkRates::default())]);
        update(
            &mut app,
            Msg::NetworkSample {
                states: networks.clone(),
                rates,
            },
        );
        assert_eq!(app.network_detail().map(|d| d.rates.len()), Some(1));
        // In the detail, remove means this network.
        keys(&mut app, "d");
        assert!(matches!(
            &app.popup,
            Some(Popup::Confirm { question, .. }) if question == "remove network lan?"
        ));
        key(&mut app, KeyCode::Esc);

        // A link change asks for the networks again and draws nothing yet.
        app.dirty = false;
        assert_eq!(update(&mut app, Msg::LinksChanged), [Effect::LoadNetworks]);
        assert!(!app.dirty);

        // Escape closes the detail; a sample that arrives after is dropped.
        key(&mut app, KeyCode::Esc);
        assert!(app.network_detail().is_none());
        app.dirty = false;
        update(
            &mut app,
            Msg::NetworkSample {
                states: Vec::new(),
                rates: HashMap::new(),
            },
        );
        assert!(!app.dirty);
        assert_eq!(app.snapshot.networks.len(), 3);
    }
}
