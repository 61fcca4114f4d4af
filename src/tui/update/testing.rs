//! What the update tests of every feature share: an app over three containers, keys and
//! clicks as messages, the names tests use.

pub(super) use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub(super) use super::update;
pub(super) use crate::engine::{
    ContainerConfig, ContainerId, ContainerRecord, ContainerState, Digest, DirListing,
    NetworkState, PathKind, Status,
};
pub(super) use crate::tui::detail::{ContainerTab, DetailData};
pub(super) use crate::tui::effect::{ContainerOp, Effect, Target};
pub(super) use crate::tui::files::Side;
pub(super) use crate::tui::keymap::Keymap;
pub(super) use crate::tui::mouse::MouseKind;
pub(super) use crate::tui::msg::Msg;
pub(super) use crate::tui::snapshot::Snapshot;
pub(super) use crate::tui::state::{App, Popup, View};

pub(crate) fn container(name: &str, status: Status, age_secs: i64) -> ContainerRecord {
    ContainerRecord {
        id: ContainerId::random(),
        name: name.into(),
        created: chrono::Utc::now() - chrono::Duration::seconds(age_secs),
        image: "busybox".into(),
        image_id: Digest::of_bytes(b"image"),
        chain_ids: Vec::new(),
        config: ContainerConfig::default(),
        state: ContainerState {
            status,
            ..Default::default()
        },
    }
}

/// An app over three containers, newest first: web (running), job (created), old
/// (exited).
pub(crate) fn app_with(keymap: Keymap) -> App {
    let mut app = App::new(keymap);
    let snapshot = Snapshot {
        containers: vec![
            container("web", Status::Running, 10),
            container("job", Status::Created, 20),
            container("old", Status::Exited, 30),
        ],
        ..Default::default()
    };
    update(&mut app, Msg::Loaded(Ok(Box::new(snapshot))));
    app
}

pub(super) fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

pub(super) fn keys(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| key(app, KeyCode::Char(c)))
        .collect()
}

/// Answers the logs tab's reads among `effects` from `log`, as the worker would.
pub(super) fn answer_logs(
    app: &mut App,
    effects: &[Effect],
    log: &crate::tui::logs::tests::FakeLog,
) {
    use crate::tui::detail::DetailRequest;
    // The reads an answer leads to (a search reading on, a filter reading back) are
    // answered too, as the worker would, in order; a bound in case they never end.
    let mut queue: std::collections::VecDeque<Effect> = effects.iter().cloned().collect();
    let mut answered = 0;
    while let Some(effect) = queue.pop_front() {
        if let Effect::LoadDetail(DetailRequest::Logs(request)) = effect {
            answered += 1;
            assert!(answered < 10_000, "reads that never end");
            let chunk = Ok(log.answer(&request));
            let id = request.id.clone();
            let next = update(
                app,
                Msg::Detail(Ok(Box::new(DetailData::Logs { id, chunk }))),
            );
            queue.extend(next);
        }
    }
}

/// Opens the selected container's logs tab and answers its first read from `log`.
pub(super) fn open_logs(app: &mut App, log: &crate::tui::logs::tests::FakeLog) {
    key(app, KeyCode::Enter);
    while app
        .container_detail()
        .is_some_and(|d| d.tab != ContainerTab::Logs)
    {
        let effects = key(app, KeyCode::Right);
        answer_logs(app, &effects, log);
    }
}

pub(super) fn names(targets: &[Target]) -> Vec<&str> {
    targets.iter().map(|t| t.name.as_str()).collect()
}

pub(super) fn command(app: &mut App, line: &str) -> Vec<Effect> {
    keys(app, ":");
    keys(app, line);
    key(app, KeyCode::Enter)
}

pub(super) fn mouse(app: &mut App, kind: MouseKind, (column, row): (u16, u16)) -> Vec<Effect> {
    update(app, Msg::Mouse { kind, column, row })
}

/// Where `text` first shows in a frame of the app `height` rows high: the cell a click
/// on it hits. Drawing also sets the lists' offsets, as the runtime's frames do.
pub(super) fn cell_of(app: &App, text: &str, height: u16) -> (u16, u16) {
    let frame = crate::tui::once::render_text(app, 160, height);
    frame
        .lines()
        .enumerate()
        .find_map(|(row, line)| {
            let byte = line.find(text)?;
            Some((line[..byte].chars().count() as u16, row as u16))
        })
        .unwrap_or_else(|| panic!("{text:?} not on screen:\n{frame}"))
}

pub(super) fn yanked(app: &mut App) -> String {
    match keys(app, "y").as_slice() {
        [Effect::Yank(text)] => text.clone(),
        other => panic!("expected a yank, got {other:?}"),
    }
}

pub(super) fn file_entries(path: &str, names: &[&str]) -> Box<DirListing> {
    use crate::engine::DirEntry;
    let entries = names
        .iter()
        .map(|name| DirEntry {
            name: (*name).into(),
            kind: if name.ends_with('/') {
                PathKind::Dir
            } else {
                PathKind::File
            },
            size: 0,
            mode: 0o755,
            mtime: 0,
            link_target: None,
            mount: None,
        })
        .map(|mut e| {
            e.name = e.name.trim_end_matches('/').to_owned();
            e
        })
        .collect();
    Box::new(DirListing {
        path: path.into(),
        entries,
        truncated: false,
    })
}

pub(crate) fn network(name: &str, endpoints: &[&ContainerRecord]) -> NetworkState {
    use crate::engine::{EndpointState, NetworkDriver};
    NetworkState {
        id: format!("{name:0>64}"),
        name: name.into(),
        driver: NetworkDriver::Bridge,
        subnet: Some("10.9.0.0/24".parse().unwrap()),
        gateway: Some("10.9.0.1".parse().unwrap()),
        internal: false,
        bridge_name: format!("br-{name}"),
        bridge: None,
        endpoints: endpoints
            .iter()
            .enumerate()
            .map(|(i, c)| EndpointState {
                container_id: c.id.clone(),
                container_name: c.name.clone(),
                interface: "eth0".into(),
                address: Some(format!("10.9.0.{}/24", i + 2).parse().unwrap()),
                mac: String::new(),
                aliases: Vec::new(),
                host_veth: format!("bv{i}"),
                port: None,
            })
            .collect(),
    }
}

/// The file view open on the first container, its host pane at /srv (a, b), the
/// container's at / (etc/, bin/).
pub(super) fn files_open() -> App {
    let mut app = app_with(Keymap::default());
    keys(&mut app, "f");
    let container = app.snapshot.containers[0].id.to_string();
    for (side, path, names) in [
        (Side::Host, "/srv", ["a", "b"]),
        (Side::Container, "/", ["etc/", "bin/"]),
    ] {
        update(
            &mut app,
            Msg::Listed {
                side,
                container: container.clone(),
                result: Ok(file_entries(path, &names)),
            },
        );
    }
    app
}

/// One untagged image, made from no container, whose config digests `config`.
pub(super) fn one_image(config: &[u8]) -> Vec<crate::tui::snapshot::ImageRow> {
    vec![crate::tui::snapshot::ImageRow {
        summary: crate::engine::ImageSummary {
            id: Digest::of_bytes(config),
            references: Vec::new(),
            created: None,
            size: 1,
        },
        containers: Vec::new(),
    }]
}

/// A named volume no container uses, mounted at `/v/NAME/_data`.
pub(super) fn volume(name: &str) -> crate::engine::VolumeInfo {
    volume_at(name, &format!("/v/{name}/_data"))
}

/// A named volume no container uses, mounted at `mountpoint`.
pub(crate) fn volume_at(name: &str, mountpoint: &str) -> crate::engine::VolumeInfo {
    crate::engine::VolumeInfo {
        volume: crate::engine::Volume {
            name: name.into(),
            created: chrono::Utc::now(),
            labels: Default::default(),
            anonymous: false,
        },
        mountpoint: mountpoint.into(),
        users: Vec::new(),
    }
}
