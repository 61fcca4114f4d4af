//! `down` and the verbs on a project's existing containers (`start`, `stop`, `restart`,
//! `kill`, `pause`, `unpause`, `rm`), all found by their labels: they work on a project whose file is gone.

use std::time::Duration;

use super::{labels, members, step, Error, Member, Object, Progress, Project, Result};
use crate::engine::{Engine, Error as EngineError};

/// `down`'s flags.
#[derive(Debug, Default, Clone)]
pub struct DownOptions {
    /// `-v`: the project's named volumes and its containers' anonymous ones.
    pub volumes: bool,
    pub remove_images: Option<RemoveImages>,
    pub remove_orphans: bool,
    /// `-t`: seconds before the stop signal becomes SIGKILL.
    pub timeout: Option<Duration>,
}

/// `--rmi`: every image the services use, or only those without a name of their own
/// (built for the project).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveImages {
    Local,
    All,
}

/// Stops and removes one container (`force`: also running); its anonymous volumes stay.
pub(super) fn remove_member(
    engine: &Engine,
    member: &Member,
    volumes: bool,
    on: &mut dyn FnMut(Progress),
) -> Result<()> {
    remove(engine, member, volumes, None, on)
}

fn remove(
    engine: &Engine,
    member: &Member,
    volumes: bool,
    timeout: Option<Duration>,
    on: &mut dyn FnMut(Progress),
) -> Result<()> {
    let name = &member.record.name;
    let object = |e| Error::engine(format!("container {name}"), e);
    if member.is_running() {
        on(step(Object::Container, name, "Stopping"));
        engine
            .stop_container(member.record.id.as_str(), timeout, None)
            .map_err(object)?;
        on(step(Object::Container, name, "Stopped"));
    }
    on(step(Object::Container, name, "Removing"));
    match engine.remove_container(member.record.id.as_str(), true, volumes) {
        // Gone already (`--rm`, another `down`): what was asked holds.
        Ok(_) | Err(EngineError::NoSuchContainer(_)) => {}
        Err(e) => return Err(object(e)),
    }
    on(step(Object::Container, name, "Removed"));
    Ok(())
}

/// `down`: the project's containers and networks removed (its volumes with `-v`, its
/// images with `--rmi`). `model` is the loaded project when there is a file; without one
/// the labels alone say what is the project's. A project with nothing is no error.
pub fn down(
    engine: &Engine,
    name: &str,
    model: Option<&Project>,
    opts: &DownOptions,
    on: &mut dyn FnMut(Progress),
) -> Result<()> {
    let all = members(engine, name)?;
    let in_model = |m: &Member| model.is_none_or(|p| p.model.services.contains_key(&m.service));
    let orphaned = |m: &Member| model.is_some_and(|p| p.orphaned(&m.service));
    let orphans: Vec<&Member> = all.iter().filter(|m| !m.oneoff && orphaned(m)).collect();
    if !orphans.is_empty() && !opts.remove_orphans {
        let names: Vec<&str> = orphans.iter().map(|m| m.record.name.as_str()).collect();
        on(Progress::Warning(format!(
            "Found orphan containers ([{}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.",
            names.join(" ")
        )));
    }
    let going: Vec<&Member> = all
        .iter()
        .filter(|m| in_model(m) || (opts.remove_orphans && orphaned(m)) || m.oneoff)
        .collect();
    let mut images = std::collections::BTreeSet::new();
    for member in &going {
        if let Some(which) = opts.remove_images {
            let built = model.is_some_and(|p| {
                p.model
                    .services
                    .get(&member.service)
                    .is_some_and(|s| s.image.is_none())
            });
            if which == RemoveImages::All || built {
                images.insert(member.record.image.clone());
            }
        }
    }
    for level in dependants_first(&going) {
        in_parallel(&level, on, |member, report| {
            remove(engine, member, opts.volumes, opts.timeout, report)
        })?;
    }
    let networks = engine
        .list_networks()
        .map_err(|e| Error::engine("networks", e))?;
    for network in networks
        .iter()
        .filter(|n| n.labels.get(labels::PROJECT).map(String::as_str) == Some(name))
    {
        on(step(Object::Network, &network.name, "Removing"));
        match engine.destroy_network(&network.name) {
            Ok(_) | Err(EngineError::NoSuchNetwork(_)) => {}
            // Containers of services the profiles leave out (or of another project) are
            // still on it: Compose's warning, and the rest goes on.
            Err(EngineError::Conflict(_)) => {
                on(step(
                    Object::Network,
                    &network.name,
                    "Resource is still in use",
                ));
                continue;
            }
            Err(e) => return Err(Error::engine(format!("network {}", network.name), e)),
        }
        on(step(Object::Network, &network.name, "Removed"));
    }
    if opts.volumes {
        let volumes = engine
            .list_volumes()
            .map_err(|e| Error::engine("volumes", e))?;
        for volume in volumes
            .iter()
            .filter(|v| v.volume.labels.get(labels::PROJECT).map(String::as_str) == Some(name))
        {
            let vname = &volume.volume.name;
            on(step(Object::Volume, vname, "Removing"));
            match engine.remove_volume(vname, false) {
                Ok(_) | Err(EngineError::NoSuchVolume(_)) => {}
                Err(e) => return Err(Error::engine(format!("volume {vname}"), e)),
            }
            on(step(Object::Volume, vname, "Removed"));
        }
    }
    for image in images {
        on(step(Object::Image, &image, "Removing"));
        match engine.remove_image(&image, false) {
            Ok(_) | Err(EngineError::NoSuchImage(_)) => {}
            Err(e) => return Err(Error::engine(format!("image {image}"), e)),
        }
        on(step(Object::Image, &image, "Removed"));
    }
    Ok(())
}

/// `members` in waves that can stop together: each service's containers after those of
/// every service depending on it, as read from the `depends_on` labels (so this holds
/// without the compose file too).
fn dependants_first<'a>(members: &[&'a Member]) -> Vec<Vec<&'a Member>> {
    use std::collections::BTreeMap;
    let mut deps: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for m in members {
        let listed = m.record.config.labels.get(labels::DEPENDS_ON);
        let names = listed
            .iter()
            .flat_map(|l| l.split(','))
            .filter_map(|d| d.split(':').next())
            .filter(|d| !d.is_empty())
            .collect();
        deps.insert(m.service.as_str(), names);
    }
    // A service's height: 0 for one nothing depends on, else one more than its highest
    // dependant. Bounded by the number of services, so a cycle in labels can't loop.
    let mut height: BTreeMap<&str, usize> = deps.keys().map(|s| (*s, 0)).collect();
    for _ in 0..deps.len() {
        for (service, on) in &deps {
            let h = height[service];
            for dep in on {
                if let Some(dh) = height.get_mut(dep) {
                    *dh = (*dh).max(h + 1);
                }
            }
        }
    }
    let top = height.values().copied().max().unwrap_or(0);
    (0..=top)
        .map(|h| {
            members
                .iter()
                .copied()
                .filter(|m| height.get(m.service.as_str()) == Some(&h))
                .collect::<Vec<_>>()
        })
        .filter(|wave| !wave.is_empty())
        .collect()
}

/// `work` on each member at once (a stop waits out its timeout: ten containers ignoring
/// SIGTERM take ten seconds, not a hundred), their progress passed on as it comes; the
/// first error is returned once all are done.
fn in_parallel(
    members: &[&Member],
    on: &mut dyn FnMut(Progress),
    work: impl Fn(&Member, &mut dyn FnMut(Progress)) -> Result<()> + Sync,
) -> Result<()> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        let handles: Vec<_> = members
            .iter()
            .map(|member| {
                let tx = tx.clone();
                let work = &work;
                scope.spawn(move || {
                    let mut report = |p: Progress| {
                        let _ = tx.send(p);
                    };
                    work(member, &mut report)
                })
            })
            .collect();
        drop(tx);
        for progress in rx {
            on(progress);
        }
        let mut outcome = Ok(());
        for handle in handles {
            let done = handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            if outcome.is_ok() {
                outcome = done;
            }
        }
        outcome
    })
}

/// A lifecycle verb on the project's containers.
#[derive(Debug, Clone, Copy)]
pub enum Verb {
    Start,
    Stop(Option<Duration>),
    Restart(Option<Duration>),
    Kill(nix::sys::signal::Signal),
    Pause,
    Unpause,
    /// `rm`: stopped containers (running ones too with `stop`), `volumes` their anonymous
    /// volumes.
    Rm {
        stop: bool,
        volumes: bool,
    },
}

/// `verb` on the containers of `services` (all when empty) of project `name`.
pub fn run_verb(
    engine: &Engine,
    name: &str,
    services: &[String],
    verb: Verb,
    on: &mut dyn FnMut(Progress),
) -> Result<()> {
    let chosen: Vec<Member> = members(engine, name)?
        .into_iter()
        .filter(|m| !m.oneoff && (services.is_empty() || services.contains(&m.service)))
        .collect();
    if let Verb::Stop(timeout) = verb {
        let running: Vec<&Member> = chosen.iter().filter(|m| m.is_running()).collect();
        for wave in dependants_first(&running) {
            in_parallel(&wave, on, |member, report| {
                let cname = &member.record.name;
                report(step(Object::Container, cname, "Stopping"));
                engine
                    .stop_container(member.record.id.as_str(), timeout, None)
                    .map_err(|e| Error::engine(format!("container {cname}"), e))?;
                report(step(Object::Container, cname, "Stopped"));
                Ok(())
            })?;
        }
        return Ok(());
    }
    for member in &chosen {
        let cname = &member.record.name;
        let id = member.record.id.as_str();
        let object = |e| Error::engine(format!("container {cname}"), e);
        match verb {
            Verb::Start if !member.is_running() => {
                on(step(Object::Container, cname, "Starting"));
                engine.start_container(id).map_err(object)?.detach();
                on(step(Object::Container, cname, "Started"));
            }
            Verb::Restart(timeout) => {
                on(step(Object::Container, cname, "Restarting"));
                engine
                    .restart_container(id, timeout, None)
                    .map_err(object)?;
                on(step(Object::Container, cname, "Started"));
            }
            Verb::Kill(signal) if member.is_running() => {
                on(step(Object::Container, cname, "Killing"));
                engine.kill_container(id, signal).map_err(object)?;
                on(step(Object::Container, cname, "Killed"));
            }
            Verb::Pause if member.is_running() && !member.record.state.is_paused() => {
                engine.pause_container(id).map_err(object)?;
                on(step(Object::Container, cname, "Paused"));
            }
            Verb::Unpause if member.record.state.is_paused() => {
                engine.unpause_container(id).map_err(object)?;
                on(step(Object::Container, cname, "Unpaused"));
            }
            Verb::Rm { stop, volumes } if stop || !member.is_running() => {
                remove(engine, member, volumes, None, on)?;
            }
            _ => {}
        }
    }
    Ok(())
}
