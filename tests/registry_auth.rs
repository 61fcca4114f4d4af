//! Registry logins: `berth login`/`logout` and pulls from a registry that asks for
//! credentials (docker-registry with an htpasswd file, Basic), Docker's config.json
//! honoured, and a Bearer token exchange against a small fake registry.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::registry::Registry;
use common::{fixtures, Berth};

const USER: &str = "tester";
const PASSWORD: &str = "s3cret-pa55";

/// A registry that asks for USER/PASSWORD, holding `test/busybox:latest`.
fn locked(berth: &Berth) -> Registry {
    let registry = Registry::start_with_login(berth.netns(), USER, PASSWORD);
    registry.seed(
        &fixtures().join("busybox-oci"),
        "latest",
        "test/busybox:latest",
    );
    registry
}

/// A home directory of the test's own: berth's config and Docker's live below it.
struct Home(tempfile::TempDir);

impl Home {
    fn new() -> Home {
        Home(
            tempfile::Builder::new()
                .prefix("berth-home-")
                .tempdir()
                .expect("home"),
        )
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
    fn auth_file(&self) -> PathBuf {
        self.path().join(".config/berth/auth.json")
    }
    fn cmd(&self, berth: &Berth, args: &[&str]) -> Command {
        let mut cmd = berth.cmd();
        cmd.args(args)
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join(".config"))
            .env_remove("DOCKER_CONFIG");
        cmd
    }
    fn run(&self, berth: &Berth, args: &[&str]) -> Output {
        self.cmd(berth, args).output().expect("spawn berth")
    }
    fn run_with_input(&self, berth: &Berth, args: &[&str], input: &str) -> Output {
        use std::io::Write;
        let mut child = self
            .cmd(berth, args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn berth");
        let _ = child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes());
        child.wait_with_output().expect("wait for berth")
    }
    fn login(&self, berth: &Berth, host: &str, password: &str) -> Output {
        self.run_with_input(
            berth,
            &["login", "-u", USER, "--password-stdin", host],
            &format!("{password}\n"),
        )
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn base64_of(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn pull_without_login_fails_naming_the_401() {
    let berth = Berth::new();
    let registry = locked(&berth);
    let home = Home::new();
    let name = format!("{}/test/busybox:latest", registry.host());
    let out = home.run(&berth, &["pull", &name]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains(&format!("pulling {name}")), "{err}");
    assert!(err.contains("401 Unauthorized"), "{err}");
    assert!(
        err.contains(&format!(
            "no credentials: run berth login {}",
            registry.host()
        )),
        "{err}"
    );
    assert!(text(&home.run(&berth, &["images", "-q"]).stdout)
        .trim()
        .is_empty());
}

#[test]
fn login_with_a_wrong_password_stores_nothing() {
    let berth = Berth::new();
    let registry = Registry::start_with_login(berth.netns(), USER, PASSWORD);
    let home = Home::new();
    let out = home.login(&berth, &registry.host(), "wrong");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("logging in to {}", registry.host())),
        "{err}"
    );
    assert!(err.contains("401 Unauthorized"), "{err}");
    assert!(!home.auth_file().exists());

    let out = home.run(&berth, &["login", "-u", USER, &registry.host()]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--password-stdin"));
}

#[test]
fn login_then_pull_then_logout() {
    let berth = Berth::new();
    let registry = locked(&berth);
    let home = Home::new();
    let host = registry.host();
    let out = home.login(&berth, &host, PASSWORD);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "Login Succeeded");

    let file = home.auth_file();
    let mode = std::fs::metadata(&file)
        .expect("auth.json")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let stored = std::fs::read_to_string(&file).expect("read auth.json");
    assert!(!stored.contains(PASSWORD), "{stored}");
    let json: serde_json::Value = serde_json::from_str(&stored).expect("JSON");
    assert_eq!(
        json["auths"][&host]["auth"],
        base64_of(&format!("{USER}:{PASSWORD}"))
    );

    let name = format!("{host}/test/busybox:latest");
    let out = home.run(&berth, &["pull", &name]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = home.run(&berth, &["run", "--rm", &name, "echo", "pulled"]);
    assert_eq!(text(&out.stdout).trim(), "pulled", "{}", text(&out.stderr));

    let out = home.run(&berth, &["logout", &host]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).trim(),
        format!("Removing login credentials for {host}")
    );
    let stored = std::fs::read_to_string(&file).expect("read auth.json");
    assert!(!stored.contains(&host), "{stored}");
    home.run(&berth, &["rmi", &name]);
    let out = home.run(&berth, &["pull", &name]);
    assert!(!out.status.success());
}

#[test]
fn docker_config_auths_are_honoured() {
    let berth = Berth::new();
    let registry = locked(&berth);
    let home = Home::new();
    let docker = home.path().join(".docker");
    std::fs::create_dir_all(&docker).expect("mkdir .docker");
    let config = serde_json::json!({
        "auths": { format!("http://{}", registry.host()): {
            "auth": base64_of(&format!("{USER}:{PASSWORD}"))
        }}
    });
    std::fs::write(docker.join("config.json"), config.to_string()).expect("config.json");
    let name = format!("{}/test/busybox:latest", registry.host());
    let out = home.run(&berth, &["pull", "-q", &name]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!home.auth_file().exists());
}
