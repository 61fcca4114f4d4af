//! `berth compose`: projects from compose files on berth's engine, as Docker Compose v2
//! runs them (names, labels, start order, convergence, `down`, `ls` from anywhere). Each
//! test writes its compose file in the canonical long form into a directory of its own.

use std::path::Path;
use std::process::Output;

use crate::common::{code, stderr, stdout, wait_until, Berth, IMAGE};

/// `berth compose ARGS` run from `dir`.
fn compose(berth: &Berth, dir: &Path, args: &[&str]) -> Output {
    berth
        .cmd()
        .current_dir(dir)
        .arg("compose")
        .args(args)
        .output()
        .expect("spawn berth")
}

fn compose_ok(berth: &Berth, dir: &Path, args: &[&str]) -> String {
    let out = compose(berth, dir, args);
    assert!(
        out.status.success(),
        "berth compose {args:?} failed ({}): {}{}",
        out.status,
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// A project directory named `name`, holding `compose.yaml` with `text`.
fn project_dir(parent: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let dir = parent.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("compose.yaml"), text.replace("IMAGE", IMAGE)).unwrap();
    dir
}

fn id_of(berth: &Berth, name: &str) -> String {
    berth.inspect(name)["Id"].as_str().unwrap().to_owned()
}

fn names(berth: &Berth) -> Vec<String> {
    let mut names: Vec<String> = berth
        .ok(&["ps", "-a", "--format", "{{.Names}}"])
        .lines()
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

/// A database with a named volume and a web service that needs it; `sleep` as PID 1
/// ignores SIGTERM, so a short grace period keeps `down` quick.
const APP: &str = r#"
services:
  db:
    image: IMAGE
    command: ["sh", "-c", "test -f /data/seed || date +%s%N > /data/seed; exec sleep 1000"]
    stop_grace_period: 1s
    volumes:
      - type: volume
        source: data
        target: /data
  web:
    image: IMAGE
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    depends_on:
      db:
        condition: service_started
        required: true
volumes:
  data: {}
"#;

#[test]
fn up_down_up_keeps_named_volume_data_and_services_find_each_other() {
    let berth = Berth::with_image();
    let parent = tempfile::tempdir().unwrap();
    let dir = project_dir(&parent, "shop", APP);
    compose_ok(&berth, &dir, &["up", "-d"]);
    assert_eq!(names(&berth), ["shop-db-1", "shop-web-1"]);
    let db = berth.inspect("shop-db-1");
    let labels = &db["Config"]["Labels"];
    assert_eq!(labels["com.docker.compose.project"], "shop");
    assert_eq!(labels["com.docker.compose.service"], "db");
    assert_eq!(labels["com.docker.compose.container-number"], "1");
    assert_eq!(labels["com.docker.compose.oneoff"], "False");
    assert_eq!(
        labels["com.docker.compose.project.working_dir"],
        dir.display().to_string()
    );
    assert_eq!(
        berth.inspect("shop-web-1")["Config"]["Labels"]["com.docker.compose.depends_on"],
        "db:service_started:false"
    );
    assert!(db["NetworkSettings"]["Networks"]["shop_default"].is_object());
    // Services reach each other by service name on the project's network.
    let ping = berth.ok(&[
        "exec",
        "shop-web-1",
        "sh",
        "-c",
        "ping -c1 -W5 db >/dev/null && echo reached",
    ]);
    assert_eq!(ping.trim(), "reached");
    let seed = berth.ok(&["exec", "shop-db-1", "cat", "/data/seed"]);

    compose_ok(&berth, &dir, &["down"]);
    assert!(names(&berth).is_empty());
    assert!(!berth
        .ok(&["network", "ls", "--format", "{{.Name}}"])
        .contains("shop_default"));
    assert!(berth
        .ok(&["volume", "ls", "--format", "{{.Name}}"])
        .contains("shop_data"));

    compose_ok(&berth, &dir, &["up", "-d"]);
    assert_eq!(berth.ok(&["exec", "shop-db-1", "cat", "/data/seed"]), seed);

    // `down -v` takes the project's volumes too; a second `down` finds nothing, quietly.
    compose_ok(&berth, &dir, &["down", "-v"]);
    assert!(!berth
        .ok(&["volume", "ls", "--format", "{{.Name}}"])
        .contains("shop_data"));
    let again = compose(&berth, &dir, &["down", "-v"]);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert_eq!(stderr(&again), "");
    let unknown = compose(&berth, parent.path(), &["-p", "nothing-here", "down"]);
    assert_eq!(code(&unknown), 0, "{}", stderr(&unknown));
}

#[test]
fn a_healthy_condition_starts_the_dependant_only_once_the_dependency_is_healthy() {
    let berth = Berth::with_image();
    let parent = tempfile::tempdir().unwrap();
    // The database is ready (its file made) a second after it starts; the web service
    // says whether it saw the file at its own start.
    let dir = project_dir(
        &parent,
        "health",
        r#"
services:
  db:
    image: IMAGE
    command: ["sh", "-c", "sleep 1; touch /shared/ready; exec sleep 1000"]
    healthcheck:
      test: ["CMD-SHELL", "test -f /shared/ready"]
      interval: 200ms
      retries: 50
    volumes:
      - {type: volume, source: shared, target: /shared}
  web:
    image: IMAGE
    command: ["sh", "-c", "if test -f /shared/ready; then echo ready-at-start; else echo too-early; fi; exec sleep 1000"]
    depends_on:
      db: {condition: service_healthy, required: true, restart: false}
    volumes:
      - {type: volume, source: shared, target: /shared}
volumes:
  shared: {}
"#,
    );
    let out = compose(&berth, &dir, &["up", "-d"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(" Container health-db-1  Healthy"),
        "{}",
        stderr(&out)
    );
    wait_until("web logs its start", || {
        !berth.ok(&["logs", "health-web-1"]).is_empty()
    });
    assert_eq!(berth.ok(&["logs", "health-web-1"]).trim(), "ready-at-start");
    // `compose logs` prints each line under Docker Compose's prefix, the names padded to
    // the widest shown.
    let logs = compose_ok(&berth, &dir, &["logs", "web"]);
    assert_eq!(logs, "web-1 | ready-at-start\n");
    compose_ok(&berth, &dir, &["down", "-v"]);
}

#[test]
fn up_again_touches_nothing_unchanged_and_recreates_only_what_changed() {
    let berth = Berth::with_image();
    let parent = tempfile::tempdir().unwrap();
    let app = r#"
services:
  db:
    image: IMAGE
    command: ["sleep", "1000"]
  web:
    image: IMAGE
    command: ["sleep", "1000"]
    environment: {MODE: one}
    volumes:
      - {type: volume, target: /cache}
"#;
    let dir = project_dir(&parent, "conv", app);
    compose_ok(&berth, &dir, &["up", "-d"]);
    let (db, web) = (id_of(&berth, "conv-db-1"), id_of(&berth, "conv-web-1"));
    let started = berth.inspect("conv-web-1")["State"]["StartedAt"].clone();
    berth.ok(&["exec", "conv-web-1", "sh", "-c", "echo kept > /cache/file"]);

    let again = compose(&berth, &dir, &["up", "-d"]);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert!(!stderr(&again).contains("Recreate"), "{}", stderr(&again));
    assert_eq!(id_of(&berth, "conv-web-1"), web);
    assert_eq!(berth.inspect("conv-web-1")["State"]["StartedAt"], started);

    std::fs::write(
        dir.join("compose.yaml"),
        app.replace("MODE: one", "MODE: two")
            .replace("IMAGE", IMAGE),
    )
    .unwrap();
    let changed = compose_ok(&berth, &dir, &["up", "-d"]);
    let _ = changed;
    assert_eq!(id_of(&berth, "conv-db-1"), db, "db did not change");
    assert_ne!(id_of(&berth, "conv-web-1"), web, "web changed");
    assert_eq!(names(&berth), ["conv-db-1", "conv-web-1"]);
    let env = berth.ok(&[
        "exec",
        "conv-web-1",
        "sh",
        "-c",
        "echo $MODE; cat /cache/file",
    ]);
    // The anonymous volume came along with the recreated container.
    assert_eq!(env, "two\nkept\n");
    compose_ok(&berth, &dir, &["down", "-v"]);
}

#[test]
fn scale_adds_and_removes_replicas() {
    let berth = Berth::with_image();
    let parent = tempfile::tempdir().unwrap();
    let dir = project_dir(
        &parent,
        "many",
        "services:\n  worker:\n    image: IMAGE\n    command: [sleep, \"1000\"]\n",
    );
    compose_ok(&berth, &dir, &["up", "-d", "--scale", "worker=3"]);
    assert_eq!(
        names(&berth),
        ["many-worker-1", "many-worker-2", "many-worker-3"]
    );
    let ps = compose_ok(&berth, &dir, &["ps", "--format", "{{.Service}} {{.State}}"]);
    assert_eq!(ps, "worker running\n".repeat(3));
    compose_ok(&berth, &dir, &["up", "-d", "--scale", "worker=1"]);
    assert_eq!(names(&berth), ["many-worker-1"]);
    compose_ok(&berth, &dir, &["down"]);
}

#[test]
fn ls_ps_and_down_find_a_project_from_another_directory() {
    let berth = Berth::with_image();
    let parent = tempfile::tempdir().unwrap();
    let dir = project_dir(
        &parent,
        "away",
        "services:\n  app:\n    image: IMAGE\n    command: [sleep, \"1000\"]\n",
    );
    compose_ok(&berth, &dir, &["up", "-d"]);
    let elsewhere = tempfile::tempdir().unwrap();
    let ls = compose_ok(&berth, elsewhere.path(), &["ls"]);
    let file = dir.join("compose.yaml").display().to_string();
    let lines: Vec<Vec<&str>> = ls.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(
        lines,
        [
            vec!["NAME", "STATUS", "CONFIG", "FILES"],
            vec!["away", "running(1)", &file]
        ]
    );
    let json: serde_json::Value = serde_json::from_str(&compose_ok(
        &berth,
        elsewhere.path(),
        &["ls", "--format", "json"],
    ))
    .unwrap();
    assert_eq!(json[0]["Name"], "away");
    let ps = compose_ok(
        &berth,
        elsewhere.path(),
        &["-p", "away", "ps", "--format", "{{.Name}}"],
    );
    assert_eq!(ps, "away-app-1\n");
    compose_ok(&berth, elsewhere.path(), &["-p", "away", "stop"]);
    assert_eq!(
        compose_ok(&berth, elsewhere.path(), &["ls"])
            .lines()
            .count(),
        1
    );
    assert!(compose_ok(&berth, elsewhere.path(), &["ls", "-a"]).contains("exited(1)"));
    compose_ok(&berth, elsewhere.path(), &["-p", "away", "down"]);
    assert!(names(&berth).is_empty());
}

#[test]
fn bad_projects_fail_in_one_line_and_leave_nothing() {
    let berth = Berth::with_image();
    let parent = tempfile::tempdir().unwrap();
    let cases = [
        (
            "unknown",
            "services:\n  web:\n    image: IMAGE\n    depends_on:\n      db: {condition: service_started, required: true}\n",
            "depends on undefined service \"db\"",
        ),
        (
            "cycle",
            "services:\n  a:\n    image: IMAGE\n    depends_on: {b: {}}\n  b:\n    image: IMAGE\n    depends_on: {a: {}}\n",
            "dependency cycle",
        ),
        ("yaml", "services:\n  web: [\n", "compose.yaml:"),
        (
            "noimage",
            "services:\n  web:\n    command: [sleep, \"1\"]\n",
            "has neither an image nor a build context",
        ),
    ];
    for (name, text, says) in cases {
        let dir = project_dir(&parent, name, text);
        let out = compose(&berth, &dir, &["up", "-d"]);
        assert_eq!(code(&out), 1, "{name}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(err.contains(says), "{name}: {err}");
    }
    // A missing image that can't be pulled: said last, after the pull's own report.
    let dir = project_dir(
        &parent,
        "missing",
        "services:\n  web:\n    image: berth-test/not-here:1\n",
    );
    let out = compose(&berth, &dir, &["up", "-d"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let err = stderr(&out);
    let last = err.lines().last().unwrap();
    assert!(last.starts_with("Error: service \"web\": "), "{err}");
    assert!(last.contains("not-here"), "{err}");
    assert!(names(&berth).is_empty());
    assert!(!berth
        .ok(&["network", "ls", "--format", "{{.Name}}"])
        .contains("_default"));
    let dir = project_dir(
        &parent,
        "svc",
        "services:\n  web:\n    image: IMAGE\n    command: [sleep, \"1000\"]\n",
    );
    let out = compose(&berth, &dir, &["up", "-d", "nope"]);
    assert_eq!(
        (code(&out), stderr(&out)),
        (1, "Error: no such service: nope\n".into())
    );
    let out = compose(&berth, parent.path(), &["ps"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("no configuration file provided"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_port_in_use_fails_up_after_saying_what_started() {
    let berth = Berth::with_image();
    let parent = tempfile::tempdir().unwrap();
    let dir = project_dir(
        &parent,
        "ports",
        r#"
services:
  a:
    image: IMAGE
    command: [sleep, "1000"]
    ports:
      - {mode: ingress, target: 80, published: "18080", protocol: tcp}
  b:
    image: IMAGE
    command: [sleep, "1000"]
    depends_on: {a: {condition: service_started, required: true}}
    ports:
      - {mode: ingress, target: 80, published: "18080", protocol: tcp}
"#,
    );
    let out = compose(&berth, &dir, &["up", "-d"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(" Container ports-a-1  Started"), "{err}");
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with("Error: ") && last.contains("ports-b-1"),
        "{err}"
    );
    compose_ok(&berth, &dir, &["down"]);
    assert!(names(&berth).is_empty());
}

#[test]
fn config_prints_the_model_and_its_names() {
    let berth = Berth::new();
    let parent = tempfile::tempdir().unwrap();
    let dir = project_dir(&parent, "cfg", APP);
    let services = compose_ok(&berth, &dir, &["config", "--services"]);
    assert_eq!(services, "db\nweb\n");
    assert_eq!(compose_ok(&berth, &dir, &["config", "--volumes"]), "data\n");
    let json: serde_json::Value =
        serde_json::from_str(&compose_ok(&berth, &dir, &["config", "--format", "json"])).unwrap();
    assert_eq!(json["name"], "cfg");
    assert_eq!(json["networks"]["default"]["name"], "cfg_default");
    assert_eq!(json["volumes"]["data"]["name"], "cfg_data");
    let out = compose(&berth, &dir, &["watch"]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("not built yet"), "{}", stderr(&out));
    let out = compose(&berth, &dir, &["upp"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("unknown command \"compose upp\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn orphans_are_reported_and_removed_on_request() {
    let berth = Berth::with_image();
    let parent = tempfile::tempdir().unwrap();
    let two = "services:\n  a:\n    image: IMAGE\n    command: [sleep, \"1000\"]\n  b:\n    image: IMAGE\n    command: [sleep, \"1000\"]\n";
    let dir = project_dir(&parent, "orph", two);
    compose_ok(&berth, &dir, &["up", "-d"]);
    let one = "services:\n  a:\n    image: IMAGE\n    command: [sleep, \"1000\"]\n";
    std::fs::write(dir.join("compose.yaml"), one.replace("IMAGE", IMAGE)).unwrap();
    let out = compose(&berth, &dir, &["up", "-d"]);
    assert!(
        stderr(&out).contains("Found orphan containers ([orph-b-1])"),
        "{}",
        stderr(&out)
    );
    assert_eq!(names(&berth), ["orph-a-1", "orph-b-1"]);
    compose_ok(&berth, &dir, &["up", "-d", "--remove-orphans"]);
    assert_eq!(names(&berth), ["orph-a-1"]);
    compose_ok(&berth, &dir, &["down"]);
}

#[test]
fn up_attached_prints_the_services_output_until_they_exit() {
    let berth = Berth::with_image();
    let parent = tempfile::tempdir().unwrap();
    let dir = project_dir(
        &parent,
        "fg",
        "services:\n  once:\n    image: IMAGE\n    command: [sh, -c, \"echo hello from once\"]\n",
    );
    let out = compose(&berth, &dir, &["up"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "once-1 | hello from once\n");
    // Exited, not removed: `ps -a` still lists it, and `down` takes it.
    let ps = compose_ok(
        &berth,
        &dir,
        &["ps", "-a", "--format", "{{.Name}} {{.State}}"],
    );
    assert_eq!(ps, "fg-once-1 exited\n");
    // `rm` asks first: no answer (stdin is empty) is no.
    let out = compose(&berth, &dir, &["rm"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("Going to remove fg-once-1\n"),
        "{}",
        stderr(&out)
    );
    assert_eq!(names(&berth), ["fg-once-1"]);
    compose_ok(&berth, &dir, &["rm", "-f"]);
    assert!(names(&berth).is_empty());
    compose_ok(&berth, &dir, &["down"]);
}

#[test]
fn a_completed_condition_waits_for_a_zero_exit_and_refuses_another() {
    let berth = Berth::with_image();
    let parent = tempfile::tempdir().unwrap();
    let text = r#"
services:
  migrate:
    image: IMAGE
    command: ["sh", "-c", "sleep 1; echo done > /shared/migrated; exit CODE"]
    volumes:
      - {type: volume, source: shared, target: /shared}
  app:
    image: IMAGE
    command: ["sh", "-c", "cat /shared/migrated; exec sleep 1000"]
    stop_grace_period: 1s
    depends_on:
      migrate: {condition: service_completed_successfully, required: true}
    volumes:
      - {type: volume, source: shared, target: /shared}
volumes:
  shared: {}
"#;
    let dir = project_dir(&parent, "jobs", &text.replace("CODE", "0"));
    compose_ok(&berth, &dir, &["up", "-d"]);
    wait_until("app logs", || !berth.ok(&["logs", "jobs-app-1"]).is_empty());
    assert_eq!(berth.ok(&["logs", "jobs-app-1"]), "done\n");
    compose_ok(&berth, &dir, &["down", "-v"]);

    let dir = project_dir(&parent, "failing", &text.replace("CODE", "3"));
    let out = compose(&berth, &dir, &["up", "-d"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let last = stderr(&out).lines().last().unwrap().to_owned();
    assert_eq!(
        last,
        "Error: service \"migrate\" didn't complete successfully: exit 3"
    );
    assert_eq!(names(&berth), ["failing-migrate-1"]);
    compose_ok(&berth, &dir, &["down", "-v"]);
}

#[test]
fn build_services_are_built_by_compose_build_and_by_up_when_their_image_is_missing() {
    let berth = Berth::with_image();
    let parent = tempfile::tempdir().unwrap();
    let dir = project_dir(
        &parent,
        "made",
        r#"
services:
  web:
    build:
      context: ./app
      dockerfile: web.Dockerfile
      args: {GREETING: hello}
      labels: {made.by: compose}
      tags: ["made-extra:1"]
    command: ["sleep", "1000"]
    stop_grace_period: 1s
"#,
    );
    std::fs::create_dir(dir.join("app")).unwrap();
    std::fs::write(
        dir.join("app/web.Dockerfile"),
        format!("FROM {IMAGE}\nARG GREETING=unset\nRUN echo $GREETING > /greeting\n"),
    )
    .unwrap();
    // `up` builds the missing image `<project>-<service>` through berth build.
    let out = compose(&berth, &dir, &["up", "-d"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(" Service web  Built"),
        "{}",
        stderr(&out)
    );
    assert_eq!(berth.inspect("made-web-1")["Config"]["Image"], "made-web");
    assert_eq!(
        berth.ok(&["exec", "made-web-1", "cat", "/greeting"]),
        "hello\n"
    );
    let labels = &berth.inspect("made-web")["Config"]["Labels"];
    assert_eq!(labels["made.by"], "compose");
    assert_eq!(labels["com.docker.compose.project"], "made");
    assert_eq!(labels["com.docker.compose.service"], "web");
    assert!(berth.ok(&["images", "made-extra:1", "-q"]).trim().len() >= 12);
    // Its image is there now: `up` builds nothing; `--build` always does.
    let again = compose(&berth, &dir, &["up", "-d"]);
    assert!(!stderr(&again).contains("Built"), "{}", stderr(&again));
    // `build` with `--build-arg` over the file's: a one-off container runs the new
    // image, and `up` recreates the service's container made from the old one.
    let before = id_of(&berth, "made-web-1");
    let out = compose(&berth, &dir, &["build", "--build-arg", "GREETING=bye"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let run = compose_ok(&berth, &dir, &["run", "--rm", "web", "cat", "/greeting"]);
    assert_eq!(run, "bye\n");
    compose_ok(&berth, &dir, &["up", "-d"]);
    assert_ne!(id_of(&berth, "made-web-1"), before);
    assert_eq!(
        berth.ok(&["exec", "made-web-1", "cat", "/greeting"]),
        "bye\n"
    );
    // `up --build` builds again, with the file's args.
    let out = compose(&berth, &dir, &["up", "-d", "--build"]);
    assert!(
        stderr(&out).contains(" Service web  Built"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        berth.ok(&["exec", "made-web-1", "cat", "/greeting"]),
        "hello\n"
    );
    // `images`: the container and the image it runs.
    let images = compose_ok(&berth, &dir, &["images"]);
    let lines: Vec<Vec<&str>> = images
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines[0],
        [
            "CONTAINER",
            "REPOSITORY",
            "TAG",
            "PLATFORM",
            "IMAGE",
            "ID",
            "SIZE",
            "CREATED"
        ]
    );
    assert_eq!(lines[1][..3], ["made-web-1", "made-web", "latest"]);
    let json: serde_json::Value =
        serde_json::from_str(&compose_ok(&berth, &dir, &["images", "--format", "json"])).unwrap();
    assert_eq!(json[0]["ContainerName"], "made-web-1");
    assert_eq!(json[0]["ID"], berth.inspect("made-web")["Id"]);
    // A build that fails: one last line naming the service, exit 1, nothing started.
    std::fs::write(dir.join("app/web.Dockerfile"), "FROM nothing-here:1\n").unwrap();
    let out = compose(&berth, &dir, &["build"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let last = stderr(&out).lines().last().unwrap().to_owned();
    assert!(
        last.starts_with("Error: service \"web\" failed to build"),
        "{}",
        stderr(&out)
    );
    compose_ok(&berth, &dir, &["down", "--rmi", "local"]);
    assert!(berth.run(&["image", "inspect", "made-web"]).status.code() != Some(0));
}

/// A database and an app that depends on it, for `run`.
const RUNNABLE: &str = r#"
services:
  db:
    image: IMAGE
    command: ["sleep", "1000"]
    stop_grace_period: 1s
  app:
    image: IMAGE
    command: ["echo", "from the service"]
    environment: {FROM_FILE: file}
    ports:
      - {mode: ingress, target: 80, published: "18093", protocol: tcp}
    depends_on:
      db: {condition: service_started, required: true}
"#;

#[test]
fn run_makes_a_one_off_container_and_exits_with_its_code() {
    let berth = Berth::with_image();
    let parent = tempfile::tempdir().unwrap();
    let dir = project_dir(&parent, "once", RUNNABLE);
    // The dependency comes up first; the command's exit code is run's.
    let out = compose(&berth, &dir, &["run", "--rm", "app", "sh", "-c", "exit 3"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    wait_until("the --rm container goes", || names(&berth) == ["once-db-1"]);
    // The service's command without one given; flags change the one-off container only.
    assert_eq!(
        compose_ok(&berth, &dir, &["run", "--rm", "app"]),
        "from the service\n"
    );
    let said = compose_ok(
        &berth,
        &dir,
        &[
            "run",
            "--rm",
            "-e",
            "EXTRA=x",
            "-w",
            "/tmp",
            "-u",
            "1:1",
            "app",
            "sh",
            "-c",
            "echo $FROM_FILE $EXTRA $(pwd) $(id -u)",
        ],
    );
    assert_eq!(said, "file x /tmp 1\n");
    // --cap-drop over the service's capabilities: CHOWN's bit goes from the set.
    let caps = compose_ok(
        &berth,
        &dir,
        &[
            "run",
            "--rm",
            "--cap-drop",
            "CHOWN",
            "app",
            "grep",
            "CapEff",
            "/proc/self/status",
        ],
    );
    let full = compose_ok(
        &berth,
        &dir,
        &["run", "--rm", "app", "grep", "CapEff", "/proc/self/status"],
    );
    assert_ne!(caps, full);
    let entry = compose_ok(
        &berth,
        &dir,
        &["run", "--rm", "--entrypoint", "echo entry", "app", "point"],
    );
    assert_eq!(entry, "entry point\n");
    // `-d`: the ID on stdout; Compose's name and labels; no ports unless asked.
    let id = compose_ok(&berth, &dir, &["run", "-d", "app", "sleep", "1000"]);
    let one = berth.inspect(id.trim());
    let name = one["Name"]
        .as_str()
        .unwrap()
        .trim_start_matches('/')
        .to_owned();
    assert!(name.starts_with("once-app-run-"), "{name}");
    assert_eq!(name.len(), "once-app-run-".len() + 12, "{name}");
    let labels = &one["Config"]["Labels"];
    assert_eq!(labels["com.docker.compose.oneoff"], "True");
    assert_eq!(labels["com.docker.compose.service"], "app");
    assert_eq!(
        labels["com.docker.compose.slug"].as_str().unwrap().len(),
        64
    );
    assert_eq!(one["HostConfig"]["RestartPolicy"]["Name"], "no");
    assert!(berth.ok(&["port", &name]).is_empty());
    // One-off containers are not the service's: `ps` leaves them out, `down` takes them.
    let ps = compose_ok(&berth, &dir, &["ps", "--format", "{{.Name}}"]);
    assert_eq!(ps, "once-db-1\n");
    let ported = compose_ok(
        &berth,
        &dir,
        &[
            "run",
            "-d",
            "--service-ports",
            "--name",
            "once-ported",
            "app",
            "sleep",
            "1000",
        ],
    );
    assert!(!ported.trim().is_empty());
    assert_eq!(berth.ok(&["port", "once-ported", "80"]), "0.0.0.0:18093\n");
    compose_ok(&berth, &dir, &["down"]);
    assert!(names(&berth).is_empty());
    // `--no-deps` starts nothing else; a bad command line is one line, exit 1.
    compose_ok(&berth, &dir, &["run", "--rm", "--no-deps", "app", "true"]);
    wait_until("the --rm container goes", || names(&berth).is_empty());
    let out = compose(&berth, &dir, &["run", "--rm", "nope"]);
    assert_eq!(
        (code(&out), stderr(&out)),
        (1, "Error: no such service: nope\n".to_owned())
    );
    let out = compose(
        &berth,
        &dir,
        &["run", "--service-ports", "-p", "1:1", "app"],
    );
    assert_eq!(
        (code(&out), stderr(&out)),
        (
            1,
            "Error: --service-ports and --publish are incompatible\n".to_owned()
        )
    );
    compose_ok(&berth, &dir, &["down"]);
}

/// Two replicas of a service with a published port, for the verbs on one container.
const REPLICATED: &str = r#"
services:
  web:
    image: IMAGE
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    deploy: {replicas: 2}
    ports:
      - {mode: ingress, target: 80, protocol: tcp}
  job:
    image: IMAGE
    command: ["sh", "-c", "sleep 1; exit 5"]
    profiles: [jobs]
"#;

#[test]
fn exec_port_top_pause_and_cp_act_on_a_services_containers() {
    let berth = Berth::with_image();
    let parent = tempfile::tempdir().unwrap();
    let dir = project_dir(&parent, "reps", REPLICATED);
    compose_ok(&berth, &dir, &["up", "-d"]);
    // exec: the first replica unless --index; the command's exit code.
    let out = compose(
        &berth,
        &dir,
        &[
            "exec",
            "-T",
            "-e",
            "X=y",
            "web",
            "sh",
            "-c",
            "echo $X $(hostname); exit 4",
        ],
    );
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    let host1 = berth.inspect("reps-web-1")["Config"]["Hostname"].clone();
    assert_eq!(stdout(&out), format!("y {}\n", host1.as_str().unwrap()));
    let two = compose_ok(&berth, &dir, &["exec", "--index", "2", "web", "hostname"]);
    let host2 = berth.inspect("reps-web-2")["Config"]["Hostname"].clone();
    assert_eq!(two.trim(), host2.as_str().unwrap());
    let out = compose(&berth, &dir, &["exec", "--index", "3", "web", "true"]);
    assert_eq!(
        (code(&out), stderr(&out)),
        (
            1,
            "Error: service \"web\" is not running container #3\n".to_owned()
        )
    );
    // port: the host side, as `berth port` has it; a port not published is one line.
    let published = berth.ok(&["port", "reps-web-2", "80"]);
    let port = compose_ok(&berth, &dir, &["port", "--index", "2", "web", "80"]);
    assert_eq!(port, published);
    let out = compose(&berth, &dir, &["port", "--protocol", "udp", "web", "80"]);
    assert_eq!(
        (code(&out), stderr(&out)),
        (
            1,
            "Error: no port 80/udp for container reps-web-1: 80/tcp\n".to_owned()
        )
    );
    // top: one table, each process led by its service and replica.
    let top = compose_ok(&berth, &dir, &["top"]);
    let rows: Vec<Vec<&str>> = top
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0][..4], ["SERVICE", "#", "UID", "PID"]);
    assert_eq!(rows[0].last(), Some(&"CMD"));
    let sleeping: Vec<(&str, &str)> = rows[1..]
        .iter()
        .filter(|r| r.ends_with(&["sleep", "1000"]))
        .map(|r| (r[0], r[1]))
        .collect();
    assert_eq!(sleeping, [("web", "1"), ("web", "2")], "{top}");
    // pause and unpause, with Compose's lines.
    let out = compose(&berth, &dir, &["pause", "web"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(" Container reps-web-2  Paused"),
        "{}",
        stderr(&out)
    );
    let ps = compose_ok(&berth, &dir, &["ps", "--format", "{{.State}}"]);
    assert_eq!(ps, "paused\npaused\n");
    compose_ok(&berth, &dir, &["unpause"]);
    let ps = compose_ok(&berth, &dir, &["ps", "--format", "{{.State}}"]);
    assert_eq!(ps, "running\nrunning\n");
    // cp: into every replica, out of the first (or --index).
    std::fs::write(dir.join("note.txt"), "carried\n").unwrap();
    compose_ok(&berth, &dir, &["cp", "note.txt", "web:/tmp/note.txt"]);
    for name in ["reps-web-1", "reps-web-2"] {
        assert_eq!(
            berth.ok(&["exec", name, "cat", "/tmp/note.txt"]),
            "carried\n"
        );
    }
    berth.ok(&["exec", "reps-web-2", "sh", "-c", "echo two > /tmp/which"]);
    compose_ok(
        &berth,
        &dir,
        &["cp", "--index", "2", "web:/tmp/which", "back.txt"],
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("back.txt")).unwrap(),
        "two\n"
    );
    let out = compose(&berth, &dir, &["cp", "web:/a", "web:/b"]);
    assert_eq!(
        (code(&out), stderr(&out)),
        (
            1,
            "Error: copying between services is not supported\n".to_owned()
        )
    );
    compose_ok(&berth, &dir, &["down"]);
}

#[test]
fn wait_and_events_follow_the_projects_containers_only() {
    let berth = Berth::with_image();
    let parent = tempfile::tempdir().unwrap();
    let dir = project_dir(&parent, "watched", REPLICATED);
    // Another project's events are not this one's.
    let other = project_dir(
        &parent,
        "other",
        "services:\n  x:\n    image: IMAGE\n    command: [sleep, \"1000\"]\n",
    );
    let since = crate::common::now_secs();
    compose_ok(&berth, &other, &["up", "-d"]);
    compose_ok(&berth, &dir, &["--profile", "jobs", "up", "-d", "job"]);
    // wait: until the job exits; its code is wait's.
    let out = compose(&berth, &dir, &["wait", "job"]);
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    let id = id_of(&berth, "watched-job-1");
    assert_eq!(
        stdout(&out),
        format!("container \"{id}\" exited with status code 5\n")
    );
    let out = compose(&berth, &dir, &["wait", "job"]);
    assert_eq!(
        (code(&out), stderr(&out)),
        (
            1,
            "Error: no containers for project \"watched\"\n".to_owned()
        )
    );
    // events: replayed from --since up to now, the job's only, without Compose's labels.
    let text = compose_ok(
        &berth,
        &dir,
        &["events", "--json", "--since", &since, "--until", "0s"],
    );
    let seen: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let actions: Vec<&str> = seen.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(
        actions.contains(&"start") && actions.contains(&"die"),
        "{text}"
    );
    for e in &seen {
        assert_eq!(e["type"], "container");
        assert_eq!(e["service"], "job", "{text}");
        assert_eq!(e["id"], id.as_str());
        assert!(e["attributes"].get("com.docker.compose.project").is_none());
        assert_eq!(e["attributes"]["name"], "watched-job-1");
    }
    // The plain line: Compose's time, the action, the ID, the attributes.
    let plain = compose_ok(
        &berth,
        &dir,
        &["events", "--since", &since, "--until", "0s"],
    );
    let die = plain
        .lines()
        .find(|l| l.contains(" container die "))
        .unwrap();
    assert!(die.contains(&format!(" container die {id} (")), "{plain}");
    assert!(die.contains("name=watched-job-1"), "{plain}");
    // The job's profile is named, so `down` takes its container as the service's.
    compose_ok(&berth, &dir, &["--profile", "jobs", "down"]);
    compose_ok(&berth, &other, &["down"]);
}

#[test]
fn push_and_pull_move_the_services_images_through_a_registry() {
    let berth = Berth::with_image();
    let registry = crate::common::registry::Registry::start(berth.netns());
    let parent = tempfile::tempdir().unwrap();
    let image = format!("{}/team/app:1", registry.host());
    let dir = project_dir(
        &parent,
        "shipped",
        &format!(
            "services:\n  app:\n    image: {image}\n    build: {{context: ./app}}\n    command: [cat, /made]\n  base:\n    image: IMAGE\n  local:\n    build: {{context: ./app}}\n"
        ),
    );
    std::fs::create_dir(dir.join("app")).unwrap();
    std::fs::write(
        dir.join("app/Dockerfile"),
        format!("FROM {IMAGE}\nRUN echo made > /made\n"),
    )
    .unwrap();
    compose_ok(&berth, &dir, &["build", "app"]);
    // push: only services with both build and image; the others are skipped.
    let out = compose(&berth, &dir, &["push", "-q"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = compose(&berth, &dir, &["push", "app", "base"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(" Image {image}  Pushed")),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(" Service base  Skipped"),
        "{}",
        stderr(&out)
    );
    // pull: the image comes back from the registry; one that no registry has fails
    // the pull in one last line, or is a warning with --ignore-pull-failures.
    berth.ok(&["rmi", &image]);
    let out = compose(&berth, &dir, &["pull", "app", "local"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(" Image {image}  Pulled")),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(" Service local  Skipped"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        compose_ok(&berth, &dir, &["run", "--rm", "-T", "app"]),
        "made\n"
    );
    let out = compose(&berth, &dir, &["pull", "-q", "app"]);
    assert_eq!(
        (code(&out), stdout(&out), stderr(&out)),
        (0, String::new(), String::new())
    );
    let out = compose(&berth, &dir, &["pull", "base"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let last = stderr(&out).lines().last().unwrap().to_owned();
    assert!(
        last.starts_with(&format!("Error: image {IMAGE}: ")),
        "{}",
        stderr(&out)
    );
    let out = compose(&berth, &dir, &["pull", "--ignore-pull-failures", "base"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("WARN[0000] Image "),
        "{}",
        stderr(&out)
    );
    compose_ok(&berth, &dir, &["down"]);
}

#[test]
fn create_makes_the_containers_without_starting_them_and_watch_is_not_built() {
    let berth = Berth::with_image();
    let parent = tempfile::tempdir().unwrap();
    let dir = project_dir(&parent, "made-only", APP);
    let out = compose(&berth, &dir, &["create"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(" Container made-only-web-1  Created"),
        "{}",
        stderr(&out)
    );
    let ps = compose_ok(
        &berth,
        &dir,
        &["ps", "-a", "--format", "{{.Name}} {{.State}}"],
    );
    assert_eq!(ps, "made-only-db-1 created\nmade-only-web-1 created\n");
    compose_ok(&berth, &dir, &["start"]);
    let ps = compose_ok(&berth, &dir, &["ps", "--format", "{{.Name}} {{.State}}"]);
    assert_eq!(ps, "made-only-db-1 running\nmade-only-web-1 running\n");
    let out = compose(&berth, &dir, &["watch"]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        stderr(&out),
        "Error: berth compose watch is not built yet: see 'berth compose --help' for the verbs berth has\n"
    );
    compose_ok(&berth, &dir, &["down", "-v"]);
}

/// The tutorials' app, adapted to the test image: a MongoDB-style database keeping its
/// records in a named volume (`/data/db`) and serving them on 27017, an app on 3000 with a
/// health check and a published port that asks the database by its service name through
/// the resolver, and an uploads service on a volume made outside the project.
const TUTORIAL: &str = r#"
services:
  app:
    image: IMAGE
    command: ["sh", "-c", "mkdir -p /www/cgi-bin && printf '#!/bin/sh\necho Content-Type: text/plain\necho\nwget -q -O- http://mongo:27017/todos\n' > /www/cgi-bin/todos && chmod +x /www/cgi-bin/todos && echo up > /www/index.html && exec httpd -f -p 3000 -h /www"]
    stop_grace_period: 1s
    ports:
      - "13000:3000"
    environment:
      MONGO_URL: mongodb://mongo:27017/todos
    healthcheck:
      test: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:3000/"]
      interval: 200ms
      retries: 50
    depends_on:
      mongo:
        condition: service_healthy
  mongo:
    image: IMAGE
    command: ["sh", "-c", "mkdir -p /data/db && echo up > /data/db/index.html && exec httpd -f -p 27017 -h /data/db"]
    stop_grace_period: 1s
    volumes:
      - todo-data:/data/db
    healthcheck:
      test: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:27017/"]
      interval: 200ms
      retries: 50
  uploads:
    image: IMAGE
    command: ["sh", "-c", "exec sleep 1000"]
    stop_grace_period: 1s
    volumes:
      - uploads:/uploads
volumes:
  todo-data:
  uploads:
    external: true
    name: tutorial-uploads
"#;

#[test]
fn the_tutorial_app_comes_up_serves_and_keeps_its_data_across_down_and_up() {
    let berth = Berth::with_image();
    let parent = tempfile::tempdir().unwrap();
    let dir = project_dir(&parent, "todo", TUTORIAL);
    // An external volume must exist before `up`: Compose refuses to make it.
    let out = compose(&berth, &dir, &["up", "-d"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("tutorial-uploads"),
        "{}",
        stderr(&out)
    );
    berth.ok(&["volume", "create", "tutorial-uploads"]);

    compose_ok(&berth, &dir, &["up", "-d", "--wait"]);
    assert_eq!(
        names(&berth),
        ["todo-app-1", "todo-mongo-1", "todo-uploads-1"]
    );
    // Records written into the database's volume; an upload into the external one.
    berth.ok(&[
        "exec",
        "todo-mongo-1",
        "sh",
        "-c",
        "echo 'buy milk' > /data/db/todos",
    ]);
    berth.ok(&[
        "exec",
        "todo-uploads-1",
        "sh",
        "-c",
        "echo picture > /uploads/cat.jpg",
    ]);
    // The app serves what it asks the database for, by its service name.
    let served = || {
        berth.ok(&[
            "exec",
            "todo-app-1",
            "wget",
            "-q",
            "-O-",
            "http://127.0.0.1:3000/cgi-bin/todos",
        ])
    };
    assert_eq!(served(), "buy milk\n");
    let env = berth.inspect("todo-app-1")["Config"]["Env"].to_string();
    assert!(
        env.contains("MONGO_URL=mongodb://mongo:27017/todos"),
        "{env}"
    );

    // down keeps the named and the external volume; up finds the data again.
    compose_ok(&berth, &dir, &["down"]);
    assert!(names(&berth).is_empty());
    compose_ok(&berth, &dir, &["up", "-d", "--wait"]);
    assert_eq!(served(), "buy milk\n");
    assert_eq!(
        berth.ok(&["exec", "todo-uploads-1", "cat", "/uploads/cat.jpg"]),
        "picture\n"
    );
    // down -v takes the project's volume, never the external one.
    compose_ok(&berth, &dir, &["down", "-v"]);
    let volumes = berth.ok(&["volume", "ls", "--format", "{{.Name}}"]);
    assert!(!volumes.contains("todo_todo-data"), "{volumes}");
    assert!(volumes.contains("tutorial-uploads"), "{volumes}");
}

#[test]
fn a_service_named_on_the_command_line_is_enabled_with_its_profiles() {
    let berth = Berth::with_image();
    let parent = tempfile::tempdir().unwrap();
    let text = r#"
services:
  web:
    image: IMAGE
    command: ["sleep", "1000"]
    stop_grace_period: 1s
  debug:
    image: IMAGE
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    profiles: [debug]
"#;
    let dir = project_dir(&parent, "prof", text);
    compose_ok(&berth, &dir, &["up", "-d"]);
    assert_eq!(names(&berth), ["prof-web-1"]);
    // Named, a service its profile leaves off comes up, as in Compose v2.
    compose_ok(&berth, &dir, &["up", "-d", "debug"]);
    assert_eq!(names(&berth), ["prof-debug-1", "prof-web-1"]);
    // Without the profile, its container is the project's still, not an orphan: `up`
    // leaves it be, and `down` leaves it and the network it is on, as Compose v2 does.
    let out = compose(&berth, &dir, &["up", "-d"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!stderr(&out).contains("orphan"), "{}", stderr(&out));
    let out = compose(&berth, &dir, &["down", "-t", "0"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!stderr(&out).contains("orphan"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(" Network prof_default  Resource is still in use"),
        "{}",
        stderr(&out)
    );
    assert_eq!(names(&berth), ["prof-debug-1"]);
    compose_ok(&berth, &dir, &["--profile", "debug", "down", "-t", "0"]);
    assert!(names(&berth).is_empty());
}
