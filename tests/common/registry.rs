//! A private OCI registry for pull tests: Debian's `docker-registry` with a config of the
//! test's own, listening on 127.0.0.1 inside a Berth's network namespace (so only that
//! Berth reaches it), storage in a temp dir, killed by PID on Drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::NetNs;

pub struct Registry {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    netns_path: PathBuf,
    /// `user:password` when the registry asks for a login.
    creds: Option<String>,
}

impl Registry {
    /// Starts a registry in `netns` and waits until it answers `/v2/`.
    pub fn start(netns: &NetNs) -> Registry {
        Registry::start_with(netns, None)
    }

    /// A registry in `netns` holding `test/busybox:latest` (the busybox-oci fixture).
    pub fn with_busybox(netns: &NetNs) -> Registry {
        let registry = Registry::start(netns);
        registry.seed(
            &super::fixtures().join("busybox-oci"),
            "latest",
            "test/busybox:latest",
        );
        registry
    }

    /// A registry that asks for `user`/`password` (Basic, from an htpasswd file).
    pub fn start_with_login(netns: &NetNs, user: &str, password: &str) -> Registry {
        Registry::start_with(netns, Some((user, password)))
    }

    /// A registry whose catalog answers at most `max_entries` repositories a page (and
    /// refuses to be asked for more), as a registry's `catalog: maxentries` sets it.
    pub fn start_paged(netns: &NetNs, max_entries: usize) -> Registry {
        Registry::start_configured(
            netns,
            None,
            &format!("catalog:\n  maxentries: {max_entries}\n"),
        )
    }

    fn start_with(netns: &NetNs, login: Option<(&str, &str)>) -> Registry {
        Registry::start_configured(netns, login, "")
    }

    fn start_configured(netns: &NetNs, login: Option<(&str, &str)>, extra: &str) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("berth-registry-")
            .tempdir()
            .expect("create registry dir");
        // The namespace is the test's own and new, so any port in it is free.
        let mut seed = [0u8; 2];
        getrandom::fill(&mut seed).expect("random port");
        let port = 20000 + u16::from_le_bytes(seed) % 30000;
        let config = format!(
            "version: 0.1\n\
             log:\n  level: warn\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             http:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("storage").display()
        );
        let mut config = config;
        config.push_str(extra);
        if let Some((user, password)) = login {
            // bcrypt, the only hash docker-registry accepts.
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, password])
                .output()
                .expect("run htpasswd (apt-get install -y apache2-utils)");
            assert!(out.status.success(), "htpasswd failed");
            let htpasswd = dir.path().join("htpasswd");
            std::fs::write(&htpasswd, &out.stdout).expect("write htpasswd");
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: berth-test\n    path: {}\n",
                htpasswd.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("write registry config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("registry log");
        let child = netns
            .command("/usr/bin/docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("registry log"))
            .stderr(log)
            .spawn()
            .expect("start docker-registry (apt-get install -y docker-registry)");
        let mut registry = Registry {
            child,
            port,
            dir,
            netns_path: netns.path(),
            creds: login.map(|(u, p)| format!("{u}:{p}")),
        };
        registry.wait_ready();
        registry
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let url = format!("http://{}/v2/", self.host());
        while Instant::now() < deadline {
            let mut curl = self.in_netns("curl");
            if let Some(creds) = &self.creds {
                curl.args(["-u", creds]);
            }
            let ok = curl
                .args(["-fsS", "-o", "/dev/null", "--max-time", "2", &url])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("docker-registry exited ({status}): {}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("docker-registry did not answer {url}: {}", self.log());
    }

    fn in_netns(&self, program: &str) -> Command {
        let mut cmd = Command::new("/usr/bin/nsenter");
        cmd.arg(format!("--net={}", self.netns_path.display()))
            .arg("--")
            .arg(program);
        cmd
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Copies `oci:<layout>:<tag>` to `<host>/<repo>` with skopeo (`--all`: every platform
    /// of an index).
    pub fn seed(&self, layout: &Path, tag: &str, repo: &str) {
        let mut skopeo = self.in_netns("skopeo");
        skopeo
            .args(["--insecure-policy", "copy", "-q", "--all"])
            .arg("--dest-tls-verify=false");
        if let Some(creds) = &self.creds {
            skopeo.arg(format!("--dest-creds={creds}"));
        }
        let out = skopeo
            .arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{}/{repo}", self.host()))
            .stdin(Stdio::null())
            .output()
            .expect("run skopeo (apt-get install -y skopeo)");
        assert!(
            out.status.success(),
            "skopeo copy to {repo} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Lists `repo` again as each of `names` (a copy of its directory in the registry's
    /// storage, which is what its catalog walks): many repositories without a push each.
    pub fn copy_repository(&self, repo: &str, names: &[String]) {
        let repositories = self
            .dir
            .path()
            .join("storage/docker/registry/v2/repositories");
        for name in names {
            let to = repositories.join(name);
            std::fs::create_dir_all(to.parent().unwrap()).expect("create repository parent");
            let status = Command::new("cp")
                .arg("-a")
                .arg(repositories.join(repo))
                .arg(&to)
                .status()
                .expect("run cp");
            assert!(status.success(), "copy {repo} to {name}");
        }
    }

    /// The file the registry serves a blob from.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
        self.dir
            .path()
            .join("storage/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // nsenter execs the registry, so this PID is the registry's own.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
