//! `berth stats` (live resource use, as `docker stats`) and `berth top` (a container's
//! processes, as `docker top`: the host's `ps`, kept to the container's PIDs).

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use clap::Args;
use color_eyre::eyre::eyre;
use color_eyre::Result;

use super::output::{binary_size, human_size, print_json_lines, Table};
use crate::engine::{
    sample_all_stats, stats_between, ContainerRecord, ContainerStats, Engine, StatsSample, Status,
};

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    pub all: bool,
    /// Disable streaming stats and only pull the first result
    #[arg(long)]
    pub no_stream: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Output format: "table" or "json"
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Containers (default: every running one, or every one with -a)
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct TopArgs {
    pub container: String,
    /// Options for ps (default: -ef)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_options: Vec<String>,
}

/// How long between the two samples a CPU % needs, and between refreshes.
const INTERVAL: Duration = Duration::from_secs(1);

pub fn stats(engine: &Engine, args: &StatsArgs) -> Result<i32> {
    let json = match args.format.as_str() {
        "json" => true,
        "table" => false,
        other => return Err(eyre!("unknown format {other:?}: use table or json")),
    };
    let mut previous: HashMap<String, StatsSample> = HashMap::new();
    loop {
        let records = chosen(engine, args)?;
        let samples: Vec<StatsSample> = sample_all_stats(&records);
        // The first round has nothing to compare with: take a second sample shortly after.
        let first_round = previous.is_empty() && samples.iter().any(|s| s.running);
        if first_round {
            for s in &samples {
                previous.insert(s.id.to_string(), s.clone());
            }
            std::thread::sleep(INTERVAL);
            continue;
        }
        let rows: Vec<ContainerStats> = samples
            .iter()
            .map(|now| stats_between(previous.get(now.id.as_str()).unwrap_or(now), now))
            .collect();
        if !args.no_stream && !json {
            // Docker's redraw: clear the screen and go home.
            print!("\x1b[2J\x1b[H");
        }
        print_rows(&rows, args, json)?;
        std::io::stdout().flush()?;
        if args.no_stream {
            return Ok(0);
        }
        previous = samples.into_iter().map(|s| (s.id.to_string(), s)).collect();
        std::thread::sleep(INTERVAL);
    }
}

/// The containers named, or every running one (every one with `-a`).
fn chosen(engine: &Engine, args: &StatsArgs) -> Result<Vec<ContainerRecord>> {
    if args.containers.is_empty() {
        return Ok(engine
            .list_containers()?
            .into_iter()
            .filter(|r| args.all || r.state.status == Status::Running)
            .collect());
    }
    args.containers
        .iter()
        .map(|name| engine.container(name).map_err(Into::into))
        .collect()
}

fn print_rows(rows: &[ContainerStats], args: &StatsArgs, json: bool) -> Result<()> {
    let io = |a: u64, b: u64, running: bool| {
        if running {
            format!("{} / {}", human_size(a), human_size(b))
        } else {
            "0B / 0B".to_owned()
        }
    };
    if json {
        let lines: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "ID": id_text(r, args.no_trunc),
                    "Container": id_text(r, args.no_trunc),
                    "Name": r.name,
                    "CPUPerc": format!("{:.2}%", r.cpu_percent),
                    "MemUsage": format!("{} / {}", binary_size(r.memory_usage), binary_size(r.memory_limit)),
                    "MemPerc": format!("{:.2}%", r.memory_percent),
                    "NetIO": io(r.net_rx, r.net_tx, r.running),
                    "BlockIO": io(r.block_read, r.block_write, r.running),
                    "PIDs": r.pids.to_string(),
                })
            })
            .collect();
        print_json_lines(&lines)?;
        return Ok(());
    }
    let mut table = Table::new(&[
        "CONTAINER ID",
        "NAME",
        "CPU %",
        "MEM USAGE / LIMIT",
        "MEM %",
        "NET I/O",
        "BLOCK I/O",
        "PIDS",
    ]);
    for r in rows {
        table.row(vec![
            id_text(r, args.no_trunc),
            r.name.clone(),
            format!("{:.2}%", r.cpu_percent),
            format!(
                "{} / {}",
                binary_size(r.memory_usage),
                binary_size(r.memory_limit)
            ),
            format!("{:.2}%", r.memory_percent),
            io(r.net_rx, r.net_tx, r.running),
            io(r.block_read, r.block_write, r.running),
            r.pids.to_string(),
        ]);
    }
    table.print()?;
    Ok(())
}

fn id_text(r: &ContainerStats, no_trunc: bool) -> String {
    if no_trunc {
        r.id.to_string()
    } else {
        r.id.short().to_owned()
    }
}

pub fn top(engine: &Engine, args: &TopArgs) -> Result<i32> {
    let (header, lines) = ps_of(engine, &args.container, &args.ps_options)?;
    let mut stdout = super::output::shown_stdout();
    for line in std::iter::once(header).chain(lines) {
        writeln!(stdout, "{line}")?;
    }
    Ok(0)
}

/// The host's `ps` (`-ef` unless `options` say otherwise), its header and the lines of
/// the container's processes, as `docker top` shows them.
fn ps_of(engine: &Engine, container: &str, options: &[String]) -> Result<(String, Vec<String>)> {
    let pids = engine.container_pids(container)?;
    let options: Vec<String> = if options.is_empty() {
        vec!["-ef".into()]
    } else {
        options.to_vec()
    };
    let out = std::process::Command::new("ps")
        .args(&options)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| eyre!("running ps: {e}"))?;
    if !out.status.success() {
        return Err(eyre!(
            "ps {}: {}",
            options.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("").to_owned();
    let pid_column = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or_else(|| eyre!("ps {}: its output has no PID column", options.join(" ")))?;
    let shown = lines
        .filter(|line| {
            line.split_whitespace()
                .nth(pid_column)
                .and_then(|p| p.parse::<i32>().ok())
                .is_some_and(|p| pids.contains(&p))
        })
        .map(str::to_owned)
        .collect();
    Ok((header, shown))
}

/// A container's processes as columns: `ps -ef`'s titles, and each process's fields (the
/// last, the command, keeps its spaces), as Docker's top API splits them.
pub(super) fn processes(
    engine: &Engine,
    container: &str,
    options: &[String],
) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let (header, lines) = ps_of(engine, container, options)?;
    let titles: Vec<String> = header.split_whitespace().map(str::to_owned).collect();
    let rows = lines
        .iter()
        .map(|line| split_fields(line, titles.len()))
        .collect();
    Ok((titles, rows))
}

/// `line`'s first `n - 1` whitespace-separated fields, then the rest as one.
fn split_fields(line: &str, n: usize) -> Vec<String> {
    let mut fields = Vec::with_capacity(n);
    let mut rest = line.trim_start();
    while fields.len() + 1 < n {
        let Some(end) = rest.find(char::is_whitespace) else {
            break;
        };
        fields.push(rest[..end].to_owned());
        rest = rest[end..].trim_start();
    }
    fields.push(rest.to_owned());
    fields
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_keeps_its_spaces() {
        assert_eq!(
            super::split_fields("root  7 1  0 10:00 ?  00:00:00 sleep 1000", 8),
            [
                "root",
                "7",
                "1",
                "0",
                "10:00",
                "?",
                "00:00:00",
                "sleep 1000"
            ]
        );
    }
}
