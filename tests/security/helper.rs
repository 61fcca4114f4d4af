//! Builds small static attacker programs with the host's gcc, so they run in any container
//! (the fixture image has no libc) and as an unprivileged user on the host.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Compiles `source` (C) into a static executable named `name` inside `dir` and returns
/// its path. Panics with gcc's output if it does not compile.
pub fn build_static(dir: &Path, name: &str, source: &str) -> PathBuf {
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, source).expect("write helper source");
    let exe = dir.join(name);
    let out = Command::new("gcc")
        .args(["-static", "-O1", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .expect("run gcc (the test script installs it)");
    assert!(
        out.status.success(),
        "gcc failed for {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}
