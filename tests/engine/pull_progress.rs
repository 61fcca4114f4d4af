//! `berth pull` on a terminal draws a bar per layer and a total (indicatif); piped it
//! prints one line per step (tests/engine/registry.rs). The terminal is a pty from `script`.

use crate::common;

use common::registry::Registry;
use common::Berth;

#[test]
fn a_pull_on_a_terminal_draws_bars_for_each_layer_and_a_total() {
    let berth = Berth::new();
    let registry = Registry::with_busybox(berth.netns());
    let line = format!(
        "{} pull {}/test/busybox:latest",
        berth.command_words().join(" "),
        registry.host()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run script");
    assert!(out.status.success(), "{}", common::stderr(&out));
    let screen = String::from_utf8_lossy(&out.stdout).replace('\r', "\n");
    // Both layers end complete, and the total's last state shows everything received.
    assert!(screen.matches("Pull complete").count() >= 2, "{screen}");
    let total = screen
        .lines()
        .rfind(|l| l.contains("total") && l.contains('['))
        .unwrap_or_else(|| panic!("no total bar: {screen}"));
    let bytes = total.split_whitespace().collect::<Vec<_>>().join(" ");
    let (done, all) = bytes
        .split_once('/')
        .unwrap_or_else(|| panic!("no done/total in {total:?}"));
    let done: Vec<&str> = done.rsplitn(3, ' ').take(2).collect();
    let all: Vec<&str> = all.splitn(3, ' ').take(2).collect();
    assert_eq!(done, [all[1], all[0]], "{total:?}");
    assert!(
        total.contains("[=============================="),
        "{total:?}"
    );
    assert!(
        screen.contains("Status: Downloaded newer image for"),
        "{screen}"
    );
}
