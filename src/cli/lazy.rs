//! Subcommands whose flags clap learns only when the command line names them.
//!
//! clap builds its whole command tree before it parses: every flag of every verb,
//! allocated and laid out at each start, which took about as long as the rest of a
//! `run`'s work on the CLI's side. Wrapped in [`Lazy`] (one verb's flags) or
//! [`LazyGroup`] (a group of verbs), a subcommand's part of the tree is built only when
//! that subcommand is the one given (clap's `Command::defer`); help, completions and
//! the manual page build the whole tree as before.

use std::ops::{Deref, DerefMut};

use clap::{ArgMatches, Args, Command, FromArgMatches, Subcommand};

/// One verb's flags, added to clap's tree only when the verb is parsed.
#[derive(Debug, Clone, Default)]
pub struct Lazy<T>(pub T);

/// A group of verbs (`berth image …`), added to clap's tree only when the group is
/// parsed.
#[derive(Debug, Clone)]
pub struct LazyGroup<T>(pub T);

impl<T> Deref for Lazy<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Lazy<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T> Deref for LazyGroup<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Both wrappers read their matches as what they wrap.
macro_rules! from_matches_as_inner {
    ($wrapper:ident) => {
        impl<T: FromArgMatches> FromArgMatches for $wrapper<T> {
            fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
                T::from_arg_matches(matches).map($wrapper)
            }
            fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
                T::from_arg_matches_mut(matches).map($wrapper)
            }
            fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
                self.0.update_from_arg_matches(matches)
            }
            fn update_from_arg_matches_mut(
                &mut self,
                matches: &mut ArgMatches,
            ) -> Result<(), clap::Error> {
                self.0.update_from_arg_matches_mut(matches)
            }
        }
    };
}

from_matches_as_inner!(Lazy);
from_matches_as_inner!(LazyGroup);

impl<T: Args> Args for Lazy<T> {
    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }
    fn augment_args(cmd: Command) -> Command {
        cmd.defer(keeping_about::<T, false>)
    }
    fn augment_args_for_update(cmd: Command) -> Command {
        cmd.defer(keeping_about::<T, true>)
    }
}

/// The verb's flags, then the verb's own about again. Built eagerly, the flags came
/// first and the verb's about (its doc line in the list of verbs) after, over the one
/// the flags' struct brings.
fn keeping_about<T: Args, const UPDATE: bool>(cmd: Command) -> Command {
    about_over(cmd, |cmd| {
        if UPDATE {
            T::augment_args_for_update(cmd)
        } else {
            T::augment_args(cmd)
        }
    })
}

/// A group's verbs, then the group's own about again (see [`keeping_about`]).
fn group_keeping_about<T: Subcommand, const UPDATE: bool>(cmd: Command) -> Command {
    about_over(cmd, |cmd| {
        if UPDATE {
            T::augment_subcommands_for_update(cmd)
        } else {
            T::augment_subcommands(cmd)
        }
    })
}

/// `augment(cmd)` with `cmd`'s about and long about, where it had one, put back over
/// what `augment` set.
fn about_over(cmd: Command, augment: impl FnOnce(Command) -> Command) -> Command {
    let about = cmd.get_about().cloned();
    let long_about = cmd.get_long_about().cloned();
    let cmd = augment(cmd);
    match (about, long_about) {
        (Some(about), Some(long)) => cmd.about(about).long_about(long),
        (Some(about), None) => cmd.about(about).long_about(None),
        (None, _) => cmd,
    }
}

impl<T: Subcommand> Subcommand for LazyGroup<T> {
    fn augment_subcommands(cmd: Command) -> Command {
        cmd.defer(group_keeping_about::<T, false>)
    }
    fn augment_subcommands_for_update(cmd: Command) -> Command {
        cmd.defer(group_keeping_about::<T, true>)
    }
    fn has_subcommand(name: &str) -> bool {
        T::has_subcommand(name)
    }
}
