//! The preview pane's reads: a new selection's log at once, the selected running
//! container's again each second while the pane shows (a stat while the log file stays
//! as read); a frame only when its lines change.

use super::super::effect::Effect;
use super::super::preview::{shown, PaneRead, Preview};
use super::super::state::App;
use crate::engine::Status;

pub(super) fn on_preview(app: &mut App, id: String, read: Option<PaneRead>) -> Vec<Effect> {
    // The log was as last read: nothing on screen changes.
    let Some((stamp, result)) = read else {
        app.dirty = false;
        return Vec::new();
    };
    let lines = Some(result);
    app.dirty = match app.preview.as_mut().filter(|p| p.id == id) {
        Some(preview) => {
            preview.stamp = stamp;
            let changed = preview.lines != lines;
            preview.lines = lines;
            changed && shown(app)
        }
        // Another container's, read before the selection moved.
        None => false,
    };
    Vec::new()
}

/// After any message: the pane, if it shows, follows the selection.
pub(super) fn follow_selection(app: &mut App) -> Option<Effect> {
    if !shown(app) {
        return None;
    }
    let id = app.selected_container()?.id.to_string();
    if app.preview.as_ref().is_some_and(|p| p.id == id) {
        return None;
    }
    app.preview = Some(Preview {
        id: id.clone(),
        lines: None,
        stamp: None,
    });
    Some(Effect::LoadPreview { id, known: None })
}

/// Each second: a running container's log grows, so it is read again if its file
/// changed since the read shown.
pub(super) fn on_tick(app: &App) -> Option<Effect> {
    if !shown(app) {
        return None;
    }
    let preview = app.preview.as_ref()?;
    app.container_by_id(&preview.id)
        .filter(|c| c.state.status == Status::Running)
        .map(|_| Effect::LoadPreview {
            id: preview.id.clone(),
            known: preview.stamp,
        })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::engine::ContainerStats;
    use crate::engine::{LogPosition, LogStream};
    use crate::tui::logs::{LogLine, LogText};
    use crate::tui::once::render_text;
    use ratatui::backend::TestBackend;
    use ratatui::style::Color;
    use ratatui::Terminal;

    /// The three containers of `app_with` with IDs that stay put from run to run (for
    /// the frames) and web's stats.
    fn fixed_app() -> App {
        let mut app = app_with(Keymap::default());
        for (i, c) in app.snapshot.containers.iter_mut().enumerate() {
            c.id = format!("{:0<64}", format!("c{i}ab")).parse().unwrap();
        }
        let web = app.snapshot.containers[0].id.clone();
        update(
            &mut app,
            Msg::Stats(vec![ContainerStats {
                id: web,
                name: "web".into(),
                running: true,
                cpu_percent: 1.5,
                memory_usage: 3 << 20,
                memory_limit: 1 << 30,
                memory_percent: 0.3,
                net_rx: 0,
                net_tx: 0,
                block_read: 0,
                block_write: 0,
                pids: 2,
            }]),
        );
        app
    }

    fn reads(effects: &[Effect]) -> Vec<&str> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::LoadPreview { id, .. } => Some(id.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Log lines as the log view reads them: a line starting "error" is stderr.
    fn lines(texts: &[&str]) -> Result<Vec<LogLine>, String> {
        Ok(texts
            .iter()
            .enumerate()
            .map(|(i, t)| LogLine {
                at: LogPosition::new(0, 1, i as u64),
                time: chrono::DateTime::UNIX_EPOCH,
                stream: match t.starts_with("error") {
                    true => LogStream::Stderr,
                    false => LogStream::Stdout,
                },
                text: LogText::parse(t),
            })
            .collect())
    }

    #[test]
    fn the_pane_reads_the_selected_log_on_a_wide_screen_only() {
        let mut app = fixed_app();
        let id = |app: &App, i: usize| app.snapshot.containers[i].id.to_string();
        let (web, job) = (id(&app, 0), id(&app, 1));
        // 80 columns: no pane, nothing read.
        render_text(&app, 80, 24);
        assert!(reads(&keys(&mut app, "jk")).is_empty());
        assert!(reads(&update(&mut app, Msg::Tick)).is_empty());
        // 120x40: the selection's log at once, and no second read for the same one.
        render_text(&app, 120, 40);
        assert_eq!(reads(&update(&mut app, Msg::Resize)), [web.as_str()]);
        assert!(reads(&update(&mut app, Msg::Resize)).is_empty());
        // web runs: read again each second; a frame only when its lines change.
        assert_eq!(reads(&update(&mut app, Msg::Tick)), [web.as_str()]);
        let answer = |app: &mut App, id: &str, texts: &[&str]| {
            update(
                app,
                Msg::Preview {
                    id: id.into(),
                    read: Some((None, lines(texts))),
                },
            );
            app.dirty
        };
        assert!(answer(
            &mut app,
            &web,
            &["listening on :80", "error: no such file"]
        ));
        assert!(!answer(
            &mut app,
            &web,
            &["listening on :80", "error: no such file"]
        ));
        let frame = render_text(&app, 120, 40);
        assert!(
            frame.contains(" web: last log lines (L opens them) "),
            "{frame}"
        );
        assert!(
            frame.contains("CPU 1.50 %   MEM 3MiB / 1GiB   PIDS 2"),
            "{frame}"
        );
        assert!(frame.contains("error: no such file"), "{frame}");
        // job: read once; created, its log does not grow, so the clock reads nothing.
        assert_eq!(reads(&keys(&mut app, "j")), [job.as_str()]);
        assert!(reads(&update(&mut app, Msg::Tick)).is_empty());
        // web's late answer does not land on job's pane.
        assert!(!answer(&mut app, &web, &["late"]));
        assert_eq!(app.preview.as_ref().unwrap().lines, None);
        assert!(render_text(&app, 120, 40).contains("Reading the log…"));
        // A detail over the list hides the pane: nothing is read.
        key(&mut app, KeyCode::Enter);
        assert!(reads(&update(&mut app, Msg::Tick)).is_empty());
    }

    /// The clock's read carries the stamp of the read shown: the worker stats the log
    /// and answers that nothing changed, which draws nothing; a new selection reads
    /// without one.
    #[test]
    fn the_clocks_read_is_skipped_while_the_log_is_as_read() {
        use crate::tui::preview::LogStamp;
        let mut app = fixed_app();
        let web = app.snapshot.containers[0].id.to_string();
        let job = app.snapshot.containers[1].id.to_string();
        render_text(&app, 120, 40);
        let known = |effects: &[Effect]| -> Vec<(String, Option<LogStamp>)> {
            effects
                .iter()
                .filter_map(|e| match e {
                    Effect::LoadPreview { id, known } => Some((id.clone(), *known)),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(known(&update(&mut app, Msg::Resize)), [(web.clone(), None)]);
        // Before the first answer, the clock reads whatever it finds.
        assert_eq!(known(&update(&mut app, Msg::Tick)), [(web.clone(), None)]);
        let stamp = Some(LogStamp::default());
        update(
            &mut app,
            Msg::Preview {
                id: web.clone(),
                read: Some((stamp, lines(&["listening on :80"]))),
            },
        );
        assert!(app.dirty);
        assert_eq!(known(&update(&mut app, Msg::Tick)), [(web.clone(), stamp)]);
        // Unchanged: no frame, the lines stay.
        update(
            &mut app,
            Msg::Preview {
                id: web.clone(),
                read: None,
            },
        );
        assert!(!app.dirty);
        assert!(render_text(&app, 120, 40).contains("listening on :80"));
        // Another container: read whole.
        assert_eq!(known(&keys(&mut app, "j")), [(job, None)]);
    }

    #[test]
    fn the_preview_frames() {
        let mut app = fixed_app();
        render_text(&app, 120, 40);
        update(&mut app, Msg::Resize);
        let web = app.snapshot.containers[0].id.to_string();
        update(
            &mut app,
            Msg::Preview {
                id: web,
                read: Some((
                    None,
                    lines(&[
                        "listening on :80",
                        "GET / 200",
                        "\x1b[31mred alert\x1b[0m\tafter a tab\x1b]0;title\x07",
                        "error: disk full",
                    ]),
                )),
            },
        );
        insta::assert_snapshot!("preview_120x40", render_text(&app, 120, 40));
        // The log view's styles: SGR red kept as red, stderr in its colour; the
        // title-setting escape gone, the tab expanded (the frame above).
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        terminal
            .draw(|frame| crate::tui::render::draw(frame, &app, &app.theme))
            .unwrap();
        let buffer = terminal.backend().buffer();
        let text = crate::tui::once::buffer_text(buffer);
        let style_of = |needle: &str| {
            let (y, line) = text
                .lines()
                .enumerate()
                .find(|(_, l)| l.contains(needle))
                .unwrap();
            let x = line[..line.find(needle).unwrap()].chars().count();
            buffer[(x as u16, y as u16)].style()
        };
        assert_eq!(style_of("red alert").fg, Some(Color::Red));
        assert_ne!(style_of("after a tab").fg, Some(Color::Red));
        assert_eq!(style_of("error: disk").fg, app.theme.deleted.fg);
        // 80x24: the list alone, as before.
        insta::assert_snapshot!("preview_80x24", render_text(&app, 80, 24));
    }

    #[test]
    fn l_opens_the_selected_containers_logs_and_capitals_each_tab() {
        use crate::tui::detail::DetailRequest;
        let mut app = fixed_app();
        let job = app.snapshot.containers[1].id.to_string();
        let effects = keys(&mut app, "jL");
        let [Effect::LoadDetail(DetailRequest::Logs(request))] = effects.as_slice() else {
            panic!("{effects:?}");
        };
        assert_eq!(request.id, job);
        let detail = app.container_detail().unwrap();
        assert_eq!(
            (detail.id.as_str(), detail.tab),
            (job.as_str(), ContainerTab::Logs)
        );
        // On the open detail, each tab's key goes to it.
        for (key, tab) in [
            ("S", ContainerTab::Stats),
            ("I", ContainerTab::Config),
            ("O", ContainerTab::Mounts),
            ("W", ContainerTab::Network),
            ("F", ContainerTab::Diff),
            ("L", ContainerTab::Logs),
        ] {
            keys(&mut app, key);
            assert_eq!(app.container_detail().unwrap().tab, tab, "{key}");
        }
        assert_eq!(app.details.len(), 1);
        // Another pane has no container to open.
        key(&mut app, KeyCode::Esc);
        keys(&mut app, "2L");
        assert!(app.details.is_empty());
    }
}
