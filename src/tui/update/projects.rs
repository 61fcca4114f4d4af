//! The Projects pane's actions: compose's up, down, restart, recreate and rebuild on the
//! selected project or service, its merged logs, profile toggles, and the files read
//! again whenever the pane shows.

use super::list::confirm_if;
use crate::tui::action::Action;
use crate::tui::effect::Effect;
use crate::tui::projects::{self, ComposeJob, ComposeOp, OnDisk, ProjectSource, Row};
use crate::tui::state::{App, Popup, View};

/// Seconds between two reads of the files while the pane shows and nothing else made it
/// read them.
const READ_EVERY: u32 = 5;

/// Reads the files of every project on screen again (the "changed on disk" marker), when
/// the pane shows.
pub(super) fn read_files(app: &mut App) -> Vec<Effect> {
    if app.view != View::Projects {
        return Vec::new();
    }
    app.projects.ticks = 0;
    let sources = projects::sources(&app.snapshot.containers);
    if sources.is_empty() {
        return Vec::new();
    }
    vec![Effect::ReadProjects(sources)]
}

/// A second passed: every [`READ_EVERY`] of them on the pane, the files are read again.
pub(super) fn on_tick(app: &mut App) -> Vec<Effect> {
    if app.view != View::Projects {
        return Vec::new();
    }
    app.projects.ticks += 1;
    if app.projects.ticks < READ_EVERY {
        return Vec::new();
    }
    read_files(app)
}

pub(super) fn on_files(app: &mut App, read: Vec<(String, OnDisk)>) -> Vec<Effect> {
    // A service added to a file comes in as a row: the selected one stays selected.
    let kept = super::selected_rows(app, &[View::Projects]);
    app.projects.disk = read.into_iter().collect();
    super::reselect(app, kept);
    Vec::new()
}

fn source_of(app: &App, project: &str) -> Option<ProjectSource> {
    projects::sources(&app.snapshot.containers)
        .into_iter()
        .find(|s| s.name == project)
}

/// A project action on the selected row: the whole project on its row, else the service.
pub(super) fn action(app: &mut App, action: Action) -> Vec<Effect> {
    let Some(row) = app.selected_project_row() else {
        return Vec::new();
    };
    let Some(source) = source_of(app, row.project()) else {
        return Vec::new();
    };
    let rows = app.visible_projects();
    let profiles: Vec<String> = projects::active_profiles(&app.projects, &rows, row.project())
        .into_iter()
        .collect();
    let service = row.service().map(str::to_owned);
    let op = match action {
        Action::ProjectUp => ComposeOp::Up,
        Action::ProjectDown => ComposeOp::Down,
        Action::ProjectRestart => ComposeOp::Restart,
        Action::ProjectRecreate => ComposeOp::Recreate,
        Action::ProjectRebuild => return rebuild(&source, service.as_deref(), &profiles),
        Action::ProjectLogs => {
            return vec![Effect::ProjectLogs {
                project: source.name,
                service,
            }]
        }
        Action::ProjectProfile => return toggle_profile(app, &row),
        _ => return Vec::new(),
    };
    let job = ComposeJob {
        op,
        source,
        service,
        profiles,
    };
    // Down takes containers away: asked first, as a container's removal is.
    confirm_if(app, op == ComposeOp::Down, Effect::Compose(job))
}

/// Rebuild goes through `compose up --build` on the `:` line: the images are built by
/// the CLI's build, with its progress in the verb's popup.
fn rebuild(source: &ProjectSource, service: Option<&str>, profiles: &[String]) -> Vec<Effect> {
    let mut words = vec!["compose".to_owned(), "-p".to_owned(), source.name.clone()];
    for file in &source.config_files {
        words.extend(["-f".to_owned(), file.display().to_string()]);
    }
    if let Some(dir) = &source.working_dir {
        words.extend(["--project-directory".to_owned(), dir.display().to_string()]);
    }
    for profile in profiles {
        words.extend(["--profile".to_owned(), profile.clone()]);
    }
    words.extend(
        ["up", "-d", "--build", "--force-recreate"]
            .into_iter()
            .map(str::to_owned),
    );
    words.extend(service.map(str::to_owned));
    vec![Effect::Verb(words)]
}

/// On a service with profiles: turns its profiles on for the project's next `up` (off if
/// they were all on already).
fn toggle_profile(app: &mut App, row: &Row) -> Vec<Effect> {
    let Row::Service(service) = row else {
        app.say("profiles are a service's: select one", true);
        return Vec::new();
    };
    if service.profiles.is_empty() {
        app.say(format!("{} has no profile", service.service), true);
        return Vec::new();
    }
    let rows = app.visible_projects();
    let mut active = projects::active_profiles(&app.projects, &rows, &service.project);
    let on = service.profiles.iter().all(|p| active.contains(p));
    for profile in &service.profiles {
        if on {
            active.remove(profile);
        } else {
            active.insert(profile.clone());
        }
    }
    let list: Vec<&str> = active.iter().map(String::as_str).collect();
    app.say(
        format!(
            "{}: up runs with profiles [{}]",
            service.project,
            list.join(", ")
        ),
        false,
    );
    app.projects
        .profiles
        .insert(service.project.clone(), active);
    Vec::new()
}

/// The merged logs arrived: shown in their popup, the newest at the bottom.
pub(super) fn on_logs(app: &mut App, result: Result<projects::ProjectLogs, String>) -> Vec<Effect> {
    match result {
        Ok(logs) => app.popup = Some(Popup::ProjectLogs { logs, back: 0 }),
        Err(e) => app.say(e, true),
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::project::labels;
    use crate::tui::keymap::Keymap;
    use crate::tui::msg::Msg;
    use crate::tui::projects::Changed;
    use crate::tui::snapshot::Snapshot;
    use crate::tui::update::testing::*;
    use crate::tui::update::update;

    fn demo() -> App {
        let mut app = App::new(Keymap::default());
        let mut containers = Vec::new();
        for (name, service) in [("demo-web-1", "web"), ("demo-db-1", "db")] {
            let mut record = container(name, crate::engine::Status::Running, 0);
            let l = &mut record.config.labels;
            l.insert(labels::PROJECT.into(), "demo".into());
            l.insert(labels::SERVICE.into(), service.into());
            l.insert(labels::CONFIG_HASH.into(), "h".into());
            l.insert(labels::CONFIG_FILES.into(), "/p/compose.yaml".into());
            l.insert(labels::WORKING_DIR.into(), "/p".into());
            containers.push(record);
        }
        let snapshot = Snapshot {
            containers,
            ..Default::default()
        };
        update(&mut app, Msg::Loaded(Ok(Box::new(snapshot))));
        app
    }

    #[test]
    fn the_pane_reads_the_files_acts_on_the_row_and_asks_before_down() {
        let mut app = demo();
        // 6 shows the pane and reads the project's files off the loop.
        let effects = keys(&mut app, "6");
        assert_eq!(app.view, View::Projects);
        assert!(matches!(effects.as_slice(), [Effect::ReadProjects(s)] if s[0].name == "demo"));
        // The project's row: up the whole project.
        let effects = keys(&mut app, "u");
        let [Effect::Compose(job)] = effects.as_slice() else {
            panic!("{effects:?}")
        };
        assert_eq!((job.op, job.service.as_deref()), (ComposeOp::Up, None));
        // The first service (db): restart it alone.
        app.busy.clear();
        keys(&mut app, "j");
        let effects = keys(&mut app, "r");
        assert!(matches!(effects.as_slice(),
            [Effect::Compose(j)] if j.op == ComposeOp::Restart && j.service.as_deref() == Some("db")));
        // Down asks first.
        app.busy.clear();
        assert!(keys(&mut app, "d").is_empty());
        assert!(matches!(app.popup, Some(Popup::Confirm { .. })));
        let effects = keys(&mut app, "y");
        assert!(matches!(effects.as_slice(), [Effect::Compose(j)] if j.op == ComposeOp::Down));
        // The files now say web changed: its row and the project's are marked.
        let disk = OnDisk {
            hashes: [("web".into(), "new".into()), ("db".into(), "h".into())].into(),
            profiles: [("web".into(), vec![]), ("db".into(), vec![])].into(),
            error: None,
        };
        update(&mut app, Msg::ProjectFiles(vec![("demo".into(), disk)]));
        let rows = app.visible_projects();
        assert!(
            matches!(&rows[2], Row::Service(s) if s.service == "web" && s.changed == Changed::Yes)
        );
        // The files are read again every few seconds while the pane shows.
        let reads = (0..READ_EVERY)
            .flat_map(|_| update(&mut app, Msg::Tick))
            .filter(|e| matches!(e, Effect::ReadProjects(_)))
            .count();
        assert_eq!(reads, 1);
        // Logs of the selected service.
        app.busy.clear();
        let effects = keys(&mut app, "l");
        assert!(matches!(effects.as_slice(),
            [Effect::ProjectLogs { project, service }] if project == "demo" && service.as_deref() == Some("db")));
    }
}
