//! A project's images: those its containers run (`images`), those `pull` fetches and
//! those `push` sends, each as Docker Compose chooses them; the front door does the
//! transfer itself (with its progress).

use super::up::Pull;
use super::{members, step, Error, Object, Progress, Project, Result};
use crate::engine::{Engine, ImageRef};

/// One line of `compose images`: a container and the image it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUse {
    pub container: String,
    /// Empty for an image with no name left (Compose prints `<none>`).
    pub repository: String,
    pub tag: String,
    /// `sha256:...`.
    pub id: String,
    pub size: u64,
    /// `os/architecture`, as the image's config says (empty when unreadable).
    pub platform: String,
    /// RFC 3339, as the image's config says.
    pub created: Option<String>,
}

/// The images of project `name`'s containers (one-off ones too, as Compose's), by
/// container name; only `services`' when some are named.
pub fn images(engine: &Engine, name: &str, services: &[String]) -> Result<Vec<ImageUse>> {
    let summaries = engine
        .list_images(true)
        .map_err(|e| Error::engine("images", e))?;
    let mut uses: Vec<ImageUse> = members(engine, name)?
        .into_iter()
        .filter(|m| services.is_empty() || services.contains(&m.service))
        .map(|m| {
            let summary = summaries.iter().find(|s| s.id == m.record.image_id);
            // The name the container was made with, if it still names this image.
            let named: Option<ImageRef> = m.record.image.parse().ok();
            let reference = summary.and_then(|s| {
                s.references
                    .iter()
                    .find(|r| Some(*r) == named.as_ref())
                    .or(s.references.first())
            });
            ImageUse {
                container: m.record.name.clone(),
                repository: reference
                    .map(|r| r.repository().to_owned())
                    .unwrap_or_default(),
                tag: reference.map(|r| r.tag().to_owned()).unwrap_or_default(),
                id: m.record.image_id.to_string(),
                size: summary.map(|s| s.size).unwrap_or(0),
                platform: engine
                    .image_config(&m.record.image_id)
                    .map(|c| format!("{}/{}", c.os(), c.architecture()))
                    .unwrap_or_default(),
                created: summary.and_then(|s| s.created.clone()),
            }
        })
        .collect();
    uses.sort_by(|a, b| a.container.cmp(&b.container));
    Ok(uses)
}

/// How a front door sends an image to its registry (with its progress).
pub type Push<'a> = &'a dyn Fn(&str) -> crate::engine::Result<()>;

/// `pull [SERVICE...]`: each chosen service's image (all services when none is named),
/// an image two services share once; a service without `image:` is skipped. A failure
/// ends the pull unless `ignore_failures`, or the service can be built (then it is a
/// warning), as Docker Compose's.
pub fn pull(
    project: &Project,
    services: &[String],
    ignore_failures: bool,
    pull: Pull,
    on: &mut dyn FnMut(Progress),
) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for name in chosen(project, services)? {
        let service = project.service(&name)?;
        let Some(image) = &service.image else {
            on(step(
                Object::Service,
                &name,
                "Skipped - No image to be pulled",
            ));
            continue;
        };
        if !seen.insert(image.clone()) {
            continue;
        }
        on(step(Object::Image, image, "Pulling"));
        match pull(image) {
            Ok(()) => on(step(Object::Image, image, "Pulled")),
            Err(e) if ignore_failures || service.build.is_some() => {
                on(Progress::Warning(format!("Image {image}: {e}")));
            }
            Err(e) => return Err(Error::engine(format!("image {image}"), e)),
        }
    }
    Ok(())
}

/// `push [SERVICE...]`: for each chosen service with both `build` and `image`, its image
/// and `build.tags` (the others are skipped, as Docker Compose's). A failure ends the
/// push unless `ignore_failures` (then it is a warning).
pub fn push(
    project: &Project,
    services: &[String],
    ignore_failures: bool,
    push: Push,
    on: &mut dyn FnMut(Progress),
) -> Result<()> {
    for name in chosen(project, services)? {
        let service = project.service(&name)?;
        let (Some(image), Some(build)) = (&service.image, &service.build) else {
            on(step(Object::Service, &name, "Skipped"));
            continue;
        };
        for tag in std::iter::once(image).chain(&build.tags) {
            on(step(Object::Image, tag, "Pushing"));
            match push(tag) {
                Ok(()) => on(step(Object::Image, tag, "Pushed")),
                Err(e) if ignore_failures => {
                    on(Progress::Warning(format!("Image {tag}: {e}")));
                }
                Err(e) => return Err(Error::engine(format!("image {tag}"), e)),
            }
        }
    }
    Ok(())
}

/// The services named (each checked), or all of them.
fn chosen(project: &Project, services: &[String]) -> Result<Vec<String>> {
    if services.is_empty() {
        return Ok(project.model.services.keys().cloned().collect());
    }
    for name in services {
        project.service(name)?;
    }
    Ok(services.to_vec())
}
