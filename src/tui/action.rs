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
    Quit => "quit", "Quit berth";
    Help => "help", "Show this help";
    Back => "back", "Close the popup or detail, clear the filter";
    Up => "up", "Move up";
    Down => "down", "Move down";
    PageUp => "page_up", "Move a page up";
    PageDown => "page_down", "Move a page down";
    Top => "top", "Go to the first row";
    Bottom => "bottom", "Go to the last row";
    NextView => "next_view", "Next pane";
    PrevView => "prev_view", "Previous pane";
    ShowContainers => "containers", "Containers pane";
    ShowImages => "images", "Images pane";
    ShowVolumes => "volumes", "Volumes pane";
    ShowNetworks => "networks", "Networks pane";
    ShowEvents => "events", "Events pane";
    Open => "open", "Open the selected row's detail";
    NextTab => "next_tab", "Next detail tab";
    PrevTab => "prev_tab", "Previous detail tab";
    Filter => "filter", "Filter rows by text";
    ToggleAll => "toggle_all", "Show all containers or running only";
    Sort => "sort", "Sort by the next column";
    Mark => "mark", "Mark the row for a bulk action";
    Start => "start", "Start the container(s)";
    Stop => "stop", "Stop the container(s)";
    Restart => "restart", "Restart the container(s)";
    Kill => "kill", "Kill the container(s)";
    Remove => "remove", "Remove the selected object(s)";
    Exec => "exec", "Open a shell in the container";
    RunNew => "run", "Run a new container (a form; from the selected image)";
    Command => "command", "Run a berth command (:run -d img, :volume create x)";
    Refresh => "refresh", "Reload everything from the engine";
    ToggleScope => "scope", "Layer view: this layer alone or the image so far";
    ChangesOnly => "changes_only", "Layer view and diff: only what changed";
    Pause => "pause", "Logs: pause or resume following";
    Wrap => "wrap", "Logs: wrap long lines";
    NextMatch => "next_match", "Logs: next line matching the filter";
    PrevMatch => "prev_match", "Logs: previous line matching the filter";
    Files => "files", "Host and container files side by side (tab: pane)";
    Parent => "parent", "Files: up a directory (enter opens one)";
    CopyFiles => "copy_files", "Files: copy marked/selected to the other pane";
    CancelCopy => "cancel_copy", "Files: cancel the copy under way";
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
    }
}
