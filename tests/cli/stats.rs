//! `berth stats` and `berth top` on real containers: a busy one, an idle one with a memory
//! limit, and a stopped one.

use crate::common;

use common::{Berth, IMAGE};
use serde_json::Value;

fn stats_by_name(berth: &Berth) -> std::collections::HashMap<String, Value> {
    berth
        .ok(&["stats", "--no-stream", "-a", "--format", "json"])
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("stats prints JSON lines");
            (v["Name"].as_str().unwrap().to_owned(), v)
        })
        .collect()
}

fn percent(v: &Value) -> f64 {
    v.as_str()
        .and_then(|s| s.strip_suffix('%'))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a percentage: {v}"))
}

#[test]
fn stats_show_cpu_memory_and_pids_with_docker_meanings() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "busy",
        IMAGE,
        "sh",
        "-c",
        "while :; do :; done",
    ]);
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "idle",
        "-m",
        "64m",
        IMAGE,
        "sh",
        "-c",
        "sleep 300 & sleep 300",
    ]);
    berth.ok(&["create", "--name", "stopped", IMAGE, "true"]);

    let stats = stats_by_name(&berth);
    assert_eq!(stats.len(), 3, "{stats:?}");
    let (busy, idle, stopped) = (&stats["busy"], &stats["idle"], &stats["stopped"]);
    // A shell spinning on one core: most of one core, whatever else runs beside it.
    assert!(percent(&busy["CPUPerc"]) > 20.0, "{busy}");
    assert!(percent(&idle["CPUPerc"]) < 5.0, "{idle}");
    // The limit is the container's own; without one, the host's memory.
    let idle_mem = idle["MemUsage"].as_str().unwrap();
    assert!(idle_mem.ends_with(" / 64MiB"), "{idle_mem}");
    assert!(!busy["MemUsage"].as_str().unwrap().ends_with(" / 64MiB"));
    assert!(percent(&idle["MemPerc"]) > 0.0 && percent(&idle["MemPerc"]) < 100.0);
    // The shell execs its last command: two sleeps.
    assert_eq!(idle["PIDs"], "2");
    assert_eq!(busy["PIDs"], "1");
    assert_eq!(stopped["CPUPerc"], "0.00%");
    assert_eq!(stopped["MemUsage"], "0B / 0B");
    assert_eq!(stopped["PIDs"], "0");

    // Without -a, only running containers; a table with Docker's columns.
    let table = berth.ok(&["stats", "--no-stream"]);
    let header = table.lines().next().unwrap();
    assert!(
        header.starts_with("CONTAINER ID") && header.contains("MEM USAGE / LIMIT"),
        "{table}"
    );
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(!table.contains("stopped"), "{table}");
}

#[test]
fn top_lists_the_container_processes_with_ps_options() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        IMAGE,
        "sh",
        "-c",
        "sleep 301 & sleep 302",
    ]);
    let top = berth.ok(&["top", "web"]);
    let lines: Vec<&str> = top.lines().collect();
    assert!(
        lines[0].contains("PID") && lines[0].contains("CMD"),
        "{top}"
    );
    assert_eq!(lines.len(), 3, "{top}");
    assert!(
        top.contains("sleep 301") && top.contains("sleep 302"),
        "{top}"
    );

    let custom = berth.ok(&["top", "web", "-o", "pid,args"]);
    assert!(
        custom.lines().next().unwrap().contains("COMMAND"),
        "{custom}"
    );
    assert_eq!(custom.lines().count(), 3, "{custom}");

    berth.ok(&["create", "--name", "idle", IMAGE, "true"]);
    let err = berth.fail(&["top", "idle"]);
    assert!(err.contains("container idle is not running"), "{err}");
    let err = berth.fail(&["stats", "--no-stream", "ghost"]);
    assert!(err.contains("No such container: ghost"), "{err}");
}
