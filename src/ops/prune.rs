//! Docker's prunes, one per object kind, behind one confirmation policy: the prune
//! builds Docker's warning, the front door asks it (a terminal prompt, the dashboard's
//! popup) or says `-f`. As docker/cli, where every prune goes through one prompt.

use crate::engine::{Context, Engine, Pruned, Result};

/// What a prune removes, with the flags that widen it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prune {
    /// `container prune`: every container not running.
    Containers,
    /// `image prune [-a]`: dangling images, or every image no container uses.
    Images { all: bool },
    /// `volume prune [-a]`: unused anonymous volumes, or every unused volume.
    Volumes { all: bool },
    /// `network prune`: custom networks no container uses.
    Networks,
    /// `system prune [-a] [--volumes]`: all of the above, in Docker's order.
    System { all: bool, volumes: bool },
}

/// Who decides whether a prune goes ahead.
pub enum Confirm<'a> {
    /// `-f`: nothing is asked.
    Yes,
    /// Asked with Docker's whole prompt (the warning and "Are you sure you want to
    /// continue?"); only `Ok(true)` goes ahead, so a front door that can't ask says no.
    Ask(&'a mut dyn FnMut(&str) -> std::io::Result<bool>),
}

impl Prune {
    /// Docker's warning, word for word: what the prune will remove.
    pub fn warning(self) -> String {
        match self {
            Prune::Containers => "WARNING! This will remove all stopped containers.".to_owned(),
            Prune::Images { all } => format!(
                "WARNING! This will remove all {}.",
                if all {
                    "images without at least one container associated to them"
                } else {
                    "dangling images"
                }
            ),
            Prune::Volumes { all } => format!(
                "WARNING! This will remove {} not used by at least one container.",
                if all {
                    "all local volumes"
                } else {
                    "anonymous local volumes"
                }
            ),
            Prune::Networks => {
                "WARNING! This will remove all custom networks not used by at least one container."
                    .to_owned()
            }
            Prune::System { all, volumes } => {
                let mut warning = String::from(
                    "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n",
                );
                if volumes {
                    warning
                        .push_str("  - all anonymous volumes not used by at least one container\n");
                }
                warning.push_str(if all {
                    "  - all images without at least one container associated to them\n"
                } else {
                    "  - all dangling images\n"
                });
                warning
            }
        }
    }

    /// The whole question a front door asks before the prune.
    pub fn prompt(self) -> String {
        format!("{}\nAre you sure you want to continue?", self.warning())
    }

    /// Whether Docker reports the space freed ("Total reclaimed space"): not for
    /// networks, which hold none.
    pub fn reports_space(self) -> bool {
        self != Prune::Networks
    }
}

/// Runs the prune if `confirm` allows it: `None` when the answer was no (nothing was
/// removed), otherwise what was removed, in the fields of its kind.
pub fn prune(engine: &Engine, what: Prune, confirm: Confirm<'_>) -> Result<Option<Pruned>> {
    if let Confirm::Ask(ask) = confirm {
        if !ask(&what.prompt()).context(|| "asking to confirm the prune".into())? {
            return Ok(None);
        }
    }
    let pruned = match what {
        Prune::Containers => {
            let (containers, reclaimed) = engine.prune_containers()?;
            Pruned {
                containers,
                reclaimed,
                ..Pruned::default()
            }
        }
        Prune::Images { all } => {
            let (images, reclaimed) = engine.prune_images(all)?;
            Pruned {
                images,
                reclaimed,
                ..Pruned::default()
            }
        }
        Prune::Volumes { all } => {
            let (volumes, reclaimed) = engine.prune_volumes(all)?;
            Pruned {
                volumes,
                reclaimed,
                ..Pruned::default()
            }
        }
        Prune::Networks => Pruned {
            networks: engine
                .prune_and_unwire_networks()?
                .into_iter()
                .map(|n| n.name)
                .collect(),
            ..Pruned::default()
        },
        Prune::System { all, volumes } => engine.prune_system(all, volumes)?,
    };
    Ok(Some(pruned))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Prune; 9] = [
        Prune::Containers,
        Prune::Images { all: false },
        Prune::Images { all: true },
        Prune::Volumes { all: false },
        Prune::Volumes { all: true },
        Prune::Networks,
        Prune::System {
            all: false,
            volumes: false,
        },
        Prune::System {
            all: true,
            volumes: true,
        },
        Prune::System {
            all: false,
            volumes: true,
        },
    ];

    #[test]
    fn warnings_are_dockers_words_for_each_kind_and_flag() {
        let texts: Vec<String> = ALL.iter().map(|p| p.prompt()).collect();
        insta::assert_snapshot!(texts.join("\n---\n"), @r"
        WARNING! This will remove all stopped containers.
        Are you sure you want to continue?
        ---
        WARNING! This will remove all dangling images.
        Are you sure you want to continue?
        ---
        WARNING! This will remove all images without at least one container associated to them.
        Are you sure you want to continue?
        ---
        WARNING! This will remove anonymous local volumes not used by at least one container.
        Are you sure you want to continue?
        ---
        WARNING! This will remove all local volumes not used by at least one container.
        Are you sure you want to continue?
        ---
        WARNING! This will remove all custom networks not used by at least one container.
        Are you sure you want to continue?
        ---
        WARNING! This will remove:
          - all stopped containers
          - all networks not used by at least one container
          - all dangling images

        Are you sure you want to continue?
        ---
        WARNING! This will remove:
          - all stopped containers
          - all networks not used by at least one container
          - all anonymous volumes not used by at least one container
          - all images without at least one container associated to them

        Are you sure you want to continue?
        ---
        WARNING! This will remove:
          - all stopped containers
          - all networks not used by at least one container
          - all anonymous volumes not used by at least one container
          - all dangling images

        Are you sure you want to continue?
        ");
    }

    #[test]
    fn only_networks_report_no_space() {
        for p in ALL {
            assert_eq!(p.reports_space(), p != Prune::Networks, "{p:?}");
        }
    }

    /// An engine root holding one unused named volume (records only: no root needed).
    fn engine_with_volume() -> (tempfile::TempDir, Engine) {
        let dir = tempfile::tempdir().expect("temp dir");
        let engine = Engine::open(dir.path()).expect("engine");
        engine
            .create_volume(Some("vol"), Default::default())
            .expect("volume");
        (dir, engine)
    }

    #[test]
    fn no_answer_deletes_nothing_and_asks_with_the_whole_prompt() {
        let (_dir, engine) = engine_with_volume();
        for what in [
            Prune::Volumes { all: true },
            Prune::System {
                all: true,
                volumes: true,
            },
        ] {
            let mut asked = Vec::new();
            let mut no = |q: &str| {
                asked.push(q.to_owned());
                Ok(false)
            };
            let out = prune(&engine, what, Confirm::Ask(&mut no)).expect("prune");
            assert!(out.is_none(), "{what:?}");
            assert_eq!(asked, [what.prompt()]);
            assert_eq!(engine.list_volumes().expect("volumes").len(), 1, "{what:?}");
        }
        // A front door that could not ask (its input failed) deletes nothing either.
        let mut broken = |_: &str| Err(std::io::Error::other("no terminal"));
        let what = Prune::Volumes { all: true };
        assert!(prune(&engine, what, Confirm::Ask(&mut broken)).is_err());
        assert_eq!(engine.list_volumes().expect("volumes").len(), 1);
    }

    #[test]
    fn yes_and_forced_prunes_delete() {
        let (_dir, engine) = engine_with_volume();
        let mut yes = |_: &str| Ok(true);
        let what = Prune::Volumes { all: true };
        let pruned = prune(&engine, what, Confirm::Ask(&mut yes))
            .expect("prune")
            .expect("went ahead");
        assert_eq!(pruned.volumes, ["vol"]);
        assert!(engine.list_volumes().expect("volumes").is_empty());
        engine
            .create_volume(Some("other"), Default::default())
            .expect("volume");
        let pruned = prune(&engine, what, Confirm::Yes)
            .expect("prune")
            .expect("went ahead");
        assert_eq!(pruned.volumes, ["other"]);
    }
}
