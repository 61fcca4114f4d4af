//! `y`: what the user is on, to the clipboard.

use crate::tui::detail::ContainerTab;
use crate::tui::effect::Effect;
use crate::tui::files::join;
use crate::tui::state::{App, View};

/// The longest text a yank sends: terminals drop longer OSC 52 sequences anyway, and a
/// log line is the container's to make as long as it likes.
pub(super) const YANK_MAX: usize = 64 * 1024;

/// The selected object's full ID (or path, or the log line at the bottom of the logs tab)
/// to the clipboard.
pub(super) fn yank(app: &mut App) -> Vec<Effect> {
    let Some((text, what)) = yank_text(app) else {
        return Vec::new();
    };
    if text.len() > YANK_MAX {
        app.say(
            format!("{what} is too long to copy ({} bytes)", text.len()),
            true,
        );
        return Vec::new();
    }
    app.say(format!("copied {what} to the clipboard"), false);
    vec![Effect::Yank(text)]
}

/// What a yank copies where the user is, and how the status line names it.
pub(super) fn yank_text(app: &App) -> Option<(String, String)> {
    let named = |text: String| Some((text.clone(), text));
    if let Some(files) = &app.files {
        let pane = files.pane(files.active);
        let path = join(pane.dir()?, &pane.selected()?.name);
        return named(path);
    }
    if let Some(detail) = app.container_detail() {
        if detail.tab != ContainerTab::Logs {
            return named(detail.id.clone());
        }
        // The bottom line on screen, as it shows: without the container's escapes.
        let text = detail.logs.bottom_line()?.text.text.clone();
        return Some((text, "the log line".to_owned()));
    }
    if let Some(image) = app.image_detail() {
        return named(image.id.clone());
    }
    if let Some(network) = app.network_detail() {
        return named(network.id.clone());
    }
    if let Some(volume) = app.volume_detail() {
        let entry = volume
            .listing
            .as_ref()
            .and_then(|l| l.entries.get(volume.cursor.selected));
        return match entry {
            Some(entry) => {
                let path = volume.mountpoint.join(&volume.path).join(&entry.name);
                named(path.to_string_lossy().into_owned())
            }
            None => named(volume.name.clone()),
        };
    }
    match app.view {
        View::Containers => named(app.selected_container()?.id.to_string()),
        View::Images => named(app.selected_image()?.summary.id.to_string()),
        View::Volumes => named(app.selected_volume()?.volume.name.clone()),
        View::Events => named(
            app.visible_events()
                .get(app.events_cursor.selected)?
                .actor
                .id
                .clone(),
        ),
        View::Networks => named(app.selected_network()?.id.clone()),
        // A project's name, or `project/service`.
        View::Projects => {
            let row = app.selected_project_row()?;
            named(match row.service() {
                Some(service) => format!("{}/{service}", row.project()),
                None => row.project().to_owned(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tui::update::testing::*;

    #[test]
    fn y_copies_the_selected_id_and_the_logs_bottom_line() {
        let mut app = app_with(Keymap::default());
        keys(&mut app, "j");
        let job_id = app.snapshot.containers[1].id.to_string();
        assert_eq!(yanked(&mut app), job_id);
        let status = app.status.as_ref().map(|s| s.text.clone());
        assert_eq!(status, Some(format!("copied {job_id} to the clipboard")));
        key(&mut app, KeyCode::Enter);
        assert_eq!(yanked(&mut app), job_id);
        // To the Logs tab; a line's escapes are not copied.
        key(&mut app, KeyCode::Esc);
        let log = crate::tui::logs::tests::FakeLog::new(
            ["first", "\x1b[31mlast\x1b[0m\x1b]0;title\x07"].map(String::from),
        );
        open_logs(&mut app, &log);
        assert_eq!(yanked(&mut app), "last");
        key(&mut app, KeyCode::Up);
        assert_eq!(yanked(&mut app), "first");
        // In the confirm popup y still means yes.
        key(&mut app, KeyCode::Esc);
        keys(&mut app, "K");
        assert!(matches!(
            keys(&mut app, "y").as_slice(),
            [Effect::Containers {
                op: ContainerOp::Kill,
                ..
            }]
        ));
    }

    #[test]
    fn y_copies_an_image_id_a_volume_name_and_file_paths() {
        use crate::engine::PathKind;
        use crate::engine::{DirEntry, DirListing};
        let mut app = app_with(Keymap::default());
        let image = Digest::of_bytes(b"config");
        app.snapshot.images = one_image(b"config");
        app.snapshot.volumes = vec![volume("data")];
        keys(&mut app, "2");
        assert_eq!(yanked(&mut app), image.to_string());
        key(&mut app, KeyCode::Enter);
        assert_eq!(yanked(&mut app), image.to_string());
        keys(&mut app, "3");
        assert_eq!(yanked(&mut app), "data");
        let entry = |name: &str| DirEntry {
            name: name.into(),
            kind: PathKind::File,
            size: 0,
            mode: 0o644,
            mtime: 0,
            link_target: None,
            mount: None,
        };
        let listing = |path: &str, name: &str| DirListing {
            path: path.into(),
            entries: vec![entry(name)],
            truncated: false,
        };
        key(&mut app, KeyCode::Enter);
        update(
            &mut app,
            Msg::Detail(Ok(Box::new(DetailData::VolumeFiles {
                name: "data".into(),
                path: String::new(),
                listing: listing("/v/data/_data", "notes"),
                usage: None,
            }))),
        );
        assert_eq!(yanked(&mut app), "/v/data/_data/notes");
        // The file view: the selected entry of the active pane, by its full path.
        keys(&mut app, "1f");
        let container = app.snapshot.containers[0].id.to_string();
        for (side, path, name) in [(Side::Host, "/srv", "a"), (Side::Container, "/etc", "b")] {
            update(
                &mut app,
                Msg::Listed {
                    side,
                    container: container.clone(),
                    result: Ok(Box::new(listing(path, name))),
                },
            );
        }
        assert_eq!(yanked(&mut app), "/srv/a");
        key(&mut app, KeyCode::Tab);
        assert_eq!(yanked(&mut app), "/etc/b");
    }
}
