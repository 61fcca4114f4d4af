//! The pull dialog: the reference typed, the pull's progress, its end.

use crossterm::event::KeyEvent;

use super::apply;
use super::popups::{edit_line, typed, walk_history, Typed};
use crate::engine::{Digest, PullEvent, Reference};
use crate::tui::action::{Action, Context};
use crate::tui::effect::Effect;
use crate::tui::line::History;
use crate::tui::pull::{Phase, PullState};
use crate::tui::state::{App, Popup};

/// One pull at a time: while it runs, the key shows it again.
pub(super) fn open(app: &mut App) -> Vec<Effect> {
    app.popup = Some(match &app.pull {
        Some(pull) if pull.running() => Popup::Pull,
        _ => Popup::PullInput {
            input: String::new(),
            error: None,
        },
    });
    Vec::new()
}

pub(super) fn on_events(app: &mut App, events: &[PullEvent]) -> Vec<Effect> {
    if let Some(pull) = &mut app.pull {
        for event in events {
            pull.apply(event);
        }
    }
    Vec::new()
}

/// The reference being typed: enter starts the pull if it parses, else says why.
pub(super) fn on_pull_input_key(
    app: &mut App,
    mut input: String,
    mut error: Option<String>,
    key: KeyEvent,
) -> Vec<Effect> {
    match typed(app, &key, super::popups::single_line) {
        Typed::Action(Action::Cancel) => return Vec::new(),
        Typed::Action(Action::Submit) => match input.trim().parse::<Reference>() {
            Ok(reference) => {
                app.line.remember(History::Pull, input.trim());
                let pull = PullState::new(&reference);
                let cancel = pull.cancel.clone();
                app.pull = Some(pull);
                app.popup = Some(Popup::Pull);
                return vec![Effect::Pull(reference, cancel)];
            }
            Err(e) => error = Some(e.to_string()),
        },
        ref other => {
            if walk_history(app, History::Pull, &mut input, other)
                || edit_line(app, &mut input, other)
            {
                error = None;
            }
        }
    }
    app.popup = Some(Popup::PullInput { input, error });
    Vec::new()
}

/// The pull dialog: back (esc) hides it and the pull goes on, cancel (x) stops it; an
/// ended pull's dialog closes on enter too.
pub(super) fn on_pull_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let running = app.pull.as_ref().is_some_and(PullState::running);
    let cancel = app
        .keymap
        .pick_in(Context::Main, &key, |a| a == Action::CancelPull)
        == Some(Action::CancelPull);
    if running && cancel {
        if let Some(pull) = &app.pull {
            pull.cancel.cancel();
        }
        app.say("cancelling the pull", false);
        app.popup = Some(Popup::Pull);
        return Vec::new();
    }
    let action = app.keymap.action(&key);
    let in_popup = app.keymap.action_in(Context::Popup, &key);
    if in_popup == Some(Action::Close)
        || action == Some(Action::Back)
        || !running && in_popup == Some(Action::Yes)
    {
        if !running {
            app.pull = None;
        }
        return Vec::new();
    }
    app.popup = Some(Popup::Pull);
    match action {
        Some(Action::Quit) => apply(app, Action::Quit),
        _ => Vec::new(),
    }
}

/// A pull ended: shown in its dialog if open, else on the status line; the image list
/// is read again and the image selected in it.
pub(super) fn on_pulled(app: &mut App, result: Result<Digest, String>) -> Vec<Effect> {
    let shown = app.popup == Some(Popup::Pull);
    let Some(pull) = app.pull.as_mut() else {
        return vec![Effect::Reload];
    };
    let reference = pull.reference.clone();
    match result {
        Ok(id) => {
            pull.phase = Phase::Done(id.clone());
            if !shown {
                app.say(format!("pulled {reference}"), false);
            }
            app.select_image = Some(id);
            select_pulled(app);
        }
        Err(e) => {
            pull.phase = Phase::Failed(e.clone());
            if !shown {
                app.say(e, true);
            }
        }
    }
    if !shown {
        app.pull = None;
    }
    vec![Effect::Reload]
}

/// Selects the image just pulled, once the list holds it.
pub(super) fn select_pulled(app: &mut App) {
    let Some(id) = &app.select_image else {
        return;
    };
    if let Some(at) = app
        .visible_images()
        .iter()
        .position(|i| i.summary.id == *id)
    {
        app.images.selected = at;
        app.select_image = None;
    }
}
