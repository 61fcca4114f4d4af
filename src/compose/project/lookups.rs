//! What a project's containers answer: a service's published port (`port`), their exit
//! codes (`wait`) and which engine events are the project's (`events`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{labels, members, service_container, Error, Result};
use crate::engine::{Engine, Event, ObjectType, Proto};

/// `port SERVICE PRIVATE_PORT`: the host side (`0.0.0.0:8080`) of `port`/`protocol` on
/// the service's container `index` (the first running one when `None`).
pub fn port(
    engine: &Engine,
    name: &str,
    service: &str,
    port: u16,
    protocol: Proto,
    index: Option<u32>,
) -> Result<String> {
    let member = service_container(engine, name, service, index, false)?;
    let ports = &member.record.state.ports;
    let wanted = format!("{port}/{protocol}");
    let found = crate::ops::ports::port_lines_for(ports, &wanted)
        .map_err(|e| Error::engine(format!("port {wanted}"), e))?;
    match found.into_iter().next() {
        Some(host) => Ok(host),
        None => {
            let listed: Vec<String> = ports
                .iter()
                .map(|m| format!("{}/{}", m.container_port, m.proto))
                .collect();
            Err(Error::NotRunning(format!(
                "no port {wanted} for container {}: {}",
                member.record.name,
                listed.join(", ")
            )))
        }
    }
}

/// `wait SERVICE...`: blocks until every running container of `services` has exited,
/// telling `exited` of each as it does; returns the code of the last to exit, as Docker
/// Compose's. No running container is an error.
pub fn wait(
    engine: &Engine,
    name: &str,
    services: &[String],
    exited: &mut dyn FnMut(&str, i32),
) -> Result<i32> {
    let running: Vec<String> = members(engine, name)?
        .into_iter()
        .filter(|m| m.is_running() && (services.is_empty() || services.contains(&m.service)))
        .map(|m| m.record.id.to_string())
        .collect();
    if running.is_empty() {
        return Err(Error::NotRunning(format!(
            "no containers for project {name:?}"
        )));
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        for id in &running {
            let tx = tx.clone();
            scope.spawn(move || {
                let _ = tx.send((id.clone(), engine.wait_container(id)));
            });
        }
        drop(tx);
        let mut last = Ok(0);
        for (id, outcome) in rx {
            match outcome {
                Ok(code) => {
                    exited(&id, code);
                    if last.is_ok() {
                        last = Ok(code);
                    }
                }
                Err(e) => last = Err(Error::engine(format!("container {id}"), e)),
            }
        }
        last
    })
}

/// An engine event as `compose events` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectEvent {
    pub time: DateTime<Utc>,
    pub service: String,
    /// The container's ID.
    pub container: String,
    pub action: String,
    /// The event's attributes but Compose's own labels.
    pub attributes: BTreeMap<String, String>,
}

/// `event` as project `name`'s, if it is one: a container event of one of its services
/// (`services`, or any), one-off containers left out, as Docker Compose's.
pub fn event_of(event: &Event, name: &str, services: &[String]) -> Option<ProjectEvent> {
    let attributes = &event.actor.attributes;
    let wanted = event.object == ObjectType::Container
        && attributes.get(labels::PROJECT).map(String::as_str) == Some(name)
        && attributes.get(labels::ONEOFF).map(String::as_str) != Some("True");
    let service = attributes.get(labels::SERVICE).cloned().unwrap_or_default();
    if !wanted || !(services.is_empty() || services.contains(&service)) {
        return None;
    }
    Some(ProjectEvent {
        time: event.when(),
        service,
        container: event.actor.id.clone(),
        action: event.action.clone(),
        attributes: attributes
            .iter()
            .filter(|(k, _)| !k.starts_with("com.docker.compose."))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    })
}
