//! `berth search`: a registry named in the term is asked for its catalog and the
//! matching repositories listed in Docker's table; Docker Hub's search is answered with
//! one clear line.

use crate::common;

use common::registry::Registry;
use common::{fixtures, stderr, stdout, Berth};

#[test]
fn search_lists_a_registrys_matching_repositories_in_dockers_table() {
    let berth = Berth::new();
    let registry = Registry::start(berth.netns());
    let layout = fixtures().join("busybox-oci");
    registry.seed(&layout, "latest", "test/busybox:latest");
    registry.seed(&layout, "latest", "tools/busybox-extra:latest");
    registry.seed(&layout, "latest", "other/alpine:latest");
    let host = registry.host();
    let out = berth.run(&["search", &format!("{host}/busybox")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["NAME", "DESCRIPTION", "STARS", "OFFICIAL"]);
    let names: Vec<&str> = lines[1..].iter().map(|l| l[0]).collect();
    assert_eq!(
        names,
        [
            format!("{host}/test/busybox"),
            format!("{host}/tools/busybox-extra")
        ]
    );
    // --limit bounds the list.
    let out = berth.run(&["search", "--limit", "1", &format!("{host}/busybox")]);
    assert_eq!(stdout(&out).lines().count(), 2);
    // What a name found is, pull takes.
    berth.ok(&["pull", "-q", &format!("{host}/test/busybox")]);
}

#[test]
fn search_without_a_registry_says_why_in_one_line() {
    let berth = Berth::new();
    let out = berth.run(&["search", "busybox"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("cannot search Docker Hub"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // A registry that doesn't answer is named.
    let out = berth.run(&["search", "127.0.0.1:1/busybox"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("searching 127.0.0.1:1"),
        "{}",
        stderr(&out)
    );
}
