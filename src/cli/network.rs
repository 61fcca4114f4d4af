//! Network verbs: network create, ls, inspect, rm, prune, connect, disconnect.
//! `connect` and `disconnect` do the record side (address leases); the links are made
//! when the container's network is wired.

use std::collections::BTreeMap;

use clap::{Args, Subcommand};
use color_eyre::eyre::eyre;
use color_eyre::Result;
use serde_json::{json, Value};

use super::output::{print_inspect, print_listing, report, Listing};
use super::volume::{InspectArgs, NamesArgs};
use crate::engine::{parse_cidr, parse_ip, CreateNetwork, Engine, Error, NetworkRecord};
use crate::ops::inspect;
use crate::ops::resolve::each;
use crate::ops::run_options::parse_labels;

#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Create a network
    Create(CreateArgs),
    /// List networks
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more networks
    Inspect(InspectArgs),
    /// Remove one or more networks (never one with connected containers)
    #[command(alias = "remove")]
    Rm(NamesArgs),
    /// Remove all unused networks
    Prune(PruneArgs),
    /// Connect a container to a network
    Connect(ConnectArgs),
    /// Disconnect a container from a network
    Disconnect(DisconnectArgs),
    /// Load berth's firewall table again (after the host's firewall was reloaded)
    Reload,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Driver to manage the network: bridge, macvlan or ipvlan
    #[arg(short, long, default_value = "bridge")]
    pub driver: String,
    /// Subnet in CIDR format (default: the first free default pool)
    #[arg(long)]
    pub subnet: Option<String>,
    /// IPv4 gateway for the subnet (default: its first address)
    #[arg(long)]
    pub gateway: Option<String>,
    /// Allocate container addresses from a sub-range
    #[arg(long = "ip-range")]
    pub ip_range: Option<String>,
    /// Restrict external access to the network
    #[arg(long)]
    pub internal: bool,
    /// Set metadata on a network (KEY=VALUE)
    #[arg(long)]
    pub label: Vec<String>,
    /// Set driver specific options (KEY=VALUE)
    #[arg(short, long = "opt")]
    pub opt: Vec<String>,
    pub name: String,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only display network IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not truncate the output
    #[arg(long)]
    pub no_trunc: bool,
    /// Filter: name=TEXT, driver=NAME, id=PREFIX, label=KEY[=VALUE], type=custom|builtin,
    /// dangling=true|false
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Format output: "table", "json", or a Go template ("{{.ID}}: {{.Name}}")
    #[arg(long, default_value = "")]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// IPv4 address for the container on this network
    #[arg(long)]
    pub ip: Option<String>,
    /// Add a network-scoped alias for the container
    #[arg(long)]
    pub alias: Vec<String>,
    /// Add an IPv4 link-local address (/16) to the container's interface on this network
    #[arg(long = "link-local-ip", value_name = "IP")]
    pub link_local_ip: Vec<String>,
    /// IPv6 address (refused: berth's networks are IPv4 only)
    #[arg(long, value_name = "ADDRESS")]
    pub ip6: Option<String>,
    pub network: String,
    pub container: String,
}

#[derive(Debug, Args)]
pub struct DisconnectArgs {
    /// Force the container to disconnect (no error if it is not connected)
    #[arg(short, long)]
    pub force: bool,
    pub network: String,
    pub container: String,
}

pub fn run(engine: &Engine, command: &NetworkCommand) -> Result<i32> {
    match command {
        NetworkCommand::Create(args) => create(engine, args),
        NetworkCommand::Ls(args) => ls(engine, args),
        NetworkCommand::Inspect(args) => inspect(engine, args),
        NetworkCommand::Rm(args) => {
            let removed = each(&args.names, |name| engine.destroy_network(name));
            Ok(report(removed, |name, _| println!("{name}")))
        }
        NetworkCommand::Prune(args) => prune(engine, args),
        NetworkCommand::Connect(args) => {
            let ip = args
                .ip
                .as_deref()
                .map(|ip| parse_ip("IP address", ip))
                .transpose()?;
            if let Some(ip6) = &args.ip6 {
                return Err(Error::invalid(
                    "--ip6",
                    ip6,
                    "berth's networks are IPv4 only: IPv6 addresses are not supported",
                )
                .into());
            }
            let extras = crate::engine::EndpointExtras {
                link_local_ips: args
                    .link_local_ip
                    .iter()
                    .map(|ip| crate::ops::run_options::parse_link_local_ip(ip))
                    .collect::<crate::engine::Result<_>>()?,
                ..Default::default()
            };
            engine.connect_container(
                &args.network,
                &args.container,
                ip,
                args.alias.clone(),
                &extras,
            )?;
            Ok(0)
        }
        NetworkCommand::Reload => {
            engine.reload_firewall()?;
            Ok(0)
        }
        NetworkCommand::Disconnect(args) => {
            engine.disconnect_container(&args.network, &args.container, args.force)?;
            Ok(0)
        }
    }
}

/// `-o KEY=VALUE` options; a bare KEY is refused (it would mean nothing to a driver).
fn parse_options(entries: &[String]) -> Result<BTreeMap<String, String>, Error> {
    entries
        .iter()
        .map(|e| match e.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
            _ => Err(Error::invalid("network option", e, "use KEY=VALUE")),
        })
        .collect()
}

fn create(engine: &Engine, args: &CreateArgs) -> Result<i32> {
    let created = new_network(args)
        .and_then(|opts| engine.create_network(opts))
        .map_err(|e| eyre!("creating network {}: {e}", args.name))?;
    for skip in &created.route_skips {
        eprintln!(
            "berth: skipped address pool {}: {}",
            skip.subnet, skip.reason
        );
    }
    println!("{}", created.network.id);
    Ok(0)
}

fn new_network(args: &CreateArgs) -> Result<CreateNetwork, Error> {
    Ok(CreateNetwork {
        name: args.name.clone(),
        driver: Some(args.driver.parse()?),
        subnet: args
            .subnet
            .as_deref()
            .map(|s| parse_cidr("subnet", s))
            .transpose()?,
        gateway: args
            .gateway
            .as_deref()
            .map(|s| parse_ip("gateway", s))
            .transpose()?,
        ip_range: args
            .ip_range
            .as_deref()
            .map(|s| parse_cidr("ip-range", s))
            .transpose()?,
        internal: args.internal,
        labels: parse_labels(&args.label),
        options: parse_options(&args.opt)?,
    })
}

/// Docker's network filters: values of one key are alternatives, keys must all match.
fn filter_matches(network: &NetworkRecord, filters: &BTreeMap<String, Vec<String>>) -> bool {
    filters.iter().all(|(key, values)| {
        values.iter().any(|value| match key.as_str() {
            "name" => network.name.contains(value.as_str()),
            "driver" => network.driver.as_str() == value,
            "id" => network.id.starts_with(value.as_str()),
            "label" => match value.split_once('=') {
                Some((k, v)) => network.labels.get(k).is_some_and(|have| have == v),
                None => network.labels.contains_key(value),
            },
            "type" => (value == "builtin") == network.is_builtin(),
            // As Docker: the built-ins are never dangling.
            "dangling" => {
                let unused = !network.is_builtin() && network.endpoints.is_empty();
                unused == matches!(value.as_str(), "true" | "1")
            }
            _ => false,
        })
    })
}

fn parse_filters(entries: &[String]) -> Result<BTreeMap<String, Vec<String>>> {
    let mut filters: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in entries {
        let (key, value) = f
            .split_once('=')
            .ok_or_else(|| eyre!("bad format of filter {f:?} (expected name=value)"))?;
        match key {
            "name" | "driver" | "id" | "label" => {}
            "type" if matches!(value, "custom" | "builtin") => {}
            "type" => {
                return Err(eyre!(
                    "invalid filter 'type={value}': use custom or builtin"
                ))
            }
            "dangling" if matches!(value, "true" | "1" | "false" | "0") => {}
            "dangling" => {
                return Err(eyre!(
                    "invalid filter 'dangling={value}': use true or false"
                ))
            }
            other => {
                return Err(eyre!(
                    "invalid filter '{other}': use name, driver, id, label, type or dangling"
                ))
            }
        }
        filters
            .entry(key.to_owned())
            .or_default()
            .push(value.to_owned());
    }
    Ok(filters)
}

const TITLES: &[(&str, &str)] = &[
    ("ID", "NETWORK ID"),
    ("Name", "NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("IPv6", "IPV6"),
    ("Internal", "INTERNAL"),
    ("Labels", "LABELS"),
    ("CreatedAt", "CREATED AT"),
];

fn ls(engine: &Engine, args: &LsArgs) -> Result<i32> {
    let filters = parse_filters(&args.filter)?;
    let shown: Vec<NetworkRecord> = engine
        .list_networks()?
        .into_iter()
        .filter(|n| filter_matches(n, &filters))
        .collect();
    let id = |n: &NetworkRecord| {
        if args.no_trunc {
            n.id.clone()
        } else {
            n.short_id().to_owned()
        }
    };
    if args.quiet {
        for n in &shown {
            println!("{}", id(n));
        }
        return Ok(0);
    }
    let rows: Vec<Value> = shown
        .iter()
        .map(|n| {
            json!({
                "CreatedAt": n.created.format("%Y-%m-%d %H:%M:%S%.f %z UTC").to_string(),
                "Driver": n.driver.as_str(),
                "ID": id(n),
                "IPv6": "false",
                "Internal": n.internal.to_string(),
                "Labels": super::output::key_values(&n.labels, ","),
                "Name": n.name,
                "Scope": "local",
            })
        })
        .collect();
    let listing = Listing {
        kind: "network",
        titles: TITLES,
        default: "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
    };
    print_listing(&args.format, &rows, &listing)?;
    Ok(0)
}

fn inspect(engine: &Engine, args: &InspectArgs) -> Result<i32> {
    let mut found = Vec::new();
    let looked_up = each(&args.names, |name| engine.network(name));
    let code = report(looked_up, |_, network| {
        found.push(inspect::network(&network))
    });
    print_inspect(args.format.as_deref(), &found)?;
    Ok(code)
}

fn prune(engine: &Engine, args: &PruneArgs) -> Result<i32> {
    super::output::prune(engine, crate::ops::prune::Prune::Networks, args.force)
}
