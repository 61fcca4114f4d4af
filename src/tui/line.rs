//! The one line editor every input shares (the `/` filter and searches, the `:` line, the
//! run and build forms' fields, an image to pull): a cursor that moves (ctrl-a, ctrl-e,
//! left, right), readline's kills (ctrl-u to the start, ctrl-w the word before the
//! cursor), and a history per kind of line that up and down walk. Only one line is typed
//! at a time, so the cursor lives here, not in each popup; the text stays the popup's.

use std::collections::{HashMap, VecDeque};

/// Lines each history keeps, the newest last.
pub const HISTORY_KEPT: usize = 100;

/// An edit of the line being typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Insert(char),
    /// Backspace: the character before the cursor.
    DeleteBack,
    /// ctrl-u: everything before the cursor.
    KillToStart,
    /// ctrl-w: the word before the cursor, and the spaces after it.
    KillWord,
    Home,
    End,
    Left,
    Right,
}

/// Which history a line goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum History {
    Command,
    Filter,
    Pull,
}

#[derive(Debug, Clone, Default)]
pub struct LineEditor {
    /// Byte offset of the cursor in the line typed; `None`: at its end, where typing
    /// starts.
    cursor: Option<usize>,
    histories: HashMap<History, VecDeque<String>>,
    /// While walking a history: how many lines back, and the line as it was typed.
    walking: Option<(usize, String)>,
    /// What the last completion could not choose between, shown under the `:` line.
    pub candidates: Vec<String>,
}

impl LineEditor {
    /// Another line is typed (a popup opened or closed, another field): the cursor goes
    /// to its end, the history walk and candidates are dropped.
    pub fn reset(&mut self) {
        self.cursor = None;
        self.walking = None;
        self.candidates.clear();
    }

    /// The cursor in `text`: a byte offset on a character boundary.
    pub fn cursor(&self, text: &str) -> usize {
        let mut at = self.cursor.unwrap_or(text.len()).min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    }

    /// Puts the cursor at byte `at` of the line (the `:` line's split).
    pub fn set_cursor(&mut self, at: usize) {
        self.cursor = Some(at);
    }

    pub fn edit(&mut self, text: &mut String, edit: Edit) {
        let at = self.cursor(text);
        let at = match edit {
            Edit::Insert(c) => {
                text.insert(at, c);
                at + c.len_utf8()
            }
            Edit::DeleteBack => {
                let from = char_before(text, at);
                text.replace_range(from..at, "");
                from
            }
            Edit::KillToStart => {
                text.replace_range(..at, "");
                0
            }
            Edit::KillWord => {
                let head = text[..at].trim_end_matches(' ');
                let from = head.rfind(' ').map_or(0, |i| i + 1);
                text.replace_range(from..at, "");
                from
            }
            Edit::Home => 0,
            Edit::End => text.len(),
            Edit::Left => char_before(text, at),
            Edit::Right => text[at..].chars().next().map_or(at, |c| at + c.len_utf8()),
        };
        self.cursor = Some(at);
        self.candidates.clear();
        if !matches!(edit, Edit::Home | Edit::End | Edit::Left | Edit::Right) {
            self.walking = None;
        }
    }

    /// Keeps a line sent (not an empty one, nor the same as the last).
    pub fn remember(&mut self, history: History, line: &str) {
        let lines = self.histories.entry(history).or_default();
        if line.trim().is_empty() || lines.back().is_some_and(|l| l == line) {
            return;
        }
        if lines.len() == HISTORY_KEPT {
            lines.pop_front();
        }
        lines.push_back(line.to_owned());
    }

    /// Up (`back`) or down the history: `text` becomes the older or newer line, or the
    /// line as typed when down goes past the newest; false when there is nothing further.
    pub fn walk(&mut self, history: History, text: &mut String, back: bool) -> bool {
        let lines = self.histories.get(&history).map_or(0, VecDeque::len);
        let at = self.walking.as_ref().map_or(0, |(n, _)| *n);
        let to = match back {
            true if at < lines => at + 1,
            false if at > 0 => at - 1,
            _ => return false,
        };
        let typed = match self.walking.take() {
            Some((_, typed)) => typed,
            None => text.clone(),
        };
        *text = match to {
            0 => typed.clone(),
            n => self.histories[&history][lines - n].clone(),
        };
        self.walking = (to > 0).then_some((to, typed));
        self.cursor = None;
        true
    }
}

/// The start of the character before byte `at` (`at` itself at the start).
fn char_before(text: &str, at: usize) -> usize {
    text[..at]
        .chars()
        .next_back()
        .map_or(at, |c| at - c.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(editor: &mut LineEditor, text: &str) -> String {
        let mut line = String::new();
        for c in text.chars() {
            editor.edit(&mut line, Edit::Insert(c));
        }
        line
    }

    #[test]
    fn the_cursor_moves_and_readlines_kills_cut_before_it() {
        let mut editor = LineEditor::default();
        let mut line = typed(&mut editor, "run -d büsybox top");
        editor.edit(&mut line, Edit::KillWord);
        assert_eq!(line, "run -d büsybox ");
        editor.edit(&mut line, Edit::KillWord);
        assert_eq!(line, "run -d ");
        line.push_str("alpine");
        editor.reset();
        editor.edit(&mut line, Edit::Home);
        editor.edit(&mut line, Edit::Insert(':'));
        assert_eq!(line, ":run -d alpine");
        editor.edit(&mut line, Edit::End);
        editor.edit(&mut line, Edit::Left);
        editor.edit(&mut line, Edit::Left);
        editor.edit(&mut line, Edit::DeleteBack);
        assert_eq!(line, ":run -d alpne");
        editor.edit(&mut line, Edit::KillToStart);
        assert_eq!((line.as_str(), editor.cursor(&line)), ("ne", 0));
        // At either end, nothing moves or breaks a character.
        editor.edit(&mut line, Edit::Left);
        editor.edit(&mut line, Edit::DeleteBack);
        let mut wide = typed(&mut editor, "ü");
        editor.edit(&mut wide, Edit::Left);
        assert_eq!(editor.cursor(&wide), 0);
        editor.edit(&mut wide, Edit::Right);
        editor.edit(&mut wide, Edit::Right);
        assert_eq!(editor.cursor(&wide), 2);
    }

    #[test]
    fn up_and_down_walk_the_history_and_come_back_to_the_line_typed() {
        let mut editor = LineEditor::default();
        for line in ["ps", "images", "images", "  "] {
            editor.remember(History::Command, line);
        }
        let mut line = "vol".to_owned();
        assert!(editor.walk(History::Command, &mut line, true));
        assert_eq!(line, "images");
        assert!(editor.walk(History::Command, &mut line, true));
        assert_eq!(line, "ps");
        assert!(!editor.walk(History::Command, &mut line, true));
        assert!(editor.walk(History::Command, &mut line, false));
        assert!(editor.walk(History::Command, &mut line, false));
        assert_eq!(line, "vol");
        assert!(!editor.walk(History::Command, &mut line, false));
        // Each kind of line has its own.
        assert!(!editor.walk(History::Filter, &mut line, true));
        for i in 0..HISTORY_KEPT + 5 {
            editor.remember(History::Filter, &i.to_string());
        }
        assert_eq!(editor.histories[&History::Filter].len(), HISTORY_KEPT);
    }
}
