//! `--format` Go templates, `table` and `json` on the listing and inspect verbs, and the
//! listing flags (`ps -n/-l/-s/--filter`, `images REPO[:TAG]`, `images --filter`), as
//! Docker has them.

use crate::common;

use common::{code, stderr, stdout, Berth, IMAGE};
use serde_json::Value;

/// Sorted lines of `berth args`.
fn lines(berth: &Berth, args: &[&str]) -> Vec<String> {
    let mut lines: Vec<String> = berth.ok(args).lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

/// Names `ps` shows with these extra arguments, sorted.
fn ps_names(berth: &Berth, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["ps", "--format", "{{.Names}}"];
    args.extend_from_slice(extra);
    lines(berth, &args)
}

/// Fails with exit code 1 and a one-line message containing `want`, printing nothing.
fn fails_with(berth: &Berth, args: &[&str], want: &str) {
    let out = berth.run(args);
    let err = stderr(&out);
    assert_eq!(code(&out), 1, "{args:?}: {err}");
    assert!(err.contains(want), "{args:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    assert_eq!(stdout(&out), "", "{args:?} printed something");
}

/// Four containers, oldest first: web (running, labelled, with a volume), idle
/// (created), done (exited 1), ok (exited 0, labelled).
fn four_containers(berth: &Berth) {
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--label",
        "tier=web",
        "-v",
        "data:/data",
        IMAGE,
        "sleep",
        "60",
    ]);
    berth.ok(&["create", "--name", "idle", IMAGE, "true"]);
    assert_eq!(
        code(&berth.run(&["run", "--name", "done", IMAGE, "false"])),
        1
    );
    berth.ok(&["run", "--name", "ok", "--label", "tier=db", IMAGE, "true"]);
}

#[test]
fn ps_templates_table_and_json() {
    let berth = Berth::with_image();
    four_containers(&berth);
    let id = berth.inspect("web")["Id"].as_str().unwrap()[..12].to_owned();

    assert_eq!(berth.ok(&["ps", "--format", "{{.Names}}"]), "web\n");
    assert_eq!(
        lines(&berth, &["ps", "-a", "--format", "{{.Names}} {{.State}}"]),
        ["done exited", "idle created", "ok exited", "web running"]
    );
    assert_eq!(
        berth.ok(&[
            "ps",
            "--format",
            "{{.ID}}|{{.Label \"tier\"}}|{{.Labels}}|{{.Mounts}}|{{json .Names}}"
        ]),
        format!("{id}|web|tier=web|data|\"web\"\n")
    );
    assert_eq!(
        berth.ok(&[
            "ps",
            "--format",
            "{{if eq .State \"running\"}}{{upper .Names}}{{else}}no{{end}}"
        ]),
        "WEB\n"
    );

    // `table`: Docker's titles, columns padded to the widest cell plus three (ten at least).
    let table = berth.ok(&["ps", "--format", "table {{.ID}}\t{{.Names}}\t{{.State}}"]);
    assert_eq!(
        table,
        format!("CONTAINER ID   NAMES     STATE\n{id}   web       running\n")
    );
    // A label's column is headed by its key, as Docker's.
    assert_eq!(
        berth.ok(&["ps", "--format", "table {{.Names}}\t{{.Label \"tier\"}}"]),
        "NAMES     tier\nweb       web\n"
    );
    // `\t` typed as two characters means a tab, as in Docker.
    assert_eq!(
        berth.ok(&["ps", "--format", "table {{.ID}}\\t{{.Names}}\\t{{.State}}"]),
        table
    );
    // The default table is the same machinery.
    let default = berth.ok(&["ps"]);
    let header = default.lines().next().unwrap();
    assert!(header.starts_with("CONTAINER ID   IMAGE "), "{default}");
    assert!(header.ends_with("   NAMES"), "{default}");

    // json: one object a line with Docker's fields.
    let out = berth.ok(&["ps", "--format", "json"]);
    let row: Value = serde_json::from_str(out.trim()).unwrap();
    for field in [
        "ID",
        "Image",
        "Command",
        "CreatedAt",
        "RunningFor",
        "Ports",
        "State",
        "Status",
        "Size",
        "Names",
        "Labels",
        "Mounts",
        "Networks",
        "LocalVolumes",
    ] {
        assert!(row.get(field).is_some(), "no {field} in {row}");
    }
    assert_eq!(
        (row["ID"].as_str(), row["Names"].as_str()),
        (Some(id.as_str()), Some("web"))
    );
    assert_eq!(berth.ok(&["ps", "--format", "{{json .}}"]), out);
}

#[test]
fn ps_filters_limits_and_sizes() {
    let berth = Berth::with_image();
    four_containers(&berth);
    let idle = berth.inspect("idle")["Id"].as_str().unwrap()[..8].to_owned();
    let names = |extra: &[&str]| ps_names(&berth, extra);

    assert_eq!(names(&["-f", "name=we"]), ["web"]);
    assert_eq!(names(&["-a", "-f", &format!("id={idle}")]), ["idle"]);
    assert_eq!(names(&["-a", "-f", "label=tier"]), ["ok", "web"]);
    assert_eq!(names(&["-a", "-f", "label=tier=db"]), ["ok"]);
    // A status filter lists stopped containers without -a.
    assert_eq!(names(&["-f", "status=exited"]), ["done", "ok"]);
    // The same key twice: either; different keys: both.
    assert_eq!(
        names(&["-f", "status=exited", "-f", "status=created"]),
        ["done", "idle", "ok"]
    );
    assert_eq!(
        names(&["-f", "status=exited", "-f", "label=tier=db"]),
        ["ok"]
    );
    assert_eq!(
        names(&["-a", "-f", &format!("ancestor={IMAGE}")]),
        ["done", "idle", "ok", "web"]
    );
    assert_eq!(names(&["-a", "-f", "volume=data"]), ["web"]);
    assert_eq!(names(&["-a", "-f", "volume=/data"]), ["web"]);
    assert_eq!(names(&["-a", "-f", "exited=1"]), ["done"]);
    assert_eq!(names(&["-a", "-f", "exited=0"]), ["ok"]);
    assert_eq!(names(&["-a", "-f", "since=idle"]), ["done", "ok"]);
    assert_eq!(names(&["-a", "-f", "before=done"]), ["idle", "web"]);
    assert_eq!(
        names(&["-a", "-f", "network=bridge"]),
        ["done", "idle", "ok", "web"]
    );
    assert_eq!(names(&["-a", "-f", "network=none"]), Vec::<String>::new());
    assert_eq!(names(&["-a", "-f", "name=nothing"]), Vec::<String>::new());

    fails_with(
        &berth,
        &["ps", "--filter", "colour=blue"],
        "invalid filter 'colour'",
    );
    fails_with(
        &berth,
        &["ps", "--filter", "status=sleepy"],
        "invalid filter 'status=sleepy'",
    );
    fails_with(
        &berth,
        &["ps", "--filter", "exited=x"],
        "invalid filter 'exited=x'",
    );
    fails_with(&berth, &["ps", "--filter", "name"], "bad format of filter");

    // -n: the last N created, whatever their state, newest first; -l: the latest.
    assert_eq!(
        berth.ok(&["ps", "-n", "2", "--format", "{{.Names}}"]),
        "ok\ndone\n"
    );
    assert_eq!(berth.ok(&["ps", "-l", "--format", "{{.Names}}"]), "ok\n");
    assert_eq!(
        berth.ok(&[
            "ps",
            "-n",
            "3",
            "-f",
            "status=exited",
            "--format",
            "{{.Names}}"
        ]),
        "ok\ndone\n"
    );

    // -s: the writable layer, and the image under it.
    berth.ok(&[
        "run",
        "--name",
        "sized",
        IMAGE,
        "sh",
        "-c",
        "printf 123456789012 > /f",
    ]);
    let size = berth.ok(&["ps", "-l", "-s", "--format", "{{.Size}}"]);
    let (writable, rest) = size
        .trim()
        .split_once(" (virtual ")
        .expect("a virtual size");
    let bytes: f64 = writable
        .trim_end_matches(|c: char| c.is_alphabetic())
        .parse()
        .unwrap();
    assert!(writable.ends_with('B') && bytes >= 12.0, "{size}");
    assert!(rest.ends_with("B)"), "{size}");
    // A template that shows .Size gets it without -s, as in Docker.
    assert_eq!(berth.ok(&["ps", "-l", "--format", "{{.Size}}"]), size);
    let table = berth.ok(&["ps", "-l", "-s"]);
    assert!(
        table.lines().next().unwrap().ends_with("   SIZE"),
        "{table}"
    );
    assert!(table.contains(writable), "{table}");
}

#[test]
fn inspect_templates() {
    let berth = Berth::with_image();
    four_containers(&berth);
    assert_eq!(
        berth.ok(&["inspect", "--format", "{{.State.Running}}", "web"]),
        "true\n"
    );
    assert_eq!(
        berth.ok(&[
            "inspect",
            "-f",
            "{{.Name}} {{.State.Status}}",
            "web",
            "done"
        ]),
        "/web running\n/done exited\n"
    );
    assert_eq!(
        berth.ok(&[
            "inspect",
            "-f",
            "{{range .Mounts}}{{.Name}}:{{.Destination}}{{end}}",
            "web"
        ]),
        "data:/data\n"
    );
    let mounts: Value =
        serde_json::from_str(&berth.ok(&["inspect", "-f", "{{json .Mounts}}", "web"])).unwrap();
    assert_eq!(mounts[0]["Destination"], "/data");
    assert_eq!(
        berth.ok(&["inspect", "-f", "{{index .Config.Labels \"tier\"}}", "web"]),
        "web\n"
    );
    let array: Value =
        serde_json::from_str(&berth.ok(&["inspect", "--format", "json", "web"])).unwrap();
    assert_eq!(array[0]["Name"], "/web");

    // Images, through inspect and image inspect.
    let id = berth.ok(&["image", "inspect", "--format", "{{.Id}}", IMAGE]);
    assert!(id.starts_with("sha256:") && id.trim().len() == 71, "{id}");
    assert_eq!(berth.ok(&["inspect", "-f", "{{.Id}}", IMAGE]), id);
    assert_eq!(
        berth.ok(&[
            "inspect",
            "--type",
            "image",
            "-f",
            "{{join .RepoTags \",\"}}",
            IMAGE
        ]),
        format!("{IMAGE}\n")
    );

    fails_with(
        &berth,
        &["inspect", "-f", "{{.State.Running", "web"],
        "template parsing error: template: :1: unclosed action",
    );
    // Docker runs inspect templates with missingkey=error: a misspelt key fails.
    fails_with(
        &berth,
        &["inspect", "-f", "{{.State.Runing}}", "web"],
        "template parsing error: template: :1:8: executing \"\" at <.State.Runing>: map has no entry for key \"Runing\"",
    );
    fails_with(
        &berth,
        &["inspect", "-f", "{{len .State.Running}}", "web"],
        "error calling len: len of type bool",
    );
}

#[test]
fn images_templates_references_and_filters() {
    let berth = Berth::with_image();
    berth.ok(&["run", "--name", "ok", IMAGE, "true"]);
    berth.ok(&["tag", IMAGE, "other/thing:v1"]);
    berth.ok(&["commit", "--change", "LABEL team=core", "ok", "labelled:v2"]);
    let dangling = berth.ok(&["commit", "ok"]);
    let dangling = dangling.trim().trim_start_matches("sha256:")[..12].to_owned();
    let image_id = berth.ok(&["image", "inspect", "-f", "{{.Id}}", IMAGE]);
    let image_id = image_id.trim().trim_start_matches("sha256:")[..12].to_owned();
    let refs = |extra: &[&str]| {
        let mut args = vec!["images", "--format", "{{.Repository}}:{{.Tag}}"];
        args.extend_from_slice(extra);
        lines(&berth, &args)
    };

    assert_eq!(refs(&[]), [IMAGE, "labelled:v2", "other/thing:v1"]);
    // --digests: a DIGEST column after TAG, `<none>` for an image that has none.
    let table = berth.ok(&["images", "--digests", "other/thing"]);
    let mut table = table.lines();
    let header: Vec<&str> = table
        .next()
        .unwrap()
        .split("   ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        header,
        ["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"]
    );
    let row: Vec<&str> = table.next().unwrap().split_whitespace().collect();
    assert_eq!(row[..4], ["other/thing", "v1", "<none>", image_id.as_str()]);
    assert_eq!(
        refs(&["-a"]),
        ["<none>:<none>", IMAGE, "labelled:v2", "other/thing:v1"]
    );
    // REPOSITORY[:TAG], a glob as Docker's reference filter.
    assert_eq!(refs(&["other/thing"]), ["other/thing:v1"]);
    assert_eq!(refs(&["other/thing:v1"]), ["other/thing:v1"]);
    assert_eq!(refs(&["berth-test/*"]), [IMAGE]);
    assert_eq!(refs(&["*"]), ["labelled:v2"]);
    assert_eq!(refs(&["nothing"]), Vec::<String>::new());
    assert_eq!(refs(&["-f", "reference=*/*:v*"]), ["other/thing:v1"]);
    assert_eq!(
        refs(&["-f", "reference=labelled", "-f", "reference=other/*"]),
        ["labelled:v2", "other/thing:v1"]
    );
    assert_eq!(
        refs(&["-f", "dangling=false"]),
        [IMAGE, "labelled:v2", "other/thing:v1"]
    );
    assert_eq!(
        berth.ok(&["images", "-q", "-f", "dangling=true"]),
        format!("{dangling}\n")
    );
    assert_eq!(refs(&["-f", "label=team"]), ["labelled:v2"]);
    assert_eq!(refs(&["-f", "label=team=core"]), ["labelled:v2"]);
    assert_eq!(refs(&["-f", "label=team=other"]), Vec::<String>::new());

    fails_with(
        &berth,
        &["images", "--filter", "foo=bar"],
        "invalid filter 'foo'",
    );
    fails_with(
        &berth,
        &["images", "--filter", "dangling=maybe"],
        "invalid filter 'dangling=maybe'",
    );
    fails_with(
        &berth,
        &["images", "--format", "{{nope .ID}}"],
        "function \"nope\" not defined",
    );
    fails_with(
        &berth,
        &["images", "--format", "{{.Nope}}"],
        "can't evaluate field Nope in type image",
    );

    // table: header titles, and each column starts where its title does.
    let table = berth.ok(&[
        "images",
        "--format",
        "table {{.Repository}}\t{{.ID}}\t{{.Containers}}",
        "other/*",
    ]);
    let mut table_lines = table.lines();
    let header = table_lines.next().unwrap();
    let row = table_lines.next().unwrap();
    assert!(
        header.starts_with("REPOSITORY    IMAGE ID       CONTAINERS"),
        "{table}"
    );
    assert_eq!(header.find("IMAGE ID"), row.find(&image_id), "{table}");
    assert!(
        row.starts_with("other/thing") && row.ends_with("N/A"),
        "{table}"
    );

    let json: Value = serde_json::from_str(
        berth
            .ok(&["images", "--format", "json", "other/thing"])
            .trim(),
    )
    .unwrap();
    assert_eq!(
        (json["ID"].as_str(), json["Tag"].as_str()),
        (Some(image_id.as_str()), Some("v1"))
    );
    for field in [
        "Repository",
        "Digest",
        "CreatedSince",
        "CreatedAt",
        "Size",
        "Containers",
    ] {
        assert!(json.get(field).is_some(), "no {field} in {json}");
    }
}

#[test]
fn volume_and_network_listings() {
    let berth = Berth::new();
    berth.ok(&["volume", "create", "--label", "a=b", "vol1"]);
    berth.ok(&["volume", "create", "vol2"]);
    assert_eq!(
        lines(
            &berth,
            &[
                "volume",
                "ls",
                "--format",
                "{{.Name}} {{.Driver}} {{.Label \"a\"}}"
            ]
        ),
        ["vol1 local b", "vol2 local "]
    );
    assert_eq!(
        lines(
            &berth,
            &["volume", "ls", "-q", "-f", "name=vol1", "-f", "name=vol2"]
        ),
        ["vol1", "vol2"]
    );
    assert_eq!(
        lines(&berth, &["volume", "ls", "-q", "-f", "label=a"]),
        ["vol1"]
    );
    let table = berth.ok(&["volume", "ls", "--format", "table {{.Name}}\t{{.Scope}}"]);
    assert_eq!(
        table,
        "VOLUME NAME   SCOPE\nvol1          local\nvol2          local\n"
    );
    assert_eq!(
        berth.ok(&["volume", "ls"]).lines().next(),
        Some("DRIVER    VOLUME NAME")
    );
    let row: Value = serde_json::from_str(
        berth
            .ok(&["volume", "ls", "--format", "json", "-f", "name=vol1"])
            .trim(),
    )
    .unwrap();
    assert_eq!(
        (row["Name"].as_str(), row["Labels"].as_str()),
        (Some("vol1"), Some("a=b"))
    );
    assert_eq!(
        berth.ok(&[
            "volume",
            "inspect",
            "--format",
            "{{.Name}}:{{.Labels.a}}",
            "vol1"
        ]),
        "vol1:b\n"
    );

    let names = lines(
        &berth,
        &["network", "ls", "--format", "{{.Name}} {{.Driver}}"],
    );
    assert_eq!(names, ["bridge bridge", "host host", "none null"]);
    assert_eq!(
        berth.ok(&["network", "inspect", "-f", "{{.Name}} {{.Scope}}", "bridge"]),
        "bridge local\n"
    );
    let header = berth.ok(&["network", "ls", "--format", "table {{.Name}}\t{{.ID}}"]);
    assert!(header.starts_with("NAME      NETWORK ID\n"), "{header}");
    fails_with(
        &berth,
        &["volume", "ls", "--format", "{{if .Name}}"],
        "unexpected EOF",
    );
}

/// What a container or an image chose (labels, file names, commit messages, events) can't
/// drive the terminal: on a terminal its control characters show as `^[`; piped, the
/// bytes are kept for scripts, as Docker's.
#[test]
fn listings_escape_control_characters_on_a_terminal_only() {
    const OSC52: &str = "\u{1b}]52;c;cHduZWQ=\u{7}";
    const SHOWN: &str = "^[]52;c;cHduZWQ=^G";
    let berth = Berth::with_image();
    let start = chrono_now();
    berth.ok(&[
        "run",
        "--name",
        "evil",
        "--label",
        &format!("x={OSC52}"),
        IMAGE,
        "sh",
        "-c",
        "touch \"/tmp/$(printf '\\033]52;c;cHduZWQ=\\007')\"",
    ]);
    berth.ok(&["commit", "-m", OSC52, "evil", "evil:img"]);
    let end = chrono_now();
    let checks: &[&[&str]] = &[
        &["ps", "-a", "--format", "{{.Labels}}"],
        &["ps", "-a", "--format", "table {{.Names}}\t{{.Label \"x\"}}"],
        &["diff", "evil"],
        &["history", "evil:img"],
        &["inspect", "-f", "{{.Config.Labels.x}}", "evil"],
        &["events", "--since", &start, "--until", &end],
    ];
    for args in checks {
        let (rc, seen) = berth.on_terminal(args, &[]);
        assert_eq!(rc, 0, "{args:?}: {seen}");
        assert!(seen.contains(SHOWN), "{args:?} on a terminal: {seen:?}");
        assert!(!seen.contains('\u{1b}'), "{args:?} sent ESC: {seen:?}");
        let piped = berth.ok(args);
        assert!(piped.contains(OSC52), "{args:?} piped: {piped:?}");
    }
}

/// Now, as Unix seconds (a form `events --since/--until` takes).
fn chrono_now() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        .to_string()
}
