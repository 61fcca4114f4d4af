//! Keys while a popup is open: the confirmation, the `:` line, the run form, a verb's
//! live output, help and output pages. A popup is taken out of the state while its key
//! is handled and put back unless the key closes it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{apply, build, files, pull};
use crate::tui::action::{Action, Context};
use crate::tui::effect::Effect;
use crate::tui::form::RunForm;
use crate::tui::line::{Edit, History};
use crate::tui::state::{App, Popup, VerbRun, View};
use crate::tui::verb::needs_terminal;

pub(super) fn on_popup_key(app: &mut App, popup: Popup, key: KeyEvent) -> Vec<Effect> {
    match popup {
        Popup::Confirm { question, effect } => match app.keymap.action_in(Context::Popup, &key) {
            Some(Action::Yes) => files::begin(app, effect),
            Some(Action::No | Action::Close) => Vec::new(),
            _ => {
                app.popup = Some(Popup::Confirm { question, effect });
                Vec::new()
            }
        },
        Popup::Command { input, tail } => on_command_key(app, input, tail, &key),
        Popup::RunForm(form) => on_form_key(app, form, &key),
        Popup::Verb { back } => on_verb_key(app, back, key),
        Popup::Copy => files::on_copy_key(app, key),
        Popup::PullInput { input, error } => pull::on_pull_input_key(app, input, error, key),
        Popup::Pull => pull::on_pull_key(app, key),
        Popup::BuildForm(form) => build::on_form_key(app, form, &key),
        // Help and output move with the arrows and close on any other key, leaving the
        // screen as it was.
        Popup::Help { page } => {
            if let Some(by) = paging(app, &key, 1) {
                let page = page.saturating_add_signed(by);
                app.popup = Some(Popup::Help { page });
            }
            Vec::new()
        }
        Popup::Output { title, text, back } => {
            // Up goes back in the output, as in the logs; page keys go ten lines.
            if let Some(by) = paging(app, &key, 10) {
                let back = back.saturating_add_signed(-by);
                app.popup = Some(Popup::Output { title, text, back });
            }
            Vec::new()
        }
        Popup::ProjectLogs { logs, back } => {
            if let Some(by) = paging(app, &key, 10) {
                let back = back.saturating_add_signed(-by).min(logs.lines.len());
                app.popup = Some(Popup::ProjectLogs { logs, back });
            }
            Vec::new()
        }
    }
}

/// A key while text is typed: an action of the keymap's `[input]` table (of several, the
/// first that `fits`), or else a character to type.
pub(super) enum Typed {
    Action(Action),
    Char(char),
    Nothing,
}

pub(super) fn typed(app: &App, key: &KeyEvent, fits: impl Fn(Action) -> bool) -> Typed {
    if let Some(action) = app.keymap.pick_in(Context::Input, key, fits) {
        return Typed::Action(action);
    }
    match key.code {
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => Typed::Char(c),
        _ => Typed::Nothing,
    }
}

/// A form's keys besides the line editor's: next and previous field.
pub(super) fn is_field_key(action: Action) -> bool {
    matches!(action, Action::NextField | Action::PrevField)
}

/// Next or previous field: the form's focus moves one on or back (`move_focus` takes the
/// step), and the line editor starts afresh in the new field.
pub(super) fn step_field(app: &mut App, action: Action, move_focus: impl FnOnce(isize)) {
    move_focus(if action == Action::PrevField { -1 } else { 1 });
    app.line.reset();
}

/// The shared line editor's keys (characters, deletes, kills, cursor moves) on `text`;
/// false when the key is none of them.
pub(super) fn edit_line(app: &mut App, text: &mut String, typed: &Typed) -> bool {
    let edit = match typed {
        Typed::Char(c) => Edit::Insert(*c),
        Typed::Action(Action::DeleteChar) => Edit::DeleteBack,
        Typed::Action(Action::KillLine) => Edit::KillToStart,
        Typed::Action(Action::KillWord) => Edit::KillWord,
        Typed::Action(Action::LineStart) => Edit::Home,
        Typed::Action(Action::LineEnd) => Edit::End,
        Typed::Action(Action::CursorLeft) => Edit::Left,
        Typed::Action(Action::CursorRight) => Edit::Right,
        _ => return false,
    };
    app.line.edit(text, edit);
    true
}

/// Up and down on a single line: its history's older or newer line; false when the key
/// is neither.
pub(super) fn walk_history(
    app: &mut App,
    history: History,
    text: &mut String,
    typed: &Typed,
) -> bool {
    let back = match typed {
        Typed::Action(Action::HistoryPrev) => true,
        Typed::Action(Action::HistoryNext) => false,
        _ => return false,
    };
    app.line.walk(history, text, back);
    true
}

/// Whether an `[input]` action is one a single line (not a form) takes.
pub(super) fn single_line(action: Action) -> bool {
    matches!(
        action,
        Action::Complete | Action::HistoryPrev | Action::HistoryNext
    )
}

/// The `:` line: enter runs it (a verb, or a keymap action by name), tab completes (and
/// lists the candidates it could not choose between), up and down walk its history.
fn on_command_key(app: &mut App, input: String, tail: String, key: &KeyEvent) -> Vec<Effect> {
    let typed = typed(app, key, single_line);
    // The popup keeps the line split at the cursor; the editor sees it whole.
    let mut line = format!("{input}{tail}");
    app.line.set_cursor(input.len());
    match typed {
        Typed::Action(Action::Cancel) => return Vec::new(),
        Typed::Action(Action::Submit) => {
            app.line.remember(History::Command, &line);
            return run_line(app, &line);
        }
        Typed::Action(Action::Complete) => {
            let completion = crate::tui::complete::complete(&input, &app.snapshot);
            app.line.candidates = completion.candidates;
            line = format!("{}{tail}", completion.line);
            app.line.set_cursor(completion.line.len());
        }
        ref other => {
            if !walk_history(app, History::Command, &mut line, other) {
                edit_line(app, &mut line, other);
            }
        }
    }
    let (input, tail) = line.split_at(app.line.cursor(&line));
    app.popup = Some(Popup::Command {
        input: input.to_owned(),
        tail: tail.to_owned(),
    });
    Vec::new()
}

fn run_line(app: &mut App, line: &str) -> Vec<Effect> {
    match split_words(line) {
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
        // A build runs in the dashboard's build view: the form opens, filled from the line.
        Ok(words) if words.first().is_some_and(|w| w == "build") => {
            build::open_with(app, &words[1..])
        }
        Ok(words) if words.len() > 1 && words[0] == "image" && words[1] == "build" => {
            build::open_with(app, &words[2..])
        }
        Ok(words) if needs_terminal(&words) => vec![Effect::Terminal(words)],
        Ok(words) => vec![Effect::Verb(words)],
        Err(e) => {
            app.say(e, true);
            Vec::new()
        }
    }
}

/// The run form: enter sends it, the field keys move between fields.
fn on_form_key(app: &mut App, mut form: RunForm, key: &KeyEvent) -> Vec<Effect> {
    match typed(app, key, is_field_key) {
        Typed::Action(Action::Cancel) => return Vec::new(),
        Typed::Action(Action::Submit) => match form.words() {
            Ok(words) => {
                form.error = None;
                app.sent_form = Some((words.join(" "), form));
                return vec![Effect::Verb(words)];
            }
            Err(e) => form.error = Some(e),
        },
        Typed::Action(action @ (Action::NextField | Action::PrevField)) => {
            step_field(app, action, |by| form.move_focus(by));
        }
        ref other => {
            edit_line(app, form.focused_mut(), other);
        }
    }
    app.popup = Some(Popup::RunForm(form));
    Vec::new()
}

/// Keys while a verb's popup follows it: close or stop (esc, x) ends the verb (the popup
/// then shows how it ended), quit ends it and the dashboard, the arrows scroll; other keys
/// wait.
pub(super) fn on_verb_key(app: &mut App, back: usize, key: KeyEvent) -> Vec<Effect> {
    let quit = app
        .keymap
        .pick_in(Context::Main, &key, |a| a == Action::Quit);
    if quit == Some(Action::Quit) && app.verb.is_some() {
        return apply(app, Action::Quit);
    }
    let action = app.keymap.action_in(Context::Popup, &key);
    let by = paging(app, &key, 10);
    let Some(verb) = &mut app.verb else {
        return Vec::new();
    };
    let mut effects = Vec::new();
    let mut back = back;
    match action {
        Some(Action::Close | Action::StopVerb) if !verb.stopping => {
            verb.stopping = true;
            effects.push(Effect::StopVerb(verb.pid));
        }
        _ => {
            if let Some(by) = by {
                back = back.saturating_add_signed(-by);
            }
        }
    }
    app.popup = Some(Popup::Verb { back });
    effects
}

/// How far a key of the keymap's `[popup]` table scrolls a help, output or verb popup:
/// a line down (1) or up (-1), or `page` lines for the page keys.
pub(super) fn paging(app: &App, key: &KeyEvent, page: isize) -> Option<isize> {
    match app.keymap.action_in(Context::Popup, key)? {
        Action::ScrollDown => Some(1),
        Action::ScrollUp => Some(-1),
        Action::ScrollPageDown => Some(page),
        Action::ScrollPageUp => Some(-page),
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
    fn popup_and_input_keys_come_from_their_keymap_tables() {
        let mut keymap = Keymap::default();
        keymap
            .apply(
                "[popup]\n\"o\" = \"popup.yes\"\n\"y\" = \"none\"\n\"q\" = \"popup.down\"\n\
                 [input]\n\"ctrl-h\" = \"input.delete\"\n\"ctrl-j\" = \"input.submit\"\n",
            )
            .unwrap();
        let mut app = app_with(keymap);
        // The confirmation: y no longer says yes (nor closes it); o does.
        keys(&mut app, "K");
        // Its hint names the keys the keymap says.
        let frame = crate::tui::once::render_text(&app, 80, 24);
        assert!(frame.contains("o yes   n no"), "{frame}");
        assert!(keys(&mut app, "y").is_empty());
        assert!(matches!(app.popup, Some(Popup::Confirm { .. })));
        match keys(&mut app, "o").as_slice() {
            [Effect::Containers { op, targets }] => {
                assert_eq!(*op, ContainerOp::Kill);
                assert_eq!(names(targets), ["web"]);
            }
            other => panic!("expected the kill, got {other:?}"),
        }
        // The : line: ctrl-h deletes, ctrl-j runs; typed characters stay text.
        keys(&mut app, ":volume lsx");
        let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
        assert!(update(&mut app, Msg::Key(ctrl('h'))).is_empty());
        match update(&mut app, Msg::Key(ctrl('j'))).as_slice() {
            [Effect::Verb(words)] => assert_eq!(words, &["volume", "ls"]),
            other => panic!("expected a verb, got {other:?}"),
        }
        // In help, q (bound to popup.down here) pages instead of closing it.
        keys(&mut app, "?");
        keys(&mut app, "q");
        assert_eq!(app.popup, Some(Popup::Help { page: 1 }));
        assert!(!app.quit);
    }

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

    fn ctrl(app: &mut App, c: char) -> Vec<Effect> {
        update(
            app,
            Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
        )
    }

    /// One line editor on every input: the cursor moves, readline's kills cut, up and
    /// down walk each line's own history.
    #[test]
    fn every_input_line_edits_as_readline_and_walks_its_history() {
        let mut app = app_with(Keymap::default());
        keys(&mut app, ":volume crate");
        for _ in 0..3 {
            key(&mut app, KeyCode::Left);
        }
        keys(&mut app, "e");
        assert_eq!(
            app.popup,
            Some(Popup::Command {
                input: "volume cre".into(),
                tail: "ate".into()
            })
        );
        let frame = crate::tui::once::render_text(&app, 80, 10);
        assert!(frame.contains(":volume cre█ate"), "{frame}");
        assert!(matches!(
            key(&mut app, KeyCode::Enter).as_slice(),
            [Effect::Verb(words)] if words == &["volume", "create"]
        ));
        keys(&mut app, ":x");
        key(&mut app, KeyCode::Up);
        assert!(
            matches!(&app.popup, Some(Popup::Command { input, .. }) if input == "volume create")
        );
        ctrl(&mut app, 'w');
        ctrl(&mut app, 'w');
        keys(&mut app, "ps");
        assert!(matches!(
            key(&mut app, KeyCode::Enter).as_slice(),
            [Effect::Verb(words)] if words == &["ps"]
        ));
        keys(&mut app, ":typed");
        key(&mut app, KeyCode::Up);
        key(&mut app, KeyCode::Up);
        assert!(
            matches!(&app.popup, Some(Popup::Command { input, .. }) if input == "volume create")
        );
        key(&mut app, KeyCode::Down);
        key(&mut app, KeyCode::Down);
        assert!(matches!(&app.popup, Some(Popup::Command { input, .. }) if input == "typed"));
        // ctrl-a, ctrl-u: the start of the line, then nothing is before the cursor.
        ctrl(&mut app, 'a');
        ctrl(&mut app, 'u');
        keys(&mut app, "un");
        assert!(
            matches!(&app.popup, Some(Popup::Command { input, tail }) if input == "un" && tail == "typed")
        );
        key(&mut app, KeyCode::Esc);

        // The filter has its own history.
        keys(&mut app, "/web");
        key(&mut app, KeyCode::Enter);
        key(&mut app, KeyCode::Esc);
        assert_eq!(app.filter, "");
        keys(&mut app, "/");
        key(&mut app, KeyCode::Up);
        assert_eq!(app.filter, "web");
        ctrl(&mut app, 'u');
        assert_eq!(app.filter, "");
        key(&mut app, KeyCode::Esc);

        // The run form's fields: the same keys; up and down move between fields there.
        keys(&mut app, "R");
        // It opens on the name (the image is known): up to the image.
        key(&mut app, KeyCode::Up);
        ctrl(&mut app, 'u');
        keys(&mut app, "alpine");
        ctrl(&mut app, 'a');
        ctrl(&mut app, 'e');
        keys(&mut app, "3");
        key(&mut app, KeyCode::Down);
        keys(&mut app, "my web");
        ctrl(&mut app, 'w');
        // To the Ports field: Command, Env, Volumes, Ports.
        for _ in 0..4 {
            key(&mut app, KeyCode::Tab);
        }
        let frame = crate::tui::once::render_text(&app, 80, 24);
        assert!(frame.contains("Ports (-p specs)"), "{frame}");
        keys(&mut app, "8080:80");
        match key(&mut app, KeyCode::Enter).as_slice() {
            [Effect::Verb(words)] => assert_eq!(
                words,
                &["run", "-d", "--name", "my", "-p", "8080:80", "alpine3"]
            ),
            other => panic!("expected a run, got {other:?}"),
        }
    }

    /// Tab completes the argument by its kind and lists what it could not choose between.
    #[test]
    fn tab_on_the_command_line_lists_the_candidates_when_ambiguous() {
        let mut app = app_with(Keymap::default());
        keys(&mut app, ":stats ");
        key(&mut app, KeyCode::Tab);
        assert_eq!(app.line.candidates, ["job", "old", "web"]);
        let frame = crate::tui::once::render_text(&app, 80, 12);
        assert!(frame.contains("job  old  web"), "{frame}");
        keys(&mut app, "o");
        assert!(app.line.candidates.is_empty(), "typing drops the list");
        key(&mut app, KeyCode::Tab);
        assert!(matches!(&app.popup, Some(Popup::Command { input, .. }) if input == "stats old "));
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
