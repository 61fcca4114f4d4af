//! Registry logins: `berth login`/`logout` and pulls from a registry that asks for
//! credentials (docker-registry with an htpasswd file, Basic), Docker's config.json
//! honoured, and a Bearer token exchange against a small fake registry.

use crate::common;

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
    assert!(err.contains("username or password"), "{err}");
    assert!(!home.auth_file().exists());

    // No password and no terminal to ask on: Docker's refusal.
    let out = home.run(&berth, &["login", "-u", USER, &registry.host()]);
    assert!(!out.status.success());
    assert_eq!(
        text(&out.stderr),
        "Error: Cannot perform an interactive login from a non TTY device\n"
    );
    assert!(!home.auth_file().exists());
}

/// On a terminal, login asks for what it was not given, the password without echo.
#[test]
fn login_prompts_on_a_terminal() {
    let berth = Berth::new();
    let registry = locked(&berth);
    let host = registry.host();
    let (rc, seen) = berth.on_terminal(
        &["login", &host],
        &[&format!("{USER}\n"), &format!("{PASSWORD}\n")],
    );
    assert_eq!(rc, 0, "{seen}");
    assert!(seen.contains("Username: "), "{seen}");
    assert!(
        seen.contains(&format!("{USER}\r\nPassword: ")),
        "the name is echoed: {seen}"
    );
    assert!(!seen.contains(PASSWORD), "the password was echoed: {seen}");
    assert!(seen.contains("Login Succeeded"), "{seen}");
    // The stored credentials work.
    let name = format!("{host}/test/busybox:latest");
    berth.ok(&["pull", "-q", &name]);
    // `images --digests` shows the digest it was pulled by.
    let repo_digest = berth.ok(&["image", "inspect", "-f", "{{index .RepoDigests 0}}", &name]);
    let (_, digest) = repo_digest.trim().split_once('@').expect("a repo digest");
    let table = berth.ok(&["images", "--digests"]);
    let row: Vec<&str> = table
        .lines()
        .nth(1)
        .expect("a row")
        .split_whitespace()
        .collect();
    assert_eq!(
        row[..3],
        [format!("{host}/test/busybox").as_str(), "latest", digest],
        "{table}"
    );

    // A user name given: only the password is asked for.
    let (rc, seen) = berth.on_terminal(&["login", "-u", USER, &host], &[&format!("{PASSWORD}\n")]);
    assert_eq!(rc, 0, "{seen}");
    assert!(
        !seen.contains("Username: ") && seen.contains("Password: "),
        "{seen}"
    );

    // Without a terminal and without -u: Docker's refusal, before anything is read.
    let out = berth.run(&["login", &host]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "Error: Cannot perform an interactive login from a non TTY device\n"
    );
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
    let write_config = |password: &str| {
        let config = serde_json::json!({
            "auths": { format!("http://{}", registry.host()): {
                "auth": base64_of(&format!("{USER}:{password}"))
            }}
        });
        std::fs::write(docker.join("config.json"), config.to_string()).expect("config.json");
    };
    let name = format!("{}/test/busybox:latest", registry.host());
    write_config("stale");
    let out = home.run(&berth, &["pull", "-q", &name]);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(&format!(
            "(the credentials for {} in {} were refused)",
            registry.host(),
            docker.join("config.json").display()
        )),
        "{err}"
    );
    write_config(PASSWORD);
    let out = home.run(&berth, &["pull", "-q", &name]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!home.auth_file().exists());
}

/// A fake registry speaking Docker's token protocol, on 127.0.0.1 in a Berth's network
/// namespace: `/v2/` answers 401 with a Bearer challenge naming `realm`; `/token` hands
/// out a token for USER/PASSWORD (Basic) and 401 otherwise; `/v2/` with that token
/// answers 200. Every request line and Authorization header is recorded.
struct TokenRegistry {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

const TOKEN: &str = "tok-3f9a.b";

impl TokenRegistry {
    /// `realm`: the token URL, with `{port}` replaced by the server's port.
    fn start(berth: &Berth, realm: &str) -> TokenRegistry {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::{mpsc, Arc, Mutex};
        let netns = berth.netns().path();
        let realm = realm.to_owned();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let (seen2, stop2) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            // This thread alone joins the test's namespace: only that Berth reaches it.
            let ns = std::fs::File::open(&netns).expect("open netns");
            let rc =
                unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&ns), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns");
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let port = listener.local_addr().expect("addr").port();
            listener.set_nonblocking(true).expect("nonblocking");
            tx.send(port).expect("send port");
            let realm = realm.replace("{port}", &port.to_string());
            while !stop2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => serve(stream, &realm, &seen2),
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
                }
            }
        });
        let port = rx.recv().expect("server port");
        TokenRegistry {
            port,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().expect("seen").clone()
    }
}

impl Drop for TokenRegistry {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(stream: std::net::TcpStream, realm: &str, seen: &std::sync::Mutex<Vec<String>>) {
    use std::io::{BufRead, BufReader, Write};
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
    let mut reader = BufReader::new(stream);
    let mut request = String::new();
    let mut authorization = String::new();
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
        let trimmed = line.trim_end().to_owned();
        line.clear();
        if trimmed.is_empty() {
            break;
        }
        if request.is_empty() {
            request = trimmed;
        } else if let Some(value) = trimmed
            .split_once(':')
            .filter(|(name, _)| name.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.trim().to_owned())
        {
            authorization = value;
        }
    }
    seen.lock()
        .expect("seen")
        .push(format!("{request} | {authorization}"));
    let path = request.split(' ').nth(1).unwrap_or("");
    let basic = format!("Basic {}", base64_of(&format!("{USER}:{PASSWORD}")));
    let (status, headers, body) = if path.starts_with("/token") {
        if authorization == basic {
            (
                "200 OK",
                String::new(),
                format!(r#"{{"access_token":"{TOKEN}"}}"#),
            )
        } else {
            (
                "401 Unauthorized",
                String::new(),
                r#"{"details":"bad login"}"#.into(),
            )
        }
    } else if authorization == format!("Bearer {TOKEN}") {
        ("200 OK", String::new(), "{}".into())
    } else {
        (
            "401 Unauthorized",
            format!(
                "WWW-Authenticate: Bearer realm=\"{realm}\",service=\"fake, registry\",scope=\"registry:catalog:*\"\r\n"
            ),
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"token required"}]}"#.into(),
        )
    };
    let mut stream = reader.into_inner();
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

#[test]
fn bearer_login_fetches_a_token_with_the_credentials() {
    let berth = Berth::new();
    let registry = TokenRegistry::start(&berth, "http://127.0.0.1:{port}/token");
    let home = Home::new();
    let out = home.login(&berth, &registry.host(), "wrong");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("token server"), "{err}");
    assert!(err.contains("401 Unauthorized"), "{err}");
    assert!(!home.auth_file().exists());

    let out = home.login(&berth, &registry.host(), PASSWORD);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let seen = registry.seen();
    // The challenge's service (a quoted string with a comma) and scope, form-encoded.
    assert_eq!(
        seen[seen.len() - 2],
        format!(
            "GET /token?service=fake%2C+registry&scope=registry%3Acatalog%3A* HTTP/1.1 | Basic {}",
            base64_of(&format!("{USER}:{PASSWORD}"))
        ),
        "{seen:?}"
    );
    assert_eq!(
        seen.last().expect("requests"),
        &format!("GET /v2/ HTTP/1.1 | Bearer {TOKEN}"),
        "{seen:?}"
    );
}

#[test]
fn a_plain_http_realm_elsewhere_is_refused() {
    let berth = Berth::new();
    let registry = TokenRegistry::start(&berth, "http://token.example/token");
    let home = Home::new();
    let out = home.login(&berth, &registry.host(), PASSWORD);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("http://token.example/token is plain HTTP: refused"),
        "{err}"
    );
    assert!(
        registry.seen().iter().all(|r| !r.contains("Basic")),
        "{:?}",
        registry.seen()
    );
}
