//! `berth ui --once`: one frame as plain text (or the same data as JSON) without a
//! terminal, for scripts, bug reports and tests.

use std::collections::HashMap;
use std::time::Duration;

use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::Terminal;
use serde_json::{json, Value};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::build::{Measured, Phase};
use super::detail::{ContainerDetail, ContainerTab};
use super::effect::Effect;
use super::msg::Msg;
use super::snapshot::{port_rates, Snapshot};
use super::state::{App, Detail, View};
use super::update::update;
use super::worker::VOLUME_SIZE_LIMIT;
use crate::engine::{
    dir_usage, sample_all_stats, stats_between, ContainerRecord, Engine, Error, Result, Status,
    TOP_WASTED,
};
use crate::format::status_text_at;
use crate::ops::ports::{port_lines, ps_ports};

/// What to show: a pane, or a tab of a container's detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Pane(View),
    Detail(ContainerTab),
    /// An image's layer view.
    Layers,
    /// A volume's files.
    VolumeFiles,
    /// The file view on a container: the working directory beside the container's `/`.
    Files,
    /// A network's bridge and ports.
    NetworkDetail,
    /// The last build's steps and its image's efficiency.
    Build,
}

impl Screen {
    pub fn parse(name: &str) -> Option<Screen> {
        if name.eq_ignore_ascii_case("layers") {
            return Some(Screen::Layers);
        }
        if name.eq_ignore_ascii_case("volume") {
            return Some(Screen::VolumeFiles);
        }
        if name.eq_ignore_ascii_case("files") {
            return Some(Screen::Files);
        }
        if name.eq_ignore_ascii_case("build") {
            return Some(Screen::Build);
        }
        // "network" is a network's detail; a container's Network tab is "endpoints".
        if name.eq_ignore_ascii_case("network") {
            return Some(Screen::NetworkDetail);
        }
        if name.eq_ignore_ascii_case("endpoints") {
            return Some(Screen::Detail(ContainerTab::Network));
        }
        View::parse(name).map(Screen::Pane).or_else(|| {
            ContainerTab::ALL
                .into_iter()
                .find(|t| t.title().eq_ignore_ascii_case(name))
                .map(Screen::Detail)
        })
    }
}

pub struct OnceOptions {
    pub width: u16,
    pub height: u16,
    pub screen: Screen,
    pub select: Option<String>,
    /// The data as JSON: every row, not only those a frame has room for.
    pub json: bool,
}

/// Builds the state the dashboard would have after loading, with stats sampled once
/// (one sample, no wait: CPU % is each container's average since it started).
/// Only what the frame shows is measured: the stats of the running containers on screen
/// and the sizes of the volumes on screen (JSON lists every row: all of them).
pub fn prepare(engine: &Engine, app: &mut App, options: &OnceOptions) -> Result<()> {
    let snapshot = Snapshot::load(engine)?;
    update(app, Msg::Loaded(Ok(Box::new(snapshot))));
    let view = match options.screen {
        Screen::Pane(view) => view,
        Screen::Detail(_) | Screen::Files => View::Containers,
        Screen::Layers => View::Images,
        Screen::VolumeFiles => View::Volumes,
        Screen::NetworkDetail => View::Networks,
        Screen::Build => View::Images,
    };
    app.view = view;
    // Sorted by usage, the rows on screen are known only after sampling: first every one.
    let by_usage = app.sort.by_usage();
    if by_usage {
        let running = stats_targets(app, options);
        sample_stats(app, running);
    }
    if let Some(name) = &options.select {
        select(app, name)?;
    }
    if !by_usage {
        let running = stats_targets(app, options);
        sample_stats(app, running);
    }
    // A wide frame of the containers pane shows the selection's preview: read it as the
    // worker would.
    let preview_shown = options.screen == Screen::Pane(View::Containers)
        && !options.json
        && super::preview::fits(options.width, options.height);
    if preview_shown {
        if let Some(id) = app.selected_container().map(|c| c.id.to_string()) {
            // Nothing known: always read.
            let (stamp, result) = super::preview::load(engine, &id, None)
                .map(|(stamp, result)| (stamp, result.map_err(|e| e.to_string())))
                .unwrap_or((None, Ok(Vec::new())));
            app.preview = Some(super::preview::Preview {
                id,
                lines: Some(result),
                stamp,
            });
        }
    }
    if view == View::Volumes && !options.json {
        let sizes = volumes_to_measure(app, options.height)
            .into_iter()
            .map(|(name, dir)| {
                let usage = dir_usage(&dir, VOLUME_SIZE_LIMIT);
                (name, usage)
            })
            .collect();
        update(app, Msg::VolumeSizes(sizes));
    }
    if view == View::Projects {
        // What the worker would read: each project's files, for the marker.
        let read = super::projects::sources(&app.snapshot.containers)
            .iter()
            .map(|s| (s.name.clone(), super::projects::read_disk(s)))
            .collect();
        update(app, Msg::ProjectFiles(read));
    }
    if options.screen == Screen::Files {
        return prepare_files(engine, app);
    }
    if options.screen == Screen::Build {
        return prepare_build(engine, app);
    }
    let effects = match options.screen {
        Screen::Pane(_) | Screen::Files | Screen::Build => Vec::new(),
        Screen::NetworkDetail => {
            if options.select.is_none() {
                return Err(Error::invalid(
                    "--view",
                    "network",
                    "the network view needs --select NETWORK",
                ));
            }
            update(
                app,
                Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
            );
            return sample_network(engine, app);
        }
        Screen::Detail(tab) => {
            let Some(record) = app.selected_container() else {
                return Err(Error::invalid(
                    "--view",
                    tab.title().to_lowercase(),
                    "a container's tab needs --select CONTAINER",
                ));
            };
            let mut detail = ContainerDetail::new(record.id.to_string());
            detail.tab = tab;
            let request = detail.request();
            app.push_detail(Detail::Container(detail));
            request.map(Effect::LoadDetail).into_iter().collect()
        }
        Screen::VolumeFiles => {
            if options.select.is_none() {
                return Err(Error::invalid(
                    "--view",
                    "volume",
                    "the volume view needs --select VOLUME",
                ));
            }
            update(
                app,
                Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
            )
        }
        Screen::Layers => {
            if options.select.is_none() {
                return Err(Error::invalid(
                    "--view",
                    "layers",
                    "the layer view needs --select IMAGE",
                ));
            }
            update(
                app,
                Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
            )
        }
    };
    load_details(engine, app, effects)
}

/// The running containers whose stats the output shows: every one for JSON, which lists
/// every row, and while the rows are sorted by usage (which rows are on screen depends on
/// it); else those a frame of `options.height` rows shows, the selection scrolled into it.
fn stats_targets(app: &App, options: &OnceOptions) -> Vec<ContainerRecord> {
    if options.json || app.sort.by_usage() {
        return app
            .snapshot
            .containers
            .iter()
            .filter(|c| c.state.status == Status::Running)
            .cloned()
            .collect();
    }
    // The frame is taller than its list: a few rows more than are drawn, never fewer.
    app.containers.scroll_into_view(usize::from(options.height));
    app.running_on_screen(options.height)
}

/// The volumes on a frame of `height` rows (each with its data directory), the selection
/// scrolled into it: the only ones whose SIZE the frame shows.
fn volumes_to_measure(app: &App, height: u16) -> Vec<(String, std::path::PathBuf)> {
    let first = app.volumes.scroll_into_view(usize::from(height));
    app.visible_volumes()
        .into_iter()
        .skip(first)
        .take(usize::from(height))
        .map(|v| (v.volume.name.clone(), v.mountpoint.clone()))
        .collect()
}

/// One sample of the counters: memory, PIDs and I/O are the sample's own. CPU % over a
/// window would need a second sample a while later (200 ms: most of a frame's time, and
/// `ps` draws none), so a frame shows each container's CPU averaged over its run so far,
/// as ps(1)'s %CPU is; the dashboard's live rates come from its second sample on.
fn sample_stats(app: &mut App, running: Vec<ContainerRecord>) {
    if running.is_empty() {
        return;
    }
    let now = chrono::Utc::now();
    let stats = sample_all_stats(&running)
        .iter()
        .zip(&running)
        .map(|(sample, record)| {
            let mut stats = stats_between(sample, sample);
            stats.cpu_percent = average_cpu_percent(sample.usage.cpu_ns, record, now);
            stats
        })
        .collect();
    update(app, Msg::Stats(stats));
}

/// CPU time over the time since the container started, in percent of one core (as
/// `docker stats` counts); 0 for a container with no start time or started just now.
fn average_cpu_percent(
    cpu_ns: u64,
    record: &ContainerRecord,
    now: chrono::DateTime<chrono::Utc>,
) -> f64 {
    let ran_ns = record
        .state
        .started_at
        .and_then(|started| (now - started).num_nanoseconds())
        .unwrap_or(0);
    if ran_ns <= 0 {
        return 0.0;
    }
    cpu_ns as f64 / ran_ns as f64 * 100.0
}

/// Two samples of the counters, as the open detail takes them, for its rates.
fn sample_network(engine: &Engine, app: &mut App) -> Result<()> {
    let before = engine.network_states(true)?;
    let started = std::time::Instant::now();
    std::thread::sleep(Duration::from_millis(200));
    let states = engine.network_states(true)?;
    let rates = port_rates(&before, &states, started.elapsed().as_secs_f64());
    update(app, Msg::NetworkSample { states, rates });
    Ok(())
}

fn prepare_files(engine: &Engine, app: &mut App) -> Result<()> {
    let effects = super::update::apply(app, Action::Files);
    if app.files.is_none() {
        return Err(Error::invalid(
            "--view",
            "files",
            "the file view needs --select CONTAINER",
        ));
    }
    for effect in effects {
        if let Effect::ListDir(request) = effect {
            let result = request
                .load(engine)
                .map(Box::new)
                .map_err(|e| e.to_string());
            if let Err(e) = &result {
                return Err(Error::invalid("--view", "files", e.clone()));
            }
            update(
                app,
                Msg::Listed {
                    side: request.side,
                    container: request.container.clone(),
                    result,
                },
            );
        }
    }
    Ok(())
}

/// The last build, as the engine root keeps it (none: the frame says so in one line).
fn prepare_build(engine: &Engine, app: &mut App) -> Result<()> {
    let last = super::build::load_last(engine.paths().root())
        .map_err(|e| Error::invalid("--view", "build", e))?;
    app.build = last.map(|mut build| {
        build.seen = true;
        // A CLI build (or a dashboard closed while measuring) left its image unmeasured.
        if let Phase::Done { image, .. } = &build.phase {
            if matches!(build.efficiency, None | Some(Measured::Pending)) {
                build.efficiency = Some(match engine.image_efficiency(image, TOP_WASTED) {
                    Ok(e) => Measured::Done(Box::new(e)),
                    Err(e) => Measured::Failed(e.to_string()),
                });
            }
        }
        build
    });
    app.push_detail(Detail::Build);
    Ok(())
}

/// Performs the detail loads `update` asks for, as the worker would, until none is left.
fn load_details(engine: &Engine, app: &mut App, mut effects: Vec<Effect>) -> Result<()> {
    while let Some(effect) = effects.pop() {
        if let Effect::LoadDetail(request) = effect {
            let data = request.load(engine)?;
            effects.extend(update(app, Msg::Detail(Ok(Box::new(data)))));
        }
    }
    Ok(())
}

fn select(app: &mut App, name: &str) -> Result<()> {
    let position = match app.view {
        View::Containers => app
            .visible_containers()
            .iter()
            .position(|c| c.name == name || c.id.as_str().starts_with(name)),
        View::Images => app.visible_images().iter().position(|i| {
            i.summary.references.iter().any(|r| {
                let r = r.to_string();
                r == name || r == format!("{name}:latest")
            }) || i.summary.id.hex().starts_with(name)
        }),
        View::Volumes => app
            .visible_volumes()
            .iter()
            .position(|v| v.volume.name == name),
        View::Networks => app
            .visible_networks()
            .iter()
            .position(|n| n.name == name || n.id.starts_with(name)),
        View::Events => None,
        // A project by name, or one of its services as PROJECT/SERVICE.
        View::Projects => app
            .visible_projects()
            .iter()
            .position(|r| match r.service() {
                None => r.project() == name,
                Some(service) => format!("{}/{service}", r.project()) == name,
            }),
    };
    let position = position.ok_or_else(|| {
        Error::invalid(
            "--select",
            name,
            format!(
                "nothing by that name in {}",
                app.view.title().to_lowercase()
            ),
        )
    })?;
    app.cursor_mut().selected = position;
    Ok(())
}

/// The frame as text, one line per row, trailing blanks trimmed.
pub fn render_text(app: &App, width: u16, height: u16) -> String {
    if app.build_view() && app.build.is_none() {
        return "no build yet\n".to_owned();
    }
    // The test backend cannot fail.
    let Ok(mut terminal) = Terminal::new(TestBackend::new(width, height));
    let Ok(_) = terminal.draw(|frame| super::render::draw(frame, app, &app.theme));
    buffer_text(terminal.backend().buffer())
}

pub fn buffer_text(buffer: &Buffer) -> String {
    let width = buffer.area.width as usize;
    let mut out = String::new();
    for row in buffer.content.chunks(width.max(1)) {
        let mut line = String::new();
        let mut skip = 0;
        for cell in row {
            // A wide character's second cell is part of the first.
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let symbol = cell.symbol();
            skip = unicode_width(symbol).saturating_sub(1);
            line.push_str(symbol);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn unicode_width(symbol: &str) -> usize {
    use ratatui::text::Span;
    Span::raw(symbol).width()
}

/// The same data as the frame, as JSON.
pub fn render_json(app: &App) -> Value {
    if let Some(files) = &app.files {
        return json!({
            "View": "Files",
            "Container": files.container.name,
            "Host": files.host.listing,
            "ContainerFiles": files.inside.listing,
        });
    }
    if app.build_view() {
        return json!({ "View": "Build", "Build": app.build });
    }
    if let Some(image) = app.image_detail() {
        return json!({
            "View": "Layers",
            "Image": image.name,
            "Layers": image.layers,
            "Layer": image.layer,
            "Tree": image.files.tree,
        });
    }
    if let Some(detail) = app.network_detail() {
        return json!({
            "View": "Network",
            "Network": app.detail_network(),
            "Rates": detail.rates,
        });
    }
    if let Some(detail) = app.container_detail() {
        let record = app.detail_container();
        let endpoints: Vec<Value> = record
            .map(|r| app.snapshot.endpoints_of(&r.id))
            .unwrap_or_default()
            .into_iter()
            .map(|(n, e)| json!({ "Network": n.name, "Gateway": n.gateway, "Endpoint": e }))
            .collect();
        return json!({
            "Networks": endpoints,
            "Ports": record.map(|r| port_lines(&r.state.ports)),
            "View": detail.tab.title(),
            "Container": record.map(|r| r.name.clone()),
            "Config": detail.config,
            "Mounts": record.and_then(|r| app.snapshot.mounts.get(&r.id)),
            "Stats": record.and_then(|r| app.stats.latest.get(&r.id)),
            "Logs": detail.logs.loaded.then(|| detail.logs.shown_lines()),
            "Changes": detail.diff,
        });
    }
    let rows: Vec<Value> = match app.view {
        View::Containers => app
            .visible_containers()
            .iter()
            .map(|c| {
                let stats = app.stats.latest.get(&c.id);
                json!({
                    "ID": c.id.as_str(),
                    "Names": c.name,
                    "Image": c.image,
                    "State": c.state.name(),
                    "Status": status_text_at(c, app.now),
                    "CPUPerc": stats.map(|s| s.cpu_percent),
                    "MemUsage": stats.map(|s| s.memory_usage),
                    "MemLimit": stats.map(|s| s.memory_limit),
                    "PIDs": stats.map(|s| s.pids),
                    "Mounts": app.snapshot.mounts.get(&c.id).map_or(0, Vec::len),
                    "IP": app.snapshot.first_ip(&c.id),
                    "Ports": ps_ports(c),
                })
            })
            .collect(),
        View::Images => app
            .visible_images()
            .iter()
            .map(|i| {
                json!({
                    "ID": i.summary.id.to_string(),
                    "References": i.summary.references.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
                    "Size": i.summary.size,
                    "Created": i.summary.created,
                    "Containers": i.containers,
                })
            })
            .collect(),
        View::Volumes => app
            .visible_volumes()
            .iter()
            .map(|v| {
                let users: HashMap<&str, &str> =
                    v.users.iter().map(|(id, n)| (id.as_str(), n.as_str())).collect();
                json!({
                    "Name": v.volume.name,
                    "Driver": "local",
                    "Mountpoint": v.mountpoint,
                    "UsedBy": users.values().collect::<Vec<_>>(),
                })
            })
            .collect(),
        View::Networks => app
            .visible_networks()
            .iter()
            .map(|n| {
                json!({
                    "ID": n.id,
                    "Name": n.name,
                    "Driver": n.driver,
                    "Subnet": n.subnet,
                    "Gateway": n.gateway,
                    "Internal": n.internal,
                    "Containers": n.endpoints.len(),
                    "Bridge": n.bridge_name,
                    "BridgeState": n.bridge.as_ref().map(|b| b.oper),
                })
            })
            .collect(),
        View::Events => app
            .visible_events()
            .iter()
            .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
            .collect(),
        View::Projects => project_rows(app),
    };
    json!({ "View": app.view.title(), "Rows": rows })
}

/// The Projects pane's rows as JSON: each project with its services.
fn project_rows(app: &App) -> Vec<Value> {
    use super::projects::{Changed, Row};
    let mut projects: Vec<Value> = Vec::new();
    for row in app.visible_projects() {
        match row {
            Row::Project(p) => projects.push(json!({
                "Name": p.name,
                "Status": p.status,
                "ConfigFiles": p.config_files,
                "ChangedOnDisk": p.changed,
                "FilesError": p.error,
                "Services": [],
            })),
            Row::Service(s) => {
                let service = json!({
                    "Name": s.service,
                    "State": s.state,
                    "Health": s.health,
                    "Running": s.replicas.0,
                    "Replicas": s.replicas.1,
                    "Ports": s.ports,
                    "Profiles": s.profiles,
                    "ChangedOnDisk": match s.changed {
                        Changed::No => "no",
                        Changed::Yes => "changed",
                        Changed::Gone => "gone",
                    },
                });
                if let Some(Value::Array(services)) =
                    projects.last_mut().and_then(|p| p.get_mut("Services"))
                {
                    services.push(service);
                }
            }
        }
    }
    projects
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::effect::{ContainerOp, Effect, Target};
    use crate::tui::keymap::Keymap;
    use crate::tui::state::{ContainerSort, Popup};

    /// 100 containers a second apart, newest first; c0 (on top), c50 and c99 run.
    fn many() -> App {
        use crate::tui::update::testing::container;
        let mut app = App::new(Keymap::default());
        let containers = (0..100)
            .map(|i| {
                let status = if [0, 50, 99].contains(&i) {
                    Status::Running
                } else {
                    Status::Exited
                };
                container(&format!("c{i}"), status, i)
            })
            .collect();
        let snapshot = Snapshot {
            containers,
            ..Default::default()
        };
        update(&mut app, Msg::Loaded(Ok(Box::new(snapshot))));
        app
    }

    fn options(height: u16, json: bool) -> OnceOptions {
        OnceOptions {
            width: 120,
            height,
            screen: Screen::Pane(View::Containers),
            select: None,
            json,
        }
    }

    fn names(records: &[ContainerRecord]) -> Vec<&str> {
        records.iter().map(|r| r.name.as_str()).collect()
    }

    /// One frame takes one sample: CPU % is the run's average, as ps(1) gives it.
    #[test]
    fn a_frame_shows_cpu_averaged_over_the_run_from_one_sample() {
        use crate::tui::update::testing::container;
        let now = chrono::Utc::now();
        let mut record = container("web", Status::Running, 0);
        record.state.started_at = Some(now - chrono::Duration::seconds(10));
        // 5 s of CPU over 10 s running: half a core.
        let percent = average_cpu_percent(5_000_000_000, &record, now);
        assert!((percent - 50.0).abs() < 1e-9, "{percent}");
        // Started this instant, or never: no average to give.
        record.state.started_at = Some(now);
        assert_eq!(average_cpu_percent(1_000, &record, now), 0.0);
        record.state.started_at = None;
        assert_eq!(average_cpu_percent(1_000, &record, now), 0.0);
    }

    #[test]
    fn a_frame_samples_only_the_running_containers_it_shows() {
        let mut app = many();
        // Running first: the three running ones lead the first screen.
        assert_eq!(
            names(&stats_targets(&app, &options(24, false))),
            ["c0", "c50", "c99"]
        );
        // Newest first, only c0 is on it.
        app.sort = ContainerSort::Created;
        app.order_containers();
        assert_eq!(names(&stats_targets(&app, &options(24, false))), ["c0"]);
        // Selected far down, the frame scrolls to it and shows c50 instead.
        select(&mut app, "c55").unwrap();
        assert_eq!(names(&stats_targets(&app, &options(24, false))), ["c50"]);
        // JSON lists every row: every running one is sampled.
        assert_eq!(
            names(&stats_targets(&app, &options(24, true))),
            ["c0", "c50", "c99"]
        );
        // Sorted by CPU, which rows come first is known only from every one's stats.
        app.sort = ContainerSort::Cpu;
        assert_eq!(
            names(&stats_targets(&app, &options(24, false))),
            ["c0", "c50", "c99"]
        );
        // Other panes show no container's stats.
        app.sort = ContainerSort::Created;
        app.view = View::Images;
        assert!(stats_targets(&app, &options(24, false)).is_empty());
    }

    #[test]
    fn a_frame_measures_only_the_volumes_it_shows() {
        let mut app = App::new(Keymap::default());
        let volumes = (0..100)
            .map(|i| crate::engine::VolumeInfo {
                volume: crate::engine::Volume {
                    name: format!("v{i:03}"),
                    created: chrono::Utc::now(),
                    labels: Default::default(),
                    anonymous: false,
                },
                mountpoint: format!("/volumes/v{i:03}/_data").into(),
                users: Vec::new(),
            })
            .collect();
        let snapshot = Snapshot {
            volumes,
            ..Default::default()
        };
        update(&mut app, Msg::Loaded(Ok(Box::new(snapshot))));
        app.view = View::Volumes;
        let measured = volumes_to_measure(&app, 10);
        assert_eq!(measured.len(), 10);
        assert_eq!(measured[0].0, "v000");
        assert_eq!(measured[0].1, std::path::Path::new("/volumes/v000/_data"));
        select(&mut app, "v042").unwrap();
        let measured = volumes_to_measure(&app, 10);
        assert_eq!(measured.first().unwrap().0, "v033");
        assert_eq!(measured.last().unwrap().0, "v042");
    }

    #[test]
    fn help_is_built_from_the_keymap_in_use() {
        let mut keymap = Keymap::default();
        keymap.apply("\"x\" = \"container.stop\"").unwrap();
        let mut app = App::new(keymap);
        app.loaded = true;
        app.popup = Some(Popup::Help { page: 0 });
        insta::assert_snapshot!("help_popup", render_text(&app, 130, 24));
        // 80x24 holds one whole column at a time: the last page has the rest.
        app.popup = Some(Popup::Help { page: 9 });
        insta::assert_snapshot!("help_popup_80x24_last_page", render_text(&app, 80, 24));
    }

    #[test]
    fn the_run_form_fits_80x24() {
        let mut app = App::new(Keymap::default());
        app.loaded = true;
        let form = crate::tui::form::RunForm::with_image("berth-test/busybox:latest");
        app.popup = Some(Popup::RunForm(form));
        insta::assert_snapshot!("run_form_80x24", render_text(&app, 80, 24));
    }

    /// A refused run keeps what was typed and says why whole, wrapped in the form.
    #[test]
    fn the_run_forms_error_wraps_whole_at_80x24() {
        let mut app = App::new(Keymap::default());
        app.loaded = true;
        let mut form = crate::tui::form::RunForm::with_image("berth-test/busybox:latest");
        form.values[1] = "web".into();
        form.error = Some(format!(
            "Conflict. The container name \"/web\" is already in use by container \"{}\". \
             You have to remove (or rename) that container to be able to reuse that name.",
            "a3".repeat(32)
        ));
        app.popup = Some(Popup::RunForm(form));
        let frame = render_text(&app, 80, 24);
        insta::assert_snapshot!("run_form_error_80x24", frame);
        assert!(frame.contains("reuse that name."), "{frame}");
    }

    #[test]
    fn destructive_actions_ask_in_a_popup() {
        let mut app = App::new(Keymap::default());
        app.loaded = true;
        app.popup = Some(Popup::Confirm {
            question: "kill container web?".into(),
            effect: Effect::Containers {
                op: ContainerOp::Kill,
                targets: vec![Target {
                    id: "1".into(),
                    name: "web".into(),
                }],
            },
        });
        insta::assert_snapshot!("confirm_popup", render_text(&app, 60, 12));
    }
}
