//! `berth search`: a registry named in the term is asked for its catalog and the
//! matching repositories listed in Docker's table; Docker Hub's search is answered with
//! one clear line.

use crate::common;

use common::registry::Registry;
use common::{fixtures, stderr, stdout, Berth};

#[test]
fn search_lists_a_registrys_matching_repositories_in_dockers_table() {
    let berth = Berth::new();
    let registry = Registry::start(berth.netns());
    let layout = fixtures().join("busybox-oci");
    registry.seed(&layout, "latest", "test/busybox:latest");
    registry.seed(&layout, "latest", "tools/busybox-extra:latest");
    registry.seed(&layout, "latest", "other/alpine:latest");
    let host = registry.host();
    let out = berth.run(&["search", &format!("{host}/busybox")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["NAME", "DESCRIPTION", "STARS", "OFFICIAL"]);
    let names: Vec<&str> = lines[1..].iter().map(|l| l[0]).collect();
    assert_eq!(
        names,
        [
            format!("{host}/test/busybox"),
            format!("{host}/tools/busybox-extra")
        ]
    );
    // --limit bounds the list.
    let out = berth.run(&["search", "--limit", "1", &format!("{host}/busybox")]);
    assert_eq!(stdout(&out).lines().count(), 2);
    // What a name found is, pull takes.
    berth.ok(&["pull", "-q", &format!("{host}/test/busybox")]);
}

#[test]
fn search_without_a_registry_says_why_in_one_line() {
    let berth = Berth::new();
    let out = berth.run(&["search", "busybox"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("cannot search Docker Hub"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // A registry that doesn't answer is named.
    let out = berth.run(&["search", "127.0.0.1:1/busybox"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("searching 127.0.0.1:1"),
        "{}",
        stderr(&out)
    );
}

/// A registry that pages its catalog (100 a page at most, and refusing more): berth
/// follows its `Link`s past the first page, and takes Docker's `--limit`, `--filter` and
/// `--format`.
#[test]
fn search_follows_the_catalogs_pages_and_takes_dockers_limit_filter_and_format() {
    let berth = Berth::new();
    let registry = Registry::start_paged(berth.netns(), 100);
    let layout = fixtures().join("busybox-oci");
    registry.seed(&layout, "latest", "test/busybox:latest");
    // 120 repositories before it in the catalog's order: it is on the second page.
    let bulk: Vec<String> = (0..120).map(|i| format!("bulk/repo-{i:03}")).collect();
    registry.copy_repository("test/busybox", &bulk);
    let host = registry.host();
    let search = |args: &[&str]| {
        let mut all = vec!["search"];
        all.extend_from_slice(args);
        berth.run(&all)
    };
    let out = search(&["--format", "{{.Name}}", &format!("{host}/busybox")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{host}/test/busybox\n"));
    // --limit counts up to 100, across pages; Docker's range is refused in its words.
    let out = search(&[
        "--limit",
        "100",
        "--format",
        "{{.Name}}",
        &format!("{host}/repo"),
    ]);
    assert_eq!(stdout(&out).lines().count(), 100, "{}", stderr(&out));
    for bad in ["0", "101"] {
        let out = search(&["--limit", bad, &format!("{host}/repo")]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains(&format!("Limit {bad} is outside the range of [1, 100]")),
            "{}",
            stderr(&out)
        );
    }
    // Every field of Docker's result; a catalog has no stars, official or automated marks.
    let term = format!("{host}/test/busy");
    let out = search(&[
        "--format",
        "{{.Name}}|{{.Description}}|{{.StarCount}}|{{.IsOfficial}}|{{.IsAutomated}}",
        &term,
    ]);
    assert_eq!(stdout(&out), format!("{host}/test/busybox||0||\n"));
    let out = search(&["--format", "table {{.Name}}\t{{.IsAutomated}}", &term]);
    let header: Vec<String> = stdout(&out)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(header, ["NAME AUTOMATED", &format!("{host}/test/busybox")]);
    // Filters: what a catalog can't satisfy lists nothing, what it can lists all.
    for (filter, rows) in [
        ("is-official=true", 0),
        ("is-automated=true", 0),
        ("stars=1", 0),
        ("is-official=false", 1),
        ("stars=0", 1),
    ] {
        let out = search(&["--filter", filter, "--format", "{{.Name}}", &term]);
        assert!(out.status.success(), "{filter}: {}", stderr(&out));
        assert_eq!(stdout(&out).lines().count(), rows, "{filter}");
    }
    for bad in ["stars=many", "is-official=maybe", "colour=red"] {
        let out = search(&["--filter", bad, &term]);
        assert_eq!(out.status.code(), Some(1), "{bad}");
        assert!(stderr(&out).contains("invalid filter"), "{}", stderr(&out));
    }
}

/// A stand-in registry in the test's namespace whose catalog pages never end: each page
/// links to a new one (`endless`), to itself (`loop`) or to another host (`elsewhere`).
/// Every request is logged, one line each.
struct HostileRegistry {
    child: std::process::Child,
    port: u16,
    log: tempfile::NamedTempFile,
}

impl HostileRegistry {
    fn start(berth: &Berth, mode: &str) -> HostileRegistry {
        let log = tempfile::NamedTempFile::new().unwrap();
        let script = r#"
import http.server, json, sys
mode, log = sys.argv[1], open(sys.argv[2], "a", buffering=1)
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        log.write(self.path + "\n")
        body, link = b"{}", None
        if self.path.startswith("/v2/_catalog"):
            page = sum(1 for _ in open(sys.argv[2]))
            body = json.dumps({"repositories": ["pad/x%06d" % (page * 1000 + i) for i in range(1000)]}).encode()
            link = {"endless": "</v2/_catalog?n=100&last=x%06d>; rel=\"next\"" % page,
                    "loop": "</v2/_catalog?n=100>; rel=\"next\"",
                    "elsewhere": "<http://192.0.2.1/v2/_catalog?last=a>; rel=\"next\""}[mode]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if link:
            self.send_header("Link", link)
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;
        let mut child = berth
            .netns()
            .command("python3")
            .args(["-c", script, mode])
            .arg(log.path())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let port = line.trim().parse().expect("the stand-in's port");
        HostileRegistry { child, port, log }
    }

    fn catalog_requests(&self) -> usize {
        std::fs::read_to_string(self.log.path())
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("/v2/_catalog"))
            .count()
    }
}

impl Drop for HostileRegistry {
    fn drop(&mut self) {
        // nsenter execs python, so this PID is the stand-in's own.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A registry can't make search loop for good, hold more than a page, or send berth (and
/// its credentials) to another host.
#[test]
fn search_bounds_what_a_hostile_catalog_can_make_it_do() {
    let berth = Berth::new();
    let endless = HostileRegistry::start(&berth, "endless");
    let out = berth.run(&["search", &format!("127.0.0.1:{}/nomatch", endless.port)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1, "the header alone");
    let asked = endless.catalog_requests();
    assert!((2..=100).contains(&asked), "{asked} pages asked for");
    // Matches stop it at the limit, on the first page.
    let out = berth.run(&[
        "search",
        "--limit",
        "3",
        &format!("127.0.0.1:{}/pad", endless.port),
    ]);
    assert_eq!(stdout(&out).lines().count(), 4, "{}", stderr(&out));
    assert_eq!(endless.catalog_requests(), asked + 1);

    let looping = HostileRegistry::start(&berth, "loop");
    let out = berth.run(&["search", &format!("127.0.0.1:{}/nomatch", looping.port)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        looping.catalog_requests(),
        1,
        "a page seen before is not asked again"
    );

    let elsewhere = HostileRegistry::start(&berth, "elsewhere");
    let out = berth.run(&["search", &format!("127.0.0.1:{}/nomatch", elsewhere.port)]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("not the registry's own"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
