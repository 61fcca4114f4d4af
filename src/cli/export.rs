//! `export`: a container's filesystem as a tar, to a file (`-o`) or a piped stdout.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;
use color_eyre::Result;

use super::output::write_file_atomically;
use crate::engine::{pump, sealed, Context, Engine, Error, Status};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    pub container: String,
}

pub fn export(engine: &Engine, args: &ExportArgs) -> Result<i32> {
    if args.output.is_none() && std::io::stdout().is_terminal() {
        return Err(Error::Runtime(
            "cowardly refusing to save to a terminal. Use the -o flag or redirect".into(),
        )
        .into());
    }
    // Walking a running container's root enters its mount namespace: from a sealed copy
    // of berth only (CVE-2019-5736), as `cp` does.
    let record = engine.container(&args.container)?;
    if record.state.status == Status::Running && !sealed::running_sealed() {
        sealed::reexec_sealed()?;
    }
    let write = |out: &mut dyn Write| -> crate::engine::Result<()> {
        let mut tar = engine.export_container(record.id.as_str())?;
        pump(&mut tar, out)?;
        out.flush().context(|| "writing the archive".into())
    };
    match &args.output {
        Some(path) => write_file_atomically(path, |mut out| write(&mut out))?,
        None => write(&mut std::io::BufWriter::with_capacity(
            1 << 20,
            std::io::stdout().lock(),
        ))?,
    }
    Ok(0)
}
