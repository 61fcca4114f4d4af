//! Fifty CLI invocations at once on one engine root (run, rm, volume create/rm, cp in and
//! out): each succeeds or fails cleanly, and afterwards no record is corrupt, no name is
//! taken twice and no container refers to a volume that is gone.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;

use crate::common::{stderr, Berth, IMAGE};

const NAMES: usize = 6;
const VOLUMES: usize = 4;

/// The fifty invocations: the same names and volumes contended from every side.
fn invocations(host_file: &str, out_dir: &str) -> Vec<Vec<String>> {
    let mut all = Vec::new();
    for i in 0..50 {
        let name = format!("racer{}", i % NAMES);
        let volume = format!("pool{}", i % VOLUMES);
        let args: Vec<String> = match i % 5 {
            0 | 1 => vec![
                "run".into(),
                "-d".into(),
                "--name".into(),
                name,
                "-v".into(),
                format!("{volume}:/data"),
                IMAGE.into(),
                "sleep".into(),
                "60".into(),
            ],
            2 => vec!["rm".into(), "-f".into(), "-v".into(), name],
            3 if i % 2 == 0 => vec!["volume".into(), "create".into(), volume],
            3 => vec!["volume".into(), "rm".into(), volume],
            _ if i % 2 == 0 => vec!["cp".into(), host_file.into(), format!("anchor:/in{i}")],
            _ => vec![
                "cp".into(),
                "anchor:/etc/hostname".into(),
                format!("{out_dir}/out{i}"),
            ],
        };
        all.push(args);
    }
    all
}

/// A clean failure: a non-zero exit with Docker's exit codes and one `Error` line, no panic.
fn assert_clean(args: &[String], out: &Output) {
    let err = stderr(out);
    assert!(!err.contains("panicked"), "berth {args:?} panicked: {err}");
    if out.status.success() {
        return;
    }
    let code = out.status.code();
    assert!(
        matches!(code, Some(1) | Some(125)),
        "berth {args:?} exited {code:?}: {err}"
    );
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("Error"),
        "berth {args:?} did not fail with one error line: {err:?}"
    );
}

#[test]
fn fifty_concurrent_invocations_leave_consistent_state() {
    let berth = Berth::with_image();
    let scratch = tempfile::tempdir().unwrap();
    let host_file = scratch.path().join("payload");
    std::fs::write(&host_file, b"payload\n").unwrap();
    berth.ok(&["run", "-d", "--name", "anchor", IMAGE, "sleep", "120"]);

    let all = invocations(
        host_file.to_str().unwrap(),
        scratch.path().to_str().unwrap(),
    );
    let children: Vec<_> = all
        .iter()
        .map(|args| berth.spawn(&args.iter().map(String::as_str).collect::<Vec<_>>()))
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait for berth"))
        .collect();
    let mut tally: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (args, out) in all.iter().zip(&outputs) {
        assert_clean(args, out);
        let verb = format!("{} {}", args[0], args[1]);
        let entry = tally.entry(verb).or_default();
        if out.status.success() {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    eprintln!("(succeeded, failed) per verb: {tally:?}");
    // The race is real only if each kind of work did happen.
    assert!(tally["run -d"].0 >= 1, "{tally:?}");
    assert!(
        tally.iter().any(|(v, t)| v.starts_with("cp") && t.0 >= 1),
        "{tally:?}"
    );

    // Every copy in landed whole; every copy out is the anchor's hostname file.
    for (args, out) in all.iter().zip(&outputs) {
        if args[0] == "cp" && out.status.success() {
            if let Some(dest) = args[2].strip_prefix("anchor:") {
                let text = berth.ok(&["exec", "anchor", "cat", dest]);
                assert_eq!(text, "payload\n", "{args:?}");
            } else {
                let text = std::fs::read_to_string(&args[2]).unwrap();
                assert!(!text.trim().is_empty(), "{args:?} copied an empty file");
            }
        }
    }

    // Records: all parse, names are unique, every volume a container uses exists.
    let listed = berth.ok(&["ps", "-a", "--format", "json"]);
    let mut names = BTreeMap::new();
    for line in listed.lines() {
        let entry: serde_json::Value = serde_json::from_str(line).expect("ps prints JSON");
        let name = entry["Names"].as_str().unwrap().to_owned();
        *names.entry(name).or_insert(0) += 1;
    }
    assert!(
        names.values().all(|n| *n == 1),
        "duplicate names: {names:?}"
    );
    let volumes: BTreeSet<String> = berth
        .ok(&["volume", "ls", "-q"])
        .lines()
        .map(str::to_owned)
        .collect();
    for name in names.keys() {
        let info = berth.inspect(name);
        assert_eq!(info["Name"], format!("/{name}"));
        for mount in info["Mounts"].as_array().unwrap() {
            if mount["Type"] == "volume" {
                let volume = mount["Name"].as_str().unwrap();
                assert!(
                    volumes.contains(volume),
                    "{name} uses volume {volume}, which is gone ({volumes:?})"
                );
            }
        }
    }
    // Nothing half-made: the engine's own consistency check finds nothing to repair.
    let check = berth.run(&["system", "check"]);
    assert!(
        check.status.success(),
        "system check after the race: {}{}",
        crate::common::stdout(&check),
        stderr(&check)
    );
    // One winner per contested name at most: a run that lost reported the name in use.
    for out in &outputs {
        let err = stderr(out);
        if err.contains("already in use") {
            assert!(err.contains("racer"), "{err}");
        }
    }
}
