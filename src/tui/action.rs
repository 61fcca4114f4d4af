//! What a key can do. Keys map to these named actions (see `keymap.rs`), so a user's keymap
//! and the help popup speak the same names.

use std::fmt;
use std::str::FromStr;

macro_rules! actions {
    ($($variant:ident => $name:literal, $help:literal;)*) => {
        /// A named thing the user can ask for.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $($variant,)*
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The name used in keymap files.
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }

            /// The name without its group (`stop`), for hints in the footer.
            pub fn short(self) -> &'static str {
                let name = self.name();
                name.rsplit_once('.').map_or(name, |(_, short)| short)
            }

            /// One line for the help popup.
            pub fn help(self) -> &'static str {
                match self {
                    $(Action::$variant => $help,)*
                }
            }
        }
    };
}

actions! {
    Quit => "app.quit", "Quit berth";
    Help => "app.help", "Show this help";
    Back => "app.back", "Close the popup or detail, clear the filter";
    Up => "nav.up", "Move up";
    Down => "nav.down", "Move down";
    PageUp => "nav.page_up", "Move a page up";
    PageDown => "nav.page_down", "Move a page down";
    Top => "nav.top", "Go to the first row";
    Bottom => "nav.bottom", "Go to the last row";
    NextView => "view.next", "Next pane";
    PrevView => "view.prev", "Previous pane";
    ShowContainers => "view.containers", "Containers pane";
    ShowImages => "view.images", "Images pane";
    ShowVolumes => "view.volumes", "Volumes pane";
    ShowNetworks => "view.networks", "Networks pane";
    ShowEvents => "view.events", "Events pane";
    ShowProjects => "view.projects", "Compose projects pane";
    ProjectUp => "project.up", "Projects: up the project or service";
    ProjectDown => "project.down", "Projects: down the project (remove a service's containers)";
    ProjectRestart => "project.restart", "Projects: restart the project or service";
    ProjectRecreate => "project.recreate", "Projects: up, recreating its containers";
    ProjectRebuild => "project.rebuild", "Projects: build its images again and up (: line)";
    ProjectLogs => "project.logs", "Projects: the project's or service's logs, merged";
    ProjectProfile => "project.profile", "Projects: turn the service's profiles on or off";
    Open => "detail.open", "Open the selected row's detail";
    NextTab => "detail.next_tab", "Next detail tab";
    PrevTab => "detail.prev_tab", "Previous detail tab";
    Filter => "list.filter", "Filter rows by text; on the logs tab, search the log";
    ToggleAll => "list.toggle_all", "Show all containers or running only";
    Sort => "list.sort", "Sort by the next column";
    Mark => "list.mark", "Mark the row for a bulk action";
    Start => "container.start", "Start the container(s)";
    Stop => "container.stop", "Stop the container(s)";
    Restart => "container.restart", "Restart the container(s)";
    Kill => "container.kill", "Kill the container(s)";
    PauseContainer => "container.pause", "Pause the container(s), or unpause paused ones";
    Remove => "item.remove", "Remove the selected object(s)";
    Create => "item.create", "Create a volume or network, or run a container";
    Prune => "item.prune", "Remove unused containers, volumes or networks";
    Exec => "container.exec", "Open a shell in the container";
    Attach => "container.attach", "Attach to its streams (ctrl-p ctrl-q / ctrl-c return)";
    Connect => "container.connect", "Connect the container to a network (: line)";
    Disconnect => "container.disconnect", "Disconnect it from a network (: line)";
    RunNew => "image.run", "Run a new container (a form, from the image)";
    Pull => "image.pull", "Pull an image; while one runs, show it again";
    CancelPull => "image.pull_cancel", "Pull dialog, build view: stop the pull or build";
    Build => "image.build", "Build an image (a form); while one runs, show it";
    Command => "app.command", "Run any berth command (:run -d img)";
    Refresh => "app.refresh", "Reload everything from the engine";
    ToggleScope => "layers.scope", "Layer view: this layer alone or the image so far";
    ChangesOnly => "detail.changes_only", "Layer view and diff: only what changed";
    LayerFocus => "layers.focus", "Layer view: move between the layers and the file tree";
    Collapse => "layers.collapse", "Layer view: collapse or expand the directory";
    CollapseAll => "layers.collapse_all", "Layer view: collapse every directory, or expand all";
    ShowAdded => "layers.added", "Layer view: show or hide added files";
    ShowChanged => "layers.changed", "Layer view: show or hide changed files";
    ShowRemoved => "layers.removed", "Layer view: show or hide removed files";
    ShowUnchanged => "layers.unchanged", "Layer view: show or hide unchanged files";
    Pause => "logs.pause", "Logs: pause or resume following (G follows too)";
    Wrap => "logs.wrap", "Logs: wrap long lines";
    NextMatch => "logs.next_match", "Logs: next (newer) match of the search, wrapping";
    PrevMatch => "logs.prev_match", "Logs: previous (older) match of the search, wrapping";
    LogFilter => "logs.filter", "Logs: show only the lines matching a text";
    Timestamps => "logs.timestamps", "Logs: show each line's time";
    Colours => "logs.colours", "Logs: the container's colours, or plain text";
    SaveLog => "logs.save", "Logs: save the lines shown to a file in this directory";
    LogRange => "logs.range", "Logs: read all, the last 100 lines, or since 1m, 15m, 1h";
    Files => "container.files", "Host and container files side by side";
    Logs => "container.logs", "The container's logs, straight from its row";
    TabConfig => "container.config", "The container's Config tab, from its row or detail";
    TabMounts => "container.mounts", "The container's Mounts tab, from its row or detail";
    TabNetwork => "container.network", "The container's Network tab, from its row or detail";
    TabStats => "container.stats", "The container's Stats tab, from its row or detail";
    TabDiff => "container.diff", "The container's Diff tab, from its row or detail";
    Parent => "files.parent", "Files: up a directory (enter opens one)";
    CopyFiles => "files.copy", "Files: copy marked/selected to the other pane";
    CancelCopy => "files.cancel", "Files: cancel the copy under way";
    Yank => "item.yank", "Copy the selected ID or path to the clipboard";
    Mouse => "app.mouse", "Release the mouse to select text (or take it)";
    // Bound in the keymap's [popup] table: keys while a popup is open.
    Yes => "popup.yes", "Confirmation: yes; an ended pull's dialog: close";
    No => "popup.no", "Confirmation: no";
    Close => "popup.close", "Close the popup: a confirmation says no, a verb is ended";
    StopVerb => "popup.stop", "A verb's popup: end the verb";
    ScrollDown => "popup.down", "Help and output: a line (a page of help) down";
    ScrollUp => "popup.up", "Help and output: a line (a page of help) up";
    ScrollPageDown => "popup.page_down", "Output: ten lines down";
    ScrollPageUp => "popup.page_up", "Output: ten lines up";
    // Bound in the keymap's [input] table: keys while text is typed (the filter, the `:`
    // line, the run form, an image reference); other characters are typed.
    Submit => "input.submit", "Input: done (run the line, send the form, keep the filter)";
    Cancel => "input.cancel", "Input: leave it (a filter is cleared)";
    DeleteChar => "input.delete", "Input: delete the character before the cursor";
    KillLine => "input.kill_line", "Input: delete everything before the cursor";
    KillWord => "input.kill_word", "Input: delete the word before the cursor";
    LineStart => "input.home", "Input: the cursor to the start of the line";
    LineEnd => "input.end", "Input: the cursor to the end of the line";
    CursorLeft => "input.left", "Input: the cursor a character left";
    CursorRight => "input.right", "Input: the cursor a character right";
    HistoryPrev => "input.history_prev", "The : line, a filter or search, a pull: the line before";
    HistoryNext => "input.history_next", "The : line, a filter or search, a pull: the line after";
    Complete => "input.complete", "The : line: complete the word";
    NextField => "input.next_field", "Run form: next field";
    PrevField => "input.prev_field", "Run form: previous field";
}

/// Where a key is looked up: the keymap's table for where the user is (a pane's list, a
/// detail, the logs tab, the two-pane file view), then the tables it falls back to, last
/// the top level (`Main`), which serves them all; or, alone, the `[popup]` or `[input]`
/// table while a popup is open or text is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Main,
    List,
    Detail,
    Logs,
    Files,
    /// The Projects pane's rows (then the list's keys).
    Projects,
    Popup,
    Input,
    /// An image's layer view (a detail).
    Layers,
}

impl Context {
    pub const ALL: [Context; 9] = [
        Context::Main,
        Context::List,
        Context::Detail,
        Context::Logs,
        Context::Layers,
        Context::Files,
        Context::Projects,
        Context::Popup,
        Context::Input,
    ];

    /// The table's name in a keymap file (`None`: the top level).
    pub fn table(self) -> Option<&'static str> {
        match self {
            Context::Main => None,
            Context::List => Some("list"),
            Context::Detail => Some("detail"),
            Context::Logs => Some("logs"),
            Context::Files => Some("files"),
            Context::Projects => Some("projects"),
            Context::Popup => Some("popup"),
            Context::Input => Some("input"),
            Context::Layers => Some("layers"),
        }
    }

    /// `[logs]`, or `the top level`, for messages.
    pub fn place(self) -> String {
        match self.table() {
            Some(name) => format!("[{name}]"),
            None => "the top level".to_owned(),
        }
    }

    /// The tables a key is looked up in here, first to last: the logs are a detail's tab,
    /// so they fall back to the detail's keys; the panes' contexts all end at the top
    /// level; a popup and typed text have their own keys alone.
    pub fn chain(self) -> &'static [Context] {
        match self {
            Context::Main => &[Context::Main],
            Context::List => &[Context::List, Context::Main],
            Context::Detail => &[Context::Detail, Context::Main],
            Context::Logs => &[Context::Logs, Context::Detail, Context::Main],
            Context::Layers => &[Context::Layers, Context::Detail, Context::Main],
            Context::Files => &[Context::Files, Context::Main],
            Context::Projects => &[Context::Projects, Context::List, Context::Main],
            Context::Popup => &[Context::Popup],
            Context::Input => &[Context::Input],
        }
    }
}

/// Where the panes' keys are: a context's table or the top level that all share.
const PANES: [Context; 6] = [
    Context::List,
    Context::Detail,
    Context::Logs,
    Context::Layers,
    Context::Files,
    Context::Projects,
];

impl Action {
    /// The table this action belongs to by its name's group: `[popup]`, `[input]`, or
    /// the panes' (the top level and the context tables).
    pub fn context(self) -> Context {
        match self.name().split_once('.').map(|(group, _)| group) {
            Some("popup") => Context::Popup,
            Some("input") => Context::Input,
            _ => Context::Main,
        }
    }

    /// The panes' contexts where this action does something (the pull dialog's cancel:
    /// none, it is read from the top level while the dialog is open).
    pub fn places(self) -> &'static [Context] {
        match self {
            Action::Pause
            | Action::Wrap
            | Action::NextMatch
            | Action::PrevMatch
            | Action::LogFilter
            | Action::Timestamps
            | Action::Colours
            | Action::SaveLog
            | Action::LogRange => &[Context::Logs],
            Action::CopyFiles | Action::CancelCopy => &[Context::Files],
            // Up a directory of an open volume, or of a file pane.
            Action::Parent => &[Context::Detail, Context::Files],
            // In the file view: the host or the container side.
            Action::NextTab | Action::PrevTab => &[Context::Detail, Context::Logs, Context::Files],
            Action::ChangesOnly | Action::ToggleScope => &[Context::Detail, Context::Layers],
            Action::LayerFocus
            | Action::Collapse
            | Action::CollapseAll
            | Action::ShowAdded
            | Action::ShowChanged
            | Action::ShowRemoved
            | Action::ShowUnchanged => &[Context::Layers],
            Action::ToggleAll | Action::Sort => &[Context::List],
            Action::Mark => &[Context::List, Context::Files],
            // The list's filter, the log's search, or the layer view's tree search.
            Action::Filter => &[
                Context::List,
                Context::Logs,
                Context::Layers,
                Context::Projects,
            ],
            Action::ProjectUp
            | Action::ProjectDown
            | Action::ProjectRestart
            | Action::ProjectRecreate
            | Action::ProjectRebuild
            | Action::ProjectLogs
            | Action::ProjectProfile => &[Context::Projects],
            Action::CancelPull => &[],
            _ if self.context() == Context::Main => &PANES,
            _ => &[],
        }
    }

    /// Whether a key of `context`'s table bound to this action can ever do it: the top
    /// level takes any of the panes' actions, as it serves them all.
    pub fn fires_in(self, context: Context) -> bool {
        match context {
            Context::Popup | Context::Input => self.context() == context,
            Context::Main => self.context() == Context::Main,
            _ => self.places().contains(&context),
        }
    }

    /// Where this action may be bound (`in [logs] or at the top level`), for the message
    /// refusing it elsewhere.
    pub fn homes(self) -> String {
        match self.context() {
            Context::Main if self.places() == PANES => "at the top level".to_owned(),
            Context::Main => {
                let tables: Vec<String> = self.places().iter().map(|c| c.place()).collect();
                match tables.is_empty() {
                    true => "at the top level".to_owned(),
                    false => format!("in {} or at the top level", tables.join(" or ")),
                }
            }
            other => format!("in {}", other.place()),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Action {
    type Err = String;

    fn from_str(name: &str) -> Result<Action, String> {
        Action::ALL
            .iter()
            .copied()
            .find(|a| a.name() == name)
            .ok_or_else(|| format!("unknown action {name:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for action in Action::ALL {
            assert!(seen.insert(action.name()), "{action} twice");
            assert_eq!(action.name().parse::<Action>(), Ok(*action));
        }
        assert!("fly".parse::<Action>().is_err());
        assert_eq!("container.stop".parse::<Action>(), Ok(Action::Stop));
    }
}
