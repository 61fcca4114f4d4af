//! The layer view's keys, as dive's: `tab` moves between the layer list and the file tree,
//! the moving keys go to the one in focus, space folds a directory and `a` (ctrl-space)
//! all of them, ctrl-a/e/r/u show or hide added, changed, removed and unchanged files.

use crate::tui::action::Action;
use crate::tui::detail::ImageDetail;
use crate::tui::effect::Effect;
use crate::tui::layers::{Kind, LayerFocus};
use crate::tui::state::App;

/// Up, down and the page keys: the layer, or the tree's cursor. A page is as many rows
/// as the pane in focus showed.
pub(super) fn move_by(image: &mut ImageDetail, action: Action, by: isize) -> Vec<Effect> {
    let page = matches!(action, Action::PageUp | Action::PageDown);
    if image.focus == LayerFocus::Tree {
        match page {
            true => image.files.page(by.signum()),
            false => image.files.move_by(by),
        }
        return Vec::new();
    }
    let by = match image.layer_rows.get() {
        rows if page && rows > 0 => by.signum() * rows as isize,
        _ => by,
    };
    let count = image.layers.as_ref().map_or(0, Vec::len);
    let layer = (image.layer as isize + by).clamp(0, count.saturating_sub(1) as isize) as usize;
    if layer == image.layer || count == 0 {
        return Vec::new();
    }
    image.layer = layer;
    image.files.clear();
    vec![Effect::LoadDetail(image.tree_request())]
}

/// Home and end (`gg`, `G`): the first or last layer, or the tree's first or last row.
pub(super) fn to_end(app: &mut App, last: bool) -> Vec<Effect> {
    let by = if last { isize::MAX / 2 } else { isize::MIN / 2 };
    match app.image_detail_mut() {
        Some(image) => move_by(image, Action::Top, by),
        None => Vec::new(),
    }
}

/// The layer view's own actions; `None` when it is not on screen.
pub(super) fn action(app: &mut App, action: Action) -> Option<Vec<Effect>> {
    let image = app.image_detail_mut()?;
    let files = &mut image.files;
    match action {
        Action::LayerFocus => {
            image.focus = match image.focus {
                LayerFocus::Layers => LayerFocus::Tree,
                LayerFocus::Tree => LayerFocus::Layers,
            };
        }
        Action::Collapse => {
            if image.focus == LayerFocus::Tree && !files.toggle_selected() {
                app.dirty = false;
            }
        }
        Action::CollapseAll => files.toggle_all(),
        Action::ShowAdded => files.toggle_kind(Kind::Added),
        Action::ShowChanged => files.toggle_kind(Kind::Changed),
        Action::ShowRemoved => files.toggle_kind(Kind::Removed),
        Action::ShowUnchanged => files.toggle_kind(Kind::Unchanged),
        _ => return None,
    }
    Some(Vec::new())
}

/// A key of the tree's search being typed: the search is the tree's, the focus goes to
/// it, the rows are worked out again.
pub(super) fn search(app: &mut App, edit: impl FnOnce(&mut String)) {
    if let Some(image) = app.image_detail_mut() {
        let mut text = image.files.search.clone();
        edit(&mut text);
        image.focus = LayerFocus::Tree;
        image.files.set_search(text);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::engine::{ImageLayer, TreeScope};
    use crate::tui::detail::{DetailData, DetailRequest};
    use crate::tui::layers::LayerFocus;
    use crate::tui::update::testing::*;

    /// Two layers of a byte each, as the engine lists an image's.
    pub(crate) fn two_layers() -> Vec<ImageLayer> {
        let layer = |index| ImageLayer {
            index,
            diff_id: Digest::of_bytes(&[index as u8]),
            chain_id: Digest::of_bytes(&[index as u8]),
            size: 1,
            created: None,
            created_by: None,
            comment: None,
        };
        vec![layer(0), layer(1)]
    }

    /// The layer view on an image of two layers, with the sample tree loaded.
    pub(crate) fn layer_view() -> App {
        let mut app = app_with(Keymap::default());
        let id = Digest::of_bytes(b"config");
        app.snapshot.images = one_image(b"config");
        keys(&mut app, "2");
        key(&mut app, KeyCode::Enter);
        update(
            &mut app,
            Msg::Detail(Ok(Box::new(DetailData::Layers {
                id: id.to_string(),
                layers: two_layers(),
            }))),
        );
        update(
            &mut app,
            Msg::Detail(Ok(Box::new(DetailData::LayerTree {
                id: id.to_string(),
                tree: crate::tui::layers::tests::sample(),
            }))),
        );
        app
    }

    fn paths(app: &App) -> Vec<String> {
        let files = &app.image_detail().unwrap().files;
        files.rows().map(|e| e.path.clone()).collect()
    }

    #[test]
    fn tab_moves_between_the_layers_and_the_tree_and_the_keys_follow_it() {
        let mut app = layer_view();
        assert_eq!(app.image_detail().unwrap().focus, LayerFocus::Layers);
        key(&mut app, KeyCode::Tab);
        // Tab stays in the view.
        assert_eq!(app.view, View::Images);
        let image = app.image_detail().expect("still the layer view");
        assert_eq!(image.focus, LayerFocus::Tree);
        // Down moves the tree's cursor, not the layer: nothing loads.
        assert!(keys(&mut app, "jj").is_empty());
        let image = app.image_detail().unwrap();
        assert_eq!(
            (image.layer, image.files.selected().unwrap().path.as_str()),
            (1, "bin/sh")
        );
        keys(&mut app, "G");
        assert_eq!(app.image_detail().unwrap().files.cursor.selected, 7);
        // Back on the layers, up loads the layer below.
        key(&mut app, KeyCode::Tab);
        let id = app.image_detail().unwrap().id.clone();
        assert_eq!(
            keys(&mut app, "k"),
            [Effect::LoadDetail(DetailRequest::LayerTree {
                image: id,
                layer: 0,
                scope: TreeScope::Layer,
            })]
        );
    }

    #[test]
    fn space_folds_a_directory_a_folds_all_and_ctrl_keys_filter_by_kind() {
        let mut app = layer_view();
        key(&mut app, KeyCode::Tab);
        keys(&mut app, " ");
        assert_eq!(
            paths(&app),
            ["bin", "etc", "etc/passwd", "usr", "usr/lib", "usr/lib/x"]
        );
        // Enter too, as in a file manager.
        key(&mut app, KeyCode::Enter);
        assert_eq!(paths(&app).len(), 8);
        keys(&mut app, "a");
        assert_eq!(paths(&app), ["bin", "etc", "usr"]);
        update(
            &mut app,
            Msg::Key(KeyEvent::new(KeyCode::Char(' '), KeyModifiers::CONTROL)),
        );
        assert_eq!(paths(&app).len(), 8);
        let ctrl = |app: &mut App, c| {
            update(
                app,
                Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
            )
        };
        ctrl(&mut app, 'u');
        assert_eq!(paths(&app), ["bin", "bin/new", "etc", "etc/passwd"]);
        ctrl(&mut app, 'r');
        assert_eq!(paths(&app), ["bin", "bin/new"]);
        ctrl(&mut app, 'a');
        assert!(paths(&app).is_empty());
        ctrl(&mut app, 'a');
        // A directory shows for what it holds, not for its own change.
        ctrl(&mut app, 'e');
        assert_eq!(paths(&app), ["bin", "bin/new"]);
        for c in ['e', 'r'] {
            ctrl(&mut app, c);
        }
        // `.` is the changes-only switch, here as in the diff tab.
        keys(&mut app, ".");
        assert_eq!(paths(&app).len(), 8);
    }

    #[test]
    fn slash_searches_the_tree_and_esc_clears_the_search_before_closing() {
        let mut app = layer_view();
        keys(&mut app, "/lib");
        assert_eq!(paths(&app), ["usr", "usr/lib", "usr/lib/x"]);
        assert_eq!(app.image_detail().unwrap().focus, LayerFocus::Tree);
        for _ in 0..3 {
            key(&mut app, KeyCode::Backspace);
        }
        assert_eq!(paths(&app).len(), 8);
        keys(&mut app, "lib/");
        key(&mut app, KeyCode::Enter);
        assert_eq!(paths(&app), ["usr", "usr/lib", "usr/lib/x"]);
        assert!(!app.filtering);
        let frame = crate::tui::once::render_text(&app, 120, 20);
        assert!(frame.contains("search \"lib/\""), "{frame}");
        key(&mut app, KeyCode::Esc);
        assert_eq!(paths(&app).len(), 8);
        assert!(
            app.image_detail().is_some(),
            "the first esc clears the search"
        );
        key(&mut app, KeyCode::Esc);
        assert!(app.image_detail().is_none());
    }

    /// A page key moves the layer list by the layers it shows, and the tree by its rows,
    /// at the frame's size: a short screen, a short page.
    #[test]
    fn a_page_moves_the_layers_and_the_tree_by_the_rows_their_panes_show() {
        let mut app = layer_view();
        let id = app.image_detail().unwrap().id.clone();
        let layers: Vec<_> = (0..60)
            .map(|index| ImageLayer {
                index,
                ..two_layers()[0].clone()
            })
            .collect();
        update(
            &mut app,
            Msg::Detail(Ok(Box::new(DetailData::Layers { id, layers }))),
        );
        let layer = |app: &App| app.image_detail().unwrap().layer;
        key(&mut app, KeyCode::Home);
        for (height, rows) in [(24, 10), (40, 26)] {
            crate::tui::once::render_text(&app, 80, height);
            assert_eq!(app.image_detail().unwrap().layer_rows.get(), rows);
            let before = layer(&app);
            key(&mut app, KeyCode::PageDown);
            assert_eq!(layer(&app), before + rows, "80x{height}");
        }
        key(&mut app, KeyCode::PageUp);
        assert_eq!(layer(&app), 10);
        // The tree's eight rows on a screen that shows four of them.
        let id = app.image_detail().unwrap().id.clone();
        let mut tree = crate::tui::layers::tests::sample();
        tree.layer = 10;
        update(
            &mut app,
            Msg::Detail(Ok(Box::new(DetailData::LayerTree { id, tree }))),
        );
        key(&mut app, KeyCode::Tab);
        crate::tui::once::render_text(&app, 80, 8);
        let tree = |app: &App| app.image_detail().unwrap().files.cursor.selected;
        assert_eq!(app.image_detail().unwrap().files.cursor.height.get(), 4);
        key(&mut app, KeyCode::PageDown);
        assert_eq!(tree(&app), 4);
        key(&mut app, KeyCode::PageDown);
        assert_eq!(tree(&app), 7, "the tree's last row");
    }
}
