//! `berth container prune`: the one container verb without a short form.

use clap::Args;
use color_eyre::Result;

use crate::engine::Engine;
use crate::ops::prune::Prune;

#[derive(Debug, Args)]
pub struct ContainerPruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

/// `container prune`: asks first unless -f (end of input means no), as Docker.
pub fn prune(engine: &Engine, args: &ContainerPruneArgs) -> Result<i32> {
    super::output::prune(engine, Prune::Containers, args.force)
}
