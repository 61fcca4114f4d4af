//! The escape regression suite: each module performs one class of attack found by the
//! outside review, for real, and fails if it works. Helper programs that play the attacker
//! are small static C programs built by the test itself (see [`helper`]).

// A test's helpers may unwrap too: a panic is the failure report (clippy.toml allows
// unwrap only inside #[test] functions).
#![allow(clippy::unwrap_used)]

#[path = "../common/mod.rs"]
mod common;

mod concurrency;
mod crash;
mod exec;
mod files;
mod helper;
mod root;
mod sealed;

use common::Berth;

/// The attack harness itself works: a helper built here runs inside a container, as the
/// container's root, in the container's pid namespace.
#[test]
fn a_static_helper_runs_inside_a_container() {
    let berth = Berth::with_image();
    let scratch = tempfile::tempdir().unwrap();
    let exe = helper::build_static(
        scratch.path(),
        "whoami",
        r#"#include <stdio.h>
#include <unistd.h>
int main(void) { printf("uid=%d pid=%d\n", (int)getuid(), (int)getpid()); return 0; }
"#,
    );
    berth.ok(&["run", "-d", "--name", "c", common::IMAGE, "sleep", "60"]);
    berth.ok(&["cp", exe.to_str().unwrap(), "c:/whoami"]);
    let out = berth.ok(&["exec", "c", "/whoami"]);
    // Not pid 1 (that is sleep), but a small pid of the container's own namespace.
    let pid: u32 = out
        .trim()
        .strip_prefix("uid=0 pid=")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected helper output {out:?}"));
    assert!(pid > 1 && pid < 100, "{out}");
}
