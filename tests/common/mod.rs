//! Test harness: every test gets its own engine root in a temp dir and cleans up every
//! container, mount and cgroup it made, also when it fails (cleanup runs in Drop).
#![allow(dead_code)]

pub mod proxy;
pub mod registry;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The image every fixture archive carries.
pub const IMAGE: &str = "berth-test/busybox:latest";

/// Builds the fixture images once per machine (under a lock, so parallel test binaries
/// share one build) and returns their directory.
pub fn fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::var_os("BERTH_FIXTURES")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".fixtures"));
        std::fs::create_dir_all(&dir).expect("create fixtures dir");
        let lock = File::create(dir.with_extension("lock")).expect("create fixtures lock");
        nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
            .map(|guard| {
                if !fixtures_current(&dir) {
                    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("tests/fixtures/build-images.sh");
                    let status = Command::new("bash")
                        .arg(&script)
                        .arg(&dir)
                        .status()
                        .expect("run fixture builder");
                    assert!(status.success(), "fixture builder failed");
                }
                drop(guard);
            })
            .map_err(|(_, e)| e)
            .expect("lock fixtures");
        dir
    })
}

/// True if the fixtures were built by the builder as it is now.
fn fixtures_current(dir: &Path) -> bool {
    use sha2::Digest;
    let builder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/make_images.py");
    let Ok(source) = std::fs::read(builder) else {
        return false;
    };
    let built = std::fs::read_to_string(dir.join("complete")).unwrap_or_default();
    built.trim() == hex::encode(sha2::Sha256::digest(&source))
}

/// A new pty whose two ends close on exec: the tests of a binary share one process, and a
/// child another test spawns must not inherit this slave, or the master never reads EOF.
pub fn openpty() -> nix::pty::OpenptyResult {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag};
    let pty = nix::pty::openpty(None, None).expect("openpty");
    for fd in [&pty.master, &pty.slave] {
        fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).expect("set FD_CLOEXEC on the pty");
    }
    pty
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The time now in seconds since the epoch, with a fraction, as `events --since` and
/// `--until` take it.
pub fn now_secs() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        .to_string()
}

/// A process's exit code, -1 when a signal ended it.
pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// Each flag set is refused by both `create` and `run` of [`IMAGE`] (named `bad`): exit
/// 125 and one line of stderr holding its words; and no container was made.
pub fn refused_by_create_and_run<'a, F: AsRef<[&'a str]>>(berth: &Berth, cases: &[(F, &str)]) {
    for (flags, words) in cases {
        for verb in ["create", "run"] {
            let mut args = vec![verb, "--name", "bad"];
            args.extend_from_slice(flags.as_ref());
            args.extend([IMAGE, "true"]);
            let out = berth.run(&args);
            let err = stderr(&out);
            assert_eq!(code(&out), 125, "{args:?}: {err}");
            assert!(err.contains(words), "{args:?}: {err}");
            assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        }
    }
    assert_eq!(berth.ok(&["ps", "-aq"]), "", "nothing was created");
}

/// Polls `done` every 50 ms for up to 20 s (the machine may be busy), naming `what` on timeout.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A network namespace of the test's own, held by a `sleep` it started: every berth
/// command of a [`Berth`] runs in it, so the bridges, veths, addresses and nftables rules
/// the engine makes never touch the host's. Loopback is up, as on a host.
pub struct NetNs {
    holder: std::process::Child,
}

impl NetNs {
    pub fn new() -> NetNs {
        let mut holder = Command::new("unshare")
            .args([
                "--net",
                "--",
                "sh",
                "-c",
                "ip link set lo up && exec sleep infinity",
            ])
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn a network namespace holder");
        // Ready once the shell has brought lo up and become the sleep.
        let comm = format!("/proc/{}/comm", holder.id());
        for _ in 0..500 {
            if std::fs::read_to_string(&comm).is_ok_and(|c| c.trim() == "sleep") {
                return NetNs { holder };
            }
            if let Ok(Some(status)) = holder.try_wait() {
                panic!("the network namespace holder exited: {status}");
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("the network namespace holder did not start");
    }

    /// `/proc/PID/ns/net` of the namespace.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/ns/net", self.holder.id()))
    }

    /// `program` run inside the namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("/usr/bin/nsenter");
        cmd.arg(format!("--net={}", self.path().display()))
            .arg("--")
            .arg(program);
        cmd
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

pub struct Berth {
    root: tempfile::TempDir,
    /// Shared by engines made with [`Berth::beside`].
    netns: std::sync::Arc<NetNs>,
    /// The user's config for this engine's commands (logins, dashboard settings), so no
    /// test reads or writes the real user's.
    home: tempfile::TempDir,
}

impl Berth {
    pub fn new() -> Berth {
        Berth::in_netns(std::sync::Arc::new(NetNs::new()))
    }

    fn in_netns(netns: std::sync::Arc<NetNs>) -> Berth {
        Berth {
            root: tempfile::Builder::new()
                .prefix("berth-test-")
                .tempdir()
                .expect("create engine root"),
            netns,
            home: tempfile::Builder::new()
                .prefix("berth-test-home-")
                .tempdir()
                .expect("create a home for the test"),
        }
    }

    /// A second engine, with a root of its own, in `other`'s network namespace (two
    /// engines on one host), with the fixture image loaded.
    pub fn beside(other: &Berth) -> Berth {
        let berth = Berth::in_netns(other.netns.clone());
        berth.ok(&[
            "load",
            "-i",
            fixtures().join("busybox-save.tar").to_str().unwrap(),
        ]);
        berth
    }

    /// The network namespace every command of this engine runs in.
    pub fn netns(&self) -> &NetNs {
        &self.netns
    }

    /// The actions of the journal's events for the container `name`, from `since` until
    /// now, as `events --format json` replays them.
    pub fn container_actions(&self, name: &str, since: &str) -> Vec<String> {
        let until = now_secs();
        let filter = format!("container={name}");
        let out = self.ok(&[
            "events", "--since", since, "--until", &until, "--format", "json", "--filter", &filter,
        ]);
        out.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("JSON event");
                v["Action"].as_str().unwrap_or_default().to_owned()
            })
            .collect()
    }

    /// `ip ARGS` in this engine's network namespace, asserting success; its stdout.
    pub fn ip(&self, args: &[&str]) -> String {
        let out = self
            .netns
            .command("ip")
            .args(args)
            .output()
            .expect("run ip");
        assert!(out.status.success(), "ip {args:?}: {}", stderr(&out));
        stdout(&out)
    }

    /// A macvlan network `name` on 10.50.0.0/24 whose parent is lan0: one end, up, of a
    /// veth pair made in this engine's namespace (this kernel has no dummy interfaces).
    pub fn macvlan_on_a_veth(&self, name: &str) {
        self.ip(&[
            "link", "add", "lan0", "type", "veth", "peer", "name", "lan1",
        ]);
        self.ip(&["link", "set", "lan0", "up"]);
        self.ok(&[
            "network",
            "create",
            "-d",
            "macvlan",
            "--subnet",
            "10.50.0.0/24",
            "-o",
            "parent=lan0",
            name,
        ]);
    }

    /// The words that run berth on this engine, in its network namespace: for tests that
    /// start berth from a shell line or a wrapper.
    pub fn command_words(&self) -> Vec<String> {
        let home = self.home.path().display();
        vec![
            // Full paths: wrappers may execv them without a PATH search.
            "/usr/bin/env".into(),
            format!("HOME={home}"),
            format!("XDG_CONFIG_HOME={home}/.config"),
            format!("DOCKER_CONFIG={home}/.docker"),
            "/usr/bin/nsenter".into(),
            format!("--net={}", self.netns.path().display()),
            "--".into(),
            env!("CARGO_BIN_EXE_berth").into(),
            "--root".into(),
            self.root.path().display().to_string(),
        ]
    }

    /// A fresh engine with the two-layer fixture image loaded.
    pub fn with_image() -> Berth {
        let berth = Berth::new();
        berth.load_image();
        berth
    }

    /// Loads the two-layer fixture image (again).
    pub fn load_image(&self) {
        self.load_fixture("busybox-save.tar");
    }

    /// `load -q -i` of the fixture `name` (an archive or an OCI layout in the fixtures'
    /// directory); its output.
    pub fn load_fixture(&self, name: &str) -> String {
        let path = fixtures().join(name);
        self.ok(&["load", "-q", "-i", path.to_str().unwrap()])
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The names in directory `dir` of the engine root (none where it is missing).
    pub fn root_entries(&self, dir: &str) -> Vec<String> {
        std::fs::read_dir(self.root().join(dir))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The home directory (and config) this engine's commands run with.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The settings file this engine's commands read (`config.toml`), with its directory
    /// made.
    pub fn config_file(&self) -> std::path::PathBuf {
        let dir = self.home.path().join(".config/berth");
        std::fs::create_dir_all(&dir).expect("create the settings directory");
        dir.join("config.toml")
    }

    pub fn cmd(&self) -> Command {
        let mut cmd = self.netns.command(env!("CARGO_BIN_EXE_berth"));
        cmd.arg("--root").arg(self.root.path());
        cmd.env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join(".config"))
            .env("DOCKER_CONFIG", self.home.path().join(".docker"));
        cmd.stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("spawn berth")
    }

    /// Starts berth with its stdout and stderr piped, for the caller to read or wait on.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.cmd()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn berth")
    }

    /// Runs berth, asserts success and returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "berth {:?} failed ({}): {}{}",
            args,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs berth, asserts failure and returns stderr.
    pub fn fail(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "berth {:?} should have failed: {}",
            args,
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Runs berth, asserts success, and returns the first object of the JSON array it
    /// prints (`inspect`, `volume inspect`, ...).
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.ok(args);
        let all: serde_json::Value = serde_json::from_str(&out).expect("berth prints JSON");
        all[0].clone()
    }

    /// `berth inspect NAME`: a container, or else an image.
    pub fn inspect(&self, name: &str) -> serde_json::Value {
        self.json(&["inspect", name])
    }

    /// A container's writable layer on the host.
    pub fn upper_dir(&self, container: &str) -> PathBuf {
        let info = self.inspect(container);
        PathBuf::from(
            info["GraphDriver"]["Data"]["UpperDir"]
                .as_str()
                .expect("UpperDir"),
        )
    }

    /// Runs berth with `input` on its stdin (it may stop reading early, on refusing it).
    pub fn run_with_input(&self, args: &[&str], input: &[u8]) -> Output {
        use std::io::Write;
        let mut child = self
            .cmd()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn berth");
        let _ = child.stdin.take().expect("piped stdin").write_all(input);
        child.wait_with_output().expect("wait for berth")
    }

    /// Runs berth on a new pty, typing each of `inputs` half a second apart, and returns
    /// (exit code, everything shown).
    pub fn on_terminal(&self, args: &[&str], inputs: &[&str]) -> (i32, String) {
        use std::io::{Read, Write};
        let pty = openpty();
        let slave = File::from(pty.slave);
        let mut child = self
            .cmd()
            .args(args)
            .stdin(slave.try_clone().expect("pty"))
            .stdout(slave.try_clone().expect("pty"))
            .stderr(slave)
            .spawn()
            .expect("spawn berth");
        let mut master = File::from(pty.master);
        let reader = {
            let mut master = master.try_clone().expect("pty");
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n) = master.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    seen.extend_from_slice(&buf[..n]);
                }
                String::from_utf8_lossy(&seen).into_owned()
            })
        };
        for input in inputs {
            std::thread::sleep(std::time::Duration::from_millis(500));
            master.write_all(input.as_bytes()).expect("type on the pty");
        }
        let status = child.wait().expect("wait for berth");
        drop(master);
        // The reader ends with EIO once every slave fd is closed.
        let seen = reader.join().expect("pty reader");
        (status.code().unwrap_or(-1), seen)
    }

    fn container_ids(&self) -> Vec<String> {
        std::fs::read_dir(self.root.path().join("containers"))
            .map(|dir| {
                dir.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.len() == 64)
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Berth {
    fn drop(&mut self) {
        let ids = self.container_ids();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(ids.iter().map(String::as_str));
            let _ = self
                .cmd()
                .args(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        wait_for_processes_of(self.root.path());
        unmount_below(self.root.path());
        for id in &ids {
            remove_cgroups(id);
        }
    }
}

/// PIDs of the processes whose command line names `root` (the engine's monitors, and
/// any CLI still at work on it).
pub fn processes_of(root: &Path) -> Vec<i32> {
    let needle = root.as_os_str().as_encoded_bytes();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            cmdline
                .windows(needle.len())
                .any(|w| w == needle)
                .then_some(pid)
        })
        .collect()
}

/// Waits (up to 10 s) until no process runs with `root` in its arguments: monitors finish
/// a `run --rm` (deleting the container's directory) after the CLI has returned, and the
/// root must not be removed under them.
fn wait_for_processes_of(root: &Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !processes_of(root).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Detaches every mount at or below `dir`, deepest first.
pub fn unmount_below(dir: &Path) {
    let Ok(mountinfo) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let mut targets: Vec<&str> = mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .filter(|target| Path::new(target).starts_with(dir))
        .collect();
    targets.sort_by_key(|t| std::cmp::Reverse(t.len()));
    for target in targets {
        let _ = nix::mount::umount2(target, nix::mount::MntFlags::MNT_DETACH);
    }
}

/// Removes the container's cgroups in every hierarchy, if the engine left any behind.
pub fn remove_cgroups(id: &str) {
    let Ok(hierarchies) = std::fs::read_dir("/sys/fs/cgroup") else {
        return;
    };
    for h in hierarchies.filter_map(|e| e.ok()) {
        let dir = h.path().join("berth").join(id);
        if dir.exists() {
            let _ = std::fs::remove_dir(&dir);
        }
    }
    let _ = std::fs::remove_dir(Path::new("/sys/fs/cgroup").join("berth").join(id));
}
