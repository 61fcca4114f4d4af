//! `berth container ...`: Docker's management command for containers.

use clap::{Args, Subcommand};
use color_eyre::Result;

use super::output::{confirm, human_size};
use crate::engine::Engine;

#[derive(Debug, Subcommand)]
pub enum ContainerCommand {
    /// Remove all stopped containers
    Prune(ContainerPruneArgs),
}

#[derive(Debug, Args)]
pub struct ContainerPruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

pub fn run(engine: &Engine, command: &ContainerCommand) -> Result<i32> {
    match command {
        ContainerCommand::Prune(args) => prune(engine, args),
    }
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
