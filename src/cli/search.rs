//! `search`: Docker's table of repositories, from the catalog of a registry named in the
//! term (the engine says why Docker Hub can't be searched), with Docker's `--limit`,
//! `--filter` and `--format`.

use clap::Args;
use color_eyre::eyre::eyre;
use color_eyre::Result;
use serde_json::{json, Value};

use super::filter::{parse_bool, Filters};
use super::output::{print_listing, Listing};
use crate::engine::{registry_search, CredentialStore};
use crate::settings::Settings;

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Max number of search results (1 to 100)
    #[arg(long, default_value_t = 25)]
    pub limit: i64,
    /// Filter output based on conditions provided: is-official=BOOL, is-automated=BOOL,
    /// stars=N (a catalog has no official marks, automated builds or stars)
    #[arg(short, long = "filter", value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Pretty-print search using a Go template ("table {{.Name}}\t{{.StarCount}}")
    #[arg(long, default_value = "")]
    pub format: String,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Allow plain HTTP to this registry (repeatable)
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registries: Vec<String>,
    /// A registry and a part of a repository's name: 127.0.0.1:5000/busy
    pub term: String,
}

/// The fields of a result, as Docker's search formatter names them, and their titles.
const TITLES: &[(&str, &str)] = &[
    ("Name", "NAME"),
    ("Description", "DESCRIPTION"),
    ("StarCount", "STARS"),
    ("IsOfficial", "OFFICIAL"),
    ("IsAutomated", "AUTOMATED"),
];

/// One repository found, as Docker's search result: a catalog gives the name alone, so
/// no description, no stars, neither official nor automated.
struct Found {
    name: String,
    description: String,
    stars: u64,
    official: bool,
    automated: bool,
}

impl Found {
    fn from_catalog(name: String) -> Found {
        Found {
            name,
            description: String::new(),
            stars: 0,
            official: false,
            automated: false,
        }
    }

    /// Docker's filters: every key given holds for one of its values.
    fn passes(&self, filters: &Filters) -> bool {
        filters.matches(|key, value| match key {
            "is-official" => parse_bool(value) == Some(self.official),
            "is-automated" => parse_bool(value) == Some(self.automated),
            // At least that many stars.
            "stars" => value.parse::<u64>().is_ok_and(|n| self.stars >= n),
            _ => false,
        })
    }

    /// The row a template reads: each field as Docker's formatter prints it (`[OK]` for
    /// a mark, the description cut at 45 characters unless `--no-trunc`).
    fn row(&self, no_trunc: bool) -> Value {
        let mark = |set: bool| if set { "[OK]" } else { "" };
        let description = if no_trunc || self.description.chars().count() <= 45 {
            self.description.clone()
        } else {
            let cut: String = self.description.chars().take(44).collect();
            format!("{cut}…")
        };
        json!({
            "Name": self.name,
            "Description": description,
            "StarCount": self.stars.to_string(),
            "IsOfficial": mark(self.official),
            "IsAutomated": mark(self.automated),
        })
    }
}

/// The filters as Docker checks them: known keys, booleans and a star count.
fn parse_filters(entries: &[String]) -> Result<Filters> {
    let filters = Filters::parse(entries, &["is-official", "is-automated", "stars"])?;
    filters.check("is-official", |v| parse_bool(v).is_some())?;
    filters.check("is-automated", |v| parse_bool(v).is_some())?;
    filters.check("stars", |v| v.parse::<u64>().is_ok())?;
    Ok(filters)
}

/// Errors exit 1, as Docker's search.
pub fn search(args: &SearchArgs) -> Result<i32> {
    let checked = (|| {
        if !(1..=100).contains(&args.limit) {
            return Err(eyre!(
                "Limit {} is outside the range of [1, 100]",
                args.limit
            ));
        }
        parse_filters(&args.filters)
    })();
    let filters = match checked {
        Ok(filters) => filters,
        Err(e) => {
            eprintln!("Error: {e}");
            return Ok(1);
        }
    };
    let insecure = Settings::load()?.insecure_registries(&args.insecure_registries);
    // The limit counts what the filters let through; a catalog's results all pass or
    // all fail them, so the first `limit` names are the answer either way.
    let names = match registry_search(
        &args.term,
        args.limit as usize,
        &insecure,
        Some(&CredentialStore::user()),
    ) {
        Ok(names) => names,
        Err(e) => {
            eprintln!("Error: {e}");
            return Ok(1);
        }
    };
    let rows: Vec<Value> = names
        .into_iter()
        .map(Found::from_catalog)
        .filter(|found| found.passes(&filters))
        .map(|found| found.row(args.no_trunc))
        .collect();
    let listing = Listing {
        kind: "search result",
        titles: TITLES,
        default: "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}",
    };
    print_listing(&args.format, &rows, &listing)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_answer_for_a_catalog_that_has_no_marks_or_stars() {
        let found = Found::from_catalog("r/x".into());
        let passes = |entries: &[&str]| {
            let entries: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
            found.passes(&parse_filters(&entries).unwrap())
        };
        assert!(passes(&[]));
        assert!(passes(&[
            "is-official=false",
            "is-automated=false",
            "stars=0"
        ]));
        assert!(!passes(&["is-official=true"]));
        assert!(!passes(&["is-automated=true"]));
        assert!(!passes(&["stars=1"]));
        for bad in ["stars=many", "is-official=maybe", "colour=red"] {
            assert!(parse_filters(&[bad.to_owned()]).is_err(), "{bad}");
        }
        assert_eq!(
            found.row(false),
            json!({"Name": "r/x", "Description": "", "StarCount": "0", "IsOfficial": "", "IsAutomated": ""})
        );
    }
}
