//! Keys while a popup is open: the confirmation, the `:` line, the run form, a verb's
//! live output, help and output pages. A popup is taken out of the state while its key
//! is handled and put back unless the key closes it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{apply, files, pull};
use crate::tui::action::Action;
use crate::tui::effect::Effect;
use crate::tui::form::RunForm;
use crate::tui::keymap::Resolved;
use crate::tui::state::{App, Popup, VerbRun, View};
use crate::tui::verb::needs_terminal;

pub(super) fn on_popup_key(app: &mut App, popup: Popup, key: KeyEvent) -> Vec<Effect> {
    match popup {
        Popup::Confirm { question, effect } => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => files::begin(app, effect),
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => Vec::new(),
            _ => {
                app.popup = Some(Popup::Confirm { question, effect });
                Vec::new()
            }
        },
        Popup::Command { mut input, tail } => match key.code {
            KeyCode::Esc => Vec::new(),
            KeyCode::Enter => match split_words(&format!("{input}{tail}")) {
                Ok(words) if words.is_empty() => Vec::new(),
                // A keymap action by name (`:container.stop`) does what its key does.
                Ok(words) if words.len() == 1 && words[0].contains('.') => {
                    match words[0].parse::<Action>() {
                        Ok(action) => apply(app, action),
                        Err(e) => {
                            app.say(e, true);
                            Vec::new()
                        }
                    }
                }
                Ok(words) if needs_terminal(&words) => vec![Effect::Terminal(words)],
                Ok(words) => vec![Effect::Verb(words)],
                Err(e) => {
                    app.say(e, true);
                    Vec::new()
                }
            },
            KeyCode::Tab => {
                input = crate::tui::complete::complete(&input, &app.snapshot);
                app.popup = Some(Popup::Command { input, tail });
                Vec::new()
            }
            KeyCode::Backspace => {
                input.pop();
                app.popup = Some(Popup::Command { input, tail });
                Vec::new()
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                input.push(c);
                app.popup = Some(Popup::Command { input, tail });
                Vec::new()
            }
            _ => {
                app.popup = Some(Popup::Command { input, tail });
                Vec::new()
            }
        },
        Popup::RunForm(mut form) => match key.code {
            KeyCode::Esc => Vec::new(),
            KeyCode::Enter => match form.words() {
                Ok(words) => {
                    form.error = None;
                    app.sent_form = Some((words.join(" "), form));
                    vec![Effect::Verb(words)]
                }
                Err(e) => {
                    form.error = Some(e);
                    app.popup = Some(Popup::RunForm(form));
                    Vec::new()
                }
            },
            code => {
                match code {
                    KeyCode::Tab | KeyCode::Down => form.move_focus(1),
                    KeyCode::BackTab | KeyCode::Up => form.move_focus(-1),
                    KeyCode::Backspace => {
                        form.focused_mut().pop();
                    }
                    KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                        form.focused_mut().push(c)
                    }
                    _ => {}
                }
                app.popup = Some(Popup::RunForm(form));
                Vec::new()
            }
        },
        Popup::Verb { back } => on_verb_key(app, back, key),
        Popup::Copy => files::on_copy_key(app, key),
        Popup::PullInput { input, error } => pull::on_pull_input_key(app, input, error, key),
        Popup::Pull => pull::on_pull_key(app, key),
        // Help and output move with the arrows and close on any other key, leaving the
        // screen as it was.
        Popup::Help { page } => {
            if let Some(by) = paging(key.code) {
                let page = page.saturating_add_signed(by);
                app.popup = Some(Popup::Help { page });
            }
            Vec::new()
        }
        Popup::Output { title, text, back } => {
            if let Some(by) = paging(key.code) {
                // Up goes back in the output, as in the logs; page keys go ten lines.
                let step = if matches!(key.code, KeyCode::PageUp | KeyCode::PageDown) {
                    10
                } else {
                    1
                };
                let back = back.saturating_add_signed(-by * step);
                app.popup = Some(Popup::Output { title, text, back });
            }
            Vec::new()
        }
    }
}

/// Keys while a verb's popup follows it: x or esc ends the verb (the popup then shows how
/// it ended), quit ends it and the dashboard, the arrows scroll; other keys wait.
pub(super) fn on_verb_key(app: &mut App, back: usize, key: KeyEvent) -> Vec<Effect> {
    let Some(verb) = &mut app.verb else {
        return Vec::new();
    };
    let quit = app.keymap.resolve(None, &key, |a| a == Action::Quit);
    if matches!(quit, Resolved::Action(Action::Quit)) {
        return apply(app, Action::Quit);
    }
    let mut effects = Vec::new();
    let mut back = back;
    match key.code {
        KeyCode::Esc | KeyCode::Char('x') if !verb.stopping => {
            verb.stopping = true;
            effects.push(Effect::StopVerb(verb.pid));
        }
        code => {
            if let Some(by) = paging(code) {
                let step = if matches!(code, KeyCode::PageUp | KeyCode::PageDown) {
                    10
                } else {
                    1
                };
                back = back.saturating_add_signed(-by * step);
            }
        }
    }
    app.popup = Some(Popup::Verb { back });
    effects
}

/// Which way a key pages a help or output popup: down (1) or up (-1).
pub(super) fn paging(code: KeyCode) -> Option<isize> {
    match code {
        KeyCode::Down | KeyCode::Char('j') | KeyCode::PageDown | KeyCode::Char(' ') => Some(1),
        KeyCode::Up | KeyCode::Char('k') | KeyCode::PageUp => Some(-1),
        _ => None,
    }
}

/// Splits the `:` line into words as a shell would for plain words and quotes.
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(format!("unclosed quote in :{line}"));
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// The run form, starting from the selected image or the selected container's image.
pub(super) fn open_run_form(app: &mut App) -> Vec<Effect> {
    let image = match app.view {
        View::Images => app
            .selected_image()
            .and_then(|i| i.summary.references.first())
            .map(|r| r.to_string()),
        View::Containers => app.selected_container().map(|c| c.image.clone()),
        _ => None,
    };
    app.popup = Some(Popup::RunForm(RunForm::with_image(
        image.as_deref().unwrap_or(""),
    )));
    Vec::new()
}

/// The `:` line with `input` typed and `tail` after the cursor.
pub(super) fn open_command(app: &mut App, input: &str, tail: &str) -> Vec<Effect> {
    app.popup = Some(Popup::Command {
        input: input.to_owned(),
        tail: tail.to_owned(),
    });
    Vec::new()
}

/// A verb started; nothing shows until it prints or runs on past a tick.
pub(super) fn on_verb_started(app: &mut App, pid: u32, line: String) -> Vec<Effect> {
    app.dirty = false;
    app.verb = Some(VerbRun {
        pid,
        line,
        text: String::new(),
        ticks: 0,
        stopping: false,
    });
    Vec::new()
}

/// A verb printed: its popup opens (unless another popup is up) and follows it.
pub(super) fn on_verb_chunk(app: &mut App, pid: u32, text: &str) -> Vec<Effect> {
    match app.verb.as_mut().filter(|v| v.pid == pid) {
        Some(verb) => {
            verb.push(text);
            if app.popup.is_none() {
                app.popup = Some(Popup::Verb { back: 0 });
            }
            app.dirty = matches!(app.popup, Some(Popup::Verb { .. }));
        }
        None => app.dirty = false,
    }
    Vec::new()
}

/// A verb ended: its popup (live or not) shows the whole output and exit code, or the
/// footer says how it exited if it printed nothing; a run form whose run failed opens
/// again with its fields and the error.
pub(super) fn on_verb_output(
    app: &mut App,
    pid: u32,
    line: String,
    code: i32,
    output: String,
) -> Vec<Effect> {
    let ours = app.verb.as_ref().is_some_and(|v| v.pid == pid);
    if ours {
        app.verb = None;
    }
    let live = ours && matches!(app.popup, Some(Popup::Verb { .. }));
    let back = match app.popup {
        Some(Popup::Verb { back }) if live => back,
        _ => 0,
    };
    if live {
        app.popup = None;
    }
    if app
        .sent_form
        .as_ref()
        .is_some_and(|(sent, _)| *sent == line)
    {
        if let Some((_, mut form)) = app.sent_form.take().filter(|_| code != 0) {
            let why = output
                .lines()
                .rev()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map_or_else(|| format!("run exited {code}"), str::to_owned);
            form.error = Some(why);
            app.popup = Some(Popup::RunForm(form));
            return vec![Effect::Reload];
        }
    }
    if output.trim().is_empty() {
        app.say(format!(":{line} exited {code}"), code != 0);
    } else {
        app.popup = Some(Popup::Output {
            title: format!(":{line} (exit {code})"),
            text: output,
            back,
        });
    }
    vec![Effect::Reload]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::update::testing::*;

    #[test]
    fn the_command_line_completes_and_runs_a_verb() {
        let mut app = app_with(Keymap::default());
        keys(&mut app, ":volu");
        key(&mut app, KeyCode::Tab);
        let effects = keys(&mut app, "create 'my data'");
        assert!(effects.is_empty());
        match key(&mut app, KeyCode::Enter).as_slice() {
            [Effect::Verb(words)] => assert_eq!(words, &["volume", "create", "my data"]),
            other => panic!("expected a verb, got {other:?}"),
        }
    }

    #[test]
    fn the_run_form_starts_from_the_selected_containers_image() {
        let mut app = app_with(Keymap::default());
        keys(&mut app, "R");
        assert!(matches!(&app.popup, Some(Popup::RunForm(f)) if f.values[0] == "busybox"));
        // Letters are text in the form, not actions.
        keys(&mut app, "qweb");
        key(&mut app, KeyCode::Backspace);
        key(&mut app, KeyCode::Tab);
        keys(&mut app, "top");
        match key(&mut app, KeyCode::Enter).as_slice() {
            [Effect::Verb(words)] => {
                assert_eq!(words, &["run", "-d", "--name", "qwe", "busybox", "top"])
            }
            other => panic!("expected a run, got {other:?}"),
        }
    }

    #[test]
    fn a_failed_run_opens_the_form_again_with_its_fields_and_the_error() {
        let mut app = app_with(Keymap::default());
        keys(&mut app, "R");
        keys(&mut app, "web2");
        key(&mut app, KeyCode::Tab);
        keys(&mut app, "top");
        let words = match key(&mut app, KeyCode::Enter).as_slice() {
            [Effect::Verb(words)] => words.clone(),
            other => panic!("expected a run, got {other:?}"),
        };
        assert!(app.popup.is_none());
        update(
            &mut app,
            Msg::VerbOutput {
                pid: 7,
                line: words.join(" "),
                code: 125,
                output: "berth: the name web2 is in use\n".into(),
            },
        );
        match &app.popup {
            Some(Popup::RunForm(form)) => {
                assert_eq!(form.values[0], "busybox");
                assert_eq!(form.values[1], "web2");
                assert_eq!(form.values[2], "top");
                assert_eq!(
                    form.error.as_deref(),
                    Some("berth: the name web2 is in use")
                );
            }
            other => panic!("expected the form again, got {other:?}"),
        }
        // Sent again and this time run: the form is gone, and so is its error.
        assert!(matches!(
            key(&mut app, KeyCode::Enter).as_slice(),
            [Effect::Verb(_)]
        ));
        update(
            &mut app,
            Msg::VerbOutput {
                pid: 8,
                line: words.join(" "),
                code: 0,
                output: "0123abcd\n".into(),
            },
        );
        assert!(matches!(&app.popup, Some(Popup::Output { .. })));
        assert!(app.sent_form.is_none());
    }

    #[test]
    fn interactive_verbs_get_the_terminal_and_others_a_popup() {
        let mut app = app_with(Keymap::default());
        match command(&mut app, "exec -it web sh").as_slice() {
            [Effect::Terminal(words)] => assert_eq!(words, &["exec", "-it", "web", "sh"]),
            other => panic!("expected the terminal handed over, got {other:?}"),
        }
        // No spinner for a verb that has the terminal.
        assert!(app.busy.is_empty());
        assert!(matches!(
            command(&mut app, "attach web").as_slice(),
            [Effect::Terminal(_)]
        ));
        assert!(matches!(
            command(&mut app, "logs -f web").as_slice(),
            [Effect::Terminal(_)]
        ));
        assert!(matches!(
            command(&mut app, "stats web").as_slice(),
            [Effect::Verb(_)]
        ));
        // Its exit code comes back in the footer when it is not 0.
        update(
            &mut app,
            Msg::HandedBack {
                what: ":exec -it web sh".into(),
                result: Ok(3),
            },
        );
        assert_eq!(
            app.status.as_ref().map(|s| s.text.as_str()),
            Some(":exec -it web sh exited 3")
        );
        // Left with ctrl-c, as a follow is: nothing to report.
        app.status = None;
        update(
            &mut app,
            Msg::HandedBack {
                what: ":logs -f web".into(),
                result: Ok(130),
            },
        );
        assert_eq!(app.status, None);
    }

    #[test]
    fn a_running_verb_shows_live_and_x_ends_it_and_q_quits() {
        let mut app = app_with(Keymap::default());
        command(&mut app, "logs -f web");
        let line = "logs -f web".to_owned();
        update(
            &mut app,
            Msg::VerbStarted {
                pid: 42,
                line: line.clone(),
            },
        );
        assert!(app.popup.is_none(), "nothing to show yet");
        update(
            &mut app,
            Msg::VerbChunk {
                pid: 42,
                text: "tick-1\n".into(),
            },
        );
        assert!(matches!(app.popup, Some(Popup::Verb { .. })));
        assert_eq!(app.verb.as_ref().map(|v| v.text.as_str()), Some("tick-1\n"));
        // Letters are not actions here: s does not stop the container.
        assert!(keys(&mut app, "s").is_empty());
        assert!(matches!(
            keys(&mut app, "x").as_slice(),
            [Effect::StopVerb(42)]
        ));
        // Asked once; the popup stays until the verb's end arrives.
        assert!(key(&mut app, KeyCode::Esc).is_empty());
        assert!(matches!(app.popup, Some(Popup::Verb { .. })));
        update(
            &mut app,
            Msg::VerbOutput {
                pid: 42,
                line,
                code: 143,
                output: "tick-1\ntick-2\n(ended from the dashboard)".into(),
            },
        );
        assert!(app.verb.is_none());
        match &app.popup {
            Some(Popup::Output { title, text, .. }) => {
                assert_eq!(title, ":logs -f web (exit 143)");
                assert!(text.contains("tick-2"));
            }
            other => panic!("expected the output, got {other:?}"),
        }

        // A silent verb shows its popup once it runs past a tick; q there quits.
        command(&mut app, "wait web");
        update(
            &mut app,
            Msg::VerbStarted {
                pid: 43,
                line: "wait web".into(),
            },
        );
        key(&mut app, KeyCode::Esc);
        update(&mut app, Msg::Tick);
        update(&mut app, Msg::Tick);
        assert!(matches!(app.popup, Some(Popup::Verb { .. })));
        assert!(matches!(keys(&mut app, "q").as_slice(), [Effect::Quit]));
    }
}
