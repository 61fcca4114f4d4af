//! The five list panes: what a reload brings, switching pane, marks, and the actions on
//! the selected or marked rows (each asking first where it destroys).

use super::{apply, pull};
use crate::engine::{Event, Status, BUILTIN_NETWORKS};
use crate::tui::action::Action;
use crate::tui::detail::ContainerTab;
use crate::tui::effect::{ContainerOp, Effect, Target};
use crate::tui::snapshot::Snapshot;
use crate::tui::state::{App, Popup, View, EVENTS_KEPT};

/// A reload: marks of containers that are gone are dropped, each pane's selected row
/// stays selected wherever it moved (new rows come in above it), else in range.
pub(super) fn on_loaded(app: &mut App, result: Result<Box<Snapshot>, String>) -> Vec<Effect> {
    match result {
        Ok(snapshot) => {
            let kept = super::selected_rows(app, &View::ALL);
            app.snapshot = *snapshot;
            app.order_containers();
            app.loaded = true;
            let known: std::collections::HashSet<&str> = app
                .snapshot
                .containers
                .iter()
                .map(|c| c.id.as_str())
                .collect();
            app.marked.retain(|id| known.contains(id.as_str()));
            let running = app
                .snapshot
                .containers
                .iter()
                .filter(|c| c.state.status == Status::Running)
                .map(|c| c.id.as_str())
                .collect();
            app.stats.keep_only(&running);
            super::reselect(app, kept);
            pull::select_pulled(app);
            // The Config tab shows state too (health, restart count): read with the rest.
            if let Some(detail) = app
                .container_detail_mut()
                .filter(|d| d.tab == ContainerTab::Config)
            {
                return detail
                    .request()
                    .map(Effect::LoadDetail)
                    .into_iter()
                    .collect();
            }
        }
        Err(e) => app.say(format!("reading the engine: {e}"), true),
    }
    super::projects::read_files(app)
}

/// Events (also from other processes) are kept, the oldest dropped past
/// [`EVENTS_KEPT`], and the lists read again.
pub(super) fn on_events(app: &mut App, events: Vec<Event>) -> Vec<Effect> {
    let changed = !events.is_empty();
    let kept = super::selected_rows(app, &[View::Events]);
    for event in events {
        if app.events.len() == EVENTS_KEPT {
            app.events.pop_front();
        }
        app.events.push_back(event);
    }
    super::reselect(app, kept);
    if changed {
        vec![Effect::Reload]
    } else {
        Vec::new()
    }
}

pub(super) fn switch_view(app: &mut App, view: View) -> Vec<Effect> {
    if view == View::Volumes && app.view != View::Volumes {
        // A new visit measures the volumes on screen afresh.
        app.volumes_asked.clear();
    }
    app.view = view;
    app.details.clear();
    app.files = None;
    app.filter.clear();
    app.filtering = false;
    app.marked.clear();
    super::projects::read_files(app)
}

/// After any message, on the volumes pane: the volumes whose rows are on screen and
/// whose size this visit has not asked for yet are measured, so the walks are those of
/// the rows in view (a thousand volumes cost a screenful of walks), the others' as they
/// scroll in. Measuring every volume at each visit took both cores from the frames drawn
/// meanwhile.
pub(super) fn measure_volumes_on_screen(app: &mut App) -> Option<Effect> {
    if app.view != View::Volumes || !app.details.is_empty() || app.files.is_some() {
        return None;
    }
    let rows = app.visible_volumes();
    // The pane's rows as last drawn; before it ever was, the screen's (a few too many).
    let height = match app.volumes.height.get() {
        0 => usize::from(app.height.get()),
        drawn => drawn,
    };
    let window = match height {
        // No frame yet (a test): every row.
        0 => 0..rows.len(),
        height => app.volumes.window(height),
    };
    let batch: Vec<(String, std::path::PathBuf)> = rows
        .get(window.start.min(rows.len())..window.end.min(rows.len()))
        .unwrap_or_default()
        .iter()
        .filter(|v| !app.volumes_asked.contains(&v.volume.name))
        .map(|v| (v.volume.name.clone(), v.mountpoint.clone()))
        .collect();
    if batch.is_empty() {
        return None;
    }
    app.volumes_asked
        .extend(batch.iter().map(|(name, _)| name.clone()));
    Some(Effect::VolumeSizes(batch))
}

pub(super) fn mark_selected(app: &mut App) {
    let id = match app.view {
        View::Containers => app.selected_container().map(|c| c.id.to_string()),
        View::Images => app.selected_image().map(|i| i.summary.id.to_string()),
        View::Volumes => app.selected_volume().map(|v| v.volume.name.clone()),
        View::Networks => app.selected_network().map(|n| n.id.clone()),
        View::Events | View::Projects => None,
    };
    if let Some(id) = id {
        if !app.marked.remove(&id) {
            app.marked.insert(id);
        }
        let len = app.rows_in_view();
        app.cursor_mut().move_by(1, len);
    }
}

/// A bulk action sent (not merely asked about) uses the marks up: they clear, so the next
/// key acts on the selected row again.
pub(super) fn unmark_after(app: &mut App, effects: &[Effect]) {
    let bulk = effects.iter().any(|e| {
        matches!(
            e,
            Effect::Containers { .. }
                | Effect::RemoveImages(_)
                | Effect::RemoveVolumes(_)
                | Effect::RemoveNetworks(_)
        )
    });
    if bulk {
        app.marked.clear();
    }
}

/// The marked rows of the pane, or the selected one when none is marked.
pub(super) fn selected_targets(app: &App) -> Vec<Target> {
    match app.view {
        View::Containers => {
            if app.container_detail().is_some() {
                return app
                    .detail_container()
                    .map(|c| Target {
                        id: c.id.to_string(),
                        name: c.name.clone(),
                    })
                    .into_iter()
                    .collect();
            }
            let rows = app.visible_containers();
            pick(
                &app.marked,
                rows.iter()
                    .map(|c| (c.id.to_string(), c.name.clone()))
                    .collect(),
                app.containers.selected,
            )
        }
        View::Images => pick(
            &app.marked,
            app.visible_images()
                .iter()
                .map(|i| (i.summary.id.to_string(), i.name()))
                .collect(),
            app.images.selected,
        ),
        View::Volumes => pick(
            &app.marked,
            app.visible_volumes()
                .iter()
                .map(|v| (v.volume.name.clone(), v.volume.name.clone()))
                .collect(),
            app.volumes.selected,
        ),
        View::Networks => {
            if let Some(network) = app.detail_network() {
                return vec![Target {
                    id: network.id.clone(),
                    name: network.name.clone(),
                }];
            }
            pick(
                &app.marked,
                app.visible_networks()
                    .iter()
                    .map(|n| (n.id.clone(), n.name.clone()))
                    .collect(),
                app.networks.selected,
            )
        }
        View::Events | View::Projects => Vec::new(),
    }
}

pub(super) fn pick(
    marked: &std::collections::BTreeSet<String>,
    rows: Vec<(String, String)>,
    selected: usize,
) -> Vec<Target> {
    let chosen: Vec<Target> = rows
        .iter()
        .filter(|(id, _)| marked.contains(id))
        .map(|(id, name)| Target {
            id: id.clone(),
            name: name.clone(),
        })
        .collect();
    if !chosen.is_empty() {
        return chosen;
    }
    rows.into_iter()
        .nth(selected)
        .map(|(id, name)| Target { id, name })
        .into_iter()
        .collect()
}

pub(super) fn container_op(app: &mut App, op: ContainerOp) -> Vec<Effect> {
    if app.view != View::Containers {
        return Vec::new();
    }
    let targets = selected_targets(app);
    if targets.is_empty() {
        return Vec::new();
    }
    let effect = Effect::Containers { op, targets };
    confirm_if(app, op.destructive(), effect)
}

/// The one selected container, if it runs: a shell or an attach needs one. Otherwise the
/// footer says why and how to fix it, at once, rather than after the terminal was handed
/// over, where the error would be lost with the next frame.
pub(super) fn running_target(app: &mut App) -> Option<Target> {
    if app.view != View::Containers {
        return None;
    }
    let targets = selected_targets(app);
    let [target] = targets.as_slice() else {
        return None;
    };
    let container = app.container_by_id(&target.id)?;
    let (state, verb, action) = if container.state.status != Status::Running {
        ("not running", "start", Action::Start)
    } else if container.state.is_paused() {
        ("paused", "unpause", Action::PauseContainer)
    } else {
        return Some(target.clone());
    };
    let key = app
        .keymap
        .key_for(action)
        .unwrap_or_else(|| format!(":{}", action.name()));
    app.say(
        format!("{} is {state}: {verb} it with {key}", target.name),
        true,
    );
    None
}

pub(super) fn attach(app: &mut App) -> Vec<Effect> {
    running_target(app)
        .map(Effect::Attach)
        .into_iter()
        .collect()
}

/// One key toggles, as lazydocker's: unpause when every target is paused, else pause.
pub(super) fn pause_or_unpause(app: &App) -> ContainerOp {
    let targets = selected_targets(app);
    let paused = |t: &Target| {
        app.container_by_id(&t.id)
            .is_some_and(|c| c.state.is_paused())
    };
    if !targets.is_empty() && targets.iter().all(paused) {
        ContainerOp::Unpause
    } else {
        ContainerOp::Pause
    }
}

pub(super) fn remove(app: &mut App) -> Vec<Effect> {
    let targets = selected_targets(app);
    if targets.is_empty() {
        return Vec::new();
    }
    let effect = match app.view {
        View::Containers => Effect::Containers {
            op: ContainerOp::Remove,
            targets,
        },
        View::Images => Effect::RemoveImages(targets),
        View::Volumes => Effect::RemoveVolumes(targets),
        View::Networks => {
            // Said at once rather than after a confirmation the engine would refuse.
            if let Some(builtin) = targets
                .iter()
                .find(|t| BUILTIN_NETWORKS.contains(&t.name.as_str()))
            {
                app.say(
                    format!(
                        "{} is a pre-defined network and cannot be removed",
                        builtin.name
                    ),
                    true,
                );
                return Vec::new();
            }
            Effect::RemoveNetworks(targets)
        }
        View::Events | View::Projects => return Vec::new(),
    };
    let question = question(&effect) + &running_note(app, &effect);
    app.popup = Some(Popup::Confirm { question, effect });
    Vec::new()
}

/// " web is running and will be killed first": what removing running containers does
/// (the dashboard's remove is `rm -f`), said in the question.
fn running_note(app: &App, effect: &Effect) -> String {
    let Effect::Containers { targets, .. } = effect else {
        return String::new();
    };
    let running: Vec<&str> = targets
        .iter()
        .filter(|t| {
            app.container_by_id(&t.id)
                .is_some_and(|c| c.state.status == Status::Running)
        })
        .map(|t| t.name.as_str())
        .collect();
    match running.as_slice() {
        [] => String::new(),
        [one] => format!(" {one} is running and will be killed first"),
        many => format!(" {} are running and will be killed first", many.join(", ")),
    }
}

/// Volumes and networks get a `:` line with the verb typed, so the name and flags are
/// the user's; containers get the run form.
pub(super) fn create(app: &mut App) -> Vec<Effect> {
    let verb = match app.view {
        View::Volumes => "volume create ",
        View::Networks => "network create ",
        View::Containers | View::Images => return apply(app, Action::RunNew),
        View::Events | View::Projects => return Vec::new(),
    };
    app.popup = Some(Popup::Command {
        input: verb.to_owned(),
        tail: String::new(),
    });
    Vec::new()
}

/// What `docker container|volume|network prune` would remove, after a confirmation.
pub(super) fn prune(app: &mut App) -> Vec<Effect> {
    use crate::ops::prune::Prune;
    let (question, effect) = match app.view {
        View::Containers => {
            let targets: Vec<Target> = app
                .snapshot
                .containers
                .iter()
                .filter(|c| c.state.status != Status::Running)
                .map(|c| Target {
                    id: c.id.to_string(),
                    name: c.name.clone(),
                })
                .collect();
            if targets.is_empty() {
                app.say("no stopped containers to remove", false);
                return Vec::new();
            }
            let effect = Effect::Containers {
                op: ContainerOp::Remove,
                targets,
            };
            (question(&effect), effect)
        }
        // Docker's warning, from the prune the verb runs; the popup asks it.
        View::Volumes => (
            Prune::Volumes { all: false }.warning(),
            Effect::Verb(words(&["volume", "prune", "-f"])),
        ),
        View::Networks => (
            Prune::Networks.warning(),
            Effect::Verb(words(&["network", "prune", "-f"])),
        ),
        View::Images | View::Events | View::Projects => return Vec::new(),
    };
    app.popup = Some(Popup::Confirm { question, effect });
    Vec::new()
}

pub(super) fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| (*w).to_owned()).collect()
}

pub(super) fn confirm_if(app: &mut App, ask: bool, effect: Effect) -> Vec<Effect> {
    if !ask {
        return vec![effect];
    }
    app.popup = Some(Popup::Confirm {
        question: question(&effect),
        effect,
    });
    Vec::new()
}

pub(super) fn question(effect: &Effect) -> String {
    let (verb, kind, targets) = match effect {
        Effect::Containers { op, targets } => (op.verb(), "container", targets),
        Effect::RemoveImages(targets) => ("remove", "image", targets),
        Effect::RemoveVolumes(targets) => ("remove", "volume", targets),
        Effect::RemoveNetworks(targets) => ("remove", "network", targets),
        Effect::Compose(job) => return format!("{} {}?", job.op.verb(), job.object()),
        _ => return String::new(),
    };
    let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
    let plural = if targets.len() == 1 { "" } else { "s" };
    format!("{verb} {kind}{plural} {}?", names.join(", "))
}

/// A `:` line with `verb` typed before the selected container's name.
pub(super) fn network_verb(app: &mut App, verb: &str) -> Vec<Effect> {
    match selected_targets(app).as_slice() {
        [target] if app.view == View::Containers => {
            let tail = format!(" {}", target.name);
            super::popups::open_command(app, verb, &tail)
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::update::testing::*;

    /// The stats sampler gets the running rows a screen shows, never more, whatever the
    /// list holds; and the first frame after a load needs nothing but the load.
    #[test]
    fn the_sampled_set_is_the_running_rows_on_screen_and_stays_bounded() {
        let mut app = app_with(Keymap::default());
        let containers = (0..1000)
            .map(|i| {
                let status = if i % 2 == 0 {
                    Status::Running
                } else {
                    Status::Exited
                };
                container(&format!("c{i:04}"), status, i)
            })
            .collect();
        let snapshot = crate::tui::snapshot::Snapshot {
            containers,
            ..Default::default()
        };
        let effects = update(&mut app, Msg::Loaded(Ok(Box::new(snapshot))));
        // Drawn at once with what the load brought; stats come later by themselves.
        assert!(app.loaded && app.dirty);
        assert!(app.stats.latest.is_empty());
        assert!(
            !effects.iter().any(|e| matches!(e, Effect::Reload)),
            "{effects:?}"
        );
        let on_screen = app.running_rows_on_screen(45);
        assert_eq!(on_screen.len(), 45);
        assert!(on_screen.iter().all(|c| c.state.status == Status::Running));
        // Scrolled: the rows from the offset on, still one screen's worth.
        app.containers.offset.set(480);
        let scrolled = app.running_rows_on_screen(45);
        assert_eq!(scrolled.len(), 20);
        assert_eq!(scrolled[0].name, "c0960");
        assert_eq!(
            app.running_on_screen(45)
                .iter()
                .map(|c| &c.id)
                .collect::<Vec<_>>(),
            scrolled.iter().map(|c| &c.id).collect::<Vec<_>>()
        );
    }

    /// A thousand volumes: the pane measures the rows on screen only, each once a visit;
    /// the others as they scroll into view, and those on screen afresh at the next visit.
    #[test]
    fn volumes_are_measured_as_their_rows_come_on_screen() {
        use crate::engine::DirUsage;
        use crate::tui::once::render_text;
        let mut app = app_with(Keymap::default());
        app.snapshot.volumes = (0..1000).map(|i| volume(&format!("v{i:03}"))).collect();
        let asked = |effects: &[Effect]| -> Vec<String> {
            effects
                .iter()
                .filter_map(|e| match e {
                    Effect::VolumeSizes(batch) => Some(batch),
                    _ => None,
                })
                .flatten()
                .map(|(name, _)| name.clone())
                .collect()
        };
        let names = |range: std::ops::Range<usize>| -> Vec<String> {
            range.map(|i| format!("v{i:03}")).collect()
        };
        // A first frame, 16 rows high (the panes show 11 rows): on the containers pane,
        // nothing is measured.
        render_text(&app, 120, 16);
        assert!(asked(&update(&mut app, Msg::Tick)).is_empty());
        // The pane not drawn yet: as many rows as the screen has, not the thousand.
        let effects = keys(&mut app, "3");
        assert_eq!(asked(&effects), names(0..16));
        let Some(Effect::VolumeSizes(first)) = effects.first() else {
            panic!("{effects:?}");
        };
        assert_eq!(first[0].1, std::path::Path::new("/v/v000/_data"));
        let row = |frame: &str, name: &str| -> String {
            let found = frame.lines().find(|l| l.contains(&format!("│{name} ")));
            found
                .unwrap_or_else(|| panic!("{name} not in {frame}"))
                .to_owned()
        };
        let sized = |names: &[String], bytes: u64| {
            let usage = DirUsage {
                bytes,
                entries: 1,
                partial: false,
            };
            Msg::VolumeSizes(names.iter().map(|n| (n.clone(), usage)).collect())
        };
        // Until its size arrives, a row says "…".
        let frame = render_text(&app, 120, 16);
        assert!(row(&frame, "v000").contains(" …"), "{frame}");
        assert!(asked(&update(&mut app, sized(&names(0..16), 2000))).is_empty());
        let frame = render_text(&app, 120, 16);
        assert!(row(&frame, "v010").contains(" 2kB "), "{frame}");
        // Moving within the screen, or the clock, measures nothing more.
        assert!(asked(&keys(&mut app, "jjk")).is_empty());
        assert!(asked(&update(&mut app, Msg::Tick)).is_empty());
        // Scrolled to the 30th (the screen now shows the 20th to the 30th): those rows.
        app.volumes.selected = 29;
        assert_eq!(asked(&update(&mut app, Msg::Resize)), names(19..30));
        assert!(asked(&update(&mut app, Msg::Resize)).is_empty());
        let frame = render_text(&app, 120, 16);
        assert!(row(&frame, "v029").contains(" …"), "{frame}");
        update(&mut app, sized(&names(16..30), 3000));
        let frame = render_text(&app, 120, 16);
        assert!(row(&frame, "v029").contains(" 3kB "), "{frame}");
        // The next visit measures what is on screen afresh, and only that.
        keys(&mut app, "1");
        assert_eq!(asked(&keys(&mut app, "3")), names(19..30));
    }

    #[test]
    fn stop_acts_on_the_selected_row_without_asking() {
        let mut app = app_with(Keymap::default());
        let effects = keys(&mut app, "js");
        match effects.as_slice() {
            [Effect::Containers { op, targets }] => {
                assert_eq!(*op, ContainerOp::Stop);
                assert_eq!(names(targets), ["job"]);
            }
            other => panic!("expected one stop, got {other:?}"),
        }
    }

    #[test]
    fn z_pauses_the_selected_container_and_unpauses_it_once_paused() {
        let mut app = app_with(Keymap::default());
        let op_of = |effects: Vec<Effect>| match effects.as_slice() {
            [Effect::Containers { op, targets }] => {
                assert_eq!(names(targets), ["web"]);
                *op
            }
            other => panic!("expected one container action, got {other:?}"),
        };
        assert_eq!(op_of(keys(&mut app, "z")), ContainerOp::Pause);
        app.snapshot.containers[0].state.paused = true;
        assert_eq!(op_of(keys(&mut app, "z")), ContainerOp::Unpause);
    }

    #[test]
    fn remove_of_marked_rows_asks_first_and_no_cancels() {
        let mut app = app_with(Keymap::default());
        // Mark web and old (space moves down after marking).
        let mut effects = key(&mut app, KeyCode::Char(' '));
        effects.extend(keys(&mut app, "j "));
        effects.extend(keys(&mut app, "d"));
        assert!(effects.is_empty(), "{effects:?}");
        match &app.popup {
            Some(Popup::Confirm { question, .. }) => assert_eq!(
                question,
                "remove containers web, old? web is running and will be killed first"
            ),
            other => panic!("expected a confirmation, got {other:?}"),
        }
        assert!(keys(&mut app, "n").is_empty());
        assert!(app.popup.is_none());
        // The marks show, in the title and on the cursor's row too.
        let frame = crate::tui::once::render_text(&app, 100, 8);
        assert!(frame.contains(" 2 marked "), "{frame}");
        let cursor_row = frame.lines().find(|l| l.contains("old")).unwrap();
        assert!(cursor_row.contains("│*"), "{frame}");
        keys(&mut app, "d");
        match keys(&mut app, "y").as_slice() {
            [Effect::Containers { op, targets }] => {
                assert_eq!(*op, ContainerOp::Remove);
                assert_eq!(names(targets), ["web", "old"]);
            }
            other => panic!("expected the removal, got {other:?}"),
        }
        // Used up: the next action is on the selected row alone.
        assert!(app.marked.is_empty());
        let frame = crate::tui::once::render_text(&app, 100, 8);
        assert!(!frame.contains("marked"), "{frame}");
    }

    #[test]
    fn e_on_a_container_that_is_not_running_says_how_to_start_it() {
        let mut app = app_with(Keymap::default());
        // job is created, not running.
        keys(&mut app, "j");
        assert!(keys(&mut app, "e").is_empty());
        assert_eq!(
            app.status.as_ref().map(|s| s.text.as_str()),
            Some("job is not running: start it with u")
        );
        keys(&mut app, "k");
        assert!(matches!(keys(&mut app, "e").as_slice(), [Effect::Shell(t)] if t.name == "web"));
    }

    #[test]
    fn plus_types_the_create_verb_and_p_prunes_after_asking() {
        let mut app = app_with(Keymap::default());
        keys(&mut app, "3+");
        assert_eq!(
            app.popup,
            Some(Popup::Command {
                input: "volume create ".into(),
                tail: String::new(),
            })
        );
        keys(&mut app, "x");
        let effects = key(&mut app, KeyCode::Enter);
        match effects.as_slice() {
            [Effect::Verb(words)] => assert_eq!(words, &["volume", "create", "x"]),
            other => panic!("expected a verb, got {other:?}"),
        }
        assert!(keys(&mut app, "P").is_empty());
        // Docker's own warning, the one `volume prune` prints.
        match &app.popup {
            Some(Popup::Confirm { question, .. }) => assert!(
                question.starts_with("WARNING! This will remove anonymous local volumes"),
                "{question}"
            ),
            other => panic!("expected a confirmation, got {other:?}"),
        }
        match keys(&mut app, "y").as_slice() {
            [Effect::Verb(words)] => assert_eq!(words, &["volume", "prune", "-f"]),
            other => panic!("expected volume prune, got {other:?}"),
        }
        // Containers: every one not running, named in the question.
        keys(&mut app, "1P");
        match &app.popup {
            Some(Popup::Confirm { question, .. }) => {
                assert_eq!(question, "remove containers job, old?")
            }
            other => panic!("expected a confirmation, got {other:?}"),
        }
        key(&mut app, KeyCode::Esc);
        // On containers, + is the run form.
        keys(&mut app, "+");
        assert!(matches!(app.popup, Some(Popup::RunForm(_))));
    }

    #[test]
    fn shift_c_types_network_connect_for_the_selected_container() {
        let mut app = app_with(Keymap::default());
        keys(&mut app, "jC");
        assert_eq!(
            app.popup,
            Some(Popup::Command {
                input: "network connect ".into(),
                tail: " job".into(),
            })
        );
        keys(&mut app, "lan");
        match key(&mut app, KeyCode::Enter).as_slice() {
            [Effect::Verb(words)] => assert_eq!(words, &["network", "connect", "lan", "job"]),
            other => panic!("expected network connect, got {other:?}"),
        }
        keys(&mut app, "D");
        let frame = crate::tui::once::render_text(&app, 100, 12);
        assert!(frame.contains(":network disconnect █ job"), "{frame}");
    }

    #[test]
    fn events_from_other_processes_reload_and_are_kept_bounded() {
        let mut app = app_with(Keymap::default());
        let event = crate::engine::Event::new(crate::engine::ObjectType::Container, "start", "abc");
        let effects = update(&mut app, Msg::Events(vec![event.clone(); EVENTS_KEPT + 10]));
        assert_eq!(effects, [Effect::Reload]);
        assert_eq!(app.events.len(), EVENTS_KEPT);
    }

    /// New events come in at the top: a selection on an older one stays on it, one on
    /// the newest stays on the newest.
    #[test]
    fn the_events_selection_stays_on_its_event_or_on_the_newest() {
        use crate::engine::{Event, ObjectType};
        let mut app = app_with(Keymap::default());
        let event = |action: &str, at: i64| {
            let mut event = Event::new(ObjectType::Container, action, "abc");
            event.time_nano = at;
            event
        };
        update(
            &mut app,
            Msg::Events(vec![event("create", 1), event("start", 2)]),
        );
        keys(&mut app, "5");
        let action = |app: &App| {
            app.visible_events()[app.events_cursor.selected]
                .action
                .clone()
        };
        assert_eq!(action(&app), "start");
        update(&mut app, Msg::Events(vec![event("pause", 3)]));
        assert_eq!(action(&app), "pause", "on the newest");
        keys(&mut app, "G");
        assert_eq!(action(&app), "create");
        update(
            &mut app,
            Msg::Events(vec![event("unpause", 4), event("stop", 5)]),
        );
        assert_eq!(action(&app), "create", "on its event");
    }

    /// A page key moves a pane's list by the rows the pane shows, at each size the
    /// screen has had (ten before the first frame), and turns the view with it: the
    /// selected row stays first on screen. ctrl-d and ctrl-u are the same keys.
    #[test]
    fn a_page_moves_a_list_by_the_rows_its_pane_shows() {
        use crate::tui::once::render_text;
        let mut app = app_with(Keymap::default());
        let containers = (0..300)
            .map(|i| container(&format!("c{i:04}"), Status::Exited, i))
            .collect();
        let snapshot = Snapshot {
            containers,
            ..Default::default()
        };
        update(&mut app, Msg::Loaded(Ok(Box::new(snapshot))));
        let selected = |app: &App| app.selected_container().map(|c| c.name.clone());
        key(&mut app, KeyCode::PageDown);
        assert_eq!(selected(&app).as_deref(), Some("c0010"), "before a frame");
        key(&mut app, KeyCode::Home);
        let mut at = 0;
        for (width, height) in [(80, 24), (100, 45)] {
            let frame = render_text(&app, width, height);
            let rows = app.containers.height.get();
            // The pane's rows: the screen less the tab bar, the footer, the frame and
            // the header.
            assert_eq!(rows, usize::from(height) - 5, "{frame}");
            key(&mut app, KeyCode::PageDown);
            at += rows;
            assert_eq!(
                selected(&app),
                Some(format!("c{at:04}")),
                "{width}x{height}"
            );
            render_text(&app, width, height);
            assert_eq!(app.containers.offset.get(), at, "the view turned a page");
            update(
                &mut app,
                Msg::Key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL)),
            );
            update(
                &mut app,
                Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
            );
            assert_eq!(selected(&app), Some(format!("c{at:04}")), "ctrl-d, ctrl-u");
        }
        // Back up by the last size's page; at the list's ends a page stops there.
        key(&mut app, KeyCode::PageUp);
        assert_eq!(selected(&app), Some(format!("c{:04}", at - 40)));
        key(&mut app, KeyCode::PageUp);
        key(&mut app, KeyCode::PageUp);
        assert_eq!(selected(&app).as_deref(), Some("c0000"));
        key(&mut app, KeyCode::End);
        key(&mut app, KeyCode::PageDown);
        assert_eq!(selected(&app).as_deref(), Some("c0299"));
    }

    /// The other panes page the same way: the images pane at its height.
    #[test]
    fn a_page_moves_the_images_pane_by_its_rows() {
        use crate::tui::once::render_text;
        let mut app = app_with(Keymap::default());
        app.snapshot.images = (0..100u8)
            .flat_map(|i| crate::tui::update::testing::one_image(&[i]))
            .collect();
        keys(&mut app, "2");
        render_text(&app, 80, 30);
        let rows = app.images.height.get();
        assert_eq!(rows, 25);
        key(&mut app, KeyCode::PageDown);
        assert_eq!(app.images.selected, rows);
    }

    /// The selection stays on its container when the rows move under it: a stats sample
    /// reordering the list by CPU, a reload bringing a container in above it, the filter,
    /// running only; so `s` stops the container the user chose.
    #[test]
    fn the_selection_follows_its_container_when_the_rows_move() {
        use crate::engine::ContainerStats;
        let mut app = app_with(Keymap::default());
        let mut containers: Vec<_> = ["a", "b", "c"]
            .map(|name| container(name, Status::Running, 5))
            .into();
        containers.push(container("idle", Status::Exited, 5));
        containers.push(container("idle2", Status::Exited, 5));
        let ids: Vec<_> = containers.iter().map(|c| c.id.clone()).collect();
        let snapshot = Snapshot {
            containers: containers.clone(),
            ..Default::default()
        };
        update(&mut app, Msg::Loaded(Ok(Box::new(snapshot))));
        app.sort = crate::tui::state::ContainerSort::Cpu;
        let sample = |cpu: [f64; 3]| {
            let stats = ids
                .iter()
                .zip(cpu)
                .map(|(id, cpu_percent)| ContainerStats {
                    id: id.clone(),
                    name: String::new(),
                    running: true,
                    cpu_percent,
                    memory_usage: 1,
                    memory_limit: 1 << 30,
                    memory_percent: 0.0,
                    net_rx: 0,
                    net_tx: 0,
                    block_read: 0,
                    block_write: 0,
                    pids: 1,
                })
                .collect();
            Msg::Stats(stats)
        };
        let selected = |app: &App| app.selected_container().map(|c| c.name.clone());
        update(&mut app, sample([3.0, 2.0, 1.0]));
        keys(&mut app, "j");
        assert_eq!(selected(&app).as_deref(), Some("b"));
        // b now uses the most CPU: first, and still selected.
        update(&mut app, sample([1.0, 3.0, 2.0]));
        assert_eq!(app.containers.selected, 0);
        assert_eq!(selected(&app).as_deref(), Some("b"));
        let stopped = match keys(&mut app, "s").as_slice() {
            [Effect::Containers { targets, .. }] => names(targets).join(","),
            other => panic!("{other:?}"),
        };
        assert_eq!(stopped, "b");
        // A reload with a container that sorts before it (by name).
        app.sort = crate::tui::state::ContainerSort::Name;
        app.order_containers();
        keys(&mut app, "gg");
        keys(&mut app, "jj");
        assert_eq!(selected(&app).as_deref(), Some("c"));
        containers.push(container("aa", Status::Running, 1));
        let snapshot = Snapshot {
            containers,
            ..Default::default()
        };
        update(&mut app, Msg::Loaded(Ok(Box::new(snapshot))));
        assert_eq!(selected(&app).as_deref(), Some("c"));
        // The filter, and running only, keep it while it is shown; a filter that hides
        // it selects the first row.
        keys(&mut app, "/c");
        assert_eq!(selected(&app).as_deref(), Some("c"));
        key(&mut app, KeyCode::Backspace);
        keys(&mut app, "le");
        assert_eq!(app.visible_containers().len(), 2);
        assert_eq!(selected(&app).as_deref(), Some("idle"));
        key(&mut app, KeyCode::Enter);
        key(&mut app, KeyCode::Esc);
        keys(&mut app, "G");
        assert_eq!(selected(&app).as_deref(), Some("idle2"));
        keys(&mut app, "kk");
        let before = selected(&app);
        keys(&mut app, "a");
        assert_eq!(selected(&app), before);
    }
}
