//! `update` (and `container update`): changes to containers' configuration, as Docker's.
//! Each flag is one field of the engine's `UpdateOptions`; a flag left out changes
//! nothing.

use clap::Args;
use color_eyre::eyre::eyre;
use color_eyre::Result;

use crate::engine::{Engine, UpdateOptions};
use crate::ops::run_options;

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Restart policy to apply when a container exits: no, on-failure[:max-retries],
    /// always, unless-stopped
    #[arg(long, value_name = "POLICY")]
    pub restart: Option<String>,
    #[command(flatten)]
    pub limits: super::container::LimitFlags,
    /// Kernel memory limit (deprecated: accepted and ignored, as Docker's hidden flag)
    #[arg(long = "kernel-memory", value_name = "BYTES", hide = true)]
    pub kernel_memory: Option<String>,
    /// The containers to update
    #[arg(required = true)]
    pub containers: Vec<String>,
}

impl UpdateArgs {
    fn to_options(&self) -> Result<UpdateOptions> {
        let options = UpdateOptions {
            // `--rm` is the container's, checked by the engine against what it has.
            restart_policy: self
                .restart
                .as_deref()
                .map(|p| run_options::parse_restart(Some(p), false))
                .transpose()?,
            resources: self.limits.to_resources(false)?,
        };
        Ok(options)
    }

    fn is_empty(&self) -> bool {
        self.restart.is_none() && self.limits.is_empty() && self.kernel_memory.is_none()
    }
}

/// Prints each container as it was named once updated; errors on stderr, exit 1 if any.
pub fn update(engine: &Engine, args: &UpdateArgs) -> Result<i32> {
    if args.is_empty() {
        return Err(eyre!(
            "you must provide one or more flags when using this command"
        ));
    }
    let options = args.to_options()?;
    if let Some(text) = &args.kernel_memory {
        run_options::parse_size("--kernel-memory value", text)?;
        eprintln!("{}", run_options::kernel_memory_warning());
    }
    super::container::for_each(&args.containers, |name| {
        engine.update_container(name, &options).map(drop)
    })
}
