//! `berth container prune`: the one container verb without a short form.

use clap::Args;
use color_eyre::Result;

use super::output::{confirm, human_size};
use crate::engine::Engine;

#[derive(Debug, Args)]
pub struct ContainerPruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

/// `container prune`: asks first unless -f (end of input means no), as Docker.
pub fn prune(engine: &Engine, args: &ContainerPruneArgs) -> Result<i32> {
    if !args.force
        && !confirm(
            "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?",
        )?
    {
        return Ok(0);
    }
    let (removed, reclaimed) = engine.prune_containers()?;
    if !removed.is_empty() {
        println!("Deleted Containers:");
        for id in &removed {
            println!("{id}");
        }
        println!();
    }
    println!("Total reclaimed space: {}", human_size(reclaimed));
    Ok(0)
}
