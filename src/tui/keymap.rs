//! Keys to named actions: defaults in the style of lazydocker and k9s, overridable from a
//! TOML file (`~/.config/berth/keymap.toml`) of `"key" = "action"` lines. As yazi's keymap
//! has a table per layer, a context has its own table (`[list]`, `[detail]`, `[logs]`,
//! `[layers]`, `[files]`) looked up before the top level, which they all share (see
//! `Context::chain`); `[popup]` and `[input]` serve open popups and typed text alone. A
//! key may name several actions (`"p" = ["logs.pause", "image.pull"]`): the first that
//! can fire where the user is (`Action::fires_in`) is taken. A file's top-level line
//! takes its key back from the context tables, so files written before them still
//! rebind a key everywhere; an action bound where it can never fire is refused.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::{Action, Context};

/// A key with its modifiers, normalised so that `Q` and `shift-q` are the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    code: KeyCodeOrd,
    ctrl: bool,
    alt: bool,
}

/// `KeyCode` without the variants a keymap can't name, ordered for a stable help listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KeyCodeOrd {
    Char(char),
    F(u8),
    Named(&'static str),
}

const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("pgup", KeyCode::PageUp),
    ("pgdown", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
];

impl Key {
    pub fn from_event(event: &KeyEvent) -> Option<Key> {
        let code = match event.code {
            KeyCode::Char(' ') => KeyCodeOrd::Named("space"),
            KeyCode::Char(c) => KeyCodeOrd::Char(c),
            KeyCode::F(n) => KeyCodeOrd::F(n),
            other => KeyCodeOrd::Named(NAMED.iter().find(|(_, code)| *code == other)?.0),
        };
        Some(Key {
            code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
        })
    }
}

impl FromStr for Key {
    type Err = String;

    fn from_str(text: &str) -> Result<Key, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = text;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCodeOrd::Char(c),
            _ if rest == "space" => KeyCodeOrd::Named("space"),
            _ => {
                if let Some(n) = rest.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
                    KeyCodeOrd::F(n)
                } else {
                    let name = NAMED
                        .iter()
                        .find(|(name, _)| *name == rest)
                        .ok_or_else(|| format!("unknown key {text:?}"))?
                        .0;
                    KeyCodeOrd::Named(name)
                }
            }
        };
        Ok(Key { code, ctrl, alt })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCodeOrd::Char(c) => write!(f, "{c}"),
            KeyCodeOrd::F(n) => write!(f, "f{n}"),
            KeyCodeOrd::Named(name) => f.write_str(name),
        }
    }
}

/// One key, or a sequence of two (`g g`).
pub type Keys = Vec<Key>;

/// The defaults, as shipped: `assets/keymap.toml`.
const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.toml");

#[derive(Debug, Clone)]
pub struct Keymap {
    /// A table of bindings per context.
    tables: BTreeMap<Context, BTreeMap<Keys, Vec<Action>>>,
}

/// A binding's value in a keymap file: one action or several.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Bound {
    One(String),
    Many(Vec<String>),
}

/// A line of a keymap file, or a context's table of them (`[popup]`).
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Entry {
    Binding(Bound),
    Table(BTreeMap<String, Bound>),
}

/// What a key press means, given the key pressed before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    Action(Action),
    /// The first key of a sequence: wait for the next.
    Pending(Key),
    Nothing,
}

impl Default for Keymap {
    fn default() -> Keymap {
        let mut keymap = Keymap {
            tables: BTreeMap::new(),
        };
        keymap
            .apply(DEFAULT_KEYMAP)
            .expect("assets/keymap.toml parses");
        keymap
    }
}

fn parse_keys(text: &str) -> Result<Keys, String> {
    let keys = text
        .split(' ')
        .filter(|k| !k.is_empty())
        .map(str::parse)
        .collect::<Result<Keys, String>>()?;
    match keys.len() {
        1 | 2 => Ok(keys),
        _ => Err(format!("{text:?}: bind one key or a sequence of two")),
    }
}

impl Keymap {
    /// The defaults with the file's bindings on top; a missing file is no error.
    pub fn load(path: &Path) -> Result<Keymap, String> {
        let mut keymap = Keymap::default();
        match std::fs::read_to_string(path) {
            Ok(text) => keymap
                .apply(&text)
                .map_err(|e| format!("{}: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
        Ok(keymap)
    }

    /// Applies `"key" = "action"` lines, at the top level or in a context's table
    /// (`[list]`, `[logs]`, `[popup]`, ...); `"key" = "none"` unbinds a default. A
    /// top-level line takes its key back from the panes' context tables too, so a file
    /// written before those tables existed rebinds the key everywhere, as it did.
    pub fn apply(&mut self, toml_text: &str) -> Result<(), String> {
        let entries: BTreeMap<String, Entry> =
            toml::from_str(toml_text).map_err(|e| e.message().to_owned())?;
        // The top level first, whatever the order: a table's line is the more specific.
        let (lines, tables): (Vec<_>, Vec<_>) = entries
            .into_iter()
            .partition(|(_, entry)| matches!(entry, Entry::Binding(_)));
        for (keys, entry) in lines {
            if let Entry::Binding(bound) = entry {
                let parsed = parse_keys(&keys)?;
                for context in Context::ALL {
                    if context != Context::Main && context.chain().contains(&Context::Main) {
                        if let Some(table) = self.tables.get_mut(&context) {
                            table.remove(&parsed);
                        }
                    }
                }
                self.bind(Context::Main, &keys, bound)?;
            }
        }
        for (name, entry) in tables {
            if let Entry::Table(table) = entry {
                let context = Context::ALL
                    .into_iter()
                    .find(|c| c.table() == Some(name.as_str()))
                    .ok_or_else(|| format!("unknown table [{name}]"))?;
                for (keys, bound) in table {
                    self.bind(context, &keys, bound)?;
                }
            }
        }
        Ok(())
    }

    fn bind(&mut self, context: Context, keys: &str, bound: Bound) -> Result<(), String> {
        let text = keys;
        let keys = parse_keys(keys)?;
        let table = self.tables.entry(context).or_default();
        let names = match bound {
            Bound::One(name) if name == "none" => {
                table.remove(&keys);
                return Ok(());
            }
            Bound::One(name) => vec![name],
            Bound::Many(names) => names,
        };
        let actions = names
            .iter()
            .map(|n| n.parse())
            .collect::<Result<Vec<Action>, String>>()?;
        if actions.is_empty() {
            return Err(format!("{:?}: bind at least one action", keys_text(&keys)));
        }
        if let Some(action) = actions.iter().find(|a| !a.fires_in(context)) {
            let place = match context {
                Context::Main => "at the top level".to_owned(),
                table => format!("in {}", table.place()),
            };
            return Err(format!(
                "{text:?} {place}: {action} is bound {}, it never fires here",
                action.homes()
            ));
        }
        table.insert(keys, actions);
        Ok(())
    }

    fn table(&self, context: Context) -> impl Iterator<Item = (&Keys, &Vec<Action>)> {
        self.tables.get(&context).into_iter().flatten()
    }

    /// The actions bound to `keys` where `context` looks: its own table first, then
    /// those it falls back to.
    fn lookup(&self, context: Context, keys: &Keys) -> Option<&Vec<Action>> {
        context
            .chain()
            .iter()
            .find_map(|c| self.tables.get(c)?.get(keys))
    }

    /// The (first) action of a single key press at the top level, ignoring sequences.
    pub fn action(&self, event: &KeyEvent) -> Option<Action> {
        self.action_in(Context::Main, event)
    }

    /// The action of a single key press in `context` (looked up along its fallbacks): of
    /// those bound to it, the first that can fire there, else the first.
    pub fn action_in(&self, context: Context, event: &KeyEvent) -> Option<Action> {
        self.pick_in(context, event, |a| a.fires_in(context))
    }

    /// The action of a single key press in `context`: of those bound to it, the first
    /// that `fits`, else the first.
    pub fn pick_in(
        &self,
        context: Context,
        event: &KeyEvent,
        fits: impl Fn(Action) -> bool,
    ) -> Option<Action> {
        let actions = self.lookup(context, &vec![Key::from_event(event)?])?;
        let action = actions.iter().copied().find(|a| fits(*a));
        action.or(actions.first().copied())
    }

    /// What `event` means in `context` after `pending` (the first key of a sequence, if
    /// any): of the actions bound to it, the first that can fire there, else the first.
    pub fn resolve(&self, context: Context, pending: Option<Key>, event: &KeyEvent) -> Resolved {
        let Some(key) = Key::from_event(event) else {
            return Resolved::Nothing;
        };
        let pick = |actions: &Vec<Action>| {
            let action = actions.iter().copied().find(|a| a.fires_in(context));
            action.or(actions.first().copied()).map(Resolved::Action)
        };
        if let Some(first) = pending {
            if let Some(resolved) = self.lookup(context, &vec![first, key]).and_then(pick) {
                return resolved;
            }
        }
        if let Some(resolved) = self.lookup(context, &vec![key]).and_then(pick) {
            return resolved;
        }
        let starts = |c: &Context| self.table(*c).any(|(k, _)| k.len() == 2 && k[0] == key);
        if context.chain().iter().any(starts) {
            return Resolved::Pending(key);
        }
        Resolved::Nothing
    }

    /// Every action bound in `context`'s own table with its keys, in the order actions
    /// are declared (for help).
    pub fn describe_in(&self, context: Context) -> Vec<(Action, Vec<String>)> {
        Action::ALL
            .iter()
            .map(|action| {
                let keys: Vec<String> = self
                    .table(context)
                    .filter(|(_, actions)| actions.contains(action))
                    .map(|(k, _)| keys_text(k))
                    .collect();
                (*action, keys)
            })
            .filter(|(_, keys)| !keys.is_empty())
            .collect()
    }

    /// The plainest key bound to `action` (no modifier, shortest name, lower case), for
    /// hints.
    pub fn key_for(&self, action: Action) -> Option<String> {
        Context::ALL
            .into_iter()
            .flat_map(|context| self.table(context))
            .filter(|(_, actions)| actions.contains(&action))
            .map(|(k, _)| keys_text(k))
            .min_by_key(|k| {
                let modified = k.contains("ctrl-") || k.contains("alt-");
                (modified, k.len(), k.chars().any(char::is_uppercase))
            })
    }

    /// The key a popup's hint names for `action`: its plainest, or its name when unbound.
    pub fn hint(&self, action: Action) -> String {
        self.key_for(action)
            .unwrap_or_else(|| format!(":{}", action.name()))
    }
}

/// `g`, `ctrl-d`, or `gg` for a sequence of plain characters.
fn keys_text(keys: &[Key]) -> String {
    let parts: Vec<String> = keys.iter().map(Key::to_string).collect();
    if parts.iter().all(|p| p.chars().count() == 1) {
        parts.concat()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    fn char_key(c: char) -> KeyEvent {
        event(KeyCode::Char(c), KeyModifiers::NONE)
    }

    /// The panes' contexts, where the top level is the fallback.
    const PANES: [Context; 5] = [
        Context::List,
        Context::Detail,
        Context::Logs,
        Context::Layers,
        Context::Files,
    ];

    #[test]
    fn shifted_letters_and_modifiers_are_matched() {
        let keymap = Keymap::default();
        assert_eq!(
            keymap.action(&event(KeyCode::Char('K'), KeyModifiers::SHIFT)),
            Some(Action::Kill)
        );
        assert_eq!(
            keymap.action(&event(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            keymap.action_in(Context::List, &char_key(' ')),
            Some(Action::Mark)
        );
    }

    #[test]
    fn a_file_rebinds_and_unbinds() {
        let mut keymap = Keymap::default();
        keymap
            .apply("\"x\" = \"container.stop\"\n\"s\" = \"none\"\n\"ctrl-alt-f5\" = \"app.help\"\n")
            .unwrap();
        assert_eq!(keymap.action(&char_key('x')), Some(Action::Stop));
        assert_eq!(keymap.action(&char_key('s')), None);
        assert_eq!(
            keymap.action(&event(
                KeyCode::F(5),
                KeyModifiers::CONTROL | KeyModifiers::ALT
            )),
            Some(Action::Help)
        );
    }

    #[test]
    fn sequences_wait_for_their_second_key() {
        let keymap = Keymap::default();
        let g = char_key('g');
        for context in PANES {
            let Resolved::Pending(first) = keymap.resolve(context, None, &g) else {
                panic!("g alone should wait in {context:?}");
            };
            assert_eq!(
                keymap.resolve(context, Some(first), &g),
                Resolved::Action(Action::Top)
            );
            // Another key after g is itself.
            assert_eq!(
                keymap.resolve(context, Some(first), &char_key('j')),
                Resolved::Action(Action::Down)
            );
        }
        assert_eq!(keymap.key_for(Action::Top).as_deref(), Some("gg"));
    }

    #[test]
    fn a_context_table_comes_before_the_top_level() {
        let keymap = Keymap::default();
        let p = char_key('p');
        // One key, a meaning per context: the logs' own table, else the shared top level.
        assert_eq!(
            keymap.resolve(Context::Logs, None, &p),
            Resolved::Action(Action::Pause)
        );
        for context in [Context::List, Context::Detail, Context::Files] {
            assert_eq!(
                keymap.resolve(context, None, &p),
                Resolved::Action(Action::Pull),
                "{context:?}"
            );
        }
        let x = char_key('x');
        assert_eq!(
            keymap.action_in(Context::Files, &x),
            Some(Action::CancelCopy)
        );
        assert_eq!(
            keymap.action_in(Context::List, &x),
            Some(Action::CancelPull)
        );
        // The logs are a detail's tab: the detail's keys serve there, the list's do not.
        assert_eq!(
            keymap.action_in(Context::Logs, &char_key('l')),
            Some(Action::NextTab)
        );
        assert_eq!(keymap.action_in(Context::Logs, &char_key('o')), None);
        assert_eq!(
            keymap.action_in(Context::List, &char_key('o')),
            Some(Action::Sort)
        );
        // Keys in no table of a context fall back to the top level.
        for context in PANES {
            assert_eq!(
                keymap.action_in(context, &char_key('q')),
                Some(Action::Quit),
                "{context:?}"
            );
        }
        // Popups and typed text never see the panes' keys.
        assert_eq!(keymap.action_in(Context::Popup, &char_key('q')), None);
        assert_eq!(keymap.action_in(Context::Input, &char_key('q')), None);
    }

    #[test]
    fn an_old_style_top_level_file_rebinds_keys_in_every_context() {
        let mut keymap = Keymap::default();
        // Written before the context tables: every line at the top level, keys that the
        // defaults now keep in tables rebound, unbound or listed as before.
        keymap
            .apply(concat!(
                "\"w\" = \"none\"\n",
                "\"W\" = \"logs.wrap\"\n",
                "\"l\" = \"container.stop\"\n",
                "\"space\" = \"nav.down\"\n",
                "\"p\" = [\"logs.pause\", \"image.pull\"]\n",
                "\"x\" = [\"files.cancel\", \"image.pull_cancel\"]\n",
            ))
            .unwrap();
        for context in PANES {
            let at = |c| keymap.action_in(context, &char_key(c));
            assert_eq!(at('w'), None, "w in {context:?}");
            assert_eq!(at('l'), Some(Action::Stop), "l in {context:?}");
            assert_eq!(at(' '), Some(Action::Down), "space in {context:?}");
        }
        assert_eq!(
            keymap.action_in(Context::Logs, &char_key('W')),
            Some(Action::Wrap)
        );
        // A list still takes the first that can fire where the user is.
        let p = char_key('p');
        assert_eq!(
            keymap.resolve(Context::Logs, None, &p),
            Resolved::Action(Action::Pause)
        );
        assert_eq!(
            keymap.resolve(Context::List, None, &p),
            Resolved::Action(Action::Pull)
        );
        assert_eq!(
            keymap.resolve(Context::Detail, None, &p),
            Resolved::Action(Action::Pull)
        );
        let x = char_key('x');
        assert_eq!(
            keymap.action_in(Context::Files, &x),
            Some(Action::CancelCopy)
        );
        assert_eq!(
            keymap.pick_in(Context::Main, &x, |a| a == Action::CancelPull),
            Some(Action::CancelPull)
        );
        // Context tables the file did not touch keep their defaults.
        assert_eq!(
            keymap.action_in(Context::Detail, &char_key('t')),
            Some(Action::ToggleScope)
        );
    }

    #[test]
    fn a_user_table_line_beats_a_top_level_one_whatever_the_order() {
        let mut keymap = Keymap::default();
        keymap
            .apply("[logs]\n\"s\" = \"logs.wrap\"\n\n[list]\n\"v\" = \"list.sort\"\n")
            .unwrap();
        // TOML can't put a top-level line after a table: a second file adds one.
        keymap.apply("\"s\" = \"container.stop\"").unwrap();
        assert_eq!(
            keymap.action_in(Context::Logs, &char_key('s')),
            Some(Action::Stop)
        );
        keymap
            .apply("\"s\" = \"container.stop\"\n[logs]\n\"s\" = \"logs.wrap\"\n")
            .unwrap();
        assert_eq!(
            keymap.action_in(Context::Logs, &char_key('s')),
            Some(Action::Wrap)
        );
        assert_eq!(
            keymap.action_in(Context::List, &char_key('s')),
            Some(Action::Stop)
        );
        assert_eq!(
            keymap.action_in(Context::List, &char_key('v')),
            Some(Action::Sort)
        );
        assert_eq!(keymap.action_in(Context::Detail, &char_key('v')), None);
    }

    #[test]
    fn an_action_where_it_can_never_fire_is_refused() {
        let mut keymap = Keymap::default();
        let err = keymap.apply("[list]\n\"w\" = \"logs.wrap\"").unwrap_err();
        assert_eq!(
            err,
            "\"w\" in [list]: logs.wrap is bound in [logs] or at the top level, it never fires here"
        );
        let err = keymap.apply("[logs]\n\"c\" = \"files.copy\"").unwrap_err();
        assert!(err.contains("files.copy is bound in [files] or"), "{err}");
        let err = keymap
            .apply("[files]\n\"x\" = [\"files.cancel\", \"image.pull_cancel\"]")
            .unwrap_err();
        assert!(
            err.contains("image.pull_cancel is bound at the top level, it never fires here"),
            "{err}"
        );
        let err = keymap.apply("[detail]\n\"y\" = \"popup.yes\"").unwrap_err();
        assert!(err.contains("popup.yes is bound in [popup]"), "{err}");
        // Where it can fire, it binds; the top level takes any of the panes' actions.
        keymap
            .apply("\"c\" = \"files.copy\"\n[files]\n\"space\" = \"list.mark\"\n[logs]\n\"/\" = \"list.filter\"\n")
            .unwrap();
        // The loaded file's path leads the message.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keymap.toml");
        std::fs::write(&path, "[list]\n\"t\" = \"layers.scope\"\n").unwrap();
        let err = Keymap::load(&path).unwrap_err();
        assert_eq!(
            err,
            format!(
                "{}: \"t\" in [list]: layers.scope is bound in [detail] or [layers] or at the top level, it never fires here",
                path.display()
            )
        );
    }

    #[test]
    fn every_action_has_a_default_key_where_it_fires() {
        let keymap = Keymap::default();
        for action in Action::ALL {
            let bound: Vec<Context> = Context::ALL
                .into_iter()
                .filter(|c| keymap.describe_in(*c).iter().any(|(a, _)| a == action))
                .collect();
            assert!(
                !bound.is_empty(),
                "{action} has no key in assets/keymap.toml"
            );
            for context in bound {
                assert!(action.fires_in(context), "{action} in {context:?}");
            }
        }
    }

    #[test]
    fn popup_and_input_keys_have_their_own_tables() {
        let mut keymap = Keymap::default();
        let y = char_key('y');
        let esc = event(KeyCode::Esc, KeyModifiers::NONE);
        // One key, a meaning per context.
        assert_eq!(keymap.action(&y), Some(Action::Yank));
        assert_eq!(keymap.action_in(Context::Popup, &y), Some(Action::Yes));
        assert_eq!(keymap.action_in(Context::Input, &y), None);
        assert_eq!(keymap.action_in(Context::Input, &esc), Some(Action::Cancel));
        let tab = event(KeyCode::Tab, KeyModifiers::NONE);
        assert_eq!(
            keymap.pick_in(Context::Input, &tab, |a| a == Action::NextField),
            Some(Action::NextField)
        );
        keymap
            .apply("[popup]\n\"o\" = \"popup.yes\"\n\"y\" = \"none\"\n\"Y\" = \"none\"\n")
            .unwrap();
        let o = char_key('o');
        assert_eq!(keymap.action_in(Context::Popup, &o), Some(Action::Yes));
        assert_eq!(keymap.action_in(Context::Popup, &y), None);
        assert_eq!(keymap.key_for(Action::Yes).as_deref(), Some("o"));
        // The top level is untouched, and an action belongs to its own table.
        assert_eq!(keymap.action(&y), Some(Action::Yank));
        let err = keymap.apply("\"o\" = \"popup.yes\"").unwrap_err();
        assert!(err.contains("popup.yes is bound in [popup]"), "{err}");
        // A top-level line leaves the popup's keys alone.
        keymap.apply("\"n\" = \"app.quit\"").unwrap();
        assert_eq!(
            keymap.action_in(Context::Popup, &char_key('n')),
            Some(Action::No)
        );
        let err = keymap.apply("[input]\n\"x\" = \"app.quit\"").unwrap_err();
        assert!(err.contains("at the top level"), "{err}");
        let err = keymap.apply("[fly]\n\"x\" = \"app.quit\"").unwrap_err();
        assert!(err.contains("unknown table [fly]"), "{err}");
    }

    #[test]
    fn bad_files_name_the_problem() {
        let mut keymap = Keymap::default();
        let err = keymap.apply("\"x\" = \"fly\"").unwrap_err();
        assert!(err.contains("unknown action \"fly\""), "{err}");
        let err = keymap
            .apply("\"hyper-x\" = \"container.stop\"")
            .unwrap_err();
        assert!(err.contains("unknown key"), "{err}");
        let err = keymap
            .apply("\"p\" = [\"image.pull\", \"fly\"]")
            .unwrap_err();
        assert!(err.contains("unknown action \"fly\""), "{err}");
    }
}
