//! Docker's multi-object verbs (`stop a b c`, `rm`, `image rm`, `volume inspect` ...):
//! act on each name in the order given, go on past a failure, and report every name's
//! outcome; the verb fails if any name failed. The front door renders each outcome (the
//! CLI a line or `Error: ...`; an API a JSON entry).

use std::fmt::Display;

use crate::engine::Error;

/// What happened to one of the names a verb was given.
#[derive(Debug)]
pub enum Outcome<T, E = Error> {
    Done(T),
    /// Reported, but the verb still succeeds (Docker's `rm -f` of a missing container).
    Excused(E),
    Failed(E),
}

/// One name and its outcome.
#[derive(Debug)]
pub struct Named<'a, T, E = Error> {
    pub name: &'a str,
    pub outcome: Outcome<T, E>,
}

impl<T, E> From<Result<T, E>> for Outcome<T, E> {
    fn from(result: Result<T, E>) -> Self {
        match result {
            Ok(value) => Outcome::Done(value),
            Err(e) => Outcome::Failed(e),
        }
    }
}

impl<T, E> Outcome<T, E> {
    /// A failure `excused` allows becomes [`Outcome::Excused`].
    pub fn excusing(self, excused: impl FnOnce(&E) -> bool) -> Self {
        match self {
            Outcome::Failed(e) if excused(&e) => Outcome::Excused(e),
            other => other,
        }
    }
}

/// Acts on each name in turn, lazily, so a front door reports each one as it is done
/// (a `stop` of ten containers shows each as it stops, not all at the end).
pub fn each<'a, T, E, F>(
    names: &'a [String],
    mut action: F,
) -> impl Iterator<Item = Named<'a, T, E>>
where
    E: Display,
    F: FnMut(&str) -> Result<T, E>,
{
    names.iter().map(move |name| Named {
        name,
        outcome: action(name).into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn every_name_is_tried_in_order_past_failures() {
        let names = names(&["a", "missing", "b"]);
        let mut tried = Vec::new();
        let results: Vec<_> = each(&names, |n| {
            tried.push(n.to_owned());
            if n == "missing" {
                Err(Error::NoSuchContainer(n.into()))
            } else {
                Ok(n.len())
            }
        })
        .collect();
        assert_eq!(tried, names);
        let shown: Vec<String> = results
            .iter()
            .map(|r| match &r.outcome {
                Outcome::Done(v) => format!("{} done {v}", r.name),
                Outcome::Excused(e) => format!("{} excused {e}", r.name),
                Outcome::Failed(e) => format!("{} failed {e}", r.name),
            })
            .collect();
        assert_eq!(
            shown,
            [
                "a done 1",
                "missing failed No such container: missing",
                "b done 1"
            ]
        );
    }

    #[test]
    fn names_are_acted_on_one_at_a_time() {
        let names = names(&["a", "b"]);
        let mut calls = 0;
        let mut results = each(&names, |_| {
            calls += 1;
            Ok::<_, Error>(())
        });
        let first = results.next().map(|r| r.name);
        drop(results);
        // Stopping after the first (`start -a` attaches to it) leaves the rest untouched.
        assert_eq!((first, calls), (Some("a"), 1));
    }

    #[test]
    fn excusing_turns_only_the_allowed_failures() {
        let missing = |e: &Error| matches!(e, Error::NoSuchContainer(_));
        let out: Outcome<(), Error> = Err(Error::NoSuchContainer("x".into())).into();
        assert!(matches!(out.excusing(missing), Outcome::Excused(_)));
        let out: Outcome<(), Error> = Err(Error::Conflict("running".into())).into();
        assert!(matches!(out.excusing(missing), Outcome::Failed(_)));
        let out: Outcome<(), Error> = Ok(()).into();
        assert!(matches!(out.excusing(missing), Outcome::Done(())));
    }
}
