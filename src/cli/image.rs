//! Image verbs: images, load, import, tag, rmi, image inspect/history.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use color_eyre::Result;

use crate::engine::Engine;

#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Show all images, including dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Only show image IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Output format: "table" or "json"
    #[arg(long, default_value = "table")]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Read from a tar archive file (docker save or OCI layout), or an OCI layout directory
    #[arg(short, long)]
    pub input: PathBuf,
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A tar of a root filesystem (gzip, zstd or plain), or "-" for stdin
    pub file: String,
    /// The name to give the image, NAME[:TAG]
    pub reference: Option<String>,
}

#[derive(Debug, Args)]
pub struct TagArgs {
    pub source: String,
    pub target: String,
}

#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Remove the image even if containers use it
    #[arg(short, long)]
    pub force: bool,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ImageInspectArgs {
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    pub image: String,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set)]
    pub human: bool,
    #[arg(short, long)]
    pub quiet: bool,
    /// Output format: "table" or "json"
    #[arg(long, default_value = "table")]
    pub format: String,
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// List images
    #[command(alias = "list")]
    Ls(ImagesArgs),
    /// Display detailed information on images
    Inspect(ImageInspectArgs),
    /// Show the history of an image: one line per layer
    History(HistoryArgs),
    /// Remove images
    #[command(alias = "remove")]
    Rm(RmiArgs),
    /// Create a tag TARGET that refers to SOURCE
    Tag(TagArgs),
    /// Load an image from a tar archive or OCI layout
    Load(LoadArgs),
    /// Import a root filesystem tar as an image
    Import(ImportArgs),
}

pub fn images(engine: &Engine, args: &ImagesArgs) -> Result<i32> {
    let _ = (engine, args);
    todo!()
}
pub fn load(engine: &Engine, args: &LoadArgs) -> Result<i32> {
    let _ = (engine, args);
    todo!()
}
pub fn import(engine: &Engine, args: &ImportArgs) -> Result<i32> {
    let _ = (engine, args);
    todo!()
}
pub fn tag(engine: &Engine, args: &TagArgs) -> Result<i32> {
    let _ = (engine, args);
    todo!()
}
pub fn rmi(engine: &Engine, args: &RmiArgs) -> Result<i32> {
    let _ = (engine, args);
    todo!()
}
pub fn inspect(engine: &Engine, args: &ImageInspectArgs) -> Result<i32> {
    let _ = (engine, args);
    todo!()
}
pub fn history(engine: &Engine, args: &HistoryArgs) -> Result<i32> {
    let _ = (engine, args);
    todo!()
}

pub fn image_command(engine: &Engine, command: &ImageCommand) -> Result<i32> {
    match command {
        ImageCommand::Ls(args) => images(engine, args),
        ImageCommand::Inspect(args) => inspect(engine, args),
        ImageCommand::History(args) => history(engine, args),
        ImageCommand::Rm(args) => rmi(engine, args),
        ImageCommand::Tag(args) => tag(engine, args),
        ImageCommand::Load(args) => load(engine, args),
        ImageCommand::Import(args) => import(engine, args),
    }
}
