//! `build:` services: what `berth build` is asked for each (context, Dockerfile, args,
//! target, labels, tags, the image's name) and Docker Compose's rule for when: `build`
//! and `up --build` always, `up` when the image is not here.

use std::path::PathBuf;

use super::{labels, Error, Project, Result};
use crate::engine::Engine;

/// One service's image build, as the front door hands it to the build it shares with
/// `berth build`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildPlan {
    pub service: String,
    /// The directory (or, as written, a remote URL the build refuses).
    pub context: String,
    /// The Dockerfile's path: relative ones are the context's, as Compose reads them.
    pub dockerfile: PathBuf,
    /// `KEY=VALUE`, or `KEY` alone to take it from berth's environment.
    pub args: Vec<String>,
    pub target: Option<String>,
    /// `KEY=VALUE`: the file's, then Compose's own (project, service, version).
    pub labels: Vec<String>,
    /// The service's image name first, then `build.tags`.
    pub tags: Vec<String>,
    pub no_cache: bool,
    pub pull: bool,
}

/// How a front door builds an image (with its progress): its error is one line.
pub type Build<'a> = &'a dyn Fn(&BuildPlan) -> std::result::Result<(), String>;

/// `compose build`'s flags.
#[derive(Debug, Default, Clone)]
pub struct BuildFlags {
    pub no_cache: bool,
    pub pull: bool,
    /// `--build-arg KEY[=VALUE]`, over the file's.
    pub args: Vec<String>,
}

/// The build of service `name`, or `None` when it has no `build:` section.
pub fn plan(project: &Project, name: &str, flags: &BuildFlags) -> Result<Option<BuildPlan>> {
    let service = project.service(name)?;
    let Some(build) = &service.build else {
        return Ok(None);
    };
    let context = build
        .context
        .clone()
        .unwrap_or_else(|| project.working_dir.display().to_string());
    let dockerfile = PathBuf::from(build.dockerfile.as_deref().unwrap_or("Dockerfile"));
    let dockerfile = if dockerfile.is_absolute() {
        dockerfile
    } else {
        PathBuf::from(&context).join(dockerfile)
    };
    // The command line's `--build-arg` wins over the file's, as Compose's.
    let mut args: std::collections::BTreeMap<String, Option<String>> = build
        .args
        .iter()
        .map(|(k, v)| (k.clone(), v.as_ref().map(|v| v.0.clone())))
        .collect();
    for arg in &flags.args {
        match arg.split_once('=') {
            Some((k, v)) => args.insert(k.to_owned(), Some(v.to_owned())),
            None => args.insert(arg.clone(), None),
        };
    }
    let mut image_labels = build.labels.clone();
    image_labels.insert(labels::PROJECT.into(), project.name.clone());
    image_labels.insert(labels::SERVICE.into(), name.to_owned());
    image_labels.insert(labels::VERSION.into(), env!("CARGO_PKG_VERSION").into());
    let mut tags = vec![project.image_of(name)];
    for tag in &build.tags {
        if !tags.contains(tag) {
            tags.push(tag.clone());
        }
    }
    Ok(Some(BuildPlan {
        service: name.to_owned(),
        context,
        dockerfile,
        args: args
            .into_iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{k}={v}"),
                None => k,
            })
            .collect(),
        target: build.target.clone(),
        labels: image_labels
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        tags,
        no_cache: flags.no_cache,
        pull: flags.pull,
    }))
}

/// `compose build [SERVICE...]`: every chosen service with a `build:` section, built in
/// the order given (all, by name, when none is named); the others are left alone.
pub fn build(
    project: &Project,
    services: &[String],
    flags: &BuildFlags,
    build: Build,
) -> Result<()> {
    let names: Vec<String> = if services.is_empty() {
        project.model.services.keys().cloned().collect()
    } else {
        services.to_vec()
    };
    for name in &names {
        if let Some(plan) = plan(project, name, flags)? {
            run(&plan, build)?;
        }
    }
    Ok(())
}

/// Whether `up` builds service `name`: it has `build:`, and `--build` was given or its
/// image is not here.
pub(super) fn wanted(engine: &Engine, project: &Project, name: &str, always: bool) -> bool {
    project.service(name).is_ok_and(|s| s.build.is_some())
        && (always || engine.resolve_image(&project.image_of(name)).is_err())
}

pub(super) fn run(plan: &BuildPlan, build: Build) -> Result<()> {
    build(plan).map_err(|message| Error::Build {
        service: plan.service.clone(),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::load::Loaded;

    #[test]
    fn a_plan_names_the_image_after_the_project_and_reads_paths_from_the_context() {
        let project = Project::from_loaded(&Loaded {
            name: "shop".into(),
            working_dir: "/w".into(),
            config_files: vec!["/w/compose.yaml".into()],
            model: serde_json::json!({"services": {
                "web": {"build": {"context": "/w/web", "dockerfile": "Dockerfile.dev",
                    "args": {"A": "1", "B": null}, "target": "dev",
                    "labels": {"l": "v"}, "tags": ["extra:1"]}},
                "db": {"image": "i"}
            }}),
            warnings: Vec::new(),
            disabled_services: Vec::new(),
        })
        .unwrap();
        let flags = BuildFlags {
            args: vec!["A=2".into(), "C".into()],
            ..Default::default()
        };
        let plan = plan(&project, "web", &flags).unwrap().unwrap();
        assert_eq!(plan.context, "/w/web");
        assert_eq!(plan.dockerfile, PathBuf::from("/w/web/Dockerfile.dev"));
        assert_eq!(plan.args, ["A=2", "B", "C"]);
        assert_eq!(plan.tags, ["shop-web", "extra:1"]);
        assert!(plan
            .labels
            .contains(&"com.docker.compose.service=web".to_owned()));
        assert!(plan.labels.contains(&"l=v".to_owned()));
        assert_eq!(plan.target.as_deref(), Some("dev"));
        assert!(super::plan(&project, "db", &flags).unwrap().is_none());
    }
}
