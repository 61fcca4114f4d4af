//! The spare cgroup: `berth/spare` in every v1 hierarchy, made with Docker's default
//! device rules while nothing waits on it (by a monitor whose container is gone), and
//! taken by the next container's start with one `rename(2)` per hierarchy instead of a
//! `mkdir` and a dozen writes under the kernel's cgroup mutex.
//!
//! A spare is never used: only empty cgroups are made spares, never a container's old one,
//! whose counters (CPU time, memory charged, OOM counts) would carry over to the next.
//!
//! Only v1 hierarchies have spares: cgroup v2 refuses renames. The start makes its v2
//! directory itself (in the hybrid layout a bare `mkdir`, as that tree has no controllers);
//! on a pure v2 host there are no spares.
//!
//! Several processes make and take spares at once, with no lock between them; the order
//! of the renames keeps a spare whole for whoever takes it:
//! - a maker builds its spare under a name of its own (`spare-making-<pid>-<n>`), then
//!   renames it to `spare` from the last hierarchy to the first, and gives up at the
//!   first name taken;
//! - a taker renames from the first hierarchy to the last: once it has the first, every
//!   other hierarchy's `spare` is that same maker's, named before the first was.
//!
//! A kill midway can leave a part: a taker finds it incomplete and makes its cgroup
//! instead; `system check` reports such parts and removes them.

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::{Cgroup, DeviceDefaults, Hierarchy, PARENT};
use crate::container::record::ProcessHandle;
use crate::error::{Context, Result};

/// The spare's name under its parent. Never a container's: IDs are hex.
const SPARE: &str = "spare";
/// The prefix of a spare in the making, followed by `<pid>-<n>` of its maker.
const MAKING: &str = "spare-making-";

/// Whether a spare covers this hierarchy: v2 refuses renames.
pub(super) fn covers(h: &Hierarchy) -> bool {
    matches!(h, Hierarchy::V1 { .. })
}

fn covered(hierarchies: &[Hierarchy]) -> Vec<Hierarchy> {
    hierarchies.iter().filter(|h| covers(h)).cloned().collect()
}

fn parent_in(h: &Hierarchy, parent: &str) -> PathBuf {
    Cgroup::mount_of(h).join(parent)
}

/// Takes the spare under `berth/` as the cgroup at `path` in the hierarchies it covers.
pub(super) fn take(hierarchies: &[Hierarchy], path: &str) -> Option<Cgroup> {
    take_from(hierarchies, PARENT, path)
}

/// Makes a spare under `berth/` if there is none.
pub(super) fn make(hierarchies: &[Hierarchy]) -> Result<()> {
    make_in(hierarchies, PARENT)
}

/// What `system check` finds of the spare under `berth/`, as cgroup paths below every
/// hierarchy's root (see [`leftovers_in`]).
pub(crate) fn leftovers() -> Vec<String> {
    leftovers_in(&Cgroup::hierarchies(), PARENT)
}

/// Takes the spare under `parent` as the cgroup at `path`: Some when every covered
/// hierarchy's was renamed; None when there is no whole spare. A part of one that a kill
/// left may have been renamed to `path` in some hierarchies then: [`Cgroup::create`]
/// makes the rest around them, as it takes what exists.
fn take_from(hierarchies: &[Hierarchy], parent: &str, path: &str) -> Option<Cgroup> {
    let covered = covered(hierarchies);
    if covered.is_empty() {
        return None;
    }
    let mut taken = Vec::with_capacity(covered.len());
    for h in covered {
        let to = Cgroup::mount_of(&h).join(path);
        fs::rename(parent_in(&h, parent).join(SPARE), &to).ok()?;
        taken.push((h, to));
    }
    Some(Cgroup { dirs: taken })
}

/// Makes a spare under `parent` if the first covered hierarchy has none; when another
/// process names its spare meanwhile, that one stays and this one is removed (an error).
fn make_in(hierarchies: &[Hierarchy], parent: &str) -> Result<()> {
    static MADE: AtomicU32 = AtomicU32::new(0);
    let covered = covered(hierarchies);
    let Some(first) = covered.first() else {
        return Ok(());
    };
    if parent_in(first, parent).join(SPARE).exists() {
        return Ok(());
    }
    let name = format!(
        "{MAKING}{}-{}",
        std::process::id(),
        MADE.fetch_add(1, Ordering::Relaxed)
    );
    let mut making = Cgroup { dirs: Vec::new() };
    let made = making
        .create_dirs_in(&covered, &format!("{parent}/{name}"))
        // Only v1 directories: where no devices controller is, nothing is written.
        .and_then(|()| making.allow_devices(&[], DeviceDefaults::Unset))
        .and_then(|()| publish(&mut making));
    if made.is_err() {
        // Ours only: a part already named `spare` goes too, as it can't be whole. What
        // can't be removed is `system check`'s to find (see [`leftovers_in`]).
        let _ = making.remove();
    }
    made
}

/// Renames the spare in the making to `spare`, last hierarchy first. `making` keeps the
/// current name of each directory, for its removal on a failure.
fn publish(making: &mut Cgroup) -> Result<()> {
    for (_, dir) in making.dirs.iter_mut().rev() {
        let spare = dir.with_file_name(SPARE);
        fs::rename(&*dir, &spare).context(|| format!("naming {} the spare", dir.display()))?;
        *dir = spare;
    }
    Ok(())
}

/// The spare's pieces under `parent` that no process will finish: those in the making
/// whose maker is gone, and a spare that is not whole (in some covered hierarchies, not
/// all) and stays so.
fn leftovers_in(hierarchies: &[Hierarchy], parent: &str) -> Vec<String> {
    let covered = covered(hierarchies);
    let mut found = Vec::new();
    let incomplete = || {
        let present = covered
            .iter()
            .filter(|h| parent_in(h, parent).join(SPARE).is_dir())
            .count();
        present != 0 && present != covered.len()
    };
    // A spare is incomplete for the moment another process names or takes it: one that
    // stays so a while is a kill's leftover.
    if incomplete() && {
        std::thread::sleep(Duration::from_millis(100));
        incomplete()
    } {
        found.push(format!("{parent}/{SPARE}"));
    }
    for h in &covered {
        let Ok(entries) = fs::read_dir(parent_in(h, parent)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(maker) = name.to_str().and_then(|n| n.strip_prefix(MAKING)) else {
                continue;
            };
            let pid = maker.split('-').next().unwrap_or_default();
            let maker_alive = pid
                .parse::<i32>()
                .ok()
                .and_then(ProcessHandle::of)
                .is_some_and(|maker| maker.is_alive());
            let path = format!("{parent}/{}", name.to_string_lossy());
            if !maker_alive && !found.contains(&path) {
                found.push(path);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parent cgroup of the test's own in every hierarchy, removed with all below it.
    struct TestParent {
        hierarchies: Vec<Hierarchy>,
        name: String,
    }

    impl TestParent {
        /// None (the test skipped) without root or without a v1 hierarchy.
        fn new(test: &str) -> Option<TestParent> {
            let hierarchies = Cgroup::hierarchies();
            if !nix::unistd::geteuid().is_root() || covered(&hierarchies).is_empty() {
                eprintln!("skipped: spares need root and cgroup v1");
                return None;
            }
            let name = format!("berth-test-{test}-{}", std::process::id());
            Some(TestParent { hierarchies, name })
        }

        fn dir(&self, h: &Hierarchy, child: &str) -> PathBuf {
            parent_in(h, &self.name).join(child)
        }

        fn children(&self, h: &Hierarchy) -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(parent_in(h, &self.name))
                .map(|entries| {
                    entries
                        .flatten()
                        .filter(|e| e.path().is_dir())
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            names.sort();
            names
        }
    }

    impl Drop for TestParent {
        fn drop(&mut self) {
            for h in &self.hierarchies {
                for child in self.children(h) {
                    let _ = fs::remove_dir(self.dir(h, &child));
                }
                let _ = fs::remove_dir(parent_in(h, &self.name));
            }
        }
    }

    fn devices_list(cgroup: &Cgroup) -> Option<String> {
        let (_, dir) = cgroup.dir_with("devices")?;
        fs::read_to_string(dir.join("devices.list")).ok()
    }

    #[test]
    fn a_spare_is_taken_whole_with_the_default_device_rules_and_once() {
        let Some(test) = TestParent::new("spare-take") else {
            return;
        };
        let covered = covered(&test.hierarchies);
        make_in(&test.hierarchies, &test.name).unwrap();
        for h in &covered {
            assert_eq!(test.children(h), [SPARE], "{h:?}");
        }
        // A second call finds it and makes nothing.
        make_in(&test.hierarchies, &test.name).unwrap();

        let path = format!("{}/taken", test.name);
        let taken = take_from(&test.hierarchies, &test.name, &path).unwrap();
        assert_eq!(taken.dirs.len(), covered.len());
        for (h, dir) in &taken.dirs {
            assert_eq!(*dir, test.dir(h, "taken"));
            assert_eq!(test.children(h), ["taken"], "{h:?}");
        }
        // The rules are those a cgroup made afresh gets.
        let mut fresh = Cgroup { dirs: Vec::new() };
        fresh
            .create_dirs_in(&covered, &format!("{}/fresh", test.name))
            .unwrap();
        fresh.allow_devices(&[], DeviceDefaults::Unset).unwrap();
        assert_eq!(devices_list(&taken), devices_list(&fresh));
        if let Some(list) = devices_list(&taken) {
            assert!(list.contains("c 1:3 rwm"), "{list}");
            assert!(!list.contains("a *:* rwm"), "{list}");
        }
        // Taken once only.
        assert!(take_from(
            &test.hierarchies,
            &test.name,
            &format!("{}/again", test.name)
        )
        .is_none());
        assert!(leftovers_in(&test.hierarchies, &test.name).is_empty());
    }

    #[test]
    fn makers_and_takers_at_once_never_share_or_split_a_spare() {
        let Some(test) = TestParent::new("spare-race") else {
            return;
        };
        let covered = covered(&test.hierarchies).len();
        let taken: usize = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|worker| {
                    let test = &test;
                    s.spawn(move || {
                        let mut taken = 0;
                        for round in 0..40 {
                            // Losing a race to name the spare is an error, and expected.
                            let _ = make_in(&test.hierarchies, &test.name);
                            let path = format!("{}/w{worker}-{round}", test.name);
                            if let Some(mut cgroup) =
                                take_from(&test.hierarchies, &test.name, &path)
                            {
                                assert_eq!(cgroup.dirs.len(), covered);
                                assert!(cgroup.dirs.iter().all(|(_, dir)| dir.is_dir()));
                                cgroup.remove().unwrap();
                                taken += 1;
                            }
                        }
                        taken
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).sum()
        });
        assert!(taken > 0, "no spare was ever taken");
        // What is left is at most one whole spare: no part, nothing in the making.
        assert!(leftovers_in(&test.hierarchies, &test.name).is_empty());
        let first = test.children(&covered_of(&test)[0]);
        for h in covered_of(&test) {
            assert_eq!(test.children(&h), first, "{h:?}");
            assert!(first.is_empty() || first == [SPARE], "{first:?}");
        }
    }

    fn covered_of(test: &TestParent) -> Vec<Hierarchy> {
        covered(&test.hierarchies)
    }

    #[test]
    fn what_a_kill_leaves_is_found_and_neither_taken_nor_built_on() {
        let Some(test) = TestParent::new("spare-kill") else {
            return;
        };
        let covered = covered(&test.hierarchies);
        let last = covered.last().unwrap();
        // A maker killed after naming its spare in the last hierarchy only, and one
        // killed while making (a pid above the kernel's limit is nobody's).
        make_in(&test.hierarchies, &test.name).unwrap();
        for h in &covered[..covered.len() - 1] {
            fs::remove_dir(test.dir(h, SPARE)).unwrap();
        }
        let dead_maker = format!("{MAKING}{}-0", 1 << 23);
        fs::create_dir(test.dir(last, &dead_maker)).unwrap();

        let mut found = leftovers_in(&test.hierarchies, &test.name);
        found.sort();
        let mut expected = vec![
            format!("{}/{dead_maker}", test.name),
            format!("{}/{SPARE}", test.name),
        ];
        expected.sort();
        assert_eq!(found, expected);
        // No taker gets a part (when the first hierarchy has none, nothing is renamed) ...
        if covered.len() > 1 {
            let path = format!("{}/taker", test.name);
            assert!(take_from(&test.hierarchies, &test.name, &path).is_none());
            assert!(!test.dir(last, "taker").exists());
        }
        // ... and no maker publishes over one: it gives up and leaves nothing of its own.
        if covered.len() > 1 {
            assert!(make_in(&test.hierarchies, &test.name).is_err());
            for h in &covered {
                let mine = format!("{MAKING}{}-", std::process::id());
                assert!(
                    !test.children(h).iter().any(|c| c.starts_with(&mine)),
                    "{h:?}: {:?}",
                    test.children(h)
                );
            }
        }
    }
}
