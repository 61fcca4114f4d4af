//! The README's examples, run as printed and in order, after the demo's set-up
//! (`demo_containers` in scripts/lib.sh), on a fresh engine root in a network namespace of
//! the test's own, so the README can never drift from what berth does.
//!
//! Every line of every `sh` block from the "CLI" section on is one example. A line runs
//! in bash, with `berth` on PATH and `BERTH_ROOT` set, from a scratch directory, and must
//! exit 0, except:
//! - a line whose comment says "refused" must fail;
//! - a line with `-it` gets a terminal and has `exit` typed into it;
//! - a line whose comment names a way out (`ctrl-c`, `ctrl-p ctrl-q`, `ctrl-a d`) follows
//!   or attaches: it gets a terminal, must still be running after a moment, and must end
//!   once those keys are typed.
use crate::common;

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::Berth;

/// How long one example may take before the test calls it hung.
const LINE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, PartialEq)]
enum Kind {
    /// Runs to its end and must succeed.
    Plain,
    /// Must fail (its comment says it is refused).
    Refused,
    /// A shell on a terminal: `exit` is typed into it, and it must succeed.
    Shell,
    /// Follows or attaches until these keys are typed on its terminal.
    LeftWith(&'static [u8]),
}

#[derive(Debug)]
struct Example {
    /// 1-based line in README.md.
    line_no: usize,
    text: String,
    kind: Kind,
}

/// The examples of `readme`: each line of the `sh` blocks after `## CLI` (a line ending in
/// `\` continues on the next), comment-only lines left out.
fn examples(readme: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut in_cli = false;
    let mut in_block = false;
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in readme.lines().enumerate() {
        if line.starts_with("## ") {
            in_cli |= line == "## CLI";
        }
        if !in_cli {
            continue;
        }
        if line.starts_with("```") {
            in_block = line == "```sh";
            continue;
        }
        if !in_block {
            continue;
        }
        let (line_no, mut text) = pending.take().unwrap_or((i + 1, String::new()));
        if let Some(head) = line.strip_suffix('\\') {
            text.push_str(head);
            pending = Some((line_no, text));
            continue;
        }
        text.push_str(line);
        if text.trim().is_empty() || text.trim_start().starts_with('#') {
            continue;
        }
        let kind = kind_of(&text);
        out.push(Example {
            line_no,
            text,
            kind,
        });
    }
    out
}

fn kind_of(text: &str) -> Kind {
    let comment = text.split_once(" #").map_or("", |(_, c)| c);
    let command = text.split_once(" #").map_or(text, |(c, _)| c);
    if comment.contains("refused") {
        Kind::Refused
    } else if comment.contains("ctrl-p ctrl-q") {
        Kind::LeftWith(b"\x10\x11")
    } else if comment.contains("ctrl-a d") {
        Kind::LeftWith(b"\x01d")
    } else if comment.contains("ctrl-c") {
        Kind::LeftWith(b"\x03")
    } else if command.split_whitespace().any(|w| w == "-it") {
        Kind::Shell
    } else {
        Kind::Plain
    }
}

/// Processes an example left running on purpose (the registry it starts in the
/// background), killed by PID when the test ends.
#[derive(Default)]
struct Leftovers(Vec<i32>);

impl Leftovers {
    /// Remembers every live process of process group `pgid`.
    fn collect(&mut self, pgid: i32) {
        for pid in processes_in_group(pgid) {
            if !self.0.contains(&pid) {
                self.0.push(pid);
            }
        }
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        for &pid in &self.0 {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

fn processes_in_group(pgid: i32) -> Vec<i32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // Fields after the command's closing paren: state, ppid, pgrp, ...
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(2).and_then(|p| p.parse::<i32>().ok()) == Some(pgid) && fields[0] != "Z" {
            pids.push(pid);
        }
    }
    pids
}

struct Scene {
    berth: Berth,
    bin_dir: tempfile::TempDir,
    work: tempfile::TempDir,
    leftovers: Leftovers,
}

impl Scene {
    fn new() -> Scene {
        let berth = Berth::new();
        let bin_dir = tempfile::tempdir().expect("bin dir");
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_berth"), bin_dir.path().join("berth"))
            .expect("put berth on PATH");
        // The macvlan example's parent: a veth end named eth1, in the test's namespace.
        berth.ip(&[
            "link",
            "add",
            "eth1",
            "type",
            "veth",
            "peer",
            "name",
            "eth1-peer",
        ]);
        Scene {
            berth,
            bin_dir,
            work: tempfile::tempdir().expect("work dir"),
            leftovers: Leftovers::default(),
        }
    }

    /// `bash -c script` as a user would run it: berth on PATH, this engine's root, the
    /// scratch directory as the current one, in a process group of its own.
    fn bash(&self, script: &str) -> Command {
        let path = format!(
            "{}:{}",
            self.bin_dir.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = self.berth.netns().command("bash");
        cmd.args(["-c", script])
            .current_dir(self.work.path())
            .env("PATH", path)
            .env("SHELL", "/bin/bash")
            .env("BERTH_ROOT", self.berth.root())
            .env("HOME", self.berth.home())
            .env("XDG_CONFIG_HOME", self.berth.home().join(".config"))
            .env("DOCKER_CONFIG", self.berth.home().join(".docker"))
            .env("TERM", "xterm")
            .process_group(0);
        cmd
    }

    fn log_path(&self, line_no: usize) -> PathBuf {
        self.work.path().join(format!(".example-{line_no}.log"))
    }

    /// Runs one example; says what went wrong, if anything.
    fn run(&mut self, example: &Example) -> Result<(), String> {
        let log = self.log_path(example.line_no);
        let out = std::fs::File::create(&log).expect("example log");
        let on_terminal = !matches!(example.kind, Kind::Plain | Kind::Refused);
        let mut cmd = if on_terminal {
            // script(1) gives the line a terminal of its own, as a user's shell has.
            let quoted = format!("script -qefc {} /dev/null", shell_quote(&example.text));
            self.bash(&quoted)
        } else {
            self.bash(&example.text)
        };
        let mut child = cmd
            .stdin(if on_terminal {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .spawn()
            .expect("spawn bash");
        let pgid = child.id() as i32;
        let status = match example.kind {
            Kind::Plain | Kind::Refused => wait_for(&mut child, LINE_TIMEOUT),
            Kind::Shell => {
                std::thread::sleep(Duration::from_millis(1500));
                type_keys(&mut child, b"exit\n");
                wait_for(&mut child, LINE_TIMEOUT)
            }
            Kind::LeftWith(keys) => {
                std::thread::sleep(Duration::from_millis(2000));
                if let Some(early) = child.try_wait().expect("try_wait") {
                    return Err(format!(
                        "README.md:{}: `{}` ended ({early}) before its keys were typed:\n{}",
                        example.line_no,
                        example.text,
                        read(&log)
                    ));
                }
                type_keys(&mut child, keys);
                wait_for(&mut child, Duration::from_secs(15))
            }
        };
        drop(child.stdin.take());
        self.leftovers.collect(pgid);
        let problem = match (status, &example.kind) {
            (None, _) => "did not end".to_string(),
            (Some(status), Kind::Refused) if status.success() => {
                "says it is refused, but it succeeded".to_string()
            }
            (Some(status), Kind::Plain | Kind::Shell) if !status.success() => {
                format!("failed ({status})")
            }
            _ => return Ok(()),
        };
        Err(format!(
            "README.md:{}: `{}` {problem}:\n{}",
            example.line_no,
            example.text,
            read(&log)
        ))
    }
}

fn type_keys(child: &mut Child, keys: &[u8]) {
    let stdin = child.stdin.as_mut().expect("piped stdin");
    stdin.write_all(keys).expect("type on the terminal");
    stdin.flush().expect("type on the terminal");
}

/// Waits for `child` up to `limit`; kills its process group if it is still running then.
fn wait_for(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn read(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
}

#[test]
fn every_readme_example_works_as_printed_in_order_after_the_demo() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("read README.md");
    let examples = examples(&readme);
    assert!(
        examples.len() > 80,
        "only {} examples found in README.md",
        examples.len()
    );

    let mut scene = Scene::new();
    let demo = format!(
        "source {}/scripts/lib.sh && demo_containers berth {}",
        env!("CARGO_MANIFEST_DIR"),
        common::fixtures().display()
    );
    let out = scene.bash(&demo).output().expect("run the demo's set-up");
    assert!(
        out.status.success(),
        "the demo's set-up failed:\n{}{}",
        common::stdout(&out),
        common::stderr(&out)
    );
    // Every example runs, so one failure does not hide the next.
    let failures: Vec<String> = examples
        .iter()
        .filter_map(|example| scene.run(example).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} README examples failed:\n\n{}",
        failures.len(),
        examples.len(),
        failures.join("\n")
    );
}

#[test]
fn examples_are_read_by_their_comments() {
    let readme = "## Two commands\n```sh\nbash scripts/demo.sh\n```\n## CLI\n```sh\n\
        # a comment line\n\
        berth volume rm v   # refused while used\n\
        berth run -it --rm img sh\n\
        berth run -dit --name s img sh\n\
        berth logs -f web   # ctrl-c stops following\n\
        berth attach --detach-keys ctrl-a,d s   # ctrl-a d detaches\n\
        berth run --rm img \\\n  echo hi\n```\n```text\nberth not-an-example\n```\n";
    let found = examples(readme);
    let kinds: Vec<(&str, &Kind)> = found.iter().map(|e| (e.text.as_str(), &e.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            ("berth volume rm v   # refused while used", &Kind::Refused),
            ("berth run -it --rm img sh", &Kind::Shell),
            ("berth run -dit --name s img sh", &Kind::Plain),
            (
                "berth logs -f web   # ctrl-c stops following",
                &Kind::LeftWith(b"\x03")
            ),
            (
                "berth attach --detach-keys ctrl-a,d s   # ctrl-a d detaches",
                &Kind::LeftWith(b"\x01d")
            ),
            ("berth run --rm img   echo hi", &Kind::Plain),
        ]
    );
    assert_eq!(found[5].line_no, 13);
}
