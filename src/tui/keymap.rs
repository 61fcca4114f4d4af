//! Keys to named actions: defaults in the style of lazydocker and k9s, overridable from a
//! TOML file (`~/.config/berth/keymap.toml`) of `"key" = "action"` lines. A key may name
//! several actions (`"p" = ["logs.pause", "image.pull"]`): the first that fits where the
//! user is (see `update::fits`) is taken. The top level holds the lists', details', logs'
//! and file view's keys; a `[popup]` table the keys of open popups and an `[input]` table
//! the keys while text is typed, as yazi's keymap has a table per layer.

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
    /// (`[popup]`, `[input]`); `"key" = "none"` unbinds a default.
    pub fn apply(&mut self, toml_text: &str) -> Result<(), String> {
        let entries: BTreeMap<String, Entry> =
            toml::from_str(toml_text).map_err(|e| e.message().to_owned())?;
        for (name, entry) in entries {
            match entry {
                Entry::Binding(bound) => self.bind(Context::Main, &name, bound)?,
                Entry::Table(table) => {
                    let context = Context::ALL
                        .into_iter()
                        .find(|c| c.table() == Some(name.as_str()))
                        .ok_or_else(|| format!("unknown table [{name}]"))?;
                    for (keys, bound) in table {
                        self.bind(context, &keys, bound)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn bind(&mut self, context: Context, keys: &str, bound: Bound) -> Result<(), String> {
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
        if let Some(action) = actions.iter().find(|a| a.context() != context) {
            let place = match action.context().table() {
                Some(name) => format!("in [{name}]"),
                None => "at the top level".to_owned(),
            };
            return Err(format!("{action} is bound {place}"));
        }
        table.insert(keys, actions);
        Ok(())
    }

    fn table(&self, context: Context) -> impl Iterator<Item = (&Keys, &Vec<Action>)> {
        self.tables.get(&context).into_iter().flatten()
    }

    /// The (first) action of a single key press at the top level, ignoring sequences.
    pub fn action(&self, event: &KeyEvent) -> Option<Action> {
        self.action_in(Context::Main, event)
    }

    /// The (first) action of a single key press in `context`.
    pub fn action_in(&self, context: Context, event: &KeyEvent) -> Option<Action> {
        self.tables
            .get(&context)?
            .get(&vec![Key::from_event(event)?])
            .and_then(|actions| actions.first().copied())
    }

    /// The action of a single key press in `context`: of those bound to it, the first
    /// that `fits`, else the first.
    pub fn pick_in(
        &self,
        context: Context,
        event: &KeyEvent,
        fits: impl Fn(Action) -> bool,
    ) -> Option<Action> {
        let actions = self
            .tables
            .get(&context)?
            .get(&vec![Key::from_event(event)?])?;
        let action = actions.iter().copied().find(|a| fits(*a));
        action.or(actions.first().copied())
    }

    /// What `event` means after `pending` (the first key of a sequence, if any): of the
    /// actions bound to it, the first that `fits`, else the first.
    pub fn resolve(
        &self,
        pending: Option<Key>,
        event: &KeyEvent,
        fits: impl Fn(Action) -> bool,
    ) -> Resolved {
        let Some(key) = Key::from_event(event) else {
            return Resolved::Nothing;
        };
        let Some(bindings) = self.tables.get(&Context::Main) else {
            return Resolved::Nothing;
        };
        let pick = |actions: &Vec<Action>| {
            let action = actions.iter().copied().find(|a| fits(*a));
            action.or(actions.first().copied()).map(Resolved::Action)
        };
        if let Some(first) = pending {
            if let Some(resolved) = bindings.get(&vec![first, key]).and_then(pick) {
                return resolved;
            }
        }
        if let Some(resolved) = bindings.get(&vec![key]).and_then(pick) {
            return resolved;
        }
        if bindings.keys().any(|k| k.len() == 2 && k[0] == key) {
            return Resolved::Pending(key);
        }
        Resolved::Nothing
    }

    /// Every top-level action with its keys, in the order actions are declared (for
    /// help).
    pub fn describe(&self) -> Vec<(Action, Vec<String>)> {
        self.describe_in(Context::Main)
    }

    /// Every action of `context` with its keys, in the order actions are declared.
    pub fn describe_in(&self, context: Context) -> Vec<(Action, Vec<String>)> {
        Action::ALL
            .iter()
            .filter(|action| action.context() == context)
            .map(|action| {
                let keys = self
                    .table(context)
                    .filter(|(_, actions)| actions.contains(action))
                    .map(|(k, _)| keys_text(k))
                    .collect();
                (*action, keys)
            })
            .collect()
    }

    /// The plainest key bound to `action` (no modifier, shortest name, lower case), for
    /// hints.
    pub fn key_for(&self, action: Action) -> Option<String> {
        self.table(action.context())
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
            keymap.action(&event(KeyCode::Char(' '), KeyModifiers::NONE)),
            Some(Action::Mark)
        );
    }

    #[test]
    fn a_file_rebinds_and_unbinds() {
        let mut keymap = Keymap::default();
        keymap
            .apply("\"x\" = \"container.stop\"\n\"s\" = \"none\"\n\"ctrl-alt-f5\" = \"app.help\"\n")
            .unwrap();
        assert_eq!(
            keymap.action(&event(KeyCode::Char('x'), KeyModifiers::NONE)),
            Some(Action::Stop)
        );
        assert_eq!(
            keymap.action(&event(KeyCode::Char('s'), KeyModifiers::NONE)),
            None
        );
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
        let g = event(KeyCode::Char('g'), KeyModifiers::NONE);
        let any = |_| true;
        let Resolved::Pending(first) = keymap.resolve(None, &g, any) else {
            panic!("g alone should wait");
        };
        assert_eq!(
            keymap.resolve(Some(first), &g, any),
            Resolved::Action(Action::Top)
        );
        // Another key after g is itself.
        let j = event(KeyCode::Char('j'), KeyModifiers::NONE);
        assert_eq!(
            keymap.resolve(Some(first), &j, any),
            Resolved::Action(Action::Down)
        );
        assert_eq!(keymap.key_for(Action::Top).as_deref(), Some("gg"));
    }

    #[test]
    fn a_key_bound_to_several_actions_takes_the_first_that_fits() {
        let mut keymap = Keymap::default();
        let p = event(KeyCode::Char('p'), KeyModifiers::NONE);
        let in_logs = |a| a == Action::Pause;
        assert_eq!(
            keymap.resolve(None, &p, in_logs),
            Resolved::Action(Action::Pause)
        );
        let elsewhere = |a| a != Action::Pause;
        assert_eq!(
            keymap.resolve(None, &p, elsewhere),
            Resolved::Action(Action::Pull)
        );
        // Nothing fits: the first.
        assert_eq!(
            keymap.resolve(None, &p, |_| false),
            Resolved::Action(Action::Pause)
        );
        assert_eq!(keymap.key_for(Action::Pull).as_deref(), Some("p"));
        // A user's line replaces the list.
        keymap.apply("\"p\" = \"image.pull\"").unwrap();
        assert_eq!(
            keymap.resolve(None, &p, in_logs),
            Resolved::Action(Action::Pull)
        );
        let err = keymap
            .apply("\"p\" = [\"image.pull\", \"fly\"]")
            .unwrap_err();
        assert!(err.contains("unknown action \"fly\""), "{err}");
    }

    #[test]
    fn every_action_has_a_default_key() {
        let keymap = Keymap::default();
        for context in Context::ALL {
            for (action, keys) in keymap.describe_in(context) {
                assert!(
                    !keys.is_empty(),
                    "{action} has no key in assets/keymap.toml"
                );
            }
        }
    }

    #[test]
    fn popup_and_input_keys_have_their_own_tables() {
        let mut keymap = Keymap::default();
        let y = event(KeyCode::Char('y'), KeyModifiers::NONE);
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
        let o = event(KeyCode::Char('o'), KeyModifiers::NONE);
        assert_eq!(keymap.action_in(Context::Popup, &o), Some(Action::Yes));
        assert_eq!(keymap.action_in(Context::Popup, &y), None);
        assert_eq!(keymap.key_for(Action::Yes).as_deref(), Some("o"));
        // The top level is untouched, and an action belongs to its own table.
        assert_eq!(keymap.action(&y), Some(Action::Yank));
        let err = keymap.apply("\"o\" = \"popup.yes\"").unwrap_err();
        assert!(err.contains("popup.yes is bound in [popup]"), "{err}");
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
    }
}
