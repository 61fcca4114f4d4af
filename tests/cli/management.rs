//! Docker's management commands and the verbs about berth itself: `berth container ...`
//! and `berth image ...` run the short verbs' code, `info`, `version`, shell completions,
//! the manual page, and Docker's exit code for a bad command line.

use crate::common;

use common::{stderr, stdout, Berth};

const IMAGE: &str = "berth-test/busybox";

#[test]
fn container_commands_are_the_short_verbs() {
    let berth = Berth::with_image();
    berth.ok(&["container", "create", "--name", "made", IMAGE, "true"]);
    let out = berth.ok(&["container", "run", "--rm", IMAGE, "echo", "hi"]);
    assert_eq!(out, "hi\n");
    let ps = berth.ok(&["ps", "-a"]);
    for alias in ["ls", "ps", "list"] {
        assert_eq!(
            berth.ok(&["container", alias, "-a"]),
            ps,
            "container {alias}"
        );
    }
    assert!(ps.contains("made"), "{ps}");
    berth.ok(&["container", "start", "made"]);
    assert_eq!(berth.ok(&["container", "wait", "made"]), "0\n");
    let inspected = berth.json(&["container", "inspect", "made"]);
    assert_eq!(inspected["Name"], "/made");
    // `container inspect` is about containers only, as Docker's.
    let out = berth.run(&["container", "inspect", IMAGE]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("No such object: {IMAGE}")),
        "{}",
        stderr(&out)
    );
    // The verbs without a Docker short form in this list are there too.
    berth.ok(&[
        "container",
        "run",
        "-d",
        "--name",
        "busy",
        IMAGE,
        "sleep",
        "60",
    ]);
    assert_eq!(berth.ok(&["container", "pause", "busy"]), "busy\n");
    assert_eq!(berth.ok(&["info", "-f", "{{.ContainersPaused}}"]), "1\n");
    assert_eq!(berth.ok(&["container", "unpause", "busy"]), "busy\n");
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("fs.tar");
    berth.ok(&["container", "export", "-o", tar.to_str().unwrap(), "busy"]);
    assert!(std::fs::metadata(&tar).unwrap().len() > 0);
    berth.ok(&["rm", "-f", "busy"]);
    berth.ok(&["container", "rename", "made", "renamed"]);
    let pruned = berth.ok(&["container", "prune", "-f"]);
    assert!(pruned.starts_with("Deleted Containers:\n"), "{pruned}");
    assert!(!berth.ok(&["container", "ls", "-a"]).contains("renamed"));
}

#[test]
fn image_commands_are_the_short_verbs() {
    let berth = Berth::with_image();
    assert_eq!(berth.ok(&["image", "ls"]), berth.ok(&["images"]));
    berth.ok(&["image", "tag", IMAGE, "other:1"]);
    let history = berth.ok(&["image", "history", "other:1"]);
    assert!(history.starts_with("IMAGE "), "{history}");
    assert_eq!(berth.ok(&["image", "rm", "other:1"]), "Untagged: other:1\n");
    // pull and push are there too; without a registry they fail in one line.
    let out = berth.run(&["image", "pull", "127.0.0.1:1/x:y"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out).trim().lines().count(), 1, "{}", stderr(&out));
}

#[test]
fn info_and_version_say_what_berth_runs_on() {
    let berth = Berth::with_image();
    berth.ok(&["create", IMAGE, "true"]);
    let info = berth.ok(&["info"]);
    assert_eq!(info, berth.ok(&["system", "info"]));
    assert!(info.starts_with("Client:\n Version:"), "{info}");
    for line in [
        " Containers: 1\n",
        "  Running: 0\n",
        "  Stopped: 1\n",
        " Images: 1\n",
        " Storage Driver: overlay\n",
        " Cgroup Driver: cgroupfs\n",
        " OSType: linux\n",
    ] {
        assert!(info.contains(line), "{line:?} in {info}");
    }
    assert!(info.contains(&format!(" Berth Root Dir: {}\n", berth.root().display())));
    let json = serde_json::from_str::<serde_json::Value>(&berth.ok(&["info", "--format", "json"]))
        .unwrap();
    assert_eq!(json["Containers"], 1);
    assert_eq!(json["Images"], 1);
    assert_eq!(json["DockerRootDir"], berth.root().display().to_string());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(json["KernelVersion"], kernel.trim());
    assert!(json["NCPU"].as_u64().unwrap() >= 1);

    let version =
        serde_json::from_str::<serde_json::Value>(&berth.ok(&["version", "--format", "json"]))
            .unwrap();
    assert_eq!(version["Client"]["Version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(version["Server"]["Version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(version["Client"]["Os"], "linux");
    // Go templates, as Docker's.
    assert_eq!(
        berth.ok(&["info", "-f", "{{.Driver}} {{.Images}}"]),
        "overlay 1\n"
    );
    assert_eq!(
        berth.ok(&["version", "--format", "{{.Client.Version}}"]),
        format!("{}\n", env!("CARGO_PKG_VERSION"))
    );
    let out = berth.run(&["info", "--format", "{{.Driver"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("template"), "{}", stderr(&out));
    let table = berth.ok(&["version"]);
    assert!(table.starts_with("Client: berth\n Version:"), "{table}");
}

#[test]
fn completions_and_the_manual_cover_the_verbs_and_hide_the_monitor() {
    let berth = Berth::new();
    for shell in ["bash", "zsh", "fish"] {
        let script = berth.ok(&["completion", shell]);
        assert!(script.contains("container"), "{shell}");
        assert!(script.contains("network"), "{shell}");
        assert!(!script.contains("__monitor"), "{shell} lists the monitor");
    }
    // bash loads it and completes berth with it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("berth.bash");
    std::fs::write(&file, berth.ok(&["completion", "bash"])).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p berth", file.display()))
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stderr(&check));
    assert!(stdout(&check).contains("berth"), "{}", stdout(&check));
    let man = berth.ok(&["__man"]);
    assert!(man.contains(".TH berth 1"), "{man}");
    let help = berth.ok(&["--help"]);
    assert!(help.contains("container"), "{help}");
    assert!(!help.contains("__"), "{help}");
    let out = berth.run(&["completion", "tcsh"]);
    assert_eq!(out.status.code(), Some(125));
}

#[test]
fn a_bad_command_line_exits_as_dockers() {
    let berth = Berth::new();
    let out = berth.run(&["run", "--no-such-flag", IMAGE]);
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("--no-such-flag"), "{}", stderr(&out));
    // An unknown command is 1 in Docker 28, as an argument count is.
    let out = berth.run(&["no-such-verb"]);
    assert_eq!(out.status.code(), Some(1));
    // Help asked for is not an error.
    let out = berth.run(&["run", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("Usage: berth run"));
}

#[test]
fn the_install_step_puts_berth_its_completions_and_manual_in_place() {
    let prefix = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("bash")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("-c")
        .arg("source scripts/lib.sh && install_berth")
        .env("PREFIX", prefix.path())
        .env("BERTH_BIN", env!("CARGO_BIN_EXE_berth"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let installed = prefix.path().join("bin/berth");
    let version = std::process::Command::new(&installed)
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        stdout(&version),
        format!("berth {}\n", env!("CARGO_PKG_VERSION"))
    );
    for (file, needle) in [
        ("share/man/man1/berth.1", ".TH berth 1"),
        ("share/bash-completion/completions/berth", "complete -F"),
        ("share/zsh/site-functions/_berth", "#compdef berth"),
        (
            "share/fish/vendor_completions.d/berth.fish",
            "complete -c berth",
        ),
    ] {
        let text = std::fs::read_to_string(prefix.path().join(file)).unwrap();
        assert!(text.contains(needle), "{file}");
    }
}

/// A prune's words, how to tell its victim is still there, and its warning.
type PruneCase<'a> = (&'a [&'a str], &'a dyn Fn() -> bool, &'a str);

/// Every prune asks first, also when stdin is not a terminal (Docker reads stdin all the
/// same): only `y` deletes; `n`, or no input at all, deletes nothing and exits 0.
#[test]
fn every_prune_asks_and_deletes_only_on_yes() {
    let berth = Berth::with_image();
    // What each prune would delete, and how to tell it is still there.
    let present = |args: &[&str], want: &str| berth.ok(args).lines().any(|l| l == want);
    let cases: [PruneCase; 5] = [
        (
            &["container", "prune"],
            &|| present(&["ps", "-a", "--format", "{{.Names}}"], "stopped"),
            "WARNING! This will remove all stopped containers.",
        ),
        (
            &["image", "prune"],
            &|| present(&["images", "-a", "--format", "{{.Tag}}"], "<none>"),
            "WARNING! This will remove all dangling images.",
        ),
        (
            &["volume", "prune", "-a"],
            &|| present(&["volume", "ls", "-q"], "vol"),
            "WARNING! This will remove all local volumes not used by at least one container.",
        ),
        (
            &["network", "prune"],
            &|| present(&["network", "ls", "--format", "{{.Name}}"], "net"),
            "WARNING! This will remove all custom networks not used by at least one container.",
        ),
        (
            &["system", "prune", "--volumes"],
            &|| present(&["network", "ls", "--format", "{{.Name}}"], "net"),
            "WARNING! This will remove:\n  - all stopped containers\n",
        ),
    ];
    for (args, still_there, warning) in cases {
        if args[0] == "image" {
            berth.ok(&["run", "--name", "changed", IMAGE, "touch", "/made"]);
            berth.ok(&["commit", "changed"]);
            berth.ok(&["rm", "changed"]);
        } else {
            berth.ok(&["create", "--name", "stopped", IMAGE, "true"]);
        }
        berth.ok(&["volume", "create", "vol"]);
        berth.ok(&["network", "create", "net"]);
        assert!(still_there(), "{args:?}: nothing to prune");
        for input in [&b"n\n"[..], b"", b"yes please\n"] {
            let out = berth.run_with_input(args, input);
            assert_eq!(out.status.code(), Some(0), "{args:?} {input:?}");
            let err = stderr(&out);
            assert!(
                err.starts_with(warning)
                    && err.ends_with("Are you sure you want to continue? [y/N] "),
                "{args:?}: {err:?}"
            );
            assert_eq!(stdout(&out), "", "{args:?} {input:?}");
            assert!(still_there(), "{args:?} deleted on {input:?}");
        }
        // stdin from /dev/null: the end of input is no.
        let out = berth.run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(still_there(), "{args:?} deleted with stdin at its end");
        let out = berth.run_with_input(args, b"y\n");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(!still_there(), "{args:?} kept it on y: {}", stdout(&out));
        // Clean slate for the next prune.
        berth.ok(&["system", "prune", "-f", "--volumes"]);
        let _ = berth.run(&["volume", "rm", "vol"]);
        let _ = berth.run(&["network", "rm", "net"]);
    }
}
