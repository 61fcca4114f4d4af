//! System verbs: `system check [--repair]`.

use clap::{Args, Subcommand};
use color_eyre::eyre::eyre;
use color_eyre::Result;
use serde_json::json;

use super::output::print_json;
use crate::engine::system::Finding;
use crate::engine::Engine;

#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Find what crashed or killed commands left behind (mounts, cgroups, monitors,
    /// orphan directories, layers and blobs, half-written records, unsafe permissions)
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Remove or fix each finding, saying what was done
    #[arg(long)]
    pub repair: bool,
    /// Output format: "table" or "json"
    #[arg(long, default_value = "table")]
    pub format: String,
}

pub fn run(engine: &Engine, command: &SystemCommand) -> Result<i32> {
    match command {
        SystemCommand::Check(args) => check(engine, args),
    }
}

fn check(engine: &Engine, args: &CheckArgs) -> Result<i32> {
    let json = match args.format.as_str() {
        "table" => false,
        "json" => true,
        other => return Err(eyre!("invalid --format {other:?}: use table or json")),
    };
    let remaining = if args.repair {
        let (done, remaining) = engine.system_repair()?;
        if json {
            let repaired: Vec<_> = done
                .iter()
                .map(|(f, r)| json!({ "finding": f, "error": r.as_ref().err() }))
                .collect();
            print_json(&json!({ "repaired": repaired, "remaining": remaining }))?;
        } else {
            for (finding, result) in &done {
                match result {
                    Ok(()) => println!("repaired {}: {}", line(finding), finding.repair),
                    Err(e) => println!("FAILED {}: {e}", line(finding)),
                }
            }
            for finding in &remaining {
                println!("remaining {}", line(finding));
            }
        }
        remaining
    } else {
        let findings = engine.system_check()?;
        if json {
            print_json(&findings)?;
        } else {
            for finding in &findings {
                println!("{} (repair {})", line(finding), finding.repair);
            }
        }
        findings
    };
    Ok(if remaining.is_empty() { 0 } else { 1 })
}

/// `KIND OBJECT PATH`, one finding on one line.
fn line(finding: &Finding) -> String {
    format!(
        "{} {} {}",
        finding.kind.as_str(),
        finding.object,
        finding.path.display()
    )
}
