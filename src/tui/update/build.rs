//! Building an image: the form that asks for it, the build's events and end, the build
//! view's keys (the wasted paths of its efficiency panel, enter opening the layer view on
//! the layer that added one).

use crossterm::event::KeyEvent;

use super::popups::{edit_line, is_field_key, step_field, typed, Typed};
use crate::engine::{BuildEvent, Efficiency};
use crate::tui::action::Action;
use crate::tui::build::{BuildForm, BuildState, Measured};
use crate::tui::detail::{DetailRequest, ImageDetail};
use crate::tui::effect::Effect;
use crate::tui::state::{App, Detail, Popup};

/// `b`: a build under way (or ended while hidden) shows its view; else the form, filled
/// with the last build's request.
pub(super) fn open(app: &mut App) -> Vec<Effect> {
    let show = app.build.as_ref().is_some_and(|b| b.running() || !b.seen);
    if show && !app.build_view() {
        show_view(app);
        return Vec::new();
    }
    let form = match &app.build {
        Some(build) => BuildForm::from_request(&build.request),
        None => BuildForm::default(),
    };
    app.popup = Some(Popup::BuildForm(form));
    Vec::new()
}

/// `:build ...`: the form, filled from the line's words.
pub(super) fn open_with(app: &mut App, words: &[String]) -> Vec<Effect> {
    match BuildForm::from_words(words) {
        Ok(form) => app.popup = Some(Popup::BuildForm(form)),
        Err(e) => app.say(e, true),
    }
    Vec::new()
}

fn show_view(app: &mut App) {
    if let Some(build) = &mut app.build {
        if !build.running() {
            build.seen = true;
        }
    }
    if !app.build_view() {
        app.push_detail(Detail::Build);
    }
}

/// The form: enter starts the build (one at a time), the field keys move between fields.
pub(super) fn on_form_key(app: &mut App, mut form: BuildForm, key: &KeyEvent) -> Vec<Effect> {
    match typed(app, key, is_field_key) {
        Typed::Action(Action::Cancel) => return Vec::new(),
        Typed::Action(Action::Submit) => {
            if app.build.as_ref().is_some_and(BuildState::running) {
                form.error = Some("a build is under way: one at a time".into());
            } else {
                match form.request() {
                    Ok(request) => {
                        let build = BuildState::new(request.clone(), app.now);
                        let cancel = build.cancel.clone();
                        app.build = Some(build);
                        show_view(app);
                        return vec![Effect::Build(request, cancel)];
                    }
                    Err(e) => form.error = Some(e),
                }
            }
        }
        Typed::Action(action @ (Action::NextField | Action::PrevField)) => {
            step_field(app, action, |by| form.move_focus(by));
        }
        ref other => {
            if edit_line(app, form.focused_mut(), other) {
                form.error = None;
            }
        }
    }
    app.popup = Some(Popup::BuildForm(form));
    Vec::new()
}

pub(super) fn on_events(app: &mut App, events: &[BuildEvent]) -> Vec<Effect> {
    let now = app.now;
    match &mut app.build {
        Some(build) => {
            for event in events {
                build.apply(event, now);
            }
            // Hidden, only the footer's line shows it.
            app.dirty = app.build_view() || app.popup.is_none();
        }
        None => app.dirty = false,
    }
    Vec::new()
}

/// The build ended: the view (if on screen) shows how, else the footer says it; the
/// image list is read again.
pub(super) fn on_built(
    app: &mut App,
    result: Result<(String, usize, usize), String>,
) -> Vec<Effect> {
    let now = app.now;
    let shown = app.build_view();
    let Some(build) = &mut app.build else {
        return vec![Effect::Reload];
    };
    let failed = result.is_err();
    if let Ok((image, _, _)) = &result {
        app.select_image = image.parse().ok();
    }
    build.end(result, now);
    build.seen = shown;
    let summary = build.summary();
    if !shown {
        app.say(summary, failed);
    }
    vec![Effect::Reload]
}

pub(super) fn on_efficiency(app: &mut App, result: Result<Box<Efficiency>, String>) -> Vec<Effect> {
    if let Some(build) = &mut app.build {
        build.efficiency = Some(match result {
            Ok(e) => Measured::Done(e),
            Err(e) => Measured::Failed(e),
        });
        build.selected = 0;
    }
    app.dirty = app.build_view();
    Vec::new()
}

/// The cancel key in the build view: the build's thread sees the flag, stops between
/// steps and kills the running one; the view stays to show the end.
pub(super) fn cancel(app: &mut App) -> Vec<Effect> {
    if let Some(build) = app.build.as_ref().filter(|b| b.running()) {
        build.cancel.cancel();
        app.say("cancelling the build", false);
    }
    Vec::new()
}

/// Up and down in the build view pick a wasted path.
pub(super) fn move_by(app: &mut App, by: isize) -> Vec<Effect> {
    if let Some(build) = &mut app.build {
        let len = build.efficiency().map_or(0, |e| e.largest.len());
        let at = build.selected as isize + by;
        build.selected = at.clamp(0, len.saturating_sub(1) as isize) as usize;
    }
    Vec::new()
}

/// Enter on a wasted path: the built image's layer view, on the layer that added it.
pub(super) fn open_wasted(app: &mut App) -> Vec<Effect> {
    let Some(build) = &app.build else {
        return Vec::new();
    };
    let crate::tui::build::Phase::Done { image, .. } = &build.phase else {
        return Vec::new();
    };
    let Some(wasted) = build
        .efficiency()
        .and_then(|e| e.largest.get(build.selected))
    else {
        return Vec::new();
    };
    let mut detail = ImageDetail::new(image.clone(), build.request.name());
    detail.start_layer = Some(wasted.added);
    app.details.push(Detail::Image(detail));
    vec![Effect::LoadDetail(DetailRequest::Layers(image.clone()))]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::{EfficiencyLayer, WasteKind, WastedPath};
    use crate::tui::build::tests::{at, done, log, started};
    use crate::tui::build::{Phase, StepState};
    use crate::tui::msg::Msg;
    use crate::tui::once::render_text;
    use crate::tui::update::testing::*;

    /// The dashboard with a build started from the images pane: `b`, the form filled,
    /// enter.
    pub fn building() -> App {
        let mut app = app_with(Keymap::default());
        app.now = at(0);
        keys(&mut app, "2b");
        assert!(matches!(&app.popup, Some(Popup::BuildForm(f)) if f.values[0] == "."));
        // Context, Dockerfile, then the tags.
        key(&mut app, KeyCode::Tab);
        key(&mut app, KeyCode::Tab);
        keys(&mut app, "Bad/Name");
        assert!(key(&mut app, KeyCode::Enter).is_empty());
        match &app.popup {
            Some(Popup::BuildForm(f)) => {
                assert!(f.error.as_deref().unwrap_or("").contains("Bad/Name"))
            }
            other => panic!("expected the refusal, got {other:?}"),
        }
        for _ in 0.."Bad/Name".len() {
            key(&mut app, KeyCode::Backspace);
        }
        keys(&mut app, "app:1");
        key(&mut app, KeyCode::Tab);
        key(&mut app, KeyCode::Tab);
        keys(&mut app, "V=2");
        match key(&mut app, KeyCode::Enter).as_slice() {
            [Effect::Build(request, _)] => {
                assert_eq!(request.tags, ["app:1"]);
                assert_eq!(request.args, [("V".into(), "2".into())]);
            }
            other => panic!("expected the build, got {other:?}"),
        }
        assert!(app.popup.is_none());
        assert!(app.build_view());
        app
    }

    pub fn mid_build(app: &mut App) {
        app.now = at(3);
        update(
            app,
            Msg::BuildEvents(vec![
                started(1, "[internal] load build definition from Dockerfile"),
                done(1, 20, 0),
                started(2, "[build 1/4] FROM docker.io/library/busybox:latest"),
                BuildEvent::Cached { number: 2 },
                done(2, 0, 0),
                started(3, "[build 2/4] COPY . /src"),
                BuildEvent::Miss {
                    number: 3,
                    reason: "src/main.rs changed".into(),
                },
                done(3, 420, 12_300),
                started(4, "[build 3/4] RUN make"),
                BuildEvent::Miss {
                    number: 4,
                    reason: "parent step changed".into(),
                },
                log(4, "cc -o app main.c\nlinking app\n"),
                BuildEvent::Warning(
                    "[Warning] One or more build-args [UNUSED] were not consumed".into(),
                ),
            ]),
        );
        app.now = at(5);
    }

    pub fn efficiency() -> Efficiency {
        let layer = |index, created_by: &str| EfficiencyLayer {
            index,
            size: 1000,
            created_by: Some(created_by.into()),
        };
        Efficiency {
            score: 0.8731,
            wasted_bytes: 3_145_728 + 40_960,
            wasted_paths: 2,
            dive_wasted_bytes: 3_186_688,
            layers_bytes: 25_000_000,
            largest: vec![
                WastedPath {
                    path: "/src/build/app.o".into(),
                    bytes: 3_145_728,
                    versions: 1,
                    added: 2,
                    removed: 3,
                    kind: WasteKind::Removed,
                },
                WastedPath {
                    path: "/etc/app.conf".into(),
                    bytes: 40_960,
                    versions: 1,
                    added: 1,
                    removed: 2,
                    kind: WasteKind::Overwritten,
                },
            ],
            layers: vec![
                layer(0, "ADD file:abc in / "),
                layer(1, "COPY . /src # buildkit"),
                layer(2, "RUN /bin/sh -c make # buildkit"),
                layer(3, "RUN /bin/sh -c rm -rf /src/build # buildkit"),
            ],
            truncated: false,
        }
    }

    pub fn finished(app: &mut App) {
        update(
            app,
            Msg::BuildEvents(vec![
                done(4, 3100, 3_145_728),
                started(5, "[build 4/4] RUN rm -rf /src/build"),
                done(5, 150, 0),
            ]),
        );
        let id = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(update(app, Msg::Built(Ok((id, 3, 1)))), [Effect::Reload]);
        update(app, Msg::Efficiency(Ok(Box::new(efficiency()))));
    }

    #[test]
    fn the_build_runs_on_while_the_user_looks_elsewhere() {
        let mut app = building();
        mid_build(&mut app);
        let build = app.build.as_ref().unwrap();
        assert_eq!(build.rows.len(), 4);
        assert_eq!(build.rows[3].state, StepState::Running);
        // Esc hides the view; the footer follows the build; b shows it again.
        key(&mut app, KeyCode::Esc);
        assert!(!app.build_view());
        let footer = render_text(&app, 120, 10);
        assert!(
            footer.contains("⚒ building app:1: build 3/4 RUN make"),
            "{footer}"
        );
        keys(&mut app, "b");
        assert!(app.build_view());
        // Another b while it runs does not start a second one.
        keys(&mut app, "b");
        match &app.popup {
            Some(Popup::BuildForm(form)) => {
                assert_eq!(form.values[2], "app:1");
                assert!(key(&mut app, KeyCode::Enter).is_empty());
                let Some(Popup::BuildForm(form)) = &app.popup else {
                    panic!("the form stays");
                };
                assert!(form.error.as_deref().unwrap().contains("one at a time"));
                key(&mut app, KeyCode::Esc);
            }
            other => panic!("expected the form, got {other:?}"),
        }
        // Ended while hidden: the footer says so, and b shows the end once.
        key(&mut app, KeyCode::Esc);
        finished(&mut app);
        assert_eq!(
            app.status.as_ref().map(|s| s.text.as_str()),
            Some("built app:1 (abababababab): 3 steps run, 1 cached")
        );
        keys(&mut app, "b");
        assert!(app.build_view());
        let build = app.build.as_ref().unwrap();
        assert!(matches!(build.phase, Phase::Done { .. }));
        assert!(build.rows.iter().all(|r| r.state != StepState::Running));
        key(&mut app, KeyCode::Esc);
        keys(&mut app, "b");
        assert!(matches!(app.popup, Some(Popup::BuildForm(_))));
    }

    #[test]
    fn enter_on_a_wasted_path_opens_the_layer_that_added_it() {
        let mut app = building();
        mid_build(&mut app);
        finished(&mut app);
        key(&mut app, KeyCode::Down);
        assert_eq!(app.build.as_ref().unwrap().selected, 1);
        key(&mut app, KeyCode::Down);
        assert_eq!(app.build.as_ref().unwrap().selected, 1);
        key(&mut app, KeyCode::Up);
        let effects = key(&mut app, KeyCode::Enter);
        let id = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            effects,
            [Effect::LoadDetail(DetailRequest::Layers(id.clone()))]
        );
        let image = app.image_detail().expect("the layer view");
        assert_eq!(image.start_layer, Some(2));
        // The layers arrive: the view opens on the adding layer, not the top.
        let layers = (0..4)
            .map(|index| crate::engine::ImageLayer {
                index,
                diff_id: crate::engine::Digest::of_bytes(&[index as u8]),
                chain_id: crate::engine::Digest::of_bytes(&[index as u8]),
                size: 0,
                created: None,
                created_by: None,
                comment: None,
            })
            .collect();
        update(
            &mut app,
            Msg::Detail(Ok(Box::new(crate::tui::detail::DetailData::Layers {
                id,
                layers,
            }))),
        );
        assert_eq!(app.image_detail().unwrap().layer, 2);
        // Esc goes back to the build view.
        key(&mut app, KeyCode::Esc);
        assert!(app.build_view());
    }

    #[test]
    fn the_command_line_opens_the_form_filled_from_its_words() {
        let mut app = app_with(Keymap::default());
        keys(
            &mut app,
            ":build -t web:2 --target final --build-arg V=1 ./app",
        );
        assert!(key(&mut app, KeyCode::Enter).is_empty());
        match &app.popup {
            Some(Popup::BuildForm(form)) => {
                assert_eq!(form.values, ["./app", "", "web:2", "final", "V=1"])
            }
            other => panic!("expected the form, got {other:?}"),
        }
        key(&mut app, KeyCode::Esc);
        keys(&mut app, ":image build");
        key(&mut app, KeyCode::Enter);
        assert!(matches!(&app.popup, Some(Popup::BuildForm(f)) if f.values[0] == "."));
        key(&mut app, KeyCode::Esc);
        // A flag the form has no field for is refused in the footer.
        keys(&mut app, ":build --squash .");
        key(&mut app, KeyCode::Enter);
        assert!(app.popup.is_none());
        assert!(app
            .status
            .as_ref()
            .is_some_and(|s| s.error && s.text.contains("--squash")));
    }

    #[test]
    fn x_in_the_build_view_cancels_the_build_it_started() {
        let mut app = building();
        mid_build(&mut app);
        let cancel = app.build.as_ref().unwrap().cancel.clone();
        assert!(!cancel.is_cancelled());
        assert!(keys(&mut app, "x").is_empty());
        assert!(
            cancel.is_cancelled(),
            "the flag the build thread reads is set"
        );
        assert!(app.build_view(), "the view stays to show the end");
        update(&mut app, Msg::Built(Err("the build was cancelled".into())));
        // Ended, x does nothing more.
        assert!(keys(&mut app, "x").is_empty());
    }

    #[test]
    fn a_failed_build_marks_its_step_and_says_why() {
        let mut app = building();
        mid_build(&mut app);
        update(
            &mut app,
            Msg::BuildEvents(vec![BuildEvent::Error {
                number: 4,
                message: "RUN make: exit code 2".into(),
            }]),
        );
        update(
            &mut app,
            Msg::Built(Err("Dockerfile:3: RUN make: exit code 2".into())),
        );
        let build = app.build.as_ref().unwrap();
        assert_eq!(build.rows[3].state, StepState::Error);
        assert!(build.efficiency.is_none());
        assert!(matches!(&build.phase, Phase::Failed(e) if e.contains("exit code 2")));
    }
}
