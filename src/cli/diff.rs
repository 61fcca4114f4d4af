//! `diff`: the files and directories a container changed in its image's filesystem.

use std::io::Write;

use clap::{Args, ValueEnum};
use color_eyre::Result;

use super::output::print_json;
use crate::engine::Engine;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Output format: `text` prints `A|C|D PATH` lines as Docker does; `json` the full list
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// The container (name, ID or unique ID prefix)
    pub container: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
}

pub fn diff(engine: &Engine, args: &DiffArgs) -> Result<i32> {
    let changes = engine.container_changes(&args.container)?;
    match args.format {
        DiffFormat::Json => print_json(&changes)?,
        DiffFormat::Text => {
            // One buffered write: a diff can be tens of thousands of lines.
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for change in &changes {
                writeln!(out, "{} {}", change.kind.symbol(), change.path)?;
            }
            out.flush()?;
        }
    }
    Ok(0)
}
