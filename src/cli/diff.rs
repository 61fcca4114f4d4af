//! `diff`: the files and directories a container changed in its image's filesystem.

use std::io::{BufWriter, Write};

use clap::{Args, ValueEnum};
use color_eyre::Result;

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
    // Buffered: a diff can be tens of thousands of lines, and stdout flushes every line.
    let mut out = BufWriter::new(super::output::shown_stdout());
    match args.format {
        DiffFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &changes)?;
            writeln!(out)?;
        }
        DiffFormat::Text => {
            for change in &changes {
                writeln!(out, "{} {}", change.kind.symbol(), change.path)?;
            }
        }
    }
    out.flush()?;
    Ok(0)
}
