//! `search`: Docker's table of repositories, from the catalog of a registry named in the
//! term (the engine says why Docker Hub can't be searched).

use clap::Args;
use color_eyre::Result;

use super::output::Table;
use crate::engine::{registry_search, CredentialStore};
use crate::settings::Settings;

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Max number of search results
    #[arg(long, default_value_t = 25)]
    pub limit: usize,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Allow plain HTTP to this registry (repeatable)
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registries: Vec<String>,
    /// A registry and a part of a repository's name: 127.0.0.1:5000/busy
    pub term: String,
}

/// Errors exit 1, as Docker's search.
pub fn search(args: &SearchArgs) -> Result<i32> {
    let insecure = Settings::load()?.insecure_registries(&args.insecure_registries);
    let names = match registry_search(
        &args.term,
        args.limit,
        &insecure,
        Some(&CredentialStore::user()),
    ) {
        Ok(names) => names,
        Err(e) => {
            eprintln!("Error: {e}");
            return Ok(1);
        }
    };
    // A catalog has names only: no descriptions, stars or official marks.
    let mut table = Table::new(&["NAME", "DESCRIPTION", "STARS", "OFFICIAL"]);
    for name in names {
        table.row(vec![name, String::new(), "0".into(), String::new()]);
    }
    table.print()?;
    Ok(0)
}
