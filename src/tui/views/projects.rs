//! The Projects pane: each compose project found by its containers' labels, then its
//! services with state, health, replicas and ports; `*` marks what the compose files now
//! give other settings for (an `up` recreates it), `gone` a service the files dropped.

use ratatui::layout::Rect;
use ratatui::Frame;

use super::table::{Column, PaneTable, TableCell, TableRow, Width};
use crate::tui::config::clean;
use crate::tui::projects::{Changed, Row};
use crate::tui::state::App;
use crate::tui::theme::Theme;

const COLUMNS: [Column; 6] = [
    Column::new("PROJECT / SERVICE", Width::Widest(32)),
    Column::new("STATE", Width::Widest(24)),
    Column::new("HEALTH", Width::Widest(9)),
    Column::new("REPLICAS", Width::Length(8)),
    Column::new("ON DISK", Width::Widest(9)),
    Column::new("PORTS / FILES", Width::Fill(1)),
];

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let rows = app.visible_projects();
    let projects = rows.iter().filter(|r| matches!(r, Row::Project(_))).count();
    let empty = if rows.is_empty() && app.filter.is_empty() {
        "No compose projects. Start one:  :compose -f FILE up -d"
    } else {
        "No project matches."
    };
    let table = PaneTable {
        title: format!(" Projects ({projects}) "),
        columns: &COLUMNS,
        empty,
    };
    table.draw(
        frame,
        area,
        theme,
        &rows,
        &app.projects_cursor,
        |row, _| match row {
            Row::Project(p) => {
                let disk = match (&p.error, p.changed) {
                    (Some(_), _) => TableCell {
                        text: "unread".into(),
                        style: Some(theme.error),
                    },
                    (None, true) => TableCell {
                        text: "* changed".into(),
                        style: Some(theme.changed),
                    },
                    (None, false) => "".into(),
                };
                // Labels and compose files are anyone's text: drawn without escapes.
                let files = clean(p.error.as_ref().unwrap_or(&p.config_files));
                TableRow::new(
                    [
                        TableCell {
                            text: clean(&p.name),
                            style: Some(theme.title),
                        },
                        p.status.as_str().into(),
                        "".into(),
                        "".into(),
                        disk,
                        files.into(),
                    ],
                    false,
                )
            }
            Row::Service(s) => {
                let state_style = match s.state.as_str() {
                    "running" => theme.running,
                    "off" => theme.dim,
                    _ => theme.exited,
                };
                let health_style = match s.health.as_str() {
                    "healthy" => theme.running,
                    "unhealthy" => theme.error,
                    _ => theme.dim,
                };
                let disk = match s.changed {
                    Changed::No => "".into(),
                    Changed::Yes => TableCell {
                        text: "* changed".into(),
                        style: Some(theme.changed),
                    },
                    Changed::Gone => TableCell {
                        text: "gone".into(),
                        style: Some(theme.deleted),
                    },
                };
                let mut state = s.state.clone();
                if !s.profiles.is_empty() {
                    state.push_str(&format!(" [{}]", s.profiles.join(",")));
                }
                TableRow::new(
                    [
                        TableCell::from(format!("  {}", clean(&s.service))),
                        TableCell {
                            text: clean(&state),
                            style: Some(state_style),
                        },
                        TableCell {
                            text: s.health.clone(),
                            style: Some(health_style),
                        },
                        format!("{}/{}", s.replicas.0, s.replicas.1).into(),
                        disk,
                        s.ports.as_str().into(),
                    ],
                    false,
                )
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use crate::compose::project::labels;
    use crate::engine::{Health, HealthStatus, NetworkMode, PortMapping, Proto, Status};
    use crate::tui::keymap::Keymap;
    use crate::tui::msg::Msg;
    use crate::tui::once::render_text;
    use crate::tui::projects::OnDisk;
    use crate::tui::snapshot::Snapshot;
    use crate::tui::state::{App, View};
    use crate::tui::update::testing::container;
    use crate::tui::update::update;

    /// Two projects: shop (web twice, one replica down; db healthy; web's file changed, a
    /// debug service its profile leaves off) and blog, whose file is gone.
    fn app() -> App {
        let mut app = App::new(Keymap::default());
        let member = |name: &str, project: &str, service: &str, status: Status| {
            let mut record = container(name, status, 60);
            let l = &mut record.config.labels;
            l.insert(labels::PROJECT.into(), project.into());
            l.insert(labels::SERVICE.into(), service.into());
            l.insert(labels::CONFIG_HASH.into(), "h1".into());
            l.insert(
                labels::CONFIG_FILES.into(),
                format!("/home/dev/{project}/compose.yaml"),
            );
            record.config.network.mode = NetworkMode::Connected;
            record
        };
        let mut web = member("shop-web-1", "shop", "web", Status::Running);
        web.state.ports = vec![PortMapping {
            host_ip: None,
            host_port: 8080,
            container_port: 80,
            proto: Proto::Tcp,
        }];
        web.state.health = Some(Health {
            status: HealthStatus::Starting,
            failing_streak: 0,
            log: Vec::new(),
        });
        let mut web2 = member("shop-web-2", "shop", "web", Status::Exited);
        web2.state.exit_code = Some(137);
        let mut db = member("shop-db-1", "shop", "db", Status::Running);
        db.state.health = Some(Health {
            status: HealthStatus::Healthy,
            failing_streak: 0,
            log: Vec::new(),
        });
        let blog = member("blog-app-1", "blog", "app", Status::Exited);
        let snapshot = Snapshot {
            containers: vec![web, web2, db, blog, container("loose", Status::Running, 5)],
            ..Default::default()
        };
        update(&mut app, Msg::Loaded(Ok(Box::new(snapshot))));
        app.view = View::Projects;
        let shop = OnDisk {
            hashes: [
                ("web".into(), "h2".into()),
                ("db".into(), "h1".into()),
                ("debug".into(), "h3".into()),
            ]
            .into(),
            profiles: [
                ("web".into(), vec![]),
                ("db".into(), vec![]),
                ("debug".into(), vec!["debug".to_owned()]),
            ]
            .into(),
            error: None,
        };
        let blog = OnDisk {
            error: Some("open /home/dev/blog/compose.yaml: no such file or directory".into()),
            ..OnDisk::default()
        };
        update(
            &mut app,
            Msg::ProjectFiles(vec![("shop".into(), shop), ("blog".into(), blog)]),
        );
        app
    }

    #[test]
    fn the_projects_pane_at_80x24_and_wide() {
        let app = app();
        insta::assert_snapshot!("projects_80x24", render_text(&app, 80, 24));
        insta::assert_snapshot!("projects_140x16", render_text(&app, 140, 16));
    }
}
