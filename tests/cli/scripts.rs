//! The set-up scripts' helpers (scripts/lib.sh), run with stand-ins for apt-get, rustc and
//! berth on PATH, so what a fresh machine meets is checked without touching this one.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// A directory of executable stand-ins, each a shell script.
fn stand_ins(scripts: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("stand-in dir");
    for (name, body) in scripts {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write stand-in");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("chmod stand-in");
    }
    dir
}

/// `bash -c "source scripts/lib.sh; SCRIPT"` with `dir` first on PATH.
fn lib(dir: &Path, script: &str) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(format!("source {REPO}/scripts/lib.sh; {script}"))
        .env(
            "PATH",
            format!(
                "{}:{}",
                dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .stdin(Stdio::null());
    cmd
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn rust_version() -> String {
    let manifest = std::fs::read_to_string(Path::new(REPO).join("Cargo.toml")).unwrap();
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("rust-version in Cargo.toml")
        .to_owned()
}

#[test]
fn apt_waits_for_a_held_dpkg_lock() {
    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("apt-calls");
    let bin = stand_ins(&[
        ("dpkg-query", "exit 1"),
        ("apt-get", &format!("echo \"$*\" >> {}", calls.display())),
    ]);
    let out = lib(bin.path(), "ensure_packages pkg-one pkg-two")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let calls = std::fs::read_to_string(&calls).unwrap();
    let lines: Vec<&str> = calls.lines().collect();
    assert_eq!(lines.len(), 2, "{calls}");
    for line in &lines {
        assert!(line.contains("-o DPkg::Lock::Timeout=300"), "{line}");
    }
    assert!(lines[0].contains("update"), "{calls}");
    assert!(
        lines[1].contains("install") && lines[1].contains("pkg-one pkg-two"),
        "{calls}"
    );
}

#[test]
fn an_old_rustc_is_refused_with_the_one_minimum_version() {
    let minimum = rust_version();
    let old = stand_ins(&[
        ("cargo", "exit 0"),
        ("rustc", "echo 'rustc 1.80.1 (x 2024-08-08)'"),
    ]);
    let out = lib(old.path(), "ensure_cargo").output().unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains(&format!(
            "rustc 1.80.1 is too old: berth needs >= {minimum}"
        )),
        "{}",
        text(&out)
    );
    let current = stand_ins(&[
        ("cargo", "exit 0"),
        ("rustc", &format!("echo 'rustc {minimum}.0 (x)'")),
    ]);
    let out = lib(current.path(), "ensure_cargo").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    // The README asks for the same version.
    let readme = std::fs::read_to_string(Path::new(REPO).join("README.md")).unwrap();
    assert!(readme.contains(&format!("Rust toolchain >= {minimum}")));
}

#[test]
fn the_readme_names_every_package_the_tests_install() {
    let lib = std::fs::read_to_string(Path::new(REPO).join("scripts/lib.sh")).unwrap();
    let test = std::fs::read_to_string(Path::new(REPO).join("scripts/test.sh")).unwrap();
    let readme = std::fs::read_to_string(Path::new(REPO).join("README.md")).unwrap();
    let runtime = lib
        .lines()
        .find_map(|l| l.strip_prefix("RUNTIME_PACKAGES=("))
        .and_then(|l| l.strip_suffix(')'))
        .expect("RUNTIME_PACKAGES in lib.sh");
    let extra = test
        .lines()
        .find_map(|l| l.strip_prefix("ensure_packages \"${RUNTIME_PACKAGES[@]}\" "))
        .expect("ensure_packages in test.sh");
    let start = readme
        .find("`scripts/test.sh` installs")
        .expect("the README says what scripts/test.sh installs");
    let paragraph = &readme[start
        ..readme[start..]
            .find("\n\n")
            .map_or(readme.len(), |e| start + e)];
    let words: Vec<&str> = paragraph
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
        .collect();
    for package in runtime.split_whitespace().chain(extra.split_whitespace()) {
        assert!(
            words.contains(&package),
            "the README's list of what scripts/test.sh installs lacks {package}"
        );
    }
}

#[test]
fn the_demo_says_what_to_try_after_the_dashboard_on_a_terminal_too() {
    let bin = stand_ins(&[(
        "fake-berth",
        "if [ \"$1\" = ui ]; then echo ONE-FRAME; else echo DASHBOARD-RAN; exit 3; fi",
    )]);
    // On a terminal (script(1) gives it one): the dashboard, then the hints, and the
    // dashboard's exit code.
    let out = Command::new("script")
        .args(["-qec"])
        .arg(format!(
            "bash -c 'source {REPO}/scripts/lib.sh; demo_dashboard {} \"\"'",
            bin.path().join("fake-berth").display()
        ))
        .arg("/dev/null")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(3), "{shown}");
    let ran = shown.find("DASHBOARD-RAN").expect("the dashboard ran");
    let hints = shown.find("Also try:").expect("the hints were printed");
    assert!(ran < hints, "{shown}");
    assert!(shown.contains("opens the dashboard again"), "{shown}");

    // Without one: a frame as text, then the hints.
    let fake = bin.path().join("fake-berth");
    let out = lib(bin.path(), &format!("demo_dashboard {} ''", fake.display()))
        .output()
        .unwrap();
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.find("ONE-FRAME").unwrap() < shown.find("Also try:").unwrap(),
        "{shown}"
    );
}

#[test]
fn cargo_deny_is_built_only_when_missing() {
    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("cargo-calls");
    let cargo = |installed: bool| {
        let answer = if installed { "exit 0" } else { "exit 101" };
        format!(
            "if [ \"$1 $2\" = \"deny --version\" ]; then {answer}; fi\necho \"$*\" >> {}",
            calls.display()
        )
    };

    let missing = stand_ins(&[("cargo", &cargo(false))]);
    let out = lib(missing.path(), "ensure_cargo_deny").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let lib_sh = std::fs::read_to_string(Path::new(REPO).join("scripts/lib.sh")).unwrap();
    let version = lib_sh
        .lines()
        .find_map(|l| l.strip_prefix("CARGO_DENY_VERSION="))
        .expect("CARGO_DENY_VERSION in lib.sh");
    assert_eq!(
        std::fs::read_to_string(&calls).unwrap(),
        format!("install cargo-deny --locked --version {version}\n")
    );

    std::fs::remove_file(&calls).unwrap();
    let present = stand_ins(&[("cargo", &cargo(true))]);
    let out = lib(present.path(), "ensure_cargo_deny").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(!calls.exists(), "installed although present");
}

#[test]
fn the_boot_unit_is_installed_pointing_at_the_installed_berth() {
    let dir = tempfile::tempdir().unwrap();
    let units = dir.path().join("units");
    let calls = dir.path().join("systemctl-calls");
    // A stand-in systemctl: this machine's systemd is left alone.
    let bin = stand_ins(&[("systemctl", &format!("echo \"$*\" >> {}", calls.display()))]);
    let out = lib(bin.path(), "install_boot_unit")
        .env("PREFIX", "/opt/berth")
        .env("SYSTEMD_UNIT_DIR", &units)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let unit = std::fs::read_to_string(units.join("berth-boot.service")).unwrap();
    assert!(
        unit.lines()
            .any(|l| l == "ExecStart=/opt/berth/bin/berth system boot"),
        "{unit}"
    );
    // Stopped gracefully at shutdown, as Docker's daemon stops its containers.
    assert!(
        unit.lines()
            .any(|l| l == "ExecStop=/opt/berth/bin/berth system shutdown"),
        "{unit}"
    );
    assert!(unit.contains("WantedBy=multi-user.target"), "{unit}");
    assert!(!unit.contains('@'), "{unit}");
    assert!(text(&out).contains("systemctl enable berth-boot.service"));
    // Installed, never enabled behind the user's back.
    let calls = std::fs::read_to_string(&calls).unwrap_or_default();
    assert!(!calls.contains("enable"), "{calls}");
}
